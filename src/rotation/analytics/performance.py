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

__all__ = ["BasketPerformance", "basket_indices", "basket_performance", "trailing_returns"]

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
class BasketPerformance:
    """Levels and summary statistics of several baskets over one window.

    Attributes
    ----------
    levels : DataFrame (T, B)
        Basket index levels (base 100 at each basket's start).
    trailing : DataFrame (B, 4)
        Trailing 4/13/52-week and year-to-date returns.
    risk : DataFrame (B, k)
        The risk table (see :func:`rotation.analytics.risk.risk_table`).
    indices : dict
        The :class:`~rotation.panel.BasketIndex` objects (weights, notes).
    notes : list of str
    """

    levels: pd.DataFrame
    trailing: pd.DataFrame
    risk: pd.DataFrame
    indices: dict[str, BasketIndex]
    notes: list[str] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        return self.trailing.join(self.risk, how="outer")


def basket_performance(panel: Panel, baskets: Sequence[str] | None = None) -> BasketPerformance:
    """Build every basket's index and summarise it (trailing returns and risk).

    Annualisation uses the panel's frequency (252 sessions a year for a daily
    session panel: crypto sampled on sessions moves with them; 52 for weekly).
    """
    from rotation.analytics.risk import risk_table

    indices = basket_indices(panel, baskets)
    if not indices:
        raise DataError("no basket has prices in this panel")
    levels = pd.DataFrame({name: idx.level for name, idx in indices.items()})
    returns = pd.DataFrame({name: idx.returns for name, idx in indices.items()})
    ppy = 52.0 if panel.frequency == "W" else (252.0 if panel.calendar == "sessions" else 365.0)
    risk = risk_table(returns, periods_per_year=ppy).to_frame()
    notes = [f"{name}: {n}" for name, idx in indices.items() for n in idx.notes]
    return BasketPerformance(levels=levels, trailing=trailing_returns(levels), risk=risk, indices=indices, notes=notes)
