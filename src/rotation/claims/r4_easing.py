"""R4: Fed easing and returning liquidity rotate money back to crypto.

Two legs, each an answer to half of the claim; the verdict combines them.

Event leg: easing decisions
---------------------------
An event study (:func:`rotation.analytics.events.event_study`) of the daily
returns of the crypto side, the AI side and their spread (crypto minus AI,
a *relative* CAR) around the easing decisions of the ``events`` file: the
events of ``easing_kinds`` (default fomc_cut, qt_taper, qt_end: rate cuts,
slower balance-sheet runoff, the end of runoff) dated inside the claim's
window (never after ``--as-of``; a CAR whose window runs past the data is
left out). An easing decision moves every market, so each is studied for both
sides whatever names its ``affects`` lists; decisions on the same session
(the October 2025 cut and the end of QT) are one event. The normal-return
``model`` defaults to the constant mean (``mean``) over ``estimation``
sessions ending ``gap`` sessions before day 0: a market model would subtract
the equity market's own reaction to the easing, which is part of what the
claim is about (the estimation window may start before the claim's window).
CARs are summed over the ``windows`` (default [0,+5], [0,+20], [0,+60]
sessions; FOMC statements come at 14:00 ET and crypto rows hold the prior
UTC close, so the crypto reaction shows on day +1, inside every window).

The statistic is the mean relative CAR over the ``primary`` window (default
[0,+20]) across events, tested with the Kolari-Pynnonen adjusted BMP test,
which allows for the overlap of the windows of consecutive decisions (with
a 60-session window, three cuts in three months share most of their days).

Liquidity leg: net liquidity leads crypto?
------------------------------------------
Net liquidity :math:`NL_t = \\text{WALCL} - \\text{TGA} - \\text{RRP}`
(:func:`rotation.analytics.macro.net_liquidity`, each series as published on
each date) sampled at the last row of each complete W-FRI week;
:math:`g_t = \\ln NL_t - \\ln NL_{t-1}`. The target :math:`y_t` is the weekly
crypto-minus-AI return (``liquidity_target = "relative"``, the default: a
rotation toward crypto, not a tide that lifts both) or the weekly crypto
return (``"crypto"``). Over the latest unbroken run of weeks inside the window
where both exist (net liquidity stops where its shortest component stops:
the shared data's TGA, WTREGEN, ends in mid-2024 and the verdict says so),

.. math:: y_t = a + \\sum_{j=1}^{p} \\phi_j y_{t-j} + \\sum_{j=1}^{p} \\gamma_j g_{t-j} + e_t,
          \\qquad p = \\texttt{granger\\_lags},

by OLS with Newey-West (HAC) errors (:func:`rotation.analytics.macro.ols_hac`).
The leg's statistic is the long-run effect :math:`\\Gamma = \\sum_j \\gamma_j`
with its HAC t-test: a Granger-type test of predictive content with a sign
(the classical Granger F-test has no direction, and weekly returns are
heteroskedastic). Reported, not part of the rule: the classical Granger
F-tests in both directions (:func:`rotation.analytics.comovement.granger_causality`),
the HAC Wald test of all :math:`\\gamma_j = 0`, and the cross-correlations of
:math:`g` with the crypto side, the AI side and their spread at lags
``-max_lag_weeks .. max_lag_weeks``
(:func:`rotation.analytics.comovement.cross_correlation`, Bartlett bands),
and the same tests for each basket of a side made of several baskets.

Decision rule
-------------
Each available leg is tested at :math:`\\alpha / m` (Bonferroni, :math:`m`
legs, :math:`\\alpha = 1 -` ``level``), so that the chance of a false
"supported" from either leg stays below :math:`\\alpha`:

* **supported**: at least one leg is significant in the claimed direction
  (relative CAR > 0; :math:`\\Gamma > 0`) and none against it;
* **contradicted**: at least one leg is significant against it and none for it;
* **inconclusive**: no leg significant, or the legs significant in opposite
  directions (a caveat says so);
* **insufficient data**: neither leg can be computed (fewer than
  ``min_events`` easing events with a complete primary CAR, and no net
  liquidity or fewer than ``min_weeks`` weeks); each missing leg is named.

The effect is that of the leg that decided (the event leg when both did or
when neither did): the mean relative CAR with its KP-widened interval, or
:math:`\\Gamma` with its HAC t interval (the verdict's window is then the
liquidity leg's weeks).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats as sps

from rotation.claims._common import format_rule, insufficient, path_frame, verdict
from rotation.claims._config import Param, Params
from rotation.claims._context import ClaimContext, ClaimWindow
from rotation.claims._stats import decide_p
from rotation.claims._verdict import Effect, Interval, Verdict
from rotation.claims.r12_institutional import (
    car_windows,
    events_file,
    merge_same_session,
    plain_frame,
    window_label,
)
from rotation.errors import DataError, ParameterError

__all__ = ["ID", "PARAMS", "RULE", "Leg", "combine_legs", "evaluate", "lagged_effect"]

ID = "R4"
_MODELS = ("mean", "market", "market_adjusted")
_SPREAD = "crypto - ai"

PARAMS: dict[str, Param] = {
    "easing_kinds": Param("list", ["fomc_cut", "qt_taper", "qt_end"], "event kinds that are easing decisions"),
    "events": Param("str", "default", "events file, relative to the claims file ('default': $ROTATION_EVENTS "
                                      "or the shipped one)"),
    "windows": Param("list", ["[0,+5]", "[0,+20]", "[0,+60]"], "CAR windows in sessions after day 0"),
    "primary": Param("str", "[0,+20]", "the CAR window that decides (one of windows)"),
    "model": Param("choice", "mean", "normal-return model of the event study", choices=_MODELS),
    "estimation": Param("int", 250, "sessions in the estimation window", low=20, high=2000),
    "gap": Param("int", 10, "sessions between the estimation window and day 0", low=0, high=250),
    "min_events": Param("int", 3, "fewest easing events with a complete primary CAR", low=2, high=10_000),
    "liquidity_target": Param("choice", "relative", "weekly returns net liquidity should lead",
                              choices=("relative", "crypto")),
    "granger_lags": Param("int", 4, "weekly lags of net-liquidity growth in the lead-lag regression", low=1,
                          high=26),
    "max_lag_weeks": Param("int", 8, "cross-correlation lags shown (weeks)", low=1, high=52),
}

RULE = (
    "supported when at least one of two legs, each tested at {alpha} / (number of legs computed), is significant "
    "and positive and none is significant and negative; contradicted when at least one is significant and "
    "negative and none positive; inconclusive otherwise. Event leg: the mean crypto-minus-AI cumulative abnormal "
    "return ({model} model) over {primary} sessions after the {easing_kinds} events of the events file "
    "(Kolari-Pynnonen test). Liquidity leg: the sum of the coefficients of {granger_lags} weekly lags of "
    "net-liquidity growth (WALCL - TGA - RRP) in a HAC regression of weekly {liquidity_target} returns (crypto "
    "minus AI for 'relative') on their own lags and those. Insufficient data when neither leg can be computed "
    "(fewer than {min_events} easing events, and no net liquidity or fewer than {min_weeks} weeks). Classical "
    "Granger tests, cross-correlations and the other windows ({windows}) are reported, not part of the rule."
)


# ----------------------------------------------------------------------------- legs
@dataclass(frozen=True)
class Leg:
    """One independent piece of evidence for a claim, tested in the claimed direction.

    Attributes
    ----------
    name : str
    estimate : float
        The leg's statistic.
    p_value : float
        Its two-sided p-value.
    supports : {"positive", "negative"}
        The sign of ``estimate`` the claim predicts.
    effect : Effect
    interval : Interval or None
    window : (Timestamp, Timestamp) or None
        The dates the leg was measured on, when narrower than the claim's window.
    """

    name: str
    estimate: float
    p_value: float
    supports: str
    effect: Effect
    interval: Interval | None = None
    window: tuple[pd.Timestamp, pd.Timestamp] | None = None


def combine_legs(legs: Sequence[Leg], alpha: float) -> tuple[str, Leg, float, list[str]]:
    """Verdict from independent legs, each tested at ``alpha / len(legs)`` (Bonferroni).

    Supported when at least one leg is significant in the claimed direction and
    none against it; contradicted in the mirror case; inconclusive otherwise
    (including legs significant in opposite directions).

    Returns
    -------
    (verdict, decisive, alpha_leg, notes)
        ``decisive`` is the leg whose effect the verdict reports: the first leg
        that decided, else the first leg. ``notes`` explains a conflict.

    Raises
    ------
    ParameterError
        No leg.
    """
    if not legs:
        raise ParameterError("legs", "at least one leg is needed")
    a = alpha / len(legs)
    calls = [decide_p(leg.estimate, leg.p_value, a, supports=leg.supports) for leg in legs]
    pro = [leg for leg, c in zip(legs, calls, strict=True) if c == "supported"]
    con = [leg for leg, c in zip(legs, calls, strict=True) if c == "contradicted"]
    notes: list[str] = []
    if pro and not con:
        return "supported", pro[0], a, notes
    if con and not pro:
        return "contradicted", con[0], a, notes
    if pro and con:
        notes.append(f"the legs disagree: {', '.join(x.name for x in pro)} significant in the claimed direction, "
                     f"{', '.join(x.name for x in con)} significant against it (each at p < {a:.4g})")
    return "inconclusive", legs[0], a, notes


def lagged_effect(y: np.ndarray, x: np.ndarray, lags: int, level: float) -> dict[str, float | int]:
    """Long-run effect of the lags of ``x`` on ``y`` in an autoregressive-distributed-lag model (HAC).

    .. math:: y_t = a + \\sum_{j=1}^{p} \\phi_j y_{t-j} + \\sum_{j=1}^{p} \\gamma_j x_{t-j} + e_t

    by OLS with Newey-West errors (:func:`rotation.analytics.macro.ols_hac`,
    lags :math:`\\lfloor 4(n/100)^{2/9}\\rfloor` of the ``n = len(y) - p``
    usable rows, t distribution).

    Parameters
    ----------
    y, x : ndarray (T,)
        Consecutive weekly observations, no NaN.
    lags : int
        ``p``.
    level : float
        Confidence level of the interval of :math:`\\Gamma`.

    Returns
    -------
    dict
        ``sum`` (:math:`\\Gamma = \\sum_j \\gamma_j`), ``se`` (HAC), ``t``, ``p``
        (two-sided), ``ci_low``, ``ci_high``, ``wald_f``, ``wald_p`` (HAC Wald F
        test of all :math:`\\gamma_j = 0`), ``n``, ``hac_lags``.

    Raises
    ------
    DataError
        Fewer than ``3 p + 10`` observations.
    """
    from rotation.analytics.comovement import newey_west_lags
    from rotation.analytics.macro import ols_hac

    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
    T = len(y)
    if T < 3 * lags + 10:
        raise DataError(f"lead-lag regression: {T} weeks, at least {3 * lags + 10} needed for {lags} lags")
    n = T - lags
    cols = [np.ones(n)] + [y[lags - j: T - j] for j in range(1, lags + 1)] + \
        [x[lags - j: T - j] for j in range(1, lags + 1)]
    X = np.column_stack(cols)
    hac = newey_west_lags(n)
    res = ols_hac(y[lags:], X, hac, 1.0 - level)
    L = np.zeros(X.shape[1])
    L[1 + lags:] = 1.0
    s = float(L @ res["params"])
    var = float(L @ res["cov"] @ L)
    se = math.sqrt(var) if var > 0 else math.nan
    df = res["df_resid"]
    t = s / se if se > 0 else math.nan
    p = float(2.0 * sps.t.sf(abs(t), df)) if math.isfinite(t) else math.nan
    q = float(sps.t.ppf(0.5 + level / 2.0, df))
    R = np.zeros((lags, X.shape[1]))
    R[:, 1 + lags:] = np.eye(lags)
    wald = res["result"].f_test(R)
    return {"sum": s, "se": se, "t": t, "p": p, "ci_low": s - q * se, "ci_high": s + q * se,
            "wald_f": float(np.squeeze(wald.fvalue)), "wald_p": float(wald.pvalue), "n": n, "hac_lags": hac}


# ----------------------------------------------------------------------------- the claim
def evaluate(ctx: ClaimContext, params: Params) -> Verdict:
    """Evaluate R4 (see the module docstring for the rule)."""
    rule = format_rule(RULE, params)
    windows, primary = car_windows(params)
    ai_names, cr_names = ctx.baskets(params, "ai"), ctx.baskets(params, "crypto")
    market = ctx.instruments(params, "market")[0]
    w = params["weighting"]
    indices = {n: ctx.basket(n, w) for n in [*ai_names, *cr_names]}
    ai, cr = ctx.side(ai_names, w, "ai"), ctx.side(cr_names, w, "crypto")
    win = ctx.window(params, indices)
    panel = ctx.daily
    members = ctx.members([*ai_names, *cr_names])
    caveats = ctx.caveats([*members, market], win, indices=list(indices.values()))
    common = {
        "window": (win.start, win.end),
        "baskets": (*ai_names, *cr_names),
        "instruments": tuple(m for m in [*members, market] if m in panel.prices.columns),
        "data": ctx.provenance([*members, market]),
    }
    stats: dict[str, object] = {}
    evidence: dict[str, pd.DataFrame] = {}
    missing: list[str] = []
    legs: list[Leg] = []

    event_leg = _event_leg(ctx, params, ai.returns, cr.returns, market, win, windows, primary, stats, evidence,
                           caveats)
    if isinstance(event_leg, Leg):
        legs.append(event_leg)
    else:
        missing.append(event_leg)
    levels = pd.DataFrame({"crypto": cr.level, "ai": ai.level})
    several = [n for names in (cr_names, ai_names) if len(names) > 1 for n in names]
    liq_leg = _liquidity_leg(ctx, params, levels, {n: indices[n].level for n in several}, win, stats, evidence,
                             caveats)
    if isinstance(liq_leg, Leg):
        legs.append(liq_leg)
    else:
        missing.append(liq_leg)
    if not legs:
        return insufficient(ctx, ID, params, rule, missing, caveats=tuple(dict.fromkeys(caveats)),
                            statistics=stats, evidence=evidence, **common)
    for m in missing:
        caveats.append(f"decided on one leg only: {m}")
    decision, decisive, a_leg, notes = combine_legs(legs, 1.0 - params["level"])
    caveats += notes
    stats["legs"] = ", ".join(leg.name for leg in legs)
    stats["alpha_per_leg"] = a_leg
    stats["decided_by"] = decisive.name if decision != "inconclusive" else "none"
    if decisive.window is not None:  # the effect shown was measured on the leg's own dates
        common["window"] = decisive.window
    return verdict(
        ctx, ID, params, rule, verdict=decision, effect=decisive.effect, interval=decisive.interval,
        p_value=decisive.p_value, caveats=tuple(dict.fromkeys(caveats)), statistics=stats, evidence=evidence,
        **common,
    )


def _event_leg(ctx: ClaimContext, params: Params, ai_ret: pd.Series, cr_ret: pd.Series, market: str,
               win: ClaimWindow, windows: list[tuple[int, int]], primary: tuple[int, int], stats: dict,
               evidence: dict, caveats: list) -> Leg | str:
    """The relative-CAR leg, or why it cannot be computed."""
    from rotation.analytics.events import event_study
    from rotation.events import ALL, EventSet

    panel = ctx.daily
    kinds = list(params["easing_kinds"])
    label = ", ".join(kinds)
    evs = events_file(params)
    absent = [k for k in kinds if k not in evs.kinds]
    if absent:
        caveats.append(f"no events of kind {', '.join(absent)} in the events file ({evs.path})")
    chosen = [replace(e, affects=(ALL,)) for e in evs
              if e.kind in kinds and win.start <= pd.Timestamp(e.date) <= win.end]
    stats["easing_events"] = len(chosen)
    if not chosen:
        return (f"no {label} events in the events file ({evs.path}) between {win.start.date()} and "
                f"{win.end.date()}; at least {params['min_events']} needed")
    if market not in panel.prices.columns or not panel.prices[market].notna().any():
        return f"market {market}: no prices, the event study cannot run"
    rets = pd.DataFrame({"crypto": cr_ret, "ai": ai_ret,
                         market: panel.returns[market]}).loc[: win.end]
    merged, merge_notes = merge_same_session(chosen, rets.index)
    caveats += merge_notes
    plabel = window_label(primary)
    try:
        es = event_study(rets, EventSet.from_events(merged, evs.path), market=market,
                         estimation=params["estimation"], gap=params["gap"], windows=windows,
                         model=params["model"], relative=[("crypto", "ai")], by="all", level=params["level"])
    except DataError as exc:
        return f"no usable abnormal return around the {len(merged)} {label} events: {exc}"
    summ = es.summary
    for x in summ.itertuples(index=False):
        tag = f"{'relative' if x.group == _SPREAD else x.group}_{x.window}"
        stats[f"car_{tag}"] = x.mean_car
        stats[f"p_kp_{tag}"] = x.p_kp
        stats[f"n_{tag}"] = int(x.n)
    cars = es.cars
    rel = cars[cars["series"] == _SPREAD]
    info = es.events[["event", "date", "label"]]
    evidence["relative_cars"] = plain_frame(rel.merge(info, on="event", how="left")[
        ["event", "date", "label", "kind", "series", "window", "car", "se", "p_single"]])
    try:
        evidence["relative_car_path"] = plain_frame(es.path(_SPREAD))
    except ParameterError:  # no pair complete over the whole path
        pass
    evidence["event_summary"] = plain_frame(summ)
    if len(es.excluded):
        ex = es.excluded
        items = [f"{e} {s} {wd} ({r})".replace("  ", " ") for e, s, wd, r in
                 zip(ex["event"].astype(str), ex["series"].astype(str), ex["window"].astype(str),
                     ex["reason"].astype(str), strict=True)]
        caveats.append("left out of the easing event study: " + "; ".join(items[:6])
                       + (f"; ... ({len(items)} in all)" if len(items) > 6 else ""))
    row = summ[(summ["group"] == _SPREAD) & (summ["window"] == plabel)]
    prim = rel[rel["window"] == plabel]
    n_events = int(prim["event"].nunique())
    stats["easing_events_used"] = ", ".join(map(str, dict.fromkeys(prim["event"].astype(str))))
    need = int(params["min_events"])
    if row.empty or n_events < need:
        return (f"{n_events} {label} events with a complete {plabel} relative CAR between {win.start.date()} and "
                f"{win.end.date()}, at least {need} needed")
    r = row.iloc[0]
    mean, p, lo, hi = float(r["mean_car"]), float(r["p_kp"]), float(r["ci_low"]), float(r["ci_high"])
    if not (math.isfinite(p) and math.isfinite(mean)):
        return (f"the Kolari-Pynnonen test is undefined for the {n_events} {plabel} relative CARs (average "
                f"correlation {r['rbar']:.3f})")
    stats["relative_car_rbar"] = float(r["rbar"])
    stats["relative_car_p_bmp"] = float(r["p_bmp"])
    caveats.append(f"{n_events} easing events: few independent observations; the KP test allows for their "
                   f"overlapping windows (average CAR correlation {r['rbar']:.2f})")
    return Leg(
        name="event", estimate=mean, p_value=p, supports="positive",
        effect=Effect(mean, "simple return",
                      f"mean crypto-minus-AI cumulative abnormal return over {plabel} sessions after {n_events} "
                      f"easing decisions ({label}; {params['model']} model)"),
        interval=Interval(lo, hi, params["level"],
                          f"cross-sectional t interval widened by the Kolari-Pynnonen factor (average CAR "
                          f"correlation {r['rbar']:.3f}), {int(r['n']) - 1} degrees of freedom"),
    )


def _liquidity_leg(ctx: ClaimContext, params: Params, levels: pd.DataFrame, baskets: dict[str, pd.Series],
                   win: ClaimWindow, stats: dict, evidence: dict, caveats: list) -> Leg | str:
    """The net-liquidity lead-lag leg, or why it cannot be computed.

    ``levels`` holds the ``crypto`` and ``ai`` side levels (daily); ``baskets``
    the levels of the baskets of sides with several baskets (lead-lag
    evidence per basket).
    """
    from rotation.analytics.comovement import cross_correlation, granger_causality
    from rotation.analytics.macro import TGA_SERIES, net_liquidity
    from rotation.analytics.rrg import to_weekly

    panel = ctx.daily
    wanted = ["WALCL", *TGA_SERIES, "RRPONTSYD"]
    try:
        macro = ctx.macro(wanted, panel.index)
        nl = net_liquidity(macro)
    except (DataError, ParameterError) as exc:
        return f"net liquidity (WALCL - TGA - RRPONTSYD) cannot be computed: {exc}"
    level = nl.level.loc[: win.end]
    known = level.dropna()
    if known.empty or known.index[-1] < win.start:
        return (f"net liquidity: no value between {win.start.date()} and {win.end.date()} "
                f"(known {_span(nl.level)})")
    nl_end = known.index[-1]
    if (win.end - nl_end).days > 14:
        comp = nl.components.loc[: win.end]
        short = {c: comp[c].last_valid_index() for c in comp.columns}
        first = min(short, key=lambda c: short[c] if short[c] is not None else pd.Timestamp.min)
        which = f"the {first.replace('_', ' ')} series"
        if first == "tga":
            used = nl.tga_series.loc[: win.end].dropna()
            which = f"the TGA series ({used.iloc[-1] if len(used) else 'none stored'})"
        caveats.append(f"net liquidity stops on {nl_end.date()}, where {which} stops: the liquidity leg covers "
                       f"weeks up to then only (the event leg runs to {win.end.date()})")
    frame = pd.concat([levels, level.rename("net_liquidity")], axis=1).loc[: win.end]
    weekly = to_weekly(frame)
    rets = weekly[["crypto", "ai"]] / weekly[["crypto", "ai"]].shift(1) - 1.0
    data = pd.DataFrame({
        "liquidity": np.log(weekly["net_liquidity"]).diff(),
        "crypto": rets["crypto"], "ai": rets["ai"], "relative": rets["crypto"] - rets["ai"],
    })
    data = data[data.index > win.start]
    data = _last_unbroken(data)
    target = "relative" if params["liquidity_target"] == "relative" else "crypto"
    lags = int(params["granger_lags"])
    if len(data) < max(int(params["min_weeks"]), 3 * lags + 10):
        return (f"{len(data)} weeks with net liquidity and both sides' returns between {win.start.date()} and "
                f"{min(win.end, nl_end).date()}, at least {max(int(params['min_weeks']), 3 * lags + 10)} needed")
    stats["liquidity_weeks"] = len(data)
    stats["liquidity_start"] = data.index[0]
    stats["liquidity_end"] = data.index[-1]
    level_ = params["level"]
    rows: list[dict] = []
    ccs: list[pd.DataFrame] = []

    def lead_lag(label: str, frame: pd.DataFrame) -> dict | str:
        """HAC lagged effect, Granger F-tests and cross-correlations of one target (``frame``: liquidity, y)."""
        y = frame.columns[1]
        try:
            le = lagged_effect(frame[y].to_numpy(), frame["liquidity"].to_numpy(), lags, level_)
            g = granger_causality(frame[y].rename(label), frame["liquidity"], lags)
        except DataError as exc:
            return str(exc)
        for rr in g.table.itertuples(index=False):
            rows.append({"target": label, "test": "Granger F", "cause": rr.cause, "effect": rr.effect,
                         "lag": rr.lag, "statistic": rr.f_stat, "p_value": rr.p_value})
        rows.append({"target": label, "test": "HAC sum of lags", "cause": "liquidity", "effect": label, "lag": lags,
                     "statistic": le["sum"], "p_value": le["p"]})
        rows.append({"target": label, "test": "HAC Wald", "cause": "liquidity", "effect": label, "lag": lags,
                     "statistic": le["wald_f"], "p_value": le["wald_p"]})
        tag = label.replace(" ", "_")
        stats[f"liquidity_sum_{tag}"] = le["sum"]
        stats[f"liquidity_p_{tag}"] = le["p"]
        stats[f"granger_p_{tag}"] = float(g.p_values("liquidity", label).loc[lags])
        stats[f"granger_reverse_p_{tag}"] = float(g.p_values(label, "liquidity").loc[lags])
        try:
            cc = cross_correlation(frame["liquidity"], frame[y].rename(label), int(params["max_lag_weeks"]),
                                   level=level_)
        except DataError:
            return le
        f = cc.to_frame()
        f.insert(0, "target", label)
        ccs.append(f)
        stats[f"cross_corr_peak_lag_{tag}"] = cc.peak_lag
        stats[f"cross_corr_lag0_{tag}"] = float(cc.correlation[cc.lags == 0][0])
        return le

    results: dict[str, dict] = {}
    for col in ("crypto", "ai", "relative"):
        out = lead_lag(col, data[["liquidity", col]])
        if isinstance(out, str):
            if col == target:
                return f"lead-lag of net liquidity and the weekly {col} returns not computed: {out}"
            caveats.append(f"lead-lag of net liquidity and the {col} side not computed: {out}")
            continue
        results[col] = out
    # each basket of a side made of several (evidence only), on its own unbroken weeks
    for name, lv in baskets.items():
        wk = to_weekly(lv.loc[: win.end])
        both = pd.DataFrame({"liquidity": data["liquidity"], name: (wk / wk.shift(1) - 1.0).reindex(data.index)})
        out = lead_lag(f"basket {name}", _last_unbroken(both))
        if isinstance(out, str):
            caveats.append(f"lead-lag of net liquidity and basket {name} not computed: {out}")
    path = path_frame({"net_liquidity": weekly["net_liquidity"], "crypto": weekly["crypto"], "ai": weekly["ai"]},
                      ClaimWindow(data.index[0], data.index[-1]))
    evidence["liquidity"] = path
    if ccs:
        evidence["cross_correlation"] = pd.concat(ccs, ignore_index=True)
    evidence["lead_lag_tests"] = pd.DataFrame(rows)
    caveats.append("cross-correlation lags: negative = net liquidity leads the returns, positive = the returns "
                   "lead; the Granger F-tests assume homoskedastic errors (the decision uses the HAC test)")
    le = results[target]
    if not (math.isfinite(le["p"]) and math.isfinite(le["sum"])):
        return f"the lead-lag regression of the weekly {target} returns is degenerate (no HAC standard error)"
    what = "crypto-minus-AI" if target == "relative" else "crypto-side"
    return Leg(
        name="liquidity", estimate=le["sum"], p_value=le["p"], supports="positive",
        effect=Effect(le["sum"], "weekly return per unit log growth",
                      f"sum of the coefficients of {lags} weekly lags of net-liquidity log growth in the "
                      f"regression of weekly {what} returns, {_span(data.index)}"),
        interval=Interval(le["ci_low"], le["ci_high"], level_,
                          f"OLS with Newey-West (HAC) standard errors, {le['hac_lags']} lags, t distribution, "
                          f"{le['n']} weeks"),
        window=(pd.Timestamp(data.index[0]), pd.Timestamp(data.index[-1])),
    )


def _last_unbroken(frame: pd.DataFrame) -> pd.DataFrame:
    """The latest run of consecutive rows with every value present."""
    ok = frame.notna().all(axis=1).to_numpy()
    if not ok.any():
        return frame.iloc[:0]
    end = len(ok) - 1 - int(np.argmax(ok[::-1]))
    start = end
    while start > 0 and ok[start - 1]:
        start -= 1
    return frame.iloc[start: end + 1]


def _span(index_or_series: pd.Index | pd.Series) -> str:
    idx = index_or_series.dropna().index if isinstance(index_or_series, pd.Series) else index_or_series
    if len(idx) == 0:
        return "never"
    return f"{pd.Timestamp(idx[0]).date()}..{pd.Timestamp(idx[-1]).date()}"
