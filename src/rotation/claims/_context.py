"""What a claim sees: the data as of a date, its baskets, its window and provenance.

One :class:`ClaimContext` serves every claim of a run and caches what they
share (the daily panel, basket indices). Everything is read with
``end = as_of`` (or ``--end`` if earlier): the panel only reads stored rows up
to that date and is look-ahead free (crypto is sampled at the last UTC close
before the US close), and macro series come from
:func:`rotation.panel.macro_panel` on the panel's own dates, which applies
each series' publication lag. A claim evaluated "as of" a date therefore uses
only data that existed then, and adding later data to the store never changes
its verdict.

Definitions every claim shares
------------------------------
Basket index
    :func:`rotation.panel.basket_index` of the basket's members with prices,
    weighted per the ``weighting`` key: ``equal`` (monthly rebalanced),
    ``cap`` (daily, market-cap weights; equal weights when no member has a
    cap) or ``basket`` (the universe's weighting, with the same fallback when
    fewer than half the members have caps).
Side index
    A side (``ai``, ``crypto``) is a list of baskets; its index is the
    equal-weighted average of the basket indices' daily returns (rebalanced
    daily; a basket joins the day after its index starts), i.e.
    :func:`~rotation.panel.basket_index` over the basket *levels*. With one
    basket the side index is that basket's index.
Window
    From the claim's ``start`` (or ``end - lookback_weeks``) to the earliest
    *coverage end* of the baskets involved (the last date at least half of a
    basket's members still had an observed price:
    :func:`rotation.analytics.performance.common_window`), capped by ``end``
    and ``as_of``. Forward-filled prices carry zero returns, so a comparison
    must stop where the first data feed stops; the verdict says so in a caveat.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import pandas as pd

from rotation._typing import DateLike
from rotation.claims._config import ClaimsConfig, Params
from rotation.errors import DataError, EmptyStoreError, ParameterError
from rotation.panel import BasketIndex, Panel, basket_index, build_panel, macro_panel
from rotation.store import Store
from rotation.universe import Universe

__all__ = ["ClaimContext", "ClaimWindow", "weekly_returns"]

#: A member whose data ends (or starts) more than this many days inside the window is named in a caveat.
_SLACK_DAYS = 7


def _ts(value: DateLike | None, name: str) -> pd.Timestamp | None:
    if value is None:
        return None
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise ParameterError(name, f"not a date: {value!r}") from None
    if pd.isna(ts):
        raise ParameterError(name, f"not a date: {value!r}")
    return ts.tz_localize(None).normalize() if ts.tz is not None else ts.normalize()


def _day(ts: pd.Timestamp | None) -> str:
    return "-" if ts is None or pd.isna(ts) else pd.Timestamp(ts).strftime("%Y-%m-%d")


def weekly_returns(levels: pd.DataFrame | pd.Series) -> pd.DataFrame | pd.Series:
    """Simple returns between the last values of consecutive complete W-FRI weeks.

    Uses :func:`rotation.analytics.rrg.to_weekly` (last observation of each
    week, complete weeks only), so a weekly return never uses a later row.
    """
    from rotation.analytics.rrg import to_weekly

    w = to_weekly(levels)
    return w / w.shift(1) - 1.0


@dataclass(frozen=True)
class ClaimWindow:
    """The window a claim measures over.

    Attributes
    ----------
    start, end : Timestamp
        First and last date (inclusive); returns are those dated ``(start, end]``.
    notes : list of str
        Why the window differs from the one requested (a late basket, a data
        feed that ends early).
    """

    start: pd.Timestamp
    end: pd.Timestamp
    notes: list[str] = field(default_factory=list)

    def slice(self, frame: pd.DataFrame | pd.Series) -> pd.DataFrame | pd.Series:
        """Rows dated in ``(start, end]`` (the returns earned inside the window)."""
        idx = frame.index
        return frame[(idx > self.start) & (idx <= self.end)]


class ClaimContext:
    """Shared, cached inputs of the claims of one run.

    Parameters
    ----------
    store : Store
    universe : Universe
    config : ClaimsConfig
    as_of : date-like, optional
        Use only data available on this date (default: everything stored).
    start, end : date-like, optional
        Window overrides applied to every claim (else each claim's configured window).
    """

    def __init__(
        self,
        store: Store,
        universe: Universe,
        config: ClaimsConfig,
        *,
        as_of: DateLike | None = None,
        start: DateLike | None = None,
        end: DateLike | None = None,
    ) -> None:
        self.store = store
        self.universe = universe
        self.config = config
        self.as_of = _ts(as_of, "as_of")
        self.start = _ts(start, "start")
        self.end = _ts(end, "end")
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ParameterError("end", f"end {_day(self.end)} is not after start {_day(self.start)}")
        ends = [t for t in (self.as_of, self.end) if t is not None]
        #: Last date any data is read for.
        self.data_end: pd.Timestamp | None = min(ends) if ends else None
        self._indices: dict[tuple[str, str], BasketIndex] = {}
        self._sides: dict[tuple[tuple[str, ...], str], BasketIndex] = {}

    # -- data ----------------------------------------------------------------------------
    @cached_property
    def daily(self) -> Panel:
        """Daily NYSE-session panel of the universe up to ``data_end``.

        Market caps use ``cap_method="backcast"`` (constant-share extension
        of the latest cap snapshot on or before ``data_end``; flagged in the
        verdicts that use caps).
        """
        return build_panel(self.store, self.universe, end=self.data_end, cap_method="backcast")

    @cached_property
    def first_dates(self) -> dict[str, pd.Timestamp | None]:
        """Symbol -> first date with a price in :attr:`daily` (None without one).

        Computed once per run: every verdict's provenance and caveats look these up
        (a per-column ``apply`` per verdict cost ~0.2 s of a ledger).
        """
        prices = self.daily.prices
        return {s: prices[s].first_valid_index() for s in dict.fromkeys(prices.columns)}

    def macro(self, symbols: Sequence[str], index: pd.DatetimeIndex) -> pd.DataFrame:
        """Macro series as published on each date of ``index`` (columns only for stored series).

        Raises
        ------
        DataError
            None of ``symbols`` is stored (names them).
        """
        try:
            frame = macro_panel(self.store, self.universe, symbols=list(symbols), index=index)
        except EmptyStoreError:
            raise DataError(f"macro series not stored: {', '.join(symbols)}") from None
        return frame

    # -- configuration lookups -------------------------------------------------------------
    def baskets(self, params: Params, key: str) -> list[str]:
        """Basket names under ``key``, checked against the universe (ConfigError at the key's line)."""
        names = params[key]
        if isinstance(names, str):
            names = [names]
        unknown = [n for n in names if n not in self.universe.baskets]
        if unknown:
            raise params.fail(key, f"unknown basket(s) {', '.join(unknown)} "
                                   f"(the universe has {', '.join(self.universe.baskets)})")
        return list(names)

    def instruments(self, params: Params, key: str) -> list[str]:
        """Instrument symbols under ``key``, checked against the universe."""
        names = params[key]
        if isinstance(names, str):
            names = [names]
        unknown = [n for n in names if n not in self.universe.instruments]
        if unknown:
            raise params.fail(key, f"unknown instrument(s) {', '.join(unknown)} (not in the universe)")
        return list(names)

    # -- indices ---------------------------------------------------------------------------
    def basket(self, name: str, weighting: str) -> BasketIndex:
        """The basket's index on the daily panel (cached), see the module notes for ``weighting``.

        Raises
        ------
        DataError
            No member of the basket has prices on or before ``data_end``.
        """
        key = (name, weighting)
        if key in self._indices:
            return self._indices[key]
        panel = self.daily
        members = [m for m in self.universe.basket(name).members
                   if m in panel.prices.columns and panel.prices[m].notna().any()]
        if not members:
            raise DataError(f"basket {name}: no member has prices"
                            + (f" on or before {_day(self.data_end)}" if self.data_end is not None else ""))
        if weighting == "basket":
            from rotation.analytics.performance import basket_indices

            idx = basket_indices(panel, [name])[name]
        else:
            idx = None
            if weighting == "cap":
                with_caps = [m for m in members if panel.market_caps[m].notna().any()]
                if with_caps:
                    idx = panel.basket(name, "cap")
                    idx.notes.append("cap-weighted with market caps back-cast at constant share counts")
            if idx is None:
                idx = panel.basket(name, "equal")
                if weighting == "cap":
                    idx.notes.append("no member has a market cap: equal-weighted instead")
        self._indices[key] = idx
        return idx

    def side(self, names: Sequence[str], weighting: str, label: str) -> BasketIndex:
        """Equal-weighted (daily) average of the baskets' indices (see module notes)."""
        key = (tuple(names), weighting)
        if key in self._sides:
            return self._sides[key]
        levels = pd.DataFrame({n: self.basket(n, weighting).level for n in names})
        if len(names) == 1:
            idx = self.basket(names[0], weighting)
            side = BasketIndex(level=idx.level.rename(label), returns=idx.returns.rename(label), weights=idx.weights,
                               n_members=idx.n_members, weighting=idx.weighting, rebalance=idx.rebalance,
                               notes=list(idx.notes))
        else:
            side = basket_index(levels, weighting="equal", rebalance="D", name=label)
        self._sides[key] = side
        return side

    # -- window ----------------------------------------------------------------------------
    def window(self, params: Params, baskets: Mapping[str, BasketIndex], *, min_rows: int = 2) -> ClaimWindow:
        """The claim's window over ``baskets`` (name -> index); see the module notes.

        Raises
        ------
        DataError
            The baskets share no dates in the requested window.
        """
        from rotation.analytics.performance import common_window

        panel = self.daily
        req_start = self.start if self.start is not None else params["start"]
        ends = [t for t in (self.end if self.end is not None else params["end"], self.as_of) if t is not None]
        req_end = min(ends) if ends else None
        # no basket is "stale" here: a comparison stops where the first feed stops
        cw = common_window(panel, dict(baskets), stale_days=10**6)
        notes: list[str] = []
        end = cw.end if req_end is None else min(cw.end, req_end)
        freshest = cw.ends.max() if req_end is None else min(cw.ends.max(), req_end)
        if (freshest - end).days > _SLACK_DAYS:
            first = cw.ends.idxmin()
            notes.append(f"window ends {_day(end)}, where the data of basket {first} stop "
                         f"(other baskets run to {_day(freshest)})")
        weeks = int(params["lookback_weeks"])
        start = end - pd.Timedelta(weeks=weeks) if weeks > 0 else req_start
        if start is None or start < cw.start:
            if start is not None and (cw.start - start).days > _SLACK_DAYS:
                late = max(baskets, key=lambda n: baskets[n].level.first_valid_index())
                notes.append(f"window starts {_day(cw.start)}, when basket {late} starts "
                             f"(requested {_day(start)})")
            start = cw.start
        # the window's first row is the base date: snap to the last panel row on or before it
        rows = panel.index[panel.index <= start]
        if len(rows):
            start = rows[-1]
        n = int(((panel.index > start) & (panel.index <= end)).sum())
        if end <= start or n < min_rows:
            raise DataError(f"the baskets {', '.join(baskets)} share no data between "
                            f"{_day(start)} and {_day(end)}")
        return ClaimWindow(start=pd.Timestamp(start), end=pd.Timestamp(end), notes=notes)

    # -- provenance and caveats ----------------------------------------------------------
    def members(self, names: Sequence[str]) -> list[str]:
        """Members of the baskets (universe order, no duplicates)."""
        out: list[str] = []
        for n in names:
            out += [m for m in self.universe.basket(n).members if m not in out]
        return out

    def provenance(self, symbols: Sequence[str]) -> pd.DataFrame:
        """``symbol, source, first_date, last_observed`` of the symbols with data in the panel."""
        panel = self.daily
        have = [s for s in symbols if s in panel.prices.columns]
        first = self.first_dates
        return pd.DataFrame({
            "symbol": have,
            "source": [panel.sources.get(s) for s in have],
            "first_date": [first.get(s) for s in have],
            "last_observed": [panel.last_observed.get(s) for s in have],
        })

    def caveats(
        self,
        symbols: Sequence[str],
        window: ClaimWindow,
        *,
        indices: Sequence[BasketIndex] = (),
        caps: bool = False,
    ) -> list[str]:
        """Data-quality notes for ``symbols`` over ``window``.

        Names members without data, members whose data start or end inside
        the window (late listings, stale feeds), prices spliced from another
        source without a common date, back-cast market caps (when ``caps``),
        and the basket indices' own notes.
        """
        panel = self.daily
        out = list(window.notes)
        absent = [s for s in symbols if s not in panel.prices.columns or not panel.prices[s].notna().any()]
        if absent:
            upto = f" on or before {_day(self.data_end)}" if self.data_end is not None else " in the store"
            out.append(f"no data{upto} for {', '.join(absent)}: left out")
        have = [s for s in symbols if s not in absent]
        first = self.first_dates
        late = [f"{s} ({_day(first[s])})" for s in have if (first[s] - window.start).days > _SLACK_DAYS
                and first[s] <= window.end]
        after = [s for s in have if first[s] > window.end]
        if late:
            out.append(f"data start inside the window for {', '.join(late)}: they join their basket then")
        if after:
            out.append(f"no data in the window for {', '.join(after)}")
        stale = [f"{s} ({_day(panel.last_observed[s])})" for s in have
                 if pd.notna(panel.last_observed.get(s)) and window.start < panel.last_observed[s]
                 and (window.end - panel.last_observed[s]).days > _SLACK_DAYS]
        if stale:
            out.append(f"data end before the window end ({_day(window.end)}) for {', '.join(stale)}: "
                       "their positions are held at the last price")
        q = panel.quality
        q = q[q["symbol"].isin(have)]
        unscaled = sorted(set(q.loc[q["action"].str.startswith("spliced_unscaled"), "symbol"]))
        if unscaled:
            out.append(f"prices of {', '.join(unscaled)} combine sources with no common date (spliced unscaled)")
        if caps:
            back = sorted(set(q.loc[q["action"] == "cap_backcast", "symbol"]))
            if back:
                out.append(f"market caps of {len(back)} instruments ({', '.join(back[:8])}"
                           f"{', ...' if len(back) > 8 else ''}) are back-cast from a later snapshot at constant "
                           "share counts (approximation: ignores buybacks and issuance)")
        for idx in indices:
            out += [f"{idx.level.name}: {n}" if idx.level.name else n for n in idx.notes]
        return list(dict.fromkeys(out))

    def risk_free(self, index: pd.DatetimeIndex, preference: Sequence[str]) -> tuple[pd.Series, str, list[str]]:
        """Per-period risk-free return on ``index`` from the first stored series of ``preference``.

        The annual rate (percent) known on each date is de-annualised with
        :func:`rotation.analytics.returns.deannualize_rate` at 252 periods a
        year. Without any stored series: zero, and a caveat.
        """
        from rotation.analytics.returns import deannualize_rate

        for sym in preference:
            try:
                m = self.macro([sym], index)
            except DataError:
                continue
            if sym in m.columns and m[sym].notna().any():
                rate = m[sym].ffill()
                return deannualize_rate(rate / 100.0, 252.0), sym, []
        return pd.Series(0.0, index=index), "none", [
            f"no risk-free series stored ({', '.join(preference)}): Sharpe ratios use a zero risk-free rate"]
