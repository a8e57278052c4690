"""Traverse files as text: YAML documents or CSV lines → plain records (dicts of strings).

Every scalar stays the text as written (:mod:`minemap.readers.safe_yaml`);
:mod:`minemap.readers.traverse` parses the values field by field.  Each
record keeps its line number and the raw text it came from.
"""

from __future__ import annotations

import csv
import textwrap
from typing import Any

import yaml

from minemap import settings
from minemap._errors import Problem
from minemap.readers.safe_yaml import AliasError, LineMap, compose, convert

_Map = LineMap

#: Fields of a leg, a mine row and a reference point.
LEG_FIELDS = {"bearing", "distance_m", "point", "label"}
ROW_FIELDS = {"from", "bearing", "distance_m", "mines", "type", "mine_type", "spacing_m"}
REF_FIELDS = {"crs", "easting", "northing", "zone", "lat", "lon", "mgrs"}


def node_text(text: str, node: yaml.Node) -> str:
    # Re-indent the first line so that dedent gives the item as it would be
    # written on its own.
    piece = " " * node.start_mark.column + text[node.start_mark.index:node.end_mark.index]
    return textwrap.dedent(piece).rstrip() + "\n"


def yaml_items(text: str, name: str, problems: list[Problem]) -> list[tuple[object, str]]:
    items: list[tuple[object, str]] = []
    try:
        docs = compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        problems.append(Problem(name, None, f"YAML syntax error{where}: {what}"))
        return []
    docs = [d for d in docs if not (isinstance(d, yaml.ScalarNode) and d.value == "")]
    if not docs:
        problems.append(Problem(name, None, "no traverse records in the file"))
    seen: set[int] = set()
    try:
        for doc in docs:
            if isinstance(doc, yaml.MappingNode):
                raw = text if len(docs) == 1 else node_text(text, doc)
                items.append((convert(doc, seen), raw))
            elif isinstance(doc, yaml.SequenceNode):
                for node in doc.value:
                    items.append((convert(node, seen), node_text(text, node)))
            else:
                problems.append(Problem(
                    name, None, f"line {doc.start_mark.line + 1}: expected a record "
                    "(a mapping) or a list of records"))
    except AliasError as exc:
        # Refused before anything is expanded (a "billion laughs" stays small).
        problems.append(Problem(name, None, str(exc)))
        return []
    return items


CSV_RECORD = {
    "handover", "district", "laid_date", "mines_ap", "mines_at", "mines_total", "mine_types",
    "reliability", "angle_unit", "north", "closed", "declination_deg", "direction_correction",
    "crs", "easting", "northing", "zone", "lat", "lon", "mgrs",
}
CSV_LINE = {"record_id", "kind", "bearing", "distance_m", "point", "label", "from", "mines",
             "type", "mine_type", "spacing_m", "leg"}


def csv_items(text: str, name: str, problems: list[Problem]) -> list[tuple[object, str]]:
    """Records of a traverse CSV (one line per leg or mine row), with their source text."""
    lines = text.splitlines(keepends=True)
    if not lines:
        problems.append(Problem(name, None, "empty CSV file"))
        return []
    head = lines[0]
    delimiter = ";" if head.count(";") > head.count(",") else ","
    reader = csv.reader(iter(lines), delimiter=delimiter)
    header = _csv_header(next(reader), name, problems)
    if header is None:
        return []
    groups = _csv_groups(reader, header, lines, name, problems)
    items = [(_csv_record(rid, g, name, problems), lines[0] + "".join(g["lines"]))
             for rid, g in groups.items()]
    if not groups and not any(p.severity == "error" for p in problems):
        problems.append(Problem(name, None, "no traverse records in the file"))
    return items


def _csv_header(first: list[str], name: str, problems: list[Problem]) -> list[str] | None:
    """The lower-cased header, or None (with the error) when it cannot be read."""
    header = [h.strip().lower() for h in first]
    if len(header) > settings.max_columns:
        problems.append(Problem(name, None, f"{len(header):,} columns is more than the"
                                f" {settings.max_columns:,} a source may have"
                                " (settings.max_columns)"))
        return None
    missing = [c for c in ("record_id", "bearing", "distance_m") if c not in header]
    if missing:
        problems.append(Problem(name, None, f"CSV header lacks {', '.join(missing)}"))
        return None
    unknown = [h for h in header if h and h not in CSV_RECORD | CSV_LINE]
    if unknown:
        problems.append(Problem(name, None, f"unknown CSV columns ignored: {', '.join(unknown)}",
                                severity="warning"))
    return header


def _csv_groups(reader: Any, header: list[str], lines: list[str], name: str,
                problems: list[Problem]) -> dict[str, dict]:
    """The file's lines grouped by record_id: record fields, legs, rows, line numbers."""
    groups: dict[str, dict] = {}
    last: str | None = None
    done = 1
    for values in reader:
        start, done = done + 1, reader.line_num
        if not any(v.strip() for v in values):
            continue
        row = {h: (values[i].strip() if i < len(values) else "") for i, h in enumerate(header)}
        rid = row.get("record_id", "")
        if not rid:
            problems.append(Problem(name, None, f"line {start}: no record_id"))
            continue
        g = groups.get(rid)
        if g is None:
            g = groups[rid] = {"fields": {}, "legs": [], "rows": [], "first": start,
                               "last": done, "lines": []}
        elif last != rid:
            problems.append(Problem(name, rid, f"line {start}: the record continues after "
                                    "other records; keep a record's rows together"))
        last = rid
        g["last"] = done
        g["lines"].append("".join(lines[start - 1:done]))
        for f in CSV_RECORD & row.keys():
            v = row[f]
            if not v:
                continue
            old = g["fields"].get(f)
            if old is None:
                g["fields"][f] = (v, start)
            elif old[0] != v:
                problems.append(Problem(name, rid, f"line {start}: {f} {v!r} differs from "
                                        f"{old[0]!r} on line {old[1]}"))
        kind = (row.get("kind") or "leg").lower()
        if kind == "leg" and row.get("leg"):
            g.setdefault("numbers", []).append((row["leg"], start))
        if kind == "leg":
            g["legs"].append(_Map({k: row[k] for k in LEG_FIELDS & row.keys() if row[k]},
                                  line=start))
        elif kind == "row":
            g["rows"].append(_Map({k: row[k] for k in ROW_FIELDS & row.keys() if row[k]},
                                  line=start))
        else:
            problems.append(Problem(name, rid, f"line {start}: unknown kind {kind!r} "
                                    "(use leg or row)"))
    return groups


def _csv_record(rid: str, g: dict, name: str, problems: list[Problem]) -> _Map:
    """One record's lines as the mapping a YAML record would give."""
    # A leg column, when filled in, must number the legs in file order:
    # a sorted or shuffled spreadsheet would otherwise walk another shape.
    numbers = g.get("numbers", [])
    if numbers and [n for n, _ in numbers] != [str(i) for i in range(1, len(g["legs"]) + 1)]:
        problems.append(Problem(name, rid, "leg numbers are not 1, 2, 3 … in line order "
                                f"(line {numbers[0][1]} onwards); sort the legs"))
    f = {k: v for k, (v, _) in g["fields"].items()}
    data = _Map({"record_id": rid}, line=g["first"])
    for k in ("handover", "district", "laid_date", "reliability", "angle_unit", "north",
              "closed", "declination_deg", "direction_correction"):
        if k in f:
            data[k] = f[k]
    mines = {short: f[k] for k, short in (("mines_ap", "ap"), ("mines_at", "at"),
                                          ("mines_total", "total")) if k in f}
    if mines:
        data["mines"] = _Map(mines, line=g["first"])
    if "mine_types" in f:
        data["mine_types"] = [t.strip() for t in f["mine_types"].split(";") if t.strip()]
    ref = {k: f[k] for k in REF_FIELDS if k in f}
    if ref:
        data["reference_point"] = _Map(ref, line=g["first"])
    data["legs"] = g["legs"]
    if g["rows"]:
        data["rows"] = g["rows"]
    return data
