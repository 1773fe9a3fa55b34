"""Verdicts and the ledger that collects them.

A :class:`Verdict` is what one claim's code concludes from the data, with
everything needed to check it: the effect size and its uncertainty, the
decision rule in words, the window, the baskets and instruments used with
their sources and date ranges, data-quality caveats, what is missing when
the data cannot answer, and tidy evidence frames for the report's charts.

The :class:`Ledger` holds the verdicts of one run plus the claims that have
no code yet (listed, never given a verdict). Its JSON form is deterministic:
same data and configuration give byte-identical output (keys in a fixed
order, floats written exactly, NaN as ``null``, no run timestamps).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from rotation.errors import ParameterError

__all__ = [
    "NOT_IMPLEMENTED",
    "VERDICTS",
    "Effect",
    "Interval",
    "Ledger",
    "PendingClaim",
    "Verdict",
]

#: The four verdicts a claim can receive.
VERDICTS: tuple[str, ...] = ("supported", "contradicted", "inconclusive", "insufficient data")
#: Status of a registered claim whose code does not exist yet (never a verdict).
NOT_IMPLEMENTED = "not yet implemented"
#: Version of the JSON layout written by :meth:`Ledger.to_json`.
JSON_SCHEMA = 1


@dataclass(frozen=True)
class Effect:
    """An effect size.

    Attributes
    ----------
    value : float
        The point estimate (NaN not allowed in a decided verdict).
    unit : str
        Its unit, e.g. ``"log return"``, ``"correlation"``, ``"return per pp"``.
    description : str
        What the number is, in words ("AI minus crypto cumulative log return").
    """

    value: float
    unit: str
    description: str

    def to_dict(self) -> dict[str, Any]:
        return {"value": _plain(self.value), "unit": self.unit, "description": self.description}


@dataclass(frozen=True)
class Interval:
    """A confidence interval for the effect.

    Attributes
    ----------
    lo, hi : float
        Bounds, in the effect's unit.
    level : float
        Confidence level (0.95 for a 95% interval).
    method : str
        How it was obtained ("stationary block bootstrap, percentile, 2000 reps, block 7").
    """

    lo: float
    hi: float
    level: float
    method: str

    def excludes_zero(self) -> bool:
        return bool(self.lo > 0.0 or self.hi < 0.0)

    def to_dict(self) -> dict[str, Any]:
        return {"lo": _plain(self.lo), "hi": _plain(self.hi), "level": _plain(self.level), "method": self.method}


def _empty_data() -> pd.DataFrame:
    return pd.DataFrame(columns=["symbol", "source", "first_date", "last_observed"])


@dataclass(frozen=True, eq=False)
class Verdict:
    """One claim's verdict with its evidence.

    Attributes
    ----------
    claim_id : str
        ``R1`` .. ``R12``.
    title : str
        The claim in words.
    verdict : str
        One of :data:`VERDICTS`.
    rule : str
        The decision rule, in words, with the thresholds used.
    effect : Effect or None
        Effect size (required unless the verdict is ``insufficient data``).
    interval : Interval or None
        Confidence interval of the effect.
    p_value : float or None
        Two-sided p-value of "no effect" (a decided verdict has an interval, a p-value or both).
    window : (Timestamp, Timestamp) or None
        First and last date of the data the effect was measured on.
    baskets, instruments : tuple of str
        Baskets and instruments used.
    data : DataFrame
        Provenance per instrument: ``symbol, source`` (preferred stored source),
        ``first_date`` (first price in the panel), ``last_observed`` (last
        observed, not forward-filled, price).
    caveats : tuple of str
        Data-quality notes a reader must know (approximated caps, stale
        members, a window cut short by a data feed that ends early).
    missing : tuple of str
        What is missing (non-empty exactly when the verdict is ``insufficient data``,
        and then naming what would be needed).
    statistics : dict
        Secondary numbers (str -> float/str/int/None): supporting measures
        that are reported but not part of the decision rule.
    evidence : dict of str -> DataFrame
        Tidy frames for the report's charts (e.g. the relative-return path,
        the RRG tail), one row per observation.
    parameters : dict
        The configuration values the claim used.
    as_of : Timestamp or None
        The as-of date the claim was evaluated at (None: all stored data).
    """

    claim_id: str
    title: str
    verdict: str
    rule: str
    effect: Effect | None = None
    interval: Interval | None = None
    p_value: float | None = None
    window: tuple[pd.Timestamp, pd.Timestamp] | None = None
    baskets: tuple[str, ...] = ()
    instruments: tuple[str, ...] = ()
    data: pd.DataFrame = field(default_factory=_empty_data)
    caveats: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    statistics: Mapping[str, Any] = field(default_factory=dict)
    evidence: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    parameters: Mapping[str, Any] = field(default_factory=dict)
    as_of: pd.Timestamp | None = None

    def __post_init__(self) -> None:
        # The framework refuses a verdict that does not carry what it claims to rest on.
        if self.verdict not in VERDICTS:
            raise ParameterError("verdict", f"{self.claim_id}: {self.verdict!r} is not one of {', '.join(VERDICTS)}")
        if not self.rule:
            raise ParameterError("rule", f"{self.claim_id}: a verdict needs its decision rule in words")
        if self.verdict == "insufficient data":
            if not self.missing:
                raise ParameterError("missing", f"{self.claim_id}: 'insufficient data' must say what is missing")
            return
        if self.missing:
            raise ParameterError("missing", f"{self.claim_id}: only 'insufficient data' lists missing data")
        if self.effect is None or not math.isfinite(self.effect.value):
            raise ParameterError("effect", f"{self.claim_id}: a '{self.verdict}' verdict needs a finite effect size")
        has_ci = self.interval is not None and math.isfinite(self.interval.lo) and math.isfinite(self.interval.hi)
        has_p = self.p_value is not None and math.isfinite(self.p_value)
        if not (has_ci or has_p):
            raise ParameterError("interval", f"{self.claim_id}: a '{self.verdict}' verdict needs an interval or a p-value")
        if self.window is None:
            raise ParameterError("window", f"{self.claim_id}: a '{self.verdict}' verdict needs its window")

    # -- views ------------------------------------------------------------------------
    def to_dict(self, *, evidence: bool = True) -> dict[str, Any]:
        """A JSON-ready dict in a fixed key order (see :meth:`Ledger.to_json`)."""
        out: dict[str, Any] = {
            "id": self.claim_id,
            "title": self.title,
            "status": "evaluated",
            "verdict": self.verdict,
            "rule": self.rule,
            "effect": self.effect.to_dict() if self.effect else None,
            "interval": self.interval.to_dict() if self.interval else None,
            "p_value": _plain(self.p_value),
            "window": None if self.window is None else {"start": _plain(self.window[0]), "end": _plain(self.window[1])},
            "as_of": _plain(self.as_of),
            "baskets": list(self.baskets),
            "instruments": list(self.instruments),
            "data": _frame_records(self.data),
            "caveats": list(self.caveats),
            "missing": list(self.missing),
            "statistics": {str(k): _plain(v) for k, v in self.statistics.items()},
            "parameters": {str(k): _plain(v) for k, v in self.parameters.items()},
        }
        if evidence:
            out["evidence"] = {str(k): _frame_split(v) for k, v in self.evidence.items()}
        else:
            out["evidence"] = {str(k): {"rows": len(v)} for k, v in self.evidence.items()}
        return out

    def to_frame(self) -> pd.DataFrame:
        """One-row summary (the ledger row of this claim)."""
        return pd.DataFrame([self._row()])

    def _row(self) -> dict[str, Any]:
        eff, ci = self.effect, self.interval
        return {
            "id": self.claim_id,
            "title": self.title,
            "status": "evaluated",
            "verdict": self.verdict,
            "effect": eff.value if eff else np.nan,
            "unit": eff.unit if eff else "",
            "ci_low": ci.lo if ci else np.nan,
            "ci_high": ci.hi if ci else np.nan,
            "level": ci.level if ci else np.nan,
            "p_value": self.p_value if self.p_value is not None else np.nan,
            "start": self.window[0] if self.window else pd.NaT,
            "end": self.window[1] if self.window else pd.NaT,
            "caveats": len(self.caveats),
            "missing": "; ".join(self.missing),
        }


@dataclass(frozen=True)
class PendingClaim:
    """A registered claim without code yet: listed, never given a verdict."""

    claim_id: str
    title: str
    status: str = NOT_IMPLEMENTED

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.claim_id, "title": self.title, "status": self.status, "verdict": None}


@dataclass(frozen=True, eq=False)
class Ledger:
    """The verdicts of one run, in registry order, plus the claims not implemented yet.

    Attributes
    ----------
    entries : tuple of Verdict or PendingClaim
        One per requested claim, ordered as the registry (R1 .. R12).
    as_of : Timestamp or None
        Data cut-off of the run (None: everything stored).
    start, end : Timestamp or None
        Window overrides given for the run (None: each claim's configured window).
    config_file : str
        The claims configuration used (``"default"`` for the shipped one).
    """

    entries: tuple[Verdict | PendingClaim, ...]
    as_of: pd.Timestamp | None = None
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    config_file: str = "default"

    @property
    def verdicts(self) -> tuple[Verdict, ...]:
        return tuple(e for e in self.entries if isinstance(e, Verdict))

    @property
    def pending(self) -> tuple[PendingClaim, ...]:
        return tuple(e for e in self.entries if isinstance(e, PendingClaim))

    @property
    def ids(self) -> list[str]:
        return [e.claim_id for e in self.entries]

    def __getitem__(self, claim_id: str) -> Verdict | PendingClaim:
        for e in self.entries:
            if e.claim_id == claim_id:
                return e
        raise KeyError(f"{claim_id} is not in this ledger (have {', '.join(self.ids)})")

    def __iter__(self):
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def to_frame(self) -> pd.DataFrame:
        """One row per claim: ``id, title, status, verdict, effect, unit, ci_low, ci_high, level,
        p_value, start, end, caveats`` (count), ``missing``. Pending claims have status
        ``not yet implemented`` and empty verdict columns."""
        rows = []
        for e in self.entries:
            if isinstance(e, Verdict):
                rows.append(e._row())
            else:
                rows.append({"id": e.claim_id, "title": e.title, "status": e.status, "verdict": None})
        cols = ["id", "title", "status", "verdict", "effect", "unit", "ci_low", "ci_high", "level", "p_value",
                "start", "end", "caveats", "missing"]
        return pd.DataFrame(rows).reindex(columns=cols)

    def to_dict(self, *, evidence: bool = True) -> dict[str, Any]:
        return {
            "schema": JSON_SCHEMA,
            "as_of": _plain(self.as_of),
            "start": _plain(self.start),
            "end": _plain(self.end),
            "config": self.config_file,
            "claims": [e.to_dict(evidence=evidence) if isinstance(e, Verdict) else e.to_dict() for e in self.entries],
        }

    def to_json(self, *, evidence: bool = True, indent: int | None = 2) -> str:
        """Deterministic JSON: fixed key order, exact floats, ``null`` for NaN, ISO dates.

        Parameters
        ----------
        evidence : bool
            Include the evidence frames (``{"columns": [...], "data": [[...], ...]}``);
            False replaces each by its row count.
        indent : int or None
        """
        return json.dumps(self.to_dict(evidence=evidence), indent=indent, allow_nan=False, ensure_ascii=False)


# ----------------------------------------------------------------------------- JSON helpers
def _plain(value: Any) -> Any:
    """A JSON-safe plain value: NaN/NaT -> None, numpy scalars -> Python, dates -> ISO strings."""
    if value is None:
        return None
    if isinstance(value, (pd.Timestamp, datetime)):
        if pd.isna(value):
            return None
        ts = pd.Timestamp(value)
        return ts.date().isoformat() if ts == ts.normalize() else ts.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, Sequence | np.ndarray | tuple):
        return [_plain(v) for v in value]
    if value is pd.NaT or (not isinstance(value, (list, dict)) and pd.isna(value)):
        return None
    return str(value)


def _frame_split(frame: pd.DataFrame) -> dict[str, Any]:
    """``{"columns": [...], "data": [[...], ...]}`` with plain values (index dropped: keep data in columns)."""
    cols = [str(c) for c in frame.columns]
    data = [[_plain(v) for v in row] for row in frame.itertuples(index=False, name=None)]
    return {"columns": cols, "data": data}


def _frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): _plain(v) for k, v in zip(frame.columns, row, strict=True)}
            for row in frame.itertuples(index=False, name=None)]
