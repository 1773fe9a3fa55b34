"""A bounded, thread-safe LRU of serialised endpoint results.

Keys are ``(endpoint, normalised params, data_version)``: a committed store
write bumps the data version, so every older entry stops matching; :meth:`ResultCache.get`
also drops entries of older versions when it sees a newer one, so stale results
do not occupy the bound.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from typing import Any

__all__ = ["ResultCache", "cache_key"]


def cache_key(endpoint: str, params: Mapping[str, Any], data_version: int) -> tuple[Hashable, ...]:
    """Normalised key: parameters sorted by name, lists turned into tuples, ``None`` kept."""
    norm = tuple(sorted((k, tuple(v) if isinstance(v, list | tuple) else v) for k, v in params.items()))
    return (endpoint, norm, int(data_version))


class ResultCache:
    """LRU of at most ``maxsize`` entries (bytes of JSON).

    Parameters
    ----------
    maxsize : int
        Entry bound; 0 disables caching.
    """

    def __init__(self, maxsize: int = 256) -> None:
        self.maxsize = int(maxsize)
        self._data: OrderedDict[tuple[Hashable, ...], bytes] = OrderedDict()
        self._lock = threading.Lock()
        self._version: int | None = None
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._data)

    def _sync(self, version: int) -> None:
        # a newer data version makes every entry unreachable: free them now
        if self._version is None or version > self._version:
            if self._version is not None:
                self._data.clear()
            self._version = version

    def get(self, key: tuple[Hashable, ...], *, count_miss: bool = True) -> bytes | None:
        """The entry under ``key`` (now the most recent), or None; a hit always counts in :attr:`hits`.

        ``count_miss=False`` for a probe whose miss is looked up again (the API's event-loop lookup, repeated in
        a worker thread), so :attr:`misses` counts each request once. The lock is only ever held for these
        dict operations, never across a computation, so the event loop may take it.
        """
        with self._lock:
            self._sync(int(key[-1]))
            value = self._data.get(key)
            if value is None:
                self.misses += count_miss
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: tuple[Hashable, ...], value: bytes) -> None:
        if self.maxsize <= 0:
            return
        with self._lock:
            self._sync(int(key[-1]))
            if int(key[-1]) != self._version:
                return  # computed against an older snapshot: do not keep it
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
