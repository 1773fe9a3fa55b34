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
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rotation.claims._verdict import Interval
from rotation.errors import DataError, ParameterError

__all__ = ["BootstrapResult", "block_bootstrap", "decide_interval", "decide_p"]


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


def _block_length(data: np.ndarray, kind: str, block_length: int | str) -> int:
    n = data.shape[0]
    if block_length != "auto":
        b = int(block_length)
        if b < 1:
            raise ParameterError("block_length", f"must be at least 1, got {b}")
        return min(b, max(1, n // 2))
    from arch.bootstrap import optimal_block_length

    opt = optimal_block_length(data)
    b = float(np.nanmax(opt[kind].to_numpy()))
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

    Returns
    -------
    BootstrapResult

    Raises
    ------
    DataError
        Fewer than 10 rows, or NaN in ``data``.
    """
    from arch.bootstrap import CircularBlockBootstrap, StationaryBootstrap

    x = np.asarray(data, dtype=float)
    if x.shape[0] < 10:
        raise DataError(f"block bootstrap: {x.shape[0]} rows, at least 10 needed")
    if not np.isfinite(x).all():
        raise DataError("block bootstrap: the data contain NaN or infinite values")
    if kind not in {"stationary", "circular"}:
        raise ParameterError("bootstrap", f"must be 'stationary' or 'circular', got {kind!r}")
    b = _block_length(x, kind, block_length)
    cls = StationaryBootstrap if kind == "stationary" else CircularBlockBootstrap
    bs = cls(b, x, seed=np.random.default_rng(int(seed)))
    dist = np.asarray(bs.apply(lambda rows: np.atleast_1d(statistic(rows)), int(reps)), dtype=float)[:, 0]
    est = float(statistic(x))
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
