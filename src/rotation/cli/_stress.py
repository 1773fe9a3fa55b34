"""``rotation stress``: drawdown frequency per basket and shock scenarios, from the store.

Builds a **daily** session panel (drawdown depths and durations need daily
troughs), builds each basket's index (equal weights by default, see
``--weighting``) and runs :func:`rotation.analytics.stress.stress`: the
frequency and duration of 10/15/20% drawdowns, then for each ``--shock`` the
response of the other baskets from weekly betas (full, downside,
conditional; HAC intervals) and from historical analogue windows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import numpy as np
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
from rotation.errors import ParameterError

__all__ = ["parse_shocks", "register"]

_METHODS = (("beta", "beta"), ("downside_beta", "downside beta"), ("conditional_beta", "tail beta"))


def _number(text: str, option: str) -> float:
    """A return from ``-0.15`` or ``-15%``."""
    t = text.strip()
    try:
        return float(t[:-1]) / 100.0 if t.endswith("%") else float(t)
    except ValueError:
        raise ParameterError(option, f"not a number: {text!r} (write -0.15 or -15%)") from None


def parse_shocks(values: Sequence[str] | None) -> dict[str, tuple[float, ...]] | None:
    """``["ai_compute=-0.10,-15%", "ai_cloud=-0.2"]`` -> ``{"ai_compute": (-0.10, -0.15), "ai_cloud": (-0.2,)}``.

    Values are returns (``-0.15``) or percentages (``-15%``), several separated
    by commas or slashes; repeating a basket adds shocks. ``None`` when empty.
    """
    out: dict[str, list[float]] = {}
    for raw in values or []:
        name, sep, rhs = raw.partition("=")
        name = name.strip()
        if not sep or not name or not rhs.strip():
            raise ParameterError("--shock", f"expected BASKET=RETURN such as ai_compute=-0.15 or ai_compute=-15%, "
                                            f"got {raw!r}")
        parts = [p for p in rhs.replace("/", ",").split(",") if p.strip()]
        out.setdefault(name, []).extend(_number(p, "--shock") for p in parts)
    return {k: tuple(dict.fromkeys(v)) for k, v in out.items()} or None


def _numbers(text: str | None, option: str, *, integer: bool = False) -> tuple | None:
    if text is None:
        return None
    parts = [p for p in text.replace("/", ",").split(",") if p.strip()]
    if not parts:
        raise ParameterError(option, f"expected a comma-separated list, got {text!r}")
    if integer:
        try:
            return tuple(int(p) for p in parts)
        except ValueError:
            raise ParameterError(option, f"expected whole numbers such as 1,2,3,4, got {text!r}") from None
    return tuple(abs(_number(p, option)) for p in parts)


def _pct(x: float, fmt: str = "{:+.1%}") -> str:
    return "-" if x is None or not np.isfinite(x) else fmt.format(x)


def _band(lo: float, hi: float) -> str:
    return f"[{_pct(lo)}, {_pct(hi)}]" if np.isfinite(lo) and np.isfinite(hi) else ""


def _days(median: float, mx: float) -> str:
    if not (np.isfinite(median) or np.isfinite(mx)):
        return "-"
    return f"{fmt_num(median, '{:,.0f}')} / {fmt_num(mx, '{:,.0f}')}"


def register(app: typer.Typer) -> None:
    """Add ``stress`` to ``app``."""

    @app.command("stress")
    def stress_command(
        store: StoreOption = None,
        universe: UniverseOption = None,
        start: StartOption = None,
        end: EndOption = None,
        shock: Annotated[
            list[str] | None,
            typer.Option(
                "--shock",
                help="BASKET=RETURN to shock, e.g. ai_compute=-0.15 or ai_compute=-10%,-15% (repeatable) "
                     "[default: the first ai basket at -10% and -15%].",
            ),
        ] = None,
        baskets: BasketsOption = None,
        weighting: WeightingOption = "equal",
        thresholds: Annotated[
            str | None, typer.Option("--thresholds", help="Drawdown depths, e.g. 10%,15%,20% or 0.1,0.15,0.2.")
        ] = None,
        windows: Annotated[
            str | None, typer.Option("--windows", help="Analogue window lengths in weeks [default: 1,2,3,4].")
        ] = None,
        band: Annotated[
            float, typer.Option("--band", help="Analogue band around the shock (0.025 = +/- 2.5 points).")
        ] = 0.025,
        episodes: Annotated[int, typer.Option("--episodes", help="Deepest episodes listed per basket.")] = 5,
    ) -> None:
        """Stress: frequency/duration of 10-20% drawdowns per basket, and what a basket shock implies for the others."""
        from rotation.analytics.stress import DEFAULT_THRESHOLDS, DEFAULT_WINDOW_LENGTHS, stress
        from rotation.panel import build_panel

        with guard():
            weighting = check_weighting(weighting)
            if episodes < 0:
                raise ParameterError("--episodes", f"must be >= 0, got {episodes}")
            uni = universe_from(universe)
            shocks = parse_shocks(shock)
            names = split_names(baskets) or default_baskets(uni)
            if shocks:
                names = list(dict.fromkeys([*names, *shocks]))
            for b in names:
                uni.basket(b)  # unknown basket -> UniverseError naming the known ones
            ths = _numbers(thresholds, "--thresholds") or DEFAULT_THRESHOLDS
            lengths = _numbers(windows, "--windows", integer=True) or DEFAULT_WINDOW_LENGTHS
            t0, t1 = parse_date(start, "--start"), parse_date(end, "--end")
            with open_existing_store(store) as db:
                # the whole history up to --end: basket indices start at their first data, then the window is cut
                panel = build_panel(db, uni, baskets=names, end=t1)
            res = stress(panel, shocks, baskets=names, weighting=weighting, start=t0, end=t1, thresholds=ths,
                         window_lengths=lengths, band=band)

            summary = res.drawdowns.summary
            freq = {"D": "daily", "W": "weekly"}.get(res.frequency, "given")
            t = Table(title=f"Drawdowns of at least {', '.join(f'{h:.0%}' for h in res.drawdowns.thresholds)} "
                            f"({freq} levels, {fmt_day(res.start)} .. {fmt_day(res.end)}, {weighting} weights)")
            for col in ("basket", "depth", "episodes", "per year", "open", "days to trough", "days to recovery",
                        "open for", "deepest", "since", "years"):
                t.add_column(col, justify="left" if col in {"basket", "since"} else "right", no_wrap=True)
            previous = None
            for r in summary.itertuples():
                first = r.symbol != previous
                previous = r.symbol
                t.add_row(str(r.symbol) if first else "", f"{r.threshold:.0%}", str(r.episodes),
                          fmt_num(r.per_year, "{:.2f}"), "yes" if r.open else "no",
                          _days(r.median_days_to_trough, r.max_days_to_trough),
                          _days(r.median_days_to_recovery, r.max_days_to_recovery),
                          fmt_num(r.open_days, "{:,.0f} d"), _pct(r.deepest),
                          fmt_day(r.first_date) if first else "", fmt_num(r.years, "{:.1f}") if first else "",
                          end_section=bool(r.threshold == res.drawdowns.thresholds[-1]))
            console.print(t)
            console.print("An episode starts when the fall from the running peak reaches the depth and ends when "
                          "the level is back at that peak. Days (median / max) are calendar days from the peak; "
                          "recovery counts recovered episodes only, 'open for' is the time underwater so far of "
                          "one that has not recovered.", style="dim", highlight=False)

            if episodes:
                ep = res.drawdowns.episodes
                ep = ep[ep["threshold"] == res.drawdowns.thresholds[0]]
                order = {n: i for i, n in enumerate(res.levels.columns)}
                top = (ep.assign(_o=ep["symbol"].map(order)).sort_values(["_o", "depth"], kind="stable")
                       .groupby("symbol", sort=False).head(episodes))
                t = Table(title=f"Deepest episodes per basket (at most {episodes})")
                for col in ("basket", "peak", f"{res.drawdowns.thresholds[0]:.0%} reached", "trough", "recovery",
                            "depth", "days to trough", "days to recovery"):
                    t.add_column(col, justify="left" if col in {"basket", "peak", "trough", "recovery"}
                                 or col.endswith("reached") else "right")
                for r in top.itertuples():
                    t.add_row(str(r.symbol), fmt_day(r.peak), fmt_day(r.start), fmt_day(r.trough),
                              fmt_day(r.recovery) if r.recovered else "open", _pct(r.depth),
                              str(int(r.days_to_trough)), fmt_num(r.days_to_recovery, "{:,.0f}"))
                console.print(t)

            for name, sc in res.scenarios.items():
                for x in sc.shocks:
                    rows = sc.responses[sc.responses["shock"] == x]
                    n_win = int((sc.windows["shock"] == x).sum())
                    t = Table(title=f"Scenario: {name} {x:+.0%} (weekly returns). Betas: response = beta x shock, "
                                    f"[{sc.level:.0%} HAC CI]; analogues: {n_win} non-overlapping windows of "
                                    f"{','.join(map(str, sc.window_lengths))} weeks with {name} at {x:+.1%} "
                                    f"+/- {sc.band:.1%}, median [{sc.quantiles[0]:.0%}, {sc.quantiles[1]:.0%}]")
                    t.add_column("basket")
                    for _, label in _METHODS:
                        t.add_column(label, justify="right")
                    t.add_column("analogues", justify="right")
                    t.add_column("n", justify="right")
                    for series, g in rows.groupby("series", sort=False):
                        g = g.set_index("method")
                        cells = []
                        for method, _ in _METHODS:
                            if method in g.index and np.isfinite(g.at[method, "response"]):
                                cells.append(f"{_pct(g.at[method, 'response'])} "
                                             f"{_band(g.at[method, 'low'], g.at[method, 'high'])}")
                            else:
                                cells.append("-")
                        a = g.loc["analogues"] if "analogues" in g.index else None
                        cells.append("-" if a is None or not np.isfinite(a["response"])
                                     else f"{_pct(a['response'])} {_band(a['low'], a['high'])}")
                        cells.append(str(int(a["n"])) if a is not None else "0")
                        t.add_row(str(series), *cells)
                    console.print(t)
                betas = sc.betas
                if "downside_beta" in betas and "conditional_beta" in betas:
                    console.print(
                        f"downside beta: weeks with {name} < {betas['downside_beta'].cutoff:+.1%}; tail beta: its "
                        f"worst {betas['conditional_beta'].quantile:.0%} of weeks (<= "
                        f"{betas['conditional_beta'].cutoff:+.1%}). Analogue n: windows in which the basket was "
                        "observed; adjacent windows are allowed.", style="dim", highlight=False)
            notes = list(res.notes)
            for sc in res.scenarios.values():
                notes += list(sc.notes)
            print_notes(notes + quality_notes(panel))
