"""Uncertainty and decision helpers shared by the claims.

Block bootstrap
---------------
Daily returns are autocorrelated and heteroskedastic, so an i.i.d. bootstrap
understates uncertainty. :func:`block_bootstrap` resamples whole rows (all
columns of a row together, keeping the cross-correlation of paired series) in
blocks with :mod:`arch`'s ``StationaryBootstrap`` (Politis-Romano, geometric
block lengths with mean ``b``) or ``CircularBlockBootstrap`` (fixed ``b``),
seeded with ``numpy.random.default_rng(seed)`` so that the same data and seed
give the same numbers. ``b`` is either given or chosen by the Politis-White
(2004, with Patton-Politis-White 2009 correction) rule
(``arch.bootstrap.optimal_block_length``; the largest over the columns,
rounded up, at least 1, at most ``n // 4``).

Interval: the **percentile** interval of the bootstrap distribution,
``[q_{(1-level)/2}, q_{(1+level)/2}]``. P-value: the bootstrap two-sided
p-value that matches it, ``p = min(1, 2 min(#{theta* <= 0} + 1, #{theta* >= 0} + 1) / (B + 1))``:
the percentile interval at level ``1 - p`` just reaches zero (the +1 terms keep
``p`` above zero with a finite number ``B`` of replications).

Speed. The resampled row indices are arch's, drawn here without importing arch
(its import pulls in matplotlib and numba, ~1-2 s of every ``rotation claims``
and ``rotation report`` run): the same generator calls in the same order per
replication (``integers`` then ``random`` for the stationary bootstrap, one
``integers`` per replication for the circular one), with the blocks assembled
for all replications at once; likewise :func:`optimal_block_length` is arch's
Politis-White code. ``tests/claims/test_bootstrap_exact.py`` checks both against
arch (the reference, still installed) with ``==``, which is why the interval's
method still names arch. A claim may pass a ``batch`` statistic that evaluates
many resamples as array operations instead of one Python call per replication
(same operations in the same order, so the same bits; tested per claim).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from rotation.claims._verdict import Interval
from rotation.errors import DataError, ParameterError

__all__ = ["BootstrapResult", "block_bootstrap", "decide_interval", "decide_p", "optimal_block_length",
           "resample_indices", "sum_rows"]

#: Replications resampled per array operation (bounds the memory of a batch statistic to ~chunk x rows x cols).
_CHUNK = 256


@dataclass(frozen=True, eq=False)
class BootstrapResult:
    """A statistic with its block-bootstrap distribution.

    Attributes
    ----------
    estimate : float
        The statistic on the data.
    lo, hi : float
        Percentile interval at ``level``.
    level : float
    se : float
        Standard deviation of the bootstrap distribution.
    p_value : float
        Bootstrap two-sided p-value of "statistic = 0" (see module notes).
    reps, block_length : int
    kind : str
        ``stationary`` or ``circular``.
    n : int
        Rows resampled.
    distribution : ndarray (reps,)
    """

    estimate: float
    lo: float
    hi: float
    level: float
    se: float
    p_value: float
    reps: int
    block_length: int
    kind: str
    n: int
    distribution: np.ndarray

    @property
    def method(self) -> str:
        mean = "mean " if self.kind == "stationary" else ""
        return (f"{self.kind} block bootstrap (arch), percentile interval, {self.reps} reps, "
                f"{mean}block length {self.block_length} rows, n = {self.n}")

    def interval(self) -> Interval:
        return Interval(lo=self.lo, hi=self.hi, level=self.level, method=self.method)


def _single_optimal_block(x: np.ndarray) -> tuple[float, float]:
    # arch.bootstrap.base._single_optimal_block (arch 8, NCSA licence), operation for operation,
    # so that the block length - and with it every interval - is arch's to the last bit
    nobs = x.shape[0]
    eps = x - x.mean(0)
    b_max = np.ceil(min(3 * np.sqrt(nobs), nobs / 3))
    kn = max(5, int(np.log10(nobs)))
    m_max = int(np.ceil(np.sqrt(nobs))) + kn
    # first run of kn autocorrelations inside the band
    cv = 2 * np.sqrt(np.log10(nobs) / nobs)
    acv = np.zeros(m_max + 1)
    abs_acorr = np.zeros(m_max + 1)
    opt_m: int | None = None
    for i in range(m_max + 1):
        v1 = eps[i + 1 :] @ eps[i + 1 :]
        v2 = eps[: -(i + 1)] @ eps[: -(i + 1)]
        cross_prod = eps[i:] @ eps[: nobs - i]
        acv[i] = cross_prod / nobs
        abs_acorr[i] = np.abs(cross_prod) / np.sqrt(v1 * v2)
        if i >= kn:
            if np.all(abs_acorr[i - kn : i] < cv) and opt_m is None:
                opt_m = i - kn
    m = 2 * max(opt_m, 1) if opt_m is not None else m_max
    m = min(m, m_max)

    g = 0.0
    lr_acv = acv[0]
    for k in range(1, m + 1):
        lam = 1 if k / m <= 1 / 2 else 2 * (1 - k / m)
        g += 2 * lam * k * acv[k]
        lr_acv += 2 * lam * acv[k]
    d_sb = 2 * lr_acv**2
    d_cb = 4 / 3 * lr_acv**2
    b_sb = ((2 * g**2) / d_sb) ** (1 / 3) * nobs ** (1 / 3)
    b_cb = ((2 * g**2) / d_cb) ** (1 / 3) * nobs ** (1 / 3)
    b_sb = min(b_sb, b_max)
    b_cb = min(b_cb, b_max)
    return b_sb, b_cb


def optimal_block_length(data: np.ndarray) -> np.ndarray:
    """Politis-White (2004; Patton-Politis-White 2009) optimal block lengths, per column.

    The same numbers as ``arch.bootstrap.optimal_block_length`` (its code, without importing arch).

    Parameters
    ----------
    data : ndarray (n,) or (n, k)
        Rows in time order, no NaN.

    Returns
    -------
    ndarray (k, 2)
        Per column: the stationary and the circular bootstrap's block length (not rounded).
    """
    x = np.asarray(data, dtype=float)
    x = x[:, None] if x.ndim == 1 else x
    return np.array([_single_optimal_block(col) for col in x.T], dtype=float).reshape(-1, 2)


def resample_indices(n: int, block_length: int, kind: str, rng: np.random.Generator,
                     reps: int) -> Iterator[np.ndarray]:
    """Row indices of ``reps`` block-bootstrap resamples, in chunks of at most ``_CHUNK`` replications.

    Exactly the indices arch's ``StationaryBootstrap`` / ``CircularBlockBootstrap``
    draw from the same generator: per replication, the stationary bootstrap draws
    ``rng.integers(n, size=n)`` (candidate block starts) then ``rng.random(n)``
    (a new block starts at row ``i > 0`` when ``u_i <= 1 / block_length``,
    else the index advances by one, wrapping at ``n``); the circular one draws
    ``rng.integers(n, size=ceil(n / block_length))`` block starts. The draws
    must stay per replication (the generator's stream interleaves them); the
    blocks are then assembled for the whole chunk at once.

    Yields
    ------
    ndarray (m, n) of int64
        ``m <= _CHUNK`` replications per chunk, in replication order.
    """
    pos = np.arange(n, dtype=np.int64)
    for first in range(0, reps, _CHUNK):
        m = min(_CHUNK, reps - first)
        if kind == "stationary":
            starts = np.empty((m, n), dtype=np.int64)
            u = np.empty((m, n))
            for i in range(m):
                starts[i] = rng.integers(n, size=n, dtype=np.int64)
                u[i] = rng.random(n)
            new = u <= 1.0 / block_length
            new[:, 0] = True
            # row of the current block's start; the index runs on from that start's draw
            began = np.maximum.accumulate(np.where(new, pos, 0), axis=1)
            yield (np.take_along_axis(starts, began, axis=1) + (pos - began)) % n
        else:
            n_blocks = -(-n // block_length)
            starts = np.empty((m, n_blocks), dtype=np.int64)
            for i in range(m):
                starts[i] = rng.integers(n, size=n_blocks, dtype=np.int64)
            idx = (starts[:, :, None] + np.arange(block_length, dtype=np.int64)).reshape(m, -1) % n
            yield idx[:, :n]


def sum_rows(samples: np.ndarray) -> np.ndarray:
    """``np.sum`` of each resample: ``(m, n) -> (m,)`` (the ``batch`` of a sum of 1-D data).

    A reduction along the contiguous last axis uses numpy's pairwise summation per
    row, as ``np.sum`` of the 1-D resample does, so the sums are bit for bit equal.
    """
    return samples.sum(axis=1)


def _block_length(data: np.ndarray, kind: str, block_length: int | str) -> int:
    n = data.shape[0]
    if block_length != "auto":
        b = int(block_length)
        if b < 1:
            raise ParameterError("block_length", f"must be at least 1, got {b}")
        return min(b, max(1, n // 2))
    opt = optimal_block_length(data)
    b = float(np.nanmax(opt[:, 0 if kind == "stationary" else 1]))
    b = 1.0 if not math.isfinite(b) else b
    return int(min(max(1, math.ceil(b)), max(1, n // 4)))


def block_bootstrap(
    data: np.ndarray,
    statistic: Callable[[np.ndarray], float],
    *,
    reps: int,
    seed: int,
    level: float = 0.95,
    kind: str = "stationary",
    block_length: int | str = "auto",
    batch: Callable[[np.ndarray], np.ndarray] | None = None,
) -> BootstrapResult:
    """Block-bootstrap distribution, percentile interval and p-value of a statistic.

    Parameters
    ----------
    data : ndarray (n,) or (n, k)
        Rows in time order, no NaN (rows are resampled whole).
    statistic : callable
        ``statistic(rows) -> float`` on an array shaped like ``data``.
    reps : int
        Bootstrap replications (``B``).
    seed : int
        Seed of ``numpy.random.default_rng``.
    level : float
        Confidence level of the percentile interval.
    kind : {"stationary", "circular"}
    block_length : int or "auto"
    batch : callable, optional
        ``statistic`` for many resamples at once, as array operations:
        ``batch(samples) -> (m,)`` for ``samples`` of shape ``(m, n)`` or ``(m, n, k)``
        (``m`` resamples of ``data``). It must give exactly ``statistic`` of each
        resample (same operations in the same order: the claims' tests check it);
        without it ``statistic`` is called once per replication.

    Returns
    -------
    BootstrapResult

    Raises
    ------
    DataError
        Fewer than 10 rows, or NaN in ``data``.
    """
    x = np.asarray(data, dtype=float)
    if x.shape[0] < 10:
        raise DataError(f"block bootstrap: {x.shape[0]} rows, at least 10 needed")
    if not np.isfinite(x).all():
        raise DataError("block bootstrap: the data contain NaN or infinite values")
    if kind not in {"stationary", "circular"}:
        raise ParameterError("bootstrap", f"must be 'stationary' or 'circular', got {kind!r}")
    b = _block_length(x, kind, block_length)
    est = float(statistic(x))  # first, as arch's apply did: an error of the data itself is the one raised
    reps = int(reps)
    dist = np.empty(reps)
    done = 0
    for idx in resample_indices(x.shape[0], b, kind, np.random.default_rng(int(seed)), reps):
        m = idx.shape[0]
        if batch is not None:
            dist[done : done + m] = batch(x[idx])
        else:
            for i in range(m):
                dist[done + i] = np.atleast_1d(statistic(x[idx[i]]))[0]
        done += m
    tail = (1.0 - level) / 2.0
    lo, hi = (float(v) for v in np.quantile(dist, [tail, 1.0 - tail]))
    le, ge = int((dist <= 0).sum()), int((dist >= 0).sum())
    p = min(1.0, 2.0 * (min(le, ge) + 1) / (reps + 1))
    return BootstrapResult(
        estimate=est, lo=lo, hi=hi, level=float(level), se=float(dist.std(ddof=1)), p_value=p,
        reps=int(reps), block_length=b, kind=kind, n=int(x.shape[0]), distribution=dist,
    )


def decide_interval(lo: float, hi: float, *, supports: str = "positive") -> str:
    """Verdict from an interval: it must exclude zero on the side the claim predicts.

    ``supports="positive"``: supported when ``lo > 0``, contradicted when ``hi < 0``;
    ``"negative"``: the mirror image. Otherwise (zero inside) inconclusive.
    """
    if supports not in {"positive", "negative"}:
        raise ParameterError("supports", f"must be 'positive' or 'negative', got {supports!r}")
    if lo > 0.0:
        return "supported" if supports == "positive" else "contradicted"
    if hi < 0.0:
        return "contradicted" if supports == "positive" else "supported"
    return "inconclusive"


def decide_p(estimate: float, p_value: float, alpha: float, *, supports: str = "positive") -> str:
    """Verdict from a two-sided test: significant (``p < alpha``) in the predicted direction or against it."""
    if supports not in {"positive", "negative"}:
        raise ParameterError("supports", f"must be 'positive' or 'negative', got {supports!r}")
    if not (math.isfinite(p_value) and p_value < alpha) or estimate == 0.0:
        return "inconclusive"
    positive = estimate > 0.0
    return "supported" if positive == (supports == "positive") else "contradicted"
