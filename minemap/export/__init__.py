"""Exports: GeoJSON, GeoPackage with QGIS styles, Shapefile, KML, GPX, CSV and XLSX.

One module per format (:mod:`~minemap.export.geojson`, :mod:`~minemap.export.gpkg`,
:mod:`~minemap.export.shapefile`, :mod:`~minemap.export.kml`,
:mod:`~minemap.export.gpx`, :mod:`~minemap.export.csv`,
:mod:`~minemap.export.xlsx`), each with a private ``_write_<format>``; what
they share is in :mod:`~minemap.export.common` (names, checks, values,
temporary files), :mod:`~minemap.export.geometry` (snapped, valid, oriented
geometries), :mod:`~minemap.export.frames` (frames typed for OGR),
:mod:`~minemap.export.qgis` (default styles), :mod:`~minemap.export.projection`
(``--crs``), :mod:`~minemap.export.vertices` (turning points in the
record's order) and :mod:`~minemap.export.rounding` (the one rounding rule for
tables people read).  The public functions are re-exported here; the writers
receive frames that the caller has already queried and filtered and never
recompute the science.
"""

from __future__ import annotations

from minemap._lazy import lazy_attributes

# Imported on first use (minemap._lazy).
_LAZY: dict[str, str] = {
    "CATEGORY_COLOURS": "minemap.export.qgis",
    "COUNT_COLUMNS": "minemap.export.common",
    "FORMATS": "minemap.export.common",
    "HXL_TAGS": "minemap.export.csv",
    "ID_COLUMNS": "minemap.export.common",
    "LAYERS": "minemap.export.common",
    "OTHER_COLOUR": "minemap.export.qgis",
    "PROJECTED_FORMATS": "minemap.export.dispatch",
    "Projection": "minemap.export.projection",
    "SHAPEFILE_FIELD_NAMES": "minemap.export.shapefile",
    "SINGLE_COLOURS": "minemap.export.qgis",
    "TABLE_FORMATS": "minemap.export.tables",
    "TEMP_PREFIX": "minemap.export.common",
    "check_table_output": "minemap.export.tables",
    "decimals_for": "minemap.export.rounding",
    "hxl_tags": "minemap.export.csv",
    "prepare_geometries": "minemap.export.geometry",
    "projection_for": "minemap.export.projection",
    "remove_stale_temporaries": "minemap.export.common",
    "round_table": "minemap.export.rounding",
    "shapefile_field_names": "minemap.export.shapefile",
    "style_for": "minemap.export.qgis",
    "to_geojson_dict": "minemap.export.geojson",
    "tp_table": "minemap.export.vertices",
    "turning_points": "minemap.export.vertices",
    "write": "minemap.export.dispatch",
    "write_table": "minemap.export.tables",
    "write_table_csv": "minemap.export.csv",
    "write_table_xlsx": "minemap.export.xlsx",
}


__getattr__, __dir__ = lazy_attributes(globals(), _LAZY)


__all__ = [
    "CATEGORY_COLOURS",
    "COUNT_COLUMNS",
    "FORMATS",
    "HXL_TAGS",
    "ID_COLUMNS",
    "LAYERS",
    "OTHER_COLOUR",
    "PROJECTED_FORMATS",
    "Projection",
    "SHAPEFILE_FIELD_NAMES",
    "SINGLE_COLOURS",
    "TABLE_FORMATS",
    "TEMP_PREFIX",
    "check_table_output",
    "decimals_for",
    "hxl_tags",
    "prepare_geometries",
    "projection_for",
    "remove_stale_temporaries",
    "round_table",
    "shapefile_field_names",
    "style_for",
    "to_geojson_dict",
    "tp_table",
    "turning_points",
    "write",
    "write_table",
    "write_table_csv",
    "write_table_xlsx",
]
