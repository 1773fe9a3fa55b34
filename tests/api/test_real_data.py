"""Smoke run of the API on the real shared data (read-only store of every ../shared/data file)."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from rotation.api import create_app

V = "/api/v1"


@pytest.fixture(scope="module")
def real_client(real_store, real_universe):
    with TestClient(create_app(real_store, real_universe)) as c:
        yield c


def test_real_health_universe_instruments(real_client, real_store):
    h = real_client.get(f"{V}/health").json()
    assert h["data_version"] == real_store.data_version() and h["status"] == "ok"
    names = {b["name"] for b in real_client.get(f"{V}/universe").json()["baskets"]}
    assert {"ai_compute", "crypto_majors"} <= names
    cov = real_client.get(f"{V}/instruments").json()["coverage"]
    assert any(r["symbol"] == "BTC" for r in cov) and len(cov) > 500  # S&P members are stored too


def test_real_panel_includes_sp500_member(real_client):
    r = real_client.get(f"{V}/panel", params={"symbols": "NVDA,BTC,AAPL", "start": "2024-01-01",
                                              "end": "2024-03-31"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["columns"] == ["NVDA", "BTC", "AAPL"] and body["index"][0] >= "2024-01-02"
    assert all(v is not None for v in body["data"][-1])


def test_real_analytics(real_client):
    lv = real_client.get(f"{V}/baskets/levels", params={"baskets": "ai_compute,crypto_majors", "start": "2023-01-01"})
    assert lv.status_code == 200, lv.text
    assert lv.json()["data"][0] == [100.0, 100.0]
    ri = real_client.get(f"{V}/rotation-index", params={"start": "2023-01-01"})
    assert ri.status_code == 200, ri.text
    assert ri.json()["a"] == "ai_compute" and ri.json()["series"]["index"][-1] >= "2026-06-01"
    rrg = real_client.get(f"{V}/rrg", params={"start": "2025-01-01"})
    assert rrg.status_code == 200, rrg.text
    quads = {p["quadrant"] for p in rrg.json()["points"]}
    assert quads <= {"leading", "weakening", "lagging", "improving", None}
    sh = real_client.get(f"{V}/flows/shares", params={"baskets": "ai_compute,crypto_majors"})
    assert sh.status_code == 200, sh.text


def test_real_claims_ledger(real_client):
    r = real_client.get(f"{V}/claims", params={"claims": "R1", "as_of": "2025-12-31"})
    assert r.status_code == 200, r.text
    ledger = json.loads(r.text)
    assert "R1" in json.dumps(ledger)
    assert real_client.get(f"{V}/claims", params={"claims": "R1", "as_of": "2025-12-31"}).headers["x-cache"] == "hit"
