"""Queries over the store: cross-reference tables, exports and maps.

These are the consumers of DESIGN §4: they read the store (and the
materialised crossref) and never recompute the science themselves beyond
calling :mod:`minemap.crossref` for past ``as_of`` dates or revisions.
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Callable, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

# Imported eagerly: ``minemap.crossref`` and ``minemap.export`` are also the
# names of the public functions bound in ``minemap/__init__``, and a first
# import of a submodule after that binding would replace the function.
import minemap.crossref.engine as _engine
import minemap.export.writers as _writers
from minemap._errors import UsageError
from minemap.geo.districts import CANONICAL, normalise
from minemap.records import schema
from minemap.records.validate import parse_date
from minemap.store import Store
from minemap.store import open_store as _open_store

PathLike = str | os.PathLike

#: Layers ``export`` can write.
EXPORT_LAYERS = ("minefields", "clearance", "items", "incidents", "districts", "mine_rows",
                 "crossref")
_STORE_LAYER = {"clearance": "releases"}


def open_store(store: Store | PathLike | None = None) -> Store:
    """A store from a path or URL, ``$MINEMAP_STORE`` or the default (:func:`minemap.store.open_store`)."""
    return _open_store(store)


def _as_of(value: str | _dt.date | None) -> str | None:
    if value is None or value == "":
        return None
    try:
        d = parse_date(value)
    except ValueError as exc:
        raise UsageError(f"--as-of: {exc}") from None
    return d.isoformat() if d else None


def _require(st: Store) -> None:
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
    _require(st)
    as_of = _as_of(as_of)
    latest = st.latest_revision()
    revision = pin_revision(st, revision)
    fresh = (as_of is None and (revision is None or revision == latest)
             and (records_revision is None or records_revision == latest))
    if fresh and not geometry:
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
        table = _engine.crossref_minefields(fields, releases, items, as_of=as_of,
                                            progress=progress)
    extra = [c for c in table.columns if c not in ("handover", "record_id")]
    base = fields.drop(columns=[c for c in extra if c in fields.columns])
    merged = base.merge(pd.DataFrame(table), on=["handover", "record_id"], how="left")
    return gpd.GeoDataFrame(merged, geometry="geometry", crs="EPSG:4326")


def crossref(
    store: Store | PathLike | None = None,
    *,
    by: str = "minefield",
    as_of: str | _dt.date | None = None,
    revision: int | None = None,
    records_revision: int | None = None,
    progress: Callable[[int, int], Any] | None = None,
    geometry: bool = True,
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

    Returns
    -------
    GeoDataFrame or DataFrame
        ``by="handover"`` gives the DESIGN §5 columns, then
        ``found_outside_in_other_handovers``, ``area_ha``, ``released_ha``,
        ``cleared_ha``, ``remaining_est``, ``released_pct`` and
        ``cleared_pct`` (sums over the handover's fields).
    """
    if by not in ("minefield", "district", "handover"):
        raise UsageError(f"--by {by}: choose minefield, district or handover")
    st = open_store(store)
    _require(st)
    revision = pin_revision(st, revision)
    table = minefield_table(st, as_of=as_of, revision=revision,
                            records_revision=records_revision, progress=progress,
                            geometry=geometry or by != "minefield")
    as_of = _as_of(as_of)
    if by == "minefield":
        if not geometry:
            return pd.DataFrame(table[list(schema.CROSSREF_COLUMNS)])
        cols = [*schema.CROSSREF_COLUMNS, "geometry"]
        return gpd.GeoDataFrame(table[cols], geometry="geometry", crs="EPSG:4326")
    fields = st.read("minefields",
                     revision=records_revision if records_revision is not None else revision)
    items = st.read("items", revision=revision)
    if by == "district":
        return _engine.crossref_districts(
            fields, pd.DataFrame(table[list(schema.CROSSREF_COLUMNS)]),
            st.read("releases", revision=revision), items,
            reports=st.read("reports", revision=revision),
            districts=_none_if_empty(st.read("districts", revision=revision)), as_of=as_of,
        )
    table_h = _engine.crossref_handovers(
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
    return table_h


def reconcile(
    store: Store | PathLike | None = None, *, as_of: str | _dt.date | None = None
) -> pd.DataFrame:
    """Weekly reports beside the polygon hectares and item counts per period."""
    st = open_store(store)
    _require(st)
    rev = pin_revision(st, None)
    return _engine.reconcile_reports(
        st.read("releases", revision=rev), st.read("items", revision=rev),
        st.read("reports", revision=rev),
        districts=_none_if_empty(st.read("districts", revision=rev)), as_of=_as_of(as_of),
    )


def reports(store: Store | PathLike | None = None) -> pd.DataFrame:
    """The weekly report periods, ``districts`` as lists."""
    st = open_store(store)
    frame = st.read("reports") if st.exists() else pd.DataFrame(
        columns=list(schema.REPORT_COLUMNS))
    frame = frame.drop(columns=["revision"], errors="ignore").copy()
    frame["districts"] = [[d for d in str(x).split(";") if d] for x in frame["districts"]]
    return frame.sort_values(["date_start", "date_end"]).reset_index(drop=True)


def _none_if_empty(frame):
    return frame if frame is not None and len(frame) else None


def _district_filter(district: str | None) -> str | None:
    if district is None:
        return None
    canon = normalise(district)
    if canon is None:
        raise UsageError(f"--district {district!r}: unknown; choose one of {', '.join(CANONICAL)}")
    return canon


def _bbox(bbox: Sequence[float] | str | None) -> tuple[float, float, float, float] | None:
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


def layer_frame(
    store: Store | PathLike | None,
    layer: str,
    *,
    district: str | None = None,
    handover: str | None = None,
    status: str | None = None,
    as_of: str | _dt.date | None = None,
    revision: int | None = None,
    bbox: Sequence[float] | str | None = None,
) -> gpd.GeoDataFrame:
    """One layer of the store, filtered as ``export`` filters it."""
    if layer not in EXPORT_LAYERS:
        raise UsageError(f"--layer {layer}: choose one of {', '.join(EXPORT_LAYERS)}")
    if status is not None and status not in schema.STATUSES:
        raise UsageError(f"--status {status}: choose one of {', '.join(schema.STATUSES)}")
    st = open_store(store)
    _require(st)
    revision = pin_revision(st, revision)
    district = _district_filter(district)
    as_of_s = _as_of(as_of)
    if layer in ("minefields", "crossref") or status is not None and layer == "minefields":
        frame = minefield_table(st, as_of=as_of_s, revision=revision)
        if layer == "crossref":
            keep = [*schema.CROSSREF_COLUMNS, "revision", "geometry"]
            frame = frame[keep]
        if status is not None:
            frame = frame[frame["status"] == status]
    else:
        if status is not None:
            raise UsageError("--status filters minefields and crossref only")
        frame = st.read(_STORE_LAYER.get(layer, layer), revision=revision)
        if as_of_s is not None:
            col = {"clearance": "date_end", "items": "date", "incidents": "date"}.get(layer)
            if col:
                frame = frame[frame[col].astype(str) <= as_of_s]
    if layer == "minefields":
        frame = frame.drop(columns=[c for c in schema.CROSSREF_COLUMNS
                                    if c not in schema.MINEFIELD_COLUMNS and c in frame
                                    and c not in ("status",)], errors="ignore")
    if handover is not None:
        if "handover" not in frame:
            raise UsageError(f"--handover filters layers with a handover, not {layer}")
        known = set(st.handovers(revision=revision)["handover"])
        if handover not in known:
            raise UsageError(f"--handover {handover!r}: unknown; choose one of "
                             f"{', '.join(sorted(known)) or '(none)'}")
        frame = frame[frame["handover"] == handover]
    if district is not None:
        frame = frame[frame["district"] == district]
    box = _bbox(bbox)
    if box is not None and len(frame):
        frame = frame[shapely.intersects(np.asarray(frame.geometry.values, dtype=object),
                                         shapely.box(*box))]
    return gpd.GeoDataFrame(frame.reset_index(drop=True), geometry="geometry", crs="EPSG:4326")


def export(
    out: PathLike,
    *,
    store: Store | PathLike | None = None,
    layers: Sequence[str] | str = ("minefields",),
    district: str | None = None,
    handover: str | None = None,
    status: str | None = None,
    as_of: str | _dt.date | None = None,
    revision: int | None = None,
    bbox: Sequence[float] | str | None = None,
    precision: int | None = None,
    allow_coarse: bool = False,
    overwrite: bool = False,
    hxl: bool = False,
    csv_geometry: str = "wkt",
    stdout=None,
) -> list[str]:
    """Export layers of the store to a file (format from the extension).

    Returns
    -------
    list of str
        Warnings (an empty result, a coarse precision, …).
    """
    if isinstance(layers, str):
        layers = [layers]
    st = open_store(store)
    _require(st)
    revision = pin_revision(st, revision)
    frames = {
        layer: layer_frame(st, layer, district=district, handover=handover, status=status,
                           as_of=as_of, revision=revision, bbox=bbox)
        for layer in layers
    }
    vertices = None
    if str(out).lower().endswith(".gpx"):
        vertices = st.read("vertices", revision=revision)
    return _writers.write(
        frames, out, precision=precision, allow_coarse=allow_coarse, overwrite=overwrite,
        hxl=hxl, csv_geometry=csv_geometry, vertices=vertices, stdout=stdout,
    )


def map_frames(
    store: Store | PathLike | None = None,
    *,
    as_of: str | _dt.date | None = None,
    revision: int | None = None,
) -> dict[str, Any]:
    """Every frame the map shows, read from the store."""
    from minemap.readers.traverse import mine_positions

    st = open_store(store)
    _require(st)
    revision = pin_revision(st, revision)
    as_of_s = _as_of(as_of)
    fields = minefield_table(st, as_of=as_of_s, revision=revision)
    releases = st.read("releases", revision=revision)
    items = st.read("items", revision=revision)
    incidents = st.read("incidents", revision=revision)
    if as_of_s is not None:
        releases = releases[releases["date_end"].astype(str) <= as_of_s]
        items = items[items["date"].astype(str) <= as_of_s]
        incidents = incidents[incidents["date"].astype(str) <= as_of_s]
    rows = st.read("mine_rows", revision=revision)
    timeline = _engine.status_timeline(st.read("minefields", revision=revision), releases)
    # The engine opens each field's history with an undated "no releases"
    # row; the map starts every field there anyway.
    timeline = timeline[timeline["date"].astype(str) != ""]
    return {
        "minefields": fields,
        "releases": releases,
        "items": items,
        "rows": rows,
        "mine_positions": mine_positions(rows) if len(rows) else None,
        "incidents": incidents,
        "districts": st.read("districts", revision=revision),
        "timeline": timeline,
    }


def render_map(
    store: Store | PathLike | None = None,
    *,
    as_of: str | _dt.date | None = None,
    revision: int | None = None,
    offline: bool = False,
    basemap: str | None = None,
    **options,
):
    """An interactive folium map of the store (displays in Jupyter).

    Parameters
    ----------
    store
        Store or its path.
    as_of, revision
        The state to show.
    offline
        Inline every asset so the HTML works from ``file://`` without network.
    basemap
        A local tile folder template ``path/{z}/{x}/{y}.png``.
    """
    from minemap.render import page as render

    frames = map_frames(store, as_of=as_of, revision=revision)
    return render.render_map(frames.pop("minefields"), **frames, offline=offline,
                             basemap=basemap, **options)


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
    _require(st)
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
    _require(st)
    with st.snapshot() as view:
        return record_diff(view, revision)


def upgrade_store(store: Store | PathLike | None = None) -> str | None:
    """Migrate a store written by an older minemap to this version's schema.

    The old store is kept as a backup file beside it (its name is returned);
    ``None`` means the store was already current.  Other commands refuse an
    older store with a one-line message that names this function's command,
    ``minemap upgrade-store``.
    """
    return open_store(store).upgrade()
