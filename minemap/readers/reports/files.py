"""Report files: a ``.txt`` report text, or a ``.csv`` of periods."""

from __future__ import annotations

import csv
import io
import os
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pandas as pd

from minemap import settings
from minemap._errors import Problem, UsageError
from minemap.geo.districts import normalise
from minemap.readers.reports.reading import ReportReading, read_report_text
from minemap.records import schema

__all__ = ["CSV_COLUMNS", "read_reports", "read_report_file"]

#: Columns a report CSV must have (any order; extra columns are ignored with a warning).
CSV_COLUMNS: tuple[str, ...] = (
    "date_start", "date_end", "districts", "found_ap", "found_at", "found_uxo", "cleared_ha",
)


def _csv_rows(text: str, source: str) -> tuple[list[dict[str, Any]], list[Problem]]:
    """Period records from a report CSV; see :func:`read_reports`."""
    problems: list[Problem] = []
    rows: list[dict[str, Any]] = []
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        return [], [Problem(source, None, "empty file: no header row")]
    except csv.Error as exc:
        return [], [Problem(source, "line 1", f"not a readable CSV: {exc}")]
    names = [h.strip().lower() for h in header]
    missing = [c for c in CSV_COLUMNS if c not in names]
    if missing:
        return [], [Problem(source, "line 1", f"missing column(s): {', '.join(missing)}")]
    dupes = sorted({n for n in names if names.count(n) > 1 and n in CSV_COLUMNS})
    if dupes:
        return [], [Problem(source, "line 1", f"duplicate column(s): {', '.join(dupes)}")]
    extra = [h for h, n in zip(header, names) if n not in CSV_COLUMNS and n]
    if extra:
        problems.append(
            Problem(source, "line 1", f"ignored column(s): {', '.join(extra)}", "warning")
        )
    index = {n: i for i, n in enumerate(names)}
    seen: dict[tuple[str, str, str], int] = {}
    try:
        for fields in reader:
            line = f"line {reader.line_num}"
            if not any(f.strip() for f in fields):
                continue
            if len(fields) != len(header):
                problems.append(
                    Problem(source, line, f"{len(fields)} fields where the header has {len(header)}")
                )
                continue
            row = {c: fields[index[c]].strip() for c in CSV_COLUMNS}
            record, errors = _csv_record(row)
            problems.extend(Problem(source, line, e) for e in errors)
            if errors:
                continue
            key = (record["date_start"], record["date_end"], ";".join(record["districts"] or []))
            if key in seen:
                problems.append(
                    Problem(source, line, f"same period and districts as line {seen[key]}")
                )
                continue
            seen[key] = reader.line_num
            record["source_file"] = source
            rows.append(record)
    except csv.Error as exc:
        problems.append(Problem(source, f"line {reader.line_num}", f"not a readable CSV: {exc}"))
    if not rows and not any(p.severity == "error" for p in problems):
        problems.append(Problem(source, None, "no report rows"))
    return rows, problems


def _csv_record(row: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """One CSV row → a record, or the messages of everything wrong with it."""
    errors: list[str] = []
    record: dict[str, Any] = {}
    for col in ("date_start", "date_end"):
        value = row[col]
        if not value:
            errors.append(f"{col} is empty")
            continue
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                raise ValueError
            record[col] = date.fromisoformat(value)
        except ValueError:
            errors.append(f"{col} '{value}' is not an ISO date (YYYY-MM-DD)")
    if "date_start" in record and "date_end" in record and record["date_start"] > record["date_end"]:
        errors.append(f"date_start {record['date_start']} is after date_end {record['date_end']}")
    parts = [p.strip() for p in re.split(r"[;,]", row["districts"]) if p.strip()]
    districts: list[str] = []
    for part in parts:
        canonical = normalise(part)
        if canonical is None:
            errors.append(f"unknown district '{part}'")
        elif canonical not in districts:
            districts.append(canonical)
    # The null rule: an empty cell is a figure not stated, never 0.
    record["districts"] = districts or None
    for col in ("found_ap", "found_at", "found_uxo"):
        value = row[col]
        if not value:
            record[col] = None
        elif not re.fullmatch(r"\d+", value):
            errors.append(f"{col} '{value}' is not a whole number ≥ 0")
        else:
            record[col] = int(value)
    value = row["cleared_ha"]
    if not value:
        record["cleared_ha"] = None
    elif not re.fullmatch(r"\d+(?:\.\d+)?", value):
        # Machine-written: a plain number with a decimal point, no thousands separators.
        errors.append(f"cleared_ha '{value}' is not a number like 51.8 (decimal point, no separators)")
    else:
        try:
            record["cleared_ha"] = float(Decimal(value))
        except InvalidOperation:
            errors.append(f"cleared_ha '{value}' is not a number")
    return record, errors


def _frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Records → a frame in the columns of ``schema.REPORT_COLUMNS``.

    Counts are nullable integers and hectares floats: a figure not stated is
    missing (``<NA>``/NaN), never 0; ``districts`` is "" when none is named.
    """
    rows = [
        {
            "date_start": r["date_start"].isoformat(),
            "date_end": r["date_end"].isoformat(),
            "districts": ";".join(r["districts"] or []),
            "found_ap": r["found_ap"], "found_at": r["found_at"], "found_uxo": r["found_uxo"],
            "cleared_ha": r["cleared_ha"],
            "source_file": r["source_file"],
        }
        for r in records
    ]
    frame = pd.DataFrame(rows, columns=list(schema.REPORT_COLUMNS))
    return frame.astype({
        "date_start": object, "date_end": object, "districts": object,
        "found_ap": "Int64", "found_at": "Int64", "found_uxo": "Int64",
        "cleared_ha": "float64", "source_file": object,
    })


def read_report_file(path: str | os.PathLike[str]) -> tuple[pd.DataFrame, list[Problem], list[str]]:
    """Like :func:`read_reports`, with the notes of the reading for ``-v``."""
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"{p}: no such file")
    suffix = p.suffix.lower()
    if suffix not in (".txt", ".csv"):
        raise UsageError(f"{p}: unsupported report file type '{p.suffix}' (use .txt or .csv)")
    source = p.name
    size = p.stat().st_size
    limit = settings.report_max_bytes
    if suffix == ".txt" and size > limit:
        # Refused before reading: no report is this large (issue 15).
        return _frame([]), [Problem(
            source, None, f"the file is {size:,} bytes, more than a report can be "
            f"(settings.report_max_bytes = {limit:,}); not read")], []
    try:
        text = p.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return _frame([]), [Problem(source, None,
                                    f"not UTF-8 text ({exc.reason} at byte {exc.start})")], []
    notes: list[str] = []
    if suffix == ".csv":
        records, problems = _csv_rows(text, source)
    else:
        reading: ReportReading = read_report_text(text, source=source)
        records = [reading.record] if reading.record else []
        problems, notes = reading.problems, reading.notes
    if any(pr.severity == "error" for pr in problems):
        records = []
    return _frame(records), problems, notes


def read_reports(path: str | os.PathLike[str]) -> tuple[pd.DataFrame, list[Problem]]:
    """Read a weekly report file: a ``.txt`` report or a ``.csv`` of periods.

    Parameters
    ----------
    path
        A ``.txt`` file holding one report text (see
        :func:`minemap.readers.reports.parse_report`), or a ``.csv`` file with
        the columns ``date_start, date_end, districts, found_ap, found_at,
        found_uxo, cleared_ha`` (one period per row; dates ISO; districts
        separated by ";" or "," inside quotes; counts whole numbers; hectares
        a plain number with a decimal point; an empty cell is a figure not
        stated).

    Returns
    -------
    frame : pandas.DataFrame
        Columns ``list(schema.REPORT_COLUMNS)``: dates as ISO strings,
        districts joined by ";" ("" for none), counts ``Int64`` and hectares
        float with missing values where a figure is not stated,
        ``source_file`` the file's name.  Empty when any problem is an error,
        so that a file is never half-read.
    problems : list of Problem
        Errors (the file must be refused) and warnings.

    Raises
    ------
    minemap._errors.UsageError
        If the file does not exist or is neither ``.txt`` nor ``.csv``.
    """
    frame, problems, _notes = read_report_file(path)
    return frame, problems
