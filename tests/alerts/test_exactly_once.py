"""Exactly once, with real processes: `manage.py send_alerts` run in other processes against the same database
and a real SMTP server. A sender killed between claiming and sending leaves nothing lost (the next pass sends
what it had claimed, once the lease runs out) and nothing doubled; two senders at once send every email once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.db import connection

from tests.alerts.smtp import SmtpServer, text_of
from tests.realtime.test_end_to_end import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


class Processes:
    """Runs manage.py in other processes on this test's database (PostGIS) or on a SpatiaLite file."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def manage(self, *args: str, timeout: float = 120) -> str:
        result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True,
                                text=True, timeout=timeout)
        assert result.returncode == 0, result.stderr[-4000:]
        return result.stdout

    def start_sender(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "manage.py", "send_alerts"], cwd=ROOT, env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def count(self, expression: str) -> int:
        return int(self.manage("shell", "-c", f"print({expression})").strip().splitlines()[-1])


@pytest.fixture
def processes(smtp_server: SmtpServer, tmp_path: Path) -> Iterator[Processes]:
    env = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "bukaamanzi.settings", "CHANNEL_LAYER": "memory",
        "EMAIL_URL": smtp_server.url, "EMAIL_TIMEOUT": "60", "SITE_URL": "https://bukaamanzi.example",
        "ALERT_SEND_LEASE_SECONDS": "2", "LOG_LEVEL": "WARNING", "LOAD_DEMO_DATA": "false",
    }
    if connection.vendor == "postgresql":
        from municipalities.models import Municipality
        from municipalities.services import municipality_load_reference

        if not Municipality.objects.exists():  # emptied by the transactional test before this one
            municipality_load_reference()
        # The same server as this test run, but the test database pytest-django created.
        env["DATABASE_URL"] = urlsplit(os.environ["DATABASE_URL"])._replace(
            path=f"/{connection.settings_dict['NAME']}").geturl()
        yield Processes(env)
        return
    env["DATABASE_URL"] = f"spatialite:///{tmp_path / 'site.sqlite3'}"
    site = Processes(env)
    site.manage("migrate", "--no-input", "-v", "0")
    site.manage("load_municipalities")
    yield site


def received(smtp_server: SmtpServer) -> Counter[tuple[str, str]]:
    """(address, kind) -> how many emails arrived."""
    counts: Counter[tuple[str, str]] = Counter()
    for message in smtp_server.mailbox.messages:
        kind = "confirmation" if "follow" in message["Subject"] and "update" not in message["Subject"] else "alert"
        counts[(message["To"], kind)] += 1
        if kind == "alert":
            body = text_of(message)
            assert all(f"{p}%" in body for p in ("20", "30", "40")), body
    return counts


def test_a_sender_killed_between_claim_and_send_loses_nothing_and_doubles_nothing(
        processes: Processes, smtp_server: SmtpServer) -> None:
    processes.manage("shell", "-c", "from tests.alerts.scenario import seed; seed(3)")
    smtp_server.mailbox.stall = True  # the server takes the first email's DATA and never answers
    sender = processes.start_sender()
    assert smtp_server.mailbox.stalled.wait(60), sender.communicate(timeout=5)
    sender.send_signal(signal.SIGKILL)
    sender.wait(timeout=10)
    smtp_server.mailbox.stall = False
    # It had claimed every alert email and sent none.
    assert processes.count("__import__('alerts.models').models.Delivery.objects.filter(kind='alerts').count()") == 3
    assert processes.count("__import__('alerts.models').models.Delivery.objects.filter(sent_at__isnull=False)"
                           ".count()") == 0
    assert smtp_server.mailbox.messages == []
    time.sleep(2.5)  # the dead sender's lease runs out
    processes.manage("send_alerts")
    processes.manage("send_alerts")
    expected = {(f"once{n}@example.org", kind): 1 for n in range(3) for kind in ("confirmation", "alert")}
    assert received(smtp_server) == expected


def test_two_senders_at_once_send_every_email_once(processes: Processes, smtp_server: SmtpServer) -> None:
    count = 40
    processes.manage("shell", "-c", f"from tests.alerts.scenario import seed; seed({count})")
    senders = [processes.start_sender() for _ in range(2)]
    for sender in senders:
        _out, errors = sender.communicate(timeout=120)
        assert sender.returncode == 0, errors.decode()[-3000:]
    processes.manage("send_alerts")  # whatever either left (nothing should be left)
    expected = {(f"once{n}@example.org", kind): 1 for n in range(count) for kind in ("confirmation", "alert")}
    assert received(smtp_server) == expected
