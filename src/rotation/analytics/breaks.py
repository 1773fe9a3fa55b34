"""Structural breaks: change-point detection (ruptures) and break tests around given dates.

Change points
-------------
:func:`change_points` segments one series (returns, or a rotation flow) with
ruptures (``Pelt``, exact for the penalised problem, or ``Binseg``, greedy),
minimising

.. math:: \\sum_{s} C(y_{\\tau_{s-1}:\\tau_s}) + \\beta \\cdot (\\#\\text{segments})

with the segment cost ``C`` of ruptures' ``"normal"`` model (change in mean
and variance: :math:`C = n_s \\ln(\\hat\\sigma^2_s + 10^{-6})`, i.e. twice the
Gaussian negative log-likelihood up to a constant) or ``"l2"`` model (change
in mean: :math:`C = \\sum (y_t - \\bar y_s)^2`). The costs are ruptures cost
classes computed from cumulative sums (O(1) per segment instead of a slice
variance; the same numbers as ruptures' ``CostNormal``/``CostL2``, tested).

Scaling and penalty (``penalty="bic"``, the default). The series is first
standardised so the penalty means the same for any units:
``normal``: :math:`z = (y - \\bar y)/s` (the cost is then scale free up to
ruptures' :math:`10^{-6}` regulariser); ``l2``: :math:`z = (y - \\mathrm{med}\\,y)/\\hat\\sigma`
with the robust noise scale :math:`\\hat\\sigma = \\mathrm{MAD}(\\Delta y) / (0.6745\\sqrt 2)`
(first differences are not inflated by mean shifts), so the cost is twice a
Gaussian negative log-likelihood with known variance. Then the BIC penalty per
segment is :math:`\\beta = (d + 1) \\ln n` with :math:`d` the parameters
re-estimated per segment (2 for ``normal``: mean and variance; 1 for ``l2``)
plus one for the break location; ``"aic"`` is :math:`2(d + 1)`; a number is
used as is (in units of the standardised cost). The R ``changepoint``
package's ``"SIC"`` omits the location term (:math:`d \\ln n`): smaller, more
breaks. Fat-tailed returns make any Gaussian cost find extra variance breaks
around outliers: raise ``min_size`` or the penalty when that matters.

A break is reported as the **first date of the new segment**.

Real time
---------
:func:`expanding_change_points` runs the same detection at every step date
``t`` on data up to ``t`` only (standardisation and penalty from that prefix)
and reports which breaks each step saw and how long after a break it was
first detected. It uses an exact numpy implementation of ruptures' Pelt
recursion (same admissible set, pruning and tie-breaking; identical
breakpoints, tested), since re-running ruptures' pure-Python Pelt on every
prefix costs O(steps x n^2) dictionary operations.

Break tests around a date
-------------------------
:func:`chow_test` (mean or regression coefficients), :func:`volatility_break`
and :func:`correlation_break` compare the rows before a date (``< date``) with
the rows from that date on (``>= date``), optionally ``window`` rows on each
side. Each gives a classical test (valid for i.i.d. normal data) and a
robust one (HAC / Brown-Forsythe / block bootstrap) - daily and weekly returns
are heteroskedastic and fat tailed, so read the robust one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from ruptures.base import BaseCost
from ruptures.costs import NotEnoughPoints
from scipy import stats

from rotation._typing import DateLike
from rotation.analytics.comovement import _contiguous, _long_run_variance, newey_west_lags
from rotation.analytics.macro import ols_hac
from rotation.analytics.returns import infer_periods_per_year
from rotation.analytics._validate import as_series, check_int
from rotation.errors import DataError, ParameterError

__all__ = [
    "ChangePoints",
    "ChowTest",
    "CorrelationBreak",
    "ExpandingChangePoints",
    "VolatilityBreak",
    "change_points",
    "chow_test",
    "correlation_break",
    "expanding_change_points",
    "volatility_break",
]

CostModel = Literal["normal", "l2"]
Method = Literal["pelt", "binseg"]

_COST_PARAMS = {"normal": 2, "l2": 1}
#: ruptures' CostNormal regulariser (added to each segment variance since v1.1.5)
_NORMAL_BIAS = 1e-6


# ----------------------------------------------------------------------------- costs
class _CumsumCost(BaseCost):
    """A 1-D ruptures cost evaluated from cumulative sums of the signal and its square."""

    model = ""
    min_size = 1

    def __init__(self) -> None:
        self.signal: np.ndarray | None = None

    def fit(self, signal: np.ndarray) -> _CumsumCost:
        s = np.asarray(signal, dtype=np.float64).reshape(-1)
        self.signal = s.reshape(-1, 1)
        self.c1 = np.concatenate([[0.0], np.cumsum(s)])
        self.c2 = np.concatenate([[0.0], np.cumsum(s * s)])
        return self

    def error(self, start: int, end: int) -> float:
        if end - start < self.min_size:
            raise NotEnoughPoints
        return float(self._cost(self.c1, self.c2, np.asarray(start), end))

    @staticmethod
    def _cost(c1: np.ndarray, c2: np.ndarray, starts: np.ndarray, end: int) -> np.ndarray:
        raise NotImplementedError


class _CumsumNormalCost(_CumsumCost):
    """ruptures ``"normal"`` cost (1-D) from cumulative sums: :math:`n \\ln(\\hat\\sigma^2 + 10^{-6})`.

    :math:`\\hat\\sigma^2` is the population (ddof 0) variance of the segment,
    as in ruptures' ``CostNormal``.
    """

    model = "normal_cumsum"
    min_size = 2

    @staticmethod
    def _cost(c1: np.ndarray, c2: np.ndarray, starts: np.ndarray, end: int) -> np.ndarray:
        return _normal_cost(c1, c2, starts, end)


class _CumsumL2Cost(_CumsumCost):
    """ruptures ``"l2"`` cost (1-D) from cumulative sums: :math:`\\sum (y_t - \\bar y)^2`."""

    model = "l2_cumsum"
    min_size = 1

    @staticmethod
    def _cost(c1: np.ndarray, c2: np.ndarray, starts: np.ndarray, end: int) -> np.ndarray:
        return _l2_cost(c1, c2, starts, end)


def _normal_cost(c1: np.ndarray, c2: np.ndarray, starts: np.ndarray, end: int) -> np.ndarray:
    n = end - starts
    m = (c1[end] - c1[starts]) / n
    v = (c2[end] - c2[starts]) / n - m * m
    return n * np.log(np.maximum(v, 0.0) + _NORMAL_BIAS)


def _l2_cost(c1: np.ndarray, c2: np.ndarray, starts: np.ndarray, end: int) -> np.ndarray:
    n = end - starts
    s1 = c1[end] - c1[starts]
    return np.maximum((c2[end] - c2[starts]) - s1 * s1 / n, 0.0)


_COSTS = {"normal": (_CumsumNormalCost, _normal_cost), "l2": (_CumsumL2Cost, _l2_cost)}


def _pelt(z: np.ndarray, pen: float, min_size: int, model: str) -> list[int]:
    """ruptures ``Pelt(jump=1).predict(pen)`` on ``z``, vectorised over the admissible set.

    Same recursion as ruptures 1.1: for each end point ``b`` (from
    ``min_size`` to ``n``) the candidate last break ``t`` ranges over the
    admissible set (``t = 0`` or ``t >= min_size``), :math:`F(b) = \\min_t
    F(t) + (C(t, b) + \\beta)` (first minimum on ties), and ``t`` stays
    admissible while :math:`F(t) + C(t, b) + \\beta \\le F(b) + \\beta`.
    Returns the segment ends, the last one being ``n``.
    """
    n = len(z)
    cost = _COSTS[model][1]
    c1 = np.concatenate([[0.0], np.cumsum(z)])
    c2 = np.concatenate([[0.0], np.cumsum(z * z)])
    F = np.zeros(n + 1)
    last = np.zeros(n + 1, dtype=np.int64)
    adm = np.empty(0, dtype=np.int64)
    for b in range(min_size, n + 1):
        new = b - min_size
        if new == 0 or new >= min_size:
            adm = np.append(adm, new)
        vals = F[adm] + (cost(c1, c2, adm, b) + pen)
        j = int(np.argmin(vals))
        F[b] = vals[j]
        last[b] = adm[j]
        adm = adm[vals <= F[b] + pen]
    out, t = [], n
    while t > 0:
        out.append(int(t))
        t = int(last[t])
    return out[::-1]


# ----------------------------------------------------------------------------- helpers
def _name(data: Any, default: str) -> str:
    name = getattr(data, "name", None)
    return str(name) if name is not None else default


def _choice(parameter: str, value: Any, choices: Sequence[str]) -> str:
    if value not in choices:
        raise ParameterError(parameter, f"must be one of {', '.join(choices)}; got {value!r}")
    return str(value)


def _ppy(data: pd.Series, periods_per_year: float | None) -> float:
    if periods_per_year is None:
        ppy = float(infer_periods_per_year(data))
        return ppy if np.isfinite(ppy) else 1.0
    if isinstance(periods_per_year, bool) or not isinstance(periods_per_year, int | float) or periods_per_year <= 0:
        raise ParameterError("periods_per_year", f"must be a positive number, got {periods_per_year!r}")
    return float(periods_per_year)


def _check_penalty(penalty: Any) -> str | float:
    if isinstance(penalty, str):
        return _choice("penalty", penalty, ("bic", "aic"))
    if isinstance(penalty, bool) or not isinstance(penalty, int | float) or not np.isfinite(penalty) or penalty <= 0:
        raise ParameterError("penalty", f"must be 'bic', 'aic' or a positive number, got {penalty!r}")
    return float(penalty)


def _penalty_value(penalty: str | float, model: str, n: int) -> float:
    p = _COST_PARAMS[model] + 1  # parameters per segment + the break location
    if penalty == "bic":
        return p * float(np.log(n))
    if penalty == "aic":
        return 2.0 * p
    return float(penalty)


def _standardise(y: np.ndarray, model: str, what: str) -> tuple[np.ndarray, float, float]:
    """Standardised signal, location and scale (see the module docstring)."""
    if model == "normal":
        loc, scale = float(y.mean()), float(y.std())
    else:
        loc = float(np.median(y))
        d = np.diff(y)
        scale = float(np.median(np.abs(d - np.median(d))) / (0.6744897501960817 * np.sqrt(2.0))) if len(d) else 0.0
        if not scale > 0:  # many equal consecutive values: fall back to the standard deviation
            scale = float(y.std())
    if not scale > 0:
        raise DataError(f"{what}: the series is constant, there is nothing to segment")
    return (y - loc) / scale, loc, scale


def _prepare(series: Any, parameter: str, start: DateLike | None, end: DateLike | None, min_rows: int) -> pd.Series:
    s = as_series(series, parameter).loc[start:end]
    name = _name(series, parameter)
    return _contiguous(s.to_frame(name), f"change points of {name}", min_rows).iloc[:, 0]


def _segments(y: pd.Series, ends: Sequence[int], ppy: float) -> pd.DataFrame:
    rows = []
    start = 0
    values = y.to_numpy()
    for e in ends:
        seg = values[start:e]
        sd = float(seg.std(ddof=1)) if len(seg) > 1 else np.nan
        rows.append(
            {
                "start": y.index[start],
                "end": y.index[e - 1],
                "n": int(e - start),
                "mean": float(seg.mean()),
                "volatility": sd,
                "ann_mean": float(seg.mean()) * ppy,
                "ann_volatility": sd * np.sqrt(ppy),
            }
        )
        start = e
    return pd.DataFrame(rows, columns=["start", "end", "n", "mean", "volatility", "ann_mean", "ann_volatility"])


# ----------------------------------------------------------------------------- change points
@dataclass(frozen=True)
class ChangePoints:
    """Change points of one series.

    Attributes
    ----------
    name : str
    model : {"normal", "l2"}
        ruptures cost: change in mean and variance, or in mean.
    method : {"pelt", "binseg"}
    penalty : float
        :math:`\\beta` used, in units of the standardised cost (NaN when
        ``n_breaks`` fixed the number of breaks).
    penalty_rule : str
        ``"bic"``, ``"aic"``, ``"fixed"`` or ``"n_breaks=<m>"``.
    min_size, jump : int
        Shortest segment (rows) and ruptures' grid of admissible break rows.
    data : Series (T,)
        The series segmented.
    breaks : DatetimeIndex
        First date of each new segment (empty when no break).
    break_rows : ndarray of int
        Positions of ``breaks`` in ``data``.
    segments : DataFrame
        One row per segment: ``start``, ``end`` (inclusive), ``n``, ``mean``,
        ``volatility`` (ddof 1) and both annualised with ``periods_per_year``.
    loc, scale : float
        Standardisation applied before segmenting.
    periods_per_year : float
    """

    name: str
    model: str
    method: str
    penalty: float
    penalty_rule: str
    min_size: int
    jump: int
    data: pd.Series
    breaks: pd.DatetimeIndex
    break_rows: np.ndarray
    segments: pd.DataFrame
    loc: float
    scale: float
    periods_per_year: float

    def to_frame(self) -> pd.DataFrame:
        """The segments table with the break that opens each segment (NaT for the first)."""
        out = self.segments.copy()
        out.insert(0, "break_date", [pd.NaT, *self.breaks])
        return out


def change_points(
    series: pd.Series,
    *,
    model: CostModel = "normal",
    method: Method = "pelt",
    penalty: str | float = "bic",
    n_breaks: int | None = None,
    min_size: int = 10,
    jump: int = 1,
    start: DateLike | None = None,
    end: DateLike | None = None,
    periods_per_year: float | None = None,
) -> ChangePoints:
    """Detect change points in mean and variance (or mean) with ruptures.

    Minimises :math:`\\sum_s C(\\text{segment}_s) + \\beta\\,(\\#\\text{segments})`
    over segmentations with segments of at least ``min_size`` rows (see the
    module docstring for ``C``, the standardisation and the BIC penalty).

    Parameters
    ----------
    series : Series (T,)
        Returns or another stationary-within-segments series. Leading and
        trailing NaN trimmed; an interior NaN raises ``DataError``.
    model : {"normal", "l2"}
        Change in mean and variance (default) or in mean only.
    method : {"pelt", "binseg"}
        ``ruptures.Pelt`` (exact) or ``ruptures.Binseg`` (binary segmentation;
        needed for a fixed ``n_breaks``).
    penalty : "bic", "aic" or float
        :math:`\\beta`; ignored when ``n_breaks`` is given.
    n_breaks : int, optional
        Fixed number of breaks (``binseg`` only).
    min_size : int, default 10
        Shortest segment in rows.
    jump : int, default 1
        Consider breaks only at rows that are multiples of ``jump`` (ruptures'
        speed-up; 1 = every row). Pelt at ``jump=1`` runs the vectorised
        recursion of this module (ruptures' breakpoints, milliseconds for 700
        rows); other jumps and Binseg run ruptures itself.
    start, end : date-like, optional
        Restrict the sample (inclusive).
    periods_per_year : float, optional
        To annualise the segment moments; default inferred from the dates.

    Returns
    -------
    ChangePoints

    Raises
    ------
    ParameterError
        Bad model, method, penalty, sizes, or ``n_breaks`` with ``pelt``.
    DataError
        Fewer than ``2 * min_size`` rows, an interior gap, or a constant series.
    """
    import ruptures as rpt

    model = _choice("model", model, tuple(_COSTS))  # type: ignore[assignment]
    method = _choice("method", method, ("pelt", "binseg"))  # type: ignore[assignment]
    pen_rule = _check_penalty(penalty)
    min_size = check_int("min_size", min_size, 2)
    jump = check_int("jump", jump, 1)
    if n_breaks is not None:
        n_breaks = check_int("n_breaks", n_breaks, 1)
        if method != "binseg":
            raise ParameterError("n_breaks", "a fixed number of breaks needs method='binseg'")
    y = _prepare(series, "series", start, end, 2 * min_size)
    ppy = _ppy(y, periods_per_year)
    z, loc, scale = _standardise(y.to_numpy(), model, f"change points of {y.name}")
    n = len(z)
    cost = _COSTS[model][0]()
    if n_breaks is not None:
        algo = rpt.Binseg(custom_cost=cost, min_size=min_size, jump=jump).fit(z)
        try:
            ends = algo.predict(n_bkps=n_breaks)
        except rpt.exceptions.BadSegmentationParameters:
            raise DataError(f"change points of {y.name}: {n} rows cannot hold {n_breaks} breaks "
                            f"with segments of at least {min_size} rows") from None
        pen, rule = np.nan, f"n_breaks={n_breaks}"
    else:
        pen = _penalty_value(pen_rule, model, n)
        rule = pen_rule if isinstance(pen_rule, str) else "fixed"
        if method == "pelt" and jump == 1:
            # the same recursion vectorised over the admissible set (tested to give ruptures' breakpoints
            # with this cost): ruptures calls the cost once per (start, end) pair from Python, ~0.5-1 s
            # for 700 weekly rows, this takes milliseconds
            ends = _pelt(z, pen, min_size, model)
        else:
            cls = rpt.Pelt if method == "pelt" else rpt.Binseg
            ends = cls(custom_cost=cost, min_size=min_size, jump=jump).fit(z).predict(pen=pen)
    rows = np.asarray(ends[:-1], dtype=np.int64)
    return ChangePoints(
        name=str(y.name),
        model=model,
        method=method,
        penalty=float(pen),
        penalty_rule=rule,
        min_size=min_size,
        jump=jump,
        data=y,
        breaks=pd.DatetimeIndex(y.index[rows], name="break_date"),
        break_rows=rows,
        segments=_segments(y, ends, ppy),
        loc=loc,
        scale=scale,
        periods_per_year=ppy,
    )


# ----------------------------------------------------------------------------- expanding
@dataclass(frozen=True)
class ExpandingChangePoints:
    """Change points as they would have been detected in real time.

    Attributes
    ----------
    name, model, penalty_rule : str
    min_size, step, min_periods : int
    data : Series (T,)
    steps : DatetimeIndex
        The as-of dates at which detection ran (every ``step`` rows from row
        ``min_periods - 1``).
    history : DataFrame
        One row per (as-of date, break reported then): ``asof``, ``break_date``,
        ``asof_row``, ``break_row``. Rows up to an as-of date use data up to
        that date only.
    detections : DataFrame
        One row per distinct break date ever reported: ``break_date``,
        ``first_detected`` (as-of date), ``delay_rows``, ``delay_days``,
        ``times_reported``, ``last_reported``. The same underlying break may
        appear under neighbouring dates as its estimated location moves with
        new data; :meth:`first_detection` matches with a tolerance.
    """

    name: str
    model: str
    penalty_rule: str
    min_size: int
    step: int
    min_periods: int
    data: pd.Series
    steps: pd.DatetimeIndex
    history: pd.DataFrame
    detections: pd.DataFrame

    def breaks_at(self, asof: DateLike) -> pd.DatetimeIndex:
        """Breaks reported at the last step on or before ``asof``."""
        ts = pd.Timestamp(asof)  # type: ignore[arg-type]
        past = self.steps[self.steps <= ts]
        if len(past) == 0:
            return pd.DatetimeIndex([], name="break_date")
        h = self.history[self.history["asof"] == past[-1]]
        return pd.DatetimeIndex(h["break_date"], name="break_date")

    def first_detection(self, date: DateLike, tolerance: int = 0) -> pd.Series:
        """First as-of date at which a break within ``tolerance`` rows of ``date`` was reported.

        Returns
        -------
        Series
            ``break_date`` (the matching reported date), ``first_detected``,
            ``delay_rows`` (from ``date``), ``delay_days``; all NaN/NaT when
            never detected.
        """
        ts = pd.Timestamp(date)  # type: ignore[arg-type]
        row = int(self.data.index.searchsorted(ts))
        tol = check_int("tolerance", tolerance, 0)
        hit = self.history[(self.history["break_row"] - row).abs() <= tol]
        if hit.empty:
            return pd.Series({"break_date": pd.NaT, "first_detected": pd.NaT, "delay_rows": np.nan, "delay_days": np.nan})
        first = hit.iloc[0]
        return pd.Series(
            {
                "break_date": first["break_date"],
                "first_detected": first["asof"],
                "delay_rows": int(first["asof_row"] - row),
                "delay_days": int((first["asof"] - ts).days),
            }
        )

    def to_frame(self) -> pd.DataFrame:
        """The detections table."""
        return self.detections.copy()


def expanding_change_points(
    series: pd.Series,
    *,
    model: CostModel = "normal",
    penalty: str | float = "bic",
    min_size: int = 10,
    step: int = 1,
    min_periods: int = 52,
    start: DateLike | None = None,
    end: DateLike | None = None,
) -> ExpandingChangePoints:
    """Real-time change points: at each step date detect on data up to that date only.

    For as-of rows :math:`t_i = \\text{min\\_periods} - 1 + i \\cdot \\text{step}`
    (counted from the first observation, so appending data never moves them),
    the prefix :math:`y_{0..t_i}` is standardised on its own, the penalty is
    computed from its length (``"bic"``: :math:`(d+1)\\ln(t_i + 1)`), and the
    optimal Pelt segmentation of the prefix is recorded (``jump=1``; identical
    to :func:`change_points` with ``method="pelt"`` run on the prefix). A
    break's detection delay is the number of rows (and days) from the break
    date to the first as-of date that reports it.

    Parameters
    ----------
    series, model, penalty, min_size, start, end
        As in :func:`change_points`.
    step : int, default 1
        Rows between detections (1: every row; 5 on daily sessions = weekly).
    min_periods : int, default 52
        Rows in the first prefix (at least ``2 * min_size``).

    Returns
    -------
    ExpandingChangePoints

    Notes
    -----
    Cost grows with T^2 / step: about 3 s for 700 weekly rows at ``step=1``,
    under 1 s at ``step=4``.
    """
    model = _choice("model", model, tuple(_COSTS))  # type: ignore[assignment]
    pen_rule = _check_penalty(penalty)
    min_size = check_int("min_size", min_size, 2)
    step = check_int("step", step, 1)
    min_periods = check_int("min_periods", min_periods, 2 * min_size)
    y = _prepare(series, "series", start, end, min_periods)
    values = y.to_numpy()
    idx = y.index
    steps = list(range(min_periods - 1, len(y), step))
    rows = []
    for t in steps:
        z, _, _ = _standardise(values[: t + 1], model, f"change points of {y.name} up to {idx[t]}")
        pen = _penalty_value(pen_rule, model, t + 1)
        for b in _pelt(z, pen, min_size, model)[:-1]:
            rows.append({"asof": idx[t], "break_date": idx[b], "asof_row": t, "break_row": b})
    history = pd.DataFrame(
        {
            "asof": pd.DatetimeIndex([r["asof"] for r in rows], dtype=idx.dtype),
            "break_date": pd.DatetimeIndex([r["break_date"] for r in rows], dtype=idx.dtype),
            "asof_row": np.array([r["asof_row"] for r in rows], dtype=np.int64),
            "break_row": np.array([r["break_row"] for r in rows], dtype=np.int64),
        }
    )
    if history.empty:
        detections = pd.DataFrame(
            {
                "break_date": pd.DatetimeIndex([], dtype=idx.dtype),
                "first_detected": pd.DatetimeIndex([], dtype=idx.dtype),
                "delay_rows": np.array([], dtype=np.int64),
                "delay_days": np.array([], dtype=np.int64),
                "times_reported": np.array([], dtype=np.int64),
                "last_reported": pd.DatetimeIndex([], dtype=idx.dtype),
            }
        )
    else:
        g = history.groupby("break_date", sort=True)
        first = g.first()
        detections = pd.DataFrame(
            {
                "break_date": first.index,
                "first_detected": first["asof"].to_numpy(),
                "delay_rows": (first["asof_row"] - first["break_row"]).to_numpy(),
                "delay_days": (first["asof"] - first.index.to_series()).dt.days.to_numpy(),
                "times_reported": g.size().to_numpy(),
                "last_reported": g["asof"].max().to_numpy(),
            }
        )
    return ExpandingChangePoints(
        name=str(y.name),
        model=model,
        penalty_rule=pen_rule if isinstance(pen_rule, str) else f"fixed={pen_rule:g}",
        min_size=min_size,
        step=step,
        min_periods=min_periods,
        data=y,
        steps=pd.DatetimeIndex(idx[steps], name="asof"),
        history=history,
        detections=detections,
    )


# ----------------------------------------------------------------------------- break tests
def _split_mask(index: pd.DatetimeIndex, break_date: DateLike, window: int | None, what: str,
                min_side: int) -> tuple[np.ndarray, np.ndarray, pd.Timestamp]:
    try:
        ts = pd.Timestamp(break_date)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ParameterError("break_date", f"not a date: {break_date!r}") from None
    pos = int(index.searchsorted(ts))  # first row >= break date
    lo = 0 if window is None else max(0, pos - window)
    hi = len(index) if window is None else min(len(index), pos + window)
    before = np.zeros(len(index), dtype=bool)
    after = np.zeros(len(index), dtype=bool)
    before[lo:pos] = True
    after[pos:hi] = True
    nb, na = int(before.sum()), int(after.sum())
    if nb < min_side or na < min_side:
        span = f"{index[0].date()}..{index[-1].date()}" if len(index) else "no rows"
        raise DataError(
            f"{what} around {ts.date()}: {nb} rows before and {na} from that date on "
            f"(data {span}); at least {min_side} on each side needed"
        )
    return before, after, ts


def _check_window(window: Any) -> int | None:
    return None if window is None else check_int("window", window, 2)


@dataclass(frozen=True)
class ChowTest:
    """Chow test for a break in a regression (or a mean) at a date.

    Attributes
    ----------
    name : str
    break_date : Timestamp
        First date of the "after" sample.
    terms : tuple of str
        Regressors (``"const"`` first).
    n_before, n_after, k : int
        Rows on each side and parameters per regime.
    ssr_pooled, ssr_before, ssr_after : float
        Residual sums of squares of the pooled and the two separate fits.
    f_stat, p_value : float
        Classical Chow F with (k, n - 2k) degrees of freedom (i.i.d. errors
        with equal variance on both sides).
    f_stat_hac, p_value_hac : float
        Wald test (F form) that all interaction coefficients are zero in
        :math:`y = X\\beta + D X\\delta + e` with a Newey-West covariance:
        robust to heteroskedasticity (including a variance change) and
        autocorrelation.
    hac_lags : int
    coef_before, coef_after : Series (k,)
        Separate OLS coefficients.
    start, end : Timestamp
        First and last date used.
    """

    name: str
    break_date: pd.Timestamp
    terms: tuple[str, ...]
    n_before: int
    n_after: int
    k: int
    ssr_pooled: float
    ssr_before: float
    ssr_after: float
    f_stat: float
    p_value: float
    f_stat_hac: float
    p_value_hac: float
    hac_lags: int
    coef_before: pd.Series
    coef_after: pd.Series
    start: pd.Timestamp
    end: pd.Timestamp

    def to_frame(self) -> pd.DataFrame:
        """One row per term (before/after coefficients) with the test statistics repeated."""
        out = pd.DataFrame({"before": self.coef_before, "after": self.coef_after})
        out["change"] = out["after"] - out["before"]
        for key in ("f_stat", "p_value", "f_stat_hac", "p_value_hac", "n_before", "n_after", "hac_lags"):
            out[key] = getattr(self, key)
        out["break_date"] = self.break_date
        out.index.name = "term"
        return out


def chow_test(
    y: pd.Series,
    break_date: DateLike,
    X: pd.Series | pd.DataFrame | None = None,
    *,
    window: int | None = None,
    hac_lags: int | None = None,
) -> ChowTest:
    """Chow (1960) test of equal regression coefficients before and after a date.

    With :math:`S_p` the residual sum of squares of the pooled OLS of ``y`` on
    ``[1, X]`` and :math:`S_1, S_2` those of the separate fits on the rows
    before (``< break_date``) and after (``>= break_date``):

    .. math:: F = \\frac{(S_p - S_1 - S_2)/k}{(S_1 + S_2)/(n_1 + n_2 - 2k)}
              \\sim F(k,\\ n_1 + n_2 - 2k).

    Without ``X`` this tests a change in the mean. The HAC variant is the
    Wald test of :math:`\\delta = 0` in :math:`y = X\\beta + D X\\delta + e`
    (``D`` = 1 from the break date on) with Newey-West standard errors
    (statsmodels, Bartlett kernel, small-sample correction, F form).

    Parameters
    ----------
    y : Series (T,)
    break_date : date-like
        First date of the "after" regime.
    X : Series or DataFrame (T, m), optional
        Regressors (a constant is always added); aligned on common dates.
    window : int, optional
        Rows on each side of the break (default: all).
    hac_lags : int, optional
        Newey-West lags (default ``floor(4 (n/100)^(2/9))``).

    Returns
    -------
    ChowTest

    Raises
    ------
    DataError
        Fewer than ``k + 1`` rows on a side (after dropping rows with NaN).
    """
    # the submodule, not statsmodels.api (which also imports graphics, datasets, ...: ~0.3-0.9 s)
    from statsmodels.regression.linear_model import OLS

    ys = as_series(y, "y")
    name = _name(y, "y")
    window = _check_window(window)
    if X is None:
        frame = ys.to_frame("y")
        terms: tuple[str, ...] = ("const",)
    else:
        xf = X.to_frame(_name(X, "x")) if isinstance(X, pd.Series) else X
        if not isinstance(xf, pd.DataFrame):
            raise ParameterError("X", f"expected a Series or DataFrame, got {type(X).__name__}")
        xf = xf.astype(np.float64)
        if "y" in xf.columns or "const" in xf.columns:
            raise ParameterError("X", "columns may not be named 'y' or 'const'")
        frame = pd.concat([ys.rename("y"), xf], axis=1, join="inner")
        terms = ("const", *map(str, xf.columns))
    frame = frame.sort_index().dropna()
    k = len(terms)
    hac = None if hac_lags is None else check_int("hac_lags", hac_lags, 0)
    before, after, ts = _split_mask(pd.DatetimeIndex(frame.index), break_date, window, f"Chow test of {name}", k + 1)
    used = before | after
    yv = frame["y"].to_numpy()[used]
    Xv = np.column_stack([np.ones(len(frame)), frame.drop(columns="y").to_numpy()])[used]
    b = before[used]
    pooled = OLS(yv, Xv).fit()
    r1 = OLS(yv[b], Xv[b]).fit()
    r2 = OLS(yv[~b], Xv[~b]).fit()
    n = int(used.sum())
    s_p, s_1, s_2 = float(pooled.ssr), float(r1.ssr), float(r2.ssr)
    df2 = n - 2 * k
    f = ((s_p - s_1 - s_2) / k) / ((s_1 + s_2) / df2) if s_1 + s_2 > 0 else np.inf
    p = float(stats.f.sf(f, k, df2))
    lags = newey_west_lags(n) if hac is None else hac
    D = (~b).astype(float)[:, None]
    Z = np.column_stack([Xv, D * Xv])
    res = ols_hac(yv, Z, lags)["result"]
    R = np.hstack([np.zeros((k, k)), np.eye(k)])
    wald = res.f_test(R)
    idx = pd.Index(terms, name="term")
    return ChowTest(
        name=name,
        break_date=ts,
        terms=terms,
        n_before=int(b.sum()),
        n_after=int((~b).sum()),
        k=k,
        ssr_pooled=s_p,
        ssr_before=s_1,
        ssr_after=s_2,
        f_stat=float(f),
        p_value=p,
        f_stat_hac=float(np.squeeze(wald.fvalue)),
        p_value_hac=float(wald.pvalue),
        hac_lags=int(lags),
        coef_before=pd.Series(np.asarray(r1.params), index=idx, name="before"),
        coef_after=pd.Series(np.asarray(r2.params), index=idx, name="after"),
        start=pd.Timestamp(frame.index[used][0]),
        end=pd.Timestamp(frame.index[used][-1]),
    )


@dataclass(frozen=True)
class VolatilityBreak:
    """Change in volatility at a date: three tests.

    Attributes
    ----------
    name : str
    break_date : Timestamp
    n_before, n_after : int
    vol_before, vol_after : float
        Standard deviations per period (ddof 1).
    ann_vol_before, ann_vol_after : float
        Annualised with ``periods_per_year`` (x sqrt(ppy)).
    ratio : float
        ``vol_after / vol_before``.
    f_stat, p_value_f : float
        :math:`F = s^2_{after}/s^2_{before}` with (n_a - 1, n_b - 1) degrees
        of freedom, two-sided. Exact only for i.i.d. normal data; with fat
        tails it rejects far too often - shown for reference.
    levene_stat, p_value_levene : float
        Brown-Forsythe test (scipy ``levene(center="median")``): ANOVA on
        absolute deviations from each side's median; robust to non-normality,
        assumes independence.
    var_diff, var_diff_se, t_hac, p_value_hac : float
        OLS of the squared deviations from each side's mean on ``[1, D]``:
        the slope is :math:`\\hat\\sigma^2_{after} - \\hat\\sigma^2_{before}`
        (ddof 0) with a Newey-West standard error - robust to volatility
        clustering and autocorrelation.
    hac_lags : int
    periods_per_year : float
    start, end : Timestamp
    """

    name: str
    break_date: pd.Timestamp
    n_before: int
    n_after: int
    vol_before: float
    vol_after: float
    ann_vol_before: float
    ann_vol_after: float
    ratio: float
    f_stat: float
    p_value_f: float
    levene_stat: float
    p_value_levene: float
    var_diff: float
    var_diff_se: float
    t_hac: float
    p_value_hac: float
    hac_lags: int
    periods_per_year: float
    start: pd.Timestamp
    end: pd.Timestamp

    def to_frame(self) -> pd.DataFrame:
        """One row with every field."""
        return pd.DataFrame([{f: getattr(self, f) for f in self.__dataclass_fields__}]).set_index("name")


def volatility_break(
    returns: pd.Series,
    break_date: DateLike,
    *,
    window: int | None = None,
    periods_per_year: float | None = None,
    hac_lags: int | None = None,
) -> VolatilityBreak:
    """Test for a change in the volatility of returns at a date.

    Rows ``< break_date`` form the "before" sample and rows ``>= break_date``
    the "after" sample (``window`` rows each side, default all); NaN rows are
    dropped. Three tests (see :class:`VolatilityBreak`): the classical F-test
    of variances, Brown-Forsythe, and a HAC regression test on squared
    deviations :math:`d_t = (r_t - \\bar r_{side(t)})^2`:

    .. math:: d_t = a + \\delta D_t + e_t,\\quad
              \\hat\\delta = \\hat\\sigma^2_{after} - \\hat\\sigma^2_{before}.

    Parameters
    ----------
    returns : Series (T,)
    break_date : date-like
    window : int, optional
    periods_per_year : float, optional
        Default inferred from the dates.
    hac_lags : int, optional
        Default ``floor(4 (n/100)^(2/9))``.

    Returns
    -------
    VolatilityBreak

    Raises
    ------
    DataError
        Fewer than 3 rows on a side.
    """
    r = as_series(returns, "returns")
    name = _name(returns, "returns")
    window = _check_window(window)
    hac = None if hac_lags is None else check_int("hac_lags", hac_lags, 0)
    r = r.dropna()
    before, after, ts = _split_mask(pd.DatetimeIndex(r.index), break_date, window, f"volatility break of {name}", 3)
    ppy = _ppy(r, periods_per_year)
    v = r.to_numpy()
    x1, x2 = v[before], v[after]
    s1, s2 = float(x1.std(ddof=1)), float(x2.std(ddof=1))
    if not (s1 > 0 and s2 > 0):
        raise DataError(f"volatility break of {name}: a side has zero variance")
    f = s2**2 / s1**2
    d1, d2 = len(x2) - 1, len(x1) - 1
    p_f = float(min(1.0, 2.0 * min(stats.f.cdf(f, d1, d2), stats.f.sf(f, d1, d2))))
    lev = stats.levene(x1, x2, center="median")
    used = before | after
    side = after[used]
    xs = v[used]
    dev2 = np.where(side, (xs - x2.mean()) ** 2, (xs - x1.mean()) ** 2)
    lags = newey_west_lags(len(xs)) if hac is None else hac
    res = ols_hac(dev2, np.column_stack([np.ones(len(xs)), side.astype(float)]), lags)
    idx = r.index[used]
    return VolatilityBreak(
        name=name,
        break_date=ts,
        n_before=len(x1),
        n_after=len(x2),
        vol_before=s1,
        vol_after=s2,
        ann_vol_before=s1 * np.sqrt(ppy),
        ann_vol_after=s2 * np.sqrt(ppy),
        ratio=s2 / s1,
        f_stat=float(f),
        p_value_f=p_f,
        levene_stat=float(lev.statistic),
        p_value_levene=float(lev.pvalue),
        var_diff=float(res["params"][1]),
        var_diff_se=float(res["bse"][1]),
        t_hac=float(res["tvalues"][1]),
        p_value_hac=float(res["pvalues"][1]),
        hac_lags=int(lags),
        periods_per_year=ppy,
        start=pd.Timestamp(idx[0]),
        end=pd.Timestamp(idx[-1]),
    )


@dataclass(frozen=True)
class CorrelationBreak:
    """Change in the correlation of two series at a date.

    Attributes
    ----------
    names : tuple of str
    break_date : Timestamp
    n_before, n_after : int
        Pairs (dates where both are present) on each side.
    corr_before, corr_after, diff : float
        Pearson correlations and ``corr_after - corr_before``.
    z_fisher, p_value_fisher : float
        :math:`z = (\\operatorname{atanh} r_a - \\operatorname{atanh} r_b) /
        \\sqrt{1/(n_a - 3) + 1/(n_b - 3)}`, two-sided normal p-value; valid
        for independent bivariate-normal pairs.
    z_hac, p_value_hac : float
        Same difference of Fisher z, with each side's standard error from the
        Newey-West long-run variance of the correlation's influence function
        (as in :func:`~rotation.analytics.comovement.residual_correlation`),
        :math:`se_z = se_r / (1 - r^2)`.
    p_value_boot, ci_low, ci_high : float
        Moving-block bootstrap (each side resampled separately, blocks of
        ``block_length`` consecutive pairs, ``n_boot`` draws, seed ``seed``):
        two-sided p-value of the Fisher-z difference from the centred
        bootstrap distribution, :math:`(1 + \\#\\{|\\Delta^*-\\Delta| \\ge |\\Delta|\\})/(B+1)`,
        and the ``level`` percentile interval of ``diff``. NaN when
        ``n_boot == 0``.
    n_boot, block_length, hac_lags : int
    level : float
    start, end : Timestamp
    """

    names: tuple[str, str]
    break_date: pd.Timestamp
    n_before: int
    n_after: int
    corr_before: float
    corr_after: float
    diff: float
    z_fisher: float
    p_value_fisher: float
    z_hac: float
    p_value_hac: float
    p_value_boot: float
    ci_low: float
    ci_high: float
    n_boot: int
    block_length: int
    hac_lags: int
    level: float
    start: pd.Timestamp
    end: pd.Timestamp

    def to_frame(self) -> pd.DataFrame:
        """One row with every field (``a``, ``b`` for the names)."""
        row = {f: getattr(self, f) for f in self.__dataclass_fields__ if f != "names"}
        return pd.DataFrame([{"a": self.names[0], "b": self.names[1], **row}])


def _corr_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson correlation along the last axis."""
    xc = x - x.mean(axis=-1, keepdims=True)
    yc = y - y.mean(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (xc * yc).sum(axis=-1) / np.sqrt((xc * xc).sum(axis=-1) * (yc * yc).sum(axis=-1))


def _hac_corr_se(x: np.ndarray, y: np.ndarray, lags: int) -> tuple[float, float]:
    zx = (x - x.mean()) / x.std()
    zy = (y - y.mean()) / y.std()
    r = float(np.mean(zx * zy))
    psi = zx * zy - 0.5 * r * (zx**2 + zy**2)
    return r, float(np.sqrt(_long_run_variance(psi, lags) / len(x)))


def _block_indices(rng: np.random.Generator, n: int, length: int, n_boot: int) -> np.ndarray:
    blocks = -(-n // length)
    starts = rng.integers(0, n - length + 1, size=(n_boot, blocks))
    return (starts[:, :, None] + np.arange(length)).reshape(n_boot, -1)[:, :n]


def correlation_break(
    a: pd.Series,
    b: pd.Series,
    break_date: DateLike,
    *,
    window: int | None = None,
    n_boot: int = 999,
    block_length: int | None = None,
    seed: int = 0,
    hac_lags: int | None = None,
    level: float = 0.95,
) -> CorrelationBreak:
    """Test for a change in the correlation of two return series at a date.

    Pairs are the dates where both are present; rows ``< break_date`` are
    "before", rows ``>= break_date`` "after" (``window`` pairs each side,
    default all). Reports the Fisher z-test (independent pairs), a HAC
    version and a moving-block bootstrap (see :class:`CorrelationBreak`).

    Parameters
    ----------
    a, b : Series (T,)
        Returns (e.g. BTC and SPY).
    break_date : date-like
    window : int, optional
    n_boot : int, default 999
        Bootstrap draws (0 skips the bootstrap).
    block_length : int, optional
        Default :math:`\\lceil n^{1/3} \\rceil` of the shorter side (Hall,
        Horowitz and Jing 1995 rate for variance estimation).
    seed : int, default 0
        Bootstrap seed: same inputs, same numbers.
    hac_lags : int, optional
        Default ``floor(4 (n/100)^(2/9))`` per side.
    level : float, default 0.95
        Bootstrap interval level.

    Returns
    -------
    CorrelationBreak

    Raises
    ------
    DataError
        Fewer than 5 pairs on a side, or a constant side.
    """
    sa, sb = as_series(a, "a"), as_series(b, "b")
    names = (_name(a, "a"), _name(b, "b"))
    if names[0] == names[1]:
        names = (f"{names[0]} (a)", f"{names[1]} (b)")
    window = _check_window(window)
    n_boot = check_int("n_boot", n_boot, 0)
    seed = check_int("seed", seed, 0)
    hac = None if hac_lags is None else check_int("hac_lags", hac_lags, 0)
    if isinstance(level, bool) or not isinstance(level, int | float) or not 0 < level < 1:
        raise ParameterError("level", f"must be in (0, 1), got {level!r}")
    pairs = pd.concat([sa.rename("a"), sb.rename("b")], axis=1, join="inner").sort_index().dropna()
    before, after, ts = _split_mask(pd.DatetimeIndex(pairs.index), break_date, window,
                                    f"correlation break of {names[0]} and {names[1]}", 5)
    xa, xb = pairs["a"].to_numpy(), pairs["b"].to_numpy()
    sides = [(xa[before], xb[before]), (xa[after], xb[after])]
    for label, (u, w) in zip(("before", "after"), sides, strict=True):
        if not (u.std() > 0 and w.std() > 0):
            raise DataError(f"correlation break of {names[0]} and {names[1]}: a series is constant {label} {ts.date()}")
    n1, n2 = len(sides[0][0]), len(sides[1][0])
    lag1 = newey_west_lags(n1) if hac is None else hac
    lag2 = newey_west_lags(n2) if hac is None else hac
    r1, se1 = _hac_corr_se(*sides[0], lag1)
    r2, se2 = _hac_corr_se(*sides[1], lag2)
    for label, r in (("before", r1), ("after", r2)):
        if abs(r) > 1.0 - 1e-12:  # Fisher's z is infinite: nothing to test
            raise DataError(f"correlation break of {names[0]} and {names[1]}: the series are perfectly correlated "
                            f"{label} {ts.date()} (r = {r:+.6f})")
    dz = float(np.arctanh(r2) - np.arctanh(r1))
    z_f = dz / np.sqrt(1.0 / (n1 - 3) + 1.0 / (n2 - 3)) if min(n1, n2) > 3 else np.nan
    se_z = np.sqrt((se1 / (1 - r1**2)) ** 2 + (se2 / (1 - r2**2)) ** 2)
    z_h = dz / se_z if se_z > 0 else np.nan
    blen = int(np.ceil(min(n1, n2) ** (1.0 / 3.0))) if block_length is None else check_int("block_length", block_length, 1)
    if blen > min(n1, n2):
        raise ParameterError("block_length", f"{blen} is longer than the shorter side ({min(n1, n2)} pairs)")
    p_boot = ci_lo = ci_hi = np.nan
    if n_boot > 0:
        rng = np.random.default_rng(seed)
        boot = []
        for u, w in sides:
            ix = _block_indices(rng, len(u), blen, n_boot)
            boot.append(_corr_rows(u[ix], w[ix]))
        r_b = np.clip(np.vstack(boot), -1 + 1e-12, 1 - 1e-12)
        d_b = r_b[1] - r_b[0]
        dz_b = np.arctanh(r_b[1]) - np.arctanh(r_b[0])
        ok = np.isfinite(dz_b)
        p_boot = float((1 + np.sum(np.abs(dz_b[ok] - dz) >= abs(dz))) / (ok.sum() + 1))
        alpha = 1.0 - level
        ci_lo, ci_hi = (float(q) for q in np.quantile(d_b[ok], [alpha / 2, 1 - alpha / 2]))
    used = pairs.index[before | after]
    return CorrelationBreak(
        names=names,
        break_date=ts,
        n_before=n1,
        n_after=n2,
        corr_before=r1,
        corr_after=r2,
        diff=r2 - r1,
        z_fisher=float(z_f),
        p_value_fisher=float(2.0 * stats.norm.sf(abs(z_f))),
        z_hac=float(z_h),
        p_value_hac=float(2.0 * stats.norm.sf(abs(z_h))),
        p_value_boot=p_boot,
        ci_low=ci_lo,
        ci_high=ci_hi,
        n_boot=n_boot,
        block_length=blen,
        hac_lags=int(max(lag1, lag2)),
        level=float(level),
        start=pd.Timestamp(used[0]),
        end=pd.Timestamp(used[-1]),
    )
