"""``rotation events``: event studies (market-model CARs with t, BMP and Kolari-Pynnonen tests).

Builds a **daily** panel (NYSE sessions) from the store, the daily returns of the chosen baskets'
indices (``--level basket``, default; equal weights unless ``--weighting``) or of their members
(``--level members``, one cross-section per basket), and runs
:func:`rotation.analytics.events.event_study` on the events file (the shipped default, or
``--events FILE`` / ``$ROTATION_EVENTS``). Prints, per event kind and basket, the mean CAR of
each window with its KP-widened confidence interval and the p-values of the cross-sectional t,
BMP and KP tests, then the relative CAR of a crypto basket minus an AI basket (R4).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

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
    split_names,
    universe_from,
)
from rotation.errors import DataError, ParameterError

__all__ = ["parse_windows", "register"]

_LEVELS = ("basket", "members")


def parse_windows(values: list[str] | None) -> list[tuple[int, int]] | None:
    """``["-1:1,0:5", "0:20"]`` -> ``[(-1, 1), (0, 5), (0, 20)]`` (None when nothing given).

    Raises
    ------
    ParameterError
        A window is not ``start:end`` with integers and start <= end.
    """
    out: list[tuple[int, int]] = []
    for raw in split_names(values):
        parts = raw.split(":")
        try:
            a, b = (int(p) for p in parts)
        except ValueError:
            raise ParameterError("--windows", f"expected START:END in event days (-1:1,0:5), got {raw!r}") from None
        if b < a:
            raise ParameterError("--windows", f"window {raw} ends before it starts")
        out.append((a, b))
    return out or None


def _relative_pairs(values: list[str] | None, uni, names: list[str]) -> list[tuple[str, str]]:
    """``--relative a:b`` pairs; by default the first crypto basket minus the first AI basket studied."""
    if values:
        pairs = []
        for raw in split_names(values):
            parts = raw.split(":")
            if len(parts) != 2 or not all(parts):
                raise ParameterError("--relative", f"expected BASKET_A:BASKET_B, got {raw!r}")
            for p in parts:
                uni.basket(p)  # unknown basket -> UniverseError naming the known ones
            pairs.append((parts[0], parts[1]))
        return pairs
    crypto = next((n for n in names if uni.baskets[n].role == "crypto"), None)
    ai = next((n for n in names if uni.baskets[n].role == "ai"), None)
    return [(crypto, ai)] if crypto and ai else []


def _pct(x: object, fmt: str = "{:+.2%}") -> str:
    return fmt_num(x, fmt)


def _summary_table(res, key: str, title: str, level: str) -> Table:
    t = Table(title=title)
    for col in ("basket" if level == "basket" else "cross-section", "window", "N", "mean CAR", "95% CI (KP)",
                "p t", "p BMP", "p KP", "r-bar"):
        t.add_column(col, justify="left" if col in {"basket", "cross-section", "window"} else "right", no_wrap=True)
    rows = res.summary[res.summary[res.key] == key]
    last = None
    for r in rows.itertuples():
        if last is not None and r.group != last:
            t.add_section()
        single = r.n == 1
        t.add_row(
            str(r.group) if r.group != last else "", str(r.window), str(r.n), _pct(r.mean_car),
            "-" if single else f"[{_pct(r.ci_low)}, {_pct(r.ci_high)}]",
            fmt_num(r.p_single if single else r.p_t, "{:.3f}"), fmt_num(r.p_bmp, "{:.3f}"), fmt_num(r.p_kp, "{:.3f}"),
            fmt_num(r.rbar, "{:.2f}"),
        )
        last = r.group
    return t


def _exclusion_notes(res, *, basket_level: bool, show: int = 8) -> list[str]:
    ex = res.excluded
    if ex.empty:
        return []
    notes = []
    whole = ex[(ex["window"] == "") & (ex["series"] != "")]
    for r in whole.head(show).itertuples():
        notes.append(f"{r.series} left out of {r.event}: {r.reason}")
    if len(whole) > show:
        notes.append(f"... and {len(whole) - show} more (event, series) pairs without a usable estimation window")
    events = ex[ex["series"] == ""]
    if basket_level:  # events about single instruments are summarised by the caller
        events = events[events["reason"] != "affects no series of the study"]
    for r in events.itertuples():
        notes.append(f"event {r.event}: {r.reason}")
    partial = ex[ex["window"] != ""]
    if len(partial):
        by_window = partial.groupby("window", observed=True).size()
        notes.append("CARs left out for incomplete windows (data end or missing returns): "
                     + ", ".join(f"{w} {n}" for w, n in by_window.items()))
    return notes


def register(app: typer.Typer) -> None:
    """Add ``events`` to ``app``."""

    @app.command("events")
    def events_command(
        store: StoreOption = None,
        universe: UniverseOption = None,
        events: Annotated[
            Path | None,
            typer.Option("--events", help="Events file, TOML or CSV [env ROTATION_EVENTS; default: shipped]."),
        ] = None,
        kind: Annotated[
            list[str] | None,
            typer.Option("--kind", "-k", help="Event kinds to study (comma-separated or repeated) [default: all]."),
        ] = None,
        baskets: BasketsOption = None,
        level: Annotated[
            str, typer.Option("--level", help="basket: basket-index returns; members: each basket's members.")
        ] = "basket",
        market: Annotated[str, typer.Option("--market", help="Market: an instrument or a basket.")] = "SPY",
        windows: Annotated[
            list[str] | None,
            typer.Option("--windows", "-w", help="CAR windows START:END in event days [default: -1:1,0:5,0:20,0:60]."),
        ] = None,
        estimation: Annotated[int, typer.Option(help="Estimation window (sessions).")] = 250,
        gap: Annotated[int, typer.Option(help="Sessions between the estimation window and day 0.")] = 10,
        model: Annotated[str, typer.Option(help="Normal returns: market, mean or market_adjusted.")] = "market",
        by: Annotated[str, typer.Option(help="Cross-sections: kind, event or all.")] = "kind",
        relative: Annotated[
            list[str] | None,
            typer.Option("--relative", help="Relative CAR A:B, A minus B [default: first crypto - first ai basket]."),
        ] = None,
        no_relative: Annotated[bool, typer.Option("--no-relative", help="Skip the relative CAR.")] = False,
        start: StartOption = None,
        end: EndOption = None,
        weighting: WeightingOption = "equal",
        list_events: Annotated[bool, typer.Option("--list", help="List the events and exit.")] = False,
    ) -> None:
        """Event studies: CARs around FOMC decisions, QT, ETF approvals, IPOs, deals (t, BMP, Kolari-Pynnonen)."""
        from rotation.analytics.events import DEFAULT_WINDOWS, event_study
        from rotation.events import load_events
        from rotation.panel import build_panel

        with guard():
            weighting = check_weighting(weighting)
            if level not in _LEVELS:
                raise ParameterError("--level", f"must be basket or members, got {level!r}")
            uni = universe_from(universe)
            # a file the user names is checked strictly against the universe; the shipped one is
            # checked leniently (a custom universe may lack some of its instruments)
            evset = load_events(events, universe=uni if events is not None else None)
            kinds = split_names(kind) or None
            t0, t1 = parse_date(start, "--start"), parse_date(end, "--end")
            evset = evset.select(kinds, start=t0, end=t1)
            if list_events:
                _print_events(evset)
                return
            if not len(evset):
                raise DataError("no events left after --kind/--start/--end")
            wins = parse_windows(windows) or list(DEFAULT_WINDOWS)
            names = split_names(baskets) or default_baskets(uni)
            for b in names:
                uni.basket(b)
            market_is_basket = market in uni.baskets
            if not market_is_basket and market not in uni.instruments:
                raise ParameterError("--market", f"'{market}' is neither an instrument nor a basket of the universe")
            pairs = [] if no_relative else _relative_pairs(relative, uni, names)
            in_pairs = [b for p in pairs for b in p]
            needed = list(dict.fromkeys([*names, *in_pairs, *([market] if market_is_basket else [])]))
            with open_existing_store(store) as db:
                panel = build_panel(db, uni, symbols=[] if market_is_basket else [market], baskets=needed)
            notes: list[str] = []
            unknown = sorted(evset.names() - set(uni.instruments) - set(uni.baskets))
            if unknown:
                notes.append(f"events name {', '.join(unknown)}, not in the universe: left out")
            w = None if weighting == "basket" else weighting
            if market_is_basket:
                mkt = panel.basket_returns(market, w).rename(market)
            else:
                if market not in panel.returns.columns or not panel.returns[market].notna().any():
                    raise DataError(f"market {market}: no prices stored")
                mkt = panel.returns[market].rename(market)
            basket_rets, missing = {}, []
            for b in dict.fromkeys([*names, *in_pairs]):
                try:
                    basket_rets[b] = panel.basket_returns(b, w)
                except DataError as exc:
                    missing.append(f"{b}: left out ({exc})")
            notes += missing
            kw = {"market": mkt, "estimation": estimation, "gap": gap, "windows": wins, "model": model, "by": by}
            pairs = [p for p in pairs if p[0] in basket_rets and p[1] in basket_rets]
            if level == "basket":
                if not any(b in basket_rets for b in names):
                    raise DataError("none of the baskets has member prices in the store: " + "; ".join(missing))
                data = pd.DataFrame(basket_rets)  # the studied baskets and those of the relative pairs
                if not any(e.affects_all or any(n in data.columns for n in e.affects) for e in evset):
                    raise DataError("none of these events names a studied basket (or \"all\"): events about single "
                                    "instruments are studied with --level members and --baskets holding them")
                res = event_study(data, evset, relative=pairs, **kw)
                rel_res = res
            else:
                members = {b: [m for m in uni.basket(b).members if m in panel.returns.columns and m != market]
                           for b in names}
                members = {b: ms for b, ms in members.items() if ms}
                cols = list(dict.fromkeys(m for ms in members.values() for m in ms))
                if not cols:
                    raise DataError("none of the baskets' members has prices in the store")
                res = event_study(panel.returns[cols], evset, groups=members, **kw)
                rel_res = None
                if pairs:  # the relative CAR is a basket-index quantity
                    rel_data = pd.DataFrame({b: basket_rets[b] for p in pairs for b in p})
                    try:
                        rel_res = event_study(rel_data, evset, relative=pairs, **kw)
                    except DataError as exc:
                        notes.append(f"relative CAR not computed: {exc}")
            _print(res, rel_res, pairs, evset, market, level, estimation, gap, model, weighting)
            skipped = _only_instrument_events(evset, res, level)
            if skipped:
                notes.append(f"{len(skipped)} event(s) name only instruments, not baskets ({', '.join(skipped[:4])}"
                             f"{', ...' if len(skipped) > 4 else ''}): study them with --level members")
            print_notes(notes + _exclusion_notes(res, basket_level=level == "basket") + list(res.notes))


def _only_instrument_events(evset, res, level: str) -> list[str]:
    if level != "basket":
        return []
    studied = set(res.events.loc[res.events["n_series"] > 0, "event"])
    return [e.id for e in evset if e.id not in studied and not e.affects_all]


def _print_events(evset) -> None:
    t = Table(title=f"Events ({len(evset)}) from {evset.path}")
    for col in ("date", "id", "kind", "timing", "affects", "label"):
        t.add_column(col, no_wrap=col in {"date", "id", "kind"})
    for e in evset:
        t.add_row(e.date.isoformat(), e.id, e.kind, e.timing, ", ".join(e.affects), e.label)
    console.print(t)


def _print(res, rel_res, pairs, evset, market, level, estimation, gap, model, weighting) -> None:
    desc = {"market": f"market model vs {market}", "mean": "constant-mean model",
            "market_adjusted": f"market-adjusted (minus {market})"}[model]
    sessions = res.events.set_index("event")["session"]
    for key in dict.fromkeys(res.summary[res.key]):
        if res.key == "kind":
            n_ev = int((res.events["kind"] == key).sum())
            head = f"{key} ({n_ev} event{'s' if n_ev != 1 else ''})"
        elif res.key == "event":
            e = evset[key]
            head = f"{key}: {e.label} (day 0 {fmt_day(sessions.get(key))})"
        else:
            head = f"all {len(res.events)} events pooled"
        title = (f"{head}: CARs, {desc} ({estimation}-session estimation, gap {gap}"
                 f"{'' if level == 'members' else f', {weighting} weights'})")
        console.print(_summary_table(res, key, title, level))
    if rel_res is not None and pairs:
        rel = rel_res.relative()
        if not rel.empty:
            t = Table(title="Relative CAR (A minus B): " + ", ".join(f"{a} - {b}" for a, b in pairs))
            for col in (rel_res.key, "pair", "window", "N", "mean CAR", "95% CI (KP)", "p t", "p BMP", "p KP"):
                t.add_column(col, justify="left" if col in {rel_res.key, "pair", "window"} else "right", no_wrap=True)
            for r in rel.itertuples():
                single = r.n == 1
                t.add_row(str(getattr(r, rel_res.key)), str(r.group), str(r.window), str(r.n), _pct(r.mean_car),
                          "-" if single else f"[{_pct(r.ci_low)}, {_pct(r.ci_high)}]",
                          fmt_num(r.p_single if single else r.p_t, "{:.3f}"), fmt_num(r.p_bmp, "{:.3f}"),
                          fmt_num(r.p_kp, "{:.3f}"))
            console.print(t)
    console.print(
        "CAR: sum of abnormal returns over the window (event days, day 0 = first session on/after the event; "
        "after-close news: the next session). p t: cross-sectional t (one CAR: its own time-series t); "
        "p BMP: Boehmer-Musumeci-Poulsen standardized test; p KP: Kolari-Pynnonen correction for correlated "
        "CARs (same-day events, overlapping windows), r-bar its average correlation. Crypto rows hold the prior "
        "UTC close: their reaction to a 14:00 ET announcement shows on day +1.",
        style="dim", highlight=False,
    )
