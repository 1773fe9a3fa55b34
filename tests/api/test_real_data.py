"""Smoke run of the API on the real shared data (read-only store of every ../shared/data file)."""

from __future__ import annotations

import json

import pytest
from api_contract import assert_conforms
from fastapi.testclient import TestClient

from rotation.api import _schemas as S
from rotation.api import create_app

V = "/api/v1"


@pytest.fixture(scope="module")
def real_client(real_store, real_universe):
    with TestClient(create_app(real_store, real_universe)) as c:
        yield c


@pytest.fixture(scope="module")
def spec(real_client):
    return real_client.get("/openapi.json").json()


def test_real_health_universe_instruments(real_client, real_store, spec):
    h = assert_conforms(spec, "get", f"{V}/health", real_client.get(f"{V}/health"), S.Health)
    assert h["data_version"] == real_store.data_version() and h["status"] == "ok"
    u = assert_conforms(spec, "get", f"{V}/universe", real_client.get(f"{V}/universe"), S.UniverseOut)
    names = {b["name"] for b in u["baskets"]}
    assert {"ai_compute", "crypto_majors"} <= names
    cov = assert_conforms(spec, "get", f"{V}/instruments", real_client.get(f"{V}/instruments"),
                          S.InstrumentsOut)["coverage"]
    assert any(r["symbol"] == "BTC" for r in cov) and len(cov) > 500  # S&P members are stored too


def test_real_panel_includes_sp500_member(real_client, spec):
    r = real_client.get(f"{V}/panel", params={"symbols": "NVDA,BTC,AAPL", "start": "2024-01-01",
                                              "end": "2024-03-31"})
    assert r.status_code == 200, r.text
    body = assert_conforms(spec, "get", f"{V}/panel", r, S.PanelOut)
    assert body["columns"] == ["NVDA", "BTC", "AAPL"] and body["index"][0] >= "2024-01-02"
    assert all(v is not None for v in body["data"][-1])


def test_real_analytics(real_client, spec):
    lv = real_client.get(f"{V}/baskets/levels", params={"baskets": "ai_compute,crypto_majors", "start": "2023-01-01"})
    assert lv.status_code == 200, lv.text
    assert_conforms(spec, "get", f"{V}/baskets/levels", lv, S.BasketLevelsOut)
    assert lv.json()["data"][0] == [100.0, 100.0]
    ri = real_client.get(f"{V}/rotation-index", params={"start": "2023-01-01"})
    assert ri.status_code == 200, ri.text
    assert_conforms(spec, "get", f"{V}/rotation-index", ri, S.RotationIndexOut)
    assert ri.json()["a"] == "ai_compute" and ri.json()["series"]["index"][-1] >= "2026-06-01"
    rrg = real_client.get(f"{V}/rrg", params={"start": "2025-01-01"})
    assert rrg.status_code == 200, rrg.text
    assert_conforms(spec, "get", f"{V}/rrg", rrg, S.RrgOut)
    quads = {p["quadrant"] for p in rrg.json()["points"]}
    assert quads <= {"leading", "weakening", "lagging", "improving", None}
    sh = real_client.get(f"{V}/flows/shares", params={"baskets": "ai_compute,crypto_majors"})
    assert sh.status_code == 200, sh.text
    assert_conforms(spec, "get", f"{V}/flows/shares", sh, S.SharesOut)


def test_real_claims_ledger(real_client, spec):
    r = real_client.get(f"{V}/claims", params={"claims": "R1", "as_of": "2025-12-31"})
    assert r.status_code == 200, r.text
    assert_conforms(spec, "get", f"{V}/claims", r, S.LedgerOut)
    ledger = json.loads(r.text)
    assert "R1" in json.dumps(ledger)
    assert real_client.get(f"{V}/claims", params={"claims": "R1", "as_of": "2025-12-31"}).headers["x-cache"] == "hit"


@pytest.mark.parametrize(("path", "query", "model"), [
    ("/quality", {"symbols": "NVDA,BTC,USDT,DGS2,WALCL"}, S.QualityOut),
    ("/regimes", {"start": "2020-01-01"}, S.RegimesOut),
    ("/flows/stablecoins", {}, S.StablecoinsOut),
    ("/comovement/correlation", {}, S.CorrelationOut),
    ("/comovement/lead-lag", {}, S.LeadLagOut),
    ("/macro/sensitivity", {}, S.MacroSensitivityOut),
    ("/macro/net-liquidity", {"start": "2024-01-01"}, S.NetLiquidityOut),
    ("/concentration", {}, S.ConcentrationOut),
    ("/contribution", {"start": "2024-12-31"}, S.ContributionOut),
    ("/events", {}, S.EventStudyOut),
    ("/stress", {}, S.StressOut),
    ("/claims", {"claims": "R11", "as_of": "2025-12-31"}, S.LedgerOut),  # a verdict without an interval
])
def test_real_bodies_conform(real_client, spec, path, query, model):
    """Real data has the nulls synthetic data lacks (no-data rows, unrecovered drawdowns, missing intervals)."""
    r = real_client.get(V + path, params=query)
    assert r.status_code == 200, r.text
    assert_conforms(spec, "get", V + path, r, model)
