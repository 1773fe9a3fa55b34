"""Trading calendars: NYSE sessions, every-day rows and W-FRI week labels."""

from __future__ import annotations

import pandas as pd
import pytest

from rotation.errors import ParameterError
from rotation.panel import calendar_index, sessions
from rotation.panel._calendar import weekly_labels


def _days(*dates: str) -> list[pd.Timestamp]:
    return [pd.Timestamp(d) for d in dates]


def test_sessions_skip_weekends_and_independence_day() -> None:
    idx = sessions("2024-07-01", "2024-07-08")
    # 2024-07-04 (Thursday) is a holiday; 07-03 is an early close but still a session.
    assert list(idx) == _days("2024-07-01", "2024-07-02", "2024-07-03", "2024-07-05", "2024-07-08")
    assert idx.name == "date"
    assert idx.dtype == "datetime64[ns]"
    assert idx.tz is None


@pytest.mark.parametrize(
    "closed",
    [
        "2024-03-29",  # Good Friday
        "2025-04-18",  # Good Friday
        "2024-12-25",  # Christmas
        "2025-01-09",  # national day of mourning (President Carter): unscheduled closure
        "2012-10-30",  # Hurricane Sandy
        "2024-06-19",  # Juneteenth
    ],
)
def test_holidays_and_unscheduled_closures_are_not_sessions(closed: str) -> None:
    day = pd.Timestamp(closed)
    idx = sessions(day - pd.Timedelta(days=7), day + pd.Timedelta(days=7))
    assert day not in idx
    assert len(idx) >= 7  # the surrounding weekdays are there


def test_sessions_before_1990_fall_back_to_weekdays() -> None:
    idx = sessions("1989-12-27", "1990-01-03")
    # 1989: weekdays stand in (no holiday knowledge); 1990-01-01 is a real NYSE holiday.
    assert list(idx) == _days("1989-12-27", "1989-12-28", "1989-12-29", "1990-01-02", "1990-01-03")


def test_sessions_beyond_the_calendar_horizon_are_weekdays() -> None:
    year = pd.Timestamp.today().year + 5
    idx = sessions(f"{year}-12-22", f"{year}-12-31")
    expected = pd.bdate_range(f"{year}-12-22", f"{year}-12-31")
    assert list(idx) == list(expected)


def test_sessions_reject_end_before_start() -> None:
    with pytest.raises(ParameterError) as err:
        sessions("2024-02-01", "2024-01-01")
    assert err.value.parameter == "end"


def test_sessions_of_a_weekend_are_empty() -> None:
    assert len(sessions("2024-06-08", "2024-06-09")) == 0


def test_all_days_calendar_has_every_day() -> None:
    idx = calendar_index("all_days", "2024-02-27", "2024-03-02")
    assert list(idx) == list(pd.date_range("2024-02-27", "2024-03-02"))  # includes 02-29 and the weekend
    assert idx.name == "date"


def test_unknown_calendar_is_a_parameter_error() -> None:
    with pytest.raises(ParameterError) as err:
        calendar_index("crypto", "2024-01-01", "2024-01-31")
    assert err.value.parameter == "calendar"
    assert "sessions" in str(err.value)


def test_weekly_labels_roll_to_the_friday_ending_the_week() -> None:
    days = pd.date_range("2024-06-08", "2024-06-15")  # Saturday .. next Saturday
    labels = weekly_labels(pd.DatetimeIndex(days))
    # Sat 06-08 .. Fri 06-14 -> Fri 06-14; Sat 06-15 starts the next week -> Fri 06-21.
    assert list(labels) == [pd.Timestamp("2024-06-14")] * 7 + [pd.Timestamp("2024-06-21")]
    assert (labels.day_of_week == 4).all()
