"""The store's layers and how their rows convert (DESIGN §4, §10).

What every backend stores: the revisioned layers (:data:`LAYERS`), the
derived layers beside the crossref (:data:`DERIVED`), the revision log's
columns; and, written once for both backends, how a frame's rows become
content hashes, stored values and geometries, and back.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from minemap.records import schema


@dataclass(frozen=True)
class LayerSpec:
    """How a kind of row is stored."""

    name: str
    columns: dict[str, str]
    key: tuple[str, ...]
    geometry_type: str | None  # None: attribute table

    @property
    def id_column(self) -> str:
        """The column ``ids=`` selects on (the last column of the key)."""
        return self.key[-1]


LAYERS: dict[str, LayerSpec] = {
    "minefields": LayerSpec(
        "minefields", schema.MINEFIELD_COLUMNS, ("handover", "record_id"), "MULTIPOLYGON"
    ),
    "vertices": LayerSpec(
        "vertices", schema.VERTEX_COLUMNS, ("handover", "record_id", "vertex"), "POINT"
    ),
    "mine_rows": LayerSpec(
        "mine_rows", schema.MINE_ROW_COLUMNS, ("handover", "record_id", "row"), "LINESTRING"
    ),
    "releases": LayerSpec("releases", schema.RELEASE_COLUMNS, ("report_id",), "MULTIPOLYGON"),
    "items": LayerSpec("items", schema.ITEM_COLUMNS, ("item_id",), "POINT"),
    "incidents": LayerSpec("incidents", schema.INCIDENT_COLUMNS, ("incident_id",), "POINT"),
    "districts": LayerSpec("districts", schema.DISTRICT_COLUMNS, ("district",), "MULTIPOLYGON"),
    "reports": LayerSpec("reports", schema.REPORT_COLUMNS, ("date_start", "date_end"), None),
}

#: Derived layers kept beside the crossref (DESIGN §10, §12, §13): rewritten by
#: minemap's refresh only, never revisioned, tagged with the revision they
#: describe.  ``key`` names a row; ``geometry_type`` is the stored type.
DERIVED: dict[str, LayerSpec] = {
    "remaining": LayerSpec("remaining", schema.REMAINING_TYPES, ("handover", "record_id"),
                           "MULTIPOLYGON"),
    "suspects": LayerSpec("suspects", schema.SUSPECT_TYPES, ("suspect_id",), "POLYGON"),
}

#: Import kinds and the layers each writes (the first is the kind's main layer).
KINDS: dict[str, tuple[str, ...]] = {
    "records": ("minefields", "vertices", "mine_rows"),
    "clearance": ("releases", "items"),
    "reports": ("reports",),
    "districts": ("districts",),
    "incidents": ("incidents",),
}

#: Columns of the revision log, in order.
REVISION_COLUMNS = (
    "revision", "kind", "handover", "handover_date", "sources", "sha256", "options",
    "imported_at", "source_crs", "transformation", "added", "changed", "removed", "message",
)
#: Revision columns that hold JSON (lists, or a dict for ``options``).
JSON_REVISION_COLUMNS = ("sources", "sha256", "options", "source_crs", "transformation",
                         "added", "changed", "removed")


def content_hashes(frame: pd.DataFrame, spec: LayerSpec) -> np.ndarray:
    """A hash per row of the columns that carry meaning, and the geometry.

    Provenance columns (source file, raw text, transformation) are left out,
    so the same record received again from another file is not "changed".
    """
    skip = {"source_file", "raw", "transformation", "area_ha"}
    cols = [c for c in spec.columns if c not in skip]
    attrs = pd.util.hash_pandas_object(frame[cols], index=False).to_numpy()
    if spec.geometry_type:
        geo = shapely.to_wkb(
            shapely.normalize(np.asarray(frame.geometry.values, dtype=object)), flavor="iso"
        )
    else:
        geo = [b""] * len(frame)
    # Python ints format faster than numpy's uint64 scalars (same digits).
    sha1 = hashlib.sha1
    return np.array(
        [f"{a:016x}{sha1(g or b'').hexdigest()[:24]}" for a, g in zip(attrs.tolist(), geo)],
        dtype=object,
    )


def coerce(frame: pd.DataFrame, spec: LayerSpec) -> pd.DataFrame:
    """Frame with exactly the spec's columns, typed for storage."""
    out = pd.DataFrame(index=frame.index)
    for col, typ in spec.columns.items():
        s = frame[col] if col in frame else pd.Series([None] * len(frame), index=frame.index)
        if typ == "str":
            s = s.astype(object).where(s.notna(), "").map(str)
        elif typ == "int":
            s = pd.to_numeric(s, errors="coerce").fillna(0).round().astype("int64")
        elif typ == "float":
            s = pd.to_numeric(s, errors="coerce").astype("float64")
        elif typ == "bool":
            s = s.map(lambda v: bool(v) if v is not None and v == v else False)
        out[col] = s
    return out


def to_multi(geoms: np.ndarray, geometry_type: str | None) -> np.ndarray:
    """Polygons as single-part multipolygons for a MULTIPOLYGON layer."""
    if geometry_type != "MULTIPOLYGON":
        return geoms
    # A layer declares one geometry type; polygons become single-part
    # multipolygons so a layer can hold both.
    out = np.asarray(geoms, dtype=object).copy()
    single = np.flatnonzero(shapely.get_type_id(out) == 3)
    if len(single):
        out[single] = shapely.multipolygons(out[single], indices=np.arange(len(single)))
    return out


def box_array(bbox) -> np.ndarray:
    """One box ``(west, south, east, north)`` or many, as an n × 4 float array."""
    boxes = np.asarray(bbox, dtype=float)
    return boxes.reshape(1, 4) if boxes.ndim == 1 else boxes.reshape(-1, 4)


def rows_meeting_boxes(frame: gpd.GeoDataFrame, bbox) -> gpd.GeoDataFrame:
    """The rows of ``frame`` whose bounding box meets one of the boxes, in order.

    This is the filter of ``read_layer(..., bbox=...)``: boxes against boxes,
    edges included.
    """
    if not len(frame):
        return frame
    # The tree's own test is of bounding boxes, which is the filter: no
    # predicate, and no envelope geometries to build.
    tree = shapely.STRtree(shapely.box(*box_array(bbox).T))
    hit = np.unique(tree.query(np.asarray(frame.geometry.values, dtype=object))[0])
    return frame.iloc[hit].reset_index(drop=True)


def layer_frame(
    layer: str, rows: list[tuple] | list[list], geometries: np.ndarray | None
) -> gpd.GeoDataFrame | pd.DataFrame:
    """A layer's frame from stored rows.

    Parameters
    ----------
    rows
        Tuples of the layer's columns (in :data:`LAYERS` order) followed by
        the revision that added the row.
    geometries
        Shapely geometries, one per row (spatial layers only).
    """
    spec = LAYERS[layer]
    cols = list(spec.columns)
    frame = pd.DataFrame(list(rows), columns=[*cols, "revision"])
    for col, typ in spec.columns.items():
        if typ == "int":
            frame[col] = pd.to_numeric(frame[col]).fillna(0).astype("int64")
        elif typ == "float":
            frame[col] = pd.to_numeric(frame[col]).astype("float64")
        elif typ == "bool":
            frame[col] = frame[col].astype(bool)
        else:
            frame[col] = frame[col].astype(object)
    frame["revision"] = pd.to_numeric(frame["revision"]).astype("int64")
    if not spec.geometry_type:
        return frame
    geoms = geometries if geometries is not None and len(rows) else np.array([], dtype=object)
    return gpd.GeoDataFrame(frame, geometry=list(geoms), crs="EPSG:4326")


def derived_frame(layer: str, rows: list[tuple] | list[list],
                  geometries: np.ndarray | None) -> gpd.GeoDataFrame:
    """A derived layer's frame from stored rows of its columns (in :data:`DERIVED` order)."""
    spec = DERIVED[layer]
    frame = pd.DataFrame(list(rows), columns=list(spec.columns))
    for col, typ in spec.columns.items():
        if typ == "int":
            frame[col] = pd.to_numeric(frame[col]).fillna(0).astype("int64")
        elif typ == "float":
            frame[col] = pd.to_numeric(frame[col]).astype("float64")
        else:
            frame[col] = frame[col].astype(object).where(frame[col].notna(), "")
    geoms = geometries if geometries is not None and len(rows) else np.array([], dtype=object)
    return gpd.GeoDataFrame(frame, geometry=list(geoms), crs="EPSG:4326")


def derived_values(layer: str, frame: pd.DataFrame) -> list[tuple]:
    """A derived frame's rows as plain values for storage (NaN as None)."""
    return plain_rows(frame, tuple(DERIVED[layer].columns))


def derived_geometries(layer: str, frame: pd.DataFrame) -> np.ndarray:
    """A derived frame's geometries, of the layer's one stored type."""
    geoms = np.asarray(frame.geometry.values, dtype=object)
    return to_multi(geoms, DERIVED[layer].geometry_type)


def plain_rows(frame: pd.DataFrame, columns: tuple[str, ...] | list[str]) -> list[tuple]:
    """The rows as tuples of Python values for a database driver; missing values as None.

    Column by column, as :func:`key_tuples`: converting a column to objects
    gives Python ints, floats and strings, and a row pass would cost a
    hundred times more on pandas 3 string arrays.
    """
    cols = []
    for c in columns:
        values = frame[c].to_numpy(dtype=object)
        missing = pd.isna(values)
        if missing.any():
            values = values.copy()
            values[missing] = None
        cols.append(values.tolist())
    return list(zip(*cols))


def key_tuples(frame: pd.DataFrame, columns: tuple[str, ...]) -> list[tuple]:
    """The rows' keys as tuples of Python values.

    Not ``itertuples``: pandas 3 keeps text in string arrays, which it
    iterates an element at a time (a hundred times slower than converting).
    """
    return list(zip(*(frame[c].to_numpy(dtype=object).tolist() for c in columns)))
