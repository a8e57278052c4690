"""Column contracts of the store's layers and of the crossref tables.

Readers return GeoDataFrames (EPSG:4326) with these columns, in this order,
plus ``geometry``.  Names in ``MINEFIELD_COLUMNS`` … ``HANDOVER_COLUMNS`` are
the public contract of DESIGN §5.
"""

from __future__ import annotations

#: Minefield records (polygon layer ``minefields``).
MINEFIELD_COLUMNS: dict[str, str] = {
    "record_id": "str",        # unique within a handover
    "handover": "str",
    "district": "str",         # canonical name (districts.normalise) or "" if unknown
    "mines_ap": "int",
    "mines_at": "int",
    "mines_total": "int",      # >= mines_ap + mines_at
    "mine_types": "str",       # semicolon-separated, e.g. "PMN-2;TM-62M"
    "laid_date": "str",        # ISO date or ""
    "reliability": "str",
    "area_ha": "float",        # geodesic hectares
    "flags": "str",            # semicolon-separated: self_intersecting;unclosed;row_count_mismatch;...
    "source_file": "str",      # file name the record came from
    "source_crs": "str",       # e.g. "EPSG:28408"
    "transformation": "str",   # pyproj operation description actually used
    "raw": "str",              # the record as received (JSON of properties, or raw YAML text)
    "misclosure_m": "float",   # traverse records only, else NaN
    "misclosure_ratio": "float",  # N of 1:N, traverse only, else NaN
    "declination_deg": "float",   # magnetic traverses only, else NaN
}

#: Mine rows (line layer ``mine_rows``), from traverse ``rows``.
MINE_ROW_COLUMNS: dict[str, str] = {
    "record_id": "str",
    "handover": "str",
    "row": "int",              # 1-based
    "mines": "int",
    "mine_type": "str",
    "spacing_m": "float",
}

#: Polygon vertices with their turning-point labels (point layer ``vertices``).
VERTEX_COLUMNS: dict[str, str] = {
    "record_id": "str",
    "handover": "str",
    "vertex": "int",           # 1-based order along the perimeter
    "label": "str",            # TP1, TP2, … (intermediate points get their own label)
    "point_type": "str",       # turning | intermediate | reference
    "raw_x": "float",          # as received / computed before adjustment, in source CRS
    "raw_y": "float",
}

#: Land-release polygons (layer ``releases``).
RELEASE_COLUMNS: dict[str, str] = {
    "report_id": "str",
    "date_start": "str",       # ISO
    "date_end": "str",         # ISO; as-of filters on this
    "operator": "str",
    "method": "str",           # manual | mechanical | MDD | ...
    "outcome": "str",          # cleared | reduced | cancelled
    "district": "str",
    "found_ap": "float",       # NaN when not given
    "found_at": "float",
    "found_uxo": "float",
    "area_ha": "float",
    "source_file": "str",
}

#: Found items (point layer ``items``).
ITEM_COLUMNS: dict[str, str] = {
    "item_id": "str",
    "item_type": "str",        # AP | AT | UXO
    "date": "str",             # ISO
    "model": "str",
    "report_id": "str",        # release the item was found in, or ""
    "district": "str",
    "source_file": "str",
}

#: Mine incidents (point layer ``incidents``).
INCIDENT_COLUMNS: dict[str, str] = {
    "incident_id": "str",
    "date": "str",
    "killed": "int",
    "injured": "int",
    "civilian": "bool",
    "district": "str",
    "source_file": "str",
}

#: District boundaries (polygon layer ``districts``).
DISTRICT_COLUMNS: dict[str, str] = {
    "district": "str",
    "source_file": "str",
}

#: Weekly report periods (attribute table ``reports``).
REPORT_COLUMNS: dict[str, str] = {
    "date_start": "str",
    "date_end": "str",
    "districts": "str",        # canonical names joined by ";" in the store; a list in the API/JSON
    "found_ap": "float",      # NaN when the report does not state it (never 0)
    "found_at": "float",
    "found_uxo": "float",
    "cleared_ha": "float",
    "source_file": "str",
}

#: Crossref by minefield (DESIGN §5).
CROSSREF_COLUMNS: tuple[str, ...] = (
    "record_id", "handover", "district", "mines_total", "area_ha", "released_ha",
    "released_pct", "cleared_ha", "cleared_pct", "found_mines", "remaining_est",
    "status", "last_release_date", "flags",
)

#: Crossref by handover (DESIGN §5).
HANDOVER_COLUMNS: tuple[str, ...] = (
    "handover", "handover_date", "minefields", "mines_recorded", "found_inside",
    "found_outside", "found_in_other_handovers", "accuracy_pct", "outside_within_25m_pct",
    "outside_within_50m_pct", "outside_within_100m_pct", "outside_median_m", "incidents_inside", "incidents_outside",
)

#: Remaining hazard by minefield (DESIGN §12): the ``remaining`` layer's columns and types.
REMAINING_TYPES: dict[str, str] = {
    "record_id": "str", "handover": "str", "district": "str", "mines_ap": "int",
    "mines_at": "int", "mines_total": "int", "mine_types": "str", "found_mines": "float",
    "remaining_est": "float", "status": "str", "area_ha": "float", "released_ha": "float",
    "remaining_ha": "float", "last_release_date": "str", "flags": "str",
}

#: Suspected hazard areas (DESIGN §13): the ``suspects`` layer's columns and types.
SUSPECT_TYPES: dict[str, str] = {
    "suspect_id": "str", "found_ap": "int", "found_at": "int", "found_uxo": "int",
    "incidents": "int", "killed": "int", "injured": "int", "first_date": "str",
    "last_date": "str", "nearest_record_id": "str", "nearest_handover": "str",
    "nearest_m": "float", "area_ha": "float",
}

STATUSES: tuple[str, ...] = ("not_started", "in_progress", "released")
OUTCOMES: tuple[str, ...] = ("cleared", "reduced", "cancelled")
ITEM_TYPES: tuple[str, ...] = ("AP", "AT", "UXO")
