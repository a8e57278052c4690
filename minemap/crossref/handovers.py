"""Crossref by handover (DESIGN §5): how well each handover's maps match the finds."""

from __future__ import annotations

import datetime as _dt
from typing import Any

import numpy as np
import pandas as pd

from minemap.crossref._common import (
    _as_of_text,
    _dated_mask,
    _dates,
    _empty,
    _floats,
    _geoms,
    _item_types,
    _text,
    _valid,
)
from minemap.crossref.footprints import (
    buffer_setting,
    footprint,
    in_fields,
    present,
    sort_points,
)
from minemap.crossref.ground import centre_epsg, ground_distance
from minemap.records.schema import HANDOVER_COLUMNS

__all__ = ["crossref_handovers", "dated_points"]


def dated_points(frame: pd.DataFrame | None, as_of: str | None, *,
                 finds: bool) -> tuple[np.ndarray, np.ndarray]:
    """(positions, lon/lat points) of the rows dated ≤ ``as_of`` with a point;
    with ``finds`` only AP and AT items."""
    if _empty(frame):
        return np.zeros(0, dtype=np.int64), np.empty(0, dtype=object)
    keep = _dated_mask(frame, "date", as_of)
    if finds:
        keep &= np.isin(_item_types(frame), ["AP", "AT"])
    g = _geoms(frame)
    keep &= present(g)
    pos = np.flatnonzero(keep)
    return pos, g[pos]


def handover_names(fields: pd.DataFrame, handovers: pd.DataFrame | None) -> tuple[list, dict]:
    """Handover names (fields' first, then any others known) and their dates."""
    dates: dict[str, str] = {}
    if not _empty(handovers):
        for h, d in zip(_text(handovers, "handover"), _dates(handovers, "handover_date")):
            dates[str(h)] = str(d)
    names = list(dict.fromkeys([*_text(fields, "handover").tolist(), *dates]))
    return names, dates


def crossref_handovers(
    fields: pd.DataFrame,
    items: pd.DataFrame | None,
    *,
    incidents: pd.DataFrame | None = None,
    handovers: pd.DataFrame | None = None,
    as_of: _dt.date | str | None = None,
    accuracy_buffer_m: float | None = None,
) -> pd.DataFrame:
    """Crossref by handover: how well each handover's maps match the finds.

    Parameters
    ----------
    fields
        Minefields of all handovers.
    items
        Found items; the AP and AT points count as finds.
    incidents
        Mine incident points, or None.
    handovers
        ``handover``, ``handover_date``, or None.
    as_of
        Keep items and incidents dated ≤ this date.
    accuracy_buffer_m
        Ground metres each field is buffered by to make its handover's
        footprint; ``settings.accuracy_buffer_m`` (500 m) when None.

    Returns
    -------
    pandas.DataFrame
        Exactly the columns of ``schema.HANDOVER_COLUMNS``, one row per
        handover present in ``fields`` or ``handovers``, ordered by handover
        date then name.  A find in a field of several handovers is inside for
        each; a find in the footprint that lies in another handover's field
        is counted in ``found_in_other_handovers``, never in ``found_outside``
        or ``accuracy_pct``.  Incidents follow the same rule.  Distances are
        ground metres to the nearest of the handover's own fields.  Shares
        are percentages, NaN when there is nothing to share.
    """
    buf = buffer_setting(accuracy_buffer_m)
    day = _as_of_text(as_of)
    f_all = _valid(_geoms(fields))
    f_ho = _text(fields, "handover")
    totals = np.nan_to_num(_floats(fields, "mines_total"))
    _, finds = dated_points(items, day, finds=True)
    _, incs = dated_points(incidents, day, finds=False)
    names, dates = handover_names(fields, handovers)
    hit_f = in_fields(finds, f_all, f_ho, names)
    hit_i = in_fields(incs, f_all, f_ho, names)

    rows = []
    for k, h in enumerate(names):
        sel = np.flatnonzero(f_ho == h)
        own = f_all[sel][present(f_all[sel])]
        fp = footprint(own, buf)
        s = sort_points(finds, fp, hit_f, k)
        si = sort_points(incs, fp, hit_i, k)
        dist = (ground_distance(finds[s.outside], own, centre_epsg(own))
                if s.outside.any() else np.zeros(0))
        n_out = len(dist)
        row: dict[str, Any] = {
            "handover": h, "handover_date": dates.get(h, ""),
            "minefields": len(sel), "mines_recorded": int(totals[sel].sum()),
            "found_inside": int(s.inside.sum()), "found_outside": n_out,
            "found_in_other_handovers": int(s.other.sum()),
            "accuracy_pct": s.accuracy_pct,
        }
        for d in (25, 50, 100):
            row[f"outside_within_{d}m_pct"] = (
                100.0 * float(np.mean(dist <= d)) if n_out else np.nan)
        row["outside_median_m"] = float(np.median(dist)) if n_out else np.nan
        row["incidents_inside"] = int(si.inside.sum())
        row["incidents_outside"] = int(si.outside.sum())
        rows.append(row)
    out = pd.DataFrame(rows, columns=list(HANDOVER_COLUMNS))
    if len(out):
        out = out.sort_values(["handover_date", "handover"], kind="stable").reset_index(drop=True)
    for c in ("minefields", "mines_recorded", "found_inside", "found_outside",
              "found_in_other_handovers", "incidents_inside", "incidents_outside"):
        out[c] = out[c].astype(np.int64)
    for c in ("accuracy_pct", "outside_within_25m_pct", "outside_within_50m_pct",
              "outside_within_100m_pct", "outside_median_m"):
        out[c] = out[c].astype(float)
    return out
