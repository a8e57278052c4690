"""Printable map sheets (``minemap sheet``, DESIGN §12).

:func:`~minemap.sheets.content.build_sheet` gathers what a sheet shows from
frames read from the store; :func:`write_sheet` draws it
(:mod:`minemap.sheets.page`, matplotlib) into a PDF, under a temporary name
that is renamed into place, so a failed sheet leaves no half file.
"""

from __future__ import annotations

import os
from pathlib import Path

from minemap._errors import UsageError
from minemap.sheets.content import Sheet, build_sheet, is_synthetic
from minemap.sheets.page import PAPER_SIZES


def check_target(path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Refuse a sheet output up front: not ``.pdf``, no folder, or an existing file."""
    from minemap.export.csv import check_table_target

    path = Path(path)
    if path.suffix.lower() != ".pdf":
        raise UsageError(f"{path}: a sheet is written as .pdf")
    check_table_target(path, overwrite=overwrite)
    return path


def write_sheet(sheet: Sheet, path: str | os.PathLike, *, paper: str = "A4",
                overwrite: bool = False) -> int:
    """Write a sheet as a PDF.

    Parameters
    ----------
    sheet
        From :func:`build_sheet`.
    path
        Output ``.pdf``.
    paper
        ``"A4"`` or ``"A3"`` (portrait).
    overwrite
        Replace an existing file.

    Returns
    -------
    int
        The number of pages.

    Raises
    ------
    UsageError
        Unknown paper, not ``.pdf``, no folder, existing file.
    DataError
        The file could not be written (a full disk), naming it.
    """
    from minemap import __version__
    from minemap.export.common import (
        _temp_dir,
        is_write_error,
        remove_stale_temporaries,
        write_error,
    )
    from minemap.sheets.page import render

    paper = str(paper).upper()
    if paper not in PAPER_SIZES:
        raise UsageError(f"--paper {paper}: choose {' or '.join(PAPER_SIZES)}")
    path = check_target(path, overwrite=overwrite)
    remove_stale_temporaries(path.parent)
    try:
        with _temp_dir(path.parent) as tmpdir:
            tmp = tmpdir / path.name
            pages = render(sheet, tmp, paper=paper, version=__version__)
            os.chmod(tmp, 0o666 & ~_umask())
            os.replace(tmp, path)
    except OSError as exc:
        if not is_write_error(exc):
            raise
        raise write_error(path, exc) from None
    return pages


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


__all__ = ["PAPER_SIZES", "Sheet", "build_sheet", "check_target", "is_synthetic",
           "write_sheet"]
