/* minemap map code, part 2 of 7: the data layers and their popups.
 *
 * Layers are drawn on the map's canvas renderer (preferCanvas), one style
 * per class, colours from the payload's palette (minemap.styles).  Every
 * popup and tooltip is built with textContent (MM.table).
 */
(function () {
  "use strict";
  var MM = window.minemapLib;
  var val = MM.val, el = MM.el, fmt = MM.fmt, unit = MM.unit, table = MM.table;

  MM.STATUS_LABEL = { not_started: "Not started", in_progress: "In progress", released: "Released" };
  MM.OUTCOME_LABEL = { cleared: "Cleared", reduced: "Reduced (technical survey)",
    cancelled: "Cancelled (non-technical survey)" };
  // Releases are outlines only, told apart by dash, so their colours never
  // mix with the status fills into colours the legend does not list.
  MM.OUTCOME_DASH = { cleared: null, reduced: "8 4", cancelled: "2 4" };
  MM.DENSITY_OPACITY = [0.12, 0.25, 0.4, 0.55, 0.7];
  MM.ITEM_TYPES = ["AP", "AT", "UXO"];

  // ------------------------------------------------------------- fields
  MM.fieldStyle = function (ctx, status, dclass, review) {
    var key = status + dclass + (review ? "r" : ""), pal = ctx.pal;
    if (!ctx.styleCache[key]) {
      ctx.styleCache[key] = {
        color: review ? pal.review : pal.status[status], weight: review ? 3 : 2,
        dashArray: review ? "6 4" : null, fillColor: pal.status[status],
        fillOpacity: MM.DENSITY_OPACITY[dclass], opacity: 0.95
      };
    }
    return ctx.styleCache[key];
  };

  MM.densityClass = function (ctx, k, status, pct) {
    var fd = ctx.fd;
    if (status === "released") return 0;
    var area = val(fd, "area_ha", k), rem = val(fd, "remaining_est", k) || 0;
    if (pct !== null && pct !== undefined) {
      rem = Math.max(rem, (val(fd, "mines_total", k) || 0) * (1 - pct / 100));
    }
    if (!area || area <= 0) return rem > 0 ? 4 : 0;
    var dens = rem / area, br = ctx.data.density_breaks, c = 0;
    while (c < br.length && dens > br[c]) c++;
    return c;
  };

  function isReview(ctx, k) {
    var flags = val(ctx.fd, "flags", k) || "";
    if ((";" + flags + ";").indexOf(";self_intersecting;") >= 0) return true;
    var r = val(ctx.fd, "misclosure_ratio", k);
    return typeof r === "number" && r < ctx.data.review_ratio;
  }

  MM.buildFields = function (ctx) {
    var fd = ctx.fd, groups = ctx.groups;
    var reviewGroup = groups.review ? L.layerGroup() : null;
    for (var i = 0; i < fd.n; i++) {
      var st = val(fd, "status", i);
      ctx.review[i] = isReview(ctx, i);
      ctx.statusNow[i] = ctx.currentStatus[i] = st;
      ctx.pctNow[i] = null;
      // The display geometry; null where the field is drawn with its export geometry.
      var shown = fd.geom[i] === null ? fd.orig[i] : fd.geom[i];
      var lyr = MM.polygon(MM.polyLatLngs(shown), L.extend({ renderer: ctx.renderer },
        MM.fieldStyle(ctx, st, MM.densityClass(ctx, i, st, null), ctx.review[i])));
      lyr._mm = { kind: "fields", i: i };
      ctx.fieldLayers[i] = lyr;
      groups["fields_" + st].addLayer(lyr);
      ctx.mm.fields.push({ record_id: val(fd, "record_id", i), handover: val(fd, "handover", i), layer: lyr });
      if (reviewGroup && ctx.review[i]) {
        var rl = MM.polygon(MM.polyLatLngs(shown), { renderer: ctx.renderer, color: ctx.pal.review,
          weight: 3, dashArray: "6 4", fill: false });
        rl._mm = { kind: "fields", i: i };
        reviewGroup.addLayer(rl);
      }
    }
    if (reviewGroup) groups.review.addLayer(reviewGroup);
    ctx.layerIndex.fields = ctx.fieldLayers;
    ["fields_not_started", "fields_in_progress", "fields_released", "review"].forEach(function (g) {
      if (groups[g]) MM.bindShared(ctx, groups[g]);
    });
  };

  // ------------------------------------------------------------- popups
  function fieldContent(ctx, k, brief) {
    var fd = ctx.fd, p = function (n) { return val(fd, n, k); };
    var pct = ctx.pctNow[k], statusText = MM.STATUS_LABEL[ctx.statusNow[k]] || ctx.statusNow[k];
    if (ctx.asOf) statusText += " (as of " + ctx.asOf + ")";
    if (brief) {
      return table(fmt(p("record_id")), [["Handover", p("handover")], ["District", p("district")],
        ["Status", statusText], ["Remaining (est.)", fmt(p("remaining_est"), 1)]]);
    }
    var rev = p("revision");
    return table(fmt(p("record_id")), [
      ["Handover", fmt(p("handover")) + (rev !== null && rev !== undefined ? " (revision " + rev + ")" : "")],
      ["District", p("district")], ["AP mines", fmt(p("mines_ap"))], ["AT mines", fmt(p("mines_at"))],
      ["Mines (total)", fmt(p("mines_total"))], ["Mine types", p("mine_types")], ["Laid", p("laid_date")],
      ["Area", unit(p("area_ha"), 2, " ha")],
      ["Released", ctx.asOf && pct !== null ? unit(pct, 1, " % (as of " + ctx.asOf + ")") :
        unit(p("released_pct"), 1, " %")],
      ["Cleared", unit(p("cleared_pct"), 1, " %")], ["Found", fmt(p("found_mines"), 1)],
      ["Remaining (est.)", fmt(p("remaining_est"), 1)], ["Status", statusText],
      ["Last release", p("last_release_date")], ["Flags", p("flags")],
      ["Misclosure", p("misclosure_ratio") ? "1:" + fmt(p("misclosure_ratio"), 0) +
        " (" + fmt(p("misclosure_m"), 2) + " m)" : ""],
      ["Reliability", p("reliability")], ["Source file", p("source_file")],
      ["Source CRS", p("source_crs")], ["Transformation", p("transformation")]
    ]);
  }

  // Every column of a layer, as text: for the layers other modules compute
  // (remaining, suspects, shifted), whose columns the map need not know.
  function allColumns(d, k, brief) {
    var names = brief ? d.order.slice(0, 6) : d.order;
    return names.map(function (n) { return [n.replace(/_/g, " "), fmt(val(d, n, k), 2)]; });
  }

  var TITLES = {
    remaining: function (p) { return "Remaining hazard " + fmt(p("record_id")); },
    suspects: function (p, k) { return "Suspected hazard area " + fmt(p("suspect_id") || k + 1); },
    shifted: function (p) { return "Proposed shifted outline " + fmt(p("record_id")); }
  };

  function genericContent(ctx, kind, k, brief) {
    var d = ctx.data[kind], p = function (n) { return val(d, n, k); };
    if (TITLES[kind]) return table(TITLES[kind](p, k), allColumns(d, k, brief));
    if (kind === "releases") {
      var rows = [["Outcome", p("outcome")], ["Date", (p("date_start") && p("date_start") !== p("date_end") ?
        fmt(p("date_start")) + " – " : "") + fmt(p("date_end"))]];
      if (!brief) {
        rows = rows.concat([["Operator", p("operator")], ["Method", p("method")], ["District", p("district")],
          ["Area", unit(p("area_ha"), 2, " ha")], ["Found AP", fmt(p("found_ap"))],
          ["Found AT", fmt(p("found_at"))], ["Found UXO", fmt(p("found_uxo"))], ["Source file", p("source_file")]]);
      }
      return table("Report " + fmt(p("report_id")), rows);
    }
    if (kind === "items") {
      return table(fmt(p("item_type")) + " " + fmt(p("item_id")), [["Date", p("date")], ["Model", p("model")],
        ["Report", p("report_id")], ["District", p("district")], ["Source file", brief ? "" : p("source_file")]]);
    }
    if (kind === "incidents") {
      var civ = p("civilian");
      return table("Incident " + fmt(p("incident_id")), [["Date", p("date")], ["Killed", fmt(p("killed"))],
        ["Injured", fmt(p("injured"))], ["Civilian", civ === null ? "" : (civ ? "yes" : "no")],
        ["District", p("district")], ["Source file", brief ? "" : p("source_file")]]);
    }
    if (kind === "rows") {
      return table("Row " + fmt(p("row")) + " of " + fmt(p("record_id")), [["Handover", p("handover")],
        ["Mines", fmt(p("mines"))], ["Type", p("mine_type")], ["Spacing", unit(p("spacing_m"), 2, " m")]]);
    }
    if (kind === "positions") {
      return table("Estimated mine position", [["Record", p("record_id")], ["Row", fmt(p("row"))],
        ["Mine", fmt(p("n"))], ["Type", p("mine_type")]]);
    }
    if (kind === "districts") {
      return table(fmt(p("district")), [["Remaining mines (est.)", fmt(d.remaining[k], 0)],
        ["Recorded minefields", fmt(d.count[k])]]);
    }
    return table(kind, []);
  }

  MM.content = function (ctx, kind, k, brief) {
    return kind === "fields" ? fieldContent(ctx, k, brief) : genericContent(ctx, kind, k, brief);
  };

  MM.anchor = function (layer, latlng) {
    if (latlng) return latlng;
    if (layer.getLatLng) return layer.getLatLng();
    return layer.getBounds().getCenter();
  };

  MM.bindShared = function (ctx, group) {
    var shared = ctx.shared, map = ctx.map;
    group.on("click", function (e) {
      var m = e.layer && e.layer._mm;
      if (!m) return;
      shared.popup.setLatLng(MM.anchor(e.layer, e.latlng)).setContent(MM.content(ctx, m.kind, m.i, false)).openOn(map);
    });
    group.on("mouseover", function (e) {
      var m = e.layer && e.layer._mm;
      if (!m) return;
      shared.tooltip.setLatLng(MM.anchor(e.layer, e.latlng)).setContent(MM.content(ctx, m.kind, m.i, true));
      map.openTooltip(shared.tooltip);
    });
    group.on("mouseout", function () { map.closeTooltip(shared.tooltip); });
    group.on("mousemove", function (e) { if (e.latlng) shared.tooltip.setLatLng(e.latlng); });
  };

  // ----------------------------------------------------------- releases
  MM.buildReleases = function (ctx) {
    var rd = ctx.data.releases;
    if (!rd || !rd.n) return;
    var arr = new Array(rd.n), styles = {};
    for (var i = 0; i < rd.n; i++) {
      var oc = val(rd, "outcome", i);
      if (!styles[oc]) {
        // Outline only: Leaflet still hit-tests the inside of an unfilled polygon.
        styles[oc] = { color: ctx.pal.outcome[oc], weight: 1.5, fill: false, opacity: 0.95,
          dashArray: MM.OUTCOME_DASH[oc] || null };
      }
      var ly = MM.polygon(MM.polyLatLngs(rd.geom[i]), L.extend({ renderer: ctx.renderer }, styles[oc]));
      ly._mm = { kind: "releases", i: i };
      ly._mmGroup = ctx.groups["releases_" + oc];
      arr[i] = ly;
      if (ly._mmGroup) ly._mmGroup.addLayer(ly);
      ctx.mm.releases.push({ report_id: val(rd, "report_id", i), layer: ly });
    }
    ctx.layerIndex.releases = arr;
    ["releases_cleared", "releases_reduced", "releases_cancelled"].forEach(function (g) {
      if (ctx.groups[g]) MM.bindShared(ctx, ctx.groups[g]);
    });
  };

  // -------------------------------------------------------------- items
  /** Which cluster class (0 small, 1 medium, 2 large) a count falls in: markercluster's own limits. */
  MM.clusterClass = function (n) { return n < 10 ? 0 : n < 100 ? 1 : 2; };
  MM.CLUSTER_LABEL = ["fewer than 10 items", "10 to 99 items", "100 items or more"];

  MM.itemIcon = function (ctx, type) {
    var box = el("div", "mm-item mm-item-" + type);
    box.style.background = ctx.pal.item[type];
    box.style.borderColor = ctx.pal.ink;
    box.appendChild(el("span", null, type === "UXO" ? "U" : type));
    return box;
  };

  MM.buildItems = function (ctx) {
    var d = ctx.data.items;
    if (!d || !d.n || !ctx.groups.items) return;
    var pal = ctx.pal;
    var cluster = L.markerClusterGroup({
      chunkedLoading: true, maxClusterRadius: 50,
      iconCreateFunction: function (c) {
        var n = c.getChildCount(), k = MM.clusterClass(n);
        var box = el("div", "mm-cluster");
        box.style.background = pal.cluster[k];
        box.style.color = pal.cluster_text[k];
        box.style.borderColor = pal.cluster[2];
        box.appendChild(el("span", null, n));
        return L.divIcon({ html: box.outerHTML, className: "mm-cluster-icon", iconSize: L.point(34, 34) });
      }
    });
    var markers = new Array(d.n), icons = {};
    for (var i = 0; i < d.n; i++) {
      var ty = val(d, "item_type", i);
      var key = MM.ITEM_TYPES.indexOf(ty) >= 0 ? ty : "UXO";
      if (!icons[key]) icons[key] = L.divIcon({ html: MM.itemIcon(ctx, key).outerHTML, className: "", iconSize: [18, 18] });
      var mk = L.marker(MM.pointLatLng(d.xy, i), { icon: icons[key], keyboard: false });
      mk._mm = { kind: "items", i: i };
      markers[i] = mk;
      ctx.mm.items.push({ item_id: val(d, "item_id", i), layer: mk });
    }
    cluster.addLayers(markers);
    ctx.groups.items.addLayer(cluster);
    ctx.itemCluster = ctx.mm.itemCluster = cluster;
    ctx.layerIndex.items = markers;
    MM.bindShared(ctx, cluster);
  };

  // ----------------------------------------------------- points, lines
  MM.buildPoints = function (ctx, kind, style) {
    var d = ctx.data[kind];
    if (!d || !d.n || !ctx.groups[kind]) return;
    var arr = new Array(d.n);
    for (var k = 0; k < d.n; k++) {
      var c = L.circleMarker(MM.pointLatLng(d.xy, k), L.extend({ renderer: ctx.renderer }, style));
      c._mm = { kind: kind, i: k };
      arr[k] = c;
      ctx.groups[kind].addLayer(c);
      ctx.mm[kind].push({ layer: c });
    }
    ctx.layerIndex[kind] = arr;
    MM.bindShared(ctx, ctx.groups[kind]);
  };

  MM.buildRows = function (ctx) {
    var d = ctx.data.rows;
    if (!d || !d.n || !ctx.groups.rows) return;
    var arr = new Array(d.n);
    for (var i = 0; i < d.n; i++) {
      var lines = d.geom[i].map(MM.ringLatLngs);
      var pl = MM.polyline(lines.length === 1 ? lines[0] : lines,
        { renderer: ctx.renderer, color: ctx.pal.mine_row.stroke, weight: 2, dashArray: "2 4" });
      pl._mm = { kind: "rows", i: i };
      arr[i] = pl;
      ctx.groups.rows.addLayer(pl);
      ctx.mm.rows.push({ record_id: val(d, "record_id", i), layer: pl });
    }
    ctx.layerIndex.rows = arr;
    MM.bindShared(ctx, ctx.groups.rows);
  };

  /** A polygon layer whose style is one object (remaining, suspects, shifted). */
  MM.buildPolygons = function (ctx, kind, style) {
    var d = ctx.data[kind];
    if (!d || !d.n || !ctx.groups[kind]) return;
    var arr = new Array(d.n);
    for (var i = 0; i < d.n; i++) {
      var ly = MM.polygon(MM.polyLatLngs(d.geom[i]), L.extend({ renderer: ctx.renderer }, style));
      ly._mm = { kind: kind, i: i };
      arr[i] = ly;
      ctx.groups[kind].addLayer(ly);
      ctx.mm[kind].push({ layer: ly });
    }
    ctx.layerIndex[kind] = arr;
    MM.bindShared(ctx, ctx.groups[kind]);
  };

  // ---------------------------------------------------------- districts
  MM.choroClass = function (breaks, v) {
    var c = 0;
    while (c < breaks.length && v > breaks[c]) c++;
    return c;
  };

  MM.buildDistricts = function (ctx) {
    var dd = ctx.data.districts, groups = ctx.groups;
    if (!dd || !dd.n) return;
    var outlines = new Array(dd.n), fills = new Array(dd.n);
    for (var i = 0; i < dd.n; i++) {
      var ll = MM.polyLatLngs(dd.geom[i]);
      var outline = MM.polygon(ll, { renderer: ctx.renderer, color: ctx.pal.district.stroke, weight: 2,
        fill: false, interactive: false });
      if (groups.districts) {
        groups.districts.addLayer(outline);
        var lab = L.tooltip({ permanent: true, direction: "center", className: "mm-district-label", interactive: false })
          .setLatLng(outline.getBounds().getCenter());
        lab.setContent(el("span", null, val(dd, "district", i)));
        groups.districts.addLayer(lab);
      }
      outlines[i] = outline;
      if (groups.choropleth) {
        var cp = MM.polygon(ll, { renderer: ctx.renderer, color: ctx.pal.district.stroke, weight: 1,
          fillColor: ctx.pal.choropleth[MM.choroClass(dd.breaks, dd.remaining[i])], fillOpacity: 0.4 });
        cp._mm = { kind: "districts", i: i };
        groups.choropleth.addLayer(cp);
        fills[i] = cp;
      }
      ctx.mm.districts.push({ district: val(dd, "district", i), layer: outline });
    }
    ctx.layerIndex.districts = groups.choropleth ? fills : outlines;
    if (groups.choropleth) MM.bindShared(ctx, groups.choropleth);
  };

  // --------------------------------------------------------------- heat
  MM.buildHeat = function (ctx) {
    if (!ctx.groups.heat) return;
    var fd = ctx.fd, pts = [], max = 0;
    for (var i = 0; i < fd.n; i++) {
      var rem = val(fd, "remaining_est", i);
      if (!rem || rem <= 0) continue;
      pts.push(MM.pointLatLng(fd.centroid, i).concat([rem]));
      if (rem > max) max = rem;
    }
    var gradient = {};
    ctx.pal.heat.forEach(function (c, k) { gradient[(k + 1) / ctx.pal.heat.length] = c; });
    ctx.heat = L.heatLayer(pts, { radius: 25, blur: 18, max: max || 1, gradient: gradient });
    ctx.groups.heat.addLayer(ctx.heat);
  };
})();
