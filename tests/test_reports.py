"""Weekly report parser: the published examples, variants, refusals, CSV, round trips.

Expected figures are read off the texts by hand, or are the values a generated
text was rendered from; none comes from the parser.
"""

from __future__ import annotations

import textwrap
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from minemap._errors import DataError, UsageError
from minemap.readers.reports import parse_report, read_report_text, read_reports
from minemap.records import schema

DATA = Path(__file__).parent / "data" / "reports"
ALL7 = ["Tartar", "Aghdam", "Fuzuli", "Shusha", "Gubadli", "Jabrayil", "Zangilan"]


def refused(text: str, source: str = "r.txt") -> DataError:
    with pytest.raises(DataError) as info:
        parse_report(text, source=source)
    return info.value


# --------------------------------------------------------------------------- examples


def test_example_2022_01_17():
    r = parse_report((DATA / "weekly_report_2022-01-17.txt").read_text(), source="a.txt")
    assert r == {
        "date_start": date(2022, 1, 10),
        "date_end": date(2022, 1, 15),
        "districts": ALL7,
        "found_ap": 14,
        "found_at": 1,
        "found_uxo": 112,
        "cleared_ha": 51.8,
        "source_file": "a.txt",
    }
    assert type(r["found_ap"]) is int and type(r["cleared_ha"]) is float


def test_example_2022_02_14():
    r = parse_report((DATA / "weekly_report_2022-02-14.txt").read_text(), source="b.txt")
    assert (r["date_start"], r["date_end"]) == (date(2022, 2, 7), date(2022, 2, 12))
    assert r["districts"] == ALL7
    assert (r["found_ap"], r["found_at"], r["found_uxo"]) == (19, 6, 143)
    assert r["cleared_ha"] == 94.8


def test_read_reports_txt_frame():
    frame, problems = read_reports(DATA / "weekly_report_2022-01-17.txt")
    assert problems == []
    assert list(frame.columns) == list(schema.REPORT_COLUMNS)
    assert frame.to_dict("records") == [
        {
            "date_start": "2022-01-10",
            "date_end": "2022-01-15",
            "districts": "Tartar;Aghdam;Fuzuli;Shusha;Gubadli;Jabrayil;Zangilan",
            "found_ap": 14,
            "found_at": 1,
            "found_uxo": 112,
            "cleared_ha": 51.8,
            "source_file": "weekly_report_2022-01-17.txt",
        }
    ]
    assert str(frame["found_ap"].dtype) == "Int64" and str(frame["cleared_ha"].dtype) == "float64"


BACKGROUND_LACHIN = """

Lachin region was returned to Azerbaijan on December 1, 2020.

Demining in Lachin is expected to take years.

Previously, on June 12, Azerbaijan received a map of 97,000 mines in Kalbajar.
"""


def test_background_district_is_not_added_ex2_shape():
    text = (DATA / "weekly_report_2022-02-14.txt").read_text() + BACKGROUND_LACHIN
    r = parse_report(text)
    assert r["districts"] == ALL7
    assert "Lachin" not in r["districts"] and "Kalbajar" not in r["districts"]


def test_background_district_is_not_added_ex1_shape():
    text = (DATA / "weekly_report_2022-01-17.txt").read_text()
    # Replace the period's list by a shorter one, so that the background (which names
    # Aghdam, Fuzuli and Zangilan) would show if it leaked.
    text = text.replace("Tartar, Agdam, Fizuli, Shusha, Gubadli, Jabrayil, and Zangilan", "Tartar")
    r = parse_report(text + BACKGROUND_LACHIN)
    assert r["districts"] == ["Tartar"]
    assert (r["found_ap"], r["found_at"], r["found_uxo"], r["cleared_ha"]) == (14, 1, 112, 51.8)


# --------------------------------------------------------------------------- variants

HEAD = "date 2022-01-17 By Azernews\n\n"


def one(counts: str, period: str = "from January 10 to 15", ha: str = "51.8 hectares",
        where: str = "in Tartar and Agdam regions", head: str = HEAD) -> str:
    return (
        f"{head}{counts} were found and neutralized {where} {period}, the report added.\n\n"
        f"A total of {ha} were cleared of mines in the said period.\n"
    )


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ("Fourteen antipersonnel mines, an anti-tank mine, and 112 unexploded ordnance", (14, 1, 112)),
        ("Twenty-two anti-personnel mines, no anti-tank mines and one unexploded ordnance", (22, 0, 1)),
        ("1,204 AP mines, 6 AT mines and 8.086 UXO", (1204, 6, 8086)),
        ("One hundred and twelve unexploded ordnances, 3 antitank mines and a single AP mine",
         (1, 3, 112)),
        ("64 anti-tank mines, 141 anti personnel landmines, and 625 pieces of unexploded ordnance",
         (141, 64, 625)),
        ("14 anti-personnel, 6 anti-tank mines and 2\u00a0345 items of unexploded ordnance",
         (14, 6, 2345)),
        ("No anti-personnel mines, two thousand and five anti-tank mines and 0 UXOs", (0, 2005, 0)),
        ("14 (fourteen) anti-personnel mines, two (2) anti-tank mines and 3 UXO", (14, 2, 3)),
        ("61 mines (37 anti-personnel and 24 anti-tank) and 5 unexploded munitions", (37, 24, 5)),
        ("112 anti-tank and 25 anti-personnel landmines and 9 explosive remnants of war",
         (25, 112, 9)),
    ],
)
def test_count_variants(counts, expected):
    r = parse_report(one(counts))
    assert (r["found_ap"], r["found_at"], r["found_uxo"]) == expected


@pytest.mark.parametrize(
    ("ha", "expected"),
    [
        ("51.8 hectares", 51.8),
        ("94,8 hectares", 94.8),
        ("94,85 hectares", 94.85),
        ("1,250 hectares", 1250.0),
        ("2.790,9 hectares", 2790.9),
        ("1,198.7 hectares", 1198.7),
        ("1\u00a0198,7 hectares", 1198.7),
        ("1.250.000 hectares", 1250000.0),
        ("0.5 hectares", 0.5),
        ("12.3456 ha", 12.3456),
        ("52 hectares", 52.0),
        ("fifty hectares", 50.0),
    ],
)
def test_hectare_variants(ha, expected):
    assert parse_report(one("14 AP mines, 1 AT mine and 3 UXO", ha=ha))["cleared_ha"] == expected


@pytest.mark.parametrize(
    ("head", "period", "start", "end"),
    [
        (HEAD, "from January 10 to 15", date(2022, 1, 10), date(2022, 1, 15)),
        (HEAD, "during the week of January 10 to 15", date(2022, 1, 10), date(2022, 1, 15)),
        (HEAD, "from 10 to 15 January", date(2022, 1, 10), date(2022, 1, 15)),
        (HEAD, "between January 10 and 15", date(2022, 1, 10), date(2022, 1, 15)),
        (HEAD, "during January 10-15", date(2022, 1, 10), date(2022, 1, 15)),
        (HEAD, "during the period from 10 to 15 January", date(2022, 1, 10), date(2022, 1, 15)),
        (HEAD, "from Jan. 10th to 15th", date(2022, 1, 10), date(2022, 1, 15)),
        (HEAD, "from December 27 to January 2", date(2021, 12, 27), date(2022, 1, 2)),
        (HEAD, "from 27 December to 2 January", date(2021, 12, 27), date(2022, 1, 2)),
        (HEAD, "during the week of December 27 to January 2", date(2021, 12, 27), date(2022, 1, 2)),
        # The end on the dateline's own day is allowed.
        (HEAD, "from January 11 to 17", date(2022, 1, 11), date(2022, 1, 17)),
        # An end after the dateline's month and day falls in the year before.
        (HEAD, "from January 20 to 25", date(2021, 1, 20), date(2021, 1, 25)),
        (HEAD, "from October 7 to October 13, 2021", date(2021, 10, 7), date(2021, 10, 13)),
        (HEAD, "from December 27, 2021 to January 2, 2022", date(2021, 12, 27), date(2022, 1, 2)),
        (HEAD, "from 2022-01-10 to 2022-01-15", date(2022, 1, 10), date(2022, 1, 15)),
        ("Baku, January 3, 2022\n\n", "from December 27 to January 2", date(2021, 12, 27),
         date(2022, 1, 2)),
        ("3 January 2022\n\n", "from December 27 to January 2", date(2021, 12, 27), date(2022, 1, 2)),
        # 1 January: 2 January 2022 is after it, so the end is 2 January 2021.
        ("date 2022-01-01 By Azernews\n\n", "from December 27 to January 2", date(2020, 12, 27),
         date(2021, 1, 2)),
        # 29 February: the latest year with that day, on or before the dateline.
        ("date 2025-01-10 By Azernews\n\n", "from February 23 to 29", date(2024, 2, 23),
         date(2024, 2, 29)),
    ],
)
def test_period_variants(head, period, start, end):
    r = parse_report(one("14 AP mines, 1 AT mine and 3 UXO", period=period, head=head))
    assert (r["date_start"], r["date_end"]) == (start, end)


def test_district_spellings_and_order():
    where = "in Ağdam, FIZULI, Шуша, Qubadlı, Jebrail (Horadiz) and Terter districts"
    r = parse_report(one("14 AP mines, 1 AT mine and 3 UXO", where=where))
    assert r["districts"] == ["Aghdam", "Fuzuli", "Shusha", "Gubadli", "Jabrayil", "Tartar"]


def test_districts_repeated_are_listed_once():
    where = "in Agdam, Aghdam and Ağdam regions"
    assert parse_report(one("1 AP mine, 1 AT mine and 1 UXO", where=where))["districts"] == [
        "Aghdam"
    ]


HARD_WRAPPED = """ date 2024-10-14 Weekly report: 1,198 hectares cleared
10/14/2024 10:08:42 AM
Some Author
The Mine Action Agency has published its report on demining
operations conducted in the liberated territories from October 7 to
October 13, 2024.
During the operations, 64 anti-tank mines, 141 anti-personnel
mines, and 625 unexploded ordnances were discovered and
neutralized. In total, 1,198.7 hectares of land were cleared of
mines.
The operations covered areas such as Tartar, Aghdara, Kalbajar,
Khojaly, Khankandi, Lachin and Zangilan.
"""


def test_hard_wrapped_text_with_headline_and_separate_sentences():
    r = parse_report(HARD_WRAPPED)
    assert (r["date_start"], r["date_end"]) == (date(2024, 10, 7), date(2024, 10, 13))
    # The headline's rounded "1,198 hectares" is not the figure.
    assert r["cleared_ha"] == 1198.7
    assert (r["found_ap"], r["found_at"], r["found_uxo"]) == (141, 64, 625)
    assert r["districts"] == [
        "Tartar", "Aghdara", "Kalbajar", "Khojaly", "Khankendi", "Lachin", "Zangilan"
    ]


def test_first_body_line_wrapped_mid_phrase_is_prose_not_a_headline():
    text = ("date 2022-01-17 By Azernews\nDuring the operations in Aghdam and\nFuzuli, from "
            "January 10 to 15, 14 anti-personnel mines were found.")
    r = parse_report(text)
    assert r["districts"] == ["Aghdam", "Fuzuli"] and r["found_ap"] == 14


def test_a_count_of_2021_is_not_a_year():
    r = parse_report(one("14 AP mines, 1 AT mine and 2021 UXO"))
    assert r["found_uxo"] == 2021


def test_cumulative_sentence_does_not_override_period_figures():
    text = one("14 AP mines, 1 AT mine and 3 UXO") + (
        "\nSince November 2020, 30,000 anti-personnel mines and 12,345 hectares were cleared.\n"
    )
    r = parse_report(text)
    assert (r["found_ap"], r["cleared_ha"]) == (14, 51.8)


# --------------------------------------------------------------------------- refusals


def test_ambiguous_dot_thousands_hectares_refused():
    err = refused(one("14 AP mines, 1 AT mine and 3 UXO", ha="1.250 hectares"))
    msg = str(err)
    assert msg.startswith("r.txt: ") and "\n" not in msg
    assert "1.250" in msg and "ambiguous" in msg


# The null rule (DESIGN §9, issue 11): a figure the text does not state is None.
@pytest.mark.parametrize(
    ("text", "missing"),
    [
        (one("14 AP mines and 3 UXO"), {"found_at"}),
        (one("14 AT mines and 3 UXO"), {"found_ap"}),
        (one("14 AP mines and 3 AT mines"), {"found_uxo"}),
        (one("14 AP mines, 1 AT mine and 3 UXO", ha="51.8 square kilometres"), {"cleared_ha"}),
        (one("14 AP mines, 1 AT mine and 3 UXO", where="in the liberated territories"),
         {"districts"}),
    ],
)
def test_missing_figures_are_null(text, missing):
    r = parse_report(text, source="r.txt")
    assert {k for k, v in r.items() if v is None} == missing


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (one("14 AP mines, 1 AT mine and 3 UXO", period="last week"), "no period found"),
        (one("14 AP mines, 1 AT mine and 3 UXO", head=""), "year of 'January 10 to 15' is unknown"),
        ("date 2022-01-17\n\nNothing happened this week.", "no period found"),
    ],
)
def test_no_period_refused(text, needle):
    err = refused(text)
    assert needle in str(err) and "\n" not in str(err)
    assert all(p.file == "r.txt" and p.severity == "error" for p in err.problems)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (one("14 AP mines, 1 AT mine and 8,5 UXO"), "'8,5' is not a whole number"),
        (one("14 AP mines, 1 AT mine and 3 UXO", period="from February 25 to 30"),
         "does not exist"),
        (one("14 AP mines, 1 AT mine and 3 UXO", period="from January 15 to 10"),
         "starts after it ends"),
        (one("14 AP mines, 1 AT mine and 3 UXO", period="from January 20 to 25, 2022"),
         "ends after the dateline"),
        (one("14 AP mines, 1 AT mine and 3 UXO", ha="94,8000 hectares"), "cannot be read"),
        (one("25 anti-personnel, 56 anti-tank, and 56 anti-personnel mines and 3 UXO"),
         "two different values for the antipersonnel mine count of the period "
         "2022-01-10..2022-01-15: '25 anti-personnel' and '56 anti-personnel mines'"),
        # 28 February 2023 is a common year: no 29 February before it that year.
        (one("14 AP mines, 1 AT mine and 3 UXO", period="from February 29 to March 2",
             head="date 2023-03-05 By Azernews\n\n"), "29 February"),
    ],
)
def test_unreadable_figures_refused(text, needle):
    assert needle in str(refused(text))


def test_prose_first_line_is_not_a_dateline():
    text = one("14 AP mines, 1 AT mine and 3 UXO", head="").replace(
        "14 AP mines", "On December 4, 2021, maps were handed over and 14 AP mines", 1
    )
    err = refused(text)
    assert "the text has no dated dateline" in str(err)


def test_unknown_place_in_district_list_is_ignored_and_noted():
    text = one("14 AP mines, 1 AT mine and 3 UXO", where="in Ağdam, Atlantis and Fuzuli regions")
    reading = read_report_text(text, source="r.txt")
    assert reading.record["districts"] == ["Aghdam", "Fuzuli"]
    assert any("'Atlantis'" in n and "ignored" in n for n in reading.notes)


def test_month_name_before_full_stop_still_ends_a_sentence():
    # "… in May." ends the background sentence; the next one is the period's.
    text = (
        "date 2022-06-20 By Azernews\n\nThe agency began work in Lachin in May. "
        "Fourteen AP mines, no AT mines and 3 UXO were found from June 13 to 18 in "
        "Tartar region. A total of 5 hectares were cleared in the said period."
    )
    r = parse_report(text)
    assert r["districts"] == ["Tartar"]
    assert (r["date_start"], r["date_end"]) == (date(2022, 6, 13), date(2022, 6, 18))


@given(st.integers(0, 999), st.integers(0, 999))
@settings(max_examples=60, deadline=None)
def test_dot_and_three_digits_always_refused(whole, frac):
    ha = f"{whole}.{frac:03d} hectares"
    err = refused(one("14 AP mines, 1 AT mine and 3 UXO", ha=ha))
    assert "ambiguous" in str(err) and f"{whole}.{frac:03d}" in str(err)


@given(st.integers(1, 999), st.integers(0, 999))
@settings(max_examples=60, deadline=None)
def test_comma_and_three_digits_is_thousands(whole, frac):
    r = parse_report(one("14 AP mines, 1 AT mine and 3 UXO", ha=f"{whole},{frac:03d} hectares"))
    assert r["cleared_ha"] == whole * 1000 + frac


@given(st.integers(0, 99_999), st.integers(1, 99))
@settings(max_examples=60, deadline=None)
def test_comma_and_one_or_two_digits_is_decimal(whole, frac):
    digits = str(frac) if frac < 10 else f"{frac:02d}"
    r = parse_report(one("14 AP mines, 1 AT mine and 3 UXO", ha=f"{whole},{digits} hectares"))
    assert r["cleared_ha"] == float(Decimal(f"{whole}.{digits}"))


# A second period's figures and districts are ignored (DESIGN §9); the report's
# period is the first one the text gives.
def test_second_period_is_ignored():
    text = one("14 AP mines, 1 AT mine and 3 UXO") + (
        "\nOperations were also conducted from January 3 to 8 in Lachin region, where "
        "5 AP mines were found.\n"
    )
    r = parse_report(text)
    assert (r["date_start"], r["date_end"]) == (date(2022, 1, 10), date(2022, 1, 15))
    assert r["districts"] == ["Tartar", "Aghdam"] and r["found_ap"] == 14


def test_two_reports_in_one_file_read_the_first():
    text = (DATA / "weekly_report_2022-01-17.txt").read_text() + "\n\n" + (
        DATA / "weekly_report_2022-02-14.txt"
    ).read_text()
    r = parse_report(text)
    assert (r["date_start"], r["found_ap"], r["found_uxo"]) == (date(2022, 1, 10), 14, 112)


def test_background_range_is_ignored():
    text = one("14 AP mines, 1 AT mine and 3 UXO") + (
        "\nPreviously, from June 12 to July 3, Armenia handed over maps of Aghdam.\n"
    )
    r = parse_report(text)
    assert (r["date_start"], r["date_end"]) == (date(2022, 1, 10), date(2022, 1, 15))


def test_read_reports_refused_txt(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text(one("14 AP mines, 1 AT mine and 3 UXO", ha="1.250 hectares"))
    frame, problems = read_reports(path)
    assert frame.empty and list(frame.columns) == list(schema.REPORT_COLUMNS)
    assert len(problems) == 1 and problems[0].file == "bad.txt"
    assert problems[0].severity == "error" and "ambiguous" in problems[0].message


def test_read_reports_usage_errors(tmp_path):
    with pytest.raises(UsageError):
        read_reports(tmp_path / "missing.txt")
    (tmp_path / "r.pdf").write_bytes(b"%PDF")
    with pytest.raises(UsageError):
        read_reports(tmp_path / "r.pdf")


def test_read_reports_not_utf8(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes(one("14 AP mines, 1 AT mine and 3 UXO").encode("utf-8") + b"\xff\xfe")
    frame, problems = read_reports(path)
    assert frame.empty and "not UTF-8" in problems[0].message


# --------------------------------------------------------------------------- CSV

CSV_HEADER = "date_start,date_end,districts,found_ap,found_at,found_uxo,cleared_ha\n"


def test_csv_rows(tmp_path):
    path = tmp_path / "periods.csv"
    path.write_text(
        CSV_HEADER
        + '2022-01-10,2022-01-15,"Tartar;Agdam;Fizuli",14,1,112,51.8\n'
        + '2021-12-27,2022-01-02,"Шуша, Jabrail",0,22,8086,2790.9\n'
        + "2022-02-07,2022-02-12,Zangilan,19,6,143,94\n",
        encoding="utf-8",
    )
    frame, problems = read_reports(path)
    assert problems == []
    assert frame.to_dict("records") == [
        {"date_start": "2022-01-10", "date_end": "2022-01-15",
         "districts": "Tartar;Aghdam;Fuzuli", "found_ap": 14, "found_at": 1, "found_uxo": 112,
         "cleared_ha": 51.8, "source_file": "periods.csv"},
        {"date_start": "2021-12-27", "date_end": "2022-01-02", "districts": "Shusha;Jabrayil",
         "found_ap": 0, "found_at": 22, "found_uxo": 8086, "cleared_ha": 2790.9,
         "source_file": "periods.csv"},
        {"date_start": "2022-02-07", "date_end": "2022-02-12", "districts": "Zangilan",
         "found_ap": 19, "found_at": 6, "found_uxo": 143, "cleared_ha": 94.0,
         "source_file": "periods.csv"},
    ]


def test_csv_column_order_case_and_extra_column(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(
        "\ufeffCleared_HA,found_uxo,found_at,found_ap,districts,date_end,date_start,note\n"
        "51.8,112,1,14,Tartar,2022-01-15,2022-01-10,hello\n",
        encoding="utf-8",
    )
    frame, problems = read_reports(path)
    assert [p.severity for p in problems] == ["warning"] and "note" in problems[0].message
    assert frame.iloc[0].to_dict()["found_ap"] == 14 and frame.iloc[0]["cleared_ha"] == 51.8


@pytest.mark.parametrize(
    ("row", "needle"),
    [
        ("2022-01-10,2022-01-15,Atlantis,14,1,112,51.8", "unknown district 'Atlantis'"),
        ("2022-01-16,2022-01-15,Tartar,14,1,112,51.8", "is after date_end"),
        ("10/01/2022,2022-01-15,Tartar,14,1,112,51.8", "not an ISO date"),
        ("2022-01-10,2022-01-15,Tartar,14.5,1,112,51.8", "found_ap '14.5' is not a whole number"),
        ("2022-01-10,2022-01-15,Tartar,14,-1,112,51.8", "found_at '-1'"),
        ("2022-01-10,2022-01-15,Tartar,14,1,112,\"51,8\"", "cleared_ha '51,8'"),
        ("2022-01-10,2022-01-15,Tartar,14,1,112", "fields where the header has"),
    ],
)
def test_csv_bad_row_refuses_whole_file(tmp_path, row, needle):
    path = tmp_path / "p.csv"
    path.write_text(CSV_HEADER + "2022-01-03,2022-01-08,Tartar,1,1,1,1.0\n" + row + "\n")
    frame, problems = read_reports(path)
    assert frame.empty
    errors = [p for p in problems if p.severity == "error"]
    assert errors and needle in errors[0].message and errors[0].record == "line 3"
    assert errors[0].file == "p.csv"


def test_csv_missing_column_and_duplicate_row(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("date_start,date_end,districts,found_ap,found_at,cleared_ha\n")
    frame, problems = read_reports(path)
    assert frame.empty and "missing column(s): found_uxo" in problems[0].message
    path.write_text(CSV_HEADER + "2022-01-03,2022-01-08,Tartar,1,1,1,1.0\n" * 2)
    frame, problems = read_reports(path)
    assert frame.empty and "same period and districts as line 2" in problems[0].message
    path.write_text(CSV_HEADER)
    frame, problems = read_reports(path)
    assert frame.empty and problems[0].message == "no report rows"


# --------------------------------------------------------------------------- round trips

ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
        "eighteen", "nineteen"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def in_words(n: int) -> str:
    """English words for 0 ≤ n < 1,000,000, British style ("one hundred and twelve")."""
    if n < 20:
        return ONES[n]
    if n < 100:
        return TENS[n // 10] + (f"-{ONES[n % 10]}" if n % 10 else "")
    if n < 1000:
        rest = n % 100
        return f"{ONES[n // 100]} hundred" + (f" and {in_words(rest)}" if rest else "")
    rest = n % 1000
    joint = " and " if 0 < rest < 100 else " "
    return f"{in_words(n // 1000)} thousand" + (joint + in_words(rest) if rest else "")


@given(st.integers(0, 999_999))
@settings(max_examples=200, deadline=None)
def test_words_round_trip(n):
    from minemap.readers.reports.numbers import words_to_int as _words_to_int

    assert _words_to_int(in_words(n)) == n
    assert _words_to_int(in_words(n).upper()) == n


# Spellings typed from DESIGN §3, independently of minemap.geo.districts.
SPELLINGS = {
    "Aghdam": ["Aghdam", "Agdam", "Ağdam", "Агдам"],
    "Aghdara": ["Aghdara", "Agdara", "Ağdərə", "Mardakert"],
    "Fuzuli": ["Fuzuli", "Fizuli", "Füzuli", "Физули"],
    "Gubadli": ["Gubadli", "Qubadli", "Qubadlı", "Gubadly", "Kubatly", "Губадлы"],
    "Jabrayil": ["Jabrayil", "Jabrail", "Jebrail", "Cəbrayıl", "Джебраил"],
    "Kalbajar": ["Kalbajar", "Kelbajar", "Kelbadjar", "Kəlbəcər", "Кельбаджар"],
    "Khankendi": ["Khankendi", "Khankandi", "Xankəndi", "Stepanakert"],
    "Khojaly": ["Khojaly", "Khojali", "Xocalı", "Ходжалы"],
    "Khojavand": ["Khojavand", "Khojavend", "Xocavənd", "Martuni"],
    "Lachin": ["Lachin", "Laçın", "Лачин"],
    "Shusha": ["Shusha", "Susha", "Şuşa", "Shushi", "Шуша"],
    "Tartar": ["Tartar", "Terter", "Tərtər", "Тертер"],
    "Zangilan": ["Zangilan", "Zengilan", "Zəngilan", "Зангелан"],
    "Goranboy": ["Goranboy", "Qoranboy"],
}
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
SHORT = ["Jan.", "Feb.", "Mar.", "Apr.", "May", "Jun.", "Jul.", "Aug.", "Sept.", "Oct.",
         "Nov.", "Dec."]
NOUNS = {
    "ap": ["antipersonnel mine", "anti-personnel mine", "anti personnel mine", "AP mine"],
    "at": ["anti-tank mine", "antitank mine", "AT mine"],
    "uxo": ["unexploded ordnance", "UXO", "piece of unexploded ordnance"],
}


@st.composite
def count_phrase(draw, kind: str, n: int) -> str:
    noun = draw(st.sampled_from(NOUNS[kind]))
    forms = ["digits", "words"] + (["grouped"] if n >= 1000 else [])
    forms += ["article"] if n <= 1 else []
    form = draw(st.sampled_from(forms))
    if form == "article":
        number = ("an" if noun[0] in "aeiouAU" else "a") if n == 1 else "no"
    elif form == "words":
        number = in_words(n)
    elif form == "grouped":
        number = f"{n:,}".replace(",", draw(st.sampled_from([",", ".", "\u00a0"])))
    else:
        number = str(n)
    singular = n == 1 and form != "digits"
    if not singular:
        noun = noun.replace("piece of", "pieces of")
        noun = noun if kind == "uxo" else noun + "s"
    return f"{number} {noun}"


@st.composite
def hectares(draw) -> tuple[str, float]:
    whole = draw(st.integers(0, 9999))
    decimals = draw(st.sampled_from([0, 1, 2]))
    frac = "" if decimals == 0 else str(draw(st.integers(0, 10**decimals - 1))).zfill(decimals)
    value = float(Decimal(f"{whole}.{frac}" if frac else str(whole)))
    if not frac:
        if whole >= 1000:
            text = f"{whole:,}".replace(",", draw(st.sampled_from([",", "\u00a0", ""])))
        else:
            text = str(whole)
    else:
        mark = draw(st.sampled_from([".", ","]))
        group = ""
        if whole >= 1000:
            group = draw(st.sampled_from(["", "\u00a0", "," if mark == "." else "."]))
        text = (f"{whole:,}".replace(",", group) if group else str(whole)) + mark + frac
    noun = draw(st.sampled_from(["hectares", "ha", "hectares of land"]))
    return f"{text} {noun}", value


def render_date_range(draw, start: date, end: date, dateline: date) -> str:
    intro = draw(st.sampled_from(["from", "during the week of"]))
    names = draw(st.sampled_from([MONTHS, SHORT]))
    suffix = draw(st.sampled_from(["", "th"]))
    year_end = draw(st.booleans())
    year_start = year_end and draw(st.booleans())
    m1, m2 = names[start.month - 1], names[end.month - 1]
    y1 = f", {start.year}" if year_start else ""
    y2 = f", {end.year}" if year_end else ""
    if draw(st.booleans()):  # month first
        second = m2 + " " if start.month != end.month or draw(st.booleans()) else ""
        return f"{intro} {m1} {start.day}{suffix}{y1} to {second}{end.day}{suffix}{y2}"
    first = f" {m1}{y1.replace(',', '')}" if start.month != end.month or year_start or \
        draw(st.booleans()) else ""
    return f"{intro} {start.day}{first} to {end.day} {m2}{y2.replace(',', '')}"


def join_list(items: list[str], draw) -> str:
    if len(items) == 1:
        return items[0]
    comma = draw(st.sampled_from([",", ""]))
    return ", ".join(items[:-1]) + f"{comma} and {items[-1]}"


@st.composite
def generated_reports(draw):
    dateline = draw(st.dates(date(2005, 1, 1), date(2035, 12, 31)))
    end = dateline - timedelta(days=draw(st.integers(0, 330)))
    start = end - timedelta(days=draw(st.integers(0, 27)))
    counts = {k: draw(st.integers(0, 25_000) | st.integers(0, 2)) for k in ("ap", "at", "uxo")}
    phrases = [draw(count_phrase(k, counts[k])) for k in ("ap", "at", "uxo")]
    phrases = draw(st.permutations(phrases))
    counts_text = join_list(list(phrases), draw)
    ha_text, ha = draw(hectares())
    canon = draw(st.lists(st.sampled_from(sorted(SPELLINGS)), min_size=1, max_size=6, unique=True))
    spelled = []
    for name in canon:
        s = draw(st.sampled_from(SPELLINGS[name]))
        spelled.append(draw(st.sampled_from([s, s.upper(), s.lower(), s.title()])))
    where = join_list(spelled, draw) + draw(st.sampled_from([" regions", " districts", ""]))
    period = render_date_range(draw, start, end, dateline)
    head = draw(st.sampled_from([
        f"date {dateline.isoformat()} By Azernews\n\nBy Sabina Mammadli\n\n",
        f"Baku, {MONTHS[dateline.month - 1]} {dateline.day}, {dateline.year}\n\n",
        f" date {dateline.isoformat()} Weekly report: 5 mines found\nSome Author\n",
    ]))
    shape = draw(st.sampled_from(["one_sentence", "separate", "wrapped"]))
    if shape == "one_sentence":
        body = (
            f"Some 127 mines and munitions have been found in territories liberated in "
            f"November 2020, the agency said in its weekly report.\n\n"
            f"{counts_text[0].upper() + counts_text[1:]} were found and neutralized during "
            f"the demining operations in "
            f"{where} {period}, the report added.\n\n"
            f"A total of {ha_text} were cleared of mines in the said period.\n"
        )
    elif shape == "separate":
        body = (
            f"The Mine Action Agency (ANAMA) has said in its weekly report that {counts_text} "
            f"were found and neutralized in the liberated territories {period}.\n\n"
            f"The operations were conducted in {where}.\n\n"
            f"A total of {ha_text} were cleared in the said period.\n"
        )
    else:
        prose = (
            f"The agency has published its report on demining operations conducted in the "
            f"liberated territories {period}. During the operations, {counts_text} were "
            f"discovered and neutralized. In total, {ha_text} were cleared of mines. "
            f"The operations covered areas such as {where}."
        )
        body = textwrap.fill(prose, 64, break_on_hyphens=False, break_long_words=False) + "\n"
    background = draw(st.sampled_from(["", BACKGROUND_LACHIN,
                                       "\n\nOn July 3, Armenia submitted maps of about 92,000 "
                                       "anti-tank and anti-personnel mines planted in Fuzuli "
                                       "and Zangilan regions.\n"]))
    expected = {
        "date_start": start, "date_end": end, "districts": canon,
        "found_ap": counts["ap"], "found_at": counts["at"], "found_uxo": counts["uxo"],
        "cleared_ha": ha, "source_file": "gen.txt",
    }
    return head + body + background, expected


@given(generated_reports())
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example((
    "date 2022-01-03 By Azernews\n\nTwenty-two anti-personnel mines, no anti-tank mines and "
    "8.086 unexploded ordnance were found during the week of December 27 to January 2 in "
    "Ağdam and Füzuli districts.\n\nA total of 2.790,9 hectares were cleared in the said "
    "period.\n",
    {"date_start": date(2021, 12, 27), "date_end": date(2022, 1, 2),
     "districts": ["Aghdam", "Fuzuli"], "found_ap": 22, "found_at": 0, "found_uxo": 8086,
     "cleared_ha": 2790.9, "source_file": "gen.txt"},
))
def test_generated_reports_round_trip(case):
    text, expected = case
    assert parse_report(text, source="gen.txt") == expected
