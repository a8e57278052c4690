"""Outputs for field teams (DESIGN §12): turning-point order, projected exports, temporaries.

Expected values come from the source files themselves (fiona, the YAML) and
from pyproj / the ``mgrs`` package called here, never from minemap.
"""

from __future__ import annotations

import csv
import importlib
import io
import math
import os
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import fiona
import geopandas as gpd
import gpxpy
import mgrs
import numpy as np
import pyogrio
import pytest
import shapely
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import CRS, Transformer
from pyproj.aoi import AreaOfInterest

import minemap
from minemap._errors import DataError, UsageError

ex = importlib.import_module("minemap.export")
common = importlib.import_module("minemap.export.common")

DATA = Path(__file__).parent / "data"
TRAVERSE = DATA / "traverse" / "agd_0142.yaml"
AOI = AreaOfInterest(46.0, 39.5, 47.5, 40.5)

# A clockwise field near Aghdam whose source ring starts at its north-east
# corner: the stored ring (any orientation, any start) must not renumber it.
SOURCE_RING = [(46.93, 39.99), (46.93, 39.98), (46.91, 39.98), (46.91, 39.99)]


def _bearing_distance(tr: Transformer, a: tuple, b: tuple) -> tuple[float, float]:
    (x0, x1), (y0, y1) = tr.transform([a[0], b[0]], [a[1], b[1]])
    return math.degrees(math.atan2(x1 - x0, y1 - y0)) % 360, math.hypot(x1 - x0, y1 - y0)


def _mil6000(text: str) -> float:
    big, small = text.split("-")
    return (int(big) * 100 + int(small)) * 360 / 6000


# ---------------------------------------------------------------------- turning points


def test_gpx_traverse_turning_points_follow_the_legs(tmp_path):
    store = tmp_path / "s.gpkg"
    minemap.import_records([TRAVERSE], handover="aghdam-2021-06-12", store=store)
    out = tmp_path / "tp.gpx"
    warnings = minemap.export(out, store=store, layers="minefields")
    assert not any("stored ring" in w for w in warnings)
    gpx = gpxpy.parse(out.read_text(encoding="utf-8"))
    names = [w.name for w in gpx.waypoints]
    assert names == ["AGD-0142-RP"] + [f"AGD-0142-TP{i}" for i in range(1, 5)]
    # Leg k+1 of the record runs from TPk to TPk+1, on the grid of the
    # reference point's CRS (SK-42 Gauss-Krüger zone 8, transformation by pyproj).
    legs = yaml.safe_load(TRAVERSE.read_text(encoding="utf-8"))["legs"]
    tr = Transformer.from_crs("EPSG:4326", "EPSG:28408", always_xy=True, area_of_interest=AOI)
    pts = [(w.longitude, w.latitude) for w in gpx.waypoints[1:]]
    for k in range(3):
        bearing, dist = _bearing_distance(tr, pts[k], pts[k + 1])
        assert abs((bearing - _mil6000(legs[k + 1]["bearing"]) + 180) % 360 - 180) < 0.5
        assert dist == pytest.approx(legs[k + 1]["distance_m"], abs=1.0)
    # The GeoJSON ring is RFC 7946 (counter-clockwise): the record walks the
    # other way, and its TPs were not renumbered by that.
    gj = tmp_path / "f.geojson"
    minemap.export(gj, store=store, layers="minefields")
    (part,) = shapely.get_parts(gpd.read_file(gj).geometry[0])
    ring = part.exterior
    assert ring.is_ccw
    assert not shapely.LinearRing(pts).is_ccw


def _shapefile(path: Path, ring: list[tuple]) -> Path:
    schema = {"geometry": "Polygon", "properties": {"record_id": "str", "mines_ap": "int"}}
    with fiona.open(path, "w", driver="ESRI Shapefile", crs="EPSG:4326", schema=schema) as dst:
        dst.write({"geometry": {"type": "Polygon", "coordinates": [ring + [ring[0]]]},
                   "properties": {"record_id": "AGD-9001", "mines_ap": 5}})
    return path


def _source_vertices(path: Path, handover: str) -> gpd.GeoDataFrame:
    """The vertices layer for a GIS source, from the file itself in its order."""
    with fiona.open(path) as src:
        feat = next(iter(src))
        rid = feat["properties"]["record_id"]
        coords = feat["geometry"]["coordinates"][0][:-1]
    return gpd.GeoDataFrame(
        {"record_id": [rid] * len(coords), "handover": [handover] * len(coords),
         "vertex": list(range(1, len(coords) + 1)),
         "label": [f"TP{i}" for i in range(1, len(coords) + 1)],
         "point_type": ["turning"] * len(coords), "raw_x": [c[0] for c in coords],
         "raw_y": [c[1] for c in coords]},
        geometry=[shapely.Point(c) for c in coords], crs="EPSG:4326")


def test_gpx_gis_source_keeps_file_order_and_start(tmp_path):
    shp = _shapefile(tmp_path / "src.shp", SOURCE_RING)
    store = tmp_path / "s.gpkg"
    minemap.import_records([shp], handover="h1", store=store)
    fields = minemap.layer_frame(store, "minefields")
    verts = _source_vertices(shp, "h1")
    out = tmp_path / "f.gpx"
    warnings = ex.write({"minefields": fields}, out, vertices=verts)
    assert not any("stored ring" in w for w in warnings)
    gpx = gpxpy.parse(out.read_text(encoding="utf-8"))
    assert [w.name for w in gpx.waypoints] == [f"AGD-9001-TP{i}" for i in range(1, 5)]
    assert [(w.longitude, w.latitude) for w in gpx.waypoints] == SOURCE_RING
    # The TP table (export --layer vertices) numbers them the same way.
    pts, notes = ex.turning_points(fields, verts)
    assert notes["from_ring"] == []
    assert [tuple(p.coords[0]) for p in pts.geometry] == SOURCE_RING


def test_gpx_without_vertices_says_it_used_the_stored_ring(tmp_path):
    shp = _shapefile(tmp_path / "src.shp", SOURCE_RING)
    fields = gpd.read_file(shp)
    fields["handover"] = "h1"
    out = tmp_path / "f.gpx"
    warnings = ex.write({"minefields": fields}, out)
    assert any("AGD-9001" in w and "stored ring" in w for w in warnings)


def test_gpx_ids_repeated_across_handovers_are_prefixed(tmp_path):
    a = gpd.GeoDataFrame({"record_id": ["X-1", "X-1"], "handover": ["h1", "h2"]},
                         geometry=[shapely.box(46.9, 39.9, 46.91, 39.91),
                                   shapely.box(46.92, 39.9, 46.93, 39.91)], crs="EPSG:4326")
    out = tmp_path / "f.gpx"
    ex.write({"minefields": a}, out)
    names = [w.name for w in gpxpy.parse(out.read_text(encoding="utf-8")).waypoints]
    assert names[0] == "h1:X-1-TP1" and names[4] == "h2:X-1-TP1"


# ---------------------------------------------------------------------- --crs


def _fields() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"record_id": ["AGD-1", "AGD-2"], "handover": ["h1", "h1"], "area_ha": [1.234567, 2.5],
         "released_pct": [33.33333, 0.0]},
        geometry=[shapely.Polygon(SOURCE_RING), shapely.box(46.95, 39.95, 46.96, 39.955)],
        crs="EPSG:4326")


def _nearest(got: np.ndarray, exp: np.ndarray) -> np.ndarray:
    """Distance from each point of `got` to the nearest point of `exp`."""
    return np.hypot(*(got[:, None, :] - exp[None, :, :]).transpose(2, 0, 1)).min(axis=1)


def _expected(epsg: int, geoms) -> np.ndarray:
    tr = Transformer.from_crs("EPSG:4326", f"EPSG:{epsg}", always_xy=True, area_of_interest=AOI)
    xy = shapely.get_coordinates(shapely.set_precision(np.asarray(geoms), 1e-6))
    return np.column_stack(tr.transform(xy[:, 0], xy[:, 1]))


@pytest.mark.parametrize(("crs", "epsg"), [("EPSG:32638", 32638), ("SK-42", 28408)])
def test_gpkg_crs_coordinates_and_metadata(tmp_path, crs, epsg):
    out = tmp_path / "f.gpkg"
    ex.write({"minefields": _fields()}, out, crs=crs)
    back = pyogrio.read_dataframe(out, layer="minefields")
    assert back.crs.to_epsg() == epsg
    got = shapely.get_coordinates(back.geometry.values)
    exp = _expected(epsg, _fields().geometry.values)
    # Same vertices (in RFC 7946 order, as every export), within 1 cm.
    assert len(got) == len(exp)
    assert _nearest(got, exp).max() < 0.011
    with sqlite3.connect(out) as con:
        meta = " ".join(r[0] for r in con.execute("SELECT metadata FROM gpkg_metadata"))
        desc = con.execute("SELECT description FROM gpkg_contents WHERE table_name='minefields'"
                           ).fetchone()[0]
    assert f"EPSG:{epsg}" in meta and f"EPSG:{epsg}" in desc
    if epsg == 28408:
        assert "Pulkovo 1942 to WGS 84" in meta and "Pulkovo 1942 to WGS 84" in desc


def test_sk42_export_applies_the_datum_shift(tmp_path):
    out = tmp_path / "f.gpkg"
    ex.write({"minefields": _fields()}, out, crs="SK-42")
    got = shapely.get_coordinates(pyogrio.read_dataframe(out, layer="minefields").geometry.values)
    # The same projection without a datum transformation is ~100 m away.
    bare = CRS.from_proj4("+proj=tmerc +lon_0=45 +k=1 +x_0=8500000 +y_0=0 +ellps=WGS84")
    tr = Transformer.from_crs("EPSG:4326", bare, always_xy=True)
    xy = shapely.get_coordinates(_fields().geometry.values)
    naive = np.column_stack(tr.transform(xy[:, 0], xy[:, 1]))
    shift = _nearest(got, naive)
    assert (shift > 50).all() and (shift < 250).all()


def test_shapefile_crs_prj_and_transformation_sidecar(tmp_path):
    out = tmp_path / "f.zip"
    ex.write({"minefields": _fields()}, out, crs="SK-42")
    with zipfile.ZipFile(out) as zf:
        prj = zf.read("f.prj").decode()
        note = zf.read("f.transformation.txt").decode()
    assert "Pulkovo_1942" in prj and '"Central_Meridian",45.0' in prj
    assert '"False_Easting",8500000.0' in prj
    assert "Pulkovo 1942 to WGS 84" in note and "EPSG:28408" in note
    shp = tmp_path / "g.shp"
    ex.write({"minefields": _fields()}, shp, crs="EPSG:32638")
    assert "EPSG:32638" in (tmp_path / "g.transformation.txt").read_text()
    # Overwritten without --crs: the old note must not describe the new file.
    ex.write({"minefields": _fields()}, shp, overwrite=True)
    assert not (tmp_path / "g.transformation.txt").exists()


def test_csv_crs_comment_and_wkt(tmp_path):
    out = tmp_path / "f.csv"
    ex.write({"minefields": _fields()}, out, crs="EPSG:32638")
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# CRS EPSG:32638")
    rows = list(csv.DictReader(io.StringIO("\n".join(lines[1:]))))
    got = shapely.get_coordinates(shapely.from_wkt(rows[1]["wkt"]))
    exp = _expected(32638, _fields().geometry.values[1:])
    assert len(got) == len(exp) and _nearest(got, exp).max() < 0.011
    # Rounded for people: hectares 2 decimals, percentages 1.
    assert rows[0]["area_ha"] == "1.23" and rows[0]["released_pct"] == "33.3"


def test_geojson_refuses_crs(tmp_path):
    with pytest.raises(UsageError, match="RFC 7946"):
        ex.write({"minefields": _fields()}, tmp_path / "f.geojson", crs="EPSG:32638")
    with pytest.raises(UsageError, match="not a projected CRS"):
        ex.write({"minefields": _fields()}, tmp_path / "f.gpkg", crs="EPSG:4326")
    assert list(tmp_path.iterdir()) == []


def test_vertices_table_lat_lon_mgrs_utm_and_crs(tmp_path):
    shp = _shapefile(tmp_path / "src.shp", SOURCE_RING)
    store = tmp_path / "s.gpkg"
    minemap.import_records([shp], handover="h1", store=store)
    out = tmp_path / "tp.csv"
    minemap.export(out, store=store, layers="vertices", crs="SK-42")
    lines = out.read_text(encoding="utf-8").splitlines()
    assert "Pulkovo 1942 to WGS 84" in lines[0]
    rows = list(csv.DictReader(io.StringIO("\n".join(lines[1:]))))
    assert [r["label"] for r in rows] == ["TP1", "TP2", "TP3", "TP4"]
    utm = Transformer.from_crs("EPSG:4326", "EPSG:32638", always_xy=True)
    sk = Transformer.from_crs("EPSG:4326", "EPSG:28408", always_xy=True, area_of_interest=AOI)
    m = mgrs.MGRS()
    for r in rows:
        lon, lat = float(r["lon"]), float(r["lat"])
        assert (lon, lat) in SOURCE_RING
        e, n = utm.transform(lon, lat)
        assert r["utm_zone"] == "38N"
        assert float(r["utm_easting"]) == pytest.approx(e, abs=0.051)
        assert float(r["utm_northing"]) == pytest.approx(n, abs=0.051)
        x, y = sk.transform(lon, lat)
        assert float(r["crs_easting"]) == pytest.approx(x, abs=0.051)
        assert float(r["crs_northing"]) == pytest.approx(y, abs=0.051)
        assert r["mgrs"] == m.toMGRS(lat, lon, MGRSPrecision=5)
        back = m.toLatLon(r["mgrs"])
        assert back[0] == pytest.approx(lat, abs=2e-5) and back[1] == pytest.approx(lon, abs=2e-5)


# ---------------------------------------------------------------------- temporaries, full disk


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_temporaries_are_removed_live_ones_kept(tmp_path):
    host = common._HOST
    dead = tmp_path / f"{common.TEMP_PREFIX}{host}-{_dead_pid()}-ab12-f.geojson"
    dead.write_text("half")
    dead_dir = tmp_path / f"{common.TEMP_PREFIX}{host}-{_dead_pid()}-cd34-dir"
    dead_dir.mkdir()
    (dead_dir / "f.gpkg").write_bytes(b"x" * 100)
    mine = tmp_path / f"{common.TEMP_PREFIX}{host}-{os.getpid()}-ef56-g.geojson"
    mine.write_text("in progress")
    foreign_old = tmp_path / f"{common.TEMP_PREFIX}otherhost-123-aa00-h.csv"
    foreign_old.write_text("old")
    old = time.time() - common.STALE_AFTER_S - 60
    os.utime(foreign_old, (old, old))
    foreign_new = tmp_path / f"{common.TEMP_PREFIX}otherhost-124-bb00-i.csv"
    foreign_new.write_text("new")
    ex.write({"minefields": _fields()}, tmp_path / "out.geojson")
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted(["out.geojson", mine.name, foreign_new.name])


def test_killed_export_leaves_a_temporary_the_next_run_removes(tmp_path):
    code = ("import sys, time; from pathlib import Path; "
            "from minemap.export.common import _atomic_text\n"
            "with _atomic_text(Path(sys.argv[1])) as fh:\n"
            "    fh.write('{'); fh.flush(); print('ready', flush=True); time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "a.geojson")],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    proc.kill()
    proc.wait()
    (left,) = tmp_path.iterdir()
    assert left.name.startswith(".minemap-tmp-") and left.name.endswith("-a.geojson")
    ex.write({"minefields": _fields()}, tmp_path / "b.geojson")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.geojson"]


def test_full_stdout_is_one_line(tmp_path):
    full = open("/dev/full", "w")  # noqa: SIM115 - closing it fails too, by design
    try:
        with pytest.raises(DataError) as e:
            ex.write({"minefields": _fields()}, "-", stdout=full)
    finally:
        try:
            full.close()
        except OSError:
            pass
    assert str(e.value) == "<stdout>: could not write: no space left on device; nothing was written"


@pytest.fixture
def tiny_fs(tmp_path):
    """A real 64 KiB filesystem (tmpfs; needs root, as in CI containers)."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)],
                         capture_output=True)
    if res.returncode:
        pytest.skip("cannot mount a small tmpfs here (not root)")
    yield mnt
    subprocess.run(["umount", str(mnt)], check=True)


def _many_fields(n: int) -> gpd.GeoDataFrame:
    boxes = [shapely.box(46.9 + i * 1e-3, 39.9, 46.9 + i * 1e-3 + 5e-4, 39.9005)
             for i in range(n)]
    return gpd.GeoDataFrame({"record_id": [f"F-{i}" for i in range(n)]}, geometry=boxes,
                            crs="EPSG:4326")


@pytest.mark.parametrize("name", ["f.geojson", "f.csv", "f.kml"])
def test_full_disk_names_the_file_and_leaves_nothing(tiny_fs, name):
    out = tiny_fs / name
    with pytest.raises(DataError) as e:
        ex.write({"minefields": _many_fields(2000)}, out)
    assert str(e.value) == f"{out}: could not write: no space left on device; nothing was written"
    assert list(tiny_fs.iterdir()) == []


def test_full_disk_cli_exit_1_one_line(tiny_fs, tmp_path, cli):
    shp = _shapefile(tmp_path / "src.shp", SOURCE_RING)
    assert cli("import-records", shp, "--handover", "h1").exit_code == 0
    # Fill the disk first, so even a small export cannot fit.
    with open(tiny_fs / "filler", "wb") as fh:
        try:
            fh.write(b"\0" * 70_000)
            fh.flush()
        except OSError:
            pass
    res = cli("export", "-o", tiny_fs / "f.geojson")
    assert res.exit_code == 1
    lines = [x for x in res.output.splitlines() if x.startswith("Error")]
    assert lines == [f"Error: {tiny_fs / 'f.geojson'}: could not write: no space left on device;"
                     " nothing was written"]
    assert sorted(p.name for p in tiny_fs.iterdir()) == ["filler"]


@settings(max_examples=40, deadline=None)
@given(n=st.integers(min_value=3, max_value=12), start=st.integers(min_value=0, max_value=11),
       clockwise=st.booleans(), seed=st.integers(min_value=0, max_value=10_000))
def test_turning_points_keep_any_source_order(n, start, clockwise, seed):
    rng = np.random.default_rng(seed)
    angles = np.sort(rng.uniform(0, 2 * np.pi, n))
    ring = [(46.9 + 0.01 * math.cos(a), 39.9 + 0.01 * math.sin(a)) for a in angles]
    if clockwise:
        ring = ring[::-1]
    start %= n
    source = ring[start:] + ring[:start]
    # The store holds the field oriented and normalised: the source's order
    # and start are gone from the geometry, and kept in the vertices layer.
    stored = shapely.normalize(shapely.orient_polygons(shapely.Polygon(source)))
    fields = gpd.GeoDataFrame({"record_id": ["R-1"], "handover": ["h1"]}, geometry=[stored],
                              crs="EPSG:4326")
    verts = gpd.GeoDataFrame(
        {"record_id": ["R-1"] * n, "handover": ["h1"] * n, "vertex": list(range(1, n + 1))[::-1],
         "point_type": ["turning"] * n},
        geometry=[shapely.Point(p) for p in source[::-1]], crs="EPSG:4326")
    pts, notes = ex.turning_points(fields, verts)
    assert notes["from_ring"] == []
    assert list(pts["label"]) == [f"TP{i}" for i in range(1, n + 1)]
    assert [tuple(p.coords[0]) for p in pts.geometry] == source


def test_multipart_record_vertices_give_one_route_per_part(tmp_path):
    a = [(46.90, 39.90), (46.90, 39.91), (46.91, 39.91), (46.91, 39.90)]
    b = [(46.95, 39.90), (46.95, 39.91), (46.96, 39.91), (46.96, 39.90)]
    field = gpd.GeoDataFrame({"record_id": ["M-1"], "handover": ["h1"]},
                             geometry=[shapely.MultiPolygon([shapely.Polygon(a),
                                                             shapely.Polygon(b)])],
                             crs="EPSG:4326")
    src = a + b  # the source's corners, numbered across its parts
    verts = gpd.GeoDataFrame(
        {"record_id": ["M-1"] * 8, "handover": ["h1"] * 8, "vertex": list(range(1, 9)),
         "label": [f"TP{i}" for i in range(1, 9)], "point_type": ["turning"] * 8},
        geometry=[shapely.Point(p) for p in src], crs="EPSG:4326")
    out = tmp_path / "m.gpx"
    ex.write({"minefields": field}, out, vertices=verts)
    gpx = gpxpy.parse(out.read_text(encoding="utf-8"))
    assert [w.name for w in gpx.waypoints] == [f"M-1-TP{i}" for i in range(1, 9)]
    assert [r.name for r in gpx.routes] == ["M-1 part 1", "M-1 part 2"]
    assert [p.name for p in gpx.routes[1].points] == ["M-1-TP5", "M-1-TP6", "M-1-TP7",
                                                      "M-1-TP8", "M-1-TP5"]


def test_a_map_run_removes_a_killed_runs_temporary(tmp_path):
    """`map` writes through the same recognisable temporaries as the exports (issue 15 item 9)."""
    import folium

    from minemap.render.page import save_map

    dead = tmp_path / f"{common.TEMP_PREFIX}{common._HOST}-{_dead_pid()}-ab12-m.html"
    dead.write_text("<html>half")
    save_map(folium.Map(), tmp_path / "m.html")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.html"]
