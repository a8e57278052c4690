"""Crossref by district and the reconciliation with weekly reports.

With district boundaries, fields, releases and items are placed in the
district whose boundary holds most of them (:mod:`minemap.crossref.placing`);
without boundaries, by their own ``district`` attribute.
"""

from __future__ import annotations

import datetime as _dt

import numpy as np
import pandas as pd
import shapely

from minemap.crossref._common import (
    _as_of_text,
    _canon,
    _dated_mask,
    _dates,
    _empty,
    _floats,
    _geoms,
    _item_types,
    _text,
    _valid,
)
from minemap.crossref.placing import place
from minemap.geo.geometry import area_ha

__all__ = ["DISTRICT_COLUMNS", "RECONCILE_COLUMNS", "crossref_districts", "reconcile_reports"]


#: Columns of :func:`crossref_districts`.
DISTRICT_COLUMNS: tuple[str, ...] = (
    "district", "minefields", "mines_recorded", "area_ha", "released_ha", "cleared_ha",
    "found_ap", "found_at", "found_uxo", "remaining_est",
    "period_released_ha", "period_cleared_ha", "period_found_ap", "period_found_at",
    "period_found_uxo", "reported_ha", "reported_ap", "reported_at", "reported_uxo",
    "diff_released_ha", "diff_cleared_ha", "diff_ap", "diff_at", "diff_uxo",
)

#: Columns of :func:`reconcile_reports`.
RECONCILE_COLUMNS: tuple[str, ...] = (
    "date_start", "date_end", "district", "released_ha", "cleared_ha",
    "found_ap", "found_at", "found_uxo", "reported_ha", "reported_ap", "reported_at",
    "reported_uxo", "diff_released_ha", "diff_cleared_ha", "diff_ap", "diff_at", "diff_uxo",
    "source_file",
)


def _district_lists(reports: pd.DataFrame) -> list[list[str]]:
    out = []
    for v in reports["districts"] if "districts" in reports.columns else [""] * len(reports):
        if isinstance(v, (list, tuple, np.ndarray)):
            names = [str(x) for x in v]
        else:
            names = str(v if v is not None and v == v else "").replace(",", ";").split(";")
        out.append(list(dict.fromkeys(_canon(n) for n in names if str(n).strip())))
    return out


def _point_districts(
    frame: pd.DataFrame | None, districts: pd.DataFrame | None
) -> np.ndarray:
    """District of each item: the boundary holding it, else its own attribute."""
    if _empty(frame):
        return np.empty(0, dtype=object)
    return place(_geoms(frame), _text(frame, "district"), districts)[0]


def _release_ha_by_district(
    rel_geoms: np.ndarray,
    rel_cleared: np.ndarray,
    rel_district: np.ndarray,
    names: list[str],
    districts: pd.DataFrame | None,
) -> dict[str, tuple[float, float]]:
    """(released_ha, cleared_ha) of the union of the given releases per district.

    With boundaries, each district gets the union of the releases meeting it
    clipped to its boundary; without them, releases are grouped by their own
    ``district`` attribute.
    """
    out: dict[str, tuple[float, float]] = {}
    if _empty(districts):
        for name in names:
            sel = rel_district == name
            u = shapely.union_all(rel_geoms[sel]) if sel.any() else shapely.Polygon()
            uc = shapely.union_all(rel_geoms[sel & rel_cleared]) if (sel & rel_cleared).any() \
                else shapely.Polygon()
            out[name] = tuple(float(x) for x in area_ha(np.array([u, uc], dtype=object)))
        return out
    d_geoms = _valid(_geoms(districts))
    d_names = np.array([_canon(d) for d in _text(districts, "district")], dtype=object)
    tree = shapely.STRtree(rel_geoms) if len(rel_geoms) else None
    for name in names:
        polys = d_geoms[d_names == name]
        if tree is None or len(polys) == 0:
            out[name] = (0.0, 0.0) if len(polys) else (np.nan, np.nan)
            continue
        dpoly = shapely.union_all(polys)
        cand = tree.query(dpoly, predicate="intersects")
        u = shapely.intersection(shapely.union_all(rel_geoms[cand]), dpoly)
        cc = cand[rel_cleared[cand]]
        uc = shapely.intersection(shapely.union_all(rel_geoms[cc]), dpoly) if len(cc) \
            else shapely.Polygon()
        out[name] = tuple(float(x) for x in area_ha(np.array([u, uc], dtype=object)))
    return out


def _report_frame(reports: pd.DataFrame | None, as_of: str | None) -> pd.DataFrame:
    if _empty(reports):
        return pd.DataFrame(columns=["date_start", "date_end", "districts"])
    keep = _dated_mask(reports, "date_end", as_of)
    return reports.loc[keep]


def _in_periods(dates: np.ndarray, periods: list[tuple[str, str]]) -> np.ndarray:
    inside = np.zeros(len(dates), dtype=bool)
    for a, b in periods:
        inside |= (dates != "") & (dates >= a) & (dates <= b)
    return inside


def _prep_releases(releases: pd.DataFrame | None, as_of: str | None) -> dict[str, np.ndarray]:
    if _empty(releases):
        e = np.empty(0, dtype=object)
        return {"geoms": e, "cleared": np.zeros(0, bool), "date": e, "district": e}
    keep = _dated_mask(releases, "date_end", as_of)
    rel = releases.loc[keep]
    g = _valid(_geoms(rel))
    g = np.where(shapely.is_missing(g), shapely.Polygon(), g)
    outcome = np.char.lower(np.char.strip(_text(rel, "outcome").astype(str)))
    return {
        "geoms": g,
        "cleared": (outcome == "cleared") | (outcome == ""),
        "date": _dates(rel, "date_end"),
        "district": np.array([_canon(d) for d in _text(rel, "district")], dtype=object),
    }


def _prep_items(items: pd.DataFrame | None, districts, as_of: str | None) -> dict[str, np.ndarray]:
    if _empty(items):
        e = np.empty(0, dtype=object)
        return {"type": e, "date": e, "district": e}
    keep = _dated_mask(items, "date", as_of)
    it = items.loc[keep]
    return {
        "type": _item_types(it).astype(object),
        "date": _dates(it, "date"),
        "district": _point_districts(it, districts),
    }


def _count_items(it: dict[str, np.ndarray], mask: np.ndarray) -> tuple[int, int, int]:
    return tuple(int(((it["type"] == t) & mask).sum()) for t in ("AP", "AT", "UXO"))


def reconcile_reports(
    releases: pd.DataFrame | None,
    items: pd.DataFrame | None,
    reports: pd.DataFrame | None,
    *,
    districts: pd.DataFrame | None = None,
    as_of: _dt.date | str | None = None,
) -> pd.DataFrame:
    """Weekly-report figures beside the polygon figures of the same periods.

    Parameters
    ----------
    releases, items
        Land-release polygons and found items.
    reports
        Weekly report periods (``schema.REPORT_COLUMNS``; ``districts``
        ";"-joined or a list).
    districts
        District boundaries; without them releases and items are placed by
        their own ``district`` attribute.
    as_of
        Keep releases with ``date_end`` ≤ D and items and reports dated ≤ D.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`RECONCILE_COLUMNS`.  For each report (in date order):
        one row per district it names, then a total row with ``district``
        ``""``.  ``released_ha`` (all outcomes) and ``cleared_ha`` (outcome
        cleared) are the areas of the union of the releases whose ``date_end``
        lies in the period, in that district (total row: in the districts the
        report names, or anywhere if it names none).  Item counts are of items
        dated in the period.  Reports give totals, not per-district figures, so
        the ``reported_*`` and ``diff_*`` (polygon − reported) columns are
        filled on the total row only and NaN elsewhere.
    """
    day = _as_of_text(as_of)
    reps = _report_frame(reports, day)
    rel = _prep_releases(releases, day)
    it = _prep_items(items, districts, day)
    rel_d = rel["district"]
    rows = []
    starts, ends = _dates(reps, "date_start"), _dates(reps, "date_end")
    lists = _district_lists(reps) if len(reps) else []
    order = sorted(range(len(reps)), key=lambda i: (ends[i], starts[i]))
    for i in order:
        a, b = starts[i], ends[i]
        r_in = _in_periods(rel["date"], [(a, b)])
        i_in = _in_periods(it["date"], [(a, b)])
        names = lists[i]
        per = _release_ha_by_district(
            rel["geoms"][r_in], rel["cleared"][r_in], rel_d[r_in], names, districts
        )
        base = {"date_start": a, "date_end": b, "source_file": _text(reps, "source_file")[i]}
        for name in names:
            ap, at, uxo = _count_items(it, i_in & (it["district"] == name))
            rows.append({**base, "district": name, "released_ha": per[name][0],
                         "cleared_ha": per[name][1], "found_ap": ap, "found_at": at,
                         "found_uxo": uxo})
        # With boundaries the total is clipped to the named districts below;
        # without, releases are chosen by their own district attribute.
        by_attr = bool(names) and _empty(districts)
        r_tot = r_in & (np.isin(rel_d, names) if by_attr else True)
        i_tot = i_in & (np.isin(it["district"], names) if names else True)
        g = rel["geoms"][r_tot]
        c = rel["cleared"][r_tot]
        u = shapely.union_all(g) if len(g) else shapely.Polygon()
        uc = shapely.union_all(g[c]) if c.any() else shapely.Polygon()
        if names and not _empty(districts):
            d_names = np.array([_canon(d) for d in _text(districts, "district")], dtype=object)
            dpoly = shapely.union_all(_valid(_geoms(districts))[np.isin(d_names, names)])
            u, uc = shapely.intersection(u, dpoly), shapely.intersection(uc, dpoly)
        ha = area_ha(np.array([u, uc], dtype=object))
        ap, at, uxo = _count_items(it, i_tot)
        rep = {
            "reported_ha": _floats(reps, "cleared_ha")[i],
            "reported_ap": _floats(reps, "found_ap")[i],
            "reported_at": _floats(reps, "found_at")[i],
            "reported_uxo": _floats(reps, "found_uxo")[i],
        }
        rows.append({**base, "district": "", "released_ha": float(ha[0]),
                     "cleared_ha": float(ha[1]), "found_ap": ap, "found_at": at,
                     "found_uxo": uxo, **rep})
    out = pd.DataFrame(rows, columns=list(RECONCILE_COLUMNS))
    out["diff_released_ha"] = out["released_ha"] - out["reported_ha"]
    out["diff_cleared_ha"] = out["cleared_ha"] - out["reported_ha"]
    for t in ("ap", "at", "uxo"):
        out[f"diff_{t}"] = out[f"found_{t}"] - out[f"reported_{t}"]
    for c in ("released_ha", "cleared_ha", "reported_ha", "reported_ap", "reported_at",
              "reported_uxo", "diff_released_ha", "diff_cleared_ha", "diff_ap", "diff_at",
              "diff_uxo"):
        out[c] = out[c].astype(float)
    return out.reset_index(drop=True)


def crossref_districts(
    fields: pd.DataFrame,
    table: pd.DataFrame,
    releases: pd.DataFrame | None,
    items: pd.DataFrame | None,
    *,
    reports: pd.DataFrame | None = None,
    districts: pd.DataFrame | None = None,
    as_of: _dt.date | str | None = None,
) -> pd.DataFrame:
    """Crossref by district, with the weekly reports' figures beside.

    Parameters
    ----------
    fields
        Minefields (used to place fields without a ``district`` when
        boundaries are given, by a point on the surface of each field).
    table
        The by-minefield table of the same fields and as-of date
        (:func:`crossref_minefields`).
    releases, items, reports
        Land release, finds and weekly report periods.
    districts
        District boundaries or None (then the ``district`` attributes are used).
    as_of
        Keep releases, items and reports dated ≤ this date.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`DISTRICT_COLUMNS`, one row per district (sorted), then a
        total row (``district`` ``""``); fields, releases or items without a
        district are grouped under ``"(unknown)"``.

        * ``minefields``, ``mines_recorded``, ``area_ha``, ``released_ha``,
          ``cleared_ha``, ``remaining_est``: sums over the district's rows of
          ``table`` (fields of overlapping handovers each count).
        * ``found_ap``/``found_at``/``found_uxo``: items in the district,
          inside or outside fields.
        * ``period_*``: the same measures limited to the reported periods (the
          union of the as-of-filtered report periods): union of the releases
          (inside or outside fields) whose ``date_end`` lies in a period, and
          items dated in a period.
        * ``reported_*``: sums of the reports naming only this district; NaN
          when any report naming it also names others, since report totals
          cannot be split between districts.  The total row has the sums of
          all reports.  ``diff_*`` = polygon (period) − reported.
    """
    day = _as_of_text(as_of)
    tab_d = _table_districts(fields, table, districts)
    rel = _prep_releases(releases, day)
    it = _prep_items(items, districts, day)
    it_d = it["district"].copy()
    it_d[it_d == ""] = _UNKNOWN
    reps = _report_frame(reports, day)
    periods = list(zip(_dates(reps, "date_start"), _dates(reps, "date_end")))
    lists = _district_lists(reps) if len(reps) else []
    names = _district_names(tab_d, it_d, rel["district"], lists, districts)
    i_in = _in_periods(it["date"], periods)
    per = _period_release_ha(rel, _in_periods(rel["date"], periods), names, districts)
    reported = _Reported(reps, lists)

    rows = []
    for name in names:
        here = it_d == name
        rows.append({"district": name, **_table_sums(table.loc[tab_d == name]),
                     **_found(it, here, i_in),
                     "period_released_ha": per.get(name, (0.0, 0.0))[0],
                     "period_cleared_ha": per.get(name, (0.0, 0.0))[1],
                     **reported.district(name)})
    rows.append({"district": "", **_table_sums(table),
                 **_found(it, np.ones(len(it_d), dtype=bool), i_in),
                 **_period_totals(rel, periods), **reported.total()})
    out = pd.DataFrame(rows)
    out["diff_released_ha"] = out["period_released_ha"] - out["reported_ha"]
    out["diff_cleared_ha"] = out["period_cleared_ha"] - out["reported_ha"]
    for t in ("ap", "at", "uxo"):
        out[f"diff_{t}"] = out[f"period_found_{t}"] - out[f"reported_{t}"]
    return out[list(DISTRICT_COLUMNS)]


_UNKNOWN = "(unknown)"


def _table_districts(fields: pd.DataFrame, table: pd.DataFrame,
                     districts: pd.DataFrame | None) -> np.ndarray:
    """Each table row's district: spatial with boundaries, else its attribute."""
    tab_d = np.array([_canon(d) for d in _text(table, "district")], dtype=object)
    if not _empty(districts):
        # Every field in the district holding most of it (DESIGN §12), the
        # same rule as the API's tables, exports and maps.
        key = pd.MultiIndex.from_arrays([_text(fields, "handover"), _text(fields, "record_id")])
        pos = key.get_indexer(
            pd.MultiIndex.from_arrays([_text(table, "handover"), _text(table, "record_id")])
        )
        known = np.flatnonzero(pos >= 0)
        tab_d[known] = place(_geoms(fields)[pos[known]], tab_d[known], districts)[0]
    tab_d[tab_d == ""] = _UNKNOWN
    return tab_d


def _district_names(tab_d: np.ndarray, it_d: np.ndarray, rel_d: np.ndarray,
                    lists: list[list[str]], districts: pd.DataFrame | None) -> list[str]:
    """Every district named by a field, item, release, report or boundary; unknown last."""
    names = set(tab_d.tolist()) | set(it_d.tolist())
    names |= {d if d else _UNKNOWN for d in rel_d.tolist()}
    for ds in lists:
        names |= set(ds)
    if not _empty(districts):
        names |= {_canon(d) for d in _text(districts, "district")}
    return sorted(n for n in names if n != _UNKNOWN) + ([_UNKNOWN] if _UNKNOWN in names else [])


def _period_release_ha(rel: dict[str, np.ndarray], r_in: np.ndarray, names: list[str],
                       districts: pd.DataFrame | None) -> dict[str, tuple[float, float]]:
    """Released and cleared hectares of the reported periods, per district."""
    rel_d = np.where(rel["district"] == "", _UNKNOWN, rel["district"])
    bounded = not _empty(districts)
    per = _release_ha_by_district(
        rel["geoms"][r_in], rel["cleared"][r_in], rel_d[r_in],
        [n for n in names if n != _UNKNOWN] if bounded else names, districts,
    )
    if bounded and _UNKNOWN in names:
        # Without a boundary to clip to, unplaced releases are left out here.
        per[_UNKNOWN] = (np.nan, np.nan)
    return per


def _table_sums(tab: pd.DataFrame) -> dict[str, float | int]:
    """The by-minefield table's figures summed (fields of overlapping handovers each count)."""
    return {
        "minefields": len(tab),
        "mines_recorded": int(np.nan_to_num(_floats(tab, "mines_total")).sum()),
        "area_ha": float(np.nansum(_floats(tab, "area_ha"))),
        "released_ha": float(np.nansum(_floats(tab, "released_ha"))),
        "cleared_ha": float(np.nansum(_floats(tab, "cleared_ha"))),
        "remaining_est": float(np.nansum(_floats(tab, "remaining_est"))),
    }


def _found(it: dict[str, np.ndarray], mask: np.ndarray, i_in: np.ndarray) -> dict[str, int]:
    """Items counted by type, in all and within the reported periods."""
    ap, at, uxo = _count_items(it, mask)
    pap, pat, puxo = _count_items(it, mask & i_in)
    return {"found_ap": ap, "found_at": at, "found_uxo": uxo,
            "period_found_ap": pap, "period_found_at": pat, "period_found_uxo": puxo}


def _period_totals(rel: dict[str, np.ndarray], periods: list[tuple[str, str]]
                   ) -> dict[str, float]:
    """The total row's released and cleared hectares of the reported periods.

    The reports give one figure per period, so the polygons are measured the
    same way: the union of each period's releases, summed over periods (a
    union over all periods would differ wherever weeks overlap).
    """
    tha = np.zeros(2)
    for a, b in periods:
        m = (rel["date"] != "") & (rel["date"] >= a) & (rel["date"] <= b)
        g = rel["geoms"][m]
        c = rel["cleared"][m]
        u = shapely.union_all(g) if len(g) else shapely.Polygon()
        uc = shapely.union_all(g[c]) if c.any() else shapely.Polygon()
        tha += area_ha(np.array([u, uc], dtype=object))
    return {"period_released_ha": float(tha[0]), "period_cleared_ha": float(tha[1])}


class _Reported:
    """The weekly reports' figures, by district and in total."""

    def __init__(self, reps: pd.DataFrame, lists: list[list[str]]) -> None:
        self.n = len(reps)
        self.lists = lists
        zero = np.zeros(0)
        self.values = {"ha": _floats(reps, "cleared_ha") if self.n else zero}
        for t in ("ap", "at", "uxo"):
            self.values[t] = _floats(reps, f"found_{t}") if self.n else zero

    def district(self, name: str) -> dict[str, float]:
        """Sums of the reports naming only this district; NaN when any names others too."""
        mentions = [j for j, ds in enumerate(self.lists) if name in ds]
        alone = bool(mentions) and all(len(self.lists[j]) == 1 for j in mentions)
        return {f"reported_{k}": float(v[mentions].sum()) if alone else np.nan
                for k, v in self.values.items()}

    def total(self) -> dict[str, float]:
        """Sums of all the reports (NaN without reports)."""
        return {f"reported_{k}": float(v.sum()) if self.n else np.nan
                for k, v in self.values.items()}

