"""The store backend interface (DESIGN §4, §10).

A backend keeps minemap's revisioned layers somewhere (a GeoPackage file, a
PostGIS database).  What it must do:

- **Open** by a location (a path or a URL) without touching it; ``exists``
  says whether a store is there.  Creating the schema happens on the first
  write.
- **Read** consistently.  :meth:`StoreBackend.snapshot` gives a
  :class:`StoreView`: every read through it sees one state of the store.
  A view reads a layer at any revision (rows are valid from ``rev_from``
  until closed by ``rev_to``), by bounding boxes and by ids; lists the
  revisions and handovers; counts rows; reads the materialised crossref
  and the derived layers beside it (``remaining``, ``suspects``); and lists
  the rows a revision opened or closed.
- **Write** atomically and serialised.  :meth:`StoreBackend.transaction`
  gives a :class:`StoreWriter` inside one transaction that holds the
  store's write lock (imports queue: a second writer waits, then sees the
  first's revision).  Leaving the block commits; an exception rolls back,
  so nothing of a failed or killed import remains.  A lock held too long
  raises :class:`StoreError` naming the store.
- **Never overwrite**: a writer only inserts rows and closes the validity
  of current rows (sets their ``rev_to``); it never updates data or
  deletes a history row.  The materialised crossref and the derived layers
  (:data:`~minemap.store.revisions.DERIVED`) are the only tables rewritten
  in place (they are derived, and tagged with the revision they describe).
- **Speak its own language**: only the backend speaks SQL.  The revision
  logic (diffs, content hashes, the no-op and removal rules) lives once in
  :mod:`minemap.store.revisions`, which drives a writer's primitives; the
  crossref refresh reads through a view and hands back a
  :class:`~minemap.store.revisions.CrossrefUpdate`.

Geometries cross the interface as shapely objects in EPSG:4326; frames have
the columns of :data:`~minemap.store.revisions.LAYERS` plus ``revision``
(the revision that added the row) and, for spatial layers, ``geometry``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd

from minemap._errors import MinemapError, UsageError
from minemap.store.revisions import (
    DERIVED,
    LAYERS,
    CrossrefUpdate,
    DerivedUpdate,
    ImportPlan,
    ImportResult,
    NothingChanged,
    Refresh,
    apply_plan,
    handovers_at,
)

#: ``bbox=`` of a read: one (minx, miny, maxx, maxy) box or an (n, 4) array of them.
BBox = Sequence[float] | np.ndarray


class DerivedLayer(NamedTuple):
    """A stored derived layer, the revision it describes and its parameters."""

    frame: gpd.GeoDataFrame
    revision: int  # 0: never computed
    params: dict[str, Any]


def check_derived(layer: str) -> None:
    """Refuse a name that is not a derived layer (a programming error)."""
    if layer not in DERIVED:
        raise ValueError(f"no derived layer {layer!r}: choose one of {', '.join(DERIVED)}")


class StoreError(MinemapError):
    """The store could not be written (disk full, read-only, locked)."""

    exit_code = 1


def filter_conditions(layer: str, ids: Collection[Any] | None,
                      where: Mapping[str, Collection[Any]] | None) -> list[tuple[str, list]]:
    """The ``(column, values)`` filters of :meth:`StoreView.read_layer`, checked.

    Raises
    ------
    ValueError
        A column the layer does not have.
    """
    spec = LAYERS[layer]
    conds: list[tuple[str, list]] = [(c, list(v)) for c, v in (where or {}).items()]
    if ids is not None:
        conds.append((spec.id_column, list(ids)))
    for col, _ in conds:
        if col not in spec.columns:
            raise ValueError(f"{layer} has no column {col!r}")
    return conds


class StoreView(ABC):
    """One consistent state of a store, for reading.

    Backends implement the abstract primitives; :meth:`read` and
    :meth:`counts` add the revision check on top of them.
    """

    #: The path or URL of the store, for messages.
    location: str

    @abstractmethod
    def latest_revision(self) -> int:
        """The number of the latest revision this view sees (0 for an empty store)."""

    @abstractmethod
    def read_layer(
        self,
        layer: str,
        revision: int,
        *,
        bbox: BBox | None = None,
        ids: Collection[Any] | None = None,
        where: Mapping[str, Collection[Any]] | None = None,
    ) -> gpd.GeoDataFrame | pd.DataFrame:
        """Rows of ``layer`` valid at ``revision``, in the order they were written.

        Parameters
        ----------
        layer
            One of :data:`~minemap.store.revisions.LAYERS`.
        revision
            A revision number (not checked against the store's range).
        bbox
            Keep rows whose bounding box meets this box (or any of these
            boxes).
        ids
            Keep rows whose :attr:`~LayerSpec.id_column` is one of these.
        where
            Keep rows whose column (the key) is one of the values; several
            columns must all match.
        """

    @abstractmethod
    def changes(self, layer: str, revision: int) -> pd.DataFrame:
        """Rows ``revision`` opened or closed: the layer's columns and ``change``.

        ``change`` is ``"opened"`` (the row is valid from ``revision``) or
        ``"closed"`` (``revision`` ended its validity).  No geometry.
        """

    @abstractmethod
    def revisions(self) -> list[dict[str, Any]]:
        """Every revision, oldest first: :data:`REVISION_COLUMNS`, JSON decoded."""

    @abstractmethod
    def count_rows(self, revision: int) -> dict[str, int]:
        """Rows valid at ``revision``, per layer of :data:`LAYERS`."""

    @abstractmethod
    def read_crossref(self) -> tuple[pd.DataFrame, int]:
        """The materialised crossref and the revision it describes (0: none)."""

    @abstractmethod
    def derived_state(self, layer: str) -> tuple[int, dict[str, Any]]:
        """The revision a derived layer describes (0: never computed) and its parameters."""

    @abstractmethod
    def read_derived(self, layer: str) -> DerivedLayer:
        """A derived layer (:data:`~minemap.store.revisions.DERIVED`) as stored.

        Rows in the order written; the frame has the layer's columns and
        ``geometry`` (EPSG:4326).  The rows and the tag agree (one read).
        """

    @abstractmethod
    def versions(self, layer: str) -> tuple[gpd.GeoDataFrame | pd.DataFrame, pd.DataFrame]:
        """Every version of every row of a layer, in the order written (copy-store).

        Returns the rows as :meth:`read_layer` gives them (``revision`` is the
        revision that added each) and, row for row, their bookkeeping:
        ``content_hash``, ``rev_from`` and ``rev_to`` (0 while current).
        """

    # -- on top of the primitives -------------------------------------------

    def resolve_revision(self, revision: int | None) -> int:
        """``revision``, or the latest when ``None``; a usage error outside the range."""
        latest = self.latest_revision()
        if revision is None:
            return latest
        if revision < 1 or revision > latest:
            raise UsageError(
                f"{self.location}: no revision {revision} (the store has revisions 1 to"
                f" {latest})" if latest else f"{self.location}: the store has no revisions yet"
            )
        return revision

    def read(
        self,
        layer: str,
        *,
        revision: int | None = None,
        bbox: BBox | None = None,
        ids: Collection[Any] | None = None,
        where: Mapping[str, Collection[Any]] | None = None,
    ) -> gpd.GeoDataFrame | pd.DataFrame:
        """Rows of a layer as of a revision (the view's latest by default).

        Parameters
        ----------
        layer
            One of :data:`~minemap.store.revisions.LAYERS`.
        revision
            Store-wide revision number; ``None`` for the latest.
        bbox, ids, where
            Filters, as in :meth:`read_layer`.

        Returns
        -------
        GeoDataFrame or DataFrame
            The layer's columns plus ``revision`` (the revision that added
            each row) and, for spatial layers, ``geometry`` in EPSG:4326.
        """
        if layer not in LAYERS:
            raise UsageError(f"unknown layer {layer!r}: choose one of {', '.join(LAYERS)}")
        rev = self.resolve_revision(revision)
        return self.read_layer(layer, rev, bbox=bbox, ids=ids, where=where)

    def counts(self, *, revision: int | None = None) -> dict[str, int]:
        """Number of rows per layer at a revision (the latest by default)."""
        return self.count_rows(self.resolve_revision(revision))

    def handovers(self, *, revision: int | None = None) -> pd.DataFrame:
        """Handovers and their dates (``handover``, ``handover_date``) at a revision."""
        return handovers_at(self.revisions(), self.resolve_revision(revision))


class StoreWriter(StoreView):
    """A view inside the write transaction, with the primitives an import uses.

    Reads through a writer see the transaction's own writes.
    """

    @abstractmethod
    def current_hashes(self, layer: str, *, handover: str | None = None,
                       revision: int | None = None,
                       ids: Collection[Any] | None = None) -> pd.DataFrame:
        """Current rows: ``row_id`` (the backend's), the key columns, ``content_hash``.

        ``handover`` limits them to one handover (layers with a handover);
        ``revision`` gives the rows valid at that revision instead; ``ids``
        limits them to rows with these values of the layer's id column (the
        last of its key), as ``read_layer`` does.  In key order, then row id.
        """

    @abstractmethod
    def has_current_rows(self, layer: str) -> bool:
        """Whether ``layer`` has any current row (seeing this transaction's writes)."""

    @abstractmethod
    def geometries(self, layer: str, row_ids: Sequence[Any]) -> np.ndarray:
        """The geometries of rows by ``row_id`` (any version), in that order."""

    @abstractmethod
    def close_rows(self, layer: str, row_ids: Sequence[Any], revision: int) -> None:
        """End the validity of current rows at ``revision``."""

    @abstractmethod
    def insert_rows(self, layer: str, values: pd.DataFrame, geometries: np.ndarray | None,
                    hashes: np.ndarray, revision: int) -> None:
        """Add rows valid from ``revision``.

        ``values`` has exactly the layer's columns, typed
        (:func:`~minemap.store.revisions.coerce`); ``geometries`` matches the
        layer's declared type.
        """

    @abstractmethod
    def add_revision(self, record: Mapping[str, Any]) -> None:
        """Record a revision: :data:`REVISION_COLUMNS`, JSON columns as text."""

    @abstractmethod
    def write_crossref(self, update: CrossrefUpdate, revision: int) -> None:
        """Write crossref rows and mark the stored crossref as of ``revision``."""

    @abstractmethod
    def write_derived(self, layer: str, update: DerivedUpdate, revision: int) -> None:
        """Write a derived layer's rows and tag it with ``revision`` and its parameters."""


class StoreBackend(ABC):
    """A minemap store.

    ``StoreBackend(location)`` (also ``minemap.Store``) opens the backend
    for a location, as :func:`minemap.store.open_store` does.  Subclasses
    implement :meth:`snapshot`, :meth:`transaction`, :meth:`exists` and
    ``location``; the reads and :meth:`apply` here are written once on top
    of them.
    """

    #: The path or URL the store was opened with, for messages.
    location: str

    def __new__(cls, *args: Any, **kwargs: Any) -> StoreBackend:
        # ``Store(location)`` (this class) opens the backend the location
        # names, as ``pathlib.Path`` picks its flavour; subclasses construct
        # themselves.
        if cls is StoreBackend:
            from minemap.store import open_store

            return open_store(*args, **kwargs)
        return super().__new__(cls)

    @abstractmethod
    def exists(self) -> bool:
        """Whether a store is there yet (it is created by the first write)."""

    @abstractmethod
    def snapshot(self) -> AbstractContextManager[StoreView]:
        """A consistent view for several reads."""

    @abstractmethod
    def transaction(self) -> AbstractContextManager[StoreWriter]:
        """The write transaction (exclusive, atomic)."""

    # -- reads, each on its own snapshot ------------------------------------

    def latest_revision(self) -> int:
        """The number of the latest revision (0 for an empty store)."""
        with self.snapshot() as view:
            return view.latest_revision()

    def read(
        self,
        layer: str,
        *,
        revision: int | None = None,
        bbox: BBox | None = None,
        ids: Collection[Any] | None = None,
        where: Mapping[str, Collection[Any]] | None = None,
    ) -> gpd.GeoDataFrame | pd.DataFrame:
        """Rows of a layer as of a revision (the latest by default).

        See :meth:`StoreView.read`; several reads that must agree belong in
        one :meth:`snapshot`.
        """
        with self.snapshot() as view:
            return view.read(layer, revision=revision, bbox=bbox, ids=ids, where=where)

    def revisions(self, *, handover: str | None = None) -> list[dict[str, Any]]:
        """The revision history, oldest first, as plain dicts."""
        with self.snapshot() as view:
            revs = view.revisions()
        return [r for r in revs if handover is None or r["handover"] == handover]

    def handovers(self, *, revision: int | None = None) -> pd.DataFrame:
        """Handovers and their dates (``handover``, ``handover_date``) at a revision."""
        with self.snapshot() as view:
            return view.handovers(revision=revision)

    def counts(self, *, revision: int | None = None) -> dict[str, int]:
        """Number of rows per layer at a revision (the latest by default)."""
        with self.snapshot() as view:
            return view.counts(revision=revision)

    def read_crossref(self) -> tuple[pd.DataFrame, int]:
        """The materialised crossref table and the revision it describes."""
        with self.snapshot() as view:
            return view.read_crossref()

    def read_derived(self, layer: str) -> DerivedLayer:
        """A stored derived layer (``remaining``, ``suspects``) and the revision it describes."""
        with self.snapshot() as view:
            return view.read_derived(layer)

    # -- writing -------------------------------------------------------------

    def rederive(self, compute: Callable[[StoreView, int], CrossrefUpdate]) -> int:
        """Recompute the materialised layers of the latest revision (no new revision).

        Parameters
        ----------
        compute
            ``compute(view, revision)`` gives the full update (for example
            :func:`minemap.crossref.refresh.rebuild_derived`).

        Returns
        -------
        int
            The revision they now describe (0: an empty store, nothing done).
        """
        from minemap.store.revisions import write_update

        with self.transaction() as writer:
            revision = writer.latest_revision()
            if revision:
                write_update(writer, compute(writer, revision), revision)
        return revision

    def apply(self, plan: ImportPlan, *, refresh: Refresh | None = None) -> ImportResult:
        """Write an import as one new revision, atomically.

        Parameters
        ----------
        plan
            The validated rows and metadata.
        refresh
            Optional ``refresh(view, revision, touched)`` run inside the same
            transaction; it returns the crossref rows to write
            (:class:`~minemap.store.revisions.CrossrefUpdate`).

        Returns
        -------
        ImportResult
            The new revision and the ids added, changed and removed; or a
            no-op when the import is identical to the latest of its kind.

        Raises
        ------
        DataError
            When the import would remove records without ``allow_removals``.
        StoreError
            When the store cannot be written; it is unchanged.
        """
        try:
            with self.transaction() as writer:
                return apply_plan(writer, plan, refresh)
        except NothingChanged as done:
            return done.result

    def revert(self, to: int, *, handover: str | None = None, kind: str | None = None,
               refresh: Refresh | None = None) -> ImportResult:
        """A new revision whose state equals revision ``to`` for a scope.

        Parameters
        ----------
        to
            The revision to go back to (0: the empty store).
        handover, kind
            The scope: one handover's records, one kind, or the whole store.
        refresh
            As for :meth:`apply`.

        Returns
        -------
        ImportResult
            The new revision and the ids it added, changed and removed; a
            no-op when the scope already equals revision ``to``.
        """
        from minemap.store.undo import apply_revert

        try:
            with self.transaction() as writer:
                return apply_revert(writer, to, handover=handover, kind=kind, refresh=refresh)
        except NothingChanged as done:
            return done.result

    def upgrade(self) -> str | None:
        """Migrate a store of an older minemap to this one's schema, keeping a backup.

        Returns
        -------
        str or None
            Where the backup is; ``None`` when the store was already current.
        """
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.location!r})"


def iter_chunks(values: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """``values`` in slices of at most ``size`` (bound parameters per statement)."""
    for i in range(0, len(values), size):
        yield values[i:i + size]
