"""Concentration (HHI, top-k) and index contribution (buy and hold, linked daily)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose

from rotation.analytics.concentration import (
    PUBLISHED_CAP_INCREASE_SHARE,
    PUBLISHED_RETURN_SHARE,
    PUBLISHED_SINCE,
    SP500_TICKER_CHANGES,
    ai_linked_set,
    index_window,
    concentration,
    contribution,
    index_members,
    link_contributions,
)
from rotation.errors import DataError, ParameterError, UniverseError
from rotation.panel import basket_index

D = pd.date_range("2024-01-01", periods=6, freq="D")


# =============================================================================== concentration
def test_equal_shares_closed_form():
    # n equal caps: H = 1/n, N_eff = n, top-k = k/n, normalised H = 0 (closed form).
    for n in (1, 2, 5, 12):
        caps = pd.DataFrame(7.0, index=D, columns=[f"S{i}" for i in range(n)])
        res = concentration(caps, k=(1, 3, 20))
        assert_allclose(res.hhi["all"], 1.0 / n, rtol=1e-15)
        assert_allclose(res.effective_number["all"], float(n), rtol=1e-13)
        assert_allclose(res.top[1]["all"], 1.0 / n, rtol=1e-15)
        assert_allclose(res.top[3]["all"], min(3, n) / n, rtol=1e-15)
        assert_allclose(res.top[20]["all"], 1.0, rtol=1e-15)
        if n > 1:
            assert_allclose(res.hhi_normalised["all"], 0.0, atol=1e-15)
        else:
            assert res.hhi_normalised["all"].isna().all()


def test_hand_example_with_missing_members():
    # Provenance: by hand. Caps A 50, B 30, C 20 (D has no cap that day, E has no column):
    #   shares .5 .3 .2; H = .25 + .09 + .04 = .38; N_eff = 1/.38 = 2.6316;
    #   normalised (.38 - 1/3)/(1 - 1/3) = .07; top-1 .5 (A), top-3 1.0; coverage 3 of 5 configured.
    # Row 1: D appears with 100 -> shares .25 .15 .10 .50; H = .0625 + .0225 + .01 + .25 = .345, leader D.
    caps = pd.DataFrame({"A": [50.0, 50.0], "B": [30.0, 30.0], "C": [20.0, 20.0], "D": [np.nan, 100.0]},
                        index=D[:2])
    res = concentration(caps, {"b": ["A", "B", "C", "D", "E"]}, k=(1, 3))
    assert_allclose(res.hhi["b"], [0.38, 0.345])
    assert_allclose(res.effective_number["b"], [1 / 0.38, 1 / 0.345])
    assert_allclose(res.hhi_normalised["b"].iloc[0], 0.07)
    assert_allclose(res.hhi_normalised["b"].iloc[1], (0.345 - 0.25) / 0.75)
    assert_allclose(res.top[1]["b"], [0.5, 0.5])
    assert_allclose(res.top[3]["b"], [1.0, 0.9])
    assert list(res.leader["b"]) == ["A", "D"]
    assert_allclose(res.n_with_cap["b"], [3, 4])
    assert_allclose(res.coverage["b"], [3 / 5, 4 / 5])
    assert res.missing["b"] == ["E"] and res.never_capped["b"] == []
    assert_allclose(res.shares["b"].iloc[0], [0.5, 0.3, 0.2, np.nan])
    assert any("no data for E" in n for n in res.notes)


def _reference(caps: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Row-by-row reference with Python lists (an independent, loop-based implementation)."""
    hhi, top = [], []
    for row in caps:
        vals = [v for v in row if np.isfinite(v)]
        tot = sum(vals)
        if not vals or tot <= 0:
            hhi.append(np.nan)
            top.append(np.nan)
            continue
        shares = sorted((v / tot for v in vals), reverse=True)
        hhi.append(sum(s * s for s in shares))
        top.append(sum(shares[:k]))
    return np.array(hhi), np.array(top)


def test_matches_row_by_row_reference():
    rng = np.random.default_rng(3)
    caps = rng.lognormal(3, 1.5, size=(300, 9))
    caps[rng.random(caps.shape) < 0.3] = np.nan
    caps[5] = np.nan  # a row without any cap
    frame = pd.DataFrame(caps, index=pd.date_range("2020-01-01", periods=300), columns=list("ABCDEFGHI"))
    res = concentration(frame, k=(1, 2, 4))
    for k in (1, 2, 4):
        ref_h, ref_top = _reference(caps, k)
        assert_allclose(res.hhi["all"], ref_h, rtol=1e-12)
        assert_allclose(res.top[k]["all"], ref_top, rtol=1e-12)
    assert res.hhi["all"].iloc[5] != res.hhi["all"].iloc[5]  # NaN
    # scale invariance: shares do not depend on the currency unit
    assert_allclose(concentration(frame * 1e9).hhi["all"], res.hhi["all"], rtol=1e-12)
    # bounds: 1/n <= H <= 1, top-1 <= top-2 <= top-4
    ok = res.hhi["all"].notna()
    assert (res.hhi["all"][ok] >= 1.0 / res.n_with_cap["all"][ok] - 1e-12).all()
    assert (res.hhi["all"][ok] <= 1.0 + 1e-12).all()
    assert (res.top[1]["all"][ok] <= res.top[2]["all"][ok] + 1e-15).all()
    assert (res.top[2]["all"][ok] <= res.top[4]["all"][ok] + 1e-15).all()


def test_min_members_and_coverage():
    caps = pd.DataFrame({"A": [1.0, 1.0, 1.0], "B": [np.nan, 1.0, 1.0], "C": [np.nan, np.nan, 2.0]}, index=D[:3])
    res = concentration(caps, {"x": ["A", "B", "C", "D"]}, min_members=2, min_coverage=0.5)
    # row 0: 1 member (< 2) -> NaN; row 1: 2 of 4 = .5 -> defined; row 2: 3 of 4
    assert np.isnan(res.hhi["x"].iloc[0]) and pd.isna(res.leader["x"].iloc[0])
    assert_allclose(res.hhi["x"].iloc[1:], [0.5, 0.25 * 2 / 4 + 0.25])  # (1/4)^2*2 + (1/2)^2 = .375
    res2 = concentration(caps, {"x": ["A", "B", "C", "D"]}, min_coverage=0.75)
    assert res2.hhi["x"].isna().sum() == 2
    # a zero cap is a member with share 0
    zero = concentration(pd.DataFrame({"A": [0.0], "B": [4.0]}, index=D[:1]))
    assert_allclose(zero.hhi["all"], 1.0)
    assert_allclose(zero.n_with_cap["all"], 2)


def test_concentration_errors():
    caps = pd.DataFrame({"A": [1.0, 2.0], "B": [1.0, 1.0]}, index=D[:2])
    with pytest.raises(ParameterError, match="k"):
        concentration(caps, k=0)
    with pytest.raises(ParameterError, match="min_members"):
        concentration(caps, min_members=0)
    with pytest.raises(ParameterError, match="min_coverage"):
        concentration(caps, min_coverage=1.5)
    with pytest.raises(ParameterError, match="mapping name -> members"):
        concentration(caps, ["ai_compute"])
    with pytest.raises(DataError, match="none of its members"):
        concentration(caps, {"x": ["Q", "R"]})
    with pytest.raises(DataError, match="negative"):
        concentration(caps.assign(A=[-1.0, 2.0]))
    with pytest.raises(ParameterError, match="DatetimeIndex"):
        concentration(caps.reset_index(drop=True))
    with pytest.raises(ParameterError, match="Panel or a DataFrame"):
        concentration(caps["A"].to_numpy())


def test_snapshots_and_at():
    idx = pd.bdate_range("2020-01-01", "2024-06-28")
    a = np.linspace(1.0, 9.0, len(idx))
    caps = pd.DataFrame({"A": a, "B": 10.0 - a}, index=idx)
    caps.loc["2024-06-24":, "B"] = np.nan
    res = concentration(caps, {"x": ["A", "B"]}, min_members=2)
    snap = res.snapshots((0, 1, 3))
    assert list(snap["when"]) == ["latest", "1y ago", "3y ago"]
    # latest defined date is the last with both caps; 1y/3y are the last sessions on or before then
    assert snap["date"].iloc[0] == pd.Timestamp("2024-06-21")
    assert snap["date"].iloc[1] == pd.Timestamp("2023-06-21")
    assert snap["date"].iloc[2] == pd.Timestamp("2021-06-21")
    for _, row in snap.iterrows():
        assert_allclose(row["hhi"], res.hhi["x"].loc[row["date"]])
    at = res.at("2022-01-01")  # a Saturday: the Friday before
    assert at["date"].iloc[0] == pd.Timestamp("2021-12-31")
    before = res.at("2019-01-01")
    assert pd.isna(before["date"].iloc[0]) and np.isnan(before["hhi"].iloc[0])
    assert res.to_frame().equals(res.snapshots())
    with pytest.raises(ParameterError, match="years"):
        res.snapshots((-1,))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=arrays(np.float64, (40, 4), elements=st.one_of(st.just(np.nan), st.floats(0.0, 1e6))),
    cut=st.integers(1, 39),
)
def test_concentration_is_look_ahead_free(data, cut):
    idx = pd.date_range("2021-01-01", periods=40)
    full = pd.DataFrame(data, index=idx, columns=list("ABCD"))
    a = concentration(full, k=(1, 2), min_members=1)
    b = concentration(full.iloc[:cut], k=(1, 2), min_members=1)
    for fa, fb in ((a.hhi, b.hhi), (a.top[2], b.top[2]), (a.effective_number, b.effective_number),
                   (a.n_with_cap, b.n_with_cap)):
        assert_allclose(fa.loc[fb.index].to_numpy(), fb.to_numpy(), rtol=0, atol=0, equal_nan=True)


# =============================================================================== linking
def test_linking_hand_example():
    # Provenance: two members, two periods, c = [[.08, .02], [-.01, -.04]] -> r = (.10, -.05),
    # R = 1.10 * .95 - 1 = .045. Values from the closed forms evaluated with Python's decimal
    # module at 40 digits (independent of numpy):
    #   Carino: k = (ln 1.1/.1, ln .95/-.05) = (0.95310179804, 1.02586588775), K = ln 1.045/.045 = 0.97815300926
    #           -> (0.067463356285905858, -0.022463356285905858)
    #   Menchero: M = 1.011126207506521818, alpha = -0.444504830026087270
    #           -> (0.067000543470234785, -0.022000543470234785)
    #   GRAP: (.08 + 1.1 * -.01, .02 + 1.1 * -.04) = (.069, -.024)
    c = pd.DataFrame([[0.08, 0.02], [-0.01, -0.04]], columns=["A", "B"])
    assert_allclose(link_contributions(c, "carino"), [0.067463356285905858, -0.022463356285905858], rtol=1e-14)
    assert_allclose(link_contributions(c, "menchero"), [0.067000543470234785, -0.022000543470234785], rtol=1e-14)
    assert_allclose(link_contributions(c, "grap"), [0.069, -0.024], rtol=1e-14)


@settings(max_examples=60, deadline=None)
@given(
    c=arrays(np.float64, st.tuples(st.integers(1, 30), st.integers(1, 5)), elements=st.floats(-0.05, 0.05)),
    method=st.sampled_from(["carino", "menchero", "grap"]),
)
def test_linked_contributions_add_up_to_compound_return(c, method):
    frame = pd.DataFrame(c)
    linked = link_contributions(frame, method)
    compound = np.prod(1.0 + c.sum(axis=1)) - 1.0
    assert_allclose(linked.sum(), compound, rtol=1e-10, atol=1e-14)


def test_linking_zero_returns_and_errors():
    zero = pd.DataFrame(np.zeros((3, 2)))
    for m in ("carino", "menchero", "grap"):
        assert_allclose(link_contributions(zero, m), [0.0, 0.0])
    # periods cancelling exactly (R = 0) still link without dividing by zero
    flat = pd.DataFrame([[0.1, 0.0], [-0.1 / 1.1, 0.0]])
    for m in ("carino", "menchero", "grap"):
        out = link_contributions(flat, m)
        assert np.isfinite(out).all() and abs(out.sum()) < 1e-15
    with pytest.raises(ParameterError, match="method"):
        link_contributions(zero, "frongello")
    with pytest.raises(DataError, match="-100%"):
        link_contributions(pd.DataFrame([[-0.6, -0.5]]), "carino")
    with pytest.raises(ParameterError, match="no periods"):
        link_contributions(pd.DataFrame(columns=["A"]), "grap")


# =============================================================================== contribution
def _three_stocks(issuance: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    idx = pd.DatetimeIndex(["2023-01-02", "2023-01-03", "2023-01-04"])
    prices = pd.DataFrame({"A": [10.0, 12.0, 15.0], "B": [5.0, 4.0, 4.5], "C": [20.0, 22.0, 18.0]}, index=idx)
    shares = pd.DataFrame({"A": [10.0] * 3, "B": [20.0, 20.0, 30.0 if issuance else 20.0], "C": [5.0] * 3},
                          index=idx)
    return prices * shares, prices


def test_buy_and_hold_hand_example():
    # Provenance: by hand. Constant shares A 10, B 20, C 5 -> caps 100/100/100 at the start (w = 1/3),
    # returns +50%, -10%, -10%: contributions 1/6, -1/30, -1/30, index return 1/10; caps end 150, 90, 90.
    # A's share: (1/6)/(1/10) = 5/3 of the return and 50/30 of the cap increase (> 100%: the others fell).
    # Daily: day 1 w = 1/3 each, r = (.2, -.2, .1) -> r1 = 1/30; day 2 w = (120, 80, 110)/310,
    # r = (.25, .125, -2/11) -> r2 = 20/310; (1 + 1/30)(1 + 2/31) - 1 = 1/10.
    caps, prices = _three_stocks()
    res = contribution(caps, ["A"], prices=prices, start="2023-01-02", end="2023-01-04", linking="grap")
    assert_allclose(res.index_return, 0.1, rtol=1e-14)
    assert_allclose(res.index_return_linked, 0.1, rtol=1e-14)
    t = res.table
    assert_allclose(t["weight_start"], [1 / 3] * 3)
    assert_allclose(t["return"], [0.5, -0.1, -0.1])
    assert_allclose(t["contribution"], [1 / 6, -1 / 30, -1 / 30])
    assert_allclose(t["cap_change"], [50.0, -10.0, -10.0])
    assert_allclose(res.set_return_share, 5 / 3)
    assert_allclose(res.set_cap_increase_share, 5 / 3)
    assert_allclose(res.cap_start, 300.0) and assert_allclose(res.cap_end, 330.0)
    assert_allclose(res.daily["index_return"], [1 / 30, 20 / 310])
    assert_allclose(res.daily["index_cumulative"].iloc[-1], 0.1)
    assert_allclose(res.daily["set_weight"], [120 / 310, 150 / 330])
    assert_allclose(res.set_weight_start, 1 / 3) and assert_allclose(res.set_weight_end, 150 / 330)
    # GRAP on a buy-and-hold (constant-share) index reproduces the buy-and-hold contributions
    assert_allclose(t["linked_contribution"], t["contribution"], rtol=1e-13)
    assert abs(res.linked_residual) < 1e-15
    assert any("Constant shares" in n for n in res.notes)
    assert any("membership was not checked" in n for n in res.notes)
    # B and C: shares of a positive total with negative contributions
    other = contribution(caps, ["B", "C"], prices=prices, start="2023-01-02", end="2023-01-04")
    assert_allclose(other.set_return_share, -2 / 3)
    assert_allclose(other.set_return_share + res.set_return_share, 1.0)


def test_issuance_separates_cap_increase_from_return():
    # B issues 10 shares on the last day (cap 90 -> 135): the cap increase becomes 50 + 35 - 10 = 75, so A's
    # share of it is 50/75, while its share of the return (start weights x price returns) stays 5/3.
    caps, prices = _three_stocks(issuance=True)
    res = contribution(caps, ["A"], prices=prices, start="2023-01-02", end="2023-01-04")
    assert_allclose(res.set_cap_increase_share, 50 / 75)
    assert_allclose(res.set_return_share, 5 / 3)
    assert not any(n.startswith("Constant shares") for n in res.notes)
    assert any("2 of 3 constituents have caps that move exactly" in n for n in res.notes)
    # the linked contributions still add up to the daily index's compound return
    assert abs(res.linked_residual) < 1e-15
    assert_allclose(res.table["linked_contribution"].sum(), res.index_return_linked, rtol=1e-14)


def _random_index(seed: int = 5, n: int = 12, t: int = 260, constant: bool = True):
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2022-06-01", periods=t)
    px = pd.DataFrame(50 * np.exp(np.cumsum(rng.normal(0.0004, 0.02, (t, n)), axis=0)), index=idx,
                      columns=[f"S{i:02d}" for i in range(n)])
    shares = rng.lognormal(20, 1, n)
    caps = px * shares
    if not constant:
        caps = caps * np.exp(np.cumsum(rng.normal(0, 0.003, (t, n)), axis=0))
    return caps, px


@pytest.mark.parametrize("constant", [True, False])
def test_daily_index_matches_basket_index(constant):
    # Reference: rotation.panel.basket_index, a cap-weighted index reset daily to C_{t-1} weights.
    caps, px = _random_index(constant=constant)
    res = contribution(caps, ["S00", "S03"], prices=px, start="2022-08-01", end="2023-03-31")
    window = px.loc[res.start : res.end]
    ref = basket_index(window, weighting="cap", caps=caps.loc[res.start : res.end], rebalance="D")
    assert_allclose(res.daily["index_return"], ref.returns.iloc[1:], rtol=1e-12)
    level = ref.level.iloc[-1] / ref.level.iloc[0] - 1.0
    assert_allclose(res.index_return_linked, level, rtol=1e-12)
    if constant:
        # constant shares: the daily-rebalanced cap index is the buy-and-hold index
        assert_allclose(res.index_return, res.index_return_linked, rtol=1e-12)
        grap = contribution(caps, ["S00", "S03"], prices=px, start="2022-08-01", end="2023-03-31", linking="grap")
        assert_allclose(grap.table["linked_contribution"], grap.table["contribution"], rtol=1e-10, atol=1e-15)


def test_gaps_are_held_at_last_price():
    caps, px = _random_index()
    px.iloc[100:110, 2] = np.nan
    caps.iloc[100:110, 2] = np.nan
    px.iloc[-30:, 4] = np.nan  # data ends early: held at its last price
    caps.iloc[-30:, 4] = np.nan
    res = contribution(caps, ["S02"], prices=px, start=px.index[10], end=px.index[-1])
    row = res.table.loc["S02"]
    assert_allclose(row["return"], px.iloc[-1, 2] / px.iloc[10, 2] - 1.0)
    assert_allclose(res.table.loc["S04", "return"], px.iloc[-31, 4] / px.iloc[10, 4] - 1.0)
    # constant shares survive the carry: buy-and-hold = daily index
    assert_allclose(res.index_return, res.index_return_linked, rtol=1e-12)
    assert res.table.loc["S04", "last_price_date"] == px.index[-31]
    assert any("held at their last price" in n and "S04" in n for n in res.notes)
    # default end: the date by which at least half the constituents were still priced (the last row)
    assert contribution(caps, ["S02"], prices=px, start=px.index[10]).end == px.index[-1]
    assert contribution(caps, ["S02"], prices=px, start=px.index[10], min_coverage=1.0).end == px.index[-31]


def test_constituents_share_classes_and_set_mapping():
    caps, px = _random_index(n=6)
    caps = caps.rename(columns={"S00": "GOOGL", "S01": "GOOG"})
    px = px.rename(columns={"S00": "GOOGL", "S01": "GOOG"})
    caps["GOOG"] = caps["GOOGL"] * px["GOOG"] / px["GOOGL"]  # company-level cap on both listings
    res = contribution(caps, ["GOOG", "S02"], prices=px, start="2022-08-01", end="2023-01-31",
                       constituents=["GOOGL", "GOOG", "S02", "S03", "S04", "GONE"])
    assert res.members == ("GOOGL", "S02")  # GOOG stands for GOOGL
    assert res.excluded["duplicate share class"] == ["GOOG"]
    assert res.excluded["no data"] == ["GONE"]
    assert res.excluded["not a member at start"] == ["S05"]
    assert res.n_members_start == 6
    assert "GOOG" not in res.constituents and len(res.constituents) == 4
    assert any("Survivorship: 1 of the 6" in n for n in res.notes)
    both = contribution(caps, ["GOOGL"], prices=px, start="2022-08-01", end="2023-01-31", share_classes=None)
    assert "GOOG" in both.constituents and "duplicate share class" not in both.excluded
    # a set member that is not a constituent is reported, not silently dropped
    res2 = contribution(caps, ["S02", "S05", "NOPE"], prices=px, start="2022-08-01", end="2023-01-31",
                        constituents=["S02", "S03"])
    assert res2.members == ("S02",)
    assert "not an index member" in res2.members_left_out["S05"]
    assert res2.members_left_out["NOPE"] == "no data"


def test_contribution_errors():
    caps, px = _random_index(n=4)
    with pytest.raises(ParameterError, match="prices"):
        contribution(caps, ["S00"], start="2022-08-01")
    with pytest.raises(ParameterError, match="same dates"):
        contribution(caps, ["S00"], prices=px.iloc[1:], start="2022-08-01")
    with pytest.raises(ParameterError, match="linking"):
        contribution(caps, ["S00"], prices=px, start="2022-08-01", linking="arithmetic")
    with pytest.raises(ParameterError, match="empty"):
        contribution(caps, [], prices=px, start="2022-08-01")
    with pytest.raises(DataError, match="before the first date"):
        contribution(caps, ["S00"], prices=px, start="2020-01-01")
    with pytest.raises(DataError, match="no row after the start"):
        contribution(caps, ["S00"], prices=px, start=px.index[-1])
    with pytest.raises(ParameterError, match="before start"):
        contribution(caps, ["S00"], prices=px, start="2022-08-01", end="2022-07-01")
    with pytest.raises(DataError, match="none of the set's members"):
        contribution(caps, ["NOPE"], prices=px, start="2022-08-01")
    with pytest.raises(DataError, match="non-positive price"):
        bad = px.copy()
        bad.iloc[3, 1] = 0.0
        contribution(caps, ["S00"], prices=bad, start="2022-08-01")
    with pytest.raises(DataError, match="no index constituent"):
        contribution(caps, ["S00"], prices=px, start="2022-08-01", constituents=["ZZ"])
    with pytest.raises(ParameterError, match="start_date"):
        contribution(caps, ["S00"], prices=px, start="2022-08-01", constituents=pd.DataFrame({"symbol": ["S00"]}))


def test_published_constants_and_comparison():
    assert (PUBLISHED_RETURN_SHARE, PUBLISHED_CAP_INCREASE_SHARE, PUBLISHED_SINCE) == (0.75, 0.90, "2022-12-30")
    caps, prices = _three_stocks()
    res = contribution(caps, ["A"], prices=prices, start="2023-01-02")
    cmp = res.comparison()
    assert list(cmp["published"]) == [0.75, 0.75, 0.90]
    assert_allclose(cmp["difference"], cmp["computed"] - cmp["published"])
    summary = res.summary().set_index("metric")["value"]
    assert summary["set share of cap increase"] == res.set_cap_increase_share
    assert res.to_frame().index[0] == "A"


# =============================================================================== membership
SPELLS = pd.DataFrame(
    {
        "symbol": ["X", "Y", "OLD", "NEW", "F1", "F2"],
        "start_date": pd.to_datetime(["2010-01-01", "2010-01-01", "2015-01-01", "2021-03-01", "2000-01-03",
                                      "2023-06-07"]),
        "end_date": pd.to_datetime([None, "2020-06-01", "2021-03-01", None, "2023-06-07", None]),
    }
)
CHANGES = pd.DataFrame(
    {
        "date": pd.to_datetime(["2020-06-01", "2025-09-22", "2025-11-11", "2025-11-11"]),
        "symbol": ["Y", "Z", "F2", "F1"],
        "action": ["remove", "add", "remove", "add"],
    }
)
RENAMES = (("2021-03-01", "OLD", "NEW"), ("2023-06-07", "F1", "F2"), ("2025-11-11", "F2", "F1"))


def test_index_window_members_at_both_ends_and_the_candidate_pool():
    meta = pd.DataFrame({"symbol": ["S1", "ETF"], "sector": ["Information Technology", None]})
    w = index_window(SPELLS, "2020-01-02", "2025-09-22", changes=CHANGES, instruments=meta)
    assert w.at_start == tuple(index_members(SPELLS, "2020-01-02", changes=CHANGES))
    assert w.at_end == tuple(index_members(SPELLS, "2025-09-22", changes=CHANGES))
    assert "Z" in w.at_end and "Z" not in w.at_start  # added by a change after the spells end
    # anyone in the spells or changes, plus instruments with a GICS sector; not an ETF without one
    assert w.candidates == frozenset(SPELLS["symbol"]) | frozenset(CHANGES["symbol"]) | {"S1"}
    assert w.panel_symbols(["NVDA", "X"]) == sorted(set(w.at_start) | set(w.at_end) | {"NVDA"})
    # no end: today's members; no changes or instruments: the spells alone
    today = index_window(SPELLS, "2020-01-02")
    assert today.at_end == tuple(index_members(SPELLS, pd.Timestamp.today().normalize()))
    assert today.candidates == frozenset(SPELLS["symbol"]) | set(today.at_end)


def test_index_members_spells_changes_renames():
    # end dates are the first day out
    assert "Y" in index_members(SPELLS, "2020-05-29", renames=None)
    assert "Y" not in index_members(SPELLS, "2020-06-01", renames=None)
    # without renames the old ticker holds the spell; with them, the ticker the company trades under now
    assert index_members(SPELLS, "2020-01-02", renames=None) == ["F1", "OLD", "X", "Y"]
    assert index_members(SPELLS, "2020-01-02", renames=RENAMES, changes=CHANGES) == ["F1", "NEW", "X", "Y"]
    # F1 -> F2 (2023) -> F1 (2025, from the changes after the spells end): one continuous member "F1"
    for day in ("2022-12-30", "2024-06-03", "2026-01-05"):
        assert "F1" in index_members(SPELLS, day, changes=CHANGES, renames=RENAMES)
        assert "F2" not in index_members(SPELLS, day, changes=CHANGES, renames=RENAMES)
    # changes dated after the spells' last date extend them (Z added 2025-09-22)
    assert "Z" not in index_members(SPELLS, "2025-09-19", changes=CHANGES, renames=RENAMES)
    assert "Z" in index_members(SPELLS, "2025-09-22", changes=CHANGES, renames=RENAMES)
    # spells already covering a change are not altered by it (Y's removal is in both)
    assert index_members(SPELLS, "2019-01-02", changes=CHANGES, renames=RENAMES).count("Y") == 1
    # a change dated a month after the spells' boundary (the data's RE -> EG case) still applies
    re_eg = pd.DataFrame({"symbol": ["RE", "EG"], "start_date": pd.to_datetime(["2017-06-19", "2023-06-10"]),
                          "end_date": pd.to_datetime(["2023-06-10", None])})
    assert index_members(re_eg, "2022-12-30", renames=[("2023-07-10", "RE", "EG")]) == ["EG"]
    assert index_members(re_eg, "2022-12-30", renames=[("2023-09-10", "RE", "EG")]) == ["RE"]  # too far
    with pytest.raises(ParameterError, match="columns"):
        index_members(SPELLS.drop(columns="end_date"), "2020-01-01")
    with pytest.raises(DataError, match="no membership"):
        index_members(SPELLS.iloc[:0], "2020-01-01")
    with pytest.raises(ParameterError, match="action"):
        index_members(SPELLS, "2020-01-01", changes=CHANGES.assign(action="swap"))
    with pytest.raises(ParameterError, match="triples"):
        index_members(SPELLS, "2020-01-01", renames=[("2021-03-01", "OLD")])


def test_contribution_with_spells():
    caps, px = _random_index(n=4)
    caps.columns = px.columns = ["X", "NEW", "F1", "Z"]
    res = contribution(caps, ["NEW"], prices=px, start="2022-08-01", end="2023-01-31", constituents=SPELLS,
                       changes=CHANGES, renames=RENAMES)
    assert set(res.constituents) == {"X", "NEW", "F1"}
    assert res.excluded["not a member at start"] == ["Z"]
    assert res.n_members_start == 3


def test_sp500_ticker_changes_table():
    # each entry is a one-for-one same-day add/remove of changes_since_2019.csv; dates ascend
    dates = [d for d, _, _ in SP500_TICKER_CHANGES]
    assert dates == sorted(dates)
    assert ("2022-06-09", "FB", "META") in SP500_TICKER_CHANGES


def test_ai_linked_set_default_universe():
    from rotation.universe import load_universe

    uni = load_universe()
    ai = [m for n, b in uni.baskets.items() if b.role == "ai" for m in b.members]
    not_sp = {"TSM", "ASML", "ARM"}
    got = ai_linked_set(uni, [m for m in ai if m not in not_sp] + ["AAPL"])
    assert got == ["NVDA", "AMD", "AVGO", "MU", "SMCI", "MSFT", "AMZN", "GOOGL", "META", "ORCL",
                   "EQIX", "DLR", "VRT", "CEG"]
    assert ai_linked_set(uni) == list(dict.fromkeys(ai))
    assert ai_linked_set(uni, baskets=["ai_cloud"], add=["AAPL"], remove=["ORCL"]) == [
        "MSFT", "AMZN", "GOOGL", "META", "AAPL"]
    with pytest.raises(UniverseError):
        ai_linked_set(uni, baskets=["nope"])
    with pytest.raises(ParameterError, match="role"):
        ai_linked_set(uni, roles=("no-such-role",))
    with pytest.raises(ParameterError, match="index member"):
        ai_linked_set(uni, ["AAPL"])


# =============================================================================== real data
AI_BASKETS = ["ai_compute", "ai_cloud", "ai_datacenter_power"]


@pytest.fixture(scope="module")
def ai_backcast_panel(real_store, real_universe):
    from rotation.panel import build_panel

    return build_panel(real_store, real_universe, baskets=AI_BASKETS, cap_method="backcast")


@pytest.fixture(scope="module")
def sp500(real_store, real_universe):
    """S&P 500 members on 2022-12-30 and on the last date, with back-cast caps (what `rotation contribution` builds)."""
    from rotation.panel import build_panel

    spells = real_store.read_membership("SP500")
    changes = real_store.read_index_changes("SP500")
    start = index_members(spells, PUBLISHED_SINCE, changes=changes)
    now = index_members(spells, "2026-07-31", changes=changes)
    meta = real_store.instruments()
    ever = set(spells["symbol"]) | set(changes["symbol"]) | set(start) | set(now)
    ever |= set(meta.loc[meta["sector"].notna(), "symbol"])  # the current constituents list
    ai = ai_linked_set(real_universe, ever)
    panel = build_panel(real_store, real_universe, symbols=sorted(set(start) | set(now) | set(ai) | {"SPY"}),
                        start="2022-12-01", cap_method="backcast")
    return panel, spells, changes, ai, start


@pytest.mark.shared_data
def test_real_nvda_share_of_ai_compute_rose(ai_backcast_panel):
    res = concentration(ai_backcast_panel, AI_BASKETS, k=(1, 3))
    nvda = res.shares["ai_compute"]["NVDA"]
    end22 = nvda.loc[:"2022-12-31"].dropna().iloc[-1]
    end24 = nvda.loc[:"2024-12-31"].dropna().iloc[-1]
    assert end24 > end22 + 0.1, (end22, end24)
    hhi = res.hhi["ai_compute"].dropna()
    assert len(hhi) > 1000 and ((hhi > 0) & (hhi <= 1)).all()
    assert (res.top[3]["ai_compute"].dropna() >= res.top[1]["ai_compute"].dropna()).all()
    eff = res.effective_number["ai_compute"].dropna()
    assert (eff <= res.n_with_cap["ai_compute"].loc[eff.index] + 1e-9).all()
    # TSM, ASML, ARM are not S&P members and have no cap: excluded and said so
    assert set(res.never_capped["ai_compute"]) == {"TSM", "ASML", "ARM"}
    assert any("back-cast" in n for n in res.notes)
    assert res.leader["ai_compute"].loc["2024-12-31"] == "NVDA"


@pytest.mark.shared_data
def test_real_sp500_members_on_published_start(sp500):
    _, spells, changes, _, start = sp500
    assert len(start) == 503  # 500 companies, 503 listings
    assert {"META", "FISV", "RVTY", "EG", "COR", "CPAY", "DOC", "DAY"} <= set(start)
    assert not {"FB", "FI", "PKI", "ABC", "FLT"} & set(start)
    assert "SMCI" not in start and "SMCI" in index_members(spells, "2024-03-18", changes=changes)


@pytest.mark.shared_data
def test_real_ai_share_of_sp500_gains(sp500):
    panel, spells, changes, ai, _ = sp500
    res = contribution(panel, ai, start=PUBLISHED_SINCE, constituents=spells, changes=changes,
                       set_name="AI-linked", index_name="S&P 500")
    assert res.start == pd.Timestamp("2022-12-30") and res.end == pd.Timestamp("2026-07-31")
    assert np.isfinite(res.set_cap_increase_share) and 0.4 < res.set_cap_increase_share < 1.0
    assert 0.4 < res.set_return_share < 1.0 and 0.4 < res.set_linked_share < 1.0
    assert res.set_weight_end > res.set_weight_start
    # the result states survivorship and the constant-share approximation
    assert len(res.excluded["no data"]) > 10 and len(res.excluded["not a member at start"]) > 10
    text = " ".join(res.notes)
    assert "Survivorship" in text and "Constant shares" in text and "back-cast" in text
    assert res.excluded["duplicate share class"] == ["FOX", "GOOG", "NWS"]
    assert {"SMCI", "VRT"} <= set(res.members_left_out)
    # constant shares: the daily cap-weighted index is the buy-and-hold index
    assert_allclose(res.index_return, res.index_return_linked, rtol=1e-10)
    assert abs(res.linked_residual) < 1e-12
    # the reconstructed (survivor, total-return) index tracks SPY day by day
    spy = panel.prices["SPY"].pct_change().loc[res.daily.index]
    assert np.corrcoef(spy, res.daily["index_return"])[0, 1] > 0.97
    assert "SPY" in res.excluded["not a member at start"]
    # reference: rotation.panel.basket_index on the same constituents
    window = slice(res.start, res.end)
    cols = list(res.constituents)
    ref = basket_index(panel.prices.loc[window, cols].ffill(), weighting="cap",
                       caps=panel.market_caps.loc[window, cols].ffill(), rebalance="D")
    assert_allclose(res.daily["index_return"], ref.returns.iloc[1:], rtol=1e-9, atol=1e-14)
    grap = contribution(panel, ai, start=PUBLISHED_SINCE, constituents=spells, changes=changes, linking="grap")
    assert_allclose(grap.table["linked_contribution"], grap.table["contribution"], rtol=1e-8, atol=1e-13)
