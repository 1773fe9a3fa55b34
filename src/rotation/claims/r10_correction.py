"""R10: an AI correction of 10-15% is a live risk, and it would spill over.

Two parts, both needed for the claim: corrections of that size must be
common (a *live* risk), and crypto must fall with AI when AI falls (a
*spill-over*).

Decision rule
-------------
**Frequency.** On the AI side index (see :mod:`rotation.claims._context`),
daily, from ``start`` (default 2018: several corrections, not only the
2023-2026 rally) to the end of the AI baskets' data, every drawdown of at
least ``correction`` (10%) from a running peak is an episode
(:func:`rotation.analytics.stress.drawdown_episodes`: one fall counts once,
the open one included). The rate is :math:`\\lambda = k / Y` episodes per
year (:math:`Y` calendar years of data), with an exact Poisson (Garwood)
interval at ``level`` (an approximation: episodes are treated as independent
events). The same for ``severe`` (15%) and for each AI basket is reported.

**Spill-over.** Weekly (complete W-FRI weeks) simple returns of the AI side,
the crypto side and the ``miners`` basket over the window where all three
exist. The downside beta of each responder on the AI side,

.. math::

    r_{j,t} = a^-_j D_t + a^+_j (1 - D_t) + \\beta^-_j D_t r_{AI,t} + \\beta^+_j (1 - D_t) r_{AI,t}
    + \\varepsilon_{j,t}, \\qquad D_t = \\mathbb 1[r_{AI,t} < 0],

with Newey-West (HAC) errors (:func:`rotation.analytics.stress.downside_beta`
through :func:`~rotation.analytics.stress.scenario`, which also gives the
responses to AI shocks of ``-correction`` and ``-severe`` from the full,
downside and tail betas and from historical analogue weeks).

* **supported**: :math:`\\lambda \\ge` ``min_per_year`` **and** the crypto side's
  :math:`\\beta^-` is positive with its ``level`` HAC interval above 0 **and** the
  miners' :math:`\\beta^-` likewise (when the universe has the miners basket;
  otherwise crypto alone decides and a caveat says so);
* **contradicted**: corrections are rare (the Poisson interval of :math:`\\lambda` lies
  below ``min_per_year``), or there is no spill-over to crypto: the upper end of the
  crypto side's :math:`\\beta^-` interval is below ``null_margin`` (the beta is
  significantly below a small positive margin: about zero or negative; the
  equivalence-test reading of "significantly ~0");
* **inconclusive**: otherwise;
* **insufficient data**: fewer than ``min_weeks`` joint weeks, or fewer than
  ``min_down_weeks`` weeks in which the AI side fell.

The effect is the crypto side's downside beta (weekly return of crypto per
unit weekly return of the AI side in AI's down weeks); a -10% AI week maps to
about :math:`-0.10\\,\\beta^-` for crypto.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats as sps

from rotation.claims._common import format_rule, insufficient, verdict
from rotation.claims._config import Param, Params
from rotation.claims._context import ClaimContext, weekly_returns
from rotation.claims._verdict import Effect, Interval, Verdict
from rotation.claims.r8_miners import optional_basket

__all__ = ["ID", "PARAMS", "RULE", "evaluate", "poisson_rate_interval"]

ID = "R10"

PARAMS: dict[str, Param] = {
    "miners": Param("str", "miners_ai_hosting", "basket of crypto miners (a responder)"),
    "correction": Param("float", 0.10, "drawdown depth that counts as a correction", low=0.01, high=0.9),
    "severe": Param("float", 0.15, "deeper drawdown reported with it", low=0.01, high=0.9),
    "min_per_year": Param("float", 1.0, "corrections a year that make the risk 'live'", low=0.0, high=52.0),
    "null_margin": Param("float", 0.25, "downside beta below which crypto counts as not spilled over to",
                         low=0.0, high=5.0),
    "min_down_weeks": Param("int", 20, "fewest weeks with an AI fall in the downside regression", low=5),
    "analogue_band": Param("float", 0.025, "half-width of the analogue windows' return band", low=0.001, high=0.5),
}

RULE = (
    "supported when drawdowns of at least {correction:.0%} of the AI side index ({ai}, daily, from the window "
    "start) occur at least {min_per_year:g} times a year on average AND the weekly downside beta (AI-side down "
    "weeks) of the crypto side ({crypto}) and of {miners} on the AI side are positive with {level:.0%} "
    "Newey-West (HAC) intervals above 0; contradicted when the exact Poisson {level:.0%} interval of the "
    "correction rate lies below {min_per_year:g} a year, or the crypto side's downside-beta interval lies entirely "
    "below "
    "{null_margin:g} (no spill-over: about zero or negative); inconclusive otherwise; insufficient data with "
    "fewer than {min_weeks} joint weeks or {min_down_weeks} AI-side down weeks. Shock responses (-{correction:.0%}"
    " / -{severe:.0%}) from betas and historical analogues are reported, not part of the rule."
)


def poisson_rate_interval(count: int, years: float, level: float) -> tuple[float, float]:
    """Exact (Garwood) confidence interval of a Poisson rate ``count / years``.

    ``[chi2_{a/2}(2k) / 2, chi2_{1-a/2}(2k + 2) / 2] / years`` with ``a = 1 - level``
    (lower bound 0 when ``k = 0``).
    """
    a = 1.0 - level
    lo = 0.0 if count == 0 else float(sps.chi2.ppf(a / 2.0, 2 * count) / 2.0)
    hi = float(sps.chi2.ppf(1.0 - a / 2.0, 2 * count + 2) / 2.0)
    return lo / years, hi / years


def evaluate(ctx: ClaimContext, params: Params) -> Verdict:
    """Evaluate R10 (see the module docstring for the rule)."""
    from rotation.analytics.stress import drawdown_episodes, scenario

    rule = format_rule(RULE, params)
    panel = ctx.daily
    if params["severe"] < params["correction"]:
        raise params.fail("severe", f"must be at least correction ({params['correction']:g}), "
                                    f"got {params['severe']:g}")
    ai_names, cr_names = ctx.baskets(params, "ai"), ctx.baskets(params, "crypto")
    miners, miners_note = optional_basket(ctx, params, "miners")
    w = params["weighting"]
    ai_idx = {n: ctx.basket(n, w) for n in ai_names}
    cr_idx = {n: ctx.basket(n, w) for n in cr_names}
    responders_idx = dict(cr_idx)
    if miners is not None:
        responders_idx[miners] = ctx.basket(miners, w)
    ai, cr = ctx.side(ai_names, w, "ai"), ctx.side(cr_names, w, "crypto")
    freq_win = ctx.window(params, ai_idx)
    win = ctx.window(params, {**ai_idx, **responders_idx})
    baskets = [*ai_names, *cr_names, *([miners] if miners else [])]
    members = ctx.members(baskets)
    caveats = ctx.caveats(members, win, indices=[*ai_idx.values(), *responders_idx.values()])
    if miners_note:
        caveats.append(miners_note)
    common = {
        "window": (win.start, win.end),  # the effect's (the betas'); the frequency window is in a caveat
        "baskets": tuple(baskets),
        "instruments": tuple(m for m in members if m in panel.prices.columns),
        "data": ctx.provenance(members),
    }
    stats: dict[str, object] = {"frequency_window": f"{freq_win.start.date()}..{freq_win.end.date()}"}
    if (freq_win.start, freq_win.end) != (win.start, win.end):
        caveats.append(f"correction frequency measured {freq_win.start.date()}..{freq_win.end.date()} (the AI "
                       f"baskets' data); spill-over betas {win.start.date()}..{win.end.date()} (all baskets' data)")

    # ---- frequency and duration of corrections (daily)
    ths = tuple(sorted({params["correction"], params["severe"]}))
    levels_d = pd.DataFrame({"ai": ai.level, **{n: i.level for n, i in ai_idx.items() if n != "ai"}})
    # rows [start, end]: the start row (no return) anchors the wealth and the calendar span at the window start
    daily = levels_d.loc[freq_win.start: freq_win.end].pct_change(fill_method=None)
    dd = drawdown_episodes(daily, ths)
    summ = dd.summary.set_index(["symbol", "threshold"])
    row = summ.loc[("ai", params["correction"])]
    k, years = int(row["episodes"]), float(row["years"])
    rate = float(row["per_year"])
    rate_lo, rate_hi = poisson_rate_interval(k, years, params["level"]) if years > 0 else (math.nan, math.nan)
    stats.update({
        "corrections": k, "years": years, "corrections_per_year": rate,
        "corrections_per_year_ci_low": rate_lo, "corrections_per_year_ci_high": rate_hi,
        "correction_open": int(row["open"]),
        "median_days_to_trough": _f(row["median_days_to_trough"]),
        "median_days_to_recovery": _f(row["median_days_to_recovery"]),
        "max_days_to_recovery": _f(row["max_days_to_recovery"]),
        "deepest_drawdown": _f(row["deepest"]),
    })
    sev = summ.loc[("ai", params["severe"])]
    stats["severe_corrections"] = int(sev["episodes"])
    stats["severe_per_year"] = float(sev["per_year"])
    for n in ai_names:
        if (n, params["correction"]) in summ.index:
            stats[f"corrections_per_year_{n}"] = float(summ.loc[(n, params["correction"]), "per_year"])

    # ---- spill-over (weekly)
    levels = pd.DataFrame({"ai": ai.level, "crypto": cr.level,
                           **({miners: responders_idx[miners].level} if miners else {})}).loc[: win.end]
    weekly = win.slice(weekly_returns(levels)).dropna()
    down = int((weekly["ai"] < 0).sum())
    stats.update({"weeks": len(weekly), "down_weeks": down})
    evidence: dict[str, pd.DataFrame] = {"drawdown_frequency": dd.summary, "episodes": dd.episodes}
    if len(weekly) < params["min_weeks"] or down < params["min_down_weeks"]:
        return insufficient(ctx, ID, params, rule, [
            f"{len(weekly)} joint weeks of {', '.join(['ai', 'crypto', *([miners] if miners else [])])} returns "
            f"with {down} AI-side down weeks between {win.start.date()} and {win.end.date()}; at least "
            f"{params['min_weeks']} weeks and {params['min_down_weeks']} down weeks needed"],
            caveats=tuple(dict.fromkeys(caveats)), statistics=stats, evidence=evidence, **common)
    responders = ["crypto", *([miners] if miners else [])]
    sc = scenario(weekly, "ai", (-params["correction"], -params["severe"]), responses=responders,
                  band=params["analogue_band"], level=params["level"], min_obs=10)
    caveats += [f"scenario: {n}" for n in sc.notes]
    if "downside_beta" not in sc.betas:
        return insufficient(ctx, ID, params, rule, ["downside betas not estimated: " + "; ".join(sc.notes)],
                            caveats=tuple(dict.fromkeys(caveats)), statistics=stats, evidence=evidence, **common)
    db = sc.betas["downside_beta"].table
    for s in responders:
        key = "crypto" if s == "crypto" else "miners"
        for col in ("beta", "ci_low", "ci_high", "p", "beta_other", "diff_p"):
            stats[f"{key}_downside_{col}"] = _f(db.at[s, col])
        stats[f"{key}_beta_full"] = _f(sc.betas["beta"].table.at[s, "beta"]) if "beta" in sc.betas else None
    stats["hac_lags"] = int(db.at["crypto", "hac_lags"]) if np.isfinite(db.at["crypto", "hac_lags"]) else None
    beta = float(db.at["crypto", "beta"])
    lo, hi, p = float(db.at["crypto", "ci_low"]), float(db.at["crypto", "ci_high"]), float(db.at["crypto", "p"])
    if not np.isfinite(beta):
        return insufficient(ctx, ID, params, rule, ["crypto side's downside beta not estimated: "
                                                    + "; ".join(sc.betas["downside_beta"].notes)],
                            caveats=tuple(dict.fromkeys(caveats)), statistics=stats, evidence=evidence, **common)
    live = rate >= params["min_per_year"]
    rare = rate_hi < params["min_per_year"]
    spill = {s: bool(db.at[s, "ci_low"] > 0) for s in responders}
    no_spill = hi < params["null_margin"]
    if rare or no_spill:
        decision = "contradicted"
    elif live and all(spill.values()):
        decision = "supported"
    else:
        decision = "inconclusive"
    stats["live_risk"] = live
    stats["spill_over_crypto"] = spill["crypto"]
    if miners:
        stats["spill_over_miners"] = spill[miners]
    if not miners:
        caveats.append("no miners basket: the spill-over is tested on the crypto side alone")
    if not live and not rare:
        caveats.append(f"{rate:.2f} corrections of {params['correction']:.0%}+ a year, below {params['min_per_year']:g}"
                       f", but the Poisson interval ({rate_lo:.2f}..{rate_hi:.2f}) does not exclude it")
    caveats.append("the correction rate treats episodes as independent Poisson events (an approximation); daily "
                   "levels give the drawdown depth, weekly returns the betas")
    # evidence order = chart order in the report: drawdown path, scenario responses, then the tables
    evidence = {"drawdown_path": _drawdown_path(daily["ai"]), "scenario": sc.to_frame(), **evidence,
                "analogue_windows": sc.windows}
    return verdict(
        ctx, ID, params, rule,
        verdict=decision,
        effect=Effect(beta, "weekly return per unit AI-side return",
                      "downside beta of the crypto side on the AI side (weeks when the AI side fell)"),
        interval=Interval(lo, hi, params["level"],
                          f"OLS with Newey-West (HAC) standard errors, {stats['hac_lags']} lags, t distribution "
                          "(fully interacted down/up-week regression)"),
        p_value=p, caveats=tuple(dict.fromkeys(caveats)), statistics=stats, evidence=evidence, **common,
    )


def _f(value: object) -> float | None:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _drawdown_path(returns: pd.Series) -> pd.DataFrame:
    """Weekly (last session of each W-FRI week) drawdown of the AI side from its running peak."""
    from rotation.analytics.risk import drawdown

    dd = drawdown(returns.dropna().to_frame("ai"))["ai"]
    last = dd.groupby(dd.index.to_period("W-FRI")).tail(1)
    return last.rename("drawdown").rename_axis("date").reset_index()
