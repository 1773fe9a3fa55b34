"""Returns, compounding, annualisation factors and weekly resampling.

All functions take wide pandas objects - a (T, N) DataFrame (dates x symbols,
as ``Panel.prices`` / ``Panel.returns``) or a single Series - and return the
same kind of object. Nothing is filled silently: a missing price gives a
missing return unless ``skip_gaps=True`` is asked for.

Annualisation
-------------
The number of return periods per year depends on how the series is sampled,
not on what it is: a crypto asset sampled on NYSE sessions has ~252
(Friday-to-Monday) returns a year, on its own 24/7 calendar 365. The
resolution order used by every annualised measure in rotation is:

1. ``periods_per_year`` given: a number for all columns or a Series per column;
2. ``asset_classes`` given: :func:`periods_per_year` - weekly data 52; daily
   data 252 for equity/etf/index and 365 for crypto/stablecoin on their native
   calendars, or 252/365 for every column when ``calendar`` is ``"sessions"``
   / ``"all_days"`` (pass ``calendar=panel.calendar`` for panel returns);
3. neither: inferred per column from the observation density of its dates
   (:func:`infer_periods_per_year`), snapped to 1, 4, 12, 52, 252 or 365.
"""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd

from rotation._typing import Frequency, PriceFrame, ReturnFrame, SeriesOrFrame
from rotation.errors import DataError, ParameterError

__all__ = [
    "ASSET_CLASS_PERIODS",
    "cumulative_returns",
    "deannualize_rate",
    "infer_periods_per_year",
    "log_returns",
    "periods_per_year",
    "resample_returns",
    "resolve_periods_per_year",
    "simple_returns",
    "total_return",
]

#: Daily periods per year on each asset class's native calendar.
ASSET_CLASS_PERIODS: Mapping[str, float] = {
    "equity": 252.0,
    "etf": 252.0,
    "index": 252.0,
    "crypto": 365.0,
    "stablecoin": 365.0,
}
_CALENDAR_PERIODS = {"sessions": 252.0, "all_days": 365.0}
_FREQUENCY_PERIODS = {"W": 52.0, "M": 12.0, "Q": 4.0, "Y": 1.0}
#: Values an inferred periods-per-year is snapped to.
_STANDARD_PERIODS = np.array([1.0, 4.0, 12.0, 52.0, 252.0, 365.0])


# ------------------------------------------------------------------ helpers
def _as_frame(obj: Any, name: str) -> tuple[pd.DataFrame, bool]:
    """(frame, was_series)."""
    if isinstance(obj, pd.DataFrame):
        return obj, False
    if isinstance(obj, pd.Series):
        return obj.to_frame(name=obj.name if obj.name is not None else 0), True
    raise ParameterError(name, f"expected a pandas Series or DataFrame, got {type(obj).__name__}")


def _back(frame: pd.DataFrame, was_series: bool, like: SeriesOrFrame) -> SeriesOrFrame:
    if was_series:
        out = frame.iloc[:, 0]
        out.name = like.name
        return out
    return frame


def _float_values(frame: pd.DataFrame, name: str) -> np.ndarray:
    try:
        return frame.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ParameterError(name, f"must hold numbers: {exc}") from None


def _check_prices(values: np.ndarray, frame: pd.DataFrame) -> None:
    bad = ~np.isnan(values) & ~(np.isfinite(values) & (values > 0))
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise DataError(
            f"price of {frame.columns[col]!r} on {frame.index[row]} is {values[row, col]!r}; "
            "returns need finite positive prices (NaN marks a missing price)"
        )


def _previous_valid(values: np.ndarray) -> np.ndarray:
    """For each cell, the last valid value strictly above it in its column (NaN if none)."""
    T, N = values.shape
    valid = ~np.isnan(values)
    idx = np.where(valid, np.arange(T)[:, None], -1)
    np.maximum.accumulate(idx, axis=0, out=idx)
    prev_idx = np.empty_like(idx)
    prev_idx[0] = -1
    prev_idx[1:] = idx[:-1]
    prev = values[np.maximum(prev_idx, 0), np.arange(N)]
    prev[prev_idx < 0] = np.nan
    return prev


# ------------------------------------------------------------------ returns
def _ratio(prices: SeriesOrFrame, skip_gaps: bool) -> tuple[np.ndarray, pd.DataFrame, bool]:
    frame, was_series = _as_frame(prices, "prices")
    values = _float_values(frame, "prices")
    _check_prices(values, frame)
    if skip_gaps:
        prev = _previous_valid(values)
    else:
        prev = np.full_like(values, np.nan)
        prev[1:] = values[:-1]
    with np.errstate(invalid="ignore"):
        return values / prev, frame, was_series


def simple_returns(prices: PriceFrame | pd.Series, *, skip_gaps: bool = False) -> ReturnFrame:
    """Simple (arithmetic) returns of prices.

    .. math:: r_t = P_t / P_{t-1} - 1

    Parameters
    ----------
    prices : DataFrame (T, N) or Series (T,)
        Positive prices (adjusted closes), NaN where missing.
    skip_gaps : bool, default False
        ``False``: a return is NaN when either price is NaN (no fill), so a
        missing day also removes the return of the day after it.
        ``True``: :math:`P_{t-1}` is replaced by the last valid price before
        ``t``, so the move across a gap is kept in the first return after it
        (the return rows inside the gap stay NaN).

    Returns
    -------
    Same type and shape as ``prices``. The first row, rows before an
    instrument's first price (late listing) and rows where ``P_t`` is NaN
    are NaN.

    Raises
    ------
    DataError
        A price is zero, negative or infinite (the message names the symbol and date).
    """
    ratio, frame, was_series = _ratio(prices, skip_gaps)
    out = pd.DataFrame(ratio - 1.0, index=frame.index, columns=frame.columns)
    return _back(out, was_series, prices)


def log_returns(prices: PriceFrame | pd.Series, *, skip_gaps: bool = False) -> ReturnFrame:
    """Log returns :math:`\\ln(P_t / P_{t-1})`; NaN rules as :func:`simple_returns`.

    Parameters
    ----------
    prices : DataFrame (T, N) or Series (T,)
        Positive prices, NaN where missing.
    skip_gaps : bool, default False
        See :func:`simple_returns`.

    Returns
    -------
    Same type and shape as ``prices``.
    """
    ratio, frame, was_series = _ratio(prices, skip_gaps)
    with np.errstate(invalid="ignore"):
        out = pd.DataFrame(np.log(ratio), index=frame.index, columns=frame.columns)
    return _back(out, was_series, prices)


def cumulative_returns(returns: ReturnFrame | pd.Series, *, log: bool = False) -> ReturnFrame:
    """Cumulative return since the first valid return of each column.

    .. math::

        R_t = \\prod_{s \\le t} (1 + r_s) - 1 \\quad\\text{(simple)}, \\qquad
        R_t = \\sum_{s \\le t} r_s \\quad\\text{(log)},

    the product/sum running over valid returns only.

    Parameters
    ----------
    returns : DataFrame (T, N) or Series (T,)
        Simple returns (or log returns with ``log=True``).
    log : bool, default False
        The input holds log returns; the output is the cumulative log return.

    Returns
    -------
    Same type and shape. NaN before a column's first valid return and on rows
    where the return is NaN; compounding resumes after a NaN row as if the
    missing return were 0 (compute returns with ``skip_gaps=True`` to keep
    the move across a gap).
    """
    frame, was_series = _as_frame(returns, "returns")
    values = _float_values(frame, "returns")
    missing = np.isnan(values)
    if log:
        acc = np.cumsum(np.where(missing, 0.0, values), axis=0)
    else:
        acc = np.cumprod(np.where(missing, 1.0, 1.0 + values), axis=0) - 1.0
    acc[missing] = np.nan
    return _back(pd.DataFrame(acc, index=frame.index, columns=frame.columns), was_series, returns)


def total_return(returns: ReturnFrame | pd.Series, *, log: bool = False) -> pd.Series | float:
    """Compounded return over the whole sample, per column.

    .. math:: R = \\prod_t (1 + r_t) - 1 \\quad (\\text{or } \\sum_t r_t \\text{ for log returns})

    over valid returns. Returns a Series per column (a float for a Series
    input); NaN for a column without any valid return.
    """
    frame, was_series = _as_frame(returns, "returns")
    values = _float_values(frame, "returns")
    missing = np.isnan(values)
    if log:
        tot = np.where(missing, 0.0, values).sum(axis=0)
    else:
        tot = np.prod(np.where(missing, 1.0, 1.0 + values), axis=0) - 1.0
    tot = np.where(missing.all(axis=0), np.nan, tot)
    out = pd.Series(tot, index=frame.columns, name="total_return")
    return float(out.iloc[0]) if was_series else out


def deannualize_rate(annual_rate: float | pd.Series | pd.DataFrame, periods_per_year: float) -> Any:
    """Per-period rate equivalent to an annual compounded rate.

    .. math:: r_{\\text{period}} = (1 + r_{\\text{annual}})^{1/P} - 1

    Parameters
    ----------
    annual_rate : float, Series or DataFrame
        Annual rate as a decimal (FRED ``DGS3MO`` = 4.5 percent -> pass 0.045).
    periods_per_year : float
        ``P``: 252 for session-daily returns, 365 for every-day, 52 weekly.

    Returns
    -------
    Same type as ``annual_rate`` (NaN stays NaN). This is the conversion
    quantstats applies to ``rf`` (``to_excess_returns(..., nperiods)``).
    """
    ppy = _check_positive(periods_per_year, "periods_per_year")
    return (1.0 + annual_rate) ** (1.0 / ppy) - 1.0


def _check_positive(value: Any, name: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, Real)
        or not np.isfinite(value)
        or value <= 0
    ):
        raise ParameterError(name, f"must be a positive number, got {value!r}")
    return float(value)


# ------------------------------------------------------------ annualisation
def _normalise_frequency(frequency: str) -> str:
    f = str(frequency).upper()
    if f in ("D", "B", "C"):
        return "D"
    for key in _FREQUENCY_PERIODS:
        if f == key or f.startswith(key + "-") or f in (key + "E", key + "S"):
            return key
    raise ParameterError("frequency", f"expected 'D', 'W' or 'M' (or 'Q', 'Y'), got {frequency!r}")


def periods_per_year(
    asset_classes: pd.Series | Mapping[str, str],
    frequency: Frequency | str = "D",
    calendar: str | None = None,
) -> pd.Series:
    """Return periods per year for each symbol from its asset class.

    Parameters
    ----------
    asset_classes : Series or mapping symbol -> class
        ``equity``, ``etf``, ``index``, ``crypto`` or ``stablecoin``
        (``Panel.asset_classes``).
    frequency : {"D", "W", "M", "Q", "Y"}, default "D"
        Sampling frequency; weekly (any ``W-...`` anchor) gives 52, monthly 12.
    calendar : {None, "sessions", "all_days"}
        For daily data only. ``None``: each class on its native calendar
        (252 for equity/etf/index, 365 for crypto/stablecoin). ``"sessions"``:
        252 for every column (crypto sampled on exchange sessions has one
        return per session). ``"all_days"``: 365 for every column.

    Returns
    -------
    Series symbol -> float, named ``periods_per_year``.

    Raises
    ------
    ParameterError
        Unknown asset class (the symbol is named), frequency or calendar.
    """
    classes = pd.Series(asset_classes, dtype=object)
    freq = _normalise_frequency(frequency)
    if freq != "D":
        return pd.Series(_FREQUENCY_PERIODS[freq], index=classes.index, name="periods_per_year")
    if calendar is not None:
        if calendar not in _CALENDAR_PERIODS:
            raise ParameterError(
                "calendar", f"expected None, 'sessions' or 'all_days', got {calendar!r}"
            )
        return pd.Series(_CALENDAR_PERIODS[calendar], index=classes.index, name="periods_per_year")
    unknown = classes[~classes.isin(list(ASSET_CLASS_PERIODS))]
    if len(unknown):
        sym, cls = next(iter(unknown.items()))
        raise ParameterError(
            "asset_classes",
            f"{sym!r} has asset class {cls!r}; expected one of {sorted(ASSET_CLASS_PERIODS)}",
        )
    return classes.map(ASSET_CLASS_PERIODS).astype(np.float64).rename("periods_per_year")


def _ns(index: pd.DatetimeIndex) -> np.ndarray:
    """Nanoseconds since the epoch whatever the index's unit (pandas 3 defaults to us)."""
    return np.asarray(
        index.tz_localize(None) if index.tz is not None else index, dtype="datetime64[ns]"
    ).view(np.int64)


def _index_frequency(index: pd.Index) -> str:
    """'D', 'W', 'M', 'Q' or 'Y' from the median spacing of a DatetimeIndex ('D' otherwise)."""
    if not isinstance(index, pd.DatetimeIndex) or len(index) < 3:
        return "D"
    days = float(np.median(np.diff(_ns(index))) / 86_400e9)
    if days <= 4:
        return "D"
    if days <= 10:
        return "W"
    if days <= 45:
        return "M"
    if days <= 135:
        return "Q"
    return "Y"


def infer_periods_per_year(data: SeriesOrFrame | pd.DatetimeIndex) -> pd.Series | float:
    """Periods per year implied by how densely each column is observed.

    For each column the density is ``(n - 1) / years`` with ``n`` valid
    values between the first and last valid date (``years`` = days/365.25),
    snapped to the nearest (on a log scale) of 1, 4, 12, 52, 252, 365. So a
    sessions-sampled column gives 252, a 24/7 column 365, weekly data 52,
    whatever the asset.

    Parameters
    ----------
    data : DataFrame, Series or DatetimeIndex
        With a ``DatetimeIndex``. For an index, all rows count as observed.

    Returns
    -------
    Series per column (float for a Series or an index); NaN for a column with
    fewer than two valid values.

    Raises
    ------
    ParameterError
        The index is not a DatetimeIndex.
    """
    if isinstance(data, pd.DatetimeIndex):
        data = pd.Series(1.0, index=data)
    frame, was_series = _as_frame(data, "data")
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise ParameterError(
            "periods_per_year",
            "cannot infer the number of periods per year without a DatetimeIndex; pass it",
        )
    valid = frame.notna().to_numpy()
    ns = _ns(frame.index)
    n = valid.sum(axis=0)
    big = np.iinfo(np.int64).max
    first = np.where(valid, ns[:, None], big).min(axis=0)
    last = np.where(valid, ns[:, None], -big).max(axis=0)
    years = (last - first).astype(np.float64) / (365.25 * 86_400e9)
    with np.errstate(divide="ignore", invalid="ignore"):
        density = (n - 1) / years
    ok = (n >= 2) & (years > 0)
    logd = np.log(np.where(ok, density, 1.0))
    nearest = _STANDARD_PERIODS[np.abs(logd[:, None] - np.log(_STANDARD_PERIODS)).argmin(axis=1)]
    out = pd.Series(np.where(ok, nearest, np.nan), index=frame.columns, name="periods_per_year")
    return float(out.iloc[0]) if was_series else out


def resolve_periods_per_year(
    data: SeriesOrFrame,
    *,
    periods_per_year: float | pd.Series | None = None,
    asset_classes: pd.Series | Mapping[str, str] | None = None,
    calendar: str | None = None,
    frequency: str | None = None,
) -> np.ndarray:
    """Annualisation factor per column of ``data`` (the resolution order in the module doc).

    Parameters
    ----------
    data : DataFrame (T, N) or Series
        The returns being annualised (columns and index are used).
    periods_per_year : float or Series, optional
        Explicit factor for all columns, or per column (every column needed).
    asset_classes : Series or mapping, optional
        Per-column asset class, see :func:`periods_per_year`.
    calendar : {None, "sessions", "all_days"}
        With ``asset_classes``: the sampling calendar of daily data.
    frequency : str, optional
        With ``asset_classes``: ``"D"``/``"W"``/``"M"``; default inferred from
        the index spacing.

    Returns
    -------
    ndarray (N,) float64 (NaN only where inference had < 2 observations).

    Raises
    ------
    ParameterError
        A non-positive factor, a column without a factor or asset class.
    """
    frame, _ = _as_frame(data, "returns")
    cols = frame.columns
    if periods_per_year is not None:
        if isinstance(periods_per_year, pd.Series):
            missing = [c for c in cols if c not in periods_per_year.index]
            if missing:
                raise ParameterError("periods_per_year", f"no value for columns {missing[:5]}")
            vals = periods_per_year.reindex(cols).to_numpy(dtype=np.float64)
            if not (np.isfinite(vals) & (vals > 0)).all():
                raise ParameterError("periods_per_year", "every value must be a positive number")
            return vals
        return np.full(len(cols), _check_positive(periods_per_year, "periods_per_year"))
    if asset_classes is not None:
        classes = pd.Series(asset_classes, dtype=object)
        missing = [c for c in cols if c not in classes.index]
        if missing:
            raise ParameterError("asset_classes", f"no asset class for columns {missing[:5]}")
        freq = frequency if frequency is not None else _index_frequency(frame.index)
        return _periods_array(classes.reindex(cols), freq, calendar)
    inferred = infer_periods_per_year(frame)
    return inferred.to_numpy(dtype=np.float64)


def _periods_array(classes: pd.Series, frequency: str, calendar: str | None) -> np.ndarray:
    """:func:`periods_per_year` as an array in ``classes`` order (internal helper)."""
    return periods_per_year(classes, frequency, calendar).to_numpy(dtype=np.float64)


# ---------------------------------------------------------------- resampling
def resample_returns(
    returns: ReturnFrame | pd.Series,
    rule: str = "W-FRI",
    *,
    log: bool = False,
    drop_incomplete: bool = True,
) -> ReturnFrame:
    """Compound returns into coarser periods (weekly ending Friday by default).

    .. math::

        R_w = \\prod_{t \\in w} (1 + r_t) - 1 \\quad\\text{(simple)}, \\qquad
        R_w = \\sum_{t \\in w} r_t \\quad\\text{(log)}

    over the valid returns of each period; a period with no valid return is
    NaN. Periods are labelled by their last calendar day (the Friday for
    ``W-FRI``), closed on the right, as pandas ``resample`` does for weekly
    anchors.

    Parameters
    ----------
    returns : DataFrame (T, N) or Series with a DatetimeIndex
        Daily simple returns (log returns with ``log=True``).
    rule : str, default "W-FRI"
        A pandas offset alias (``"W-FRI"``, ``"ME"``, ...).
    log : bool, default False
        Inputs are log returns (summed instead of compounded).
    drop_incomplete : bool, default True
        Drop a trailing period whose label lies after the last date of the
        index (the week has not finished yet). A leading period that starts
        mid-week is kept: it compounds the returns available in it.

    Returns
    -------
    Same kind of object indexed by period end (index named like the input's).

    Raises
    ------
    ParameterError
        No DatetimeIndex or an unknown rule.
    """
    frame, was_series = _as_frame(returns, "returns")
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise ParameterError("returns", "resampling needs a DatetimeIndex")
    if not frame.index.is_monotonic_increasing:
        raise ParameterError("returns", "the index must be sorted ascending")
    try:
        if log:
            out = frame.resample(rule).sum(min_count=1)
        else:
            out = (1.0 + frame).resample(rule).prod(min_count=1) - 1.0
    except (ValueError, TypeError) as exc:
        raise ParameterError("rule", f"not a usable resampling rule {rule!r}: {exc}") from None
    if drop_incomplete and len(frame.index):
        out = out.loc[out.index <= frame.index[-1]]
    out.index.name = frame.index.name
    return _back(out, was_series, returns)
