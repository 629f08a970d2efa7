"""The history of ingestion runs, one row per run of one source."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCESS = "success", _("Succeeded")
    NO_CHANGE = "no_change", _("No change at the source")
    PARTIAL = "partial", _("Partly succeeded")
    FAILED = "failed", _("Failed")
    REFUSED = "refused", _("Refused: another run of this source was under way")
    SKIPPED = "skipped", _("Skipped: the source is failing (circuit open)")


class IngestionRunQuerySet(models.QuerySet["IngestionRun"]):
    def of_source(self, source: str) -> IngestionRunQuerySet:
        return self.filter(source=source)

    def successful(self) -> IngestionRunQuerySet:
        return self.filter(status__in=[RunStatus.SUCCESS, RunStatus.NO_CHANGE])

    def active(self) -> IngestionRunQuerySet:
        return self.filter(status__in=[RunStatus.QUEUED, RunStatus.RUNNING])


class IngestionRun(models.Model):
    source = models.CharField(_("source"), max_length=30, db_index=True)
    kind = models.CharField(_("kind"), max_length=30, default="full", help_text=_("full sync or change check"))
    status = models.CharField(_("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    unchanged_count = models.PositiveIntegerField(_("unchanged"), default=0)
    failed_count = models.PositiveIntegerField(_("failed"), default=0)
    fetched_hash = models.CharField(_("hash of what was fetched"), max_length=64, blank=True)
    error = models.TextField(_("error"), blank=True)
    report = models.JSONField(
        _("report"), default=dict, blank=True, help_text=_("Unmatched records, skipped locked fields, notes.")
    )
    triggered_by = models.CharField(_("triggered by"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("queued"), auto_now_add=True)
    # The process that runs it, so that a run whose worker was killed is found at once rather than after
    # INGESTION_STALE_AFTER_SECONDS (ingestion.workers): on the same host its pid and start time (a pid alone may
    # be reused), on another host the heartbeat the run refreshes as it works.
    worker_host = models.CharField(
        _("worker host"), max_length=255, blank=True, help_text=_("Host name and pid namespace.")
    )
    worker_pid = models.PositiveIntegerField(_("worker process id"), null=True, blank=True)
    worker_started = models.BigIntegerField(
        _("worker process start"), null=True, blank=True, help_text=_("Clock ticks after boot, from /proc.")
    )
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)

    objects = IngestionRunQuerySet.as_manager()

    class Meta:
        verbose_name = _("ingestion run")
        verbose_name_plural = _("ingestion runs")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["source", "status", "created_at"], name="run_source_status_idx")]
        constraints = [
            # The database, not only the code, refuses a second active run of one source.
            models.UniqueConstraint(
                fields=["source"],
                condition=Q(status__in=["queued", "running"]),
                name="run_one_active_per_source",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.get_status_display()} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class CircuitState(models.TextChoices):
    CLOSED = "closed", _("Closed: calls go through")
    OPEN = "open", _("Open: calls refused until the cool-down ends")
    HALF_OPEN = "half-open", _("Half open: one trial call allowed")


class SourceCircuit(models.Model):
    """The circuit breaker state of one source, shared by every process (web, worker, management commands).

    Kept in the database rather than in process memory so that the web process, the django-q2 worker and a
    manual `manage.py ingest` agree on whether a source is failing, and so that the pipeline status can show
    it; Redis would also work but is optional in the embedded set-up, the database is always there.
    """

    source = models.CharField(_("source"), max_length=30, unique=True)
    state = models.CharField(_("state"), max_length=10, choices=CircuitState.choices, default=CircuitState.CLOSED)
    fail_counter = models.PositiveIntegerField(_("consecutive failures"), default=0)
    success_counter = models.PositiveIntegerField(_("consecutive successes while half open"), default=0)
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("source circuit breaker")
        verbose_name_plural = _("source circuit breakers")
        ordering = ["source"]

    def __str__(self) -> str:
        return f"{self.source}: {self.state}"
