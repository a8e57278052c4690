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

from minemap._lazy import lazy_attributes

# Imported on first use (minemap._lazy).
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


__getattr__, __dir__ = lazy_attributes(globals(), _LAZY)


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
