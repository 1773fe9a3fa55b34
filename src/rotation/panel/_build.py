"""Aligned wide panels built from the store.

Alignment policy (the default is ``calendar="sessions"``, ``crypto_close="prior"``)
----------------------------------------------------------------------------------
* Rows are NYSE sessions. Equities, ETFs and indexes are taken on their
  session. Crypto and stablecoins (24/7, rows dated by the UTC day whose
  24:00 close they report) are sampled at the **last UTC close before the US
  close**: on session *D* that is the close of UTC day *D-1* (00:00 UTC of *D*,
  before 16:00 New York). So a cross-asset row never contains a price that was
  not known at the US close. ``crypto_close="same_day"`` uses the close of *D*
  instead (3-4 hours after the US close: a small look-ahead, documented and
  opt-in, useful for daily correlation work). Weekend crypto moves roll into
  Monday's return; weekend crypto dollar volume is summed into the next session.
* ``calendar="all_days"``: every calendar day; crypto as is, exchange-traded
  series carried over non-session days.
* Weekly (``frequency="W"``): the last row of each W-FRI week, labelled by its
  Friday; dollar volume is summed over the week. Only complete weeks are
  emitted (the calendar says which sessions a week has), so a partial last week
  never appears and later data never rewrites a weekly row.

Data-quality policy applied here
--------------------------------
* Several sources for one symbol are combined by preference (the universe's
  ``sources`` order, then other stored sources alphabetically). Prices from a
  lower-ranked source fill dates the better one lacks, scaled by the ratio of
  the two on the most recent common date (adjustment bases differ between
  vendors), or on the first common date when the fill precedes any overlap.
* Non-positive prices are dropped (NaN). Gaps of up to ``max_gap`` rows are
  forward-filled (a causal fill: the last known price); longer gaps stay NaN.
  Every fill, drop and splice is counted in :attr:`Panel.quality`.
* Before an instrument's first observation its cells are NaN (late listings
  are never back-filled).

Market caps (``cap_method``)
----------------------------
``observed``: stored caps only. ``carry`` (default): after the last observed
cap, extend it with the price ratio (constant supply/shares) - causal.
``backcast``: ``carry`` plus, before the first observed cap, the same
constant-share extension backwards; this uses a later snapshot, so the result
is an approximation flagged in :attr:`Panel.quality` (what R5/R7 need when only
a market-cap snapshot exists).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from rotation._typing import DateLike
from rotation.errors import EmptyStoreError, ParameterError, UniverseError
from rotation.panel._basket import BasketIndex, basket_index
from rotation.panel._calendar import CALENDARS, calendar_index, weekly_labels
from rotation.store import Store
from rotation.universe import Universe, load_universe
from rotation.universe._model import DAILY_CLASSES

__all__ = ["CAP_METHODS", "Panel", "build_panel", "macro_panel"]

CAP_METHODS = ("observed", "carry", "backcast")
_FREQ_STALE_DAYS = {"D": 7, "W": 14, "M": 62, "Q": 190}
_FREQ_DEFAULT_LAG = {"D": 1, "W": 7, "M": 35, "Q": 90}

EMPTY_STORE_HELP = (
    "The store at {path} has no {what}. Get data in first:\n"
    "  online:  rotation fetch                      (downloads the universe's history)\n"
    "  offline: rotation import FILE [mapping options] (bring CSV/Parquet; see `rotation import --help`)"
)


@dataclass(frozen=True)
class Panel:
    """Aligned wide frames for a set of instruments.

    All frames share one ascending ``DatetimeIndex`` named ``date`` and the
    same symbol columns. Shapes are (T, N).

    Attributes
    ----------
    prices : DataFrame
        Adjusted close (total-return basis) where available, else close.
    close : DataFrame
        Unadjusted close (NaN where only adjusted closes are stored).
    market_caps, supply : DataFrame
        In currency units and native units. See ``cap_method``.
    volume_usd : DataFrame
        Dollar volume per row (summed over the week for weekly panels).
    asset_classes : Series
        Symbol -> asset class.
    frequency, calendar, crypto_close, cap_method : str
    quality : DataFrame
        ``symbol, action, count, detail``: every fill, drop and splice made.
    universe : Universe or None
    """

    prices: pd.DataFrame
    close: pd.DataFrame
    market_caps: pd.DataFrame
    supply: pd.DataFrame
    volume_usd: pd.DataFrame
    asset_classes: pd.Series
    frequency: str
    calendar: str
    crypto_close: str
    cap_method: str
    quality: pd.DataFrame
    universe: Universe | None = None
    sources: pd.Series = field(default_factory=lambda: pd.Series(dtype=object))

    @property
    def symbols(self) -> list[str]:
        return list(self.prices.columns)

    @property
    def index(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(self.prices.index)

    @cached_property
    def returns(self) -> pd.DataFrame:
        """Simple returns (T, N): NaN when either price is NaN; first row NaN."""
        return self.prices / self.prices.shift(1) - 1.0

    @cached_property
    def log_returns(self) -> pd.DataFrame:
        return np.log(self.prices / self.prices.shift(1))

    def periods_per_year(self) -> pd.Series:
        """Annualisation per symbol: 252 sessions (365 on ``all_days`` for crypto), 52 weekly."""
        if self.frequency == "W":
            return pd.Series(52.0, index=self.prices.columns)
        if self.calendar == "sessions":
            return pd.Series(252.0, index=self.prices.columns)
        return self.asset_classes.map(lambda c: 365.0 if c in DAILY_CLASSES else 252.0).astype(float)

    def select(self, symbols: Sequence[str]) -> Panel:
        """A panel restricted to ``symbols`` (in that order)."""
        missing = [s for s in symbols if s not in self.prices.columns]
        if missing:
            raise ParameterError("symbols", f"not in the panel: {', '.join(missing)}")
        cols = list(symbols)
        return Panel(
            prices=self.prices[cols],
            close=self.close[cols],
            market_caps=self.market_caps[cols],
            supply=self.supply[cols],
            volume_usd=self.volume_usd[cols],
            asset_classes=self.asset_classes[cols],
            frequency=self.frequency,
            calendar=self.calendar,
            crypto_close=self.crypto_close,
            cap_method=self.cap_method,
            quality=self.quality[self.quality["symbol"].isin(cols)].reset_index(drop=True),
            universe=self.universe,
            sources=self.sources.reindex(cols),
        )

    def window(self, start: DateLike | None = None, end: DateLike | None = None) -> Panel:
        """Rows in ``[start, end]``."""
        sl = slice(pd.Timestamp(start) if start else None, pd.Timestamp(end) if end else None)

        def cut(f: pd.DataFrame) -> pd.DataFrame:
            return f.loc[sl]

        return Panel(
            prices=cut(self.prices),
            close=cut(self.close),
            market_caps=cut(self.market_caps),
            supply=cut(self.supply),
            volume_usd=cut(self.volume_usd),
            asset_classes=self.asset_classes,
            frequency=self.frequency,
            calendar=self.calendar,
            crypto_close=self.crypto_close,
            cap_method=self.cap_method,
            quality=self.quality,
            universe=self.universe,
            sources=self.sources,
        )

    # -- baskets ------------------------------------------------------------------------
    def _basket_members(self, name: str) -> tuple[list[str], str]:
        if self.universe is None:
            raise UniverseError("this panel has no universe: pass members to basket_index() directly")
        basket = self.universe.basket(name)
        return [m for m in basket.members if m in self.prices.columns], basket.weighting

    def basket(self, name: str, weighting: str | None = None, **kwargs: object) -> BasketIndex:
        """The :class:`BasketIndex` of universe basket ``name`` (see :func:`basket_index`)."""
        members, default_weighting = self._basket_members(name)
        w = weighting or default_weighting
        return basket_index(
            self.prices,
            members,
            weighting=w,
            caps=self.market_caps if w == "cap" else None,
            name=name,
            **kwargs,  # type: ignore[arg-type]
        )

    def basket_levels(self, name: str, weighting: str | None = None) -> pd.Series:
        return self.basket(name, weighting).level

    def basket_returns(self, name: str, weighting: str | None = None) -> pd.Series:
        return self.basket(name, weighting).returns

    def basket_caps(self, name: str) -> pd.Series:
        """Sum of member market caps (NaN where no member has a cap)."""
        members, _ = self._basket_members(name)
        return self.market_caps[members].sum(axis=1, min_count=1).rename(name)


# ---------------------------------------------------------------------------- helpers
def _source_rank(long: pd.DataFrame, universe: Universe | None) -> pd.Series:
    """Preference rank of each (symbol, source): universe order first, then alphabetical."""
    pairs = long[["symbol", "source"]].drop_duplicates()
    preferred: dict[str, list[str]] = {}
    if universe is not None:
        for inst in universe.instruments.values():
            preferred[inst.symbol] = list(inst.sources)

    def key(row: tuple[str, str]) -> tuple[int, str]:
        sym, src = row
        order = preferred.get(sym, [])
        return (order.index(src), "") if src in order else (len(order), src)

    ranked = sorted(map(tuple, pairs.to_numpy()), key=lambda r: (r[0], key(r)))
    ranks: dict[tuple[str, str], int] = {}
    counter: dict[str, int] = {}
    for sym, src in ranked:
        ranks[(sym, src)] = counter.get(sym, 0)
        counter[sym] = counter.get(sym, 0) + 1
    return pd.Series(ranks)


def _combine(
    long: pd.DataFrame, value: str, rank: pd.Series, symbols: list[str], scale: bool, quality: list[dict]
) -> pd.DataFrame:
    """Wide (dates x symbols) frame of ``value`` combined across sources by rank."""
    sub = long[["symbol", "source", "date", value]].dropna(subset=[value])
    if sub.empty:
        return pd.DataFrame(columns=symbols, dtype="float64")
    r = rank.reindex(pd.MultiIndex.from_frame(sub[["symbol", "source"]])).to_numpy()
    sub = sub.assign(rank=r)
    wide = sub.pivot_table(index="date", columns=["rank", "symbol"], values=value, aggfunc="last")
    ranks = sorted(wide.columns.get_level_values(0).unique())
    combined = wide[ranks[0]].reindex(columns=symbols)
    for k in ranks[1:]:
        lower = wide[k].reindex(index=combined.index.union(wide.index), columns=symbols)
        combined = combined.reindex(lower.index)
        need = combined.isna() & lower.notna()
        if not need.to_numpy().any():
            continue
        if scale:
            ratio = (combined / lower).where(combined.notna() & lower.notna())
            ratio = ratio.ffill().bfill().fillna(1.0)
            fill = lower * ratio
        else:
            fill = lower
        combined = combined.where(~need, fill)
        counts = need.sum()
        for sym, n in counts[counts > 0].items():
            quality.append(
                {"symbol": sym, "action": f"spliced_{value}", "count": int(n),
                 "detail": f"{int(n)} dates of {value} filled from a lower-ranked source (rank {k})"}
            )
    return combined.sort_index()


def _ffill_counted(frame: pd.DataFrame, limit: int, label: str, quality: list[dict]) -> pd.DataFrame:
    filled = frame.ffill(limit=limit) if limit > 0 else frame
    added = (filled.notna() & frame.isna()).sum()
    for sym, n in added[added > 0].items():
        quality.append({"symbol": sym, "action": label, "count": int(n), "detail": f"{int(n)} cells forward-filled"})
    return filled


def _align_daily(
    wide: pd.DataFrame,
    target: pd.DatetimeIndex,
    daily_cols: list[str],
    session_cols: list[str],
    calendar: str,
    shift_crypto: bool,
    max_gap: int,
    label: str,
    quality: list[dict] | None,
    how: str = "last",
) -> pd.DataFrame:
    """Put a wide calendar-date frame on ``target`` rows following the alignment policy.

    ``how="last"`` samples levels; ``how="sum"`` accumulates flows (dollar volume)
    of 24/7 instruments into the next row.
    """
    q: list[dict] = quality if quality is not None else []
    out = pd.DataFrame(index=target, columns=wide.columns, dtype="float64")
    if wide.empty:
        return out
    days = pd.date_range(min(wide.index.min(), target.min()), max(wide.index.max(), target.max()), freq="D")
    if daily_cols:
        crypto = wide[daily_cols].reindex(days)
        if shift_crypto:  # the close of UTC day D is known at 00:00 UTC of D+1
            crypto = crypto.shift(1, freq="D").reindex(days)
        if how == "sum":
            pos = target.searchsorted(crypto.index, side="left")
            keep = pos < len(target)
            sums = crypto[keep].groupby(pos[keep]).sum(min_count=1)
            sums.index = target[sums.index]
            out[daily_cols] = sums.reindex(target)
        else:
            crypto = _ffill_counted(crypto, max_gap, f"filled_{label}", q) if max_gap else crypto
            out[daily_cols] = crypto.reindex(target)
    if session_cols:
        sess = wide[session_cols]
        if calendar == "sessions":
            sess = sess.reindex(target)
            out[session_cols] = _ffill_counted(sess, max_gap, f"filled_{label}", q) if (max_gap and how == "last") else sess
        else:
            # all_days: hold exchange-traded values over weekends/holidays (not counted as gaps)
            sess = sess.reindex(days)
            out[session_cols] = (sess.ffill(limit=max_gap + 3) if how == "last" else sess).reindex(target)
    return out


def _to_weekly(frame: pd.DataFrame, complete_until: pd.Timestamp, how: str) -> pd.DataFrame:
    labels = weekly_labels(pd.DatetimeIndex(frame.index))
    if how == "sum":
        out = frame.groupby(labels).sum(min_count=1)
    else:
        out = frame.groupby(labels).tail(1)
        out.index = weekly_labels(pd.DatetimeIndex(out.index))
    out.index.name = "date"
    return out[out.index <= complete_until]


def _carry_caps(caps: pd.DataFrame, px: pd.DataFrame, backcast: bool, quality: list[dict]) -> pd.DataFrame:
    observed = caps.notna()
    price_at_cap = px.where(observed)
    forward = caps.ffill() * px / price_at_cap.ffill()
    out = caps.where(observed, forward)
    n = (out.notna() & ~observed).sum()
    for sym, k in n[n > 0].items():
        quality.append({"symbol": sym, "action": "cap_carried", "count": int(k),
                        "detail": f"{int(k)} caps carried forward at constant supply/shares"})
    if backcast:
        backward = caps.bfill() * px / price_at_cap.bfill()
        before = out.isna() & backward.notna()
        out = out.where(~before, backward)
        nb = before.sum()
        for sym, k in nb[nb > 0].items():
            quality.append({"symbol": sym, "action": "cap_backcast", "count": int(k),
                            "detail": f"{int(k)} caps back-cast from a later observation at constant shares "
                                      "(approximation; ignores buybacks and issuance)"})
    return out


# ------------------------------------------------------------------------------ build
def build_panel(
    store: Store,
    universe: Universe | None = None,
    *,
    symbols: Sequence[str] | None = None,
    baskets: Sequence[str] | None = None,
    start: DateLike | None = None,
    end: DateLike | None = None,
    frequency: str = "D",
    calendar: str = "sessions",
    crypto_close: str = "prior",
    max_gap: int = 5,
    cap_method: str = "carry",
) -> Panel:
    """Build aligned wide frames from the store.

    Parameters
    ----------
    store : Store
    universe : Universe, optional
        Default: :func:`rotation.load_universe` (env or shipped default).
    symbols : sequence of str, optional
        Instruments to include. Symbols outside the universe (e.g. imported
        S&P 500 members) are allowed; their asset class comes from the store.
    baskets : sequence of str, optional
        Include the members of these baskets (added to ``symbols``). With
        neither, every universe instrument that has data.
    start, end : date-like, optional
        Row range; default: the stored data's range for the chosen symbols.
    frequency : {"D", "W"}
    calendar : {"sessions", "all_days"}
    crypto_close : {"prior", "same_day"}
        Which UTC close a 24/7 instrument contributes to a session row (see module docs).
    max_gap : int
        Longest run of missing rows forward-filled (0 disables filling).
    cap_method : {"observed", "carry", "backcast"}

    Returns
    -------
    Panel

    Raises
    ------
    EmptyStoreError
        Nothing stored for the requested symbols (the message says how to get data in).
    ParameterError, UniverseError
        Bad options, unknown basket.
    """
    if frequency not in {"D", "W"}:
        raise ParameterError("frequency", f"must be 'D' or 'W', got {frequency!r}")
    if calendar not in CALENDARS:
        raise ParameterError("calendar", f"must be one of {CALENDARS}, got {calendar!r}")
    if crypto_close not in {"prior", "same_day"}:
        raise ParameterError("crypto_close", f"must be 'prior' or 'same_day', got {crypto_close!r}")
    if cap_method not in CAP_METHODS:
        raise ParameterError("cap_method", f"must be one of {CAP_METHODS}, got {cap_method!r}")
    if not isinstance(max_gap, int) or max_gap < 0 or max_gap > 60:
        raise ParameterError("max_gap", "must be an integer from 0 to 60")
    if start is not None and end is not None and pd.Timestamp(end) < pd.Timestamp(start):
        raise ParameterError("end", f"end {end} is before start {start}")
    universe = universe if universe is not None else load_universe()

    wanted: list[str] = list(symbols or [])
    for b in baskets or []:
        wanted += [m for m in universe.basket(b).members if m not in wanted]
    explicit = bool(wanted)
    if not explicit:
        wanted = list(universe.instruments)

    # Read a little before ``start`` so the first row can be forward-filled and returned.
    read_start = pd.Timestamp(start) - pd.Timedelta(days=max(10, 2 * max_gap + 7)) if start else None
    long = store.read_observations(
        wanted, start=read_start, end=end, fields=("close", "adj_close", "volume", "volume_usd", "market_cap", "supply")
    )
    if long.empty:
        raise EmptyStoreError(EMPTY_STORE_HELP.format(path=store.path, what="observations for these instruments"))
    present = [s for s in wanted if s in set(long["symbol"])]
    absent = [s for s in wanted if s not in present]

    classes = _asset_classes(store, universe, present)
    daily_cols = [s for s in present if classes[s] in DAILY_CLASSES]
    session_cols = [s for s in present if s not in daily_cols]

    quality: list[dict] = []
    if explicit and absent:
        quality += [{"symbol": s, "action": "no_data", "count": 0, "detail": "nothing stored"} for s in absent]

    long = long.assign(price=long["adj_close"].fillna(long["close"]))
    bad = long["price"] <= 0
    if bad.any():
        for sym, n in long.loc[bad, "symbol"].value_counts().items():
            quality.append({"symbol": sym, "action": "dropped_nonpositive", "count": int(n),
                            "detail": f"{int(n)} non-positive prices dropped"})
        long.loc[bad, ["price", "close", "adj_close"]] = np.nan
    long["dollar_volume"] = long["volume_usd"].fillna(long["volume"] * long["close"].fillna(long["price"]))

    rank = _source_rank(long, universe)
    primary = long[["symbol", "source"]].drop_duplicates()
    primary = primary.assign(rank=rank.reindex(pd.MultiIndex.from_frame(primary)).to_numpy())
    sources = primary.sort_values("rank").groupby("symbol")["source"].first().reindex(present)

    wide = {
        "prices": _combine(long, "price", rank, present, True, quality),
        "close": _combine(long, "close", rank, present, True, []),
        "market_caps": _combine(long, "market_cap", rank, present, False, []),
        "supply": _combine(long, "supply", rank, present, False, []),
        "volume_usd": _combine(long, "dollar_volume", rank, present, False, []),
    }
    data_first = min(f.index.min() for f in wide.values() if not f.empty)
    data_last = max(f.index.max() for f in wide.values() if not f.empty)
    row_start = pd.Timestamp(start) if start else data_first
    row_end = pd.Timestamp(end) if end else data_last
    target = calendar_index(calendar, row_start, row_end)
    if len(target) == 0:
        raise EmptyStoreError(f"no {calendar} rows between {row_start.date()} and {row_end.date()}")
    shift = crypto_close == "prior" and calendar == "sessions"
    aligned = {}
    for key, frame in wide.items():
        how = "sum" if key == "volume_usd" else "last"
        q = quality if key == "prices" else None
        aligned[key] = _align_daily(
            frame.reindex(columns=present), target, daily_cols, session_cols, calendar, shift, max_gap, key, q, how
        )
    if cap_method != "observed":
        px = aligned["close"].fillna(aligned["prices"])
        aligned["market_caps"] = _carry_caps(aligned["market_caps"], px, cap_method == "backcast", quality)

    if frequency == "W":
        complete_until = _last_complete_week(calendar, target, row_end)
        aligned = {
            k: _to_weekly(v, complete_until, "sum" if k == "volume_usd" else "last") for k, v in aligned.items()
        }
    for frame in aligned.values():
        frame.index.name = "date"
        frame.columns.name = None
    quality_frame = pd.DataFrame(quality, columns=["symbol", "action", "count", "detail"])
    return Panel(
        **aligned,
        asset_classes=pd.Series(classes).reindex(present),
        frequency=frequency,
        calendar=calendar,
        crypto_close=crypto_close,
        cap_method=cap_method,
        quality=quality_frame,
        universe=universe,
        sources=sources,
    )


def _last_complete_week(calendar: str, target: pd.DatetimeIndex, row_end: pd.Timestamp) -> pd.Timestamp:
    """Friday label of the last week whose every calendar row is within the data range."""
    friday = weekly_labels(pd.DatetimeIndex([row_end]))[0]
    week_rows = calendar_index(calendar, friday - pd.Timedelta(days=6), friday)
    if len(week_rows) and row_end >= week_rows.max():
        return friday
    return friday - pd.Timedelta(days=7)


def _asset_classes(store: Store, universe: Universe, symbols: list[str]) -> dict[str, str]:
    out = {s: universe.instruments[s].asset_class for s in symbols if s in universe.instruments}
    rest = [s for s in symbols if s not in out]
    if rest:
        meta = store.instruments().set_index("symbol")
        for s in rest:
            cls = meta["asset_class"].get(s) if "asset_class" in meta else None
            out[s] = cls if isinstance(cls, str) and cls else "equity"
    return out


# ------------------------------------------------------------------------------ macro
def macro_panel(
    store: Store,
    universe: Universe | None = None,
    *,
    symbols: Sequence[str] | None = None,
    index: pd.DatetimeIndex | None = None,
    scaled: bool = True,
) -> pd.DataFrame:
    """Macro series as they were known on each row of ``index`` (no look-ahead).

    A value observed on date *d* becomes usable on ``d + release_lag_days``
    (the universe's lag; for series outside the universe a default by
    frequency: D 1, W 7, M 35, Q 90 days) and is carried forward until the next
    release, but never longer than a staleness limit (D 7, W 14, M 62, Q 190
    days) so that a discontinued series turns NaN instead of going flat.

    Parameters
    ----------
    store : Store
    universe : Universe, optional
    symbols : sequence of str, optional
        Default: the universe's macro series that are stored.
    index : DatetimeIndex, optional
        Rows to align on (e.g. ``panel.index``); default: every calendar day
        of the stored range.
    scaled : bool
        Multiply by the series' ``scale`` (native units -> base units, e.g.
        millions of USD -> USD).

    Returns
    -------
    DataFrame (T, M)
    """
    universe = universe if universe is not None else load_universe()
    wanted = list(symbols) if symbols is not None else list(universe.macro)
    long = store.read_macro(wanted)
    if long.empty:
        raise EmptyStoreError(EMPTY_STORE_HELP.format(path=store.path, what="macro series"))
    rank = _source_rank(long, universe_macro_as_instruments(universe))
    present = [s for s in wanted if s in set(long["symbol"])]
    wide = _combine(long, "value", rank, present, False, [])
    columns = {}
    for sym in present:
        series = wide[sym].dropna()
        spec = universe.macro.get(sym)
        freq = spec.frequency if spec else _infer_frequency(series.index)
        lag = spec.release_lag_days if spec else _FREQ_DEFAULT_LAG[freq]
        series.index = series.index + pd.Timedelta(days=lag)
        if scaled and spec is not None:
            series = series * spec.scale
        columns[sym] = (series, _FREQ_STALE_DAYS[freq])
    if index is None:
        lo = min(s.index.min() for s, _ in columns.values())
        hi = max(s.index.max() for s, _ in columns.values())
        index = pd.DatetimeIndex(pd.date_range(lo, hi, freq="D"), name="date")
    out = pd.DataFrame(index=index, dtype="float64")
    for sym, (series, stale) in columns.items():
        series = series[~series.index.duplicated(keep="last")]
        known_at = pd.Series(series.index, index=series.index)
        pos = series.index.searchsorted(index, side="right") - 1
        valid = pos >= 0
        values = np.full(len(index), np.nan)
        values[valid] = series.to_numpy()[pos[valid]]
        age = np.full(len(index), np.inf)
        age[valid] = (index[valid] - known_at.to_numpy()[pos[valid]]).days
        values[age > stale] = np.nan
        out[sym] = values
    out.index.name = "date"
    return out


def universe_macro_as_instruments(universe: Universe) -> Universe:
    """A view of the universe whose instruments are its macro series (for source ranking)."""
    from rotation.universe._model import Instrument

    inst = {m.symbol: Instrument(m.symbol, "index", sources=m.sources) for m in universe.macro.values()}
    return Universe(instruments=inst, baskets={}, macro={})


def _infer_frequency(index: pd.DatetimeIndex) -> str:
    if len(index) < 3:
        return "M"
    median_days = float(np.median(np.diff(index.asi8)) / 86_400e9)
    if median_days <= 3:
        return "D"
    if median_days <= 10:
        return "W"
    if median_days <= 45:
        return "M"
    return "Q"
