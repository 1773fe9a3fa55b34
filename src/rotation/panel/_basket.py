"""Basket indices: equal- and cap-weighted, with a rebalancing rule and no look-ahead.

Definition
----------
Let :math:`P_{i,t}` be member prices (NaN = no price) and :math:`w_{i,t-1}`
the weights held at the close of :math:`t-1`. The index is

.. math::

    R_t = \\sum_i w_{i,t-1} \\, \\tilde r_{i,t}, \\qquad L_t = L_{t-1}(1 + R_t),\\ L_{t_0} = \\text{base}

with :math:`\\tilde r_{i,t} = P_{i,t}/P_{i,s} - 1`, *s* the member's last date
with a price before *t*, when :math:`P_{i,t}` exists, and 0 when it does not
(a gap or a delisting: the position is held at its last price). So a gap
contributes 0 on its missing dates and its whole move on the next price, as a
portfolio holding the shares would. When *no* held member has a price on a row
(every feed stopped, e.g. after the data's end) the level and return are NaN
there, not flat; the index resumes from its last level when one trades again. Between rebalances weights drift with
returns (buy and hold),

.. math::

    w_{i,t} = \\frac{w_{i,t-1}(1+\\tilde r_{i,t})}{1 + R_t},

and on the first date of a new rebalancing period (``D``: every row, ``W``:
W-FRI weeks, ``M``, ``Q``) they are reset to their targets computed from the
previous close only: equal weights :math:`1/n` over the eligible members, or
cap weights :math:`C_{i,t-1}/\\sum_j C_{j,t-1}`. A member is eligible at a
reset when it has a price (and, for cap weighting, a positive market cap) at
:math:`t-1`; so a late listing joins at the first reset after its first price,
and a delisted member (or one inside a gap on the reset's eve) leaves at the
first reset after its last price. The index starts (``base``) on the first
date with ``min_members`` eligible members, with targets from that date's
close. Nothing at :math:`t` or later is used to set the weights applied to
:math:`R_t`, hence appending rows never changes past index values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rotation.errors import DataError, ParameterError

__all__ = ["REBALANCE_RULES", "BasketIndex", "basket_index"]

REBALANCE_RULES = ("D", "W", "M", "Q")


@dataclass(frozen=True)
class BasketIndex:
    """A basket index and how it was built.

    Attributes
    ----------
    level : Series (T,)
        Index level, ``base`` on the first date with enough eligible members, NaN before.
    returns : Series (T,)
        Simple index returns :math:`R_t`; NaN before the start.
    weights : DataFrame (T, N)
        Weights :math:`w_{i,t-1}` applied to the returns of date ``t``.
    n_members : Series (T,)
        Members with non-zero weight on each date (0 on the start date, which
        has no return).
    weighting, rebalance : str
    notes : list of str
        What a reader should know (members never eligible, cap fallbacks).
    """

    level: pd.Series
    returns: pd.Series
    weights: pd.DataFrame
    n_members: pd.Series
    weighting: str
    rebalance: str
    notes: list[str] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"level": self.level, "return": self.returns, "n_members": self.n_members})


def _period_keys(index: pd.DatetimeIndex, rule: str) -> np.ndarray:
    if rule == "D":
        return np.arange(len(index))
    if rule == "W":
        return index.to_period("W-FRI").asi8
    if rule == "M":
        return index.to_period("M").asi8
    return index.to_period("Q").asi8


def basket_index(
    prices: pd.DataFrame,
    members: Sequence[str] | None = None,
    *,
    weighting: str = "equal",
    caps: pd.DataFrame | None = None,
    rebalance: str | None = None,
    base: float = 100.0,
    min_members: int = 1,
    name: str | None = None,
) -> BasketIndex:
    """Build a basket index from member prices.

    Parameters
    ----------
    prices : DataFrame (T, N)
        Member prices (adjusted closes for a total-return index), ascending
        ``DatetimeIndex``. NaN = no price (not listed yet, gap, delisted);
        non-positive prices are treated as NaN.
    members : sequence of str, optional
        Columns to use (default: all columns). Members absent from ``prices``
        are reported in ``notes`` and ignored.
    weighting : {"equal", "cap"}
    caps : DataFrame (T, N), optional
        Market caps, required for ``weighting="cap"``; same index as ``prices``.
    rebalance : {"D", "W", "M", "Q"}, optional
        Reset frequency. Default: ``"D"`` for cap (a float-cap index), ``"M"``
        for equal weighting.
    base : float
        Level on the start date.
    min_members : int
        The index starts on the first date at least this many members are
        eligible; a reset with fewer eligible members keeps the drifted weights.
    name : str, optional
        Name given to the level and return Series.

    Returns
    -------
    BasketIndex

    Raises
    ------
    ParameterError
        Unknown weighting or rule, caps missing or misaligned.
    DataError
        No member ever eligible.
    """
    if weighting not in {"equal", "cap"}:
        raise ParameterError("weighting", f"must be 'equal' or 'cap', got {weighting!r}")
    rule = rebalance or ("D" if weighting == "cap" else "M")
    if rule not in REBALANCE_RULES:
        raise ParameterError("rebalance", f"must be one of {REBALANCE_RULES}, got {rule!r}")
    if isinstance(min_members, bool) or not isinstance(min_members, int | np.integer) or min_members < 1:
        raise ParameterError("min_members", f"must be an integer of at least 1, got {min_members!r}")
    if not isinstance(prices.index, pd.DatetimeIndex):
        raise ParameterError("prices", "needs a DatetimeIndex")
    if not (prices.index.is_monotonic_increasing and prices.index.is_unique):
        raise ParameterError("prices", "index must be ascending without duplicate dates")
    notes: list[str] = []
    wanted = list(members) if members is not None else list(prices.columns)
    missing = [m for m in wanted if m not in prices.columns]
    if missing:
        notes.append(f"no prices for {', '.join(missing)}: left out")
    cols = [m for m in wanted if m in prices.columns]
    if not cols:
        raise DataError(f"basket {name or ''} has no member with prices".replace("  ", " "))
    px = prices[cols].to_numpy(dtype="float64")
    px = np.where(px > 0, px, np.nan)  # a non-positive price is no price (NaN compares False)
    if weighting == "cap":
        if caps is None:
            raise ParameterError("caps", "cap weighting needs market caps")
        if not caps.index.equals(prices.index):
            raise ParameterError("caps", "caps must share the prices' index")
        cap = caps.reindex(columns=cols).to_numpy(dtype="float64")
        never = [c for c, ok in zip(cols, np.isfinite(cap).any(axis=0), strict=True) if not ok]
        if never:
            notes.append(f"no market cap for {', '.join(never)}: excluded from the cap-weighted index")
    else:
        cap = None

    T, N = px.shape
    # Return against the last known price: a gap's move is picked up on the next price.
    last_known = pd.DataFrame(px).ffill().to_numpy()
    prev = np.vstack([np.full((1, N), np.nan), last_known[:-1]])
    with np.errstate(invalid="ignore", divide="ignore"):
        rets = px / prev - 1.0
    rets_filled = np.where(np.isfinite(rets), rets, 0.0)
    eligible = np.isfinite(px) & (px > 0)
    if cap is not None:
        eligible &= np.isfinite(cap) & (cap > 0)

    keys = _period_keys(pd.DatetimeIndex(prices.index), rule)
    weights = np.zeros((T, N))
    index_ret = np.full(T, np.nan)
    level = np.full(T, np.nan)
    has_price = np.isfinite(px)
    # Precomputed per row (the loop below is the cost of an index): reset flags, and 1 + r
    # (the same additions the drift would make row by row, so the results are bit-identical).
    reset_row = np.zeros(T, dtype=bool)
    reset_row[1:] = keys[1:] != keys[:-1]
    growth = 1.0 + rets_filled
    # The start: the first row with enough eligible members (and targets), found without a
    # Python loop over the often long history before the basket exists.
    started, t0 = False, T
    for t in np.flatnonzero(np.count_nonzero(eligible, axis=1) >= min_members):
        target = _targets(eligible[t], None if cap is None else cap[t])
        if target is not None:
            started, t0 = True, int(t)
            level[t] = last_level = base
            w = target
            break
    for t in range(t0 + 1, T):
        if reset_row[t]:
            target = _targets(eligible[t - 1], None if cap is None else cap[t - 1])
            if target is not None and np.count_nonzero(target) >= min_members:
                w = target
        weights[t] = w
        if not (has_price[t] & (w > 0)).any():
            # No held member has a price on this row (every feed stopped or paused): the
            # basket has no level here rather than a flat one; it resumes from the last
            # level when a held member trades again.
            continue
        R = float(w @ rets_filled[t])
        index_ret[t] = R
        level[t] = last_level = last_level * (1.0 + R)
        grown = w * growth[t]
        total = grown.sum()
        w = grown / total if total > 0 else grown
    idx = prices.index
    level_s = pd.Series(level, index=idx, name=name)
    if not started:
        raise DataError(f"basket {name or ''}: never {min_members} eligible member(s)".replace("  ", " "))
    return BasketIndex(
        level=level_s,
        returns=pd.Series(index_ret, index=idx, name=name),
        weights=pd.DataFrame(weights, index=idx, columns=cols),
        n_members=pd.Series(np.count_nonzero(weights, axis=1), index=idx, name="n_members"),
        weighting=weighting,
        rebalance=rule,
        notes=notes,
    )


def _targets(eligible: np.ndarray, cap: np.ndarray | None) -> np.ndarray | None:
    if not eligible.any():
        return None
    if cap is None:
        return eligible / eligible.sum()
    c = np.where(eligible, cap, 0.0)
    total = c.sum()
    return c / total if total > 0 else None
