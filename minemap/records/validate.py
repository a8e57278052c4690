"""Validation that protects the store (DESIGN §4, GICHD geocheck rules).

Each check is vectorised over the whole file and yields
:class:`~minemap._errors.Problem` objects that name the file and the record.
A file with any error is refused whole by the caller.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod

from minemap import settings
from minemap._errors import Problem
from minemap.geo.dates import parse_date, parse_record_date
from minemap.geo.districts import normalise
from minemap.geo.geometry import area_ha, orient, to_utm

_GEOD = Geod(ellps="WGS84")

#: No record counts more mines, items or casualties than this; anything
#: larger is a typing or unit error (and would overflow a 64-bit store column).
MAX_COUNT = 10_000_000


def labels(frame: pd.DataFrame, id_column: str | None) -> list[str]:
    """How each row is named in messages: its id, else ``feature N``."""
    numbers = (frame["_feature"].tolist() if "_feature" in frame
               else range(1, len(frame) + 1))
    if id_column and id_column in frame:
        texts = _texts(frame[id_column].tolist())
        if _CONTROL.search("".join(texts)):
            # Control characters and line breaks are masked, so a message stays
            # one line and cannot be made to look like another.
            texts = [_CONTROL.sub("?", t) for t in texts]
        return [t if t else f"feature {n}" for t, n in zip(texts, numbers)]
    return [f"feature {n}" for n in numbers]


def derive_ids(frame: gpd.GeoDataFrame, source: str, prefix: str) -> list[str]:
    """Stable ids for rows that have none: from the source file and geometry."""
    wkb = shapely.to_wkb(np.asarray(frame.geometry.values, dtype=object), flavor="iso")
    return [
        f"{prefix}-{hashlib.sha1(source.encode() + (w or b'')).hexdigest()[:12]}" for w in wkb
    ]


# -- geometry -----------------------------------------------------------------


def check_geometries(
    frame: gpd.GeoDataFrame,
    name: str,
    names: list[str],
    *,
    polygonal: bool,
    aoi: tuple[float, float, float, float] | None = None,
    repair: str | None = None,
    geocheck: bool = True,
) -> tuple[np.ndarray, list[Problem], list[list[str]]]:
    """Check and repair geometries.

    ``geocheck=False`` leaves out the minefield-record warnings (vertex gaps,
    tiny areas), which mean nothing for district boundaries.

    Returns
    -------
    geoms
        The repaired geometries (oriented, without duplicate vertices).
    problems
        Errors and warnings.
    flags
        Per-row flags (``self_intersecting``).
    """
    west, south, east, north = aoi or settings.aoi
    geoms = np.asarray(frame.geometry.values, dtype=object)
    problems: list[Problem] = []
    flags: list[list[str]] = [[] for _ in range(len(geoms))]
    ok = np.ones(len(geoms), dtype=bool)

    missing = shapely.is_missing(geoms)
    empty = ~missing & shapely.is_empty(geoms)
    for i in np.flatnonzero(missing | empty):
        problems.append(Problem(name, names[i], "missing or empty geometry (or coordinates that"
                                " could not be read)"))
        ok[i] = False

    types = shapely.get_type_id(geoms)
    if polygonal:
        wrong = ok & ~np.isin(types, (3, 6))
    else:
        wrong = ok & (types != 0)
    for i in np.flatnonzero(wrong):
        want = "a polygon" if polygonal else "a point"
        problems.append(Problem(name, names[i], f"geometry is {geoms[i].geom_type}, not {want}"))
        ok[i] = False

    coords, idx = shapely.get_coordinates(geoms, return_index=True)
    finite = np.isfinite(coords).all(axis=1)
    in_range = finite & (np.abs(coords[:, 0]) <= 180) & (np.abs(coords[:, 1]) <= 90)
    bad_range = np.zeros(len(geoms), dtype=bool)
    np.logical_or.at(bad_range, idx, ~in_range)
    inside = (
        (coords[:, 0] >= west) & (coords[:, 0] <= east)
        & (coords[:, 1] >= south) & (coords[:, 1] <= north)
    )
    swapped = (
        (coords[:, 1] >= west) & (coords[:, 1] <= east)
        & (coords[:, 0] >= south) & (coords[:, 0] <= north)
    )
    outside = np.zeros(len(geoms), dtype=bool)
    np.logical_or.at(outside, idx, ~inside)
    all_swapped = np.ones(len(geoms), dtype=bool)
    np.logical_and.at(all_swapped, idx, swapped)
    for i in np.flatnonzero(ok & bad_range):
        problems.append(Problem(name, names[i], "coordinates out of range for lon/lat"
                                " (projected coordinates? give the file's CRS with --crs)"))
        ok[i] = False
    swap_src = (frame["_swap_inside"].to_numpy(dtype=bool) if "_swap_inside" in frame
                else np.zeros(len(geoms), dtype=bool))
    for i in np.flatnonzero(ok & outside):
        if swap_src[i]:
            msg = ("coordinates look swapped (easting and northing exchanged): outside the"
                   " area of interest as given, inside with the two axes swapped")
        elif all_swapped[i]:
            msg = "coordinates look swapped (lat, lon): outside the area of interest as given"
        else:
            x, y = coords[idx == i][0]
            msg = (
                f"outside the area of interest ({west}..{east} E, {south}..{north} N):"
                f" a vertex is at {x:.5f}, {y:.5f}; check the CRS (--crs)"
            )
        problems.append(Problem(name, names[i], msg))
        ok[i] = False

    if polygonal and ok.any():
        geoms = geoms.copy()
        # Fewer than 3 distinct vertices: no area.  Counted for all rows at
        # once by sorting (row, x, y) and counting changes, before duplicate
        # vertices are dropped (which would collapse such a ring).
        xy, owner = shapely.get_coordinates(geoms[ok], return_index=True)
        order = np.lexsort((xy[:, 1], xy[:, 0], owner))
        xy, owner = xy[order], owner[order]
        new = np.ones(len(owner), dtype=bool)
        new[1:] = (owner[1:] != owner[:-1]) | (xy[1:] != xy[:-1]).any(axis=1)
        distinct = np.bincount(owner[new], minlength=int(ok.sum()))
        for i in np.flatnonzero(ok)[distinct < 3]:
            problems.append(Problem(name, names[i], "fewer than 3 distinct vertices"))
            ok[i] = False
        try:
            geoms[ok] = shapely.remove_repeated_points(geoms[ok], tolerance=0.0)
        except shapely.errors.GEOSException:
            # Some ring (a hole, say) collapses to fewer than 3 points: find it.
            for i in np.flatnonzero(ok):
                try:
                    geoms[i] = shapely.remove_repeated_points(geoms[i], tolerance=0.0)
                except shapely.errors.GEOSException:
                    problems.append(Problem(name, names[i], "a ring has fewer than 3"
                                            " distinct vertices"))
                    ok[i] = False
        invalid = ok & ~shapely.is_valid(geoms)
        for i in np.flatnonzero(invalid):
            reason = shapely.is_valid_reason(geoms[i])
            if repair == "hull":
                fixed = shapely.convex_hull(geoms[i])
                note = "replaced by its convex hull (--repair hull)"
            else:
                fixed = shapely.make_valid(geoms[i], method="linework")
                fixed = _polygonal_part(fixed)
                note = "kept faithful to its vertices (make_valid); review it on the map"
            if fixed is None or fixed.is_empty or shapely.area(fixed) == 0:
                problems.append(Problem(name, names[i], f"invalid polygon ({reason}) with no area"))
                ok[i] = False
                continue
            geoms[i] = fixed
            flags[i].append("self_intersecting")
            problems.append(
                Problem(name, names[i], f"self-intersecting perimeter ({reason}): {note}",
                        "warning")
            )
        geoms[ok] = orient(geoms[ok])
        if not geocheck:
            return geoms, problems, flags
        problems += _vertex_gaps(geoms, ok, name, names)
        tiny = np.zeros(len(geoms), dtype=bool)
        tiny[ok] = hectares(geoms[ok]) < 1e-4
        for i in np.flatnonzero(tiny):
            problems.append(Problem(name, names[i], "covers less than 1 m² (degenerate or"
                                    " nearly collinear vertices?)", "warning"))
    return geoms, problems, flags


def _polygonal_part(geom: shapely.Geometry) -> shapely.Geometry | None:
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    if not parts:
        return None
    return shapely.union_all(parts) if len(parts) > 1 else parts[0]


def _vertex_gaps(geoms, ok, name, names) -> list[Problem]:
    """geocheck: consecutive vertices more than 5 km apart."""
    okidx = np.flatnonzero(ok)
    parts, part_idx = shapely.get_parts(geoms[ok], return_index=True)
    rings, ring_idx = shapely.get_rings(parts, return_index=True)
    ring_owner = okidx[part_idx[ring_idx]]
    coords, idx = shapely.get_coordinates(rings, return_index=True)
    if len(coords) < 2:
        return []
    same = idx[1:] == idx[:-1]
    # Two points whose coordinates differ by at most d degrees are at most
    # √2·d·111.3 km apart anywhere on Earth, so only pairs that differ by
    # more than limit / (2 × 111.3 km) degrees can exceed the limit.
    step = np.abs(np.diff(coords, axis=0)).max(axis=1)
    cand = np.flatnonzero(same & (step > settings.max_vertex_gap_m / (2 * 111_320)))
    dist = np.zeros(len(same))
    if len(cand):
        _, _, dist[cand] = _GEOD.inv(coords[cand, 0], coords[cand, 1], coords[cand + 1, 0],
                                     coords[cand + 1, 1])
    far = same & (dist > settings.max_vertex_gap_m)
    out = []
    for r in sorted(set(idx[1:][far])):
        i = ring_owner[r]
        d = dist[(idx[1:] == r) & far].max()
        out.append(Problem(name, names[i], f"consecutive vertices {d / 1000:.1f} km apart "
                           f"(more than {settings.max_vertex_gap_m / 1000:g} km)", "warning"))
    return out


def outside_aoi(geoms: np.ndarray, aoi: tuple[float, float, float, float] | None = None
                ) -> np.ndarray:
    """Whether any vertex of each geometry lies outside the area of interest."""
    west, south, east, north = aoi or settings.aoi
    geoms = np.asarray(geoms, dtype=object)
    coords, idx = shapely.get_coordinates(geoms, return_index=True)
    inside = ((coords[:, 0] >= west) & (coords[:, 0] <= east)
              & (coords[:, 1] >= south) & (coords[:, 1] <= north))
    out = np.zeros(len(geoms), dtype=bool)
    np.logical_or.at(out, idx, ~inside)
    return out


def vertex_gap_warnings(geoms: np.ndarray, name: str, names: list[str]) -> list[Problem]:
    """geocheck: consecutive vertices more than ``settings.max_vertex_gap_m`` apart."""
    geoms = np.asarray(geoms, dtype=object)
    ok = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    return _vertex_gaps(geoms, ok, name, names) if ok.any() else []


def overlap_warnings(frame: gpd.GeoDataFrame, name: str, names: list[str]) -> list[Problem]:
    """geocheck: fields of one handover overlapping by more than 90 %."""
    geoms = np.asarray(frame.geometry.values, dtype=object)
    good = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    if good.sum() < 2:
        return []
    idx = np.flatnonzero(good)
    ll = geoms[idx]
    tree = shapely.STRtree(ll)
    a, b = tree.query(ll, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    if not len(a):
        return []
    # Shares are ratios of areas of neighbouring shapes, so they are measured
    # in metres only for the overlapping pairs.
    pairs = np.unique(np.concatenate([a, b]))
    utm = np.empty(len(ll), dtype=object)
    utm[pairs], _ = to_utm(ll[pairs])
    smaller = np.minimum(shapely.area(utm[a]), shapely.area(utm[b]))
    # The overlap of two shapes is no larger than the overlap of their
    # boxes: pairs whose boxes share less than the threshold need no
    # intersection at all (most of them, in clustered data).
    ba, bb = shapely.bounds(utm[a]), shapely.bounds(utm[b])
    box_overlap = (np.clip(np.minimum(ba[:, 2], bb[:, 2]) - np.maximum(ba[:, 0], bb[:, 0]), 0,
                           None)
                   * np.clip(np.minimum(ba[:, 3], bb[:, 3]) - np.maximum(ba[:, 1], bb[:, 1]), 0,
                             None))
    cand = box_overlap > settings.overlap_warn_share * smaller
    a, b, smaller = a[cand], b[cand], smaller[cand]
    inter = shapely.area(shapely.intersection(utm[a], utm[b]))
    share = np.divide(inter, smaller, out=np.zeros_like(inter), where=smaller > 0)
    out = []
    for i, j, s in zip(a, b, share):
        if s > settings.overlap_warn_share:
            out.append(
                Problem(name, names[idx[i]],
                        f"overlaps record {names[idx[j]]} by {100 * s:.0f} % (geocheck)", "warning")
            )
    return out


# -- attributes -----------------------------------------------------------------


def _numbers_column(s: pd.Series) -> bool:
    """Whether a column is a NumPy column of numbers (not booleans, text or nullable)."""
    return isinstance(s.dtype, np.dtype) and s.dtype.kind in "iuf"


def counts(
    frame: pd.DataFrame, column: str, name: str, names: list[str], *, default: int | None = 0
) -> tuple[np.ndarray, list[Problem]]:
    """Whole, non-negative counts; missing → ``default`` (or an error if None)."""
    problems: list[Problem] = []
    n = len(frame)
    if column not in frame:
        if default is None:
            return np.zeros(n, dtype=np.int64), [Problem(name, None, f"no column {column!r}")]
        return np.full(n, default, dtype=np.int64), []
    raw = frame[column].astype(object)
    if _numbers_column(frame[column]):
        # Read as numbers: no text to blank, no booleans; no per-value look.
        blank = frame[column].isna().to_numpy(dtype=bool)
        boolean = np.zeros(n, dtype=bool)
        num = frame[column].to_numpy(dtype=float, na_value=np.nan, copy=True)
    else:
        blank = raw.isna().to_numpy(dtype=bool) | raw.map(
            lambda x: isinstance(x, str) and not x.strip()).to_numpy(dtype=bool)
        # true/false are not counts, though numpy would read them as 1 and 0.
        boolean = raw.map(lambda x: isinstance(x, bool | np.bool_)).to_numpy(dtype=bool)
        num = pd.to_numeric(raw.where(~blank & ~boolean, None), errors="coerce").to_numpy(
            dtype=float, copy=True)
    num[boolean] = np.nan
    out = np.zeros(n, dtype=np.int64)
    if default is not None:
        out[blank] = default
    good = (~blank & np.isfinite(num) & (num >= 0) & (num == np.floor(num))
            & (num <= MAX_COUNT))
    out[good] = num[good].astype(np.int64)
    for i in np.flatnonzero(~good):
        v = num[i]
        if blank[i]:
            if default is None:
                problems.append(Problem(name, names[i], f"{column} is missing"))
        elif not np.isfinite(v):
            problems.append(Problem(name, names[i], f"{column} is not a number: {raw.iat[i]!r}"))
        elif v > MAX_COUNT:
            problems.append(Problem(name, names[i], f"{column} {raw.iat[i]!r} is too large"
                                    f" (more than {MAX_COUNT:,})"))
        elif v < 0:
            problems.append(Problem(name, names[i], f"{column} is negative: {raw.iat[i]!r}"))
        else:
            problems.append(
                Problem(name, names[i], f"{column} is not a whole number: {raw.iat[i]!r}")
            )
    return out, problems


def duplicates(ids: list[str], name: str, what: str = "record id") -> list[Problem]:
    """Duplicate ids (after trimming), one problem per repeated id."""
    seen: dict[str, int] = {}
    out = []
    for i in ids:
        key = i.strip()
        seen[key] = seen.get(key, 0) + 1
        if seen[key] == 2:
            out.append(Problem(name, key, f"duplicate {what}"))
    return out


def dates(frame: pd.DataFrame, column: str, name: str, names: list[str],
          *, required: bool = False, partial: bool = False) -> tuple[list[str], list[Problem]]:
    """ISO strings for a date column (``""`` when blank).

    ``partial=True`` also accepts ``YYYY`` and ``YYYY-MM`` (a record's
    ``laid_date``; :func:`minemap.geo.dates.parse_record_date`), kept as written.
    """
    if column not in frame:
        if required:
            return [""] * len(frame), [Problem(name, None, f"no {column!r} column")]
        return [""] * len(frame), []
    out, problems = [], []
    today = _dt.date.today()
    # A date column holds few distinct values: each is parsed once.
    # Keyed by type too: 1, 1.0 and True are one dict key but not one value.
    seen: dict[tuple, tuple[str, _dt.date | None, str | None]] = {}
    for i, v in enumerate(frame[column].tolist()):
        try:
            shown, d, error = seen[type(v), v]
        except (KeyError, TypeError):
            shown, d, error = _parsed(v, partial)
            try:
                seen[type(v), v] = (shown, d, error)
            except TypeError:  # unhashable: parsed each time
                pass
        if error is not None:
            problems.append(Problem(name, names[i], f"{column}: {error}"))
            out.append("")
            continue
        if d is None and required:
            problems.append(Problem(name, names[i], f"{column} is missing"))
        elif d is not None and d > today:
            problems.append(Problem(name, names[i], f"{column} {d} is in the future",
                                    "warning"))
        out.append(shown)
    return out, problems


def _parsed(v: object, partial: bool) -> tuple[str, _dt.date | None, str | None]:
    """(shown, date, error) of one date value."""
    try:
        if partial:
            shown, d = parse_record_date(v)
        else:
            d = parse_date(v)
            shown = d.isoformat() if d else ""
    except ValueError as exc:
        return "", None, str(exc)
    return shown, d, None


def districts(frame: pd.DataFrame, name: str, names: list[str]) -> tuple[list[str], list[Problem]]:
    """Canonical district names; unknown spellings warn and stay blank."""
    if "district" not in frame:
        return [""] * len(frame), []
    out, problems = [], []
    cache: dict[str, str | None] = {}
    for i, v in enumerate(frame["district"].tolist()):
        if v is None or (isinstance(v, float) and np.isnan(v)) or not str(v).strip():
            out.append("")
            continue
        key = str(v)
        if key not in cache:
            cache[key] = normalise(key)
        c = cache[key]
        if c is None:
            problems.append(Problem(name, names[i], f"unknown district {key!r}", "warning"))
            out.append("")
        else:
            out.append(c)
    return out, problems


def _as_text(v: object) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
        # A numeric id read as a float (GeoJSON numbers): 1234, not 1234.0.
        return str(int(v))
    return str(v).strip()


def text(frame: pd.DataFrame, column: str) -> list[str]:
    """A text column with blanks as ``""``."""
    if column not in frame:
        return [""] * len(frame)
    return _texts(frame[column].tolist())


def _texts(values: list) -> list[str]:
    """:func:`_as_text` of each value; a column of only strings skips its dispatch."""
    if set(map(type, values)) <= {str}:
        return [v.strip() for v in values]
    return [_as_text(v) for v in values]


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def id_problems(ids: list[str], raw: pd.Series | None, name: str, what: str) -> list[Problem]:
    """Ids that cannot be kept exactly or shown on one line are refused."""
    # Most files have text ids and none with control characters: one search
    # over all of them, and no per-row look at the raw values, decide that.
    values = raw.tolist() if raw is not None and raw.dtype.kind in "fO" else None
    if values is not None and not any(isinstance(x, float) for x in values):
        values = None  # no number read as a float: nothing to check per row
    control = _CONTROL.search("".join(ids)) is not None
    if values is None and not control:
        return []
    out = []
    for i, rid in enumerate(ids):
        if control and _CONTROL.search(rid):
            shown = _CONTROL.sub("?", rid)
            out.append(Problem(name, shown, f"{what} contains control characters or line"
                               " breaks"))
        elif values is not None:
            v = values[i]
            if isinstance(v, float) and not np.isnan(v) and (not v.is_integer()
                                                                or abs(v) >= 2**53):
                out.append(Problem(name, rid, f"{what} is a number that cannot be kept"
                                   " exactly; give ids as text"))
    return out


def hectares(geoms: np.ndarray) -> np.ndarray:
    """Geodesic hectares (0 for missing geometries)."""
    geoms = np.asarray(geoms, dtype=object)
    out = np.zeros(len(geoms))
    ok = ~shapely.is_missing(geoms)
    if ok.any():
        out[ok] = area_ha(geoms[ok])
    return out
