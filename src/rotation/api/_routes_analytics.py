"""Analytics endpoints: basket levels, RRG, rotation index, market-cap shares, claims ledger.

Each endpoint parses its parameters, builds a panel from the store, calls
:mod:`rotation.analytics` / :mod:`rotation.claims` and serialises the result;
nothing is computed here.
"""

from __future__ import annotations

from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Query, Request

from rotation.api._params import LIMITS, parse_baskets, parse_choice, parse_int, parse_list, parse_range, parse_symbols
from rotation.api._routes_data import RESPONSES, _state
from rotation.api._schemas import (
    BasketLevelsOut,
    LedgerOut,
    RotationIndexOut,
    RrgOut,
    SharesOut,
    jsonable,
    records,
    split_frame,
)
from rotation.api.app import served
from rotation.errors import DataError, ParameterError

router = APIRouter()

Start = Annotated[str | None, Query(description="First date YYYY-MM-DD.")]
End = Annotated[str | None, Query(description="Last date YYYY-MM-DD.")]
Weighting = Annotated[str, Query(description="equal, cap, or basket (each basket's configured weighting).")]


def _default_baskets(uni: Any) -> list[str]:
    return [n for n, b in uni.baskets.items() if b.role in ("ai", "crypto")]


def _panel(st: Any, *, baskets: list[str], symbols: list[str], start: pd.Timestamp | None,
           end: pd.Timestamp | None, frequency: str, warmup_weeks: int = 0) -> Any:
    """Panel with ``warmup_weeks`` extra history before ``start`` so rolling measures are defined at ``start``."""
    from rotation.panel import build_panel

    read_start = start - pd.Timedelta(weeks=warmup_weeks + 1) if (start is not None and warmup_weeks) else start
    return build_panel(st.store, st.universe, symbols=symbols or None, baskets=baskets or None, start=read_start,
                       end=end, frequency=frequency, cap_method="backcast")


def _levels(panel: Any, baskets: list[str], weighting: str) -> tuple[pd.DataFrame, list[str]]:
    levels, notes = {}, []
    w = None if weighting == "basket" else weighting
    for b in baskets:
        try:
            levels[b] = panel.basket_levels(b, w)
        except DataError as exc:
            notes.append(f"{b}: left out ({exc})")
    if not levels:
        raise DataError("none of the baskets has member prices in the store: " + "; ".join(notes))
    return pd.DataFrame(levels), notes


def _trim(frame: pd.DataFrame, start: pd.Timestamp | None) -> pd.DataFrame:
    return frame if start is None else frame.loc[start:]


@router.get("/baskets/levels", response_model=BasketLevelsOut, tags=["analytics"], responses=RESPONSES)
@served
def basket_levels(
    request: Request,
    baskets: Annotated[str | None, Query(description="Comma-separated baskets (default: ai and crypto baskets).")]
    = None,
    start: Start = None,
    end: End = None,
    frequency: Annotated[str, Query(description="D or W.")] = "W",
    weighting: Weighting = "equal",
) -> Any:
    """Basket index levels (:meth:`rotation.panel.Panel.basket_levels`), rebased to 100 on the first date
    where every basket has a level (:func:`rotation.analytics.performance.rebase`)."""
    st = _state(request)
    names = parse_baskets(baskets, "baskets", st.universe, default=_default_baskets(st.universe))
    t0, t1 = parse_range(start, end)
    parse_choice(frequency, "frequency", ("D", "W"))
    parse_choice(weighting, "weighting", ("equal", "cap", "basket"))

    def compute() -> Any:
        from rotation.analytics.performance import rebase

        p = _panel(st, baskets=names, symbols=[], start=t0, end=t1, frequency=frequency)
        levels, notes = _levels(p, names, weighting)
        common = levels.dropna()
        at = common.index[0] if len(common) else levels.first_valid_index()
        out = split_frame(rebase(levels, at))
        out.update(frequency=frequency, weighting=weighting, base_date=jsonable(at), notes=notes)
        return out

    return st.cached("baskets/levels", {"b": tuple(names), "s": start, "e": end, "f": frequency, "w": weighting},
                     compute)


@router.get("/rrg", response_model=RrgOut, tags=["analytics"], responses=RESPONSES)
@served
def rrg_endpoint(
    request: Request,
    baskets: Annotated[str | None, Query(description="Comma-separated baskets (default: ai and crypto baskets "
                                                     "when no symbols are given).")] = None,
    symbols: Annotated[str | None, Query(description="Comma-separated instruments.")] = None,
    benchmark: Annotated[str, Query(description="An instrument or a basket.")] = "SPY",
    ratio_window: Annotated[int, Query(description="RS-Ratio z-score window (weeks), 2..260.")] = 12,
    momentum_window: Annotated[int, Query(description="RS-Momentum z-score window (weeks), 2..260.")] = 12,
    tail: Annotated[int, Query(description="Weekly points in each tail, 1..52.")] = 8,
    start: Start = None,
    end: End = None,
    weighting: Weighting = "equal",
) -> Any:
    """Relative rotation graph (weekly, :func:`rotation.analytics.rrg.rrg`): latest point per series with
    quadrant, heading and distance, and each series' tail."""
    st = _state(request)
    syms = parse_symbols(symbols, "symbols", st.known_symbols(), max_items=LIMITS["max_names"])
    names = parse_baskets(baskets, "baskets", st.universe, default=[] if syms else _default_baskets(st.universe))
    parse_int(ratio_window, "ratio_window", 2, 260)
    parse_int(momentum_window, "momentum_window", 2, 260)
    parse_int(tail, "tail", 1, LIMITS["max_tail"])
    parse_choice(weighting, "weighting", ("equal", "cap", "basket"))
    t0, t1 = parse_range(start, end)
    bench_is_basket = benchmark in st.universe.baskets
    if not bench_is_basket and benchmark not in st.known_symbols():
        raise ParameterError("benchmark", f"{benchmark[:40]!r} is neither an instrument nor a basket")

    def compute() -> Any:
        from rotation.analytics.rrg import rrg

        p = _panel(st, baskets=names + ([benchmark] if bench_is_basket else []),
                   symbols=syms + ([] if bench_is_basket else [benchmark]), start=t0, end=t1, frequency="W",
                   warmup_weeks=ratio_window + momentum_window + 2)
        notes: list[str] = []
        levels = _levels(p, names, weighting) if names else (pd.DataFrame(index=p.index), [])
        levels, notes = levels[0], list(levels[1])
        for s in syms:
            if s in p.prices.columns and p.prices[s].notna().any():
                levels[s] = p.prices[s]
            else:
                notes.append(f"{s}: no prices stored, left out")
        if levels.empty or not levels.shape[1]:
            raise DataError("no series with prices to plot")
        if bench_is_basket:
            bench = p.basket_levels(benchmark, None if weighting == "basket" else weighting).rename(benchmark)
        else:
            if benchmark not in p.prices.columns or not p.prices[benchmark].notna().any():
                raise ParameterError("benchmark", f"{benchmark}: no prices stored")
            bench = p.prices[benchmark].rename(benchmark)
        res = rrg(levels, bench, ratio_window=ratio_window, momentum_window=momentum_window)
        tails = res.tails(tail)
        if t0 is not None and "date" in tails.columns:
            tails = tails[tails["date"] >= t0]
        return {"benchmark": benchmark, "ratio_window": ratio_window, "momentum_window": momentum_window,
                "points": records(res.to_frame(), index="series"), "tails": records(tails), "notes": notes}

    params = {"b": tuple(names), "s": tuple(syms), "bm": benchmark, "rw": ratio_window, "mw": momentum_window,
              "t": tail, "st": start, "e": end, "w": weighting}
    return st.cached("rrg", params, compute)


@router.get("/rotation-index", response_model=RotationIndexOut, tags=["analytics"], responses=RESPONSES)
@served
def rotation_index_endpoint(
    request: Request,
    a: Annotated[str, Query(description="Rotation toward this basket.")] = "ai_compute",
    b: Annotated[str, Query(description="... away from this basket.")] = "crypto_majors",
    window: Annotated[int, Query(description="Growth window (weeks), 1..260.")] = 13,
    smooth: Annotated[int, Query(description="EMA span (weeks), 1..52.")] = 4,
    trend_window: Annotated[int, Query(description="Rolling-slope window of the trend (weeks), 3..260.")] = 13,
    start: Start = None,
    end: End = None,
    weighting: Weighting = "equal",
) -> Any:
    """Weekly rotation index (:func:`rotation.analytics.flows.rotation_index`): series (raw, smoothed,
    trend), sign changes, HAC drift and the headline table."""
    st = _state(request)
    (a_name,) = parse_baskets(a, "a", st.universe) or [None]
    (b_name,) = parse_baskets(b, "b", st.universe) or [None]
    if a_name is None or b_name is None:
        raise ParameterError("a" if a_name is None else "b", "name one basket")
    if a_name == b_name:
        raise ParameterError("b", "must differ from a")
    parse_int(window, "window", 1, 260)
    parse_int(smooth, "smooth", 1, 52)
    parse_int(trend_window, "trend_window", 3, 260)
    parse_choice(weighting, "weighting", ("equal", "cap", "basket"))
    t0, t1 = parse_range(start, end)

    def compute() -> Any:
        from rotation.analytics.flows import rotation_index

        p = _panel(st, baskets=[a_name, b_name], symbols=[], start=t0, end=t1, frequency="W",
                   warmup_weeks=window + smooth + trend_window)
        levels, notes = _levels(p, [a_name, b_name], weighting)
        if a_name not in levels or b_name not in levels:
            raise DataError("; ".join(notes))
        ri = rotation_index(levels[a_name], levels[b_name], window=window, smooth=smooth, trend_window=trend_window)
        series = pd.DataFrame({"raw": ri.raw, "index": ri.index, "trend": ri.trend, "trend_sign": ri.trend_sign})
        crossings = ri.crossings
        if t0 is not None and "date" in crossings.columns:
            crossings = crossings[crossings["date"] >= t0]
        return {"a": a_name, "b": b_name, "window": window, "smooth": smooth, "trend_window": trend_window,
                "series": split_frame(_trim(series, t0)), "crossings": records(crossings),
                "drift": jsonable(ri.drift), "headline": records(ri.to_frame()), "notes": notes}

    params = {"a": a_name, "b": b_name, "w": window, "sm": smooth, "tw": trend_window, "s": start, "e": end,
              "wt": weighting}
    return st.cached("rotation-index", params, compute)


@router.get("/flows/shares", response_model=SharesOut, tags=["analytics"], responses=RESPONSES)
@served
def flows_shares(
    request: Request,
    baskets: Annotated[str | None, Query(description="Comma-separated baskets (default: ai and crypto baskets).")]
    = None,
    start: Start = None,
    end: End = None,
) -> Any:
    """Weekly share of the baskets' combined market cap (:func:`rotation.analytics.flows.market_cap_share`),
    dates where every basket has a cap; equity caps are back-cast from the stored snapshot."""
    st = _state(request)
    names = parse_baskets(baskets, "baskets", st.universe, default=_default_baskets(st.universe))
    if len(names) < 2:
        raise ParameterError("baskets", "name at least two baskets")
    t0, t1 = parse_range(start, end)

    def compute() -> Any:
        from rotation.analytics.flows import basket_caps, market_cap_share

        p = _panel(st, baskets=names, symbols=[], start=t0, end=t1, frequency="W")
        members = {n: [m for m in st.universe.basket(n).members if m in p.market_caps.columns] for n in names}
        members = {n: ms for n, ms in members.items() if ms}
        notes = [f"{n}: no market caps stored, left out" for n in names if n not in members]
        if len(members) < 2:
            raise DataError("fewer than two baskets have market caps: " + "; ".join(notes))
        bc = basket_caps(p.market_caps, members)
        with_caps = [n for n in bc.caps.columns if bc.caps[n].notna().any()]
        notes += [f"{n}: no market caps stored, left out" for n in bc.caps.columns if n not in with_caps]
        if len(with_caps) < 2:
            raise DataError("fewer than two baskets have market caps: " + "; ".join(notes))
        share = market_cap_share(bc.caps[with_caps])
        return {"shares": split_frame(share.shares), "summary": records(share.to_frame(), index="basket"),
                "caps": records(bc.to_frame(), index="basket"), "notes": notes}

    return st.cached("flows/shares", {"b": tuple(names), "s": start, "e": end}, compute)


@router.get("/claims", response_model=LedgerOut, tags=["claims"], responses=RESPONSES)
@served
def claims_endpoint(
    request: Request,
    as_of: Annotated[str | None, Query(description="Evaluate with data known on this date (YYYY-MM-DD).")] = None,
    claims: Annotated[str | None, Query(description="Comma-separated claim ids (R1..R12; default all).")] = None,
) -> Any:
    """The claims ledger (:func:`rotation.claims.evaluate_claims`) as ``Ledger.to_json``."""
    from rotation.api._params import parse_date
    from rotation.claims import CLAIM_IDS, evaluate_claims

    st = _state(request)
    ids = parse_list(claims, "claims", max_items=LIMITS["max_claims"])
    unknown = [c for c in ids if c not in CLAIM_IDS]
    if unknown:
        raise ParameterError("claims", f"unknown claim id(s) {', '.join(unknown)}; known: {', '.join(CLAIM_IDS)}")
    t = parse_date(as_of, "as_of")

    def compute() -> bytes:
        ledger = evaluate_claims(st.store, st.universe, as_of=t, claims=ids or None)
        return ledger.to_json(indent=None).encode()

    return st.cached("claims", {"as_of": as_of, "claims": tuple(ids)}, compute)
