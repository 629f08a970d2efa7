"""The JSON feed's client messages: parsing and validating them, and matching pushed changes to subscriptions.

Pure functions and dataclasses (no database, no channel layer), so consumers stay thin and this can be tested
directly. What a message may carry is in docs/realtime.md.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from projects.models import Status
from realtime import groups

ENTITY_TYPES = ("project", "municipality", "all")
MAX_MESSAGE_BYTES = 8192
MAX_FILTER_VALUES = 20


class ProtocolError(ValueError):
    """A client message the server cannot act on; `code` and `field` tell the client what to fix."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def as_message(self) -> dict[str, Any]:
        answer: dict[str, Any] = {"type": "error", "code": self.code, "message": self.message}
        if self.field:
            answer["field"] = self.field
        return answer


@dataclass(frozen=True)
class Subscription:
    entity_type: str
    entity_id: str | None = None
    statuses: frozenset[str] = field(default_factory=frozenset)
    municipality_code: str | None = None
    project_types: frozenset[str] = field(default_factory=frozenset)

    @property
    def key(self) -> tuple[str, str | None]:
        return (self.entity_type, self.entity_id)

    @property
    def group(self) -> str:
        """The one channel-layer group that carries every change this subscription can match."""
        if self.entity_type == "project" and self.entity_id:
            return groups.project_group(self.entity_id)
        if self.entity_type == "municipality" and self.entity_id:
            return groups.municipality_group(self.entity_id)
        return groups.ALL

    def matches(self, match: dict[str, str]) -> bool:
        """Whether a pushed change (its `match` values) is one this subscription asked for."""
        if self.entity_type == "project":
            if self.entity_id is None and match.get("entity_type") != "project":
                return False
            if self.entity_id is not None and match.get("project_id") != self.entity_id:
                return False
        elif self.entity_type == "municipality":
            if self.entity_id is None and match.get("entity_type") != "municipality":
                return False
            if self.entity_id is not None and match.get("municipality_code") != self.entity_id:
                return False
        if self.statuses and match.get("status") not in self.statuses:
            return False
        if self.municipality_code and match.get("municipality_code") != self.municipality_code:
            return False
        return not (self.project_types and (match.get("project_type") or "").casefold() not in self.project_types)

    def as_dict(self) -> dict[str, Any]:
        return {
            "entity_type": self.entity_type,
            "entity_id": self.entity_id,
            "filters": {
                "status": sorted(self.statuses),
                "municipality_id": self.municipality_code,
                "project_type": sorted(self.project_types),
            },
        }


@dataclass(frozen=True)
class Request:
    """A parsed client message. `entity_id` and `municipality` are as sent; the consumer resolves them."""

    action: str
    entity_type: str = "all"
    entity_id: str | None = None
    statuses: frozenset[str] = frozenset()
    municipality: str | None = None
    project_types: frozenset[str] = frozenset()
    # `resume`: always set. `subscribe`: optional; the change id to replay after before anything live is sent.
    last_id: int | None = None


def parse(text: str | None) -> Request:
    """Parse one text frame; raise ProtocolError naming the field and the reason."""
    if text is None:
        raise ProtocolError("invalid_message", _("Send JSON text frames, not binary ones."))
    if len(text.encode()) > MAX_MESSAGE_BYTES:
        raise ProtocolError("message_too_large", _("A message may be at most %(n)d bytes.") % {"n": MAX_MESSAGE_BYTES})
    try:
        payload = json.loads(text)
    except ValueError:
        raise ProtocolError("invalid_json", _("The message is not valid JSON.")) from None
    if not isinstance(payload, dict):
        raise ProtocolError("invalid_message", _("The message must be a JSON object."))
    action = payload.get("action", payload.get("type"))
    if action in ("ping", "heartbeat"):
        return Request(action="ping")
    if action == "resume":
        return Request(action="resume", last_id=_last_id(payload.get("last_id")))
    if action not in ("subscribe", "unsubscribe"):
        raise ProtocolError(
            "unknown_action", _("action must be subscribe, unsubscribe, resume or ping."), field="action"
        )
    entity_type = payload.get("entity_type", "all")
    if entity_type not in ENTITY_TYPES:
        raise ProtocolError(
            "invalid_field", _("entity_type must be project, municipality or all."), field="entity_type"
        )
    entity_id = _entity_id(entity_type, payload.get("entity_id"))
    filters = payload.get("filters") or {}
    if not isinstance(filters, dict):
        raise ProtocolError("invalid_field", _("filters must be an object."), field="filters")
    unknown = set(filters) - {"status", "municipality_id", "project_type"}
    if unknown:
        raise ProtocolError(
            "invalid_field",
            _("Unknown filter: %(names)s. Filters are status, municipality_id and project_type.")
            % {"names": ", ".join(sorted(unknown))},
            field="filters",
        )
    statuses = _string_set(filters.get("status"), "filters.status")
    bad = statuses - set(Status.values)
    if bad:
        raise ProtocolError(
            "invalid_field",
            _("Unknown status %(bad)s; use one of %(good)s.") % {"bad": ", ".join(sorted(bad)),
                                                                 "good": ", ".join(Status.values)},
            field="filters.status",
        )
    municipality = filters.get("municipality_id")
    if municipality is not None and (not isinstance(municipality, str) or not municipality.strip()):
        raise ProtocolError(
            "invalid_field", _("municipality_id must be an MDB code or a municipality id."),
            field="filters.municipality_id",
        )
    project_types = frozenset(v.casefold() for v in _string_set(filters.get("project_type"), "filters.project_type"))
    last_id = payload.get("last_id")
    return Request(
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        statuses=statuses,
        municipality=municipality.strip() if municipality else None,
        project_types=project_types,
        last_id=_last_id(last_id) if action == "subscribe" and last_id is not None else None,
    )


def _last_id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProtocolError("invalid_field", _("last_id must be a whole number, 0 or more."), field="last_id")
    return value


def _entity_id(entity_type: str, value: Any) -> str | None:
    if value is None or value == "":
        return None
    if entity_type == "all":
        raise ProtocolError("invalid_field", _("entity_id must be null when entity_type is all."), field="entity_id")
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise ProtocolError("invalid_field", _("entity_id must be a string."), field="entity_id")
    value = str(value).strip()
    if entity_type == "project":
        try:
            return str(uuid.UUID(value))
        except ValueError:
            raise ProtocolError("invalid_field", _("entity_id must be a project id (a UUID)."),
                                field="entity_id") from None
    if not (value.replace("-", "").isalnum() and len(value) <= 64):
        raise ProtocolError(
            "invalid_field", _("entity_id must be an MDB code or a municipality id."), field="entity_id"
        )
    return value


def _string_set(value: Any, name: str) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or len(value) > MAX_FILTER_VALUES:
        raise ProtocolError(
            "invalid_field",
            _("%(name)s must be a list of at most %(n)d strings.") % {"name": name, "n": MAX_FILTER_VALUES},
            field=name,
        )
    return frozenset(v.strip() for v in value if v.strip())


def looks_like_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
