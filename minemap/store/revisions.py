"""Revision logic shared by every store backend (DESIGN §4, §5).

What a revision is, written once, above the backends: which rows an import
adds, changes and removes (content hashes of the meaningful columns), when
an import is a no-op, when it must be refused for its removals, and how the
rows of a new revision are recorded.  A backend only offers the primitive
operations of :class:`minemap.store.base.StoreWriter` (current hashes, close
rows, insert rows, record the revision); :func:`apply_plan` drives them.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from minemap._errors import DataError
from minemap._memory import release_freed_memory
from minemap.store.gpkg_table import CROSSREF_REAL, crossref_frame  # noqa: F401 - re-exported
from minemap.store.layers import (  # noqa: F401 - re-exported
    DERIVED,
    JSON_REVISION_COLUMNS,
    KINDS,
    LAYERS,
    REVISION_COLUMNS,
    LayerSpec,
    coerce,
    content_hashes,
    derived_frame,
    derived_geometries,
    derived_values,
    key_tuples,
    layer_frame,
    plain_rows,
    to_multi,
)

if TYPE_CHECKING:
    from minemap.store.base import StoreView, StoreWriter


_CROSSREF_REAL = CROSSREF_REAL


# --------------------------------------------------------------------------- plans


@dataclass
class ImportPlan:
    """What one import writes: rows per layer and the revision's metadata."""

    kind: str
    frames: dict[str, pd.DataFrame]
    sources: list[str]
    sha256: list[str]
    options: dict[str, Any] = field(default_factory=dict)
    handover: str = ""
    handover_date: str = ""
    source_crs: list[str] = field(default_factory=list)
    transformation: list[str] = field(default_factory=list)
    replace: bool = False  # replace the whole set (scoped by handover for records)
    allow_removals: bool = False


@dataclass
class ImportResult:
    """Outcome of an import."""

    revision: int | None  # None: no-op
    read: int = 0  # rows the sources held
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    noop_reason: str = ""

    @property
    def noop(self) -> bool:
        return self.revision is None


@dataclass
class Touched:
    """What a revision touched, for the incremental crossref refresh.

    Attributes
    ----------
    geometries
        Per layer, the geometries of rows the revision closed (old positions)
        and inserted (new positions).
    inserted
        Per spatial layer, the rows inserted (a GeoDataFrame with the
        layer's columns, ``revision`` and ``geometry``).
    complete
        Spatial layers whose current rows are exactly those inserted: the
        layer held none before (a first import), so nothing need be read
        back.
    """

    geometries: dict[str, list] = field(default_factory=dict)
    inserted: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    complete: set[str] = field(default_factory=set)


@dataclass
class CrossrefUpdate:
    """Rows of the materialised crossref for a backend to write.

    Attributes
    ----------
    table
        New rows (the :data:`~minemap.records.schema.CROSSREF_COLUMNS`).
    replace
        Keys ``(handover, record_id)`` whose stored rows are deleted first
        (by default every key in ``table``).
    full
        Replace the whole stored table.
    derived
        Updates of the derived layers (:data:`DERIVED`) of the same revision.
    """

    table: pd.DataFrame
    replace: list[tuple[str, str]] | None = None
    full: bool = False
    derived: dict[str, DerivedUpdate] = field(default_factory=dict)

    def keys_to_delete(self) -> list[tuple[str, str]]:
        """The keys whose stored rows go before ``table`` is written."""
        if self.replace is not None:
            return list(self.replace)
        if not len(self.table):
            return []
        return list(self.table[["handover", "record_id"]].itertuples(index=False, name=None))


@dataclass
class DerivedUpdate:
    """Rows of a derived layer (:data:`DERIVED`) for a backend to write.

    Attributes
    ----------
    frame
        New rows (the layer's columns and ``geometry``); ``None`` when the
        layer is unchanged by the revision and only its tag moves on.
    replace
        Keys (tuples of the layer's key) whose stored rows are deleted
        first; ``None`` with ``full`` False means every key in ``frame``.
    full
        Replace the whole stored layer.
    params
        The parameters the layer was computed with (JSON-able), stored with
        its tag so that a reader knows whether it answers its question.
    """

    frame: gpd.GeoDataFrame | None
    replace: list[tuple] | None = None
    full: bool = False
    params: dict[str, Any] = field(default_factory=dict)

    def keys_to_delete(self, layer: str) -> list[tuple]:
        """The keys whose stored rows go before ``frame`` is written."""
        if self.replace is not None:
            return list(self.replace)
        if self.frame is None or not len(self.frame):
            return []
        key = list(DERIVED[layer].key)
        return list(self.frame[key].itertuples(index=False, name=None))


#: ``refresh(view, revision, touched)``: the crossref rows a revision changes.
Refresh = Callable[["StoreView", int, Touched], "CrossrefUpdate | None"]


class NothingChanged(Exception):  # noqa: N818 - a signal, not an error
    """Rolls back an import that would change no row."""

    def __init__(self, result: ImportResult) -> None:
        super().__init__(result.noop_reason)
        self.result = result


# --------------------------------------------------------------------------- hashes


_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".fieldnames.csv")


def _sha256_bytes(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a source.

    A ``.shp`` is one file of a set: its attributes live in the ``.dbf`` and
    its CRS in the ``.prj``, so the digest covers every part present (a
    change to any part is a different source).  Other files: their bytes.
    """
    path = Path(path)
    if path.suffix.lower() != ".shp":
        return _sha256_bytes(path)
    h = hashlib.sha256()
    for ext in _SHAPEFILE_PARTS:
        for part in (path.with_name(path.stem + ext), path.with_name(path.stem + ext.upper())):
            if part.exists():
                h.update(f"{ext}:{_sha256_bytes(part)};".encode())
                break
    return h.hexdigest()


# --------------------------------------------------------------------------- frames


def write_update(w: StoreWriter, update: CrossrefUpdate, revision: int) -> None:
    """Write a refresh's crossref and derived layers through a backend's writer."""
    w.write_crossref(update, revision)
    for layer, derived in update.derived.items():
        w.write_derived(layer, derived, revision)


def revision_record(row: dict[str, Any]) -> dict[str, Any]:
    """A revision as a plain dict, its JSON columns decoded."""
    d = dict(row)
    for c in JSON_REVISION_COLUMNS:
        d[c] = json.loads(d[c]) if d.get(c) else ({} if c == "options" else [])
    return d


def handovers_at(revisions: list[dict[str, Any]], revision: int) -> pd.DataFrame:
    """Handovers known at ``revision`` and their dates, from the revision log.

    A handover exists from its first records import; its date is the last
    one given up to ``revision`` (an import without a date keeps the known
    one); a revert restores the handovers of its scope as they were.
    Derived, not stored, so every revision shows exactly its own handovers
    (issue 15 item 6).
    """
    dates: dict[str, str] = {}
    after: dict[int, dict[str, str]] = {0: {}}
    for r in sorted(revisions, key=lambda r: r["revision"]):
        if r["revision"] > revision:
            break
        if r["kind"] == "records":
            if r["handover_date"] or r["handover"] not in dates:
                dates[r["handover"]] = r["handover_date"] or ""
        elif reverts_scope(r, "records", r["options"].get("handover", "")):
            to = int(r["options"]["revert_to"])
            target = after[max(k for k in after if k <= to)]
            h = r["options"].get("handover")
            if h:
                dates.pop(h, None)
                if h in target:
                    dates[h] = target[h]
            else:
                dates = dict(target)
        after[r["revision"]] = dict(dates)
    frame = pd.DataFrame(sorted(dates.items(), key=lambda hd: (hd[1], hd[0])),
                         columns=["handover", "handover_date"])
    return frame.astype(object)


def now() -> str:
    """The time stamp of a revision (UTC, seconds)."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


# --------------------------------------------------------------------------- rules


def reverts_scope(record: dict[str, Any], kind: str, handover: str = "") -> bool:
    """Whether a revert revision covers ``kind`` (and, for records, ``handover``)."""
    if record["kind"] != "revert":
        return False
    opts = record["options"]
    r_kind = opts.get("kind") or ("records" if opts.get("handover") else "")
    if r_kind not in ("", kind):
        return False
    return kind != "records" or opts.get("handover", "") in ("", handover)


def noop_reason(revisions: list[dict[str, Any]], plan: ImportPlan) -> str:
    """Why ``plan`` is a no-op, or ``""``.

    An import is a no-op when it is identical to the latest import of its
    kind (and, for records, of its handover): the same sha256 of every source
    and the same options (DESIGN §5).  A revert of that scope since then
    counts as the latest: after it, importing the same file again is real.
    """
    same_scope = [r for r in revisions
                  if (r["kind"] == plan.kind
                      and (plan.kind != "records" or r["handover"] == plan.handover))
                  or reverts_scope(r, plan.kind, plan.handover)]
    if not same_scope:
        return ""
    last = max(same_scope, key=lambda r: r["revision"])
    options = json.loads(json.dumps(plan.options, sort_keys=True))
    if last["kind"] == "revert" or last["sha256"] != plan.sha256 or last["options"] != options:
        return ""
    what = f"handover {plan.handover}" if plan.kind == "records" else f"{plan.kind}"
    return f"identical to the latest {what} import; nothing to do"


#: Ids a refusal names before it says how many more there are.
_MAX_IDS_LISTED = 50


def check_removals(plan: ImportPlan, removed: list[str]) -> None:
    """Refuse a records import that removes any record without ``allow_removals``.

    Records not in the sources of a (replacing) import are removed from
    their handover.  A file that lacks some fields by mistake must not
    silently remove them, so any removal is explicit (DESIGN §5).

    Raises
    ------
    DataError
        Naming the sources and every id that would be removed, and how to
        allow it.
    """
    if plan.kind != "records" or not plan.replace or plan.allow_removals or not removed:
        return
    ids = sorted(removed)
    listed = ", ".join(ids[:_MAX_IDS_LISTED])
    if len(ids) > _MAX_IDS_LISTED:
        listed += f" and {len(ids) - _MAX_IDS_LISTED} more"
    what = "record" if len(ids) == 1 else "records"
    raise DataError(
        f"{', '.join(plan.sources)}: this import would remove {len(ids)} {what} of handover"
        f" {plan.handover}: {listed}; nothing was written; pass --allow-removals to remove"
        " them, or --add to keep them"
    )


@dataclass
class LayerDiff:
    """How one layer's current rows become the import's rows."""

    insert: list[int]  # positions in the import's frame
    close: list[Any]  # backend row ids of current rows to close
    added: list[str]
    changed: list[str]
    removed: list[str]
    n_current: int  # current rows in scope before the import


def diff_layer(
    layer: str, keys: list[tuple], hashes: np.ndarray, current: pd.DataFrame, *, replace: bool
) -> LayerDiff:
    """Rows to insert and close so that the layer holds the import's rows.

    Parameters
    ----------
    keys
        The import's row keys (tuples of :attr:`LayerSpec.key` values).
    hashes
        The import's content hashes, one per key.
    current
        The current rows in scope: ``row_id``, the key columns and
        ``content_hash`` (:meth:`StoreWriter.current_hashes`).
    replace
        The import replaces the scope's set; rows it lacks are removed.
        Vertices and mine rows of a record present in the import are always
        replaced by the import's (a record's vertices are one set).
    """
    spec = LAYERS[layer]
    label = (lambda k: k[-1]) if layer == "minefields" else (lambda k: "/".join(map(str, k)))
    if not len(current):
        # Nothing in scope yet (a first import): every row is added, in order.
        return LayerDiff(list(range(len(keys))), [], [label(k) for k in keys], [], [], 0)
    cur_keys = key_tuples(current, spec.key)
    existing = dict(zip(cur_keys, zip(current["row_id"], current["content_hash"])))
    out = LayerDiff([], [], [], [], [], len(current))
    for i, k in enumerate(keys):
        old = existing.get(k)
        if old is None:
            out.insert.append(i)
            out.added.append(label(k))
        elif old[1] != hashes[i]:
            out.close.append(old[0])
            out.insert.append(i)
            out.changed.append(label(k))
    per_record = layer in ("vertices", "mine_rows")
    if replace or per_record:
        new_keys = set(keys)
        records = {(k[0], k[1]) for k in keys} if per_record and not replace else None
        for k, (row_id, _) in existing.items():
            if k in new_keys:
                continue
            if records is not None and (k[0], k[1]) not in records:
                continue  # --add: only records present in this import change
            out.close.append(row_id)
            out.removed.append(label(k))
    return out


# --------------------------------------------------------------------------- apply


def apply_plan(w: StoreWriter, plan: ImportPlan, refresh: Refresh | None) -> ImportResult:
    """Write ``plan`` as one new revision through a backend's writer.

    Runs inside the backend's write transaction; raising rolls it back.

    Raises
    ------
    NothingChanged
        When no row would change (the caller rolls back and reports a no-op).
    DataError
        When the removal rule refuses the import.
    """
    layers = KINDS[plan.kind][:1] if plan.kind == "records" else KINDS[plan.kind]
    n_read = sum(len(plan.frames[name]) for name in layers if name in plan.frames)
    reason = noop_reason(w.revisions(), plan)
    if reason:
        raise NothingChanged(ImportResult(revision=None, read=n_read, noop_reason=reason))
    revision = w.latest_revision() + 1
    main_layer = KINDS[plan.kind][0]
    added: list[str] = []
    changed: list[str] = []
    removed: list[str] = []
    touched = Touched()
    for layer in KINDS[plan.kind]:
        frame = plan.frames.get(layer)
        if frame is None:
            continue
        diff, geoms, inserted, complete = _write_layer(w, layer, frame, plan, revision)
        touched.geometries[layer] = geoms
        if inserted is not None:
            touched.inserted[layer] = inserted
            if complete:
                touched.complete.add(layer)
        # A layer's encodings, hashes and diff are garbage now; the next layer
        # (a million vertices for 100,000 fields) and the refresh come on top.
        release_freed_memory()
        if layer == main_layer:
            added, changed, removed = diff.added, diff.changed, diff.removed
            check_removals(plan, removed)
        elif plan.kind == "clearance":
            added += diff.added
            changed += diff.changed
            removed += diff.removed
    if plan.kind != "records" and not (added or changed or removed):
        # Rows keyed by id that are all already there, as they are:
        # re-importing a report (or a clearance batch) changes nothing and
        # uses no revision.
        raise NothingChanged(ImportResult(
            revision=None, read=n_read,
            noop_reason=f"every {plan.kind} row is already in the store, unchanged;"
            " nothing to do"))
    w.add_revision({
        "revision": revision, "kind": plan.kind, "handover": plan.handover,
        "handover_date": plan.handover_date, "sources": json.dumps(plan.sources),
        "sha256": json.dumps(plan.sha256), "options": json.dumps(plan.options, sort_keys=True),
        "imported_at": now(), "source_crs": json.dumps(plan.source_crs),
        "transformation": json.dumps(plan.transformation), "added": json.dumps(added),
        "changed": json.dumps(changed), "removed": json.dumps(removed), "message": "",
    })
    if refresh is not None:
        update = refresh(w, revision, touched)
        if update is not None:
            write_update(w, update, revision)
    return ImportResult(revision=revision, read=n_read, added=added, changed=changed,
                        removed=removed)


def _write_layer(w: StoreWriter, layer: str, frame: pd.DataFrame, plan: ImportPlan,
                 revision: int) -> tuple[LayerDiff, list, gpd.GeoDataFrame | None, bool]:
    """Write one layer's diff; with whether its current rows are now exactly those inserted."""
    spec = LAYERS[layer]
    frame = frame.reset_index(drop=True)
    values = coerce(frame, spec)
    geoms = np.asarray(frame.geometry.values, dtype=object) if spec.geometry_type else None
    hashes = content_hashes(
        pd.concat([values, frame[["geometry"]]], axis=1) if spec.geometry_type else values, spec
    )
    keys = key_tuples(values, spec.key)
    # Current rows in scope: the handover for records; every row otherwise
    # (upserted kinds are matched by id; replaced kinds lose what is absent).
    scope = plan.handover if plan.kind == "records" else None
    # Rows keyed by one id and upserted (releases, items, incidents) are
    # matched by id alone: only the batch's own ids are looked up, not every
    # current row (a weekly batch against a season's releases).
    upsert = not plan.replace and scope is None and len(spec.key) == 1
    current = w.current_hashes(layer, handover=scope,
                               ids=[k[0] for k in keys] if upsert else None)
    diff = diff_layer(layer, keys, hashes, current, replace=plan.replace)
    # The layer held no rows before (a records import's scope is one
    # handover, so others' rows may be there).
    complete = (scope is None and not len(current)
                and not (upsert and w.has_current_rows(layer)))
    geoms_touched, inserted = write_diff(w, layer, diff, values, geoms, hashes, revision)
    return diff, geoms_touched, inserted, complete


def write_diff(
    w: StoreWriter, layer: str, diff: LayerDiff, values: pd.DataFrame,
    geoms: np.ndarray | None, hashes: np.ndarray, revision: int,
) -> tuple[list, gpd.GeoDataFrame | None]:
    """Close and insert the rows of ``diff``.

    Returns
    -------
    (list, GeoDataFrame or None)
        The geometries touched (closed rows' old, inserted rows' new) and
        the rows inserted, for the crossref refresh (spatial layers).
    """
    spec = LAYERS[layer]
    old_geoms = list(w.geometries(layer, diff.close)) if spec.geometry_type and diff.close else []
    if diff.close:
        w.close_rows(layer, diff.close, revision)
    idx = np.array(diff.insert, dtype=np.int64)
    if len(idx):
        w.insert_rows(layer, values.iloc[idx].reset_index(drop=True),
                      to_multi(geoms[idx], spec.geometry_type) if geoms is not None else None,
                      hashes[idx], revision)
    if geoms is None:
        return [], None
    # The rows written, as a frame, so the crossref refresh need not read
    # them back.
    inserted = gpd.GeoDataFrame(
        values.iloc[idx].assign(revision=revision).reset_index(drop=True),
        geometry=list(geoms[idx]), crs="EPSG:4326",
    )
    return [*old_geoms, *list(geoms[idx])], inserted
