"""Rolling kernels vs pandas ``.rolling()`` and vs an exact two-pass reference.

Two references are used on purpose:

* pandas ``.rolling()`` defines the semantics (window, NaN skipping,
  ``min_periods``, constant windows -> variance 0). It is compared on
  well-conditioned data, where its online add/remove algorithm is accurate.
* A brute-force two-pass computation on every window (``sliding_window_view``)
  is the precision reference on ill-conditioned data (prices near 1e5 with
  1e-2 noise, level shifts, stale runs). There pandas itself drifts: its
  rolling variance of 1e5 + N(0, 1e-2) is off by ~3e-9 relative, and after a
  1e5 -> 5 -> 1e5 level shift by ~3e-7 (measured while writing this module),
  so pandas cannot be the 1e-9 reference there.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view
from numpy.testing import assert_allclose, assert_array_equal

from rotation.analytics import _rolling as R
from rotation.errors import DataError, ParameterError

SINGLE = ["sum", "mean", "var", "std", "max", "min"]


def _panel(rng: np.random.Generator, T: int, N: int, level: float, scale: float) -> np.ndarray:
    """Random walk-free noise around ``level`` with NaN holes and late starts."""
    x = level + scale * rng.standard_normal((T, N))
    x[rng.random((T, N)) < 0.08] = np.nan
    for j in range(N):
        x[: rng.integers(0, T // 3), j] = np.nan  # late listing
    x[T // 2 : T // 2 + 25, 0] = np.nan  # a long gap
    return x


def _brute(x: np.ndarray, window: int, minp: int, fn) -> tuple[np.ndarray, np.ndarray]:
    """Apply ``fn`` to every (T, N, window) window (NaN-padded at the top); NaN below minp."""
    pad = np.vstack([np.full((window - 1, x.shape[1]), np.nan), x])
    win = sliding_window_view(pad, window, axis=0)
    n = (~np.isnan(win)).sum(axis=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = fn(win)
    out = np.where(n < minp, np.nan, out)
    return out, n


def _two_pass_var(win: np.ndarray) -> np.ndarray:
    n = (~np.isnan(win)).sum(axis=2)
    mean = np.nansum(win, axis=2) / n
    dev = np.where(np.isnan(win), 0.0, win - mean[..., None])
    return (dev * dev).sum(axis=2) / (n - 1)


# ------------------------------------------------------------ vs pandas
@pytest.mark.parametrize(
    ("window", "min_periods"), [(5, None), (20, None), (20, 3), (63, 30), (250, 2)]
)
@pytest.mark.parametrize(("level", "scale"), [(0.0, 0.02), (1e5, 100.0)])
def test_single_series_kernels_match_pandas(window, min_periods, level, scale):
    rng = np.random.default_rng(window)
    df = pd.DataFrame(
        _panel(rng, 700, 5, level, scale), index=pd.date_range("2020-01-01", periods=700)
    )
    roll = df.rolling(window, min_periods=min_periods)
    for name in SINGLE:
        ours = getattr(R, f"rolling_{name}")(df, window, min_periods)
        assert isinstance(ours, pd.DataFrame) and ours.index.equals(df.index)
        # atol: sums of mean-zero returns can cancel to ~1e-7, where relative error is meaningless
        assert_allclose(
            ours.to_numpy(),
            getattr(roll, name)().to_numpy(),
            rtol=1e-9,
            atol=1e-13 * scale,
            err_msg=name,
        )
    z_ref = (df - roll.mean()) / roll.std()
    z_ref = z_ref.where(np.isfinite(z_ref))
    assert_allclose(
        R.rolling_zscore(df, window, min_periods).to_numpy(), z_ref.to_numpy(), rtol=1e-7, atol=1e-9
    )
    assert_allclose(
        R.rolling_count(df, window).to_numpy(),
        df.notna().rolling(window, min_periods=1).sum().to_numpy(),
    )


@pytest.mark.parametrize(("window", "min_periods"), [(10, None), (60, 20), (252, 126)])
def test_pair_kernels_match_pandas(window, min_periods):
    rng = np.random.default_rng(7)
    idx = pd.date_range("2019-01-01", periods=800)
    x = pd.DataFrame(_panel(rng, 800, 4, 0.0, 0.02), index=idx, columns=list("abcd"))
    y = pd.Series(0.01 * rng.standard_normal(800), index=idx)
    y[rng.random(800) < 0.05] = np.nan
    x["c"] = 0.8 * y + 0.005 * rng.standard_normal(800)  # a strongly correlated column
    roll = x.rolling(window, min_periods=min_periods)
    assert_allclose(
        R.rolling_cov(x, y, window, min_periods).to_numpy(),
        roll.cov(y).to_numpy(),
        rtol=1e-9,
        atol=1e-15,
    )
    corr = roll.corr(y)
    assert_allclose(
        R.rolling_corr(x, y, window, min_periods).to_numpy(),
        corr.where(np.isfinite(corr)).to_numpy(),
        rtol=1e-9,
        atol=1e-12,
    )
    # beta = cov / var(y) over the pairwise-valid rows (y masked where x is missing)
    y_masked = pd.DataFrame({c: y.where(x[c].notna()) for c in x.columns})
    beta_ref = roll.cov(y) / y_masked.rolling(window, min_periods=min_periods).var()
    assert_allclose(
        R.rolling_beta(x, y, window, min_periods).to_numpy(),
        beta_ref.to_numpy(),
        rtol=1e-8,
        atol=1e-12,
    )


def test_wide_frame_row_loop_path_matches_pandas():
    # >= 256 columns switches the prefix sums to the row loop
    rng = np.random.default_rng(11)
    x = _panel(rng, 300, 300, 50.0, 1.0)
    y = rng.standard_normal(300)
    df = pd.DataFrame(x)
    assert_allclose(
        R.rolling_var(x, 30, 10), df.rolling(30, min_periods=10).var().to_numpy(), rtol=1e-9
    )
    assert_allclose(
        R.rolling_mean(x, 30, 10), df.rolling(30, min_periods=10).mean().to_numpy(), rtol=1e-12
    )
    ref = df.rolling(30, min_periods=10).corr(pd.Series(y))
    assert_allclose(
        R.rolling_corr(x, y, 30, 10), ref.where(np.isfinite(ref)).to_numpy(), rtol=1e-8, atol=1e-12
    )


def test_elementwise_y_frame_and_numpy_shapes():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((200, 3))
    y = rng.standard_normal((200, 3))
    out = R.rolling_corr(x, y, 40)
    for j in range(3):
        ref = pd.Series(x[:, j]).rolling(40).corr(pd.Series(y[:, j])).to_numpy()
        assert_allclose(out[:, j], ref, rtol=1e-10)
    one = R.rolling_var(x[:, 0], 40)
    assert one.shape == (200,)
    assert_allclose(one, R.rolling_var(x, 40)[:, 0])


def test_pandas_y_is_aligned_by_date():
    idx = pd.date_range("2021-01-01", periods=120)
    rng = np.random.default_rng(5)
    x = pd.Series(rng.standard_normal(120), index=idx, name="x")
    y = pd.Series(rng.standard_normal(120), index=idx)
    shuffled = y.sample(frac=1.0, random_state=1).iloc[10:]  # reordered, first dates dropped
    got = R.rolling_corr(x, shuffled, 30)
    ref = x.rolling(30).corr(y.reindex(shuffled.sort_index().index).reindex(idx))
    assert got.name == "x" and got.index.equals(idx)
    assert_allclose(got.to_numpy(), ref.to_numpy(), rtol=1e-10)


# ------------------------------------------------------ precision reference
def _ill_conditioned(rng: np.random.Generator) -> np.ndarray:
    T = 600
    x = 1e5 + rng.standard_normal((T, 6)) * np.array([1e-3, 1e-2, 1.0, 10.0, 100.0, 1000.0])
    x[rng.random(x.shape) < 0.1] = np.nan
    x[:80, 2] = np.nan
    x[200:260, 3] = 1e5  # stale (constant) run
    x[400:450, 4] = 5.0  # level shift down and back inside one block
    return x


@pytest.mark.parametrize(("window", "min_periods"), [(2, 2), (20, 20), (20, 5), (63, 30), (300, 2)])
def test_variance_is_exact_on_ill_conditioned_prices(window, min_periods):
    x = _ill_conditioned(np.random.default_rng(window))
    ref, n = _brute(x, window, min_periods, _two_pass_var)
    ref = np.where(n < 2, np.nan, ref)
    assert_allclose(R.rolling_var(x, window, min_periods), ref, rtol=1e-10, atol=0)
    mean_ref, _ = _brute(x, window, min_periods, lambda w: np.nanmean(w, axis=2))
    assert_allclose(R.rolling_mean(x, window, min_periods), mean_ref, rtol=1e-10, atol=0)


@pytest.mark.parametrize("window", [2, 20, 63])
def test_pair_kernels_are_exact_on_price_levels(window):
    rng = np.random.default_rng(99)
    x = _ill_conditioned(rng)
    y = 1e4 + 5.0 * rng.standard_normal(x.shape[0])
    y[rng.random(y.size) < 0.05] = np.nan
    y[500:540] = 1e4  # a constant run of the benchmark
    pad = lambda a: np.vstack([np.full((window - 1, a.shape[1]), np.nan), a])
    wx = sliding_window_view(pad(x), window, axis=0)
    wy = sliding_window_view(pad(np.repeat(y[:, None], x.shape[1], axis=1)), window, axis=0)
    v = ~np.isnan(wx) & ~np.isnan(wy)
    n = v.sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        mx = np.where(v, wx, 0).sum(2) / n
        my = np.where(v, wy, 0).sum(2) / n
        dx, dy = np.where(v, wx - mx[..., None], 0), np.where(v, wy - my[..., None], 0)
        c, sx, sy = (dx * dy).sum(2), (dx * dx).sum(2), (dy * dy).sum(2)
        const_y = np.where(v, wy, -np.inf).max(2) == np.where(v, wy, np.inf).min(2)
        short = n < 2
        cov = np.where(short, np.nan, c / (n - 1))
        corr = np.where(short | const_y | (sx == 0), np.nan, c / np.sqrt(sx * sy))
        beta = np.where(short | const_y, np.nan, c / sy)
    assert_allclose(R.rolling_cov(x, y, window, 2), cov, rtol=1e-9, atol=1e-9)
    assert_allclose(R.rolling_corr(x, y, window, 2), corr, rtol=1e-9, atol=1e-12)
    assert_allclose(R.rolling_beta(x, y, window, 2), beta, rtol=1e-9, atol=1e-12)


def test_constant_windows_give_exact_zero_like_pandas():
    x = np.r_[np.linspace(1.0, 2.0, 30), np.full(40, 1234.5678), np.linspace(3.0, 1.0, 30)]
    s = pd.Series(x)
    var = R.rolling_var(s, 10)
    assert_array_equal(var.iloc[40:70].to_numpy(), 0.0)
    assert_array_equal(var.iloc[40:70].to_numpy(), s.rolling(10).var().iloc[40:70].to_numpy())
    assert R.rolling_zscore(s, 10).iloc[40:70].isna().all()
    y = pd.Series(np.sin(np.arange(100.0)))
    assert_array_equal(R.rolling_cov(s, y, 10).iloc[40:70].to_numpy(), 0.0)
    assert R.rolling_corr(s, y, 10).iloc[40:70].isna().all()
    assert_array_equal(R.rolling_beta(s, y, 10).iloc[40:70].to_numpy(), 0.0)  # flat x: beta 0
    assert R.rolling_beta(y, s, 10).iloc[40:70].isna().all()  # flat regressor: undefined


def test_beta_matches_ols_slope_on_one_window():
    import statsmodels.api as sm

    rng = np.random.default_rng(2)
    y = rng.standard_normal(150)
    x = 0.3 + 1.7 * y + rng.standard_normal(150)
    x[[10, 50, 140]] = np.nan
    got = R.rolling_beta(x, y, 100, 90)[-1]
    rows = slice(50, 150)
    keep = ~np.isnan(x[rows])
    fit = sm.OLS(x[rows][keep], sm.add_constant(y[rows][keep])).fit()
    assert_allclose(got, fit.params[1], rtol=1e-12)


# ------------------------------------------------------------- validation
def test_bad_arguments_and_inf_are_rejected():
    x = np.ones((10, 2))
    with pytest.raises(ParameterError, match="window"):
        R.rolling_mean(x, 0)
    with pytest.raises(ParameterError, match="min_periods"):
        R.rolling_mean(x, 3, 4)
    with pytest.raises(ParameterError, match="ddof"):
        R.rolling_var(x, 3, ddof=-1)
    with pytest.raises(ParameterError, match="1-D or 2-D"):
        R.rolling_sum(np.ones((2, 2, 2)), 2)
    with pytest.raises(ParameterError, match="columns"):
        R.rolling_corr(x, np.ones((10, 3)), 3)
    with pytest.raises(ParameterError, match="rows"):
        R.rolling_corr(x, np.ones(9), 3)
    bad = x.copy()
    bad[4, 1] = np.inf
    with pytest.raises(DataError, match="row 4, column 1"):
        R.rolling_var(bad, 3)
    with pytest.raises(DataError, match="infinite"):
        R.rolling_max(bad, 3)


def test_window_longer_than_series_and_min_periods_one():
    x = pd.Series([1.0, np.nan, 3.0, 4.0])
    assert R.rolling_sum(x, 10).isna().all()
    assert_allclose(
        R.rolling_sum(x, 10, 1).to_numpy(), x.rolling(10, min_periods=1).sum().to_numpy()
    )
    assert_allclose(
        R.rolling_var(x, 10, 1).to_numpy(), x.rolling(10, min_periods=1).var().to_numpy()
    )


# ------------------------------------------------- look-ahead: property test
@st.composite
def _series_and_cut(draw):
    T = draw(st.integers(2, 140))
    N = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    level = draw(st.sampled_from([0.0, 1.0, 1e5]))
    x = level + rng.standard_normal((T, N)) * draw(st.sampled_from([1e-3, 1.0]))
    x[rng.random((T, N)) < draw(st.floats(0.0, 0.5))] = np.nan
    if draw(st.booleans()):
        x[rng.integers(0, T) :, 0] = level  # a stale tail
    y = rng.standard_normal(T)
    y[rng.random(T) < 0.1] = np.nan
    window = draw(st.integers(1, 40))
    minp = draw(st.integers(1, window))
    cut = draw(st.integers(1, T))
    return x, y, window, minp, cut


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_series_and_cut())
def test_appending_rows_never_changes_past_values(case):
    x, y, window, minp, cut = case
    for name in ("sum", "mean", "var", "std", "zscore", "max", "min"):
        fn = getattr(R, f"rolling_{name}")
        full, past = fn(x, window, minp), fn(x[:cut], window, minp)
        assert_allclose(full[:cut], past, rtol=1e-12, atol=0, equal_nan=True, err_msg=name)
    assert_allclose(R.rolling_count(x, window)[:cut], R.rolling_count(x[:cut], window))
    for name in ("cov", "corr", "beta"):
        fn = getattr(R, f"rolling_{name}")
        full, past = fn(x, y, window, minp), fn(x[:cut], y[:cut], window, minp)
        assert_allclose(full[:cut], past, rtol=1e-12, atol=0, equal_nan=True, err_msg=name)
