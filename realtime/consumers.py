"""WebSocket consumers: the JSON feed for API clients and the HTML feed for open pages.

Hot path (a pushed change): no database work. The relay sends each change once per group with the values
filters need (`match`) and the JSON text already encoded; a consumer checks its subscriptions and forwards the
text. The database is read only on the control path (subscribing to a municipality by UUID, resuming), through
`database_sync_to_async`.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from typing import Any
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from bukaamanzi.lib.metrics import websockets_open
from changelog.models import DataChangeLog
from municipalities.models import Municipality
from projects.models import Project
from realtime import groups
from realtime.protocol import ProtocolError, Request, Subscription, looks_like_uuid, parse
from realtime.relay import match_values, wire_message

logger = logging.getLogger(__name__)

# Close codes a client can act on (4000-4999 are the application's own).
CLOSE_TOO_MANY_CONNECTIONS = 4429  # this process is full: retry later, with backoff
CLOSE_NOT_FOUND = 4404  # the municipality or project in the URL does not exist
CLOSE_TRY_AGAIN_LATER = 1013  # the channel layer is unreachable just now
CLOSE_SERVICE_RESTART = 1012  # the replay after a channel-layer reconnect failed: reconnect and resume

SEEN_IDS_KEPT = 2048


class _ConnectionCount:
    """Open live connections in this process (consumers all run on its one event loop thread)."""

    open = 0

    @classmethod
    def take(cls) -> bool:
        if cls.open >= settings.WS_MAX_CONNECTIONS_PER_PROCESS:
            return False
        cls.open += 1
        websockets_open.inc()
        return True

    @classmethod
    def give_back(cls) -> None:
        if cls.open > 0:
            cls.open -= 1
            websockets_open.dec()


class _SeenIds:
    """Change ids already sent on this socket: a change reaches a consumer once per group it is in, and a
    retried or replayed change may arrive again; the client sees each id once."""

    def __init__(self) -> None:
        self._ids: OrderedDict[int, None] = OrderedDict()

    def add(self, change_id: int) -> bool:
        """Remember `change_id`; False if it was already there."""
        if change_id in self._ids:
            return False
        self._ids[change_id] = None
        if len(self._ids) > SEEN_IDS_KEPT:
            self._ids.popitem(last=False)
        return True


# Pushed messages whose handlers touch no database. Channels' default dispatch runs close_old_connections
# through sync_to_async before every handler: one hop to the process's single sync thread per message per
# connection, which serialises a fan-out behind (and in front of) every sync page view in the process.
# Measured by `bench/internals/compare.py dispatch` (docs/realtime.md, "Library ties"); tests/test_library_ties.py
# fails when Channels moves past 4.3.x, whose AsyncConsumer.dispatch this repeats without the hop.
_NO_DATABASE_HANDLERS = frozenset({"change.update", "system.error", "html.fragments"})


class _CappedConsumer(AsyncWebsocketConsumer):
    """Counts against the per-process cap and joins the system group (source failures)."""

    counted = False

    async def dispatch(self, message: dict[str, Any]) -> None:
        if message["type"] in _NO_DATABASE_HANDLERS:
            await getattr(self, get_handler_name(message))(message)
        else:
            await super().dispatch(message)

    async def connect(self) -> None:
        if not _ConnectionCount.take():
            # Accept first so that the client receives a close code it can act on, not a bare HTTP 403.
            await self.accept()
            await self.close(code=CLOSE_TOO_MANY_CONNECTIONS, reason="too many connections")
            return
        self.counted = True
        try:
            await self.channel_layer.group_add(groups.SYSTEM, self.channel_name)
        except Exception as exc:  # channel layer unreachable: tell the client to come back, do not hang
            logger.warning("Live connection refused, channel layer unavailable: %s", exc)
            await self.accept()
            await self.close(code=CLOSE_TRY_AGAIN_LATER, reason="live updates unavailable")
            return
        await self.accept()
        await self.connected()

    async def connected(self) -> None:
        """Hook for subclasses, after the handshake."""

    async def disconnect(self, code: int) -> None:
        if not self.counted:
            return
        self.counted = False
        _ConnectionCount.give_back()
        for group in self.joined_groups():
            await self.channel_layer.group_discard(group, self.channel_name)

    def joined_groups(self) -> set[str]:
        return {groups.SYSTEM}

    async def system_error(self, event: dict[str, Any]) -> None:
        await self.send(text_data=event["text"])

    async def layer_reconnected(self, event: dict[str, Any]) -> None:
        """Pages refetch themselves after their own reconnects only (live.js); the JSON feed replays (below)."""


class ChangeFeedConsumer(_CappedConsumer):
    """`/ws/projects`: subscribe to projects, municipalities or everything, with filters.

    Ordering: Channels dispatches one message at a time per consumer, so a live change that arrives while a
    replay is read and sent waits in this consumer's channel queue (it is held there) and is handled after it;
    `seen` then drops the ids the replay already sent. A `subscribe` that carries `last_id` joins the group and
    replays in one step, so nothing live can come between them (with `subscribe` then `resume`, a change
    handled between the two messages overtook the replay: docs/deploy.md, "A socket process dies")."""

    async def connected(self) -> None:
        self.subscriptions: dict[tuple[str, str | None], Subscription] = {}
        self.seen = _SeenIds()
        # The newest change id this socket has been handed by its groups (sent, or filtered out) or has replayed
        # past: where a replay starts when the channel layer's connection comes back (`layer_reconnected`).
        self.synced_to = 0

    def joined_groups(self) -> set[str]:
        return {groups.SYSTEM} | {sub.group for sub in getattr(self, "subscriptions", {}).values()}

    async def send_json(self, content: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(content, ensure_ascii=False))

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            request = parse(text_data)
            if request.action == "ping":
                await self.send_json({"type": "pong", "timestamp": timezone.localtime().isoformat()})
            elif request.action == "subscribe":
                await self.subscribe(await self.subscription_for(request), request.last_id)
            elif request.action == "unsubscribe":
                await self.unsubscribe(await self.subscription_for(request))
            elif request.action == "resume":
                await self.resume(request.last_id or 0)
        except ProtocolError as error:
            await self.send_json(error.as_message())

    async def subscription_for(self, request: Request) -> Subscription:
        entity_id = request.entity_id
        if request.entity_type == "municipality" and entity_id:
            entity_id = await municipality_code(entity_id)
            if entity_id is None:
                raise ProtocolError("not_found", _("No municipality has this id or MDB code."), field="entity_id")
        elif request.entity_type == "project" and entity_id and not await project_exists(entity_id):
            raise ProtocolError("not_found", _("No project has this id."), field="entity_id")
        code = None
        if request.municipality:
            code = await municipality_code(request.municipality)
            if code is None:
                raise ProtocolError(
                    "not_found", _("No municipality has this id or MDB code."), field="filters.municipality_id"
                )
        return Subscription(
            entity_type=request.entity_type,
            entity_id=entity_id,
            statuses=request.statuses,
            municipality_code=code,
            project_types=request.project_types,
        )

    async def subscribe(self, subscription: Subscription, last_id: int | None = None) -> None:
        """Join the subscription's group; with `last_id`, replay what came after it before anything live."""
        if subscription.key not in self.subscriptions and len(self.subscriptions) >= settings.WS_MAX_SUBSCRIPTIONS:
            raise ProtocolError(
                "too_many_subscriptions",
                _("At most %(n)d subscriptions per connection.") % {"n": settings.WS_MAX_SUBSCRIPTIONS},
            )
        # Same entity again replaces its filters rather than adding a second subscription.
        try:
            await self.channel_layer.group_add(subscription.group, self.channel_name)
        except Exception as exc:
            logger.warning("Subscription failed, channel layer unavailable: %s", exc)
            raise ProtocolError("unavailable", _("Live updates are unavailable just now; try again shortly.")) from exc
        self.subscriptions[subscription.key] = subscription
        latest = await latest_change_id()
        if last_id is None:
            self.synced_to = max(self.synced_to, latest)
        await self.send_json({"type": "subscription_confirmed", **subscription.as_dict(), "latest_id": latest})
        if last_id is not None:
            await self.replay(last_id, answer_complete=True)

    async def unsubscribe(self, subscription: Subscription) -> None:
        removed = self.subscriptions.pop(subscription.key, None)
        if removed is not None and removed.group not in {s.group for s in self.subscriptions.values()}:
            await self.channel_layer.group_discard(removed.group, self.channel_name)
        await self.send_json(
            {"type": "unsubscribed", "entity_type": subscription.entity_type, "entity_id": subscription.entity_id,
             "was_subscribed": removed is not None}
        )

    async def resume(self, last_id: int) -> None:
        """Send what the client missed after `last_id`, in order, then carry on live."""
        if not self.subscriptions:
            raise ProtocolError("not_subscribed", _("Subscribe first, then resume."), field="action")
        await self.replay(last_id, answer_complete=True)

    async def replay(self, last_id: int, *, answer_complete: bool) -> None:
        """Send the changes after `last_id` that the subscriptions want and this socket has not had, oldest first
        (or `resync` past the replay limit); `resume_complete` after them when the client asked."""
        rows, latest = await replay_rows(list(self.subscriptions.values()), last_id, settings.WS_REPLAY_LIMIT)
        if rows is None:
            await self.send_json({"type": "resync", "reason": "too_many_missed", "latest_id": latest,
                                  "limit": settings.WS_REPLAY_LIMIT})
            self.synced_to = max(self.synced_to, latest)
            return
        sent = 0
        for change_id, match, text in rows:
            if self.wanted(match) and self.seen.add(change_id):
                await self.send(text_data=text)
                sent += 1
        self.synced_to = max(self.synced_to, latest)
        if answer_complete:
            await self.send_json({"type": "resume_complete", "replayed": sent, "latest_id": latest})

    async def layer_reconnected(self, event: dict[str, Any]) -> None:
        """This process's channel-layer connection came back after a loss (realtime/layers.py): replay what the
        groups may have carried meanwhile. Unsolicited, so no `resume_complete`; if the replay cannot be read,
        close with 1012 and the client reconnects and resumes by itself."""
        if not getattr(self, "subscriptions", None):
            return
        try:
            await self.replay(self.synced_to, answer_complete=False)
        except Exception as exc:
            logger.warning("Replay after a channel-layer reconnect failed, closing the socket: %s", exc)
            await self.close(code=CLOSE_SERVICE_RESTART, reason="live updates restarted")

    def wanted(self, match: dict[str, str]) -> bool:
        return any(sub.matches(match) for sub in self.subscriptions.values())

    async def change_update(self, event: dict[str, Any]) -> None:
        self.synced_to = max(self.synced_to, event["id"])
        if self.wanted(event["match"]) and self.seen.add(event["id"]):
            await self.send(text_data=event["text"])

    async def html_fragments(self, event: dict[str, Any]) -> None:
        """HTML pushes are for pages; a JSON client that shares a group name ignores them."""


class MunicipalityFeedConsumer(ChangeFeedConsumer):
    """`/ws/municipalities/<id>` (MDB code or UUID): subscribed to that municipality on connect."""

    async def connected(self) -> None:
        await super().connected()
        code = await municipality_code(self.scope["url_route"]["kwargs"]["municipality"])
        if code is None:
            await self.send_json(
                ProtocolError("not_found", _("No municipality has this id or MDB code."), field="url").as_message()
            )
            await self.close(code=CLOSE_NOT_FOUND)
            return
        await self.subscribe(Subscription(entity_type="municipality", entity_id=code))


class LivePageConsumer(_CappedConsumer):
    """`/ws/live/project/<id>?lang=<code>`: rendered fragments for one open project page (HTMX ws extension).

    Subclasses serve the other live pages; each names its group from the URL and the page's language only, so
    connecting reads no database (an unknown municipality code simply never receives anything)."""

    def group_for(self, kwargs: dict[str, Any], language: str) -> str:
        return groups.html_project_group(kwargs["project"], language)

    async def connected(self) -> None:
        language = parse_qs(self.scope.get("query_string", b"").decode()).get("lang", [""])[0]
        if language not in {code for code, _ in settings.LANGUAGES}:
            language = settings.LANGUAGE_CODE
        self.page_group = self.group_for(self.scope["url_route"]["kwargs"], language)
        await self.channel_layer.group_add(self.page_group, self.channel_name)

    def joined_groups(self) -> set[str]:
        page = getattr(self, "page_group", None)
        return {groups.SYSTEM, page} if page else {groups.SYSTEM}

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Pages only listen; anything they send is ignored."""

    async def html_fragments(self, event: dict[str, Any]) -> None:
        await self.send(text_data=event["html"])

    async def system_error(self, event: dict[str, Any]) -> None:
        """Pages show source failures from their own data, not as a JSON message the ws extension would swap."""


class LiveMunicipalityPageConsumer(LivePageConsumer):
    """`/ws/live/municipality/<MDB code>`: totals and changed project rows of one municipality's page."""

    def group_for(self, kwargs: dict[str, Any], language: str) -> str:
        return groups.html_municipality_group(kwargs["municipality"], language)


class LiveHomePageConsumer(LivePageConsumer):
    """`/ws/live/home`: rows of changed projects for the home page's list."""

    def group_for(self, kwargs: dict[str, Any], language: str) -> str:
        return groups.html_home_group(language)


class LivePipelinePageConsumer(LivePageConsumer):
    """`/ws/live/pipeline`: the pipeline status panel, pushed when an ingestion run changes."""

    def group_for(self, kwargs: dict[str, Any], language: str) -> str:
        return groups.html_pipeline_group(language)


# --- Control-path database reads (never per pushed change) ----------------------------------------------

_codes: dict[str, str] = {}


@database_sync_to_async
def _municipality_code_from_db(value: str) -> str | None:
    lookup = {"pk": value} if looks_like_uuid(value) else {"code__iexact": value}
    return Municipality.objects.filter(**lookup).values_list("code", flat=True).first()


async def municipality_code(value: str) -> str | None:
    """The MDB code for an MDB code or municipality UUID; codes never change, so a hit is cached."""
    key = value.strip().upper()
    if key not in _codes:
        code = await _municipality_code_from_db(value.strip())
        if code is None:
            return None
        _codes[key] = code.upper()
    return _codes[key]


@database_sync_to_async
def project_exists(project_id: str) -> bool:
    return Project.objects.filter(pk=project_id).exists()


@database_sync_to_async
def latest_change_id() -> int:
    return DataChangeLog.objects.aggregate(latest=Max("pk"))["latest"] or 0


@database_sync_to_async
def replay_rows(
    subscriptions: list[Subscription], last_id: int, limit: int
) -> tuple[list[tuple[int, dict[str, str], str]] | None, int]:
    """Changes after `last_id` that the subscriptions' groups carry, oldest first; None past `limit`."""
    latest = DataChangeLog.objects.aggregate(latest=Max("pk"))["latest"] or 0
    where = Q(pk__in=[])
    for sub in subscriptions:
        if sub.group == groups.ALL:
            where = Q()
            break
        if sub.entity_type == "project":
            where |= Q(project_id=sub.entity_id)
        else:
            where |= Q(municipality_code=sub.entity_id)
    rows = list(DataChangeLog.objects.filter(where, pk__gt=last_id).order_by("pk")[: limit + 1])
    if len(rows) > limit:
        return None, latest
    return [(row.pk, match_values(row), json.dumps(wire_message(row), ensure_ascii=False)) for row in rows], latest
