"""Readable terminal tables with totals (rich)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.table import Table

_MAX_ROWS = 40
# Wide tables with few rows (by handover, by district) read better turned
# on their side: one column per handover or district.
_TRANSPOSE_COLUMNS = 10
_TRANSPOSE_ROWS = 16


def _totals(frame: pd.DataFrame, skip: tuple[str, ...] = ()) -> list[str]:
    out = []
    for c in frame.columns:
        s = frame[c]
        summable = (pd.api.types.is_numeric_dtype(s) and s.dtype != bool
                    and not str(c).endswith(("_pct", "_m", "_date"))
                    and not str(c).startswith(skip))
        out.append(_fmt(s.sum()) if summable else "")
    return out


def print_table(frame: pd.DataFrame, *, title: str = "", totals: bool = True,
                transpose: bool | None = None, no_total: tuple[str, ...] = (),
                console: Console | None = None) -> None:
    """Print a frame as a table, with a totals row for summable columns.

    Parameters
    ----------
    totals
        Add a totals row (off for tables that carry their own).
    transpose
        One column per row of ``frame``; by default for wide, short tables.
    no_total
        Prefixes of columns that must not be summed (counts that overlap
        between rows).
    """
    console = console or Console(width=max(Console().width, 200))
    table = Table(title=title)
    cols = [str(c) for c in frame.columns]
    if transpose is None:
        transpose = len(cols) > _TRANSPOSE_COLUMNS and len(frame) <= _TRANSPOSE_ROWS
    if transpose:
        table.add_column("", justify="left")
        for label in frame.iloc[:, 0].astype(str):
            table.add_column(escape(label) or "total", justify="right", overflow="fold")
        if totals:
            table.add_column("total", justify="right", style="bold")
        sums = _totals(frame, no_total) if totals else None
        for j, c in enumerate(cols[1:], start=1):
            cells = [_fmt(v) for v in frame.iloc[:, j]]
            table.add_row(escape(c), *cells, *([sums[j]] if sums else []))
        console.print(table)
        return
    for c in cols:
        numeric = pd.api.types.is_numeric_dtype(frame[c])
        # Numbers never break across lines; long text folds, but not ids and
        # names of ordinary length.
        width = None if numeric else min(28, int(frame[c].astype(str).str.len().max() or 0))
        table.add_column(escape(c.replace("_", " ")), justify="right" if numeric else "left",
                         overflow="fold", no_wrap=numeric, min_width=width)
    for row in frame.head(_MAX_ROWS).itertuples(index=False):
        table.add_row(*(_fmt(v) for v in row))
    if len(frame) > _MAX_ROWS:
        table.add_row(f"… {len(frame) - _MAX_ROWS} more rows (use -o or --json)",
                      *[""] * (len(cols) - 1))
    if totals and cols:
        sums = _totals(frame, no_total)
        sums[0] = f"total ({len(frame)})"
        table.add_row(*sums, style="bold")
    console.print(table)


def _fmt(v) -> str:
    """A cell as text, with rich markup escaped: data are never markup."""
    if isinstance(v, float | np.floating):
        if np.isnan(v):
            return ""
        return f"{v:,.2f}"
    if isinstance(v, list):
        return escape(", ".join(map(str, v)))
    return escape(str(v))
