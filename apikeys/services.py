"""Issue, revoke and check API keys.

A key's secret is `bka_` and 43 URL-safe characters (32 random bytes). It is returned once, by `api_key_issue`,
and never stored: the table keeps its SHA-256 (see `ApiKey.secret_hash`) and its first characters. A check hashes
what the client sent and looks the hash up, so no stored secret is compared character by character (the lookup
compares hashes, which tell an attacker nothing about the secret). Every check reads the row, so a revoked key is
refused from the next request on. Issuing and revoking each write one AdminAction with the reason, never the secret.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apikeys.models import ApiKey, Scope
from bukaamanzi.lib.ratelimit import parse_rate
from changelog.models import AdminAction

SECRET_PREFIX = "bka_"  # noqa: S105 (a marker that makes a leaked key recognisable, not a secret)
PREFIX_LENGTH = len(SECRET_PREFIX) + 8
# "Last used" is a hint for staff, not an audit: one write a minute per key, not one per request.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
TARGET_TYPE = "api_key"


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _clean_scopes(scopes: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(scopes))
    unknown = [scope for scope in chosen if scope not in Scope.values]
    if unknown:
        raise ValidationError({"scopes": _("Unknown scope %(scope)s: use %(choices)s.")
                               % {"scope": unknown[0], "choices": ", ".join(Scope.values)}})
    if not chosen:
        raise ValidationError({"scopes": _("Choose at least one scope.")})
    return chosen


def _check_reason(reason: str) -> str:
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason: it is recorded in the moderation log.")})
    return reason.strip()


def api_key_issue(
    *, name: str, owner_email: str, scopes: Iterable[str], moderator: str, reason: str, rate_limit: str | None = None,
) -> tuple[ApiKey, str]:
    """A new key and its secret, which is shown to the caller once and stored nowhere."""
    reason = _check_reason(reason)
    chosen = _clean_scopes(scopes)
    rate = (rate_limit or settings.API_KEY_RATE_LIMIT).strip()
    try:
        parse_rate(rate)
    except ValueError as exc:
        raise ValidationError({"rate_limit": _("A rate looks like 600/h: a count per s, m, h or d.")}) from exc
    validate_email(owner_email)
    if not name.strip():
        raise ValidationError({"name": _("Name the key.")})
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        key = ApiKey.objects.create(
            name=name.strip(), owner_email=owner_email.strip().lower(), scopes=chosen, prefix=secret[:PREFIX_LENGTH],
            secret_hash=secret_hash(secret), rate_limit=rate, created_by=moderator,
        )
        AdminAction.objects.create(
            admin_name=moderator, target_type=TARGET_TYPE, target_id=str(key.pk), action="issue", reason=reason,
            metadata={"name": key.name, "owner_email": key.owner_email, "scopes": chosen, "prefix": key.prefix,
                      "rate_limit": rate},
        )
    return key, secret


def api_key_revoke(*, key: ApiKey, moderator: str, reason: str) -> ApiKey:
    """Refuse the key from the next request on. Revoking a revoked key changes nothing and records nothing."""
    reason = _check_reason(reason)
    with transaction.atomic():
        locked = ApiKey.objects.select_for_update().get(pk=key.pk)
        if locked.revoked_at is not None:
            return locked
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        AdminAction.objects.create(
            admin_name=moderator, target_type=TARGET_TYPE, target_id=str(locked.pk), action="revoke", reason=reason,
            metadata={"name": locked.name, "owner_email": locked.owner_email, "prefix": locked.prefix},
        )
    key.revoked_at = locked.revoked_at
    return locked


def api_key_check(secret: str, scope: str) -> ApiKey | None:
    """The active key whose secret this is, if it has `scope`; else None (unknown, revoked, or another scope)."""
    if scope not in Scope.values or not secret.startswith(SECRET_PREFIX):
        return None
    key = ApiKey.objects.active().filter(secret_hash=secret_hash(secret)).first()
    if key is None or not key.has_scope(scope):
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        # A conditional UPDATE: of several requests in the same minute, one writes.
        stale = now - LAST_USED_RESOLUTION
        ApiKey.objects.filter(pk=key.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale)
        ).update(last_used_at=now)
        key.last_used_at = now
    return key
