"""Moderators' work on single photos: painting boxes black (redaction), and hiding a photo from the public.

Why every file gets a new name: photos are served by URL at MEDIA_URL (bukaamanzi/urls.py, or a proxy in front
serving MEDIA_ROOT), and a URL once shown may be known anywhere: a browser's cache, a link-preview crawler, a
copied link. Painting over a file in place would leave those URLs serving whatever a cache kept, and hiding a
photo's row would leave its files answering. So a redacted or hidden photo is written anew under random names
(the original and the thumbnail and share card made from it), the row is pointed at them, and the old files are
deleted: every URL that ever served the unredacted (or now hidden) image answers 404. The new names are random
and never published while the photo is hidden, so they cannot be guessed.

Order, so that a failure never leaves a row pointing at a missing file: the new files are written first, the row
is switched in the transaction (with its AdminAction and change-log row), and the old files are deleted only
after the transaction commits (`transaction.on_commit`). If the transaction fails, the new files are deleted and
the old ones stay in use. (Should a caller's enclosing transaction roll back later, the new files stay on disk
unused under names nothing refers to: harmless, and better than a row pointing at a deleted file.)
"""

from __future__ import annotations

import io
import posixpath
import secrets
from collections.abc import Sequence
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageDraw, UnidentifiedImageError

from changelog.models import AdminAction, ChangeSource, ChangeType
from reports.errors import required_reason
from reports.models import Photo, Report, ReportPhoto, UpdatePhoto
from reports.photos import ALLOWED_FORMATS, PhotoError, derived_sizes
from reports.services import ReportError, _save_sizes, log_report_change

MAX_BOXES = 20
Box = tuple[int, int, int, int]  # x, y, width, height, in the stored original's pixels
# As reports.photos.clean_photo encodes each format, so a redacted photo is stored like any other.
SAVE_OPTIONS: dict[str, dict[str, Any]] = {
    "JPEG": {"quality": 85, "optimize": True}, "WEBP": {"quality": 85}, "PNG": {"optimize": True},
}


def check_boxes(boxes: Sequence[Sequence[object]], *, width: int, height: int) -> list[Box]:
    """The boxes as (x, y, width, height) integer tuples; ReportError("boxes", ...) naming the first bad one."""
    if not 1 <= len(boxes) <= MAX_BOXES:
        raise ReportError("boxes", _("Draw or type between 1 and %(max)d boxes.") % {"max": MAX_BOXES})
    checked: list[Box] = []
    for number, box in enumerate(boxes, start=1):
        if len(box) != 4 or not all(isinstance(n, int) and not isinstance(n, bool) for n in box):
            raise ReportError("boxes", _("Box %(number)d must be four whole numbers: x, y, width, height.")
                              % {"number": number})
        x, y, w, h = (int(n) for n in box)  # type: ignore[call-overload]
        if w <= 0 or h <= 0:
            raise ReportError("boxes", _("Box %(number)d must have a width and a height above 0.")
                              % {"number": number})
        if x < 0 or y < 0 or x + w > width or y + h > height:
            raise ReportError("boxes", _("Box %(number)d goes outside the photo, which is %(width)d × %(height)d "
                                         "pixels.") % {"number": number, "width": width, "height": height})
        checked.append((x, y, w, h))
    return checked


def _read(photo: Photo) -> bytes:
    try:
        with photo.image.open("rb") as original:
            return original.read()
    except OSError as exc:
        raise ReportError("photo", _("The stored photo could not be read.")) from exc


def paint_boxes(data: bytes, boxes: Sequence[Sequence[object]]) -> tuple[bytes, str, list[Box]]:
    """The image with every box filled black, re-encoded in its own format without metadata; that format's file
    extension; the boxes as checked against the image's own size."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            kind = image.format or ""
            if kind not in ALLOWED_FORMATS:
                raise ReportError("photo", _("The stored photo is not a JPEG, PNG or WebP image."))
            checked = check_boxes(boxes, width=image.width, height=image.height)
            # A fresh image: pixels only, whatever the stored file carried.
            painted = Image.new(image.mode, image.size)
            painted.paste(image)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, ReportError):
            raise
        raise ReportError("photo", _("The stored photo could not be read.")) from exc
    draw = ImageDraw.Draw(painted)
    for x, y, w, h in checked:
        # PIL's rectangle includes its end point: the last pixel inside the box is (x + w - 1, y + h - 1).
        draw.rectangle((x, y, x + w - 1, y + h - 1), fill="black")
    buffer = io.BytesIO()
    painted.save(buffer, format=kind, **SAVE_OPTIONS[kind])
    return buffer.getvalue(), ALLOWED_FORMATS[kind], checked


def delete_files_after_commit(storage: Any, names: Sequence[str]) -> None:
    """Delete stored files once the transaction that stopped using them has committed (at once outside one)."""
    names = [name for name in names if name]

    def delete() -> None:
        for name in names:
            storage.delete(name)

    transaction.on_commit(delete)


def _store_anew(photo: Photo, data: bytes, extension: str) -> None:
    """Write `data` as the photo's original under a new random name, with a thumbnail and card made from it, and
    point the row at them (not saved). Raises ReportError when the sizes cannot be made."""
    try:
        sizes = derived_sizes(data, name=photo.image.name)
    except PhotoError as exc:
        raise ReportError("photo", str(exc)) from exc
    # A random name: nothing about the old file (or the photo's id) lets anyone guess it.
    name = f"{secrets.token_hex(12)}.{extension}"
    # The content is named: an unnamed one would leave the width and height empty (ImageField reads them from it).
    photo.image.save(name, ContentFile(data, name=name), save=False)
    _save_sizes(photo, sizes)


# Everything on the row that a redaction or a hide may change (nothing else is written back).
SWITCHED_FIELDS = ("image", "width", "height", "thumbnail", "thumbnail_width", "thumbnail_height", "card",
                   "card_width", "card_height", "hidden_at", "redacted_at")


def _switch(photo: Photo, data: bytes, extension: str, *, record: Any) -> None:
    """New files written, the row switched and `record()` run in one transaction, the old files deleted after it
    commits; on any failure the new files are deleted and the row keeps the old ones."""
    storage = photo.image.storage
    old = photo.stored_names
    try:
        with transaction.atomic():
            locked = type(photo)._default_manager.select_for_update().get(pk=photo.pk)
            if locked.stored_names != old:
                raise ReportError("photo", _("The photo was changed meanwhile: open it again and retry."))
            _store_anew(photo, data, extension)
            photo.save(update_fields=SWITCHED_FIELDS)
            record()
            delete_files_after_commit(storage, old)
    except BaseException:
        for name in photo.stored_names:
            if name not in old:
                storage.delete(name)
        # The instance goes back to the row as stored, which never changed.
        try:
            photo.refresh_from_db()
        except type(photo).DoesNotExist:
            pass
        raise


def _owner(photo: Photo) -> tuple[str, str, Report]:
    """(AdminAction target type, target id, the report whose page shows the photo)."""
    if isinstance(photo, UpdatePhoto):
        return "report_update", str(photo.update_id), Report.objects.select_related("project").get(
            updates=photo.update_id)
    assert isinstance(photo, ReportPhoto)
    return "report", str(photo.report_id), Report.objects.select_related("project").get(pk=photo.report_id)


def _record(photo: Photo, *, action: str, moderator: str, reason: str, metadata: dict[str, object]) -> None:
    """One AdminAction on the photo's owner and one change-log row on its report, so that open pages reload
    their photos (the row says which photo, never a file name)."""
    target_type, target_id, report = _owner(photo)
    AdminAction.objects.create(admin_name=moderator, target_type=target_type, target_id=target_id, action=action,
                               reason=reason, metadata={"photo_id": photo.pk, **metadata})
    log_report_change(report, ChangeType.UPDATED, ChangeSource.ADMIN_ACTION,
                      old={"title": report.title}, new={"title": report.title, "photo_id": photo.pk,
                                                        "action": action})



def photo_redact(*, photo: ReportPhoto | UpdatePhoto, boxes: Sequence[Sequence[object]], moderator: str,
                 reason: str) -> None:
    """Paint `boxes` ((x, y, width, height) in the stored original's pixels) black on the photo, remake its
    thumbnail and share card from the painted image, and delete the unpainted files after commit. One
    AdminAction ("redact_photo", with the boxes) and one change-log row on the report."""
    reason = required_reason(reason)
    painted, extension, checked = paint_boxes(_read(photo), boxes)
    photo.redacted_at = timezone.now()
    metadata: dict[str, object] = {"boxes": [list(box) for box in checked]}
    _switch(photo, painted, extension, record=lambda: _record(
        photo, action="redact_photo", moderator=moderator, reason=reason, metadata=metadata))


def photo_hide(*, photo: ReportPhoto | UpdatePhoto, moderator: str, reason: str) -> None:
    """Hide the photo from every public output. Its files are written anew under new names and the old ones
    deleted, so URLs already known (shared, cached, crawled) stop serving it; moderators still see it."""
    reason = required_reason(reason)
    if photo.hidden_at is not None:
        raise ReportError("photo", _("This photo is already hidden."))
    data = _read(photo)
    extension = posixpath.splitext(photo.image.name)[1].lstrip(".") or "jpg"
    photo.hidden_at = timezone.now()
    _switch(photo, data, extension, record=lambda: _record(
        photo, action="hide_photo", moderator=moderator, reason=reason, metadata={}))


def photo_show(*, photo: ReportPhoto | UpdatePhoto, moderator: str, reason: str) -> None:
    """Show a hidden photo again (under the names it got when hidden, which were never public)."""
    reason = required_reason(reason)
    if photo.hidden_at is None:
        raise ReportError("photo", _("This photo is not hidden."))
    with transaction.atomic():
        photo.hidden_at = None
        photo.save(update_fields=["hidden_at"])
        _record(photo, action="show_photo", moderator=moderator, reason=reason, metadata={})
