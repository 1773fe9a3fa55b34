"""Pairwise co-movement kernels: rolling correlation matrices and lead-lag correlations.

Rolling correlation matrices
----------------------------
For N instruments, window ``w`` and T dates the full answer is T matrices of
N x N (500 instruments over 2,500 days: 625 million numbers, 5 GB of float64),
so the kernel is built around *streaming*:

* :func:`iter_rolling_corr` yields one ``(N, N)`` matrix per date (or per
  requested date) and holds only O(N^2 + (B + w) N) memory, ``B`` = 64 rows;
* :func:`rolling_corr_matrix` stacks the matrices of the requested dates into a
  :class:`RollingCorrMatrices` and refuses (``ParameterError``) to allocate more
  than ``max_bytes`` (2 GiB by default) - ask for ``dates=`` or iterate instead.

Values are float64 throughout (agreement with pandas to 1e-9 needs it).

Semantics (those of pandas ``DataFrame.rolling(w, min_periods).corr()``)
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
The window ending at row ``t`` covers rows ``t-w+1 .. t`` (trailing: no value
depends on a later row). For a pair ``(i, j)`` only the rows where *both* are
valid count (pairwise-complete observations, ``n_ij``):

.. math::

    \\rho_{ij,t} = \\frac{\\sum (x_i - \\bar x_i)(x_j - \\bar x_j)}
                      {\\sqrt{\\sum (x_i - \\bar x_i)^2 \\, \\sum (x_j - \\bar x_j)^2}}

with sums and means over those ``n_ij`` rows. NaN when ``n_ij < max(min_periods, 2)``
(before a late listing has enough history, inside long gaps) and when either
series is constant over the pair's rows (zero variance; pandas gives NaN too).
The diagonal is exactly 1 where defined; values are clipped to [-1, 1].

Algorithm (why it is fast and stable)
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
Rows are processed in blocks of ``B = 64`` (fixed: it never depends on T, so
appending rows never changes an earlier result). At each block start the
co-moment matrix of the window is computed exactly from centred data
(``Z^T Z`` with ``z = x - c``, ``c`` the window mean, NaN as 0: one BLAS
``syrk``). For every following row it is *updated*, not recomputed: with
``a`` the row entering and ``b`` the row leaving the window, ``s`` the column
sums before and ``s' = s + a - b`` after,

.. math::

    C' = C + a a^T - b b^T - (s' s'^T - s s^T) / w

a rank-4 update done in place by one BLAS ``dgemm`` (one pass over the N x N
matrix instead of a w-deep product), after which the correlations are
``C_ij / sqrt(C_ii C_jj)`` (two more passes). Re-anchoring every 64 rows keeps
the accumulated rounding at a few ulp of the window's sums of squares.

This fast path is exact for pairs whose two columns are fully valid over the
window. Columns with a NaN in the window (gaps, the first ``w`` rows after a
listing) are recomputed exactly for their rows and columns from the masked
window: with ``M`` the validity mask and ``Z`` the centred values (NaN as 0),
``n = M_D^T M``, ``Sx = Z_D^T M``, ``Sy = M_D^T Z``, ``Sxx = (Z_D^2)^T M``,
``Syy = M_D^T Z^2``, ``Sxy = Z_D^T Z`` (a few ``d x w x N`` GEMMs, ``d`` the
number of such columns). A column with fewer than ``min_periods`` valid rows
is NaN throughout without any work. Zero variance: exact for fully valid
columns (a column whose co-moment is below ``1e-8`` of its sum of squares is
re-checked: window max == min); for masked pairs the pair's variance is treated
as zero when it is below ``1e-14`` times its uncentred sum of squares (the
values agree to about 7 significant digits of their spread - only constant
data gets there).

Lead-lag correlation
--------------------
:func:`lead_lag_corr`: full-sample Pearson correlation of ``x_t`` with
``y_{t-k}`` for ``k = -L .. L`` over pairwise-complete rows, vectorised over
pairs and rows (a loop over the ``2L + 1`` lags only).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.linalg import blas

from rotation._typing import Float64Array2D
from rotation.errors import DataError, ParameterError

__all__ = [
    "LeadLagCorr",
    "RollingCorrMatrices",
    "iter_rolling_corr",
    "lead_lag_corr",
    "rolling_corr_matrix",
]

#: Rows between exact re-anchorings of the rolling co-moment matrix.
_BLOCK = 64
#: A masked pair's variance below this fraction of its uncentred sum of squares counts as zero.
_ZERO_VAR_REL = 1e-14
_DEFAULT_MAX_BYTES = 2 << 30


# --------------------------------------------------------------------------- validation
def _check_window(window: Any, min_periods: Any) -> tuple[int, int]:
    if isinstance(window, bool) or not isinstance(window, int | np.integer) or window < 2:
        raise ParameterError("window", f"must be an integer >= 2 (rows), got {window!r}")
    window = int(window)
    if min_periods is None:
        return window, window
    if (
        isinstance(min_periods, bool)
        or not isinstance(min_periods, int | np.integer)
        or not 1 <= min_periods <= window
    ):
        raise ParameterError("min_periods", f"must be an integer in [1, window={window}], got {min_periods!r}")
    return window, int(min_periods)


def _as_2d(x: Any, name: str) -> Float64Array2D:
    """``x`` as a (T, N) float64 array; ``inf`` is refused with its row and column named."""
    try:
        if isinstance(x, pd.DataFrame | pd.Series):
            arr = x.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ParameterError(name, f"must be numeric: {exc}") from None
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ParameterError(name, f"expected a (T,) or (T, N) array, got {arr.ndim}-D")
    if np.isinf(arr).any():
        r, c = (int(v) for v in np.argwhere(np.isinf(arr))[0])
        where = f"row {r}, column {c}"
        if isinstance(x, pd.DataFrame):
            where += f" ({x.index[r]}, {x.columns[c]!r})"
        elif isinstance(x, pd.Series):
            where += f" ({x.index[r]})"
        raise DataError(f"{name} holds an infinite value at {where}: use NaN for missing values")
    return arr


def _positions(index: pd.Index | None, T: int, rows: Any) -> np.ndarray:
    """Sorted unique row positions from index labels (pandas input) or integer positions."""
    if rows is None:
        return np.arange(T)
    if isinstance(rows, slice):
        return np.arange(T)[rows]
    values = [rows] if np.isscalar(rows) or isinstance(rows, pd.Timestamp) else list(rows)
    if all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in values):
        out = np.asarray(values, dtype=np.intp)
        if out.size and (out.min() < -T or out.max() >= T):
            raise ParameterError("dates", f"row positions must be in [-{T}, {T}), got {values[:5]}")
        return np.unique(np.where(out < 0, out + T, out))
    if index is None:
        raise ParameterError("dates", "labels need a DataFrame x; pass integer row positions for arrays")
    labels = pd.Index(values)
    if isinstance(index, pd.DatetimeIndex):
        try:
            labels = pd.DatetimeIndex(pd.to_datetime(values))
        except (TypeError, ValueError):
            raise ParameterError("dates", f"not dates: {values[:5]}") from None
    pos = index.get_indexer(labels)
    missing = [v for v, p in zip(values, pos) if p < 0]
    if missing:
        raise ParameterError("dates", f"not in the index of x: {missing[:5]}")
    return np.unique(pos.astype(np.intp))


# --------------------------------------------------------------------------- engine
def _masked_block(
    zwin: np.ndarray, mwin: np.ndarray, z2win: np.ndarray, dirty: np.ndarray, minp: int
) -> tuple[np.ndarray, np.ndarray]:
    """Exact pairwise-complete correlations of columns ``dirty`` with every column.

    Returns ``(rows (d, N), diag (d,))``: the correlation rows and the
    self-correlation (1 or NaN) of each dirty column.
    """
    md, zd, z2d = mwin[:, dirty], zwin[:, dirty], z2win[:, dirty]
    d = dirty.size
    # [M_D; Z_D]^T [M | Z | Z^2]: n, Sy, Syy (from M_D) and Sx, Sxy (from Z_D)
    left = np.concatenate([md, zd], axis=1).T  # (2d, w)
    right = np.concatenate([mwin, zwin, z2win], axis=1)  # (w, 3N)
    prod = left @ right
    N = mwin.shape[1]
    n, sy, syy = prod[:d, :N], prod[:d, N : 2 * N], prod[:d, 2 * N :]
    sx, sxy = prod[d:, :N], prod[d:, N : 2 * N]
    sxx = z2d.T @ mwin
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = sxy - sx * sy / n
        vx = sxx - sx * sx / n
        vy = syy - sy * sy / n
        zero = (vx <= _ZERO_VAR_REL * sxx) | (vy <= _ZERO_VAR_REL * syy)
        r = cov / np.sqrt(vx * vy)
    bad = (n < minp) | zero
    r[bad] = np.nan
    np.clip(r, -1.0, 1.0, out=r)
    diag = np.where(bad[np.arange(d), dirty], np.nan, 1.0)
    return r, diag


_BLAS_CONTROLLER: Any = None


def _one_blas_thread() -> AbstractContextManager[Any]:
    """Limit BLAS to one thread for the small GEMMs of the per-date loop.

    Many small BLAS calls with a thread pool stall on a busy machine (a worker
    descheduled while the others spin); the per-date work is memory bound, so
    one thread is faster there (2.5x on the 2-core development machine under
    load). Without :mod:`threadpoolctl` nothing is limited.
    """
    global _BLAS_CONTROLLER
    if _BLAS_CONTROLLER is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # pragma: no cover - optional
            _BLAS_CONTROLLER = False
        else:
            _BLAS_CONTROLLER = ThreadpoolController().select(user_api="blas")
    if _BLAS_CONTROLLER is False:
        return nullcontext()
    return _BLAS_CONTROLLER.limit(limits=1)


def _rolling_corr_core(
    x: np.ndarray, window: int, minp: int, wanted: np.ndarray
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(t, corr_t)`` for the sorted row positions ``wanted`` (fresh (N, N) arrays)."""
    T, N = x.shape
    w = window
    minp = max(minp, 2)
    if wanted.size == 0:
        return
    valid_all = np.isfinite(x)
    want = np.zeros(T, dtype=bool)
    want[wanted] = True
    for b0 in range(0, T, _BLOCK):
        b1 = min(T, b0 + _BLOCK)
        if not want[b0:b1].any():
            continue  # each block re-anchors from its own window: skipping is exact
        last = int(np.flatnonzero(want[b0:b1])[-1]) + b0 + 1  # no work after the last wanted row
        with _one_blas_thread():
            state = _Anchor(x, valid_all, b0, last, w)
        for t in range(b0, last):
            with _one_blas_thread():
                if t > b0:
                    state.step(t)
                out = state.corr(t, minp) if want[t] else None
            if out is not None:
                yield t, out


class _Anchor:
    """Rolling state of one block: centred segment, co-moment matrix ``C`` and column sums ``s``."""

    def __init__(self, x: np.ndarray, valid_all: np.ndarray, b0: int, last: int, w: int) -> None:
        N = x.shape[1]
        self.w, self.N = w, N
        self.s0 = s0 = max(0, b0 - w + 1)
        self.seg = seg = x[s0:last]
        mseg = valid_all[s0:last]
        L = last - s0
        # centre: each column's mean over the anchor window (rows s0..b0); a column
        # with no value there is centred on its first value in the segment (or 0)
        anchor_m = mseg[: b0 + 1 - s0]
        cnt = anchor_m.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            centre = np.where(anchor_m, seg[: b0 + 1 - s0], 0.0).sum(axis=0) / cnt
        none = cnt == 0
        if none.any():
            cols = np.flatnonzero(none)
            anyv = mseg[:, cols].any(axis=0)
            first = mseg[:, cols].argmax(axis=0)
            centre[cols] = np.where(anyv, seg[first, cols], 0.0)
        z = seg - centre
        z[~mseg] = 0.0  # NaN as 0: cross sums then run over pairwise-complete rows only
        self.z = z
        self.z2 = z * z
        self.mf = mseg.astype(np.float64)
        self.pc = np.zeros((L + 1, N), dtype=np.int64)  # prefix counts of valid rows
        np.cumsum(mseg, axis=0, out=self.pc[1:])
        self.pq = np.zeros((L + 1, N))  # prefix sums of z^2 (scale for the zero-variance test)
        np.cumsum(self.z2, axis=0, out=self.pq[1:])
        zw = np.ascontiguousarray(z[: b0 + 1 - s0])
        S = zw.T @ zw  # exact co-moment at the anchor (BLAS syrk, symmetric)
        self.s = zw.sum(axis=0)
        self.C = np.asfortranarray(S - np.outer(self.s, self.s) / w)
        self.U = np.empty((N, 4), order="F")
        self.V = np.empty((4, N), order="F")

    def step(self, t: int) -> None:
        """Move the window from ``t-1`` to ``t``: rank-4 in-place update of ``C``."""
        k, w = t - self.s0, self.w
        a = self.z[k]
        b = self.z[k - w] if t - w >= 0 else np.zeros(self.N)
        s, s_new = self.s, self.s + a - b
        U, V = self.U, self.V
        U[:, 0], U[:, 1], U[:, 2], U[:, 3] = a, b, s_new, s
        V[0], V[1], V[2], V[3] = a, -b, -s_new / w, s / w
        # C' = C + a a' - b b' - (s' s'^T - s s^T) / w
        self.C = blas.dgemm(1.0, U, V, beta=1.0, c=self.C, overwrite_c=1)
        self.s = s_new

    def corr(self, t: int, minp: int) -> np.ndarray:
        N, w = self.N, self.w
        k = t - self.s0
        lo = max(0, k - w + 1)
        count = self.pc[k + 1] - self.pc[lo]
        full = count == w
        diag = np.diag(self.C).copy()
        ok = full & (diag > 0)
        # a fully valid column is constant iff its window max equals its min; only
        # columns whose variance is tiny next to their sum of squares are checked
        q = self.pq[k + 1] - self.pq[lo]
        suspect = np.flatnonzero(ok & (diag <= 1e-8 * q))
        if suspect.size:
            win = self.seg[lo : k + 1, suspect]
            ok[suspect[win.max(axis=0) == win.min(axis=0)]] = False
        dvec = np.full(N, np.nan)
        dvec[ok] = 1.0 / np.sqrt(diag[ok])
        out = np.empty((N, N))
        # C is symmetric up to rounding: read it C-ordered (as its transpose)
        np.multiply(self.C.T, dvec[:, None], out=out)
        out *= dvec[None, :]
        np.clip(out, -1.0, 1.0, out=out)
        out.flat[:: N + 1] = np.where(ok, 1.0, np.nan)
        dirty = np.flatnonzero((count >= minp) & ~full)
        if dirty.size:
            rows, dd = _masked_block(self.z[lo : k + 1], self.mf[lo : k + 1], self.z2[lo : k + 1], dirty, minp)
            out[dirty, :] = rows
            out[:, dirty] = rows.T
            out[dirty, dirty] = dd
        starved = np.flatnonzero(count < minp)
        if starved.size:
            out[starved, :] = np.nan
            out[:, starved] = np.nan
        return out


# --------------------------------------------------------------------------- public API
def iter_rolling_corr(
    x: Float64Array2D | pd.DataFrame,
    window: int,
    min_periods: int | None = None,
    *,
    dates: Sequence[Any] | slice | None = None,
) -> Iterator[tuple[int, Float64Array2D]]:
    """Stream the rolling correlation matrix, one date at a time.

    Parameters
    ----------
    x : ndarray (T, N) or DataFrame (T, N)
        Values (usually returns) with NaN for missing; rows are dates in
        ascending order. ``inf`` raises :class:`DataError`.
    window : int
        Rows per trailing window (>= 2).
    min_periods : int, optional
        Minimum pairwise-complete rows for a value (default ``window``, as in
        pandas); values below 2 act as 2.
    dates : sequence or slice, optional
        Rows to yield: integer positions, or index labels when ``x`` is a
        DataFrame. Default: every row. Blocks of 64 rows without a requested
        date are skipped entirely.

    Yields
    ------
    (int, ndarray (N, N))
        Row position ``t`` and the correlation matrix of the window ending at
        ``t`` (a new array each time; see the module notes for NaN rules).

    Notes
    -----
    Memory: O(N^2) for the running co-moment matrix plus the yielded matrix,
    and O((64 + window) N) of block buffers - never O(T N^2).
    """
    window, minp = _check_window(window, min_periods)
    arr = _as_2d(x, "x")
    index = x.index if isinstance(x, pd.DataFrame) else None
    wanted = _positions(index, arr.shape[0], dates)
    yield from _rolling_corr_core(arr, window, minp, wanted)


@dataclass(frozen=True)
class RollingCorrMatrices:
    """Rolling correlation matrices at K dates.

    Attributes
    ----------
    values : ndarray (K, N, N)
        ``values[k]`` is the correlation matrix of the window ending at
        ``index[k]``; symmetric up to rounding, diagonal 1 where defined, NaN
        as described in :mod:`rotation.analytics._pairwise`.
    index : Index (K,)
        The dates (a DatetimeIndex for DataFrame input, else row positions).
    columns : Index (N,)
        Instrument labels (positions for array input).
    window, min_periods : int
        Parameters used (rows).
    """

    values: np.ndarray
    index: pd.Index
    columns: pd.Index
    window: int
    min_periods: int

    def at(self, date: Any) -> pd.DataFrame:
        """The (N, N) correlation matrix at ``date`` (a label of :attr:`index`)."""
        try:
            k = self.index.get_loc(date)
        except KeyError:
            raise ParameterError("date", f"{date!r} is not one of the computed dates") from None
        return pd.DataFrame(self.values[k], index=self.columns, columns=self.columns)

    def mean_pairwise(self) -> pd.Series:
        """Average off-diagonal correlation per date (NaN pairs ignored; NaN if none).

        Returns
        -------
        Series (K,)
            :math:`\\frac{1}{|P_t|}\\sum_{(i<j) \\in P_t} \\rho_{ij,t}`, ``P_t`` the
            pairs with a value at ``t``.
        """
        iu = np.triu_indices(len(self.columns), k=1)
        upper = self.values[:, iu[0], iu[1]]
        with np.errstate(invalid="ignore"):
            out = np.nanmean(upper, axis=1) if upper.shape[1] else np.full(len(self.index), np.nan)
        return pd.Series(out, index=self.index, name="mean_corr")

    def to_frame(self) -> pd.DataFrame:
        """Tidy table of the upper triangle: ``date, a, b, corr`` (pairs with a value only)."""
        iu = np.triu_indices(len(self.columns), k=1)
        upper = self.values[:, iu[0], iu[1]]  # (K, P)
        k, p = np.nonzero(np.isfinite(upper))
        return pd.DataFrame(
            {
                "date": self.index[k],
                "a": self.columns[iu[0][p]],
                "b": self.columns[iu[1][p]],
                "corr": upper[k, p],
            }
        )


def rolling_corr_matrix(
    x: Float64Array2D | pd.DataFrame,
    window: int,
    min_periods: int | None = None,
    *,
    dates: Sequence[Any] | slice | None = None,
    max_bytes: int = _DEFAULT_MAX_BYTES,
) -> RollingCorrMatrices:
    """Rolling correlation matrices of all column pairs at the requested dates.

    Equals ``pandas.DataFrame(x).rolling(window, min_periods).corr()`` (pairwise-
    complete observations) to ~1e-12, see the module notes for the formula,
    NaN rules and algorithm.

    Parameters
    ----------
    x : ndarray (T, N) or DataFrame (T, N)
        Values (usually simple or log returns), NaN for missing, ascending rows.
    window : int
        Trailing window in rows (>= 2).
    min_periods : int, optional
        Minimum pairwise-complete rows (default ``window``).
    dates : sequence or slice, optional
        Dates to keep (index labels for a DataFrame, positions for an array).
        Default: every row - allowed only while the result fits ``max_bytes``.
    max_bytes : int
        Largest result (``K * N * N * 8`` bytes) to allocate; default 2 GiB.

    Returns
    -------
    RollingCorrMatrices
        ``values`` of shape (K, N, N) for the K requested dates (sorted).

    Raises
    ------
    ParameterError
        Bad window/min_periods/dates, or a result larger than ``max_bytes``
        (use ``dates=`` or :func:`iter_rolling_corr`).
    DataError
        ``x`` holds an infinite value.
    """
    window, minp = _check_window(window, min_periods)
    arr = _as_2d(x, "x")
    T, N = arr.shape
    index = x.index if isinstance(x, pd.DataFrame) else None
    wanted = _positions(index, T, dates)
    need = wanted.size * N * N * 8
    if need > max_bytes:
        raise ParameterError(
            "dates",
            f"{wanted.size} matrices of {N} x {N} need {need / 2**30:.1f} GiB "
            f"(max_bytes={max_bytes / 2**30:.1f} GiB):"
            " pass dates= (e.g. month ends) or stream with iter_rolling_corr()",
        )
    values = np.empty((wanted.size, N, N))
    for k, (_, m) in enumerate(_rolling_corr_core(arr, window, minp, wanted)):
        values[k] = m
    columns = x.columns if isinstance(x, pd.DataFrame) else pd.RangeIndex(N)
    out_index = index[wanted] if index is not None else pd.Index(wanted)
    return RollingCorrMatrices(values, out_index, pd.Index(columns), window, minp)


# --------------------------------------------------------------------------- lead-lag
@dataclass(frozen=True)
class LeadLagCorr:
    """Cross-correlations of ``x_t`` with ``y_{t-k}`` at lags ``k = -L .. L`` for P pairs.

    Attributes
    ----------
    corr : DataFrame (2L + 1, P)
        Index ``lag`` (k), one column per pair. ``k > 0``: ``y`` leads ``x`` by
        ``k`` rows (``y``'s past moves with ``x`` today); ``k < 0``: ``x`` leads.
    nobs : DataFrame (2L + 1, P) of int
        Pairwise-complete rows behind each value.
    """

    corr: pd.DataFrame
    nobs: pd.DataFrame

    def peak(self) -> pd.DataFrame:
        """Per pair, the lag with the largest absolute correlation: ``lag, corr, nobs``.

        Pairs with no value at any lag get ``lag`` NaN.
        """
        c = self.corr.to_numpy()
        a = np.where(np.isfinite(c), np.abs(c), -1.0)
        k = a.argmax(axis=0)
        cols = np.arange(c.shape[1])
        has = a[k, cols] >= 0
        lags = self.corr.index.to_numpy()
        return pd.DataFrame(
            {
                "lag": np.where(has, lags[k], np.nan),
                "corr": np.where(has, c[k, cols], np.nan),
                "nobs": np.where(has, self.nobs.to_numpy()[k, cols], 0),
            },
            index=pd.Index(self.corr.columns, name="pair"),
        )

    def to_frame(self) -> pd.DataFrame:
        """Tidy table ``pair, lag, corr, nobs`` (one row per pair and lag)."""
        long = self.corr.stack(future_stack=True).rename("corr").to_frame()
        long["nobs"] = self.nobs.stack(future_stack=True).to_numpy()
        long.index = long.index.set_names(["lag", "pair"])
        long = long.reset_index()[["pair", "lag", "corr", "nobs"]]
        return long.sort_values(["pair", "lag"], kind="stable").reset_index(drop=True)


def lead_lag_corr(
    x: Float64Array2D | pd.Series | pd.DataFrame,
    y: Float64Array2D | pd.Series | pd.DataFrame,
    max_lag: int = 10,
    *,
    min_periods: int = 3,
) -> LeadLagCorr:
    """Lead-lag cross-correlation of paired series: ``corr(x_t, y_{t-k})``, ``k = -L..L``.

    .. math::

        \\rho_k = \\frac{\\sum_{t \\in R_k} (x_t - \\bar x)(y_{t-k} - \\bar y)}
                       {\\sqrt{\\sum_{R_k} (x_t - \\bar x)^2 \\sum_{R_k} (y_{t-k} - \\bar y)^2}}

    with ``R_k`` the rows where both ``x_t`` and ``y_{t-k}`` are valid and the
    means taken over ``R_k`` (what ``x.corr(y.shift(k))`` gives in pandas).
    Each series is first centred on its full-sample mean, then the per-lag sums
    run over the pairwise-complete rows: as accurate as pandas' own kernel.
    A pair whose values are constant over ``R_k`` gives NaN.

    Parameters
    ----------
    x, y : ndarray (T,) / (T, P), Series or DataFrame
        Pair ``p`` is column ``p`` of ``x`` with column ``p`` of ``y`` (a single
        ``y`` column is paired with every ``x`` column). pandas inputs are
        aligned on ``x``'s index; pair labels are ``"x_col~y_col"``.
    max_lag : int
        ``L`` (rows), 0 .. T-1.
    min_periods : int
        Minimum pairwise-complete rows for a value (>= 2, default 3).

    Returns
    -------
    LeadLagCorr

    Notes
    -----
    Significance is not computed here: daily returns are autocorrelated and
    heteroskedastic, so the co-movement measures built on this kernel attach
    HAC or bootstrap inference.
    """
    if isinstance(max_lag, bool) or not isinstance(max_lag, int | np.integer) or max_lag < 0:
        raise ParameterError("max_lag", f"must be a non-negative integer, got {max_lag!r}")
    if isinstance(min_periods, bool) or not isinstance(min_periods, int | np.integer) or min_periods < 2:
        raise ParameterError("min_periods", f"must be an integer >= 2, got {min_periods!r}")
    if isinstance(x, pd.Series | pd.DataFrame) and isinstance(y, pd.Series | pd.DataFrame):
        y = y.reindex(x.index)
    xa, ya = _as_2d(x, "x"), _as_2d(y, "y")
    T, P = xa.shape
    if ya.shape[0] != T:
        raise ParameterError("y", f"has {ya.shape[0]} rows, x has {T}")
    if ya.shape[1] == 1 and P > 1:
        ya = np.broadcast_to(ya, (T, P))
    elif ya.shape[1] != P:
        raise ParameterError("y", f"must have 1 or {P} columns, got {ya.shape[1]}")
    if max_lag >= T:
        raise ParameterError("max_lag", f"must be below the number of rows ({T}), got {max_lag}")
    lags = np.arange(-int(max_lag), int(max_lag) + 1)
    corr = np.full((lags.size, P), np.nan)
    nobs = np.zeros((lags.size, P), dtype=np.int64)
    vx, vy = np.isfinite(xa), np.isfinite(ya)
    # Centre each series on its own full-sample mean once: the per-lag sums are then
    # of small numbers and cov = Sxy - Sx Sy / n loses no digits (corr is shift invariant).
    with np.errstate(invalid="ignore", divide="ignore"):
        x0 = np.where(vx, xa - np.where(vx, xa, 0.0).sum(axis=0) / vx.sum(axis=0), 0.0)
        y0 = np.where(vy, ya - np.where(vy, ya, 0.0).sum(axis=0) / vy.sum(axis=0), 0.0)
    mx, my = vx.astype(np.float64), vy.astype(np.float64)
    x2, y2 = x0 * x0, y0 * y0
    for li, k in enumerate(lags):
        # rows t with x_t and y_{t-k}: slice both to the overlapping range
        xs = slice(k, T) if k >= 0 else slice(0, T + k)
        ys = slice(0, T - k) if k >= 0 else slice(-k, T)
        n = np.einsum("tp,tp->p", mx[xs], my[ys])
        sx = np.einsum("tp,tp->p", x0[xs], my[ys])
        sy = np.einsum("tp,tp->p", mx[xs], y0[ys])
        sxx = np.einsum("tp,tp->p", x2[xs], my[ys])
        syy = np.einsum("tp,tp->p", mx[xs], y2[ys])
        sxy = np.einsum("tp,tp->p", x0[xs], y0[ys])
        with np.errstate(invalid="ignore", divide="ignore"):
            vxx = sxx - sx * sx / n
            vyy = syy - sy * sy / n
            r = (sxy - sx * sy / n) / np.sqrt(vxx * vyy)
        r[(n < min_periods) | (vxx <= _ZERO_VAR_REL * sxx) | (vyy <= _ZERO_VAR_REL * syy)] = np.nan
        corr[li] = np.clip(r, -1.0, 1.0)
        nobs[li] = np.rint(n).astype(np.int64)
    if isinstance(x, pd.DataFrame | pd.Series):
        xc = list(x.columns) if isinstance(x, pd.DataFrame) else [x.name if x.name is not None else "x"]
    else:
        xc = [str(i) for i in range(P)]
    if isinstance(y, pd.DataFrame | pd.Series):
        yc = list(y.columns) if isinstance(y, pd.DataFrame) else [y.name if y.name is not None else "y"]
    else:
        yc = [str(i) for i in range(ya.shape[1])]
    if len(yc) == 1 and P > 1:
        yc = yc * P
    names = pd.Index([f"{a}~{b}" for a, b in zip(xc, yc)], name="pair")
    lag_index = pd.Index(lags, name="lag")
    return LeadLagCorr(
        corr=pd.DataFrame(corr, index=lag_index, columns=names),
        nobs=pd.DataFrame(nobs, index=lag_index, columns=names),
    )
