"""/events (GET + POST), /stress, /concentration, /comovement/*, /macro/*: numbers equal the analytics called
directly on the same store; bad input -> 4xx naming the parameter."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from api_synthetic import MACRO, UNIVERSE, write_macro, write_synthetic

from rotation.store import Store
from rotation.universe import load_universe

V = "/api/v1"

# the synthetic universe plus the FRED series of the macro factors and net liquidity
MACRO_UNIVERSE = UNIVERSE + MACRO


def _frame(body: dict) -> pd.DataFrame:
    return pd.DataFrame(body["data"], index=pd.to_datetime(body["index"]), columns=body["columns"], dtype=float)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """(client, store path, universe) on the synthetic store with FRED-like macro series added."""
    from fastapi.testclient import TestClient

    from rotation.api import create_app

    root = tmp_path_factory.mktemp("api-more")
    uni = root / "universe.toml"
    uni.write_text(MACRO_UNIVERSE)
    path = root / "store.duckdb"
    write_synthetic(path)
    write_macro(path)
    with TestClient(create_app(path, uni)) as c:
        yield c, path, load_universe(uni)


def _panel(path, u, **kw):
    from rotation.panel import build_panel

    with Store(path, read_only=True) as s:
        return build_panel(s, u, cap_method="backcast", **kw)


def _ok(r):
    assert r.status_code == 200, r.text
    assert "NaN" not in r.text
    return r.json()


# ------------------------------------------------------------------------------------------ events
def _study(path, u, evset, **kw):
    from rotation.analytics.events import event_study

    p = _panel(path, u, baskets=["ai", "crypto"], symbols=["SPY"])
    data = pd.DataFrame({b: p.basket_returns(b, "equal") for b in ("ai", "crypto")})
    return event_study(data, evset, market=p.returns["SPY"].rename("SPY"), **kw)


def test_events_default_matches_event_study(env):
    from rotation.analytics.events import DEFAULT_WINDOWS
    from rotation.events import load_events

    c, path, u = env
    body = _ok(c.get(f"{V}/events", params={"kinds": "fomc_hike,fomc_hold", "end": "2022-12-31"}))
    evset = load_events().select(["fomc_hike", "fomc_hold"], end="2022-12-31")
    want = _study(path, u, evset, windows=list(DEFAULT_WINDOWS))
    got = pd.DataFrame(body["summary"])
    assert len(got) == len(want.summary) > 0
    np.testing.assert_allclose(got["mean_car"].to_numpy(float), want.summary["mean_car"].to_numpy(float))
    np.testing.assert_allclose(got["p_kp"].to_numpy(float), want.summary["p_kp"].to_numpy(float), equal_nan=True)
    # the CAR paths, pivoted by event day: one column per (kind, basket)
    paths = body["paths"]
    assert paths["index"][0] == min(a for a, _ in DEFAULT_WINDOWS) and "fomc_hike | ai" in paths["columns"]
    wp = want.paths
    j = paths["columns"].index("fomc_hike | ai")
    expect = wp[(wp["kind"] == "fomc_hike") & (wp["group"] == "ai")].set_index("day")["mean_car"]
    np.testing.assert_allclose([row[j] for row in paths["data"]], expect.reindex(paths["index"]).to_numpy())
    assert {e["kind"] for e in body["events"]} == {"fomc_hike", "fomc_hold"}


def test_events_post_user_events(env):
    from rotation.events import Event, EventSet

    c, path, u = env
    events = [{"date": "2021-03-01", "label": "first", "kind": "my_event", "affects": ["ai"]},
              {"date": "2021-09-15", "label": "second", "kind": "my_event", "affects": []},
              {"date": "2022-02-10", "label": "third", "kind": "my_event", "affects": ["crypto", "C1"]}]
    r = c.post(f"{V}/events", json=events, params={"windows": "-1:1,0:5"})
    body = _ok(r)
    evset = EventSet.from_events([Event(pd.Timestamp("2021-03-01").date(), "first", "my_event", ("ai",)),
                                  Event(pd.Timestamp("2021-09-15").date(), "second", "my_event", ("all",)),
                                  Event(pd.Timestamp("2022-02-10").date(), "third", "my_event", ("crypto", "C1"))])
    want = _study(path, u, evset, windows=[(-1, 1), (0, 5)])
    got = pd.DataFrame(body["summary"])
    np.testing.assert_allclose(got["mean_car"].to_numpy(float), want.summary["mean_car"].to_numpy(float))
    assert list(got["window"]) == list(want.summary["window"])
    assert c.post(f"{V}/events", json=events, params={"windows": "-1:1,0:5"}).headers["X-Cache"] == "hit"


@pytest.mark.parametrize(("body", "parameter"), [
    ([], "events"),
    ([{"date": "2021-13-01", "label": "x", "kind": "k"}], "events.0.date"),
    ([{"date": "2021-03-01", "label": "x", "kind": "Bad Kind"}], "events.0.kind"),
    ([{"date": "2021-03-01", "label": "x", "kind": "k", "affects": ["NOPE"]}], "events.0.affects"),
    ([{"date": "2021-03-01", "label": "x", "kind": "k", "affects": ["all", "ai"]}], "events.0.affects"),
    ([{"date": "2021-03-01", "label": " ", "kind": "k"}], "events.0.label"),
    ([{"date": "2021-03-01", "kind": "k"}], "events.0.label"),
    ({"path": "/etc/passwd"}, "events"),
    ("/etc/passwd", "events"),
])
def test_events_post_bad_body(env, body, parameter):
    c, _, _ = env
    r = c.post(f"{V}/events", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["parameter"] == parameter


def test_events_post_size_limited(env):
    c, _, _ = env
    many = [{"date": "2021-03-01", "label": "x", "kind": "k"}] * 501
    r = c.post(f"{V}/events", json=many)
    assert r.status_code == 422 and r.json()["parameter"] == "events"
    huge = [{"date": "2021-03-01", "label": "x" * 200, "kind": "k", "affects": ["crypto"] * 50}] * 499  # ~350 kB
    assert c.post(f"{V}/events", json=huge).status_code == 413


@pytest.mark.parametrize(("query", "parameter"), [
    ({"kinds": "no_such_kind"}, "kinds"),
    ({"kinds": "bad kind!"}, "kinds"),
    ({"baskets": "nope"}, "baskets"),
    ({"windows": "1:-1"}, "windows"),
    ({"windows": "0:999"}, "windows"),
    ({"windows": "a:b"}, "windows"),
    ({"market": "ZZZ"}, "market"),
    ({"estimation": 5}, "estimation"),
    ({"gap": 0, "windows": "-5:5"}, "gap"),
    ({"model": "capm"}, "model"),
    ({"by": "year"}, "by"),
    ({"start": "2022-02-30"}, "start"),
])
def test_events_bad_query(env, query, parameter):
    c, _, _ = env
    r = c.get(f"{V}/events", params=query)
    assert 400 <= r.status_code < 500, r.text
    assert r.json()["parameter"] == parameter


# ------------------------------------------------------------------------------------------ stress
def test_stress_matches_analytics(env):
    from rotation.analytics.stress import stress

    c, path, u = env
    body = _ok(c.get(f"{V}/stress", params={"shock": "ai:-0.1,ai:-15%", "baskets": "ai,crypto",
                                             "start": "2020-01-01"}))
    res = stress(_panel(path, u, baskets=["ai", "crypto"]), {"ai": (-0.1, -0.15)}, baskets=["ai", "crypto"],
                 weighting="equal", start="2020-01-01")
    got, want = pd.DataFrame(body["responses"]), res.to_frame()
    assert len(got) == len(want) > 0
    np.testing.assert_allclose(got["response"].to_numpy(float), want["response"].to_numpy(float), equal_nan=True)
    assert set(got["shock"]) == {-0.1, -0.15}
    dd = pd.DataFrame(body["drawdowns"])
    np.testing.assert_array_equal(dd["episodes"].to_numpy(), res.drawdowns.summary["episodes"].to_numpy())
    assert body["start"] == str(res.start.date())


@pytest.mark.parametrize(("query", "parameter"), [
    ({"shock": "ai"}, "shock"),
    ({"shock": "nope:-0.1"}, "shock"),
    ({"shock": "ai:-1.5"}, "shock"),
    ({"shock": "ai:abc"}, "shock"),
    ({"baskets": "nope"}, "baskets"),
    ({"band": 0}, "band"),
    ({"band": "nan"}, "band"),
    ({"start": "2022-01-01", "end": "2021-01-01"}, "start"),
    ({"weighting": "x"}, "weighting"),
])
def test_stress_bad_query(env, query, parameter):
    c, _, _ = env
    r = c.get(f"{V}/stress", params=query)
    assert 400 <= r.status_code < 500, r.text
    assert r.json()["parameter"] == parameter


# ------------------------------------------------------------------------------------------ concentration
def test_concentration_matches_analytics(env):
    from rotation.analytics.concentration import concentration

    c, path, u = env
    body = _ok(c.get(f"{V}/concentration", params={"basket": "crypto", "k": "1", "min_coverage": 0.5}))
    p = _panel(path, u, baskets=["crypto"])
    last = p.last_observed.reindex(p.market_caps.columns)
    caps = p.market_caps.where(pd.DataFrame(p.market_caps.index.to_numpy()[:, None] <= last.to_numpy()[None, :],
                                            index=p.market_caps.index, columns=p.market_caps.columns))
    res = concentration(dataclasses.replace(p, market_caps=caps), {"crypto": ["C1", "C2"]}, k=[1], min_coverage=0.5)
    pd.testing.assert_frame_equal(_frame(body["hhi"]), res.hhi, check_names=False, check_freq=False,
                                  check_index_type=False)
    snaps = pd.DataFrame(body["snapshots"])
    np.testing.assert_allclose(snaps["hhi"].to_numpy(float), res.to_frame()["hhi"].to_numpy(float))
    # C1 has far fewer units than C2: the basket is concentrated (HHI well above the 1/2 of equal shares)
    assert body["baskets"] == ["crypto"] and snaps["hhi"].iloc[0] > 0.5


@pytest.mark.parametrize(("query", "parameter"), [
    ({"basket": "nope"}, "basket"),
    ({"k": "0"}, "k"),
    ({"k": "x"}, "k"),
    ({"min_coverage": 2}, "min_coverage"),
    ({"end": "soon"}, "end"),
])
def test_concentration_bad_query(env, query, parameter):
    c, _, _ = env
    r = c.get(f"{V}/concentration", params=query)
    assert 400 <= r.status_code < 500, r.text
    assert r.json()["parameter"] == parameter


# ------------------------------------------------------------------------------------------ comovement
def _weekly(path, u, start=None, warmup=0):
    p = _panel(path, u, baskets=["ai", "crypto"], symbols=["SPY"], frequency="W",
               start=None if start is None else pd.Timestamp(start) - pd.Timedelta(weeks=warmup + 1))
    return pd.DataFrame({"ai": p.basket_returns("ai", "equal"), "crypto": p.basket_returns("crypto", "equal"),
                         "SPY": p.returns["SPY"]})


def test_correlation_matches_analytics(env):
    from rotation.analytics.comovement import residual_correlation, rolling_beta, rolling_correlation

    c, path, u = env
    body = _ok(c.get(f"{V}/comovement/correlation", params={"a": "ai", "b": "crypto", "window": 26,
                                                             "start": "2021-01-01"}))
    r = _weekly(path, u, "2021-01-01", 26)
    want = rolling_correlation(r["ai"], r["crypto"], 26).loc["2021-01-01":]
    got = _frame(body["correlation"]).iloc[:, 0]
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), equal_nan=True)
    betas = _frame(body["beta"])
    np.testing.assert_allclose(betas["ai"].to_numpy(), rolling_beta(r[["ai", "crypto"]], r["SPY"], 26)["ai"]
                               .loc["2021-01-01":].to_numpy(), equal_nan=True)
    w = r.loc["2021-01-01":]
    full = residual_correlation(w["ai"], w["crypto"], w["SPY"])
    assert body["summary"][0]["residual_correlation"] == pytest.approx(full.correlation)
    assert body["summary"][0]["p_value_hac"] == pytest.approx(full.p_value)


def test_lead_lag_matches_analytics(env):
    from rotation.analytics.comovement import cross_correlation

    c, path, u = env
    body = _ok(c.get(f"{V}/comovement/lead-lag", params={"x": "ai", "y": "SPY", "max_lag": 4}))
    r = _weekly(path, u)
    ll = cross_correlation(r["ai"], r["SPY"], 4)
    rows = pd.DataFrame(body["lags"])
    assert list(rows["lag"]) == list(range(-4, 5))
    np.testing.assert_allclose(rows["correlation"].to_numpy(float), ll.correlation)
    assert body["peak_lag"] == ll.peak_lag


@pytest.mark.parametrize(("url", "query", "parameter"), [
    ("/comovement/correlation", {"a": "nope"}, "a"),
    ("/comovement/correlation", {"a": "ai", "b": "ai"}, "b"),
    ("/comovement/correlation", {"a": "ai", "b": "crypto", "benchmark": "ai"}, "benchmark"),
    ("/comovement/correlation", {"a": "ai", "b": "crypto", "window": 2}, "window"),
    ("/comovement/correlation", {"a": "ai", "b": "crypto", "window": 9999}, "window"),
    ("/comovement/lead-lag", {"x": "ai", "y": "zz"}, "y"),
    ("/comovement/lead-lag", {"x": "ai", "y": "crypto", "max_lag": 0}, "max_lag"),
    ("/comovement/lead-lag", {"x": "ai", "y": "crypto", "end": "2021-02-31"}, "end"),
])
def test_comovement_bad_query(env, url, query, parameter):
    c, _, _ = env
    r = c.get(f"{V}{url}", params=query)
    assert 400 <= r.status_code < 500, r.text
    assert r.json()["parameter"] == parameter


# ------------------------------------------------------------------------------------------ macro
def test_macro_sensitivity_matches_analytics(env):
    from rotation.analytics.macro import macro_factors, macro_sensitivity, net_liquidity, rolling_macro_sensitivity
    from rotation.panel import macro_panel

    c, path, u = env
    body = _ok(c.get(f"{V}/macro/sensitivity", params={"baskets": "ai,crypto", "window": 52}))
    p = _panel(path, u, baskets=["ai", "crypto"], frequency="W")
    with Store(path, read_only=True) as s:
        macro = macro_panel(s, u, index=p.index)
    levels = pd.DataFrame({b: p.basket_levels(b, "equal") for b in ("ai", "crypto")})
    rets = levels / levels.shift(1) - 1.0
    fac = macro_factors(macro, net_liquidity=net_liquidity(macro))
    sens = macro_sensitivity(rets, fac)
    assert body["factors"] == ["d_DGS2", "d_DFII10", "r_USD", "r_NET_LIQUIDITY"]
    table = pd.DataFrame(body["table"])
    want = sens.to_frame()
    num = [col for col in want.columns if pd.api.types.is_numeric_dtype(want[col])]
    np.testing.assert_allclose(table[num].to_numpy(float), want[num].to_numpy(float), equal_nan=True)
    roll = rolling_macro_sensitivity(rets, fac, window=52)
    np.testing.assert_allclose(_frame(body["betas"])["crypto: d_DGS2"].to_numpy(),
                               roll.params["d_DGS2"]["crypto"].to_numpy(), equal_nan=True)


def test_net_liquidity_matches_analytics(env):
    from rotation.analytics.macro import net_liquidity
    from rotation.panel import macro_panel

    c, path, u = env
    body = _ok(c.get(f"{V}/macro/net-liquidity", params={"start": "2020-01-01", "end": "2021-12-31"}))
    with Store(path, read_only=True) as s:
        nl = net_liquidity(macro_panel(s, u))
    got = _frame(body["net_liquidity"])["net_liquidity"]
    want = nl.level.loc["2020-01-01":"2021-12-31"]
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), equal_nan=True, rtol=1e-12)
    assert got.notna().sum() > 300 and {r["series"] for r in body["summary"]} >= {"net_liquidity", "fed_assets"}


@pytest.mark.parametrize(("url", "query", "parameter"), [
    ("/macro/sensitivity", {"factors": "DGS2,VIX"}, "factors"),
    ("/macro/sensitivity", {"window": 3}, "window"),
    ("/macro/sensitivity", {"usd": "EUR"}, "usd"),
    ("/macro/sensitivity", {"baskets": "nope"}, "baskets"),
    ("/macro/net-liquidity", {"start": "x"}, "start"),
])
def test_macro_bad_query(env, url, query, parameter):
    c, _, _ = env
    r = c.get(f"{V}{url}", params=query)
    assert 400 <= r.status_code < 500, r.text
    assert r.json()["parameter"] == parameter


def test_macro_without_fred_series_is_4xx(client):
    # the shared synthetic store has no macro series: a clear 4xx, never a 500
    for url in ("/macro/net-liquidity", "/macro/sensitivity?baskets=ai,crypto"):
        r = client.get(f"{V}{url}")
        assert 400 <= r.status_code < 500, r.text


def test_only_events_accepts_post_and_json_only(env):
    c, _, _ = env
    spec = c.get("/openapi.json").json()
    methods = {path: set(ops) for path, ops in spec["paths"].items()}
    assert methods[f"{V}/events"] == {"get", "post"}
    assert all(m == {"get"} for p, m in methods.items() if p != f"{V}/events")
    body = spec["paths"][f"{V}/events"]["post"]["requestBody"]["content"]
    assert set(body) == {"application/json"}
    assert set(body["application/json"]["schema"]["items"]["properties"]) == {"date", "label", "kind", "affects"}
