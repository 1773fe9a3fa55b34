"""Capital-flow proxies: market-cap shares, issuance, dollar volume, the rotation index, ETF flows.

All functions are pure (pandas in, frozen results out) and trailing: a value at
row ``t`` uses rows ``<= t`` only, so appending future data never changes a past
value. Units are those of the inputs (USD for the panel's market caps, dollar
volume and stablecoin supply).

What the data can and cannot say
--------------------------------
* A change in market cap is price times supply: only where supply (coins,
  stablecoin units, shares) is *observed* can it be split into a price effect
  and net issuance (:func:`cap_change_decomposition`). The panel's default
  ``cap_method="carry"`` extends caps at constant supply, which by construction
  has zero issuance.
* ETF creations/redemptions need shares outstanding, which rotation's data
  sources do not provide; :func:`etf_net_flows` takes them as input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rotation._typing import SeriesOrFrame
from rotation.analytics.comovement import newey_west_lags
from rotation.analytics.returns import infer_periods_per_year
from rotation.analytics._validate import check_int
from rotation.errors import DataError, ParameterError

__all__ = [
    "BasketCaps",
    "CapDecomposition",
    "CapShareResult",
    "DollarVolumeShare",
    "ETFFlows",
    "NetIssuance",
    "RotationIndexResult",
    "basket_caps",
    "cap_change_decomposition",
    "dollar_volume_share",
    "etf_net_flows",
    "market_cap_share",
    "net_issuance",
    "rotation_index",
]


# ----------------------------------------------------------------------------- helpers
def _frame(data: SeriesOrFrame | Mapping[str, pd.Series], parameter: str) -> pd.DataFrame:
    """Float frame with a sorted unique DatetimeIndex (dict of Series -> columns, outer-joined)."""
    if isinstance(data, Mapping) and not isinstance(data, pd.DataFrame | pd.Series):
        if not data:
            raise ParameterError(parameter, "is empty")
        bad = [k for k, v in data.items() if not isinstance(v, pd.Series)]
        if bad:
            raise ParameterError(parameter, f"values must be pandas Series (not for {', '.join(map(str, bad))})")
        data = pd.concat({str(k): v for k, v in data.items()}, axis=1, sort=True)
    if isinstance(data, pd.Series):
        data = data.to_frame(name=data.name if data.name is not None else "series")
    if not isinstance(data, pd.DataFrame):
        raise ParameterError(parameter, f"expected a DataFrame, Series or dict of Series, got {type(data).__name__}")
    if not isinstance(data.index, pd.DatetimeIndex):
        raise ParameterError(parameter, "index must be a DatetimeIndex (dates as rows)")
    if data.index.has_duplicates:
        raise ParameterError(parameter, f"index has duplicate dates (first {data.index[data.index.duplicated()][0].date()})")
    if not data.index.is_monotonic_increasing:
        raise ParameterError(parameter, "index must be sorted ascending")
    if data.shape[1] == 0:
        raise ParameterError(parameter, "has no columns")
    try:
        return data.astype("float64")
    except (TypeError, ValueError) as exc:
        raise ParameterError(parameter, f"values must be numeric ({exc})") from None


def _series(data: pd.Series, parameter: str) -> pd.Series:
    if not isinstance(data, pd.Series):
        raise ParameterError(parameter, f"expected a pandas Series, got {type(data).__name__}")
    return _frame(data, parameter).iloc[:, 0]


def _windows(parameter: str, windows: int | Sequence[int]) -> tuple[int, ...]:
    ws = (windows,) if isinstance(windows, int | np.integer) else tuple(windows)
    if not ws:
        raise ParameterError(parameter, "give at least one window")
    return tuple(check_int(parameter, w) for w in ws)


def _no_negative(frame: pd.DataFrame, parameter: str) -> None:
    neg = frame.lt(0.0)
    if neg.to_numpy().any():
        col = neg.any()[lambda s: s].index[0]
        when = neg.index[neg[col].to_numpy()][0]
        raise DataError(f"{parameter}: negative value in column '{col}' on {when.date()}")


def _membership(columns: pd.Index, groups: Mapping[str, Sequence[str]] | None, parameter: str) -> pd.DataFrame:
    """(N, K) 0/1 matrix mapping columns to groups (identity when ``groups`` is None)."""
    if groups is None:
        return pd.DataFrame(np.eye(len(columns)), index=columns, columns=columns)
    if not isinstance(groups, Mapping) or not groups:
        raise ParameterError(parameter, "must be a non-empty mapping of group name -> member columns")
    m = pd.DataFrame(0.0, index=columns, columns=[str(g) for g in groups])
    for g, members in groups.items():
        if isinstance(members, str):
            raise ParameterError(parameter, f"group '{g}': members must be a sequence of column names, not a string")
        found = [c for c in members if c in columns]
        if not found:
            raise ParameterError(parameter, f"group '{g}': none of its members {list(members)} is a column")
        m.loc[found, str(g)] = 1.0
    return m


def _group_sum(values: pd.DataFrame, membership: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-group sums of available members (NaN when none) and the count of members present."""
    present = np.isfinite(values.to_numpy())
    v = np.where(present, values.to_numpy(), 0.0)
    w = membership.to_numpy()
    sums = v @ w
    counts = present.astype(float) @ w
    sums[counts == 0] = np.nan
    idx, cols = values.index, membership.columns
    return pd.DataFrame(sums, index=idx, columns=cols), pd.DataFrame(counts, index=idx, columns=cols)


def _shares(parts: pd.DataFrame, require_all: bool) -> tuple[pd.DataFrame, pd.Series]:
    """Shares of the row total; rows with any part missing are NaN when ``require_all``."""
    vals = parts.to_numpy()
    present = np.isfinite(vals)
    total = np.where(present, vals, 0.0).sum(axis=1)
    ok = present.all(axis=1) if require_all else present.any(axis=1)
    ok &= total > 0
    total = np.where(ok, total, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = vals / total[:, None]
    return (
        pd.DataFrame(shares, index=parts.index, columns=parts.columns),
        pd.Series(total, index=parts.index, name="total"),
    )


def _first_last(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Per column: first and last valid value (NaN when none)."""
    first = frame.apply(lambda s: s.loc[s.first_valid_index()] if s.first_valid_index() is not None else np.nan)
    last = frame.apply(lambda s: s.loc[s.last_valid_index()] if s.last_valid_index() is not None else np.nan)
    return first.astype(float), last.astype(float)


def _rows_per_year(index: pd.DatetimeIndex) -> float:
    """Rows per year of a regular index (one rule for the package: :func:`returns.infer_periods_per_year`)."""
    if len(index) < 2:
        raise DataError("need at least two dates to infer the number of periods per year")
    return float(infer_periods_per_year(index))


# ----------------------------------------------------------------------------- basket caps
@dataclass(frozen=True)
class BasketCaps:
    """Basket market caps from member caps.

    Attributes
    ----------
    caps : DataFrame (T, K)
        Sum of the caps of the members that have one on each date (NaN when none).
    coverage : DataFrame (T, K)
        Fraction of the basket's members (present as columns) with a cap on each date.
    growth_index : DataFrame (T, K)
        Chain-linked market-cap index (base 100): each row's growth is
        :math:`\\sum_{i\\in A_t} C_{i,t} / \\sum_{i\\in A_t} C_{i,t-1}` over the members
        :math:`A_t` with a cap on both rows, so listings, delistings and data gaps
        do not register as capital moving in or out. Includes net issuance
        (unlike a price index).
    members : dict
        Basket -> member columns used.
    """

    caps: pd.DataFrame
    coverage: pd.DataFrame
    growth_index: pd.DataFrame
    members: dict[str, list[str]] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """Per basket: members used, dates, first/last cap (USD), latest coverage, index growth."""
        first_cap, last_cap = _first_last(self.caps)
        _, last_cov = _first_last(self.coverage.where(self.caps.notna()))
        _, last_idx = _first_last(self.growth_index)
        rows = {
            "members": pd.Series({k: len(v) for k, v in self.members.items()}),
            "first_date": self.caps.apply(lambda s: s.first_valid_index()),
            "last_date": self.caps.apply(lambda s: s.last_valid_index()),
            "cap_first": first_cap,
            "cap_last": last_cap,
            "coverage_last": last_cov,
            "growth_index_last": last_idx,
        }
        out = pd.DataFrame(rows)
        out.index.name = "basket"
        return out


def basket_caps(
    market_caps: pd.DataFrame,
    baskets: Mapping[str, Sequence[str]],
    *,
    base: float = 100.0,
) -> BasketCaps:
    """Sum member market caps into baskets, with coverage and a chain-linked growth index.

    Parameters
    ----------
    market_caps : DataFrame (T, N)
        Member market caps (e.g. ``panel.market_caps``), NaN where unknown.
    baskets : mapping of str -> sequence of str
        Basket name -> member columns (members that are not columns are ignored;
        a basket with none raises).
    base : float
        Level of the growth index on its first date.

    Returns
    -------
    BasketCaps
        ``caps`` (T, K) in the units of ``market_caps``, ``coverage`` (T, K) in
        [0, 1], ``growth_index`` (T, K). Computed for all baskets at once as
        (T, N) @ (N, K) matrix products.

    Notes
    -----
    Growth index: :math:`I_{t} = I_{t-1} \\cdot \\sum_{i\\in A_t} C_{i,t} / \\sum_{i\\in A_t} C_{i,t-1}`,
    :math:`A_t` = members with a positive cap on rows ``t-1`` and ``t``. A row where
    :math:`A_t` is empty is NaN and its growth is not measured (the chain resumes
    from the last level). NaN before the first row with any member cap.
    """
    caps = _frame(market_caps, "market_caps")
    _no_negative(caps, "market_caps")
    mem = _membership(caps.columns, baskets, "baskets")
    total, count = _group_sum(caps, mem)
    size = mem.sum(axis=0).to_numpy()
    coverage = count / size
    c = caps.to_numpy()
    valid = np.isfinite(c) & (c > 0)
    both = np.zeros_like(valid)
    both[1:] = valid[1:] & valid[:-1]
    now = np.where(both, c, 0.0)
    before = np.zeros_like(now)
    before[1:] = np.where(both[1:], c[:-1], 0.0)
    w = mem.to_numpy()
    num, den = now @ w, before @ w
    with np.errstate(invalid="ignore", divide="ignore"):
        growth = np.where(den > 0, num / den, np.nan)
    started = np.cumsum(np.isfinite(total.to_numpy()), axis=0) > 0
    log_g = np.where(np.isfinite(growth), np.log(growth), 0.0)
    level = base * np.exp(np.cumsum(log_g, axis=0))
    # NaN before the first cap and on rows where the chain has no link
    first_row = started & ~np.vstack([np.zeros((1, w.shape[1]), bool), started[:-1]])
    defined = np.isfinite(growth) | first_row
    level = np.where(started & defined, level, np.nan)
    members = {g: [c for c in mem.index if mem.loc[c, g] > 0] for g in mem.columns}
    return BasketCaps(
        caps=total,
        coverage=coverage,
        growth_index=pd.DataFrame(level, index=caps.index, columns=mem.columns),
        members=members,
    )


# ----------------------------------------------------------------------------- cap shares
@dataclass(frozen=True)
class CapShareResult:
    """Each basket's share of the combined market cap.

    Attributes
    ----------
    caps : DataFrame (T, K)
        Basket caps as given (units of the input, USD for the panel).
    total : Series (T,)
        Combined cap of the baskets counted on each date (NaN where shares are undefined).
    shares : DataFrame (T, K)
        :math:`s_{k,t} = C_{k,t} / \\sum_j C_{j,t}`, in [0, 1].
    require_all : bool
        Whether a date needed every basket's cap.
    """

    caps: pd.DataFrame
    total: pd.Series
    shares: pd.DataFrame
    require_all: bool

    def to_frame(self) -> pd.DataFrame:
        """Per basket: first/last date with a share, share then and now, change (percentage points), range."""
        first, last = _first_last(self.shares)
        out = pd.DataFrame(
            {
                "first_date": self.shares.apply(lambda s: s.first_valid_index()),
                "last_date": self.shares.apply(lambda s: s.last_valid_index()),
                "share_first": first,
                "share_last": last,
                "change_pp": 100.0 * (last - first),
                "share_min": self.shares.min(),
                "share_max": self.shares.max(),
            }
        )
        out.index.name = "basket"
        return out


def market_cap_share(
    caps: pd.DataFrame | Mapping[str, pd.Series],
    *,
    require_all: bool = True,
) -> CapShareResult:
    """Each basket's share of the baskets' combined market cap over time.

    .. math:: s_{k,t} = C_{k,t} \\Big/ \\sum_{j} C_{j,t}

    Parameters
    ----------
    caps : DataFrame (T, K) or dict of str -> Series
        Basket market caps (e.g. ``BasketCaps.caps`` or ``{"ai": panel.basket_caps("ai_compute"), ...}``);
        Series are outer-joined on their dates.
    require_all : bool
        True (default): a date has shares only when every basket has a cap, so a
        basket whose data starts late or ends early never shows up as a jump in
        the others' shares. False: shares among the baskets present that date.

    Returns
    -------
    CapShareResult
        Shares (T, K) summing to 1 on every defined row; NaN rows where the total
        is undefined or zero.

    Raises
    ------
    DataError
        Negative caps, or no date with a defined share.
    """
    frame = _frame(caps, "caps")
    _no_negative(frame, "caps")
    shares, total = _shares(frame, require_all)
    if not total.notna().any():
        need = "every basket" if require_all else "any basket"
        raise DataError(f"no date on which {need} has a market cap (columns: {', '.join(map(str, frame.columns))})")
    return CapShareResult(caps=frame, total=total, shares=shares, require_all=require_all)


# ----------------------------------------------------------------------------- decomposition
@dataclass(frozen=True)
class CapDecomposition:
    """Market-cap change split into a price effect and net issuance.

    Attributes
    ----------
    cap : DataFrame (T, N)
        :math:`C_t = P_t S_t`.
    cap_change : DataFrame (T, N)
        :math:`\\Delta C_t = C_t - C_{t-1}`.
    price_effect : DataFrame (T, N)
        :math:`S_{t-1} (P_t - P_{t-1})`: change at unchanged supply.
    issuance : DataFrame (T, N)
        :math:`P_t (S_t - S_{t-1})`: net issuance (minting, share issuance minus
        burns/buybacks) valued at today's price.
    """

    cap: pd.DataFrame
    cap_change: pd.DataFrame
    price_effect: pd.DataFrame
    issuance: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """Per column: totals over the rows where the split is defined, and the issuance share."""
        defined = self.cap_change.notna()
        dc = self.cap_change.where(defined).sum(min_count=1)
        pe = self.price_effect.where(defined).sum(min_count=1)
        iss = self.issuance.where(defined).sum(min_count=1)
        first, last = _first_last(self.cap)
        out = pd.DataFrame(
            {
                "cap_first": first,
                "cap_last": last,
                "cap_change": dc,
                "price_effect": pe,
                "issuance": iss,
                "issuance_share": iss / dc.where(dc != 0),
                "rows": defined.sum(),
            }
        )
        out.index.name = "series"
        return out


def cap_change_decomposition(
    prices: SeriesOrFrame,
    supply: SeriesOrFrame | None = None,
    *,
    market_caps: SeriesOrFrame | None = None,
) -> CapDecomposition:
    """Split each period's market-cap change into price effect and net issuance.

    .. math::

        \\Delta C_t = P_t S_t - P_{t-1} S_{t-1}
                   = \\underbrace{S_{t-1}(P_t - P_{t-1})}_{\\text{price effect}}
                   + \\underbrace{P_t (S_t - S_{t-1})}_{\\text{net issuance}}

    an exact identity (the two terms sum to :math:`\\Delta C_t` to rounding).

    Parameters
    ----------
    prices : DataFrame (T, N) or Series
        Prices that multiply supply into market cap: the *unadjusted* close for
        equities (``panel.close``; adjusted closes include dividends and
        would mis-state cap), the USD price for crypto.
    supply : DataFrame (T, N) or Series, optional
        Coins / tokens / shares outstanding (stablecoins: USD units).
    market_caps : DataFrame (T, N) or Series, optional
        Used when ``supply`` is not given: :math:`S_t = C_t / P_t` (implied supply).
        Caps that were carried forward at constant supply carry no issuance.

    Returns
    -------
    CapDecomposition
        (T, N) frames; a row is NaN where any of :math:`P_t, P_{t-1}, S_t, S_{t-1}`
        is missing (first row, before listing, in gaps).

    Raises
    ------
    ParameterError
        Neither ``supply`` nor ``market_caps``, or shapes/labels that do not match.
    DataError
        Negative prices or supply.
    """
    px = _frame(prices, "prices")
    if supply is None and market_caps is None:
        raise ParameterError("supply", "give supply (units outstanding) or market_caps to imply it")
    if supply is not None:
        s = _frame(supply, "supply")
        name = "supply"
    else:
        caps = _frame(market_caps, "market_caps")  # type: ignore[arg-type]
        name = "market_caps"
        s = caps
    if not s.index.equals(px.index) or list(s.columns) != list(px.columns):
        if isinstance(prices, pd.Series) and s.shape[1] == 1:
            s.columns = px.columns
        if not s.index.equals(px.index) or list(s.columns) != list(px.columns):
            raise ParameterError(name, "must have the same dates and columns as prices")
    _no_negative(px, "prices")
    _no_negative(s, name)
    if supply is None:
        with np.errstate(invalid="ignore", divide="ignore"):
            s = s / px.where(px > 0)
    p, q = px.to_numpy(), s.to_numpy()
    cap = p * q
    dc = np.full_like(cap, np.nan)
    pe = np.full_like(cap, np.nan)
    iss = np.full_like(cap, np.nan)
    dc[1:] = cap[1:] - cap[:-1]
    pe[1:] = q[:-1] * (p[1:] - p[:-1])
    iss[1:] = p[1:] * (q[1:] - q[:-1])

    def wrap(a: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(a, index=px.index, columns=px.columns)

    return CapDecomposition(cap=wrap(cap), cap_change=wrap(dc), price_effect=wrap(pe), issuance=wrap(iss))


# ----------------------------------------------------------------------------- stablecoins
@dataclass(frozen=True)
class NetIssuance:
    """Net issuance (change in supply) and its trailing sums.

    Attributes
    ----------
    supply : DataFrame (T, N+1)
        Supply per coin plus ``total`` (sum of the coins present).
    issuance : DataFrame (T, N+1)
        :math:`\\Delta S_t = S_t - S_{t-1}` per coin; ``total`` sums the coins
        with a change that row (a coin's first row adds nothing).
    rolling : dict of int -> DataFrame (T, N+1)
        Trailing sums of issuance over each window (rows), full windows only.
    growth : dict of int -> DataFrame (T, N+1)
        :math:`S_t / S_{t-w} - 1` per window.
    frequency : str
        ``"W"`` if resampled to weeks, else ``"as given"``.
    """

    supply: pd.DataFrame
    issuance: pd.DataFrame
    rolling: dict[int, pd.DataFrame]
    growth: dict[int, pd.DataFrame]
    frequency: str

    def to_frame(self) -> pd.DataFrame:
        """Per coin (and total): latest date, supply, last change, trailing sums and growth per window."""
        _, last_supply = _first_last(self.supply)
        cols: dict[str, pd.Series] = {
            "last_date": self.supply.apply(lambda s: s.last_valid_index()),
            "supply": last_supply,
            "issuance_last": _first_last(self.issuance)[1],
        }
        for w, f in self.rolling.items():
            cols[f"issuance_{w}"] = _first_last(f)[1]
        for w, f in self.growth.items():
            cols[f"growth_{w}"] = _first_last(f)[1]
        out = pd.DataFrame(cols)
        out.index.name = "series"
        return out


def net_issuance(
    supply: SeriesOrFrame,
    *,
    windows: int | Sequence[int] = (7, 30),
    weekly: bool = False,
) -> NetIssuance:
    """Stablecoin (or any token's) net issuance: change in supply, trailing sums and growth.

    .. math::

        I_t = S_t - S_{t-1}, \\qquad
        I^{(w)}_t = \\sum_{j=0}^{w-1} I_{t-j} = S_t - S_{t-w}, \\qquad
        g^{(w)}_t = S_t / S_{t-w} - 1

    Parameters
    ----------
    supply : DataFrame (T, N) or Series
        Supply in USD units for stablecoins (their market cap; ``panel.supply``
        or ``panel.market_caps``), native units otherwise.
    windows : int or sequence of int
        Trailing windows in rows (default 7 and 30 rows: a week and a month of
        every-day rows; use e.g. (4, 13) for weekly input).
    weekly : bool
        Reduce daily input to the last value of each complete W-FRI week first.

    Returns
    -------
    NetIssuance
        A ``total`` column sums the coins present on each row (supply) and the
        coins with a defined change (issuance); NaN where none. Rolling sums need
        ``w`` valid changes in the window (NaN otherwise, e.g. across a gap).

    Raises
    ------
    DataError
        Negative supply.
    """
    from rotation.analytics.rrg import to_weekly

    s = _frame(supply, "supply")
    _no_negative(s, "supply")
    ws = _windows("windows", windows)
    freq = "as given"
    if weekly:
        s = to_weekly(s)
        freq = "W"
    if "total" in s.columns:
        raise ParameterError("supply", "a column named 'total' is reserved for the sum")
    iss = s - s.shift(1)
    s_all = s.assign(total=s.sum(axis=1, min_count=1))
    iss_all = iss.assign(total=iss.sum(axis=1, min_count=1))
    rolling = {w: iss_all.rolling(w, min_periods=w).sum() for w in ws}
    # growth of the total uses the coins present at both ends (a late listing is not growth)
    growth = {}
    for w in ws:
        g = s / s.shift(w) - 1.0
        both = s.notna() & s.shift(w).notna()
        tot = s.where(both).sum(axis=1, min_count=1) / s.shift(w).where(both).sum(axis=1, min_count=1) - 1.0
        growth[w] = g.assign(total=tot)
    return NetIssuance(supply=s_all, issuance=iss_all, rolling=rolling, growth=growth, frequency=freq)


# ----------------------------------------------------------------------------- dollar volume
@dataclass(frozen=True)
class DollarVolumeShare:
    """Share of dollar volume by instrument or group.

    Attributes
    ----------
    volume : DataFrame (T, K)
        Trailing ``window``-row sums of dollar volume per group (USD).
    shares : DataFrame (T, K)
        :math:`v_{k,t} / \\sum_j v_{j,t}`.
    window : int
    require_all : bool
    """

    volume: pd.DataFrame
    shares: pd.DataFrame
    window: int
    require_all: bool

    def to_frame(self) -> pd.DataFrame:
        """Per group: first/last share, mean share, mean trailing dollar volume."""
        first, last = _first_last(self.shares)
        out = pd.DataFrame(
            {
                "first_date": self.shares.apply(lambda s: s.first_valid_index()),
                "last_date": self.shares.apply(lambda s: s.last_valid_index()),
                "share_first": first,
                "share_last": last,
                "share_mean": self.shares.mean(),
                "volume_mean": self.volume.where(self.shares.notna()).mean(),
            }
        )
        out.index.name = "group"
        return out


def dollar_volume_share(
    volume_usd: pd.DataFrame,
    groups: Mapping[str, Sequence[str]] | None = None,
    *,
    window: int = 1,
    require_all: bool = False,
) -> DollarVolumeShare:
    """Each instrument's or group's share of total dollar volume.

    .. math::

        V_{k,t} = \\sum_{i\\in k} \\sum_{j=0}^{w-1} v_{i,t-j}, \\qquad
        \\text{share}_{k,t} = V_{k,t} / \\sum_{k'} V_{k',t}

    Parameters
    ----------
    volume_usd : DataFrame (T, N)
        Dollar volume per row (``panel.volume_usd``), NaN where unknown.
    groups : mapping of str -> sequence of str, optional
        Group (basket) name -> member columns; default: each column alone.
    window : int
        Trailing rows summed before taking shares (1: the row itself). A member
        needs ``window`` valid rows to contribute (so a late listing enters
        only with a full window).
    require_all : bool
        False (default): shares among the groups with volume that row. True:
        rows where any group lacks volume are NaN.

    Returns
    -------
    DollarVolumeShare

    Raises
    ------
    DataError
        Negative volume, or no row with a share.
    """
    v = _frame(volume_usd, "volume_usd")
    _no_negative(v, "volume_usd")
    w = check_int("window", window)
    mem = _membership(v.columns, groups, "groups")
    summed = v.rolling(w, min_periods=w).sum() if w > 1 else v
    grouped, _ = _group_sum(summed, mem)
    shares, total = _shares(grouped, require_all)
    if not total.notna().any():
        raise DataError("no row with dollar volume for the requested groups")
    return DollarVolumeShare(volume=grouped, shares=shares, window=w, require_all=require_all)


# ----------------------------------------------------------------------------- rotation index
@dataclass(frozen=True)
class RotationIndexResult:
    """Rotation index between two baskets (``a`` minus ``b``).

    Attributes
    ----------
    a, b : str
        Names of the two baskets; positive values mean ``a`` grows faster.
    growth : DataFrame (T, 2)
        Trailing ``window``-row log growth of each level.
    raw : Series (T,)
        :math:`g^a_t - g^b_t` (log growth difference, unsmoothed).
    index : Series (T,)
        The smoothed rotation index.
    trend : Series (T,)
        Rolling OLS slope of ``index`` on time over ``trend_window`` rows (index
        units per row).
    trend_sign : Series (T,)
        -1, 0, +1 (NaN where the slope is undefined).
    crossings : DataFrame
        ``date``, ``direction`` (``"up"``: index turns positive, ``"down"``:
        turns negative), ``value``: every sign change of ``index``.
    drift : dict
        Full-window mean per-row relative log growth :math:`d_t = \\Delta\\ln L^a_t - \\Delta\\ln L^b_t`
        with HAC (Newey-West) inference: ``mean``, ``se``, ``t``, ``p``,
        ``ci_low``, ``ci_high``, ``annualised``, ``ann_ci_low``, ``ann_ci_high``,
        ``n``, ``hac_lags``, ``periods_per_year``, ``start``, ``end``.
    window, smooth, trend_window : int
    smoother : str
    """

    a: str
    b: str
    growth: pd.DataFrame
    raw: pd.Series
    index: pd.Series
    trend: pd.Series
    trend_sign: pd.Series
    crossings: pd.DataFrame
    drift: dict[str, float | int | str | pd.Timestamp]
    window: int
    smooth: int
    trend_window: int
    smoother: str

    def to_frame(self) -> pd.DataFrame:
        """Headline numbers as a two-column table (``metric``, ``value``)."""
        idx = self.index.dropna()
        last_cross = self.crossings.iloc[-1] if len(self.crossings) else None
        rows: list[tuple[str, object]] = [
            ("pair", f"{self.a} - {self.b}"),
            ("latest date", idx.index[-1] if len(idx) else pd.NaT),
            ("rotation index (log growth diff)", float(idx.iloc[-1]) if len(idx) else np.nan),
            ("trend per row", float(self.trend.dropna().iloc[-1]) if self.trend.notna().any() else np.nan),
            ("trend sign", float(self.trend_sign.dropna().iloc[-1]) if self.trend_sign.notna().any() else np.nan),
            ("share of rows > 0", float((idx > 0).mean()) if len(idx) else np.nan),
            ("sign changes", len(self.crossings)),
            ("last sign change", last_cross["date"] if last_cross is not None else pd.NaT),
            ("last change direction", last_cross["direction"] if last_cross is not None else ""),
        ]
        rows += [(f"drift {k}", v) for k, v in self.drift.items()]
        return pd.DataFrame(rows, columns=["metric", "value"])


def _hac_mean(x: np.ndarray, hac_lags: int | None, alpha: float) -> dict[str, float]:
    from rotation.analytics.macro import ols_hac

    lags = newey_west_lags(len(x)) if hac_lags is None else hac_lags
    res = ols_hac(x, np.ones((len(x), 1)), lags, alpha)
    return {
        "mean": float(res["params"][0]),
        "se": float(res["bse"][0]),
        "t": float(res["tvalues"][0]),
        "p": float(res["pvalues"][0]),
        "ci_low": float(res["ci"][0, 0]),
        "ci_high": float(res["ci"][0, 1]),
        "hac_lags": int(lags),
    }


def rotation_index(
    a: pd.Series,
    b: pd.Series,
    *,
    window: int = 13,
    smooth: int = 4,
    smoother: str = "ema",
    trend_window: int = 13,
    hac_lags: int | None = None,
    periods_per_year: float | None = None,
    alpha: float = 0.05,
) -> RotationIndexResult:
    """Rotation index: difference of two baskets' trailing growth, smoothed, with trend and sign changes.

    .. math::

        g^X_t = \\ln(L^X_t / L^X_{t-w}), \\qquad
        \\text{raw}_t = g^a_t - g^b_t

        \\text{RI}_t = \\text{EMA}_{\\text{span}=m}(\\text{raw})_t
            \\ (e_t = \\alpha\\,\\text{raw}_t + (1-\\alpha) e_{t-1},\\ \\alpha = 2/(m+1))
            \\quad\\text{or}\\quad \\tfrac{1}{m}\\textstyle\\sum_{j<m} \\text{raw}_{t-j}

    ``L`` are market-cap levels (:class:`BasketCaps` ``growth_index`` or ``caps``)
    or basket index levels. A positive RI means ``a`` grew faster than ``b``
    over the trailing window (e.g. ``a`` = AI basket, ``b`` = crypto: capital
    rotating toward AI by this measure).

    Trend: the OLS slope of RI on the row number over the trailing
    ``trend_window`` rows, :math:`\\hat\\beta_t = \\operatorname{cov}(RI, \\tau)/\\operatorname{var}(\\tau)`
    (closed form, vectorised), and its sign. No standard error is attached to
    the rolling slope: overlapping windows of an already smoothed series make
    per-window errors meaningless. Significance is given once, full-window, for
    the drift: the mean per-row relative log growth
    :math:`d_t = \\Delta \\ln L^a_t - \\Delta \\ln L^b_t` (non-overlapping) with a
    Newey-West HAC standard error (statsmodels OLS on a constant,
    ``cov_type="HAC"``, Bartlett kernel, lags ``floor(4 (n/100)^{2/9})`` unless
    given, small-sample correction, t distribution), annualised by
    ``periods_per_year``.

    Parameters
    ----------
    a, b : Series (T,)
        Positive levels; aligned on their common dates (outer join; a date
        missing in either is NaN).
    window : int
        ``w``, growth window in rows (default 13: a quarter of weekly rows; use
        63 for daily sessions).
    smooth : int
        ``m``, EMA span or moving-average length (1: no smoothing).
    smoother : {"ema", "sma"}
        EMA: recursive with ``adjust=False``, started at the first raw value,
        skipping NaN inputs (output NaN at those rows). SMA: trailing mean that
        needs ``m`` valid values.
    trend_window : int
        Rows in the rolling slope (full windows only).
    hac_lags : int, optional
        Newey-West lags for the drift (default: the rule above).
    periods_per_year : float, optional
        For the annualised drift; default inferred from the dates (365, 252, 52
        or 12 rows a year).
    alpha : float
        1 - confidence level of the drift interval.

    Returns
    -------
    RotationIndexResult

    Raises
    ------
    ParameterError
        Bad windows, smoother or alpha.
    DataError
        Non-positive levels, or fewer than ``window + smooth`` joint rows.

    Notes
    -----
    Trailing only: the growth, EMA/SMA and the rolling slope use rows ``<= t``;
    the drift statistics are full-window by design (a summary, not a series).
    """
    sa, sb = _series(a, "a"), _series(b, "b")
    name_a = str(a.name) if a.name is not None else "a"
    name_b = str(b.name) if b.name is not None else "b"
    if name_a == name_b:
        name_a, name_b = f"{name_a} (a)", f"{name_b} (b)"
    w = check_int("window", window)
    m = check_int("smooth", smooth)
    tw = check_int("trend_window", trend_window, 2)
    if smoother not in {"ema", "sma"}:
        raise ParameterError("smoother", f"must be 'ema' or 'sma', got {smoother!r}")
    if not 0.0 < alpha < 1.0:
        raise ParameterError("alpha", f"must be in (0, 1), got {alpha}")
    if hac_lags is not None:
        check_int("hac_lags", hac_lags, 0)
    levels = pd.concat({name_a: sa, name_b: sb}, axis=1, sort=True)
    bad = levels.le(0.0)
    if bad.to_numpy().any():
        col = bad.any()[lambda s: s].index[0]
        raise DataError(f"rotation_index: non-positive level in '{col}' on {levels.index[bad[col].to_numpy()][0].date()}")
    logl = np.log(levels)
    growth = logl - logl.shift(w)
    raw = (growth[name_a] - growth[name_b]).rename("raw")
    if raw.notna().sum() < m:
        raise DataError(
            f"rotation_index: need at least window + smooth = {w + m} joint rows of '{name_a}' and "
            f"'{name_b}', got {int(levels.notna().all(axis=1).sum())}"
        )
    if m == 1:
        ri = raw.copy()
    elif smoother == "ema":
        ri = raw.ewm(span=m, adjust=False, ignore_na=True, min_periods=1).mean().where(raw.notna())
    else:
        ri = raw.rolling(m, min_periods=m).mean()
    ri = ri.rename("rotation_index")
    # rolling OLS slope on the row number: cov(y, tau) / var(tau) over full windows
    tau = pd.Series(np.arange(len(ri), dtype=float), index=ri.index)
    trend = (ri.rolling(tw, min_periods=tw).cov(tau) / tau.rolling(tw, min_periods=tw).var()).rename("trend")
    trend_sign = np.sign(trend).rename("trend_sign")
    # sign changes of the smoothed index (zeros do not count as a side)
    sign = np.sign(ri).replace(0.0, np.nan)
    prev = sign.ffill().shift(1)
    cross = sign.notna() & prev.notna() & (sign != prev)
    crossings = pd.DataFrame(
        {
            "date": ri.index[cross.to_numpy()],
            "direction": np.where(sign[cross] > 0, "up", "down"),
            "value": ri[cross].to_numpy(),
        }
    )
    d = (logl[name_a].diff() - logl[name_b].diff()).dropna()
    drift: dict[str, float | int | str | pd.Timestamp] = {}
    if len(d) >= 3:
        ppy = _rows_per_year(levels.dropna().index) if periods_per_year is None else float(periods_per_year)
        stats = _hac_mean(d.to_numpy(), hac_lags, alpha)
        drift = {
            **stats,
            "annualised": stats["mean"] * ppy,
            "ann_ci_low": stats["ci_low"] * ppy,
            "ann_ci_high": stats["ci_high"] * ppy,
            "n": len(d),
            "periods_per_year": ppy,
            "start": d.index[0],
            "end": d.index[-1],
        }
    return RotationIndexResult(
        a=name_a,
        b=name_b,
        growth=growth,
        raw=raw,
        index=ri,
        trend=trend,
        trend_sign=trend_sign,
        crossings=crossings,
        drift=drift,
        window=w,
        smooth=m,
        trend_window=tw,
        smoother=smoother,
    )


# ----------------------------------------------------------------------------- ETF flows
@dataclass(frozen=True)
class ETFFlows:
    """ETF net creations/redemptions in currency.

    Attributes
    ----------
    flows : DataFrame (T, N)
        :math:`F_t = (N_t - N_{t-1}) \\cdot NAV_t` (USD).
    rolling : dict of int -> DataFrame (T, N)
        Trailing sums over each window (full windows only).
    cumulative : DataFrame (T, N)
        Running sum of flows since each ETF's first flow (NaN rows stay NaN).
    """

    flows: pd.DataFrame
    rolling: dict[int, pd.DataFrame]
    cumulative: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """Per ETF: first/last date with a flow, total flow, latest trailing sums."""
        cols: dict[str, pd.Series] = {
            "first_date": self.flows.apply(lambda s: s.first_valid_index()),
            "last_date": self.flows.apply(lambda s: s.last_valid_index()),
            "total_flow": self.flows.sum(min_count=1),
        }
        for w, f in self.rolling.items():
            cols[f"flow_{w}"] = _first_last(f)[1]
        out = pd.DataFrame(cols)
        out.index.name = "etf"
        return out


def etf_net_flows(
    shares_outstanding: SeriesOrFrame,
    nav: SeriesOrFrame,
    *,
    windows: int | Sequence[int] = (5, 21),
) -> ETFFlows:
    """ETF net flows from shares outstanding and NAV.

    .. math:: F_t = (N_t - N_{t-1}) \\cdot NAV_t

    Creations (positive) and redemptions (negative) valued at the day's NAV.
    rotation's data sources carry no shares-outstanding history, so this
    function takes it as input (e.g. from issuer holdings files imported by the
    user). If only a market price is known, passing it as ``nav`` values flows
    at price (premium/discount ignored).

    Parameters
    ----------
    shares_outstanding : DataFrame (T, N) or Series
        Shares outstanding per ETF.
    nav : DataFrame (T, N) or Series
        NAV per share, same dates and columns.
    windows : int or sequence of int
        Trailing windows (rows) for rolling sums (default 5 and 21 sessions).

    Returns
    -------
    ETFFlows
        NaN where the shares of ``t`` or ``t-1``, or the NAV of ``t``, is missing.

    Raises
    ------
    ParameterError
        Mismatched dates or columns.
    DataError
        Negative shares or NAV.
    """
    sh = _frame(shares_outstanding, "shares_outstanding")
    nv = _frame(nav, "nav")
    if isinstance(nav, pd.Series) and isinstance(shares_outstanding, pd.Series):
        nv.columns = sh.columns
    if not nv.index.equals(sh.index) or list(nv.columns) != list(sh.columns):
        raise ParameterError("nav", "must have the same dates and columns as shares_outstanding")
    _no_negative(sh, "shares_outstanding")
    _no_negative(nv, "nav")
    ws = _windows("windows", windows)
    flows = (sh - sh.shift(1)) * nv
    rolling = {w: flows.rolling(w, min_periods=w).sum() for w in ws}
    cumulative = flows.fillna(0.0).cumsum().where(flows.notna())
    return ETFFlows(flows=flows, rolling=rolling, cumulative=cumulative)
