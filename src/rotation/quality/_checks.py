"""Vectorised data-quality checks over the store's long frames.

Every check works on the whole long frame at once (one row per symbol,
source and date, sorted that way by the store) with NumPy and pandas
group-bys keyed by an integer series id, so the S&P 500 import
(~500 symbols x ~2,900 sessions) is checked in about a second. Nothing here
changes data; see :mod:`rotation.quality._policy` for what the panel does.

Conventions used by all checks
------------------------------
price
    ``adj_close`` where present, else ``close`` (the panel's rule).
step return
    The return from one observed row to the next of the same (symbol, source):
    the ``adj_close`` ratio when both rows have ``adj_close``, else the
    ``close`` ratio when both have ``close``. Mixing the two bases within one
    step would invent a jump wherever a source stops supplying ``adj_close``.
calendar
    NYSE sessions for ``equity``/``etf``/``index``, every day for ``crypto``/
    ``stablecoin``. The asset class comes from the universe, else from the
    store's instrument table, else ``equity``.
as-of date
    Staleness is measured against the latest date in the checked data (or the
    ``as_of`` argument), not the wall clock, so a store of historical data is
    not reported as stale everywhere; ``lag_days`` says how far each series
    ends before that date.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from rotation.errors import EmptyStoreError, ParameterError
from rotation.quality._policy import POLICY
from rotation.quality._report import QualityReport, status_rank
from rotation.universe import ASSET_CLASSES, Universe

__all__ = ["DEFAULT_THRESHOLDS", "Thresholds", "check_store"]

PRICE_FIELDS = ("open", "high", "low", "close", "adj_close")
SESSION_CLASSES = frozenset({"equity", "etf", "index"})
NO_STALE_CLASSES = frozenset({"stablecoin"})  # a pegged price legitimately repeats
_DAY_NS = np.int64(86_400_000_000_000)
#: A spike is an outlier whose next step returns at least 75 % of the way (in log terms).
_SPIKE_REVERSION = 0.25
#: Native macro frequencies: nominal period in days, grace days and the release
#: lag assumed when neither the universe nor the store says otherwise.
_MACRO_PERIOD = {"D": 1, "W": 7, "M": 31, "Q": 92, "A": 366}
_MACRO_GRACE = {"D": 4, "W": 4, "M": 15, "Q": 46, "A": 90}
_MACRO_LAG = {"D": 1, "W": 2, "M": 45, "Q": 120, "A": 120}


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Limits the checks use to flag and to grade series.

    Attributes
    ----------
    stale_run : int
        A run of at least this many identical consecutive closes is stale.
    outlier_z : float
        Robust z-score (``(r - median) / (1.4826 * MAD)`` of log step returns
        per series) above which a return is an outlier.
    spike_z : float
        A spike (likely bad print) is a step with robust |z| above this whose
        next step, also above it, undoes at least 75 % of it (log terms).
        Higher than ``outlier_z`` because markets whipsaw too (March 2020).
    min_returns : int
        Fewer step returns than this: no robust scale, outlier check skipped.
    split_ratios : tuple of float
        Price ratios treated as split-like (their inverses are added).
    split_tolerance : float
        Relative distance to a split ratio still called split-like (0.03 = 3 %).
    max_gap : int
        Gaps longer than this many missing calendar periods are long gaps
        (the panel forward-fills up to this many; see ``POLICY.max_gap``).
    disagreement_return : float
        Two sources disagree on a day when their simple returns differ by more
        than this (0.02 = 2 percentage points).
    disagreement_share : float
        A source pair is flagged when more than this share of common days disagree.
    min_correlation : float
        ... or when the correlation of their returns is below this.
    min_overlap : int
        Pairs with fewer common returns are reported but never flagged.
    warn_coverage, fail_coverage : float
        Coverage (observed / expected calendar dates between first and last
        observation) below these gives ``warn`` / ``fail``.
    behind_days : int
        A series ending more than this many calendar days before the as-of
        date is reported as behind (``warn``).
    ohlc_tolerance : float
        Relative tolerance of the OHLC consistency test (absorbs float rounding).
    macro_warn_coverage : float
        Coverage below this gives a macro series ``warn`` (daily macro
        coverage is measured against weekdays, so holidays cost ~4 %).
    """

    stale_run: int = 5
    outlier_z: float = 8.0
    spike_z: float = 16.0
    min_returns: int = 20
    split_ratios: tuple[float, ...] = (2.0, 3.0, 4.0, 5.0, 10.0, 20.0)
    split_tolerance: float = 0.03
    max_gap: int = POLICY.max_gap
    disagreement_return: float = 0.02
    disagreement_share: float = 0.05
    min_correlation: float = 0.95
    min_overlap: int = 20
    warn_coverage: float = 0.98
    fail_coverage: float = 0.5
    behind_days: int = 30
    ohlc_tolerance: float = 1e-6
    macro_warn_coverage: float = 0.9

    def __post_init__(self) -> None:
        positive_ints = ("stale_run", "min_returns", "min_overlap")
        for name in positive_ints:
            if int(getattr(self, name)) < 2:
                raise ParameterError(
                    f"thresholds.{name}", f"must be an integer >= 2, got {getattr(self, name)!r}"
                )
        for name in ("max_gap", "behind_days"):
            if int(getattr(self, name)) < 0:
                raise ParameterError(
                    f"thresholds.{name}", f"must be >= 0, got {getattr(self, name)!r}"
                )
        for name in ("outlier_z", "spike_z", "disagreement_return", "ohlc_tolerance"):
            if not float(getattr(self, name)) > 0:
                raise ParameterError(
                    f"thresholds.{name}", f"must be > 0, got {getattr(self, name)!r}"
                )
        if not 0 < self.split_tolerance < 0.2:
            raise ParameterError(
                "thresholds.split_tolerance", f"must be in (0, 0.2), got {self.split_tolerance!r}"
            )
        if not self.split_ratios or any(float(r) <= 1.2 for r in self.split_ratios):
            raise ParameterError(
                "thresholds.split_ratios", f"need ratios > 1.2, got {self.split_ratios!r}"
            )
        for name in (
            "disagreement_share",
            "min_correlation",
            "warn_coverage",
            "fail_coverage",
            "macro_warn_coverage",
        ):
            if not 0 <= float(getattr(self, name)) <= 1:
                raise ParameterError(
                    f"thresholds.{name}", f"must be in [0, 1], got {getattr(self, name)!r}"
                )

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


DEFAULT_THRESHOLDS = Thresholds()


# ---------------------------------------------------------------------------- helpers
def _starts(gid: np.ndarray) -> np.ndarray:
    """Boolean mask of rows that start a new group in a group-sorted array."""
    out = np.ones(len(gid), dtype=bool)
    if len(gid) > 1:
        out[1:] = gid[1:] != gid[:-1]
    return out


def _prev(values: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Previous row's value within the group (NaN/NaT on a group's first row)."""
    out = np.empty_like(values)
    if len(values):
        out[1:] = values[:-1]
        out[0] = values[0]
    fill = np.datetime64("NaT") if values.dtype.kind == "M" else np.nan
    out[first] = fill
    return out


def step_ratio(
    adj: np.ndarray, adj_prev: np.ndarray, close: np.ndarray, close_prev: np.ndarray
) -> np.ndarray:
    """Gross return of one step: adj_close ratio if both present, else close ratio, else NaN."""
    with np.errstate(divide="ignore", invalid="ignore"):
        adj_ok = ~np.isnan(adj) & ~np.isnan(adj_prev)
        return np.where(adj_ok, adj / adj_prev, close / close_prev)


def _fmt_day(value: Any) -> str:
    return "" if value is None or pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d")


def _days(values: np.ndarray) -> np.ndarray:
    """datetime64[ns] -> integer days since the epoch."""
    return values.astype("datetime64[ns]").astype(np.int64) // _DAY_NS


def _from_days(values: np.ndarray) -> np.ndarray:
    return (np.asarray(values, dtype=np.int64) * _DAY_NS).astype("datetime64[ns]")


def _asset_classes(
    meta: pd.DataFrame, universe: Universe | None, symbols: Sequence[str]
) -> dict[str, str]:
    """Asset class per symbol: universe, else the store's instrument table, else equity.

    A class the store holds but rotation does not know is ignored (equity), so
    an odd label never silently moves a series onto the every-day calendar.
    """
    out = dict.fromkeys(symbols, "equity")
    if len(meta) and "asset_class" in meta:
        known = meta[meta["asset_class"].isin(ASSET_CLASSES)]
        for sym, cls in zip(known["symbol"], known["asset_class"], strict=True):
            if sym in out:
                out[sym] = str(cls)
    if universe is not None:
        for sym in symbols:
            if sym in universe.instruments:
                out[sym] = universe.instruments[sym].asset_class
    return out


def _details_frame(parts: list[pd.DataFrame]) -> pd.DataFrame:
    cols = ["symbol", "source", "check", "date", "end_date", "value", "detail"]
    parts = [p for p in parts if len(p)]
    if not parts:
        out = pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
        out["date"] = out["date"].astype("datetime64[ns]")
        out["end_date"] = out["end_date"].astype("datetime64[ns]")
        out["value"] = out["value"].astype("float64")
        return out
    out = pd.concat([p[cols] for p in parts], ignore_index=True)
    out["date"] = pd.to_datetime(out["date"]).astype("datetime64[ns]")
    out["end_date"] = pd.to_datetime(out["end_date"]).astype("datetime64[ns]")
    out["value"] = out["value"].astype("float64")
    order = {
        "non_positive": 0,
        "split": 1,
        "spike": 2,
        "disagreement": 3,
        "ohlc": 4,
        "gap": 5,
        "off_calendar": 6,
        "stale": 7,
        "outlier": 8,
    }
    out["_o"] = out["check"].map(order).fillna(9)
    return (
        out.sort_values(["symbol", "source", "_o", "date"], kind="stable")
        .drop(columns="_o")
        .reset_index(drop=True)
    )


# ---------------------------------------------------------------------------- observations
def _check_observations(
    obs: pd.DataFrame,
    classes: dict[str, str],
    th: Thresholds,
    as_of: pd.Timestamp,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Per-(symbol, source) numbers, the details frame, and the price rows for source comparison."""
    from rotation.panel._calendar import (
        sessions,
    )  # lazy: the panel imports POLICY from this package

    # integer codes: comparing 1.4M strings row by row is the slowest thing we could do
    sym_codes, sym_uniques = pd.factorize(obs["symbol"], sort=False)
    src_codes, src_uniques = pd.factorize(obs["source"], sort=False)
    dates = obs["date"].to_numpy(dtype="datetime64[ns]")
    n = len(obs)
    key_change = np.ones(n, dtype=bool)
    key_change[1:] = (sym_codes[1:] != sym_codes[:-1]) | (src_codes[1:] != src_codes[:-1])
    gid_all = np.cumsum(key_change) - 1
    n_groups = int(gid_all[-1]) + 1
    g_symbol = np.asarray(sym_uniques, dtype=object)[sym_codes[key_change]]
    g_source = np.asarray(src_uniques, dtype=object)[src_codes[key_change]]
    symbol = _LazyTake(g_symbol, gid_all)
    source = _LazyTake(g_source, gid_all)
    g_class = np.array([classes.get(s, "equity") for s in g_symbol], dtype=object)
    g_session = np.isin(g_class, list(SESSION_CLASSES))

    price = {f: obs[f].to_numpy(dtype="float64", copy=True) for f in PRICE_FIELDS}
    details: list[pd.DataFrame] = []

    # -- non-positive prices: counted and listed, then dropped (the panel's policy)
    nonpos_by_field = {f: price[f] <= 0 for f in PRICE_FIELDS}  # NaN <= 0 is False
    nonpos = np.logical_or.reduce(list(nonpos_by_field.values()))
    g_nonpos = np.bincount(gid_all[nonpos], minlength=n_groups)
    if nonpos.any():
        idx = np.flatnonzero(nonpos)
        named = [
            ", ".join(f"{f}={price[f][i]:g}" for f in PRICE_FIELDS if nonpos_by_field[f][i])
            for i in idx
        ]
        details.append(
            pd.DataFrame(
                {
                    "symbol": symbol[idx],
                    "source": source[idx],
                    "check": "non_positive",
                    "date": dates[idx],
                    "end_date": pd.NaT,
                    "value": np.nan,
                    "detail": named,
                }
            )
        )
    for f in PRICE_FIELDS:
        price[f][nonpos_by_field[f]] = np.nan

    # -- OHLC consistency (after dropping non-positive values)
    o, h, lo, c = price["open"], price["high"], price["low"], price["close"]
    tol = th.ohlc_tolerance
    with np.errstate(invalid="ignore"):
        hl_bad = h < lo * (1 - tol)
        c_bad = (c > h * (1 + tol)) | (c < lo * (1 - tol))
        o_bad = (o > h * (1 + tol)) | (o < lo * (1 - tol))
    ohlc_bad = hl_bad | c_bad | o_bad
    g_ohlc = np.bincount(gid_all[ohlc_bad], minlength=n_groups)
    if ohlc_bad.any():
        idx = np.flatnonzero(ohlc_bad)
        what = np.where(
            hl_bad[idx],
            "high<low",
            np.where(c_bad[idx], "close outside [low, high]", "open outside [low, high]"),
        )
        details.append(
            pd.DataFrame(
                {
                    "symbol": symbol[idx],
                    "source": source[idx],
                    "check": "ohlc",
                    "date": dates[idx],
                    "end_date": pd.NaT,
                    "value": c[idx],
                    "detail": [
                        f"{w}: o={o[i]:g} h={h[i]:g} l={lo[i]:g} c={c[i]:g}"
                        for w, i in zip(what, idx, strict=True)
                    ],
                }
            )
        )

    # -- which rows count as observations: a price series counts rows with a price;
    #    a series with no price at all (market cap or supply only) counts every row.
    has_price_row = ~np.isnan(price["close"]) | ~np.isnan(price["adj_close"])
    g_has_price = np.bincount(gid_all[has_price_row], minlength=n_groups) > 0
    valid = has_price_row | ~g_has_price[gid_all]
    g_blank = np.bincount(gid_all[~valid], minlength=n_groups)

    gid = gid_all[valid]
    d = dates[valid]
    first_mask = _starts(gid)
    # every group keeps >= 1 valid row, so group order and counts line up with gid
    g_rows = np.bincount(gid, minlength=n_groups)
    g_first = d[first_mask]
    last_mask = np.r_[first_mask[1:], True] if len(gid) else first_mask
    g_last = d[last_mask]

    # -- calendar positions: session index for exchange-traded, day number for crypto
    row_session = g_session[gid]
    pos = _days(d)
    on_cal = np.ones(len(d), dtype=bool)
    cal = pd.DatetimeIndex([])
    if row_session.any():
        lo_d, hi_d = d[row_session].min(), d[row_session].max()
        cal = sessions(pd.Timestamp(lo_d), pd.Timestamp(hi_d))
        cal_v = cal.to_numpy(dtype="datetime64[ns]")
        sp = np.searchsorted(cal_v, d[row_session])
        hit = (sp < len(cal_v)) & (cal_v[np.minimum(sp, len(cal_v) - 1)] == d[row_session])
        pos[row_session] = sp
        on_cal[row_session] = hit
    cal_v = cal.to_numpy(dtype="datetime64[ns]")

    off = ~on_cal
    g_off = np.bincount(gid[off], minlength=n_groups)
    if off.any():
        idx = np.flatnonzero(off)
        details.append(
            pd.DataFrame(
                {
                    "symbol": g_symbol[gid[idx]],
                    "source": g_source[gid[idx]],
                    "check": "off_calendar",
                    "date": d[idx],
                    "end_date": pd.NaT,
                    "value": np.nan,
                    "detail": [
                        f"{pd.Timestamp(x).day_name()} is not an NYSE session" for x in d[idx]
                    ],
                }
            )
        )

    # expected dates between first and last observation on each series' calendar
    g_expected = np.zeros(n_groups, dtype=np.int64)
    gs = g_session
    if gs.any():
        g_expected[gs] = np.searchsorted(cal_v, g_last[gs], side="right") - np.searchsorted(
            cal_v, g_first[gs], side="left"
        )
    g_expected[~gs] = _days(g_last[~gs]) - _days(g_first[~gs]) + 1
    g_on = np.bincount(gid[on_cal], minlength=n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        g_cov = np.where(g_expected > 0, g_on / np.maximum(g_expected, 1), np.nan)
    g_missing = np.maximum(g_expected - g_on, 0)

    # -- gaps between consecutive on-calendar observations
    gc = gid[on_cal]
    pc = pos[on_cal]
    dc = d[on_cal]
    fc = _starts(gc)
    miss = np.zeros(len(pc), dtype=np.int64)
    if len(pc):
        miss[1:] = pc[1:] - pc[:-1] - 1
    miss[fc] = 0
    g_longest = np.zeros(n_groups, dtype=np.int64)
    g_long_gaps = np.zeros(n_groups, dtype=np.int64)
    g_gap_start = np.full(n_groups, np.datetime64("NaT"), dtype="datetime64[ns]")
    g_gap_end = np.full(n_groups, np.datetime64("NaT"), dtype="datetime64[ns]")
    gap_rows = np.flatnonzero(miss > 0)
    if len(gap_rows):
        gr_g = gc[gap_rows]
        gr_len = miss[gap_rows]
        sess_row = g_session[gr_g]
        # first missing date = the calendar date after the previous observation
        start_pos = pc[gap_rows - 1] + 1
        end_pos = pc[gap_rows] - 1
        gap_start = np.where(
            sess_row,
            cal_v[np.clip(start_pos, 0, max(len(cal_v) - 1, 0))]
            if len(cal_v)
            else np.datetime64("NaT"),
            _from_days(start_pos),
        )
        gap_end = np.where(
            sess_row,
            cal_v[np.clip(end_pos, 0, max(len(cal_v) - 1, 0))]
            if len(cal_v)
            else np.datetime64("NaT"),
            _from_days(end_pos),
        )
        gaps = pd.DataFrame(
            {
                "symbol": g_symbol[gr_g],
                "source": g_source[gr_g],
                "check": "gap",
                "date": gap_start,
                "end_date": gap_end,
                "value": gr_len.astype("float64"),
                "g": gr_g,
                "len": gr_len,
                "prev": dc[gap_rows - 1],
                "next": dc[gap_rows],
            }
        )
        unit = np.where(sess_row, "session(s)", "day(s)")
        gaps["detail"] = [
            f"{n_} {u} missing between {_fmt_day(p)} and {_fmt_day(q)}"
            for n_, u, p, q in zip(gr_len, unit, gaps["prev"], gaps["next"], strict=True)
        ]
        details.append(gaps)
        top = gaps.sort_values(["g", "len", "date"], ascending=[True, False, True]).drop_duplicates(
            "g"
        )
        g_longest[top["g"].to_numpy()] = top["len"].to_numpy()
        g_gap_start[top["g"].to_numpy()] = top["date"].to_numpy()
        g_gap_end[top["g"].to_numpy()] = top["end_date"].to_numpy()
        g_long_gaps = np.bincount(gr_g[gr_len > th.max_gap], minlength=n_groups)

    # -- price rows: step returns, outliers, split-like jumps, stale runs
    pr_mask = valid & has_price_row
    pg = gid_all[pr_mask]
    pdates = dates[pr_mask]
    adj = price["adj_close"][pr_mask]
    close = price["close"][pr_mask]
    pfirst = _starts(pg)
    adj_prev, close_prev = _prev(adj, pfirst), _prev(close, pfirst)
    date_prev = _prev(pdates, pfirst)
    ratio = step_ratio(adj, adj_prev, close, close_prev)
    with np.errstate(divide="ignore", invalid="ignore"):
        logr = np.log(ratio)

    # outliers: robust z-score per series
    lr = pd.Series(logr)
    grp = lr.groupby(pg)
    med = grp.transform("median").to_numpy()
    dev = np.abs(logr - med)
    dev_s = pd.Series(dev).groupby(pg)
    mad = dev_s.transform("median").to_numpy() * 1.4826
    meanad = (
        dev_s.transform("mean").to_numpy() * 1.2533
    )  # fallback when over half the returns are equal
    count = grp.transform("count").to_numpy()
    scale = np.where(mad > 0, mad, meanad)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(scale > 0, (logr - med) / scale, np.nan)
    out_mask = (count >= th.min_returns) & (np.abs(z) > th.outlier_z)
    out_mask &= ~np.isnan(z)
    g_outliers = np.bincount(pg[out_mask], minlength=n_groups)
    g_max_z = np.zeros(n_groups)
    if out_mask.any():
        idx = np.flatnonzero(out_mask)
        np.maximum.at(g_max_z, pg[idx], np.abs(z[idx]))
        details.append(
            pd.DataFrame(
                {
                    "symbol": g_symbol[pg[idx]],
                    "source": g_source[pg[idx]],
                    "check": "outlier",
                    "date": pdates[idx],
                    "end_date": pd.NaT,
                    "value": ratio[idx] - 1.0,
                    "detail": [
                        f"return {ratio[i] - 1:+.1%} since {_fmt_day(date_prev[i])} "
                        f"(robust z {z[i]:+.1f})"
                        for i in idx
                    ],
                }
            )
        )

    # spikes: an outlier undone by the next step (a bad print, not a market move)
    nxt_same = np.zeros(len(pg), dtype=bool)
    if len(pg) > 1:
        nxt_same[:-1] = pg[1:] == pg[:-1]
    logr_next = np.r_[logr[1:], np.nan] if len(logr) else logr
    big = out_mask & (np.abs(z) > th.spike_z)
    out_next = np.r_[big[1:], False] if len(big) else big
    with np.errstate(invalid="ignore"):
        spike = (
            big
            & out_next
            & nxt_same
            & (np.sign(logr) == -np.sign(logr_next))
            & (np.abs(logr + logr_next) < _SPIKE_REVERSION * np.abs(logr))
        )
    g_spikes = np.bincount(pg[spike], minlength=n_groups)
    if spike.any():
        idx = np.flatnonzero(spike)
        details.append(
            pd.DataFrame(
                {
                    "symbol": g_symbol[pg[idx]],
                    "source": g_source[pg[idx]],
                    "check": "spike",
                    "date": pdates[idx],
                    "end_date": pdates[idx + 1],
                    "value": ratio[idx] - 1.0,
                    "detail": [
                        f"{ratio[i] - 1:+.1%} on {_fmt_day(pdates[i])} undone by "
                        f"{ratio[i + 1] - 1:+.1%} on "
                        f"{_fmt_day(pdates[i + 1])}: a bad print?"
                        for i in idx
                    ],
                }
            )
        )

    # split-like jumps: close jumps by a split ratio relative to adj_close (or alone without it)
    with np.errstate(divide="ignore", invalid="ignore"):
        close_ratio = close / close_prev
        adj_ratio = adj / adj_prev
    factor = np.where(np.isnan(adj_ratio), close_ratio, close_ratio / adj_ratio)
    cand = np.flatnonzero(
        ~np.isnan(factor) & (np.abs(np.log(np.where(factor > 0, factor, 1.0))) > np.log(1.5))
    )
    ks = np.array(
        sorted({float(k) for k in th.split_ratios} | {1.0 / float(k) for k in th.split_ratios})
    )
    split_idx: list[int] = []
    split_k: list[float] = []
    if len(cand):
        rel = np.abs(factor[cand][:, None] / ks[None, :] - 1.0)
        best = rel.argmin(axis=1)
        ok = rel[np.arange(len(cand)), best] <= th.split_tolerance
        split_idx = cand[ok].tolist()
        split_k = ks[best[ok]].tolist()
    g_split = (
        np.bincount(pg[split_idx], minlength=n_groups)
        if split_idx
        else np.zeros(n_groups, dtype=np.int64)
    )
    if split_idx:
        idx = np.asarray(split_idx)
        k = np.asarray(split_k)
        # a price ratio k is a split of 1/k new shares per old share (10:1 split -> price x 0.1)
        labels = [_split_label(1.0 / kk) for kk in k]
        basis = np.where(
            np.isnan(adj_ratio[idx]),
            "no adj_close",
            "adj_close moved " + pd.Series(adj_ratio[idx] - 1).map("{:+.1%}".format).to_numpy(),
        )
        details.append(
            pd.DataFrame(
                {
                    "symbol": g_symbol[pg[idx]],
                    "source": g_source[pg[idx]],
                    "check": "split",
                    "date": pdates[idx],
                    "end_date": pd.NaT,
                    "value": close_ratio[idx],
                    "detail": [
                        f"close x{close_ratio[i]:.4g} since {_fmt_day(date_prev[i])} "
                        f"~ {lab} split ({b})"
                        for i, lab, b in zip(idx, labels, basis, strict=True)
                    ],
                }
            )
        )

    # stale runs: identical consecutive closes (close, else adj_close)
    level = np.where(np.isnan(close), adj, close)
    same = np.zeros(len(level), dtype=bool)
    if len(level):
        same[1:] = level[1:] == level[:-1]
    same[pfirst] = False
    run_id = np.cumsum(~same) - 1
    run_len = np.bincount(run_id) if len(run_id) else np.zeros(0, dtype=np.int64)
    run_start = np.flatnonzero(~same)
    run_end = np.r_[run_start[1:] - 1, len(level) - 1] if len(run_start) else run_start
    long_runs = np.flatnonzero(run_len >= th.stale_run)
    g_stale = np.zeros(n_groups, dtype=np.int64)
    g_stale_longest = np.zeros(n_groups, dtype=np.int64)
    if len(long_runs):
        rs, re_ = run_start[long_runs], run_end[long_runs]
        rg = pg[rs]
        keep = ~np.isin(g_class[rg], list(NO_STALE_CLASSES))
        rs, re_, rg, rl = rs[keep], re_[keep], rg[keep], run_len[long_runs][keep]
        if len(rs):
            g_stale = np.bincount(rg, minlength=n_groups)
            np.maximum.at(g_stale_longest, rg, rl)
            details.append(
                pd.DataFrame(
                    {
                        "symbol": g_symbol[rg],
                        "source": g_source[rg],
                        "check": "stale",
                        "date": pdates[rs],
                        "end_date": pdates[re_],
                        "value": rl.astype("float64"),
                        "detail": [
                            f"{m} identical closes of {level[i]:g}"
                            for m, i in zip(rl, rs, strict=True)
                        ],
                    }
                )
            )

    g_lag = (_days(np.full(n_groups, np.datetime64(as_of, "ns"))) - _days(g_last)).astype(np.int64)

    series = pd.DataFrame(
        {
            "kind": "instrument",
            "symbol": g_symbol,
            "source": g_source,
            "asset_class": g_class,
            "calendar": np.where(g_session, "sessions", "all_days"),
            "first": g_first,
            "last": g_last,
            "rows": g_rows,
            "expected": g_expected,
            "coverage": g_cov,
            "missing": g_missing,
            "longest_gap": g_longest,
            "longest_gap_start": g_gap_start,
            "longest_gap_end": g_gap_end,
            "long_gaps": g_long_gaps,
            "off_calendar": g_off,
            "blank": g_blank,
            "non_positive": g_nonpos,
            "ohlc_bad": g_ohlc,
            "stale_runs": g_stale,
            "longest_stale": g_stale_longest,
            "outliers": g_outliers,
            "max_abs_z": np.where(g_outliers > 0, g_max_z, np.nan),
            "spikes": g_spikes,
            "split_like": g_split,
            "lag_days": g_lag,
            "has_price": g_has_price,
        }
    )
    # only symbols served by several sources are compared; keep just their rows
    g_multi = np.zeros(n_groups, dtype=bool)
    priced = np.flatnonzero(g_has_price)
    if len(priced):
        per_symbol = pd.Series(g_symbol[priced]).value_counts()
        g_multi[priced] = pd.Series(g_symbol[priced]).map(per_symbol).to_numpy() > 1
    keep = g_multi[pg]
    price_rows = pd.DataFrame(
        {
            "symbol": g_symbol[pg[keep]],
            "source": g_source[pg[keep]],
            "date": pdates[keep],
            "adj_close": adj[keep],
            "close": close[keep],
        }
    )
    return series, _details_frame(details), price_rows


class _LazyTake:
    """``values[codes[idx]]`` on demand: per-row strings are only built for flagged rows."""

    __slots__ = ("codes", "values")

    def __init__(self, values: np.ndarray, codes: np.ndarray) -> None:
        self.values, self.codes = values, codes

    def __getitem__(self, idx: Any) -> np.ndarray:
        return self.values[self.codes[idx]]


def _split_label(shares_ratio: float) -> str:
    """``10:1`` for a forward split of 10 new shares per old one, ``1:10`` for a reverse split."""
    if shares_ratio >= 1:
        return f"{shares_ratio:g}:1"
    return f"1:{1 / shares_ratio:g}"


# ---------------------------------------------------------------------------- source comparison
DISAGREEMENT_COLUMNS = (
    "symbol",
    "source_a",
    "source_b",
    "first",
    "last",
    "n_returns",
    "correlation",
    "share_disagree",
    "disagree_first",
    "disagree_last",
    "max_abs_diff",
    "max_diff_date",
    "median_level_ratio",
    "level_ratio_first",
    "level_ratio_last",
    "best_lag",
    "best_lag_correlation",
    "offset_years",
    "flagged",
)
#: A one-day shift must beat the unshifted correlation by this much (and reach
#: _LAG_MIN_CORR) to count.
_LAG_MARGIN = 0.2
_LAG_MIN_CORR = 0.8
#: Fewest common returns in a calendar year for the per-year offset test.
_LAG_MIN_YEAR = 50


def _corr(x: np.ndarray, y: np.ndarray) -> float:
    if len(x) < 3 or np.std(x) == 0 or np.std(y) == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def _lag_corrs(ra: np.ndarray, rb: np.ndarray, sel: np.ndarray) -> dict[int, float]:
    """Correlation of a_t with b_{t-lag} for lag -1, 0, +1 over the rows selected by ``sel``."""
    ok = ~np.isnan(ra) & ~np.isnan(rb) & sel
    okp = ok[1:] & ~np.isnan(rb[:-1])  # a_t, b_{t-1}
    okm = ok[:-1] & ~np.isnan(rb[1:])  # a_t, b_{t+1}
    return {
        0: _corr(ra[ok], rb[ok]),
        1: _corr(ra[1:][okp], rb[:-1][okp]),
        -1: _corr(ra[:-1][okm], rb[1:][okm]),
    }


def _best_lag(corrs: dict[int, float]) -> int:
    """The lag whose correlation clearly beats no lag, else 0."""
    c0 = corrs[0]
    best = max((1, -1), key=lambda k: -np.inf if np.isnan(corrs[k]) else corrs[k])
    cb = corrs[best]
    if np.isnan(cb) or cb < _LAG_MIN_CORR or (not np.isnan(c0) and cb <= c0 + _LAG_MARGIN):
        return 0
    return best


def _offset_years(ra: np.ndarray, rb: np.ndarray, years: np.ndarray) -> str:
    """Years in which b is one observation off a, as ``"2018-2020:+1"`` (runs, comma-separated)."""
    runs: list[list[int]] = []  # [first_year, last_year, lag]
    for year in np.unique(years):
        sel = years == year
        if (sel & ~np.isnan(ra) & ~np.isnan(rb)).sum() < _LAG_MIN_YEAR:
            continue
        lag = _best_lag(_lag_corrs(ra, rb, sel))
        if lag == 0:
            continue
        if runs and runs[-1][2] == lag and runs[-1][1] == year - 1:
            runs[-1][1] = int(year)
        else:
            runs.append([int(year), int(year), lag])
    return ",".join(f"{a}{'' if a == b else f'-{b}'}:{lag:+d}" for a, b, lag in runs)


def _compare_sources(price_rows: pd.DataFrame, th: Thresholds) -> pd.DataFrame:
    """Every pair of sources of one symbol compared on the dates both have a price.

    Returns are compared, not levels: sources adjust on different bases (a
    dividend-adjusted close sits below the raw close), which shifts the level
    ratio but not the daily return. ``best_lag`` (-1, 0 or +1) is a one-row
    shift of b against a that fits clearly better than none (correlation at
    least 0.8 and 0.2 above the unshifted one): +1 means b's row dated t-1
    matches a's row dated t, i.e. b is dated one day early against a (a
    date-convention slip, e.g. a 00:00 UTC snapshot shifted twice); -1 means b
    is one day late. ``offset_years`` repeats the test per calendar year, which
    finds an offset confined to one spliced segment of a source.
    """
    rows: list[dict[str, Any]] = []
    for sym, frame in price_rows.groupby("symbol", sort=True):
        dates, srcs, adj, close = _date_by_source(frame)
        level = np.where(np.isnan(adj), close, adj)
        has_level = ~np.isnan(level)
        for i, a in enumerate(srcs):
            for j in range(i + 1, len(srcs)):
                b = srcs[j]
                both = has_level[:, i] & has_level[:, j]
                if both.sum() < 2:
                    continue
                idx = dates[both]
                ra = _pair_returns(adj[both, i], close[both, i])
                rb = _pair_returns(adj[both, j], close[both, j])
                ok = ~np.isnan(ra) & ~np.isnan(rb)
                lvl = level[both, i] / level[both, j]
                rec: dict[str, Any] = dict.fromkeys(DISAGREEMENT_COLUMNS, np.nan)
                rec.update(
                    symbol=sym,
                    source_a=a,
                    source_b=b,
                    first=idx[0],
                    last=idx[-1],
                    n_returns=int(ok.sum()),
                    median_level_ratio=float(np.nanmedian(lvl)),
                    level_ratio_first=float(lvl[0]),
                    level_ratio_last=float(lvl[-1]),
                    disagree_first=pd.NaT,
                    disagree_last=pd.NaT,
                    max_diff_date=pd.NaT,
                    best_lag=0,
                    offset_years="",
                    flagged=False,
                )
                if ok.sum() >= 2:
                    x, y, when = ra[ok], rb[ok], idx[ok]
                    diff = np.abs(x - y)
                    big = diff > th.disagreement_return
                    rec["share_disagree"] = float(big.mean())
                    if big.any():
                        rec["disagree_first"], rec["disagree_last"] = when[big][0], when[big][-1]
                    j = int(np.argmax(diff))
                    rec["max_abs_diff"], rec["max_diff_date"] = float(diff[j]), when[j]
                    corrs = _lag_corrs(ra, rb, np.ones(len(ra), dtype=bool))
                    rec["correlation"] = corrs[0]
                    rec["best_lag"] = _best_lag(corrs)
                    rec["best_lag_correlation"] = corrs[rec["best_lag"]]
                    rec["offset_years"] = _offset_years(ra, rb, idx.year.to_numpy())
                    if rec["n_returns"] >= th.min_overlap:
                        corr_bad = not (
                            rec["correlation"] >= th.min_correlation
                        )  # NaN counts as bad
                        rec["flagged"] = bool(
                            corr_bad or rec["share_disagree"] > th.disagreement_share
                        )
                rows.append(rec)
    out = pd.DataFrame(rows, columns=list(DISAGREEMENT_COLUMNS))
    for col in ("first", "last", "disagree_first", "disagree_last", "max_diff_date"):
        out[col] = pd.to_datetime(out[col]).astype("datetime64[ns]")
    for col in ("n_returns", "best_lag"):
        out[col] = out[col].astype(np.int64)
    out["flagged"] = out["flagged"].astype(bool)
    for col in ("symbol", "source_a", "source_b", "offset_years"):
        out[col] = out[col].astype(object)
    return out


def _date_by_source(frame: pd.DataFrame) -> tuple[pd.DatetimeIndex, list[str], np.ndarray, np.ndarray]:
    """One symbol's price rows as date x source arrays: ``(dates (D,), sources (S,), adj (D, S), close (D, S))``.

    What ``frame.pivot(index="date", columns="source", values=...)`` gives for
    ``adj_close`` and ``close`` (dates and sources ascending, NaN where a source
    has no row), without two ``pivot`` DataFrames per symbol (they were a
    third of the source comparison's time on the shared data).

    Raises
    ------
    ValueError
        Two rows for one (date, source), as ``pivot`` does.
    """
    date_codes, dates = pd.factorize(frame["date"], sort=True)
    src_codes, srcs = pd.factorize(frame["source"], sort=True)
    n_src = len(srcs)
    cell = date_codes.astype(np.int64) * n_src + src_codes
    if len(np.unique(cell)) < len(cell):
        raise ValueError("Index contains duplicate entries, cannot reshape")
    out = []
    for col in ("adj_close", "close"):
        arr = np.full(len(dates) * n_src, np.nan)
        arr[cell] = frame[col].to_numpy(dtype="float64", na_value=np.nan)
        out.append(arr.reshape(len(dates), n_src))
    return pd.DatetimeIndex(dates), [str(x) for x in srcs], out[0], out[1]


def _pair_returns(adj: np.ndarray, close: np.ndarray) -> np.ndarray:
    """Simple step returns along one array (first NaN); adj_close basis where both rows have it."""
    first = np.zeros(len(adj), dtype=bool)
    if len(adj):
        first[0] = True
    return step_ratio(adj, _prev(adj, first), close, _prev(close, first)) - 1.0


def offset_hint(row: Any) -> str:
    """A date-offset hint: ``"coingecko 1 day early vs binance"`` (whole overlap) or
    ``"yahoo 1 day late vs binance in 2018-2020"`` (some years); ``""`` when none."""

    def phrase(lag: int) -> str:
        return f"{row.source_b} 1 day {'early' if lag > 0 else 'late'} vs {row.source_a}"

    if row.best_lag != 0:
        return phrase(int(row.best_lag))
    if isinstance(row.offset_years, str) and row.offset_years:
        parts = [p.split(":") for p in row.offset_years.split(",")]
        lags = {int(lag) for _, lag in parts}
        if len(lags) == 1:
            return f"{phrase(lags.pop())} in {', '.join(y for y, _ in parts)}"
        return f"{row.source_b} off by 1 day vs {row.source_a} in {row.offset_years}"
    return ""


def level_step(row: Any) -> bool:
    """True when the level ratio a/b moved by over 25 % from the first to the last common date."""
    if not row.level_ratio_first or pd.isna(row.level_ratio_first) or pd.isna(row.level_ratio_last):
        return False
    change = row.level_ratio_last / row.level_ratio_first
    return bool(np.isfinite(change) and not 0.8 < change < 1.25)


def describe_disagreement(row: Any, th: Thresholds, *, short: bool = False) -> str:
    """Text about a source pair (a row of ``QualityReport.disagreements``).

    The long form gives correlation, share and period of disagreeing days,
    the worst day, a one-day date offset and a level step when present; the
    short form (for the ``issues`` column) keeps correlation and the two hints.
    """
    corr = "n/a" if pd.isna(row.correlation) else f"{row.correlation:.2f}"
    hints = []
    if hint := offset_hint(row):
        hints.append(hint + "?")
    if level_step(row):
        hints.append(f"level ratio {row.level_ratio_first:.3g} -> {row.level_ratio_last:.3g}")
    if short:
        return ", ".join([f"corr {corr}", *hints])
    text = (
        f"corr {corr}, {row.share_disagree:.1%} of {row.n_returns} days "
        f"|dr|>{th.disagreement_return:.0%}"
    )
    if not pd.isna(row.disagree_first):
        text += f" ({_fmt_day(row.disagree_first)}..{_fmt_day(row.disagree_last)})"
    text += f", worst {row.max_abs_diff:.1%} on {_fmt_day(row.max_diff_date)}"
    return "; ".join([text, *hints])


# ---------------------------------------------------------------------------- macro
def _infer_frequency(d: np.ndarray) -> str:
    if len(d) < 3:
        return "D"
    spacing = float(np.median(np.diff(_days(d))))
    if spacing <= 3:
        return "D"
    if spacing <= 10:
        return "W"
    if spacing <= 45:
        return "M"
    if spacing <= 120:
        return "Q"
    return "A"


def _check_macro(
    macro: pd.DataFrame,
    universe: Universe | None,
    store_meta: pd.DataFrame,
    th: Thresholds,
    as_of: pd.Timestamp,
) -> pd.DataFrame:
    """Per (symbol, source) macro coverage, longest gap and staleness against native frequency."""
    declared: dict[str, str] = {}
    lags: dict[str, int] = {}
    if len(store_meta) and "frequency" in store_meta:
        for sym, freq in zip(store_meta["symbol"], store_meta["frequency"], strict=True):
            if isinstance(freq, str) and freq in _MACRO_PERIOD:
                declared[sym] = freq
    if universe is not None:
        for m in universe.macro.values():
            declared[m.symbol] = m.frequency
            lags[m.symbol] = int(m.release_lag_days)
    rows: list[dict[str, Any]] = []
    valid = macro[macro["value"].notna()]
    blanks = macro[macro["value"].isna()].groupby(["symbol", "source"]).size()
    for (sym, src), frame in valid.groupby(["symbol", "source"], sort=True):
        d = frame["date"].to_numpy(dtype="datetime64[ns]")
        inferred = _infer_frequency(d)
        freq = declared.get(sym, inferred)
        first, last = pd.Timestamp(d[0]), pd.Timestamp(d[-1])
        if freq == "D":
            expected = int(np.busday_count(first.date(), (last + pd.Timedelta(days=1)).date()))
            weekday = np.is_busday(d.astype("datetime64[D]"))
            dd = d[weekday].astype("datetime64[D]")
            missing = (
                np.busday_count(dd[:-1], dd[1:]) - 1 if len(dd) > 1 else np.zeros(0, dtype=np.int64)
            )
        else:
            if freq == "W":
                expected = (last - first).days // 7 + 1
            elif freq == "M":
                expected = (last.year - first.year) * 12 + last.month - first.month + 1
            elif freq == "Q":
                expected = ((last.year - first.year) * 12 + last.month - first.month) // 3 + 1
            else:
                expected = last.year - first.year + 1
            spacing = np.diff(_days(d))
            missing = np.rint(spacing / _MACRO_PERIOD[freq]).astype(np.int64) - 1
        longest = int(missing.max()) if len(missing) else 0
        gap_at = int(np.argmax(missing)) if len(missing) and longest > 0 else None
        gap_dates = d[weekday] if freq == "D" else d
        lag = lags.get(sym, _MACRO_LAG[freq])
        allowed = _MACRO_PERIOD[freq] + lag + _MACRO_GRACE[freq]
        age = int((as_of - last).days)
        long_gap_limit = th.max_gap if freq == "D" else 1
        rows.append(
            {
                "kind": "macro",
                "symbol": sym,
                "source": src,
                "asset_class": "macro",
                "calendar": freq,
                "first": first,
                "last": last,
                "rows": len(d),
                "expected": int(expected),
                "coverage": min(len(d) / expected, 1.0) if expected > 0 else np.nan,
                "missing": max(int(expected) - len(d), 0),
                "longest_gap": longest,
                "longest_gap_start": pd.Timestamp(gap_dates[gap_at])
                if gap_at is not None
                else pd.NaT,
                "longest_gap_end": pd.Timestamp(gap_dates[gap_at + 1])
                if gap_at is not None
                else pd.NaT,
                "long_gaps": int((missing > long_gap_limit).sum()) if len(missing) else 0,
                "blank": int(blanks.get((sym, src), 0)),
                "lag_days": age,
                "stale_after_days": allowed,
                "stale": age > allowed,
                "frequency_inferred": inferred,
            }
        )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------- grading
def _grade_instruments(series: pd.DataFrame, dis: pd.DataFrame, th: Thresholds) -> pd.DataFrame:
    """Status, ``issues`` (what made it warn/fail) and ``notes`` (informative findings only)."""
    flagged = dis[dis["flagged"]] if len(dis) else dis
    pair_notes: dict[tuple[str, str], list[str]] = {}
    for r in flagged.itertuples(index=False):
        text = describe_disagreement(r, th, short=True)
        pair_notes.setdefault((r.symbol, r.source_a), []).append(
            f"returns disagree with {r.source_b} ({text})"
        )
        pair_notes.setdefault((r.symbol, r.source_b), []).append(
            f"returns disagree with {r.source_a} ({text})"
        )
    statuses, issues, notes, n_dis = [], [], [], []
    for r in series.itertuples(index=False):
        fail: list[str] = []
        warn: list[str] = []
        info: list[str] = []
        if r.non_positive:
            fail.append(f"{r.non_positive} non-positive price rows")
        if r.split_like:
            fail.append(f"{r.split_like} split-like jump(s) in close")
        if not np.isnan(r.coverage) and r.coverage < th.fail_coverage:
            fail.append(f"coverage {r.coverage:.0%}")
        elif not np.isnan(r.coverage) and r.coverage < th.warn_coverage:
            warn.append(f"coverage {r.coverage:.1%}")
        span = f"{_fmt_day(r.longest_gap_start)}..{_fmt_day(r.longest_gap_end)}"
        gap_text = f"longest {r.longest_gap} ({span})"
        if r.long_gaps:
            warn.append(f"{r.long_gaps} gap(s) > {th.max_gap}, {gap_text}")
        elif r.missing:
            info.append(f"{r.missing} missing date(s), {gap_text}")
        if r.off_calendar:
            warn.append(f"{r.off_calendar} rows off the NYSE calendar")
        if r.ohlc_bad:
            warn.append(f"{r.ohlc_bad} inconsistent OHLC rows")
        if r.stale_runs:
            warn.append(f"{r.stale_runs} stale run(s), longest {r.longest_stale}")
        if r.spikes:
            warn.append(f"{r.spikes} spike(s) reversed next day")
        if r.outliers:
            info.append(f"{r.outliers} outlier return(s), max |z| {r.max_abs_z:.0f}")
        if r.blank:
            info.append(f"{r.blank} rows without a price")
        if r.rows == 1:
            info.append(f"single observation on {_fmt_day(r.last)} (a snapshot)")
        elif r.lag_days > th.behind_days:  # a one-row snapshot is not a series that stopped
            warn.append(f"ends {_fmt_day(r.last)}, {r.lag_days} days before as-of")
        dn = pair_notes.get((r.symbol, r.source), [])
        warn.extend(dn)
        n_dis.append(len(dn))
        statuses.append("fail" if fail else ("warn" if warn else "ok"))
        issues.append("; ".join(fail + warn))
        notes.append("; ".join(info))
    out = series.copy()
    out["disagreements"] = np.asarray(n_dis, dtype=np.int64)
    out["status"] = statuses
    out["issues"] = issues
    out["notes"] = notes
    return out


def _grade_macro(macro: pd.DataFrame, th: Thresholds) -> pd.DataFrame:
    if macro.empty:
        return macro
    statuses, issues, notes = [], [], []
    for r in macro.itertuples(index=False):
        warn: list[str] = []
        info: list[str] = []
        if r.stale:
            warn.append(
                f"stale: last {_fmt_day(r.last)}, {r.lag_days} days before as-of "
                f"(allowed {r.stale_after_days})"
            )
        if not np.isnan(r.coverage) and r.coverage < th.macro_warn_coverage:
            warn.append(f"coverage {r.coverage:.1%} of {r.calendar} periods")
        span = f"{_fmt_day(r.longest_gap_start)}..{_fmt_day(r.longest_gap_end)}"
        gap_text = f"longest {r.longest_gap} periods ({span})"
        if r.long_gaps:
            warn.append(f"{r.long_gaps} long gap(s), {gap_text}")
        elif r.longest_gap:
            info.append(f"gaps, {gap_text}")
        if r.blank:
            info.append(f"{r.blank} blank values")
        statuses.append("warn" if warn else "ok")
        issues.append("; ".join(warn))
        notes.append("; ".join(info))
    out = macro.copy()
    out["status"] = statuses
    out["issues"] = issues
    out["notes"] = notes
    return out


# ---------------------------------------------------------------------------- entry point
def check_store(
    store: Any,
    universe: Universe | None = None,
    *,
    symbols: Sequence[str] | None = None,
    start: date | str | None = None,
    end: date | str | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    as_of: date | str | None = None,
) -> QualityReport:
    """Check everything stored (or the given symbols) per instrument and source.

    Parameters
    ----------
    store : rotation.store.Store
        Read only; nothing is written.
    universe : Universe, optional
        Supplies asset classes (hence calendars), macro frequencies and release
        lags, and adds a ``no data`` row for every universe instrument or macro
        series (within ``symbols`` when given) that the store lacks.
    symbols : sequence of str, optional
        Restrict to these symbols (instruments and macro series).
    start, end : date or str, optional
        Restrict to this date window (inclusive).
    thresholds : Thresholds
        Limits used to flag and grade; see :class:`Thresholds`.
    as_of : date or str, optional
        Reference date for ``lag_days`` and macro staleness; default the latest
        date in the checked data.

    Returns
    -------
    QualityReport
        ``to_frame()``: one row per (symbol, source) with status ``ok``/``warn``/
        ``fail``; ``details``: every flagged date; ``disagreements``: every
        pair of overlapping sources of a symbol.

    Raises
    ------
    EmptyStoreError
        The store holds nothing (or nothing for ``symbols``/window).
    ParameterError
        ``start`` after ``end``, or a malformed date.
    """
    t0 = time.perf_counter()
    if not isinstance(thresholds, Thresholds):
        raise ParameterError(
            "thresholds", f"expected a Thresholds instance, got {type(thresholds).__name__}"
        )
    lo = _parse_date("start", start)
    hi = _parse_date("end", end)
    if lo is not None and hi is not None and hi < lo:
        raise ParameterError("end", f"end {hi.date()} is before start {lo.date()}")
    if store.is_empty():
        raise EmptyStoreError(
            f"the store {store.path} is empty: bring data in with `rotation import FILE` "
            "(CSV/Parquet) or `rotation fetch` (providers), then run `rotation check` again"
        )
    syms = list(dict.fromkeys(symbols)) if symbols is not None else None
    obs = store.read_observations(syms, start=lo, end=hi, fields=PRICE_FIELDS)
    mac = store.read_macro(syms, start=lo, end=hi)
    if obs.empty and mac.empty:
        what = f"symbols {', '.join(syms)}" if syms else "any symbol"
        window = (
            f" between {_fmt_day(lo) or 'the start'} and {_fmt_day(hi) or 'the end'}"
            if (lo or hi)
            else ""
        )
        raise EmptyStoreError(
            f"nothing stored for {what}{window}: import or fetch it first "
            "(`rotation import FILE` or `rotation fetch`)"
        )
    meta = store.instruments()

    ref = _parse_date("as_of", as_of)
    if ref is None:
        candidates = [
            x.max() for x in (obs["date"], mac.loc[mac["value"].notna(), "date"]) if len(x)
        ]
        ref = pd.Timestamp(max(candidates)) if candidates else pd.Timestamp.today().normalize()

    if len(obs):
        classes = _asset_classes(meta, universe, obs["symbol"].unique().tolist())
        series, details, price_rows = _check_observations(obs, classes, thresholds, ref)
        dis = _compare_sources(price_rows, thresholds)
    else:
        series = pd.DataFrame()
        details = _details_frame([])
        dis = _compare_sources(
            pd.DataFrame(columns=["symbol", "source", "date", "adj_close", "close"]), thresholds
        )
    flagged = dis[dis["flagged"]] if len(dis) else dis
    if len(flagged):
        extra = pd.DataFrame(
            {
                "symbol": flagged["symbol"].to_numpy(),
                "source": flagged["source_a"].to_numpy(),
                "check": "disagreement",
                "date": flagged["max_diff_date"].to_numpy(),
                "end_date": pd.NaT,
                "value": flagged["max_abs_diff"].to_numpy(),
                "detail": [
                    f"vs {r.source_b}: {describe_disagreement(r, thresholds)}"
                    for r in flagged.itertuples(index=False)
                ],
            }
        )
        details = _details_frame([details, extra])

    inst = _grade_instruments(series, dis, thresholds) if len(series) else series
    macro_meta = meta[meta["kind"] == "macro"] if len(meta) and "kind" in meta else meta
    macro = (
        _grade_macro(_check_macro(mac, universe, macro_meta, thresholds, ref), thresholds)
        if len(mac)
        else pd.DataFrame()
    )

    missing = _missing_rows(universe, syms, inst, macro)
    if len(missing):
        is_macro = missing["kind"] == "macro"
        inst = pd.concat([x for x in (inst, missing[~is_macro]) if len(x)], ignore_index=True)
        macro = pd.concat([x for x in (macro, missing[is_macro]) if len(x)], ignore_index=True)
    return QualityReport(
        instruments=_order(inst) if len(inst) else inst,
        macro=_order(macro) if len(macro) else macro,
        details=details,
        disagreements=dis,
        as_of=ref,
        start=lo,
        end=hi,
        thresholds=thresholds.as_dict(),
        policy=POLICY.describe(),
        elapsed=time.perf_counter() - t0,
    )


def _missing_rows(
    universe: Universe | None, syms: list[str] | None, inst: pd.DataFrame, macro: pd.DataFrame
) -> pd.DataFrame:
    """``no data`` rows for universe members (or requested symbols) absent from the store."""
    have = set(inst["symbol"]) if len(inst) else set()
    have |= set(macro["symbol"]) if len(macro) else set()
    wanted: dict[str, str] = {}
    if universe is not None:
        for s, i in universe.instruments.items():
            wanted[s] = i.asset_class
        for s in universe.macro:
            wanted[s] = "macro"
    if syms is not None:
        wanted = {s: wanted.get(s, "unknown") for s in syms}
    rows = [
        {
            "kind": "macro" if cls == "macro" else "instrument",
            "symbol": s,
            "source": "",
            "asset_class": cls,
            "rows": 0,
            "status": "warn",
            "issues": "no data in store",
            "notes": "",
        }
        for s, cls in wanted.items()
        if s not in have
    ]
    return pd.DataFrame(rows)


def _order(frame: pd.DataFrame) -> pd.DataFrame:
    """Worst first: fail, warn, ok; present before absent series; most issues; symbol, source."""
    n_issues = frame["issues"].fillna("").map(lambda s: 0 if not s else s.count(";") + 1)
    has_data = pd.to_numeric(frame["rows"], errors="coerce").fillna(0) > 0
    key = frame.assign(_r=frame["status"].map(status_rank), _d=has_data, _n=n_issues)
    key = key.sort_values(
        ["_r", "_d", "_n", "symbol", "source"],
        ascending=[False, False, False, True, True],
        kind="stable",
    )
    return key.drop(columns=["_r", "_d", "_n"]).reset_index(drop=True)


def _parse_date(name: str, value: date | str | None) -> pd.Timestamp | None:
    if value is None:
        return None
    try:
        return pd.Timestamp(value).normalize()
    except (ValueError, TypeError) as exc:
        raise ParameterError(name, f"not a date: {value!r} ({exc})") from None
