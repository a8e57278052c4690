"""Weekly and monthly report texts (or a CSV of periods) → period records.

ANAMA's reports, as relayed by news agencies, are short texts such as::

    date 2022-01-17 By Azernews
    Fourteen antipersonnel mines, an anti-tank mine, and 112 unexploded ordnance
    were found and neutralized during the demining operations in Tartar, Agdam,
    Fizuli, Shusha, Gubadli, Jabrayil, and Zangilan regions from January 10 to 15,
    the report added.
    A total of 51.8 hectares were cleared of mines and unexploded ordnance in the
    liberated areas in the said period.

A text is read for what it states about **its** period and nothing else
(DESIGN §9): a figure it does not state is ``None``, never 0 and never a total
from elsewhere in the text.  It is refused only when it has no period, when a
hectares figure is ambiguous ("1.250"), or when one figure of the period has
two different values.

The pieces: :mod:`.numbers` (digits and words), :mod:`.periods` (date ranges,
months, years), :mod:`.sentences` (dateline, sentences), :mod:`.figures`
(counts and hectares), :mod:`.places` (district names), :mod:`.reading` (the
period's figures) and :mod:`.files` (``.txt`` and ``.csv`` files).
"""

from minemap.readers.reports.files import CSV_COLUMNS, read_report_file, read_reports
from minemap.readers.reports.reading import ReportReading, parse_report, read_report_text

__all__ = ["parse_report", "read_report_text", "ReportReading", "read_reports",
           "read_report_file", "CSV_COLUMNS"]
