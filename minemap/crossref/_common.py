"""Small helpers shared by the crossref modules: frames to arrays, dates, flags.

Pure functions, no state.  Column access tolerates missing columns (a frame
without ``outcome`` reads as all-empty), so the engine works on partial
frames built in notebooks and tests.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import numpy as np
import pandas as pd
import shapely

from minemap import settings
from minemap._errors import UsageError
from minemap.geo.districts import normalise
from minemap.geo.geometry import polygonal

NOT_STARTED, IN_PROGRESS, RELEASED = "not_started", "in_progress", "released"


def _as_of_text(as_of: _dt.date | str | None) -> str | None:
    """The as-of date as ISO text (comparable with ISO date strings), or None."""
    if as_of is None or (isinstance(as_of, str) and not as_of.strip()):
        return None
    if isinstance(as_of, _dt.datetime):
        return as_of.date().isoformat()
    if isinstance(as_of, _dt.date):
        return as_of.isoformat()
    text = str(as_of).strip()
    try:
        return _dt.date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        raise UsageError(f"invalid as-of date {as_of!r}: expected YYYY-MM-DD") from None


def _dates(frame: pd.DataFrame | None, column: str) -> np.ndarray:
    """ISO date texts (first 10 characters) of a column; "" where missing."""
    if frame is None or column not in frame.columns or len(frame) == 0:
        return np.full(0 if frame is None else len(frame), "", dtype=object)
    s = frame[column].astype("string").fillna("").str.strip().str.slice(0, 10)
    return s.to_numpy(dtype=object)


def _dated_mask(frame: pd.DataFrame | None, column: str, as_of: str | None) -> np.ndarray:
    """Rows dated on or before ``as_of`` (all rows when it is None).

    Undated rows are dropped when an as-of date is given: a release without a
    date cannot be shown to have happened by then, and leaving it out is the
    conservative choice (less land counted as released).
    """
    if frame is None:
        return np.zeros(0, dtype=bool)
    if as_of is None:
        return np.ones(len(frame), dtype=bool)
    d = _dates(frame, column)
    return (d != "") & (d <= as_of)


def _empty(frame: pd.DataFrame | None) -> bool:
    return frame is None or len(frame) == 0


def _geoms(frame: pd.DataFrame | None) -> np.ndarray:
    if _empty(frame):
        return np.empty(0, dtype=object)
    return np.asarray(frame.geometry.values, dtype=object)


def _valid(geoms: np.ndarray) -> np.ndarray:
    """Geometries GEOS can overlay: invalid ones repaired to their polygonal part.

    Readers repair fields already (keeping the ``self_intersecting`` flag);
    this guards the overlay against any invalid polygon that reaches it, which
    would otherwise raise a GEOS TopologyException mid-run.
    """
    geoms = np.asarray(geoms, dtype=object).copy()
    present = ~shapely.is_missing(geoms)
    bad = np.flatnonzero(present & ~shapely.is_valid(geoms))
    for i in bad:
        geoms[i] = polygonal(shapely.make_valid(geoms[i]))
    return geoms


def _text(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame.columns:
        return np.full(len(frame), "", dtype=object)
    return frame[column].astype("string").fillna("").to_numpy(dtype=object)


def _floats(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)


def _item_types(items: pd.DataFrame) -> np.ndarray:
    return np.char.upper(np.char.strip(_text(items, "item_type").astype(str)))


def _positions(only: Any, n: int) -> np.ndarray:
    """Positional indices selected by ``only`` (None = all)."""
    if only is None:
        return np.arange(n)
    if isinstance(only, pd.Index):
        raise UsageError("only= takes positional indices or a boolean mask, not index labels")
    arr = np.asarray(only)
    if arr.dtype == bool:
        if arr.shape != (n,):
            raise UsageError(f"only= boolean mask has {arr.size} values for {n} fields")
        return np.flatnonzero(arr)
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if not np.issubdtype(arr.dtype, np.integer):
        raise UsageError("only= must hold positional integer indices or booleans")
    arr = np.unique(arr.astype(np.int64))
    if arr[0] < 0 or arr[-1] >= n:
        raise UsageError(f"only= index out of range for {n} fields")
    return arr



def _join_flags(own: np.ndarray, extra: list[tuple[str, np.ndarray]]) -> np.ndarray:
    out = np.empty(len(own), dtype=object)
    for i, text in enumerate(own):
        seen: list[str] = []
        for f in str(text or "").split(";"):
            f = f.strip()
            if f and f not in seen:
                seen.append(f)
        for name, mask in extra:
            if mask[i] and name not in seen:
                seen.append(name)
        out[i] = ";".join(seen)
    return out


def _sliver_settings(sliver_m: float | None, sliver_share: float | None) -> tuple[float, float]:
    m = settings.sliver_m if sliver_m is None else float(sliver_m)
    share = settings.sliver_share if sliver_share is None else float(sliver_share)
    if m < 0 or not 0 <= share <= 1:
        raise UsageError("sliver_m must be >= 0 and sliver_share between 0 and 1")
    return m, share


def _canon(name: Any) -> str:
    text = str(name or "").strip()
    return normalise(text) or text

