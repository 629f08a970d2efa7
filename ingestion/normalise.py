"""Turn the loose values that sources publish into the strict values the database stores.

Why this module exists: the same fact reaches us in many spellings. Municipal Money sends project amounts as
decimal strings ("3600000.00") and cube sums as JSON numbers; the DWS dashboard shows "R61,612,345.67";
spreadsheets behind both use "R 1 234,50" or "R12.3m". Each function here accepts those spellings, returns one
canonical value, and raises `NormalisationError` for anything it cannot read with confidence, so that a changed
source is noticed at ingestion time instead of surfacing as a wrong number on a resident's screen.

Rules followed throughout:

- money and percentages are `Decimal`, built from text (`Decimal(str(x))`), never through float arithmetic;
- explicit "no value" markers (blank, "N/A", "-") become `None`; anything else unreadable is an error;
- the functions are pure: no Django, no database, no network.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Final, NamedTuple

from bukaamanzi.lib.geo import SOUTH_AFRICA
from bukaamanzi.lib.status import ProjectStatus


class NormalisationError(ValueError):
    """A value is present but cannot be read with confidence; the message quotes it."""


# Text that sources use to say "there is no value here". Compared after squashing and casefolding.
# "nil" is deliberately absent: in a money column it may mean zero, and guessing either way is wrong.
MISSING_MARKERS: Final[frozenset[str]] = frozenset(
    {"", "-", "--", "–", "—", "n/a", "na", "none", "null", "not available", "tba", "tbc", "unknown"}
)

# Non-breaking and thin spaces appear in HTML cells ("R&nbsp;1&nbsp;234") and in Excel exports.
_SPACE_LIKE = re.compile(r"[\s\u00a0\u2007\u2009\u202f]+")


def _squash(text: str) -> str:
    return _SPACE_LIKE.sub(" ", text).strip()


def _is_missing(text: str) -> bool:
    return _squash(text).casefold() in MISSING_MARKERS


# --------------------------------------------------------------------------------------------------------------
# Money
# --------------------------------------------------------------------------------------------------------------

CENT: Final = Decimal("0.01")
# Money columns are DecimalField(max_digits=15, decimal_places=2): refuse what the database could not hold,
# here, with the offending text in the message, rather than as an opaque database error later.
MAX_MONEY: Final = Decimal("9999999999999.99")

_SCALE_BY_SUFFIX: Final[dict[str, int]] = {
    "k": 10**3,
    "thousand": 10**3,
    "m": 10**6,
    "mn": 10**6,
    "mil": 10**6,
    "million": 10**6,
    "bn": 10**9,
    "billion": 10**9,
}

_MONEY_RE: Final = re.compile(
    r"^(?P<sign>[-+])?\s*(?:zar|r)?\s*(?P<sign_after_currency>[-+])?\s*"
    r"(?P<number>[0-9][0-9 ,.]*?)\s*(?P<suffix>k|thousand|mn|mil|million|m|bn|billion)?$"
)
_DIGITS: Final = re.compile(r"[0-9]+")


def _ungroup_whole_number(whole: str) -> str | None:
    """'61,612,345' / '1 234' / '1.234.567' -> digits only; None if the grouping is not in threes."""
    if _DIGITS.fullmatch(whole):
        return whole
    for separator in (" ", ",", "."):
        if re.fullmatch(rf"[1-9][0-9]{{0,2}}(?:{re.escape(separator)}[0-9]{{3}})+", whole):
            return whole.replace(separator, "")
    return None


def _parse_grouped_number(number: str) -> Decimal | None:
    """Read a number written with thousands separators and a decimal mark in either convention.

    South African sources mix "1,234.50" (English) and "1 234,50" (SANS/Afrikaans). The last of ',' and '.'
    is the decimal mark when both appear. A lone ',' followed by three digits is a thousands separator
    ("1,234"), otherwise a decimal comma ("1234,5"). A lone '.' is always a decimal point, because the JSON-ish
    sources write "1234.500" and never group with a single dot.
    """
    last_comma, last_dot = number.rfind(","), number.rfind(".")
    decimal_mark: str | None
    if last_comma >= 0 and last_dot >= 0:
        decimal_mark = "," if last_comma > last_dot else "."
    elif last_comma >= 0:
        grouped = _ungroup_whole_number(number) is not None
        decimal_mark = "," if number.count(",") == 1 and not grouped else None
    elif last_dot >= 0:
        decimal_mark = "." if number.count(".") == 1 else None
    else:
        decimal_mark = None

    whole, fraction = number, ""
    if decimal_mark is not None:
        whole, _, fraction = number.rpartition(decimal_mark)
    digits = _ungroup_whole_number(whole)
    if digits is None or (decimal_mark is not None and not _DIGITS.fullmatch(fraction)):
        return None
    return Decimal(f"{digits}.{fraction}" if fraction else digits)


def _finite_decimal(value: int | float | Decimal, original: object) -> Decimal:
    try:
        result = Decimal(str(value))
    except InvalidOperation as error:
        raise NormalisationError(f"not a number: {original!r}") from error
    if not result.is_finite():
        raise NormalisationError(f"not a finite number: {original!r}")
    return result


def parse_money(value: str | int | float | Decimal | None) -> Decimal | None:
    """Read a Rand amount; return it rounded half-up to cents, or None when the source says "no value".

    Accepts numbers (JSON ints, Decimals, and floats via their shortest text form), and text such as
    "R 1,234.50", "R1 234,50", "-R 1,234", "(1,234.00)", "R12.3m", "R 1.2bn", "R500k", "1234.5".
    Raises NormalisationError for text that is not an amount ("abc", "R", "1,23,4") and for amounts too large
    for a 15-digit money column.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        # bool is an int subclass: True would silently become R1.00.
        raise NormalisationError(f"not an amount: {value!r}")
    if isinstance(value, int | float | Decimal):
        amount = _finite_decimal(value, value)
    elif isinstance(value, str):
        if _is_missing(value):
            return None
        amount = _parse_money_text(value)
    else:
        raise NormalisationError(f"not an amount: {value!r}")

    rounded = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    if abs(rounded) > MAX_MONEY:
        raise NormalisationError(f"amount too large for a money column: {value!r}")
    return rounded


def _parse_money_text(text: str) -> Decimal:
    squashed = _squash(text).casefold()
    negative = False
    if squashed.startswith("(") and squashed.endswith(")"):
        # Accounting notation: "(1,234.00)" is a negative amount.
        negative, squashed = True, squashed[1:-1].strip()
    match = _MONEY_RE.match(squashed)
    if match is None or (match["sign"] and match["sign_after_currency"]):
        raise NormalisationError(f"not an amount: {text!r}")
    amount = _parse_grouped_number(match["number"].strip())
    if amount is None:
        raise NormalisationError(f"not an amount (unreadable digit grouping): {text!r}")
    if match["suffix"]:
        amount *= _SCALE_BY_SUFFIX[match["suffix"]]
    if negative or "-" in (match["sign"], match["sign_after_currency"]):
        amount = -amount
    return amount


# --------------------------------------------------------------------------------------------------------------
# Dates and financial years
# --------------------------------------------------------------------------------------------------------------

# South African sources write day-first; month-first ("03/31/2024") is never accepted, so an impossible date
# is an error rather than a silent day/month swap.
_YEAR_FIRST: Final = re.compile(r"(?P<year>\d{4})(?P<sep>[/.-])(?P<month>\d{1,2})(?P=sep)(?P<day>\d{1,2})")
_DAY_FIRST: Final = re.compile(r"(?P<day>\d{1,2})(?P<sep>[/.-])(?P<month>\d{1,2})(?P=sep)(?P<year>\d{4})")
# A time of day after the date carries no information for project dates ("2026/03/31 00:00:00").
_TRAILING_TIME: Final = re.compile(r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[ap]m)?)?", re.IGNORECASE)
_WORDY_DATE_FORMATS: Final = ("%d %B %Y", "%d %b %Y")


def parse_date(value: str | date | None) -> date | None:
    """Read a calendar date: "2024/03/31", "2024-03-31", "31/03/2024", "31-03-2024", "31 March 2024", or an
    ISO datetime ("2024-03-31T10:00:00+02:00", whose date part is kept as written).

    Blank and "N/A" give None; anything else unreadable, or an impossible date, raises NormalisationError.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise NormalisationError(f"not a date: {value!r}")
    if _is_missing(value):
        return None
    text = _squash(value)

    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        pass
    for pattern in (_YEAR_FIRST, _DAY_FIRST):
        match = pattern.match(text)
        if match and _TRAILING_TIME.fullmatch(text[match.end() :]):
            try:
                return date(int(match["year"]), int(match["month"]), int(match["day"]))
            except ValueError as error:
                raise NormalisationError(f"impossible date: {value!r}") from error
    for date_format in _WORDY_DATE_FORMATS:
        try:
            return datetime.strptime(text, date_format).date()
        except ValueError:
            continue
    raise NormalisationError(f"not a date: {value!r}")


_EARLIEST_YEAR: Final = 1990
_LATEST_YEAR: Final = 2100
_FINANCIAL_YEAR_RE: Final = re.compile(r"^(?:fy\s*)?(?P<start>\d{4})\s*[/-]\s*(?P<end>\d{4}|\d{2})$", re.IGNORECASE)
_YEAR_END_RE: Final = re.compile(r"^(?:fy\s*)?(?P<end>\d{4})$", re.IGNORECASE)


def _financial_year_from_end(end_year: int, original: object) -> str:
    if not _EARLIEST_YEAR < end_year <= _LATEST_YEAR:
        raise NormalisationError(f"financial year out of range: {original!r}")
    return f"{end_year - 1}/{end_year}"


def parse_financial_year(value: str | int) -> str:
    """Return a municipal financial year (July to June) as "2019/2020".

    Accepts "2019/20", "2019/2020", "2019-20", "FY2019/20", "FY 2019/2020", and a year-end integer or string
    (2020 -> "2019/2020", the convention of the Treasury cubes' `financial_year_end.year`). Raises
    NormalisationError for blanks, ranges that are not one year long ("2019/21") and anything else.
    """
    if isinstance(value, bool):
        raise NormalisationError(f"not a financial year: {value!r}")
    if isinstance(value, int):
        return _financial_year_from_end(value, value)
    if not isinstance(value, str):
        raise NormalisationError(f"not a financial year: {value!r}")
    text = _squash(value)
    if match := _YEAR_END_RE.match(text):
        return _financial_year_from_end(int(match["end"]), value)
    match = _FINANCIAL_YEAR_RE.match(text)
    if match is None:
        raise NormalisationError(f"not a financial year: {value!r}")
    start, end = int(match["start"]), match["end"]
    # "1999/00" is one year long; compare the last two digits so the century roll-over works.
    one_year_long = int(end) == start + 1 if len(end) == 4 else int(end) == (start + 1) % 100
    if not one_year_long:
        raise NormalisationError(f"financial year is not one year long: {value!r}")
    return _financial_year_from_end(start + 1, value)


def financial_year_end(value: str | int) -> int:
    """The calendar year in which a financial year ends: "2019/2020" -> 2020 (the cubes' year key)."""
    return int(parse_financial_year(value).split("/")[1])


# --------------------------------------------------------------------------------------------------------------
# Percentages
# --------------------------------------------------------------------------------------------------------------

_PERCENT_RE: Final = re.compile(r"^(?P<number>[-+]?[0-9]+(?:[.,][0-9]+)?)\s*%?$")


def parse_percentage(value: str | int | float | Decimal | None) -> Decimal | None:
    """Read a percentage in points ("45%", "45.5 %", "45,5", 45) as a Decimal with two places.

    Values are always percentage points, never fractions: 0.45 means 0.45 %, because guessing which sources
    send fractions would make 1 % and 100 % indistinguishable. Outside 0..100 raises NormalisationError.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise NormalisationError(f"not a percentage: {value!r}")
    if isinstance(value, int | float | Decimal):
        percentage = _finite_decimal(value, value)
    elif isinstance(value, str):
        if _is_missing(value):
            return None
        match = _PERCENT_RE.match(_squash(value))
        if match is None:
            raise NormalisationError(f"not a percentage: {value!r}")
        percentage = Decimal(match["number"].replace(",", "."))
    else:
        raise NormalisationError(f"not a percentage: {value!r}")
    if not Decimal(0) <= percentage <= Decimal(100):
        raise NormalisationError(f"percentage outside 0..100: {value!r}")
    return percentage.quantize(CENT, rounding=ROUND_HALF_UP)


# --------------------------------------------------------------------------------------------------------------
# Project status
# --------------------------------------------------------------------------------------------------------------

# The vocabulary (ProjectStatus, STATUS_VOCABULARY) is bukaamanzi.lib.status's; the source words are here.
_SOURCE_WORDS_BY_STATUS: Final[dict[ProjectStatus, tuple[str, ...]]] = {
    "identification": ("identification", "identified", "concept", "conceptual", "needs assessment", "inception"),
    "preparation": (
        "preparation",
        "planning",
        "planned",
        "feasibility",
        "feasibility study",
        "design",
        "detailed design",
        "tender",
        "tendering",
        "out on tender",
        "procurement",
    ),
    "implementation": (
        "implementation",
        "construction",
        "under construction",
        "in construction",
        "construction in progress",
        "in progress",
    ),
    "completed": (
        "complete",
        "completed",
        "completion",
        "practical completion",
        "final completion",
        "retention",
        "retention period",
        "close-out",
        "closeout",
    ),
    "on_hold": ("on hold", "on-hold", "hold", "suspended", "stalled", "paused"),
    "cancelled": ("cancelled", "canceled", "terminated", "abandoned", "discontinued"),
    "unknown": ("unknown",),
}


def _status_key(raw: str) -> str:
    """'Close-Out', 'close out', 'ON_HOLD ' -> one spelling, so the table lists each word once."""
    text = unicodedata.normalize("NFKC", raw).casefold()
    text = re.sub(r"[-_/]", " ", text)
    text = re.sub(r"[^\w\s]", "", text)
    return " ".join(text.split())


STATUS_BY_SOURCE_WORD: Final[dict[str, ProjectStatus]] = {
    _status_key(word): status for status, words in _SOURCE_WORDS_BY_STATUS.items() for word in words
}


def normalise_status(raw: str | None) -> ProjectStatus:
    """Map a source's status word onto the project status vocabulary; unlisted words give "unknown".

    Matching is on the whole phrase (case, spacing and hyphens ignored), never on fragments: "not completed"
    must not become "completed".
    """
    if raw is None:
        return "unknown"
    return STATUS_BY_SOURCE_WORD.get(_status_key(raw), "unknown")


# --------------------------------------------------------------------------------------------------------------
# Municipality names
# --------------------------------------------------------------------------------------------------------------

# "Municipaly" is the DWS dashboard's own spelling ("Project Dashboards - Local Municipaly").
_MUNICIPALITY_SUFFIX: Final = re.compile(r"\s+(?:(?:local|district|metropolitan|metro)\s+)?municipal(?:ity|y)$")

_CHARACTER_VARIANTS: Final = str.maketrans(
    {
        "\u01c3": "!",  # LATIN LETTER RETROFLEX CLICK, the "proper" spelling of !Kheis and !Kai! Garib
        "\u2019": "'",
        "\u2018": "'",
        "\u02bc": "'",
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
    }
)


def normalise_municipality_name(name: str) -> str:
    """A key for matching municipality names across sources, not for display.

    Treasury writes "Dr Beyers Naude", the MDB "Dr Beyers Naudé Local Municipality", the DWS dashboard may
    write "ǃKheis" with the click letter or "!Kheis" with an exclamation mark. All of these must meet, so:
    accents are stripped, the click letter becomes "!", case is folded, the words "Municipality" and its kinds
    are dropped, spaces around hyphens, apostrophes and "!" are removed, dots are dropped and other whitespace
    collapsed. Codes remain the primary match; this key is the fallback when a source gives only a name.
    """
    text = unicodedata.normalize("NFKC", name).translate(_CHARACTER_VARIANTS)
    text = "".join(char for char in unicodedata.normalize("NFKD", text) if not unicodedata.combining(char))
    # Dots go without a trace so that "Dr J.S. Moroka" meets "Dr JS Moroka".
    text = " ".join(text.casefold().replace(".", "").split())
    text = _MUNICIPALITY_SUFFIX.sub("", text)
    return re.sub(r"\s*([-'!])\s*", r"\1", text)


# --------------------------------------------------------------------------------------------------------------
# Coordinates
# --------------------------------------------------------------------------------------------------------------

# The box is bukaamanzi.lib.geo.SOUTH_AFRICA (its edges and why are written there).


class Coordinates(NamedTuple):
    latitude: float
    longitude: float


def is_in_south_africa(latitude: float | Decimal, longitude: float | Decimal) -> bool:
    """True when the point lies in the bounding box around South Africa (bukaamanzi.lib.geo.SOUTH_AFRICA)."""
    lat, lng = Decimal(str(latitude)), Decimal(str(longitude))
    if not (lat.is_finite() and lng.is_finite()):
        return False
    return SOUTH_AFRICA.contains(lng=lng, lat=lat)


def _coordinate(value: object) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str) and _is_missing(value):
        return None
    if not isinstance(value, str | int | float | Decimal):
        return None
    try:
        result = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return result if result.is_finite() else None


def clean_coordinates(latitude: object, longitude: object) -> Coordinates | None:
    """Return the point if it is plausibly in South Africa, else None.

    Municipal Money fills unknown coordinates with 0.0/0.0 and has swapped or unsigned pairs; a wrong pin on
    the map misleads more than no pin, so anything missing, unreadable or outside the box is dropped (the
    project itself is kept). Nothing is "repaired": a swapped pair is not swapped back.
    """
    lat, lng = _coordinate(latitude), _coordinate(longitude)
    if lat is None or lng is None or (lat == 0 and lng == 0):
        return None
    if not is_in_south_africa(lat, lng):
        return None
    return Coordinates(latitude=float(lat), longitude=float(lng))
