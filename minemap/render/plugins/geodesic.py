"""geographiclib-geodesic 2.2.0 (vendored): geodesic distance and area for the measure control."""

from __future__ import annotations

from minemap.render.assets import Asset, vendor_file
from minemap.render.plugins._base import Plugin

VERSION = "2.2.0"


class Geodesic(Plugin):
    """Karney's geodesic algorithms (``geodesic.Geodesic.WGS84``), used by ``static/measure.js``."""

    default_js = (Asset("geographiclib-geodesic", VERSION, "MIT",
                        vendor_file("geographiclib-geodesic", "geographiclib-geodesic.min.js"),
                        f"https://cdn.jsdelivr.net/npm/geographiclib-geodesic@{VERSION}/"
                        "geographiclib-geodesic.min.js"),)
