"""Change points vs ruptures and known breaks; Chow / volatility / correlation break tests vs references."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import ruptures as rpt
import statsmodels.api as sm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import stats

from rotation.analytics import breaks as B
from rotation.errors import DataError, ParameterError


def _weekly(n: int, start: str = "2015-01-02") -> pd.DatetimeIndex:
    return pd.date_range(start, periods=n, freq="W-FRI", name="date")


@pytest.fixture(scope="module")
def two_breaks() -> pd.Series:
    """Mean shift at row 100, volatility x3 at row 200 (known truth)."""
    rng = np.random.default_rng(5)
    y = np.concatenate([rng.normal(0, 1, 100), rng.normal(1.5, 1, 100), rng.normal(1.5, 3, 100)]) * 0.01
    return pd.Series(y, _weekly(300), name="sim")


# ----------------------------------------------------------------------------- change points vs ruptures
def test_change_points_equal_ruptures_builtin_costs(two_breaks):
    y = two_breaks.to_numpy()
    n = len(y)
    # normal: z-score, BIC penalty 3 ln n (mean, variance, location)
    z = (y - y.mean()) / y.std()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = rpt.Pelt(model="normal", min_size=10, jump=1).fit(z).predict(pen=3 * np.log(n))
        ref5 = rpt.Pelt(model="normal", min_size=10, jump=5).fit(z).predict(pen=3 * np.log(n))
        ref_bs = rpt.Binseg(model="normal", min_size=10, jump=1).fit(z).predict(n_bkps=2)
    res = B.change_points(two_breaks)
    assert list(res.break_rows) == ref[:-1]
    assert res.penalty == pytest.approx(3 * np.log(n)) and res.penalty_rule == "bic"
    assert list(B.change_points(two_breaks, jump=5).break_rows) == ref5[:-1]
    assert list(B.change_points(two_breaks, method="binseg", n_breaks=2).break_rows) == ref_bs[:-1]
    # l2: robust scale from first differences (scipy's normal-consistent MAD / sqrt 2), BIC 2 ln n
    sigma = stats.median_abs_deviation(np.diff(y), scale="normal") / np.sqrt(2)
    zl = (y - np.median(y)) / sigma
    ref_l2 = rpt.Pelt(model="l2", min_size=10, jump=1).fit(zl).predict(pen=2 * np.log(n))
    res_l2 = B.change_points(two_breaks, model="l2")
    assert list(res_l2.break_rows) == ref_l2[:-1]
    assert res_l2.scale == pytest.approx(sigma, rel=1e-12)


def test_cumsum_costs_equal_ruptures_costs():
    rng = np.random.default_rng(0)
    z = rng.standard_t(4, 300)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        normal = rpt.costs.CostNormal().fit(z)
    l2 = rpt.costs.CostL2().fit(z)
    mine_n, mine_l = B._CumsumNormalCost().fit(z), B._CumsumL2Cost().fit(z)
    for a, b in [(0, 300), (0, 2), (17, 90), (250, 299)]:
        assert mine_n.error(a, b) == pytest.approx(normal.error(a, b), rel=1e-9, abs=1e-9)
        assert mine_l.error(a, b) == pytest.approx(l2.error(a, b), rel=1e-9, abs=1e-9)
    with pytest.raises(rpt.costs.NotEnoughPoints):
        mine_n.error(5, 6)


@settings(max_examples=60, deadline=None)
@given(
    data=st.lists(st.floats(-50, 50, allow_nan=False, allow_infinity=False), min_size=20, max_size=150),
    model=st.sampled_from(["normal", "l2"]),
    min_size=st.integers(2, 9),
    pen_scale=st.floats(0.2, 2.0),
)
def test_numpy_pelt_equals_ruptures_pelt(data, model, min_size, pen_scale):
    """The expanding variant's Pelt is ruptures' Pelt (same breakpoints) on any signal."""
    y = np.asarray(data)
    if y.std() == 0 or len(y) < 2 * min_size:
        return
    try:
        z, _, _ = B._standardise(y, model, "x")
    except DataError:
        return
    pen = B._penalty_value("bic", model, len(z)) * pen_scale
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = rpt.Pelt(model=model, min_size=min_size, jump=1).fit(z).predict(pen=pen)
    cumsum = rpt.Pelt(custom_cost=B._COSTS[model][0](), min_size=min_size, jump=1).fit(z).predict(pen=pen)
    mine = B._pelt(z, pen, min_size, model)
    assert mine == cumsum
    # ruptures' slice-variance cost can differ in the last bits: only near-ties may differ
    if mine != ref:
        cost = B._COSTS[model][0]().fit(z)
        total = lambda bk: sum(cost.error(a, b) for a, b in zip([0, *bk[:-1]], bk, strict=True)) + pen * len(bk)  # noqa: E731
        assert total(mine) == pytest.approx(total(ref), rel=1e-9, abs=1e-9)


def test_known_break_dates_are_found(two_breaks):
    res = B.change_points(two_breaks)
    assert len(res.breaks) == 2
    # a 1.5-sd mean shift and a 3x volatility jump are located to within a few rows
    assert abs(int(res.break_rows[0]) - 100) <= 5 and abs(int(res.break_rows[1]) - 200) <= 5
    seg = res.segments
    assert seg["n"].sum() == len(two_breaks)
    assert_allclose(seg["mean"].iloc[1], two_breaks.iloc[res.break_rows[0]:res.break_rows[1]].mean())
    assert seg["volatility"].iloc[2] > 2.5 * seg["volatility"].iloc[1]
    assert_allclose(seg["ann_volatility"], seg["volatility"] * np.sqrt(52))
    frame = res.to_frame()
    assert pd.isna(frame["break_date"].iloc[0]) and frame["break_date"].iloc[1] == res.breaks[0]
    assert frame["start"].iloc[1] == res.breaks[0]  # a break is the first date of the new segment
    # mean-only model finds the mean shift
    l2 = B.change_points(two_breaks.iloc[:200], model="l2")
    assert len(l2.breaks) == 1 and abs(int(l2.break_rows[0]) - 100) <= 5
    # no break in white noise
    noise = pd.Series(np.random.default_rng(1).normal(0, 0.01, 400), _weekly(400), name="noise")
    assert len(B.change_points(noise).breaks) == 0


# ----------------------------------------------------------------------------- expanding
def test_expanding_detects_with_delay_and_ends_at_full_sample(two_breaks):
    ex = B.expanding_change_points(two_breaks, step=1, min_periods=60)
    assert len(ex.steps) == len(two_breaks) - 59
    # at the final step the expanding run is the full-sample detection
    assert ex.breaks_at(two_breaks.index[-1]).equals(B.change_points(two_breaks).breaks)
    assert (ex.detections["delay_rows"] >= 0).all()
    assert (ex.history["break_row"] <= ex.history["asof_row"]).all()
    for true_row in (100, 200):
        hit = ex.first_detection(two_breaks.index[true_row], tolerance=5)
        assert 0 <= hit["delay_rows"] <= 40
        assert hit["first_detected"] > two_breaks.index[true_row]
        assert hit["delay_days"] == (hit["first_detected"] - two_breaks.index[true_row]).days
    # before the first break nothing is reported
    assert len(ex.breaks_at(two_breaks.index[95])) == 0
    assert len(ex.breaks_at("2000-01-01")) == 0
    missing = ex.first_detection(two_breaks.index[70], tolerance=0)
    assert pd.isna(missing["first_detected"])
    assert list(ex.to_frame().columns) == ["break_date", "first_detected", "delay_rows", "delay_days",
                                           "times_reported", "last_reported"]


_FULL_RUNS: dict[tuple[int, str], B.ExpandingChangePoints] = {}


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(40, 299), step=st.sampled_from([1, 4]), model=st.sampled_from(["normal", "l2"]))
def test_expanding_is_look_ahead_free(two_breaks, cut, step, model):
    """Appending rows never changes what was reported at an earlier as-of date."""
    y = two_breaks  # both breaks inside
    if (step, model) not in _FULL_RUNS:  # the full run does not depend on the cut
        _FULL_RUNS[step, model] = B.expanding_change_points(y, step=step, min_periods=40, model=model)
    full = _FULL_RUNS[step, model]
    short = B.expanding_change_points(y.iloc[:cut], step=step, min_periods=40, model=model)
    assert full.steps[: len(short.steps)].equals(short.steps)
    past = full.history[full.history["asof"] <= y.index[cut - 1]].reset_index(drop=True)
    pd.testing.assert_frame_equal(past, short.history.reset_index(drop=True))


def test_change_point_errors(two_breaks):
    gap = two_breaks.copy()
    gap.iloc[150] = np.nan
    with pytest.raises(DataError, match=str(two_breaks.index[150].date())):
        B.change_points(gap)
    with pytest.raises(DataError, match="at least 20"):
        B.change_points(two_breaks.iloc[:15])
    with pytest.raises(DataError, match="constant"):
        B.change_points(pd.Series(1.0, _weekly(50), name="flat"))
    with pytest.raises(ParameterError, match="binseg"):
        B.change_points(two_breaks, n_breaks=2)
    with pytest.raises(ParameterError, match="penalty"):
        B.change_points(two_breaks, penalty="mbic")
    with pytest.raises(ParameterError, match="penalty"):
        B.change_points(two_breaks, penalty=-1.0)
    with pytest.raises(ParameterError, match="model"):
        B.change_points(two_breaks, model="rbf")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="cannot hold"):
        B.change_points(two_breaks.iloc[:25], method="binseg", n_breaks=3)
    with pytest.raises(ParameterError, match="min_periods"):
        B.expanding_change_points(two_breaks, min_periods=10, min_size=10)
    fixed = B.change_points(two_breaks, penalty=50.0)
    assert fixed.penalty == 50.0 and fixed.penalty_rule == "fixed"
    assert B.change_points(two_breaks, penalty="aic").penalty == 6.0


# ----------------------------------------------------------------------------- Chow
def test_chow_hand_computed_mean_break():
    """Hand example: before [1,2,3,4], after [10,11,12,13].

    Segment means 2.5 and 11.5, S1 = S2 = 2.25+0.25+0.25+2.25 = 5; pooled mean 7,
    Sp = 36+25+16+9+9+16+25+36 = 172; k = 1, n = 8:
    F = ((172 - 10)/1) / (10/6) = 97.2.
    """
    y = pd.Series([1.0, 2, 3, 4, 10, 11, 12, 13], index=_weekly(8), name="y")
    res = B.chow_test(y, y.index[4])
    assert res.ssr_pooled == pytest.approx(172.0)
    assert res.ssr_before == pytest.approx(5.0) and res.ssr_after == pytest.approx(5.0)
    assert res.f_stat == pytest.approx(97.2)
    assert res.p_value == pytest.approx(stats.f.sf(97.2, 1, 6))
    assert res.coef_before["const"] == pytest.approx(2.5) and res.coef_after["const"] == pytest.approx(11.5)
    assert (res.n_before, res.n_after, res.k) == (4, 4, 1)
    # a date between two rows: the first row on or after it opens the "after" sample
    assert B.chow_test(y, y.index[4] - pd.Timedelta(days=2)).f_stat == pytest.approx(97.2)


def test_chow_regression_matches_closed_form_and_statsmodels():
    rng = np.random.default_rng(2)
    n = 300
    idx = _weekly(n)
    x = pd.Series(rng.normal(0, 0.02, n), idx, name="spy")
    beta = np.where(np.arange(n) < 180, 1.0, 1.6)
    y = pd.Series(0.001 + beta * x.to_numpy() + rng.normal(0, 0.01, n) * np.where(np.arange(n) < 180, 1, 2), idx,
                  name="btc")
    res = B.chow_test(y, idx[180], x)
    X = np.column_stack([np.ones(n), x.to_numpy()])

    def ssr(a, b):
        coef = np.linalg.lstsq(X[a:b], y.to_numpy()[a:b], rcond=None)[0]
        return float(np.sum((y.to_numpy()[a:b] - X[a:b] @ coef) ** 2))

    sp, s1, s2 = ssr(0, n), ssr(0, 180), ssr(180, n)
    f = ((sp - s1 - s2) / 2) / ((s1 + s2) / (n - 4))
    assert res.f_stat == pytest.approx(f, rel=1e-10)
    assert res.p_value == pytest.approx(stats.f.sf(f, 2, n - 4), rel=1e-8)
    # the same F as statsmodels' nested-model F test (pooled vs fully interacted)
    D = (np.arange(n) >= 180).astype(float)[:, None]
    unres = sm.OLS(y.to_numpy(), np.column_stack([X, D * X])).fit()
    restr = sm.OLS(y.to_numpy(), X).fit()
    f_sm, p_sm, df = unres.compare_f_test(restr)
    assert res.f_stat == pytest.approx(f_sm, rel=1e-9) and res.p_value == pytest.approx(p_sm, rel=1e-8)
    # HAC Wald test: statsmodels directly
    lags = int(np.floor(4 * (n / 100) ** (2 / 9)))
    hac = sm.OLS(y.to_numpy(), np.column_stack([X, D * X])).fit(
        cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": True}, use_t=True)
    w = hac.f_test(np.hstack([np.zeros((2, 2)), np.eye(2)]))
    assert res.f_stat_hac == pytest.approx(float(np.squeeze(w.fvalue)), rel=1e-9)
    assert res.p_value_hac == pytest.approx(float(w.pvalue), rel=1e-8)
    assert res.hac_lags == lags and res.terms == ("const", "spy")
    assert res.p_value < 1e-4
    frame = res.to_frame()
    assert list(frame.index) == ["const", "spy"] and frame.loc["spy", "change"] == pytest.approx(
        res.coef_after["spy"] - res.coef_before["spy"])
    # window: 50 rows each side
    win = B.chow_test(y, idx[180], x, window=50)
    assert (win.n_before, win.n_after) == (50, 50) and win.start == idx[130] and win.end == idx[229]


# ----------------------------------------------------------------------------- volatility
def test_volatility_break_references():
    rng = np.random.default_rng(4)
    n = 260
    idx = _weekly(n)
    r = pd.Series(rng.standard_t(5, n) * np.where(np.arange(n) < 130, 0.02, 0.04), idx, name="btc")
    res = B.volatility_break(r, idx[130])
    a, b = r.to_numpy()[:130], r.to_numpy()[130:]
    assert res.vol_before == pytest.approx(a.std(ddof=1)) and res.vol_after == pytest.approx(b.std(ddof=1))
    assert res.ann_vol_after == pytest.approx(b.std(ddof=1) * np.sqrt(52))
    f = b.var(ddof=1) / a.var(ddof=1)
    assert res.f_stat == pytest.approx(f)
    assert res.p_value_f == pytest.approx(2 * stats.f.sf(f, 129, 129))
    lev = stats.levene(a, b, center="median")
    assert res.levene_stat == pytest.approx(lev.statistic) and res.p_value_levene == pytest.approx(lev.pvalue)
    # Brown-Forsythe by its definition: one-way ANOVA on absolute deviations from each median
    bf = stats.f_oneway(np.abs(a - np.median(a)), np.abs(b - np.median(b)))
    assert res.levene_stat == pytest.approx(bf.statistic, rel=1e-10)
    # HAC regression slope = difference of the (ddof 0) variances; se from statsmodels directly
    assert res.var_diff == pytest.approx(b.var() - a.var(), rel=1e-10)
    d = np.concatenate([(a - a.mean()) ** 2, (b - b.mean()) ** 2])
    X = np.column_stack([np.ones(n), (np.arange(n) >= 130).astype(float)])
    hac = sm.OLS(d, X).fit(cov_type="HAC", cov_kwds={"maxlags": res.hac_lags, "use_correction": True}, use_t=True)
    assert res.var_diff_se == pytest.approx(hac.bse[1], rel=1e-10)
    assert res.p_value_hac == pytest.approx(hac.pvalues[1], rel=1e-8)
    assert res.p_value_levene < 1e-3 and res.p_value_hac < 0.01 and res.ratio > 1.5
    # no change: no rejection by the robust tests on this seed
    same = pd.Series(rng.normal(0, 0.02, n), idx, name="calm")
    calm = B.volatility_break(same, idx[130])
    assert calm.p_value_levene > 0.05 and calm.p_value_hac > 0.05
    assert len(calm.to_frame()) == 1


# ----------------------------------------------------------------------------- correlation
def _exact_pair(n: int, r: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two samples whose sample Pearson correlation is exactly ``r``."""
    e1, e2 = rng.standard_normal((2, n))
    x = (e1 - e1.mean()) / e1.std()
    e2 = e2 - e2.mean()
    e2 = e2 - (e2 @ x) / (x @ x) * x
    e2 /= e2.std()
    return x, r * x + np.sqrt(1 - r**2) * e2


def test_fisher_z_hand_computed():
    """r = 0.2 before, 0.5 after, 103 pairs each.

    z = (atanh 0.5 - atanh 0.2) / sqrt(1/100 + 1/100)
      = (0.5493061443 - 0.2027325541) / 0.1414213562 = 2.4506453
    p = 2 (1 - Phi(z)) = erfc(z / sqrt 2) = 0.0142600 (math.erfc)
    """
    rng = np.random.default_rng(0)
    x1, y1 = _exact_pair(103, 0.2, rng)
    x2, y2 = _exact_pair(103, 0.5, rng)
    idx = _weekly(206)
    a = pd.Series(np.concatenate([x1, x2]), idx, name="btc")
    b = pd.Series(np.concatenate([y1, y2]), idx, name="spy")
    res = B.correlation_break(a, b, idx[103], n_boot=0)
    assert res.corr_before == pytest.approx(0.2, abs=1e-12) and res.corr_after == pytest.approx(0.5, abs=1e-12)
    assert res.z_fisher == pytest.approx(2.4506453, abs=1e-6)
    assert res.p_value_fisher == pytest.approx(0.0142600, abs=1e-7)
    assert np.isnan(res.p_value_boot) and res.names == ("btc", "spy")


def test_correlation_break_hac_and_bootstrap():
    rng = np.random.default_rng(8)
    n = 400
    idx = _weekly(n)
    x = rng.standard_normal(n)
    rho = np.where(np.arange(n) < 200, 0.1, 0.7)
    y = rho * x + np.sqrt(1 - rho**2) * rng.standard_normal(n)
    a, b = pd.Series(x, idx, name="btc"), pd.Series(y, idx, name="spy")
    res = B.correlation_break(a, b, idx[200], n_boot=499, seed=3)
    assert res.diff == pytest.approx(res.corr_after - res.corr_before)
    assert res.p_value_fisher < 1e-6 and res.p_value_hac < 1e-4 and res.p_value_boot < 0.01
    assert res.ci_low > 0.2 and res.ci_low < res.diff < res.ci_high
    assert res.block_length == int(np.ceil(200 ** (1 / 3)))
    # i.i.d. normal pairs, no lags: the HAC standard error is the classical (1 - r^2)/sqrt(n)
    lag0 = B.correlation_break(a, b, idx[200], n_boot=0, hac_lags=0)
    se_cl = np.sqrt((1 / 200) + (1 / 200))
    assert abs(lag0.z_hac) == pytest.approx(abs(lag0.z_fisher) * np.sqrt(1 / 197 + 1 / 197) / se_cl, rel=0.15)
    # same seed, same numbers; another seed, other draws
    again = B.correlation_break(a, b, idx[200], n_boot=499, seed=3)
    assert (again.p_value_boot, again.ci_low, again.ci_high) == (res.p_value_boot, res.ci_low, res.ci_high)
    other = B.correlation_break(a, b, idx[200], n_boot=499, seed=4)
    assert other.ci_low != res.ci_low
    # pairs only where both are present
    b2 = b.copy()
    b2.iloc[[5, 300]] = np.nan
    gapped = B.correlation_break(a, b2, idx[200], n_boot=0)
    assert (gapped.n_before, gapped.n_after) == (199, 199)
    assert list(res.to_frame().columns[:2]) == ["a", "b"]


def test_block_indices_are_contiguous_blocks():
    rng = np.random.default_rng(0)
    ix = B._block_indices(rng, 10, 3, 5)
    assert ix.shape == (5, 10) and ix.min() >= 0 and ix.max() <= 9
    blocks = ix[:, :9].reshape(5, 3, 3)
    assert (np.diff(blocks, axis=2) == 1).all()


def test_break_test_errors():
    idx = _weekly(100)
    r = pd.Series(np.random.default_rng(0).normal(0, 0.02, 100), idx, name="r")
    with pytest.raises(DataError, match="0 rows before"):
        B.volatility_break(r, "2000-01-01")
    with pytest.raises(DataError, match="at least 5 on each side"):
        B.correlation_break(r, r.rename("s"), idx[-3])
    with pytest.raises(ParameterError, match="window"):
        B.volatility_break(r, idx[50], window=1)
    with pytest.raises(ParameterError, match="break_date"):
        B.chow_test(r, "not a date")
    other = pd.Series(np.random.default_rng(1).normal(0, 0.02, 100), idx, name="s")
    with pytest.raises(ParameterError, match="block_length"):
        B.correlation_break(r, other, idx[50], window=10, block_length=20)
    with pytest.raises(DataError, match="perfectly correlated"):
        B.correlation_break(r, (r * 2 + 1).rename("s"), idx[50])
    with pytest.raises(DataError, match="constant"):
        B.correlation_break(r, pd.Series(1.0, idx, name="flat"), idx[50])
    with pytest.raises(ParameterError, match="level"):
        B.correlation_break(r, r.rename("s"), idx[50], level=95)


# ----------------------------------------------------------------------------- real data
@pytest.mark.shared_data
def test_real_crypto_change_points_include_2022(real_weekly_panel):
    r = real_weekly_panel.basket_returns("crypto_majors", "cap").loc[:"2026-06-19"].rename("crypto_majors")
    res = B.change_points(r)
    assert any(b.year == 2022 for b in res.breaks)
    # the segment after the 2022 break is calmer than the one before it
    seg = res.segments.set_index("start")
    after = seg.index.get_loc(next(b for b in res.breaks if b.year == 2022))
    assert seg["ann_volatility"].iloc[after] < seg["ann_volatility"].iloc[after - 1]


@pytest.mark.shared_data
def test_real_break_tests_around_spot_bitcoin_etf_launch(real_panel):
    """BTC volatility and BTC-SPY correlation, a year of sessions each side of 2024-01-11."""
    rets = real_panel.returns[["BTC", "SPY"]].loc["2021-01-01":"2025-12-31"]
    vb = B.volatility_break(rets["BTC"], "2024-01-11", window=252, periods_per_year=252)
    assert (vb.n_before, vb.n_after) == (252, 252)
    assert 0.2 < vb.ann_vol_before < 1.5 and 0.2 < vb.ann_vol_after < 1.5
    for p in (vb.p_value_f, vb.p_value_levene, vb.p_value_hac):
        assert 0.0 <= p <= 1.0
    cb = B.correlation_break(rets["BTC"], rets["SPY"], "2024-01-11", window=252)
    assert (cb.n_before, cb.n_after) == (252, 252)
    assert -0.5 < cb.corr_before < 0.9 and -0.5 < cb.corr_after < 0.9
    assert cb.ci_low <= cb.diff <= cb.ci_high
    for p in (cb.p_value_fisher, cb.p_value_hac, cb.p_value_boot):
        assert 0.0 <= p <= 1.0
    ch = B.chow_test(rets["BTC"], "2024-01-11", rets["SPY"], window=252)
    assert np.isfinite(ch.f_stat_hac) and ch.terms == ("const", "SPY")
