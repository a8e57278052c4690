"""Read-only access to an MBTiles tile set (a basemap for the map, DESIGN §12).

MBTiles is SQLite (``metadata`` and ``tiles`` tables, TMS row order), so it
is read here, where minemap's SQL lives.  The file is opened read-only
(``mode=ro`` URI, never created or written), every query is parameterised,
and a file that is not an MBTiles set is refused with a one-line message.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

__all__ = ["MBTiles", "NotMBTiles"]


class NotMBTiles(ValueError):
    """The file is not a readable MBTiles tile set."""


class MBTiles:
    """An open MBTiles file.

    Parameters
    ----------
    path
        The ``.mbtiles`` file.

    Raises
    ------
    NotMBTiles
        Not SQLite, or without the ``tiles`` table, or holding no tile.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        uri = self.path.resolve().as_uri() + "?mode=ro"
        try:
            self._con = sqlite3.connect(uri, uri=True)
            self._con.execute("PRAGMA query_only = ON")
            names = {r[0] for r in self._con.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
            if "tiles" not in names:
                raise NotMBTiles(f"{self.path}: not an MBTiles file (no tiles table)")
            self.metadata = ({str(k): str(v) for k, v in self._con.execute(
                "SELECT name, value FROM metadata")} if "metadata" in names else {})
            zmin, zmax = self._con.execute(
                "SELECT MIN(zoom_level), MAX(zoom_level) FROM tiles").fetchone()
        except sqlite3.DatabaseError as e:
            raise NotMBTiles(f"{self.path}: not an MBTiles file ({e})") from None
        if zmin is None:
            raise NotMBTiles(f"{self.path}: the MBTiles file holds no tiles")
        self.min_zoom, self.max_zoom = int(zmin), int(zmax)

    def tiles(self, z: int, x0: int, x1: int, y0: int, y1: int) -> dict[tuple[int, int, int], bytes]:
        """The tiles of zoom ``z`` with XYZ columns ``x0..x1`` and rows ``y0..y1`` (inclusive)."""
        n = 1 << z
        # MBTiles rows count from the south (TMS): row = 2^z - 1 - y.
        rows = self._con.execute(
            "SELECT tile_column, tile_row, tile_data FROM tiles WHERE zoom_level = ? "
            "AND tile_column BETWEEN ? AND ? AND tile_row BETWEEN ? AND ?",
            (z, x0, x1, n - 1 - y1, n - 1 - y0))
        return {(z, int(c), n - 1 - int(r)): bytes(d) for c, r, d in rows}

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> MBTiles:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
