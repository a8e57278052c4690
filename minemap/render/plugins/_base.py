"""The base of every plugin: assets declared as data, added once to the page header."""

from __future__ import annotations

from typing import Any

from branca.element import Element, MacroElement

from minemap.render.assets import Asset, asset_html


class Raw(Element):
    """An element rendered verbatim (never through Jinja, so data cannot be templated)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def render(self, **kwargs: Any) -> str:
        return self._text


class Plugin(MacroElement):
    """A Leaflet plugin in the folium manner: ``default_css``/``default_js`` are its files.

    Rendering adds each asset to the page header once (keyed by file), inlined
    when ``offline`` and linked with its integrity hash otherwise, then the
    plugin's own start-up script (:meth:`init_js`), if any.  Add plugins to the
    map in dependency order (Leaflet first).
    """

    default_css: tuple[Asset, ...] = ()
    default_js: tuple[Asset, ...] = ()

    def __init__(self, *, offline: bool = False) -> None:
        super().__init__()
        self._name = type(self).__name__
        self.offline = bool(offline)

    def assets(self) -> tuple[Asset, ...]:
        return tuple(self.default_css) + tuple(self.default_js)

    def init_js(self, map_name: str) -> str:
        """JavaScript run once the map exists (``map_name`` is its variable)."""
        return ""

    def render(self, **kwargs: Any) -> None:
        figure = self.get_root()
        for asset in self.assets():
            figure.header.add_child(Raw(asset_html(asset, offline=self.offline)),
                                    name=f"asset:{asset.path}")
        js = self.init_js(self._parent.get_name())
        if js:
            figure.script.add_child(Raw(js), name=self.get_name())
