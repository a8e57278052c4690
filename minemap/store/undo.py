"""Undo and diffs: revert a scope to a revision, and what a revision changed (DESIGN §5).

Backend-neutral, like :mod:`minemap.store.revisions`: a revert reads the
rows valid at the target revision through the writer and writes the
difference as a new revision (nothing is deleted; the revert is itself in
the history).  A diff compares a revision's records with the state before.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import shapely

from minemap._errors import UsageError
from minemap.store.base import StoreView, StoreWriter
from minemap.store.revisions import (
    KINDS,
    LAYERS,
    ImportResult,
    NothingChanged,
    Refresh,
    Touched,
    coerce,
    diff_layer,
    handovers_at,
    now,
    write_diff,
    write_update,
)


def check_scope(view: StoreView, to: int, handover: str | None, kind: str | None) -> None:
    """Refuse a revert whose revision or scope is not in the store (a usage error)."""
    latest = view.latest_revision()
    if not 0 <= to <= latest:
        raise UsageError(f"{view.location}: no revision {to} to revert to (the store has"
                         f" revisions 0 to {latest}; 0 is the empty store)")
    if kind is not None and kind not in KINDS:
        raise UsageError(f"--kind {kind}: choose one of {', '.join(KINDS)}")
    if handover is not None:
        if kind not in (None, "records"):
            raise UsageError(f"--handover reverts records, not {kind}")
        known = {h for r in view.revisions() if r["kind"] == "records" for h in [r["handover"]]}
        if handover not in known:
            raise UsageError(f"--handover {handover!r}: no revision imported it; choose one of"
                             f" {', '.join(sorted(known)) or '(none)'}")


def apply_revert(w: StoreWriter, to: int, *, handover: str | None = None,
                 kind: str | None = None, refresh: Refresh | None = None) -> ImportResult:
    """Write a new revision whose state equals revision ``to`` for the scope.

    The scope is one handover's records, one kind, or (neither given) the
    whole store.  Runs inside the writer's transaction.

    Raises
    ------
    NothingChanged
        When the scope already equals revision ``to``.
    """
    check_scope(w, to, handover, kind)
    revision = w.latest_revision() + 1
    kinds = ["records"] if handover is not None else [kind] if kind else list(KINDS)
    added: list[str] = []
    changed: list[str] = []
    removed: list[str] = []
    touched = Touched()
    for k in kinds:
        for layer in KINDS[k]:
            diff, geoms, inserted = _revert_layer(w, layer, to, handover, revision)
            touched.geometries[layer] = geoms
            if inserted is not None:
                touched.inserted[layer] = inserted
            if layer == KINDS[k][0] or k == "clearance":
                added += diff.added
                changed += diff.changed
                removed += diff.removed
    scope = (f"handover {handover}" if handover else f"{kind}" if kind else "the whole store")
    if not (added or changed or removed):
        raise NothingChanged(ImportResult(
            revision=None, noop_reason=f"{scope} already equals revision {to}; nothing to do"))
    dates = handovers_at(w.revisions(), to)
    date = dates.loc[dates["handover"] == handover, "handover_date"] if handover else []
    w.add_revision({
        "revision": revision, "kind": "revert", "handover": handover or "",
        "handover_date": str(date.iloc[0]) if len(date) else "", "sources": "[]",
        "sha256": "[]", "options": json.dumps(
            {"revert_to": to, "kind": kind or "", "handover": handover or ""}, sort_keys=True),
        "imported_at": now(), "source_crs": "[]", "transformation": "[]",
        "added": json.dumps(added), "changed": json.dumps(changed),
        "removed": json.dumps(removed), "message": f"revert {scope} to revision {to}",
    })
    if refresh is not None:
        update = refresh(w, revision, touched)
        if update is not None:
            write_update(w, update, revision)
    return ImportResult(revision=revision, read=0, added=added, changed=changed, removed=removed)


def _revert_layer(w: StoreWriter, layer: str, to: int, handover: str | None, revision: int):
    spec = LAYERS[layer]
    where = {"handover": [handover]} if handover is not None else None
    target = w.read_layer(layer, to, where=where).reset_index(drop=True)
    # The stored hashes of the target rows: a row re-imported unchanged since
    # has the same hash and stays as it is.
    stored = w.current_hashes(layer, handover=handover, revision=to)
    current = w.current_hashes(layer, handover=handover)
    keys = list(target[list(spec.key)].itertuples(index=False, name=None))
    target_hash = dict(zip(stored[list(spec.key)].itertuples(index=False, name=None),
                           stored["content_hash"]))
    hashes = np.array([target_hash[k] for k in keys], dtype=object)
    # The target's rows replace the scope's set: the import's own diff rule.
    diff = diff_layer(layer, keys, hashes, current, replace=True)
    values = coerce(target, spec)
    geoms = np.asarray(target.geometry.values, dtype=object) if spec.geometry_type else None
    geoms_touched, inserted = write_diff(w, layer, diff, values, geoms, hashes, revision)
    return diff, geoms_touched, inserted


# --------------------------------------------------------------------------- diffs

#: Columns of :func:`record_diff`.
DIFF_COLUMNS = (
    "revision", "handover", "record_id", "change", "mines_ap_before", "mines_ap_after",
    "mines_at_before", "mines_at_after", "mines_total_before", "mines_total_after",
    "area_ha_before", "area_ha_after", "hausdorff_m",
)


def record_diff(view: StoreView, revision: int | None = None) -> pd.DataFrame:
    """Per minefield record, what ``revision`` changed (the latest by default).

    Returns
    -------
    DataFrame
        :data:`DIFF_COLUMNS`: ``change`` is ``added``, ``changed`` or
        ``removed``; counts and areas before and after (missing where the
        record did not exist); ``hausdorff_m`` is how far the perimeter moved,
        the Hausdorff distance in metres between the old and new geometry,
        both projected to the field's UTM zone (missing unless changed).
    """
    rev = view.resolve_revision(revision)
    ch = view.changes("minefields", rev) if rev else pd.DataFrame(
        columns=["handover", "record_id"])
    ids = sorted(set(ch["record_id"]))
    keys = set(zip(ch["handover"], ch["record_id"]))
    before = _by_key(view.read_layer("minefields", rev - 1, ids=ids), keys)
    after = _by_key(view.read_layer("minefields", rev, ids=ids), keys)
    rows: list[dict[str, Any]] = []
    for key in sorted(keys):
        old, new = before.get(key), after.get(key)
        if old is not None and new is not None and old["revision"] == new["revision"]:
            continue  # the same row on both sides (not touched by this revision)
        change = "added" if old is None else "removed" if new is None else "changed"
        row: dict[str, Any] = {"revision": rev, "handover": key[0], "record_id": key[1],
                               "change": change}
        for col in ("mines_ap", "mines_at", "mines_total", "area_ha"):
            row[f"{col}_before"] = None if old is None else old[col]
            row[f"{col}_after"] = None if new is None else new[col]
        row["hausdorff_m"] = (_hausdorff_m(old["geometry"], new["geometry"])
                              if change == "changed" else None)
        rows.append(row)
    out = pd.DataFrame(rows, columns=list(DIFF_COLUMNS))
    for col in DIFF_COLUMNS[4:10]:
        out[col] = out[col].astype("Int64")
    for col in DIFF_COLUMNS[10:]:
        out[col] = out[col].astype("float64")
    return out


def _by_key(frame: pd.DataFrame, keys: set) -> dict[tuple, pd.Series]:
    return {(r.handover, r.record_id): r for _, r in frame.iterrows()
            if (r.handover, r.record_id) in keys}


def _hausdorff_m(old: shapely.Geometry, new: shapely.Geometry) -> float | None:
    from minemap.geo.geometry import to_utm

    if old is None or new is None or shapely.is_empty(old) or shapely.is_empty(new):
        return None
    projected, _ = to_utm(np.array([old, new], dtype=object))
    return float(shapely.hausdorff_distance(projected[0], projected[1]))
