"""Returns, annualisation and risk measures vs empyrical-reloaded, quantstats and hand examples.

Real-series references read ../shared/data directly with pandas (NVDA and SPY
adjusted closes, BTC from CoinGecko) so they do not depend on the panel;
the sanity checks at the end use the real panel fixtures.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from rotation.analytics import returns as RT
from rotation.analytics import risk as K
from rotation.errors import DataError, ParameterError

empyrical = pytest.importorskip("empyrical")
qs = pytest.importorskip("quantstats")

RTOL = 1e-9


# ------------------------------------------------------------- real series
@pytest.fixture(scope="module")
def real_returns(shared_data: Path) -> dict[str, tuple[pd.Series, float]]:
    """Daily simple returns (NaN-free) with their native periods per year."""
    eq = pd.read_csv(shared_data / "equities/adj_close_daily_long.csv.gz", parse_dates=["date"])
    px = eq[eq.ticker.isin(["NVDA", "SPY"])].pivot(
        index="date", columns="ticker", values="adj_close"
    )
    cg = pd.read_csv(shared_data / "crypto/coingecko_daily_long.csv.gz", parse_dates=["date"])
    btc = cg[cg.asset == "BTC"].set_index("date")["price_usd"].dropna()
    btc = btc[btc > 0].loc["2014":]
    out = {}
    for name, prices, ppy in (
        ("NVDA", px["NVDA"], 252.0),
        ("SPY", px["SPY"], 252.0),
        ("BTC", btc, 365.0),
    ):
        r = RT.simple_returns(prices.dropna()).dropna().rename(name)
        out[name] = (r, ppy)
    return out


@pytest.fixture(scope="module", params=["NVDA", "SPY", "BTC"])
def series(request, real_returns) -> tuple[pd.Series, float]:
    return real_returns[request.param]


def _close(a, b, rtol=RTOL):
    assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=rtol, atol=0)


@pytest.mark.shared_data
def test_volatility_sharpe_sortino_cagr_match_empyrical_and_quantstats(series):
    r, ppy = series
    _close(
        K.annualized_volatility(r, periods_per_year=ppy),
        empyrical.annual_volatility(r, annualization=ppy),
    )
    _close(K.annualized_volatility(r, periods_per_year=ppy), qs.stats.volatility(r, periods=ppy))
    # quantstats takes an annual rf and de-annualises it; empyrical a per-period one
    rf_annual = 0.04
    rf = RT.deannualize_rate(rf_annual, ppy)
    sr = K.sharpe_ratio(r, rf, periods_per_year=ppy)
    _close(sr, empyrical.sharpe_ratio(r, rf, annualization=ppy))
    _close(sr, qs.stats.sharpe(r, rf=rf_annual, periods=ppy))
    so = K.sortino_ratio(r, rf, periods_per_year=ppy)
    _close(so, empyrical.sortino_ratio(r, rf, annualization=ppy))
    _close(so, qs.stats.sortino(r, rf=rf_annual, periods=ppy))
    _close(
        K.downside_deviation(r, rf, periods_per_year=ppy),
        empyrical.downside_risk(r, rf, annualization=ppy),
    )
    _close(K.cagr(r, periods_per_year=ppy), empyrical.cagr(r, annualization=ppy))
    _close(K.cagr(r, periods_per_year=ppy), qs.stats.cagr(r, periods=ppy))


@pytest.mark.shared_data
def test_drawdowns_match_empyrical_and_quantstats(series):
    r, _ = series
    _close(K.max_drawdown(r), empyrical.max_drawdown(r))
    _close(K.max_drawdown(r), qs.stats.max_drawdown(r))
    dd = K.drawdown(r)
    # atol: at a recovery both sides can be a rounding residue (~1e-16) away from 0
    assert_allclose(dd, empyrical.stats.drawdown_series(r), rtol=RTOL, atol=1e-12)
    assert_allclose(dd, qs.stats.to_drawdown_series(r).reindex(r.index), rtol=RTOL, atol=1e-12)


@pytest.mark.shared_data
def test_var_cvar_sign_convention_and_values(series):
    r, _ = series
    var, cvar = K.value_at_risk(r, 0.95), K.conditional_value_at_risk(r, 0.95)
    # returns convention: a loss is negative, as in empyrical
    assert var < 0 and cvar < var
    _close(var, empyrical.value_at_risk(r, cutoff=0.05))
    _close(cvar, empyrical.conditional_value_at_risk(r, cutoff=0.05))
    _close(K.value_at_risk(r, 0.99), empyrical.value_at_risk(r, cutoff=0.01))
    _close(
        K.conditional_value_at_risk(r, 0.99), empyrical.conditional_value_at_risk(r, cutoff=0.01)
    )
    # quantstats' historical CVaR averages the returns at or below the interpolated
    # quantile (pandas "linear", the same quantile as our VaR) rather than empyrical's
    # floor((n-1) alpha) + 1 lowest returns: check it against our VaR definition
    _close(qs.stats.cvar(r, confidence=0.95, method="historical"), r[r <= var].mean())
    # parametric Gaussian VaR/CVaR = quantstats' variance-covariance estimators
    _close(K.value_at_risk(r, 0.95, method="gaussian"), qs.stats.value_at_risk(r, confidence=0.95))
    _close(
        K.conditional_value_at_risk(r, 0.95, method="gaussian"), qs.stats.cvar(r, confidence=0.95)
    )


@pytest.mark.shared_data
def test_rolling_measures_match_references(series):
    r, ppy = series
    r = r.iloc[-800:]
    w = 126
    _close(
        K.rolling_volatility(r, w, periods_per_year=ppy).dropna(),
        qs.stats.rolling_volatility(r, w, ppy).dropna(),
    )
    _close(
        K.rolling_volatility(r, w, periods_per_year=ppy).dropna(),
        empyrical.roll_annual_volatility(r, w, annualization=ppy),
    )
    rs = K.rolling_sharpe(r, w, periods_per_year=ppy).dropna()
    _close(rs, qs.stats.rolling_sharpe(r, rolling_period=w, periods_per_year=ppy).dropna())
    _close(rs, empyrical.roll_sharpe_ratio(r, w, annualization=ppy))
    _close(
        K.rolling_sortino(r, w, periods_per_year=ppy).dropna(),
        empyrical.roll_sortino_ratio(r, w, annualization=ppy),
    )
    _close(K.rolling_max_drawdown(r, w).dropna(), empyrical.roll_max_drawdown(r, w))


@pytest.mark.shared_data
def test_skew_kurtosis_and_risk_table_agree_with_parts(series):
    from scipy import stats

    r, ppy = series
    tab = K.risk_table(r.to_frame(), periods_per_year=ppy, risk_free=0.0001)
    row = tab.to_frame().iloc[0]
    _close(row["skew"], qs.stats.skew(r))
    _close(row["skew"], stats.skew(r, bias=False))
    _close(row["kurtosis"], qs.stats.kurtosis(r))
    _close(row["kurtosis"], stats.kurtosis(r, bias=False))
    _close(row["sharpe"], empyrical.sharpe_ratio(r, 0.0001, annualization=ppy))
    _close(row["total_return"], empyrical.cum_returns_final(r))
    assert (
        row["observations"] == len(r)
        and row["first_date"] == r.index[0]
        and row["last_date"] == r.index[-1]
    )


@pytest.mark.shared_data
def test_drawdown_table_matches_quantstats_drawdown_details(real_returns):
    r, _ = real_returns["SPY"]
    ours = K.drawdown_table(r, top=5).to_frame()
    details = qs.stats.drawdown_details(qs.stats.to_drawdown_series(r))
    details = details.sort_values("max drawdown").head(5).reset_index(drop=True)
    assert len(ours) == 5
    idx = r.index
    for mine, theirs in zip(ours.itertuples(), details.itertuples(), strict=True):
        # quantstats: start = first underwater day (the day after our peak),
        # end = last underwater day (the day before our recovery)
        assert idx[idx.get_loc(mine.peak) + 1] == pd.Timestamp(theirs.start)
        assert mine.trough == pd.Timestamp(theirs.valley)
        _close(mine.depth * 100, theirs._5)  # "max drawdown" in percent
        if mine.recovered:
            assert idx[idx.get_loc(mine.recovery) - 1] == pd.Timestamp(theirs.end)


# ------------------------------------------------------------ hand examples
def test_drawdown_table_hand_example(fixtures_dir):
    px = pd.read_csv(
        fixtures_dir / "analytics_risk/drawdown_example.csv", comment="#", parse_dates=["date"]
    ).set_index("date")["price"]
    r = RT.simple_returns(px).rename("X")
    t = K.drawdown_table(r, top=5).to_frame()
    assert list(t["peak"].dt.strftime("%m-%d")) == ["01-09", "01-03", "01-12"]
    assert list(t["trough"].dt.strftime("%m-%d")) == ["01-11", "01-05", "01-15"]
    assert list(t["recovery"].dt.strftime("%m-%d").fillna("-")) == ["01-12", "01-08", "-"]
    assert_allclose(t["depth"], [-0.25, -0.20, 1.1495 / 1.22 - 1], rtol=1e-12)
    assert list(t["decline_periods"]) == [2, 2, 1]
    assert_allclose(t["recovery_periods"], [1, 1, np.nan])
    assert list(t["duration_periods"]) == [3, 3, 1]
    assert list(t["duration_days"]) == [3, 5, 3]
    assert list(t["recovered"]) == [True, True, False]
    assert (t["symbol"] == "X").all()
    assert len(K.drawdown_table(r, top=1).to_frame()) == 1
    assert_allclose(K.max_drawdown(r), -0.25, rtol=1e-12)


def test_first_day_loss_is_a_drawdown_from_the_anchor():
    idx = pd.bdate_range("2024-01-01", periods=5)
    px = pd.Series([100.0, 90.0, 95.0, 101.0, 99.0], index=idx)
    r = RT.simple_returns(px)
    t = K.drawdown_table(r).to_frame()
    assert t["peak"].iloc[0] == idx[0]  # the price before the first return
    assert t["trough"].iloc[0] == idx[1] and t["recovery"].iloc[0] == idx[3]
    assert_allclose(K.max_drawdown(r), -0.10, rtol=1e-12)
    assert_allclose(K.drawdown(r).to_numpy(), [np.nan, -0.1, -0.05, 0.0, 99 / 101 - 1], rtol=1e-12)


def test_returns_nan_rules_and_skip_gaps():
    idx = pd.bdate_range("2024-01-01", periods=6)
    px = pd.DataFrame(
        {"A": [1.0, 2.0, np.nan, 3.0, 6.0, np.nan], "B": [np.nan, np.nan, 4.0, 5.0, 5.0, 2.5]},
        index=idx,
    )
    r = RT.simple_returns(px)
    assert_allclose(r["A"], [np.nan, 1.0, np.nan, np.nan, 1.0, np.nan])
    assert_allclose(r["B"], [np.nan, np.nan, np.nan, 0.25, 0.0, -0.5])
    assert_allclose(r.to_numpy(), px.pct_change(fill_method=None).to_numpy())
    g = RT.simple_returns(px, skip_gaps=True)
    assert_allclose(g["A"], [np.nan, 1.0, np.nan, 0.5, 1.0, np.nan])
    lg = RT.log_returns(px, skip_gaps=True)
    assert_allclose(lg["A"], np.log1p(g["A"]), rtol=1e-14)
    s = RT.simple_returns(px["A"])
    assert isinstance(s, pd.Series) and s.name == "A"
    _close(RT.simple_returns(px["B"].dropna()).iloc[1:], empyrical.simple_returns(px["B"].dropna()))


def test_bad_prices_raise_with_symbol_and_date():
    px = pd.DataFrame(
        {"A": [1.0, 2.0], "BAD": [1.0, 0.0]}, index=pd.to_datetime(["2024-01-02", "2024-01-03"])
    )
    with pytest.raises(DataError, match=r"'BAD' on 2024-01-03"):
        RT.simple_returns(px)
    with pytest.raises(ParameterError, match="pandas"):
        RT.simple_returns(np.ones(3))


def test_cumulative_and_total_returns():
    rng = np.random.default_rng(4)
    r = pd.DataFrame(
        rng.normal(0.001, 0.02, (300, 3)),
        columns=list("abc"),
        index=pd.bdate_range("2020-01-01", periods=300),
    )
    _close(RT.cumulative_returns(r), empyrical.cum_returns(r))
    _close(RT.total_return(r), qs.stats.comp(r))
    lr = np.log1p(r)
    _close(RT.cumulative_returns(lr, log=True), np.log1p(RT.cumulative_returns(r)), rtol=1e-11)
    holes = r.copy()
    holes.iloc[:20, 0] = np.nan  # late start
    holes.iloc[100, 0] = np.nan  # one missing day
    cum = RT.cumulative_returns(holes)
    assert cum["a"].iloc[:20].isna().all() and np.isnan(cum["a"].iloc[100])
    # after the hole compounding resumes as if the missing return were 0
    _close(cum["a"].iloc[150], (1 + holes["a"].iloc[20:151].fillna(0.0)).prod() - 1)
    assert np.isnan(RT.total_return(pd.Series([np.nan, np.nan])))


def test_periods_per_year_rules():
    classes = pd.Series(
        {"NVDA": "equity", "SPY": "etf", "SPX": "index", "BTC": "crypto", "USDT": "stablecoin"}
    )
    assert RT.periods_per_year(classes).tolist() == [252, 252, 252, 365, 365]
    assert (RT.periods_per_year(classes, "W") == 52).all()
    assert (RT.periods_per_year(classes, "W-FRI") == 52).all()
    assert (RT.periods_per_year(classes, calendar="sessions") == 252).all()
    assert (RT.periods_per_year(classes, calendar="all_days") == 365).all()
    with pytest.raises(ParameterError, match="'XYZ' has asset class 'bond'"):
        RT.periods_per_year({"XYZ": "bond"})
    with pytest.raises(ParameterError, match="frequency"):
        RT.periods_per_year(classes, "H")


def test_infer_periods_per_year_from_observation_density():
    sessions = pd.bdate_range("2020-01-01", "2023-12-31")
    days = pd.date_range("2020-01-01", "2023-12-31")
    assert RT.infer_periods_per_year(sessions) == 252
    assert RT.infer_periods_per_year(days) == 365
    assert RT.infer_periods_per_year(pd.date_range("2015-01-02", periods=300, freq="W-FRI")) == 52
    assert RT.infer_periods_per_year(pd.date_range("2015-01-31", periods=60, freq="ME")) == 12
    # one frame on an every-day index: crypto valid every day, an equity only on weekdays
    frame = pd.DataFrame({"BTC": 1.0, "SPY": 1.0}, index=days)
    frame.loc[frame.index.day_of_week >= 5, "SPY"] = np.nan
    assert RT.infer_periods_per_year(frame).to_dict() == {"BTC": 365.0, "SPY": 252.0}
    frame["NEW"] = np.nan
    assert np.isnan(RT.infer_periods_per_year(frame)["NEW"])


def test_resolve_periods_per_year_order():
    idx = pd.date_range("2015-01-02", periods=200, freq="W-FRI")
    r = pd.DataFrame(0.01, index=idx, columns=["NVDA", "BTC"])
    assert_array_equal(RT.resolve_periods_per_year(r, periods_per_year=12), [12, 12])
    assert_array_equal(
        RT.resolve_periods_per_year(r, periods_per_year=pd.Series({"BTC": 365, "NVDA": 252})),
        [252, 365],
    )
    assert_array_equal(
        RT.resolve_periods_per_year(r, asset_classes={"NVDA": "equity", "BTC": "crypto"}), [52, 52]
    )
    assert_array_equal(RT.resolve_periods_per_year(r), [52, 52])
    with pytest.raises(ParameterError, match="NVDA"):
        RT.resolve_periods_per_year(r, periods_per_year=pd.Series({"BTC": 365}))
    with pytest.raises(ParameterError, match="asset class"):
        RT.resolve_periods_per_year(r, asset_classes={"BTC": "crypto"})
    with pytest.raises(ParameterError, match="positive"):
        RT.resolve_periods_per_year(r, periods_per_year=0)


def test_deannualize_rate_is_quantstats_conversion():
    from quantstats.utils import to_excess_returns

    r = pd.Series([0.01, -0.02, 0.005], index=pd.bdate_range("2024-01-01", periods=3))
    _close(r - RT.deannualize_rate(0.05, 252), to_excess_returns(r, 0.05, 252))
    assert_allclose((1 + RT.deannualize_rate(0.05, 365)) ** 365, 1.05, rtol=1e-12)


def test_resample_returns_weekly_matches_weekly_prices():
    days = pd.bdate_range("2023-01-02", "2023-06-28")  # ends on a Wednesday
    rng = np.random.default_rng(8)
    px = pd.DataFrame(
        100 * np.exp(np.cumsum(rng.normal(0, 0.01, (len(days), 2)), axis=0)),
        index=days,
        columns=["a", "b"],
    )
    daily = RT.simple_returns(px)
    weekly = RT.resample_returns(daily)
    assert (weekly.index.day_of_week == 4).all()  # Fridays
    assert weekly.index[-1] == pd.Timestamp("2023-06-23")  # the unfinished week is dropped
    ref = px.resample("W-FRI").last().pct_change(fill_method=None).loc[weekly.index]
    _close(weekly.iloc[1:], ref.iloc[1:], rtol=1e-12)
    # the first (partial) week compounds the returns it has
    _close(weekly.iloc[0], px.loc["2023-01-06"] / px.iloc[0] - 1, rtol=1e-12)
    logw = RT.resample_returns(RT.log_returns(px), log=True)
    _close(logw, np.log1p(weekly), rtol=1e-11)
    kept = RT.resample_returns(daily, drop_incomplete=False)
    assert kept.index[-1] == pd.Timestamp("2023-06-30")
    single = RT.resample_returns(daily["a"])
    assert isinstance(single, pd.Series) and single.name == "a"
    with pytest.raises(ParameterError, match="DatetimeIndex"):
        RT.resample_returns(daily.reset_index(drop=True))


# ---------------------------------------------------------- vector / NaN
def test_frame_measures_equal_per_column_and_late_listing():
    rng = np.random.default_rng(12)
    idx = pd.bdate_range("2019-01-01", periods=600)
    r = pd.DataFrame(rng.normal(0.0005, 0.015, (600, 3)), index=idx, columns=["A", "B", "LATE"])
    r.iloc[:400, 2] = np.nan
    r.iloc[[50, 51, 300], 0] = np.nan
    tab = K.risk_table(r, periods_per_year=252, level=0.99, var_method="gaussian").to_frame()
    for col in r.columns:
        s = r[col].dropna()
        _close(tab.loc[col, "volatility"], empyrical.annual_volatility(s, annualization=252))
        _close(tab.loc[col, "max_drawdown"], empyrical.max_drawdown(s))
        _close(tab.loc[col, "sortino"], empyrical.sortino_ratio(s, annualization=252))
        _close(tab.loc[col, "var"], qs.stats.value_at_risk(s, confidence=0.99))
        _close(tab.loc[col, "cagr"], qs.stats.cagr(s, periods=252))
    assert tab.loc["LATE", "observations"] == 200
    assert tab.loc["LATE", "first_date"] == idx[400]


def test_short_columns_nan_and_empty_raise():
    idx = pd.bdate_range("2024-01-01", periods=10)
    r = pd.DataFrame(
        {"ok": np.linspace(-0.01, 0.01, 10), "short": [np.nan] * 9 + [0.01]}, index=idx
    )
    vol = K.annualized_volatility(r, periods_per_year=252)
    assert np.isfinite(vol["ok"]) and np.isnan(vol["short"])
    assert np.isnan(K.risk_table(r, periods_per_year=252).to_frame().loc["short", "sharpe"])
    # inferred annualisation: the one-observation column has no factor, and no measures
    inferred = K.risk_table(r, min_periods=1).to_frame()
    assert inferred.loc["ok", "periods_per_year"] == 252 and np.isnan(
        inferred.loc["short", "volatility"]
    )
    assert np.isnan(inferred.loc["short", "periods_per_year"]) and np.isnan(
        inferred.loc["short", "cagr"]
    )
    with pytest.raises(DataError, match="too little data"):
        K.annualized_volatility(r[["short"]], periods_per_year=252)
    with pytest.raises(ParameterError, match="level"):
        K.value_at_risk(r, 95)
    with pytest.raises(ParameterError, match="method"):
        K.value_at_risk(r, method="cornish")
    with pytest.raises(DataError, match="-100%"):
        K.max_drawdown(pd.Series([0.1, -1.0]))


def test_risk_free_series_is_carried_forward_only():
    rng = np.random.default_rng(9)
    idx = pd.bdate_range("2022-01-03", periods=300)
    r = pd.Series(rng.normal(0.0004, 0.01, 300), index=idx)
    rf_daily = pd.Series(np.linspace(0.0, 0.0002, 300), index=idx)
    _close(
        K.sharpe_ratio(r, rf_daily, periods_per_year=252),
        empyrical.sharpe_ratio(r, rf_daily, annualization=252),
    )
    # a monthly series (published at month starts) is carried forward, never backward
    monthly = rf_daily.resample("MS").first()
    monthly.index = monthly.index + pd.Timedelta(days=2)
    carried = monthly.reindex(idx, method="ffill")
    keep = carried.notna()
    _close(
        K.sharpe_ratio(r, monthly, periods_per_year=252),
        empyrical.sharpe_ratio(r[keep], carried[keep], annualization=252),
    )


def test_periods_per_year_inferred_when_not_given():
    rng = np.random.default_rng(1)
    days = pd.date_range("2021-01-01", periods=800)
    r = pd.Series(rng.normal(0, 0.03, 800), index=days)
    _close(K.annualized_volatility(r), r.std() * np.sqrt(365))
    r_sessions = r[r.index.day_of_week < 5]
    _close(K.annualized_volatility(r_sessions), r_sessions.std() * np.sqrt(252))
    # asset classes use the native calendar rule, whatever the dates
    frame = r_sessions.to_frame("BTC")
    _close(
        K.annualized_volatility(frame, asset_classes={"BTC": "crypto"})["BTC"],
        r_sessions.std() * np.sqrt(365),
    )
    _close(
        K.annualized_volatility(frame, asset_classes={"BTC": "crypto"}, calendar="sessions")["BTC"],
        r_sessions.std() * np.sqrt(252),
    )


# ------------------------------------------------- look-ahead: property test
@st.composite
def _returns_and_cut(draw):
    T = draw(st.integers(3, 120))
    N = draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    r = rng.normal(0.0, draw(st.sampled_from([0.001, 0.02, 0.2])), (T, N)).clip(-0.9, None)
    r[rng.random((T, N)) < draw(st.floats(0.0, 0.4))] = np.nan
    window = draw(st.integers(2, 30))
    minp = draw(st.integers(2, window))
    cut = draw(st.integers(1, T))
    idx = pd.bdate_range("2020-01-01", periods=T)
    return pd.DataFrame(r, index=idx), window, minp, cut


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_returns_and_cut())
def test_trailing_risk_measures_have_no_look_ahead(case):
    r, window, minp, cut = case
    past = r.iloc[:cut]
    if past.notna().sum().max() < 1:
        return
    checks = [
        (lambda f: K.rolling_volatility(f, window, periods_per_year=252, min_periods=minp)),
        (lambda f: K.rolling_sharpe(f, window, 0.0001, periods_per_year=252, min_periods=minp)),
        (lambda f: K.rolling_sortino(f, window, periods_per_year=252, min_periods=minp)),
        (lambda f: K.rolling_max_drawdown(f, window, min_periods=minp)),
        (lambda f: K.drawdown(f)),
        (lambda f: RT.cumulative_returns(f)),
    ]
    for fn in checks:
        full, part = fn(r).iloc[:cut], fn(past)
        assert_allclose(full.to_numpy(), part.to_numpy(), rtol=1e-12, atol=1e-15, equal_nan=True)


# ----------------------------------------------------- real panel sanity
@pytest.mark.shared_data
def test_btc_volatility_exceeds_spy_2018_2025(real_panel):
    r = real_panel.returns.loc["2018":"2025", ["BTC", "SPY"]]
    vol = K.annualized_volatility(r, periods_per_year=real_panel.periods_per_year())
    assert vol["BTC"] > 2 * vol["SPY"]
    assert 0.10 < vol["SPY"] < 0.30 and 0.4 < vol["BTC"] < 1.2
    # the same with annualisation inferred from the dates of the panel
    inferred = K.annualized_volatility(r)
    _close(inferred, vol)


@pytest.mark.shared_data
def test_crypto_majors_2022_drawdown_deeper_than_60pct(real_panel):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        basket = real_panel.basket_returns("crypto_majors")
    assert K.max_drawdown(basket.loc["2022"]) < -0.60
    members = real_panel.returns.loc["2022", ["BTC", "ETH", "SOL"]]
    mdd = K.max_drawdown(members)
    assert (mdd < -0.60).all(), mdd
    table = K.drawdown_table(members["BTC"], top=1).to_frame()
    assert table["trough"].iloc[0].year == 2022 and table["depth"].iloc[0] < -0.6
