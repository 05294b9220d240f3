"""Values a web process derives from the projection and keeps while they hold.

Each value is stamped with what it was derived at (the projection's checkpoint, a read model's
version); a lookup with another stamp finds nothing, so a stale value is never used. The least
recently used go first, past a number of entries or a number of bytes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Kept(Generic[K, V]):
    def __init__(self, entries: int, size: Callable[[V], int] = lambda _: 0) -> None:
        self._entries = entries
        self._size = size
        self._lock = threading.Lock()
        self._kept: OrderedDict[K, tuple[int, V]] = OrderedDict()
        self.nbytes = 0  # the sizes of the values kept

    def get(self, key: K, stamp: int) -> V | None:
        with self._lock:
            kept = self._kept.get(key)
            if kept is None or kept[0] != stamp:
                return None
            self._kept.move_to_end(key)
            return kept[1]

    def put(self, key: K, stamp: int, value: V, limit: int | None = None) -> None:
        """Keep the value, dropping the least recently used ones past `limit` bytes in all."""
        with self._lock:
            old = self._kept.pop(key, None)
            self.nbytes -= 0 if old is None else self._size(old[1])
            self._kept[key] = (stamp, value)
            self.nbytes += self._size(value)
            while self._kept and (
                len(self._kept) > self._entries or (limit is not None and self.nbytes > limit)
            ):
                _, (_, dropped) = self._kept.popitem(last=False)
                self.nbytes -= self._size(dropped)
