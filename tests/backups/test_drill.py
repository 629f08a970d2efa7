"""The restore drill: the site writes while a backup runs; the database and the photos are destroyed; the backup
is restored; every table's rows and every file are compared with what the site had when the backup was taken.
Runs on the suite's engine (SpatiaLite, and PostGIS in `make test`'s second pass)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from bukaamanzi.backups import table_names
from tests.backups.conftest import BASE_DIR, Drill

CHANGES = "realtime_datachangelog"  # the table the writer fills (changelog.DataChangeLog)
# Columns the writer's rows keep for ever: the relay marks rows as sent after the snapshot, which the backup
# rightly does not have.
FIXED = "id, entity_type, entity_id, change_type, new_values"


def _wait_for(condition, seconds: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def test_a_backup_taken_while_the_site_writes_restores_every_table_and_photo(drill: Drill) -> None:
    for name in ("photos/2026/12/first.jpg", "photos/2026/12/second.jpg"):
        (drill.media / name).parent.mkdir(parents=True, exist_ok=True)
        (drill.media / name).write_bytes(name.encode() * 500)
    stop = drill.root / "stop-writing"
    writer = subprocess.Popen([sys.executable, "-m", "tests.backups.drill_writer", str(stop)], cwd=BASE_DIR,
                              env=drill.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: drill.count(CHANGES) >= 20)
        before = drill.count(CHANGES)
        drill.manage("backup")
        after = drill.count(CHANGES)
        _wait_for(lambda: drill.count(CHANGES) > after)  # still writing once the backup is done
    finally:
        stop.touch()
        out, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err
    assert before < after, "the writer wrote nothing while the backup ran"

    manifest = drill.newest_manifest()
    in_backup = manifest["database"]["tables"][CHANGES]["rows"]
    assert before <= in_backup <= after  # one snapshot, taken while the command ran
    tables = [name for name in table_names() if name in manifest["database"]["tables"]]
    others = [name for name in tables if name != CHANGES]
    live = drill.row_digests(others)
    live_changes = drill.query(f"SELECT {FIXED} FROM {CHANGES} ORDER BY id")  # noqa: S608
    live_files = drill.file_digests()
    assert len(live_changes) > in_backup and len(live_files) > len(manifest["media"])

    drill.destroy()
    assert not drill.media.exists()
    result = drill.manage("restore", "--no-input")
    assert "match its manifest" in result.stdout

    assert drill.row_digests(others) == live
    restored_changes = drill.query(f"SELECT {FIXED} FROM {CHANGES} ORDER BY id")  # noqa: S608
    assert restored_changes == live_changes[:in_backup]
    assert {name: facts["rows"] for name, facts in manifest["database"]["tables"].items()} == {
        name: drill.count(name) for name in tables}
    restored_files = drill.file_digests()
    assert restored_files == {name: live_files[name] for name in manifest["media"]}
    assert {"photos/2026/12/first.jpg", "photos/2026/12/second.jpg"} <= set(restored_files)
    # Every change in the backup finds its photo: files are copied after the database.
    named = {(row[4] if isinstance(row[4], dict) else json.loads(row[4]))["file"] for row in restored_changes}
    assert named <= set(restored_files)
