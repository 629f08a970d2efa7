/* The admin's read-only maps (templates/admin/fragments/readonly_map.html): the callback django-leaflet calls
 * once a map is made, drawing the GeoJSON inlined beside it (a json_script element) and fitting the view. */
window.readonlyMapShow = window.readonlyMapShow || function (map) {
  "use strict";
  var id = map.getContainer().id.replace("readonly_map_", "readonly-map-data-");
  var layer = L.geoJSON(JSON.parse(document.getElementById(id).textContent)).addTo(map);
  map.fitBounds(layer.getBounds(), {maxZoom: 14});
};
