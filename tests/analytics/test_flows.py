"""Flow proxies and the rotation index (rotation.analytics.flows)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose

from rotation.analytics.flows import (
    basket_caps,
    cap_change_decomposition,
    dollar_volume_share,
    etf_net_flows,
    market_cap_share,
    net_issuance,
    rotation_index,
)
from rotation.analytics.comovement import newey_west_lags as hac_maxlags
from rotation.errors import DataError, ParameterError

D = pd.date_range("2024-01-01", periods=6, freq="D")
W = pd.date_range("2020-01-03", periods=300, freq="W-FRI")


# ----------------------------------------------------------------------------- basket caps
def test_basket_caps_hand_example():
    # Provenance: by hand. A: 100, 110, 121, 121; B lists on row 1 (50), then 40, then gap.
    #   caps    = 100, 160, 161, 121
    #   growth  : row 1 only A has caps on both rows -> 110/100 (B's listing is not growth)
    #             row 2 both -> (121 + 40)/(110 + 50) = 161/160
    #             row 3 only A (B missing) -> 121/121
    #   index   = 100, 110, 110 * 161/160, 110 * 161/160
    caps = pd.DataFrame(
        {"A": [100.0, 110, 121, 121], "B": [np.nan, 50, 40, np.nan], "C": [1.0, 1, 1, 1]}, index=D[:4]
    )
    res = basket_caps(caps, {"ab": ["A", "B", "NOT_A_COLUMN"], "c": ["C"]})
    assert_allclose(res.caps["ab"].to_numpy(), [100, 160, 161, 121])
    assert_allclose(res.coverage["ab"].to_numpy(), [0.5, 1, 1, 0.5])
    assert_allclose(res.growth_index["ab"].to_numpy(), [100, 110, 110 * 161 / 160, 110 * 161 / 160], rtol=1e-14)
    assert_allclose(res.growth_index["c"].to_numpy(), [100, 100, 100, 100])
    assert res.members == {"ab": ["A", "B"], "c": ["C"]}
    frame = res.to_frame()
    assert frame.loc["ab", "cap_last"] == 121 and frame.loc["ab", "members"] == 2


def test_basket_caps_gap_and_errors():
    caps = pd.DataFrame({"A": [np.nan, 10.0, np.nan, np.nan, 12, 24]}, index=D)
    res = basket_caps(caps, {"a": ["A"]})
    # starts at the first cap; rows without a link are NaN; the chain resumes from the last level
    assert_allclose(res.growth_index["a"].to_numpy(), [np.nan, 100, np.nan, np.nan, np.nan, 200])
    with pytest.raises(ParameterError, match="none of its members"):
        basket_caps(caps, {"x": ["Z"]})
    with pytest.raises(DataError, match="negative"):
        basket_caps(caps * -1, {"a": ["A"]})


# ----------------------------------------------------------------------------- shares
def test_market_cap_share_hand_example():
    ai = pd.Series([300.0, 300, 600, np.nan], index=D[:4])
    crypto = pd.Series([100.0, 300, 200, 100], index=D[:4])
    res = market_cap_share({"ai": ai, "crypto": crypto})
    assert_allclose(res.shares["ai"].to_numpy(), [0.75, 0.5, 0.75, np.nan])
    assert_allclose(res.shares["crypto"].to_numpy(), [0.25, 0.5, 0.25, np.nan])
    assert_allclose(res.total.to_numpy(), [400, 600, 800, np.nan])
    # without require_all the lone basket holds the whole market on the last row
    loose = market_cap_share({"ai": ai, "crypto": crypto}, require_all=False)
    assert_allclose(loose.shares.iloc[-1].to_numpy(), [np.nan, 1.0])
    frame = res.to_frame()
    assert_allclose(frame.loc["ai", "change_pp"], 0.0)
    assert_allclose(frame.loc["ai", "share_max"], 0.75)


def test_market_cap_share_sums_to_one():
    rng = np.random.default_rng(1)
    caps = pd.DataFrame(rng.lognormal(20, 1, (50, 4)), index=W[:50], columns=list("abcd"))
    caps.iloc[5:9, 2] = np.nan
    res = market_cap_share(caps)
    ok = res.shares.notna().all(axis=1)
    assert ok.sum() == 46
    assert_allclose(res.shares[ok].sum(axis=1).to_numpy(), 1.0, rtol=1e-14)
    with pytest.raises(DataError, match="every basket"):
        market_cap_share(caps.assign(e=np.nan))


# ----------------------------------------------------------------------------- decomposition
def test_decomposition_hand_example():
    # P 10 -> 12, S 100 -> 105: dC = 12*105 - 10*100 = 260 = 100*(12-10) + 12*(105-100) = 200 + 60
    px = pd.DataFrame({"X": [10.0, 12.0]}, index=D[:2])
    sup = pd.DataFrame({"X": [100.0, 105.0]}, index=D[:2])
    res = cap_change_decomposition(px, sup)
    assert_allclose(res.cap_change["X"].iloc[1], 260.0)
    assert_allclose(res.price_effect["X"].iloc[1], 200.0)
    assert_allclose(res.issuance["X"].iloc[1], 60.0)
    # the same from market caps (implied supply = cap / price)
    res2 = cap_change_decomposition(px, market_caps=px * sup)
    assert_allclose(res2.issuance["X"].iloc[1], 60.0)
    row = res.to_frame().loc["X"]
    assert_allclose(row["issuance_share"], 60 / 260)


@settings(max_examples=50, deadline=None)
@given(
    arrays(np.float64, (30, 3), elements=st.floats(0.01, 1e4, allow_nan=False)),
    arrays(np.float64, (30, 3), elements=st.floats(0.0, 1e9, allow_nan=False)),
    st.lists(st.tuples(st.integers(0, 29), st.integers(0, 2)), max_size=10),
)
def test_decomposition_identity(p, s, holes):
    px = pd.DataFrame(p, index=W[:30])
    sup = pd.DataFrame(s, index=W[:30])
    for i, j in holes:
        px.iloc[i, j] = np.nan
    res = cap_change_decomposition(px, sup)
    total = res.price_effect + res.issuance
    assert_allclose(total.to_numpy(), res.cap_change.to_numpy(), rtol=1e-9, atol=1e-6 * np.nanmax(res.cap.to_numpy()))
    assert res.cap_change.iloc[0].isna().all()
    # NaN wherever an endpoint is missing, finite elsewhere
    defined = px.notna() & px.shift(1).notna()
    defined.iloc[0] = False
    assert (res.cap_change.notna() == defined).all().all()


# ----------------------------------------------------------------------------- issuance
def test_net_issuance_hand_example():
    sup = pd.DataFrame(
        {"USDT": [100.0, 110, 105, np.nan, 120, 130], "USDC": [np.nan, 50, 55, 60, 58, 57]}, index=D
    )
    res = net_issuance(sup, windows=(2,))
    assert_allclose(res.issuance["USDT"].to_numpy(), [np.nan, 10, -5, np.nan, np.nan, 10])
    assert_allclose(res.issuance["USDC"].to_numpy(), [np.nan, np.nan, 5, 5, -2, -1])
    # total sums the coins with a change that row; USDC's first row adds nothing
    assert_allclose(res.issuance["total"].to_numpy(), [np.nan, 10, 0, 5, -2, 9])
    assert_allclose(res.supply["total"].to_numpy(), [100, 160, 160, 60, 178, 187])
    assert_allclose(res.rolling[2]["USDT"].to_numpy(), [np.nan, np.nan, 5, np.nan, np.nan, np.nan])
    assert_allclose(res.rolling[2]["USDC"].to_numpy(), [np.nan, np.nan, np.nan, 10, 3, -3])
    assert_allclose(res.growth[2]["USDT"].to_numpy(), [np.nan, np.nan, 0.05, np.nan, 120 / 105 - 1, np.nan])
    # total growth counts the coins present at both ends: row 5 vs row 3 has USDC only (USDT gap)
    assert_allclose(res.growth[2]["total"].iloc[5], 57 / 60 - 1)
    assert_allclose(res.growth[2]["total"].iloc[4], (120 + 58) / (105 + 55) - 1)
    frame = res.to_frame()
    assert_allclose(frame.loc["USDT", "issuance_2"], 5.0)  # last valid 2-row sum


def test_net_issuance_weekly():
    idx = pd.date_range("2024-01-01", "2024-01-24", freq="D")  # Mon .. Wed
    sup = pd.Series(np.arange(len(idx), dtype=float) + 100, index=idx, name="USDT")
    res = net_issuance(sup, windows=1, weekly=True)
    assert list(res.supply.index) == list(pd.to_datetime(["2024-01-05", "2024-01-12", "2024-01-19"]))
    assert_allclose(res.issuance["USDT"].to_numpy(), [np.nan, 7, 7])
    assert res.frequency == "W"


@settings(max_examples=40, deadline=None)
@given(
    arrays(np.float64, (40, 2), elements=st.floats(1.0, 1e6, allow_nan=False)),
    st.integers(5, 39),
)
def test_net_issuance_no_lookahead(s, cut):
    sup = pd.DataFrame(s, index=W[:40], columns=["a", "b"])
    full, part = net_issuance(sup, windows=(3, 7)), net_issuance(sup.iloc[:cut], windows=(3, 7))
    for w in (3, 7):
        assert_allclose(part.rolling[w].to_numpy(), full.rolling[w].iloc[:cut].to_numpy(), rtol=0, atol=0)
        assert_allclose(part.growth[w].to_numpy(), full.growth[w].iloc[:cut].to_numpy(), rtol=0, atol=0)


# ----------------------------------------------------------------------------- dollar volume
def test_dollar_volume_share_hand_example():
    vol = pd.DataFrame({"NVDA": [10.0, 30, 20], "AMD": [10.0, 10, np.nan], "BTC": [20.0, 20, 60]}, index=D[:3])
    res = dollar_volume_share(vol, {"ai": ["NVDA", "AMD"], "crypto": ["BTC"]})
    # row 0: ai 20, crypto 20; row 1: 40 vs 20; row 2: ai = NVDA only (20) vs 60
    assert_allclose(res.shares["ai"].to_numpy(), [0.5, 2 / 3, 0.25])
    win = dollar_volume_share(vol, {"ai": ["NVDA", "AMD"], "crypto": ["BTC"]}, window=2)
    # 2-row sums: row 1: ai = (10+30) + (10+10) = 60, crypto 40; row 2: AMD has no full window -> NVDA 50, BTC 80
    assert_allclose(win.shares["ai"].to_numpy(), [np.nan, 0.6, 50 / 130])
    single = dollar_volume_share(vol)
    assert_allclose(single.shares.sum(axis=1).to_numpy(), 1.0)
    assert list(single.to_frame().index) == ["NVDA", "AMD", "BTC"]


# ----------------------------------------------------------------------------- rotation index
def _levels(seed: int, n: int = 300) -> tuple[pd.Series, pd.Series]:
    rng = np.random.default_rng(seed)
    a = pd.Series(100 * np.exp(np.cumsum(rng.normal(0.002, 0.03, n))), index=W[:n], name="ai")
    b = pd.Series(100 * np.exp(np.cumsum(rng.normal(0.0, 0.06, n))), index=W[:n], name="crypto")
    return a, b


def test_rotation_index_hand_example():
    # Provenance: by hand. a = e^{0.1 t}, b = e^{0.05 t} (t = 0..5), window 2:
    # g^a = 0.2, g^b = 0.1 from t = 2 on, raw = 0.1; no smoothing -> index = 0.1, trend 0.
    t = np.arange(6, dtype=float)
    a = pd.Series(np.exp(0.1 * t), index=D, name="a")
    b = pd.Series(np.exp(0.05 * t), index=D, name="b")
    res = rotation_index(a, b, window=2, smooth=1, trend_window=3, periods_per_year=365)
    assert_allclose(res.raw.to_numpy(), [np.nan, np.nan, 0.1, 0.1, 0.1, 0.1], rtol=1e-12)
    assert_allclose(res.index.to_numpy(), res.raw.to_numpy())
    assert_allclose(res.trend.to_numpy(), [np.nan] * 4 + [0.0, 0.0], atol=1e-12)
    assert res.crossings.empty
    assert_allclose(res.drift["mean"], 0.05, rtol=1e-12)  # d_t = 0.1 - 0.05 every row
    assert_allclose(res.drift["annualised"], 0.05 * 365, rtol=1e-12)


def test_rotation_index_smoothers_and_trend_against_references():
    a, b = _levels(0)
    ema = rotation_index(a, b, window=13, smooth=4, smoother="ema", trend_window=10)
    raw = ema.raw.to_numpy()
    # EMA reference: explicit recursion e_t = alpha x_t + (1 - alpha) e_{t-1}, alpha = 2/(4+1)
    alpha, e, expect = 2 / 5, np.nan, []
    for x in raw:
        if np.isnan(x):
            expect.append(np.nan)
            continue
        e = x if np.isnan(e) else alpha * x + (1 - alpha) * e
        expect.append(e)
    assert_allclose(ema.index.to_numpy(), expect, rtol=1e-12)
    sma = rotation_index(a, b, window=13, smooth=4, smoother="sma")
    assert_allclose(sma.index.to_numpy()[20], raw[17:21].mean(), rtol=1e-12)
    # rolling slope reference: numpy polyfit of each trailing window on 0..m-1
    y = ema.index.to_numpy()
    for t in (30, 100, 299):
        slope = np.polyfit(np.arange(10.0), y[t - 9 : t + 1], 1)[0]
        assert_allclose(ema.trend.iloc[t], slope, rtol=1e-9)
    assert set(np.unique(ema.trend_sign.dropna())) <= {-1.0, 0.0, 1.0}


def test_rotation_index_crossings():
    vals = np.array([1.0, 1.1, 1.2, 1.15, 1.0, 0.9, 1.0, 1.3])
    a = pd.Series(vals, index=W[:8], name="a")
    b = pd.Series(np.ones(8), index=W[:8], name="b")
    # window 1, no smoothing: raw = ln(a_t/a_{t-1}) = + + - - - + +
    res = rotation_index(a, b, window=1, smooth=1, trend_window=2, periods_per_year=52)
    assert list(res.crossings["date"]) == [W[3], W[6]]
    assert list(res.crossings["direction"]) == ["down", "up"]


def test_rotation_index_drift_matches_statsmodels():
    a, b = _levels(4)
    res = rotation_index(a, b)
    d = (np.log(a).diff() - np.log(b).diff()).dropna().to_numpy()
    lags = hac_maxlags(len(d))
    ref = sm.OLS(d, np.ones(len(d))).fit(cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": True}, use_t=True)
    assert_allclose(res.drift["mean"], d.mean(), rtol=1e-12)  # closed form: OLS on a constant = mean
    assert_allclose(res.drift["se"], ref.bse[0], rtol=1e-12)
    assert_allclose(res.drift["p"], ref.pvalues[0], rtol=1e-12)
    assert_allclose([res.drift["ci_low"], res.drift["ci_high"]], ref.conf_int()[0], rtol=1e-12)
    assert res.drift["hac_lags"] == lags == 5  # floor(4 * (299/100)^(2/9)) = 5
    assert res.drift["periods_per_year"] == 52.0
    frame = res.to_frame()
    assert list(frame.columns) == ["metric", "value"]
    assert frame.set_index("metric").loc["drift n", "value"] == 299


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.integers(30, 119), st.sampled_from(["ema", "sma"]))
def test_rotation_index_no_lookahead(seed, cut, smoother):
    a, b = _levels(seed, 120)
    b.iloc[:7] = np.nan  # b starts late
    kw = {"window": 5, "smooth": 3, "trend_window": 6, "smoother": smoother, "periods_per_year": 52}
    full = rotation_index(a, b, **kw)
    part = rotation_index(a.iloc[:cut], b.iloc[:cut], **kw)
    for x, y in ((part.raw, full.raw), (part.index, full.index), (part.trend, full.trend)):
        assert_allclose(x.to_numpy(), y.iloc[:cut].to_numpy(), rtol=0, atol=0)
    past = full.crossings[full.crossings["date"] <= a.index[cut - 1]].reset_index(drop=True)
    pd.testing.assert_frame_equal(part.crossings, past)


def test_rotation_index_errors():
    a, b = _levels(1, 20)
    with pytest.raises(ParameterError, match="smoother"):
        rotation_index(a, b, smoother="kalman")
    with pytest.raises(DataError, match="need at least"):
        rotation_index(a, b, window=18, smooth=4)
    with pytest.raises(DataError, match="non-positive"):
        rotation_index(a * 0, b)


# ----------------------------------------------------------------------------- ETF flows
def test_etf_net_flows_hand_example():
    # Provenance: by hand. shares 1000 -> 1100 -> 1050 at NAV 50, 52, 51:
    # flows = (1100-1000)*52 = 5200, (1050-1100)*51 = -2550
    shares = pd.DataFrame({"IBIT": [1000.0, 1100, 1050]}, index=D[:3])
    nav = pd.DataFrame({"IBIT": [50.0, 52, 51]}, index=D[:3])
    res = etf_net_flows(shares, nav, windows=2)
    assert_allclose(res.flows["IBIT"].to_numpy(), [np.nan, 5200, -2550])
    assert_allclose(res.rolling[2]["IBIT"].to_numpy(), [np.nan, np.nan, 2650])
    assert_allclose(res.cumulative["IBIT"].to_numpy(), [np.nan, 5200, 2650])
    assert_allclose(res.to_frame().loc["IBIT", "total_flow"], 2650)
    with pytest.raises(ParameterError, match="same dates"):
        etf_net_flows(shares, nav.iloc[:2])


# ----------------------------------------------------------------------------- real data
@pytest.mark.shared_data
def test_real_stablecoin_issuance(real_panel):
    sup = real_panel.supply[["USDT", "USDC"]]
    res = net_issuance(sup, windows=(5, 21))
    # May-June 2022 (Terra/UST collapse): USDT was redeemed, billions over a month
    assert res.rolling[21].loc["2022-06-15", "USDT"] < -2e9
    # total USD stablecoin supply grew from late 2023 to end-2024 (~108bn -> ~183bn)
    total = res.supply["total"]
    assert 1.4 < total.loc["2024-12-31"] / total.loc["2023-10-02"] < 2.0
    # USDT's cap change is nearly all issuance (price ~1): price effect is a rounding term
    dec = cap_change_decomposition(real_panel.close[["USDT"]], market_caps=real_panel.market_caps[["USDT"]]).to_frame()
    assert 0.98 < dec.loc["USDT", "issuance_share"] < 1.02


@pytest.mark.shared_data
def test_real_shares_and_rotation_index(real_panel, real_weekly_panel):
    caps = real_panel.market_caps
    share = market_cap_share({"BTC": caps["BTC"], "ETH": caps["ETH"]})
    btc = share.shares["BTC"].loc["2018":"2024"].dropna()
    assert len(btc) > 1000
    assert 0.5 < btc.min() and btc.max() < 0.95  # bitcoin's weight within BTC+ETH
    wp = real_weekly_panel
    res = rotation_index(wp.basket_levels("ai_compute", "equal"), wp.basket_levels("crypto_majors"))
    # mid-2022 crypto crash: AI compute fell less; Q1 2023: crypto rebounded harder
    assert res.index.loc["2022-06-24"] > 0.1
    assert res.index.loc["2023-03-31"] < 0
    assert len(res.crossings) > 10 and res.drift["n"] > 500
    lo, hi = res.drift["ann_ci_low"], res.drift["ann_ci_high"]
    assert np.isfinite([lo, hi]).all() and lo < res.drift["annualised"] < hi
    vol = dollar_volume_share(real_panel.volume_usd, {"ai": ["NVDA", "AMD", "AVGO"], "crypto": ["BTC", "ETH"]})
    shares = vol.shares.dropna()
    assert_allclose(shares.sum(axis=1).to_numpy(), 1.0, rtol=1e-12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    arrays(np.float64, (40, 3), elements=st.floats(1.0, 1e6, allow_nan=False)),
    st.lists(st.tuples(st.integers(0, 39), st.integers(0, 2)), max_size=12),
    st.integers(3, 39),
)
def test_other_trailing_measures_no_lookahead(values, holes, cut):
    """Basket growth index, windowed dollar-volume shares, ETF flows and the cap split never revise the past."""
    frame = pd.DataFrame(values, index=W[:40], columns=["a", "b", "c"])
    for i, j in holes:
        frame.iloc[i, j] = np.nan
    part = frame.iloc[:cut]
    baskets = {"ab": ["a", "b"], "c": ["c"]}
    checks = [
        (lambda f: basket_caps(f, baskets).growth_index),
        (lambda f: basket_caps(f, baskets).caps),
        (lambda f: etf_net_flows(f, f * 0 + 10.0, windows=4).rolling[4]),
        (lambda f: etf_net_flows(f, f * 0 + 10.0, windows=4).cumulative),
        (lambda f: cap_change_decomposition(f, f.iloc[:, ::-1].set_axis(f.columns, axis=1)).issuance),
    ]
    for fn in checks:
        assert_allclose(fn(part).to_numpy(), fn(frame).iloc[:cut].to_numpy(), rtol=0, atol=0)
    try:
        dv_part = dollar_volume_share(part, baskets, window=3).shares
    except DataError:
        return  # no full window yet in the prefix
    dv_full = dollar_volume_share(frame, baskets, window=3).shares
    assert_allclose(dv_part.to_numpy(), dv_full.iloc[:cut].to_numpy(), rtol=0, atol=0)
