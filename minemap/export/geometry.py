"""Geometry treatment shared by every format: snapped, valid, RFC 7946 oriented."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely

from minemap._errors import DataError, Problem


def prepare_geometries(
    geoms: Any,
    *,
    precision: int,
    ids: Sequence[str] | None = None,
    file: str = "<export>",
    layer: str = "",
) -> tuple[np.ndarray, list[str]]:
    """Snap geometries to ``10**-precision`` degrees, keep them valid, orient them.

    Snapping is done point by point (fast, and it keeps the vertex order);
    any geometry that this makes invalid, such as a ring touching itself, is
    redone with :func:`shapely.set_precision`'s validity-preserving mode,
    after repairing it with :func:`shapely.make_valid` if the input itself was
    invalid (with a warning naming the record).

    Parameters
    ----------
    geoms
        Array-like of shapely geometries (None allowed).
    precision
        Decimal places.
    ids
        Record identifiers for the warnings, one per geometry.
    file, layer
        Names used in warnings and errors.

    Returns
    -------
    geoms : numpy.ndarray
        Valid geometries on the grid, exterior rings counter-clockwise and
        holes clockwise.
    warnings : list of str
        Repaired or collapsed geometries, naming the record.

    Raises
    ------
    DataError
        A geometry is still invalid after snapping in validity-preserving
        mode.
    """
    geoms = np.asarray(geoms, dtype=object)
    if ids is None:
        ids = [f"feature {i + 1}" for i in range(len(geoms))]
    warnings: list[str] = []
    if len(geoms) == 0:
        return geoms, warnings
    grid = 10.0 ** -precision
    missing = shapely.is_missing(geoms)
    empty_in = missing | shapely.is_empty(geoms)

    out = shapely.set_precision(geoms, grid, mode="pointwise")
    out = _remove_repeated(out)
    redo = np.flatnonzero(~shapely.is_valid(out) & ~missing)
    if len(redo):
        # Validity of the inputs is only looked at here, where snapping did
        # not give a valid result: checking every input would cost a pass.
        for i in redo:
            src = geoms[i]
            try:
                if not shapely.is_valid(src):
                    reason = shapely.is_valid_reason(src)
                    src = _repair(src)
                    warnings.append(str(Problem(file, ids[i], f"layer {layer}: invalid "
                                                f"geometry ({reason}) repaired with make_valid",
                                                "warning")))
                out[i] = shapely.set_precision(src, grid, mode="valid_output")
            except shapely.errors.GEOSException as exc:
                raise DataError(str(Problem(file, ids[i], f"layer {layer}: geometry cannot "
                                            f"be made valid: {exc}"))) from None
            if not shapely.is_valid(out[i]):
                raise DataError(str(Problem(
                    file, ids[i], f"layer {layer}: geometry is invalid at precision "
                    f"{precision} ({shapely.is_valid_reason(out[i])})")))
    collapsed = shapely.is_empty(out) & ~empty_in
    for i in np.flatnonzero(collapsed):
        warnings.append(str(Problem(file, ids[i], f"layer {layer}: geometry collapsed to "
                                    f"empty at precision {precision}", "warning")))
    out = shapely.orient_polygons(out, exterior_cw=False)
    return out, warnings


def _repair(geom: shapely.Geometry) -> shapely.Geometry:
    try:
        fixed = shapely.make_valid(geom)
    except shapely.errors.GEOSException:
        # Degenerate rings (e.g. a shell collapsed to a point beside a real
        # hole) defeat the linework method; the structure method drops them.
        fixed = shapely.make_valid(geom, method="structure", keep_collapsed=False)
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        # Keep the polygonal part, as the readers do (geometry.polygonal);
        # importing minemap.geo.geometry would pull pyproj transformers for nothing.
        if fixed.geom_type == "GeometryCollection":
            parts = [g for g in shapely.get_parts(fixed)
                     if g.geom_type in ("Polygon", "MultiPolygon")]
            fixed = shapely.union_all(parts) if parts else shapely.Polygon()
    return fixed


def _remove_repeated(geoms: np.ndarray) -> np.ndarray:
    """Drop consecutive duplicate vertices created by snapping, where there are any."""
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    if len(coords) < 2:
        return geoms
    dup = (coords[1:] == coords[:-1]).all(axis=1) & (index[1:] == index[:-1])
    if not dup.any():
        return geoms
    # A ring's closing point equals the next ring's first point only by
    # accident; such false positives just cost a no-op call.
    which = np.unique(index[1:][dup])
    geoms = geoms.copy()
    try:
        geoms[which] = shapely.remove_repeated_points(geoms[which], 0.0)
    except shapely.errors.GEOSException:
        # A ring that collapsed to fewer than 3 distinct points cannot be
        # rebuilt; it is left as it is and, being invalid, redone by the caller.
        for i in which:
            try:
                geoms[i] = shapely.remove_repeated_points(geoms[i], 0.0)
            except shapely.errors.GEOSException:
                pass
    return geoms
