"""String-level and geometry tests of minemap.render (the interactive map)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import shapely.affinity
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from pyproj import Geod, Transformer

from minemap import settings
from minemap._errors import DataError, UsageError
from minemap.render.page import (
    display_geometry,
    embed_json,
    remote_references,
    render_map,
    save_map,
)

GEOD = Geod(ellps="WGS84")
PAYLOAD_IMG = "<img src=x onerror=window.__xss=1>"
PAYLOAD_SVG = "<svg onload=window.__xss=1>"
PAYLOAD_SCRIPT = "</script><script>window.__xss=1</script>"


def square(lon: float, lat: float, side_m: float) -> shapely.Polygon:
    """A square of about side_m metres with its south-west corner at lon, lat."""
    dlat = side_m / 111_000.0
    dlon = side_m / (111_000.0 * math.cos(math.radians(lat)))
    return shapely.box(lon, lat, lon + dlon, lat + dlat)


def build_fixture(record_ids: list[str] | None = None, districts: list[str] | None = None,
                  mine_types: list[str] | None = None, handovers: list[str] | None = None) -> dict:
    """Small frames of every layer, around Aghdam (made in code)."""
    ids = record_ids or ["AGD-1", "AGD-2", "AGD-3", "AGD-4", "AGD-5"]
    n = len(ids)
    dist = districts or ["Aghdam"] * n
    types = mine_types or ["PMN-2;TM-62M"] * n
    hand = handovers or ["aghdam-2021-06-12"] * n
    geoms = [square(46.90 + 0.01 * k, 39.97, 300.0) for k in range(n)]
    # One field with a hole and one multipolygon.
    geoms[1] = geoms[1].difference(square(46.9105, 39.9705, 50.0))
    geoms[2] = shapely.MultiPolygon([geoms[2], square(46.925, 39.976, 80.0)])
    statuses = ["not_started", "in_progress", "released", "in_progress", "not_started"]
    statuses = (statuses * (n // len(statuses) + 1))[:n]
    mf = gpd.GeoDataFrame({
        "record_id": ids,
        "handover": hand,
        "district": dist,
        "mines_ap": [10 * (k + 1) for k in range(n)],
        "mines_at": [k for k in range(n)],
        "mines_total": [11 * k + 10 for k in range(n)],
        "mine_types": types,
        "laid_date": ["1993-08-20"] * n,
        "reliability": ["medium"] * n,
        "area_ha": [9.0] * n,
        "flags": ["self_intersecting" if k == 3 else "" for k in range(n)],
        "source_file": [f"rec{k}.yaml" for k in range(n)],
        "source_crs": ["EPSG:28408"] * n,
        "transformation": ["Inverse of Pulkovo 1942 to WGS 84 (16)"] * n,
        "raw": ["{}"] * n,
        "misclosure_m": [0.5] * n,
        "misclosure_ratio": [400.0 if k == 4 else 5000.0 for k in range(n)],
        "declination_deg": [float("nan")] * n,
        "released_ha": [0.0, 4.5, 9.0, 2.0, 0.0][:n] + [0.0] * max(0, n - 5),
        "released_pct": [0.0, 50.0, 100.0, 22.2, 0.0][:n] + [0.0] * max(0, n - 5),
        "cleared_ha": [0.0] * n,
        "cleared_pct": [0.0] * n,
        "found_mines": [0.0] * n,
        "remaining_est": [0.0 if s == "released" else 50.0 for s in statuses],
        "status": statuses,
        "last_release_date": ["", "2022-03-01", "2022-05-01", "2022-04-01", ""][:n] + [""] * max(0, n - 5),
        "revision": [3] * n,
    }, geometry=geoms, crs="EPSG:4326")
    rel = gpd.GeoDataFrame({
        "report_id": ["R1", "R2", "R3"], "date_start": ["2022-02-01"] * 3,
        "date_end": ["2022-03-01", "2022-04-01", "2022-05-01"], "operator": ["ANAMA", "HALO", "ANAMA"],
        "method": ["manual", "mechanical", "MDD"], "outcome": ["cleared", "reduced", "cancelled"],
        "district": ["Aghdam"] * 3, "found_ap": [1.0, float("nan"), 0.0], "found_at": [0.0] * 3,
        "found_uxo": [0.0] * 3, "area_ha": [4.5, 2.0, 9.0], "source_file": ["rel.gpkg"] * 3,
    }, geometry=[square(46.91, 39.97, 150.0), square(46.93, 39.97, 100.0), square(46.92, 39.97, 300.0)],
        crs="EPSG:4326")
    items = gpd.GeoDataFrame({
        "item_id": ["I1", "I2", "I3"], "item_type": ["AP", "AT", "UXO"],
        "date": ["2022-03-01"] * 3, "model": types[:1] * 3, "report_id": ["R1", "R1", ""],
        "district": ["Aghdam"] * 3, "source_file": ["items.csv"] * 3,
    }, geometry=shapely.points([[46.9101, 39.9701], [46.9102, 39.9702], [46.95, 39.99]]), crs="EPSG:4326")
    rows = gpd.GeoDataFrame({
        "record_id": [ids[0]], "handover": [hand[0]], "row": [1], "mines": [40],
        "mine_type": [types[0]], "spacing_m": [2.5],
    }, geometry=[shapely.LineString([(46.9001, 39.9701), (46.9020, 39.9701)])], crs="EPSG:4326")
    pos = gpd.GeoDataFrame({"record_id": [ids[0]] * 2, "row": [1, 1], "n": [1, 2],
                            "mine_type": [types[0]] * 2},
                           geometry=shapely.points([[46.9001, 39.9701], [46.90013, 39.9701]]),
                           crs="EPSG:4326")
    inc = gpd.GeoDataFrame({"incident_id": ["INC1"], "date": ["2022-01-05"], "killed": [1],
                            "injured": [2], "civilian": [True], "district": [dist[0]],
                            "source_file": ["inc.csv"]},
                           geometry=shapely.points([[46.96, 39.98]]), crs="EPSG:4326")
    dists = gpd.GeoDataFrame({"district": [dist[0], "Fuzuli"], "source_file": ["d.gpkg"] * 2},
                             geometry=[shapely.box(46.8, 39.9, 47.1, 40.1), shapely.box(47.1, 39.5, 47.3, 39.7)],
                             crs="EPSG:4326")
    tl = pd.DataFrame({
        "handover": [hand[1], hand[2], hand[2]],
        "record_id": [ids[1], ids[2], ids[2]],
        "date": ["2022-03-01", "2022-02-01", "2022-05-01"],
        "status": ["in_progress", "in_progress", "released"],
        "released_pct": [50.0, 40.0, 100.0],
    })
    return {"minefields": mf, "releases": rel, "items": items, "rows": rows, "mine_positions": pos,
            "incidents": inc, "districts": dists, "timeline": tl}


def render_html(tmp_path, **kw) -> tuple[str, list[str]]:
    fx = build_fixture()
    args = {**fx, **kw}
    m = render_map(**args)
    out = tmp_path / "map.html"
    warnings = save_map(m, out)
    return out.read_text(encoding="utf-8"), warnings


def data_block(page: str) -> dict:
    m = re.search(r'<script type="application/json" id="minemap-data-[^"]+">(.*?)</script>', page, re.S)
    assert m, "no data block"
    return json.loads(m.group(1))


def decode_column(spec: dict) -> list:
    if "i" in spec:
        return [None if k < 0 else spec["d"][k] for k in spec["i"]]
    return spec["v"]


def decode_ring(flat: list[int]) -> np.ndarray:
    return np.cumsum(np.asarray(flat, dtype=np.int64).reshape(-1, 2), axis=0) / 1e6


# ---------------------------------------------------------------- strings

def test_layers_legend_and_attribution(tmp_path):
    page, warnings = render_html(tmp_path, offline=True)
    assert warnings == []
    for label in ("Minefields: not started (2)", "Minefields: in progress (2)",
                  "Minefields: released (1)", "Land release: cleared (1)",
                  "Land release: reduced (1)", "Land release: cancelled (1)",
                  "Found items (3)", "Incidents (1)", "Mine rows", "Estimated mine positions",
                  "Districts: outlines and labels", "Districts: remaining mines (choropleth)",
                  "Remaining mine density (heat)", "Minefields for review"):
        assert label in page, label
    # The legend is built by the inlined script (text only).
    for legend in ("Recorded minefields", "Remaining density (mines/ha)", "Land release",
                   "Found items", "For review: self-intersecting"):
        assert legend in page
    assert "L.control.layers" in page and "L.control.scale" in page
    assert "BSD-2-Clause" in page and "Leaflet.markercluster 1.4.1 (MIT)" in page
    assert 't.version="1.9.3"' in page  # Leaflet itself is inlined


def test_offline_has_no_network_reference(tmp_path):
    page, _ = render_html(tmp_path, offline=True)
    assert remote_references(page) == []
    srcs = re.findall(r"<script[^>]*\bsrc\s*=\s*['\"]?([^'\" >]+)", page, re.I)
    hrefs = re.findall(r"<link[^>]*\bhref\s*=\s*['\"]?([^'\" >]+)", page, re.I)
    assert [u for u in srcs + hrefs if re.match(r"(https?:)?//", u)] == []
    assert "sourceMappingURL" not in page
    assert "tile.openstreetmap.org" not in page and "World_Imagery" not in page


def test_online_has_osm_and_imagery(tmp_path):
    page, _ = render_html(tmp_path)
    assert "tile.openstreetmap.org" in page
    assert "World_Imagery" in page


def test_offline_refuses_online_basemap():
    with pytest.raises(UsageError, match="offline"):
        render_map(build_fixture()["minefields"], offline=True, basemap="osm")
    with pytest.raises(UsageError, match="offline"):
        render_map(build_fixture()["minefields"], offline=True,
                   basemap="https://example.org/{z}/{x}/{y}.png")


# --------------------------------------------------------------- basemaps

def slippy(lon: float, lat: float, z: int) -> tuple[int, int]:
    """Tile of a point, by the OpenStreetMap wiki's formula (not the code under test)."""
    n = 2 ** z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return x, y


def png(colour: tuple[int, int, int], size: int = 256) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(buf, format="PNG")
    return buf.getvalue()


def covering(bounds, z: int) -> set[tuple[int, int, int]]:
    (x0, y1), (x1, y0) = slippy(bounds[0], bounds[1], z), slippy(bounds[2], bounds[3], z)
    return {(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)}


#: The fixture's fields lie within this box (lon/lat); tiles are made around it.
AREA = (46.85, 39.92, 47.00, 40.02)


def tile_set(zooms=(9, 10, 11, 12), pad: int = 1) -> dict[tuple[int, int, int], bytes]:
    """Tiles covering AREA with a margin of ``pad`` tiles, each a distinct colour."""
    out = {}
    for z in zooms:
        (x0, y1), (x1, y0) = slippy(AREA[0], AREA[1], z), slippy(AREA[2], AREA[3], z)
        for x in range(x0 - pad, x1 + pad + 1):
            for y in range(y0 - pad, y1 + pad + 1):
                out[(z, x, y)] = png(((x * 37) % 256, (y * 53) % 256, z * 20))
    return out


def tile_folder(root, tiles) -> str:
    for (z, x, y), data in tiles.items():
        f = root / str(z) / str(x) / f"{y}.png"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(data)
    return str(root)


def mbtiles_file(path, tiles, fmt: str = "png") -> str:
    import sqlite3

    con = sqlite3.connect(path)
    con.execute("CREATE TABLE metadata (name text, value text)")
    con.execute("CREATE TABLE tiles (zoom_level integer, tile_column integer, tile_row integer, "
                "tile_data blob)")
    con.executemany("INSERT INTO metadata VALUES (?, ?)", [("name", "test tiles"), ("format", fmt)])
    # MBTiles rows count from the south (TMS).
    con.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)",
                    [(z, x, 2 ** z - 1 - y, data) for (z, x, y), data in tiles.items()])
    con.commit()
    con.close()
    return str(path)


def decode_tiles(tiles: dict) -> dict[tuple[int, int, int], bytes]:
    import base64

    out = {}
    for key, uri in tiles.items():
        assert uri.startswith("data:image/png;base64,")
        out[tuple(int(v) for v in key.split("/"))] = base64.b64decode(uri.split(",", 1)[1])
    return out


def test_basemap_missing_or_invalid_is_usage_error(tmp_path):
    mf = build_fixture()["minefields"]
    for value, msg in ((tmp_path / "nope", "no such file or folder"),
                       (tmp_path / "nope.mbtiles", "no such file"),
                       (str(tmp_path / "nope") + "/{z}/{x}/{y}.png", "no such file or folder")):
        with pytest.raises(UsageError, match=msg):
            render_map(mf, offline=True, basemap=str(value))
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="no {z}/{x}/{y} tiles"):
        render_map(mf, offline=True, basemap=str(tmp_path / "empty"))
    (tmp_path / "bad.mbtiles").write_text("not sqlite")
    with pytest.raises(UsageError, match="not an MBTiles file"):
        render_map(mf, offline=True, basemap=str(tmp_path / "bad.mbtiles"))
    vec = mbtiles_file(tmp_path / "vec.mbtiles", {(9, 1, 1): b"x"}, fmt="pbf")
    with pytest.raises(UsageError, match="vector tiles"):
        render_map(mf, basemap=vec)


def test_cli_basemap_checked_up_front(cli, tmp_path):
    res = cli("map", "-o", tmp_path / "m.html", "--offline", "--basemap", tmp_path / "nope")
    assert res.exit_code == 2, res.output
    assert "no such file or folder" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "m.html").exists()


@pytest.mark.parametrize("kind", ["folder", "template", "mbtiles"])
def test_offline_basemap_inlines_the_tiles_of_the_extent(tmp_path, kind):
    tiles = tile_set()
    if kind == "mbtiles":
        value = mbtiles_file(tmp_path / "t.mbtiles", tiles)
    else:
        value = tile_folder(tmp_path / "tiles", tiles)
        if kind == "template":
            value += "/{z}/{x}/{y}.png"
    page, warnings = render_html(tmp_path, offline=True, basemap=value)
    assert warnings == []
    assert remote_references(page) == [] and "file://" not in page
    data = data_block(page)
    got = decode_tiles(data["basemap"]["tiles"])
    # Exactly the tiles that cover the map's extent (by the slippy formula),
    # with their bytes; the margin tiles around it are left out.
    want = set().union(*(covering(data["bounds"], z) for z in (9, 10, 11, 12))) & set(tiles)
    assert set(got) == want
    assert all(got[k] == tiles[k] for k in got)
    assert len(want) < len(tiles)
    assert (data["basemap"]["min_zoom"], data["basemap"]["max_zoom"]) == (9, 12)
    assert "Basemap: " in page


def test_basemap_cap_keeps_coarse_zooms_and_warns(tmp_path, monkeypatch):
    tiles = tile_set()
    root = tile_folder(tmp_path / "t", tiles)
    bounds = data_block(render_map(**build_fixture(), offline=True).get_root().render())["bounds"]

    def page_bytes(z):  # a data URI: prefix plus base64 (4 characters per 3 bytes)
        keys = covering(bounds, z) & set(tiles)
        return sum(len("data:image/png;base64,") + 4 * math.ceil(len(tiles[k]) / 3) for k in keys)

    # Room for zooms 9 and 10, not for 11.
    cap = (page_bytes(9) + page_bytes(10) + page_bytes(11) / 2) / 1e6
    monkeypatch.setattr(settings, "basemap_inline_mb", cap)
    page, warnings = render_html(tmp_path, offline=True, basemap=root)
    got = decode_tiles(data_block(page)["basemap"]["tiles"])
    assert {k[0] for k in got} == {9, 10}
    assert data_block(page)["basemap"]["max_zoom"] == 10
    assert len(warnings) == 1
    assert "zoom 11-12 left out" in warnings[0] and f"basemap_inline_mb={cap:g}" in warnings[0]


def test_online_folder_basemap_links_the_folder(tmp_path):
    root = tile_folder(tmp_path / "tiles", tile_set(zooms=(10,)))
    page, _ = render_html(tmp_path, basemap=root)
    assert (tmp_path / "tiles").resolve().as_uri() + "/{z}/{x}/{y}.png" in page
    assert "tiles" not in data_block(page)["basemap"]


def test_no_basemap_says_so(tmp_path):
    page, _ = render_html(tmp_path, offline=True)
    assert "basemap" not in data_block(page)
    assert "No basemap" in page


def test_embedded_json_cannot_end_script(tmp_path):
    fx = build_fixture(record_ids=[PAYLOAD_SCRIPT, PAYLOAD_IMG, PAYLOAD_SVG, "{{ 7*7 }}", "a&b"],
                       districts=[PAYLOAD_IMG] * 5, mine_types=[PAYLOAD_SVG] * 5,
                       handovers=[PAYLOAD_SCRIPT] * 5)
    m = render_map(**fx, offline=True)
    save_map(m, tmp_path / "x.html")
    page = (tmp_path / "x.html").read_text(encoding="utf-8")
    assert "window.__xss=1</script>" not in page
    assert "<img src=x" not in page and "<svg onload" not in page
    assert "\\u003c/script\\u003e\\u003cscript\\u003ewindow.__xss=1" in page
    # Every <script> element closes where it should: openings equal closings.
    assert len(re.findall(r"<script\b", page)) == len(re.findall(r"</script>", page))
    data = data_block(page)
    ids = decode_column(data["fields"]["cols"]["record_id"])
    # Raw values survive, and Jinja never evaluated "{{ 7*7 }}".
    assert ids == [PAYLOAD_SCRIPT, PAYLOAD_IMG, PAYLOAD_SVG, "{{ 7*7 }}", "a&b"]
    assert decode_column(data["fields"]["cols"]["handover"]) == [PAYLOAD_SCRIPT] * 5
    assert "49" not in ids


@given(st.text(max_size=60))
@hsettings(max_examples=150, deadline=None)
def test_embed_json_roundtrip(text):
    out = embed_json({"v": text, "k": [text]})
    assert not set("<>&") & set(out)
    assert "\u2028" not in out and "\u2029" not in out
    assert json.loads(out) == {"v": text, "k": [text]}


def test_properties_roundtrip(tmp_path):
    fx = build_fixture()
    page, _ = render_html(tmp_path, offline=True)
    fields = data_block(page)["fields"]
    mf = fx["minefields"]
    assert fields["n"] == len(mf)
    assert "raw" not in fields["cols"]
    assert decode_column(fields["cols"]["record_id"]) == list(mf["record_id"])
    assert decode_column(fields["cols"]["mines_ap"]) == [10, 20, 30, 40, 50]
    assert decode_column(fields["cols"]["released_pct"]) == [0, 50, 100, 22.2, 0]
    assert decode_column(fields["cols"]["revision"]) == [3] * 5
    assert decode_column(fields["cols"]["declination_deg"]) == [None] * 5
    assert decode_column(fields["cols"]["status"]) == list(mf["status"])


def decode_parts(parts: list) -> shapely.Geometry:
    polys = [shapely.Polygon(decode_ring(p[0]), [decode_ring(h) for h in p[1:]]) for p in parts]
    return shapely.MultiPolygon(polys) if len(polys) > 1 else polys[0]


def shoelace(ring: np.ndarray) -> float:
    """Signed planar area of an open ring (positive counter-clockwise)."""
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def circle_field(lon: float, lat: float, radius_m: float, n: int) -> shapely.Polygon:
    """An n-vertex polygon on a circle, vertices computed on the ellipsoid."""
    az = np.linspace(0.0, 360.0, n, endpoint=False)
    lons, lats, _ = GEOD.fwd(np.full(n, lon), np.full(n, lat), az, np.full(n, radius_m))
    return shapely.Polygon(np.column_stack([lons, lats]))


@pytest.mark.parametrize("tol", [0.0, 1.0])
def test_export_geometry_is_full_and_display_contains_it(tmp_path, tol):
    fx = build_fixture()
    mf = fx["minefields"].copy()
    # A 720-vertex field: the display simplification drops most of its vertices.
    mf.loc[4, "geometry"] = circle_field(46.945, 39.975, 150.0, 720)
    m = render_map(mf, offline=True, display_tolerance_m=tol)
    save_map(m, tmp_path / "m.html")
    fields = data_block((tmp_path / "m.html").read_text(encoding="utf-8"))["fields"]
    for k, geom in enumerate(mf.geometry):
        orig = decode_parts(fields["orig"][k])
        # The export geometry is the record's, vertex for vertex, within 1e-6 degrees.
        assert len(shapely.get_parts(orig)) == len(shapely.get_parts(geom))
        assert shapely.get_num_coordinates(orig) == shapely.get_num_coordinates(geom)
        assert shapely.get_num_interior_rings(shapely.get_parts(orig)).sum() == \
            shapely.get_num_interior_rings(shapely.get_parts(geom)).sum()
        # Every vertex within half a unit of the 6th decimal in each axis.
        assert shapely.hausdorff_distance(orig, geom) <= 0.5e-6 * math.sqrt(2) + 1e-12
        assert abs(shapely.area(orig) - shapely.area(geom)) <= 1e-6 * shapely.length(geom)
        # RFC 7946 orientation: exteriors counter-clockwise, holes clockwise.
        for part in fields["orig"][k]:
            assert shoelace(decode_ring(part[0])) > 0
            assert all(shoelace(decode_ring(h)) < 0 for h in part[1:])
        shown = fields["geom"][k]
        if shown is None:
            # Drawn with the export geometry itself: only allowed when the
            # tolerance covers 6-decimal rounding (< 0.08 m).
            assert tol >= 0.08
            assert k != 4
        else:
            disp = decode_parts(shown)
            assert shapely.contains(disp, shapely.points(shapely.get_coordinates(geom))).all()
    # At 1 m the squares (4 vertices) are drawn with their export geometry,
    # the 720-vertex circle with a simplified outward one of fewer vertices.
    if tol == 1.0:
        assert [g is None for g in fields["geom"]] == [True, True, True, True, False]
        assert len(fields["geom"][4][0][0]) // 2 < 720 // 4
    else:
        assert all(g is not None for g in fields["geom"])
    # Field 2 keeps its hole.
    assert len(fields["orig"][1][0]) == 2


def test_properties_match_export(tmp_path):
    from minemap.export import to_geojson_dict

    fx = build_fixture()
    mf = fx["minefields"]
    mf = mf.assign(area_ha=[9.123456789, 9.0, 1 / 3, 2.5, 7.0])
    save_map(render_map(mf, offline=True), tmp_path / "m.html")
    fields = data_block((tmp_path / "m.html").read_text(encoding="utf-8"))["fields"]
    ref = to_geojson_dict(mf)["features"]
    keys = [k for k in ref[0]["properties"] if k != "raw"]
    assert fields["order"] == keys
    for c in keys:
        assert decode_column(fields["cols"][c]) == [f["properties"][c] for f in ref], c
    # Full precision, not rounded for display.
    assert decode_column(fields["cols"]["area_ha"])[:3] == [9.123456789, 9, 1 / 3]


def test_timeline_encoding(tmp_path):
    page, _ = render_html(tmp_path, offline=True)
    tl = data_block(page)["timeline"]
    assert tl["start"] == "2022-02-01"
    # By hand: 2022-02-01 -> 0, 2022-03-01 -> 28, 2022-05-01 -> 89 days.
    assert tl["end_day"] == 89
    assert list(zip(tl["f"], tl["d"], tl["s"], tl["p"])) == [
        (2, 0, 1, 40), (1, 28, 1, 50), (2, 89, 2, 100)]


def test_choropleth_sums_remaining(tmp_path):
    page, _ = render_html(tmp_path, offline=True)
    d = data_block(page)["districts"]
    # Fixture: four unreleased fields of 50 remaining each in Aghdam.
    assert d["remaining"] == [200.0, 0.0]
    assert d["count"] == [5, 0]


def test_save_refuses_existing(tmp_path):
    m = render_map(build_fixture()["minefields"], offline=True)
    out = tmp_path / "m.html"
    out.write_text("keep")
    with pytest.raises(UsageError, match=re.escape(str(out))):
        save_map(m, out)
    assert out.read_text() == "keep"
    save_map(m, out, overwrite=True)
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_size_budget_warning(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "html_budget_mb", 0.01)
    m = render_map(build_fixture()["minefields"], offline=True)
    warnings = save_map(m, tmp_path / "m.html")
    assert len(warnings) == 1 and "--display-tolerance" in warnings[0]
    for opt in ("--district", "--handover", "--status", "--no-mine-positions"):
        assert opt in warnings[0]
    assert "html_budget_mb=0.01" in warnings[0]


def test_bad_records_name_file_and_record():
    mf = build_fixture()["minefields"]
    bad = mf.copy()
    bad.loc[1, "geometry"] = None
    with pytest.raises(DataError, match=r"rec1\.yaml: record AGD-2: .*no geometry"):
        render_map(bad)
    bad = mf.copy()
    bad.loc[3, "geometry"] = shapely.Point(46.9, 39.9)
    with pytest.raises(DataError, match=r"rec3\.yaml: record AGD-4: minefields: geometry is a Point"):
        render_map(bad)
    bad = mf.copy()
    bad.loc[2, "status"] = "done"
    with pytest.raises(DataError, match=r"rec2\.yaml: record AGD-3: status 'done'"):
        render_map(bad)
    rel = build_fixture()["releases"]
    rel.loc[0, "outcome"] = "demined"
    with pytest.raises(DataError, match=r"rel\.gpkg: record R1: outcome 'demined'"):
        render_map(mf, releases=rel)


def test_projected_input_is_converted():
    mf = build_fixture()["minefields"]
    utm = mf.to_crs("EPSG:32638")
    a = render_map(mf, offline=True)
    b = render_map(utm, offline=True)
    da = re.search(r'"bounds":\[([^\]]+)\]', a.get_root().render()).group(1)
    db = re.search(r'"bounds":\[([^\]]+)\]', b.get_root().render()).group(1)
    assert np.allclose(np.array(da.split(","), float), np.array(db.split(","), float), atol=2e-6)


def test_timeline_unknown_record_warns(tmp_path):
    fx = build_fixture()
    fx["timeline"] = pd.concat([fx["timeline"], pd.DataFrame({
        "handover": ["x"], "record_id": ["nope"], "date": ["2022-01-01"],
        "status": ["released"], "released_pct": [100.0]})])
    m = render_map(**fx, offline=True)
    warnings = save_map(m, tmp_path / "m.html")
    assert any("x/nope" in w for w in warnings)


def test_render_module_is_only_folium_importer():
    from pathlib import Path

    import minemap
    root = Path(minemap.__file__).parent
    users = [p.relative_to(root).as_posix() for p in root.rglob("*.py")
             if re.search(r"^\s*(import folium|from folium)", p.read_text(), re.M)]
    assert users and all(u.startswith("render/") for u in users), users


# --------------------------------------------------------------- geometry

def _utm(geoms, lon, lat):
    zone = int((lon + 180) // 6) + 1
    t = Transformer.from_crs("EPSG:4326", f"EPSG:{32600 + zone}", always_xy=True)
    return shapely.transform(np.asarray(geoms, dtype=object),
                             lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


@st.composite
def star_polygons(draw):
    lon = draw(st.floats(45.6, 47.5))
    lat = draw(st.floats(38.9, 40.5))
    n = draw(st.integers(3, 40))
    size = draw(st.floats(1.0, 800.0))
    radii = draw(st.lists(st.floats(0.05, 1.0), min_size=n, max_size=n))
    angles = np.sort(draw(st.lists(st.floats(0, 2 * math.pi, exclude_max=True),
                                   min_size=n, max_size=n, unique=True)))
    pts = []
    for a, r in zip(angles, radii):
        lo, la, _ = GEOD.fwd(lon, lat, math.degrees(a), r * size)
        pts.append((lo, la))
    poly = shapely.make_valid(shapely.Polygon(pts))
    poly = shapely.union_all([g for g in shapely.get_parts(poly)
                              if g.geom_type in ("Polygon", "MultiPolygon")])
    return poly, lon, lat


@given(star_polygons(), st.sampled_from([0.0, 0.5, 1.0, 5.0]))
@hsettings(max_examples=60, deadline=None)
def test_display_geometry_never_moves_inward(case, tol):
    poly, lon, lat = case
    if poly.is_empty:
        return
    shown = display_geometry([poly], tolerance_m=tol)[0]
    # Displayed coordinates are on the 6-decimal grid.
    xy = shapely.get_coordinates(shown)
    assert np.allclose(xy, np.round(xy, 6), atol=1e-9)
    o, s = _utm([poly, shown], lon, lat)
    # A polygon valid in degrees can touch itself once projected; compare
    # against its valid form, as display_geometry does.
    o = shapely.make_valid(o)
    verts = shapely.points(shapely.get_coordinates(o))
    # Every original vertex lies inside (or within 1 mm of) the displayed one.
    assert (shapely.distance(s, verts) <= 1e-3).all()
    assert shapely.covers(shapely.buffer(s, 1e-3), o)
    # And it is not pushed out far: buffer (t + 0.1) / cos(22.5 deg), simplification t,
    # rounding 0.08 m, so it lies within 2.1 t + 0.3 m of the original.
    assert shapely.covers(shapely.buffer(o, 2.1 * tol + 0.3), s)


def test_display_geometry_simplifies():
    # A 200-vertex circle of 300 m radius: at 1 m tolerance far fewer vertices.
    lon, lat = 46.93, 39.98
    pts = [GEOD.fwd(lon, lat, a, 300.0)[:2] for a in np.linspace(0, 360, 200, endpoint=False)]
    poly = shapely.Polygon(pts)
    shown = display_geometry([poly], tolerance_m=1.0)[0]
    assert len(shown.exterior.coords) < 100
    o, s = _utm([poly, shown], lon, lat)
    assert shapely.covers(shapely.buffer(s, 1e-3), o)
    # Area grows by about the perimeter times the outward shift (< 2.5 m).
    area_o = abs(GEOD.geometry_area_perimeter(poly)[0])
    area_s = abs(GEOD.geometry_area_perimeter(shapely.orient_polygons(shown))[0])
    assert area_o < area_s < area_o + 2 * math.pi * 300 * 2.5


# ------------------------------------------------------------------- CLI

def test_save_names_missing_directory(tmp_path):
    m = render_map(build_fixture()["minefields"], offline=True)
    with pytest.raises(UsageError, match="output directory does not exist: .*nodir"):
        save_map(m, tmp_path / "nodir" / "m.html")
    assert not (tmp_path / "nodir").exists()


def test_cli_missing_directory_is_usage_error(runner, tmp_path, monkeypatch):
    from minemap.cli.main import cli as group

    monkeypatch.chdir(tmp_path)
    res = runner.invoke(group, ["--store", str(tmp_path / "s.gpkg"), "map", "-o", "nodir/m.html"])
    assert res.exit_code == 2, res.output
    assert "output directory does not exist: nodir" in res.output
    assert "unexpected" not in res.output


def test_filter_frames():
    from minemap.render.page import filter_frames

    fx = build_fixture(districts=["Aghdam", "Fuzuli", "Aghdam", "Fuzuli", "Aghdam"],
                       handovers=["h1", "h1", "h2", "h2", "h2"])
    out = filter_frames(fx, district="füzuli")
    assert list(out["minefields"]["record_id"]) == ["AGD-2", "AGD-4"]
    # Releases, items and incidents of the fixture are all in Aghdam.
    assert len(out["releases"]) == len(out["items"]) == len(out["incidents"]) == 0
    # Timeline keeps AGD-2's row only; rows and positions belong to AGD-1 (h1).
    assert list(out["timeline"]["record_id"]) == ["AGD-2"]
    assert len(out["rows"]) == 0 and out["mine_positions"] is None
    out = filter_frames(fx, handover="h2", status="not_started")
    assert list(out["minefields"]["record_id"]) == ["AGD-5"]
    out = filter_frames(fx, handover="h1")
    assert list(out["rows"]["record_id"]) == ["AGD-1"]
    assert len(out["mine_positions"]) >= 1
    assert filter_frames(fx, mine_positions=False)["mine_positions"] is None
    with pytest.raises(UsageError, match="--handover 'h9': unknown; choose one of h1, h2"):
        filter_frames(fx, handover="h9")
    with pytest.raises(UsageError, match="--district 'Atlantis': unknown"):
        filter_frames(fx, district="Atlantis")


def test_cli_map_options(cli, tmp_path):
    from tests.conftest import fields_file

    a = fields_file(tmp_path / "a.geojson", 3, prefix="AGD")
    b = fields_file(tmp_path / "b.geojson", 2, prefix="FZL", start=10)
    assert cli("import-records", a, "--handover", "h-a").exit_code == 0
    assert cli("import-records", b, "--handover", "h-b").exit_code == 0

    def ids(*args):
        out = tmp_path / "m.html"
        res = cli("map", "-o", out, "--offline", "--overwrite", *args)
        assert res.exit_code == 0, res.output
        page = out.read_text(encoding="utf-8")
        return decode_column(data_block(page)["fields"]["cols"]["record_id"]), page

    assert ids()[0] == ["AGD-0001", "AGD-0002", "AGD-0003", "FZL-0010", "FZL-0011"]
    assert ids("--handover", "h-b")[0] == ["FZL-0010", "FZL-0011"]
    assert ids("--status", "released")[0] == []
    assert ids("--district", "Aghdam", "--status", "not_started")[0][:1] == ["AGD-0001"]
    # The fields are 100 m squares: at 0 m every one is drawn with an outward
    # display geometry, at 5 m with its 4-vertex export geometry.
    assert all(g is not None for g in data_block(ids("--display-tolerance", "0")[1])["fields"]["geom"])
    assert all(g is None for g in data_block(ids("--display-tolerance", "5")[1])["fields"]["geom"])
    _, page = ids("--no-mine-positions", "--choropleth")
    assert "positions" not in data_block(page)
    res = cli("map", "-o", tmp_path / "x.html", "--handover", "nope")
    assert res.exit_code == 2 and "--handover 'nope': unknown" in res.output


# ------------------------------------------------------ plugins, palette, layers

def extra_layers(text: str = "ok") -> dict:
    """remaining, suspects and shifted frames with the column names of DESIGN §12/§13."""
    mf = build_fixture()["minefields"]
    rel = build_fixture()["releases"]
    remaining = gpd.GeoDataFrame({
        "record_id": mf["record_id"][:2], "handover": mf["handover"][:2],
        "remaining_est": [50.0, 25.0], "status": mf["status"][:2], "mines_total": [10, 21],
        "mine_types": [text, "TM-62M"]},
        geometry=[mf.geometry[0], mf.geometry[1].difference(rel.geometry[0])], crs="EPSG:4326")
    suspects = gpd.GeoDataFrame({
        "suspect_id": [text, "S2"], "found_ap": [3, 0], "found_at": [1, 4], "found_uxo": [0, 1],
        "incidents": [1, 0], "killed": [0, 0], "injured": [1, 0],
        "first_date": ["2021-03-01", "2022-01-01"], "last_date": ["2022-02-01", "2022-03-01"],
        "nearest_record_id": ["AGD-5", "AGD-1"], "nearest_m": [812.5, 2400.0]},
        geometry=[square(46.97, 39.99, 200.0), square(46.99, 40.0, 150.0)], crs="EPSG:4326")
    shifted = gpd.GeoDataFrame({
        "record_id": mf["record_id"], "handover": mf["handover"], "dx_m": [-110.0] * 5,
        "dy_m": [35.0] * 5, "shift_m": [115.4] * 5, "datum_suspect": [True] * 5},
        geometry=[shapely.affinity.translate(g, -0.0013, 0.0003) for g in mf.geometry],
        crs="EPSG:4326")
    return {"remaining": remaining, "suspects": suspects, "shifted": shifted}


def test_online_loads_the_same_pinned_files_with_integrity(tmp_path):
    import base64
    import hashlib

    from minemap.render.plugins import PLUGINS

    online, _ = render_html(tmp_path)
    offline = render_map(**build_fixture(), offline=True).get_root().render()
    vendor_md = (Path(__file__).parents[1] / "minemap/render/vendor/VENDOR.md").read_text()
    seen = 0
    for plugin in PLUGINS:
        for asset in plugin.default_css + plugin.default_js:
            sri = "sha384-" + base64.b64encode(hashlib.sha384(asset.path.read_bytes()).digest()).decode()
            tag = "link" if asset.path.suffix == ".css" else "script"
            attr = "href" if tag == "link" else "src"
            assert re.search(f'<{tag}[^>]*{attr}="{re.escape(asset.url)}" integrity="{re.escape(sri)}"', online), asset
            # Pinned: the URL names the version (for the heat layer, folium's release).
            assert "@" + re.findall(r"\d[\d.]*\d", asset.version)[-1] in asset.url.replace("@v", "@")
            assert asset.url not in offline
            if "vendor" in asset.path.parts:
                folder = asset.path.parent
                assert f"`{folder.name}/`" in vendor_md and asset.version in vendor_md
                assert any(f.name.lower().startswith(("licen", "mit-licen")) for f in folder.iterdir())
            seen += 1
    assert seen >= 10
    # minemap's own code is inlined in both.
    assert "minemapInit = init" in online and "minemapInit = init" in offline


def test_palette_is_minemap_styles_and_js_has_no_colours(tmp_path):
    from minemap import styles
    from minemap.render.assets import STATIC

    page, _ = render_html(tmp_path, offline=True)
    pal = data_block(page)["palette"]
    assert pal["cluster"] == list(styles.CLUSTER)
    assert pal["status"] == styles.STATUS and pal["item"] == styles.ITEM
    assert pal["shifted"] == styles.SHIFTED and pal["suspect"] == styles.SUSPECT
    palette_colours = {c.lower() for v in vars(styles).values() if isinstance(v, (dict, tuple, str))
                       for c in (v.values() if isinstance(v, dict) else v if isinstance(v, tuple) else [v])
                       if isinstance(c, str) and c.startswith("#")}
    for f in STATIC.iterdir():
        text = f.read_text().lower()
        if f.suffix == ".js":
            assert not re.findall(r"[\"']#[0-9a-f]{3,8}[\"']", text), f.name
        assert not [c for c in palette_colours if c in text], f.name


def test_timeline_dates_of_releases_items_incidents(tmp_path):
    page, _ = render_html(tmp_path, offline=True)
    data = data_block(page)
    # By hand from 2022-02-01: releases end 03-01, 04-01, 05-01; items 03-01; incident 01-05.
    assert data["releases"]["day"] == [28, 59, 89]
    assert data["items"]["day"] == [28, 28, 28]
    assert data["incidents"]["day"] == [-27]
    # Undated rows have no day: the timeline always shows them.
    fx = build_fixture()
    fx["items"]["date"] = ["2022-03-01", "", None]
    fx["releases"]["date_end"] = ["", "2022-04-01", "2022-05-01"]
    fx["releases"]["date"] = ["2022-02-15", "", ""]
    save_map(render_map(**fx, offline=True), tmp_path / "u.html")
    data = data_block((tmp_path / "u.html").read_text(encoding="utf-8"))
    assert data["items"]["day"] == [28, None, None]
    assert data["releases"]["day"] == [14, 59, 89]  # R1 by its date, 2022-02-15


def test_extra_layers_only_when_given(tmp_path):
    page, _ = render_html(tmp_path, offline=True)
    data = data_block(page)
    for name in ("remaining", "suspects", "shifted"):
        assert name not in data
    for label in ("Remaining hazard", "Suspected hazard areas", "Proposed shifted outlines"):
        assert not re.search(re.escape(label) + r" \(\d", page)


def test_extra_layers_drawn_escaped(tmp_path):
    fx = {**build_fixture(), **extra_layers(PAYLOAD_SCRIPT)}
    save_map(render_map(**fx, offline=True), tmp_path / "m.html")
    page = (tmp_path / "m.html").read_text(encoding="utf-8")
    data = data_block(page)
    for label in ("Remaining hazard (2)", "Suspected hazard areas (2)", "Proposed shifted outlines (5)"):
        assert label in page
    assert decode_column(data["suspects"]["cols"]["suspect_id"]) == [PAYLOAD_SCRIPT, "S2"]
    assert decode_column(data["remaining"]["cols"]["mine_types"])[0] == PAYLOAD_SCRIPT
    assert "window.__xss=1</script>" not in page
    # Hazard polygons are drawn outward: every vertex of the input inside the display.
    for name in ("remaining", "suspects"):
        for k, geom in enumerate(fx[name].geometry):
            disp = decode_parts(data[name]["geom"][k])
            assert shapely.contains(disp, shapely.points(shapely.get_coordinates(geom))).all()
    shifted = decode_parts(data["shifted"]["geom"][0])
    assert shapely.hausdorff_distance(shifted, fx["shifted"].geometry[0]) < 2e-5


def test_cli_map_with_mbtiles_basemap(cli, tmp_path, monkeypatch):
    from tests.conftest import fields_file

    assert cli("import-records", fields_file(tmp_path / "a.geojson", 3, prefix="AGD"),
               "--handover", "h-a").exit_code == 0
    tiles = tile_set(zooms=(8, 9))
    value = mbtiles_file(tmp_path / "t.mbtiles", tiles)
    out = tmp_path / "m.html"
    res = cli("map", "-o", out, "--offline", "--basemap", value)
    assert res.exit_code == 0, res.output
    data = data_block(out.read_text(encoding="utf-8"))
    got = decode_tiles(data["basemap"]["tiles"])
    want = set().union(*(covering(data["bounds"], z) for z in (8, 9))) & set(tiles)
    assert set(got) == want and all(got[k] == tiles[k] for k in got)
    # A cap too small for any tile: the map is written, without tiles, and says why.
    monkeypatch.setattr(settings, "basemap_inline_mb", 1e-6)
    res = cli("map", "-o", out, "--offline", "--overwrite", "--basemap", value)
    assert res.exit_code == 0, res.output
    assert "warning: basemap" in res.output and "no zoom level inlined" in res.output
    page = out.read_text(encoding="utf-8")
    assert data_block(page)["basemap"]["tiles"] == {}
    assert "left out (larger than basemap_inline_mb)" in page
