"""The PostGIS store backend: a team's store in a PostgreSQL database (DESIGN §10).

The layout is the GeoPackage store's (:mod:`minemap.store.gpkg`), in the
database schema ``minemap`` (:mod:`minemap.store.postgis_schema`): history
tables ``history_<layer>`` with ``rev_from``/``rev_to``, current-state
views under the layers' plain names, ``revisions`` and the
materialised crossref.  Geometries are EPSG:4326 with GiST indexes.  Every
value is computed in Python by the same code as for the GeoPackage (areas
stay geodesic); the database only keeps rows.

- **Writes**: one transaction per import, holding a transaction-scoped
  advisory lock (``pg_advisory_xact_lock``), so imports from several
  machines queue and each lands as its own revision; a killed client's
  transaction is rolled back by the server, leaving nothing.
- **Reads**: a snapshot is a ``REPEATABLE READ READ ONLY`` transaction, so
  every read of a command sees one state of the store.
- **History**: triggers refuse UPDATE and DELETE of history rows unless
  minemap's revision step sets ``minemap.writer`` for its transaction, and
  only a row's closing passes even then.

SQL is parameterised; identifiers go through :mod:`psycopg.sql`.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import shapely
from psycopg import sql

from minemap.records import schema
from minemap.store import postgis_schema as ddl
from minemap.store.base import (
    BBox,
    DerivedLayer,
    StoreBackend,
    StoreError,
    StoreView,
    StoreWriter,
    check_derived,
    filter_conditions,
)
from minemap.store.layers import box_array
from minemap.store.postgis_schema import columns, ident
from minemap.store.revisions import (
    DERIVED,
    LAYERS,
    REVISION_COLUMNS,
    CrossrefUpdate,
    DerivedUpdate,
    crossref_frame,
    derived_frame,
    derived_geometries,
    derived_values,
    layer_frame,
    revision_record,
)

#: Seconds an import waits for another import (or a client's lock) to finish.
LOCK_TIMEOUT_S = 600.0

#: The advisory lock key of the store's imports (one store per database).
LOCK_KEY = zlib.crc32(b"minemap store imports")

__all__ = ["LOCK_KEY", "LOCK_TIMEOUT_S", "PostGISStore", "redact"]


def redact(url: str) -> str:
    """A URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _wkb(values: Sequence[bytes | None]) -> np.ndarray:
    return shapely.from_wkb(np.array([None if v is None else bytes(v) for v in values],
                                     dtype=object))


def _ewkb_hex(geoms: np.ndarray) -> list[str | None]:
    """Hex EWKB with SRID 4326: what PostGIS's geometry input reads in COPY."""
    geoms = shapely.set_srid(np.asarray(geoms, dtype=object), 4326)
    return list(shapely.to_wkb(geoms, hex=True, include_srid=True, flavor="extended"))


def _plain(v: Any) -> Any:
    # As in the GeoPackage (SQLite has no NaN): a missing number is NULL.
    return None if isinstance(v, float) and v != v else v


class _View(StoreView):
    """Reads through one connection, inside the caller's transaction."""

    def __init__(self, conn: psycopg.Connection | None, location: str,
                 pinned: int | None = None) -> None:
        self.conn = conn
        self.location = location
        self.pinned = pinned
        self._tables = ddl.store_tables(conn) if conn is not None else set()

    def _has(self, name: str) -> bool:
        return name in self._tables

    def _max_revision(self) -> int:
        if not self._has("revisions"):
            return 0
        (n,) = self.conn.execute(
            sql.SQL("SELECT COALESCE(MAX(revision), 0) FROM {}").format(ident("revisions"))
        ).fetchone()
        return int(n)

    def latest_revision(self) -> int:
        return self.pinned if self.pinned is not None else self._max_revision()

    def read_layer(
        self,
        layer: str,
        revision: int,
        *,
        bbox: BBox | None = None,
        ids: Collection[Any] | None = None,
        where: Mapping[str, Collection[Any]] | None = None,
    ) -> gpd.GeoDataFrame | pd.DataFrame:
        spec = LAYERS[layer]
        conds = filter_conditions(layer, ids, where)
        if bbox is not None and not spec.geometry_type:
            raise ValueError(f"{layer} has no geometry to filter by bbox")
        if not self._has(f"history_{layer}") or any(not v for _, v in conds):
            return layer_frame(layer, [], None)
        table = ident(f"history_{layer}")
        geom = sql.SQL("ST_AsBinary(v.geom), ") if spec.geometry_type else sql.SQL("")
        names = sql.SQL(", ").join(sql.SQL("v.{}").format(sql.Identifier(c))
                                   for c in spec.columns)
        query = sql.SQL("SELECT v.fid, {}{}, v.rev_from FROM {} v").format(geom, names, table)
        filters = [sql.SQL("v.rev_from <= %s AND (v.rev_to IS NULL OR v.rev_to > %s)")]
        params: list[Any] = [revision, revision]
        for col, values in conds:
            filters.append(sql.SQL("v.{} = ANY(%s)").format(sql.Identifier(col)))
            params.append(_typed(values, spec.columns[col]))
        if bbox is not None:
            # One GiST index probe per box; the rows meeting any box.
            b = box_array(bbox)
            filters.append(sql.SQL(
                "v.fid IN (SELECT h.fid FROM unnest(%s::float8[], %s::float8[], %s::float8[],"
                " %s::float8[]) AS b(x0, y0, x1, y1) CROSS JOIN LATERAL (SELECT fid FROM {} w"
                " WHERE w.geom && ST_MakeEnvelope(b.x0, b.y0, b.x1, b.y1, 4326)) h)"
            ).format(table))
            params += [b[:, i].tolist() for i in range(4)]
        query += sql.SQL(" WHERE ") + sql.SQL(" AND ").join(filters) + sql.SQL(" ORDER BY v.fid")
        rows = self.conn.execute(query, params).fetchall()
        skip = 2 if spec.geometry_type else 1
        geoms = _wkb([r[1] for r in rows]) if spec.geometry_type and rows else None
        return layer_frame(layer, [r[skip:] for r in rows], geoms)

    def changes(self, layer: str, revision: int) -> pd.DataFrame:
        spec = LAYERS[layer]
        cols = [*spec.columns, "change"]
        if not self._has(f"history_{layer}"):
            return pd.DataFrame(columns=cols)
        table = ident(f"history_{layer}")
        rows = self.conn.execute(sql.SQL(
            "SELECT {n}, 'opened' FROM {t} WHERE rev_from = %s"
            " UNION ALL SELECT {n}, 'closed' FROM {t} WHERE rev_to = %s").format(
                n=columns(spec.columns), t=table), (revision, revision)).fetchall()
        return pd.DataFrame(rows, columns=cols)

    def revisions(self) -> list[dict[str, Any]]:
        if not self._has("revisions"):
            return []
        rows = self.conn.execute(sql.SQL(
            "SELECT {} FROM {} WHERE revision <= %s ORDER BY revision").format(
                columns(REVISION_COLUMNS), ident("revisions")), (self.latest_revision(),)
        ).fetchall()
        return [revision_record(dict(zip(REVISION_COLUMNS, row))) for row in rows]

    def count_rows(self, revision: int) -> dict[str, int]:
        out = {}
        for name in LAYERS:
            if not self._has(f"history_{name}"):
                out[name] = 0
                continue
            (n,) = self.conn.execute(sql.SQL(
                "SELECT COUNT(*) FROM {} WHERE rev_from <= %s AND (rev_to IS NULL OR rev_to > %s)"
            ).format(ident(f"history_{name}")), (revision, revision)).fetchone()
            out[name] = int(n)
        return out

    def read_crossref(self) -> tuple[pd.DataFrame, int]:
        if not self._has("crossref_current"):
            return crossref_frame([]), 0
        # Inside the view's transaction: the rows and their revision agree.
        rows = self.conn.execute(sql.SQL("SELECT {} FROM {} ORDER BY fid").format(
            columns(schema.CROSSREF_COLUMNS), ident("crossref_current"))).fetchall()
        state = self.conn.execute(sql.SQL("SELECT revision FROM {}").format(
            ident("crossref_state"))).fetchone()
        return crossref_frame(rows), int(state[0]) if state else 0

    def derived_state(self, layer: str) -> tuple[int, dict[str, Any]]:
        check_derived(layer)
        if not self._has("derived_state"):
            return 0, {}
        row = self.conn.execute(sql.SQL("SELECT revision, params FROM {} WHERE layer = %s"
                                        ).format(ident("derived_state")), (layer,)).fetchone()
        return (int(row[0]), json.loads(row[1])) if row else (0, {})

    def read_derived(self, layer: str) -> DerivedLayer:
        check_derived(layer)
        if not self._has(layer):
            return DerivedLayer(derived_frame(layer, [], None), 0, {})
        # Inside the view's transaction: the rows and their tag agree.
        rows = self.conn.execute(sql.SQL("SELECT ST_AsBinary(geom), {} FROM {} ORDER BY fid"
                                         ).format(columns(DERIVED[layer].columns),
                                                  ident(layer))).fetchall()
        geoms = _wkb([r[0] for r in rows]) if rows else None
        revision, params = self.derived_state(layer)
        return DerivedLayer(derived_frame(layer, [r[1:] for r in rows], geoms), revision, params)

    def versions(self, layer: str) -> tuple[gpd.GeoDataFrame | pd.DataFrame, pd.DataFrame]:
        spec = LAYERS[layer]
        if not self._has(f"history_{layer}"):
            return layer_frame(layer, [], None), pd.DataFrame(
                columns=["content_hash", "rev_from", "rev_to"])
        geom = sql.SQL("ST_AsBinary(geom), ") if spec.geometry_type else sql.SQL("")
        rows = self.conn.execute(sql.SQL(
            "SELECT {}{}, rev_from, content_hash, COALESCE(rev_to, 0) FROM {} ORDER BY fid"
        ).format(geom, columns(spec.columns), ident(f"history_{layer}"))).fetchall()
        skip = 1 if spec.geometry_type else 0
        geoms = _wkb([r[0] for r in rows]) if spec.geometry_type and rows else None
        frame = layer_frame(layer, [r[skip:-2] for r in rows], geoms)
        book = pd.DataFrame([(r[-2], r[-3], r[-1]) for r in rows],
                            columns=["content_hash", "rev_from", "rev_to"])
        return frame, book


def _typed(values: list, typ: str) -> list:
    """Filter values as plain Python values of the column's type.

    A text id given as a number matches, as it does in SQLite; numpy
    scalars become Python numbers, which the driver adapts.
    """
    return [{"str": str, "int": int, "float": float, "bool": bool}[typ](v) for v in values]


class _Writer(_View, StoreWriter):
    """The primitives of an import, inside its locked transaction."""

    def has_current_rows(self, layer: str) -> bool:
        if not self._has(f"history_{layer}"):
            return False
        return self.conn.execute(sql.SQL("SELECT 1 FROM {} WHERE rev_to IS NULL LIMIT 1").format(
            ident(f"history_{layer}"))).fetchone() is not None

    def current_hashes(self, layer: str, *, handover: str | None = None,
                       revision: int | None = None,
                       ids: Collection[Any] | None = None) -> pd.DataFrame:
        spec = LAYERS[layer]
        # Key order, byte-wise as SQLite compares text, so that both backends
        # list an import's removals in one order.
        order = sql.SQL(", ").join(
            sql.SQL('{} COLLATE "C"').format(sql.Identifier(k))
            if spec.columns[k] == "str" else sql.Identifier(k) for k in spec.key)
        query = sql.SQL("SELECT fid, {}, content_hash FROM {} WHERE ").format(
            columns(spec.key), ident(f"history_{layer}"))
        params: tuple = ()
        if revision is None:
            query += sql.SQL("rev_to IS NULL")
        else:
            query += sql.SQL("rev_from <= %s AND (rev_to IS NULL OR rev_to > %s)")
            params = (revision, revision)
        if handover is not None:
            query += sql.SQL(" AND handover = %s")
            params += (handover,)
        if ids is not None:
            query += sql.SQL(" AND {} = ANY(%s)").format(sql.Identifier(spec.id_column))
            params += (_typed(sorted(set(ids)), spec.columns[spec.id_column]),)
        rows = self.conn.execute(query + sql.SQL(" ORDER BY {}, fid").format(order),
                                 params).fetchall()
        return pd.DataFrame(rows, columns=["row_id", *spec.key, "content_hash"])

    def geometries(self, layer: str, row_ids: Sequence[Any]) -> np.ndarray:
        found = dict(self.conn.execute(sql.SQL(
            "SELECT fid, ST_AsBinary(geom) FROM {} WHERE fid = ANY(%s)").format(
                ident(f"history_{layer}")), ([int(i) for i in row_ids],)).fetchall())
        return _wkb([found[int(i)] for i in row_ids])

    def close_rows(self, layer: str, row_ids: Sequence[Any], revision: int) -> None:
        self.conn.execute(sql.SQL(
            "UPDATE {} SET rev_to = %s WHERE fid = ANY(%s) AND rev_to IS NULL").format(
                ident(f"history_{layer}")), (revision, [int(i) for i in row_ids]))

    def insert_rows(self, layer: str, values: pd.DataFrame, geometries: np.ndarray | None,
                    hashes: np.ndarray, revision: int) -> None:
        spec = LAYERS[layer]
        cols = list(spec.columns)
        rows = [[_plain(v) for v in r] for r in values[cols].to_numpy(dtype=object).tolist()]
        if spec.geometry_type:
            rows = [[g, *r] for g, r in zip(_ewkb_hex(geometries), rows)]
            cols = ["geom", *cols]
        table = ident(f"history_{layer}")
        (base,) = self.conn.execute(
            sql.SQL("SELECT COALESCE(MAX(fid), 0) FROM {}").format(table)).fetchone()
        with self.conn.cursor().copy(sql.SQL(
            "COPY {} (fid, {}, content_hash, rev_from, rev_to) FROM STDIN").format(
                table, columns(cols))) as copy:
            for i, (r, h) in enumerate(zip(rows, hashes)):
                copy.write_row([int(base) + 1 + i, *r, str(h), revision, None])

    def add_revision(self, record: Mapping[str, Any]) -> None:
        self.conn.execute(sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
            ident("revisions"), columns(REVISION_COLUMNS),
            sql.SQL(", ").join(sql.Placeholder() * len(REVISION_COLUMNS))),
            [record[c] for c in REVISION_COLUMNS])

    def write_crossref(self, update: CrossrefUpdate, revision: int) -> None:
        cols = list(schema.CROSSREF_COLUMNS)
        table = update.table
        target = ident("crossref_current")
        if update.full:
            self.conn.execute(sql.SQL("DELETE FROM {}").format(target))
        else:
            keys = update.keys_to_delete()
            if keys:
                self.conn.execute(sql.SQL(
                    "DELETE FROM {} c USING unnest(%s::text[], %s::text[]) AS k(h, r)"
                    " WHERE c.handover = k.h AND c.record_id = k.r").format(target),
                    ([str(k[0]) for k in keys], [str(k[1]) for k in keys]))
        if len(table):
            data = table[cols].astype(object).where(table[cols].notna(), None)
            with self.conn.cursor().copy(sql.SQL("COPY {} ({}, revision) FROM STDIN").format(
                    target, columns(cols))) as copy:
                for row in data.itertuples(index=False, name=None):
                    copy.write_row([*map(_plain, row), revision])
        self.conn.execute(sql.SQL(
            "INSERT INTO {} (id, revision) VALUES (1, %s)"
            " ON CONFLICT (id) DO UPDATE SET revision = excluded.revision").format(
                ident("crossref_state")), (revision,))


    def write_derived(self, layer: str, update: DerivedUpdate, revision: int) -> None:
        check_derived(layer)
        spec = DERIVED[layer]
        target = ident(layer)
        if update.frame is not None:
            if update.full:
                self.conn.execute(sql.SQL("DELETE FROM {}").format(target))
            else:
                keys = update.keys_to_delete(layer)
                if keys:
                    names = [f"k{i}" for i in range(len(spec.key))]
                    self.conn.execute(sql.SQL(
                        "DELETE FROM {} c USING unnest({}) AS k({}) WHERE {}").format(
                            target,
                            sql.SQL(", ").join(sql.SQL("%s::text[]") for _ in names),
                            sql.SQL(", ").join(map(sql.Identifier, names)),
                            sql.SQL(" AND ").join(
                                sql.SQL("c.{} = k.{}").format(sql.Identifier(c),
                                                              sql.Identifier(n))
                                for c, n in zip(spec.key, names))),
                        [[str(k[i]) for k in keys] for i in range(len(names))])
            if len(update.frame):
                geoms = _ewkb_hex(derived_geometries(layer, update.frame))
                with self.conn.cursor().copy(sql.SQL("COPY {} (geom, {}) FROM STDIN").format(
                        target, columns(spec.columns))) as copy:
                    for g, row in zip(geoms, derived_values(layer, update.frame)):
                        copy.write_row([g, *row])
        self.conn.execute(sql.SQL(
            "INSERT INTO {} (layer, revision, params) VALUES (%s, %s, %s)"
            " ON CONFLICT (layer) DO UPDATE SET revision = excluded.revision,"
            " params = excluded.params").format(ident("derived_state")),
            (layer, int(revision), json.dumps(update.params, sort_keys=True)))


class PostGISStore(StoreBackend):
    """A minemap store in a PostgreSQL + PostGIS database.

    Parameters
    ----------
    url
        ``postgresql://user[:password]@host[:port]/dbname`` (libpq's URL;
        its query options, such as ``sslmode``, pass through).  The first
        import creates the store's schema in the database.
    """

    def __init__(self, url: str) -> None:
        self.url = str(url)
        self.location = redact(self.url)

    def _connect(self) -> psycopg.Connection:
        try:
            return psycopg.connect(self.url, autocommit=True,
                                   application_name="minemap", connect_timeout=30)
        except psycopg.Error as exc:
            msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StoreError(f"{self.location}: cannot connect to the PostGIS store: {msg}"
                             ) from None

    def exists(self) -> bool:
        """Whether the database holds a store (the schema's revision table)."""
        with self.snapshot() as view:
            return view._has("revisions")

    @contextmanager
    def snapshot(self) -> Iterator[StoreView]:
        """A view inside one ``REPEATABLE READ READ ONLY`` transaction.

        Every read through it sees the database as it was at its first read,
        while imports go on; it takes no lock that blocks them.
        """
        conn = self._connect()
        try:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            view = _View(conn, self.location)
            view.pinned = view._max_revision()
            yield view
            conn.execute("COMMIT")
        finally:
            conn.close()

    @contextmanager
    def transaction(self) -> Iterator[StoreWriter]:
        """The write transaction: serialised by the advisory lock, all or nothing."""
        conn = self._connect()
        try:
            try:
                conn.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
                try:
                    conn.execute("SELECT set_config('lock_timeout', %s, true)",
                                 (f"{int(LOCK_TIMEOUT_S * 1000)}ms",))
                    # Queue behind any other import; the lock goes with the
                    # transaction (commit, rollback or a dead client).
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
                    conn.execute("SELECT set_config(%s, 'on', true)", (ddl.WRITER_SETTING,))
                    ddl.ensure_schema(conn, self.location)
                    # Each statement of a READ COMMITTED transaction sees what
                    # the import before this one committed.
                    yield _Writer(conn, self.location)
                except BaseException:
                    if not conn.closed:
                        conn.execute("ROLLBACK")
                    raise
                else:
                    conn.execute("COMMIT")
            except psycopg.errors.LockNotAvailable:
                raise StoreError(f"{self.location}: another program held the store's lock"
                                 f" for over {LOCK_TIMEOUT_S:g} s; nothing was written") from None
            except psycopg.Error as exc:
                msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise StoreError(f"{self.location}: could not write the store: {msg}; it is"
                                 " unchanged") from None
        finally:
            conn.close()
