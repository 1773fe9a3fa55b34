"""Aligned wide panels built from the store.

Alignment policy (the default is ``calendar="sessions"``, ``crypto_close="prior"``)
----------------------------------------------------------------------------------
* Rows are NYSE sessions. Equities, ETFs and indexes are taken on their
  session; a stored row dated on a non-session day (weekend, holiday) is
  dropped and counted in :attr:`Panel.quality`. Crypto and stablecoins (24/7,
  rows dated by the UTC day whose 24:00 close they report) are sampled at the
  **last UTC close before the US close**: on session *D* that is the close of
  UTC day *D-1* (00:00 UTC of *D*, before 16:00 New York). So a cross-asset
  row never contains a price that was not known at the US close.
  ``crypto_close="same_day"`` uses the close of *D* instead (3-4 hours after
  the US close: a small look-ahead, documented and opt-in, useful for daily
  correlation work). Weekend crypto moves roll into Monday's return; weekend
  crypto dollar volume is summed into the next session (Monday's row holds
  the UTC days Friday, Saturday and Sunday).
* ``calendar="all_days"``: every calendar day; crypto as is (no shift), each
  exchange-traded series shows its latest session's value on weekends and
  holidays (a hold, not a gap: not counted; ``max_gap`` counts sessions, and
  off-calendar exchange-traded rows are dropped as on ``sessions``).
* Weekly (``frequency="W"``): the last row of each W-FRI week (Saturday to
  Friday), labelled by its Friday; dollar volume is summed over the week.
  Only complete weeks are emitted at the end (the calendar says which rows a
  week has), so a partial last week never appears and later data never
  rewrites a weekly row. With ``start``, the weeks whose Friday is on or
  after ``start`` are returned (the first may contain rows before ``start``).
* ``start``/``end`` only choose the rows returned: the whole stored history up
  to ``end`` is read, so a windowed panel equals the same rows of the full
  panel (fills, carried caps and splice ratios can use data before ``start``).

Data-quality policy applied here
--------------------------------
* Several sources for one symbol are combined by preference (the universe's
  ``sources`` order, then other stored sources alphabetically). Prices from a
  lower-ranked source fill dates the better one lacks, scaled by the ratio of
  the two on the most recent common date (adjustment bases differ between
  vendors), or on the first common date when the fill precedes any overlap
  (the one place where later data can change an earlier value). Without any
  common date the fill is unscaled. Every splice is counted.
* Non-positive ``close`` or ``adj_close`` values are dropped (NaN) and counted.
* Missing rows are forward-filled with the last known price for at most
  ``max_gap`` rows (sessions for exchange-traded series, calendar days for
  crypto). A gap of up to ``max_gap`` rows is therefore bridged (its move is
  picked up on the next observed row); in a longer gap the rows after the
  first ``max_gap`` stay NaN, so the return at its end is NaN and no move is
  invented across a long hole. (Leaving a long gap NaN from its first row
  would need to know, on that row, how long the gap will last: look-ahead.)
  Every filled cell is counted.
* Before an instrument's first observation its cells are NaN (late listings
  are never back-filled).

Market caps (``cap_method``)
----------------------------
``observed``: stored caps only (sampled like prices, never forward-filled).
``carry`` (default): after an observed cap, extend it at constant supply or
share count: ``cap_t = (cap_a / price_a) * price_t`` with *a* the latest date
that has both a cap and a price - causal. The price is the panel's
(adjusted) price, which is continuous across splits and source splices; for
dividend payers carried caps therefore grow by total rather than price return
(a small upward drift, about the dividend yield).
``backcast``: ``carry`` plus, before the first observed cap, the same
constant-share extension backwards from the first anchor; this uses a later
snapshot, so the result is an approximation (ignores buybacks, issuance and,
through the adjusted price, understates past caps by the dividends paid
since) flagged in :attr:`Panel.quality` (what R5/R7 need when only a
market-cap snapshot exists).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from numbers import Integral

import numpy as np
import pandas as pd

from rotation._typing import DateLike
from rotation.errors import DataError, EmptyStoreError, ParameterError, UniverseError
from rotation.panel._basket import BasketIndex, basket_index
from rotation.panel._calendar import CALENDARS, calendar_index, sessions, weekly_labels
from rotation.store import Store
from rotation.universe import Universe, load_universe
from rotation.universe._model import DAILY_CLASSES

__all__ = ["CAP_METHODS", "Panel", "build_panel", "macro_panel"]

CAP_METHODS = ("observed", "carry", "backcast")
_FREQ_STALE_DAYS = {"D": 7, "W": 14, "M": 62, "Q": 190}
_FREQ_DEFAULT_LAG = {"D": 1, "W": 7, "M": 35, "Q": 90}
_FIELDS = ("close", "adj_close", "volume", "volume_usd", "market_cap", "supply")

EMPTY_STORE_HELP = (
    "The store at {path} has no {what}. Get data in first:\n"
    "  online:  rotation fetch                      (downloads the universe's history)\n"
    "  offline: rotation import FILE [mapping options] (bring CSV/Parquet; see `rotation import --help`)"
)


@dataclass(frozen=True)
class Panel:
    """Aligned wide frames for a set of instruments.

    All frames share one ascending ``DatetimeIndex`` named ``date`` and the
    same symbol columns. Shapes are (T, N). NaN means "no value": before an
    instrument's first observation, after a gap longer than ``max_gap`` rows,
    or a field the store does not hold.

    Attributes
    ----------
    prices : DataFrame (T, N)
        Adjusted close (total-return basis) where available, else close, in
        the instrument's currency; spliced across sources into one continuous
        series.
    close : DataFrame (T, N)
        Close as stored (NaN where only adjusted closes are stored).
    market_caps : DataFrame (T, N)
        Market capitalisation in currency units (see ``cap_method``).
    supply : DataFrame (T, N)
        Supply in native units (coins; USD for stablecoins).
    volume_usd : DataFrame (T, N)
        Dollar volume per row: stored quote volume, else volume x close;
        summed over the UTC days a row covers (crypto) or over the week.
    asset_classes : Series (N,)
        Symbol -> asset class.
    frequency, calendar, crypto_close, cap_method : str
        The options the panel was built with.
    quality : DataFrame
        ``symbol, action, count, detail``: every fill, drop and splice made
        (actions ``filled_prices``, ``dropped_nonpositive``,
        ``dropped_off_calendar``, ``spliced_price``, ``spliced_unscaled``,
        ``cap_carried``, ``cap_backcast``, ``no_data``).
    universe : Universe or None
    sources : Series (N,)
        Symbol -> preferred (primary) source among those stored.
    last_observed : Series (N,)
        Symbol -> last row date whose price was observed rather than
        forward-filled (NaT if none). Comparisons across instruments whose
        data end on different dates should stop at a common date (see
        :func:`rotation.analytics.performance.common_window`), since filled
        rows carry zero returns.
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
    last_observed: pd.Series = field(default_factory=lambda: pd.Series(dtype="datetime64[ns]"))

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
        """Log returns (T, N), NaN like :attr:`returns`."""
        return np.log(self.prices / self.prices.shift(1))

    def periods_per_year(self) -> pd.Series:
        """Annualisation per symbol: 252 sessions (365 on ``all_days`` for crypto), 52 weekly."""
        if self.frequency == "W":
            return pd.Series(52.0, index=self.prices.columns)
        if self.calendar == "sessions":
            return pd.Series(252.0, index=self.prices.columns)
        return self.asset_classes.map(lambda c: 365.0 if c in DAILY_CLASSES else 252.0).astype(float)

    def _replace(self, **changes: object) -> Panel:
        fields = {
            "prices": self.prices, "close": self.close, "market_caps": self.market_caps, "supply": self.supply,
            "volume_usd": self.volume_usd, "asset_classes": self.asset_classes, "frequency": self.frequency,
            "calendar": self.calendar, "crypto_close": self.crypto_close, "cap_method": self.cap_method,
            "quality": self.quality, "universe": self.universe, "sources": self.sources,
            "last_observed": self.last_observed,
        }
        fields.update(changes)
        return Panel(**fields)  # type: ignore[arg-type]

    def select(self, symbols: Sequence[str] | str) -> Panel:
        """A panel restricted to ``symbols`` (in that order).

        Raises
        ------
        ParameterError
            A symbol is not a column of this panel (all such symbols are named).
        """
        cols = [symbols] if isinstance(symbols, str) else list(symbols)
        missing = [s for s in cols if s not in self.prices.columns]
        if missing:
            raise ParameterError("symbols", f"not in the panel: {', '.join(missing)}")
        return self._replace(
            prices=self.prices[cols],
            close=self.close[cols],
            market_caps=self.market_caps[cols],
            supply=self.supply[cols],
            volume_usd=self.volume_usd[cols],
            asset_classes=self.asset_classes[cols],
            quality=self.quality[self.quality["symbol"].isin(cols)].reset_index(drop=True),
            sources=self.sources.reindex(cols),
            last_observed=self.last_observed.reindex(cols),
        )

    def window(self, start: DateLike | None = None, end: DateLike | None = None) -> Panel:
        """Rows in ``[start, end]`` (inclusive; either may be omitted)."""
        lo, hi = _as_date("start", start), _as_date("end", end)
        if lo is not None and hi is not None and hi < lo:
            raise ParameterError("end", f"end {hi.date()} is before start {lo.date()}")
        sl = slice(lo, hi)
        return self._replace(
            prices=self.prices.loc[sl],
            close=self.close.loc[sl],
            market_caps=self.market_caps.loc[sl],
            supply=self.supply.loc[sl],
            volume_usd=self.volume_usd.loc[sl],
            # within the window an instrument observed after ``end`` was last seen at ``end`` at the latest
            last_observed=self.last_observed.where(self.last_observed <= hi, hi) if hi is not None
            else self.last_observed,
        )

    # -- baskets ------------------------------------------------------------------------
    def _basket_members(self, name: str) -> tuple[list[str], str]:
        if self.universe is None:
            raise UniverseError("this panel has no universe: pass members to basket_index() directly")
        basket = self.universe.basket(name)
        return [m for m in basket.members if m in self.prices.columns], basket.weighting

    def basket(self, name: str, weighting: str | None = None, **kwargs: object) -> BasketIndex:
        """The :class:`BasketIndex` of universe basket ``name`` (see :func:`basket_index`).

        Members without a column in this panel are left out. ``weighting``
        defaults to the basket's configured weighting; ``kwargs`` go to
        :func:`basket_index` (``rebalance``, ``base``, ``min_members``).
        """
        members, default_weighting = self._basket_members(name)
        w = weighting or default_weighting
        if not members:
            raise DataError(f"basket {name}: none of its members is in the panel")
        return basket_index(
            self.prices,
            members,
            weighting=w,
            caps=self.market_caps if w == "cap" else None,
            name=name,
            **kwargs,  # type: ignore[arg-type]
        )

    def basket_levels(self, name: str, weighting: str | None = None) -> pd.Series:
        """Basket index level (base 100), see :meth:`basket`."""
        return self.basket(name, weighting).level

    def basket_returns(self, name: str, weighting: str | None = None) -> pd.Series:
        """Simple basket returns, see :meth:`basket`."""
        return self.basket(name, weighting).returns

    def observed_only(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` (rows of this panel) with each column blanked after its last observed price.

        Rows after a feed stops hold forward-filled prices (and caps carried on
        them): they are not news, so rolling and cross-sectional measures should
        not read them as a flat move. Columns this panel does not know become NaN.
        """
        last = self.last_observed.reindex(frame.columns)
        keep = frame.index.to_numpy()[:, None] <= last.to_numpy(dtype="datetime64[ns]")[None, :]
        return frame.where(keep)

    def with_observed_caps(self) -> Panel:
        """This panel with market caps blanked after each member's last observed price."""
        return self._replace(market_caps=self.observed_only(self.market_caps))

    def basket_caps(self, name: str) -> pd.Series:
        """Sum of member market caps (NaN where no member has a cap)."""
        members, _ = self._basket_members(name)
        return self.market_caps[members].sum(axis=1, min_count=1).rename(name)


# ---------------------------------------------------------------------------- helpers
def _as_date(name: str, value: DateLike | None) -> pd.Timestamp | None:
    """A tz-naive midnight Timestamp, or a ParameterError naming ``name``."""
    if value is None:
        return None
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise ParameterError(name, f"not a date: {value!r}") from None
    if ts is pd.NaT or pd.isna(ts):
        raise ParameterError(name, f"not a date: {value!r}")
    if ts.tz is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts.normalize()


def _note(quality: list[dict], symbol: str, action: str, count: int, detail: str) -> None:
    """Record one data-quality action (a row of :attr:`Panel.quality`)."""
    quality.append({"symbol": symbol, "action": action, "count": int(count), "detail": detail})


def _as_list(name: str, value: Sequence[str] | str | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    out = list(value)
    bad = [v for v in out if not isinstance(v, str)]
    if bad:
        raise ParameterError(name, f"expected symbol strings, got {bad[:3]!r}")
    return out


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
    return pd.Series(ranks, dtype="int64")


@dataclass(frozen=True)
class _Codes:
    """Integer positions of a long frame's rows: date, symbol (-1: not wanted) and source rank."""

    dates: pd.DatetimeIndex
    d: np.ndarray
    s: np.ndarray
    r: np.ndarray


def _codes(long: pd.DataFrame, rank: pd.Series, symbols: list[str]) -> _Codes:
    d, dates = pd.factorize(long["date"], sort=True)
    s = pd.Categorical(long["symbol"], categories=symbols).codes.astype(np.int64)
    r = rank.reindex(pd.MultiIndex.from_arrays([long["symbol"], long["source"]])).to_numpy()
    return _Codes(pd.DatetimeIndex(dates, name="date"), d, s, r)


def _combine(
    long: pd.DataFrame,
    value: str,
    rank: pd.Series,
    symbols: list[str],
    scale: bool,
    quality: list[dict],
    codes: _Codes | None = None,
) -> pd.DataFrame:
    """Wide (calendar dates x symbols) frame of ``value`` combined across sources by rank.

    The best-ranked source's value is used where it exists; each lower-ranked
    source fills the dates still missing. With ``scale``, its values are
    multiplied by the ratio better/lower on the most recent common date
    before each filled date (the first common date for fills before any
    overlap; 1, flagged, without any common date). Only dates with at least
    one value are returned.
    """
    codes = codes if codes is not None else _codes(long, rank, symbols)
    v = long[value].to_numpy(dtype="float64")
    ok = ~np.isnan(v) & (codes.s >= 0)
    shape = (len(codes.dates), len(symbols))
    combined: np.ndarray | None = None
    for k in np.unique(codes.r[ok]):
        m = ok & (codes.r == k)
        layer = np.full(shape, np.nan)
        # (symbol, source, date) is the store key: no two rows land on one cell.
        layer[codes.d[m], codes.s[m]] = v[m]
        if combined is None:
            combined = layer
            continue
        need = np.isnan(combined) & ~np.isnan(layer)
        if not need.any():
            continue
        if scale:
            both = ~np.isnan(combined) & ~np.isnan(layer)
            with np.errstate(invalid="ignore", divide="ignore"):
                ratio = np.where(both, combined / layer, np.nan)
            ratio = pd.DataFrame(ratio).ffill().bfill().to_numpy()
            fill = layer * np.where(np.isnan(ratio), 1.0, ratio)
            for j in np.flatnonzero(~both.any(axis=0) & need.any(axis=0)):
                _note(quality, symbols[j], f"spliced_unscaled_{value}", need[:, j].sum(),
                      f"the rank-{k} source has no date in common with the better one: used unscaled")
        else:
            fill = layer
        combined = np.where(need, fill, combined)
        how = ", scaled by the ratio on the nearest common date" if scale else ""
        for j in np.flatnonzero(need.any(axis=0)):
            n = int(need[:, j].sum())
            _note(quality, symbols[j], f"spliced_{value}", n,
                  f"{n} dates of {value} from a lower-ranked source (rank {k}){how}")
    if combined is None:
        return pd.DataFrame(columns=symbols, index=pd.DatetimeIndex([], name="date"), dtype="float64")
    has = ~np.isnan(combined).all(axis=1)
    return pd.DataFrame(combined[has], index=codes.dates[has], columns=symbols)


def _align_daily(
    wide: pd.DataFrame,
    rows: pd.DatetimeIndex,
    daily_cols: list[str],
    session_cols: list[str],
    calendar: str,
    shift_crypto: bool,
    max_gap: int,
    how: str = "last",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Put a wide calendar-date frame on ``rows`` following the alignment policy.

    ``how="last"`` samples levels (with the causal ``max_gap`` fill);
    ``how="sum"`` accumulates flows (dollar volume) of 24/7 instruments over
    the UTC days since the previous row.

    Returns
    -------
    aligned : DataFrame (len(rows), N)
    filled : DataFrame of bool, same shape
        Cells that hold a forward-filled value.
    """
    cols = list(wide.columns)
    where = {c: i for i, c in enumerate(cols)}
    out = np.full((len(rows), len(cols)), np.nan)
    filled = np.zeros((len(rows), len(cols)), dtype=bool)
    if not wide.empty and len(rows):
        days = pd.date_range(min(wide.index.min(), rows[0]), max(wide.index.max(), rows[-1]), freq="D")
        if daily_cols:
            at = [where[c] for c in daily_cols]
            crypto = wide[daily_cols].reindex(days)
            if shift_crypto:  # the close of UTC day D is known at 00:00 UTC of D+1 (`days` is contiguous)
                crypto = crypto.shift(1)
            if how == "sum":
                # Each UTC day goes to the first row on or after it; `rows` starts at the first
                # data date, so nothing from before the first row's predecessor is summed into it.
                pos = rows.searchsorted(crypto.index, side="left")
                keep = pos < len(rows)
                sums = crypto[keep].groupby(pos[keep]).sum(min_count=1)
                block = np.full((len(rows), len(daily_cols)), np.nan)
                block[sums.index.to_numpy()] = sums.to_numpy()
                out[:, at] = block
            else:
                f = crypto.ffill(limit=max_gap) if max_gap else crypto
                on_rows = f.reindex(rows).to_numpy()
                out[:, at] = on_rows
                filled[:, at] = ~np.isnan(on_rows) & np.isnan(crypto.reindex(rows).to_numpy())
        if session_cols:
            at = [where[c] for c in session_cols]
            sess_rows = rows if calendar == "sessions" else sessions(rows[0], rows[-1])
            sess = wide[session_cols].reindex(sess_rows)
            if how == "last" and max_gap:
                f = sess.ffill(limit=max_gap)
                fmask = f.notna().to_numpy() & sess.isna().to_numpy()
            else:
                f, fmask = sess, np.zeros(sess.shape, dtype=bool)
            if calendar == "sessions":
                out[:, at] = f.to_numpy()
                filled[:, at] = fmask
            elif len(sess_rows):
                # all_days: a weekend/holiday shows the latest session's value (a hold, not a gap).
                held = f.reindex(rows, method="ffill") if how == "last" else f.reindex(rows)
                out[:, at] = held.to_numpy()
                filled[:, at] = pd.DataFrame(fmask, index=sess_rows).reindex(rows, fill_value=False).to_numpy()
    return pd.DataFrame(out, index=rows, columns=cols), pd.DataFrame(filled, index=rows, columns=cols)


def _off_calendar(wide: pd.DataFrame, session_cols: list[str]) -> pd.Series:
    """Per session symbol, stored values dated on a day that is not a session."""
    if wide.empty or not session_cols:
        return pd.Series(0, index=session_cols, dtype="int64")
    sess = sessions(wide.index.min(), wide.index.max())
    off = ~wide.index.isin(sess)
    return wide.loc[off, session_cols].notna().sum()


def _to_weekly(frame: pd.DataFrame, how: str) -> pd.DataFrame:
    labels = weekly_labels(pd.DatetimeIndex(frame.index))
    if how == "sum":
        out = frame.groupby(labels).sum(min_count=1)
    else:
        out = frame.groupby(labels).tail(1)
        out.index = weekly_labels(pd.DatetimeIndex(out.index))
    out.index.name = "date"
    return out


def _carry_caps(
    caps: pd.DataFrame, px: pd.DataFrame, backcast: bool
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Extend caps at constant units (shares or coins) implied on dates with both cap and price.

    Returns the caps and two boolean masks of the same shape: cells carried
    forward and cells back-cast.
    """
    c, p = caps.to_numpy(dtype="float64"), px.to_numpy(dtype="float64")
    observed = ~np.isnan(c)
    with np.errstate(invalid="ignore", divide="ignore"):
        # shares or coins implied at each anchor (a date with both a cap and a price)
        units = np.where(observed & ~np.isnan(p), c / p, np.nan)
    frame = pd.DataFrame(units)
    out = np.where(observed, c, frame.ffill().to_numpy() * p)
    carried = ~np.isnan(out) & ~observed
    back = np.zeros_like(carried)
    if backcast:
        backward = frame.bfill().to_numpy() * p
        back = np.isnan(out) & ~np.isnan(backward)
        out = np.where(back, backward, out)

    def wrap(a: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(a, index=caps.index, columns=caps.columns)

    return wrap(out), wrap(carried), wrap(back)


def _last_complete_week(calendar: str, row_end: pd.Timestamp) -> pd.Timestamp:
    """Friday label of the last week whose every calendar row is on or before ``row_end``."""
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
    symbols : sequence of str (or one str), optional
        Instruments to include. Symbols outside the universe (e.g. imported
        S&P 500 members) are allowed; their asset class comes from the store
        (``equity`` when the store does not know it).
    baskets : sequence of str, optional
        Include the members of these baskets (added to ``symbols``). With
        neither, every universe instrument that has data.
    start, end : date-like, optional
        Rows returned (inclusive). Default: the stored data's range for the
        chosen symbols. The history before ``start`` is still read (fills,
        carried caps, splices), so a windowed panel equals the same rows of
        the full panel.
    frequency : {"D", "W"}
    calendar : {"sessions", "all_days"}
    crypto_close : {"prior", "same_day"}
        Which UTC close a 24/7 instrument contributes to a session row (see module docs).
    max_gap : int
        Most rows a missing value is forward-filled for (0 disables filling), 0-60.
    cap_method : {"observed", "carry", "backcast"}

    Returns
    -------
    Panel
        Frames of shape (T, N): T rows of the calendar (weekly: complete W-FRI
        weeks), N the requested symbols that have data, in request order
        (universe order by default).

    Raises
    ------
    EmptyStoreError
        Nothing stored for the requested symbols (the message says how to get data in).
    DataError
        Data is stored, but none on or before ``end`` / no calendar row in the window.
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
    if isinstance(max_gap, bool) or not isinstance(max_gap, Integral) or not 0 <= max_gap <= 60:
        raise ParameterError("max_gap", f"must be an integer from 0 to 60, got {max_gap!r}")
    max_gap = int(max_gap)
    start_ts, end_ts = _as_date("start", start), _as_date("end", end)
    if start_ts is not None and end_ts is not None and end_ts < start_ts:
        raise ParameterError("end", f"end {end_ts.date()} is before start {start_ts.date()}")
    universe = universe if universe is not None else load_universe()

    wanted = _as_list("symbols", symbols)
    for b in _as_list("baskets", baskets):
        wanted += [m for m in universe.basket(b).members if m not in wanted]
    wanted = list(dict.fromkeys(wanted))
    explicit = bool(wanted)
    if not explicit:
        wanted = list(universe.instruments)

    # All history up to `end`: fills, carried caps and splice ratios may need data before `start`.
    long = store.read_observations(wanted, end=end_ts, fields=_FIELDS)
    if long.empty:
        if end_ts is not None and not store.read_observations(wanted, fields=("close",)).empty:
            names = ", ".join(wanted[:10]) + (" ..." if len(wanted) > 10 else "")
            raise DataError(f"nothing stored on or before end {end_ts.date()} for {names}")
        what = "observations for these instruments"
        raise EmptyStoreError(EMPTY_STORE_HELP.format(path=store.path, what=what))
    stored = set(long["symbol"].unique())
    present = [s for s in wanted if s in stored]
    absent = [s for s in wanted if s not in stored]

    classes = _asset_classes(store, universe, present)
    daily_cols = [s for s in present if classes[s] in DAILY_CLASSES]
    session_cols = [s for s in present if s not in daily_cols]

    quality: list[dict] = []
    for sym in absent if explicit else []:
        _note(quality, sym, "no_data", 0, "nothing stored")

    # Non-positive prices: drop the field (a bad adj_close must not fall back to the unadjusted close).
    bad_adj = long["adj_close"] <= 0
    bad_close = long["close"] <= 0
    for sym, n in long.loc[bad_adj | bad_close, "symbol"].value_counts().items():
        _note(quality, sym, "dropped_nonpositive", n, f"{n} rows with a close or adjusted close <= 0: dropped")
    price = long["adj_close"].where(long["adj_close"].notna(), long["close"]).where(~bad_adj)
    long = long.assign(price=price.where(price > 0), close=long["close"].where(~bad_close))
    traded = long["volume"] * long["close"].fillna(long["price"])
    long["dollar_volume"] = long["volume_usd"].fillna(traded)

    rank = _source_rank(long, universe)
    primary = long[["symbol", "source"]].drop_duplicates()
    primary = primary.assign(rank=rank.reindex(pd.MultiIndex.from_frame(primary)).to_numpy())
    sources = primary.sort_values("rank").groupby("symbol")["source"].first()
    sources = sources.reindex(present).rename("source")

    codes = _codes(long, rank, present)
    wide = {
        "prices": _combine(long, "price", rank, present, True, quality, codes),
        "close": _combine(long, "close", rank, present, True, [], codes),
        "market_caps": _combine(long, "market_cap", rank, present, False, [], codes),
        "supply": _combine(long, "supply", rank, present, False, [], codes),
        "volume_usd": _combine(long, "dollar_volume", rank, present, False, [], codes),
    }
    off = _off_calendar(wide["prices"], session_cols)
    for sym, n in off[off > 0].items():
        _note(quality, sym, "dropped_off_calendar", n, f"{n} prices dated on a day that is not a session")

    data_first = min(f.index.min() for f in wide.values() if not f.empty)
    data_last = max(f.index.max() for f in wide.values() if not f.empty)
    row_start = start_ts if start_ts is not None else data_first
    row_end = end_ts if end_ts is not None else data_last
    if row_start > row_end:
        raise DataError(f"start {row_start.date()} is after the last stored date {row_end.date()}")
    # Align on every row from the first data date so that a window is a slice of the full panel.
    full = calendar_index(calendar, min(row_start, data_first), max(row_end, data_first))
    full = full[full <= row_end]
    shift = crypto_close == "prior" and calendar == "sessions"
    aligned: dict[str, pd.DataFrame] = {}
    filled_prices = None
    for key, frame in wide.items():
        how = "sum" if key == "volume_usd" else "last"
        # Caps are never forward-filled flat: `carry` extends them with the price instead.
        gap = 0 if key == "market_caps" else max_gap
        aligned[key], filled = _align_daily(
            frame.reindex(columns=present), full, daily_cols, session_cols, calendar, shift, gap, how
        )
        if key == "prices":
            filled_prices = filled
    keep_rows = full >= row_start
    assert filled_prices is not None
    observed = aligned["prices"].notna() & ~filled_prices
    observed = observed[keep_rows]
    last_observed = observed.apply(lambda col: col[col].index.max() if col.any() else pd.NaT)
    last_observed = pd.Series(pd.to_datetime(last_observed.to_numpy()), index=observed.columns, name="last_observed")
    n_filled = filled_prices[keep_rows].sum()
    for sym, n in n_filled[n_filled > 0].items():
        _note(quality, sym, "filled_prices", n, f"{n} missing rows hold the last known price (max_gap={max_gap})")

    if cap_method != "observed":
        backcast = cap_method == "backcast"
        caps, carried, back = _carry_caps(aligned["market_caps"], aligned["prices"], backcast)
        aligned["market_caps"] = caps
        for sym, n in carried[keep_rows].sum().items():
            if n:
                _note(quality, sym, "cap_carried", n, f"{n} caps extended from an observed one at constant units")
        for sym, n in back[keep_rows].sum().items():
            if n:
                _note(quality, sym, "cap_backcast", n,
                      f"{n} caps back-cast from a later observation at constant units "
                      "(approximation: ignores buybacks and issuance; uses later data)")

    if frequency == "W":
        complete_until = _last_complete_week(calendar, row_end)
        weekly = {}
        for k, v in aligned.items():
            w = _to_weekly(v, "sum" if k == "volume_usd" else "last")
            weekly[k] = w[(w.index >= row_start) & (w.index <= complete_until)]
        aligned = weekly
    else:
        aligned = {k: v[keep_rows] for k, v in aligned.items()}
    if len(next(iter(aligned.values()))) == 0:
        what = "complete weeks" if frequency == "W" else f"{calendar} rows"
        raise DataError(f"no {what} between {row_start.date()} and {row_end.date()}")
    for frame in aligned.values():
        frame.index = pd.DatetimeIndex(frame.index, name="date")
        frame.index.freq = None
        frame.columns.name = None
    quality_frame = pd.DataFrame(quality, columns=["symbol", "action", "count", "detail"])
    return Panel(
        **aligned,
        asset_classes=pd.Series(classes, dtype=object).reindex(present),
        frequency=frequency,
        calendar=calendar,
        crypto_close=crypto_close,
        cap_method=cap_method,
        quality=quality_frame,
        universe=universe,
        sources=sources,
        last_observed=last_observed.reindex(present),
    )


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
    days after it became usable) so that a discontinued series turns NaN
    instead of going flat.

    The frequency of a series outside the universe is the one recorded in the
    store's instrument metadata, else inferred from the median of its first
    20 intervals (monthly with fewer than 3 observations). An inferred
    frequency, hence the lag, is fixed once the series has 21 observations;
    before that, appending observations can change it (the one exception to
    "later data never changes earlier rows": declare such a series in the
    universe to avoid it).

    Parameters
    ----------
    store : Store
    universe : Universe, optional
    symbols : sequence of str, optional
        Default: the universe's macro series that are stored.
    index : DatetimeIndex, optional
        Rows to align on (e.g. ``panel.index``); default: every calendar day
        from the first to the last date a stored value became usable.
    scaled : bool
        Multiply by the series' ``scale`` (native units -> base units, e.g.
        millions of USD -> USD; percent stays percent). Series outside the
        universe are never scaled.

    Returns
    -------
    DataFrame (T, M)
        Index ``index`` (named ``date``), one column per stored series in the
        requested order; NaN before the first usable value and when stale.

    Raises
    ------
    EmptyStoreError
        No macro value stored for the requested series.
    """
    universe = universe if universe is not None else load_universe()
    wanted = _as_list("symbols", symbols) if symbols is not None else list(universe.macro)
    long = store.read_macro(wanted)
    if long.empty:
        raise EmptyStoreError(EMPTY_STORE_HELP.format(path=store.path, what="macro series"))
    rank = _source_rank(long, universe_macro_as_instruments(universe))
    present = [s for s in wanted if s in set(long["symbol"])]
    wide = _combine(long, "value", rank, present, False, [])
    declared: dict[str, str] = {}
    if any(s not in universe.macro for s in present):
        meta = store.instruments()
        declared = {
            str(sym): str(freq)
            for sym, freq in zip(meta["symbol"], meta["frequency"], strict=True)
            if isinstance(freq, str) and freq in _FREQ_STALE_DAYS
        }
    columns = {}
    for sym in present:
        series = wide[sym].dropna()
        if series.empty:
            continue
        spec = universe.macro.get(sym)
        if spec is not None:
            freq = spec.frequency
        else:
            freq = declared.get(sym) or _infer_frequency(pd.DatetimeIndex(series.index))
        lag = spec.release_lag_days if spec else _FREQ_DEFAULT_LAG[freq]
        series.index = series.index + pd.Timedelta(days=lag)
        if scaled and spec is not None:
            series = series * spec.scale
        columns[sym] = (series, _FREQ_STALE_DAYS[freq])
    if index is None:
        lo = min(s.index.min() for s, _ in columns.values())
        hi = max(s.index.max() for s, _ in columns.values())
        index = pd.DatetimeIndex(pd.date_range(lo, hi, freq="D"), name="date")
    index = pd.DatetimeIndex(index)
    out = pd.DataFrame(index=index, dtype="float64")
    for sym, (series, stale) in columns.items():
        known_at = pd.DatetimeIndex(series.index)
        pos = known_at.searchsorted(index, side="right") - 1
        valid = pos >= 0
        values = np.full(len(index), np.nan)
        values[valid] = series.to_numpy()[pos[valid]]
        age = np.full(len(index), np.inf)
        age[valid] = (index[valid] - known_at[pos[valid]]).days
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
    """D/W/M/Q from the median of the first 20 intervals (fixed once 21 points exist)."""
    if len(index) < 3:
        return "M"
    head = index[:21]
    median_days = float(np.median(np.diff(pd.DatetimeIndex(head).as_unit("ns").asi8)) / 86_400e9)
    if median_days <= 3:
        return "D"
    if median_days <= 10:
        return "W"
    if median_days <= 45:
        return "M"
    return "Q"
