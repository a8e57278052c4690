"""The store: revisions, replacement semantics, atomicity and serialisation."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pyogrio
import pytest

from minemap import Store, import_records
from minemap._errors import DataError
from tests.conftest import feature, fields_file, rect, write_geojson


def _snapshot(path: Path) -> dict:
    """Every row of every table, to compare a store before and after."""
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        return {t: conn.execute(f'SELECT * FROM "{t}" ORDER BY 1').fetchall() for t in tables}
    finally:
        conn.close()


def test_revisions_replace_and_history(tmp_path, store_path):
    a = fields_file(tmp_path / "a.geojson", 4)
    r1, _ = import_records([a], handover="h", store=store_path, handover_date="2021-06-12")
    assert r1.revision == 1 and r1.added == ["AGD-0001", "AGD-0002", "AGD-0003", "AGD-0004"]
    # Revised: AGD-0002 changes its counts, AGD-0004 is gone, AGD-0005 is new.
    feats = json.loads(a.read_text())["features"]
    feats[1]["properties"]["mines_ap"] = 99
    feats = feats[:3] + [feature({"record_id": "AGD-0005", "mines_ap": 1}, rect(5000, 0, 50, 50))]
    b = write_geojson(tmp_path / "b.geojson", feats)
    r2, _ = import_records([b], handover="h", store=store_path, allow_removals=True)
    assert (r2.revision, r2.added, r2.changed, r2.removed) == (
        2, ["AGD-0005"], ["AGD-0002"], ["AGD-0004"])
    st = Store(store_path)
    first = st.read("minefields", revision=1)
    latest = st.read("minefields")
    assert sorted(first.record_id) == ["AGD-0001", "AGD-0002", "AGD-0003", "AGD-0004"]
    assert sorted(latest.record_id) == ["AGD-0001", "AGD-0002", "AGD-0003", "AGD-0005"]
    assert int(first.loc[first.record_id == "AGD-0002", "mines_ap"].iloc[0]) == 10
    assert int(latest.loc[latest.record_id == "AGD-0002", "mines_ap"].iloc[0]) == 99
    hist = st.revisions(handover="h")
    assert [h["revision"] for h in hist] == [1, 2]
    assert hist[1]["removed"] == ["AGD-0004"]
    assert len(hist[0]["sha256"][0]) == 64


def test_identical_reimport_is_noop(tmp_path, store_path, cli):
    a = fields_file(tmp_path / "a.geojson", 2)
    assert cli("import-records", a, "--handover", "h").exit_code == 0
    res = cli("import-records", a, "--handover", "h")
    assert res.exit_code == 0
    assert "nothing to do" in res.output
    assert Store(store_path).latest_revision() == 1


def test_reimporting_older_file_reverts(tmp_path, store_path):
    a = fields_file(tmp_path / "a.geojson", 2, ap=10)
    b = fields_file(tmp_path / "b.geojson", 2, ap=20)
    import_records([a], handover="h", store=store_path)
    import_records([b], handover="h", store=store_path)
    r3, _ = import_records([a], handover="h", store=store_path)
    assert r3.revision == 3 and sorted(r3.changed) == ["AGD-0001", "AGD-0002"]
    assert set(Store(store_path).read("minefields").mines_ap) == {10}


def test_any_removal_is_refused_listing_the_ids(tmp_path, store_path, cli):
    import_records([fields_file(tmp_path / "a.geojson", 6)], handover="h", store=store_path)
    five = fields_file(tmp_path / "b.geojson", 5)  # lacks one field: AGD-0006
    before = _snapshot(store_path)
    res = cli("import-records", five, "--handover", "h")
    assert res.exit_code == 1
    assert "would remove 1 record of handover h: AGD-0006" in res.output
    assert "--allow-removals" in res.output and len(res.output.strip().splitlines()) == 1
    assert _snapshot(store_path) == before
    small = fields_file(tmp_path / "c.geojson", 2)
    res = cli("import-records", small, "--handover", "h")
    assert res.exit_code == 1 and "AGD-0003, AGD-0004, AGD-0005, AGD-0006" in res.output
    assert _snapshot(store_path) == before
    assert cli("import-records", small, "--handover", "h", "--add").exit_code == 0
    assert len(Store(store_path).read("minefields")) == 6
    assert cli("import-records", small, "--handover", "h", "--allow-removals").exit_code == 0
    assert len(Store(store_path).read("minefields")) == 2


def test_handovers_are_separate(tmp_path, store_path):
    import_records([fields_file(tmp_path / "a.geojson", 3)], handover="a", store=store_path)
    import_records([fields_file(tmp_path / "b.geojson", 3, prefix="FZL")], handover="b",
                   store=store_path)
    assert len(Store(store_path).read("minefields")) == 6


def test_layers_open_as_ordinary_gpkg_layers(tmp_path, store_path):
    import_records([fields_file(tmp_path / "a.geojson", 3)], handover="h", store=store_path)
    layers = dict(pyogrio.list_layers(store_path))
    assert layers["minefields"] == "MultiPolygon"
    frame = pyogrio.read_dataframe(store_path, layer="minefields")
    assert sorted(frame.record_id) == ["AGD-0001", "AGD-0002", "AGD-0003"]
    assert frame.crs.to_epsg() == 4326


def test_record_handover_must_match(tmp_path, store_path, cli):
    f = fields_file(tmp_path / "a.geojson", 2, handover="other")
    res = cli("import-records", f, "--handover", "h")
    assert res.exit_code == 1
    assert "a.geojson" in res.output and "AGD-0001" in res.output
    assert not store_path.exists() or Store(store_path).latest_revision() == 0


def test_failed_import_writes_nothing(tmp_path, store_path):
    import_records([fields_file(tmp_path / "a.geojson", 2)], handover="h", store=store_path)
    before = _snapshot(store_path)
    bad = fields_file(tmp_path / "bad.geojson", 2, ap=-1)
    with pytest.raises(DataError):
        import_records([bad], handover="h", store=store_path)
    assert _snapshot(store_path) == before


_IMPORT = (
    "import sys; from minemap import import_records; "
    "import_records([sys.argv[1]], handover=sys.argv[2], store=sys.argv[3])"
)


def test_sigkill_mid_import_leaves_store_unchanged(tmp_path, store_path):
    import_records([fields_file(tmp_path / "a.geojson", 3)], handover="h", store=store_path)
    before = _snapshot(store_path)
    big = fields_file(tmp_path / "big.geojson", 8_000, prefix="BIG", start=10)
    journal = Path(str(store_path) + "-journal")
    proc = subprocess.Popen([sys.executable, "-c", _IMPORT, str(big), "big", str(store_path)])
    deadline = time.time() + 120
    while not journal.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.005)
    assert proc.poll() is None, "the import finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert _snapshot(store_path) == before
    assert Store(store_path).latest_revision() == 1


def test_concurrent_imports_both_land(tmp_path, store_path):
    import_records([fields_file(tmp_path / "seed.geojson", 1, prefix="S")], handover="seed",
                   store=store_path)
    files = [fields_file(tmp_path / f"{h}.geojson", 1000, prefix=h.upper())
             for h in ("one", "two")]
    procs = [subprocess.Popen([sys.executable, "-c", _IMPORT, str(f), f.stem, str(store_path)])
             for f in files]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    st = Store(store_path)
    assert st.latest_revision() == 3
    got = st.read("minefields").groupby("handover").size().to_dict()
    assert got == {"seed": 1, "one": 1000, "two": 1000}


def test_store_opens_styled_in_qgis(tmp_path, store_path):
    """The crossref view carries status; layer_styles holds default QGIS styles."""
    import warnings

    import_records([fields_file(tmp_path / "a.geojson", 2)], handover="h", store=store_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # GDAL must find nothing non-conformant
        frame = pyogrio.read_dataframe(store_path, layer="crossref")
        styles = pyogrio.read_dataframe(store_path, layer="layer_styles")
    assert list(frame.status) == ["not_started", "not_started"]
    assert list(frame.remaining_est) == [12.0, 12.0]
    row = styles.set_index("f_table_name").loc["crossref"]
    assert bool(row.useAsDefault) and "status" in row.styleQML
    assert {"releases", "items", "minefields"} <= set(styles.f_table_name)


def test_changed_dbf_is_a_new_source(tmp_path, store_path):
    """A Shapefile is its whole set: new counts in the .dbf are not 'identical'."""
    import geopandas as gpd

    folder = tmp_path / "shp"
    folder.mkdir()
    frame = gpd.read_file(fields_file(tmp_path / "a.geojson", 2))
    frame.to_file(folder / "f.shp")
    import_records([folder / "f.shp"], handover="h", store=store_path)
    frame.loc[0, "mines_ap"] = 500
    frame.to_file(folder / "f.shp")
    res, _ = import_records([folder / "f.shp"], handover="h", store=store_path)
    assert res.revision == 2 and res.changed == ["AGD-0001"]


def test_not_a_store_is_refused_and_untouched(tmp_path, cli):
    junk = tmp_path / "junk.gpkg"
    junk.write_bytes(b"not a database")
    res = cli("--store", junk, "info")  # the fixture's --store comes first; this one wins
    assert res.exit_code == 2 and "junk.gpkg" in res.output
    other = tmp_path / "other.gpkg"
    import geopandas as gpd

    gpd.read_file(fields_file(tmp_path / "a.geojson", 1)).to_file(other, driver="GPKG")
    before = other.read_bytes()
    res = cli("--store", other, "import-records", tmp_path / "a.geojson", "--handover", "h")
    assert res.exit_code == 2 and "not a minemap store" in res.output
    assert other.read_bytes() == before


def test_handover_date_carries_over_and_validate_takes_it(tmp_path, store_path, cli):
    yaml_text = (
        "record_id: M-1\nmines: {ap: 3}\nreference_point: {lat: 39.98, lon: 46.93}\n"
        "angle_unit: deg\nnorth: magnetic\nclosed: false\nlegs:\n"
        "  - {bearing: 10, distance_m: 50}\n  - {bearing: 90, distance_m: 60}\n"
        "  - {bearing: 180, distance_m: 60}\n")
    (tmp_path / "m.yaml").write_text(yaml_text)
    assert cli("validate", tmp_path / "m.yaml").exit_code == 1  # no date for the model
    assert cli("validate", tmp_path / "m.yaml", "--handover-date", "2021-06-12").exit_code == 0
    fields = fields_file(tmp_path / "a.geojson", 2)
    assert cli("import-records", fields, "--handover", "h",
               "--handover-date", "2021-06-12").exit_code == 0
    res = cli("import-records", fields, tmp_path / "m.yaml", "--handover", "h")
    assert res.exit_code == 0, res.output
    rec = Store(store_path).read("minefields").set_index("record_id").loc["M-1"]
    # The stored handover date (2021-06-12) was used: IGRF there, by ppigrf.
    import datetime

    import numpy as np
    import ppigrf

    be, bn, _ = ppigrf.igrf(46.93, 39.98, 0.0, datetime.datetime(2021, 6, 12))
    expected = np.degrees(np.arctan2(np.ravel(be)[0], np.ravel(bn)[0]))
    assert rec.declination_deg == pytest.approx(expected, abs=0.01)


def test_unwritable_store_says_which_and_stays_whole(tmp_path, store_path, monkeypatch):
    """A store that cannot be written (here: locked past the wait) is named, unchanged."""
    from minemap import settings
    from minemap.store import StoreError

    import_records([fields_file(tmp_path / "a.geojson", 2)], handover="h", store=store_path)
    before = _snapshot(store_path)
    # DESIGN §10: the wait is settings.lock_timeout_s and the message names the
    # likely holder (contract change from the old 600 s module constant).
    monkeypatch.setattr(settings, "lock_timeout_s", 0.2)
    holder = sqlite3.connect(store_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer that does not let go
    try:
        with pytest.raises(StoreError) as info:
            import_records([fields_file(tmp_path / "b.geojson", 2, prefix="B")],
                           handover="h2", store=store_path)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert str(store_path) in str(info.value) and "nothing was written" in str(info.value)
    assert _snapshot(store_path) == before
