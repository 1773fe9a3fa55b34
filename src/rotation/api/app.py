"""The FastAPI application: :func:`create_app`.

Store access and concurrency
----------------------------
DuckDB allows one read-write connection to a file per process, and a file
opened read-write elsewhere cannot be opened read-only at the same time. The
API therefore holds ONE :class:`~rotation.store.Store` instance for its whole
life and every request reads through it; the store serialises use of its
connection with a re-entrant lock, so request threads (FastAPI runs sync
endpoints in a thread pool) and the background refresh never share the
connection concurrently. Without ``refresh`` the store is opened read-only
(other processes may read the file too); with ``refresh`` it is opened
read-write and the refresh thread writes through the same instance. A write
is a transaction: readers see the data before or after it, never half of it.
Every committed write bumps ``Store.data_version()``, which keys the cache.

Errors
------
:class:`ParameterError` -> 422 ``{"detail", "parameter"}``; request-validation
errors -> 422 naming the parameter; :class:`EmptyStoreError` -> 404;
:class:`DataError` / other :class:`UniverseError`/:class:`RotationError` -> 422;
:class:`StoreError` -> 503.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rotation import __version__
from rotation.api._cache import ResultCache, cache_key
from rotation.api._schemas import dumps
from rotation.errors import EmptyStoreError, ParameterError, RotationError, StoreError
from rotation.store import Store
from rotation.universe import Universe, load_universe

__all__ = ["ApiSettings", "ApiState", "create_app"]

STATIC_DIR = Path(__file__).parent / "static"


@dataclass(frozen=True)
class ApiSettings:
    """How the app is served.

    Parameters
    ----------
    token : str, optional
        Bearer token required on every ``/api`` request when set.
    cors_origins : sequence of str
        Allowed CORS origins; empty (default) installs no CORS middleware at all.
    max_body : int
        Request-body limit in bytes (413 above it).
    cache_size : int
        Entries of the result LRU (0 disables it).
    refresh : {"off", "daily", "hourly"}
        Background incremental fetch interval.
    static_dir : Path, optional
        Dashboard files served at ``/`` (default: the package's ``static/``).
    """

    token: str | None = None
    cors_origins: Sequence[str] = ()
    max_body: int = 256 * 1024
    cache_size: int = 256
    refresh: str = "off"
    static_dir: Path | None = None


@dataclass
class ApiState:
    """What the routes share: the one store, the universe, the cache."""

    store: Store
    universe: Universe
    cache: ResultCache
    settings: ApiSettings
    _stored: tuple[int, frozenset[str]] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    refresher: Any = None

    def data_version(self) -> int:
        return self.store.data_version()

    def stored_symbols(self) -> frozenset[str]:
        """Symbols with observations in the store (cached per data version)."""
        version = self.data_version()
        with self._lock:
            if self._stored is None or self._stored[0] != version:
                cov = self.store.coverage()
                syms = frozenset(cov.loc[cov["table"] == "observations", "symbol"].astype(str))
                self._stored = (version, syms)
            return self._stored[1]

    def known_symbols(self) -> set[str]:
        return set(self.universe.instruments) | set(self.stored_symbols())

    def cached(self, endpoint: str, params: Mapping[str, Any], compute: Callable[[], Any]) -> Any:
        """JSON response of ``compute()`` (jsonable), from the cache when the data version matches."""
        from fastapi.responses import Response

        version = self.data_version()
        key = cache_key(endpoint, params, version)
        body = self.cache.get(key)
        hit = body is not None
        if body is None:
            result = compute()
            body = result if isinstance(result, bytes) else dumps(result)
            self.cache.put(key, body)
        # A Response is passed through by FastAPI as is: the route's response_model documents the body in the
        # OpenAPI spec but is not validated or re-serialised here, so a cache hit is a dict lookup, no pydantic
        # work. The tests check the bodies against the models and the spec instead.
        return Response(content=body, media_type="application/json",
                        headers={"X-Cache": "hit" if hit else "miss", "X-Data-Version": str(version)})


def _error(status: int, detail: str, parameter: str | None = None) -> Any:
    from fastapi.responses import JSONResponse

    return JSONResponse(status_code=status, content={"detail": detail, "parameter": parameter})


def create_app(
    store: Store | str | os.PathLike[str],
    universe: Universe | str | os.PathLike[str] | None = None,
    settings: ApiSettings | None = None,
) -> Any:
    """Build the FastAPI app.

    Parameters
    ----------
    store : Store or path
        An open store (used as is; the caller closes it) or a path (opened
        read-only, or read-write when ``settings.refresh`` is not ``off``;
        closed on shutdown).
    universe : Universe or path, optional
        Default: the configured/shipped universe.
    settings : ApiSettings, optional

    Returns
    -------
    fastapi.FastAPI
    """
    try:
        from contextlib import asynccontextmanager

        from fastapi import FastAPI, Request
        from fastapi.exceptions import RequestValidationError
        from fastapi.responses import FileResponse
    except ImportError as exc:  # pragma: no cover - exercised without the extra
        raise ImportError("the REST API needs FastAPI: pip install rotation[serve]") from exc

    from rotation.api import _routes_analytics, _routes_data, _routes_last, _routes_more
    from rotation.api._security import BodyLimitMiddleware, TokenMiddleware

    settings = settings or ApiSettings()
    if settings.refresh not in {"off", "daily", "hourly"}:
        raise ParameterError("refresh", f"must be off, daily or hourly, got {settings.refresh!r}")
    owns_store = not isinstance(store, Store)
    if owns_store:
        path = Path(store)  # type: ignore[arg-type]
        if not path.exists():
            raise EmptyStoreError(f"no store at {path}: fetch or import data first")
        store = Store(path, read_only=settings.refresh == "off")
    closed = [False]  # an owned store is closed at shutdown and re-opened if the app starts again
    if not isinstance(universe, Universe):
        universe = load_universe(universe) if universe is not None else load_universe()
    state = ApiState(store=store, universe=universe, cache=ResultCache(settings.cache_size), settings=settings)

    @asynccontextmanager
    async def lifespan(app: Any):  # noqa: ANN202
        if closed[0]:
            state.store = Store(path, read_only=settings.refresh == "off")
            closed[0] = False
        if settings.refresh != "off":
            from rotation.api._refresh import Refresher

            state.refresher = Refresher(state.store, state.universe, settings.refresh)
            state.refresher.start()
        try:
            yield
        finally:
            if state.refresher is not None:
                state.refresher.stop()
            if owns_store:
                state.store.close()
                closed[0] = True

    app = FastAPI(
        title="rotation API",
        version=__version__,
        description=(
            "Read-only JSON API over the rotation store, analytics and claims ledger. Endpoints are GET "
            "under /api/v1 (POST /events takes user events as JSON). Every 200 body is described by its "
            "schema below. Dates are ISO YYYY-MM-DD; missing numbers (NaN) are null; wide frames are "
            "{index, columns, data} with data[i][j] the value at index[i], columns[j]. Data and analytics "
            "responses carry X-Cache (hit/miss) and X-Data-Version. Errors are {detail, parameter}: 422 "
            "names the offending parameter; 404 when the store has no data; 401 without the bearer token "
            "(when the server has one); 413 for bodies over the limit; 400 for a malformed Content-Length; "
            "503 when the store cannot be read."
        ),
        lifespan=lifespan,
    )
    app.state.rotation = state

    @app.exception_handler(ParameterError)
    async def _param_error(request: Request, exc: ParameterError) -> Any:
        return _error(422, str(exc), exc.parameter)

    @app.exception_handler(EmptyStoreError)
    async def _empty(request: Request, exc: EmptyStoreError) -> Any:
        return _error(404, str(exc))

    @app.exception_handler(StoreError)
    async def _store_error(request: Request, exc: StoreError) -> Any:
        return _error(503, str(exc))

    @app.exception_handler(RotationError)
    async def _rotation_error(request: Request, exc: RotationError) -> Any:
        return _error(422, str(exc), getattr(exc, "parameter", None))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Any:
        errs = exc.errors()
        first = errs[0] if errs else {}
        loc = [str(p) for p in first.get("loc", ()) if p not in ("query", "body", "path", "header")]
        parameter = ".".join(loc) or None
        msg = first.get("msg", "invalid request")
        return _error(422, f"{parameter}: {msg}" if parameter else msg, parameter)

    app.include_router(_routes_data.router, prefix="/api/v1")
    app.include_router(_routes_analytics.router, prefix="/api/v1")
    app.include_router(_routes_more.router, prefix="/api/v1")
    app.include_router(_routes_last.router, prefix="/api/v1")

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_js() -> Any:
        # served from the installed plotly package: the dashboard needs no CDN
        import plotly

        path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
        if not path.exists():  # pragma: no cover - broken plotly install
            return _error(404, "plotly.min.js not found in the installed plotly package")
        return FileResponse(path, media_type="application/javascript")

    static = settings.static_dir or STATIC_DIR
    if static.is_dir():
        from fastapi.staticfiles import StaticFiles

        app.mount("/", StaticFiles(directory=static, html=True), name="dashboard")

    # middleware added last runs first: body limit, then auth, then (optional) CORS
    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"])
    if settings.token:
        app.add_middleware(TokenMiddleware, token=settings.token)
    app.add_middleware(BodyLimitMiddleware, max_body=settings.max_body)
    return app
