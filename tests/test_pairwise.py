"""Tests of rotation.analytics._pairwise: rolling correlation matrices and lead-lag correlations.

References: pandas ``DataFrame.rolling(w, min_periods).corr()`` (pairwise-complete
observations) and ``Series.corr(other.shift(k))``; a direct two-pass numpy
computation per window; closed forms (perfect (anti)correlation, two points).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from rotation.analytics._pairwise import (
    LeadLagCorr,
    RollingCorrMatrices,
    iter_rolling_corr,
    lead_lag_corr,
    rolling_corr_matrix,
)
from rotation.errors import DataError, ParameterError


def _panel(T: int = 420, N: int = 24, seed: int = 1) -> pd.DataFrame:
    """Returns with a common factor, random holes, two late listings, a gap and a flat stretch."""
    rng = np.random.default_rng(seed)
    f = rng.standard_normal(T) * 0.01
    x = 0.7 * f[:, None] + rng.standard_normal((T, N)) * 0.01 + 0.0005
    x[rng.random((T, N)) < 0.01] = np.nan
    holes = {3: slice(0, 150), 7: slice(0, 233), 9: slice(60, 75)}  # late listings (one crossing a
    for col, rows in holes.items():  # 64-row block boundary) and a gap longer than a short window
        if col < N:
            x[rows, col] = np.nan
    if N > 5:
        x[100:140, 5] = 0.003  # constant stretch: zero-variance windows
    idx = pd.bdate_range("2020-01-01", periods=T, name="date")
    return pd.DataFrame(x, index=idx, columns=[f"c{i:02d}" for i in range(N)])


def _pandas(df: pd.DataFrame, window: int, min_periods: int | None) -> np.ndarray:
    T, N = df.shape
    return df.rolling(window, min_periods=min_periods).corr().to_numpy().reshape(T, N, N)


# ----------------------------------------------------------------------------- vs pandas
@pytest.mark.parametrize(
    ("window", "min_periods"),
    [(20, None), (20, 5), (20, 1), (60, 40), (100, None), (3, 2)],
)
def test_rolling_corr_matrix_matches_pandas(window: int, min_periods: int | None) -> None:
    df = _panel()
    ours = rolling_corr_matrix(df, window, min_periods)
    ref = _pandas(df, window, min_periods)
    # same NaN pattern (late listings, gaps, constant windows, short windows) and values to 1e-9
    assert_allclose(ours.values, ref, rtol=1e-9, atol=1e-12)
    assert ours.values.shape == (len(df), df.shape[1], df.shape[1])
    assert (ours.index == df.index).all()
    assert list(ours.columns) == list(df.columns)


def test_matches_direct_two_pass_reference() -> None:
    """Independent of pandas: centred two-pass correlation on each window's pairwise rows."""
    df = _panel(T=200, N=10, seed=4)
    x = df.to_numpy()
    w, minp = 30, 10
    ours = rolling_corr_matrix(x, w, minp).values
    for t in range(len(x)):
        win = x[max(0, t - w + 1) : t + 1]
        for i in range(x.shape[1]):
            for j in range(x.shape[1]):
                m = np.isfinite(win[:, i]) & np.isfinite(win[:, j])
                if m.sum() < minp or np.ptp(win[m, i]) == 0 or np.ptp(win[m, j]) == 0:
                    assert np.isnan(ours[t, i, j]), (t, i, j)
                else:
                    a, b = win[m, i] - win[m, i].mean(), win[m, j] - win[m, j].mean()
                    den = np.sqrt((a @ a) * (b @ b))
                    assert_allclose(ours[t, i, j], (a @ b) / den, rtol=1e-12, atol=1e-13)


def test_prices_far_from_zero_stay_accurate() -> None:
    """Centring keeps digits for levels ~1e5 with tiny moves (raw sums would cancel)."""
    rng = np.random.default_rng(3)
    x = 1e5 + np.cumsum(rng.standard_normal((300, 6)), axis=0) * 1e-2
    ours = rolling_corr_matrix(x, 50).values
    for t in (49, 63, 64, 150, 299):
        assert_allclose(ours[t], np.corrcoef(x[t - 49 : t + 1].T), rtol=1e-9, atol=1e-10)


# ----------------------------------------------------------------------------- closed forms
def test_closed_forms() -> None:
    t = np.arange(50, dtype=float)
    x = np.column_stack([t, 2 * t + 1, -t, np.ones(50), np.sin(t)])
    m = rolling_corr_matrix(x, 10).values[-1]
    assert m[0, 1] == pytest.approx(1.0, abs=1e-12)  # exact linear relation
    assert m[0, 2] == pytest.approx(-1.0, abs=1e-12)
    assert np.isnan(m[3]).all() and np.isnan(m[:, 3]).all()  # constant column: no correlation, not 1
    assert_allclose(np.diag(m)[[0, 1, 2, 4]], 1.0)
    assert_allclose(m, m.T, rtol=0, atol=1e-15)
    assert (np.abs(m[np.isfinite(m)]) <= 1.0).all()
    # two pairwise points give +/-1; one gives NaN (pandas semantics)
    y = np.array([[1.0, 2.0], [2.0, 1.0], [np.nan, 5.0]])
    two = rolling_corr_matrix(y, 3, 1).values
    assert two[1, 0, 1] == pytest.approx(-1.0)
    assert np.isnan(two[0, 0, 1])


def test_first_rows_and_min_periods() -> None:
    x = np.random.default_rng(0).standard_normal((80, 3))
    x[30, 1] = np.nan
    m = rolling_corr_matrix(x, 20).values
    assert np.isnan(m[:19]).all()  # default min_periods = window
    assert np.isfinite(m[19:, 0, 2]).all()
    assert np.isnan(m[30:50, 0, 1]).all() and np.isfinite(m[[29, 50], 0, 1]).all()  # the hole's 20 windows
    assert np.isfinite(rolling_corr_matrix(x, 20, 19).values[30:50, 0, 1]).all()


# ----------------------------------------------------------------------------- API
def test_dates_selection_and_iterator_agree() -> None:
    df = _panel(T=300, N=8)
    full = rolling_corr_matrix(df, 30, 10)
    picked = rolling_corr_matrix(df, 30, 10, dates=[df.index[250], "2020-03-02", df.index[10]])
    pos = [df.index.get_loc(d) for d in sorted([df.index[250], pd.Timestamp("2020-03-02"), df.index[10]])]
    assert list(picked.index) == list(df.index[pos])
    assert_allclose(picked.values, full.values[pos], rtol=0, atol=0)
    streamed = dict(iter_rolling_corr(df.to_numpy(), 30, 10, dates=[-1, 5, 200]))
    assert sorted(streamed) == [5, 200, 299]
    for t, mat in streamed.items():
        assert_allclose(mat, full.values[t], rtol=0, atol=0)
    assert_allclose(rolling_corr_matrix(df, 30, 10, dates=slice(100, 110)).values, full.values[100:110])


def test_result_helpers() -> None:
    df = _panel(T=120, N=5)
    res = rolling_corr_matrix(df, 20, dates=df.index[-3:])
    assert isinstance(res, RollingCorrMatrices)
    at = res.at(df.index[-1])
    assert at.shape == (5, 5) and list(at.columns) == list(df.columns)
    tidy = res.to_frame()
    assert list(tidy.columns) == ["date", "a", "b", "corr"]
    assert len(tidy) == int(np.isfinite(res.values[:, *np.triu_indices(5, 1)]).sum())
    ref = _pandas(df, 20, None)[-1][np.triu_indices(5, 1)]
    assert res.mean_pairwise().iloc[-1] == pytest.approx(np.nanmean(ref), rel=1e-12)
    with pytest.raises(ParameterError, match="date"):
        res.at(df.index[0])


def test_errors() -> None:
    df = _panel(T=100, N=4)
    with pytest.raises(ParameterError, match="window"):
        rolling_corr_matrix(df, 1)
    with pytest.raises(ParameterError, match="min_periods"):
        rolling_corr_matrix(df, 10, 11)
    with pytest.raises(ParameterError, match="dates"):
        rolling_corr_matrix(df, 10, dates=["1999-01-01"])
    with pytest.raises(ParameterError, match="dates"):
        rolling_corr_matrix(df.to_numpy(), 10, dates=[500])
    with pytest.raises(ParameterError, match="iter_rolling_corr"):
        rolling_corr_matrix(df, 10, max_bytes=1000)
    bad = df.copy()
    bad.iloc[5, 2] = np.inf
    with pytest.raises(DataError, match="row 5, column 2"):
        rolling_corr_matrix(bad, 10)
    with pytest.raises(ParameterError, match="3-D"):
        rolling_corr_matrix(np.zeros((2, 2, 2)), 2)


# ----------------------------------------------------------------------------- look-ahead
@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    T=st.integers(5, 180),
    extra=st.integers(1, 90),
    N=st.integers(1, 6),
    window=st.integers(2, 70),
    nan_frac=st.sampled_from([0.0, 0.05, 0.3]),
)
def test_appending_rows_never_changes_the_past(seed, T, extra, N, window, nan_frac) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((T + extra, N))
    x[rng.random(x.shape) < nan_frac] = np.nan
    minp = max(1, window // 2)
    short = rolling_corr_matrix(x[:T], window, minp).values
    long = rolling_corr_matrix(x, window, minp).values
    assert_allclose(long[:T], short, rtol=1e-13, atol=1e-15)  # NaN-equal


# ----------------------------------------------------------------------------- lead-lag
def _pairs(T: int = 600, P: int = 5, seed: int = 2) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2021-01-01", periods=T)
    x = pd.DataFrame(rng.standard_normal((T, P)), index=idx, columns=[f"x{i}" for i in range(P)])
    y = pd.DataFrame(rng.standard_normal((T, P)), index=idx, columns=[f"y{i}" for i in range(P)])
    y = y + 0.5 * x.shift(3).fillna(0.0).to_numpy()  # x leads y by 3 rows
    x.iloc[:40, 1] = np.nan
    y.iloc[rng.random((T, P)) < 0.02] = np.nan
    return x, y


def test_lead_lag_matches_pandas_shift_corr() -> None:
    x, y = _pairs()
    res = lead_lag_corr(x, y, 10)
    assert isinstance(res, LeadLagCorr)
    ref = np.array([[x.iloc[:, p].corr(y.iloc[:, p].shift(k)) for p in range(x.shape[1])] for k in range(-10, 11)])
    assert_allclose(res.corr.to_numpy(), ref, rtol=1e-9, atol=1e-12)
    nobs = np.array([[(x.iloc[:, p].notna() & y.iloc[:, p].shift(k).notna()).sum() for p in range(x.shape[1])]
                     for k in range(-10, 11)])
    assert (res.nobs.to_numpy() == nobs).all()
    peak = res.peak()
    assert (peak["lag"] == -3).all()  # corr(x_t, y_{t-k}) peaks at k = -3: x leads
    assert list(res.corr.columns) == [f"x{i}~y{i}" for i in range(5)]
    tidy = res.to_frame()
    assert list(tidy.columns) == ["pair", "lag", "corr", "nobs"] and len(tidy) == 21 * 5


def test_lead_lag_one_benchmark_and_arrays() -> None:
    x, y = _pairs(P=3)
    one = lead_lag_corr(x, y.iloc[:, 0], 2)
    ref = [x.iloc[:, 2].corr(y.iloc[:, 0].shift(k)) for k in range(-2, 3)]
    assert_allclose(one.corr.iloc[:, 2].to_numpy(), ref, rtol=1e-9)
    arr = lead_lag_corr(x.to_numpy(), y.to_numpy(), 2)
    assert_allclose(arr.corr.to_numpy(), lead_lag_corr(x, y, 2).corr.to_numpy(), rtol=0, atol=0)
    const = lead_lag_corr(np.ones(50), np.arange(50.0), 1)
    assert np.isnan(const.corr.to_numpy()).all()
    assert np.isnan(const.peak()["lag"]).all()


def test_lead_lag_errors() -> None:
    x, y = _pairs(T=30, P=2)
    with pytest.raises(ParameterError, match="max_lag"):
        lead_lag_corr(x, y, 30)
    with pytest.raises(ParameterError, match="max_lag"):
        lead_lag_corr(x, y, -1)
    with pytest.raises(ParameterError, match="min_periods"):
        lead_lag_corr(x, y, 2, min_periods=1)
    with pytest.raises(ParameterError, match="columns"):
        lead_lag_corr(x.to_numpy(), np.ones((30, 3)), 2)


# ----------------------------------------------------------------------------- real data
@pytest.mark.shared_data
def test_real_panel_semiconductor_etfs_move_together(real_panel) -> None:
    """SMH and SOXX hold nearly the same stocks: their 60-day correlation stays high."""
    cols = [c for c in ("SMH", "SOXX", "NVDA", "BTC", "SPY") if c in real_panel.prices.columns]
    if not {"SMH", "SOXX"} <= set(cols):
        pytest.skip("SMH/SOXX not in the real panel")
    rets = real_panel.returns[cols]
    res = rolling_corr_matrix(rets, 60)
    ref = _pandas(rets, 60, None)
    assert_allclose(res.values, ref, rtol=1e-9, atol=1e-12)
    i, j = cols.index("SMH"), cols.index("SOXX")
    smh_soxx = res.values[:, i, j]
    assert np.nanmedian(smh_soxx) > 0.9
