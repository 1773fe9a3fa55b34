"""Risk and risk-adjusted return: volatility, drawdowns, Sharpe, Sortino, VaR/CVaR.

Every measure takes periodic **simple returns** - a (T, N) DataFrame (dates x
symbols, ``Panel.returns``) or a Series - and works on all columns at once.
Conventions, chosen to match empyrical-reloaded (and quantstats where they
agree), are stated per function:

* NaN is "no observation": full-sample measures use each column's valid
  returns only (a late listing simply has fewer observations); a column with
  fewer than ``min_periods`` valid returns gives NaN; if *no* column has
  enough, :class:`~rotation.errors.DataError` is raised.
* Annualisation: ``periods_per_year`` / ``asset_classes`` / ``calendar`` are
  resolved by :func:`rotation.analytics.returns.resolve_periods_per_year`
  (explicit factor, else asset class, else inferred from the dates).
* Risk-free and required returns are **per-period** simple returns (a float
  or a Series on the returns' dates, carried forward, never backward); use
  :func:`~rotation.analytics.returns.deannualize_rate` to turn an annual
  yield into one.
* VaR and CVaR are reported **as returns** (a loss is negative: a 95% VaR
  of -0.031 means 5% of periods lose 3.1% or more), the sign convention of
  empyrical and quantstats.
* Trailing (rolling) measures use only rows up to ``t``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from rotation._typing import SeriesOrFrame
from rotation.analytics._rolling import (
    _validate_window,
    _var_core,
    rolling_count,
    rolling_mean,
    rolling_std,
)
from rotation.analytics.returns import _as_frame, _float_values, resolve_periods_per_year
from rotation.errors import DataError, ParameterError

__all__ = [
    "DrawdownTable",
    "RiskTable",
    "annualized_volatility",
    "cagr",
    "conditional_value_at_risk",
    "downside_deviation",
    "drawdown",
    "drawdown_table",
    "max_drawdown",
    "risk_table",
    "rolling_max_drawdown",
    "rolling_sharpe",
    "rolling_sortino",
    "rolling_volatility",
    "sharpe_ratio",
    "sortino_ratio",
    "value_at_risk",
]

VarMethod = Literal["historical", "gaussian"]


# ------------------------------------------------------------------ helpers
def _prep(returns: SeriesOrFrame, min_periods: int = 1) -> tuple[pd.DataFrame, np.ndarray, bool]:
    """(frame, float values, was_series); checks min_periods and that some column is usable."""
    if (
        isinstance(min_periods, bool)
        or not isinstance(min_periods, int | np.integer)
        or min_periods < 1
    ):
        raise ParameterError("min_periods", f"must be a positive integer, got {min_periods!r}")
    frame, was_series = _as_frame(returns, "returns")
    values = _float_values(frame, "returns")
    if np.isinf(values).any():
        row, col = np.argwhere(np.isinf(values))[0]
        raise DataError(f"return of {frame.columns[col]!r} on {frame.index[row]} is infinite")
    if frame.shape[1] == 0 or frame.shape[0] == 0:
        raise DataError("no returns: the input is empty")
    counts = (~np.isnan(values)).sum(axis=0)
    if counts.max() < min_periods:
        raise DataError(
            f"too little data: the longest column has {int(counts.max())} valid returns, "
            f"{min_periods} needed"
        )
    return frame, values, was_series


def _out(values: np.ndarray, frame: pd.DataFrame, was_series: bool, name: str) -> pd.Series | float:
    s = pd.Series(values, index=frame.columns, name=name)
    return float(s.iloc[0]) if was_series else s


def _ppy(
    frame: pd.DataFrame, periods_per_year: Any, asset_classes: Any, calendar: Any
) -> np.ndarray:
    return resolve_periods_per_year(
        frame, periods_per_year=periods_per_year, asset_classes=asset_classes, calendar=calendar
    )


def _per_period(value: float | pd.Series, frame: pd.DataFrame, name: str) -> np.ndarray:
    """A per-period rate as a (T, 1) array on ``frame``'s dates (Series carried forward only)."""
    if isinstance(value, pd.Series):
        if not isinstance(frame.index, pd.DatetimeIndex) or not isinstance(
            value.index, pd.DatetimeIndex
        ):
            aligned = value.reindex(frame.index)
        else:
            aligned = value.sort_index().reindex(frame.index, method="ffill")
        return aligned.to_numpy(dtype=np.float64, na_value=np.nan)[:, None]
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float | np.number)
        or not np.isfinite(value)
    ):
        raise ParameterError(name, f"must be a finite number or a Series, got {value!r}")
    return np.full((len(frame.index), 1), float(value))


def _nan_moments(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(n, mean, centred deviations with 0 at NaN) per column."""
    valid = ~np.isnan(values)
    n = valid.sum(axis=0).astype(np.float64)
    z = np.where(valid, values, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = z.sum(axis=0) / n
    dev = np.where(valid, values - mean, 0.0)
    return n, mean, dev


def _std(values: np.ndarray, ddof: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(n, mean, sample std) per column over valid values (two-pass)."""
    n, mean, dev = _nan_moments(values)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = ((dev * dev).sum(axis=0) - dev.sum(axis=0) ** 2 / n) / (n - ddof)
    var = np.where(n > ddof, np.maximum(var, 0.0), np.nan)
    # exactly 0 when every valid value is equal (the mean can be off by an ulp)
    const = np.nanmax(np.where(np.isnan(values), -np.inf, values), axis=0) == np.nanmin(
        np.where(np.isnan(values), np.inf, values), axis=0
    )
    var = np.where(const & (n > ddof), 0.0, var)
    return n, mean, np.sqrt(var)


def _alpha(level: Any) -> float:
    if isinstance(level, bool) or not isinstance(level, int | float) or not 0.5 <= level < 1:
        raise ParameterError("level", f"must be a confidence level in [0.5, 1), got {level!r}")
    # rounded so 1 - 0.95 is exactly 0.05, the cutoff empyrical uses
    return round(1.0 - float(level), 12)


def _check_method(method: Any) -> str:
    if method not in ("historical", "gaussian"):
        raise ParameterError("method", f"expected 'historical' or 'gaussian', got {method!r}")
    return method


def _check_losses(values: np.ndarray, frame: pd.DataFrame) -> None:
    bad = values <= -1.0
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise DataError(
            f"return of {frame.columns[col]!r} on {frame.index[row]} is {values[row, col]:.4g} "
            "(<= -100%); drawdowns need returns above -1"
        )


# --------------------------------------------------------------- volatility
def annualized_volatility(
    returns: SeriesOrFrame,
    *,
    periods_per_year: float | pd.Series | None = None,
    asset_classes: pd.Series | None = None,
    calendar: str | None = None,
    min_periods: int = 2,
) -> pd.Series | float:
    """Annualised volatility: sample standard deviation times the square root of periods per year.

    .. math:: \\sigma_{\\text{ann}} = s \\sqrt{P}, \\qquad
        s = \\sqrt{\\tfrac{1}{n-1} \\sum_t (r_t - \\bar r)^2}

    (empyrical ``annual_volatility``, quantstats ``volatility``).

    Parameters
    ----------
    returns : DataFrame (T, N) or Series
        Periodic simple returns; NaN = no observation.
    periods_per_year, asset_classes, calendar
        Annualisation ``P`` (see the module doc).
    min_periods : int, default 2
        Fewer valid returns -> NaN for that column.

    Returns
    -------
    Series per column (float for a Series input).
    """
    frame, values, was_series = _prep(returns, min_periods)
    n, _, sd = _std(values)
    ppy = _ppy(frame, periods_per_year, asset_classes, calendar)
    vol = np.where(n >= max(min_periods, 2), sd * np.sqrt(ppy), np.nan)
    return _out(vol, frame, was_series, "volatility")


def rolling_volatility(
    returns: SeriesOrFrame,
    window: int,
    *,
    periods_per_year: float | pd.Series | None = None,
    asset_classes: pd.Series | None = None,
    calendar: str | None = None,
    min_periods: int | None = None,
) -> SeriesOrFrame:
    """Trailing annualised volatility over ``window`` returns.

    .. math:: \\sigma_t = s(r_{t-w+1..t}) \\sqrt{P}

    Parameters
    ----------
    returns : DataFrame (T, N) or Series
    window : int
        Returns per window.
    periods_per_year, asset_classes, calendar
        Annualisation (see the module doc).
    min_periods : int, optional
        Valid returns needed in a window (default ``window``, as pandas,
        quantstats ``rolling_volatility`` and empyrical ``roll_*``).

    Returns
    -------
    Same type and shape as ``returns``; NaN where the window is short.
    """
    frame, was_series = _as_frame(returns, "returns")
    values = _float_values(frame, "returns")
    try:
        # _prep's (T, N) passes (inf scan, valid counts) are left to the kernel, which scans
        # anyway; only its empty / all-NaN rejections are checked here, column by column
        if values.size == 0 or all(np.isnan(values[:, j]).all() for j in range(values.shape[1])):
            _prep(returns)
        ppy = _ppy(frame, periods_per_year, asset_classes, calendar)
        window, min_periods = _validate_window(window, min_periods)
        # sqrt(ppy) applied as each std is written: one (T, N) output, no pandas copy
        vol = _var_core(values, window, min_periods, 1, std=True, scale=np.sqrt(ppy))
    except Exception:
        # an input _prep rejects gets _prep's error (it ran first, before any other check)
        _prep(returns)
        raise
    out = pd.DataFrame(vol, index=frame.index, columns=frame.columns, copy=False)
    return out.iloc[:, 0].rename(returns.name) if was_series else out


# ---------------------------------------------------------------- drawdowns
def _log_wealth(values: np.ndarray) -> np.ndarray:
    """Cumulative log wealth per column (NaN returns count as 0)."""
    return np.cumsum(np.log1p(np.where(np.isnan(values), 0.0, values)), axis=0)


def _drawdown_values(values: np.ndarray) -> np.ndarray:
    wealth = np.cumprod(np.where(np.isnan(values), 1.0, 1.0 + values), axis=0)
    # the anchor: wealth 1 just before the first return, so a first-day loss counts
    peak = np.maximum(np.maximum.accumulate(wealth, axis=0), 1.0)
    dd = wealth / peak - 1.0
    dd[np.isnan(values)] = np.nan
    return dd


def drawdown(returns: SeriesOrFrame) -> SeriesOrFrame:
    """Drawdown from the running peak of compounded wealth.

    .. math::

        W_t = \\prod_{s \\le t}(1 + r_s), \\qquad
        D_t = \\frac{W_t}{\\max(1, \\max_{s \\le t} W_s)} - 1 \\le 0

    Wealth starts at 1 just before the first return (so a loss on the first
    day is a drawdown), as empyrical ``drawdown_series`` and quantstats
    ``to_drawdown_series`` do.

    Parameters
    ----------
    returns : DataFrame (T, N) or Series
        Simple returns, all > -1.

    Returns
    -------
    Same type and shape; NaN before a column's first valid return and where
    the return is NaN (wealth is carried across such rows).
    """
    frame, values, was_series = _prep(returns)
    _check_losses(values, frame)
    dd = pd.DataFrame(_drawdown_values(values), index=frame.index, columns=frame.columns)
    return dd.iloc[:, 0].rename(returns.name) if was_series else dd


def max_drawdown(returns: SeriesOrFrame, *, min_periods: int = 1) -> pd.Series | float:
    """Worst drawdown over the sample: :math:`\\min_t D_t` (see :func:`drawdown`), a number <= 0.

    Parameters
    ----------
    returns : DataFrame (T, N) or Series
    min_periods : int, default 1

    Returns
    -------
    Series per column (float for a Series input); -0.55 means a 55% fall
    from peak. Matches empyrical ``max_drawdown`` and quantstats ``max_drawdown``.
    """
    frame, values, was_series = _prep(returns, min_periods)
    _check_losses(values, frame)
    dd = _drawdown_values(values)
    n = (~np.isnan(values)).sum(axis=0)
    with np.errstate(invalid="ignore"):
        mdd = np.where(
            n >= min_periods, np.nanmin(np.where(np.isnan(dd), np.inf, dd), axis=0), np.nan
        )
    return _out(mdd, frame, was_series, "max_drawdown")


def rolling_max_drawdown(
    returns: SeriesOrFrame, window: int, *, min_periods: int | None = None
) -> SeriesOrFrame:
    """Worst drawdown *inside* each trailing window of ``window`` returns.

    For the window :math:`a..t` (:math:`a = t - w + 1`), wealth restarts at 1
    just before :math:`a`:

    .. math::

        \\mathrm{MDD}_t = \\min_{a \\le s \\le t}
        \\frac{W_s}{\\max(W_{a-1}, \\max_{a \\le u \\le s} W_u)} - 1,

    computed in log-wealth; matches empyrical ``roll_max_drawdown``.

    Parameters
    ----------
    returns : DataFrame (T, N) or Series
    window : int
    min_periods : int, optional
        Valid returns needed in the window (default ``window``).

    Returns
    -------
    Same type and shape as ``returns``; NaN for short windows.
    """
    window, minp = _validate_window(window, min_periods)
    frame, values, was_series = _prep(returns)
    _check_losses(values, frame)
    T, N = values.shape
    logw = np.empty((T + window, N))
    logw[: window - 1] = np.nan  # padding before the anchor
    logw[window - 1] = 0.0  # anchor: log wealth before the first row
    logw[window:] = _log_wealth(values)
    view = np.lib.stride_tricks.sliding_window_view(logw, window + 1, axis=0)  # (T, N, w+1)
    out = np.empty((T, N))
    chunk = max(1, (1 << 21) // max(1, N * (window + 1)))
    for i0 in range(0, T, chunk):
        win = view[i0 : i0 + chunk]
        run = np.fmax.accumulate(win, axis=2)
        np.fmin.reduce(win - run, axis=2, out=out[i0 : i0 + chunk])
    out = np.expm1(out)
    out[rolling_count(values, window) < minp] = np.nan
    res = pd.DataFrame(out, index=frame.index, columns=frame.columns)
    return res.iloc[:, 0].rename(returns.name) if was_series else res


@dataclass(frozen=True)
class DrawdownTable:
    """The largest drawdown episodes of one or more return series.

    Attributes
    ----------
    table : DataFrame
        One row per episode, deepest first within each symbol, columns:
        ``symbol``; ``peak`` (date of the high-water mark the episode starts
        from); ``trough`` (date of the lowest wealth); ``recovery`` (first
        date wealth is back at the peak, NaT if not yet); ``depth`` (trough
        drawdown, e.g. -0.42); ``decline_periods`` (returns from peak to
        trough); ``recovery_periods`` (trough to recovery, NaN if not
        recovered); ``duration_periods`` (peak to recovery, or to the last
        date while still underwater); ``duration_days`` (calendar days, same
        span); ``recovered`` (bool).
    top : int
        Episodes kept per symbol.
    """

    table: pd.DataFrame
    top: int

    def to_frame(self) -> pd.DataFrame:
        """The episode table (a copy)."""
        return self.table.copy()


_DD_COLUMNS = [
    "symbol",
    "peak",
    "trough",
    "recovery",
    "depth",
    "decline_periods",
    "recovery_periods",
    "duration_periods",
    "duration_days",
    "recovered",
]


def _episodes(dates: pd.Index, values: np.ndarray, symbol: Any, top: int) -> list[dict[str, Any]]:
    """Drawdown episodes of one column (vectorised run detection)."""
    valid = ~np.isnan(values)
    if not valid.any():
        return []
    pos = np.flatnonzero(valid)
    vdates = dates[pos]
    # the anchor (wealth 1) is the row before the first valid return when it exists
    anchor_date = dates[pos[0] - 1] if pos[0] > 0 else dates[pos[0]]
    dd = _drawdown_values(values[pos][:, None])[:, 0]
    under = dd < 0
    if not under.any():
        return []
    edges = np.diff(np.concatenate(([0], under.astype(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1) - 1  # last underwater index of each run
    n = len(dd)
    rows = []
    for s, e in zip(starts, ends, strict=True):
        trough = s + int(np.argmin(dd[s : e + 1]))
        peak_i = s - 1
        peak_date = vdates[peak_i] if peak_i >= 0 else anchor_date
        recovered = e + 1 < n
        rec_i = e + 1 if recovered else None
        end_i = rec_i if recovered else n - 1
        end_date = vdates[end_i]
        rows.append(
            {
                "symbol": symbol,
                "peak": peak_date,
                "trough": vdates[trough],
                "recovery": vdates[rec_i] if recovered else pd.NaT,
                "depth": float(dd[trough]),
                "decline_periods": trough - peak_i,
                "recovery_periods": float(rec_i - trough) if recovered else np.nan,
                "duration_periods": end_i - peak_i,
                "duration_days": (
                    (end_date - peak_date).days if isinstance(end_date, pd.Timestamp) else np.nan
                ),
                "recovered": recovered,
            }
        )
    rows.sort(key=lambda r: r["depth"])
    return rows[:top]


def drawdown_table(returns: SeriesOrFrame, *, top: int = 5) -> DrawdownTable:
    """Top-``k`` drawdown episodes (peak, trough, recovery, depth, durations).

    An episode is a maximal run of periods with :math:`D_t < 0` (see
    :func:`drawdown`); it starts at the last high-water mark before the run
    and ends on the first period back at that mark (recovery). Periods count
    valid returns; NaN rows are skipped.

    Parameters
    ----------
    returns : DataFrame (T, N) or Series
    top : int, default 5
        Deepest episodes kept per column.

    Returns
    -------
    DrawdownTable
        Deepest first per symbol; an empty table if nothing ever fell.

    Notes
    -----
    quantstats ``drawdown_details`` reports the same episodes with
    ``start`` = the first underwater date (the period after our ``peak``),
    ``valley`` = ``trough`` and ``end`` = the last underwater date (the
    period before our ``recovery``).
    """
    if isinstance(top, bool) or not isinstance(top, int | np.integer) or top < 1:
        raise ParameterError("top", f"must be a positive integer, got {top!r}")
    frame, values, _ = _prep(returns)
    _check_losses(values, frame)
    rows: list[dict[str, Any]] = []
    # one pass per column: episode boundaries are data-dependent lists
    for j, col in enumerate(frame.columns):
        rows.extend(_episodes(frame.index, values[:, j], col, int(top)))
    table = pd.DataFrame(rows, columns=_DD_COLUMNS)
    return DrawdownTable(table=table, top=int(top))


# ------------------------------------------------------ risk-adjusted return
def cagr(
    returns: SeriesOrFrame,
    *,
    periods_per_year: float | pd.Series | None = None,
    asset_classes: pd.Series | None = None,
    calendar: str | None = None,
    min_periods: int = 1,
) -> pd.Series | float:
    """Compound annual growth rate.

    .. math:: \\mathrm{CAGR} = \\Big(\\prod_t (1 + r_t)\\Big)^{P/n} - 1

    with ``n`` the number of valid returns (quantstats ``cagr``; empyrical
    ``annual_return`` counts NaN rows in ``n`` too, so the two agree when
    there is no NaN).

    Returns
    -------
    Series per column (float for a Series input).
    """
    frame, values, was_series = _prep(returns, min_periods)
    ppy = _ppy(frame, periods_per_year, asset_classes, calendar)
    n = (~np.isnan(values)).sum(axis=0)
    growth = np.prod(np.where(np.isnan(values), 1.0, 1.0 + values), axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = growth ** (ppy / n) - 1.0
    return _out(np.where(n >= min_periods, out, np.nan), frame, was_series, "cagr")


def sharpe_ratio(
    returns: SeriesOrFrame,
    risk_free: float | pd.Series = 0.0,
    *,
    periods_per_year: float | pd.Series | None = None,
    asset_classes: pd.Series | None = None,
    calendar: str | None = None,
    min_periods: int = 2,
) -> pd.Series | float:
    """Annualised Sharpe ratio of excess returns.

    .. math:: \\mathrm{SR} = \\frac{\\overline{r - r_f}}{s(r - r_f)} \\sqrt{P}

    with the sample standard deviation (ddof=1), over rows where both the
    return and the risk-free rate are known (empyrical ``sharpe_ratio``;
    quantstats ``sharpe`` with its annual ``rf`` de-annualised the same way).

    Parameters
    ----------
    returns : DataFrame (T, N) or Series
    risk_free : float or Series, default 0
        Per-period risk-free return (a Series is carried forward onto the
        return dates; dates before its first value are dropped).
    periods_per_year, asset_classes, calendar, min_periods
        See :func:`annualized_volatility`.

    Returns
    -------
    Series per column (float for a Series input); NaN when the excess
    returns have zero dispersion.
    """
    frame, values, was_series = _prep(returns, min_periods)
    excess = values - _per_period(risk_free, frame, "risk_free")
    n, mean, sd = _std(excess)
    ppy = _ppy(frame, periods_per_year, asset_classes, calendar)
    with np.errstate(divide="ignore", invalid="ignore"):
        sr = np.where((n >= max(min_periods, 2)) & (sd > 0), mean / sd * np.sqrt(ppy), np.nan)
    return _out(sr, frame, was_series, "sharpe")


def downside_deviation(
    returns: SeriesOrFrame,
    required_return: float | pd.Series = 0.0,
    *,
    periods_per_year: float | pd.Series | None = None,
    asset_classes: pd.Series | None = None,
    calendar: str | None = None,
    min_periods: int = 1,
) -> pd.Series | float:
    """Annualised downside deviation below a required (minimum acceptable) return.

    .. math:: \\mathrm{DD} = \\sqrt{\\tfrac{1}{n} \\sum_t \\min(r_t - \\tau, 0)^2} \\; \\sqrt{P}

    averaged over *all* ``n`` valid periods (empyrical ``downside_risk``).

    Returns
    -------
    Series per column (float for a Series input).
    """
    frame, values, was_series = _prep(returns, min_periods)
    adj = values - _per_period(required_return, frame, "required_return")
    ppy = _ppy(frame, periods_per_year, asset_classes, calendar)
    n = (~np.isnan(adj)).sum(axis=0)
    down = np.where(np.isnan(adj), 0.0, np.minimum(adj, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        dd = np.sqrt((down * down).sum(axis=0) / n) * np.sqrt(ppy)
    return _out(np.where(n >= min_periods, dd, np.nan), frame, was_series, "downside_deviation")


def sortino_ratio(
    returns: SeriesOrFrame,
    required_return: float | pd.Series = 0.0,
    *,
    periods_per_year: float | pd.Series | None = None,
    asset_classes: pd.Series | None = None,
    calendar: str | None = None,
    min_periods: int = 2,
) -> pd.Series | float:
    """Annualised Sortino ratio (empyrical's definition).

    .. math::

        \\mathrm{Sortino} = \\frac{P \\cdot \\overline{r - \\tau}}
        {\\sqrt{\\tfrac{1}{n}\\sum_t \\min(r_t - \\tau, 0)^2}\\,\\sqrt{P}}

    ``tau`` is the per-period required return (empyrical ``sortino_ratio``;
    identical to quantstats ``sortino`` with ``rf`` de-annualised as ``tau``).

    Returns
    -------
    Series per column (float for a Series input); NaN when there is no
    period below ``tau`` (the ratio is unbounded).
    """
    frame, values, was_series = _prep(returns, min_periods)
    adj = values - _per_period(required_return, frame, "required_return")
    ppy = _ppy(frame, periods_per_year, asset_classes, calendar)
    valid = ~np.isnan(adj)
    n = valid.sum(axis=0)
    z = np.where(valid, adj, 0.0)
    down = np.minimum(z, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        dd = np.sqrt((down * down).sum(axis=0) / n)
        ratio = z.sum(axis=0) / n / dd * np.sqrt(ppy)
    ok = (n >= max(min_periods, 2)) & (dd > 0)
    return _out(np.where(ok, ratio, np.nan), frame, was_series, "sortino")


def rolling_sharpe(
    returns: SeriesOrFrame,
    window: int,
    risk_free: float | pd.Series = 0.0,
    *,
    periods_per_year: float | pd.Series | None = None,
    asset_classes: pd.Series | None = None,
    calendar: str | None = None,
    min_periods: int | None = None,
) -> SeriesOrFrame:
    """Trailing annualised Sharpe ratio over ``window`` returns.

    .. math:: \\mathrm{SR}_t = \\frac{\\overline{(r - r_f)}_{W_t}}{s_{W_t}(r - r_f)} \\sqrt{P}

    (quantstats ``rolling_sharpe``, empyrical ``roll_sharpe_ratio``).

    Returns
    -------
    Same type and shape as ``returns``; NaN for short windows (default
    ``min_periods = window``) and zero-dispersion windows.
    """
    frame, values, was_series = _prep(returns)
    excess = values - _per_period(risk_free, frame, "risk_free")
    ppy = _ppy(frame, periods_per_year, asset_classes, calendar)
    mean = rolling_mean(excess, window, min_periods)
    sd = rolling_std(excess, window, min_periods)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(sd > 0, mean / sd * np.sqrt(ppy), np.nan)
    res = pd.DataFrame(out, index=frame.index, columns=frame.columns)
    return res.iloc[:, 0].rename(returns.name) if was_series else res


def rolling_sortino(
    returns: SeriesOrFrame,
    window: int,
    required_return: float | pd.Series = 0.0,
    *,
    periods_per_year: float | pd.Series | None = None,
    asset_classes: pd.Series | None = None,
    calendar: str | None = None,
    min_periods: int | None = None,
) -> SeriesOrFrame:
    """Trailing annualised Sortino ratio (the :func:`sortino_ratio` formula on each window).

    Returns
    -------
    Same type and shape as ``returns``; NaN for short windows and windows
    without a period below ``required_return``.
    """
    frame, values, was_series = _prep(returns)
    adj = values - _per_period(required_return, frame, "required_return")
    ppy = _ppy(frame, periods_per_year, asset_classes, calendar)
    mean = rolling_mean(adj, window, min_periods)
    down = np.minimum(adj, 0.0)  # NaN stays NaN
    msq = rolling_mean(down * down, window, min_periods)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(msq > 0, mean / np.sqrt(msq) * np.sqrt(ppy), np.nan)
    res = pd.DataFrame(out, index=frame.index, columns=frame.columns)
    return res.iloc[:, 0].rename(returns.name) if was_series else res


# ---------------------------------------------------------------- tail risk
def _historical_var(values: np.ndarray, alpha: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns -> NaN
            return np.nanquantile(values, alpha, axis=0, method="linear")


def _historical_cvar(values: np.ndarray, alpha: float) -> np.ndarray:
    n = (~np.isnan(values)).sum(axis=0)
    s = np.sort(values, axis=0)  # NaN sorts last
    k = np.floor((n - 1) * alpha).astype(np.int64) + 1
    csum = np.cumsum(np.where(np.isnan(s), 0.0, s), axis=0)
    cols = np.arange(values.shape[1])
    with np.errstate(invalid="ignore", divide="ignore"):
        out = csum[np.clip(k - 1, 0, len(s) - 1), cols] / k
    return np.where(n >= 1, out, np.nan)


def value_at_risk(
    returns: SeriesOrFrame,
    level: float = 0.95,
    *,
    method: VarMethod = "historical",
    min_periods: int = 1,
) -> pd.Series | float:
    """Value at risk as a return quantile (negative = loss).

    ``alpha = 1 - level``:

    * ``historical``: the ``alpha`` quantile of the valid returns with linear
      interpolation (``numpy.percentile``; empyrical ``value_at_risk`` with
      ``cutoff = alpha``);
    * ``gaussian``: :math:`\\bar r + s\\,\\Phi^{-1}(\\alpha)` with the sample
      standard deviation (quantstats ``value_at_risk``).

    Parameters
    ----------
    returns : DataFrame (T, N) or Series
    level : float, default 0.95
        Confidence level in [0.5, 1).
    method : {"historical", "gaussian"}
    min_periods : int, default 1 (2 for gaussian)

    Returns
    -------
    Series per column (float for a Series input), per period (not annualised).
    """
    alpha = _alpha(level)
    method = _check_method(method)
    frame, values, was_series = _prep(returns, min_periods)
    n = (~np.isnan(values)).sum(axis=0)
    if method == "historical":
        out = _historical_var(values, alpha)
        need = min_periods
    else:
        _, mean, sd = _std(values)
        out = mean + sd * stats.norm.ppf(alpha)
        need = max(min_periods, 2)
    return _out(np.where(n >= need, out, np.nan), frame, was_series, "var")


def conditional_value_at_risk(
    returns: SeriesOrFrame,
    level: float = 0.95,
    *,
    method: VarMethod = "historical",
    min_periods: int = 1,
) -> pd.Series | float:
    """Conditional VaR (expected shortfall) as a return (negative = loss).

    ``alpha = 1 - level``:

    * ``historical``: the mean of the ``floor((n - 1) alpha) + 1`` lowest
      valid returns (empyrical ``conditional_value_at_risk``). quantstats'
      historical variant averages the returns at or below the interpolated
      VaR instead; the two differ by at most one observation in the tail;
    * ``gaussian``: :math:`\\bar r - s\\,\\varphi(\\Phi^{-1}(\\alpha))/\\alpha`
      (quantstats ``conditional_value_at_risk(method="parametric")``).

    Returns
    -------
    Series per column (float for a Series input), always <= the VaR at the same level.
    """
    alpha = _alpha(level)
    method = _check_method(method)
    frame, values, was_series = _prep(returns, min_periods)
    n = (~np.isnan(values)).sum(axis=0)
    if method == "historical":
        out = _historical_cvar(values, alpha)
        need = min_periods
    else:
        _, mean, sd = _std(values)
        out = mean - sd * stats.norm.pdf(stats.norm.ppf(alpha)) / alpha
        need = max(min_periods, 2)
    return _out(np.where(n >= need, out, np.nan), frame, was_series, "cvar")


# --------------------------------------------------------------- risk table
def _skew_kurt(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bias-corrected sample skewness and excess kurtosis (pandas ``skew``/``kurt``)."""
    n, _, dev = _nan_moments(values)
    with np.errstate(invalid="ignore", divide="ignore"):
        m2 = (dev**2).sum(axis=0) / n
        m3 = (dev**3).sum(axis=0) / n
        m4 = (dev**4).sum(axis=0) / n
        g1 = np.sqrt(n * (n - 1)) / (n - 2) * m3 / m2**1.5
        g2 = ((n + 1) * m4 / m2**2 - 3 * (n - 1)) * (n - 1) / ((n - 2) * (n - 3))
    # pandas: zero variance gives 0, too few values NaN
    skew = np.where(n < 3, np.nan, np.where(m2 == 0, 0.0, g1))
    kurt = np.where(n < 4, np.nan, np.where(m2 == 0, 0.0, g2))
    return skew, kurt


@dataclass(frozen=True)
class RiskTable:
    """Per-column risk and return summary.

    Attributes
    ----------
    table : DataFrame
        Index = symbols; columns ``observations`` (valid returns),
        ``first_date``, ``last_date``, ``periods_per_year``,
        ``total_return``, ``cagr``, ``volatility`` (annualised), ``max_drawdown``,
        ``sharpe``, ``sortino``, ``var``, ``cvar`` (per period, as returns),
        ``skew``, ``kurtosis`` (excess).
    level : float
        VaR/CVaR confidence level.
    var_method : str
        ``historical`` or ``gaussian``.
    risk_free : float or str
        The per-period risk-free return used for Sharpe (``"series"`` if a Series).
    required_return : float or str
        The per-period target used for Sortino.
    """

    table: pd.DataFrame
    level: float
    var_method: str
    risk_free: float | str = 0.0
    required_return: float | str = 0.0

    def to_frame(self) -> pd.DataFrame:
        """The summary table (a copy), one row per symbol."""
        return self.table.copy()

    def __getitem__(self, metric: str) -> pd.Series:
        return self.table[metric]


def risk_table(
    returns: SeriesOrFrame,
    *,
    periods_per_year: float | pd.Series | None = None,
    asset_classes: pd.Series | None = None,
    calendar: str | None = None,
    risk_free: float | pd.Series = 0.0,
    required_return: float | pd.Series = 0.0,
    level: float = 0.95,
    var_method: VarMethod = "historical",
    min_periods: int = 2,
) -> RiskTable:
    """Risk/return summary of every column (the measures of this module side by side).

    Parameters
    ----------
    returns : DataFrame (T, N) or Series
        Periodic simple returns.
    periods_per_year, asset_classes, calendar
        Annualisation (see the module doc).
    risk_free : float or Series
        Per-period risk-free return for the Sharpe ratio (one rate for all
        columns: when columns have different periods per year, compute
        Sharpe ratios per group with the matching de-annualised rate).
    required_return : float or Series
        Per-period target return for the Sortino ratio.
    level : float, default 0.95
        VaR/CVaR confidence level.
    var_method : {"historical", "gaussian"}
    min_periods : int, default 2
        Columns with fewer valid returns get NaN measures (but are listed).

    Returns
    -------
    RiskTable
    """
    frame, values, _ = _prep(returns, min_periods)
    ppy = _ppy(frame, periods_per_year, asset_classes, calendar)
    # an inferred factor is NaN for a column with < 2 observations: compute with a
    # placeholder and blank the annualised measures of that column afterwards
    unknown = np.isnan(ppy)
    kw = {
        "periods_per_year": pd.Series(np.where(unknown, 1.0, ppy), index=frame.columns),
        "min_periods": min_periods,
    }
    valid = ~np.isnan(values)
    n = valid.sum(axis=0)
    idx = frame.index
    first = pd.Series(idx[valid.argmax(axis=0)], index=frame.columns).where(n > 0)
    last = pd.Series(idx[len(idx) - 1 - valid[::-1].argmax(axis=0)], index=frame.columns).where(
        n > 0
    )
    skew, kurt = _skew_kurt(values)
    short = n < min_periods
    tot = np.prod(np.where(valid, 1.0 + values, 1.0), axis=0) - 1.0
    table = pd.DataFrame(
        {
            "observations": n,
            "first_date": first.to_numpy(),
            "last_date": last.to_numpy(),
            "periods_per_year": ppy,
            "total_return": np.where(short, np.nan, tot),
            "cagr": cagr(frame, **kw),
            "volatility": annualized_volatility(frame, **kw),
            "max_drawdown": max_drawdown(frame, min_periods=min_periods),
            "sharpe": sharpe_ratio(frame, risk_free, **kw),
            "sortino": sortino_ratio(frame, required_return, **kw),
            "var": value_at_risk(frame, level, method=var_method, min_periods=min_periods),
            "cvar": conditional_value_at_risk(
                frame, level, method=var_method, min_periods=min_periods
            ),
            "skew": np.where(short, np.nan, skew),
            "kurtosis": np.where(short, np.nan, kurt),
        },
        index=frame.columns,
    )
    table.index.name = "symbol"
    table.loc[unknown, ["cagr", "volatility", "sharpe", "sortino"]] = np.nan
    return RiskTable(
        table=table,
        level=float(level),
        var_method=var_method,
        risk_free="series" if isinstance(risk_free, pd.Series) else float(risk_free),
        required_return=(
            "series" if isinstance(required_return, pd.Series) else float(required_return)
        ),
    )
