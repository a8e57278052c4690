"""``--basemap``: online tiles, a ``{z}/{x}/{y}`` tile folder or an ``.mbtiles`` file (DESIGN §12).

:func:`check_basemap` parses and checks the value up front (a missing path is
a usage error); :func:`add_basemap` puts it on the map.  Local tiles are
inlined as data URIs when the map is offline (and always from ``.mbtiles``,
which a browser cannot read): only the tiles covering the map's extent, zoom
level by zoom level from the coarsest, until the next level would pass
``settings.basemap_inline_mb``, which a warning then states.
"""

from __future__ import annotations

import base64
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyproj import Transformer

from minemap import settings
from minemap._errors import UsageError
from minemap.store.mbtiles import MBTiles, NotMBTiles

__all__ = ["Basemap", "check_basemap", "inline_tiles", "tile_range"]

_ONLINE = ("osm", "esri", "osm+esri")
_EXTS = (".png", ".jpg", ".jpeg", ".webp")
_MERC = 20037508.342789244  # half the EPSG:3857 world width, metres
_TO_MERC = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)


@dataclass(frozen=True)
class Basemap:
    """A checked ``--basemap`` value.

    ``kind`` is ``none``, ``online`` (``name`` osm, esri or osm+esri), ``url``
    (a remote template), ``folder`` (``root`` and ``template``) or ``mbtiles``
    (``root`` the file).
    """

    kind: str
    name: str = ""
    root: Path | None = None
    template: str = ""
    min_zoom: int = 0
    max_zoom: int = 0

    @property
    def label(self) -> str:
        return self.root.name if self.root is not None else self.name


def _zooms(root: Path) -> list[int]:
    return sorted(int(p.name) for p in root.iterdir() if p.is_dir() and p.name.isdigit())


def _folder(value: str) -> Basemap:
    if "{z}" in value:
        root_s, _, rest = value.partition("{z}")
        root = Path(root_s.rstrip("/\\") or ".")
        if not re.fullmatch(r"[/\\]\{x\}[/\\]\{y\}\.[A-Za-z0-9]+", rest):
            raise UsageError(f"--basemap {value}: a tile template ends in {{z}}/{{x}}/{{y}}.EXT")
        ext = rest.rsplit(".", 1)[1]
    else:
        root, ext = Path(value), None
    if not root.exists():
        raise UsageError(f"--basemap {value}: no such file or folder")
    if not root.is_dir():
        raise UsageError(f"--basemap {value}: not a tile folder or an .mbtiles file")
    zooms = _zooms(root)
    if ext is None:
        found = next((f for z in zooms for f in (root / str(z)).glob("*/*")
                      if f.suffix.lower() in _EXTS), None)
        ext = found.suffix.lstrip(".") if found else None
    if not zooms or ext is None or not any((root / str(z)).glob(f"*/*.{ext}") for z in zooms):
        raise UsageError(f"--basemap {value}: no {{z}}/{{x}}/{{y}} tiles in {root}")
    return Basemap("folder", root=root, template=f"{{z}}/{{x}}/{{y}}.{ext}",
                   min_zoom=zooms[0], max_zoom=zooms[-1])


def check_basemap(value: str | None, *, offline: bool) -> Basemap:
    """Parse and check ``--basemap`` (``None``: OpenStreetMap and imagery online, none offline).

    Raises
    ------
    UsageError
        A path that does not exist or holds no tiles, a file that is not
        MBTiles, or an online basemap asked for an offline map.
    """
    if value is None:
        value = "none" if offline else "osm+esri"
    key = str(value).strip()
    low = key.lower()
    if low in ("none", ""):
        return Basemap("none")
    if low in _ONLINE or re.match(r"^(https?:)?//", key):
        if offline:
            raise UsageError(f"--basemap {key}: an offline map cannot use an online basemap; "
                             "give a tile folder path/{z}/{x}/{y}.png, an .mbtiles file or none")
        return Basemap("online", name=low) if low in _ONLINE else Basemap("url", name=key)
    if key.lower().endswith(".mbtiles"):
        path = Path(key)
        if not path.is_file():
            raise UsageError(f"--basemap {key}: no such file")
        try:
            with MBTiles(path) as mb:
                if mb.metadata.get("format", "png").lower() in ("pbf", "mvt"):
                    raise UsageError(f"--basemap {key}: vector tiles (pbf) cannot be drawn; "
                                     "give raster tiles (png, jpg or webp)")
                return Basemap("mbtiles", root=path, min_zoom=mb.min_zoom, max_zoom=mb.max_zoom,
                               name=mb.metadata.get("name", path.stem))
        except NotMBTiles as e:
            raise UsageError(f"--basemap {e}") from None
    return _folder(key)


def tile_range(bounds: tuple[float, float, float, float], z: int) -> tuple[int, int, int, int]:
    """XYZ columns ``x0, x1`` and rows ``y0, y1`` of the tiles covering lon/lat ``bounds`` at ``z``."""
    lon0, lat0, lon1, lat1 = bounds
    lat0, lat1 = max(lat0, -85.05112878), min(lat1, 85.05112878)
    (mx0, mx1), (my0, my1) = _TO_MERC.transform([lon0, lon1], [lat0, lat1])
    n = 1 << z

    def col(mx: float) -> int:
        return min(n - 1, max(0, math.floor((mx + _MERC) / (2 * _MERC) * n)))

    def row(my: float) -> int:
        return min(n - 1, max(0, math.floor((_MERC - my) / (2 * _MERC) * n)))

    return col(mx0), col(mx1), row(my1), row(my0)


def _mime(data: bytes) -> str | None:
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _read_level(bm: Basemap, z: int, rng: tuple[int, int, int, int]) -> dict[tuple[int, int, int], bytes]:
    x0, x1, y0, y1 = rng
    if bm.kind == "mbtiles":
        with MBTiles(bm.root) as mb:
            return mb.tiles(z, x0, x1, y0, y1)
    out = {}
    ext = bm.template.rsplit(".", 1)[1]
    zdir = bm.root / str(z)
    if not zdir.is_dir():
        return out
    # Walk what exists rather than every index of the range: deep zooms of a
    # large extent have far more indices than files.
    for xdir in zdir.iterdir():
        if not (xdir.name.isdigit() and x0 <= int(xdir.name) <= x1):
            continue
        for f in xdir.glob(f"*.{ext}"):
            if f.stem.isdigit() and y0 <= int(f.stem) <= y1 and f.is_file():
                out[(z, int(xdir.name), int(f.stem))] = f.read_bytes()
    return out


def inline_tiles(bm: Basemap, bounds: tuple[float, float, float, float],
                 cap_mb: float | None = None) -> tuple[dict[str, Any], list[str]]:
    """The tiles covering ``bounds`` as data URIs, coarsest zoom first, within the cap.

    Returns
    -------
    dict, list of str
        The payload's ``basemap`` (``tiles`` ``"z/x/y"`` → data URI,
        ``min_zoom``, ``max_zoom``, ``attribution``) and warnings.
    """
    cap = settings.basemap_inline_mb if cap_mb is None else float(cap_mb)
    tiles: dict[str, str] = {}
    size = 0
    zmax = None
    warnings: list[str] = []
    for z in range(bm.min_zoom, bm.max_zoom + 1):
        level = {}
        for key, data in _read_level(bm, z, tile_range(bounds, z)).items():
            mime = _mime(data)
            if mime is not None:
                level["/".join(map(str, key))] = f"data:{mime};base64,{base64.b64encode(data).decode()}"
        add = sum(len(v) for v in level.values())
        if size + add > cap * 1e6:
            kept = (f"zooms {bm.min_zoom}-{zmax} inlined ({size / 1e6:.1f} MB)" if zmax is not None
                    else "no zoom level inlined")
            warnings.append(f"basemap {bm.root}: zoom {z}-{bm.max_zoom} left out, inlining it would "
                            f"pass basemap_inline_mb={cap:g}; {kept}. Raise "
                            "minemap.settings.basemap_inline_mb or filter the map to a smaller extent")
            break
        tiles.update(level)
        size += add
        zmax = z
    out = {"tiles": tiles, "min_zoom": bm.min_zoom, "max_zoom": zmax if zmax is not None else bm.min_zoom,
           "attribution": (f"{bm.label} (local tiles, inlined)" if zmax is not None else
                           f"{bm.label} left out (larger than basemap_inline_mb)")}
    return out, warnings
