"""Photos: the position read from their EXIF before it is dropped, the thumbnail and share card made once on
upload, `make_photo_sizes` for photos stored before, and the report page's link-preview tags."""

from __future__ import annotations

import io
import re
import struct
from pathlib import Path

import pytest
from django.core.management import call_command
from PIL import Image, TiffImagePlugin

from reports.lifecycle import update_add
from reports.models import ReportPhoto, ReportType, UpdatePhoto
from reports.photos import (
    CARD_SIZE,
    THUMBNAIL_HEIGHT,
    PhotoError,
    clean_photo,
    derived_name,
    derived_sizes,
    photo_position,
)
from reports.services import PhotoUpload, report_submit
from tests.factories import ReportFactory

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


# --- Derived sizes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("size, thumbnail", [((3000, 1500), (200, 100)), ((1000, 2000), (50, 100)),
                                             ((2048, 1536), (133, 100)), ((40, 30), (40, 30))])
def test_the_thumbnail_is_100_px_high_with_the_photos_aspect_and_a_small_photo_is_not_enlarged(
        size: tuple[int, int], thumbnail: tuple[int, int]) -> None:
    sizes = derived_sizes(clean_photo(photo_bytes(size)).content.read())
    assert (sizes.thumbnail.width, sizes.thumbnail.height) == thumbnail
    with Image.open(io.BytesIO(sizes.thumbnail.data)) as image:
        assert image.format == "JPEG" and image.size == thumbnail
    assert THUMBNAIL_HEIGHT == 100


@pytest.mark.parametrize("size", [(3000, 1500), (1000, 2000), (40, 30), (2048, 1075)])
def test_the_share_card_is_exactly_1200_by_630_whatever_the_photo(size: tuple[int, int]) -> None:
    card = derived_sizes(photo_bytes(size)).card
    with Image.open(io.BytesIO(card.data)) as image:
        assert image.format == "JPEG" and image.size == (card.width, card.height) == CARD_SIZE == (1200, 630)


def test_the_share_card_covers_and_keeps_the_middle_of_a_tall_photo() -> None:
    """A 1000x2000 photo in three bands: scaled to 1200 wide, the card's 630 rows come from the middle band."""
    image = Image.new("RGB", (1000, 2000), (0, 0, 255))
    image.paste((255, 0, 0), (0, 667, 1000, 1333))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    with Image.open(io.BytesIO(derived_sizes(buffer.getvalue()).card.data)) as card:
        rgb = card.convert("RGB")
        for point in [(0, 0), (1199, 0), (600, 315), (0, 629), (1199, 629)]:
            red, green, blue = rgb.getpixel(point)  # type: ignore[misc]
            assert red > 200 and blue < 60, point


def test_derived_files_carry_no_exif_even_when_made_from_a_photo_that_had_it() -> None:
    sizes = derived_sizes(photo_bytes(gps=CAPE_TOWN_GPS))
    for derived in (sizes.thumbnail, sizes.card):
        with Image.open(io.BytesIO(derived.data)) as image:
            assert not image.getexif() and "exif" not in image.info and "icc_profile" not in image.info
        assert b"Phone Model X" not in derived.data and photo_position(derived.data) is None


def test_transparent_parts_of_a_png_become_white_in_the_jpeg_sizes() -> None:
    sizes = derived_sizes(photo_bytes((300, 200), kind="PNG", mode="RGBA", color=(0, 0, 0, 0)))
    with Image.open(io.BytesIO(sizes.thumbnail.data)) as image:
        assert image.convert("RGB").getpixel((10, 10)) == pytest.approx((255, 255, 255), abs=3)


def test_bytes_that_are_no_image_give_a_photo_error_not_a_crash() -> None:
    with pytest.raises(PhotoError):
        derived_sizes(b"GIF89a not really")


def test_derived_files_are_named_after_their_original_in_a_folder_beside_it() -> None:
    assert derived_name("reports/2026/05/photo_Ab12.png", "thumbs") == "reports/2026/05/thumbs/photo_Ab12.jpg"
    assert derived_name("photo.jpg", "cards") == "cards/photo.jpg"


@pytest.mark.django_db
def test_a_submitted_photo_is_stored_with_its_thumbnail_and_card_beside_it() -> None:
    report = report_submit(title="Leak", description="Water running", report_type="issue", lng=18.42, lat=-33.92,
                           photos=[PhotoUpload(photo_bytes(gps=CAPE_TOWN_GPS), "leak.jpg", "The leak")])
    photo = report.photos.get()
    folder = Path(photo.image.name).parent
    assert Path(photo.thumbnail.name).parent == folder / "thumbs"
    assert Path(photo.card.name).parent == folder / "cards"
    assert (photo.thumbnail_width, photo.thumbnail_height) == (200, 100)
    assert (photo.card_width, photo.card_height) == (1200, 630)
    for field in (photo.image, photo.thumbnail, photo.card):
        with Image.open(field.path) as image:
            assert not image.getexif()


@pytest.mark.django_db
def test_an_update_photo_is_stored_with_its_thumbnail_and_card() -> None:
    report = ReportFactory(report_type=ReportType.ISSUE)
    update = update_add(report=report, text="Still leaking", photos=[PhotoUpload(photo_bytes((1200, 1600)))])
    photo = update.photos.get()
    assert (photo.thumbnail_width, photo.thumbnail_height) == (75, 100)
    assert "/thumbs/" in photo.thumbnail.name and "/cards/" in photo.card.name
    assert Path(photo.card.path).is_file()


# --- Photos stored before the sizes existed ---------------------------------------------------------------


def old_photo(model: type[ReportPhoto] | type[UpdatePhoto], **owner: object) -> ReportPhoto | UpdatePhoto:
    """A row as photos were stored before this change: the cleaned original only."""
    cleaned = clean_photo(photo_bytes((1600, 1200)))
    return model.objects.create(image=cleaned.content, alt_text="A trench", **owner)  # type: ignore[misc]


@pytest.mark.django_db
def test_old_photos_show_their_original_until_the_command_makes_their_sizes(client, capsys) -> None:
    report = ReportFactory(report_type=ReportType.ISSUE)
    photo = old_photo(ReportPhoto, report=report)
    html = client.get(f"/reports/{report.pk}/").content.decode()
    assert f'<img src="{photo.image.url}"' in html and 'width="1600" height="1200"' in html
    assert f'<meta property="og:image" content="http://testserver{photo.image.url}">' in html

    call_command("make_photo_sizes")
    photo.refresh_from_db()
    assert (photo.thumbnail_width, photo.thumbnail_height) == (133, 100) and photo.card_width == 1200
    assert Path(photo.thumbnail.path).parent == Path(photo.image.path).parent / "thumbs"
    html = client.get(f"/reports/{report.pk}/").content.decode()
    assert f'<a href="{photo.image.url}"><img src="{photo.thumbnail.url}"' in html
    assert 'width="133" height="100"' in html
    assert f'<meta property="og:image" content="http://testserver{photo.card.url}">' in html


@pytest.mark.django_db
def test_the_command_fills_report_and_update_photos_in_batches_and_a_second_run_changes_nothing(capsys) -> None:
    report = ReportFactory(report_type=ReportType.ISSUE)
    update = update_add(report=report, text="news")
    for _ in range(3):
        old_photo(ReportPhoto, report=report)
    old_photo(UpdatePhoto, update=update)
    new = report_submit(title="x", description="y", report_type="issue", lng=18.4, lat=-33.9,
                        photos=[PhotoUpload(photo_bytes((300, 200)))]).photos.get()

    call_command("make_photo_sizes", "--batch-size", "2")
    out = capsys.readouterr().out
    assert "photos: 3 made, 0 failed, 1 already had their sizes." in out
    assert "update photos: 1 made, 0 failed, 0 already had their sizes." in out
    assert not ReportPhoto.objects.filter(thumbnail="").exists() and not UpdatePhoto.objects.filter(card="").exists()
    names = sorted(ReportPhoto.objects.values_list("thumbnail", "card"))

    call_command("make_photo_sizes")
    out = capsys.readouterr().out
    assert "photos: 0 made, 0 failed, 4 already had their sizes." in out
    assert "update photos: 0 made, 0 failed, 1 already had their sizes." in out
    assert sorted(ReportPhoto.objects.values_list("thumbnail", "card")) == names
    new.refresh_from_db()
    assert new.thumbnail_width == 150


@pytest.mark.django_db
def test_a_photo_whose_file_is_missing_or_unreadable_is_counted_and_the_others_are_filled(capsys) -> None:
    report = ReportFactory(report_type=ReportType.ISSUE)
    gone = old_photo(ReportPhoto, report=report)
    Path(gone.image.path).unlink()
    broken = old_photo(ReportPhoto, report=report)
    Path(broken.image.path).write_bytes(b"not an image any more")
    fine = old_photo(ReportPhoto, report=report)

    call_command("make_photo_sizes")
    captured = capsys.readouterr()
    assert "photos: 1 made, 2 failed, 0 already had their sizes." in captured.out
    assert f"photo {gone.pk}" in captured.err and f"photo {broken.pk}" in captured.err
    fine.refresh_from_db()
    assert fine.thumbnail and fine.card
    assert ReportPhoto.objects.filter(thumbnail="").count() == 2


# --- Link previews ----------------------------------------------------------------------------------------


def meta(html: str) -> dict[str, str]:
    return dict(re.findall(r'<meta (?:property|name)="((?:og|twitter):[a-z:_]+)" content="([^"]*)">', html))


@pytest.mark.django_db
def test_the_report_page_has_open_graph_tags_with_the_first_photos_card(client) -> None:
    report = report_submit(
        title="Burst pipe on Main Road", description="Water has run down the street since Monday. " * 20,
        report_type="issue", lng=18.42, lat=-33.92,
        photos=[PhotoUpload(photo_bytes(), "a.jpg", "The burst pipe"), PhotoUpload(photo_bytes((500, 500)), "b.jpg")])
    first = report.photos.order_by("pk").first()
    assert first is not None
    tags = meta(client.get(f"/reports/{report.pk}/").content.decode())
    assert tags["og:type"] == "article" and tags["og:title"] == "Burst pipe on Main Road"
    assert tags["og:description"].startswith("Water has run down the street since Monday.")
    assert len(tags["og:description"]) <= 200 and tags["og:description"].endswith("…")
    assert tags["og:url"] == f"http://testserver/reports/{report.pk}/"
    assert tags["og:image"] == f"http://testserver{first.card.url}"
    assert (tags["og:image:width"], tags["og:image:height"]) == ("1200", "630")
    assert tags["og:image:alt"] == "The burst pipe"
    assert tags["twitter:card"] == "summary_large_image"


@pytest.mark.django_db
def test_a_report_without_photos_has_no_og_image(client) -> None:
    report = report_submit(title="Leak", description='Quotes " and <tags> stay text', report_type="issue",
                           lng=18.42, lat=-33.92)
    html = client.get(f"/reports/{report.pk}/").content.decode()
    tags = meta(html)
    assert "og:image" not in html and tags["twitter:card"] == "summary"
    assert tags["og:title"] == "Leak" and tags["og:description"] == "Quotes &quot; and &lt;tags&gt; stay text"
