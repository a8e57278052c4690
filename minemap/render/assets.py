"""Script and style assets of the map: where each file comes from, and how it enters a page.

An :class:`Asset` is one pinned file of a library, declared as data by a plugin
(:mod:`minemap.render.plugins`): its local copy (a pip package such as
XStatic-Leaflet or folium, or ``render/vendor/``), the same version's URL on
jsDelivr, and its licence.  An offline page inlines the local copy (CSS
images as data URIs, source-map comments dropped); an online page loads the
URL with a Subresource Integrity hash of the local copy, so the browser runs
exactly the file that was tested, or nothing.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = ["Asset", "vendor_file", "xstatic_file", "folium_file", "asset_html",
           "script_element", "style_element", "STATIC", "VENDOR"]

STATIC = Path(__file__).with_name("static")
VENDOR = Path(__file__).with_name("vendor")

_MIME = {".png": "image/png", ".svg": "image/svg+xml", ".gif": "image/gif",
         ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}


@dataclass(frozen=True)
class Asset:
    """One file of a library.

    Attributes
    ----------
    library
        Display name, e.g. ``"Leaflet.draw"``.
    version
        The pinned version (of the npm release the file is byte-identical to).
    licence
        SPDX identifier.
    path
        The local copy.
    url
        The same file online (``None``: always inlined, e.g. minemap's own code).
    """

    library: str
    version: str
    licence: str
    path: Path
    url: str | None = None

    @property
    def kind(self) -> str:
        """``"js"`` or ``"css"``, from the file name."""
        return "css" if self.path.suffix == ".css" else "js"

    @property
    def label(self) -> str:
        return f"{self.library} {self.version} ({self.licence})"

    def integrity(self) -> str:
        """The Subresource Integrity value (sha384) of the local copy."""
        digest = hashlib.sha384(self.path.read_bytes()).digest()
        return "sha384-" + base64.b64encode(digest).decode()


def vendor_file(folder: str, name: str) -> Path:
    """A file under ``render/vendor/<folder>/``."""
    return VENDOR / folder / name


def xstatic_file(module: str, name: str) -> Path:
    """A file of an installed ``xstatic.pkg.<module>`` package."""
    mod = __import__(f"xstatic.pkg.{module}", fromlist=["BASE_DIR"])
    return Path(mod.BASE_DIR) / name


def folium_file(name: str) -> Path:
    """A file shipped in folium's ``templates`` folder."""
    import folium

    return Path(folium.__file__).with_name("templates") / name


def _strip_sourcemap(js: str) -> str:
    # The map file is not inlined; a dangling reference would make devtools fetch it.
    return re.sub(r"//# sourceMappingURL=\S+\s*$", "", js.rstrip()) + "\n"


def _inline_css_images(css: str, base: Path) -> str:
    def repl(m: re.Match) -> str:
        ref = m.group(1).strip().strip("'\"")
        if ref.startswith(("data:", "#")):
            return m.group(0)
        f = base / ref
        mime = _MIME.get(f.suffix.lower())
        if mime is None or not f.is_file():
            return m.group(0)
        return f"url(data:{mime};base64,{base64.b64encode(f.read_bytes()).decode()})"
    return re.sub(r"url\(([^)]+)\)", repl, css)


def script_element(js: str, name: str) -> str:
    """An inline ``<script>`` holding ``js``; refused if ``js`` could end or alter the element."""
    low = js.lower()
    if "</script" in low or "<!--" in low:
        raise RuntimeError(f"cannot inline {name}: it contains </script or <!--")
    return f"<script>/* {name} */\n{js}</script>\n"


def style_element(css: str, name: str) -> str:
    """An inline ``<style>`` holding ``css``; refused if ``css`` could end the element."""
    if "</style" in css.lower():
        raise RuntimeError(f"cannot inline {name}: it contains </style")
    return f"<style>/* {name} */\n{css}</style>\n"


@lru_cache(maxsize=64)
def _inline(asset: Asset) -> str:
    text = asset.path.read_text(encoding="utf-8")
    if asset.kind == "css":
        return style_element(_inline_css_images(text, asset.path.parent), asset.label)
    return script_element(_strip_sourcemap(text), asset.label)


def asset_html(asset: Asset, *, offline: bool) -> str:
    """The element that puts ``asset`` in a page: inlined offline (or without a URL), else linked."""
    if offline or asset.url is None:
        return _inline(asset)
    url = html.escape(asset.url, quote=True)
    sri = asset.integrity()
    if asset.kind == "css":
        return (f'<link rel="stylesheet" href="{url}" integrity="{sri}" '
                f'crossorigin="anonymous"/>\n')
    return f'<script src="{url}" integrity="{sri}" crossorigin="anonymous"></script>\n'
