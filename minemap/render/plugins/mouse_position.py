"""Leaflet.MousePosition 1.2.0 with MGRS from the ``mgrs`` npm package 2.2.0 (both vendored).

The one UTM/MGRS rule of the browser is the ``mgrs`` package (proj4js): the
position text is ``minemapLib.positionText`` (``static/core.js``), which
only formats what ``mgrs.forward`` returns.
"""

from __future__ import annotations

from minemap.render.assets import Asset, vendor_file
from minemap.render.plugins._base import Plugin

VERSION = "1.2.0"
MGRS_VERSION = "2.2.0"
_CDN = f"https://cdn.jsdelivr.net/npm/leaflet-mouse-position@{VERSION}/src/"


class MousePosition(Plugin):
    """Latitude, longitude and MGRS of the mouse, bottom left."""

    default_css = (Asset("Leaflet.MousePosition", VERSION, "MIT",
                         vendor_file("leaflet-mouse-position", "L.Control.MousePosition.css"),
                         _CDN + "L.Control.MousePosition.css"),)
    default_js = (
        Asset("Leaflet.MousePosition", VERSION, "MIT",
              vendor_file("leaflet-mouse-position", "L.Control.MousePosition.js"),
              _CDN + "L.Control.MousePosition.js"),
        Asset("mgrs", MGRS_VERSION, "MIT", vendor_file("mgrs", "mgrs.min.js"),
              f"https://cdn.jsdelivr.net/npm/mgrs@{MGRS_VERSION}/dist/mgrs.min.js"),
    )

    def init_js(self, map_name: str) -> str:
        # The plugin writes the formatter's result as HTML; positionText
        # returns digits and grid letters only, never data.
        return ('L.control.mousePosition({position: "bottomleft", emptyString: "lat, lon | MGRS", '
                'formatter: function (lng, lat) { return minemapLib.positionText(lat, lng); }})'
                f'.addTo({map_name});\n')
