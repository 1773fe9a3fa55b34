"""Trading calendars: US exchange sessions and every-day (crypto) calendars.

Session rows come from the ``exchange_calendars`` NYSE calendar (``XNYS``),
which knows the exchange's holidays and unscheduled closures (for example
2025-01-09). Before 1990 and beyond the calendar's horizon (the year after
the current one) weekdays stand in for sessions.
"""

from __future__ import annotations

import warnings
from functools import lru_cache

import exchange_calendars as xcals
import pandas as pd

from rotation.errors import ParameterError

__all__ = ["CALENDARS", "calendar_index", "sessions", "weekly_labels"]

#: ``sessions``: NYSE sessions (the default for cross-asset work; crypto is
#: sampled at a UTC close, see :func:`rotation.panel.build_panel`).
#: ``all_days``: every calendar day (crypto-native work; exchange-traded series
#: are carried over non-session days).
CALENDARS = ("sessions", "all_days")
EXCHANGE = "XNYS"
_FIRST_YEAR = 1990


@lru_cache(maxsize=2)
def _xnys(last_year: int) -> xcals.ExchangeCalendar:
    # One calendar from 1990 to the horizon: building it takes ~0.15 s, slicing is free.
    with warnings.catch_warnings():
        # exchange_calendars' own use of deprecated pandas APIs is not the user's business.
        warnings.simplefilter("ignore", category=DeprecationWarning)
        warnings.simplefilter("ignore", category=FutureWarning)
        return xcals.get_calendar(
            EXCHANGE,
            start=pd.Timestamp(year=_FIRST_YEAR, month=1, day=1),
            end=pd.Timestamp(year=last_year, month=12, day=31),
        )


def _weekdays(start: pd.Timestamp, end: pd.Timestamp) -> pd.DatetimeIndex:
    return pd.bdate_range(start, end) if start <= end else pd.DatetimeIndex([])


def sessions(start: pd.Timestamp | str, end: pd.Timestamp | str) -> pd.DatetimeIndex:
    """NYSE sessions in ``[start, end]``.

    Parameters
    ----------
    start, end : date-like
        Inclusive bounds (times of day are dropped).

    Returns
    -------
    DatetimeIndex
        Ascending, tz-naive, ``datetime64[ns]``, named ``date``. Before 1990 and
        after the end of next year weekdays stand in for sessions.

    Raises
    ------
    ParameterError
        ``end`` before ``start``.
    """
    start, end = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    if end < start:
        raise ParameterError("end", f"end {end.date()} is before start {start.date()}")
    horizon = pd.Timestamp.today().year + 1
    cal_start = pd.Timestamp(year=_FIRST_YEAR, month=1, day=1)
    cal_end = pd.Timestamp(year=horizon, month=12, day=31)
    parts = [_weekdays(start, min(end, cal_start - pd.Timedelta(days=1)))]
    lo, hi = max(start, cal_start), min(end, cal_end)
    if lo <= hi:
        cal = _xnys(horizon)
        out = pd.DatetimeIndex(cal.sessions_in_range(max(lo, cal.first_session), min(hi, cal.last_session)))
        parts.append(out.tz_localize(None) if out.tz is not None else out)
    parts.append(_weekdays(max(start, cal_end + pd.Timedelta(days=1)), end))
    idx = parts[0].append(parts[1:])
    return pd.DatetimeIndex(idx.astype("datetime64[ns]"), name="date")


def calendar_index(calendar: str, start: pd.Timestamp | str, end: pd.Timestamp | str) -> pd.DatetimeIndex:
    """Row index of a daily panel for ``calendar`` (one of :data:`CALENDARS`) in ``[start, end]``."""
    if calendar == "sessions":
        return sessions(start, end)
    if calendar == "all_days":
        idx = pd.date_range(pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize(), freq="D")
        return pd.DatetimeIndex(idx.astype("datetime64[ns]"), name="date")
    raise ParameterError("calendar", f"unknown calendar '{calendar}' (choose from {', '.join(CALENDARS)})")


def weekly_labels(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Friday that ends the week (W-FRI: Saturday to Friday) of each date in ``index``."""
    offset = (4 - index.day_of_week) % 7  # days until Friday (Sat/Sun roll forward to next Friday)
    return pd.DatetimeIndex(index + pd.to_timedelta(offset, unit="D"), name="date")
