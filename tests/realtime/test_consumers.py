"""The JSON feed (/ws/projects, /ws/municipalities/<id>) as API clients use it, through the ASGI application."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from bukaamanzi.asgi import application
from bukaamanzi.lib.redis_server import start_private_redis
from projects.models import Project, Status
from realtime import relay
from realtime.notify import system_error_send
from realtime.tasks import project_progress_set
from reports.services import report_submit
from tests.factories import ProjectFactory, municipality
from tests.realtime.conftest import HEADERS, connect, receive, send
from tests.realtime.test_relay import redis_layer

pytestmark = pytest.mark.django_db


@database_sync_to_async
def change_progress(project: Project, progress: str) -> None:
    """A change made through the service path, then relayed as the on-commit hook would after the commit."""
    project_progress_set(str(project.pk), progress)
    relay.relay_pending()


@database_sync_to_async
def make_project(**values: object) -> Project:
    return ProjectFactory(**values)


async def nothing_more(communicator: WebsocketCommunicator) -> bool:
    return await communicator.receive_nothing(timeout=0.3)


def test_subscriber_to_all_receives_data_update_with_old_and_new_values_and_change_id() -> None:
    async def scenario() -> None:
        project = await make_project()
        client = await connect()
        confirmed = await send(client, action="subscribe", entity_type="all", entity_id=None)
        assert confirmed["type"] == "subscription_confirmed"
        assert confirmed["entity_type"] == "all"
        await change_progress(project, "40")
        update = await receive(client)
        assert update["type"] == "data_update"
        assert isinstance(update["id"], int) and update["id"] > confirmed["latest_id"]
        assert update["timestamp"]
        data = update["data"]
        assert data["entity_type"] == "project"
        assert data["entity_id"] == str(project.pk)
        assert data["change_type"] == "updated"
        assert data["changes"] == ["progress_percentage"]
        assert data["old_values"] == {"progress_percentage": "25.00"}
        assert data["new_values"] == {"progress_percentage": "40"}
        assert data["municipality_code"] == "CPT"
        await client.disconnect()

    async_to_sync(scenario)()


def test_project_subscriber_receives_only_that_project_and_its_reports() -> None:
    async def scenario() -> None:
        mine, other = await make_project(), await make_project()
        client = await connect()
        await send(client, action="subscribe", entity_type="project", entity_id=str(mine.pk))
        await change_progress(other, "30")
        assert await nothing_more(client)
        await change_progress(mine, "35")
        assert (await receive(client))["data"]["entity_id"] == str(mine.pk)

        await database_sync_to_async(report_submit)(
            title="Leak at the pump station", description="Water running down the road.",
            report_type="issue", lng=18.43, lat=-33.93, project=mine, email="hidden@example.org",
        )
        await database_sync_to_async(relay.relay_pending)()
        report = await receive(client)
        assert report["data"]["entity_type"] == "report"
        assert report["data"]["project_id"] == str(mine.pk)
        assert "hidden@example.org" not in str(report)
        await client.disconnect()

    async_to_sync(scenario)()


def test_status_filter_lets_through_only_projects_in_those_statuses() -> None:
    async def scenario() -> None:
        building = await make_project(status=Status.IMPLEMENTATION)
        done = await make_project(status=Status.COMPLETED)
        client = await connect()
        confirmed = await send(client, action="subscribe", entity_type="all", filters={"status": ["completed"]})
        assert confirmed["filters"]["status"] == ["completed"]
        await change_progress(building, "50")
        assert await nothing_more(client)
        await change_progress(done, "100")
        assert (await receive(client))["data"]["entity_id"] == str(done.pk)
        await client.disconnect()

    async_to_sync(scenario)()


def test_municipality_and_project_type_filters_apply_to_the_pushed_values() -> None:
    async def scenario() -> None:
        cape_town_sewer = await make_project(project_type="Sewer reticulation")
        cape_town_water = await make_project(project_type="Water supply")
        joburg = await database_sync_to_async(municipality)("JHB")
        joburg_sewer = await make_project(project_type="Sewer reticulation", municipality=joburg)
        client = await connect()
        confirmed = await send(
            client, action="subscribe", entity_type="all",
            filters={"municipality_id": str(joburg.pk), "project_type": ["sewer RETICULATION"]},
        )
        assert confirmed["filters"]["municipality_id"] == "JHB"
        for project in (cape_town_sewer, cape_town_water):
            await change_progress(project, "60")
        assert await nothing_more(client)
        await change_progress(joburg_sewer, "60")
        assert (await receive(client))["data"]["entity_id"] == str(joburg_sewer.pk)
        await client.disconnect()

    async_to_sync(scenario)()


def test_unsubscribed_client_receives_no_more_updates() -> None:
    async def scenario() -> None:
        project = await make_project()
        client = await connect()
        await send(client, action="subscribe", entity_type="project", entity_id=str(project.pk))
        answer = await send(client, action="unsubscribe", entity_type="project", entity_id=str(project.pk))
        assert answer == {"type": "unsubscribed", "entity_type": "project", "entity_id": str(project.pk),
                          "was_subscribed": True}
        await change_progress(project, "70")
        assert await nothing_more(client)
        await client.disconnect()

    async_to_sync(scenario)()


def test_change_reaching_a_client_through_two_groups_is_delivered_once() -> None:
    async def scenario() -> None:
        project = await make_project()
        client = await connect()
        await send(client, action="subscribe", entity_type="all")
        await send(client, action="subscribe", entity_type="project", entity_id=str(project.pk))
        await send(client, action="subscribe", entity_type="municipality", entity_id="cpt")
        await change_progress(project, "45")
        assert (await receive(client))["type"] == "data_update"
        assert await nothing_more(client)
        await client.disconnect()

    async_to_sync(scenario)()


@pytest.mark.parametrize(
    ("frame", "code", "field"),
    [
        ("not json", "invalid_json", None),
        ("[1, 2]", "invalid_message", None),
        ('{"action": "dance"}', "unknown_action", "action"),
        ('{"action": "subscribe", "entity_type": "river"}', "invalid_field", "entity_type"),
        ('{"action": "subscribe", "entity_type": "project", "entity_id": "12"}', "invalid_field", "entity_id"),
        ('{"action": "subscribe", "filters": {"status": ["finished"]}}', "invalid_field", "filters.status"),
        ('{"action": "subscribe", "filters": {"colour": "blue"}}', "invalid_field", "filters"),
        ('{"action": "subscribe", "filters": {"municipality_id": "NOPE1"}}', "not_found", "filters.municipality_id"),
        ('{"action": "resume", "last_id": -4}', "invalid_field", "last_id"),
        ('{"action": "resume", "last_id": 3}', "not_subscribed", "action"),
        ('{"action": "subscribe", "last_id": "7"}', "invalid_field", "last_id"),
    ],
)
def test_malformed_message_gets_an_error_naming_the_field_and_the_socket_stays_open(
    frame: str, code: str, field: str | None
) -> None:
    async def scenario() -> None:
        client = await connect()
        await client.send_to(text_data=frame)
        error = await receive(client)
        assert error["type"] == "error"
        assert error["code"] == code
        assert error.get("field") == field
        assert error["message"]
        assert (await send(client, action="ping"))["type"] == "pong"
        await client.disconnect()

    async_to_sync(scenario)()


def test_binary_frame_gets_an_error_and_the_socket_stays_open() -> None:
    async def scenario() -> None:
        client = await connect()
        await client.send_to(bytes_data=b"\x00\x01")
        assert (await receive(client))["code"] == "invalid_message"
        assert (await send(client, type="ping"))["type"] == "pong"
        await client.disconnect()

    async_to_sync(scenario)()


@pytest.mark.parametrize("by", ["code", "uuid"])
def test_municipality_feed_subscribes_on_connect_by_code_or_uuid(by: str) -> None:
    async def scenario() -> None:
        cape_town = await database_sync_to_async(municipality)("CPT")
        project = await make_project()
        client = await connect(f"/ws/municipalities/{'cpt' if by == 'code' else cape_town.pk}")
        confirmed = await receive(client)
        assert confirmed["type"] == "subscription_confirmed"
        assert confirmed["entity_type"] == "municipality"
        assert confirmed["entity_id"] == "CPT"
        await change_progress(project, "80")
        assert (await receive(client))["data"]["municipality_code"] == "CPT"
        await client.disconnect()

    async_to_sync(scenario)()


def test_municipality_feed_for_an_unknown_municipality_closes_with_4404() -> None:
    async def scenario() -> None:
        client = await connect("/ws/municipalities/XX999")
        assert (await receive(client))["code"] == "not_found"
        assert (await client.receive_output(timeout=3)) == {"type": "websocket.close", "code": 4404}

    async_to_sync(scenario)()


def test_reconnecting_client_gets_what_it_missed_in_order_after_resume() -> None:
    async def scenario() -> None:
        project = await make_project()
        client = await connect()
        await send(client, action="subscribe", entity_type="project", entity_id=str(project.pk))
        await change_progress(project, "10")
        last_seen = (await receive(client))["id"]
        await client.disconnect()

        for value in ("20", "30", "40"):
            await change_progress(project, value)  # nobody is listening

        client = await connect()
        await send(client, action="subscribe", entity_type="project", entity_id=str(project.pk))
        await client.send_json_to({"action": "resume", "last_id": last_seen})
        missed = [await receive(client) for _ in range(3)]
        assert [m["data"]["new_values"]["progress_percentage"] for m in missed] == ["20", "30", "40"]
        ids = [m["id"] for m in missed]
        assert ids == sorted(ids) and ids[0] > last_seen
        done = await receive(client)
        assert done == {"type": "resume_complete", "replayed": 3, "latest_id": ids[-1]}

        await change_progress(project, "50")  # live again after the replay
        assert (await receive(client))["id"] > ids[-1]
        await client.disconnect()

    async_to_sync(scenario)()


def test_subscribe_with_last_id_replays_first_and_a_change_arriving_during_the_replay_comes_after_it_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A reconnecting client sends `subscribe` with its last id. Changes are committed and relayed to the group
    while the replay is being read (the consumer has joined it): they come after the replay, in id order, once."""
    from realtime import consumers

    read_replay = consumers.replay_rows
    during: list[str] = []

    async def replay_with_live_changes(*args: object) -> object:
        for value in during:
            await change_progress(project, value)  # relayed live to the group the consumer has just joined
        answer = await read_replay(*args)
        await change_progress(project, "90")  # committed after the replay's read: live only
        return answer

    monkeypatch.setattr(consumers, "replay_rows", replay_with_live_changes)

    async def scenario() -> None:
        client = await connect()
        await send(client, action="subscribe", entity_type="project", entity_id=str(project.pk))
        await change_progress(project, "10")
        last_seen = (await receive(client))["id"]
        await client.disconnect()
        for value in ("20", "30"):
            await change_progress(project, value)  # nobody is listening

        during.extend(["40", "50"])
        client = await connect()
        confirmed = await send(client, action="subscribe", entity_type="project", entity_id=str(project.pk),
                               last_id=last_seen)
        assert confirmed["type"] == "subscription_confirmed"
        messages = []
        while not messages or messages[-1]["type"] != "data_update" or messages[-1]["data"]["new_values"] != {
            "progress_percentage": "90"
        }:
            messages.append(await receive(client))
        assert await nothing_more(client)
        updates = [m for m in messages if m["type"] == "data_update"]
        values = [m["data"]["new_values"]["progress_percentage"] for m in updates]
        assert values == ["20", "30", "40", "50", "90"]
        ids = [m["id"] for m in updates]
        assert ids == sorted(set(ids))
        complete = [m for m in messages if m["type"] == "resume_complete"]
        assert complete == [{"type": "resume_complete", "replayed": 4, "latest_id": ids[3]}]
        assert messages.index(complete[0]) == 4  # after the replay, before the change made after its read
        await client.disconnect()

    project = async_to_sync(make_project)()
    async_to_sync(scenario)()


def test_resume_past_the_replay_limit_asks_the_client_to_resync(settings: pytest.FixtureRequest) -> None:
    settings.WS_REPLAY_LIMIT = 3

    async def scenario() -> None:
        project = await make_project()
        client = await connect()
        confirmed = await send(client, action="subscribe", entity_type="all")
        for value in ("11", "12", "13", "14"):
            await change_progress(project, value)
        for _ in range(4):
            await receive(client)
        await client.send_json_to({"action": "resume", "last_id": confirmed["latest_id"]})
        answer = await receive(client)
        assert answer["type"] == "resync"
        assert answer["limit"] == 3
        assert answer["latest_id"] > confirmed["latest_id"]
        await client.disconnect()

    async_to_sync(scenario)()


def test_connection_past_the_per_process_cap_is_closed_with_4429(settings: pytest.FixtureRequest) -> None:
    settings.WS_MAX_CONNECTIONS_PER_PROCESS = 2

    async def scenario() -> None:
        first, second = await connect(), await connect(f"/ws/live/project/{uuid.uuid4()}")
        third = WebsocketCommunicator(application, "/ws/projects", headers=HEADERS)
        connected, _ = await third.connect(timeout=3)
        assert connected  # accepted only so that the close code reaches the client
        assert await third.receive_output(timeout=3) == {
            "type": "websocket.close", "code": 4429, "reason": "too many connections"
        }
        await first.disconnect()
        fourth = await connect()  # room again once one has gone
        assert (await send(fourth, action="ping"))["type"] == "pong"
        await asyncio.gather(second.disconnect(), fourth.disconnect())

    async_to_sync(scenario)()


def test_connection_from_a_foreign_origin_is_refused() -> None:
    async def scenario() -> None:
        client = WebsocketCommunicator(
            application, "/ws/projects", headers=[(b"origin", b"https://evil.example"), (b"host", b"localhost")]
        )
        connected, _ = await client.connect(timeout=3)
        assert not connected

    async_to_sync(scenario)()


def test_failing_source_reaches_every_connection_as_system_error() -> None:
    async def scenario() -> None:
        client = await connect()
        await database_sync_to_async(system_error_send)(source="dws", message="The dashboard did not answer.")
        error = await receive(client)
        assert error["type"] == "system_error"
        assert error["error_type"] == "source_failed"
        assert error["source"] == "dws"
        assert error["message"] == "The dashboard did not answer."
        assert error["timestamp"]
        await client.disconnect()

    async_to_sync(scenario)()


def test_progress_decimal_survives_as_an_exact_string() -> None:
    async def scenario() -> None:
        project = await make_project(progress_percentage=Decimal("33.33"))
        client = await connect()
        await send(client, action="subscribe", entity_type="project", entity_id=str(project.pk))
        await change_progress(project, "66.67")
        update = await receive(client)
        assert update["data"]["old_values"]["progress_percentage"] == "33.33"
        assert update["data"]["new_values"]["progress_percentage"] == "66.67"
        await client.disconnect()

    async_to_sync(scenario)()



class PrivateRedis:
    """A redis-server of this test's own (the session one is shared with other tests), which it can restart."""

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="ba-redis-"))
        self.socket = self.directory / "redis.sock"
        self.process = start_private_redis(self.socket)

    def restart(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        self.process = start_private_redis(self.socket)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture
def restartable_redis(settings: pytest.FixtureRequest) -> Iterator[PrivateRedis]:
    redis = PrivateRedis()
    settings.CHANNEL_LAYERS = redis_layer(f"unix://{redis.socket}")
    yield redis
    redis.stop()


def test_change_committed_the_moment_redis_is_back_reaches_a_client_that_stayed_connected(
    restartable_redis: PrivateRedis,
) -> None:
    """Redis restarts under a connected client. The first change after it is published at once, before this
    process's pub/sub connection has subscribed again (redis-py reconnects it on the receive loop's next try, a
    second or so later), so Redis hands it to no one and the relay marks it sent. The consumer must replay it
    when the layer is back (realtime/layers.py, `layer.reconnected`)."""

    async def scenario() -> None:
        project = await make_project()
        client = await connect()
        await send(client, action="subscribe", entity_type="project", entity_id=str(project.pk))
        await change_progress(project, "10")
        first = await receive(client)

        await asyncio.to_thread(restartable_redis.restart)
        await change_progress(project, "20")  # published and marked sent within milliseconds of the restart

        update = await receive(client, timeout=10)
        assert update["data"]["new_values"] == {"progress_percentage": "20"}
        assert update["id"] > first["id"]
        assert await nothing_more(client)
        await change_progress(project, "30")  # and live again
        assert (await receive(client))["data"]["new_values"] == {"progress_percentage": "30"}
        await client.disconnect()

    async_to_sync(scenario)()
