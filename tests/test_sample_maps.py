"""Tests of the committed synthetic sample maps (sample_maps/).

They read the committed files with pyogrio / yaml and recompute every figure
independently (pyproj.Geod areas, plane traverses in the test); the generator
is only run to check that it reproduces the committed bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
import yaml
from pyproj import Geod, Proj, Transformer
from pyproj.aoi import AreaOfInterest
from pyproj.transformer import TransformerGroup

from minemap.geo.districts import normalise

ROOT = Path(__file__).resolve().parent.parent
SM = ROOT / "sample_maps"
AOI = (45.55, 38.85, 47.55, 40.55)
GEOD = Geod(ellps="WGS84")
REAL_REPORTS = ("reports/weekly_report_2022-01-17.txt", "reports/weekly_report_2022-02-14.txt")
PUBLISHED = {  # from the published texts: period, AP, AT, UXO, hectares, districts
    "2022-01-17": (dt.date(2022, 1, 10), dt.date(2022, 1, 15), 14, 1, 112, 51.8),
    "2022-02-14": (dt.date(2022, 2, 7), dt.date(2022, 2, 12), 19, 6, 143, 94.8),
}
PUBLISHED_DISTRICTS = {"Tartar", "Aghdam", "Fuzuli", "Shusha", "Gubadli", "Jabrayil", "Zangilan"}
TO_UTM = Transformer.from_crs("EPSG:4326", "EPSG:32638", always_xy=True)


def utm(geoms):
    return shapely.transform(
        np.asarray(geoms, dtype=object),
        lambda c: np.column_stack(TO_UTM.transform(c[:, 0], c[:, 1])),
    )


def geod_ha(geom: shapely.Geometry) -> float:
    """Geodesic hectares with pyproj.Geod on an RFC 7946-oriented polygon."""
    g = shapely.orient_polygons(geom, exterior_cw=False)
    return abs(GEOD.geometry_area_perimeter(g)[0]) / 10_000


@cache
def aghdam():
    return pyogrio.read_dataframe(SM / "aghdam_2021-06-12.geojson")


@cache
def fz():
    return pyogrio.read_dataframe(SM / "fuzuli_zangilan_2021-07-03.gpkg", layer="minefields")


@cache
def december():
    return pyogrio.read_dataframe(SM / "remaining_2021-12-04.zip")


@cache
def districts():
    df = pyogrio.read_dataframe(SM / "districts_approx.geojson")
    return dict(zip(df["district"], df.geometry, strict=True))


@cache
def releases():
    return pd.concat([pyogrio.read_dataframe(SM / f"clearance/releases_{y}.geojson")
                      for y in (2021, 2022)], ignore_index=True)


@cache
def items():
    return pd.concat([pyogrio.read_dataframe(SM / f"clearance/items_{y}.geojson")
                      for y in (2021, 2022, "unmapped")], ignore_index=True)


@cache
def unmapped_truth():
    return pyogrio.read_dataframe(SM / "unmapped_fields_truth.geojson")


def unmapped_ids() -> set[str]:
    return {i for ids in unmapped_truth()["item_ids"] for i in ids.split(";")}


@cache
def traverse_records() -> list[tuple[str, dict]]:
    out = []
    for path in sorted((SM / "traverse").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for rec in data if isinstance(data, list) else [data]:
            out.append((path.name, rec))
    return out


@cache
def expected_vertices() -> pd.DataFrame:
    return pd.read_csv(SM / "traverse/expected_vertices.csv")


@cache
def all_fields() -> tuple[np.ndarray, list[str]]:
    """Valid field geometries (lon/lat) of the three handovers and the traverses."""
    geoms, handovers = [], []
    for df in (aghdam(), fz(), december()):
        geoms.extend(shapely.make_valid(g) for g in df.geometry)
        handovers.extend(df["handover"])
    ev = expected_vertices()
    for _rid, grp in ev[ev.point_type != "reference"].groupby("record_id", sort=True):
        g = grp.sort_values("vertex")
        geoms.append(shapely.Polygon(np.column_stack([g.lon, g.lat])))
        handovers.append("remaining-2021-12-04")
    return np.array(geoms, dtype=object), handovers


def in_week(series: pd.Series, a: dt.date, b: dt.date) -> pd.Series:
    d = pd.to_datetime(series).dt.date
    return (d >= a) & (d <= b)


# --------------------------------------------------------------------------- handovers

def test_aghdam_totals_exactly_97000():
    df = aghdam()
    assert int(df["mines_total"].sum()) == 97_000
    assert set(df["handover"]) == {"aghdam-2021-06-12"}
    assert {normalise(d) for d in df["district"]} == {"Aghdam"}
    assert len(set(df["district"])) >= 3  # varied spellings
    assert (df["mines_total"] >= df["mines_ap"] + df["mines_at"]).all()
    # heavily anti-personnel, with a ratio that varies per field
    assert df["mines_ap"].sum() / df["mines_total"].sum() > 0.75
    share = df["mines_ap"] / df["mines_total"]
    assert share.std() > 0.1
    assert df["mines_total"].between(20, 400).all()


def test_fuzuli_zangilan_about_92000_ap_and_at():
    df = fz()
    assert 90_000 <= int(df["mines_total"].sum()) <= 94_000
    assert df["mines_ap"].sum() > 10_000 and df["mines_at"].sum() > 10_000
    assert set(df["handover"]) == {"fuzuli-zangilan-2021-07-03"}
    assert {normalise(d) for d in df["district"]} == {"Fuzuli", "Zangilan"}
    assert {r[:3] for r in df["record_id"]} == {"FZL", "ZNG"}


def test_december_handover():
    df = december()
    assert set(df["handover"]) == {"remaining-2021-12-04"}
    names = {normalise(d) for d in df["district"]}
    assert names == {"Tartar", "Shusha", "Gubadli", "Jabrayil", "Lachin", "Kalbajar",
                     "Khojavand", "Aghdara", "Khojaly"}
    assert 20_000 < int((df["mines_ap"] + df["mines_at"]).sum()) < 100_000
    assert "TRT-0001" in set(df["record_id"])


def test_record_columns_and_values():
    for df in (aghdam(), fz(), december()):
        for col in ("record_id", "handover", "district", "mines_ap", "mines_at", "mine_types",
                    "laid_date", "reliability", "synthetic"):
            assert col in df.columns or col[:10] in df.columns  # DBF names stop at 10
        assert df["record_id"].is_unique
        assert df["record_id"].str.fullmatch(r"[A-Z]{3}-\d{4}").all()
        assert df["synthetic"].astype(bool).all()
        years = pd.to_datetime(df["laid_date"]).dt.year
        assert set(years) <= {1992, 1993, 1994, 2020}
        rel = df["reliability"] if "reliability" in df else df["reliabilit"]
        assert set(rel) == {"high", "medium", "low"}
        types = {t for s in df["mine_types"] for t in s.split(";")}
        assert types <= {"PMN-2", "PMN-4", "OZM-72", "POMZ-2M", "TM-62M", "TM-57"}


def test_fields_inside_aoi_and_their_districts():
    cells = districts()
    assert len(cells) == 13
    for df in (aghdam(), fz(), december()):
        b = df.total_bounds
        assert AOI[0] <= b[0] and b[2] <= AOI[2] and AOI[1] <= b[1] and b[3] <= AOI[3]
        geoms = utm(df.geometry.values)
        for name, geom in zip(df["district"], geoms, strict=True):
            cell = utm([cells[normalise(name)]])[0].buffer(2000)
            assert cell.contains(shapely.make_valid(geom)), name


def test_field_shapes_are_varied():
    geoms = np.concatenate([aghdam().geometry.values, fz().geometry.values,
                            december().geometry.values])
    valid = shapely.is_valid(geoms)
    assert (~valid).sum() == 1  # the deliberate bow-tie
    bowtie = geoms[~valid][0]
    assert "Self-intersection" in shapely.is_valid_reason(bowtie)
    # (the GeoPackage stores every field as a MultiPolygon, as GIS exports do)
    assert sum((shapely.get_num_interior_rings(shapely.get_parts(g)) > 0).any()
               for g in geoms) >= 2
    assert 1 <= sum(shapely.get_num_geometries(g) > 1 for g in geoms) <= 3
    parts = shapely.get_parts(utm(geoms[valid]))
    rects = shapely.minimum_rotated_rectangle(parts)
    sides = []
    for r in rects:
        c = np.asarray(r.exterior.coords)
        sides.append(sorted([np.hypot(*(c[1] - c[0])), np.hypot(*(c[2] - c[1]))]))
    sides = np.array(sides)
    assert (sides[:, 1] <= 800).all() and (sides[:, 1] >= 30).all()
    assert (sides[:, 0] < 10).sum() >= 3          # mine-row-like strips
    assert ((sides[:, 1] / sides[:, 0]) > 2.5).sum() > 50  # elongated
    nverts = shapely.get_num_coordinates(parts)
    assert (nverts > 6).mean() > 0.5              # mostly irregular, not rectangles


def test_revised_aghdam():
    old = aghdam().set_index("record_id")
    new = pyogrio.read_dataframe(SM / "aghdam_2021-06-12_rev2.geojson").set_index("record_id")
    removed = set(old.index) - set(new.index)
    added = set(new.index) - set(old.index)
    assert len(removed) == 1 and len(added) == 1
    common = sorted(set(old.index) & set(new.index))
    changed = (old.loc[common, "mines_total"] != new.loc[common, "mines_total"]).sum()
    assert changed >= 5
    assert set(new["handover"]) == {"aghdam-2021-06-12"}


# --------------------------------------------------------------------------- clearance

@pytest.mark.parametrize("dateline", sorted(PUBLISHED))
def test_published_weeks_match_their_reports(dateline):
    a, b, ap, at, uxo, ha = PUBLISHED[dateline]
    rel = releases()[in_week(releases()["date_end"], a, b)]
    assert set(rel["outcome"]) == {"cleared"}
    union = shapely.union_all(rel.geometry.values)
    assert abs(geod_ha(union) - ha) <= 0.01
    # non-overlapping: the union is the sum of the parts
    assert abs(sum(geod_ha(g) for g in rel.geometry) - geod_ha(union)) < 0.001
    assert {normalise(d) for d in rel["district"]} == PUBLISHED_DISTRICTS
    it = items()[in_week(items()["date"], a, b)]
    counts = it["item_type"].value_counts()
    assert (counts.get("AP", 0), counts.get("AT", 0), counts.get("UXO", 0)) == (ap, at, uxo)
    cells = districts()
    found = {n for n, c in cells.items() if shapely.contains_xy(
        c, it.geometry.x.values, it.geometry.y.values).any()}
    assert found <= PUBLISHED_DISTRICTS
    for n in PUBLISHED_DISTRICTS:
        inside = shapely.intersects(cells[n], rel.geometry.values).any()
        assert inside or n in found


def test_release_and_item_columns():
    rel = releases()
    for col in ("report_id", "date_start", "date_end", "operator", "method", "outcome",
                "found_ap", "found_at", "found_uxo", "district"):
        assert col in rel.columns
    assert rel["report_id"].is_unique
    assert set(rel["outcome"]) == {"cleared", "reduced", "cancelled"}
    assert {"manual", "mechanical", "MDD"} <= set(rel["method"])
    assert "ANAMA" in set(rel["operator"]) and rel["operator"].nunique() >= 3
    assert (pd.to_datetime(rel["date_start"]) <= pd.to_datetime(rel["date_end"])).all()
    with_counts = rel[rel["found_ap"].notna()]
    assert len(with_counts) >= 3
    it = items()
    assert it["item_id"].is_unique
    assert set(it["item_type"]) == {"AP", "AT", "UXO"}
    # releases with counts have no item points naming them, so they get apportioned
    assert not set(with_counts["report_id"]) & set(it["report_id"].dropna())
    linked = it[it["report_id"].notna()].merge(rel, on="report_id", suffixes=("", "_r"))
    assert len(linked) > 0.5 * len(it)
    assert shapely.intersects(linked["geometry"].values,
                              shapely.buffer(linked["geometry_r"].values, 1e-7)).all()
    d = pd.to_datetime(linked["date"])
    assert (d <= pd.to_datetime(linked["date_end"])).all()
    assert (d >= pd.to_datetime(linked["date_start"])).all()
    years = pd.to_datetime(it["date"]).dt.year
    assert set(years) == {2021, 2022}


def test_field_statuses_are_mixed():
    fields, _ = all_fields()
    rel = releases()
    released = shapely.union_all(rel.geometry.values)
    share = shapely.area(shapely.intersection(fields, released)) / shapely.area(fields)
    assert (share > 0.999).sum() > 30          # released
    assert ((share > 0.05) & (share < 0.95)).sum() > 30  # in progress
    assert (share < 0.001).sum() > 300          # not started


def test_found_mines_outside_fields():
    fields, handovers = all_fields()
    it = items()
    # The finds of the unmapped fields are checked on their own below: they
    # are the kilometres-away tail no map explains.
    mines = it[it["item_type"].isin(["AP", "AT"]) & ~it["item_id"].isin(unmapped_ids())]
    f_utm = utm(fields)
    p_utm = utm(mines.geometry.values)
    tree = shapely.STRtree(f_utm)
    idx, dist = tree.query_nearest(p_utm, return_distance=True, all_matches=False)
    dist = np.asarray(dist)
    outside = dist > 0
    share = outside.mean()
    assert 0.25 <= share <= 0.50, share
    d = dist[outside]
    assert ((d >= 25) & (d <= 100)).mean() > 0.4
    assert (d > 150).mean() > 0.05 and d.max() < 1000
    # accuracy differs between handovers: Aghdam worse than December
    h = np.array(handovers)[idx[1]]
    out_agd = outside[h == "aghdam-2021-06-12"].mean()
    out_dec = outside[h == "remaining-2021-12-04"].mean()
    assert out_agd > out_dec + 0.1


def test_unmapped_fields_far_beyond_every_map():
    truth = unmapped_truth()
    assert len(truth) >= 3 and truth["synthetic"].all()
    fields, _ = all_fields()
    tree = shapely.STRtree(utm(fields))
    it = items().set_index("item_id")
    inc = pyogrio.read_dataframe(SM / "incidents.geojson").set_index("incident_id")
    weeks = [(a, b) for a, b in ((dt.date(2021, 11, 22) + dt.timedelta(days=7 * k),
                                  dt.date(2021, 11, 28) + dt.timedelta(days=7 * k))
                                 for k in range(14))]
    cells = districts()
    for row in truth.itertuples():
        ids = row.item_ids.split(";")
        finds = it.loc[ids]
        # Its finds are AP and AT mines, as many as it says, all inside it.
        assert (finds["item_type"] == "AP").sum() == row.found_ap
        assert (finds["item_type"] == "AT").sum() == row.found_at
        assert row.found_ap + row.found_at <= row.mines_ap + row.mines_at
        assert shapely.contains_xy(row.geometry, finds.geometry.x, finds.geometry.y).all()
        assert finds["report_id"].isna().all()
        # Well beyond every recorded field's 500 m footprint (UTM metres; the
        # grid scale differs from the ground by < 0.1 %).
        pts = utm(finds.geometry.values)
        _, dist = tree.query_nearest(pts, return_distance=True, all_matches=False)
        assert np.min(dist) > 1500, (row.field_id, np.min(dist))
        # Cleared outside the reported weeks, so that the reports still match.
        days = pd.to_datetime(finds["date"]).dt.date
        assert not any(a <= d <= b for d in days for a, b in weeks)
        # In the district it names; its incidents among its finds, with casualties.
        assert cells[row.district].contains(row.geometry)
        incs = inc.loc[row.incident_ids.split(";")]
        assert len(incs) >= 1 and ((incs["killed"] + incs["injured"]) > 0).all()
        assert shapely.contains_xy(row.geometry.buffer(0.001), incs.geometry.x,
                                   incs.geometry.y).all()


def test_incidents_mostly_outside_fields():
    inc = pyogrio.read_dataframe(SM / "incidents.geojson")
    assert {"incident_id", "date", "killed", "injured", "civilian"} <= set(inc.columns)
    fields, _ = all_fields()
    union = shapely.union_all(fields)
    inside = shapely.contains_xy(union, inc.geometry.x.values, inc.geometry.y.values)
    assert 5 <= len(inc) and (~inside).sum() > len(inc) / 2


# --------------------------------------------------------------------------- weekly reports

WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen".split())}
TENS = {w: 10 * i for i, w in enumerate(
    "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()) if w != "_"}
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]


def number(token: str) -> int:
    t = token.lower()
    if t in ("an", "a"):
        return 1
    if t == "no":
        return 0
    if t.isdigit():
        return int(t)
    if "-" in t:
        a, b = t.split("-")
        return TENS[a] + WORDS[b]
    return TENS.get(t, WORDS.get(t))


def mini_parse(text: str) -> dict:
    """Just enough of a parser for the texts the generator writes."""
    dateline = dt.date.fromisoformat(re.search(r"date (\d{4}-\d{2}-\d{2})", text).group(1))
    m = re.search(r"(?:from|during the week of) (\w+) (\d+) to (?:(\w+) )?(\d+)", text)
    m1, d1, m2, d2 = m.group(1), int(m.group(2)), m.group(3) or m.group(1), int(m.group(4))
    end = dt.date(dateline.year, MONTHS.index(m2) + 1, d2)
    if end > dateline:
        end = end.replace(year=end.year - 1)
    start = dt.date(end.year - (MONTHS.index(m1) > MONTHS.index(m2)), MONTHS.index(m1) + 1, d1)
    ap = number(re.search(r"([\w-]+) anti-?personnel mines?", text).group(1))
    at = number(re.search(r"([\w-]+) anti-tank mines?", text).group(1))
    uxo = number(re.search(r"([\w-]+) unexploded ordnance", text).group(1))
    ha_s = re.search(r"A total of ([\d.,]+) hectares", text).group(1)
    assert not re.fullmatch(r"\d+\.\d{3}", ha_s)
    where = re.search(r"in ([^.]*?) regions", text).group(1)
    names = [normalise(n) for n in re.split(r",\s*(?:and\s+)?|\s+and\s+", where)]
    return {"date_start": start, "date_end": end, "found_ap": ap, "found_at": at,
            "found_uxo": uxo, "cleared_ha": float(ha_s.replace(",", ".")), "districts": names}


def report_files() -> list[Path]:
    return sorted((SM / "reports").glob("weekly_report_*.txt"))


def test_reports_stretch():
    files = report_files()
    assert len(files) >= 10
    names = {f"reports/{p.name}" for p in files}
    assert set(REAL_REPORTS) <= names
    for real in REAL_REPORTS:
        shared = Path("/work/shared/examples") / Path(real).name
        if shared.exists():
            assert (SM / real).read_bytes() == shared.read_bytes()
    texts = [p.read_text(encoding="utf-8") for p in files]
    joined = "\n".join(texts)
    assert "from December 27 to January 2" in joined or \
        "week of December 27 to January 2" in joined
    assert (SM / "reports/weekly_report_2022-01-03.txt").exists()
    assert "no anti-tank mines" in joined and "an anti-tank mine" in joined
    assert "during the week of" in joined
    assert re.search(r"\d+,\d hectares", joined) and re.search(r"\d+\.\d hectares", joined)
    assert re.search(r"^[A-Z][a-z]+(-[a-z]+)? anti-?personnel", joined, re.M)


@pytest.mark.parametrize("path", report_files(), ids=lambda p: p.name)
def test_report_reconciles_with_data(path):
    rep = mini_parse(path.read_text(encoding="utf-8"))
    a, b = rep["date_start"], rep["date_end"]
    assert (b - a).days in (5, 6)
    rel = releases()
    cl = rel[in_week(rel["date_end"], a, b) & (rel["outcome"] == "cleared")]
    ha = geod_ha(shapely.union_all(cl.geometry.values))
    assert abs(ha - rep["cleared_ha"]) <= 0.01, (ha, rep["cleared_ha"])
    it = items()[in_week(items()["date"], a, b)]
    c = it["item_type"].value_counts()
    assert (c.get("AP", 0), c.get("AT", 0), c.get("UXO", 0)) == \
        (rep["found_ap"], rep["found_at"], rep["found_uxo"])
    worked = set(rel[in_week(rel["date_end"], a, b)]["district"].map(normalise))
    assert worked == set(rep["districts"])


def test_reports_agree_with_the_project_parser():
    reports = pytest.importorskip("minemap.readers.reports")
    for path in report_files():
        got = reports.parse_report(path.read_text(encoding="utf-8"), source=path.name)
        want = mini_parse(path.read_text(encoding="utf-8"))
        for key in ("date_start", "date_end", "found_ap", "found_at", "found_uxo"):
            assert got[key] == want[key], (path.name, key)
        assert got["cleared_ha"] == pytest.approx(want["cleared_ha"])
        assert list(got["districts"]) == want["districts"]


# --------------------------------------------------------------------------- traverse

CONTRACT_KEYS = {"record_id", "synthetic", "handover", "district", "laid_date", "mines",
                 "mine_types",
                 "reference_point", "angle_unit", "north", "declination_deg",
                 "direction_correction", "closed", "legs", "rows"}
UNIT_DEG = {"mil6000": 0.06, "mil6400": 360 / 6400, "deg": 0.1}


def to_deg(value, unit: str) -> float:
    if unit == "mil6000":
        a, b = str(value).split("-")
        return (int(a) * 100 + int(b)) * 360 / 6000
    if unit == "mil6400":
        return float(value) * 360 / 6400
    return float(value)


def test_traverse_mix():
    recs = traverse_records()
    assert len(recs) >= 20
    files = {f for f, _ in recs}
    assert sum(1 for f in files if sum(g == f for g, _ in recs) == 1) >= 3
    assert any(sum(g == f for g, _ in recs) > 1 for f in files)
    rps = [r["reference_point"] for _, r in recs]
    assert any(rp.get("crs") == "EPSG:28408" for rp in rps)
    sk = [rp for rp in rps if rp.get("crs") == "SK-42"]
    assert sk and all(str(int(rp["easting"])).startswith("8") for rp in sk)
    assert any("lat" in rp for rp in rps) and sum("mgrs" in rp for rp in rps) >= 1
    for rp in rps:
        if "easting" in rp:
            assert 8.4e6 < rp["easting"] < 8.8e6 and 4.3e6 < rp["northing"] < 4.5e6
    units = {r["angle_unit"] for _, r in recs}
    assert {"mil6000", "deg"} <= units
    norths = {r["north"] for _, r in recs}
    assert norths == {"grid", "true", "magnetic"}
    mag = [r for _, r in recs if r["north"] == "magnetic"]
    assert any("declination_deg" in r for r in mag)
    assert sum("direction_correction" in r for r in mag) == 1
    model = [r for r in mag if "declination_deg" not in r and "direction_correction" not in r]
    assert model and str(model[0]["laid_date"]).startswith("1993-")
    assert sum(r["closed"] is False for _, r in recs) == 1
    assert any(lg.get("point") == "intermediate" for _, r in recs for lg in r["legs"])
    rows = [r for _, r in recs if r.get("rows")]
    assert rows
    for r in rows:
        assert sum(x["mines"] for x in r["rows"]) == r["mines"]["ap"] + r["mines"]["at"]
    for _, r in recs:
        assert set(r) <= CONTRACT_KEYS
        assert r["handover"] == "remaining-2021-12-04"
        assert normalise(r["district"]) is not None
        if r["angle_unit"] == "mil6000":
            assert all(re.fullmatch(r"\d\d-\d\d", lg["bearing"]) for lg in r["legs"])
    ids = [r["record_id"] for _, r in recs]
    assert len(set(ids)) == len(ids)
    assert not set(ids) & set(december()["record_id"])


@cache
def sk42_to_wgs84() -> Transformer:
    return TransformerGroup("EPSG:28408", "EPSG:4326", always_xy=True,
                            area_of_interest=AreaOfInterest(*AOI)).transformers[0]


def walk(rec: dict) -> tuple[list[tuple[float, float]], str, bool]:
    """Recompute the traverse: vertices (plane x/y or lon/lat) and the frame."""
    rp, unit = rec["reference_point"], rec["angle_unit"]
    north = rec["north"]
    shift = 0.0
    if north == "magnetic":
        shift = float(rec.get("declination_deg", rec.get("direction_correction", 0.0)))
    grid = north == "grid" or "direction_correction" in rec
    if grid:
        if "easting" in rp:
            epsg = 28400 + int(str(int(rp["easting"]))[0]) if rp["crs"] == "SK-42" else 28408
            proj, pos = Proj(f"EPSG:{epsg}"), np.array([rp["easting"], rp["northing"]])
            frame = f"EPSG:{epsg}"
        else:
            if "mgrs" in rp:
                import mgrs
                lat, lon = mgrs.MGRS().toLatLon(rp["mgrs"])
            else:
                lat, lon = rp["lat"], rp["lon"]
            proj, frame = Proj("EPSG:32638"), "EPSG:32638"
            pos = np.array(TO_UTM.transform(lon, lat))
        pts = []
        for lg in rec["legs"]:
            b = math.radians(to_deg(lg["bearing"], unit) + shift)
            k = proj.get_factors(*proj(*pos, inverse=True)).meridional_scale
            pos = pos + lg["distance_m"] * k * np.array([math.sin(b), math.cos(b)])
            pts.append(tuple(pos))
        return pts, frame, True
    assert "lat" in rp
    lon, lat = rp["lon"], rp["lat"]
    pts = []
    for lg in rec["legs"]:
        lon, lat, _ = GEOD.fwd(lon, lat, to_deg(lg["bearing"], unit) + shift, lg["distance_m"])
        pts.append((lon, lat))
    return pts, "", False


def test_sk42_grid_traverse_lands_on_intended_polygon():
    ev = expected_vertices()
    checked = 0
    for _, rec in traverse_records():
        rp = rec["reference_point"]
        if rec["north"] != "grid" or rp.get("crs") not in ("EPSG:28408", "SK-42"):
            continue
        # TP1 by hand: plane leg from RP in EPSG:28408, scaled by the point scale factor
        proj = Proj("EPSG:28408")
        e, n = rp["easting"], rp["northing"]
        lg = rec["legs"][0]
        b = math.radians(to_deg(lg["bearing"], "mil6000"))
        k = proj.get_factors(*proj(e, n, inverse=True)).meridional_scale
        assert 1.00001 < k < 1.001
        x = e + lg["distance_m"] * k * math.sin(b)
        y = n + lg["distance_m"] * k * math.cos(b)
        lon, lat = sk42_to_wgs84().transform(x, y)
        want = ev[(ev.record_id == rec["record_id"]) & (ev.label == "TP1")].iloc[0]
        tol = lg["distance_m"] * math.radians(0.03) + 0.06
        assert math.hypot(x - want.x, y - want.y) <= tol
        assert GEOD.inv(lon, lat, want.lon, want.lat)[2] <= tol + 0.01
        checked += 1
    assert checked >= 5


def test_traverse_vertices_and_misclosure():
    ev = expected_vertices()
    for _, rec in traverse_records():
        pts, frame, plane = walk(rec)
        want = ev[(ev.record_id == rec["record_id"]) & (ev.label != "RP")].sort_values("vertex")
        n = len(want)
        assert n >= 3
        closed = rec["closed"]
        assert len(pts) == n + (1 if closed else 0)
        unit = UNIT_DEG[rec["angle_unit"]]
        model = rec["north"] == "magnetic" and "declination_deg" not in rec \
            and "direction_correction" not in rec
        if not model:  # the model's declination would have to be recomputed
            for (px, py), lg, (_, w) in zip(pts, rec["legs"], want.iterrows(), strict=False):
                tol = lg["distance_m"] * math.radians(unit / 2) + 0.07
                if plane:
                    assert w.plane_crs == frame
                    assert math.hypot(px - w.x, py - w.y) <= tol, rec["record_id"]
                else:
                    assert GEOD.inv(px, py, w.lon, w.lat)[2] <= tol, rec["record_id"]
        if closed:
            (x1, y1), (xe, ye) = pts[0], pts[-1]
            if plane:
                mis = math.hypot(xe - x1, ye - y1)
            else:
                mis = GEOD.inv(x1, y1, xe, ye)[2]
            perim = sum(lg["distance_m"] for lg in rec["legs"][1:])
            assert 0.09 <= mis <= 0.51, (rec["record_id"], mis)
            assert perim / mis >= 500


# --------------------------------------------------------------------------- files

def test_manifest():
    man = json.loads((SM / "manifest.json").read_text())
    assert man["synthetic"] is True
    kinds = [s["kind"] for s in man["steps"]]
    assert kinds == ["districts", "records", "records", "records", "records", "clearance",
                     "incidents", "reports"]
    rec = [s for s in man["steps"] if s["kind"] == "records"]
    assert [s["handover"] for s in rec] == ["aghdam-2021-06-12", "fuzuli-zangilan-2021-07-03",
                                            "remaining-2021-12-04", "aghdam-2021-06-12"]
    assert rec[1]["layer"] == "minefields"
    assert rec[3]["sources"] == ["aghdam_2021-06-12_rev2.geojson"]
    assert len([s for s in rec[2]["sources"] if s.endswith(".yaml")]) >= 5
    for step in man["steps"]:
        for src in step["sources"]:
            assert (SM / src).is_file(), src
    assert set(REAL_REPORTS) <= set(man["steps"][-1]["sources"])
    assert (SM / "README.md").is_file()


def test_every_feature_says_synthetic():
    for path in SM.rglob("*.geojson"):
        data = json.loads(path.read_text(encoding="utf-8"))
        assert all(f["properties"]["synthetic"] is True for f in data["features"]), path
        assert "crs" not in data
    assert fz()["synthetic"].all() and december()["synthetic"].all()
    for path in (SM / "traverse").glob("*.yaml"):
        assert "SYNTHETIC" in path.read_text(encoding="utf-8").splitlines()[0]


def test_size_budget():
    total = sum(p.stat().st_size for p in SM.rglob("*") if p.is_file())
    assert total <= 15 * 1024 * 1024


def _gpkg_rows(path: Path) -> list:
    df = pyogrio.read_dataframe(path, layer="minefields")
    return [tuple(r) for r in df.drop(columns="geometry").itertuples(index=False)] + \
        [g.wkb for g in df.geometry]


def test_generator_is_deterministic(tmp_path):
    subprocess.run([sys.executable, str(ROOT / "tools/make_sample_maps.py"), "--out",
                    str(tmp_path)], check=True, cwd=ROOT, timeout=300)
    made = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    committed = {p.relative_to(SM).as_posix() for p in SM.rglob("*") if p.is_file()}
    assert committed - made == {"README.md", *REAL_REPORTS}
    assert made <= committed
    for rel in sorted(made):
        a, b = tmp_path / rel, SM / rel
        if hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest():
            continue
        # GeoPackage bytes may differ with the GDAL version; compare contents then.
        assert rel.endswith(".gpkg") and _gpkg_rows(a) == _gpkg_rows(b), rel
