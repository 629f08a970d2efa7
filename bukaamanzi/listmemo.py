"""A long list's COUNT and page anchors, kept per data version, so page 400 costs what page 1 does.

Why: a page of a list is a COUNT and an `ORDER BY … OFFSET n` over the filtered rows. Both are O(rows) in the
database whatever the indexes: on PostgreSQL with 50,000 projects the COUNT cost 4–5 ms of its CPU and page 250's
OFFSET (skipping 24,900 index entries) another 3–4 ms, more than the rest of the request (README, "Speed").

Both are facts about the data at one data version, so they are exact for as long as the version stands:
- the COUNT of a filtered list;
- its anchors: the ordering's values of every `ANCHOR_EVERY`-th row, read in one pass with a window function.
  Page n then starts at the anchor at or before its offset (`WHERE (name, id) >= anchor`, which the ordering's
  index seeks to) and skips fewer than `ANCHOR_EVERY` rows.

The key is the data version with the list's name and filters (`list_key`), so another filter, order or database
is another entry, and a write moves the version (projects/dataversion.py): nothing is served for data it was not
read from. Each process keeps the last `ENTRIES` lists (a list's anchors are a few kilobytes per 10,000 rows).
This is not the response cache: every response is still built from the rows, with `API_CACHE_SECONDS=0` too.
`API_LIST_MEMO=false` turns it off (to measure it, or if a database's writes could bypass the data version).
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db.models import F, Model, Q, QuerySet, Window
from django.db.models.functions import Mod, RowNumber
from django.http import QueryDict

from bukaamanzi.lib.lru import LockedLRU

ANCHOR_EVERY = 100  # the largest page: a page of 100 at an anchor skips nothing
MIN_ANCHORED_OFFSET = 1_000  # below this an OFFSET costs less than reading the anchors once
ENTRIES = 64


@dataclass
class _Entry:
    count: int | None = None
    anchors: list[tuple[Any, ...]] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


class ListMemo:
    """Per-process LRU of `_Entry` by (`list_key`, database, ordering)."""

    def __init__(self, entries: int = ENTRIES) -> None:
        self._entries: LockedLRU[Hashable, _Entry] = LockedLRU(entries)

    def clear(self) -> None:
        self._entries.clear()

    def locate(self, key: Hashable | None, queryset: QuerySet[Any, Any], order_by: Sequence[str],
               offset: int) -> tuple[int, QuerySet[Any, Any], int]:
        """(count, the queryset to read the page from, the offset in it): `queryset` at `offset`, or, deep in a
        long list, `queryset` from the anchor before `offset` and the few rows after it. `key` names the list at
        one data version (see `list_key`); None reads it the long way."""
        if key is None or not settings.API_LIST_MEMO:
            return queryset.count(), queryset, offset
        entry = self._entries.get_or_put((key, queryset.db, tuple(order_by)), _Entry)
        with entry.lock:  # one request per process counts a list; the others wait for its figure
            if entry.count is None:
                entry.count = queryset.count()
            if offset < MIN_ANCHORED_OFFSET or offset >= entry.count:
                return entry.count, queryset, offset
            if entry.anchors is None:
                entry.anchors = _anchors(queryset, order_by) if anchorable(queryset.model, order_by) else []
            anchors = entry.anchors
        # No anchor that far: an ordering that cannot be anchored, or a list that shrank under a version not yet
        # heard of. Read the page the long way.
        if offset // ANCHOR_EVERY >= len(anchors):
            return entry.count, queryset, offset
        return entry.count, queryset.filter(from_row(order_by, anchors[offset // ANCHOR_EVERY])), offset % ANCHOR_EVERY


def anchorable(model: type[Model], order_by: Sequence[str]) -> bool:
    """Whether a row-value comparison finds a row's place in this ordering: only on the model's own columns and
    never a NULL one (databases sort NULLs first or last, and `>=` never matches them)."""
    try:
        fields = [model._meta.pk if name == "pk" else model._meta.get_field(name) for name in _columns(order_by)]
    except FieldDoesNotExist:
        return False
    return all(getattr(field, "column", None) and not getattr(field, "null", True) for field in fields)


def _columns(order_by: Sequence[str]) -> list[str]:
    """The ordering's field names, without their "-" (descending) marks."""
    return [name.removeprefix("-") for name in order_by]


def list_key(name: str, version: str, query: QueryDict) -> Hashable:
    """A list's memo key: which list, the data version, and its filters as the query string gives them (the
    page and its size apart). The filters are a function of the query string, so equal keys are the same SQL;
    a key from the query string costs nothing, where compiling the SQL to compare cost 0.4 ms a request."""
    return (name, version, tuple(sorted((field, tuple(values)) for field, values in query.lists()
                                        if field not in ("page", "limit"))))


def _anchors(queryset: QuerySet[Any, Any], order_by: Sequence[str]) -> list[tuple[Any, ...]]:
    """The ordering's values of rows 0, ANCHOR_EVERY, 2 × ANCHOR_EVERY, … of the list, in one query."""
    names = _columns(order_by)
    ordering = [F(name).desc() if name.startswith("-") else F(name).asc() for name in order_by]
    numbered = (queryset.order_by()
                .annotate(list_position=Window(RowNumber(), order_by=ordering))
                .annotate(list_bucket=Mod(F("list_position") - 1, ANCHOR_EVERY))
                .filter(list_bucket=0)
                .order_by("list_position"))
    return [tuple(row) for row in numbered.values_list(*names)]


def from_row(order_by: Sequence[str], values: Sequence[Any]) -> Q:
    """Rows at or after `values` in the ordering `order_by` (a row-value comparison written with Q, as the ORM
    has none): `name >= n AND (name > n OR (name = n AND id >= i))` for ("name", "id"). Its first term bounds
    the ordering's index, so the database seeks to the anchor instead of reading from the start."""
    names = _columns(order_by)
    after = ["lt" if name.startswith("-") else "gt" for name in order_by]

    def at_or_after(position: int) -> Q:
        name, value = names[position], values[position]
        if position == len(names) - 1:
            return Q(**{f"{name}__{after[position]}e": value})
        return Q(**{f"{name}__{after[position]}": value}) | (Q(**{name: value}) & at_or_after(position + 1))

    return Q(**{f"{names[0]}__{after[0]}e": values[0]}) & at_or_after(0)


MEMO = ListMemo()
