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

from minemap.export.common import (
    COUNT_COLUMNS,
    FORMATS,
    ID_COLUMNS,
    LAYERS,
    TEMP_PREFIX,
    remove_stale_temporaries,
)
from minemap.export.csv import HXL_TAGS, hxl_tags, write_table_csv
from minemap.export.dispatch import PROJECTED_FORMATS, write
from minemap.export.geojson import to_geojson_dict
from minemap.export.geometry import prepare_geometries
from minemap.export.projection import Projection, projection_for
from minemap.export.qgis import (
    CATEGORY_COLOURS,
    OTHER_COLOUR,
    SINGLE_COLOURS,
    style_for,
)
from minemap.export.rounding import decimals_for, round_table
from minemap.export.shapefile import SHAPEFILE_FIELD_NAMES, shapefile_field_names
from minemap.export.tables import TABLE_FORMATS, write_table
from minemap.export.vertices import tp_table, turning_points
from minemap.export.xlsx import write_table_xlsx

__all__ = [
    "CATEGORY_COLOURS", "COUNT_COLUMNS", "FORMATS", "HXL_TAGS", "ID_COLUMNS", "LAYERS",
    "OTHER_COLOUR", "PROJECTED_FORMATS", "Projection", "SHAPEFILE_FIELD_NAMES",
    "SINGLE_COLOURS", "TABLE_FORMATS", "TEMP_PREFIX", "decimals_for", "hxl_tags",
    "prepare_geometries", "projection_for", "remove_stale_temporaries",
    "round_table", "shapefile_field_names", "style_for", "to_geojson_dict", "tp_table",
    "turning_points", "write", "write_table", "write_table_csv", "write_table_xlsx",
]
