"""KML for Google Earth: styled placemarks, escaped balloons, typed ExtendedData.

Written with ElementTree (no well-kept KML writer adds anything here:
``simplekml`` has no typed Schema/SchemaData and would be one more
dependency); files are read back with defusedxml in the tests.
"""

from __future__ import annotations

import html
from typing import IO
from xml.etree import ElementTree as ET

import geopandas
import numpy as np
import pandas as pd
import shapely

from minemap.export.common import _column_values, _fmt, _ids, _text, _xml_text
from minemap.export.frames import _for_ogr
from minemap.export.qgis import CATEGORY_COLOURS, OTHER_COLOUR, SINGLE_COLOURS, style_for

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
