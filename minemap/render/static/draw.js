/* minemap map code, part 5 of 7: draw an area, export the fields it intersects.
 *
 * Drawing is Leaflet.draw's (vendored plugin); minemap's handler selects
 * the fields the drawn shape intersects and writes them as RFC 7946 GeoJSON
 * with their export geometry ("orig", never the display one) and the
 * properties `minemap export` writes.
 */
(function () {
  "use strict";
  var MM = window.minemapLib;
  var el = MM.el;

  // Crossref columns the timeline does not know as of a past date.
  var NOT_IN_TIMELINE = ["released_ha", "cleared_ha", "cleared_pct", "found_mines",
    "remaining_est", "last_release_date"];

  function intersectingFields(ctx, latlngs) {
    var ring = latlngs.map(function (p) { p = L.latLng(p); return [p.lng, p.lat]; });
    var sel = [ring], bb = L.latLngBounds(latlngs), out = [];
    for (var k = 0; k < ctx.fd.n; k++) {
      // The display geometry contains the export geometry (or is it), so
      // its bounds are a safe first filter.
      if (!ctx.fieldLayers[k].getBounds().intersects(bb)) continue;
      if (MM.ringsIntersect(sel, MM.ringsOf(MM.geomRings(ctx.fd.orig[k])))) out.push(k);
    }
    return out;
  }

  function featureCollection(ctx, idx) {
    var past = ctx.asOf !== null, fd = ctx.fd;
    var feats = idx.map(function (k) {
      var polys = MM.geomRings(fd.orig[k]).map(function (rings) {
        return rings.map(function (r, j) { return MM.closeRing(r, j === 0); });
      });
      var props = MM.propsOf(fd, k);
      if (past && ctx.timelineFields[k]) {
        props.status = ctx.statusNow[k];
        props.released_pct = ctx.pctNow[k];
        NOT_IN_TIMELINE.forEach(function (c) { if (c in props) props[c] = null; });
      }
      return {
        type: "Feature", properties: props,
        geometry: polys.length === 0 ? null : polys.length === 1 ?
          { type: "Polygon", coordinates: polys[0] } : { type: "MultiPolygon", coordinates: polys }
      };
    });
    var base = "Properties as `minemap export` writes them, without raw; geometry is the full recorded geometry.";
    // Foreign members (RFC 7946 section 6.1) saying which state this is.
    return {
      type: "FeatureCollection", minemap_state: past ? "as of " + ctx.asOf : "current",
      minemap_note: past ? "Timeline position " + ctx.asOf + ": for fields with releases in the map's " +
        "timeline, status and released_pct are as of that date and " + NOT_IN_TIMELINE.join(", ") +
        " are null (not known as of that date); other properties are the map's current state. " + base : base,
      features: feats
    };
  }

  MM.addDraw = function (ctx) {
    var map = ctx.map, mm = ctx.mm, pal = ctx.pal;
    var drawn = L.featureGroup().addTo(map);
    var shape = { latlngs: null };
    var shapeOptions = { color: pal.ink, weight: 2, fillOpacity: 0.05 };
    new L.Control.Draw({
      position: "topleft",
      draw: { polygon: { showArea: false, shapeOptions: shapeOptions },
        rectangle: { showArea: false, shapeOptions: shapeOptions },
        polyline: false, circle: false, marker: false, circlemarker: false },
      edit: { featureGroup: drawn, remove: true }
    }).addTo(map);

    var info = el("div", "mm-draw-info", "Draw an area to export its fields");
    var button = el("button", "mm-btn", "Export fields");
    button.type = "button";
    button.title = "Download the minefields intersecting the drawn area as GeoJSON";
    button.disabled = true;

    function select(latlngs) {
      shape.latlngs = latlngs;
      button.disabled = !latlngs;
      info.textContent = latlngs ? intersectingFields(ctx, latlngs).length + " fields" :
        "Draw an area to export its fields";
    }
    function ringOf(layer) {
      var ll = layer.getLatLngs();
      return ll.length && ll[0].length !== undefined ? ll[0] : ll;
    }
    map.on(L.Draw.Event.CREATED, function (e) {
      drawn.clearLayers();
      drawn.addLayer(e.layer);
      select(ringOf(e.layer));
    });
    map.on(L.Draw.Event.EDITED, function () {
      var layers = drawn.getLayers();
      select(layers.length ? ringOf(layers[0]) : null);
    });
    map.on(L.Draw.Event.DELETED, function () { select(drawn.getLayers().length ? ringOf(drawn.getLayers()[0]) : null); });

    mm.exportIntersecting = function (latlngs, filename) {
      var fc = featureCollection(ctx, intersectingFields(ctx, latlngs));
      MM.download(JSON.stringify(fc), filename || "minefields-selection.geojson", "application/geo+json");
      return fc;
    };
    L.DomEvent.on(button, "click", function () { if (shape.latlngs) mm.exportIntersecting(shape.latlngs); });
    var Export = L.Control.extend({
      options: { position: "topleft" },
      onAdd: function () {
        var box = el("div", "leaflet-bar mm-panel mm-draw");
        L.DomEvent.disableClickPropagation(box);
        box.appendChild(button);
        box.appendChild(info);
        return box;
      }
    });
    new Export().addTo(map);
    mm.draw = {
      setPolygon: function (pts) {
        var poly = L.polygon(pts.map(function (p) { return L.latLng(p); }), shapeOptions);
        drawn.clearLayers();
        drawn.addLayer(poly);
        select(ringOf(poly));
      },
      exportButton: button
    };
  };
})();
