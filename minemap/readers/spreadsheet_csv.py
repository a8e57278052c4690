"""CSV as spreadsheets save it (DESIGN §11): ``,`` or ``;``, decimal commas, a BOM.

The separator is the one of ``,`` and ``;`` that the header line uses more
(outside quotes).  With ``;`` (Excel in a locale whose decimal mark is a
comma), a column whose every value is a number written with a decimal comma
is read with a decimal point; with ``,`` a quoted ``"1,234"`` stays text,
since it may be a thousands separator.  A UTF-8 byte-order mark is accepted;
text that is not UTF-8 (a legacy code page) is refused with "save it as
UTF-8".  What was detected is returned as notes for ``-v``.

The header is counted before anything else: more than
``settings.max_columns`` columns is refused, so no work grows with them.
"""

from __future__ import annotations

import csv
import io
import re

import numpy as np
import pandas as pd

from minemap import settings
from minemap._errors import DataError

_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")
_INTEGER = re.compile(r"[+-]?\d+")


def _decode(data: bytes, name: str) -> tuple[str, bool]:
    bom = data.startswith(b"\xef\xbb\xbf")
    try:
        return data.decode("utf-8-sig"), bom
    except UnicodeDecodeError as exc:
        hint = ""
        if b"\x00" in data[:4096]:
            hint = " (it looks like UTF-16)"
        elif any(b >= 0x80 for b in data[exc.start:exc.start + 1]):
            hint = " (a legacy code page such as Windows-1251 or 1252?)"
        raise DataError(f"{name}: is not UTF-8 text (byte {exc.start}){hint}; save it as"
                        " UTF-8 (in Excel: Save As → CSV UTF-8)") from None


_QUOTED = re.compile(r'"[^"]*"')


def _separator(header_line: str) -> str:
    # C-speed counts outside quotes: a header may be megabytes long.
    bare = _QUOTED.sub("", header_line) if '"' in header_line else header_line
    return ";" if bare.count(";") > bare.count(",") else ","


def header_columns(header_line: str, sep: str) -> int:
    """How many columns a header line has (without splitting it)."""
    bare = _QUOTED.sub("", header_line) if '"' in header_line else header_line
    return bare.count(sep) + 1


def read_csv_text(data: bytes, name: str) -> tuple[pd.DataFrame, list[str]]:
    """A spreadsheet CSV as a frame of text columns, and what was detected.

    Raises
    ------
    DataError
        Not UTF-8, too many columns, or a row whose field count differs from
        the header's (an unquoted WKT, say: never shifted into other columns).
    """
    text, bom = _decode(data, name)
    first = text.split("\n", 1)[0]
    sep = _separator(first)
    # Counted on the header line alone, before any per-column work.
    n_header = header_columns(first, sep)
    if n_header > settings.max_columns:
        raise DataError(f"{name}: {n_header:,} columns is more than the"
                        f" {settings.max_columns:,} a source may have (settings.max_columns)")
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    header = next(rows, [])
    body = []
    for number, row in enumerate(rows, start=2):
        if not row:
            continue
        if len(row) != len(header):
            hint = " (quote WKT values that contain commas)" if sep == "," else ""
            raise DataError(f"{name}: line {number} has {len(row)} fields, the header"
                            f" {len(header)}{hint}")
        body.append(row)
    header = [h.strip() for h in header]
    if len(set(header)) != len(header):
        dup = next(h for h in header if header.count(h) > 1)
        raise DataError(f"{name}: column {dup!r} appears twice in the header")
    frame = pd.DataFrame(body, columns=header, dtype=object) if body else pd.DataFrame(
        columns=header, dtype=object)
    notes = [f"{name}: CSV, separator {sep!r}" + (", UTF-8 with BOM" if bom else ", UTF-8")]
    if sep == ";":
        converted = []
        for col in frame.columns:
            vals = frame[col].astype(str).str.strip()
            filled = vals[vals != ""]
            if not len(filled) or not filled.str.contains(",", regex=False).any():
                continue
            if all(_DECIMAL_COMMA.fullmatch(x) or _INTEGER.fullmatch(x) for x in filled):
                frame[col] = vals.str.replace(",", ".", regex=False)
                converted.append(str(col))
        if converted:
            notes.append(f"{name}: decimal commas read as decimal points in "
                         + ", ".join(converted))
        else:
            notes.append(f"{name}: no decimal commas found")
    return frame, notes


def numbers(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A text column as floats (NaN where not a number)."""
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
