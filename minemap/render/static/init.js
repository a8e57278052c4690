/* minemap map code, part 7 of 7: minemapInit builds the page from the payload.
 *
 * Called once by the page with the folium map, its layer groups (key →
 * FeatureGroup) and the id of the JSON data block.  Exposes window.minemap
 * (layers, popups, timeline, draw and measure entry points) for scripts and
 * tests.
 */
(function () {
  "use strict";
  var MM = window.minemapLib;
  var el = MM.el;
  var BLANK = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7";

  // A basemap whose tiles are embedded in the payload (an offline tile folder
  // or any .mbtiles): nothing is fetched; missing tiles stay blank.
  function inlineBasemap(ctx) {
    var bm = ctx.data.basemap;
    if (!bm || !bm.tiles || !ctx.groups.basemap) return;
    var Inline = L.TileLayer.extend({
      getTileUrl: function (c) { return bm.tiles[c.z + "/" + c.x + "/" + c.y] || BLANK; }
    });
    ctx.basemap = new Inline("", { minNativeZoom: bm.min_zoom, maxNativeZoom: bm.max_zoom, maxZoom: 22,
      attribution: "", errorTileUrl: BLANK });
    ctx.groups.basemap.addLayer(ctx.basemap);
  }

  function attribution(ctx) {
    var a = ctx.map.attributionControl, bm = ctx.data.basemap;
    if (!a) return;
    // Leaflet writes attributions as HTML: escape through a text node.
    var text = bm ? "Basemap: " + bm.attribution : "No basemap: fields drawn on a blank background";
    var span = el("span", bm ? "mm-attrib-basemap" : "mm-attrib-none", text);
    a.addAttribution(span.outerHTML);
  }

  // On a small screen the legend (bottom right) would cover the lower part
  // of an expanded layer control (top right): collapse the legend then.
  function fitLegend(ctx) {
    var lc = ctx.map.getContainer().querySelector(".leaflet-control-layers");
    if (!lc || !ctx.mm.legend) return;
    var leg = ctx.mm.legend.element;
    if (leg.classList.contains("mm-collapsed")) return;
    if (leg.getBoundingClientRect().top < lc.getBoundingClientRect().bottom + 8) ctx.mm.legend.collapse(true);
  }

  function init(map, groups, dataId) {
    var t0 = performance.now();
    var data = JSON.parse(document.getElementById(dataId).textContent);
    var mm = window.minemap = {
      map: map, data: data, fields: [], releases: [], items: [], incidents: [], districts: [],
      rows: [], positions: [], remaining: [], suspects: [], shifted: [], ready: false,
      mgrs: MM.mgrs, geodesic: MM.geodesic
    };
    var nF = data.fields.n;
    var ctx = {
      map: map, data: data, groups: groups, mm: mm, pal: data.palette, fd: data.fields,
      // Undefined unless the caller set one: every vector layer then shares
      // the map's canvas (preferCanvas), so clicks reach whichever is on top.
      renderer: map.options.renderer, styleCache: {}, layerIndex: {}, asOf: null, timelineFields: {},
      fieldLayers: new Array(nF), statusNow: new Array(nF), pctNow: new Array(nF),
      currentStatus: new Array(nF), review: new Array(nF),
      shared: { popup: L.popup({ maxWidth: 380 }), tooltip: L.tooltip({ sticky: true }) }
    };
    // Without a tile layer Leaflet knows no maximum zoom, which the marker
    // cluster needs.
    if (map.options.maxZoom === undefined) map.options.maxZoom = 22;
    if (data.title) document.title = data.title;
    var pal = ctx.pal;

    inlineBasemap(ctx);
    MM.buildFields(ctx);
    MM.buildReleases(ctx);
    MM.buildItems(ctx);
    MM.buildPoints(ctx, "incidents", { radius: 6, color: pal.incident.stroke, weight: 2,
      fillColor: pal.incident.fill, fillOpacity: 0.9 });
    MM.buildPoints(ctx, "positions", { radius: 3, color: pal.mine_row.stroke, weight: 1,
      fillColor: pal.mine_row.stroke, fillOpacity: 0.6 });
    MM.buildRows(ctx);
    MM.buildDistricts(ctx);
    MM.buildPolygons(ctx, "remaining", { color: pal.remaining.stroke, weight: 1.5,
      fillColor: pal.remaining.fill, fillOpacity: 0.45 });
    MM.buildPolygons(ctx, "suspects", { color: pal.suspect.stroke, weight: 2,
      fillColor: pal.suspect.fill, fillOpacity: 0.35 });
    MM.buildPolygons(ctx, "shifted", { color: pal.shifted, weight: 2, dashArray: "6 6", fill: false });
    MM.buildHeat(ctx);

    mm.openPopup = function (kind, k) {
      var layer = ctx.layerIndex[kind][k];
      ctx.shared.popup.setLatLng(MM.anchor(layer)).setContent(MM.content(ctx, kind, k, false)).openOn(map);
      return ctx.shared.popup.getElement();
    };
    mm.openTooltip = function (kind, k) {
      var layer = ctx.layerIndex[kind][k];
      ctx.shared.tooltip.setLatLng(MM.anchor(layer)).setContent(MM.content(ctx, kind, k, true));
      map.openTooltip(ctx.shared.tooltip);
      return ctx.shared.tooltip.getElement();
    };

    // Canvas draws in insertion order; keep districts and releases beneath
    // the fields whenever a layer is switched back on.
    function restack() {
      ["releases_cancelled", "releases_reduced", "releases_cleared", "choropleth"].forEach(function (g) {
        if (groups[g]) groups[g].eachLayer(function (l) { if (l.bringToBack) l.bringToBack(); });
      });
    }
    Object.keys(groups).forEach(function (k) { groups[k]._mmGroup = k; });
    map.on("overlayadd", function (e) {
      if (e.layer === groups.choropleth || /^releases_/.test(e.layer._mmGroup || "")) restack();
    });

    MM.addLegend(ctx);
    if (data.title) {
      var Title = L.Control.extend({
        options: { position: "topright" },
        onAdd: function () { return el("div", "mm-panel mm-title", data.title); }
      });
      new Title().addTo(map);
    }
    MM.addMeasure(ctx);
    MM.addDraw(ctx);
    MM.addTimeline(ctx);
    attribution(ctx);

    if (data.bounds) map.fitBounds([[data.bounds[1], data.bounds[0]], [data.bounds[3], data.bounds[2]]]);
    mm.buildMs = performance.now() - t0;
    requestAnimationFrame(function () {
      var lc = map.getContainer().querySelector(".leaflet-control-layers");
      if (lc && window.MutationObserver) {
        new MutationObserver(function () { fitLegend(ctx); }).observe(lc, { attributes: true, attributeFilter: ["class"] });
      }
      fitLegend(ctx);
      mm.ready = true;
    });
    map.on("resize", function () { fitLegend(ctx); });
  }

  window.minemapInit = init;
})();
