"""Copy a store, with its whole history, to another store of either backend (DESIGN §10).

The copy replays the source's revisions in order through the destination's
writer primitives: for each revision, the rows it closed are closed and the
rows it added are inserted with their stored content hashes, then the
revision's record (sources, sha256, times, ids) is written as it was.  So
the copy's history, every revision's state and its exports equal the
source's, and a later import into the copy finds the same no-ops and
changes as it would in the source.  The materialised crossref and the
derived layers (``remaining``, ``suspects``) are copied as they stand, with
the revision and parameters they are tagged with (derived from the same
rows, they are as right in the copy as in the source).  It all happens in one destination transaction: a copy that
fails leaves no store behind.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from minemap._errors import UsageError
from minemap.store import StoreBackend, open_store
from minemap.store.base import StoreError, StoreWriter
from minemap.store.revisions import (
    DERIVED,
    JSON_REVISION_COLUMNS,
    LAYERS,
    REVISION_COLUMNS,
    CrossrefUpdate,
    DerivedUpdate,
    coerce,
)


@dataclass
class CopyResult:
    """What :func:`copy_store` copied."""

    revisions: int
    rows: int  # row versions, every layer
    crossref_revision: int


def copy_store(
    source: StoreBackend | str | os.PathLike,
    destination: StoreBackend | str | os.PathLike,
    *,
    progress: Callable[[int, int], object] | None = None,
) -> CopyResult:
    """Copy ``source`` (a path, URL or store) into the new store ``destination``.

    Parameters
    ----------
    source
        A store with at least one revision.  It is read in one snapshot, so
        imports running meanwhile are not half copied.
    destination
        A GeoPackage path or PostGIS URL with no store yet (or an empty one).
    progress
        Called with (revisions copied, revisions) as the copy goes.

    Raises
    ------
    UsageError
        When the source is empty, the destination already holds revisions,
        or both are the same store.
    StoreError
        When the destination cannot be written; it is left without a store.
    """
    src, dst = open_store(source), open_store(destination)
    if src.location == dst.location:
        raise UsageError(f"{dst.location}: is the source; copy a store to another location")
    with src.snapshot() as view:
        revisions = view.revisions()
        if not revisions:
            raise UsageError(f"{src.location}: the store is empty; nothing to copy")
        history = {layer: view.versions(layer) for layer in LAYERS}
        crossref, crossref_rev = view.read_crossref()
        derived = {layer: view.read_derived(layer) for layer in DERIVED}
    dst_file = None if not isinstance(destination, str | os.PathLike) or "://" in str(
        destination) else Path(destination)
    fresh_file = dst_file is not None and not dst_file.exists()
    try:
        with dst.transaction() as w:
            if w.latest_revision():
                raise UsageError(
                    f"{dst.location}: already holds a store ({w.latest_revision()} revisions);"
                    " copy-store writes only into a new store")
            for i, record in enumerate(revisions, 1):
                _replay(w, record, history)
                if progress is not None:
                    progress(i, len(revisions))
            if crossref_rev:
                w.write_crossref(CrossrefUpdate(crossref, full=True), crossref_rev)
            for layer, stored in derived.items():
                if stored.revision:
                    w.write_derived(layer, DerivedUpdate(stored.frame, full=True,
                                                         params=stored.params),
                                    stored.revision)
    except BaseException:
        if fresh_file and dst_file.exists() and not _has_store(dst):
            dst_file.unlink()
        raise
    return CopyResult(len(revisions), sum(len(book) for _, book in history.values()),
                      crossref_rev)


def _has_store(store: StoreBackend) -> bool:
    try:
        return store.latest_revision() > 0
    except Exception:  # noqa: BLE001 - an unreadable leftover is no store
        return False


def _replay(w: StoreWriter, record: dict, history: dict) -> None:
    """Write one revision of the source into the destination."""
    rev = int(record["revision"])
    for layer, (frame, book) in history.items():
        spec = LAYERS[layer]
        closed = np.flatnonzero(book["rev_to"].to_numpy(dtype=np.int64) == rev)
        if len(closed):
            current = w.current_hashes(layer)
            key_of = dict(zip(current[list(spec.key)].itertuples(index=False, name=None),
                              current["row_id"]))
            wanted = frame.iloc[closed][list(spec.key)].itertuples(index=False, name=None)
            ids = [key_of.get(tuple(k)) for k in wanted]
            if None in ids or len(set(ids)) != len(ids):
                raise StoreError(f"{w.location}: cannot copy revision {rev} of {layer}: the"
                                 " rows it closes are not current in the copy")
            w.close_rows(layer, ids, rev)
        opened = np.flatnonzero(book["rev_from"].to_numpy(dtype=np.int64) == rev)
        if len(opened):
            rows = frame.iloc[opened].reset_index(drop=True)
            geoms = (np.asarray(rows.geometry.values, dtype=object)
                     if spec.geometry_type else None)
            w.insert_rows(layer, coerce(pd.DataFrame(rows), spec), geoms,
                          book["content_hash"].to_numpy(dtype=object)[opened], rev)
    w.add_revision({
        c: (json.dumps(record[c], sort_keys=c == "options") if c in JSON_REVISION_COLUMNS
            else record[c])
        for c in REVISION_COLUMNS
    })
