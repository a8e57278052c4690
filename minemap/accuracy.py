"""How accurate was each map: offsets, suspected areas and remaining hazard (API).

Store-side wrappers of the pure functions in :mod:`minemap.crossref.offsets`,
:mod:`minemap.crossref.suspects` and :mod:`minemap.crossref.remaining`
(DESIGN §12, §13).  Only :func:`apply_offsets` writes, and it writes through
the import path (:func:`minemap.imports.import_record_frames`): a new
revision of the handover, revertible like any other.
"""

from __future__ import annotations

import datetime as _dt
import shlex
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from minemap._access import as_of_text, open_store, require_records
from minemap._errors import UsageError
from minemap.crossref.offsets import Offset, estimate_offsets, shift_geometries
from minemap.geo.geometry import area_ha
from minemap.store import Store

__all__ = ["apply_offsets", "offset_outlines", "offsets", "suspects"]


def _store(store) -> Store:
    st = open_store(store)
    require_records(st)
    return st


def offsets(
    store: Store | str | None = None,
    *,
    handover: str | None = None,
    by: str = "handover",
    rotation: bool = False,
    as_of: str | _dt.date | None = None,
    revision: int | None = None,
) -> pd.DataFrame:
    """Systematic shift of each map and the datum-error check (DESIGN §13).

    Reads the store and never changes it.

    Parameters
    ----------
    store
        Store or its path.
    handover
        Only this handover.
    by
        ``"handover"`` or ``"district"`` (handover × district).
    rotation
        Also estimate a rotation (``rotation_deg``).
    as_of, revision
        The finds dated ≤ ``as_of``, the store as of ``revision``.

    Returns
    -------
    pandas.DataFrame
        :data:`minemap.crossref.offsets.OFFSET_COLUMNS`.
    """
    st = _store(store)
    table, _ = estimate_offsets(
        st.read("minefields", revision=revision), st.read("items", revision=revision),
        by=by, handover=handover, rotation=rotation, as_of=as_of_text(as_of))
    return table


def _moved(frame: pd.DataFrame, groups: dict[tuple[str, str], Offset], by: str,
           district_of: dict[tuple[str, str], str]) -> gpd.GeoDataFrame:
    """Rows of one handover's layer with their geometries moved by their group's offset."""
    frame = frame.drop(columns=["revision"], errors="ignore").copy()
    geoms = np.asarray(frame.geometry.values, dtype=object).copy()
    keys = [(h, district_of.get((h, r), "") if by == "district" else "")
            for h, r in zip(frame["handover"], frame["record_id"])]
    for key, off in groups.items():
        sel = np.array([k == key for k in keys], dtype=bool)
        if sel.any():
            geoms[sel] = shift_geometries(geoms[sel], off)
    return gpd.GeoDataFrame(frame.drop(columns="geometry"), geometry=list(geoms),
                            crs="EPSG:4326")


def offset_outlines(
    store: Store | str | None = None,
    *,
    handover: str | None = None,
    by: str = "handover",
    rotation: bool = False,
    as_of: str | _dt.date | None = None,
) -> gpd.GeoDataFrame:
    """The fields as they would be after ``offsets --apply``, without applying it.

    For showing the moved outlines beside the recorded ones on a map.  Reads
    the store and never changes it.

    Returns
    -------
    geopandas.GeoDataFrame
        ``handover``, ``record_id``, ``district``, ``dx_m``, ``dy_m`` and the
        moved polygon, for the fields of every group with an estimate.
    """
    from minemap.crossref._common import _canon

    st = _store(store)
    fields = st.read("minefields")
    table, groups = estimate_offsets(fields, st.read("items"), by=by, handover=handover,
                                     rotation=rotation, as_of=as_of_text(as_of))
    district_of = {(h, r): _canon(d) for h, r, d in
                   zip(fields["handover"], fields["record_id"], fields["district"])}
    keys = [(h, district_of[(h, r)] if by == "district" else "")
            for h, r in zip(fields["handover"], fields["record_id"])]
    keep = np.array([k in groups for k in keys], dtype=bool)
    mine = fields[keep]
    moved = _moved(mine, groups, by, district_of)
    est = {k: (o.dx_m, o.dy_m) for k, o in groups.items()}
    kept = [k for k, m in zip(keys, keep) if m]
    out = moved[["handover", "record_id", "district", "geometry"]].copy()
    out.insert(3, "dx_m", [est[k][0] for k in kept])
    out.insert(4, "dy_m", [est[k][1] for k in kept])
    return gpd.GeoDataFrame(out.reset_index(drop=True), geometry="geometry", crs="EPSG:4326")


def apply_offsets(
    store: Store | str | None = None,
    *,
    handover: str,
    by: str = "handover",
    rotation: bool = False,
    as_of: str | _dt.date | None = None,
    command: str | None = None,
) -> tuple[Any, pd.DataFrame]:
    """Record a new revision of ``handover`` moved by its estimated offset(s).

    The revision's provenance (``options`` in ``history --json``) holds
    ``offsets``: the command, and per group the estimate, its ``ci95_m``,
    ``finds_used`` and ``datum_suspect``.  ``revert`` undoes it.

    Returns
    -------
    (ImportResult, pandas.DataFrame)
        The import's result and the estimate table applied.

    Raises
    ------
    UsageError
        When no group of the handover has an estimate (too few finds).
    """
    from minemap.imports import import_record_frames

    if not handover:
        raise UsageError("--apply needs --handover H: one map is moved at a time")
    st = _store(store)
    fields = st.read("minefields")
    table, groups = estimate_offsets(fields, st.read("items"), by=by, handover=handover,
                                     rotation=rotation, as_of=as_of_text(as_of))
    if not groups:
        raise UsageError(f"handover {handover!r}: no estimate to apply"
                         f" ({'; '.join(n for n in table['note'] if n) or 'no fields'})")
    from minemap.crossref._common import _canon

    mine = fields[fields["handover"] == handover]
    district_of = {(h, r): _canon(d) for h, r, d in
                   zip(mine["handover"], mine["record_id"], mine["district"])}
    moved = {"minefields": _moved(mine, groups, by, district_of)}
    moved["minefields"]["area_ha"] = area_ha(
        np.asarray(moved["minefields"].geometry.values, dtype=object))
    for layer in ("vertices", "mine_rows"):
        rows = st.read(layer)
        moved[layer] = _moved(rows[rows["handover"] == handover], groups, by, district_of)
    applied = table[[k in groups for k in zip(table["handover"], table["district"])]]
    keep = [c for c in ("district", "dx_m", "dy_m", "rotation_deg", "ci95_m", "finds_used",
                        "datum_suspect", "accuracy_pct_before", "accuracy_pct_after")
            if c in applied]
    provenance = {
        "command": command or shlex.join(
            ["minemap", "offsets", "--handover", handover, "--by", by, "--apply",
             *(["--rotation"] if rotation else []), *(["--as-of", str(as_of)] if as_of else [])]),
        "by": by,
        "estimates": [
            {k: (bool(v) if k == "datum_suspect" else v.item() if hasattr(v, "item") else v)
             for k, v in row.items()} for row in applied[keep].to_dict("records")],
    }
    handovers = st.handovers()
    date = handovers.loc[handovers["handover"] == handover, "handover_date"]
    result = import_record_frames(moved, handover=handover, store=st,
                                  options={"offsets": provenance},
                                  handover_date=str(date.iloc[0]) if len(date) else "")
    return result, table


def suspects(
    store: Store | str | None = None,
    *,
    eps_m: float = 100.0,
    min_items: int = 3,
    as_of: str | _dt.date | None = None,
    revision: int | None = None,
) -> gpd.GeoDataFrame:
    """Suspected hazard areas from finds and incidents beyond every map (DESIGN §13).

    Parameters
    ----------
    store
        Store or its path.
    eps_m, min_items
        Grouping radius (metres) and the points a core of a group needs.
    as_of, revision
        Finds and incidents dated ≤ ``as_of``; the store as of ``revision``.

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`minemap.crossref.suspects.SUSPECT_COLUMNS` and the polygon.
    """
    from minemap.crossref.suspects import EPS_M, MIN_ITEMS, default_params, suspected_areas

    st = _store(store)
    # The latest state with the defaults is the store's suspects layer while
    # it is current and was computed with today's parameters.
    latest = st.latest_revision()
    if (as_of_text(as_of) is None and revision in (None, latest) and float(eps_m) == EPS_M
            and int(min_items) == MIN_ITEMS):
        stored = st.read_derived("suspects")
        if stored.revision == latest and stored.params == default_params():
            return stored.frame
    return suspected_areas(
        st.read("minefields", revision=revision), st.read("items", revision=revision),
        st.read("incidents", revision=revision), eps_m=eps_m, min_items=min_items,
        as_of=as_of_text(as_of))
