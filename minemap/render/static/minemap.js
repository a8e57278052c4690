/* minemap interactive map.
 *
 * Builds every data layer of a minemap page from one JSON block embedded in
 * the page (raw values, with <, > and & escaped by the writer), so that:
 *   - every value reaches the DOM through textContent only (no HTML is ever
 *     built from data, so a record id like <img onerror=...> stays text);
 *   - styles are shared per class instead of one dict per feature;
 *   - layers are created on a canvas renderer, which stays usable at 50,000
 *     fields.
 * It also supplies the controls folium lacks: legend, measure (geodesic),
 * fullscreen, mouse position in lat/lon and MGRS, timeline, draw-and-export
 * and a small canvas heat layer.  No network access is needed.
 */
(function () {
  "use strict";

  // ---------------------------------------------------------------- geodesy
  var A = 6378137.0, F = 1 / 298.257223563, B = A * (1 - F);
  var E2 = F * (2 - F), E = Math.sqrt(E2);
  var DEG = Math.PI / 180;

  // UTM forward by Krueger's series to 6th order in n (Karney 2011): well
  // below a millimetre inside a zone, which MGRS at 1 m needs.
  var N3 = F / (2 - F);
  var UTM_A = A / (1 + N3) * (1 + N3 * N3 / 4 + Math.pow(N3, 4) / 64 + Math.pow(N3, 6) / 256);
  var ALPHA = (function (n) {
    var n2 = n * n, n3 = n2 * n, n4 = n3 * n, n5 = n4 * n, n6 = n5 * n;
    return [
      n / 2 - 2 * n2 / 3 + 5 * n3 / 16 + 41 * n4 / 180 - 127 * n5 / 288 + 7891 * n6 / 37800,
      13 * n2 / 48 - 3 * n3 / 5 + 557 * n4 / 1440 + 281 * n5 / 630 - 1983433 * n6 / 1935360,
      61 * n3 / 240 - 103 * n4 / 140 + 15061 * n5 / 26880 + 167603 * n6 / 181440,
      49561 * n4 / 161280 - 179 * n5 / 168 + 6601661 * n6 / 7257600,
      34729 * n5 / 80640 - 3418889 * n6 / 1995840,
      212378941 * n6 / 319334400
    ];
  })(N3);

  function utmZone(lat, lon) {
    var zone = Math.floor((lon + 180) / 6) + 1;
    if (zone > 60) zone = 60;
    // Norway and Svalbard exceptions of the UTM/MGRS grid.
    if (lat >= 56 && lat < 64 && lon >= 3 && lon < 12) zone = 32;
    if (lat >= 72 && lat < 84) {
      if (lon >= 0 && lon < 9) zone = 31;
      else if (lon >= 9 && lon < 21) zone = 33;
      else if (lon >= 21 && lon < 33) zone = 35;
      else if (lon >= 33 && lon < 42) zone = 37;
    }
    return zone;
  }

  function utmForward(lat, lon, zone) {
    var lon0 = (zone * 6 - 183) * DEG;
    var phi = lat * DEG, lam = lon * DEG - lon0;
    var s = Math.sin(phi);
    var t = Math.sinh(Math.atanh(s) - E * Math.atanh(E * s));
    var xip = Math.atan2(t, Math.cos(lam));
    var etap = Math.atanh(Math.sin(lam) / Math.sqrt(1 + t * t));
    var xi = xip, eta = etap;
    for (var j = 1; j <= 6; j++) {
      xi += ALPHA[j - 1] * Math.sin(2 * j * xip) * Math.cosh(2 * j * etap);
      eta += ALPHA[j - 1] * Math.cos(2 * j * xip) * Math.sinh(2 * j * etap);
    }
    var k0 = 0.9996;
    var east = 500000 + k0 * UTM_A * eta;
    var north = k0 * UTM_A * xi;
    if (lat < 0) north += 10000000;
    return [east, north];
  }

  var BANDS = "CDEFGHJKLMNPQRSTUVWX";
  var COLS = ["ABCDEFGH", "JKLMNPQR", "STUVWXYZ"];
  var ROWS = "ABCDEFGHJKLMNPQRSTUV";

  function pad5(v) {
    var s = String(v);
    while (s.length < 5) s = "0" + s;
    return s;
  }

  /** MGRS reference at 1 m (truncated, as MGRS requires), or null outside UTM. */
  function mgrs(lat, lon) {
    if (!(lat >= -80 && lat < 84) || !isFinite(lon)) return null;
    lon = ((lon + 180) % 360 + 360) % 360 - 180;
    var zone = utmZone(lat, lon);
    var en = utmForward(lat, lon, zone);
    var band = BANDS.charAt(Math.min(19, Math.floor((lat + 80) / 8)));
    var e100 = Math.floor(en[0] / 100000), n100 = Math.floor(en[1] / 100000);
    var col = COLS[(zone - 1) % 3].charAt(e100 - 1);
    var row = ROWS.charAt((n100 + (zone % 2 === 0 ? 5 : 0)) % 20);
    var e = Math.floor(en[0] - e100 * 100000), n = Math.floor(en[1] - n100 * 100000);
    return (zone < 10 ? "0" : "") + zone + band + col + row + pad5(e) + pad5(n);
  }

  /** Geodesic distance in metres on WGS84 (Vincenty's inverse formula). */
  function vincenty(lat1, lon1, lat2, lon2) {
    var L = (lon2 - lon1) * DEG;
    var U1 = Math.atan((1 - F) * Math.tan(lat1 * DEG));
    var U2 = Math.atan((1 - F) * Math.tan(lat2 * DEG));
    var sinU1 = Math.sin(U1), cosU1 = Math.cos(U1), sinU2 = Math.sin(U2), cosU2 = Math.cos(U2);
    var lam = L, lamP, iter = 0, sinSig, cosSig, sig, cos2a, cos2sm, sinLam, cosLam;
    do {
      sinLam = Math.sin(lam); cosLam = Math.cos(lam);
      sinSig = Math.sqrt(Math.pow(cosU2 * sinLam, 2) +
        Math.pow(cosU1 * sinU2 - sinU1 * cosU2 * cosLam, 2));
      if (sinSig === 0) return 0;
      cosSig = sinU1 * sinU2 + cosU1 * cosU2 * cosLam;
      sig = Math.atan2(sinSig, cosSig);
      var sinA = cosU1 * cosU2 * sinLam / sinSig;
      cos2a = 1 - sinA * sinA;
      cos2sm = cos2a !== 0 ? cosSig - 2 * sinU1 * sinU2 / cos2a : 0;
      var C = F / 16 * cos2a * (4 + F * (4 - 3 * cos2a));
      lamP = lam;
      lam = L + (1 - C) * F * sinA *
        (sig + C * sinSig * (cos2sm + C * cosSig * (-1 + 2 * cos2sm * cos2sm)));
    } while (Math.abs(lam - lamP) > 1e-12 && ++iter < 200);
    var u2 = cos2a * (A * A - B * B) / (B * B);
    var bA = 1 + u2 / 16384 * (4096 + u2 * (-768 + u2 * (320 - 175 * u2)));
    var bB = u2 / 1024 * (256 + u2 * (-128 + u2 * (74 - 47 * u2)));
    var dSig = bB * sinSig * (cos2sm + bB / 4 * (cosSig * (-1 + 2 * cos2sm * cos2sm) -
      bB / 6 * cos2sm * (-3 + 4 * sinSig * sinSig) * (-3 + 4 * cos2sm * cos2sm)));
    return B * bA * (sig - dSig);
  }

  function pathLength(latlngs) {
    var d = 0;
    for (var i = 1; i < latlngs.length; i++) {
      d += vincenty(latlngs[i - 1].lat, latlngs[i - 1].lng, latlngs[i].lat, latlngs[i].lng);
    }
    return d;
  }

  // Area on the authalic sphere (radius Rq, latitudes mapped to authalic
  // latitude), which preserves area; for polygons of field or district size
  // it agrees with the ellipsoidal geodesic area to well under 0.01 %.
  function qfun(s) {
    return (1 - E2) * (s / (1 - E2 * s * s) - Math.log((1 - E * s) / (1 + E * s)) / (2 * E));
  }
  var QP = qfun(1), RQ = A * Math.sqrt(QP / 2);

  function authalic(latDeg) {
    var r = qfun(Math.sin(latDeg * DEG)) / QP;
    return Math.asin(Math.max(-1, Math.min(1, r)));
  }

  /** Geodesic area in square metres of a ring of {lat, lng}. */
  function polygonArea(latlngs) {
    var n = latlngs.length;
    if (n < 3) return 0;
    var sum = 0;
    for (var i = 0; i < n; i++) {
      var p = latlngs[i], q = latlngs[(i + 1) % n];
      var t1 = Math.tan(authalic(p.lat) / 2), t2 = Math.tan(authalic(q.lat) / 2);
      var dl = (q.lng - p.lng) * DEG;
      dl = Math.atan2(Math.sin(dl), Math.cos(dl));
      // Exact spherical excess of the trapezoid between the edge and the
      // equator.
      sum += 2 * Math.atan2(Math.tan(dl / 2) * (t1 + t2), 1 + t1 * t2);
    }
    return Math.abs(sum) * RQ * RQ;
  }

  // ------------------------------------------------------------- decoding
  function column(spec, i) {
    if (spec.i) {
      var k = spec.i[i];
      return k < 0 ? null : spec.d[k];
    }
    return spec.v[i];
  }

  function propsOf(layerData, i) {
    var out = {};
    var names = layerData.order;
    for (var c = 0; c < names.length; c++) out[names[c]] = column(layerData.cols[names[c]], i);
    return out;
  }

  function val(layerData, name, i) {
    var spec = layerData.cols[name];
    return spec ? column(spec, i) : null;
  }

  // Rings are delta-encoded integers in 1e-6 degrees: x0, y0, dx1, dy1, ...
  function ringLatLngs(flat) {
    var out = new Array(flat.length / 2);
    var x = 0, y = 0;
    for (var k = 0, j = 0; k < flat.length; k += 2, j++) {
      x += flat[k]; y += flat[k + 1];
      out[j] = L.latLng(y / 1e6, x / 1e6);
    }
    return out;
  }

  function ringLonLat(flat) {
    var out = [], x = 0, y = 0;
    for (var k = 0; k < flat.length; k += 2) {
      x += flat[k]; y += flat[k + 1];
      out.push([x / 1e6, y / 1e6]);
    }
    return out;
  }

  // ----------------------------------------------------------------- styles
  var STATUS_COLOUR = { not_started: "#d7191c", in_progress: "#fd8d3c", released: "#1a9641" };
  var STATUS_LABEL = { not_started: "Not started", in_progress: "In progress", released: "Released" };
  // Releases are drawn as outlines only (see releaseStyle), so their colours
  // never mix with the status fills into colours the legend does not list.
  var OUTCOME_COLOUR = { cleared: "#2166ac", reduced: "#35978f", cancelled: "#636363" };
  var OUTCOME_DASH = { cleared: null, reduced: "8 4", cancelled: "2 4" };
  // Choropleth: a blue-grey ramp, no hue shared with the status colours.
  var CHORO_PALETTE = ["#f1f3f6", "#d5dbe4", "#aab6c8", "#7d8fab", "#51658a"];
  var OUTCOME_LABEL = { cleared: "Cleared", reduced: "Reduced (technical survey)", cancelled: "Cancelled (non-technical survey)" };
  var DENSITY_OPACITY = [0.12, 0.25, 0.4, 0.55, 0.7];
  var REVIEW_COLOUR = "#c51b8a";
  var styleCache = {};

  function fieldStyle(status, dclass, review) {
    var key = status + dclass + (review ? "r" : "");
    var s = styleCache[key];
    if (!s) {
      s = {
        color: review ? REVIEW_COLOUR : STATUS_COLOUR[status],
        weight: review ? 3 : 2,
        dashArray: review ? "6 4" : null,
        fillColor: STATUS_COLOUR[status],
        fillOpacity: DENSITY_OPACITY[dclass],
        opacity: 0.95
      };
      styleCache[key] = s;
    }
    return s;
  }

  // --------------------------------------------------------------- helpers
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function fmt(v, digits) {
    if (v === null || v === undefined || v === "") return "";
    if (typeof v === "number") {
      if (!isFinite(v)) return "";
      if (digits === undefined) return String(v);
      return v.toLocaleString("en-US", { maximumFractionDigits: digits });
    }
    return String(v);
  }

  function unit(v, digits, suffix) {
    var s = fmt(v, digits);
    return s === "" ? "" : s + suffix;
  }

  function table(title, rows) {
    var box = el("div", "mm-popup");
    box.appendChild(el("div", "mm-popup-title", title));
    var t = el("table");
    for (var i = 0; i < rows.length; i++) {
      if (rows[i][1] === "" || rows[i][1] === null || rows[i][1] === undefined) continue;
      var tr = el("tr");
      tr.appendChild(el("th", null, rows[i][0]));
      tr.appendChild(el("td", null, rows[i][1]));
      t.appendChild(tr);
    }
    box.appendChild(t);
    return box;
  }

  function download(text, filename, mime) {
    var blob = new Blob([text], { type: mime });
    var url = URL.createObjectURL(blob);
    var a = document.createElement("a");
    a.href = url;
    a.download = filename;
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(url); a.remove(); }, 1000);
  }

  // ------------------------------------------------------- point in polygon
  function ringsOf(polys) { // polys: array of polygons of rings [[lon,lat],...]
    var out = [];
    for (var p = 0; p < polys.length; p++) for (var r = 0; r < polys[p].length; r++) out.push(polys[p][r]);
    return out;
  }

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

  function segCross(a, b, c, d) {
    function orient(p, q, r) {
      var v = (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0]);
      return v > 0 ? 1 : v < 0 ? -1 : 0;
    }
    function onSeg(p, q, r) {
      return Math.min(p[0], r[0]) <= q[0] && q[0] <= Math.max(p[0], r[0]) &&
        Math.min(p[1], r[1]) <= q[1] && q[1] <= Math.max(p[1], r[1]);
    }
    var o1 = orient(a, b, c), o2 = orient(a, b, d), o3 = orient(c, d, a), o4 = orient(c, d, b);
    if (o1 !== o2 && o3 !== o4) return true;
    if (o1 === 0 && onSeg(a, c, b)) return true;
    if (o2 === 0 && onSeg(a, d, b)) return true;
    if (o3 === 0 && onSeg(c, a, d)) return true;
    if (o4 === 0 && onSeg(c, b, d)) return true;
    return false;
  }

  function ringsIntersect(ra, rb) {
    var i, j, r, s;
    for (r = 0; r < ra.length; r++) if (ra[r].length && inside(ra[r][0], rb)) return true;
    for (s = 0; s < rb.length; s++) if (rb[s].length && inside(rb[s][0], ra)) return true;
    for (r = 0; r < ra.length; r++) {
      var A1 = ra[r];
      for (s = 0; s < rb.length; s++) {
        var B1 = rb[s];
        for (i = 0; i < A1.length; i++) {
          var a = A1[i], b = A1[(i + 1) % A1.length];
          for (j = 0; j < B1.length; j++) {
            if (segCross(a, b, B1[j], B1[(j + 1) % B1.length])) return true;
          }
        }
      }
    }
    return false;
  }

  function signedArea(ring) {
    var s = 0;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      s += (ring[j][0] * ring[i][1]) - (ring[i][0] * ring[j][1]);
    }
    return s / 2;
  }

  function closeRing(ring, ccw) { // RFC 7946: closed, exterior CCW, holes CW
    var r = ring.slice();
    if (r.length && (r[0][0] !== r[r.length - 1][0] || r[0][1] !== r[r.length - 1][1])) r.push(r[0].slice());
    if ((signedArea(r) > 0) !== ccw) r.reverse();
    return r;
  }

  // ------------------------------------------------------------- heat layer
  // A small canvas heat layer: each point is a radial gradient of alpha
  // weighted by its value, accumulated, then coloured through a palette.
  var HeatLayer = L.Layer.extend({
    initialize: function (points, options) { // points: [[lat, lon, weight], ...]
      this._points = points;
      L.setOptions(this, options);
    },
    onAdd: function (map) {
      this._map = map;
      var pane = map.getPane(this.options.pane || "overlayPane");
      this._canvas = L.DomUtil.create("canvas", "leaflet-zoom-hide mm-heat");
      this._canvas.style.pointerEvents = "none";
      pane.appendChild(this._canvas);
      map.on("moveend zoomend resize", this._redraw, this);
      this._redraw();
    },
    onRemove: function (map) {
      L.DomUtil.remove(this._canvas);
      map.off("moveend zoomend resize", this._redraw, this);
    },
    _palette: function () {
      if (this._pal) return this._pal;
      var c = document.createElement("canvas");
      c.width = 256; c.height = 1;
      var g = c.getContext("2d"), grad = g.createLinearGradient(0, 0, 256, 0);
      grad.addColorStop(0.0, "rgba(0,0,255,0)");
      grad.addColorStop(0.25, "#2c7bb6");
      grad.addColorStop(0.5, "#abd9e9");
      grad.addColorStop(0.7, "#fdae61");
      grad.addColorStop(1.0, "#d7191c");
      g.fillStyle = grad; g.fillRect(0, 0, 256, 1);
      this._pal = g.getImageData(0, 0, 256, 1).data;
      return this._pal;
    },
    _redraw: function () {
      var map = this._map, size = map.getSize();
      var topLeft = map.containerPointToLayerPoint([0, 0]);
      L.DomUtil.setPosition(this._canvas, topLeft);
      this._canvas.width = size.x; this._canvas.height = size.y;
      var ctx = this._canvas.getContext("2d");
      var radius = this.options.radius || 25;
      var bounds = map.getBounds().pad(0.2);
      var maxW = 0, pts = [], i;
      // Weights are summed on a coarse grid first so that the colour scale
      // follows the density visible at this zoom, not one extreme point.
      var cell = radius, grid = {};
      for (i = 0; i < this._points.length; i++) {
        var p = this._points[i];
        if (!bounds.contains([p[0], p[1]])) continue;
        var cp = map.latLngToContainerPoint([p[0], p[1]]);
        var key = Math.floor(cp.x / cell) + ":" + Math.floor(cp.y / cell);
        var g = grid[key];
        if (!g) { g = grid[key] = [0, 0, 0]; pts.push(g); }
        g[0] += cp.x * p[2]; g[1] += cp.y * p[2]; g[2] += p[2];
      }
      for (i = 0; i < pts.length; i++) if (pts[i][2] > maxW) maxW = pts[i][2];
      if (!maxW) return;
      for (i = 0; i < pts.length; i++) {
        var w = pts[i][2], x = pts[i][0] / w, y = pts[i][1] / w;
        var grad = ctx.createRadialGradient(x, y, 0, x, y, radius);
        var a = Math.min(1, 0.15 + 0.85 * w / maxW);
        grad.addColorStop(0, "rgba(0,0,0," + a + ")");
        grad.addColorStop(1, "rgba(0,0,0,0)");
        ctx.fillStyle = grad;
        ctx.fillRect(x - radius, y - radius, 2 * radius, 2 * radius);
      }
      var img = ctx.getImageData(0, 0, size.x, size.y), d = img.data, pal = this._palette();
      for (i = 3; i < d.length; i += 4) {
        var al = d[i];
        if (!al) continue;
        var o = al * 4;
        d[i - 3] = pal[o]; d[i - 2] = pal[o + 1]; d[i - 1] = pal[o + 2];
        d[i] = Math.min(255, al * 1.4);
      }
      ctx.putImageData(img, 0, 0);
    }
  });

  // ----------------------------------------------------------------- init
  function init(map, groups, dataId, control) {
    var t0 = performance.now();
    var data = JSON.parse(document.getElementById(dataId).textContent);
    var mm = window.minemap = {
      map: map, data: data, fields: [], releases: [], items: [], incidents: [],
      districts: [], rows: [], positions: [], ready: false,
      mgrs: mgrs, geodesic: { distance: vincenty, pathLength: pathLength, area: polygonArea }
    };
    // Undefined unless the caller set one: every vector layer then shares the
    // map's canvas (preferCanvas), so clicks reach whichever is on top.
    var renderer = map.options.renderer;
    // Without a tile layer Leaflet knows no maximum zoom, which the marker
    // cluster needs (offline maps have no basemap).
    if (map.options.maxZoom === undefined) map.options.maxZoom = 22;
    if (!map.getPane("mmHeat")) {
      var hp = map.createPane("mmHeat");
      hp.style.zIndex = 450;
      hp.style.pointerEvents = "none";
    }
    if (data.title) document.title = data.title;

    var fd = data.fields, nF = fd.n, i;
    var fieldLayers = new Array(nF);
    var currentStatus = new Array(nF), statusNow = new Array(nF), pctNow = new Array(nF);
    var review = new Array(nF);

    function isReview(k) {
      var flags = val(fd, "flags", k) || "";
      if ((";" + flags + ";").indexOf(";self_intersecting;") >= 0) return true;
      var r = val(fd, "misclosure_ratio", k);
      return typeof r === "number" && r < data.review_ratio;
    }

    function densityClass(k, status, pct) {
      if (status === "released") return 0;
      var area = val(fd, "area_ha", k), rem = val(fd, "remaining_est", k) || 0;
      if (pct !== null && pct !== undefined) {
        var tot = val(fd, "mines_total", k) || 0;
        rem = Math.max(rem, tot * (1 - pct / 100));
      }
      if (!area || area <= 0) return rem > 0 ? 4 : 0;
      var dens = rem / area, br = data.density_breaks;
      var c = 0;
      while (c < br.length && dens > br[c]) c++;
      return c;
    }

    function polyLatLngs(geom) {
      var out = [];
      for (var p = 0; p < geom.length; p++) {
        var rings = [];
        for (var r = 0; r < geom[p].length; r++) rings.push(ringLatLngs(geom[p][r]));
        out.push(rings);
      }
      return out.length === 1 ? out[0] : out;
    }

    function geomRings(geom) {
      var out = [];
      for (var p = 0; p < geom.length; p++) {
        var rings = [];
        for (var r = 0; r < geom[p].length; r++) rings.push(ringLonLat(geom[p][r]));
        out.push(rings);
      }
      return out;
    }

    // The display geometry; null where the field is drawn with its export
    // geometry (embedded once, under "orig").
    function shownGeom(k) { return fd.geom[k] === null ? fd.orig[k] : fd.geom[k]; }

    // Minefields: one layer each by status; a field moves between the three
    // groups as the timeline changes its status.
    var reviewGroup = groups.review ? L.layerGroup() : null;
    for (i = 0; i < nF; i++) {
      var st = val(fd, "status", i);
      review[i] = isReview(i);
      statusNow[i] = st;
      pctNow[i] = null;
      var lyr = L.polygon(polyLatLngs(shownGeom(i)),
        L.extend({ renderer: renderer }, fieldStyle(st, densityClass(i, st, null), review[i])));
      lyr._mm = { kind: "fields", i: i };
      fieldLayers[i] = lyr;
      currentStatus[i] = st;
      groups["fields_" + st].addLayer(lyr);
      mm.fields.push({ record_id: val(fd, "record_id", i), handover: val(fd, "handover", i), layer: lyr });
      if (reviewGroup && review[i]) {
        var rl = L.polygon(polyLatLngs(shownGeom(i)), {
          renderer: renderer, color: REVIEW_COLOUR, weight: 3, dashArray: "6 4", fill: false,
          interactive: true
        });
        rl._mm = { kind: "fields", i: i };
        reviewGroup.addLayer(rl);
      }
    }
    if (reviewGroup) groups.review.addLayer(reviewGroup);

    // --------------------------------------------------- popups, tooltips
    var shared = { popup: L.popup({ maxWidth: 380 }), tooltip: L.tooltip({ sticky: true }) };
    var asOfLabel = null; // set by the timeline when not at the current state
    var timelineFields = {}; // fields with timeline rows: their state changes with the slider

    function fieldContent(k, brief) {
      var p = function (n) { return val(fd, n, k); };
      var status = statusNow[k], pct = pctNow[k];
      var statusText = STATUS_LABEL[status] || status;
      if (asOfLabel) statusText += " (as of " + asOfLabel + ")";
      if (brief) {
        return table(fmt(p("record_id")), [
          ["Handover", p("handover")], ["District", p("district")], ["Status", statusText],
          ["Remaining (est.)", fmt(p("remaining_est"), 1)]
        ]);
      }
      var rev = p("revision");
      var crs = p("source_crs");
      return table(fmt(p("record_id")), [
        ["Handover", fmt(p("handover")) + (rev !== null && rev !== undefined ? " (revision " + rev + ")" : "")],
        ["District", p("district")],
        ["AP mines", fmt(p("mines_ap"))], ["AT mines", fmt(p("mines_at"))],
        ["Mines (total)", fmt(p("mines_total"))],
        ["Mine types", p("mine_types")],
        ["Laid", p("laid_date")],
        ["Area", unit(p("area_ha"), 2, " ha")],
        ["Released", asOfLabel && pct !== null ? unit(pct, 1, " % (as of " + asOfLabel + ")") :
          unit(p("released_pct"), 1, " %")],
        ["Cleared", unit(p("cleared_pct"), 1, " %")],
        ["Found", fmt(p("found_mines"), 1)],
        ["Remaining (est.)", fmt(p("remaining_est"), 1)],
        ["Status", statusText],
        ["Last release", p("last_release_date")],
        ["Flags", p("flags")],
        ["Misclosure", p("misclosure_ratio") ? "1:" + fmt(p("misclosure_ratio"), 0) +
          " (" + fmt(p("misclosure_m"), 2) + " m)" : ""],
        ["Reliability", p("reliability")],
        ["Source file", p("source_file")],
        ["Source CRS", crs],
        ["Transformation", p("transformation")]
      ]);
    }

    function genericContent(kind, k, brief) {
      var d = data[kind];
      var p = function (n) { return val(d, n, k); };
      if (kind === "releases") {
        var rows = [["Outcome", p("outcome")], ["Date", (p("date_start") && p("date_start") !== p("date_end") ?
          fmt(p("date_start")) + " – " : "") + fmt(p("date_end"))]];
        if (!brief) {
          rows = rows.concat([["Operator", p("operator")], ["Method", p("method")],
            ["District", p("district")], ["Area", unit(p("area_ha"), 2, " ha")],
            ["Found AP", fmt(p("found_ap"))], ["Found AT", fmt(p("found_at"))],
            ["Found UXO", fmt(p("found_uxo"))], ["Source file", p("source_file")]]);
        }
        return table("Report " + fmt(p("report_id")), rows);
      }
      if (kind === "items") {
        return table(fmt(p("item_type")) + " " + fmt(p("item_id")), [["Date", p("date")],
          ["Model", p("model")], ["Report", p("report_id")], ["District", p("district")],
          ["Source file", brief ? "" : p("source_file")]]);
      }
      if (kind === "incidents") {
        var civ = p("civilian");
        return table("Incident " + fmt(p("incident_id")), [["Date", p("date")],
          ["Killed", fmt(p("killed"))], ["Injured", fmt(p("injured"))],
          ["Civilian", civ === null ? "" : (civ ? "yes" : "no")], ["District", p("district")],
          ["Source file", brief ? "" : p("source_file")]]);
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

    function content(kind, k, brief) {
      return kind === "fields" ? fieldContent(k, brief) : genericContent(kind, k, brief);
    }

    function anchor(layer, latlng) {
      if (latlng) return latlng;
      if (layer.getLatLng) return layer.getLatLng();
      return layer.getBounds().getCenter();
    }

    mm.openPopup = function (kind, k) {
      var layer = layerOf(kind, k);
      shared.popup.setLatLng(anchor(layer)).setContent(content(kind, k, false)).openOn(map);
      return shared.popup.getElement();
    };
    mm.openTooltip = function (kind, k) {
      var layer = layerOf(kind, k);
      shared.tooltip.setLatLng(anchor(layer)).setContent(content(kind, k, true));
      map.openTooltip(shared.tooltip);
      return shared.tooltip.getElement();
    };

    function bindShared(group) {
      group.on("click", function (e) {
        var m = e.layer && e.layer._mm;
        if (!m) return;
        shared.popup.setLatLng(e.latlng || anchor(e.layer)).setContent(content(m.kind, m.i, false)).openOn(map);
      });
      group.on("mouseover", function (e) {
        var m = e.layer && e.layer._mm;
        if (!m) return;
        shared.tooltip.setLatLng(e.latlng || anchor(e.layer)).setContent(content(m.kind, m.i, true));
        map.openTooltip(shared.tooltip);
      });
      group.on("mouseout", function () { map.closeTooltip(shared.tooltip); });
      group.on("mousemove", function (e) { if (e.latlng) shared.tooltip.setLatLng(e.latlng); });
    }

    ["fields_not_started", "fields_in_progress", "fields_released", "review"].forEach(function (g) {
      if (groups[g]) bindShared(groups[g]);
    });

    var layerIndex = { fields: fieldLayers };
    function layerOf(kind, k) { return layerIndex[kind][k]; }

    // ------------------------------------------------------------ releases
    if (data.releases && data.releases.n) {
      var rd = data.releases, rl2 = new Array(rd.n);
      var relStyle = {};
      for (i = 0; i < rd.n; i++) {
        var oc = val(rd, "outcome", i);
        if (!relStyle[oc]) {
          // Outline only: Leaflet still hit-tests the inside of an unfilled
          // polygon, so popups open anywhere in the release.
          relStyle[oc] = { color: OUTCOME_COLOUR[oc] || "#666", weight: 1.5, fill: false,
            opacity: 0.95, dashArray: OUTCOME_DASH[oc] || null };
        }
        var ly = L.polygon(polyLatLngs(rd.geom[i]), L.extend({ renderer: renderer }, relStyle[oc]));
        ly._mm = { kind: "releases", i: i };
        rl2[i] = ly;
        var g2 = groups["releases_" + oc];
        if (g2) g2.addLayer(ly);
        mm.releases.push({ report_id: val(rd, "report_id", i), layer: ly });
      }
      layerIndex.releases = rl2;
      ["releases_cleared", "releases_reduced", "releases_cancelled"].forEach(function (g) {
        if (groups[g]) bindShared(groups[g]);
      });
    }

    // --------------------------------------------------------------- items
    if (data.items && data.items.n && groups.items) {
      var idt = data.items, cluster = L.markerClusterGroup({ chunkedLoading: true, maxClusterRadius: 50 });
      var il = new Array(idt.n), icons = {};
      var markers = [];
      for (i = 0; i < idt.n; i++) {
        var ty = val(idt, "item_type", i) || "";
        var key = ["AP", "AT", "UXO"].indexOf(ty) >= 0 ? ty : "UXO";
        if (!icons[key]) {
          var html = el("div", "mm-item mm-item-" + key);
          html.appendChild(el("span", null, key === "UXO" ? "U" : key));
          icons[key] = L.divIcon({ html: html.outerHTML, className: "", iconSize: [18, 18] });
        }
        var mk = L.marker([idt.xy[2 * i + 1] / 1e6, idt.xy[2 * i] / 1e6], { icon: icons[key], keyboard: false });
        mk._mm = { kind: "items", i: i };
        il[i] = mk;
        markers.push(mk);
        mm.items.push({ item_id: val(idt, "item_id", i), layer: mk });
      }
      cluster.addLayers(markers);
      groups.items.addLayer(cluster);
      layerIndex.items = il;
      bindShared(cluster);
    }

    function pointLayer(kind, style) {
      var d = data[kind];
      if (!d || !d.n || !groups[kind]) return;
      var arr = new Array(d.n);
      for (var k = 0; k < d.n; k++) {
        var c = L.circleMarker([d.xy[2 * k + 1] / 1e6, d.xy[2 * k] / 1e6], L.extend({ renderer: renderer }, style));
        c._mm = { kind: kind, i: k };
        arr[k] = c;
        groups[kind].addLayer(c);
        mm[kind].push({ layer: c });
      }
      layerIndex[kind] = arr;
      bindShared(groups[kind]);
    }
    pointLayer("incidents", { radius: 6, color: "#000", weight: 2, fillColor: "#ffff33", fillOpacity: 0.9 });
    pointLayer("positions", { radius: 3, color: "#67001f", weight: 1, fillColor: "#d6604d", fillOpacity: 0.9 });

    // --------------------------------------------------------------- rows
    if (data.rows && data.rows.n && groups.rows) {
      var rw = data.rows, arr2 = new Array(rw.n);
      for (i = 0; i < rw.n; i++) {
        var lines = rw.geom[i].map(ringLatLngs);
        var pl = L.polyline(lines.length === 1 ? lines[0] : lines,
          { renderer: renderer, color: "#67001f", weight: 2, dashArray: "2 4" });
        pl._mm = { kind: "rows", i: i };
        arr2[i] = pl;
        groups.rows.addLayer(pl);
        mm.rows.push({ record_id: val(rw, "record_id", i), layer: pl });
      }
      layerIndex.rows = arr2;
      bindShared(groups.rows);
    }

    // ----------------------------------------------------------- districts
    if (data.districts && data.districts.n) {
      var dd = data.districts, arr3 = new Array(dd.n), arr4 = new Array(dd.n);
      var br = dd.breaks, pal = CHORO_PALETTE;
      for (i = 0; i < dd.n; i++) {
        var ll = polyLatLngs(dd.geom[i]);
        var outline = L.polygon(ll, { renderer: renderer, color: "#333", weight: 2, fill: false, interactive: false });
        if (groups.districts) {
          groups.districts.addLayer(outline);
          var lab = L.tooltip({ permanent: true, direction: "center", className: "mm-district-label", interactive: false })
            .setLatLng(outline.getBounds().getCenter());
          lab.setContent(el("span", null, val(dd, "district", i)));
          groups.districts.addLayer(lab);
        }
        arr3[i] = outline;
        if (groups.choropleth) {
          var rem = dd.remaining[i], c = 0;
          while (c < br.length && rem > br[c]) c++;
          var cp = L.polygon(ll, { renderer: renderer, color: "#51658a", weight: 1, fillColor: pal[c], fillOpacity: 0.4 });
          cp._mm = { kind: "districts", i: i };
          groups.choropleth.addLayer(cp);
          arr4[i] = cp;
        }
        mm.districts.push({ district: val(dd, "district", i), layer: outline });
      }
      layerIndex.districts = groups.choropleth ? arr4 : arr3;
      if (groups.choropleth) bindShared(groups.choropleth);
    }

    // Canvas draws in insertion order; keep districts and releases beneath
    // the fields whenever a layer is switched back on.
    function restack() {
      if (groups.releases_cancelled) groups.releases_cancelled.eachLayer(function (l) { if (l.bringToBack) l.bringToBack(); });
      if (groups.releases_reduced) groups.releases_reduced.eachLayer(function (l) { if (l.bringToBack) l.bringToBack(); });
      if (groups.releases_cleared) groups.releases_cleared.eachLayer(function (l) { if (l.bringToBack) l.bringToBack(); });
      if (groups.choropleth) groups.choropleth.eachLayer(function (l) { if (l.bringToBack) l.bringToBack(); });
    }
    map.on("overlayadd", function (e) {
      if (e.layer === groups.choropleth || /^releases_/.test(e.layer._mmGroup || "")) restack();
    });
    Object.keys(groups).forEach(function (k) { groups[k]._mmGroup = k; });

    // ---------------------------------------------------------------- heat
    if (groups.heat) {
      var pts = [];
      for (i = 0; i < nF; i++) {
        var remE = val(fd, "remaining_est", i);
        if (!remE || remE <= 0) continue;
        var c2 = fd.centroid;
        pts.push([c2[2 * i + 1] / 1e6, c2[2 * i] / 1e6, remE]);
      }
      groups.heat.addLayer(new HeatLayer(pts, { radius: 25, pane: "mmHeat" }));
    }

    // -------------------------------------------------------------- legend
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
        L.DomEvent.on(toggle, "click", function () { mm.legend.collapse(!panel.classList.contains("mm-collapsed")); });
        mm.legend = {
          element: panel,
          collapse: function (yes) {
            panel.classList.toggle("mm-collapsed", !!yes);
            toggle.setAttribute("aria-expanded", yes ? "false" : "true");
          }
        };
        box.appendChild(el("h4", null, "Recorded minefields"));
        data.statuses.forEach(function (s) {
          var r = el("div", "mm-row"), sw = el("span", "mm-swatch");
          sw.style.background = STATUS_COLOUR[s]; sw.style.borderColor = STATUS_COLOUR[s];
          r.appendChild(sw); r.appendChild(el("span", null, STATUS_LABEL[s]));
          box.appendChild(r);
        });
        box.appendChild(el("h4", null, "Remaining density (mines/ha)"));
        var br = data.density_breaks;
        for (var c = 0; c < DENSITY_OPACITY.length; c++) {
          var r2 = el("div", "mm-row"), sw2 = el("span", "mm-swatch");
          sw2.style.background = "rgba(215,25,28," + DENSITY_OPACITY[c] + ")";
          var lab = c === 0 ? "0 (or released)" : c === DENSITY_OPACITY.length - 1 ? "> " + br[c - 1] :
            br[c - 1] + " – " + br[c];
          r2.appendChild(sw2); r2.appendChild(el("span", null, lab));
          box.appendChild(r2);
        }
        var r3 = el("div", "mm-row");
        r3.appendChild(el("span", "mm-swatch mm-review"));
        r3.appendChild(el("span", null, "For review: self-intersecting or misclosure worse than 1:" + data.review_ratio));
        box.appendChild(r3);
        if (data.releases && data.releases.n) {
          box.appendChild(el("h4", null, "Land release"));
          ["cleared", "reduced", "cancelled"].forEach(function (o) {
            var r4 = el("div", "mm-row"), sw4 = el("span", "mm-swatch");
            sw4.style.background = "transparent"; sw4.style.borderColor = OUTCOME_COLOUR[o];
            sw4.style.borderStyle = OUTCOME_DASH[o] ? (o === "cancelled" ? "dotted" : "dashed") : "solid";
            r4.appendChild(sw4); r4.appendChild(el("span", null, OUTCOME_LABEL[o]));
            box.appendChild(r4);
          });
        }
        if (data.items && data.items.n) {
          box.appendChild(el("h4", null, "Found items"));
          [["AP", "AP mine"], ["AT", "AT mine"], ["UXO", "UXO"]].forEach(function (t) {
            var r5 = el("div", "mm-row"), ic = el("div", "mm-item mm-item-" + t[0]);
            ic.appendChild(el("span", null, t[0] === "UXO" ? "U" : t[0]));
            r5.appendChild(ic); r5.appendChild(el("span", null, t[1]));
            box.appendChild(r5);
          });
        }
        if (data.districts && data.districts.n && groups.choropleth) {
          box.appendChild(el("h4", null, "District remaining mines (choropleth layer)"));
          var pal = CHORO_PALETTE, db = data.districts.breaks;
          for (var k = 0; k <= db.length; k++) {
            var r6 = el("div", "mm-row"), sw6 = el("span", "mm-swatch");
            sw6.style.background = pal[k];
            var lb = k === 0 ? "≤ " + fmt(db[0], 0) : k === db.length ? "> " + fmt(db[k - 1], 0) :
              fmt(db[k - 1], 0) + " – " + fmt(db[k], 0);
            r6.appendChild(sw6); r6.appendChild(el("span", null, lb));
            box.appendChild(r6);
          }
        }
        return panel;
      }
    });
    new Legend().addTo(map);

    var Title = L.Control.extend({
      options: { position: "topright" },
      onAdd: function () { return el("div", "mm-panel mm-title", data.title); }
    });
    if (data.title) new Title().addTo(map);

    // ------------------------------------------------------- mouse position
    var Mouse = L.Control.extend({
      options: { position: "bottomleft" },
      onAdd: function (m) {
        var box = el("div", "mm-panel mm-mouse", "lat, lon | MGRS");
        m.on("mousemove", function (e) {
          var la = e.latlng.lat, lo = e.latlng.lng;
          var g = mgrs(la, lo);
          box.textContent = la.toFixed(6) + ", " + lo.toFixed(6) + (g ? "  |  " + g : "");
        });
        return box;
      }
    });
    new Mouse().addTo(map);

    // ----------------------------------------------------------- fullscreen
    var Full = L.Control.extend({
      options: { position: "topleft" },
      onAdd: function (m) {
        var bar = el("div", "leaflet-bar");
        var b = el("button", "mm-btn", "Full screen");
        b.title = "Full screen";
        L.DomEvent.on(b, "click", function (e) {
          L.DomEvent.stop(e);
          var c = m.getContainer();
          if (document.fullscreenElement) document.exitFullscreen();
          else if (c.requestFullscreen) c.requestFullscreen();
        });
        document.addEventListener("fullscreenchange", function () { m.invalidateSize(); });
        bar.appendChild(b);
        return bar;
      }
    });
    new Full().addTo(map);

    // --------------------------------------------------------------- measure
    var measure = { active: false, pts: [], line: null, poly: null };
    var Measure = L.Control.extend({
      options: { position: "topleft" },
      onAdd: function (m) {
        var box = el("div", "leaflet-bar mm-panel");
        var b = el("button", "mm-btn", "Measure");
        var out = el("div", "mm-measure-out", "");
        b.title = "Measure geodesic distance and area: click points; click the button again to stop";
        box.appendChild(b); box.appendChild(out);
        L.DomEvent.disableClickPropagation(box);
        function update() {
          if (!measure.pts.length) { out.textContent = ""; return; }
          var d = pathLength(measure.pts);
          var txt = "Distance: " + (d >= 1000 ? (d / 1000).toFixed(3) + " km" : d.toFixed(1) + " m");
          if (measure.pts.length >= 3) {
            var a = polygonArea(measure.pts);
            txt += " | Area: " + (a / 10000).toFixed(4) + " ha";
          }
          out.textContent = txt;
          if (!measure.line) measure.line = L.polyline([], { color: "#000", weight: 2, dashArray: "4 4", interactive: false }).addTo(m);
          measure.line.setLatLngs(measure.pts);
        }
        L.DomEvent.on(b, "click", function () {
          measure.active = !measure.active;
          b.classList.toggle("mm-active", measure.active);
          if (measure.active) {
            measure.pts = [];
            if (measure.line) { m.removeLayer(measure.line); measure.line = null; }
            out.textContent = "Click points on the map";
          }
        });
        m.on("click", function (e) {
          if (!measure.active) return;
          measure.pts.push(e.latlng);
          update();
        });
        mm.measure = { add: function (ll) { measure.pts.push(L.latLng(ll)); update(); return out.textContent; } };
        return box;
      }
    });
    new Measure().addTo(map);

    // ----------------------------------------------------- draw and export
    var draw = { active: false, pts: [], shape: null };
    // Selection and export use the export geometry ("orig"), never the
    // display geometry: the file holds each field as `minemap export` would.
    function intersectingFields(latlngs) {
      var ring = latlngs.map(function (p) { p = L.latLng(p); return [p.lng, p.lat]; });
      var sel = [ring], bb = L.latLngBounds(latlngs), out = [];
      for (var k = 0; k < nF; k++) {
        // The display geometry contains the export geometry (or is it), so
        // its bounds are a safe first filter.
        if (!fieldLayers[k].getBounds().intersects(bb)) continue;
        if (ringsIntersect(sel, ringsOf(geomRings(fd.orig[k])))) out.push(k);
      }
      return out;
    }
    // Crossref columns the timeline does not know as of a past date.
    var NOT_IN_TIMELINE = ["released_ha", "cleared_ha", "cleared_pct", "found_mines",
      "remaining_est", "last_release_date"];
    function featureCollection(idx) {
      var past = asOfLabel !== null;
      var feats = idx.map(function (k) {
        var polys = geomRings(fd.orig[k]).map(function (rings) {
          return rings.map(function (r, j) { return closeRing(r, j === 0); });
        });
        var props = propsOf(fd, k);
        if (past && timelineFields[k]) {
          props.status = statusNow[k];
          props.released_pct = pctNow[k];
          NOT_IN_TIMELINE.forEach(function (c) { if (c in props) props[c] = null; });
        }
        return {
          type: "Feature",
          properties: props,
          geometry: polys.length === 0 ? null : polys.length === 1 ?
            { type: "Polygon", coordinates: polys[0] } : { type: "MultiPolygon", coordinates: polys }
        };
      });
      // Foreign members (RFC 7946 section 6.1) saying which state this is.
      var fc = { type: "FeatureCollection", minemap_state: past ? "as of " + asOfLabel : "current" };
      fc.minemap_note = past ?
        "Timeline position " + asOfLabel + ": for fields with releases in the map's timeline, " +
        "status and released_pct are as of that date and " + NOT_IN_TIMELINE.join(", ") +
        " are null (not known as of that date); other properties are the map's current state. " +
        "Properties as `minemap export` writes them, without raw; geometry is the full recorded geometry." :
        "Properties as `minemap export` writes them, without raw; geometry is the full recorded geometry.";
      fc.features = feats;
      return fc;
    }
    mm.exportIntersecting = function (latlngs, filename) {
      var fc = featureCollection(intersectingFields(latlngs));
      download(JSON.stringify(fc), filename || "minefields-selection.geojson", "application/geo+json");
      return fc;
    };
    var Draw = L.Control.extend({
      options: { position: "topleft" },
      onAdd: function (m) {
        var box = el("div", "leaflet-bar mm-panel");
        var b = el("button", "mm-btn", "Draw area");
        var x = el("button", "mm-btn", "Export fields");
        var info = el("div", null, "");
        b.title = "Draw a polygon: click vertices, double-click or press the button again to finish";
        x.title = "Download the minefields intersecting the polygon as GeoJSON";
        x.disabled = true;
        box.appendChild(b); box.appendChild(x); box.appendChild(info);
        L.DomEvent.disableClickPropagation(box);
        function finish() {
          draw.active = false;
          b.classList.remove("mm-active");
          m.doubleClickZoom.enable();
          if (draw.pts.length >= 3) {
            if (draw.shape) m.removeLayer(draw.shape);
            draw.shape = L.polygon(draw.pts, { color: "#000", weight: 2, fillOpacity: 0.05, interactive: false }).addTo(m);
            x.disabled = false;
            info.textContent = intersectingFields(draw.pts).length + " fields";
          } else {
            info.textContent = "need 3 points";
          }
        }
        L.DomEvent.on(b, "click", function () {
          if (draw.active) { finish(); return; }
          draw.active = true; draw.pts = [];
          b.classList.add("mm-active");
          m.doubleClickZoom.disable();
          x.disabled = true;
          info.textContent = "click vertices";
          if (draw.shape) { m.removeLayer(draw.shape); draw.shape = null; }
        });
        L.DomEvent.on(x, "click", function () { if (draw.shape) mm.exportIntersecting(draw.pts); });
        m.on("click", function (e) {
          if (!draw.active) return;
          draw.pts.push(e.latlng);
          if (draw.shape) m.removeLayer(draw.shape);
          draw.shape = L.polyline(draw.pts, { color: "#000", weight: 2, interactive: false }).addTo(m);
        });
        m.on("dblclick", function () { if (draw.active) finish(); });
        mm.draw = { setPolygon: function (pts) { draw.active = true; draw.pts = pts.map(function (p) { return L.latLng(p); }); finish(); },
          exportButton: x };
        return box;
      }
    });
    new Draw().addTo(map);

    // ------------------------------------------------------------- timeline
    var tl = data.timeline;
    if (tl && tl.f && tl.f.length) {
      var dayMs = 86400000, start = Date.parse(tl.start + "T00:00:00Z"), endDay = tl.end_day;
      var steps = Math.ceil(endDay / 7); // last step is the latest date: the current state
      var events = {};
      for (i = 0; i < tl.f.length; i++) {
        (events[tl.f[i]] = events[tl.f[i]] || []).push(i);
      }
      var evFields = Object.keys(events).map(Number);
      evFields.forEach(function (k) { timelineFields[k] = true; });
      var dayOf = function (k) { return Math.min(7 * k, endDay); };
      var iso = function (day) { return new Date(start + day * dayMs).toISOString().slice(0, 10); };
      var setStatus = function (k, s, pct) {
        var old = currentStatus[k];
        statusNow[k] = s; pctNow[k] = pct;
        if (old !== s) {
          groups["fields_" + old].removeLayer(fieldLayers[k]);
          groups["fields_" + s].addLayer(fieldLayers[k]);
          currentStatus[k] = s;
        }
        fieldLayers[k].setStyle(fieldStyle(s, densityClass(k, s, pct), review[k]));
      };
      var label = el("span", null, "");
      mm.timeline = {
        steps: steps,
        dateOf: function (k) { return iso(dayOf(k)); },
        statusOf: function (k) { return statusNow[k]; },
        set: function (k) {
          k = Math.max(0, Math.min(steps, Math.round(k)));
          var day = dayOf(k), atEnd = k === steps;
          asOfLabel = atEnd ? null : iso(day);
          for (var q = 0; q < evFields.length; q++) {
            var fk = evFields[q];
            if (atEnd) { setStatus(fk, val(fd, "status", fk), null); continue; }
            var evs = events[fk], s = "not_started", pct = 0;
            // A field is not_started until its first timeline row.
            for (var z = 0; z < evs.length; z++) {
              if (tl.d[evs[z]] <= day) { s = data.statuses[tl.s[evs[z]]]; pct = tl.p[evs[z]]; }
            }
            setStatus(fk, s, pct);
          }
          label.textContent = (atEnd ? "Current state: " : "As of ") + iso(day);
          slider.value = String(k);
          return iso(day);
        }
      };
      var slider = el("input");
      slider.type = "range"; slider.min = "0"; slider.max = String(steps); slider.step = "1";
      slider.value = String(steps);
      slider.setAttribute("aria-label", "Timeline week");
      slider.addEventListener("input", function () { mm.timeline.set(Number(slider.value)); });
      var Timeline = L.Control.extend({
        options: { position: "bottomleft" },
        onAdd: function () {
          var box = el("div", "mm-panel mm-timeline");
          L.DomEvent.disableClickPropagation(box);
          box.appendChild(el("span", null, "Week"));
          box.appendChild(slider);
          box.appendChild(label);
          return box;
        }
      });
      new Timeline().addTo(map);
      label.textContent = "Current state: " + iso(endDay);
    }

    if (data.bounds) {
      map.fitBounds([[data.bounds[1], data.bounds[0]], [data.bounds[3], data.bounds[2]]]);
    }
    // On a small screen the legend (bottom right) would cover the lower part
    // of the layer control (top right, added after this runs): collapse it
    // then; its button opens it again.
    function fitLegend() {
      var lc = map.getContainer().querySelector(".leaflet-control-layers");
      if (!lc || !mm.legend) return;
      var leg = mm.legend.element;
      if (leg.classList.contains("mm-collapsed")) return;
      if (leg.getBoundingClientRect().top < lc.getBoundingClientRect().bottom + 8) mm.legend.collapse(true);
    }
    mm.buildMs = performance.now() - t0;
    requestAnimationFrame(function () { fitLegend(); mm.ready = true; });
    map.on("resize", fitLegend);
  }

  window.minemapInit = init;
})();
