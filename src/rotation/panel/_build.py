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
from rotation.store import ObservationArrays, Store
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
    """Preference rank of each (symbol, source): universe order first, then alphabetical.

    ``long`` needs ``symbol`` and ``source`` columns (a long frame, or the stored pairs).
    """
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


def _arrays_from_frame(long: pd.DataFrame, fields: Sequence[str]) -> ObservationArrays:
    """A long frame (``symbol, source, date, <fields>``) as :class:`ObservationArrays`."""
    pair, uniques = pd.factorize(pd.MultiIndex.from_frame(long[["symbol", "source"]]))
    pairs = pd.DataFrame({"symbol": uniques.get_level_values(0), "source": uniques.get_level_values(1)})
    values = {f: long[f].to_numpy(dtype="float64") for f in fields}
    return ObservationArrays(
        pairs=pairs,
        pair=np.asarray(pair, dtype=np.int32),
        day=long["date"].to_numpy(dtype="datetime64[D]").astype(np.int64).astype(np.int32),
        values={f: v for f, v in values.items() if not np.isnan(v).all()},
    )


@dataclass(frozen=True)
class _Grid:
    """Where each long row lands on a (symbols x calendar days) grid.

    Every wide layer here is an ``(N, D)`` C-ordered array: row *j* is symbol
    *j*, column *t* the calendar day ``first + t`` (days since 1970-01-01), so a
    symbol's history is contiguous (the store returns rows grouped by symbol,
    which makes the scatter sequential) and ``layer.T`` is the (D, N) frame.

    Attributes
    ----------
    flat : ndarray of int64 (R,)
        ``symbol * n_days + day - first`` of each row (meaningless for rows of
        unwanted symbols, which no ``by_rank`` entry lists).
    by_rank : list of (int, ndarray or None)
        Row positions of each rank present (None: every row, the one-source case).
    """

    first: int
    n_days: int
    n_cols: int
    flat: np.ndarray
    by_rank: list[tuple[int, np.ndarray | None]]

    @property
    def dates(self) -> pd.DatetimeIndex:
        return _days_index(self.first + np.arange(self.n_days))

    @classmethod
    def build(cls, obs: ObservationArrays, rank: pd.Series, symbols: list[str], first: int, last: int) -> _Grid:
        where = {s: j for j, s in enumerate(symbols)}
        pair_col = np.array([where.get(s, -1) for s in obs.pairs["symbol"]], dtype=np.int64)
        pair_rank = rank.reindex(pd.MultiIndex.from_frame(obs.pairs[["symbol", "source"]])).to_numpy(dtype=np.int64)
        n_days = int(last - first + 1)
        # flat = col * n_days + day - first, in place on one int64 array
        flat = (pair_col * n_days - first)[obs.pair]
        flat += obs.day
        wanted = pair_col >= 0
        ranks = np.unique(pair_rank[wanted])
        if len(ranks) == 1 and wanted.all():
            by_rank: list[tuple[int, np.ndarray | None]] = [(int(ranks[0]), None)]
        else:
            row_rank = np.where(wanted, pair_rank, -1)[obs.pair]
            by_rank = [(int(k), np.flatnonzero(row_rank == k)) for k in ranks]
        return cls(int(first), n_days, len(symbols), flat, by_rank)


def _days_index(days: np.ndarray) -> pd.DatetimeIndex:
    """Day numbers (since 1970-01-01) as a ``datetime64[ns]`` index named ``date``."""
    return pd.DatetimeIndex(np.asarray(days, dtype="datetime64[D]").astype("datetime64[ns]"), name="date")


def _day_numbers(index: pd.DatetimeIndex) -> np.ndarray:
    return index.to_numpy(dtype="datetime64[D]").astype(np.int64)


def _ffill(a: np.ndarray, limit: int | None = None) -> np.ndarray:
    """Forward fill NaNs along axis 1 of an (N, T) array, at most ``limit`` steps (None: no limit).

    Same values as pandas ``DataFrame.ffill(limit=limit)`` on ``a.T``: a NaN
    cell takes the last non-NaN value before it when that is at most ``limit``
    columns back; leading NaNs stay NaN. Returns a new array.
    """
    n_t = a.shape[1]
    nan = np.isnan(a)
    last = np.where(nan, np.int32(-1), np.arange(n_t, dtype=np.int32))  # column of the last value so far
    np.maximum.accumulate(last, axis=1, out=last)
    out = a.copy()
    # Only the NaN cells change: gather their sources by flat position instead of re-reading every cell.
    pos = np.flatnonzero(nan)
    src = last.ravel()[pos]
    col = pos % n_t
    ok = src >= 0
    if limit is not None:
        ok &= (col - src) <= limit
    pos, src, col = pos[ok], src[ok], col[ok]
    out.ravel()[pos] = a.ravel()[pos - col + src]
    return out


def _bfill(a: np.ndarray) -> np.ndarray:
    """Backward fill NaNs along axis 1 (pandas ``bfill`` on ``a.T``)."""
    return _ffill(a[:, ::-1])[:, ::-1]


def _combine(
    values: np.ndarray | None,
    grid: _Grid,
    symbols: list[str],
    scale: bool,
    quality: list[dict],
    value: str,
) -> np.ndarray | None:
    """(N, D) grid layer of ``values`` combined across sources by rank (None: no value at all).

    The best-ranked source's value is used where it exists; each lower-ranked
    source fills the dates still missing. With ``scale``, its values are
    multiplied by the ratio better/lower on the most recent common date
    before each filled date (the first common date for fills before any
    overlap; 1, flagged, without any common date). ``value`` names the field
    in the quality notes.
    """
    if values is None:
        return None
    valid = ~np.isnan(values)
    present = [(k, rows) for k, rows in grid.by_rank if (valid if rows is None else valid[rows]).any()]
    combined: np.ndarray | None = None
    for k, rows in present:
        layer = np.full((grid.n_cols, grid.n_days), np.nan)
        # (symbol, source, date) is the store key and one rank is one source per symbol: no two rows of
        # a rank land on one cell, so NaN rows can be scattered too (they leave the cell NaN).
        if rows is None:
            layer.ravel()[grid.flat] = values
        else:
            layer.ravel()[grid.flat[rows]] = values[rows]
        if combined is None:
            combined = layer
            continue
        need = np.isnan(combined) & ~np.isnan(layer)
        if not need.any():
            continue
        cols = np.flatnonzero(need.any(axis=1))  # only symbols this source adds to
        base, extra, want = combined[cols], layer[cols], need[cols]
        if scale:
            both = ~np.isnan(base) & ~np.isnan(extra)
            with np.errstate(invalid="ignore", divide="ignore"):
                ratio = np.where(both, base / extra, np.nan)
            ratio = _bfill(_ffill(ratio))
            fill = extra * np.where(np.isnan(ratio), 1.0, ratio)
            for i in np.flatnonzero(~both.any(axis=1)):
                _note(quality, symbols[cols[i]], f"spliced_unscaled_{value}", want[i].sum(),
                      f"the rank-{k} source has no date in common with the better one: used unscaled")
        else:
            fill = extra
        combined[cols] = np.where(want, fill, base)
        how = ", scaled by the ratio on the nearest common date" if scale else ""
        for i, j in enumerate(cols):
            n = int(want[i].sum())
            _note(quality, symbols[j], f"spliced_{value}", n,
                  f"{n} dates of {value} from a lower-ranked source (rank {k}){how}")
    return combined


def _take(a: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``a[idx]`` without the copy when ``idx`` selects every row in order."""
    return a if len(idx) == len(a) and np.array_equal(idx, np.arange(len(a))) else a[idx]


def _cols(a: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``a[:, idx]`` as a C-ordered array (numpy's fancy indexing on axis 1 returns F order, which
    makes every later pass along time strided)."""
    return np.take(a, idx, axis=1)


def _align_daily(
    layer: np.ndarray | None,
    grid: _Grid,
    rows: pd.DatetimeIndex,
    daily_at: np.ndarray,
    session_at: np.ndarray,
    calendar: str,
    shift_crypto: bool,
    max_gap: int,
    how: str = "last",
) -> tuple[np.ndarray, np.ndarray]:
    """Put an (N, D) calendar-day layer on ``rows`` following the alignment policy.

    ``how="last"`` samples levels (with the causal ``max_gap`` fill);
    ``how="sum"`` accumulates flows (dollar volume) of 24/7 instruments over
    the UTC days since the previous row. ``daily_at`` / ``session_at`` are the
    positions of the 24/7 and the exchange-traded symbols.

    Returns
    -------
    aligned : ndarray (N, len(rows)), NaN where no value
    filled : ndarray of bool, same shape
        Cells that hold a forward-filled value.
    """
    shape = (grid.n_cols, len(rows))
    if layer is None or not len(rows):
        return np.full(shape, np.nan), np.zeros(shape, dtype=bool)
    at_rows = _day_numbers(rows) - grid.first  # grid columns of the rows (the grid covers them)
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    if len(daily_at):
        crypto = _take(layer, daily_at)
        if shift_crypto:  # the close of UTC day D is known at 00:00 UTC of D+1 (grid days are contiguous)
            crypto = np.concatenate([np.full((len(daily_at), 1), np.nan), crypto[:, :-1]], axis=1)
        if how == "sum":
            # Each UTC day goes to the first row on or after it; pandas' groupby sum is kept for its
            # compensated summation (so sums equal the reference to the last bit).
            frame = pd.DataFrame(crypto.T, index=grid.dates)
            pos = rows.searchsorted(frame.index, side="left")
            keep = pos < len(rows)
            sums = frame[keep].groupby(pos[keep]).sum(min_count=1)
            block = np.full((len(rows), len(daily_at)), np.nan)
            block[sums.index.to_numpy()] = sums.to_numpy()
            parts.append((daily_at, block.T, np.zeros((len(daily_at), len(rows)), dtype=bool)))
        else:
            f = _ffill(crypto, max_gap) if max_gap else crypto
            on_rows = _cols(f, at_rows)
            parts.append((daily_at, on_rows, ~np.isnan(on_rows) & np.isnan(_cols(crypto, at_rows))))
    if len(session_at):
        sess_rows = rows if calendar == "sessions" else sessions(rows[0], rows[-1])
        sess = _cols(_take(layer, session_at), _day_numbers(sess_rows) - grid.first)
        if how == "last" and max_gap:
            f = _ffill(sess, max_gap)
            fmask = ~np.isnan(f) & np.isnan(sess)
        else:
            f, fmask = sess, np.zeros(sess.shape, dtype=bool)
        if calendar == "sessions":
            parts.append((session_at, f, fmask))
        elif len(sess_rows):
            # all_days: a weekend/holiday shows the latest session's value (a hold, not a gap).
            exact = sess_rows.get_indexer(rows)
            on = exact >= 0
            if how == "last":
                latest = sess_rows.searchsorted(rows, side="right") - 1
                held = _cols(f, np.maximum(latest, 0))
                held[:, latest < 0] = np.nan
            else:
                held = _cols(f, np.maximum(exact, 0))
                held[:, ~on] = np.nan
            marks = np.zeros((len(session_at), len(rows)), dtype=bool)
            marks[:, on] = _cols(fmask, exact[on])
            parts.append((session_at, held, marks))
    if len(parts) == 1 and len(parts[0][0]) == grid.n_cols:
        return parts[0][1], parts[0][2]
    out, filled = np.full(shape, np.nan), np.zeros(shape, dtype=bool)
    for at, values, marks in parts:
        out[at], filled[at] = values, marks
    return out, filled


def _off_calendar(layer: np.ndarray | None, grid: _Grid, session_at: np.ndarray) -> np.ndarray:
    """Per exchange-traded symbol (``session_at``), stored values dated on a day that is not a session."""
    if layer is None or not len(session_at):
        return np.zeros(len(session_at), dtype=np.int64)
    dates = grid.dates
    off = np.flatnonzero(~dates.isin(sessions(dates[0], dates[-1])))
    return (~np.isnan(_cols(_take(layer, session_at), off))).sum(axis=1)


def _to_weekly(frame: pd.DataFrame, how: str) -> pd.DataFrame:
    labels = weekly_labels(pd.DatetimeIndex(frame.index))
    if how == "sum":
        out = frame.groupby(labels).sum(min_count=1)
    else:
        out = frame.groupby(labels).tail(1)
        out.index = weekly_labels(pd.DatetimeIndex(out.index))
    out.index.name = "date"
    return out


def _carry_caps(caps: np.ndarray, px: np.ndarray, backcast: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Extend (N, T) caps at constant units (shares or coins) implied on dates with both cap and price.

    Returns the caps and two boolean masks of the same shape: cells carried
    forward and cells back-cast.
    """
    observed = ~np.isnan(caps)
    if not observed.any():
        none = np.zeros(caps.shape, dtype=bool)
        return caps, none, none
    with np.errstate(invalid="ignore", divide="ignore"):
        # shares or coins implied at each anchor (a date with both a cap and a price)
        units = np.where(observed & ~np.isnan(px), caps / px, np.nan)
    out = np.where(observed, caps, _ffill(units) * px)
    carried = ~np.isnan(out) & ~observed
    back = np.zeros_like(carried)
    if backcast:
        backward = _bfill(units) * px
        back = np.isnan(out) & ~np.isnan(backward)
        out = np.where(back, backward, out)
    return out, carried, back


def _clean_fields(obs: ObservationArrays, quality: list[dict]) -> dict[str, np.ndarray | None]:
    """The per-row values the panel is built from, after the non-positive price policy.

    Returns ``price`` (adjusted close, else close), ``close``, ``market_cap``,
    ``supply`` and ``dollar_volume`` (stored quote volume, else volume x
    close, else volume x price) as float64 arrays of the rows (None: no value
    in the rows read). Non-positive ``close`` or ``adj_close`` values are dropped and
    counted per symbol: a bad adjusted close must not fall back to the
    unadjusted close.
    """
    get = obs.values.get
    adj, close, volume, volume_usd = get("adj_close"), get("close"), get("volume"), get("volume_usd")
    # The inputs may be read-only Arrow views and are never written; a new array is made only where a
    # value changes (25M-row reads: every avoided copy is ~0.2 s of page faults).
    with np.errstate(invalid="ignore"):
        bad_adj = adj <= 0 if adj is not None else None  # NaN compares False: missing is not bad
        bad_close = close <= 0 if close is not None else None
        bad = [b for b in (bad_adj, bad_close) if b is not None]
        rows = (np.logical_or.reduce(bad) if len(bad) > 1 else bad[0]) if bad else None
        if rows is not None and rows.any():
            per_pair = np.bincount(obs.pair[rows], minlength=len(obs.pairs))
            counts = pd.Series(per_pair, index=obs.pairs["symbol"].to_numpy()).groupby(level=0).sum()
            # the order of the frame-based version: value_counts over rows sorted by symbol
            counts = counts[counts > 0].sort_index().sort_values(ascending=False, kind="stable")
            for sym, n in counts.items():
                _note(quality, sym, "dropped_nonpositive", n, f"{n} rows with a close or adjusted close <= 0: dropped")
        # A non-positive adj_close is kept here and dropped by the <= 0 test below: it never falls back
        # to the unadjusted close.
        price = adj if adj is not None else close
        if adj is not None and close is not None:
            missing = np.isnan(adj)
            if missing.any():
                price = np.where(missing, close, adj)
        if price is not None:
            nonpositive = price <= 0
            if nonpositive.any():
                price = np.where(nonpositive, np.nan, price)
        if bad_close is not None and bad_close.any():
            close = np.where(bad_close, np.nan, close)
    traded = None
    if volume is not None and price is not None:
        basis = close if close is not None else price
        if close is not None and price is not close:
            missing = np.isnan(close)
            if missing.any():
                basis = np.where(missing, price, close)
        traded = volume * basis
    if volume_usd is None:
        dollar_volume = traded
    else:
        dollar_volume = volume_usd if traded is None else np.where(np.isnan(volume_usd), traded, volume_usd)
    return {"price": price, "close": close, "market_cap": get("market_cap"), "supply": get("supply"),
            "dollar_volume": dollar_volume}


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
    obs = store.read_observation_arrays(wanted, end=end_ts, fields=_FIELDS)
    if not len(obs):
        if end_ts is not None and not store.read_observations(wanted, fields=("close",)).empty:
            names = ", ".join(wanted[:10]) + (" ..." if len(wanted) > 10 else "")
            raise DataError(f"nothing stored on or before end {end_ts.date()} for {names}")
        what = "observations for these instruments"
        raise EmptyStoreError(EMPTY_STORE_HELP.format(path=store.path, what=what))
    stored = set(obs.pairs["symbol"])
    present = [s for s in wanted if s in stored]
    absent = [s for s in wanted if s not in stored]

    classes = _asset_classes(store, universe, present)
    daily_cols = [s for s in present if classes[s] in DAILY_CLASSES]
    session_cols = [s for s in present if s not in daily_cols]
    daily_at = np.array([j for j, s in enumerate(present) if classes[s] in DAILY_CLASSES], dtype=np.intp)
    session_at = np.array([j for j, s in enumerate(present) if classes[s] not in DAILY_CLASSES], dtype=np.intp)

    quality: list[dict] = []
    for sym in absent if explicit else []:
        _note(quality, sym, "no_data", 0, "nothing stored")

    rank = _source_rank(obs.pairs, universe)
    primary = obs.pairs.assign(rank=rank.reindex(pd.MultiIndex.from_frame(obs.pairs)).to_numpy())
    sources = primary.sort_values("rank").groupby("symbol")["source"].first()
    sources = sources.reindex(present).rename("source")

    fields = _clean_fields(obs, quality)
    data_days = []
    for v in fields.values():
        valid = ~np.isnan(v) if v is not None else None
        if valid is not None and valid.any():
            data_days.append((np.min(obs.day, where=valid, initial=np.iinfo(obs.day.dtype).max),
                              np.max(obs.day, where=valid, initial=np.iinfo(obs.day.dtype).min)))
    if not data_days:
        raise DataError(f"no price, cap, supply or volume value stored for {', '.join(present[:10])}")
    data_first = _days_index([min(lo for lo, _ in data_days)])[0]
    data_last = _days_index([max(hi for _, hi in data_days)])[0]
    row_start = start_ts if start_ts is not None else data_first
    row_end = end_ts if end_ts is not None else data_last
    if row_start > row_end:
        raise DataError(f"start {row_start.date()} is after the last stored date {row_end.date()}")
    # Align on every row from the first data date so that a window is a slice of the full panel.
    full = calendar_index(calendar, min(row_start, data_first), max(row_end, data_first))
    full = full[full <= row_end]
    # One calendar-day grid covering every stored row and every panel row.
    lo, hi = int(obs.day.min()), int(obs.day.max())
    if len(full):
        lo, hi = min(lo, int(_day_numbers(full[:1])[0])), max(hi, int(_day_numbers(full[-1:])[0]))
    grid = _Grid.build(obs, rank, present, lo, hi)

    layers = {
        "prices": _combine(fields["price"], grid, present, True, quality, "price"),
        "close": _combine(fields["close"], grid, present, True, [], "close"),
        "market_caps": _combine(fields["market_cap"], grid, present, False, [], "market_cap"),
        "supply": _combine(fields["supply"], grid, present, False, [], "supply"),
        "volume_usd": _combine(fields["dollar_volume"], grid, present, False, [], "dollar_volume"),
    }
    off = _off_calendar(layers["prices"], grid, session_at)
    for sym, n in zip(session_cols, off, strict=True):
        if n > 0:
            _note(quality, sym, "dropped_off_calendar", n, f"{n} prices dated on a day that is not a session")

    shift = crypto_close == "prior" and calendar == "sessions"
    aligned: dict[str, np.ndarray] = {}
    filled_prices = None
    for key in list(layers):
        how = "sum" if key == "volume_usd" else "last"
        # Caps are never forward-filled flat: `carry` extends them with the price instead.
        gap = 0 if key == "market_caps" else max_gap
        aligned[key], filled = _align_daily(
            layers.pop(key), grid, full, daily_at, session_at, calendar, shift, gap, how
        )
        if key == "prices":
            filled_prices = filled
    del grid
    # `full` is ascending, so the rows kept (on or after row_start) are a suffix.
    first_row = int(full.searchsorted(row_start, side="left"))
    kept = full[first_row:]
    assert filled_prices is not None
    observed = ~np.isnan(aligned["prices"][:, first_row:]) & ~filled_prices[:, first_row:]
    seen = observed.any(axis=1)
    last_seen = np.full(len(present), np.datetime64("NaT"), dtype="datetime64[ns]")
    if seen.any():
        last_pos = observed.shape[1] - 1 - observed[:, ::-1].argmax(axis=1)
        last_seen[seen] = kept.to_numpy(dtype="datetime64[ns]")[last_pos[seen]]
    last_observed = pd.Series(pd.DatetimeIndex(last_seen.astype("datetime64[ns]")), index=present,
                              name="last_observed")
    n_filled = filled_prices[:, first_row:].sum(axis=1)
    for sym, n in zip(present, n_filled, strict=True):
        if n > 0:
            _note(quality, sym, "filled_prices", n,
                  f"{n} missing rows hold the last known price (max_gap={max_gap})")

    if cap_method != "observed":
        backcast = cap_method == "backcast"
        caps, carried, back = _carry_caps(aligned["market_caps"], aligned["prices"], backcast)
        aligned["market_caps"] = caps
        for sym, n in zip(present, carried[:, first_row:].sum(axis=1), strict=True):
            if n:
                _note(quality, sym, "cap_carried", n, f"{n} caps extended from an observed one at constant units")
        for sym, n in zip(present, back[:, first_row:].sum(axis=1), strict=True):
            if n:
                _note(quality, sym, "cap_backcast", n,
                      f"{n} caps back-cast from a later observation at constant units "
                      "(approximation: ignores buybacks and issuance; uses later data)")

    frames: dict[str, pd.DataFrame] = {}
    if frequency == "W":
        complete_until = _last_complete_week(calendar, row_end)
        for k, v in aligned.items():
            w = _to_weekly(pd.DataFrame(v.T, index=full, columns=present), "sum" if k == "volume_usd" else "last")
            frames[k] = w[(w.index >= row_start) & (w.index <= complete_until)]
    else:
        # (N, T) C-ordered -> (T, N) F-ordered view: pandas keeps it as its own block without a copy.
        frames = {k: pd.DataFrame(v[:, first_row:].T, index=kept, columns=present, copy=False)
                  for k, v in aligned.items()}
    if len(next(iter(frames.values()))) == 0:
        what = "complete weeks" if frequency == "W" else f"{calendar} rows"
        raise DataError(f"no {what} between {row_start.date()} and {row_end.date()}")
    for frame in frames.values():
        frame.index = pd.DatetimeIndex(frame.index, name="date")
        frame.index.freq = None
        frame.columns.name = None
    quality_frame = pd.DataFrame(quality, columns=["symbol", "action", "count", "detail"])
    return Panel(
        **frames,
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
    stored = set(long["symbol"])
    present = [s for s in wanted if s in stored]
    obs = _arrays_from_frame(long, ["value"])
    grid = _Grid.build(obs, rank, present, int(obs.day.min()), int(obs.day.max()))
    wide = _combine(obs.values.get("value"), grid, present, False, [], "value")
    dates = grid.dates
    declared: dict[str, str] = {}
    if any(s not in universe.macro for s in present):
        meta = store.instruments()
        declared = {
            str(sym): str(freq)
            for sym, freq in zip(meta["symbol"], meta["frequency"], strict=True)
            if isinstance(freq, str) and freq in _FREQ_STALE_DAYS
        }
    columns = {}
    for j, sym in enumerate(present):
        if wide is None or np.isnan(wide[j]).all():
            continue
        has = ~np.isnan(wide[j])
        series = pd.Series(wide[j][has], index=dates[has], name=sym)
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
