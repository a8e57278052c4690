"""Report wordings the parser once failed (issue 11's closing list): labelled
counts ("anti-personnel mines: 14"), "the week ending July 8", a period given
only in the headline, and "Of the 25 mines, 3 were anti-tank mines".

Expected values are the numbers the test puts into the text; the periods are
computed here with ``datetime``.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from minemap.readers.reports import parse_report, read_report_text

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
LABELS = {"found_ap": "anti-personnel mines", "found_at": "anti-tank mines",
          "found_uxo": "unexploded ordnance"}
WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]


def _dateline(day: dt.date) -> str:
    return f"date {day.isoformat()} By Report.az\n\nBAKU, Azerbaijan, {MONTHS[day.month - 1]} " \
           f"{day.day}. "


@settings(max_examples=60, deadline=None)
@given(counts=st.fixed_dictionaries({k: st.integers(0, 5000) for k in LABELS}),
       order=st.permutations(list(LABELS)), words=st.booleans())
def test_labelled_counts_are_read_exactly(counts, order, words):
    def shown(n: int) -> str:
        return WORDS[n] if words and n <= 10 else f"{n:,}"

    listed = ", ".join(f"{LABELS[k]}: {shown(counts[k])}" for k in order)
    text = (_dateline(dt.date(2023, 5, 15)) + "ANAMA reported its work from May 8 to May 13 "
            f"in the Aghdam district. Found and neutralised: {listed}. "
            "Area cleared: 120.5 hectares.")
    got = parse_report(text)
    assert {k: got[k] for k in LABELS} == counts
    assert (got["date_start"], got["date_end"]) == (dt.date(2023, 5, 8), dt.date(2023, 5, 13))
    assert got["cleared_ha"] == 120.5


def test_a_label_without_a_number_is_null_with_a_warning():
    text = (_dateline(dt.date(2023, 5, 15)) + "From May 8 to May 13 in Aghdam: "
            "anti-personnel mines: 14, anti-tank mines: several, unexploded ordnance: 187.")
    reading = read_report_text(text, source="r.txt")
    assert reading.record is not None
    assert reading.record["found_ap"] == 14 and reading.record["found_uxo"] == 187
    assert reading.record["found_at"] is None
    (w,) = reading.problems
    assert w.severity == "warning" and "anti-tank mines: several" in w.message


@settings(max_examples=60, deadline=None)
@given(end=st.dates(dt.date(2021, 1, 8), dt.date(2025, 12, 31)),
       lag=st.integers(0, 6), day_first=st.booleans(), verb=st.sampled_from(["ending", "ended"]))
def test_the_week_ending_a_day_is_the_seven_days_to_it(end, lag, day_first, verb):
    named = (f"{end.day} {MONTHS[end.month - 1]}" if day_first
             else f"{MONTHS[end.month - 1]} {end.day}")
    text = (_dateline(end + dt.timedelta(days=lag)) + f"In the week {verb} {named}, deminers "
            "found 12 anti-personnel mines and 96 unexploded ordnance in Fuzuli.")
    got = parse_report(text)
    assert (got["date_start"], got["date_end"]) == (end - dt.timedelta(days=6), end)
    assert (got["found_ap"], got["found_at"], got["found_uxo"]) == (12, None, 96)


def test_a_period_only_in_the_headline_gives_the_period_not_its_figures():
    text = ("date 2023-09-25 By Azertac\n\nOver 300 explosive items found on September 18-23\n\n"
            "BAKU, Azerbaijan, September 25. Deminers found 31 anti-personnel mines and 290 "
            "unexploded ordnance in Shusha.")
    reading = read_report_text(text)
    got = reading.record
    assert (got["date_start"], got["date_end"]) == (dt.date(2023, 9, 18), dt.date(2023, 9, 23))
    assert (got["found_ap"], got["found_uxo"]) == (31, 290)
    assert any("from the headline" in n for n in reading.notes)


def test_a_headline_period_never_overrides_the_bodys():
    text = ("date 2023-09-25 By Azertac\n\nWeekly figures (September 11-16)\n\n"
            "BAKU, Azerbaijan, September 25. From September 18 to 23, deminers found 31 "
            "anti-personnel mines in Shusha.")
    got = parse_report(text)
    assert (got["date_start"], got["date_end"]) == (dt.date(2023, 9, 18), dt.date(2023, 9, 23))


@settings(max_examples=40, deadline=None)
@given(total=st.integers(2, 400), data=st.data())
def test_of_the_mines_n_were_anti_tank(total, data):
    at = data.draw(st.integers(1, total - 1))
    text = (_dateline(dt.date(2023, 10, 9)) + f"From October 2 to October 7, {total} mines were "
            f"found in Gubadli. Of the {total} mines, {at} were anti-tank mines.")
    got = parse_report(text)
    # The rest are not said to be anti-personnel: AP stays null, never total − AT.
    assert (got["found_ap"], got["found_at"]) == (None, at)
