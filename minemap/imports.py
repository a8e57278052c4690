"""Importing every kind of source into the store, one revision per import.

The sources are read and validated by :mod:`minemap.reading` (re-exported
here); a source with an error writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd

from minemap import settings
from minemap._errors import Problem, UsageError, raise_for_problems
from minemap._memory import release_freed_memory
from minemap.readers.result import ReadResult, Source
from minemap.reading import (  # noqa: F401 - re-exported
    PathLike,
    RecordSet,
    assign_districts,
    empty_frame,
    layers_option,
    read_clearance,
    read_districts,
    read_each,
    read_incidents,
    read_records,
    read_report_files,
    validate,
)
from minemap.records import schema
from minemap.records import validate as v
from minemap.records.vocabulary import Vocabulary, load_vocabulary
from minemap.store import ImportPlan, ImportResult, Store, open_store

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

    # Reading and validating freed the source frames; their pages would stay
    # resident through the write and the refresh (and in forked workers).
    release_freed_memory()
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
    vocabulary: str | Vocabulary | None = None,
) -> tuple[ImportResult, ReadResult]:
    """Import minefield records as a new revision of a handover.

    By default the records replace the handover's record set; records not
    present are removed, which is refused unless ``allow_removals``.
    ``add=True`` adds and changes but never removes.

    Returns
    -------
    (ImportResult, ReadResult)

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
        vocabulary=vocabulary,
    )
    raise_for_problems(rs.problems)
    rs.problems += _new_handover_warnings(st, handover, handover_date, rs.minefields)
    plan = _plan(
        "records",
        {"minefields": rs.minefields, "vertices": rs.vertices, "mine_rows": rs.rows},
        rs.sources,
        {
            "add": add, "crs": crs, "layer": layers_option(layer), "map": column_map or {},
            "vocabulary": _vocabulary_option(vocabulary),
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
    return st.read("districts") if st.exists() and st.latest_revision() else empty_frame(
        schema.DISTRICT_COLUMNS)


def _vocabulary_option(vocabulary) -> str | None:
    # In the options that make an import distinct: another vocabulary is
    # another reading of the same file.
    vocab = load_vocabulary(vocabulary)
    return None if vocab is None else f"{vocab.name}:{sorted(vocab.maps.items())}"


def import_clearance(
    sources: Sequence[PathLike] | PathLike,
    *,
    store: Store | PathLike | None = None,
    layer: str | Sequence[str] | None = None,
    crs: str | None = None,
    column_map: dict[str, str] | None = None,
    aoi: tuple[float, float, float, float] | None = None,
    vocabulary: str | Vocabulary | None = None,
    default_outcome: str | None = None,
) -> tuple[ImportResult, ReadResult]:
    """Import land-release polygons and item points (keyed by id; upserts).

    Every layer of a GeoPackage (or those ``layer`` names) goes into one
    revision.  See :func:`read_clearance` for ``vocabulary`` and
    ``default_outcome``.
    """
    rs = read_clearance(sources, layer=layer, crs=crs, column_map=column_map, aoi=aoi,
                        vocabulary=vocabulary, default_outcome=default_outcome)
    raise_for_problems(rs.problems)
    st = _open(store)
    dist = _store_districts(st)
    releases = assign_districts(rs.releases, dist)
    items = assign_districts(rs.items, dist)
    plan = _plan("clearance", {"releases": releases, "items": items}, rs.sources,
                 {"crs": crs, "layer": layers_option(layer), "map": column_map or {},
                  "vocabulary": _vocabulary_option(vocabulary),
                  "default_outcome": default_outcome})
    return _apply(st, plan), rs


def import_incidents(
    sources: Sequence[PathLike] | PathLike, *, store: Store | PathLike | None = None,
    layer=None, crs=None, column_map=None, aoi=None,
) -> tuple[ImportResult, ReadResult]:
    """Import mine incident points (keyed by ``incident_id``; upserts)."""
    rs = read_incidents(sources, layer=layer, crs=crs, column_map=column_map, aoi=aoi)
    raise_for_problems(rs.problems)
    st = _open(store)
    frame = assign_districts(rs.incidents, _store_districts(st))
    plan = _plan("incidents", {"incidents": frame}, rs.sources,
                 {"crs": crs, "layer": layers_option(layer), "map": column_map or {}})
    return _apply(st, plan), rs


def import_districts(
    source: PathLike, *, store: Store | PathLike | None = None, name_field: str | None = None,
    layer=None, crs=None,
) -> tuple[ImportResult, ReadResult]:
    """Import district boundaries; they replace the previous set."""
    rs = read_districts(source, name_field=name_field, layer=layer, crs=crs)
    raise_for_problems(rs.problems)
    plan = _plan("districts", {"districts": rs.districts}, rs.sources,
                 {"name_field": name_field, "crs": crs, "layer": layer},
                 replace=True, allow_removals=True)
    return _apply(_open(store), plan), rs


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
