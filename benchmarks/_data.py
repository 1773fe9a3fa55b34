"""Generated benchmark data: seeded, realistic enough to exercise every code path.

Prices follow a one-factor model, ``r_i,t = beta_i f_t + e_i,t`` with
``f ~ N(3e-4, 0.01)`` (the benchmark's daily return), ``beta_i ~ U(0.5, 1.5)``
and ``e ~ N(0, 0.015)``; levels start at 20-200. Two kinds of holes, as in
real panels:

* late listings: ``late_frac`` of the instruments start at a random row in the
  first 60% of the sample (NaN before);
* isolated missing prints: ``nan_frac`` of the remaining cells are NaN.

The same seed always gives the same data (numpy ``default_rng``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["factor_panel", "symbols"]


def symbols(n: int, prefix: str = "S") -> list[str]:
    width = max(4, len(str(n - 1)))
    return [f"{prefix}{i:0{width}d}" for i in range(n)]


def factor_panel(
    n_days: int,
    n_inst: int,
    *,
    seed: int = 0,
    late_frac: float = 0.2,
    nan_frac: float = 0.001,
    index: pd.DatetimeIndex | None = None,
) -> tuple[pd.DataFrame, pd.Series]:
    """Prices (T, N) with NaN holes and the benchmark level (T,) without.

    Parameters
    ----------
    n_days, n_inst : int
        T rows and N columns.
    seed : int
    late_frac : float
        Share of instruments listed late.
    nan_frac : float
        Share of cells made NaN at random (after listing).
    index : DatetimeIndex, optional
        Row labels (default: business days ending 2025-12-31).

    Returns
    -------
    prices : DataFrame (T, N), float64, columns ``S0000 ..``
    benchmark : Series (T,), named ``BENCH``
    """
    rng = np.random.default_rng(seed)
    if index is None:
        index = pd.bdate_range(end="2025-12-31", periods=n_days, name="date")
    f = rng.normal(3e-4, 0.01, n_days)
    beta = rng.uniform(0.5, 1.5, n_inst)
    # build log prices in place to keep the peak at ~2 (T, N) arrays
    logp = rng.standard_normal((n_days, n_inst))
    logp *= 0.015
    logp += np.outer(f, beta)
    np.log1p(np.maximum(logp, -0.95), out=logp)
    np.cumsum(logp, axis=0, out=logp)
    logp += np.log(rng.uniform(20, 200, n_inst))
    prices = np.exp(logp, out=logp)
    late = rng.random(n_inst) < late_frac
    starts = rng.integers(1, max(2, int(0.6 * n_days)), n_inst)
    rows = np.arange(n_days)[:, None]
    prices[(rows < starts[None, :]) & late[None, :]] = np.nan
    prices[rng.random((n_days, n_inst)) < nan_frac] = np.nan
    bench = pd.Series(100.0 * np.exp(np.cumsum(np.log1p(f))), index=index, name="BENCH")
    return pd.DataFrame(prices, index=index, columns=symbols(n_inst)), bench
