"""Reading a traverse file: text → records → specs → computed frames.

A file with any refused record is refused whole: the frames come back empty
and the problems list every error of every record.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from minemap import settings
from minemap._errors import UsageError
from minemap.geo import magnetic
from minemap.geo.dates import parse_date
from minemap.geo.geometry import area_ha, orient, polygonal
from minemap.readers import provenance
from minemap.readers.result import ReadResult, Source
from minemap.readers.safe_yaml import gc_paused
from minemap.readers.traverse._compute import Out, compute
from minemap.readers.traverse._parse import attribute_frame, parse_record
from minemap.readers.traverse._spec import Ctx, Spec
from minemap.readers.traverse_text import csv_items, yaml_items
from minemap.records import rules
from minemap.records import schema as sc

#: What :func:`read_traverse` returns: the one reader result type, with frames
#: ``minefields`` (EPSG:4326 polygons, ``.records``), ``vertices`` (the
#: reference point, vertex 0 ``RP``, and every polygon vertex, adjusted, with
#: its unadjusted position in the source CRS in ``raw_x``/``raw_y``) and
#: ``mine_rows`` (``.rows``), every problem (one warning per closed record
#: reporting its misclosure) and the file's provenance.
TraverseResult = ReadResult


def _frame(columns: dict[str, str], rows: list[dict], geoms: list) -> gpd.GeoDataFrame:
    dtypes = {"str": object, "int": "int64", "float": "float64", "bool": bool}
    df = pd.DataFrame(rows, columns=list(columns))
    for col, kind in columns.items():
        df[col] = df[col].astype(dtypes[kind])
    return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"),
                            crs="EPSG:4326")


def _empty() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    return (_frame(sc.MINEFIELD_COLUMNS, [], []), _frame(sc.VERTEX_COLUMNS, [], []),
            _frame(sc.MINE_ROW_COLUMNS, [], []))


def is_traverse_file(path: str | Path) -> bool:
    """Whether ``path`` is a traverse file: YAML, or a CSV with bearing & distance_m columns.

    Parameters
    ----------
    path
        A file path; a CSV is recognised by its header line only.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return True
    if suffix != ".csv":
        return False
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            head = fh.readline()
    except (OSError, UnicodeDecodeError):
        return False
    delimiter = ";" if head.count(";") > head.count(",") else ","
    if head.count(delimiter) >= settings.max_columns:
        # Not a traverse file; the GIS reader refuses its width in one line.
        return False
    try:
        cols = {c.strip().lower() for c in next(csv.reader(io.StringIO(head),
                                                           delimiter=delimiter))}
    except StopIteration:
        return False
    return {"bearing", "distance_m"} <= cols


def read_traverse(
    path: str | Path,
    *,
    handover: str | None = None,
    handover_date: str | dt.date | None = None,
    accept_misclosure: bool = False,
    aoi: tuple[float, float, float, float] | None = None,
    repair: str | None = None,
) -> TraverseResult:
    """Read traverse records from a YAML or CSV file.

    Parameters
    ----------
    path
        ``.yaml``/``.yml`` (one record, a list of records, or several YAML
        documents) or ``.csv`` (one line per leg; see ``docs/traverse.md``).
    handover
        The import's handover.  A record's own ``handover`` must equal it;
        records without one get it.
    handover_date
        ISO date; the date of the geomagnetic model for magnetic records that
        have neither a declination, a direction correction nor a laid_date.
    accept_misclosure
        Import closed traverses whose misclosure is worse than
        ``1:settings.misclosure_tolerance`` (with a warning) instead of
        refusing them.
    aoi
        Area of interest (west, south, east, north); ``settings.aoi`` if None.
        Reference points outside it are refused.
    repair
        ``None``: a self-intersecting perimeter becomes the valid polygonal
        parts of its outline (``make_valid``); ``"hull"``: its convex hull.
        Either way it gets the flag ``self_intersecting`` and a warning.

    Returns
    -------
    TraverseResult
        The records, vertices and mine rows, or three empty frames if any
        record is refused, and every problem found.

    Raises
    ------
    UsageError
        If the file cannot be read or ``handover_date`` is not a date.
    """
    with gc_paused():
        return _read(path, handover=handover, handover_date=handover_date,
                     accept_misclosure=accept_misclosure, aoi=aoi, repair=repair)


def _read(
    path: str | Path,
    *,
    handover: str | None,
    handover_date: str | dt.date | None,
    accept_misclosure: bool,
    aoi: tuple[float, float, float, float] | None,
    repair: str | None,
) -> ReadResult:
    if repair not in (None, "hull"):
        raise UsageError(f"repair {repair!r}: the only repair offered is 'hull'")
    path = Path(path)
    name = path.name
    aoi = tuple(float(v) for v in (aoi if aoi is not None else settings.aoi))
    hdate = None
    if handover_date is not None and str(handover_date).strip():
        try:
            hdate = parse_date(handover_date)
        except ValueError as exc:
            raise UsageError(f"handover date: {exc}") from None
    ctx = Ctx(name, handover, hdate, aoi, accept_misclosure)
    try:
        # Read once: the bytes hashed are the bytes parsed (issue 15 item 4).
        data, sha = provenance.read_source_bytes(path)
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror}") from None
    source = Source(path, name, sha, "", "")

    def result(*frames) -> ReadResult:
        m, v, r = frames or _empty()
        if len(m):
            source.source_crs = ";".join(sorted(set(m["source_crs"])))
            source.transformation = " | ".join(sorted(set(m["transformation"])))
        return ReadResult({"minefields": m, "vertices": v, "mine_rows": r}, ctx.problems,
                          [source])

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        ctx.error(None, f"not UTF-8 text (byte {exc.start}); save it as UTF-8")
        return result()
    del data
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        items = yaml_items(text, name, ctx.problems)
    elif suffix == ".csv":
        items = csv_items(text, name, ctx.problems)
    else:
        ctx.error(None, "not a traverse file (use .yaml, .yml or .csv)")
        items = []
    specs = _specs(items, ctx, handover)
    outs = [o for o in (compute(s, ctx) for s in specs) if o is not None]
    if any(p.severity == "error" for p in ctx.problems):
        return result()
    return result(*_frames(outs, ctx, repair))


def _specs(items: list[tuple[object, str]], ctx: Ctx, handover: str | None) -> list[Spec]:
    """Every record that parses, with modelled declinations filled in."""
    # The record rules every reader shares (minemap.records.rules): id,
    # handover, counts, district, mine types, laid_date.
    frame, names, where = attribute_frame(items, ctx)
    cols, found = rules.record_attributes(frame, ctx.file, names, handover=handover,
                                          where=where)
    ctx.problems += found
    failed = {p.record for p in found if p.severity == "error"}
    specs: list[Spec] = []
    for index, (data_i, raw) in enumerate(items, start=1):
        i = index - 1
        attrs = {c: cols[c][i] for c in cols}
        attrs["name"] = names[i]
        attrs["bad"] = names[i] in failed
        attrs["handover"] = attrs["handover"] or handover or ""
        spec = parse_record(data_i, raw, index, ctx, attrs)
        if spec is not None:
            specs.append(spec)
    # One IGRF evaluation for all the records whose declination is modelled.
    modelled = [s for s in specs if s.model_date is not None and s.ref is not None]
    if modelled:
        decs = magnetic.declinations([s.ref.lon for s in modelled],
                                     [s.ref.lat for s in modelled],
                                     [s.model_date for s in modelled])
        for s, d in zip(modelled, decs.tolist()):
            s.declination = d
    return specs


def _frames(outs: list[Out], ctx: Ctx, repair: str | None
            ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The minefields, vertices and mine rows frames of the computed records."""
    polys = np.array([o.polygon for o in outs], dtype=object)
    for i in np.flatnonzero(~shapely.is_valid(polys)):
        # Often two turning points swapped (DESIGN §4): keep the field
        # faithful to its vertices, or take the hull, which never leaves
        # hazardous ground outside, and say so.
        o = outs[i]
        o.record["flags"] = ";".join(filter(None, [o.record["flags"], "self_intersecting"]))
        if repair == "hull":
            polys[i] = shapely.convex_hull(polys[i])
            how = "replaced by its convex hull"
        else:
            polys[i] = polygonal(shapely.make_valid(polys[i]))
            how = "kept as the valid parts of its outline"
        ctx.warn(o.record["record_id"], "self-intersecting perimeter (turning points "
                 f"swapped?); {how}; review it on the map")
    polys = orient(polys)
    recs = []
    for o, a in zip(outs, area_ha(polys).tolist()):
        o.record["area_ha"] = a
        recs.append(o.record)
    records = _frame(sc.MINEFIELD_COLUMNS, recs, list(polys))
    xy = np.array([g for o in outs for _, g in o.vertices], dtype=float).reshape(-1, 2)
    vertices = _frame(sc.VERTEX_COLUMNS, [v for o in outs for v, _ in o.vertices],
                      list(shapely.points(xy)))
    rows = _frame(sc.MINE_ROW_COLUMNS, [r for o in outs for r, _ in o.rows],
                  [g for o in outs for _, g in o.rows])
    return records, vertices, rows
