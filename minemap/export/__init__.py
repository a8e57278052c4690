"""Exports: GeoJSON, GeoPackage with QGIS styles, Shapefile, KML, GPX and CSV."""
