"""R1: capital rotates out of crypto into AI infrastructure.

Decision rule
-------------
Let :math:`d_t = \\ln(1 + R^{AI}_t) - \\ln(1 + R^{crypto}_t)` be the daily
relative log return of the AI side index over the crypto side index (see
:mod:`rotation.claims._context` for the side indices and the window) and
:math:`D = \\sum_{t \\in (start, end]} d_t` its total over the window (the log of
the AI/crypto relative-strength line's change). A block bootstrap of
:math:`d_t` (``bootstrap``, ``bootstrap_reps``, ``block_length``, ``seed``)
gives a percentile interval at ``level``.

* **supported**: :math:`D > 0` and the interval lies above 0;
* **contradicted**: :math:`D < 0` and the interval lies below 0;
* **inconclusive**: the interval contains 0;
* **insufficient data**: fewer than ``min_observations`` joint daily returns
  in the window, or a side without data.

Supporting evidence, reported but not part of the rule: the relative rotation
graph of the AI side (and each AI basket) against the crypto side (weekly
RS-Ratio/RS-Momentum, :func:`rotation.analytics.rrg`), each side's share of
their combined market cap (:func:`rotation.analytics.flows.market_cap_share`;
equity caps are back-cast from a snapshot at constant share counts, a caveat
says so) and the rotation index (difference of the two sides' 13-week
market-cap growth, or of their index growth when caps are missing) with its
trend (:func:`rotation.analytics.flows.rotation_index`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rotation.claims._common import finite, format_rule, insufficient, path_frame, verdict
from rotation.claims._config import Param, Params
from rotation.claims._context import ClaimContext, ClaimWindow
from rotation.claims._stats import block_bootstrap, decide_interval, sum_rows
from rotation.claims._verdict import Effect, Verdict
from rotation.errors import DataError

__all__ = ["ID", "PARAMS", "RULE", "evaluate"]

ID = "R1"

PARAMS: dict[str, Param] = {
    "rrg_ratio_window": Param("int", 12, "RS-Ratio z-score window (weeks)", low=2, high=260),
    "rrg_momentum_window": Param("int", 12, "RS-Momentum z-score window (weeks)", low=2, high=260),
    "rrg_tail": Param("int", 8, "points in the RRG tail", low=1, high=104),
    "ri_window": Param("int", 13, "rotation-index growth window (weeks)", low=1, high=260),
    "ri_smooth": Param("int", 4, "rotation-index EMA span (weeks)", low=1, high=52),
    "ri_trend_window": Param("int", 13, "rotation-index trend window (weeks)", low=2, high=260),
}

RULE = (
    "supported when the AI-side minus crypto-side cumulative log return over the window is > 0 and its "
    "{level:.0%} {bootstrap} block-bootstrap percentile interval ({bootstrap_reps} reps, seed {seed}) lies "
    "above 0; contradicted when it is < 0 and the interval lies below 0; inconclusive when the interval "
    "contains 0; insufficient data with fewer than {min_observations} joint daily returns. RRG quadrant, "
    "market-cap shares and the rotation index are supporting evidence, not part of the rule."
)


def evaluate(ctx: ClaimContext, params: Params) -> Verdict:
    """Evaluate R1 (see the module docstring for the rule)."""
    rule = format_rule(RULE, params)
    ai_names, cr_names = ctx.baskets(params, "ai"), ctx.baskets(params, "crypto")
    w = params["weighting"]
    indices = {n: ctx.basket(n, w) for n in [*ai_names, *cr_names]}
    ai, cr = ctx.side(ai_names, w, "ai"), ctx.side(cr_names, w, "crypto")
    win = ctx.window(params, indices)
    members = ctx.members([*ai_names, *cr_names])
    common = {
        "window": (win.start, win.end),
        "baskets": (*ai_names, *cr_names),
        "instruments": tuple(m for m in members if m in ctx.daily.prices.columns),
        "data": ctx.provenance(members),
    }
    r = win.slice(pd.concat({"ai": ai.returns, "crypto": cr.returns}, axis=1)).dropna()
    if len(r) < params["min_observations"]:
        return insufficient(ctx, ID, params, rule, [
            f"{len(r)} joint daily returns of the AI and crypto sides between {win.start.date()} and "
            f"{win.end.date()}, at least {params['min_observations']} needed"],
            caveats=tuple(ctx.caveats(members, win, indices=list(indices.values()))), **common)
    d = (np.log1p(r["ai"]) - np.log1p(r["crypto"])).to_numpy()
    boot = block_bootstrap(d, np.sum, reps=params["bootstrap_reps"], seed=params["seed"], level=params["level"],
                           kind=params["bootstrap"], block_length=params["block_length"], batch=sum_rows)
    stats: dict[str, object] = {
        "ai_return": float(np.expm1(np.log1p(r["ai"]).sum())),
        "crypto_return": float(np.expm1(np.log1p(r["crypto"]).sum())),
        "relative_log_return_annualised": float(boot.estimate * 252.0 / len(d)),
        "days": len(d),
        "bootstrap_se": boot.se,
        "block_length": boot.block_length,
    }
    evidence: dict[str, pd.DataFrame] = {}
    path = path_frame({"ai": ai.level, "crypto": cr.level}, win)
    path["relative_log"] = np.log(path["ai"] / path["crypto"])
    evidence["relative_return"] = path
    notes: list[str] = []
    _rrg(ctx, params, ai, cr, ai_names, w, win, stats, evidence, notes)
    used_caps = _caps_and_rotation(ctx, params, ai_names, cr_names, ai, cr, win, stats, evidence, notes)
    caveats = ctx.caveats(members, win, indices=list(indices.values()), caps=used_caps) + notes
    return verdict(
        ctx, ID, params, rule,
        verdict=decide_interval(boot.lo, boot.hi, supports="positive"),
        effect=Effect(boot.estimate, "log return",
                      "cumulative log return of the AI side minus the crypto side over the window"),
        interval=boot.interval(), p_value=boot.p_value,
        caveats=tuple(dict.fromkeys(caveats)), statistics=stats, evidence=evidence, **common,
    )


def _rrg(ctx, params, ai, cr, ai_names, w, win: ClaimWindow, stats, evidence, notes) -> None:
    from rotation.analytics.rrg import rrg

    levels = pd.DataFrame({"ai": ai.level, **{n: ctx.basket(n, w).level for n in ai_names if n != "ai"}})
    levels = levels.loc[: win.end]
    bench = cr.level.loc[: win.end].rename("crypto")
    try:
        res = rrg(levels, bench, ratio_window=params["rrg_ratio_window"],
                  momentum_window=params["rrg_momentum_window"])
    except DataError as exc:
        notes.append(f"relative rotation graph not computed: {exc}")
        return
    latest = res.to_frame()
    row = latest.loc["ai"]
    stats["rrg_date"] = row["date"]
    stats["rrg_quadrant"] = row["quadrant"] if isinstance(row["quadrant"], str) else None
    stats["rrg_rs_ratio"] = finite(row["rs_ratio"])
    stats["rrg_rs_momentum"] = finite(row["rs_momentum"])
    tails = res.tails(params["rrg_tail"])
    evidence["rrg"] = tails[tails["date"] > win.start].reset_index(drop=True)


def _caps_and_rotation(ctx, params, ai_names, cr_names, ai, cr, win: ClaimWindow, stats, evidence, notes) -> bool:
    """Market-cap shares and the rotation index; True when market caps were used."""
    from rotation.analytics.flows import basket_caps, market_cap_share, rotation_index
    from rotation.analytics.rrg import to_weekly

    panel = ctx.daily
    groups = {"ai": [m for m in ctx.members(ai_names) if m in panel.market_caps.columns],
              "crypto": [m for m in ctx.members(cr_names) if m in panel.market_caps.columns]}
    caps = panel.market_caps.loc[win.start: win.end]
    used_caps = False
    levels: dict[str, pd.Series] | None = None
    if all(groups.values()):
        bc = basket_caps(caps, groups)
        lacking = [m for g in groups.values() for m in g if not caps[m].notna().any()]
        try:
            share = market_cap_share(bc.caps)
        except DataError:
            notes.append("market-cap shares not computed: no date in the window on which both sides have a "
                         "market cap" + (f" (as of {ctx.as_of.date()})" if ctx.as_of is not None else ""))
        else:
            used_caps = True
            if lacking:
                notes.append(f"no market cap for {', '.join(lacking)}: the market-cap shares and the "
                             "rotation index cover the members with caps")
            s = share.shares["ai"].dropna()
            stats["ai_cap_share_start"] = float(s.iloc[0])
            stats["ai_cap_share_end"] = float(s.iloc[-1])
            stats["ai_cap_share_change_pp"] = float(100.0 * (s.iloc[-1] - s.iloc[0]))
            stats["cap_share_dates"] = f"{s.index[0].date()}..{s.index[-1].date()}"
            weekly = to_weekly(share.shares)
            evidence["market_cap_share"] = weekly.rename(columns={"ai": "ai_share", "crypto": "crypto_share"}) \
                .rename_axis("date").reset_index()
            ok = bc.growth_index.notna().all(axis=1)
            if ok.sum() > params["ri_window"] + params["ri_smooth"] + 2:
                levels = {"ai": bc.growth_index["ai"][ok], "crypto": bc.growth_index["crypto"][ok]}
    basis = "market cap"
    if levels is None:
        basis = "basket index (price)"
        levels = {"ai": ai.level.loc[win.start: win.end], "crypto": cr.level.loc[win.start: win.end]}
        notes.append("rotation index uses the basket indices (prices): no market-cap history for both sides")
    try:
        ri = rotation_index(to_weekly(levels["ai"]).rename("ai"), to_weekly(levels["crypto"]).rename("crypto"),
                            window=params["ri_window"], smooth=params["ri_smooth"],
                            trend_window=params["ri_trend_window"], periods_per_year=52.0,
                            alpha=1.0 - params["level"])
    except DataError as exc:
        notes.append(f"rotation index not computed: {exc}")
        return used_caps
    idx = ri.index.dropna()
    stats["rotation_index_basis"] = basis
    stats["rotation_index_latest"] = float(idx.iloc[-1]) if len(idx) else None
    trend = ri.trend.dropna()
    stats["rotation_index_trend"] = float(trend.iloc[-1]) if len(trend) else None
    stats["rotation_index_sign_changes"] = len(ri.crossings)
    if ri.drift:
        stats["rotation_drift_annualised"] = float(ri.drift["annualised"])
        stats["rotation_drift_ci_low"] = float(ri.drift["ann_ci_low"])
        stats["rotation_drift_ci_high"] = float(ri.drift["ann_ci_high"])
        stats["rotation_drift_p"] = float(ri.drift["p"])
    evidence["rotation_index"] = pd.DataFrame(
        {"raw": ri.raw, "rotation_index": ri.index, "trend": ri.trend}).rename_axis("date").reset_index()
    return used_caps
