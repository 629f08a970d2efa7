/* Buka Amanzi maps: an addition to pages that already work without JavaScript.
 *  #project-map  projects from the map layer (/api/v1/map/projects), fetched per viewport with the page's filters
 *  #pick-map     the report form: tap the map or use the phone's position to fill in latitude and longitude
 *  #point-map    one project's location
 * The map layer answers a GeoJSON FeatureCollection: cluster features {cluster: true, count, bounds},
 * point features {id, name, status, is_demo}. */
(function () {
  "use strict";
  if (!window.L) { return; }
  var script = document.currentScript;  // only while this file first runs
  if (script && script.dataset.markerIcon) {
    // The default marker's images by their real (hashed) URLs: Leaflet's own guess at their folder, from
    // leaflet.css, breaks on hashed file names (templates/projects/fragments/map_scripts.html).
    L.Icon.Default.imagePath = "";
    L.Icon.Default.mergeOptions({iconUrl: script.dataset.markerIcon, iconRetinaUrl: script.dataset.markerIconRetina,
                                 shadowUrl: script.dataset.markerShadow});
  }
  // The South Africa box and the status symbols come from the page (data-bounds, data-symbols), which takes
  // them from bukaamanzi/lib: the script keeps no copy that could disagree.
  function southAfrica(el) { return JSON.parse(el.dataset.bounds); }
  function symbols(el) { return JSON.parse(el.dataset.symbols || "{}"); }

  function baseMap(el) {
    var fallback = el.querySelector(".map-fallback");
    if (fallback) { fallback.remove(); }
    var map = L.map(el, {scrollWheelZoom: false, minZoom: 4, maxZoom: 18});
    L.tileLayer(el.dataset.tiles, {attribution: el.dataset.attribution, maxZoom: 18}).addTo(map);
    return map;
  }

  function escapeHtml(text) {
    var div = document.createElement("div");
    div.textContent = text == null ? "" : String(text);
    return div.innerHTML;
  }

  function toLatLngBounds(bounds) {
    if (!bounds) { return null; }
    if (bounds.length === 4 && typeof bounds[0] === "number") {  // [minlng, minlat, maxlng, maxlat]
      return L.latLngBounds([bounds[1], bounds[0]], [bounds[3], bounds[2]]);
    }
    if (bounds.length === 2) { return L.latLngBounds(bounds); }
    return null;
  }

  function filterParams(el) {
    var params = new URLSearchParams(el.dataset.fixed || "");
    var form = document.getElementById(el.dataset.form || "filters");
    if (form) {
      new FormData(form).forEach(function (value, key) {
        if (value !== "" && key !== "page" && key !== "csrfmiddlewaretoken") { params.append(key, value); }
      });
    }
    return params;
  }

  function projectMap(el) {
    var map = baseMap(el);
    var layer = L.layerGroup().addTo(map);
    var pending = null;
    if (el.dataset.center) {
      var c = el.dataset.center.split(",").map(Number);
      map.setView(c, Number(el.dataset.zoom || 9));
    } else {
      map.fitBounds(southAfrica(el));
    }
    var SYMBOLS = symbols(el);

    function draw(collection) {
      layer.clearLayers();
      (collection.features || []).forEach(function (feature) {
        if (!feature.geometry || !feature.geometry.coordinates) { return; }
        var lngLat = feature.geometry.coordinates;
        var p = feature.properties || {};
        var where = [lngLat[1], lngLat[0]];
        if (p.cluster) {
          var icon = L.divIcon({className: "", html: '<span class="cluster-dot">' + p.count + "</span>",
                                iconSize: [36, 36]});
          var marker = L.marker(where, {icon: icon, keyboard: true, title: p.count + " — " + el.dataset.zoomLabel,
                                        alt: p.count + " — " + el.dataset.zoomLabel});
          marker.on("click", function () {
            var b = toLatLngBounds(p.bounds);
            if (b && b.isValid() && !b.getNorthEast().equals(b.getSouthWest())) { map.fitBounds(b.pad(0.1)); }
            else { map.setView(where, Math.min(map.getZoom() + 2, 18)); }
          });
          marker.addTo(layer);
        } else {
          var status = String(p.status || "unknown");
          var html = '<span class="status-dot status-' + escapeHtml(status) + '">' + (SYMBOLS[status] || "?") + "</span>";
          var pin = L.marker(where, {icon: L.divIcon({className: "", html: html, iconSize: [28, 28]}),
                                     keyboard: true, title: p.name, alt: p.name});
          var demo = p.is_demo ? ' <span class="badge-demo">' + escapeHtml(el.dataset.demoLabel) + "</span>" : "";
          pin.bindPopup("<strong>" + escapeHtml(p.name) + "</strong>" + demo + '<br><a href="' +
                        el.dataset.detail + encodeURIComponent(p.id) + '/">' + escapeHtml(el.dataset.openLabel) + "</a>");
          pin.addTo(layer);
        }
      });
    }

    function load() {
      var b = map.getBounds();
      var params = filterParams(el);
      params.set("bbox", [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (n) {
        return Math.max(-180, Math.min(180, n)).toFixed(5);
      }).join(","));
      params.set("zoom", String(map.getZoom()));
      if (pending) { pending.abort(); }
      pending = new AbortController();
      fetch(el.dataset.endpoint + "?" + params.toString(), {signal: pending.signal, headers: {Accept: "application/geo+json, application/json"}})
        .then(function (response) { return response.ok ? response.json() : {features: []}; })
        .then(draw)
        .catch(function (error) { if (error.name !== "AbortError") { layer.clearLayers(); } });
    }

    map.on("moveend", load);
    document.body.addEventListener("htmx:afterSettle", function (event) {
      if (event.target && event.target.id === "results") { load(); }
    });
    window.addEventListener("popstate", function () { setTimeout(load, 50); });
    load();
    el.bukaMap = map;
  }

  function pointMap(el) {
    var map = baseMap(el);
    var where = [Number(el.dataset.lat), Number(el.dataset.lng)];
    map.setView(where, 14);
    L.marker(where, {keyboard: false}).addTo(map);
  }

  function pickMap(el) {
    var map = baseMap(el);
    var lat = document.getElementById("id_latitude");
    var lng = document.getElementById("id_longitude");
    var marker = null;
    function place(latlng, zoom) {
      if (marker) { marker.setLatLng(latlng); } else {
        marker = L.marker(latlng, {keyboard: false, title: el.dataset.chosenLabel, alt: el.dataset.chosenLabel}).addTo(map);
      }
      if (zoom) { map.setView(latlng, zoom); }
    }
    function fromInputs() {
      var a = parseFloat(lat.value), b = parseFloat(lng.value);
      if (!isNaN(a) && !isNaN(b)) { place([a, b], Math.max(map.getZoom(), 13)); return true; }
      return false;
    }
    if (!fromInputs()) {
      if (el.dataset.lat) { map.setView([Number(el.dataset.lat), Number(el.dataset.lng)], 13); }
      else { map.fitBounds(southAfrica(el)); }
    }
    // The form then lists open problems near the place (HTMX, #nearby-reports), to offer "affected too".
    // Once per place: a "change" when the typed box loses focus (say, to tap a suggestion) would otherwise
    // fetch the same list again and wipe what the tap just showed.
    var lastChosen = "";
    function chosen() {
      var key = lat.value + "," + lng.value;
      if (key === lastChosen) { return; }
      lastChosen = key;
      document.body.dispatchEvent(new CustomEvent("location-chosen"));
    }
    map.on("click", function (event) {
      lat.value = event.latlng.lat.toFixed(6);
      lng.value = event.latlng.lng.toFixed(6);
      place(event.latlng);
      chosen();
    });
    lat.addEventListener("change", function () { if (fromInputs()) { chosen(); } });
    lng.addEventListener("change", function () { if (fromInputs()) { chosen(); } });

    var geo = document.querySelector(".geo");
    var button = document.getElementById("use-position");
    var status = document.getElementById("geo-status");
    if (geo && button && navigator.geolocation) {
      geo.hidden = false;
      button.addEventListener("click", function () {
        status.textContent = el.dataset.locatingLabel;
        navigator.geolocation.getCurrentPosition(function (position) {
          lat.value = position.coords.latitude.toFixed(6);
          lng.value = position.coords.longitude.toFixed(6);
          place([position.coords.latitude, position.coords.longitude], 16);
          status.textContent = el.dataset.locatedLabel;
          chosen();
        }, function () { status.textContent = el.dataset.deniedLabel; }, {enableHighAccuracy: true, timeout: 15000});
      });
    }
  }

  function start() {
    var el;
    if ((el = document.getElementById("project-map"))) { projectMap(el); }
    if ((el = document.getElementById("pick-map"))) { pickMap(el); }
    if ((el = document.getElementById("point-map"))) { pointMap(el); }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
