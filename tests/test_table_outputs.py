"""``-o OUT.xlsx`` for every table a command prints (issue 12 item 6, issue 13 item 2).

Each test builds a small store through the CLI, writes the command's table
as a spreadsheet, reads it back with openpyxl and compares the cells with
figures computed here: by shapely on the test's own geometries, from the
published report text, or by counting what the test imported.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import openpyxl
import pytest
import shapely

from tests.conftest import ORIGIN, feature, fields_file, rect, utm_to_ll, write_geojson

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "sample_maps/reports/weekly_report_2022-01-17.txt"  # a real published text


def sheet(path: Path):
    ws = openpyxl.load_workbook(path).active
    header = [c.value for c in ws[1]]
    rows = [dict(zip(header, (c for c in r))) for r in ws.iter_rows(min_row=2)]
    return ws, header, rows


def _shifted_finds(tmp_path: Path, n_fields: int, shift_e: float) -> tuple[Path, list]:
    """Finds inside the fields of :func:`fields_file` moved `shift_e` m east.

    Returns the items file and the finds' UTM points (for the test's own
    point-in-polygon count).
    """
    rng = np.random.default_rng(3)
    feats, pts = [], []
    for i in range(1, n_fields + 1):
        x0 = ORIGIN[0] + 200.0 * (i % 150) + shift_e
        y0 = ORIGIN[1] + 200.0 * (i // 150)
        for k in range(4):
            x, y = rng.uniform([x0 + 5, y0 + 5], [x0 + 95, y0 + 95])
            pts.append((i, x, y))
            feats.append(feature({"item_id": f"I{i}-{k}", "item_type": "AP",
                                  "date": "2022-01-03"}, utm_to_ll(shapely.Point(x, y))))
    return write_geojson(tmp_path / "items.geojson", feats), pts


def test_offsets_xlsx(tmp_path, cli):
    n, shift = 10, 30.0
    assert cli("import-records", fields_file(tmp_path / "f.geojson", n),
               "--handover", "H").exit_code == 0
    items, pts = _shifted_finds(tmp_path, n, shift)
    assert cli("import-clearance", items).exit_code == 0
    out = tmp_path / "offsets.xlsx"
    res = cli("offsets", "-o", out)
    assert res.exit_code == 0, res.output
    ws, header, rows = sheet(out)
    assert ws.freeze_panes == "B2" and header[0] == "handover" and len(rows) == 1
    row = rows[0]
    # The recorded fields lie `shift` m west of the finds: the correction is east.
    assert row["dx_m"].value == pytest.approx(shift, abs=5)
    assert row["dy_m"].value == pytest.approx(0, abs=5)
    assert row["finds_used"].value == len(pts)
    # Accuracy before, by the §5 rule and the test's own point-in-polygon:
    # finds within x0 + 100 of their field's west edge are inside it.
    inside = sum(x < ORIGIN[0] + 200.0 * (i % 150) + 100 for i, x, _ in pts)
    assert row["accuracy_pct_before"].value == pytest.approx(100 * inside / len(pts))
    assert row["accuracy_pct_after"].value > 90
    for col, fmt in (("dx_m", "#,##0.0"), ("shift_m", "#,##0.0"), ("ci95_m", "#,##0.0"),
                     ("accuracy_pct_before", "#,##0.0"), ("finds_used", "#,##0"),
                     ("fields", "#,##0")):
        assert row[col].number_format == fmt, col
    # Full precision in the cell (the CSV rounds, the spreadsheet formats).
    csv_out = tmp_path / "offsets.csv"
    assert cli("offsets", "-o", csv_out).exit_code == 0
    (crow,) = csv.DictReader(io.StringIO(csv_out.read_text(encoding="utf-8")))
    assert float(crow["accuracy_pct_before"]) == pytest.approx(100 * inside / len(pts),
                                                               abs=0.05)
    assert len(crow["accuracy_pct_before"].partition(".")[2]) <= 1
    # Checked before the work: an existing file or another extension.
    assert cli("offsets", "-o", out).exit_code == 2
    res = cli("offsets", "-o", tmp_path / "offsets.ods")
    assert res.exit_code == 2 and ".xlsx" in res.output


def test_reports_xlsx_keeps_unstated_figures_empty(tmp_path, cli):
    assert cli("import-report", REPORT).exit_code == 0
    out = tmp_path / "reports.xlsx"
    res = cli("reports", "-o", out)
    assert res.exit_code == 0, res.output
    _, header, rows = sheet(out)
    assert header[:3] == ["date_start", "date_end", "districts"] and len(rows) == 1
    r = {k: c.value for k, c in rows[0].items()}
    # The published week (Azernews, 2022-01-17): 14 AP, 1 AT, 112 UXO, 51.8 ha.
    assert (str(r["date_start"])[:10], str(r["date_end"])[:10]) == ("2022-01-10", "2022-01-15")
    assert (r["found_ap"], r["found_at"], r["found_uxo"]) == (14, 1, 112)
    assert r["cleared_ha"] == pytest.approx(51.8)
    assert rows[0]["cleared_ha"].number_format == "#,##0.00"
    assert rows[0]["found_ap"].number_format == "#,##0"
    assert set(r["districts"].split("; ")) == {"Tartar", "Aghdam", "Fuzuli", "Shusha",
                                                "Gubadli", "Jabrayil", "Zangilan"}
    # --reconcile -o: the per-district rows too, with the report's figures.
    out2 = tmp_path / "reconcile.xlsx"
    assert cli("reports", "--reconcile", "-o", out2).exit_code == 0
    _, header, rows = sheet(out2)
    total = [r for r in rows if r["district"].value in (None, "")]
    assert len(total) == 1 and total[0]["reported_ap"].value == 14
    assert total[0]["reported_ha"].value == pytest.approx(51.8)
    assert total[0]["released_ha"].number_format == "#,##0.00"


def test_history_xlsx(tmp_path, cli):
    src = fields_file(tmp_path / "f.geojson", 3)
    assert cli("import-records", src, "--handover", "h1").exit_code == 0
    assert cli("import-records", fields_file(tmp_path / "g.geojson", 5),
               "--handover", "h1").exit_code == 0
    out = tmp_path / "history.xlsx"
    assert cli("history", "-o", out).exit_code == 0
    _, header, rows = sheet(out)
    assert header[:4] == ["revision", "imported_at", "kind", "handover"]
    got = [(r["revision"].value, r["handover"].value, r["sources"].value, r["n_added"].value,
            r["n_changed"].value, r["n_removed"].value) for r in rows]
    assert got == [(1, "h1", "f.geojson", 3, 0, 0), (2, "h1", "g.geojson", 2, 0, 0)]
    # --diff: one row per record the revision touched.
    out2 = tmp_path / "diff.xlsx"
    assert cli("history", "--diff", "-o", out2).exit_code == 0
    _, header, rows = sheet(out2)
    assert sorted(r["record_id"].value for r in rows) == ["AGD-0004", "AGD-0005"]
    # A 100 m × 100 m field: 1 ha, shown with 2 decimals.
    assert all(r["area_ha_after"].value == pytest.approx(1.0, rel=2e-3) for r in rows)
    assert rows[0]["area_ha_after"].number_format == "#,##0.00"


def test_validate_warnings_file_xlsx(tmp_path, cli):
    twin = rect(0, 0, 100, 100)
    src = write_geojson(tmp_path / "twins.geojson",
                        [feature({"record_id": "A", "mines_ap": 3}, twin),
                         feature({"record_id": "B", "mines_ap": 3}, twin)])
    out = tmp_path / "w.xlsx"
    res = cli("validate", src, "--warnings-file", out)
    assert res.exit_code == 0, res.output
    _, header, rows = sheet(out)
    assert header == ["file", "record", "kind", "message"]
    assert rows and {r["file"].value for r in rows} == {"twins.geojson"}
    assert {r["kind"].value for r in rows} == {"overlap"}
    assert cli("validate", src, "--warnings-file", tmp_path / "w.txt").exit_code == 2


def test_suspects_xlsx(tmp_path, cli):
    assert cli("import-records", write_geojson(tmp_path / "f.geojson", [
        feature({"record_id": "F1", "mines_ap": 3}, rect(0, 0, 100, 100))]),
        "--handover", "H").exit_code == 0
    items = write_geojson(tmp_path / "i.geojson", [
        feature({"item_id": f"i{k}", "item_type": "AT" if k == 0 else "AP",
                 "date": f"2022-01-0{k + 1}"}, rect(2000 + 30 * k, 2000, 1, 1).centroid)
        for k in range(4)])
    assert cli("import-clearance", items).exit_code == 0
    out = tmp_path / "s.xlsx"
    res = cli("suspects", "-o", out)
    assert res.exit_code == 0, res.output
    _, header, rows = sheet(out)
    assert len(rows) == 1 and "wkt" in header
    r = rows[0]
    assert (r["found_ap"].value, r["found_at"].value) == (3, 1)
    assert r["found_ap"].number_format == "#,##0"
    assert r["nearest_m"].number_format == "#,##0.0"
    # Every find lies in the area written as WKT.
    area = shapely.from_wkt(r["wkt"].value)
    pts = [rect(2000 + 30 * k, 2000, 1, 1).centroid for k in range(4)]
    assert all(area.contains(p) for p in pts)
