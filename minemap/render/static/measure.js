/* minemap map code, part 6 of 7: geodesic measurement.
 *
 * Click points to measure the path length and, from three points, the area
 * of the polygon they enclose, both on the WGS84 ellipsoid with
 * geographiclib (vendored geographiclib-geodesic): MM.geodesic.
 */
(function () {
  "use strict";
  var MM = window.minemapLib;
  var el = MM.el;

  MM.addMeasure = function (ctx) {
    var map = ctx.map, state = { active: false, pts: [], line: null };
    var Measure = L.Control.extend({
      options: { position: "topleft" },
      onAdd: function (m) {
        var box = el("div", "leaflet-bar mm-panel");
        var b = el("button", "mm-btn", "Measure");
        var out = el("div", "mm-measure-out", "");
        b.type = "button";
        b.title = "Measure geodesic distance and area: click points; click the button again to stop";
        box.appendChild(b); box.appendChild(out);
        L.DomEvent.disableClickPropagation(box);
        function update() {
          if (!state.pts.length) { out.textContent = ""; return; }
          var d = MM.geodesic.pathLength(state.pts);
          var txt = "Distance: " + (d >= 1000 ? (d / 1000).toFixed(3) + " km" : d.toFixed(1) + " m");
          if (state.pts.length >= 3) txt += " | Area: " + (MM.geodesic.area(state.pts) / 10000).toFixed(4) + " ha";
          out.textContent = txt;
          if (!state.line) {
            state.line = L.polyline([], { color: ctx.pal.ink, weight: 2, dashArray: "4 4", interactive: false }).addTo(m);
          }
          state.line.setLatLngs(state.pts);
        }
        L.DomEvent.on(b, "click", function () {
          state.active = !state.active;
          b.classList.toggle("mm-active", state.active);
          if (state.active) {
            state.pts = [];
            if (state.line) { m.removeLayer(state.line); state.line = null; }
            out.textContent = "Click points on the map";
          }
        });
        m.on("click", function (e) {
          if (!state.active) return;
          state.pts.push(e.latlng);
          update();
        });
        ctx.mm.measure = { add: function (ll) { state.pts.push(L.latLng(ll)); update(); return out.textContent; } };
        return box;
      }
    });
    new Measure().addTo(map);
  };
})();
