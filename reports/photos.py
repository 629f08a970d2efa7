"""Checking and cleaning photos before they are stored.

The bytes decide what a file is (never its name or declared type). A photo is decoded, turned upright from
its EXIF orientation, shrunk to at most 2,048 px on its longer side and re-encoded without any metadata, so
the GPS position and phone model that phones embed never reach the disk.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_PHOTOS = 5
MAX_SIDE = 2048
ALLOWED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
# A decompression bomb is refused before it is decoded (Pillow's own guard warns at 89 Mpx).
MAX_PIXELS = 40_000_000


class PhotoError(ValueError):
    """A photo that cannot be accepted; the message says why, in words a resident understands."""


@dataclass(frozen=True)
class CleanPhoto:
    content: ContentFile
    width: int
    height: int


def clean_photo(data: bytes, *, name: str = "photo") -> CleanPhoto:
    if len(data) > MAX_PHOTO_BYTES:
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
            upright = ImageOps.exif_transpose(image)
    except PhotoError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise PhotoError(f"{name} is not a readable JPEG, PNG or WebP image") from exc

    upright.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    if kind == "JPEG" and upright.mode not in ("RGB", "L"):
        upright = upright.convert("RGB")
    elif upright.mode not in ("RGB", "RGBA", "L", "LA"):
        upright = upright.convert("RGBA")
    # A fresh image carries pixels only: no EXIF, XMP, ICC comments or PNG text chunks.
    clean = Image.new(upright.mode, upright.size)
    clean.paste(upright)
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
    )
