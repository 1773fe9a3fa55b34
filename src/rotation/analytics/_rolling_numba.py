"""Numba kernels for :mod:`rotation.analytics._rolling` (optional ``fast`` extra).

Imported only by ``_rolling``'s dispatcher, and only when numba is installed,
the array is large enough and ``ROTATION_NUMBA`` is not ``0`` (see
``_rolling._numba_for``): ``import rotation`` never imports numba.

These are the *same algorithm* as the NumPy path, not a
different one: the same row blocks (``B`` from ``_rolling._block_rows``), the
same per-block centre, the same sequential prefix sums and differences, the
same ill-conditioning test and the same corrected two-pass recomputation
(sequential sums, as ``_rolling._two_pass``). Every floating-point operation
is done in the same order, so both paths give the same bits (no ``fastmath``,
which would reorder sums and contract products into FMAs). That keeps the
NumPy path's guarantees here: precision against a two-pass reference and
bit-for-bit look-ahead freedom, also across the size threshold that picks
the path.

Why it is fast: columns are processed in tiles of 64 (in parallel,
``prange`` over tiles). A tile's rows of one block are copied row-major into a
small buffer (each column of an F-ordered (T, N) array - what
``DataFrame.to_numpy()`` gives for a single-dtype frame - is contiguous), so
the prefix-sum and window loops run over 64 adjacent values and vectorise,
while each column is still added in row order; the buffers are small (a few
hundred kB per tile) and the only (T, N) arrays are the input and the outputs.

Arrays: ``x`` (T, N) float64, ideally F-contiguous; ``y`` (T, 1) or (T, N);
outputs (T, N) F-contiguous, written completely. Kernels that scan ``x``
return, per column, the first row holding ``+-inf`` (-1 if none): the caller
raises :class:`rotation.errors.DataError` (its output is then garbage).
"""

from __future__ import annotations

import numba as nb
import numpy as np

__all__ = ["call", "pair_kernel", "rrg_kernel", "var_kernel"]

# error_model="numpy": 0/0 -> NaN (as NumPy) instead of ZeroDivisionError.
_OPTS = {"nogil": True, "cache": True, "error_model": "numpy"}


def call(kernel, *args):
    """``kernel(*args)`` with its tiles handed out two at a time as threads free up.

    prange's default splits the tiles evenly up front; on a machine shared
    with other jobs one descheduled thread then holds the call up at the end.
    """
    previous = nb.set_parallel_chunksize(2)
    try:
        return kernel(*args)
    finally:
        nb.set_parallel_chunksize(previous)


#: Kernel modes of var_kernel.
MODE_VAR, MODE_STD, MODE_Z = 0, 1, 2
#: Kernel kinds of pair_kernel.
KIND_COV, KIND_CORR, KIND_BETA = 0, 1, 2


@nb.njit(**_OPTS)
def _two_pass_col(x, y, has_y, r0, t):
    """n, mean_x, ss_x, mean_y, ss_y, c_xy of rows ``r0 .. t`` (valid = finite x [and y]).

    Sequential sums in row order, exactly as ``_rolling._two_pass`` /
    ``_rolling._exact_windows`` (corrected two-pass; exact 0 when constant).
    """
    n = 0
    sx = 0.0
    sy = 0.0
    hx, lx, hy, ly = -np.inf, np.inf, -np.inf, np.inf
    for r in range(r0, t + 1):
        v = x[r]
        ok = np.isfinite(v)
        u = 0.0
        if has_y:
            u = y[r]
            ok = ok and np.isfinite(u)
        if ok:
            n += 1
            sx += v
            hx = max(hx, v)
            lx = min(lx, v)
            if has_y:
                sy += u
                hy = max(hy, u)
                ly = min(ly, u)
        else:
            sx += 0.0
            sy += 0.0
    fn = float(n)
    mx = sx / fn
    my = sy / fn
    d1x = 0.0
    d2x = 0.0
    d1y = 0.0
    d2y = 0.0
    cxy = 0.0
    for r in range(r0, t + 1):
        v = x[r]
        ok = np.isfinite(v)
        u = 0.0
        if has_y:
            u = y[r]
            ok = ok and np.isfinite(u)
        if ok:
            dx = v - mx
            d1x += dx
            d2x += dx * dx
            if has_y:
                dy = u - my
                d1y += dy
                d2y += dy * dy
                cxy += dx * dy
        else:
            d1x += 0.0
            d2x += 0.0
            d1y += 0.0
            d2y += 0.0
            cxy += 0.0
    ssx = d2x - d1x * d1x / fn
    ssx = 0.0 if hx == lx else (0.0 if ssx < 0.0 else ssx)
    ssy = d2y - d1y * d1y / fn
    ssy = 0.0 if hy == ly else (0.0 if ssy < 0.0 else ssy)
    if ssx == 0.0 or ssy == 0.0:
        cxy = 0.0
    return fn, mx, ssx, my, ssy, cxy


@nb.njit(**_OPTS)
def _first_valid(x, y, has_y, s0, k, L):
    """Segment offset of the block centre row: the last valid row at or before
    offset ``k`` (the block start), else the first valid one after it; -1 if none."""
    for i in range(k, -1, -1):
        if np.isfinite(x[s0 + i]) and (not has_y or np.isfinite(y[s0 + i])):
            return i
    for i in range(k + 1, L):
        if np.isfinite(x[s0 + i]) and (not has_y or np.isfinite(y[s0 + i])):
            return i
    return -1


#: Columns per tile: the tile's work buffers are ~(B + window) x 64 each (~600 kB per tile at
#: B = 180, window 60: above a 512 kB L2, yet measured faster than B = 64), and the inner loops run over 64 contiguous values (vectorised). Measured at
#: 5,000 x 5,000, window 60, one thread: 64 takes ~40% less CPU than 32 in the pair
#: kernel (~5% in the var kernel), 128 and 256 more than 64. Columns are independent,
#: so the tile width never changes a result.
TILE = 64


@nb.njit(**_OPTS)
def _stage(src, s0, L, X):
    """Copy rows ``s0 .. s0+L-1`` of the tile's columns row-major into ``X`` (L, cw)."""
    # row by row (strided loads, contiguous stores): measured ~15% faster than column by column
    cw = src.shape[1]
    for i in range(L):
        for c in range(cw):
            X[i, c] = src[s0 + i, c]


@nb.njit(**_OPTS)
def _note_inf(src, seen, bad):
    """``bad[c]`` = first row of column ``c`` holding +-inf, for the columns where ``seen[c]``.

    The prefix loops only raise a flag (a branch there would stop them being
    vectorised); finding the row is this rare scan.
    """
    for c in range(src.shape[1]):
        if seen[c]:
            col = src[:, c]
            for r in range(col.shape[0]):
                if np.isinf(col[r]):
                    bad[c] = r
                    break


@nb.njit(**_OPTS)
def _moments_tile(src, out, window, minp, ddof, B, mode, flat_tol, add, scale, bad):
    """Rolling var / std / z-score of the (T, cw) tile ``src`` into ``out`` (see ``var_kernel``).

    Per row block: stage the segment row-major, centre each column, build the
    prefix sums of the count, ``x - c`` and ``(x - c)^2`` (loops over the
    tile's columns: vectorised, each column still added in row order), then
    the window statistics; windows flagged as ill-conditioned are redone by
    the two-pass formula on the column.
    """
    T, cw = src.shape
    Lmax = min(T, B + window - 1)
    X = np.empty((Lmax, cw))
    Pn = np.empty((Lmax + 1, cw))
    Px = np.empty((Lmax + 1, cw))
    Pxx = np.empty((Lmax + 1, cw))
    O = np.empty((B, cw))
    F = np.zeros((B, cw), dtype=np.bool_)
    cen = np.empty(cw)
    seen = np.zeros(cw, dtype=np.bool_)
    for b0 in range(0, T, B):
        b1 = min(T, b0 + B)
        s0 = max(0, b0 - window + 1)
        L = b1 - s0
        _stage(src, s0, L, X)
        for c in range(cw):
            first = _first_valid(src[:, c], src[:, c], False, s0, b0 - s0, L)
            cen[c] = src[s0 + first, c] if first >= 0 else 0.0
        Pn[0, :] = 0.0
        Px[0, :] = 0.0
        Pxx[0, :] = 0.0
        for i in range(L):
            for c in range(cw):
                v = X[i, c]
                ok = np.isfinite(v)
                seen[c] = seen[c] or (not ok and v == v)
                d = v - cen[c] if ok else 0.0
                Pn[i + 1, c] = Pn[i, c] + (1.0 if ok else 0.0)
                Px[i + 1, c] = Px[i, c] + d
                Pxx[i + 1, c] = Pxx[i, c] + d * d
        nflag = 0
        for t in range(b0, b1):
            hi = t + 1 - s0
            # windows reaching before the segment start subtract P[0] = 0: p - 0.0 == p exactly
            lo = max(hi - window, 0)
            r = t - b0
            xi = t - s0
            for c in range(cw):
                n = Pn[hi, c] - Pn[lo, c]
                sx = Px[hi, c] - Px[lo, c]
                sxx = Pxx[hi, c] - Pxx[lo, c]
                ss = sxx - sx * sx / n
                ss = 0.0 if ss < 0.0 else ss
                flag = ss < Pxx[hi, c] * 1e-5 and n >= 2.0
                F[r, c] = flag
                nflag += flag
                short = n < minp or n <= ddof
                if mode == MODE_Z:
                    xt = X[xi, c]
                    ok = np.isfinite(xt)
                    m = sx / n
                    sd = np.sqrt(ss / (n - ddof))
                    val = ((xt - cen[c] if ok else 0.0) - m) / sd
                    # sd == 0, tested after the division as the NumPy path does
                    isbad = short or not ok or sd == 0.0
                    if flat_tol > 0.0:
                        isbad = isbad or sd <= flat_tol * (1.0 + abs(cen[c] + m))
                    val = np.nan if isbad else val
                    O[r, c] = val + add if add != 0.0 else val
                else:
                    val = np.nan if short else ss / (n - ddof)
                    # scaled at its one write: sqrt, then * scale (the NumPy path's two roundings)
                    O[r, c] = np.sqrt(val) * scale[c] if mode == MODE_STD else val
        if nflag:
            for r in range(b1 - b0):
                for c in range(cw):
                    if F[r, c]:
                        v = _exact_value(src[:, c], b0 + r, window, minp, ddof, mode, flat_tol, add)
                        O[r, c] = v * scale[c] if mode == MODE_STD else v
        for c in range(cw):
            oc = out[:, c]
            for r in range(b1 - b0):
                oc[b0 + r] = O[r, c]
    _note_inf(src, seen, bad)


@nb.njit(**_OPTS)
def _exact_value(col, t, window, minp, ddof, mode, flat_tol, add):
    """var / std / z-score of the window ending at ``t`` from the two-pass statistics."""
    xt = col[t]
    n, mean, ss, _, _, _ = _two_pass_col(col, col, False, max(0, t - window + 1), t)
    short = n < minp or n <= ddof
    if mode == MODE_Z:
        sd = np.sqrt(ss / (n - ddof))
        val = (xt - mean) / sd
        isbad = short or not np.isfinite(xt) or ss == 0.0
        if flat_tol > 0.0:
            isbad = isbad or sd <= flat_tol * (1.0 + abs(mean))
        val = np.nan if isbad else val
        return val + add if add != 0.0 else val
    val = np.nan if short else ss / (n - ddof)
    return np.sqrt(val) if mode == MODE_STD else val


@nb.njit(parallel=True, **_OPTS)
def var_kernel(x, out, window, minp, ddof, B, mode, flat_tol, add, scale):
    """Rolling var (mode 0), std (1) or z-score (2) of every column of ``x`` into ``out``.

    ``flat_tol > 0`` (z-score only) also gives NaN where ``std <= flat_tol *
    (1 + |mean|)``; ``add`` is added to every z-score (100 for RRG); ``scale``
    (N,) multiplies column ``j``'s std (mode 1 only; ones for a plain std).
    Returns (N,) int64: first row of each column holding +-inf, -1 if none.
    """
    N = x.shape[1]
    bad = np.full(N, -1, dtype=np.int64)
    ntiles = (N + TILE - 1) // TILE
    for k in nb.prange(ntiles):
        j0 = k * TILE
        j1 = min(N, j0 + TILE)
        _moments_tile(
            x[:, j0:j1], out[:, j0:j1], window, minp, ddof, B, mode, flat_tol, add, scale[j0:j1],
            bad[j0:j1],
        )
    return bad


@nb.njit(parallel=True, **_OPTS)
def rrg_kernel(x, ratio, momentum, w1, mp1, B1, k, w2, mp2, B2, flat_tol):
    """RS-Ratio and RS-Momentum of every column of ``x`` (ln RS, smoothed), tile by tile.

    ``ratio = 100 + z_{w1}(x)``; ``momentum = 100 + z_{w2}(ratio_t - ratio_{t-k})``
    (z-scores with ``ddof=1`` and the RRG flat-window tolerance), exactly as
    ``var_kernel`` in mode 2 applied twice; the changes live in a (T, 64)
    buffer per tile. Returns the first +-inf row of ``x`` per column.
    """
    T, N = x.shape
    bad = np.full(N, -1, dtype=np.int64)
    ntiles = (N + TILE - 1) // TILE
    unscaled = np.ones(TILE)  # scale is read in mode 1 (std) only
    for q in nb.prange(ntiles):
        j0 = q * TILE
        j1 = min(N, j0 + TILE)
        _moments_tile(
            x[:, j0:j1], ratio[:, j0:j1], w1, mp1, 1, B1, MODE_Z, flat_tol, 100.0, unscaled,
            bad[j0:j1],
        )
        ch = np.empty((j1 - j0, T)).T  # F-ordered: each column contiguous
        for c in range(j1 - j0):
            rc = ratio[:, j0 + c]
            for t in range(T):
                ch[t, c] = rc[t] - rc[t - k] if t >= k else np.nan
        nobad = np.full(j1 - j0, -1, dtype=np.int64)
        _moments_tile(
            ch, momentum[:, j0:j1], w2, mp2, 1, B2, MODE_Z, flat_tol, 100.0, unscaled, nobad
        )
    return bad


@nb.njit(**_OPTS)
def _pair_tile(src, y, out, window, minp, ddof, B, kind, bad):
    """Rolling cov / corr / beta of the (T, cw) tile ``src`` on ``y`` (T, 1) or (T, cw)."""
    T, cw = src.shape
    ny = y.shape[1]
    Lmax = min(T, B + window - 1)
    X = np.empty((Lmax, cw))
    Y = np.empty((Lmax, cw))
    Pn = np.empty((Lmax + 1, cw))
    Px = np.empty((Lmax + 1, cw))
    Pxx = np.empty((Lmax + 1, cw))
    Py = np.empty((Lmax + 1, cw))
    Pyy = np.empty((Lmax + 1, cw))
    Pxy = np.empty((Lmax + 1, cw))
    O = np.empty((B, cw))
    F = np.zeros((B, cw), dtype=np.bool_)
    cx = np.empty(cw)
    cy = np.empty(cw)
    seen = np.zeros(cw, dtype=np.bool_)
    for b0 in range(0, T, B):
        b1 = min(T, b0 + B)
        s0 = max(0, b0 - window + 1)
        L = b1 - s0
        _stage(src, s0, L, X)
        if ny == 1:
            y0 = y[:, 0]
            for i in range(L):
                v = y0[s0 + i]
                for c in range(cw):
                    Y[i, c] = v
        else:
            _stage(y, s0, L, Y)
        for c in range(cw):
            yc = y[:, c] if ny > 1 else y[:, 0]
            first = _first_valid(src[:, c], yc, True, s0, b0 - s0, L)
            cx[c] = src[s0 + first, c] if first >= 0 else 0.0
            cy[c] = yc[s0 + first] if first >= 0 else 0.0
        Pn[0, :] = 0.0
        Px[0, :] = 0.0
        Pxx[0, :] = 0.0
        Py[0, :] = 0.0
        Pyy[0, :] = 0.0
        Pxy[0, :] = 0.0
        for i in range(L):
            for c in range(cw):
                v = X[i, c]
                u = Y[i, c]
                okx = np.isfinite(v)
                seen[c] = seen[c] or (not okx and v == v)
                ok = okx and np.isfinite(u)
                dx = v - cx[c] if ok else 0.0
                dy = u - cy[c] if ok else 0.0
                Pn[i + 1, c] = Pn[i, c] + (1.0 if ok else 0.0)
                Px[i + 1, c] = Px[i, c] + dx
                Pxx[i + 1, c] = Pxx[i, c] + dx * dx
                Py[i + 1, c] = Py[i, c] + dy
                Pyy[i + 1, c] = Pyy[i, c] + dy * dy
                Pxy[i + 1, c] = Pxy[i, c] + dx * dy
        nflag = 0
        for t in range(b0, b1):
            hi = t + 1 - s0
            # windows reaching before the segment start subtract P[0] = 0: p - 0.0 == p exactly
            lo = max(hi - window, 0)
            r = t - b0
            for c in range(cw):
                n = Pn[hi, c] - Pn[lo, c]
                sx = Px[hi, c] - Px[lo, c]
                sxx = Pxx[hi, c] - Pxx[lo, c]
                sy = Py[hi, c] - Py[lo, c]
                syy = Pyy[hi, c] - Pyy[lo, c]
                sxy = Pxy[hi, c] - Pxy[lo, c]
                ssx = sxx - sx * sx / n
                ssx = 0.0 if ssx < 0.0 else ssx
                ssy = syy - sy * sy / n
                ssy = 0.0 if ssy < 0.0 else ssy
                cxy = sxy - sx * sy / n
                flag = n >= 2.0 and (ssx < Pxx[hi, c] * 1e-5 or ssy < Pyy[hi, c] * 1e-5)
                F[r, c] = flag
                nflag += flag
                O[r, c] = _finish(cxy, n, ssx, ssy, kind, minp, ddof)
        if nflag:
            for r in range(b1 - b0):
                for c in range(cw):
                    if F[r, c]:
                        yc = y[:, c] if ny > 1 else y[:, 0]
                        t = b0 + r
                        n, _, ssx, _, ssy, cxy = _two_pass_col(
                            src[:, c], yc, True, max(0, t - window + 1), t
                        )
                        O[r, c] = _finish(cxy, n, ssx, ssy, kind, minp, ddof)
        for c in range(cw):
            oc = out[:, c]
            for r in range(b1 - b0):
                oc[b0 + r] = O[r, c]
    _note_inf(src, seen, bad)


@nb.njit(inline="always", **_OPTS)
def _finish(cxy, n, ssx, ssy, kind, minp, ddof):
    """cov / corr / beta from the co-moment and sums of squares (``_rolling._finish_pair``)."""
    if kind == KIND_COV:
        val = cxy / (n - ddof)
        isbad = n < minp or n <= ddof
    elif kind == KIND_CORR:
        val = cxy / np.sqrt(ssx * ssy)
        val = 1.0 if val > 1.0 else (-1.0 if val < -1.0 else val)
        isbad = n < minp or n < 2.0 or ssx == 0.0 or ssy == 0.0
    else:
        val = cxy / ssy
        isbad = n < minp or n < 2.0 or ssy == 0.0
    return np.nan if isbad else val


@nb.njit(parallel=True, **_OPTS)
def pair_kernel(x, y, out, window, minp, ddof, B, kind):
    """Rolling cov (kind 0), corr (1) or beta (2) of every column of ``x`` on ``y``.

    ``y`` is (T, 1) - one series for every column, never broadcast to (T, N) -
    or (T, N), one per column. Returns the first +-inf row of ``x`` per column.
    """
    N = x.shape[1]
    ny = y.shape[1]
    bad = np.full(N, -1, dtype=np.int64)
    ntiles = (N + TILE - 1) // TILE
    for q in nb.prange(ntiles):
        j0 = q * TILE
        j1 = min(N, j0 + TILE)
        if ny > 1:
            _pair_tile(
                x[:, j0:j1], y[:, j0:j1], out[:, j0:j1], window, minp, ddof, B, kind, bad[j0:j1]
            )
        else:
            _pair_tile(x[:, j0:j1], y, out[:, j0:j1], window, minp, ddof, B, kind, bad[j0:j1])
    return bad
