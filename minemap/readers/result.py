"""What every reader returns: frames in the record schema, problems, provenance."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd

from minemap._errors import Problem


@dataclass
class Source:
    """Provenance of one source file.

    Attributes
    ----------
    path, name
        The file, and its name as used in messages and in ``source_file``.
    sha256
        Hex digest of exactly the bytes that were parsed.
    source_crs, transformation
        The CRS the coordinates were given in, and the pyproj operation used
        to reach WGS84 (its name, never "unavailable until proj_trans is called").
    columns
        ``{contract field: source column}`` for every field taken from a
        column under another name (``{"record_id": "HAZ_ID"}``): announced on
        every import.
    notes
        What the reader detected (CSV separator and decimal mark, layers
        read, …): shown under ``-v``.
    """

    path: Path
    name: str
    sha256: str
    source_crs: str
    transformation: str
    columns: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class ReadResult:
    """Validated frames of one or more sources, every problem, and provenance.

    Attributes
    ----------
    frames
        Store layer name → frame in that layer's schema
        (:mod:`minemap.records.schema`): ``minefields``, ``vertices``,
        ``mine_rows`` for records; ``releases`` and ``items`` for clearance;
        ``incidents``; ``districts``.
    problems
        Every error and warning found.  Any error refuses the whole set.
    sources
        One :class:`Source` per file.
    """

    frames: dict[str, gpd.GeoDataFrame]
    problems: list[Problem] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when no problem is an error."""
        return not self.errors

    def _frame(self, name: str) -> gpd.GeoDataFrame:
        try:
            return self.frames[name]
        except KeyError:
            raise AttributeError(f"this result holds no {name!r} frame") from None


def _frame_property(layer: str, doc: str) -> property:
    def get(self: ReadResult) -> gpd.GeoDataFrame:
        return self._frame(layer)

    def set_(self: ReadResult, value: gpd.GeoDataFrame) -> None:
        self.frames[layer] = value

    return property(get, set_, doc=doc)


for _attr, _layer, _doc in (
    ("minefields", "minefields", "Minefield records."),
    ("records", "minefields", "Minefield records (the traverse reader's name)."),
    ("vertices", "vertices", "Turning points, in the record's own order."),
    ("rows", "mine_rows", "Mine rows."),
    ("releases", "releases", "Land-release polygons."),
    ("items", "items", "Found items."),
    ("incidents", "incidents", "Mine incidents."),
    ("districts", "districts", "District boundaries."),
):
    setattr(ReadResult, _attr, _frame_property(_layer, _doc))
