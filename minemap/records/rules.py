"""The record rules: one set for every source of each kind (DESIGN §4, §5, §11).

A reader gives a frame of attributes as the source spelled them; the
functions here name the columns (:func:`apply_aliases`), check each value and
build the rows of the store's schema.  The same :func:`record_attributes`
checks a minefield record's id, handover, counts, district, mine types and
``laid_date`` whether it came from a GIS file or a traverse record, so a
record is read the same way from either.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from minemap._errors import Problem
from minemap.geo.districts import normalise
from minemap.records import schema
from minemap.records import validate as v
from minemap.records.vocabulary import Vocabulary

#: Columns taken as ``record_id`` without being asked (DESIGN §11).  A
#: descriptive ``NAME`` column never is: it needs ``--map record_id=NAME``.
ID_LIKE = ("record_id", "id", "hazard_id", "haz_id", "field_id", "minefield_id", "mf_id",
           "recordid")

ALIASES: dict[str, tuple[str, ...]] = {
    "record_id": ID_LIKE[1:],
    "mines_ap": ("ap", "ap_mines", "n_ap"),
    "mines_at": ("at", "at_mines", "n_at"),
    "mines_total": ("total", "mines", "total_mines"),
    "item_type": ("type",),
    "date_end": ("date_to",),
    "date_start": ("date_from",),
}


#: The fields whose source column every import announces (DESIGN §11).
ANNOUNCED: dict[str, tuple[str, ...]] = {
    "records": ("record_id", "mines_ap", "mines_at", "mines_total"),
    "releases": ("report_id", "outcome", "found_ap", "found_at", "found_uxo"),
    "items": ("item_id", "item_type"),
    "incidents": ("incident_id", "killed", "injured"),
}


def announced(frame: pd.DataFrame, renamed: dict[str, str], kind: str) -> dict[str, str]:
    """``{field: source column}`` for the announced fields the frame has."""
    return {f: renamed.get(f, f) for f in ANNOUNCED[kind] if f in frame.columns}


def apply_aliases(frame: pd.DataFrame, contract: Sequence[str]
                  ) -> tuple[pd.DataFrame, dict[str, str]]:
    """Contract names for other cases, aliases and 10-character Shapefile names.

    Explicit ``--map`` has already been applied by the reader.

    Returns
    -------
    (frame, columns)
        The renamed frame and ``{field: source column}`` for each rename.
    """
    cols = list(frame.columns)
    lower = {str(c).lower(): c for c in cols}
    rename: dict[str, str] = {}
    for name in contract:
        if name in cols:
            continue
        if name in lower:
            rename[lower[name]] = name
            continue
        if len(name) > 10 and name[:10] in lower:
            rename[lower[name[:10]]] = name
            continue
        for alias in ALIASES.get(name, ()):
            if alias in lower and lower[alias] not in rename:
                rename[lower[alias]] = name
                break
    return frame.rename(columns=rename), {f: str(c) for c, f in rename.items()}


# -- minefield records -------------------------------------------------------


def record_attributes(
    frame: pd.DataFrame, name: str, names: list[str], *, handover: str | None,
    where: list[str] | None = None,
) -> tuple[dict[str, list | np.ndarray], list[Problem]]:
    """A minefield record's attributes, checked (every reader's one rule).

    Parameters
    ----------
    frame
        Columns in the contract's names (``record_id``, ``handover``,
        ``district``, ``mines_ap``, ``mines_at``, ``mines_total``,
        ``mine_types``, ``laid_date``, ``reliability``), any missing.
    name, names
        The file's name and each row's label, for messages.
    handover
        The import's handover; a record's own must match it.
    where
        Per-row suffix for messages, e.g. ``" (line 12)"`` for traverse files.

    Returns
    -------
    (columns, problems)
        ``columns`` holds those columns in the store's types (``laid_date``
        as ISO text, possibly ``YYYY`` or ``YYYY-MM``).
    """
    problems: list[Problem] = []
    suffix = where or [""] * len(frame)

    def add(found: list[Problem]) -> None:
        # Suffixes are matched by record name: rules report one record at a time.
        at = dict(zip(names, suffix))
        for p in found:
            problems.append(Problem(p.file, p.record, p.message + at.get(p.record or "", ""),
                                    p.severity, p.leg))

    ids = v.text(frame, "record_id")
    add([Problem(name, names[i], "record_id is missing") for i, rid in enumerate(ids)
         if not rid])
    add(v.id_problems(ids, frame.get("record_id"), name, "record_id"))
    add(v.duplicates([i for i in ids if i], name, "record id (given twice in the file)"))
    own = v.text(frame, "handover")
    if handover is None:
        handovers = own
    else:
        handovers = [handover] * len(frame)
        add([Problem(name, names[i], f"handover {h!r} does not match --handover {handover}")
             for i, h in enumerate(own) if h and h != handover])
    ap, p1 = v.counts(frame, "mines_ap", name, names)
    at, p2 = v.counts(frame, "mines_at", name, names)
    add(p1 + p2)
    # A record with no count at all is refused: stored as 0 it would report
    # nothing remaining on ground that is still hazardous.
    given = np.zeros(len(frame), dtype=bool)
    for col in ("mines_ap", "mines_at", "mines_total"):
        given |= np.array([t != "" for t in v.text(frame, col)], dtype=bool)
    add([Problem(name, names[i], "no mine count: give mines_ap, mines_at or mines_total"
                 " (0 if the record says none)") for i in np.flatnonzero(~given)])
    if "mines_total" in frame:
        total, p3 = v.counts(frame, "mines_total", name, names, default=-1)
        add(p3)
        blank = total < 0
        total[blank] = (ap + at)[blank]
        add([Problem(name, names[i], f"mines_total {total[i]} is less than mines_ap + mines_at"
                     f" ({ap[i]} + {at[i]})") for i in np.flatnonzero(~blank & (total < ap + at))])
    else:
        total = ap + at
    laid, p4 = v.dates(frame, "laid_date", name, names, partial=True)
    district, p5 = v.districts(frame, name, names)
    add(p4 + p5)
    return {
        "record_id": ids, "handover": handovers, "district": district,
        "mines_ap": ap, "mines_at": at, "mines_total": total,
        "mine_types": mine_types(frame), "laid_date": laid,
        "reliability": v.text(frame, "reliability"),
    }, problems


def mine_types(frame: pd.DataFrame) -> list[str]:
    """``mine_types`` as ``"PMN-2;TM-62M"``, from a list or ``,``/``;`` text."""
    if "mine_types" not in frame:
        return [""] * len(frame)
    out = []
    for t in frame["mine_types"].tolist():
        if isinstance(t, list | tuple | np.ndarray):
            parts = [str(x) for x in t if x is not None]
        elif t is None or (isinstance(t, float) and np.isnan(t)):
            parts = []
        else:
            parts = str(t).replace(",", ";").split(";")
        out.append(";".join(s.strip() for s in parts if s.strip()))
    return out


def records(
    frame: gpd.GeoDataFrame, name: str, *, handover: str | None, repair: str | None, aoi,
    provenance: dict[str, str], vocabulary: Vocabulary | None = None,
) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Minefield rows (``schema.MINEFIELD_COLUMNS``) of a GIS source's frame."""
    names = v.labels(frame, "record_id")
    attrs, problems = record_attributes(frame, name, names, handover=handover)
    if "record_id" not in frame and len(frame):
        lower = [str(c).lower() for c in frame.columns]
        if "name" in lower:
            problems.insert(0, Problem(name, None, "a NAME column is not taken as the record"
                                       " id; if it is one, give --map record_id=NAME"))
    if vocabulary is not None:
        attrs["mine_types"] = [";".join(vocabulary.translate("model", t.split(";"))) if t else t
                               for t in attrs["mine_types"]]
    geoms, p6, flags = v.check_geometries(frame, name, names, polygonal=True, aoi=aoi,
                                          repair=repair)
    problems += p6
    out = gpd.GeoDataFrame(
        {
            **attrs,
            "area_ha": v.hectares(geoms),
            "flags": [";".join(f) for f in flags],
            "source_file": name,
            "source_crs": provenance["source_crs"],
            "transformation": provenance["transformation"],
            "raw": frame["_raw"].tolist(),
            "misclosure_m": np.nan,
            "misclosure_ratio": np.nan,
            "declination_deg": np.nan,
        },
        geometry=geoms,
        crs="EPSG:4326",
    )
    return out, problems


# -- releases and items ---------------------------------------------------------


def _optional_counts(frame, column, name, names) -> tuple[np.ndarray, list[Problem]]:
    if column not in frame:
        return np.full(len(frame), np.nan), []
    if v._numbers_column(frame[column]):
        blank = frame[column].isna().to_numpy(dtype=bool)
    else:
        blank = np.array([x is None or (isinstance(x, float) and np.isnan(x))
                          or (isinstance(x, str) and not x.strip())
                          for x in frame[column].tolist()], dtype=bool)
    vals, probs = v.counts(frame, column, name, names, default=0)
    out = vals.astype(float)
    out[blank] = np.nan
    return out, probs


def _with_derived_ids(ids: list[str], frame, name: str, prefix: str) -> list[str]:
    """``ids`` with a derived id (:func:`validate.derive_ids`) wherever one is blank."""
    blank = [k for k, i in enumerate(ids) if not i]
    if not blank:
        return ids
    out = list(ids)
    for k, d in zip(blank, v.derive_ids(frame.iloc[blank], name, prefix)):
        out[k] = d
    return out


def releases(frame: gpd.GeoDataFrame, name: str, aoi, *, vocabulary: Vocabulary | None = None,
             default_outcome: str | None = None) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Land-release rows (``schema.RELEASE_COLUMNS``).

    A release without an outcome is refused unless ``default_outcome`` is
    given: "cleared" is the strongest claim a record can make (DESIGN §11).
    """
    names = v.labels(frame, "report_id")
    geoms, problems, _ = v.check_geometries(frame, name, names, polygonal=True, aoi=aoi)
    ids = v.text(frame, "report_id")
    problems += v.id_problems(ids, frame.get("report_id"), name, "report_id")
    ids = _with_derived_ids(ids, frame, name, "REL")
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
    given = v.text(frame, "outcome")
    if vocabulary is not None:
        given = vocabulary.translate("outcome", given)
    missing = [i for i, o in enumerate(given) if not o]
    if missing and default_outcome is None:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        problems.append(Problem(name, names[missing[0]], f"no outcome{more}: minemap never"
                                " assumes one; add an outcome column (cleared, reduced or"
                                " cancelled) or give --default-outcome"))
    outcome = [o.lower() or (default_outcome or "") for o in given]
    for i, o in enumerate(outcome):
        if o and o not in schema.OUTCOMES:
            problems.append(Problem(name, names[i], f"outcome {given[i]!r} is not one of "
                                    + ", ".join(schema.OUTCOMES)
                                    + (" (a --vocabulary can map it)" if vocabulary is None
                                       else f" and --vocabulary {vocabulary.name} does not"
                                       " name it")))
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


def items(frame: gpd.GeoDataFrame, name: str, aoi, *, vocabulary: Vocabulary | None = None
          ) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Found-item rows (``schema.ITEM_COLUMNS``)."""
    names = v.labels(frame, "item_id")
    geoms, problems, _ = v.check_geometries(frame, name, names, polygonal=False, aoi=aoi)
    ids = v.text(frame, "item_id")
    problems += v.id_problems(ids, frame.get("item_id"), name, "item_id")
    ids = _with_derived_ids(ids, frame, name, "ITM")
    problems += v.duplicates(ids, name, "item_id")
    given = v.text(frame, "item_type")
    models = v.text(frame, "model")
    if vocabulary is not None:
        given = vocabulary.translate("item_type", given)
        models = vocabulary.translate("model", models)
    types = [t.upper() for t in given]
    for i, t in enumerate(types):
        if t not in schema.ITEM_TYPES:
            problems.append(Problem(name, names[i], f"item_type {given[i]!r} is not one of AP,"
                                    " AT, UXO" + (" (a --vocabulary can map it)"
                                                 if vocabulary is None else "")))
    date, p1 = v.dates(frame, "date", name, names, required=True)
    district, p2 = v.districts(frame, name, names)
    out = gpd.GeoDataFrame(
        {
            "item_id": ids, "item_type": types, "date": date, "model": models,
            "report_id": v.text(frame, "report_id"), "district": district, "source_file": name,
        },
        geometry=geoms, crs="EPSG:4326",
    )
    return out, problems + p1 + p2


# -- incidents and districts ------------------------------------------------------


def incidents(frame: gpd.GeoDataFrame, name: str, aoi
              ) -> tuple[gpd.GeoDataFrame | None, list[Problem]]:
    """Incident rows (``schema.INCIDENT_COLUMNS``), or None if not an incidents file."""
    if "killed" not in frame and "injured" not in frame:
        # Found items or releases given by mistake would otherwise pass as
        # incidents with no casualties.
        return None, [Problem(name, None, "not an incidents file: it has neither a 'killed'"
                              " nor an 'injured' column")]
    names = v.labels(frame, "incident_id")
    geoms, probs, _ = v.check_geometries(frame, name, names, polygonal=False, aoi=aoi)
    ids = v.text(frame, "incident_id")
    probs += v.id_problems(ids, frame.get("incident_id"), name, "incident_id")
    ids = _with_derived_ids(ids, frame, name, "INC")
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
    out = gpd.GeoDataFrame(
        {"incident_id": ids, "date": date, "killed": killed, "injured": injured,
         "civilian": civ, "district": district, "source_file": name},
        geometry=geoms, crs="EPSG:4326",
    )
    return out, probs + p1 + p2 + p3 + p4


def districts(frame: gpd.GeoDataFrame, name: str, name_field: str
              ) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """District boundary rows (``schema.DISTRICT_COLUMNS``), names normalised."""
    names = v.labels(frame, name_field)
    geoms, problems, _ = v.check_geometries(
        frame, name, names, polygonal=True, aoi=(-180, -90, 180, 90), geocheck=False
    )
    out_names = []
    for i, raw in enumerate(v.text(frame, name_field)):
        canon = normalise(raw)
        if not raw:
            problems.append(Problem(name, names[i], "district name is missing"))
        elif canon is None:
            problems.append(Problem(name, names[i], f"district {raw!r} is not a known name;"
                                    " kept as given", "warning"))
        out_names.append(canon or raw)
    problems += v.duplicates(out_names, name, "district")
    out = gpd.GeoDataFrame({"district": out_names, "source_file": name}, geometry=geoms,
                           crs="EPSG:4326")
    return out, problems
