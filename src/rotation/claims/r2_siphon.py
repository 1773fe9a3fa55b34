"""R2: it is a siphon, not a common risk-on tide.

If money leaves crypto *for* AI, the two should move against each other once
the common equity-market factor is removed; if both merely ride a risk-on
tide, their market-adjusted moves are unrelated or move together.

Decision rule
-------------
Weekly (complete W-FRI weeks) simple returns of the AI side, the crypto side
and the market instrument (``market``) over the window. Each side is
regressed on the market with an intercept and :math:`\\hat\\rho` is the
correlation of the two residual series
(:func:`rotation.analytics.comovement.residual_correlation`), with a
Newey-West (HAC) standard error and a two-sided p-value, and a Fisher-z
interval at ``level``.

* **supported**: :math:`\\hat\\rho < 0` and ``p < 1 - level`` (a siphon);
* **contradicted**: :math:`\\hat\\rho > 0` and ``p < 1 - level`` (a common tide
  beyond the market factor);
* **inconclusive**: otherwise;
* **insufficient data**: fewer than ``min_weeks`` weeks with all three returns.

Evidence: the trailing ``rolling_weeks`` residual (partial) correlation and
the residual pairs (for a scatter).
"""

from __future__ import annotations

import pandas as pd

from rotation.claims._common import format_rule, insufficient, verdict
from rotation.claims._config import Param, Params
from rotation.claims._context import ClaimContext, weekly_returns
from rotation.claims._stats import decide_p
from rotation.claims._verdict import Effect, Interval, Verdict
from rotation.errors import DataError
from rotation.panel import basket_index

__all__ = ["ID", "PARAMS", "RULE", "evaluate"]

ID = "R2"

PARAMS: dict[str, Param] = {
    "rolling_weeks": Param("int", 52, "window of the rolling residual correlation (weeks)", low=10, high=520),
}

RULE = (
    "supported when the correlation of weekly AI-side and crypto-side returns after removing the market "
    "factor ({market}) is negative with a Newey-West (HAC) two-sided p-value below {alpha}; contradicted when "
    "it is positive with p below {alpha}; inconclusive otherwise; insufficient data with fewer than "
    "{min_weeks} complete weeks."
)


def evaluate(ctx: ClaimContext, params: Params) -> Verdict:
    """Evaluate R2 (see the module docstring for the rule)."""
    from rotation.analytics.comovement import residual_correlation, rolling_residual_correlation

    rule = format_rule(RULE, params)
    ai_names, cr_names = ctx.baskets(params, "ai"), ctx.baskets(params, "crypto")
    (market,) = ctx.instruments(params, "market")[:1]
    w = params["weighting"]
    indices = {n: ctx.basket(n, w) for n in [*ai_names, *cr_names]}
    panel = ctx.daily
    if market not in panel.prices.columns or not panel.prices[market].notna().any():
        raise DataError(f"market factor {market}: no prices stored")
    mkt = basket_index(panel.prices, [market], name=market)
    ai, cr = ctx.side(ai_names, w, "ai"), ctx.side(cr_names, w, "crypto")
    win = ctx.window(params, {**indices, market: mkt})
    members = ctx.members([*ai_names, *cr_names])
    common = {
        "window": (win.start, win.end),
        "baskets": (*ai_names, *cr_names),
        "instruments": (*[m for m in members if m in panel.prices.columns], market),
        "data": ctx.provenance([*members, market]),
        "caveats": tuple(ctx.caveats([*members, market], win, indices=list(indices.values()))),
    }
    levels = pd.DataFrame({"ai": ai.level, "crypto": cr.level, "market": panel.prices[market]}).loc[: win.end]
    weekly = weekly_returns(levels)
    inside = win.slice(weekly).dropna()
    if len(inside) < params["min_weeks"]:
        return insufficient(ctx, ID, params, rule, [
            f"{len(inside)} complete weeks with AI, crypto and {market} returns between {win.start.date()} and "
            f"{win.end.date()}, at least {params['min_weeks']} needed"], **common)
    res = residual_correlation(inside["ai"], inside["crypto"], inside["market"], level=params["level"],
                               min_periods=params["min_weeks"])
    alpha = 1.0 - params["level"]
    roll = rolling_residual_correlation(weekly["ai"], weekly["crypto"], weekly["market"],
                                        window=params["rolling_weeks"])
    roll_in = win.slice(roll)
    rolled = roll_in["residual_correlation"].dropna()
    stats = {
        "raw_correlation": res.raw_correlation,
        "beta_ai": res.beta_a,
        "beta_crypto": res.beta_b,
        "weeks": res.n,
        "hac_lags": res.hac_lags,
        "p_value_iid": res.p_value_iid,
        "rolling_latest": float(rolled.iloc[-1]) if len(rolled) else None,
        "rolling_share_negative": float((rolled < 0).mean()) if len(rolled) else None,
    }
    resid = res.residuals.rename(columns={"ai": "ai_residual", "crypto": "crypto_residual"})
    evidence = {
        "rolling_residual_correlation": roll_in[["residual_correlation", "raw_correlation", "n"]]
        .rename_axis("date").reset_index(),
        "residuals": resid.rename_axis("date").reset_index(),
    }
    return verdict(
        ctx, ID, params, rule,
        verdict=decide_p(res.correlation, res.p_value, alpha, supports="negative"),
        effect=Effect(res.correlation, "correlation",
                      f"correlation of weekly AI and crypto returns net of {market} (residual correlation)"),
        interval=Interval(res.ci_low, res.ci_high, params["level"],
                          f"Fisher-z interval with a Newey-West (HAC) standard error, {res.hac_lags} lags"),
        p_value=res.p_value, statistics=stats, evidence=evidence, **common,
    )
