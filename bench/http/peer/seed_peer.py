"""Copy our bench projects into the FastAPI peer's SQLite database, so that both sides serve the same rows.

    var/bench/peer-venv/bin/python bench/http/peer/seed_peer.py OURS.sqlite3 [PEER_DB]   (default var/bench/peer.db)

Run with the peer's venv (it imports the peer's models to create its tables) built from Debian's python, whose
sqlite3 can load mod_spatialite to read our geometry blobs. OURS is a SpatiaLite file seeded by bench/api/seed.py
(its ids are random uuid4s, so ids can only be copied, not regenerated). Copied: the projects our public API shows
(not is_demo), their two Budget rows each, and the municipalities they reference. PEER_DB is rebuilt from nothing
on every run (written beside it, then renamed over it), so re-running replaces it.

Differences the peer's schema forces:
- ids: our SQLite columns hold uuids as 32 hex digits; the peer's are String(36), written in the hyphenated form
  (the form in our URLs), so the same id string works in both APIs. A budget's integer id becomes its decimal string.
- location: a `POINT(lng lat)` WKT string from the point's own coordinates (Python's shortest repr), or null.
- progress_percentage: ours is a nullable decimal (null in the bench seed); the peer's is a non-null int: rounded,
  null becomes 0 (the peer's column default).
- status, from our OC4IDS-based vocabulary to the one the peer writes and checks (its ETL and data_quality.py):
      identification -> planned        preparation -> planned        implementation -> in_progress
      completed      -> completed      cancelled   -> cancelled      on_hold        -> delayed
      unknown        -> unknown        (the peer's ETL default for a status it cannot read)
Projects are written in the order seed.py created them (by external_id), as the peer's list pages have no ORDER BY.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
PEER_BACKEND = Path(os.environ.get("PEER_BACKEND", "/work/shared/peer/backend"))
STATUS_MAP = {
    "identification": "planned",
    "preparation": "planned",
    "implementation": "in_progress",
    "completed": "completed",
    "cancelled": "cancelled",
    "on_hold": "delayed",
    "unknown": "unknown",
}
BATCH = 5000


def hyphenated(hex32: str | None) -> str | None:
    return None if hex32 is None else str(uuid.UUID(hex32))


def when(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def day(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def read_ours(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    ours = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    ours.row_factory = sqlite3.Row
    ours.enable_load_extension(True)
    ours.load_extension("mod_spatialite")
    projects = [
        {
            "id": hyphenated(r["id"]), "external_id": r["external_id"], "source": r["source"],
            "municipality_id": hyphenated(r["municipality_id"]), "name": r["name"], "description": r["description"],
            "project_type": r["project_type"], "status": STATUS_MAP[r["status"]],
            "start_date": day(r["start_date"]), "end_date": day(r["end_date"]),
            "location": None if r["x"] is None else f"POINT({r['x']!r} {r['y']!r})", "address": r["address"],
            "budget_allocated": r["budget_allocated"], "budget_spent": r["budget_spent"],
            "progress_percentage": round(r["progress_percentage"] or 0), "contractor": r["contractor"],
            "raw_data": json.loads(r["raw_data"]), "content_hash": r["content_hash"],
            "last_scraped_at": when(r["last_scraped_at"]),
            "created_at": when(r["created_at"]), "updated_at": when(r["updated_at"]),
        }
        for r in ours.execute(
            "SELECT *, ST_X(location) AS x, ST_Y(location) AS y FROM projects_project WHERE NOT is_demo"
            " ORDER BY external_id"
        )
    ]
    budgets = [
        {
            "id": str(r["id"]), "project_id": hyphenated(r["project_id"]), "budget_type": r["budget_type"],
            "amount": r["amount"], "currency": r["currency"], "financial_year": r["financial_year"],
            "quarter": r["quarter"], "source": r["source"], "raw_data": json.loads(r["raw_data"]),
            "created_at": when(r["created_at"]),
        }
        for r in ours.execute(
            "SELECT b.* FROM projects_budget b JOIN projects_project p ON p.id = b.project_id WHERE NOT p.is_demo"
            " ORDER BY b.id"
        )
    ]
    municipalities = [
        {
            "id": hyphenated(r["id"]), "name": r["name"], "code": r["code"], "province": r["province"],
            "project_count": r["project_count"], "total_value": r["total_value"],
            "dashboard_url": r["dashboard_url"], "created_at": when(r["created_at"]),
            "updated_at": when(r["updated_at"]),
        }
        for r in ours.execute(
            "SELECT * FROM municipalities_municipality WHERE id IN"
            " (SELECT municipality_id FROM projects_project WHERE NOT is_demo) ORDER BY code"
        )
    ]
    ours.close()
    return municipalities, projects, budgets


def write_peer(path: Path, municipalities: list, projects: list, budgets: list) -> None:
    # The peer's session module builds its async engine from DATABASE_URL at import: point it at the target, not at
    # its default ./waterwatch.db (nothing connects through that engine here).
    os.environ["DATABASE_URL"] = f"sqlite+aiosqlite:///{path}"
    sys.path.insert(0, str(PEER_BACKEND))
    from app.db.models import Base, Budget, Municipality, Project
    from sqlalchemy import create_engine, insert

    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    engine = create_engine(f"sqlite:///{tmp}")
    Base.metadata.create_all(engine)  # the peer's own tables and indexes, as its init_db makes them
    with engine.begin() as conn:
        for model, rows in ((Municipality, municipalities), (Project, projects), (Budget, budgets)):
            for start in range(0, len(rows), BATCH):
                conn.execute(insert(model), rows[start:start + BATCH])
        conn.exec_driver_sql("ANALYZE")  # as bench/api/seed.py does for ours
    engine.dispose()
    for stale in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    os.replace(tmp, path)


def main() -> None:
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    ours = Path(sys.argv[1]).resolve()
    peer = Path(sys.argv[2]).resolve() if len(sys.argv) == 3 else ROOT / "var" / "bench" / "peer.db"
    if not ours.is_file():
        sys.exit(f"seed_peer.py: no database at {ours}")
    municipalities, projects, budgets = read_ours(ours)
    peer.parent.mkdir(parents=True, exist_ok=True)
    write_peer(peer, municipalities, projects, budgets)
    print(f"{peer}: {len(projects)} projects, {len(budgets)} budgets, {len(municipalities)} municipalities")


if __name__ == "__main__":
    main()
