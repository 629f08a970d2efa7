"""`manage.py backup` and `restore` as an operator uses them: the newest backup unless one is named, a
confirmation unless --no-input, refusals that change nothing, and the nightly schedule that keeps BACKUP_KEEP."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bukaamanzi.backups import (
    SCHEDULE_NAME,
    BackupError,
    backup_resolve,
    backup_verify,
    backups_list,
    backups_prune,
    planned_schedules,
)
from tests.backups.conftest import Drill

ADD_USER = ("from django.contrib.auth.models import User; "
            "User.objects.create_user(username='u%d' % User.objects.count(), password='not-used-0')")


def _backup(drill: Drill) -> Path:
    drill.manage("backup")
    return sorted(drill.backups.glob("backup-*"))[-1]


def test_restore_takes_the_newest_backup_unless_told_which(drill: Drill) -> None:
    users = drill.count("auth_user")
    older = _backup(drill)
    drill.manage("shell", "-c", ADD_USER)
    _backup(drill)
    drill.manage("shell", "-c", ADD_USER)
    assert drill.count("auth_user") == users + 2

    drill.manage("restore", "--no-input")
    assert drill.count("auth_user") == users + 1
    drill.manage("restore", older.name, "--no-input")
    assert drill.count("auth_user") == users


def test_restore_asks_before_it_replaces_anything(drill: Drill) -> None:
    _backup(drill)
    drill.manage("shell", "-c", ADD_USER)
    users = drill.count("auth_user")

    refused = drill.manage("restore", stdin="no\n", check=False)
    assert refused.returncode == 1 and "cancelled" in refused.stderr
    assert drill.count("auth_user") == users

    drill.manage("restore", stdin="yes\n")
    assert drill.count("auth_user") == users - 1


def test_a_damaged_backup_is_refused_before_the_site_is_touched(drill: Drill) -> None:
    (drill.media / "photos").mkdir(exist_ok=True)
    (drill.media / "photos" / "kept.jpg").write_bytes(b"photo" * 100)
    backup = _backup(drill)
    (drill.media / "photos" / "new.jpg").write_bytes(b"newer")
    (backup / "media" / "photos" / "kept.jpg").write_bytes(b"tampered")

    result = drill.manage("restore", "--no-input", check=False)
    assert result.returncode == 1 and "missing or damaged" in result.stderr and "kept.jpg" in result.stderr
    assert (drill.media / "photos" / "new.jpg").exists()  # nothing was replaced
    with pytest.raises(BackupError):
        backup_verify(backup)


def test_a_backup_of_the_other_engine_is_refused_clearly(drill: Drill) -> None:
    backup = _backup(drill)
    manifest = json.loads((backup / "manifest.json").read_text())
    other = "postgresql" if drill.vendor == "sqlite" else "sqlite"
    manifest["engine"] = other
    (backup / "manifest.json").write_text(json.dumps(manifest))
    users = drill.count("auth_user")

    result = drill.manage("restore", "--no-input", check=False)
    assert result.returncode == 1
    assert "restoring from one engine to the other is not supported" in result.stderr
    assert drill.count("auth_user") == users
    shutil.rmtree(backup)


def test_the_nightly_task_backs_up_and_keeps_the_newest_backup_keep(drill: Drill) -> None:
    for _ in range(2):
        _backup(drill)
    assert len(backups_list(drill.backups)) >= 2
    before = backups_list(drill.backups)
    drill.env["BACKUP_KEEP"] = "2"
    try:
        drill.manage("shell", "-c", "from bukaamanzi.backups import nightly_backup; nightly_backup()")
    finally:
        del drill.env["BACKUP_KEEP"]
    after = backups_list(drill.backups)
    assert len(after) == 2 and after[0] == before[-1] and after[1] not in before


def test_prune_keeps_the_newest_and_clears_what_a_dead_run_left(tmp_path: Path) -> None:
    for name in ("backup-20261201T013000Z", "backup-20261202T013000Z", "backup-20261203T013000Z"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "manifest.json").write_text("{}")
    (tmp_path / ".backup-20261202T013000Z-abc").mkdir()  # died half-way: no manifest, hidden
    (tmp_path / ".backup-20261204T013000Z-def").mkdir()  # may be running now: newer than the newest
    (tmp_path / "backup-20261205T013000Z").mkdir()  # no manifest: never counted as a backup

    assert [path.name for path in backups_prune(keep=2, directory=tmp_path)] == [
        "backup-20261201T013000Z", ".backup-20261202T013000Z-abc"]
    assert backup_resolve(directory=tmp_path).name == "backup-20261203T013000Z"
    assert (tmp_path / ".backup-20261204T013000Z-def").exists()
    with pytest.raises(BackupError):
        backups_prune(keep=0, directory=tmp_path)
    with pytest.raises(BackupError, match="not a backup"):
        backup_resolve("backup-20261205T013000Z", directory=tmp_path)


def test_the_nightly_backup_is_a_schedule_at_backup_at(settings, db) -> None:  # type: ignore[no-untyped-def]
    from django.core.management import call_command
    from django.utils import timezone
    from django_q.models import Schedule

    settings.BACKUP_AT = "02:45"
    (plan,) = planned_schedules()
    assert plan.name == SCHEDULE_NAME and plan.func == "bukaamanzi.backups.nightly_backup"
    assert timezone.localtime(plan.next_run).strftime("%H:%M") == "02:45"
    call_command("setup_schedules")
    assert Schedule.objects.get(name=SCHEDULE_NAME).schedule_type == Schedule.DAILY
