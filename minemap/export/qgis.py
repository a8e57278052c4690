"""QGIS default styles of exported layers, and the category colours KML shares with them.

The QML files live in ``minemap/styles``; a GeoPackage export registers
them in its ``layer_styles`` table (``useAsDefault=1``), which QGIS reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from pathlib import Path

import pandas as pd
import pyogrio

_STYLE_PACKAGE = "minemap"

# (tests check that both agree).  Values outside the known categories get
# _OTHER, a conspicuous colour: an unexpected status must never be hidden.
CATEGORY_COLOURS: dict[str, dict[str, tuple[int, int, int]]] = {
    "status": {
        "not_started": (227, 26, 28),
        "in_progress": (255, 127, 0),
        "released": (51, 160, 44),
    },
    "outcome": {
        "cleared": (51, 160, 44),
        "reduced": (178, 223, 138),
        "cancelled": (166, 206, 227),
    },
    "item_type": {
        "AP": (227, 26, 28),
        "AT": (128, 0, 38),
        "UXO": (255, 127, 0),
    },
}
OTHER_COLOUR: tuple[int, int, int] = (106, 61, 154)
SINGLE_COLOURS: dict[str, tuple[int, int, int]] = {
    "minefields": (227, 26, 28),
    "crossref": (227, 26, 28),
    "incidents": (0, 0, 0),
    "districts": (80, 80, 80),
    "mine_rows": (227, 26, 28),
}


def style_for(layer: str, columns: Iterable[str]) -> tuple[str, str | None]:
    """The QML style file of a layer and the attribute it categorises on.

    Fields are coloured by ``status`` when the frame has it; minefields
    without status get a single hazard style; releases are coloured by
    ``outcome`` and items by ``item_type``.

    Returns
    -------
    tuple
        ``(qml_file_name, attribute or None)``.
    """
    columns = set(columns)
    if layer in ("minefields", "crossref"):
        if "status" in columns:
            return "status.qml", "status"
        return "minefields.qml", None
    if layer == "clearance":
        return "clearance.qml", "outcome"
    if layer == "items":
        return "items.qml", "item_type"
    return f"{layer}.qml", None


def read_style(name: str) -> str:
    """The text of a QML file shipped in ``minemap/styles``."""
    return (resources.files(_STYLE_PACKAGE) / "styles" / name).read_text(encoding="utf-8")


def has_style(name: str) -> bool:
    """Whether ``minemap/styles`` ships the QML file `name`."""
    return (resources.files(_STYLE_PACKAGE) / "styles" / name).is_file()


def _write_layer_styles(gpkg: Path, styles: list[tuple[str, str, str | None]]) -> None:
    """Register QGIS default styles in the ``layer_styles`` table QGIS reads.

    A layer without a shipped style (the turning-point ``vertices``) opens
    with QGIS's default symbol.
    """
    rows = []
    now = pd.Timestamp.now(tz="UTC").floor("s")
    for layer, qml, attr in styles:
        if not has_style(qml):
            continue
        geom_col = pyogrio.read_info(gpkg, layer=layer)["geometry_name"] or "geom"
        what = f"coloured by {attr}" if attr else "single symbol"
        rows.append({
            "f_table_catalog": "",
            "f_table_schema": "",
            "f_table_name": layer,
            "f_geometry_column": geom_col,
            "styleName": layer,
            "styleQML": read_style(qml),
            "styleSLD": "",
            "useAsDefault": True,
            "description": f"minemap {layer}: {what} ({qml})",
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
