"""What a sheet shows, gathered from frames the caller read from the store.

Nothing is computed here that the crossref does not already give: the
fields carry their status and counts; the turning points come from
:func:`minemap.export.vertices.turning_points` (the record's order).
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from dataclasses import dataclass, field

import geopandas
import numpy as np
import pandas as pd
import yaml

from minemap.export.rounding import round_value
from minemap.export.vertices import FROM_RING, tp_table, turning_points

_SYNTHETIC_COMMENT = re.compile(r"^\s*#.*\bSYNTHETIC\b", re.MULTILINE)


@dataclass
class Sheet:
    """Everything one printed sheet shows.

    Attributes
    ----------
    title, subtitle
        Heading lines.
    fields, releases, items
        Frames in EPSG:4326; fields carry ``status``.
    tps
        The TP coordinate table (:func:`~minemap.export.vertices.tp_table`)
        for a one-record sheet, else None.
    records
        One row per field for a district or handover sheet, else None.
    counts
        ``(label, value)`` pairs.
    provenance
        Lines: sources, CRS and transformation, revision.
    synthetic
        Any shown record is sample (synthetic) data.
    state
        The store state shown (revision, as-of date).
    printed
        The date the sheet was made.
    notes
        Caveats (TPs along the stored ring, …).
    """

    title: str
    subtitle: str
    fields: geopandas.GeoDataFrame
    releases: geopandas.GeoDataFrame
    items: geopandas.GeoDataFrame
    tps: pd.DataFrame | None
    records: pd.DataFrame | None
    counts: list[tuple[str, str]]
    provenance: list[str]
    synthetic: bool
    state: str
    printed: str = field(default_factory=lambda: _dt.date.today().isoformat())
    notes: list[str] = field(default_factory=list)


def is_synthetic(raw: object) -> bool:
    """Whether a record's ``raw`` text marks it as synthetic sample data.

    GIS samples carry ``"synthetic": true``; traverse samples a
    ``# SYNTHETIC …`` comment (or a ``synthetic: true`` key).
    """
    if not isinstance(raw, str) or not raw:
        return False
    if _SYNTHETIC_COMMENT.search(raw):
        return True
    try:
        data = json.loads(raw)
    except ValueError:
        try:
            data = yaml.safe_load(raw)
        except yaml.YAMLError:
            return False
    return isinstance(data, dict) and data.get("synthetic") is True


def _fmt(value: object, column: str) -> str:
    v = round_value(value, column)
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "–"
    if isinstance(v, float):
        return f"{v:,}"
    return str(v) if v != "" else "–"


def _record_counts(row: pd.Series) -> list[tuple[str, str]]:
    keys = [("mines AP / AT / total", None), ("mine types", "mine_types"),
            ("laid", "laid_date"), ("area ha", "area_ha"), ("released ha", "released_ha"),
            ("released %", "released_pct"), ("cleared ha", "cleared_ha"),
            ("cleared %", "cleared_pct"), ("found mines", "found_mines"),
            ("remaining (est.)", "remaining_est"), ("status", "status"),
            ("last release", "last_release_date"), ("flags", "flags")]
    out = []
    for label, col in keys:
        if col is None:
            out.append((label, " / ".join(_fmt(row.get(c), c)
                                          for c in ("mines_ap", "mines_at", "mines_total"))))
        elif col in row:
            out.append((label, _fmt(row[col], col).replace(";", ", ")))
    return out


def _group_counts(fields: pd.DataFrame) -> list[tuple[str, str]]:
    status = fields["status"].value_counts() if "status" in fields else pd.Series(dtype=int)
    out = [("fields", str(len(fields)))]
    for s in ("not_started", "in_progress", "released"):
        out.append((f"  {s.replace('_', ' ')}", str(int(status.get(s, 0)))))
    for label, col in (("mines recorded", "mines_total"), ("area ha", "area_ha"),
                       ("released ha", "released_ha"), ("cleared ha", "cleared_ha"),
                       ("found mines (in fields)", "found_mines"),
                       ("remaining (est.)", "remaining_est")):
        if col in fields:
            out.append((label, _fmt(float(pd.to_numeric(fields[col]).sum()), col)))
    return out


def _provenance(fields: pd.DataFrame, handovers: pd.DataFrame | None) -> list[str]:
    lines = []
    dates = {}
    if handovers is not None and len(handovers):
        dates = dict(zip(handovers["handover"], handovers["handover_date"].astype(str)))
    for h in sorted(fields["handover"].astype(str).unique()):
        lines.append(f"handover {h}" + (f" (received {dates[h]})" if dates.get(h) else ""))
    for col, label in (("source_file", "source"), ("source_crs", "source CRS"),
                       ("transformation", "transformation")):
        if col in fields:
            vals = [v for v in fields[col].astype(str).unique() if v and v != "nan"]
            if vals:
                more = f" (+{len(vals) - 3} more)" if len(vals) > 3 else ""
                lines.append(f"{label}: {'; '.join(vals[:3])}{more}")
    if len(fields) == 1:
        row = fields.iloc[0]
        for col, label, unit in (("misclosure_m", "misclosure", " m"),
                                 ("misclosure_ratio", "misclosure 1:", ""),
                                 ("declination_deg", "declination", "°")):
            v = row.get(col)
            if v is not None and pd.notna(v):
                lines.append(f"{label}{'' if label.endswith(':') else ' '}"
                             f"{_fmt(float(v), col)}{unit}")
    return lines


def build_sheet(
    kind: str,
    key: str,
    fields: geopandas.GeoDataFrame,
    releases: geopandas.GeoDataFrame,
    items: geopandas.GeoDataFrame,
    *,
    vertices: geopandas.GeoDataFrame | None = None,
    handovers: pd.DataFrame | None = None,
    state: str = "",
) -> Sheet:
    """The :class:`Sheet` of one record, district or handover.

    Parameters
    ----------
    kind
        ``"record"``, ``"district"`` or ``"handover"``.
    key
        The record id, district or handover shown.
    fields
        The fields of the sheet (crossref columns and geometry).
    releases, items
        Releases and items near them (the caller clips to the sheet).
    vertices
        The store's ``vertices`` layer, for the TP table.
    handovers
        ``handover``, ``handover_date`` for the provenance.
    state
        The store state, e.g. ``"store revision 12"``.
    """
    synthetic = bool(fields["raw"].map(is_synthetic).any()) if "raw" in fields else False
    notes = []
    if kind == "record":
        row = fields.iloc[0]
        title = f"Minefield {row['record_id']}"
        subtitle = " · ".join(str(v) for v in (row.get("handover"), row.get("district"))
                              if v is not None and str(v))
        points, pnotes = turning_points(fields, vertices)
        tps = tp_table(points)
        if pnotes["from_ring"] or (len(tps) and (tps["tp_source"] == FROM_RING).any()):
            notes.append("turning points numbered along the stored ring (the store has no "
                         "record order for this field): check against the paper record")
        if pnotes["holes"]:
            notes.append("the field has holes; their vertices are not in the TP table")
        counts, records = _record_counts(row), None
    else:
        title = f"{kind.capitalize()} {key}"
        subtitle = f"{len(fields)} recorded minefields"
        tps = None
        counts = _group_counts(fields)
        cols = [c for c in ("record_id", "handover", "status", "mines_total", "found_mines",
                            "remaining_est", "area_ha", "released_pct", "cleared_pct")
                if c in fields]
        if kind == "handover" or fields["handover"].nunique() == 1:
            cols.remove("handover")
        records = pd.DataFrame(fields[cols]).sort_values(
            ["remaining_est", "record_id"] if "remaining_est" in cols else ["record_id"],
            ascending=[False, True] if "remaining_est" in cols else [True])
    return Sheet(title=title, subtitle=subtitle, fields=fields, releases=releases, items=items,
                 tps=tps, records=records, counts=counts,
                 provenance=_provenance(fields, handovers), synthetic=synthetic,
                 state=state, notes=notes)
