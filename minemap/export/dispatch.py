"""``write``: one entry point that checks everything, then calls the format's writer."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import IO

import geopandas
import numpy as np
import pandas as pd
import shapely

from minemap._errors import UsageError
from minemap.export import csv as _csv
from minemap.export import geojson as _geojson
from minemap.export import gpkg as _gpkg
from minemap.export import gpx as _gpx
from minemap.export import kml as _kml
from minemap.export import shapefile as _shapefile
from minemap.export import xlsx as _xlsx
from minemap.export.common import (
    _as_wgs84,
    _atomic_text,
    _check_layers,
    _check_precision,
    _check_target,
    _format_of,
    _ids,
    is_write_error,
    remove_stale_temporaries,
    write_error,
)
from minemap.export.geometry import prepare_geometries
from minemap.export.projection import Projection, metric_decimals, projection_for

#: Formats that take ``crs`` (DESIGN §12); GeoJSON stays RFC 7946 WGS84.
PROJECTED_FORMATS = ("gpkg", "shapefile", "shapefile-zip", "csv")


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
    crs: str | None = None,
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
        (5, about 1 m) it is refused unless `allow_coarse`.  Projected
        coordinates get ``precision - 4`` decimals of metres (6 → 1 cm).
    allow_coarse
        Accept a precision below 5 decimals, with a warning.
    overwrite
        Replace an existing output (the whole file: GeoPackage layers are
        never appended to an existing file).
    hxl
        CSV only: add the HXL hashtag row as the second line.
    csv_geometry
        CSV only: ``"wkt"`` (a ``wkt`` column) or ``"centroid"`` (``lon`` and
        ``lat`` columns, ``x`` and ``y`` with `crs`).
    vertices
        GPX only: the ``vertices`` layer (``schema.VERTEX_COLUMNS``); turning
        points are taken from it where it has the field, else from the
        polygon's exterior ring (with a warning).
    crs
        GeoPackage, Shapefile and CSV: write in this projected CRS
        (``"EPSG:32638"``, ``"SK-42"`` for the Gauss-Krüger zone of the
        data), recording the datum transformation in the file's metadata.
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
        without `overwrite`, missing output directory, refused precision,
        `crs` for a format that stays WGS84.  Nothing is written.
    DataError
        A geometry could not be made valid at the requested precision, or
        the file could not be written (a full disk), in one line naming the
        file.  Nothing is written.
    """
    to_stdout = os.fspath(path) == "-"
    out = Path(os.fspath(path))
    fmt = "geojson" if to_stdout else _format_of(out)
    _check_layers(layers, fmt)
    if csv_geometry not in ("wkt", "centroid"):
        raise UsageError(f"csv_geometry must be 'wkt' or 'centroid', not {csv_geometry!r}")
    if crs is not None and fmt not in PROJECTED_FORMATS:
        raise UsageError(f"--crs applies to .gpkg, .shp/.zip and .csv; {fmt} output stays "
                         f"WGS84 lon/lat (GeoJSON by RFC 7946)")
    precision, warnings = _check_precision(precision, allow_coarse=allow_coarse)
    label = "<stdout>" if to_stdout else out.name
    if not to_stdout:
        targets = _shapefile.targets(out) if fmt == "shapefile" else [out]
        _check_target(out, targets, overwrite=overwrite)
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
    projection = _projection(crs, prepared) if crs is not None else None
    if projection is not None:
        prepared = {name: _project(name, frame, geoms, projection, precision)
                    for name, (frame, geoms) in prepared.items()}

    if to_stdout:
        (name, (frame, geoms)), = prepared.items()
        stream = stdout if stdout is not None else sys.stdout
        try:
            _geojson._write_geojson(stream, frame, geoms, name)
            stream.flush()
        except BrokenPipeError:
            raise  # the reader went away (``| head``): the CLI exits quietly
        except OSError as exc:
            if not is_write_error(exc):
                raise
            raise write_error("<stdout>", exc) from None
        return warnings
    remove_stale_temporaries(out.parent)
    try:
        warnings += _write_file(out, fmt, prepared, precision=precision, hxl=hxl,
                                csv_geometry=csv_geometry, vertices=vertices,
                                projection=projection, overwrite=overwrite)
    except OSError as exc:
        if not is_write_error(exc):
            raise
        raise write_error(out, exc) from None
    return warnings


def _write_file(out: Path, fmt: str, prepared: dict, *, precision: int, hxl: bool,
                csv_geometry: str, vertices, projection: Projection | None,
                overwrite: bool) -> list[str]:
    if fmt == "gpkg":
        _gpkg._write_gpkg(out, prepared, projection)
        return []
    (name, (frame, geoms)), = prepared.items()
    if fmt in ("shapefile", "shapefile-zip"):
        return _shapefile._write_shapefile(out, frame, geoms, name,
                                           zipped=fmt == "shapefile-zip", overwrite=overwrite,
                                           projection=projection)
    if fmt == "xlsx":
        _xlsx.write_table_xlsx(_attribute_table(frame, geoms, precision), out,
                               overwrite=overwrite, sheet=name)
        return []
    warnings: list[str] = []
    with _atomic_text(out) as fh:
        if fmt in ("geojson", "geojsonseq"):
            writer = _geojson._write_geojson if fmt == "geojson" else _geojson._write_geojsonseq
            writer(fh, frame, geoms, name)
        elif fmt == "kml":
            _kml._write_kml(fh, frame, geoms, name, precision)
        elif fmt == "gpx":
            warnings += _gpx._write_gpx(fh, frame, name, precision, vertices, out.name)
        elif fmt == "csv":
            _csv._write_csv(
                fh, frame, geoms, name, precision, hxl=hxl, geometry=csv_geometry,
                note=projection.note() if projection else None,
                coord_precision=metric_decimals(precision) if projection else precision)
    return warnings


def _projection(crs: str, prepared: dict) -> Projection:
    geoms = [g for _, g in prepared.values() if len(g)]
    bounds = shapely.total_bounds(np.concatenate(geoms)) if geoms else (np.nan,) * 4
    return projection_for(crs, tuple(bounds))


def _project(name: str, frame: geopandas.GeoDataFrame, geoms: np.ndarray,
             projection: Projection, precision: int) -> tuple:
    if name == "vertices" and len(frame):
        # TP tables carry the chosen CRS's coordinates beside lat/lon and MGRS.
        xy = shapely.get_coordinates(frame.geometry.values)
        frame = frame.copy()
        frame["crs_easting"], frame["crs_northing"] = projection.forward(xy[:, 0], xy[:, 1])
    return frame, projection.transform(geoms, metric_decimals(precision))


def _attribute_table(frame: geopandas.GeoDataFrame, geoms: np.ndarray,
                     precision: int) -> pd.DataFrame:
    """A layer as a spreadsheet: its attributes and the geometry as WKT."""
    table = pd.DataFrame(frame.drop(columns=[frame.geometry.name, "raw"], errors="ignore"))
    wkt = np.full(len(geoms), "", dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) if len(geoms) else []
    if len(geoms) and present.any():
        wkt[present] = shapely.to_wkt(geoms[present], rounding_precision=precision, trim=True)
    if "wkt" not in table:
        table["wkt"] = wkt
    return table
