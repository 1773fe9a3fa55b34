"""R3: higher risk-free rates hurt non-yielding crypto more than AI.

Decision rule
-------------
Weekly (complete W-FRI weeks) simple returns of the AI side, the crypto side
and their difference :math:`y^{c-a}_t = R^{crypto}_t - R^{AI}_t` are regressed
on the same factors over the window's weeks where all are known:

.. math:: y_t = a + \\sum_k \\beta_k \\Delta i_{k,t} + \\gamma\\, r^{USD}_t + \\varepsilon_t

with :math:`\\Delta i_k` the weekly change (percentage points) of each yield in
``rates`` as published by each Friday (:func:`rotation.panel.macro_panel`
applies the release lags), and :math:`r^{USD}` the weekly return of the
``usd`` instrument (default UUP; a macro series such as DTWEXBGS is used as
its weekly percentage change, published-as-of). OLS with Newey-West (HAC)
standard errors, :func:`rotation.analytics.macro.macro_sensitivity`. Because
the three regressions share rows and regressors, the difference regression's
slope is exactly :math:`\\beta^{crypto} - \\beta^{AI}`, and its HAC standard
error accounts for the correlation of the two baskets' errors.

With :math:`\\delta` the difference's coefficient on the ``primary`` rate:

* **supported**: :math:`\\delta < 0` with a two-sided HAC p-value below ``1 - level``
  (crypto's rate beta significantly more negative than AI's);
* **contradicted**: :math:`\\delta > 0` with p below ``1 - level``;
* **inconclusive**: otherwise;
* **insufficient data**: a factor series not stored, or fewer than ``min_weeks`` usable weeks.

Evidence: the coefficient table, rolling ``rolling_weeks`` betas on the
primary rate, and mean weekly returns by rate regime (``regime_rate``'s
``regime_window``-week change beyond ``regime_threshold`` points, known the
week before; :func:`rotation.analytics.macro.returns_by_regime`).
"""

from __future__ import annotations

import pandas as pd

from rotation.claims._common import format_rule, insufficient, verdict
from rotation.claims._config import Param, Params
from rotation.claims._context import ClaimContext, weekly_returns
from rotation.claims._stats import decide_p
from rotation.claims._verdict import Effect, Interval, Verdict
from rotation.errors import DataError

__all__ = ["ID", "PARAMS", "RULE", "evaluate"]

ID = "R3"

PARAMS: dict[str, Param] = {
    "rates": Param("list", ["DGS2", "DFII10"], "yields whose weekly changes are factors"),
    "primary": Param("str", "DGS2", "the rate whose crypto-minus-AI beta decides"),
    "usd": Param("str", "UUP", "USD factor: an instrument or a macro series"),
    "rolling_weeks": Param("int", 104, "rolling-beta window (weeks)", low=20, high=1040),
    "regime_rate": Param("str", "DGS2", "rate defining the regimes"),
    "regime_window": Param("int", 13, "weeks of rate change defining a regime", low=1, high=260),
    "regime_threshold": Param("float", 0.25, "rate change (pp) counting as rising/falling", low=0.0, high=10.0),
}

RULE = (
    "supported when the HAC regression of weekly crypto-minus-AI returns on weekly changes in {rates} "
    "(and the {usd} return) gives a negative coefficient on {primary} with a two-sided p-value below {alpha} "
    "(crypto's {primary} beta significantly more negative than AI's); contradicted when that coefficient is "
    "positive with p below {alpha}; inconclusive otherwise; insufficient data without the factor series or "
    "with fewer than {min_weeks} usable weeks."
)


def evaluate(ctx: ClaimContext, params: Params) -> Verdict:
    """Evaluate R3 (see the module docstring for the rule)."""
    from rotation.analytics.macro import (
        macro_factors,
        macro_sensitivity,
        rate_regime,
        returns_by_regime,
        rolling_macro_sensitivity,
    )

    rule = format_rule(RULE, params)
    rates = list(params["rates"])
    primary, usd = params["primary"], params["usd"]
    if primary not in rates:
        raise params.fail("primary", f"'{primary}' must be one of rates ({', '.join(rates)})")
    ai_names, cr_names = ctx.baskets(params, "ai"), ctx.baskets(params, "crypto")
    w = params["weighting"]
    indices = {n: ctx.basket(n, w) for n in [*ai_names, *cr_names]}
    ai, cr = ctx.side(ai_names, w, "ai"), ctx.side(cr_names, w, "crypto")
    win = ctx.window(params, indices)
    panel = ctx.daily
    usd_is_instrument = usd in ctx.universe.instruments
    if not usd_is_instrument and usd not in ctx.universe.macro and usd not in set(ctx.store.read_macro([usd])["symbol"]):
        raise params.fail("usd", f"'{usd}' is neither an instrument nor a macro series of the universe")
    members = ctx.members([*ai_names, *cr_names])
    symbols = [*members, usd] if usd_is_instrument else members
    common = {
        "window": (win.start, win.end),
        "baskets": (*ai_names, *cr_names),
        "instruments": tuple(m for m in symbols if m in panel.prices.columns),
        "data": ctx.provenance(symbols),
    }
    levels = pd.DataFrame({"ai": ai.level, "crypto": cr.level}).loc[: win.end]
    if usd_is_instrument:
        if usd not in panel.prices.columns or not panel.prices[usd].notna().any():
            raise DataError(f"USD factor {usd}: no prices stored")
        levels["usd"] = panel.prices[usd]
    weekly = weekly_returns(levels)
    y = weekly[["ai", "crypto"]].assign(crypto_minus_ai=weekly["crypto"] - weekly["ai"])
    wanted = list(dict.fromkeys([*rates, params["regime_rate"], *([] if usd_is_instrument else [usd])]))
    macro = ctx.macro(wanted, weekly.index)
    absent = [s for s in wanted if s not in macro.columns or not macro[s].notna().any()]
    factor_absent = [s for s in absent if s in rates or s == usd]
    if factor_absent:
        return insufficient(ctx, ID, params, rule, [f"macro series not stored: {', '.join(factor_absent)}"],
                            **common)
    factors = macro_factors(macro, rates=rates, usd=None if usd_is_instrument else usd)
    if usd_is_instrument:
        factors["r_USD"] = weekly["usd"]
    data = win.slice(pd.concat([y, factors], axis=1)).dropna()
    caveats = ctx.caveats(symbols, win, indices=list(indices.values()))
    caveats.append("weekly factor changes use the values published by each Friday (release lags applied): a "
                   "yield change is measured Thursday to Thursday against Friday-to-Friday returns")
    if len(data) < params["min_weeks"]:
        return insufficient(ctx, ID, params, rule, [
            f"{len(data)} weeks with both returns and all factors between {win.start.date()} and "
            f"{win.end.date()}, at least {params['min_weeks']} needed"], caveats=tuple(caveats), **common)
    X = data[factors.columns]
    alpha = 1.0 - params["level"]
    sens = macro_sensitivity(data[y.columns], X, alpha=alpha, min_obs=params["min_weeks"])
    term = f"d_{primary}"
    diff = "crypto_minus_ai"
    delta, p = float(sens.coef.at[diff, term]), float(sens.p.at[diff, term])
    stats: dict[str, object] = {"weeks": int(sens.nobs[diff]), "hac_lags": int(sens.hac_lags[diff])}
    for t in X.columns:
        for s in ("ai", "crypto"):
            stats[f"beta_{s}_{t}"] = float(sens.coef.at[s, t])
            stats[f"p_{s}_{t}"] = float(sens.p.at[s, t])
        stats[f"diff_{t}"] = float(sens.coef.at[diff, t])
        stats[f"p_diff_{t}"] = float(sens.p.at[diff, t])
    evidence: dict[str, pd.DataFrame] = {"sensitivities": sens.to_frame()}
    roll = rolling_macro_sensitivity(data[y.columns], X, window=params["rolling_weeks"])
    evidence["rolling_beta"] = roll.beta(term).rename_axis("date").reset_index()
    if params["regime_rate"] in macro.columns and macro[params["regime_rate"]].notna().any():
        regime = rate_regime(macro[params["regime_rate"]], window=params["regime_window"],
                             threshold=params["regime_threshold"])
        try:
            rr = returns_by_regime(win.slice(y[["ai", "crypto"]]), regime, lag=1, periods_per_year=52.0,
                                   alpha=alpha)
        except DataError as exc:
            caveats.append(f"returns by rate regime not computed: {exc}")
        else:
            evidence["returns_by_regime"] = rr.table
    else:
        caveats.append(f"regime rate {params['regime_rate']} not stored: no returns by rate regime")
    return verdict(
        ctx, ID, params, rule,
        verdict=decide_p(delta, p, alpha, supports="negative"),
        effect=Effect(delta, "weekly return per percentage point",
                      f"crypto-side minus AI-side weekly return per 1 pp weekly rise in {primary} "
                      "(difference of the two betas)"),
        interval=Interval(float(sens.ci_low.at[diff, term]), float(sens.ci_high.at[diff, term]), params["level"],
                          f"OLS with Newey-West (HAC) standard errors, {stats['hac_lags']} lags, t distribution"),
        p_value=p, caveats=tuple(dict.fromkeys(caveats)), statistics=stats, evidence=evidence, **common,
    )
