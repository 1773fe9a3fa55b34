"""Response models (the OpenAPI contract) and JSON conversion.

Conversion rules (:func:`jsonable`): NaN/inf/NaT -> ``null``; timestamps and
dates -> ISO ``YYYY-MM-DD`` (a time part only when it is not midnight); numpy
scalars -> Python numbers; DataFrames -> records (:func:`records`) or the
``{index, columns, data}`` split (:func:`split_frame`).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

__all__ = [
    "Basket",
    "Error",
    "FrameSplit",
    "Health",
    "Instrument",
    "UniverseOut",
    "UserEvent",
    "dumps",
    "jsonable",
    "records",
    "split_frame",
]


class Error(BaseModel):
    detail: str = Field(description="What is wrong.")
    parameter: str | None = Field(None, description="The offending parameter, when one is to blame.")


class Health(BaseModel):
    status: str
    version: str
    data_version: int
    store: str


class Basket(BaseModel):
    name: str
    role: str
    weighting: str
    members: list[str]
    description: str = ""


class Instrument(BaseModel):
    symbol: str
    asset_class: str
    currency: str
    name: str = ""
    sources: dict[str, str]


class UniverseOut(BaseModel):
    baskets: list[Basket]
    instruments: list[Instrument]


class FrameSplit(BaseModel):
    """A wide frame: ``data[i][j]`` is the value at ``index[i]``, ``columns[j]`` (``null`` when missing)."""

    index: list[str]
    columns: list[str]
    data: list[list[float | None]]
    field: str | None = None
    frequency: str | None = None
    notes: list[str] = []


class UserEvent(BaseModel):
    date: dt.date
    label: str = Field(max_length=200)
    kind: str = Field("user", max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    affects: list[str] = Field(default_factory=list, max_length=50)


def _day(ts: Any) -> str:
    ts = pd.Timestamp(ts)
    if ts.tzinfo is None and ts == ts.normalize():
        return ts.strftime("%Y-%m-%d")
    return ts.isoformat()


def jsonable(obj: Any) -> Any:
    """Recursively convert pandas/numpy objects to JSON-ready Python (NaN -> None)."""
    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, float | np.floating):
        f = float(obj)
        return f if math.isfinite(f) else None
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if obj is pd.NaT:
        return None
    if isinstance(obj, pd.Timestamp | dt.datetime | dt.date | np.datetime64):
        return None if pd.isna(obj) else _day(obj)
    if isinstance(obj, pd.Timedelta):
        return None if pd.isna(obj) else obj.days
    if isinstance(obj, pd.DataFrame):
        return records(obj)
    if isinstance(obj, pd.Series):
        return {"index": [jsonable(i) for i in obj.index], "values": [jsonable(v) for v in obj.to_numpy()]}
    if isinstance(obj, dict):
        return {str(jsonable(k)): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | np.ndarray):
        return [jsonable(v) for v in obj]
    if pd.api.types.is_scalar(obj) and pd.isna(obj):
        return None
    return str(obj)


def records(frame: pd.DataFrame, *, index: str | None = None) -> list[dict[str, Any]]:
    """Rows as dicts; the index becomes column ``index`` (its name or ``index``) unless it is a RangeIndex."""
    f = frame
    if not isinstance(f.index, pd.RangeIndex):
        f = f.reset_index(names=index or (f.index.name or "index"))
    cols = [str(c) for c in f.columns]
    return [dict(zip(cols, (jsonable(v) for v in row), strict=True)) for row in f.itertuples(index=False, name=None)]


def split_frame(frame: pd.DataFrame) -> dict[str, Any]:
    """``{index: [ISO dates], columns: [...], data: [[...]]}`` with NaN -> null."""
    values = frame.to_numpy(dtype=float, na_value=np.nan)
    data = [[v if math.isfinite(v) else None for v in row] for row in values.tolist()]
    return {"index": [_day(i) for i in frame.index], "columns": [str(c) for c in frame.columns], "data": data}


def dumps(obj: Any) -> bytes:
    """Strict JSON (no NaN literals) of an already-jsonable object."""
    return json.dumps(obj, allow_nan=False, separators=(",", ":")).encode()
