"""The store: revisions of every layer, kept in a backend (DESIGN §4, §10).

:func:`open_store` picks the backend from the location: a path is a
GeoPackage file (:class:`~minemap.store.gpkg.GeoPackageStore`); a
``postgresql://`` URL is a PostGIS database.  Every backend implements
:class:`~minemap.store.base.StoreBackend`.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from minemap._errors import UsageError
from minemap._lazy import lazy_attributes

if TYPE_CHECKING:
    from minemap.store.base import StoreBackend, StoreError, StoreView, StoreWriter
    from minemap.store.gpkg import GeoPackageStore, default_store_path
    from minemap.store.revisions import ImportPlan, ImportResult, sha256_file

    Store = StoreBackend

# Bound on first use: reading the materialised crossref (minemap.store.gpkg_table)
# must not pay for geopandas, shapely and pyproj, which the backends import.
_getattr, __dir__ = lazy_attributes(globals(), {
    **dict.fromkeys(("StoreBackend", "StoreError", "StoreView", "StoreWriter"),
                    "minemap.store.base"),
    **dict.fromkeys(("GeoPackageStore", "default_store_path"), "minemap.store.gpkg"),
    **dict.fromkeys(("ImportPlan", "ImportResult", "sha256_file"), "minemap.store.revisions"),
})


def __getattr__(name: str):
    #: Any store: ``Store(location)`` opens the backend for that location.
    if name == "Store":
        globals()["Store"] = value = _getattr("StoreBackend")
        return value
    return _getattr(name)

_URL_SCHEMES = ("postgresql://", "postgres://")

__all__ = ["GeoPackageStore", "ImportPlan", "ImportResult", "Store", "StoreBackend",
           "StoreError", "StoreView", "StoreWriter", "default_store_path", "is_url",
           "open_store", "sha256_file"]


def is_url(location: str | os.PathLike) -> bool:
    """Whether ``location`` names a database server rather than a file."""
    return str(location).lower().startswith(_URL_SCHEMES)


def open_store(location: StoreBackend | str | os.PathLike | None = None) -> StoreBackend:
    """The store at ``location``: a path, a ``postgresql://`` URL, or a store.

    ``None`` means ``$MINEMAP_STORE``, else ``minemap.gpkg`` in the current
    folder.  Opening touches nothing; the store is created by its first
    import.

    Raises
    ------
    UsageError
        For a location that is neither a path nor a ``postgresql://`` URL.
    """
    from minemap.store.base import StoreBackend
    from minemap.store.gpkg import GeoPackageStore, default_store_path

    if isinstance(location, StoreBackend):
        return location
    if location is None or str(location) == "":
        location = os.environ.get("MINEMAP_STORE") or None
    if location is not None and is_url(location):
        from minemap.store.postgis import PostGISStore

        return PostGISStore(str(location))
    if location is not None and "://" in str(location):
        raise UsageError(f"{_redact(str(location))}: not a store: give a GeoPackage path or a"
                         " postgresql:// URL")
    return GeoPackageStore(default_store_path(location))


def _redact(url: str) -> str:
    from minemap.store.postgis import redact

    return redact(url)
