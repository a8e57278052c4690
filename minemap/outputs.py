"""Layers, exports, sheets and maps from the store (DESIGN §7, §8, §12).

Every read of one command is pinned to one revision, so an import landing
meanwhile never mixes two states in one output.  Re-exported by
:mod:`minemap.api`.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from minemap._access import (
    PathLike,
    as_of_text,
    district_filter,
    none_if_empty,
    open_store,
    parse_bbox,
    pin_revision,
    require_records,
)
from minemap._errors import UsageError
from minemap.accuracy import suspects
from minemap.crossref import status_timeline
from minemap.crossref.placing import place_frame

# Not ``import minemap.export.dispatch as _export``: that resolves
# ``minemap.export``, which on the package means the API function and would
# import minemap.api (and so this module) half-way through.
from minemap.export import dispatch as _export
from minemap.records import schema
from minemap.store import Store
from minemap.tables import minefield_table, remaining

#: Layers ``export`` can write.
EXPORT_LAYERS = ("minefields", "clearance", "items", "incidents", "districts", "mine_rows",
                 "crossref", "vertices", "remaining", "suspects")
_STORE_LAYER = {"clearance": "releases"}


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
    require_records(st)
    revision = pin_revision(st, revision)
    if layer == "vertices":
        return _vertices_frame(st, district=district, handover=handover, status=status,
                               as_of=as_of, revision=revision, bbox=bbox)[0]
    district = district_filter(district)
    as_of_s = as_of_text(as_of)
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
            frame = place_frame(frame, none_if_empty(st.read("districts", revision=revision)))
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
    box = parse_bbox(bbox)
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
    require_records(st)
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
    require_records(st)
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
        kind, key = "district", district_filter(district)
        fields = fields[fields["district"] == key]
    else:
        kind, key = "handover", handover
    if not len(fields):
        raise UsageError(f"--{kind} {key}: no recorded minefield to show")
    w, s_, e, n = fields.total_bounds
    pad = max(e - w, n - s_, 0.005)  # at least about 500 m around
    box = shapely.box(w - pad, s_ - pad, e + pad, n + pad)
    as_of_s = as_of_text(as_of)
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
    require_records(st)
    revision = pin_revision(st, revision)
    as_of_s = as_of_text(as_of)
    fields = minefield_table(st, as_of=as_of_s, revision=revision)
    releases = st.read("releases", revision=revision)
    items = st.read("items", revision=revision)
    incidents = st.read("incidents", revision=revision)
    bounds = none_if_empty(st.read("districts", revision=revision))
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
