"""Macro drivers: net liquidity, HAC regressions on rates/USD/liquidity, returns by rate regime.

No look-ahead
-------------
Macro data are used only once published. A value observed on date *d* is usable
from ``d + release_lag_days`` (the universe's :class:`~rotation.universe.MacroSeries`
lag) and carried forward until the next release, never longer than a staleness
limit (D 7, W 14, M 62, Q 190 days), so a discontinued series turns NaN rather
than going flat. :func:`rotation.panel.macro_panel` does this for stored data;
:func:`align_releases` does the same for raw frames given here.

Inference
---------
All standard errors are Newey-West HAC from statsmodels
(``OLS(...).fit(cov_type="HAC", cov_kwds={"maxlags": L, "use_correction": True}, use_t=True)``):
Bartlett kernel, the small-sample factor ``n / (n - k)``, t distribution with
``n - k`` degrees of freedom. Default lag ``L = floor(4 (n / 100)^(2/9))``
(Newey and West 1994's rule of thumb; 4 lags for 100-400 weekly rows), where
``n`` is the regression's number of observations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from rotation._typing import ReturnFrame, SeriesOrFrame
from rotation.analytics.comovement import newey_west_lags
from rotation.analytics._validate import as_frame, check_int
from rotation.errors import DataError, ParameterError

__all__ = [
    "NetLiquidity",
    "RegimeReturns",
    "RollingSensitivity",
    "SensitivityResult",
    "TGA_SERIES",
    "align_releases",
    "macro_factors",
    "macro_sensitivity",
    "net_liquidity",
    "ols_hac",
    "rate_regime",
    "returns_by_regime",
    "rolling_macro_sensitivity",
]

#: Treasury General Account series, in order of preference: Wednesday level
#: (matches WALCL's Wednesday level), then the week average.
TGA_SERIES: tuple[str, ...] = ("WDTGAL", "WTREGEN")

_STALE_DAYS = {"D": 7, "W": 14, "M": 62, "Q": 190}


# ----------------------------------------------------------------------------- HAC OLS
def ols_hac(y: np.ndarray, X: np.ndarray, maxlags: int, alpha: float = 0.05) -> dict[str, Any]:
    """OLS of ``y`` (n,) on ``X`` (n, k) with Newey-West HAC covariance (statsmodels).

    Returns
    -------
    dict
        ``params``, ``bse``, ``tvalues``, ``pvalues`` (k,), ``ci`` (k, 2),
        ``cov`` (k, k), ``rsquared``, ``nobs``, ``df_resid``, ``result`` (the
        statsmodels results object, for further tests).
    """
    # the submodule, not statsmodels.api (which also imports graphics, datasets, ...: ~0.3-0.9 s)
    from statsmodels.regression.linear_model import OLS

    res = OLS(np.asarray(y, dtype=float), np.asarray(X, dtype=float)).fit(
        cov_type="HAC", cov_kwds={"maxlags": int(maxlags), "use_correction": True}, use_t=True
    )
    return {
        "params": np.asarray(res.params),
        "bse": np.asarray(res.bse),
        "tvalues": np.asarray(res.tvalues),
        "pvalues": np.asarray(res.pvalues),
        "ci": np.asarray(res.conf_int(alpha=alpha)),
        "cov": np.asarray(res.cov_params()),
        "rsquared": float(res.rsquared),
        "nobs": int(res.nobs),
        "df_resid": float(res.df_resid),
        "result": res,
    }


# ----------------------------------------------------------------------------- validation
def _check_alpha(alpha: float) -> float:
    if not 0.0 < float(alpha) < 1.0:
        raise ParameterError("alpha", f"must be in (0, 1), got {alpha}")
    return float(alpha)


def _check_int(parameter: str, value: int | None, minimum: int) -> int | None:
    return None if value is None else check_int(parameter, value, minimum)


def _infer_frequency(index: pd.DatetimeIndex) -> str:
    if len(index) < 3:
        return "M"
    # via timedeltas: asi8 is in the index's own unit (ns, us, s...) under pandas >= 2
    median_days = float(np.median((index[1:] - index[:-1]).total_seconds())) / 86_400.0
    if median_days <= 3:
        return "D"
    if median_days <= 10:
        return "W"
    if median_days <= 45:
        return "M"
    return "Q"


# ----------------------------------------------------------------------------- alignment
def align_releases(
    raw: pd.DataFrame,
    lags: Mapping[str, int],
    *,
    index: pd.DatetimeIndex | None = None,
    max_age_days: Mapping[str, int] | int | None = None,
) -> pd.DataFrame:
    """Put raw macro observations on ``index`` as they were known (publication lags applied).

    A value observed on date *d* is usable from ``d + lags[symbol]`` days and is
    carried forward to later rows of ``index`` until the next value becomes
    usable, for at most ``max_age_days`` days after it became usable.

    Parameters
    ----------
    raw : DataFrame
        Either long ``symbol, date, value`` (``Store.read_macro`` output; an
        extra ``source`` column is allowed but each (symbol, date) must appear
        once), or wide: a ``DatetimeIndex`` of observation dates and one column
        per series. Native units; NaN values are ignored.
    lags : mapping of str -> int
        Release lag in calendar days for every series to align (required for each).
    index : DatetimeIndex, optional
        Rows of the output (e.g. ``panel.index``); default every calendar day
        from the first to the last usable date.
    max_age_days : int or mapping, optional
        Staleness limit in days; default by each series' inferred frequency
        (D 7, W 14, M 62, Q 190), the rule of :func:`rotation.panel.macro_panel`.

    Returns
    -------
    DataFrame (T, M)
        Native units, columns in the order of ``lags``.

    Raises
    ------
    ParameterError
        Missing lag, malformed frame, duplicate observations.
    """
    wide = _raw_to_wide(raw)
    if not isinstance(lags, Mapping):
        raise ParameterError("lags", "must be a mapping of series -> release lag in days")
    missing = [s for s in wide.columns if s not in lags]
    if missing:
        raise ParameterError("lags", f"no release lag given for {', '.join(missing)}")
    for sym, lag in lags.items():
        if isinstance(lag, bool) or not isinstance(lag, int | np.integer) or lag < 0:
            raise ParameterError("lags", f"'{sym}': lag must be a non-negative integer number of days, got {lag!r}")
    wanted = [s for s in lags if s in wide.columns]
    absent = [s for s in lags if s not in wide.columns]
    if absent:
        raise ParameterError("raw", f"no observations for {', '.join(absent)}")
    series: dict[str, tuple[pd.Series, int]] = {}
    for sym in wanted:
        s = wide[sym].dropna()
        if s.empty:
            raise DataError(f"align_releases: series '{sym}' has no values")
        if isinstance(max_age_days, Mapping):
            stale = max_age_days.get(sym, _STALE_DAYS[_infer_frequency(s.index)])
        elif max_age_days is None:
            stale = _STALE_DAYS[_infer_frequency(s.index)]
        else:
            stale = max_age_days
        s.index = s.index + pd.Timedelta(days=int(lags[sym]))
        series[sym] = (s, int(stale))
    if index is None:
        lo = min(s.index.min() for s, _ in series.values())
        hi = max(s.index.max() for s, _ in series.values())
        index = pd.DatetimeIndex(pd.date_range(lo, hi, freq="D"), name="date")
    elif not isinstance(index, pd.DatetimeIndex):
        raise ParameterError("index", "must be a DatetimeIndex")
    out = pd.DataFrame(index=index, dtype="float64")
    for sym, (s, stale) in series.items():
        pos = s.index.searchsorted(index, side="right") - 1
        ok = pos >= 0
        values = np.full(len(index), np.nan)
        values[ok] = s.to_numpy()[pos[ok]]
        age = np.full(len(index), np.inf)
        age[ok] = (index[ok] - s.index[pos[ok]]).days
        values[age > stale] = np.nan
        out[sym] = values
    out.index.name = "date"
    return out


def _raw_to_wide(raw: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(raw, pd.DataFrame):
        raise ParameterError("raw", f"expected a DataFrame, got {type(raw).__name__}")
    if {"symbol", "date", "value"} <= set(raw.columns):
        dup = raw.duplicated(["symbol", "date"], keep=False)
        if dup.any():
            first = raw.loc[dup, ["symbol", "date"]].iloc[0]
            raise ParameterError(
                "raw",
                f"{int(dup.sum())} rows share a (symbol, date), first ({first['symbol']}, "
                f"{pd.Timestamp(first['date']).date()}): keep one source per series "
                "(Store.read_macro(sources=[...])) or use rotation.panel.macro_panel",
            )
        dates = pd.to_datetime(raw["date"])
        wide = (
            pd.DataFrame({"symbol": raw["symbol"].astype(str), "date": dates, "value": pd.to_numeric(raw["value"])})
            .pivot(index="date", columns="symbol", values="value")
            .sort_index()
        )
        wide.columns.name = None
        return wide.astype("float64")
    return as_frame(raw, "raw")


# ----------------------------------------------------------------------------- net liquidity
@dataclass(frozen=True)
class NetLiquidity:
    """Fed net liquidity in USD.

    Attributes
    ----------
    level : Series (T,)
        :math:`NL_t = \\text{WALCL}_t - \\text{TGA}_t - \\text{RRP}_t` in USD; NaN
        where any component is unknown (never a partial sum).
    components : DataFrame (T, 3)
        ``fed_assets``, ``tga``, ``reverse_repo`` in USD, as known on each row.
    tga_series : Series (T,)
        Which TGA series supplied each row (``WDTGAL`` / ``WTREGEN`` / NaN).
    """

    level: pd.Series
    components: pd.DataFrame
    tga_series: pd.Series

    def to_frame(self) -> pd.DataFrame:
        """Per component and net: first/last date, first/last value, change and range, in USD billions."""
        frame = pd.concat([self.components, self.level.rename("net_liquidity")], axis=1)
        rows = {}
        for col in frame.columns:
            s = frame[col].dropna()
            if s.empty:
                rows[col] = {"first_date": pd.NaT, "last_date": pd.NaT}
                continue
            rows[col] = {
                "first_date": s.index[0],
                "last_date": s.index[-1],
                "first_bn": s.iloc[0] / 1e9,
                "last_bn": s.iloc[-1] / 1e9,
                "change_bn": (s.iloc[-1] - s.iloc[0]) / 1e9,
                "min_bn": s.min() / 1e9,
                "max_bn": s.max() / 1e9,
            }
        out = pd.DataFrame.from_dict(rows, orient="index")
        out.index.name = "series"
        return out


def _universe_specs(universe: Any, attr: str) -> dict[str, Any]:
    return {sym: getattr(spec, attr) for sym, spec in universe.macro.items()}


def net_liquidity(
    data: pd.DataFrame,
    *,
    scales: Mapping[str, float] | None = None,
    lags: Mapping[str, int] | None = None,
    universe: Any = None,
    index: pd.DatetimeIndex | None = None,
    tga: str = "auto",
    fed_assets: str = "WALCL",
    reverse_repo: str = "RRPONTSYD",
) -> NetLiquidity:
    """Net liquidity = Fed total assets - Treasury General Account - overnight reverse repo (USD).

    .. math:: NL_t = s_W \\, \\text{WALCL}_t - s_T \\, \\text{TGA}_t - s_R \\, \\text{RRPONTSYD}_t

    with each series as published by row ``t`` and :math:`s` its native-to-USD
    scale (WALCL and WDTGAL: millions, ``1e6``; WTREGEN and RRPONTSYD:
    billions, ``1e9``).

    Two inputs are accepted:

    * **aligned** (wide, rows = dates, columns = series), e.g.
      :func:`rotation.panel.macro_panel` output. Publication lags are assumed
      applied already. ``scales`` converts native units (``macro_panel(...,
      scaled=False)``); omit it for frames already in USD (``scaled=True``).
    * **raw** long ``symbol, date, value`` observations (``Store.read_macro``):
      ``lags`` (or ``universe``) is required and :func:`align_releases` puts
      them on ``index`` (default: every calendar day) before scaling.

    Parameters
    ----------
    data : DataFrame
        Aligned wide frame or raw long frame, as above.
    scales : mapping of str -> float, optional
        Native units -> USD multipliers per series. Default: from ``universe``
        if given, else 1 for aligned input (already USD); raw input needs scales
        or a universe.
    lags : mapping of str -> int, optional
        Release lags in days for raw input (default from ``universe``).
    universe : Universe, optional
        Supplies ``scale`` and ``release_lag_days`` of each macro series.
    index : DatetimeIndex, optional
        Rows for raw input.
    tga : {"auto", "WDTGAL", "WTREGEN"} or str
        TGA series. ``auto``: the Wednesday level WDTGAL where known, else the
        week average WTREGEN (they differ by days of intra-week movement; the
        choice per row is in ``tga_series``).
    fed_assets, reverse_repo : str
        Column names of Fed total assets and ON RRP.

    Returns
    -------
    NetLiquidity

    Raises
    ------
    ParameterError
        Missing series, missing scales/lags for raw input.
    DataError
        Units that cannot be USD (e.g. an unscaled WALCL in millions), or no row
        where all three components are known.
    """
    if not isinstance(data, pd.DataFrame):
        raise ParameterError("data", f"expected a DataFrame, got {type(data).__name__}")
    is_raw = {"symbol", "date", "value"} <= set(data.columns)
    if universe is not None:
        scales = {**_universe_specs(universe, "scale"), **(scales or {})}
        lags = {**_universe_specs(universe, "release_lag_days"), **(lags or {})}
    if tga == "auto":
        tga_names = list(TGA_SERIES)
    elif isinstance(tga, str):
        tga_names = [tga]
    else:
        raise ParameterError("tga", f"must be 'auto' or a series name, got {tga!r}")
    if is_raw:
        present = set(data["symbol"].astype(str))
        if lags is None:
            raise ParameterError("lags", "raw observations need release lags (lags=... or universe=...)")
        if scales is None:
            raise ParameterError("scales", "raw observations are in native units: give scales=... or universe=...")
        needed = [fed_assets, reverse_repo] + [t for t in tga_names if t in present]
        sub = data[data["symbol"].astype(str).isin(needed)]
        missing_lag = [s for s in needed if s in present and s not in lags]
        if missing_lag:
            raise ParameterError("lags", f"no release lag for {', '.join(missing_lag)}")
        aligned = align_releases(sub, {s: lags[s] for s in needed if s in present}, index=index)
    else:
        aligned = as_frame(data, "data")
    missing = [s for s in (fed_assets, reverse_repo) if s not in aligned.columns]
    tga_present = [t for t in tga_names if t in aligned.columns]
    if not tga_present:
        missing.append(" or ".join(tga_names))
    if missing:
        raise ParameterError("data", f"missing series: {', '.join(missing)} (have {', '.join(map(str, aligned.columns))})")
    scales = dict(scales or {})
    if is_raw or scales:
        absent = [s for s in [fed_assets, reverse_repo, *tga_present] if s not in scales]
        if absent:
            raise ParameterError("scales", f"no scale for {', '.join(absent)}")

    def usd(sym: str) -> pd.Series:
        return aligned[sym] * float(scales.get(sym, 1.0))

    walcl, rrp = usd(fed_assets), usd(reverse_repo)
    tga_usd = pd.Series(np.nan, index=aligned.index)
    source = pd.Series(np.nan, index=aligned.index, dtype=object)
    for name in tga_present:  # preference order
        take = tga_usd.isna() & aligned[name].notna()
        tga_usd = tga_usd.where(~take, usd(name))
        source = source.where(~take, name)
    _check_usd(walcl, "fed assets", fed_assets, minimum=1e11)
    _check_usd(tga_usd, "TGA", "/".join(tga_present), minimum=1e9)
    _check_usd(rrp, "reverse repo", reverse_repo, minimum=1e6)
    level = (walcl - tga_usd - rrp).rename("net_liquidity")
    if not level.notna().any():
        raise DataError(
            "net liquidity: no row where fed assets, TGA and reverse repo are all known "
            f"({fed_assets}: {walcl.notna().sum()} rows, TGA: {tga_usd.notna().sum()}, "
            f"{reverse_repo}: {rrp.notna().sum()})"
        )
    components = pd.DataFrame({"fed_assets": walcl, "tga": tga_usd, "reverse_repo": rrp})
    return NetLiquidity(level=level, components=components, tga_series=source.rename("tga_series"))


def _check_usd(values: pd.Series, what: str, symbol: str, *, minimum: float) -> None:
    """Refuse magnitudes that cannot be USD: a missed native->USD scale is off by 1e6-1e9."""
    v = values.dropna()
    v = v[v > 0]
    if v.empty:
        return
    if float(v.max()) < minimum:
        raise DataError(
            f"net liquidity: {what} ({symbol}) peaks at {float(v.max()):,.0f}, far too small for USD; "
            "the series looks like native units (millions/billions): pass scales=... or universe=..., "
            "or use macro_panel(..., scaled=True)"
        )


# ----------------------------------------------------------------------------- factors
def macro_factors(
    macro: pd.DataFrame,
    *,
    rates: Sequence[str] = ("DGS2", "DFII10"),
    usd: str | None = "DTWEXBGS",
    net_liquidity: pd.Series | NetLiquidity | None = None,
) -> pd.DataFrame:
    """Per-row factor changes for macro regressions.

    For each row ``t`` of ``macro`` (e.g. a weekly ``macro_panel``):

    * ``d_<rate>`` = :math:`y_t - y_{t-1}` in percentage points (yields);
    * ``r_USD`` = :math:`U_t / U_{t-1} - 1` of the dollar index (fraction);
    * ``r_NET_LIQUIDITY`` = :math:`NL_t / NL_{t-1} - 1` (fraction).

    Parameters
    ----------
    macro : DataFrame (T, M)
        Aligned macro values (published-as-of each row).
    rates : sequence of str
        Yield columns, differenced.
    usd : str or None
        Dollar index column (``DTWEXBGS`` or ``DXY``); None to leave out.
    net_liquidity : Series or NetLiquidity, optional
        Net liquidity level on the same rows (reindexed to them).

    Returns
    -------
    DataFrame (T, K)
        First row NaN; NaN where either endpoint is missing.

    Raises
    ------
    ParameterError
        A requested column is missing.
    """
    m = as_frame(macro, "macro")
    cols = [*rates] + ([usd] if usd else [])
    missing = [c for c in cols if c not in m.columns]
    if missing:
        raise ParameterError("macro", f"missing columns {missing} (have {', '.join(map(str, m.columns))})")
    out = pd.DataFrame(index=m.index)
    for r in rates:
        out[f"d_{r}"] = m[r] - m[r].shift(1)
    if usd:
        out["r_USD"] = m[usd] / m[usd].shift(1) - 1.0
    if net_liquidity is not None:
        nl = net_liquidity.level if isinstance(net_liquidity, NetLiquidity) else net_liquidity
        nl = as_frame(nl, "net_liquidity").iloc[:, 0].reindex(m.index)
        out["r_NET_LIQUIDITY"] = nl / nl.shift(1) - 1.0
    return out


# ----------------------------------------------------------------------------- regressions
@dataclass(frozen=True)
class SensitivityResult:
    """Full-window HAC regressions of each return series on the same factors.

    Attributes
    ----------
    coef, se, t, p, ci_low, ci_high : DataFrame (N, K+1)
        Rows = return series, columns = ``const`` then the factors. Returns are
        fractions, so a coefficient is the return per unit of factor change
        (per percentage point of yield, per unit fractional change of USD or
        net liquidity). NaN for series with too few observations.
    r2 : Series (N,)
    nobs : Series (N,)
    hac_lags : Series (N,)
    start, end : Series (N,)
        First and last date used per series.
    alpha : float
    notes : tuple of str
    """

    coef: pd.DataFrame
    se: pd.DataFrame
    t: pd.DataFrame
    p: pd.DataFrame
    ci_low: pd.DataFrame
    ci_high: pd.DataFrame
    r2: pd.Series
    nobs: pd.Series
    hac_lags: pd.Series
    start: pd.Series
    end: pd.Series
    alpha: float
    notes: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: ``series, term, coef, se, t, p, ci_low, ci_high, r2, nobs, hac_lags, start, end``."""
        parts = {
            "coef": self.coef, "se": self.se, "t": self.t, "p": self.p,
            "ci_low": self.ci_low, "ci_high": self.ci_high,
        }
        long = pd.concat({k: v.stack(future_stack=True) for k, v in parts.items()}, axis=1)
        long.index = long.index.set_names(["series", "term"])
        long = long.reset_index()
        for name, s in (("r2", self.r2), ("nobs", self.nobs), ("hac_lags", self.hac_lags),
                        ("start", self.start), ("end", self.end)):
            long[name] = long["series"].map(s)
        return long


def _align_xy(returns: SeriesOrFrame, factors: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    y = as_frame(returns, "returns")
    X = as_frame(factors, "factors")
    if X.shape[1] == 0:
        raise ParameterError("factors", "has no columns")
    if "const" in X.columns:
        raise ParameterError("factors", "'const' is added automatically; remove that column")
    common = y.index.intersection(X.index)
    if len(common) == 0:
        raise DataError("returns and factors share no dates (align them on one index, e.g. the weekly panel's)")
    return y.loc[common], X.loc[common]


def macro_sensitivity(
    returns: ReturnFrame | pd.Series,
    factors: pd.DataFrame,
    *,
    hac_lags: int | None = None,
    alpha: float = 0.05,
    min_obs: int = 30,
) -> SensitivityResult:
    """Full-window OLS of each return series on macro factor changes, HAC standard errors.

    .. math:: r_{i,t} = a_i + \\sum_k \\beta_{i,k} f_{k,t} + \\varepsilon_{i,t}

    estimated per series on the dates where the series and every factor are
    known (listwise deletion), with statsmodels OLS and Newey-West covariance
    (see the module docstring: Bartlett kernel, ``n/(n-k)`` correction, t
    distribution, lags ``floor(4 (n/100)^(2/9))`` unless ``hac_lags`` is given).

    Parameters
    ----------
    returns : DataFrame (T, N) or Series
        Simple returns, typically weekly basket returns (``panel.basket_returns``
        on a weekly panel).
    factors : DataFrame (T, K)
        Factor changes on the same dates (:func:`macro_factors`); rows are
        matched by date.
    hac_lags : int, optional
        Fixed Newey-West lags for every series.
    alpha : float
        1 - confidence level of the intervals.
    min_obs : int
        Series with fewer usable rows than this (or than K + 2) get NaN
        estimates and a note.

    Returns
    -------
    SensitivityResult

    Raises
    ------
    DataError
        No series has enough observations.
    """
    alpha = _check_alpha(alpha)
    _check_int("hac_lags", hac_lags, 0)
    min_obs = int(_check_int("min_obs", min_obs, 3) or 3)
    y, X = _align_xy(returns, factors)
    terms = ["const", *map(str, X.columns)]
    k = len(terms)
    shape = (y.shape[1], k)
    arrays = {n: np.full(shape, np.nan) for n in ("coef", "se", "t", "p", "lo", "hi")}
    r2 = np.full(y.shape[1], np.nan)
    nobs = np.zeros(y.shape[1], dtype=int)
    lags_used = np.full(y.shape[1], -1, dtype=int)
    start: list[pd.Timestamp] = []
    end: list[pd.Timestamp] = []
    notes: list[str] = []
    xv = X.to_numpy()
    x_ok = np.isfinite(xv).all(axis=1)
    # one statsmodels fit per series: each has its own valid rows (late listings, gaps)
    for j, col in enumerate(y.columns):
        yv = y[col].to_numpy()
        ok = x_ok & np.isfinite(yv)
        n = int(ok.sum())
        nobs[j] = n
        dates = y.index[ok]
        start.append(dates[0] if n else pd.NaT)
        end.append(dates[-1] if n else pd.NaT)
        if n < max(min_obs, k + 2):
            notes.append(f"{col}: {n} usable rows, fewer than {max(min_obs, k + 2)}: not estimated")
            continue
        design = np.column_stack([np.ones(n), xv[ok]])
        if np.linalg.matrix_rank(design) < k:
            notes.append(f"{col}: factors are collinear on its rows (a constant factor?): not estimated")
            continue
        L = newey_west_lags(n) if hac_lags is None else hac_lags
        res = ols_hac(yv[ok], design, L, alpha)
        arrays["coef"][j], arrays["se"][j] = res["params"], res["bse"]
        arrays["t"][j], arrays["p"][j] = res["tvalues"], res["pvalues"]
        arrays["lo"][j], arrays["hi"][j] = res["ci"][:, 0], res["ci"][:, 1]
        r2[j] = res["rsquared"]
        lags_used[j] = L
    if not np.isfinite(arrays["coef"]).any():
        raise DataError("macro_sensitivity: no series has enough joint observations with the factors; " + "; ".join(notes))

    def f(a: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(a, index=pd.Index(y.columns, name="series"), columns=terms)

    idx = pd.Index(y.columns, name="series")
    return SensitivityResult(
        coef=f(arrays["coef"]), se=f(arrays["se"]), t=f(arrays["t"]), p=f(arrays["p"]),
        ci_low=f(arrays["lo"]), ci_high=f(arrays["hi"]),
        r2=pd.Series(r2, index=idx, name="r2"),
        nobs=pd.Series(nobs, index=idx, name="nobs"),
        hac_lags=pd.Series(np.where(lags_used >= 0, lags_used, np.nan), index=idx, name="hac_lags"),
        start=pd.Series(pd.DatetimeIndex(start), index=idx, name="start"),
        end=pd.Series(pd.DatetimeIndex(end), index=idx, name="end"),
        alpha=alpha,
        notes=tuple(notes),
    )


@dataclass(frozen=True)
class RollingSensitivity:
    """Rolling-window OLS coefficients (and optional HAC errors) of each series on the factors.

    Attributes
    ----------
    params : dict of str -> DataFrame (T, N)
        Term (``const`` and each factor) -> coefficient estimated on the trailing
        window ending at each row.
    nobs : DataFrame (T, N)
        Usable observations in each window.
    se, t : dict of str -> DataFrame (T, N) or None
        HAC standard errors and t-stats (only when requested).
    window, min_obs : int
    """

    params: dict[str, pd.DataFrame]
    nobs: pd.DataFrame
    window: int
    min_obs: int
    se: dict[str, pd.DataFrame] | None = None
    t: dict[str, pd.DataFrame] | None = None
    terms: tuple[str, ...] = field(default=())

    def beta(self, term: str) -> pd.DataFrame:
        """(T, N) rolling coefficient of ``term``."""
        if term not in self.params:
            raise ParameterError("term", f"unknown term '{term}' (have {', '.join(self.params)})")
        return self.params[term]

    def to_frame(self) -> pd.DataFrame:
        """Latest estimate per series and term: ``series, term, date, coef, (se, t,) nobs``."""
        rows = []
        for term, frame in self.params.items():
            for col in frame.columns:
                s = frame[col].dropna()
                if s.empty:
                    rows.append({"series": col, "term": term, "date": pd.NaT, "coef": np.nan, "nobs": 0})
                    continue
                d = s.index[-1]
                row = {"series": col, "term": term, "date": d, "coef": float(s.iloc[-1]),
                       "nobs": int(self.nobs.at[d, col])}
                if self.se is not None and self.t is not None:
                    row["se"] = float(self.se[term].at[d, col])
                    row["t"] = float(self.t[term].at[d, col])
                rows.append(row)
        return pd.DataFrame(rows)


def rolling_macro_sensitivity(
    returns: ReturnFrame | pd.Series,
    factors: pd.DataFrame,
    *,
    window: int = 104,
    min_obs: int | None = None,
    se: bool = False,
    hac_lags: int | None = None,
) -> RollingSensitivity:
    """Rolling OLS betas of each return series on the factors over trailing windows.

    For each row ``t`` and series ``i``, OLS of :math:`r_i` on a constant and the
    factors over rows ``t-w+1..t`` where both are known:
    :math:`\\hat\\beta_{i,t} = (\\sum_s v_{is} x_s x_s')^{-1} \\sum_s v_{is} x_s r_{is}`,
    :math:`v_{is}` = 1 when row ``s`` is usable for series ``i``.

    The coefficients are computed for all series and rows at once: windowed
    sums of :math:`x x'` and :math:`x r` come from differences of cumulative
    sums (causal, so past values never change when rows are appended) and the
    (T, N) systems are solved in one batched ``numpy.linalg.solve``. HAC
    standard errors (``se=True``) need each window's residual autocovariances,
    so they are a documented loop over windows calling statsmodels
    (:func:`ols_hac`); expect about a millisecond per window and series.

    Parameters
    ----------
    returns : DataFrame (T, N) or Series
    factors : DataFrame (T, K)
    window : int
        Rows per window (default 104 weeks = 2 years).
    min_obs : int, optional
        Minimum usable rows in a window (default ``window // 2``, at least K + 2).
    se : bool
        Also compute HAC standard errors and t-stats.
    hac_lags : int, optional
        Lags for those errors (default ``floor(4 (n/100)^(2/9))`` of each window's n).

    Returns
    -------
    RollingSensitivity
        NaN where a window has fewer than ``min_obs`` usable rows or a singular design.
    """
    w = int(_check_int("window", window, 3) or 3)
    _check_int("hac_lags", hac_lags, 0)
    y, X = _align_xy(returns, factors)
    terms = ["const", *map(str, X.columns)]
    k = len(terms)
    mo = max(w // 2, k + 2) if min_obs is None else int(_check_int("min_obs", min_obs, k + 1) or k + 1)
    if mo > w:
        raise ParameterError("min_obs", f"must not exceed window ({w}), got {mo}")
    T, N = y.shape
    xv = np.column_stack([np.ones(T), X.to_numpy()])  # (T, k)
    yv = y.to_numpy()  # (T, N)
    usable = np.isfinite(xv).all(axis=1)[:, None] & np.isfinite(yv)  # (T, N)
    xz = np.where(np.isfinite(xv), xv, 0.0)
    yz = np.where(usable, yv, 0.0)
    v = usable.astype(float)
    # per-row contributions, masked per series: (T, N, k, k) and (T, N, k)
    xx = np.einsum("ti,tj->tij", xz, xz)
    XX = v[:, :, None, None] * xx[:, None, :, :]
    XY = (v * yz)[:, :, None] * xz[:, None, :]

    def windowed(a: np.ndarray) -> np.ndarray:
        c = np.cumsum(a, axis=0)
        out = c.copy()
        out[w:] = c[w:] - c[:-w]
        return out

    sXX, sXY, n = windowed(XX), windowed(XY), windowed(v)
    params = np.full((T, N, k), np.nan)
    ok = n >= mo
    if ok.any():
        A, b = sXX[ok], sXY[ok]
        # solve only well-conditioned systems; singular windows stay NaN
        cond = np.linalg.cond(A)
        good = np.isfinite(cond) & (cond < 1e12)
        sol = np.full(b.shape, np.nan)
        if good.any():
            sol[good] = np.linalg.solve(A[good], b[good][..., None])[..., 0]
        params[ok] = sol
    idx, cols = y.index, y.columns
    pframes = {term: pd.DataFrame(params[:, :, i], index=idx, columns=cols) for i, term in enumerate(terms)}
    nobs = pd.DataFrame(n.round().astype(int), index=idx, columns=cols)
    se_frames = t_frames = None
    if se:
        ses = np.full((T, N, k), np.nan)
        ts = np.full((T, N, k), np.nan)
        for j in range(N):
            for t in np.nonzero(np.isfinite(params[:, j, 0]))[0]:
                lo = max(0, t - w + 1)
                rows = np.nonzero(usable[lo : t + 1, j])[0] + lo
                L = newey_west_lags(len(rows)) if hac_lags is None else hac_lags
                res = ols_hac(yv[rows, j], xv[rows], L)
                ses[t, j], ts[t, j] = res["bse"], res["tvalues"]
        se_frames = {term: pd.DataFrame(ses[:, :, i], index=idx, columns=cols) for i, term in enumerate(terms)}
        t_frames = {term: pd.DataFrame(ts[:, :, i], index=idx, columns=cols) for i, term in enumerate(terms)}
    return RollingSensitivity(
        params=pframes, nobs=nobs, window=w, min_obs=mo, se=se_frames, t=t_frames, terms=tuple(terms)
    )


# ----------------------------------------------------------------------------- regimes
def rate_regime(
    rate: pd.Series,
    *,
    window: int = 13,
    threshold: float = 0.25,
    labels: tuple[str, str, str] = ("falling", "flat", "rising"),
) -> pd.Series:
    """Rate regime from the trailing change of a rate.

    .. math:: c_t = y_t - y_{t-w}; \\quad
              \\text{regime}_t = \\text{rising if } c_t > h,\\ \\text{falling if } c_t < -h,\\ \\text{else flat}

    Parameters
    ----------
    rate : Series (T,)
        A yield or policy rate in percent, as known on each row (e.g. weekly
        ``DGS2`` from ``macro_panel``, or ``FEDFUNDS`` for hiking/holding/cutting).
    window : int
        ``w`` rows (default 13: a quarter of weekly rows).
    threshold : float
        ``h`` in percentage points (default 0.25: one policy step).
    labels : (str, str, str)
        Names for falling, flat, rising (e.g. ``("cutting", "holding", "hiking")``).

    Returns
    -------
    Series (T,) categorical
        Categories in the order of ``labels``; NaN where :math:`c_t` is unknown.
        Uses rows ``<= t`` only; to condition returns on it without look-ahead,
        lag it (see :func:`returns_by_regime`).
    """
    s = as_frame(rate, "rate").iloc[:, 0]
    w = int(_check_int("window", window, 1) or 1)
    if not np.isfinite(threshold) or threshold < 0:
        raise ParameterError("threshold", f"must be a non-negative number of percentage points, got {threshold}")
    if len(labels) != 3 or len(set(labels)) != 3:
        raise ParameterError("labels", "give three distinct names: (falling, flat, rising)")
    change = s - s.shift(w)
    out = np.select([change > threshold, change < -threshold], [labels[2], labels[0]], default=labels[1]).astype(object)
    out[change.isna().to_numpy()] = np.nan
    return pd.Series(pd.Categorical(out, categories=list(labels)), index=s.index, name="regime")


@dataclass(frozen=True)
class RegimeReturns:
    """Mean returns per regime with HAC inference.

    Attributes
    ----------
    table : DataFrame
        ``series, regime, n, mean, se, t, p, ci_low, ci_high, ann_mean`` (mean
        per row; ``ann_mean`` = mean x periods per year).
    differences : DataFrame
        ``series, contrast ("A - B"), diff, se, t, p``: the last estimated regime
        minus the first (with the default labels, rising - falling), HAC.
    equal_means_p : Series
        Per series: p-value of the HAC Wald test that all regime means are equal.
    lag : int
    hac_lags : Series
    """

    table: pd.DataFrame
    differences: pd.DataFrame
    equal_means_p: pd.Series
    lag: int
    hac_lags: pd.Series

    def to_frame(self) -> pd.DataFrame:
        """The per-(series, regime) table (see ``table``)."""
        return self.table


def returns_by_regime(
    returns: ReturnFrame | pd.Series,
    regime: pd.Series,
    *,
    lag: int = 1,
    hac_lags: int | None = None,
    alpha: float = 0.05,
    periods_per_year: float | pd.Series | None = None,
    min_obs: int = 5,
) -> RegimeReturns:
    """Mean return in each rate regime, with HAC t-stats and a test of equal means.

    For each series, one regression on regime dummies (no constant) over all
    its rows with a known regime,

    .. math:: r_t = \\sum_g \\mu_g \\, 1[\\text{regime}_{t-\\ell} = g] + \\varepsilon_t,

    so :math:`\\hat\\mu_g` is the plain mean return in regime ``g`` and its
    Newey-West standard error respects the time order of all rows (regime
    spells are not stitched together). The regime is lagged by ``lag`` rows:
    the return from ``t-1`` to ``t`` is classed by the regime known at ``t-1``
    (``lag=1``), so the rate move that defines the regime is not the same move
    that the return reacts to.

    Parameters
    ----------
    returns : DataFrame (T, N) or Series
        Simple returns (weekly basket returns, typically).
    regime : Series (T',)
        Labels from :func:`rate_regime` (matched by date).
    lag : int
        Rows of regime lag (0 allowed: contemporaneous, look-ahead prone).
    hac_lags : int, optional
        Newey-West lags (default ``floor(4 (n/100)^(2/9))``).
    alpha : float
    periods_per_year : float or Series, optional
        Annualisation of the mean: a number, or a Series per return column
        (e.g. ``panel.periods_per_year()``); default inferred from the dates
        (365, 252, 52 or 12 rows a year).
    min_obs : int
        Regimes with fewer rows for a series are left out of its regression
        (reported with ``n`` and NaN statistics).

    Returns
    -------
    RegimeReturns

    Raises
    ------
    DataError
        No series has two regimes with ``min_obs`` rows.
    """
    from rotation.analytics.returns import infer_periods_per_year

    alpha = _check_alpha(alpha)
    lag_ = int(_check_int("lag", lag, 0) or 0)
    _check_int("hac_lags", hac_lags, 0)
    mo = int(_check_int("min_obs", min_obs, 2) or 2)
    y = as_frame(returns, "returns")
    if not isinstance(regime, pd.Series) or not isinstance(regime.index, pd.DatetimeIndex):
        raise ParameterError("regime", "must be a Series of labels with a DatetimeIndex")
    reg = regime.reindex(y.index).shift(lag_) if lag_ else regime.reindex(y.index)
    categories = list(regime.cat.categories) if isinstance(regime.dtype, pd.CategoricalDtype) else sorted(
        map(str, regime.dropna().unique())
    )
    if periods_per_year is None:
        ppy = pd.Series(infer_periods_per_year(y.index), index=y.columns)
    elif isinstance(periods_per_year, pd.Series):
        missing = [c for c in y.columns if c not in periods_per_year.index]
        if missing:
            raise ParameterError("periods_per_year", f"no value for {', '.join(map(str, missing))}")
        ppy = periods_per_year.reindex(y.columns).astype(float)
    else:
        ppy = pd.Series(float(periods_per_year), index=y.columns)
    if not (np.isfinite(ppy) & (ppy > 0)).all():
        raise ParameterError("periods_per_year", "must be positive")
    rows, diffs, wald, lags_used = [], [], {}, {}
    for col in y.columns:
        yv = y[col]
        ok = yv.notna() & reg.notna()
        labels = reg[ok].astype(str)
        counts = labels.value_counts()
        used = [g for g in categories if counts.get(g, 0) >= mo]
        for g in categories:
            if g not in used:
                rows.append({"series": col, "regime": g, "n": int(counts.get(g, 0))})
        if len(used) < 2:
            continue
        keep = ok & reg.astype(object).isin(used)
        lab = reg[keep].astype(str).to_numpy()
        D = np.column_stack([(lab == g).astype(float) for g in used])
        n = len(lab)
        L = newey_west_lags(n) if hac_lags is None else hac_lags
        res = ols_hac(yv[keep].to_numpy(), D, L, alpha)
        lags_used[col] = L
        for i, g in enumerate(used):
            rows.append({
                "series": col, "regime": g, "n": int(D[:, i].sum()),
                "mean": res["params"][i], "se": res["bse"][i], "t": res["tvalues"][i], "p": res["pvalues"][i],
                "ci_low": res["ci"][i, 0], "ci_high": res["ci"][i, 1], "ann_mean": res["params"][i] * ppy[col],
            })
        r = res["result"]
        contrast = np.zeros(len(used))
        contrast[-1], contrast[0] = 1.0, -1.0
        tt = r.t_test(contrast)
        diffs.append({
            "series": col, "contrast": f"{used[-1]} - {used[0]}",
            "diff": float(np.squeeze(tt.effect)), "se": float(np.squeeze(tt.sd)),
            "t": float(np.squeeze(tt.tvalue)), "p": float(np.squeeze(tt.pvalue)),
        })
        R = np.zeros((len(used) - 1, len(used)))
        R[:, 0] = -1.0
        R[np.arange(len(used) - 1), np.arange(1, len(used))] = 1.0
        wald[col] = float(np.squeeze(r.wald_test(R, scalar=True).pvalue))
    if not wald:
        raise DataError(
            f"returns_by_regime: no series has at least two regimes with {mo} rows "
            f"(regime counts: {reg.value_counts().to_dict()})"
        )
    table = pd.DataFrame(rows, columns=["series", "regime", "n", "mean", "se", "t", "p", "ci_low", "ci_high", "ann_mean"])
    order = {g: i for i, g in enumerate(categories)}
    col_order = {c: i for i, c in enumerate(y.columns)}
    table = table.sort_values(["series", "regime"], key=lambda s: s.map(col_order if s.name == "series" else order))
    return RegimeReturns(
        table=table.reset_index(drop=True),
        differences=pd.DataFrame(diffs, columns=["series", "contrast", "diff", "se", "t", "p"]),
        equal_means_p=pd.Series(wald, name="equal_means_p"),
        lag=lag_,
        hac_lags=pd.Series(lags_used, name="hac_lags"),
    )

