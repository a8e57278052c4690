"""Reading, validating and importing every kind of source into the store.

Readers give frames in WGS84 with provenance; the functions here turn them
into validated rows of the store's schema (or a list of problems), and the
``import_*`` functions write them as one new revision.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from minemap import settings
from minemap._errors import DataError, Problem, UsageError, raise_for_problems
from minemap.geo.districts import normalise
from minemap.readers.gis import SourceFrame, read_features
from minemap.records import schema
from minemap.records import validate as v
from minemap.store import ImportPlan, ImportResult, Store, open_store, sha256_file

PathLike = str | os.PathLike

_ALIASES: dict[str, tuple[str, ...]] = {
    "record_id": ("id", "recordid", "minefield_id", "name"),
    "mines_ap": ("ap", "ap_mines", "n_ap"),
    "mines_at": ("at", "at_mines", "n_at"),
    "mines_total": ("total", "mines", "total_mines"),
    "item_type": ("type",),
    "date_end": ("date_to",),
    "date_start": ("date_from",),
}


@dataclass
class RecordSet:
    """Validated minefield records of one or more sources.

    Attributes
    ----------
    minefields, vertices, rows
        Frames in the store's schema (see :mod:`minemap.records.schema`).
    problems
        Every error and warning found.  Any error refuses the whole set.
    sources
        One :class:`Source` per file.
    """

    minefields: gpd.GeoDataFrame
    vertices: gpd.GeoDataFrame
    rows: gpd.GeoDataFrame
    problems: list[Problem] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


@dataclass
class Source:
    """Provenance of one source file."""

    path: Path
    name: str
    sha256: str
    source_crs: str
    transformation: str


def _empty(columns: dict[str, str], geom: bool = True) -> gpd.GeoDataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    return gpd.GeoDataFrame(frame, geometry=[], crs="EPSG:4326") if geom else frame


def _concat(frames: list[gpd.GeoDataFrame], columns: dict[str, str]) -> gpd.GeoDataFrame:
    """Frames of several sources as one, or an empty frame of the schema."""
    if not frames:
        return _empty(columns)
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry",
                            crs="EPSG:4326")


def _apply_aliases(frame: pd.DataFrame, contract: Sequence[str]) -> pd.DataFrame:
    """Contract names for common aliases, other cases and 10-character
    Shapefile truncations.  Explicit ``--map`` has already been applied."""
    cols = list(frame.columns)
    lower = {str(c).lower(): c for c in cols}
    rename = {}
    for name in contract:
        if name in cols:
            continue
        if name in lower:
            rename[lower[name]] = name
            continue
        if len(name) > 10 and name[:10] in lower:
            rename[lower[name[:10]]] = name
            continue
        for alias in _ALIASES.get(name, ()):
            if alias in lower and lower[alias] not in rename:
                rename[lower[alias]] = name
                break
    return frame.rename(columns=rename)


def _check_sources(sources: Sequence[PathLike]) -> list[Path]:
    if not sources:
        raise UsageError("no source files given")
    paths = [Path(s) for s in sources]
    for p in paths:
        if not p.exists():
            raise UsageError(f"{p}: no such file")
        if p.is_dir():
            raise UsageError(f"{p}: is a folder, not a file")
    return paths


def _read_each(sources, read, problems: list[Problem]):
    """``(path, read(path))`` for each source; a refused file adds its problems."""
    if isinstance(sources, str | os.PathLike):
        sources = [sources]
    for path in _check_sources(sources):
        try:
            result = read(path)
        except DataError as exc:
            problems += exc.problems or [Problem(path.name, None, str(exc).split(": ", 1)[-1])]
            continue
        yield path, result


def _is_traverse(path: Path) -> bool:
    if path.suffix.lower() in (".yaml", ".yml"):
        return True
    if path.suffix.lower() != ".csv":
        return False
    from minemap.readers import traverse

    return traverse.is_traverse_file(path)


# -- minefield records ------------------------------------------------------------


def _vertex_rows_to_polygons(sf: SourceFrame) -> tuple[SourceFrame, list[Problem]]:
    """A lon/lat CSV of records: one row per vertex, grouped by ``record_id``.

    The rows of a record, in file order (or by a ``vertex`` column), are its
    perimeter; its fields come from its first row, and a later row that
    repeats a field with another value is an error.
    """
    frame = _apply_aliases(sf.frame, ["record_id"])
    if "record_id" not in frame or not len(frame):
        return sf, []
    problems: list[Problem] = []
    ids = v.text(frame, "record_id")
    order = pd.to_numeric(frame["vertex"], errors="coerce") if "vertex" in frame else None
    attrs = [c for c in frame.columns if c not in ("geometry", "_feature", "_raw", "vertex")]
    groups: dict[str, list[int]] = {}
    for i, rid in enumerate(ids):
        groups.setdefault(rid, []).append(i)
    rows, geoms = [], []
    for rid, idx in groups.items():
        if order is not None:
            idx = sorted(idx, key=lambda i: (order.iat[i], i))
        first = frame.iloc[idx[0]]
        for i in idx[1:]:
            for c in attrs:
                a, b = str(first[c]).strip(), str(frame.iloc[i][c]).strip()
                if b and b not in ("nan", "None") and b != a:
                    problems.append(Problem(sf.name, rid or f"feature {i + 1}",
                                            f"{c} {b!r} on line {i + 2} differs from {a!r}"
                                            f" on line {idx[0] + 2}"))
        xy = shapely.get_coordinates(np.asarray(frame.geometry.values, dtype=object)[idx])
        geoms.append(shapely.Polygon(xy) if len(xy) >= 3 else shapely.Polygon())
        row = first[attrs].to_dict()
        row["_feature"] = int(first["_feature"])
        row["_raw"] = "[" + ", ".join(frame["_raw"].iloc[i] for i in idx) + "]"
        rows.append(row)
    out = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geoms, crs="EPSG:4326")
    return SourceFrame(out, sf.name, sf.path, sf.source_crs, sf.transformation), problems


def _records_from_frame(
    sf: SourceFrame, *, handover: str | None, repair: str | None, aoi
) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    frame = _apply_aliases(sf.frame, list(schema.MINEFIELD_COLUMNS))
    name = sf.name
    names = v.labels(frame, "record_id")
    problems: list[Problem] = []
    ids = v.text(frame, "record_id")
    for i, rid in enumerate(ids):
        if not rid:
            problems.append(Problem(name, names[i], "record_id is missing"))
    problems += v.id_problems(ids, frame.get("record_id"), name, "record_id")
    problems += v.duplicates([i for i in ids if i], name)
    own = v.text(frame, "handover")
    if handover is None:
        handovers = own
    else:
        handovers = [handover] * len(frame)
        for i, h in enumerate(own):
            if h and h != handover:
                problems.append(
                    Problem(name, names[i], f"handover {h!r} does not match --handover {handover}")
                )
    ap, p1 = v.counts(frame, "mines_ap", name, names)
    at, p2 = v.counts(frame, "mines_at", name, names)
    problems += p1 + p2
    # A record with no count at all is refused: stored as 0 it would report
    # nothing remaining on ground that is still hazardous.
    given = np.zeros(len(frame), dtype=bool)
    for col in ("mines_ap", "mines_at", "mines_total"):
        given |= np.array([t != "" for t in v.text(frame, col)], dtype=bool)
    for i in np.flatnonzero(~given):
        problems.append(Problem(name, names[i], "no mine count: give mines_ap, mines_at or"
                                " mines_total (0 if the record says none)"))
    if "mines_total" in frame:
        total, p3 = v.counts(frame, "mines_total", name, names, default=-1)
        problems += p3
        blank = total < 0
        total[blank] = (ap + at)[blank]
        for i in np.flatnonzero(~blank & (total < ap + at)):
            problems.append(
                Problem(name, names[i], f"mines_total {total[i]} is less than mines_ap + mines_at"
                        f" ({ap[i]} + {at[i]})")
            )
    else:
        total = ap + at
    laid, p4 = v.dates(frame, "laid_date", name, names)
    district, p5 = v.districts(frame, name, names)
    problems += p4 + p5
    geoms, p6, flags = v.check_geometries(
        frame, name, names, polygonal=True, aoi=aoi, repair=repair
    )
    problems += p6
    mine_types = [
        ";".join(str(x).strip() for x in t) if isinstance(t, list | tuple | np.ndarray) else t
        for t in (frame["mine_types"].tolist() if "mine_types" in frame else [""] * len(frame))
    ]
    out = gpd.GeoDataFrame(
        {
            "record_id": ids,
            "handover": handovers,
            "district": district,
            "mines_ap": ap,
            "mines_at": at,
            "mines_total": total,
            "mine_types": [
                "" if t is None or (isinstance(t, float) and np.isnan(t))
                else ";".join(s.strip() for s in str(t).replace(",", ";").split(";") if s.strip())
                for t in mine_types
            ],
            "laid_date": laid,
            "reliability": v.text(frame, "reliability"),
            "area_ha": v.hectares(geoms),
            "flags": [";".join(f) for f in flags],
            "source_file": name,
            "source_crs": sf.source_crs,
            "transformation": sf.transformation,
            "raw": frame["_raw"].tolist(),
            "misclosure_m": np.nan,
            "misclosure_ratio": np.nan,
            "declination_deg": np.nan,
        },
        geometry=geoms,
        crs="EPSG:4326",
    )
    return out, problems


def read_records(
    sources: Sequence[PathLike] | PathLike,
    *,
    handover: str | None,
    handover_date: str | None = None,
    layer: str | None = None,
    crs: str | None = None,
    column_map: dict[str, str] | None = None,
    repair: str | None = None,
    accept_misclosure: bool = False,
    aoi: tuple[float, float, float, float] | None = None,
) -> RecordSet:
    """Read and validate minefield records from GIS and traverse files.

    Parameters
    ----------
    sources
        GeoJSON, GeoPackage, Shapefile (.shp/.zip), KML/KMZ, CSV, or traverse
        YAML/CSV files; all together form one record set.
    handover
        The handover the records belong to.  A record's own ``handover``
        field must match it.
    handover_date
        ISO date; the fallback date for a magnetic declination model.
    layer, crs, column_map
        Passed to :func:`minemap.readers.gis.read_features`.
    repair
        ``"hull"`` imports the convex hull of a self-intersecting perimeter
        instead of its ``make_valid`` repair.
    accept_misclosure
        Accept traverse records whose misclosure exceeds the tolerance.
    aoi
        Area of interest; ``settings.aoi`` by default.

    Returns
    -------
    RecordSet
        Never raises for bad data: problems are listed in ``.problems``.
    """
    if isinstance(sources, str | os.PathLike):
        sources = [sources]
    if repair not in (None, "hull"):
        raise UsageError(f"--repair {repair}: the only repair offered is 'hull'")
    paths = _check_sources(sources)
    fields, verts, rows, problems, provenance = [], [], [], [], []
    for path in paths:
        sha = sha256_file(path)
        try:
            if _is_traverse(path):
                from minemap.readers import traverse

                res = traverse.read_traverse(
                    path, handover=handover, handover_date=handover_date,
                    accept_misclosure=accept_misclosure, aoi=aoi, repair=repair,
                )
                fields.append(res.records)
                verts.append(res.vertices)
                rows.append(res.rows)
                problems += res.problems
                crs_used = sorted(set(res.records["source_crs"])) if len(res.records) else []
                ops = sorted(set(res.records["transformation"])) if len(res.records) else []
                provenance.append(Source(path, path.name, sha, ";".join(crs_used),
                                         " | ".join(ops)))
                continue
            sf = read_features(path, layer=layer, crs=crs, column_map=column_map, aoi=aoi)
        except DataError as exc:
            problems += exc.problems or [Problem(path.name, None, str(exc).split(": ", 1)[-1])]
            continue
        if not len(sf.frame):
            problems.append(Problem(sf.name, None, "holds no records"))
            continue
        if path.suffix.lower() == ".csv" and len(sf.frame) and (
            shapely.get_type_id(np.asarray(sf.frame.geometry.values, dtype=object)) == 0
        ).all():
            sf, probs = _vertex_rows_to_polygons(sf)
            problems += probs
        recs, probs = _records_from_frame(sf, handover=handover, repair=repair, aoi=aoi)
        fields.append(recs)
        problems += probs
        provenance.append(Source(path, sf.name, sha, sf.source_crs, sf.transformation))
    minefields = _concat(fields, schema.MINEFIELD_COLUMNS)
    traverse_files = {s.name for s in provenance if _is_traverse(s.path)}
    if traverse_files and len(minefields):
        # The traverse reader checks the reference point; the polygon it
        # walks must lie in the area of interest too, and pass geocheck.
        sel = minefields["source_file"].isin(traverse_files).to_numpy()
        sub = minefields[sel]
        geoms = np.asarray(sub.geometry.values, dtype=object)
        for rid, src, out in zip(sub.record_id, sub.source_file, v.outside_aoi(geoms, aoi)):
            if out:
                problems.append(Problem(src, rid, "the surveyed polygon reaches outside the"
                                        " area of interest; check the legs and the reference"
                                        " point"))
        for src in sorted(set(sub.source_file)):
            part = sub[sub.source_file == src]
            problems += v.vertex_gap_warnings(np.asarray(part.geometry.values, dtype=object),
                                              src, list(part.record_id))
    if len(minefields) > 1 and not any(p.severity == "error" for p in problems):
        # geocheck overlaps across every file of the handover, not file by file.
        source_of = dict(zip(minefields["record_id"], minefields["source_file"]))
        for found in v.overlap_warnings(minefields, "", list(minefields.record_id)):
            problems.append(Problem(source_of[found.record], found.record, found.message,
                                    "warning"))
    if len(paths) > 1 and len(minefields):
        seen: dict[str, str] = {}
        for rid, src in zip(minefields["record_id"], minefields["source_file"]):
            if rid in seen and seen[rid] != src:
                problems.append(Problem(src, rid, f"duplicate record id (also in {seen[rid]})"))
            seen.setdefault(rid, src)
    vertices = _concat(verts, schema.VERTEX_COLUMNS)
    mine_rows = _concat(rows, schema.MINE_ROW_COLUMNS)
    return RecordSet(minefields, vertices, mine_rows, problems, provenance)


# -- clearance, incidents, districts ---------------------------------------------------


def _optional_counts(frame, column, name, names) -> tuple[np.ndarray, list[Problem]]:
    if column not in frame:
        return np.full(len(frame), np.nan), []
    blank = np.array([x is None or (isinstance(x, float) and np.isnan(x))
                      or (isinstance(x, str) and not x.strip()) for x in frame[column]])
    vals, probs = v.counts(frame, column, name, names, default=0)
    out = vals.astype(float)
    out[blank] = np.nan
    return out, probs


def _releases_from_frame(frame, name, aoi) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    frame = _apply_aliases(frame, list(schema.RELEASE_COLUMNS) + ["date"])
    names = v.labels(frame, "report_id")
    geoms, problems, _ = v.check_geometries(frame, name, names, polygonal=True, aoi=aoi)
    ids = v.text(frame, "report_id")
    problems += v.id_problems(ids, frame.get("report_id"), name, "report_id")
    derived = v.derive_ids(frame, name, "REL")
    ids = [i or d for i, d in zip(ids, derived)]
    problems += v.duplicates(ids, name, "report_id")
    start, p1 = v.dates(frame, "date_start", name, names)
    end, p2 = v.dates(frame, "date_end", name, names)
    single, p3 = v.dates(frame, "date", name, names)
    problems += p1 + p2 + p3
    start = [s or d for s, d in zip(start, single)]
    end = [e or d or s for e, d, s in zip(end, single, start)]
    for i, (s, e) in enumerate(zip(start, end)):
        if not e:
            problems.append(Problem(name, names[i], "no date (date or date_start/date_end)"))
        elif s and s > e:
            problems.append(Problem(name, names[i], f"date_start {s} is after date_end {e}"))
    outcome = [o.lower() or "cleared" for o in v.text(frame, "outcome")]
    for i, o in enumerate(outcome):
        if o not in schema.OUTCOMES:
            problems.append(Problem(name, names[i], f"outcome {o!r} is not one of "
                                    + ", ".join(schema.OUTCOMES)))
    district, p4 = v.districts(frame, name, names)
    problems += p4
    found = {}
    for col in ("found_ap", "found_at", "found_uxo"):
        found[col], p = _optional_counts(frame, col, name, names)
        problems += p
    out = gpd.GeoDataFrame(
        {
            "report_id": ids, "date_start": start, "date_end": end,
            "operator": v.text(frame, "operator"), "method": v.text(frame, "method"),
            "outcome": outcome, "district": district, **found,
            "area_ha": v.hectares(geoms), "source_file": name,
        },
        geometry=geoms, crs="EPSG:4326",
    )
    return out, problems


def _items_from_frame(frame, name, aoi) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    frame = _apply_aliases(frame, list(schema.ITEM_COLUMNS))
    names = v.labels(frame, "item_id")
    geoms, problems, _ = v.check_geometries(frame, name, names, polygonal=False, aoi=aoi)
    ids = v.text(frame, "item_id")
    problems += v.id_problems(ids, frame.get("item_id"), name, "item_id")
    ids = [i or d for i, d in zip(ids, v.derive_ids(frame, name, "ITM"))]
    problems += v.duplicates(ids, name, "item_id")
    types = [t.upper() for t in v.text(frame, "item_type")]
    for i, t in enumerate(types):
        if t not in schema.ITEM_TYPES:
            problems.append(Problem(name, names[i], f"item_type {t!r} is not one of AP, AT, UXO"))
    date, p1 = v.dates(frame, "date", name, names, required=True)
    district, p2 = v.districts(frame, name, names)
    out = gpd.GeoDataFrame(
        {
            "item_id": ids, "item_type": types, "date": date, "model": v.text(frame, "model"),
            "report_id": v.text(frame, "report_id"), "district": district, "source_file": name,
        },
        geometry=geoms, crs="EPSG:4326",
    )
    return out, problems + p1 + p2


def read_clearance(
    sources: Sequence[PathLike] | PathLike,
    *,
    layer: str | None = None,
    crs: str | None = None,
    column_map: dict[str, str] | None = None,
    aoi: tuple[float, float, float, float] | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, list[Problem], list[Source]]:
    """Read land-release polygons and item points.

    Polygons become releases and points become items, whichever file they
    come from.

    Returns
    -------
    releases, items, problems, sources
    """
    rels, items, problems, provenance = [], [], [], []

    def read(path):
        return read_features(path, layer=layer, crs=crs, column_map=column_map,
                             id_columns=("report_id", "item_id"), aoi=aoi)

    for path, sf in _read_each(sources, read, problems):
        provenance.append(Source(path, sf.name, sha256_file(path), sf.source_crs,
                                 sf.transformation))
        frame = sf.frame
        if not len(frame):
            problems.append(Problem(sf.name, None, "holds no features"))
            continue
        types = shapely.get_type_id(np.asarray(frame.geometry.values, dtype=object))
        points = types == 0
        polys = ~points
        if polys.any():
            # A polygon that carries item attributes is an item drawn wrongly,
            # not a release: refused rather than imported as cleared land.
            for col in ("item_type", "item_id"):
                for i in np.flatnonzero(polys & np.array(
                        [t != "" for t in v.text(frame, col)], dtype=bool)):
                    problems.append(Problem(
                        sf.name, v.labels(frame, "item_id")[i],
                        f"has {col} (an item) but a {frame.geometry.iloc[i].geom_type}"
                        " geometry; items are points, releases polygons"))
            r, p = _releases_from_frame(frame[polys].reset_index(drop=True), sf.name, aoi)
            rels.append(r)
            problems += p
        if points.any():
            i, p = _items_from_frame(frame[points].reset_index(drop=True), sf.name, aoi)
            items.append(i)
            problems += p
    releases = _concat(rels, schema.RELEASE_COLUMNS)
    item_frame = _concat(items, schema.ITEM_COLUMNS)
    for what, frame, key in (("report_id", releases, "report_id"), ("item_id", item_frame,
                                                                      "item_id")):
        dup = frame[key][frame[key].duplicated()]
        for k in dup.unique():
            srcs = sorted(set(frame.loc[frame[key] == k, "source_file"]))
            if len(srcs) > 1:
                problems.append(Problem(srcs[1], k, f"duplicate {what} (also in {srcs[0]})"))
    return releases, item_frame, problems, provenance


def read_incidents(
    sources: Sequence[PathLike] | PathLike, *, layer=None, crs=None, column_map=None, aoi=None
) -> tuple[gpd.GeoDataFrame, list[Problem], list[Source]]:
    """Read mine incident points (``date``, ``killed``, ``injured``, ``civilian``)."""
    frames, problems, provenance = [], [], []

    def read(path):
        return read_features(path, layer=layer, crs=crs, column_map=column_map,
                             id_columns=("incident_id",), aoi=aoi)

    for path, sf in _read_each(sources, read, problems):
        provenance.append(Source(path, sf.name, sha256_file(path), sf.source_crs,
                                 sf.transformation))
        frame = _apply_aliases(sf.frame, list(schema.INCIDENT_COLUMNS))
        name = sf.name
        if "killed" not in frame and "injured" not in frame:
            # Found items or releases given by mistake would otherwise pass
            # as incidents with no casualties.
            problems.append(Problem(name, None, "not an incidents file: it has neither a"
                                    " 'killed' nor an 'injured' column"))
            continue
        names = v.labels(frame, "incident_id")
        geoms, probs, _ = v.check_geometries(frame, name, names, polygonal=False, aoi=aoi)
        ids = v.text(frame, "incident_id")
        probs += v.id_problems(ids, frame.get("incident_id"), name, "incident_id")
        ids = [i or d for i, d in zip(ids, v.derive_ids(frame, name, "INC"))]
        probs += v.duplicates(ids, name, "incident_id")
        date, p1 = v.dates(frame, "date", name, names, required=True)
        killed, p2 = v.counts(frame, "killed", name, names)
        injured, p3 = v.counts(frame, "injured", name, names)
        civ = []
        for i, c in enumerate(v.text(frame, "civilian")):
            c = c.lower()
            if c in ("", "false", "no", "0", "n"):
                civ.append(False)
            elif c in ("true", "yes", "1", "y"):
                civ.append(True)
            else:
                probs.append(Problem(name, names[i], f"civilian {c!r} is not yes/no"))
                civ.append(False)
        district, p4 = v.districts(frame, name, names)
        problems += probs + p1 + p2 + p3 + p4
        frames.append(gpd.GeoDataFrame(
            {"incident_id": ids, "date": date, "killed": killed, "injured": injured,
             "civilian": civ, "district": district, "source_file": name},
            geometry=geoms, crs="EPSG:4326",
        ))
    out = _concat(frames, schema.INCIDENT_COLUMNS)
    return out, problems, provenance


def read_districts(
    source: PathLike, *, name_field: str | None = None, layer=None, crs=None
) -> tuple[gpd.GeoDataFrame, list[Problem], Source]:
    """Read district boundaries; names are normalised (DESIGN §3)."""
    (path,) = _check_sources([source])
    sf = read_features(path, layer=layer, crs=crs, id_columns=(name_field or "district",))
    frame = sf.frame
    if name_field is None:
        lower = {str(c).lower(): c for c in frame.columns}
        for cand in ("district", "name", "adm2_en", "name_en", "shapename"):
            if cand in lower:
                name_field = lower[cand]
                break
    if name_field is None or name_field not in frame:
        raise UsageError(f"{sf.name}: no name field; give one with --name-field "
                         f"(columns: {', '.join(map(str, frame.columns.drop(['geometry'])))})")
    names = v.labels(frame, name_field)
    geoms, problems, _ = v.check_geometries(
        frame, sf.name, names, polygonal=True, aoi=(-180, -90, 180, 90), geocheck=False
    )
    out_names = []
    for i, raw in enumerate(v.text(frame, name_field)):
        canon = normalise(raw)
        if not raw:
            problems.append(Problem(sf.name, names[i], "district name is missing"))
        elif canon is None:
            problems.append(Problem(sf.name, names[i], f"district {raw!r} is not a known name;"
                                    " kept as given", "warning"))
        out_names.append(canon or raw)
    problems += v.duplicates(out_names, sf.name, "district")
    out = gpd.GeoDataFrame({"district": out_names, "source_file": sf.name}, geometry=geoms,
                           crs="EPSG:4326")
    return out, problems, Source(path, sf.name, sha256_file(path), sf.source_crs,
                                 sf.transformation)


def _assign_districts(frame: gpd.GeoDataFrame, districts: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Set ``district`` from boundaries where a feature falls in one."""
    if not len(frame) or not len(districts):
        return frame
    pts = shapely.point_on_surface(np.asarray(frame.geometry.values, dtype=object))
    tree = shapely.STRtree(np.asarray(districts.geometry.values, dtype=object))
    a, b = tree.query(pts, predicate="within")
    frame = frame.copy()
    col = frame["district"].to_numpy(dtype=object).copy()
    names = districts["district"].to_numpy(dtype=object)
    col[a] = names[b]
    frame["district"] = col
    return frame


# -- writing -------------------------------------------------------------------------------


def _open(store: Store | PathLike | None) -> Store:
    return open_store(store)


def _plan(kind: str, frames: dict, provenance: list[Source], options: dict | None = None,
          **kw) -> ImportPlan:
    """An import plan with the provenance of its source files."""
    return ImportPlan(
        kind=kind, frames=frames,
        sources=[s.name for s in provenance], sha256=[s.sha256 for s in provenance],
        options=options or {},
        source_crs=[s.source_crs for s in provenance],
        transformation=[s.transformation for s in provenance],
        **kw,
    )


def _apply(store: Store, plan: ImportPlan) -> ImportResult:
    from minemap.crossref.refresh import refresh_crossref

    return store.apply(plan, refresh=refresh_crossref)


def import_records(
    sources: Sequence[PathLike] | PathLike,
    *,
    handover: str,
    store: Store | PathLike | None = None,
    handover_date: str | None = None,
    layer: str | None = None,
    crs: str | None = None,
    column_map: dict[str, str] | None = None,
    add: bool = False,
    allow_removals: bool = False,
    accept_misclosure: bool = False,
    repair: str | None = None,
    aoi: tuple[float, float, float, float] | None = None,
) -> tuple[ImportResult, RecordSet]:
    """Import minefield records as a new revision of a handover.

    By default the records replace the handover's record set; records not
    present are removed, which is refused unless ``allow_removals``.
    ``add=True`` adds and changes but never removes.

    Returns
    -------
    (ImportResult, RecordSet)

    Raises
    ------
    DataError
        If any record is refused; nothing is written.
    """
    if not handover or not handover.strip():
        raise UsageError("--handover is required and must not be blank")
    if handover_date:
        try:
            v.parse_date(handover_date)
        except ValueError as exc:
            raise UsageError(f"--handover-date: {exc}") from None
    st = _open(store)
    if not handover_date and st.exists():
        # A later revision of a handover keeps the date given with an earlier one.
        known = st.handovers()
        match = known.loc[known["handover"] == handover, "handover_date"]
        if len(match) and match.iloc[0]:
            handover_date = str(match.iloc[0])
    rs = read_records(
        sources, handover=handover, handover_date=handover_date, layer=layer, crs=crs,
        column_map=column_map, repair=repair, accept_misclosure=accept_misclosure, aoi=aoi,
    )
    raise_for_problems(rs.problems)
    rs.problems += _new_handover_warnings(st, handover, handover_date, rs.minefields)
    plan = _plan(
        "records",
        {"minefields": rs.minefields, "vertices": rs.vertices, "mine_rows": rs.rows},
        rs.sources,
        {
            "add": add, "crs": crs, "layer": layer, "map": column_map or {},
            "repair": repair, "accept_misclosure": accept_misclosure,
            "aoi": list(aoi or settings.aoi), "handover_date": handover_date or "",
        },
        handover=handover,
        handover_date=handover_date or "",
        replace=not add,
        allow_removals=allow_removals,
    )
    return _apply(st, plan), rs


def import_record_frames(
    frames: dict[str, gpd.GeoDataFrame],
    *,
    handover: str,
    store: Store | PathLike | None = None,
    options: dict,
    handover_date: str = "",
) -> ImportResult:
    """A new revision of a handover from record frames minemap itself derived.

    For records that come from the store rather than from files, such as a
    handover moved by ``offsets --apply``: the frames replace the handover's
    record set (removals refused), ``options`` is the revision's provenance,
    and the revision has no source files.
    """
    plan = _plan("records", frames, [], options, handover=handover,
                 handover_date=handover_date, replace=True, allow_removals=False)
    return _apply(_open(store), plan)


def _new_handover_warnings(st: Store, handover: str, handover_date: str | None,
                           fields: gpd.GeoDataFrame) -> list[Problem]:
    """Warnings for a handover the store has not seen: a typo in --handover?"""
    if not st.exists() or st.latest_revision() == 0:
        return []
    known = st.handovers()
    if handover in set(known["handover"]):
        return []
    out = []
    src = ", ".join(sorted(set(fields["source_file"]))) if len(fields) else "import"
    if not handover_date:
        out.append(Problem(src, None, f"new handover {handover!r} has no --handover-date",
                           "warning"))
    others = st.read("minefields")
    if len(others) and len(fields):
        same = others[others["record_id"].isin(set(fields["record_id"]))]
        for other, group in same.groupby("handover"):
            out.append(Problem(
                src, None, f"new handover {handover!r}: {len(group)} of its record ids are"
                f" already in handover {other!r} (a typo in --handover?)", "warning"))
    return out


def _store_districts(st: Store) -> gpd.GeoDataFrame:
    return st.read("districts") if st.exists() and st.latest_revision() else _empty(
        schema.DISTRICT_COLUMNS)


def import_clearance(
    sources: Sequence[PathLike] | PathLike,
    *,
    store: Store | PathLike | None = None,
    layer: str | None = None,
    crs: str | None = None,
    column_map: dict[str, str] | None = None,
    aoi: tuple[float, float, float, float] | None = None,
) -> tuple[ImportResult, list[Problem]]:
    """Import land-release polygons and item points (keyed by id; upserts)."""
    releases, items, problems, provenance = read_clearance(
        sources, layer=layer, crs=crs, column_map=column_map, aoi=aoi
    )
    raise_for_problems(problems)
    st = _open(store)
    dist = _store_districts(st)
    releases = _assign_districts(releases, dist)
    items = _assign_districts(items, dist)
    plan = _plan("clearance", {"releases": releases, "items": items}, provenance,
                 {"crs": crs, "layer": layer, "map": column_map or {}})
    return _apply(st, plan), problems


def import_incidents(
    sources: Sequence[PathLike] | PathLike, *, store: Store | PathLike | None = None,
    layer=None, crs=None, column_map=None, aoi=None,
) -> tuple[ImportResult, list[Problem]]:
    """Import mine incident points (keyed by ``incident_id``; upserts)."""
    frame, problems, provenance = read_incidents(
        sources, layer=layer, crs=crs, column_map=column_map, aoi=aoi
    )
    raise_for_problems(problems)
    st = _open(store)
    frame = _assign_districts(frame, _store_districts(st))
    plan = _plan("incidents", {"incidents": frame}, provenance,
                 {"crs": crs, "layer": layer, "map": column_map or {}})
    return _apply(st, plan), problems


def import_districts(
    source: PathLike, *, store: Store | PathLike | None = None, name_field: str | None = None,
    layer=None, crs=None,
) -> tuple[ImportResult, list[Problem]]:
    """Import district boundaries; they replace the previous set."""
    frame, problems, src = read_districts(source, name_field=name_field, layer=layer, crs=crs)
    raise_for_problems(problems)
    plan = _plan("districts", {"districts": frame}, [src],
                 {"name_field": name_field, "crs": crs, "layer": layer},
                 replace=True, allow_removals=True)
    return _apply(_open(store), plan), problems


def read_report_files(
    sources: Sequence[PathLike] | PathLike, *, notes: list[str] | None = None,
) -> tuple[pd.DataFrame, list[Problem], list[Source]]:
    """Read weekly report texts (or CSV) into period records.

    ``notes``, when given, receives how each text was read (for ``-v``):
    which sentence gave which figure, and what was ignored.
    """
    from minemap.readers.reports import read_report_file

    frames, problems, provenance = [], [], []
    for path, (frame, probs, how) in _read_each(sources, read_report_file, problems):
        problems += probs
        if notes is not None:
            notes += [f"{path.name}: {n}" for n in how]
        frames.append(frame)
        provenance.append(Source(path, path.name, sha256_file(path), "", ""))
    frame = (
        pd.concat(frames, ignore_index=True) if frames
        else pd.DataFrame(columns=list(schema.REPORT_COLUMNS))
    )
    dup = frame.duplicated(["date_start", "date_end"], keep=False)
    if dup.any():
        first = frame[dup].iloc[0]
        srcs = sorted(set(frame.loc[dup, "source_file"]))
        problems.append(Problem(", ".join(srcs), f"{first.date_start}..{first.date_end}",
                                "two reports for the same period"))
    return frame, problems, provenance


def import_report(
    sources: Sequence[PathLike] | PathLike, *, store: Store | PathLike | None = None,
    notes: list[str] | None = None,
) -> tuple[ImportResult, list[Problem]]:
    """Import weekly report texts or CSV (keyed by period; upserts).

    A figure a report does not state is stored as null, never 0.  ``notes``
    as in :func:`read_report_files`; it is filled even when the import is refused.
    """
    frame, problems, provenance = read_report_files(sources, notes=notes)
    raise_for_problems(problems)
    plan = _plan("reports", {"reports": frame}, provenance)
    return _apply(_open(store), plan), problems


def validate(
    sources: Sequence[PathLike] | PathLike,
    *,
    kind: str = "records",
    handover: str | None = None,
    **options,
) -> list[Problem]:
    """Every problem an import of ``sources`` would find, without writing.

    Parameters
    ----------
    kind
        ``records``, ``clearance``, ``incidents`` or ``reports``; or
        ``auto`` to guess from the geometry types.
    """
    if kind == "records":
        return read_records(sources, handover=handover, **options).problems
    if kind == "clearance":
        return read_clearance(sources, **options)[2]
    if kind == "incidents":
        return read_incidents(sources, **options)[1]
    if kind == "reports":
        return read_report_files(sources)[1]
    raise UsageError(f"unknown kind {kind!r}: records, clearance, incidents or reports")
