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


# --------------------------------------------------------------------------- QGIS styles
#
# The one style map: which palette entry each layer is drawn with, in QGIS
# (the store's ``layer_styles`` and, through :func:`qgis_style`, any
# GeoPackage minemap writes).

#: Neutral outlines for history (past versions are not a hazard status).
HISTORY = {"stroke": "#7f7f7f"}
#: Turning points of traverse records.
VERTEX = {"fill": "#ffffff", "stroke": "#000000"}

_LABELS = {
    "not_started": "Not started", "in_progress": "In progress", "released": "Released",
    "cleared": "Cleared", "reduced": "Reduced", "cancelled": "Cancelled",
    "AP": "AP mine", "AT": "AT mine", "UXO": "UXO",
}


def _fill(name: str, fill: str | None, stroke: str) -> str:
    style = "solid" if fill else "no"
    return (
        f'<symbol type="fill" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">'
        '<layer class="SimpleFill" pass="0" locked="0" enabled="1">'
        f'<prop k="color" v="{rgba(fill or stroke, 128 if fill else 0)}"/>'
        f'<prop k="style" v="{style}"/><prop k="outline_color" v="{rgba(stroke)}"/>'
        '<prop k="outline_style" v="solid"/><prop k="outline_width" v="0.6"/>'
        '<prop k="outline_width_unit" v="MM"/><prop k="joinstyle" v="miter"/>'
        "</layer></symbol>"
    )


def _marker(name: str, fill: str, stroke: str, size: float = 2.4) -> str:
    return (
        f'<symbol type="marker" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">'
        '<layer class="SimpleMarker" pass="0" locked="0" enabled="1">'
        f'<prop k="name" v="circle"/><prop k="color" v="{rgba(fill)}"/>'
        f'<prop k="outline_color" v="{rgba(stroke)}"/><prop k="outline_width" v="0.3"/>'
        f'<prop k="outline_width_unit" v="MM"/><prop k="size" v="{size}"/>'
        '<prop k="size_unit" v="MM"/></layer></symbol>'
    )


def _line(name: str, stroke: str) -> str:
    return (
        f'<symbol type="line" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">'
        '<layer class="SimpleLine" pass="0" locked="0" enabled="1">'
        f'<prop k="line_color" v="{rgba(stroke)}"/><prop k="line_width" v="0.5"/>'
        '<prop k="line_width_unit" v="MM"/><prop k="line_style" v="solid"/>'
        "</layer></symbol>"
    )


def _qml(comment: str, renderer: str) -> str:
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        f"<!-- minemap: {comment} (written from minemap.styles) -->\n"
        '<qgis version="3.22.0" styleCategories="Symbology">\n'
        f"{renderer}\n</qgis>\n"
    )


def _categorized(attr: str, colours: dict[str, str], symbol) -> str:
    cats, syms = [], []
    for i, (value, colour) in enumerate([*colours.items(), ("", REVIEW)]):
        label = _LABELS.get(value, "Other or missing") if value else "Other or missing"
        cats.append(f'<category value="{value}" symbol="{i}" label="{label}" render="true"/>')
        syms.append(symbol(str(i), colour))
    return (
        f'<renderer-v2 type="categorizedSymbol" attr="{attr}" symbollevels="0"'
        ' forceraster="0" enableorderby="0">'
        f"<categories>{''.join(cats)}</categories><symbols>{''.join(syms)}</symbols>"
        "</renderer-v2>"
    )


def _single(symbol: str) -> str:
    return ('<renderer-v2 type="singleSymbol" symbollevels="0" forceraster="0"'
            f' enableorderby="0"><symbols>{symbol}</symbols></renderer-v2>')


def qgis_style(layer: str, *, has_status: bool = True) -> tuple[str, str]:
    """The QGIS style (QML) of a layer, from this palette.

    Parameters
    ----------
    layer
        A store or export layer name (``minefields``, ``crossref``,
        ``releases`` or ``clearance``, ``items``, ``incidents``, ``districts``,
        ``mine_rows``, ``vertices``, ``remaining``, ``suspects``).
    has_status
        Minefield layers: whether the layer has a ``status`` column (it is
        then coloured by status; otherwise one neutral outline).

    Returns
    -------
    (str, str)
        The QML text and a few words saying what it colours by.

    Examples
    --------
    >>> qml, what = qgis_style("items")
    >>> what, rgba(ITEM["AP"]) in qml
    ('coloured by item_type', True)
    """
    if layer in ("minefields", "crossref"):
        if has_status:
            return _qml("minefields coloured by hazard status", _categorized(
                "status", STATUS, lambda n, c: _fill(n, c, c))), "coloured by status"
        return _qml("minefields (no status)", _single(
            _fill("0", None, HISTORY["stroke"]))), "single symbol"
    if layer in ("releases", "clearance"):
        return _qml("land release by outcome", _categorized(
            "outcome", OUTCOME, lambda n, c: _fill(n, c, c))), "coloured by outcome"
    if layer == "items":
        return _qml("items by type", _categorized(
            "item_type", ITEM, lambda n, c: _marker(n, c, "#ffffff")
        )), "coloured by item_type"
    singles = {
        "incidents": _marker("0", INCIDENT["fill"], INCIDENT["stroke"], 3.0),
        "districts": _fill("0", None, DISTRICT["stroke"]),
        "mine_rows": _line("0", MINE_ROW["stroke"]),
        "vertices": _marker("0", VERTEX["fill"], VERTEX["stroke"], 1.6),
        "remaining": _fill("0", REMAINING["fill"], REMAINING["stroke"]),
        "suspects": _fill("0", SUSPECT["fill"], SUSPECT["stroke"]),
    }
    if layer not in singles:
        raise ValueError(f"no style for layer {layer!r}")
    return _qml(layer, _single(singles[layer])), "single symbol"


#: The current-state layers every store lists and styles.
STORE_LAYERS = ("minefields", "crossref", "releases", "items", "incidents", "districts",
                "mine_rows", "vertices", "remaining", "suspects")


def default_styles(layers: tuple[str, ...] = STORE_LAYERS) -> list[tuple[str, str, str]]:
    """``(layer, style name, QML)`` of each layer's default style, for a backend's layer_styles."""
    return [(layer, layer, qgis_style(layer)[0]) for layer in layers]
