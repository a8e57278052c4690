"""Provenance of a source file: the sha256 of exactly the bytes that were parsed.

A file that changes while it is read must never be stored under the other
version's hash (issue 15 item 4: re-importing the new version would then be
a no-op).  Two ways keep the hash honest:

* text formats (CSV, KML, KMZ, traverse YAML/CSV) are read once into memory,
  and those same bytes are hashed and parsed (:func:`read_source_bytes`);
* files GDAL reads itself (GeoJSON, GeoPackage, Shapefile) are hashed before
  and after the read, and refused if the two differ (:func:`stable_read`).

:func:`_after_read` is called between reading and hashing: tests replace it
to swap a file at exactly that moment (a deterministic fault test).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from minemap import settings
from minemap._errors import DataError

T = TypeVar("T")

#: The parts of a Shapefile: its attributes live in the .dbf and its CRS in
#: the .prj, so the digest covers every part present.
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".fieldnames.csv")


def _after_read(path: Path) -> None:
    """Test hook: runs after a source is read and before it is hashed again."""


def _sha256_of_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def source_sha256(path: str | os.PathLike) -> str:
    """Hex sha256 of a source: its bytes, or for a ``.shp`` every part present."""
    path = Path(path)
    if path.suffix.lower() != ".shp":
        return _sha256_of_file(path)
    h = hashlib.sha256()
    for ext in SHAPEFILE_PARTS:
        for part in (path.with_name(path.stem + ext), path.with_name(path.stem + ext.upper())):
            if part.exists():
                h.update(f"{ext}:{_sha256_of_file(part)};".encode())
                break
    return h.hexdigest()


def read_source_bytes(path: str | os.PathLike, *, limit: int | None = None) -> tuple[bytes, str]:
    """The file's bytes, read once, and their sha256.

    Parameters
    ----------
    limit
        Largest size accepted (bytes); ``settings.max_source_bytes`` if None.

    Raises
    ------
    DataError
        If the file is larger than the limit (checked before reading).
    """
    path = Path(path)
    limit = settings.max_source_bytes if limit is None else limit
    size = path.stat().st_size
    if size > limit:
        raise DataError(f"{path.name}: {size / 1024**2:,.0f} MB is larger than the"
                        f" {limit / 1024**2:,.0f} MB a text source may be"
                        " (settings.max_source_bytes); split it")
    with open(path, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise DataError(f"{path.name}: grew beyond {limit / 1024**2:,.0f} MB while it was read;"
                        " refused")
    _after_read(path)
    return data, hashlib.sha256(data).hexdigest()


def stable_read(path: str | os.PathLike, read: Callable[[], T]) -> tuple[T, str]:
    """``read()`` with the source's sha256, refused if the file changed meanwhile.

    Raises
    ------
    DataError
        If the hash before the read differs from the hash after it.
    """
    path = Path(path)
    before = source_sha256(path)
    result = read()
    _after_read(path)
    after = source_sha256(path)
    if before != after:
        raise DataError(f"{path.name}: the file changed while it was being read; nothing was"
                        " imported (import it again once it is no longer being written)")
    return result, before
