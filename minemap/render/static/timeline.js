/* minemap map code, part 4 of 7: the timeline.
 *
 * A weekly slider from the first to the last date of the fields' timeline.
 * At a past date each field shows its status as of then, and releases,
 * items and incidents dated after it are hidden (DESIGN §5 "As-of": a
 * release counts from its date_end; undated rows are always shown).  The
 * last step is the current state, where everything is shown.
 */
(function () {
  "use strict";
  var MM = window.minemapLib;
  var val = MM.val, el = MM.el;

  // Each dated layer: where its features live, so they can leave and rejoin.
  function datedLayers(ctx) {
    var out = [];
    var rel = ctx.data.releases;
    if (rel && rel.day && ctx.layerIndex.releases) {
      out.push({ kind: "releases", day: rel.day, layers: ctx.layerIndex.releases,
        group: function (k) { return ctx.layerIndex.releases[k]._mmGroup; } });
    }
    var inc = ctx.data.incidents;
    if (inc && inc.day && ctx.layerIndex.incidents) {
      out.push({ kind: "incidents", day: inc.day, layers: ctx.layerIndex.incidents,
        group: function () { return ctx.groups.incidents; } });
    }
    var it = ctx.data.items;
    if (it && it.day && ctx.layerIndex.items) {
      out.push({ kind: "items", day: it.day, layers: ctx.layerIndex.items, cluster: ctx.itemCluster });
    }
    return out;
  }

  function filterDated(layer, day, atEnd) {
    var hide = [], show = [];
    for (var k = 0; k < layer.layers.length; k++) {
      var d = layer.day[k];
      (atEnd || d === null || d <= day ? show : hide).push(k);
    }
    if (layer.cluster) {
      // Bulk calls: markercluster re-clusters once, not per marker.
      var c = layer.cluster;
      c.removeLayers(hide.filter(function (k) { return c.hasLayer(layer.layers[k]); })
        .map(function (k) { return layer.layers[k]; }));
      layer.cluster.addLayers(show.filter(function (k) { return !layer.cluster.hasLayer(layer.layers[k]); })
        .map(function (k) { return layer.layers[k]; }));
      return;
    }
    hide.forEach(function (k) { var g = layer.group(k); if (g) g.removeLayer(layer.layers[k]); });
    show.forEach(function (k) { var g = layer.group(k); if (g && !g.hasLayer(layer.layers[k])) g.addLayer(layer.layers[k]); });
  }

  MM.addTimeline = function (ctx) {
    var tl = ctx.data.timeline, fd = ctx.fd, groups = ctx.groups;
    if (!tl || !tl.f || !tl.f.length) return;
    var dayMs = 86400000, start = Date.parse(tl.start + "T00:00:00Z"), endDay = tl.end_day;
    var steps = Math.ceil(endDay / 7); // the last step is the latest date: the current state
    var events = {}, i;
    for (i = 0; i < tl.f.length; i++) (events[tl.f[i]] = events[tl.f[i]] || []).push(i);
    var evFields = Object.keys(events).map(Number);
    evFields.forEach(function (k) { ctx.timelineFields[k] = true; });
    var dated = datedLayers(ctx);
    // Chunked adding (used for the first load) would finish after a later
    // slider move and could show markers that move hid: filter synchronously.
    if (ctx.itemCluster) ctx.itemCluster.options.chunkedLoading = false;
    var dayOf = function (k) { return Math.min(7 * k, endDay); };
    var iso = function (day) { return new Date(start + day * dayMs).toISOString().slice(0, 10); };

    function setStatus(k, s, pct) {
      var old = ctx.currentStatus[k];
      ctx.statusNow[k] = s; ctx.pctNow[k] = pct;
      if (old !== s) {
        groups["fields_" + old].removeLayer(ctx.fieldLayers[k]);
        groups["fields_" + s].addLayer(ctx.fieldLayers[k]);
        ctx.currentStatus[k] = s;
      }
      ctx.fieldLayers[k].setStyle(MM.fieldStyle(ctx, s, MM.densityClass(ctx, k, s, pct), ctx.review[k]));
    }

    var label = el("span", null, "");
    var slider = el("input");
    slider.type = "range"; slider.min = "0"; slider.max = String(steps); slider.step = "1";
    slider.value = String(steps);
    slider.setAttribute("aria-label", "Timeline week");

    ctx.mm.timeline = {
      steps: steps,
      dateOf: function (k) { return iso(dayOf(k)); },
      statusOf: function (k) { return ctx.statusNow[k]; },
      /** Whether feature k of releases, items or incidents is in its layer now. */
      shown: function (kind, k) {
        if (kind === "items") return ctx.itemCluster.hasLayer(ctx.layerIndex.items[k]);
        var lyr = ctx.layerIndex[kind][k];
        var g = kind === "releases" ? lyr._mmGroup : groups[kind];
        return g.hasLayer(lyr);
      },
      set: function (k) {
        k = Math.max(0, Math.min(steps, Math.round(k)));
        var day = dayOf(k), atEnd = k === steps;
        ctx.asOf = atEnd ? null : iso(day);
        for (var q = 0; q < evFields.length; q++) {
          var fk = evFields[q];
          if (atEnd) { setStatus(fk, val(fd, "status", fk), null); continue; }
          var evs = events[fk], s = "not_started", pct = 0;
          // A field is not_started until its first timeline row.
          for (var z = 0; z < evs.length; z++) {
            if (tl.d[evs[z]] <= day) { s = ctx.data.statuses[tl.s[evs[z]]]; pct = tl.p[evs[z]]; }
          }
          setStatus(fk, s, pct);
        }
        dated.forEach(function (layer) { filterDated(layer, day, atEnd); });
        label.textContent = (atEnd ? "Current state: " : "As of ") + iso(day);
        slider.value = String(k);
        return iso(day);
      }
    };
    // While the slider is dragged, redraw once per frame at most.
    var pending = false;
    slider.addEventListener("input", function () {
      if (pending) return;
      pending = true;
      requestAnimationFrame(function () { pending = false; ctx.mm.timeline.set(Number(slider.value)); });
    });
    // Released: the final position at once.
    slider.addEventListener("change", function () { ctx.mm.timeline.set(Number(slider.value)); });
    var Timeline = L.Control.extend({
      options: { position: "bottomleft" },
      onAdd: function () {
        var box = el("div", "mm-panel mm-timeline");
        L.DomEvent.disableClickPropagation(box);
        box.appendChild(el("span", null, "Week"));
        box.appendChild(slider);
        box.appendChild(label);
        box.title = "Fields' status, releases, finds and incidents as of the date shown";
        return box;
      }
    });
    new Timeline().addTo(ctx.map);
    label.textContent = "Current state: " + iso(endDay);
  };
})();
