"""Photos: the position read from their EXIF before it is dropped."""

from __future__ import annotations

import io
import struct

import pytest
from PIL import Image, TiffImagePlugin

from reports.photos import clean_photo, photo_position

CAPE_TOWN_GPS = {1: "S", 2: (33.0, 55.0, 12.0), 3: "E", 4: (18.0, 25.0, 30.0)}  # 33°55'12" S, 18°25'30" E


def photo_bytes(size: tuple[int, int] = (3000, 1500), *, gps: dict | None = None, exif: bytes | None = None,
                kind: str = "JPEG", mode: str = "RGB", color: object = (20, 90, 160)) -> bytes:
    """An image as a phone might send it: `gps` becomes the EXIF GPS block (with a camera model beside it)."""
    image = Image.new(mode, size, color)  # type: ignore[arg-type]
    options: dict[str, object] = {}
    if gps is not None:
        tags = Image.Exif()
        tags[0x0110] = "Phone Model X"
        tags[0x8825] = gps
        options["exif"] = tags
    elif exif is not None:
        options["exif"] = exif
    buffer = io.BytesIO()
    image.save(buffer, format=kind, **options)
    return buffer.getvalue()


ASCII, RATIONAL = 2, 5
TYPE_SIZES = {ASCII: 1, RATIONAL: 8}


def raw_exif(gps_entries: list[tuple[int, int, int, bytes | int]], *, gps_offset: int | None = None) -> bytes:
    """EXIF written byte by byte, for what Pillow would refuse to write: a little-endian TIFF with an IFD0 that
    holds only the GPS pointer, then the GPS IFD (tag, type, count, value bytes or an offset), then the longer
    values."""
    gps_at = 8 + 2 + 12 + 4
    data_at = gps_at + 2 + 12 * len(gps_entries) + 4
    entries, data = b"", b""
    for tag, kind, count, value in gps_entries:
        # The declared size decides where the value goes, so a value shorter than declared runs past the end.
        if isinstance(value, int):  # an offset chosen by the test, wherever it points
            entries += struct.pack("<HHII", tag, kind, count, value)
        elif count * TYPE_SIZES[kind] <= 4:
            entries += struct.pack("<HHI", tag, kind, count) + value.ljust(4, b"\x00")
        else:
            entries += struct.pack("<HHII", tag, kind, count, data_at + len(data))
            data += value
    ifd0 = struct.pack("<H", 1) + struct.pack("<HHII", 0x8825, 4, 1, gps_at if gps_offset is None else gps_offset)
    tiff = b"II*\x00" + struct.pack("<I", 8) + ifd0 + struct.pack("<I", 0)
    tiff += struct.pack("<H", len(gps_entries)) + entries + struct.pack("<I", 0) + data
    return b"Exif\x00\x00" + tiff




def rationals(*pairs: tuple[int, int]) -> bytes:
    return b"".join(struct.pack("<II", n, d) for n, d in pairs)


# --- Where the photo was taken --------------------------------------------------------------------------


def test_a_photo_taken_in_cape_town_gives_a_southern_and_eastern_position() -> None:
    lng, lat = photo_position(photo_bytes(gps=CAPE_TOWN_GPS))  # type: ignore[misc]
    assert lat == pytest.approx(-(33 + 55 / 60 + 12 / 3600), abs=1e-6)
    assert lng == pytest.approx(18 + 25 / 60 + 30 / 3600, abs=1e-6)


def test_northern_and_western_references_give_positive_latitude_and_negative_longitude() -> None:
    position = photo_position(photo_bytes(gps={1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 30.0)}))
    assert position == pytest.approx((-0.125, 51.5))


def test_the_position_is_read_from_png_and_webp_photos_too() -> None:
    for kind in ("PNG", "WEBP"):
        assert photo_position(photo_bytes((50, 40), gps=CAPE_TOWN_GPS, kind=kind)) == pytest.approx(
            (18.425, -33.92)), kind


def test_a_photo_without_exif_or_without_gps_tags_has_no_position() -> None:
    assert photo_position(photo_bytes()) is None
    no_gps = Image.Exif()
    no_gps[0x010F] = "PhoneMaker"
    assert photo_position(photo_bytes(exif=no_gps.tobytes())) is None
    assert photo_position(photo_bytes((50, 40), kind="PNG")) is None


@pytest.mark.parametrize("gps", [
    {2: (33.0, 55.0, 12.0), 4: (18.0, 25.0, 30.0)},  # no hemisphere letters: north or south is unknown
    {1: "S", 2: (33.0, 55.0, 12.0), 3: "E"},  # no longitude
    {1: "Q", 2: (33.0, 55.0, 12.0), 3: "E", 4: (18.0, 25.0, 30.0)},  # not a hemisphere
    {1: "S", 2: (95.0, 0.0, 0.0), 3: "E", 4: (18.0, 25.0, 30.0)},  # past the pole
    {1: "S", 2: (33.0, 75.0, 0.0), 3: "E", 4: (18.0, 25.0, 30.0)},  # 75 minutes
    {1: "S", 2: (33.0, 55.0, 12.0), 3: "E", 4: (181.0, 0.0, 0.0)},
    {1: "S", 2: (TiffImagePlugin.IFDRational(33, 0), 55.0, 0.0), 3: "E", 4: (18.0, 25.0, 0.0)},  # zero denominator
    {1: "N", 2: (0.0, 0.0, 0.0), 3: "E", 4: (0.0, 0.0, 0.0)},  # what phones write before they have a fix
    {1: "S", 2: (33.0, 55.0, 12.0), 3: "E", 4: (18.0, 25.0, 30.0), 9: "V"},  # GPSStatus: void measurement
])
def test_missing_or_impossible_gps_values_give_no_position(gps: dict) -> None:
    assert photo_position(photo_bytes((40, 30), gps=gps)) is None


@pytest.mark.parametrize("entries, gps_offset", [
    # the latitude written as text
    ([(1, ASCII, 2, b"S\x00"), (2, ASCII, 6, b"33.92\x00"), (3, ASCII, 2, b"E\x00"),
      (4, RATIONAL, 3, rationals((18, 1), (25, 1), (30, 1)))], None),
    # the latitude's values said to lie past the end of the EXIF
    ([(1, ASCII, 2, b"S\x00"), (2, RATIONAL, 3, 10_000), (3, ASCII, 2, b"E\x00"),
      (4, RATIONAL, 3, rationals((18, 1), (25, 1), (30, 1)))], None),
    # six parts instead of three
    ([(1, ASCII, 2, b"S\x00"), (2, RATIONAL, 6, rationals(*[(1, 1)] * 6)), (3, ASCII, 2, b"E\x00"),
      (4, RATIONAL, 3, rationals((18, 1), (25, 1), (30, 1)))], None),
    # the GPS block itself past the end of the EXIF
    ([(1, ASCII, 2, b"S\x00")], 0xFFFFFF),
])
def test_corrupt_gps_blocks_give_no_position_and_no_error(entries: list, gps_offset: int | None) -> None:
    data = photo_bytes((40, 30), exif=raw_exif(entries, gps_offset=gps_offset))
    assert photo_position(data) is None
    assert clean_photo(data).position is None  # and the photo itself is still accepted


def test_the_hand_written_exif_reads_as_a_position_when_it_is_well_formed() -> None:
    """The corrupt cases above differ from a readable block only in the part they break."""
    entries = [(1, ASCII, 2, b"S\x00"), (2, RATIONAL, 3, rationals((33, 1), (55, 1), (12, 1))),
               (3, ASCII, 2, b"E\x00"), (4, RATIONAL, 3, rationals((18, 1), (2550, 100), (0, 1)))]
    assert photo_position(photo_bytes((40, 30), exif=raw_exif(entries))) == pytest.approx((18.425, -33.92))


def test_bytes_that_are_no_image_or_exif_that_is_no_tiff_have_no_position() -> None:
    assert photo_position(b"") is None
    assert photo_position(photo_bytes((40, 30), exif=b"Exif\x00\x00not a TIFF header at all")) is None
    assert photo_position(b"\xff\xd8\xff\xe1 not really a jpeg") is None


def test_the_cleaned_photo_carries_the_position_but_the_stored_bytes_do_not() -> None:
    cleaned = clean_photo(photo_bytes(gps=CAPE_TOWN_GPS))
    assert cleaned.position == pytest.approx((18.425, -33.92))
    data = cleaned.content.read()
    assert photo_position(data) is None
    with Image.open(io.BytesIO(data)) as stored:
        assert not stored.getexif() and "exif" not in stored.info
    assert b"Phone Model X" not in data
