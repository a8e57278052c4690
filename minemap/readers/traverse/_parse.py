"""Parsing one traverse record into a :class:`~._spec.Spec`, field by field.

The attributes every reader shares (id, handover, counts, district, mine
types, laid_date) are checked once by :mod:`minemap.records.rules` on the
frame :func:`attribute_frame` builds; the rest (angle unit, north, the
magnetic correction, the reference point, legs and mine rows) is parsed
here.  Every problem is reported, not only the first, so a surveyor fixes a
file in one pass.
"""

from __future__ import annotations

import math

import pandas as pd

from minemap.geo import angles, magnetic
from minemap.geo.dates import model_date
from minemap.readers.traverse._refs import parse_ref
from minemap.readers.traverse._spec import (
    NORTHS,
    RECORD_FIELDS,
    Ctx,
    Leg,
    Row,
    Spec,
    boolean,
    missing,
    number,
    whole,
)
from minemap.readers.traverse_text import LEG_FIELDS, ROW_FIELDS

_ATTRIBUTES = ("record_id", "handover", "district", "mines_ap", "mines_at", "mines_total",
               "mine_types", "laid_date", "reliability")


def attribute_frame(items: list[tuple[object, str]], ctx: Ctx
                    ) -> tuple[pd.DataFrame, list[str], list[str]]:
    """The records' attributes in the contract's columns, for the shared rules.

    Returns the frame, each record's name for messages (its id, or ``#n``)
    and where it is (`` (line n)`` or empty).
    """
    rows, names, where = [], [], []
    for index, (data, _) in enumerate(items, start=1):
        row = dict.fromkeys(_ATTRIBUTES)
        line = getattr(data, "line", None)
        where.append(f" (line {line})" if line is not None else "")
        if not isinstance(data, dict):
            rows.append(row)
            names.append(f"#{index}")
            continue
        for c in _ATTRIBUTES:
            val = data.get(c)
            row[c] = None if missing(val) else val
        rid = data.get("record_id")
        if isinstance(rid, list | dict):
            # A list or mapping is no id; its text would pass for one.
            ctx.error(f"#{index}", "record_id must be a single value, not a list or mapping",
                      line=line)
            row["record_id"] = None
        mines = data.get("mines")
        if isinstance(mines, dict):
            for k in ("ap", "at", "total"):
                if not missing(mines.get(k)):
                    row[f"mines_{k}"] = mines[k]
        elif not missing(mines):
            row["mines_total"] = mines
        types = row["mine_types"]
        if isinstance(types, list):
            row["mine_types"] = [t for t in types if not missing(t)]
        names.append(str(row["record_id"]).strip() if row["record_id"] is not None
                     else f"#{index}")
        rows.append(row)
    return pd.DataFrame(rows, columns=list(_ATTRIBUTES), dtype=object), names, where


def parse_record(data: object, raw: str, index: int, ctx: Ctx, attrs: dict) -> Spec | None:
    """One record's specification, or None if it has an error (reported in ``ctx``).

    ``attrs`` holds the shared rules' values for the record, its ``name``
    and whether those rules refused it (``bad``).
    """
    line = getattr(data, "line", None)
    if not isinstance(data, dict):
        ctx.error(f"#{index}", "a record must be a mapping of fields", line=line)
        return None
    name = attrs["name"]
    n_err = _errors(ctx)
    _check_fields(data, name, line, ctx)
    laid_text = attrs["laid_date"]
    spec = Spec(
        record_id=name, name=name, handover=attrs["handover"], district=attrs["district"],
        mines_ap=int(attrs["mines_ap"]), mines_at=int(attrs["mines_at"]),
        mines_total=int(attrs["mines_total"]), mine_types=attrs["mine_types"],
        laid_date=laid_text, laid=model_date(laid_text) if laid_text else None,
        reliability=attrs["reliability"], raw=raw,
    )
    unit = _orientation(data, spec, line, ctx)
    if spec.north == "magnetic":
        _magnetic(data, spec, unit, line, ctx)
    else:
        for key in ("declination_deg", "direction_correction"):
            if not missing(data.get(key)) and spec.north:
                ctx.warn(name, f"{key} ignored: north is {spec.north}", line=line)
    spec.ref = parse_ref(data.get("reference_point"), name, line, ctx)
    labels = _legs(data, spec, unit, line, ctx)
    _rows(data, spec, unit, labels, line, ctx)
    if attrs["bad"] or _errors(ctx) > n_err:
        return None
    return spec


def _errors(ctx: Ctx) -> int:
    return sum(p.severity == "error" for p in ctx.problems)


def _check_fields(data: dict, name: str, line: int | None, ctx: Ctx) -> None:
    for key, ln in getattr(data, "dups", []):
        ctx.error(name, f"field {key!r} given twice", line=ln)
    for key in data.keys() - RECORD_FIELDS:
        ctx.warn(name, f"unknown field {key!r} ignored", line=line)
    if isinstance(data.get("mines"), dict):
        for key in data["mines"].keys() - {"ap", "at", "total"}:
            ctx.warn(name, f"unknown field mines.{key} ignored", line=line)


def _orientation(data: dict, spec: Spec, line: int | None, ctx: Ctx) -> str | None:
    """Angle unit, north reference and closure into ``spec``; the unit (None if bad)."""
    name = spec.name
    unit = None
    try:
        if missing(data.get("angle_unit")):
            ctx.error(name, "missing angle_unit (deg, mil6400 or mil6000)", line=line)
        else:
            unit = angles.check_unit(data["angle_unit"])
            spec.unit = unit
    except angles.AngleError as exc:
        ctx.error(name, str(exc), line=line)
    north = str(data.get("north", "")).strip().lower()
    if missing(data.get("north")):
        ctx.error(name, "missing north (grid, true or magnetic)", line=line)
        north = ""
    elif north not in NORTHS:
        ctx.error(name, f"unknown north reference {data['north']!r} (use grid, true or "
                  "magnetic)", line=line)
        north = ""
    spec.north = north
    try:
        spec.closed = True if missing(data.get("closed")) else boolean(data["closed"], "closed")
    except ValueError as exc:
        ctx.error(name, str(exc), line=line)
    if not missing(data.get("synthetic")):
        try:
            boolean(data["synthetic"], "synthetic")
        except ValueError as exc:
            ctx.warn(name, f"{exc}; ignored", line=line)
    return unit


def _magnetic(data: dict, spec: Spec, unit: str | None, line: int | None, ctx: Ctx) -> None:
    """How magnetic bearings become true or grid ones: given, or modelled (IGRF)."""
    name = spec.name
    dec, corr = data.get("declination_deg"), data.get("direction_correction")
    if not missing(dec):
        try:
            spec.declination = number(dec, "declination_deg")
            if abs(spec.declination) > 180:
                raise ValueError(f"declination_deg {dec!r} is outside ±180")
        except ValueError as exc:
            ctx.error(name, str(exc), line=line)
    if not missing(corr) and unit:
        try:
            spec.correction = angles.to_degrees(corr, unit, signed=True)
        except angles.AngleError as exc:
            ctx.error(name, f"direction_correction: {exc}", line=line)
    if not (missing(dec) and missing(corr)):
        return
    date = spec.laid or ctx.handover_date
    if date is None:
        ctx.error(name, "magnetic north needs declination_deg, direction_correction, "
                  "laid_date or a handover date", line=line)
        return
    try:
        magnetic.check_date(date)
        spec.model_date = date
        if spec.laid is None:
            ctx.warn(name, f"no laid_date: declination modelled at the handover "
                     f"date {date.isoformat()}", line=line)
    except magnetic.ModelRangeError as exc:
        ctx.error(name, str(exc), line=line)


def _legs(data: dict, spec: Spec, unit: str | None, line: int | None,
          ctx: Ctx) -> dict[str, int]:
    """The legs into ``spec``; returns the point labels (label → leg number)."""
    name = spec.name
    legs = data.get("legs")
    if not isinstance(legs, list) or not legs:
        ctx.error(name, "no legs", line=line)
        legs = []
    labels: dict[str, int] = {}
    counts = {"turning": 0, "intermediate": 0}
    for i, leg in enumerate(legs, start=1):
        lline = getattr(leg, "line", line)
        if not isinstance(leg, dict):
            ctx.error(name, "a leg must be a mapping with bearing and distance_m", i, lline)
            continue
        for key, ln in getattr(leg, "dups", []):
            ctx.error(name, f"field {key!r} given twice", i, ln)
        for key in leg.keys() - LEG_FIELDS:
            ctx.warn(name, f"unknown leg field {key!r} ignored", i, lline)
        bearing, distance = _leg_values(leg, name, unit, i, lline, ctx)
        closing = spec.closed and i == len(legs) and i > 1
        point = _point_type(leg, name, i, closing, lline, ctx)
        label = None if missing(leg.get("label")) else str(leg["label"]).strip()
        if not closing:
            counts[point] += 1
            label = label or f"{'TP' if point == 'turning' else 'IP'}{counts[point]}"
            if label in labels or label == "RP":
                ctx.error(name, f"point label {label!r} used twice", i, lline)
            labels[label] = i
        spec.legs.append(Leg(bearing, distance, point, label, lline))
    if legs and counts["turning"] < 3:
        ctx.error(name, f"fewer than 3 turning points ({counts['turning']})", line=line)
    return labels


def _leg_values(leg: dict, name: str, unit: str | None, i: int, lline: int | None,
                ctx: Ctx) -> tuple[float, float]:
    """A leg's bearing (degrees) and distance (m); NaN where missing or bad."""
    bearing = distance = math.nan
    if missing(leg.get("bearing")):
        ctx.error(name, "missing bearing", i, lline)
    elif unit:
        try:
            bearing = angles.to_degrees(leg["bearing"], unit)
        except angles.AngleError as exc:
            ctx.error(name, str(exc), i, lline)
    if missing(leg.get("distance_m")):
        ctx.error(name, "missing distance_m", i, lline)
    else:
        try:
            distance = number(leg["distance_m"], "distance_m")
            if distance <= 0:
                ctx.error(name, f"distance_m {leg['distance_m']} is not positive", i, lline)
                distance = math.nan
        except ValueError as exc:
            ctx.error(name, str(exc), i, lline)
    return bearing, distance


def _point_type(leg: dict, name: str, i: int, closing: bool, lline: int | None,
                ctx: Ctx) -> str:
    point = "turning" if missing(leg.get("point")) else str(leg["point"]).strip().lower()
    if point not in ("turning", "intermediate"):
        ctx.error(name, f"unknown point type {leg['point']!r} (turning or intermediate)",
                  i, lline)
        return "turning"
    if point == "intermediate" and i == 1:
        ctx.error(name, "the first leg ends at TP1, which must be a turning point", i, lline)
    elif point == "intermediate" and closing:
        ctx.error(name, "the closing leg returns to TP1, a turning point", i, lline)
    return point


def _rows(data: dict, spec: Spec, unit: str | None, labels: dict[str, int],
          line: int | None, ctx: Ctx) -> None:
    """The mine rows into ``spec``, each starting at one of the record's points."""
    name = spec.name
    rows = data.get("rows")
    if missing(rows):
        return
    if not isinstance(rows, list):
        ctx.error(name, "rows must be a list", line=line)
        return
    for j, row in enumerate(rows, start=1):
        rline = getattr(row, "line", line)
        if not isinstance(row, dict):
            ctx.error(name, f"row {j}: must be a mapping", line=rline)
            continue
        for key in row.keys() - ROW_FIELDS:
            ctx.warn(name, f"row {j}: unknown field {key!r} ignored", line=rline)
        start = str(row.get("from", "")).strip()
        if missing(row.get("from")):
            ctx.error(name, f"row {j}: missing from (a point label such as TP1)", line=rline)
        elif start not in labels and start != "RP":
            ctx.error(name, f"row {j}: from {start!r} is not a point of the record",
                      line=rline)
        try:
            spec.rows.append(_row(row, j, start, unit, name, rline, ctx))
        except (ValueError, angles.AngleError) as exc:
            ctx.error(name, f"row {j}: {exc}", line=rline)


def _row(row: dict, j: int, start: str, unit: str | None, name: str, rline: int | None,
         ctx: Ctx) -> Row:
    rb = angles.to_degrees(row.get("bearing"), unit) if unit else math.nan
    rd = number(row.get("distance_m"), "distance_m")
    if rd <= 0:
        raise ValueError(f"distance_m {row.get('distance_m')} is not positive")
    count = whole(row.get("mines"), "mines")
    spacing = None
    if not missing(row.get("spacing_m")):
        spacing = number(row["spacing_m"], "spacing_m")
        if spacing <= 0:
            raise ValueError(f"spacing_m {row['spacing_m']} is not positive")
        if count > 1 and (count - 1) * spacing > rd * 1.01 + 0.5:
            ctx.warn(name, f"row {j}: {count} mines at {spacing:g} m need "
                     f"{(count - 1) * spacing:g} m, longer than the row ({rd:g} m)",
                     line=rline)
    mtype = row.get("type", row.get("mine_type", ""))
    return Row(start, rb, rd, count, "" if missing(mtype) else str(mtype).strip(), spacing,
               rline)
