"""Spreadsheets (openpyxl): any table, with a header row, frozen panes and number formats.

Values keep full precision; the number formats show them by the one
rounding rule (:func:`minemap.export.rounding.excel_format`), so a planner
sees 12.35 ha and a sum over the column still adds the exact values.
"""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path

import pandas as pd

from minemap._errors import DataError
from minemap.export.common import (
    _column_values,
    _temp_dir,
    _text,
    is_write_error,
    remove_stale_temporaries,
    write_error,
)
from minemap.export.csv import check_table_target
from minemap.export.rounding import excel_format

_MAX_WIDTH = 40
_MAX_CELL = 32_767  # Excel's limit of characters in a cell


def write_table_xlsx(table: pd.DataFrame, path: str | os.PathLike, *,
                     overwrite: bool = False, sheet: str = "minemap") -> None:
    """Write a table as an ``.xlsx`` workbook.

    Parameters
    ----------
    table
        Any frame; a ``geometry`` column is left out.
    path
        Output ``.xlsx`` path.
    overwrite
        Replace an existing file.
    sheet
        Worksheet name (at most 31 characters).

    Raises
    ------
    UsageError
        No such directory, or an existing file without `overwrite`.
    DataError
        The file could not be written (a full disk), naming it.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    path = Path(path)
    check_table_target(path, overwrite=overwrite)
    table = pd.DataFrame(table).drop(columns=["geometry"], errors="ignore")
    wb = Workbook()
    ws = wb.active
    ws.title = sheet[:31]
    cols = [str(c) for c in table.columns]
    ws.append(cols)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    columns = [_column_values(table[c], str(c)) for c in table.columns]
    for j, vals in enumerate(columns):
        for i, v in enumerate(vals):
            if isinstance(v, str) and len(v) > _MAX_CELL:
                raise DataError(f"{path}: row {i + 1}, column {cols[j]}: {len(v):,} characters"
                                f" exceed a spreadsheet cell's {_MAX_CELL:,}; write .csv or "
                                f".gpkg instead")
    for row in zip(*columns):
        ws.append([_cell(v) for v in row])
        for cell in ws[ws.max_row]:
            # openpyxl takes text starting with "=" for a formula; data are
            # never formulas, so such a cell is stored as the text it is.
            if cell.data_type == "f":
                cell.data_type = "s"
    for j, c in enumerate(table.columns, start=1):
        fmt = excel_format(str(c), table[c].dtype, table[c])
        letter = get_column_letter(j)
        if fmt:
            for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                cell.number_format = fmt
        longest = max([len(str(c))] + [len(_text(v)) for v in columns[j - 1][:500]])
        ws.column_dimensions[letter].width = min(_MAX_WIDTH, longest + 2)
    # The header row and the first (id) column stay in view while scrolling.
    ws.freeze_panes = "B2" if len(cols) > 1 else "A2"
    if cols:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(cols))}{max(1, len(table) + 1)}"
    remove_stale_temporaries(path.parent)
    try:
        with _temp_dir(path.parent) as tmpdir:
            tmp = tmpdir / path.name
            wb.save(tmp)
            os.replace(tmp, path)
    except OSError as exc:
        if not is_write_error(exc):
            raise
        raise write_error(path, exc) from None


def _cell(v: object) -> object:
    if v is None or isinstance(v, (bool, int, float, _dt.date)):
        return v
    return _text(v)
