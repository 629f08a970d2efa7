"""Backups that restore: the database and the photos (MEDIA_ROOT) in one directory under BACKUP_DIR.

A backup is a directory `backup-<UTC time>` holding the database dump (`database.sqlite3`, made with SQLite's
online backup API, or `database.pgdump`, `pg_dump -Fc`), a copy of MEDIA_ROOT under `media/`, and
`manifest.json`: when, which engine, the row count and a checksum of the rows of every table the site's models
use, and the SHA-256 of the dump and of every file. It is built under a hidden name and renamed into place when
complete, so a backup that died half-way is never taken for the newest.

Both dumps are consistent while the site writes: SQLite's backup API copies one read snapshot (WAL lets writers
go on), and pg_dump reads one snapshot, exported from the transaction that counts the rows, so the manifest's
counts are those of the dump. The database is copied before the photos: a photo's file is stored before its row
is committed, so every row in the dump finds its file in the copy (a file newer than the dump is harmless).

`backup_restore` checks the manifest's checksums before it touches anything, refuses a backup of the other
engine, puts the database back, replaces MEDIA_ROOT, then counts and checksums every table and file again and
compares them with the manifest. The site should be stopped while a restore runs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connections
from django.utils import timezone
from django.utils.translation import gettext as _

from bukaamanzi.lib.schedules import DAILY, PlannedSchedule, next_daily

PREFIX = "backup-"
MANIFEST = "manifest.json"
MEDIA = "media"
DUMPS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
ENGINE_NAMES = {"sqlite": "SpatiaLite", "postgresql": "PostGIS"}
FORMAT = 1
SCHEDULE_NAME = "backups: nightly"
_CHUNK = 1 << 20


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why, for the command's user."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    tables: int
    rows: int
    files: int


# --- What is counted ---------------------------------------------------------------------------------------------

def table_names() -> list[str]:
    """The tables the site's models (and the migration record) use: what a manifest counts. SpatiaLite's and
    PostGIS's own tables are left out: they are the engine's, rebuilt with it, and some need its extension."""
    names = {model._meta.db_table for model in apps.get_models(include_auto_created=True)
             if model._meta.managed and not model._meta.proxy}
    names.add("django_migrations")
    return sorted(names)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _table_facts(cursor: Any, vendor: str, existing: set[str]) -> dict[str, dict[str, Any]]:
    """Each table's row count and a checksum of its rows, read in the caller's transaction (one snapshot)."""
    facts: dict[str, dict[str, Any]] = {}
    for name in table_names():
        if name not in existing:
            continue
        table = _quote(name)  # names come from the models' metadata, never from input (so S608 does not apply)
        if vendor == "postgresql":
            # Row order on disk is not kept by a dump, so the rows' hashes are sorted before they are combined.
            digest_sql = "coalesce(md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))), '')"
            cursor.execute(f"SELECT count(*), {digest_sql} FROM {table} t")  # noqa: S608
            rows, checksum = cursor.fetchone()
        else:
            # A page copy keeps every rowid, so the rows are hashed in rowid order, as Python reads them.
            digest, rows = hashlib.sha256(), 0
            cursor.execute(f"SELECT * FROM {table} ORDER BY rowid")  # noqa: S608
            while batch := cursor.fetchmany(1000):
                rows += len(batch)
                for row in batch:
                    digest.update(repr(row).encode())
            checksum = digest.hexdigest()
        facts[name] = {"rows": rows, "sha256": checksum}
    return facts


def _sqlite_facts(path: Path) -> dict[str, dict[str, Any]]:
    # Plain sqlite3 is enough: no spatial function is called, and geometries are read as bytes.
    with closing(sqlite3.connect(path)) as db:
        cursor = db.cursor()
        existing = {row[0] for row in cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return _table_facts(cursor, "sqlite", existing)


# --- Files ------------------------------------------------------------------------------------------------------

def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _walk(root: Path) -> Iterator[Path]:
    for directory, _dirs, files in os.walk(root):
        for name in sorted(files):
            yield Path(directory) / name


def _copy_hashing(source: Path, target: Path) -> str:
    """Copy and hash in one read, so the checksum is that of the bytes stored even if the source changes."""
    digest = hashlib.sha256()
    target.parent.mkdir(parents=True, exist_ok=True)
    with source.open("rb") as reader, target.open("wb") as writer:
        while chunk := reader.read(_CHUNK):
            digest.update(chunk)
            writer.write(chunk)
    shutil.copystat(source, target)
    return digest.hexdigest()


def _copy_media(source_root: Path, target_root: Path) -> dict[str, str]:
    checksums: dict[str, str] = {}
    if not source_root.is_dir():
        return checksums
    for source in _walk(source_root):
        relative = source.relative_to(source_root).as_posix()
        try:
            checksums[relative] = _copy_hashing(source, target_root / relative)
        except FileNotFoundError:
            continue  # deleted while we walked (a dropped draft's photo): nothing to keep
    return checksums


# --- The engines ------------------------------------------------------------------------------------------------

def _vendor() -> str:
    return connections["default"].vendor


def _sqlite_path() -> Path:
    return Path(connections["default"].settings_dict["NAME"])


def _pg_env() -> dict[str, str]:
    """libpq's variables for pg_dump, pg_restore and psycopg, from the database settings (tests use their own
    database name, so settings_dict rather than DATABASE_URL)."""
    db = connections["default"].settings_dict
    options = db.get("OPTIONS") or {}
    values = {
        "PGHOST": str(options.get("host") or db.get("HOST") or ""),
        "PGPORT": str(options.get("port") or db.get("PORT") or ""),
        "PGUSER": str(options.get("user") or db.get("USER") or ""),
        "PGPASSWORD": str(options.get("password") or db.get("PASSWORD") or ""),
        "PGDATABASE": str(db["NAME"]),
    }
    return {**os.environ, **{key: value for key, value in values.items() if value}}


def _pg_tool(name: str) -> str:
    directory = settings.BACKUP_PG_BIN_DIR
    return str(Path(directory) / name) if directory else name


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(_("%(tool)s failed: %(error)s") % {"tool": command[0], "error": result.stderr.strip()})


def _dump_sqlite(target: Path) -> dict[str, dict[str, Any]]:
    source_path = _sqlite_path()
    if not source_path.exists():
        raise BackupError(_("The database file %(path)s does not exist.") % {"path": source_path})
    with closing(sqlite3.connect(source_path, timeout=30)) as source, closing(sqlite3.connect(target)) as copy:
        source.backup(copy)  # one step: one read snapshot of the whole file
    return _sqlite_facts(target)


def _pg_connect(env: dict[str, str]) -> Any:
    import psycopg  # only on PostGIS
    from psycopg.conninfo import make_conninfo

    keys = {"host": "PGHOST", "port": "PGPORT", "user": "PGUSER", "password": "PGPASSWORD", "dbname": "PGDATABASE"}
    return psycopg.connect(make_conninfo("", **{key: env[var] for key, var in keys.items() if var in env}))


def _dump_postgres(target: Path) -> dict[str, dict[str, Any]]:
    env = _pg_env()
    # An empty conninfo makes libpq read the same PG* variables that pg_dump gets.
    with _pg_connect(env) as db, db.cursor() as cursor:
        # One snapshot for the counts and the dump: pg_dump joins it with --snapshot while this transaction lives.
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]  # type: ignore[index]
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        existing = {row[0] for row in cursor.fetchall()}
        facts = _table_facts(cursor, "postgresql", existing)
        _run([_pg_tool("pg_dump"), "-Fc", "--no-owner", f"--snapshot={snapshot}", "-f", str(target)], env)
        db.rollback()
    return facts


def _restore_sqlite(dump: Path) -> dict[str, dict[str, Any]]:
    connections.close_all()
    live = _sqlite_path()
    live.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(dump)) as source, closing(sqlite3.connect(live, timeout=30)) as target:
        source.backup(target)  # page by page into the live file, through its WAL: no half-copied file is seen
    return _sqlite_facts(live)


def _restore_postgres(dump: Path) -> dict[str, dict[str, Any]]:
    connections.close_all()
    env = _pg_env()
    _run([_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
          "-d", env["PGDATABASE"], str(dump)], env)
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        existing = {row[0] for row in cursor.fetchall()}
        facts = _table_facts(cursor, "postgresql", existing)
    connections.close_all()
    return facts


# --- Backups ----------------------------------------------------------------------------------------------------

def backup_dir() -> Path:
    return Path(settings.BACKUP_DIR)


def backups_list(directory: Path | None = None) -> list[Path]:
    """Complete backups, oldest first (their names sort by time)."""
    root = directory or backup_dir()
    if not root.is_dir():
        return []
    return sorted(path for path in root.iterdir()
                  if path.name.startswith(PREFIX) and (path / MANIFEST).is_file())


def backup_create(*, directory: Path | None = None, now: dt.datetime | None = None) -> BackupResult:
    """Dump the database, copy the photos, write the manifest; returns the new backup's directory."""
    vendor = _vendor()
    if vendor not in DUMPS:
        raise BackupError(_("Backups support SpatiaLite and PostGIS, not %(engine)s.") % {"engine": vendor})
    root = directory or backup_dir()
    root.mkdir(parents=True, exist_ok=True)
    created = (now or timezone.now()).astimezone(dt.UTC)
    final = root / f"{PREFIX}{created:%Y%m%dT%H%M%S}Z"
    if final.exists():
        raise BackupError(_("A backup named %(name)s already exists.") % {"name": final.name})
    work = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=root))
    try:
        dump = work / DUMPS[vendor]
        tables = _dump_sqlite(dump) if vendor == "sqlite" else _dump_postgres(dump)
        files = _copy_media(Path(settings.MEDIA_ROOT), work / MEDIA)
        manifest = {
            "format": FORMAT, "created": created.isoformat(), "engine": vendor,
            "database": {"file": dump.name, "sha256": sha256(dump), "tables": tables},
            "media": files,
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
        work.chmod(0o750)  # the dump holds reporters' emails: not for every local user
        work.rename(final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return BackupResult(path=final, tables=len(tables), rows=sum(facts["rows"] for facts in tables.values()),
                        files=len(files))


def backups_prune(*, keep: int, directory: Path | None = None) -> list[Path]:
    """Delete all but the newest `keep` backups (and any half-made one a dead run left); returns those deleted."""
    if keep < 1:
        raise BackupError(_("BACKUP_KEEP must be at least 1, so the newest backup is never deleted."))
    root = directory or backup_dir()
    complete = backups_list(root)
    doomed = complete[:-keep]
    if root.is_dir():
        newest = complete[-1].name if complete else ""
        # A hidden work directory older than the newest backup belongs to a run that died.
        doomed += [path for path in root.iterdir()
                   if path.name.startswith(f".{PREFIX}") and path.name[1:] < newest]
    for path in doomed:
        shutil.rmtree(path)
    return doomed


def backup_resolve(name: str | None = None, *, directory: Path | None = None) -> Path:
    """A backup by path or name, or the newest one."""
    root = directory or backup_dir()
    if name:
        path = Path(name) if Path(name).is_absolute() or Path(name).exists() else root / name
        if not (path / MANIFEST).is_file():
            raise BackupError(_("%(path)s is not a backup: it has no %(manifest)s.")
                              % {"path": path, "manifest": MANIFEST})
        return path
    found = backups_list(root)
    if not found:
        raise BackupError(_("There is no backup in %(dir)s.") % {"dir": root})
    return found[-1]


def manifest_read(path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BackupError(_("The manifest of %(path)s cannot be read: %(error)s") % {"path": path, "error": error}
                          ) from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(_("%(path)s was made by an unknown version of this tool.") % {"path": path})
    return manifest


def backup_verify(path: Path) -> dict[str, Any]:
    """Check every checksum of a backup against its manifest; returns the manifest."""
    manifest = manifest_read(path)
    dump = path / manifest["database"]["file"]
    if not dump.is_file() or sha256(dump) != manifest["database"]["sha256"]:
        raise BackupError(_("The database dump of %(path)s is missing or damaged.") % {"path": path})
    bad = [name for name, digest in manifest["media"].items()
           if not (path / MEDIA / name).is_file() or sha256(path / MEDIA / name) != digest]
    if bad:
        raise BackupError(_("%(count)d photo files of %(path)s are missing or damaged, for example %(name)s.")
                          % {"count": len(bad), "path": path, "name": bad[0]})
    return manifest


def _replace_media(source: Path, files: dict[str, str]) -> None:
    """Copy the backup's files next to MEDIA_ROOT, then swap the directories: a failed copy leaves it as it was."""
    media_root = Path(settings.MEDIA_ROOT)
    media_root.parent.mkdir(parents=True, exist_ok=True)
    incoming = Path(tempfile.mkdtemp(prefix=f".{media_root.name}-restoring-", dir=media_root.parent))
    for name in files:
        (incoming / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / name, incoming / name)
    # mkdtemp makes it private; the web server must read the photos as before.
    incoming.chmod(media_root.stat().st_mode & 0o7777 if media_root.exists() else 0o755)
    old = media_root.with_name(f".{media_root.name}-replaced")
    if old.exists():
        shutil.rmtree(old)
    if media_root.exists():
        media_root.rename(old)
    incoming.rename(media_root)
    shutil.rmtree(old, ignore_errors=True)


def backup_restore(*, path: Path) -> dict[str, Any]:
    """Put the database and the photos back as `path` holds them; returns its manifest. Verifies before and after."""
    manifest = backup_verify(path)
    vendor = _vendor()
    if manifest["engine"] != vendor:
        raise BackupError(
            _("This backup is of a %(theirs)s database and the site now uses %(ours)s: restoring from one engine "
              "to the other is not supported.")
            % {"theirs": ENGINE_NAMES.get(manifest["engine"], manifest["engine"]),
               "ours": ENGINE_NAMES.get(vendor, vendor)})
    dump = path / manifest["database"]["file"]
    tables = _restore_sqlite(dump) if vendor == "sqlite" else _restore_postgres(dump)
    _replace_media(path / MEDIA, manifest["media"])
    wanted = manifest["database"]["tables"]
    differ = sorted(name for name in set(wanted) | set(tables) if wanted.get(name) != tables.get(name))
    if differ:
        raise BackupError(_("After the restore, the rows of %(tables)s differ from the manifest.")
                          % {"tables": ", ".join(differ)})
    media_root = Path(settings.MEDIA_ROOT)
    bad = [name for name, digest in manifest["media"].items() if sha256(media_root / name) != digest]
    if bad:
        raise BackupError(_("After the restore, %(count)d photo files differ from the manifest.") % {"count": len(bad)})
    return manifest


# --- The nightly schedule ---------------------------------------------------------------------------------------

def planned_schedules(now: dt.datetime | None = None) -> list[PlannedSchedule]:
    now = now or timezone.now()
    return [PlannedSchedule(name=SCHEDULE_NAME, func="bukaamanzi.backups.nightly_backup", schedule_type=DAILY,
                            next_run=next_daily(settings.BACKUP_AT, now, setting="BACKUP_AT"))]


def nightly_backup() -> str:
    """The django-q2 task: a backup, then all but the newest BACKUP_KEEP are deleted."""
    result = backup_create()
    backups_prune(keep=settings.BACKUP_KEEP)
    return str(result.path)
