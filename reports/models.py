"""Community reports, their updates, photos and "affected too" taps (the moderation log is `changelog.AdminAction`).

A report has two separate conditions: its moderation `status` (published, flagged, spam: whether the public
sees it at all) and its public `state` (open ... fixed: what happened to the problem). Rules for moving
between states are in `reports.states`.
"""

from __future__ import annotations

from typing import Any, Self

from django.contrib.gis.db import models
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _


class ReportType(models.TextChoices):
    PROGRESS_UPDATE = "progress_update", _("Progress update")
    ISSUE = "issue", _("Problem")
    COMPLETION = "completion", _("Completed")
    QUALITY_CONCERN = "quality_concern", _("Quality concern")


class ReportStatus(models.TextChoices):
    # Written but not sent yet: the form's confirmation step (similar reports nearby) keeps it, photos and all,
    # until the sender publishes it; never public, dropped after a day (reports.tasks).
    DRAFT = "draft", _("Draft (not sent yet)")
    PUBLISHED = "published", _("Published")
    FLAGGED = "flagged", _("Flagged")
    SPAM = "spam", _("Spam")


class ReportState(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    IN_PROGRESS = "in_progress", _("In progress")
    FIXED = "fixed", _("Fixed")
    NOT_FIXED = "not_fixed", _("Closed, not fixed")
    DUPLICATE = "duplicate", _("Duplicate")
    # Progress updates and completion reports tell news; they are not problems waiting for a fix.
    NOTED = "noted", _("Noted")


class StateSetBy(models.TextChoices):
    """Who set the current state, so the page can say "fixed, says a resident"."""

    SUBMISSION = "", _("the report itself")
    RESIDENT = "resident", _("a resident")
    REPORTER = "reporter", _("the reporter")
    MODERATOR = "moderator", _("a moderator")


class QuestionnaireAnswer(models.TextChoices):
    YES = "yes", _("Yes, it is fixed")
    NO = "no", _("No, it is not fixed")
    DONT_KNOW = "dont_know", _("I don't know")


class Contributor(models.Model):
    """Who sent a report. The email is for moderators only and never leaves the admin."""

    name = models.CharField(_("name"), max_length=100, blank=True)
    email = models.EmailField(_("email"), blank=True)
    organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    # The page's language when they wrote: the emails to them are in it.
    language = models.CharField(_("language"), max_length=10, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("contributor")
        verbose_name_plural = _("contributors")
        indexes = [models.Index(fields=["email"], name="contributor_email_idx")]

    def __str__(self) -> str:
        return self.name or _("Anonymous contributor #%(id)s") % {"id": self.pk}


class ReportQuerySet(models.QuerySet["Report"]):
    def published(self) -> ReportQuerySet:
        return self.filter(status=ReportStatus.PUBLISHED)

    def unreviewed(self) -> ReportQuerySet:
        return self.filter(reviewed_at__isnull=True)


class Report(models.Model):
    contributor = models.ForeignKey(
        Contributor, verbose_name=_("contributor"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="reports",
    )
    project = models.ForeignKey(
        "projects.Project", verbose_name=_("project"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="reports",
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), max_length=5000)
    # Where it is (moderators see this) and where the public sees it: the same point, or when the reporter
    # chose "show the place only roughly", the centre of its ~500 m grid cell (bukaamanzi.lib.geo.snap_to_grid).
    # Every public output (pages, API, exports, change log, live pushes, nearby) reads `public_location`.
    location = models.PointField(_("location"), srid=4326)
    public_location = models.PointField(_("location shown to the public"), srid=4326)
    location_is_rough = models.BooleanField(_("place shown only roughly"), default=False)
    address = models.CharField(_("address"), max_length=500, blank=True)
    report_type = models.CharField(_("type"), max_length=20, choices=ReportType.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=ReportStatus.choices, default=ReportStatus.PUBLISHED
    )
    state = models.CharField(_("state"), max_length=12, choices=ReportState.choices, default=ReportState.OPEN)
    state_set_by = models.CharField(_("state set by"), max_length=10, choices=StateSetBy.choices, blank=True,
                                    default=StateSetBy.SUBMISSION)
    state_changed_at = models.DateTimeField(_("state changed"), null=True, blank=True)
    duplicate_of = models.ForeignKey(
        "self", verbose_name=_("duplicate of"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="duplicates",
    )
    # Residents who said "this affects me too" (their own taps, plus its duplicates' people once marked).
    affected_count = models.PositiveIntegerField(_("affected too"), default=0)
    # The reporter's answer to "is it fixed?" (reports.reporter), shown on the report.
    questionnaire_answer = models.CharField(_("“is it fixed?” answer"), max_length=10,
                                            choices=QuestionnaireAnswer.choices, blank=True)
    questionnaire_answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    # The reporter asked, from their private link, that moderators remove the report.
    removal_requested_at = models.DateTimeField(_("removal asked by the reporter"), null=True, blank=True)
    contributor_name = models.CharField(_("name shown"), max_length=100, blank=True)
    admin_notes = models.TextField(_("internal notes"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    # The sender's client address as a keyed hash (reports.affected.address_key, never the address): what a
    # moderator puts on the ban list to stop this sender.
    sender_key = models.CharField(_("sender's address key"), max_length=64, blank=True)
    # Moderators' edits keep what the sender wrote: each edited field's first value, by field name, so any
    # field can be put back on its own. `moderated_at` is when a moderator last changed what the public sees.
    original_values = models.JSONField(_("values before moderation"), default=dict, blank=True)
    moderated_at = models.DateTimeField(_("moderated"), null=True, blank=True)

    objects = ReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["project", "status"], name="report_project_status_idx"),
            models.Index(fields=["status", "created_at"], name="report_status_created_idx"),
            models.Index(fields=["report_type"], name="report_type_idx"),
            models.Index(fields=["state"], name="report_state_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A report written without a public point is shown where it is (rough points come from report_submit).
        if self.public_location is None:
            self.public_location = self.location
        super().save(*args, **kwargs)


class ReportUpdateQuerySet(models.QuerySet["ReportUpdate"]):
    def published(self) -> ReportUpdateQuerySet:
        return self.filter(status=ReportStatus.PUBLISHED)


class UpdateEffect(models.TextChoices):
    """What an update did to its report's state, besides adding its text."""

    NONE = "", _("nothing")
    FIXED = "fixed", _("marked it fixed")
    REOPENED = "reopened", _("reopened it")


class ReportUpdate(models.Model):
    """What happened next, told by anyone: text, photos, and maybe "this is fixed". Moderated like reports."""

    report = models.ForeignKey(Report, verbose_name=_("report"), on_delete=models.CASCADE, related_name="updates")
    contributor = models.ForeignKey(
        Contributor, verbose_name=_("contributor"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="updates",
    )
    contributor_name = models.CharField(_("name shown"), max_length=100, blank=True)
    text = models.TextField(_("text"), max_length=5000)
    by_reporter = models.BooleanField(_("by the reporter"), default=False)
    effect = models.CharField(_("effect"), max_length=10, choices=UpdateEffect.choices, blank=True,
                              default=UpdateEffect.NONE)
    # The report's state before this update changed it, so hiding the update can undo its effect.
    previous_state = models.CharField(_("state before"), max_length=12, choices=ReportState.choices, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ReportStatus.choices, default=ReportStatus.PUBLISHED
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    sender_key = models.CharField(_("sender's address key"), max_length=64, blank=True)  # as on Report
    original_values = models.JSONField(_("values before moderation"), default=dict, blank=True)  # as on Report
    moderated_at = models.DateTimeField(_("moderated"), null=True, blank=True)

    objects = ReportUpdateQuerySet.as_manager()

    class Meta:
        verbose_name = _("update")
        verbose_name_plural = _("updates")
        ordering = ["report", "created_at", "pk"]
        indexes = [models.Index(fields=["report", "status", "created_at"], name="update_report_status_idx")]

    def __str__(self) -> str:
        return self.text[:60]

    @property
    def state_set_to(self) -> str:
        """The state this update gave its report ("" when it changed none)."""
        return {UpdateEffect.FIXED: ReportState.FIXED, UpdateEffect.REOPENED: ReportState.OPEN}.get(
            UpdateEffect(self.effect), "")


class PhotoQuerySet(models.QuerySet[Any]):
    def public(self) -> Self:
        """What any public output may show: not hidden by a moderator. Every page, API answer, suggestion and
        push reads photos through this (or `public_photos`), so hiding a photo is one place to check."""
        return self.filter(hidden_at__isnull=True)


def public_photos(model: type[ReportPhoto] | type[UpdatePhoto]) -> Prefetch[Any, Any, Any]:
    """An item's photos as public pages show them, prefetched to `public_photos` (hidden ones left out, in the
    order they were added). Templates read `public_photos`, never `photos.all`: a page that forgot this prefetch
    then shows no photos rather than hidden ones."""
    return Prefetch("photos", queryset=model.objects.public().order_by("pk"), to_attr="public_photos")


class Photo(models.Model):
    """A photo as stored: re-encoded without EXIF and at most 2,048 px on its longer side, with two sizes made
    from it once (reports.photos): a thumbnail 100 px high for lists and a 1200x630 card for link previews.
    Photos stored before the sizes existed have none until `manage.py make_photo_sizes` runs; pages show the
    original meanwhile."""

    image = models.ImageField(_("image"), upload_to="reports/%Y/%m/", width_field="width", height_field="height")
    width = models.PositiveIntegerField(_("width"), default=0)
    height = models.PositiveIntegerField(_("height"), default=0)
    # No upload_to: the saving service names each derived file after its original (reports.photos.derived_name),
    # so it sits beside it even when made months later.
    thumbnail = models.ImageField(_("thumbnail"), upload_to="", blank=True, width_field="thumbnail_width",
                                  height_field="thumbnail_height")
    thumbnail_width = models.PositiveIntegerField(_("thumbnail width"), default=0)
    thumbnail_height = models.PositiveIntegerField(_("thumbnail height"), default=0)
    card = models.ImageField(_("share card"), upload_to="", blank=True, width_field="card_width",
                             height_field="card_height")
    card_width = models.PositiveIntegerField(_("share card width"), default=0)
    card_height = models.PositiveIntegerField(_("share card height"), default=0)
    alt_text = models.CharField(_("description of the photo"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # A moderator hid the photo: no public output shows it. Redacted: boxes painted over, files made anew.
    hidden_at = models.DateTimeField(_("hidden from the public"), null=True, blank=True)
    redacted_at = models.DateTimeField(_("redacted"), null=True, blank=True)

    objects = PhotoQuerySet.as_manager()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.image.name

    @property
    def stored_names(self) -> list[str]:
        """The names of every file stored for this photo (the original, the thumbnail, the card): what redaction,
        hiding and removal replace or delete."""
        return [name for name in (self.image.name, self.thumbnail.name, self.card.name) if name]

    # What a list shows: the thumbnail, or the original where none was made yet.
    @property
    def thumb_url(self) -> str:
        return (self.thumbnail or self.image).url

    @property
    def thumb_width(self) -> int:
        return self.thumbnail_width if self.thumbnail else self.width

    @property
    def thumb_height(self) -> int:
        return self.thumbnail_height if self.thumbnail else self.height


class ReportPhoto(Photo):
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="photos")

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["report", "pk"]


class UpdatePhoto(Photo):
    update = models.ForeignKey(ReportUpdate, on_delete=models.CASCADE, related_name="photos")

    class Meta:
        verbose_name = _("update photo")
        verbose_name_plural = _("update photos")
        ordering = ["update", "pk"]


class Affected(models.Model):
    """One resident saying "this affects me too" about a report or a project; no account needed.

    One per browser (the session, stored as a salted hash) for ever, and one per client address (a salted hash,
    never the address) per day, per report or project: the unique constraints keep both, so a second tap changes
    nothing whatever the race. The counts shown are kept on the report and the project (`affected_count`).
    """

    report = models.ForeignKey(Report, null=True, blank=True, on_delete=models.CASCADE, related_name="affected")
    project = models.ForeignKey("projects.Project", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="affected")
    browser_key = models.CharField(_("browser key"), max_length=64, blank=True)
    address_key = models.CharField(_("address key"), max_length=64)
    day = models.DateField(_("day"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("affected too")
        verbose_name_plural = _("affected too")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(report__isnull=False, project__isnull=True)
                | models.Q(report__isnull=True, project__isnull=False),
                name="affected_one_target"),
            models.UniqueConstraint(fields=["report", "browser_key"], name="affected_report_browser_once",
                                    condition=~models.Q(browser_key="")),
            models.UniqueConstraint(fields=["project", "browser_key"], name="affected_project_browser_once",
                                    condition=~models.Q(browser_key="")),
            models.UniqueConstraint(fields=["report", "address_key", "day"], name="affected_report_address_daily"),
            models.UniqueConstraint(fields=["project", "address_key", "day"], name="affected_project_address_daily"),
        ]


class FlagReason(models.TextChoices):
    SPAM = "spam", _("Spam or advertising")
    OFFENSIVE = "offensive", _("Offensive or abusive")
    PERSONAL_INFORMATION = "personal_information", _("Shows personal information")
    OFF_TOPIC = "off_topic", _("Not about water or sanitation")
    OTHER = "other", _("Something else")


class Flag(models.Model):
    """A resident's "report abuse" on a report or an update. One per browser (its session) and one per client
    address per item, ever (both kept only as keyed hashes): a restored item cannot be hidden again by the
    same people. `cleared_at` is set when a moderator restores the item; cleared flags no longer count."""

    report = models.ForeignKey(Report, null=True, blank=True, on_delete=models.CASCADE, related_name="flags")
    update = models.ForeignKey(ReportUpdate, null=True, blank=True, on_delete=models.CASCADE, related_name="flags")
    reason = models.CharField(_("reason"), max_length=24, choices=FlagReason.choices)
    text = models.CharField(_("details"), max_length=1000, blank=True)
    browser_key = models.CharField(_("browser key"), max_length=64, blank=True)
    address_key = models.CharField(_("address key"), max_length=64)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    cleared_at = models.DateTimeField(_("cleared by a moderator"), null=True, blank=True)

    class Meta:
        verbose_name = _("flag")
        verbose_name_plural = _("flags")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(report__isnull=False, update__isnull=True)
                | models.Q(report__isnull=True, update__isnull=False),
                name="flag_one_target"),
            models.UniqueConstraint(fields=["report", "browser_key"], name="flag_report_browser_once",
                                    condition=~models.Q(browser_key="")),
            models.UniqueConstraint(fields=["update", "browser_key"], name="flag_update_browser_once",
                                    condition=~models.Q(browser_key="")),
            models.UniqueConstraint(fields=["report", "address_key"], name="flag_report_address_once"),
            models.UniqueConstraint(fields=["update", "address_key"], name="flag_update_address_once"),
        ]


class BanKind(models.TextChoices):
    EMAIL = "email", _("Email address")
    DOMAIN = "domain", _("Email domain")
    ADDRESS = "address", _("Client address (keyed hash)")


class Ban(models.Model):
    """A sender on the ban list: an email address, an email domain (both lower-cased) or a client address,
    kept only as its keyed hash (reports.affected.address_key). What a listed sender sends is stored hidden,
    never alerted or pushed. Listing and unlisting are AdminActions with a reason."""

    kind = models.CharField(_("kind"), max_length=10, choices=BanKind.choices)
    value = models.CharField(_("value"), max_length=254)
    reason = models.TextField(_("reason"))
    created_by = models.CharField(_("listed by"), max_length=150)
    created_at = models.DateTimeField(_("listed"), auto_now_add=True)

    class Meta:
        verbose_name = _("ban")
        verbose_name_plural = _("ban list")
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="ban_once")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.value}"
