"""Tests of minemap.export: every writer, checked against values computed here."""

from __future__ import annotations

import csv
import importlib
import io
import json
import math
import sqlite3
import zipfile
from pathlib import Path

import defusedxml.ElementTree as DET
import geopandas as gpd
import gpxpy
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Transformer

from minemap._errors import DataError, UsageError
from minemap.records import schema

# ``minemap.export`` is also the name of the API function bound in the package.
ex = importlib.import_module("minemap.export")
geojson_mod = importlib.import_module("minemap.export.geojson")
gpkg_mod = importlib.import_module("minemap.export.gpkg")

XSS = '<img src=x onerror="alert(1)">&'


def shoelace(coords) -> float:
    """Signed planar area: positive for counter-clockwise rings."""
    # Relative to the first vertex, to avoid cancellation at lon/lat magnitudes.
    x = np.asarray([c[0] for c in coords]) - coords[0][0]
    y = np.asarray([c[1] for c in coords]) - coords[0][1]
    return 0.5 * float(np.sum(x[:-1] * y[1:] - x[1:] * y[:-1]))


# A clockwise field (as many source files have it) with 8-decimal coordinates,
# and its expected 6-decimal coordinates worked out by hand (no half-way cases).
CW_RING = [(46.12345678, 39.98765432), (46.12345678, 39.99765411),
           (46.13345649, 39.99765411), (46.13345649, 39.98765432)]
CW_RING_6 = [(46.123457, 39.987654), (46.123457, 39.997654),
             (46.133456, 39.997654), (46.133456, 39.987654)]


def minefields(n_extra: int = 0) -> gpd.GeoDataFrame:
    """Three fields: a clockwise square, a field with a hole, a two-part field."""
    shell = [(46.20, 39.90), (46.21, 39.90), (46.21, 39.91), (46.20, 39.91)]
    hole = [(46.204, 39.904), (46.206, 39.904), (46.206, 39.906), (46.204, 39.906)]
    geoms = [
        shapely.Polygon(CW_RING),
        shapely.Polygon(shell, [hole]),  # hole counter-clockwise: must be flipped
        shapely.MultiPolygon([shapely.box(46.30, 39.80, 46.301, 39.801),
                              shapely.box(46.31, 39.80, 46.311, 39.801)]),
    ]
    rows = {
        "record_id": ["AGD-0142", XSS, "FZL-7"],
        "handover": ["aghdam-2021-06-12", "aghdam-2021-06-12", "fuzuli-2021-07-03"],
        "district": ["Aghdam", "Aghdam", "Fuzuli"],
        "mines_ap": [64, 10, 0],
        "mines_at": [12, 0, 5],
        "mines_total": [76.0, 10.0, np.nan],  # float because of the missing value
        "mine_types": ["PMN-2;TM-62M", "PMN-2", ""],
        "laid_date": ["1993-08-20", "", "1994-01-02"],
        "reliability": ["", "", ""],
        "area_ha": [95.123, 85.0, 2.5],
        "flags": ["", "self_intersecting", ""],
        "source_file": ["a.yaml", "b.geojson", "c.gpkg"],
        "source_crs": ["EPSG:28408", "EPSG:4326", "EPSG:4326"],
        "transformation": ["Pulkovo 1942 to WGS 84 (20)", "", ""],
        "raw": ['{"id": 1}', "{}", "{}"],
        "misclosure_m": [0.4, np.nan, np.nan],
        "misclosure_ratio": [1500.0, np.nan, np.nan],
        "declination_deg": [np.nan, np.nan, np.nan],
        "status": ["not_started", "in_progress", "released"],
    }
    return gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4326")


def items() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"item_id": ["i1", "i2", "i3"], "item_type": ["AP", "AT", "UXO"],
         "date": pd.to_datetime(["2022-01-03", "2022-01-04", None]),
         "model": ["PMN-2", "TM-62M", ""], "report_id": ["r1", "", ""],
         "district": ["Aghdam"] * 3, "source_file": ["f.csv"] * 3},
        geometry=[shapely.Point(46.2, 39.9), shapely.Point(46.3, 39.8),
                  shapely.Point(46.1234567, 39.7654321)],
        crs="EPSG:4326")


def incidents() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"incident_id": ["x1", "x2"], "date": ["2021-05-01", "2021-06-01"],
         "killed": [1, 0], "injured": [2, 3], "civilian": [True, False],
         "district": ["Aghdam", "Tartar"], "source_file": ["inc.csv"] * 2},
        geometry=[shapely.Point(46.9, 40.0), shapely.Point(46.93, 40.35)], crs="EPSG:4326")


def releases() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"report_id": ["r1", "r2", "r3"], "date_start": ["2022-01-01"] * 3,
         "date_end": ["2022-01-10"] * 3, "operator": ["ANAMA"] * 3,
         "method": ["manual", "MDD", "mechanical"], "outcome": ["cleared", "reduced", "odd"],
         "district": ["Aghdam"] * 3, "found_ap": [3.0, np.nan, 0.0],
         "found_at": [np.nan] * 3, "found_uxo": [1.0, 0.0, 0.0],
         "area_ha": [1.0, 2.0, 3.0], "source_file": ["rel.geojson"] * 3},
        geometry=[shapely.box(46.2, 39.9, 46.205, 39.905), shapely.box(46.3, 39.8, 46.31, 39.81),
                  shapely.box(46.4, 39.8, 46.41, 39.81)], crs="EPSG:4326")


def read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


# ---------------------------------------------------------------------- GeoJSON


def test_geojson_rfc7946(tmp_path):
    out = tmp_path / "fields.geojson"
    warnings = ex.write({"minefields": minefields()}, out)
    assert warnings == []
    doc = json.loads(read_text(out))
    assert doc["type"] == "FeatureCollection"
    assert "crs" not in doc
    f0, f1, f2 = doc["features"]
    # Clockwise input comes out counter-clockwise, rounded to 6 decimals.
    ring = f0["geometry"]["coordinates"][0]
    assert shoelace(ring) > 0
    assert ring[0] == ring[-1]
    assert {tuple(c) for c in ring} == set(CW_RING_6)
    # Holes clockwise.
    outer, inner = f1["geometry"]["coordinates"]
    assert shoelace(outer) > 0 and shoelace(inner) < 0
    assert f2["geometry"]["type"] == "MultiPolygon"
    # Counts as integers, NaN as null, strings untouched, raw kept.
    text = read_text(out)
    assert '"mines_total":76,' in text and '"mines_total":76.0' not in text
    assert f2["properties"]["mines_total"] is None
    assert f0["properties"]["misclosure_m"] == 0.4
    assert f0["properties"]["declination_deg"] is None
    assert f1["properties"]["record_id"] == XSS
    assert f0["properties"]["raw"] == '{"id": 1}'
    assert "NaN" not in text


def test_geojson_iso_dates_and_bools(tmp_path):
    out = tmp_path / "items.geojson"
    ex.write({"items": items()}, out)
    props = [f["properties"] for f in json.loads(read_text(out))["features"]]
    assert [p["date"] for p in props] == ["2022-01-03", "2022-01-04", None]
    out2 = tmp_path / "inc.geojson"
    ex.write({"incidents": incidents()}, out2)
    props = [f["properties"] for f in json.loads(read_text(out2))["features"]]
    assert [p["civilian"] for p in props] == [True, False]
    assert [p["killed"] for p in props] == [1, 0]


def test_geojson_precision_option(tmp_path):
    out = tmp_path / "p5.geojson"
    ex.write({"minefields": minefields()}, out, precision=5)
    ring = json.loads(read_text(out))["features"][0]["geometry"]["coordinates"][0]
    assert {tuple(c) for c in ring} == {(46.12346, 39.98765), (46.12346, 39.99765),
                                        (46.13346, 39.99765), (46.13346, 39.98765)}


def test_coarse_precision_refused_then_warned(tmp_path):
    out = tmp_path / "coarse.geojson"
    with pytest.raises(UsageError, match="allow_coarse"):
        ex.write({"minefields": minefields()}, out, precision=4)
    assert not out.exists()
    warnings = ex.write({"minefields": minefields()}, out, precision=4, allow_coarse=True)
    assert any("safety decision" in w for w in warnings)
    with pytest.raises(UsageError):
        ex.to_geojson_dict(minefields(), precision=3)


def test_to_geojson_dict_matches_file(tmp_path):
    out = tmp_path / "f.geojson"
    ex.write({"minefields": minefields()}, out)
    assert ex.to_geojson_dict(minefields()) == json.loads(read_text(out))


def test_stdout(tmp_path):
    buf = io.StringIO()
    ex.write({"minefields": minefields()}, "-", stdout=buf)
    doc = json.loads(buf.getvalue())
    assert [f["properties"]["record_id"] for f in doc["features"]] == ["AGD-0142", XSS, "FZL-7"]
    assert list(tmp_path.iterdir()) == []


def test_geojson_text_sequence(tmp_path):
    out = tmp_path / "f.geojsons"
    ex.write({"minefields": minefields()}, out)
    data = out.read_bytes()
    records = data.split(b"\x1e")
    assert records[0] == b""
    assert len(records) == 4
    for rec in records[1:]:
        assert rec.endswith(b"\n") and rec.count(b"\n") == 1
        assert json.loads(rec)["type"] == "Feature"
    # GDAL reads it back as the same three features.
    back = pyogrio.read_dataframe(out)
    assert list(back["record_id"]) == ["AGD-0142", XSS, "FZL-7"]


def test_empty_layer_geojson(tmp_path):
    out = tmp_path / "empty.geojson"
    warnings = ex.write({"minefields": minefields().iloc[:0]}, out)
    assert json.loads(read_text(out)) == {"type": "FeatureCollection", "features": []}
    assert any("no features" in w for w in warnings)


def test_other_crs_is_transformed(tmp_path):
    t = Transformer.from_crs("EPSG:4326", "EPSG:32638", always_xy=True)
    x, y = t.transform(46.5, 39.5)
    gdf = gpd.GeoDataFrame({"item_id": ["p"], "item_type": ["AP"]},
                           geometry=[shapely.Point(x, y)], crs="EPSG:32638")
    doc = ex.to_geojson_dict(gdf, layer="items")
    lon, lat = doc["features"][0]["geometry"]["coordinates"]
    assert abs(lon - 46.5) <= 1e-6 and abs(lat - 39.5) <= 1e-6


# ---------------------------------------------------------------------- round trips


def _check_round_trip(back: gpd.GeoDataFrame, original: gpd.GeoDataFrame, id_col="record_id"):
    assert list(back[id_col]) == list(original[id_col])
    half_cell = math.sqrt(2) * 0.5e-6 + 1e-12
    for a, b in zip(back.geometry.values, original.geometry.values):
        assert shapely.hausdorff_distance(a, b) <= half_cell
        assert shapely.is_valid(a)


@pytest.mark.parametrize("ext", [".geojson", ".gpkg", ".shp", ".zip", ".kml"])
def test_round_trip(tmp_path, ext):
    gdf = minefields()
    out = tmp_path / f"fields{ext}"
    ex.write({"minefields": gdf}, out)
    back = pyogrio.read_dataframe(out, layer="minefields" if ext == ".gpkg" else None)
    if ext in (".shp", ".zip"):
        sidecar = (zipfile.ZipFile(out).read("fieldnames.csv").decode() if ext == ".zip"
                   else read_text(tmp_path / "fields.fieldnames.csv"))
        mapping = dict(list(csv.reader(io.StringIO(sidecar)))[1:])
        back = back.rename(columns={s: f for f, s in mapping.items()})
    _check_round_trip(back, gdf)
    assert list(back["mines_ap"]) == [64, 10, 0]
    assert list(back["mines_total"].iloc[:2]) == [76, 10]
    assert pd.isna(back["mines_total"].iloc[2])
    assert list(back["status"]) == ["not_started", "in_progress", "released"]
    if ext in (".geojson", ".gpkg"):
        assert list(back["raw"]) == ['{"id": 1}', "{}", "{}"]
    else:
        assert "raw" not in back.columns


def test_round_trip_points_and_bools(tmp_path):
    out = tmp_path / "inc.gpkg"
    ex.write({"incidents": incidents(), "items": items()}, out)
    back = pyogrio.read_dataframe(out, layer="incidents")
    _check_round_trip(back, incidents(), "incident_id")
    assert list(back["civilian"]) == [True, False]
    back = pyogrio.read_dataframe(out, layer="items")
    assert list(back["item_id"]) == ["i1", "i2", "i3"]
    assert list(back["date"].iloc[:2]) == ["2022-01-03", "2022-01-04"]
    # 8 decimals in, 6 out.
    assert back.geometry.values[2].coords[0] == (46.123457, 39.765432)


# ---------------------------------------------------------------------- GeoPackage


def test_gpkg_layers_and_styles(tmp_path):
    out = tmp_path / "all.gpkg"
    frames = {"minefields": minefields(), "clearance": releases(), "items": items(),
              "incidents": incidents(), "mine_rows": gpd.GeoDataFrame(
                  {"record_id": ["AGD-0142"], "handover": ["h"], "row": [1], "mines": [40],
                   "mine_type": ["PMN-2"], "spacing_m": [2.5]},
                  geometry=[shapely.LineString([(46.2, 39.9), (46.201, 39.901)])],
                  crs="EPSG:4326")}
    ex.write(frames, out)
    layers = {name for name, _ in pyogrio.list_layers(out)}
    assert set(frames) <= layers
    for name, gdf in frames.items():
        assert pyogrio.read_info(out, layer=name)["features"] == len(gdf)
    con = sqlite3.connect(out)
    try:
        cols = [r[1] for r in con.execute("PRAGMA table_info(layer_styles)")]
        assert cols == ["id", "f_table_catalog", "f_table_schema", "f_table_name",
                        "f_geometry_column", "styleName", "styleQML", "styleSLD",
                        "useAsDefault", "description", "owner", "ui", "update_time"]
        kind = con.execute("SELECT data_type FROM gpkg_contents "
                           "WHERE table_name = 'layer_styles'").fetchone()
        assert kind == ("attributes",)
        rows = con.execute("SELECT f_table_name, f_geometry_column, useAsDefault, styleQML "
                           "FROM layer_styles ORDER BY id").fetchall()
        geom_cols = dict(con.execute("SELECT table_name, column_name "
                                     "FROM gpkg_geometry_columns").fetchall())
    finally:
        con.close()
    assert [r[0] for r in rows] == list(frames)
    expected_attr = {"minefields": "status", "clearance": "outcome", "items": "item_type",
                     "incidents": None, "mine_rows": None}
    for table, geom_col, default, qml in rows:
        assert default == 1
        assert geom_col == geom_cols[table]
        renderer = DET.fromstring(qml).find("renderer-v2")
        assert renderer.get("attr") == expected_attr[table]


def test_gpkg_minefields_without_status_single_hazard_style(tmp_path):
    out = tmp_path / "m.gpkg"
    ex.write({"minefields": minefields().drop(columns=["status"])}, out)
    con = sqlite3.connect(out)
    (qml,) = con.execute("SELECT styleQML FROM layer_styles").fetchone()
    con.close()
    assert DET.fromstring(qml).find("renderer-v2").get("type") == "singleSymbol"


def test_gpkg_empty_layer(tmp_path):
    out = tmp_path / "e.gpkg"
    warnings = ex.write({"minefields": minefields().iloc[:0], "items": items()}, out)
    assert pyogrio.read_info(out, layer="minefields")["features"] == 0
    assert pyogrio.read_info(out, layer="items")["features"] == 3
    assert any("minefields: no features" in w for w in warnings)


def test_gpkg_overwrite_replaces_whole_file(tmp_path):
    out = tmp_path / "o.gpkg"
    ex.write({"items": items()}, out)
    with pytest.raises(UsageError, match="o.gpkg"):
        ex.write({"minefields": minefields()}, out)
    ex.write({"minefields": minefields()}, out, overwrite=True)
    assert {name for name, _ in pyogrio.list_layers(out)} == {"minefields", "layer_styles"}


def _qml_colours(qml_text: str) -> dict[str | None, tuple[int, int, int]]:
    root = DET.fromstring(qml_text)
    renderer = root.find("renderer-v2")
    colours = {}
    for sym in renderer.find("symbols"):
        props = {p.get("k"): p.get("v") for p in sym.iter("prop")}
        rgba = props.get("color") if props.get("style") != "no" else props["outline_color"]
        rgba = rgba or props["line_color"]
        colours[sym.get("name")] = tuple(int(v) for v in rgba.split(",")[:3])
    if renderer.get("type") == "singleSymbol":
        return {None: colours["0"]}
    return {c.get("value"): colours[c.get("symbol")] for c in renderer.find("categories")}


@pytest.mark.parametrize("attr", ["status", "outcome", "item_type"])
def test_qml_categories_match_palette(attr):
    layer = {"status": "minefields", "outcome": "clearance", "item_type": "items"}[attr]
    text, _ = ex.style_for(layer, ["status"])
    assert DET.fromstring(text).find("renderer-v2").get("attr") == attr
    colours = _qml_colours(text)
    expected = dict(ex.CATEGORY_COLOURS[attr])
    expected[""] = ex.OTHER_COLOUR  # QGIS "all other values": nothing is hidden
    assert colours == expected


@pytest.mark.parametrize("layer", ["minefields", "incidents", "districts", "mine_rows",
                                   "remaining", "suspects"])
def test_qml_single_styles_match_palette(layer):
    qml, attr = ex.style_for(layer, [])
    assert attr is None
    assert _qml_colours(qml) == {None: ex.SINGLE_COLOURS[layer]}


def test_no_status_colour_outside_fields():
    """Items, clusters and other symbols never reuse a hazard-status colour (issue 16)."""
    from minemap import styles

    status = {c.lower() for c in styles.STATUS.values()}
    others = [*styles.ITEM.values(), *styles.CLUSTER, styles.INCIDENT["fill"],
              styles.SUSPECT["fill"], styles.REMAINING["fill"], styles.SHIFTED, styles.REVIEW]
    assert not status & {c.lower() for c in others}


# ---------------------------------------------------------------------- Shapefile


def test_shapefile_field_names_documented_examples():
    cols = ["record_id", "released_pct", "last_release_date", "abcdefghijk1", "abcdefghijk2",
            "ABCDEFGHIJ", "районный_округ"]
    names = ex.shapefile_field_names(cols)
    assert names == {
        "record_id": "record_id",
        "released_pct": "rel_pct",
        "last_release_date": "last_rel_d",
        # "abcdefghij" collides (case-insensitively) with ABCDEFGHIJ, which fits
        # and so keeps its name; the two long ones are numbered in order.
        "abcdefghijk1": "abcdefgh_1",
        "abcdefghijk2": "abcdefgh_2",
        "ABCDEFGHIJ": "ABCDEFGHIJ",
        # Cyrillic letters take 2 bytes: 5 letters fit in 10 bytes.
        "районный_округ": "район",
    }


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyz_0123456789ДЖз"),
                        min_size=1, max_size=24), min_size=1, max_size=30, unique=True))
def test_shapefile_field_names_properties(cols):
    names = ex.shapefile_field_names(cols)
    assert list(names) == cols
    shorts = list(names.values())
    assert all(1 <= len(s.encode("utf-8")) <= 10 for s in shorts)
    assert len({s.lower() for s in shorts}) == len(shorts)
    assert ex.shapefile_field_names(cols) == names  # stable
    lowered = [c.lower() for c in cols]
    for c in cols:
        if len(c.encode("utf-8")) <= 10 and lowered.count(c.lower()) == 1:
            assert names[c] == c


def test_zip_contents_and_sidecar(tmp_path):
    out = tmp_path / "fields.zip"
    ex.write({"crossref": minefields()}, out)
    with zipfile.ZipFile(out) as zf:
        members = set(zf.namelist())
        assert members == {"fields.shp", "fields.shx", "fields.dbf", "fields.prj",
                           "fields.cpg", "fieldnames.csv"}
        assert zf.read("fields.cpg").decode().strip().upper() in ("UTF-8", "UTF8")
        rows = list(csv.reader(io.StringIO(zf.read("fieldnames.csv").decode())))
    assert rows[0] == ["full_name", "short_name"]
    mapping = dict(rows[1:])
    assert mapping["misclosure_ratio"] == "miscl_rat"
    assert mapping["mines_total"] == "mines_tot"
    assert "raw" not in mapping
    info = pyogrio.read_info(out)
    assert set(mapping.values()) <= set(info["fields"])


def test_shp_refuses_existing_part(tmp_path):
    (tmp_path / "f.dbf").write_text("x")
    with pytest.raises(UsageError, match="f.dbf"):
        ex.write({"minefields": minefields()}, tmp_path / "f.shp")
    assert not (tmp_path / "f.shp").exists()
    (tmp_path / "f.qix").write_text("stale index")
    ex.write({"minefields": minefields()}, tmp_path / "f.shp", overwrite=True)
    assert not (tmp_path / "f.qix").exists()
    assert (tmp_path / "f.fieldnames.csv").exists()
    assert pyogrio.read_info(tmp_path / "f.shp")["features"] == 3


def test_shapefile_non_ascii_values(tmp_path):
    gdf = minefields()
    gdf["district"] = ["Ağdam", "Агдам", "Füzuli"]
    out = tmp_path / "u.zip"
    ex.write({"minefields": gdf}, out)
    assert list(pyogrio.read_dataframe(out)["district"]) == ["Ağdam", "Агдам", "Füzuli"]


# ---------------------------------------------------------------------- KML


def _kml_ns(tag: str) -> str:
    return "{http://www.opengis.net/kml/2.2}" + tag


def test_kml_styles_and_escaping(tmp_path):
    gdf = minefields()
    gdf.loc[2, "flags"] = "bad\x01char"  # not allowed in XML 1.0 at all
    out = tmp_path / "f.kml"
    ex.write({"minefields": gdf}, out)
    root = DET.parse(out).getroot()
    styles = {s.get("id"): s for s in root.iter(_kml_ns("Style"))}
    # aabbggrr of the palette's status colours (#d7191c, #fd8d3c, #1a9641; review
    # #c51b8a), worked out by hand.
    expected = {"minefields-not_started": "801c19d7", "minefields-in_progress": "803c8dfd",
                "minefields-released": "8041961a", "minefields-other": "808a1bc5"}
    for sid, colour in expected.items():
        assert styles[sid].find(_kml_ns("PolyStyle")).find(_kml_ns("color")).text == colour
    placemarks = list(root.iter(_kml_ns("Placemark")))
    assert len(placemarks) == 3
    assert [p.find(_kml_ns("styleUrl")).text for p in placemarks] == [
        "#minefields-not_started", "#minefields-in_progress", "#minefields-released"]
    pm = placemarks[1]
    assert pm.find(_kml_ns("name")).text == XSS  # plain text, XML-escaped in the file
    desc = pm.find(_kml_ns("description")).text
    # The HTML Google Earth renders has the value escaped: no live <img> tag.
    assert "<img" not in desc
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;" in desc
    assert "<table>" in desc
    raw = read_text(out)
    assert "\x01" not in raw


def test_kml_status_other_value(tmp_path):
    gdf = minefields()
    gdf.loc[0, "status"] = "unknown-thing"
    out = tmp_path / "f.kml"
    ex.write({"minefields": gdf}, out)
    root = DET.parse(out).getroot()
    urls = [p.find(_kml_ns("styleUrl")).text for p in root.iter(_kml_ns("Placemark"))]
    assert urls[0] == "#minefields-other"


# ---------------------------------------------------------------------- GPX


def test_gpx_turning_points_from_ring(tmp_path):
    gdf = minefields().iloc[[0]]
    out = tmp_path / "f.gpx"
    warnings = ex.write({"minefields": gdf}, out)
    assert any("numbered along the stored ring" in w for w in warnings)
    gpx = gpxpy.parse(read_text(out))
    assert [w.name for w in gpx.waypoints] == [f"AGD-0142-TP{i}" for i in range(1, 5)]
    # In the stored ring's order, no repeated closing point, 6 decimals.
    assert [(w.longitude, w.latitude) for w in gpx.waypoints] == CW_RING_6
    (route,) = gpx.routes
    assert route.name == "AGD-0142"
    assert [(p.longitude, p.latitude) for p in route.points] == CW_RING_6 + [CW_RING_6[0]]


def test_gpx_turning_points_from_vertices(tmp_path):
    gdf = minefields().iloc[[0]]
    # Labels and order from the record (TP numbering differs from the ring start).
    order = [2, 3, 0, 1]
    verts = gpd.GeoDataFrame(
        {"record_id": ["AGD-0142"] * 5, "handover": ["aghdam-2021-06-12"] * 5,
         "vertex": [0, 1, 2, 3, 4], "label": ["RP", "TP1", "TP2", "TP3", "TP4"],
         "point_type": ["reference", "turning", "turning", "intermediate", "turning"],
         "raw_x": [np.nan] * 5, "raw_y": [np.nan] * 5},
        geometry=[shapely.Point(46.1, 39.9)] + [shapely.Point(CW_RING[i]) for i in order],
        crs="EPSG:4326")
    out = tmp_path / "v.gpx"
    warnings = ex.write({"minefields": gdf}, out, vertices=verts)
    assert not any("stored ring" in w for w in warnings)
    gpx = gpxpy.parse(read_text(out))
    assert [w.name for w in gpx.waypoints] == ["AGD-0142-RP", "AGD-0142-TP1", "AGD-0142-TP2",
                                               "AGD-0142-TP3", "AGD-0142-TP4"]
    assert (gpx.waypoints[1].longitude, gpx.waypoints[1].latitude) == CW_RING_6[2]
    (route,) = gpx.routes
    assert [p.name for p in route.points] == ["AGD-0142-TP1", "AGD-0142-TP2", "AGD-0142-TP3",
                                              "AGD-0142-TP4", "AGD-0142-TP1"]


def test_gpx_multipart_and_points(tmp_path):
    out = tmp_path / "m.gpx"
    ex.write({"minefields": minefields().iloc[[2]]}, out)
    gpx = gpxpy.parse(read_text(out))
    assert [w.name for w in gpx.waypoints] == [f"FZL-7-TP{i}" for i in range(1, 9)]
    assert [r.name for r in gpx.routes] == ["FZL-7 part 1", "FZL-7 part 2"]
    out2 = tmp_path / "i.gpx"
    ex.write({"items": items()}, out2)
    gpx = gpxpy.parse(read_text(out2))
    assert [w.name for w in gpx.waypoints] == ["i1", "i2", "i3"]


# ---------------------------------------------------------------------- CSV


def test_csv_wkt_and_hxl(tmp_path):
    out = tmp_path / "f.csv"
    ex.write({"minefields": minefields()}, out, hxl=True)
    rows = list(csv.reader(io.StringIO(read_text(out))))
    header, tags = rows[0], rows[1]
    assert "raw" not in header and header[-1] == "wkt"
    tag = dict(zip(header, tags))
    assert tag["record_id"] == "#meta+id"
    assert tag["district"] == "#adm2+name"
    assert tag["mines_ap"] == "#indicator+mines+ap+num"
    assert tag["status"] == "#status"
    assert tag["wkt"] == "#geo+wkt"
    assert all(t.startswith("#") for t in tags)
    data = [dict(zip(header, r)) for r in rows[2:]]
    assert data[0]["mines_total"] == "76" and data[2]["mines_total"] == ""
    assert data[1]["record_id"] == XSS
    geom = shapely.from_wkt(data[0]["wkt"])
    assert {tuple(c) for c in geom.exterior.coords} == set(CW_RING_6)


def test_csv_centroid(tmp_path):
    gdf = releases()
    out = tmp_path / "r.csv"
    ex.write({"clearance": gdf}, out, csv_geometry="centroid", hxl=True)
    rows = list(csv.reader(io.StringIO(read_text(out))))
    assert rows[0][-2:] == ["lon", "lat"]
    assert rows[1][-2:] == ["#geo+lon", "#geo+lat"]
    assert rows[1][0] == "#meta+id"  # report_id is the layer's id
    assert dict(zip(rows[0], rows[1]))["date_start"] == "#date+start"
    # Centre of the box 46.2..46.205 x 39.9..39.905, by hand.
    assert (float(rows[2][-2]), float(rows[2][-1])) == (46.2025, 39.9025)
    assert dict(zip(rows[0], rows[2]))["found_ap"] == "3"


def test_csv_without_hxl_has_one_header(tmp_path):
    out = tmp_path / "i.csv"
    ex.write({"incidents": incidents()}, out)
    rows = list(csv.reader(io.StringIO(read_text(out))))
    assert len(rows) == 3
    assert dict(zip(rows[0], rows[1]))["civilian"] == "true"


# ---------------------------------------------------------------------- bad input


def test_unknown_extension_lists_choices(tmp_path):
    with pytest.raises(UsageError) as e:
        ex.write({"minefields": minefields()}, tmp_path / "f.dxf")
    assert ".geojson" in str(e.value) and ".gpx" in str(e.value)


def test_unknown_layer_lists_choices(tmp_path):
    with pytest.raises(UsageError) as e:
        ex.write({"roads": minefields()}, tmp_path / "f.geojson")
    assert "minefields" in str(e.value) and "crossref" in str(e.value)


def test_single_layer_formats_refuse_two(tmp_path):
    with pytest.raises(UsageError, match="exactly one layer"):
        ex.write({"minefields": minefields(), "items": items()}, tmp_path / "f.kml")


def test_existing_file_refused_and_untouched(tmp_path):
    out = tmp_path / "f.geojson"
    out.write_text("keep me")
    with pytest.raises(UsageError, match="f.geojson"):
        ex.write({"minefields": minefields()}, out)
    assert out.read_text() == "keep me"
    ex.write({"minefields": minefields()}, out, overwrite=True)
    assert json.loads(read_text(out))["type"] == "FeatureCollection"


def test_missing_directory(tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        ex.write({"minefields": minefields()}, tmp_path / "nope" / "f.geojson")


def test_bad_options(tmp_path):
    with pytest.raises(UsageError, match="csv_geometry"):
        ex.write({"minefields": minefields()}, tmp_path / "f.csv", csv_geometry="bbox")
    with pytest.raises(UsageError, match="precision"):
        ex.write({"minefields": minefields()}, tmp_path / "f.csv", precision=2.5)


def test_failed_write_leaves_nothing(tmp_path, monkeypatch):
    out = tmp_path / "f.geojson"
    out.write_text("old")

    def boom(fh, *args):
        fh.write('{"type":"FeatureCollection","features":[')
        raise RuntimeError("disk full")

    monkeypatch.setattr(geojson_mod, "_write_geojson", boom)
    with pytest.raises(RuntimeError):
        ex.write({"minefields": minefields()}, out, overwrite=True)
    assert out.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.geojson"]


def test_failed_gpkg_leaves_nothing(tmp_path, monkeypatch):
    out = tmp_path / "f.gpkg"

    def boom(*args, **kwargs):
        raise RuntimeError("styles failed")

    monkeypatch.setattr(gpkg_mod, "_write_layer_styles", boom)
    with pytest.raises(RuntimeError):
        ex.write({"minefields": minefields()}, out)
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------- geometry


def _on_grid(geom, precision: int) -> bool:
    xy = shapely.get_coordinates(geom) * 10 ** precision
    return bool(np.all(np.abs(xy - np.round(xy)) < 1e-6))


def _oriented(geom) -> bool:
    for poly in shapely.get_parts(geom):
        if poly.geom_type != "Polygon" or poly.is_empty:
            continue
        if shoelace(poly.exterior.coords) <= 0:
            return False
        if any(shoelace(r.coords) >= 0 for r in poly.interiors):
            return False
    return True


coord = st.integers(min_value=-40, max_value=40)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(coord, coord), min_size=3, max_size=9),
       st.lists(st.tuples(coord, coord), min_size=3, max_size=5),
       st.integers(min_value=5, max_value=7), st.sampled_from([1e-7, 3e-7, 1e-6]))
def test_prepare_geometries_valid_oriented_on_grid(points, hole, precision, step):
    # Vertices a fraction of the grid apart, so snapping merges and folds them;
    # the ring and hole are arbitrary, so many inputs are invalid to begin with.
    ring = [(46.5 + x * step, 39.5 + y * step) for x, y in points]
    inner = [(46.5 + x * step / 3, 39.5 + y * step / 3) for x, y in hole]
    poly = shapely.Polygon(ring, [inner])
    holed = shapely.Polygon(shapely.box(46.49, 39.49, 46.51, 39.51).exterior.coords,
                            [shapely.box(46.495, 39.495, 46.505, 39.505).exterior.coords])
    geoms, warnings = ex.prepare_geometries(np.array([poly, holed, None], dtype=object),
                                            precision=precision)
    assert geoms[2] is None
    for g in geoms[:2]:
        assert shapely.is_valid(g)
        assert _on_grid(g, precision)
        assert _oriented(g)
    if poly.is_valid and not poly.is_empty and geoms[0].is_empty:
        assert any("collapsed" in w for w in warnings)


def test_prepare_repairs_invalid_input_with_warning():
    bowtie = shapely.Polygon([(46, 39), (46.01, 39.01), (46.01, 39), (46, 39.01)])
    assert not bowtie.is_valid
    geoms, warnings = ex.prepare_geometries(np.array([bowtie], dtype=object), precision=6,
                                            ids=["AGD-9"], file="f.geojson", layer="minefields")
    assert shapely.is_valid(geoms[0])
    # Both lobes kept: the area of two triangles, 0.01 x 0.005 / 2 each, by hand.
    assert math.isclose(geoms[0].area, 2 * 0.01 * 0.005 / 2, rel_tol=1e-9)
    assert warnings and "AGD-9" in warnings[0] and "f.geojson" in warnings[0]


def test_schema_columns_all_map_to_short_names():
    cols = list(schema.MINEFIELD_COLUMNS) + list(schema.CROSSREF_COLUMNS)
    names = ex.shapefile_field_names(dict.fromkeys(cols))
    assert all(len(s) <= 10 for s in names.values())
    assert names["remaining_est"] == "remain_est"


def test_no_crs_with_projected_coordinates_is_refused(tmp_path):
    gdf = gpd.GeoDataFrame({"item_id": ["p"]}, geometry=[shapely.Point(8664944.0, 4430293.0)])
    with pytest.raises(DataError, match="no CRS"):
        ex.write({"items": gdf}, tmp_path / "p.geojson")
    assert list(tmp_path.iterdir()) == []


def _districts() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"district": ["Aghdam", None], "source_file": ["d.gpkg"] * 2},
                            geometry=[shapely.box(46.8, 39.9, 47.0, 40.1),
                                      shapely.box(47.0, 39.9, 47.2, 40.1)], crs="EPSG:4326")


def _mine_rows() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"record_id": ["AGD-0142", "AGD-0142"], "handover": ["h", "h"], "row": [1, 2],
         "mines": [40, 38], "mine_type": ["PMN-2", "TM-62M"], "spacing_m": [2.5, 4.0]},
        geometry=[shapely.LineString([(46.2, 39.9), (46.201, 39.901)]),
                  shapely.LineString([(46.2, 39.902), (46.201, 39.903)])], crs="EPSG:4326")


def _vertices() -> gpd.GeoDataFrame:
    pts, _ = ex.turning_points(minefields())
    return gpd.GeoDataFrame(ex.tp_table(pts), geometry=pts.geometry.values, crs="EPSG:4326")


LAYER_FRAMES = {
    "minefields": minefields, "crossref": minefields, "clearance": releases, "items": items,
    "incidents": incidents, "districts": _districts, "mine_rows": _mine_rows,
    "vertices": _vertices,
}


@pytest.mark.parametrize("layer", list(LAYER_FRAMES))
@pytest.mark.parametrize("ext", [".geojson", ".geojsons", ".gpkg", ".zip", ".kml", ".gpx",
                                 ".csv", ".xlsx"])
def test_every_layer_every_format(tmp_path, layer, ext):
    gdf = LAYER_FRAMES[layer]()
    out = tmp_path / f"{layer}{ext}"
    ex.write({layer: gdf}, out)
    if ext == ".gpx":
        gpx = gpxpy.parse(read_text(out))
        assert gpx.waypoints or gpx.routes
    elif ext == ".csv":
        assert len(list(csv.reader(io.StringIO(read_text(out))))) == len(gdf) + 1
    elif ext == ".xlsx":
        import openpyxl

        assert openpyxl.load_workbook(out)[layer].max_row == len(gdf) + 1
    else:
        kw = {"layer": layer} if ext == ".gpkg" else {}
        assert pyogrio.read_info(out, **kw)["features"] == len(gdf)
