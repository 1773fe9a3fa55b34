"""Input checks shared by the analytics modules (one copy each, one wording of each error).

Every check raises :class:`~rotation.errors.ParameterError` naming the offending
parameter (or :class:`~rotation.errors.DataError` for bad values), so the CLI and
the API can point at what to fix.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from rotation.errors import DataError, ParameterError

__all__ = ["as_frame", "as_series", "check_int"]


def check_int(parameter: str, value: Any, minimum: int = 1) -> int:
    """``value`` as an ``int`` >= ``minimum`` (bools and floats refused)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ParameterError(parameter, f"must be an integer >= {minimum}, got {value!r}")
    return int(value)


def as_frame(data: Any, parameter: str) -> pd.DataFrame:
    """A float frame with a sorted, unique DatetimeIndex; a Series becomes one column (named ``series`` if unnamed)."""
    if isinstance(data, pd.Series):
        data = data.to_frame(name=data.name if data.name is not None else "series")
    if not isinstance(data, pd.DataFrame):
        raise ParameterError(parameter, f"expected a pandas DataFrame or Series, got {type(data).__name__}")
    if not isinstance(data.index, pd.DatetimeIndex):
        raise ParameterError(parameter, "index must be a DatetimeIndex (dates as rows)")
    if data.index.has_duplicates:
        dup = data.index[data.index.duplicated()][0]
        raise ParameterError(parameter, f"index has duplicate dates (first {dup.date()})")
    if not data.index.is_monotonic_increasing:
        raise ParameterError(parameter, "index must be sorted ascending")
    try:
        return data.astype("float64")
    except (TypeError, ValueError) as exc:
        raise ParameterError(parameter, f"values must be numeric ({exc})") from None


def as_series(data: Any, parameter: str) -> pd.Series:
    """One float series with a sorted, unique DatetimeIndex and no infinite value (a one-column frame is accepted)."""
    if isinstance(data, pd.DataFrame):
        if data.shape[1] != 1:
            raise ParameterError(parameter, f"expected one series, got a frame with {data.shape[1]} columns")
        data = data.iloc[:, 0]
    if not isinstance(data, pd.Series):
        raise ParameterError(parameter, f"expected a pandas Series, got {type(data).__name__}")
    if not isinstance(data.index, pd.DatetimeIndex):
        raise ParameterError(parameter, "index must be a DatetimeIndex (dates as rows)")
    if data.index.has_duplicates:
        raise ParameterError(parameter, f"index has duplicate dates (first {data.index[data.index.duplicated()][0]})")
    if not data.index.is_monotonic_increasing:
        raise ParameterError(parameter, "index must be sorted ascending")
    try:
        out = data.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ParameterError(parameter, f"must hold numbers: {exc}") from None
    bad = np.isinf(out.to_numpy())
    if bad.any():
        raise DataError(f"{parameter}: infinite value on {out.index[bad][0]}")
    return out
