"""Co-movement measures vs statsmodels, scipy, pandas and closed forms."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import stats
from statsmodels.tsa.stattools import ccf, grangercausalitytests

from rotation.analytics import comovement as C
from rotation.errors import DataError, ParameterError


def _weekly(n: int, start: str = "2018-01-05") -> pd.DatetimeIndex:
    return pd.date_range(start, periods=n, freq="W-FRI", name="date")


def _ar1(rng: np.random.Generator, n: int, phi: float, size: int | None = None) -> np.ndarray:
    shape = (n,) if size is None else (size, n)
    e = rng.standard_normal(shape)
    out = np.empty(shape)
    out[..., 0] = e[..., 0] / np.sqrt(1 - phi**2)
    for t in range(1, n):
        out[..., t] = phi * out[..., t - 1] + e[..., t]
    return out


@pytest.fixture
def three(request) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Two baskets loading on a market factor with residuals correlated at about -0.3."""
    rng = np.random.default_rng(0)
    n = 300
    idx = _weekly(n)
    m = rng.standard_normal(n) * 0.02
    ea = rng.standard_normal(n) * 0.01
    eb = -0.3 * ea + rng.standard_normal(n) * 0.01
    a = pd.Series(0.001 + 1.2 * m + ea, idx, name="ai")
    b = pd.Series(0.9 * m + eb, idx, name="crypto")
    return a, b, pd.Series(m, idx, name="spy")


# ------------------------------------------------------- rolling corr / beta
def test_rolling_correlation_and_beta_match_pandas():
    rng = np.random.default_rng(1)
    idx = pd.bdate_range("2020-01-01", periods=500)
    bench = pd.Series(rng.normal(0, 0.01, 500), idx, name="SMH")
    x = pd.DataFrame(
        {"NVDA": 1.5 * bench + rng.normal(0, 0.01, 500), "BTC": rng.normal(0, 0.03, 500)}, index=idx
    )
    x.iloc[:100, 1] = np.nan  # late listing
    x.iloc[250:260, 0] = np.nan
    corr = C.rolling_correlation(x, bench, 60, min_periods=40)
    ref = x.rolling(60, min_periods=40).corr(bench)
    assert_allclose(corr.to_numpy(), ref.to_numpy(), rtol=1e-9, atol=1e-12)
    beta = C.rolling_beta(x, bench, 60, min_periods=40)
    bvar = pd.DataFrame({c: bench.where(x[c].notna()) for c in x}).rolling(60, min_periods=40).var()
    assert_allclose(
        beta.to_numpy(), (x.rolling(60, min_periods=40).cov(bench) / bvar).to_numpy(), rtol=1e-8
    )
    # two baskets: Series in, Series out, aligned on common dates
    shifted = bench.iloc[5:]
    pair = C.rolling_correlation(x["NVDA"], shifted, 30)
    assert isinstance(pair, pd.Series) and pair.index.equals(shifted.index)


def test_full_window_beta_and_correlation_references():
    import empyrical

    rng = np.random.default_rng(2)
    idx = _weekly(400)
    bench = pd.Series(rng.normal(0, 0.02, 400), idx)
    x = pd.DataFrame(
        {
            "a": 0.002 + 1.1 * bench + rng.normal(0, 0.01, 400),
            "b": -0.5 * bench + rng.normal(0, 0.02, 400),
        }
    )
    x.index = idx
    x.iloc[:50, 1] = np.nan
    b = C.beta(x, bench)
    for col in x:
        keep = x[col].notna()
        fit = sm.OLS(x[col][keep], sm.add_constant(bench[keep])).fit()
        assert_allclose(b[col], fit.params.iloc[1], rtol=1e-10)
        assert_allclose(
            C.correlation(x[col], bench),
            stats.pearsonr(x[col][keep], bench[keep]).statistic,
            rtol=1e-10,
        )
    assert_allclose(b["a"], empyrical.beta(x["a"], bench), rtol=1e-10)
    with pytest.raises(DataError, match="min_periods"):
        C.beta(x.iloc[:5], bench)


# ---------------------------------------------------- residual correlation
def test_residual_correlation_references(three):
    a, b, m = three
    res = C.residual_correlation(a, b, m, hac_lags=4)
    X = sm.add_constant(m.to_numpy())
    fa, fb = sm.OLS(a.to_numpy(), X).fit(), sm.OLS(b.to_numpy(), X).fit()
    assert_allclose(res.residuals["ai"], fa.resid, atol=1e-15)
    assert_allclose(res.residuals["crypto"], fb.resid, atol=1e-15)
    assert_allclose(
        [res.alpha_a, res.beta_a, res.alpha_b, res.beta_b], [*fa.params, *fb.params], rtol=1e-10
    )
    assert_allclose(res.correlation, stats.pearsonr(fa.resid, fb.resid).statistic, rtol=1e-12)
    assert_allclose(res.raw_correlation, stats.pearsonr(a, b).statistic, rtol=1e-12)
    # iid p-value: the residual correlation is the partial correlation, whose t-test
    # is the t-test of b's coefficient in a ~ 1 + m + b (Frisch-Waugh-Lovell)
    full = sm.OLS(a.to_numpy(), np.column_stack([np.ones(len(a)), m, b])).fit()
    assert_allclose(res.p_value_iid, full.pvalues[2], rtol=1e-9)
    # HAC stderr: Newey-West long-run variance of the influence function psi,
    # the same as statsmodels' HAC standard error of a mean (no small-sample correction)
    za = (fa.resid - fa.resid.mean()) / fa.resid.std()
    zb = (fb.resid - fb.resid.mean()) / fb.resid.std()
    rho = res.correlation
    psi = za * zb - rho / 2 * (za**2 + zb**2)
    hac = sm.OLS(psi, np.ones(len(psi))).fit(
        cov_type="HAC", cov_kwds={"maxlags": 4, "use_correction": False}
    )
    assert_allclose(res.stderr, hac.bse[0], rtol=1e-10)
    assert_allclose(res.p_value, 2 * stats.norm.sf(abs(rho / res.stderr)), rtol=1e-12)
    assert res.ci_low < rho < res.ci_high and res.ci_high < 0  # a siphon, significantly negative
    assert res.n == 300 and res.hac_lags == 4 and res.names == ("ai", "crypto", "spy")
    frame = res.to_frame()
    assert frame.shape[0] == 1 and frame["residual_correlation"].iloc[0] == rho


def test_residual_correlation_iid_closed_form_stderr():
    # lags=0 and Gaussian iid data: se(rho) -> (1 - rho^2)/sqrt(n) (classical large-sample result)
    rng = np.random.default_rng(5)
    n = 20_000
    m = rng.standard_normal(n)
    e1 = rng.standard_normal(n)
    e2 = 0.5 * e1 + np.sqrt(0.75) * rng.standard_normal(n)
    idx = pd.date_range("1950-01-01", periods=n)
    res = C.residual_correlation(
        pd.Series(m + e1, idx), pd.Series(2 * m + e2, idx), pd.Series(m, idx), hac_lags=0
    )
    assert abs(res.correlation - 0.5) < 0.02
    assert_allclose(res.stderr, (1 - res.correlation**2) / np.sqrt(n), rtol=0.05)


def test_hac_inference_holds_size_under_autocorrelation():
    """Independent AR(1) residuals (phi = 0.7): the naive test over-rejects, HAC does not.

    Two-series product variance inflation is (1 + phi^2) / (1 - phi^2) ~ 2.9, so the
    iid test rejects ~25% of true nulls at 5%; Newey-West should stay near 5%.
    """
    rng = np.random.default_rng(12345)
    sims, n = 300, 500
    idx = _weekly(n, "1990-01-05")
    ea, eb = _ar1(rng, n, 0.7, sims), _ar1(rng, n, 0.7, sims)
    m = rng.standard_normal((sims, n))
    rej_hac = rej_iid = 0
    for k in range(sims):
        res = C.residual_correlation(
            pd.Series(m[k] + ea[k], idx), pd.Series(-m[k] + eb[k], idx), pd.Series(m[k], idx)
        )
        rej_hac += res.p_value < 0.05
        rej_iid += res.p_value_iid < 0.05
    assert rej_iid / sims > 0.15
    assert rej_hac / sims < 0.11


def test_residual_correlation_data_errors(three):
    a, b, m = three
    with pytest.raises(DataError, match="at least 30"):
        C.residual_correlation(a.iloc[:20], b, m)
    with pytest.raises(DataError, match="constant"):
        C.residual_correlation(a, b, m * 0 + 1.0)
    restricted = C.residual_correlation(a, b, m, start="2020-01-01", end="2021-12-31")
    assert restricted.start >= pd.Timestamp("2020-01-01") and restricted.end <= pd.Timestamp(
        "2021-12-31"
    )
    with pytest.raises(ParameterError, match="level"):
        C.residual_correlation(a, b, m, level=95)


def test_rolling_residual_correlation_equals_per_window_regressions(three):
    a, b, m = three
    a = a.copy()
    a.iloc[[30, 31, 200]] = np.nan
    roll = C.rolling_residual_correlation(a, b, m, 52, min_periods=40)
    for t in (60, 150, 201, 299):
        win = pd.concat([a, b, m], axis=1).iloc[t - 51 : t + 1].dropna()
        X = sm.add_constant(win["spy"].to_numpy())
        ra = sm.OLS(win["ai"].to_numpy(), X).fit()
        rb = sm.OLS(win["crypto"].to_numpy(), X).fit()
        assert_allclose(
            roll["residual_correlation"].iloc[t],
            stats.pearsonr(ra.resid, rb.resid).statistic,
            rtol=1e-9,
        )
        assert_allclose(roll["beta_a"].iloc[t], ra.params[1], rtol=1e-9)
        assert roll["n"].iloc[t] == len(win)
        full = sm.OLS(
            win["ai"].to_numpy(), np.column_stack([np.ones(len(win)), win["spy"], win["crypto"]])
        ).fit()
        assert_allclose(roll["p_value_iid"].iloc[t], full.pvalues[2], rtol=1e-7)
    assert roll["residual_correlation"].iloc[:39].isna().all()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.integers(40, 120), st.integers(5, 30), st.floats(0.0, 0.3))
def test_rolling_comovement_has_no_look_ahead(seed, n, cut_back, nan_share):
    rng = np.random.default_rng(seed)
    idx = _weekly(n)
    data = rng.standard_normal((n, 3))
    data[rng.random((n, 3)) < nan_share] = np.nan
    a, b, m = (pd.Series(data[:, j], idx) for j in range(3))
    cut = n - cut_back
    full = C.rolling_residual_correlation(a, b, m, 20, min_periods=8).iloc[:cut]
    past = C.rolling_residual_correlation(
        a.iloc[:cut], b.iloc[:cut], m.iloc[:cut], 20, min_periods=8
    )
    assert_allclose(full.to_numpy(), past.to_numpy(), rtol=1e-12, atol=1e-14, equal_nan=True)
    for fn in (C.rolling_correlation, C.rolling_beta):
        f, p = (
            fn(a, m, 20, min_periods=8).iloc[:cut],
            fn(a.iloc[:cut], m.iloc[:cut], 20, min_periods=8),
        )
        assert_allclose(f.to_numpy(), p.to_numpy(), rtol=1e-12, atol=0, equal_nan=True)


# ------------------------------------------------------------------ lead-lag
def test_cross_correlation_matches_statsmodels_ccf(three):
    a, b, _ = three
    ll = C.cross_correlation(a, b, 6, bands="white")
    pos = ccf(a.to_numpy(), b.to_numpy(), adjusted=False, nlags=7)
    neg = ccf(b.to_numpy(), a.to_numpy(), adjusted=False, nlags=7)
    assert_allclose(ll.correlation[6:], pos, rtol=1e-10)
    assert_allclose(ll.correlation[:7][::-1], neg, rtol=1e-10)
    conf = ccf(a.to_numpy(), b.to_numpy(), adjusted=False, nlags=7, alpha=0.05).confint
    assert_allclose(ll.band[6:], conf[:, 1] - pos, rtol=1e-10)
    assert_allclose(
        ll.p_value, 2 * stats.norm.sf(np.abs(ll.correlation) * np.sqrt(300)), rtol=1e-10
    )
    assert list(ll.lags) == list(range(-6, 7))
    table = ll.to_frame()
    assert list(table.columns[:3]) == ["lag", "leader", "correlation"]


def test_cross_correlation_closed_form_lead():
    # x_t = y_{t-3} + small noise: y leads x by 3 periods, so r(+3) ~ 1 and the other lags ~ 0
    rng = np.random.default_rng(3)
    n = 400
    base = rng.standard_normal(n + 3)
    idx = _weekly(n)
    x = pd.Series(base[:-3] + 0.05 * rng.standard_normal(n), idx, name="btc")
    y = pd.Series(base[3:], idx, name="liquidity")
    ll = C.cross_correlation(x, y, 5)
    assert ll.peak_lag == 3
    assert ll.correlation[ll.lags == 3][0] > 0.95  # (n-3)/n of the pairs enter: ~0.99 * 0.9925
    assert set(ll.significant_lags) == {3}
    assert ll.to_frame().set_index("lag").loc[3, "leader"] == "liquidity"
    # swapping the arguments mirrors the lags
    assert C.cross_correlation(y, x, 5).peak_lag == -3


def test_bartlett_bands_hold_size_for_autocorrelated_series():
    rng = np.random.default_rng(77)
    sims, n = 300, 300
    idx = _weekly(n, "1995-01-06")
    xs, ys = _ar1(rng, n, 0.7, sims), _ar1(rng, n, 0.7, sims)
    rej = {"white": 0, "bartlett": 0}
    for k in range(sims):
        x, y = pd.Series(xs[k], idx), pd.Series(ys[k], idx)
        for bands in rej:
            ll = C.cross_correlation(x, y, 1, bands=bands)
            rej[bands] += ll.p_value[ll.lags == 0][0] < 0.05
    assert rej["white"] / sims > 0.15
    assert rej["bartlett"] / sims < 0.10


def test_cross_correlation_gaps_and_lengths():
    idx = _weekly(100)
    rng = np.random.default_rng(0)
    x = pd.Series(rng.standard_normal(100), idx)
    y = pd.Series(rng.standard_normal(100), idx)
    x_lead_nan = x.copy()
    x_lead_nan.iloc[:5] = np.nan  # leading NaN: trimmed
    assert C.cross_correlation(x_lead_nan, y, 3).n == 95
    holed = x.copy()
    holed.iloc[50] = np.nan
    with pytest.raises(DataError, match=str(idx[50].date())):
        C.cross_correlation(holed, y, 3)
    with pytest.raises(DataError, match="at least"):
        C.cross_correlation(x.iloc[:10], y, 3)
    with pytest.raises(ParameterError, match="bands"):
        C.cross_correlation(x, y, 3, bands="loose")


# ------------------------------------------------------------------- Granger
def _ssr(y: np.ndarray, X: np.ndarray) -> float:
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ coef
    return float(resid @ resid)


def test_granger_matches_statsmodels_and_closed_form_f():
    rng = np.random.default_rng(9)
    n = 400
    y = rng.standard_normal(n)
    x = np.zeros(n)
    for t in range(1, n):  # y causes x with one lag; x does not cause y
        x[t] = 0.2 * x[t - 1] + 0.5 * y[t - 1] + rng.standard_normal()
    idx = _weekly(n)
    res = C.granger_causality(
        pd.Series(x, idx, name="btc"), pd.Series(y, idx, name="liquidity"), 3, ic="bic"
    )
    p_yx = res.p_values("liquidity", "btc")
    p_xy = res.p_values("btc", "liquidity")
    ref_yx = grangercausalitytests(np.column_stack([x, y]), 3)
    ref_xy = grangercausalitytests(np.column_stack([y, x]), 3)
    for lag in (1, 2, 3):
        assert_allclose(p_yx[lag], ref_yx[lag][0]["ssr_ftest"][1], rtol=1e-12)
        assert_allclose(p_xy[lag], ref_xy[lag][0]["ssr_ftest"][1], rtol=1e-12)
    # closed form at lag 2: F = ((SSR_r - SSR_u)/p) / (SSR_u/(n - p - 2p - 1))
    p = 2
    tgt = x[p:]
    lags_x = np.column_stack([x[p - k : n - k] for k in range(1, p + 1)])
    lags_y = np.column_stack([y[p - k : n - k] for k in range(1, p + 1)])
    ones = np.ones((n - p, 1))
    ssr_r, ssr_u = (
        _ssr(tgt, np.hstack([lags_x, ones])),
        _ssr(tgt, np.hstack([lags_x, lags_y, ones])),
    )
    dfd = (n - p) - 2 * p - 1
    f = ((ssr_r - ssr_u) / p) / (ssr_u / dfd)
    row = res.to_frame().query("cause == 'liquidity' and lag == 2").iloc[0]
    assert_allclose(row["f_stat"], f, rtol=1e-9)
    assert_allclose(row["p_value"], stats.f.sf(f, p, dfd), rtol=1e-9)
    assert row["df_denom"] == dfd and row["df_num"] == p
    assert p_yx[1] < 1e-10 and p_xy.min() > 0.01
    assert res.selected_lag == 1 and res.p_value_at_selected("liquidity", "btc") == p_yx[1]
    with pytest.raises(ParameterError, match="no test"):
        res.p_values("btc", "gold")


def test_granger_rejects_gaps_and_short_samples():
    idx = _weekly(60)
    x = pd.Series(np.random.default_rng(1).standard_normal(60), idx)
    y = x.shift(1).fillna(0.0)
    holed = x.copy()
    holed.iloc[30] = np.nan
    with pytest.raises(DataError, match="inside the sample"):
        C.granger_causality(holed, y, 2)
    with pytest.raises(DataError, match="at least"):
        C.granger_causality(x.iloc[:12], y, 4)
    with pytest.raises(ParameterError, match="ic"):
        C.granger_causality(x, y, 2, ic="best")


# --------------------------------------------------------- real-panel sanity
@pytest.mark.shared_data
def test_ai_compute_beta_to_smh_is_near_one_weekly(real_weekly_panel):
    panel = real_weekly_panel
    smh = panel.returns["SMH"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        equal = panel.basket_returns("ai_compute", weighting="equal").loc["2018":"2025"]
        default = panel.basket_returns("ai_compute")
    # equal weights have the full 2018-2025 history
    assert 0.7 <= C.beta(equal, smh) <= 1.3
    assert C.correlation(equal, smh) > 0.8
    # the default (cap-weighted) index only where member caps exist
    if default.notna().sum() >= 20:
        assert 0.7 <= C.beta(default, smh) <= 1.3
