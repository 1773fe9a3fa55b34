"""REST API over the store, the analytics and the claims ledger (``rotation serve``).

FastAPI is an optional dependency (``pip install rotation[serve]``): this package
imports it only when :func:`create_app` is called, so ``import rotation`` works
without it.

Layers
------
``app``               :func:`create_app` - the application, middleware, exception mapping; ``ApiState.serve``:
                      cache hits answered on the event loop, misses computed in worker threads
``_routes_data``      health, version, universe, instruments, quality, panel
``_routes_analytics`` basket levels, RRG, rotation index, market-cap shares, claims
``_params``           parameter parsing/validation (every error names the parameter)
``_cache``            bounded LRU of serialised results keyed by data version
``_security``         loopback test, bearer-token check (constant time), body-size limit
``_schemas``          pydantic models (OpenAPI contract) and JSON conversion (NaN -> null)
``_refresh``          the background incremental fetch (``--refresh daily|hourly``)

No statistics live here: every number comes from :mod:`rotation.analytics`,
:mod:`rotation.claims`, :mod:`rotation.quality`, :mod:`rotation.panel` or the store.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ApiSettings", "create_app"]


def __getattr__(name: str) -> Any:  # lazy: fastapi is imported only on use
    if name in __all__:
        from rotation.api import app as _app

        return getattr(_app, name)
    raise AttributeError(name)
