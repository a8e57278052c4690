"""Readers for GIS files: GeoJSON, GeoPackage, Shapefile (.shp or .zip),
KML/KMZ and CSV (WKT or lon/lat columns).

Files are read in bulk with pyogrio.  Only when a bulk read fails is the file
read again feature by feature with fiona, so that the error names the
record.  KML is parsed with defusedxml (never GDAL's or the standard
library's unguarded XML parsers), and archives are read in place, never
extracted, so a member named ``../x`` cannot escape its folder.
"""

from __future__ import annotations

import csv
import io
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from defusedxml import ElementTree as SafeET

from minemap import settings
from minemap._errors import DataError, Problem, UsageError
from minemap.geo.crs import WGS84, Transformation, crs_name, parse_crs, to_wgs84

#: Extensions read by :func:`read_features`.
GIS_EXTENSIONS = (".geojson", ".json", ".gpkg", ".shp", ".zip", ".kml", ".kmz", ".csv")

_WKT_COLUMNS = ("wkt", "geometry", "geom", "the_geom")
_LONLAT_COLUMNS = (("lon", "lat"), ("longitude", "latitude"), ("lng", "lat"), ("x", "y"))


@dataclass
class SourceFrame:
    """Features of one source file, in WGS84, with provenance.

    Attributes
    ----------
    frame
        GeoDataFrame in EPSG:4326.  Column ``_feature`` is the 1-based
        feature number in the file; ``_raw`` is the feature as received (its
        properties as JSON, plus the original geometry as WKT when the file
        was not in WGS84).
    name
        The file's name, as used in messages and provenance.
    source_crs, transformation
        The file's CRS and the pyproj operation used to reach WGS84.
    problems
        Problems found while reading.
    """

    frame: gpd.GeoDataFrame
    name: str
    path: Path
    source_crs: str
    transformation: str
    problems: list[Problem] = field(default_factory=list)


def _safe_member(name: str) -> bool:
    p = PurePosixPath(name.replace("\\", "/"))
    return not p.is_absolute() and ".." not in p.parts and not name.startswith("/")


#: Largest uncompressed archive member read (bytes), and the largest
#: expansion ratio of a big member: beyond either, it is refused as a likely
#: zip bomb rather than read into memory.
MAX_MEMBER_BYTES = 2 * 1024**3
MAX_RATIO = 200
_RATIO_FLOOR = 50 * 1024**2


def _zip_members(path: Path, suffixes: tuple[str, ...]) -> list[str]:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except zipfile.BadZipFile:
        raise DataError(f"{path.name}: not a readable zip archive") from None
    bad = [i.filename for i in infos if not _safe_member(i.filename)]
    if bad:
        raise DataError(
            f"{path.name}: archive member {bad[0]!r} points outside its folder; refused"
        )
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > MAX_MEMBER_BYTES or (
            info.file_size > _RATIO_FLOOR and ratio > MAX_RATIO
        ):
            raise DataError(
                f"{path.name}: archive member {info.filename!r} expands to"
                f" {info.file_size / 1024**2:,.0f} MB ({ratio:,.0f}× its stored size);"
                " refused as unsafe"
            )
    return [i.filename for i in infos if i.filename.lower().endswith(suffixes)]


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


def _read_ogr(path: str, name: str, layer: str | None, id_columns) -> gpd.GeoDataFrame:
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
        if path.lower().endswith((".geojson", ".json")):
            try:
                json.loads(Path(path).read_text(encoding="utf-8"))
            except json.JSONDecodeError as jexc:
                raise DataError(f"{name}: not valid JSON: {jexc}") from None
            except UnicodeDecodeError as uexc:
                raise DataError(f"{name}: not UTF-8 text: {uexc}") from None
        located = _fiona_locate(path, layer, name, id_columns)
        raise DataError(located or f"{name}: cannot be read: {msg}") from None


# -- KML --------------------------------------------------------------------

_KML_NS = "{http://www.opengis.net/kml/2.2}"


def _strip_ns(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _kml_coords(text: str | None) -> list[tuple[float, float]]:
    pts = []
    for tok in (text or "").split():
        parts = tok.split(",")
        pts.append((float(parts[0]), float(parts[1])))
    return pts


def _kml_geometry(el) -> shapely.Geometry | None:
    tag = _strip_ns(el.tag)
    if tag == "Polygon":
        shell: list = []
        holes: list = []
        for child in el:
            ctag = _strip_ns(child.tag)
            rings = [c for c in child.iter() if _strip_ns(c.tag) == "coordinates"]
            if not rings:
                continue
            if ctag == "outerBoundaryIs":
                shell = _kml_coords(rings[0].text)
            elif ctag == "innerBoundaryIs":
                holes.extend(_kml_coords(r.text) for r in rings)
        return shapely.Polygon(shell, holes) if shell else shapely.Polygon()
    if tag == "Point":
        coords = [c for c in el if _strip_ns(c.tag) == "coordinates"]
        pts = _kml_coords(coords[0].text) if coords else []
        return shapely.Point(pts[0]) if pts else shapely.Point()
    if tag == "LineString":
        coords = [c for c in el if _strip_ns(c.tag) == "coordinates"]
        return shapely.LineString(_kml_coords(coords[0].text) if coords else [])
    if tag == "MultiGeometry":
        parts = [g for g in (_kml_geometry(c) for c in el) if g is not None]
        polys = [p for p in parts if p.geom_type == "Polygon"]
        if polys and len(polys) == len(parts):
            return shapely.MultiPolygon(polys)
        return shapely.GeometryCollection(parts)
    return None


def _read_kml_bytes(data: bytes, name: str) -> gpd.GeoDataFrame:
    try:
        root = SafeET.fromstring(data)
    except Exception as exc:  # noqa: BLE001 - defusedxml raises several kinds
        raise DataError(f"{name}: not valid or not safe KML: {exc}") from None
    records = []
    geoms = []
    for number, pm in enumerate(
        (e for e in root.iter() if _strip_ns(e.tag) == "Placemark"), start=1
    ):
        props: dict[str, object] = {}
        geom = None
        for child in pm:
            tag = _strip_ns(child.tag)
            if tag == "name" and child.text:
                props["name"] = child.text.strip()
            elif tag == "ExtendedData":
                for d in child.iter():
                    dtag = _strip_ns(d.tag)
                    if dtag == "Data" and d.get("name"):
                        val = [v for v in d if _strip_ns(v.tag) == "value"]
                        props[d.get("name")] = val[0].text if val else None
                    elif dtag == "SimpleData" and d.get("name"):
                        props[d.get("name")] = d.text
            else:
                g = _kml_geometry(child)
                if g is not None:
                    geom = g
        try:
            records.append(props)
            geoms.append(geom)
        except ValueError as exc:
            raise DataError(f"{name}: feature {number}: bad coordinates: {exc}") from None
    frame = pd.DataFrame.from_records(records) if records else pd.DataFrame()
    return gpd.GeoDataFrame(frame, geometry=np.array(geoms, dtype=object), crs=WGS84)


def _read_kml(path: Path) -> gpd.GeoDataFrame:
    if path.suffix.lower() == ".kmz":
        members = _zip_members(path, (".kml",))
        if not members:
            raise DataError(f"{path.name}: the KMZ holds no .kml document")
        doc = "doc.kml" if "doc.kml" in members else members[0]
        with zipfile.ZipFile(path) as zf:
            data = zf.read(doc)
    else:
        data = path.read_bytes()
    try:
        return _read_kml_bytes(data, path.name)
    except ValueError as exc:
        raise DataError(f"{path.name}: bad KML coordinates: {exc}") from None


# -- CSV --------------------------------------------------------------------


def _read_csv(path: Path, id_columns: tuple[str, ...]) -> gpd.GeoDataFrame:
    try:
        # A row with more or fewer fields than the header (an unquoted WKT,
        # say) is refused, never shifted into other columns or cut.
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = csv.reader(fh)
            header = next(rows, [])
            for number, row in enumerate(rows, start=2):
                if row and len(row) != len(header):
                    raise DataError(
                        f"{path.name}: line {number} has {len(row)} fields, the header"
                        f" {len(header)} (quote WKT values that contain commas)"
                    )
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except DataError:
        raise
    except UnicodeDecodeError as exc:
        raise DataError(f"{path.name}: is not UTF-8 text (byte {exc.start}); save it as"
                        " UTF-8") from None
    except Exception as exc:  # noqa: BLE001
        raise DataError(f"{path.name}: cannot be read as CSV: {exc}".splitlines()[0]) from None
    lower = {c.lower(): c for c in frame.columns}
    for w in _WKT_COLUMNS:
        if w in lower:
            col = lower[w]
            geoms = np.empty(len(frame), dtype=object)
            for i, text in enumerate(frame[col]):
                if not text.strip():
                    geoms[i] = None
                    continue
                try:
                    geoms[i] = shapely.from_wkt(text)
                except shapely.errors.ShapelyError as exc:
                    label = _feature_label(frame.iloc[i].to_dict(), i + 1, id_columns)
                    raise DataError(
                        f"{path.name}: record {label}: bad WKT geometry: {exc}"
                    ) from None
            return gpd.GeoDataFrame(frame.drop(columns=[col]), geometry=geoms)
    for xname, yname in _LONLAT_COLUMNS:
        if xname in lower and yname in lower:
            xs = pd.to_numeric(frame[lower[xname]], errors="coerce")
            ys = pd.to_numeric(frame[lower[yname]], errors="coerce")
            bad = np.flatnonzero(xs.isna().to_numpy() | ys.isna().to_numpy())
            if len(bad):
                i = int(bad[0])
                label = _feature_label(frame.iloc[i].to_dict(), i + 1, id_columns)
                raise DataError(
                    f"{path.name}: record {label}: {xname}/{yname} are not numbers"
                )
            geoms = shapely.points(xs.to_numpy(), ys.to_numpy())
            return gpd.GeoDataFrame(
                frame.drop(columns=[lower[xname], lower[yname]]), geometry=geoms
            )
    raise DataError(
        f"{path.name}: no geometry column: give a WKT column ({', '.join(_WKT_COLUMNS)})"
        " or lon/lat columns"
    )


# -- entry point --------------------------------------------------------------


def read_features(
    path: str | os.PathLike,
    *,
    layer: str | None = None,
    crs: str | None = None,
    column_map: dict[str, str] | None = None,
    id_columns: tuple[str, ...] = ("record_id",),
    aoi: tuple[float, float, float, float] | None = None,
) -> SourceFrame:
    """Read a GIS file in bulk into WGS84 with provenance.

    Parameters
    ----------
    path
        A GeoJSON, GeoPackage, Shapefile (.shp or zipped), KML/KMZ or CSV.
    layer
        Layer name for multi-layer sources (GeoPackage).
    crs
        CRS for sources that do not declare one.  A source that declares a
        different CRS is refused.
    column_map
        ``{field: column}``: take contract field ``field`` from ``column``.
    id_columns
        Columns that identify a record, used to name it in messages.
    aoi
        Area of interest used to choose the datum transformation.

    Returns
    -------
    SourceFrame
    """
    path = Path(path)
    name = path.name
    if not path.exists():
        raise UsageError(f"{path}: no such file")
    ext = path.suffix.lower()
    if ext not in GIS_EXTENSIONS:
        raise UsageError(
            f"{name}: unsupported file type {ext or '(none)'}; readable: "
            + ", ".join(GIS_EXTENSIONS)
        )
    if ext in (".kml", ".kmz"):
        frame = _read_kml(path)
    elif ext == ".csv":
        frame = _read_csv(path, id_columns)
    elif ext == ".zip":
        shps = _zip_members(path, (".shp",))
        if len(shps) != 1:
            raise DataError(
                f"{name}: expected one .shp in the archive, found {len(shps)}"
            )
        frame = _read_ogr(f"/vsizip/{path.resolve()}/{shps[0]}", name, layer, id_columns)
        # Shapefile names stop at 10 characters; minemap's own export writes
        # the full names beside the data, and they are restored here.
        sidecars = _zip_members(path, ("fieldnames.csv",))
        if sidecars:
            with zipfile.ZipFile(path) as zf:
                names = _sidecar_names(zf.read(sidecars[0]).decode("utf-8-sig"))
            frame = frame.rename(columns=names)
    else:
        if ext == ".gpkg" and layer is None:
            try:
                # Attribute tables (QGIS's layer_styles, …) are not candidates.
                layers = [lyr[0] for lyr in pyogrio.list_layers(path) if lyr[1] is not None]
            except Exception:  # noqa: BLE001
                layers = []
            if len(layers) == 1:
                layer = layers[0]
            elif len(layers) > 1:
                raise UsageError(
                    f"{name}: holds several layers ({', '.join(layers)}); choose one with --layer"
                )
        frame = _read_ogr(str(path), name, layer, id_columns)
        sidecar = path.with_name(path.stem + ".fieldnames.csv")
        if ext == ".shp" and sidecar.exists():
            frame = frame.rename(columns=_sidecar_names(sidecar.read_text(encoding="utf-8-sig")))

    declared = frame.crs
    if crs is not None:
        given = parse_crs(crs)
        if declared is not None and not declared.equals(given, ignore_axis_order=True):
            raise UsageError(
                f"{name}: the file declares {crs_name(declared)}, which conflicts with --crs {crs}"
            )
        src_crs = given
    elif declared is not None:
        src_crs = declared
    elif ext in (".geojson", ".json", ".kml", ".kmz", ".csv"):
        # RFC 7946 and KML are WGS84 by definition; CSV is taken as lon/lat
        # unless --crs says otherwise.
        src_crs = parse_crs(WGS84)
    else:
        raise DataError(f"{name}: the file declares no CRS; give one with --crs")

    if column_map:
        missing = [c for c in column_map.values() if c not in frame.columns]
        if missing:
            raise UsageError(
                f"{name}: --map names column {missing[0]!r}, which the file does not have;"
                f" columns are: {', '.join(map(str, frame.columns.drop('geometry')))}"
            )
        frame = frame.rename(columns={v: k for k, v in column_map.items()})

    props = frame.drop(columns=frame.geometry.name)
    raw_props = (
        # split("\n"), not splitlines(): JSON escapes newlines in values, but
        # not U+2028 and the other characters splitlines() also breaks at.
        props.to_json(orient="records", lines=True, force_ascii=False, date_format="iso")
        .rstrip("\n").split("\n")
        if len(props.columns)
        else ["{}"] * len(frame)
    )
    geoms = np.asarray(frame.geometry.values, dtype=object)
    transformation: Transformation | None = None
    if parse_crs(src_crs).equals(parse_crs(WGS84), ignore_axis_order=True):
        raw = raw_props
        out_geoms = geoms
        src_name, op = "EPSG:4326", "none (source is WGS84)"
    else:
        transformation = to_wgs84(src_crs, aoi=aoi)
        wkt = shapely.to_wkt(geoms, rounding_precision=-1)
        raw = [
            f'{{"properties": {p}, "geometry": {json.dumps(w)}}}' for p, w in zip(raw_props, wkt)
        ]
        t = transformation.transformer
        out_geoms = shapely.transform(
            geoms, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1]))
        )
        src_name, op = transformation.source_crs, transformation.description
        # Would the source's two axes, exchanged, land in the area of
        # interest?  (EPSG:28408 is northing-first: a classic confusion.)
        swapped = shapely.transform(
            geoms, lambda xy: np.column_stack(t.transform(xy[:, 1], xy[:, 0]))
        )
        w, so, e, n = aoi or settings.aoi
        ok = ~shapely.is_missing(swapped)
        swap_inside = np.zeros(len(geoms), dtype=bool)
        swap_inside[ok] = shapely.within(swapped[ok], shapely.box(w, so, e, n))
    result = gpd.GeoDataFrame(props.reset_index(drop=True), geometry=out_geoms, crs=WGS84)
    result["_feature"] = np.arange(1, len(result) + 1)
    result["_raw"] = raw
    if transformation is not None:
        result["_swap_inside"] = swap_inside
    return SourceFrame(
        frame=result, name=name, path=path, source_crs=src_name, transformation=op
    )
