"""Tables people read (DESIGN §12): rounding, terminal width, spreadsheets."""

from __future__ import annotations

import csv
import importlib
import io
import json

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from minemap._errors import UsageError
from minemap.cli.tables import print_table

ex = importlib.import_module("minemap.export")


def table() -> pd.DataFrame:
    return pd.DataFrame({
        "district": ["Aghdam", "Fuzuli", "=HYPERLINK(\"http://x\")"],
        "minefields": [470, 290, 1],
        "area_ha": [1290.016789, 820.3649, 0.004],
        "released_pct": [5.30871, 9.5, 100.0],
        "outside_median_m": [46.6349, 6079.04, np.nan],
        "found_mines": [2.26, 12.0, 0.0],       # apportioned finds can be fractional
        "remaining_est": [92051.64, 85050.0, 0.0],
        "mines_ap": [10, 20, 30],
    })


def test_csv_rounds_by_the_rule(tmp_path):
    out = tmp_path / "t.csv"
    ex.write_table(table(), out)
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [r["area_ha"] for r in rows] == ["1290.02", "820.36", "0.0"]
    assert [r["released_pct"] for r in rows] == ["5.3", "9.5", "100.0"]
    assert [r["outside_median_m"] for r in rows] == ["46.6", "6079.0", ""]
    assert [r["found_mines"] for r in rows] == ["2.3", "12", "0"]
    assert [r["remaining_est"] for r in rows] == ["92051.6", "85050", "0"]
    assert [r["minefields"] for r in rows] == ["470", "290", "1"]
    # A cell a spreadsheet would run stays text.
    assert rows[2]["district"].startswith("'=")


def test_json_and_gpkg_keep_full_precision():
    # The rule is for CSV and terminals only: round_table makes a copy.
    t = table()
    r = ex.round_table(t)
    assert t["area_ha"][0] == 1290.016789 and r["area_ha"][0] == 1290.02
    assert json.loads(t.to_json(orient="records"))[0]["area_ha"] == 1290.016789


def test_decimals_rule():
    assert [ex.decimals_for(c) for c in ("area_ha", "period_cleared_ha", "accuracy_pct",
                                         "outside_median_m", "found_ap", "remaining_est",
                                         "district")] == [2, 2, 1, 1, 1, 1, None]


def test_xlsx_header_frozen_panes_number_formats(tmp_path):
    out = tmp_path / "t.xlsx"
    ex.write_table(table(), out, sheet="crossref")
    wb = openpyxl.load_workbook(out)
    ws = wb["crossref"]
    assert [c.value for c in ws[1]] == list(table().columns)
    assert all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "B2"
    col = {c.value: c.column_letter for c in ws[1]}
    # Full precision in the cell, the rule in its number format.
    assert ws[f"{col['area_ha']}2"].value == pytest.approx(1290.016789)
    assert ws[f"{col['area_ha']}2"].number_format == "#,##0.00"
    assert ws[f"{col['released_pct']}2"].number_format == "#,##0.0"
    assert ws[f"{col['found_mines']}2"].number_format == "#,##0.0"
    assert ws[f"{col['minefields']}2"].number_format == "#,##0"
    assert ws[f"{col['outside_median_m']}4"].value is None
    # Text that looks like a formula is stored as text, never as a formula.
    cell = ws[f"{col['district']}4"]
    assert cell.data_type == "s" and cell.value == '=HYPERLINK("http://x")'


def test_table_outputs_refuse_existing_and_unknown(tmp_path):
    out = tmp_path / "t.xlsx"
    out.write_text("old")
    with pytest.raises(UsageError, match="--overwrite"):
        ex.write_table(table(), out)
    assert out.read_text() == "old"
    with pytest.raises(UsageError, match=".csv or .xlsx"):
        ex.write_table(table(), tmp_path / "t.ods")


def _render(frame: pd.DataFrame, width: int, **kw) -> list[str]:
    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    print_table(frame, console=console, **kw)
    return console.export_text().splitlines()


@pytest.mark.parametrize("width", [60, 80, 100, 120])
def test_terminal_table_fits_the_width(width):
    wide = table()
    for i in range(6):
        wide[f"period_found_extra_{i}_ha"] = 1.0 + i
    lines = _render(wide, width, transpose=False)
    assert max(len(line) for line in lines) <= width
    text = "\n".join(lines)
    assert "Aghdam" in text
    # Whatever did not fit is named in a note.
    shown_all = "not shown" not in text
    if not shown_all:
        assert "columns not shown to fit the terminal" in " ".join(lines)


def test_terminal_table_wide_enough_shows_everything_rounded():
    lines = _render(table(), 250, transpose=False)
    text = "\n".join(lines)
    assert "not shown" not in text
    assert "1,290.02" in text and "5.3" in text and "46.6" in text and "2.3" in text
    assert "1290.016789" not in text


def test_terminal_table_transposed_fits():
    t = pd.DataFrame({"handover": [f"handover-number-{i}-2021-06-12" for i in range(6)],
                      **{f"col_{j}_pct": np.linspace(0, 100, 6) for j in range(12)}})
    lines = _render(t, 80)
    assert max(len(line) for line in lines) <= 80
    assert "not shown" in " ".join(lines)


def test_crossref_xlsx_from_the_cli(tmp_path, cli):
    from tests.conftest import fields_file

    src = fields_file(tmp_path / "f.geojson", 3)
    assert cli("import-records", src, "--handover", "h1").exit_code == 0
    out = tmp_path / "c.xlsx"
    res = cli("crossref", "--by", "minefield", "-o", out)
    assert res.exit_code == 0, res.output
    ws = openpyxl.load_workbook(out).active
    header = [c.value for c in ws[1]]
    assert header[:3] == ["record_id", "handover", "district"] and ws.max_row == 4
    area = ws.cell(row=2, column=header.index("area_ha") + 1)
    assert area.value == pytest.approx(1.0, rel=2e-3)  # a 100 m × 100 m field
    assert area.number_format == "#,##0.00"
    res = cli("crossref", "--by", "district", "-o", out)
    assert res.exit_code == 2 and "--overwrite" in res.output


_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=24)


@settings(max_examples=40, deadline=None)
@given(names=st.lists(_names, min_size=1, max_size=14, unique=True),
       rows=st.integers(min_value=0, max_value=5), width=st.integers(min_value=40, max_value=160),
       seed=st.integers(min_value=0, max_value=1000))
def test_any_table_fits_any_terminal(names, rows, width, seed):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({n: rng.uniform(0, 1e6, rows) for n in names})
    frame.insert(0, "record_id", [f"AGD-{i:04d}" for i in range(rows)])
    lines = _render(frame, width, transpose=False)
    assert max(len(line) for line in lines) <= width
    text = " ".join(lines)
    # A column is either shown (its header, maybe abbreviated) or named as dropped.
    assert "record" in text


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False),
                       min_size=1, max_size=20),
       column=st.sampled_from(["area_ha", "released_pct", "outside_median_m", "found_ap",
                               "remaining_est"]))
def test_rounding_moves_a_value_by_at_most_half_a_unit(values, column):
    dec = ex.decimals_for(column)
    out = ex.round_table(pd.DataFrame({column: values}))[column].astype(float).to_numpy()
    assert np.all(np.abs(out - np.asarray(values)) <= 0.5 * 10.0 ** -dec + 1e-9 * np.abs(values))


def test_layer_export_to_xlsx(tmp_path):
    import geopandas as gpd
    import shapely

    frame = gpd.GeoDataFrame({"record_id": ["AGD-1"], "area_ha": [1.23456]},
                             geometry=[shapely.box(46.9, 39.9, 46.91, 39.91)], crs="EPSG:4326")
    out = tmp_path / "f.xlsx"
    assert ex.write({"minefields": frame}, out) == []
    ws = openpyxl.load_workbook(out)["minefields"]
    assert [c.value for c in ws[1]] == ["record_id", "area_ha", "wkt"]
    assert ws["B2"].value == pytest.approx(1.23456) and ws["B2"].number_format == "#,##0.00"
    # RFC 7946 orientation and 6 decimals, as every export.
    assert shapely.from_wkt(ws["C2"].value).exterior.is_ccw
    with pytest.raises(UsageError, match="--crs applies"):
        ex.write({"minefields": frame}, tmp_path / "g.xlsx", crs="EPSG:32638")
