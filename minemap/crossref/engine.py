"""Former single-module engine: its public names, now in the modules of
:mod:`minemap.crossref`.  Kept so that ``from minemap.crossref.engine import
crossref_minefields`` (``refresh.py``, older scripts) keeps working; new code
imports from :mod:`minemap.crossref`.
"""

from minemap.crossref import (  # noqa: F401 - re-exported
    DISTRICT_COLUMNS,
    RECONCILE_COLUMNS,
    TIMELINE_COLUMNS,
    __all__,
    affected_fields,
    crossref_districts,
    crossref_handovers,
    crossref_minefields,
    minefield_status,
    reconcile_reports,
    status_timeline,
)
