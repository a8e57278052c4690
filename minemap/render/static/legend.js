/* minemap map code, part 3 of 7: the legend.
 *
 * One entry for every symbol the map can show, and only for the layers the
 * page holds; swatches are coloured from the payload's palette.  Each row
 * carries data-mm-legend (its key) so that tests can list the entries.
 */
(function () {
  "use strict";
  var MM = window.minemapLib;
  var el = MM.el, fmt = MM.fmt;

  function row(box, key, symbol, text) {
    var r = el("div", "mm-row");
    r.setAttribute("data-mm-legend", key);
    r.appendChild(symbol);
    r.appendChild(el("span", null, text));
    box.appendChild(r);
  }

  function dot(fill, stroke, size) {
    var d = el("span", "mm-dot");
    d.style.background = fill;
    d.style.borderColor = stroke;
    if (size) { d.style.width = size + "px"; d.style.height = size + "px"; }
    return d;
  }

  function line(colour, dash) {
    var s = el("span", "mm-line");
    s.style.borderTopColor = colour;
    s.style.borderTopStyle = dash || "solid";
    return s;
  }

  function fill(box, ctx) {
    var data = ctx.data, pal = ctx.pal, groups = ctx.groups;
    box.appendChild(el("h4", null, "Recorded minefields"));
    data.statuses.forEach(function (s) {
      row(box, "status:" + s, MM.swatch(pal.status[s]), MM.STATUS_LABEL[s]);
    });
    box.appendChild(el("h4", null, "Remaining density (mines/ha)"));
    var br = data.density_breaks;
    for (var c = 0; c < MM.DENSITY_OPACITY.length; c++) {
      // The fill as the map draws it: the status colour at the class's opacity.
      var sw = MM.swatch(null, pal.status.not_started);
      var fillEl = el("span", "mm-swatch-fill");
      fillEl.style.background = pal.status.not_started;
      fillEl.style.opacity = String(MM.DENSITY_OPACITY[c]);
      sw.appendChild(fillEl);
      row(box, "density:" + c, sw, c === 0 ? "0 (or released)" :
        c === MM.DENSITY_OPACITY.length - 1 ? "> " + br[c - 1] : br[c - 1] + " – " + br[c]);
    }
    row(box, "review", MM.swatch(null, pal.review, "dashed"),
      "For review: self-intersecting or misclosure worse than 1:" + data.review_ratio);
    if (data.remaining && data.remaining.n) {
      row(box, "remaining", MM.swatch(pal.remaining.fill, pal.remaining.stroke),
        "Remaining hazard (field minus released land)");
    }
    if (data.shifted && data.shifted.n) {
      row(box, "shifted", MM.swatch(null, pal.shifted, "dashed"),
        "Proposed shifted outline (minemap offsets, not applied)");
    }
    if (data.suspects && data.suspects.n) {
      row(box, "suspects", MM.swatch(pal.suspect.fill, pal.suspect.stroke),
        "Suspected hazard area (finds outside every map)");
    }
    if (data.releases && data.releases.n) {
      box.appendChild(el("h4", null, "Land release (outlines)"));
      ["cleared", "reduced", "cancelled"].forEach(function (o) {
        row(box, "outcome:" + o, MM.swatch(null, pal.outcome[o],
          MM.OUTCOME_DASH[o] ? (o === "cancelled" ? "dotted" : "dashed") : "solid"), MM.OUTCOME_LABEL[o]);
      });
    }
    if (data.items && data.items.n) {
      box.appendChild(el("h4", null, "Found items"));
      [["AP", "AP mine"], ["AT", "AT mine"], ["UXO", "UXO"]].forEach(function (t) {
        row(box, "item:" + t[0], MM.itemIcon(ctx, t[0]), t[1]);
      });
      for (var k = 0; k < 3; k++) {
        var b = el("span", "mm-cluster mm-cluster-swatch", k === 0 ? "n" : k === 1 ? "nn" : "n+");
        b.style.background = pal.cluster[k];
        b.style.color = pal.cluster_text[k];
        b.style.borderColor = pal.cluster[2];
        row(box, "cluster:" + k, b, "Cluster of " + MM.CLUSTER_LABEL[k] + " (zoom in to split)");
      }
    }
    if (data.incidents && data.incidents.n) {
      box.appendChild(el("h4", null, "Incidents"));
      row(box, "incident", dot(pal.incident.fill, pal.incident.stroke, 12), "Mine incident");
    }
    if (data.rows && data.rows.n) row(box, "row", line(pal.mine_row.stroke, "dotted"), "Mine row (traverse)");
    if (data.positions && data.positions.n) {
      row(box, "position", dot(pal.mine_row.stroke, pal.mine_row.stroke, 7), "Estimated mine position");
    }
    if (data.districts && data.districts.n) {
      row(box, "district", line(pal.district.stroke), "District boundary");
      if (groups.choropleth) {
        box.appendChild(el("h4", null, "District remaining mines (choropleth layer)"));
        var db = data.districts.breaks;
        for (var q = 0; q <= db.length; q++) {
          row(box, "choropleth:" + q, MM.swatch(pal.choropleth[q]), q === 0 ? "≤ " + fmt(db[0], 0) :
            q === db.length ? "> " + fmt(db[q - 1], 0) : fmt(db[q - 1], 0) + " – " + fmt(db[q], 0));
        }
      }
    }
    if (groups.heat) {
      var ramp = el("span", "mm-swatch mm-ramp");
      ramp.style.background = "linear-gradient(to right, " + pal.heat.join(", ") + ")";
      row(box, "heat", ramp, "Remaining mines, heat layer (low → high)");
    }
  }

  MM.addLegend = function (ctx) {
    var Legend = L.Control.extend({
      options: { position: "bottomright" },
      onAdd: function () {
        var panel = el("div", "mm-panel mm-legend");
        L.DomEvent.disableClickPropagation(panel);
        L.DomEvent.disableScrollPropagation(panel);
        var toggle = el("button", "mm-legend-toggle", "Legend");
        toggle.type = "button";
        toggle.setAttribute("aria-expanded", "true");
        toggle.title = "Show or hide the legend";
        var box = el("div", "mm-legend-body");
        panel.appendChild(toggle);
        panel.appendChild(box);
        ctx.mm.legend = {
          element: panel,
          collapse: function (yes) {
            panel.classList.toggle("mm-collapsed", !!yes);
            toggle.setAttribute("aria-expanded", yes ? "false" : "true");
          },
          entries: function () {
            return Array.prototype.map.call(box.querySelectorAll("[data-mm-legend]"), function (r) {
              return [r.getAttribute("data-mm-legend"), r.textContent];
            });
          }
        };
        L.DomEvent.on(toggle, "click", function () {
          ctx.mm.legend.collapse(!panel.classList.contains("mm-collapsed"));
        });
        fill(box, ctx);
        return panel;
      }
    });
    new Legend().addTo(ctx.map);
  };
})();
