"""Global settings, in the osmnx style.

Each module-level variable below is read at call time, so a script or a
notebook can change it once::

    import minemap
    minemap.settings.sliver_m = 1.0

These are the only module-level mutable values in minemap.  Functions that
take a setting as a keyword argument use the value here when it is ``None``.
"""

from __future__ import annotations

#: Default area of interest (west, south, east, north) in WGS84 degrees:
#: the districts affected by the 1990s and 2020 conflicts (DESIGN §3).
aoi: tuple[float, float, float, float] = (45.55, 38.85, 47.55, 40.55)

#: A part of a field is a sliver only if no part of it is wider than this
#: (metres, tested with a negative buffer of ``sliver_m / 2`` in UTM) ...
sliver_m: float = 2.0

#: ... and it covers at most this share of the field's area.
sliver_share: float = 0.01

#: Ground metres each field of a handover is buffered by (in its UTM zone);
#: the union is the handover's footprint for accuracy statistics, and finds
#: beyond every footprint are "unmapped" (DESIGN §5, §13).
accuracy_buffer_m: float = 500.0

#: ``offsets``: the largest shift searched (metres east and north).  The
#: Pulkovo 1942 datum shift is 100-150 m here.
offset_search_m: float = 300.0

#: ``offsets``: fewer finds than this near a map give no estimate.
offset_min_finds: int = 10

#: ``offsets``: bootstrap resamples behind ``ci95_m``.
offset_bootstrap: int = 200

#: ``suspects``: each group of finds and incidents is buffered by this (metres).
suspect_buffer_m: float = 50.0

#: Largest accepted traverse misclosure, as N in 1:N of the perimeter.
misclosure_tolerance: int = 200

#: A misclosure worse than 1:N with this N is highlighted on the map.
misclosure_highlight: int = 1000

#: Decimal places of exported GeoJSON coordinates.
geojson_precision: int = 6

#: Precision below this many decimals (worse than about 1 m) needs
#: ``allow_coarse``.
min_precision: int = 5

#: geocheck: consecutive vertices further apart than this (metres) warn.
max_vertex_gap_m: float = 5000.0

#: geocheck: fields of one handover overlapping by more than this share warn.
overlap_warn_share: float = 0.9

#: Display-only simplification tolerance of the map (metres).  Boundaries are
#: never moved inward by more than this.
display_tolerance_m: float = 1.0

#: Warn when a rendered map is larger than this many megabytes.
html_budget_mb: float = 25.0

#: Largest basemap inlined into a map (``--basemap`` with ``--offline``, or
#: any ``.mbtiles``), in megabytes of page: zoom levels are added from the
#: coarsest until the next would pass it, and a warning names those left out.
basemap_inline_mb: float = 8.0

#: A report text larger than this many bytes is refused before it is read:
#: no published report comes near it (issue 15).
report_max_bytes: int = 1_000_000

#: Seconds an import waits for a store locked by another program (a QGIS edit
#: session, another import) before it gives up, writing nothing.
lock_timeout_s: float = 30.0
#: Readers (docs/reliability.md): the largest text source (CSV, KML, the KML
#: inside a KMZ once decompressed, traverse YAML/CSV) read, in bytes.  Peak
#: memory stays within about 1.5 GB for a source of this size.
max_source_bytes: int = 256 * 1024**2

#: The most columns (attribute fields) a source may have; more is refused
#: before any per-column work.
max_columns: int = 1000

#: The deepest element nesting accepted in KML.
max_xml_depth: int = 100
