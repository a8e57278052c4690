"""Leaflet.markercluster (XStatic-Leaflet-MarkerCluster, identical to npm 1.4.1).

Only ``MarkerCluster.css`` (animation and spider legs): the bubbles' colours
come from :data:`minemap.styles.CLUSTER` through minemap's own icon function,
never from ``MarkerCluster.Default.css``, whose greens and oranges read as
hazard statuses.
"""

from __future__ import annotations

from minemap.render.assets import Asset, xstatic_file
from minemap.render.plugins._base import Plugin

VERSION = "1.4.1"
_CDN = f"https://cdn.jsdelivr.net/npm/leaflet.markercluster@{VERSION}/dist/"


class MarkerCluster(Plugin):
    """Clustered markers (the found items)."""

    default_css = (Asset("Leaflet.markercluster", VERSION, "MIT",
                         xstatic_file("leaflet_markercluster", "MarkerCluster.css"),
                         _CDN + "MarkerCluster.css"),)
    default_js = (Asset("Leaflet.markercluster", VERSION, "MIT",
                        xstatic_file("leaflet_markercluster", "leaflet.markercluster.js"),
                        _CDN + "leaflet.markercluster.js"),)
