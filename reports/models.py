"""Community reports, their photos and votes (the moderation log is `changelog.AdminAction`)."""

from __future__ import annotations

from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _


class ReportType(models.TextChoices):
    PROGRESS_UPDATE = "progress_update", _("Progress update")
    ISSUE = "issue", _("Problem")
    COMPLETION = "completion", _("Completed")
    QUALITY_CONCERN = "quality_concern", _("Quality concern")


class ReportStatus(models.TextChoices):
    PUBLISHED = "published", _("Published")
    FLAGGED = "flagged", _("Flagged")
    SPAM = "spam", _("Spam")


class Contributor(models.Model):
    """Who sent a report. The email is for moderators only and never leaves the admin."""

    name = models.CharField(_("name"), max_length=100, blank=True)
    email = models.EmailField(_("email"), blank=True)
    organisation = models.CharField(_("organisation"), max_length=200, blank=True)
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
    location = models.PointField(_("location"), srid=4326)
    address = models.CharField(_("address"), max_length=500, blank=True)
    report_type = models.CharField(_("type"), max_length=20, choices=ReportType.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=ReportStatus.choices, default=ReportStatus.PUBLISHED
    )
    upvotes = models.PositiveIntegerField(_("up votes"), default=0)
    downvotes = models.PositiveIntegerField(_("down votes"), default=0)
    contributor_name = models.CharField(_("name shown"), max_length=100, blank=True)
    admin_notes = models.TextField(_("internal notes"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)

    objects = ReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["project", "status"], name="report_project_status_idx"),
            models.Index(fields=["status", "created_at"], name="report_status_created_idx"),
            models.Index(fields=["report_type"], name="report_type_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class ReportPhoto(models.Model):
    """A photo as stored: re-encoded without EXIF and at most 2,048 px on its longer side."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(_("image"), upload_to="reports/%Y/%m/", width_field="width", height_field="height")
    width = models.PositiveIntegerField(_("width"), default=0)
    height = models.PositiveIntegerField(_("height"), default=0)
    alt_text = models.CharField(_("description of the photo"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["report", "pk"]

    def __str__(self) -> str:
        return self.image.name


class VoteDirection(models.TextChoices):
    UP = "up", _("Up")
    DOWN = "down", _("Down")


class ReportVote(models.Model):
    """One vote per voter per report; the voter key is a salted hash, never an address or a name."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="votes")
    voter_key = models.CharField(_("voter key"), max_length=64)
    direction = models.CharField(_("direction"), max_length=4, choices=VoteDirection.choices)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("vote")
        verbose_name_plural = _("votes")
        constraints = [models.UniqueConstraint(fields=["report", "voter_key"], name="vote_one_per_voter")]
