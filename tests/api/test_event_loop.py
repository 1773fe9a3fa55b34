"""Cache hits are answered on the event loop; misses compute in a worker thread (``ApiState.serve``).

Driven in-process with ``httpx.AsyncClient(transport=ASGITransport(app))``: the app runs in the test's own event
loop, so "on the loop" and "in a worker" can be told apart by thread identity, and every hand-off to the AnyIO
thread pool is counted by wrapping ``anyio.to_thread.run_sync`` (Starlette's ``run_in_threadpool`` and FastAPI's
sync endpoints both go through it). No timings are asserted: only which thread ran what, and what had finished.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import anyio.to_thread
import httpx
import pytest

from rotation.api import ApiSettings, create_app
from rotation.api._cache import ResultCache, cache_key

V = "/api/v1"
#: Events for POST /events on the synthetic universe (baskets ai, crypto).
POSTED = [{"date": "2020-03-16", "label": "a crash", "kind": "crash", "affects": ["ai", "crypto"]},
          {"date": "2021-05-19", "label": "a user event"}]
#: (method, path, query, cached): one request per kind of route; cached ones carry X-Cache / X-Data-Version.
REQUESTS: list[tuple[str, str, dict[str, Any], bool]] = [
    ("get", "/health", {}, False),
    ("get", "/version", {}, False),
    ("get", "/universe", {}, False),
    ("get", "/instruments", {}, True),
    ("get", "/panel", {"symbols": "A1,C1", "start": "2022-01-01"}, True),
    ("get", "/rrg", {"baskets": "ai,crypto", "benchmark": "SPY"}, True),
    ("get", "/rotation-index", {"a": "ai", "b": "crypto"}, True),
    ("get", "/comovement/lead-lag", {"x": "ai", "y": "crypto"}, True),
    ("post", "/events", {"windows": "-1:1"}, True),
]


def _run(synthetic: Any, body: Callable[[httpx.AsyncClient, Any], Awaitable[None]], **settings: Any) -> None:
    """``body(client, app)`` in a fresh event loop against a new app over the synthetic store."""
    path, uni = synthetic
    app = create_app(path, uni, ApiSettings(**settings))

    async def main() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            await body(client, app)

    try:
        asyncio.run(main())
    finally:
        app.state.rotation.store.close()  # ASGITransport runs no lifespan: close the store the app opened


async def _send(client: httpx.AsyncClient, method: str, path: str, query: dict[str, Any]) -> httpx.Response:
    if method == "post":
        return await client.post(f"{V}{path}", params=query, json=POSTED)
    return await client.get(f"{V}{path}", params=query)


@pytest.fixture()
def hand_offs(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every function handed to the AnyIO thread pool from now on."""
    seen: list[Any] = []
    real = anyio.to_thread.run_sync

    async def counting(func: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(func)
        return await real(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counting)
    return seen


def test_every_api_route_is_async():
    """A sync route would be run in the thread pool by FastAPI, hit or miss."""
    from rotation.api import _routes_analytics, _routes_data, _routes_last, _routes_more

    routes = [r for m in (_routes_data, _routes_analytics, _routes_more, _routes_last) for r in m.router.routes]
    assert len(routes) >= 22  # every route module found
    assert [r.path for r in routes if not inspect.iscoroutinefunction(r.endpoint)] == []


def test_hits_and_validation_errors_need_no_thread(synthetic, hand_offs):
    """After a route's first call, a repeat (and a bad parameter) is answered on the loop, byte for byte as before;
    a miss is computed in the thread pool; the cache counters agree with the X-Cache headers."""
    headers: list[str] = []

    async def body(client: httpx.AsyncClient, app: Any) -> None:
        for method, path, query, cached in REQUESTS:
            first = await _send(client, method, path, query)
            assert first.status_code == 200, (path, first.text[:300])
            assert hand_offs, path  # the first call of a route (and every miss) runs in a worker
            hand_offs.clear()
            again = await _send(client, method, path, query)
            assert hand_offs == [], path
            assert again.status_code == 200 and again.headers["content-type"] == first.headers["content-type"]
            if cached:
                assert (first.headers["x-cache"], again.headers["x-cache"]) == ("miss", "hit"), path
                assert again.headers["x-data-version"] == first.headers["x-data-version"]
                assert again.content == first.content, path
                headers.extend([first.headers["x-cache"], again.headers["x-cache"]])
            else:
                assert "x-cache" not in again.headers
                assert again.json() == first.json()
        # a validation error on a warm route: the same 422 body, raised on the loop
        bad = await client.get(f"{V}/panel", params={"symbols": "A1,NOPE"})
        assert bad.status_code == 422 and bad.json()["parameter"] == "symbols" and "NOPE" in bad.json()["detail"]
        bad = await client.get(f"{V}/rrg", params={"tail": 99})
        assert bad.status_code == 422 and bad.json()["parameter"] == "tail"
        assert hand_offs == []
        # a new parameter set on a warm route: one miss, computed in a worker
        miss = await client.get(f"{V}/panel", params={"symbols": "A2", "start": "2022-01-01"})
        assert miss.headers["x-cache"] == "miss" and len(hand_offs) == 1
        headers.append(miss.headers["x-cache"])
        cache = app.state.rotation.cache
        assert (cache.hits, cache.misses) == (headers.count("hit"), headers.count("miss"))

    _run(synthetic, body)


def test_slow_miss_does_not_hold_up_hits(synthetic, monkeypatch):
    """A miss whose computation holds the store's lock (a long query) runs in a worker; meanwhile a cache hit,
    /health and a validation error are all answered, and the miss is still running when they are."""
    import rotation.panel

    real_build = rotation.panel.build_panel
    started, release, computed = threading.Event(), threading.Event(), threading.Event()
    ran_in: list[int] = []
    released: list[bool] = []

    def slow_build_panel(store: Any, *args: Any, **kwargs: Any) -> Any:
        ran_in.append(threading.get_ident())
        with store._lock:  # as a DuckDB query in progress: no other thread can use the store
            started.set()
            # set by the test once the other requests are answered; the timeout only bounds a failing run
            released.append(release.wait(10))
            out = real_build(store, *args, **kwargs)
        computed.set()
        return out

    async def body(client: httpx.AsyncClient, app: Any) -> None:
        loop_thread = threading.get_ident()
        q = {"symbols": "A1", "start": "2022-06-01"}
        first = await client.get(f"{V}/panel", params=q)
        await client.get(f"{V}/health")  # first calls: in a worker (the routes' imports), now warm
        assert first.headers["x-cache"] == "miss"
        monkeypatch.setattr(rotation.panel, "build_panel", slow_build_panel)
        miss = asyncio.create_task(client.get(f"{V}/panel", params={"symbols": "A2", "start": "2022-06-01"}))
        try:
            for _ in range(2000):  # until the worker holds the store's lock (or the task ended: fails below)
                if started.is_set() or miss.done():
                    break
                await asyncio.sleep(0.005)
            assert started.is_set() and not miss.done()
            hit = await client.get(f"{V}/panel", params=q)
            health = await client.get(f"{V}/health")
            bad = await client.get(f"{V}/panel", params={"symbols": "NOPE"})
            still_running = not computed.is_set() and not miss.done()
        finally:
            release.set()
        slow = await miss
        assert still_running and released == [True]  # answered while the miss waited, not after it gave up
        assert hit.headers["x-cache"] == "hit" and hit.content == first.content
        assert health.status_code == 200 and health.json()["data_version"] == int(first.headers["x-data-version"])
        assert bad.status_code == 422 and bad.json()["parameter"] == "symbols"
        assert slow.status_code == 200 and slow.headers["x-cache"] == "miss" and slow.json()["columns"] == ["A2"]
        assert ran_in and loop_thread not in ran_in  # the computation never ran on the loop

    _run(synthetic, body)


def test_store_write_turns_loop_hits_into_a_miss(tmp_path, hand_offs):
    """A write committed by another thread (as the refresh thread does) is seen by the next request on the loop:
    a miss at the new version, computed in a worker, then hits again."""
    from api_synthetic import UNIVERSE, write_synthetic

    import pandas as pd

    from rotation.store import Store

    path = tmp_path / "rw.duckdb"
    write_synthetic(path, seed=5)
    (tmp_path / "u.toml").write_text(UNIVERSE)
    store = Store(path)
    app = create_app(store, tmp_path / "u.toml")
    q = {"symbols": "A1", "start": "2022-12-01"}

    def write(last: str) -> None:
        store.write_observations(pd.DataFrame({"symbol": ["A1"], "date": [pd.Timestamp(last)], "close": [777.0],
                                               "adj_close": [777.0]}), source="yahoo")

    async def main() -> None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            first = await client.get(f"{V}/panel", params=q)
            hit = await client.get(f"{V}/panel", params=q)
            assert (first.headers["x-cache"], hit.headers["x-cache"]) == ("miss", "hit")
            await asyncio.to_thread(write, first.json()["index"][-1])
            hand_offs.clear()
            after = await client.get(f"{V}/panel", params=q)
            assert after.headers["x-cache"] == "miss" and len(hand_offs) == 1
            assert int(after.headers["x-data-version"]) == int(first.headers["x-data-version"]) + 1
            assert after.json()["data"][-1] == [777.0]
            again = await client.get(f"{V}/panel", params=q)
            assert again.headers["x-cache"] == "hit" and again.content == after.content and len(hand_offs) == 1

    try:
        asyncio.run(main())
    finally:
        store.close()


def test_probe_lookup_counts_no_miss():
    c = ResultCache(4)
    k = cache_key("e", {"a": 1}, 1)
    assert c.get(k, count_miss=False) is None and (c.hits, c.misses) == (0, 0)
    assert c.get(k) is None and (c.hits, c.misses) == (0, 1)
    c.put(k, b"x")
    assert c.get(k, count_miss=False) == b"x" and (c.hits, c.misses) == (1, 1)  # a hit always counts
