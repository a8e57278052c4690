"""Keeping the stored cross-reference current, incrementally.

An import recomputes only the fields its geometries touch (DESIGN §4): new
or changed minefields, and fields under the releases and items that were
added, changed or removed (old and new positions).  It runs inside the
import's transaction, so the stored crossref never disagrees with the data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from minemap.store import Store, read_layer


def refresh_crossref(store: Store, conn, revision: int, touched: dict[str, list]) -> None:
    """Bring ``crossref_current`` up to ``revision``.

    Parameters
    ----------
    store
        The store being written.
    conn
        The import's connection (inside its transaction).
    revision
        The revision being written.
    touched
        Geometries added or removed per layer by this revision.
    """
    from minemap.crossref import affected_fields, crossref_minefields

    fields = read_layer(conn, "minefields", revision)
    cur = conn.execute("SELECT handover, record_id, revision FROM crossref_current").fetchall()
    known = {(h, r): rev for h, r, rev in cur}
    keys = list(zip(fields["handover"], fields["record_id"]))
    gone = [k for k in known if k not in set(keys)]
    if gone:
        store.delete_crossref_rows(conn, gone)
    stale = np.array(
        [k not in known or rev > known[k] for k, rev in zip(keys, fields["revision"])],
        dtype=bool,
    )
    geoms = [g for g in touched.get("releases", []) + touched.get("items", []) if g is not None]
    if touched.get("items"):
        new_items = read_layer(conn, "items", revision, where="rev_from = ?", params=(revision,))
        ids = sorted({r for r in new_items["report_id"] if r})
        if ids:
            marks = ",".join("?" * len(ids))
            linked = read_layer(conn, "releases", revision, where=f"report_id IN ({marks})",
                                params=tuple(ids))
            geoms += list(linked.geometry.values)
    if geoms and len(fields):
        hit = affected_fields(fields, np.asarray(geoms, dtype=object))
        stale[hit] = True
    if stale.any():
        releases = read_layer(conn, "releases", revision)
        items = read_layer(conn, "items", revision)
        only = np.flatnonzero(stale)
        table = crossref_minefields(fields, releases, items, only=only)
        store.write_crossref(conn, pd.DataFrame(table), revision, full=False)
    else:
        store.write_crossref(conn, pd.DataFrame(columns=["handover", "record_id"]), revision,
                             full=False)


