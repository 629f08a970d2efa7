"""API keys: issued by staff to a named owner, for the scopes it needs; only a hash of the secret is stored.

Written by `apikeys.services` only (issue, revoke, the throttled "last used" mark).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    """What a key may do. Defined once here: the admin form, the services and the auth classes read it."""

    OPEN311_POST = "open311:post", _("Open311: post service requests")
    WEBHOOKS = "webhooks", _("Webhooks")
    SYNC_TRIGGER = "sync:trigger", _("Trigger and follow data syncs")


class ApiKeyQuerySet(models.QuerySet["ApiKey"]):
    def active(self) -> ApiKeyQuerySet:
        return self.filter(revoked_at__isnull=True)


class ApiKey(models.Model):
    name = models.CharField(_("name"), max_length=100, help_text=_("What the key is for, e.g. \"Ward 12 app\"."))
    owner_email = models.EmailField(_("owner's email"))
    # A JSON list of Scope values: at most three, read whole with the key (never queried by scope in SQL, which keeps
    # SpatiaLite and PostgreSQL alike).
    scopes = models.JSONField(_("scopes"), default=list)
    # The secret's first characters ("bka_" and 8 more): enough for staff and owners to tell keys apart, far too
    # few to guess the rest.
    prefix = models.CharField(_("prefix"), max_length=16, db_index=True, editable=False)
    # SHA-256 of the secret, hex. A password hasher (PBKDF2, Argon2) slows down guessing of low-entropy passwords;
    # the secret is 32 random bytes, which no speed of hashing makes guessable, and a slow hash would cost every
    # API request its time. An unsalted hash also lets the key be found by an indexed equality lookup.
    secret_hash = models.CharField(_("secret hash"), max_length=64, unique=True, editable=False)
    rate_limit = models.CharField(_("rate limit"), max_length=20,
                                  help_text=_("Requests per period, e.g. 600/h (s, m, h or d)."))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.CharField(_("created by"), max_length=150, editable=False)
    # Written at most once a minute per key (apikeys.services.api_key_check), not on every request.
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=~Q(secret_hash=""), name="apikey_hash_required")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def has_scope(self, scope: str) -> bool:
        return scope in Scope.values and scope in self.scopes
