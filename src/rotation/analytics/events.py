"""Event studies: market-model abnormal returns, CARs, BMP and Kolari-Pynnonen tests, CAR paths.

Timing
------
Rows of ``returns`` are the study's periods (NYSE sessions on the default panel). Event day 0
is the first row dated on or after the event's date (timing ``open``: news before or during
that session), or strictly after it (timing ``after_close``). So an event on a weekend or
holiday maps to the next session. An event whose day-0 row is more than
:data:`MAX_SHIFT_DAYS` calendar days after its date (before the data starts, in a hole of the
calendar, or after the data ends) is excluded and listed in :attr:`EventStudyResult.excluded`.
On the default panel a crypto row of session *D* holds the close of UTC day *D-1* (before the
US open), so the crypto reaction to a 14:00 ET announcement appears on day +1; the default
windows all contain day +1.

Model
-----
For event *e* with day-0 row :math:`t_0` and series *i*, the **estimation window** is the
``estimation`` rows :math:`[t_0 - g - L, t_0 - g)` (``L = estimation``, ``g = gap``: the
``gap`` rows before day 0 are left out so that the run-up to the event cannot contaminate
normal returns). On its rows where both the series and the market return exist (``n`` of them,
at least ``min_estimation``), OLS gives (``model="market"``, the default)

.. math::

    R_{it} = \\alpha_i + \\beta_i R_{mt} + \\varepsilon_{it},\\qquad
    \\hat\\beta = S_{xy}/S_{xx},\\ \\hat\\alpha = \\bar y - \\hat\\beta \\bar x,\\qquad
    s^2 = \\frac{\\sum \\hat\\varepsilon_t^2}{n-2},

with :math:`S_{xx} = \\sum (x_t-\\bar x)^2` and :math:`S_{xy} = \\sum (x_t-\\bar x)(y_t-\\bar y)`.
``model="mean"`` fixes :math:`\\beta = 0` (constant mean return, :math:`s^2` with ``n-1``);
``model="market_adjusted"`` fixes :math:`\\alpha = 0, \\beta = 1` (:math:`s^2` of
:math:`y - x` with ``n-1``). Abnormal returns and the cumulative abnormal return over the
event window :math:`[\\tau_1, \\tau_2]` (``K = \\tau_2 - \\tau_1 + 1`` rows) are

.. math::

    AR_{it} = R_{it} - \\hat\\alpha_i - \\hat\\beta_i R_{mt},\\qquad
    CAR_i(\\tau_1,\\tau_2) = \\sum_{\\tau=\\tau_1}^{\\tau_2} AR_{i,t_0+\\tau}.

A CAR needs every row of its window (series and market); otherwise it is excluded for that
window. Its variance includes the estimation error of :math:`\\hat\\alpha, \\hat\\beta`
(Campbell, Lo and MacKinlay 1997, eq. 4.4.13):

.. math::

    \\sigma^2(CAR_i) = s_i^2\\Big(K + \\frac{K^2}{n} + \\frac{(\\sum_{w} x_t - K\\bar x)^2}{S_{xx}}\\Big)

(``mean``: :math:`s^2(K + K^2/n)`; ``market_adjusted``: :math:`s^2 K`), and the standardized
CAR is :math:`SCAR_i = CAR_i / \\sigma(CAR_i)` (for one event, :math:`SCAR_i` is its
time-series t statistic, Student t with the model's degrees of freedom).

NaN, late listings, overlapping events
--------------------------------------
The estimation uses the rows where both the series and the market have a return; with fewer than
``min_estimation`` of them (a series listed after the window starts, IBIT before its launch)
the (event, series) pair is excluded with the count and the series' first return date. A CAR
whose window lacks any row (a gap, the end of the data) is excluded for that window only.
Estimation windows are not cleaned of earlier events (with eight FOMC meetings a year each
250-session window holds about eight); with a 14:00 ET announcement and crypto sampled at the
prior UTC close, crypto betas on the same-session market return are understated (asynchronous
prices), which widens but does not bias crypto abnormal returns under the null.

Tests
-----
A *cell* is the cross-section of N CARs tested together: one key (the event kind, the event
or all events, see ``by``) and one group (``groups``; by default each series alone).

* Cross-sectional t: :math:`t = \\overline{CAR}/(s_{CAR}/\\sqrt N)`, :math:`s` the sample
  standard deviation (``ddof=1``).
* BMP (Boehmer, Musumeci and Poulsen 1991): the same t on the standardized CARs,
  :math:`t_{BMP} = \\overline{SCAR}/(s_{SCAR}/\\sqrt N)`; robust to event-induced variance.
* Kolari-Pynnonen (2010) adjustment for cross-correlation:
  :math:`t_{KP} = t_{BMP}\\sqrt{(1-\\bar r)/(1+(N-1)\\bar r)}` with :math:`\\bar r` the average
  correlation between the cell's CARs under the null. For two CARs on the same event date,
  KP's estimate is the sample correlation of the two series' estimation-window residuals.
  Generalised here to windows that overlap partially (consecutive FOMC meetings with a 60-day
  window): with serially uncorrelated abnormal returns,
  :math:`\\mathrm{corr}(CAR_i, CAR_j) = \\rho_{ij}\\, m_{ij}/K`, :math:`m_{ij}` the number of
  event-window rows the two share (0 for disjoint windows: no adjustment), and

  - :math:`\\rho_{ij} = 1` for the same series at two events (the shared rows hold the same
    abnormal returns),
  - otherwise the sample correlation of the two market-model residual series over the rows
    their estimation windows share (:math:`\\sum_t z_{it} z_{jt} / |C_{ij}|` with
    :math:`z = \\hat\\varepsilon / \\sqrt{SSR/n}`; exactly Pearson's r when both windows are
    complete and coincide).

  :math:`\\bar r` averages :math:`\\rho_{ij} m_{ij}/K` over all ordered pairs of the cell's
  pairs (event, series) that have a valid estimation window. Every statistic is compared with
  Student t with ``N - 1`` degrees of freedom (two-sided p-values). The confidence interval of
  the mean CAR is the cross-sectional one widened by the same KP factor,
  :math:`\\overline{CAR} \\pm t_{N-1} \\frac{s_{CAR}}{\\sqrt N}\\sqrt{(1+(N-1)\\bar r)/(1-\\bar r)}`.

A **relative CAR** (``relative=[("crypto_majors", "ai_compute")]``) is the event study of the
spread return :math:`R_a - R_b` (rows where both exist). OLS being linear, its CAR equals
:math:`CAR_a - CAR_b` when both series share their estimation rows, and its residuals carry
the covariance of the two, so its t/BMP/KP tests test the difference directly. It is included
for an event that affects both series.

CAR paths (:attr:`EventStudyResult.paths`): for each cell and event day
:math:`\\tau \\in [p_1, p_2]` (default: the span of the windows), the mean of
:math:`CAR_i(p_1, \\tau)` over the pairs complete over the whole path (a fixed set, so the path
is not moved by pairs entering or leaving), with the KP-widened band for window
:math:`[p_1, \\tau]`.

Look-ahead: a CAR for window :math:`[\\tau_1,\\tau_2]` uses rows up to :math:`t_0 + \\tau_2`
only, and the model uses rows before :math:`t_0 - g`; appending rows after an event window
never changes its CAR.

Computation: one pass of prefix sums (T, N) of the masked market and series returns, their
squares and cross products gives every pair's regression and every window's CAR in O(1), all
pairs at once; KP's same-series terms are a histogram of day-0 distances, its cross-series
terms come from per-event matrix products. 1,000 events x 500 series with a 250-session window
(T = 2,520) take about 1 s on two cores; the per-pair tables (:attr:`EventStudyResult.cars`,
2 million rows there) and the CAR paths are built on first access.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from rotation._typing import ReturnFrame
from rotation.analytics._validate import check_int
from rotation.errors import DataError, ParameterError
from rotation.events._model import TIMINGS, Event, EventSet, assign_ids

__all__ = [
    "BY",
    "DEFAULT_WINDOWS",
    "MAX_SHIFT_DAYS",
    "MODELS",
    "EventStudyResult",
    "bmp_test",
    "event_sessions",
    "event_study",
    "kolari_pynnonen",
]

#: Default CAR windows, in rows relative to day 0 (both ends included).
DEFAULT_WINDOWS: tuple[tuple[int, int], ...] = ((-1, 1), (0, 5), (0, 20), (0, 60))
#: Normal-return models.
MODELS = ("market", "mean", "market_adjusted")
#: Cross-sections tested together: per event kind, per event, or all events pooled.
BY = ("kind", "event", "all")
#: An event whose day-0 row is more than this many calendar days after its date is excluded.
MAX_SHIFT_DAYS = 7

_BY_COLUMN = {"kind": "kind", "event": "event", "all": "pool"}


# ============================================================================ small tests
def bmp_test(scar: Sequence[float] | np.ndarray) -> tuple[float, float]:
    """Boehmer-Musumeci-Poulsen (1991) standardized cross-sectional test.

    .. math:: t_{BMP} = \\frac{\\overline{SCAR}}{s_{SCAR}/\\sqrt N}

    Parameters
    ----------
    scar : array-like (N,)
        Standardized CARs (NaN dropped).

    Returns
    -------
    (t, p) : float, float
        The statistic and its two-sided p-value from Student t with ``N - 1`` degrees of
        freedom; NaN when fewer than 2 values or zero dispersion.
    """
    x = np.asarray(scar, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n < 2:
        return math.nan, math.nan
    sd = float(np.std(x, ddof=1))
    if not sd > 0:
        return math.nan, math.nan
    t = float(np.mean(x)) / (sd / math.sqrt(n))
    return t, float(2.0 * stats.t.sf(abs(t), n - 1))


def kolari_pynnonen(t_bmp: float, n: int, rbar: float) -> tuple[float, float]:
    """Kolari-Pynnonen (2010) adjustment of a BMP statistic for cross-correlation.

    .. math:: t_{KP} = t_{BMP}\\sqrt{\\frac{1-\\bar r}{1+(N-1)\\bar r}}

    Returns
    -------
    (t, p) : float, float
        Adjusted statistic and two-sided p-value (Student t, ``N - 1`` df); NaN when
        :math:`\\bar r \\ge 1` or :math:`1 + (N-1)\\bar r \\le 0`.
    """
    factor = _kp_factor(np.asarray([n], dtype=float), np.asarray([rbar], dtype=float))[0]
    if not np.isfinite(factor) or not np.isfinite(t_bmp) or n < 2:
        return math.nan, math.nan
    t = float(t_bmp) * float(factor)
    return t, float(2.0 * stats.t.sf(abs(t), n - 1))


def _kp_factor(n: np.ndarray, rbar: np.ndarray) -> np.ndarray:
    """sqrt((1 - r) / (1 + (n - 1) r)), NaN where undefined."""
    with np.errstate(invalid="ignore", divide="ignore"):
        num = 1.0 - rbar
        den = 1.0 + (n - 1.0) * rbar
        out = np.sqrt(num / den)
    out[~((num > 0) & (den > 0))] = np.nan
    return out


# ============================================================================ result
@dataclass(frozen=True)
class EventStudyResult:
    """Output of :func:`event_study`.

    Attributes
    ----------
    summary : DataFrame
        One row per cell and window. Columns: the cell key (``kind``, ``event`` or ``pool``
        per ``by``), ``group``, ``window`` (``"[-1,+1]"``), ``start``, ``end`` (event days),
        ``n`` (CARs), ``n_events``, ``n_series``, ``mean_car``, ``sd_car``, ``t``, ``p_t``
        (cross-sectional t), ``mean_scar``, ``bmp``, ``p_bmp``, ``rbar``, ``kp``, ``p_kp``,
        ``ci_low``, ``ci_high`` (KP-widened, level ``level``), ``pos_share`` (share of CARs
        > 0) and ``p_single`` (for ``n == 1``: the time-series test of that one CAR).
        Statistics needing two CARs are NaN for ``n == 1``. CARs are simple-return sums
        (0.05 = 5%).
    cars : DataFrame
        One row per (event, series, window) with a complete window: ``event``, ``kind``,
        ``session`` (day 0), ``series``, ``window``, ``car``, ``se``, ``scar`` and
        ``p_single`` (two-sided, Student t with the model's degrees of freedom).
    estimates : DataFrame
        One row per (event, series) with a valid estimation window: ``event``, ``series``,
        ``alpha``, ``beta``, ``sigma`` (residual s.d.), ``n_est``, ``est_start``,
        ``est_end``, ``session``.
    paths : DataFrame
        Mean CAR by event day per cell: cell key, ``group``, ``day``, ``n``, ``mean_car``,
        ``ci_low``, ``ci_high``, ``rbar``; ``CAR(p1, day)`` over the pairs complete on the
        whole path ``[p1, p2]``.
    excluded : DataFrame
        ``event, series, window, reason``: everything left out and why (``window`` empty
        when the whole pair or event is out).
    events : DataFrame
        The events studied: ``event, date, kind, label, timing, session, n_series``.
    params : dict
        The arguments used (``market``, ``model``, ``estimation``, ``gap``,
        ``min_estimation``, ``windows``, ``path``, ``by``, ``level``, ``relative``).
    notes : tuple of str

    ``cars``, ``estimates`` and ``paths`` are computed on first access (they are large for big
    studies) and cached.
    """

    summary: pd.DataFrame
    excluded: pd.DataFrame
    events: pd.DataFrame
    params: Mapping[str, Any]
    notes: tuple[str, ...] = field(default_factory=tuple)
    _builders: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @cached_property
    def cars(self) -> pd.DataFrame:
        """Per-(event, series, window) CARs (built on first access, then cached)."""
        return self._builders["cars"]()

    @cached_property
    def estimates(self) -> pd.DataFrame:
        """Per-(event, series) market-model estimates (built on first access, then cached)."""
        return self._builders["estimates"]()

    @cached_property
    def paths(self) -> pd.DataFrame:
        """Mean CAR paths with KP bands (built on first access, then cached)."""
        return self._builders["paths"]()

    def to_frame(self) -> pd.DataFrame:
        """The :attr:`summary` table."""
        return self.summary

    @property
    def key(self) -> str:
        """Name of the cell-key column (``kind``, ``event`` or ``pool``)."""
        return _BY_COLUMN[str(self.params["by"])]

    def relative(self) -> pd.DataFrame:
        """Summary rows of the relative (spread) series, e.g. ``crypto_majors - ai_compute``."""
        names = [_spread_name(a, b) for a, b in self.params.get("relative", ())]
        return self.summary[self.summary["group"].isin(names)].reset_index(drop=True)

    def path(self, group: str, key: str | None = None) -> pd.DataFrame:
        """The CAR path of one group (and cell key; required when several exist)."""
        p = self.paths[self.paths["group"] == group]
        keys = p[self.key].unique()
        if key is None:
            if len(keys) > 1:
                raise ParameterError("key", f"group {group} has paths for {', '.join(map(str, keys))}: choose one")
        else:
            p = p[p[self.key] == key]
        if p.empty:
            raise ParameterError("group", f"no path for group {group!r}" + (f" and {key!r}" if key else ""))
        return p.reset_index(drop=True)


# ============================================================================ inputs
def _spread_name(a: str, b: str) -> str:
    return f"{a} - {b}"


def _returns_frame(returns: Any) -> pd.DataFrame:
    if isinstance(returns, pd.Series):
        returns = returns.to_frame(name=returns.name if returns.name is not None else "series")
    if not isinstance(returns, pd.DataFrame):
        raise ParameterError("returns", f"expected a pandas DataFrame (T, N), got {type(returns).__name__}")
    if not isinstance(returns.index, pd.DatetimeIndex):
        raise ParameterError("returns", "index must be a DatetimeIndex (dates as rows)")
    if returns.index.has_duplicates:
        first = returns.index[returns.index.duplicated()][0]
        raise ParameterError("returns", f"index has duplicate dates (first {first})")
    if not returns.index.is_monotonic_increasing:
        raise ParameterError("returns", "index must be sorted ascending")
    if returns.columns.has_duplicates:
        dup = sorted(set(returns.columns[returns.columns.duplicated()]))
        raise ParameterError("returns", f"duplicate columns: {dup}")
    try:
        return returns.astype("float64")
    except (TypeError, ValueError) as exc:
        raise ParameterError("returns", f"values must be numeric ({exc})") from None


def _events_list(events: Any) -> list[Event]:
    if isinstance(events, EventSet):
        out = list(events.events)
    elif isinstance(events, pd.DataFrame):
        out = _events_from_frame(events)
    elif isinstance(events, Event):
        out = [events]
    elif isinstance(events, Iterable):
        out = list(events)
        bad = [e for e in out if not isinstance(e, Event)]
        if bad:
            raise ParameterError("events", f"expected Event objects, got {type(bad[0]).__name__}")
    else:
        raise ParameterError(
            "events", f"expected an EventSet, a list of Event or a DataFrame, got {type(events).__name__}"
        )
    if not out:
        raise ParameterError("events", "no events given")
    out = assign_ids(out)
    ids = [e.id for e in out]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise ParameterError("events", f"duplicate event ids: {', '.join(dup)}")
    return out


def _events_from_frame(frame: pd.DataFrame) -> list[Event]:
    missing = [c for c in ("date", "kind", "affects") if c not in frame.columns]
    if missing:
        raise ParameterError("events", f"event frame lacks column(s) {', '.join(missing)}")
    out = []
    for i, row in enumerate(frame.itertuples(index=False)):
        rec = row._asdict()
        try:
            when = pd.Timestamp(rec["date"]).date()
        except (TypeError, ValueError):
            raise ParameterError("events", f"row {i}: not a date: {rec['date']!r}") from None
        aff = rec["affects"]
        if isinstance(aff, str):
            aff = [p for p in aff.replace(",", ";").split(";") if p.strip()]
        aff = tuple(str(a).strip() for a in aff)
        timing = rec.get("timing", "open") or "open"
        if timing not in TIMINGS:
            raise ParameterError("events", f"row {i}: timing {timing!r} is not one of {', '.join(TIMINGS)}")
        out.append(Event(date=when, label=str(rec.get("label", "") or ""), kind=str(rec["kind"]), affects=aff,
                         timing=timing, id=str(rec.get("id", "") or "")))
    return out


def _windows(windows: Any) -> list[tuple[int, int]]:
    try:
        out = [(int(a), int(b)) for a, b in windows]
    except (TypeError, ValueError):
        raise ParameterError("windows", f"expected pairs of integers like (0, 5), got {windows!r}") from None
    if not out:
        raise ParameterError("windows", "give at least one window")
    for a, b in out:
        if b < a:
            raise ParameterError("windows", f"window ({a}, {b}) ends before it starts")
    if len(set(out)) != len(out):
        raise ParameterError("windows", "duplicate windows")
    return out


def _window_label(a: int, b: int) -> str:
    return f"[{a:+d},{b:+d}]".replace("+0", "0")


def event_sessions(index: pd.DatetimeIndex, events: Any) -> pd.DataFrame:
    """Map events to their day-0 row of ``index`` (see the module docstring).

    Returns
    -------
    DataFrame
        ``event, date, timing, position`` (int, -1 when excluded), ``session`` (NaT when
        excluded) and ``reason`` ("" when mapped).
    """
    evs = _events_list(events)
    pos, reasons = _day0(pd.DatetimeIndex(index), evs)
    sess = [pd.DatetimeIndex(index)[p] if p >= 0 else pd.NaT for p in pos]
    return pd.DataFrame({"event": [e.id for e in evs], "date": pd.to_datetime([e.date for e in evs]),
                         "timing": [e.timing for e in evs], "position": pos, "session": sess, "reason": reasons})


def _day0(index: pd.DatetimeIndex, evs: list[Event]) -> tuple[np.ndarray, list[str]]:
    days = index.normalize()
    if days.tz is not None:
        days = days.tz_localize(None)
    vals = days.to_numpy()
    dates = pd.to_datetime([e.date for e in evs]).to_numpy()
    after = np.array([e.timing == "after_close" for e in evs])
    pos = np.where(after, np.searchsorted(vals, dates, side="right"), np.searchsorted(vals, dates, side="left"))
    reasons = []
    out = pos.astype(np.int64)
    for k, (p, d) in enumerate(zip(pos, dates, strict=True)):
        if len(vals) == 0 or p >= len(vals):
            out[k] = -1
            reasons.append("event after the last row of the returns")
        elif (vals[p] - d) > np.timedelta64(MAX_SHIFT_DAYS, "D"):
            out[k] = -1
            where = "before the first row of the returns" if p == 0 else "in a gap of the returns' calendar"
            reasons.append(f"no row within {MAX_SHIFT_DAYS} days of the event ({where}; next row "
                           f"{pd.Timestamp(vals[p]).date()})")
        else:
            reasons.append("")
    return out, reasons


# ============================================================================ prefix sums
class _Prefix:
    """Prefix sums (T+1, C) of the masked, centred market x and series y and their products."""

    def __init__(self, R: np.ndarray, m: np.ndarray) -> None:
        T, C = R.shape
        self.V = np.isfinite(R) & np.isfinite(m)[:, None]
        self.Vf = Vf = self.V.astype(np.float64)
        cnt = Vf.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            # centring by each column's mean over its valid rows: OLS is shift-invariant, and
            # centred prefix sums lose less to cancellation
            self.cy = np.where(cnt > 0, np.where(self.V, R, 0.0).sum(axis=0) / cnt, 0.0)
            self.cx = np.where(cnt > 0, (np.where(np.isfinite(m), m, 0.0)[:, None] * Vf).sum(axis=0) / cnt, 0.0)
        self.Y = np.where(self.V, R - self.cy, 0.0)
        self.X = np.where(self.V, m[:, None] - self.cx, 0.0)
        self.T, self.C = T, C

        def cum(a: np.ndarray) -> np.ndarray:
            out = np.empty((T + 1, C), dtype=np.float64)
            out[0] = 0.0
            np.cumsum(a, axis=0, out=out[1:])
            return out

        self.n = cum(Vf)
        self.x = cum(self.X)
        self.y = cum(self.Y)
        self.xx = cum(self.X * self.X)
        self.xy = cum(self.X * self.Y)
        self.yy = cum(self.Y * self.Y)

    def sums(
        self, col: np.ndarray, lo: np.ndarray, hi: np.ndarray, fields: Sequence[str] = ("n", "x", "y", "xx", "xy", "yy")
    ) -> dict[str, np.ndarray]:
        """Window sums over rows [lo, hi) of column ``col`` (vectors of equal length)."""
        return {k: getattr(self, k)[hi, col] - getattr(self, k)[lo, col] for k in fields}


# ============================================================================ main entry
def event_study(
    returns: ReturnFrame,
    events: EventSet | Sequence[Event] | pd.DataFrame,
    *,
    market: str | pd.Series = "SPY",
    estimation: int = 250,
    gap: int = 10,
    windows: Sequence[tuple[int, int]] = DEFAULT_WINDOWS,
    min_estimation: int | None = None,
    model: str = "market",
    groups: Mapping[str, Sequence[str]] | None = None,
    relative: Sequence[tuple[str, str]] | None = None,
    by: str = "kind",
    path: tuple[int, int] | None = None,
    level: float = 0.95,
) -> EventStudyResult:
    """Market-model event study of many series around many events, with BMP and KP tests.

    See the module docstring for the timing convention, the model, the tests and the
    generalised Kolari-Pynnonen correlation.

    Parameters
    ----------
    returns : DataFrame (T, N)
        Simple returns (instruments or basket indices) on a DatetimeIndex, NaN where missing
        (before a listing, in gaps). May contain the market column.
    events : EventSet, list of Event, or DataFrame
        The events (a frame needs ``date``, ``kind`` and ``affects``; ``label``, ``timing``,
        ``id`` optional). ``affects`` names columns, group names (expanded to their members) or
        ``all`` (every column but the market). Names that are neither are listed in
        :attr:`EventStudyResult.excluded`.
    market : str or Series, default "SPY"
        Market return: a column of ``returns`` (left out of ``all``) or a Series (aligned on
        ``returns``' dates).
    estimation : int, default 250
        Rows in the estimation window (``L``).
    gap : int, default 10
        Rows between the end of the estimation window and day 0; at least ``-min(start)`` of
        the windows and path (the estimation window never overlaps an event window).
    windows : sequence of (int, int)
        CAR windows in event days, both ends included.
    min_estimation : int, optional
        Valid estimation rows needed (default ``max(3, estimation // 2)``); a series listed
        later (IBIT before its launch) is excluded for that event.
    model : {"market", "mean", "market_adjusted"}
    groups : mapping str -> sequence of str, optional
        Cross-sections to test: group name -> member columns (e.g. baskets -> members).
        Default: every column (and spread) is its own group. Columns in no group form their
        own. Group names can also be used in ``affects``.
    relative : sequence of (str, str), optional
        Pairs of columns ``(a, b)``: the spread ``a - b`` is studied as an extra series named
        ``"a - b"`` (a relative CAR) for every event that affects both.
    by : {"kind", "event", "all"}, default "kind"
        Pool the CARs of each event kind, test each event separately, or pool all events.
    path : (int, int), optional
        Event-day span of the CAR paths (default: from the earliest window start to the
        latest window end).
    level : float, default 0.95
        Confidence level of the intervals and path bands.

    Returns
    -------
    EventStudyResult

    Raises
    ------
    ParameterError
        Bad arguments (unknown market column or model, inconsistent windows and gap,
        relative pair not in the columns, a group with no member in ``returns``).
    DataError
        No (event, series) pair has a valid estimation window and a complete event window.
    """
    frame = _returns_frame(returns)
    if model not in MODELS:
        raise ParameterError("model", f"must be one of {', '.join(MODELS)}, got {model!r}")
    if by not in BY:
        raise ParameterError("by", f"must be one of {', '.join(BY)}, got {by!r}")
    L = check_int("estimation", estimation, 3)
    gap = check_int("gap", gap, 0)
    min_est = check_int("min_estimation", min_estimation if min_estimation is not None else max(3, L // 2), 3)
    if min_est > L:
        raise ParameterError("min_estimation", f"{min_est} is more than the estimation window ({L})")
    wins = _windows(windows)
    p1, p2 = path if path is not None else (min(a for a, _ in wins), max(b for _, b in wins))
    p1, p2 = int(p1), int(p2)
    if p2 < p1:
        raise ParameterError("path", f"path ({p1}, {p2}) ends before it starts")
    earliest = min(p1, min(a for a, _ in wins))
    if gap < -earliest:
        raise ParameterError("gap", f"gap {gap} lets the estimation window overlap event day {earliest}: "
                                    f"use gap >= {-earliest}")
    if not 0.0 < float(level) < 1.0:
        raise ParameterError("level", f"must be in (0, 1), got {level!r}")
    evs = _events_list(events)

    # --- market and columns
    if isinstance(market, str):
        if market not in frame.columns:
            raise ParameterError("market", f"'{market}' is not a column of the returns (pass a Series to use another)")
        m = frame[market].to_numpy(dtype=np.float64)
        market_name = market
        cols = [c for c in frame.columns if c != market]
    elif isinstance(market, pd.Series):
        mk = market.astype("float64")
        if mk.index.has_duplicates:
            raise ParameterError("market", "index has duplicate dates")
        m = mk.reindex(frame.index).to_numpy(dtype=np.float64)
        if not np.isfinite(m).any():
            raise DataError("the market series has no value on the returns' dates")
        market_name = str(market.name) if market.name is not None else "market"
        cols = list(frame.columns)
    else:
        raise ParameterError("market", f"expected a column name or a Series, got {type(market).__name__}")
    labels = [str(c) for c in cols]
    pos_of = {str(c): i for i, c in enumerate(cols)}
    R = frame[cols].to_numpy(dtype=np.float64, copy=True) if cols else np.empty((len(frame), 0))
    if isinstance(market, str) and market in frame.columns:
        pos_of_market = market
    else:
        pos_of_market = None

    # --- relative spreads (extra columns)
    rel = [(str(a), str(b)) for a, b in (relative or ())]
    for a, b in rel:
        for s in (a, b):
            if s not in pos_of:
                raise ParameterError("relative", f"'{s}' is not a column of the returns")
        if a == b:
            raise ParameterError("relative", f"pair ({a}, {b}) compares a series with itself")
    if rel:
        spreads = np.column_stack([R[:, pos_of[a]] - R[:, pos_of[b]] for a, b in rel])
        R = np.hstack([R, spreads])
    n_base = len(labels)
    all_labels = labels + [_spread_name(a, b) for a, b in rel]
    n_cols = len(all_labels)

    # --- groups: name -> column positions; column -> groups
    group_members: dict[str, list[int]] = {}
    notes: list[str] = []
    if groups is not None:
        if not isinstance(groups, Mapping):
            raise ParameterError("groups", "expected a mapping group name -> member columns")
        for g, members in groups.items():
            if isinstance(members, str):
                members = [members]
            present = [pos_of[str(s)] for s in members if str(s) in pos_of]
            absent = [str(s) for s in members if str(s) not in pos_of and str(s) != pos_of_market]
            if not present:
                raise ParameterError("groups", f"group '{g}' has no member among the returns' columns")
            if absent:
                notes.append(f"group {g}: {', '.join(absent)} not in the returns, left out")
            group_members[str(g)] = list(dict.fromkeys(present))
    for s in range(n_cols):  # columns in no group form their own
        if not any(s in members for members in group_members.values()):
            group_members.setdefault(all_labels[s], []).append(s)
    group_names = list(group_members)

    # --- events -> day 0 and affected columns
    T = len(frame)
    t0, t0_reason = _day0(frame.index, evs)
    excluded: list[tuple[str, str, str, str]] = []       # event-level rows
    excluded_frames: list[pd.DataFrame] = []            # vectorised pair-level rows
    pair_e: list[int] = []
    pair_s: list[int] = []
    for e, ev in enumerate(evs):
        if t0[e] < 0:
            excluded.append((ev.id, "", "", t0_reason[e]))
            continue
        hit: list[int] = []
        if ev.affects_all:
            hit = list(range(n_base))
        else:
            for name in ev.affects:
                if name in pos_of:
                    hit.append(pos_of[name])
                elif name in group_members and groups is not None and name in groups:
                    hit.extend(s for s in group_members[name] if s < n_base)
                elif name == pos_of_market:
                    excluded.append((ev.id, name, "", "the market itself (its abnormal return is 0 by construction)"))
                else:
                    excluded.append((ev.id, name, "", "not studied (neither a column of the returns nor a group)"))
        hit = list(dict.fromkeys(hit))
        hs = set(hit)
        for k, (a, b) in enumerate(rel):
            if pos_of[a] in hs and pos_of[b] in hs:
                hit.append(n_base + k)
        if not hit:
            excluded.append((ev.id, "", "", "affects no series of the study"))
        pair_e.extend([e] * len(hit))
        pair_s.extend(hit)
    pe = np.asarray(pair_e, dtype=np.int64)
    ps = np.asarray(pair_s, dtype=np.int64)
    if len(pe) == 0:
        raise DataError("no event affects any series of the returns: " + "; ".join(
            f"{ev}: {why}" for ev, _, _, why in excluded[:5]))

    # --- estimation (all pairs at once)
    P = _Prefix(R, m)
    t0p = t0[pe]
    b_est = t0p - gap
    a_est = np.maximum(b_est - L, 0)
    b_est = np.maximum(b_est, 0)
    S = P.sums(ps, a_est, b_est)
    fit = _fit(S, model, P.cx[ps] - P.cy[ps])
    ok = (S["n"] >= min_est) & (fit["dof"] >= 1) & np.isfinite(fit["s2"])
    degenerate = ok & ~(fit["s2"] > 0)
    ok &= fit["s2"] > 0
    bad = np.flatnonzero(~ok)
    if len(bad):
        excluded_frames.append(_estimation_exclusions(
            bad, pe, ps, S, fit, degenerate, a_est, b_est, frame.index, _first_valid(P.V), min_est, model, evs,
            all_labels))
    keep = np.flatnonzero(ok)
    pe, ps, t0p, a_est, b_est = pe[keep], ps[keep], t0p[keep], a_est[keep], b_est[keep]
    S = {k: v[keep] for k, v in S.items()}
    fit = {k: v[keep] for k, v in fit.items()}
    n_pairs = len(pe)
    if n_pairs == 0:
        first = pd.concat(excluded_frames).head(5) if excluded_frames else pd.DataFrame()
        raise DataError("no (event, series) pair has enough returns in its estimation window: "
                        + "; ".join(f"{r.event} {r.series}: {r.reason}" for r in first.itertuples()))

    # --- CARs per window (all pairs at once)
    ev_ids_arr = np.asarray([e.id for e in evs], dtype=object)
    labels_arr = np.asarray(all_labels, dtype=object)
    W = len(wins)
    car = np.full((n_pairs, W), np.nan)
    se = np.full((n_pairs, W), np.nan)
    incl = np.zeros((n_pairs, W), dtype=bool)
    for w, (w1, w2) in enumerate(wins):
        K = w2 - w1 + 1
        lo, hi = t0p + w1, t0p + w2 + 1
        inside = (lo >= 0) & (hi <= T)
        lo_c, hi_c = np.clip(lo, 0, T), np.clip(hi, 0, T)
        Sw = P.sums(ps, lo_c, hi_c, ("n", "x", "y"))
        complete = inside & (Sw["n"] == K)
        c = Sw["y"] - K * fit["alpha_c"] - fit["beta"] * Sw["x"]
        v = fit["s2"] * _var_factor(model, K, S["n"], Sw["x"], fit["xbar"], fit["sxx"])
        car[complete, w] = c[complete]
        se[complete, w] = np.sqrt(v[complete])
        incl[:, w] = complete
        badw = np.flatnonzero(~complete)
        if len(badw):
            # reason k < K: "k of its K rows lack a return"; reason K+1 (a sentinel): past the data
            wording = np.asarray([f"{k} of its {K} rows lack a return (series or market)" for k in range(K + 1)]
                                 + ["the window runs past the data"], dtype=object)
            code = np.where(inside[badw], K - Sw["n"][badw], K + 1).astype(np.int64)
            excluded_frames.append(pd.DataFrame({
                "event": ev_ids_arr[pe[badw]], "series": labels_arr[ps[badw]],
                "window": _window_label(w1, w2), "reason": wording[code]}))
    scar = car / se

    # --- cells: (key, group); memberships (pair -> cell), in pair order
    key_of_event = _event_keys(evs, by)
    key_names = list(dict.fromkeys(key_of_event))
    key_code = np.asarray([key_names.index(k) for k in key_of_event], dtype=np.int64)
    G = len(group_names)
    flat = [[gi for gi, g in enumerate(group_names) if c in group_members[g]] for c in range(n_cols)]
    n_g = np.asarray([len(f) for f in flat], dtype=np.int64)
    flat_start = np.r_[0, np.cumsum(n_g)[:-1]]
    flat_all = np.asarray([gi for f in flat for gi in f], dtype=np.int64)
    counts = n_g[ps]
    mp = np.repeat(np.arange(n_pairs), counts)
    within = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    gid = flat_all[flat_start[ps[mp]] + within]
    ucells, mc = np.unique(key_code[pe[mp]] * G + gid, return_inverse=True)
    mc = mc.astype(np.int64)
    n_cells = len(ucells)
    cells = [(key_names[int(u // G)], group_names[int(u % G)]) for u in ucells]
    multi = np.array([len(group_members[g]) > 1 for _, g in cells])

    # --- KP: S(K) = sum over ordered pairs i != j of rho_ij * m_ij(K) for every needed K
    Ks = sorted({b - a + 1 for a, b in wins} | set(range(1, p2 - p1 + 2)))
    Kmax = max(Ks)
    S_off = _kp_same_series(mp, mc, pe, ps, t0p, n_cells, Ks)
    if multi.any():
        cell_cols = [np.asarray(sorted(group_members[g]), dtype=np.int64) for _, g in cells]
        S_off += _kp_cross_series(P, mp, mc, pe, ps, t0p, a_est, b_est, fit, n_cells, multi, Ks, Kmax, L, cell_cols)
    n_est_cell = np.bincount(mc, minlength=n_cells).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        Kvec = np.asarray(Ks, dtype=float)
        rbar_all = S_off / Kvec[None, :] / (n_est_cell * (n_est_cell - 1.0))[:, None]
    k_col = {K: j for j, K in enumerate(Ks)}

    # --- summary
    key_name = _BY_COLUMN[by]
    parts = []
    n_events_total, n_series_total = len(evs), n_cols
    for w, (w1, w2) in enumerate(wins):
        sel = incl[mp, w]
        c_sel, p_sel = mc[sel], mp[sel]
        x, z = car[p_sel, w], scar[p_sel, w]
        n = np.bincount(c_sel, minlength=n_cells).astype(float)
        mean = _grouped_mean(c_sel, x, n)
        sd = _grouped_sd(c_sel, x, mean, n)
        zmean = _grouped_mean(c_sel, z, n)
        zsd = _grouped_sd(c_sel, z, zmean, n)
        with np.errstate(invalid="ignore", divide="ignore"):
            pos = np.bincount(c_sel, weights=(x > 0).astype(float), minlength=n_cells) / n
        single_p = np.full(n_cells, np.nan)
        one = (n == 1)[c_sel]
        single_p[c_sel[one]] = 2.0 * special.stdtr(fit["dof"][p_sel[one]], -np.abs(z[one]))
        rbar = np.where(n > 1, rbar_all[:, k_col[w2 - w1 + 1]], np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            two = n > 1
            sd = np.where(two, sd, np.nan)
            t = mean / (sd / np.sqrt(n))
            bmp = zmean / (zsd / np.sqrt(n))
            fac = _kp_factor(n, rbar)
            kp = bmp * fac
            half = stats.t.ppf(0.5 + level / 2.0, np.where(two, n - 1, np.nan)) * sd / np.sqrt(n) / fac
        live = np.flatnonzero(n > 0)
        parts.append(pd.DataFrame({
            "_cell": live, "_w": w,
            key_name: [cells[c][0] for c in live], "group": [cells[c][1] for c in live],
            "window": _window_label(w1, w2), "start": w1, "end": w2, "n": n[live].astype(int),
            "n_events": _distinct_per_cell(c_sel, pe[p_sel], n_cells, n_events_total)[live],
            "n_series": _distinct_per_cell(c_sel, ps[p_sel], n_cells, n_series_total)[live],
            "mean_car": mean[live], "sd_car": sd[live], "t": t[live], "p_t": _p(t, n)[live],
            "mean_scar": zmean[live], "bmp": bmp[live], "p_bmp": _p(bmp, n)[live],
            "rbar": rbar[live], "kp": kp[live], "p_kp": _p(kp, n)[live],
            "ci_low": (mean - half)[live], "ci_high": (mean + half)[live],
            "pos_share": pos[live], "p_single": single_p[live],
        }))
    summary = pd.concat(parts, ignore_index=True).sort_values(["_cell", "_w"], kind="stable")
    summary = summary.drop(columns=["_cell", "_w"]).reset_index(drop=True)

    # --- tables (the per-pair ones are built on first access: 2M rows for 1,000 x 500 x 4 windows)
    if not incl.any():
        first = pd.concat(excluded_frames).tail(3) if excluded_frames else pd.DataFrame()
        which = "; ".join(f"{r.event} {r.series} {r.window}: {r.reason}" for r in first.itertuples())
        raise DataError("no event window is complete: every (event, series) pair lacks returns on some window "
                        f"day ({which})")
    ev_ids = [e.id for e in evs]
    sess_dates = np.where(t0 >= 0, frame.index[np.where(t0 >= 0, t0, 0)].to_numpy(), np.datetime64("NaT"))
    kinds = [e.kind for e in evs]
    events_tbl = pd.DataFrame({
        "event": ev_ids, "date": pd.to_datetime([e.date for e in evs]), "kind": kinds,
        "label": [e.label for e in evs], "timing": [e.timing for e in evs], "session": sess_dates,
        "n_series": np.bincount(pe, minlength=len(evs)),
    })
    excluded_tbl = pd.concat([pd.DataFrame(excluded, columns=["event", "series", "window", "reason"]),
                              *excluded_frames], ignore_index=True)
    params = {"market": market_name, "model": model, "estimation": L, "gap": gap, "min_estimation": min_est,
              "windows": tuple(wins), "path": (p1, p2), "by": by, "level": float(level), "relative": tuple(rel)}
    if rel:
        notes.append("relative CARs are event studies of the spread return a - b on the rows where both exist")
    index = frame.index
    alpha = _alpha(model, P, ps, fit)
    light = _PathSums(P.n, P.y, P.x)  # the paths need only these prefix sums
    del P

    def build_estimates() -> pd.DataFrame:
        return pd.DataFrame({
            "event": pd.Categorical.from_codes(pe, categories=ev_ids),
            "series": pd.Categorical.from_codes(ps, categories=all_labels),
            "alpha": alpha, "beta": fit["beta"], "sigma": np.sqrt(fit["s2"]),
            "n_est": S["n"].astype(int), "est_start": index[np.minimum(a_est, T - 1)],
            "est_end": index[np.maximum(b_est - 1, 0)], "session": sess_dates[pe],
        })

    def build_cars() -> pd.DataFrame:
        rep, wcol = np.nonzero(incl)
        kind_names = list(dict.fromkeys(kinds))
        kind_code = np.asarray([kind_names.index(k) for k in kinds], dtype=np.int64)
        z = scar[rep, wcol]
        return pd.DataFrame({
            "event": pd.Categorical.from_codes(pe[rep], categories=ev_ids),
            "kind": pd.Categorical.from_codes(kind_code[pe[rep]], categories=kind_names),
            "session": sess_dates[pe[rep]],
            "series": pd.Categorical.from_codes(ps[rep], categories=all_labels),
            "window": pd.Categorical.from_codes(wcol, categories=[_window_label(a, b) for a, b in wins]),
            "car": car[rep, wcol], "se": se[rep, wcol], "scar": z,
            "p_single": 2.0 * special.stdtr(fit["dof"][rep], -np.abs(z)),
        })

    def build_paths() -> pd.DataFrame:
        return _paths(light, mp, mc, pe, ps, t0p, fit, n_cells, cells, key_name, p1, p2, T, rbar_all, k_col, level)

    return EventStudyResult(summary=summary, excluded=excluded_tbl, events=events_tbl, params=params,
                            notes=tuple(notes),
                            _builders={"cars": build_cars, "estimates": build_estimates, "paths": build_paths})


# ============================================================================ pieces
def _fit(S: Mapping[str, np.ndarray], model: str, shift: np.ndarray) -> dict[str, np.ndarray]:
    """Per-pair regression from window sums in centred coordinates (see the module docstring).

    ``shift`` is ``cx - cy`` of each pair's series: in centred coordinates the market-adjusted
    abnormal return y - x is Y - X - (cx - cy).
    """
    n = S["n"]
    with np.errstate(invalid="ignore", divide="ignore"):
        xbar, ybar = S["x"] / n, S["y"] / n
        sxx = S["xx"] - n * xbar * xbar
        sxy = S["xy"] - n * xbar * ybar
        syy = S["yy"] - n * ybar * ybar
        if model == "market":
            beta = sxy / sxx
            alpha_c = ybar - beta * xbar
            ssr = syy - beta * sxy
            dof = n - 2
        elif model == "mean":
            beta = np.zeros_like(n)
            alpha_c = ybar
            ssr = syy
            dof = n - 1
        else:  # market_adjusted: AR = y - x
            beta = np.ones_like(n)
            alpha_c = shift.astype(np.float64)
            ssr = syy - 2.0 * sxy + sxx
            dof = n - 1
        # relative round-off guard: a residual sum of squares below 1e-12 of the total is zero
        ssr = np.where(ssr > 1e-12 * np.maximum(syy, 0.0), ssr, 0.0)
        s2 = np.where(dof >= 1, ssr / dof, np.nan)
        alpha_res = ybar - beta * xbar  # intercept of the centred residuals (the KP correlations)
    return {"n": n, "xbar": xbar, "ybar": ybar, "sxx": sxx, "beta": beta, "alpha_c": alpha_c,
            "alpha_res": alpha_res, "ssr": ssr, "dof": dof, "s2": s2}


def _alpha(model: str, P: _Prefix, ps: np.ndarray, fit: Mapping[str, np.ndarray]) -> np.ndarray:
    """Uncentred alpha: alpha_c + cy - beta * cx (market, mean with beta = 0); 0 (market-adjusted)."""
    if model == "market_adjusted":
        return np.zeros_like(fit["alpha_c"])
    return fit["alpha_c"] + P.cy[ps] - fit["beta"] * P.cx[ps]


def _var_factor(model: str, K: int, n: np.ndarray, sum_x: np.ndarray, xbar: np.ndarray, sxx: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        if model == "market":
            return K + K * K / n + (sum_x - K * xbar) ** 2 / sxx
        if model == "mean":
            return K + K * K / n
        return np.full_like(n, float(K))


def _first_valid(V: np.ndarray) -> np.ndarray:
    has = V.any(axis=0)
    return np.where(has, V.argmax(axis=0), -1)


def _event_keys(evs: list[Event], by: str) -> list[str]:
    if by == "kind":
        return [e.kind for e in evs]
    if by == "event":
        return [e.id for e in evs]
    return ["all"] * len(evs)


def _grouped_mean(c: np.ndarray, x: np.ndarray, n: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.bincount(c, weights=x, minlength=len(n)) / n


def _grouped_sd(c: np.ndarray, x: np.ndarray, mean: np.ndarray, n: np.ndarray) -> np.ndarray:
    dev = x - mean[c]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sqrt(np.bincount(c, weights=dev * dev, minlength=len(n)) / (n - 1.0))


def _distinct_per_cell(c: np.ndarray, v: np.ndarray, n_cells: int, n_values: int) -> np.ndarray:
    """Number of distinct values ``v`` per cell ``c``."""
    if len(c) == 0:
        return np.zeros(n_cells, dtype=int)
    if n_cells * n_values <= 20_000_000:
        flags = np.zeros(n_cells * n_values, dtype=bool)
        flags[c * n_values + v] = True
        return flags.reshape(n_cells, n_values).sum(axis=1)
    u = np.unique(c.astype(np.int64) * n_values + v)
    return np.bincount(u // n_values, minlength=n_cells)


def _p(t: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Two-sided Student-t p-values with n - 1 df (NaN for n < 2 or a NaN statistic)."""
    with np.errstate(invalid="ignore"):
        out = 2.0 * special.stdtr(np.where(n > 1, n - 1.0, np.nan), -np.abs(t))
    return np.where((n > 1) & np.isfinite(t), out, np.nan)


def _estimation_exclusions(
    bad: np.ndarray, pe: np.ndarray, ps: np.ndarray, S: Mapping[str, np.ndarray], fit: Mapping[str, np.ndarray],
    degenerate: np.ndarray, a_est: np.ndarray, b_est: np.ndarray, index: pd.DatetimeIndex, first_valid: np.ndarray,
    min_est: int, model: str, evs: list[Event], labels: list[str],
) -> pd.DataFrame:
    """Why each pair in ``bad`` has no usable estimation window (vectorised wording)."""
    n = S["n"][bad].astype(int)
    T = len(index)
    days = pd.Series(index.strftime("%Y-%m-%d").to_numpy(dtype=object))
    a, b = a_est[bad], b_est[bad]
    start = np.where(b > a, days.to_numpy()[np.minimum(a, T - 1)], "-")
    end = np.where(b > 0, days.to_numpy()[np.maximum(b - 1, 0)], "-")
    fv = first_valid[ps[bad]]
    first = np.where(fv >= 0, "; first return " + days.to_numpy()[np.maximum(fv, 0)].astype(str), "; no return at all")
    why = (pd.Series(n).astype(str) + " valid returns in the estimation window " + pd.Series(start).astype(str) + ".."
           + pd.Series(end).astype(str) + f", {min_est} needed" + pd.Series(first).astype(str)).to_numpy(dtype=object)
    if model == "market":
        flat = (S["n"][bad] >= min_est) & ~(fit["sxx"][bad] > 0)
        why[flat] = "the market return is constant in the estimation window"
    why[degenerate[bad]] = ("zero residual variance in the estimation window (the series moves one-for-one with "
                            "the market)") if model == "market" else "zero variance in the estimation window"
    return pd.DataFrame({"event": np.asarray([e.id for e in evs], dtype=object)[pe[bad]],
                         "series": np.asarray(labels, dtype=object)[ps[bad]], "window": "", "reason": why})


# ----------------------------------------------------------------------------- KP terms
def _kp_same_series(
    mp: np.ndarray, mc: np.ndarray, pe: np.ndarray, ps: np.ndarray, t0p: np.ndarray, n_cells: int, Ks: list[int]
) -> np.ndarray:
    """Sum over ordered pairs i != j of one cell with the same series of m_ij(K) (rho = 1), per K.

    Two windows of length K whose day 0 are d rows apart share max(0, K - d) rows. Pairs are
    enumerated within (cell, series) in day-0 order up to Kmax - 1 rows apart, histogrammed by
    distance, and the histogram is weighted for every K at once.
    """
    out = np.zeros((n_cells, len(Ks)))
    Kmax = max(Ks)
    if len(mp) < 2:
        return out
    col = ps[mp]
    day = t0p[mp]
    order = np.lexsort((day, col, mc))
    c_s, s_s, d_s = mc[order], col[order], day[order]
    span = int(d_s.max()) + Kmax + 1
    key = (c_s.astype(np.int64) * (int(s_s.max()) + 1) + s_s) * span + d_s
    hi = np.searchsorted(key, key + Kmax, side="left")  # first item >= Kmax rows later (or another series)
    cnt = hi - np.arange(len(key)) - 1                   # later items of the same (cell, series) within reach
    if int(cnt.sum()) == 0:
        return out
    hist = np.zeros(n_cells * Kmax)
    ends = np.cumsum(cnt)
    block = 1 << 19  # pairs per block: bounded memory however dense the events are
    lo = 0
    while lo < len(key):
        hi_i = int(np.searchsorted(ends, (ends[lo - 1] if lo else 0) + block, side="right"))
        hi_i = max(hi_i, lo + 1)
        c = cnt[lo:hi_i]
        i = np.repeat(np.arange(lo, hi_i), c)
        j = i + 1 + (np.arange(int(c.sum())) - np.repeat(np.cumsum(c) - c, c))
        hist += np.bincount(c_s[i] * Kmax + (d_s[j] - d_s[i]), minlength=n_cells * Kmax)
        lo = hi_i
    kernel = np.maximum(0, np.asarray(Ks)[None, :] - np.arange(Kmax)[:, None]).astype(float)  # (Kmax, nK)
    return 2.0 * hist.reshape(n_cells, Kmax) @ kernel


def _kp_cross_series(
    P: _Prefix, mp: np.ndarray, mc: np.ndarray, pe: np.ndarray, ps: np.ndarray, t0p: np.ndarray,
    a_est: np.ndarray, b_est: np.ndarray, fit: Mapping[str, np.ndarray], n_cells: int, multi: np.ndarray,
    Ks: list[int], Kmax: int, L: int, cell_cols: Sequence[np.ndarray],
) -> np.ndarray:
    """sum over ordered pairs i != j of one cell with different series of rho_ij * m_ij(K).

    Per (event, cell) unit u = sum of the cell's standardized residual vectors
    z = (y - alpha - beta x) / sqrt(SSR / n) over the event's estimation rows; the cross-series
    part of u_e . u_e' over the shared rows is u_e . u_e' minus its same-series terms, which come
    in closed form from the prefix sums.
    """
    out = np.zeros((n_cells, len(Ks)))
    sel = multi[mc]
    mp, mc = mp[sel], mc[sel]
    if len(mp) == 0:
        return out
    rms = np.sqrt(fit["ssr"] / fit["n"])
    # units: (event, cell), in event order
    ev = pe[mp]
    order = np.lexsort((mc, ev))
    mp, mc, ev = mp[order], mc[order], ev[order]
    unit_key = ev.astype(np.int64) * n_cells + mc
    ukeys, unit_of = np.unique(unit_key, return_inverse=True)
    n_units = len(ukeys)
    u_cell = (ukeys % n_cells).astype(np.int64)
    # representative pair of each unit's event (all pairs of an event share t0 and the window)
    first_pair = np.zeros(n_units, dtype=np.int64)
    first_pair[unit_of[::-1]] = mp[::-1]
    u_t0, u_a, u_b = t0p[first_pair], a_est[first_pair], b_est[first_pair]
    # unit vectors, padded to L and aligned at the window's end: slot j <-> row b - L + j
    U = np.zeros((n_units, L))
    stacked = np.concatenate([P.Y, P.Vf, P.X], axis=1)  # [Y | V | X], (T, 3C)
    C = P.C
    self_dot = np.zeros(n_units)
    same_self = np.zeros(n_units)
    starts = np.flatnonzero(np.r_[True, ev[1:] != ev[:-1]])
    stops = np.r_[starts[1:], len(ev)]
    for lo, hi in zip(starts, stops, strict=True):
        items = slice(lo, hi)
        units = unit_of[items]
        u0 = units.min()
        ucount = units.max() - u0 + 1
        p_it = mp[items]
        s_it = ps[p_it]
        coef = np.zeros((3 * C, ucount))
        cu = units - u0
        np.add.at(coef, (s_it, cu), 1.0 / rms[p_it])
        np.add.at(coef, (C + s_it, cu), -fit["alpha_res"][p_it] / rms[p_it])
        np.add.at(coef, (2 * C + s_it, cu), -fit["beta"][p_it] / rms[p_it])
        a, b = int(a_est[p_it[0]]), int(b_est[p_it[0]])
        block = stacked[a:b] @ coef                     # (b - a, ucount)
        U[u0:u0 + ucount, L - (b - a):] = block.T
        self_dot[u0:u0 + ucount] = np.einsum("ij,ij->j", block, block)
        # same-series part of the self product: sum_s z_s . z_s = n_s exactly
        np.add.at(same_self, units, fit["n"][p_it])
    # self pairs (e = e'): m = K, |C| = rows of the window
    rows = (u_b - u_a).astype(float)
    cross_self = (self_dot - same_self) / rows
    for k, K in enumerate(Ks):
        out[:, k] += np.bincount(u_cell, weights=cross_self * K, minlength=n_cells)
    # pairs of distinct units of one cell whose day 0 are < Kmax rows apart
    order_u = np.lexsort((u_t0, u_cell))
    cu_s, t_s = u_cell[order_u], u_t0[order_u]
    span = int(t_s.max()) + Kmax + 1
    key = cu_s.astype(np.int64) * span + t_s
    hi = np.searchsorted(key, key + Kmax, side="left")
    cnt = hi - np.arange(len(key)) - 1
    if cnt.sum() == 0:
        return out
    i = np.repeat(np.arange(len(key)), cnt)
    j = i + 1 + (np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt))
    ui, uj = order_u[i], order_u[j]  # uj's day 0 is d >= 0 rows after ui's
    d = u_t0[uj] - u_t0[ui]
    dot = np.zeros(len(ui))
    for dd in np.unique(d):
        sel_d = np.flatnonzero(d == dd)
        dd = int(dd)
        if dd >= L:
            continue
        dot[sel_d] = np.einsum("ij,ij->i", U[ui[sel_d], dd:], U[uj[sel_d], : L - dd])
    # same-series terms of u_i . u_j in closed form, for series affected in both events
    same = _same_series_dots(P, mp, ps, unit_of, u_cell, ui, uj, u_a, u_b, fit, rms, cell_cols)
    common = np.minimum(u_b[ui], u_b[uj]) - np.maximum(u_a[ui], u_a[uj])
    with np.errstate(invalid="ignore", divide="ignore"):
        val = np.where(common > 0, (dot - same) / common, 0.0)
    hist = np.bincount(u_cell[ui] * Kmax + d, weights=val, minlength=n_cells * Kmax).reshape(n_cells, Kmax)
    kernel = np.maximum(0, np.asarray(Ks)[None, :] - np.arange(Kmax)[:, None]).astype(float)
    return out + 2.0 * hist @ kernel


def _same_series_dots(
    P: _Prefix, mp: np.ndarray, ps: np.ndarray, unit_of: np.ndarray, u_cell: np.ndarray, ui: np.ndarray,
    uj: np.ndarray, u_a: np.ndarray, u_b: np.ndarray, fit: Mapping[str, np.ndarray], rms: np.ndarray,
    cell_cols: Sequence[np.ndarray],
) -> np.ndarray:
    """For each unit pair (ui, uj): sum over series s in both units of z_{ui,s} . z_{uj,s} on shared rows.

    With z = c (Y - a V - b X) on the valid rows (c = 1 / sqrt(SSR/n), a the residual intercept,
    b the slope), z_i . z_j = c_i c_j [S_yy - (a_i + a_j) S_y - (b_i + b_j) S_xy + a_i a_j n
    + (a_i b_j + a_j b_i) S_x + b_i b_j S_xx], the sums over the shared rows [a_uj, b_ui) taken from
    the prefix sums. Per cell, units hold dense vectors over the cell's columns (c = 0 where a unit
    lacks a series), so the series of both units pair up without any lookup.
    """
    out = np.zeros(len(ui))
    n_units = len(u_cell)
    col_of_item = ps[mp]
    for c in np.unique(u_cell[ui]):
        cols = cell_cols[int(c)]
        local = np.full(P.C, -1, dtype=np.int64)
        local[cols] = np.arange(len(cols))
        in_cell = np.flatnonzero(u_cell == c)
        pos = np.full(n_units, -1, dtype=np.int64)
        pos[in_cell] = np.arange(len(in_cell))
        items = np.flatnonzero(pos[unit_of] >= 0)
        r = pos[unit_of[items]]
        k = local[col_of_item[items]]
        shape = (len(in_cell), len(cols))
        cz, az, bz = np.zeros(shape), np.zeros(shape), np.zeros(shape)
        p_it = mp[items]
        cz[r, k] = 1.0 / rms[p_it]
        az[r, k] = fit["alpha_res"][p_it]
        bz[r, k] = fit["beta"][p_it]
        every = len(cols) == P.C  # a group of every column: no column subset to copy
        sub = {f: getattr(P, f) if every else getattr(P, f)[:, cols] for f in ("n", "x", "y", "xx", "xy", "yy")}
        pairs = np.flatnonzero(u_cell[ui] == c)
        chunk = max(1, 400_000 // max(len(cols), 1))
        for k0 in range(0, len(pairs), chunk):
            q = pairs[k0:k0 + chunk]
            i, j = pos[ui[q]], pos[uj[q]]
            hi, lo = u_b[ui[q]], u_a[uj[q]]          # shared rows [a_j, b_i): uj is the later unit
            W = {f: v[hi] - v[lo] for f, v in sub.items()}
            ai, aj, bi, bj = az[i], az[j], bz[i], bz[j]
            val = (W["yy"] - (ai + aj) * W["y"] - (bi + bj) * W["xy"] + ai * aj * W["n"]
                   + (ai * bj + aj * bi) * W["x"] + bi * bj * W["xx"])
            out[q] = np.einsum("ij,ij->i", val, cz[i] * cz[j])
    return out


# ----------------------------------------------------------------------------- paths
@dataclass(frozen=True)
class _PathSums:
    """The prefix sums (T+1, C) the CAR paths need: valid-row counts, series and market sums."""

    n: np.ndarray
    y: np.ndarray
    x: np.ndarray


def _paths(
    P: _PathSums, mp: np.ndarray, mc: np.ndarray, pe: np.ndarray, ps: np.ndarray, t0p: np.ndarray,
    fit: Mapping[str, np.ndarray], n_cells: int, cells: list[tuple[str, str]], key_name: str,
    p1: int, p2: int, T: int, rbar_all: np.ndarray, k_col: Mapping[int, int], level: float,
) -> pd.DataFrame:
    """Mean CAR(p1, tau) by event day over the pairs complete on [p1, p2], per cell, with KP bands."""
    from scipy import sparse

    Kp = p2 - p1 + 1
    lo, hi = t0p + p1, t0p + p2 + 1
    inside = (lo >= 0) & (hi <= T)
    nrow = P.n[np.clip(hi, 0, T), ps] - P.n[np.clip(lo, 0, T), ps]
    full = inside & (nrow == Kp)
    sel = full[mp]
    mp_f, mc_f = mp[sel], mc[sel]                # memberships are in pair order
    n = np.bincount(mc_f, minlength=n_cells).astype(float)
    sums = np.zeros((n_cells, Kp))
    sq = np.zeros((n_cells, Kp))
    days = np.arange(p1, p2 + 1)
    # CAR(p1, tau) = Y-sum - K_tau alpha - beta X-sum over rows t0 + p1 .. t0 + tau; rows come from
    # sliding windows over each series' (contiguous) column, in chunks of pairs. Abnormal returns
    # have mean ~0, so one pass of sums and sums of squares loses nothing to cancellation.
    from numpy.lib.stride_tricks import sliding_window_view

    if len(mp_f):
        # prefix sums per series, contiguous in time: row k of a window holds the sum up to t0 + p1 + k
        PyT = np.ascontiguousarray(P.y.T)
        PxT = np.ascontiguousarray(P.x.T)
        Yw = sliding_window_view(PyT, Kp, axis=1)
        Xw = sliding_window_view(PxT, Kp, axis=1)
        ktau = np.arange(1, Kp + 1, dtype=float)
        pairs_f = np.unique(mp_f)
        chunk = max(1, 262_144 // Kp)  # small blocks stay in cache
        for k0 in range(0, len(pairs_f), chunk):
            pairs = pairs_f[k0:k0 + chunk]
            start = t0p[pairs] + p1
            col = ps[pairs]
            cp = Yw[col, start + 1]
            cp -= PyT[col, start][:, None]
            cx = Xw[col, start + 1]
            cx -= PxT[col, start][:, None]
            cx *= fit["beta"][pairs][:, None]
            cp -= cx
            cp -= np.outer(fit["alpha_c"][pairs], ktau)
            a, b = np.searchsorted(mp_f, pairs[0]), np.searchsorted(mp_f, pairs[-1], side="right")
            where = np.searchsorted(pairs, mp_f[a:b])
            memb = sparse.csr_matrix((np.ones(b - a), (mc_f[a:b], where)), shape=(n_cells, len(pairs)))
            sums += memb @ cp
            np.multiply(cp, cp, out=cp)
            sq += memb @ cp
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums / n[:, None]
        sd = np.sqrt(np.maximum(sq - n[:, None] * mean * mean, 0.0) / (n - 1.0)[:, None])
    rbar = np.stack([rbar_all[:, k_col[k]] for k in range(1, Kp + 1)], axis=1)
    nn = np.repeat(n[:, None], Kp, axis=1)
    fac = _kp_factor(nn.ravel(), rbar.ravel()).reshape(nn.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        half = stats.t.ppf(0.5 + level / 2.0, np.where(nn > 1, nn - 1, np.nan)) * sd / np.sqrt(nn) / fac
    live = np.flatnonzero(n > 0)
    cols = [key_name, "group", "day", "n", "mean_car", "ci_low", "ci_high", "rbar"]
    if len(live) == 0:
        return pd.DataFrame(columns=cols)
    rb = np.where((n > 1)[:, None], rbar, np.nan)
    return pd.DataFrame({
        key_name: np.repeat(np.asarray([cells[c][0] for c in live], dtype=object), Kp),
        "group": np.repeat(np.asarray([cells[c][1] for c in live], dtype=object), Kp),
        "day": np.tile(days, len(live)), "n": np.repeat(n[live].astype(int), Kp),
        "mean_car": mean[live].ravel(), "ci_low": (mean - half)[live].ravel(), "ci_high": (mean + half)[live].ravel(),
        "rbar": rb[live].ravel(),
    })[cols]
