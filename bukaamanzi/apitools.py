"""Small helpers shared by the API routers: one error shape, pagination, fast JSON with caching headers, client address.

Every API error body is `{"detail": [{"field": <name or null>, "message": <why>}]}`; bad input is 422, a missing
thing 404, a second vote 409, too many requests 429. Large lists are built from `.values()` dicts and written
with one orjson call, so no pydantic model is validated per row; the response schemas in each app's
`schemas.py` document the shape for OpenAPI only.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from ninja import Query, Schema

from bukaamanzi.listmemo import MEMO

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
# The largest integer a JSON client can hold exactly (JavaScript's Number.MAX_SAFE_INTEGER); a page number above
# it cannot be echoed back faithfully (orjson refuses integers past 64 bits), so it is refused, not served.
MAX_PAGE = 2**53 - 1

# The query parameters of every paginated list.
PAGE = Query(1, description="1 to 2⁵³ − 1; a page past the end is empty.")
LIMIT = Query(DEFAULT_LIMIT, description=f"1 to {MAX_LIMIT}.")


class FieldError(Schema):
    field: str | None
    message: str


class ErrorOut(Schema):
    """Every error: which field (null when the error is not about one) and why."""

    detail: list[FieldError]


class ApiError(Exception):
    """An error the client can fix (or a thing that is not there); rendered as the one error shape."""

    def __init__(self, field: str | None, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.errors: list[tuple[str | None, str]] = [(field, message)]
        self.status = status

    @classmethod
    def of(cls, errors: Sequence[tuple[str | None, str]], status: int = 422) -> ApiError:
        """Several errors at once, each naming its field."""
        error = cls(None, "", status)
        error.errors = list(errors)
        return error

    @classmethod
    def from_fields(cls, errors: Mapping[str, Sequence[str]], status: int = 422) -> ApiError:
        return cls.of([(field, message) for field, messages in errors.items() for message in messages], status)

    def body(self) -> dict[str, Any]:
        return error_body(self.errors)


def error_body(errors: Sequence[tuple[str | None, str]]) -> dict[str, Any]:
    return {"detail": [{"field": field, "message": str(message)} for field, message in errors]}


def not_found(field: str, message: str) -> ApiError:
    return ApiError(field, message, status=404)


def whole_number(value: object) -> int | None:
    """A database id as clients send it (text or a JSON number), or None: ASCII digits only ("¹" is a digit to
    str.isdigit and int() refuses it), at most 18 of them (a bigint), never a JSON true/false."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    text = str(value)
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        return None
    return int(text)


def parse_uuid(value: str, field: str = "id") -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise ApiError(field, _("%(field)s must be a UUID.") % {"field": field}) from exc


# --- Pagination -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    page: int
    limit: int
    count: int

    @property
    def pages(self) -> int:
        return math.ceil(self.count / self.limit) if self.count else 0

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit

    @property
    def past_the_end(self) -> bool:
        return self.page > max(self.pages, 1)

    def envelope(self, items: list[Any]) -> dict[str, Any]:
        return {"items": items, "count": self.count, "page": self.page, "limit": self.limit, "pages": self.pages}


def check_page(page: int, limit: int) -> None:
    errors: list[tuple[str | None, str]] = []
    if not 1 <= page <= MAX_PAGE:
        errors.append(("page", _("page must be between 1 and %(max)d.") % {"max": MAX_PAGE}))
    if not 1 <= limit <= MAX_LIMIT:
        errors.append(("limit", _("limit must be between 1 and %(max)d.") % {"max": MAX_LIMIT}))
    if errors:
        raise ApiError.of(errors)


_Q = TypeVar("_Q", bound=QuerySet)


def paginate(
    queryset: _Q, page: int, limit: int, fields: Sequence[str], *, order_by: Sequence[str],
    annotate: Callable[[_Q], _Q] = lambda queryset: queryset,
    rows_for: Callable[[list[Any]], list[dict[str, Any]]] | None = None, memo_key: Hashable | None = None,
) -> tuple[Page, list[dict[str, Any]]]:
    """One COUNT and, unless the page is past the end (an empty page, not an error), the page's rows as `fields`.

    The rows are read in two steps: the page's primary keys (filters, order, OFFSET), then `fields` of those rows
    only (`annotate` adds what the fields need, such as computed columns). Why: with `values(*fields)[offset:]`
    the database joins and computes every row it skips; page 250 of a 50,000-project list took 18 ms of
    SpatiaLite time that way and 1.3 ms for the keys, read from the ordering's index alone. Two top-level queries
    rather than a subquery, because raw SQL in a filter (the SpatiaLite R*Tree prefilter) names its table, which a
    subquery renames. `rows_for(keys)`, when given, reads the second step instead (a prepared query,
    bukaamanzi/prepared.py, which returns the same rows without compiling the SQL on every request).
    With a `memo_key` (`listmemo.list_key`), the count and the page's start come from bukaamanzi/listmemo.py.
    """
    check_page(page, limit)
    count, start, offset = MEMO.locate(memo_key, queryset, order_by, (page - 1) * limit)
    current = Page(page=page, limit=limit, count=count)
    if current.past_the_end:
        return current, []
    keys = list(start.order_by(*order_by).values_list("pk", flat=True)[offset : offset + limit])
    if rows_for is not None:
        return current, rows_for(keys)
    chosen = annotate(queryset.model._default_manager.filter(pk__in=keys))
    return current, list(chosen.order_by(*order_by).values(*fields))


# --- Responses ------------------------------------------------------------------------------------------


_django_default = DjangoJSONEncoder().default
# Dates and times go to Django's encoder (milliseconds, "Z"), as before orjson; UUIDs come out the same either way.
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


def dumps(data: Any) -> bytes:
    """Compact UTF-8 JSON, byte for byte what `json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False,
    separators=(",", ":"))` writes for the API's data (tests/api/test_same_bodies.py), in a third of the time:
    a list of 100 projects took 1.3 ms with the standard library."""
    return orjson.dumps(data, default=_django_default, option=_ORJSON_OPTIONS)


def json_response(
    request: HttpRequest, data: Any, *, status: int = 200, max_age: int | None = None,
    content_type: str = "application/json",
) -> HttpResponse:
    """A JSON response with the API's caching headers.

    Its ETag and the 304 for a matching If-None-Match come from Django's ConditionalGetMiddleware (settings), which
    hashes the body: exact whatever changed the data (ingestion, moderators, residents). A 304 saves the transfer and
    the client's parsing, not the server's query.
    """
    body = data if isinstance(data, bytes) else dumps(data)  # bytes: a body already serialised (and cached)
    cache_seconds = settings.API_CACHE_SECONDS if max_age is None else max_age
    response = HttpResponse(body, status=status, content_type=content_type)
    if request.method not in ("GET", "HEAD"):
        patch_cache_control(response, no_store=True)
    elif status == 200:
        if cache_seconds:
            patch_cache_control(response, public=True, max_age=cache_seconds)
        else:
            patch_cache_control(response, no_cache=True)
    return response


def error_response(request: HttpRequest, errors: Sequence[tuple[str | None, str]], status: int) -> HttpResponse:
    response = HttpResponse(dumps(error_body(errors)), status=status, content_type="application/json")
    patch_cache_control(response, no_store=True)
    return response


# --- Clients --------------------------------------------------------------------------------------------


def json_object(request: HttpRequest) -> dict[str, Any]:
    """The request's JSON body, which must be an object; anything else is a 422 saying why."""
    try:
        data = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(None, _("The body is not valid JSON.")) from exc
    if not isinstance(data, dict):
        raise ApiError(None, _("The body must be a JSON object."))
    return data


def client_address(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or, behind API_TRUSTED_PROXIES proxies, the address the outermost
    trusted proxy saw (the Nth entry from the right of X-Forwarded-For). Entries further left are client-written
    and never trusted, so a client cannot pick its own rate-limit bucket."""
    proxies = settings.API_TRUSTED_PROXIES
    remote = request.META.get("REMOTE_ADDR", "") or "unknown"
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < proxies:
        return forwarded[0] if forwarded else remote
    return forwarded[-proxies]
