"""The project status vocabulary, once: the OC4IDS project stages, plus on hold and unknown.

`Status` is the model field's choices (projects), `ProjectStatus` the type the source parsers return
(ingestion), and `STATUS_SYMBOLS` what the pages and the map draw (the map script takes them from the page).
This module needs no settings (the parsers stay importable without them): labels are lazy.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _


class Status(TextChoices):
    IDENTIFICATION = "identification", _("Identification")
    PREPARATION = "preparation", _("Preparation")
    IMPLEMENTATION = "implementation", _("Implementation")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    ON_HOLD = "on_hold", _("On hold")
    UNKNOWN = "unknown", _("Unknown")


# For type checkers only: a Literal cannot be built from the class above, so it is checked against it below.
ProjectStatus = Literal["identification", "preparation", "implementation", "completed", "cancelled", "on_hold",
                        "unknown"]
STATUS_VOCABULARY: Final[tuple[ProjectStatus, ...]] = get_args(ProjectStatus)
if tuple(Status.values) != STATUS_VOCABULARY:
    raise ImportError("bukaamanzi.lib.status: ProjectStatus and Status list different statuses")

# A symbol per status, so the map and the legend never rely on colour alone. Keyed by the plain value.
STATUS_SYMBOLS: Final[dict[str, str]] = {
    Status.IDENTIFICATION: "●",
    Status.PREPARATION: "◆",
    Status.IMPLEMENTATION: "▲",
    Status.COMPLETED: "✓",
    Status.CANCELLED: "✕",
    Status.ON_HOLD: "Ⅱ",
    Status.UNKNOWN: "?",
}
