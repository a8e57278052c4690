"""Period tables (DESIGN §12): the work done between two dates, per group.

For each district or handover and a period D1..D2:

* ``period_released_ha`` / ``period_cleared_ha``: the area of the union of
  the releases (all outcomes / outcome ``cleared``) whose ``date_end`` lies
  in the period, within the group's fields: the work done;
* ``newly_released_ha``: land of the group's fields released by D2 that was
  not released by the day before D1 (so land worked twice counts once, and
  land already released before the period not at all);
* ``period_found_ap``, ``period_found_at``, ``period_found_uxo``: items dated
  in the period — in the district (inside or outside fields, as the
  district table counts finds), or inside the handover's fields.
"""

from __future__ import annotations

import datetime as _dt

import numpy as np
import pandas as pd
import shapely

from minemap._errors import UsageError
from minemap.crossref._common import (
    _as_of_text,
    _dates,
    _empty,
    _geoms,
    _item_types,
    _text,
    _valid,
)
from minemap.crossref.placing import place
from minemap.geo.geometry import area_ha

__all__ = ["PERIOD_COLUMNS", "canonical_period", "period_table"]

#: Columns of :func:`period_table` after the group column.
PERIOD_COLUMNS: tuple[str, ...] = (
    "period_released_ha", "period_cleared_ha", "newly_released_ha",
    "period_found_ap", "period_found_at", "period_found_uxo",
)


def _union(geoms: np.ndarray) -> shapely.Geometry:
    return shapely.union_all(geoms) if len(geoms) else shapely.Polygon()


def _ha(geom: shapely.Geometry) -> float:
    return float(area_ha(np.array([geom], dtype=object))[0])


def period_table(
    fields: pd.DataFrame,
    releases: pd.DataFrame | None,
    items: pd.DataFrame | None,
    *,
    by: str,
    date_from: _dt.date | str,
    date_to: _dt.date | str,
    districts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The period's activity per district or handover.

    Parameters
    ----------
    fields, releases, items
        Minefields, land-release polygons and found items.
    by
        ``"district"`` (fields and items placed as in the district table:
        the boundary holding most of them, else their attribute) or
        ``"handover"``.
    date_from, date_to
        The period, both days included.
    districts
        District boundaries, or None.

    Returns
    -------
    pandas.DataFrame
        ``district`` or ``handover``, then :data:`PERIOD_COLUMNS`; one row per
        group of the fields, and for districts a total row (``""``) over
        every field.
    """
    if by not in ("district", "handover"):
        raise UsageError(f"--from/--to: by {by}; choose district or handover")
    d1, d2 = canonical_period(date_from, date_to)
    f_ll = _valid(_geoms(fields))
    if by == "district":
        group = place(f_ll, _text(fields, "district"), districts)[0]
        group = np.where(group == "", "(unknown)", group)
    else:
        group = _text(fields, "handover")
    if _empty(releases):
        rel, r_date, r_clr = np.empty(0, dtype=object), np.empty(0, dtype=object), np.zeros(0, bool)
    else:
        rel = _valid(_geoms(releases))
        r_date = _dates(releases, "date_end")
        outcome = np.char.lower(np.char.strip(_text(releases, "outcome").astype(str)))
        r_clr = (outcome == "cleared") | (outcome == "")
        ok = ~shapely.is_missing(rel)
        rel, r_date, r_clr = rel[ok], r_date[ok], r_clr[ok]
    before = (_dt.date.fromisoformat(d1) - _dt.timedelta(days=1)).isoformat()
    in_period = (r_date != "") & (r_date >= d1) & (r_date <= d2)
    by_d2 = (r_date != "") & (r_date <= d2)
    by_before = (r_date != "") & (r_date <= before)

    if _empty(items):
        i_pts, i_type, i_date, i_group = (np.empty(0, dtype=object),) * 4
    else:
        i_pts = _geoms(items)
        i_type = _item_types(items).astype(object)
        i_date = _dates(items, "date")
        if by == "district":
            i_group = place(i_pts, _text(items, "district"), districts)[0]
            i_group = np.where(i_group == "", "(unknown)", i_group)
        else:
            i_group = None
    i_in = (i_date != "") & (i_date >= d1) & (i_date <= d2)

    names = sorted(set(group.tolist()) - {"(unknown)"}) + (
        ["(unknown)"] if "(unknown)" in set(group.tolist()) else [])
    if by == "district":
        names = [*names, ""]
    rows = []
    tree = shapely.STRtree(rel) if len(rel) else None
    for name in names:
        sel = np.ones(len(group), dtype=bool) if name == "" else group == name
        area = _union(f_ll[sel & ~shapely.is_missing(f_ll)])
        near = np.zeros(len(rel), dtype=bool)
        if tree is not None and not area.is_empty:
            near[tree.query(area, predicate="intersects")] = True

        def within(mask, area=area, near=near):
            return shapely.intersection(_union(rel[mask & near]), area)

        done = within(in_period)
        row = {
            ("district" if by == "district" else "handover"): name,
            "period_released_ha": _ha(done),
            "period_cleared_ha": _ha(within(in_period & r_clr)),
            "newly_released_ha": _ha(shapely.difference(within(by_d2), within(by_before))),
        }
        if by == "district":
            mine = i_in & ((i_group == name) if name else True)
        else:
            mine = i_in & _inside(i_pts, area)
        for t in ("AP", "AT", "UXO"):
            row[f"period_found_{t.lower()}"] = int(((i_type == t) & mine).sum())
        rows.append(row)
    return pd.DataFrame(rows, columns=[by, *PERIOD_COLUMNS])


def _inside(pts: np.ndarray, area: shapely.Geometry) -> np.ndarray:
    if len(pts) == 0 or area.is_empty:
        return np.zeros(len(pts), dtype=bool)
    shapely.prepare(area)
    ok = ~shapely.is_missing(pts)
    out = np.zeros(len(pts), dtype=bool)
    out[ok] = shapely.intersects(area, pts[ok])
    return out


def canonical_period(date_from, date_to) -> tuple[str, str]:
    """Both period dates as ISO text, checked."""
    d1, d2 = _as_of_text(date_from), _as_of_text(date_to)
    if d1 is None or d2 is None:
        raise UsageError("--from and --to go together: give both dates")
    if d1 > d2:
        raise UsageError(f"--from {d1} is after --to {d2}")
    return d1, d2



def with_period(table: pd.DataFrame, period: pd.DataFrame, by: str) -> pd.DataFrame:
    """A by-district or by-handover table with the period's columns (§12).

    The district table's own ``period_*`` columns (the reported periods) are
    replaced by the period's, ``newly_released_ha`` is added after them, and
    the ``diff_*`` columns are recomputed against the reports.  The handover
    table gets the period's columns at its end.
    """
    out = table.copy()
    p = period.set_index(by)
    key = out[by].astype(str)
    if by == "handover":
        for c in PERIOD_COLUMNS:
            out[c] = key.map(p[c]).fillna(0).to_numpy()
        return out
    for c in PERIOD_COLUMNS:
        values = key.map(p[c])
        if c in out.columns:
            out[c] = values.to_numpy()
        else:
            out.insert(out.columns.get_loc("period_cleared_ha") + 1, c, values.to_numpy())
    out["diff_released_ha"] = out["period_released_ha"] - out["reported_ha"]
    out["diff_cleared_ha"] = out["period_cleared_ha"] - out["reported_ha"]
    for t in ("ap", "at", "uxo"):
        out[f"diff_{t}"] = out[f"period_found_{t}"] - out[f"reported_{t}"]
    return out
