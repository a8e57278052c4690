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

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from minemap import settings
from minemap._errors import DataError, Problem
from minemap.records import rules
from minemap.records import validate as v

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


def vertex_rows_to_polygons(frame: gpd.GeoDataFrame, name: str
                            ) -> tuple[gpd.GeoDataFrame, list[Problem], dict[str, str]]:
    """A lon/lat CSV of records: one row per vertex, grouped by ``record_id``.

    The rows of a record, in file order (or by a ``vertex`` column), are its
    perimeter; its fields come from its first row, and a later row that
    repeats a field with another value is an error.

    Returns
    -------
    (frame, problems, renamed)
        One polygon per record (the input frame itself when it is not such a
        file), with ``_src_geom`` built the same way from the source CRS.
    """
    original = frame
    frame, renamed = rules.apply_aliases(frame, ["record_id"])
    if "record_id" not in frame or not len(frame):
        return original, [], {}
    problems: list[Problem] = []
    ids = v.text(frame, "record_id")
    order = pd.to_numeric(frame["vertex"], errors="coerce") if "vertex" in frame else None
    attrs = [c for c in frame.columns
             if c not in ("geometry", "_feature", "_raw", "_src_geom", "vertex")]
    groups: dict[str, list[int]] = {}
    for i, rid in enumerate(ids):
        groups.setdefault(rid, []).append(i)
    rows, geoms, src = [], [], []
    all_ll = np.asarray(frame.geometry.values, dtype=object)
    all_src = np.asarray(frame["_src_geom"].values, dtype=object)
    for rid, idx in groups.items():
        if order is not None:
            idx = sorted(idx, key=lambda i: (order.iat[i], i))
        first = frame.iloc[idx[0]]
        for i in idx[1:]:
            for c in attrs:
                a, b = str(first[c]).strip(), str(frame.iloc[i][c]).strip()
                if b and b not in ("nan", "None") and b != a:
                    problems.append(Problem(name, rid or f"feature {i + 1}",
                                            f"{c} {b!r} on line {i + 2} differs from {a!r}"
                                            f" on line {idx[0] + 2}"))
        for target, pool in ((geoms, all_ll), (src, all_src)):
            xy = shapely.get_coordinates(pool[idx])
            target.append(shapely.Polygon(xy) if len(xy) >= 3 else shapely.Polygon())
        row = first[attrs].to_dict()
        row["_feature"] = int(first["_feature"])
        row["_raw"] = "[" + ", ".join(frame["_raw"].iloc[i] for i in idx) + "]"
        rows.append(row)
    out = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geoms, crs="EPSG:4326")
    out["_src_geom"] = np.array(src, dtype=object)
    return out, problems, renamed
