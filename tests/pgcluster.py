"""A throwaway PostgreSQL + PostGIS cluster that the test suite starts and stops itself.

The cluster lives in a temporary folder, listens on 127.0.0.1 (and a Unix socket in
that folder) on a free port, trusts local connections, and is stopped and removed at
the end of the session.  PostgreSQL refuses to run as root, so when the suite runs as
root the server runs as the unprivileged ``postgres`` OS user (Debian's packages
create it); otherwise it runs as the current user.

Each pytest-xdist worker gets its own cluster, so workers never share a database.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class Unavailable(RuntimeError):
    """PostgreSQL or PostGIS is not installed here; the reason says which."""


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if found:
        return Path(found[0]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise Unavailable("PostgreSQL server binaries (initdb) not found")


def _has_postgis(bindir: Path) -> bool:
    share = subprocess.run([bindir / "pg_config", "--sharedir"], capture_output=True, text=True)
    sharedir = share.stdout.strip() if share.returncode == 0 else ""
    candidates = [Path(sharedir)] if sharedir else []
    candidates += [Path(p) for p in glob.glob(f"/usr/share/postgresql/{bindir.parent.name}")]
    return any((c / "extension" / "postgis.control").exists() for c in candidates)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_as() -> str | None:
    """The OS user to run the server as, or None for the current user."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError as exc:
        raise Unavailable("running as root and there is no 'postgres' OS user") from exc
    return "postgres"


@contextmanager
def cluster(dbname: str = "minemap_test") -> Iterator[str]:
    """Start a cluster with PostGIS in ``dbname``; yield its ``postgresql://`` URL.

    Raises
    ------
    Unavailable
        When PostgreSQL or the PostGIS extension is not installed.
    """
    bindir = _bindir()
    if not _has_postgis(bindir):
        raise Unavailable("the PostGIS extension is not installed (apt: postgresql-15-postgis-3)")
    user = _run_as()
    root = Path(tempfile.mkdtemp(prefix="minemap-pg-"))
    data = root / "data"
    if user:
        shutil.chown(root, user)
    port = _free_port()
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    log = root / "server.log"
    try:
        subprocess.run([bindir / "initdb", "-D", data, "-U", "postgres", "--auth=trust",
                        "-E", "UTF8", "--no-sync"], user=user, env=env, check=True,
                       capture_output=True)
        subprocess.run([bindir / "pg_ctl", "-D", data, "-l", log, "-w", "-t", "60",
                        "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
                              " -c max_connections=60",
                        "start"], user=user, env=env, check=True, capture_output=True)
        url_admin = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        _psql(bindir, url_admin, f'CREATE DATABASE "{dbname}"', user, env)
        url = f"postgresql://postgres@127.0.0.1:{port}/{dbname}"
        _psql(bindir, url, "CREATE EXTENSION postgis", user, env)
        yield url
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run([bindir / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"],
                           user=user, env=env, capture_output=True)
        # The server may take a moment to release its socket files.
        for _ in range(20):
            try:
                shutil.rmtree(root)
                break
            except OSError:
                time.sleep(0.1)


def _psql(bindir: Path, url: str, sql: str, user: str | None, env: dict) -> None:
    subprocess.run([bindir / "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
                   user=user, env=env, check=True, capture_output=True)
