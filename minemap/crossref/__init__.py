"""Cross-reference: pure functions of minefields, releases, items and an as-of date.

The house (DESIGN §4, ``docs/crossref.md``):

* :mod:`.status` — the hazard status rule (slivers);
* :mod:`.overlay` — the per-field union of clipped releases;
* :mod:`.minefields` — crossref by minefield, :func:`affected_fields`;
* :mod:`.timeline` — each field's release history;
* :mod:`.footprints`, :mod:`.handovers` — handover footprints and accuracy;
* :mod:`.districts` — by district, weekly-report reconciliation;
* :mod:`.offsets` — systematic shift of each map, datum-error check (§13);
* :mod:`.suspects` — suspected areas from finds outside every map (§13);
* :mod:`.remaining` — each field minus its released land;
* :mod:`.refresh` — keeping the stored crossref current (store-side).
"""

from __future__ import annotations

import importlib

# Imported on first use (PEP 562): ``import minemap`` and ``minemap --help``
# must not pay for geopandas and shapely (tests/test_startup.py).
_LAZY: dict[str, str] = {
    "DISTRICT_COLUMNS": "minemap.crossref.districts",
    "RECONCILE_COLUMNS": "minemap.crossref.districts",
    "TIMELINE_COLUMNS": "minemap.crossref.timeline",
    "affected_fields": "minemap.crossref.minefields",
    "crossref_districts": "minemap.crossref.districts",
    "crossref_handovers": "minemap.crossref.handovers",
    "crossref_minefields": "minemap.crossref.minefields",
    "minefield_status": "minemap.crossref.status",
    "reconcile_reports": "minemap.crossref.districts",
    "status_timeline": "minemap.crossref.timeline",
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "DISTRICT_COLUMNS",
    "RECONCILE_COLUMNS",
    "TIMELINE_COLUMNS",
    "affected_fields",
    "crossref_districts",
    "crossref_handovers",
    "crossref_minefields",
    "minefield_status",
    "reconcile_reports",
    "status_timeline",
]
