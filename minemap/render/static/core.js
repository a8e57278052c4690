/* minemap map code, part 1 of 7: decoding, DOM helpers, MGRS and geodesy.
 *
 * minemap's own JS does only what no plugin does: the escaped data layers,
 * the legend, the timeline and the draw-export handler.  Every value from
 * the data reaches the DOM through textContent only, so a record id like
 * <img onerror=...> stays text.  MGRS is the `mgrs` package's and geodesy
 * geographiclib's (vendored plugins); no coordinate maths lives here.
 */
(function () {
  "use strict";
  var MM = window.minemapLib = window.minemapLib || {};

  // ------------------------------------------------------------- decoding
  function column(spec, i) {
    if (spec.i) {
      var k = spec.i[i];
      return k < 0 ? null : spec.d[k];
    }
    return spec.v[i];
  }
  MM.propsOf = function (layerData, i) {
    var out = {}, names = layerData.order;
    for (var c = 0; c < names.length; c++) out[names[c]] = column(layerData.cols[names[c]], i);
    return out;
  };
  MM.val = function (layerData, name, i) {
    var spec = layerData.cols[name];
    return spec ? column(spec, i) : null;
  };
  // Rings are delta-encoded integers in 1e-6 degrees: x0, y0, dx1, dy1, ...
  MM.ringLatLngs = function (flat) {
    var out = new Array(flat.length / 2), x = 0, y = 0;
    for (var k = 0, j = 0; k < flat.length; k += 2, j++) {
      x += flat[k]; y += flat[k + 1];
      out[j] = L.latLng(y / 1e6, x / 1e6);
    }
    return out;
  };
  MM.ringLonLat = function (flat) {
    var out = [], x = 0, y = 0;
    for (var k = 0; k < flat.length; k += 2) {
      x += flat[k]; y += flat[k + 1];
      out.push([x / 1e6, y / 1e6]);
    }
    return out;
  };
  MM.polyLatLngs = function (geom) {
    var out = [];
    for (var p = 0; p < geom.length; p++) out.push(geom[p].map(MM.ringLatLngs));
    return out.length === 1 ? out[0] : out;
  };
  MM.geomRings = function (geom) {
    return geom.map(function (rings) { return rings.map(MM.ringLonLat); });
  };
  MM.pointLatLng = function (xy, k) { return [xy[2 * k + 1] / 1e6, xy[2 * k] / 1e6]; };

  // ------------------------------------------------------------------ DOM
  MM.el = function (tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  };
  MM.fmt = function (v, digits) {
    if (v === null || v === undefined || v === "") return "";
    if (typeof v === "number") {
      if (!isFinite(v)) return "";
      if (digits === undefined) return String(v);
      return v.toLocaleString("en-US", { maximumFractionDigits: digits });
    }
    if (typeof v === "boolean") return v ? "yes" : "no";
    return String(v);
  };
  MM.unit = function (v, digits, suffix) {
    var s = MM.fmt(v, digits);
    return s === "" ? "" : s + suffix;
  };
  /** A popup table: title and [label, value] rows, all as text. */
  MM.table = function (title, rows) {
    var box = MM.el("div", "mm-popup"), t = MM.el("table");
    box.appendChild(MM.el("div", "mm-popup-title", title));
    for (var i = 0; i < rows.length; i++) {
      var v = rows[i][1];
      if (v === "" || v === null || v === undefined) continue;
      var tr = MM.el("tr");
      tr.appendChild(MM.el("th", null, rows[i][0]));
      tr.appendChild(MM.el("td", null, v));
      t.appendChild(tr);
    }
    box.appendChild(t);
    return box;
  };
  /** A swatch element coloured from the payload's palette. */
  MM.swatch = function (fill, stroke, dash) {
    var sw = MM.el("span", "mm-swatch");
    sw.style.background = fill || "transparent";
    sw.style.borderColor = stroke || fill || "transparent";
    if (dash) sw.style.borderStyle = dash;
    return sw;
  };
  MM.download = function (text, filename, mime) {
    var url = URL.createObjectURL(new Blob([text], { type: mime }));
    var a = document.createElement("a");
    a.href = url;
    a.download = filename;
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(url); a.remove(); }, 1000);
  };

  // --------------------------------------------------------- data shapes
  // Leaflet.draw gives every polyline and polygon an edit handler when it is
  // made (about 0.1 ms each, 1 s for 10,000 fields); data layers are never
  // edited, so they opt out as Leaflet.draw's hook allows, with an `editing`
  // already set (a handler that is never enabled).
  var NOT_EDITABLE = { enabled: function () { return false; }, enable: function () {},
    disable: function () {}, addHooks: function () {}, removeHooks: function () {} };
  MM.StaticPolygon = L.Polygon.extend({
    initialize: function (latlngs, options) {
      this.editing = NOT_EDITABLE;
      L.Polygon.prototype.initialize.call(this, latlngs, options);
    }
  });
  MM.StaticPolyline = L.Polyline.extend({
    initialize: function (latlngs, options) {
      this.editing = NOT_EDITABLE;
      L.Polyline.prototype.initialize.call(this, latlngs, options);
    }
  });
  MM.polygon = function (latlngs, options) { return new MM.StaticPolygon(latlngs, options); };
  MM.polyline = function (latlngs, options) { return new MM.StaticPolyline(latlngs, options); };

  // --------------------------------------------------------- MGRS, geodesy
  /** MGRS at 1 m from the `mgrs` package (zone zero-padded, as Python's mgrs writes it), or null. */
  MM.mgrs = function (lat, lon) {
    if (!(lat >= -80 && lat < 84) || !isFinite(lon)) return null;
    lon = ((lon + 180) % 360 + 360) % 360 - 180;
    var s;
    try { s = window.mgrs.forward([lon, lat], 5); } catch (e) { return null; }
    return /^\d[A-Z]/.test(s) ? "0" + s : s;
  };
  MM.positionText = function (lat, lon) {
    var g = MM.mgrs(lat, lon);
    return lat.toFixed(6) + ", " + lon.toFixed(6) + (g ? "  |  " + g : "");
  };
  function wgs84() { return window.geodesic.Geodesic.WGS84; }
  MM.geodesic = {
    distance: function (lat1, lon1, lat2, lon2) { return wgs84().Inverse(lat1, lon1, lat2, lon2).s12; },
    pathLength: function (latlngs) {
      var d = 0;
      for (var i = 1; i < latlngs.length; i++) {
        d += MM.geodesic.distance(latlngs[i - 1].lat, latlngs[i - 1].lng, latlngs[i].lat, latlngs[i].lng);
      }
      return d;
    },
    /** Geodesic area (m²) of a ring of {lat, lng}. */
    area: function (latlngs) {
      if (latlngs.length < 3) return 0;
      var poly = wgs84().Polygon(false);
      for (var i = 0; i < latlngs.length; i++) poly.AddPoint(latlngs[i].lat, latlngs[i].lng);
      return Math.abs(poly.Compute(false, true).area);
    }
  };

  // --------------------------------------------------- planar predicates
  // Selection of the fields a drawn shape intersects, on lon/lat rings.
  function inside(pt, rings) { // even-odd over every ring handles holes and parts
    var x = pt[0], y = pt[1], c = false;
    for (var r = 0; r < rings.length; r++) {
      var ring = rings[r];
      for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
        if ((yi > y) !== (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) c = !c;
      }
    }
    return c;
  }
  function orient(p, q, r) {
    var v = (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0]);
    return v > 0 ? 1 : v < 0 ? -1 : 0;
  }
  function onSeg(p, q, r) {
    return Math.min(p[0], r[0]) <= q[0] && q[0] <= Math.max(p[0], r[0]) &&
      Math.min(p[1], r[1]) <= q[1] && q[1] <= Math.max(p[1], r[1]);
  }
  function segCross(a, b, c, d) {
    var o1 = orient(a, b, c), o2 = orient(a, b, d), o3 = orient(c, d, a), o4 = orient(c, d, b);
    if (o1 !== o2 && o3 !== o4) return true;
    return (o1 === 0 && onSeg(a, c, b)) || (o2 === 0 && onSeg(a, d, b)) ||
      (o3 === 0 && onSeg(c, a, d)) || (o4 === 0 && onSeg(c, b, d));
  }
  MM.ringsIntersect = function (ra, rb) {
    var r, s, i, j;
    for (r = 0; r < ra.length; r++) if (ra[r].length && inside(ra[r][0], rb)) return true;
    for (s = 0; s < rb.length; s++) if (rb[s].length && inside(rb[s][0], ra)) return true;
    for (r = 0; r < ra.length; r++) {
      for (s = 0; s < rb.length; s++) {
        var A1 = ra[r], B1 = rb[s];
        for (i = 0; i < A1.length; i++) {
          for (j = 0; j < B1.length; j++) {
            if (segCross(A1[i], A1[(i + 1) % A1.length], B1[j], B1[(j + 1) % B1.length])) return true;
          }
        }
      }
    }
    return false;
  };
  MM.ringsOf = function (polys) {
    var out = [];
    polys.forEach(function (p) { p.forEach(function (r) { out.push(r); }); });
    return out;
  };
  function signedArea(ring) {
    var s = 0;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      s += (ring[j][0] * ring[i][1]) - (ring[i][0] * ring[j][1]);
    }
    return s / 2;
  }
  /** RFC 7946 ring: closed, exterior counter-clockwise, holes clockwise. */
  MM.closeRing = function (ring, ccw) {
    var r = ring.slice();
    if (r.length && (r[0][0] !== r[r.length - 1][0] || r[0][1] !== r[r.length - 1][1])) r.push(r[0].slice());
    if ((signedArea(r) > 0) !== ccw) r.reverse();
    return r;
  };
})();
