"""Each tie to a library's private internals, ON against OFF, in one process and one run.

    .venv/bin/python bench/internals/compare.py [asgi|prepared|layers|dispatch|all] [--rounds 9]

The ties (docs/api.md and docs/realtime.md, "Library ties", record the figures and the decisions):

- asgi: `bukaamanzi/asgihandler.py` (the sync middleware chain and the view in one thread hop) against Django's
  own `ASGIHandler`; requests through the ASGI application (channels' HttpCommunicator), one at a time and 16 at
  once, on `/about/` (every middleware, no query) and `/api/v1/projects` (an empty list: a COUNT).
- prepared: the project detail's `PreparedValues` (`bukaamanzi/prepared.py`) against running its querysets.
- layers: `realtime/layers.py`'s sliced fan-out against channels-redis' own pub/sub layer, on a private Redis:
  one group message to 1,000 local channels; the time until the last one has it, and the longest the event loop
  was held (what anything else on that loop waits).
- dispatch: the consumers' skipped `close_old_connections` (`realtime/consumers.py`) against Channels' default
  dispatch: one pushed change handed to 1,000 consumers at once.

The shared machine is noisy, so each round measures ON and OFF back to back, in alternating order, and the figures
are medians over rounds with the lowest and highest round. Runs on a throw-away SpatiaLite file under var/bench.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
(ROOT / "var" / "bench").mkdir(parents=True, exist_ok=True)
_work = Path(tempfile.mkdtemp(prefix="internals-", dir=ROOT / "var" / "bench"))
atexit.register(shutil.rmtree, _work, ignore_errors=True)
os.environ["DJANGO_SETTINGS_MODULE"] = "bukaamanzi.settings"
os.environ["DATABASE_URL"] = f"spatialite:///{_work / 'bench.sqlite3'}"
os.environ["REDIS_URL"] = f"unix://{_work / 'redis.sock'}"
os.environ.setdefault("API_CACHE_SECONDS", "0")
os.environ["CHANNEL_LAYER"] = "memory"  # the seeding's pushes; the layers comparison builds its own Redis layers
os.environ["STATICFILES_STORAGE"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # no collectstatic

import django  # noqa: E402

django.setup()

Timing = Callable[[], Awaitable[float]]  # one batch: milliseconds per operation


async def compare(name: str, on: Timing, off: Timing, rounds: int, unit: str = "ms") -> None:
    """Alternate ON and OFF `rounds` times (the order swapped every round) and print medians and spread."""
    await on(), await off()  # warm-up: imports, connections, first-use caches
    results: dict[str, list[float]] = {"on": [], "off": []}
    for round_number in range(rounds):
        order = (("on", on), ("off", off)) if round_number % 2 == 0 else (("off", off), ("on", on))
        for label, batch in order:
            results[label].append(await batch())
    on_median, off_median = statistics.median(results["on"]), statistics.median(results["off"])
    gain = (off_median - on_median) / off_median * 100 if off_median else 0.0
    print(f"{name}: ON {on_median:.3f} {unit} [{min(results['on']):.3f}–{max(results['on']):.3f}]"
          f"  OFF {off_median:.3f} {unit} [{min(results['off']):.3f}–{max(results['off']):.3f}]"
          f"  ON saves {gain:+.1f} %", flush=True)


# --- asgi -----------------------------------------------------------------------------------------------


async def bench_asgi(rounds: int) -> None:
    from channels.testing import HttpCommunicator
    from django.core.handlers.asgi import ASGIHandler

    from bukaamanzi.asgihandler import OneHopASGIHandler

    handlers = {"on": OneHopASGIHandler(), "off": ASGIHandler()}

    def timing(label: str, path: str, requests: int, concurrency: int) -> Timing:
        """One at a time: the batch's median request. Several at once: wall time over requests (throughput)."""

        async def one_client(count: int, times: list[float]) -> None:
            for _ in range(count):
                started = time.perf_counter()
                communicator = HttpCommunicator(handlers[label], "GET", path, headers=[(b"host", b"localhost")])
                response = await communicator.get_response(timeout=30)
                assert response["status"] == 200, response["body"][:300]
                await communicator.wait(timeout=5)  # the handler finished (request_finished and all)
                times.append((time.perf_counter() - started) * 1000)

        async def batch() -> float:
            times: list[float] = []
            started = time.perf_counter()
            await asyncio.gather(*(one_client(requests // concurrency, times) for _ in range(concurrency)))
            if concurrency == 1:
                return statistics.median(times)
            return (time.perf_counter() - started) * 1000 / requests

        return batch

    for path in ("/about/", "/api/v1/projects"):
        for concurrency in (1, 16):
            measure = "median request" if concurrency == 1 else "wall time / requests"
            await compare(f"asgi {path} ({concurrency} at once, ms, {measure})",
                          timing("on", path, 96, concurrency), timing("off", path, 96, concurrency), rounds)


# --- prepared -------------------------------------------------------------------------------------------


def _seed_project_with_everything() -> tuple[uuid.UUID, uuid.UUID]:
    """A project with budget lines, change history and a published report, and one with none of them."""
    from decimal import Decimal

    from projects.models import Budget
    from projects.services import project_correct
    from tests.factories import ProjectFactory, ReportFactory

    full, bare = ProjectFactory(), ProjectFactory()
    for year in ("2023/2024", "2022/2023"):
        Budget.objects.create(project=full, financial_year=year, budget_type="Original Budget",
                              amount=Decimal("10.25"), source=full.source)
    project_correct(project=full, values={"name": "Renamed"}, moderator="bench", reason="bench")
    ReportFactory(project=full)
    return full.pk, bare.pk


async def bench_prepared(rounds: int) -> None:
    from asgiref.sync import sync_to_async

    from bukaamanzi.prepared import PreparedValues
    from projects.detail import project_detail_body

    full, bare = await sync_to_async(_seed_project_with_everything)()
    prepared_call = PreparedValues.__call__

    def unprepared(self: PreparedValues, value: uuid.UUID, *, using: str = "default") -> list[dict[str, Any]]:
        return list(self._build(value).using(using))

    def bodies(pk: uuid.UUID, call: Any) -> float:
        PreparedValues.__call__ = call  # type: ignore[method-assign]
        try:
            started = time.perf_counter()
            for _ in range(200):
                project_detail_body(pk)
            return (time.perf_counter() - started) * 1000 / 200
        finally:
            PreparedValues.__call__ = prepared_call  # type: ignore[method-assign]

    def timing(pk: uuid.UUID, call: Any) -> Timing:
        async def batch() -> float:
            return await sync_to_async(bodies)(pk, call)
        return batch

    def same_body_both_ways(pk: uuid.UUID) -> bool:
        PreparedValues.__call__ = unprepared  # type: ignore[method-assign]
        try:
            expected = project_detail_body(pk)
        finally:
            PreparedValues.__call__ = prepared_call  # type: ignore[method-assign]
        return project_detail_body(pk) == expected

    assert await sync_to_async(same_body_both_ways)(full)
    for label, pk in (("with history and a report, 3 queries", full), ("without, 1 query", bare)):
        await compare(f"prepared detail body {label} (ms a body)",
                      timing(pk, prepared_call), timing(pk, unprepared), rounds)


# --- layers ---------------------------------------------------------------------------------------------


async def bench_layers(rounds: int) -> None:
    from channels_redis.pubsub import RedisPubSubChannelLayer
    from django.conf import settings

    from bukaamanzi.lib.redis_server import start_private_redis
    from realtime.layers import SlicedPubSubChannelLayer

    redis = start_private_redis(_work / "redis.sock")
    hosts = [{"address": settings.REDIS_URL}]
    try:
        layers = {"on": SlicedPubSubChannelLayer(hosts=hosts), "off": RedisPubSubChannelLayer(hosts=hosts)}
        members: dict[str, list[str]] = {}
        for label, layer in layers.items():
            members[label] = [await layer.new_channel() for _ in range(1000)]
            for channel in members[label]:
                await layer.group_add(f"bench-{label}", channel)
        held: dict[str, list[float]] = {"on": [], "off": []}

        def timing(label: str) -> Timing:
            layer = layers[label]

            async def batch() -> float:
                receivers = [asyncio.ensure_future(layer.receive(channel)) for channel in members[label]]
                await asyncio.sleep(0.05)  # every receiver waiting on its queue
                longest, stop = 0.0, False

                async def ticker() -> None:  # the event loop's longest gap: what a request on it would wait
                    nonlocal longest
                    last = time.perf_counter()
                    while not stop:
                        await asyncio.sleep(0)
                        now = time.perf_counter()
                        longest, last = max(longest, now - last), now

                ticking = asyncio.ensure_future(ticker())
                started = time.perf_counter()
                await layer.group_send(f"bench-{label}", {"type": "change.update", "text": "x" * 300})
                await asyncio.gather(*receivers)
                elapsed = (time.perf_counter() - started) * 1000
                stop = True
                await ticking
                held[label].append(longest * 1000)
                return elapsed

            return batch

        await compare("layers fan-out to 1,000 local channels (ms until the last has it)",
                      timing("on"), timing("off"), rounds)
        on_held, off_held = held["on"][1:], held["off"][1:]  # without the warm-up's
        print(f"layers longest event-loop hold during the fan-out: ON {statistics.median(on_held):.2f} ms"
              f" [{min(on_held):.2f}–{max(on_held):.2f}]  OFF {statistics.median(off_held):.2f} ms"
              f" [{min(off_held):.2f}–{max(off_held):.2f}]", flush=True)
        for layer in layers.values():
            await layer.flush()
    finally:
        redis.terminate()
        redis.wait()


# --- dispatch -------------------------------------------------------------------------------------------


async def bench_dispatch(rounds: int) -> None:
    from channels.generic.websocket import AsyncWebsocketConsumer

    from realtime.consumers import ChangeFeedConsumer
    from realtime.protocol import Subscription

    class Quiet(ChangeFeedConsumer):
        async def send(self, text_data: str | None = None, bytes_data: bytes | None = None,
                       close: bool = False) -> None:
            self.sent += 1

    class ChannelsDefault(Quiet):
        async def dispatch(self, message: dict[str, Any]) -> None:
            await AsyncWebsocketConsumer.dispatch(self, message)

    async def consumers(kind: type[Quiet]) -> list[Quiet]:
        made = []
        for _ in range(1000):
            consumer = kind()
            consumer.sent = 0
            await consumer.connected()
            subscription = Subscription(entity_type="all")
            consumer.subscriptions[subscription.key] = subscription
            made.append(consumer)
        return made

    kinds = {"on": await consumers(Quiet), "off": await consumers(ChannelsDefault)}
    next_id = iter(range(1, 10**9))

    def timing(label: str) -> Timing:
        async def batch() -> float:
            message = {"type": "change.update", "id": next(next_id), "match": {"entity_type": "project"},
                       "text": "x" * 300}
            started = time.perf_counter()
            await asyncio.gather(*(consumer.dispatch(message) for consumer in kinds[label]))
            elapsed = (time.perf_counter() - started) * 1000
            assert all(consumer.sent for consumer in kinds[label])
            return elapsed

        return batch

    await compare("dispatch one change to 1,000 consumers (ms)", timing("on"), timing("off"), rounds)


# --- main -----------------------------------------------------------------------------------------------

BENCHES = {"asgi": bench_asgi, "prepared": bench_prepared, "layers": bench_layers, "dispatch": bench_dispatch}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tie", nargs="?", default="all", choices=[*BENCHES, "all"])
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    from django.core.management import call_command

    from municipalities.services import municipality_load_reference

    call_command("migrate", verbosity=0)
    municipality_load_reference()
    for name, bench in BENCHES.items():
        if args.tie in (name, "all"):
            asyncio.run(bench(args.rounds))


if __name__ == "__main__":
    main()
