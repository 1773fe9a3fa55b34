"""``rotation regimes``: the current regime, its probabilities and durations, and recent change points.

The series analysed (weekly by default, ``--frequency D`` for sessions):

* ``--series X``: simple returns of instrument (or basket) ``X``;
* ``--basket A``: simple returns of basket ``A``;
* ``--basket A --vs B``: the rotation flow :math:`\\Delta\\ln L^A_t - \\Delta\\ln L^B_t`
  (per-period log growth of A minus that of B; ``B`` a basket or an instrument);
* nothing: the universe's first ai basket vs its first crypto basket.

Each side stops at its coverage end (the date at least half of a basket's
members were still observed, see :func:`rotation.analytics.performance.common_window`),
since forward-filled prices carry zero returns that a regime model would read
as a calm state.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
import pandas as pd
import typer
from rich.table import Table

from rotation.cli._common import (
    EndOption,
    StartOption,
    StoreOption,
    UniverseOption,
    WeightingOption,
    check_weighting,
    console,
    fmt_day,
    fmt_num,
    guard,
    open_existing_store,
    parse_date,
    print_notes,
    universe_from,
)
from rotation.errors import DataError, ParameterError

__all__ = ["register"]


def _component(panel, uni, name: str, weighting: str, option: str) -> tuple[pd.Series, pd.Timestamp, str]:
    """Levels of a basket or an instrument, its coverage end and a label."""
    from rotation.analytics.performance import common_window

    if name in uni.baskets:
        w = None if weighting == "basket" else weighting
        idx = panel.basket(name, w)
        end = common_window(panel, {name: idx}).end
        return idx.level.rename(name), end, f"basket {name} ({w or uni.basket(name).weighting}-weighted)"
    if name in panel.prices.columns:
        end = panel.last_observed.get(name, pd.NaT)
        if pd.isna(end):
            raise DataError(f"{name}: no observed price in the store")
        return panel.prices[name].rename(name), pd.Timestamp(end), f"instrument {name}"
    if name in uni.instruments:
        raise DataError(f"{name}: no prices stored")
    raise ParameterError(option, f"'{name}' is neither a basket nor an instrument of the universe")


def _build_series(panel, uni, *, series: str | None, basket: str | None, vs: str | None,
                  weighting: str) -> tuple[pd.Series, dict[str, pd.Series], str]:
    """The analysed series, the component returns (for correlation tests) and a description."""
    if series is not None:
        levels, end, label = _component(panel, uni, series, weighting, "--series")
        rets = (levels / levels.shift(1) - 1.0).loc[:end].rename(series)
        return rets, {series: rets}, f"simple returns of {label}"
    assert basket is not None
    la, ea, lab_a = _component(panel, uni, basket, weighting, "--basket")
    if vs is None:
        rets = (la / la.shift(1) - 1.0).loc[:ea].rename(basket)
        return rets, {basket: rets}, f"simple returns of {lab_a}"
    lb, eb, lab_b = _component(panel, uni, vs, weighting, "--vs")
    end = min(ea, eb)
    flow = (np.log(la).diff() - np.log(lb).diff()).loc[:end].rename(f"{basket} - {vs}")
    comps = {basket: (la / la.shift(1) - 1.0).loc[:end].rename(basket),
             vs: (lb / lb.shift(1) - 1.0).loc[:end].rename(vs)}
    return flow, comps, f"rotation flow: log growth of {lab_a} minus {lab_b} per period"


def _trim(s: pd.Series) -> pd.Series:
    """Drop leading/trailing NaN; refuse an interior gap (named by its date)."""
    valid = s.dropna()
    if valid.empty:
        raise DataError(f"{s.name}: no returns in the requested window")
    inner = s.loc[valid.index[0]: valid.index[-1]]
    if inner.isna().any():
        raise DataError(f"{s.name}: missing return on {inner.index[inner.isna().to_numpy()][0].date()} inside the "
                        "window; choose --start after it")
    return inner


def register(app: typer.Typer) -> None:
    """Add ``regimes`` to ``app``."""

    @app.command("regimes")
    def regimes_command(
        store: StoreOption = None,
        universe: UniverseOption = None,
        start: StartOption = None,
        end: EndOption = None,
        series: Annotated[str | None, typer.Option("--series", help="Instrument (or basket) whose returns to model.")] = None,
        basket: Annotated[str | None, typer.Option("--basket", help="Basket whose returns to model [default: first ai basket].")] = None,
        vs: Annotated[str | None, typer.Option("--vs", help="Model the rotation flow --basket minus this basket or instrument [default with no --basket/--series: first crypto basket].")] = None,
        k: Annotated[int, typer.Option("--k", help="Number of regimes (2 or 3).")] = 2,
        model: Annotated[str, typer.Option("--model", help="markov (statsmodels) or hmm (hmmlearn, extra rotation[hmm]).")] = "markov",
        order_by: Annotated[str, typer.Option("--order-by", help="State 0 = lowest mean or lowest variance.")] = "mean",
        frequency: Annotated[str, typer.Option("--frequency", help="W (weekly, last session of each week) or D (sessions).")] = "W",
        weighting: WeightingOption = "equal",
        penalty: Annotated[str, typer.Option("--penalty", help="Change-point penalty: bic, aic or a number.")] = "bic",
        min_size: Annotated[int, typer.Option("--min-size", help="Shortest segment between change points (rows).")] = 10,
        realtime: Annotated[bool, typer.Option("--realtime/--no-realtime", help="Also run the expanding-window (real-time) change-point detection for detection delays.")] = True,
        break_date: Annotated[list[str] | None, typer.Option("--break-date", help="Test for a break in mean, volatility and correlation at this date (repeatable), e.g. 2024-01-11.")] = None,
        window: Annotated[int | None, typer.Option("--window", help="Rows on each side of --break-date [default: one year].")] = None,
        benchmark: Annotated[str | None, typer.Option("--benchmark", help="Correlation partner in break tests [default: --vs, else SPY].")] = None,
        recent: Annotated[int, typer.Option("--recent", help="Regime spells and change points to list.")] = 5,
    ) -> None:
        """Regimes (Markov switching / HMM) and structural breaks of basket returns or a rotation flow."""
        from rotation.analytics.breaks import (
            change_points,
            chow_test,
            correlation_break,
            expanding_change_points,
            volatility_break,
        )
        from rotation.analytics.regimes import regimes
        from rotation.panel import build_panel

        with guard():
            weighting = check_weighting(weighting)
            if frequency not in {"W", "D"}:
                raise ParameterError("--frequency", f"must be W or D, got {frequency!r}")
            if series is not None and (basket is not None or vs is not None):
                raise ParameterError("--series", "give either --series or --basket [--vs], not both")
            if vs is not None and basket is None:
                raise ParameterError("--vs", "needs --basket")
            if recent < 1:
                raise ParameterError("--recent", f"must be >= 1, got {recent}")
            pen: str | float = penalty
            if penalty not in {"bic", "aic"}:
                try:
                    pen = float(penalty)
                except ValueError:
                    raise ParameterError("--penalty", f"must be bic, aic or a number, got {penalty!r}") from None
            uni = universe_from(universe)
            if series is None and basket is None:
                roles = {n: b.role for n, b in uni.baskets.items()}
                basket = next((n for n, r in roles.items() if r == "ai"), None)
                vs = next((n for n, r in roles.items() if r == "crypto"), None)
                if basket is None or vs is None:
                    raise ParameterError("--basket", "the universe has no ai or no crypto basket: name one with --basket or --series")
            t0, t1 = parse_date(start, "--start"), parse_date(end, "--end")
            names = [x for x in (series, basket, vs, benchmark) if x is not None]
            bench_default = None
            if benchmark is None and vs is None and "SPY" in uni.instruments and "SPY" not in names:
                bench_default = "SPY"
                names.append("SPY")
            baskets_needed = [x for x in names if x in uni.baskets]
            symbols = [x for x in names if x not in uni.baskets]
            with open_existing_store(store) as db:
                panel = build_panel(db, uni, symbols=symbols or None, baskets=baskets_needed or None,
                                    end=t1, frequency=frequency)
            ppy = 52.0 if frequency == "W" else 252.0
            y, comps, what = _build_series(panel, uni, series=series, basket=basket, vs=vs, weighting=weighting)
            y = _trim(y.loc[t0:])
            notes: list[str] = []

            res = regimes(y, k, model=model, order_by=order_by, periods_per_year=ppy)  # type: ignore[arg-type]
            unit = "weeks" if frequency == "W" else "sessions"
            console.print(
                f"[bold]{y.name}[/]: {what}; {fmt_day(y.index[0])} .. {fmt_day(y.index[-1])} ({len(y)} {unit})",
                highlight=False, soft_wrap=True,
            )
            cur = res.current_state
            pf = res.filtered.iloc[-1]
            console.print(
                f"Current regime ({fmt_day(y.index[-1])}, filtered - data up to that date): "
                f"[bold]state {cur}[/] with probability {pf.iloc[cur]:.0%}",
                highlight=False,
            )
            t = Table(title=f"{k}-state {'Markov-switching (statsmodels)' if model == 'markov' else 'hidden Markov (hmmlearn)'} "
                            f"model, states ordered by {order_by}; log-lik {res.llf:,.1f}, BIC {res.bic:,.1f}")
            for col in ("state", "mean/period", "ann. mean", "ann. vol", f"exp. duration ({unit})", "P(stay)",
                        "long-run share", "P now (filtered)", "P now (smoothed)"):
                t.add_column(col, justify="right")
            for j, row in res.to_frame().iterrows():
                t.add_row(str(j), fmt_num(row["mean"], "{:+.3%}"), fmt_num(row["ann_mean"], "{:+.0%}"),
                          fmt_num(row["ann_volatility"], "{:.0%}"), fmt_num(row["expected_duration"], "{:.1f}"),
                          fmt_num(row["p_stay"], "{:.3f}"), fmt_num(row["ergodic"], "{:.0%}"),
                          fmt_num(row["filtered_now"], "{:.0%}"), fmt_num(row["smoothed_now"], "{:.0%}"))
            console.print(t)
            tm = Table(title="Transition probabilities")
            tm.add_column("from")
            for j in range(k):
                tm.add_column(f"to {j}", justify="right")
            for i, row in res.transition.iterrows():
                tm.add_row(str(i), *[f"{v:.3f}" for v in row])
            console.print(tm)
            sp = res.spells().tail(recent)
            ts = Table(title="Recent regime spells (smoothed)")
            for col in ("state", "from", "to", unit, "mean prob."):
                ts.add_column(col, justify="right" if col in {unit, "mean prob.", "state"} else "left")
            for r in sp.itertuples():
                ts.add_row(str(r.state), fmt_day(r.start), fmt_day(r.end), str(r.periods), f"{r.mean_probability:.0%}")
            console.print(ts)
            console.print("Smoothed probabilities use the whole sample (later data too); filtered ones use data up to "
                          "each date, with parameters estimated on the whole sample.", style="dim", highlight=False)
            notes += list(res.notes)

            # change points
            cp = change_points(y, penalty=pen, min_size=min_size, periods_per_year=ppy)
            delays = None
            if realtime:
                # every 4 weeks / 21 sessions: about monthly, keeps the reruns to ~1 s per 700 rows
                step = 4 if frequency == "W" else 21
                try:
                    delays = expanding_change_points(y, penalty=pen, min_size=min_size, step=step,
                                                     min_periods=max(2 * min_size, 52 if frequency == "W" else 252))
                except DataError as exc:
                    notes.append(f"real-time change points skipped: {exc}")
            seg = cp.to_frame().tail(recent + 1)
            tc = Table(title=f"Change points in mean and variance (ruptures Pelt, penalty {cp.penalty_rule} = "
                             f"{cp.penalty:.1f}, min segment {min_size} {unit}): {len(cp.breaks)} found, last {recent}")
            for col in ("break", "segment to", unit, "ann. mean", "ann. vol", "first detected (real time)", "delay"):
                tc.add_column(col, justify="left" if col in {"break", "segment to", "first detected (real time)"} else "right")
            for r in seg.itertuples():
                det, delay = "-", "-"
                if delays is not None and pd.notna(r.break_date):
                    hit = delays.first_detection(r.break_date, tolerance=2)
                    if pd.notna(hit["first_detected"]):
                        det, delay = fmt_day(hit["first_detected"]), f"{int(hit['delay_rows'])} {unit}"
                    else:
                        det = "not before the end"
                tc.add_row(fmt_day(r.break_date) if pd.notna(r.break_date) else "(start)", fmt_day(r.end), str(r.n),
                           fmt_num(r.ann_mean, "{:+.0%}"), fmt_num(r.ann_volatility, "{:.0%}"), det, delay)
            console.print(tc)
            if delays is not None:
                console.print(f"Real time: detection rerun on the data up to every {'4th week' if frequency == 'W' else '21st session'}; "
                              "a break counts as detected when one within 2 rows of its final date was first reported.",
                              style="dim", highlight=False)

            # break tests
            partner = benchmark or vs or bench_default
            win = window if window is not None else int(ppy)
            for bd in break_date or []:
                when = parse_date(bd, "--break-date")
                vb = volatility_break(y, when, window=win, periods_per_year=ppy)
                ch = chow_test(y, when, window=win)
                tb = Table(title=f"Break tests at {fmt_day(when)} ({win} {unit} each side: {fmt_day(vb.start)} .. {fmt_day(vb.end)})")
                for col in ("test", "before", "after", "statistic", "p (classical)", "p (robust)"):
                    tb.add_column(col, justify="left" if col == "test" else "right")
                tb.add_row(f"volatility of {y.name} (ann.)", fmt_num(vb.ann_vol_before, "{:.0%}"), fmt_num(vb.ann_vol_after, "{:.0%}"),
                           f"ratio {vb.ratio:.2f}", f"F {vb.p_value_f:.3f}",
                           f"BF {vb.p_value_levene:.3f} / HAC {vb.p_value_hac:.3f}")
                tb.add_row(f"mean of {y.name} (Chow)", fmt_num(ch.coef_before.iloc[0] * ppy, "{:+.0%}"),
                           fmt_num(ch.coef_after.iloc[0] * ppy, "{:+.0%}"), f"F {ch.f_stat:.2f}",
                           f"{ch.p_value:.3f}", f"HAC {ch.p_value_hac:.3f}")
                if partner is not None:
                    a_name = series or basket
                    a = comps.get(a_name) if a_name is not None else None
                    if vs is not None and partner == vs:
                        b = comps[vs]
                    else:
                        try:
                            lvl, pend, _ = _component(panel, uni, partner, weighting, "--benchmark")
                        except (DataError, ParameterError) as exc:
                            notes.append(f"correlation test skipped: {exc}")
                            b = None
                        else:
                            b = (lvl / lvl.shift(1) - 1.0).loc[:pend].rename(partner)
                    if a is not None and b is not None:
                        try:
                            cb = correlation_break(a, b, when, window=win)
                        except DataError as exc:
                            notes.append(f"correlation test at {fmt_day(when)}: {exc}")
                        else:
                            tb.add_row(f"correlation {a.name} / {b.name}", f"{cb.corr_before:+.2f}", f"{cb.corr_after:+.2f}",
                                       f"diff {cb.diff:+.2f} [{cb.ci_low:+.2f}, {cb.ci_high:+.2f}]",
                                       f"Fisher {cb.p_value_fisher:.3f}",
                                       f"HAC {cb.p_value_hac:.3f} / boot {cb.p_value_boot:.3f}")
                console.print(tb)
            if break_date:
                console.print("Robust p-values: BF = Brown-Forsythe, HAC = Newey-West, boot = moving-block bootstrap "
                              "(95% interval of the correlation change in brackets). Classical ones assume i.i.d. normal "
                              "returns.", style="dim", highlight=False)
            print_notes(notes)
