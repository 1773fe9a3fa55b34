"""Every endpoint on a synthetic store: results equal the analytics called directly; bad input -> 4xx naming the parameter."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rotation.store import Store
from rotation.universe import load_universe

V = "/api/v1"


def _frame(body: dict) -> pd.DataFrame:
    return pd.DataFrame(body["data"], index=pd.to_datetime(body["index"]), columns=body["columns"], dtype=float)


@pytest.fixture(scope="module")
def panel_of(synthetic):
    from rotation.panel import build_panel

    path, uni = synthetic
    u = load_universe(uni)

    def build(**kw):
        with Store(path, read_only=True) as s:
            return build_panel(s, u, cap_method="backcast", **kw)

    return build


def test_health_version_universe(client):
    h = client.get(f"{V}/health").json()
    assert h["status"] == "ok" and h["version"] and isinstance(h["data_version"], int) and h["data_version"] >= 1
    assert h["store"].endswith("store.duckdb")
    assert client.get(f"{V}/version").json()["api"] == "v1"
    u = client.get(f"{V}/universe").json()
    baskets = {b["name"]: b for b in u["baskets"]}
    assert baskets["crypto"] == {"name": "crypto", "role": "crypto", "weighting": "cap", "members": ["C1", "C2"],
                                 "description": ""}
    inst = {i["symbol"]: i for i in u["instruments"]}
    assert inst["C1"]["asset_class"] == "crypto" and inst["C1"]["sources"] == {"coingecko": "c1"}


def test_instruments_coverage(client):
    rows = client.get(f"{V}/instruments").json()["coverage"]
    by = {(r["symbol"], r["source"]): r for r in rows}
    assert by[("C1", "coingecko")]["first"] == "2019-01-01" and by[("C1", "coingecko")]["last"] == "2022-12-31"
    assert by[("C1", "coingecko")]["rows"] == 1461
    assert by[("A1", "yahoo")]["rows"] == len(pd.bdate_range("2019-01-01", "2022-12-31"))


def test_quality(client):
    body = client.get(f"{V}/quality").json()
    assert isinstance(body["summary"], dict) and body["summary"]
    assert {r["symbol"] for r in body["series"]} >= {"A1", "C1"}
    assert client.get(f"{V}/quality?symbols=ZZZ").json()["parameter"] == "symbols"


def test_panel_matches_build_panel(client, panel_of):
    r = client.get(f"{V}/panel", params={"symbols": "A1,C1", "start": "2021-01-01", "end": "2021-06-30"})
    assert r.status_code == 200, r.text
    got = _frame(r.json())
    want = panel_of(symbols=["A1", "C1"], start="2021-01-01", end="2021-06-30").prices
    pd.testing.assert_frame_equal(got, want[["A1", "C1"]], check_names=False, check_freq=False,
                                  check_index_type=False)
    # returns have a NaN first row: serialised as null, not NaN (strict JSON)
    r = client.get(f"{V}/panel", params={"symbols": "A1", "field": "returns", "frequency": "W"})
    assert r.json()["data"][0] == [None] and "NaN" not in r.text
    caps = _frame(client.get(f"{V}/panel", params={"symbols": "C2", "field": "market_caps"}).json())
    assert caps["C2"].notna().all()


@pytest.mark.parametrize(("query", "parameter"), [
    ({"symbols": "NOPE"}, "symbols"),
    ({"symbols": "A1", "field": "close_ish"}, "field"),
    ({"symbols": "A1", "frequency": "M"}, "frequency"),
    ({"symbols": "A1", "start": "2021-13-01"}, "start"),
    ({"symbols": "A1", "end": "yesterday"}, "end"),
    ({"symbols": "A1", "start": "2022-01-01", "end": "2021-01-01"}, "start"),
    ({"symbols": "A1", "start": "1950-01-01", "end": "2022-01-01"}, "end"),
    ({"symbols": ",".join(f"S{i}" for i in range(201))}, "symbols"),
    ({"symbols": "A1;DROP TABLE"}, "symbols"),
    ({"symbols": "A1", "cap_method": "guess"}, "cap_method"),
    ({}, "symbols"),
])
def test_panel_bad_input_names_parameter(client, query, parameter):
    r = client.get(f"{V}/panel", params=query)
    assert r.status_code == 422, r.text
    assert r.json()["parameter"] == parameter
    assert parameter in r.json()["detail"]


def test_panel_cell_limit(client, monkeypatch):
    from rotation.api import _params

    monkeypatch.setitem(_params.LIMITS, "max_cells", 100)
    r = client.get(f"{V}/panel", params={"symbols": "A1,A2", "start": "2020-01-01", "end": "2020-12-31"})
    assert r.status_code == 422 and r.json()["parameter"] == "symbols" and "cells" in r.json()["detail"]


def test_basket_levels(client, panel_of):
    r = client.get(f"{V}/baskets/levels", params={"baskets": "ai,crypto", "start": "2020-01-01"})
    assert r.status_code == 200, r.text
    body = r.json()
    got = _frame(body)
    assert list(got.columns) == ["ai", "crypto"]
    assert got.iloc[0].tolist() == [100.0, 100.0] and body["base_date"] == body["index"][0]
    p = panel_of(baskets=["ai", "crypto"], start="2020-01-01", frequency="W")
    want = p.basket_levels("crypto", "equal")
    want = want.loc[got.index[0]:] / want.loc[got.index[0]] * 100
    np.testing.assert_allclose(got["crypto"].to_numpy(), want.to_numpy(), rtol=1e-12)
    cap = _frame(client.get(f"{V}/baskets/levels", params={"baskets": "crypto", "weighting": "cap"}).json())
    assert not np.allclose(cap["crypto"].to_numpy(), _frame(
        client.get(f"{V}/baskets/levels", params={"baskets": "crypto"}).json())["crypto"].to_numpy())
    for q, param in (({"baskets": "ai,unicorns"}, "baskets"), ({"weighting": "fair"}, "weighting"),
                     ({"frequency": "Q"}, "frequency")):
        r = client.get(f"{V}/baskets/levels", params=q)
        assert r.status_code == 422 and r.json()["parameter"] == param


def test_rrg_matches_analytics(client, panel_of):
    from rotation.analytics.rrg import rrg

    r = client.get(f"{V}/rrg", params={"baskets": "ai", "symbols": "C1", "benchmark": "SPY", "tail": 3})
    assert r.status_code == 200, r.text
    body = r.json()
    p = panel_of(baskets=["ai"], symbols=["C1", "SPY"], frequency="W")
    levels = pd.DataFrame({"ai": p.basket_levels("ai", "equal"), "C1": p.prices["C1"]})
    want = rrg(levels, p.prices["SPY"].rename("SPY")).to_frame()
    pts = {pt["series"]: pt for pt in body["points"]}
    for name in ("ai", "C1"):
        assert pts[name]["quadrant"] == want.loc[name, "quadrant"]
        assert pts[name]["rs_ratio"] == pytest.approx(want.loc[name, "rs_ratio"], rel=1e-12)
    assert sum(t["series"] == "ai" for t in body["tails"]) == 3
    # a basket benchmark works too
    assert client.get(f"{V}/rrg", params={"baskets": "ai", "benchmark": "bench"}).status_code == 200
    for q, param in (({"ratio_window": 1}, "ratio_window"), ({"momentum_window": 9999}, "momentum_window"),
                     ({"tail": 0}, "tail"), ({"benchmark": "XYZ"}, "benchmark"), ({"symbols": "Q9"}, "symbols"),
                     ({"ratio_window": "ten"}, "ratio_window")):
        r = client.get(f"{V}/rrg", params=q)
        assert r.status_code == 422 and r.json()["parameter"] == param, (q, r.text)


def test_rotation_index_matches_analytics(client, panel_of):
    from rotation.analytics.flows import rotation_index

    r = client.get(f"{V}/rotation-index", params={"a": "ai", "b": "crypto", "window": 8, "smooth": 2})
    assert r.status_code == 200, r.text
    body = r.json()
    p = panel_of(baskets=["ai", "crypto"], frequency="W")
    ri = rotation_index(p.basket_levels("ai", "equal"), p.basket_levels("crypto", "equal"), window=8, smooth=2)
    got = _frame(body["series"])
    np.testing.assert_allclose(got["index"].to_numpy(), ri.index.to_numpy(), rtol=1e-12, equal_nan=True)
    assert len(body["crossings"]) == len(ri.crossings)
    assert body["drift"]["n"] == ri.drift["n"]
    # a start trims the output but the warm-up keeps the index defined from the start
    trimmed = client.get(f"{V}/rotation-index", params={"a": "ai", "b": "crypto", "start": "2021-01-01"}).json()
    assert trimmed["series"]["index"][0] >= "2021-01-01"
    assert trimmed["series"]["data"][0][1] is not None
    for q, param in (({"a": "ai", "b": "ai"}, "b"), ({"a": "nope", "b": "crypto"}, "a"),
                     ({"a": "ai", "b": "crypto", "window": 0}, "window"),
                     ({"a": "ai", "b": "crypto", "smooth": 100}, "smooth")):
        r = client.get(f"{V}/rotation-index", params=q)
        assert r.status_code == 422 and r.json()["parameter"] == param, (q, r.text)


def test_flows_shares(client):
    r = client.get(f"{V}/flows/shares", params={"baskets": "ai,crypto"})
    assert r.status_code == 200, r.text
    shares = _frame(r.json()["shares"]).dropna()
    assert len(shares) > 100
    np.testing.assert_allclose(shares.sum(axis=1).to_numpy(), 1.0)
    assert client.get(f"{V}/flows/shares", params={"baskets": "ai"}).json()["parameter"] == "baskets"


def test_claims_validation(client):
    r = client.get(f"{V}/claims", params={"claims": "R1,R99"})
    assert r.status_code == 422 and r.json()["parameter"] == "claims" and "R99" in r.json()["detail"]
    r = client.get(f"{V}/claims", params={"as_of": "2024-02-30"})
    assert r.status_code == 422 and r.json()["parameter"] == "as_of"


def test_no_file_or_sql_surface(client):
    spec = client.get("/openapi.json").json()
    names = {p["name"] for ops in spec["paths"].values() for op in ops.values() for p in op.get("parameters", [])}
    assert not names & {"path", "file", "sql", "query", "store"}
    assert all(set(ops) == ({"get", "post"} if p == "/api/v1/events" else {"get"}) for p, ops in spec["paths"].items())
    # path traversal through the static routes does not escape
    assert client.get("/static/../../errors.py").status_code == 404


def test_plotly_served_locally(client):
    r = client.get("/static/plotly.min.js")
    assert r.status_code == 200 and "javascript" in r.headers["content-type"] and len(r.content) > 1_000_000
