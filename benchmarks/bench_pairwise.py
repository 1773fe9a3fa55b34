"""Pairwise co-movement (issue 7, benchmark 2).

``pairwise.corr_matrix``
    Rolling 60-day correlation matrix of 500 instruments over 2,500 days (full
    profile): ``rotation.analytics._pairwise.iter_rolling_corr`` streams every
    one of the 2,500 matrices; the consumer reduces each to its mean pairwise
    correlation and keeps the full matrix on every 25th date for the check.
    Baseline: pandas ``rolling(60).corr()`` (pairwise). Its complete result is
    2,500 x 500 x 500 float64 = 5 GB plus a MultiIndex, so it is run over
    100-column blocks (quick: 50, tiny: 7;``df[A].rolling(60).corr(df[B], pairwise=True)`` for
    each block pair, the diagonal blocks with pandas' symmetric shortcut): the
    same pandas kernel on the same 125,250 column pairs, reduced the same way,
    without ever holding 5 GB.
``pairwise.lead_lag``
    Cross-correlation at lags -10..10 of every pair of 20 basket-like series
    (190 pairs, 2,500 days): ``_pairwise.lead_lag_corr`` vs the pandas loop
    ``x.corr(y.shift(k))`` over pairs and lags.
``pairwise.cross_correlation``
    The user-facing single-pair ``comovement.cross_correlation`` (Box-Jenkins
    estimator with Bartlett bands) looped over the same 190 pairs, vs a loop of
    ``statsmodels.tsa.stattools.ccf`` (same estimator, no bands): informational,
    agreement target only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmarks._data import factor_panel
from benchmarks._harness import Context, Target, compare_arrays, merge_checks

SIZES = {"full": (2500, 500), "quick": (1000, 120), "tiny": (300, 20)}
BLOCKS = {"full": 100, "quick": 50, "tiny": 7}
BASKETS = {"full": 20, "quick": 20, "tiny": 6}
WINDOW = 60
MAX_LAG = 10
CHECK_EVERY = 25
TARGET = Target(min_ratio=10, max_rel_err=1e-9)


def _ours_corr(returns: pd.DataFrame, keep: bool = True):
    from rotation.analytics._pairwise import iter_rolling_corr

    T, N = returns.shape
    iu = np.triu_indices(N, k=1)
    mean = np.full(T, np.nan)
    kept = {}
    for t, m in iter_rolling_corr(returns, WINDOW):
        upper = m[iu]
        ok = np.isfinite(upper)
        if ok.any():
            mean[t] = upper[ok].mean()
        if keep and t % CHECK_EVERY == 0:
            kept[t] = m
    return mean, kept


def _baseline_corr(returns: pd.DataFrame, block: int):
    T, N = returns.shape
    total = np.zeros(T)
    count = np.zeros(T)
    kept = {t: np.full((N, N), np.nan) for t in range(0, T, CHECK_EVERY)}
    starts = list(range(0, N, block))
    for i0 in starts:
        for j0 in starts:
            if j0 < i0:
                continue
            a = returns.iloc[:, i0 : i0 + block]
            if j0 == i0:
                res = a.rolling(WINDOW).corr()  # pairwise, symmetric shortcut
            else:
                res = a.rolling(WINDOW).corr(returns.iloc[:, j0 : j0 + block], pairwise=True)
            nb_i = a.shape[1]
            # pandas lays the result out as rows (date, column of the *other* block) x columns of `a`
            vals = res.to_numpy().reshape(T, -1, nb_i).transpose(0, 2, 1)  # [t, i in a, j in other]
            if j0 == i0:
                tri = np.triu(np.ones((nb_i, nb_i), dtype=bool), k=1)
                sel = vals[:, tri]
            else:
                sel = vals.reshape(T, -1)
            ok = np.isfinite(sel)
            total += np.where(ok, sel, 0.0).sum(axis=1)
            count += ok.sum(axis=1)
            for t, m in kept.items():
                m[i0 : i0 + nb_i, j0 : j0 + vals.shape[2]] = vals[t]
                m[j0 : j0 + vals.shape[2], i0 : i0 + nb_i] = vals[t].T
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / count, np.nan)
    return mean, kept


def _check_corr(ours, base) -> dict:
    mean_o, kept_o = ours
    mean_b, kept_b = base
    dates = sorted(kept_b)
    full = compare_arrays(np.stack([kept_o[t] for t in dates]), np.stack([kept_b[t] for t in dates]))
    return merge_checks(full, compare_arrays(mean_o, mean_b)) | {"checked_dates": len(dates)}


def _basket_pairs(T: int, k: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """k basket-like return series (some lagging others), as x/y frames of all k(k-1)/2 pairs."""
    rng = np.random.default_rng(11)
    f = rng.standard_normal(T + MAX_LAG) * 0.01
    cols = {}
    for i in range(k):
        lag = i % 4
        cols[f"B{i:02d}"] = 0.6 * f[MAX_LAG - lag : MAX_LAG - lag + T] + rng.standard_normal(T) * 0.01
    frame = pd.DataFrame(cols, index=pd.bdate_range(end="2025-12-31", periods=T))
    frame.iloc[: T // 10, 1] = np.nan  # a late-starting basket
    frame[frame.abs() > 0.035] = np.nan  # and a few holes
    pairs = [(a, b) for i, a in enumerate(frame.columns) for b in frame.columns[i + 1 :]]
    x = frame[[a for a, _ in pairs]]
    y = frame[[b for _, b in pairs]]
    x.columns = y.columns = [f"{a}~{b}" for a, b in pairs]
    return x, y


def run(ctx: Context) -> None:
    T, N = SIZES[ctx.profile]
    size = f"{T:,} days x {N} instr."
    if ctx.wants("pairwise.corr_matrix"):
        prices, _ = factor_panel(T, N, seed=3)
        returns = prices / prices.shift(1) - 1.0
        heavy = ctx.profile == "full"
        block = BLOCKS[ctx.profile]
        ctx.compare(
            "pairwise.corr_matrix", size,
            lambda: _ours_corr(returns),
            baseline=lambda: _baseline_corr(returns, block),
            baseline_label=f"pandas rolling(60).corr() pairwise, {block}-column blocks",
            check=_check_corr, target=TARGET, input_bytes=returns.to_numpy().nbytes,
            baseline_repeat=1 if heavy else None, baseline_warmup=0 if heavy else None,
            memory_fn=lambda: _ours_corr(returns, keep=False),
            notes=[f"all {T} matrices computed (streamed); full matrices compared every {CHECK_EVERY}th date, "
                   "mean pairwise correlation compared on every date; peak MB of the streaming alone "
                   "(without the matrices kept for the check)"],
        )

    k = BASKETS[ctx.profile]
    x, y = _basket_pairs(T, k)
    lsize = f"{T:,} days x {x.shape[1]} pairs x {2 * MAX_LAG + 1} lags"
    if ctx.wants("pairwise.lead_lag"):
        from rotation.analytics._pairwise import lead_lag_corr

        def base_ll():
            return np.array([[x.iloc[:, p].corr(y.iloc[:, p].shift(k)) for p in range(x.shape[1])]
                             for k in range(-MAX_LAG, MAX_LAG + 1)])

        ctx.compare(
            "pairwise.lead_lag", lsize,
            lambda: lead_lag_corr(x, y, MAX_LAG).corr.to_numpy(),
            baseline=base_ll,
            baseline_label="loop of x.corr(y.shift(k))",
            check=compare_arrays, target=TARGET,
        )

    if ctx.wants("pairwise.cross_correlation"):
        from statsmodels.tsa.stattools import ccf

        from rotation.analytics.comovement import cross_correlation

        # cross_correlation needs an unbroken common sample: use the complete rows of each pair
        xs = x.fillna(0.0)
        ys = y.fillna(0.0)

        def ours_cc():
            return np.array([cross_correlation(xs.iloc[:, p], ys.iloc[:, p], MAX_LAG).correlation
                             for p in range(xs.shape[1])])

        def base_cc():
            out = []
            for p in range(xs.shape[1]):
                a, b = xs.iloc[:, p].to_numpy(), ys.iloc[:, p].to_numpy()
                pos = ccf(a, b, adjusted=False, nlags=MAX_LAG + 1)  # r(k) = corr(a_{t+k}, b_t), k >= 0
                neg = ccf(b, a, adjusted=False, nlags=MAX_LAG + 1)
                out.append(np.concatenate([neg[1:][::-1], pos]))
            return np.array(out)

        ctx.compare(
            "pairwise.cross_correlation", lsize,
            ours_cc,
            baseline=base_cc,
            baseline_label="loop of statsmodels ccf (both directions)",
            check=compare_arrays, target=Target(max_rel_err=1e-9),
            notes=["user-facing single-pair API incl. Bartlett bands and validation, so no speed target: "
                   "the issue's lead-lag target is pairwise.lead_lag's; gaps filled with 0 first "
                   "(it requires an unbroken sample)"],
        )
