"""Real sources (DESIGN §11): files as Excel, Google Earth, IMSMA and GIS tools make them,
one date parser and one UTM-zone rule for every reader, turning points in source order."""

from __future__ import annotations

import datetime as dt
import json
import textwrap

import geopandas as gpd
import mgrs
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Transformer
from pyproj.aoi import AreaOfInterest

from minemap import Store, read_clearance, read_records
from minemap.geo.crs import sk42_zone, utm_epsg
from minemap.geo.dates import model_date, parse_date, parse_record_date
from minemap.readers.traverse import read_traverse
from tests.conftest import feature, rect, utm_to_ll, write_geojson

AOI = AreaOfInterest(45.55, 38.85, 47.55, 40.55)


def _errors(rs):
    return [str(p) for p in rs.problems if p.severity == "error"]


def _warnings(rs):
    return [str(p) for p in rs.problems if p.severity == "warning"]


# -- one date parser ------------------------------------------------------------------


@given(st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)))
def test_every_spelling_of_a_day_is_that_day(d):
    assert parse_date(d.isoformat()) == d
    assert parse_date(f"{d.day:02d}.{d.month:02d}.{d.year}") == d
    assert parse_date(f"{d.isoformat()}T10:00:00") == d
    if d.day > 12:
        assert parse_date(f"{d.day}/{d.month}/{d.year}") == d


def test_ambiguous_and_impossible_dates_are_refused():
    for bad in ("03/04/2022", "2022-02-30", "31.02.1993", "1993-13", "93", "yesterday"):
        with pytest.raises(ValueError):
            model_date(bad) if "-" in bad and len(bad) == 7 else parse_date(bad)
    assert parse_date("") is None and parse_date(None) is None


def test_partial_dates_are_kept_and_modelled_mid_period():
    assert parse_record_date("1993") == ("1993", dt.date(1993, 7, 1))
    assert parse_record_date("1993-08") == ("1993-08", dt.date(1993, 8, 15))
    assert parse_record_date("20.08.1993") == ("1993-08-20", dt.date(1993, 8, 20))


def _traverse_yaml(path, laid):
    path.write_text(textwrap.dedent(f"""\
        record_id: T-1
        laid_date: "{laid}"
        mines: {{ap: 3}}
        reference_point: {{lat: 39.98, lon: 46.93}}
        angle_unit: deg
        north: magnetic
        closed: false
        legs:
          - {{bearing: 0, distance_m: 50}}
          - {{bearing: 90, distance_m: 100}}
          - {{bearing: 0, distance_m: 100}}
          - {{bearing: 270, distance_m: 100}}
        """))
    return path


@pytest.mark.parametrize(("laid", "stored"), [("1993", "1993"), ("20.08.1993", "1993-08-20"),
                                              ("1993-08-20", "1993-08-20")])
def test_gis_and_traverse_read_laid_date_alike(tmp_path, laid, stored):
    """Issue 10: "1993" failed in GIS files and "20.08.1993" in traverse records."""
    gis = read_records([write_geojson(tmp_path / "g.geojson", [
        feature({"record_id": "G-1", "mines_ap": 1, "laid_date": laid}, rect(0, 0, 50, 50))])],
        handover="h")
    trav = read_traverse(_traverse_yaml(tmp_path / "t.yaml", laid), handover="h")
    assert gis.ok and trav.ok, (_errors(gis), _errors(trav))
    assert gis.minefields.laid_date.tolist() == trav.minefields.laid_date.tolist() == [stored]


# -- one UTM-zone rule ----------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.floats(-179.9, 179.9), st.floats(-79.9, 55.9))
def test_utm_zone_agrees_with_mgrs(lon, lat):
    zone_digits = mgrs.MGRS().toMGRS(lat, lon)[:2]
    # Points on a zone's edge may go either way; the rule is the 6° band.
    if abs(((lon + 180) / 6) - round((lon + 180) / 6)) < 1e-6:
        return
    expected = (32600 if lat >= 0 else 32700) + int(zone_digits)
    assert utm_epsg(lon, lat) == expected
    assert utm_epsg(np.array([lon]), np.array([lat])).tolist() == [expected]


def test_sk42_zone_from_the_easting_prefix():
    assert sk42_zone(8_664_944.0) == 8
    assert sk42_zone(np.array([9_300_000.0, 664_944.0, 45_000_000.0])).tolist() == [9, 0, 0]


# -- a missing outcome is never assumed --------------------------------------------


def _releases(path, props_list):
    feats = [feature({"report_id": f"R-{i}", "date": "2022-05-01", **p},
                     rect(300 * i, 0, 100, 100)) for i, p in enumerate(props_list, 1)]
    return write_geojson(path, feats)


def test_missing_outcome_refused_unless_default_given(tmp_path, cli, store_path):
    path = _releases(tmp_path / "r.geojson", [{"outcome": "cleared"}, {}, {}])
    res = cli("import-clearance", path)
    assert res.exit_code == 1
    err = [ln for ln in res.output.splitlines() if ln.startswith("Error:")]
    assert err == ["Error: r.geojson: record R-2: no outcome (and 1 more): minemap never"
                   " assumes one; add an outcome column (cleared, reduced or cancelled) or"
                   " give --default-outcome"]
    assert not store_path.exists() or Store(store_path).latest_revision() == 0
    res = cli("import-clearance", path, "--default-outcome", "reduced")
    assert res.exit_code == 0, res.output
    got = Store(store_path).read("releases").set_index("report_id")["outcome"].to_dict()
    assert got == {"R-1": "cleared", "R-2": "reduced", "R-3": "reduced"}


# -- CSV from spreadsheets --------------------------------------------------------------


def _excel_csv(path, rows, *, bom=True, encoding="utf-8"):
    """What Excel writes for "CSV UTF-8" in a European locale: BOM, ';', decimal commas."""
    text = "\r\n".join(";".join(r) for r in rows) + "\r\n"
    data = text.encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def _corners(x, y, w, h):
    ring = utm_to_ll(shapely.box(650_000 + x, 4_427_000 + y, 650_000 + x + w,
                                 4_427_000 + y + h)).exterior.coords[:-1]
    return [(f"{lon:.6f}".replace(".", ","), f"{lat:.6f}".replace(".", ",")) for lon, lat in ring]


def test_excel_csv_with_bom_semicolons_and_decimal_commas(tmp_path, cli, store_path):
    rows = [["HAZ_ID", "NAME", "AP", "AT", "lon", "lat"]]
    for rid, x in (("HA-001", 0), ("HA-002", 300)):
        for lon, lat in _corners(x, 0, 100, 100):
            rows.append([rid, "Qiyaslı village", "12", "3", lon, lat])
    path = _excel_csv(tmp_path / "fields.csv", rows)
    res = cli("-v", "import-records", path, "--handover", "h")
    assert res.exit_code == 0, res.output
    assert "fields.csv: record_id ← HAZ_ID, mines_ap ← AP, mines_at ← AT" in res.output
    assert "detected: fields.csv: CSV, separator ';', UTF-8 with BOM" in res.output
    assert "decimal commas read as decimal points in lon, lat" in res.output
    got = Store(store_path).read("minefields").set_index("record_id")
    assert sorted(got.index) == ["HA-001", "HA-002"]
    assert got.loc["HA-001", "mines_total"] == 15
    expected = rect(0, 0, 100, 100)
    assert shapely.hausdorff_distance(got.loc["HA-001"].geometry, expected) < 1e-5


def test_a_name_column_never_becomes_the_id(tmp_path):
    rows = [["NAME", "AP", "WKT"], ["Field by the river", "3",
                                    f'"{rect(0, 0, 50, 50).wkt.replace(",", ",")}"']]
    path = tmp_path / "n.csv"
    path.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    errors = _errors(read_records([path], handover="h"))
    assert errors[0] == ("n.csv: a NAME column is not taken as the record id; if it is one,"
                         " give --map record_id=NAME")
    rs = read_records([path], handover="h", column_map={"record_id": "NAME"})
    assert rs.ok and rs.minefields.record_id.tolist() == ["Field by the river"]
    assert rs.sources[0].columns["record_id"] == "NAME (--map)"


def test_legacy_code_page_is_refused(tmp_path, cli):
    rows = [["record_id", "district", "mines_ap", "lon", "lat"],
            ["A-1", "Ağdam", "3", "46,93", "39,98"]]
    path = _excel_csv(tmp_path / "cp.csv", rows, bom=False, encoding="cp1254")
    res = cli("import-records", path, "--handover", "h")
    assert res.exit_code == 1
    assert "Error: cp.csv: is not UTF-8 text (byte 42)" in res.output
    assert "save it as UTF-8" in res.output and "Traceback" not in res.output


# -- Google Earth KML -------------------------------------------------------------------


def _kml_polygon(geom):
    coords = " ".join(f"{x:.7f},{y:.7f},0" for x, y in geom.exterior.coords)
    return (f"<Polygon><outerBoundaryIs><LinearRing><coordinates>{coords}</coordinates>"
            "</LinearRing></outerBoundaryIs></Polygon>")


def test_google_earth_kml(tmp_path, cli, store_path):
    """Placemark names as ids, ExtendedData (Data and SchemaData), a landmark skipped."""
    a, b = rect(0, 0, 100, 100), rect(300, 0, 100, 100)
    doc = f"""<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>Aghdam sheet 3</name>
<Schema name="mf" id="mf"><SimpleField type="int" name="mines_ap"/></Schema>
<Folder><name>Fields</name>
<Placemark><name>AGD-0301</name><ExtendedData><Data name="mines_ap"><value>40</value></Data>
<Data name="mines_at"><value>5</value></Data></ExtendedData>{_kml_polygon(a)}</Placemark>
<Placemark><name>AGD-0302</name><ExtendedData><SchemaData schemaUrl="#mf">
<SimpleData name="mines_ap">7</SimpleData></SchemaData></ExtendedData>{_kml_polygon(b)}
</Placemark></Folder>
<Folder><name>Landmarks</name>
<Placemark><name>Water tower (RP)</name><Point><coordinates>46.76,39.98,0</coordinates>
</Point></Placemark>
<Placemark><name>Access road</name><LineString><coordinates>46.76,39.98,0 46.77,39.99,0
</coordinates></LineString></Placemark></Folder></Document></kml>"""
    path = tmp_path / "sheet3.kml"
    path.write_text(doc, encoding="utf-8")
    res = cli("import-records", path, "--handover", "h")
    assert res.exit_code == 0, res.output
    assert ("warning: sheet3.kml: skipped 2 placemark(s) that are not fields: 'Water tower"
            " (RP)' (Point, folder 'Landmarks'), 'Access road' (LineString, folder"
            " 'Landmarks')") in res.output
    assert "sheet3.kml: record_id ← <name> (the Placemark's name)" in res.output
    got = Store(store_path).read("minefields").set_index("record_id")
    assert got.mines_ap.to_dict() == {"AGD-0301": 40, "AGD-0302": 7}
    assert got.loc["AGD-0301", "mines_total"] == 45


# -- vocabularies: an IMSMA-worded clearance file -----------------------------------


def test_imsma_worded_clearance_file(tmp_path, cli, store_path):
    feats = [feature({"Report ID": rid, "Date": "2022-06-0" + str(i), "Land Release Activity":
                      term, "Organisation": "ANAMA"}, rect(300 * i, 0, 100, 100))
             for i, (rid, term) in enumerate([("LR-1", "Technical Survey"),
                                              ("LR-2", "Non-Technical Survey"),
                                              ("LR-3", "CLEARANCE")], 1)]
    feats.append(feature({"Item ID": "D-1", "Device Type": "Anti-Personnel Mine",
                          "Device Model": "PMN2", "Date": "2022-06-03"},
                         utm_to_ll(shapely.Point(650_950, 4_427_050))))
    path = write_geojson(tmp_path / "imsma.geojson", feats)
    mapping = ["--map", "report_id=Report ID", "--map", "date=Date", "--map",
               "outcome=Land Release Activity", "--map", "operator=Organisation",
               "--map", "item_id=Item ID", "--map", "item_type=Device Type",
               "--map", "model=Device Model"]
    res = cli("import-clearance", path, *mapping)
    assert res.exit_code == 1 and "'Technical Survey' is not one of" in res.output
    assert "a --vocabulary can map it" in res.output
    res = cli("import-clearance", path, *mapping, "--vocabulary", "imsma")
    assert res.exit_code == 0, res.output
    st = Store(store_path)
    rel = st.read("releases").set_index("report_id")["outcome"].to_dict()
    assert rel == {"LR-1": "reduced", "LR-2": "cancelled", "LR-3": "cleared"}
    item = st.read("items").iloc[0]
    assert (item.item_type, item.model) == ("AP", "PMN-2")


def test_vocabulary_file(tmp_path):
    vocab = tmp_path / "v.yaml"
    vocab.write_text("outcome:\n  Desk survey: cancelled\n")
    path = _releases(tmp_path / "r.geojson", [{"outcome": "desk  SURVEY"}])
    rs = read_clearance([path], vocabulary=vocab)
    assert rs.ok and rs.releases.outcome.tolist() == ["cancelled"]
    bad = tmp_path / "b.yaml"
    bad.write_text("outcome:\n  Desk survey: demined\n")
    from minemap import UsageError
    with pytest.raises(UsageError, match="not one of cleared, reduced, cancelled"):
        read_clearance([path], vocabulary=bad)


# -- SK-42 without a .prj -------------------------------------------------------------


def test_sk42_shapefile_without_prj(tmp_path, cli, store_path):
    to_gk = Transformer.from_crs("EPSG:4326", "EPSG:28408", always_xy=True,
                                 area_of_interest=AOI)
    ll = [rect(0, 0, 100, 100), rect(300, 0, 120, 80)]
    gk = [shapely.transform(g, lambda xy: np.column_stack(to_gk.transform(xy[:, 0], xy[:, 1])))
          for g in ll]
    assert 8_000_000 < gk[0].exterior.coords[0][0] < 9_000_000  # zone 8 in the easting
    frame = gpd.GeoDataFrame({"record_id": ["SK-1", "SK-2"], "mines_ap": [5, 6]},
                             geometry=gk, crs=None)
    shp = tmp_path / "sk42.shp"
    frame.to_file(shp)
    assert not shp.with_suffix(".prj").exists()
    res = cli("import-records", shp, "--handover", "h")
    assert res.exit_code == 1 and "declares no CRS" in res.output
    res = cli("import-records", shp, "--handover", "h", "--crs", "SK-42")
    assert res.exit_code == 0, res.output
    got = Store(store_path).read("minefields").set_index("record_id")
    # Independently: pyproj's best operation for the area, inverted.
    to_ll = Transformer.from_crs("EPSG:28408", "EPSG:4326", always_xy=True,
                                 area_of_interest=AOI)
    for rid, g in zip(["SK-1", "SK-2"], gk):
        want = shapely.transform(g, lambda xy: np.column_stack(to_ll.transform(xy[:, 0],
                                                                             xy[:, 1])))
        assert shapely.hausdorff_distance(got.loc[rid].geometry, want) < 1e-8
    assert set(got.source_crs) == {"EPSG:28408"}
    assert all("Pulkovo 1942 to WGS 84" in t for t in got.transformation)
    hist = json.loads(cli("history", "--json").output)
    assert hist[-1]["sources"] == ["sk42.shp"]


# -- turning points in the source's order -----------------------------------------------


def test_shapefile_turning_points_keep_source_order(tmp_path, store_path):
    """A Shapefile's rings are clockwise; TP1… follow the file, not RFC 7946."""
    import fiona

    from minemap import import_records

    shell = [(46.750, 39.980), (46.751, 39.981), (46.753, 39.9805), (46.752, 39.979)]
    shp = tmp_path / "cw.shp"
    gpd.GeoDataFrame({"record_id": ["CW-1"], "mines_ap": [4]},
                     geometry=[shapely.Polygon(shell)], crs="EPSG:4326").to_file(shp)
    with fiona.open(shp) as src:
        ring = [tuple(c) for c in next(iter(src)).geometry.coordinates[0]][:-1]
    assert shapely.LinearRing(ring).is_ccw is False       # as written by the Shapefile driver
    import_records([shp], handover="h", store=store_path)
    v = Store(store_path).read("vertices").sort_values("vertex")
    assert v.label.tolist() == [f"TP{i}" for i in range(1, len(ring) + 1)]
    got = np.array([(p.x, p.y) for p in v.geometry])
    np.testing.assert_allclose(got, np.array(ring), atol=1e-12)  # the file's order, first vertex
    stored = Store(store_path).read("minefields").geometry.iloc[0]
    assert shapely.get_parts(stored)[0].exterior.is_ccw    # the polygon itself is oriented


# -- a two-layer clearance GeoPackage ----------------------------------------------


def _two_layer_gpkg(path):
    rel = gpd.GeoDataFrame({"report_id": ["R-1", "R-2"], "date": ["2022-05-01", "2022-05-02"],
                            "outcome": ["cleared", "reduced"]},
                           geometry=[rect(0, 0, 100, 100), rect(300, 0, 100, 100)],
                           crs="EPSG:4326")
    items = gpd.GeoDataFrame({"item_id": ["I-1"], "item_type": ["AT"], "date": ["2022-05-01"],
                              "report_id": ["R-1"]},
                             geometry=[utm_to_ll(shapely.Point(650_050, 4_427_050))],
                             crs="EPSG:4326")
    rel.to_file(path, layer="releases")
    items.to_file(path, layer="items")
    return path


def test_two_layer_geopackage_is_one_revision(tmp_path, cli, store_path):
    path = _two_layer_gpkg(tmp_path / "clearance.gpkg")
    res = cli("-v", "import-clearance", path)
    assert res.exit_code == 0, res.output
    assert "layer 'releases': 2 features" in res.output
    assert "layer 'items': 1 features" in res.output
    st = Store(store_path)
    assert st.latest_revision() == 1
    assert sorted(st.read("releases").report_id) == ["R-1", "R-2"]
    assert st.read("items").item_id.tolist() == ["I-1"]
    hist = json.loads(cli("history", "--json").output)
    assert len(hist) == 1 and hist[0]["sources"] == ["clearance.gpkg"]
    # --layer given several times reads those layers only.
    res = cli("import-clearance", path, "--layer", "items")
    assert res.exit_code == 0, res.output
    rs = read_clearance([path], layer=["releases", "items"])
    assert rs.ok and len(rs.releases) == 2 and len(rs.items) == 1


# -- one set of record rules ------------------------------------------------------------


def test_gis_and_traverse_records_are_checked_by_the_same_rules(tmp_path):
    gis = read_records([write_geojson(tmp_path / "g.geojson", [
        feature({"record_id": "T-1", "mines_ap": 5, "mines_total": 2, "district": "Atlantis"},
                rect(0, 0, 50, 50))])], handover="h")
    text = _traverse_yaml(tmp_path / "t.yaml", "1993").read_text().replace(
        "mines: {ap: 3}", "mines: {ap: 5, total: 2}\ndistrict: Atlantis")
    (tmp_path / "t.yaml").write_text(text)
    trav = read_traverse(tmp_path / "t.yaml", handover="h")
    strip = [p.message.split(" (line")[0] for p in trav.problems
             if "mines_total" in p.message or "district" in p.message]
    assert strip == [p.message for p in gis.problems
                     if "mines_total" in p.message or "district" in p.message]
    assert strip == ["mines_total 2 is less than mines_ap + mines_at (5 + 0)",
                     "unknown district 'Atlantis'"]


def test_sk42_csv_points_and_swapped_axes(tmp_path):
    """--crs SK-42 for every reader: a CSV of incidents; easting/northing exchanged is named."""
    from minemap import read_incidents

    to_gk = Transformer.from_crs("EPSG:4326", "EPSG:28408", always_xy=True,
                                 area_of_interest=AOI)
    e, n = to_gk.transform(46.93, 39.98)
    path = tmp_path / "inc.csv"
    path.write_text(f"incident_id,date,killed,injured,x,y\nI-1,2022-01-02,1,0,{e:.2f},{n:.2f}\n")
    rs = read_incidents([path], crs="SK-42")
    assert rs.ok, _errors(rs)
    p = rs.incidents.geometry.iloc[0]
    assert (p.x, p.y) == pytest.approx((46.93, 39.98), abs=1e-7)
    assert rs.sources[0].source_crs == "EPSG:28408"
    swapped = tmp_path / "sw.csv"
    swapped.write_text(f"incident_id,date,killed,injured,x,y\nI-1,2022-01-02,1,0,{n:.2f},{e:.2f}\n")
    errors = _errors(read_incidents([swapped], crs="SK-42"))
    assert errors == ["sw.csv: record I-1: coordinates look swapped (easting and northing"
                      " exchanged): outside the area of interest as given, inside with the two"
                      " axes swapped"]
