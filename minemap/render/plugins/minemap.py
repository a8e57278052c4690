"""minemap's own map code: the escaped data layers, legend, timeline and draw/measure handlers.

What no plugin does, and only that (``static/*.js``, always inlined: it is
part of this package).  The feature data go in one JSON block that is never
templated (see :func:`minemap.render.payload.embed_json`).
"""

from __future__ import annotations

import html
import json
from typing import Any

from minemap import __version__
from minemap.render.assets import STATIC, Asset
from minemap.render.plugins._base import Plugin, Raw

#: Load order matters: core first, init last.
SCRIPTS = ("core.js", "layers.js", "legend.js", "timeline.js", "draw.js", "measure.js", "init.js")


def _own(name: str) -> Asset:
    return Asset("minemap", __version__, "MIT", STATIC / name)


class MinemapLayers(Plugin):
    """The data block and ``minemapInit(map, groups, dataId)``.

    Parameters
    ----------
    data
        The payload (:func:`minemap.render.payload.build_payload`).
    groups
        Layer key → folium ``FeatureGroup`` variable name.
    libraries
        ``(label, …)`` of every library in the page, for the attribution.
    """

    default_css = (_own("minemap.css"),)
    default_js = tuple(_own(s) for s in SCRIPTS)

    def __init__(self, data: dict[str, Any], groups: dict[str, str], libraries: list[str],
                 *, offline: bool = False) -> None:
        super().__init__(offline=offline)
        self.data = data
        self.groups = groups
        self.libraries = libraries

    def render(self, **kwargs: Any) -> None:
        from minemap.render.payload import embed_json

        super().render(**kwargs)
        figure = self.get_root()
        data_id = f"minemap-data-{self.get_name()}"
        figure.html.add_child(
            Raw(f'<script type="application/json" id="{data_id}">{embed_json(self.data)}</script>'),
            name=data_id)
        figure.header.add_child(Raw(
            "<!-- minemap map. Libraries in this page and their licences:\n"
            + "".join(f"  {lab}\n" for lab in self.libraries) + "-->\n"), name="minemap_licences")
        groups = ", ".join(f"{json.dumps(k)}: {v}" for k, v in self.groups.items())
        # Short on screen (the scale sits under it); every library and
        # licence in its tooltip and in the comment above.
        prefix = (f'<span title="{html.escape(" · ".join(self.libraries), quote=True)}">'
                  f"{html.escape(self.libraries[0])} and plugins (MIT, BSD-2-Clause) · minemap</span>")
        map_name = self._parent.get_name()
        figure.script.add_child(Raw(
            f"{map_name}.attributionControl.setPrefix({embed_json(prefix)});\n"
            f"minemapInit({map_name}, {{{groups}}}, {json.dumps(data_id)});\n"
        ), name=self.get_name() + "_init")
