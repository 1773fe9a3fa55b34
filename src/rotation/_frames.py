"""Canonical long-frame layouts exchanged between sources, the importer and the store.

Sources and the file importer produce these frames; the store accepts only
these. Keeping them in one neutral module lets both sides agree without the
sources knowing about the store.

Observation frame (one row per symbol and date)
    ``symbol`` (str), ``date`` (datetime64[ns], midnight, no timezone), and any
    subset of :data:`OBSERVATION_FIELDS` as float64. Missing values are NaN.

    Date convention: for exchange-traded instruments, the session date; for
    crypto and stablecoins, the UTC calendar day whose **close** (24:00 UTC)
    the row reports. Providers that stamp a snapshot at 00:00 UTC of day D
    (CoinGecko, DefiLlama) report the close of D-1 and are shifted back one
    day on ingest.

    Units: prices in the instrument's currency; ``volume`` in native units
    (shares, coins); ``volume_usd`` in quote currency; ``market_cap`` in
    currency units; ``supply`` in native units (coins, or USD for stablecoins).

Macro frame
    ``symbol`` (str), ``date`` (datetime64[ns]), ``value`` (float64), in the
    series' native units as published; the universe says how to scale them.

Action frame
    ``symbol``, ``date``, ``kind`` (``split`` or ``dividend``), ``value``
    (split ratio new/old, or cash dividend per share).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "ACTION_COLUMNS",
    "MACRO_COLUMNS",
    "OBSERVATION_FIELDS",
    "empty_observations",
    "normalise_dates",
    "validate_frame",
]

OBSERVATION_FIELDS: tuple[str, ...] = (
    "open",
    "high",
    "low",
    "close",
    "adj_close",
    "volume",
    "volume_usd",
    "market_cap",
    "supply",
)
MACRO_COLUMNS: tuple[str, ...] = ("symbol", "date", "value")
ACTION_COLUMNS: tuple[str, ...] = ("symbol", "date", "kind", "value")
ACTION_KINDS = ("split", "dividend")


def normalise_dates(values: pd.Series | pd.Index | np.ndarray) -> pd.Series:
    """Dates as ``datetime64[ns]`` at midnight without timezone (UTC dates kept as such)."""
    out = pd.to_datetime(pd.Series(values), utc=False)
    if isinstance(out.dtype, pd.DatetimeTZDtype):
        out = out.dt.tz_convert("UTC").dt.tz_localize(None)
    return out.dt.normalize().astype("datetime64[ns]")


def empty_observations(fields: tuple[str, ...] = OBSERVATION_FIELDS) -> pd.DataFrame:
    frame = pd.DataFrame({"symbol": pd.Series(dtype=object), "date": pd.Series(dtype="datetime64[ns]")})
    for f in fields:
        frame[f] = pd.Series(dtype="float64")
    return frame


def validate_frame(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Check a frame against its canonical layout and return it in canonical dtypes.

    Parameters
    ----------
    frame : DataFrame
    kind : {"observations", "macro", "actions"}

    Raises
    ------
    ValueError
        Missing key columns, unknown columns, or duplicate (symbol, date[, kind]) keys.
        Callers turn this into a layer-specific error with context.
    """
    if kind == "observations":
        required, allowed = ("symbol", "date"), {"symbol", "date", *OBSERVATION_FIELDS}
        keys = ["symbol", "date"]
    elif kind == "macro":
        required, allowed, keys = MACRO_COLUMNS, set(MACRO_COLUMNS), ["symbol", "date"]
    elif kind == "actions":
        required, allowed, keys = ACTION_COLUMNS, set(ACTION_COLUMNS), ["symbol", "date", "kind"]
    else:  # pragma: no cover - programming error
        raise ValueError(f"unknown frame kind {kind!r}")
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ValueError(f"missing columns {missing}")
    extra = sorted(set(frame.columns) - allowed)
    if extra:
        raise ValueError(f"unknown columns {extra}")
    out = frame.copy()
    out["symbol"] = out["symbol"].astype(str)
    out["date"] = normalise_dates(out["date"]).to_numpy()
    for col in out.columns:
        if col in {"symbol", "date", "kind"}:
            continue
        out[col] = pd.to_numeric(out[col], errors="raise").astype("float64")
    if kind == "actions":
        bad = set(out["kind"]) - set(ACTION_KINDS)
        if bad:
            raise ValueError(f"unknown action kinds {sorted(bad)}")
    dup = out.duplicated(keys, keep=False)
    if dup.any():
        first = out.loc[dup, keys].iloc[0].tolist()
        raise ValueError(f"{int(dup.sum())} rows share a key, first {first}")
    return out.reset_index(drop=True)
