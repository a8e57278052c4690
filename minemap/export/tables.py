"""Plain tables (crossref, reports) to the file formats people open: CSV or XLSX."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from minemap._errors import UsageError
from minemap.export.csv import check_table_target, write_table_csv
from minemap.export.xlsx import write_table_xlsx

#: Extensions :func:`write_table` writes.
TABLE_FORMATS = (".csv", ".xlsx")


def check_table_output(path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Refuse a table output up front (before the work): its extension or target.

    Raises
    ------
    UsageError
        An extension other than :data:`TABLE_FORMATS`, no such folder, or an
        existing file without `overwrite`.
    """
    path = Path(path)
    if path.suffix.lower() not in TABLE_FORMATS:
        raise UsageError(f"{path}: a table is written as {' or '.join(TABLE_FORMATS)}")
    check_table_target(path, overwrite=overwrite)
    return path


def write_table(table: pd.DataFrame, path: str | os.PathLike, *, overwrite: bool = False,
                sheet: str = "minemap") -> None:
    """Write a table as CSV (rounded, DESIGN §12) or XLSX (number formats), by extension.

    Raises
    ------
    UsageError
        Another extension, no such folder, or an existing file without
        `overwrite`.
    DataError
        The file could not be written, in one line naming it.
    """
    path = check_table_output(path, overwrite=overwrite)
    ext = path.suffix.lower()
    table = pd.DataFrame(table).drop(columns=["geometry"], errors="ignore")
    if ext == ".xlsx":
        write_table_xlsx(table, path, overwrite=overwrite, sheet=sheet)
    else:
        write_table_csv(table, path, overwrite=overwrite)


__all__ = ["TABLE_FORMATS", "check_table_output", "check_table_target", "write_table"]
