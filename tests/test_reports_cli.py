"""import-report, reports --json / --reconcile: the null rule end to end, -v, refusals."""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path

import pandas as pd

from minemap import api
from minemap.crossref import reconcile_reports

PARTIAL = (
    "date 2022-01-17 By Azernews\n\n"
    "Fourteen antipersonnel mines and 112 unexploded ordnance were found from January 10 "
    "to 15 in the liberated territories. Since November 2020, 5,537 hectares were cleared.\n"
)
FULL = (
    "date 2022-02-14 By Azernews\n\n"
    "19 anti-personnel mines, six anti-tank mines and 143 unexploded ordnance were found "
    "from February 7 to 12 in Tartar, Agdam, Sugovushan and Tatar regions.\n\n"
    "A total of 94,8 hectares were cleared in the said period.\n"
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_unstated_figures_are_null_in_json_and_in_the_store(tmp_path, store_path, cli):
    partial, full = write(tmp_path, "w1.txt", PARTIAL), write(tmp_path, "w2.txt", FULL)
    res = cli("import-report", partial, full)
    assert res.exit_code == 0, res.output
    rows = json.loads(cli("reports", "--json").output)
    assert rows == [
        {"date_start": "2022-01-10", "date_end": "2022-01-15", "districts": None,
         "found_ap": 14, "found_at": None, "found_uxo": 112, "cleared_ha": None},
        {"date_start": "2022-02-07", "date_end": "2022-02-12",
         "districts": ["Tartar", "Aghdam"], "found_ap": 19, "found_at": 6, "found_uxo": 143,
         "cleared_ha": 94.8},
    ]
    # The store itself holds NULL, not 0 (read with sqlite3, independently of minemap).
    with sqlite3.connect(store_path) as conn:
        stored = conn.execute(
            "SELECT found_ap, found_at, found_uxo, cleared_ha FROM history_reports"
            " WHERE date_start = '2022-01-10' AND rev_to IS NULL").fetchall()
    assert stored == [(14, None, 112, None)]
    # Importing the same texts again changes nothing.
    again = cli("import-report", partial, full)
    assert again.exit_code == 0 and "nothing to do" in again.output


def test_api_reports_keeps_nulls(tmp_path, store_path, cli):
    cli("import-report", write(tmp_path, "w1.txt", PARTIAL))
    frame = api.reports(store_path)
    row = frame.iloc[0]
    assert row["districts"] is None and row["found_ap"] == 14
    assert row["found_at"] is pd.NA and math.isnan(row["cleared_ha"])
    assert str(frame["found_ap"].dtype) == "Int64"


def test_verbose_shows_sentences_figures_and_ignored_names(tmp_path, cli):
    res = cli("-v", "import-report", write(tmp_path, "w2.txt", FULL))
    assert res.exit_code == 0, res.output
    out = res.output
    assert "w2.txt: found_ap = 19 from sentence 1: '19 anti-personnel mines'" in out
    assert "w2.txt: cleared_ha = 94.8 from sentence 2: '94,8 hectares'" in out
    assert "place name ignored (not a district): 'Sugovushan'" in out
    assert "districts Tartar, Aghdam from sentence 1" in out
    quiet = cli("import-report", write(tmp_path, "w3.txt", PARTIAL))
    assert "from sentence" not in quiet.output


def test_refusals_are_one_line_exit_1_and_change_nothing(tmp_path, store_path, cli):
    cases = {
        "none.txt": ("date 2022-01-17\n\n14 anti-personnel mines were found.\n",
                     "none.txt: no period found"),
        "dot.txt": ("date 2022-01-17\n\nFrom January 10 to 15, 1.250 hectares were cleared.\n",
                    "dot.txt: hectares figure in '1.250 hectares': hectares figure '1.250' is "
                    "ambiguous"),
        "two.txt": ("date 2022-01-17\n\nFrom January 10 to 15, 14 anti-personnel mines were "
                    "found. In the said period, 15 anti-personnel mines were destroyed.\n",
                    "two.txt: two different values for the antipersonnel mine count of the "
                    "period 2022-01-10..2022-01-15: '14 anti-personnel mines' and "
                    "'15 anti-personnel mines'"),
    }
    for name, (text, message) in cases.items():
        res = cli("import-report", write(tmp_path, name, text))
        assert res.exit_code == 1, res.output
        lines = [ln for ln in res.output.splitlines() if ln.strip()]
        assert len(lines) == 1 and message in lines[0], res.output
        assert "Traceback" not in res.output
    assert not store_path.exists() or api.reports(store_path).empty


def test_a_file_over_the_limit_is_refused(tmp_path, store_path, cli):
    big = tmp_path / "big.txt"
    big.write_bytes(b"date 2022-01-17\n\n" + b"twenty " * 200_000)
    res = cli("import-report", big)
    assert res.exit_code == 1
    assert "big.txt: the file is 1,400,017 bytes" in res.output
    assert "report_max_bytes = 1,000,000" in res.output


def test_validate_reports_names_the_file(tmp_path, cli):
    res = cli("validate", "--kind", "reports", write(tmp_path, "none.txt", "no dates here\n"))
    assert res.exit_code == 1 and "none.txt: no period found" in res.output


def test_reconcile_compares_only_stated_figures():
    # A report stating only AP mines and UXO: hectares and AT are not compared.
    reports = pd.DataFrame({
        "date_start": ["2022-01-10"], "date_end": ["2022-01-15"], "districts": [""],
        "found_ap": [14.0], "found_at": [math.nan], "found_uxo": [112.0],
        "cleared_ha": [math.nan], "source_file": ["w1.txt"],
    })
    rec = reconcile_reports(None, None, reports).set_index("district").loc[""]
    assert rec.reported_ap == 14 and rec.diff_ap == -14 and rec.diff_uxo == -112
    for col in ("reported_ha", "diff_cleared_ha", "diff_released_ha", "reported_at", "diff_at"):
        assert math.isnan(rec[col]), col


def test_json_reconcile_from_the_cli_has_nulls(tmp_path, cli):
    cli("import-report", write(tmp_path, "w1.txt", PARTIAL))
    rows = json.loads(cli("reports", "--reconcile", "--json").output)
    total = [r for r in rows if r["district"] == ""][0]
    assert total["reported_ha"] is None and total["diff_cleared_ha"] is None
    assert total["reported_ap"] == 14 and total["diff_ap"] == -14


def test_district_table_uses_only_stated_figures(tmp_path, cli):
    from tests.conftest import fields_file

    assert cli("import-records", fields_file(tmp_path / "f.geojson"), "--handover", "h1",
               "--handover-date", "2021-06-12").exit_code == 0
    aghdam_only = (
        "date 2022-01-17 By Azernews\n\nFrom January 10 to 15, 14 anti-personnel mines were "
        "found in Aghdam district.\n"
    )
    stated = (
        "date 2022-01-24 By Azernews\n\nFrom January 17 to 22, 3 anti-personnel mines were "
        "found and 5.5 hectares cleared in Aghdam district.\n"
    )
    res = cli("import-report", write(tmp_path, "a.txt", aghdam_only), write(tmp_path, "b.txt", stated))
    assert res.exit_code == 0, res.output
    rows = json.loads(cli("crossref", "--by", "district", "--json").output)
    agh = next(r for r in rows if r["district"] == "Aghdam")
    # AP is stated by both reports; hectares only by one, so they are not compared.
    assert agh["reported_ap"] == 17
    assert agh["reported_ha"] is None and agh["diff_cleared_ha"] is None
