"""The suite's own PostgreSQL + PostGIS cluster starts, has PostGIS, and runs as non-root."""

from __future__ import annotations

import psycopg


def test_cluster_has_postgis_and_is_not_root(pg_url):
    with psycopg.connect(pg_url) as conn:
        version = conn.execute("SELECT postgis_lib_version()").fetchone()[0]
        owner = conn.execute(
            "SELECT usename FROM pg_stat_activity WHERE pid = pg_backend_pid()").fetchone()[0]
        area = conn.execute(
            "SELECT ST_Area(ST_GeogFromText('POLYGON((46.9 39.9,46.91 39.9,46.91 39.91,"
            "46.9 39.91,46.9 39.9))'))").fetchone()[0]
    assert version.split(".")[0] == "3"
    assert owner == "postgres"
    # About 0.01° × 0.01° at 39.9° N: 853 m × 1110 m, roughly 94.7 ha.
    assert 90e4 < area < 100e4
