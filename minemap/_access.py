"""Opening a store and reading a command's options, for the query modules.

One place for what :mod:`minemap.api`, :mod:`minemap.tables`,
:mod:`minemap.outputs` and :mod:`minemap.accuracy` share: the store a path
names, the revision every read of one command is pinned to, and the
``--as-of``, ``--district`` and ``--bbox`` values, checked once.
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Sequence
from typing import Any

from minemap._errors import UsageError
from minemap.geo.districts import CANONICAL, normalise
from minemap.records.validate import parse_date
from minemap.store import Store
from minemap.store import open_store as _open_store

PathLike = str | os.PathLike


def open_store(store: Store | PathLike | None = None) -> Store:
    """A store from a path or URL, ``$MINEMAP_STORE`` or the default (:func:`minemap.store.open_store`)."""
    return _open_store(store)


def as_of_text(value: str | _dt.date | None) -> str | None:
    """An ``--as-of`` value as an ISO date (None when not given); a usage error if not a date."""
    if value is None or value == "":
        return None
    try:
        d = parse_date(value)
    except ValueError as exc:
        raise UsageError(f"--as-of: {exc}") from None
    return d.isoformat() if d else None


def require_records(st: Store) -> None:
    """A usage error unless the store has at least one revision."""
    if not st.exists() or st.latest_revision() == 0:
        raise UsageError(f"{st.location}: the store is empty; import records first")


def pin_revision(st: Store, revision: int | None) -> int:
    """``revision``, or the store's latest now: every read of one command uses it.

    Rows valid at a revision never change, so reading each layer at the
    pinned revision gives one consistent snapshot even while an import
    lands (issue 15 item 5).
    """
    with st.snapshot() as view:
        return view.resolve_revision(revision)


def none_if_empty(frame: Any) -> Any:
    """The frame, or None when it is missing or has no rows."""
    return frame if frame is not None and len(frame) else None


def district_filter(district: str | None) -> str | None:
    """The canonical name of a ``--district`` value; a usage error if unknown."""
    if district is None:
        return None
    canon = normalise(district)
    if canon is None:
        raise UsageError(f"--district {district!r}: unknown; choose one of {', '.join(CANONICAL)}")
    return canon


def parse_bbox(bbox: Sequence[float] | str | None) -> tuple[float, float, float, float] | None:
    """``--bbox`` (``W,S,E,N`` text or four numbers) checked, or None."""
    if bbox is None:
        return None
    if isinstance(bbox, str):
        try:
            bbox = [float(x) for x in bbox.split(",")]
        except ValueError:
            raise UsageError(f"--bbox {bbox!r}: give W,S,E,N in degrees") from None
    if len(bbox) != 4 or bbox[0] >= bbox[2] or bbox[1] >= bbox[3]:
        raise UsageError(f"--bbox {bbox}: give W,S,E,N with W < E and S < N")
    return tuple(float(x) for x in bbox)
