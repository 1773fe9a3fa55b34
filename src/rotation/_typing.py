"""Array and frame aliases used across rotation's signatures (after arch.typing).

Shapes are written ``(T, N)``: T dates (rows, ascending ``DatetimeIndex``),
N instruments or baskets (columns, symbols).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "ArrayOrPandas",
    "DateLike",
    "Float64Array",
    "Float64Array2D",
    "Frequency",
    "PriceFrame",
    "ReturnFrame",
    "SeriesOrFrame",
]

Float64Array: TypeAlias = npt.NDArray[np.float64]
#: A (T, N) float64 array, rows are dates.
Float64Array2D: TypeAlias = npt.NDArray[np.float64]
#: (T, N) prices, DatetimeIndex rows, symbol columns, NaN where not listed / missing.
PriceFrame: TypeAlias = pd.DataFrame
#: (T, N) simple returns aligned with a PriceFrame; first row NaN.
ReturnFrame: TypeAlias = pd.DataFrame
SeriesOrFrame: TypeAlias = pd.Series | pd.DataFrame
#: A (T,) or (T, N) float array, Series or DataFrame; kernels return the same kind.
ArrayOrPandas: TypeAlias = np.ndarray | pd.Series | pd.DataFrame
DateLike: TypeAlias = str | date | datetime | pd.Timestamp
#: Panel frequency: daily or weekly (weeks end Friday).
Frequency: TypeAlias = Literal["D", "W"]
