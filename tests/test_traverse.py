"""Traverse records → polygons, vertices and mine rows (issue 3).

Every expected value is computed here, independently of minemap: plane
traverses with pyproj's own scale factors, geodesics with geographiclib, the
Bowditch adjustment by hand.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import ppigrf
import pytest
import shapely
import yaml
from geographiclib.geodesic import Geodesic
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pyproj import CRS, Geod, Proj, Transformer
from pyproj.aoi import AreaOfInterest
from pyproj.transformer import TransformerGroup

from minemap.readers.traverse import is_traverse_file, mine_positions, read_traverse
from minemap.records import schema

DATA = Path(__file__).parent / "data" / "traverse"
AOI = (45.55, 38.85, 47.55, 40.55)
WIDE_AOI = (44.0, 38.0, 48.0, 41.0)
E0, N0 = 8664944.38, 4430293.45          # an SK-42 zone 8 point in Aghdam
WGS = Geodesic.WGS84


def write(tmp_path: Path, name: str, records) -> Path:
    path = tmp_path / name
    if isinstance(records, str):
        path.write_text(records, encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(records, sort_keys=False, allow_unicode=True),
                        encoding="utf-8")
    return path


def record(legs, *, ref=None, unit="deg", north="grid", closed=True, rid="T-1", **extra):
    rec = {"record_id": rid, "mines": {"ap": 10, "at": 2},
           "reference_point": ref or {"crs": "EPSG:28408", "easting": E0, "northing": N0},
           "angle_unit": unit, "north": north, "closed": closed,
           "legs": [{"bearing": b, "distance_m": d} for b, d in legs]}
    rec.update(extra)
    return rec


@lru_cache(maxsize=8)
def best_transformer(src: str) -> Transformer:
    group = TransformerGroup(src, "EPSG:4326", always_xy=True,
                             area_of_interest=AreaOfInterest(*AOI))
    return group.transformers[0]


def plane_walk(epsg: str, x0: float, y0: float, legs):
    """Plane traverse done here: each leg scaled by pyproj's point scale at its start."""
    crs = CRS.from_user_input(epsg)
    proj = Proj(crs)
    to_geog = Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True)
    pts = [(x0, y0)]
    for b, d in legs:
        x, y = pts[-1]
        k = proj.get_factors(*to_geog.transform(x, y)).meridional_scale
        pts.append((x + d * k * math.sin(math.radians(b)),
                    y + d * k * math.cos(math.radians(b))))
    return pts


def ok(result):
    errors = [str(p) for p in result.problems if p.severity == "error"]
    assert not errors, errors
    return result


# --------------------------------------------------------------------------
# Geometry of legs.


def test_grid_legs_match_plane_computation(tmp_path):
    legs = [(30.0, 120.0), (75.0, 150.0), (160.0, 140.0), (250.0, 130.0), (330.0, 90.0)]
    res = ok(read_traverse(write(tmp_path, "g.yaml", record(legs, closed=False))))
    pts = plane_walk("EPSG:28408", E0, N0, legs)
    t = best_transformer("EPSG:28408")
    got = res.vertices[res.vertices.point_type != "reference"]
    assert list(got.label) == ["TP1", "TP2", "TP3", "TP4", "TP5"]
    for (x, y), geom, rx, ry in zip(pts[1:], got.geometry, got.raw_x, got.raw_y):
        lon, lat = t.transform(x, y)
        assert WGS.Inverse(lat, lon, geom.y, geom.x)["s12"] < 1e-4
        assert math.hypot(rx - x, ry - y) < 1e-6
    # The scale factor matters: at 1.9° from the central meridian it is
    # 1.00033, i.e. 4 cm over 120 m.
    k = (math.hypot(pts[1][0] - E0, pts[1][1] - N0)) / 120.0
    assert 1.0003 < k < 1.0004
    rec = res.records.iloc[0]
    assert rec.source_crs == "EPSG:28408"
    assert "Pulkovo 1942 to WGS 84" in rec.transformation
    assert rec["flags"] == "unclosed"
    assert math.isnan(rec.misclosure_m)


def test_true_legs_match_geographiclib(tmp_path):
    legs = [(10.0, 200.0), (80.0, 300.0), (170.0, 250.0), (260.0, 310.0)]
    ref = {"lat": 39.6, "lon": 47.14}
    res = ok(read_traverse(write(tmp_path, "t.yaml",
                                 record(legs, ref=ref, north="true", closed=False))))
    lat, lon = 39.6, 47.14
    got = res.vertices[res.vertices.point_type != "reference"].geometry
    for (b, d), geom in zip(legs, got):
        g = WGS.Direct(lat, lon, b, d)
        lat, lon = g["lat2"], g["lon2"]
        assert WGS.Inverse(lat, lon, geom.y, geom.x)["s12"] < 1e-6
    assert res.records.iloc[0].source_crs == "EPSG:4326"


def test_latlon_grid_uses_utm_zone(tmp_path):
    legs = [(45.0, 100.0), (90.0, 200.0), (0.0, 200.0), (270.0, 200.0), (180.0, 200.0)]
    ref = {"lat": 39.98, "lon": 46.93}
    res = ok(read_traverse(write(tmp_path, "u.yaml", record(legs, ref=ref))))
    utm = Transformer.from_crs("EPSG:4326", "EPSG:32638", always_xy=True)
    x0, y0 = utm.transform(46.93, 39.98)
    pts = plane_walk("EPSG:32638", x0, y0, legs)
    got = res.vertices[res.vertices.point_type != "reference"]
    for (x, y), geom in zip(pts[1:5], got.geometry):
        lon, lat = utm.transform(x, y, direction="INVERSE")
        assert WGS.Inverse(lat, lon, geom.y, geom.x)["s12"] < 1e-3


def test_bowditch_worked_example(tmp_path):
    # On the central meridian of Gauss-Krüger zone 8 the scale factor is 1
    # (to 1e-9 within 300 m), so ground and grid metres agree.  The loop walks
    # east 100, north 100, west 100, south 99.6 and so stops 0.4 m north of
    # TP1.  Bowditch moves each point south by 0.4 * (distance walked) / 399.6.
    e0, n0 = 8_500_000.0, 4_430_000.0
    legs = [(90.0, 50.0), (90.0, 100.0), (0.0, 100.0), (270.0, 100.0), (180.0, 99.6)]
    ref = {"crs": "EPSG:28408", "easting": e0, "northing": n0}
    res = ok(read_traverse(write(tmp_path, "b.yaml", record(legs, ref=ref)), aoi=WIDE_AOI))
    rec = res.records.iloc[0]
    assert rec.misclosure_m == pytest.approx(0.4, abs=1e-6)
    assert rec.misclosure_ratio == pytest.approx(999.0, rel=1e-6)
    tp1 = (e0 + 50.0, n0)
    expected = [
        (tp1[0], tp1[1]),
        (tp1[0] + 100.0, tp1[1] - 0.4 * 100.0 / 399.6),
        (tp1[0] + 100.0, tp1[1] + 100.0 - 0.4 * 200.0 / 399.6),
        (tp1[0], tp1[1] + 100.0 - 0.4 * 300.0 / 399.6),
    ]
    verts = res.vertices[res.vertices.point_type != "reference"]
    fwd = best_transformer("EPSG:28408")
    for (ex, ey), geom in zip(expected, verts.geometry):
        # Back through the same datum transformation, inverted.
        x, y = fwd.transform(geom.x, geom.y, direction="INVERSE")
        assert math.hypot(x - ex, y - ey) < 1e-3
    # raw_x/raw_y keep the unadjusted computed positions.
    unadjusted = [(tp1[0], tp1[1]), (tp1[0] + 100, tp1[1]), (tp1[0] + 100, tp1[1] + 100),
                  (tp1[0], tp1[1] + 100)]
    for (ux, uy), rx, ry in zip(unadjusted, verts.raw_x, verts.raw_y):
        assert math.hypot(rx - ux, ry - uy) < 1e-3
    warning = [str(p) for p in res.problems if "misclosure" in p.message]
    assert warning == ["b.yaml: record T-1: misclosure 0.40 m (1:999) over a perimeter "
                       "of 399.6 m"]


def test_known_misclosure_is_reported_exactly(tmp_path):
    # A closed loop built in the grid (ground distance = grid length / scale
    # factor at the leg's start), whose last leg is then made 0.25 m longer:
    # on the ground it overshoots TP1 by exactly 0.25 m.
    loop = [(E0 + 80, N0), (E0 + 80, N0 + 200), (E0 + 230, N0 + 200), (E0 + 230, N0)]
    chain = [(E0, N0), *loop, loop[0]]
    crs = CRS.from_epsg(28408)
    proj = Proj(crs)
    to_geog = Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True)
    legs = []
    for (x1, y1), (x2, y2) in zip(chain[:-1], chain[1:]):
        k = proj.get_factors(*to_geog.transform(x1, y1)).meridional_scale
        legs.append((math.degrees(math.atan2(x2 - x1, y2 - y1)) % 360.0,
                     math.hypot(x2 - x1, y2 - y1) / k))
    perimeter = sum(d for _, d in legs[1:]) + 0.25
    legs[-1] = (legs[-1][0], legs[-1][1] + 0.25)
    res = ok(read_traverse(write(tmp_path, "k.yaml", record(legs))))
    rec = res.records.iloc[0]
    assert rec.misclosure_m == pytest.approx(0.25, abs=1e-6)
    assert rec.misclosure_ratio == pytest.approx(perimeter / 0.25, rel=1e-5)
    # The same in true north: a geodesic "rectangle" itself misses by
    # millimetres, so compare with the misclosure computed by geographiclib.
    ref = {"lat": 39.9, "lon": 46.8}
    legs = [(0.0, 80.0), (0.0, 200.0), (90.0, 150.0), (180.0, 200.0), (270.0, 150.25)]
    res = ok(read_traverse(write(tmp_path, "k2.yaml", record(legs, ref=ref, north="true"))))
    lat, lon = 39.9, 46.8
    pts = []
    for b, d in legs:
        g = WGS.Direct(lat, lon, b, d)
        lat, lon = g["lat2"], g["lon2"]
        pts.append((lat, lon))
    expected = WGS.Inverse(*pts[-1], *pts[0])["s12"]
    assert res.records.iloc[0].misclosure_m == pytest.approx(expected, abs=1e-6)
    assert abs(expected - 0.25) < 0.01


def test_misclosure_tolerance(tmp_path):
    legs = [(0.0, 80.0), (0.0, 100.0), (90.0, 100.0), (180.0, 100.0), (270.0, 102.5)]
    path = write(tmp_path, "m.yaml", record(legs))   # 2.5 m over 402.5 m: 1:161
    res = read_traverse(path)
    assert res.records.empty
    errors = [str(p) for p in res.problems if p.severity == "error"]
    assert len(errors) == 1
    assert errors[0].startswith("m.yaml: record T-1: misclosure 2.50 m (1:161)")
    assert "tolerance 1:200" in errors[0]
    res = ok(read_traverse(path, accept_misclosure=True))
    # Scale factors vary by 6e-7 across the 100 m loop: 0.06 mm here.
    assert res.records.iloc[0].misclosure_m == pytest.approx(2.5, abs=1e-3)
    assert any("accepted" in p.message and p.severity == "warning" for p in res.problems)


# --------------------------------------------------------------------------
# Reference points and datums.


def test_sk42_zone_from_easting_and_datum_shift(tmp_path):
    legs = [(0.0, 50.0), (90.0, 100.0), (0.0, 100.0), (270.0, 100.0), (180.0, 100.0)]
    ref = {"crs": "SK-42", "easting": E0, "northing": N0}
    res = ok(read_traverse(write(tmp_path, "s.yaml", record(legs, ref=ref))))
    rec = res.records.iloc[0]
    assert rec.source_crs == "EPSG:28408"
    assert "Pulkovo 1942 to WGS 84" in rec.transformation
    rp = res.vertices[res.vertices.point_type == "reference"].geometry.iloc[0]
    # A transformation without datum shift: the Krassowsky lon/lat taken as WGS84.
    naive = Transformer.from_proj(
        "+proj=tmerc +lat_0=0 +lon_0=45 +k=1 +x_0=8500000 +y_0=0 +ellps=krass +units=m",
        "+proj=longlat +ellps=krass +no_defs", always_xy=True)
    lon, lat = naive.transform(E0, N0)
    shift = WGS.Inverse(lat, lon, rp.y, rp.x)["s12"]
    assert 100.0 < shift < 150.0


def test_sk42_zone_9(tmp_path):
    to9 = Transformer.from_crs("EPSG:4326", "EPSG:28409", always_xy=True)
    e, n = to9.transform(47.4, 39.1)
    assert 9_000_000 < e < 10_000_000
    legs = [(0.0, 50.0), (90.0, 100.0), (0.0, 100.0), (270.0, 100.0), (180.0, 100.0)]
    res = ok(read_traverse(write(tmp_path, "z9.yaml", record(
        legs, ref={"crs": "SK-42", "easting": e, "northing": n}))))
    assert res.records.iloc[0].source_crs == "EPSG:28409"
    lon, lat = best_transformer("EPSG:28409").transform(e, n)
    rp = res.vertices.geometry.iloc[0]
    assert WGS.Inverse(lat, lon, rp.y, rp.x)["s12"] < 1e-3


def test_mgrs_reference(tmp_path):
    import mgrs

    ref = {"mgrs": "38SNJ8730533080"}
    lat, lon = mgrs.MGRS().toLatLon("38SNJ8730533080")
    legs = [(0.0, 50.0), (90.0, 100.0), (0.0, 100.0), (270.0, 100.0), (180.0, 100.0)]
    res = ok(read_traverse(write(tmp_path, "mg.yaml", record(legs, ref=ref))))
    rp = res.vertices.geometry.iloc[0]
    assert WGS.Inverse(lat, lon, rp.y, rp.x)["s12"] < 1e-3
    assert res.records.iloc[0].source_crs == "EPSG:32638"


@pytest.mark.parametrize(
    ("ref", "fragment"),
    [
        ({"crs": "EPSG:99999", "easting": E0, "northing": N0}, "unknown CRS 'EPSG:99999'"),
        ({"crs": "EPSG:28409", "easting": E0, "northing": N0}, "zone prefix 8"),
        ({"crs": "EPSG:28408", "easting": N0, "northing": E0}, "look swapped"),
        ({"crs": "SK-42", "easting": N0, "northing": E0}, "look swapped"),
        ({"crs": "SK-42", "easting": 664944.38, "northing": N0}, "lacks its zone prefix"),
        ({"lat": 46.93, "lon": 39.98}, "lat and lon look swapped"),
        ({"lat": 41.7, "lon": 44.8}, "outside the area of interest"),
        ({"x": N0, "y": E0, "crs": "EPSG:28408"}, "give easting and northing"),
        ({"easting": E0, "northing": N0}, "no crs"),
        ({"crs": "EPSG:4326", "easting": E0, "northing": N0}, "not a projected CRS"),
    ],
)
def test_bad_reference_points(tmp_path, ref, fragment):
    legs = [(0.0, 50.0), (90.0, 100.0), (0.0, 100.0), (270.0, 100.0), (180.0, 100.0)]
    res = read_traverse(write(tmp_path, "r.yaml", record(legs, ref=ref)))
    assert res.records.empty
    errors = [str(p) for p in res.problems if p.severity == "error"]
    assert len(errors) == 1, errors
    assert errors[0].startswith("r.yaml: record T-1: ")
    assert fragment in errors[0]


def test_missing_reference_point(tmp_path):
    rec = record([(0, 50), (90, 100), (0, 100), (270, 100), (180, 100)])
    del rec["reference_point"]
    res = read_traverse(write(tmp_path, "n.yaml", rec))
    assert [p.message for p in res.problems if p.severity == "error"] == [
        "missing reference_point (line 1)"]


# --------------------------------------------------------------------------
# Magnetic north.


def test_magnetic_with_declination(tmp_path):
    legs = [(10.0, 200.0), (80.0, 300.0), (170.0, 250.0), (260.0, 310.0)]
    ref = {"lat": 39.6, "lon": 47.14}
    res = ok(read_traverse(write(tmp_path, "d.yaml", record(
        legs, ref=ref, north="magnetic", closed=False, declination_deg=4.5))))
    lat, lon = 39.6, 47.14
    got = res.vertices[res.vertices.point_type != "reference"].geometry
    for (b, d), geom in zip(legs, got):
        g = WGS.Direct(lat, lon, b + 4.5, d)
        lat, lon = g["lat2"], g["lon2"]
        assert WGS.Inverse(lat, lon, geom.y, geom.x)["s12"] < 1e-6
    assert res.records.iloc[0].declination_deg == 4.5


def test_magnetic_with_direction_correction(tmp_path):
    # Soviet correction: magnetic + correction = grid.  "-0-12" = -0.72°.
    legs = [("10-00", 120.0), ("05-00", 150.0), ("20-00", 150.0), ("35-00", 150.0)]
    res = ok(read_traverse(write(tmp_path, "dc.yaml", record(
        legs, unit="mil6000", north="magnetic", closed=False, direction_correction="-0-12"))))
    grid_legs = [(60.0 - 0.72, 120.0), (30.0 - 0.72, 150.0), (120.0 - 0.72, 150.0),
                 (210.0 - 0.72, 150.0)]
    pts = plane_walk("EPSG:28408", E0, N0, grid_legs)
    got = res.vertices[res.vertices.point_type != "reference"]
    for (x, y), rx, ry in zip(pts[1:], got.raw_x, got.raw_y):
        assert math.hypot(rx - x, ry - y) < 1e-6


def test_magnetic_from_igrf(tmp_path):
    import datetime as dt

    legs = [(0.0, 50.0), (90.0, 100.0), (0.0, 100.0), (270.0, 100.0), (180.0, 100.0)]
    ref = {"lat": 39.98, "lon": 46.93}
    res = ok(read_traverse(write(tmp_path, "i.yaml", record(
        legs, ref=ref, north="magnetic", laid_date="1993-08-20"))))
    be, bn, _ = ppigrf.igrf(46.93, 39.98, 0.0, dt.datetime(1993, 8, 20))
    dec = math.degrees(math.atan2(np.ravel(be)[0], np.ravel(bn)[0]))
    assert res.records.iloc[0].declination_deg == pytest.approx(dec, abs=1e-9)
    lat, lon = 39.98, 46.93
    g = WGS.Direct(lat, lon, dec, 50.0)
    tp1 = res.vertices.geometry.iloc[1]
    assert WGS.Inverse(g["lat2"], g["lon2"], tp1.y, tp1.x)["s12"] < 1e-6

    # No laid_date: the handover date, with a warning.
    rec = record(legs, ref=ref, north="magnetic")
    res = ok(read_traverse(write(tmp_path, "h.yaml", rec), handover_date="2021-06-12"))
    assert any("handover date 2021-06-12" in p.message for p in res.problems)
    # Neither: refused.
    res = read_traverse(write(tmp_path, "h2.yaml", rec))
    assert any("magnetic north needs" in p.message for p in res.problems)
    # Outside IGRF-14.
    res = read_traverse(write(tmp_path, "h3.yaml", record(
        legs, ref=ref, north="magnetic", laid_date="1899-05-01")))
    assert res.records.empty
    assert any("outside the IGRF-14 validity" in p.message for p in res.problems)


# --------------------------------------------------------------------------
# Bad input: every problem of the file, each naming file, record and leg.


def test_collects_all_problems(tmp_path):
    good = record([(0, 50), (90, 100), (0, 100), (270, 100), (180, 100)], rid="GOOD")
    bad = record([("65-00", 120.0), ("05-00", -150.0), ("05-00", 0), ("05-00", 150.0)],
                 unit="mil6000", rid="BAD")
    units = record([(0, 50), (90, 100), (0, 100), (270, 100)], unit="grad", north="up",
                   rid="UNITS")
    few = record([(0, 50), (90, 100), (0, 100)], rid="FEW")
    res = read_traverse(write(tmp_path, "all.yaml", [good, bad, units, few]))
    assert res.records.empty and res.vertices.empty and res.rows.empty
    errors = [str(p) for p in res.problems if p.severity == "error"]
    expected_starts = [
        "all.yaml: record BAD: leg 1: bearing '65-00' is outside the mil6000 circle",
        "all.yaml: record BAD: leg 2: distance_m -150.0 is not positive",
        "all.yaml: record BAD: leg 3: distance_m 0 is not positive",
        "all.yaml: record UNITS: unknown angle unit 'grad'",
        "all.yaml: record UNITS: unknown north reference 'up'",
        "all.yaml: record FEW: fewer than 3 turning points (2)",
    ]
    for start in expected_starts:
        assert any(e.startswith(start) for e in errors), (start, errors)
    assert len(errors) == len(expected_starts)


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    path = write(tmp_path, "syn.yaml", "record_id: A\nlegs:\n  - {bearing: 1, distance_m: 2\n")
    res = read_traverse(path)
    assert len(res.problems) == 1
    assert str(res.problems[0]).startswith("syn.yaml: YAML syntax error at line 4")


def test_yaml_octal_trap_and_duplicate_keys(tmp_path):
    text = """\
record_id: OCT
mines: {ap: 5}
reference_point: {crs: "EPSG:28408", easting: 8664944.38, northing: 4430293.45}
angle_unit: mil6400
north: grid
closed: false
legs:
  - {bearing: 0750, distance_m: 100}
  - {bearing: 2000, distance_m: 100}
  - {bearing: 4000, distance_m: 100}
"""
    res = ok(read_traverse(write(tmp_path, "oct.yaml", text)))
    # 0750 mils = 42.1875°, not octal 488.
    pts = plane_walk("EPSG:28408", E0, N0, [(42.1875, 100.0)])
    v = res.vertices.iloc[1]
    assert math.hypot(v.raw_x - pts[1][0], v.raw_y - pts[1][1]) < 1e-6
    dup = text.replace("  - {bearing: 2000, distance_m: 100}",
                       "  - {bearing: 2000, distance_m: 100, bearing: 2100}")
    res = read_traverse(write(tmp_path, "dup.yaml", dup))
    assert [str(p) for p in res.problems if p.severity == "error"] == [
        "dup.yaml: record OCT: leg 2: field 'bearing' given twice (line 9)"]


def test_handover_must_match(tmp_path):
    legs = [(0, 50), (90, 100), (0, 100), (270, 100), (180, 100)]
    path = write(tmp_path, "ho.yaml", record(legs, handover="fuzuli-2021-07-03"))
    res = read_traverse(path, handover="aghdam-2021-06-12")
    assert res.records.empty
    assert "does not match" in res.problems[0].message
    res = ok(read_traverse(path, handover="fuzuli-2021-07-03"))
    assert res.records.handover.tolist() == ["fuzuli-2021-07-03"]
    res = ok(read_traverse(write(tmp_path, "ho2.yaml", record(legs)), handover="x"))
    assert res.records.handover.tolist() == ["x"]
    assert res.vertices.handover.unique().tolist() == ["x"]


def test_duplicate_record_ids(tmp_path):
    legs = [(0, 50), (90, 100), (0, 100), (270, 100), (180, 100)]
    res = read_traverse(write(tmp_path, "dd.yaml", [record(legs), record(legs)]))
    assert res.records.empty
    assert any("given twice" in p.message for p in res.problems)


# --------------------------------------------------------------------------
# Columns, provenance, points and rows.


def test_columns_and_fields(tmp_path):
    text = (DATA / "agd_0142.yaml").read_text(encoding="utf-8")
    res = ok(read_traverse(DATA / "agd_0142.yaml", handover="aghdam-2021-06-12"))
    assert list(res.records.columns) == [*schema.MINEFIELD_COLUMNS, "geometry"]
    assert list(res.vertices.columns) == [*schema.VERTEX_COLUMNS, "geometry"]
    assert list(res.rows.columns) == [*schema.MINE_ROW_COLUMNS, "geometry"]
    assert res.records.crs.to_epsg() == 4326
    rec = res.records.iloc[0]
    assert (rec.record_id, rec.district, rec.mines_ap, rec.mines_at, rec.mines_total) == (
        "AGD-0142", "Aghdam", 64, 12, 76)
    assert rec.mine_types == "PMN-2;TM-62M"
    assert rec.laid_date == "1993-08-20"
    assert rec.source_file == "agd_0142.yaml"
    assert rec.raw == text
    # Geodesic area, checked with pyproj.Geod on the CCW polygon.
    area, _ = Geod(ellps="WGS84").geometry_area_perimeter(rec.geometry)
    assert area > 0
    assert rec.area_ha == pytest.approx(area / 1e4, rel=1e-3)
    assert res.records.dtypes["mines_total"] == np.int64


def test_intermediate_points_and_labels(tmp_path):
    rec = record([(0, 50), (90, 60), (90, 60), (0, 100), (270, 120), (180, 100)])
    rec["legs"][1]["point"] = "intermediate"
    res = ok(read_traverse(write(tmp_path, "ip.yaml", rec)))
    v = res.vertices
    assert v.label.tolist() == ["RP", "TP1", "IP1", "TP2", "TP3", "TP4"]
    assert v.point_type.tolist() == ["reference", "turning", "intermediate", "turning",
                                     "turning", "turning"]
    assert v.vertex.tolist() == [0, 1, 2, 3, 4, 5]
    # Still a vertex of the polygon: 5 points plus the closing one.
    assert len(res.records.geometry.iloc[0].exterior.coords) == 6


def test_rows_and_mine_positions(tmp_path):
    legs = [(0, 50), (90, 100), (0, 100), (270, 100), (180, 100)]
    rows = [{"from": "TP1", "bearing": 45.0, "distance_m": 78.0, "mines": 40, "type": "PMN-2"},
            {"from": "TP2", "bearing": 0.0, "distance_m": 90.0, "mines": 11, "type": "TM-62M",
             "spacing_m": 9.0}]
    ref = {"lat": 39.98, "lon": 46.93}
    rec = record(legs, ref=ref, north="true", rows=rows, mines={"ap": 40, "at": 11})
    res = ok(read_traverse(write(tmp_path, "rows.yaml", rec)))
    assert res.rows.spacing_m.tolist() == pytest.approx([2.0, 9.0])
    assert res.rows.mines.tolist() == [40, 11]
    assert res.records["flags"].iloc[0] == ""
    tp1 = res.vertices.geometry.iloc[1]
    line = res.rows.geometry.iloc[0]
    g = WGS.Direct(tp1.y, tp1.x, 45.0, 78.0)
    assert WGS.Inverse(g["lat2"], g["lon2"], line.coords[1][1], line.coords[1][0])["s12"] < 1e-6
    pos = mine_positions(res.rows)
    assert list(pos.columns) == ["record_id", "handover", "row", "n", "mine_type", "geometry"]
    assert len(pos) == 51
    first = pos[pos.row == 1]
    assert first.n.tolist() == list(range(1, 41))
    gaps = [WGS.Inverse(a.y, a.x, b.y, b.x)["s12"]
            for a, b in zip(first.geometry.iloc[:-1], first.geometry.iloc[1:])]
    assert gaps == pytest.approx([2.0] * 39, abs=1e-6)
    end = first.geometry.iloc[-1]
    assert WGS.Inverse(end.y, end.x, line.coords[1][1], line.coords[1][0])["s12"] < 1e-6

    rec["mines"] = {"ap": 30, "at": 11}
    res = ok(read_traverse(write(tmp_path, "rows2.yaml", rec)))
    assert res.records["flags"].iloc[0] == "row_count_mismatch"
    rec["rows"][0]["from"] = "TP9"
    res = read_traverse(write(tmp_path, "rows3.yaml", rec))
    assert any("TP9" in p.message and p.severity == "error" for p in res.problems)


def test_unclosed(tmp_path):
    legs = [(0, 50), (90, 100), (0, 100), (270, 100)]
    res = ok(read_traverse(write(tmp_path, "o.yaml", record(legs, closed=False))))
    assert res.records["flags"].iloc[0] == "unclosed"
    assert res.vertices.label.tolist() == ["RP", "TP1", "TP2", "TP3", "TP4"]


def test_csv_matches_yaml(tmp_path):
    res_y = ok(read_traverse(DATA / "agd_0142.yaml"))
    res_c = ok(read_traverse(DATA / "agd_0142.csv"))
    assert res_c.records.record_id.tolist() == ["AGD-0141", "AGD-0142"]
    res_c.records = res_c.records.iloc[[1]]
    a = res_y.records.geometry.iloc[0]
    b = res_c.records.geometry.iloc[0]
    assert shapely.equals_exact(a, b, tolerance=1e-12)
    cols = ["record_id", "district", "mines_ap", "mines_at", "mines_total", "mine_types",
            "laid_date", "source_crs", "transformation"]
    assert res_y.records[cols].iloc[0].tolist() == res_c.records[cols].iloc[0].tolist()
    assert res_c.rows.mines.tolist() == [40]
    raw = res_c.records.raw.iloc[0]
    csv_lines = (DATA / "agd_0142.csv").read_text(encoding="utf-8").splitlines()
    assert raw.splitlines() == [csv_lines[0]] + [ln for ln in csv_lines if "AGD-0142" in ln]
    assert is_traverse_file(DATA / "agd_0142.csv")
    assert is_traverse_file(DATA / "agd_0142.yaml")
    other = tmp_path / "fields.csv"
    other.write_text("record_id,wkt\nA,POINT (1 2)\n")
    assert not is_traverse_file(other)


def test_csv_conflicting_fields(tmp_path):
    text = ("record_id,mines_ap,crs,easting,northing,angle_unit,north,bearing,distance_m\n"
            f"A,5,EPSG:28408,{E0},{N0},deg,grid,0,50\n"
            "A,,,,,,,90,100\nA,,,,,mil6000,,0,100\nA,,,,,,,270,100\nA,,,,,,,180,100\n")
    res = read_traverse(write(tmp_path, "c.csv", text))
    assert res.records.empty
    assert [str(p) for p in res.problems if p.severity == "error"] == [
        "c.csv: record A: line 4: angle_unit 'mil6000' differs from 'deg' on line 2"]


# --------------------------------------------------------------------------
# Property: polygon → legs → the same polygon.


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.integers(3, 9),
    st.lists(st.floats(0.0, 2 * math.pi, allow_nan=False), min_size=9, max_size=9,
             unique=True),
    st.lists(st.floats(20.0, 400.0), min_size=9, max_size=9),
    st.floats(-0.01, 0.01), st.floats(-0.01, 0.01),
    st.sampled_from(["true", "grid"]),
)
def test_polygon_to_legs_and_back(tmp_path, n, thetas, radii, dlon, dlat, north):
    # A star-shaped polygon (vertices sorted by angle around a centre) is simple.
    thetas = sorted(thetas[:n])
    gaps = np.diff(thetas + [thetas[0] + 2 * math.pi])
    assume(gaps.min() > 0.05 and gaps.max() < math.pi - 0.05)
    lat0, lon0 = 39.9 + dlat, 46.9 + dlon
    if north == "true":
        pts = []
        for t, r in zip(thetas, radii):
            g = WGS.Direct(lat0 + 0.005, lon0 + 0.005, math.degrees(t), r)
            pts.append((g["lat2"], g["lon2"]))
        chain = [(lat0, lon0), *pts, pts[0]]
        legs = []
        for (la1, lo1), (la2, lo2) in zip(chain[:-1], chain[1:]):
            inv = WGS.Inverse(la1, lo1, la2, lo2)
            legs.append((inv["azi1"] % 360.0, inv["s12"]))
        ref = {"lat": lat0, "lon": lon0}
    else:
        t = Transformer.from_crs("EPSG:4326", "EPSG:28408", always_xy=True)
        cx, cy = t.transform(lon0, lat0)
        pts = [(cx + 500 + r * math.sin(a), cy + 500 + r * math.cos(a))
               for a, r in zip(thetas, radii)]
        crs = CRS.from_epsg(28408)
        proj = Proj(crs)
        to_geog = Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True)
        chain = [(cx, cy), *pts, pts[0]]
        legs = []
        for (x1, y1), (x2, y2) in zip(chain[:-1], chain[1:]):
            k = proj.get_factors(*to_geog.transform(x1, y1)).meridional_scale
            legs.append((math.degrees(math.atan2(x2 - x1, y2 - y1)) % 360.0,
                         math.hypot(x2 - x1, y2 - y1) / k))
        ref = {"crs": "EPSG:28408", "easting": cx, "northing": cy}
    path = write(tmp_path, f"p{north}.yaml", record(legs, ref=ref, north=north))
    res = ok(read_traverse(path))
    got = res.vertices[res.vertices.point_type != "reference"]
    assert len(got) == n
    if north == "true":
        for (la, lo), geom in zip(pts, got.geometry):
            assert WGS.Inverse(la, lo, geom.y, geom.x)["s12"] < 1e-3
    else:
        back = best_transformer("EPSG:28408")
        for (x, y), geom in zip(pts, got.geometry):
            gx, gy = back.transform(geom.x, geom.y, direction="INVERSE")
            assert math.hypot(gx - x, gy - y) < 1e-3
    assert res.records.misclosure_m.iloc[0] < 1e-3


def test_self_intersecting_perimeter(tmp_path):
    # TP2 and TP3 swapped: a bow tie of two 50 m x 50 m triangles... by hand:
    # TP1 (0,0) → TP2 (100,100) → TP3 (100,0) → TP4 (0,100) → TP1 crosses at (50,50),
    # leaving two triangles of 0.25 ha each.
    e0, n0 = 8_500_000.0, 4_430_000.0
    s2 = math.hypot(100, 100)
    legs = [(0.0, 10.0), (45.0, s2), (180.0, 100.0), (315.0, s2), (180.0, 100.0)]
    ref = {"crs": "EPSG:28408", "easting": e0, "northing": n0}
    path = write(tmp_path, "bow.yaml", record(legs, ref=ref))
    res = ok(read_traverse(path, aoi=WIDE_AOI))
    rec = res.records.iloc[0]
    assert rec["flags"] == "self_intersecting"
    assert rec.geometry.is_valid
    assert rec.area_ha == pytest.approx(0.5, rel=2e-3)
    assert any("self-intersecting" in p.message and p.severity == "warning"
               for p in res.problems)
    hull = ok(read_traverse(path, aoi=WIDE_AOI, repair="hull")).records.iloc[0]
    assert hull.area_ha == pytest.approx(1.0, rel=2e-3)


def test_csv_leg_numbers_must_follow_line_order(tmp_path):
    head = "record_id,mines_ap,leg,crs,easting,northing,angle_unit,north,bearing,distance_m\n"
    first = f"A,5,1,EPSG:28408,{E0},{N0},deg,grid,0,50\n"
    rest = ["A,,2,,,,,,90,100\n", "A,,3,,,,,,0,100\n", "A,,4,,,,,,270,100\n",
            "A,,5,,,,,,180,100\n"]
    ok(read_traverse(write(tmp_path, "n.csv", head + first + "".join(rest))))
    res = read_traverse(write(tmp_path, "s.csv", head + first + "".join(
        [rest[1], rest[0], rest[2], rest[3]])))
    assert res.records.empty
    assert "leg numbers are not 1, 2, 3" in res.problems[0].message


def test_record_id_must_be_one_plain_value(tmp_path):
    legs = ("mines: {ap: 3}\nreference_point: {lat: 39.98, lon: 46.93}\nangle_unit: deg\n"
            "north: true\nclosed: false\nlegs:\n  - {bearing: 0, distance_m: 50}\n"
            "  - {bearing: 90, distance_m: 50}\n  - {bearing: 180, distance_m: 50}\n")
    res = read_traverse(write(tmp_path, "l.yaml", "record_id: [a, b]\n" + legs))
    assert res.records.empty
    assert "record_id must be a single value" in res.problems[0].message
    res = read_traverse(write(tmp_path, "c.yaml", 'record_id: "A\\nB"\n' + legs))
    assert res.records.empty
    assert str(res.problems[0]).startswith("c.yaml: record A?B: record_id contains control")
