"""R6: investors re-price certainty - AI gives better risk-adjusted return than crypto.

Decision rule
-------------
Daily simple returns of the AI and crypto side indices on NYSE sessions over
the window (crypto sampled at the last UTC close before the US close, so
weekend moves land on Monday; both annualised with 252 sessions a year),
in excess of the risk-free rate (the first stored series of ``risk_free``,
percent a year as published, de-annualised to a session). The Sharpe ratio
:math:`SR = \\sqrt{252}\\, \\bar e / s(e)` (sample standard deviation) and

.. math:: \\Delta SR = SR^{AI} - SR^{crypto}.

Uncertainty: a block bootstrap of the **paired** daily rows (both sides
resampled together, so their correlation is kept), ``bootstrap`` kind,
``bootstrap_reps`` replications, ``seed``; percentile interval at ``level``.
(The bootstrap was preferred to the Jobson-Korkie/Memmel test, whose variance
formula assumes i.i.d. normal returns; crypto returns are fat-tailed and
volatility-clustered.)

* **supported**: :math:`\\Delta SR > 0` and the interval lies above 0;
* **contradicted**: :math:`\\Delta SR < 0` and the interval lies below 0;
* **inconclusive**: the interval contains 0;
* **insufficient data**: fewer than ``min_observations`` joint daily returns.

Reported with it (not part of the rule): volatility, maximum drawdown,
Sortino ratio, historical VaR and CVaR at ``var_level`` per side
(:func:`rotation.analytics.risk.risk_table`), and whether crypto's volatility
premium shrank: from ``vol_start`` to the window end, the log ratio of each
calendar month's realised volatility, :math:`\\ell_m = \\ln(\\sigma^{crypto}_m / \\sigma^{AI}_m)`
(months with at least 15 joint returns), compared between the first and the
last third of the months by OLS of :math:`\\ell` on a constant and a
last-third dummy with Newey-West (HAC) errors (the ratio is persistent month
to month); "shrank" when the dummy is negative with p below ``1 - level``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rotation.claims._common import format_rule, insufficient, verdict
from rotation.claims._config import Param, Params
from rotation.claims._context import ClaimContext
from rotation.claims._stats import block_bootstrap, decide_interval
from rotation.claims._verdict import Effect, Verdict

__all__ = ["ID", "PARAMS", "RULE", "evaluate", "sharpe_difference", "sharpe_differences"]

ID = "R6"
PERIODS_PER_YEAR = 252.0
_MIN_MONTH_DAYS = 15

PARAMS: dict[str, Param] = {
    "risk_free": Param("list", ["DFF", "FEDFUNDS"], "risk-free rate series, in order of preference"),
    "var_level": Param("float", 0.95, "VaR/CVaR confidence level", low=0.5, high=0.999),
    "vol_start": Param("date", None, "start of the volatility-premium window (default: the claim's window)",
                       nullable=True),
}

RULE = (
    "supported when the annualised Sharpe ratio of the AI side minus that of the crypto side (daily excess "
    "returns over the first stored of {risk_free}) is > 0 and its {level:.0%} {bootstrap} block-bootstrap "
    "percentile interval of paired daily rows ({bootstrap_reps} reps, seed {seed}) lies above 0; contradicted "
    "when it is < 0 and the interval lies below 0; inconclusive when the interval contains 0; insufficient data "
    "with fewer than {min_observations} joint daily returns. Volatility, drawdown, CVaR and the volatility-premium "
    "trend are reported, not part of the rule."
)


def sharpe_difference(rows: np.ndarray) -> float:
    """:math:`SR_0 - SR_1` of a (n, 2) array of per-period excess returns, annualised with 252."""
    mean = rows.mean(axis=0)
    sd = rows.std(axis=0, ddof=1)
    sr = mean / sd * np.sqrt(PERIODS_PER_YEAR)
    return float(sr[0] - sr[1])


def sharpe_differences(samples: np.ndarray) -> np.ndarray:
    """:func:`sharpe_difference` of each of ``m`` resamples, ``(m, n, 2) -> (m,)``, bit for bit.

    The same operations along the rows axis (axis 1 here, axis 0 there): numpy
    accumulates a reduction over a non-contiguous axis row by row in both cases.
    """
    mean = samples.mean(axis=1)
    sd = samples.std(axis=1, ddof=1)
    sr = mean / sd * np.sqrt(PERIODS_PER_YEAR)
    return sr[:, 0] - sr[:, 1]


def evaluate(ctx: ClaimContext, params: Params) -> Verdict:
    """Evaluate R6 (see the module docstring for the rule)."""
    from rotation.analytics.risk import risk_table

    rule = format_rule(RULE, params)
    ai_names, cr_names = ctx.baskets(params, "ai"), ctx.baskets(params, "crypto")
    w = params["weighting"]
    indices = {n: ctx.basket(n, w) for n in [*ai_names, *cr_names]}
    ai, cr = ctx.side(ai_names, w, "ai"), ctx.side(cr_names, w, "crypto")
    win = ctx.window(params, indices)
    panel = ctx.daily
    members = ctx.members([*ai_names, *cr_names])
    caveats = ctx.caveats(members, win, indices=list(indices.values()))
    common = {
        "window": (win.start, win.end),
        "baskets": (*ai_names, *cr_names),
        "instruments": tuple(m for m in members if m in panel.prices.columns),
        "data": ctx.provenance(members),
    }
    both = pd.concat({"ai": ai.returns, "crypto": cr.returns}, axis=1)
    r = win.slice(both).dropna()
    if len(r) < params["min_observations"]:
        return insufficient(ctx, ID, params, rule, [
            f"{len(r)} joint daily returns of the AI and crypto sides between {win.start.date()} and "
            f"{win.end.date()}, at least {params['min_observations']} needed"], caveats=tuple(caveats), **common)
    rf, rf_name, rf_notes = ctx.risk_free(panel.index, params["risk_free"])
    caveats += rf_notes
    rf_r = rf.reindex(r.index)
    if rf_r.isna().any():
        caveats.append(f"risk-free rate {rf_name} unknown on {int(rf_r.isna().sum())} days: zero used there")
        rf_r = rf_r.fillna(0.0)
    excess = r.sub(rf_r, axis=0)
    boot = block_bootstrap(excess.to_numpy(), sharpe_difference, reps=params["bootstrap_reps"], seed=params["seed"],
                           level=params["level"], kind=params["bootstrap"], block_length=params["block_length"],
                           batch=sharpe_differences)
    table = risk_table(r, periods_per_year=PERIODS_PER_YEAR, risk_free=rf_r, level=params["var_level"]).to_frame()
    stats: dict[str, object] = {"days": len(r), "risk_free": rf_name, "block_length": boot.block_length,
                                "bootstrap_se": boot.se}
    for side in ("ai", "crypto"):
        for col in ("sharpe", "sortino", "volatility", "max_drawdown", "cagr", "var", "cvar"):
            stats[f"{side}_{col}"] = float(table.at[side, col])
    stats["volatility_ratio_crypto_to_ai"] = float(table.at["crypto", "volatility"] / table.at["ai", "volatility"])
    evidence: dict[str, pd.DataFrame] = {"risk_table": table.reset_index().rename(columns={"symbol": "side"})}
    _vol_premium(params, both, win, stats, evidence, caveats)
    return verdict(
        ctx, ID, params, rule,
        verdict=decide_interval(boot.lo, boot.hi, supports="positive"),
        effect=Effect(boot.estimate, "annualised Sharpe ratio",
                      f"Sharpe ratio of the AI side minus the crypto side (daily excess returns over {rf_name})"),
        interval=boot.interval(), p_value=boot.p_value,
        caveats=tuple(dict.fromkeys(caveats)), statistics=stats, evidence=evidence, **common,
    )


def _vol_premium(params: Params, both: pd.DataFrame, win, stats: dict, evidence: dict, caveats: list) -> None:
    """Monthly realised-volatility ratio crypto/AI: first third vs last third, HAC test."""
    from rotation.analytics.comovement import newey_west_lags
    from rotation.analytics.macro import ols_hac

    start = params["vol_start"] if params["vol_start"] is not None else win.start
    r = both[(both.index > start) & (both.index <= win.end)].dropna()
    month = r.index.to_period("M")
    grouped = r.groupby(month)
    sd = grouped.std(ddof=1)
    n = grouped.size()
    sd = sd[n >= _MIN_MONTH_DAYS]
    sd = sd[(sd > 0).all(axis=1)]
    if len(sd) < 9:
        caveats.append(f"volatility-premium trend not computed: {len(sd)} months with {_MIN_MONTH_DAYS}+ joint "
                       "returns, at least 9 needed")
        return
    ann = sd * np.sqrt(PERIODS_PER_YEAR)
    ratio = np.log(ann["crypto"] / ann["ai"])
    k = len(ratio) // 3
    third = np.full(len(ratio), "middle", dtype=object)
    third[:k], third[-k:] = "first", "last"
    sel = third != "middle"
    yv = ratio.to_numpy()[sel]
    dummy = (third[sel] == "last").astype(float)
    res = ols_hac(yv, np.column_stack([np.ones(len(yv)), dummy]), newey_west_lags(len(yv)), 1.0 - params["level"])
    change, p = float(res["params"][1]), float(res["pvalues"][1])
    alpha = 1.0 - params["level"]
    stats["vol_ratio_first_third"] = float(np.exp(ratio.to_numpy()[:k].mean()))
    stats["vol_ratio_last_third"] = float(np.exp(ratio.to_numpy()[-k:].mean()))
    stats["vol_ratio_log_change"] = change
    stats["vol_ratio_change_p"] = p
    stats["vol_ratio_months"] = f"{ratio.index[0]}..{ratio.index[-1]} ({len(ratio)} months, {k} per third)"
    stats["vol_premium_shrank"] = ("yes" if change < 0 and p < alpha else
                                   "no: it grew" if change > 0 and p < alpha else "no significant change")
    dates = r.index.to_series().groupby(month).max().reindex(ratio.index)
    evidence["volatility_ratio"] = pd.DataFrame({
        "date": dates.to_numpy(), "ai_volatility": ann["ai"].to_numpy(), "crypto_volatility": ann["crypto"].to_numpy(),
        "ratio": np.exp(ratio.to_numpy()), "third": third,
    })
