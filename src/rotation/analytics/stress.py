"""Stress: drawdown episodes beyond thresholds, downside and conditional beta, shock scenarios.

The questions of claim R10 ("an AI correction of 10-15% is a live risk, and it
would spill over"):

* **How often, how long?** :func:`drawdown_episodes` lists every fall of at
  least 10%, 15%, 20%... from a running peak and summarises, per series and
  threshold, how many there were, how many per calendar year, and how long
  they took to reach the trough and to recover.
* **How do others move when the shocked basket falls?** :func:`hac_beta`
  (every period), :func:`downside_beta` (periods when the benchmark falls
  below a threshold) and :func:`conditional_beta` (the benchmark's worst
  ``q`` of periods), all with Newey-West (HAC) standard errors.
* **What if it falls by x%?** :func:`scenario` shocks one basket by ``x`` and
  estimates every other series' response (a) from those betas,
  ``response = beta * x`` with the beta's confidence interval, and (b) from
  historical analogues (:func:`analogue_windows`): the past windows of 1-4
  periods in which the shocked basket fell by about ``x``, and the
  distribution of the others' returns over the same windows.
* :func:`stress` runs all of it on a panel's baskets (``rt.stress``).

Conventions
-----------
Inputs are simple returns (or, for :func:`stress`, levels) on an ascending
``DatetimeIndex``; NaN means "no observation" (before a late listing, in a
gap). Every estimate here is full-sample over the rows given: cut the window
with ``start``/``end`` (or by slicing) to study a sub-period. The one trailing
object, the selection of analogue windows, is causal: a window is accepted
when it ends, from what ended before, so appending rows never changes the
windows already selected.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from rotation._typing import DateLike, PriceFrame, ReturnFrame, SeriesOrFrame
from rotation.analytics.comovement import newey_west_lags
from rotation.analytics.macro import ols_hac
from rotation.analytics.risk import _check_losses, _prep, drawdown, drawdown_table
from rotation.analytics._validate import check_int
from rotation.errors import DataError, ParameterError
from rotation.panel import Panel

__all__ = [
    "DEFAULT_SHOCKS",
    "DEFAULT_THRESHOLDS",
    "DEFAULT_WINDOW_LENGTHS",
    "BetaResult",
    "DrawdownEpisodes",
    "ScenarioResult",
    "StressResult",
    "analogue_windows",
    "conditional_beta",
    "downside_beta",
    "drawdown_episodes",
    "hac_beta",
    "scenario",
    "stress",
]

#: Drawdown depths (fractions of the running peak) that define episodes.
DEFAULT_THRESHOLDS: tuple[float, ...] = (0.10, 0.15, 0.20)
#: Shocks applied to the shocked basket by default (fractions: -0.10 = a 10% fall).
DEFAULT_SHOCKS: tuple[float, ...] = (-0.10, -0.15)
#: Lengths (in periods: weeks for :func:`stress`) of the historical analogue windows.
DEFAULT_WINDOW_LENGTHS: tuple[int, ...] = (1, 2, 3, 4)

#: Floating-point slack for "fell by at least the threshold" (100 -> 90 is a 10% fall).
_TOL = 1e-12


# ----------------------------------------------------------------------------- validation
def _check_fraction(value: Any, parameter: str, *, low: float = 0.0, high: float = 1.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.number) or not low < value < high:
        raise ParameterError(parameter, f"must be a number in ({low:g}, {high:g}), got {value!r}")
    return float(value)


def _check_thresholds(thresholds: Any) -> tuple[float, ...]:
    if isinstance(thresholds, int | float | np.number) and not isinstance(thresholds, bool):
        thresholds = (thresholds,)
    if not isinstance(thresholds, Sequence | np.ndarray) or isinstance(thresholds, str) or len(thresholds) == 0:
        raise ParameterError("thresholds", f"expected one or more fractions such as (0.10, 0.15), got {thresholds!r}")
    out = tuple(sorted({_check_fraction(t, "thresholds") for t in thresholds}))
    return out


def _check_shocks(shocks: Any, parameter: str = "shocks") -> tuple[float, ...]:
    if isinstance(shocks, int | float | np.number) and not isinstance(shocks, bool):
        shocks = (shocks,)
    if not isinstance(shocks, Sequence | np.ndarray) or isinstance(shocks, str) or len(shocks) == 0:
        raise ParameterError(parameter, f"expected one or more returns such as -0.15, got {shocks!r}")
    out: list[float] = []
    for s in shocks:
        if isinstance(s, bool) or not isinstance(s, int | float | np.number) or not np.isfinite(s):
            raise ParameterError(parameter, f"a shock must be a finite number (a return, -0.15 = -15%), got {s!r}")
        if s <= -1.0 or s == 0.0:
            raise ParameterError(parameter, f"a shock must be a non-zero return above -1 (-0.15 = -15%), got {s!r}")
        out.append(float(s))
    return tuple(dict.fromkeys(out))


def _check_level(level: Any) -> float:
    return _check_fraction(level, "level", low=0.5, high=1.0)


def _check_lengths(window_lengths: Any) -> tuple[int, ...]:
    if isinstance(window_lengths, int | np.integer) and not isinstance(window_lengths, bool):
        window_lengths = (window_lengths,)
    if not isinstance(window_lengths, Sequence | np.ndarray) or isinstance(window_lengths, str) or not len(window_lengths):
        raise ParameterError("window_lengths", f"expected window lengths such as (1, 2, 3, 4), got {window_lengths!r}")
    return tuple(sorted({check_int("window_lengths", w, 1) for w in window_lengths}))


def _check_quantiles(quantiles: Any) -> tuple[float, float]:
    if not isinstance(quantiles, Sequence | np.ndarray) or isinstance(quantiles, str) or len(quantiles) != 2:
        raise ParameterError("quantiles", f"expected two probabilities (low, high), got {quantiles!r}")
    lo, hi = (_check_fraction(q, "quantiles") for q in quantiles)
    if not lo < hi:
        raise ParameterError("quantiles", f"low must be below high, got {quantiles!r}")
    return lo, hi


def _returns_frame(data: Any, parameter: str) -> tuple[pd.DataFrame, bool]:
    """A float frame with a sorted, unique DatetimeIndex and unique columns; (frame, was_series)."""
    was_series = isinstance(data, pd.Series)
    if was_series:
        data = data.to_frame(name=data.name if data.name is not None else "series")
    if not isinstance(data, pd.DataFrame):
        raise ParameterError(parameter, f"expected a pandas DataFrame or Series, got {type(data).__name__}")
    if not isinstance(data.index, pd.DatetimeIndex):
        raise ParameterError(parameter, "index must be a DatetimeIndex (dates as rows)")
    if data.index.has_duplicates:
        raise ParameterError(parameter, f"index has duplicate dates (first {data.index[data.index.duplicated()][0]})")
    if not data.index.is_monotonic_increasing:
        raise ParameterError(parameter, "index must be sorted ascending")
    if data.columns.has_duplicates:
        raise ParameterError(parameter, f"duplicate columns: {sorted(set(data.columns[data.columns.duplicated()]))}")
    try:
        frame = data.astype("float64")
    except (TypeError, ValueError) as exc:
        raise ParameterError(parameter, f"values must be numeric ({exc})") from None
    if np.isinf(frame.to_numpy()).any():
        row, col = np.argwhere(np.isinf(frame.to_numpy()))[0]
        raise DataError(f"{parameter}: value of {frame.columns[col]!r} on {frame.index[row]} is infinite")
    return frame, was_series


# ----------------------------------------------------------------------------- drawdown episodes
@dataclass(frozen=True)
class DrawdownEpisodes:
    """Drawdowns of at least given depths: every episode, and frequency/duration per series.

    An episode for threshold ``h`` is a maximal underwater run of
    :func:`rotation.analytics.risk.drawdown` (a row of
    :func:`~rotation.analytics.risk.drawdown_table`) whose depth reaches
    ``-h``. It starts at the running peak, is *declared* on the first period
    the drawdown reaches ``-h`` and ends on the first period back at the peak
    (recovery), or is still open at the last observation. One fall counts
    once per threshold, however often it oscillates around ``-h`` on the way.

    Attributes
    ----------
    episodes : DataFrame
        One row per (series, threshold, episode), ordered by series (input
        order), threshold and peak. Columns: ``symbol``, ``threshold``;
        ``peak`` (date of the high-water mark); ``start`` (first date the
        drawdown is at least the threshold); ``trough``; ``recovery`` (first
        date back at the peak, NaT if open); ``depth`` (trough drawdown,
        e.g. -0.42); ``periods_to_trough``/``days_to_trough`` (peak to trough,
        in valid returns and calendar days); ``periods_to_recovery``/
        ``days_to_recovery`` (peak to recovery, NaN while open);
        ``days_underwater`` (peak to recovery, or to the last observation
        while open); ``recovered`` (bool).
    summary : DataFrame
        One row per (series, threshold), also when there is no episode.
        Columns: ``symbol``, ``threshold``, ``episodes`` (count, open one
        included), ``open`` (1 if the last one has not recovered),
        ``per_year`` (episodes per calendar year of data), ``years``
        (calendar span of the data: from the level before the first valid
        return to the last one, days / 365.25), ``first_date``,
        ``last_date``, ``deepest`` (lowest trough depth among the episodes),
        ``median_days_to_trough``, ``max_days_to_trough`` (all episodes),
        ``median_days_to_recovery``, ``max_days_to_recovery`` (recovered
        episodes only), ``open_days`` (days underwater so far of the open
        episode, a lower bound on its time to recovery; NaN if none).
    thresholds : tuple of float
    """

    episodes: pd.DataFrame
    summary: pd.DataFrame
    thresholds: tuple[float, ...]

    def to_frame(self) -> pd.DataFrame:
        """The frequency/duration summary (a copy), one row per series and threshold."""
        return self.summary.copy()


_EPISODE_COLUMNS = [
    "symbol", "threshold", "peak", "start", "trough", "recovery", "depth",
    "periods_to_trough", "days_to_trough", "periods_to_recovery", "days_to_recovery",
    "days_underwater", "recovered",
]


def drawdown_episodes(
    returns: SeriesOrFrame, thresholds: Sequence[float] | float = DEFAULT_THRESHOLDS
) -> DrawdownEpisodes:
    """Frequency and duration of drawdowns of at least each threshold.

    With wealth :math:`W_t = \\prod_{s \\le t}(1 + r_s)` and drawdown
    :math:`D_t = W_t / \\max(1, \\max_{s \\le t} W_s) - 1`
    (:func:`rotation.analytics.risk.drawdown`), an episode for threshold
    ``h`` is an underwater run :math:`\\{t : D_t < 0\\}` between a peak and
    its recovery with :math:`\\min_t D_t \\le -h`; it is declared on
    :math:`\\min\\{t : D_t \\le -h\\}` (a threshold crossing that is known on
    that date). Durations: to the trough :math:`t^* = \\arg\\min D_t` and to
    recovery :math:`\\min\\{t > t^* : D_t = 0\\}`, both from the peak.
    Frequency: :math:`\\text{episodes} / \\text{years}` with years the
    calendar span of the column's data / 365.25 (the same for daily and
    weekly sampling).

    Parameters
    ----------
    returns : DataFrame (T, N) or Series
        Periodic simple returns (all > -1) on a DatetimeIndex. Drawdowns from
        weekly returns miss intra-week troughs: use daily returns for depth.
    thresholds : float or sequence of float, default (0.10, 0.15, 0.20)
        Depths as positive fractions in (0, 1); a fall of exactly ``h``
        counts (to a 1e-12 tolerance).

    Returns
    -------
    DrawdownEpisodes

    Notes
    -----
    NaN rows are skipped (wealth is carried across them, as in
    :func:`~rotation.analytics.risk.drawdown`); a late listing starts from
    wealth 1 at the level before its first valid return. A column with no
    valid return has zero episodes and NaN statistics. The episode *list*
    is not trailing (a trough or recovery is known only later), but each
    episode's ``peak`` and ``start`` are: appending rows never changes them.

    Raises
    ------
    ParameterError
        Bad thresholds, no DatetimeIndex, duplicate columns.
    DataError
        No valid return at all, or a return <= -100%.
    """
    ths = _check_thresholds(thresholds)
    frame, _ = _returns_frame(returns, "returns")
    frame, values, _ = _prep(frame)
    _check_losses(values, frame)
    T, N = values.shape
    dates = frame.index
    dd = drawdown(frame).to_numpy(dtype=np.float64, na_value=np.nan)
    # every underwater run of every column (top = all runs): the episodes of all thresholds
    runs = drawdown_table(frame, top=T + 1).table
    col_pos = frame.columns.get_indexer(runs["symbol"])
    peak_pos = dates.get_indexer(pd.DatetimeIndex(runs["peak"]))
    rows = np.arange(T)[:, None]
    parts = []
    for h in ths:
        # next row (at or after each row) whose drawdown is at least h, per column: the crossing
        hit = np.where(np.isnan(dd), False, dd <= -h + _TOL)
        nxt = np.minimum.accumulate(np.where(hit, rows, T)[::-1], axis=0)[::-1]
        keep = (runs["depth"] <= -h + _TOL).to_numpy()
        sel = runs.loc[keep]
        cross = nxt[peak_pos[keep], col_pos[keep]]
        recovered = sel["recovered"].to_numpy(dtype=bool)
        peak = pd.DatetimeIndex(sel["peak"])
        trough = pd.DatetimeIndex(sel["trough"])
        recovery = pd.DatetimeIndex(sel["recovery"])
        parts.append(pd.DataFrame({
            "symbol": sel["symbol"].to_numpy(),
            "threshold": h,
            "peak": peak,
            "start": dates[cross],
            "trough": trough,
            "recovery": recovery,
            "depth": sel["depth"].to_numpy(dtype=np.float64),
            "periods_to_trough": sel["decline_periods"].to_numpy(dtype=np.int64),
            "days_to_trough": (trough - peak).days.to_numpy(dtype=np.int64),
            "periods_to_recovery": np.where(recovered, sel["duration_periods"].to_numpy(dtype=np.float64), np.nan),
            "days_to_recovery": np.where(recovered, (recovery - peak).days.to_numpy(dtype=np.float64, na_value=np.nan),
                                         np.nan),
            "days_underwater": sel["duration_days"].to_numpy(dtype=np.float64),
            "recovered": recovered,
            "_col": col_pos[keep],
        }))
    episodes = pd.concat(parts, ignore_index=True)
    episodes = episodes.sort_values(["_col", "threshold", "peak"], kind="stable").drop(columns="_col")
    for c in ("peak", "start", "trough", "recovery"):  # one datetime unit, also for an empty table
        episodes[c] = episodes[c].astype(dates.dtype)
    episodes = episodes.reset_index(drop=True)[_EPISODE_COLUMNS]

    # data span per column: the anchor level (row before the first valid return) to the last valid row
    valid = ~np.isnan(values)
    has = valid.any(axis=0)
    first = valid.argmax(axis=0)
    anchor = np.maximum(first - 1, 0)
    last = T - 1 - valid[::-1].argmax(axis=0)
    first_date = pd.Series(np.where(has, dates[anchor], pd.NaT), index=frame.columns, dtype="datetime64[ns]")
    last_date = pd.Series(np.where(has, dates[last], pd.NaT), index=frame.columns, dtype="datetime64[ns]")
    years = (last_date - first_date).dt.days / 365.25

    grid = pd.MultiIndex.from_product([frame.columns, ths], names=["symbol", "threshold"])
    g = episodes.groupby(["symbol", "threshold"], sort=False)
    rec = episodes[episodes["recovered"]].groupby(["symbol", "threshold"], sort=False)
    opened = episodes[~episodes["recovered"]].groupby(["symbol", "threshold"], sort=False)
    summary = pd.DataFrame(index=grid)
    summary["episodes"] = g.size().reindex(grid).fillna(0).astype(np.int64)
    summary["open"] = opened.size().reindex(grid).fillna(0).astype(np.int64)
    sym = grid.get_level_values("symbol")
    span = years.reindex(sym).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        summary["per_year"] = np.where(span > 0, summary["episodes"].to_numpy() / span, np.nan)
    summary["years"] = span
    summary["first_date"] = first_date.reindex(sym).to_numpy()
    summary["last_date"] = last_date.reindex(sym).to_numpy()
    summary["deepest"] = g["depth"].min().reindex(grid)
    summary["median_days_to_trough"] = g["days_to_trough"].median().reindex(grid)
    summary["max_days_to_trough"] = g["days_to_trough"].max().reindex(grid).astype(np.float64)
    summary["median_days_to_recovery"] = rec["days_to_recovery"].median().reindex(grid)
    summary["max_days_to_recovery"] = rec["days_to_recovery"].max().reindex(grid)
    summary["open_days"] = opened["days_underwater"].max().reindex(grid)
    summary = summary.reset_index()
    return DrawdownEpisodes(episodes=episodes, summary=summary, thresholds=ths)


# ----------------------------------------------------------------------------- betas
@dataclass(frozen=True)
class BetaResult:
    """Beta of each series on a benchmark with Newey-West (HAC) inference.

    Attributes
    ----------
    table : DataFrame
        Index = series (name ``series``). Columns: ``beta`` (in the selected
        periods; every period for ``kind="full"``), ``se``, ``t``, ``p``
        (two-sided, beta = 0), ``ci_low``, ``ci_high`` (``level`` interval),
        ``intercept`` (of the selected periods' line), ``nobs`` (selected
        periods used), ``nobs_total`` (all joint periods in the regression),
        ``beta_other`` (beta in the other periods; NaN for ``full``),
        ``diff`` (``beta - beta_other``), ``diff_se``, ``diff_p`` (HAC test of
        equal betas), ``hac_lags``, ``start``, ``end`` (first/last joint date).
        NaN where a series has too few observations (see ``notes``).
    kind : {"full", "downside", "conditional"}
    benchmark : str
        Name of the benchmark series.
    cutoff : float
        Benchmark return defining the selected periods: ``r_b < cutoff``
        (downside) or ``r_b <= cutoff`` (conditional); NaN for ``full``.
    quantile : float
        The conditional quantile ``q`` (NaN otherwise).
    level : float
        Confidence level of the intervals.
    notes : tuple of str
    """

    table: pd.DataFrame
    kind: str
    benchmark: str
    cutoff: float
    quantile: float
    level: float
    notes: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """The estimates (a copy), one row per series."""
        return self.table.copy()

    @property
    def beta(self) -> pd.Series:
        """The betas, one per series."""
        return self.table["beta"]


_BETA_COLUMNS = [
    "beta", "se", "t", "p", "ci_low", "ci_high", "intercept", "nobs", "nobs_total",
    "beta_other", "diff", "diff_se", "diff_p", "hac_lags", "start", "end",
]


def _align(returns: SeriesOrFrame, benchmark: pd.Series) -> tuple[pd.DataFrame, pd.Series, str]:
    frame, _ = _returns_frame(returns, "returns")
    if isinstance(benchmark, pd.DataFrame) and benchmark.shape[1] == 1:
        benchmark = benchmark.iloc[:, 0]
    if not isinstance(benchmark, pd.Series):
        raise ParameterError("benchmark", f"expected a pandas Series, got {type(benchmark).__name__}")
    bframe, _ = _returns_frame(benchmark, "benchmark")
    name = str(benchmark.name) if benchmark.name is not None else "benchmark"
    common = frame.index.intersection(bframe.index)
    if len(common) == 0:
        raise DataError("returns and benchmark share no dates (align them on one index, e.g. a weekly panel's)")
    return frame.loc[common], bframe.iloc[:, 0].loc[common], name


def _fit_betas(
    frame: pd.DataFrame,
    bench: pd.Series,
    select: np.ndarray | None,
    *,
    hac_lags: int | None,
    level: float,
    min_obs: int,
    what: str,
) -> tuple[pd.DataFrame, list[str]]:
    """HAC regressions of every column on the benchmark, optionally with a regime split.

    ``select`` (T,) bool marks the periods whose beta is wanted; the model is
    fully interacted (separate intercept and slope in and out of the
    selection) and fitted on all joint periods, so the slope equals the OLS
    slope on the selected periods alone while the Newey-West covariance sees
    the periods in their real time order.
    """
    b = bench.to_numpy(dtype=np.float64)
    Y = frame.to_numpy(dtype=np.float64)
    T, N = Y.shape
    out = np.full((N, len(_BETA_COLUMNS) - 2), np.nan)
    n_selected = np.zeros(N, dtype=np.int64)
    starts: list[Any] = []
    ends: list[Any] = []
    notes: list[str] = []
    b_ok = np.isfinite(b)
    ok_all = np.isfinite(Y) & b_ok[:, None]
    alpha = round(1.0 - level, 12)
    # one statsmodels fit per column: each column has its own valid rows (late listings, gaps)
    for j, col in enumerate(frame.columns):
        ok = ok_all[:, j]
        n = int(ok.sum())
        dates = frame.index[ok]
        starts.append(dates[0] if n else pd.NaT)
        ends.append(dates[-1] if n else pd.NaT)
        y, x = Y[ok, j], b[ok]
        if select is None:
            n_sel = n
            design = np.column_stack([np.ones(n), x])
            need_other = 0
        else:
            d = select[ok].astype(np.float64)
            n_sel = int(d.sum())
            design = np.column_stack([d, 1.0 - d, d * x, (1.0 - d) * x])
            need_other = 3
        n_selected[j] = n_sel
        if n_sel < min_obs or (n - n_sel) < need_other:
            notes.append(
                f"{col}: {n_sel} {what} periods" + (f" and {n - n_sel} others" if select is not None else "")
                + f" with the benchmark; at least {min_obs}"
                + (f" (and {need_other} others)" if select is not None else "") + " needed: not estimated"
            )
            continue
        if np.linalg.matrix_rank(design) < design.shape[1]:
            notes.append(f"{col}: the benchmark is constant within a regime on its rows: not estimated")
            continue
        L = newey_west_lags(n) if hac_lags is None else hac_lags
        res = ols_hac(y, design, L, alpha)
        # beta of the selected periods: slope column 1 (full) or 2 (interacted)
        k_b, k_a = (1, 0) if select is None else (2, 0)
        est, se = res["params"][k_b], res["bse"][k_b]
        row = [est, se, res["tvalues"][k_b], res["pvalues"][k_b], res["ci"][k_b, 0], res["ci"][k_b, 1],
               res["params"][k_a], n_sel, n]
        if select is None:
            row += [np.nan, np.nan, np.nan, np.nan]
        else:
            cov = res["cov"]
            diff = est - res["params"][3]
            var = cov[2, 2] + cov[3, 3] - 2.0 * cov[2, 3]
            dse = math.sqrt(var) if var > 0 else np.nan
            dp = 2.0 * stats.t.sf(abs(diff / dse), res["df_resid"]) if np.isfinite(dse) and dse > 0 else np.nan
            row += [res["params"][3], diff, dse, dp]
        row.append(L)
        out[j] = row
    table = pd.DataFrame(out, index=pd.Index(frame.columns, name="series"), columns=_BETA_COLUMNS[:-2])
    table["nobs"] = n_selected
    table["nobs_total"] = pd.Series(ok_all.sum(axis=0), index=table.index).astype(np.int64)
    table["start"] = pd.DatetimeIndex(starts)
    table["end"] = pd.DatetimeIndex(ends)
    return table, notes


def _beta_args(hac_lags: Any, level: Any, min_obs: Any) -> tuple[int | None, float, int]:
    lags = None if hac_lags is None else check_int("hac_lags", hac_lags, 0)
    return lags, _check_level(level), check_int("min_obs", min_obs, 3)


def _finish(table: pd.DataFrame, notes: list[str], kind: str) -> None:
    if not np.isfinite(table["beta"].to_numpy()).any():
        raise DataError(f"{kind} beta: no series has enough observations with the benchmark; " + "; ".join(notes))


def hac_beta(
    returns: SeriesOrFrame,
    benchmark: pd.Series,
    *,
    hac_lags: int | None = None,
    level: float = 0.95,
    min_obs: int = 20,
) -> BetaResult:
    """Full-sample OLS beta of each series on a benchmark, with Newey-West standard errors.

    .. math:: r_{i,t} = a_i + \\beta_i\\, r_{b,t} + \\varepsilon_{i,t}

    on the dates where both are valid. The point estimate equals
    :func:`rotation.analytics.comovement.beta`; inference is statsmodels OLS
    with HAC covariance (:func:`rotation.analytics.macro.ols_hac`: Bartlett
    kernel, ``n/(n-k)`` correction, t with ``n - 2`` df), lags
    ``floor(4 (n/100)^(2/9))`` unless ``hac_lags`` is given.

    Parameters
    ----------
    returns : DataFrame (T, N) or Series
        Periodic simple returns (weekly recommended: daily crypto/equity
        returns are asynchronous).
    benchmark : Series
        Benchmark returns; rows are matched by date.
    hac_lags : int, optional
        Fixed Newey-West lags.
    level : float, default 0.95
        Confidence level of ``ci_low``/``ci_high``.
    min_obs : int, default 20
        Series with fewer joint observations get NaN and a note.

    Returns
    -------
    BetaResult
        ``kind="full"``.

    Raises
    ------
    DataError
        No series has ``min_obs`` joint observations.
    """
    lags, level, min_obs = _beta_args(hac_lags, level, min_obs)
    frame, bench, name = _align(returns, benchmark)
    table, notes = _fit_betas(frame, bench, None, hac_lags=lags, level=level, min_obs=min_obs, what="joint")
    _finish(table, notes, "full-sample")
    return BetaResult(table=table, kind="full", benchmark=name, cutoff=np.nan, quantile=np.nan, level=level,
                      notes=tuple(notes))


def downside_beta(
    returns: SeriesOrFrame,
    benchmark: pd.Series,
    *,
    threshold: float = 0.0,
    hac_lags: int | None = None,
    level: float = 0.95,
    min_obs: int = 20,
) -> BetaResult:
    """Downside beta: the slope on the benchmark in periods when it returns less than ``threshold``.

    .. math::

        r_{i,t} = a^-_i D_t + a^+_i (1 - D_t) + \\beta^-_i D_t r_{b,t}
                  + \\beta^+_i (1 - D_t) r_{b,t} + \\varepsilon_{i,t},
        \\qquad D_t = \\mathbb 1[r_{b,t} < c]

    The fully interacted regression on all joint periods gives exactly the
    OLS slope of the down periods alone,
    :math:`\\beta^- = \\mathrm{cov}(r_i, r_b \\mid r_b < c) / \\mathrm{var}(r_b \\mid r_b < c)`
    (Bawa-Lindenberg; Ang, Chen and Xing 2006 with ``c`` = 0 instead of the
    mean), while its Newey-West covariance uses the periods in their real
    time order. ``beta_other`` is :math:`\\beta^+` and ``diff_p`` tests
    :math:`\\beta^- = \\beta^+` (HAC).

    Parameters
    ----------
    returns : DataFrame (T, N) or Series
        Periodic simple returns.
    benchmark : Series
        Benchmark returns (the shocked basket in a scenario).
    threshold : float, default 0.0
        ``c``: a period is "down" when the benchmark returns strictly less.
    hac_lags, level
        As in :func:`hac_beta`.
    min_obs : int, default 20
        Down periods needed per series (and 3 others); fewer -> NaN and a note.

    Returns
    -------
    BetaResult
        ``kind="downside"``, ``cutoff=threshold``.
    """
    lags, level, min_obs = _beta_args(hac_lags, level, min_obs)
    if isinstance(threshold, bool) or not isinstance(threshold, int | float | np.number) or not np.isfinite(threshold):
        raise ParameterError("threshold", f"must be a finite return, got {threshold!r}")
    frame, bench, name = _align(returns, benchmark)
    b = bench.to_numpy(dtype=np.float64)
    select = np.where(np.isfinite(b), b < float(threshold), False)
    table, notes = _fit_betas(frame, bench, select, hac_lags=lags, level=level, min_obs=min_obs, what="down")
    _finish(table, notes, "downside")
    return BetaResult(table=table, kind="downside", benchmark=name, cutoff=float(threshold), quantile=np.nan,
                      level=level, notes=tuple(notes))


def conditional_beta(
    returns: SeriesOrFrame,
    benchmark: pd.Series,
    *,
    quantile: float = 0.10,
    hac_lags: int | None = None,
    level: float = 0.95,
    min_obs: int = 20,
) -> BetaResult:
    """Conditional (tail) beta: the slope on the benchmark in its worst ``quantile`` of periods.

    Same interacted regression as :func:`downside_beta` with
    :math:`D_t = \\mathbb 1[r_{b,t} \\le Q_q(r_b)]`, where :math:`Q_q` is the
    ``q`` quantile (linear interpolation, ``numpy.quantile``) of **all** the
    benchmark's valid returns on the input dates, so every series is judged
    on the same benchmark periods (a late-listed series simply has fewer of
    them).

    Parameters
    ----------
    returns : DataFrame (T, N) or Series
    benchmark : Series
    quantile : float, default 0.10
        ``q`` in (0, 1): 0.10 = the benchmark's worst 10% of periods.
    hac_lags, level
        As in :func:`hac_beta`.
    min_obs : int, default 20
        Tail periods needed per series (and 3 others).

    Returns
    -------
    BetaResult
        ``kind="conditional"``, ``cutoff`` = :math:`Q_q`, ``quantile = q``.
    """
    lags, level, min_obs = _beta_args(hac_lags, level, min_obs)
    q = _check_fraction(quantile, "quantile")
    frame, bench, name = _align(returns, benchmark)
    b = bench.to_numpy(dtype=np.float64)
    valid = b[np.isfinite(b)]
    if valid.size < 2:
        raise DataError(f"conditional beta: the benchmark has {valid.size} valid returns")
    cutoff = float(np.quantile(valid, q))
    select = np.where(np.isfinite(b), b <= cutoff, False)
    table, notes = _fit_betas(frame, bench, select, hac_lags=lags, level=level, min_obs=min_obs, what="tail")
    _finish(table, notes, "conditional")
    return BetaResult(table=table, kind="conditional", benchmark=name, cutoff=cutoff, quantile=q, level=level,
                      notes=tuple(notes))


# ----------------------------------------------------------------------------- analogues
def _window_sums(values: np.ndarray, first: np.ndarray, last: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Compounded returns (W, N) over rows ``first..last`` (inclusive) and whether all were valid."""
    valid = ~np.isnan(values)
    logs = np.log1p(np.where(valid, values, 0.0))
    csum = np.vstack([np.zeros((1, values.shape[1])), np.cumsum(logs, axis=0)])
    ccount = np.vstack([np.zeros((1, values.shape[1]), dtype=np.int64), np.cumsum(valid, axis=0)])
    total = np.expm1(csum[last + 1] - csum[first])
    complete = (ccount[last + 1] - ccount[first]) == (last - first + 1)[:, None]
    return total, complete


def analogue_windows(
    returns: pd.Series,
    shock: float,
    *,
    window_lengths: Sequence[int] | int = DEFAULT_WINDOW_LENGTHS,
    band: float = 0.025,
) -> pd.DataFrame:
    """Past non-overlapping windows in which a series returned about ``shock``.

    A candidate is every window of ``w`` consecutive periods (``w`` in
    ``window_lengths``) ending on row ``t`` with all ``w`` returns valid and

    .. math:: \\Big| \\prod_{s=t-w+1}^{t} (1 + r_s) - 1 - x \\Big| \\le \\text{band}.

    Candidates overlap (a crash week sits in several windows), so windows
    are chosen greedily by end date, the shortest first on a tie: a window is
    kept if it shares no period with one kept before. This is the
    earliest-end rule that keeps the largest possible number of disjoint
    windows (interval scheduling), and it is causal: a window's selection
    depends only on windows that ended earlier, so appending rows never
    changes past selections. Adjacent windows (one ending where the next
    starts) are allowed; they are not independent draws when a fall spans
    both, so read the count as an upper bound on independent episodes.

    Parameters
    ----------
    returns : Series (T,)
        Periodic simple returns of the shocked series, DatetimeIndex.
    shock : float
        ``x``, the scenario return (-0.15 = a 15% fall); non-zero, > -1.
    window_lengths : int or sequence of int, default (1, 2, 3, 4)
        Window lengths in periods (weeks on a weekly frame).
    band : float, default 0.025
        Half-width of the accepted range around ``x`` (absolute return:
        -0.15 +/- 0.025 accepts falls of 12.5% to 17.5%).

    Returns
    -------
    DataFrame
        One row per chosen window, in time order: ``start`` (date of the
        level the window starts from: the row before its first return, NaT
        at the first row), ``end`` (last row), ``periods`` (``w``),
        ``return`` (the compounded return), ``first_row``, ``last_row``
        (integer positions of the window's first and last return).
    """
    shock = _check_shocks(shock, "shock")[0]
    lengths = _check_lengths(window_lengths)
    if isinstance(band, bool) or not isinstance(band, int | float | np.number) or not 0 < band < 1:
        raise ParameterError("band", f"must be a positive fraction (0.025 = +/- 2.5 points), got {band!r}")
    if isinstance(returns, pd.DataFrame) and returns.shape[1] == 1:
        returns = returns.iloc[:, 0]
    if not isinstance(returns, pd.Series):
        raise ParameterError("returns", f"expected the shocked series' returns as a Series, got {type(returns).__name__}")
    frame, _ = _returns_frame(returns, "returns")
    values = frame.to_numpy()
    _check_losses(values, frame)
    T = len(values)
    cols = ["start", "end", "periods", "return", "first_row", "last_row"]
    ends_l, lens_l = [], []
    for w in lengths:  # a handful of lengths; each is vectorised over all end rows
        if w <= T:
            t = np.arange(w - 1, T)
            ends_l.append(t)
            lens_l.append(np.full(len(t), w))
    if not ends_l:
        return pd.DataFrame(columns=cols)
    last = np.concatenate(ends_l)
    w_all = np.concatenate(lens_l)
    first = last - w_all + 1
    total, complete = _window_sums(values, first, last)
    total, complete = total[:, 0], complete[:, 0]
    cand = complete & (np.abs(total - shock) <= band + _TOL)
    order = np.lexsort((w_all[cand], last[cand]))  # by end row, then shortest
    c_first, c_last, c_w, c_ret = first[cand][order], last[cand][order], w_all[cand][order], total[cand][order]
    keep = np.zeros(len(c_first), dtype=bool)
    taken_to = -1
    for i in range(len(c_first)):  # greedy earliest-end: sequential by nature
        if c_first[i] > taken_to:
            keep[i] = True
            taken_to = c_last[i]
    idx = frame.index
    fr, la = c_first[keep], c_last[keep]
    start = pd.DatetimeIndex([idx[f - 1] if f > 0 else pd.NaT for f in fr])
    return pd.DataFrame({
        "start": start,
        "end": idx[la],
        "periods": c_w[keep].astype(np.int64),
        "return": c_ret[keep],
        "first_row": fr.astype(np.int64),
        "last_row": la.astype(np.int64),
    })


def _median_ci(x: np.ndarray, level: float) -> tuple[float, float]:
    """Distribution-free CI of the median from order statistics (binomial, i.i.d. draws).

    ``[x_(l), x_(n+1-l)]`` with ``l`` the largest integer with
    ``P(B <= l - 1) <= (1 - level)/2``, ``B ~ Binomial(n, 1/2)``; coverage
    ``1 - 2 P(B <= l - 1) >= level``. NaN when ``n`` is too small (``l = 0``).
    """
    n = len(x)
    if n == 0:
        return np.nan, np.nan
    a = (1.0 - level) / 2.0
    cdf = stats.binom.cdf(np.arange(n), n, 0.5)  # cdf[k] = P(B <= k)
    ok = np.flatnonzero(cdf <= a + 1e-15)
    if ok.size == 0:
        return np.nan, np.nan
    l_ = int(ok[-1]) + 1  # P(B <= l - 1) <= a
    s = np.sort(x)
    return float(s[l_ - 1]), float(s[n - l_])


# ----------------------------------------------------------------------------- scenario
@dataclass(frozen=True)
class ScenarioResult:
    """Response of other series to a shock to one, from betas and from historical analogues.

    Attributes
    ----------
    shocked : str
        The shocked series (basket).
    shocks : tuple of float
        The shocks applied (returns: -0.15 = a 15% fall).
    responses : DataFrame
        Tidy, one row per (shock, series, method). Columns: ``shock``,
        ``series``, ``method`` (``beta``, ``downside_beta``,
        ``conditional_beta``, ``analogues``), ``response`` (``beta * shock``,
        or the median return over the analogue windows), ``low``, ``high``
        (the uncertainty band: the beta's ``level`` HAC confidence interval
        times the shock, or the ``quantiles`` of the analogue returns),
        ``band`` (which of the two), ``beta`` and ``beta_p`` (beta rows),
        ``n`` (periods in the regression's regime, or analogue windows with
        the series observed), ``median_ci_low``, ``median_ci_high`` (the
        analogue median's distribution-free ``level`` interval; NaN with
        fewer than 6 windows at 95%), ``mean`` (analogue mean).
    betas : dict of str -> BetaResult
        ``beta``, ``downside_beta``, ``conditional_beta`` of every other
        series on the shocked one.
    windows : DataFrame
        The analogue windows (see :func:`analogue_windows`) with a ``shock``
        column and each series' compounded return over the window (NaN where
        it has a missing period).
    window_lengths : tuple of int
    band : float
    quantiles : tuple of float
    level : float
    notes : tuple of str
    """

    shocked: str
    shocks: tuple[float, ...]
    responses: pd.DataFrame
    betas: dict[str, BetaResult]
    windows: pd.DataFrame
    window_lengths: tuple[int, ...]
    band: float
    quantiles: tuple[float, float]
    level: float
    notes: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """The responses (a copy) with a leading ``shocked`` column."""
        out = self.responses.copy()
        out.insert(0, "shocked", self.shocked)
        return out


_RESPONSE_COLUMNS = ["shock", "series", "method", "response", "low", "high", "band", "beta", "beta_p", "n",
                     "median_ci_low", "median_ci_high", "mean"]


def scenario(
    returns: ReturnFrame,
    shocked: str,
    shocks: float | Sequence[float] = DEFAULT_SHOCKS,
    *,
    responses: Sequence[str] | None = None,
    window_lengths: Sequence[int] | int = DEFAULT_WINDOW_LENGTHS,
    band: float = 0.025,
    quantiles: tuple[float, float] = (0.10, 0.90),
    downside_threshold: float = 0.0,
    conditional_quantile: float = 0.10,
    level: float = 0.95,
    hac_lags: int | None = None,
    min_obs: int = 20,
) -> ScenarioResult:
    """Shock one series by ``x`` and estimate the response of the others.

    (a) **Betas** of each other series on the shocked one over the whole
    sample (:func:`hac_beta`), in its down periods (:func:`downside_beta`,
    ``r_s < downside_threshold``) and in its worst ``conditional_quantile``
    (:func:`conditional_beta`): response :math:`\\hat\\beta x`, band
    :math:`[\\beta_{lo} x, \\beta_{hi} x]` from the HAC interval (the
    intercept is left out: the shock is read as a one-period move against
    the series' normal drift). The betas are per period, so the shock is a
    one-period move (one week on a weekly frame).

    (b) **Historical analogues**: the non-overlapping windows of
    ``window_lengths`` periods in which the shocked series returned
    ``x +/- band`` (:func:`analogue_windows`) and each other series'
    compounded return over the same windows: response = median, band = the
    ``quantiles`` (10%-90% by default, ``numpy.quantile`` linear), with the
    count of windows and a distribution-free interval for the median
    (binomial order statistics, as ``scipy.stats.quantile_test``). A series
    with a missing period in a window is left out of that window.

    Parameters
    ----------
    returns : DataFrame (T, N)
        Periodic simple returns with a column for the shocked series
        (weekly recommended).
    shocked : str
        Column to shock.
    shocks : float or sequence of float, default (-0.10, -0.15)
        Scenario returns of the shocked series.
    responses : sequence of str, optional
        Columns whose response is wanted (default: all others).
    window_lengths, band
        Analogue windows, see :func:`analogue_windows`.
    quantiles : (float, float), default (0.10, 0.90)
        Band of the analogue distribution.
    downside_threshold, conditional_quantile
        See :func:`downside_beta` and :func:`conditional_beta`.
    level : float, default 0.95
        Confidence level of the beta intervals and the median interval.
    hac_lags, min_obs
        See :func:`hac_beta` (``min_obs`` applies to each regime's periods).

    Returns
    -------
    ScenarioResult

    Raises
    ------
    ParameterError
        Unknown columns or bad parameters.
    DataError
        The shocked series has no usable returns.
    """
    frame, _ = _returns_frame(returns, "returns")
    if shocked not in frame.columns:
        raise ParameterError("shocked", f"{shocked!r} is not a column of returns ({', '.join(map(str, frame.columns))})")
    xs = _check_shocks(shocks)
    lengths = _check_lengths(window_lengths)
    qlo, qhi = _check_quantiles(quantiles)
    level = _check_level(level)
    others = [c for c in frame.columns if c != shocked] if responses is None else list(dict.fromkeys(responses))
    unknown = [c for c in others if c not in frame.columns]
    if unknown:
        raise ParameterError("responses", f"not columns of returns: {', '.join(map(str, unknown))}")
    if shocked in others:
        raise ParameterError("responses", f"{shocked!r} is the shocked series")
    if not others:
        raise ParameterError("responses", "no other series to respond to the shock")
    sr = frame[shocked]
    if sr.notna().sum() < 2:
        raise DataError(f"scenario: the shocked series {shocked!r} has {int(sr.notna().sum())} valid returns")
    resp = frame[others]
    notes: list[str] = []
    kw = {"hac_lags": hac_lags, "level": level, "min_obs": min_obs}
    betas: dict[str, BetaResult] = {}
    for method, fn, extra in (("beta", hac_beta, {}),
                              ("downside_beta", downside_beta, {"threshold": downside_threshold}),
                              ("conditional_beta", conditional_beta, {"quantile": conditional_quantile})):
        try:
            betas[method] = fn(resp, sr, **kw, **extra)
        except DataError as exc:
            notes.append(f"{method}: {exc}")
            continue
        notes += [f"{method}: {n}" for n in betas[method].notes]

    rows: list[dict[str, Any]] = []
    windows_parts: list[pd.DataFrame] = []
    values = resp.to_numpy(dtype=np.float64)
    _check_losses(values, resp)
    for x in xs:
        for method, res in betas.items():
            t = res.table
            lo, hi = np.sort(np.column_stack([t["ci_low"] * x, t["ci_high"] * x]), axis=1).T
            for k, s in enumerate(t.index):
                rows.append({"shock": x, "series": s, "method": method, "response": t.at[s, "beta"] * x,
                             "low": lo[k], "high": hi[k], "band": f"{level:.0%} CI (HAC)",
                             "beta": t.at[s, "beta"], "beta_p": t.at[s, "p"], "n": int(t.at[s, "nobs"])})
        win = analogue_windows(sr, x, window_lengths=lengths, band=band)
        first, last = win["first_row"].to_numpy(np.int64), win["last_row"].to_numpy(np.int64)
        if len(win):
            total, complete = _window_sums(values, first, last)
            total = np.where(complete, total, np.nan)
        else:
            total = np.empty((0, len(others)))
            notes.append(f"analogues: no window of {', '.join(map(str, lengths))} periods in which {shocked} "
                         f"returned {x:+.1%} +/- {band:.1%}")
        w = win.drop(columns=["first_row", "last_row"]).assign(shock=x)
        windows_parts.append(pd.concat([w, pd.DataFrame(total, columns=others, index=w.index)], axis=1))
        n = (~np.isnan(total)).sum(axis=0)
        with np.errstate(all="ignore"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns -> NaN
                q = np.nanquantile(total, [0.5, qlo, qhi], axis=0) if len(total) else np.full((3, len(others)), np.nan)
                mean = np.nanmean(total, axis=0) if len(total) else np.full(len(others), np.nan)
        for k, s in enumerate(others):
            ci = _median_ci(total[~np.isnan(total[:, k]), k], level)
            rows.append({"shock": x, "series": s, "method": "analogues", "response": q[0, k], "low": q[1, k],
                         "high": q[2, k], "band": f"{qlo:.0%}-{qhi:.0%} of analogues", "beta": np.nan,
                         "beta_p": np.nan, "n": int(n[k]), "median_ci_low": ci[0], "median_ci_high": ci[1],
                         "mean": mean[k]})
    table = pd.DataFrame(rows, columns=_RESPONSE_COLUMNS)
    table["n"] = table["n"].astype(np.int64)
    windows = pd.concat(windows_parts, ignore_index=True)
    windows = windows[["shock", *[c for c in windows.columns if c != "shock"]]]
    return ScenarioResult(shocked=str(shocked), shocks=xs, responses=table, betas=betas, windows=windows,
                          window_lengths=lengths, band=float(band), quantiles=(qlo, qhi), level=level,
                          notes=tuple(notes))


# ----------------------------------------------------------------------------- main entry
@dataclass(frozen=True)
class StressResult:
    """Drawdown frequency and shock scenarios for a set of baskets (``rt.stress``).

    Attributes
    ----------
    drawdowns : DrawdownEpisodes
        Episodes and frequency/duration summary of every basket, computed on
        the input's own frequency (daily levels give true daily troughs).
    scenarios : dict of str -> ScenarioResult
        One per shocked basket, on weekly returns (see ``scenario_frequency``).
    levels : DataFrame (T, B)
        The basket levels used (after the ``start``/``end`` cut and the
        coverage-end trim).
    frequency : str
        ``"D"`` or ``"W"`` (or ``"other"``): spacing of ``levels``.
    scenario_frequency : str
        ``"W"`` when levels were daily (reduced to complete W-FRI weeks),
        else the input frequency.
    start, end : Timestamp
        First and last date of ``levels``.
    notes : tuple of str
    """

    drawdowns: DrawdownEpisodes
    scenarios: dict[str, ScenarioResult]
    levels: pd.DataFrame
    frequency: str
    scenario_frequency: str
    start: pd.Timestamp
    end: pd.Timestamp
    notes: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """All scenario responses, one row per (shocked, shock, series, method)."""
        parts = [s.to_frame() for s in self.scenarios.values()]
        if not parts:
            return pd.DataFrame(columns=["shocked", *_RESPONSE_COLUMNS])
        return pd.concat(parts, ignore_index=True)

    def drawdown_frequency(self) -> pd.DataFrame:
        """The drawdown frequency/duration summary (see :class:`DrawdownEpisodes`)."""
        return self.drawdowns.to_frame()


def _spacing(index: pd.DatetimeIndex) -> str:
    if len(index) < 3:
        return "other"
    median_days = float(np.median((index[1:] - index[:-1]).total_seconds())) / 86_400.0
    if median_days < 5.0:
        return "D"
    if median_days <= 10.0:
        return "W"
    return "other"


def _panel_levels(
    panel: Panel, baskets: Sequence[str] | None, shocked: list[str], weighting: str
) -> tuple[pd.DataFrame, list[str], Any]:
    """Basket levels from a Panel, each cut at its coverage end (no stale forward-filled tail)."""
    from rotation.analytics.performance import basket_indices, common_window

    uni = panel.universe
    if uni is None:
        raise ParameterError("data", "the panel has no universe: pass basket levels as a DataFrame instead")
    default = [n for n, b in uni.baskets.items() if b.role in ("ai", "crypto")]
    names = list(dict.fromkeys([*(default if baskets is None else baskets), *shocked]))
    for n in names:
        uni.basket(n)  # unknown basket -> UniverseError naming the known ones
    if weighting not in ("equal", "cap", "basket"):
        raise ParameterError("weighting", f"must be equal, cap or basket, got {weighting!r}")
    notes: list[str] = []
    if weighting == "basket":
        indices = basket_indices(panel, names)
    else:
        indices = {}
        for n in names:
            try:
                indices[n] = panel.basket(n, weighting)
            except DataError as exc:
                notes.append(f"{n}: left out ({exc})")
    for n in names:
        if n not in indices and not any(note.startswith(f"{n}:") for note in notes):
            notes.append(f"{n}: left out (no member has prices in the panel)")
    if not indices:
        raise DataError("none of the baskets has member prices in the panel: " + "; ".join(notes))
    notes += [f"{n}: {note}" for n, idx in indices.items() for note in idx.notes]
    levels = pd.DataFrame({n: idx.level for n, idx in indices.items()})
    try:
        cw = common_window(panel, indices)
    except DataError as exc:
        notes.append(f"coverage ends unknown ({exc}); levels used as they are")
    else:
        for n, end in cw.ends.items():
            if n in levels.columns and end < levels.index[-1]:
                levels.loc[levels.index > end, n] = np.nan
                notes.append(f"{n}: member data end {pd.Timestamp(end).date()}; later rows left out")
    return levels, notes, uni


def stress(
    data: Panel | PriceFrame,
    shocks: Mapping[str, float | Sequence[float]] | None = None,
    *,
    baskets: Sequence[str] | None = None,
    weighting: str = "equal",
    start: DateLike | None = None,
    end: DateLike | None = None,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    window_lengths: Sequence[int] = DEFAULT_WINDOW_LENGTHS,
    band: float = 0.025,
    quantiles: tuple[float, float] = (0.10, 0.90),
    downside_threshold: float = 0.0,
    conditional_quantile: float = 0.10,
    level: float = 0.95,
    hac_lags: int | None = None,
    min_obs: int = 20,
) -> StressResult:
    """Stress test: drawdown frequency of every basket and shock scenarios (``rt.stress``).

    1. :func:`drawdown_episodes` of every basket's level at the input
       frequency (``thresholds``, default 10/15/20%).
    2. For each shocked basket, :func:`scenario` on **weekly** returns
       (daily levels are reduced to the last level of each complete W-FRI
       week with :func:`rotation.analytics.rrg.to_weekly`): betas (full,
       downside, conditional) and historical analogues of 1-4 weeks.

    Parameters
    ----------
    data : Panel or DataFrame (T, B)
        A :class:`rotation.panel.Panel` (baskets are built from its universe)
        or basket/instrument **levels** (prices, index levels; positive, NaN
        before a late start).
    shocks : mapping, optional
        ``{basket: shock or shocks}``, e.g. ``{"ai_compute": (-0.10, -0.15)}``.
        Default: the panel's first ``ai`` basket shocked by -10% and -15%.
    baskets : sequence of str, optional
        Panel baskets to include (default: those with role ``ai`` or
        ``crypto``); shocked baskets are added. With a DataFrame: columns to
        keep (default all).
    weighting : {"equal", "cap", "basket"}, default "equal"
        Panel basket weights (``basket`` = each basket's configured weighting,
        equal when caps are too sparse). Equal is the default because equity
        market caps are often a single snapshot, which would start a
        cap-weighted equity basket at that snapshot.
    start, end : date-like, optional
        Rows of the levels to use (the basket indices are built on the whole
        panel first, then cut; drawdowns start from the first level kept).
    thresholds, window_lengths, band, quantiles, downside_threshold, conditional_quantile, level, hac_lags, min_obs
        See :func:`drawdown_episodes` and :func:`scenario`.

    Returns
    -------
    StressResult

    Notes
    -----
    With a Panel each basket's level is cut at its coverage end
    (:func:`rotation.analytics.performance.common_window`: the date by which
    half its members still had observed prices), so a feed that stopped
    early does not add weeks of zero returns.
    """
    from rotation.analytics.returns import simple_returns
    from rotation.analytics.rrg import to_weekly
    from rotation.panel._build import _as_date

    notes: list[str] = []
    uni = None
    if isinstance(data, Panel):
        levels, more, uni = _panel_levels(data, baskets, list(shocks or {}), weighting)
        notes += more
    else:
        levels, _ = _returns_frame(data, "data")
        if baskets is not None:
            missing = [b for b in baskets if b not in levels.columns]
            if missing:
                raise ParameterError("baskets", f"not columns of data: {', '.join(map(str, missing))}")
            keep = list(dict.fromkeys([*baskets, *(shocks or {})]))
            levels = levels[[c for c in keep if c in levels.columns]]
    v = levels.to_numpy(dtype=np.float64)
    bad = ~np.isnan(v) & ~(v > 0)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise DataError(f"level of {levels.columns[c]!r} on {levels.index[r]} is {v[r, c]!r}: stress needs positive "
                        "levels (prices or index levels, not returns)")
    lo, hi = _as_date("start", start), _as_date("end", end)
    if lo is not None and hi is not None and hi < lo:
        raise ParameterError("end", f"end {hi.date()} is before start {lo.date()}")
    levels = levels.loc[lo:hi].dropna(how="all", axis=1)
    if levels.shape[0] < 3 or levels.shape[1] == 0:
        raise DataError(f"stress: {levels.shape[0]} rows and {levels.shape[1]} series with data between "
                        f"{lo.date() if lo is not None else 'the start'} and {hi.date() if hi is not None else 'the end'}")

    if shocks is None:
        ai = [n for n in levels.columns if uni is not None and n in uni.baskets and uni.basket(n).role == "ai"]
        if not ai:
            raise ParameterError("shocks", "no default: name the basket to shock, e.g. {'ai_compute': -0.15}")
        shocks = {ai[0]: DEFAULT_SHOCKS}
    if not isinstance(shocks, Mapping) or not shocks:
        raise ParameterError("shocks", f"expected a mapping basket -> shock(s), got {shocks!r}")
    missing = [k for k in shocks if k not in levels.columns]
    if missing:
        raise ParameterError("shocks", f"no data for shocked {', '.join(map(str, missing))} in the window "
                                       f"(series: {', '.join(map(str, levels.columns))})")
    parsed = {k: _check_shocks(v, f"shocks[{k}]") for k, v in shocks.items()}

    freq = _spacing(pd.DatetimeIndex(levels.index))
    # across a gap, keep the move in the first return after it: wealth must track the levels
    rets = simple_returns(levels, skip_gaps=True)
    drawdowns = drawdown_episodes(rets, thresholds)
    weekly = to_weekly(levels) if freq == "D" else levels
    wrets = simple_returns(weekly)
    scen: dict[str, ScenarioResult] = {}
    for name, xs in parsed.items():
        try:
            scen[name] = scenario(wrets, name, xs, window_lengths=window_lengths, band=band, quantiles=quantiles,
                                  downside_threshold=downside_threshold, conditional_quantile=conditional_quantile,
                                  level=level, hac_lags=hac_lags, min_obs=min_obs)
        except DataError as exc:
            notes.append(f"scenario {name}: {exc}")
    return StressResult(
        drawdowns=drawdowns,
        scenarios=scen,
        levels=levels,
        frequency=freq,
        scenario_frequency="W" if freq == "D" else freq,
        start=pd.Timestamp(levels.index[0]),
        end=pd.Timestamp(levels.index[-1]),
        notes=tuple(notes),
    )
