"""QGIS default styles of exported layers, and the category colours KML shares with them.

Both come from :mod:`minemap.styles` (the palette and the one style map); a
GeoPackage export registers the styles in its ``layer_styles`` table
(``useAsDefault=1``), which QGIS reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import pyogrio

from minemap import styles as _styles


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


# Derived from the one palette (minemap.styles), so that QGIS, KML, the web
# map and the sheets agree.  Values outside the known categories get the
# conspicuous REVIEW colour: an unexpected status must never be hidden.
CATEGORY_COLOURS: dict[str, dict[str, tuple[int, int, int]]] = {
    "status": {k: _rgb(v) for k, v in _styles.STATUS.items()},
    "outcome": {k: _rgb(v) for k, v in _styles.OUTCOME.items()},
    "item_type": {k: _rgb(v) for k, v in _styles.ITEM.items()},
}
OTHER_COLOUR: tuple[int, int, int] = _rgb(_styles.REVIEW)
SINGLE_COLOURS: dict[str, tuple[int, int, int]] = {
    "minefields": _rgb(_styles.HISTORY["stroke"]),
    "crossref": _rgb(_styles.HISTORY["stroke"]),
    "incidents": _rgb(_styles.INCIDENT["fill"]),
    "districts": _rgb(_styles.DISTRICT["stroke"]),
    "mine_rows": _rgb(_styles.MINE_ROW["stroke"]),
    "vertices": _rgb(_styles.VERTEX["stroke"]),
    "remaining": _rgb(_styles.REMAINING["fill"]),
    "suspects": _rgb(_styles.SUSPECT["fill"]),
}


def style_for(layer: str, columns: Iterable[str]) -> tuple[str, str | None]:
    """The QGIS style (QML text) of a layer and the attribute it categorises on.

    Fields are coloured by ``status`` when the frame has it; minefields
    without status get one neutral outline; releases are coloured by
    ``outcome`` and items by ``item_type``.  The QML comes from
    :func:`minemap.styles.qgis_style`, the one style map of store and exports.

    Returns
    -------
    tuple
        ``(qml_text, attribute or None)``.
    """
    columns = set(columns)
    has_status = "status" in columns
    qml, _ = _styles.qgis_style(layer, has_status=has_status)
    if layer in ("minefields", "crossref"):
        return qml, "status" if has_status else None
    return qml, {"clearance": "outcome", "releases": "outcome", "items": "item_type"}.get(layer)


def _write_layer_styles(gpkg: Path, styles: list[tuple[str, str, str | None]]) -> None:
    """Register QGIS default styles in the ``layer_styles`` table QGIS reads."""
    rows = []
    now = pd.Timestamp.now(tz="UTC").floor("s")
    for layer, qml, attr in styles:
        geom_col = pyogrio.read_info(gpkg, layer=layer)["geometry_name"] or "geom"
        what = f"coloured by {attr}" if attr else "single symbol"
        rows.append({
            "f_table_catalog": "",
            "f_table_schema": "",
            "f_table_name": layer,
            "f_geometry_column": geom_col,
            "styleName": layer,
            "styleQML": qml,
            "styleSLD": "",
            "useAsDefault": True,
            "description": f"minemap {layer}: {what}",
            "owner": "",
            "ui": "",
            "update_time": now,
        })
    if not rows:
        return
    df = pd.DataFrame(rows)
    for c in df.columns:
        if c not in ("useAsDefault", "update_time"):
            df[c] = df[c].astype("str")
    # Written through GDAL, like QGIS does, so that the table is registered in
    # gpkg_contents as 'attributes' with GDAL's feature-count bookkeeping.
    pyogrio.write_dataframe(df, gpkg, layer="layer_styles", driver="GPKG",
                            layer_options={"FID": "id"})
