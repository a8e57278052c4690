"""CSV: layers (WKT or centroid columns, optional HXL row) and plain tables.

Cells a spreadsheet would run as formulas are neutralised
(:func:`minemap.export.common._cell`).
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING

import numpy as np
import pandas as pd

from minemap._errors import UsageError
from minemap.export.common import (
    _FORMULA_START,
    ID_COLUMNS,
    _atomic_text,
    _cell,
    _column_values,
    _fmt,
    is_write_error,
    remove_stale_temporaries,
    write_error,
)
from minemap.export.rounding import round_table

if TYPE_CHECKING:
    import geopandas

#: ``#meta+<name>``.
HXL_TAGS: dict[str, str] = {
    "record_id": "#meta+record_id",
    "report_id": "#meta+report_id",
    "item_id": "#meta+item_id",
    "incident_id": "#meta+incident_id",
    "handover": "#meta+handover",
    "handover_date": "#date+handover",
    "district": "#adm2+name",
    "mines_ap": "#indicator+mines+ap+num",
    "mines_at": "#indicator+mines+at+num",
    "mines_total": "#indicator+mines+total+num",
    "mine_types": "#item+type+mine",
    "laid_date": "#date+laid",
    "reliability": "#meta+reliability",
    "area_ha": "#indicator+area+ha+num",
    "flags": "#meta+flags",
    "source_file": "#meta+source",
    "source_crs": "#meta+crs",
    "transformation": "#meta+transformation",
    "misclosure_m": "#indicator+misclosure+m+num",
    "misclosure_ratio": "#indicator+misclosure+ratio+num",
    "declination_deg": "#indicator+declination+deg+num",
    "revision": "#meta+revision",
    "released_ha": "#indicator+released+ha+num",
    "released_pct": "#indicator+released+pct",
    "cleared_ha": "#indicator+cleared+ha+num",
    "cleared_pct": "#indicator+cleared+pct",
    "found_mines": "#indicator+mines+found+num",
    "remaining_est": "#indicator+mines+remaining+num",
    "status": "#status",
    "last_release_date": "#date+released",
    "date_start": "#date+start",
    "date_end": "#date+end",
    "date": "#date",
    "operator": "#org+impl",
    "method": "#activity+method",
    "outcome": "#activity+outcome",
    "found_ap": "#indicator+found+ap+num",
    "found_at": "#indicator+found+at+num",
    "found_uxo": "#indicator+found+uxo+num",
    "item_type": "#item+type",
    "model": "#item+model",
    "killed": "#affected+killed+num",
    "injured": "#affected+injured+num",
    "civilian": "#affected+civilian",
    "row": "#meta+row",
    "mines": "#indicator+mines+num",
    "mine_type": "#item+type+mine",
    "spacing_m": "#indicator+spacing+m+num",
    "wkt": "#geo+wkt",
    "lon": "#geo+lon",
    "lat": "#geo+lat",
    "mgrs": "#geo+mgrs",
    "vertex": "#meta+vertex",
    "label": "#meta+label",
    "point_type": "#meta+point_type",
    "utm_zone": "#geo+utm+zone",
    "utm_easting": "#geo+utm+x",
    "utm_northing": "#geo+utm+y",
    "crs_easting": "#geo+x",
    "crs_northing": "#geo+y",
    "x": "#geo+x",
    "y": "#geo+y",
}

# Colours (RGB) shared by the KML styles and the hand-written QML files


def hxl_tags(columns: Iterable[str], layer: str) -> list[str]:
    """HXL hashtags of CSV columns (see :data:`HXL_TAGS`)."""
    tags = []
    for name in columns:
        if name == ID_COLUMNS.get(layer) and name != "district":
            tags.append("#meta+id")
        elif name in HXL_TAGS:
            tags.append(HXL_TAGS[name])
        else:
            attr = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_") or "column"
            if not attr[0].isalpha():
                attr = "x" + attr
            tags.append(f"#meta+{attr}")
    return tags


def _write_csv(fh: IO[str], frame: geopandas.GeoDataFrame, geoms: np.ndarray, layer: str,
               precision: int, *, hxl: bool, geometry: str, note: str | None = None,
               coord_precision: int | None = None) -> None:
    """A layer as CSV, rounded for people (:mod:`~minemap.export.rounding`).

    `geoms` are in the output CRS; `coord_precision` is the decimals of
    their coordinates (`precision` for degrees).  A `note` (the CRS and its
    transformation) is written as a first ``#`` comment line.
    """
    import shapely

    coord_precision = precision if coord_precision is None else coord_precision
    frame = round_table(pd.DataFrame(frame.drop(columns=frame.geometry.name)))
    for c in ("lat", "lon"):
        if c in frame and pd.api.types.is_float_dtype(frame[c].dtype):
            frame[c] = frame[c].round(precision)
    cols = [c for c in frame.columns if c != "raw"]
    if layer == "vertices":
        geo_cols: list[str] = []  # lat, lon, MGRS and UTM columns say where each point is
    else:
        geo_cols = ["wkt"] if geometry == "wkt" else (["x", "y"] if note else ["lon", "lat"])
    for c in geo_cols:
        if c in cols:
            raise UsageError(f"layer {layer} already has a column {c!r}; it would clash with "
                             f"the CSV geometry column")
    values = [_column_values(frame[c], c) for c in cols]
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if geo_cols == ["wkt"]:
        wkt = np.full(len(geoms), "", dtype=object)
        if present.any():
            wkt[present] = shapely.to_wkt(geoms[present], rounding_precision=coord_precision,
                                          trim=True)
        values.append(wkt.tolist())
    elif geo_cols:
        lon = [""] * len(geoms)
        lat = [""] * len(geoms)
        if present.any():
            xy = shapely.get_coordinates(shapely.centroid(geoms[present]))
            for j, i in enumerate(np.flatnonzero(present)):
                lon[i] = _fmt(xy[j, 0], coord_precision)
                lat[i] = _fmt(xy[j, 1], coord_precision)
        values.extend([lon, lat])
    header = cols + geo_cols
    if note:
        fh.write("# " + note.replace("\n", " ") + "\n")
    w = csv.writer(fh, lineterminator="\n")
    w.writerow(header)
    if hxl:
        w.writerow(hxl_tags(header, layer))
    for row in zip(*values):
        w.writerow([_cell(v) for v in row])


def write_table_csv(table: pd.DataFrame, path: str | os.PathLike, *,
                    overwrite: bool = False) -> None:
    """Write a plain table (no geometry) as CSV, safely, rounded for people.

    Like every export: refused over an existing file without ``overwrite``,
    written under a temporary name and renamed (a failure leaves no half
    file), with cells that a spreadsheet would run as formulas neutralised
    and numbers rounded by :mod:`~minemap.export.rounding` (``--json`` and
    GeoPackage keep full precision).

    Raises
    ------
    UsageError
        No such directory, or an existing file without `overwrite`.
    DataError
        The file could not be written (a full disk), in one line naming it.
    """
    path = Path(path)
    check_table_target(path, overwrite=overwrite)
    table = round_table(pd.DataFrame(table))
    remove_stale_temporaries(path.parent)
    try:
        with _atomic_text(path) as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow([str(c) for c in table.columns])
            w.writerows(zip(*(_cells(_column_values(table[c], str(c))) for c in table.columns)))
    except OSError as exc:
        if not is_write_error(exc):
            raise
        raise write_error(path, exc) from None


_NUMBER_TYPES = frozenset({int, float, type(None)})
_TEXT_TYPES = frozenset({str, type(None)})


def _cells(values: list) -> list[str]:
    """A column's CSV cells: ``_cell`` of each value, '' for None.

    A column of only numbers or only text (the usual case) is converted
    without ``_cell``'s per-value dispatch; the cells are the same.
    """
    types = set(map(type, values))
    if types <= _NUMBER_TYPES:  # not bool: "true"/"false"
        return ["" if v is None else str(v) for v in values]
    if types <= _TEXT_TYPES:
        return ["" if v is None else "'" + v if v.startswith(_FORMULA_START) else v
                for v in values]
    return ["" if v is None else _cell(v) for v in values]


def check_table_target(path: Path, *, overwrite: bool) -> None:
    """Refuse a table output up front: no such folder, or an existing file."""
    if not path.parent.is_dir():
        raise UsageError(f"output directory does not exist: {path.parent}")
    if path.is_dir():
        raise UsageError(f"output path is a directory: {path}")
    if path.exists() and not overwrite:
        raise UsageError(f"{path} exists; pass --overwrite to replace it")
