"""R5: AI stocks supplied most of the S&P 500's gains since end-2022.

Published estimates (``../shared/CLAIMS.md``): about 75% of the index's total
return and about 90% of its market-cap increase since the end of 2022 came
from AI-linked stocks. This claim recomputes the share from the stored index
membership, member prices and market caps, and reports the published numbers
next to it for comparison (never calibrated to them).

Decision rule
-------------
The index (``index``, default ``SP500``) is rebuilt from its members on the
window's first session :math:`t_0` (default 2022-12-30; membership from the
stored spells, ticker changes resolved), cap-weighted, each member held from
:math:`t_0` (:func:`rotation.analytics.concentration.contribution`). The
AI-linked set is the members of the ``ai`` baskets that are (or were) index
members (:func:`~rotation.analytics.concentration.ai_linked_set`; to study
another set, define it as a basket in the universe file and name it in
``ai``). Daily contributions :math:`c^{set}_t = \\sum_{i \\in set}
w_{i,t-1} r_{i,t}` and :math:`c^{oth}_t` (the rest) sum to the index return
:math:`r_t`; linked over the window with ``linking`` (default ``grap``:
:math:`\\tilde c = \\sum_t G_{t-1} c_t`, :math:`G_{t-1} = \\prod_{s<t}(1+r_s)`,
which for this buy-and-hold index gives exactly the buy-and-hold contribution
:math:`\\sum_{i \\in set} w_{i,t_0} R_i`) they add up to the index's total
return :math:`R`. The effect is the set's **share of the total return**
:math:`S = \\tilde c^{set} / R`.

Uncertainty. :math:`S` is an accounting identity of the data; what can be
asked is whether it rests on a few days. A block bootstrap of the daily rows
:math:`(c^{set}_t, c^{oth}_t)` (``bootstrap``, ``bootstrap_reps``,
``block_length``, ``seed``) gives the distribution of
:math:`E = \\tilde c^{set} - \\theta(\\tilde c^{set} + \\tilde c^{oth})`
(:math:`\\theta` = ``threshold``; each resample linked afresh): :math:`E > 0`
exactly when the set supplied more than :math:`\\theta` of a positive index
return. Its percentile interval is reported in share units as
:math:`\\theta + [E_{lo}, E_{hi}] / R` (the realised :math:`R` held fixed), and the
bootstrap p-value is that of :math:`E = 0`.

* **supported**: :math:`S > \\theta` and the interval lies above :math:`\\theta`;
* **contradicted**: :math:`S < \\theta` and the interval lies below :math:`\\theta`;
* **inconclusive**: the interval contains :math:`\\theta`;
* **insufficient data**: no stored membership of the index, no member with a
  price and a market cap on :math:`t_0` (e.g. evaluated as of a date before
  the only cap snapshot), no AI-basket member in the index, fewer than
  ``min_observations`` daily rows, or an index that did not rise (no gains to
  attribute).

The measurement caveats are not in the interval and are carried with the
verdict (from the contribution's notes): **survivorship** (members on
:math:`t_0` without data - with today's members only, those removed since -
are missing, so the index is the survivors'), **constant shares** (caps
back-cast from one snapshot: each cap moves with its price, so the
cap-increase share equals the return share and buybacks/issuance are
ignored; the published 75% vs 90% gap comes from them), members without a
cap, later entrants left out, full (not float-adjusted) caps and total
(adjusted-close) returns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rotation.claims._common import format_rule, insufficient, verdict
from rotation.claims._config import Param, Params
from rotation.claims._context import ClaimContext
from rotation.claims._stats import block_bootstrap, decide_interval
from rotation.claims._verdict import Effect, Interval, Verdict
from rotation.errors import DataError, EmptyStoreError, ParameterError

__all__ = ["ID", "PARAMS", "RULE", "SET_NAME", "evaluate", "excess_over_threshold", "excesses_over_threshold"]

ID = "R5"
#: Label of the AI-linked set in the evidence.
SET_NAME = "AI-linked"
#: Other constituents listed in the contributions evidence (beside the set's members).
_TOP_OTHERS = 15

PARAMS: dict[str, Param] = {
    "index": Param("str", "SP500", "index whose membership spells are stored"),
    "threshold": Param("float", 0.5, "share of the total return the set must exceed ('most')", low=0.0, high=1.0),
    "linking": Param("choice", "grap", "linking of daily contributions", choices=("grap", "carino", "menchero")),
}

RULE = (
    "supported when the AI-linked members of the {index} (the {ai} baskets' index members) supplied more than "
    "{threshold:.0%} of the total return of the {index} rebuilt from its members at the window start "
    "(cap-weighted, daily contributions linked with {linking}), with the {level:.0%} {bootstrap} "
    "block-bootstrap percentile interval over days ({bootstrap_reps} reps, seed {seed}) above {threshold:.0%}; "
    "contradicted when the share and its interval lie below {threshold:.0%}; inconclusive otherwise; insufficient "
    "data without the index's membership, member prices and market caps, with fewer than {min_observations} "
    "daily rows, or when the index did not rise. The published ~75% (return) / ~90% (market-cap increase) are "
    "reported for comparison; survivorship and constant-share approximations are stated in the caveats."
)


def excess_over_threshold(rows: np.ndarray, threshold: float, linking: str) -> float:
    """:math:`E = \\tilde c^{set} - \\theta(\\tilde c^{set} + \\tilde c^{oth})` of daily contribution rows.

    Parameters
    ----------
    rows : ndarray (T, 2)
        Daily contributions of the set (column 0) and of the rest (column 1),
        in time order; their row sums are the index's daily returns (> -1).
    threshold : float
        :math:`\\theta`.
    linking : {"grap", "carino", "menchero"}
        See :func:`rotation.analytics.concentration.link_contributions`.

    Returns
    -------
    float
        Positive exactly when the set's linked share of a positive compound
        return exceeds ``threshold``.
    """
    from rotation.analytics.concentration import link_contributions

    linked = link_contributions(pd.DataFrame(rows), linking).to_numpy()
    return float(linked[0] - threshold * (linked[0] + linked[1]))


def excesses_over_threshold(samples: np.ndarray, threshold: float, linking: str) -> np.ndarray:
    """:func:`excess_over_threshold` of each of ``m`` resamples, ``(m, n, 2) -> (m,)``, bit for bit.

    GRAP linking is done for all resamples at once with the operations of
    :func:`rotation.analytics.concentration.link_contributions` (row sums,
    cumulative log growth), then one ``beta @ c`` per resample: the same BLAS
    call as there (``c`` column-major, as a two-column DataFrame's ``to_numpy``
    is), because a batched product, or one over another memory layout, may sum
    in another order. Carino and Menchero linking (and any resample with a
    period return at or below -100%, which raises there) go through
    :func:`excess_over_threshold` one by one.
    """
    c = np.asarray(samples, dtype="float64")
    r = c.sum(axis=2)
    if linking != "grap" or not np.isfinite(c).all() or (r <= -1.0).any():
        return np.array([excess_over_threshold(s, threshold, linking) for s in c])
    m = c.shape[0]
    growth = np.cumsum(np.log1p(r), axis=1)
    beta = np.exp(np.concatenate([np.zeros((m, 1)), growth[:, :-1]], axis=1))
    linked = np.array([beta[i] @ np.asfortranarray(c[i]) for i in range(m)]).reshape(m, 2)
    return linked[:, 0] - threshold * (linked[:, 0] + linked[:, 1])


def evaluate(ctx: ClaimContext, params: Params) -> Verdict:
    """Evaluate R5 (see the module docstring for the rule)."""
    from rotation.analytics.concentration import (
        PUBLISHED_CAP_INCREASE_SHARE,
        PUBLISHED_RETURN_SHARE,
        ai_linked_set,
        contribution,
        index_members,
        link_contributions,
    )
    from rotation.panel import build_panel

    rule = format_rule(RULE, params)
    universe_panel = ctx.daily  # fails first (naming the as-of date) when nothing is stored by then
    ai_names = ctx.baskets(params, "ai")
    index = params["index"]
    store = ctx.store
    spells = store.read_membership(index)
    if spells.empty:
        raise DataError(f"the membership of index {index} is needed: none stored (import its spells, e.g. "
                        f"`rotation import members.csv --kind membership --index-name {index}`)")
    changes = store.read_index_changes(index)
    t0, t_end = _requested_window(ctx, params, universe_panel.index)
    at_start = index_members(spells, t0, changes=changes)
    ever = set(spells["symbol"]) | set(changes["symbol"]) | set(at_start)
    meta = store.instruments()
    if "sector" in meta.columns:  # a stored constituents list (sector metadata) also marks index members
        ever |= set(meta.loc[meta["sector"].notna(), "symbol"])
    try:
        the_set = ai_linked_set(ctx.universe, ever, baskets=ai_names)
    except ParameterError as exc:
        raise DataError(f"an AI-linked set is needed: {exc.message}") from None
    try:
        panel = build_panel(store, ctx.universe, symbols=sorted(set(at_start) | set(the_set)),
                            start=t0 - pd.Timedelta(days=14), end=ctx.data_end, cap_method="backcast")
    except EmptyStoreError:
        raise DataError(f"prices of the {index} members on {t0.date()} are needed: none stored") from None
    try:
        res = contribution(panel, the_set, start=t0, end=t_end, constituents=spells, changes=changes,
                           linking=params["linking"], set_name=SET_NAME, index_name=index)
    except DataError as exc:
        upto = (f" (only data available on {ctx.as_of.date()} is used: market caps come from snapshots, and a "
                "snapshot dated later is not)") if ctx.as_of is not None else ""
        raise DataError(f"{index} members' prices and market caps are needed: {exc}{upto}") from None

    members = list(res.members)
    common = {
        "window": (res.start, res.end),
        "baskets": tuple(ai_names),
        "instruments": tuple(members),
        "data": ctx.provenance(members),
    }
    caveats = list(res.notes)
    if t_end is not None and (t_end - res.end).days > 7:
        caveats.append(f"window ends {res.end.date()}, the last session with data on or before the requested "
                       f"end {t_end.date()}")
    daily = res.daily
    stats = _statistics(res, PUBLISHED_RETURN_SHARE, PUBLISHED_CAP_INCREASE_SHARE)
    if params["linking"] != "carino":
        carino = link_contributions(daily[["set_contribution", "other_contribution"]], "carino")
        stats["set_linked_share_carino"] = float(carino.iloc[0] / res.index_return_linked)
    evidence = {"contribution_path": _path(daily), "contributions": _contributions(res),
                "comparison": res.comparison()}
    if len(daily) < params["min_observations"]:
        return insufficient(ctx, ID, params, rule, [
            f"{len(daily)} daily rows between {res.start.date()} and {res.end.date()}, at least "
            f"{params['min_observations']} needed"], caveats=tuple(caveats), statistics=stats, evidence=evidence,
            **common)
    big_r = res.index_return_linked
    if not big_r > 0:
        return insufficient(ctx, ID, params, rule, [
            f"an index gain to attribute is needed: the rebuilt {index} returned {big_r:+.2%} between "
            f"{res.start.date()} and {res.end.date()}"], caveats=tuple(caveats), statistics=stats,
            evidence=evidence, **common)
    theta, linking = float(params["threshold"]), params["linking"]
    rows = daily[["set_contribution", "other_contribution"]].to_numpy()
    boot = block_bootstrap(rows, lambda x: excess_over_threshold(x, theta, linking), reps=params["bootstrap_reps"],
                           seed=params["seed"], level=params["level"], kind=params["bootstrap"],
                           block_length=params["block_length"],
                           batch=lambda s: excesses_over_threshold(s, theta, linking))
    share = float(res.set_linked_share)
    lo, hi = theta + boot.lo / big_r, theta + boot.hi / big_r
    stats.update({"days": len(daily), "bootstrap_se_share": boot.se / big_r, "block_length": boot.block_length})
    caveats.append(
        "the share is an accounting identity of the data; its interval (days resampled in blocks) measures how "
        "much it rests on particular days, not the approximations above (survivorship, constant shares), which "
        "move it by an unknown amount")
    return verdict(
        ctx, ID, params, rule,
        verdict=decide_interval(lo - theta, hi - theta, supports="positive"),
        effect=Effect(share, "share of total return",
                      f"share of the rebuilt {index}'s total return ({big_r:+.1%}) supplied by the {len(members)} "
                      f"AI-linked members (daily contributions linked with {linking})"),
        interval=Interval(lo, hi, params["level"],
                          f"{boot.method}; percentile interval of E = set contribution - {theta:g} x index return, "
                          f"divided by the realised index return and shifted by {theta:g}"),
        p_value=boot.p_value, caveats=tuple(dict.fromkeys(caveats)), statistics=stats, evidence=evidence, **common,
    )


def _requested_window(ctx: ClaimContext, params: Params, index: pd.DatetimeIndex) -> tuple[pd.Timestamp,
                                                                                          pd.Timestamp | None]:
    """(start, end) asked for: overrides, then the claim's keys; ``lookback_weeks`` counts back from the end.

    ``end`` is None unless an end is configured: the contribution then ends
    where half the constituents' observed prices stop (the panel is already
    cut at the as-of date).
    """
    explicit = ctx.end if ctx.end is not None else params["end"]
    end = explicit if explicit is None or ctx.as_of is None else min(explicit, ctx.as_of)
    weeks = int(params["lookback_weeks"])
    if weeks > 0:
        last = end if end is not None else (ctx.data_end if ctx.data_end is not None else index[-1])
        return pd.Timestamp(min(last, index[-1])) - pd.Timedelta(weeks=weeks), end
    start = ctx.start if ctx.start is not None else params["start"]
    if start is None:
        raise params.fail("start", f"{ID} needs a window start (the published estimates use 2022-12-30)")
    return pd.Timestamp(start), end


def _statistics(res, published_return: float, published_cap: float) -> dict[str, object]:
    ex = res.excluded
    return {
        "index_return": res.index_return_linked,
        "set_linked_share": res.set_linked_share,
        "set_return_share_buy_and_hold": res.set_return_share,
        "set_cap_increase_share": res.set_cap_increase_share,
        "published_return_share": published_return,
        "published_cap_increase_share": published_cap,
        "return_share_minus_published_pp": 100.0 * (res.set_linked_share - published_return),
        "cap_increase_share_minus_published_pp": 100.0 * (res.set_cap_increase_share - published_cap),
        "set_weight_start": res.set_weight_start,
        "set_weight_end": res.set_weight_end,
        "index_cap_start": res.cap_start,
        "index_cap_end": res.cap_end,
        "constituents_used": len(res.constituents),
        "members_at_start": res.n_members_start,
        "members_without_data": len(ex.get("no data", [])),
        "members_without_cap": len(ex.get("no market cap", [])),
        "set_members": ", ".join(res.members),
        "set_members_left_out": "; ".join(f"{k} ({v})" for k, v in res.members_left_out.items()) or None,
    }


def _path(daily: pd.DataFrame) -> pd.DataFrame:
    """Running GRAP-linked contributions (they add up to the index's compound return on every date), weekly."""
    growth = np.exp(np.concatenate([[0.0], np.cumsum(np.log1p(daily["index_return"].to_numpy()))[:-1]]))
    out = pd.DataFrame({
        "index_cumulative": daily["index_cumulative"],
        "set_cumulative": np.cumsum(growth * daily["set_contribution"].to_numpy()),
        "other_cumulative": np.cumsum(growth * daily["other_contribution"].to_numpy()),
        "set_weight": daily["set_weight"],
    }, index=daily.index)
    last = out.groupby(out.index.to_period("W-FRI")).tail(1).index
    return out[out.index.isin(last)].rename_axis("date").reset_index()


def _contributions(res) -> pd.DataFrame:
    """The set's members and the largest other contributors (buy and hold from the window start)."""
    frame = res.to_frame()
    shown = pd.concat([frame[frame["in_set"]], frame[~frame["in_set"]].head(_TOP_OTHERS)])
    cols = ["in_set", "weight_start", "weight_end", "return", "contribution", "share_of_return", "cap_change",
            "share_of_cap_increase", "share_of_linked"]
    return shown[cols].rename_axis("symbol").reset_index()
