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

from minemap.crossref.districts import (
    DISTRICT_COLUMNS,
    RECONCILE_COLUMNS,
    crossref_districts,
    reconcile_reports,
)
from minemap.crossref.handovers import crossref_handovers
from minemap.crossref.minefields import affected_fields, crossref_minefields
from minemap.crossref.status import minefield_status
from minemap.crossref.timeline import TIMELINE_COLUMNS, status_timeline

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
