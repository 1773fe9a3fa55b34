"""Relative strength and relative rotation (RRG-style) measures, trailing windows only.

The JdK RS-Ratio and RS-Momentum used by commercial Relative Rotation Graphs
are proprietary. rotation implements the openly documented "100 + z-score"
family instead, with every window trailing (a value at ``t`` uses rows
``<= t`` only), so that appending future data never changes a past point.
A full-sample normalisation (z-scoring against the mean and standard deviation
of the whole history) would leak the future into every past point and is
deliberately not used anywhere here.

Definitions (``P`` asset price or basket level, ``B`` benchmark level, ``t`` rows)
---------------------------------------------------------------------------------
.. math::

    RS_t = 100 \\, P_t / B_t

    x_t = \\frac{1}{s} \\sum_{j=0}^{s-1} \\ln RS_{t-j}
        \\quad(\\text{trailing mean; } s = \\text{smooth}, s=1 \\text{ means no smoothing})

    \\text{RS-Ratio}_t = 100 + \\frac{x_t - \\bar m_{n_1}(x)_t}{\\hat\\sigma_{n_1}(x)_t}

    \\Delta_t = \\text{RS-Ratio}_t - \\text{RS-Ratio}_{t-k}

    \\text{RS-Momentum}_t = 100 + \\frac{\\Delta_t - \\bar m_{n_2}(\\Delta)_t}{\\hat\\sigma_{n_2}(\\Delta)_t}

where :math:`\\bar m_n(y)_t` and :math:`\\hat\\sigma_n(y)_t` are the mean and
sample standard deviation (``ddof=1``) of :math:`y_{t-n+1}, \\dots, y_t`
(the trailing window *including* ``t``). ``n1 = ratio_window``,
``n2 = momentum_window``, ``k = roc_period``.

Two choices inside the family, and why:

* the z-score is taken on ``ln RS`` rather than ``RS``. A z-score is invariant
  to shifting and scaling, so this only changes the weighting of large moves,
  and it makes the measure symmetric: swapping asset and benchmark
  (``ln(B/P) = -ln(P/B)``) reflects every point exactly through the centre
  (100, 100) - leading becomes lagging, improving becomes weakening;
* the rate of change of RS-Ratio is its ``k``-row *difference* in ratio points.
  RS-Ratio stays within a few points of 100, so this equals the percentage
  rate of change ``100 (R_t / R_{t-k} - 1)`` to within a few percent (before the
  z-score removes the scale altogether) and keeps the exact symmetry above.

Behaviour to know: a z-score of a trailing window is scale free, so a steady
trend of any steepness saturates RS-Ratio (a linear trend in ``ln RS`` gives
:math:`100 + (n_1 - 1)\\sqrt{3 / (n_1 (n_1 + 1))}`, 101.53 for ``n1 = 12``) and its
momentum falls back (to NaN for a perfectly steady line, whose ratio is then
constant): a series enters *leading* when its outperformance
starts or gathers pace relative to its own recent history, and drifts to
*weakening* when that pace stops increasing - the usual RRG reading.

Quadrants (boundaries belong to the upper/right side)::

    improving | leading          momentum >= 100
    ----------+----------
    lagging   | weakening        momentum <  100
    ratio<100   ratio>=100

Rotations run clockwise: improving -> leading -> weakening -> lagging.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from rotation._typing import PriceFrame, SeriesOrFrame
from rotation.analytics import _rolling
from rotation.analytics._validate import as_frame, check_int
from rotation.errors import DataError, ParameterError

if TYPE_CHECKING:
    from rotation.panel import Panel

__all__ = [
    "QUADRANTS",
    "RRGResult",
    "quadrant",
    "relative_strength",
    "rrg",
    "rs_momentum",
    "rs_ratio",
    "to_weekly",
]

#: A window whose std is below this fraction of (1 + |mean|) is treated as flat.
_FLAT_TOL = 1e-12

#: Quadrant labels in clockwise rotation order.
QUADRANTS: tuple[str, ...] = ("improving", "leading", "weakening", "lagging")


# ----------------------------------------------------------------------------- validation
def _check_positive(frame: pd.DataFrame, parameter: str) -> None:
    bad = frame.le(0.0)
    if bad.to_numpy().any():
        col = bad.any()[lambda s: s].index[0]
        when = bad.index[bad[col].to_numpy()][0]
        raise DataError(
            f"{parameter}: non-positive value in column '{col}' on {when.date()}; "
            "relative strength needs positive prices or levels"
        )


# ----------------------------------------------------------------------------- resampling
def to_weekly(data: SeriesOrFrame) -> SeriesOrFrame:
    """Last observation of each W-FRI week, complete weeks only.

    Parameters
    ----------
    data : Series or DataFrame (T, N)
        Daily (or finer-than-weekly) levels with an ascending ``DatetimeIndex``.

    Returns
    -------
    Series or DataFrame (W, N)
        Rows labelled by the Friday ending each week. Each cell is the last
        non-NaN value of that column within the week (NaN when the column has
        none). The final week is emitted only when the data reaches its Friday,
        so a partial week never appears and later rows never rewrite a weekly
        value (weeks whose Friday is an exchange holiday are complete once any
        later row exists).
    """
    frame = as_frame(data, "data")
    if frame.empty:
        return data.iloc[:0] if isinstance(data, pd.Series) else frame
    weekly = frame.resample("W-FRI", label="right", closed="right").last()
    last = frame.index[-1]
    weekly = weekly[weekly.index <= last.normalize()]
    weekly.index.name = frame.index.name or "date"
    if isinstance(data, pd.Series):
        return weekly.iloc[:, 0].rename(data.name)
    return weekly


def _is_finer_than_weekly(index: pd.DatetimeIndex) -> bool:
    if len(index) < 3:
        return False
    # via timedeltas: asi8 is in the index's own unit (ns, us, s...) under pandas >= 2
    median_days = float(np.median((index[1:] - index[:-1]).total_seconds())) / 86_400.0
    return median_days < 5.0


# ----------------------------------------------------------------------------- measures
def relative_strength(
    prices: PriceFrame | pd.Series,
    benchmark: pd.Series | str,
    *,
    base: float = 100.0,
) -> pd.DataFrame:
    """Relative-strength line of every column against one benchmark.

    .. math:: RS_{i,t} = \\text{base} \\cdot P_{i,t} / B_t

    Parameters
    ----------
    prices : DataFrame (T, N) or Series (T,)
        Prices, adjusted closes or basket index levels; ascending ``DatetimeIndex``.
    benchmark : Series (T',) or str
        Benchmark levels (aligned to ``prices`` by exact date, no filling), or
        the name of a column of ``prices`` (that column is then left out of
        the result, its RS being identically ``base``).
    base : float
        Scale of the line (100 by convention).

    Returns
    -------
    DataFrame (T, N)
        NaN wherever the asset or the benchmark is NaN (before a late listing,
        inside gaps, or on dates the benchmark lacks). Dimensionless.

    Raises
    ------
    ParameterError
        Unknown benchmark column, bad index.
    DataError
        Non-positive prices, or no date shared by the asset and the benchmark.
    """
    frame, bench = _rs_operands(prices, benchmark)
    return _RSLines(frame, bench, base).frame()


def _rs_operands(
    prices: PriceFrame | pd.Series, benchmark: pd.Series | str
) -> tuple[pd.DataFrame, pd.Series]:
    """Checked (T, N) prices and the (T,) benchmark aligned to them (:func:`relative_strength`)."""
    frame = as_frame(prices, "prices")
    if isinstance(benchmark, str):
        if benchmark not in frame.columns:
            raise ParameterError("benchmark", f"'{benchmark}' is not a column of prices")
        bench = frame[benchmark]
        frame = frame.drop(columns=[benchmark])
    elif isinstance(benchmark, pd.Series):
        bench = as_frame(benchmark, "benchmark").iloc[:, 0].reindex(frame.index)
    else:
        raise ParameterError("benchmark", f"expected a Series or a column name, got {type(benchmark).__name__}")
    if frame.shape[1] == 0:
        raise ParameterError("prices", "no column left besides the benchmark")
    _check_positive(frame, "prices")
    _check_positive(bench.to_frame(), "benchmark")
    if not bench.notna().any():
        raise DataError("benchmark: no value on any date of prices (indexes do not overlap)")
    return frame, bench


class _RSLines:
    """Relative strength ``base * P / B`` kept as its operands until a frame is asked for.

    ``P`` is the (T, N) price frame, ``B`` the (T,) benchmark on its dates.
    Every RS value - whole frame, column chunk (``rrg``'s kernels) or single
    cells (:meth:`RRGResult.to_frame`) - is computed by
    :func:`rotation.analytics._rolling._ratio_of`, so all give the same bits.
    """

    __slots__ = ("base", "bench", "prices")

    def __init__(self, prices: pd.DataFrame, bench: pd.Series, base: float) -> None:
        self.prices, self.bench, self.base = prices, bench, float(base)

    def den(self) -> np.ndarray:
        """(T, 1) benchmark values."""
        return self.bench.to_numpy(dtype=np.float64, na_value=np.nan)[:, None]

    def frame(self) -> pd.DataFrame:
        """(T, N) RS frame (one fresh array, handed to pandas without its default copy)."""
        p = self.prices.to_numpy()
        out = np.empty(p.shape, order="F" if p.flags.f_contiguous else "C")
        rs = _rolling._ratio_of(p, self.den(), self.base, out)
        return pd.DataFrame(rs, index=self.prices.index, columns=self.prices.columns, copy=False)

    def at(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """RS at the cells ``(rows[i], cols[i])`` (1-D), without building the frame."""
        p = self.prices.to_numpy()[rows, cols]
        return _rolling._ratio_of(p, self.den()[rows, 0], self.base, np.empty(p.shape))

    def valid_counts(self) -> np.ndarray:
        """(N,) non-NaN RS values per column, without building the frame.

        P and B are positive or NaN (or inf), so P / B is NaN exactly where
        either is NaN or both are infinite.
        """
        p, b = self.prices.to_numpy(), self.den()
        nan = np.isnan(p) | np.isnan(b)
        inf_b = np.isinf(b)
        if inf_b.any():
            nan |= np.isinf(p) & inf_b
        return p.shape[0] - np.count_nonzero(nan, axis=0)


#: Instance-dict key of RRGResult.rs (a frame, or the _RSLines it is built from).
_RS_SLOT = "_rs_value"


class _LazyRS:
    """Data descriptor for :attr:`RRGResult.rs`: stores a frame, or an :class:`_RSLines`
    that is turned into the frame on first access (then kept)."""

    def __get__(self, obj: object, objtype: type | None = None) -> pd.DataFrame:
        if obj is None:
            # no class-level default: dataclass keeps ``rs`` a required field
            raise AttributeError(_RS_SLOT)
        value = obj.__dict__[_RS_SLOT]
        if isinstance(value, _RSLines):
            value = obj.__dict__[_RS_SLOT] = value.frame()
        return value

    def __set__(self, obj: object, value: pd.DataFrame | _RSLines) -> None:
        obj.__dict__[_RS_SLOT] = value


def rs_ratio(
    rs: SeriesOrFrame,
    *,
    window: int = 12,
    smooth: int = 1,
    min_periods: int | None = None,
) -> pd.DataFrame:
    """RS-Ratio: 100 + trailing z-score of the (optionally smoothed) log relative strength.

    .. math::

        x_t = \\tfrac{1}{s}\\sum_{j=0}^{s-1} \\ln RS_{t-j}, \\qquad
        \\text{RS-Ratio}_t = 100 + \\frac{x_t - \\operatorname{mean}(x_{t-n+1..t})}
                                       {\\operatorname{std}_{ddof=1}(x_{t-n+1..t})}

    Parameters
    ----------
    rs : DataFrame (T, N) or Series
        Relative-strength lines (:func:`relative_strength`), positive.
    window : int
        ``n``, the trailing z-score window in rows (default 12: a quarter of weeks).
    smooth : int
        ``s``, trailing simple-moving-average length applied to ``ln RS`` first (1: none).
    min_periods : int, optional
        Minimum non-NaN rows in the z-score window (default ``window``: a full
        window). At least 2.

    Returns
    -------
    DataFrame (T, N)
        NaN until a column has ``smooth - 1 + min_periods`` valid rows, when the
        smoothing window holds a NaN, when fewer than ``min_periods`` valid
        values are in the z-score window, and where the window is flat
        (std <= 1e-12 (1 + |mean|): constant up to rounding).
        Unitless (standard deviations around 100).

    Raises
    ------
    DataError
        A non-positive relative-strength value.
    """
    frame = as_frame(rs, "rs")
    window = check_int("window", window, 2)
    smooth = check_int("smooth", smooth, 1)
    mp = window if min_periods is None else check_int("min_periods", min_periods, 2)
    if mp > window:
        raise ParameterError("min_periods", f"must not exceed window ({window}), got {mp}")
    _check_positive(frame, "rs")
    # trailing kernels (_rolling): each output uses rows <= t only. A flat window has no
    # defined z-score: NaN rather than +/-inf or a z-score of rounding noise (a
    # constant-growth line gives a ratio equal up to ~1e-14).
    ratio = _rolling._ratio_lines(frame.to_numpy(), smooth, window, mp, _FLAT_TOL)
    return pd.DataFrame(ratio, index=frame.index, columns=frame.columns, copy=False)


def rs_momentum(
    ratio: SeriesOrFrame,
    *,
    window: int = 12,
    roc_period: int = 1,
    min_periods: int | None = None,
) -> pd.DataFrame:
    """RS-Momentum: 100 + trailing z-score of the rate of change of RS-Ratio.

    .. math::

        \\Delta_t = \\text{RS-Ratio}_t - \\text{RS-Ratio}_{t-k}, \\qquad
        \\text{RS-Momentum}_t = 100 + \\frac{\\Delta_t - \\operatorname{mean}(\\Delta_{t-n+1..t})}
                                         {\\operatorname{std}_{ddof=1}(\\Delta_{t-n+1..t})}

    The rate of change is the ``k``-row change in ratio points (see the module
    notes: within a few percent of the percentage change, and exactly
    antisymmetric under swapping asset and benchmark).

    Parameters
    ----------
    ratio : DataFrame (T, N) or Series
        RS-Ratio (:func:`rs_ratio`).
    window : int
        ``n``, trailing z-score window in rows (default 12).
    roc_period : int
        ``k``, rows spanned by the rate of change (default 1).
    min_periods : int, optional
        Minimum non-NaN changes in the window (default ``window``). At least 2.

    Returns
    -------
    DataFrame (T, N)
        NaN until ``roc_period + min_periods`` valid RS-Ratio rows exist, and
        wherever the window holds too few values or is flat (std <= 1e-12
        (1 + |mean|), e.g. a series growing at a constant rate vs the benchmark).
    """
    frame = as_frame(ratio, "ratio")
    window = check_int("window", window, 2)
    k = check_int("roc_period", roc_period, 1)
    mp = window if min_periods is None else check_int("min_periods", min_periods, 2)
    if mp > window:
        raise ParameterError("min_periods", f"must not exceed window ({window}), got {mp}")
    momentum = _rolling._momentum_lines(frame.to_numpy(), k, window, mp, _FLAT_TOL)
    return pd.DataFrame(momentum, index=frame.index, columns=frame.columns, copy=False)


def quadrant(ratio: SeriesOrFrame, momentum: SeriesOrFrame) -> pd.DataFrame:
    """Quadrant label of each point: ``leading``, ``weakening``, ``lagging``, ``improving``.

    ``leading``: ratio >= 100 and momentum >= 100; ``weakening``: ratio >= 100,
    momentum < 100; ``lagging``: both < 100; ``improving``: ratio < 100,
    momentum >= 100. NaN (missing) where either coordinate is NaN.

    Parameters
    ----------
    ratio, momentum : DataFrame (T, N) or Series, same shape

    Returns
    -------
    DataFrame (T, N) of object (str or NaN)
    """
    r = as_frame(ratio, "ratio").to_numpy()
    m = as_frame(momentum, "momentum")
    idx, cols = m.index, m.columns
    m = m.to_numpy()
    if r.shape != m.shape:
        raise ParameterError("momentum", f"shape {m.shape} differs from ratio's {r.shape}")
    labels = _labels(r, m)
    return pd.DataFrame(labels, index=idx, columns=cols)


def _labels(r: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Quadrant labels of coordinate arrays of one shape (object array, NaN where undefined)."""
    right, up = r >= 100.0, m >= 100.0
    labels = np.select(
        [right & up, right & ~up, ~right & ~up, ~right & up],
        ["leading", "weakening", "lagging", "improving"],
        default="",
    ).astype(object)
    labels[~(np.isfinite(r) & np.isfinite(m))] = np.nan
    return labels


# ----------------------------------------------------------------------------- result
@dataclass(frozen=True)
class RRGResult:
    """Relative rotation of N series against one benchmark.

    Attributes
    ----------
    rs : DataFrame (T, N)
        Relative-strength lines, ``100 * P / B``. :func:`rrg` hands over the
        prices and the benchmark instead: the frame is computed on first
        access (then kept), so a result holds two (T, N) arrays until ``rs``
        is read; :meth:`to_frame` reads RS at the latest points only.
    ratio : DataFrame (T, N)
        RS-Ratio (x axis).
    momentum : DataFrame (T, N)
        RS-Momentum (y axis).
    benchmark : str
        Benchmark name.
    ratio_window, momentum_window, roc_period, smooth : int
        Parameters used (rows of the analysed frequency).
    frequency : str
        ``"W"`` when daily input was resampled to weeks, else ``"as given"``.
    """

    # computed from the prices and the benchmark on first access when rrg() built the result
    rs: pd.DataFrame = _LazyRS()  # type: ignore[assignment]
    ratio: pd.DataFrame
    momentum: pd.DataFrame
    benchmark: str
    ratio_window: int
    momentum_window: int
    roc_period: int
    smooth: int
    frequency: str

    @property
    def quadrants(self) -> pd.DataFrame:
        """(T, N) quadrant labels (NaN where a coordinate is missing)."""
        return quadrant(self.ratio, self.momentum)

    def _valid(self) -> np.ndarray:
        return np.isfinite(self.ratio.to_numpy()) & np.isfinite(self.momentum.to_numpy())

    def tails(self, n: int = 8) -> pd.DataFrame:
        """The last ``n`` valid points of each series (the RRG "tail").

        Parameters
        ----------
        n : int
            Points per series (rows where both coordinates exist; gaps are skipped).

        Returns
        -------
        DataFrame
            Columns ``series, date, rs_ratio, rs_momentum, quadrant, step`` where
            ``step`` counts back from the latest point (0 = latest). Series with
            no valid point are absent; ordered by series then date.
        """
        n = check_int("n", n, 1)
        valid = pd.DataFrame(self._valid(), index=self.ratio.index, columns=self.ratio.columns)
        # rank valid rows from the end, per column, in one vectorised pass
        from_end = valid[::-1].cumsum()[::-1].where(valid)
        keep = from_end.le(n)
        long = pd.DataFrame(
            {
                "rs_ratio": self.ratio.stack(future_stack=True),
                "rs_momentum": self.momentum.stack(future_stack=True),
                "quadrant": self.quadrants.stack(future_stack=True),
                "step": (from_end - 1).stack(future_stack=True),
                "keep": keep.stack(future_stack=True),
            }
        )
        long = long[long["keep"].astype(bool)].drop(columns="keep")
        long.index = long.index.set_names(["date", "series"])
        long = long.reset_index()[["series", "date", "rs_ratio", "rs_momentum", "quadrant", "step"]]
        long["step"] = long["step"].astype("int64")
        order = {c: i for i, c in enumerate(self.ratio.columns)}
        long = long.sort_values(["series", "date"], key=lambda s: s.map(order) if s.name == "series" else s)
        return long.reset_index(drop=True)

    def _rs_at(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """RS at the cells ``(rows[i], cols[i])``: from the operands while ``rs`` is not built."""
        lines = self.__dict__.get(_RS_SLOT)
        if isinstance(lines, _RSLines):
            return lines.at(rows, cols)
        return self.rs.to_numpy()[rows, cols]

    def latest(self) -> pd.DataFrame:
        """Alias of :meth:`to_frame`."""
        return self.to_frame()

    def to_frame(self) -> pd.DataFrame:
        """Latest valid point per series.

        Returns
        -------
        DataFrame indexed by series
            ``date`` (of the latest point with both coordinates), ``rs``,
            ``rs_ratio``, ``rs_momentum``, ``quadrant``, ``heading`` (degrees in
            [0, 360), direction of the move from the previous valid point:
            0 = towards higher ratio, 90 = towards higher momentum, so 0-90 is
            the strongest heading), ``distance`` (Euclidean distance from the
            centre (100, 100), in standard deviations). Series without a valid
            point keep a row of NaN with ``quadrant`` NaN (nothing dropped).
        """
        valid = self._valid()
        r, m = self.ratio.to_numpy(), self.momentum.to_numpy()
        T, N = r.shape
        no_rows = T == 0
        if no_rows:
            nan = np.full(N, np.nan)
            r = m = nan[None, :]
            valid = np.zeros((1, N), dtype=bool)
            T = 1
        rows = np.arange(T)[:, None]
        last = np.where(valid, rows, -1).max(axis=0)
        prev = np.where(valid & (rows < last[None, :]), rows, -1).max(axis=0)  # previous valid row
        cols = np.arange(N)
        has, has_prev = last >= 0, prev >= 0
        li, pi = np.where(has, last, 0), np.where(has_prev, prev, 0)
        x = np.where(has, r[li, cols], np.nan)
        y = np.where(has, m[li, cols], np.nan)
        dx = np.where(has_prev, x - r[pi, cols], np.nan)
        dy = np.where(has_prev, y - m[pi, cols], np.nan)
        heading = np.mod(np.degrees(np.arctan2(dy, dx)), 360.0)
        dates = pd.DatetimeIndex([self.ratio.index[i] if i >= 0 else pd.NaT for i in last])
        out = pd.DataFrame(
            {
                "date": dates,
                "rs": np.where(has, np.nan if no_rows else self._rs_at(li, cols), np.nan),
                "rs_ratio": x,
                "rs_momentum": y,
                "quadrant": _labels(x, y),
                "heading": heading,
                "distance": np.hypot(x - 100.0, y - 100.0),
            },
            index=pd.Index(self.ratio.columns, name="series"),
        )
        return out


def rrg(
    prices: PriceFrame | pd.Series | Panel,
    benchmark: pd.Series | str,
    *,
    ratio_window: int = 12,
    momentum_window: int = 12,
    roc_period: int = 1,
    smooth: int = 1,
    weekly: bool = True,
    min_periods: int | None = None,
    series: Sequence[str] | None = None,
) -> RRGResult:
    """Relative rotation (RS-Ratio, RS-Momentum, quadrants) of many series vs one benchmark.

    The formulas are in the module docstring: RS = 100 P/B; RS-Ratio = 100 +
    trailing z-score (``ratio_window`` rows) of ``ln RS`` after an optional
    ``smooth``-row trailing mean; RS-Momentum = 100 + trailing z-score
    (``momentum_window`` rows) of the ``roc_period``-row change of RS-Ratio. Every statistic is trailing: appending rows never
    changes an earlier point.

    Parameters
    ----------
    prices : DataFrame (T, N), Series, or a Panel
        Prices or basket levels (a :class:`rotation.panel.Panel` contributes
        its ``prices``). Use ``panel.basket_levels(name)`` columns for baskets.
    benchmark : Series or str
        Benchmark levels, or a column name of ``prices`` (excluded from the output).
    ratio_window, momentum_window : int
        Trailing z-score windows in rows of the analysed frequency (default 12
        weeks each).
    roc_period : int
        Rows in the RS-Ratio rate of change (default 1).
    smooth : int
        Trailing mean applied to RS before the ratio (default 1 = none).
    weekly : bool
        Default True: input finer than weekly (median spacing < 5 days) is
        first reduced to the last value of each complete W-FRI week
        (:func:`to_weekly`); already-weekly input is used as given. False: use
        the rows as given (daily RRG; windows are then in days).
    min_periods : int, optional
        Minimum valid rows in each z-score window (default: the full window).
    series : sequence of str, optional
        Keep only these columns (the benchmark column is always available).

    Returns
    -------
    RRGResult

    Notes
    -----
    Late listings: a series starts ``smooth - 1 + ratio_window`` valid rows
    (ratio) and ``roc_period + momentum_window`` further rows (momentum) after
    its first joint observation with the benchmark; before that its
    coordinates are NaN. A NaN inside a window makes the smoothing NaN at that
    row; the z-score windows need ``min_periods`` valid values.
    """
    data = getattr(prices, "prices", prices)
    frame = as_frame(data, "prices")
    bench = benchmark
    if isinstance(bench, pd.Series):
        bench = as_frame(bench, "benchmark").iloc[:, 0]
        name = str(bench.name) if bench.name is not None else "benchmark"
    elif isinstance(bench, str):
        name = bench
    else:
        raise ParameterError("benchmark", f"expected a Series or a column name, got {type(bench).__name__}")
    if series is not None:
        missing = [s for s in series if s not in frame.columns]
        if missing:
            raise ParameterError("series", f"not columns of prices: {', '.join(missing)}")
        keep = list(series) + ([name] if isinstance(bench, str) and name not in series else [])
        frame = frame[keep]
    for p, v in (("ratio_window", ratio_window), ("momentum_window", momentum_window)):
        check_int(p, v, 2)
    check_int("roc_period", roc_period, 1)
    check_int("smooth", smooth, 1)
    freq = "as given"
    if weekly and _is_finer_than_weekly(frame.index):
        if isinstance(bench, pd.Series):
            # resample the benchmark on its own dates (it may trade on other days)
            bench = to_weekly(bench)
        frame = to_weekly(frame)
        freq = "W"
    # RS stays as its operands: the kernels build it chunk by chunk, RRGResult.rs on first access
    rs = _RSLines(*_rs_operands(frame, bench), base=100.0)
    if min_periods is not None:
        # what rs_ratio / rs_momentum check and reject
        check_int("min_periods", min_periods, 2)
        if min_periods > ratio_window:
            raise ParameterError(
                "min_periods", f"must not exceed window ({ratio_window}), got {min_periods}"
            )
    mp1 = ratio_window if min_periods is None else min(min_periods, ratio_window)
    mp2 = momentum_window if min_periods is None else min(min_periods, momentum_window)
    need = smooth - 1 + mp1 + roc_period + mp2 - 1
    most = int(rs.valid_counts().max()) if rs.prices.shape[1] else 0
    if most < need:
        raise DataError(
            f"too few rows for a rotation graph: a series needs at least {need} joint "
            f"observations with the benchmark at the analysed frequency ({freq}); the longest has {most}"
        )
    # rs_ratio then rs_momentum, fused: one pass per column, no intermediate (T, N) frames
    ratio_values, momentum_values = _rolling._rrg_lines(
        rs.prices.to_numpy(),
        den=rs.den(),
        base=rs.base,
        smooth=smooth,
        ratio_window=ratio_window,
        ratio_min_periods=mp1,
        roc_period=roc_period,
        momentum_window=momentum_window,
        momentum_min_periods=mp2,
        flat_tol=_FLAT_TOL,
    )
    index, columns = rs.prices.index, rs.prices.columns
    ratio = pd.DataFrame(ratio_values, index=index, columns=columns, copy=False)
    momentum = pd.DataFrame(momentum_values, index=index, columns=columns, copy=False)
    return RRGResult(
        rs=rs,
        ratio=ratio,
        momentum=momentum,
        benchmark=name,
        ratio_window=int(ratio_window),
        momentum_window=int(momentum_window),
        roc_period=int(roc_period),
        smooth=int(smooth),
        frequency=freq,
    )
