"""Fast NaN-aware rolling kernels over (T, N) float arrays.

Every kernel works on all columns at once and follows pandas ``.rolling()``
semantics exactly:

* the window ending at row ``t`` covers rows ``t - window + 1 .. t`` (trailing,
  so a value at ``t`` never depends on a row after ``t``);
* a window counts only its valid observations (for two-series kernels, only
  the rows where *both* series are valid); NaN rows are skipped, not filled;
* a window with fewer than ``min_periods`` valid observations gives NaN
  (``min_periods`` defaults to ``window``, as in pandas);
* a window whose valid values are all equal has variance exactly 0 (pandas
  does the same), so its z-score, correlation and beta are NaN, not noise.

Inputs may be numpy arrays (1-D ``(T,)`` or 2-D ``(T, N)``), Series or
DataFrames; the result has the type, index and columns of ``x``. A pandas
``y`` is aligned to ``x``'s index first.

Algorithm
---------
Rows are processed in blocks of ``B`` rows (``B >= window``, chosen from the
window and the number of columns only, never from the number of rows). For the
block ``[b0, b1)`` the kernel takes the segment ``[b0 - window + 1, b1)``,
subtracts a per-column *centre* ``c`` (variance-type kernels only: the last
valid value at or before ``b0``, else the first one after it) and builds
prefix sums of the count, ``x - c``, ``(x - c)^2`` (and the cross products for
two-series kernels). A window sum is the difference of two prefix sums, and

.. math::

    \\bar x = c + S_1/n, \\qquad
    \\mathrm{SS} = S_2 - S_1^2/n, \\qquad
    s^2 = \\mathrm{SS}/(n - \\mathrm{ddof}),

with :math:`S_k = \\sum_{s \\in W_t} (x_s - c)^k`. Centring on a nearby value and
restarting the prefix sums every block keep the cancellation error near
``eps * L * mag / SS`` (``L = B + window - 1`` the segment length, at most
``max(4 * window - 1, window + 63)`` - 239 rows for a 60-row window - and
``mag`` the prefix sum of squares) instead of ``eps * T * (mean/std)**2`` for
raw cumulative sums. Windows with ``SS < 1e-5 * mag`` (a level shift inside
the block, a stale run, a constant window) are recomputed exactly with a
corrected two-pass formula on the window itself; every other window keeps a
relative error below ``eps * L * 1e5`` (worst case, rounding errors all of one
sign: 5e-9 at ``L = 239``; typically ``eps * sqrt(L) * 1e5``, ~3e-10), and a window
whose valid values are all equal gets exactly 0. Results match a two-pass
reference to ~1e-11 even for prices near 1e5 with 1e-2 noise, where pandas'
own online algorithm is off by ~1e-9 (and by ~1e-7 after a level shift).

Sums and means are accumulated without a centre (mean-zero data such as
returns would only lose digits to ``n*c + S1``).

The centre of a block depends only on rows at or before the rows it serves,
and block boundaries do not depend on ``T``, so appending rows never changes
an earlier result (bit for bit).

Memory: one output array plus a few ``(L, N)`` work buffers reused across
blocks; prefix sums for wide frames use an in-cache row loop because numpy's
axis-0 ``cumsum`` is slow on C-ordered arrays.

Numba accelerator
-----------------
With the optional ``fast`` extra (numba) var / std / z-score, cov / corr /
beta and the fused RRG lines run in :mod:`._rolling_numba`: the same
algorithm, tile by tile (64 columns, in parallel), in the same floating-point
order, so both paths return the same bits (tested); the exact two-pass sums
above are added in row order on both paths for that reason. The numba path
is taken when numba is importable, ``ROTATION_NUMBA`` is not ``0``
(:func:`rotation.config.numba_mode`) and the array has at least
:data:`_NUMBA_MIN_CELLS` cells (``ROTATION_NUMBA=1``: any size), so small
inputs (the default universe, ~40 x 2,000) never import numba or load
compiled code. Two-series kernels read a single benchmark series per column
instead of broadcasting it to (T, N). Results are F-ordered (T, N) arrays,
which pandas wraps without a copy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from rotation._typing import ArrayOrPandas, Float64Array2D
from rotation.config import numba_mode
from rotation.errors import DataError, ParameterError

__all__ = [
    "ArrayOrPandas",
    "rolling_beta",
    "rolling_corr",
    "rolling_count",
    "rolling_cov",
    "rolling_max",
    "rolling_mean",
    "rolling_min",
    "rolling_std",
    "rolling_sum",
    "rolling_var",
    "rolling_zscore",
]

#: A (T,) / (T, N) array, a Series or a DataFrame.

_EPS = float(np.finfo(np.float64).eps)
#: Above this many columns prefix sums use a row loop (each row an in-cache
#: vector add); below it numpy's cumsum is faster.
_ROWLOOP_MIN_COLS = 256
#: Target cells per work buffer (8 MiB of float64) for wide frames: up to
#: 5,825 columns a 60-row window gets B = 3 * window (segments of 1.33 rows per
#: output row instead of 1.92 at B = 64). Measured at 5,000 x 5,000, window 60,
#: one thread: B = 180 takes ~8-15% less CPU than B = 64 in the numba var and pair
#: kernels and 15-20% less on the NumPy path, whose (L, N) buffers then hold ~10 MB
#: each at 5,000 columns (its peak: +57 MB for var, +85 MB for beta).
_TARGET_BLOCK_CELLS = 1 << 20
#: Windows with SS < prefix magnitude * this ratio are recomputed exactly.
_REFINE_RATIO = 1e-5
#: Arrays with at least this many cells use the numba kernels (``ROTATION_NUMBA``
#: unset or ``auto``, numba installed). Below it the NumPy path (~0.1 s per million
#: cells) is cheaper than importing numba and loading its cached machine code
#: (~0.5 s, once per process; the first use after installing also compiles the
#: kernels: 1-3 min on the busy 2-core development VM, then cached on disk).
_NUMBA_MIN_CELLS = 1_000_000
#: Columns per call of the fused RRG kernel: bounds the ln RS work buffer to (T, 256).
_RRG_CHUNK_COLS = 256

_numba_kernels: Any = None  # the _rolling_numba module, False if numba is missing


def _numba_for(cells: int) -> Any:
    """The numba kernel module when the numba path should run for ``cells`` cells, else None.

    ``ROTATION_NUMBA=0``: never; ``1``: always (any size, when installed);
    unset/``auto``: from :data:`_NUMBA_MIN_CELLS` cells. numba is imported
    here on first use only, so ``import rotation`` never imports it.
    """
    global _numba_kernels
    mode = numba_mode()
    if mode == "off" or (mode == "auto" and cells < _NUMBA_MIN_CELLS):
        return None
    if _numba_kernels is None:
        try:
            from rotation.analytics import _rolling_numba
        except ImportError:  # the optional 'fast' extra is not installed
            _numba_kernels = False
        else:
            _numba_kernels = _rolling_numba
    return _numba_kernels or None


def _raise_first_inf(first_rows: np.ndarray, name: str) -> None:
    """DataError at the first (row, column) holding +-inf; ``first_rows``: per column, -1 if none."""
    hit = first_rows >= 0
    if hit.any():
        row = int(first_rows[hit].min())
        col = int(np.flatnonzero(first_rows == row)[0])
        raise DataError(
            f"{name} holds an infinite value at row {row}, column {col}; "
            "rolling kernels accept finite values and NaN only"
        )


# --------------------------------------------------------------------- inputs
def _validate_window(window: Any, min_periods: Any) -> tuple[int, int]:
    if isinstance(window, bool) or not isinstance(window, int | np.integer) or window < 1:
        raise ParameterError("window", f"must be a positive integer number of rows, got {window!r}")
    window = int(window)
    if min_periods is None:
        return window, window
    if (
        isinstance(min_periods, bool)
        or not isinstance(min_periods, int | np.integer)
        or not 1 <= min_periods <= window
    ):
        raise ParameterError(
            "min_periods", f"must be an integer in [1, window={window}], got {min_periods!r}"
        )
    return window, int(min_periods)


def _to_float(values: Any, name: str) -> np.ndarray:
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ParameterError(name, f"must be numeric: {exc}") from None


def _coerce(
    x: ArrayOrPandas, name: str = "x"
) -> tuple[Float64Array2D, Callable[[np.ndarray], Any]]:
    """``x`` as a (T, N) float64 array plus a function rebuilding the caller's type."""
    if isinstance(x, pd.DataFrame):
        arr = _to_float(x.to_numpy(dtype=np.float64, na_value=np.nan), name)
        return arr, lambda a: pd.DataFrame(a, index=x.index, columns=x.columns, copy=False)
    if isinstance(x, pd.Series):
        arr = _to_float(x.to_numpy(dtype=np.float64, na_value=np.nan), name)[:, None]
        return arr, lambda a: pd.Series(a[:, 0], index=x.index, name=x.name, copy=False)
    arr = _to_float(x, name)
    if arr.ndim == 1:
        return arr[:, None], lambda a: a[:, 0]
    if arr.ndim == 2:
        return arr, lambda a: a
    raise ParameterError(name, f"expected a 1-D or 2-D array, got {arr.ndim}-D")


def _coerce_y(x: ArrayOrPandas, y: ArrayOrPandas, ncols: int) -> Float64Array2D:
    """``y`` as (T, 1) or (T, N), aligned to ``x``'s index when both are pandas."""
    if isinstance(x, pd.Series | pd.DataFrame) and isinstance(y, pd.Series | pd.DataFrame):
        if isinstance(y, pd.DataFrame) and isinstance(x, pd.DataFrame) and y.shape[1] > 1:
            missing = [c for c in x.columns if c not in y.columns]
            if missing:
                raise ParameterError("y", f"columns {missing[:5]} of x are not in y")
            y = y.reindex(columns=x.columns)
        y = y.reindex(x.index)
    arr, _ = _coerce(y, "y")
    if arr.shape[1] not in (1, ncols):
        raise ParameterError("y", f"must have 1 or {ncols} columns, got {arr.shape[1]}")
    return arr


def _check_rows(x: np.ndarray, y: np.ndarray) -> None:
    if y.shape[0] != x.shape[0]:
        raise ParameterError("y", f"has {y.shape[0]} rows, x has {x.shape[0]}")


def _raise_inf(seg: np.ndarray, valid: np.ndarray, s0: int, name: str) -> None:
    bad = ~valid & ~np.isnan(seg)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise DataError(
            f"{name} holds an infinite value at row {s0 + int(row)}, column {int(col)}; "
            "rolling kernels accept finite values and NaN only"
        )


# ------------------------------------------------------------------- engine
def _block_rows(window: int, ncols: int) -> int:
    """Rows per block ``B``: ``max(window, 64, min(3 * window, max(64, 2**20 // ncols)))``.

    At least ``window`` and 64, at most ``max(3 * window, 64)`` (so the segment
    ``L = B + window - 1 <= max(4 * window - 1, window + 63)`` bounds the
    round-off, see the module notes), fewer for very wide frames so the
    NumPy path's (L, N) buffers stay ~8 MiB. A function of ``window`` and
    ``ncols`` only, never of the number of rows (look-ahead freedom).
    """
    return max(window, 64, min(3 * window, max(64, _TARGET_BLOCK_CELLS // max(ncols, 1))))


def _prefix(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """dst[0] = 0, dst[k] = sum(src[:k]) along axis 0 (dst has one more row)."""
    dst[0] = 0.0
    if src.shape[1] >= _ROWLOOP_MIN_COLS:
        dst[1:] = src
        for i in range(2, dst.shape[0]):
            np.add(dst[i - 1], dst[i], out=dst[i])
    else:
        np.cumsum(src, axis=0, out=dst[1:])
    return dst


def _window_sum(
    p: np.ndarray, b0: int, b1: int, s0: int, window: int, out: np.ndarray
) -> np.ndarray:
    """Window sums for rows ``b0 .. b1-1`` from the prefix ``p`` of the segment starting at ``s0``.

    Window ``t`` is ``p[t + 1 - s0] - p[max(t + 1 - window - s0, 0)]``; the
    first ``k0`` rows take ``p[0] = 0`` as lower bound, the rest a contiguous slice.
    """
    nb = b1 - b0
    hi = p[b0 + 1 - s0 : b1 + 1 - s0]
    k0 = min(nb, s0 + window - b0)
    out[:k0] = hi[:k0]
    if k0 < nb:
        np.subtract(hi[k0:], p[1 : 1 + nb - k0], out=out[k0:])
    return out


@dataclass
class _Block:
    """Window statistics of rows ``b0 .. b1-1`` (arrays (nb, N), views of reused buffers)."""

    b0: int
    b1: int
    n: np.ndarray
    sx: np.ndarray
    cx: np.ndarray  # (N,) centre of x
    sxx: np.ndarray | None = None
    magx: np.ndarray | None = None  # prefix of (x-c)^2 up to t: round-off scale of sxx
    dx: np.ndarray | None = None  # x_t - c at the block rows (0 where invalid)
    valid: np.ndarray | None = None  # validity at the block rows
    sy: np.ndarray | None = None
    cy: np.ndarray | None = None
    syy: np.ndarray | None = None
    magy: np.ndarray | None = None
    sxy: np.ndarray | None = None
    seglen: int = 0


def _blocks(
    x: np.ndarray,
    y: np.ndarray | None,
    window: int,
    *,
    squares: bool,
    cross: bool,
    keep_rows: bool = False,
    center: bool = True,
):
    """Yield a :class:`_Block` per row block; arrays are overwritten by the next block.

    ``center=False`` (sums and means) accumulates raw values: for mean-zero
    data (returns) a centre would only add the cancellation of ``n*c + S1``.
    """
    T, N = x.shape
    B = _block_rows(window, N)
    Lmax = min(T, B + window - 1)
    shape = (Lmax, N)
    vbuf = np.empty(shape, dtype=bool)
    dxb = np.empty(shape)
    tmp = np.empty(shape)
    pn, px = np.empty((Lmax + 1, N)), np.empty((Lmax + 1, N))
    pxx = np.empty((Lmax + 1, N)) if squares else None
    dyb = np.empty(shape) if y is not None else None
    py = np.empty((Lmax + 1, N)) if y is not None else None
    pyy = np.empty((Lmax + 1, N)) if (y is not None and squares) else None
    pxy = np.empty((Lmax + 1, N)) if cross else None
    wb = {k: np.empty((B, N)) for k in ("n", "sx", "sxx", "sy", "syy", "sxy")}
    cols = np.arange(N)
    ybroad = y is not None and y.shape[1] == 1 and N > 1

    for b0 in range(0, T, B):
        b1 = min(T, b0 + B)
        s0 = max(0, b0 - window + 1)
        L, nb = b1 - s0, b1 - b0
        xs = x[s0:b1]
        valid = vbuf[:L]
        np.isfinite(xs, out=valid)
        if not valid.all():
            _raise_inf(xs, valid, s0, "x")
        ys = None
        if y is not None:
            ys = y[s0:b1]
            if ybroad:
                ys = np.broadcast_to(ys, (L, N))
            vy = np.isfinite(ys)
            if not vy.all():
                _raise_inf(ys, vy, s0, "y")
            valid &= vy

        # centre: the last valid value at or before b0 (closest to every window
        # of the block), else the first valid one after it; both lie at or
        # before any row whose window holds data, so there is no look-ahead
        k = b0 - s0
        head = valid[k::-1]
        has_head = head.any(axis=0)
        first = np.where(has_head, k - head.argmax(axis=0), valid.argmax(axis=0))
        anyv = has_head | valid[k:].any(axis=0)
        cx = np.where(anyv, xs[first, cols], 0.0) if center else np.zeros(N)
        dx = dxb[:L]
        np.subtract(xs, cx, out=dx)
        np.copyto(dx, 0.0, where=~valid)
        np.copyto(tmp[:L], valid)
        _prefix(tmp[:L], pn[: L + 1])
        _prefix(dx, px[: L + 1])
        blk = _Block(
            b0=b0,
            b1=b1,
            n=_window_sum(pn, b0, b1, s0, window, wb["n"][:nb]),
            sx=_window_sum(px, b0, b1, s0, window, wb["sx"][:nb]),
            cx=cx,
            seglen=L,
        )
        if squares:
            np.multiply(dx, dx, out=tmp[:L])
            _prefix(tmp[:L], pxx[: L + 1])
            blk.sxx = _window_sum(pxx, b0, b1, s0, window, wb["sxx"][:nb])
            blk.magx = pxx[b0 + 1 - s0 : b1 + 1 - s0]
        if keep_rows:
            blk.dx = dx[b0 - s0 : b1 - s0]
            blk.valid = valid[b0 - s0 : b1 - s0]
        if y is not None:
            cy = np.where(anyv, ys[first, cols], 0.0)
            dy = dyb[:L]
            np.subtract(ys, cy, out=dy)
            np.copyto(dy, 0.0, where=~valid)
            _prefix(dy, py[: L + 1])
            blk.cy = cy
            blk.sy = _window_sum(py, b0, b1, s0, window, wb["sy"][:nb])
            if squares:
                np.multiply(dy, dy, out=tmp[:L])
                _prefix(tmp[:L], pyy[: L + 1])
                blk.syy = _window_sum(pyy, b0, b1, s0, window, wb["syy"][:nb])
                blk.magy = pyy[b0 + 1 - s0 : b1 + 1 - s0]
            if cross:
                np.multiply(dx, dy, out=tmp[:L])
                _prefix(tmp[:L], pxy[: L + 1])
                blk.sxy = _window_sum(pxy, b0, b1, s0, window, wb["sxy"][:nb])
        yield blk


def _sum_sq_dev(s1: np.ndarray, s2: np.ndarray, n: np.ndarray, out: np.ndarray) -> np.ndarray:
    """SS = S2 - S1^2/n, clipped at 0 (NaN where n == 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        np.multiply(s1, s1, out=out)
        np.divide(out, n, out=out)
        np.subtract(s2, out, out=out)
    np.maximum(out, 0.0, out=out)
    return out


def _ill_conditioned(ss: np.ndarray, mag: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Windows whose SS is so small against the prefix magnitude that the
    difference of prefix sums may have lost more than ~1e-10 (relative).

    The round-off of ``SS`` is at most about ``eps * L * mag`` (``L`` the
    segment length, <= ``max(4 * window - 1, window + 63)``); windows with
    ``SS < mag * 1e-5`` (level shifts inside a block, stale/constant runs)
    are recomputed exactly by :func:`_exact_windows`.
    """
    return (ss < mag * _REFINE_RATIO) & (n >= 2)


class _Flagged:
    """Collects the (row, col) windows to recompute exactly."""

    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []

    def add(self, mask: np.ndarray, b0: int) -> None:
        if mask.any():
            r, c = np.nonzero(mask)
            self.rows.append(r + b0)
            self.cols.append(c)

    def positions(self) -> tuple[np.ndarray, np.ndarray]:
        if not self.rows:
            empty = np.empty(0, dtype=np.intp)
            return empty, empty
        return np.concatenate(self.rows), np.concatenate(self.cols)


def _gather_windows(x: np.ndarray, rows: np.ndarray, cols: np.ndarray, window: int) -> np.ndarray:
    """(K, window) values of the windows ending at ``rows`` in ``cols`` (NaN-padded at the top)."""
    ucols, inv = np.unique(cols, return_inverse=True)
    pad = np.full((x.shape[0] + window - 1, ucols.size), np.nan)
    pad[window - 1 :] = x[:, ucols]
    view = np.lib.stride_tricks.sliding_window_view(pad, window, axis=0)  # (T, U, w)
    return view[rows, inv]


def _seq_sum(a: np.ndarray) -> np.ndarray:
    """Row sums of a (K, w) array added left to right.

    ``a.sum(axis=1)`` uses pairwise summation; the numba kernels add in row
    order, and both paths must give the same bits (see the module notes).
    """
    if a.shape[1] == 0:
        return np.zeros(a.shape[0])
    return np.cumsum(a, axis=1)[:, -1]


def _two_pass(win: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Count, mean and corrected two-pass sum of squared deviations (exact 0 if constant)."""
    n = valid.sum(axis=1).astype(np.float64)
    z = np.where(valid, win, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = _seq_sum(z) / n
        dev = np.where(valid, win - mean[:, None], 0.0)
        # corrected two-pass (Chan, Golub & LeVeque): subtract the residual mean error
        ss = _seq_sum(dev * dev) - _seq_sum(dev) ** 2 / n
        hi = np.where(valid, win, -np.inf).max(axis=1)
        lo = np.where(valid, win, np.inf).min(axis=1)
    ss = np.where(hi == lo, 0.0, np.maximum(ss, 0.0))
    return n, mean, ss


def _exact_windows(
    x: np.ndarray, y: np.ndarray | None, rows: np.ndarray, cols: np.ndarray, window: int
) -> dict[str, np.ndarray]:
    """Exact window statistics (two-pass) for a few flagged windows.

    Returns arrays of length K: ``n``, ``mean_x``, ``ssx`` and, when ``y`` is
    given (pairwise-valid rows only), ``mean_y``, ``ssy`` and ``cxy``.
    """
    out: dict[str, list[np.ndarray]] = {}
    chunk = max(1, (1 << 20) // window)
    for k0 in range(0, rows.size, chunk):
        r, c = rows[k0 : k0 + chunk], cols[k0 : k0 + chunk]
        wx = _gather_windows(x, r, c, window)
        valid = np.isfinite(wx)
        if y is not None:
            wy = _gather_windows(y, r, c if y.shape[1] > 1 else np.zeros_like(c), window)
            valid &= np.isfinite(wy)
        n, mx, ssx = _two_pass(wx, valid)
        parts = {"n": n, "mean_x": mx, "ssx": ssx}
        if y is not None:
            _, my, ssy = _two_pass(wy, valid)
            cxy = _seq_sum(np.where(valid, (wx - mx[:, None]) * (wy - my[:, None]), 0.0))
            # exact zero co-moment when either side is constant
            cxy = np.where((ssx == 0) | (ssy == 0), 0.0, cxy)
            parts.update(mean_y=my, ssy=ssy, cxy=cxy)
        for key, val in parts.items():
            out.setdefault(key, []).append(val)
    return {k: np.concatenate(v) for k, v in out.items()}


# ----------------------------------------------------------- moving extremes
def _rolling_extreme(x: np.ndarray, window: int, op: np.ufunc) -> np.ndarray:
    """Trailing max (``np.fmax``) or min (``np.fmin``) ignoring NaN (van Herk/Gil-Werman).

    Rows are cut into blocks of ``window`` rows; for the window ``[t-w+1, t]``
    the answer is ``op(suffix_op of s's block from s, prefix_op of t's block
    up to t)`` with ``s = t - w + 1``. Three passes over the data whatever the
    window. All-NaN windows give NaN.
    """
    T, N = x.shape
    w = window
    nblk = -(-T // w)
    pad = np.full((nblk * w, N), np.nan)
    pad[:T] = x
    blocks = pad.reshape(nblk, w, N)
    g = op.accumulate(blocks, axis=1).reshape(nblk * w, N)
    h = op.accumulate(blocks[:, ::-1], axis=1)[:, ::-1].reshape(nblk * w, N)
    out = g[:T].copy()
    if T > w:
        # t >= w: s = t - w + 1 >= 1 and s's block ends at or before t
        t = np.arange(w, T)
        op(h[t - w + 1], g[t], out=out[w:])
    return out


# ----------------------------------------------------------- public kernels
def rolling_count(x: ArrayOrPandas, window: int) -> Any:
    """Number of finite observations in each trailing window.

    Parameters
    ----------
    x : ndarray (T,) or (T, N), Series or DataFrame
    window : int
        Rows per window.

    Returns
    -------
    Same type and shape as ``x``: float counts in ``[0, window]`` (never NaN).
    """
    window, _ = _validate_window(window, None)
    arr, wrap = _coerce(x)
    out = np.empty(arr.shape)
    for blk in _blocks(arr, None, window, squares=False, cross=False, center=False):
        out[blk.b0 : blk.b1] = blk.n
    return wrap(out)


def rolling_sum(x: ArrayOrPandas, window: int, min_periods: int | None = None) -> Any:
    """Trailing sum over ``window`` rows, skipping NaN (``pandas.Series.rolling(...).sum()``).

    Parameters
    ----------
    x : ndarray (T,) or (T, N), Series or DataFrame
        Finite values or NaN; ``inf`` raises :class:`DataError`.
    window : int
        Rows per window (the window ending at ``t`` is ``t-window+1 .. t``).
    min_periods : int, optional
        Minimum valid observations in a window, ``1 .. window``; default ``window``.

    Returns
    -------
    Same type and shape as ``x``: :math:`\\sum_{s \\in W_t} x_s` over valid ``x_s``;
    NaN where fewer than ``min_periods`` values are valid.
    """
    window, minp = _validate_window(window, min_periods)
    arr, wrap = _coerce(x)
    out = np.empty(arr.shape)
    for blk in _blocks(arr, None, window, squares=False, cross=False, center=False):
        o = out[blk.b0 : blk.b1]
        o[:] = blk.sx
        o[blk.n < minp] = np.nan
    return wrap(out)


def rolling_mean(x: ArrayOrPandas, window: int, min_periods: int | None = None) -> Any:
    """Trailing mean of the valid values in each window (``.rolling(...).mean()``).

    Parameters
    ----------
    x, window, min_periods
        As in :func:`rolling_sum`.

    Returns
    -------
    Same type and shape as ``x``: :math:`\\bar x_t = \\frac1n \\sum_{W_t} x_s`; NaN where
    fewer than ``min_periods`` values are valid.
    """
    window, minp = _validate_window(window, min_periods)
    arr, wrap = _coerce(x)
    out = np.empty(arr.shape)
    for blk in _blocks(arr, None, window, squares=False, cross=False, center=False):
        o = out[blk.b0 : blk.b1]
        with np.errstate(divide="ignore", invalid="ignore"):
            np.divide(blk.sx, blk.n, out=o)
        o[blk.n < minp] = np.nan
    return wrap(out)


def rolling_var(
    x: ArrayOrPandas, window: int, min_periods: int | None = None, *, ddof: int = 1
) -> Any:
    """Trailing variance of the valid values in each window (``.rolling(...).var(ddof)``).

    Parameters
    ----------
    x, window, min_periods
        As in :func:`rolling_sum`.
    ddof : int, default 1
        Delta degrees of freedom: the divisor is ``n - ddof``.

    Returns
    -------
    Same type and shape as ``x``: :math:`\\sum_{W_t}(x_s - \\bar x_t)^2 / (n - \\mathrm{ddof})`,
    exactly 0 for a window whose valid values are all equal; NaN where
    ``n < min_periods`` or ``n <= ddof``.
    """
    window, minp = _validate_window(window, min_periods)
    _check_ddof(ddof)
    arr, wrap = _coerce(x)
    out = _var_core(arr, window, minp, ddof)
    return wrap(out)


def _check_ddof(ddof: Any) -> None:
    if isinstance(ddof, bool) or not isinstance(ddof, int | np.integer) or ddof < 0:
        raise ParameterError("ddof", f"must be a non-negative integer, got {ddof!r}")


def _var_core(
    arr: np.ndarray,
    window: int,
    minp: int,
    ddof: int,
    *,
    std: bool = False,
    scale: np.ndarray | None = None,
) -> np.ndarray:
    """(T, N) rolling variance (``std``: its square root) of a (T, N) float array.

    ``scale`` (N,) (``std`` only) multiplies column ``j``'s standard deviation
    (e.g. ``sqrt(periods per year)``): ``sqrt(var) * scale[j]`` on both paths,
    the numba kernel at its output write, so no second pass over (T, N).
    """
    kern = _numba_for(arr.size)
    if kern is not None:
        x = np.asfortranarray(arr)
        out = np.empty(x.shape, order="F")
        mode = kern.MODE_STD if std else kern.MODE_VAR
        B = _block_rows(window, x.shape[1])
        s = np.ones(x.shape[1]) if scale is None else np.ascontiguousarray(scale, dtype=np.float64)
        bad = kern.call(kern.var_kernel, x, out, window, minp, ddof, B, mode, 0.0, 0.0, s)
        _raise_first_inf(bad, "x")
        return out
    out = np.empty(arr.shape)
    flagged = _Flagged()
    for blk in _blocks(arr, None, window, squares=True, cross=False):
        o = out[blk.b0 : blk.b1]
        _sum_sq_dev(blk.sx, blk.sxx, blk.n, o)
        flagged.add(_ill_conditioned(o, blk.magx, blk.n), blk.b0)
        with np.errstate(divide="ignore", invalid="ignore"):
            np.divide(o, blk.n - ddof, out=o)
        o[(blk.n < minp) | (blk.n <= ddof)] = np.nan
    rows, cols = flagged.positions()
    if rows.size:
        ex = _exact_windows(arr, None, rows, cols, window)
        with np.errstate(divide="ignore", invalid="ignore"):
            val = ex["ssx"] / (ex["n"] - ddof)
        out[rows, cols] = np.where((ex["n"] < minp) | (ex["n"] <= ddof), np.nan, val)
    if std:
        np.sqrt(out, out=out)
        if scale is not None:
            out *= scale
    return out


def rolling_std(
    x: ArrayOrPandas, window: int, min_periods: int | None = None, *, ddof: int = 1
) -> Any:
    """Trailing standard deviation: ``sqrt`` of :func:`rolling_var` (same NaN rules)."""
    window, minp = _validate_window(window, min_periods)
    _check_ddof(ddof)
    arr, wrap = _coerce(x)
    return wrap(_var_core(arr, window, minp, ddof, std=True))


def rolling_zscore(
    x: ArrayOrPandas, window: int, min_periods: int | None = None, *, ddof: int = 1
) -> Any:
    """Trailing z-score of each value against its own window (which includes it).

    .. math::

        z_t = \\frac{x_t - \\bar x_{W_t}}{s_{W_t}},
        \\qquad W_t = \\{t-\\text{window}+1, \\dots, t\\},

    i.e. ``(x - x.rolling(w).mean()) / x.rolling(w).std(ddof)`` in pandas, computed
    without the cancellation of the two separate passes.

    Parameters
    ----------
    x, window, min_periods, ddof
        As in :func:`rolling_var`.

    Returns
    -------
    Same type and shape as ``x``. NaN where ``x_t`` is NaN, where the window
    has fewer than ``min_periods`` (or ``<= ddof``) valid values, and where
    the window is constant (standard deviation 0: the z-score is undefined).
    """
    window, minp = _validate_window(window, min_periods)
    _check_ddof(ddof)
    arr, wrap = _coerce(x)
    return wrap(_zscore_core(arr, window, minp, ddof))


def _zscore_core(
    arr: np.ndarray, window: int, minp: int, ddof: int, flat_tol: float = 0.0, add: float = 0.0
) -> np.ndarray:
    """(T, N) rolling z-score of a (T, N) float array, plus ``add``.

    ``flat_tol > 0`` also gives NaN where the window's standard deviation is
    ``<= flat_tol * (1 + |mean|)`` (flat up to rounding: the RRG rule); with
    0 only exactly constant windows (std 0) are NaN.
    """
    kern = _numba_for(arr.size)
    if kern is not None:
        x = np.asfortranarray(arr)
        out = np.empty(x.shape, order="F")
        B = _block_rows(window, x.shape[1])
        ones = np.ones(x.shape[1])  # scale: read in std mode only
        bad = kern.call(
            kern.var_kernel, x, out, window, minp, ddof, B, kern.MODE_Z, flat_tol, add, ones
        )
        _raise_first_inf(bad, "x")
        return out
    out = np.empty(arr.shape)
    flagged = _Flagged()
    ssb = np.empty((_block_rows(window, arr.shape[1]), arr.shape[1]))
    for blk in _blocks(arr, None, window, squares=True, cross=False, keep_rows=True):
        o = out[blk.b0 : blk.b1]
        ss = _sum_sq_dev(blk.sx, blk.sxx, blk.n, ssb[: blk.b1 - blk.b0])
        flagged.add(_ill_conditioned(ss, blk.magx, blk.n), blk.b0)
        with np.errstate(divide="ignore", invalid="ignore"):
            np.divide(blk.sx, blk.n, out=o)
            flat = None
            if flat_tol > 0:
                mean = blk.cx + o
            np.subtract(blk.dx, o, out=o)
            np.divide(ss, blk.n - ddof, out=ss)
            np.sqrt(ss, out=ss)
            np.divide(o, ss, out=o)
            if flat_tol > 0:
                flat = ss <= flat_tol * (1.0 + np.abs(mean))
        bad = (blk.n < minp) | (blk.n <= ddof) | ~blk.valid | (ss == 0)
        o[bad if flat is None else bad | flat] = np.nan
    rows, cols = flagged.positions()
    if rows.size:
        ex = _exact_windows(arr, None, rows, cols, window)
        n, ss = ex["n"], ex["ssx"]
        xt = arr[rows, cols]
        with np.errstate(divide="ignore", invalid="ignore"):
            sd = np.sqrt(ss / (n - ddof))
            val = (xt - ex["mean_x"]) / sd
            bad = (n < minp) | (n <= ddof) | np.isnan(xt) | (ss == 0)
            if flat_tol > 0:
                bad |= sd <= flat_tol * (1.0 + np.abs(ex["mean_x"]))
        out[rows, cols] = np.where(bad, np.nan, val)
    if add:
        out += add
    return out


def _ratio_of(num: np.ndarray, den: np.ndarray, base: float, out: np.ndarray) -> np.ndarray:
    """``num / den * base`` into ``out`` (the relative-strength line; ``den`` (T, 1) broadcasts).

    Divide, then scale in place: the one rounding order of RS wherever it is
    computed (whole frame, column chunk or single cells give the same bits).
    NaN where ``num`` or ``den`` is NaN.
    """
    np.divide(num, den, out=out)
    if base != 1.0:
        out *= base
    return out


def _rrg_lines(
    rs: np.ndarray,
    *,
    smooth: int,
    ratio_window: int,
    ratio_min_periods: int,
    roc_period: int,
    momentum_window: int,
    momentum_min_periods: int,
    flat_tol: float,
    den: np.ndarray | None = None,
    base: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """RS-Ratio and RS-Momentum (T, N) of relative-strength lines ``rs`` (T, N) (see ``rrg``).

    ``x = ln rs`` (then a ``smooth``-row trailing mean), ``ratio = 100 +
    z(x)``, ``momentum = 100 + z(ratio_t - ratio_{t-k})`` with the z-scores of
    :func:`_zscore_core` (``ddof=1``, ``flat_tol``). The numba path does the
    two z-scores of a column in one visit, reading ``ln rs`` from a
    (T, 256)-column buffer, and allocates only the two outputs; the NumPy
    path composes :func:`_ratio_lines` and :func:`_momentum_lines` (same bits).

    With ``den`` (T, 1) given, ``rs`` holds prices and the lines are
    ``rs / den * base`` (:func:`_ratio_of`): the numba path without
    smoothing then builds them 256 columns at a time in the ``ln rs`` buffer,
    so no (T, N) RS array exists (peak memory: the two outputs).
    """
    kern = _numba_for(rs.size)
    if den is not None and (kern is None or smooth > 1):
        # whole-frame paths: materialise RS once
        order = "F" if rs.flags.f_contiguous else "C"
        rs = _ratio_of(rs, den, base, np.empty(rs.shape, order=order))
        den = None
    if kern is None:
        ratio = _ratio_lines(rs, smooth, ratio_window, ratio_min_periods, flat_tol)
        momentum = _momentum_lines(
            ratio, roc_period, momentum_window, momentum_min_periods, flat_tol
        )
        return ratio, momentum
    T, N = rs.shape
    ratio = np.empty((T, N), order="F")
    momentum = np.empty((T, N), order="F")
    B1, B2 = _block_rows(ratio_window, N), _block_rows(momentum_window, N)
    # smoothing is a (T, N) NumPy pass either way; its block rows depend on N, so take it whole
    smoothed = _smoothed_log(rs, smooth) if smooth > 1 else None
    buf = np.empty((T, min(N, _RRG_CHUNK_COLS)), order="F")
    first_inf = np.empty(N, dtype=np.int64)
    for c0 in range(0, N, _RRG_CHUNK_COLS):
        c1 = min(N, c0 + _RRG_CHUNK_COLS)
        if smoothed is None:
            x = buf[:, : c1 - c0]
            if den is not None:
                _ratio_of(rs[:, c0:c1], den, base, x)
                # NumPy's log, not numba's: the two differ in the last bit for ~1e-4 of inputs
                np.log(x, out=x)
            else:
                np.log(rs[:, c0:c1], out=x)
        else:
            x = np.asfortranarray(smoothed[:, c0:c1])
        first_inf[c0:c1] = kern.call(
            kern.rrg_kernel,
            x, ratio[:, c0:c1], momentum[:, c0:c1], ratio_window, ratio_min_periods, B1,
            roc_period, momentum_window, momentum_min_periods, B2, flat_tol,
        )
    _raise_first_inf(first_inf, "x")
    return ratio, momentum


def _smoothed_log(rs: np.ndarray, smooth: int) -> np.ndarray:
    """``ln rs`` (T, N), then its ``smooth``-row trailing mean (NaN unless all rows are valid)."""
    x = np.log(rs)
    if smooth > 1:
        x = rolling_mean(x, smooth, smooth)
    return x


def _ratio_lines(
    rs: np.ndarray, smooth: int, window: int, minp: int, flat_tol: float
) -> np.ndarray:
    """RS-Ratio: ``100 + z(ln rs smoothed)`` (T, N)."""
    return _zscore_core(_smoothed_log(rs, smooth), window, minp, 1, flat_tol, 100.0)


def _momentum_lines(
    ratio: np.ndarray, k: int, window: int, minp: int, flat_tol: float
) -> np.ndarray:
    """RS-Momentum: ``100 + z(ratio_t - ratio_{t-k})`` (T, N); the first ``k`` changes are NaN."""
    change = np.empty(ratio.shape, order="F" if ratio.flags.f_contiguous else "C")
    change[:k] = np.nan
    np.subtract(ratio[k:], ratio[:-k], out=change[k:])
    return _zscore_core(change, window, minp, 1, flat_tol, 100.0)


def _pair_core(
    x: ArrayOrPandas,
    y: ArrayOrPandas,
    window: int,
    min_periods: int | None,
    kind: str,
    ddof: int = 1,
) -> Any:
    window, minp = _validate_window(window, min_periods)
    arr, wrap = _coerce(x)
    yarr = _coerce_y(x, y, arr.shape[1])
    _check_rows(arr, yarr)
    T, N = arr.shape
    kern = _numba_for(arr.size)
    if kern is not None:
        return wrap(_pair_numba(kern, arr, yarr, window, minp, ddof, kind))
    out = np.empty((T, N))
    flagged = _Flagged()
    ssx_buf = np.empty((_block_rows(window, N), N))
    ssy_buf = np.empty_like(ssx_buf)
    for blk in _blocks(arr, yarr, window, squares=True, cross=True):
        nb = blk.b1 - blk.b0
        o = out[blk.b0 : blk.b1]
        ssx = _sum_sq_dev(blk.sx, blk.sxx, blk.n, ssx_buf[:nb])
        ssy = _sum_sq_dev(blk.sy, blk.syy, blk.n, ssy_buf[:nb])
        flagged.add(
            _ill_conditioned(ssx, blk.magx, blk.n) | _ill_conditioned(ssy, blk.magy, blk.n),
            blk.b0,
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            # co-moment C = Sxy - Sx*Sy/n (centred sums)
            np.multiply(blk.sx, blk.sy, out=o)
            np.divide(o, blk.n, out=o)
            np.subtract(blk.sxy, o, out=o)
            _finish_pair(o, blk.n, ssx, ssy, kind, minp, ddof)
    rows, cols = flagged.positions()
    if rows.size:
        ex = _exact_windows(arr, yarr, rows, cols, window)
        val = ex["cxy"].copy()
        _finish_pair(val, ex["n"], ex["ssx"], ex["ssy"], kind, minp, ddof)
        out[rows, cols] = val
    return wrap(out)


def _pair_numba(
    kern: Any, arr: np.ndarray, yarr: np.ndarray, window: int, minp: int, ddof: int, kind: str
) -> np.ndarray:
    """The numba path of :func:`_pair_core`: ``y`` (T, 1) is read per column, never broadcast."""
    x, y = np.asfortranarray(arr), np.asfortranarray(yarr)
    B = _block_rows(window, x.shape[1])
    yinf = np.isinf(y)
    if yinf.any():
        # report what the NumPy path reports first: the block (rows // B) seen first, x before y
        ry, cy = np.argwhere(yinf)[0]
        xinf = np.argwhere(np.isinf(x))
        if not xinf.size or xinf[0][0] // B > ry // B:
            raise DataError(
                f"y holds an infinite value at row {int(ry)}, column {int(cy)}; "
                "rolling kernels accept finite values and NaN only"
            )
        _raise_first_inf(np.where(np.isinf(x).any(axis=0), np.isinf(x).argmax(axis=0), -1), "x")
    code = {"cov": kern.KIND_COV, "corr": kern.KIND_CORR, "beta": kern.KIND_BETA}[kind]
    out = np.empty(x.shape, order="F")
    _raise_first_inf(kern.call(kern.pair_kernel, x, y, out, window, minp, ddof, B, code), "x")
    return out


def _finish_pair(
    c: np.ndarray, n: np.ndarray, ssx: np.ndarray, ssy: np.ndarray, kind: str, minp: int, ddof: int
) -> None:
    """Turn the co-moment ``c`` into cov / corr / beta in place (``ssx`` is overwritten)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "cov":
            np.divide(c, n - ddof, out=c)
            bad = (n < minp) | (n <= ddof)
        elif kind == "corr":
            zero = (ssx == 0) | (ssy == 0)
            np.multiply(ssx, ssy, out=ssx)
            np.sqrt(ssx, out=ssx)
            np.divide(c, ssx, out=c)
            np.clip(c, -1.0, 1.0, out=c)
            bad = (n < minp) | (n < 2) | zero
        else:  # beta of x on y
            np.divide(c, ssy, out=c)
            bad = (n < minp) | (n < 2) | (ssy == 0)
    c[bad] = np.nan


def rolling_cov(
    x: ArrayOrPandas,
    y: ArrayOrPandas,
    window: int,
    min_periods: int | None = None,
    *,
    ddof: int = 1,
) -> Any:
    """Trailing covariance of every column of ``x`` with ``y`` over pairwise-valid rows.

    .. math::

        \\mathrm{cov}_t = \\frac{\\sum_{W_t}(x_s-\\bar x_t)(y_s-\\bar y_t)}{n_t - \\mathrm{ddof}}

    with the sums, means and ``n_t`` taken over the rows of the window where
    both ``x`` and ``y`` are valid.

    Parameters
    ----------
    x : ndarray (T,) or (T, N), Series or DataFrame
    y : ndarray (T,) / (T, 1) / (T, N), Series or DataFrame
        One series (compared with every column of ``x``) or one per column.
        A pandas ``y`` is aligned to ``x``'s index (missing dates are NaN).
    window, min_periods, ddof
        As in :func:`rolling_var`; ``min_periods`` counts pairwise-valid rows.

    Returns
    -------
    Same type and shape as ``x``; NaN where the pair count is below
    ``min_periods`` or ``<= ddof``; exactly 0 when either series is constant
    over the window.

    Notes
    -----
    pandas computes rolling covariance as ``mean(xy) - mean(x) mean(y)``
    without centring, which loses digits for series far from zero (prices);
    this kernel centres first, so it is *more* accurate than pandas there.
    """
    _check_ddof(ddof)
    return _pair_core(x, y, window, min_periods, "cov", ddof)


def rolling_corr(
    x: ArrayOrPandas, y: ArrayOrPandas, window: int, min_periods: int | None = None
) -> Any:
    """Trailing Pearson correlation of every column of ``x`` with ``y`` (pairwise-valid rows).

    .. math::

        \\rho_t = \\frac{\\sum_{W_t}(x_s-\\bar x_t)(y_s-\\bar y_t)}
        {\\sqrt{\\sum_{W_t}(x_s-\\bar x_t)^2 \\sum_{W_t}(y_s-\\bar y_t)^2}}

    Parameters
    ----------
    x, y, window, min_periods
        As in :func:`rolling_cov`.

    Returns
    -------
    Same type and shape as ``x``, clipped to [-1, 1]. NaN where fewer than
    ``max(min_periods, 2)`` pairs are valid or either series is constant
    over the window.
    """
    return _pair_core(x, y, window, min_periods, "corr")


def rolling_beta(
    x: ArrayOrPandas, y: ArrayOrPandas, window: int, min_periods: int | None = None
) -> Any:
    """Trailing OLS slope of every column of ``x`` on ``y`` (with intercept).

    .. math::

        \\beta_t = \\frac{\\sum_{W_t}(x_s-\\bar x_t)(y_s-\\bar y_t)}{\\sum_{W_t}(y_s-\\bar y_t)^2}
        = \\frac{\\mathrm{cov}_t(x, y)}{\\mathrm{var}_t(y)}

    over the rows where both are valid (the variance of ``y`` is taken on
    the same rows as the covariance).

    Parameters
    ----------
    x, y, window, min_periods
        As in :func:`rolling_cov` (``x`` = dependent, ``y`` = benchmark/regressor).

    Returns
    -------
    Same type and shape as ``x``. NaN where fewer than ``max(min_periods, 2)``
    pairs are valid or ``y`` is constant over the window; 0 where ``x`` is.
    """
    return _pair_core(x, y, window, min_periods, "beta")


def _extreme_public(x: ArrayOrPandas, window: int, min_periods: int | None, op: np.ufunc) -> Any:
    window, minp = _validate_window(window, min_periods)
    arr, wrap = _coerce(x)
    valid = np.isfinite(arr)
    if not valid.all():
        _raise_inf(arr, valid, 0, "x")
    out = _rolling_extreme(arr, window, op)
    if minp > 1:
        out[rolling_count(arr, window) < minp] = np.nan
    return wrap(out)


def rolling_max(x: ArrayOrPandas, window: int, min_periods: int | None = None) -> Any:
    """Trailing maximum of the valid values in each window (``.rolling(...).max()``).

    Van Herk/Gil-Werman: three vectorised passes whatever the window length.

    Returns
    -------
    Same type and shape as ``x``; NaN where fewer than ``min_periods`` values are valid.
    """
    return _extreme_public(x, window, min_periods, np.fmax)


def rolling_min(x: ArrayOrPandas, window: int, min_periods: int | None = None) -> Any:
    """Trailing minimum of the valid values in each window (``.rolling(...).min()``).

    Returns
    -------
    Same type and shape as ``x``; NaN where fewer than ``min_periods`` values are valid.
    """
    return _extreme_public(x, window, min_periods, np.fmin)
