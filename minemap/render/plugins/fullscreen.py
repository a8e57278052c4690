"""leaflet.fullscreen 5.3.3 (vendored): the full-screen button."""

from __future__ import annotations

from minemap.render.assets import Asset, vendor_file
from minemap.render.plugins._base import Plugin

VERSION = "5.3.3"
_CDN = f"https://cdn.jsdelivr.net/npm/leaflet.fullscreen@{VERSION}/dist/"


class Fullscreen(Plugin):
    """A full-screen control, top left."""

    default_css = (Asset("leaflet.fullscreen", VERSION, "MIT",
                         vendor_file("leaflet.fullscreen", "Control.FullScreen.css"),
                         _CDN + "Control.FullScreen.css"),)
    default_js = (Asset("leaflet.fullscreen", VERSION, "MIT",
                        vendor_file("leaflet.fullscreen", "Control.FullScreen.umd.js"),
                        _CDN + "Control.FullScreen.umd.js"),)

    def init_js(self, map_name: str) -> str:
        return (f'new L.Control.FullScreen({{position: "topleft", title: "Full screen", '
                f'titleCancel: "Exit full screen"}}).addTo({map_name});\n')
