"""Read queries compiled once and run many times with a different id (or list of ids).

Why: the project detail's three ORM queries cost about 2 ms of Python on every request to build and compile, and
about 0.1 ms each to run. A `PreparedValues` builds its queryset once per database alias with a placeholder id,
keeps the SQL, and then runs it with the real id, converting the rows with the same backend and field converters
`QuerySet.values()` applies, so the result is the same list of dicts.

The id is a UUID; it may reach the SQL as the UUID itself, as its 32 hex digits (UUIDField on SQLite) or as text
(a CharField holding an id), and each place the placeholder appears in any of these forms gets the real id in
the same form. A query whose SQL would change with the id's value (not only its parameters) cannot be prepared.

It reads Django 5.2's SQL compiler (`as_sql`, `select`, `col_count`, `Query.selected`): `bench/internals/compare.py
prepared` measures it against running the querysets (docs/api.md, "Library ties"), and tests/test_library_ties.py
fails on another Django version.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet

# An id no row has; it marks where the real id goes in the compiled parameters.
PLACEHOLDER = uuid.UUID("00000000-5eed-4000-8000-000000000000")
_FORMS: tuple[Callable[[uuid.UUID], Any], ...] = (lambda value: value, lambda value: value.hex, str)


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    slots: tuple[tuple[int, int, Callable[[uuid.UUID], Any]], ...]  # (parameter index, which id, form of the id)
    names: tuple[str, ...]
    expressions: tuple[Any, ...]


def _placeholders(count: int) -> tuple[uuid.UUID, ...]:
    return tuple(uuid.UUID(int=PLACEHOLDER.int + number) for number in range(count))


class _Prepared:
    """Compiles `build(placeholders)` once per database alias and number of ids, and runs it with real ids."""

    def __init__(self, build: Callable[[Any], QuerySet[Any, dict[str, Any]]], *, many: bool) -> None:
        self._build = build
        self._many = many
        self._compiled: dict[tuple[str, int], _Compiled] = {}
        self._lock = threading.Lock()

    def _run(self, values: Sequence[uuid.UUID], using: str) -> list[dict[str, Any]]:
        compiled = self._compiled.get((using, len(values))) or self._compile(using, len(values))
        params = list(compiled.params)
        for index, number, form in compiled.slots:
            params[index] = form(values[number])
        connection = connections[using]
        converters = []
        for position, expression in enumerate(compiled.expressions):
            functions = connection.ops.get_db_converters(expression) + expression.get_db_converters(connection)
            if functions:
                converters.append((position, functions, expression))
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        result = []
        for raw in rows:
            row = list(raw)
            for position, functions, expression in converters:
                for function in functions:
                    row[position] = function(row[position], expression, connection)
            result.append(dict(zip(compiled.names, row, strict=True)))
        return result

    def _compile(self, using: str, count: int) -> _Compiled:
        with self._lock:
            if (using, count) in self._compiled:
                return self._compiled[(using, count)]
            placeholders = _placeholders(count)
            queryset = self._build(list(placeholders) if self._many else placeholders[0]).using(using)
            query = queryset.query
            compiler = query.get_compiler(using)
            sql, params = compiler.as_sql()
            where = {(type(form(placeholder)), form(placeholder)): (number, form)
                     for number, placeholder in enumerate(placeholders) for form in _FORMS}
            slots = tuple((index, *where[(type(param), param)]) for index, param in enumerate(params)
                          if isinstance(param, uuid.UUID | str) and (type(param), param) in where)
            if {number for _, number, _ in slots} != set(range(count)):
                raise ValueError("The placeholder id does not appear in the query's parameters.")
            names = list(query.selected) if query.selected else [
                *query.extra_select, *query.values_select, *query.annotation_select]
            expressions = tuple(column for column, _, _ in compiler.select[: compiler.col_count])
            compiled = _Compiled(sql, tuple(params), slots, tuple(names), expressions)
            self._compiled[(using, count)] = compiled
            return compiled


class PreparedValues(_Prepared):
    """`build(id)` returns a `.values(...)` queryset; calling this with an id returns `list(build(id))`."""

    def __init__(self, build: Callable[[uuid.UUID], QuerySet[Any, dict[str, Any]]]) -> None:
        super().__init__(build, many=False)

    def __call__(self, value: uuid.UUID, *, using: str = DEFAULT_DB_ALIAS) -> list[dict[str, Any]]:
        return self._run((value,), using)


class PreparedValuesForIds(_Prepared):
    """`build(ids)` returns a `.values(...)` queryset of the rows with these ids (`pk__in=ids`); calling this with
    ids returns `list(build(ids))`. Compiled once per number of ids (a page's size, and its last page's)."""

    def __init__(self, build: Callable[[list[uuid.UUID]], QuerySet[Any, dict[str, Any]]]) -> None:
        super().__init__(build, many=True)

    def __call__(self, values: Sequence[uuid.UUID], *, using: str = DEFAULT_DB_ALIAS) -> list[dict[str, Any]]:
        return self._run(tuple(values), using) if values else []
