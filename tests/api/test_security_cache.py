"""Auth, bind policy, CORS, body limit, cache hit/invalidation, static files, refresh thread, ``rotation serve``."""

from __future__ import annotations

import sys

import pandas as pd
import pytest
import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from rotation.api import ApiSettings, create_app
from rotation.api._cache import ResultCache, cache_key
from rotation.api._security import check_bind, is_loopback, token_ok
from rotation.errors import ConfigError
from rotation.store import Store
from rotation.universe import load_universe

V = "/api/v1"


@pytest.fixture()
def rw_store(tmp_path):
    from api_synthetic import write_synthetic

    path = tmp_path / "rw.duckdb"
    write_synthetic(path, seed=11)
    store = Store(path)
    yield store
    store.close()


def _app(synthetic, **kw):
    path, uni = synthetic
    return create_app(path, uni, ApiSettings(**kw))


# ------------------------------------------------------------------ auth and bind policy
def test_token_required_on_api(synthetic):
    with TestClient(_app(synthetic, token="s3cret-token")) as c:
        assert c.get(f"{V}/health").status_code == 401
        r = c.get(f"{V}/health", headers={"Authorization": "Bearer wrong"})
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        assert c.get(f"{V}/health", headers={"Authorization": "Basic s3cret-token"}).status_code == 401
        assert c.get(f"{V}/health", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200


def test_token_compare_is_constant_time(monkeypatch):
    import hmac

    from rotation.api import _security

    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(_security.hmac, "compare_digest", spy)
    assert token_ok("Bearer abc", "abc") and not token_ok("Bearer abd", "abc")
    assert calls == [(b"abc", b"abc"), (b"abd", b"abc")]
    assert not token_ok(None, "abc") and not token_ok("", "abc")


@pytest.mark.parametrize(("host", "loop"), [("127.0.0.1", True), ("127.9.9.9", True), ("localhost", True),
                                            ("::1", True), ("[::1]", True), ("0.0.0.0", False), ("::", False),
                                            ("192.168.1.4", False), ("example.org", False)])
def test_is_loopback(host, loop):
    assert is_loopback(host) is loop


def test_check_bind():
    check_bind("127.0.0.1", None)
    check_bind("0.0.0.0", "tok")
    with pytest.raises(ConfigError, match="ROTATION_API_TOKEN"):
        check_bind("0.0.0.0", None)
    with pytest.raises(ConfigError, match="MY_TOKEN"):
        check_bind("10.0.0.1", "", "MY_TOKEN")


def _serve_app():
    from rotation.cli._serve import register

    app = typer.Typer()
    register(app)

    @app.command("noop")
    def _noop() -> None:  # a second command so typer keeps `serve` as a subcommand
        pass

    return app


def test_serve_refuses_public_bind_without_token(synthetic, monkeypatch):
    import uvicorn

    monkeypatch.delenv("ROTATION_API_TOKEN", raising=False)
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: pytest.fail("must not start"))
    path, uni = synthetic
    res = CliRunner().invoke(_serve_app(), ["serve", "--host", "0.0.0.0", "--store", str(path), "--universe", str(uni)])
    assert res.exit_code == 2, res.output
    assert "refusing to bind" in res.output and "ROTATION_API_TOKEN" in res.output


def test_serve_starts_with_token_and_loopback(synthetic, monkeypatch):
    import uvicorn

    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, **kw))
    monkeypatch.setenv("MY_TOK", "abc")
    path, uni = synthetic
    res = CliRunner().invoke(_serve_app(), ["serve", "--host", "0.0.0.0", "--port", "9999", "--token-env", "MY_TOK",
                                            "--store", str(path), "--universe", str(uni)])
    assert res.exit_code == 0, res.output
    assert seen["host"] == "0.0.0.0" and seen["port"] == 9999
    with TestClient(seen["app"]) as c:
        assert c.get(f"{V}/health").status_code == 401
        assert c.get(f"{V}/health", headers={"Authorization": "Bearer abc"}).status_code == 200
    res = CliRunner().invoke(_serve_app(), ["serve", "--refresh", "weekly", "--store", str(path)])
    assert res.exit_code == 2 and "--refresh" in res.output


def test_serve_without_fastapi(monkeypatch, synthetic):
    monkeypatch.setitem(sys.modules, "fastapi", None)  # import fastapi -> ImportError
    path, _ = synthetic
    res = CliRunner().invoke(_serve_app(), ["serve", "--store", str(path)])
    assert res.exit_code == 2 and "pip install rotation[serve]" in res.output


# ------------------------------------------------------------------ CORS, body limit, static
def test_cors_closed_by_default(client):
    r = client.get(f"{V}/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers
    r = client.options(f"{V}/health", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in r.headers and r.status_code >= 400


def test_cors_opt_in(synthetic):
    with TestClient(_app(synthetic, cors_origins=("https://dash.example",))) as c:
        r = c.get(f"{V}/health", headers={"Origin": "https://dash.example"})
        assert r.headers["access-control-allow-origin"] == "https://dash.example"
        r = c.get(f"{V}/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in r.headers


def test_body_limit(synthetic):
    with TestClient(_app(synthetic, max_body=1024)) as c:
        r = c.post(f"{V}/health", content=b"x" * 2048, headers={"Content-Type": "application/json"})
        assert r.status_code == 413 and r.json()["parameter"] == "body"
        r = c.post(f"{V}/health", content=b"x" * 10)
        assert r.status_code == 405  # small bodies pass the limit and reach routing


def test_static_dashboard(synthetic, tmp_path):
    (tmp_path / "index.html").write_text("<html>dash</html>")
    with TestClient(_app(synthetic, static_dir=tmp_path)) as c:
        assert c.get("/").text == "<html>dash</html>"
        assert c.get(f"{V}/health").status_code == 200  # the API wins over the static mount
        assert c.get("/static/plotly.min.js").status_code == 200


# ------------------------------------------------------------------ cache
def test_cache_unit():
    c = ResultCache(2)
    k1, k2, k3 = (cache_key("e", {"a": [1, 2]}, 1), cache_key("e", {"a": (1, 2)}, 1), cache_key("e", {"a": 3}, 1))
    assert k1 == k2  # lists and tuples normalise alike
    c.put(k1, b"1")
    c.put(k3, b"3")
    c.put(cache_key("f", {}, 1), b"f")
    assert c.get(k1) is None and c.get(k3) == b"3" and len(c) == 2  # LRU bound
    assert c.get(cache_key("e", {"a": 3}, 2)) is None and len(c) == 0  # a newer version clears everything
    c.put(k3, b"old")  # computed against version 1 after version 2 was seen: not kept
    assert len(c) == 0


def test_cache_hit_and_invalidation_on_write(rw_store, synthetic):
    _, uni = synthetic
    with TestClient(create_app(rw_store, uni)) as c:
        q = {"symbols": "A1", "start": "2022-12-01"}
        r1 = c.get(f"{V}/panel", params=q)
        r2 = c.get(f"{V}/panel", params=q)
        assert r1.headers["x-cache"] == "miss" and r2.headers["x-cache"] == "hit" and r1.content == r2.content
        assert c.get(f"{V}/panel", params={**q, "symbols": "A1,"}).headers["x-cache"] == "hit"  # normalised
        v0 = int(r1.headers["x-data-version"])
        last = pd.Timestamp(r1.json()["index"][-1])
        rw_store.write_observations(pd.DataFrame({"symbol": ["A1"], "date": [last], "close": [12345.0],
                                                  "adj_close": [12345.0]}), source="yahoo")
        r3 = c.get(f"{V}/panel", params=q)
        assert r3.headers["x-cache"] == "miss" and int(r3.headers["x-data-version"]) == v0 + 1
        assert r3.json()["data"][-1] == [12345.0]


# ------------------------------------------------------------------ background refresh
def test_refresher_writes_and_survives_errors(rw_store, synthetic):
    from rotation.api._refresh import Refresher

    _, uni = synthetic
    u = load_universe(uni)
    v0 = rw_store.data_version()

    def fake_fetch(store, universe):
        store.write_observations(pd.DataFrame({"symbol": ["C1"], "date": [pd.Timestamp("2023-01-01")],
                                               "close": [1.0], "adj_close": [1.0]}), source="coingecko")

    r = Refresher(rw_store, u, "hourly", fetch=fake_fetch)
    r.start()
    r._thread.join(0.01)
    r.stop()
    assert r.runs == 1 and r.last_error is None and rw_store.data_version() == v0 + 1

    def broken(store, universe):
        raise RuntimeError("provider down")

    r = Refresher(rw_store, u, "daily", fetch=broken)
    r.run_once()
    assert "provider down" in r.last_error


def test_refresh_setting_opens_store_writable(synthetic, tmp_path, monkeypatch):
    from api_synthetic import write_synthetic

    from rotation.api import _refresh

    path = tmp_path / "s.duckdb"
    write_synthetic(path)
    runs = []
    monkeypatch.setattr(_refresh.Refresher, "run_once", lambda self: runs.append(self.store.read_only))
    with TestClient(create_app(path, synthetic[1], ApiSettings(refresh="daily"))) as c:
        assert c.get(f"{V}/health").status_code == 200
        c.app.state.rotation.refresher._thread.join(0.2)
    assert runs == [False]
