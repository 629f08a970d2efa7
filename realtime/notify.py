"""Announcing a failing data source to every live connection (`system_error` in the realtime contract).

Ingestion sends `run_failed` when a source fails; `realtime.receivers` calls `system_error_send`. It is best
effort and never raises: the failure is already recorded in the ingestion run; this only tells open clients that
data may be stale. """

from __future__ import annotations

import asyncio
import json
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.utils import timezone

from realtime.groups import SYSTEM
from realtime.outage import push_failed

logger = logging.getLogger(__name__)


def system_error_message(*, source: str, message: str) -> dict[str, str]:
    return {
        "type": "system_error",
        "error_type": "source_failed",
        "source": source,
        "message": message,
        "timestamp": timezone.localtime().isoformat(),
    }


def system_error_send(*, source: str, message: str) -> None:
    """Tell every open connection that `source` failed. Never raises."""
    text = json.dumps(system_error_message(source=source, message=message), ensure_ascii=False)
    try:
        async_to_sync(_send)({"type": "system.error", "text": text})
    except Exception as exc:  # the channel layer being down must not hide the source's own failure
        push_failed(f"Announcing the failure of {source}", exc)


async def _send(message: dict[str, str]) -> None:
    layer = get_channel_layer()
    if layer is not None:
        await asyncio.wait_for(layer.group_send(SYSTEM, message), settings.RELAY_SEND_TIMEOUT_SECONDS)
