"""The store: revisions of every layer, kept in a backend (GeoPackage file)."""

from minemap.store.gpkg import ImportPlan, ImportResult, Store, StoreError, default_store_path

__all__ = ["ImportPlan", "ImportResult", "Store", "StoreError", "default_store_path"]
