"""One palette for every client: the web map's legend, QGIS styles and printed sheets.

Colours are hex RGB.  Hazard status colours are reserved for minefields (and
the layers derived from them: crossref, remaining); no point layer, cluster
bubble or other symbol reuses them, so a colour on any map means one thing.
"""

from __future__ import annotations

#: Hazard status of a recorded minefield (DESIGN §1).
STATUS = {"not_started": "#d7191c", "in_progress": "#fd8d3c", "released": "#1a9641"}

#: Land-release outcome of a release polygon.
OUTCOME = {"cleared": "#2166ac", "reduced": "#35978f", "cancelled": "#636363"}

#: Item finds, by item type (never a status colour).
ITEM = {"AP": "#6a3d9a", "AT": "#1b1b5e", "UXO": "#525252"}

#: Marker-cluster bubbles: small, medium, large (neutral greys, never a status colour).
CLUSTER = ("#f0f0f0", "#bdbdbd", "#737373")

#: Other layers.
INCIDENT = {"fill": "#ffff33", "stroke": "#000000"}
SUSPECT = {"fill": "#b15928", "stroke": "#7f3b08"}
REMAINING = {"fill": "#a50026", "stroke": "#67001f"}
DISTRICT = {"stroke": "#505050"}
MINE_ROW = {"stroke": "#67001f"}
REVIEW = "#c51b8a"   # records to review (large misclosure, flags)
SHIFTED = "#00a6ca"  # proposed re-registered outlines (minemap offsets)


def rgba(hex_colour: str, alpha: int = 255) -> str:
    """QGIS's ``"r,g,b,a"`` form of a hex colour.

    >>> rgba("#d7191c", 128)
    '215,25,28,128'
    """
    h = hex_colour.lstrip("#")
    return ",".join(str(int(h[i:i + 2], 16)) for i in (0, 2, 4)) + f",{alpha}"


#: The default QGIS style (a ``.qml`` file in this folder) of each store layer,
#: used by every backend's ``layer_styles`` table.
LAYER_STYLES = {
    "crossref": "status.qml", "minefields": "minefields.qml",
    "releases": "clearance.qml", "items": "items.qml", "incidents": "incidents.qml",
    "districts": "districts.qml", "mine_rows": "mine_rows.qml",
}


def qml(name: str) -> str:
    """The text of a style file in this folder (``status.qml``, …)."""
    from importlib import resources

    return (resources.files("minemap") / "styles" / name).read_text(encoding="utf-8")


def default_styles() -> list[tuple[str, str, str]]:
    """``(layer, style file, QML text)`` of every layer with a default style."""
    return [(layer, name, qml(name)) for layer, name in LAYER_STYLES.items()]
