"""Co-movement: correlation and beta vs a benchmark, residual correlation, lead-lag, Granger.

Inputs are return series (Series) or frames (DataFrame, one column per
instrument or basket) on a DatetimeIndex. Two inputs are aligned on their
common dates (inner join). Rolling measures count only the rows where all
inputs are valid (pandas ``.rolling().corr()`` semantics) and use rows up to
``t`` only. Full-window tests need an unbroken sample: leading and trailing
rows with a missing value are trimmed, a gap inside the sample raises
:class:`~rotation.errors.DataError` naming its first date (a gap would silently
shift the lags).

R2 ("siphon vs common tide") is :func:`residual_correlation`: regress each of
two basket return series on the market factor and correlate the residuals.
A *negative* residual correlation means money moving from one to the other
beyond what the market explains (a siphon); a positive raw correlation that
vanishes after removing the market is a common risk-on tide.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from rotation._typing import DateLike, SeriesOrFrame
from rotation.analytics._rolling import rolling_beta as _k_beta
from rotation.analytics._rolling import rolling_corr as _k_corr
from rotation.analytics._validate import check_int
from rotation.errors import DataError, ParameterError

__all__ = [
    "GrangerResult",
    "LeadLag",
    "ResidualCorrelation",
    "beta",
    "correlation",
    "cross_correlation",
    "granger_causality",
    "newey_west_lags",
    "residual_correlation",
    "rolling_beta",
    "rolling_correlation",
    "rolling_residual_correlation",
]


# ------------------------------------------------------------------ helpers
def _name(obj: Any, default: str) -> str:
    name = getattr(obj, "name", None)
    return str(name) if name is not None else default


def _series(obj: Any, param: str) -> pd.Series:
    if isinstance(obj, pd.DataFrame):
        if obj.shape[1] != 1:
            raise ParameterError(
                param, f"expected one series, got a frame with {obj.shape[1]} columns"
            )
        obj = obj.iloc[:, 0]
    if not isinstance(obj, pd.Series):
        raise ParameterError(param, f"expected a pandas Series, got {type(obj).__name__}")
    try:
        return obj.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ParameterError(param, f"must hold numbers: {exc}") from None


def _check_level(level: Any) -> float:
    if isinstance(level, bool) or not isinstance(level, int | float) or not 0 < level < 1:
        raise ParameterError("level", f"must be in (0, 1), got {level!r}")
    return float(level)


def _align_frame(x: SeriesOrFrame, bench: pd.Series, param: str) -> tuple[SeriesOrFrame, pd.Series]:
    bench = _series(bench, param)
    if not isinstance(x, pd.Series | pd.DataFrame):
        raise ParameterError("returns", f"expected a Series or DataFrame, got {type(x).__name__}")
    common = x.index.intersection(bench.index)
    if len(common) == 0:
        raise DataError(f"returns and {param} share no dates")
    if not common.is_monotonic_increasing:
        common = common.sort_values()
    return x.reindex(common), bench.reindex(common)


def _contiguous(frame: pd.DataFrame, what: str, min_rows: int) -> pd.DataFrame:
    """Trim leading/trailing incomplete rows; refuse interior gaps and short samples."""
    complete = frame.notna().all(axis=1).to_numpy()
    if not complete.any():
        raise DataError(f"{what}: the series have no date with all values present")
    first = int(np.argmax(complete))
    last = len(complete) - 1 - int(np.argmax(complete[::-1]))
    inner = frame.iloc[first : last + 1]
    holes = ~complete[first : last + 1]
    if holes.any():
        where = inner.index[int(np.argmax(holes))]
        raise DataError(
            f"{what}: missing value on {where} inside the sample "
            f"({int(holes.sum())} incomplete rows between {inner.index[0]} and {inner.index[-1]}); "
            "lagged statistics need an unbroken series - fill or cut the range first"
        )
    if len(inner) < min_rows:
        raise DataError(f"{what}: {len(inner)} aligned observations, at least {min_rows} needed")
    return inner


def newey_west_lags(n: int) -> int:
    """Newey-West (1994) rule-of-thumb bandwidth :math:`\\lfloor 4 (n/100)^{2/9} \\rfloor`.

    Examples: n=100 -> 4, n=400 -> 5, n=2500 -> 8.
    """
    return int(np.floor(4.0 * (n / 100.0) ** (2.0 / 9.0)))


def _long_run_variance(psi: np.ndarray, lags: int) -> float:
    """Newey-West (Bartlett kernel) long-run variance of a mean-zero series.

    .. math::

        \\hat\\Omega = \\hat\\gamma_0
        + 2\\sum_{k=1}^{L}\\Big(1-\\frac{k}{L+1}\\Big)\\hat\\gamma_k,
        \\qquad \\hat\\gamma_k = \\frac1n\\sum_{t>k}\\psi_t\\psi_{t-k}
    """
    n = len(psi)
    omega = float(psi @ psi) / n
    for k in range(1, min(lags, n - 1) + 1):
        omega += 2.0 * (1.0 - k / (lags + 1.0)) * float(psi[k:] @ psi[:-k]) / n
    return omega


# ------------------------------------------------------ correlation and beta
def rolling_correlation(
    returns: SeriesOrFrame,
    benchmark: pd.Series,
    window: int,
    *,
    min_periods: int | None = None,
) -> SeriesOrFrame:
    """Trailing Pearson correlation of each column with a benchmark (or of two baskets).

    .. math:: \\rho_t = \\mathrm{corr}(x_{t-w+1..t}, b_{t-w+1..t})

    over the rows of the window where both are valid.

    Parameters
    ----------
    returns : DataFrame (T, N) or Series
        Returns of instruments or of one basket.
    benchmark : Series
        Benchmark (or second basket) returns; aligned on common dates.
    window : int
        Rows per window (52 for a year of weekly returns).
    min_periods : int, optional
        Valid pairs needed (default ``window``).

    Returns
    -------
    Same kind as ``returns`` on the common dates; NaN for short or constant windows.
    """
    x, b = _align_frame(returns, benchmark, "benchmark")
    return _k_corr(x, b, window, min_periods)


def rolling_beta(
    returns: SeriesOrFrame,
    benchmark: pd.Series,
    window: int,
    *,
    min_periods: int | None = None,
) -> SeriesOrFrame:
    """Trailing OLS beta of each column on a benchmark.

    .. math:: \\beta_t = \\frac{\\mathrm{cov}_t(x, b)}{\\mathrm{var}_t(b)}

    over the rows of the window where both are valid (intercept included).

    Parameters
    ----------
    returns, benchmark, window, min_periods
        As in :func:`rolling_correlation`.

    Returns
    -------
    Same kind as ``returns`` on the common dates.
    """
    x, b = _align_frame(returns, benchmark, "benchmark")
    return _k_beta(x, b, window, min_periods)


def _full(kernel: Any, returns: SeriesOrFrame, benchmark: pd.Series, min_periods: int, name: str):
    x, b = _align_frame(returns, benchmark, "benchmark")
    min_periods = check_int("min_periods", min_periods, 2)
    n = len(x)
    if n < min_periods:
        raise DataError(f"{n} common dates, at least min_periods={min_periods} needed")
    last = kernel(x, b, n, min(min_periods, n))
    if isinstance(last, pd.Series):
        return float(last.iloc[-1])
    out = last.iloc[-1].rename(name)
    out.index.name = x.columns.name
    return out


def beta(
    returns: SeriesOrFrame, benchmark: pd.Series, *, min_periods: int = 20
) -> pd.Series | float:
    """Full-sample OLS beta of each column on a benchmark (pairwise-valid rows).

    .. math:: \\hat\\beta = \\frac{\\sum (x_t-\\bar x)(b_t-\\bar b)}{\\sum (b_t-\\bar b)^2}

    Returns
    -------
    Series per column (float for a Series); NaN for columns with fewer than
    ``min_periods`` valid pairs.
    """
    return _full(_k_beta, returns, benchmark, min_periods, "beta")


def correlation(
    returns: SeriesOrFrame, benchmark: pd.Series, *, min_periods: int = 20
) -> pd.Series | float:
    """Full-sample Pearson correlation of each column with a benchmark (pairwise-valid rows).

    Returns
    -------
    Series per column (float for a Series); NaN below ``min_periods`` pairs.
    """
    return _full(_k_corr, returns, benchmark, min_periods, "correlation")


# ------------------------------------------------- residual correlation (R2)
@dataclass(frozen=True)
class ResidualCorrelation:
    """Correlation of two series after removing a common market factor.

    Attributes
    ----------
    correlation : float
        Pearson correlation of the OLS residuals of ``a`` and ``b`` on the
        market (= the partial correlation of ``a`` and ``b`` given the market).
    stderr : float
        Newey-West (HAC) standard error of ``correlation``.
    p_value : float
        Two-sided p-value of ``correlation = 0`` from the HAC z-statistic.
    ci_low, ci_high : float
        ``level`` confidence interval: Fisher-z transform with the HAC standard error.
    level : float
    p_value_iid : float
        Classical p-value (t-test of a partial correlation, ``n - 3`` degrees
        of freedom), valid only for independent observations; shown for
        comparison.
    raw_correlation : float
        Correlation of ``a`` and ``b`` before removing the market.
    alpha_a, beta_a, alpha_b, beta_b : float
        Market-model intercepts and slopes.
    n : int
        Observations used (dates where all three are present).
    hac_lags : int
        Newey-West bandwidth used.
    start, end : Timestamp
        First and last date used.
    names : tuple of str
        ``(a, b, market)`` names.
    residuals : DataFrame
        (n, 2) residuals of ``a`` and ``b`` (columns named after them).
    """

    correlation: float
    stderr: float
    p_value: float
    ci_low: float
    ci_high: float
    level: float
    p_value_iid: float
    raw_correlation: float
    alpha_a: float
    beta_a: float
    alpha_b: float
    beta_b: float
    n: int
    hac_lags: int
    start: pd.Timestamp
    end: pd.Timestamp
    names: tuple[str, str, str]
    residuals: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """One row: the estimate, its inference and the market-model fits."""
        a, b, m = self.names
        return pd.DataFrame(
            [
                {
                    "a": a,
                    "b": b,
                    "market": m,
                    "residual_correlation": self.correlation,
                    "stderr_hac": self.stderr,
                    "p_value_hac": self.p_value,
                    "ci_low": self.ci_low,
                    "ci_high": self.ci_high,
                    "p_value_iid": self.p_value_iid,
                    "raw_correlation": self.raw_correlation,
                    "beta_a": self.beta_a,
                    "beta_b": self.beta_b,
                    "n": self.n,
                    "hac_lags": self.hac_lags,
                    "start": self.start,
                    "end": self.end,
                }
            ]
        )


def _ols_1(y: np.ndarray, m: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Intercept, slope and residuals of y on [1, m] (closed form)."""
    mc = m - m.mean()
    slope = float((mc @ (y - y.mean())) / (mc @ mc))
    intercept = float(y.mean() - slope * m.mean())
    return intercept, slope, y - intercept - slope * m


def residual_correlation(
    a: pd.Series,
    b: pd.Series,
    market: pd.Series,
    *,
    hac_lags: int | None = None,
    level: float = 0.95,
    min_periods: int = 30,
    start: DateLike | None = None,
    end: DateLike | None = None,
) -> ResidualCorrelation:
    """Correlation of two return series net of a market factor, with HAC inference.

    Each series is regressed on the market with an intercept,
    :math:`a_t = \\alpha_a + \\beta_a m_t + e^a_t` (same for ``b``), and

    .. math:: \\hat\\rho = \\mathrm{corr}(e^a, e^b).

    Inference (returns are autocorrelated and heteroskedastic): with the
    standardised residuals :math:`z^a, z^b` (mean 0, variance 1), the
    influence function of the correlation is
    :math:`\\psi_t = z^a_t z^b_t - \\tfrac{\\hat\\rho}{2}((z^a_t)^2 + (z^b_t)^2)`
    and :math:`\\mathrm{se}(\\hat\\rho) = \\sqrt{\\hat\\Omega_\\psi / n}` with the
    Newey-West long-run variance :math:`\\hat\\Omega_\\psi` (Bartlett kernel,
    ``hac_lags`` lags). Under i.i.d. normal data this reduces to the classical
    :math:`(1-\\rho^2)/\\sqrt n`. The p-value is two-sided normal for
    :math:`\\hat\\rho/\\mathrm{se}`; the interval is
    :math:`\\tanh(\\operatorname{atanh}\\hat\\rho \\pm z\\,\\mathrm{se}/(1-\\hat\\rho^2))`.
    (HAC was chosen over a block bootstrap: deterministic, fast, and the
    estimated first-stage betas do not change the first-order variance of
    a residual correlation.)

    Parameters
    ----------
    a, b : Series
        Returns of the two baskets (weekly by default in R2).
    market : Series
        Market-factor returns (e.g. SPY or the S&P 500).
    hac_lags : int, optional
        Newey-West bandwidth; default :func:`newey_west_lags` of ``n``.
    level : float, default 0.95
        Confidence level of the interval.
    min_periods : int, default 30
        Fewest complete observations accepted.
    start, end : date-like, optional
        Restrict the sample (inclusive).

    Returns
    -------
    ResidualCorrelation

    Raises
    ------
    DataError
        Fewer than ``min_periods`` dates where all three series are present,
        or a constant series.
    """
    level = _check_level(level)
    min_periods = check_int("min_periods", min_periods, 5)
    names = (_name(a, "a"), _name(b, "b"), _name(market, "market"))
    if len(set(names)) < 3:
        names = ("a", "b", "market")
    df = pd.concat(
        [_series(a, "a"), _series(b, "b"), _series(market, "market")], axis=1, join="inner"
    )
    df.columns = list(names)
    df = df.sort_index().loc[start:end].dropna()
    n = len(df)
    if n < min_periods:
        raise DataError(
            f"residual correlation of {names[0]} and {names[1]} on {names[2]}: "
            f"{n} dates with all three present, at least {min_periods} needed"
        )
    va, vb, vm = (df[c].to_numpy() for c in names)
    for v, nm in ((va, names[0]), (vb, names[1]), (vm, names[2])):
        if np.ptp(v) == 0:
            raise DataError(f"{nm} is constant over the sample; correlation is undefined")
    alpha_a, beta_a, ea = _ols_1(va, vm)
    alpha_b, beta_b, eb = _ols_1(vb, vm)
    za = (ea - ea.mean()) / ea.std()
    zb = (eb - eb.mean()) / eb.std()
    rho = float(np.clip(za @ zb / n, -1.0, 1.0))
    lags = newey_west_lags(n) if hac_lags is None else check_int("hac_lags", hac_lags, 0)
    psi = za * zb - 0.5 * rho * (za * za + zb * zb)
    se = float(np.sqrt(max(_long_run_variance(psi, lags), 0.0) / n))
    with np.errstate(divide="ignore", invalid="ignore"):
        zstat = rho / se
    p_hac = float(2.0 * stats.norm.sf(abs(zstat))) if se > 0 else float("nan")
    crit = stats.norm.ppf(0.5 + level / 2.0)
    if abs(rho) < 1.0:
        fz, fse = np.arctanh(rho), se / (1.0 - rho * rho)
        lo, hi = float(np.tanh(fz - crit * fse)), float(np.tanh(fz + crit * fse))
    else:
        lo = hi = rho
    # classical partial-correlation t-test (one control variable -> n - 3 df)
    dof = n - 3
    t_iid = rho * np.sqrt(dof / max(1.0 - rho * rho, 1e-300))
    p_iid = float(2.0 * stats.t.sf(abs(t_iid), dof))
    raw = float(np.corrcoef(va, vb)[0, 1])
    resid = pd.DataFrame({names[0]: ea, names[1]: eb}, index=df.index)
    return ResidualCorrelation(
        correlation=rho,
        stderr=se,
        p_value=p_hac,
        ci_low=lo,
        ci_high=hi,
        level=level,
        p_value_iid=p_iid,
        raw_correlation=raw,
        alpha_a=alpha_a,
        beta_a=beta_a,
        alpha_b=alpha_b,
        beta_b=beta_b,
        n=n,
        hac_lags=lags,
        start=df.index[0],
        end=df.index[-1],
        names=names,
        residuals=resid,
    )


def rolling_residual_correlation(
    a: pd.Series,
    b: pd.Series,
    market: pd.Series,
    window: int,
    *,
    min_periods: int | None = None,
) -> pd.DataFrame:
    """Trailing residual (partial) correlation of ``a`` and ``b`` given the market.

    In each window the market-model regressions are re-estimated on that
    window only, which makes the residual correlation equal to the partial
    correlation

    .. math::

        \\rho^{ab\\cdot m}_t = \\frac{\\rho^{ab}_t - \\rho^{am}_t\\rho^{bm}_t}
        {\\sqrt{(1-(\\rho^{am}_t)^2)(1-(\\rho^{bm}_t)^2)}},

    computed from rolling correlations (no look-ahead: rows up to ``t`` only).

    Parameters
    ----------
    a, b, market : Series
        Returns; a row counts only when all three are present.
    window : int
        Rows per window (e.g. 52 weeks).
    min_periods : int, optional
        Complete rows needed in a window (default ``window``; at least 4).

    Returns
    -------
    DataFrame on the common dates, columns ``residual_correlation``,
    ``raw_correlation``, ``beta_a``, ``beta_b``, ``n`` (complete rows in the
    window) and ``p_value_iid`` (partial-correlation t-test with ``n - 3``
    degrees of freedom; it ignores autocorrelation - use
    :func:`residual_correlation` on a window for HAC inference).
    """
    names = [_name(a, "a"), _name(b, "b"), _name(market, "market")]
    df = pd.concat(
        [_series(a, "a"), _series(b, "b"), _series(market, "market")], axis=1, join="inner"
    )
    df.columns = ["a", "b", "m"]
    df = df.sort_index()
    if df.empty:
        raise DataError(f"{names[0]}, {names[1]} and {names[2]} share no dates")
    # a row counts only when all three are present
    df = df.where(df.notna().all(axis=1), np.nan)
    w = check_int("window", window, 4)
    mp = w if min_periods is None else check_int("min_periods", min_periods, 4)
    if mp > w:
        raise ParameterError("min_periods", f"must be <= window={w}, got {mp}")
    x = df[["a", "b"]]
    r_xm = _k_corr(x, df["m"], w, mp)
    r_ab = _k_corr(df["a"], df["b"], w, mp)
    betas = _k_beta(x, df["m"], w, mp)
    ram, rbm = r_xm["a"], r_xm["b"]
    with np.errstate(divide="ignore", invalid="ignore"):
        partial = (r_ab - ram * rbm) / np.sqrt((1.0 - ram**2) * (1.0 - rbm**2))
    partial = partial.clip(-1.0, 1.0)
    n = df["a"].notna().astype(float).rolling(w, min_periods=1).sum()
    dof = n - 3
    with np.errstate(divide="ignore", invalid="ignore"):
        t = partial * np.sqrt(dof / (1.0 - partial**2))
    p = pd.Series(
        2.0 * stats.t.sf(np.abs(t.to_numpy()), dof.clip(lower=1).to_numpy()), index=df.index
    )
    p = p.where(partial.notna())
    out = pd.DataFrame(
        {
            "residual_correlation": partial,
            "raw_correlation": r_ab,
            "beta_a": betas["a"],
            "beta_b": betas["b"],
            "n": n,
            "p_value_iid": p,
        },
        index=df.index,
    )
    out.attrs["names"] = tuple(names)
    return out


# ------------------------------------------------------------------ lead-lag
@dataclass(frozen=True)
class LeadLag:
    """Cross-correlations of ``x`` and ``y`` at lags ``-max_lag .. max_lag``.

    Lag ``k > 0`` pairs :math:`x_{t+k}` with :math:`y_t`: **y leads x by k
    periods**; ``k < 0``: x leads y.

    Attributes
    ----------
    lags : ndarray (2L+1,) of int
    correlation : ndarray (2L+1,)
        :math:`r_{xy}(k)` (Box-Jenkins estimator, see :func:`cross_correlation`).
    stderr : ndarray (2L+1,)
        Standard error under "no cross-correlation".
    p_value : ndarray (2L+1,)
        Two-sided normal p-value per lag (not adjusted for testing many lags).
    band : ndarray (2L+1,)
        Half-width of the ``level`` significance band: ``z * stderr``.
    level : float
    bands : str
        ``"white"`` (1/sqrt(n)) or ``"bartlett"`` (autocorrelation-adjusted).
    n : int
    names : tuple of str
        ``(x, y)``.
    start, end : Timestamp
    """

    lags: np.ndarray
    correlation: np.ndarray
    stderr: np.ndarray
    p_value: np.ndarray
    band: np.ndarray
    level: float
    bands: str
    n: int
    names: tuple[str, str]
    start: Any
    end: Any

    @property
    def peak_lag(self) -> int:
        """The lag with the largest absolute correlation."""
        return int(self.lags[int(np.nanargmax(np.abs(self.correlation)))])

    @property
    def significant_lags(self) -> np.ndarray:
        """Lags whose correlation lies outside the significance band."""
        return self.lags[np.abs(self.correlation) > self.band]

    def to_frame(self) -> pd.DataFrame:
        """One row per lag: correlation, stderr, band, p-value, significant."""
        x, y = self.names
        return pd.DataFrame(
            {
                "lag": self.lags,
                "leader": np.where(self.lags > 0, y, np.where(self.lags < 0, x, "")),
                "correlation": self.correlation,
                "stderr": self.stderr,
                "lower": -self.band,
                "upper": self.band,
                "p_value": self.p_value,
                "significant": np.abs(self.correlation) > self.band,
            }
        )


def _acf(v: np.ndarray, nlags: int) -> np.ndarray:
    """Sample autocorrelations 0..nlags (1/n normalisation, statsmodels ``acf`` default)."""
    d = v - v.mean()
    c0 = d @ d
    return np.array([1.0] + [float(d[k:] @ d[:-k]) / c0 for k in range(1, nlags + 1)])


def cross_correlation(
    x: pd.Series,
    y: pd.Series,
    max_lag: int,
    *,
    level: float = 0.95,
    bands: Literal["bartlett", "white"] = "bartlett",
    bartlett_lags: int | None = None,
) -> LeadLag:
    """Lead-lag cross-correlation with significance bands and per-lag p-values.

    Box-Jenkins estimator on the common, unbroken sample of ``n`` dates:

    .. math::

        r_{xy}(k) = \\frac{\\tfrac1n \\sum_{t} (x_{t+k}-\\bar x)(y_t-\\bar y)}{s_x s_y}
        \\quad (k \\ge 0), \\qquad r_{xy}(-k) = r_{yx}(k),

    with full-sample means and (ddof 0) standard deviations - the estimator
    of ``statsmodels.tsa.stattools.ccf(x, y, adjusted=False)``.

    Under the null of no cross-correlation at any lag:

    * ``bands="white"``: :math:`\\mathrm{se} = 1/\\sqrt n` (exact when one
      series is white noise; statsmodels' ``ccf`` band);
    * ``bands="bartlett"``: Bartlett's formula for two independent
      autocorrelated series,
      :math:`\\mathrm{se}^2 = \\tfrac1n\\big(1 + 2\\sum_{j=1}^{J}
      \\hat\\rho_{xx}(j)\\hat\\rho_{yy}(j)\\big)`,
      floored at :math:`1/n` (so never narrower than the white band);
      ``J = bartlett_lags`` (default :math:`\\min(10\\log_{10} n, n-1)`).

    The p-value of each lag is :math:`2(1-\\Phi(|r(k)|/\\mathrm{se}))`.

    Parameters
    ----------
    x, y : Series
        Return (or flow) series; aligned on common dates.
    max_lag : int
        ``L``: lags ``-L..L`` are computed; ``1 <= L < n/2``.
    level : float, default 0.95
        Band level.
    bands : {"bartlett", "white"}
    bartlett_lags : int, optional

    Returns
    -------
    LeadLag

    Raises
    ------
    DataError
        A gap inside the common sample or fewer than ``max(3 L, 20)`` dates.
    """
    level = _check_level(level)
    L = check_int("max_lag", max_lag, 1)
    if bands not in ("bartlett", "white"):
        raise ParameterError("bands", f"expected 'bartlett' or 'white', got {bands!r}")
    names = (_name(x, "x"), _name(y, "y"))
    df = pd.concat([_series(x, "x"), _series(y, "y")], axis=1, join="inner").sort_index()
    df = _contiguous(df, f"cross-correlation of {names[0]} and {names[1]}", max(3 * L, 20))
    vx, vy = df.iloc[:, 0].to_numpy(), df.iloc[:, 1].to_numpy()
    n = len(vx)
    if np.ptp(vx) == 0 or np.ptp(vy) == 0:
        raise DataError("a constant series has no cross-correlation")
    dx, dy = vx - vx.mean(), vy - vy.mean()
    denom = n * dx.std() * dy.std()
    lags = np.arange(-L, L + 1)
    r = np.empty(lags.size)
    for i, k in enumerate(lags):
        r[i] = (dx[k:] @ dy[: n - k]) / denom if k >= 0 else (dy[-k:] @ dx[: n + k]) / denom
    if bands == "white":
        factor = 1.0
    else:
        J = (
            min(int(10 * np.log10(n)), n - 1)
            if bartlett_lags is None
            else check_int("bartlett_lags", bartlett_lags, 0)
        )
        factor = max(1.0, 1.0 + 2.0 * float(_acf(vx, J)[1:] @ _acf(vy, J)[1:]))
    se = np.full(lags.size, np.sqrt(factor / n))
    crit = stats.norm.ppf(0.5 + level / 2.0)
    p = 2.0 * stats.norm.sf(np.abs(r) / se)
    return LeadLag(
        lags=lags,
        correlation=r,
        stderr=se,
        p_value=p,
        band=crit * se,
        level=level,
        bands=bands,
        n=n,
        names=names,
        start=df.index[0],
        end=df.index[-1],
    )


# ------------------------------------------------------------------ Granger
@dataclass(frozen=True)
class GrangerResult:
    """Granger-causality F-tests in both directions.

    Attributes
    ----------
    table : DataFrame
        One row per (direction, lag): ``cause``, ``effect``, ``lag``,
        ``f_stat``, ``p_value``, ``df_num``, ``df_denom`` (statsmodels
        ``ssr_ftest``). Null hypothesis: the lags of ``cause`` add nothing to
        an autoregression of ``effect``.
    max_lag : int
    selected_lag : int or None
        Lag order chosen by ``ic`` on the bivariate VAR (None if ``ic`` is None).
    ic : str or None
    n : int
        Observations before lagging.
    names : tuple of str
        ``(x, y)``.
    start, end : Timestamp
    """

    table: pd.DataFrame
    max_lag: int
    selected_lag: int | None
    ic: str | None
    n: int
    names: tuple[str, str]
    start: Any
    end: Any

    def p_values(self, cause: str, effect: str) -> pd.Series:
        """F-test p-values by lag for "``cause`` Granger-causes ``effect``"."""
        t = self.table
        sel = t[(t["cause"] == cause) & (t["effect"] == effect)]
        if sel.empty:
            raise ParameterError(
                "cause", f"no test of {cause!r} -> {effect!r}; names are {self.names}"
            )
        return sel.set_index("lag")["p_value"]

    def p_value_at_selected(self, cause: str, effect: str) -> float:
        """p-value at :attr:`selected_lag` (at :attr:`max_lag` when no ``ic`` was used)."""
        lag = self.selected_lag if self.selected_lag is not None else self.max_lag
        return float(self.p_values(cause, effect).loc[lag])

    def to_frame(self) -> pd.DataFrame:
        """The per-lag test table (a copy)."""
        return self.table.copy()


def granger_causality(
    x: pd.Series,
    y: pd.Series,
    max_lag: int,
    *,
    ic: Literal["aic", "bic", "hqic", "fpe"] | None = None,
) -> GrangerResult:
    """Granger-causality tests in both directions (statsmodels ``grangercausalitytests``).

    For lag ``p`` and direction ``y -> x`` the restricted model regresses
    :math:`x_t` on a constant and :math:`x_{t-1..t-p}`, the unrestricted one
    adds :math:`y_{t-1..t-p}`; the statistic is

    .. math:: F = \\frac{(\\mathrm{SSR}_r - \\mathrm{SSR}_u)/p}{\\mathrm{SSR}_u/(n - p - 2p - 1)}

    on the ``n - p`` usable rows, with an :math:`F(p, n - 3p - 1)` p-value.

    Parameters
    ----------
    x, y : Series
        Stationary series (returns, changes), aligned on common dates; the
        sample must be unbroken after trimming.
    max_lag : int
        Tests are run for every lag ``1..max_lag``.
    ic : {"aic", "bic", "hqic", "fpe"}, optional
        Also choose a lag order with this criterion on the bivariate VAR
        (statsmodels ``VAR.select_order``, at least 1).

    Returns
    -------
    GrangerResult

    Raises
    ------
    DataError
        Gap inside the sample, too few observations (``n <= 3 max_lag + 1``),
        or a constant series.
    """
    L = check_int("max_lag", max_lag, 1)
    if ic not in (None, "aic", "bic", "hqic", "fpe"):
        raise ParameterError("ic", f"expected None, 'aic', 'bic', 'hqic' or 'fpe', got {ic!r}")
    from statsmodels.tsa.stattools import grangercausalitytests

    names = (_name(x, "x"), _name(y, "y"))
    if names[0] == names[1]:
        names = ("x", "y")
    df = pd.concat([_series(x, "x"), _series(y, "y")], axis=1, join="inner").sort_index()
    df = _contiguous(df, f"Granger test of {names[0]} and {names[1]}", max(3 * L + 2, 10))
    vx, vy = df.iloc[:, 0].to_numpy(), df.iloc[:, 1].to_numpy()
    if np.ptp(vx) == 0 or np.ptp(vy) == 0:
        raise DataError("a constant series cannot be tested for Granger causality")
    rows = []
    for cause, effect, data in (
        (names[1], names[0], np.column_stack([vx, vy])),
        (names[0], names[1], np.column_stack([vy, vx])),
    ):
        res = grangercausalitytests(data, L)
        for lag in range(1, L + 1):
            f, p, df_denom, df_num = res[lag][0]["ssr_ftest"]
            rows.append(
                {
                    "cause": cause,
                    "effect": effect,
                    "lag": lag,
                    "f_stat": float(f),
                    "p_value": float(p),
                    "df_num": int(df_num),
                    "df_denom": float(df_denom),
                }
            )
    selected = None
    if ic is not None:
        from statsmodels.tsa.api import VAR

        order = VAR(np.column_stack([vx, vy])).select_order(L)
        selected = max(1, int(order.selected_orders[ic]))
    return GrangerResult(
        table=pd.DataFrame(rows),
        max_lag=L,
        selected_lag=selected,
        ic=ic,
        n=len(df),
        names=names,
        start=df.index[0],
        end=df.index[-1],
    )
