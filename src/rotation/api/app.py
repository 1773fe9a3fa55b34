"""The FastAPI application: :func:`create_app`.

Store access and concurrency
----------------------------
DuckDB allows one read-write connection to a file per process, and a file
opened read-write elsewhere cannot be opened read-only at the same time. The
API therefore holds ONE :class:`~rotation.store.Store` instance for its whole
life and every request reads through it; the store serialises use of its
connection with a re-entrant lock, so request threads and the background
refresh never share the connection concurrently. Without ``refresh`` the
store is opened read-only (other processes may read the file too); with
``refresh`` it is opened read-write and the refresh thread writes through the
same instance. A write
is a transaction: readers see the data before or after it, never half of it.
Every committed write bumps ``Store.data_version()``, which keys the cache.

Event loop and worker threads
-----------------------------
Every route is run by :meth:`ApiState.serve` (the :func:`served` decorator):
on the event loop, where parameter validation and the cache lookup are cheap
and pure; anything that could block the loop (waiting for the store's lock, a
store read, computing a result) raises :class:`_NeedsThread` there instead,
and ``serve`` runs the whole handler again in the AnyIO thread pool, as
FastAPI runs a sync endpoint. A route's first call also runs in a worker, so
its first imports never run on the loop. A cache hit therefore costs no thread
hand-off (profiled: the hand-off was about half of a hit's time), and a slow
miss computing in a worker never holds up hits on the loop.

Errors
------
:class:`ParameterError` -> 422 ``{"detail", "parameter"}``; request-validation
errors -> 422 naming the parameter; :class:`EmptyStoreError` -> 404;
:class:`DataError` / other :class:`UniverseError`/:class:`RotationError` -> 422;
:class:`StoreError` -> 503.
"""

from __future__ import annotations

import asyncio
import functools
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

__all__ = ["ApiSettings", "ApiState", "create_app", "served"]

STATIC_DIR = Path(__file__).parent / "static"


class _NeedsThread(Exception):  # noqa: N818 - a signal, not an error
    """A step that could block the event loop was reached on it: :meth:`ApiState.serve` retries in a worker."""


def _on_event_loop() -> bool:
    """True in the thread running the event loop (nothing may block there), False in a worker thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


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
    """What the routes share: the one store, the universe, the cache.

    The methods below may be called on the event loop (from :meth:`serve`): there they never wait for a lock
    that is held across a store read, never read the store and never compute; where they would have to, they
    raise :class:`_NeedsThread`. In a worker thread (no running loop) they do the work, as before.
    """

    store: Store
    universe: Universe
    cache: ResultCache
    settings: ApiSettings
    _stored: tuple[int, frozenset[str]] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # code objects of the handlers that have completed in a worker thread (see serve)
    _warm: set[Any] = field(default_factory=set, repr=False)
    refresher: Any = None

    async def serve(self, handler: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """Run ``handler(*args, **kwargs)`` on the event loop if it needs nothing that blocks, else in a worker.

        Parameters
        ----------
        handler : callable
            A sync route body: validates its parameters and returns :meth:`cached` (or a small jsonable
            result). It must reach the store only through this state's methods, which raise
            :class:`_NeedsThread` on the loop instead of blocking.
        *args, **kwargs
            Passed to ``handler``.

        Returns
        -------
        Any
            What ``handler`` returns; its exceptions (``ParameterError`` ...) propagate to the app's handlers.

        Notes
        -----
        A handler runs on the loop only once it has completed in a worker thread: by then every module it
        imports is loaded, so the loop never runs (or waits for another thread's) first import. After a
        :class:`_NeedsThread` the handler runs again from the start in a worker; what it did on the loop
        (parsing, a cache lookup that does not count a miss) has no effect.
        """
        code = handler.__code__
        if code in self._warm:
            try:
                return handler(*args, **kwargs)
            except _NeedsThread:
                pass
        from starlette.concurrency import run_in_threadpool

        result = await run_in_threadpool(handler, *args, **kwargs)
        self._warm.add(code)
        return result

    def data_version(self) -> int:
        """The store's data version (:meth:`Store.data_version`); on the event loop, its memo, read without waiting.

        ``Store.data_version()`` takes the store's lock, which a worker holds through each query and the refresh
        through each write transaction; waiting for it would stall every request on the loop. The memo it keeps
        (the last committed version, set under that lock right after COMMIT) is one attribute read: during a
        write a hit serves the data from before it, as a request a moment earlier would. While the memo is not
        filled yet, :class:`_NeedsThread`: a worker reads the version.
        """
        if not _on_event_loop():
            return self.store.data_version()
        version = self.store.data_version(wait=False)
        if version is None:
            raise _NeedsThread
        return int(version)

    def stored_symbols(self) -> frozenset[str]:
        """Symbols with observations in the store (cached per data version)."""
        version = self.data_version()
        memo = self._stored  # one read, no lock: a worker holds self._lock through store.coverage()
        if memo is not None and memo[0] == version:
            return memo[1]
        if _on_event_loop():
            raise _NeedsThread
        with self._lock:
            if self._stored is None or self._stored[0] != version:
                cov = self.store.coverage()
                syms = frozenset(cov.loc[cov["table"] == "observations", "symbol"].astype(str))
                self._stored = (version, syms)
            return self._stored[1]

    def known_symbols(self) -> set[str]:
        return set(self.universe.instruments) | set(self.stored_symbols())

    def cached(self, endpoint: str, params: Mapping[str, Any], compute: Callable[[], Any]) -> Any:
        """JSON response of ``compute()`` (jsonable), from the cache when the data version matches.

        On the event loop only a hit is answered; a miss raises :class:`_NeedsThread` (``compute`` reads the
        store under its lock and runs pandas), and :meth:`serve` repeats the request in a worker thread.
        """
        from fastapi.responses import Response

        version = self.data_version()
        key = cache_key(endpoint, params, version)
        on_loop = _on_event_loop()
        # a miss on the loop is not counted: the worker's lookup counts it, once per request
        body = self.cache.get(key, count_miss=not on_loop)
        hit = body is not None
        if body is None:
            if on_loop:
                raise _NeedsThread
            result = compute()
            body = result if isinstance(result, bytes) else dumps(result)
            self.cache.put(key, body)
        # A Response is passed through by FastAPI as is: the route's response_model documents the body in the
        # OpenAPI spec but is not validated or re-serialised here, so a cache hit is a dict lookup, no pydantic
        # work. The tests check the bodies against the models and the spec instead.
        return Response(content=body, media_type="application/json",
                        headers={"X-Cache": "hit" if hit else "miss", "X-Data-Version": str(version)})


def served(route: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator: the sync route function ``route`` as an async endpoint run by :meth:`ApiState.serve`.

    FastAPI reads the parameters, annotations, name and docstring from ``route`` (``functools.wraps`` sets
    ``__wrapped__``), so the OpenAPI spec is unchanged; ``route`` must take ``request: Request``.
    """

    @functools.wraps(route)
    async def endpoint(**kwargs: Any) -> Any:
        return await kwargs["request"].app.state.rotation.serve(route, **kwargs)

    return endpoint


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
