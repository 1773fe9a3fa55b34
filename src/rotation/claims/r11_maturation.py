"""R11: institutional maturation changed crypto's behaviour.

If spot ETFs brought institutional money, crypto should have become calmer
(lower volatility) and more like other risk assets held by the same
investors (higher correlation with equities) after they launched.

Decision rule
-------------
Around the first of ``break_dates`` (default 2024-01-11, the first trading
day of the spot bitcoin ETFs), the ``side_weeks`` weeks before the date
(``< date``) are compared with the ``side_weeks`` weeks from it on
(``>= date``), inside the claim's window (never after ``--as-of``, and not
past the end of the crypto baskets' data). Two legs
(:mod:`rotation.analytics.breaks`):

* **volatility**: daily returns of the crypto side index (the ``crypto``
  baskets; NYSE sessions, a Monday holds the weekend), before vs after
  (:func:`~rotation.analytics.breaks.volatility_break`). The statistic is the
  change in annualised volatility (x sqrt(252)), tested by the HAC regression
  of the squared deviations on an after-dummy (robust to volatility
  clustering); the claim predicts a *fall*.
* **correlation**: weekly (complete W-FRI weeks) returns of the crypto side
  and the ``market`` instrument (SPY), before vs after
  (:func:`~rotation.analytics.breaks.correlation_break`). Weekly, because a
  daily crypto row holds the UTC close before the US open (asynchronous
  prices understate a daily correlation several-fold). The statistic is the
  change in Pearson correlation, tested by a moving-block bootstrap of the
  Fisher-z difference (each side resampled, ``bootstrap_reps`` draws, seed
  ``seed``, blocks of ``block_length`` weeks; ``"auto"``: the cube root of
  the shorter side); the claim predicts a *rise*.

Each leg is tested at :math:`\\alpha / 2` (Bonferroni, :math:`\\alpha = 1 -`
``level``; :func:`rotation.claims.r4_easing.combine_legs`):

* **supported**: volatility fell or correlation rose significantly, and
  neither moved significantly the other way;
* **contradicted**: volatility rose or correlation fell significantly, and
  neither moved significantly the claimed way;
* **inconclusive**: neither significant, or the two significant in
  opposite directions (a caveat says so);
* **insufficient data**: fewer than ``min_side_weeks`` weeks on a side (e.g.
  ``--as-of`` shortly after the date), or no crypto or market data.

The effect is the deciding leg's change (the volatility leg when both or
neither decide). Reported, not part of the rule: the classical F,
Brown-Forsythe and Fisher tests, a HAC Chow test of the weekly market beta,
the same tests at the other ``break_dates`` (default 2024-07-23, spot ether
ETFs), rolling ``rolling_weeks`` volatility and correlation, and the change
points of the weekly crypto returns in the compared weeks
(:func:`~rotation.analytics.breaks.change_points`, mean and variance, BIC,
segments of at least ``min_segment_weeks``): does a data-driven segmentation
put a break near the date?

A break at a date is a before/after comparison: anything else that changed
then (the 2022 crypto crash lies in the default "before" side, the 2024-25
rally in the "after" side) is attributed to the date.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from rotation.claims._common import format_rule, insufficient, verdict
from rotation.claims._config import Param, Params
from rotation.claims._context import ClaimContext, ClaimWindow
from rotation.claims._verdict import Effect, Interval, Verdict
from rotation.claims.r4_easing import Leg, combine_legs
from rotation.errors import DataError

__all__ = ["ID", "PARAMS", "RULE", "break_dates", "evaluate"]

ID = "R11"
#: Daily rows are NYSE sessions.
_SESSIONS_PER_YEAR = 252.0

PARAMS: dict[str, Param] = {
    "break_dates": Param("list", ["2024-01-11", "2024-07-23"], "break dates (YYYY-MM-DD); the first decides"),
    "side_weeks": Param("int", 104, "weeks compared on each side of a break date", low=8, high=1040),
    "min_side_weeks": Param("int", 26, "fewest weeks on a side", low=5, high=1040),
    "rolling_weeks": Param("int", 26, "rolling volatility and correlation window (weeks)", low=5, high=520),
    "min_segment_weeks": Param("int", 26, "shortest change-point segment (weeks)", low=4, high=520),
}

RULE = (
    "supported when, comparing the {side_weeks} weeks before and from the first of {break_dates}, the crypto "
    "side's daily volatility fell (HAC test of squared deviations) or its weekly correlation with {market} rose "
    "(block-bootstrap test of the Fisher-z change) significantly, each at {alpha} / 2, and neither moved "
    "significantly the other way; contradicted when volatility rose or correlation fell significantly and neither "
    "moved the claimed way; inconclusive otherwise; insufficient data with fewer than {min_side_weeks} weeks on a "
    "side. Classical tests, a Chow test of the market beta, the other dates, rolling measures and change points "
    "are reported, not part of the rule."
)


def break_dates(params: Params) -> list[pd.Timestamp]:
    """The ``break_dates`` as Timestamps (ConfigError at the key's line for a bad or repeated date)."""
    out = []
    for text in params["break_dates"]:
        try:
            out.append(pd.Timestamp(date.fromisoformat(str(text).strip())))
        except ValueError:
            raise params.fail("break_dates", f"'{text}' is not a date (YYYY-MM-DD)") from None
    return out


def _side_weeks(weekly: pd.Index, when: pd.Timestamp) -> tuple[int, int]:
    return int((weekly < when).sum()), int((weekly >= when).sum())


def evaluate(ctx: ClaimContext, params: Params) -> Verdict:
    """Evaluate R11 (see the module docstring for the rule)."""
    from rotation.analytics.breaks import chow_test, correlation_break, volatility_break
    from rotation.analytics.rrg import to_weekly

    rule = format_rule(RULE, params)
    dates = break_dates(params)
    if params["min_side_weeks"] > params["side_weeks"]:
        raise params.fail("min_side_weeks", f"{params['min_side_weeks']} is more than side_weeks "
                                            f"({params['side_weeks']})")
    cr_names = ctx.baskets(params, "crypto")
    market = ctx.instruments(params, "market")[0]
    w = params["weighting"]
    indices = {n: ctx.basket(n, w) for n in cr_names}
    cr = ctx.side(cr_names, w, "crypto")
    win = ctx.window(params, indices)
    panel = ctx.daily
    members = ctx.members(cr_names)
    if market not in panel.prices.columns or not panel.prices[market].notna().any():
        raise DataError(f"market {market}: no prices stored")
    side = pd.Timedelta(weeks=int(params["side_weeks"]))
    daily = win.slice(cr.returns).dropna().rename("crypto")
    levels = pd.DataFrame({"crypto": cr.level, market: panel.prices[market]}).loc[: win.end]
    wk = to_weekly(levels)
    weekly = win.slice(wk / wk.shift(1) - 1.0).dropna()

    def around(when: pd.Timestamp) -> tuple[pd.Series, pd.DataFrame]:
        lo, hi = when - side, when + side
        d = daily[(daily.index >= lo) & (daily.index < hi)]
        k = weekly[(weekly.index >= lo) & (weekly.index < hi)]
        return d, k

    bd = dates[0]
    d0, w0 = around(bd)
    nb, na = _side_weeks(w0.index, bd)
    # the verdict's window is the span compared around the deciding date, and so are its caveats
    span = ClaimWindow(max(win.start, bd - side), min(win.end, bd + side - pd.Timedelta(days=1)), list(win.notes))
    if len(w0):
        span = ClaimWindow(min(w0.index[0], d0.index[0]) if len(d0) else w0.index[0],
                           max(w0.index[-1], d0.index[-1]) if len(d0) else w0.index[-1], list(win.notes))
    caveats = ctx.caveats([*members, market], span, indices=list(indices.values()))
    common = {
        "window": (span.start, span.end),
        "baskets": tuple(cr_names),
        "instruments": tuple(m for m in [*members, market] if m in panel.prices.columns),
        "data": ctx.provenance([*members, market]),
    }
    need = int(params["min_side_weeks"])
    if nb < need or na < need:
        return insufficient(ctx, ID, params, rule, [
            f"{nb} weeks before and {na} weeks from {bd.date()} of crypto and {market} returns between "
            f"{win.start.date()} and {win.end.date()}; at least {need} on each side needed"],
            caveats=tuple(dict.fromkeys(caveats)), **common)
    level = params["level"]
    block = None if params["block_length"] == "auto" else int(params["block_length"])

    def boot(before: int, after: int) -> dict:
        # a configured block longer than a side is cut to that side (the bootstrap needs one block per side)
        b = None if block is None else max(1, min(block, before, after))
        if b is not None and b < block:
            caveats.append(f"bootstrap blocks cut from {block} to {b} weeks (the shorter side)")
        return {"n_boot": int(params["bootstrap_reps"]), "block_length": b, "seed": int(params["seed"]),
                "level": level}

    vb = volatility_break(d0, bd, periods_per_year=_SESSIONS_PER_YEAR)
    cb = correlation_break(w0["crypto"], w0[market], bd, **boot(nb, na))
    chow = chow_test(w0["crypto"], bd, w0[[market]])
    dvol = float(vb.ann_vol_after - vb.ann_vol_before)
    legs = [
        Leg(name="volatility", estimate=dvol, p_value=float(vb.p_value_hac), supports="negative",
            effect=Effect(dvol, "annualised volatility",
                          f"crypto side's annualised daily volatility from {bd.date()} minus before it "
                          f"({vb.n_before} and {vb.n_after} sessions)")),
        Leg(name="correlation", estimate=float(cb.diff), p_value=float(cb.p_value_boot), supports="positive",
            effect=Effect(float(cb.diff), "correlation",
                          f"weekly correlation of the crypto side with {market} from {bd.date()} minus before it "
                          f"({cb.n_before} and {cb.n_after} weeks)"),
            interval=Interval(float(cb.ci_low), float(cb.ci_high), level,
                              f"moving-block bootstrap percentile interval, {cb.n_boot} draws per side, blocks of "
                              f"{cb.block_length} weeks, seed {params['seed']}")),
    ]
    for leg in [x for x in legs if not (np.isfinite(x.p_value) and np.isfinite(x.estimate))]:
        caveats.append(f"the {leg.name} test is undefined here (no robust standard error): left out")
        legs.remove(leg)
    if not legs:
        return insufficient(ctx, ID, params, rule, [
            f"neither the volatility nor the correlation test is defined around {bd.date()} (degenerate data)"],
            caveats=tuple(dict.fromkeys(caveats)), **common)
    decision, decisive, a_leg, notes = combine_legs(legs, 1.0 - level)
    caveats += notes
    stats: dict[str, object] = {
        "break_date": bd, "weeks_before": nb, "weeks_after": na,
        "sessions_before": vb.n_before, "sessions_after": vb.n_after,
        "vol_before": vb.ann_vol_before, "vol_after": vb.ann_vol_after, "vol_ratio": vb.ratio,
        "vol_p_hac": vb.p_value_hac, "vol_p_levene": vb.p_value_levene, "vol_p_f": vb.p_value_f,
        "corr_before": cb.corr_before, "corr_after": cb.corr_after,
        "corr_p_boot": cb.p_value_boot, "corr_p_hac": cb.p_value_hac, "corr_p_fisher": cb.p_value_fisher,
        "beta_before": float(chow.coef_before.iloc[-1]), "beta_after": float(chow.coef_after.iloc[-1]),
        "chow_p_hac": chow.p_value_hac,
        "alpha_per_leg": a_leg, "decided_by": decisive.name if decision != "inconclusive" else "none",
    }
    tests = [_test_rows(bd, vb, cb, chow, market)]
    for other in dates[1:]:
        d1, w1 = around(other)
        try:
            tests.append(_test_rows(other, volatility_break(d1, other, periods_per_year=_SESSIONS_PER_YEAR),
                                    correlation_break(w1["crypto"], w1[market], other,
                                                      **boot(*_side_weeks(w1.index, other))),
                                    chow_test(w1["crypto"], other, w1[[market]]), market))
        except DataError as exc:
            caveats.append(f"break tests at {other.date()} not computed: {exc}")
    evidence: dict[str, pd.DataFrame] = {}
    evidence["rolling"] = _rolling(weekly, market, int(params["rolling_weeks"]))
    evidence["break_tests"] = pd.concat(tests, ignore_index=True)
    seg = _segments(w0["crypto"], int(params["min_segment_weeks"]), bd, stats, caveats)
    if seg is not None:
        evidence["segments"] = seg
    if (bd - side) < w0.index[0] - pd.Timedelta(days=7) or (bd + side) > w0.index[-1] + pd.Timedelta(days=14):
        caveats.append(f"compared {w0.index[0].date()}..{w0.index[-1].date()}: fewer than {params['side_weeks']} "
                       f"weeks on a side ({nb} before, {na} after), where the data or the window stop")
    caveats.append("a before/after comparison attributes to the date everything else that changed then "
                   "(market regime, the 2022 crash, the 2024-25 rally)")
    return verdict(
        ctx, ID, params, rule, verdict=decision, effect=decisive.effect, interval=decisive.interval,
        p_value=decisive.p_value, caveats=tuple(dict.fromkeys(caveats)), statistics=stats, evidence=evidence,
        **common,
    )


def _test_rows(when: pd.Timestamp, vb, cb, chow, market: str) -> pd.DataFrame:
    """One row per measure at one date: before, after, change, robust and classical p-values."""
    return pd.DataFrame([
        {"break_date": when, "measure": "volatility (annualised, daily)", "before": vb.ann_vol_before,
         "after": vb.ann_vol_after, "change": vb.ann_vol_after - vb.ann_vol_before, "p_robust": vb.p_value_hac,
         "robust_test": "HAC regression of squared deviations", "p_classical": vb.p_value_f,
         "n_before": vb.n_before, "n_after": vb.n_after},
        {"break_date": when, "measure": f"correlation with {market} (weekly)", "before": cb.corr_before,
         "after": cb.corr_after, "change": cb.diff, "p_robust": cb.p_value_boot,
         "robust_test": "moving-block bootstrap", "p_classical": cb.p_value_fisher,
         "n_before": cb.n_before, "n_after": cb.n_after},
        {"break_date": when, "measure": f"beta on {market} (weekly)", "before": float(chow.coef_before.iloc[-1]),
         "after": float(chow.coef_after.iloc[-1]),
         "change": float(chow.coef_after.iloc[-1] - chow.coef_before.iloc[-1]), "p_robust": chow.p_value_hac,
         "robust_test": "HAC Chow (Wald) test", "p_classical": chow.p_value,
         "n_before": chow.n_before, "n_after": chow.n_after},
    ])


def _rolling(weekly: pd.DataFrame, market: str, window: int) -> pd.DataFrame:
    """Rolling annualised weekly volatility of crypto and its rolling correlation with the market."""
    from rotation.analytics.comovement import rolling_correlation
    from rotation.analytics.risk import rolling_volatility

    vol = rolling_volatility(weekly["crypto"], window, periods_per_year=52.0)
    corr = rolling_correlation(weekly["crypto"], weekly[market], window)
    out = pd.DataFrame({"crypto_volatility": vol, f"correlation_with_{market}": corr}).dropna(how="all")
    out.index.name = "date"
    return out.reset_index()


def _segments(y: pd.Series, min_size: int, when: pd.Timestamp, stats: dict, caveats: list) -> pd.DataFrame | None:
    """Change points of the weekly crypto returns (mean and variance, BIC) over the compared weeks."""
    from rotation.analytics.breaks import change_points

    try:
        cp = change_points(y, model="normal", min_size=min_size, periods_per_year=52.0)
    except DataError as exc:
        caveats.append(f"change points not computed: {exc}")
        return None
    stats["change_points"] = ", ".join(str(b.date()) for b in cp.breaks) or "none"
    if len(cp.breaks):
        gaps = np.abs((cp.breaks - when).days)
        stats["nearest_change_point"] = cp.breaks[int(np.argmin(gaps))]
        stats["nearest_change_point_days"] = int(np.min(gaps))
    seg = cp.segments.copy()
    return seg.reset_index(drop=True)
