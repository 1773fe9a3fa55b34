"""Regime models vs statsmodels, hmmlearn and simulated truth; ordering, determinism, look-ahead."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from rotation.analytics import regimes as R
from rotation.errors import DataError, ParameterError

# the simulated truth: a calm up-trending state and a turbulent falling one
TRUE_MEANS = np.array([-0.02, 0.01])
TRUE_SDS = np.array([0.06, 0.02])
TRUE_P = np.array([[0.95, 0.05], [0.03, 0.97]])  # rows: from


def _simulate(n: int, seed: int, means=TRUE_MEANS, sds=TRUE_SDS, P=TRUE_P) -> tuple[pd.Series, np.ndarray]:
    rng = np.random.default_rng(seed)
    k = len(means)
    s = np.empty(n, dtype=int)
    s[0] = 1
    u = rng.random(n)
    for t in range(1, n):
        s[t] = int(np.searchsorted(np.cumsum(P[s[t - 1]]), u[t]))
    y = rng.normal(np.asarray(means)[s], np.asarray(sds)[s])
    idx = pd.date_range("2012-01-06", periods=n, freq="W-FRI", name="date")
    assert set(np.unique(s)) == set(range(k))
    return pd.Series(y, idx, name="sim"), s


@pytest.fixture(scope="module")
def sim() -> tuple[pd.Series, np.ndarray]:
    return _simulate(600, seed=7)


@pytest.fixture(scope="module")
def fitted(sim) -> R.RegimeResult:
    return R.regimes(sim[0], 2)


def _sm_params_raw(res: R.RegimeResult, mod) -> np.ndarray:
    """Our ordered estimates as a statsmodels parameter vector on the raw data."""
    p = R._Params(res.means.to_numpy(), res.variances.to_numpy(), res.transition.to_numpy())
    return R._sm_vector(mod, p)


# ----------------------------------------------------------------------------- recovery
def test_recovers_simulated_two_state_model(sim, fitted):
    y, states = sim
    res = fitted
    # state 0 = lowest mean = the turbulent state of the simulation
    assert_allclose(res.means, TRUE_MEANS, atol=4 * res.mean_se.max())
    assert_allclose(res.volatilities, TRUE_SDS, rtol=0.12)
    assert_allclose(np.diag(res.transition), np.diag(TRUE_P), atol=0.03)
    assert_allclose(res.expected_durations, 1 / (1 - np.diag(res.transition.to_numpy())))
    # the smoothed most likely state matches the simulated path most of the time
    assert (res.most_likely().to_numpy() == states).mean() > 0.93
    assert res.converged and res.notes == ()
    assert_allclose(res.transition.sum(axis=1), 1.0)
    assert_allclose(res.smoothed.sum(axis=1), 1.0)
    assert_allclose(res.filtered.sum(axis=1), 1.0)
    # at the last date filtered and smoothed condition on the same data
    assert_allclose(res.filtered.iloc[-1], res.smoothed.iloc[-1], atol=1e-9)
    assert res.aic == pytest.approx(2 * res.n_params - 2 * res.llf)
    assert res.bic == pytest.approx(res.n_params * np.log(600) - 2 * res.llf)
    assert res.n_params == 6


def test_matches_statsmodels_fit_on_raw_data(sim, fitted):
    """statsmodels fitted directly on the unscaled returns reaches the same optimum."""
    import statsmodels.api as sm

    y = sim[0]
    mod = sm.tsa.MarkovRegression(y.to_numpy(), k_regimes=2, trend="c", switching_variance=True)
    ref = mod.fit(disp=False, search_reps=20, rng=np.random.default_rng(0), maxiter=2000)
    p_ref, _ = R._sm_unpack(mod, np.asarray(ref.params), 2)
    order = np.argsort(p_ref.means)
    assert fitted.llf >= ref.llf - 1e-6
    assert_allclose(fitted.llf, ref.llf, rtol=1e-6)
    assert_allclose(fitted.means, p_ref.means[order], rtol=2e-3, atol=2e-5)
    assert_allclose(fitted.variances, p_ref.variances[order], rtol=5e-3)
    assert_allclose(fitted.transition, p_ref.transition[np.ix_(order, order)], atol=2e-3)
    assert_allclose(fitted.smoothed, np.asarray(ref.smoothed_marginal_probabilities)[:, order], atol=5e-3)


def test_reparametrisation_is_exact_against_statsmodels(sim, fitted):
    """statsmodels' own filter/smoother at our (back-transformed) estimates gives our numbers."""
    import statsmodels.api as sm

    y = sim[0]
    mod = sm.tsa.MarkovRegression(y.to_numpy(), k_regimes=2, trend="c", switching_variance=True)
    ref = mod.smooth(_sm_params_raw(fitted, mod))
    assert_allclose(ref.llf, fitted.llf, rtol=1e-9)
    assert_allclose(np.asarray(ref.smoothed_marginal_probabilities), fitted.smoothed, atol=1e-7)
    assert_allclose(np.asarray(ref.filtered_marginal_probabilities), fitted.filtered, atol=1e-7)
    assert_allclose(ref.expected_durations, fitted.expected_durations, rtol=1e-9)
    # the standard errors are statsmodels' numerical-Hessian ones, mapped to the raw scale
    refa = mod.smooth(_sm_params_raw(fitted, mod), cov_type="approx")
    names = list(mod.param_names)
    assert_allclose(fitted.mean_se, [refa.bse[names.index(f"const[{j}]")] for j in range(2)], rtol=2e-2)


def test_hamilton_filter_matches_statsmodels():
    import statsmodels.api as sm

    y, _ = _simulate(300, seed=3)
    mod = sm.tsa.MarkovRegression(y.to_numpy(), k_regimes=2, trend="c", switching_variance=True)
    params = R._Params(TRUE_MEANS, TRUE_SDS**2, TRUE_P)
    ref = mod.filter(R._sm_vector(mod, params))
    probs, llf = R.hamilton_filter(y.to_numpy(), TRUE_MEANS, TRUE_SDS**2, TRUE_P)
    assert_allclose(probs, ref.filtered_marginal_probabilities, atol=1e-12)
    assert_allclose(llf, ref.llf, rtol=1e-12)
    # an outlier 40 sd away does not underflow (log-space filter)
    y2 = y.to_numpy().copy()
    y2[100] = 3.0
    probs2, llf2 = R.hamilton_filter(y2, TRUE_MEANS, TRUE_SDS**2, TRUE_P)
    assert np.isfinite(probs2).all() and np.isfinite(llf2)
    with pytest.raises(ParameterError, match="shapes"):
        R.hamilton_filter(y.to_numpy(), TRUE_MEANS, TRUE_SDS[:1] ** 2, TRUE_P)
    # an absorbing chain stuck in state 0 meets an observation only state 1 could explain:
    # every density underflows after scaling; the log-space branch gives the exact answer
    from scipy import stats

    probs3, llf3 = R.hamilton_filter(np.array([0.0, 90.0]), np.array([0.0, 100.0]), np.ones(2), np.eye(2),
                                     initial=np.array([1.0, 0.0]))
    assert_allclose(probs3, [[1.0, 0.0], [1.0, 0.0]])
    assert llf3 == pytest.approx(stats.norm.logpdf(0.0) + stats.norm.logpdf(90.0), rel=1e-12)


# ----------------------------------------------------------------------------- ordering, determinism
def test_fitting_twice_is_bit_identical(sim, fitted):
    again = R.regimes(sim[0], 2)
    for attr in ("means", "variances", "transition", "filtered", "smoothed", "mean_se"):
        assert_array_equal(getattr(again, attr).to_numpy(), getattr(fitted, attr).to_numpy())
    assert again.llf == fitted.llf


def test_ordering_is_stable_under_relabelled_starts(sim, fitted):
    y = sim[0]
    start = {"means": [0.01, -0.02], "variances": [0.02**2, 0.06**2], "transition": [[0.9, 0.1], [0.1, 0.9]]}
    swapped = {"means": [-0.02, 0.01], "variances": [0.06**2, 0.02**2], "transition": [[0.9, 0.1], [0.1, 0.9]]}
    a = R.regimes(y, 2, start_params=start)
    b = R.regimes(y, 2, start_params=swapped)
    assert a.starts["start"].tolist() == ["user"]
    for res in (a, b):
        assert res.means.iloc[0] < res.means.iloc[1]
        assert_allclose(res.means, fitted.means, rtol=1e-4)
        assert_allclose(res.variances, fitted.variances, rtol=1e-3)
        assert_allclose(res.transition, fitted.transition, atol=1e-4)
        assert_allclose(res.smoothed, fitted.smoothed, atol=1e-4)


def test_order_by_variance_and_ties():
    y, _ = _simulate(300, seed=11, means=np.array([0.01, -0.005]), sds=np.array([0.01, 0.05]))
    by_var = R.regimes(y, 2, order_by="variance")
    by_mean = R.regimes(y, 2, order_by="mean")
    assert by_var.variances.is_monotonic_increasing
    assert by_mean.means.is_monotonic_increasing
    # here the calm state has the higher mean: the two orders are reversed
    assert_allclose(by_var.means.to_numpy()[::-1], by_mean.means.to_numpy(), rtol=1e-6)
    assert_allclose(by_var.smoothed.to_numpy()[:, ::-1], by_mean.smoothed.to_numpy(), atol=1e-9)
    # a common mean makes every mean tie: order_by="mean" falls back to the variance
    tied = R.regimes(y, 2, switching_mean=False)
    assert tied.means.iloc[0] == tied.means.iloc[1]
    assert tied.variances.is_monotonic_increasing
    assert tied.n_params == 5


# ----------------------------------------------------------------------------- hmm backend
def test_hmm_backend_agrees_with_markov(sim, fitted):
    hmmlearn = pytest.importorskip("hmmlearn")
    from hmmlearn.hmm import GaussianHMM

    y, states = sim
    res = R.regimes(y, 2, model="hmm")
    assert res.model == "hmm" and res.means.is_monotonic_increasing
    # same model up to the first state's distribution: close estimates
    assert_allclose(res.means, fitted.means, rtol=0.05, atol=5e-4)
    assert_allclose(res.volatilities, fitted.volatilities, rtol=0.02)
    assert_allclose(res.transition, fitted.transition, atol=0.02)
    assert (res.most_likely().to_numpy() == states).mean() > 0.93
    assert_allclose(res.filtered.iloc[-1], res.smoothed.iloc[-1], atol=1e-9)
    # the smoothed probabilities are hmmlearn's own posteriors for our (re-labelled) parameters
    hmm = GaussianHMM(n_components=2, covariance_type="diag", init_params="", params="")
    hmm.startprob_ = res.initial.to_numpy()
    hmm.transmat_ = res.transition.to_numpy()
    hmm.means_ = res.means.to_numpy().reshape(2, 1)
    hmm.covars_ = res.variances.to_numpy().reshape(2, 1)
    X = y.to_numpy().reshape(-1, 1)
    assert_allclose(hmm.predict_proba(X), res.smoothed, atol=1e-6)
    assert_allclose(hmm.score(X), res.llf, rtol=1e-7)
    assert hmmlearn.__version__


def test_hmm_missing_dependency_names_the_extra(monkeypatch, sim):
    monkeypatch.setitem(sys.modules, "hmmlearn", None)
    monkeypatch.setitem(sys.modules, "hmmlearn.hmm", None)
    with pytest.raises(ImportError, match=r"pip install rotation\[hmm\]"):
        R.regimes(sim[0], 2, model="hmm")


# ----------------------------------------------------------------------------- result helpers
def test_to_frame_spells_and_filter(sim, fitted):
    y = sim[0]
    frame = fitted.to_frame()
    assert list(frame.index) == [0, 1]
    assert_allclose(frame["ann_volatility"], fitted.volatilities * np.sqrt(52))
    assert fitted.periods_per_year == 52
    assert_allclose(frame["share_smoothed"].sum(), 1.0)
    spells = fitted.spells()
    assert spells["periods"].sum() == len(y)
    assert (spells["state"].diff().dropna() != 0).all()
    assert spells["start"].iloc[0] == y.index[0] and spells["end"].iloc[-1] == y.index[-1]
    assert fitted.current_state == int(np.argmax(fitted.filtered.iloc[-1]))
    # the model's filter applied to its own data reproduces the filtered probabilities
    assert_allclose(fitted.filter(y), fitted.filtered, atol=1e-7)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    n_past=st.integers(5, 120),
    extra=st.lists(st.floats(-0.3, 0.3, allow_nan=False), min_size=1, max_size=40),
)
def test_filter_is_look_ahead_free(fitted, sim, n_past, extra):
    """Appending future observations never changes a past filtered probability."""
    y = sim[0].iloc[:n_past]
    future_idx = pd.date_range(y.index[-1] + pd.Timedelta(weeks=1), periods=len(extra), freq="W-FRI")
    longer = pd.concat([y, pd.Series(extra, future_idx, name=y.name)])
    past = fitted.filter(y)
    full = fitted.filter(longer)
    assert_allclose(full.loc[past.index].to_numpy(), past.to_numpy(), rtol=0, atol=1e-12)


def test_fat_tails_without_regimes_are_flagged():
    """i.i.d. Student-t returns: the second "state" is a home for outliers, and the result says so."""
    y = pd.Series(np.random.default_rng(1).standard_t(3, 300) * 0.01, pd.date_range("2015-01-02", periods=300,
                  freq="W-FRI"), name="t3")
    res = R.regimes(y, 2, switching_mean=False)
    assert res.transition.iloc[1, 1] < 0.5
    assert any("not persistent" in note for note in res.notes)


# ----------------------------------------------------------------------------- real time
def test_expanding_regimes_schedule_and_consistency(sim):
    y = sim[0].iloc[:200]
    ex = R.expanding_regimes(y, 2, step=50, min_periods=100)
    fit_dates = ex.fits["fit_date"].unique()
    assert list(fit_dates) == list(y.index[[99, 149, 199]])
    assert ex.probabilities.iloc[:99].isna().all().all()
    assert ex.probabilities.iloc[99:].notna().all().all()
    assert_allclose(ex.probabilities.iloc[99:].sum(axis=1), 1.0)
    # the first refit is a plain fit on the first 100 rows: same estimates as regimes()
    first = R.regimes(y.iloc[:100], 2)
    f0 = ex.fits[ex.fits["fit_date"] == fit_dates[0]].set_index("state")
    assert_allclose(f0["mean"], first.means, rtol=1e-6)
    # and rows 99..148 are that model's filter (not the smoother)
    assert_allclose(ex.probabilities.iloc[99:149], first.filter(y.iloc[:149]).iloc[99:149], atol=1e-7)
    frame = ex.to_frame()
    assert list(frame.index) == [0, 1] and frame["as_of"].iloc[0] == y.index[-1]
    assert_array_equal(ex.state.iloc[99:].to_numpy(), np.argmax(ex.probabilities.iloc[99:].to_numpy(), axis=1))
    if R._hmmlearn_available():
        hmm = R.expanding_regimes(y, 2, model="hmm", step=50, min_periods=100)
        assert hmm.model == "hmm" and hmm.probabilities.iloc[99:].notna().all().all()


_FULL: dict[int, tuple[pd.Series, R.ExpandingRegimes]] = {}


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(85, 119))
def test_expanding_regimes_is_look_ahead_free(cut):
    """Refits at rows 49 and 84 (and 119 in the full run): past rows never change."""
    seed = 0
    if seed not in _FULL:  # the full run does not depend on the cut
        y, _ = _simulate(120, seed=seed)
        _FULL[seed] = (y, R.expanding_regimes(y, 2, step=35, min_periods=50))
    y, full = _FULL[seed]
    short = R.expanding_regimes(y.iloc[:cut], 2, step=35, min_periods=50)
    assert len(full.fits) == 6 and len(short.fits) == 4
    assert_allclose(full.probabilities.iloc[:cut].to_numpy(), short.probabilities.to_numpy(), rtol=0, atol=1e-12)


# ----------------------------------------------------------------------------- errors
def test_bad_input(sim):
    y = sim[0]
    gap = y.copy()
    gap.iloc[50] = np.nan
    with pytest.raises(DataError, match="2012-12-21"):
        R.regimes(gap, 2)
    # leading/trailing NaN are trimmed, not an error
    padded = y.copy()
    padded.iloc[:3] = np.nan
    assert R.regimes(padded, 2).nobs == len(y) - 3
    with pytest.raises(ParameterError, match="k"):
        R.regimes(y, 1)
    with pytest.raises(ParameterError, match="model"):
        R.regimes(y, 2, model="garch")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="order_by"):
        R.regimes(y, 2, order_by="duration")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="switching"):
        R.regimes(y, 2, switching_mean=False, switching_variance=False)
    with pytest.raises(DataError, match="at least 50"):
        R.regimes(y.iloc[:30], 2)
    with pytest.raises(DataError, match="constant"):
        R.regimes(pd.Series(0.01, index=y.index, name="flat"), 2)
    with pytest.raises(ParameterError, match="row-stochastic"):
        R.regimes(y, 2, start_params={"transition": [[0.5, 0.6], [0.5, 0.5]]})
    with pytest.raises(ParameterError, match="unknown keys"):
        R.regimes(y, 2, start_params={"mu": [0, 1]})
    with pytest.raises(ParameterError, match="means must be a number or 2 numbers"):
        R.regimes(y, 2, start_params={"means": [0, 1, 2]})
    with pytest.raises(ParameterError, match="DatetimeIndex"):
        R.regimes(pd.Series(y.to_numpy()), 2)
    with pytest.raises(ParameterError, match="one series"):
        R.regimes(pd.DataFrame({"a": y, "b": y}), 2)


# ----------------------------------------------------------------------------- real data
def _crypto_weekly(real_weekly_panel) -> pd.Series:
    return real_weekly_panel.basket_returns("crypto_majors", "cap").loc["2021-01-01":"2025-12-31"].rename("crypto_majors")


@pytest.mark.shared_data
def test_real_crypto_two_state_volatility(real_weekly_panel):
    r = _crypto_weekly(real_weekly_panel)
    res = R.regimes(r, 2, order_by="variance")
    assert res.converged
    hi = res.smoothed[1]
    by_year = hi.groupby(hi.index.year).mean()
    # the turbulent state is far likelier in 2022 than in the calmer 2023-2024
    assert by_year[2022] > 3 * max(by_year[2023], by_year[2024])
    assert res.to_frame()["ann_volatility"].iloc[1] > 1.5 * res.to_frame()["ann_volatility"].iloc[0]


@pytest.mark.shared_data
@pytest.mark.slow
def test_real_crypto_high_volatility_state_covers_most_of_2022(real_weekly_panel):
    """Variance regimes (k=3, common mean) of crypto majors' weekly returns, 2021-2025.

    Two short-lived states absorb the fat tails (calm weeks and isolated
    jumps); the third, persistent one is the 2021-2022 turbulence. Over the
    whole history since 2013 a two-state model instead puts 2013, 2017 and
    2021's bubbles in its high-volatility state and 2022 (about 63% annualised)
    in the calm one, so the sample window matters.
    """
    r = _crypto_weekly(real_weekly_panel)
    res = R.regimes(r, 3, switching_mean=False, order_by="variance")
    hi = res.smoothed[2]
    assert res.expected_durations[2] > 52
    assert hi.loc["2022"].mean() > 0.5
    assert (hi.loc["2022"] > 0.5).mean() > 0.5
    assert hi.loc["2023":"2024"].mean() < 0.1
    assert res.to_frame()["ann_volatility"].iloc[2] > 0.7
