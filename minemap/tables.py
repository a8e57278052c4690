"""The cross-reference tables over the store: by minefield, district, handover, period.

They read the store and its materialised crossref, and call
:mod:`minemap.crossref` only for past ``as_of`` dates or revisions (DESIGN §4).
Re-exported by :mod:`minemap.api`.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import pandas as pd

from minemap._access import (
    PathLike,
    as_of_text,
    none_if_empty,
    open_store,
    pin_revision,
    require_records,
)
from minemap._errors import UsageError
from minemap.crossref import (
    crossref_districts,
    crossref_handovers,
    crossref_minefields,
    reconcile_reports,
)
from minemap.crossref.periods import canonical_period, period_table, with_period
from minemap.records import schema
from minemap.store import Store


def minefield_table(
    store: Store | PathLike | None = None,
    *,
    as_of: str | _dt.date | None = None,
    revision: int | None = None,
    records_revision: int | None = None,
    progress: Callable[[int, int], Any] | None = None,
    geometry: bool = True,
) -> gpd.GeoDataFrame | pd.DataFrame:
    """Minefields joined with their crossref row (DESIGN §5), with geometry.

    The stored, materialised crossref is used for the latest revision with
    no ``as_of``; otherwise the table is recomputed for that state.  With
    ``geometry=False`` and a current stored table, only that table is read
    (no geometries are decoded): the fast path of ``minemap crossref``.
    ``records_revision`` takes the records from that revision and
    everything else from ``revision``: an earlier map against today's finds.
    """
    st = open_store(store)
    require_records(st)
    as_of = as_of_text(as_of)
    latest = st.latest_revision()
    revision = pin_revision(st, revision)
    fresh = (as_of is None and (revision is None or revision == latest)
             and (records_revision is None or records_revision == latest))
    bounds = none_if_empty(st.read("districts", revision=revision))
    if fresh and not geometry and bounds is None:
        # Without boundaries the stored table's districts are the records' own.
        stored, state = st.read_crossref()
        if state == latest:
            return stored
    fields = st.read("minefields",
                     revision=records_revision if records_revision is not None else revision)
    stored, state = st.read_crossref() if fresh else (None, -1)
    if fresh and state == latest and len(stored) == len(fields):
        table = stored
    else:
        releases = st.read("releases", revision=revision)
        items = st.read("items", revision=revision)
        table = crossref_minefields(fields, releases, items, as_of=as_of, progress=progress)
    from minemap.crossref.remaining import fields_with_crossref

    # With boundaries, a field is in the district holding most of it (§12),
    # here and therefore in every table, export and map built on this one.
    return fields_with_crossref(fields, table, bounds)


def crossref(
    store: Store | PathLike | None = None,
    *,
    by: str = "minefield",
    as_of: str | _dt.date | None = None,
    revision: int | None = None,
    records_revision: int | None = None,
    progress: Callable[[int, int], Any] | None = None,
    geometry: bool = True,
    date_from: str | _dt.date | None = None,
    date_to: str | _dt.date | None = None,
) -> pd.DataFrame | gpd.GeoDataFrame:
    """The cross-reference tables of DESIGN §5.

    Parameters
    ----------
    store
        Store or its path.
    by
        ``minefield`` (a GeoDataFrame: the contract columns plus geometry),
        ``district`` or ``handover`` (DataFrames).
    as_of
        Keep releases ending, and items, incidents and reports dated, on or
        before this date.
    revision
        The store (records, releases, items and the rest) as of this
        revision; the latest by default.
    records_revision
        Take the minefield records from this revision instead: how an
        earlier map (before a revised handover replaced it) fares against
        the releases and finds of ``revision``.
    geometry
        ``by="minefield"`` only: include the fields' geometry (a
        GeoDataFrame); ``False`` gives a plain DataFrame, faster.
    date_from, date_to
        ``by="district"`` or ``"handover"``: the period tables of DESIGN §12.
        The state is cumulative at ``date_to``; ``period_released_ha``,
        ``period_cleared_ha``, ``newly_released_ha`` and ``period_found_*``
        are the activity in the period (:mod:`minemap.crossref.periods`), and
        the district table's reports are those inside the period.

    Returns
    -------
    GeoDataFrame or DataFrame
        ``by="handover"`` gives the DESIGN §5 columns, then ``area_ha``, ``released_ha``,
        ``cleared_ha``, ``remaining_est``, ``released_pct`` and
        ``cleared_pct`` (sums over the handover's fields).
    """
    if by not in ("minefield", "district", "handover"):
        raise UsageError(f"--by {by}: choose minefield, district or handover")
    period = None
    if date_from is not None or date_to is not None:
        if by == "minefield":
            raise UsageError("--from/--to give period tables: use --by district or handover")
        period = canonical_period(date_from, date_to)
        if as_of is not None and as_of_text(as_of) != period[1]:
            raise UsageError("--as-of and --to differ: a period table's state is that at --to")
        as_of = period[1]
    st = open_store(store)
    require_records(st)
    revision = pin_revision(st, revision)
    table = minefield_table(st, as_of=as_of, revision=revision,
                            records_revision=records_revision, progress=progress,
                            geometry=geometry or by != "minefield")
    as_of = as_of_text(as_of)
    if by == "minefield":
        if not geometry:
            return pd.DataFrame(table[list(schema.CROSSREF_COLUMNS)])
        cols = [*schema.CROSSREF_COLUMNS, "geometry"]
        return gpd.GeoDataFrame(table[cols], geometry="geometry", crs="EPSG:4326")
    fields = st.read("minefields",
                     revision=records_revision if records_revision is not None else revision)
    items = st.read("items", revision=revision)
    releases = st.read("releases", revision=revision)
    bounds = none_if_empty(st.read("districts", revision=revision))
    if by == "district":
        reps = st.read("reports", revision=revision)
        if period is not None:
            reps = reps[(reps["date_start"].astype(str) >= period[0])
                        & (reps["date_end"].astype(str) <= period[1])]
        table_d = crossref_districts(
            fields, pd.DataFrame(table[list(schema.CROSSREF_COLUMNS)]), releases, items,
            reports=reps, districts=bounds, as_of=as_of,
        )
        if period is None:
            return table_d
        return with_period(table_d, period_table(
            fields, releases, items, by="district", date_from=period[0], date_to=period[1],
            districts=bounds), "district")
    table_h = crossref_handovers(
        fields, items, incidents=st.read("incidents", revision=revision),
        handovers=st.handovers(revision=revision), as_of=as_of,
    )
    # How much of each handover is released, and how much of that cleared:
    # sums of the by-minefield table, beside the accuracy figures.
    sums = pd.DataFrame(table).groupby("handover")[
        ["area_ha", "released_ha", "cleared_ha", "remaining_est"]].sum()
    table_h = table_h.join(sums, on="handover")
    area = table_h["area_ha"].where(table_h["area_ha"] > 0)
    table_h["released_pct"] = 100.0 * table_h["released_ha"] / area
    table_h["cleared_pct"] = 100.0 * table_h["cleared_ha"] / area
    if period is not None:
        table_h = with_period(table_h, period_table(
            fields, releases, items, by="handover", date_from=period[0], date_to=period[1]),
            "handover")
    return table_h


def remaining(
    store: Store | PathLike | None = None,
    *,
    as_of: str | _dt.date | None = None,
    revision: int | None = None,
    include_released: bool = False,
) -> gpd.GeoDataFrame:
    """Remaining hazard: each field minus its released land (DESIGN §12).

    The layer behind ``export --layer remaining``: the polygon of a task
    order with ``remaining_est``, status, counts and mine types
    (:data:`minemap.crossref.remaining.REMAINING_COLUMNS`).  Fields already
    released are left out unless ``include_released``.  The latest state is
    the store's ``remaining`` layer when it is current (the refresh computes
    it with the same functions); any other request is computed.
    """
    from minemap.crossref.remaining import in_order, remaining_hazard

    st = open_store(store)
    require_records(st)
    as_of = as_of_text(as_of)
    latest = st.latest_revision()
    if as_of is None and not include_released and revision in (None, latest):
        stored = st.read_derived("remaining")
        if stored.revision == latest:
            return in_order(stored.frame)
    table = minefield_table(st, as_of=as_of, revision=revision)
    return remaining_hazard(table, st.read("releases", revision=revision), None, as_of=as_of,
                            table=table, include_released=include_released)


def reconcile(
    store: Store | PathLike | None = None, *, as_of: str | _dt.date | None = None
) -> pd.DataFrame:
    """Weekly reports beside the polygon hectares and item counts per period."""
    st = open_store(store)
    require_records(st)
    rev = pin_revision(st, None)
    return reconcile_reports(
        st.read("releases", revision=rev), st.read("items", revision=rev),
        st.read("reports", revision=rev),
        districts=none_if_empty(st.read("districts", revision=rev)), as_of=as_of_text(as_of),
    )


def reports(store: Store | PathLike | None = None) -> pd.DataFrame:
    """The weekly report periods, ``districts`` as lists (None when a report names none).

    Counts are ``Int64`` and ``cleared_ha`` float, missing where the report
    does not state the figure.
    """
    st = open_store(store)
    frame = st.read("reports") if st.exists() else pd.DataFrame(
        columns=list(schema.REPORT_COLUMNS))
    frame = frame.drop(columns=["revision"], errors="ignore").copy()
    # The null rule (DESIGN §9): a figure not stated is missing, never 0, and a
    # report that names no district has ``districts`` None.
    frame["districts"] = [
        [d for d in str(x).split(";") if d] or None if isinstance(x, str) else None
        for x in frame["districts"]
    ]
    for col in ("found_ap", "found_at", "found_uxo"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").round().astype("Int64")
    frame["cleared_ha"] = pd.to_numeric(frame["cleared_ha"], errors="coerce").astype("float64")
    return frame.sort_values(["date_start", "date_end"]).reset_index(drop=True)
