"""R12: institutional events move crypto-linked equities.

Story B cites institutional ETH purchases, miners jumping on deals with
hyperscalers, an exchange IPO settled in stablecoins and a listing in the
S&P 500. If such events move crypto-linked equities, their abnormal returns
around the events should be positive on average.

Decision rule
-------------
A market-model event study (:func:`rotation.analytics.events.event_study`,
``model`` default ``market`` on the ``market`` instrument, ``estimation``
sessions ending ``gap`` sessions before day 0, simple daily returns of each
member on NYSE sessions) of the members of the ``equities`` baskets (default
crypto_equities and miners_ai_hosting) around the events of the
``event_kinds`` (default etf_approval, etf_launch, ipo, deal, purchase,
index_inclusion) in the ``events`` file that

* are dated inside the claim's window (from ``start`` to the end of the
  baskets' data, never after ``--as-of``: events after the as-of date are not
  used, and a CAR whose window runs past the data is left out), and
* affect a member, one of the ``equities`` baskets (all its members with
  data) or ``all``.

Events whose day 0 falls on the same session (the SEC's spot-bitcoin-ETF
approval after the close on 2024-01-10 and the launch on 2024-01-11) are one
event (labels, kinds and affected names merged): the same abnormal returns
are never counted twice.

Every (event, member) pair with a complete CAR window is one observation; all
are tested together (one cross-section). With :math:`\\overline{CAR}` the
mean CAR over the ``primary`` window (default [-1,+1] sessions) and
:math:`t_{KP}` its Kolari-Pynnonen statistic (the BMP standardized
cross-sectional test, corrected for the correlation of CARs that share
event dates or overlap; Student t with N - 1 degrees of freedom):

* **supported**: :math:`\\overline{CAR} > 0` with two-sided :math:`p_{KP} < 1 -` ``level``;
* **contradicted**: :math:`\\overline{CAR} < 0` with :math:`p_{KP} < 1 -` ``level``;
* **inconclusive**: otherwise;
* **insufficient data**: fewer than ``min_events`` events with at least one
  complete CAR, fewer than two CARs, or no such event in the file.

The effect is :math:`\\overline{CAR}` with its KP-widened interval. Reported,
not part of the rule: the same test per basket and per event kind, every
other window, the mean CAR path with its band and each pair's CAR.

A market model on an equity index leaves a crypto-linked stock's crypto
exposure in its abnormal return: an event that moves bitcoin and, through
it, the miners counts as moving them (set ``market`` to a crypto instrument
to net that out).

Helpers shared with R4
----------------------
:func:`car_windows` parses window strings such as ``"[-1,+1]"``,
:func:`events_file` resolves the ``events`` key (relative to the claims file)
and :func:`merge_same_session` merges events sharing a day-0 session.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pandas as pd

from rotation.claims._common import format_rule, insufficient, verdict
from rotation.claims._config import Param, Params
from rotation.claims._context import ClaimContext
from rotation.claims._stats import decide_p
from rotation.claims._verdict import Effect, Interval, Verdict
from rotation.errors import DataError

__all__ = [
    "ID",
    "PARAMS",
    "POOLED",
    "RULE",
    "car_windows",
    "evaluate",
    "events_file",
    "merge_same_session",
    "plain_frame",
    "window_label",
]

ID = "R12"
#: Name of the cross-section of every studied member (the decision's cell).
POOLED = "pooled"

_MODELS = ("market", "mean", "market_adjusted")
_WINDOW = re.compile(r"^\s*\[\s*([+-]?\d+)\s*,\s*([+-]?\d+)\s*\]\s*$")

PARAMS: dict[str, Param] = {
    "equities": Param("list", ["crypto_equities", "miners_ai_hosting"], "baskets of crypto-linked equities"),
    "event_kinds": Param("list", ["etf_approval", "etf_launch", "ipo", "deal", "purchase", "index_inclusion"],
                         "institutional event kinds of the events file"),
    "events": Param("str", "default", "events file, relative to the claims file ('default': $ROTATION_EVENTS "
                                      "or the shipped one)"),
    "windows": Param("list", ["[-1,+1]", "[0,+5]", "[0,+20]"], "CAR windows in sessions around day 0"),
    "primary": Param("str", "[-1,+1]", "the CAR window that decides (one of windows)"),
    "model": Param("choice", "market", "normal-return model", choices=_MODELS),
    "estimation": Param("int", 250, "sessions in the estimation window", low=20, high=2000),
    "gap": Param("int", 10, "sessions between the estimation window and day 0", low=0, high=250),
    "min_events": Param("int", 3, "fewest events with a complete CAR", low=1, high=10_000),
}

RULE = (
    "supported when the mean cumulative abnormal return ({model} model, market {market}) over {primary} "
    "sessions of the members of {equities} around the {event_kinds} events of the events file is > 0 with a "
    "two-sided Kolari-Pynnonen (cross-correlation-adjusted BMP) p-value below {alpha}; contradicted when it is "
    "< 0 with p below {alpha}; inconclusive otherwise; insufficient data with fewer than {min_events} events "
    "with a complete CAR. Events on the same session are merged; per-basket and per-kind CARs and the other "
    "windows ({windows}) are reported, not part of the rule."
)


# ----------------------------------------------------------------------------- shared helpers
def window_label(window: tuple[int, int]) -> str:
    """``(0, 20)`` -> ``"[0,+20]"``: the label :func:`~rotation.analytics.events.event_study` uses."""
    a, b = window
    return f"[{a:+d},{b:+d}]".replace("+0", "0")


def car_windows(
    params: Params, key: str = "windows", primary: str = "primary"
) -> tuple[list[tuple[int, int]], tuple[int, int]]:
    """Parse the CAR windows (``"[a,b]"`` strings, sessions around day 0) and the primary one.

    Returns
    -------
    (windows, primary)
        The windows as ``(a, b)`` pairs in the given order, and the primary
        window (always one of them).

    Raises
    ------
    ConfigError
        A string that is not ``[a,b]`` with integers ``a <= b``, a repeated
        window, or a primary window that is not in the list (at the key's line).
    """
    def parse(text: str, where: str) -> tuple[int, int]:
        m = _WINDOW.match(str(text))
        if not m:
            raise params.fail(where, f"'{text}' is not a window like \"[0,+20]\" (sessions around day 0)")
        a, b = int(m.group(1)), int(m.group(2))
        if b < a:
            raise params.fail(where, f"window '{text}' ends before it starts")
        return a, b

    wins = [parse(w, key) for w in params[key]]
    if len(set(wins)) != len(wins):
        raise params.fail(key, f"lists a window twice: {params[key]!r}")
    first = parse(params[primary], primary)
    if first not in wins:
        raise params.fail(primary, f"'{params[primary]}' is not one of the windows "
                                   f"({', '.join(map(str, params[key]))})")
    return wins, first


def events_file(params: Params):
    """The events of the ``events`` key (a path relative to the claims file; ``"default"``: the shipped one).

    Returns
    -------
    EventSet

    Raises
    ------
    EventsFileError
        The file is missing or malformed (file, line and field named).
    """
    from rotation.events import load_events

    value = params["events"]
    path = None if value == "default" else Path(value)
    if path is not None and not path.is_absolute():
        path = params.config.path.parent / path
    return load_events(path)


def merge_same_session(events: Sequence, index: pd.DatetimeIndex) -> tuple[list, list[str]]:
    """Merge events whose day 0 is the same row of ``index``.

    Two events on one session would put the same abnormal returns in the test
    twice. The merged event keeps the first event's date and timing (both give
    that day 0), joins the ids (``" + "``), labels (``" / "``) and distinct
    kinds (``"+"``), and affects the union of the names (``all`` if either
    does). Events with no day 0 in ``index`` are kept as they are (the event
    study lists them as excluded).

    Returns
    -------
    (events, notes)
        Events in date order, and one note per merge.
    """
    from rotation.analytics.events import event_sessions
    from rotation.events import ALL, Event

    evs = list(events)
    if not evs:
        return [], []
    pos = event_sessions(index, evs)["position"].to_numpy()
    groups: dict[int, list[int]] = {}
    out: list[tuple[int, Event]] = []
    for i, p in enumerate(pos):
        if p < 0:
            out.append((i, evs[i]))
        else:
            groups.setdefault(int(p), []).append(i)
    notes = []
    for p, members in groups.items():
        first = evs[members[0]]
        if len(members) == 1:
            out.append((members[0], first))
            continue
        group = [evs[i] for i in members]
        names: list[str] = []
        for e in group:
            names += [n for n in e.affects if n not in names]
        affects = (ALL,) if ALL in names else tuple(names)
        merged = Event(date=first.date, label=" / ".join(e.label for e in group),
                       kind="+".join(dict.fromkeys(e.kind for e in group)), affects=affects, timing=first.timing,
                       id=" + ".join(e.id for e in group), source=first.source, line=first.line)
        notes.append(f"events on the same session {pd.Timestamp(index[p]).date()} studied as one: "
                     + ", ".join(e.id for e in group))
        out.append((members[0], merged))
    out.sort(key=lambda t: (t[1].date, t[0]))
    return [e for _, e in out], notes


def _equity_baskets(ctx: ClaimContext, params: Params) -> tuple[list[str], list[str]]:
    """The ``equities`` baskets; built-in default names the universe lacks are dropped with a note."""
    names = list(params["equities"])
    if "equities" in params.origins:
        return ctx.baskets(params, "equities"), []
    have = [n for n in names if n in ctx.universe.baskets]
    gone = [n for n in names if n not in ctx.universe.baskets]
    if not gone:
        return have, []
    return have, [f"the universe has no basket {', '.join(gone)} (built-in default of 'equities'): left out"]


def plain_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Categorical columns as plain strings (stable JSON and charts)."""
    out = frame.copy()
    for c in out.columns:
        if isinstance(out[c].dtype, pd.CategoricalDtype):
            out[c] = out[c].astype(str)
    return out.reset_index(drop=True)


def _num(value: object) -> float | None:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


# ----------------------------------------------------------------------------- the claim
def evaluate(ctx: ClaimContext, params: Params) -> Verdict:
    """Evaluate R12 (see the module docstring for the rule)."""
    from rotation.analytics.events import event_study
    from rotation.events import ALL, EventSet

    rule = format_rule(RULE, params)
    windows, primary = car_windows(params)
    plabel = window_label(primary)
    panel = ctx.daily  # first: "nothing stored up to the as-of date" is the more basic answer
    names, notes = _equity_baskets(ctx, params)
    if not names:
        raise DataError("crypto-linked equities are needed: " + "; ".join(notes))
    market = ctx.instruments(params, "market")[0]
    w = params["weighting"]
    indices = {n: ctx.basket(n, w) for n in names}
    win = ctx.window(params, indices)
    members = ctx.members(names)
    returns = panel.returns.loc[: win.end]
    have = [s for s in members if s in returns.columns and s != market and returns[s].notna().any()]
    if market not in returns.columns or not returns[market].notna().any():
        raise DataError(f"market {market}: no prices on or before {win.end.date()}")
    caveats = notes + ctx.caveats([*members, market], win)
    common = {
        "window": (win.start, win.end),
        "baskets": tuple(names),
        "instruments": tuple([*have, market]),
        "data": ctx.provenance([*members, market]),
    }

    # --- events: institutional kinds, dated in the window, affecting the studied names
    evs = events_file(params)
    kinds = list(params["event_kinds"])
    absent = [k for k in kinds if k not in evs.kinds]
    if absent:
        caveats.append(f"no events of kind {', '.join(absent)} in the events file ({evs.path})")
    studied = set(have) | set(names)
    chosen = []
    for e in evs:
        d = pd.Timestamp(e.date)
        if e.kind not in kinds or d < win.start or d > win.end:
            continue
        if e.affects_all:
            chosen.append(replace(e, affects=(ALL,)))
            continue
        keep = tuple(n for n in e.affects if n in studied)
        if keep:
            chosen.append(replace(e, affects=keep))
    label = ", ".join(kinds)
    if not chosen:
        return insufficient(ctx, ID, params, rule, [
            f"no {label} events affecting {', '.join(names)} or their members in the events file ({evs.path}) "
            f"between {win.start.date()} and {win.end.date()}; at least {params['min_events']} needed"],
            caveats=tuple(dict.fromkeys(caveats)), **common)
    merged, merge_notes = merge_same_session(chosen, returns.index)
    caveats += merge_notes
    groups = {n: [m for m in ctx.universe.basket(n).members if m in have] for n in names}
    groups = {n: g for n, g in groups.items() if g}
    groups[POOLED] = have
    eset = EventSet.from_events(merged, evs.path)
    study = {"market": market, "estimation": params["estimation"], "gap": params["gap"], "windows": windows,
             "model": params["model"], "level": params["level"]}
    try:
        es = event_study(returns[[*have, market]], eset, groups=groups, by="all", **study)
    except DataError as exc:
        return insufficient(ctx, ID, params, rule, [f"no usable abnormal return around the {len(merged)} "
                                                    f"{label} events: {exc}"],
                            caveats=tuple(dict.fromkeys(caveats)), **common)
    summ = es.summary
    row = summ[(summ["group"] == POOLED) & (summ["window"] == plabel)]
    cars = es.cars
    prim = cars[cars["window"] == plabel]
    n_events = int(prim["event"].nunique()) if len(prim) else 0
    _exclusion_caveats(es.excluded, caveats)
    need = int(params["min_events"])
    if row.empty or n_events < need or int(row["n"].iloc[0]) < 2:
        n = 0 if row.empty else int(row["n"].iloc[0])
        return insufficient(ctx, ID, params, rule, [
            f"{n_events} {label} events with a complete {plabel} CAR of the {', '.join(names)} members "
            f"({n} CARs) between {win.start.date()} and {win.end.date()}; at least {need} events and 2 CARs needed"],
            caveats=tuple(dict.fromkeys(caveats)), **common)
    r = row.iloc[0]
    mean, p, lo, hi = float(r["mean_car"]), float(r["p_kp"]), float(r["ci_low"]), float(r["ci_high"])
    if not (math.isfinite(p) and math.isfinite(lo) and math.isfinite(hi)):
        return insufficient(ctx, ID, params, rule, [
            f"the Kolari-Pynnonen test is undefined for these {int(r['n'])} CARs (average correlation "
            f"{r['rbar']:.3f}): more independent events are needed"], caveats=tuple(dict.fromkeys(caveats)), **common)
    alpha = 1.0 - params["level"]
    stats: dict[str, object] = {
        "cars": int(r["n"]), "events": n_events, "series": int(r["n_series"]),
        "p_bmp": _num(r["p_bmp"]), "p_t": _num(r["p_t"]), "rbar": _num(r["rbar"]), "kp": _num(r["kp"]),
        "mean_scar": _num(r["mean_scar"]), "positive_share": _num(r["pos_share"]),
        "events_used": ", ".join(map(str, dict.fromkeys(prim["event"].astype(str)))),
    }
    for x in summ.itertuples(index=False):
        tag = f"{x.group}_{x.window}"
        stats[f"car_{tag}"] = _num(x.mean_car)
        stats[f"p_kp_{tag}"] = _num(x.p_kp)
        stats[f"n_{tag}"] = int(x.n)
    evidence: dict[str, pd.DataFrame] = {}
    info = es.events[["event", "date", "label"]]
    evidence["cars"] = plain_frame(prim.merge(info, on="event", how="left")[
        ["event", "date", "label", "kind", "series", "window", "car", "se", "p_single"]])
    evidence["car_path"] = plain_frame(es.path(POOLED))
    evidence["summary"] = plain_frame(summ)
    try:
        by_kind = event_study(returns[[*have, market]], eset, groups={k: v for k, v in groups.items() if k != POOLED},
                              by="kind", **study)
        evidence["by_kind"] = plain_frame(by_kind.summary)
    except DataError as exc:  # pragma: no cover - the pooled study above had usable pairs
        caveats.append(f"per-kind study not run: {exc}")
    if len(es.excluded):
        evidence["excluded"] = plain_frame(es.excluded)
    if params["model"] == "market":
        caveats.append(f"market model on {market}: a crypto-linked equity's abnormal return keeps its crypto "
                       "exposure, so an event that moves bitcoin and, through it, these stocks counts as moving them")
    caveats.append(f"{n_events} events ({stats['events_used']}): each CAR is one company's reaction to one "
                   "event; the KP test allows for CARs that share an event date")
    return verdict(
        ctx, ID, params, rule,
        verdict=decide_p(mean, p, alpha, supports="positive"),
        effect=Effect(mean, "simple return",
                      f"mean cumulative abnormal return over {plabel} sessions, {int(r['n'])} (event, member) pairs, "
                      f"{n_events} {label} events"),
        interval=Interval(lo, hi, params["level"],
                          f"cross-sectional t interval widened by the Kolari-Pynnonen factor (average CAR "
                          f"correlation {r['rbar']:.3f}), {int(r['n']) - 1} degrees of freedom"),
        p_value=p, caveats=tuple(dict.fromkeys(caveats)), statistics=stats, evidence=evidence, **common,
    )


def _exclusion_caveats(excluded: pd.DataFrame, caveats: list[str]) -> None:
    """One caveat naming the (event, series, window) pairs left out and why (the first six)."""
    if excluded is None or not len(excluded):
        return
    items = [f"{e} {s}{' ' + w if w else ''} ({r})".replace("  ", " ")
             for e, s, w, r in zip(excluded["event"].astype(str), excluded["series"].astype(str),
                                   excluded["window"].astype(str), excluded["reason"].astype(str), strict=True)]
    caveats.append("left out of the event study: " + "; ".join(items[:6])
                   + (f"; ... ({len(items)} in all)" if len(items) > 6 else ""))
