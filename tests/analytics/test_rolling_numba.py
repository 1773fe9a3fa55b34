"""The numba path of the rolling kernels against the NumPy path and an exact reference.

Both paths run the same algorithm in the same floating-point order, so they
are compared for *equality* (``assert_array_equal``: same bits, same NaN
pattern), on inputs made to hurt: NaN holes, late listings, long gaps,
stale (constant) runs, level shifts near 1e5 with 1e-2 noise. Bit equality
is what keeps the look-ahead guarantee across the size threshold that picks
the path (a prefix below it, the full history above it). The NumPy path's
precision against a two-pass reference is tested in ``test_rolling.py``;
here the numba path is also checked against an independent brute-force
reference so that it stands on its own.

The path is forced with ``ROTATION_NUMBA`` (``1`` = numba at any size,
``0`` = NumPy). The first run compiles the kernels (tens of seconds on a
busy 2-core machine); numba caches them next to the module afterwards.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view
from numpy.testing import assert_allclose, assert_array_equal

from rotation.analytics import _rolling as R
from rotation.analytics import rrg as rrg_mod
from rotation.config import numba_mode
from rotation.errors import DataError, ParameterError

pytest.importorskip("numba")

SINGLE = ("var", "std", "zscore")
PAIR = ("cov", "corr", "beta")
CASES = [(2, 2), (20, 5), (60, 60), (63, 30), (300, 2)]


def _both(monkeypatch, fn, *args, **kwargs):
    """``fn(*args)`` on the NumPy path, then on the numba path."""
    monkeypatch.setenv("ROTATION_NUMBA", "0")
    slow = fn(*args, **kwargs)
    monkeypatch.setenv("ROTATION_NUMBA", "1")
    fast = fn(*args, **kwargs)
    return slow, fast


def _hard_panel(seed: int, T: int = 700) -> np.ndarray:
    """(T, 8) F-ordered: prices near 1e5 (noise 1e-3 .. 1e3), returns, holes, stale runs, shifts."""
    rng = np.random.default_rng(seed)
    x = 1e5 + rng.standard_normal((T, 8)) * np.array([1e-3, 1e-2, 1.0, 10.0, 100.0, 1000.0, 1e-2, 1e-2])
    x[:, 7] = 0.01 * rng.standard_normal(T)  # returns: mean zero
    x[rng.random(x.shape) < 0.08] = np.nan
    x[:80, 2] = np.nan  # late listing
    x[300:340, 0] = np.nan  # a long gap
    x[200:260, 3] = 1e5  # stale (constant) run
    x[400:450, 4] = 5.0  # level shift down and back inside one block
    x[500:, 6] += 1e3  # a permanent level shift
    return np.asfortranarray(x)


def _brute_pair(x: np.ndarray, y: np.ndarray, window: int, minp: int):
    """Two-pass cov / corr / beta of every window of ``x`` (T, N) on ``y`` (T,), pairwise-valid rows."""
    pad = lambda a: np.vstack([np.full((window - 1, a.shape[1]), np.nan), a])
    wx = sliding_window_view(pad(x), window, axis=0)
    wy = sliding_window_view(pad(np.repeat(y[:, None], x.shape[1], axis=1)), window, axis=0)
    v = ~np.isnan(wx) & ~np.isnan(wy)
    n = v.sum(axis=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mx = np.where(v, wx, 0).sum(2) / n
        my = np.where(v, wy, 0).sum(2) / n
        dx, dy = np.where(v, wx - mx[..., None], 0), np.where(v, wy - my[..., None], 0)
        c, sx, sy = (dx * dy).sum(2), (dx * dx).sum(2), (dy * dy).sum(2)
        const_y = np.where(v, wy, -np.inf).max(2) == np.where(v, wy, np.inf).min(2)
        short = (n < minp) | (n < 2)
        cov = np.where(short, np.nan, c / (n - 1))
        corr = np.where(short | const_y | (sx == 0), np.nan, c / np.sqrt(sx * sy))
        beta = np.where(short | const_y, np.nan, c / sy)
    return {"cov": cov, "corr": corr, "beta": beta}


def _brute_var(x: np.ndarray, window: int, minp: int) -> np.ndarray:
    pad = np.vstack([np.full((window - 1, x.shape[1]), np.nan), x])
    win = sliding_window_view(pad, window, axis=0)
    n = (~np.isnan(win)).sum(axis=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nansum(win, axis=2) / n
        dev = np.where(np.isnan(win), 0.0, win - mean[..., None])
        var = (dev * dev).sum(axis=2) / (n - 1)
        const = np.nanmax(win, axis=2) == np.nanmin(win, axis=2)
    var = np.where(const, 0.0, var)
    return np.where((n < minp) | (n < 2), np.nan, var)


# ------------------------------------------------------------ same bits as NumPy
@pytest.mark.parametrize(("window", "min_periods"), CASES)
def test_single_series_kernels_equal_numpy_path(monkeypatch, window, min_periods):
    x = _hard_panel(window)
    for name in SINGLE:
        slow, fast = _both(monkeypatch, getattr(R, f"rolling_{name}"), x, window, min_periods)
        assert_array_equal(fast, slow, err_msg=name)
    ref = _brute_var(x, window, min_periods)
    assert_allclose(_both(monkeypatch, R.rolling_var, x, window, min_periods)[1], ref, rtol=1e-10, atol=0)


@pytest.mark.parametrize(("window", "min_periods"), CASES)
def test_pair_kernels_equal_numpy_path(monkeypatch, window, min_periods):
    rng = np.random.default_rng(99 + window)
    x = _hard_panel(window)
    y = 1e4 + 5.0 * rng.standard_normal(x.shape[0])
    y[rng.random(y.size) < 0.05] = np.nan
    y[500:540] = 1e4  # a constant run of the benchmark
    ref = _brute_pair(x, y, window, min_periods)
    for name in PAIR:
        fn = getattr(R, f"rolling_{name}")
        slow, fast = _both(monkeypatch, fn, x, y, window, min_periods)
        assert_array_equal(fast, slow, err_msg=name)
        assert_allclose(fast, ref[name], rtol=1e-9, atol=1e-9 if name == "cov" else 1e-12, err_msg=name)
        # one y per column (T, N), here the columns reversed
        slow, fast = _both(monkeypatch, fn, x, x[:, ::-1], window, min_periods)
        assert_array_equal(fast, slow, err_msg=f"{name} elementwise")


def test_pandas_inputs_orders_and_one_column(monkeypatch):
    x = _hard_panel(5)
    idx = pd.date_range("2020-01-01", periods=x.shape[0])
    df = pd.DataFrame(x, index=idx, columns=list("abcdefgh"))
    bench = pd.Series(x[:, 7], index=idx, name="b")
    for args in [(df, 30, 10), (df["c"], 30, 10), (np.ascontiguousarray(x), 30, 10), (x[:, 1], 30, 10)]:
        slow, fast = _both(monkeypatch, R.rolling_std, *args)
        assert type(fast) is type(slow)
        assert_array_equal(np.asarray(fast), np.asarray(slow))
        if isinstance(fast, pd.DataFrame | pd.Series):
            assert fast.index.equals(slow.index)
    slow, fast = _both(monkeypatch, R.rolling_beta, df, bench, 60, 20)
    assert fast.columns.equals(df.columns)
    assert_array_equal(fast.to_numpy(), slow.to_numpy())


def test_constant_windows_and_flat_tolerance(monkeypatch):
    ramp = np.r_[np.linspace(1.0, 2.0, 30), np.full(40, 1234.5678), np.linspace(3.0, 1.0, 30)]
    x = np.asfortranarray(np.column_stack([ramp, np.sin(np.arange(100.0))]))
    slow, fast = _both(monkeypatch, R.rolling_var, x, 10)
    assert_array_equal(fast, slow)
    assert_array_equal(fast[40:70, 0], 0.0)
    slow, fast = _both(monkeypatch, R.rolling_zscore, x, 10)
    assert_array_equal(fast, slow)
    assert np.isnan(fast[40:70, 0]).all()
    # changes of ln RS of a constant-growth line: equal up to rounding (~1e-16), flat for RRG
    steady = np.diff(np.log(100 * np.exp(0.013 * np.arange(101.0))))
    ch = np.asfortranarray(np.column_stack([steady, np.sin(np.arange(100.0))]))
    slow, fast = _both(monkeypatch, R._zscore_core, ch, 10, 10, 1, 1e-12, 100.0)
    assert_array_equal(fast, slow)
    assert np.isnan(fast[:, 0]).all() and np.isfinite(fast[9:, 1]).all()


# ------------------------------------------------------------ RRG, fused
@pytest.mark.parametrize(("smooth", "k", "w1", "w2", "mp"), [(1, 1, 60, 60, 60), (3, 2, 12, 8, 5)])
def test_rrg_lines_equal_numpy_path(monkeypatch, smooth, k, w1, w2, mp):
    rng = np.random.default_rng(smooth)
    T, N = 500, 40
    lrs = np.cumsum(rng.normal(0, 0.02, (T, N)), axis=0)
    rs = 100 * np.exp(lrs)
    rs[rng.random(rs.shape) < 0.03] = np.nan
    for j in range(N):
        rs[: rng.integers(0, T // 2), j] = np.nan
    rs[:, 3] = 100 * np.exp(0.01 * np.arange(T))  # constant growth: flat momentum windows
    kw = {"smooth": smooth, "ratio_window": w1, "ratio_min_periods": min(mp, w1), "roc_period": k,
          "momentum_window": w2, "momentum_min_periods": min(mp, w2), "flat_tol": 1e-12}
    (r0, m0), (r1, m1) = _both(monkeypatch, R._rrg_lines, np.asfortranarray(rs), **kw)
    assert_array_equal(r1, r0)
    assert_array_equal(m1, m0)
    # the fused lines are the public rs_ratio / rs_momentum composed
    frame = pd.DataFrame(rs, index=pd.date_range("2015-01-02", periods=T, freq="W-FRI"))
    monkeypatch.setenv("ROTATION_NUMBA", "1")
    ratio = rrg_mod.rs_ratio(frame, window=w1, smooth=smooth, min_periods=min(mp, w1))
    assert_array_equal(ratio.to_numpy(), r0)
    momentum = rrg_mod.rs_momentum(ratio, window=w2, roc_period=k, min_periods=min(mp, w2))
    assert_array_equal(momentum.to_numpy(), m0)
    if smooth == 1:  # the z-score of a straight line is constant (saturated ratio), its changes flat
        assert np.isnan(m1[:, 3]).all()


def test_rrg_public_result_equal_on_both_paths(monkeypatch):
    rng = np.random.default_rng(3)
    T = 400
    px = pd.DataFrame(
        100 * np.exp(np.cumsum(rng.normal(0, 0.01, (T, 6)), axis=0)),
        index=pd.bdate_range("2020-01-01", periods=T),
        columns=[*"abcde", "BM"],
    )
    px.iloc[:50, 2] = np.nan
    for weekly in (True, False):
        slow, fast = _both(monkeypatch, rrg_mod.rrg, px, "BM", weekly=weekly, ratio_window=20, momentum_window=10)
        for a, b in ((slow.rs, fast.rs), (slow.ratio, fast.ratio), (slow.momentum, fast.momentum)):
            assert a.index.equals(b.index) and a.columns.equals(b.columns)
            assert_array_equal(b.to_numpy(), a.to_numpy())


# ------------------------------------------------------------ scaled std (rolling_volatility)
@pytest.mark.parametrize(("window", "min_periods"), CASES)
def test_scaled_std_equal_on_both_paths_and_to_scaling_after(monkeypatch, window, min_periods):
    x = _hard_panel(window)
    scale = np.sqrt(np.array([252.0, 365.0, 12.0, 1.0, 52.0, 252.0, 0.5, np.nan]))
    slow, fast = _both(monkeypatch, R._var_core, x, window, min_periods, 1, std=True, scale=scale)
    assert_array_equal(fast, slow)
    # sqrt, then one multiplication per cell: the bits of scaling the std afterwards
    assert_array_equal(fast, R.rolling_std(x, window, min_periods) * scale)
    assert np.isnan(fast[:, 7]).all()


def test_rolling_volatility_equal_on_both_paths_with_its_errors(monkeypatch):
    from rotation.analytics import risk

    idx = pd.bdate_range("2020-01-01", periods=300)
    rng = np.random.default_rng(5)
    r = pd.DataFrame(rng.normal(0.0, 0.01, (300, 3)), index=idx, columns=["a", "b", "c"])
    r[rng.random(r.shape) < 0.05] = np.nan
    r.iloc[:60, 1] = np.nan
    ppy = pd.Series({"a": 252.0, "b": 365.0, "c": 12.0})
    slow, fast = _both(monkeypatch, risk.rolling_volatility, r, 20, periods_per_year=ppy, min_periods=15)
    assert_array_equal(fast.to_numpy(), slow.to_numpy())
    assert_allclose(fast.to_numpy(), (r.rolling(20, 15).std() * np.sqrt(ppy)).to_numpy(), rtol=1e-9)
    inf = r.copy()
    inf.iloc[120, 2] = np.inf
    inf.iloc[200, 0] = -np.inf
    nan = r * np.nan
    for mode in ("0", "1"):
        monkeypatch.setenv("ROTATION_NUMBA", mode)
        # the infinite value is reported first, whatever else is wrong (as when it was checked first)
        for kw in ({}, {"window": 0}, {"periods_per_year": -1.0}):
            args = {"window": 20, "periods_per_year": 252, **kw}
            with pytest.raises(DataError, match=re.escape(f"return of 'c' on {idx[120]} is infinite")):
                risk.rolling_volatility(inf, args.pop("window"), **args)
        with pytest.raises(DataError, match="the longest column has 0 valid returns, 1 needed"):
            risk.rolling_volatility(nan, 0, periods_per_year=252)
        with pytest.raises(DataError, match="no returns: the input is empty"):
            risk.rolling_volatility(r.iloc[:0], 20, periods_per_year=252)
        with pytest.raises(ParameterError, match="window"):
            risk.rolling_volatility(r, 0, periods_per_year=252)


# ------------------------------------------------------------ errors and dispatch
@pytest.mark.parametrize("fn", ["var", "zscore", "corr"])
def test_infinite_values_raise_the_same_error(monkeypatch, fn):
    x = np.asfortranarray(np.ones((200, 4)) + np.arange(800.0).reshape(200, 4) % 7)
    x[150, 3] = np.inf
    x[150, 1] = -np.inf
    x[170, 0] = np.inf
    y = np.sin(np.arange(200.0))
    args = (x, y, 20) if fn == "corr" else (x, 20)
    messages = []
    for mode in ("0", "1"):
        monkeypatch.setenv("ROTATION_NUMBA", mode)
        with pytest.raises(DataError, match="row 150, column 1") as err:
            getattr(R, f"rolling_{fn}")(*args)
        messages.append(str(err.value))
    assert messages[0] == messages[1]


def test_infinite_benchmark_reported_like_numpy(monkeypatch):
    x = np.asfortranarray(np.random.default_rng(1).standard_normal((300, 3)))
    y = np.random.default_rng(2).standard_normal(300)
    y[40] = np.inf
    x[250, 2] = np.inf  # later block: the y error comes first on both paths
    for mode in ("0", "1"):
        monkeypatch.setenv("ROTATION_NUMBA", mode)
        with pytest.raises(DataError, match=r"y holds an infinite value at row 40, column 0"):
            R.rolling_beta(x, y, 20)


def test_dispatch_setting_and_threshold(monkeypatch):
    monkeypatch.delenv("ROTATION_NUMBA", raising=False)
    assert numba_mode() == "auto"
    assert R._numba_for(R._NUMBA_MIN_CELLS - 1) is None
    assert R._numba_for(R._NUMBA_MIN_CELLS) is not None
    for value, mode in (("0", "off"), ("off", "off"), ("1", "on"), ("yes", "on"), ("auto", "auto")):
        monkeypatch.setenv("ROTATION_NUMBA", value)
        assert numba_mode() == mode
    monkeypatch.setenv("ROTATION_NUMBA", "0")
    assert R._numba_for(10**9) is None
    monkeypatch.setenv("ROTATION_NUMBA", "1")
    assert R._numba_for(1) is not None


def test_small_inputs_do_not_import_numba():
    # the default universe (~40 x 2,000) stays on the NumPy path: no numba import, no JIT
    code = (
        "import sys, numpy as np\n"
        "from rotation.analytics import _rolling as R, risk, rrg\n"
        "import pandas as pd\n"
        "x = np.random.default_rng(0).standard_normal((2000, 40))\n"
        "R.rolling_std(x, 60); R.rolling_beta(x, x[:, 0], 60); R.rolling_zscore(x, 60)\n"
        "px = pd.DataFrame(np.exp(np.cumsum(x * 0.01, axis=0)), index=pd.bdate_range('2015-01-01', periods=2000))\n"
        "risk.rolling_volatility(px.pct_change(), 60, periods_per_year=252)\n"
        "rrg.rrg(px.rename(columns=str), '0', weekly=False)\n"
        "print('numba' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "ROTATION_NUMBA"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False"


# ------------------------------------------------------------ property: look-ahead, equality
@st.composite
def _series_and_cut(draw):
    T = draw(st.integers(2, 160))
    N = draw(st.integers(1, 40))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    level = draw(st.sampled_from([0.0, 1.0, 1e5]))
    x = level + rng.standard_normal((T, N)) * draw(st.sampled_from([1e-2, 1.0]))
    x[rng.random((T, N)) < draw(st.floats(0.0, 0.5))] = np.nan
    if draw(st.booleans()):
        x[rng.integers(0, T) :, 0] = level  # a stale tail
    y = rng.standard_normal(T)
    y[rng.random(T) < 0.1] = np.nan
    window = draw(st.integers(1, 70))
    minp = draw(st.integers(1, window))
    return np.asfortranarray(x), y, window, minp, draw(st.integers(1, T))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(_series_and_cut())
def test_numba_path_is_look_ahead_free_and_equal_to_numpy(monkeypatch, case):
    x, y, window, minp, cut = case
    for name in (*SINGLE, *PAIR):
        fn = getattr(R, f"rolling_{name}")
        args = (x, y) if name in PAIR else (x,)
        cut_args = (x[:cut], y[:cut]) if name in PAIR else (x[:cut],)
        slow, full = _both(monkeypatch, fn, *args, window, minp)
        assert_array_equal(full, slow, err_msg=name)
        # a prefix on the NumPy path, the full history on the numba path: same past, bit for bit
        monkeypatch.setenv("ROTATION_NUMBA", "0")
        past = fn(*cut_args, window, minp)
        assert_array_equal(full[:cut], past, err_msg=name)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(_series_and_cut(), st.lists(st.sampled_from([1.0, 12.0, 52.0, 252.0, 365.0]), min_size=40, max_size=40))
def test_rolling_volatility_scaled_in_kernel_is_look_ahead_free(monkeypatch, case, ppys):
    """sqrt(ppy) applied inside the kernel: both paths equal, and a prefix never changes."""
    from rotation.analytics import risk

    x, _, window, minp, cut = case
    T, N = x.shape
    r = pd.DataFrame(x * 1e-3, index=pd.bdate_range("2020-01-01", periods=T))
    r.columns = [f"c{j}" for j in range(N)]
    ppy = pd.Series(ppys[:N], index=r.columns)
    if r.notna().to_numpy().sum() == 0:
        return  # all-NaN input: rejected (tested above)
    slow, full = _both(monkeypatch, risk.rolling_volatility, r, window, periods_per_year=ppy, min_periods=minp)
    assert_array_equal(full.to_numpy(), slow.to_numpy())
    assert_array_equal(full.to_numpy(), R.rolling_std(r.to_numpy(), window, minp) * np.sqrt(ppy.to_numpy()))
    if r.iloc[:cut].notna().to_numpy().any():
        monkeypatch.setenv("ROTATION_NUMBA", "0")
        past = risk.rolling_volatility(r.iloc[:cut], window, periods_per_year=ppy, min_periods=minp)
        assert_array_equal(full.to_numpy()[:cut], past.to_numpy())


def test_several_tiles_and_a_partial_one(monkeypatch):
    """Columns spread over 2 full tiles and a partial one (whatever the tile width): same bits."""
    from rotation.analytics import _rolling_numba

    tile = _rolling_numba.TILE
    x = np.asfortranarray(np.tile(_hard_panel(1, 400), (1, (2 * tile + 3 + 7) // 8))[:, : 2 * tile + 3])
    x[:, -1] = np.nan  # the last column of the partial tile: nothing valid
    y = np.sin(np.arange(400.0)) + 2.0
    for name in SINGLE:
        slow, fast = _both(monkeypatch, getattr(R, f"rolling_{name}"), x, 30, 20)
        assert_array_equal(fast, slow, err_msg=name)
    for name in PAIR:
        slow, fast = _both(monkeypatch, getattr(R, f"rolling_{name}"), x, y, 30, 20)
        assert_array_equal(fast, slow, err_msg=name)
    scale = np.linspace(1.0, 20.0, x.shape[1])
    slow, fast = _both(monkeypatch, R._var_core, x, 30, 20, 1, std=True, scale=scale)
    assert_array_equal(fast, slow)
    kw = {"smooth": 1, "ratio_window": 30, "ratio_min_periods": 20, "roc_period": 1,
          "momentum_window": 10, "momentum_min_periods": 10, "flat_tol": 1e-12}
    px = np.asfortranarray(np.abs(x))  # price-like: positive or NaN
    (r0, m0), (r1, m1) = _both(monkeypatch, R._rrg_lines, px, den=y[:, None], base=100.0, **kw)
    assert_array_equal(r1, r0)
    assert_array_equal(m1, m0)
    assert np.isnan(r1[:, -1]).all() and np.isfinite(r1[-1, :-1]).any()


@pytest.mark.parametrize("shape", [(0, 3), (1, 3), (5, 0), (3, 33)])
def test_degenerate_shapes(monkeypatch, shape):
    x = np.asfortranarray(np.arange(float(np.prod(shape))).reshape(shape))
    y = np.linspace(1.0, 2.0, shape[0]) ** 2
    for name in SINGLE:
        slow, fast = _both(monkeypatch, getattr(R, f"rolling_{name}"), x, 4, 2)
        assert fast.shape == shape
        assert_array_equal(fast, slow, err_msg=name)
    for name in PAIR:
        slow, fast = _both(monkeypatch, getattr(R, f"rolling_{name}"), x, y, 4, 2)
        assert_array_equal(fast, slow, err_msg=name)


# ------------------------------------------------------------ row blocks (B)
def test_block_rows_bounds():
    """B: >= window, three windows while the (L, N) buffers fit, and the segment bound L."""
    assert R._block_rows(60, 5000) == 180  # the size: 1.33 segment rows per output row
    assert R._block_rows(60, 40) == 180
    assert R._block_rows(5, 5000) == 64
    assert R._block_rows(60, 20000) == 64  # 2**20 // 20000 = 52 cells-bound, floored at 64
    assert R._block_rows(200, 2000) == 524  # 2**20 // 2000, between window and 3 * window
    assert R._block_rows(2000, 5000) == 2000
    for window in (1, 2, 21, 22, 60, 63, 64, 250, 1000):
        for ncols in (1, 8, 1000, 1747, 1748, 5000, 50000):
            B = R._block_rows(window, ncols)
            assert B >= window and B >= 64
            assert B + window - 1 <= max(4 * window - 1, window + 63)


def test_wide_frame_blocks_equal_precise_and_look_ahead_free(monkeypatch):
    """2,000 columns, window 200: B = 524 (bound by the buffer cells, not 3 * window).

    Both paths give the same bits, match the two-pass reference as narrow
    frames do, and a prefix of the rows gives the same bits (block boundaries
    depend on window and N only).
    """
    T, window, minp = 900, 200, 150
    assert R._block_rows(window, 2000) == 524
    rng = np.random.default_rng(5)
    x = np.tile(_hard_panel(11, T), (1, 250))
    x *= 1.0 + 1e-3 * rng.standard_normal(x.shape[1])  # columns differ
    x = np.asfortranarray(x)
    y = 1e4 + 5.0 * rng.standard_normal(T)
    y[rng.random(T) < 0.05] = np.nan
    cut = 700  # inside the second block: rows 524 .. 1047
    for name in SINGLE:
        fn = getattr(R, f"rolling_{name}")
        slow, fast = _both(monkeypatch, fn, x, window, minp)
        assert_array_equal(fast, slow, err_msg=name)
        monkeypatch.setenv("ROTATION_NUMBA", "0")
        assert_array_equal(fn(x[:cut], window, minp), fast[:cut], err_msg=name)
    ref = _brute_var(x[:, :16], window, minp)
    assert_allclose(R.rolling_var(x, window, minp)[:, :16], ref, rtol=1e-10, atol=0)
    ref = _brute_pair(x[:, :16], y, window, minp)
    for name in PAIR:
        fn = getattr(R, f"rolling_{name}")
        slow, fast = _both(monkeypatch, fn, x, y, window, minp)
        assert_array_equal(fast, slow, err_msg=name)
        assert_allclose(fast[:, :16], ref[name], rtol=1e-9, atol=1e-9 if name == "cov" else 1e-12, err_msg=name)
        monkeypatch.setenv("ROTATION_NUMBA", "0")
        assert_array_equal(fn(x[:cut], y[:cut], window, minp), fast[:cut], err_msg=name)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(_series_and_cut(), st.integers(1, 4096))
def test_any_block_size_is_look_ahead_free_and_equal_to_numpy(monkeypatch, case, cells):
    """Every B between max(window, 64) and 3 * window (the buffer-cell bound made small, so
    narrow frames reach the wide-frame B): both paths equal, a prefix never changes."""
    x, y, window, minp, cut = case
    monkeypatch.setattr(R, "_TARGET_BLOCK_CELLS", cells)
    for name in (*SINGLE, *PAIR):
        fn = getattr(R, f"rolling_{name}")
        args = (x, y) if name in PAIR else (x,)
        cut_args = (x[:cut], y[:cut]) if name in PAIR else (x[:cut],)
        slow, full = _both(monkeypatch, fn, *args, window, minp)
        assert_array_equal(full, slow, err_msg=name)
        monkeypatch.setenv("ROTATION_NUMBA", "0")
        assert_array_equal(full[:cut], fn(*cut_args, window, minp), err_msg=name)
