"""The site's ties to private internals of Django, Channels and channels-redis, each kept because
`bench/internals/compare.py` shows it still pays (figures in docs/api.md and docs/realtime.md, "Library ties").

Two kinds of test per tie: the installed library is the version the tie was written and measured against (when it
moves, the test says what to re-measure and re-check), and the private names the tie uses are still there.
"""

from __future__ import annotations

import asyncio
import inspect
from importlib.metadata import version
from typing import Any

import pytest

# (distribution, the version prefix it was written against, the file that depends on it, what to re-check)
TIES = [
    ("django", "5.2.", "bukaamanzi/asgihandler.py",
     "that ASGIHandler.handle still awaits self.get_response_async(request) and that BaseHandler.get_response does "
     "everything get_response_async does (urlconf, resource closers, log_response)"),
    ("django", "5.2.", "bukaamanzi/prepared.py",
     "Query.get_compiler / SQLCompiler.as_sql, select and col_count, Query.selected and the converters "
     "QuerySet.values() applies (django/db/models/sql/compiler.py results_iter)"),
    ("channels", "4.3.", "realtime/consumers.py (_CappedConsumer.dispatch)",
     "that AsyncConsumer.dispatch still only runs aclose_old_connections and then the handler"),
    ("channels-redis", "4.3.", "realtime/layers.py",
     "RedisSingleShardConnection._receive_message and _do_receiving, RedisPubSubChannelLayer._get_layer and "
     "_layers, RedisPubSubLoopLayer._shards, _get_shard and _get_group_channel_name, shard._redis; for the "
     "reconnect notice, RedisSingleShardConnection.subscribe and _pubsub, redis-py's PubSub.connection and "
     "register_connect_callback (and that channels-redis still never calls on_reconnect)"),
]


@pytest.mark.parametrize(("distribution", "written_for", "where", "recheck"), TIES,
                         ids=[f"{tie[0]}-{tie[2].split()[0]}" for tie in TIES])
def test_each_library_is_the_version_its_tie_was_measured_against(
    distribution: str, written_for: str, where: str, recheck: str
) -> None:
    installed = version(distribution)
    assert installed.startswith(written_for), (
        f"{where} relies on private internals of {distribution} written for {written_for}x; {distribution} is now "
        f"{installed}: re-run `.venv/bin/python bench/internals/compare.py` (does the tie still pay?) and re-check "
        f"{recheck}; then update this test's version and the figures in docs/api.md / docs/realtime.md."
    )


def test_django_asgi_handler_still_calls_what_the_one_hop_handler_overrides() -> None:
    from django.core.handlers.asgi import ASGIHandler
    from django.core.handlers.base import BaseHandler

    assert "self.get_response_async(request)" in inspect.getsource(ASGIHandler.run_get_response)
    assert "is_async" in inspect.signature(BaseHandler.load_middleware).parameters
    sync_steps, async_steps = inspect.getsource(BaseHandler.get_response), inspect.getsource(
        BaseHandler.get_response_async)
    for step in ("set_urlconf", "_resource_closers.append(request.close)", "log_response"):
        assert step in sync_steps and step in async_steps, step


def test_the_compiler_still_has_what_prepared_values_reads() -> None:
    from django.db.backends.base.operations import BaseDatabaseOperations
    from django.db.models.sql.compiler import SQLCompiler
    from django.db.models.sql.query import Query

    from projects.models import Project

    query = Project.objects.values("id", "name").query
    compiler = query.get_compiler("default")
    compiler.as_sql()
    assert isinstance(compiler, SQLCompiler) and len(compiler.select) >= compiler.col_count == 2
    for name in ("selected", "extra_select", "values_select", "annotation_select"):
        assert hasattr(query, name), f"Query.{name}"
    assert query.selected is not None and list(query.selected) == ["id", "name"]
    assert hasattr(BaseDatabaseOperations, "get_db_converters") and isinstance(Query(Project), Query)


def test_channels_default_dispatch_is_still_close_old_connections_then_the_handler() -> None:
    from channels import consumer

    source = inspect.getsource(consumer.AsyncConsumer.dispatch)
    assert "await aclose_old_connections()" in source and "await handler(message)" in source
    assert consumer.get_handler_name({"type": "change.update"}) == "change_update"


async def test_pushed_changes_skip_close_old_connections_and_control_messages_do_not(monkeypatch) -> None:
    from channels import consumer

    from realtime.consumers import ChangeFeedConsumer

    closes: list[str] = []

    async def counting() -> None:
        closes.append("closed")

    monkeypatch.setattr(consumer, "aclose_old_connections", counting)
    sent: list[str] = []

    class Recording(ChangeFeedConsumer):
        async def send(self, text_data: str | None = None, bytes_data: bytes | None = None,
                       close: bool = False) -> None:
            sent.append(text_data or "")

    feed = Recording()
    await feed.connected()
    await feed.dispatch({"type": "change.update", "id": 1, "match": {}, "text": "{}"})
    assert closes == []
    await feed.dispatch({"type": "websocket.receive", "text": '{"action": "ping"}'})
    assert closes == ["closed"] and '"pong"' in sent[-1]


def test_channels_redis_still_has_what_the_sliced_layer_overrides() -> None:
    from channels_redis import pubsub
    from redis.asyncio.connection import AbstractConnection

    assert "self._receive_message(message)" in inspect.getsource(pubsub.RedisSingleShardConnection._do_receiving)
    assert "_layers" in inspect.getsource(pubsub.RedisPubSubChannelLayer.__init__)
    assert "_shards" in inspect.getsource(pubsub.RedisPubSubLoopLayer.__init__)
    for owner, name in [(pubsub.RedisPubSubChannelLayer, "_get_layer"), (pubsub.RedisPubSubLoopLayer, "_get_shard"),
                        (pubsub.RedisPubSubLoopLayer, "_get_group_channel_name"),
                        (pubsub.RedisSingleShardConnection, "_ensure_redis"), (pubsub, "_wrap_close"),
                        (pubsub, "decode_hosts"), (pubsub.RedisSingleShardConnection, "subscribe"),
                        (AbstractConnection, "register_connect_callback")]:
        assert hasattr(owner, name), f"{owner.__name__}.{name}"
    assert "on_reconnect(" not in inspect.getsource(pubsub)  # once it is called, use it instead of the callback
    assert "self._pubsub = self._redis.pubsub()" in inspect.getsource(pubsub.RedisSingleShardConnection._ensure_redis)


def test_the_sliced_layer_delivers_a_group_message_to_every_member_in_order(redis_server: str) -> None:
    from realtime.layers import SlicedPubSubChannelLayer, _SlicedShardConnection, groups_listened

    async def scenario() -> tuple[list[list[Any]], set[str], list[type]]:
        layer = SlicedPubSubChannelLayer(hosts=[{"address": redis_server}])
        members = [await layer.new_channel() for _ in range(25)]  # more than one slice
        for channel in members:
            await layer.group_add("ties", channel)
        for number in range(3):
            await layer.group_send("ties", {"type": "change.update", "n": number})
        received = [[(await asyncio.wait_for(layer.receive(channel), 3))["n"] for _ in range(3)]
                    for channel in members]
        listened = await groups_listened(layer, ["ties", "nobody"])
        shards = [type(shard) for shard in layer._get_layer()._shards]
        await layer.flush()
        return received, listened, shards

    received, listened, shards = asyncio.run(scenario())
    assert received == [[0, 1, 2]] * 25 and listened == {"ties"} and shards == [_SlicedShardConnection]
