"""R9: crypto's future is real-world assets (RWA) and decentralised physical infrastructure (DePIN).

Decision rule
-------------
The ``basket`` index (default ``rwa_depin``, weighted per ``weighting``) against
an equal-weighted, monthly rebalanced index of the ``benchmark`` majors
(default BTC and ETH), on NYSE sessions over the window. With
:math:`d_t = \\ln(1 + R^{basket}_t) - \\ln(1 + R^{bench}_t)` and
:math:`D = \\sum d_t`, a block bootstrap of :math:`d_t` gives a percentile
interval at ``level``:

* **supported**: :math:`D > 0` and the interval lies above 0;
* **contradicted**: :math:`D < 0` and the interval lies below 0;
* **inconclusive**: the interval contains 0;
* **insufficient data**: fewer than ``min_members`` basket members have a
  price on at least ``member_coverage`` of the window's sessions (the
  verdict names the members missing or short), or fewer than
  ``min_observations`` joint daily returns.

Reported with it (not part of the rule): stablecoin supply growth over the
window as the utility / net-inflow measure (``stablecoins``: their supply,
else their market cap, which for a USD stablecoin is its supply in USD;
:func:`rotation.analytics.flows.net_issuance` on weekly data). Each coin's
supply is used up to its last observed date; when that is before the window
end the verdict says "no stablecoin supply after ...".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rotation.claims._common import format_rule, insufficient, path_frame, verdict
from rotation.claims._config import Param, Params
from rotation.claims._context import ClaimContext, ClaimWindow
from rotation.claims._stats import block_bootstrap, decide_interval, sum_rows
from rotation.claims._verdict import Effect, Verdict
from rotation.errors import DataError
from rotation.panel import basket_index

__all__ = ["ID", "PARAMS", "RULE", "evaluate"]

ID = "R9"

PARAMS: dict[str, Param] = {
    "basket": Param("str", "rwa_depin", "the RWA/DePIN basket"),
    "benchmark": Param("list", ["BTC", "ETH"], "majors of the benchmark index (equal weights)"),
    "min_members": Param("int", 3, "fewest basket members with data", low=1),
    "member_coverage": Param("float", 0.5, "share of the window's sessions a member needs prices on",
                             low=0.0, high=1.0),
    "stablecoins": Param("list", ["USDT", "USDC"], "stablecoins whose supply growth is reported"),
}

RULE = (
    "supported when the {basket} basket minus the equal-weighted benchmark of {benchmark}: cumulative log return over "
    "the window is > 0 and its {level:.0%} {bootstrap} block-bootstrap percentile interval ({bootstrap_reps} reps, "
    "seed {seed}) lies above 0; contradicted when it is < 0 and the interval lies below 0; inconclusive when the "
    "interval contains 0; insufficient data when fewer than {min_members} members have prices on "
    "{member_coverage:.0%} of the window's sessions or with fewer than {min_observations} joint daily returns. "
    "Stablecoin supply growth is reported, not part of the rule."
)


def evaluate(ctx: ClaimContext, params: Params) -> Verdict:
    """Evaluate R9 (see the module docstring for the rule)."""
    rule = format_rule(RULE, params)
    (name,) = ctx.baskets(params, "basket")
    bench_syms = ctx.instruments(params, "benchmark")
    panel = ctx.daily
    idx = ctx.basket(name, params["weighting"])
    have_bench = [s for s in bench_syms if s in panel.prices.columns and panel.prices[s].notna().any()]
    if not have_bench:
        raise DataError(f"benchmark {', '.join(bench_syms)}: no prices stored")
    label = "+".join(have_bench)
    bench = basket_index(panel.prices, have_bench, weighting="equal", name=label)
    win = ctx.window(params, {name: idx, label: bench})
    members = list(ctx.universe.basket(name).members)
    common = {
        "window": (win.start, win.end),
        "baskets": (name,),
        "instruments": (*[m for m in members if m in panel.prices.columns], *have_bench),
        "data": ctx.provenance([*members, *have_bench]),
    }
    caveats = ctx.caveats([*members, *have_bench], win, indices=[idx])
    if len(have_bench) < len(bench_syms):
        caveats.append(f"benchmark without {', '.join(s for s in bench_syms if s not in have_bench)}: no data")
    rows = (panel.index > win.start) & (panel.index <= win.end)
    cover = pd.Series({m: float(panel.prices.loc[rows, m].notna().mean()) if m in panel.prices.columns else 0.0
                       for m in members})
    ok = cover[cover >= params["member_coverage"]]
    short = cover[cover < params["member_coverage"]]
    stats: dict[str, object] = {"members_with_data": len(ok), "members": len(members)}
    if len(ok) < params["min_members"]:
        missing = [f"{name}: {len(ok)} of {len(members)} members have prices on at least "
                   f"{params['member_coverage']:.0%} of the sessions {win.start.date()}..{win.end.date()}, "
                   f"{params['min_members']} needed; short or missing: "
                   + ", ".join(f"{m} ({c:.0%})" for m, c in short.items())]
        return insufficient(ctx, ID, params, rule, missing, caveats=tuple(caveats), statistics=stats, **common)
    if len(short):
        caveats.append(f"members with prices on less than {params['member_coverage']:.0%} of the window: "
                       + ", ".join(f"{m} ({c:.0%})" for m, c in short.items()))
    r = win.slice(pd.concat({"basket": idx.returns, "benchmark": bench.returns}, axis=1)).dropna()
    if len(r) < params["min_observations"]:
        return insufficient(ctx, ID, params, rule, [
            f"{len(r)} joint daily returns of {name} and {label} between {win.start.date()} and {win.end.date()}, "
            f"at least {params['min_observations']} needed"], caveats=tuple(caveats), statistics=stats, **common)
    d = (np.log1p(r["basket"]) - np.log1p(r["benchmark"])).to_numpy()
    boot = block_bootstrap(d, np.sum, reps=params["bootstrap_reps"], seed=params["seed"], level=params["level"],
                           kind=params["bootstrap"], block_length=params["block_length"], batch=sum_rows)
    stats.update({
        "basket_return": float(np.expm1(np.log1p(r["basket"]).sum())),
        "benchmark_return": float(np.expm1(np.log1p(r["benchmark"]).sum())),
        "relative_log_return_annualised": float(boot.estimate * 252.0 / len(d)),
        "days": len(d), "bootstrap_se": boot.se, "block_length": boot.block_length,
    })
    path = path_frame({name: idx.level, label: bench.level}, win)
    path["relative_log"] = np.log(path[name] / path[label])
    evidence: dict[str, pd.DataFrame] = {"relative_return": path}
    _stablecoins(ctx, params, win, stats, evidence, caveats)
    return verdict(
        ctx, ID, params, rule,
        verdict=decide_interval(boot.lo, boot.hi, supports="positive"),
        effect=Effect(boot.estimate, "log return",
                      f"cumulative log return of {name} minus the equal-weighted {label} benchmark"),
        interval=boot.interval(), p_value=boot.p_value,
        caveats=tuple(dict.fromkeys(caveats)), statistics=stats, evidence=evidence, **common,
    )


def _stablecoins(ctx: ClaimContext, params: Params, win: ClaimWindow, stats: dict, evidence: dict,
                 caveats: list) -> None:
    from rotation.analytics.flows import net_issuance

    panel = ctx.daily
    coins = [c for c in params["stablecoins"] if c in panel.prices.columns]
    absent = [c for c in params["stablecoins"] if c not in coins]
    if absent:
        caveats.append(f"no stablecoin data stored for {', '.join(absent)}")
    if not coins:
        return
    supply = panel.supply[coins].combine_first(panel.market_caps[coins])
    # only observed rows: a cap carried forward at constant supply is not a supply observation
    last = panel.last_observed.reindex(coins)
    for c in coins:
        if pd.notna(last[c]):
            supply.loc[supply.index > last[c], c] = np.nan
    supply = supply.loc[win.start: win.end].dropna(how="all", axis=1)
    if supply.empty or not supply.notna().any().any():
        caveats.append(f"no stablecoin supply in the window for {', '.join(coins)}")
        return
    ends = supply.apply(lambda s: s.last_valid_index())
    supply_end = ends.min()
    if (win.end - supply_end).days > 7:
        caveats.append(f"no stablecoin supply after {supply_end.date()}: supply growth is measured to then")
    both = supply.loc[:supply_end].dropna()
    if len(both) < 2:
        caveats.append("stablecoin supply: fewer than two dates with every coin's supply in the window")
        return
    total = both.sum(axis=1)
    years = (total.index[-1] - total.index[0]).days / 365.25
    growth = float(total.iloc[-1] / total.iloc[0] - 1.0)
    stats["stablecoin_supply_start"] = float(total.iloc[0])
    stats["stablecoin_supply_end"] = float(total.iloc[-1])
    stats["stablecoin_supply_growth"] = growth
    stats["stablecoin_supply_growth_annualised"] = float((1.0 + growth) ** (1.0 / years) - 1.0) if years > 0 else None
    stats["stablecoin_supply_dates"] = f"{total.index[0].date()}..{total.index[-1].date()}"
    ni = net_issuance(both, windows=(4, 13), weekly=True)
    frame = ni.supply.copy()
    frame["issuance_4w"] = ni.rolling[4]["total"]
    frame["growth_13w"] = ni.growth[13]["total"]
    evidence["stablecoin_supply"] = frame.rename_axis("date").reset_index()
