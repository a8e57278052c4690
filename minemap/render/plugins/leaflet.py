"""Leaflet itself (XStatic-Leaflet, identical to ``leaflet@1.9.3`` on npm)."""

from __future__ import annotations

from minemap.render.assets import Asset, xstatic_file
from minemap.render.plugins._base import Plugin

VERSION = "1.9.3"
_CDN = f"https://cdn.jsdelivr.net/npm/leaflet@{VERSION}/dist/"


class Leaflet(Plugin):
    """The Leaflet library; add it to the map before any other plugin."""

    default_css = (Asset("Leaflet", VERSION, "BSD-2-Clause", xstatic_file("leaflet", "leaflet.css"),
                         _CDN + "leaflet.css"),)
    default_js = (Asset("Leaflet", VERSION, "BSD-2-Clause", xstatic_file("leaflet", "leaflet.js"),
                        _CDN + "leaflet.js"),)
