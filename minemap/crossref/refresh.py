"""Keeping the stored cross-reference current, incrementally.

An import recomputes only the fields its geometries touch (DESIGN §4): new
or changed minefields, and fields under the releases and items that were
added, changed or removed (old and new positions).  It reads only the rows
near those fields, through the store view's bounding-box filter, and runs
inside the import's transaction, so the stored crossref never disagrees with
the data.  It speaks no SQL: it reads through a
:class:`~minemap.store.base.StoreView` and hands back the rows to write.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from minemap.store.base import StoreView
from minemap.store.revisions import CrossrefUpdate, Touched

_KEY = ["handover", "record_id"]


def refresh_crossref(view: StoreView, revision: int, touched: Touched) -> CrossrefUpdate:
    """The crossref rows that change with ``revision``.

    Parameters
    ----------
    view
        The import's writer (inside its transaction; it sees the new rows).
    revision
        The revision being written.
    touched
        Geometries added or removed per layer by this revision, and the rows
        it inserted.

    Returns
    -------
    CrossrefUpdate
        New rows for the fields recomputed, replacing those fields' rows and
        the rows of fields this revision removed.
    """
    from minemap.crossref import affected_fields, crossref_minefields

    changes = view.changes("minefields", revision)
    closed = changes.loc[changes["change"] == "closed", _KEY]
    new = touched.inserted.get("minefields")
    if new is None:
        opened = changes.loc[changes["change"] == "opened", "record_id"]
        new = view.read_layer("minefields", revision, ids=sorted(set(opened)))
        new = new[new["revision"] == revision]
    renewed = set(zip(new["handover"], new["record_id"]))
    # Fields this revision closed and did not replace are gone.
    gone = [k for k in closed.itertuples(index=False, name=None) if k not in renewed]

    geoms = [g for g in touched.geometries.get("releases", [])
             + touched.geometries.get("items", []) if g is not None]
    if touched.geometries.get("items"):
        # Items added, changed or removed by this revision that name a
        # release decide whether that release's counts are apportioned, so
        # the fields under the release are touched too.
        item_changes = view.changes("items", revision)
        ids = sorted({r for r in item_changes["report_id"] if r})
        if ids:
            linked = view.read_layer("releases", revision, ids=ids)
            geoms += list(linked.geometry.values)
    fields = new
    if geoms:
        g = np.asarray(geoms, dtype=object)
        near = view.read_layer("minefields", revision, bbox=shapely.bounds(g))
        hit = near.iloc[affected_fields(near, g)]
        fields = pd.concat([new, hit], ignore_index=True).drop_duplicates(_KEY)
    if len(fields):
        fields = fields.reset_index(drop=True)
        boxes = shapely.bounds(np.asarray(fields.geometry.values, dtype=object))
        releases = view.read_layer("releases", revision, bbox=boxes)
        items = view.read_layer("items", revision, bbox=boxes)
        # Items found elsewhere that name a release here decide whether its
        # counts are apportioned, so they come too.
        ids = sorted({r for r in releases["report_id"] if r})
        if ids:
            extra = view.read_layer("items", revision, where={"report_id": ids})
            items = pd.concat([items, extra], ignore_index=True).drop_duplicates("item_id")
        table = pd.DataFrame(crossref_minefields(fields, releases, items))
    else:
        table = pd.DataFrame(columns=_KEY)
    replace = gone + list(table[_KEY].itertuples(index=False, name=None))
    return CrossrefUpdate(table, replace=replace)
