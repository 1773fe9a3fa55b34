"""/regimes, /flows/stablecoins, /contribution: numbers equal the analytics called directly on the same store;
bad input -> 422 naming the parameter."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from api_synthetic import STABLECOINS, UNIVERSE, write_stablecoins_membership, write_synthetic

from rotation.panel import build_panel
from rotation.store import Store
from rotation.universe import load_universe

V = "/api/v1"

# the synthetic universe plus two USD stablecoins (USDT, USDC) in a stablecoins basket
LAST_UNIVERSE = UNIVERSE + STABLECOINS


def _frame(body: dict) -> pd.DataFrame:
    return pd.DataFrame(body["data"], index=pd.to_datetime(body["index"]), columns=body["columns"], dtype=float)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """(client, store path, universe) on the synthetic store + stablecoin supply + S&P-like membership."""
    from fastapi.testclient import TestClient

    from rotation.api import create_app

    root = tmp_path_factory.mktemp("api-last")
    uni = root / "universe.toml"
    uni.write_text(LAST_UNIVERSE)
    path = root / "store.duckdb"
    write_synthetic(path)
    write_stablecoins_membership(path)  # supply of USDT/USDC; A1, SPY in SP500 throughout, A2 from mid-2020
    with TestClient(create_app(path, uni)) as c:
        yield c, path, load_universe(uni)


def _bad(client, url: str, parameter: str) -> None:
    r = client.get(url)
    assert r.status_code == 422, (url, r.status_code, r.text)
    assert r.json()["parameter"] == parameter, (url, r.json())


# ------------------------------------------------------------------------------------------ regimes
def test_regimes_rotation_index_equals_analytics(env):
    from rotation.analytics.breaks import change_points
    from rotation.analytics.regimes import regimes
    from rotation.cli._regimes import _build_series, _trim

    client, path, uni = env
    r = client.get(f"{V}/regimes", params={"series": "rotation_index", "k": 2, "start": "2020-01-01"})
    assert r.status_code == 200, r.text
    j = r.json()
    with Store(path, read_only=True) as s:
        p = build_panel(s, uni, baskets=["ai", "crypto"], frequency="W", cap_method="backcast")
    y, _, _ = _build_series(p, uni, series=None, basket="ai", vs="crypto", weighting="equal")
    y = _trim(y.loc["2020-01-01":])
    res = regimes(y, 2, periods_per_year=52.0)
    cp = change_points(y, penalty="bic", min_size=10, periods_per_year=52.0)
    assert j["series"] == "ai - crypto" and j["n"] == len(y)
    got = _frame(j["probabilities"])
    pd.testing.assert_frame_equal(got, res.smoothed.set_axis(got.columns, axis=1), check_freq=False,
                                  check_names=False, check_index_type=False, rtol=1e-9)
    assert j["current_state"] == res.current_state
    assert j["spells"] == [{**d, "start": d["start"].date().isoformat(), "end": d["end"].date().isoformat()}
                           for d in res.spells().to_dict("records")]
    assert j["change_points"] == [d.date().isoformat() for d in cp.breaks]
    assert np.allclose([s["mean"] for s in j["states"]], res.means.to_numpy())
    # the dashboard's keys
    assert {"probabilities", "spells", "change_points"} <= set(j)
    assert client.get(f"{V}/regimes", params={"series": "rotation_index", "k": 2, "start": "2020-01-01"}
                      ).headers["X-Cache"] == "hit"


def test_regimes_basket_returns_k3(env):
    from rotation.analytics.regimes import regimes

    client, path, uni = env
    r = client.get(f"{V}/regimes", params={"series": "ai", "k": 3, "order_by": "variance", "start": "2021-01-01"})
    assert r.status_code == 200, r.text
    j = r.json()
    with Store(path, read_only=True) as s:
        p = build_panel(s, uni, baskets=["ai"], frequency="W", cap_method="backcast")
    lv = p.basket("ai", "equal").level
    y = (lv / lv.shift(1) - 1.0).loc["2021-01-01":].dropna()
    res = regimes(y, 3, order_by="variance", periods_per_year=52.0)
    assert j["k"] == 3 and len(j["probabilities"]["columns"]) == 3
    assert np.allclose(_frame(j["probabilities"]).to_numpy(), res.smoothed.to_numpy())


@pytest.mark.parametrize("query,parameter", [
    ("series=nope", "series"),
    ("series=ai,crypto", "series"),
    ("a=nope", "a"),
    ("a=ai&b=ai", "b"),
    ("series=ai&a=crypto", "a"),
    ("k=1", "k"),
    ("k=4", "k"),
    ("k=x", "k"),
    ("order_by=median", "order_by"),
    ("penalty=1e9", "penalty"),
    ("min_size=2", "min_size"),
    ("start=2021-13-01", "start"),
    ("start=2022-01-01&end=2021-01-01", "start"),
    ("weighting=odd", "weighting"),
])
def test_regimes_bad_input(env, query, parameter):
    _bad(env[0], f"{V}/regimes?{query}", parameter)


# ------------------------------------------------------------------------------------------ stablecoins
def test_stablecoins_equals_net_issuance(env):
    from rotation.analytics.flows import net_issuance

    client, path, uni = env
    r = client.get(f"{V}/flows/stablecoins", params={"start": "2021-01-01", "end": "2022-06-30"})
    assert r.status_code == 200, r.text
    j = r.json()
    with Store(path, read_only=True) as s:
        p = build_panel(s, uni, symbols=["USDT", "USDC"], frequency="W", cap_method="backcast")
    supply = p.supply[["USDT", "USDC"]].loc[:"2022-06-30"]
    ni = net_issuance(supply, windows=(4, 13))
    want = ni.issuance.loc["2021-01-01":]
    got = _frame(j["net_issuance"])
    assert list(got.columns) == ["USDT", "USDC", "total"] and j["coins"] == ["USDT", "USDC"]
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-9)
    assert list(got.index) == list(want.index)
    np.testing.assert_allclose(_frame(j["rolling"]["13"]).to_numpy(), ni.rolling[13].loc["2021-01-01":].to_numpy(),
                               rtol=1e-9)
    # warm-up history: the first trailing 13-week sum at start is defined
    assert j["rolling"]["13"]["data"][0][2] is not None
    assert [row["series"] for row in j["summary"]] == ["USDT", "USDC", "total"]


def test_stablecoins_daily_windows(env):
    client = env[0]
    j = client.get(f"{V}/flows/stablecoins", params={"frequency": "D", "windows": "7", "coins": "USDT",
                                                     "start": "2022-01-01"}).json()
    assert j["coins"] == ["USDT"] and j["windows"] == [7] and set(j["rolling"]) == {"7"}
    # D = the panel's sessions: the first session on or after start
    assert j["net_issuance"]["index"][0] == "2022-01-03"


@pytest.mark.parametrize("query,parameter", [
    ("coins=NOPE", "coins"),
    ("coins=US$T", "coins"),
    ("frequency=M", "frequency"),
    ("windows=0", "windows"),
    ("windows=a", "windows"),
    ("windows=1,2,3,4,5,6", "windows"),
    ("end=2022-02-30", "end"),
    ("start=1800-01-01", "start"),
])
def test_stablecoins_bad_input(env, query, parameter):
    _bad(env[0], f"{V}/flows/stablecoins?{query}", parameter)


# ------------------------------------------------------------------------------------------ contribution
def test_contribution_equals_analytics(env):
    from rotation.analytics.concentration import ai_linked_set, contribution, index_members

    client, path, uni = env
    r = client.get(f"{V}/contribution", params={"start": "2020-12-31", "end": "2022-06-30"})
    assert r.status_code == 200, r.text
    j = r.json()
    t0, t1 = pd.Timestamp("2020-12-31"), pd.Timestamp("2022-06-30")
    with Store(path, read_only=True) as s:
        spells = s.read_membership("SP500")
        changes = s.read_index_changes("SP500")
        syms = sorted(set(index_members(spells, t0)) | set(index_members(spells, t1)))
        the_set = ai_linked_set(uni, set(spells["symbol"]))
        p = build_panel(s, uni, symbols=sorted(set(syms) | set(the_set)), start=t0 - pd.Timedelta(days=14), end=t1,
                        cap_method="backcast")
    res = contribution(p, the_set, start=t0, end=t1, constituents=spells, changes=changes, index_name="SP500")
    assert the_set == ["A1", "A2"] and j["members"] == list(res.members)
    want = res.to_frame()
    got = pd.DataFrame(j["contributions"]).set_index("symbol")
    assert list(got.index) == list(want.index)
    np.testing.assert_allclose(got["contribution"].to_numpy(float), want["contribution"].to_numpy(float))
    comp = {row["measure"]: row["computed"] for row in j["comparison"]}
    assert comp["share of total return"] == pytest.approx(res.set_return_share)
    assert comp["share of market-cap increase"] == pytest.approx(res.set_cap_increase_share)


def test_contribution_explicit_members(env):
    j = env[0].get(f"{V}/contribution", params={"start": "2020-12-31", "members": "A1", "linking": "grap"}).json()
    assert j["members"] == ["A1"] and j["linking"] == "grap" and j["set"] == "set"


@pytest.mark.parametrize("query,parameter", [
    ("start=", "start"),
    ("start=2021-02-30", "start"),
    ("start=2021-01-01&end=2020-01-01", "start"),
    ("start=2021-01-01&end=2021-01-01", "end"),
    ("index=NOPE", "index"),
    ("index=a;drop", "index"),
    ("members=ZZZ", "members"),
    ("linking=simple", "linking"),
    ("cap_method=guess", "cap_method"),
])
def test_contribution_bad_input(env, query, parameter):
    _bad(env[0], f"{V}/contribution?{query}", parameter)
