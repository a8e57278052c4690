"""Leaflet.draw 1.0.4 (vendored): drawing the area whose fields are exported.

The control and minemap's handler (fields the drawn shape intersects →
GeoJSON) are in ``static/draw.js``.
"""

from __future__ import annotations

from minemap.render.assets import Asset, vendor_file
from minemap.render.plugins._base import Plugin

VERSION = "1.0.4"
_CDN = f"https://cdn.jsdelivr.net/npm/leaflet-draw@{VERSION}/dist/"


class Draw(Plugin):
    """``L.Control.Draw`` and its handlers."""

    default_css = (Asset("Leaflet.draw", VERSION, "MIT", vendor_file("leaflet-draw", "leaflet.draw.css"),
                         _CDN + "leaflet.draw.css"),)
    default_js = (Asset("Leaflet.draw", VERSION, "MIT", vendor_file("leaflet-draw", "leaflet.draw.js"),
                        _CDN + "leaflet.draw.js"),)
