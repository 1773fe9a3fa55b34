"""Basket performance: index levels, trailing-window returns and the risk table per basket.

This is the analytics behind the report's performance section. It builds each
basket's index from a :class:`~rotation.panel.Panel` (see
:func:`rotation.panel.basket_index` for the index definition) and summarises it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rotation.errors import DataError, ParameterError
from rotation.panel import BasketIndex, Panel

__all__ = [
    "BasketPerformance",
    "CommonWindow",
    "basket_indices",
    "basket_performance",
    "common_window",
    "rebase",
    "trailing_returns",
]

#: Trailing windows of the headline, in weeks.
TRAILING_WEEKS = (4, 13, 52)


def trailing_returns(levels: pd.DataFrame, weeks: Sequence[int] = TRAILING_WEEKS) -> pd.DataFrame:
    """Simple return of each column over the last ``w`` weeks and year to date.

    .. math:: R^{(w)} = L_{t} / L_{s} - 1,\\quad s = \\max\\{u \\le t - 7w \\text{ days}\\}

    where ``t`` is each column's last valid date. Columns whose history is
    shorter than the window get NaN.

    Parameters
    ----------
    levels : DataFrame (T, N)
        Index levels or prices.
    weeks : sequence of int

    Returns
    -------
    DataFrame (N, len(weeks) + 1)
        Columns ``4w``, ``13w``, ``52w``, ``ytd``.
    """
    if levels.empty:
        raise DataError("no levels to compute trailing returns from")
    if any(w <= 0 for w in weeks):
        raise ParameterError("weeks", "windows must be positive")
    out = {}
    for col in levels.columns:
        s = levels[col].dropna()
        row: dict[str, float] = {}
        if s.empty:
            out[col] = {f"{w}w": np.nan for w in weeks} | {"ytd": np.nan}
            continue
        end = s.index[-1]
        for w in weeks:
            past = s.loc[: end - pd.Timedelta(weeks=w)]
            row[f"{w}w"] = float(s.iloc[-1] / past.iloc[-1] - 1.0) if len(past) else np.nan
        ytd = s.loc[: pd.Timestamp(year=end.year, month=1, day=1) - pd.Timedelta(days=1)]
        row["ytd"] = float(s.iloc[-1] / ytd.iloc[-1] - 1.0) if len(ytd) else np.nan
        out[col] = row
    return pd.DataFrame.from_dict(out, orient="index")


def basket_indices(
    panel: Panel, baskets: Sequence[str] | None = None, *, min_cap_coverage: float = 0.5
) -> dict[str, BasketIndex]:
    """Index of each basket, using its configured weighting where the data allows.

    A cap-weighted basket falls back to equal weighting when fewer than
    ``min_cap_coverage`` of its members (with prices) ever have a market cap;
    the fallback is written in the index's ``notes``.
    """
    if panel.universe is None:
        raise ParameterError("panel", "needs a universe to know the baskets")
    names = list(baskets) if baskets is not None else list(panel.universe.baskets)
    out: dict[str, BasketIndex] = {}
    for name in names:
        basket = panel.universe.basket(name)
        members = [m for m in basket.members if m in panel.prices.columns and panel.prices[m].notna().any()]
        if not members:
            continue
        weighting = basket.weighting
        note = None
        if weighting == "cap":
            with_caps = [m for m in members if panel.market_caps[m].notna().any()]
            if len(with_caps) < min_cap_coverage * len(members):
                weighting = "equal"
                note = (f"cap weighting needs market caps; only {len(with_caps)} of {len(members)} members have "
                        "any, so the basket is equal-weighted")
        idx = panel.basket(name, weighting)
        if note:
            idx.notes.append(note)
        out[name] = idx
    return out


@dataclass(frozen=True)
class CommonWindow:
    """The window over which baskets are compared.

    Attributes
    ----------
    start, end : Timestamp
        ``start``: the latest first date among the compared baskets (so every
        one has a level there); ``end``: the earliest *coverage end* among them.
    ends : Series
        Basket -> coverage end: the latest date on which at least
        ``min_coverage`` of its members (with data) still had an observed,
        not forward-filled, price.
    stale : list of str
        Baskets whose coverage ends more than ``stale_days`` before the
        freshest basket's; they are left out of ``end`` (so one stale data
        feed does not drag every comparison into the past) and reported on
        their own, shorter window.
    """

    start: pd.Timestamp
    end: pd.Timestamp
    ends: pd.Series
    stale: list[str]


def common_window(
    panel: Panel,
    indices: dict[str, BasketIndex],
    *,
    min_coverage: float = 0.5,
    stale_days: int = 90,
) -> CommonWindow:
    """Common comparison window of several basket indices built from ``panel``.

    Forward-filled prices carry zero returns, so comparing a basket whose data
    stopped in July with one observed into August would compare a flat line
    with a moving one. Every comparison therefore stops at the earliest
    coverage end among the (non-stale) baskets.
    """
    if not 0 < min_coverage <= 1:
        raise ParameterError("min_coverage", "must be in (0, 1]")
    if panel.universe is None:
        raise ParameterError("panel", "needs a universe to know the baskets")
    ends: dict[str, pd.Timestamp] = {}
    starts: dict[str, pd.Timestamp] = {}
    for name, idx in indices.items():
        members = [m for m in idx.weights.columns if pd.notna(panel.last_observed.get(m, pd.NaT))]
        lasts = panel.last_observed.reindex(members).sort_values(ascending=False)
        if lasts.empty:
            continue
        k = max(1, int(np.ceil(min_coverage * len(lasts))))
        ends[name] = lasts.iloc[k - 1]
        valid = idx.level.dropna()
        if not valid.empty:
            starts[name] = valid.index[0]
    if not ends:
        raise DataError("no basket has an observed price")
    end_s = pd.Series(ends, name="coverage_end")
    freshest = end_s.max()
    stale = sorted(n for n, e in ends.items() if (freshest - e).days > stale_days)
    live = [n for n in ends if n not in stale and n in starts]
    if not live:
        live = list(starts)
    start = max(starts[n] for n in live)
    end = min(ends[n] for n in live)
    if end <= start:
        raise DataError(f"the baskets share no window (latest start {start.date()}, earliest end {end.date()})")
    return CommonWindow(start=start, end=end, ends=end_s, stale=stale)


def rebase(levels: pd.DataFrame, at: pd.Timestamp, base: float = 100.0) -> pd.DataFrame:
    """Levels divided by their value on ``at`` (or the first valid one after it), times ``base``.

    Rows before ``at`` are dropped. A column with no value on or after ``at`` is all NaN.
    """
    cut = levels.loc[at:]
    first = cut.apply(lambda c: c.dropna().iloc[0] if c.notna().any() else np.nan)
    return cut / first * base


@dataclass(frozen=True)
class BasketPerformance:
    """Levels and summary statistics of several baskets over one common window.

    Attributes
    ----------
    window : CommonWindow
        ``[start, end]`` used for every number below (stale baskets: up to their own end).
    levels : DataFrame (T, B)
        Basket index levels rebased to 100 at ``window.start``; each column
        stops at its basket's window end.
    trailing : DataFrame (B, 4)
        Trailing 4/13/52-week and year-to-date returns ending at each basket's window end.
    risk : DataFrame (B, k)
        The risk table over the window (see :func:`rotation.analytics.risk.risk_table`).
    indices : dict
        The :class:`~rotation.panel.BasketIndex` objects (full history, weights, notes).
    notes : list of str
    """

    window: CommonWindow
    levels: pd.DataFrame
    trailing: pd.DataFrame
    risk: pd.DataFrame
    indices: dict[str, BasketIndex]
    notes: list[str] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """Trailing returns, the risk table and each basket's window end, one row per basket."""
        used = self.window.ends.where(self.window.ends.index.isin(self.window.stale), self.window.end)
        return self.trailing.join(self.risk, how="outer").join(used.rename("window_end").dt.date)


def basket_performance(
    panel: Panel,
    baskets: Sequence[str] | None = None,
    *,
    min_coverage: float = 0.5,
    stale_days: int = 90,
) -> BasketPerformance:
    """Build the baskets' indices and summarise them over their common window.

    Baskets made only of stablecoins are left out (their price is pegged:
    their story is supply, see :mod:`rotation.analytics.flows`). Annualisation
    uses the panel's frequency (252 sessions a year for a daily session panel,
    on which crypto is sampled too; 52 for weekly).
    """
    from rotation.analytics.risk import risk_table

    if panel.universe is None:
        raise ParameterError("panel", "needs a universe to know the baskets")
    names = list(baskets) if baskets is not None else list(panel.universe.baskets)
    names = [
        n for n in names
        if not all(panel.universe.instrument(m).asset_class == "stablecoin" for m in panel.universe.basket(n).members)
    ]
    indices = basket_indices(panel, names)
    if not indices:
        raise DataError("no basket has prices in this panel")
    window = common_window(panel, indices, min_coverage=min_coverage, stale_days=stale_days)
    notes = [f"{name}: {n}" for name, idx in indices.items() for n in idx.notes]
    levels, returns = {}, {}
    for name, idx in indices.items():
        end = window.ends[name] if name in window.stale else window.end
        lv = idx.level.loc[: end]
        levels[name] = lv
        returns[name] = idx.returns.loc[window.start: end]
    for name in window.stale:
        notes.append(f"{name}: data coverage ends {window.ends[name].date()}, more than {stale_days} days before "
                     f"the freshest basket; shown up to then and left out of the common window")
    level_frame = pd.DataFrame(levels)
    ppy = 52.0 if panel.frequency == "W" else (252.0 if panel.calendar == "sessions" else 365.0)
    risk = risk_table(pd.DataFrame(returns), periods_per_year=ppy).to_frame()
    return BasketPerformance(
        window=window,
        levels=rebase(level_frame, window.start),
        trailing=trailing_returns(level_frame),
        risk=risk,
        indices=indices,
        notes=notes,
    )
