"""The OpenAPI contract: every endpoint declares a typed 200 and its errors, and real response bodies validate
against the declared pydantic model and the generated JSON schema (synthetic store with every data kind).

Parameter variants cover the shapes that change with a parameter: the event-study cell key (kind, event, pool),
top-k and window-dependent columns, three regimes, daily/weekly frames, notes and nulls.
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from api_contract import V, assert_conforms, declared_model, schema_errors
from api_synthetic import FULL_UNIVERSE, write_full
from pydantic import ValidationError

from rotation.api import _schemas as S

_POSTED = [{"date": "2020-03-16", "label": "a crash", "kind": "crash", "affects": ["ai", "crypto"]},
           {"date": "2021-05-19", "label": "a user event"}]

#: (method, path, query, model); every operation of the spec has at least one case.
CASES: list[tuple[str, str, dict, type]] = [
    ("get", "/health", {}, S.Health),
    ("get", "/version", {}, S.VersionOut),
    ("get", "/universe", {}, S.UniverseOut),
    ("get", "/instruments", {}, S.InstrumentsOut),
    ("get", "/quality", {}, S.QualityOut),
    ("get", "/quality", {"symbols": "A1,DGS2,USDT"}, S.QualityOut),
    ("get", "/panel", {"symbols": "A1,C1", "start": "2021-01-01", "end": "2021-06-30"}, S.PanelOut),
    ("get", "/panel", {"symbols": "A1,USDT", "field": "volume_usd", "frequency": "W"}, S.PanelOut),
    ("get", "/panel", {"symbols": "C2", "field": "returns", "frequency": "W"}, S.PanelOut),
    ("get", "/baskets/levels", {}, S.BasketLevelsOut),
    ("get", "/baskets/levels", {"baskets": "ai,crypto,stablecoins", "frequency": "D", "weighting": "cap"},
     S.BasketLevelsOut),
    ("get", "/rrg", {}, S.RrgOut),
    ("get", "/rrg", {"symbols": "A1,C1", "benchmark": "bench", "tail": 3, "start": "2022-01-01"}, S.RrgOut),
    ("get", "/rotation-index", {"a": "ai", "b": "crypto", "start": "2021-01-01"}, S.RotationIndexOut),
    ("get", "/regimes", {"series": "ai", "k": 3, "order_by": "variance", "start": "2021-01-01"}, S.RegimesOut),
    ("get", "/flows/shares", {}, S.SharesOut),
    ("get", "/flows/stablecoins", {}, S.StablecoinsOut),
    ("get", "/flows/stablecoins", {"frequency": "D", "windows": "7", "coins": "USDT", "start": "2022-01-01"},
     S.StablecoinsOut),
    ("get", "/comovement/correlation", {"a": "ai", "b": "crypto", "window": 26}, S.CorrelationOut),
    ("get", "/comovement/lead-lag", {"x": "ai", "y": "SPY", "max_lag": 4}, S.LeadLagOut),
    ("get", "/macro/sensitivity", {"baskets": "ai,crypto", "window": 52}, S.MacroSensitivityOut),
    ("get", "/macro/net-liquidity", {"start": "2020-01-01", "end": "2021-12-31"}, S.NetLiquidityOut),
    ("get", "/concentration", {}, S.ConcentrationOut),
    ("get", "/concentration", {"basket": "crypto,ai", "k": "1,2,5", "min_coverage": 1.0}, S.ConcentrationOut),
    ("get", "/contribution", {"start": "2020-12-31", "end": "2022-06-30"}, S.ContributionOut),
    ("get", "/contribution", {"start": "2020-12-31", "members": "A1", "linking": "grap"}, S.ContributionOut),
    ("get", "/events", {"end": "2022-12-31"}, S.EventStudyOut),
    ("get", "/events", {"by": "event", "kinds": "fomc_hike", "windows": "-1:1"}, S.EventStudyOut),
    ("get", "/events", {"by": "all", "model": "mean", "market": "bench"}, S.EventStudyOut),
    ("post", "/events", {"windows": "-1:1,0:5"}, S.EventStudyOut),
    ("get", "/stress", {}, S.StressOut),
    ("get", "/stress", {"shock": "ai:-0.1,ai:-15%", "baskets": "ai,crypto", "band": 0.05}, S.StressOut),
    ("get", "/claims", {"claims": "R1"}, S.Error),  # the shipped claims need the real universe: see test_real_data
]


#: What a variant is there for: (path, query as JSON) -> a predicate of its body.
REACHES = {
    ("/events", json.dumps({"end": "2022-12-31"})): lambda b: b["key"] == "kind" and b["excluded"],
    ("/events", json.dumps({"by": "event", "kinds": "fomc_hike", "windows": "-1:1"})): lambda b: b["key"] == "event",
    ("/events", json.dumps({"by": "all", "model": "mean", "market": "bench"})): lambda b: b["key"] == "pool",
    ("/concentration", json.dumps({"basket": "crypto,ai", "k": "1,2,5", "min_coverage": 1.0})):
        lambda b: {"top_1", "top_2", "top_5"} <= set(b["snapshots"][0]) and set(b["top"]) == {"1", "2", "5"},
    ("/flows/stablecoins", json.dumps({"frequency": "D", "windows": "7", "coins": "USDT", "start": "2022-01-01"})):
        lambda b: {"issuance_7", "growth_7"} <= set(b["summary"][0]) and set(b["rolling"]) == {"7"},
    ("/regimes", json.dumps({"series": "ai", "k": 3, "order_by": "variance", "start": "2021-01-01"})):
        lambda b: len(b["states"]) == 3 and len(b["transition"]) == 3 and b["notes"],
    ("/panel", json.dumps({"symbols": "A1,USDT", "field": "volume_usd", "frequency": "W"})):
        lambda b: b["columns"] == ["A1", "USDT"] and all(row[1] is None for row in b["data"]),  # USDT: no volume
    ("/panel", json.dumps({"symbols": "C2", "field": "returns", "frequency": "W"})): lambda b: b["data"][0] == [None],
    ("/stress", json.dumps({"shock": "ai:-0.1,ai:-15%", "baskets": "ai,crypto", "band": 0.05})):
        lambda b: {r["shock"] for r in b["responses"]} == {-0.1, -0.15},
}


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    """(client, spec) on the synthetic store with macro series, stablecoins and an index membership."""
    from fastapi.testclient import TestClient

    from rotation.api import create_app

    root = tmp_path_factory.mktemp("api-contract")
    (root / "universe.toml").write_text(FULL_UNIVERSE)
    write_full(root / "store.duckdb")
    with TestClient(create_app(root / "store.duckdb", root / "universe.toml")) as c:
        yield c, c.get("/openapi.json").json()


def _call(client, method: str, path: str, query: dict):
    if method == "post":
        return client.post(V + path, params=query, json=_POSTED)
    return client.get(V + path, params=query)


def _operations(spec: dict) -> set[tuple[str, str]]:
    return {(m, p) for p, ops in spec["paths"].items() for m in ops}


def test_every_operation_has_a_case(full):
    _, spec = full
    assert {(m, V + p) for m, p, _, _ in CASES} == _operations(spec)
    assert set(REACHES) <= {(p, json.dumps(q)) for _, p, q, _ in CASES}  # no check silently unused


@pytest.mark.parametrize(("method", "path", "query", "model"), CASES,
                         ids=[f"{m} {p} {json.dumps(q)}" for m, p, q, _ in CASES])
def test_body_conforms_to_model_and_spec(full, method, path, query, model):
    client, spec = full
    r = _call(client, method, path, query)
    assert r.status_code == (422 if model is S.Error else 200), r.text
    body = assert_conforms(spec, method, V + path, r, model)
    if model is S.Error:
        assert body["parameter"] is None and body["detail"]
    reached = REACHES.get((path, json.dumps(query)))
    if reached is not None:  # the variant produces the shape it is in the list for
        assert reached(body), (path, query)


def test_spec_declares_typed_200_and_every_error(full):
    _, spec = full
    schemas = spec["components"]["schemas"]
    meta = {f"{V}/health", f"{V}/version", f"{V}/universe"}
    for method, path in _operations(spec):
        responses = spec["paths"][path][method]["responses"]
        name = declared_model(spec, method, path)
        assert schemas[name]["type"] == "object" and schemas[name]["properties"], (path, name)
        assert schemas[name].get("additionalProperties") is False, (path, name)
        want = {"200", "400", "401", "413", "503"} | (set() if path in meta else {"404", "422"})
        assert set(responses) == want, (method, path, sorted(responses))
        for status in want - {"200"}:
            assert declared_model(spec, method, path, int(status)) == "Error", (method, path, status)
        if path not in meta:
            assert set(responses["200"]["headers"]) == {"X-Cache", "X-Data-Version"}, path
    # every field of every response model is documented
    undocumented = [f"{n}.{f}" for n, s in schemas.items() if n not in {"UserEvent"}
                    for f, p in s.get("properties", {}).items() if "description" not in p and "$ref" not in p]
    assert not undocumented, undocumented


def test_error_bodies_conform(full, tmp_path):
    from fastapi.testclient import TestClient

    from rotation.api import ApiSettings, create_app

    client, spec = full
    r = client.get(f"{V}/panel", params={"symbols": "A1", "start": "2021-13-01"})
    assert r.status_code == 422 and assert_conforms(spec, "get", f"{V}/panel", r, S.Error)["parameter"] == "start"
    r = client.get(f"{V}/rrg", params={"tail": "many"})  # request validation (not a ParameterError) -> same body
    assert r.status_code == 422 and assert_conforms(spec, "get", f"{V}/rrg", r, S.Error)["parameter"] == "tail"
    r = client.post(f"{V}/events", content=b"[" + b" " * 300_000 + b"]", headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert_conforms(spec, "post", f"{V}/events", r, S.Error)
    path = tmp_path / "store.duckdb"
    (tmp_path / "universe.toml").write_text(FULL_UNIVERSE)
    write_full(path)
    with TestClient(create_app(path, tmp_path / "universe.toml", ApiSettings(token="s3cret"))) as c:
        r = c.get(f"{V}/health")
        assert r.status_code == 401
        assert assert_conforms(spec, "get", f"{V}/health", r, S.Error)["parameter"] == "Authorization"


def test_cached_bytes_are_served_without_validation(synthetic):
    """The hot path: a cache hit is the stored bytes as they are. FastAPI passes a returned Response through, so
    the response_model is not applied at run time (else this body, invalid for PanelOut, would be a 500)."""
    from fastapi.testclient import TestClient

    from rotation.api import create_app

    path, uni = synthetic
    with TestClient(create_app(path, uni)) as c:
        q = {"symbols": "A1", "start": "2021-01-01", "end": "2021-01-31"}
        first = c.get(f"{V}/panel", params=q)
        assert first.headers["X-Cache"] == "miss"
        cache = c.app.state.rotation.cache
        ((key, stored),) = cache._data.items()
        assert first.content == stored  # the computed body is what is cached, byte for byte
        cache._data[key] = b'{"not":"a panel"}'
        hit = c.get(f"{V}/panel", params=q)
        assert hit.status_code == 200 and hit.headers["X-Cache"] == "hit"
        assert hit.content == b'{"not":"a panel"}'


# ------------------------------------------------------------------------------------------ the checks can fail
def test_drifted_bodies_are_rejected(full):
    """An extra key, a missing key, a wrong type, a ragged frame or a bad date fails the model and the schema."""
    client, spec = full
    good = client.get(f"{V}/baskets/levels").json()
    path = f"{V}/baskets/levels"
    assert not schema_errors(spec, "get", path, good)
    bad_bodies = [
        {**good, "surprise": 1},
        {k: v for k, v in good.items() if k != "base_date"},
        {**good, "weighting": "sideways"},
        {**good, "data": [[*good["data"][0], 1.0], *good["data"][1:]]},  # ragged: the model's shape check
        {**good, "index": ["03/01/2020", *good["index"][1:]]},
        {**good, "data": [["1.0", *good["data"][0][1:]], *good["data"][1:]]},
    ]
    for i, body in enumerate(bad_bodies):
        with pytest.raises(ValidationError):
            S.BasketLevelsOut.model_validate(body, strict=True)
        if i != 3:  # JSON schema cannot express equal row lengths
            assert schema_errors(spec, "get", path, body), i
    row = client.get(f"{V}/events", params={"end": "2022-12-31"}).json()["summary"][0]
    with pytest.raises(ValidationError, match="exactly one"):
        S.EventSummaryRow.model_validate({**row, "event": "x"}, strict=True)
    snap = client.get(f"{V}/concentration").json()["snapshots"][0]
    with pytest.raises(ValidationError):
        S.ConcentrationSnapshot.model_validate({**snap, "top_1": "big"}, strict=True)


def test_ledger_model_covers_verdicts_and_pending_claims(full):
    """LedgerOut on ``Ledger.to_json`` of every entry kind (the real-store test covers the shipped claims)."""
    from rotation.claims._verdict import Effect, Interval, Ledger, PendingClaim, Verdict

    _, spec = full
    v = Verdict("R1", "a claim", "supported", "CI excludes 0", effect=Effect(0.1, "log return", "gap"),
                interval=Interval(0.01, 0.2, 0.95, "bootstrap"), p_value=0.01,
                window=(pd.Timestamp("2021-01-01"), pd.Timestamp("2022-01-01")), baskets=("ai",),
                data=pd.DataFrame({"symbol": ["A1"], "source": ["yahoo"], "first_date": [pd.Timestamp("2019-01-02")],
                                   "last_observed": [pd.NaT]}),
                statistics={"n": 52, "ratio": float("nan"), "label": "x", "flag": True},
                parameters={"window_weeks": 13, "baskets": ["ai", "crypto"]},
                evidence={"path": pd.DataFrame({"date": pd.to_datetime(["2021-01-01"]), "value": [1.5]})},
                as_of=pd.Timestamp("2022-06-30"))
    short = Verdict("R2", "another", "insufficient data", "needs data", missing=("prices of X",))
    ledger = Ledger((v, short, PendingClaim("R3", "not coded yet")), as_of=pd.Timestamp(dt.date(2022, 6, 30)))
    body = json.loads(ledger.to_json(indent=None))
    out = S.LedgerOut.model_validate(body, strict=True)
    assert [type(c).__name__ for c in out.claims] == ["ClaimVerdict", "ClaimVerdict", "PendingClaimOut"]
    assert not schema_errors(spec, "get", f"{V}/claims", body)
    body["claims"][2]["verdict"] = "supported"  # a pending claim never has a verdict
    with pytest.raises(ValidationError):
        S.LedgerOut.model_validate(body, strict=True)
    assert schema_errors(spec, "get", f"{V}/claims", body)
