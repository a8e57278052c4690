"""Leaflet plugins of the map, one per module, each declaring its files as data.

Folium-style: every plugin is a ``MacroElement`` whose ``default_css`` and
``default_js`` list :class:`minemap.render.assets.Asset` objects (pinned
versions, vendored under ``render/vendor/`` or taken from a pip package).
:data:`PLUGINS` is their load order.
"""

from minemap.render.plugins._base import Plugin, Raw
from minemap.render.plugins.draw import Draw
from minemap.render.plugins.fullscreen import Fullscreen
from minemap.render.plugins.geodesic import Geodesic
from minemap.render.plugins.heat import Heat
from minemap.render.plugins.leaflet import Leaflet
from minemap.render.plugins.markercluster import MarkerCluster
from minemap.render.plugins.minemap import MinemapLayers
from minemap.render.plugins.mouse_position import MousePosition

#: Plugins every map gets, in load order (MinemapLayers comes last).
PLUGINS = (Leaflet, MarkerCluster, Heat, Fullscreen, MousePosition, Draw, Geodesic)

__all__ = ["Plugin", "Raw", "PLUGINS", "Leaflet", "MarkerCluster", "Heat", "Fullscreen",
           "MousePosition", "Draw", "Geodesic", "MinemapLayers"]
