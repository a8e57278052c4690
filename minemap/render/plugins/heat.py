"""Leaflet.heat, as folium ships it (``folium/templates/leaflet_heat.min.js``).

folium's copy is Leaflet.heat 0.2.0 with the weights patch (Leaflet.heat
pull request 78), which the remaining-mines heat layer needs: each point's
intensity is its remaining estimate.  Online it loads from jsDelivr at the
installed folium's release tag; the licence is in ``vendor/leaflet.heat/``.
"""

from __future__ import annotations

import folium

from minemap.render.assets import Asset, folium_file
from minemap.render.plugins._base import Plugin

VERSION = "0.2.0"


class Heat(Plugin):
    """``L.heatLayer``; the layer itself is built by minemap's JS from the payload."""

    default_js = (Asset("Leaflet.heat", f"{VERSION} (folium {folium.__version__})", "BSD-2-Clause",
                        folium_file("leaflet_heat.min.js"),
                        "https://cdn.jsdelivr.net/gh/python-visualization/folium@v"
                        f"{folium.__version__}/folium/templates/leaflet_heat.min.js"),)
