"""KML and KMZ as Google Earth writes them (DESIGN §11).

Parsed with defusedxml (no entities, no DTDs, no external references), as a
stream: each Placemark is cleared once read, so memory follows the features
kept, not the document's tree.  A KMZ's document is decompressed in chunks
up to ``settings.max_source_bytes`` and refused beyond, whatever the archive
claims its size is.  Nesting deeper than ``settings.max_xml_depth`` is
refused before anything recursive runs.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePosixPath

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from defusedxml import ElementTree as SafeET

from minemap import settings
from minemap._errors import DataError, Problem

#: Largest uncompressed archive member read (bytes), and the largest
#: expansion ratio of a big member: beyond either, it is refused as a likely
#: zip bomb rather than read.
MAX_MEMBER_BYTES = 2 * 1024**3
MAX_RATIO = 200
_RATIO_FLOOR = 50 * 1024**2


def _strip_ns(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def safe_member(name: str) -> bool:
    """Whether an archive member stays inside its folder."""
    p = PurePosixPath(name.replace("\\", "/"))
    return not p.is_absolute() and ".." not in p.parts and not name.startswith("/")


def zip_members(zf: zipfile.ZipFile, name: str, suffixes: tuple[str, ...]) -> list[str]:
    """Members ending in ``suffixes``; the archive is refused if any is unsafe."""
    infos = zf.infolist()
    bad = [i.filename for i in infos if not safe_member(i.filename)]
    if bad:
        raise DataError(f"{name}: archive member {bad[0]!r} points outside its folder; refused")
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > MAX_MEMBER_BYTES or (
            info.file_size > _RATIO_FLOOR and ratio > MAX_RATIO
        ):
            raise DataError(
                f"{name}: archive member {info.filename!r} expands to"
                f" {info.file_size / 1024**2:,.0f} MB ({ratio:,.0f}× its stored size);"
                " refused as unsafe"
            )
    return [i.filename for i in infos if i.filename.lower().endswith(suffixes)]


def kmz_document(data: bytes, name: str) -> bytes:
    """The KML document of a KMZ, decompressed up to the size limit."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise DataError(f"{name}: not a readable zip archive") from None
    with zf:
        members = zip_members(zf, name, (".kml",))
        if not members:
            raise DataError(f"{name}: the KMZ holds no .kml document")
        doc = "doc.kml" if "doc.kml" in members else members[0]
        limit = settings.max_source_bytes
        out = io.BytesIO()
        with zf.open(doc) as fh:
            # Counted as decompressed, not as the archive declares.
            while chunk := fh.read(1 << 20):
                out.write(chunk)
                if out.tell() > limit:
                    raise DataError(f"{name}: {doc} expands to more than"
                                    f" {limit / 1024**2:,.0f} MB (settings.max_source_bytes);"
                                    " refused")
        return out.getvalue()


def _coords(text: str | None) -> list[tuple[float, float]]:
    pts = []
    for tok in (text or "").split():
        parts = tok.split(",")
        pts.append((float(parts[0]), float(parts[1])))
    return pts


def _first_coords(el) -> str | None:
    for c in el.iter():
        if _strip_ns(c.tag) == "coordinates":
            return c.text
    return None


def _geometry(el) -> shapely.Geometry | None:
    # Recursive only over MultiGeometry, whose depth the parser has bounded.
    tag = _strip_ns(el.tag)
    if tag == "Polygon":
        shell: list = []
        holes: list = []
        for child in el:
            ctag = _strip_ns(child.tag)
            if ctag == "outerBoundaryIs":
                shell = _coords(_first_coords(child))
            elif ctag == "innerBoundaryIs":
                holes.extend(_coords(c.text) for c in child.iter()
                             if _strip_ns(c.tag) == "coordinates")
        return shapely.Polygon(shell, holes) if shell else shapely.Polygon()
    if tag == "Point":
        pts = _coords(_first_coords(el))
        return shapely.Point(pts[0]) if pts else shapely.Point()
    if tag in ("LineString", "LinearRing"):
        return shapely.LineString(_coords(_first_coords(el)))
    if tag == "MultiGeometry":
        parts = [g for g in (_geometry(c) for c in el) if g is not None]
        polys = [p for p in parts if p.geom_type == "Polygon"]
        if polys and len(polys) == len(parts):
            return shapely.MultiPolygon(polys)
        return shapely.GeometryCollection(parts)
    return None


def _placemark(pm) -> tuple[dict, shapely.Geometry | None]:
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
                    val = [x for x in d if _strip_ns(x.tag) == "value"]
                    props[d.get("name")] = val[0].text if val else None
                elif dtag == "SimpleData" and d.get("name"):
                    props[d.get("name")] = d.text
        else:
            g = _geometry(child)
            if g is not None:
                geom = g
    return props, geom


def read_kml_bytes(data: bytes, name: str, *, polygons_only: bool = False
                   ) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Placemarks of a KML document as a frame in WGS84.

    Parameters
    ----------
    polygons_only
        A records file: Placemarks that are not polygons (a landmark, a
        route) are skipped with one warning naming them.
    """
    records, geoms, skipped, problems = [], [], [], []
    folders: list[str | None] = []
    depth = in_pm = 0
    number = 0
    try:
        for event, el in SafeET.iterparse(io.BytesIO(data), events=("start", "end")):
            tag = _strip_ns(el.tag)
            if event == "start":
                depth += 1
                if depth > settings.max_xml_depth:
                    raise DataError(f"{name}: elements nested more than"
                                    f" {settings.max_xml_depth} deep (settings.max_xml_depth);"
                                    " not a KML minemap reads")
                if tag in ("Folder", "Document"):
                    folders.append(None)
                elif tag == "Placemark":
                    in_pm += 1
                continue
            depth -= 1
            if tag == "name" and not in_pm and folders and folders[-1] is None and el.text:
                folders[-1] = el.text.strip()
            if tag in ("Folder", "Document"):
                folders.pop()
                el.clear()
            elif tag == "Placemark":
                in_pm -= 1
                number += 1
                try:
                    props, geom = _placemark(el)
                except (ValueError, IndexError) as exc:
                    raise DataError(f"{name}: feature {number}: bad coordinates: {exc}") from None
                el.clear()
                if polygons_only and geom is not None and geom.geom_type not in (
                        "Polygon", "MultiPolygon"):
                    where = next((f for f in reversed(folders) if f), None)
                    label = str(props.get("name") or f"feature {number}")
                    skipped.append(f"{label!r} ({geom.geom_type}"
                                   + (f", folder {where!r})" if where else ")"))
                    continue
                records.append(props)
                geoms.append(geom)
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 - defusedxml raises several kinds
        raise DataError(f"{name}: not valid or not safe KML: {str(exc).splitlines()[0]}"
                        ) from None
    if skipped:
        shown = ", ".join(skipped[:10]) + (f", … ({len(skipped) - 10} more)"
                                           if len(skipped) > 10 else "")
        problems.append(Problem(name, None, f"skipped {len(skipped)} placemark(s) that are not"
                                f" fields: {shown}", "warning"))
    frame = pd.DataFrame.from_records(records) if records else pd.DataFrame()
    return gpd.GeoDataFrame(frame, geometry=np.array(geoms, dtype=object),
                            crs="EPSG:4326"), problems
