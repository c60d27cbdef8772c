"""Back up and restore a whole installation: the database and the uploaded files.

A backup is one tar file holding `manifest.json` (what it is, from when, which
migrations it has), the database — an online copy through SQLite's backup API, or a
`pg_dump` custom-format dump — and `media/` (uploads, generated proposals, job files).

Both databases are copied online: SQLite's backup API copies a consistent snapshot
while the server keeps running, and pg_dump reads one transaction's snapshot. A restore
refuses a backup of another kind of database (moving between them is an export and
import, not a restore) and one whose migrations are newer than this installation's.
"""

import io
import json
import os
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connections
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

FORMAT = 1
SQLITE_MEMBER = "database.sqlite3"
POSTGRES_MEMBER = "database.pgdump"


class BackupError(Exception):
    """A backup that cannot be made or restored, with the reason in plain words."""


@dataclass(frozen=True)
class Manifest:
    database: str  # "sqlite" or "postgresql"
    created_at: str
    migrations: list[list[str]]  # [app, name] of every migration the database has
    media_files: int

    @classmethod
    def read(cls, archive: tarfile.TarFile) -> "Manifest":
        try:
            member = archive.extractfile("manifest.json")
            data = json.loads(member.read()) if member else None
        except (KeyError, ValueError) as exc:
            raise BackupError("This file is not a Salesplan backup (no manifest).") from exc
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise BackupError("This backup was made by another version of Salesplan's "
                              "backup format and cannot be read here.")
        return cls(database=data["database"], created_at=data["created_at"],
                   migrations=[list(m) for m in data["migrations"]],
                   media_files=int(data["media_files"]))


def _vendor(alias: str = "default") -> str:
    vendor = connections[alias].vendor
    if vendor not in {"sqlite", "postgresql"}:
        raise BackupError(f"Backups of a {vendor} database are not supported.")
    return vendor


def _pg_command(program: str, alias: str = "default") -> tuple[list[str], dict]:
    params = connections[alias].settings_dict
    args = [program, "--no-password", "--dbname", params["NAME"]]
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if params.get(key):
            args += [flag, str(params[key])]
    env = dict(os.environ)
    if params.get("PASSWORD"):
        env["PGPASSWORD"] = params["PASSWORD"]
    return args, env


def _run(args: list[str], env: dict) -> None:
    try:
        result = subprocess.run(args, env=env, capture_output=True, text=True,  # noqa: S603
                                check=False)
    except FileNotFoundError as exc:
        raise BackupError(f"{args[0]} is not installed; install the PostgreSQL client "
                          "tools of your server's version.") from exc
    if result.returncode != 0:
        raise BackupError(f"{args[0]} failed: {result.stderr.strip()[-800:]}")


def _media_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    if not root.exists():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file())


def create_backup(target: Path, alias: str = "default") -> Manifest:
    """Write a backup of the database and the uploaded files to `target` (a .tar file)."""
    vendor = _vendor(alias)
    target.parent.mkdir(parents=True, exist_ok=True)
    media = _media_files()
    manifest = Manifest(
        database=vendor, created_at=timezone.now().isoformat(timespec="seconds"),
        migrations=sorted([app, name] for app, name in
                          MigrationRecorder(connections[alias]).applied_migrations()),
        media_files=len(media))
    with tempfile.TemporaryDirectory() as work:
        dump = Path(work) / "database"
        if vendor == "sqlite":
            connection = connections[alias]
            connection.ensure_connection()
            with sqlite3.connect(dump) as copy:
                connection.connection.backup(copy)
            copy.close()
            member = SQLITE_MEMBER
        else:
            args, env = _pg_command("pg_dump", alias)
            _run([*args, "--format=custom", "--no-owner", "--file", str(dump)], env)
            member = POSTGRES_MEMBER
        partial = target.with_name(target.name + ".partial")
        with tarfile.open(partial, "w") as archive:
            body = json.dumps({"format": FORMAT, **manifest.__dict__}, indent=2).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(body)
            archive.addfile(info, io.BytesIO(body))
            archive.add(dump, arcname=member)
            root = Path(settings.MEDIA_ROOT)
            for path in media:
                archive.add(path, arcname=f"media/{path.relative_to(root).as_posix()}")
        # A half-written backup never carries the final name.
        partial.replace(target)
    return manifest


def describe_backup(source: Path) -> Manifest:
    with _open(source) as archive:
        return Manifest.read(archive)


def _open(source: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(source, "r")
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"Cannot read {source}: {exc}") from exc


def _check_migrations_known(manifest: Manifest) -> None:
    """A backup from a newer Salesplan has tables this code does not know how to use."""
    from django.db.migrations.loader import MigrationLoader

    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    unknown = [f"{app}.{name}" for app, name in manifest.migrations if (app, name) not in known]
    if unknown:
        raise BackupError(
            "This backup comes from a newer version of Salesplan (it has migrations this "
            f"version does not: {', '.join(unknown[:5])}); upgrade Salesplan first.")


def _restore_postgres(dump: Path, work: Path, alias: str) -> None:
    """Replace the schema's contents with the dump's, in one transaction.

    `pg_restore --clean` drops object by object and cannot drop a partition's inherited
    primary key (territory results are partitioned by alignment), so the schema is
    emptied as a whole instead: pg_restore writes the dump as SQL, and psql runs it after
    dropping and recreating the schema, all in one transaction with the first error
    stopping it, so a failed restore leaves the database as it was.
    """
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        schema = cursor.fetchone()[0]
    connections[alias].close()
    script = work / "restore.sql"
    quoted = '"' + schema.replace('"', '""') + '"'
    with script.open("w", encoding="utf-8") as out:
        out.write(f"DROP SCHEMA IF EXISTS {quoted} CASCADE;\nCREATE SCHEMA {quoted};\n")
    sql = work / "dump.sql"
    _run(["pg_restore", "--no-owner", "--file", str(sql), str(dump)], dict(os.environ))
    with script.open("a", encoding="utf-8") as out:
        out.write(f"\\i '{sql}'\n")
    args, env = _pg_command("psql", alias)
    _run([*args, "--quiet", "--set", "ON_ERROR_STOP=1", "--single-transaction",
          "--file", str(script)], env)


def restore_backup(source: Path, alias: str = "default") -> Manifest:
    """Replace this installation's database and uploaded files with the backup's."""
    vendor = _vendor(alias)
    with _open(source) as archive, tempfile.TemporaryDirectory() as work:
        manifest = Manifest.read(archive)
        if manifest.database != vendor:
            raise BackupError(
                f"This is a backup of a {manifest.database} database and this installation "
                f"runs on {vendor}; restore it into a {manifest.database} installation.")
        _check_migrations_known(manifest)
        member = SQLITE_MEMBER if vendor == "sqlite" else POSTGRES_MEMBER
        archive.extract(member, work, filter="data")
        dump = Path(work) / member
        if vendor == "sqlite":
            connection = connections[alias]
            connection.ensure_connection()
            with sqlite3.connect(dump) as saved:
                saved.backup(connection.connection)
            saved.close()
        else:
            _restore_postgres(dump, Path(work), alias)
        media = [m for m in archive.getmembers() if m.name.startswith("media/") and m.isfile()]
        root = Path(settings.MEDIA_ROOT)
        for item in media:
            item.name = item.name.removeprefix("media/")
            archive.extract(item, root, filter="data")
    return manifest
