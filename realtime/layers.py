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
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from channels_redis import pubsub

SLICE = 10


class _SlicedShardConnection(pubsub.RedisSingleShardConnection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._fanout: deque[tuple[list[str], bytes]] = deque()
        self._fanout_task: asyncio.Task[None] | None = None

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
