"""The Python API: queries over the store, exports, maps, accuracy and revisions.

One namespace for what the commands do (DESIGN §4): the tables
(:mod:`minemap.tables`), the layers, exports, sheets and maps
(:mod:`minemap.outputs`), the accuracy tools (:mod:`minemap.accuracy`) and,
here, undoing and upgrading a store.  They read the store (and the
materialised crossref) and never recompute the science themselves beyond
calling :mod:`minemap.crossref` for past ``as_of`` dates or revisions.
"""

from __future__ import annotations

import pandas as pd

from minemap._access import (  # noqa: F401 - the API
    PathLike,
    as_of_text,
    open_store,
    pin_revision,
    require_records,
)
from minemap.accuracy import (  # noqa: F401 - the API
    apply_offsets,
    offset_outlines,
    offsets,
    suspects,
)
from minemap.outputs import (  # noqa: F401 - the API
    EXPORT_LAYERS,
    export,
    layer_frame,
    map_frames,
    render_map,
    sheet,
)
from minemap.store import Store
from minemap.tables import (  # noqa: F401 - the API
    crossref,
    minefield_table,
    reconcile,
    remaining,
    reports,
)


def revert(
    to: int,
    *,
    store: Store | PathLike | None = None,
    handover: str | None = None,
    kind: str | None = None,
):
    """Make a new revision whose state equals revision ``to`` (DESIGN §5 "Undo").

    Parameters
    ----------
    to
        The revision to return to (0: before the first import).
    store
        Store or its path.
    handover, kind
        The scope: one handover's records, one kind of import, or (neither)
        the whole store.  Nothing is deleted: the revert is itself a
        revision, and ``history`` shows it.

    Returns
    -------
    ImportResult
        The new revision with the ids added, changed and removed (a no-op
        when the scope already equals revision ``to``).
    """
    from minemap.crossref.refresh import refresh_crossref

    st = open_store(store)
    require_records(st)
    return st.revert(to, handover=handover, kind=kind, refresh=refresh_crossref)


def history_diff(
    store: Store | PathLike | None = None, *, revision: int | None = None
) -> pd.DataFrame:
    """Per minefield record, what a revision changed (the latest by default).

    Returns
    -------
    DataFrame
        ``revision, handover, record_id, change`` (added, changed or
        removed), ``mines_ap``/``mines_at``/``mines_total``/``area_ha`` before and
        after, and ``hausdorff_m``: how far the perimeter moved, in ground
        metres (both geometries projected to the field's UTM zone).
    """
    from minemap.store.undo import record_diff

    st = open_store(store)
    require_records(st)
    with st.snapshot() as view:
        return record_diff(view, revision)


def upgrade_store(store: Store | PathLike | None = None) -> str | None:
    """Migrate a store written by an older minemap to this version's schema.

    The old store is kept as a backup file beside it (its name is returned);
    ``None`` means the store was already current.  Other commands refuse an
    older store with a one-line message that names this function's command,
    ``minemap upgrade-store``.  The derived layers (crossref, ``remaining``,
    ``suspects``) are then recomputed for the latest revision.
    """
    from minemap.crossref.refresh import rebuild_derived

    st = open_store(store)
    backup = st.upgrade()
    if backup is not None:
        # The new derived layers are filled now, not at the next import.
        st.rederive(rebuild_derived)
    return backup
