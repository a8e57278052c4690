"""Upgrading a GeoPackage store of an older minemap, explicitly, with a backup.

Schema 1 (minemap before the backend interface) kept ``<layer>_versions``
tables with SQLite R*Tree side tables, a ``handovers`` table updated in
place, and the crossref in ``crossref_current``/``crossref_state`` behind a
``crossref`` view.  Schema 2 had the layout of :mod:`minemap.store.gpkg_schema`
without the derived ``remaining`` and ``suspects`` layers (schema 3).

From schema 1 the upgrade writes a new file beside the store, copies every
row of every version, the revisions and the materialised crossref into it,
and replaces the store only when all of it has landed.  From schema 2 it
adds the derived tables (empty, tagged revision 0) and the styles in one
transaction.  Either way the old file is kept as a backup first.  The store
computes nothing here: :func:`minemap.api.upgrade_store` then fills the
derived layers (and the next import's refresh would, if it did not).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import sqlite3
from pathlib import Path

from minemap._errors import UsageError
from minemap.records import schema
from minemap.store import gpkg_schema
from minemap.store.base import StoreError
from minemap.store.revisions import LAYERS, REVISION_COLUMNS, CrossrefUpdate, crossref_frame


def upgrade(store, *, backup: Path | None = None) -> Path | None:
    """Upgrade ``store`` (a :class:`GeoPackageStore`) to the current schema.

    Returns
    -------
    Path or None
        The backup of the old store; ``None`` when it was already current.

    Raises
    ------
    UsageError
        For a file that is not a minemap store.
    StoreError
        For a store of a newer minemap, or one another program holds open.
    """
    path: Path = store.path
    if not path.exists():
        raise UsageError(f"{path}: no store to upgrade")
    version = store.schema_version()
    if version is None:
        raise UsageError(f"{path}: is a database but not a minemap store")
    if version in (0, gpkg_schema.SCHEMA_VERSION):
        return None
    if version > gpkg_schema.SCHEMA_VERSION:
        raise StoreError(f"{path}: a store of a newer minemap (schema {version}); upgrade"
                         " minemap instead")
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    backup = backup or path.with_name(f"{path.stem}.schema{version}-backup-{stamp}{path.suffix}")
    tmp = path.with_name(f".{path.name}.upgrade-tmp")
    old = store._connect()
    try:
        # A store left in WAL (by QGIS) has part of its data in -wal; fold it
        # in and go back to a rollback journal, so no stale -wal can ever sit
        # beside the new file.  This needs every other program to let go.
        mode = old.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
        if mode.lower() != "delete":
            raise StoreError(f"{path}: another program has the store open; close it (QGIS?)"
                             " and run upgrade-store again; nothing was changed")
        store._begin(old)  # no import may land while the copy is made
        # With the write lock held and no journal pending, the file's bytes
        # are the store: a plain copy is a faithful backup.
        shutil.copy2(path, backup)
        if version == 2:
            _add_derived(old)
            old.execute("COMMIT")
            return backup
        if tmp.exists():
            tmp.unlink()
        _copy(old_path=path, new_path=tmp)
        os.replace(tmp, path)
        old.execute("ROLLBACK")
    except sqlite3.Error as exc:
        raise store._error(exc) from None
    finally:
        old.close()
        if tmp.exists():
            tmp.unlink()
    return backup


def _add_derived(conn: sqlite3.Connection) -> None:
    """Schema 2 → 3 in place, inside the caller's write transaction."""
    doc = gpkg_schema._metadata(conn) or {}
    doc["minemap_store_schema"] = gpkg_schema.SCHEMA_VERSION
    gpkg_schema.create_derived(conn)
    gpkg_schema.write_default_styles(conn)
    conn.execute("UPDATE gpkg_metadata SET metadata = ? WHERE md_standard_uri = ?",
                 (json.dumps(doc, sort_keys=True), gpkg_schema.METADATA_URI))


def _copy(*, old_path: Path, new_path: Path) -> None:
    new = sqlite3.connect(new_path, isolation_level=None)
    try:
        gpkg_schema.register_functions(new)
        new.execute("ATTACH DATABASE ? AS v1", (str(old_path),))
        # Deferred: IMMEDIATE would also lock the attached old store, whose
        # write lock this upgrade already holds on another connection.
        new.execute("BEGIN")
        gpkg_schema.create_schema(new)
        with gpkg_schema.lifted_guards(new):
            _copy_rows(new, new_path)
        new.execute("COMMIT")
        new.execute("DETACH DATABASE v1")
    finally:
        new.close()


def _copy_rows(new: sqlite3.Connection, new_path: Path) -> None:
    from minemap.store.gpkg import _Writer

    for name, spec in LAYERS.items():
        cols = ["fid", *(["geom"] if spec.geometry_type else []), *spec.columns,
                "content_hash", "rev_from", "rev_to"]
        names = ", ".join(f'"{c}"' for c in cols)
        new.execute(f"INSERT INTO {gpkg_schema.history(name)} ({names})"
                    f" SELECT {names} FROM v1.{name}_versions ORDER BY fid")
    names = ", ".join(REVISION_COLUMNS)
    new.execute(f"INSERT INTO revisions ({names}) SELECT {names} FROM v1.revisions"
                " ORDER BY revision")
    cols = ", ".join(schema.CROSSREF_COLUMNS)
    rows = new.execute(f"SELECT {cols} FROM v1.crossref_current ORDER BY fid").fetchall()
    (state,) = new.execute("SELECT COALESCE(MAX(revision), 0) FROM v1.crossref_state"
                           ).fetchone()
    writer = _Writer(new, str(new_path))
    writer.write_crossref(CrossrefUpdate(crossref_frame(rows), full=True), int(state))
    # Styles someone saved in QGIS stay; minemap's own are written anew.
    style_cols = ("f_table_catalog, f_table_schema, f_table_name, f_geometry_column,"
                  " styleName, styleQML, styleSLD, useAsDefault, description, owner, ui")
    new.execute(f"INSERT INTO layer_styles ({style_cols}) SELECT {style_cols} FROM"
                " v1.layer_styles WHERE description NOT LIKE 'minemap default style%'")
    for name, spec in LAYERS.items():
        if spec.geometry_type:
            gpkg_schema.update_extent(new, name)
