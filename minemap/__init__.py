"""minemap: minefield records, land release and handover accuracy.

The Python API mirrors the command line::

    import minemap
    minemap.import_records(["aghdam.geojson"], handover="aghdam-2021-06-12", store="m.gpkg")
    table = minemap.crossref("m.gpkg", by="handover")
    m = minemap.render_map("m.gpkg")          # a folium map; displays in Jupyter
    minemap.export("fields.geojson", store="m.gpkg", layers="crossref")
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from minemap import settings
from minemap._errors import DataError, MinemapError, Problem, UsageError

__version__ = "0.1.0"

# The API is imported on first use (PEP 562), not with the package: the
# command line imports ``minemap`` for ``--version`` and ``--help``, which
# must not pay for geopandas, pyproj and folium.
_LAZY: dict[str, str] = {
    "apply_offsets": "minemap.api",
    "crossref": "minemap.api",
    "offsets": "minemap.api",
    "remaining": "minemap.api",
    "suspects": "minemap.api",
    "export": "minemap.api",
    "layer_frame": "minemap.api",
    "map_frames": "minemap.api",
    "minefield_table": "minemap.api",
    "open_store": "minemap.api",
    "reconcile": "minemap.api",
    "render_map": "minemap.api",
    "reports": "minemap.api",
    "import_clearance": "minemap.imports",
    "import_districts": "minemap.imports",
    "import_incidents": "minemap.imports",
    "import_records": "minemap.imports",
    "import_report": "minemap.imports",
    "read_clearance": "minemap.imports",
    "read_districts": "minemap.imports",
    "read_incidents": "minemap.imports",
    "read_records": "minemap.imports",
    "validate": "minemap.imports",
    "Store": "minemap.store",
}

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from minemap.api import (
        apply_offsets,
        crossref,
        export,
        layer_frame,
        map_frames,
        minefield_table,
        offsets,
        open_store,
        reconcile,
        remaining,
        render_map,
        reports,
        suspects,
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


def _unshadow() -> None:
    # ``minemap.crossref`` and ``minemap.export`` name both a function of the
    # API and a subpackage.  Importing a subpackage binds its name on this
    # module; importing both (they are light) now, and dropping the binding,
    # lets the name reach ``__getattr__`` and so mean the function, as it
    # did when this module imported the API eagerly.
    import importlib

    for name in ("crossref", "export"):
        importlib.import_module(f"minemap.{name}")
        globals().pop(name, None)


_unshadow()


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'minemap' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "DataError", "MinemapError", "Problem", "Store", "UsageError", "apply_offsets", "crossref",
    "export", "offsets", "suspects",
    "import_clearance", "import_districts", "import_incidents", "import_records",
    "import_report", "layer_frame", "map_frames", "minefield_table", "open_store",
    "read_clearance", "read_districts", "read_incidents", "read_records", "reconcile",
    "remaining", "render_map", "reports", "settings", "validate", "__version__",
]
