"""The last analytics endpoints: regimes and change points, stablecoin net issuance, index contribution.

Same pattern as :mod:`rotation.api._routes_more`: parse and validate the
parameters (a :class:`ParameterError` names the offending one), build the panel
from the store, call :mod:`rotation.analytics`, serialise. The series a regime
model sees and the index-membership handling of ``/contribution`` are the
CLI's own helpers (:mod:`rotation.cli._regimes`, :mod:`rotation.cli._concentration`),
imported rather than copied, so the API and ``rotation regimes`` /
``rotation contribution`` give the same numbers.
"""

from __future__ import annotations

from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Query, Request

from rotation.api._params import parse_baskets, parse_choice, parse_date, parse_int, parse_list, parse_range
from rotation.api._routes_analytics import _panel
from rotation.api._routes_data import RESPONSES, _state
from rotation.api._schemas import ContributionOut, RegimesOut, StablecoinsOut, jsonable, records, split_frame
from rotation.api.app import served
from rotation.errors import DataError, ParameterError

router = APIRouter()

Start = Annotated[str | None, Query(description="First date YYYY-MM-DD.")]
End = Annotated[str | None, Query(description="Last date YYYY-MM-DD.")]
Weighting = Annotated[str, Query(description="equal, cap, or basket (each basket's configured weighting).")]

#: Most weekly rows a regime model is fitted to (15 years): keeps a k=3 Markov fit and Pelt around a second.
MAX_REGIME_ROWS = 780
#: Most states served (the analytics accept up to 5; 2-3 are the sensible, fast ones).
MAX_K = 3


def _first_role(uni: Any, role: str) -> str | None:
    return next((n for n, b in uni.baskets.items() if b.role == role), None)


def _one_basket(value: str | None, parameter: str, uni: Any, default: str | None) -> str:
    names = parse_baskets(value, parameter, uni, default=[default] if default else [])
    if len(names) != 1:
        raise ParameterError(parameter, "name exactly one basket")
    return names[0]


# ------------------------------------------------------------------------------------------ regimes
@router.get("/regimes", response_model=RegimesOut, tags=["analytics"], responses=RESPONSES)
@served
def regimes_endpoint(
    request: Request,
    series: Annotated[str, Query(description="rotation_index (weekly log growth of basket a minus basket b, "
                                             "as `rotation regimes --basket a --vs b`) or a basket name "
                                             "(its weekly simple returns).")] = "rotation_index",
    a: Annotated[str | None, Query(description="With series=rotation_index: toward this basket "
                                               "(default: first ai basket).")] = None,
    b: Annotated[str | None, Query(description="With series=rotation_index: away from this basket "
                                               "(default: first crypto basket).")] = None,
    k: Annotated[int, Query(description=f"Number of regimes, 2..{MAX_K}.")] = 2,
    order_by: Annotated[str, Query(description="State 0 has the lowest mean or the lowest variance.")] = "mean",
    penalty: Annotated[str, Query(description="Change-point penalty: bic or aic.")] = "bic",
    min_size: Annotated[int, Query(description="Shortest segment between change points (weeks), 4..104.")] = 10,
    start: Start = None,
    end: End = None,
    weighting: Weighting = "equal",
) -> Any:
    """Weekly regimes (:func:`rotation.analytics.regimes.regimes`, Markov switching in mean and variance) and
    change points (:func:`rotation.analytics.breaks.change_points`, ruptures Pelt) of one series: smoothed and
    filtered probabilities, the current (filtered) state, per-state moments, transition matrix, spells and
    segments. At most 780 weeks are modelled: without ``start`` the latest ones."""
    st = _state(request)
    uni = st.universe
    (name,) = parse_list(series, "series", max_items=1) or [None]
    if name is None:
        raise ParameterError("series", "name rotation_index or a basket")
    if name == "rotation_index":
        a_name = _one_basket(a, "a", uni, _first_role(uni, "ai"))
        b_name = _one_basket(b, "b", uni, _first_role(uni, "crypto"))
        if a_name == b_name:
            raise ParameterError("b", "must differ from a")
    else:
        if name not in uni.baskets:
            raise ParameterError("series", f"{name[:40]!r} is not rotation_index or a basket; known baskets: "
                                           f"{', '.join(uni.baskets)}")
        if a is not None or b is not None:
            raise ParameterError("a" if a is not None else "b", "only with series=rotation_index")
        a_name, b_name = name, None
    parse_int(k, "k", 2, MAX_K)
    parse_choice(order_by, "order_by", ("mean", "variance"))
    parse_choice(penalty, "penalty", ("bic", "aic"))
    parse_int(min_size, "min_size", 4, 104)
    parse_choice(weighting, "weighting", ("equal", "cap", "basket"))
    t0, t1 = parse_range(start, end)

    def compute() -> Any:
        from rotation.analytics.breaks import change_points
        from rotation.analytics.regimes import regimes
        from rotation.cli._regimes import _build_series, _trim  # the series `rotation regimes` models

        notes: list[str] = []
        baskets = [x for x in (a_name, b_name) if x is not None]
        p = _panel(st, baskets=baskets, symbols=[], start=None, end=t1, frequency="W")
        y, _, what = _build_series(p, uni, series=None, basket=a_name, vs=b_name, weighting=weighting)
        y = _trim(y.loc[t0:])
        if len(y) > MAX_REGIME_ROWS:
            if t0 is not None:
                raise ParameterError("start", f"{len(y)} weeks from start: at most {MAX_REGIME_ROWS}; "
                                              "choose a later start")
            y = y.iloc[-MAX_REGIME_ROWS:]
            notes.append(f"the latest {MAX_REGIME_ROWS} weeks modelled (pass start for an earlier window)")
        res = regimes(y, k, model="markov", order_by=order_by, periods_per_year=52.0)  # type: ignore[arg-type]
        cp = change_points(y, penalty=penalty, min_size=min_size, periods_per_year=52.0)
        cur = res.current_state
        return {"series": str(y.name), "description": what, "k": k, "order_by": order_by,
                "start": jsonable(res.start), "end": jsonable(res.end), "n": len(y),
                "current_state": cur, "current_probability": jsonable(res.filtered.iloc[-1].iloc[cur]),
                "probabilities": split_frame(res.smoothed), "filtered": split_frame(res.filtered),
                "states": records(res.to_frame()), "transition": jsonable(res.transition.to_numpy().tolist()),
                "llf": jsonable(res.llf), "bic": jsonable(res.bic), "spells": records(res.spells()),
                "change_points": [jsonable(d) for d in cp.breaks], "segments": records(cp.to_frame()),
                "penalty": jsonable(cp.penalty), "penalty_rule": cp.penalty_rule, "min_size": min_size,
                "notes": notes + list(res.notes)}

    params = {"se": name, "a": a_name, "b": b_name, "k": k, "o": order_by, "p": penalty, "ms": min_size,
              "s": start, "e": end, "wt": weighting}
    return st.cached("regimes", params, compute)


# ------------------------------------------------------------------------------------------ stablecoins
@router.get("/flows/stablecoins", response_model=StablecoinsOut, tags=["analytics"], responses=RESPONSES)
@served
def flows_stablecoins(
    request: Request,
    coins: Annotated[str | None, Query(description="Comma-separated stablecoin instruments (default: the members "
                                                   "of the stablecoins basket, USDT and USDC).")] = None,
    frequency: Annotated[str, Query(description="W (last session of each week) or D (sessions: a Monday's change spans the weekend).")] = "W",
    windows: Annotated[str | None, Query(description="Trailing windows in rows, comma-separated, each 1..260 "
                                                     "(default 4,13 weekly, 7,30 daily).")] = None,
    start: Start = None,
    end: End = None,
) -> Any:
    """Stablecoin net issuance (:func:`rotation.analytics.flows.net_issuance`): change in supply per period
    (USD; supply, or market cap where no supply is stored), trailing sums and growth, per coin and total."""
    from rotation.api._params import parse_int_list

    st = _state(request)
    uni = st.universe
    default = list(uni.basket("stablecoins").members) if "stablecoins" in uni.baskets else []
    names = parse_list(coins, "coins", max_items=20) or default
    if not names:
        raise ParameterError("coins", "the universe has no stablecoins basket: name the coins")
    unknown = [c for c in names if c not in uni.instruments]
    if unknown:
        raise ParameterError("coins", f"unknown instrument(s) {', '.join(unknown)}")
    parse_choice(frequency, "frequency", ("W", "D"))
    ws = parse_int_list(windows, "windows", 1, 260, max_items=5) or ([4, 13] if frequency == "W" else [7, 30])
    t0, t1 = parse_range(start, end)

    def compute() -> Any:
        from rotation.analytics.flows import net_issuance

        # one window of history before start so the first change and trailing sums exist at start
        warm = max(ws) + 1
        read_start = None if t0 is None else t0 - (pd.Timedelta(weeks=warm) if frequency == "W"
                                                   else pd.Timedelta(days=warm))
        p = _panel(st, baskets=[], symbols=names, start=read_start, end=t1, frequency=frequency)
        have = [c for c in names if c in p.prices.columns]
        # the CLI's supply: stored supply, else market cap (= supply in USD for a USD stablecoin)
        supply = p.supply[have].combine_first(p.market_caps[have]).dropna(how="all", axis=1) if have else None
        if supply is None or supply.empty:
            raise DataError(f"no supply or market cap stored for {', '.join(names)}")
        ni = net_issuance(supply, windows=ws)

        def cut(f: pd.DataFrame) -> pd.DataFrame:
            return f if t0 is None else f.loc[t0:]

        missing = [c for c in names if c not in supply.columns]
        return {"coins": [str(c) for c in supply.columns if c != "total"], "frequency": frequency, "windows": ws,
                "net_issuance": split_frame(cut(ni.issuance)), "supply": split_frame(cut(ni.supply)),
                "rolling": {str(w): split_frame(cut(f)) for w, f in ni.rolling.items()},
                "growth": {str(w): split_frame(cut(f)) for w, f in ni.growth.items()},
                "summary": records(ni.to_frame(), index="series"),
                "notes": [f"no supply stored for {', '.join(missing)}: left out"] if missing else []}

    params = {"c": tuple(names), "f": frequency, "w": tuple(ws), "s": start, "e": end}
    return st.cached("flows/stablecoins", params, compute)


# ------------------------------------------------------------------------------------------ contribution
@router.get("/contribution", response_model=ContributionOut, tags=["analytics"], responses=RESPONSES)
@served
def contribution_endpoint(
    request: Request,
    start: Annotated[str, Query(description="Window start YYYY-MM-DD.")] = "2022-12-30",
    end: End = None,
    index: Annotated[str, Query(description="Index whose membership spells are stored.")] = "SP500",
    members: Annotated[str | None, Query(description="The set, comma-separated (default: the universe's "
                                                     "ai-basket members that are index members).")] = None,
    linking: Annotated[str, Query(description="Linking of daily contributions: carino, menchero or grap.")]
    = "carino",
    cap_method: Annotated[str, Query(description="Market caps: observed, carry or backcast.")] = "backcast",
) -> Any:
    """Contribution of a set of members (AI-linked by default) to a cap-weighted index's return and market-cap
    increase (:func:`rotation.analytics.concentration.contribution`), the index rebuilt from the stored
    membership on ``start`` - as ``rotation contribution``."""
    from rotation.analytics.concentration import LINKING_METHODS
    from rotation.cli._concentration import _check_cap_method

    st = _state(request)
    t0 = parse_date(start, "start")
    if t0 is None:
        raise ParameterError("start", "required")
    t0, t1 = parse_range(start, end)
    if t1 is not None and t1 <= t0:
        raise ParameterError("end", f"end {t1.date()} is not after start {t0.date()}")
    (index_name,) = parse_list(index, "index", max_items=1) or [None]
    if index_name is None:
        raise ParameterError("index", "name the index")
    chosen = parse_list(members, "members", max_items=100)
    unknown = [m for m in chosen if m not in st.known_symbols()]
    if unknown:
        raise ParameterError("members", f"unknown symbol(s) {', '.join(unknown[:10])}")
    parse_choice(linking, "linking", LINKING_METHODS)
    try:
        _check_cap_method(cap_method)
    except ParameterError as exc:
        raise ParameterError("cap_method", str(exc).split(": ", 1)[-1]) from None

    def compute() -> Any:
        from rotation.analytics.concentration import ai_linked_set, contribution, index_window
        from rotation.panel import build_panel

        db = st.store
        spells = db.read_membership(index_name)
        if spells.empty:
            raise ParameterError("index", f"no membership of index {index_name} in the store")
        changes = db.read_index_changes(index_name)
        members = index_window(spells, t0, t1, changes=changes, instruments=db.instruments())
        the_set = chosen or ai_linked_set(st.universe, members.candidates)
        if not the_set:
            raise ParameterError("members", "the set is empty: no ai-basket member is an index member")
        panel = build_panel(db, st.universe, symbols=members.panel_symbols(the_set),
                            start=t0 - pd.Timedelta(days=14), end=t1,
                            cap_method=cap_method)
        res = contribution(panel, the_set, start=t0, end=t1, constituents=spells, changes=changes,
                           linking=linking, set_name="AI-linked" if not chosen else "set", index_name=index_name)
        return {"index": res.index_name, "set": res.set_name, "start": jsonable(res.start),
                "end": jsonable(res.end), "linking": res.linking, "members": list(res.members),
                "members_left_out": jsonable(dict(res.members_left_out)), "constituents": len(res.constituents),
                "excluded": jsonable({k: list(v) for k, v in res.excluded.items()}),
                "summary": records(res.summary()), "comparison": records(res.comparison()),
                "contributions": records(res.to_frame(), index="symbol"), "daily": split_frame(res.daily),
                "notes": list(res.notes)}

    params = {"s": start, "e": end, "i": index_name, "m": tuple(chosen), "l": linking, "c": cap_method}
    return st.cached("contribution", params, compute)
