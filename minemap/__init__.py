"""minemap: minefield records, land release and handover accuracy.

The Python API mirrors the command line::

    import minemap
    minemap.import_records(["aghdam.geojson"], handover="aghdam-2021-06-12", store="m.gpkg")
    table = minemap.crossref("m.gpkg", by="handover")
    m = minemap.render_map("m.gpkg")          # a folium map; displays in Jupyter
    minemap.export("fields.geojson", store="m.gpkg", layers="crossref")
"""

from minemap import settings
from minemap._errors import DataError, MinemapError, Problem, UsageError
from minemap.api import (
    crossref,
    export,
    history_diff,
    layer_frame,
    map_frames,
    minefield_table,
    open_store,
    reconcile,
    render_map,
    reports,
    revert,
    upgrade_store,
)
from minemap.imports import (
    import_clearance,
    import_districts,
    import_incidents,
    import_records,
    import_report,
    read_clearance,
    read_districts,
    read_incidents,
    read_records,
    validate,
)
from minemap.store import Store

__version__ = "0.1.0"

__all__ = [
    "DataError", "MinemapError", "Problem", "Store", "UsageError", "crossref", "export",
    "history_diff", "import_clearance", "import_districts", "import_incidents", "import_records",
    "import_report", "layer_frame", "map_frames", "minefield_table", "open_store",
    "read_clearance", "read_districts", "read_incidents", "read_records", "reconcile",
    "render_map", "reports", "revert", "settings", "upgrade_store", "validate", "__version__",
]
