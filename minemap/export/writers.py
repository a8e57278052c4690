"""Export layers to GeoJSON, GeoPackage (with QGIS styles), Shapefile, KML, GPX and CSV.

The writers are consumers of the store: they receive frames that the caller
has already queried and filtered (district, handover, status, as-of,
revision, bbox) and never recompute the science.  The output format is
chosen from the extension of the output path (:data:`FORMATS`).

Every format gets the same geometry treatment (:func:`prepare_geometries`):
coordinates are snapped to a grid of ``10**-precision`` degrees with
:func:`shapely.set_precision`, validity is re-checked (a snapped geometry
that became invalid is redone with GEOS' validity-preserving mode), and
polygons are oriented RFC 7946 style (exteriors counter-clockwise, holes
clockwise).  Files are written to a temporary name in the output directory
and moved into place with :func:`os.replace`, so that a failed export never
leaves a half-written file.

The bulky ``raw`` column (the record as received) is kept in GeoJSON and
GeoPackage and dropped from Shapefile, KML, GPX and CSV.
"""

from __future__ import annotations

import csv
import datetime as _dt
import html
import io
import json
import math
import os
import re
import secrets
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import IO, Any
from xml.etree import ElementTree as ET

import geopandas
import numpy as np
import pandas as pd
import pyogrio
import shapely

from minemap import settings
from minemap._errors import DataError, Problem, UsageError

__all__ = [
    "FORMATS",
    "LAYERS",
    "ID_COLUMNS",
    "SHAPEFILE_FIELD_NAMES",
    "HXL_TAGS",
    "write",
    "to_geojson_dict",
    "prepare_geometries",
    "shapefile_field_names",
    "hxl_tags",
    "style_for",
]

#: Output extension → format name.  ``-`` (stdout) is GeoJSON.
FORMATS: dict[str, str] = {
    ".geojson": "geojson",
    ".json": "geojson",
    ".geojsons": "geojsonseq",
    ".gpkg": "gpkg",
    ".shp": "shapefile",
    ".zip": "shapefile-zip",
    ".kml": "kml",
    ".gpx": "gpx",
    ".csv": "csv",
}

#: Layers that can be exported (DESIGN §5, ``minemap export --layer``).
LAYERS: tuple[str, ...] = (
    "minefields", "clearance", "items", "incidents", "districts", "mine_rows", "crossref",
)

#: Column identifying a feature of each layer, used in names and messages.
ID_COLUMNS: dict[str, str] = {
    "minefields": "record_id",
    "crossref": "record_id",
    "mine_rows": "record_id",
    "clearance": "report_id",
    "items": "item_id",
    "incidents": "incident_id",
    "districts": "district",
}

#: Geometry type declared for an empty layer (OGR formats need one).
_EMPTY_GEOMETRY_TYPE: dict[str, str] = {
    "minefields": "Polygon",
    "crossref": "Polygon",
    "clearance": "Polygon",
    "districts": "Polygon",
    "items": "Point",
    "incidents": "Point",
    "mine_rows": "LineString",
}

#: Columns holding counts: integral values are written as integers even when
#: the column is float (because of missing values or apportioned counts).
COUNT_COLUMNS: frozenset[str] = frozenset({
    "mines_ap", "mines_at", "mines_total", "mines", "row", "vertex", "killed", "injured",
    "found_mines", "remaining_est", "found_ap", "found_at", "found_uxo", "minefields",
    "mines_recorded", "found_inside", "found_outside", "incidents_inside",
    "incidents_outside", "revision",
})

#: Explicit, stable Shapefile (dBASE, 10-byte) names of known long columns.
#: Any other long name is cut to 10 bytes, with ``_1``, ``_2`` … on collision.
SHAPEFILE_FIELD_NAMES: dict[str, str] = {
    "mines_total": "mines_tot",
    "reliability": "reliab",
    "source_file": "src_file",
    "source_crs": "src_crs",
    "transformation": "transform",
    "misclosure_m": "miscl_m",
    "misclosure_ratio": "miscl_rat",
    "declination_deg": "decl_deg",
    "incident_id": "incid_id",
    "released_ha": "rel_ha",
    "released_pct": "rel_pct",
    "cleared_ha": "clr_ha",
    "cleared_pct": "clr_pct",
    "found_mines": "fnd_mines",
    "remaining_est": "remain_est",
    "last_release_date": "last_rel_d",
    "handover_date": "hand_date",
    "mines_recorded": "mines_rec",
    "found_inside": "found_in",
    "found_outside": "found_out",
    "accuracy_pct": "acc_pct",
    "outside_within_25m_pct": "out_25m_pc",
    "outside_within_50m_pct": "out_50m_pc",
    "outside_within_100m_pct": "out_100m_p",
    "outside_median_m": "out_med_m",
    "incidents_inside": "inc_in",
    "incidents_outside": "inc_out",
}

#: HXL hashtags of known columns (CSV with ``hxl=True``).  The layer's own id
#: column (:data:`ID_COLUMNS`) is tagged ``#meta+id``; unknown columns get
#: ``#meta+<name>``.
HXL_TAGS: dict[str, str] = {
    "record_id": "#meta+record_id",
    "report_id": "#meta+report_id",
    "item_id": "#meta+item_id",
    "incident_id": "#meta+incident_id",
    "handover": "#meta+handover",
    "handover_date": "#date+handover",
    "district": "#adm2+name",
    "mines_ap": "#indicator+mines+ap+num",
    "mines_at": "#indicator+mines+at+num",
    "mines_total": "#indicator+mines+total+num",
    "mine_types": "#item+type+mine",
    "laid_date": "#date+laid",
    "reliability": "#meta+reliability",
    "area_ha": "#indicator+area+ha+num",
    "flags": "#meta+flags",
    "source_file": "#meta+source",
    "source_crs": "#meta+crs",
    "transformation": "#meta+transformation",
    "misclosure_m": "#indicator+misclosure+m+num",
    "misclosure_ratio": "#indicator+misclosure+ratio+num",
    "declination_deg": "#indicator+declination+deg+num",
    "revision": "#meta+revision",
    "released_ha": "#indicator+released+ha+num",
    "released_pct": "#indicator+released+pct",
    "cleared_ha": "#indicator+cleared+ha+num",
    "cleared_pct": "#indicator+cleared+pct",
    "found_mines": "#indicator+mines+found+num",
    "remaining_est": "#indicator+mines+remaining+num",
    "status": "#status",
    "last_release_date": "#date+released",
    "date_start": "#date+start",
    "date_end": "#date+end",
    "date": "#date",
    "operator": "#org+impl",
    "method": "#activity+method",
    "outcome": "#activity+outcome",
    "found_ap": "#indicator+found+ap+num",
    "found_at": "#indicator+found+at+num",
    "found_uxo": "#indicator+found+uxo+num",
    "item_type": "#item+type",
    "model": "#item+model",
    "killed": "#affected+killed+num",
    "injured": "#affected+injured+num",
    "civilian": "#affected+civilian",
    "row": "#meta+row",
    "mines": "#indicator+mines+num",
    "mine_type": "#item+type+mine",
    "spacing_m": "#indicator+spacing+m+num",
    "wkt": "#geo+wkt",
    "lon": "#geo+lon",
    "lat": "#geo+lat",
}

# Colours (RGB) shared by the KML styles and the hand-written QML files
# (tests check that both agree).  Values outside the known categories get
# _OTHER, a conspicuous colour: an unexpected status must never be hidden.
CATEGORY_COLOURS: dict[str, dict[str, tuple[int, int, int]]] = {
    "status": {
        "not_started": (227, 26, 28),
        "in_progress": (255, 127, 0),
        "released": (51, 160, 44),
    },
    "outcome": {
        "cleared": (51, 160, 44),
        "reduced": (178, 223, 138),
        "cancelled": (166, 206, 227),
    },
    "item_type": {
        "AP": (227, 26, 28),
        "AT": (128, 0, 38),
        "UXO": (255, 127, 0),
    },
}
OTHER_COLOUR: tuple[int, int, int] = (106, 61, 154)
SINGLE_COLOURS: dict[str, tuple[int, int, int]] = {
    "minefields": (227, 26, 28),
    "crossref": (227, 26, 28),
    "incidents": (0, 0, 0),
    "districts": (80, 80, 80),
    "mine_rows": (227, 26, 28),
}

_RAW_COLUMN = "raw"
_STYLE_PACKAGE = "minemap"
_CHUNK = 20_000
# Characters that XML 1.0 cannot carry at all, even escaped.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
# Stale spatial indexes of an overwritten shapefile would make GIS software
# skip features, so they are removed along with the old set.
_SHAPEFILE_STALE = (".qix", ".sbn", ".sbx")
_DBF_MAX_BYTES = 254


# --------------------------------------------------------------------------- public


def write(
    layers: dict[str, geopandas.GeoDataFrame],
    path: str | os.PathLike,
    *,
    precision: int | None = None,
    allow_coarse: bool = False,
    overwrite: bool = False,
    hxl: bool = False,
    csv_geometry: str = "wkt",
    vertices: geopandas.GeoDataFrame | None = None,
    stdout: IO[str] | None = None,
) -> list[str]:
    """Write layers to a file whose format is chosen from its extension.

    Parameters
    ----------
    layers
        ``{layer_name: frame}`` with layer names from :data:`LAYERS` and
        frames in EPSG:4326 (other CRSs are transformed).  Every format but
        GeoPackage takes exactly one layer.
    path
        Output file; its extension selects the format (:data:`FORMATS`).
        ``"-"`` writes GeoJSON to `stdout`.
    precision
        Decimal places of the coordinates (default
        ``settings.geojson_precision``, 6).  Below ``settings.min_precision``
        (5, about 1 m) it is refused unless `allow_coarse`.
    allow_coarse
        Accept a precision below 5 decimals, with a warning.
    overwrite
        Replace an existing output (the whole file: GeoPackage layers are
        never appended to an existing file).
    hxl
        CSV only: add the HXL hashtag row as the second line.
    csv_geometry
        CSV only: ``"wkt"`` (a ``wkt`` column) or ``"centroid"`` (``lon`` and
        ``lat`` columns).
    vertices
        GPX only: the ``vertices`` layer (``schema.VERTEX_COLUMNS``); turning
        points are taken from it when it has the field, else from the
        polygon's exterior ring.
    stdout
        Text stream for ``path="-"`` (default ``sys.stdout``).

    Returns
    -------
    list of str
        Warnings (empty layers, coarse precision, collapsed geometries, …),
        one line each.

    Raises
    ------
    UsageError
        Unknown extension or layer, wrong number of layers, existing output
        without `overwrite`, missing output directory, refused precision.
        Nothing is written.
    DataError
        A geometry could not be made valid at the requested precision.
        Nothing is written.
    """
    to_stdout = os.fspath(path) == "-"
    out = Path(os.fspath(path))
    fmt = "geojson" if to_stdout else _format_of(out)
    _check_layers(layers, fmt)
    if csv_geometry not in ("wkt", "centroid"):
        raise UsageError(f"csv_geometry must be 'wkt' or 'centroid', not {csv_geometry!r}")
    precision, warnings = _check_precision(precision, allow_coarse=allow_coarse)
    label = "<stdout>" if to_stdout else out.name
    if not to_stdout:
        _check_target(out, fmt, overwrite=overwrite)
    if hxl and fmt != "csv":
        warnings.append(f"{label}: hxl applies to CSV only; ignored")
    if csv_geometry != "wkt" and fmt != "csv":
        warnings.append(f"{label}: csv_geometry applies to CSV only; ignored")
    if vertices is not None and fmt != "gpx":
        warnings.append(f"{label}: vertices are used by GPX only; ignored")

    prepared: dict[str, tuple[geopandas.GeoDataFrame, np.ndarray]] = {}
    for name, gdf in layers.items():
        frame = _as_wgs84(gdf, label, name)
        geoms, geom_warnings = prepare_geometries(
            frame.geometry.values, precision=precision, ids=_ids(frame, name),
            file=label, layer=name,
        )
        warnings.extend(geom_warnings)
        if len(frame) == 0:
            warnings.append(f"{label}: layer {name}: no features; wrote an empty layer")
        prepared[name] = (frame, geoms)

    if to_stdout:
        (name, (frame, geoms)), = prepared.items()
        stream = stdout if stdout is not None else sys.stdout
        _write_geojson(stream, frame, geoms, name)
        stream.flush()
        return warnings

    if fmt in ("geojson", "geojsonseq"):
        (name, (frame, geoms)), = prepared.items()
        writer = _write_geojson if fmt == "geojson" else _write_geojsonseq
        with _atomic_text(out) as fh:
            writer(fh, frame, geoms, name)
    elif fmt == "gpkg":
        _write_gpkg(out, prepared)
    elif fmt in ("shapefile", "shapefile-zip"):
        (name, (frame, geoms)), = prepared.items()
        warnings.extend(_write_shapefile(out, frame, geoms, name, zipped=fmt == "shapefile-zip",
                                         overwrite=overwrite))
    elif fmt == "kml":
        (name, (frame, geoms)), = prepared.items()
        with _atomic_text(out) as fh:
            _write_kml(fh, frame, geoms, name, precision)
    elif fmt == "gpx":
        (name, (frame, geoms)), = prepared.items()
        with _atomic_text(out) as fh:
            warnings.extend(_write_gpx(fh, frame, name, precision, vertices, out.name))
    elif fmt == "csv":
        (name, (frame, geoms)), = prepared.items()
        with _atomic_text(out) as fh:
            _write_csv(fh, frame, geoms, name, precision, hxl=hxl, geometry=csv_geometry)
    return warnings


def to_geojson_dict(
    gdf: geopandas.GeoDataFrame,
    *,
    precision: int = 6,
    allow_coarse: bool = False,
    layer: str = "minefields",
) -> dict:
    """The RFC 7946 FeatureCollection of a frame, as written by :func:`write`.

    Parameters
    ----------
    gdf
        Frame in EPSG:4326 (other CRSs are transformed).
    precision
        Decimal places; below 5 refused unless `allow_coarse`.
    allow_coarse
        Accept a precision below 5 decimals.
    layer
        Layer name, used only to name records in error messages.

    Returns
    -------
    dict
        ``{"type": "FeatureCollection", "features": [...]}`` with no ``crs``
        member, polygons oriented RFC 7946 style, counts as integers and
        missing values as ``None``.
    """
    precision, _ = _check_precision(precision, allow_coarse=allow_coarse)
    frame = _as_wgs84(gdf, "<geojson>", layer)
    geoms, _ = prepare_geometries(frame.geometry.values, precision=precision,
                                  ids=_ids(frame, layer), file="<geojson>", layer=layer)
    buf = io.StringIO()
    _write_geojson(buf, frame, geoms, layer)
    return json.loads(buf.getvalue())


def prepare_geometries(
    geoms: Any,
    *,
    precision: int,
    ids: Sequence[str] | None = None,
    file: str = "<export>",
    layer: str = "",
) -> tuple[np.ndarray, list[str]]:
    """Snap geometries to ``10**-precision`` degrees, keep them valid, orient them.

    Snapping is done point by point (fast, and it keeps the vertex order);
    any geometry that this makes invalid, such as a ring touching itself, is
    redone with :func:`shapely.set_precision`'s validity-preserving mode,
    after repairing it with :func:`shapely.make_valid` if the input itself was
    invalid (with a warning naming the record).

    Parameters
    ----------
    geoms
        Array-like of shapely geometries (None allowed).
    precision
        Decimal places.
    ids
        Record identifiers for the warnings, one per geometry.
    file, layer
        Names used in warnings and errors.

    Returns
    -------
    geoms : numpy.ndarray
        Valid geometries on the grid, exterior rings counter-clockwise and
        holes clockwise.
    warnings : list of str
        Repaired or collapsed geometries, naming the record.

    Raises
    ------
    DataError
        A geometry is still invalid after snapping in validity-preserving
        mode.
    """
    geoms = np.asarray(geoms, dtype=object)
    if ids is None:
        ids = [f"feature {i + 1}" for i in range(len(geoms))]
    warnings: list[str] = []
    if len(geoms) == 0:
        return geoms, warnings
    grid = 10.0 ** -precision
    missing = shapely.is_missing(geoms)
    empty_in = missing | shapely.is_empty(geoms)

    out = shapely.set_precision(geoms, grid, mode="pointwise")
    out = _remove_repeated(out)
    redo = np.flatnonzero(~shapely.is_valid(out) & ~missing)
    if len(redo):
        # Validity of the inputs is only looked at here, where snapping did
        # not give a valid result: checking every input would cost a pass.
        for i in redo:
            src = geoms[i]
            try:
                if not shapely.is_valid(src):
                    reason = shapely.is_valid_reason(src)
                    src = _repair(src)
                    warnings.append(str(Problem(file, ids[i], f"layer {layer}: invalid "
                                                f"geometry ({reason}) repaired with make_valid",
                                                "warning")))
                out[i] = shapely.set_precision(src, grid, mode="valid_output")
            except shapely.errors.GEOSException as exc:
                raise DataError(str(Problem(file, ids[i], f"layer {layer}: geometry cannot "
                                            f"be made valid: {exc}"))) from None
            if not shapely.is_valid(out[i]):
                raise DataError(str(Problem(
                    file, ids[i], f"layer {layer}: geometry is invalid at precision "
                    f"{precision} ({shapely.is_valid_reason(out[i])})")))
    collapsed = shapely.is_empty(out) & ~empty_in
    for i in np.flatnonzero(collapsed):
        warnings.append(str(Problem(file, ids[i], f"layer {layer}: geometry collapsed to "
                                    f"empty at precision {precision}", "warning")))
    out = shapely.orient_polygons(out, exterior_cw=False)
    return out, warnings


def shapefile_field_names(columns: Iterable[str]) -> dict[str, str]:
    """The stable mapping of column names to dBASE field names (≤ 10 bytes).

    Names that fit are kept; known long names use
    :data:`SHAPEFILE_FIELD_NAMES`; others are cut to 10 bytes of UTF-8.  A
    name that collides (case-insensitively, as dBASE does) with one already
    taken gets ``_1``, ``_2`` … in its last bytes.  The mapping depends only
    on the column names and their order.

    Parameters
    ----------
    columns
        Column names in order.

    Returns
    -------
    dict
        ``{full_name: short_name}`` in column order.
    """
    columns = list(columns)
    taken: set[str] = set()
    result: dict[str, str] = {}
    # Names that already fit are claimed first, so they never change because
    # some other column's shortened name happens to come earlier.
    for name in columns:
        if len(name.encode("utf-8")) <= 10 and name.lower() not in taken:
            result[name] = name
            taken.add(name.lower())
    for name in columns:
        if name in result:
            continue
        base = SHAPEFILE_FIELD_NAMES.get(name) or _cut_utf8(name, 10)
        short = base
        n = 0
        while short.lower() in taken:
            n += 1
            suffix = f"_{n}"
            short = _cut_utf8(base, 10 - len(suffix)) + suffix
        result[name] = short
        taken.add(short.lower())
    return {name: result[name] for name in columns}


def _cut_utf8(name: str, nbytes: int) -> str:
    """The longest prefix of `name` whose UTF-8 encoding fits in `nbytes`."""
    out = name.encode("utf-8")[:nbytes].decode("utf-8", "ignore")
    return out


def hxl_tags(columns: Iterable[str], layer: str) -> list[str]:
    """HXL hashtags of CSV columns (see :data:`HXL_TAGS`)."""
    tags = []
    for name in columns:
        if name == ID_COLUMNS.get(layer) and name != "district":
            tags.append("#meta+id")
        elif name in HXL_TAGS:
            tags.append(HXL_TAGS[name])
        else:
            attr = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_") or "column"
            if not attr[0].isalpha():
                attr = "x" + attr
            tags.append(f"#meta+{attr}")
    return tags


def style_for(layer: str, columns: Iterable[str]) -> tuple[str, str | None]:
    """The QML style file of a layer and the attribute it categorises on.

    Fields are coloured by ``status`` when the frame has it; minefields
    without status get a single hazard style; releases are coloured by
    ``outcome`` and items by ``item_type``.

    Returns
    -------
    tuple
        ``(qml_file_name, attribute or None)``.
    """
    columns = set(columns)
    if layer in ("minefields", "crossref"):
        if "status" in columns:
            return "status.qml", "status"
        return "minefields.qml", None
    if layer == "clearance":
        return "clearance.qml", "outcome"
    if layer == "items":
        return "items.qml", "item_type"
    return f"{layer}.qml", None


def read_style(name: str) -> str:
    """The text of a QML file shipped in ``minemap/styles``."""
    return (resources.files(_STYLE_PACKAGE) / "styles" / name).read_text(encoding="utf-8")


# --------------------------------------------------------------------------- checks


def _format_of(path: Path) -> str:
    ext = path.suffix.lower()
    if ext not in FORMATS:
        valid = ", ".join(FORMATS)
        raise UsageError(f"{path}: unknown output extension {ext or '(none)'!r}; "
                         f"valid extensions: {valid} (or '-' for GeoJSON on stdout)")
    return FORMATS[ext]


def _check_layers(layers: dict[str, Any], fmt: str) -> None:
    if not isinstance(layers, dict) or not layers:
        raise UsageError("no layer to export; valid layers: " + ", ".join(LAYERS))
    for name in layers:
        if name not in LAYERS:
            raise UsageError(f"unknown layer {name!r}; valid layers: {', '.join(LAYERS)}")
    if fmt != "gpkg" and len(layers) != 1:
        raise UsageError(f"{fmt} output takes exactly one layer, got {len(layers)} "
                         f"({', '.join(layers)}); use .gpkg for several layers")


def _check_precision(precision: int | None, *, allow_coarse: bool) -> tuple[int, list[str]]:
    if precision is None:
        precision = settings.geojson_precision
    if isinstance(precision, bool) or not isinstance(precision, (int, np.integer)):
        raise UsageError(f"precision must be a whole number of decimals, not {precision!r}")
    precision = int(precision)
    if not 0 <= precision <= 15:
        raise UsageError(f"precision must be between 0 and 15 decimals, not {precision}")
    warnings = []
    if precision < settings.min_precision:
        metres = 111_320 * 10.0 ** -precision
        if not allow_coarse:
            raise UsageError(
                f"precision {precision} is coarser than {settings.min_precision} decimals "
                f"(a grid of about {metres:g} m can move a hazard boundary inward); "
                f"use allow_coarse (--allow-coarse) to export anyway")
        warnings.append(
            f"precision {precision} decimals: coordinates snapped to about {metres:g} m; "
            f"for hazard polygons this is a safety decision (boundaries may move inward "
            f"by up to about {metres * 0.71:g} m)")
    return precision, warnings


def _targets(path: Path, fmt: str) -> list[Path]:
    if fmt == "shapefile":
        return [path.with_suffix(ext) for ext in _SHAPEFILE_PARTS] + [_sidecar(path)]
    return [path]


def _sidecar(shp: Path) -> Path:
    return shp.with_name(shp.stem + ".fieldnames.csv")


def _check_target(path: Path, fmt: str, *, overwrite: bool) -> None:
    parent = path.parent
    if not parent.is_dir():
        raise UsageError(f"output directory does not exist: {parent}")
    if path.is_dir():
        raise UsageError(f"output path is a directory: {path}")
    if not os.access(parent, os.W_OK):
        raise UsageError(f"output directory is not writable: {parent}")
    if not overwrite:
        for target in _targets(path, fmt):
            if target.exists():
                raise UsageError(f"{target} exists; pass --overwrite to replace it")


def _as_wgs84(gdf: Any, file: str, layer: str) -> geopandas.GeoDataFrame:
    if not isinstance(gdf, geopandas.GeoDataFrame):
        raise UsageError(f"layer {layer}: expected a GeoDataFrame, got {type(gdf).__name__}")
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    elif gdf.crs is None and len(gdf):
        b = shapely.total_bounds(gdf.geometry.values)
        if np.isfinite(b).all() and (b[0] < -180 or b[2] > 180 or b[1] < -90 or b[3] > 90):
            raise DataError(f"{file}: layer {layer}: frame has no CRS and coordinates outside "
                            f"longitude/latitude range {tuple(float(v) for v in b)}")
    return gdf


class _Ids:
    """Record names for messages, looked up only when a message needs one."""

    def __init__(self, frame: pd.DataFrame, layer: str) -> None:
        col = ID_COLUMNS.get(layer)
        self._values = frame[col] if col and col in frame.columns else None
        self._n = len(frame)

    def __len__(self) -> int:
        return self._n

    def __iter__(self) -> Iterator[str]:
        if self._values is None:
            return (f"feature {i + 1}" for i in range(self._n))
        vals = self._values.tolist()
        return (str(v) if _present(v) and str(v) else f"feature {i + 1}"
                for i, v in enumerate(vals))

    def __getitem__(self, i: int) -> str:
        v = self._values.iloc[int(i)] if self._values is not None else None
        return str(v) if _present(v) and str(v) else f"feature {int(i) + 1}"


def _ids(frame: pd.DataFrame, layer: str) -> _Ids:
    return _Ids(frame, layer)


def _present(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return False
    return not (isinstance(v, float) and math.isnan(v))


# --------------------------------------------------------------------------- geometry


def _repair(geom: shapely.Geometry) -> shapely.Geometry:
    try:
        fixed = shapely.make_valid(geom)
    except shapely.errors.GEOSException:
        # Degenerate rings (e.g. a shell collapsed to a point beside a real
        # hole) defeat the linework method; the structure method drops them.
        fixed = shapely.make_valid(geom, method="structure", keep_collapsed=False)
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        # Keep the polygonal part, as the readers do (geometry.polygonal);
        # importing minemap.geo.geometry would pull pyproj transformers for nothing.
        if fixed.geom_type == "GeometryCollection":
            parts = [g for g in shapely.get_parts(fixed)
                     if g.geom_type in ("Polygon", "MultiPolygon")]
            fixed = shapely.union_all(parts) if parts else shapely.Polygon()
    return fixed


def _remove_repeated(geoms: np.ndarray) -> np.ndarray:
    """Drop consecutive duplicate vertices created by snapping, where there are any."""
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    if len(coords) < 2:
        return geoms
    dup = (coords[1:] == coords[:-1]).all(axis=1) & (index[1:] == index[:-1])
    if not dup.any():
        return geoms
    # A ring's closing point equals the next ring's first point only by
    # accident; such false positives just cost a no-op call.
    which = np.unique(index[1:][dup])
    geoms = geoms.copy()
    try:
        geoms[which] = shapely.remove_repeated_points(geoms[which], 0.0)
    except shapely.errors.GEOSException:
        # A ring that collapsed to fewer than 3 distinct points cannot be
        # rebuilt; it is left as it is and, being invalid, redone by the caller.
        for i in which:
            try:
                geoms[i] = shapely.remove_repeated_points(geoms[i], 0.0)
            except shapely.errors.GEOSException:
                pass
    return geoms


def _fmt(v: float, precision: int) -> str:
    s = f"{v:.{precision}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s == "-0" else s


# --------------------------------------------------------------------------- values


def _column_values(s: pd.Series, name: str) -> list:
    """Python values of a column for JSON/CSV/KML: None for missing, ISO dates,
    integral counts as int."""
    dtype = s.dtype
    n = len(s)
    if n == 0:
        return []
    if isinstance(dtype, pd.DatetimeTZDtype) or dtype.kind == "M":
        return _iso_datetimes(s)
    if pd.api.types.is_bool_dtype(dtype):
        mask = s.isna().to_numpy()
        vals = s.to_numpy(dtype=object, na_value=None).tolist()
        return [None if m else bool(v) for v, m in zip(vals, mask)]
    if pd.api.types.is_integer_dtype(dtype):
        mask = s.isna().to_numpy()
        vals = s.to_numpy(dtype="int64", na_value=0).tolist()
        if mask.any():
            for i in np.flatnonzero(mask):
                vals[i] = None
        return vals
    if pd.api.types.is_float_dtype(dtype):
        a = s.to_numpy(dtype="float64", na_value=np.nan)
        bad = ~np.isfinite(a)
        vals = a.tolist()
        if name in COUNT_COLUMNS:
            integral = ~bad & (np.floor(a) == a) & (np.abs(a) < 2.0 ** 53)
            for i in np.flatnonzero(integral):
                vals[i] = int(vals[i])
        for i in np.flatnonzero(bad):
            vals[i] = None
        return vals
    vals = s.to_numpy(dtype=object)
    out = vals.tolist()
    for i, v in enumerate(out):
        if type(v) is str:
            continue
        out[i] = _py_value(v, name)
    return out


def _py_value(v: Any, name: str) -> Any:
    if not _present(v):
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, (pd.Timestamp, _dt.datetime)):
        return _iso_datetime(pd.Timestamp(v))
    if isinstance(v, _dt.date):
        return v.isoformat()
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float):
        if not math.isfinite(v):
            return None
        if name in COUNT_COLUMNS and v.is_integer() and abs(v) < 2.0 ** 53:
            return int(v)
        return v
    if isinstance(v, (bool, int)):
        return v
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, shapely.Geometry):
        return v.wkt
    if isinstance(v, (list, tuple, dict)):
        return v
    return str(v)


def _iso_datetime(ts: pd.Timestamp) -> str:
    if ts.tzinfo is None and ts == ts.normalize():
        return ts.strftime("%Y-%m-%d")
    return ts.isoformat()


def _iso_datetimes(s: pd.Series) -> list:
    mask = s.isna().to_numpy()
    valid = s[~mask]
    dates_only = s.dt.tz is None and bool((valid == valid.dt.normalize()).all())
    text = s.dt.strftime("%Y-%m-%d") if dates_only else s.map(
        lambda t: t.isoformat() if _present(t) else None)
    vals = text.tolist()
    return [None if m else v for v, m in zip(vals, mask)]


def _attribute_columns(frame: geopandas.GeoDataFrame, *, drop_raw: bool) -> list[str]:
    geom = frame.geometry.name
    cols = [c for c in frame.columns if c != geom]
    if drop_raw:
        cols = [c for c in cols if c != _RAW_COLUMN]
    return cols


def _text(v: Any) -> str:
    """A value as text for CSV, KML and GPX ('' for missing)."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, tuple, dict)):
        return json.dumps(v, ensure_ascii=False)
    return str(v)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(v: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula.

    Text starting with ``= + - @``, a tab or a carriage return is prefixed
    with an apostrophe (the OWASP advice against CSV injection); numbers are
    left as they are, so negative values stay numbers.
    """
    text = _text(v)
    if isinstance(v, str) and text.startswith(_FORMULA_START):
        return "'" + text
    return text


def write_table_csv(table: pd.DataFrame, path: str | os.PathLike, *,
                    overwrite: bool = False) -> None:
    """Write a plain table (no geometry) as CSV, safely.

    Like every export: refused over an existing file without ``overwrite``,
    written under a temporary name and renamed (a failure leaves no half
    file), and with cells that a spreadsheet would run as formulas
    neutralised.
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise UsageError(f"output directory does not exist: {path.parent}")
    if path.exists() and not overwrite:
        raise UsageError(f"{path} exists; pass --overwrite to replace it")
    # Column by column: a column of one plain type needs no per-cell dispatch
    # (the crossref table of 50,000 fields is 700,000 cells).
    columns = [_csv_cells(table[c].tolist()) for c in table.columns]
    with _atomic_text(path) as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow([str(c) for c in table.columns])
        w.writerows(zip(*columns))


def _csv_cells(values: list) -> list[str]:
    """The CSV cells of one column: '' for missing, else :func:`_cell`."""
    if all(type(v) is float for v in values):
        return ["" if v != v else str(v) for v in values]
    if all(type(v) is int for v in values):
        return [str(v) for v in values]
    if all(type(v) is str for v in values):
        return ["'" + v if v.startswith(_FORMULA_START) else v for v in values]
    return ["" if v is None or (isinstance(v, float) and v != v) else _cell(v) for v in values]


def _xml_text(s: str) -> str:
    return _XML_INVALID.sub("\ufffd", s)


# --------------------------------------------------------------------------- files


@contextmanager
def _atomic_text(path: Path) -> Iterator[IO[str]]:
    """A text file written under a temporary name beside `path`, then renamed."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.part")
    # os.open with 0o666 lets the umask decide the permissions, as a plain
    # open() would; mkstemp would leave the export readable by its owner only.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def _temp_dir(parent: Path) -> Iterator[Path]:
    tmp = Path(tempfile.mkdtemp(dir=parent, prefix=".minemap-export-"))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _ogr_error(file: str, layer: str, exc: Exception) -> DataError:
    return DataError(f"{file}: layer {layer}: could not be written: {exc}")


# --------------------------------------------------------------------------- GeoJSON


def _feature_chunks(frame: geopandas.GeoDataFrame, geoms: np.ndarray,
                    layer: str) -> Iterator[list[str]]:
    """Serialized features (no separators), in chunks to bound memory."""
    cols = _attribute_columns(frame, drop_raw=False)
    n = len(frame)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) if n else np.zeros(0, bool)
    dumps = json.JSONEncoder(ensure_ascii=False, allow_nan=False,
                             separators=(",", ":")).encode
    for start in range(0, n, _CHUNK):
        stop = min(start + _CHUNK, n)
        part = frame.iloc[start:stop]
        values = [_column_values(part[c], c) for c in cols]
        gj = np.full(stop - start, "null", dtype=object)
        mask = present[start:stop]
        if mask.any():
            gj[mask] = shapely.to_geojson(geoms[start:stop][mask])
        rows = zip(*values) if cols else ((),) * (stop - start)
        chunk = []
        for row, g in zip(rows, gj):
            props = dumps(dict(zip(cols, row)))
            chunk.append(f'{{"type":"Feature","properties":{props},"geometry":{g}}}')
        yield chunk


def _write_geojson(fh: IO[str], frame: geopandas.GeoDataFrame, geoms: np.ndarray,
                   layer: str) -> None:
    fh.write('{"type":"FeatureCollection","features":[')
    first = True
    for chunk in _feature_chunks(frame, geoms, layer):
        fh.write(("\n" if first else ",\n") + ",\n".join(chunk))
        first = False
    fh.write("\n]}\n")


def _write_geojsonseq(fh: IO[str], frame: geopandas.GeoDataFrame, geoms: np.ndarray,
                      layer: str) -> None:
    # RFC 8142: each text is RS, the JSON text, then LF.
    for chunk in _feature_chunks(frame, geoms, layer):
        fh.write("".join(f"\x1e{feature}\n" for feature in chunk))


# --------------------------------------------------------------------------- OGR (gpkg, shp)


def _for_ogr(frame: geopandas.GeoDataFrame, geoms: np.ndarray, *,
             drop_raw: bool) -> geopandas.GeoDataFrame:
    """A copy typed for OGR: ISO date strings, integral counts as Int64, text objects."""
    cols = _attribute_columns(frame, drop_raw=drop_raw)
    data: dict[str, Any] = {}
    for c in cols:
        s = frame[c]
        kind = s.dtype.kind
        if isinstance(s.dtype, pd.DatetimeTZDtype) or kind == "M":
            data[c] = pd.array(_iso_datetimes(s), dtype="str")
        elif pd.api.types.is_float_dtype(s.dtype) and c in COUNT_COLUMNS:
            a = s.to_numpy(dtype="float64", na_value=np.nan)
            ok = np.isfinite(a)
            if (np.floor(a[ok]) == a[ok]).all():
                data[c] = pd.array(np.where(ok, a, 0).astype("int64"), dtype="Int64")
                data[c][~ok] = pd.NA
            else:
                data[c] = s.to_numpy()
        elif pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_numeric_dtype(s.dtype):
            data[c] = s.to_numpy() if s.dtype.kind in "biuf" else s.array
        elif isinstance(s.dtype, pd.StringDtype):
            data[c] = s.array
        elif pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty"):
            data[c] = pd.array(s.to_numpy(dtype=object), dtype="str")
        else:
            vals = _column_values(s, c)
            kinds = {type(v) for v in vals if v is not None}
            if kinds <= {bool}:
                data[c] = pd.array(vals, dtype="boolean")
            elif kinds <= {int}:
                data[c] = pd.array(vals, dtype="Int64")
            elif kinds <= {int, float}:
                data[c] = pd.array(vals, dtype="Float64").to_numpy(dtype="float64",
                                                                  na_value=np.nan)
            else:
                data[c] = pd.array([None if v is None else _text(v) for v in vals],
                                   dtype="str")
    out = geopandas.GeoDataFrame(data, geometry=geopandas.GeoSeries(geoms, crs="EPSG:4326"),
                                 crs="EPSG:4326")
    return out


def _write_gpkg(path: Path, prepared: dict[str, tuple[geopandas.GeoDataFrame, np.ndarray]]
                ) -> None:
    with _temp_dir(path.parent) as tmpdir:
        tmp = tmpdir / path.name
        styles = []
        for name, (frame, geoms) in prepared.items():
            df = _for_ogr(frame, geoms, drop_raw=False)
            kwargs: dict[str, Any] = {}
            if len(df) == 0:
                kwargs["geometry_type"] = _EMPTY_GEOMETRY_TYPE[name]
            try:
                pyogrio.write_dataframe(df, tmp, layer=name, driver="GPKG", **kwargs)
            except Exception as exc:  # pyogrio raises several error types
                raise _ogr_error(path.name, name, exc) from exc
            qml, attr = style_for(name, frame.columns)
            styles.append((name, qml, attr))
        _write_layer_styles(tmp, styles)
        os.replace(tmp, path)


def _write_layer_styles(gpkg: Path, styles: list[tuple[str, str, str | None]]) -> None:
    """Register QGIS default styles in the ``layer_styles`` table QGIS reads."""
    rows = []
    now = pd.Timestamp.now(tz="UTC").floor("s")
    for layer, qml, attr in styles:
        geom_col = pyogrio.read_info(gpkg, layer=layer)["geometry_name"] or "geom"
        what = f"coloured by {attr}" if attr else "single symbol"
        rows.append({
            "f_table_catalog": "",
            "f_table_schema": "",
            "f_table_name": layer,
            "f_geometry_column": geom_col,
            "styleName": layer,
            "styleQML": read_style(qml),
            "styleSLD": "",
            "useAsDefault": True,
            "description": f"minemap {layer}: {what} ({qml})",
            "owner": "",
            "ui": "",
            "update_time": now,
        })
    df = pd.DataFrame(rows)
    for c in df.columns:
        if c not in ("useAsDefault", "update_time"):
            df[c] = df[c].astype("str")
    # Written through GDAL, like QGIS does, so that the table is registered in
    # gpkg_contents as 'attributes' with GDAL's feature-count bookkeeping.
    pyogrio.write_dataframe(df, gpkg, layer="layer_styles", driver="GPKG",
                            layer_options={"FID": "id"})


# --------------------------------------------------------------------------- Shapefile


def _write_shapefile(path: Path, frame: geopandas.GeoDataFrame, geoms: np.ndarray, layer: str,
                     *, zipped: bool, overwrite: bool) -> list[str]:
    df = _for_ogr(frame, geoms, drop_raw=True)
    names = shapefile_field_names([c for c in df.columns if c != df.geometry.name])
    df = df.rename(columns=names)
    warnings = []
    ids = _ids(frame, layer)
    for full, short in names.items():
        col = df[short]
        if col.dtype.kind in "biuf" or pd.api.types.is_numeric_dtype(col.dtype):
            continue
        lengths = np.array([len(v.encode("utf-8")) if isinstance(v, str) else 0
                            for v in col.tolist()])
        if len(lengths) and lengths.max() > _DBF_MAX_BYTES:
            i = int(np.argmax(lengths > _DBF_MAX_BYTES))
            count = int((lengths > _DBF_MAX_BYTES).sum())
            warnings.append(str(Problem(
                path.name, ids[i], f"field {full}: {count} value(s) longer than "
                f"{_DBF_MAX_BYTES} bytes are truncated by the dBASE format", "warning")))
    stem = path.stem
    kwargs: dict[str, Any] = {}
    if len(df) == 0:
        kwargs["geometry_type"] = _EMPTY_GEOMETRY_TYPE[layer]
    with _temp_dir(path.parent) as tmpdir:
        shp = tmpdir / f"{stem}.shp"
        try:
            pyogrio.write_dataframe(df, shp, driver="ESRI Shapefile", encoding="UTF-8",
                                    layer=stem, **kwargs)
        except Exception as exc:  # pyogrio raises several error types
            raise _ogr_error(path.name, layer, exc) from exc
        sidecar_text = _fieldnames_csv(names)
        if zipped:
            tmpzip = tmpdir / "out.zip"
            with zipfile.ZipFile(tmpzip, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                for ext in _SHAPEFILE_PARTS:
                    part = shp.with_suffix(ext)
                    if part.exists():
                        zf.write(part, arcname=f"{stem}{ext}")
                zf.writestr("fieldnames.csv", sidecar_text)
            # Give the zip the permissions a plain open() would have.
            _apply_umask(tmpzip)
            os.replace(tmpzip, path)
        else:
            (tmpdir / "sidecar.csv").write_text(sidecar_text, encoding="utf-8")
            if overwrite:
                for ext in _SHAPEFILE_STALE:
                    path.with_suffix(ext).unlink(missing_ok=True)
            for ext in _SHAPEFILE_PARTS:
                part = shp.with_suffix(ext)
                if part.exists():
                    os.replace(part, path.with_suffix(ext))
            os.replace(tmpdir / "sidecar.csv", _sidecar(path))
    return warnings


def _fieldnames_csv(names: dict[str, str]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["full_name", "short_name"])
    for full, short in names.items():
        w.writerow([full, short])
    return buf.getvalue()


def _apply_umask(path: Path) -> None:
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, 0o666 & ~mask)


# --------------------------------------------------------------------------- KML


_KML_NS = "http://www.opengis.net/kml/2.2"


def _kml_colour(rgb: tuple[int, int, int], alpha: int) -> str:
    r, g, b = rgb
    return f"{alpha:02x}{b:02x}{g:02x}{r:02x}"  # KML is aabbggrr


def _kml_styles(doc: ET.Element, layer: str, attr: str | None) -> dict[str, str]:
    """Style elements of the layer; returns category value → style id."""
    cats = dict(CATEGORY_COLOURS.get(attr, {})) if attr else {}
    entries = [(f"{layer}-{v}", rgb) for v, rgb in cats.items()]
    entries.append((f"{layer}-other" if attr else f"{layer}-default",
                    OTHER_COLOUR if attr else SINGLE_COLOURS.get(layer, OTHER_COLOUR)))
    fill = 0x00 if layer == "districts" else 0x80
    for style_id, rgb in entries:
        st = ET.SubElement(doc, "Style", id=style_id)
        icon = ET.SubElement(st, "IconStyle")
        ET.SubElement(icon, "color").text = _kml_colour(rgb, 0xFF)
        ET.SubElement(ET.SubElement(icon, "Icon"), "href").text = (
            "https://maps.google.com/mapfiles/kml/shapes/placemark_circle.png")
        line = ET.SubElement(st, "LineStyle")
        ET.SubElement(line, "color").text = _kml_colour(rgb, 0xFF)
        ET.SubElement(line, "width").text = "2"
        poly = ET.SubElement(st, "PolyStyle")
        ET.SubElement(poly, "color").text = _kml_colour(rgb, fill)
        if fill == 0:
            ET.SubElement(poly, "fill").text = "0"
        # The balloon shows only our description, whose values are HTML-escaped;
        # Google Earth's default balloon would render other fields as HTML.
        balloon = ET.SubElement(st, "BalloonStyle")
        ET.SubElement(balloon, "text").text = "$[description]"
    ids = {v: f"{layer}-{v}" for v in cats}
    ids[None] = entries[-1][0]
    return ids


def _kml_coords(coords: np.ndarray, precision: int) -> str:
    return " ".join(f"{_fmt(x, precision)},{_fmt(y, precision)}" for x, y in coords[:, :2])


def _kml_geometry(parent: ET.Element, geom: shapely.Geometry, precision: int) -> None:
    t = geom.geom_type
    if geom.is_empty:
        return
    if t == "Point":
        el = ET.SubElement(parent, "Point")
        ET.SubElement(el, "coordinates").text = _kml_coords(
            shapely.get_coordinates(geom), precision)
    elif t in ("LineString", "LinearRing"):
        el = ET.SubElement(parent, "LineString")
        ET.SubElement(el, "tessellate").text = "1"
        ET.SubElement(el, "coordinates").text = _kml_coords(
            shapely.get_coordinates(geom), precision)
    elif t == "Polygon":
        el = ET.SubElement(parent, "Polygon")
        ET.SubElement(el, "tessellate").text = "1"
        rings = [("outerBoundaryIs", geom.exterior)] + [
            ("innerBoundaryIs", r) for r in geom.interiors]
        for tag, ring in rings:
            lr = ET.SubElement(ET.SubElement(el, tag), "LinearRing")
            ET.SubElement(lr, "coordinates").text = _kml_coords(
                shapely.get_coordinates(ring), precision)
    else:
        el = ET.SubElement(parent, "MultiGeometry")
        for part in shapely.get_parts(geom):
            _kml_geometry(el, part, precision)


def _kml_type(frame_col: pd.Series) -> str:
    dtype = frame_col.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "double"
    return "string"


def _write_kml(fh: IO[str], frame: geopandas.GeoDataFrame, geoms: np.ndarray, layer: str,
               precision: int) -> None:
    typed = _for_ogr(frame, geoms, drop_raw=True)
    cols = [c for c in typed.columns if c != typed.geometry.name]
    _, attr = style_for(layer, cols)
    if attr not in cols:
        attr = None
    kml = ET.Element("kml", xmlns=_KML_NS)
    doc = ET.SubElement(kml, "Document")
    ET.SubElement(doc, "name").text = _xml_text(layer)
    # OGC KML 2.2 order inside Document: styles, then Schema, then features.
    style_ids = _kml_styles(doc, layer, attr)
    schema = ET.SubElement(doc, "Schema", name=layer, id=layer)
    types = {}
    for c in cols:
        types[c] = _kml_type(typed[c])
        ET.SubElement(schema, "SimpleField", name=_xml_text(c), type=types[c])
    folder = ET.SubElement(doc, "Folder")
    ET.SubElement(folder, "name").text = _xml_text(layer)
    values = {c: _column_values(typed[c], c) for c in cols}
    ids = list(_ids(frame, layer))
    for i in range(len(typed)):
        pm = ET.SubElement(folder, "Placemark")
        ET.SubElement(pm, "name").text = _xml_text(ids[i])
        rows = []
        for c in cols:
            v = values[c][i]
            cell = html.escape(_text(v), quote=True)
            rows.append(f"<tr><th>{html.escape(c, quote=True)}</th><td>{cell}</td></tr>")
        # ElementTree escapes this text again for XML; once parsed, Google Earth
        # gets HTML whose values are escaped, so markup in data shows as text.
        ET.SubElement(pm, "description").text = _xml_text(
            f"<h3>{html.escape(ids[i], quote=True)}</h3><table>{''.join(rows)}</table>")
        key = values[attr][i] if attr else None
        ET.SubElement(pm, "styleUrl").text = "#" + style_ids.get(key, style_ids[None])
        ext = ET.SubElement(pm, "ExtendedData")
        sd = ET.SubElement(ext, "SchemaData", schemaUrl=f"#{layer}")
        for c in cols:
            v = values[c][i]
            if v is None:
                continue
            if types[c] == "bool":
                text = "1" if v else "0"
            else:
                text = _text(v)
            ET.SubElement(sd, "SimpleData", name=_xml_text(c)).text = _xml_text(text)
        g = geoms[i]
        if g is not None:
            _kml_geometry(pm, g, precision)
    fh.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    fh.write(ET.tostring(kml, encoding="unicode"))
    fh.write("\n")


# --------------------------------------------------------------------------- GPX


_GPX_NS = "http://www.topografix.com/GPX/1/1"


def _gpx_point(parent: ET.Element, tag: str, lon: float, lat: float, precision: int,
               name: str, desc: str | None = None, kind: str | None = None) -> None:
    el = ET.SubElement(parent, tag, lat=_fmt(lat, precision), lon=_fmt(lon, precision))
    ET.SubElement(el, "name").text = _xml_text(name)
    if desc:
        ET.SubElement(el, "desc").text = _xml_text(desc)
    if kind:
        ET.SubElement(el, "type").text = _xml_text(kind)


def _gpx_summary(row: dict[str, Any], layer: str) -> str:
    keys = ("handover", "district", "mines_ap", "mines_at", "mines_total", "status",
            "remaining_est", "outcome", "item_type", "date", "date_end", "mines", "mine_type")
    parts = [f"{k} {_text(row[k])}" for k in keys if k in row and row[k] not in (None, "")]
    return f"{layer}: " + "; ".join(parts) if parts else layer


def _vertex_lookup(vertices: geopandas.GeoDataFrame | None) -> dict[tuple, list[tuple]]:
    if vertices is None or len(vertices) == 0:
        return {}
    v = vertices
    if v.crs is not None and not v.crs.equals("EPSG:4326"):
        v = v.to_crs("EPSG:4326")
    has_handover = "handover" in v.columns
    xy = shapely.get_coordinates(v.geometry.values)
    if len(xy) != len(v):
        raise DataError("vertices: every vertex must be a single point")
    out: dict[tuple, list[tuple]] = {}
    rec = v["record_id"].astype(str).tolist()
    hand = v["handover"].astype(str).tolist() if has_handover else [None] * len(v)
    order = v["vertex"].tolist() if "vertex" in v.columns else list(range(len(v)))
    labels = v["label"].tolist() if "label" in v.columns else [None] * len(v)
    ptypes = v["point_type"].tolist() if "point_type" in v.columns else ["turning"] * len(v)
    for i in range(len(v)):
        key = (rec[i], hand[i])
        out.setdefault(key, []).append((order[i], labels[i], ptypes[i], xy[i, 0], xy[i, 1]))
    for pts in out.values():
        pts.sort(key=lambda p: p[0])
    return out


def _write_gpx(fh: IO[str], frame: geopandas.GeoDataFrame, layer: str, precision: int,
               vertices: geopandas.GeoDataFrame | None, file: str) -> list[str]:
    warnings: list[str] = []
    gpx = ET.Element("gpx", version="1.1", creator="minemap", xmlns=_GPX_NS)
    meta = ET.SubElement(gpx, "metadata")
    ET.SubElement(meta, "name").text = _xml_text(layer)
    ET.SubElement(meta, "desc").text = (
        "Turning points (waypoints <id>-TP<n>) and perimeters (routes). "
        "Coordinates WGS84.")
    cols = _attribute_columns(frame, drop_raw=True)
    values = {c: _column_values(frame[c], c) for c in cols}
    ids = list(_ids(frame, layer))
    lookup = _vertex_lookup(vertices) if layer in ("minefields", "crossref") else {}
    has_handover = vertices is not None and "handover" in vertices.columns
    waypoints: list[tuple] = []
    routes: list[tuple] = []
    from_ring = []
    # A record id is unique within a handover only.  Where one repeats across
    # handovers, its waypoints are named <handover>:<id>-TPn, because GPS
    # units overwrite waypoints that share a name.
    handovers_of: dict[str, set] = {}
    for i in range(len(frame)):
        handovers_of.setdefault(ids[i], set()).add(values["handover"][i] if "handover"
                                                    in values else None)
    shared = {r for r, hs in handovers_of.items() if len(hs) > 1}
    for r in sorted(shared):
        warnings.append(str(Problem(file, r, f"layer {layer}: the id appears in several"
                                    " handovers; its waypoints are named"
                                    " <handover>:<id>-TPn", "warning")))
    # Geometries are used as stored (not re-oriented), so that turning points
    # keep the order of the record.
    raw_geoms = frame.geometry.values
    for i in range(len(frame)):
        row = {c: values[c][i] for c in cols}
        rid = ids[i]
        desc = _gpx_summary(row, layer)
        hand = row.get("handover")
        g = raw_geoms[i]
        if g is None or g.is_empty:
            continue
        key = (rid, str(hand) if has_handover else None)
        if rid in shared:
            rid = f"{hand}:{rid}"
        if layer == "mine_rows" and "row" in row and row["row"] is not None:
            rid = f"{rid}-R{row['row']}"
        gt = g.geom_type
        if key in lookup:
            route = []
            for _, label, ptype, x, y in lookup[key]:
                name = f"{rid}-{label}" if _present(label) else rid
                waypoints.append((x, y, name, desc, ptype))
                if ptype != "reference":
                    route.append((x, y, name))
            if route:
                route.append(route[0])
            routes.append((rid, desc, route))
        elif gt in ("Polygon", "MultiPolygon"):
            parts = list(shapely.get_parts(g))
            n = 0
            holes = 0
            for k, part in enumerate(parts):
                ring = shapely.get_coordinates(part.exterior)[:-1]
                holes += len(part.interiors)
                route = []
                for x, y in ring:
                    n += 1
                    name = f"{rid}-TP{n}"
                    waypoints.append((x, y, name, desc, "turning"))
                    route.append((x, y, name))
                route.append(route[0])
                rname = rid if len(parts) == 1 else f"{rid} part {k + 1}"
                routes.append((rname, desc, route))
            if layer in ("minefields", "crossref"):
                from_ring.append(rid)
            if holes:
                warnings.append(str(Problem(file, rid, f"layer {layer}: {holes} hole(s) "
                                            "not exported to GPX", "warning")))
        elif gt in ("LineString", "MultiLineString"):
            for k, part in enumerate(shapely.get_parts(g)):
                pts = shapely.get_coordinates(part)
                route = [(x, y, f"{rid}-{j + 1}") for j, (x, y) in enumerate(pts)]
                rname = rid if k == 0 else f"{rid} part {k + 1}"
                routes.append((rname, desc, route))
        else:
            pts = shapely.get_coordinates(g)
            for j, (x, y) in enumerate(pts):
                name = rid if len(pts) == 1 else f"{rid}-{j + 1}"
                waypoints.append((x, y, name, desc, layer))
    for x, y, name, desc, kind in waypoints:
        _gpx_point(gpx, "wpt", x, y, precision, name, desc, kind)
    for name, desc, pts in routes:
        rte = ET.SubElement(gpx, "rte")
        ET.SubElement(rte, "name").text = _xml_text(name)
        ET.SubElement(rte, "desc").text = _xml_text(desc)
        for x, y, pname in pts:
            _gpx_point(rte, "rtept", x, y, precision, pname)
    if from_ring:
        shown = ", ".join(from_ring[:5]) + (" …" if len(from_ring) > 5 else "")
        warnings.append(f"{file}: layer {layer}: turning points of {len(from_ring)} field(s) "
                        f"numbered along the stored ring, not from the record's vertices "
                        f"({shown}); check TP numbers against the paper record")
    fh.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    fh.write(ET.tostring(gpx, encoding="unicode"))
    fh.write("\n")
    return warnings


# --------------------------------------------------------------------------- CSV


def _write_csv(fh: IO[str], frame: geopandas.GeoDataFrame, geoms: np.ndarray, layer: str,
               precision: int, *, hxl: bool, geometry: str) -> None:
    cols = _attribute_columns(frame, drop_raw=True)
    geo_cols = ["wkt"] if geometry == "wkt" else ["lon", "lat"]
    for c in geo_cols:
        if c in cols:
            raise UsageError(f"layer {layer} already has a column {c!r}; it would clash with "
                             f"the CSV geometry column")
    values = [_column_values(frame[c], c) for c in cols]
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if geometry == "wkt":
        wkt = np.full(len(geoms), "", dtype=object)
        if present.any():
            wkt[present] = shapely.to_wkt(geoms[present], rounding_precision=precision,
                                          trim=True)
        values.append(wkt.tolist())
    else:
        lon = [""] * len(geoms)
        lat = [""] * len(geoms)
        if present.any():
            xy = shapely.get_coordinates(shapely.centroid(geoms[present]))
            for j, i in enumerate(np.flatnonzero(present)):
                lon[i] = _fmt(xy[j, 0], precision)
                lat[i] = _fmt(xy[j, 1], precision)
        values.extend([lon, lat])
    header = cols + geo_cols
    w = csv.writer(fh, lineterminator="\n")
    w.writerow(header)
    if hxl:
        w.writerow(hxl_tags(header, layer))
    for row in zip(*values):
        w.writerow([_cell(v) for v in row])
