"""R7: AI infrastructure is winner-takes-most.

"AI capex is so large that the sector concentrates into a few winners": the
AI baskets' combined market cap should be held by a few members, and more so
over time.

Decision rule
-------------
The *pool* is every member of the ``ai`` baskets (each once). Over the
claim's window (see :mod:`rotation.claims._context`), the members that have a
market cap on the window's first row form a **fixed set**; members whose
caps start later (late listings, later snapshots) are left out and named in a
caveat, so the concentration moves only because capital moved between the
same companies, never because the set changed. Each member's cap is carried
over missing rows (a position held at its last cap). On every session
:math:`t` of the window, with shares :math:`s_{i,t} = C_{i,t} / \\sum_j C_{j,t}`
of the fixed set (:func:`rotation.analytics.concentration.concentration`),

.. math:: H_t = \\sum_i s_{i,t}^2, \\qquad \\Delta H = H_{end} - H_{start} = \\sum_t (H_t - H_{t-1}).

A block bootstrap of the daily increments :math:`H_t - H_{t-1}` (``bootstrap``,
``bootstrap_reps``, ``block_length``, ``seed``) gives a percentile interval of
:math:`\\Delta H` at ``level``; the top-3 share :math:`\\text{top}_3` at the
window's end is compared with ``top3_threshold``.

* **supported**: :math:`\\Delta H` > 0 with its interval above 0 (concentration rose) **and**
  the three largest members hold at least ``top3_threshold`` of the pool at the end;
* **contradicted**: the interval of :math:`\\Delta H` lies below 0 (concentration fell:
  the leaders' combined weight shrank relative to the rest);
* **inconclusive**: otherwise (no significant change, or rising concentration
  while the top three still hold less than the threshold);
* **insufficient data**: fewer than ``min_members`` members with a market cap at
  the window start (the top-3 share is trivially 1 with three or fewer), or
  fewer than ``min_observations`` daily increments.

Reported, not part of the rule: start and end HHI, effective number of
members (:math:`1/H`), top-1 (the leader) and top-3 shares for the pool and
the HHI of each AI basket (the same fixed set), their weekly paths
(evidence ``concentration``), and each member's share at both ends
(``member_shares``).

Data caveat: equity market caps in the shared data are one snapshot
back-cast at constant share counts (``cap_method="backcast"``), so the shares
move with relative prices only (buybacks and issuance are ignored); the
verdict says so. Evaluated "as of" a date before any stored cap, the claim
has no caps and says so (no look-ahead to a later snapshot).
"""

from __future__ import annotations

import pandas as pd

from rotation.claims._common import format_rule, insufficient, verdict
from rotation.claims._config import Param, Params
from rotation.claims._context import ClaimContext
from rotation.claims._stats import block_bootstrap, decide_interval, sum_rows
from rotation.claims._verdict import Effect, Verdict

__all__ = ["ID", "PARAMS", "POOL", "RULE", "evaluate"]

ID = "R7"
#: Name of the pooled AI set in the evidence frames.
POOL = "ai_pool"

PARAMS: dict[str, Param] = {
    "top3_threshold": Param("float", 0.5, "share of the pool the three largest must hold at the window end",
                            low=0.0, high=1.0),
    "min_members": Param("int", 4, "fewest members with a market cap at the window start", low=2, high=10_000),
}

RULE = (
    "supported when the Herfindahl index of the market caps of the {ai} baskets' members (the members with a cap "
    "at the window start, each held at its last cap over gaps) rose over the window, its {level:.0%} {bootstrap} "
    "block-bootstrap percentile interval of daily increments ({bootstrap_reps} reps, seed {seed}) lying above 0, "
    "and the three largest members hold at least {top3_threshold:.0%} of the pool at the end; contradicted when "
    "the interval lies below 0 (concentration fell); inconclusive otherwise; insufficient data with fewer than "
    "{min_members} members with a cap at the start or fewer than {min_observations} daily increments."
)


def evaluate(ctx: ClaimContext, params: Params) -> Verdict:
    """Evaluate R7 (see the module docstring for the rule)."""
    from rotation.analytics.concentration import concentration

    rule = format_rule(RULE, params)
    panel = ctx.daily
    ai_names = ctx.baskets(params, "ai")
    indices = {n: ctx.basket(n, params["weighting"]) for n in ai_names}
    win = ctx.window(params, indices)
    members = ctx.members(ai_names)
    caveats = ctx.caveats(members, win, indices=(), caps=True)
    common = {
        "window": (win.start, win.end),
        "baskets": tuple(ai_names),
        "instruments": tuple(m for m in members if m in panel.prices.columns),
        "data": ctx.provenance(members),
    }
    caps = panel.market_caps.reindex(columns=members)
    inside = caps[(caps.index >= win.start) & (caps.index <= win.end)]
    first = inside.iloc[0]
    fixed = [m for m in members if pd.notna(first[m]) and first[m] > 0]
    never = [m for m in members if not caps[m].notna().any()]
    later = [m for m in members if m not in fixed and m not in never and inside[m].notna().any()]
    if never:
        upto = f" on or before {ctx.data_end.date()}" if ctx.data_end is not None else ""
        caveats.append(f"no market cap{upto} for {', '.join(never)}: not in the concentration measures")
    if later:
        caveats.append(f"market caps start inside the window for {', '.join(later)}: left out so that the set "
                       "stays fixed (the HHI then moves only with the caps of the same companies)")
    stats: dict[str, object] = {"members_with_cap": len(fixed), "members": len(members)}
    if len(fixed) < params["min_members"]:
        upto = f" (as of {ctx.as_of.date()})" if ctx.as_of is not None else ""
        return insufficient(ctx, ID, params, rule, [
            f"{len(fixed)} members of {', '.join(ai_names)} with a market cap on {win.start.date()}{upto}, "
            f"at least {params['min_members']} needed"
            + (f"; without a cap: {', '.join(m for m in members if m not in fixed)}" if len(fixed) < len(members)
               else "")], caveats=tuple(dict.fromkeys(caveats)), statistics=stats, **common)

    held = inside[fixed].ffill()
    groups = {POOL: fixed, **{n: [m for m in ctx.universe.basket(n).members if m in fixed] for n in ai_names}}
    groups = {k: v for k, v in groups.items() if v}
    res = concentration(held, groups, k=(1, 3))
    hhi = res.hhi[POOL]
    increments = hhi.diff().iloc[1:].dropna()
    if len(increments) < params["min_observations"]:
        return insufficient(ctx, ID, params, rule, [
            f"{len(increments)} daily HHI increments between {win.start.date()} and {win.end.date()}, at least "
            f"{params['min_observations']} needed"], caveats=tuple(dict.fromkeys(caveats)), statistics=stats,
            **common)
    boot = block_bootstrap(increments.to_numpy(), lambda x: float(x.sum()), reps=params["bootstrap_reps"],
                           seed=params["seed"], level=params["level"], kind=params["bootstrap"],
                           block_length=params["block_length"], batch=sum_rows)
    top1, top3 = res.top[1][POOL], res.top[3][POOL]
    stats.update({
        "hhi_start": float(hhi.iloc[0]),
        "hhi_end": float(hhi.iloc[-1]),
        "effective_number_start": float(res.effective_number[POOL].iloc[0]),
        "effective_number_end": float(res.effective_number[POOL].iloc[-1]),
        "top1_start": float(top1.iloc[0]),
        "top1_end": float(top1.iloc[-1]),
        "leader_start": str(res.leader[POOL].iloc[0]),
        "leader_end": str(res.leader[POOL].iloc[-1]),
        "top3_start": float(top3.iloc[0]),
        "top3_end": float(top3.iloc[-1]),
        "top3_change_pp": float(100.0 * (top3.iloc[-1] - top3.iloc[0])),
        "days": len(increments),
        "bootstrap_se": boot.se,
        "block_length": boot.block_length,
    })
    for n in ai_names:
        if n in res.hhi.columns:
            stats[f"hhi_{n}_start"] = float(res.hhi[n].iloc[0])
            stats[f"hhi_{n}_end"] = float(res.hhi[n].iloc[-1])
            stats[f"top3_{n}_end"] = float(res.top[3][n].iloc[-1])
    rose = decide_interval(boot.lo, boot.hi, supports="positive")
    top3_ok = bool(top3.iloc[-1] >= params["top3_threshold"])
    stats["top3_above_threshold"] = top3_ok
    if rose == "supported" and not top3_ok:
        rose = "inconclusive"
        caveats.append(f"concentration rose, but the three largest hold {top3.iloc[-1]:.0%} of the pool, below "
                       f"the {params['top3_threshold']:.0%} threshold: not (yet) winner-takes-most")
    elif rose == "inconclusive" and top3_ok:
        caveats.append(f"the three largest hold {top3.iloc[-1]:.0%} of the pool, but the concentration did not "
                       "rise significantly over the window")
    caveats += [f"concentration: {n}" for n in res.notes]
    evidence = {"concentration": _weekly_paths(res, [g for g in groups if g != POOL]),
                "member_shares": _member_shares(res)}
    return verdict(
        ctx, ID, params, rule,
        verdict=rose,
        effect=Effect(boot.estimate, "HHI (fraction)",
                      f"change of the Herfindahl index of the {len(fixed)} AI members' market caps over the window "
                      f"({stats['hhi_start']:.3f} -> {stats['hhi_end']:.3f})"),
        interval=boot.interval(), p_value=boot.p_value,
        caveats=tuple(dict.fromkeys(caveats)), statistics=stats, evidence=evidence, **common,
    )


def _weekly_paths(res, baskets: list[str]) -> pd.DataFrame:
    """Weekly concentration of the pool (HHI, top-1, top-3 shares, leader) and each basket's HHI.

    Rows: the window's first session and the last session of each W-FRI week
    (the last, possibly partial, week ends at the window's end). Every number
    is a fraction of the cap of the fixed set (pool) or of its members in the basket.
    """
    frame = pd.DataFrame({"hhi": res.hhi[POOL], "top1": res.top[1][POOL], "top3": res.top[3][POOL],
                          **{f"hhi_{b}": res.hhi[b] for b in baskets}, "leader": res.leader[POOL]})
    last = frame.groupby(frame.index.to_period("W-FRI")).tail(1).index
    keep = frame.index.isin(last) | (frame.index == frame.index[0])
    return frame[keep].rename_axis("date").reset_index()


def _member_shares(res) -> pd.DataFrame:
    """Each member's share of the pool at the window's first and last row, largest at the end first."""
    shares = res.shares[POOL]
    out = pd.DataFrame({"symbol": shares.columns, "share_start": shares.iloc[0].to_numpy(),
                        "share_end": shares.iloc[-1].to_numpy()})
    out["change_pp"] = 100.0 * (out["share_end"] - out["share_start"])
    return out.sort_values("share_end", ascending=False, kind="stable").reset_index(drop=True)
