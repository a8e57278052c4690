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
import minemap.export.dispatch as _export
from minemap._errors import UsageError
from minemap.accuracy import (  # noqa: F401 - the API
    apply_offsets,
    offset_outlines,
    offsets,
    suspects,
)
from minemap.crossref import (
    crossref_districts,
    crossref_handovers,
    crossref_minefields,
    reconcile_reports,
    status_timeline,
)
from minemap.crossref.periods import canonical_period, period_table, with_period
from minemap.crossref.placing import place_frame
from minemap.geo.districts import CANONICAL, normalise
from minemap.records import schema
from minemap.records.validate import parse_date
from minemap.store import Store
from minemap.store import open_store as _open_store

PathLike = str | os.PathLike

#: Layers ``export`` can write.
EXPORT_LAYERS = ("minefields", "clearance", "items", "incidents", "districts", "mine_rows",
                 "crossref", "vertices", "remaining", "suspects")
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
    bounds = _none_if_empty(st.read("districts", revision=revision))
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
        if as_of is not None and _as_of(as_of) != period[1]:
            raise UsageError("--as-of and --to differ: a period table's state is that at --to")
        as_of = period[1]
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
    releases = st.read("releases", revision=revision)
    bounds = _none_if_empty(st.read("districts", revision=revision))
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
    _require(st)
    as_of = _as_of(as_of)
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
    _require(st)
    rev = pin_revision(st, None)
    return reconcile_reports(
        st.read("releases", revision=rev), st.read("items", revision=rev),
        st.read("reports", revision=rev),
        districts=_none_if_empty(st.read("districts", revision=rev)), as_of=_as_of(as_of),
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
    if layer == "vertices":
        return _vertices_frame(st, district=district, handover=handover, status=status,
                               as_of=as_of, revision=revision, bbox=bbox)[0]
    district = _district_filter(district)
    as_of_s = _as_of(as_of)
    if layer == "suspects" and status is not None:
        raise UsageError("--status filters minefields, crossref and remaining only")
    if layer == "remaining":
        frame = remaining(st, as_of=as_of_s, revision=revision)
        if status is not None:
            frame = frame[frame["status"] == status]
    elif layer == "suspects":
        frame = suspects(st, as_of=as_of_s, revision=revision)
    elif layer in ("minefields", "crossref"):
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
        if layer != "districts" and "district" in frame.columns:
            frame = place_frame(frame, _none_if_empty(st.read("districts", revision=revision)))
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
        if "district" not in frame:
            raise UsageError(f"--district filters layers with a district, not {layer}")
        frame = frame[frame["district"] == district]
    box = _bbox(bbox)
    if box is not None and len(frame):
        frame = frame[shapely.intersects(np.asarray(frame.geometry.values, dtype=object),
                                         shapely.box(*box))]
    return gpd.GeoDataFrame(frame.reset_index(drop=True), geometry="geometry", crs="EPSG:4326")


def _vertices_frame(st: Store, *, revision: int | None = None, **filters: Any
                    ) -> tuple[gpd.GeoDataFrame, dict[str, list[str]]]:
    """The TP table of the filtered fields (DESIGN §12), and which fell back to the ring."""
    from minemap.export.vertices import tp_table, turning_points

    fields = layer_frame(st, "minefields", revision=revision, **filters)
    points, notes = turning_points(fields, st.read("vertices", revision=revision))
    table = tp_table(points)
    return gpd.GeoDataFrame(table, geometry=points.geometry.values, crs="EPSG:4326"), notes


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
    crs: str | None = None,
    stdout=None,
) -> list[str]:
    """Export layers of the store to a file (format from the extension).

    Parameters
    ----------
    out
        Output path (``.geojson``, ``.gpkg``, ``.shp``/``.zip``, ``.kml``,
        ``.gpx``, ``.csv``, ``.xlsx``) or ``"-"`` for GeoJSON on stdout.
    layers
        Layer names (:data:`EXPORT_LAYERS`); several only for ``.gpkg``.
        ``vertices`` is the turning-point table: each field's TPs in the
        record's order with lat/lon, MGRS and UTM (and ``x``/``y`` in `crs`).
    district, handover, status, as_of, revision, bbox
        Filters, as for :func:`layer_frame`.
    crs
        ``.gpkg``, ``.shp``/``.zip`` and ``.csv``: a projected CRS
        (``"EPSG:32638"``, ``"SK-42"``); the datum transformation used is
        recorded in the file's metadata.  GeoJSON stays RFC 7946 WGS84.

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
    filters = dict(district=district, handover=handover, status=status, as_of=as_of,
                   revision=revision, bbox=bbox)
    frames = {}
    notes_warnings = []
    for layer in layers:
        if layer == "vertices":
            frames[layer], notes = _vertices_frame(st, **filters)
            if notes["from_ring"]:
                notes_warnings.append(
                    f"layer vertices: the store has no vertices (the record's own order) for "
                    f"{len(notes['from_ring'])} field(s); their TPs follow the stored ring")
        else:
            frames[layer] = layer_frame(st, layer, **filters)
    vertices = None
    if str(out).lower().endswith(".gpx"):
        vertices = st.read("vertices", revision=revision)
    return notes_warnings + _export.write(
        frames, out, precision=precision, allow_coarse=allow_coarse, overwrite=overwrite,
        hxl=hxl, csv_geometry=csv_geometry, vertices=vertices, crs=crs, stdout=stdout,
    )


def sheet(
    out: PathLike,
    *,
    store: Store | PathLike | None = None,
    record: str | None = None,
    district: str | None = None,
    handover: str | None = None,
    paper: str = "A4",
    as_of: str | _dt.date | None = None,
    revision: int | None = None,
    overwrite: bool = False,
) -> int:
    """A printable map sheet (PDF) of one record, district or handover (DESIGN §12).

    Parameters
    ----------
    out
        Output ``.pdf``.
    record
        A record id; with `handover` where the id repeats across handovers.
    district, handover
        Or every field of a district or a handover.
    paper
        ``"A4"`` (default) or ``"A3"``.
    as_of, revision
        The state shown, as for :func:`crossref`.
    overwrite
        Replace an existing file.

    Returns
    -------
    int
        The number of pages.
    """
    from minemap.sheets import build_sheet, check_target, write_sheet

    if sum(x is not None for x in (record, district)) + (handover is not None
                                                          and record is None) != 1:
        raise UsageError("give one of --record ID, --district D or --handover H"
                         " (--handover may also narrow --record)")
    check_target(out, overwrite=overwrite)  # before the work, not after
    st = open_store(store)
    _require(st)
    fields = minefield_table(st, as_of=as_of, revision=revision)
    if handover is not None:
        known = set(st.handovers()["handover"])
        if handover not in known:
            raise UsageError(f"--handover {handover!r}: unknown; choose one of "
                             f"{', '.join(sorted(known)) or '(none)'}")
        fields = fields[fields["handover"] == handover]
    if record is not None:
        kind, key = "record", record
        fields = fields[fields["record_id"].astype(str) == record]
        if len(fields) > 1:
            raise UsageError(f"--record {record}: in several handovers "
                             f"({', '.join(sorted(fields['handover']))}); add --handover")
    elif district is not None:
        kind, key = "district", _district_filter(district)
        fields = fields[fields["district"] == key]
    else:
        kind, key = "handover", handover
    if not len(fields):
        raise UsageError(f"--{kind} {key}: no recorded minefield to show")
    w, s_, e, n = fields.total_bounds
    pad = max(e - w, n - s_, 0.005)  # at least about 500 m around
    box = shapely.box(w - pad, s_ - pad, e + pad, n + pad)
    as_of_s = _as_of(as_of)
    near = {}
    for layer, date_col in (("releases", "date_end"), ("items", "date")):
        frame = st.read(layer, revision=revision)
        if as_of_s is not None:
            frame = frame[frame[date_col].astype(str) <= as_of_s]
        near[layer] = frame[shapely.intersects(np.asarray(frame.geometry.values, dtype=object),
                                               box)] if len(frame) else frame
    state = f"store revision {revision if revision is not None else st.latest_revision()}"
    if as_of_s:
        state += f", as of {as_of_s}"
    content = build_sheet(
        kind, str(key), gpd.GeoDataFrame(fields.reset_index(drop=True), geometry="geometry",
                                         crs="EPSG:4326"),
        near["releases"], near["items"],
        vertices=st.read("vertices", revision=revision) if kind == "record" else None,
        handovers=st.handovers(), state=state)
    return write_sheet(content, out, paper=paper, overwrite=overwrite)


def map_frames(
    store: Store | PathLike | None = None,
    *,
    as_of: str | _dt.date | None = None,
    revision: int | None = None,
    shifted: bool = False,
) -> dict[str, Any]:
    """Every frame the map shows, read from the store.

    The keys are the keyword arguments of :func:`minemap.render.page.render_map`
    (``minefields`` first).  ``remaining`` (each field minus its released
    land) and ``suspects`` (suspected areas beyond every map) are included
    when they have rows; with ``shifted``, so are the outlines ``minemap
    offsets`` proposes for every handover whose estimated shift is not zero
    (the store is not changed).
    """
    from minemap.readers.traverse import mine_positions

    st = open_store(store)
    _require(st)
    revision = pin_revision(st, revision)
    as_of_s = _as_of(as_of)
    fields = minefield_table(st, as_of=as_of_s, revision=revision)
    releases = st.read("releases", revision=revision)
    items = st.read("items", revision=revision)
    incidents = st.read("incidents", revision=revision)
    bounds = _none_if_empty(st.read("districts", revision=revision))
    releases, items, incidents = (place_frame(f, bounds) for f in (releases, items, incidents))
    if as_of_s is not None:
        releases = releases[releases["date_end"].astype(str) <= as_of_s]
        items = items[items["date"].astype(str) <= as_of_s]
        incidents = incidents[incidents["date"].astype(str) <= as_of_s]
    rows = st.read("mine_rows", revision=revision)
    timeline = status_timeline(st.read("minefields", revision=revision), releases)
    # The engine opens each field's history with an undated "no releases"
    # row; the map starts every field there anyway.
    timeline = timeline[timeline["date"].astype(str) != ""]
    frames = {
        "minefields": fields,
        "releases": releases,
        "items": items,
        "rows": rows,
        "mine_positions": mine_positions(rows) if len(rows) else None,
        "incidents": incidents,
        "districts": st.read("districts", revision=revision),
        "timeline": timeline,
    }
    left = remaining(st, as_of=as_of_s, revision=revision)
    if len(left):
        frames["remaining"] = left
    areas = suspects(st, as_of=as_of_s, revision=revision)
    if len(areas):
        frames["suspects"] = areas
    if shifted:
        from minemap.accuracy import offset_outlines

        moved = offset_outlines(st, as_of=as_of_s)
        moved = moved[(moved["dx_m"] != 0) | (moved["dy_m"] != 0)]
        if len(moved):
            frames["shifted"] = moved
    return frames


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
        Inline every asset (and local tiles) so the HTML works from ``file://``
        without network; online pages load the same pinned plugin versions.
    basemap
        ``"none"``, ``"osm"``, ``"esri"``, a ``{z}/{x}/{y}`` tile folder or an
        ``.mbtiles`` file (see :mod:`minemap.render.basemap`); checked first.
    **options
        Passed to :func:`minemap.render.page.render_map` (``title``,
        ``display_tolerance_m``, ``choropleth``).
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
