"""Background incremental fetch for ``rotation serve --refresh daily|hourly``.

One daemon thread calls :func:`rotation.store.fetch` on the API's own store
instance (DuckDB allows one writing connection per process); the store's lock
and transactions keep concurrent request reads consistent, and the data version
bump invalidates the result cache. Failures are logged, never raised: the API
keeps serving the data it has.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

__all__ = ["INTERVALS", "Refresher"]

log = logging.getLogger("rotation.api.refresh")

#: Seconds between refreshes.
INTERVALS = {"daily": 24 * 3600.0, "hourly": 3600.0}


class Refresher:
    """Run ``fetch(store, universe)`` now and then every interval until :meth:`stop`."""

    def __init__(self, store: Any, universe: Any, every: str, *, fetch: Any = None) -> None:
        self.store, self.universe, self.interval = store, universe, INTERVALS[every]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rotation-refresh", daemon=True)
        self._fetch = fetch
        self.runs = 0
        self.last_error: str | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def run_once(self) -> None:
        fetch = self._fetch
        if fetch is None:
            from rotation.store import fetch
        try:
            fetch(self.store, self.universe)
            self.last_error = None
        except Exception as exc:  # noqa: BLE001 - a failed refresh must not stop the server
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.warning("background refresh failed: %s", self.last_error)
        finally:
            self.runs += 1

    def _run(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(self.interval)
