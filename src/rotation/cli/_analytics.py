"""``rotation rrg | flows | macro``: headline rotation analytics from the store, as tables.

Every command builds a **weekly** panel (last session of each complete W-FRI
week) from the store, computes the measures of :mod:`rotation.analytics` and
prints the headline numbers. Basket indices default to **equal** weights
(``--weighting``): cap weights need market-cap history, which for equities is
often a single snapshot, so a cap-weighted equity basket would only start at
that snapshot.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
import pandas as pd
import typer
from rich.table import Table

from rotation.cli._common import (
    BasketsOption,
    EndOption,
    StartOption,
    StoreOption,
    UniverseOption,
    WeightingOption,
    check_weighting,
    console,
    default_baskets,
    fmt_day,
    fmt_num,
    guard,
    open_existing_store,
    parse_date,
    print_notes,
    quality_notes,
    split_names,
    universe_from,
)
from rotation.errors import DataError, EmptyStoreError, ParameterError

__all__ = ["register"]


def _weekly_panel(db, uni, *, baskets: list[str], symbols: list[str], start, end, warmup_weeks: int = 0):
    from rotation.panel import build_panel

    for b in baskets:
        uni.basket(b)  # unknown basket -> UniverseError naming the known ones
    read_start = start - pd.Timedelta(weeks=warmup_weeks + 1) if (start is not None and warmup_weeks) else start
    return build_panel(db, uni, symbols=symbols or None, baskets=baskets or None, start=read_start, end=end,
                       frequency="W")


def _basket_levels(panel, baskets: list[str], weighting: str) -> tuple[pd.DataFrame, list[str]]:
    """Levels of the baskets that have at least one member with prices; notes for the rest."""
    levels, notes = {}, []
    for b in baskets:
        w = None if weighting == "basket" else weighting
        try:
            levels[b] = panel.basket_levels(b, w)
        except DataError as exc:
            notes.append(f"{b}: left out ({exc})")
    if not levels:
        raise DataError("none of the baskets has member prices in the store: " + "; ".join(notes))
    return pd.DataFrame(levels), notes


# ----------------------------------------------------------------------------- commands
def register(app: typer.Typer) -> None:
    """Add ``rrg``, ``flows`` and ``macro`` to ``app``."""

    @app.command("rrg")
    def rrg_command(
        store: StoreOption = None,
        universe: UniverseOption = None,
        start: StartOption = None,
        end: EndOption = None,
        benchmark: Annotated[str, typer.Option("--benchmark", help="Benchmark: an instrument or a basket.")] = "SPY",
        baskets: BasketsOption = None,
        symbols: Annotated[
            list[str] | None, typer.Option("--symbols", "-s", help="Also plot these instruments (comma-separated).")
        ] = None,
        ratio_window: Annotated[int, typer.Option(help="RS-Ratio z-score window (weeks).")] = 12,
        momentum_window: Annotated[int, typer.Option(help="RS-Momentum z-score window (weeks).")] = 12,
        roc_period: Annotated[int, typer.Option(help="Weeks in the RS-Ratio rate of change.")] = 1,
        smooth: Annotated[int, typer.Option(help="Trailing mean of ln RS before the ratio (weeks; 1 = none).")] = 1,
        tail: Annotated[int, typer.Option(help="Points in each tail.")] = 5,
        weighting: WeightingOption = "equal",
    ) -> None:
        """Relative rotation graph (weekly): RS-Ratio, RS-Momentum and quadrant of each basket vs a benchmark."""
        from rotation.analytics.rrg import rrg

        with guard():
            weighting = check_weighting(weighting)
            uni = universe_from(universe)
            names = split_names(baskets) or default_baskets(uni)
            extra = split_names(symbols)
            bench_is_basket = benchmark in uni.baskets
            if not bench_is_basket and benchmark not in uni.instruments:
                raise ParameterError("--benchmark", f"'{benchmark}' is neither an instrument nor a basket of the universe")
            t0, t1 = parse_date(start, "--start"), parse_date(end, "--end")
            warm = smooth + ratio_window + roc_period + momentum_window
            with open_existing_store(store) as db:
                panel = _weekly_panel(
                    db, uni,
                    baskets=names + ([benchmark] if bench_is_basket else []),
                    symbols=extra + ([] if bench_is_basket else [benchmark]),
                    start=t0, end=t1, warmup_weeks=warm,
                )
            levels, notes = _basket_levels(panel, names, weighting)
            for s in extra:
                if s not in panel.prices.columns:
                    notes.append(f"{s}: no prices stored, left out")
                else:
                    levels[s] = panel.prices[s]
            if bench_is_basket:
                w = None if weighting == "basket" else weighting
                bench = panel.basket_levels(benchmark, w).rename(benchmark)
            else:
                if benchmark not in panel.prices.columns:
                    raise DataError(f"benchmark {benchmark}: no prices stored")
                bench = panel.prices[benchmark].rename(benchmark)
            res = rrg(levels, bench, ratio_window=ratio_window, momentum_window=momentum_window,
                      roc_period=roc_period, smooth=smooth)
            latest = res.to_frame()
            tails = res.tails(tail)
            if t0 is not None:
                tails = tails[tails["date"] >= t0]
            table = Table(
                title=f"Relative rotation vs {benchmark} (weekly; RS-Ratio {ratio_window}w, "
                      f"RS-Momentum {momentum_window}w, weights {weighting})"
            )
            for col in ("series", "date", "RS-Ratio", "RS-Momentum", "quadrant", "heading", "distance", "tail"):
                table.add_column(col, justify="left" if col in {"series", "quadrant", "tail", "date"} else "right",
                                 no_wrap=col in {"series", "date", "quadrant"})
            for name, row in latest.iterrows():
                path = tails[tails["series"] == name]["quadrant"].astype(str).str[:3].tolist()
                table.add_row(
                    str(name), fmt_day(row["date"]), fmt_num(row["rs_ratio"]), fmt_num(row["rs_momentum"]),
                    str(row["quadrant"]) if isinstance(row["quadrant"], str) else "-",
                    fmt_num(row["heading"], "{:.0f}"), fmt_num(row["distance"]), " ".join(path),
                )
            console.print(table)
            console.print(
                "leading: RS-Ratio>=100 & RS-Momentum>=100; weakening: ratio>=100, momentum<100; "
                "lagging: both <100; improving: ratio<100, momentum>=100. Heading 0-90 deg = strengthening. "
                f"Tail: the last {tail} weekly quadrants, oldest first.",
                style="dim", highlight=False,
            )
            print_notes(notes)

    @app.command("flows")
    def flows_command(
        store: StoreOption = None,
        universe: UniverseOption = None,
        start: StartOption = None,
        end: EndOption = None,
        a: Annotated[str | None, typer.Option("--a", help="Rotation toward this basket [default: first ai basket].")] = None,
        b: Annotated[str | None, typer.Option("--b", help="... away from this one [default: first crypto basket].")] = None,
        baskets: BasketsOption = None,
        window: Annotated[int, typer.Option(help="Growth window of the rotation index (weeks).")] = 13,
        smooth: Annotated[int, typer.Option(help="EMA span of the rotation index (weeks).")] = 4,
        trend_window: Annotated[int, typer.Option(help="Rolling-slope window of the trend (weeks).")] = 13,
        weighting: WeightingOption = "equal",
    ) -> None:
        """Capital-flow proxies (weekly): rotation index, market-cap shares, stablecoin issuance, dollar volume."""
        from rotation.analytics.flows import (
            basket_caps,
            dollar_volume_share,
            market_cap_share,
            net_issuance,
            rotation_index,
        )

        with guard():
            weighting = check_weighting(weighting)
            uni = universe_from(universe)
            roles = {name: bk.role for name, bk in uni.baskets.items()}
            a_name = a or next((n for n, r in roles.items() if r == "ai"), None)
            b_name = b or next((n for n, r in roles.items() if r == "crypto"), None)
            if a_name is None or b_name is None:
                raise ParameterError("--a/--b", "the universe has no ai or no crypto basket: name both with --a and --b")
            names = split_names(baskets) or default_baskets(uni)
            stable = [n for n in ("stablecoins",) if n in uni.baskets]
            all_names = list(dict.fromkeys([a_name, b_name, *names, *stable]))
            t0, t1 = parse_date(start, "--start"), parse_date(end, "--end")
            with open_existing_store(store) as db:
                panel = _weekly_panel(db, uni, baskets=all_names, symbols=[], start=t0, end=t1,
                                      warmup_weeks=window + smooth + trend_window)
            notes: list[str] = []
            levels, more = _basket_levels(panel, [a_name, b_name], weighting)
            notes += more
            if a_name not in levels or b_name not in levels:
                raise DataError("; ".join(more))
            ri = rotation_index(levels[a_name], levels[b_name], window=window, smooth=smooth, trend_window=trend_window)
            head = Table(title=f"Rotation index: {a_name} minus {b_name} ({window}-week log growth, EMA {smooth})")
            head.add_column("measure")
            head.add_column("value", justify="right")
            idx = ri.index.dropna()
            d = ri.drift
            head.add_row("latest", f"{fmt_day(idx.index[-1]) if len(idx) else '-'}: {fmt_num(idx.iloc[-1] if len(idx) else np.nan, '{:+.3f}')}")
            head.add_row(f"trend ({trend_window}w slope)", fmt_num(ri.trend.dropna().iloc[-1] if ri.trend.notna().any() else np.nan, "{:+.4f}"))
            head.add_row("sign changes", str(len(ri.crossings)))
            if len(ri.crossings):
                last = ri.crossings.iloc[-1]
                head.add_row("last sign change", f"{fmt_day(last['date'])} ({last['direction']})")
            if d:
                head.add_row(
                    "drift, annualised (HAC 95% CI)",
                    f"{d['annualised']:+.1%} [{d['ann_ci_low']:+.1%}, {d['ann_ci_high']:+.1%}]  "
                    f"t={d['t']:.2f} p={d['p']:.3f}",
                )
                head.add_row("drift window", f"{fmt_day(d['start'])} .. {fmt_day(d['end'])} ({d['n']} weeks)")
            console.print(head)
            console.print(f"positive: {a_name} grew faster than {b_name} over the trailing {window} weeks.",
                          style="dim", highlight=False)

            # market-cap shares among the baskets with caps
            caps_members = {n: [m for m in uni.basket(n).members if m in panel.market_caps.columns] for n in names}
            caps_members = {n: ms for n, ms in caps_members.items() if ms}
            bc = basket_caps(panel.market_caps, caps_members) if caps_members else None
            if bc is not None:
                with_caps = [n for n in bc.caps.columns if bc.caps[n].notna().any()]
                lacking = [n for n in bc.caps.columns if n not in with_caps]
                if lacking:
                    notes.append(f"no market caps stored for {', '.join(lacking)}: left out of the shares")
                if len(with_caps) >= 2:
                    try:
                        share = market_cap_share(bc.caps[with_caps])
                    except DataError as exc:
                        notes.append(f"market-cap shares: {exc}")
                    else:
                        frame = share.to_frame()
                        cov = bc.to_frame()["coverage_last"]
                        t = Table(title="Share of combined market cap (dates where every basket has a cap)")
                        for col in ("basket", "from", "to", "share then", "share now", "change (pp)", "cap now (USD bn)", "members with cap"):
                            t.add_column(col, justify="left" if col in {"basket", "from", "to"} else "right")
                        for n, row in frame.iterrows():
                            t.add_row(str(n), fmt_day(row["first_date"]), fmt_day(row["last_date"]),
                                      fmt_num(row["share_first"], "{:.1%}"), fmt_num(row["share_last"], "{:.1%}"),
                                      fmt_num(row["change_pp"], "{:+.1f}"),
                                      fmt_num(bc.caps[n].loc[row["last_date"]] / 1e9 if pd.notna(row["last_date"]) else np.nan, "{:,.0f}"),
                                      fmt_num(cov.get(n, np.nan), "{:.0%}"))
                        console.print(t)

            # stablecoin net issuance
            if stable:
                members = [m for m in uni.basket(stable[0]).members if m in panel.prices.columns]
                supply = panel.supply[members].combine_first(panel.market_caps[members]) if members else None
                if supply is not None and supply.notna().any().any():
                    ni = net_issuance(supply.dropna(how="all", axis=1), windows=(4, 13))
                    t = Table(title="Stablecoin net issuance (USD bn; weekly)")
                    for col in ("coin", "as of", "supply", "4-week", "13-week", "13-week growth"):
                        t.add_column(col, justify="left" if col in {"coin", "as of"} else "right")
                    for coin, row in ni.to_frame().iterrows():
                        t.add_row(str(coin), fmt_day(row["last_date"]), fmt_num(row["supply"] / 1e9, "{:,.1f}"),
                                  fmt_num(row["issuance_4"] / 1e9, "{:+,.1f}"), fmt_num(row["issuance_13"] / 1e9, "{:+,.1f}"),
                                  fmt_num(row["growth_13"], "{:+.1%}"))
                    console.print(t)
                else:
                    notes.append("no stablecoin supply stored: issuance not shown")

            # dollar volume share
            groups = {n: [m for m in uni.basket(n).members if m in panel.volume_usd.columns] for n in names}
            groups = {n: ms for n, ms in groups.items() if ms and panel.volume_usd[ms].notna().any().any()}
            if len(groups) >= 2:
                dv = dollar_volume_share(panel.volume_usd, groups, window=4, require_all=True)
                common = dv.shares.dropna()
                if common.empty:
                    notes.append("dollar volume: no week in which every basket has volume")
                else:
                    t = Table(title=f"Share of dollar volume (trailing 4 weeks), {fmt_day(common.index[0])} .. "
                                    f"{fmt_day(common.index[-1])} (weeks where every basket has volume)")
                    for col in ("basket", "first", "latest", "average"):
                        t.add_column(col, justify="left" if col == "basket" else "right")
                    for n in common.columns:
                        t.add_row(str(n), fmt_num(common[n].iloc[0], "{:.1%}"), fmt_num(common[n].iloc[-1], "{:.1%}"),
                                  fmt_num(common[n].mean(), "{:.1%}"))
                    console.print(t)
            print_notes(notes + quality_notes(panel))

    @app.command("macro")
    def macro_command(
        store: StoreOption = None,
        universe: UniverseOption = None,
        start: StartOption = None,
        end: EndOption = None,
        baskets: BasketsOption = None,
        usd: Annotated[str, typer.Option("--usd", help="Dollar index series: DTWEXBGS or DXY.")] = "DTWEXBGS",
        rate: Annotated[str, typer.Option("--rate", help="Rate that defines the regime.")] = "DGS2",
        regime_window: Annotated[int, typer.Option(help="Weeks of rate change that define the regime.")] = 13,
        threshold: Annotated[float, typer.Option(help="Rate change (percentage points) that counts as rising/falling.")] = 0.25,
        rolling_window: Annotated[int, typer.Option(help="Rolling regression window (weeks).")] = 104,
        liquidity: Annotated[bool, typer.Option("--liquidity/--no-liquidity", help="Include net-liquidity changes as a factor.")] = True,
        weighting: WeightingOption = "equal",
    ) -> None:
        """Macro sensitivities (weekly, HAC): rates, real yields, USD, net liquidity; returns by rate regime."""
        from rotation.analytics.macro import (
            macro_factors,
            macro_sensitivity,
            net_liquidity,
            rate_regime,
            returns_by_regime,
            rolling_macro_sensitivity,
        )
        from rotation.panel import macro_panel

        with guard():
            weighting = check_weighting(weighting)
            uni = universe_from(universe)
            names = split_names(baskets) or default_baskets(uni)
            t0, t1 = parse_date(start, "--start"), parse_date(end, "--end")
            with open_existing_store(store) as db:
                panel = _weekly_panel(db, uni, baskets=names, symbols=[], start=t0, end=t1)
                try:
                    macro = macro_panel(db, uni, index=panel.index)
                except EmptyStoreError as exc:
                    raise EmptyStoreError(f"{exc}\n(macro needs FRED series: rotation fetch --source fred)") from None
            notes: list[str] = []
            levels, more = _basket_levels(panel, names, weighting)
            notes += more
            rets = levels / levels.shift(1) - 1.0
            needed = ["DGS2", "DFII10", usd]
            missing = [s for s in needed if s not in macro.columns]
            if missing:
                raise DataError(f"macro series not stored: {', '.join(missing)} (rotation fetch --source fred)")
            nl = None
            if liquidity:
                try:
                    nl = net_liquidity(macro)
                except (DataError, ParameterError) as exc:
                    notes.append(f"net liquidity unavailable ({exc}); regressions run without it")
            factors = macro_factors(macro, usd=usd, net_liquidity=nl)
            if nl is not None:
                s = nl.level.dropna()
                t = Table(title="Net liquidity = Fed assets - TGA - reverse repo (USD bn, as published)")
                for col in ("series", "from", "to", "then", "now", "change"):
                    t.add_column(col, justify="left" if col in {"series", "from", "to"} else "right")
                for name, row in nl.to_frame().iterrows():
                    t.add_row(str(name), fmt_day(row.get("first_date")), fmt_day(row.get("last_date")),
                              fmt_num(row.get("first_bn"), "{:,.0f}"), fmt_num(row.get("last_bn"), "{:,.0f}"),
                              fmt_num(row.get("change_bn"), "{:+,.0f}"))
                console.print(t)
                if len(s) and s.index[-1] < panel.index[-1] - pd.Timedelta(days=21):
                    notes.append(
                        f"net liquidity is known only until {fmt_day(s.index[-1])} (a component series ends); "
                        "regressions that include it stop there: --no-liquidity for the full window"
                    )
            sens = macro_sensitivity(rets, factors)
            terms = [c for c in sens.coef.columns if c != "const"]
            labels = {"d_DGS2": "2y yield (per pp)", "d_DFII10": "10y real (per pp)", "r_USD": f"{usd} (per 1.0)",
                      "r_NET_LIQUIDITY": "net liquidity (per 1.0)"}
            t = Table(title="Weekly basket return on factor changes: beta (HAC t)  [Newey-West, statsmodels]")
            t.add_column("basket")
            for term in terms:
                t.add_column(labels.get(term, term), justify="right")
            for col in ("R2", "N", "window"):
                t.add_column(col, justify="right")
            for name in sens.coef.index:
                cells = [
                    "-" if not np.isfinite(sens.coef.at[name, term])
                    else f"{sens.coef.at[name, term]:+.3f} ({sens.t.at[name, term]:+.1f})"
                    for term in terms
                ]
                t.add_row(str(name), *cells, fmt_num(sens.r2[name], "{:.2f}"), str(int(sens.nobs[name])),
                          f"{fmt_day(sens.start[name])}..{fmt_day(sens.end[name])}")
            console.print(t)
            notes += list(sens.notes)

            roll = rolling_macro_sensitivity(rets, factors, window=rolling_window)
            latest = roll.to_frame()
            latest = latest[latest["term"] != "const"]
            if latest["coef"].notna().any():
                t = Table(title=f"Latest rolling betas ({rolling_window}-week window)")
                t.add_column("basket")
                t.add_column("as of")
                for term in terms:
                    t.add_column(labels.get(term, term), justify="right")
                t.add_column("N", justify="right")
                for name, g in latest.groupby("series", sort=False):
                    g = g.set_index("term")
                    t.add_row(str(name), fmt_day(g["date"].dropna().max() if g["date"].notna().any() else None),
                              *[fmt_num(g.at[term, "coef"], "{:+.3f}") for term in terms], str(int(g["nobs"].max())))
                console.print(t)

            if rate not in macro.columns:
                notes.append(f"{rate} not stored: no rate regimes")
            else:
                regime = rate_regime(macro[rate], window=regime_window, threshold=threshold)
                try:
                    rr = returns_by_regime(rets, regime, lag=1, periods_per_year=52)
                except DataError as exc:
                    notes.append(f"rate regimes: {exc}")
                else:
                    t = Table(title=f"Weekly returns by {rate} regime ({regime_window}-week change beyond "
                                    f"+/-{threshold} pp, known the week before; HAC t)")
                    for col in ("basket", "regime", "weeks", "mean/week", "annualised", "t", "p"):
                        t.add_column(col, justify="left" if col in {"basket", "regime"} else "right")
                    for r in rr.table.itertuples():
                        t.add_row(str(r.series), str(r.regime), str(r.n), fmt_num(r.mean, "{:+.2%}"),
                                  fmt_num(r.ann_mean, "{:+.1%}"), fmt_num(r.t, "{:+.2f}"), fmt_num(r.p, "{:.3f}"))
                    console.print(t)
                    for r in rr.differences.itertuples():
                        console.print(f"{r.series}: {r.contrast} = {r.diff:+.2%}/week (t {r.t:+.2f}, p {r.p:.3f}); "
                                      f"all regimes equal: p {rr.equal_means_p[r.series]:.3f}", highlight=False)
            print_notes(notes)
