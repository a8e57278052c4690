"""The PostGIS store's schema: tables, views, history triggers, grants and styles.

Only :mod:`minemap.store.postgis` calls this module; it holds the DDL so the
backend's read and write logic stays readable.

Everything lives in one PostgreSQL schema, ``minemap``: the same
``history_<layer>`` history tables, current-state views, ``revisions``,
and materialised crossref as the GeoPackage store
(:mod:`minemap.store.gpkg_schema`), with geometries in EPSG:4326 and GiST
indexes.  QGIS's default styles go in ``public.layer_styles``, where QGIS
looks for them.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from minemap import styles
from minemap._errors import UsageError
from minemap.records import schema
from minemap.store.revisions import (
    _CROSSREF_REAL,
    DERIVED,
    LAYERS,
    REVISION_COLUMNS,
    LayerSpec,
)

#: The spatial views and tables QGIS lists, each with a default style (the one style map).
STYLED: tuple[str, ...] = (
    *(name for name, spec in LAYERS.items() if spec.geometry_type), "crossref", *DERIVED)

#: The PostgreSQL schema that holds a store.
SCHEMA = "minemap"
#: Roles the schema grants to, when they exist (docs/team.md creates them).
READ_ROLE = "minemap_read"
WRITE_ROLE = "minemap_write"
#: The transaction-local setting minemap's revision step sets before it
#: closes rows; the history triggers refuse changes without it.
WRITER_SETTING = "minemap.writer"
HISTORY_MESSAGE = "minemap store: history is read-only; import a revision instead"

_SQL_TYPES = {"str": "text", "int": "bigint", "float": "double precision", "bool": "boolean"}
_PG_GEOMETRY = {"MULTIPOLYGON": "MultiPolygon", "POINT": "Point", "LINESTRING": "LineString",
                "POLYGON": "Polygon"}


def ident(*names: str) -> sql.Composable:
    """A name in the store's schema: ``minemap.<name>``."""
    return sql.Identifier(SCHEMA, *names)


def columns(names) -> sql.Composable:
    """A comma-separated list of quoted column names."""
    return sql.SQL(", ").join(map(sql.Identifier, names))


def store_tables(conn: psycopg.Connection) -> set[str]:
    """Names of the tables and views in the store's schema (empty: no store)."""
    rows = conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = %s AND c.relkind IN ('r', 'v', 'p')", (SCHEMA,)
    ).fetchall()
    return {r[0] for r in rows}


def ensure_schema(conn: psycopg.Connection, location: str) -> None:
    """Create the store in a database that has none (inside the write transaction)."""
    tables = store_tables(conn)
    if "revisions" in tables:
        if not set(DERIVED) | {"derived_state"} <= tables:
            # A store made before the derived layers: add them (empty, tagged
            # revision 0; this import's refresh fills them).
            _create_derived(conn)
            _grant(conn)
            _create_styles(conn)
        return
    if conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (SCHEMA,)).fetchone():
        # Someone else's schema of that name: never write in it.
        raise UsageError(f"{location}: has a schema {SCHEMA!r} that is not a minemap store")
    if not conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone():
        raise UsageError(
            f"{location}: the database has no PostGIS; an administrator runs"
            " CREATE EXTENSION postgis in it (docs/team.md)")
    conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(SCHEMA)))
    _comment(conn, sql.SQL("COMMENT ON SCHEMA {}").format(sql.Identifier(SCHEMA)),
             "minemap store: current layers are views; history_* is the history")
    _create_guard(conn)
    cols = sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(c))
                              for c in REVISION_COLUMNS[1:])
    conn.execute(sql.SQL("CREATE TABLE {} (revision integer PRIMARY KEY, {})").format(
        ident("revisions"), cols))
    _guard(conn, "revisions", always=True)
    for spec in LAYERS.values():
        _create_layer(conn, spec)
    xcols = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(
            "double precision" if c in _CROSSREF_REAL
            else "bigint" if c == "mines_total" else "text"))
        for c in schema.CROSSREF_COLUMNS)
    conn.execute(sql.SQL(
        "CREATE TABLE {} (fid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, {},"
        " revision integer, UNIQUE (handover, record_id))").format(
            ident("crossref_current"), xcols))
    conn.execute(sql.SQL(
        "CREATE TABLE {} (id integer PRIMARY KEY CHECK (id = 1), revision integer)"
    ).format(ident("crossref_state")))
    _guard(conn, "crossref_current")
    _guard(conn, "crossref_state")
    _create_crossref_view(conn)
    _create_minefields_view(conn)
    _create_derived(conn)
    _grant(conn)
    _create_styles(conn)


def _comment(conn: psycopg.Connection, target: sql.Composable, text: str) -> None:
    # Utility statements take no bound parameters: the text is a literal.
    conn.execute(sql.SQL("{} IS {}").format(target, sql.Literal(text)))


def _create_guard(conn: psycopg.Connection) -> None:
    # One trigger function for every table.  Writes pass only inside
    # minemap's revision step (the transaction-local setting): an INSERT
    # (checked once per statement); on a history table, an UPDATE that
    # closes a current row and changes nothing else; on a derived table
    # (handovers, the crossref), any UPDATE or DELETE.  The revision log,
    # and TRUNCATE of anything, never.  TG_ARGV[0] names the table's rule:
    # 'history', 'derived' or 'always' (refused).
    conn.execute(sql.SQL("""
        CREATE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF coalesce(current_setting({setting}, true), '') = 'on' THEN
            IF TG_OP = 'INSERT' THEN
              RETURN NULL;
            END IF;
            IF TG_ARGV[0] = 'derived' THEN
              IF TG_OP = 'DELETE' THEN
                RETURN OLD;
              END IF;
              RETURN NEW;
            END IF;
            IF TG_ARGV[0] = 'history' AND TG_OP = 'UPDATE' THEN
              IF OLD.rev_to IS NULL AND NEW.rev_to IS NOT NULL
                 AND to_jsonb(NEW) - 'rev_to' = to_jsonb(OLD) - 'rev_to' THEN
                RETURN NEW;
              END IF;
            END IF;
          END IF;
          RAISE EXCEPTION {message} USING ERRCODE = 'insufficient_privilege',
            HINT = 'minemap import-… adds a revision; history rows never change';
        END $$
    """).format(fn=ident("refuse_history_writes"), setting=sql.Literal(WRITER_SETTING),
                message=sql.Literal(HISTORY_MESSAGE)))


def _guard(conn: psycopg.Connection, table: str, *, always: bool = False,
           history: bool = False) -> None:
    rule = sql.Literal("always" if always else "history" if history else "derived")
    fn = ident("refuse_history_writes")
    conn.execute(sql.SQL(
        "CREATE TRIGGER refuse_history_writes BEFORE UPDATE OR DELETE ON {} FOR EACH ROW"
        " EXECUTE FUNCTION {}({})").format(ident(table), fn, rule))
    # Once per statement: COPY of many rows pays for one check.
    conn.execute(sql.SQL(
        "CREATE TRIGGER refuse_history_inserts BEFORE INSERT ON {} FOR EACH STATEMENT"
        " EXECUTE FUNCTION {}({})").format(ident(table), fn, rule))
    # TRUNCATE fires no row trigger; a statement trigger refuses it outright.
    conn.execute(sql.SQL(
        "CREATE TRIGGER refuse_history_truncate BEFORE TRUNCATE ON {} FOR EACH STATEMENT"
        " EXECUTE FUNCTION {}('always')").format(ident(table), fn))


def _create_layer(conn: psycopg.Connection, spec: LayerSpec) -> None:
    table = f"history_{spec.name}"
    cols = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(_SQL_TYPES[t]))
        for c, t in spec.columns.items())
    geom = (sql.SQL("geom geometry({}, 4326), ").format(
        sql.SQL(_PG_GEOMETRY[spec.geometry_type])) if spec.geometry_type else sql.SQL(""))
    conn.execute(sql.SQL(
        "CREATE TABLE {} (fid bigint PRIMARY KEY, {}{}, content_hash text NOT NULL,"
        " rev_from integer NOT NULL, rev_to integer)").format(ident(table), geom, cols))
    conn.execute(sql.SQL("CREATE INDEX {} ON {} ({})").format(
        sql.Identifier(f"{table}_key"), ident(table), columns(spec.key)))
    conn.execute(sql.SQL("CREATE INDEX {} ON {} (rev_to, rev_from)").format(
        sql.Identifier(f"{table}_rev"), ident(table)))
    if spec.geometry_type:
        conn.execute(sql.SQL("CREATE INDEX {} ON {} USING gist (geom)").format(
            sql.Identifier(f"{table}_geom"), ident(table)))
    _comment(conn, sql.SQL("COMMENT ON TABLE {}").format(ident(table)),
             f"history: every version of {spec.name}, valid from rev_from until rev_to")
    _guard(conn, table, history=True)
    geom_col = sql.SQL("geom, ") if spec.geometry_type else sql.SQL("")
    conn.execute(sql.SQL(
        "CREATE VIEW {} AS SELECT fid, {}{}, rev_from AS revision FROM {} WHERE rev_to IS NULL"
    ).format(ident(spec.name), geom_col, columns(spec.columns), ident(table)))
    _comment(conn, sql.SQL("COMMENT ON VIEW {}").format(ident(spec.name)),
             f"current {spec.name} (read-only)")


def _create_minefields_view(conn: psycopg.Connection) -> None:
    # As the GeoPackage's: current minefields with their hazard status and
    # progress, so that QGIS colours them by status (their default style).
    from minemap.store.gpkg_schema import PROGRESS_COLUMNS

    conn.execute(sql.SQL("DROP VIEW {}").format(ident("minefields")))
    conn.execute(sql.SQL(
        "CREATE VIEW {} AS SELECT m.fid AS fid, m.geom AS geom, {}, {}, m.rev_from AS revision"
        " FROM {} m LEFT JOIN {} c ON c.handover = m.handover AND c.record_id = m.record_id"
        " WHERE m.rev_to IS NULL").format(
            ident("minefields"),
            sql.SQL(", ").join(sql.SQL("m.{}").format(sql.Identifier(c))
                               for c in schema.MINEFIELD_COLUMNS),
            sql.SQL(", ").join(sql.SQL("c.{}").format(sql.Identifier(c))
                               for c in PROGRESS_COLUMNS),
            ident("history_minefields"), ident("crossref_current")))
    _comment(conn, sql.SQL("COMMENT ON VIEW {}").format(ident("minefields")),
             "current minefields with hazard status and progress (read-only)")
    # A joined view is not updatable: refuse writes with the store's own message.
    conn.execute(sql.SQL(
        "CREATE TRIGGER refuse_history_writes INSTEAD OF INSERT OR UPDATE OR DELETE ON {}"
        " FOR EACH ROW EXECUTE FUNCTION {}('always')").format(
            ident("minefields"), ident("refuse_history_writes")))


def _create_crossref_view(conn: psycopg.Connection) -> None:
    # As the GeoPackage's crossref view: current minefields with their
    # status, released and remaining; the crossref's flags add its findings
    # to the record's own.
    extra = [c for c in schema.CROSSREF_COLUMNS
             if c not in ("record_id", "handover", "district", "mines_total", "area_ha", "flags")]
    base = [
        sql.SQL("COALESCE(c.flags, m.flags) AS flags") if c == "flags"
        else sql.SQL("m.{}").format(sql.Identifier(c))
        for c in schema.MINEFIELD_COLUMNS if c != "raw"
    ]
    conn.execute(sql.SQL(
        "CREATE VIEW {} AS SELECT m.fid AS fid, m.geom AS geom, {}, {}, m.rev_from AS revision"
        " FROM {} m LEFT JOIN {} c ON c.handover = m.handover AND c.record_id = m.record_id"
        " WHERE m.rev_to IS NULL").format(
            ident("crossref"), sql.SQL(", ").join(base),
            sql.SQL(", ").join(sql.SQL("c.{}").format(sql.Identifier(c)) for c in extra),
            ident("history_minefields"), ident("crossref_current")))
    _comment(conn, sql.SQL("COMMENT ON VIEW {}").format(ident("crossref")),
             "current minefields with their status, released and remaining (read-only)")


def _create_derived(conn: psycopg.Connection) -> None:
    # Derived layers (remaining, suspects): feature tables rewritten by
    # minemap's refresh, tagged in derived_state; read-only to every other
    # client through the 'derived' guard, as the crossref.
    tables = store_tables(conn)
    for name, spec in DERIVED.items():
        if name in tables:
            continue
        cols = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(_SQL_TYPES[t]))
            for c, t in spec.columns.items())
        conn.execute(sql.SQL(
            "CREATE TABLE {} (fid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
            " geom geometry({}, 4326), {}, UNIQUE ({}))").format(
                ident(name), sql.SQL(_PG_GEOMETRY[spec.geometry_type]), cols,
                columns(spec.key)))
        conn.execute(sql.SQL("CREATE INDEX {} ON {} USING gist (geom)").format(
            sql.Identifier(f"{name}_geom"), ident(name)))
        _comment(conn, sql.SQL("COMMENT ON TABLE {}").format(ident(name)),
                 f"{name}: computed by minemap with the crossref (read-only)")
        _guard(conn, name)
    if "derived_state" not in tables:
        conn.execute(sql.SQL(
            "CREATE TABLE {} (layer text PRIMARY KEY, revision integer NOT NULL,"
            " params text NOT NULL)").format(ident("derived_state")))
        _guard(conn, "derived_state")


def _grant(conn: psycopg.Connection) -> None:
    """Grant the roles of docs/team.md what they need, where they exist."""
    roles = {r[0] for r in conn.execute(
        "SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", ([READ_ROLE, WRITE_ROLE],))}
    sch = sql.Identifier(SCHEMA)
    for role in sorted(roles):
        r = sql.Identifier(role)
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sch, r))
        conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(sch, r))
    if WRITE_ROLE in roles:
        # An import inserts rows, closes history rows (the trigger checks
        # that it only closes them) and rewrites the derived crossref.
        w = sql.Identifier(WRITE_ROLE)
        history = [ident(f"history_{s.name}") for s in LAYERS.values()]
        conn.execute(sql.SQL("GRANT INSERT ON ALL TABLES IN SCHEMA {} TO {}").format(sch, w))
        conn.execute(sql.SQL("GRANT UPDATE (rev_to) ON {} TO {}").format(
            sql.SQL(", ").join(history), w))
        derived = [ident(n) for n in (*DERIVED, "derived_state")]
        conn.execute(sql.SQL("GRANT UPDATE, DELETE ON {}, {}, {} TO {}").format(
            ident("crossref_current"), ident("crossref_state"), sql.SQL(", ").join(derived), w))


def _create_styles(conn: psycopg.Connection) -> None:
    # QGIS's own definition of public.layer_styles (QgsPostgresProvider),
    # so a table QGIS made earlier, or makes later, is the same table.
    conn.execute("""
        CREATE TABLE IF NOT EXISTS public.layer_styles (
          id serial PRIMARY KEY, f_table_catalog varchar, f_table_schema varchar,
          f_table_name varchar, f_geometry_column varchar, stylename text, styleqml xml,
          stylesld xml, useasdefault boolean, description text,
          owner varchar(63) DEFAULT CURRENT_USER, ui xml,
          update_time timestamp DEFAULT CURRENT_TIMESTAMP, type varchar,
          r_raster_column varchar)
    """)
    (catalog,) = conn.execute("SELECT current_database()").fetchone()
    conn.execute(
        "DELETE FROM public.layer_styles WHERE f_table_catalog = %s AND f_table_schema = %s"
        " AND stylename LIKE 'minemap %%'", (catalog, SCHEMA))
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO public.layer_styles (f_table_catalog, f_table_schema, f_table_name,"
            " f_geometry_column, stylename, styleqml, stylesld, useasdefault, description, type)"
            " VALUES (%s, %s, %s, 'geom', %s, XMLPARSE(DOCUMENT %s), NULL, true, %s, 'vector')",
            [(catalog, SCHEMA, layer, f"minemap {layer}", text,
              f"minemap default style ({name})")
             for layer, name, text in styles.default_styles(STYLED)],
        )
    roles = {r[0] for r in conn.execute(
        "SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", ([READ_ROLE, WRITE_ROLE],))}
    for role in sorted(roles):
        conn.execute(sql.SQL("GRANT SELECT ON public.layer_styles TO {}").format(
            sql.Identifier(role)))
