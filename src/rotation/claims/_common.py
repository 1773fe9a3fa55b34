"""Small helpers the claim modules share to build verdicts and evidence frames."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from rotation.claims._config import Params
from rotation.claims._context import ClaimContext, ClaimWindow
from rotation.claims._registry import entry
from rotation.claims._verdict import Verdict

__all__ = ["format_rule", "insufficient", "path_frame", "verdict"]


def format_rule(template: str, params: Params) -> str:
    """The rule text with the claim's parameters filled in (``{level:.0%}``, ``{alpha}``, ...)."""
    values = {k: ", ".join(map(str, v)) if isinstance(v, list) else v for k, v in params.settings.items()}
    values["alpha"] = round(1.0 - float(values["level"]), 6)
    return template.format(**values)


def _parameters(params: Params) -> dict[str, Any]:
    return {k: params[k] for k in sorted(params)}


def verdict(ctx: ClaimContext, claim_id: str, params: Params, rule: str, **fields: Any) -> Verdict:
    """A :class:`Verdict` with the title, as-of date and parameters filled in."""
    return Verdict(claim_id=claim_id, title=entry(claim_id).title, rule=rule, as_of=ctx.as_of,
                   parameters=_parameters(params), **fields)


def insufficient(
    ctx: ClaimContext,
    claim_id: str,
    params: Params,
    rule: str,
    missing: Sequence[str],
    **fields: Any,
) -> Verdict:
    """An ``insufficient data`` verdict naming what is missing."""
    return verdict(ctx, claim_id, params, rule, verdict="insufficient data", missing=tuple(missing), **fields)


def path_frame(levels: Mapping[str, pd.Series], window: ClaimWindow) -> pd.DataFrame:
    """Weekly evidence of level paths rebased to 100 at the window start.

    Returns
    -------
    DataFrame
        ``date`` then one column per series (rebased level), sampled at the
        window start and the last row of each complete W-FRI week inside the
        window (and the window end).
    """
    frame = pd.DataFrame(dict(levels)).loc[window.start: window.end]
    if frame.empty:
        return pd.DataFrame(columns=["date", *levels])
    base = frame.iloc[0]
    rebased = frame / base * 100.0
    weekly = rebased.groupby(rebased.index.to_period("W-FRI")).tail(1)
    keep = rebased.index.isin(weekly.index) | (rebased.index == rebased.index[0])
    out = rebased[keep]
    out.index.name = "date"
    return out.reset_index()


def finite(value: Any) -> float:
    """A float, NaN for anything that is not a finite number."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return float("nan")
    return v if np.isfinite(v) else float("nan")
