"""What Open311 adds to a report it brought: the token the client polls with, the key that posted it, and the
`media_url` it sent (a link elsewhere, which is never fetched nor shown: moderators may follow it).

Written by `open311.services` only, in the same transaction as the report.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Open311Request(models.Model):
    report = models.OneToOneField("reports.Report", verbose_name=_("report"), on_delete=models.CASCADE,
                                  related_name="open311")
    # Random and unique: it says nothing about the report's id, which a held report's sender is not given yet.
    token = models.CharField(_("token"), max_length=32, unique=True, editable=False)
    # Kept when the key is revoked (revoked keys are never deleted), so staff can see which client sent what.
    api_key = models.ForeignKey("apikeys.ApiKey", verbose_name=_("API key"), null=True, on_delete=models.SET_NULL,
                                related_name="open311_requests")
    media_url = models.URLField(_("media URL sent"), max_length=1000, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("Open311 request")
        verbose_name_plural = _("Open311 requests")

    def __str__(self) -> str:
        return self.token
