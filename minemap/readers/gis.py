"""Readers for GIS files: GeoJSON, GeoPackage, Shapefile (.shp or .zip),
KML/KMZ and CSV (WKT or lon/lat columns).

Files are read in bulk with pyogrio.  Only when a bulk read fails is the file
read again feature by feature with fiona, so that the error names the
record.  KML is parsed with defusedxml (:mod:`minemap.readers.kml`), CSV as
spreadsheets write it (:mod:`minemap.readers.spreadsheet_csv`), and archives
are read in place, never extracted, so a member named ``../x`` cannot escape
its folder.  The source's sha256 is that of exactly the bytes parsed
(:mod:`minemap.readers.provenance`).

``--crs SK-42`` takes each feature's Gauss-Krüger zone from the leading digit
of its easting (``8 664 944`` → zone 8, EPSG:28408), the x coordinate of the
file, and transforms it with the datum transformation pyproj chooses for the
area of interest; the operation used is the provenance.
"""

from __future__ import annotations

import csv
import io
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from minemap import settings
from minemap._errors import DataError, Problem, UsageError
from minemap.geo.crs import (
    WGS84,
    crs_name,
    is_sk42,
    parse_crs,
    sk42_zone,
    to_wgs84,
)
from minemap.readers import kml as _kml
from minemap.readers import provenance
from minemap.readers.spreadsheet_csv import read_csv_text
from minemap.records.rules import ID_LIKE

#: Extensions read by :func:`read_features`.
GIS_EXTENSIONS = (".geojson", ".json", ".gpkg", ".shp", ".zip", ".kml", ".kmz", ".csv")
_TEXT_FORMATS = (".csv", ".kml", ".kmz")

_WKT_COLUMNS = ("wkt", "geometry", "geom", "the_geom")
_LONLAT_COLUMNS = (("lon", "lat"), ("longitude", "latitude"), ("lng", "lat"), ("x", "y"))


@dataclass
class SourceFrame:
    """Features of one source file (one layer of it), in WGS84, with provenance.

    Attributes
    ----------
    frame
        GeoDataFrame in EPSG:4326, in the file's feature and vertex order.
        Column ``_feature`` is the 1-based feature number in the file;
        ``_raw`` is the feature as received (its properties as JSON, plus the
        original geometry as WKT when the file was not in WGS84);
        ``_src_geom`` the geometry in the source CRS (raw coordinates).
    name
        The file's name (``file.gpkg:layer`` when several layers are read),
        as used in messages and provenance.
    source_crs, transformation
        The file's CRS and the pyproj operation used to reach WGS84.
    problems
        Problems found while reading.
    sha256
        Digest of exactly the bytes parsed.
    columns
        ``{field: column}`` renamed by ``--map`` or taken from the KML name.
    notes
        What was detected (CSV dialect, layers), for ``-v``.
    """

    frame: gpd.GeoDataFrame
    name: str
    path: Path
    source_crs: str
    transformation: str
    problems: list[Problem] = field(default_factory=list)
    sha256: str = ""
    columns: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _feature_label(props: dict | None, number: int, id_columns: tuple[str, ...]) -> str:
    for c in id_columns:
        if props and props.get(c) not in (None, ""):
            return str(props[c])
    return f"feature {number}"


def _fiona_locate(path: str, layer: str | None, name: str, id_columns: tuple[str, ...]) -> str:
    """Read feature by feature to name the first unreadable record."""
    import fiona

    try:
        with fiona.open(path, layer=layer) as src:
            it = iter(src)
            number = 0
            last_props: dict | None = None
            while True:
                number += 1
                try:
                    feat = next(it)
                except StopIteration:
                    return ""
                except Exception as exc:  # noqa: BLE001 - any reader error names the record
                    after = (
                        f" (after record {_feature_label(last_props, number - 1, id_columns)})"
                        if last_props is not None
                        else ""
                    )
                    return f"{name}: feature {number}{after}: unreadable: {exc}"
                last_props = dict(feat.properties or {})
                geom = feat.geometry
                if geom is not None and geom.type in ("Polygon", "MultiPolygon"):
                    polys = [geom.coordinates] if geom.type == "Polygon" else geom.coordinates
                    for rings in polys:
                        for ring in rings:
                            if len(ring) and tuple(ring[0]) != tuple(ring[-1]):
                                label = _feature_label(last_props, number, id_columns)
                                return (f"{name}: record {label}: a polygon ring is not closed"
                                        " (its last point differs from its first)")
                try:
                    shapely.geometry.shape(feat.geometry) if feat.geometry else None
                except Exception as exc:  # noqa: BLE001
                    label = _feature_label(last_props, number, id_columns)
                    return f"{name}: record {label}: unreadable geometry: {exc}"
    except Exception as exc:  # noqa: BLE001
        return f"{name}: cannot be read: {str(exc).splitlines()[0]}"


def _sidecar_names(text: str) -> dict[str, str]:
    """``{short: full}`` from a ``fieldnames.csv`` written by ``minemap export``."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or [c.strip() for c in rows[0][:2]] != ["full_name", "short_name"]:
        return {}
    return {r[1]: r[0] for r in rows[1:] if len(r) >= 2 and r[0] and r[1]}


def _too_complex(msg: str) -> bool:
    return "too complex" in msg or "OGR_GEOJSON_MAX_OBJ_SIZE" in msg


def _read_ogr(path: str, name: str, layer: str | None, id_columns) -> gpd.GeoDataFrame:
    try:
        info = pyogrio.read_info(path, layer=layer)
        n_fields = len(info.get("fields", ()))
    except Exception:  # noqa: BLE001 - the read below says what is wrong
        n_fields = 0
    if n_fields > settings.max_columns:
        raise DataError(f"{name}: {n_fields:,} attribute fields is more than the"
                        f" {settings.max_columns:,} a source may have (settings.max_columns)")
    try:
        # Dates as text: the record keeps them as written (raw), and
        # validation parses them itself.
        return pyogrio.read_dataframe(path, layer=layer, datetime_as_string=True)
    except Exception as exc:  # noqa: BLE001
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if layer is not None and "layer" in msg.lower():
            try:
                layers = [lyr[0] for lyr in pyogrio.list_layers(path)]
            except Exception:  # noqa: BLE001
                layers = []
            raise UsageError(
                f"{name}: no layer {layer!r}; layers are: {', '.join(layers) or 'none'}"
            ) from None
        if _too_complex(msg):
            raise DataError(f"{name}: a GeoJSON object is too large for GDAL's reader"
                            " (OGR_GEOJSON_MAX_OBJ_SIZE, 200 MB by default); split the"
                            " feature, or raise that GDAL option") from None
        if path.lower().endswith((".geojson", ".json")):
            try:
                json.loads(Path(path).read_text(encoding="utf-8"))
            except json.JSONDecodeError as jexc:
                raise DataError(f"{name}: not valid JSON: {jexc}") from None
            except UnicodeDecodeError as uexc:
                raise DataError(f"{name}: not UTF-8 text: {uexc}") from None
            except RecursionError:
                raise DataError(f"{name}: JSON nested too deeply to read") from None
        located = _fiona_locate(path, layer, name, id_columns)
        if located and "Failed to open dataset" in located:
            # fiona's message hides GDAL's; pyogrio's names the cause.
            located = ""
        raise DataError(located or f"{name}: cannot be read: {msg}") from None


def _wkt_geometries(frame: pd.DataFrame, col: str, name: str, id_columns) -> np.ndarray:
    geoms = np.empty(len(frame), dtype=object)
    for i, text in enumerate(frame[col]):
        if not str(text).strip():
            geoms[i] = None
            continue
        try:
            geoms[i] = shapely.from_wkt(text)
        except shapely.errors.ShapelyError as exc:
            label = _feature_label(frame.iloc[i].to_dict(), i + 1, id_columns)
            raise DataError(f"{name}: record {label}: bad WKT geometry: {exc}") from None
    return geoms


def _read_csv(data: bytes, name: str, id_columns) -> tuple[gpd.GeoDataFrame, list[str]]:
    frame, notes = read_csv_text(data, name)
    lower = {c.lower(): c for c in frame.columns}
    for w in _WKT_COLUMNS:
        if w in lower:
            col = lower[w]
            geoms = _wkt_geometries(frame, col, name, id_columns)
            notes.append(f"{name}: geometry from the WKT column {col!r}")
            return gpd.GeoDataFrame(frame.drop(columns=[col]), geometry=geoms), notes
    for xname, yname in _LONLAT_COLUMNS:
        if xname in lower and yname in lower:
            xs = pd.to_numeric(frame[lower[xname]], errors="coerce")
            ys = pd.to_numeric(frame[lower[yname]], errors="coerce")
            bad = np.flatnonzero(xs.isna().to_numpy() | ys.isna().to_numpy())
            if len(bad):
                i = int(bad[0])
                label = _feature_label(frame.iloc[i].to_dict(), i + 1, id_columns)
                raise DataError(f"{name}: record {label}: {xname}/{yname} are not numbers")
            geoms = shapely.points(xs.to_numpy(), ys.to_numpy())
            notes.append(f"{name}: points from the columns {lower[xname]!r} (x) and"
                         f" {lower[yname]!r} (y)")
            return gpd.GeoDataFrame(
                frame.drop(columns=[lower[xname], lower[yname]]), geometry=geoms
            ), notes
    raise DataError(
        f"{name}: no geometry column: give a WKT column ({', '.join(_WKT_COLUMNS)})"
        " or lon/lat columns"
    )


def gpkg_layers(path: Path) -> list[str]:
    """The spatial layers of a GeoPackage (QGIS's layer_styles and other tables left out)."""
    try:
        return [lyr[0] for lyr in pyogrio.list_layers(path) if lyr[1] is not None]
    except Exception:  # noqa: BLE001 - the read says what is wrong
        return []


def layers_to_read(path: Path, layer, *, every: bool) -> list[str | None]:
    """Which layers of a source to read.

    ``layer`` may be one name or several; with none given, a single-layer
    source is read whole, and a multi-layer GeoPackage is read layer by layer
    when ``every`` (clearance: releases and items), else refused as ambiguous.
    """
    if isinstance(layer, str):
        return [layer]
    if layer:
        return list(layer)
    if path.suffix.lower() != ".gpkg":
        return [None]
    layers = gpkg_layers(path)
    if len(layers) <= 1 or every:
        return layers or [None]
    raise UsageError(f"{path.name}: holds several layers ({', '.join(layers)}); choose one"
                     " with --layer (it may be given several times)")


def read_source(
    path: str | os.PathLike, *, layer=None, every_layer: bool = False, **options
) -> list[SourceFrame]:
    """Every layer to read of one source file, hashed as parsed.

    Text formats (CSV, KML, KMZ) are read once, and those bytes are hashed
    and parsed; files GDAL reads are hashed before and after, and refused if
    they changed (:func:`minemap.readers.provenance.stable_read`).

    Parameters
    ----------
    layer
        A layer name, several, or None (see :func:`layers_to_read`).
    every_layer
        Read every spatial layer of a GeoPackage when no layer is given.
    **options
        Passed to :func:`read_features`.
    """
    path = Path(path)
    _check_path(path)
    name = options.pop("name", None)
    try:
        if path.suffix.lower() in _TEXT_FORMATS:
            data, sha = provenance.read_source_bytes(path)
            frames = [read_features(path, data=data, **options)]
        else:
            layers = layers_to_read(path, layer, every=every_layer)

            def read():
                return [read_features(path, layer=lyr, **options, name=(
                    name or (f"{path.name}:{lyr}" if len(layers) > 1 else None)))
                    for lyr in layers]

            frames, sha = provenance.stable_read(path, read)
            if len(layers) > 1:
                for sf in frames:
                    sf.notes.append(f"{path.name}: layer {sf.name.split(':')[-1]!r}:"
                                    f" {len(sf.frame)} features")
    except RecursionError:
        raise DataError(f"{path.name}: nested too deeply to read") from None
    for sf in frames:
        sf.sha256 = sha
    return frames


def _check_path(path: Path) -> None:
    if not path.exists():
        raise UsageError(f"{path}: no such file")
    ext = path.suffix.lower()
    if ext not in GIS_EXTENSIONS:
        raise UsageError(
            f"{path.name}: unsupported file type {ext or '(none)'}; readable: "
            + ", ".join(GIS_EXTENSIONS)
        )


def _read_zip(path: Path, name: str, layer, id_columns) -> gpd.GeoDataFrame:
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise DataError(f"{name}: not a readable zip archive") from None
    with zf:
        shps = _kml.zip_members(zf, name, (".shp",))
        sidecars = _kml.zip_members(zf, name, ("fieldnames.csv",))
        names = (_sidecar_names(zf.read(sidecars[0]).decode("utf-8-sig"))
                 if sidecars else {})
    if len(shps) != 1:
        raise DataError(f"{name}: expected one .shp in the archive, found {len(shps)}")
    frame = _read_ogr(f"/vsizip/{path.resolve()}/{shps[0]}", name, layer, id_columns)
    # Shapefile names stop at 10 characters; minemap's own export writes the
    # full names beside the data, and they are restored here.
    return frame.rename(columns=names)


def _source_crs(frame, crs: str | None, name: str, ext: str):
    """The CRS the coordinates are in: ``"SK-42"``, or a pyproj CRS."""
    declared = frame.crs
    if crs is not None and is_sk42(crs):
        code = declared.to_epsg() if declared is not None else None
        if declared is not None and not (code and 28402 <= code <= 28432):
            raise UsageError(f"{name}: the file declares {crs_name(declared)}, which conflicts"
                             f" with --crs {crs}")
        return "SK-42"
    if crs is not None:
        given = parse_crs(crs)
        if declared is not None and not declared.equals(given, ignore_axis_order=True):
            raise UsageError(
                f"{name}: the file declares {crs_name(declared)}, which conflicts with --crs {crs}"
            )
        return given
    if declared is not None:
        return declared
    if ext in (".geojson", ".json", ".kml", ".kmz", ".csv"):
        # RFC 7946 and KML are WGS84 by definition; CSV is taken as lon/lat
        # unless --crs says otherwise.
        return parse_crs(WGS84)
    raise DataError(f"{name}: the file declares no CRS; give one with --crs (SK-42 for"
                    " Pulkovo 1942 Gauss-Krüger with the zone in the easting)")


def _transform(geoms: np.ndarray, t) -> np.ndarray:
    return shapely.transform(geoms, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def _swapped(geoms: np.ndarray, t) -> np.ndarray:
    return shapely.transform(geoms, lambda xy: np.column_stack(t.transform(xy[:, 1], xy[:, 0])))


def _to_wgs84(geoms: np.ndarray, src, aoi, name: str):
    """Geometries in WGS84, whether swapped axes would land in the area of
    interest, and the provenance (source CRS, operation)."""
    w, so, e, n = aoi or settings.aoi
    box = shapely.box(w, so, e, n)
    out = np.empty(len(geoms), dtype=object)
    swapped = np.empty(len(geoms), dtype=object)
    if src == "SK-42":
        # Each feature's zone from its easting (x); the swapped test takes
        # the zone from y, as a northing-first file would have it.
        xy, idx = shapely.get_coordinates(geoms, return_index=True)
        lo = np.full(len(geoms), np.inf)
        hi = np.full(len(geoms), -np.inf)
        np.minimum.at(lo, idx, xy[:, 0])
        np.maximum.at(hi, idx, xy[:, 0])
        zx, zhi = sk42_zone(lo), sk42_zone(hi)
        ylo = np.full(len(geoms), np.inf)
        np.minimum.at(ylo, idx, xy[:, 1])
        zy = sk42_zone(ylo)
        bad = np.flatnonzero((zx == 0) | (zx != zhi))
        if len(bad):
            i = int(bad[0])
            why = ("spans two zones" if zx[i] and zhi[i] else
                   f"easting {lo[i]:.0f} has no SK-42 zone prefix (8 664 944 is zone 8)")
            hint = ("; easting and northing look swapped" if zy[i] and not zx[i] else
                    "; give --crs EPSG:28408 (or the zone's code) for eastings without it")
            raise DataError(f"{name}: feature {i + 1}: {why}{hint}")
        used, ops = [], []
        for zone in sorted(set(zx[zx > 0].tolist())):
            sel = np.flatnonzero(zx == zone)
            t = to_wgs84(f"EPSG:{28400 + zone}", aoi=aoi)
            out[sel] = _transform(geoms[sel], t.transformer)
            used.append(t.source_crs)
            ops.append(t.description)
        for zone in sorted(set(zy[zy > 0].tolist())):
            sel = np.flatnonzero(zy == zone)
            t = to_wgs84(f"EPSG:{28400 + zone}", aoi=aoi)
            swapped[sel] = _swapped(geoms[sel], t.transformer)
        src_name, op = ";".join(used), " | ".join(ops)
    else:
        t = to_wgs84(src, aoi=aoi)
        out[:] = _transform(geoms, t.transformer)
        swapped[:] = _swapped(geoms, t.transformer)
        src_name, op = t.source_crs, t.description
    ok = ~shapely.is_missing(swapped)
    inside = np.zeros(len(geoms), dtype=bool)
    inside[ok] = shapely.within(swapped[ok], box)
    return out, inside, src_name, op


def read_features(
    path: str | os.PathLike,
    *,
    layer: str | None = None,
    crs: str | None = None,
    column_map: dict[str, str] | None = None,
    id_columns: tuple[str, ...] = ("record_id",),
    aoi: tuple[float, float, float, float] | None = None,
    data: bytes | None = None,
    polygons_only: bool = False,
    name: str | None = None,
) -> SourceFrame:
    """Read a GIS file (one layer) in bulk into WGS84 with provenance.

    Parameters
    ----------
    path
        A GeoJSON, GeoPackage, Shapefile (.shp or zipped), KML/KMZ or CSV.
    layer
        Layer name for multi-layer sources (GeoPackage).
    crs
        CRS for sources that do not declare one (``SK-42``: Gauss-Krüger
        zone from the easting).  A source that declares another is refused.
    column_map
        ``{field: column}``: take contract field ``field`` from ``column``.
    id_columns
        Columns that identify a record, used to name it in messages.
    aoi
        Area of interest used to choose the datum transformation.
    data
        The file's bytes, already read (CSV, KML, KMZ): parsed instead of the file.
    polygons_only
        A records file: KML placemarks that are not polygons are skipped
        with one warning.
    name
        How messages name the source (default: the file's name).

    Returns
    -------
    SourceFrame
    """
    path = Path(path)
    _check_path(path)
    name = name or path.name
    ext = path.suffix.lower()
    problems: list[Problem] = []
    notes: list[str] = []
    columns: dict[str, str] = {}
    if ext in _TEXT_FORMATS and data is None:
        data, _ = provenance.read_source_bytes(path)
    if ext in (".kml", ".kmz"):
        doc = _kml.kmz_document(data, name) if ext == ".kmz" else data
        frame, problems = _kml.read_kml_bytes(doc, name, polygons_only=polygons_only)
        lower = {str(c).lower() for c in frame.columns}
        mapped = column_map and "record_id" in column_map
        if polygons_only and "name" in frame and not mapped and not lower & set(ID_LIKE):
            frame = frame.rename(columns={"name": "record_id"})
            columns["record_id"] = "<name> (the Placemark's name)"
    elif ext == ".csv":
        frame, notes = _read_csv(data, name, id_columns)
    elif ext == ".zip":
        frame = _read_zip(path, name, layer, id_columns)
    else:
        frame = _read_ogr(str(path), name, layer, id_columns)
        sidecar = path.with_name(path.stem + ".fieldnames.csv")
        if ext == ".shp" and sidecar.exists():
            frame = frame.rename(columns=_sidecar_names(sidecar.read_text(encoding="utf-8-sig")))
    if len(frame.columns) > settings.max_columns:
        raise DataError(f"{name}: {len(frame.columns):,} attribute fields is more than the"
                        f" {settings.max_columns:,} a source may have (settings.max_columns)")
    src_crs = _source_crs(frame, crs, name, ext)

    if column_map:
        missing = [c for c in column_map.values() if c not in frame.columns]
        if missing:
            raise UsageError(
                f"{name}: --map names column {missing[0]!r}, which the file does not have;"
                f" columns are: {', '.join(map(str, frame.columns.drop('geometry')))}"
            )
        frame = frame.rename(columns={v: k for k, v in column_map.items()})
        columns.update({k: f"{v} (--map)" for k, v in column_map.items() if k != v})

    props = frame.drop(columns=frame.geometry.name)
    raw_props = (
        # split("\n"), not splitlines(): JSON escapes newlines in values, but
        # not U+2028 and the other characters splitlines() also breaks at.
        props.to_json(orient="records", lines=True, force_ascii=False, date_format="iso")
        .rstrip("\n").split("\n")
        if len(props.columns) and len(props)
        else ["{}"] * len(frame)
    )
    geoms = np.asarray(frame.geometry.values, dtype=object)
    swap_inside = None
    if src_crs != "SK-42" and parse_crs(src_crs).equals(parse_crs(WGS84),
                                                        ignore_axis_order=True):
        raw = raw_props
        out_geoms = geoms
        src_name, op = "EPSG:4326", "none (source is WGS84)"
    else:
        wkt = shapely.to_wkt(geoms, rounding_precision=-1)
        raw = [
            f'{{"properties": {p}, "geometry": {json.dumps(w)}}}' for p, w in zip(raw_props, wkt)
        ]
        out_geoms, swap_inside, src_name, op = _to_wgs84(geoms, src_crs, aoi, name)
        notes.append(f"{name}: coordinates from {src_name} by {op}")
    result = gpd.GeoDataFrame(props.reset_index(drop=True), geometry=out_geoms, crs=WGS84)
    result["_feature"] = np.arange(1, len(result) + 1)
    result["_raw"] = raw
    result["_src_geom"] = geoms
    if swap_inside is not None:
        result["_swap_inside"] = swap_inside
    return SourceFrame(
        frame=result, name=name, path=path, source_crs=src_name, transformation=op,
        problems=problems, columns=columns, notes=notes,
    )


def ring_vertices(ids: list[str], handover: list[str], geoms_ll: np.ndarray,
                  geoms_src: np.ndarray) -> gpd.GeoDataFrame:
    """Turning points TP1…TPn in the source ring's own order and starting vertex.

    Taken from the geometries as read, before any repair or RFC 7946
    orientation, so that GPX waypoints, TP tables and sheets number the
    corners as the source file does (DESIGN §12).  Each part's exterior ring
    is walked in turn, without its closing vertex and without consecutive
    repeated points; holes are not turning points of the perimeter.

    Returns
    -------
    geopandas.GeoDataFrame
        ``schema.VERTEX_COLUMNS`` + point geometry (WGS84), with the source
        CRS coordinates in ``raw_x``/``raw_y``.
    """
    geoms_ll = np.asarray(geoms_ll, dtype=object)
    geoms_src = np.asarray(geoms_src, dtype=object)
    ok = ~shapely.is_missing(geoms_ll) & ~shapely.is_missing(geoms_src)
    ok[ok] = (np.isin(shapely.get_type_id(geoms_ll[ok]), (3, 6))
              & ~shapely.is_empty(geoms_ll[ok]))
    rec = np.flatnonzero(ok)
    parts_l, pi_l = shapely.get_parts(geoms_ll[rec], return_index=True)
    parts_s, pi_s = shapely.get_parts(geoms_src[rec], return_index=True)
    xy_l, ci_l = shapely.get_coordinates(shapely.get_exterior_ring(parts_l), return_index=True)
    xy_s, ci_s = shapely.get_coordinates(shapely.get_exterior_ring(parts_s), return_index=True)
    if len(xy_l) != len(xy_s) or not np.array_equal(ci_l, ci_s):
        # The source and WGS84 geometries come from one another point by
        # point; a mismatch would mean no vertex order can be trusted.
        raise ValueError("source and WGS84 geometries differ in structure")
    owner = rec[pi_l[ci_l]]
    # Without each ring's closing vertex, and without consecutive repeats
    # within a record (digitising artefacts the stored polygon drops too).
    last = np.ones(len(ci_l), dtype=bool)
    last[:-1] = ci_l[1:] != ci_l[:-1]
    keep = ~last
    same = np.zeros(len(ci_l), dtype=bool)
    same[1:] = (owner[1:] == owner[:-1]) & (xy_l[1:] == xy_l[:-1]).all(axis=1)
    keep &= ~same
    xy_l, xy_s, owner = xy_l[keep], xy_s[keep], owner[keep]
    start = np.ones(len(owner), dtype=bool)
    start[1:] = owner[1:] != owner[:-1]
    first = np.flatnonzero(start)
    number = np.arange(len(owner)) - np.repeat(first, np.diff(np.append(first, len(owner)))) + 1
    ids_a = np.asarray(ids, dtype=object)
    ho_a = np.asarray(handover, dtype=object)
    frame = pd.DataFrame({
        "record_id": ids_a[owner], "handover": ho_a[owner], "vertex": number.astype("int64"),
        "label": [f"TP{n}" for n in number.tolist()], "point_type": "turning",
        "raw_x": xy_s[:, 0].astype(float), "raw_y": xy_s[:, 1].astype(float),
    })
    return gpd.GeoDataFrame(frame, geometry=shapely.points(xy_l[:, 0], xy_l[:, 1]), crs=WGS84)
