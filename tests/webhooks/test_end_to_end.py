"""Webhooks end to end with a real django-q2 cluster on a SpatiaLite file: a change made in the worker through the
service path is fanned out on commit, the send pass is queued on the cluster, and the test's receiver gets each
change once, signed. Then the worker is killed with deliveries owed; a new worker sends them (none lost)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest

from tests.realtime.test_end_to_end import PYTHON, Site, free_port, wait_until
from tests.webhooks.receivers import Receiver

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    site = Site.in_directory(tmp_path_factory.mktemp("webhooks-e2e"), free_port(), Q_WORKERS="1",
                             CHANNEL_LAYER="memory", WEBHOOKS_ALLOW_PRIVATE="true")
    site.manage("migrate", "--no-input", "-v", "0")
    site.start("worker", PYTHON, "manage.py", "qcluster")
    try:
        yield site
    finally:
        site.stop_all()


@pytest.fixture(scope="module")
def project_id(site: Site) -> str:
    return site.manage(
        "shell", "-c",
        "from projects.models import Project;"
        "p = Project.objects.create(source='municipal_money', external_id='HOOK-1', name='Reservoir upgrade',"
        " status='implementation', progress_percentage=10);"
        "print(p.pk)",
    ).splitlines()[-1]


@pytest.fixture
def good(site: Site) -> Iterator[Receiver]:
    receiver = Receiver().start()
    receiver.secret = site.manage(
        "shell", "-c",
        "from webhooks.services import SubscriptionFields, subscription_create;"
        f"s, secret = subscription_create(fields=SubscriptionFields(url={receiver.url!r},"
        " event_types=['project.updated']), created_by='e2e', reason='end-to-end test');"
        "print(secret)",
    ).splitlines()[-1]
    yield receiver
    receiver.stop()


def test_a_change_made_in_the_worker_reaches_the_receiver_once_signed(site: Site, project_id: str, good: Receiver):
    started = time.monotonic()
    site.queue("realtime.tasks.project_progress_set", project_id, "42")
    site.queue("realtime.tasks.project_progress_set", project_id, "43")

    wait_until(lambda: len(good.received) >= 2, f"not delivered: {site.log('worker')}", timeout=30)
    time.sleep(1)  # anything sent twice would arrive now

    assert good.bad_signatures == 0
    assert [r.body["data"]["new_values"]["progress_percentage"] for r in good.received] == ["42", "43"]
    assert all(n == 1 for n in good.change_ids().values()) and len(good.change_ids()) == 2
    assert time.monotonic() - started < 30


def test_deliveries_owed_when_the_worker_dies_are_sent_by_the_next_one(site: Site, project_id: str,
                                                                      good: Receiver):
    worker = site.processes.pop("worker")
    # The whole cluster (its own session: the sentinel and its worker processes), with no clean shutdown.
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    # Made in this process (no worker running): fanned out on commit, its pass queued for a worker to come.
    site.manage("shell", "-c", f"from realtime.tasks import project_progress_set; "
                               f"project_progress_set({project_id!r}, '77')")
    time.sleep(1)
    assert good.received == []

    site.start("worker", PYTHON, "manage.py", "qcluster")
    wait_until(lambda: len(good.received) >= 1, f"not delivered: {site.log('worker')}", timeout=60)
    time.sleep(1)

    assert [r.body["data"]["new_values"]["progress_percentage"] for r in good.received] == ["77"]
