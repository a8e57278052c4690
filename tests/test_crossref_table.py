"""`crossref -o out.csv` from the materialised table without the geometry stack (issue 14)."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minemap.store import gpkg_schema, gpkg_table, revisions
from tests.conftest import feature, rect, write_geojson

HEAVY = ("geopandas", "shapely", "pyproj", "pyogrio", "fiona", "folium")

_PROBE = """
import json, sys
from minemap.cli.main import cli
code = 0
try:
    cli.main(args=sys.argv[1:], prog_name="minemap", standalone_mode=True)
except SystemExit as exc:
    code = exc.code
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(HEAVY_LIST))
print("HEAVY=" + json.dumps([code, heavy]), file=sys.stderr)
"""


def _run(*args: str) -> tuple[int, list[str], str]:
    """Exit code and heavy libraries of ``minemap ARGS`` in a fresh interpreter."""
    res = subprocess.run([sys.executable, "-c", _PROBE.replace("HEAVY_LIST", repr(HEAVY)), *args],
                         capture_output=True, text=True, timeout=120, check=False)
    line = [x for x in res.stderr.splitlines() if x.startswith("HEAVY=")]
    assert line, res.stderr
    code, heavy = json.loads(line[-1][len("HEAVY="):])
    return code, heavy, res.stdout + res.stderr


@pytest.fixture
def store(tmp_path, cli, store_path):
    """Two 100 m fields; a 40 m × 100 m release over the first (0.4 ha by hand)."""
    write_geojson(tmp_path / "f.geojson", [
        feature({"record_id": "A", "mines_ap": 10, "mine_types": "PMN-2", "district": "Agdam"},
                rect(0, 0, 100, 100)),
        feature({"record_id": "B", "mines_ap": 4, "district": "Agdam"},
                rect(400, 0, 100, 100))])
    write_geojson(tmp_path / "r.geojson", [
        feature({"report_id": "R1", "date": "2022-03-01", "outcome": "cleared"},
                rect(0, 0, 40, 100))])
    assert cli("import-records", tmp_path / "f.geojson", "--handover", "h").exit_code == 0
    assert cli("import-clearance", tmp_path / "r.geojson").exit_code == 0
    return store_path


def test_constants_agree_with_the_schema():
    assert gpkg_table.SCHEMA_VERSION == gpkg_schema.SCHEMA_VERSION
    assert gpkg_table.METADATA_URI == gpkg_schema.METADATA_URI
    assert revisions._CROSSREF_REAL == gpkg_table.CROSSREF_REAL


def test_crossref_csv_imports_no_geometry_library_and_equals_the_full_path(store, tmp_path):
    light, full = tmp_path / "light.csv", tmp_path / "full.csv"
    code, heavy, out = _run("--store", str(store), "crossref", "-o", str(light))
    assert code == 0, out
    assert heavy == [], out
    assert "wrote 2 rows" in out
    # --revision (the latest) takes the store backend and the API's table.
    code, heavy, out = _run("--store", str(store), "crossref", "--revision", "2", "-o",
                            str(full))
    assert code == 0, out
    assert "geopandas" in heavy  # the full path, really
    assert light.read_bytes() == full.read_bytes()
    table = pd.read_csv(light, dtype={"record_id": str}).set_index("record_id")
    # By hand: 100 m × 100 m fields, 40 m × 100 m of A cleared (rounded to 2 decimals).
    assert table.loc["A", "area_ha"] == pytest.approx(1.0, abs=0.01)
    assert table.loc["A", "cleared_ha"] == pytest.approx(0.4, abs=0.01)
    assert table.loc["B", "released_ha"] == 0


def test_stored_crossref_equals_the_api_table(store):
    from minemap.api import crossref
    from minemap.materialised import stored_crossref

    pd.testing.assert_frame_equal(stored_crossref(store), crossref(store, geometry=False))
    pd.testing.assert_frame_equal(stored_crossref(str(store)), crossref(store, geometry=False))


def test_no_answer_where_the_full_path_is_needed(store, tmp_path, cli, monkeypatch):
    from minemap.materialised import stored_crossref

    assert stored_crossref(tmp_path / "none.gpkg") is None
    assert stored_crossref("postgresql://u@localhost/db") is None
    (tmp_path / "junk.gpkg").write_text("not a database")
    assert stored_crossref(tmp_path / "junk.gpkg") is None
    monkeypatch.setenv("MINEMAP_STORE", str(store))
    assert stored_crossref() is not None
    # With district boundaries a field's district is placed from them: not stored alone.
    write_geojson(tmp_path / "d.geojson", [
        feature({"district": "Aghdam"}, rect(-1000, -1000, 3000, 3000))])
    res = cli("import-districts", tmp_path / "d.geojson")
    assert res.exit_code == 0, res.output
    assert stored_crossref(store) is None
    out = tmp_path / "d.csv"
    code, heavy, text = _run("--store", str(store), "crossref", "-o", str(out))
    assert code == 0, text
    assert "geopandas" in heavy


def test_errors_are_those_of_the_full_path(tmp_path):
    code, _, out = _run("--store", str(tmp_path / "none.gpkg"), "crossref", "-o",
                        str(tmp_path / "x.csv"))
    assert code != 0
    assert "the store is empty" in out
    assert not (tmp_path / "x.csv").exists()


@given(st.lists(st.one_of(
    st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=False),
    st.text(max_size=6), st.sampled_from(["=1+1", "-2", "+x", "@a", "\tz", "\rq", "a=b"]),
    st.lists(st.integers(), max_size=2)), max_size=30))
def test_cells_by_column_equal_the_cell_rule(values):
    from minemap.export.common import _cell
    from minemap.export.csv import _cells

    expected = ["" if v is None else _cell(v) for v in values]
    assert _cells(values) == expected
    # Columns of one kind take the fast paths.
    for kind in ((int, float), (str,)):
        same = [v for v in values if v is None or type(v) in kind]
        assert _cells(same) == ["" if v is None else _cell(v) for v in same]


def test_a_hot_journal_is_left_to_the_full_path(store, tmp_path):
    """A killed writer's journal: the read-only path never reads the torn file."""
    from minemap.materialised import stored_crossref
    from tests.test_store_gpkg import _KILL_SCRIPT

    before = stored_crossref(store)
    proc = subprocess.Popen([sys.executable, "-c", _KILL_SCRIPT, str(store)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "inside"
    proc.kill()
    proc.wait()
    journal = store.with_name(store.name + "-journal")
    assert journal.exists() and journal.stat().st_size > 0
    assert stored_crossref(store) is None
    out = tmp_path / "j.csv"
    code, heavy, text = _run("--store", str(store), "crossref", "-o", str(out))
    assert code == 0, text
    assert "geopandas" in heavy  # the store backend rolled the journal back
    pd.testing.assert_frame_equal(stored_crossref(store), before)
