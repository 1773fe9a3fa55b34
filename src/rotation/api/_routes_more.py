"""More analytics endpoints: event studies (default and user events), stress scenarios, concentration.

Same pattern as :mod:`rotation.api._routes_analytics`: parse and validate the
parameters (a :class:`ParameterError` names the offending one), build the panel
from the store, call :mod:`rotation.analytics`, serialise. Nothing is computed
here; the only reshaping is a pivot of the event-study CAR paths into the
``{index, columns, data}`` form the dashboard plots.
"""

from __future__ import annotations

from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Query, Request

from rotation.api._params import (
    LIMITS,
    parse_baskets,
    parse_choice,
    parse_fraction,
    parse_int,
    parse_int_list,
    parse_list,
    parse_range,
    parse_shocks,
    parse_windows,
)
from rotation.api._routes_analytics import _default_baskets, _panel, _trim
from rotation.api._routes_data import RESPONSES, _state
from rotation.api._schemas import (
    ConcentrationOut,
    CorrelationOut,
    EventStudyOut,
    LeadLagOut,
    MacroSensitivityOut,
    NetLiquidityOut,
    StressOut,
    UserEvent,
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

#: Most user events one POST /events may carry (the body-size limit bounds it too).
MAX_USER_EVENTS = 500
_EVENT_MODELS = ("market", "mean", "market_adjusted")
_EVENT_BY = ("kind", "event", "all")


# ------------------------------------------------------------------------------------------ events
def _user_event_set(items: list[UserEvent], universe: Any) -> Any:
    """Validated :class:`rotation.events.EventSet` from posted events (JSON only: no file is ever read)."""
    from rotation.events import ALL, Event, EventSet
    from rotation.events._model import valid_kind

    if not items:
        raise ParameterError("events", "post a non-empty JSON list of events {date, label, kind, affects}")
    if len(items) > MAX_USER_EVENTS:
        raise ParameterError("events", f"at most {MAX_USER_EVENTS} events, got {len(items)}")
    known = set(universe.instruments) | set(universe.baskets)
    out = []
    for i, ev in enumerate(items):
        if not valid_kind(ev.kind):
            raise ParameterError(f"events.{i}.kind", f"{ev.kind!r} is not a lower-case identifier such as fomc_cut")
        if not ev.label.strip():
            raise ParameterError(f"events.{i}.label", "must not be empty")
        affects = tuple(dict.fromkeys(a.strip() for a in ev.affects if a.strip())) or (ALL,)
        unknown = [a for a in affects if a != ALL and a not in known]
        if unknown:
            raise ParameterError(f"events.{i}.affects", f"unknown name(s) {', '.join(u[:64] for u in unknown[:5])}: "
                                                      "not an instrument or basket of the universe (or 'all')")
        if ALL in affects and len(affects) > 1:
            raise ParameterError(f"events.{i}.affects", "'all' cannot be combined with names")
        if not 1900 <= ev.date.year <= 2200:
            raise ParameterError(f"events.{i}.date", f"year {ev.date.year} is out of range 1900..2200")
        out.append(Event(date=ev.date, label=ev.label.strip(), kind=ev.kind, affects=affects))
    return EventSet.from_events(out)


def _event_study(st: Any, evset: Any, *, names: list[str], market: str, wins: list[tuple[int, int]],
                 estimation: int, gap: int, model: str, by: str, weighting: str) -> dict[str, Any]:
    """Basket-level event study (:func:`rotation.analytics.events.event_study`) of ``evset``, serialised."""
    from rotation.analytics.events import event_study

    uni = st.universe
    market_is_basket = market in uni.baskets
    p = _panel(st, baskets=list(dict.fromkeys([*names, *([market] if market_is_basket else [])])),
               symbols=[] if market_is_basket else [market], start=None, end=None, frequency="D")
    w = None if weighting == "basket" else weighting
    notes: list[str] = []
    unknown = sorted(evset.names() - set(uni.instruments) - set(uni.baskets))
    if unknown:
        notes.append(f"events name {', '.join(unknown)}, not in the universe: left out")
    if market_is_basket:
        mkt = p.basket_returns(market, w).rename(market)
    else:
        if market not in p.returns.columns or not p.returns[market].notna().any():
            raise ParameterError("market", f"{market}: no prices stored")
        mkt = p.returns[market].rename(market)
    rets = {}
    for b in names:
        try:
            rets[b] = p.basket_returns(b, w)
        except DataError as exc:
            notes.append(f"{b}: left out ({exc})")
    if not rets:
        raise DataError("none of the baskets has member prices in the store: " + "; ".join(notes))
    data = pd.DataFrame(rets)
    if not any(e.affects_all or any(n in data.columns for n in e.affects) for e in evset):
        raise DataError("none of these events names a studied basket (or \"all\")")
    res = event_study(data, evset, market=mkt, estimation=estimation, gap=gap, windows=wins, model=model, by=by)
    paths = res.paths
    key = res.key
    # the one reshaping: long paths -> {index: event day, columns: "key | group", data: mean CAR}
    wide = (paths.assign(_col=paths[key].astype(str) + " | " + paths["group"].astype(str))
            .pivot(index="day", columns="_col", values="mean_car")) if len(paths) else pd.DataFrame()
    path_frame = {"index": [int(d) for d in wide.index], "columns": [str(c) for c in wide.columns],
                  "data": jsonable(wide.to_numpy().tolist())}
    return {"market": market, "baskets": list(data.columns), "key": key, "summary": records(res.summary),
            "paths": path_frame, "path_rows": records(paths), "events": records(res.events),
            "excluded": records(res.excluded), "params": jsonable(dict(res.params)),
            "notes": notes + list(res.notes)}


def _event_params(st: Any, baskets: str | None, market: str, windows: str | None, estimation: int, gap: int,
                  model: str, by: str, weighting: str) -> tuple[list[str], list[tuple[int, int]]]:
    from rotation.analytics.events import DEFAULT_WINDOWS

    names = parse_baskets(baskets, "baskets", st.universe, default=_default_baskets(st.universe))
    if market not in st.universe.baskets and market not in st.known_symbols():
        raise ParameterError("market", f"{market[:40]!r} is neither an instrument nor a basket")
    wins = parse_windows(windows, "windows") or [tuple(w) for w in DEFAULT_WINDOWS]
    parse_int(estimation, "estimation", 20, 1000)
    parse_int(gap, "gap", 0, 260)
    earliest = min(a for a, _ in wins)
    if gap < -earliest:
        raise ParameterError("gap", f"gap {gap} lets the estimation window overlap event day {earliest}: "
                                    f"use gap >= {-earliest}")
    parse_choice(model, "model", _EVENT_MODELS)
    parse_choice(by, "by", _EVENT_BY)
    parse_choice(weighting, "weighting", ("equal", "cap", "basket"))
    return names, wins


Baskets = Annotated[str | None, Query(description="Comma-separated baskets (default: ai and crypto baskets).")]
Market = Annotated[str, Query(description="Market model benchmark: an instrument or a basket.")]
Windows = Annotated[str | None, Query(description="CAR windows START:END in event days, comma-separated, "
                                                  "each within -250..250 (default -1:1,0:5,0:20,0:60).")]
Estimation = Annotated[int, Query(description="Estimation window (sessions), 20..1000.")]
Gap = Annotated[int, Query(description="Sessions between the estimation window and day 0, 0..260.")]
Model = Annotated[str, Query(description="Normal returns: market, mean or market_adjusted.")]
By = Annotated[str, Query(description="Cross-sections: kind, event or all.")]


@router.get("/events", response_model=EventStudyOut, tags=["analytics"], responses=RESPONSES)
@served
def events_get(
    request: Request,
    kinds: Annotated[str | None, Query(description="Comma-separated event kinds (default: all).")] = None,
    baskets: Baskets = None,
    windows: Windows = None,
    market: Market = "SPY",
    estimation: Estimation = 250,
    gap: Gap = 10,
    model: Model = "market",
    by: By = "kind",
    start: Annotated[str | None, Query(description="Only events on or after this date.")] = None,
    end: Annotated[str | None, Query(description="Only events on or before this date.")] = None,
    weighting: Weighting = "equal",
) -> Any:
    """Event study of the shipped default events (:func:`rotation.analytics.events.event_study`) on basket
    index returns: summary (CAR, t, BMP, Kolari-Pynnonen), mean CAR paths by event day, events, exclusions."""
    from rotation.events import load_events

    st = _state(request)
    kind_list = parse_list(kinds, "kinds", max_items=50)
    names, wins = _event_params(st, baskets, market, windows, estimation, gap, model, by, weighting)
    t0, t1 = parse_range(start, end)

    def compute() -> Any:
        evset = load_events().select(kind_list or None, start=t0, end=t1)
        if not len(evset):
            raise DataError("no events left after kinds/start/end")
        return _event_study(st, evset, names=names, market=market, wins=wins, estimation=estimation, gap=gap,
                            model=model, by=by, weighting=weighting)

    params = {"k": tuple(kind_list), "b": tuple(names), "m": market, "w": tuple(wins), "est": estimation, "g": gap,
              "mo": model, "by": by, "s": start, "e": end, "wt": weighting}
    return st.cached("events", params, compute)


_USER_EVENTS_SCHEMA = {"type": "array", "minItems": 1, "maxItems": MAX_USER_EVENTS,
                       "items": UserEvent.model_json_schema()}


@router.post("/events", response_model=EventStudyOut, tags=["analytics"], responses=RESPONSES,
             openapi_extra={"requestBody": {
                 "required": True,
                 "description": f"JSON list of 1..{MAX_USER_EVENTS} events {{date, label, kind, affects}}; "
                                "affects names instruments/baskets of the universe, or is empty (= all).",
                 "content": {"application/json": {"schema": _USER_EVENTS_SCHEMA}}}})
async def events_post(
    request: Request,
    baskets: Baskets = None,
    windows: Windows = None,
    market: Market = "SPY",
    estimation: Estimation = 250,
    gap: Gap = 10,
    model: Model = "market",
    by: By = "kind",
    weighting: Weighting = "equal",
) -> Any:
    """Event study of user events (same result shape as GET /events). The events are JSON only: no file path
    is accepted; the body is bounded by the server's request-size limit (413) and by the event count. Errors
    in the body name ``events`` or ``events.<i>.<field>``."""
    st = _state(request)
    items = _parse_user_events(await request.body())

    def handle() -> Any:  # as a GET route's body: ApiState.serve runs it on the loop or in a worker
        evset = _user_event_set(items, st.universe)
        names, wins = _event_params(st, baskets, market, windows, estimation, gap, model, by, weighting)

        def compute() -> Any:
            return _event_study(st, evset, names=names, market=market, wins=wins, estimation=estimation, gap=gap,
                                model=model, by=by, weighting=weighting)

        ev_key = tuple((e.date.isoformat(), e.label, e.kind, e.affects) for e in evset)
        params = {"ev": ev_key, "b": tuple(names), "m": market, "w": tuple(wins), "est": estimation, "g": gap,
                  "mo": model, "by": by, "wt": weighting}
        return st.cached("events/user", params, compute)

    return await st.serve(handle)


def _parse_user_events(raw: bytes) -> list[UserEvent]:
    """The request body as a list of :class:`UserEvent`; errors name ``events`` or ``events.<i>.<field>``."""
    import json

    from pydantic import TypeAdapter, ValidationError

    try:
        data = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError):
        raise ParameterError("events", "the body is not valid JSON: post a JSON list of events") from None
    if not isinstance(data, list):
        raise ParameterError("events", f"expected a JSON list of events, got {type(data).__name__}")
    if len(data) > MAX_USER_EVENTS:
        raise ParameterError("events", f"at most {MAX_USER_EVENTS} events, got {len(data)}")
    try:
        return TypeAdapter(list[UserEvent]).validate_python(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err.get("loc", ()))
        raise ParameterError(f"events.{loc}" if loc else "events", err.get("msg", "invalid event")) from None


# ------------------------------------------------------------------------------------------ stress
@router.get("/stress", response_model=StressOut, tags=["analytics"], responses=RESPONSES)
@served
def stress_endpoint(
    request: Request,
    shock: Annotated[str | None, Query(description="BASKET:RETURN shocks, comma-separated, e.g. "
                                                   "ai_compute:-0.15 or ai_compute:-10%,ai_compute:-15% "
                                                   "(each in (-1, 1]; default: first ai basket at -10% and -15%).")]
    = None,
    baskets: Baskets = None,
    start: Start = None,
    end: End = None,
    weighting: Weighting = "equal",
    band: Annotated[float, Query(description="Analogue band around the shock, 0.001..0.5.")] = 0.025,
) -> Any:
    """Stress (:func:`rotation.analytics.stress.stress`): drawdown frequency/duration per basket (daily levels)
    and, per shock, the other baskets' responses from weekly betas and historical analogues."""
    st = _state(request)
    shocks = parse_shocks(shock, "shock", st.universe)
    names = parse_baskets(baskets, "baskets", st.universe, default=_default_baskets(st.universe))
    if shocks:
        names = list(dict.fromkeys([*names, *shocks]))
    t0, t1 = parse_range(start, end)
    parse_choice(weighting, "weighting", ("equal", "cap", "basket"))
    parse_fraction(band, "band", 0.001, 0.5)

    def compute() -> Any:
        from rotation.analytics.stress import stress

        # whole history up to end: basket indices start at their first data, then stress() cuts the window
        p = _panel(st, baskets=names, symbols=[], start=None, end=t1, frequency="D")
        res = stress(p, shocks, baskets=names, weighting=weighting, start=t0, end=t1, band=band)
        return {"baskets": [str(c) for c in res.levels.columns], "start": jsonable(res.start),
                "end": jsonable(res.end), "frequency": res.frequency, "scenario_frequency": res.scenario_frequency,
                "responses": records(res.to_frame()), "drawdowns": records(res.drawdowns.summary),
                "episodes": records(res.drawdowns.episodes), "notes": list(res.notes)}

    params = {"sh": tuple((k, tuple(v)) for k, v in (shocks or {}).items()), "b": tuple(names), "s": start,
              "e": end, "wt": weighting, "band": band}
    return st.cached("stress", params, compute)


# ------------------------------------------------------------------------------------------ concentration
@router.get("/concentration", response_model=ConcentrationOut, tags=["analytics"], responses=RESPONSES)
@served
def concentration_endpoint(
    request: Request,
    basket: Annotated[str | None, Query(description="Comma-separated baskets (default: the ai baskets).")] = None,
    end: End = None,
    k: Annotated[str, Query(description="Top-k shares, comma-separated integers 1..50.")] = "1,3",
    min_coverage: Annotated[float, Query(description="Dates where fewer than this fraction of a basket's members "
                                                     "have a cap are not measured, 0..1.")] = 0.5,
) -> Any:
    """Daily market-cap concentration (:func:`rotation.analytics.concentration.concentration`): HHI, effective
    number, top-k shares over time and snapshots (latest, 1 and 3 years before). Caps are back-cast from the
    stored snapshot and cut after each member's last observed price."""
    st = _state(request)
    ai = [n for n, b in st.universe.baskets.items() if b.role == "ai"]
    names = parse_baskets(basket, "basket", st.universe, default=ai)
    if not names:
        raise ParameterError("basket", "the universe has no ai basket: name the baskets")
    ks = parse_int_list(k, "k", 1, 50)
    parse_fraction(min_coverage, "min_coverage", 0.0, 1.0)
    t1 = parse_range(None, end)[1]

    def compute() -> Any:
        from rotation.analytics.concentration import concentration

        p = _panel(st, baskets=names, symbols=[], start=None, end=t1, frequency="D")
        groups = {n: list(st.universe.basket(n).members) for n in names}
        res = concentration(p.with_observed_caps(), groups, k=ks, min_coverage=min_coverage)
        return {"baskets": names, "k": list(res.k), "snapshots": records(res.to_frame()),
                "hhi": split_frame(res.hhi), "effective_number": split_frame(res.effective_number),
                "top": {str(kk): split_frame(v) for kk, v in res.top.items()}, "notes": list(res.notes)}

    return st.cached("concentration", {"b": tuple(names), "e": end, "k": tuple(ks), "mc": min_coverage}, compute)


# ------------------------------------------------------------------------------------------ comovement
def _series_kind(st: Any, name: str, parameter: str) -> bool:
    """True when ``name`` is a basket, False for a stored/universe instrument; else a ParameterError."""
    if name in st.universe.baskets:
        return True
    if name in st.known_symbols():
        return False
    raise ParameterError(parameter, f"{name[:40]!r} is neither an instrument nor a basket")


def _weekly_returns(st: Any, names: dict[str, bool], *, t0: Any, t1: Any, weighting: str,
                    warmup_weeks: int) -> pd.DataFrame:
    """Weekly simple returns of baskets (index returns) and instruments, one column per name."""
    baskets = [n for n, is_b in names.items() if is_b]
    p = _panel(st, baskets=baskets, symbols=[n for n, is_b in names.items() if not is_b], start=t0, end=t1,
               frequency="W", warmup_weeks=warmup_weeks)
    w = None if weighting == "basket" else weighting
    out = {}
    for n, is_b in names.items():
        if is_b:
            out[n] = p.basket_returns(n, w)
        elif n in p.returns.columns and p.returns[n].notna().any():
            out[n] = p.returns[n]
        else:
            raise DataError(f"{n}: no prices stored")
    return pd.DataFrame(out)


@router.get("/comovement/correlation", response_model=CorrelationOut, tags=["analytics"], responses=RESPONSES)
@served
def comovement_correlation(
    request: Request,
    a: Annotated[str, Query(description="A basket or an instrument.")] = "ai_compute",
    b: Annotated[str, Query(description="A basket or an instrument.")] = "crypto_majors",
    window: Annotated[int, Query(description="Rolling window (weeks), 4..260.")] = 26,
    benchmark: Annotated[str, Query(description="Market for betas and the residual correlation: an instrument "
                                                "or a basket.")] = "SPY",
    start: Start = None,
    end: End = None,
    weighting: Weighting = "equal",
) -> Any:
    """Weekly rolling correlation of a and b (:func:`rotation.analytics.comovement.rolling_correlation`),
    rolling betas on the benchmark (:func:`~rotation.analytics.comovement.rolling_beta`), the rolling residual
    correlation given the benchmark (:func:`~rotation.analytics.comovement.rolling_residual_correlation`) and
    the full-window HAC residual correlation (:func:`~rotation.analytics.comovement.residual_correlation`)."""
    st = _state(request)
    kinds = {a: _series_kind(st, a, "a")}
    if b == a:
        raise ParameterError("b", "must differ from a")
    kinds[b] = _series_kind(st, b, "b")
    if benchmark in kinds:
        raise ParameterError("benchmark", "must differ from a and b")
    kinds[benchmark] = _series_kind(st, benchmark, "benchmark")
    parse_int(window, "window", 4, 260)
    parse_choice(weighting, "weighting", ("equal", "cap", "basket"))
    t0, t1 = parse_range(start, end)

    def compute() -> Any:
        from rotation.analytics.comovement import (
            residual_correlation,
            rolling_beta,
            rolling_correlation,
            rolling_residual_correlation,
        )

        r = _weekly_returns(st, kinds, t0=t0, t1=t1, weighting=weighting, warmup_weeks=window)
        corr = rolling_correlation(r[a], r[b], window)
        betas = rolling_beta(r[[a, b]], r[benchmark], window)
        resid = rolling_residual_correlation(r[a], r[b], r[benchmark], window)
        window_r = r if t0 is None else r.loc[t0:]
        full = residual_correlation(window_r[a], window_r[b], window_r[benchmark])
        return {"a": a, "b": b, "benchmark": benchmark, "window": window,
                "correlation": split_frame(_trim(pd.DataFrame({f"{a} ~ {b}": corr}), t0)),
                "beta": split_frame(_trim(pd.DataFrame(betas), t0)),
                "residual_correlation": split_frame(_trim(resid[["residual_correlation", "raw_correlation"]], t0)),
                "summary": records(full.to_frame())}

    params = {"a": a, "b": b, "bm": benchmark, "w": window, "s": start, "e": end, "wt": weighting}
    return st.cached("comovement/correlation", params, compute)


@router.get("/comovement/lead-lag", response_model=LeadLagOut, tags=["analytics"], responses=RESPONSES)
@served
def comovement_lead_lag(
    request: Request,
    x: Annotated[str, Query(description="A basket or an instrument.")] = "ai_compute",
    y: Annotated[str, Query(description="A basket or an instrument.")] = "crypto_majors",
    max_lag: Annotated[int, Query(description="Largest lag (weeks), 1..52.")] = 8,
    start: Start = None,
    end: End = None,
    weighting: Weighting = "equal",
) -> Any:
    """Weekly lead-lag cross-correlations (:func:`rotation.analytics.comovement.cross_correlation`): lag k > 0
    pairs x(t+k) with y(t), i.e. y leads x; Bartlett significance bands."""
    st = _state(request)
    kinds = {x: _series_kind(st, x, "x")}
    if y == x:
        raise ParameterError("y", "must differ from x")
    kinds[y] = _series_kind(st, y, "y")
    parse_int(max_lag, "max_lag", 1, 52)
    parse_choice(weighting, "weighting", ("equal", "cap", "basket"))
    t0, t1 = parse_range(start, end)

    def compute() -> Any:
        from rotation.analytics.comovement import cross_correlation

        r = _weekly_returns(st, kinds, t0=t0, t1=t1, weighting=weighting, warmup_weeks=0)
        ll = cross_correlation(r[x], r[y], max_lag)
        return {"x": x, "y": y, "max_lag": max_lag, "lags": records(ll.to_frame()), "peak_lag": ll.peak_lag,
                "n": ll.n, "start": jsonable(ll.start), "end": jsonable(ll.end), "bands": ll.bands}

    return st.cached("comovement/lead-lag", {"x": x, "y": y, "l": max_lag, "s": start, "e": end, "wt": weighting},
                     compute)


# ------------------------------------------------------------------------------------------ macro
_FACTORS = ("DGS2", "DFII10", "USD", "NET_LIQUIDITY")


def _macro(st: Any, index: pd.DatetimeIndex) -> pd.DataFrame:
    from rotation.panel import macro_panel

    return macro_panel(st.store, st.universe, index=index)


@router.get("/macro/sensitivity", response_model=MacroSensitivityOut, tags=["analytics"], responses=RESPONSES)
@served
def macro_sensitivity_endpoint(
    request: Request,
    baskets: Baskets = None,
    factors: Annotated[str, Query(description="Comma-separated factors among DGS2, DFII10 (weekly changes, pp), "
                                              "USD, NET_LIQUIDITY (weekly returns).")] = "DGS2,DFII10,USD,"
                                                                                         "NET_LIQUIDITY",
    window: Annotated[int, Query(description="Rolling regression window (weeks), 26..520.")] = 104,
    usd: Annotated[str, Query(description="Dollar index series: DTWEXBGS or DXY.")] = "DTWEXBGS",
    start: Start = None,
    end: End = None,
    weighting: Weighting = "equal",
) -> Any:
    """Weekly basket returns on macro factor changes: full-window HAC regression
    (:func:`rotation.analytics.macro.macro_sensitivity`) and rolling betas
    (:func:`~rotation.analytics.macro.rolling_macro_sensitivity`); factors from
    :func:`~rotation.analytics.macro.macro_factors` on release-lagged FRED series."""
    from rotation.api._routes_analytics import _levels

    st = _state(request)
    names = parse_baskets(baskets, "baskets", st.universe, default=_default_baskets(st.universe))
    fs = parse_list(factors, "factors")
    bad = [f for f in fs if f not in _FACTORS]
    if bad or not fs:
        raise ParameterError("factors", f"unknown factor(s) {', '.join(bad) or '(none)'}; known: {', '.join(_FACTORS)}")
    parse_int(window, "window", 26, LIMITS["max_window"])
    parse_choice(usd, "usd", ("DTWEXBGS", "DXY"))
    parse_choice(weighting, "weighting", ("equal", "cap", "basket"))
    t0, t1 = parse_range(start, end)

    def compute() -> Any:
        from rotation.analytics.macro import macro_factors, macro_sensitivity, net_liquidity, rolling_macro_sensitivity

        p = _panel(st, baskets=names, symbols=[], start=t0, end=t1, frequency="W")
        macro = _macro(st, p.index)
        levels, notes = _levels(p, names, weighting)
        rets = levels / levels.shift(1) - 1.0  # same weekly returns as `rotation macro`
        rates = [f for f in ("DGS2", "DFII10") if f in fs]
        needed = rates + ([usd] if "USD" in fs else [])
        missing = [s for s in needed if s not in macro.columns]
        if missing:
            raise DataError(f"macro series not stored: {', '.join(missing)} (rotation fetch --source fred)")
        nl = net_liquidity(macro) if "NET_LIQUIDITY" in fs else None
        fac = macro_factors(macro, rates=rates, usd=usd if "USD" in fs else None, net_liquidity=nl)
        sens = macro_sensitivity(rets, fac)
        roll = rolling_macro_sensitivity(rets, fac, window=window)
        betas = pd.concat({f"{s}: {term}": roll.params[term][s] for term in roll.params if term != "const"
                           for s in roll.params[term].columns}, axis=1)
        return {"baskets": list(levels.columns), "factors": [str(c) for c in fac.columns], "window": window,
                "table": records(sens.to_frame()), "betas": split_frame(betas), "notes": notes + list(sens.notes)}

    params = {"b": tuple(names), "f": tuple(fs), "w": window, "usd": usd, "s": start, "e": end, "wt": weighting}
    return st.cached("macro/sensitivity", params, compute)


@router.get("/macro/net-liquidity", response_model=NetLiquidityOut, tags=["analytics"], responses=RESPONSES)
@served
def macro_net_liquidity(request: Request, start: Start = None, end: End = None) -> Any:
    """Fed net liquidity = Fed assets - TGA - reverse repo in USD (:func:`rotation.analytics.macro.net_liquidity`),
    as known on each day (release lags applied), with its components and a per-series summary."""
    st = _state(request)
    t0, t1 = parse_range(start, end)

    def compute() -> Any:
        from rotation.analytics.macro import net_liquidity
        from rotation.panel import macro_panel

        macro = macro_panel(st.store, st.universe)
        nl = net_liquidity(macro)
        frame = pd.concat([nl.level.rename("net_liquidity"), nl.components], axis=1)
        frame = frame.loc[t0:t1] if (t0 is not None or t1 is not None) else frame
        return {"net_liquidity": split_frame(frame[["net_liquidity"]]), "components": split_frame(frame.drop(
                columns="net_liquidity")), "summary": records(nl.to_frame(), index="series")}

    return st.cached("macro/net-liquidity", {"s": start, "e": end}, compute)
