"""The one switch every benchmark honours: `DATABASE_URL`.

Unset (or SQLite), a script works on its own temporary SQLite file as before. Set to a
PostgreSQL database, the script works there instead; that database is emptied first
(its public schema dropped and made again), so point it at a database kept for
benchmarks, never at one holding data.
"""

from __future__ import annotations

import os
from pathlib import Path

_ORIGINAL = os.environ.get("DATABASE_URL", "")


def is_postgres(url: str | None = None) -> bool:
    return (url if url is not None else _ORIGINAL).startswith(("postgres://", "postgresql://"))


def point_at(db_path: Path, *, wipe: bool = True) -> str:
    """Set DATABASE_URL for this process: the PostgreSQL database it was started with
    (emptied unless `wipe` is false), else the SQLite file at `db_path`. Returns the
    vendor, "postgresql" or "sqlite"."""
    if is_postgres():
        os.environ["DATABASE_URL"] = _ORIGINAL
        if wipe:
            import psycopg

            with psycopg.connect(_ORIGINAL.replace("postgres://", "postgresql://", 1),
                                 autocommit=True) as conn:
                conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
                conn.execute("CREATE SCHEMA public")
        return "postgresql"
    os.environ["DATABASE_URL"] = f"sqlite:///{db_path}"
    return "sqlite"


def server_cpu_seconds() -> float | None:
    """Processor time used so far by this process's PostgreSQL session (its server
    process), when the server runs on this host; None on SQLite (whose work is this
    process's own) or when the server is elsewhere."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
