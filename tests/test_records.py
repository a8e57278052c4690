"""Reading and validating minefield records from every GIS format."""

from __future__ import annotations

import json
import zipfile

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Geod, Transformer

from minemap import Store, read_records
from minemap.geo.geometry import area_ha
from tests.conftest import feature, rect, utm_to_ll, write_geojson

GEOD = Geod(ellps="WGS84")


def _geod_ha(geom) -> float:
    return abs(GEOD.geometry_area_perimeter(shapely.orient_polygons(geom))[0]) / 10_000


def _errors(rs):
    return [str(p) for p in rs.problems if p.severity == "error"]


def _one(tmp_path, props, geom, name="one.geojson"):
    props = {"mines_ap": 1, **props} if not {"mines_ap", "mines_at"} & set(props) else props
    return write_geojson(tmp_path / name, [feature({"record_id": "R-1", **props}, geom)])


@pytest.mark.parametrize(
    ("props", "geom", "expected"),
    [
        ({"mines_ap": -3}, rect(0, 0, 100, 100), "mines_ap is negative"),
        ({"mines_ap": "many"}, rect(0, 0, 100, 100), "mines_ap is not a number"),
        ({"mines_at": 2.5}, rect(0, 0, 100, 100), "not a whole number"),
        ({}, None, "missing or empty geometry"),
        ({}, shapely.Polygon(), "missing or empty geometry"),
        ({}, shapely.Polygon([(46.9, 39.9), (46.91, 39.9), (46.9, 39.9), (46.91, 39.9)]),
         "fewer than 3 distinct vertices"),
        ({}, shapely.box(200, 39, 201, 40), "out of range"),
        ({}, shapely.box(10, 50, 10.01, 50.01), "outside the area of interest"),
        ({}, shapely.box(39.9, 46.9, 39.91, 46.91), "coordinates look swapped (lat, lon)"),
        ({"mines_ap": 5, "mines_at": 5, "mines_total": 3}, rect(0, 0, 100, 100),
         "mines_total 3 is less than"),
    ],
)
def test_refusals_name_file_and_record(tmp_path, cli, store_path, props, geom, expected):
    path = _one(tmp_path, props, geom)
    rs = read_records([path], handover="h")
    errors = _errors(rs)
    assert errors and expected in errors[0]
    assert errors[0].startswith("one.geojson: record R-1: ")
    res = cli("import-records", path, "--handover", "h")
    assert res.exit_code == 1
    assert "Traceback" not in res.output
    line = [ln for ln in res.output.splitlines() if ln.startswith("Error:")]
    assert len(line) == 1 and "one.geojson" in line[0] and "R-1" in line[0]
    assert not store_path.exists() or Store(store_path).latest_revision() == 0


def test_duplicate_ids_refused_after_trimming(tmp_path):
    feats = [feature({"record_id": "A-1", "mines_ap": 1}, rect(0, 0, 50, 50)),
             feature({"record_id": " A-1 "}, rect(100, 0, 50, 50))]
    rs = read_records([write_geojson(tmp_path / "d.geojson", feats)], handover="h")
    assert any("duplicate record id" in e for e in _errors(rs))


def test_validate_lists_every_problem(tmp_path, cli):
    feats = [feature({"record_id": "A-1", "mines_ap": -1}, rect(0, 0, 50, 50)),
             feature({"record_id": "A-2", "mines_at": "x"}, rect(100, 0, 50, 50)),
             feature({"record_id": "A-3"}, None)]
    path = write_geojson(tmp_path / "v.geojson", feats)
    res = cli("validate", path)
    assert res.exit_code == 1
    for rid in ("A-1", "A-2", "A-3"):
        assert f"record {rid}" in res.output


def test_bow_tie_is_kept_and_flagged_or_hulled(tmp_path, store_path):
    ll = [utm_to_ll(shapely.Point(650_000 + x, 4_427_000 + y)).coords[0]
          for x, y in [(0, 0), (100, 100), (100, 0), (0, 100), (0, 0)]]
    path = _one(tmp_path, {"mines_ap": 4}, shapely.Polygon(ll))
    rs = read_records([path], handover="h")
    assert not _errors(rs)
    warn = [str(p) for p in rs.problems if p.severity == "warning"]
    assert any("R-1" in w and "self-intersecting" in w for w in warn)
    row = rs.minefields.iloc[0]
    assert row["flags"] == "self_intersecting"
    # Two triangles of 2500 m² each, from the vertices as drawn.
    assert row.area_ha == pytest.approx(0.5, rel=1e-3)
    hull = read_records([path], handover="h", repair="hull").minefields.iloc[0]
    assert hull.area_ha == pytest.approx(1.0, rel=1e-3)


@pytest.mark.parametrize("hole_cw", [True, False])
def test_holes_either_way_subtract(tmp_path, hole_cw):
    outer = rect(0, 0, 300, 300)
    hole = rect(100, 100, 100, 100)
    ring = list(hole.exterior.coords)
    if shapely.LinearRing(ring).is_ccw == hole_cw:
        ring = ring[::-1]
    poly = shapely.Polygon(list(outer.exterior.coords), [ring])
    rs = read_records([_one(tmp_path, {}, poly)], handover="h")
    assert not _errors(rs)
    expected = _geod_ha(shapely.Polygon(list(outer.exterior.coords),
                                        [list(hole.exterior.coords)]))
    assert rs.minefields.iloc[0].area_ha == pytest.approx(expected, rel=1e-3)
    assert rs.minefields.iloc[0].area_ha == pytest.approx(8.0, rel=2e-3)


def test_duplicate_consecutive_vertices_removed(tmp_path):
    c = list(rect(0, 0, 100, 100).exterior.coords)
    poly = shapely.Polygon([c[0], c[1], c[1], c[2], c[3], c[3], c[0]])
    rs = read_records([_one(tmp_path, {}, poly)], handover="h")
    assert len(rs.minefields.geometry.iloc[0].exterior.coords) == 5


def test_geocheck_warnings(tmp_path):
    feats = [feature({"record_id": "A-1", "mines_ap": 1}, rect(0, 0, 100, 100)),
             feature({"record_id": "A-2", "mines_ap": 1}, rect(2, 2, 100, 100)),
             feature({"record_id": "A-3", "mines_ap": 1}, rect(0, 1000, 6000, 50))]
    rs = read_records([write_geojson(tmp_path / "g.geojson", feats)], handover="h")
    warn = [str(p) for p in rs.problems if p.severity == "warning"]
    assert any("overlaps record" in w for w in warn)
    assert any("A-3" in w and "km apart" in w for w in warn)


def test_area_matches_pyproj_geod(tmp_path):
    polys = [rect(0, 0, 100, 100), rect(1000, 0, 800, 30), rect(0, 2000, 2000, 2000)]
    got = area_ha(np.array(polys, dtype=object))
    for g, p in zip(got, polys):
        assert g == pytest.approx(_geod_ha(p), rel=1e-3)


def test_district_names_normalised(tmp_path):
    feats = [feature({"record_id": f"A-{i}", "district": d, "mines_ap": 1},
                     rect(200 * i, 0, 50, 50))
             for i, d in enumerate(["Ağdam", "AGDAM", "Агдам", "Fizuli"])]
    rs = read_records([write_geojson(tmp_path / "n.geojson", feats)], handover="h")
    assert list(rs.minefields.district) == ["Aghdam", "Aghdam", "Aghdam", "Fuzuli"]


# -- formats ---------------------------------------------------------------------


def _frame(n=3):
    return gpd.GeoDataFrame(
        {"record_id": [f"F-{i}" for i in range(n)], "mines_ap": [10 * i for i in range(n)],
         "mines_at": [1] * n, "district": ["Agdam"] * n},
        geometry=[rect(200 * i, 0, 100, 100) for i in range(n)], crs="EPSG:4326",
    )


def _check(rs, n=3):
    assert not _errors(rs), _errors(rs)
    assert list(rs.minefields.record_id) == [f"F-{i}" for i in range(n)]
    assert list(rs.minefields.mines_total) == [10 * i + 1 for i in range(n)]
    for got, want in zip(rs.minefields.geometry, _frame(n).geometry):
        assert shapely.hausdorff_distance(got, want) < 1e-7  # about 1 cm


def test_geopackage_with_layer(tmp_path):
    path = tmp_path / "f.gpkg"
    _frame().to_file(path, layer="fields", driver="GPKG")
    _frame().to_file(path, layer="other", driver="GPKG")
    _check(read_records([path], handover="h", layer="fields"))


def test_shapefile_and_zip(tmp_path):
    shp = tmp_path / "shp" / "fields.shp"
    shp.parent.mkdir()
    _frame().to_file(shp)
    _check(read_records([shp], handover="h"))
    zpath = tmp_path / "fields.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for f in shp.parent.iterdir():
            zf.write(f, f.name)
    _check(read_records([zpath], handover="h"))


def test_zip_member_outside_folder_refused(tmp_path):
    zpath = tmp_path / "evil.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr("../evil.shp", b"x")
    rs = read_records([zpath], handover="h")
    assert any("outside its folder" in e for e in _errors(rs))


def _kml(frame) -> str:
    marks = []
    for r in frame.itertuples():
        coords = " ".join(f"{x},{y},0" for x, y in r.geometry.exterior.coords)
        marks.append(
            f"<Placemark><name>{r.record_id}</name><ExtendedData>"
            f'<Data name="mines_ap"><value>{r.mines_ap}</value></Data>'
            f'<Data name="mines_at"><value>{r.mines_at}</value></Data></ExtendedData>'
            f"<Polygon><outerBoundaryIs><LinearRing><coordinates>{coords}</coordinates>"
            "</LinearRing></outerBoundaryIs></Polygon></Placemark>"
        )
    return ('<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
            + "".join(marks) + "</Document></kml>")


def test_kml_and_kmz(tmp_path):
    (tmp_path / "f.kml").write_text(_kml(_frame()))
    _check(read_records([tmp_path / "f.kml"], handover="h"))
    with zipfile.ZipFile(tmp_path / "f.kmz", "w") as zf:
        zf.writestr("doc.kml", _kml(_frame()))
    _check(read_records([tmp_path / "f.kmz"], handover="h"))


def test_kml_entity_expansion_refused(tmp_path):
    bomb = ('<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]>'
            '<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>&b;</name>'
            "</Document></kml>")
    (tmp_path / "b.kml").write_text(bomb)
    assert any("not safe" in e or "not valid" in e
               for e in _errors(read_records([tmp_path / "b.kml"], handover="h")))


def test_csv_wkt_and_lonlat(tmp_path):
    frame = _frame()
    wkt = frame.assign(wkt=shapely.to_wkt(frame.geometry.values, rounding_precision=-1)).drop(columns="geometry")
    wkt.to_csv(tmp_path / "f.csv", index=False)
    _check(read_records([tmp_path / "f.csv"], handover="h"))


def test_crs_option_sk42_uses_pyproj_datum_shift(tmp_path, store_path):
    """EPSG:28408 (northing-first) via --crs; the transformation is recorded."""
    frame = _frame()
    to_gk = Transformer.from_crs("EPSG:4326", "EPSG:28408", always_xy=True)
    gk = frame.copy()
    gk["geometry"] = shapely.transform(
        np.asarray(frame.geometry.values), lambda xy: np.column_stack(to_gk.transform(
            xy[:, 0], xy[:, 1])))
    gk = gk.set_crs(None, allow_override=True)
    wkt = gk.assign(wkt=shapely.to_wkt(gk.geometry.values, rounding_precision=-1)).drop(columns="geometry")
    wkt.to_csv(tmp_path / "gk.csv", index=False)
    rs = read_records([tmp_path / "gk.csv"], handover="h", crs="EPSG:28408")
    _check(rs)
    assert "Pulkovo 1942 to WGS 84" in rs.minefields.transformation.iloc[0]
    assert rs.minefields.source_crs.iloc[0] == "EPSG:28408"
    # The raw source geometry is kept beside the WGS84 one.
    assert "POLYGON" in json.loads(rs.minefields.raw.iloc[0])["geometry"]


def test_map_option(tmp_path):
    feats = [feature({"ID_FIELD": "F-0", "AP_COUNT": 3}, rect(0, 0, 50, 50))]  # counted
    path = write_geojson(tmp_path / "m.geojson", feats)
    rs = read_records([path], handover="h", column_map={"record_id": "ID_FIELD",
                                                        "mines_ap": "AP_COUNT"})
    assert list(rs.minefields.record_id) == ["F-0"] and list(rs.minefields.mines_ap) == [3]


def test_gpkg_multiple_layers_needs_layer(tmp_path, cli):
    path = tmp_path / "f.gpkg"
    _frame().to_file(path, layer="a", driver="GPKG")
    _frame().to_file(path, layer="b", driver="GPKG")
    res = cli("import-records", path, "--handover", "h")
    assert res.exit_code == 2 and "--layer" in res.output
    assert pyogrio.list_layers(path).shape[0] == 2


# -- property test: any input imports or is refused cleanly ------------------------

_coord = st.one_of(st.floats(-200, 200), st.just(float("nan")))
_count = st.one_of(st.integers(-5, 500), st.floats(-1, 10), st.text(max_size=4), st.none())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    coords=st.lists(st.tuples(_coord, _coord), min_size=0, max_size=7),
    near=st.booleans(),
    ap=_count,
    rid=st.one_of(st.text(max_size=6), st.none()),
)
def test_readers_never_crash(tmp_path, coords, near, ap, rid):
    if near:
        coords = [(46.9 + x / 2000, 39.9 + y / 2000) for x, y in coords]
    ring = coords + coords[:1] if coords else []
    geom = {"type": "Polygon", "coordinates": [ring]} if len(ring) >= 4 else None
    feat = {"type": "Feature", "properties": {"record_id": rid, "mines_ap": ap},
            "geometry": geom}
    path = tmp_path / "h.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feat]}))
    rs = read_records([path], handover="h")
    if _errors(rs):
        assert all(e.startswith("h.geojson") for e in _errors(rs))
    else:
        row = rs.minefields.iloc[0]
        assert row.area_ha > 0 and row.geometry.is_valid


def test_broken_json_names_the_position(tmp_path, cli):
    path = tmp_path / "broken.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature",')
    res = cli("import-records", path, "--handover", "h")
    assert res.exit_code == 1
    assert "broken.geojson: not valid JSON" in res.output and "line 1" in res.output


def test_csv_row_with_extra_fields_is_refused_not_shifted(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("record_id,wkt\nA,POLYGON((46.9 39.9, 46.91 39.9, 46.91 39.91, 46.9 39.9))\n")
    errors = _errors(read_records([path], handover="h"))
    assert errors == ["x.csv: line 2 has 5 fields, the header 2 (quote WKT values that contain"
                      " commas)"]


def test_line_separator_characters_in_values(tmp_path):
    """U+2028 in a value must not split the record; in an id it is refused."""
    feats = [feature({"record_id": "A-1", "mine_types": "PMN\u2029\x1c", "mines_at": 2},
                     rect(0, 0, 50, 50))]
    rs = read_records([write_geojson(tmp_path / "u.geojson", feats)], handover="h")
    assert not _errors(rs)
    assert list(rs.minefields.record_id) == ["A-1"]
    assert json.loads(rs.minefields.raw.iloc[0])["mine_types"] == "PMN\u2029\x1c"
    feats = [feature({"record_id": "A\nerror: fake.geojson: record X: spoofed", "mines_ap": 1},
                     rect(0, 0, 50, 50))]
    errors = _errors(read_records([write_geojson(tmp_path / "n.geojson", feats)],
                                  handover="h"))
    assert errors == ["n.geojson: record A?error: fake.geojson: record X: spoofed: record_id"
                      " contains control characters or line breaks"]


def test_counts_too_large_or_boolean_are_refused(tmp_path):
    feats = [feature({"record_id": "B-1", "mines_ap": 1e308}, rect(0, 0, 50, 50)),
             feature({"record_id": 1234, "mines_ap": 3}, rect(200, 0, 50, 50))]
    rs = read_records([write_geojson(tmp_path / "b.geojson", feats)], handover="h")
    errors = _errors(rs)
    assert errors == ["b.geojson: record B-1: mines_ap 1e+308 is too large (more than"
                      " 10,000,000)"]
    # A column of true/false (GDAL reads it as booleans) is not a count.
    feats = [feature({"record_id": "B-2", "mines_at": True}, rect(100, 0, 50, 50))]
    errors = _errors(read_records([write_geojson(tmp_path / "t.geojson", feats)],
                                  handover="h"))
    assert errors and "record B-2: mines_at is not a number" in errors[0]


def test_collapsed_hole_is_refused_cleanly(tmp_path):
    outer = list(rect(0, 0, 300, 300).exterior.coords)
    p = rect(100, 100, 10, 10).exterior.coords[0]
    poly = {"type": "Polygon", "coordinates": [outer, [p, p, p, p]]}
    feat = {"type": "Feature", "properties": {"record_id": "H-1", "mines_ap": 1},
            "geometry": poly}
    path = tmp_path / "hole.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feat]}))
    errors = _errors(read_records([path], handover="h"))
    assert errors and errors[0].startswith("hole.geojson: record H-1: ")


def test_record_without_any_count_is_refused(tmp_path):
    """Stored as 0 it would show nothing remaining on hazardous ground."""
    path = write_geojson(tmp_path / "c.geojson", [
        feature({"record_id": "N-1"}, rect(0, 0, 50, 50)),
        feature({"record_id": "N-2", "mines_total": 0}, rect(100, 0, 50, 50)),
    ])
    errors = _errors(read_records([path], handover="h"))
    assert errors == ["c.geojson: record N-1: no mine count: give mines_ap, mines_at or"
                      " mines_total (0 if the record says none)"]


def test_csv_lon_lat_vertices_make_polygons(tmp_path):
    """One row per vertex, grouped by record_id, fields on the first row."""
    corners = [(0, 0), (100, 0), (100, 100), (0, 100)]
    lines = ["record_id,mines_ap,mines_at,district,lon,lat"]
    for k, (x, y) in enumerate(corners):
        p = utm_to_ll(shapely.Point(650_000 + x, 4_427_000 + y))
        lines.append(f"V-1,{'10' if k == 0 else ''},{'2' if k == 0 else ''},"
                     f"{'Agdam' if k == 0 else ''},{p.x!r},{p.y!r}")
    (tmp_path / "v.csv").write_text("\n".join(lines) + "\n")
    rs = read_records([tmp_path / "v.csv"], handover="h")
    assert not _errors(rs)
    row = rs.minefields.iloc[0]
    assert (row.record_id, row.mines_total, row.district) == ("V-1", 12, "Aghdam")
    assert row.area_ha == pytest.approx(_geod_ha(rect(0, 0, 100, 100)), rel=1e-6)
    bad = lines[:2] + [lines[2].replace(",,,", ",,,Fizuli", 1)] + lines[3:]
    (tmp_path / "b.csv").write_text("\n".join(bad) + "\n")
    errors = _errors(read_records([tmp_path / "b.csv"], handover="h"))
    assert any("record V-1" in e and "district 'Fizuli' on line 3" in e for e in errors)


def test_overlap_warning_across_files(tmp_path):
    a = write_geojson(tmp_path / "a.geojson", [feature({"record_id": "A", "mines_ap": 1},
                                                       rect(0, 0, 100, 100))])
    b = write_geojson(tmp_path / "b.geojson", [feature({"record_id": "B", "mines_ap": 1},
                                                       rect(0, 0, 100, 100))])
    warn = [str(p) for p in read_records([a, b], handover="h").problems]
    assert any("overlaps record" in w for w in warn)


def test_traverse_polygon_outside_area_is_refused(tmp_path):
    path = tmp_path / "far.yaml"
    path.write_text(
        "record_id: FAR\nmines: {ap: 1}\nreference_point: {lat: 40.50, lon: 46.93}\n"
        "angle_unit: deg\nnorth: true\nclosed: false\nlegs:\n"
        "  - {bearing: 0, distance_m: 100}\n  - {bearing: 0, distance_m: 9000}\n"
        "  - {bearing: 90, distance_m: 100}\n")
    errors = _errors(read_records([path], handover="h"))
    assert any("far.yaml: record FAR: the surveyed polygon reaches outside" in e
               for e in errors)


def test_unclosed_ring_names_the_record(tmp_path):
    c = list(rect(0, 0, 50, 50).exterior.coords)[:-1]
    text = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"record_id": "OK-1", "mines_ap": 1},
         "geometry": json.loads(shapely.to_geojson(rect(200, 0, 50, 50)))},
        {"type": "Feature", "properties": {"record_id": "U-1", "mines_ap": 1},
         "geometry": {"type": "Polygon", "coordinates": [[list(p) for p in c[:2]]]}}]})
    (tmp_path / "u.geojson").write_text(text)
    errors = _errors(read_records([tmp_path / "u.geojson"], handover="h"))
    assert errors and errors[0].startswith("u.geojson: record U-1: ")


def test_sk42_axes_swapped_hint(tmp_path):
    """Easting and northing exchanged in an EPSG:28408 file: say so."""
    to_gk = Transformer.from_crs("EPSG:4326", "EPSG:28408", always_xy=True)
    ll = rect(0, 0, 100, 100)
    gk = shapely.transform(ll, lambda xy: np.column_stack(to_gk.transform(xy[:, 0], xy[:, 1])))
    swapped = shapely.transform(gk, lambda xy: xy[:, ::-1])
    (tmp_path / "s.csv").write_text(
        "record_id,mines_ap,wkt\n" f'S-1,1,"{shapely.to_wkt(swapped, rounding_precision=-1)}"\n')
    errors = _errors(read_records([tmp_path / "s.csv"], handover="h", crs="EPSG:28408"))
    assert errors and "easting and northing exchanged" in errors[0]


def test_degenerate_polygon_warns(tmp_path):
    a = utm_to_ll(shapely.Point(650_000, 4_427_000)).coords[0]
    b = utm_to_ll(shapely.Point(650_100, 4_427_000)).coords[0]
    m = utm_to_ll(shapely.Point(650_050, 4_427_000.001)).coords[0]
    path = _one(tmp_path, {}, shapely.Polygon([a, b, m]))
    rs = read_records([path], handover="h")
    assert any("less than 1 m²" in str(p) for p in rs.problems if p.severity == "warning")


def test_empty_source_is_refused(tmp_path, cli):
    path = write_geojson(tmp_path / "e.geojson", [])
    assert _errors(read_records([path], handover="h")) == ["e.geojson: holds no records"]
    assert cli("import-clearance", path).exit_code == 1


def test_zip_bomb_member_is_refused_unread(tmp_path):
    zpath = tmp_path / "bomb.kmz"
    with zipfile.ZipFile(zpath, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("doc.kml", b" " * (60 * 1024**2))  # 60 MB of blanks, ~60 kB stored
    errors = _errors(read_records([zpath], handover="h"))
    assert errors and errors[0].startswith("bomb.kmz: archive member 'doc.kml' expands to")


def test_non_utf8_csv_says_so(tmp_path):
    (tmp_path / "l.csv").write_bytes("record_id,mines_ap,wkt\nGüzel,1,POINT (1 1)\n"
                                     .encode("latin-1"))
    errors = _errors(read_records([tmp_path / "l.csv"], handover="h"))
    assert errors and "is not UTF-8 text" in errors[0]
