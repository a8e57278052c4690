"""Geodesy and reference data: CRS and datums, angles, magnetic declination, geometry, districts."""
