"""The demo store built from sample_maps/: SYNTHETIC on every sample sheet, and the
suspected areas that the samples' unmapped minefields give (issue 13).

The store is built by the manifest's own import steps (as ``minemap demo``
does).  What it should hold is read from the committed truth file and
checked by point-in-polygon here, with shapely, not by minemap.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyogrio
import pypdf
import pytest
import shapely

import minemap
from minemap.api import sheet

ROOT = Path(__file__).resolve().parent.parent
SM = ROOT / "sample_maps"
KALBAJAR = SM / "traverse/kalbajar_2021-12-04.yaml"


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory) -> minemap.Store:
    """Records, clearance and incidents of the manifest, in its order."""
    store = minemap.Store(tmp_path_factory.mktemp("samples") / "minemap.gpkg")
    for step in json.loads((SM / "manifest.json").read_text())["steps"]:
        files = [SM / s for s in step["sources"]]
        if step["kind"] == "records":
            minemap.import_records(files, handover=step["handover"], store=store,
                                   handover_date=step.get("handover_date"),
                                   layer=step.get("layer"),
                                   allow_removals=step.get("allow_removals", False))
        elif step["kind"] == "clearance":
            minemap.import_clearance(files, store=store)
        elif step["kind"] == "incidents":
            minemap.import_incidents(files, store=store)
    return store


def _text(pdf: Path) -> str:
    return "\n".join(p.extract_text() for p in pypdf.PdfReader(pdf).pages)


def test_sheet_of_a_record_from_a_list_file_says_synthetic(sample_store, tmp_path):
    out = tmp_path / "klb.pdf"
    sheet(out, store=sample_store, record="KLB-0104")
    text = _text(out)
    assert "Minefield KLB-0104" in text and "SYNTHETIC" in text


def test_the_same_record_without_the_marks_is_not_synthetic(tmp_path):
    # The Kalbajar list as a real survey office would hand it over: no header
    # comment, no synthetic key.
    lines = [ln for ln in KALBAJAR.read_text(encoding="utf-8").splitlines()
             if not ln.startswith("#") and ln.strip() != "synthetic: true"]
    src = tmp_path / "kalbajar.yaml"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    store = tmp_path / "s.gpkg"
    _, read = minemap.import_records([src], handover="remaining-2021-12-04", store=store)
    assert not [p for p in read.problems if "unknown field" in p.message]
    out = tmp_path / "klb.pdf"
    sheet(out, store=store, record="KLB-0104")
    text = _text(out)
    assert "Minefield KLB-0104" in text and "SYNTHETIC" not in text


def test_synthetic_is_a_known_traverse_field(tmp_path):
    problems = minemap.validate([KALBAJAR], kind="records",
                                   handover="remaining-2021-12-04")
    assert not [p for p in problems if "synthetic" in p.message]
    bad = tmp_path / "bad.yaml"
    bad.write_text(KALBAJAR.read_text(encoding="utf-8").replace(
        "synthetic: true", "synthetic: perhaps", 1), encoding="utf-8")
    problems = minemap.validate([bad], kind="records", handover="remaining-2021-12-04")
    msgs = [p.message for p in problems if "synthetic" in p.message]
    assert msgs and all(p.severity == "warning" for p in problems if "synthetic" in p.message)


def test_demo_store_suspects_are_the_unmapped_fields(sample_store):
    truth = pyogrio.read_dataframe(SM / "unmapped_fields_truth.geojson")
    items = pyogrio.read_dataframe(SM / "clearance/items_unmapped.geojson").set_index("item_id")
    incidents = pyogrio.read_dataframe(SM / "incidents.geojson").set_index("incident_id")
    areas = minemap.suspects(sample_store)
    assert len(areas) == len(truth)
    used = set()
    for row in truth.itertuples():
        finds = items.loc[row.item_ids.split(";")]
        incs = incidents.loc[row.incident_ids.split(";")]
        pts = list(finds.geometry) + list(incs.geometry)
        # Exactly one suspected area holds every find and incident of the field.
        holding = [k for k, g in enumerate(areas.geometry)
                   if all(g.contains(p) for p in pts)]
        assert len(holding) == 1, row.field_id
        k = holding[0]
        used.add(k)
        a = areas.iloc[k]
        assert (a.found_ap, a.found_at) == (row.found_ap, row.found_at)
        assert a.incidents == len(incs)
        assert (a.killed, a.injured) == (incs["killed"].sum(), incs["injured"].sum())
        dates = sorted(str(d)[:10] for d in [*finds["date"], *incs["date"]])
        assert (str(a.first_date), str(a.last_date)) == (dates[0], dates[-1])
        # The area covers the true field's finds, not a different place: its
        # centre lies within 300 m (about 0.003°) of the true outline.
        assert shapely.dwithin(a.geometry.centroid, row.geometry, 0.003)
        assert a.nearest_m > 1500
    assert used == set(range(len(areas)))


def test_no_sample_handover_is_shifted(sample_store):
    # The generator shifts no handover: each estimate is within its 95 %
    # radius of zero (or 10 m, DESIGN §13), and none is a datum suspect.
    table = minemap.offsets(sample_store)
    assert len(table) == 3 and (table["finds_used"] >= 10).all()
    assert (table["shift_m"] <= table["ci95_m"].clip(lower=10)).all()
    assert not table["datum_suspect"].any()
