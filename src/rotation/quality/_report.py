"""The result of :func:`rotation.quality.check_store`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["STATUSES", "QualityReport", "status_rank"]

#: Grades, best first. ``fail``: the series has errors a user must fix or
#: knowingly accept (non-positive prices, split-like jumps, coverage below
#: half); ``warn``: worth a look (gaps, stale runs, outliers, disagreeing
#: sources, series ending early, universe members without data).
STATUSES = ("ok", "warn", "fail")

#: Columns of :meth:`QualityReport.to_frame`, in order (macro-only columns last).
FRAME_COLUMNS = (
    "kind",
    "symbol",
    "source",
    "status",
    "issues",
    "notes",
    "asset_class",
    "calendar",
    "first",
    "last",
    "rows",
    "expected",
    "coverage",
    "missing",
    "longest_gap",
    "longest_gap_start",
    "longest_gap_end",
    "long_gaps",
    "off_calendar",
    "blank",
    "non_positive",
    "ohlc_bad",
    "stale_runs",
    "longest_stale",
    "outliers",
    "max_abs_z",
    "spikes",
    "split_like",
    "disagreements",
    "lag_days",
    "stale_after_days",
    "stale",
)
_COUNT_COLUMNS = (
    "rows",
    "expected",
    "missing",
    "longest_gap",
    "long_gaps",
    "off_calendar",
    "blank",
    "non_positive",
    "ohlc_bad",
    "stale_runs",
    "longest_stale",
    "outliers",
    "spikes",
    "split_like",
    "disagreements",
    "lag_days",
    "stale_after_days",
)


def status_rank(status: str) -> int:
    """0 for ok, 1 for warn, 2 for fail (sort key, worst = highest)."""
    return STATUSES.index(status)


@dataclass(frozen=True)
class QualityReport:
    """Data-quality findings per (symbol, source), with the dates behind them.

    Attributes
    ----------
    instruments : DataFrame
        One row per (symbol, source) of observations, worst first. Numbers:
        ``first``/``last`` observed date, ``rows``, ``expected`` dates on the
        instrument's calendar between first and last, ``coverage`` (on-calendar
        rows / expected, 0..1), ``missing`` expected dates, ``longest_gap``
        (periods) with its first and last missing date, ``long_gaps`` (gaps
        longer than ``max_gap``), ``off_calendar`` rows (an equity dated on a
        weekend or holiday), ``blank`` rows without a price, ``non_positive``,
        ``ohlc_bad``, ``stale_runs``/``longest_stale``, ``outliers``/
        ``max_abs_z``, ``spikes``, ``split_like``, ``disagreements`` (flagged
        source pairs), ``lag_days`` (calendar days from ``last`` to
        ``as_of``); ``status``, a short ``issues`` text (what set the status)
        and ``notes`` (findings that do not: outliers, short gaps, snapshots).
        Universe members without data have a row with ``rows`` 0 and source
        ``""``.
    macro : DataFrame
        One row per (symbol, source) of macro series: ``calendar`` holds the
        native frequency (D/W/M/Q/A), ``coverage`` is against weekdays (D) or
        periods, ``longest_gap`` in periods, ``stale_after_days`` the allowed
        age (period + release lag + grace) and ``stale``.
    details : DataFrame
        ``symbol, source, check, date, end_date, value, detail``: every flagged
        date. ``check`` is one of ``non_positive``, ``split`` (value = close
        ratio), ``ohlc``, ``gap`` (date..end_date missing, value = length),
        ``off_calendar``, ``stale`` (run start..end, value = length),
        ``outlier`` (value = simple return), ``spike`` (the bad row and the
        row that undoes it), ``disagreement`` (date of the largest return
        difference, value = that difference).
    disagreements : DataFrame
        Every pair of sources of one symbol that overlap (``source_a`` <
        ``source_b``): ``n_returns`` common step returns, ``correlation``,
        ``share_disagree`` with ``disagree_first``/``disagree_last``,
        ``max_abs_diff`` and ``max_diff_date``, ``median_level_ratio``,
        ``level_ratio_first``/``level_ratio_last`` (a / b), ``best_lag``
        (+1: b dated one day early against a, -1: late, 0: neither fits
        clearly better) with ``best_lag_correlation``, ``offset_years`` (the
        same test per calendar year, e.g. ``"2018-2020:-1"``), ``flagged``.
    as_of : Timestamp
        Reference date of ``lag_days`` and staleness.
    start, end : Timestamp or None
        The checked window.
    thresholds, policy : dict
        The limits used and the panel's cleaning policy, for the record.
    elapsed : float
        Seconds the check took.
    """

    instruments: pd.DataFrame
    macro: pd.DataFrame
    details: pd.DataFrame
    disagreements: pd.DataFrame
    as_of: pd.Timestamp
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    thresholds: dict[str, Any] = field(default_factory=dict)
    policy: dict[str, str] = field(default_factory=dict)
    elapsed: float = 0.0

    # ------------------------------------------------------------------ views
    def to_frame(self, *, include_macro: bool = True) -> pd.DataFrame:
        """One row per (symbol, source), instruments and (optionally) macro series, worst first.

        Count columns are nullable integers: ``<NA>`` where a check does not
        apply (price checks on macro series, everything on a no-data row).
        """
        parts = [self.instruments] + ([self.macro] if include_macro else [])
        parts = [p for p in parts if len(p)]
        if not parts:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in FRAME_COLUMNS})
        frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].copy()
        for col in FRAME_COLUMNS:
            if col not in frame:
                frame[col] = pd.NA
        frame = frame[list(FRAME_COLUMNS)].copy()
        for col in _COUNT_COLUMNS:
            frame[col] = pd.array(pd.to_numeric(frame[col], errors="coerce"), dtype="Int64")
        for col in ("first", "last", "longest_gap_start", "longest_gap_end"):
            frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
        for col in ("coverage", "max_abs_z"):
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
        frame["stale"] = frame["stale"].astype("boolean")
        frame["issues"] = frame["issues"].fillna("").astype(str)
        frame["notes"] = frame["notes"].fillna("").astype(str)
        rank = frame["status"].map(status_rank)
        n_issues = frame["issues"].map(lambda s: 0 if not s else s.count(";") + 1)
        has_data = (frame["rows"].fillna(0) > 0).astype(
            int
        )  # absent series after present ones of a grade
        order = np.lexsort(
            (
                frame["source"].to_numpy(dtype=str),
                frame["symbol"].to_numpy(dtype=str),
                -n_issues,
                -has_data,
                -rank,
            )
        )
        return frame.iloc[order].reset_index(drop=True)

    def summary(self) -> dict[str, int]:
        """Counts: series by status, series with each kind of issue, flagged source pairs."""
        frame = self.to_frame()
        inst = self.instruments

        def n_with(col: str) -> int:
            return (
                int((pd.to_numeric(inst[col], errors="coerce").fillna(0) > 0).sum())
                if col in inst
                else 0
            )

        counts = frame["status"].value_counts()
        return {
            "series": len(frame),
            "instruments": int((frame["kind"] == "instrument").sum()),
            "macro": int((frame["kind"] == "macro").sum()),
            "ok": int(counts.get("ok", 0)),
            "warn": int(counts.get("warn", 0)),
            "fail": int(counts.get("fail", 0)),
            "no_data": int((frame["rows"].fillna(0) == 0).sum()),
            "long_gaps": n_with("long_gaps"),
            "off_calendar": n_with("off_calendar"),
            "non_positive": n_with("non_positive"),
            "ohlc_bad": n_with("ohlc_bad"),
            "stale_runs": n_with("stale_runs"),
            "outliers": n_with("outliers"),
            "spikes": n_with("spikes"),
            "split_like": n_with("split_like"),
            "behind": self._behind(),
            "stale_macro": int(self.macro["stale"].fillna(False).astype(bool).sum())
            if "stale" in self.macro
            else 0,
            "source_pairs": len(self.disagreements),
            "source_pairs_flagged": int(self.disagreements["flagged"].sum())
            if len(self.disagreements)
            else 0,
        }

    def _behind(self) -> int:
        inst = self.instruments
        if not len(inst) or "lag_days" not in inst:
            return 0
        lag = pd.to_numeric(inst["lag_days"], errors="coerce")
        rows = pd.to_numeric(inst["rows"], errors="coerce")
        return int(((lag > self.thresholds.get("behind_days", math.inf)) & (rows > 1)).sum())

    def issues(self, symbol: str, source: str | None = None) -> pd.DataFrame:
        """The :attr:`details` rows of one symbol (and source)."""
        mask = self.details["symbol"] == symbol
        if source is not None:
            mask &= self.details["source"] == source
        return self.details[mask].reset_index(drop=True)

    @property
    def ok(self) -> bool:
        """True when no series has status ``fail``."""
        return self.summary()["fail"] == 0

    def to_dict(self, *, include_ok: bool = True) -> dict[str, Any]:
        """JSON-ready dict: dates as ISO strings, NaN/NA as ``None``."""
        frame = self.to_frame()
        if not include_ok:
            frame = frame[frame["status"] != "ok"]
        keep = set(zip(frame["symbol"], frame["source"], strict=True))
        details = self.details[
            [
                (s, src) in keep
                for s, src in zip(self.details["symbol"], self.details["source"], strict=True)
            ]
        ]
        return {
            "as_of": _jsonable(self.as_of),
            "start": _jsonable(self.start),
            "end": _jsonable(self.end),
            "elapsed_seconds": round(self.elapsed, 3),
            "summary": self.summary(),
            "series": _records(frame),
            "details": _records(details),
            "disagreements": _records(self.disagreements),
            "thresholds": {
                k: list(v) if isinstance(v, tuple) else v for k, v in self.thresholds.items()
            },
            "policy": dict(self.policy),
        }


def _jsonable(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp | np.datetime64):
        ts = pd.Timestamp(value)
        return None if pd.isna(ts) else ts.strftime("%Y-%m-%d")
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    cols = list(frame.columns)
    return [
        {c: _jsonable(v) for c, v in zip(cols, row, strict=True)}
        for row in frame.itertuples(index=False, name=None)
    ]
