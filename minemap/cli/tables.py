"""Readable terminal tables with totals (rich), rounded and fitted to the terminal.

Numbers are shown by the one rounding rule (:mod:`minemap.export.rounding`).
A table wider than the terminal first gets abbreviated headers, then loses
columns from the right, with a note naming them (``-o`` and ``--json`` give
every column).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from minemap.export.rounding import decimals_for, is_measure

_MAX_ROWS = 40
# Wide tables with few rows (by handover, by district) read better turned
# on their side: one column per handover or district.
_TRANSPOSE_COLUMNS = 10
_TRANSPOSE_ROWS = 16
_TEXT_WIDTH = 28
# rich's default box: a border and one space of padding on each side.
_COLUMN_OVERHEAD = 3

#: Words shortened in headers when a table does not fit (longest first).
ABBREVIATIONS: tuple[tuple[str, str], ...] = (
    ("incidents", "inc"), ("minefields", "fields"), ("remaining", "rem"),
    ("recorded", "rec"), ("released", "rel"), ("cleared", "clr"), ("outside", "out"),
    ("inside", "in"), ("within", "≤"), ("accuracy", "acc"), ("handover", "hand"),
    ("district", "distr"), ("reported", "rep"), ("period", "per"), ("median", "med"),
    ("found", "fnd"), ("mines", "mn"), ("other", "oth"), ("handovers", "hands"),
    ("date", "dt"), ("last", "lst"), ("pct", "%"),
)


def _totals(frame: pd.DataFrame, skip: tuple[str, ...] = ()) -> list[str]:
    out = []
    for c in frame.columns:
        s = frame[c]
        summable = (pd.api.types.is_numeric_dtype(s) and s.dtype != bool
                    and not str(c).endswith(("_pct", "_m", "_date"))
                    and not str(c).startswith(skip))
        out.append(_fmt(s.sum(), str(c)) if summable else "")
    return out


def header_text(name: str, *, abbreviate: bool = False) -> str:
    """A column name as a header: words split on ``_``, optionally shortened."""
    words = str(name).split("_")
    if abbreviate:
        short = dict(ABBREVIATIONS)
        words = [short.get(w, w) for w in words]
    return " ".join(words)


def _width(cells: list[str], header: str, no_wrap: bool) -> int:
    data = max((len(c) for c in cells), default=0)
    if no_wrap:
        # Numbers never wrap, and neither does their column's header.
        return max(data, len(header), 1) + _COLUMN_OVERHEAD
    data = min(data, _TEXT_WIDTH)
    # A header word longer than the data folds (rich breaks it) rather than
    # widening the column beyond about ten characters.
    longest_word = min(max((len(w) for w in header.split()), default=0), max(data, 10))
    return max(data, longest_word, 1) + _COLUMN_OVERHEAD


def fit_columns(headers: list[str], cells: list[list[str]], no_wrap: list[bool],
                width: int) -> tuple[list[str], int, bool]:
    """Headers that fit in `width`: abbreviated if needed, then the rightmost dropped.

    Returns
    -------
    headers : list of str
        The headers to show (abbreviated where that was needed).
    kept : int
        How many leading columns fit (at least one).
    abbreviated : bool
        Whether headers were shortened.
    """
    def total(hs):
        return sum(_width(c, h, n) for c, h, n in zip(cells, hs, no_wrap)) + 1

    plain = [header_text(h) for h in headers]
    if total(plain) <= width:
        return plain, len(headers), False
    short = [header_text(h, abbreviate=True) for h in headers]
    kept = len(headers)
    while kept > 1 and total(short[:kept]) > width:
        kept -= 1
    return short, kept, True


def print_table(frame: pd.DataFrame, *, title: str = "", totals: bool = True,
                transpose: bool | None = None, no_total: tuple[str, ...] = (),
                console: Console | None = None) -> None:
    """Print a frame as a table that fits the terminal, with a totals row.

    Parameters
    ----------
    totals
        Add a totals row (off for tables that carry their own).
    transpose
        One column per row of ``frame``; by default for wide, short tables.
    no_total
        Prefixes of columns that must not be summed (counts that overlap
        between rows).
    console
        Where to print (default: the terminal, at its width).
    """
    console = console or Console()
    cols = [str(c) for c in frame.columns]
    if transpose is None:
        transpose = len(cols) > _TRANSPOSE_COLUMNS and len(frame) <= _TRANSPOSE_ROWS
    if transpose:
        _print_transposed(frame, title, totals, no_total, console)
        return
    shown = frame.head(_MAX_ROWS)
    cells = [[_fmt(v, c) for v in shown[c]] for c in cols]
    sums = _totals(frame, no_total) if totals and cols else None
    if sums:
        sums[0] = f"total ({len(frame)})"
        cells = [col + [s] for col, s in zip(cells, sums)]
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in cols]
    headers, kept, _ = fit_columns(cols, cells, numeric, console.width)
    notes = [n for n in (
        f"{len(frame) - _MAX_ROWS} more rows not shown" if len(frame) > _MAX_ROWS else None,
        _dropped_note(cols[kept:])) if n]
    if len(frame) > _MAX_ROWS and kept == len(cols):
        notes[0] += "; -o FILE.csv|.xlsx or --json gives all"
    table = Table(title=title, caption="; ".join(notes) or None)
    for j in range(kept):
        # Numbers never break across lines; long text folds, but not ids and
        # names of ordinary length.
        width = None if numeric[j] else min(_TEXT_WIDTH, max((len(x) for x in cells[j]),
                                                               default=0))
        table.add_column(escape(headers[j]), justify="right" if numeric[j] else "left",
                         overflow="fold", no_wrap=numeric[j], min_width=width)
    for i in range(len(shown)):
        table.add_row(*(escape(cells[j][i]) for j in range(kept)))
    if sums:
        table.add_row(*(escape(sums[j]) for j in range(kept)), style="bold")
    console.print(table)


def _print_transposed(frame: pd.DataFrame, title: str, totals: bool,
                      no_total: tuple[str, ...], console: Console) -> None:
    cols = [str(c) for c in frame.columns]
    labels = [str(v) or "total" for v in frame.iloc[:, 0]]
    sums = _totals(frame, no_total) if totals else None
    rows = [[_fmt(v, c) for v in frame[c]] + ([sums[j]] if sums else [])
            for j, c in enumerate(cols) if j]
    heads = [""] + labels + (["total"] if sums else [])
    by_col = [[header_text(c) for c in cols[1:]]] + [list(col) for col in zip(*rows)]
    _, kept, _ = fit_columns(heads, by_col, [False] * len(heads), console.width)
    table = Table(title=title, caption=_dropped_note(heads[kept:], what=cols[0]))
    table.add_column("", justify="left")
    for h in heads[1:kept]:
        table.add_column(escape(h), justify="right", overflow="fold",
                         style="bold" if h == "total" and sums else None)
    for j, c in enumerate(cols[1:]):
        table.add_row(escape(header_text(c)), *(escape(x) for x in rows[j][:kept - 1]))
    console.print(table)


def _dropped_note(dropped: list[str], what: str = "columns") -> str | None:
    if not dropped:
        return None
    names = ", ".join(dropped[:6]) + (" …" if len(dropped) > 6 else "")
    noun = "columns" if what == "columns" else f"{what} columns"
    return (f"{len(dropped)} {noun} not shown to fit the terminal ({names}); "
            f"-o FILE.csv|.xlsx or --json gives all")


def _fmt(v, column: str = "") -> str:
    """A cell as text by the rounding rule (rich markup is escaped by the caller)."""
    if isinstance(v, bool | np.bool_):
        return str(bool(v))
    if isinstance(v, float | np.floating):
        if np.isnan(v):
            return ""
        dec = decimals_for(column)
        if dec is None:
            dec = 2
        if dec and float(v).is_integer() and not is_measure(column):
            dec = 0  # whole finds and counts print whole
        return f"{v:,.{dec}f}"
    if isinstance(v, int | np.integer):
        return str(int(v))
    if v is None or v is pd.NA:
        return ""
    if isinstance(v, list):
        return ", ".join(map(str, v))
    return str(v)
