"""How long `manage.py backup` and `manage.py restore` take on a site-sized database with photos.

Makes a database of its own (a SpatiaLite file under var/bench/backups/, or with --postgis URL a new database in
that PostGIS cluster), migrates it, loads the municipalities, seeds N projects (bench/api/seed.py, two budgets
each) and P photo-sized files of random bytes, then times each command as an operator runs it (a process of its
own, start-up included), destroys the database and photos and times the restore. Not for real sites.

    .venv/bin/python bench/backups/run.py [--projects 50000] [--photos 300] [--photo-kb 400] [--postgis URL]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=50_000)
    parser.add_argument("--photos", type=int, default=300)
    parser.add_argument("--photo-kb", type=int, default=400)
    parser.add_argument("--postgis", default="", help="a postgis:// URL of a cluster (its database name is replaced)")
    args = parser.parse_args()

    root = BASE_DIR / "var" / "bench" / "backups"
    shutil.rmtree(root, ignore_errors=True)
    (root / "media" / "photos").mkdir(parents=True)
    if args.postgis:
        import psycopg

        parts = urlsplit(args.postgis)
        host = dict(pair.split("=", 1) for pair in parts.query.split("&") if "=" in pair).get("host")
        admin = {"host": host or parts.hostname, "port": parts.port, "user": parts.username or None,
                 "dbname": "postgres", "autocommit": True}
        with psycopg.connect(**admin) as db:  # type: ignore[arg-type]
            db.execute("DROP DATABASE IF EXISTS bench_backups WITH (FORCE)")
            db.execute("CREATE DATABASE bench_backups")
        url = urlunsplit(parts._replace(path="/bench_backups"))
    else:
        url = f"spatialite:///{root / 'bench.sqlite3'}"
    env = {**os.environ, "DATABASE_URL": url, "MEDIA_ROOT": str(root / "media"), "BACKUP_DIR": str(root / "out"),
           "CHANNEL_LAYER": "memory"}

    def run(*command: str) -> float:
        started = time.perf_counter()
        subprocess.run([sys.executable, *command], cwd=BASE_DIR, env=env, check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - started

    run("manage.py", "migrate", "-v", "0")
    run("manage.py", "load_municipalities")
    run("bench/api/seed.py", str(args.projects))
    for n in range(args.photos):
        (root / "media" / "photos" / f"{n:05d}.jpg").write_bytes(os.urandom(args.photo_kb * 1024))

    backup_seconds = run("manage.py", "backup")
    made = sorted((root / "out").glob("backup-*"))[-1]
    manifest = json.loads((made / "manifest.json").read_text())
    dump = made / manifest["database"]["file"]
    rows = sum(table["rows"] for table in manifest["database"]["tables"].values())
    media_bytes = sum(path.stat().st_size for path in (made / "media").rglob("*") if path.is_file())

    if args.postgis:
        import psycopg

        with psycopg.connect(**admin) as db:  # type: ignore[arg-type]
            db.execute("DROP DATABASE bench_backups WITH (FORCE)")
            db.execute("CREATE DATABASE bench_backups")
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{root / 'bench.sqlite3'}{suffix}").unlink(missing_ok=True)
    shutil.rmtree(root / "media")
    restore_seconds = run("manage.py", "restore", "--no-input")

    engine = "PostGIS" if args.postgis else "SpatiaLite"
    tables = len(manifest["database"]["tables"])
    print(f"{engine}: {rows} rows in {tables} tables, dump {dump.stat().st_size / 1e6:.1f} MB;"
          f" {len(manifest['media'])} files, {media_bytes / 1e6:.1f} MB")
    print(f"backup  {backup_seconds:.1f} s (manage.py, start-up included)")
    print(f"restore {restore_seconds:.1f} s (checksums before and after included)")


if __name__ == "__main__":
    main()
