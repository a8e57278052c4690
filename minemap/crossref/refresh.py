"""Keeping the stored cross-reference current, incrementally.

An import recomputes only the fields its geometries touch (DESIGN §4): new
or changed minefields, and fields under the releases and items that were
added, changed or removed (old and new positions).  It reads only the rows
near those fields, through the store's bounding-box index, and runs inside
the import's transaction, so the stored crossref never disagrees with the
data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from minemap.store.gpkg import Store, bbox_fids, read_layer

# Above this many boxes, reading a whole layer beats one index query per box.
_MAX_BOX_QUERIES = 5000


def _near(conn, layer: str, revision: int, boxes: np.ndarray):
    (any_row,) = conn.execute(f"SELECT COUNT(*) FROM (SELECT 1 FROM {layer}_versions LIMIT 1)"
                              ).fetchone()
    if not any_row:
        return read_layer(conn, layer, revision, where="0")
    if len(boxes) > _MAX_BOX_QUERIES:
        return read_layer(conn, layer, revision)
    return read_layer(conn, layer, revision, fids=bbox_fids(conn, layer, boxes))


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
        Geometries added or removed per layer by this revision, and under
        ``"inserted"`` the rows written per layer (frames), if known.
    """
    from minemap.crossref.engine import affected_fields, crossref_minefields

    key = ["handover", "record_id"]
    # Fields this revision closed and did not replace are gone.
    closed = conn.execute(
        "SELECT handover, record_id FROM minefields_versions WHERE rev_to = ?", (revision,)
    ).fetchall()
    new = touched.get("inserted", {}).get("minefields")
    if new is None:
        new = read_layer(conn, "minefields", revision, where="rev_from = ?",
                         params=(revision,))
    renewed = set(zip(new["handover"], new["record_id"]))
    gone = [k for k in closed if tuple(k) not in renewed]

    geoms = [g for g in touched.get("releases", []) + touched.get("items", []) if g is not None]
    if touched.get("items"):
        # Items added, changed or removed by this revision that name a
        # release decide whether that release's counts are apportioned, so
        # the fields under the release are touched too.
        ids = sorted(r for (r,) in conn.execute(
            "SELECT DISTINCT report_id FROM items_versions WHERE (rev_from = ? OR rev_to = ?)"
            " AND report_id != ''", (revision, revision)))
        for chunk in (ids[i:i + 900] for i in range(0, len(ids), 900)):
            linked = read_layer(conn, "releases", revision,
                                where=f"report_id IN ({','.join('?' * len(chunk))})",
                                params=tuple(chunk))
            geoms += list(linked.geometry.values)
    fields = new
    if geoms:
        g = np.asarray(geoms, dtype=object)
        near = _near(conn, "minefields", revision, shapely.bounds(g))
        hit = near.iloc[affected_fields(near, g)]
        fields = pd.concat([new, hit], ignore_index=True).drop_duplicates(key)
    if len(fields):
        fields = fields.reset_index(drop=True)
        boxes = shapely.bounds(np.asarray(fields.geometry.values, dtype=object))
        releases = _near(conn, "releases", revision, boxes)
        items = _near(conn, "items", revision, boxes)
        # Items found elsewhere that name a release here decide whether its
        # counts are apportioned, so they come too.
        ids = sorted({r for r in releases["report_id"] if r})
        extra = []
        for chunk in (ids[i:i + 900] for i in range(0, len(ids), 900)):
            extra.append(read_layer(conn, "items", revision,
                                    where=f"report_id IN ({','.join('?' * len(chunk))})",
                                    params=tuple(chunk)))
        if extra:
            items = pd.concat([items, *extra], ignore_index=True).drop_duplicates("item_id")
        table = crossref_minefields(fields, releases, items)
    else:
        table = pd.DataFrame(columns=key)
    (stored,) = conn.execute("SELECT COUNT(*) FROM crossref_current").fetchone()
    if stored:
        replace = [tuple(k) for k in gone] + list(
            table[key].itertuples(index=False, name=None))
    else:
        replace = []
    store.write_crossref(conn, pd.DataFrame(table), revision, replace=replace)
