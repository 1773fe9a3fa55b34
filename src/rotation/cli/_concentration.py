"""``rotation concentration | contribution``: who holds a basket's market cap, and who made an index's gains.

``concentration`` builds a **daily** session panel of the baskets' members and
prints the Herfindahl index, effective number of members and top-k shares of
each basket's market cap now, one year and three years ago
(:func:`rotation.analytics.concentration.concentration`).

``contribution`` rebuilds an index (default the S&P 500) from the members the
store's membership spells give on the window start and prints how much of its
return and market-cap increase came from a set of members - by default the
universe's AI-basket members that are index members
(:func:`rotation.analytics.concentration.contribution`).

Both default to ``--cap-method backcast``: equity market caps usually exist
only as one snapshot (``../shared/data``), so historical caps are price x a
constant share count; the printed notes say so.
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
    StoreOption,
    UniverseOption,
    console,
    fmt_day,
    fmt_num,
    guard,
    open_existing_store,
    parse_date,
    print_notes,
    split_names,
    universe_from,
)
from rotation.errors import DataError, ParameterError

__all__ = ["register"]

CapMethodOption = Annotated[
    str,
    typer.Option(
        "--cap-method",
        help="Market caps: observed, carry (after an observation) or backcast (also before it, at constant shares).",
    ),
]


def _ints(value: str, name: str, minimum: int) -> list[int]:
    try:
        out = [int(p) for p in value.split(",") if p.strip()]
    except ValueError:
        raise ParameterError(name, f"expected comma-separated integers, got {value!r}") from None
    if not out or any(v < minimum for v in out):
        raise ParameterError(name, f"expected integers >= {minimum}, got {value!r}")
    return out


def _check_cap_method(cap_method: str) -> str:
    from rotation.panel import CAP_METHODS

    if cap_method not in CAP_METHODS:
        raise ParameterError("--cap-method", f"must be one of {', '.join(CAP_METHODS)}, got {cap_method!r}")
    return cap_method


def register(app: typer.Typer) -> None:
    """Add ``concentration`` and ``contribution`` to ``app``."""

    @app.command("concentration")
    def concentration_command(
        store: StoreOption = None,
        universe: UniverseOption = None,
        baskets: BasketsOption = None,
        end: EndOption = None,
        k: Annotated[str, typer.Option("--k", help="Top-k shares to show (comma-separated).")] = "1,3",
        years: Annotated[str, typer.Option("--years", help="Also show the baskets this many years before "
                                                           "the latest date (comma-separated).")] = "1,3",
        min_coverage: Annotated[float, typer.Option(
            "--min-coverage", help="Dates on which fewer than this fraction of a basket's members have a "
                                   "market cap are not measured.")] = 0.5,
        cap_method: CapMethodOption = "backcast",
    ) -> None:
        """Market-cap concentration of baskets (daily): HHI, effective number, top-k shares, now and years ago."""
        from rotation.analytics.concentration import concentration
        from rotation.panel import build_panel

        with guard():
            ks = _ints(k, "--k", 1)
            ys = [0, *[y for y in _ints(years, "--years", 1) if y != 0]]
            cap_method = _check_cap_method(cap_method)
            if not 0.0 <= min_coverage <= 1.0:
                raise ParameterError("--min-coverage", f"must be in [0, 1], got {min_coverage}")
            uni = universe_from(universe)
            names = split_names(baskets) or [n for n, b in uni.baskets.items() if b.role == "ai"]
            if not names:
                raise ParameterError("--baskets", "the universe has no ai basket: name the baskets with --baskets")
            for n in names:
                uni.basket(n)
            t1 = parse_date(end, "--end")
            with open_existing_store(store) as db:
                panel = build_panel(db, uni, baskets=names, end=t1, cap_method=cap_method)
            groups = {n: list(uni.basket(n).members) for n in names}
            res = concentration(panel.with_observed_caps(), groups, k=ks, min_coverage=min_coverage)
            snaps = res.snapshots(ys)
            table = Table(title=f"Market-cap concentration (daily; caps: {cap_method}; members with a cap only)")
            cols = ["basket", "when", "date", "with cap", "HHI", "effective N", "leader",
                    *[f"top-{kk}" for kk in ks], "HHI normalised"]
            for col in cols:
                table.add_column(col, justify="left" if col in {"basket", "when", "date", "leader"} else "right",
                                 no_wrap=True)
            for r in snaps.itertuples(index=False):
                row = r._asdict()
                table.add_row(
                    str(row["basket"]), str(row["when"]), fmt_day(row["date"]),
                    "-" if pd.isna(row["n_with_cap"]) else f"{int(row['n_with_cap'])}/{int(row['n_members'])}",
                    fmt_num(row["hhi"], "{:.3f}"), fmt_num(row["effective_number"], "{:.2f}"),
                    str(row["leader"]) if isinstance(row["leader"], str) else "-",
                    *[fmt_num(row[f"top_{kk}"], "{:.1%}") for kk in ks],
                    fmt_num(row["hhi_normalised"], "{:.3f}"),
                )
            console.print(table)
            for name in names:
                g = snaps[snaps["basket"] == name].set_index("when")["hhi"]
                far = f"{max(ys)}y ago"
                if len(ys) > 1 and pd.notna(g.get("latest")) and pd.notna(g.get(far)):
                    move = g["latest"] - g[far]
                    word = "more" if move > 0 else "less"
                    console.print(f"{name}: HHI {g[far]:.3f} -> {g['latest']:.3f} ({move:+.3f}; {word} concentrated "
                                  f"than {far})", highlight=False)
            console.print(
                "HHI = sum of squared shares (1/n when n members are equal, 1 when one holds everything); "
                "effective N = 1/HHI; shares are of the basket's members that have a market cap that day.",
                style="dim", highlight=False,
            )
            print_notes(list(res.notes))

    @app.command("contribution")
    def contribution_command(
        store: StoreOption = None,
        universe: UniverseOption = None,
        start: Annotated[str, typer.Option("--start", help="Window start (YYYY-MM-DD).")] = "2022-12-30",
        end: EndOption = None,
        index: Annotated[str, typer.Option("--index", help="Index whose membership is stored.")] = "SP500",
        members: Annotated[list[str] | None, typer.Option(
            "--members", "-m", help="The set (comma-separated) [default: the universe's ai-basket members "
                                    "that are index members].")] = None,
        add: Annotated[list[str] | None, typer.Option("--add", help="Add to the set.")] = None,
        remove: Annotated[list[str] | None, typer.Option("--remove", help="Remove from the set.")] = None,
        set_name: Annotated[str, typer.Option("--set-name", help="Label of the set.")] = "AI-linked",
        linking: Annotated[str, typer.Option("--linking", help="Linking of daily contributions: carino, "
                                                               "menchero or grap.")] = "carino",
        top: Annotated[int, typer.Option("--top", help="Also list this many of the largest other contributors.")] = 10,
        cap_method: CapMethodOption = "backcast",
    ) -> None:
        """Contribution of a set of members (AI-linked by default) to an index's return and market-cap increase."""
        from rotation.analytics.concentration import LINKING_METHODS, ai_linked_set, contribution, index_window
        from rotation.panel import build_panel

        with guard():
            if linking not in LINKING_METHODS:
                raise ParameterError("--linking", f"must be one of {', '.join(LINKING_METHODS)}, got {linking!r}")
            if top < 0:
                raise ParameterError("--top", f"must be >= 0, got {top}")
            cap_method = _check_cap_method(cap_method)
            uni = universe_from(universe)
            t0 = parse_date(start, "--start")
            t1 = parse_date(end, "--end")
            assert t0 is not None
            if t1 is not None and t1 <= t0:
                raise ParameterError("--end", f"end {t1.date()} is not after start {t0.date()}")
            with open_existing_store(store) as db:
                spells = db.read_membership(index)
                if spells.empty:
                    raise DataError(
                        f"no membership of index {index} in the store: import its spells first, e.g.\n"
                        f"  rotation import members.csv --kind membership --index-name {index}"
                    )
                changes = db.read_index_changes(index)
                window = index_window(spells, t0, t1, changes=changes, instruments=db.instruments())
                chosen = split_names(members)
                if chosen:
                    drop = set(split_names(remove))
                    the_set = [s for s in chosen + [a for a in split_names(add) if a not in chosen] if s not in drop]
                else:
                    the_set = ai_linked_set(uni, window.candidates, add=split_names(add), remove=split_names(remove))
                if not the_set:
                    raise ParameterError("--members", "the set is empty")
                panel = build_panel(db, uni, symbols=window.panel_symbols(the_set),
                                    start=t0 - pd.Timedelta(days=14), end=t1,
                                    cap_method=cap_method)
            res = contribution(panel, the_set, start=t0, end=t1, constituents=spells, changes=changes,
                               linking=linking, set_name=set_name, index_name=index)
            _print_contribution(res, top)


def _print_contribution(res, top: int) -> None:
    head = Table(title=f"{res.set_name} share of the {res.index_name}'s gains, {fmt_day(res.start)} .. {fmt_day(res.end)}")
    head.add_column("measure")
    head.add_column("value", justify="right")
    ex = res.excluded
    head.add_row("constituents used", f"{len(res.constituents)} of {res.n_members_start} members on {fmt_day(res.start)}")
    head.add_row("members without data (survivorship)", str(len(ex.get("no data", []))))
    head.add_row("members without a market cap", str(len(ex.get("no market cap", []))))
    head.add_row("loaded members that joined later (left out)", str(len(ex.get("not a member at start", []))))
    head.add_row(f"{res.set_name} members used", f"{len(res.members)}: {', '.join(res.members)}")
    head.add_row("index total return (buy and hold)", fmt_num(res.index_return, "{:+.1%}"))
    head.add_row("index total return (daily, compounded)", fmt_num(res.index_return_linked, "{:+.1%}"))
    head.add_row("index market cap (USD bn)", f"{res.cap_start / 1e9:,.0f} -> {res.cap_end / 1e9:,.0f} "
                                              f"({res.cap_change / 1e9:+,.0f})")
    head.add_row(f"{res.set_name} weight in the index", f"{res.set_weight_start:.1%} -> {res.set_weight_end:.1%}")
    console.print(head)

    cmp = Table(title=f"{res.set_name} share: computed vs published (R5)")
    for col in ("measure", "computed", "published", "difference (pp)"):
        cmp.add_column(col, justify="left" if col == "measure" else "right")
    labels = {"share of total return": "share of total return (buy and hold)",
              "share of total return (linked)": f"share of total return (linked, {res.linking})"}
    for r in res.comparison().itertuples(index=False):
        cmp.add_row(labels.get(r.measure, r.measure), fmt_num(r.computed, "{:.1%}"), fmt_num(r.published, "~{:.0%}"),
                    fmt_num(100 * r.difference, "{:+.1f}"))
    console.print(cmp)

    frame = res.to_frame()
    shown = pd.concat([frame[frame["in_set"]], frame[~frame["in_set"]].head(top)])
    t = Table(title=f"Contributions (buy and hold from {fmt_day(res.start)}; shares of the index total)")
    for col in ("symbol", "set", "weight start", "return", "contribution (pp)", "share of return",
                "cap change (USD bn)", "share of cap increase", f"linked share ({res.linking})"):
        t.add_column(col, justify="left" if col in {"symbol", "set"} else "right", no_wrap=True)
    for sym, r in shown.iterrows():
        t.add_row(str(sym), "yes" if r["in_set"] else "", fmt_num(r["weight_start"], "{:.2%}"),
                  fmt_num(r["return"], "{:+.0%}"), fmt_num(100 * r["contribution"], "{:+.2f}"),
                  fmt_num(r["share_of_return"], "{:.1%}"), fmt_num(r["cap_change"] / 1e9, "{:+,.0f}"),
                  fmt_num(r["share_of_cap_increase"], "{:.1%}"), fmt_num(r["share_of_linked"], "{:.1%}"))
    rest = frame[~frame["in_set"]].iloc[top:]
    if len(rest):
        t.add_row(f"{len(rest)} other member{'s' if len(rest) != 1 else ''}", "", fmt_num(rest["weight_start"].sum(), "{:.2%}"), "",
                  fmt_num(100 * rest["contribution"].sum(), "{:+.2f}"), fmt_num(rest["share_of_return"].sum(), "{:.1%}"),
                  fmt_num(rest["cap_change"].sum() / 1e9, "{:+,.0f}"), fmt_num(rest["share_of_cap_increase"].sum(), "{:.1%}"),
                  fmt_num(rest["share_of_linked"].sum(), "{:.1%}"))
    t.add_row(f"{res.set_name} total", "", fmt_num(res.set_weight_start, "{:.2%}"), "",
              fmt_num(100 * frame.loc[frame["in_set"], "contribution"].sum(), "{:+.2f}"),
              fmt_num(res.set_return_share, "{:.1%}"), fmt_num(frame.loc[frame["in_set"], "cap_change"].sum() / 1e9,
                                                         "{:+,.0f}"),
              fmt_num(res.set_cap_increase_share, "{:.1%}"), fmt_num(res.set_linked_share, "{:.1%}"))
    console.print(t)
    if not np.isfinite(res.set_return_share):
        console.print("the index's return is zero over the window: shares are undefined", style="yellow")
    print_notes(list(res.notes))
