"""Reading and validating every kind of source, without writing (DESIGN §4, §11).

Readers give frames in WGS84 with provenance; the functions here turn them
into validated rows of the store's schema and every problem found.
:func:`validate` is what an import would find.  :mod:`minemap.imports`
writes them as one new revision.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from minemap._errors import DataError, Problem, UsageError
from minemap.readers.gis import SourceFrame, read_source, ring_vertices
from minemap.readers.result import ReadResult, Source
from minemap.readers.spreadsheet_csv import vertex_rows_to_polygons
from minemap.records import rules, schema
from minemap.records import validate as v
from minemap.records.vocabulary import Vocabulary, load_vocabulary
from minemap.store import sha256_file

PathLike = str | os.PathLike

#: Before this session's readers returned one type, read_records returned a
#: ``RecordSet``; it is the same :class:`ReadResult`.
RecordSet = ReadResult


def empty_frame(columns: dict[str, str], geom: bool = True) -> gpd.GeoDataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    return gpd.GeoDataFrame(frame, geometry=[], crs="EPSG:4326") if geom else frame


def _concat(frames: list[gpd.GeoDataFrame], columns: dict[str, str]) -> gpd.GeoDataFrame:
    """Frames of several sources as one, or an empty frame of the schema."""
    frames = [f for f in frames if f is not None]
    if not frames:
        return empty_frame(columns)
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry",
                            crs="EPSG:4326")


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


def _as_list(sources) -> list:
    return [sources] if isinstance(sources, str | os.PathLike) else list(sources)


def _problem_of(path: Path, exc: DataError) -> list[Problem]:
    return exc.problems or [Problem(path.name, None, str(exc).split(": ", 1)[-1])]


def _read_gis(sources, problems: list[Problem], **options):
    """``(path, SourceFrame)`` for each layer of each source; a refused file adds
    its problems instead."""
    for path in _check_sources(_as_list(sources)):
        try:
            frames = read_source(path, **options)
        except DataError as exc:
            problems += _problem_of(path, exc)
            continue
        for sf in frames:
            problems += sf.problems
            yield path, sf


def _provenance(path: Path, sf: SourceFrame, columns: dict[str, str] | None = None) -> Source:
    return Source(path, path.name, sf.sha256, sf.source_crs, sf.transformation,
                  {**(columns or {}), **sf.columns}, list(sf.notes))


def _aliased(sf: SourceFrame, contract) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
    frame, renamed = rules.apply_aliases(sf.frame, list(contract))
    return frame, renamed


def read_each(sources, read, problems: list[Problem]):
    """``(path, read(path))`` for each source; a refused file adds its problems."""
    for path in _check_sources(_as_list(sources)):
        try:
            result = read(path)
        except DataError as exc:
            problems += _problem_of(path, exc)
            continue
        yield path, result


def layers_option(layer) -> str | list[str] | None:
    return list(layer) if layer is not None and not isinstance(layer, str) else layer


def _is_traverse(path: Path) -> bool:
    if path.suffix.lower() in (".yaml", ".yml"):
        return True
    if path.suffix.lower() != ".csv":
        return False
    from minemap.readers import traverse

    return traverse.is_traverse_file(path)


# -- minefield records ------------------------------------------------------------


def _vertex_rows_to_polygons(sf: SourceFrame) -> tuple[SourceFrame, list[Problem]]:
    frame, problems, renamed = vertex_rows_to_polygons(sf.frame, sf.name)
    if frame is sf.frame:
        return sf, problems
    return SourceFrame(frame, sf.name, sf.path, sf.source_crs, sf.transformation, [],
                       sf.sha256, {**renamed, **sf.columns}, sf.notes), problems


def _gis_records(path, sf, handover, repair, aoi, vocab, problems):
    """Minefield rows, source-order vertices and provenance of one GIS layer."""
    if path.suffix.lower() == ".csv" and (
        shapely.get_type_id(np.asarray(sf.frame.geometry.values, dtype=object)) == 0
    ).all():
        sf, probs = _vertex_rows_to_polygons(sf)
        problems += probs
    frame, renamed = _aliased(sf, schema.MINEFIELD_COLUMNS)
    recs, probs = rules.records(frame, sf.name, handover=handover, repair=repair, aoi=aoi,
                                provenance={"source_crs": sf.source_crs,
                                            "transformation": sf.transformation},
                                vocabulary=vocab)
    problems += probs
    verts = ring_vertices(recs["record_id"].tolist(), recs["handover"].tolist(),
                          np.asarray(frame.geometry.values, dtype=object),
                          np.asarray(frame["_src_geom"].values, dtype=object))
    return recs, verts, _provenance(path, sf, rules.announced(frame, renamed, "records"))


def _read_traverse_file(path: Path, **kw) -> ReadResult:
    from minemap.readers import traverse

    return traverse.read_traverse(path, **kw)


def read_records(
    sources: Sequence[PathLike] | PathLike,
    *,
    handover: str | None,
    handover_date: str | None = None,
    layer: str | Sequence[str] | None = None,
    crs: str | None = None,
    column_map: dict[str, str] | None = None,
    repair: str | None = None,
    accept_misclosure: bool = False,
    aoi: tuple[float, float, float, float] | None = None,
    vocabulary: str | Vocabulary | None = None,
) -> ReadResult:
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
        Passed to :func:`minemap.readers.gis.read_source` (``layer`` may
        name several layers; ``crs`` may be ``"SK-42"``).
    repair
        ``"hull"`` imports the convex hull of a self-intersecting perimeter
        instead of its ``make_valid`` repair.
    accept_misclosure
        Accept traverse records whose misclosure exceeds the tolerance.
    aoi
        Area of interest; ``settings.aoi`` by default.
    vocabulary
        A preset name (``"imsma"``) or YAML file mapping mine model names.

    Returns
    -------
    ReadResult
        Frames ``minefields``, ``vertices`` (turning points in the source's
        own order) and ``mine_rows``.  Never raises for bad data: problems are
        listed in ``.problems``.
    """
    sources = _as_list(sources)
    if repair not in (None, "hull"):
        raise UsageError(f"--repair {repair}: the only repair offered is 'hull'")
    vocab = load_vocabulary(vocabulary)
    paths = _check_sources(sources)
    fields, verts, rows, problems, provenance = [], [], [], [], []
    for path in paths:
        # In the order given: that is the order of the revision's sources.
        if _is_traverse(path):
            try:
                res = _read_traverse_file(path, handover=handover, handover_date=handover_date,
                                          accept_misclosure=accept_misclosure, aoi=aoi,
                                          repair=repair)
            except DataError as exc:
                problems += _problem_of(path, exc)
                continue
            fields.append(res.minefields)
            verts.append(res.vertices)
            rows.append(res.rows)
            problems += res.problems
            provenance += res.sources
            continue
        for _, sf in _read_gis([path], problems, layer=layer, crs=crs, column_map=column_map,
                               aoi=aoi, polygons_only=True):
            if not len(sf.frame):
                problems.append(Problem(sf.name, None, "holds no records"))
                continue
            f, v_, r = _gis_records(path, sf, handover, repair, aoi, vocab, problems)
            fields.append(f)
            verts.append(v_)
            provenance.append(r)
    minefields = _concat(fields, schema.MINEFIELD_COLUMNS)
    problems += _handover_checks(minefields, problems, provenance, len(paths), aoi)
    vertices = _concat(verts, schema.VERTEX_COLUMNS)
    mine_rows = _concat(rows, schema.MINE_ROW_COLUMNS)
    return ReadResult({"minefields": minefields, "vertices": vertices, "mine_rows": mine_rows},
                      problems, provenance)


def _handover_checks(minefields, problems, provenance, n_paths, aoi) -> list[Problem]:
    """Checks across every file of the import: traverse polygons in the area of
    interest, geocheck overlaps, ids repeated across files."""
    out: list[Problem] = []
    traverse_files = {s.name for s in provenance if _is_traverse(s.path)}
    if traverse_files and len(minefields):
        # The traverse reader checks the reference point; the polygon it
        # walks must lie in the area of interest too, and pass geocheck.
        sel = minefields["source_file"].isin(traverse_files).to_numpy()
        sub = minefields[sel]
        geoms = np.asarray(sub.geometry.values, dtype=object)
        for rid, src, outside in zip(sub.record_id, sub.source_file, v.outside_aoi(geoms, aoi)):
            if outside:
                out.append(Problem(src, rid, "the surveyed polygon reaches outside the"
                                   " area of interest; check the legs and the reference"
                                   " point"))
        for src in sorted(set(sub.source_file)):
            part = sub[sub.source_file == src]
            out += v.vertex_gap_warnings(np.asarray(part.geometry.values, dtype=object),
                                         src, part.record_id.tolist())
    if len(minefields) > 1 and not any(p.severity == "error" for p in problems + out):
        # geocheck overlaps across every file of the handover, not file by file.
        source_of = dict(zip(minefields["record_id"], minefields["source_file"]))
        for found in v.overlap_warnings(minefields, "", minefields.record_id.tolist()):
            out.append(Problem(source_of[found.record], found.record, found.message,
                               "warning"))
    if n_paths > 1 and len(minefields):
        seen: dict[str, str] = {}
        for rid, src in zip(minefields["record_id"], minefields["source_file"]):
            if rid in seen and seen[rid] != src:
                out.append(Problem(src, rid, f"duplicate record id (also in {seen[rid]})"))
            seen.setdefault(rid, src)
    return out


# -- clearance, incidents, districts ---------------------------------------------------


def read_clearance(
    sources: Sequence[PathLike] | PathLike,
    *,
    layer: str | Sequence[str] | None = None,
    crs: str | None = None,
    column_map: dict[str, str] | None = None,
    aoi: tuple[float, float, float, float] | None = None,
    vocabulary: str | Vocabulary | None = None,
    default_outcome: str | None = None,
) -> ReadResult:
    """Read land-release polygons and item points.

    Polygons become releases and points become items, whichever file (or
    GeoPackage layer: every layer is read unless ``layer`` names some) they
    come from.

    Parameters
    ----------
    vocabulary
        A preset name (``"imsma"``) or YAML file mapping the source's
        outcomes, item types and mine models onto minemap's.
    default_outcome
        ``cleared``, ``reduced`` or ``cancelled`` for releases that state no
        outcome; without it such a release is refused.

    Returns
    -------
    ReadResult
        Frames ``releases`` and ``items``.
    """
    if default_outcome is not None and default_outcome not in schema.OUTCOMES:
        raise UsageError(f"--default-outcome {default_outcome}: use one of "
                         + ", ".join(schema.OUTCOMES))
    vocab = load_vocabulary(vocabulary)
    rels, items, problems, provenance = [], [], [], []
    by_path: dict[Path, Source] = {}
    for path, sf in _read_gis(sources, problems, layer=layer, crs=crs, column_map=column_map,
                              id_columns=("report_id", "item_id"), aoi=aoi, every_layer=True):
        frame = sf.frame
        src = by_path.get(path)
        if src is None:
            src = by_path[path] = _provenance(path, sf)
            provenance.append(src)
        else:
            src.notes += sf.notes
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
            part, renamed = rules.apply_aliases(frame[polys].reset_index(drop=True),
                                                list(schema.RELEASE_COLUMNS) + ["date"])
            src.columns.update(rules.announced(part, renamed, "releases"))
            r, p = rules.releases(part, sf.name, aoi, vocabulary=vocab,
                                  default_outcome=default_outcome)
            rels.append(r)
            problems += p
        if points.any():
            part, renamed = rules.apply_aliases(frame[points].reset_index(drop=True),
                                                list(schema.ITEM_COLUMNS))
            src.columns.update(rules.announced(part, renamed, "items"))
            i, p = rules.items(part, sf.name, aoi, vocabulary=vocab)
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
    return ReadResult({"releases": releases, "items": item_frame}, problems, provenance)


def read_incidents(
    sources: Sequence[PathLike] | PathLike, *, layer=None, crs=None, column_map=None, aoi=None
) -> ReadResult:
    """Read mine incident points (``date``, ``killed``, ``injured``, ``civilian``).

    Returns
    -------
    ReadResult
        Frame ``incidents``.
    """
    frames, problems, provenance = [], [], []
    for path, sf in _read_gis(sources, problems, layer=layer, crs=crs, column_map=column_map,
                              id_columns=("incident_id",), aoi=aoi):
        frame, renamed = _aliased(sf, schema.INCIDENT_COLUMNS)
        provenance.append(_provenance(path, sf, rules.announced(frame, renamed, "incidents")))
        out, probs = rules.incidents(frame, sf.name, aoi)
        frames.append(out)
        problems += probs
    return ReadResult({"incidents": _concat(frames, schema.INCIDENT_COLUMNS)}, problems,
                      provenance)


def read_districts(
    source: PathLike, *, name_field: str | None = None, layer=None, crs=None
) -> ReadResult:
    """Read district boundaries; names are normalised (DESIGN §3).

    Returns
    -------
    ReadResult
        Frame ``districts``.
    """
    (path,) = _check_sources([source])
    frames = read_source(path, layer=layer, crs=crs, id_columns=(name_field or "district",))
    if len(frames) != 1:
        raise UsageError(f"{path.name}: district boundaries come from one layer; choose it"
                         " with --layer")
    sf = frames[0]
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
    out, problems = rules.districts(frame, sf.name, name_field)
    src = _provenance(path, sf, {"district": name_field} if name_field != "district" else {})
    return ReadResult({"districts": out}, sf.problems + problems, [src])


def assign_districts(frame: gpd.GeoDataFrame, districts: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
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


def read_report_files(
    sources: Sequence[PathLike] | PathLike, *, notes: list[str] | None = None,
) -> tuple[pd.DataFrame, list[Problem], list[Source]]:
    """Read weekly report texts (or CSV) into period records.

    ``notes``, when given, receives how each text was read (for ``-v``):
    which sentence gave which figure, and what was ignored.
    """
    from minemap.readers.reports import read_report_file

    frames, problems, provenance = [], [], []
    for path, (frame, probs, how) in read_each(sources, read_report_file, problems):
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
        ``records``, ``clearance``, ``incidents`` or ``reports``.
    handover
        Records only: the handover their own ``handover`` field must match.
    **options
        The options of the matching ``read_*`` function.
    """
    if kind == "records":
        return read_records(sources, handover=handover, **options).problems
    if kind == "clearance":
        return read_clearance(sources, **options).problems
    if kind == "incidents":
        return read_incidents(sources, **options).problems
    if kind == "reports":
        return read_report_files(sources)[1]
    raise UsageError(f"unknown kind {kind!r}: records, clearance, incidents or reports")
