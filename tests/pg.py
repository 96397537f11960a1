"""A real PostgreSQL 15 for the tests: the Debian cluster, started here if it is not running.

The tests run as the machine user; a PostgreSQL role of that name is created (superuser, peer
authentication over the Unix socket) and each test module gets a fresh database, dropped afterwards.
"""

from __future__ import annotations

import getpass
import os
import shutil
import subprocess
import time
import uuid

SOCKET_DIR = "/var/run/postgresql"


def _as_postgres(*cmd: str) -> subprocess.CompletedProcess:
    if getpass.getuser() == "postgres":
        return subprocess.run(list(cmd), capture_output=True, text=True, timeout=60)
    return subprocess.run(["su", "postgres", "-c", " ".join(f"'{c}'" for c in cmd)], capture_output=True,
                          text=True, timeout=60)


def ensure_server() -> None:
    if not shutil.which("pg_ctlcluster"):
        raise RuntimeError("PostgreSQL 15 (pg_ctlcluster) is not installed on this machine")
    status = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True).stdout
    if "online" not in status:
        done = subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", "15", "main", "start"],
                              capture_output=True, text=True, timeout=120)
        if done.returncode != 0 and "already running" not in done.stderr:
            raise RuntimeError(f"cannot start PostgreSQL: {done.stderr.strip()}")
    for _ in range(60):
        if _as_postgres("psql", "-tAc", "select 1").stdout.strip() == "1":
            break
        time.sleep(0.5)
    user = getpass.getuser()
    have = _as_postgres("psql", "-tAc", f"select 1 from pg_roles where rolname = '{user}'").stdout.strip()
    if have != "1":
        _as_postgres("psql", "-c", f'create role "{user}" login superuser')


def create_database() -> str:
    ensure_server()
    name = f"casecheck_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    out = _as_postgres("createdb", "-O", getpass.getuser(), name)
    if out.returncode != 0:
        raise RuntimeError(f"createdb failed: {out.stderr.strip()}")
    return f"postgresql+psycopg://{getpass.getuser()}@/{name}?host={SOCKET_DIR}"


def drop_database(url: str) -> None:
    name = url.split("?", 1)[0].rsplit("/", 1)[1]
    _as_postgres("dropdb", "--if-exists", "--force", name)
