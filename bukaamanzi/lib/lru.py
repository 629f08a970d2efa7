"""A thread-safe least-recently-used map: what a page process keeps for itself (insight figures, whole insight
pages, list counts and anchors) is shared by its threads and bounded, so the oldest entry goes first."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LockedLRU(Generic[K, V]):
    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            self._trim()

    def get_or_put(self, key: K, make: Callable[[], V]) -> V:
        """The value kept for `key`, or `make()` kept and returned (`make` runs under the lock: keep it cheap)."""
        with self._lock:
            value = self._items.get(key)
            if value is None:
                value = self._items[key] = make()
                self._trim()
            else:
                self._items.move_to_end(key)
            return value

    def keys(self) -> list[K]:
        """Oldest first."""
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def _trim(self) -> None:
        while len(self._items) > self._size:
            self._items.popitem(last=False)
