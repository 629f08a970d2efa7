"""The channel layer the site uses: channels-redis pub/sub, with a group message handed to local connections in
small slices.

Why: the pub/sub layer wakes every local member of a group in one event-loop pass. With a few thousand
connections in a process, that pass (and the next ones, as each consumer moves through its steps) holds up
everything else on the loop, page requests included, for the whole fan-out. Handing the message over in slices
of `SLICE` connections, with a yield to the loop between slices, lets a page request move between them. Order is
kept: one task per shard drains the messages in arrival order.

This overrides one private method of channels-redis (`RedisSingleShardConnection._receive_message`, pinned
version in requirements.txt) and `groups_listened` reads its private shard and group names. `bench/internals/
compare.py layers` measures the slices against the plain layer (docs/realtime.md, "Library ties");
tests/test_library_ties.py fails on another channels-redis version and checks the names against a real Redis.

It also tells local consumers when the shard's pub/sub connection has come back after a loss (`layer.reconnected`,
below): while a process was not subscribed, Redis handed group messages to no one.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from channels_redis import pubsub

SLICE = 10
RECONNECTED = {"type": "layer.reconnected"}


class _SlicedShardConnection(pubsub.RedisSingleShardConnection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._fanout: deque[tuple[list[str], bytes]] = deque()
        self._fanout_task: asyncio.Task[None] | None = None
        self._watched: Any = None

    # --- Reconnects ------------------------------------------------------------------------------------------
    # Why this way: channels-redis 4.3 keeps `on_reconnect` but never calls it; redis-py's PubSub reconnects by
    # itself (the receive loop's next read) and re-sends SUBSCRIBE for every channel from a connect callback. Any
    # message published between the loss and that re-subscription reached no one, and the relay has already
    # marked it sent (docs/deploy.md, "Redis restarts during a burst"). So we register a second connect callback
    # on the same connection; it runs after the re-subscription was sent and puts `layer.reconnected` in every
    # local channel's queue, behind whatever was already there. Each JSON consumer then replays from the newest
    # id it was handed: its database read starts after the SUBSCRIBE went out, so a change published too early
    # is in the replay and one published later comes live (and is dropped as a duplicate if both). A periodic
    # gap check would need the newest published id per group and would find a loss only on its next tick.
    # Callbacks run on reconnects only: redis-py connects the first time before PubSub registers its own.

    async def subscribe(self, channel: str) -> None:
        await super().subscribe(channel)
        connection = self._pubsub.connection if self._pubsub is not None else None
        if connection is not None and connection is not self._watched:
            connection.register_connect_callback(self._reconnected)  # kept as a weak method by redis-py
            self._watched = connection

    async def _reconnected(self, connection: Any) -> None:
        members = list(self.channel_layer.channels)
        if members:
            self._fanout.append((members, self.channel_layer.channel_layer.serialize(RECONNECTED)))
            if self._fanout_task is None or self._fanout_task.done():
                self._fanout_task = asyncio.ensure_future(self._drain())

    def _receive_message(self, message: dict[str, Any] | None) -> None:
        if message is None:
            return
        name = message["channel"]
        if isinstance(name, bytes):
            name = name.decode()
        layer = self.channel_layer
        if name in layer.channels and not self._fanout:
            layer.channels[name].put_nowait(message["data"])
            return
        members = [name] if name in layer.channels else list(layer.groups.get(name, ()))
        if not members:
            return
        self._fanout.append((members, message["data"]))
        if self._fanout_task is None or self._fanout_task.done():
            self._fanout_task = asyncio.ensure_future(self._drain())

    async def _drain(self) -> None:
        channels = self.channel_layer.channels
        while self._fanout:
            members, data = self._fanout.popleft()
            for start in range(0, len(members), SLICE):
                for channel in members[start:start + SLICE]:
                    queue = channels.get(channel)
                    if queue is not None:
                        queue.put_nowait(data)
                await asyncio.sleep(0)


class _SlicedLoopLayer(pubsub.RedisPubSubLoopLayer):
    def __init__(self, *args: Any, hosts: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, hosts=hosts, **kwargs)
        self._shards = [_SlicedShardConnection(host, self) for host in pubsub.decode_hosts(hosts)]


class SlicedPubSubChannelLayer(pubsub.RedisPubSubChannelLayer):
    def _get_layer(self) -> pubsub.RedisPubSubLoopLayer:
        loop = asyncio.get_running_loop()
        try:
            return self._layers[loop]
        except KeyError:
            layer = _SlicedLoopLayer(*self._args, **self._kwargs, channel_layer=self)
            self._layers[loop] = layer
            pubsub._wrap_close(self, loop)
            return layer


async def groups_listened(layer: Any, names: list[str]) -> set[str]:
    """Which of these groups have a member in some process: the relay renders page fragments only for pages that
    are open. Layers that cannot tell (the in-memory one is asked directly) count every group as listened."""
    if isinstance(layer, pubsub.RedisPubSubChannelLayer):
        loop_layer = layer._get_layer()
        by_shard: dict[int, dict[str, str]] = {}
        for name in names:
            channel = loop_layer._get_group_channel_name(name)
            by_shard.setdefault(id(loop_layer._get_shard(channel)), {})[channel] = name
        found: set[str] = set()
        for channels in by_shard.values():
            shard = loop_layer._get_shard(next(iter(channels)))
            shard._ensure_redis()
            for channel, count in await shard._redis.pubsub_numsub(*channels):
                if count:
                    found.add(channels[channel.decode() if isinstance(channel, bytes) else channel])
        return found
    groups = getattr(layer, "groups", None)
    if isinstance(groups, dict):
        return {name for name in names if groups.get(name)}
    return set(names)
