/* Starts django-leaflet's maps without an inline script (templates/leaflet/_leaflet_map.html): the same steps
 * as django-leaflet's own template, from the data attributes of each [data-leaflet-map] element. The file is
 * included once per map; each run starts only the maps not started yet. The callback is a global function
 * named by the template (e.g. "window.readonlyMapShow" or the admin widget's "id_location_map_callback"),
 * looked up by name: nothing is evaluated. */
(function () {
  "use strict";
  function lookup(path) {
    var target = window;
    path.replace(/^window\./, "").split(".").forEach(function (part) { target = target ? target[part] : null; });
    return typeof target === "function" ? target : null;
  }
  document.querySelectorAll("[data-leaflet-map]:not([data-leaflet-started])").forEach(function (el) {
    el.setAttribute("data-leaflet-started", "");
    var name = el.dataset.leafletMap;
    var globals = el.dataset.globals === "true";
    function loadmap() {
      var callback = el.dataset.callback ? lookup(el.dataset.callback) : null;
      var map = L.Map.djangoMap(name, {djoptions: JSON.parse(el.dataset.djoptions), initfunc: loadmap,
                                       globals: globals, callback: callback});
      if (globals) { window["leafletmap" + name] = map; }
    }
    var events = JSON.parse(el.dataset.loadevents || "[]");
    if (events.length === 0) { loadmap(); }
    events.forEach(function (event) { window.addEventListener(event, loadmap, false); });
    if (globals) { window["loadmap" + name] = loadmap; }
  });
})();
