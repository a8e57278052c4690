"""Keeping the stored cross-reference and its derived layers current, incrementally.

An import recomputes only the fields its geometries touch (DESIGN §4): new
or changed minefields, and fields under the releases and items that were
added, changed or removed (old and new positions).  It reads only the rows
near those fields, through the store view's bounding-box filter, and runs
inside the import's transaction, so the stored crossref never disagrees with
the data.  It speaks no SQL: it reads through a
:class:`~minemap.store.base.StoreView` and hands back the rows to write.

The derived layers go with it (DESIGN §10, §12, §13):

- ``remaining`` (each field with hazard left, minus its released land) is
  recomputed for the same fields, from the same rows, and replaces the same
  keys.  It is recomputed whole when it is not current before the revision
  (a new or upgraded store) or when the district boundaries change (they
  place every field).
- ``suspects`` depends on every field's footprint and every find and
  incident, so it is recomputed whole, but only when the revision changes
  minefields, items or incidents, or its parameters changed; releases and
  reports never move it.  Otherwise only its tag moves on.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from minemap._memory import release_freed_memory
from minemap.crossref.minefields import Overlaps
from minemap.crossref.remaining import remaining_layer
from minemap.crossref.suspects import default_params, suspected_areas
from minemap.store.base import StoreView
from minemap.store.layers import rows_meeting_boxes
from minemap.store.revisions import CrossrefUpdate, DerivedUpdate, Touched, derived_frame

_KEY = ["handover", "record_id"]
#: Layers whose rows decide the suspected areas.
_SUSPECT_INPUTS = ("minefields", "items", "incidents")


def refresh_crossref(view: StoreView, revision: int, touched: Touched) -> CrossrefUpdate:
    """The crossref and derived rows that change with ``revision``.

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
        the rows of fields this revision removed; with the updates of the
        ``remaining`` and ``suspects`` layers.
    """
    from minemap.crossref import affected_fields, crossref_minefields

    # Writing the rows freed their encodings; the refresh reads layers back.
    release_freed_memory()
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
        # With at least as many changed geometries as fields near them (a
        # season's releases imported at once) nearly every near field is
        # met, and finding which costs more than computing the few others.
        hit = near if len(g) >= len(near) else near.iloc[affected_fields(near, g)]
        fields = pd.concat([new, hit], ignore_index=True).drop_duplicates(_KEY)
    releases = overlaps = None
    if len(fields):
        fields = fields.reset_index(drop=True)
        boxes = shapely.bounds(np.asarray(fields.geometry.values, dtype=object))
        releases = _near(view, "releases", revision, boxes, touched)
        items = _near(view, "items", revision, boxes, touched)
        # Items found elsewhere that name a release here decide whether its
        # counts are apportioned, so they come too.
        ids = sorted({r for r in releases["report_id"] if r})
        if ids:
            extra = view.read_layer("items", revision, where={"report_id": ids})
            items = pd.concat([items, extra], ignore_index=True).drop_duplicates("item_id")
        table, overlaps = crossref_minefields(fields, releases, items, return_overlaps=True)
    else:
        table = pd.DataFrame(columns=_KEY)
    replace = gone + list(table[_KEY].itertuples(index=False, name=None))
    update = CrossrefUpdate(table, replace=replace)
    update.derived["remaining"] = _remaining(view, revision, touched, fields, releases, table,
                                             overlaps, replace)
    update.derived["suspects"] = _suspects(view, revision, touched)
    return update


def _near(view: StoreView, layer: str, revision: int, boxes: np.ndarray,
          touched: Touched) -> pd.DataFrame:
    """The current rows of ``layer`` meeting ``boxes``.

    When this revision's rows are the layer's only ones (its first import)
    they are taken from the import instead of read back: the same rows, held
    once in memory instead of twice.
    """
    if layer in touched.complete:
        return rows_meeting_boxes(touched.inserted[layer], boxes)
    return view.read_layer(layer, revision, bbox=boxes)


def _districts(view: StoreView, revision: int) -> pd.DataFrame | None:
    bounds = view.read_layer("districts", revision)
    return bounds if len(bounds) else None


def _remaining(view: StoreView, revision: int, touched: Touched, fields: pd.DataFrame,
               releases: pd.DataFrame | None, table: pd.DataFrame,
               overlaps: Overlaps | None, replace: list[tuple]) -> DerivedUpdate:
    """The ``remaining`` rows of the recomputed fields, or the whole layer when it must be."""
    state, _ = view.derived_state("remaining")
    if state != revision - 1 or touched.geometries.get("districts"):
        stored, stored_rev = view.read_crossref()
        if stored_rev != revision - 1:
            return _full_remaining(view, revision, None)
        drop = set(replace)
        keep = [k not in drop for k in zip(stored["handover"], stored["record_id"])]
        return _full_remaining(view, revision,
                               pd.concat([stored[keep], table], ignore_index=True))
    if not len(fields):
        return DerivedUpdate(derived_frame("remaining", [], None), replace=replace)
    # The releases the crossref counted are what the remainder lacks.
    frame = remaining_layer(fields, releases, table, _districts(view, revision),
                            overlaps=overlaps)
    return DerivedUpdate(frame, replace=replace)


def _full_remaining(view: StoreView, revision: int, table: pd.DataFrame | None
                    ) -> DerivedUpdate:
    from minemap.crossref import crossref_minefields

    fields = view.read_layer("minefields", revision)
    releases = view.read_layer("releases", revision)
    computed, overlaps = crossref_minefields(fields, releases, view.read_layer("items", revision),
                                             return_overlaps=True)
    frame = remaining_layer(fields, releases, computed if table is None else table,
                            _districts(view, revision), overlaps=overlaps)
    return DerivedUpdate(frame, full=True)


def _suspects(view: StoreView, revision: int, touched: Touched) -> DerivedUpdate:
    """The whole ``suspects`` layer when its inputs changed; else only its new tag."""
    params = default_params()
    state, stored = view.derived_state("suspects")
    if (state == revision - 1 and stored == params
            and not any(touched.geometries.get(layer) for layer in _SUSPECT_INPUTS)):
        return DerivedUpdate(None, params=params)
    return DerivedUpdate(_suspected(view, revision, params), full=True, params=params)


def _suspected(view: StoreView, revision: int, params: dict):
    return suspected_areas(
        view.read_layer("minefields", revision), view.read_layer("items", revision),
        view.read_layer("incidents", revision), eps_m=params["eps_m"],
        min_items=params["min_items"], accuracy_buffer_m=params["accuracy_buffer_m"],
        buffer_m=params["suspect_buffer_m"])


def rebuild_derived(view: StoreView, revision: int) -> CrossrefUpdate:
    """The crossref, ``remaining`` and ``suspects`` of ``revision``, computed whole.

    For :meth:`~minemap.store.base.StoreBackend.rederive` (after an upgrade):
    the same functions as the incremental refresh, on every row.
    """
    from minemap.crossref import crossref_minefields

    fields = view.read_layer("minefields", revision)
    releases = view.read_layer("releases", revision)
    table, overlaps = crossref_minefields(fields, releases, view.read_layer("items", revision),
                                          return_overlaps=True)
    params = default_params()
    update = CrossrefUpdate(table, full=True)
    update.derived["remaining"] = DerivedUpdate(
        remaining_layer(fields, releases, table, _districts(view, revision), overlaps=overlaps),
        full=True)
    update.derived["suspects"] = DerivedUpdate(_suspected(view, revision, params), full=True,
                                               params=params)
    return update
