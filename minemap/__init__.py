"""minemap: minefield records, land release and handover accuracy.

The Python API mirrors the command line::

    import minemap
    minemap.import_records(["aghdam.geojson"], handover="aghdam-2021-06-12", store="m.gpkg")
    table = minemap.crossref("m.gpkg", by="handover")
    m = minemap.render_map("m.gpkg")          # a folium map; displays in Jupyter
    minemap.export("fields.geojson", store="m.gpkg", layers="crossref")
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from minemap import settings
from minemap._errors import DataError, MinemapError, Problem, UsageError
from minemap._lazy import lazy_attributes

__version__ = "0.1.0"

# The API is imported on first use (PEP 562), not with the package: the
# command line imports ``minemap`` for ``--version`` and ``--help``, which
# must not pay for geopandas, pyproj and folium.
_API = ("apply_offsets", "crossref", "export", "history_diff", "layer_frame", "map_frames",
        "minefield_table", "offsets", "open_store", "reconcile", "remaining", "render_map",
        "reports", "revert", "sheet", "suspects", "upgrade_store")
_IMPORTS = ("import_clearance", "import_districts", "import_incidents", "import_records",
            "import_report", "read_clearance", "read_districts", "read_incidents",
            "read_records", "validate")
_LAZY: dict[str, str] = {
    **dict.fromkeys(_API, "minemap.api"),
    **dict.fromkeys(_IMPORTS, "minemap.imports"),
    "Store": "minemap.store",
    "copy_store": "minemap.store.copy",
}

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from minemap.api import (
        apply_offsets,
        crossref,
        export,
        history_diff,
        layer_frame,
        map_frames,
        minefield_table,
        offsets,
        open_store,
        reconcile,
        remaining,
        render_map,
        reports,
        revert,
        sheet,
        suspects,
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
    from minemap.store.copy import copy_store


def _unshadow() -> None:
    # ``minemap.crossref`` and ``minemap.export`` name both a function of the
    # API and a subpackage.  Importing a subpackage binds its name on this
    # module; importing both now (their __init__ modules are lazy, so this is
    # cheap) and dropping the binding lets the name reach ``__getattr__`` and
    # so mean the function.
    for name in ("crossref", "export"):
        importlib.import_module(f"minemap.{name}")
        globals().pop(name, None)


_unshadow()


__getattr__, __dir__ = lazy_attributes(globals(), _LAZY)


__all__ = [  # noqa: RUF022 - grouped as above
    "DataError", "MinemapError", "Problem", "UsageError", "Store", "copy_store", "settings",
    "__version__", "apply_offsets", "crossref", "export", "history_diff", "layer_frame",
    "map_frames", "minefield_table", "offsets", "open_store", "reconcile", "remaining",
    "render_map", "reports", "revert", "sheet", "suspects", "upgrade_store", "import_clearance",
    "import_districts", "import_incidents", "import_records", "import_report",
    "read_clearance", "read_districts", "read_incidents", "read_records", "validate",
]
