"""Stress: drawdown episodes, downside/conditional beta, scenarios - vs hand examples, statsmodels,
quantstats and scipy, with look-ahead properties and real-data sanity checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose
from scipy import stats

from rotation.analytics.comovement import beta as point_beta
from rotation.analytics.comovement import newey_west_lags
from rotation.analytics.returns import simple_returns
from rotation.analytics.rrg import to_weekly
from rotation.analytics.stress import (
    BetaResult,
    DrawdownEpisodes,
    ScenarioResult,
    StressResult,
    _median_ci,
    analogue_windows,
    conditional_beta,
    downside_beta,
    drawdown_episodes,
    hac_beta,
    scenario,
    stress,
)
from rotation.errors import DataError, ParameterError

qs = pytest.importorskip("quantstats")

WEEKS = pd.date_range("2016-01-01", periods=600, freq="W-FRI", name="date")


def _hac_fit(y: np.ndarray, X: np.ndarray, lags: int):
    """statsmodels directly: OLS with Newey-West covariance, small-sample correction, t inference."""
    return sm.OLS(y, X).fit(cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": True}, use_t=True)


def _factor_returns(seed: int = 7, n: int = 600) -> tuple[pd.Series, pd.DataFrame]:
    """A benchmark and three series with asymmetric (larger downside) betas and AR(1) noise."""
    rng = np.random.default_rng(seed)
    b = rng.standard_t(5, n) * 0.03
    e = np.zeros((n, 3))
    for t in range(1, n):
        e[t] = 0.3 * e[t - 1] + rng.normal(0, [0.02, 0.04, 0.01])
    down = b < 0
    y = np.column_stack([
        0.5 * b + e[:, 0],
        np.where(down, 1.6, 0.8) * b + e[:, 1],  # a larger beta when the benchmark falls
        -0.2 * b + e[:, 2],
    ])
    bench = pd.Series(b, index=WEEKS[:n], name="S")
    frame = pd.DataFrame(y, index=WEEKS[:n], columns=["A", "B", "C"])
    return bench, frame


# ============================================================================= drawdown episodes
@pytest.fixture(scope="module")
def hand_levels(fixtures_dir) -> pd.Series:
    return pd.read_csv(fixtures_dir / "stress/drawdown_episodes.csv", comment="#", parse_dates=["date"]).set_index(
        "date")["level"].rename("X")


def test_drawdown_episodes_hand_example(hand_levels):
    # Provenance: the hand-worked levels and episodes are in tests/fixtures/stress/drawdown_episodes.csv.
    res = drawdown_episodes(simple_returns(hand_levels))
    assert isinstance(res, DrawdownEpisodes)
    ep = res.episodes
    d = lambda s: list(pd.DatetimeIndex(s).strftime("%m-%d").fillna("-"))  # noqa: E731
    e10 = ep[ep["threshold"] == 0.10]
    assert d(e10["peak"]) == ["01-01", "01-07", "01-11"]
    assert d(e10["start"]) == ["01-03", "01-08", "01-12"]
    assert d(e10["trough"]) == ["01-05", "01-08", "01-13"]
    assert d(e10["recovery"]) == ["01-06", "01-10", "-"]
    assert_allclose(e10["depth"], [-0.16, -0.10, -0.25], rtol=1e-12)
    assert list(e10["periods_to_trough"]) == [4, 1, 2]
    assert list(e10["days_to_trough"]) == [4, 1, 2]
    assert_allclose(e10["periods_to_recovery"], [5, 3, np.nan])
    assert_allclose(e10["days_to_recovery"], [5, 3, np.nan])
    assert_allclose(e10["days_underwater"], [5, 3, 3])
    assert list(e10["recovered"]) == [True, True, False]
    e15 = ep[ep["threshold"] == 0.15]
    assert d(e15["peak"]) == ["01-01", "01-11"] and d(e15["start"]) == ["01-05", "01-12"]
    e20 = ep[ep["threshold"] == 0.20]
    assert d(e20["peak"]) == ["01-11"] and d(e20["start"]) == ["01-12"]  # exactly -20% counts

    s = res.summary.set_index("threshold")
    assert list(s["episodes"]) == [3, 2, 1] and list(s["open"]) == [1, 1, 1]
    years = 13 / 365.25  # 01-01 (the level before the first return) to 01-14
    assert_allclose(s["years"], years)
    assert_allclose(s["per_year"], np.array([3, 2, 1]) / years)
    assert_allclose(s["median_days_to_trough"], [2, 3, 2])  # median(4, 1, 2), median(4, 2), 2
    assert_allclose(s["max_days_to_trough"], [4, 4, 2])
    assert_allclose(s["median_days_to_recovery"], [4, 5, np.nan])  # recovered only: (5, 3), (5,), none
    assert_allclose(s["max_days_to_recovery"], [5, 5, np.nan])
    assert_allclose(s["open_days"], [3, 3, 3])
    assert_allclose(s["deepest"], [-0.25, -0.25, -0.25], rtol=1e-12)
    assert (s["first_date"] == pd.Timestamp("2024-01-01")).all()
    assert_allclose(res.to_frame()["episodes"], [3, 2, 1])


def test_drawdown_episodes_frame_late_listing_gaps_and_empty_columns(hand_levels):
    r = simple_returns(hand_levels)
    late = r.reindex(pd.date_range("2023-12-25", "2024-01-14"))  # NaN before 01-02, anchored on 01-01
    frame = pd.DataFrame({"X": late, "late": late, "none": np.nan})
    frame.loc["2024-01-04", "X"] = np.nan  # a gap: wealth is carried across it
    res = drawdown_episodes(frame, thresholds=0.10)
    s = res.summary.set_index("symbol")
    assert s.loc["none", "episodes"] == 0 and np.isnan(s.loc["none", "per_year"])
    # the late listing matches the series on its own dates
    assert s.loc["late", "episodes"] == 3
    one = drawdown_episodes(r, thresholds=[0.1]).episodes.drop(columns="symbol")
    late_ep = res.episodes[res.episodes["symbol"] == "late"].drop(columns="symbol").reset_index(drop=True)
    pd.testing.assert_frame_equal(late_ep, one, check_dtype=False)
    # the gap row is skipped: X's 01-04 return is NaN, the 01-05 return alone is 84/92 - 1
    x = res.episodes[res.episodes["symbol"] == "X"]
    assert x["periods_to_trough"].iloc[0] == 3


def test_drawdown_episodes_match_quantstats_drawdown_details():
    # quantstats lists every underwater run with its valley and max drawdown (in percent); the
    # episodes at threshold h are those with max drawdown <= -100 h.
    rng = np.random.default_rng(3)
    idx = pd.bdate_range("2015-01-01", periods=2500)
    r = pd.Series(rng.standard_t(4, len(idx)) * 0.015 + 0.0004, index=idx, name="R")
    res = drawdown_episodes(r, thresholds=(0.05, 0.10, 0.20))
    details = qs.stats.drawdown_details(qs.stats.to_drawdown_series(r))
    for h in (0.05, 0.10, 0.20):
        theirs = details[details["max drawdown"] <= -100 * h + 1e-9].sort_values("valley")
        mine = res.episodes[res.episodes["threshold"] == h].sort_values("trough")
        assert len(mine) == len(theirs) > 0
        assert list(mine["trough"]) == list(pd.to_datetime(theirs["valley"]))
        assert_allclose(mine["depth"] * 100, theirs["max drawdown"], rtol=1e-9)
        # quantstats' start is the first underwater day: the row after our peak
        assert list(idx[idx.get_indexer(mine["peak"]) + 1]) == list(pd.to_datetime(theirs["start"]))


def test_drawdown_episodes_validation():
    r = pd.Series([0.01, -0.2], index=pd.date_range("2024-01-01", periods=2))
    for bad in (0, 1.0, -0.1, (), "0.1", (0.1, True)):
        with pytest.raises(ParameterError, match="thresholds"):
            drawdown_episodes(r, thresholds=bad)
    with pytest.raises(ParameterError, match="DatetimeIndex"):
        drawdown_episodes(pd.Series([0.01, 0.02]))
    with pytest.raises(DataError, match="-100%"):
        drawdown_episodes(pd.Series([0.1, -1.0], index=r.index))
    with pytest.raises(DataError, match="no returns|too little"):
        drawdown_episodes(pd.Series([np.nan, np.nan], index=r.index))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    arrays(np.float64, st.integers(20, 80), elements=st.one_of(
        st.floats(-0.25, 0.25, allow_nan=False), st.just(np.nan))),
    st.integers(5, 60),
)
def test_drawdown_episode_declarations_are_look_ahead_free(values, cut):
    # an episode's peak and declaration date ("start") are known when declared: appending rows
    # never adds, removes or moves a declaration made up to the last original row.
    cut = min(cut, len(values) - 1)
    idx = pd.date_range("2020-01-01", periods=len(values))
    full = pd.Series(values, index=idx)
    if full.iloc[:cut].notna().sum() == 0:
        return
    a = drawdown_episodes(full.iloc[:cut], thresholds=(0.05, 0.1)).episodes
    b = drawdown_episodes(full, thresholds=(0.05, 0.1)).episodes
    b = b[b["start"] <= idx[cut - 1]]
    key = ["threshold", "peak", "start"]
    pd.testing.assert_frame_equal(a[key].reset_index(drop=True), b[key].reset_index(drop=True))


# ============================================================================= betas
def test_hac_beta_matches_statsmodels_and_comovement_beta():
    bench, frame = _factor_returns()
    frame.iloc[:150, 1] = np.nan  # a late listing: its own rows only
    res = hac_beta(frame, bench, level=0.90)
    assert isinstance(res, BetaResult) and res.kind == "full" and res.benchmark == "S"
    assert_allclose(res.beta, point_beta(frame, bench), rtol=1e-10)
    for col in frame:
        ok = frame[col].notna()
        y, x = frame.loc[ok, col].to_numpy(), bench[ok].to_numpy()
        L = newey_west_lags(len(y))
        fit = _hac_fit(y, sm.add_constant(x), L)
        row = res.table.loc[col]
        assert_allclose([row.beta, row.se, row.t, row.p, row.intercept], [fit.params[1], fit.bse[1], fit.tvalues[1],
                        fit.pvalues[1], fit.params[0]], rtol=1e-9)
        assert_allclose([row.ci_low, row.ci_high], fit.conf_int(alpha=0.10)[1], rtol=1e-9)
        assert row.nobs == row.nobs_total == len(y) and row.hac_lags == L
        assert row.start == frame.index[ok][0] and row.end == frame.index[-1]


def test_downside_beta_is_the_down_period_slope_with_time_ordered_hac():
    bench, frame = _factor_returns()
    res = downside_beta(frame, bench, hac_lags=3)
    down = (bench < 0).to_numpy()
    for col in frame:
        y, x = frame[col].to_numpy(), bench.to_numpy()
        # (1) the point estimate is plain OLS on the down periods alone (an independent regression)
        sub = sm.OLS(y[down], sm.add_constant(x[down])).fit()
        up = sm.OLS(y[~down], sm.add_constant(x[~down])).fit()
        row = res.table.loc[col]
        assert_allclose([row.beta, row.intercept, row.beta_other], [sub.params[1], sub.params[0], up.params[1]],
                        rtol=1e-10)
        assert row.nobs == down.sum() and row.nobs_total == len(y)
        # (2) the HAC errors: statsmodels on the interacted design (built here), in time order
        d = down.astype(float)
        X = np.column_stack([d, 1 - d, d * x, (1 - d) * x])
        fit = _hac_fit(y, X, 3)
        assert_allclose([row.se, row.p], [fit.bse[2], fit.pvalues[2]], rtol=1e-9)
        tt = fit.t_test(np.array([[0.0, 0.0, 1.0, -1.0]]))
        assert_allclose([row["diff"], row["diff_se"], row["diff_p"]],
                        [float(np.squeeze(tt.effect)), float(np.squeeze(tt.sd)), float(np.squeeze(tt.pvalue))],
                        rtol=1e-9)
    # series B was built with beta 1.6 down, 0.8 up
    assert res.table.loc["B", "beta"] > 1.3 and res.table.loc["B", "diff_p"] < 0.01
    assert res.table.loc["A", "diff_p"] > 0.01


def test_downside_beta_with_zero_lags_is_the_subsample_white_error():
    # With 0 lags the Newey-West covariance is White's; the interacted design is block-diagonal
    # between regimes, so the sandwich for the down slope equals the HC0 sandwich of the
    # down-period regression. Only the small-sample factor differs: n/(n-4) vs n_d/(n_d-2).
    bench, frame = _factor_returns(seed=11)
    res = downside_beta(frame, bench, threshold=0.01, hac_lags=0)
    down = (bench < 0.01).to_numpy()
    n, nd = len(bench), int(down.sum())
    for col in frame:
        hc0 = sm.OLS(frame[col].to_numpy()[down], sm.add_constant(bench.to_numpy()[down])).fit(cov_type="HC0")
        assert_allclose(res.table.loc[col, "se"] ** 2 * (n - 4) / n, hc0.bse[1] ** 2, rtol=1e-9)
    assert res.cutoff == 0.01 and res.table["nobs"].eq(nd).all()


def test_conditional_beta_uses_the_benchmark_quantile():
    bench, frame = _factor_returns(seed=5)
    frame.iloc[:100, 0] = np.nan
    res = conditional_beta(frame, bench, quantile=0.2)
    cut = np.quantile(bench.to_numpy(), 0.2)
    assert res.kind == "conditional" and res.quantile == 0.2
    assert_allclose(res.cutoff, cut, rtol=1e-15)
    tail = (bench <= cut).to_numpy()
    for col in frame:
        ok = frame[col].notna().to_numpy()
        sel = tail & ok
        sub = sm.OLS(frame[col].to_numpy()[sel], sm.add_constant(bench.to_numpy()[sel])).fit()
        assert_allclose(res.table.loc[col, "beta"], sub.params[1], rtol=1e-10)
        assert res.table.loc[col, "nobs"] == sel.sum()
    # the late-listed series is judged on the same benchmark cut, with fewer tail periods
    assert res.table.loc["A", "nobs"] < res.table.loc["B", "nobs"] == round(0.2 * len(bench))


def test_beta_too_few_observations_and_validation():
    bench, frame = _factor_returns()
    frame["short"] = np.nan
    frame.iloc[-10:, frame.columns.get_loc("short")] = 0.01 * np.arange(10)
    res = conditional_beta(frame, bench, quantile=0.05, min_obs=20)
    assert np.isnan(res.table.loc["short", "beta"])
    assert any(n.startswith("short:") for n in res.notes)
    assert res.table.loc["A", "nobs"] == 30  # 5% of 600
    with pytest.raises(DataError, match="no series has enough"):
        downside_beta(frame[["short"]], bench, min_obs=20)
    with pytest.raises(DataError, match="share no dates"):
        hac_beta(frame, bench.set_axis(bench.index + pd.Timedelta(days=1)))
    with pytest.raises(ParameterError, match="quantile"):
        conditional_beta(frame, bench, quantile=1.5)
    with pytest.raises(ParameterError, match="level"):
        hac_beta(frame, bench, level=1.2)
    with pytest.raises(ParameterError, match="hac_lags"):
        hac_beta(frame, bench, hac_lags=-1)
    with pytest.raises(ParameterError, match="threshold"):
        downside_beta(frame, bench, threshold=np.nan)
    with pytest.raises(ParameterError, match="benchmark"):
        hac_beta(frame, [0.1, 0.2])


# ============================================================================= analogues
def _max_disjoint(intervals: list[tuple[int, int]]) -> int:
    """Largest number of pairwise disjoint intervals (brute-force DP over end rows; independent of the greedy)."""
    if not intervals:
        return 0
    T = max(b for _, b in intervals) + 1
    best = [0] * (T + 1)  # best[t]: max disjoint intervals inside rows < t
    for t in range(1, T + 1):
        best[t] = best[t - 1]
        for a, b in intervals:
            if b == t - 1:
                best[t] = max(best[t], best[a] + 1)
    return best[T]


def test_analogue_windows_hand_example():
    # Provenance, worked by hand (shock -10%, band 1.5 points, windows of 1 or 2 weeks):
    #   1-week candidates: rows 1 (-10%), 4 (-9%), 6 (-11%)
    #   2-week candidates: rows 3-4: 0.98 x 0.91 - 1 = -10.82%; rows 6-7: 0.89 x 1.00 - 1 = -11%
    #   greedy by end row (shortest first): keep 1; keep 4 (1-week); drop 3-4 (overlaps 4);
    #   keep 6; drop 6-7 (overlaps 6)
    r = pd.Series([np.nan, -0.10, 0.05, -0.02, -0.09, 0.03, -0.11, 0.00, 0.02], index=WEEKS[:9])
    w = analogue_windows(r, -0.10, window_lengths=(1, 2), band=0.015)
    assert list(w["last_row"]) == [1, 4, 6] and list(w["periods"]) == [1, 1, 1]
    assert list(w["start"]) == list(WEEKS[[0, 3, 5]]) and list(w["end"]) == list(WEEKS[[1, 4, 6]])
    assert_allclose(w["return"], [-0.10, -0.09, -0.11], rtol=1e-12)
    # only 2-week windows: rows 3-4 and 6-7 do not overlap
    w2 = analogue_windows(r, -0.10, window_lengths=2, band=0.015)
    assert list(w2["first_row"]) == [3, 6] and list(w2["last_row"]) == [4, 7]
    assert_allclose(w2["return"], [0.98 * 0.91 - 1, 0.89 - 1], rtol=1e-12)
    assert analogue_windows(r, -0.5, band=0.01).empty


@settings(max_examples=60, deadline=None)
@given(
    arrays(np.float64, st.integers(10, 60), elements=st.one_of(
        st.floats(-0.15, 0.1, allow_nan=False), st.just(np.nan))),
    st.sampled_from([-0.05, -0.1]),
)
def test_analogue_windows_are_disjoint_and_maximal(values, shock):
    r = pd.Series(values, index=WEEKS[: len(values)])
    w = analogue_windows(r, shock, window_lengths=(1, 2, 3), band=0.03)
    first, last = w["first_row"].to_numpy(), w["last_row"].to_numpy()
    assert (first[1:] > last[:-1]).all()  # disjoint, in time order
    # every kept window qualifies, and no larger disjoint set of candidates exists
    cands = []
    for L in (1, 2, 3):
        for t in range(L - 1, len(values)):
            seg = values[t - L + 1: t + 1]
            if not np.isnan(seg).any() and abs(np.prod(1 + seg) - 1 - shock) <= 0.03:
                cands.append((t - L + 1, t))
    assert set(zip(first, last)) <= set(cands)
    assert len(w) == _max_disjoint(cands)


@settings(max_examples=60, deadline=None)
@given(
    arrays(np.float64, st.integers(10, 60), elements=st.one_of(
        st.floats(-0.15, 0.1, allow_nan=False), st.just(np.nan))),
    st.integers(3, 55),
)
def test_analogue_selection_is_look_ahead_free(values, cut):
    cut = min(cut, len(values))
    r = pd.Series(values, index=WEEKS[: len(values)])
    a = analogue_windows(r.iloc[:cut], -0.08, band=0.04)
    b = analogue_windows(r, -0.08, band=0.04)
    b = b[b["last_row"] < cut].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_dtype=False)


def test_median_interval_matches_scipy_quantile_test():
    rng = np.random.default_rng(1)
    for n in (3, 5, 6, 9, 19, 47, 120):
        x = rng.normal(size=n)
        for level in (0.9, 0.95):
            ci = stats.quantile_test(x, p=0.5).confidence_interval(level)
            assert_allclose(_median_ci(x, level), (ci.low, ci.high), equal_nan=True)


def test_analogue_validation():
    r = pd.Series([0.1, -0.1, 0.05], index=WEEKS[:3])
    with pytest.raises(ParameterError, match="shock"):
        analogue_windows(r, 0.0)
    with pytest.raises(ParameterError, match="shock"):
        analogue_windows(r, -1.5)
    with pytest.raises(ParameterError, match="band"):
        analogue_windows(r, -0.1, band=0)
    with pytest.raises(ParameterError, match="window_lengths"):
        analogue_windows(r, -0.1, window_lengths=(0, 1))
    with pytest.raises(ParameterError, match="Series"):
        analogue_windows(pd.DataFrame({"a": r, "b": r}), -0.1)


# ============================================================================= scenario
def test_scenario_hand_example_and_beta_responses():
    # The shocked series is the hand example of test_analogue_windows_hand_example, padded with
    # quiet weeks so the betas have data; A's returns in the three analogue weeks are -4%, -1%, -6%.
    rng = np.random.default_rng(0)
    n = 120
    s = np.r_[[np.nan, -0.10, 0.05, -0.02, -0.09, 0.03, -0.11, 0.00, 0.02], rng.uniform(-0.03, 0.03, n - 9)]
    a = 0.4 * s + rng.normal(0, 0.005, n)
    a[[1, 4, 6]] = [-0.04, -0.01, -0.06]
    frame = pd.DataFrame({"S": s, "A": a, "B": rng.normal(0, 0.02, n)}, index=WEEKS[:n])
    res = scenario(frame, "S", -0.10, window_lengths=(1, 2), band=0.015, min_obs=5)
    assert isinstance(res, ScenarioResult) and res.shocks == (-0.10,)
    assert list(res.windows["end"]) == list(WEEKS[[1, 4, 6]])
    an = res.responses[(res.responses["method"] == "analogues")].set_index("series")
    # median of (-4%, -1%, -6%) and numpy's linear 10%/90% quantiles: sorted (-6, -4, -1)
    assert_allclose(an.loc["A", ["response", "low", "high", "mean"]].astype(float),
                    [-0.04, -0.06 + 0.2 * 0.02, -0.04 + 0.8 * 0.03, -11 / 300], rtol=1e-12)
    assert an.loc["A", "n"] == 3 and np.isnan(an.loc["A", "median_ci_low"])  # 3 draws: no 95% interval
    # window returns are the compounded returns over the same rows
    assert_allclose(res.windows["B"], frame["B"].iloc[[1, 4, 6]], rtol=1e-12)
    for method in ("beta", "downside_beta", "conditional_beta"):
        b = res.betas[method].table
        rows = res.responses[res.responses["method"] == method].set_index("series")
        assert_allclose(rows["response"], -0.10 * b["beta"], rtol=1e-12)
        # a negative shock flips the interval
        assert_allclose(rows["low"], -0.10 * b["ci_high"], rtol=1e-12)
        assert_allclose(rows["high"], -0.10 * b["ci_low"], rtol=1e-12)
    assert res.betas["beta"].table.loc["A", "beta"] == pytest.approx(0.4, abs=0.05)
    out = res.to_frame()
    assert (out["shocked"] == "S").all() and len(out) == 2 * 4


def test_scenario_multi_week_windows_and_missing_data():
    bench, frame = _factor_returns(seed=2)
    frame.iloc[:300, 2] = np.nan  # C listed half way: left out of earlier windows
    data = frame.assign(S=bench)
    res = scenario(data, "S", (-0.05, -0.08), band=0.01)
    for x in (-0.05, -0.08):
        w = res.windows[res.windows["shock"] == x]
        assert len(w) > 5 and (w["return"] - x).abs().max() <= 0.01 + 1e-12
        for row in w.itertuples():
            rows = data.loc[(data.index > row.start) & (data.index <= row.end)] if pd.notna(row.start) else None
            if rows is None:
                continue
            assert len(rows) == row.periods
            assert_allclose(row.A, np.prod(1 + rows["A"]) - 1, rtol=1e-10)
        n_c = res.responses.query("method == 'analogues' and series == 'C' and shock == @x")["n"].iloc[0]
        assert n_c == int(w["C"].notna().sum()) < len(w)


def test_scenario_validation():
    bench, frame = _factor_returns()
    data = frame.assign(S=bench)
    with pytest.raises(ParameterError, match="shocked"):
        scenario(data, "X")
    with pytest.raises(ParameterError, match="responses"):
        scenario(data, "S", responses=["S"])
    with pytest.raises(ParameterError, match="responses"):
        scenario(data, "S", responses=["Z"])
    with pytest.raises(ParameterError, match="quantiles"):
        scenario(data, "S", quantiles=(0.9, 0.1))
    with pytest.raises(ParameterError, match="shocks"):
        scenario(data, "S", shocks=())
    with pytest.raises(DataError, match="valid returns"):
        scenario(data.assign(S=np.nan), "S")


# ============================================================================= stress()
@pytest.fixture(scope="module")
def synthetic_levels() -> pd.DataFrame:
    """Daily levels (business days, ending on a Friday) of a market, a high-beta and a late series."""
    rng = np.random.default_rng(9)
    idx = pd.bdate_range("2018-01-01", "2022-12-30", name="date")
    m = rng.normal(0.0004, 0.015, len(idx))
    r = np.column_stack([m, 1.5 * m + rng.normal(0, 0.01, len(idx)), 0.5 * m + rng.normal(0, 0.02, len(idx))])
    lv = pd.DataFrame(100 * np.exp(np.cumsum(r, axis=0)), index=idx, columns=["ai", "miners", "late"])
    lv.loc[:"2019-06-30", "late"] = np.nan
    return lv


def test_stress_on_levels_matches_its_parts(synthetic_levels):
    res = stress(synthetic_levels, {"ai": [-0.05, -0.1]}, thresholds=(0.1, 0.2), band=0.02)
    assert isinstance(res, StressResult)
    assert res.frequency == "D" and res.scenario_frequency == "W"
    direct = drawdown_episodes(simple_returns(synthetic_levels), (0.1, 0.2))
    pd.testing.assert_frame_equal(res.drawdowns.summary, direct.summary)
    # scenarios run on weekly returns: last level of each W-FRI week (pandas resample here)
    weekly = synthetic_levels.resample("W-FRI").last()
    wr = weekly / weekly.shift(1) - 1
    ref = hac_beta(wr[["miners", "late"]], wr["ai"])
    assert_allclose(res.scenarios["ai"].betas["beta"].beta, ref.beta, rtol=1e-12)
    assert res.scenarios["ai"].betas["beta"].table.loc["miners", "beta"] == pytest.approx(1.5, abs=0.15)
    out = res.to_frame()
    assert set(out["method"]) == {"beta", "downside_beta", "conditional_beta", "analogues"}
    assert set(out["shock"]) == {-0.05, -0.1} and set(out["series"]) == {"miners", "late"}
    assert_allclose(res.drawdown_frequency()["episodes"], direct.summary["episodes"])
    # a window: drawdowns restart from the first level kept
    cut = stress(synthetic_levels, {"ai": -0.05}, start="2020-01-01", end="2021-12-31")
    assert cut.start >= pd.Timestamp("2020-01-01") and cut.end <= pd.Timestamp("2021-12-31")
    ref = drawdown_episodes(simple_returns(synthetic_levels.loc["2020-01-01":"2021-12-31"]))
    pd.testing.assert_frame_equal(cut.drawdowns.episodes, ref.episodes)


def test_stress_weekly_input_and_errors(synthetic_levels):
    weekly = to_weekly(synthetic_levels)
    res = stress(weekly, {"ai": -0.05}, baskets=["miners"])
    assert res.frequency == "W" and list(res.levels.columns) == ["miners", "ai"]
    with pytest.raises(ParameterError, match="shocks"):
        stress(synthetic_levels)  # a frame has no universe to pick the ai basket from
    with pytest.raises(ParameterError, match="shocks"):
        stress(synthetic_levels, {"nope": -0.1})
    with pytest.raises(ParameterError, match="shocks"):
        stress(synthetic_levels, {"ai": 0.0})
    with pytest.raises(ParameterError, match="baskets"):
        stress(synthetic_levels, {"ai": -0.1}, baskets=["zzz"])
    with pytest.raises(DataError, match="positive levels"):
        stress(simple_returns(synthetic_levels), {"ai": -0.1})
    with pytest.raises(ParameterError, match="before start"):
        stress(synthetic_levels, {"ai": -0.1}, start="2021-01-01", end="2020-01-01")
    with pytest.raises(DataError, match="rows"):
        stress(synthetic_levels, {"ai": -0.1}, start="2030-01-01")


# ============================================================================= real data
@pytest.fixture(scope="module")
def real_stress(real_panel) -> StressResult:
    return stress(real_panel)


@pytest.mark.shared_data
def test_real_crypto_majors_drawdowns_show_2022(real_stress):
    ep = real_stress.drawdowns.episodes
    crypto = ep[(ep["symbol"] == "crypto_majors") & (ep["threshold"] == 0.2)]
    fall = crypto[crypto["trough"].dt.year == 2022]
    assert len(fall) == 1 and fall["depth"].iloc[0] < -0.60
    assert fall["peak"].iloc[0].year == 2021  # from the late-2021 high
    s = real_stress.drawdowns.summary.set_index(["symbol", "threshold"])
    assert s.loc[("crypto_majors", 0.2), "deepest"] < -0.6


@pytest.mark.shared_data
def test_real_ai_compute_drawdown_count_and_frequency(real_stress):
    s = real_stress.drawdowns.summary.set_index(["symbol", "threshold"])
    ai = s.loc["ai_compute"]
    assert ai.loc[0.10, "first_date"] <= pd.Timestamp("2015-01-05")
    assert ai.loc[0.10, "episodes"] > 3
    # deeper thresholds are rarer; every count is consistent with its per-year rate
    assert ai.loc[0.10, "episodes"] >= ai.loc[0.15, "episodes"] >= ai.loc[0.20, "episodes"]
    assert_allclose(ai["per_year"], ai["episodes"] / ai["years"])
    assert ((ai["median_days_to_trough"] > 0) & (ai["median_days_to_recovery"] >= ai["median_days_to_trough"])).all()


@pytest.mark.shared_data
def test_real_ai_compute_shock_hits_miners(real_stress):
    sc = real_stress.scenarios["ai_compute"]
    an = sc.responses.query("method == 'analogues' and shock == -0.15").set_index("series")
    m = an.loc["miners_ai_hosting"]
    assert m["response"] < 0 and np.isfinite(m["low"]) and np.isfinite(m["high"]) and m["low"] < m["high"]
    assert m["n"] >= 10
    b = sc.responses.query("method == 'beta' and shock == -0.15").set_index("series")
    assert b.loc["miners_ai_hosting", "response"] < 0 and b.loc["miners_ai_hosting", "high"] < 0
    # the analogue windows really are AI-compute falls of 12.5-17.5% on the weekly levels
    w = sc.windows[sc.windows["shock"] == -0.15]
    weekly = to_weekly(real_stress.levels)
    assert len(w) >= 10
    for _, row in w.iterrows():
        assert abs(row["return"] + 0.15) <= 0.025 + 1e-12
        for col, value in (("ai_compute", row["return"]), ("miners_ai_hosting", row["miners_ai_hosting"])):
            assert_allclose(value, weekly.at[row["end"], col] / weekly.at[row["start"], col] - 1, rtol=1e-10)


@pytest.mark.shared_data
def test_real_downside_beta_matches_statsmodels(real_stress):
    weekly = to_weekly(real_stress.levels)
    wr = weekly / weekly.shift(1) - 1
    sc = real_stress.scenarios["ai_compute"]
    for col in ("crypto_majors", "miners_ai_hosting"):
        ok = wr[col].notna() & wr["ai_compute"].notna()
        y, x = wr.loc[ok, col].to_numpy(), wr.loc[ok, "ai_compute"].to_numpy()
        d = (x < 0).astype(float)
        fit = _hac_fit(y, np.column_stack([d, 1 - d, d * x, (1 - d) * x]), newey_west_lags(len(y)))
        row = sc.betas["downside_beta"].table.loc[col]
        assert_allclose([row.beta, row.se, row.p], [fit.params[2], fit.bse[2], fit.pvalues[2]], rtol=1e-9)
        full = _hac_fit(y, sm.add_constant(x), newey_west_lags(len(y)))
        assert_allclose(sc.betas["beta"].table.loc[col, ["beta", "se"]].astype(float), [full.params[1], full.bse[1]],
                        rtol=1e-9)


@pytest.mark.shared_data
def test_real_shock_on_a_basket_outside_the_defaults(real_panel):
    res = stress(real_panel, {"benchmarks": -0.05}, baskets=["crypto_majors"], thresholds=0.2, weighting="basket")
    assert list(res.levels.columns) == ["crypto_majors", "benchmarks"]
    out = res.to_frame()
    assert set(out["series"]) == {"crypto_majors"} and set(out["shocked"]) == {"benchmarks"}
    beta = res.scenarios["benchmarks"].betas["beta"].table.loc["crypto_majors"]
    assert beta["beta"] > 0 and beta["p"] < 0.05  # crypto moves with the equity market, weekly
