"""A database of its own for the backup drill, on the suite's engine: a SpatiaLite file, or a new database in the
PostGIS cluster DATABASE_URL points at. The site's commands run against it as processes of their own (as
`manage.py backup` runs from the schedule and `restore` from a shell), so the test database is never touched."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import environ
import pytest

BASE_DIR = Path(__file__).resolve().parents[2]


@dataclass
class Drill:
    root: Path
    url: str
    vendor: str  # "sqlite" | "postgresql"
    env: dict[str, str]

    @property
    def media(self) -> Path:
        return self.root / "media"

    @property
    def backups(self) -> Path:
        return self.root / "backups"

    def manage(self, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=self.env, input=stdin,
                                capture_output=True, text=True, timeout=300, check=False)
        if check and result.returncode != 0:
            raise AssertionError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def _pg(self, dbname: str | None = None) -> Any:
        import psycopg

        config = environ.Env.db_url_config(self.url)
        return psycopg.connect(host=(config.get("OPTIONS") or {}).get("host") or config["HOST"] or None,
                               port=config["PORT"] or None, user=config["USER"] or None,
                               password=config["PASSWORD"] or None, dbname=dbname or config["NAME"],
                               autocommit=True)

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        if self.vendor == "sqlite":
            with closing(sqlite3.connect(self.root / "drill.sqlite3")) as db:
                return db.execute(sql).fetchall()
        with self._pg() as db:
            return db.execute(sql).fetchall()  # type: ignore[no-any-return]

    def row_digests(self, tables: list[str]) -> dict[str, list[str]]:
        """Every row of every table, hashed in primary-key order: what the test compares before and after."""
        digests = {}
        for table in tables:
            rows = self.query(f'SELECT * FROM "{table}" ORDER BY 1')  # noqa: S608 - names from the models
            digests[table] = [hashlib.sha256(repr(row).encode()).hexdigest() for row in rows]
        return digests

    def count(self, table: str) -> int:
        return int(self.query(f'SELECT count(*) FROM "{table}"')[0][0])  # noqa: S608

    def file_digests(self) -> dict[str, str]:
        return {path.relative_to(self.media).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
                for path in sorted(self.media.rglob("*")) if path.is_file()}

    def newest_manifest(self) -> dict[str, Any]:
        newest = sorted(self.backups.glob("backup-*"))[-1]
        return json.loads((newest / "manifest.json").read_text())  # type: ignore[no-any-return]

    def destroy(self) -> None:
        """The database and every photo gone: the file deleted, or the PostgreSQL database dropped and made
        anew, empty (pg_restore needs a database to restore into)."""
        if self.vendor == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.root / 'drill.sqlite3'}{suffix}").unlink(missing_ok=True)
        else:
            name = environ.Env.db_url_config(self.url)["NAME"]
            with self._pg("postgres") as db:
                db.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
                db.execute(f'CREATE DATABASE "{name}"')
        shutil.rmtree(self.media)


# One per package: migrating takes seconds, and each test leaves the database restored and whole.
@pytest.fixture(scope="package")
def drill(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Drill]:
    root = tmp_path_factory.mktemp("drill")
    suite_url = os.environ.get("DATABASE_URL", "")
    if suite_url.startswith("postgis"):
        parts = urlsplit(suite_url)
        name = f"drill_{uuid.uuid4().hex[:10]}"
        url, vendor = urlunsplit(parts._replace(path=f"/{name}")), "postgresql"
    else:
        url, vendor = f"spatialite:///{root / 'drill.sqlite3'}", "sqlite"
    env = {**os.environ, "DATABASE_URL": url, "MEDIA_ROOT": str(root / "media"), "BACKUP_DIR": str(root / "backups"),
           "CHANNEL_LAYER": "memory", "DJANGO_SETTINGS_MODULE": "bukaamanzi.settings"}
    drill = Drill(root=root, url=url, vendor=vendor, env=env)
    if vendor == "postgresql":
        with drill._pg("postgres") as db:
            db.execute(f'CREATE DATABASE "{name}"')
    (root / "media").mkdir()
    drill.manage("migrate", "--no-input", "-v", "0")
    yield drill
    if vendor == "postgresql":
        with drill._pg("postgres") as db:
            db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
