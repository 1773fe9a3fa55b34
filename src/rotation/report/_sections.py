"""The report's sections: each builder calls :mod:`rotation.analytics` and lays out the results.

One function per section, ``build_<name>(ctx) -> Section``. Every number shown
comes from an analytics function (or the claims ledger); the builders only pick,
order and format. Each part of a section runs inside :func:`part`, so missing
data (a series not stored, too short a history, no market caps before the
as-of date) turns into a visible "not available: <reason>" notice for that part
and the rest of the report is still written. A malformed user file (claims
configuration, events file) is not missing data: it aborts the run with the
file and line (``ConfigError``).
"""

from __future__ import annotations

import html
import platform
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from rotation.errors import ConfigError, DataError, RotationError
from rotation.report import _figures as F
from rotation.report._context import ReportContext
from rotation.report._model import Figure, Section, Table, fmt_table

__all__ = [
    "build_comovement",
    "build_concentration",
    "build_events",
    "build_headline",
    "build_macro",
    "build_performance",
    "build_provenance",
    "build_rotation",
    "build_rrg",
    "build_stress",
    "part",
]

#: Weeks in the rolling correlation windows.
ROLLING_WEEKS = 52
#: Largest lead/lag (weeks) of the cross-correlation and Granger tests.
MAX_LAG_WEEKS = 8
GRANGER_LAGS = 4
#: Shortest regime segment of the change-point search (weeks: a quarter).
MIN_SEGMENT_WEEKS = 13
#: Shocks of the stress scenario (returns of the first AI basket).
SHOCKS = (-0.10, -0.15)
#: Event-study groups drawn per event kind (the table lists all).
MAX_EVENT_GROUPS = 8


@contextmanager
def part(section: Section, what: str) -> Iterator[None]:
    """Run one part of a section; on missing data record a "not available" notice instead of failing.

    ``ConfigError`` (a bad user file) propagates. Other ``RotationError`` and
    ``ImportError`` (an optional module absent) become a notice with the
    message; any other exception is an internal error, shown as such (so it is
    reported, not hidden) while the rest of the report is still written.
    """
    try:
        yield
    except ConfigError:
        raise
    except (RotationError, ImportError) as exc:
        section.unavailable(what, exc)
    except Exception as exc:  # noqa: BLE001 - one broken chart must not lose the whole report
        section.unavailable(what, f"internal error ({type(exc).__name__}: {exc}); please report it", internal=True)


def _day(ts: object) -> str:
    return "-" if ts is None or pd.isna(ts) else pd.Timestamp(ts).strftime("%Y-%m-%d")


def _palette(ctx: ReportContext, names: list[str]) -> dict[str, str]:
    return F.colours(ctx.universe, names)


def _weekly_returns(levels: pd.DataFrame | pd.Series) -> pd.DataFrame | pd.Series:
    """Simple returns between complete W-FRI weeks (:func:`rotation.analytics.rrg.to_weekly`)."""
    from rotation.analytics.returns import simple_returns
    from rotation.analytics.rrg import to_weekly

    return simple_returns(to_weekly(levels))


# ============================================================================ 2. RRG
def build_rrg(ctx: ReportContext) -> Section:
    """Relative rotation graph of every basket (and, by dropdown, of each basket's members) vs the benchmark."""
    from rotation.analytics.rrg import rrg

    p = ctx.r1
    sec = Section("rrg", "Relative rotation", intro=(
        f"Weekly relative rotation graph against {ctx.benchmark}: RS-Ratio (x) is the trailing "
        f"{p['rrg_ratio_window']}-week z-score of the log relative strength, RS-Momentum (y) the trailing "
        f"{p['rrg_momentum_window']}-week z-score of its weekly change, both centred on 100 and computed from "
        f"past weeks only. Tails show the last {p['rrg_tail']} weeks (large dot = latest). Rotations run "
        "clockwise: improving, leading, weakening, lagging. Use the menu to switch to a basket's members."))
    with part(sec, "Relative rotation graph"):
        kw = dict(ratio_window=p["rrg_ratio_window"], momentum_window=p["rrg_momentum_window"])
        res = rrg(ctx.levels, ctx.bench_level, **kw)
        ctx.results["rrg"] = res
        views = {"Baskets": res.tails(p["rrg_tail"])}
        names = list(ctx.levels.columns)
        palette = _palette(ctx, names)
        skipped = []
        for b in names:
            members = [m for m in ctx.universe.basket(b).members if m in ctx.panel.prices.columns]
            prices = ctx.cut_observed(ctx.panel.prices[members]).loc[: ctx.common_end]
            prices = prices.loc[:, prices.notna().any()]
            if prices.empty:
                continue
            try:
                mres = rrg(prices, ctx.bench_level, **kw)
            except DataError as exc:
                skipped.append(f"{b} members: {exc}")
                continue
            tails = mres.tails(p["rrg_tail"])
            if len(tails):
                views[f"Members of {b}"] = tails
                palette.update({m: c for m, c in zip(tails["series"].unique(), F.PALETTE["other"] * 4, strict=False)})
        sec.figures.append(Figure("fig-rrg", F.rrg_figure(views, f"Relative rotation vs {ctx.benchmark} (weekly)",
                                                          palette=palette),
                                  caption="Shaded quadrants: leading (green), weakening (yellow), lagging (red), "
                                          "improving (blue)."))
        latest = res.to_frame()
        latest = latest[["date", "rs_ratio", "rs_momentum", "quadrant", "heading", "distance"]].rename(columns={
            "rs_ratio": "RS-Ratio", "rs_momentum": "RS-Momentum", "heading": "heading (deg)",
            "distance": "distance"})
        sec.tables.append(Table(fmt_table(latest, {"RS-Ratio": "num", "RS-Momentum": "num", "heading (deg)": "int",
                                                   "distance": "num"}),
                                note="Heading: direction of the last weekly move (0-90 degrees = towards leading). "
                                     "Distance from (100, 100) in standard deviations."))
        sec.notes += skipped
        members_without = [m for m in ctx.universe.members(*names) if m not in ctx.panel.prices.columns]
        if members_without:
            sec.notes.append(f"no prices stored for {', '.join(members_without)}: not in their baskets' views")
    return sec


# ============================================================================ 3. rotation
def _rotation_levels(ctx: ReportContext) -> tuple[pd.DataFrame, str, list[str]]:
    """Weekly levels of the two sides for the rotation index: market-cap growth, else basket indices."""
    from rotation.analytics.flows import basket_caps
    from rotation.analytics.rrg import to_weekly

    ai, cr, ai_names, cr_names = ctx.sides()
    notes: list[str] = []
    caps = ctx.cut_observed(ctx.panel.market_caps).loc[: ctx.common_end]
    groups = {"AI side": [m for m in ctx.universe.members(*ai_names) if m in caps.columns],
              "crypto side": [m for m in ctx.universe.members(*cr_names) if m in caps.columns]}
    p = ctx.r1
    need = p["ri_window"] + p["ri_smooth"] + 2
    if all(groups.values()):
        bc = basket_caps(caps, groups)
        weekly = to_weekly(bc.growth_index)
        if int(weekly.notna().all(axis=1).sum()) > need:
            lacking = [m for g in groups.values() for m in g if not caps[m].notna().any()]
            if lacking:
                notes.append(f"no market cap for {', '.join(lacking)}: the market-cap growth covers the members "
                             "with caps")
            return weekly, "market cap", notes
        notes.append("too few weeks on which both sides have market caps"
                     + (f" on or before {ctx.data_end.date()}" if ctx.data_end is not None else "")
                     + ": the rotation index uses the basket indices (prices)")
    else:
        notes.append("no market-cap column for one side: the rotation index uses the basket indices (prices)")
    return to_weekly(pd.DataFrame({"AI side": ai.level, "crypto side": cr.level})), "basket index", notes


def build_rotation(ctx: ReportContext) -> Section:
    """Rotation index (AI side vs crypto side) with regimes and change points; market-cap shares."""
    from rotation.analytics.flows import basket_caps, market_cap_share, rotation_index
    from rotation.analytics.rrg import to_weekly

    p = ctx.r1
    sec = Section("rotation", "Rotation index, regimes and market-cap shares")
    with part(sec, "Rotation index"):
        _, _, ai_names, cr_names = ctx.sides()
        weekly, basis, notes = _rotation_levels(ctx)
        sec.notes += notes
        sec.intro = (
            f"Rotation index = {p['ri_window']}-week log growth of the AI side ({', '.join(ai_names)}) minus that "
            f"of the crypto side ({', '.join(cr_names)}), {basis} basis, EMA span {p['ri_smooth']} weeks "
            "(rotation.analytics.flows.rotation_index). Positive: the AI side grew faster. Regimes: a 2-state "
            "Markov-switching model of the weekly AI-minus-crypto log growth (rotation.analytics.regimes); shading "
            "marks the weeks whose most likely state (smoothed: uses the whole window) is the higher-mean one. "
            "Dashed lines: change points in mean and variance of the same weekly series "
            "(rotation.analytics.breaks.change_points, BIC penalty).")
        a, b = weekly["AI side"], weekly["crypto side"]
        ri = rotation_index(a, b, window=p["ri_window"], smooth=p["ri_smooth"], trend_window=p["ri_trend_window"],
                            periods_per_year=52.0, alpha=1.0 - p["level"])
        ctx.results["rotation_index"] = ri
        ctx.results["rotation_basis"] = basis
        # the weekly relative log growth: a rotation index over one week, unsmoothed
        flow = rotation_index(a, b, window=1, smooth=1, trend_window=2, periods_per_year=52.0).raw
        flow = ctx.display(flow.dropna()).rename("AI minus crypto, weekly log growth")
        fig = F.lines(ctx.display(pd.DataFrame({"rotation index": ri.index})),
                      f"Rotation index: AI side minus crypto side ({p['ri_window']}-week log growth, {basis})",
                      palette={"rotation index": "#1f4e9c"}, zero=True, width=2.0, hovermode="x")
        rx, ry = F.xy(ctx.display(ri.raw))
        fig.add_trace(go.Scatter(x=rx, y=ry, name="unsmoothed", mode="lines",
                                 line=dict(color="#93b4e6", width=1)))
        regime_part(ctx, sec, flow, fig)
        sec.figures.insert(0, Figure("fig-rotation-index", fig, caption=(
            "Shaded: weeks in the higher-mean (AI-favouring) regime; dashed: change points.")))
        idx, d = ri.index.dropna(), ri.drift
        if ctx.start is not None:  # the drift summarises the report window, not the warm-up before it
            d = rotation_index(ctx.display(a), ctx.display(b), window=p["ri_window"], smooth=p["ri_smooth"],
                               trend_window=p["ri_trend_window"], periods_per_year=52.0,
                               alpha=1.0 - p["level"]).drift
        trend = ri.trend.dropna()
        rows = [("latest week", _day(idx.index[-1])),
                ("rotation index (log points)", f"{idx.iloc[-1]:+.3f}"),
                (f"trend ({ri.trend_window}-week slope, per week)", f"{trend.iloc[-1]:+.4f}" if len(trend) else "-"),
                ("weeks with the AI side ahead", f"{(idx > 0).mean():.0%}"),
                ("sign changes", str(len(ri.crossings)))]
        if len(ri.crossings):
            last = ri.crossings.iloc[-1]
            rows.append(("last sign change", f"{_day(last['date'])} "
                                             f"({'towards AI' if last['direction'] == 'up' else 'towards crypto'})"))
        if d:
            rows += [("drift, a year (AI minus crypto growth)",
                      f"{d['annualised']:+.1%} [{d['ann_ci_low']:+.1%}, {d['ann_ci_high']:+.1%}], p {d['p']:.3f}"),
                     ("drift window", f"{_day(d['start'])} to {_day(d['end'])} ({d['n']} weeks, "
                                      f"{d['hac_lags']} HAC lags)")]
        head = pd.DataFrame(rows, columns=["measure", "value"]).set_index("measure")
        sec.tables.append(Table(fmt_table(head), title="Rotation index",
                                note=f"Drift: mean weekly AI-minus-crypto log growth over the window, annualised, "
                                     f"with its {1 - ri_alpha(ctx):.0%} Newey-West (HAC) interval."))

    with part(sec, "Market-cap shares"):
        _, _, ai_names, cr_names = ctx.sides()
        names = ai_names + cr_names
        caps = ctx.cut_observed(ctx.panel.market_caps).loc[: ctx.common_end]
        groups = {n: [m for m in ctx.universe.basket(n).members if m in caps.columns] for n in names}
        groups = {n: ms for n, ms in groups.items() if ms}
        if not groups:
            raise DataError("no basket member has a market-cap column")
        bc = basket_caps(caps, groups)
        with_caps = [n for n in bc.caps.columns if bc.caps[n].notna().any()]
        lacking = [n for n in names if n not in with_caps]
        if len(with_caps) < 2:
            raise DataError("fewer than two baskets have market caps"
                            + (f" on or before {ctx.data_end.date()}" if ctx.data_end is not None else ""))
        share = market_cap_share(bc.caps[with_caps])
        shares = ctx.display(to_weekly(share.shares)).dropna(how="all")
        ctx.results["cap_share"] = share
        sec.figures.append(Figure("fig-cap-shares", F.stacked_shares(
            shares, "Share of the combined market cap (weekly; dates where every basket has a cap)",
            palette=_palette(ctx, with_caps)), caption=(
            "Members with a market cap only. Equity caps before the stored snapshot are back-cast at constant "
            "share counts (price x latest share count): an approximation that ignores buybacks and issuance.")))
        frame = share.to_frame()[["first_date", "last_date", "share_first", "share_last", "change_pp"]]
        frame.columns = ["from", "to", "share then", "share now", "change (pp)"]
        sec.tables.append(Table(fmt_table(frame, {"share then": "pct0", "share now": "pct0", "change (pp)": "num"},
                                          signed=["change (pp)"]), title="Market-cap shares"))
        if lacking:
            sec.notes.append(f"no market caps for {', '.join(lacking)}: left out of the shares")
    return sec


def ri_alpha(ctx: ReportContext) -> float:
    return 1.0 - float(ctx.r1["level"])


def regime_part(ctx: ReportContext, sec: Section, flow: pd.Series, fig: go.Figure) -> None:
    """Fit regimes and change points on ``flow``; shade ``fig``; add the probability chart and tables."""
    with part(sec, "Regimes"):
        from rotation.analytics.regimes import regimes

        res = regimes(flow, k=2, order_by="mean", periods_per_year=52.0)
        ctx.results["regimes"] = res
        table = res.to_frame()
        hi = int(table["mean"].idxmax())
        ctx.results["regime_labels"] = labels = _regime_labels(table)
        spells = res.spells("smoothed")
        # one layout update for all bands: add_vrect copies the whole layout on every call
        bands = [dict(type="rect", xref="x", yref="paper", y0=0, y1=1, x0=r.start - pd.Timedelta(days=3.5),
                      x1=r.end + pd.Timedelta(days=3.5), fillcolor="#d1fae5", opacity=0.55, line_width=0,
                      layer="below") for r in spells[spells["state"] == hi].itertuples()]
        fig.update_layout(shapes=[*fig.layout.shapes, *bands])
        prob = pd.DataFrame({f"filtered P({labels[hi]})": res.filtered[hi],
                             f"smoothed P({labels[hi]})": res.smoothed[hi]})
        sec.figures.append(Figure("fig-regime-probability", F.lines(
            prob, f"Probability of the '{labels[hi]}' regime (weekly)", yformat=".0%",
            palette={prob.columns[0]: "#1f4e9c", prob.columns[1]: "#9ca3af"}, hovermode="x"), height=320,
            caption="Filtered: uses weeks up to each date (parameters from the whole window); smoothed: uses "
                    "the whole window, for describing history only."))
        t = table[["ann_mean", "ann_volatility", "expected_duration", "p_stay", "share_smoothed", "filtered_now"]]
        t.insert(0, "regime", [labels[i] for i in t.index])
        t.columns = ["regime", "mean (a year)", "volatility (a year)", "expected duration (weeks)", "P(stay)",
                     "share of weeks", "P(now), filtered"]
        sec.tables.append(Table(fmt_table(t, {"mean (a year)": "pct", "volatility (a year)": "pct0",
                                              "expected duration (weeks)": "num", "P(stay)": "pct0",
                                              "share of weeks": "pct0", "P(now), filtered": "pct0"},
                                          signed=["mean (a year)"]),
                                title=f"Regimes of the weekly AI-minus-crypto log growth, {_day(res.start)} to "
                                      f"{_day(res.end)} ({res.nobs} weeks)",
                                note="Standard errors assume Gaussian states; fat tails make them indicative. "
                                     + " ".join(res.notes)))
    with part(sec, "Change points"):
        from rotation.analytics.breaks import change_points

        cp = change_points(flow, model="normal", min_size=MIN_SEGMENT_WEEKS, periods_per_year=52.0)
        ctx.results["change_points"] = cp
        lines = [dict(type="line", xref="x", yref="paper", y0=0, y1=1, x0=d, x1=d,
                      line=dict(color="#6b7280", width=1.2, dash="dash")) for d in cp.breaks]
        fig.update_layout(shapes=[*fig.layout.shapes, *lines])
        seg = cp.to_frame()[["break_date", "start", "end", "n", "ann_mean", "ann_volatility"]]
        seg.columns = ["change point", "from", "to", "weeks", "mean (a year)", "volatility (a year)"]
        seg.index = pd.RangeIndex(1, len(seg) + 1, name="segment")
        sec.tables.append(Table(fmt_table(seg, {"mean (a year)": "pct", "volatility (a year)": "pct0"},
                                          signed=["mean (a year)"]),
                                title=f"Change points (mean and variance; at least {MIN_SEGMENT_WEEKS} weeks apart)"))


def _regime_labels(table: pd.DataFrame) -> dict[int, str]:
    """Plain names of the states from their mean (sign) and volatility (rank)."""
    vol_rank = table["ann_volatility"].rank(method="first")
    out = {}
    for j, r in table.iterrows():
        side = "AI ahead" if r["mean"] > 0 else "crypto ahead" if r["mean"] < 0 else "no lead"
        mood = "calm" if vol_rank[j] == 1 else "turbulent" if vol_rank[j] == len(table) else "middling"
        out[int(j)] = f"{side}, {mood}"
    return out


# ============================================================================ 4. performance
def build_performance(ctx: ReportContext) -> Section:
    """Basket indices, trailing returns and the risk table over the common window (existing logic kept)."""
    from rotation.analytics.rrg import to_weekly

    sec = Section("performance", "Performance and risk")
    with part(sec, "Basket performance"):
        perf = ctx.perf
        win = perf.window
        names = list(perf.levels.columns)
        palette = _palette(ctx, names)
        sec.intro = (
            f"Over the common window {win.start.date()} to {win.end.date()} (the last date on which every basket "
            "still has observed prices for at least half its members; later rows of feeds that run longer are left "
            "out so that flat, forward-filled prices do not distort the comparison). Annualised over NYSE sessions "
            "(crypto sampled at the last UTC close before the US close); CVaR is the mean of the worst 5% of daily "
            "returns.")
        sec.figures.append(Figure("fig-levels", F.lines(
            to_weekly(perf.levels), f"Basket indices, base 100 on {win.start.date()} (log scale, weekly closes)",
            palette=palette, log=True)))
        trailing = perf.trailing.loc[names]
        fig = go.Figure()
        for col, colour in (("4w", "#93b4e6"), ("13w", "#3b7dd8"), ("52w", "#1f4e9c")):
            fig.add_trace(go.Bar(x=names, y=trailing[col].to_numpy(), name=col, marker_color=colour))
        fig.update_layout(**F.layout("Trailing returns by basket", yaxis_tickformat=".0%", barmode="group",
                                     hovermode="closest"))
        sec.figures.append(Figure("fig-trailing", fig))
        shown = ["4w", "13w", "52w", "ytd", "total_return", "cagr", "volatility", "max_drawdown", "sharpe", "sortino",
                 "cvar", "window_end"]
        risk = perf.to_frame()
        risk = risk.reindex([n for n in names if n in risk.index])[[c for c in shown if c in risk.columns]]
        risk.index.name = "basket"
        pct = {"4w", "13w", "52w", "ytd", "total_return", "cagr", "max_drawdown", "cvar"}
        kinds = {c: "pct" for c in pct} | {"volatility": "pct0", "sharpe": "num", "sortino": "num"}
        labels = {"ytd": "YTD", "total_return": "total return", "cagr": "CAGR", "max_drawdown": "max drawdown",
                  "sharpe": "Sharpe", "sortino": "Sortino", "cvar": "CVaR 95%", "window_end": "window end"}
        risk = risk.rename(columns=labels)
        kinds = {labels.get(k, k): v for k, v in kinds.items()}
        signed = [labels.get(c, c) for c in sorted(pct - {"max_drawdown", "cvar"})]
        sec.tables.append(Table(fmt_table(risk, kinds, signed=signed), note="; ".join(perf.notes)))
    return sec


# ============================================================================ 5. co-movement
def build_comovement(ctx: ReportContext) -> Section:
    """Rolling correlations, residual (market-neutral) correlation and lead-lag of the two sides."""
    from rotation.analytics.comovement import (
        cross_correlation,
        granger_causality,
        residual_correlation,
        rolling_correlation,
        rolling_residual_correlation,
    )

    sec = Section("comovement", "Co-movement", intro=(
        f"Weekly returns. Rolling windows of {ROLLING_WEEKS} weeks use past weeks only. The residual correlation "
        f"removes the common equity-market factor ({ctx.benchmark}) from both sides first (a partial "
        "correlation): a siphon (money leaving one for the other) shows as a negative residual correlation, a "
        "common risk-on tide as a positive raw correlation that vanishes once the market is removed."))
    wr = bench = None
    with part(sec, "Rolling correlations"):
        wr = _weekly_returns(ctx.levels)
        bench = _weekly_returns(ctx.bench_level)
        rc = rolling_correlation(wr, bench, ROLLING_WEEKS)
        sec.figures.append(Figure("fig-rolling-corr", F.lines(
            ctx.display(rc), f"{ROLLING_WEEKS}-week correlation of each basket with {ctx.benchmark}",
            palette=_palette(ctx, list(rc.columns)), zero=True, yaxis_range=[-1, 1])))
    with part(sec, "Residual correlation of the AI and crypto sides"):
        ai, cr, ai_names, cr_names = ctx.sides()
        wa = _weekly_returns(ai.level).rename("AI side")
        wc = _weekly_returns(cr.level).rename("crypto side")
        wb = _weekly_returns(ctx.bench_level)
        roll = rolling_residual_correlation(wa, wc, wb, ROLLING_WEEKS)
        frame = ctx.display(roll[["raw_correlation", "residual_correlation"]]).rename(columns={
            "raw_correlation": "raw correlation", "residual_correlation": f"residual (net of {ctx.benchmark})"})
        sec.figures.append(Figure("fig-residual-corr", F.lines(
            frame, f"AI side vs crypto side: {ROLLING_WEEKS}-week correlation, raw and net of the market",
            palette={frame.columns[0]: "#9ca3af", frame.columns[1]: "#c2410c"}, zero=True, yaxis_range=[-1, 1])))
        full = residual_correlation(wa, wc, wb, level=ctx.r1["level"], start=ctx.start)
        ctx.results["residual_correlation"] = full
        t = full.to_frame()[["residual_correlation", "ci_low", "ci_high", "p_value_hac", "raw_correlation",
                             "beta_a", "beta_b", "n", "start", "end"]]
        t.columns = ["residual correlation", "CI low", "CI high", "p (HAC)", "raw correlation",
                     f"AI beta to {ctx.benchmark}", f"crypto beta to {ctx.benchmark}", "weeks", "from", "to"]
        t.index = pd.Index(["AI side vs crypto side"], name="pair")
        sec.tables.append(Table(fmt_table(t, {"residual correlation": "num3", "CI low": "num3", "CI high": "num3",
                                              "p (HAC)": "p", "raw correlation": "num3"}),
                                title="Full-window residual correlation",
                                note=f"{full.level:.0%} interval: Fisher z with a Newey-West standard error "
                                     f"({full.hac_lags} lags). AI side: {', '.join(ai_names)}; crypto side: "
                                     f"{', '.join(cr_names)}."))
        ll = cross_correlation(ctx.display(wa), ctx.display(wc), MAX_LAG_WEEKS, level=ctx.r1["level"])
        ctx.results["lead_lag"] = ll
        lf = ll.to_frame()
        fig = go.Figure()
        fig.add_trace(go.Bar(x=lf["lag"], y=lf["correlation"], name="cross-correlation",
                             marker_color=np.where(lf["significant"], "#c2410c", "#9ca3af")))
        fig.add_trace(go.Scatter(x=lf["lag"], y=lf["upper"], mode="lines", name=f"{ll.level:.0%} band",
                                 line=dict(color="#1f4e9c", dash="dash", width=1)))
        fig.add_trace(go.Scatter(x=lf["lag"], y=lf["lower"], mode="lines", showlegend=False,
                                 line=dict(color="#1f4e9c", dash="dash", width=1)))
        fig.update_layout(**F.layout(
            "Lead-lag: corr(AI side at week t+k, crypto side at week t)", hovermode="closest", height=360,
            xaxis_title="k (weeks): k > 0 crypto leads, k < 0 AI leads"))
        sec.figures.append(Figure("fig-lead-lag", fig, height=360, caption=(
            f"Bars outside the dashed band (Bartlett, autocorrelation-adjusted) are significant at "
            f"{1 - ll.level:.0%} one lag at a time (orange); {ll.n} weeks, {_day(ll.start)} to {_day(ll.end)}.")))
        g = granger_causality(ctx.display(wa).dropna(), ctx.display(wc).dropna(), GRANGER_LAGS)
        gt = g.table.pivot_table(index="lag", columns=["cause"], values="p_value")
        gt.columns = [f"p: {c} lags help predict the other" for c in gt.columns]
        sec.tables.append(Table(fmt_table(gt, {c: "p" for c in gt.columns}), title="Granger causality (F tests)",
                                note=f"{g.n} weeks, {_day(g.start)} to {_day(g.end)}. A small p-value: the lagged "
                                     "returns of the cause improve the forecast of the other side."))
    return sec


# ============================================================================ 6. macro
def build_macro(ctx: ReportContext) -> Section:
    """HAC sensitivities of weekly basket returns to rates and the dollar; net liquidity against each basket."""
    from rotation.analytics.macro import macro_factors, macro_sensitivity, net_liquidity
    from rotation.analytics.rrg import to_weekly

    sec = Section("macro", "Macro: rates, dollar and liquidity", intro=(
        "Weekly OLS of each basket's return on the weekly changes of the 2-year yield and the 10-year real yield "
        "(per percentage point) and the broad dollar index (per unit return), with Newey-West (HAC) "
        "intervals; macro values are those published by each week's end (release lags applied). Net liquidity "
        "= Fed total assets - Treasury General Account - overnight reverse repo."))
    wr = None
    with part(sec, "Macro sensitivities"):
        macro = ctx.macro
        wmacro = to_weekly(macro)
        wr = ctx.display(_weekly_returns(ctx.levels))
        rates = [r for r in ("DGS2", "DFII10") if r in wmacro.columns and wmacro[r].notna().any()]
        usd = next((u for u in ("DTWEXBGS", "DXY") if u in wmacro.columns and wmacro[u].notna().any()), None)
        missing = [r for r in ("DGS2", "DFII10") if r not in rates] + ([] if usd else ["DTWEXBGS or DXY"])
        if not rates and usd is None:
            raise DataError(f"macro series not stored: {', '.join(missing)} (rotation fetch --provider fred)")
        if missing:
            sec.notes.append(f"not stored: {', '.join(missing)}; regressions use the others")
        factors = macro_factors(wmacro, rates=rates, usd=usd)
        sens = macro_sensitivity(wr, factors, alpha=1.0 - ctx.r1["level"])
        ctx.results["macro_sensitivity"] = sens
        tidy = sens.to_frame()
        labels = {"d_DGS2": "2y yield (per pp)", "d_DFII10": "10y real yield (per pp)",
                  "r_USD": f"dollar {usd} (per unit)"}
        panels = [(t, labels.get(t, t)) for t in factors.columns if t in set(tidy["term"])]
        sec.figures.append(Figure("fig-macro-sensitivity", F.forest(
            tidy, f"Weekly return per unit factor change, {1 - sens.alpha:.0%} HAC intervals",
            panels=panels, palette=_palette(ctx, list(sens.coef.index)), height=60 + 44 * len(sens.coef.index)),
            height=60 + 44 * len(sens.coef.index)))
        t = tidy[tidy["term"] != "const"][["series", "term", "coef", "ci_low", "ci_high", "p", "r2", "nobs", "start",
                                           "end"]].set_index("series")
        t["term"] = t["term"].map(lambda x: labels.get(x, x))
        t.columns = ["factor", "beta", "CI low", "CI high", "p", "R2", "weeks", "from", "to"]
        t.index.name = "basket"
        sec.tables.append(Table(fmt_table(t, {"beta": "num3", "CI low": "num3", "CI high": "num3", "p": "p",
                                              "R2": "num"}, signed=["beta"]),
                                title="Sensitivities", scroll=True, note=" ".join(sens.notes)))
    with part(sec, "Net liquidity"):
        nl = net_liquidity(ctx.macro)
        ctx.results["net_liquidity"] = nl
        level = ctx.display(nl.level.dropna())
        if level.empty:
            raise DataError("no net-liquidity value in the report window")
        from rotation.analytics.performance import rebase

        lv = ctx.display(ctx.levels).dropna(how="all", axis=1)
        level = level.loc[lv.first_valid_index():]
        lv = rebase(lv.loc[level.index[0]:], level.index[0])
        names = list(lv.columns)
        palette = _palette(ctx, names)
        fig = go.Figure()
        nx, ny = F.xy(to_weekly(level) / 1e12)
        fig.add_trace(go.Scatter(x=nx, y=ny, name="net liquidity (USD tn)",
                                 mode="lines", yaxis="y2", line=dict(color="#111827", width=2.4)))
        wlv = to_weekly(lv)
        for col in names:
            bx, by = F.xy(wlv[col])
            fig.add_trace(go.Scatter(x=bx, y=by, name=col, mode="lines", line=dict(color=palette[col], width=1.4)))
        buttons = [dict(label="all baskets", method="update", args=[{"visible": [True] * (len(names) + 1)}])]
        for j, col in enumerate(names):
            buttons.append(dict(label=col, method="update",
                                args=[{"visible": [True] + [k == j for k in range(len(names))]}]))
        fig.update_layout(**F.layout("Net liquidity (right axis, USD tn) and basket indices (left, base 100, log)",
                                     yaxis_type="log", height=480, margin=dict(t=92, r=64),
                                     updatemenus=[F.menu(buttons)],
                                     yaxis2=dict(overlaying="y", side="right", showgrid=False, title="USD tn",
                                                 type="linear", tickmode="auto", nticks=8, tickformat=",.2f")))
        ends = nl.components.apply(lambda c: c.last_valid_index())
        stop = level.index[-1]
        cap = f"Weekly closes. Net liquidity runs {_day(level.index[0])} to {_day(stop)}."
        panel_end = ctx.common_end
        if (panel_end - stop).days > 21:
            first = ends.idxmin()
            symbols = {"fed_assets": ["WALCL"], "reverse_repo": ["RRPONTSYD"]}.get(
                first, sorted(set(nl.tga_series.dropna().astype(str))))
            names = {"fed_assets": "Fed total assets", "reverse_repo": "the reverse repo"}.get(
                first, "the Treasury General Account")
            what = f"{names} ({'/'.join(symbols)})"
            cov = ctx.store.coverage()
            stored = cov.loc[(cov["table"] == "macro") & cov["symbol"].isin(symbols), "last"]
            last_ts = stored.max() if len(stored) else ends[first]
            if ctx.data_end is not None:
                last_ts = min(pd.Timestamp(last_ts), ctx.data_end)
            last = _day(last_ts)
            cap += (f" It ends there because {what} is stored only until {last} (a value is used until it is "
                    f"superseded or stale); the baskets run to {_day(panel_end)}.")
            sec.notes.append(f"net liquidity ends {_day(stop)}: {what} is stored only until {last}")
        sec.figures.append(Figure("fig-net-liquidity", fig, caption=cap + " Use the menu to show one basket."))
        if wr is not None:
            with part(sec, "Sensitivity to net liquidity"):
                wnl = to_weekly(nl.level)
                f2 = macro_factors(pd.DataFrame(index=wnl.index), rates=(), usd=None, net_liquidity=wnl)
                s2 = macro_sensitivity(wr, f2, alpha=1.0 - ctx.r1["level"])
                t = s2.to_frame()
                t = t[t["term"] == "r_NET_LIQUIDITY"][["series", "coef", "ci_low", "ci_high", "p", "r2", "nobs",
                                                       "start", "end"]].set_index("series")
                t.columns = ["beta per unit change", "CI low", "CI high", "p", "R2", "weeks", "from", "to"]
                t.index.name = "basket"
                sec.tables.append(Table(fmt_table(t, {"beta per unit change": "num3", "CI low": "num3",
                                                      "CI high": "num3", "p": "p", "R2": "num"},
                                                  signed=["beta per unit change"]),
                                        title="Weekly basket return on the weekly change of net liquidity (HAC)",
                                        note="Over the weeks where net liquidity is known. " + " ".join(s2.notes)))
    return sec


# ============================================================================ 7. concentration
def build_concentration(ctx: ReportContext) -> Section:
    """Concentration of the AI baskets' market caps; contribution of AI-linked members to the S&P 500."""
    from rotation.analytics.concentration import concentration
    from rotation.analytics.rrg import to_weekly

    sec = Section("concentration", "Concentration and index contribution", intro=(
        "Herfindahl index (sum of squared member shares; 1/n when n members are equal, 1 when one holds "
        "everything) and the largest member's share of each AI basket's market cap, among the members with a "
        "cap that day. Contribution: how much of the S&P 500's return and market-cap increase came from its "
        "AI-linked members (the universe's AI-basket members that are index members), rebuilt from the stored "
        "membership."))
    with part(sec, "Concentration"):
        names = [n for n, b in ctx.universe.baskets.items() if b.role == "ai"]
        if not names:
            raise DataError("the universe has no basket with role ai")
        caps = ctx.cut_observed(ctx.panel.market_caps)
        groups = {n: list(ctx.universe.basket(n).members) for n in names}
        res = concentration(caps, groups, k=(1, 3), min_coverage=0.5)
        ctx.results["concentration"] = res
        hhi = ctx.display(to_weekly(res.hhi)).dropna(how="all")
        if hhi.empty:
            raise DataError("no date on which half the members of an AI basket have a market cap"
                            + (f" on or before {ctx.data_end.date()}" if ctx.data_end is not None else ""))
        palette = _palette(ctx, names)
        fig = F.lines(hhi, "Herfindahl index of each AI basket's market cap (weekly)", palette=palette, width=2.0)
        top1 = ctx.display(to_weekly(res.top[1])).dropna(how="all")
        for col in top1.columns:
            tx, ty = F.xy(top1[col])
            fig.add_trace(go.Scatter(x=tx, y=ty, name=f"{col}: largest member's share",
                                     mode="lines", line=dict(color=palette.get(col), dash="dot", width=1.3)))
        fig.update_layout(yaxis_tickformat=".2f")
        sec.figures.append(Figure("fig-concentration", fig, caption=(
            "Solid: Herfindahl index; dotted: the largest member's share. A member entering (listing, first cap) "
            "moves both because the set changed, not because capital moved.")))
        snaps = res.snapshots((0, 1, 3))
        snaps = snaps.set_index("basket")[["when", "date", "n_with_cap", "n_members", "hhi", "effective_number",
                                           "leader", "top_1", "top_3"]]
        snaps.columns = ["when", "date", "with cap", "members", "HHI", "effective N", "leader", "top-1", "top-3"]
        sec.tables.append(Table(fmt_table(snaps, {"with cap": "int", "members": "int", "HHI": "num3",
                                                  "effective N": "num", "top-1": "pct0", "top-3": "pct0"}),
                                title="Concentration now, 1 and 3 years earlier"))
        sec.notes += list(res.notes)
    with part(sec, "Index contribution"):
        claim = _verdict(ctx, "R5")
        if claim is not None and {"contributions", "comparison", "contribution_path"} <= set(claim.evidence):
            _contribution_from_claim(ctx, sec, claim)
        elif claim is not None and claim.missing:
            raise DataError("; ".join(claim.missing))
        else:
            _contribution(ctx, sec)
    return sec


def _verdict(ctx: ReportContext, claim_id: str):  # type: ignore[no-untyped-def]
    """The ledger's verdict of ``claim_id`` (None when the ledger or the verdict is absent)."""
    from rotation.claims import Verdict

    ledger = ctx.results.get("ledger")
    if ledger is None or claim_id not in ledger.ids:  # type: ignore[attr-defined]
        return None
    e = ledger[claim_id]  # type: ignore[index]
    return e if isinstance(e, Verdict) else None


def _contribution_bars(frame: pd.DataFrame, title: str) -> Figure:
    """Horizontal bars of buy-and-hold contributions (AI-linked members blue)."""
    shown = frame.sort_values("contribution")
    height = max(360, 22 * len(shown) + 120)
    fig = go.Figure(go.Bar(
        y=shown.index, x=shown["contribution"].to_numpy(), orientation="h",
        marker_color=np.where(shown["in_set"].astype(bool), "#1f4e9c", "#9ca3af"),
        hovertemplate="%{y}: %{x:+.2%} of the index return<extra></extra>", name="contribution"))
    fig.update_layout(**F.layout(title, hovermode="closest", xaxis_tickformat=".1%", height=height,
                                 margin=dict(l=80, r=24, t=52, b=40), showlegend=False))
    return Figure("fig-contribution", fig, height=height)


def _contribution_from_claim(ctx: ReportContext, sec: Section, v) -> None:  # type: ignore[no-untyped-def]
    """Section 7's contribution part from claim R5's evidence (the same numbers as the ledger)."""
    start, end = v.window if v.window is not None else (None, None)
    bars = v.evidence["contributions"].set_index("symbol")
    sec.figures.append(_contribution_bars(
        bars, f"Contribution to the rebuilt index's buy-and-hold return, {_day(start)} to {_day(end)} (blue: "
              "AI-linked members; grey: the largest others)"))
    path = v.evidence["contribution_path"]
    path = path.set_index(pd.DatetimeIndex(path["date"]))
    cols = {"index_cumulative": "index return since start", "set_cumulative": "contribution of the AI-linked",
            "other_cumulative": "contribution of the others", "set_weight": "AI-linked weight in the index"}
    path = path[[c for c in cols if c in path.columns]].rename(columns=cols)
    sec.figures.append(Figure("fig-contribution-path", F.lines(
        path, "Index return since the start, split into linked contributions, and the AI-linked weight (weekly)",
        yformat=".0%", palette={"index return since start": "#111827", "contribution of the AI-linked": "#1f4e9c",
                                "contribution of the others": "#9ca3af", "AI-linked weight in the index": "#c2410c"}),
        caption="Contributions are daily contributions linked so that they add up to the index's compound return "
                "on every date."))
    cmp = v.evidence["comparison"].set_index("measure")[["computed", "published", "difference"]]
    st = v.statistics
    note = (f"From claim R5 of the ledger ({v.verdict}; section 10). AI-linked set: {', '.join(v.instruments)}.")
    if isinstance(st.get("index_return"), float):
        note += f" Rebuilt index return {st['index_return']:+.1%}"
        if isinstance(st.get("index_cap_start"), float) and isinstance(st.get("index_cap_end"), float):
            note += f", market cap USD {st['index_cap_start'] / 1e12:,.1f} tn -> {st['index_cap_end'] / 1e12:,.1f} tn"
        note += "."
    sec.tables.append(Table(fmt_table(cmp, {"computed": "pct0", "published": "pct0", "difference": "pct"},
                                      signed=["difference"]),
                            title=f"AI-linked share of the index's gains, {_day(start)} to {_day(end)}: computed vs "
                                  "published (~75% of return, ~90% of the market-cap increase)", note=note))
    sec.notes += [f"contribution: {c}" for c in v.caveats]


def _contribution(ctx: ReportContext, sec: Section) -> None:
    from rotation.analytics.concentration import PUBLISHED_SINCE, ai_linked_set, contribution, index_members
    from rotation.panel import build_panel

    index = "SP500"
    spells = ctx.store.read_membership(index)
    if spells.empty:
        raise DataError(f"no {index} membership in the store: import the membership spells "
                        f"(rotation import members.csv --kind membership --index-name {index})")
    changes = ctx.store.read_index_changes(index)
    meta = ctx.store.instruments()
    t0 = max(ctx.start, pd.Timestamp(PUBLISHED_SINCE)) if ctx.start is not None else pd.Timestamp(PUBLISHED_SINCE)
    t1 = ctx.data_end if ctx.data_end is not None else pd.Timestamp.today().normalize()
    if t1 <= t0:
        raise DataError(f"the window {t0.date()}..{t1.date()} is empty")
    at_start = index_members(spells, t0, changes=changes)
    at_end = index_members(spells, t1, changes=changes)
    ever = set(spells["symbol"]) | set(changes["symbol"]) | set(at_start) | set(at_end)
    if "sector" in meta.columns:
        ever |= set(meta.loc[meta["sector"].notna(), "symbol"])
    the_set = ai_linked_set(ctx.universe, ever)
    symbols = sorted(set(at_start) | set(at_end) | set(the_set))
    with ctx.timings.stage("concentration: contribution panel"):
        panel = build_panel(ctx.store, ctx.universe, symbols=symbols, start=t0 - pd.Timedelta(days=14),
                            end=ctx.data_end, cap_method="backcast")
    res = contribution(panel, the_set, start=t0, end=ctx.data_end, constituents=spells, changes=changes,
                       set_name="AI-linked", index_name="S&P 500 (rebuilt)")
    ctx.results["contribution"] = res
    frame = res.to_frame()
    shown = pd.concat([frame[frame["in_set"]], frame[~frame["in_set"]].head(10)])
    sec.figures.append(_contribution_bars(
        shown, f"Contribution to the index's buy-and-hold return, {_day(res.start)} to {_day(res.end)} "
               "(blue: AI-linked; grey: the 10 largest others)"))
    daily = res.daily[["index_cumulative", "set_weight"]].rename(columns={
        "index_cumulative": "index return since start", "set_weight": "AI-linked weight in the index"})
    sec.figures.append(Figure("fig-contribution-path", F.lines(
        daily, "Index return since the start and the AI-linked members' weight (daily)", yformat=".0%",
        palette={daily.columns[0]: "#4b5563", daily.columns[1]: "#1f4e9c"}), height=360))
    cmp = res.comparison().set_index("measure")
    cmp.columns = ["computed", "published", "difference"]
    sec.tables.append(Table(fmt_table(cmp, {"computed": "pct0", "published": "pct0", "difference": "pct"},
                                      signed=["difference"]),
                            title=f"AI-linked share of the index's gains since {_day(res.start)}: computed vs "
                                  "published (~75% of return, ~90% of the market-cap increase)",
                            note=f"{len(res.constituents)} of {res.n_members_start} members on {_day(res.start)} "
                                 f"used; AI-linked set: {', '.join(res.members)}. Index return "
                                 f"{res.index_return:+.1%}, market cap USD {res.cap_start / 1e12:,.1f} tn -> "
                                 f"{res.cap_end / 1e12:,.1f} tn."))
    sec.notes += list(res.notes)


# ============================================================================ 8. events
def build_events(ctx: ReportContext) -> Section:
    """Market-model event studies (CAR paths with bands) for the default and the user's events."""
    from rotation.analytics.events import DEFAULT_WINDOWS

    sec = Section("events", "Event studies", intro=(
        f"Market-model cumulative abnormal returns (market: {ctx.benchmark}; 250-session estimation window ending "
        "10 sessions before day 0) of the basket indices, the AI and crypto sides and the instruments the events "
        "name, pooled by event kind, with BMP and Kolari-Pynnonen tests (rotation.analytics.events). 'crypto "
        "side - AI side' is the event study of the spread return: its CAR is crypto's abnormal return relative to "
        "AI's. Windows: " + ", ".join(f"[{a:+d},{b:+d}]" for a, b in DEFAULT_WINDOWS) + " sessions."))
    if not ctx.events:
        sec.unavailable("Event studies", "no events file could be loaded")
    for i, (label, events, path) in enumerate(ctx.events):
        with part(sec, f"Event study: {label}"):
            _event_study(ctx, sec, i, label, events, path)
    return sec


def _event_study(ctx: ReportContext, sec: Section, i: int, label: str, events: object, path: object) -> None:
    from rotation.analytics.events import event_study
    from rotation.analytics.returns import simple_returns

    ai, cr, _, _ = ctx.sides()
    named = sorted({a for e in events for a in e.affects if a in ctx.panel.prices.columns})  # type: ignore[attr-defined]
    levels = pd.concat([ctx.levels, ai.level.rename("AI side"), cr.level.rename("crypto side")], axis=1, sort=True)
    inst = ctx.cut_observed(ctx.panel.prices[[s for s in named if s != ctx.benchmark]])
    returns = pd.concat([simple_returns(levels), simple_returns(inst),
                         simple_returns(ctx.bench_level).rename(ctx.benchmark)], axis=1, sort=True)
    returns = returns.loc[:, ~returns.columns.duplicated()]
    groups = {n: [n] for n in ctx.levels.columns}
    res = event_study(returns, events, market=ctx.benchmark, relative=[("crypto side", "AI side")],
                      groups=groups, level=ctx.r1["level"])
    ctx.results[f"events:{label}"] = res
    key = res.key
    paths = res.paths
    kinds = list(dict.fromkeys(res.events["kind"])) if len(res.events) else []
    kinds = [k for k in kinds if k in set(paths[key])]
    if not kinds:
        raise DataError("no event kind has a complete CAR path")
    order = ["crypto side - AI side", "AI side", "crypto side", *ctx.levels.columns]
    palette = F.colours(ctx.universe, [*ctx.levels.columns])
    palette |= {"crypto side - AI side": "#111827", "AI side": "#1f4e9c", "crypto side": "#c2410c"}
    fig = go.Figure()
    vis_sets: list[list[int]] = []
    n = 0
    for k in kinds:
        sub = paths[paths[key] == k]
        present = list(dict.fromkeys(sub["group"]))
        ranked = sorted(present, key=lambda g: order.index(g) if g in order else len(order))[:MAX_EVENT_GROUPS]
        idx = []
        for j, g in enumerate(ranked):
            pg = sub[sub["group"] == g].sort_values("day")
            colour = palette.get(g) or F.PALETTE["other"][j % len(F.PALETTE["other"])]
            first = not vis_sets
            band = j == 0  # the band of the first (most relevant) series only, to keep the chart readable
            if band:
                fig.add_trace(go.Scatter(x=pg["day"], y=pg["ci_high"], mode="lines", line=dict(width=0),
                                         showlegend=False, hoverinfo="skip", visible=first))
                fig.add_trace(go.Scatter(x=pg["day"], y=pg["ci_low"], mode="lines", line=dict(width=0),
                                         fill="tonexty", fillcolor="rgba(17,24,39,0.12)", hoverinfo="skip",
                                         name=f"{g}: {res.params['level']:.0%} band", visible=first))
                idx += [n, n + 1]
                n += 2
            fig.add_trace(go.Scatter(x=pg["day"], y=pg["mean_car"], mode="lines", name=f"{g} (n={int(pg['n'].max())})",
                                     line=dict(color=colour, width=2.4 if band else 1.4), visible=first,
                                     hovertemplate=f"{g}" + ", day %{x}: %{y:+.2%}<extra></extra>"))
            idx.append(n)
            n += 1
        vis_sets.append(idx)
    buttons = []
    for k, idx in zip(kinds, vis_sets, strict=True):
        vis = [False] * n
        for j in idx:
            vis[j] = True
        n_ev = int((res.events["kind"] == k).sum())
        buttons.append(dict(label=f"{k} ({n_ev})", method="update", args=[{"visible": vis}]))
    fig.update_layout(**F.layout(f"Mean CAR by event day: {label}", hovermode="x", yaxis_tickformat=".1%",
                                 xaxis_title="event day (sessions; 0 = the event's session)", height=490,
                                 margin=dict(t=92), legend=dict(orientation="h", y=-0.16, traceorder="normal"),
                                 updatemenus=[F.menu(buttons)]))
    fig.add_hline(y=0.0, line=dict(color="#9ca3af", width=1))
    fig.add_vline(x=0, line=dict(color="#9ca3af", width=1, dash="dot"))
    sec.figures.append(Figure(f"fig-events-{i}", fig, height=490, caption=(
        f"{label}: {len(res.events)} events from {path or 'the shipped default file'}. Choose the event kind in "
        "the menu (number of events). Band: the first series' KP-widened confidence band.")))
    summ = res.summary
    rel = summ[summ["group"].isin(["crypto side - AI side"])]
    other = summ[~summ[key].isin(set(rel[key]))]
    t = pd.concat([rel, other])[[key, "group", "window", "n", "mean_car", "ci_low", "ci_high", "p_kp"]]
    t = t.set_index(key)
    t.index.name = "kind"
    t.columns = ["series", "window", "CARs", "mean CAR", "CI low", "CI high", "p (KP)"]
    sec.tables.append(Table(fmt_table(t, {"CARs": "int", "mean CAR": "pct", "CI low": "pct", "CI high": "pct",
                                          "p (KP)": "p"}, signed=["mean CAR"]), scroll=True,
                            title=f"{label}: CARs (crypto minus AI for the events that affect both; else each "
                                  "affected series)"))
    evs = res.events[["date", "kind", "label", "session", "n_series"]].set_index("date")
    evs.columns = ["kind", "event", "day 0", "series"]
    sec.tables.append(Table(fmt_table(evs, {"series": "int"}, wrap=["event"]), scroll=True,
                            title=f"{label}: the events studied ({len(evs)})"))
    ex = res.excluded
    if len(ex):
        reasons = ex["reason"].str.replace(r"\d{4}-\d{2}-\d{2}.*$", "", regex=True).str.strip().value_counts()
        sec.notes.append(f"{label}: {len(ex)} (event, series) pairs left out - "
                         + "; ".join(f"{r} ({c})" for r, c in reasons.head(4).items()))
    sec.notes += [f"{label}: {n}" for n in res.notes]


# ============================================================================ 9. stress
def build_stress(ctx: ReportContext) -> Section:
    """Drawdown history, drawdown frequency and the response of the others to an AI shock."""
    from rotation.analytics.returns import simple_returns
    from rotation.analytics.risk import drawdown
    from rotation.analytics.stress import stress

    sec = Section("stress", "Stress: drawdowns and shock scenarios")
    levels = ctx.display(ctx.levels).dropna(how="all", axis=1)
    with part(sec, "Drawdown history"):
        dd = drawdown(simple_returns(levels, skip_gaps=True))
        sec.figures.append(Figure("fig-drawdowns", F.lines(
            dd, "Drawdown from the running peak (daily)", palette=_palette(ctx, list(dd.columns)),
            yformat=".0%", width=1.3)))
    with part(sec, "Shock scenarios"):
        ai = [n for n in ctx.r1["ai"] if n in levels.columns] if not isinstance(ctx.r1["ai"], str) else [ctx.r1["ai"]]
        if not ai:
            raise DataError("no AI basket (claims configuration 'ai') has data to shock")
        shocked = ai[0]
        res = stress(levels, {shocked: SHOCKS}, level=ctx.r1["level"])
        ctx.results["stress"] = res
        sec.intro = (
            f"Drawdowns of the basket indices from {_day(res.start)} to {_day(res.end)}. Scenarios: a "
            f"{', '.join(f'{s:+.0%}' for s in SHOCKS)} shock to {shocked} and the implied response of the other "
            "baskets on weekly returns: beta, downside beta (weeks when the shocked basket fell) and tail beta "
            "(its worst 10% of weeks) times the shock, each with its HAC interval; and the median return over "
            "historical 1-4 week windows in which the shocked basket moved by about the shock (10-90% range) "
            "(rotation.analytics.stress).")
        summary = res.drawdowns.summary
        t = summary[["symbol", "threshold", "episodes", "per_year", "open", "median_days_to_trough",
                     "median_days_to_recovery", "deepest"]].set_index("symbol")
        t.columns = ["depth", "episodes", "per year", "open now", "median days to trough",
                     "median days to recovery", "deepest"]
        t.index.name = "basket"
        sec.tables.append(Table(fmt_table(t, {"depth": "pct0", "episodes": "int", "per year": "num",
                                              "open now": "int", "median days to trough": "int",
                                              "median days to recovery": "int", "deepest": "pct"}),
                                title="Drawdowns of at least 10, 15 and 20%", scroll=True,
                                note="An episode starts at a peak, is counted when the fall reaches the depth and "
                                     "ends back at the peak; days are calendar days."))
        resp = res.to_frame()
        labels = {"beta": "beta", "downside_beta": "downside beta", "conditional_beta": "tail beta",
                  "analogues": "historical analogues"}
        method_palette = {"beta": "#1f4e9c", "downside beta": "#3b7dd8", "tail beta": "#7fb0f0",
                          "historical analogues": "#c2410c"}
        for j, x in enumerate(SHOCKS):
            r = resp[resp["shock"] == x].copy()
            if r.empty:
                continue
            r["method"] = r["method"].map(lambda m: labels.get(m, m))
            sec.figures.append(Figure(f"fig-scenario-{j}", F.bars_with_intervals(
                r, f"Response to a {x:+.0%} move in {shocked} (weekly returns)", x="series", y="response", low="low",
                high="high",
                group="method", palette=method_palette, height=400), height=400))
        sec.notes += list(res.notes)
    return sec


# ============================================================================ 11. provenance
def build_provenance(ctx: ReportContext, *, versions: dict[str, str]) -> Section:
    """Sources and date ranges per instrument, data-quality findings, what the panel did, versions."""
    from rotation.quality import check_store

    panel = ctx.panel
    sec = Section("provenance", "Data provenance", intro=(
        f"Store {ctx.store.path} (data version {ctx.store.data_version()}). Panel: {panel.calendar} calendar, crypto "
        f"at the {panel.crypto_close} UTC close, {len(panel.index)} rows from {_day(panel.index.min())} to "
        f"{_day(panel.index.max())}"
        + (f"; only data up to {_day(ctx.data_end)} is used" if ctx.data_end is not None else "") + "."))
    with part(sec, "Instruments"):
        syms = panel.symbols
        first = panel.prices.apply(lambda c: c.first_valid_index())
        member_of: dict[str, list[str]] = {}
        for name, b in ctx.universe.baskets.items():
            for m in b.members:
                member_of.setdefault(m, []).append(name)
        t = pd.DataFrame({
            "asset class": panel.asset_classes.reindex(syms),
            "baskets": [", ".join(member_of.get(s, [])) for s in syms],
            "source": panel.sources.reindex(syms),
            "first price": first.reindex(syms),
            "last observed": panel.last_observed.reindex(syms),
        }, index=pd.Index(syms, name="symbol"))
        missing = [s for s in ctx.universe.members() if s not in syms]
        sec.tables.append(Table(fmt_table(t), title="Instruments in the panel", scroll=True,
                                note=("No data for: " + ", ".join(missing) + ".") if missing else
                                "Every universe member has data."))
        q = panel.quality.groupby("action")["count"].agg(["size", "sum"]).rename(
            columns={"size": "instruments", "sum": "cells"})
        q.index.name = "panel action"
        sec.tables.append(Table(fmt_table(q, {"instruments": "int", "cells": "int"}),
                                title="What the panel builder did",
                                note="Fills are forward fills of at most 5 rows; splices fill one source's gaps "
                                     "from another, scaled by their ratio on the nearest common date; back-cast caps "
                                     "are constant-share approximations."))
    with part(sec, "Data quality"):
        with ctx.timings.stage("provenance: quality checks"):
            report = check_store(ctx.store, ctx.universe, symbols=ctx.universe.members() + list(ctx.universe.macro),
                                 end=ctx.data_end, as_of=ctx.data_end)
        s = report.summary()
        ctx.results["quality"] = s
        summary = pd.DataFrame({"series": [s["series"]], "ok": [s["ok"]], "warn": [s["warn"]], "fail": [s["fail"]],
                                "no data": [s["no_data"]], "long gaps": [s["long_gaps"]],
                                "stale runs": [s["stale_runs"]], "spikes": [s["spikes"]],
                                "split-like jumps": [s["split_like"]], "series ending early": [s["behind"]],
                                "stale macro": [s["stale_macro"]],
                                "disagreeing source pairs": [s["source_pairs_flagged"]]},
                               index=pd.Index(["count"], name=""))
        sec.tables.append(Table(fmt_table(summary), title="Quality checks (rotation check)"))
        frame = report.to_frame()[["kind", "symbol", "source", "status", "first", "last", "rows", "coverage",
                                   "issues"]]
        frame = frame.set_index("symbol")
        sec.tables.append(Table(fmt_table(frame, {"rows": "int", "coverage": "pct0"}, wrap=["issues"]), scroll=True,
                                title="Stored series, worst first",
                                note="Checked up to " + _day(report.end if report.end is not None else report.as_of)
                                     + "; statuses: fail = must fix or accept, warn = worth a look."))
    ver = pd.DataFrame({"version": list(versions.values())}, index=pd.Index(list(versions), name="package"))
    sec.tables.append(Table(fmt_table(ver), title="Versions"))
    sec.notes.append(f"Python {platform.python_version()} on {html.escape(platform.platform(terse=True))}.")
    return sec


# ============================================================================ 1. headline
def _join(items: list[str]) -> str:
    return ", ".join(items) if items else "none"


def build_headline(ctx: ReportContext, ledger: object | None) -> Section:
    """Plain-words sentences generated from the other sections' results (built last, shown first)."""
    from rotation.analytics.rrg import QUADRANTS
    from rotation.claims import PendingClaim

    sec = Section("headline", "Headline")
    lines = sec.lines
    trailing = None
    with part(sec, "Headline: performance"):
        perf = ctx.perf
        win = perf.window
        lines.append(f"As of {win.end.date()}, the latest date all compared baskets have data for"
                     + (f" (only data available on {ctx.as_of.date()} is used)" if ctx.as_of is not None else "")
                     + (f"; window from {ctx.start.date()}" if ctx.start is not None else "") + ".")
        shown = [n for n in perf.trailing.index if n in ctx.shown_baskets and n not in win.stale]
        trailing = perf.trailing.loc[shown]
    rrg_res = ctx.results.get("rrg")
    latest = rrg_res.to_frame() if rrg_res is not None else None
    if latest is not None:
        by_role = []
        for role, label in (("ai", "AI baskets"), ("crypto", "crypto baskets")):
            names = [n for n in latest.index if n in ctx.universe.baskets and ctx.universe.baskets[n].role == role]
            items = [f"{n} {latest.at[n, 'quadrant']}" for n in names if isinstance(latest.at[n, "quadrant"], str)]
            if items:
                by_role.append(f"{label}: {', '.join(items)}")
        when = latest["date"].max()
        counts = {q: [n for n in latest.index if latest.at[n, "quadrant"] == q] for q in QUADRANTS}
        lines.append(f"Relative rotation against {ctx.benchmark} (week ending {_day(when)}): " + "; ".join(by_role)
                     + f". Leading: {_join(counts['leading'])}; lagging: {_join(counts['lagging'])}.")
    else:
        lines.append("Relative rotation: not available (see section 2).")
    ri = ctx.results.get("rotation_index")
    if ri is not None:
        idx = ri.index.dropna()
        trend = ri.trend.dropna()
        v = float(idx.iloc[-1])
        lead = "the AI side ahead" if v > 0 else "the crypto side ahead" if v < 0 else "neither side ahead"
        direction = ("rising (towards AI)" if len(trend) and trend.iloc[-1] > 0 else
                     "falling (towards crypto)" if len(trend) and trend.iloc[-1] < 0 else "flat")
        text = (f"Rotation index (AI side minus crypto side, {ri.window}-week {ctx.results.get('rotation_basis')} "
                f"growth): {v:+.2f} log points in the week ending {_day(idx.index[-1])}, {lead}; "
                f"its {ri.trend_window}-week trend is {direction}.")
        if len(ri.crossings):
            last = ri.crossings.iloc[-1]
            text += (f" Last sign change {_day(last['date'])} "
                     f"({'towards AI' if last['direction'] == 'up' else 'towards crypto'}).")
        lines.append(text)
    else:
        lines.append("Rotation index: not available (see section 3).")
    rg = ctx.results.get("regimes")
    if rg is not None:
        labels = ctx.results["regime_labels"]
        t = rg.to_frame()
        cur = rg.current_state
        spells = rg.spells("filtered")
        since = spells.iloc[-1]["start"] if len(spells) else rg.start
        m = float(t.at[cur, "ann_mean"])
        who = ("the AI side out-grows the crypto side" if m >= 0 else "the crypto side out-grows the AI side")
        lines.append(
            f"Regime of the weekly AI-minus-crypto growth: '{labels[cur]}' since {_day(since)} (filtered "
            f"probability {t.at[cur, 'filtered_now']:.0%} in the week ending {_day(rg.end)}); in this regime {who} "
            f"by {abs(m):.0%} a year on average (volatility {t.at[cur, 'ann_volatility']:.0%}), and a spell lasts "
            f"about {t.at[cur, 'expected_duration']:.0f} weeks.")
    cp = ctx.results.get("change_points")
    if cp is not None:
        if len(cp.breaks):
            seg = cp.segments
            lines.append(f"Latest change point of that series: {_day(cp.breaks[-1])} (mean "
                         f"{seg['ann_mean'].iloc[-2]:+.0%} a year before, {seg['ann_mean'].iloc[-1]:+.0%} since).")
        else:
            lines.append(f"No change point in the weekly AI-minus-crypto growth since {_day(cp.data.index[0])}.")
    if trailing is not None and not trailing.empty:
        for col, label in (("4w", "4 weeks"), ("13w", "13 weeks")):
            s = trailing[col].dropna()
            if s.empty:
                continue
            best, worst = s.idxmax(), s.idxmin()
            roles = {n: ctx.universe.baskets[n].role for n in s.index}
            ai = [n for n in s.index if roles[n] == "ai"]
            cr = [n for n in s.index if roles[n] == "crypto"]
            pairs = len(ai) * len(cr)
            wins = sum(1 for a in ai for c in cr if s[a] > s[c])
            text = f"Last {label}: best basket {best} ({s[best]:+.1%}), worst {worst} ({s[worst]:+.1%})"
            if pairs:
                lean = "AI-leaning" if wins > pairs / 2 else "crypto-leaning" if wins < pairs / 2 else "balanced"
                text += f"; AI baskets beat crypto baskets in {wins} of {pairs} pairs ({lean})"
            lines.append(text + ".")
        glance = trailing[["4w", "13w", "52w"]].copy()
        glance.insert(0, "quadrant vs " + ctx.benchmark,
                      [latest.at[n, "quadrant"] if latest is not None and n in latest.index else None
                       for n in glance.index])
        glance.index.name = "basket"
        sec.tables.append(Table(fmt_table(glance, {"4w": "pct", "13w": "pct", "52w": "pct"},
                                          signed=["4w", "13w", "52w"]), title="At a glance"))
    if ledger is not None:
        by: dict[str, list[str]] = {}
        for e in ledger.entries:
            key = e.status if isinstance(e, PendingClaim) else e.verdict
            by.setdefault(key, []).append(e.claim_id)
        lines.append("Claims ledger: " + "; ".join(f"{k} {', '.join(v)}" for k, v in by.items()) + " (section 10).")
    else:
        lines.append("Claims ledger: not available (see section 10).")
    if ctx.as_of is not None:
        lines.append("As of a date: prices, macro releases, market-cap snapshots and the claims use only data dated "
                     "on or before it; adjusted closes are as stored today (later splits and dividends rescale "
                     "earlier prices, not their returns).")
    stale = ctx.perf.window.stale if _ok(lambda: ctx.perf) else []
    if stale:
        lines.append(f"Left out of the comparison (data end early): {', '.join(stale)}.")
    return sec


def _ok(fn) -> bool:  # type: ignore[no-untyped-def]
    try:
        fn()
    except Exception:  # noqa: BLE001 - only asks whether the value exists
        return False
    return True
