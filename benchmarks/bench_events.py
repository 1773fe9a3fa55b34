"""Event studies (issue 7, benchmark 4).

``events.event_study``
    ``rotation.analytics.events.event_study`` on 1,000 events x 500 instruments
    (full profile) with a 250-row estimation window (gap 10, the default CAR
    windows [-1,+1], [0,+5], [0,+20], [0,+60], market model, BMP and
    Kolari-Pynnonen tests, CAR paths): generated one-factor returns over 2,500
    sessions with late listings and holes, events on random sessions of five
    kinds affecting every series, the factor as the market. Target: < 2 s.
    Baseline: the straightforward loop over events, each one vectorised over
    the instruments with numpy (masked OLS on its estimation window, then the
    CAR of every window) - the market-model CARs only, no tests. The CARs are
    compared (same exclusions: NaN where either side excludes the pair).

While ``rotation.analytics.events`` does not exist the row reports
``not_implemented``.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd

from benchmarks._data import factor_panel
from benchmarks._harness import Context, Target, compare_arrays

TARGET = Target(max_seconds=2.0, max_rel_err=1e-9)
#: (events, instruments, sessions) per profile.
SIZES = {"full": (1000, 500, 2500), "quick": (200, 100, 1000), "tiny": (20, 10, 400)}
ESTIMATION, GAP = 250, 10
WINDOWS = ((-1, 1), (0, 5), (0, 20), (0, 60))
KINDS = ("fomc_cut", "fomc_hike", "etf_approval", "listing", "deal")


def _events(index: pd.DatetimeIndex, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(23)
    rows = rng.integers(60, len(index) - 5, n)  # some with short estimation or truncated windows
    return pd.DataFrame({
        "id": [f"ev{i:04d}" for i in range(n)],
        "date": index[rows],
        "kind": rng.choice(KINDS, n),
        "affects": "all",
    })


def baseline_cars(returns: pd.DataFrame, market: pd.Series, events: pd.DataFrame, min_est: int) -> np.ndarray:
    """(E, N, W) market-model CARs, NaN where excluded: one numpy pass per event."""
    R = returns.to_numpy()
    m = market.reindex(returns.index).to_numpy()
    T, N = R.shape
    out = np.full((len(events), N, len(WINDOWS)), np.nan)
    t0s = returns.index.searchsorted(pd.DatetimeIndex(events["date"]), side="left")
    for e, t0 in enumerate(t0s):
        b = max(t0 - GAP, 0)
        a = max(b - ESTIMATION, 0)
        y, x = R[a:b], m[a:b, None]
        v = np.isfinite(y) & np.isfinite(x)
        n = v.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            xbar = np.where(v, x, 0.0).sum(axis=0) / n
            ybar = np.where(v, y, 0.0).sum(axis=0) / n
            dx = np.where(v, x - xbar, 0.0)
            dy = np.where(v, y - ybar, 0.0)
            sxx = (dx * dx).sum(axis=0)
            beta = (dx * dy).sum(axis=0) / sxx
            alpha = ybar - beta * xbar
            ssr = ((dy - beta * dx) ** 2).sum(axis=0)
        ok = (n >= min_est) & (sxx > 0) & (n - 2 >= 1) & (ssr > 0)
        for w, (lo, hi) in enumerate(WINDOWS):
            if t0 + lo < 0 or t0 + hi >= T:
                continue
            ar = R[t0 + lo : t0 + hi + 1] - alpha - beta * m[t0 + lo : t0 + hi + 1, None]
            out[e, :, w] = np.where(ok, ar.sum(axis=0), np.nan)  # NaN in the window -> NaN CAR
    return out


def _ours_cube(result, events: pd.DataFrame, columns: list[str]) -> np.ndarray:
    cars = result.cars
    labels = [f"[{a:+d},{b:+d}]".replace("+0", "0") for a, b in WINDOWS]
    e = pd.Index(events["id"]).get_indexer(cars["event"])
    s = pd.Index(columns).get_indexer(cars["series"].astype(str))
    w = pd.Index(labels).get_indexer(cars["window"])
    out = np.full((len(events), len(columns), len(WINDOWS)), np.nan)
    keep = (e >= 0) & (s >= 0) & (w >= 0)
    out[e[keep], s[keep], w[keep]] = cars["car"].to_numpy()[keep]
    return out


def run(ctx: Context) -> None:
    n_ev, n_inst, n_days = SIZES[ctx.profile]
    size = f"{n_ev:,} events x {n_inst} instr., {ESTIMATION}-day est."
    if not ctx.wants("events.event_study"):
        return
    if importlib.util.find_spec("rotation.analytics.events") is None:
        ctx.not_implemented("events.event_study", size, TARGET,
                            "event studies are issue 4 and not built yet (no rotation.analytics.events)")
        return
    from rotation.analytics.events import event_study

    prices, bench = factor_panel(n_days, n_inst, seed=29)
    returns = prices / prices.shift(1) - 1.0
    market = (bench / bench.shift(1) - 1.0).rename("MKT")
    events = _events(returns.index, n_ev)
    min_est = max(3, ESTIMATION // 2)
    cols = [str(c) for c in returns.columns]

    def ours():
        return event_study(returns, events, market=market, estimation=ESTIMATION, gap=GAP, windows=WINDOWS,
                           min_estimation=min_est)

    ctx.compare(
        "events.event_study", size, ours,
        baseline=lambda: baseline_cars(returns, market, events, min_est),
        baseline_label="loop over events, numpy over instruments (CARs only, no tests)",
        check=lambda o, b: compare_arrays(_ours_cube(o, events, cols), b),
        target=TARGET,
        notes=["ours also computes BMP / Kolari-Pynnonen tests and CAR paths; the check compares the CARs"],
    )
