"""Traverse (survey) minefield records → polygons, vertices and mine rows.

A traverse record gives a reference point and then walks the perimeter leg by
leg, each leg a bearing and a horizontal ground distance (DESIGN §2, §6; the
file formats are described in ``docs/traverse.md``).  This package reads such
records from YAML or CSV, computes where the turning points are, adjusts a
closed traverse by the Bowditch (compass) rule and returns GeoDataFrames in
the record schema (:mod:`minemap.records.schema`) together with every problem found.

How a leg is computed depends on the north reference:

grid
    A plane traverse in the projected CRS of the reference point (its UTM
    zone for lat/lon and MGRS reference points).  Each ground distance is
    multiplied by the projection's point scale factor at the leg's start.
magnetic with ``direction_correction``
    The correction turns magnetic bearings into grid bearings; then as grid.
true
    Geodesic direct problem on the WGS84 ellipsoid (``pyproj.Geod.fwd``).
magnetic otherwise
    ``declination_deg`` from the record, or IGRF-14 at ``laid_date`` (else
    the handover date), turns magnetic bearings into true ones; then as true.

The package: :mod:`._spec` (values and the record specification), :mod:`._parse`
and :mod:`._refs` (a record's fields and reference point), :mod:`._compute` (the
walk), :mod:`._read` (the file) and :mod:`._positions` (mines along rows).

A file with any refused record is refused whole: the frames come back empty
and ``problems`` lists every error of every record, not just the first.
"""

from __future__ import annotations

from minemap.readers.traverse._positions import mine_positions
from minemap.readers.traverse._read import TraverseResult, is_traverse_file, read_traverse

__all__ = ["TraverseResult", "is_traverse_file", "read_traverse", "mine_positions"]
