"""Checking and cleaning photos before they are stored, and the smaller sizes made from them.

The bytes decide what a file is (never its name or declared type). A photo is decoded, turned upright from
its EXIF orientation, shrunk to at most 2,048 px on its longer side and re-encoded without any metadata, so
the GPS position and phone model that phones embed never reach the disk. The position alone is read first
(`photo_position`), so the report form can offer it as the report's place; the raw EXIF is never kept.

Every function here is pure (bytes in, bytes or numbers out): saving files is the services' job.
"""

from __future__ import annotations

import io
import math
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Real
from typing import Any

from django.core.files.base import ContentFile
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_PHOTOS = 5
MAX_SIDE = 2048
ALLOWED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
# A decompression bomb is refused before it is decoded (Pillow's own guard warns at 89 Mpx).
MAX_PIXELS = 40_000_000
# Lists show photos 100 px high; the share card is the 1.91:1 size that Facebook, WhatsApp, LinkedIn and X
# show in full for a link.
THUMBNAIL_HEIGHT = 100
CARD_SIZE = (1200, 630)
THUMBNAIL_FOLDER = "thumbs"
CARD_FOLDER = "cards"
# Both are JPEG. WebP came out about 40% smaller on a 2,048 px test photo (thumbnail 2.0 against 3.3 KB, card
# 54 against 96 KB), but link-preview crawlers are only sure to show JPEG and PNG, and the browsers of KaiOS 2.5
# feature phones (Gecko 48; WebP came with Firefox 65) cannot show WebP at all; on a list of 25 thumbnails the
# saving is about 30 KB, which would not pay for a second file per photo and <picture> markup.
# At 100 px JPEG's artefacts are hard to see, so the thumbnail takes less quality than the card, seen larger.
THUMBNAIL_QUALITY = 80
CARD_QUALITY = 82

_UNREADABLE = (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError)


class PhotoError(ValueError):
    """A photo that cannot be accepted; the message says why, in words a resident understands."""


@dataclass(frozen=True)
class CleanPhoto:
    content: ContentFile
    width: int
    height: int
    # (lng, lat) in degrees where the phone says the photo was taken, read before the metadata was dropped.
    position: tuple[float, float] | None = None


@dataclass(frozen=True)
class DerivedImage:
    """One derived size, encoded: the bytes to store and their pixel size."""

    data: bytes
    width: int
    height: int


@dataclass(frozen=True)
class DerivedSizes:
    thumbnail: DerivedImage
    card: DerivedImage


def _decode(data: bytes, name: str, *, max_bytes: int | None = MAX_PHOTO_BYTES) -> tuple[str, Image.Image]:
    """The image's format and its pixels turned upright; PhotoError for anything that is not an accepted image."""
    if max_bytes is not None and len(data) > max_bytes:
        raise PhotoError(f"{name} is larger than 5 MB")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format
            if kind not in ALLOWED_FORMATS:
                raise PhotoError(f"{name} is not a JPEG, PNG or WebP image")
            if probe.width * probe.height > MAX_PIXELS:
                raise PhotoError(f"{name} has too many pixels")
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            return kind, ImageOps.exif_transpose(image)
    except PhotoError:
        raise
    except _UNREADABLE as exc:
        raise PhotoError(f"{name} is not a readable JPEG, PNG or WebP image") from exc


def _pixels_only(image: Image.Image) -> Image.Image:
    # A fresh image carries pixels only: no EXIF, XMP, ICC comments or PNG text chunks.
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    return clean


def clean_photo(data: bytes, *, name: str = "photo") -> CleanPhoto:
    kind, upright = _decode(data, name)
    upright.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    if kind == "JPEG" and upright.mode not in ("RGB", "L"):
        upright = upright.convert("RGB")
    elif upright.mode not in ("RGB", "RGBA", "L", "LA"):
        upright = upright.convert("RGBA")
    clean = _pixels_only(upright)
    buffer = io.BytesIO()
    options_by_format: dict[str, dict[str, Any]] = {
        "JPEG": {"quality": 85, "optimize": True}, "WEBP": {"quality": 85}, "PNG": {"optimize": True},
    }
    save_options = options_by_format[kind]
    clean.save(buffer, format=kind, **save_options)
    return CleanPhoto(
        content=ContentFile(buffer.getvalue(), name=f"photo.{ALLOWED_FORMATS[kind]}"),
        width=clean.width,
        height=clean.height,
        position=photo_position(data),
    )


# --- Where the photo was taken ---------------------------------------------------------------------------

_GPS = ExifTags.IFD.GPSInfo
_LAT_REF, _LAT, _LNG_REF, _LNG = (ExifTags.GPS.GPSLatitudeRef, ExifTags.GPS.GPSLatitude,
                                  ExifTags.GPS.GPSLongitudeRef, ExifTags.GPS.GPSLongitude)


def _ref(value: object) -> str:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return value.strip("\x00 ").upper() if isinstance(value, str) else ""


def _degrees(value: object, limit: float) -> float | None:
    """Degrees from EXIF's (degrees, minutes, seconds) rationals; None unless every part is a sane number.
    Some writers give only degrees, or degrees and decimal minutes, so one to three parts are accepted."""
    parts = value if isinstance(value, Sequence) and not isinstance(value, str | bytes) else (value,)
    # Rationals as EXIF writes them (Pillow's IFDRational is a Real); text such as "33.92" is a
    # writer's mistake, not a position.
    if not 1 <= len(parts) <= 3:
        return None
    values: list[float] = []
    for part in parts:
        if not isinstance(part, Real) or isinstance(part, bool):
            return None
        try:
            values.append(float(part))
        except (ValueError, ZeroDivisionError, OverflowError):
            return None
    # A zero denominator reads as NaN; minutes and seconds past 60 mean the writer got the fields wrong.
    if not all(math.isfinite(n) and n >= 0 for n in values) or any(n >= 60 for n in values[1:]):
        return None
    degrees = sum(n / 60**i for i, n in enumerate(values))
    return degrees if degrees <= limit else None


def photo_position(data: bytes) -> tuple[float, float] | None:
    """(lng, lat) in decimal degrees from the photo's EXIF GPS tags, or None when it has no usable position.

    Only the metadata is read (the pixels are not decoded). Anything wrong with the EXIF (missing tags or
    hemisphere letters, a zero denominator, a GPS block pointing past the end of the file) gives None: a
    photo without a position is normal, and a resident must never see an error for it.
    """
    try:
        with Image.open(io.BytesIO(data)) as image:
            # A PNG may keep its EXIF after the pixels; reading it then decodes them: not for an image refused anyway.
            if image.width * image.height > MAX_PIXELS:
                return None
            gps = image.getexif().get_ifd(_GPS)
    except Exception:  # any parser error in untrusted metadata means "no position", by design
        return None
    if not isinstance(gps, dict):
        return None
    # Tag 9, GPSStatus, is "V" when the receiver had no fix: the numbers are then left-overs.
    if _ref(gps.get(ExifTags.GPS.GPSStatus)) == "V":
        return None
    lat, lng = _degrees(gps.get(_LAT), 90), _degrees(gps.get(_LNG), 180)
    lat_sign = {"N": 1, "S": -1}.get(_ref(gps.get(_LAT_REF)))
    lng_sign = {"E": 1, "W": -1}.get(_ref(gps.get(_LNG_REF)))
    if lat is None or lng is None or lat_sign is None or lng_sign is None:
        return None
    # Phones that write a position before they have one write 0, 0 (in the Gulf of Guinea): not a place.
    if lat == 0 and lng == 0:
        return None
    # Six decimals are 0.1 m, finer than any phone's fix, and keep float noise (33.919999...) out of forms.
    return round(lng_sign * lng, 6), round(lat_sign * lat, 6)


# --- Derived sizes --------------------------------------------------------------------------------------


def _rgb(image: Image.Image) -> Image.Image:
    """JPEG has no transparency: transparent parts of a PNG or WebP become white (not black, as plain
    convert would make them)."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB") if image.mode != "RGB" else image


def _jpeg(image: Image.Image, quality: int, *, progressive: bool = False) -> DerivedImage:
    buffer = io.BytesIO()
    _pixels_only(image).save(buffer, format="JPEG", quality=quality, optimize=True, progressive=progressive)
    return DerivedImage(data=buffer.getvalue(), width=image.width, height=image.height)


def make_thumbnail(image: Image.Image) -> DerivedImage:
    """THUMBNAIL_HEIGHT px high, its width by the photo's aspect ratio; a smaller photo is not enlarged."""
    height = min(THUMBNAIL_HEIGHT, image.height)
    width = max(1, round(image.width * height / image.height))
    return _jpeg(_rgb(image).resize((width, height), Image.Resampling.LANCZOS), THUMBNAIL_QUALITY)


def make_card(image: Image.Image) -> DerivedImage:
    """Exactly CARD_SIZE: scaled to cover it and cut to the centre, as link previews crop anything else
    unpredictably."""
    card = ImageOps.fit(_rgb(image), CARD_SIZE, Image.Resampling.LANCZOS, centering=(0.5, 0.5))
    # Progressive: the card appears whole at low detail while it loads, and came out 3% smaller on a test photo
    # (the thumbnail came out 6% larger so, and is baseline).
    return _jpeg(card, CARD_QUALITY, progressive=True)


def derived_sizes(data: bytes, *, name: str = "photo") -> DerivedSizes:
    """The thumbnail and share card of a stored photo, decoded once; PhotoError if the bytes are not an accepted
    image. Made from the stored original (not the upload), so sizes made on upload and by `make_photo_sizes`
    later are alike."""
    # No byte limit: a photo's re-encoded original may be larger than its upload (a palette PNG becomes RGBA);
    # the pixel limit still applies.
    _, upright = _decode(data, name, max_bytes=None)
    try:
        return DerivedSizes(thumbnail=make_thumbnail(upright), card=make_card(upright))
    except _UNREADABLE as exc:
        raise PhotoError(f"{name} could not be resized") from exc


def derived_name(original: str, folder: str) -> str:
    """Where a derived file goes: in `folder` beside the original, with the original's name, so that sizes
    made later (by `make_photo_sizes`) sit next to their photo rather than in the month they were made."""
    directory, filename = posixpath.split(original)
    stem = posixpath.splitext(filename)[0] or "photo"
    return posixpath.join(directory, folder, f"{stem}.jpg")  # every derived size is a JPEG
