"""The outbox relay against the real Redis channel layer (the pub/sub layer the site is configured with)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.db import transaction

from changelog.models import DataChangeLog
from realtime import relay
from realtime.tasks import project_progress_set
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


def redis_layer(address: str) -> dict[str, Any]:
    return {
        "default": {
            "BACKEND": "realtime.layers.SlicedPubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": address}]},
        }
    }


@pytest.fixture
def real_redis(settings: pytest.FixtureRequest, redis_server: str) -> str:
    settings.CHANNEL_LAYERS = redis_layer(redis_server)
    return redis_server


def listen(groups: list[str], action: Callable[[], Any], expect: int, timeout: float = 3) -> list[dict[str, Any]]:
    """Join `groups` on the real layer, run `action` (sync, on this thread), collect `expect` messages."""

    async def scenario() -> list[dict[str, Any]]:
        layer = get_channel_layer()
        channel = await layer.new_channel()
        for group in groups:
            await layer.group_add(group, channel)
        await sync_to_async(action)()
        received = []
        try:
            for _ in range(expect):
                received.append(await asyncio.wait_for(layer.receive(channel), timeout))
            # Anything more within a moment would be a duplicate.
            extra = await asyncio.wait_for(layer.receive(channel), 0.3)
            received.append(extra)
        except TimeoutError:
            pass
        return received

    return async_to_sync(scenario)()


def test_relay_sends_each_committed_change_to_its_groups_and_marks_it_sent(real_redis: str) -> None:
    project = ProjectFactory()
    DataChangeLog.objects.update(notification_sent=True)

    def change() -> None:
        project_progress_set(str(project.pk), "55")
        assert relay.relay_pending() == 1

    for group in ("all", f"project-{project.pk}", "municipality-CPT"):
        messages = listen([group], change, expect=1)
        assert len(messages) == 1, group
        message = messages[0]
        assert message["type"] == "change.update"
        assert message["match"]["status"] == "implementation"
        assert message["match"]["project_type"] == "Water supply"
        wire = json.loads(message["text"])
        assert wire["id"] == message["id"]
        assert wire["data"]["new_values"] == {"progress_percentage": "55"}
        assert DataChangeLog.objects.get(pk=message["id"]).notification_sent


def test_relay_runs_once_on_commit_of_the_writing_transaction(
    real_redis: str, django_capture_on_commit_callbacks: Any
) -> None:
    first, second = ProjectFactory(), ProjectFactory()
    DataChangeLog.objects.update(notification_sent=True)

    def change() -> None:
        with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
            project_progress_set(str(first.pk), "61")
            project_progress_set(str(second.pk), "62")
        assert len(callbacks) == 1  # one relay run per transaction, however many rows it wrote

    messages = listen(["all"], change, expect=2)
    assert [json.loads(m["text"])["data"]["entity_id"] for m in messages] == [str(first.pk), str(second.pk)]
    assert not DataChangeLog.objects.unsent().exists()


def test_change_made_while_redis_is_down_is_kept_and_sent_once_it_is_back(
    settings: pytest.FixtureRequest, redis_server: str, tmp_path: Path
) -> None:
    project = ProjectFactory()
    DataChangeLog.objects.update(notification_sent=True)
    settings.CHANNEL_LAYERS = redis_layer(f"unix://{tmp_path / 'no-redis.sock'}")

    project_progress_set(str(project.pk), "71")
    relay.relay_after_commit()  # must neither raise nor mark anything sent
    pending = list(DataChangeLog.objects.unsent())
    assert len(pending) == 1

    settings.CHANNEL_LAYERS = redis_layer(redis_server)
    messages = listen(["all"], relay.relay_pending, expect=1)
    assert [m["id"] for m in messages] == [pending[0].pk]
    assert not DataChangeLog.objects.unsent().exists()
    assert listen(["all"], relay.relay_pending, expect=0) == []  # nothing is sent twice


def test_unsent_changes_go_out_oldest_first(real_redis: str) -> None:
    project = ProjectFactory()
    DataChangeLog.objects.update(notification_sent=True)
    for value in ("1", "2", "3", "4", "5"):
        project_progress_set(str(project.pk), value)
    messages = listen([f"project-{project.pk}"], relay.relay_pending, expect=5)
    assert [json.loads(m["text"])["data"]["new_values"]["progress_percentage"] for m in messages] == [
        "1", "2", "3", "4", "5"
    ]


def test_relay_sweep_command_sends_what_is_pending(real_redis: str) -> None:
    from django.core.management import call_command

    project = ProjectFactory()
    DataChangeLog.objects.update(notification_sent=True)
    project_progress_set(str(project.pk), "90")
    messages = listen(["all"], lambda: call_command("relay_sweep"), expect=1)
    assert len(messages) == 1
