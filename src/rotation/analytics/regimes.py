"""Regime models: Markov-switching and hidden-Markov models of one return series.

:func:`regimes` is the entry point (``rt.regimes(series, k=2)``). It fits a
k-state model in which observation :math:`y_t` is normal with a state-dependent
mean and variance and the state :math:`S_t` follows a first-order Markov chain:

.. math::

    y_t \\mid S_t = j \\sim N(\\mu_j, \\sigma^2_j), \\qquad
    P(S_t = j \\mid S_{t-1} = i) = p_{ij}.

Two estimators of the same model:

``model="markov"`` (default)
    statsmodels :class:`~statsmodels.tsa.regime_switching.markov_regression.MarkovRegression`
    (Hamilton 1989; maximum likelihood, EM then BFGS; the first state is drawn
    from the chain's ergodic distribution).
``model="hmm"``
    hmmlearn :class:`~hmmlearn.hmm.GaussianHMM` (Baum-Welch EM; the initial
    state distribution is a free parameter). Optional dependency:
    ``pip install rotation[hmm]``.

Determinism and label order
---------------------------
Mixture likelihoods are invariant to relabelling the states and have local
optima. So every fit

1. standardises the series (:math:`z = (y - \\bar y)/s`; the MLE is affine
   equivariant, so means and variances are mapped back exactly and the
   log-likelihood is shifted by :math:`-n \\ln s`),
2. starts from a fixed set of deterministic starting values (statsmodels' own
   for ``markov``, a quantile split, a dispersion split and a chronological
   split; or the caller's ``start_params`` alone), runs each to convergence
   and keeps the highest log-likelihood (the earlier start on ties within a
   relative 1e-9),
3. **orders the states** by mean (``order_by="mean"``, ties by variance) or by
   variance (``order_by="variance"``, ties by mean), so state 0 is always the
   lowest-mean (lowest-variance) state whatever labels the optimiser produced.

The same data and options give bit-identical results; relabelling the
starting values gives the same ordered result (to the optimiser's tolerance).
Several starts are needed because these likelihoods do have several local
optima (on crypto weekly returns with k=3, different starts end up to 3
log-likelihood points apart); :attr:`RegimeResult.starts` lists them all.
Cost: about 0.1-0.4 s per start for k=2 on a few hundred rows (statsmodels'
BFGS with numerical gradients), several seconds for k=3.

Look-ahead
----------
* ``smoothed`` probabilities :math:`P(S_t = j \\mid y_1..y_T)` use the **whole
  sample** (past and future): good for describing history, never for a signal.
* ``filtered`` probabilities :math:`P(S_t = j \\mid y_1..y_t)` use observations
  up to ``t`` only, **but with parameters estimated on the whole sample**.
  :meth:`RegimeResult.filter` applies fixed parameters to any series.
* :func:`expanding_regimes` is fully real-time: parameters re-estimated on data
  up to each refit date, probabilities filtered forward from there.

NaN policy: leading and trailing NaN are trimmed; a NaN inside the sample
raises :class:`~rotation.errors.DataError` naming its date (the Markov chain
links consecutive observations, so a gap cannot be skipped silently).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.special import logsumexp

from rotation._typing import DateLike, Float64Array, Float64Array2D
from rotation.analytics.comovement import _contiguous
from rotation.analytics.returns import infer_periods_per_year
from rotation.analytics._validate import as_series, check_int
from rotation.errors import DataError, ParameterError

__all__ = [
    "ExpandingRegimes",
    "RegimeResult",
    "expanding_regimes",
    "hamilton_filter",
    "regimes",
]

Model = Literal["markov", "hmm"]
OrderBy = Literal["mean", "variance"]

_MODELS = ("markov", "hmm")
_ORDERS = ("mean", "variance")
_P_NAME = re.compile(r"^p\[(\d+)->(\d+)\]$")
_IDX_NAME = re.compile(r"^(const|sigma2)(?:\[(\d+)\])?$")


# ----------------------------------------------------------------------------- result
@dataclass(frozen=True)
class RegimeResult:
    """A fitted k-state regime model of one series, states ordered deterministically.

    States are numbered ``0..k-1`` in ``order_by`` order (state 0 = lowest mean,
    or lowest variance). All frames share the fitted sample's dates.

    Attributes
    ----------
    name : str
        Name of the series.
    model : {"markov", "hmm"}
    k : int
        Number of states.
    order_by : {"mean", "variance"}
    switching_mean, switching_variance : bool
        Whether means / variances differ between states (else one shared value).
    data : Series (T,)
        The observations used (after trimming and ``start``/``end``).
    means : Series (k,)
        State means :math:`\\mu_j`, in the series' units per period.
    variances : Series (k,)
        State variances :math:`\\sigma^2_j` (units squared per period).
    mean_se, variance_se : Series (k,)
        Standard errors of ``means`` / ``variances`` (numerical Hessian,
        statsmodels ``cov_type="approx"``); NaN for ``model="hmm"`` and where
        the Hessian is not invertible. They assume the model is correct
        (Gaussian states), which fat-tailed returns violate: read them as
        indicative.
    transition : DataFrame (k, k)
        Row-stochastic :math:`p_{ij} = P(S_t = j \\mid S_{t-1} = i)` (rows:
        from, columns: to).
    expected_durations : Series (k,)
        :math:`1 / (1 - p_{jj})`, in periods (rows of the series).
    ergodic : Series (k,)
        Stationary distribution of the chain (long-run share of time per state).
    initial : Series (k,)
        Distribution of the first state used by the filter: ``ergodic`` for
        ``markov``, the estimated ``startprob_`` for ``hmm``.
    filtered : DataFrame (T, k)
        :math:`P(S_t = j \\mid y_1..y_t)`: data up to ``t`` only, parameters
        from the whole sample.
    smoothed : DataFrame (T, k)
        :math:`P(S_t = j \\mid y_1..y_T)`: **uses the whole sample**, including
        observations after ``t``.
    llf : float
        Log-likelihood in the series' original units.
    nobs, n_params : int
    aic, bic : float
        :math:`2p - 2\\ell` and :math:`p \\ln n - 2\\ell`.
    converged : bool
        Whether the optimiser reported convergence for the retained start.
    starts : DataFrame
        One row per starting value tried: ``start``, ``llf``, ``converged``,
        ``chosen``.
    periods_per_year : float
        Used by :meth:`to_frame` to annualise (mean x ppy, volatility x sqrt(ppy)).
    notes : tuple of str
        Warnings worth reading: non-convergence, degenerate (zero-variance) or
        never-visited states, and non-persistent states (P(stay) < 0.5), which
        model fat tails rather than regimes.
    """

    name: str
    model: str
    k: int
    order_by: str
    switching_mean: bool
    switching_variance: bool
    data: pd.Series
    means: pd.Series
    variances: pd.Series
    mean_se: pd.Series
    variance_se: pd.Series
    transition: pd.DataFrame
    expected_durations: pd.Series
    ergodic: pd.Series
    initial: pd.Series
    filtered: pd.DataFrame
    smoothed: pd.DataFrame
    llf: float
    nobs: int
    n_params: int
    aic: float
    bic: float
    converged: bool
    starts: pd.DataFrame
    periods_per_year: float
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def volatilities(self) -> pd.Series:
        """State standard deviations :math:`\\sigma_j` per period."""
        return np.sqrt(self.variances).rename("volatility")

    @property
    def start(self) -> pd.Timestamp:
        return pd.Timestamp(self.data.index[0])

    @property
    def end(self) -> pd.Timestamp:
        return pd.Timestamp(self.data.index[-1])

    @property
    def current_state(self) -> int:
        """Most likely state at the last date by the **filtered** probabilities."""
        return int(np.argmax(self.filtered.iloc[-1].to_numpy()))

    def most_likely(self, probabilities: Literal["smoothed", "filtered"] = "smoothed") -> pd.Series:
        """Per date, the state with the highest probability (ties: the lower state)."""
        probs = self._probs(probabilities)
        return pd.Series(np.argmax(probs.to_numpy(), axis=1), index=probs.index, name="state")

    def _probs(self, which: str) -> pd.DataFrame:
        if which == "smoothed":
            return self.smoothed
        if which == "filtered":
            return self.filtered
        raise ParameterError("probabilities", f"must be 'smoothed' or 'filtered', got {which!r}")

    def spells(self, probabilities: Literal["smoothed", "filtered"] = "smoothed") -> pd.DataFrame:
        """Runs of consecutive dates with the same most likely state.

        Returns
        -------
        DataFrame
            ``state``, ``start``, ``end`` (dates, inclusive), ``periods`` (rows),
            ``mean_probability`` (average probability of the state over the run).
        """
        probs = self._probs(probabilities)
        state = np.argmax(probs.to_numpy(), axis=1)
        change = np.flatnonzero(np.diff(state)) + 1
        starts = np.concatenate([[0], change])
        ends = np.concatenate([change, [len(state)]]) - 1
        p = probs.to_numpy()
        rows = [
            {
                "state": int(state[a]),
                "start": probs.index[a],
                "end": probs.index[b],
                "periods": int(b - a + 1),
                "mean_probability": float(p[a : b + 1, state[a]].mean()),
            }
            for a, b in zip(starts, ends, strict=True)
        ]
        return pd.DataFrame(rows, columns=["state", "start", "end", "periods", "mean_probability"])

    def filter(self, series: pd.Series) -> pd.DataFrame:
        """Filtered probabilities of ``series`` under this model's fixed parameters.

        Look-ahead free in the data (row ``t`` uses rows ``<= t``); the
        parameters are those estimated here. Use it on data after :attr:`end`
        to classify new observations without refitting.

        Parameters
        ----------
        series : Series (T,)
            Same units as the fitted data; interior NaN raise ``DataError``.

        Returns
        -------
        DataFrame (T, k)
        """
        y = _clean(series, "series", 2)
        probs, _ = hamilton_filter(
            y.to_numpy(),
            self.means.to_numpy(),
            self.variances.to_numpy(),
            self.transition.to_numpy(),
            self.initial.to_numpy(),
        )
        return pd.DataFrame(probs, index=y.index, columns=self.filtered.columns)

    def to_frame(self) -> pd.DataFrame:
        """One row per state: moments (per period and annualised), persistence, probabilities now.

        Columns: ``mean``, ``mean_se``, ``volatility``, ``ann_mean``,
        ``ann_volatility``, ``expected_duration`` (periods), ``p_stay``,
        ``ergodic``, ``share_smoothed`` (share of dates whose most likely
        smoothed state is this one), ``filtered_now``, ``smoothed_now``.
        """
        ppy = self.periods_per_year
        share = self.most_likely("smoothed").value_counts(normalize=True).reindex(range(self.k), fill_value=0.0)
        out = pd.DataFrame(
            {
                "mean": self.means.to_numpy(),
                "mean_se": self.mean_se.to_numpy(),
                "volatility": self.volatilities.to_numpy(),
                "ann_mean": self.means.to_numpy() * ppy,
                "ann_volatility": self.volatilities.to_numpy() * np.sqrt(ppy),
                "expected_duration": self.expected_durations.to_numpy(),
                "p_stay": np.diag(self.transition.to_numpy()),
                "ergodic": self.ergodic.to_numpy(),
                "share_smoothed": share.to_numpy(),
                "filtered_now": self.filtered.iloc[-1].to_numpy(),
                "smoothed_now": self.smoothed.iloc[-1].to_numpy(),
            },
            index=pd.RangeIndex(self.k, name="state"),
        )
        return out


# ----------------------------------------------------------------------------- filter
def hamilton_filter(
    y: Float64Array,
    means: Float64Array,
    variances: Float64Array,
    transition: Float64Array2D,
    initial: Float64Array | None = None,
) -> tuple[Float64Array2D, float]:
    """Hamilton (1989) forward filter for Gaussian states (no look-ahead).

    With predicted probabilities :math:`\\pi_{t|t-1}` (:math:`\\pi_{1|0}` =
    ``initial``) and densities :math:`f_j(y_t) = \\phi(y_t; \\mu_j, \\sigma^2_j)`:

    .. math::

        \\xi_{t|t} = \\frac{\\pi_{t|t-1} \\odot f(y_t)}{\\mathbf 1'(\\pi_{t|t-1} \\odot f(y_t))},
        \\qquad \\pi_{t+1|t} = P' \\xi_{t|t},
        \\qquad \\ell = \\sum_t \\ln \\mathbf 1'(\\pi_{t|t-1} \\odot f(y_t)).

    Computed with densities scaled by each row's largest one (log space when
    even that underflows), so extreme observations do not underflow.

    Parameters
    ----------
    y : array (T,)
        Observations, no NaN.
    means, variances : array (k,)
    transition : array (k, k)
        Row-stochastic :math:`p_{ij} = P(S_t = j \\mid S_{t-1} = i)`.
    initial : array (k,), optional
        Distribution of the first state; default the ergodic distribution of
        ``transition`` (statsmodels' ``"steady-state"`` initialisation).

    Returns
    -------
    filtered : array (T, k)
        :math:`P(S_t = j \\mid y_1..y_t)`.
    llf : float
        Log-likelihood.
    """
    y = np.asarray(y, dtype=np.float64)
    mu = np.asarray(means, dtype=np.float64)
    var = np.asarray(variances, dtype=np.float64)
    P = np.asarray(transition, dtype=np.float64)
    k = len(mu)
    if not (len(var) == k and P.shape == (k, k)):
        raise ParameterError("transition", f"shapes disagree: {k} means, {len(var)} variances, transition {P.shape}")
    if np.isnan(y).any():
        raise DataError("hamilton_filter: y holds NaN")
    pred = _ergodic(P) if initial is None else np.asarray(initial, dtype=np.float64)
    # log N(y; mu_j, var_j) for every t and j at once: (T, k)
    logf = -0.5 * (np.log(2.0 * np.pi * var)[None, :] + (y[:, None] - mu[None, :]) ** 2 / var[None, :])
    out = np.empty((len(y), k))
    llf = 0.0
    for t in range(len(y)):
        # scaled recursion: densities relative to the row's largest, so nothing underflows
        top = logf[t].max()
        joint = pred * np.exp(logf[t] - top)
        norm = joint.sum()
        if norm > 0.0:
            post = joint / norm
            llf += top + np.log(norm)
        else:  # the prediction sits only on states whose density underflowed: redo in logs
            with np.errstate(divide="ignore"):
                lj = np.log(pred) + logf[t]
            lnorm = logsumexp(lj)
            post = np.exp(lj - lnorm)
            llf += lnorm
        out[t] = post
        pred = post @ P
    return out, float(llf)


def _ergodic(P: np.ndarray) -> np.ndarray:
    """Stationary distribution: the solution of pi' P = pi', sum(pi) = 1 (least squares)."""
    k = P.shape[0]
    A = np.vstack([P.T - np.eye(k), np.ones((1, k))])
    b = np.zeros(k + 1)
    b[-1] = 1.0
    pi = np.linalg.lstsq(A, b, rcond=None)[0]
    pi = np.clip(pi, 0.0, None)
    return pi / pi.sum()


# ----------------------------------------------------------------------------- validation
def _clean(series: Any, parameter: str, min_periods: int, start: DateLike | None = None,
           end: DateLike | None = None) -> pd.Series:
    s = as_series(series, parameter)
    s = s.loc[start:end]
    name = str(s.name) if s.name is not None else parameter
    frame = _contiguous(s.to_frame(name), f"regime model of {name}", min_periods)
    return frame.iloc[:, 0]


def _check_choice(parameter: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ParameterError(parameter, f"must be one of {', '.join(choices)}; got {value!r}")
    return str(value)


def _ppy(series: pd.Series, periods_per_year: float | None) -> float:
    if periods_per_year is None:
        ppy = float(infer_periods_per_year(series))
        return ppy if np.isfinite(ppy) else 1.0
    if isinstance(periods_per_year, bool) or not isinstance(periods_per_year, int | float) or periods_per_year <= 0:
        raise ParameterError("periods_per_year", f"must be a positive number, got {periods_per_year!r}")
    return float(periods_per_year)


# ----------------------------------------------------------------------------- parameters
@dataclass(frozen=True)
class _Params:
    """Parameters in one labelling: means, variances (k,), row-stochastic transition (k, k)."""

    means: np.ndarray
    variances: np.ndarray
    transition: np.ndarray
    initial: np.ndarray | None = None

    def permute(self, order: np.ndarray) -> _Params:
        return _Params(
            self.means[order],
            self.variances[order],
            self.transition[np.ix_(order, order)],
            None if self.initial is None else self.initial[order],
        )


def _user_start(start_params: Mapping[str, Any], k: int, loc: float, scale: float) -> _Params:
    """Caller's starting values (original units, any state order) -> standardised units."""
    if not isinstance(start_params, Mapping):
        raise ParameterError("start_params", f"expected a mapping with means/variances/transition, got {type(start_params).__name__}")
    unknown = set(start_params) - {"means", "variances", "transition"}
    if unknown:
        raise ParameterError("start_params", f"unknown keys {sorted(unknown)}; use means, variances, transition")

    def vec(key: str, default: np.ndarray) -> np.ndarray:
        if key not in start_params:
            return default
        try:
            v = np.broadcast_to(np.asarray(start_params[key], dtype=np.float64), (k,)).copy()
        except (TypeError, ValueError):
            raise ParameterError("start_params", f"{key} must be a number or {k} numbers") from None
        if not np.isfinite(v).all():
            raise ParameterError("start_params", f"{key} must be finite")
        return v

    means = (vec("means", np.full(k, loc)) - loc) / scale
    variances = vec("variances", np.full(k, scale**2)) / scale**2
    if (variances <= 0).any():
        raise ParameterError("start_params", "variances must be positive")
    if "transition" in start_params:
        P = np.asarray(start_params["transition"], dtype=np.float64)
        if P.shape != (k, k) or (P < 0).any() or not np.allclose(P.sum(axis=1), 1.0):
            raise ParameterError("start_params", f"transition must be a ({k}, {k}) row-stochastic matrix")
    else:
        P = _default_transition(k)
    return _Params(means, variances, P)


def _default_transition(k: int, stay: float = 0.9) -> np.ndarray:
    P = np.full((k, k), (1.0 - stay) / (k - 1))
    np.fill_diagonal(P, stay)
    return P


def _grid_starts(z: np.ndarray, k: int, switching_mean: bool, switching_variance: bool) -> list[tuple[str, _Params]]:
    """Deterministic starting values from the standardised data.

    ``quantile``: k equal groups by value (means spread, group variances).
    ``dispersion``: k rings by distance from the median (means near 0,
    variances from calm to turbulent). ``chronological``: k consecutive
    blocks of time with a persistent chain (p_jj = 0.98), which finds slow
    regimes (e.g. a volatile year followed by calm ones) that the
    value-based splits miss.
    """
    n = len(z)
    edges = np.linspace(0, n, k + 1).astype(int)
    out = []
    for label, key in (("quantile", z), ("dispersion", np.abs(z - np.median(z))), ("chronological", None)):
        order = np.arange(n) if key is None else np.argsort(key, kind="stable")
        groups = [z[order[a:b]] for a, b in zip(edges[:-1], edges[1:], strict=True)]
        means = np.array([g.mean() for g in groups])
        if label == "dispersion":
            variances = np.array([max(float(np.mean(g**2)), 0.05) for g in groups])
        else:
            variances = np.array([max(float(g.var()), 0.05) for g in groups])
        if not switching_mean:
            means = np.zeros(k)
        if not switching_variance:
            variances = np.ones(k)
        stay = 0.98 if label == "chronological" else 0.9
        out.append((label, _Params(means, variances, _default_transition(k, stay))))
    return out


def _order(params: _Params, order_by: str) -> np.ndarray:
    # lexsort: the last key is the primary one
    if order_by == "mean":
        return np.lexsort((params.variances, params.means))
    return np.lexsort((params.means, params.variances))


# ----------------------------------------------------------------------------- markov backend
def _sm_vector(mod: Any, p: _Params) -> np.ndarray:
    vec = np.empty(len(mod.param_names))
    for i, name in enumerate(mod.param_names):
        m = _P_NAME.match(name)
        if m:
            vec[i] = p.transition[int(m.group(1)), int(m.group(2))]
            continue
        m = _IDX_NAME.match(name)
        if m is None:  # pragma: no cover - statsmodels naming changed
            raise RuntimeError(f"unexpected statsmodels parameter {name!r}")
        j = int(m.group(2)) if m.group(2) is not None else None
        src = p.means if m.group(1) == "const" else p.variances
        vec[i] = src[j] if j is not None else float(np.mean(src))
    return vec


def _sm_unpack(mod: Any, vec: np.ndarray, k: int) -> tuple[_Params, dict[str, np.ndarray]]:
    """statsmodels parameter vector -> parameters, and where each mean / variance sits in it."""
    means, variances = np.empty(k), np.empty(k)
    positions = {"means": np.full(k, -1), "variances": np.full(k, -1)}
    P = np.zeros((k, k))
    for i, name in enumerate(mod.param_names):
        m = _P_NAME.match(name)
        if m:
            P[int(m.group(1)), int(m.group(2))] = vec[i]
            continue
        m = _IDX_NAME.match(name)
        if m is None:  # pragma: no cover - statsmodels naming changed
            raise RuntimeError(f"unexpected statsmodels parameter {name!r}")
        key = "means" if m.group(1) == "const" else "variances"
        # a non-switching parameter ("const", "sigma2") is shared by every state
        sl = slice(int(m.group(2)), int(m.group(2)) + 1) if m.group(2) is not None else slice(None)
        (means if key == "means" else variances)[sl] = vec[i]
        positions[key][sl] = i
    P[:, k - 1] = 1.0 - P[:, : k - 1].sum(axis=1)
    return _Params(means, variances, P), positions


def _fit_markov(z: np.ndarray, k: int, starts: list[tuple[str, _Params]], switching_mean: bool,
                switching_variance: bool, maxiter: int, include_default: bool):
    from statsmodels.tsa.regime_switching.markov_regression import MarkovRegression

    mod = MarkovRegression(z, k_regimes=k, trend="c", switching_trend=switching_mean,
                           switching_variance=switching_variance)
    candidates: list[tuple[str, np.ndarray]] = [(name, _sm_vector(mod, p)) for name, p in starts]
    if include_default:
        candidates.insert(0, ("statsmodels", np.asarray(mod.start_params, dtype=float)))
    # Every start is run to convergence (statsmodels' default: 5 EM steps, then
    # BFGS). Screening starts by a longer EM run was tried and rejected: the EM
    # of MarkovRegression stalls when it has to rescale invalid transition
    # probabilities, so EM log-likelihoods rank the starts badly.
    tried = []
    best = None
    for name, sp in candidates:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning, EstimationWarning, overflow
            try:
                res = mod.fit(start_params=sp, disp=False, maxiter=maxiter, cov_type="none")
            except (np.linalg.LinAlgError, ValueError) as exc:
                tried.append({"start": name, "llf": np.nan, "converged": False, "error": str(exc)})
                continue
        llf = float(res.llf)
        conv = bool(res.mle_retvals.get("converged", False)) if res.mle_retvals else False
        tried.append({"start": name, "llf": llf, "converged": conv, "error": ""})
        # strictly better by a relative 1e-9 replaces: ties keep the earlier start
        if np.isfinite(llf) and (best is None or llf > best[1] + 1e-9 * max(1.0, abs(best[1]))):
            best = (name, llf, np.asarray(res.params, dtype=float), conv)
    if best is None:
        raise DataError("regime model: the Markov-switching likelihood could not be evaluated from any start "
                        f"({'; '.join(t['error'] for t in tried if t['error'])})")
    name, _, vec, conv = best
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a singular Hessian only makes the standard errors NaN
        res = mod.smooth(vec, cov_type="approx")
    params, pos = _sm_unpack(mod, vec, k)
    bse = np.asarray(res.bse, dtype=float) if res.bse is not None else np.full(len(vec), np.nan)
    se = {key: np.where(p >= 0, bse[np.maximum(p, 0)], np.nan) for key, p in pos.items()}
    return {
        "params": params,
        "se": se,
        "filtered": np.asarray(res.filtered_marginal_probabilities, dtype=float),
        "smoothed": np.asarray(res.smoothed_marginal_probabilities, dtype=float),
        "llf": float(res.llf),
        "converged": conv,
        "chosen": name,
        "tried": tried,
        "initial": None,
        "n_params": len(vec),
    }


# ----------------------------------------------------------------------------- hmm backend
def _hmmlearn() -> Any:
    try:
        from hmmlearn.hmm import GaussianHMM
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            "model='hmm' needs the optional dependency hmmlearn: pip install rotation[hmm] "
            "(or use model='markov', which needs only statsmodels)"
        ) from None
    return GaussianHMM


def _hmmlearn_available() -> bool:
    try:
        _hmmlearn()
    except ImportError:
        return False
    return True


def _fit_hmm(z: np.ndarray, k: int, starts: list[tuple[str, _Params]], switching_mean: bool,
             switching_variance: bool, maxiter: int, include_default: bool):
    GaussianHMM = _hmmlearn()
    X = z.reshape(-1, 1)
    tried = []
    best = None
    for name, p in starts:
        hmm = GaussianHMM(
            n_components=k,
            covariance_type="diag" if switching_variance else "tied",
            n_iter=maxiter,
            tol=1e-8,
            random_state=0,
            init_params="",
            params="st" + ("m" if switching_mean else "") + "c",
            min_covar=1e-6,
        )
        hmm.startprob_ = np.full(k, 1.0 / k)
        hmm.transmat_ = p.transition.copy()
        hmm.means_ = (p.means if switching_mean else np.zeros(k)).reshape(k, 1)
        hmm.covars_ = p.variances.reshape(k, 1) if switching_variance else np.array([[float(np.mean(p.variances))]])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                hmm.fit(X)
                llf = float(hmm.score(X))
            except (ValueError, np.linalg.LinAlgError) as exc:
                tried.append({"start": name, "llf": np.nan, "converged": False, "error": str(exc)})
                continue
        conv = bool(hmm.monitor_.converged)
        tried.append({"start": name, "llf": llf, "converged": conv, "error": ""})
        if np.isfinite(llf) and (best is None or llf > best[1] + 1e-9 * max(1.0, abs(best[1]))):
            best = (name, llf, hmm, conv)
    if best is None:
        raise DataError("regime model: the hidden-Markov model could not be fitted from any start "
                        f"({'; '.join(t['error'] for t in tried if t['error'])})")
    name, llf, hmm, conv = best
    variances = np.asarray(hmm.covars_, dtype=float).reshape(k, -1)[:, 0] if switching_variance \
        else np.full(k, float(np.asarray(hmm.covars_).ravel()[0]))
    params = _Params(
        np.asarray(hmm.means_, dtype=float).ravel(),
        variances,
        np.asarray(hmm.transmat_, dtype=float),
        np.asarray(hmm.startprob_, dtype=float),
    )
    filtered, _ = hamilton_filter(z, params.means, params.variances, params.transition, params.initial)
    n_params = k * (k - 1) + (k - 1) + (k if switching_mean else 0) + (k if switching_variance else 1)
    return {
        "params": params,
        "se": {"means": np.full(k, np.nan), "variances": np.full(k, np.nan)},
        "filtered": filtered,
        "smoothed": np.asarray(hmm.predict_proba(X), dtype=float),
        "llf": llf,
        "converged": conv,
        "chosen": name,
        "tried": tried,
        "initial": params.initial,
        "n_params": n_params,
    }


# ----------------------------------------------------------------------------- entry point
def _fit(y: pd.Series, k: int, model: str, switching_mean: bool, switching_variance: bool,
         order_by: str, start_params: Mapping[str, Any] | _Params | None, maxiter: int,
         extra_start: _Params | None = None) -> dict[str, Any]:
    values = y.to_numpy()
    loc = float(values.mean())
    scale = float(values.std())
    if not scale > 0:
        raise DataError(f"regime model of {y.name}: the series is constant")
    z = (values - loc) / scale
    if start_params is not None:
        starts = [("user", _user_start(start_params, k, loc, scale))]
    elif extra_start is not None:
        # a refit of expanding_regimes: the previous estimate and the dispersion split
        grid = dict(_grid_starts(z, k, switching_mean, switching_variance))
        starts = [("previous", extra_start), ("dispersion", grid["dispersion"])]
    else:
        starts = _grid_starts(z, k, switching_mean, switching_variance)
    backend = _fit_markov if model == "markov" else _fit_hmm
    fit = backend(z, k, starts, switching_mean, switching_variance, maxiter,
                  include_default=start_params is None and extra_start is None)
    p_z: _Params = fit["params"]
    order = _order(p_z, order_by)
    p_z_ordered = p_z.permute(order)
    p = _Params(
        loc + scale * p_z_ordered.means,
        scale**2 * p_z_ordered.variances,
        p_z_ordered.transition,
        p_z_ordered.initial,
    )
    fit.update(
        order=order,
        params_z=p_z_ordered,
        params_y=p,
        se={"means": scale * fit["se"]["means"][order], "variances": scale**2 * fit["se"]["variances"][order]},
        filtered=fit["filtered"][:, order],
        smoothed=fit["smoothed"][:, order],
        llf=fit["llf"] - len(z) * np.log(scale),
    )
    return fit


def regimes(
    series: pd.Series,
    k: int = 2,
    *,
    model: Model = "markov",
    switching_mean: bool = True,
    switching_variance: bool = True,
    order_by: OrderBy = "mean",
    start: DateLike | None = None,
    end: DateLike | None = None,
    min_periods: int | None = None,
    periods_per_year: float | None = None,
    start_params: Mapping[str, Any] | None = None,
    maxiter: int = 1000,
) -> RegimeResult:
    """Fit a k-state regime model (Markov switching or HMM) to one series.

    .. math::

        y_t \\mid S_t = j \\sim N(\\mu_j, \\sigma^2_j), \\quad
        P(S_t = j \\mid S_{t-1} = i) = p_{ij}, \\quad
        \\text{duration}_j = \\frac{1}{1 - p_{jj}}

    Typical inputs: weekly basket returns (``panel.basket_returns(...)`` on a
    weekly panel), or a rotation flow such as the weekly log-return difference
    of two baskets. The model treats observations as conditionally independent
    given the state (no autoregression): pass returns or differences, not
    levels or overlapping (smoothed) growth rates.

    Parameters
    ----------
    series : Series (T,)
        Observations on a sorted DatetimeIndex. Leading/trailing NaN trimmed;
        an interior NaN raises ``DataError``.
    k : int, default 2
        Number of states (2 or 3 are sensible; at most 5).
    model : {"markov", "hmm"}
        statsmodels ``MarkovRegression`` (default) or hmmlearn ``GaussianHMM``
        (optional extra ``rotation[hmm]``).
    switching_mean, switching_variance : bool
        Let the mean / variance differ between states (at least one must).
    order_by : {"mean", "variance"}
        State 0 has the lowest mean (ties: lowest variance) or the lowest
        variance (ties: lowest mean).
    start, end : date-like, optional
        Restrict the sample (inclusive).
    min_periods : int, optional
        Fewest observations accepted (default ``25 * k``).
    periods_per_year : float, optional
        For annualised figures in :meth:`RegimeResult.to_frame`; default
        inferred from the dates (52 weekly, 252 sessions, 365 calendar days).
    start_params : mapping, optional
        ``{"means": (k,), "variances": (k,), "transition": (k, k)}`` in the
        series' units, any state order; used as the **only** start. Default:
        the deterministic starts described in the module docstring.
    maxiter : int
        Optimiser iterations (BFGS for markov, EM for hmm).

    Returns
    -------
    RegimeResult

    Raises
    ------
    ParameterError
        Bad ``k``, ``model``, ``order_by``, switches, or ``start_params``.
    DataError
        Too few observations, an interior gap, a constant series, or no start
        gave a finite likelihood.
    ImportError
        ``model="hmm"`` without hmmlearn installed.
    """
    k = check_int("k", k, 2)
    if k > 5:
        raise ParameterError("k", f"at most 5 states are supported, got {k}")
    model = _check_choice("model", model, _MODELS)  # type: ignore[assignment]
    order_by = _check_choice("order_by", order_by, _ORDERS)  # type: ignore[assignment]
    if not (switching_mean or switching_variance):
        raise ParameterError("switching_mean", "at least one of switching_mean / switching_variance must be True")
    maxiter = check_int("maxiter", maxiter, 1)
    mp = check_int("min_periods", 25 * k if min_periods is None else min_periods, 3 * k)
    y = _clean(series, "series", mp, start, end)
    ppy = _ppy(y, periods_per_year)
    if model == "hmm":
        _hmmlearn()
    fit = _fit(y, k, model, switching_mean, switching_variance, order_by, start_params, maxiter)
    return _result(y, k, model, order_by, switching_mean, switching_variance, ppy, fit)


def _result(y: pd.Series, k: int, model: str, order_by: str, switching_mean: bool, switching_variance: bool,
            ppy: float, fit: dict[str, Any]) -> RegimeResult:
    p: _Params = fit["params_y"]
    states = pd.RangeIndex(k, name="state")
    n = len(y)
    with np.errstate(divide="ignore"):
        durations = 1.0 / (1.0 - np.diag(p.transition))
    ergodic = _ergodic(p.transition)
    initial = ergodic if p.initial is None else p.initial
    notes = []
    if not fit["converged"]:
        notes.append(f"the optimiser did not report convergence for the retained start ({fit['chosen']}); "
                     "try more maxiter or other start_params")
    tiny = p.variances < 1e-8 * float(np.var(y.to_numpy()))
    if tiny.any():
        notes.append(f"state(s) {', '.join(map(str, np.flatnonzero(tiny)))} have a near-zero variance: "
                     "a degenerate fit (a state sitting on a few identical values); try fewer states")
    fleeting = np.flatnonzero(np.diag(p.transition) < 0.5)
    if fleeting.size:
        notes.append(f"state(s) {', '.join(map(str, fleeting))} are not persistent (P(stay) < 0.5, expected "
                     "duration under 2 periods): they describe outliers and fat tails rather than regimes")
    share = np.bincount(np.argmax(fit["smoothed"], axis=1), minlength=k) / n
    if (share == 0).any():
        notes.append(f"state(s) {', '.join(map(str, np.flatnonzero(share == 0)))} are never the most likely "
                     "(smoothed): fewer states may describe the data as well")
    tried = pd.DataFrame(fit["tried"])
    tried["chosen"] = tried["start"] == fit["chosen"]
    llf = float(fit["llf"])
    n_params = int(fit["n_params"])
    name = str(y.name)
    return RegimeResult(
        name=name,
        model=model,
        k=k,
        order_by=order_by,
        switching_mean=switching_mean,
        switching_variance=switching_variance,
        data=y.rename(name),
        means=pd.Series(p.means, index=states, name="mean"),
        variances=pd.Series(p.variances, index=states, name="variance"),
        mean_se=pd.Series(fit["se"]["means"], index=states, name="mean_se"),
        variance_se=pd.Series(fit["se"]["variances"], index=states, name="variance_se"),
        transition=pd.DataFrame(p.transition, index=pd.RangeIndex(k, name="from"), columns=pd.RangeIndex(k, name="to")),
        expected_durations=pd.Series(durations, index=states, name="expected_duration"),
        ergodic=pd.Series(ergodic, index=states, name="ergodic"),
        initial=pd.Series(initial, index=states, name="initial"),
        filtered=pd.DataFrame(fit["filtered"], index=y.index, columns=states),
        smoothed=pd.DataFrame(fit["smoothed"], index=y.index, columns=states),
        llf=llf,
        nobs=n,
        n_params=n_params,
        aic=2.0 * n_params - 2.0 * llf,
        bic=n_params * np.log(n) - 2.0 * llf,
        converged=bool(fit["converged"]),
        starts=tried,
        periods_per_year=ppy,
        notes=tuple(notes),
    )


# ----------------------------------------------------------------------------- real time
@dataclass(frozen=True)
class ExpandingRegimes:
    """Real-time regime probabilities from periodically refitted models.

    Attributes
    ----------
    name : str
    probabilities : DataFrame (T, k)
        Row ``t``: filtered :math:`P(S_t = j \\mid y_1..y_t)` under the
        parameters estimated at the latest refit date ``<= t`` (on data up to
        that date). NaN before the first refit. No value depends on data after
        its row.
    state : Series (T,)
        Most likely state per row (NaN before the first refit).
    fits : DataFrame
        One row per refit and state: ``fit_date``, ``nobs``, ``state``,
        ``mean``, ``volatility``, ``p_stay``, ``expected_duration``, ``llf``,
        ``converged``.
    k, step, min_periods : int
    model, order_by : str
    """

    name: str
    probabilities: pd.DataFrame
    state: pd.Series
    fits: pd.DataFrame
    k: int
    step: int
    min_periods: int
    model: str
    order_by: str

    def to_frame(self) -> pd.DataFrame:
        """Latest refit's states with the current real-time probabilities."""
        last = self.fits[self.fits["fit_date"] == self.fits["fit_date"].max()].set_index("state")
        out = last[["fit_date", "nobs", "mean", "volatility", "p_stay", "expected_duration"]].copy()
        probs = self.probabilities.dropna()
        out["probability_now"] = probs.iloc[-1].to_numpy() if len(probs) else np.nan
        out["as_of"] = probs.index[-1] if len(probs) else pd.NaT
        return out


def expanding_regimes(
    series: pd.Series,
    k: int = 2,
    *,
    model: Model = "markov",
    switching_mean: bool = True,
    switching_variance: bool = True,
    order_by: OrderBy = "mean",
    step: int = 13,
    min_periods: int | None = None,
    start: DateLike | None = None,
    end: DateLike | None = None,
    maxiter: int = 1000,
) -> ExpandingRegimes:
    """Real-time (look-ahead free) regime probabilities: refit on an expanding window, filter forward.

    Refit dates are the rows at positions ``min_periods - 1``,
    ``min_periods - 1 + step``, ... counted from the first observation (so
    appending data never moves them). At refit date :math:`\\tau_i` the model
    of :func:`regimes` is estimated on rows ``<= tau_i``; for rows
    :math:`t \\in [\\tau_i, \\tau_{i+1})` the reported probability is the
    Hamilton filter (:func:`hamilton_filter`) under those parameters over rows
    ``<= t``. Each refit also tries the previous refit's (ordered) estimate as
    a starting value, which keeps successive fits on the same optimum when the
    data agree; the states are ordered as in :func:`regimes`, so state ``j``
    means the same kind of regime at every refit.

    Parameters
    ----------
    series, k, model, switching_mean, switching_variance, order_by, start, end, maxiter
        As in :func:`regimes`.
    step : int, default 13
        Rows between refits (a quarter of weekly rows).
    min_periods : int, optional
        Rows in the first fit (default ``25 * k``).

    Returns
    -------
    ExpandingRegimes

    Notes
    -----
    Cost: one fit per refit date (about 0.1 s each for k=2 on a few hundred rows).
    """
    k = check_int("k", k, 2)
    if k > 5:
        raise ParameterError("k", f"at most 5 states are supported, got {k}")
    model = _check_choice("model", model, _MODELS)  # type: ignore[assignment]
    order_by = _check_choice("order_by", order_by, _ORDERS)  # type: ignore[assignment]
    if not (switching_mean or switching_variance):
        raise ParameterError("switching_mean", "at least one of switching_mean / switching_variance must be True")
    step = check_int("step", step, 1)
    maxiter = check_int("maxiter", maxiter, 1)
    mp = check_int("min_periods", 25 * k if min_periods is None else min_periods, 3 * k)
    y = _clean(series, "series", mp, start, end)
    if model == "hmm":
        _hmmlearn()
    values = y.to_numpy()
    n = len(y)
    refits = list(range(mp - 1, n, step))
    probs = np.full((n, k), np.nan)
    rows = []
    previous: _Params | None = None
    for i, pos in enumerate(refits):
        sub = y.iloc[: pos + 1]
        fit = _fit(sub, k, model, switching_mean, switching_variance, order_by, None, maxiter, extra_start=previous)
        p_y: _Params = fit["params_y"]
        stop = refits[i + 1] if i + 1 < len(refits) else n
        # rows [pos, stop) are classified with this fit: filter forward over rows < stop
        filt, _ = hamilton_filter(values[:stop], p_y.means, p_y.variances, p_y.transition, p_y.initial)
        probs[pos:stop] = filt[pos:stop]
        if stop < n:
            # the estimate as a starting value, in the next sub-sample's standardised units
            nxt = values[: stop + 1]
            loc, scale = float(nxt.mean()), float(nxt.std())
            previous = _Params((p_y.means - loc) / scale, p_y.variances / scale**2, p_y.transition)
        with np.errstate(divide="ignore"):
            dur = 1.0 / (1.0 - np.diag(p_y.transition))
        for j in range(k):
            rows.append(
                {
                    "fit_date": y.index[pos],
                    "nobs": pos + 1,
                    "state": j,
                    "mean": p_y.means[j],
                    "volatility": float(np.sqrt(p_y.variances[j])),
                    "p_stay": p_y.transition[j, j],
                    "expected_duration": dur[j],
                    "llf": fit["llf"],
                    "converged": fit["converged"],
                }
            )
    columns = pd.RangeIndex(k, name="state")
    prob_frame = pd.DataFrame(probs, index=y.index, columns=columns)
    valid = ~np.isnan(probs).any(axis=1)
    state = pd.Series(np.where(valid, np.argmax(np.nan_to_num(probs, nan=-1.0), axis=1), np.nan),
                      index=y.index, name="state")
    return ExpandingRegimes(
        name=str(y.name),
        probabilities=prob_frame,
        state=state,
        fits=pd.DataFrame(rows),
        k=k,
        step=step,
        min_periods=mp,
        model=model,
        order_by=order_by,
    )
