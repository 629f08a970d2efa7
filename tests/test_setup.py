"""The set-up commands: idempotent, and clear about what is wrong when something is."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def manage(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "CHANNEL_LAYER": "memory", **(env or {})},
    )


def test_preparing_twice_changes_nothing_the_second_time(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"spatialite:///{tmp_path / 'site.sqlite3'}"}
    for _ in range(2):
        assert manage("migrate", "--no-input", "-v", "0", env=env).returncode == 0
        municipalities = manage("load_municipalities", env=env)
        demo = manage("load_demo_data", env=env)
        assert municipalities.returncode == 0 and demo.returncode == 0, municipalities.stderr + demo.stderr
    assert "0 created, 0 updated, 257 unchanged" in municipalities.stdout
    assert "not needed" in demo.stdout


def test_the_spatialite_database_runs_in_wal_mode(tmp_path: Path) -> None:
    import sqlite3

    database = tmp_path / "site.sqlite3"
    assert manage("migrate", "--no-input", "-v", "0", env={"DATABASE_URL": f"spatialite:///{database}"}).returncode == 0
    assert sqlite3.connect(database).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DATABASE_URL", "mysql://db/site", "DATABASE_URL must start with spatialite:// or postgis://"),
        ("DEBUG", "maybe", "DEBUG must be true or false"),
        ("HTTP_RETRIES", "three", "HTTP_RETRIES has an unusable value"),
        ("REDIS_URL", "http://redis", "REDIS_URL must start with"),
        ("SPATIALITE_LIBRARY_PATH", "/nowhere/mod_spatialite", "SpatiaLite"),
    ],
)
def test_a_bad_setting_stops_start_up_with_a_message_not_a_traceback(
    variable: str, value: str, message: str, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": f"spatialite:///{tmp_path / 'site.sqlite3'}", variable: value}
    result = manage("migrate", "--plan", env=env)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreachable_database_is_reported_in_one_line(tmp_path: Path) -> None:
    result = manage("migrate", "--plan", env={"DATABASE_URL": f"postgis://nobody@/none?host={tmp_path}"})
    assert result.returncode != 0
    assert "Cannot reach the database" in result.stderr and "Traceback" not in result.stderr


def test_the_system_set_up_is_quick_and_silent_when_everything_is_installed() -> None:
    result = subprocess.run(["scripts/setup.sh"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Installing" not in result.stdout
