"""Readable terminal tables with totals (rich)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

_MAX_ROWS = 40


def print_table(frame: pd.DataFrame, *, title: str = "") -> None:
    """Print a frame as a table, with a totals row for numeric columns."""
    console = Console(width=max(Console().width, 160))
    table = Table(title=title, show_lines=False)
    cols = list(frame.columns)
    for c in cols:
        numeric = pd.api.types.is_numeric_dtype(frame[c])
        table.add_column(str(c), justify="right" if numeric else "left")
    shown = frame.head(_MAX_ROWS)
    for row in shown.itertuples(index=False):
        table.add_row(*(_fmt(v) for v in row))
    if len(frame) > _MAX_ROWS:
        table.add_row(*([f"… {len(frame) - _MAX_ROWS} more rows (use -o or --json)"]
                        + [""] * (len(cols) - 1)))
    totals = []
    for c in cols:
        s = frame[c]
        if pd.api.types.is_numeric_dtype(s) and not c.endswith(("_pct", "_m")) and s.dtype != bool:
            totals.append(_fmt(s.sum()))
        else:
            totals.append("")
    if totals:
        totals[0] = f"total ({len(frame)})"
        table.add_row(*totals, style="bold")
    console.print(table)


def _fmt(v) -> str:
    if isinstance(v, float | np.floating):
        if np.isnan(v):
            return ""
        return f"{v:,.2f}"
    if isinstance(v, list):
        return ", ".join(map(str, v))
    return str(v)
