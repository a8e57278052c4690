"""The rendered map in headless Chromium (Playwright): offline loading, popups,
XSS, timeline, draw-and-export, MGRS and geodesic measure.

Skipped when /usr/bin/chromium is missing.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import mgrs as mgrs_py
import pytest
import shapely
from geographiclib.geodesic import Geodesic
from pyproj import Geod, Transformer

from minemap.render.page import render_map, save_map

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs /usr/bin/chromium")

XSS = ["<img src=x onerror=window.__xss=1>", "<svg onload=window.__xss=1>",
       "</script><script>window.__xss=1</script>"]


def _fixture(**kw):
    # The same builder as the string-level tests, kept in one place; loaded
    # by path because tests/ is not a package.
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "_minemap_test_render", Path(__file__).with_name("test_render.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.build_fixture(**kw)


@pytest.fixture(scope="module")
def browser():
    sync = pytest.importorskip("playwright.sync_api")
    with sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Page:
    """A page with every non-file: request aborted and errors collected."""

    def __init__(self, browser, path: Path) -> None:
        self.ctx = browser.new_context(accept_downloads=True)
        self.page = self.ctx.new_page()
        self.errors: list[str] = []
        self.blocked: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

        def route(r):
            url = r.request.url
            if url.startswith(("file:", "blob:", "data:")):
                r.continue_()
            else:
                self.blocked.append(url)
                r.abort()

        self.page.route("**/*", route)
        self.page.goto(path.as_uri())
        self.page.wait_for_function("window.minemap && window.minemap.ready", timeout=30_000)

    def js(self, expr: str, arg=None):
        return self.page.evaluate(expr, arg)

    def close(self) -> None:
        self.ctx.close()


def _save(tmp_path, name="map.html", **kw) -> Path:
    fx = kw.pop("fx", None) or _fixture()
    m = render_map(**fx, offline=True, **kw)
    out = tmp_path / name
    save_map(m, out)
    return out


def test_offline_loads_every_field(browser, tmp_path):
    fx = _fixture()
    pg = Page(browser, _save(tmp_path, fx=fx))
    try:
        assert pg.errors == []
        assert pg.blocked == []
        fields = pg.js("minemap.fields.map(f => [f.record_id, f.handover, minemap.map.hasLayer(f.layer),"
                       " f.layer instanceof L.Polygon])")
        assert [f[0] for f in fields] == list(fx["minefields"]["record_id"])
        assert all(f[2] and f[3] for f in fields)
        # Layer control: one entry per layer, labels as text.
        labels = pg.js("Array.from(document.querySelectorAll('.leaflet-control-layers label'))"
                       ".map(l => l.textContent.trim())")
        assert "Minefields: not started (2)" in labels
        assert "Land release: cancelled (1)" in labels
        assert "Remaining mine density (heat)" in labels
        # Items are clustered; every item is a marker in the cluster group.
        assert pg.js("minemap.items.length") == 3
        assert pg.js("minemap.items.every(i => i.layer.__parent !== undefined)")
        # The heat layer (Leaflet.heat) draws something when switched on.
        pg.js("""() => { const inputs = Array.from(document.querySelectorAll('.leaflet-control-layers label'));
                 inputs.find(l => l.textContent.includes('heat')).querySelector('input').click(); }""")
        painted = pg.js("""() => { const c = document.querySelector('canvas.leaflet-heatmap-layer');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; }""")
        assert painted > 0
        assert pg.errors == []
    finally:
        pg.close()


def test_popup_shows_values_as_text(browser, tmp_path):
    pg = Page(browser, _save(tmp_path))
    try:
        text = pg.js("minemap.openPopup('fields', 1).innerText")
        for expected in ("AGD-2", "aghdam-2021-06-12 (revision 3)", "Aghdam", "20", "50 %",
                         "In progress", "rec1.yaml", "EPSG:28408", "Inverse of Pulkovo 1942 to WGS 84 (16)",
                         "2022-03-01"):
            assert expected in text, expected
        rel = pg.js("minemap.openPopup('releases', 1).innerText")
        for expected in ("Report R2", "reduced", "HALO", "mechanical", "2022-02-01 – 2022-04-01"):
            assert expected in rel, expected
    finally:
        pg.close()


def test_xss_payloads_stay_text(browser, tmp_path):
    ids = [XSS[0], XSS[1], XSS[2], "{{ 7*7 }}", "ok"]
    fx = _fixture(record_ids=ids, districts=[XSS[0], XSS[1], XSS[2], XSS[0], XSS[1]],
                  mine_types=[XSS[1]] * 5, handovers=[XSS[2]] * 5)
    fx["items"]["model"] = XSS[0]
    fx["releases"]["operator"] = XSS[1]
    fx["incidents"]["incident_id"] = XSS[2]
    path = _save(tmp_path, fx=fx, title=XSS[0])
    pg = Page(browser, path)
    try:
        assert pg.errors == []
        texts = pg.js("""() => {
            const out = [];
            for (const kind of ['fields', 'releases', 'items', 'incidents', 'rows', 'positions', 'districts']) {
              const n = (minemap[kind] || []).length;
              for (let i = 0; i < n; i++) {
                out.push(minemap.openPopup(kind, i).innerText);
                out.push(minemap.openTooltip(kind, i).innerText);
              }
            }
            return out; }""")
        pg.page.wait_for_timeout(200)
        assert pg.js("typeof window.__xss") == "undefined"
        joined = "\n".join(texts)
        for payload in XSS + ["{{ 7*7 }}"]:
            assert payload in joined, payload
        # No element was created from a payload anywhere in the document.
        assert pg.js("document.querySelectorAll('.leaflet-popup img, .leaflet-tooltip img, svg[onload]').length") == 0
        assert pg.js("document.title") == XSS[0]
        # The visible district labels show the payload as text too.
        labels = pg.js("Array.from(document.querySelectorAll('.mm-district-label')).map(e => e.textContent)")
        assert XSS[0] in labels
    finally:
        pg.close()


def test_timeline_changes_status(browser, tmp_path):
    pg = Page(browser, _save(tmp_path))
    try:
        steps = pg.js("minemap.timeline.steps")
        # Fixture: 2022-02-01 .. 2022-05-01 is 89 days -> 13 weekly steps (0..13).
        assert steps == 13
        # Field AGD-3 (index 2) is released now.
        assert pg.js("minemap.timeline.statusOf(2)") == "released"
        slider = pg.page.locator(".mm-timeline input[type=range]")
        assert slider.input_value() == "13"
        slider.fill("0")  # 2022-02-01: AGD-3 in progress (first row), AGD-2 not started
        assert pg.js("minemap.timeline.statusOf(2)") == "in_progress"
        assert pg.js("minemap.timeline.statusOf(1)") == "not_started"
        assert pg.js("minemap.timeline.dateOf(0)") == "2022-02-01"
        assert pg.js("minemap.map.hasLayer(minemap.fields[2].layer)")
        assert "As of 2022-02-01" in pg.page.locator(".mm-timeline").inner_text()
        text = pg.js("minemap.openPopup('fields', 2).innerText")
        assert "In progress (as of 2022-02-01)" in text and "40 % (as of 2022-02-01)" in text
        slider.fill("4")  # 2022-03-01: AGD-2 in progress
        assert pg.js("minemap.timeline.statusOf(1)") == "in_progress"
        # The not-started layer, switched off, hides a field only while it is not started.
        slider.fill("0")
        pg.js("minemap.map.eachLayer(l => { if (l.hasLayer && l.hasLayer(minemap.fields[1].layer)) minemap.map.removeLayer(l); })")
        assert not pg.js("minemap.map.hasLayer(minemap.fields[1].layer)")
        slider.fill("13")
        assert pg.js("minemap.timeline.statusOf(2)") == "released"
        assert pg.js("minemap.timeline.statusOf(1)") == "in_progress"
        assert pg.js("minemap.map.hasLayer(minemap.fields[1].layer)")
        # A field without timeline rows keeps its status throughout.
        slider.fill("0")
        assert pg.js("minemap.timeline.statusOf(3)") == "in_progress"
        assert pg.errors == []
    finally:
        pg.close()


def _export_polygon(pg, poly):
    pg.js("(p) => minemap.draw.setPolygon(p)", poly)
    with pg.page.expect_download() as dl:
        pg.page.locator("button", has_text="Export fields").click()
    assert dl.value.suggested_filename.endswith(".geojson")
    return json.loads(Path(dl.value.path()).read_text())


def test_draw_and_export(browser, tmp_path):
    from minemap.export import to_geojson_dict

    fx = _fixture()
    mf = fx["minefields"].copy()
    # A 360-vertex field, so that the display geometry (simplified, outward)
    # differs from the recorded one; and a non-round area.
    az = list(range(360))
    lons, lats, _ = Geod(ellps="WGS84").fwd([46.915] * 360, [39.9735] * 360, az, [90.0] * 360)
    mf.loc[1, "geometry"] = shapely.Polygon(list(zip(lons, lats)))
    mf.loc[1, "area_ha"] = 2.5446900494
    fx["minefields"] = mf
    pg = Page(browser, _save(tmp_path, fx=fx))
    try:
        # A polygon over fields 2 and 3 (lon 46.91 .. 46.925), crossing their edges.
        poly = [[39.969, 46.9115], [39.969, 46.9215], [39.980, 46.9215], [39.980, 46.9115]]
        fc = _export_polygon(pg, poly)
        assert fc["type"] == "FeatureCollection" and "crs" not in fc
        assert fc["minemap_state"] == "current"
        ids = [f["properties"]["record_id"] for f in fc["features"]]
        # Expected from the fixture geometry, computed here with shapely.
        sel = shapely.Polygon([(lon, lat) for lat, lon in poly])
        expected = [r for r, g in zip(mf["record_id"], mf.geometry) if g.intersects(sel)]
        assert ids == expected == ["AGD-2", "AGD-3"]
        # Properties: those of `minemap export` (to_geojson_dict) on the same
        # frame, without raw; values equal.
        ref = {f["properties"]["record_id"]: f["properties"] for f in to_geojson_dict(mf)["features"]}
        for f in fc["features"]:
            want = {k: v for k, v in ref[f["properties"]["record_id"]].items() if k != "raw"}
            assert list(f["properties"]) == list(want)
            assert f["properties"] == want
        props = fc["features"][0]["properties"]
        assert props["mines_ap"] == 20 and props["revision"] == 3 and props["status"] == "in_progress"
        assert props["area_ha"] == 2.5446900494
        for f, g in zip(fc["features"], [mf.geometry[1], mf.geometry[2]]):
            shape = shapely.geometry.shape(f["geometry"])
            # RFC 7946 winding: exteriors counter-clockwise, holes clockwise; rings closed.
            for part in shapely.get_parts(shape):
                assert part.exterior.is_ccw
                assert all(not r.is_ccw for r in part.interiors)
                assert part.exterior.coords[0] == part.exterior.coords[-1]
            # The full recorded geometry, not the display one: the same
            # vertices within 1e-6 degrees.
            assert shapely.get_num_coordinates(shape) == shapely.get_num_coordinates(g)
            assert shapely.hausdorff_distance(shape, g) <= 1e-6
        # The display geometry of the circle field is a different, simplified one.
        shown = pg.js("minemap.fields[1].layer.getLatLngs()[0].length")
        assert shown < 359
        assert fc["features"][0]["geometry"]["type"] == "Polygon"
        assert fc["features"][1]["geometry"]["type"] == "MultiPolygon"

        # At a past timeline position the export says so and carries that state.
        pg.js("minemap.timeline.set(0)")  # 2022-02-01: AGD-2 not started, AGD-3 in progress (40 %)
        past = _export_polygon(pg, poly)
        assert past["minemap_state"] == "as of 2022-02-01"
        p2, p3 = (f["properties"] for f in past["features"])
        assert (p2["status"], p2["released_pct"]) == ("not_started", 0)
        assert (p3["status"], p3["released_pct"]) == ("in_progress", 40)
        assert p3["remaining_est"] is None and p3["last_release_date"] is None
        assert p3["mines_ap"] == 30 and list(p3) == list(props)
        assert pg.errors == []
    finally:
        pg.close()


def _open(browser, path, width, height):
    ctx = browser.new_context(viewport={"width": width, "height": height})
    page = ctx.new_page()
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:", "blob:"))
               else r.abort())
    page.goto(path.as_uri())
    page.wait_for_function("window.minemap && window.minemap.ready", timeout=30_000)
    return ctx, page


def _area(page, selector):
    bb = page.locator(selector).bounding_box()
    return bb["width"] * bb["height"]


@pytest.mark.parametrize("size", [(900, 700), (1280, 720)])
def test_layer_control_collapsed_on_small_screens(browser, tmp_path, size):
    path = _save(tmp_path)
    ctx, page = _open(browser, path, *size)
    try:
        control = ".leaflet-control-layers"
        # Collapsed: a button, far from a quarter of the screen.
        assert "leaflet-control-layers-expanded" not in page.locator(control).get_attribute("class")
        assert _area(page, control) < 0.02 * size[0] * size[1]
        assert not page.locator(".leaflet-control-layers input[type=checkbox]").first.is_visible()
        # Hovering opens it; then every checkbox it shows is on screen and
        # nothing (the legend) covers it.
        page.locator(control).hover()
        page.wait_for_timeout(100)
        boxes = page.locator(".leaflet-control-layers input[type=checkbox]")
        n = boxes.count()
        assert n >= 12
        for k in (0, n - 1):
            box = boxes.nth(k)
            box.scroll_into_view_if_needed()
            assert box.is_visible()
            bb = box.bounding_box()
            cx, cy = bb["x"] + bb["width"] / 2, bb["y"] + bb["height"] / 2
            assert 0 <= cx <= size[0] and 0 <= cy <= size[1]
            assert page.evaluate("([x, y, k]) => document.elementFromPoint(x, y) === "
                                 "document.querySelectorAll('.leaflet-control-layers input[type=checkbox]')[k]",
                                 [cx, cy, k])
        # The legend collapsed to make room and opens with its button.
        toggle = page.locator(".mm-legend-toggle")
        assert toggle.get_attribute("aria-expanded") == "false"
        toggle.click()
        assert page.locator(".mm-legend-body").is_visible()
        # The choropleth is in the layer control but off.
        labels = page.locator(".leaflet-control-layers label")
        cho = [labels.nth(i) for i in range(labels.count())
               if "choropleth" in labels.nth(i).inner_text()]
        assert len(cho) == 1 and not cho[0].locator("input").is_checked()
        assert page.evaluate("minemap.map.hasLayer(minemap.fields[0].layer)")
    finally:
        ctx.close()


def test_layer_control_open_on_large_screens(browser, tmp_path):
    ctx, page = _open(browser, _save(tmp_path), 1920, 1080)
    try:
        control = ".leaflet-control-layers"
        assert "leaflet-control-layers-expanded" in page.locator(control).get_attribute("class")
        assert page.locator(".leaflet-control-layers input[type=checkbox]").first.is_visible()
        assert _area(page, control) < 0.25 * 1920 * 1080
    finally:
        ctx.close()


def test_mgrs_matches_python_package(browser, tmp_path):
    pg = Page(browser, _save(tmp_path))
    try:
        rng = random.Random(7)
        pts = [(rng.uniform(38.85, 40.55), rng.uniform(45.55, 47.55)) for _ in range(300)]
        pts += [(rng.uniform(-79.5, 83.5), rng.uniform(-179.9, 179.9)) for _ in range(300)]
        pts += [(60.5, 5.5), (78.0, 15.0), (-33.9, 18.4), (0.0001, 0.0001), (-0.0001, -0.0001)]
        got = pg.js("(pts) => pts.map(p => minemap.mgrs(p[0], p[1]))", pts)
        m = mgrs_py.MGRS()
        want = [m.toMGRS(lat, lon, MGRSPrecision=5) for lat, lon in pts]
        mismatches = [(p, g, w) for p, g, w in zip(pts, got, want) if g != w]
        # The package's UTM differs from an exact one by fractions of a
        # millimetre, so a point within 1 mm of a metre line may truncate to
        # the neighbouring metre.  Every such case must be one where the JS
        # digit is the exact (pyproj) truncation, and the grid square agree.
        assert len(mismatches) <= 3
        for (lat, lon), g, w in mismatches:
            assert g[:5] == w[:5]
            zone = int(g[:2])
            east, north = Transformer.from_crs(
                "EPSG:4326", f"EPSG:{(32600 if lat >= 0 else 32700) + zone}", always_xy=True
            ).transform(lon, lat)
            assert g[5:10] == f"{int(math.floor(east)) % 100000:05d}"
            assert g[10:] == f"{int(math.floor(north)) % 100000:05d}"
            assert min(east % 1, 1 - east % 1, north % 1, 1 - north % 1) < 1e-3
    finally:
        pg.close()


def test_measure_is_geodesic(browser, tmp_path):
    pg = Page(browser, _save(tmp_path))
    try:
        g = Geodesic.WGS84
        rng = random.Random(3)
        for _ in range(20):
            lat1, lon1 = rng.uniform(38.9, 40.5), rng.uniform(45.6, 47.5)
            lat2, lon2 = rng.uniform(38.9, 40.5), rng.uniform(45.6, 47.5)
            d = pg.js("(a) => minemap.geodesic.distance(a[0], a[1], a[2], a[3])", [lat1, lon1, lat2, lon2])
            assert d == pytest.approx(g.Inverse(lat1, lon1, lat2, lon2)["s12"], abs=1e-3)
        for size in (50.0, 2_000.0, 30_000.0):
            lat0, lon0 = 39.98, 46.93
            ring = []
            for k in range(7):
                az = k * 360 / 7 + rng.uniform(-10, 10)
                r = g.Direct(lat0, lon0, az, size * rng.uniform(0.5, 1.0))
                ring.append([r["lat2"], r["lon2"]])
            area = pg.js("(r) => minemap.geodesic.area(r.map(p => L.latLng(p[0], p[1])))", ring)
            poly = g.Polygon()
            for lat, lon in ring:
                poly.AddPoint(lat, lon)
            ref = abs(poly.Compute()[2])
            assert area == pytest.approx(ref, rel=1e-4)
        # The measure control reports distance and area from clicked points.
        text = pg.js("""() => { minemap.measure.add([39.98, 46.93]); minemap.measure.add([39.99, 46.93]);
                          return minemap.measure.add([39.99, 46.94]); }""")
        d_ref = (g.Inverse(39.98, 46.93, 39.99, 46.93)["s12"] + g.Inverse(39.99, 46.93, 39.99, 46.94)["s12"])
        assert f"Distance: {d_ref / 1000:.3f} km" in text
        poly = g.Polygon()
        for lat, lon in ((39.98, 46.93), (39.99, 46.93), (39.99, 46.94)):
            poly.AddPoint(lat, lon)
        assert f"Area: {abs(poly.Compute()[2]) / 1e4:.4f} ha" in text
        assert math.isfinite(d_ref)
    finally:
        pg.close()


def _render_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "_minemap_test_render", Path(__file__).with_name("test_render.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_timeline_filters_releases_items_incidents(browser, tmp_path):
    import pandas as pd

    fx = _fixture()
    pg = Page(browser, _save(tmp_path, fx=fx))
    try:
        tl = pg.js("minemap.timeline")
        assert tl is not None
        rel_end = pd.to_datetime(fx["releases"]["date_end"])
        item_day = pd.to_datetime(fx["items"]["date"])
        inc_day = pd.to_datetime(fx["incidents"]["date"])
        for step in (0, 4, 8, 13):
            when = pd.Timestamp(pg.js(f"minemap.timeline.set({step})"))
            for kind, dates in (("releases", rel_end), ("items", item_day), ("incidents", inc_day)):
                shown = pg.js(f"(n) => Array.from({{length: n}}, (_, i) => minemap.timeline.shown('{kind}', i))",
                              len(dates))
                # The last step is the current state: everything is shown.
                want = [True] * len(dates) if step == 13 else list(dates <= when)
                assert shown == want, (step, kind)
        # At 2022-02-01 (step 0) no release and no item, but the January incident.
        pg.js("minemap.timeline.set(0)")
        assert not pg.js("minemap.map.hasLayer(minemap.releases[0].layer)")
        assert pg.js("minemap.map.hasLayer(minemap.incidents[0].layer)")
        pg.js("minemap.timeline.set(13)")
        assert pg.js("minemap.map.hasLayer(minemap.releases[0].layer)")
        assert pg.errors == []
    finally:
        pg.close()


def _rgb(hex_colour: str) -> str:
    h = hex_colour.lstrip("#")
    return "rgb(" + ", ".join(str(int(h[i:i + 2], 16)) for i in (0, 2, 4)) + ")"


def test_legend_lists_every_symbol_and_clusters_are_neutral(browser, tmp_path):
    from minemap import styles

    rm = _render_module()
    fx = {**_fixture(), **rm.extra_layers()}
    pg = Page(browser, _save(tmp_path, fx=fx))
    try:
        keys = [k for k, _ in pg.js("minemap.legend.entries()")]
        want = (["status:not_started", "status:in_progress", "status:released"]
                + [f"density:{c}" for c in range(5)]
                + ["review", "remaining", "shifted", "suspects",
                   "outcome:cleared", "outcome:reduced", "outcome:cancelled",
                   "item:AP", "item:AT", "item:UXO", "cluster:0", "cluster:1", "cluster:2",
                   "incident", "row", "position", "district"]
                + [f"choropleth:{q}" for q in range(len(pg.js("minemap.data.districts.breaks")) + 1)]
                + ["heat"])
        assert keys == want
        # Cluster swatches and the map's cluster bubbles use styles.CLUSTER,
        # never a status colour.
        sw = pg.js("""Array.from(document.querySelectorAll('[data-mm-legend^="cluster:"] .mm-cluster'))
                      .map(e => getComputedStyle(e).backgroundColor)""")
        assert sw == [_rgb(c) for c in styles.CLUSTER]
        pg.js("minemap.map.setView([39.9701, 46.9101], 10)")
        pg.page.wait_for_timeout(400)
        bubbles = pg.js("""Array.from(document.querySelectorAll('.leaflet-marker-pane .mm-cluster'))
                           .map(e => getComputedStyle(e).backgroundColor)""")
        assert bubbles and set(bubbles) <= {_rgb(c) for c in styles.CLUSTER}
        assert not set(bubbles) & {_rgb(c) for c in styles.STATUS.values()}
        # The new layers' popups are text.
        for kind in ("remaining", "suspects", "shifted"):
            assert pg.js(f"minemap.{kind}.length") == len(fx[kind])
        assert "Suspected hazard area ok" in pg.js("minemap.openPopup('suspects', 0).innerText")
        assert "812.5" in pg.js("minemap.openPopup('suspects', 0).innerText")
        assert pg.js("minemap.fields[0].layer.options.color") == styles.STATUS["not_started"]
        assert pg.errors == []
    finally:
        pg.close()


def test_extra_layers_xss_stays_text(browser, tmp_path):
    rm = _render_module()
    fx = {**_fixture(), **rm.extra_layers(XSS[0])}
    fx["shifted"]["record_id"] = XSS[2]
    pg = Page(browser, _save(tmp_path, fx=fx))
    try:
        text = "\n".join(pg.js(f"minemap.openPopup('{k}', 0).innerText")
                         for k in ("remaining", "suspects", "shifted"))
        pg.page.wait_for_timeout(100)
        assert XSS[0] in text and XSS[2] in text
        assert pg.js("typeof window.__xss") == "undefined"
        assert pg.js("document.querySelectorAll('.leaflet-popup img').length") == 0
        assert pg.errors == []
    finally:
        pg.close()


@pytest.mark.parametrize("kind", ["folder", "mbtiles"])
def test_offline_basemap_tiles_drawn_without_network(browser, tmp_path, kind):
    rm = _render_module()
    tiles = rm.tile_set(zooms=(11, 12, 13))
    value = (rm.mbtiles_file(tmp_path / "t.mbtiles", tiles) if kind == "mbtiles"
             else rm.tile_folder(tmp_path / "tiles", tiles))
    pg = Page(browser, _save(tmp_path, basemap=value))
    try:
        pg.page.wait_for_timeout(300)
        imgs = pg.js("""Array.from(document.querySelectorAll('.leaflet-tile-pane img.leaflet-tile'))
                        .filter(i => i.src.startsWith('data:image/png')).map(i => i.naturalWidth)""")
        assert imgs and all(w == 256 for w in imgs)
        assert "Basemap: " in pg.page.locator(".leaflet-control-attribution").inner_text()
        assert pg.blocked == [] and pg.errors == []
        # No tile request left the page: every tile is a data URI.
        assert pg.js("Array.from(document.querySelectorAll('.leaflet-tile-pane img'))"
                     ".every(i => i.src.startsWith('data:'))")
    finally:
        pg.close()


def test_no_basemap_in_attribution(browser, tmp_path):
    pg = Page(browser, _save(tmp_path))
    try:
        assert "No basemap" in pg.page.locator(".leaflet-control-attribution").inner_text()
        assert pg.blocked == []
    finally:
        pg.close()


def test_draw_toolbar_rectangle_exports_intersecting_fields(browser, tmp_path):
    fx = _fixture()
    pg = Page(browser, _save(tmp_path, fx=fx))
    try:
        page = pg.page
        box = page.locator(".leaflet-container").bounding_box()
        # A map still settling (its first fit, a zoom animation) moves under
        # the drag: wait until it is still.
        page.wait_for_function("""() => { const m = minemap.map;
            return !m._animatingZoom && !(m._panAnim && m._panAnim._inProgress); }""")
        # A rectangle dragged with Leaflet.draw's own tool, from inside a field
        # in the middle: under load Chromium may deliver only the first moves
        # of a drag (Leaflet.draw then closes the rectangle short of the end),
        # and a rectangle that starts in a field meets it however short it is.
        mid = fx["minefields"].geometry.iloc[len(fx["minefields"]) // 2].representative_point()
        a, b = pg.js("""(ll) => { const m = minemap.map, s = m.getSize();
            const p = m.latLngToContainerPoint([ll[1], ll[0]]);
            return [[p.x, p.y], [p.x + s.x * 0.22, p.y + s.y * 0.13]]; }""", [mid.x, mid.y])
        page.locator(".leaflet-draw-draw-rectangle").click()
        # The tool is armed when Leaflet.draw shows its tooltip; a drag
        # started before that pans the map instead (a flaky 0 fields).
        page.locator(".leaflet-draw-tooltip").first.wait_for(state="attached")
        page.mouse.move(box["x"] + a[0], box["y"] + a[1])
        page.wait_for_timeout(50)
        page.mouse.down()
        page.mouse.move(box["x"] + b[0], box["y"] + b[1], steps=5)
        page.mouse.up()
        page.wait_for_function("""() => !document.querySelector('.mm-draw-info')
            .innerText.startsWith('Draw')""")
        # The rectangle Leaflet.draw made (the selection's input); which
        # fields it meets is computed here, by shapely.
        west, south, east, north = pg.js("""() => { let r = null;
            minemap.map.eachLayer(l => { if (l instanceof L.Rectangle) r = l; });
            const b = r.getBounds();
            return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; }""")
        sel = shapely.box(west, south, east, north)
        want = [r for r, g in zip(fx["minefields"]["record_id"], fx["minefields"].geometry)
                if g.intersects(sel)]
        assert want  # the rectangle does cover fields
        assert page.locator(".mm-draw-info").inner_text() == f"{len(want)} fields"
        with page.expect_download() as dl:
            page.locator("button", has_text="Export fields").click()
        fc = json.loads(Path(dl.value.path()).read_text())
        assert [f["properties"]["record_id"] for f in fc["features"]] == want
        assert pg.errors == []
    finally:
        pg.close()


def test_mouse_position_and_fullscreen_controls(browser, tmp_path):
    pg = Page(browser, _save(tmp_path))
    try:
        page = pg.page
        box = page.locator(".leaflet-container").bounding_box()
        x, y = 417, 263
        page.mouse.move(box["x"] + x, box["y"] + y)
        text = page.locator(".leaflet-control-mouseposition").inner_text()
        lat, lon = pg.js("(p) => { const ll = minemap.map.containerPointToLatLng(p);"
                         " return [ll.lat, ll.lng]; }", [x, y])
        assert text.startswith(f"{lat:.6f}, {lon:.6f}")
        got = text.split("|")[1].strip()
        east, north = Transformer.from_crs("EPSG:4326", "EPSG:32638", always_xy=True).transform(lon, lat)
        want = mgrs_py.MGRS().toMGRS(lat, lon, MGRSPrecision=5)
        assert got[:5] == want[:5] == "38SPK"
        assert abs(int(got[5:10]) - int(east) % 100000) <= 1 and abs(int(got[10:]) - int(north) % 100000) <= 1
        assert page.locator(".leaflet-control-zoom-fullscreen").get_attribute("title") == "Full screen"
        assert pg.errors == []
    finally:
        pg.close()


def test_online_page_runs_the_pinned_files(browser, tmp_path):
    """The online page, with jsDelivr answered by the local copies: the integrity
    hashes match (a mismatch would block the script) and the map builds."""
    from minemap.render.plugins import PLUGINS

    urls = {a.url: a.path for p in PLUGINS for a in p.default_css + p.default_js}
    fx = _fixture()
    m = render_map(**fx, basemap="none")
    out = tmp_path / "online.html"
    save_map(m, out)
    ctx = browser.new_context()
    page = ctx.new_page()
    errors, served, other = [], [], []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    # Files a stylesheet refers to (icons) are served from beside the local copy.
    folders = {u.rsplit("/", 1)[0] + "/": p.parent for u, p in urls.items()}

    def local(url):
        if url in urls:
            return urls[url]
        for prefix, folder in folders.items():
            if url.startswith(prefix) and (folder / url[len(prefix):]).is_file():
                return folder / url[len(prefix):]
        return None

    def route(r):
        url = r.request.url
        path = local(url)
        if path is not None:
            served.append(url)
            mime = {".css": "text/css", ".js": "application/javascript", ".png": "image/png",
                    ".svg": "image/svg+xml"}[path.suffix]
            r.fulfill(status=200, body=path.read_bytes(), content_type=mime,
                      headers={"Access-Control-Allow-Origin": "*"})
        elif url.startswith(("file:", "data:", "blob:")):
            r.continue_()
        else:
            other.append(url)
            r.abort()

    page.route("**/*", route)
    try:
        page.goto(out.as_uri())
        page.wait_for_function("window.minemap && window.minemap.ready", timeout=30_000)
        assert set(urls) <= set(served)
        assert other == []
        assert errors == []
        assert page.evaluate("minemap.fields.length") == len(fx["minefields"])
        assert page.evaluate("typeof L.Control.Draw + typeof L.heatLayer + typeof mgrs.forward") == \
            "function" * 3
    finally:
        ctx.close()
