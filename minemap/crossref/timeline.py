"""The release history of each field, for the map's timeline slider."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import shapely

from minemap.crossref._common import _dates, _empty, _geoms, _sliver_settings, _text, _valid
from minemap.crossref.overlay import _pairs, _pieces, real_overlap
from minemap.crossref.parallel import run_chunks
from minemap.crossref.status import _classify
from minemap.geo.geometry import area_ha

__all__ = ["TIMELINE_COLUMNS", "status_timeline"]

#: Columns of :func:`status_timeline`.
TIMELINE_COLUMNS: tuple[str, ...] = ("handover", "record_id", "date", "status", "released_pct")

# A cumulative released area "grows" only by more than float noise of a union.
_GROWTH_REL = 1e-9
_GROWTH_ABS_HA = 1e-8


def _timeline_chunk(s: dict[str, Any], pos: np.ndarray) -> tuple[np.ndarray, list]:
    f = s["fields"][pos]
    fa = np.nan_to_num(area_ha(f))
    rel = s["rel"]
    fi, ri, cont = _pairs(f, s["tree"], rel)
    nc = ~cont
    pieces = np.empty(len(fi), dtype=object)
    pha = np.where(cont, fa[fi], 0.0)
    pieces[cont] = f[fi[cont]]
    if nc.any():
        pieces[nc], pha[nc] = _pieces(f, rel, fi[nc], ri[nc])
    hit = pha > 0
    hit[nc] = real_overlap(pieces[nc], pha[nc])
    fi, ri, cont, pieces = fi[hit], ri[hit], cont[hit], pieces[hit]
    dates = s["date"][ri]
    order = np.lexsort((dates, fi))
    fi, cont, pieces, dates = fi[order], cont[order], pieces[order], dates[order]

    rows_f: list[int] = list(range(len(f)))
    rows_d: list[str] = [""] * len(f)
    rows_ha: list[float] = [0.0] * len(f)
    rows_g: list[Any] = [shapely.Polygon()] * len(f)
    # Groups of pieces of one field ending on one date.
    bounds = np.flatnonzero(np.r_[True, (fi[1:] != fi[:-1]) | (dates[1:] != dates[:-1])])
    bounds = bounds[bounds < len(fi)]
    ends = np.r_[bounds[1:], len(fi)]
    cum: dict[int, tuple[Any, float]] = {}
    for a, b in zip(bounds, ends):
        k = int(fi[a])
        prev_g, prev_ha = cum.get(k, (None, 0.0))
        if prev_ha >= fa[k] > 0:
            continue  # already wholly released
        if cont[a:b].any():
            g, ha = f[k], fa[k]
        else:
            add = pieces[a:b]
            g = shapely.union_all(add if prev_g is None else np.r_[add, [prev_g]])
            ha = min(float(area_ha(np.array([g]))[0]), fa[k])
        if ha > prev_ha + max(_GROWTH_REL * fa[k], _GROWTH_ABS_HA):
            rows_f.append(k)
            rows_d.append(str(dates[a]))
            rows_ha.append(ha)
            rows_g.append(g)
            cum[k] = (g, ha)
    rf = np.asarray(rows_f, dtype=np.int64)
    rha = np.asarray(rows_ha, dtype=float)
    rg = np.asarray(rows_g, dtype=object)
    status = _classify(
        f[rf], fa[rf], rha, lambda idx: rg[idx],
        sliver_m=s["sliver_m"], sliver_share=s["sliver_share"],
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(fa[rf] > 0, 100.0 * rha / fa[rf], 0.0)
    return pos[rf], [np.asarray(rows_d, dtype=object), status, pct]


def status_timeline(
    fields: pd.DataFrame,
    releases: pd.DataFrame | None,
    *,
    sliver_m: float | None = None,
    sliver_share: float | None = None,
    n_jobs: int | None = None,
    progress: Callable[[int, int], Any] | None = None,
) -> pd.DataFrame:
    """Release history of each field, for the map's timeline slider.

    Parameters
    ----------
    fields, releases
        As for :func:`crossref_minefields`.
    sliver_m, sliver_share
        Sliver thresholds (settings when None).
    n_jobs, progress
        As for :func:`crossref_minefields`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TIMELINE_COLUMNS`.  Each field has a first row with
        date ``""`` (status with no release: ``not_started``), then one row
        per release ``date_end`` at which its released area grows, with the
        status and ``released_pct`` from then on.  Rows are ordered by field
        (fields' order), then date.  Releases without ``date_end`` are left out.
    """
    m, share = _sliver_settings(sliver_m, sliver_share)
    f_ll = _valid(_geoms(fields))
    if _empty(releases):
        rel = np.empty(0, dtype=object)
        dates = np.empty(0, dtype=object)
    else:
        dates = _dates(releases, "date_end")
        dated = dates != ""
        rel = _valid(_geoms(releases)[dated])
        dates = dates[dated]
    rel = np.where(shapely.is_missing(rel), shapely.Polygon(), rel)
    shapely.prepare(rel)
    state = {
        "fields": f_ll, "rel": rel, "tree": shapely.STRtree(rel), "date": dates,
        "sliver_m": m, "sliver_share": share,
    }
    parts = run_chunks(_timeline_chunk, len(f_ll), state=state, n_jobs=n_jobs,
                       progress=progress)
    if not parts:
        return pd.DataFrame({c: [] for c in TIMELINE_COLUMNS})
    fpos = np.concatenate([p[0] for p in parts])
    date = np.concatenate([p[1][0] for p in parts])
    status = np.concatenate([p[1][1] for p in parts])
    pct = np.concatenate([p[1][2] for p in parts])
    order = np.lexsort((date, fpos))
    out = pd.DataFrame(
        {
            "handover": _text(fields, "handover")[fpos[order]],
            "record_id": _text(fields, "record_id")[fpos[order]],
            "date": date[order],
            "status": status[order],
            "released_pct": pct[order],
        }
    )
    return out[list(TIMELINE_COLUMNS)]
