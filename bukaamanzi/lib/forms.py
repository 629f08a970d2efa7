"""What every public form shares: a honeypot field that people never see and bots fill in."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class HoneypotForm(forms.Form):
    """The template hides `website` off-screen (class "hp", aria-hidden, no tab stop); a filled one is a bot.
    Each form decides what a bot is told (the report forms refuse with a message; the alert form answers as if
    all went well)."""

    website = forms.CharField(label=_("Leave this empty"), required=False)

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get("website"))
