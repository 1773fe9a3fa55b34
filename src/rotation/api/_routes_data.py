"""Data endpoints: health, version, universe, stored coverage, data quality, panel frames."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from rotation import __version__
from rotation.api._params import LIMITS, parse_choice, parse_range, parse_symbols
from rotation.api._schemas import (
    Error,
    Health,
    InstrumentsOut,
    PanelOut,
    QualityOut,
    UniverseOut,
    VersionOut,
    jsonable,
    records,
    split_frame,
)
from rotation.api.app import served
from rotation.errors import ParameterError

router = APIRouter()

#: Responses any /api call can give besides its 200: the body-size and token middleware answer before the
#: route runs, and a store that cannot be read is a 503. Every error body is :class:`Error`.
META_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": Error, "description": "The Content-Length header is not an integer."},
    401: {"model": Error, "description": "Missing or wrong bearer token (only when the server has a token); "
                                         "`parameter` is Authorization."},
    413: {"model": Error, "description": "The request body is over the server's size limit (256 kB by default)."},
    503: {"model": Error, "description": "The store cannot be read."},
}
#: The data and analytics endpoints: 404/422 as well, and the cache headers on the 200.
RESPONSES: dict[int | str, dict[str, Any]] = {
    **META_RESPONSES,
    200: {"headers": {
        "X-Cache": {"description": "hit: served from the result cache; miss: computed for this request.",
                    "required": True, "schema": {"type": "string", "enum": ["hit", "miss"]}},
        "X-Data-Version": {"description": "Store data version the result was computed from (see /health).",
                           "required": True, "schema": {"type": "string", "pattern": "^[0-9]+$"}},
    }},
    404: {"model": Error, "description": "The store holds no data at all."},
    422: {"model": Error, "description": "A parameter is invalid, or the data cannot answer the request; "
                                         "`parameter` names the parameter when one is to blame."},
}

PANEL_FIELDS = ("prices", "returns", "market_caps", "volume_usd")


def _state(request: Request) -> Any:
    return request.app.state.rotation


@router.get("/health", response_model=Health, tags=["meta"], responses=META_RESPONSES)
@served
def health(request: Request) -> Any:
    """Liveness and the store's data version (bumped by every committed write)."""
    st = _state(request)
    return {"status": "ok", "version": __version__, "data_version": st.data_version(), "store": st.store.path}


@router.get("/version", response_model=VersionOut, tags=["meta"], responses=META_RESPONSES)
@served
def version(request: Request) -> Any:
    """Package and API version."""
    return {"version": __version__, "api": "v1", "data_version": _state(request).data_version()}


@router.get("/universe", response_model=UniverseOut, tags=["data"], responses=META_RESPONSES)
@served
def universe(request: Request) -> Any:
    """Baskets (name, role, weighting, members) and instruments of the configured universe."""
    uni = _state(request).universe
    return {
        "baskets": [{"name": b.name, "role": b.role, "weighting": b.weighting, "members": list(b.members),
                     "description": b.description} for b in uni.baskets.values()],
        "instruments": [{"symbol": i.symbol, "asset_class": i.asset_class, "currency": i.currency, "name": i.name,
                         "sources": dict(i.sources)} for i in uni.instruments.values()],
    }


@router.get("/instruments", response_model=InstrumentsOut, tags=["data"], responses=RESPONSES)
@served
def instruments(request: Request) -> Any:
    """Stored coverage per (table, symbol, source): first, last, rows (``Store.coverage()``)."""
    st = _state(request)
    return st.cached("instruments", {}, lambda: {"coverage": records(st.store.coverage())})


@router.get("/quality", response_model=QualityOut, tags=["data"], responses=RESPONSES)
@served
def quality(
    request: Request,
    symbols: Annotated[str | None, Query(description="Comma-separated symbols (default: everything stored).")] = None,
) -> Any:
    """Data-quality check of the store (:func:`rotation.quality.check_store`): summary + per-series rows."""
    st = _state(request)
    syms = parse_symbols(symbols, "symbols", st.known_symbols() | set(st.universe.macro),
                         max_items=LIMITS["max_symbols"]) or None

    def compute() -> Any:
        from rotation.quality import check_store

        rep = check_store(st.store, st.universe, symbols=syms)
        return {"summary": jsonable(rep.summary()), "ok": bool(rep.ok),
                "series": records(rep.to_frame())}

    return st.cached("quality", {"symbols": tuple(syms or ())}, compute)


@router.get("/panel", response_model=PanelOut, tags=["data"], responses=RESPONSES)
@served
def panel(
    request: Request,
    symbols: Annotated[str, Query(description=f"Comma-separated symbols (at most {LIMITS['max_symbols']}).")],
    field: Annotated[str, Query(description="prices | returns | market_caps | volume_usd")] = "prices",
    start: Annotated[str | None, Query(description="First date YYYY-MM-DD.")] = None,
    end: Annotated[str | None, Query(description="Last date YYYY-MM-DD.")] = None,
    frequency: Annotated[str, Query(description="D (NYSE sessions) or W (W-FRI weeks).")] = "D",
    cap_method: Annotated[str, Query(description="Equity caps: carry or backcast (from a later snapshot).")]
    = "backcast",
) -> Any:
    """A wide panel frame from :func:`rotation.panel.build_panel` as ``{index, columns, data}``.

    At most ``200`` symbols and ``200,000`` cells (rows x columns, ``LIMITS``); beyond that 422 names ``symbols``.
    """
    st = _state(request)
    parse_choice(field, "field", PANEL_FIELDS)
    parse_choice(frequency, "frequency", ("D", "W"))
    parse_choice(cap_method, "cap_method", ("carry", "backcast"))
    syms = parse_symbols(symbols, "symbols", st.known_symbols(), max_items=LIMITS["max_symbols"])
    if not syms:
        raise ParameterError("symbols", "name at least one symbol")
    t0, t1 = parse_range(start, end)
    params = {"symbols": tuple(syms), "field": field, "start": start, "end": end, "frequency": frequency,
              "cap_method": cap_method}

    def compute() -> Any:
        from rotation.panel import build_panel

        p = build_panel(st.store, st.universe, symbols=syms, start=t0, end=t1, frequency=frequency,
                        cap_method=cap_method)
        frame = getattr(p, field)
        frame = frame.reindex(columns=[s for s in syms if s in frame.columns])
        cells = frame.shape[0] * max(frame.shape[1], 1)
        if cells > LIMITS["max_cells"]:
            raise ParameterError("symbols", f"{frame.shape[0]} rows x {frame.shape[1]} symbols = {cells} cells "
                                            f"exceeds {LIMITS['max_cells']}: narrow start/end or ask for fewer symbols")
        out = split_frame(frame)
        missing = [s for s in syms if s not in frame.columns]
        notes = [f"{s}: no {field} stored" for s in missing]
        out.update(field=field, frequency=frequency, notes=notes)
        return out

    return st.cached("panel", params, compute)
