"""R8: crypto miners re-rate as AI/HPC infrastructure.

If miners are becoming AI/HPC hosts, their returns should load less on crypto
and more on AI compute than they used to.

Decision rule
-------------
Weekly (complete W-FRI weeks) simple returns of the ``miners`` basket index
(:math:`y`), the crypto side (:math:`x_c`, the ``crypto`` baskets, default
crypto_majors) and the AI side (:math:`x_a`, the ``ai`` baskets, default
ai_compute for this claim) over the window (default from the start of 2023,
as the other claims: the first third, to early 2024, is the AI era before the
miners' first hosting deals; from 2021 the baseline would be the 2021-22
crypto and tech crash, when miners moved with both factors for reasons that
have nothing to do with hosting). The weeks are cut into ``parts`` equal
consecutive parts (default thirds); with :math:`M_t`, :math:`L_t` the
indicators of the middle parts and of the last part, one regression on every
week (so the Newey-West covariance sees the weeks in their real order)

.. math::

    y_t = a + b_c x_{c,t} + b_a x_{a,t}
        + \\sum_{P \\in \\{M, L\\}} P_t (d_P + g^P_c x_{c,t} + g^P_a x_{a,t}) + \\varepsilon_t

gives the first part's loadings :math:`(b_c, b_a)` and their changes in the
last part :math:`(g_c, g_a) = (g^L_c, g^L_a)` (with ``parts = 2`` there is no
middle). OLS with Newey-West (HAC) standard errors
(:func:`rotation.analytics.macro.ols_hac`, lags :math:`\\lfloor 4(n/100)^{2/9}\\rfloor`).
The effect is the **exposure shift** :math:`\\delta = g_a - g_c` (the rise of
the AI loading minus the rise of the crypto loading), with its HAC standard
error from the coefficient covariance and a t interval at ``level``.

* **supported**: :math:`\\delta` > 0 with its interval above 0, and the two
  changes point the claimed way (:math:`g_a > 0`, :math:`g_c < 0`);
* **contradicted**: :math:`\\delta` < 0 with its interval below 0 (exposure
  moved toward crypto and away from AI);
* **inconclusive**: otherwise (including a significant :math:`\\delta` whose
  components do not both point the claimed way, e.g. both loadings rose);
* **insufficient data**: no ``miners`` basket in the universe, fewer than
  ``min_weeks`` joint weeks, or fewer than 13 weeks in a part.

Evidence, not part of the rule: rolling ``rolling_weeks`` two-factor betas
(:func:`rotation.analytics.macro.rolling_macro_sensitivity`), each part's
loadings, and a market-model event study
(:func:`rotation.analytics.events.event_study`, daily returns, ``market``
as the market, 250-session estimation window, BMP and Kolari-Pynnonen
tests) of the miners around the events of ``event_kinds`` (default
``deal``: hosting, lease and colocation contracts with hyperscalers) in the
``events`` file (a path relative to the claims configuration file;
``"default"``: ``$ROTATION_EVENTS`` or the shipped file) that affect a miner or name the
miners basket, dated up to the window's end; CARs over [-1,+1] and [0,+5]
sessions.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats as sps

from rotation.claims._common import format_rule, insufficient, verdict
from rotation.claims._config import Param, Params
from rotation.claims._context import ClaimContext, ClaimWindow, weekly_returns
from rotation.claims._verdict import Effect, Interval, Verdict
from rotation.errors import DataError, ParameterError

__all__ = ["EVENT_WINDOWS", "ID", "PARAMS", "RULE", "evaluate", "optional_basket", "shift_regression"]

ID = "R8"
#: CAR windows of the deal-announcement event study (sessions relative to day 0).
EVENT_WINDOWS: tuple[tuple[int, int], ...] = ((-1, 1), (0, 5))
#: Fewest weeks in the first or last part.
_MIN_PART_WEEKS = 13

PARAMS: dict[str, Param] = {
    "miners": Param("str", "miners_ai_hosting", "basket of crypto miners"),
    "parts": Param("int", 3, "equal parts of the weeks; the first and last are compared", low=2, high=10),
    "rolling_weeks": Param("int", 52, "window of the rolling two-factor betas (weeks)", low=20, high=520),
    "events": Param("str", "default", "events file, relative to the claims file ('default': $ROTATION_EVENTS "
                                      "or the shipped one)"),
    "event_kinds": Param("list", ["deal"], "event kinds studied around the miners"),
}

RULE = (
    "supported when, in a weekly regression of {miners} returns on the {crypto} and {ai} returns with separate "
    "loadings in each of {parts} consecutive parts of the window (Newey-West HAC errors), the rise of the AI "
    "loading minus the rise of the crypto loading from the first to the last part is > 0 with its {level:.0%} "
    "interval above 0 and the AI loading rose while the crypto loading fell; contradicted when that shift is < 0 "
    "with its interval below 0; inconclusive otherwise; insufficient data without the {miners} basket or with "
    "fewer than {min_weeks} joint weeks. Rolling betas and abnormal returns around {event_kinds} announcements "
    "of the miners are reported, not part of the rule."
)


def optional_basket(ctx: ClaimContext, params: Params, key: str) -> tuple[str | None, str | None]:
    """The basket named by ``key``, or (None, why) when a built-in default names a basket the universe lacks.

    A basket the user set explicitly in the configuration must exist (ConfigError
    at its line, as for every basket key); the built-in default (e.g.
    ``miners_ai_hosting``) may be absent from a user's own universe, and the
    claim then says so instead of failing the whole ledger.
    """
    name = params[key]
    if name in ctx.universe.baskets:
        return name, None
    if key in params.origins:
        ctx.baskets(params, key)  # raises the ConfigError naming file, line and key
    return None, (f"the universe has no basket '{name}' (built-in default of '{key}'; set "
                  f"claims.{params.claim_id}.{key} in the claims configuration)")


def shift_regression(y: np.ndarray, xc: np.ndarray, xa: np.ndarray, parts: int, level: float) -> dict[str, object]:
    """Loadings per part and the first-to-last change, by one interacted HAC regression.

    Parameters
    ----------
    y, xc, xa : ndarray (n,)
        Weekly returns of the miners, the crypto factor and the AI factor (no NaN).
    parts : int
        Equal consecutive parts (the last ``n % parts`` weeks join the last part).
    level : float
        Confidence level of the intervals.

    Returns
    -------
    dict
        ``first`` and ``last`` (``(b_c, b_a)`` loadings of the first and last
        part), ``g_c``, ``g_a`` (changes), their ``se``/``p``, ``delta``
        (:math:`g_a - g_c`), ``delta_se``, ``delta_p``, ``delta_ci``, ``hac_lags``,
        ``n``, ``bounds`` (row positions of the parts), ``result`` (``ols_hac``'s dict).
    """
    from rotation.analytics.comovement import newey_west_lags
    from rotation.analytics.macro import ols_hac

    n = len(y)
    size = n // parts
    part = np.minimum(np.arange(n) // size, parts - 1)
    cols = [np.ones(n), xc, xa]
    for j in range(1, parts):
        d = (part == j).astype(float)
        cols += [d, d * xc, d * xa]
    X = np.column_stack(cols)
    lags = newey_west_lags(n)
    res = ols_hac(y, X, lags, 1.0 - level)
    b, cov = res["params"], res["cov"]
    k = 3 + 3 * (parts - 2)  # first column of the last part's block (its intercept shift)
    ic, ia = k + 1, k + 2
    L = np.zeros(len(b))
    L[ia], L[ic] = 1.0, -1.0
    delta = float(L @ b)
    var = float(L @ cov @ L)
    se = math.sqrt(var) if var > 0 else math.nan
    df = res["df_resid"]
    t = delta / se if se > 0 else math.nan
    pval = float(2.0 * sps.t.sf(abs(t), df)) if math.isfinite(t) else math.nan
    q = float(sps.t.ppf(0.5 + level / 2.0, df))
    bounds = [(int(np.flatnonzero(part == j)[0]), int(np.flatnonzero(part == j)[-1])) for j in range(parts)]
    return {
        "first": (float(b[1]), float(b[2])),
        "last": (float(b[1] + b[ic]), float(b[2] + b[ia])),
        "g_c": float(b[ic]), "g_a": float(b[ia]),
        "g_c_se": float(res["bse"][ic]), "g_a_se": float(res["bse"][ia]),
        "g_c_p": float(res["pvalues"][ic]), "g_a_p": float(res["pvalues"][ia]),
        "first_se": (float(res["bse"][1]), float(res["bse"][2])),
        "delta": delta, "delta_se": se, "delta_p": pval, "delta_ci": (delta - q * se, delta + q * se),
        "hac_lags": lags, "n": n, "bounds": bounds, "result": res,
    }


def evaluate(ctx: ClaimContext, params: Params) -> Verdict:
    """Evaluate R8 (see the module docstring for the rule)."""
    from rotation.analytics.macro import rolling_macro_sensitivity

    rule = format_rule(RULE, params)
    panel = ctx.daily
    ai_names, cr_names = ctx.baskets(params, "ai"), ctx.baskets(params, "crypto")
    miners, why = optional_basket(ctx, params, "miners")
    if miners is None:
        raise DataError(f"a basket of crypto miners is needed: {why}")
    w = params["weighting"]
    indices = {n: ctx.basket(n, w) for n in [miners, *cr_names, *ai_names]}
    ai, cr = ctx.side(ai_names, w, "ai"), ctx.side(cr_names, w, "crypto")
    mi = indices[miners]
    win = ctx.window(params, indices)
    miner_syms = list(ctx.universe.basket(miners).members)
    members = ctx.members([miners, *cr_names, *ai_names])
    caveats = ctx.caveats(members, win, indices=list(indices.values()))
    common = {
        "window": (win.start, win.end),
        "baskets": (miners, *cr_names, *ai_names),
        "instruments": tuple(m for m in members if m in panel.prices.columns),
        "data": ctx.provenance(members),
    }
    levels = pd.DataFrame({"miners": mi.level, "crypto": cr.level, "ai": ai.level}).loc[: win.end]
    weekly = win.slice(weekly_returns(levels)).dropna()
    parts = int(params["parts"])
    need = max(params["min_weeks"], parts * _MIN_PART_WEEKS)
    if len(weekly) < need:
        return insufficient(ctx, ID, params, rule, [
            f"{len(weekly)} joint weeks of {miners}, crypto and AI returns between {win.start.date()} and "
            f"{win.end.date()}, at least {need} needed ({parts} parts of {_MIN_PART_WEEKS}+ weeks)"],
            caveats=tuple(caveats), **common)
    reg = shift_regression(weekly["miners"].to_numpy(), weekly["crypto"].to_numpy(), weekly["ai"].to_numpy(),
                           parts, params["level"])
    dates = weekly.index
    (f0, f1), (l0, l1) = reg["bounds"][0], reg["bounds"][-1]
    stats: dict[str, object] = {
        "weeks": reg["n"], "hac_lags": reg["hac_lags"],
        "first_part": f"{dates[f0].date()}..{dates[f1].date()}", "last_part": f"{dates[l0].date()}..{dates[l1].date()}",
        "beta_crypto_first": reg["first"][0], "beta_ai_first": reg["first"][1],
        "beta_crypto_last": reg["last"][0], "beta_ai_last": reg["last"][1],
        "change_crypto": reg["g_c"], "change_crypto_p": reg["g_c_p"],
        "change_ai": reg["g_a"], "change_ai_p": reg["g_a_p"],
        "shift_se": reg["delta_se"],
        "factor_correlation": float(np.corrcoef(weekly["crypto"], weekly["ai"])[0, 1]),
    }
    lo, hi = reg["delta_ci"]
    if lo > 0 and reg["g_a"] > 0 and reg["g_c"] < 0:
        decision = "supported"
    elif hi < 0:
        decision = "contradicted"
    else:
        decision = "inconclusive"
        if lo > 0:
            caveats.append(f"the exposure shifted toward AI (shift > 0, interval above 0) but the AI loading "
                           f"changed by {reg['g_a']:+.2f} and the crypto loading by {reg['g_c']:+.2f}: not both "
                           "the claimed way")
    # evidence order = chart order in the report: the rolling betas, the deal CARs, then the tables
    roll = rolling_macro_sensitivity(weekly[["miners"]], weekly[["crypto", "ai"]], window=params["rolling_weeks"])
    evidence: dict[str, pd.DataFrame] = {"rolling_betas": pd.DataFrame({
        "beta_crypto": roll.beta("crypto")["miners"], "beta_ai": roll.beta("ai")["miners"],
    }).dropna().rename_axis("date").reset_index()}
    _deals(ctx, params, miners, miner_syms, win, stats, evidence, caveats)
    evidence["loadings"] = _loadings_table(reg, dates, params["level"])
    return verdict(
        ctx, ID, params, rule,
        verdict=decision,
        effect=Effect(reg["delta"], "change in weekly loading",
                      f"change of the miners' AI loading minus change of their crypto loading, first to last of "
                      f"{parts} parts of the window"),
        interval=Interval(lo, hi, params["level"],
                          f"OLS with Newey-West (HAC) standard errors, {reg['hac_lags']} lags, t distribution "
                          "(linear combination of the interaction coefficients)"),
        p_value=reg["delta_p"], caveats=tuple(dict.fromkeys(caveats)), statistics=stats, evidence=evidence,
        **common,
    )


def _loadings_table(reg: dict, dates: pd.DatetimeIndex, level: float) -> pd.DataFrame:
    res = reg["result"]
    first = [(dates[reg["bounds"][0][0]], dates[reg["bounds"][0][1]])]
    last = [(dates[reg["bounds"][-1][0]], dates[reg["bounds"][-1][1]])]
    k = len(res["params"]) - 3
    rows = []
    for part, (s, e), (ic, ia) in (("first", first[0], (1, 2)), ("last", last[0], (k + 1, k + 2))):
        for factor, j, val in (("crypto", ic, reg["first"][0] if part == "first" else reg["last"][0]),
                               ("ai", ia, reg["first"][1] if part == "first" else reg["last"][1])):
            rows.append({"part": part, "start": s, "end": e, "factor": factor, "loading": val,
                         "coef": float(res["params"][j]), "se": float(res["bse"][j]), "p": float(res["pvalues"][j]),
                         "level": level})
    out = pd.DataFrame(rows)
    # the last part's coef/se/p are those of the change (interaction), the loading is first + change
    out["term"] = np.where(out["part"] == "first", "loading", "change from first part")
    return out


def _deals(ctx: ClaimContext, params: Params, miners: str, miner_syms: list[str], win: ClaimWindow,
           stats: dict, evidence: dict, caveats: list) -> None:
    """Market-model CARs of the miners around the deal announcements in the events file (evidence only)."""
    from rotation.analytics.events import event_study
    from rotation.events import EventSet, load_events

    panel = ctx.daily
    market = params["market"]
    path = None if params["events"] == "default" else Path(params["events"])
    if path is not None and not path.is_absolute():  # relative to the claims configuration file
        path = params.config.path.parent / path
    evs = load_events(path)
    kinds = list(params["event_kinds"])
    names = {miners, *miner_syms}
    chosen = [e for e in evs if e.kind in kinds and (names & set(e.affects))
              and pd.Timestamp(e.date) <= win.end]
    label = ", ".join(kinds)
    stats["deal_events"] = len(chosen)
    if not chosen:
        caveats.append(f"no {label} announcements of the {miners} members in the events file "
                       f"({evs.path}) up to {win.end.date()}: no abnormal returns reported")
        return
    have = [s for s in miner_syms if s in panel.prices.columns]
    if market not in panel.prices.columns or not have:
        caveats.append(f"deal event study not run: no prices for {market if not have else 'the miners'}")
        return
    px = panel.prices[[*have, market]].loc[: win.end]
    rets = px.pct_change(fill_method=None)
    try:
        es = event_study(rets, EventSet.from_events(chosen, evs.path), market=market, windows=EVENT_WINDOWS,
                         groups={miners: have}, by="all", level=params["level"])
    except (DataError, ParameterError) as exc:
        caveats.append(f"deal event study not run: {exc}")
        return
    summ = es.summary
    for r in summ.itertuples(index=False):
        tag = r.window.replace("[", "").replace("]", "").replace(",", "_").replace("+", "p").replace("-", "m")
        stats[f"deal_car_{tag}"] = float(r.mean_car)
        stats[f"deal_car_{tag}_n"] = int(r.n)
        stats[f"deal_car_{tag}_p_bmp"] = None if not np.isfinite(r.p_bmp) else float(r.p_bmp)
        stats[f"deal_car_{tag}_p_single"] = None if not np.isfinite(r.p_single) else float(r.p_single)
    evidence["deal_cars"] = es.cars.merge(es.events[["event", "date", "label"]], on="event", how="left")
    evidence["deal_summary"] = summ
    if len(es.excluded):
        ex = es.excluded
        items = [f"{e} {s}{' ' + w if w else ''} ({r})"
                 for e, s, w, r in zip(ex["event"], ex["series"], ex["window"], ex["reason"], strict=True)]
        caveats.append("deal event study left out: " + "; ".join(items[:6])
                       + (f"; ... ({len(items)} in all)" if len(items) > 6 else ""))
    caveats.append(f"deal announcements: {len(chosen)} {label} events of the {miners} members "
                   f"({', '.join(e.id for e in chosen)}); few events, each a single company's CAR: read as "
                   "anecdotes, not a test")
