"""Writes to community reports: submitting and moderating (updates and states: reports.lifecycle; "affected
too": reports.affected).

The report form, the API and the admin all call these, so every path records the same change-log rows
(and, for moderation, one AdminAction per report) inside one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from bukaamanzi.lib.geo import SOUTH_AFRICA, snap_to_grid
from changelog.models import AdminAction, ChangeSource, ChangeType, EntityType
from changelog.services import change_log_record
from projects.models import Project
from reports.bans import banned_sender, hidden_on_arrival_record
from reports.errors import ReportError, required_reason
from reports.keys import sender_key
from reports.models import Contributor, Flag, Photo, Report, ReportPhoto, ReportStatus, UpdatePhoto
from reports.photos import (
    CARD_FOLDER,
    MAX_PHOTOS,
    THUMBNAIL_FOLDER,
    CleanPhoto,
    DerivedImage,
    DerivedSizes,
    PhotoError,
    clean_photo,
    derived_name,
    derived_sizes,
)
from reports.states import initial_state


def in_south_africa(lng: float, lat: float) -> bool:
    """Reports elsewhere are refused (the box: bukaamanzi.lib.geo)."""
    return SOUTH_AFRICA.contains(lng=lng, lat=lat)


def public_point(*, lng: float, lat: float, rough: bool) -> Point:
    """Where the public sees a report placed at (lng, lat): the point, or when the reporter asked for the place
    to be shown only roughly, the centre of its ~500 m grid cell (submitting and moderators' edits alike)."""
    return Point(*(snap_to_grid(lng=lng, lat=lat) if rough else (lng, lat)), srid=4326)


@dataclass(frozen=True)
class PhotoUpload:
    data: bytes
    name: str = "photo"
    alt_text: str = ""


def _public_fields(report: Report) -> dict[str, object]:
    # What the change log (and so the public history and live clients) may show: never the email.
    return {
        "title": report.title,
        "report_type": report.report_type,
        "status": report.status,
        "state": report.state,
        "project": report.project_id,
        "location": report.public_location,  # the public point: rough when the reporter asked
        "contributor_name": report.contributor_name,
    }


def log_report_change(
    report: Report, change_type: str, source: str, old: dict | None = None, new: dict | None = None
) -> None:
    """One change-log row about a report, filed under its project and municipality (where it has them)."""
    municipality_code = report.project.municipality_code if report.project is not None else ""
    change_log_record(
        entity_type=EntityType.REPORT,
        entity_id=report.pk,
        change_type=change_type,
        source=source,
        old_values=old or {},
        new_values=new if new is not None else _public_fields(report),
        municipality_code=municipality_code,
        project=report.project,
    )


def contributor_for(*, name: str, email: str, organisation: str = "", language: str = "") -> Contributor | None:
    """A contributor row when the sender said who they are (anonymous posts have none); `language` is the
    page's, for the emails to them."""
    if not (name or email or organisation):
        return None
    # Emails are kept lower-cased, as the alerts' addresses are: "Thandi@…" and "thandi@…" are one sender to the
    # first-time hold, the queue and the ban list.
    return Contributor.objects.create(name=name.strip(), email=email.strip().lower(),
                                      organisation=organisation.strip(), language=language or settings.LANGUAGE_CODE)


@dataclass(frozen=True)
class CleanUpload:
    """A photo ready to store: the cleaned original and the sizes made from it."""

    photo: CleanPhoto
    sizes: DerivedSizes


def clean_uploads(photos: Sequence[PhotoUpload], *, limit: int, what: str) -> list[tuple[CleanUpload, str]]:
    """Each photo checked, re-encoded and resized (reports.photos), with its description; ReportError on the first
    bad one. Callers do this before their transaction, so that no row lock is held while images are resized."""
    if len(photos) > limit:
        raise ReportError("photos", f"At most {limit} photos can be added to {what}.")
    cleaned = []
    for index, upload in enumerate(photos, start=1):
        name = upload.name or f"photo {index}"
        try:
            photo = clean_photo(upload.data, name=name)
            sizes = derived_sizes(photo.content.read(), name=name)
        except PhotoError as exc:
            raise ReportError("photos", str(exc)) from exc
        photo.content.seek(0)
        cleaned.append((CleanUpload(photo=photo, sizes=sizes), upload.alt_text[:300]))
    return cleaned


AnyPhoto = TypeVar("AnyPhoto", ReportPhoto, UpdatePhoto)


def _save_sizes(photo: Photo, sizes: DerivedSizes) -> None:
    """Write the derived files beside the photo's stored original and point the row at them (not saved)."""
    derived: tuple[tuple[str, str, DerivedImage], ...] = (
        ("thumbnail", THUMBNAIL_FOLDER, sizes.thumbnail), ("card", CARD_FOLDER, sizes.card))
    for field, folder, image in derived:
        name = derived_name(photo.image.name, folder)
        getattr(photo, field).save(name, ContentFile(image.data), save=False)
        setattr(photo, f"{field}_width", image.width)
        setattr(photo, f"{field}_height", image.height)


def photo_store(*, photo: AnyPhoto, upload: CleanUpload) -> AnyPhoto:
    """Save a new photo row (a ReportPhoto or an UpdatePhoto with its owner set) with its file and its derived
    sizes: the one way photos are created, from the report form, the update form and the API."""
    photo.image.save(upload.photo.content.name or "photo.jpg", upload.photo.content, save=False)
    _save_sizes(photo, upload.sizes)
    photo.save()
    return photo


def photo_make_sizes(*, photo: Photo) -> None:
    """Make the derived sizes of a photo stored before they existed (`manage.py make_photo_sizes`).
    Raises PhotoError when the stored original is unreadable and OSError when it is missing."""
    with photo.image.open("rb") as original:
        data = original.read()
    _save_sizes(photo, derived_sizes(data, name=photo.image.name))
    # An update of these columns only, so that a row deleted meanwhile is simply not found (no error), and
    # nothing else on the row is written back.
    type(photo)._default_manager.filter(pk=photo.pk).update(
        thumbnail=photo.thumbnail.name, thumbnail_width=photo.thumbnail_width,
        thumbnail_height=photo.thumbnail_height, card=photo.card.name, card_width=photo.card_width,
        card_height=photo.card_height)


def report_submit(
    *,
    title: str,
    description: str,
    report_type: str,
    lng: float,
    lat: float,
    project: Project | None = None,
    address: str = "",
    name: str = "",
    email: str = "",
    organisation: str = "",
    photos: Sequence[PhotoUpload] = (),
    language: str = "",
    rough_location: bool = False,
    draft: bool = False,
    client_address: str = "",
) -> Report:
    """Create a published report with its cleaned photos. Raises ReportError naming the field at fault. With an
    email, the sender gets the report's private link by email (alerts.reporters), in `language`. With
    `rough_location`, the public sees only the centre of the point's ~500 m grid cell; moderators see the point.
    A `draft` is stored but not public and not logged until `report_publish_draft`.

    `client_address` is the sender's (`address` is the street address they typed): only its keyed hash is kept.
    A sender on the ban list (reports.bans) gets the same report back, stored as spam, with no change-log row."""
    if not in_south_africa(lng, lat):
        raise ReportError("location", "The location must be in South Africa.")
    cleaned = clean_uploads(photos, limit=MAX_PHOTOS, what="a report")
    key = sender_key(client_address)
    # A draft's confirmation step is the same for everyone: the ban list is read when it is published.
    ban = None if draft else banned_sender(email=email, key=key)
    status = ReportStatus.PUBLISHED if ban is None else ReportStatus.SPAM
    if draft:
        status = ReportStatus.DRAFT

    with transaction.atomic():
        report = Report(
            contributor=contributor_for(name=name, email=email, organisation=organisation, language=language),
            project=project,
            title=title.strip(),
            description=description.strip(),
            report_type=report_type,
            location=Point(lng, lat, srid=4326),
            public_location=public_point(lng=lng, lat=lat, rough=rough_location),
            location_is_rough=rough_location,
            address=address.strip(),
            contributor_name=name.strip(),
            state=initial_state(report_type),
            status=status,
            sender_key=key,
        )
        report.full_clean(exclude=["contributor", "project"])
        report.save()
        for photo, alt_text in cleaned:
            photo_store(photo=ReportPhoto(report=report, alt_text=alt_text), upload=photo)
        if status == ReportStatus.PUBLISHED:  # a draft is news to nobody until it is published
            log_report_change(report, ChangeType.CREATED, ChangeSource.COMMUNITY_REPORT)
        elif ban is not None:
            hidden_on_arrival_record(ban=ban, report=report)
    return report


def report_publish_draft(*, report: Report) -> Report:
    """Publish a draft as it was written (its time becomes now: it is new to everyone). A report already
    published is left as it is, so pressing the button twice publishes once. The draft of a sender on the ban
    list (checked now: they may have been listed meanwhile) is stored as spam instead, with no change-log row."""
    with transaction.atomic():
        draft = Report.objects.select_related("contributor").filter(pk=report.pk, status=ReportStatus.DRAFT).first()
        ban, updated = None, 0
        if draft is not None:
            email = draft.contributor.email if draft.contributor is not None else ""
            ban = banned_sender(email=email, key=draft.sender_key)
            # Conditional, so that of two presses at once only one publishes (and logs).
            updated = Report.objects.filter(pk=draft.pk, status=ReportStatus.DRAFT).update(
                status=ReportStatus.PUBLISHED if ban is None else ReportStatus.SPAM, created_at=timezone.now())
        report.refresh_from_db()
        if updated and ban is None:
            log_report_change(report, ChangeType.CREATED, ChangeSource.COMMUNITY_REPORT)
        elif updated and ban is not None:
            hidden_on_arrival_record(ban=ban, report=report)
    return report


def drafts_drop(*, older_than: dt.timedelta = dt.timedelta(days=1)) -> int:
    """Drafts nobody published within a day are deleted, with their photos' rows and files (the original, the
    thumbnail and the share card)."""
    stale = Report.objects.filter(status=ReportStatus.DRAFT, created_at__lt=timezone.now() - older_than)
    photos = list(ReportPhoto.objects.filter(report__in=stale))
    for photo in photos:
        for name in photo.stored_names:
            photo.image.storage.delete(name)
    deleted, _by_model = stale.delete()
    return deleted


PRIVATE_FIELDS = {"admin_notes"}


# --- Moderation -----------------------------------------------------------------------------------------


def moderate(
    *, reports: Sequence[Report], moderator: str, action: str, reason: str, changes: dict[str, object],
    metadata: dict[str, object] | None = None, reviewed: bool = True,
) -> int:
    """Apply `changes` to each report with one AdminAction and one change-log row each. `reviewed=False` for the
    system's own actions (an automatic hide is not a moderator's review: the report stays in the queue)."""
    reason = required_reason(reason)
    now = timezone.now()
    with transaction.atomic():
        for report in reports:
            old = {name: getattr(report, name) for name in changes}
            for name, value in changes.items():
                setattr(report, name, value)
            if reviewed:
                report.reviewed_at = now
            report.save(update_fields=[*changes, "reviewed_at"])
            AdminAction.objects.create(
                admin_name=moderator, target_type="report", target_id=str(report.pk), action=action,
                reason=reason, metadata={**(metadata or {}), "old": {k: str(v) for k, v in old.items()}},
            )
            # Internal notes stay in the admin: the change log is public history.
            public = [name for name in changes if name not in PRIVATE_FIELDS]
            # The title (unchanged) names the report in the history, feeds and alerts.
            log_report_change(report, ChangeType.UPDATED, ChangeSource.ADMIN_ACTION,
                              old={"title": report.title, **{k: old[k] for k in public}},
                              new={"title": report.title, **{k: changes[k] for k in public}, "action": action})
    return len(reports)


def report_flag(*, reports: Sequence[Report], moderator: str, reason: str) -> int:
    return moderate(reports=reports, moderator=moderator, action="flag", reason=reason,
                     changes={"status": ReportStatus.FLAGGED})


def report_publish(*, reports: Sequence[Report], moderator: str, reason: str) -> int:
    """Publish again; residents' flags on the reports are cleared (their flaggers cannot flag them again)."""
    with transaction.atomic():
        count = moderate(reports=reports, moderator=moderator, action="unflag", reason=reason,
                         changes={"status": ReportStatus.PUBLISHED})
        Flag.objects.filter(report__in=[r.pk for r in reports], cleared_at__isnull=True).update(
            cleared_at=timezone.now())
    return count


def report_mark_spam(*, reports: Sequence[Report], moderator: str, reason: str) -> int:
    return moderate(reports=reports, moderator=moderator, action="spam", reason=reason,
                     changes={"status": ReportStatus.SPAM})


def report_link_project(*, reports: Sequence[Report], project: Project, moderator: str, reason: str) -> int:
    return moderate(reports=reports, moderator=moderator, action="link_project", reason=reason,
                     changes={"project": project}, metadata={"project_id": str(project.pk)})


def report_add_note(*, reports: Sequence[Report], note: str, moderator: str, reason: str) -> int:
    """Append an internal note (never public); the note is the change, the reason says why."""
    if not note.strip():
        raise ReportError("note", "The note is empty.")
    stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    count = 0
    # One transaction for the batch, as for the other actions: a bulk note is added to all or to none.
    with transaction.atomic():
        for report in reports:
            notes = (report.admin_notes + "\n" if report.admin_notes else "") + f"[{stamp} {moderator}] {note.strip()}"
            count += moderate(reports=[report], moderator=moderator, action="note", reason=reason,
                               changes={"admin_notes": notes})
    return count
