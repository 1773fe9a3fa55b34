"""Event studies (rotation.analytics.events): hand-computed BMP/KP, statsmodels loop, look-ahead, real data."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import stats

from rotation.analytics.events import (
    DEFAULT_WINDOWS,
    EventStudyResult,
    bmp_test,
    event_sessions,
    event_study,
    kolari_pynnonen,
)
from rotation.errors import DataError, ParameterError
from rotation.events import Event, EventSet, load_events

IDX = pd.bdate_range("2020-01-01", periods=900, name="date")


def ev(day, kind="k", affects=("all",), timing="open", ident="", label="event") -> Event:
    return Event(date=pd.Timestamp(day).date(), label=label, kind=kind, affects=tuple(affects), timing=timing, id=ident)


def factor_returns(n_series=6, T=900, seed=0, nan_frac=0.0, common=0.0) -> pd.DataFrame:
    """One-factor returns r = b f + c g + e with market column M = f (and an optional common shock g)."""
    rng = np.random.default_rng(seed)
    f = rng.normal(3e-4, 0.01, T)
    g = rng.normal(0.0, 0.01, T)
    beta = rng.uniform(0.5, 1.5, n_series)
    R = f[:, None] * beta + common * g[:, None] + rng.normal(0, 0.015, (T, n_series))
    if nan_frac:
        R[rng.random(R.shape) < nan_frac] = np.nan
    out = pd.DataFrame(R, index=IDX[:T], columns=[f"S{i}" for i in range(n_series)])
    out["M"] = f
    return out


# ----------------------------------------------------------------------------- hand-computed example
# Three series, one clustered event (all on the same day), estimation window of 5 rows right before
# day 0 (gap 0), CAR window [0, +1]. Returns in percent below; the data are these / 100 (t statistics
# are scale-free, CARs scale by 1/100).
#   market x, estimation rows: -2 -1 0 1 2   (mean 0, Sxx = 4+1+0+1+4 = 10); event rows 3, -1 (sum 2)
#   A: alpha 0.1, beta 1.0, residuals ( .5,-1, 0, 1,-.5) -> y = -1.4 -1.9  0.1 2.1 1.6; ARs 1, 1    -> CAR  2
#   B: alpha 0,   beta 2.0, residuals ( 1,  0,-2, 0, 1 ) -> y = -3   -2   -2   2   5  ; ARs -1, .5  -> CAR -0.5
#   C: alpha -.2, beta 0.5, residuals ( 0,  1,-2, 1, 0 ) -> y = -1.2  .3 -2.2 1.3  .8 ; ARs 2, 1    -> CAR  3
# Each residual vector sums to 0 and is orthogonal to x, so OLS returns exactly these alpha, beta.
#   s^2 = SSR/(n-2): A 2.5/3, B 6/3 = 2, C 6/3 = 2
#   variance factor K + K^2/n + (sum x_w - K xbar)^2/Sxx = 2 + 4/5 + 4/10 = 3.2
#   var(CAR): A 3.2*2.5/3 = 8/3, B = C = 6.4
#   SCAR: A 2/sqrt(8/3) = sqrt(3/2) = 1.2247448714, B -0.5/sqrt(6.4) = -0.1976423538, C 3/sqrt(6.4) = 1.1858541226
#   cross-sectional t: mean 1.5, sum of squared deviations .25+4+2.25 = 6.5, s^2 = 3.25,
#       t = 1.5/sqrt(3.25/3) = 1.4411533842
#   BMP: mean SCAR 0.7376522134, s = 0.8102222338, t = 0.7376522134/(0.8102222338/sqrt 3) = 1.5769144053
#   KP: residual correlations r_AB = (.5-.5)/sqrt(15) = 0, r_AC = (-1+1)/sqrt(15) = 0, r_BC = 4/sqrt(6*6) = 2/3
#       rbar = (0 + 0 + 2/3)/3 = 2/9; factor sqrt((1-2/9)/(1+2*2/9)) = sqrt(7/13) = 0.7337993857
#       t_KP = 1.5769144053 * 0.7337993857 = 1.1571388219
#   p-values, Student t with 2 df (closed form p = 1 - |t|/sqrt(2 + t^2)):
#       p_t = 0.2862535729, p_BMP = 0.2555310536, p_KP = 0.3667441807
#   95% CI: t_{.975,2} = 0.95*sqrt(2/(4*.975*.025)) = 4.3026527297;
#       half width = 4.3026527297 * sqrt(3.25/3) / sqrt(7/13) = 6.1029527072 (percent)
HAND_X = [-2, -1, 0, 1, 2, 3, -1]
HAND_Y = {
    "A": [-1.4, -1.9, 0.1, 2.1, 1.6, 4.1, 0.1],
    "B": [-3, -2, -2, 2, 5, 5, -1.5],
    "C": [-1.2, 0.3, -2.2, 1.3, 0.8, 3.3, 0.3],
}


def hand_study(**kw) -> EventStudyResult:
    idx = pd.bdate_range("2024-01-01", periods=7)
    data = pd.DataFrame({k: np.asarray(v) / 100 for k, v in HAND_Y.items()}, index=idx)
    data["M"] = np.asarray(HAND_X, dtype=float) / 100
    return event_study(data, [ev(idx[5])], market="M", estimation=5, gap=0, min_estimation=5,
                       windows=[(0, 1)], **kw)


def test_bmp_and_kp_match_the_hand_computed_example() -> None:
    res = hand_study(groups={"ABC": ["A", "B", "C"]})
    est = res.estimates.set_index("series")
    assert_allclose(est.loc[["A", "B", "C"], "alpha"], [0.001, 0.0, -0.002], atol=1e-15)
    assert_allclose(est.loc[["A", "B", "C"], "beta"], [1.0, 2.0, 0.5], rtol=1e-12)
    assert_allclose(est.loc[["A", "B", "C"], "sigma"] ** 2 * 1e4, [2.5 / 3, 2.0, 2.0], rtol=1e-12)
    cars = res.cars.set_index("series")
    assert_allclose(cars.loc[["A", "B", "C"], "car"], [0.02, -0.005, 0.03], rtol=1e-12)
    assert_allclose(cars.loc[["A", "B", "C"], "se"] ** 2 * 1e4, [8 / 3, 6.4, 6.4], rtol=1e-12)
    assert_allclose(cars.loc[["A", "B", "C"], "scar"], [1.2247448714, -0.1976423538, 1.1858541226], rtol=1e-9)
    row = res.summary.iloc[0]
    assert (row["group"], row["window"], row["n"]) == ("ABC", "[0,+1]", 3)
    assert_allclose(row["mean_car"], 0.015, rtol=1e-12)
    assert_allclose(row["t"], 1.4411533842, rtol=1e-9)
    assert_allclose(row["bmp"], 1.5769144053, rtol=1e-9)
    assert_allclose(row["rbar"], 2 / 9, rtol=1e-9)
    assert_allclose(row["kp"], 1.1571388219, rtol=1e-9)
    assert_allclose([row["p_t"], row["p_bmp"], row["p_kp"]], [0.2862535729, 0.2555310536, 0.3667441807], rtol=1e-8)
    assert_allclose([row["ci_low"], row["ci_high"]], [0.015 - 0.061029527072, 0.015 + 0.061029527072], rtol=1e-9)
    # the building blocks agree with the same hand values
    assert_allclose(bmp_test([1.2247448714, -0.1976423538, 1.1858541226]), (1.5769144053, 0.2555310536), rtol=1e-8)
    assert_allclose(kolari_pynnonen(1.5769144053, 3, 2 / 9), (1.1571388219, 0.3667441807), rtol=1e-8)


def test_bmp_and_t_agree_with_scipy_ttest() -> None:
    data = factor_returns(8, seed=3)
    events = [ev(IDX[d]) for d in (300, 420, 560, 700)]
    res = event_study(data, events, market="M", groups={"all": [f"S{i}" for i in range(8)]})
    for w in res.summary.itertuples():
        cars = res.cars[(res.cars["window"] == w.window)]
        ref_t = stats.ttest_1samp(cars["car"], 0.0)
        ref_b = stats.ttest_1samp(cars["scar"], 0.0)
        assert_allclose([w.t, w.p_t, w.bmp, w.p_bmp], [ref_t.statistic, ref_t.pvalue, ref_b.statistic, ref_b.pvalue],
                        rtol=1e-9)


# ----------------------------------------------------------------------------- statsmodels loop
def _sm_reference(data: pd.DataFrame, series: str, t0: int, L: int, gap: int, w: tuple[int, int], model: str):
    """Straightforward per-pair OLS with statsmodels: alpha, beta, s, CAR and its standard error."""
    y_all = data[series].to_numpy()
    x_all = data["M"].to_numpy()
    lo, hi = max(t0 - gap - L, 0), t0 - gap
    y, x = y_all[lo:hi], x_all[lo:hi]
    ok = np.isfinite(y) & np.isfinite(x)
    ev_rows = slice(t0 + w[0], t0 + w[1] + 1)
    ye, xe = y_all[ev_rows], x_all[ev_rows]
    K = len(ye)
    if model == "market_adjusted":
        e = y[ok] - x[ok]
        s2 = np.var(e, ddof=1)
        return 0.0, 1.0, math.sqrt(s2), float(np.sum(ye - xe)), math.sqrt(s2 * K)
    X = sm.add_constant(x[ok]) if model == "market" else np.ones((ok.sum(), 1))
    res = sm.OLS(y[ok], X).fit()
    Xe = sm.add_constant(xe, has_constant="add") if model == "market" else np.ones((K, 1))
    ar = ye - res.predict(Xe)
    g = Xe.sum(axis=0)
    var = res.scale * K + g @ np.asarray(res.cov_params()) @ g  # Campbell-Lo-MacKinlay (4.4.13)
    beta = float(res.params[1]) if model == "market" else 0.0
    return float(res.params[0]), beta, math.sqrt(res.scale), float(ar.sum()), math.sqrt(var)


@pytest.mark.parametrize("model", ["market", "mean", "market_adjusted"])
def test_fast_path_matches_a_statsmodels_loop(model: str) -> None:
    data = factor_returns(5, seed=7, nan_frac=0.02)
    data.iloc[:300, 4] = np.nan  # a late listing: short estimation windows for the early events
    rows = [320, 333, 480, 701]
    windows = [(-1, 1), (0, 5), (-3, 12)]
    res = event_study(data, [ev(IDX[r], ident=f"e{r}") for r in rows], market="M", estimation=120, gap=5,
                      windows=windows, min_estimation=30, model=model)
    est = res.estimates.set_index(["event", "series"])
    cars = res.cars.set_index(["event", "series", "window"])
    checked = 0
    for r, s in itertools.product(rows, data.columns[:-1]):
        key = (f"e{r}", s)
        if key not in est.index:
            continue
        for w in windows:
            a, b, sig, car, se = _sm_reference(data, s, r, 120, 5, w, model)
            assert_allclose(est.loc[key, ["alpha", "beta", "sigma"]].astype(float), [a, b, sig], rtol=1e-9, atol=1e-14)
            label = f"[{w[0]:+d},{w[1]:+d}]".replace("+0", "0")
            if (*key, label) in cars.index:
                assert_allclose(cars.loc[(*key, label), ["car", "se"]].astype(float), [car, se], rtol=1e-9, atol=1e-14)
                checked += 1
            else:  # excluded windows are those with a missing row, and say so
                assert np.isnan(data[s].iloc[r + w[0]: r + w[1] + 1]).any()
    assert checked > 30
    # S4 before its listing: excluded with the reason
    early = res.excluded[(res.excluded["series"] == "S4") & (res.excluded["window"] == "")]
    assert len(early) >= 1 and early["reason"].str.contains("valid returns in the estimation window").all()


# ----------------------------------------------------------------------------- KP r-bar
def _rbar_by_definition(data, res, group_members, L, gap, windows):
    """The generalised KP r-bar pair by pair: rho = 1 for one series, else residual correlation on shared rows."""
    idx = data.index
    units = []
    for r in res.estimates.itertuples():
        t0 = idx.get_loc(r.session)
        lo, hi = max(t0 - gap - L, 0), t0 - gap
        y = data[r.series].to_numpy()[lo:hi]
        x = data["M"].to_numpy()[lo:hi]
        ok = np.isfinite(y) & np.isfinite(x)
        fit = sm.OLS(y[ok], sm.add_constant(x[ok])).fit()
        z = np.zeros(hi - lo)
        e = fit.resid
        z[ok] = e / np.sqrt(e @ e / ok.sum())
        units.append({"series": r.series, "t0": t0, "lo": lo, "hi": hi, "z": z})
    out = {}
    for g, members in group_members.items():
        mine = [u for u in units if u["series"] in members]
        n = len(mine)
        for w1, w2 in windows:
            K = w2 - w1 + 1
            total = 0.0
            for a, b in itertools.permutations(mine, 2):
                m = max(0, min(a["t0"], b["t0"]) + w2 - max(a["t0"], b["t0"]) - w1 + 1)
                if not m:
                    continue
                if a["series"] == b["series"]:
                    rho = 1.0
                else:
                    lo, hi = max(a["lo"], b["lo"]), min(a["hi"], b["hi"])
                    rho = a["z"][lo - a["lo"]: hi - a["lo"]] @ b["z"][lo - b["lo"]: hi - b["lo"]] / (hi - lo)
                total += rho * m / K
            out[(g, w1, w2)] = total / (n * (n - 1))
    return out


def test_kp_rbar_matches_the_pairwise_definition() -> None:
    data = factor_returns(6, T=700, seed=1, nan_frac=0.01, common=0.6)
    data.iloc[:200, 5] = np.nan
    idx = data.index
    events = [ev(idx[t], affects=aff) for t, aff in [(300, ("all",)), (300, ("S0", "S1")), (320, ("all",)),
                                                      (335, ("S2", "S3", "S5")), (500, ("all",)), (650, ("g1",))]]
    groups = {"g1": ["S0", "S1", "S2"], "g2": ["S2", "S3", "S4", "S5"]}
    windows = [(-1, 1), (0, 10), (0, 40)]
    res = event_study(data, events, market="M", estimation=120, gap=5, windows=windows, groups=groups,
                      min_estimation=60)
    want = _rbar_by_definition(data, res, groups, 120, 5, windows)
    got = res.summary.set_index(["group", "start", "end"])["rbar"]
    for key, value in want.items():
        assert_allclose(got.loc[key], value, rtol=1e-10, atol=1e-13)
    assert got.loc[("g2", 0, 40)] > got.loc[("g2", 0, 10)]  # overlapping 41-day windows add correlation


def test_kp_rbar_for_one_date_is_the_average_residual_correlation() -> None:
    """Classic KP (all events on one day): rbar = mean off-diagonal Pearson r of the estimation residuals."""
    data = factor_returns(5, T=400, seed=4, common=0.8)
    res = event_study(data, [ev(IDX[300])], market="M", estimation=200, gap=10,
                      groups={"all": [f"S{i}" for i in range(5)]})
    resid = []
    for s in data.columns[:-1]:
        y, x = data[s].iloc[90:290].to_numpy(), data["M"].iloc[90:290].to_numpy()
        resid.append(sm.OLS(y, sm.add_constant(x)).fit().resid)
    C = np.corrcoef(np.asarray(resid))
    rbar = (C.sum() - 5) / 20
    assert rbar > 0.2  # the common shock g makes the residuals correlated
    assert_allclose(res.summary["rbar"], rbar, rtol=1e-10)
    row = res.summary.iloc[0]
    assert_allclose(row["kp"], row["bmp"] * math.sqrt((1 - rbar) / (1 + 4 * rbar)), rtol=1e-12)


def test_same_series_overlapping_windows_use_the_overlap_fraction() -> None:
    """One basket, three events 10 rows apart: corr(CAR_i, CAR_j) = shared rows / K (rho = 1)."""
    data = factor_returns(1, seed=5)
    events = [ev(IDX[t]) for t in (400, 410, 420)]
    res = event_study(data, events, market="M", windows=[(0, 20), (0, 5)])
    s = res.summary.set_index("window")
    # K = 21: pairs 10 apart share 11 rows, 20 apart share 1; ordered pairs: 2*(11+11+1)/21 / (3*2)
    assert_allclose(s.loc["[0,+20]", "rbar"], 2 * (11 + 11 + 1) / 21 / 6, rtol=1e-12)
    assert_allclose(s.loc["[0,+5]", "rbar"], 0.0, atol=1e-15)
    assert_allclose(s.loc["[0,+5]", "kp"], s.loc["[0,+5]", "bmp"], rtol=1e-12)


# ----------------------------------------------------------------------------- relative CAR
def test_relative_car_is_the_difference_of_the_two_cars() -> None:
    data = factor_returns(3, seed=9)
    events = [ev(IDX[t]) for t in (300, 450, 600)]
    res = event_study(data, events, market="M", relative=[("S0", "S1")])
    cars = res.cars.pivot_table(index=["event", "window"], columns="series", values="car", observed=True)
    assert_allclose(cars["S0 - S1"], cars["S0"] - cars["S1"], rtol=1e-10, atol=1e-15)
    est = res.estimates.set_index(["event", "series"])
    for e in res.events["event"]:
        assert_allclose(est.loc[(e, "S0 - S1"), "beta"], est.loc[(e, "S0"), "beta"] - est.loc[(e, "S1"), "beta"],
                        rtol=1e-9)
    rel = res.relative()
    assert set(rel["group"]) == {"S0 - S1"} and (rel["n"] == 3).all()
    # its tests are the tests of the spread's CARs
    sub = res.cars[res.cars["series"] == "S0 - S1"]
    for row in rel.itertuples():
        x = sub[sub["window"] == row.window]
        assert_allclose(row.t, stats.ttest_1samp(x["car"], 0).statistic, rtol=1e-9)


def test_relative_needs_both_series_affected() -> None:
    data = factor_returns(3, seed=9)
    res = event_study(data, [ev(IDX[300], affects=("S0",)), ev(IDX[500])], market="M", relative=[("S0", "S1")])
    assert set(res.cars[res.cars["series"] == "S0 - S1"]["event"]) == {res.events["event"].iloc[1]}


# ----------------------------------------------------------------------------- timing and exclusions
def test_event_day_zero_follows_the_timing_convention() -> None:
    idx = pd.bdate_range("2024-01-01", "2024-03-29")
    evs = [
        ev("2024-01-10", timing="after_close", ident="approval"),  # Wednesday after the close -> Thursday
        ev("2024-01-11", ident="launch"),                          # Thursday, open -> Thursday
        ev("2024-01-13", ident="weekend"),                         # Saturday -> Monday
        ev("2023-11-01", ident="before"),                          # before the data
        ev("2024-05-01", ident="after"),                           # after the data
    ]
    out = event_sessions(idx, evs).set_index("event")
    assert out.loc["approval", "session"] == pd.Timestamp("2024-01-11")
    assert out.loc["launch", "session"] == pd.Timestamp("2024-01-11")
    assert out.loc["weekend", "session"] == pd.Timestamp("2024-01-15")
    assert out.loc["before", "position"] == -1 and "before the first row" in out.loc["before", "reason"]
    assert out.loc["after", "position"] == -1 and "after the last row" in out.loc["after", "reason"]


def test_exclusions_are_listed_with_reasons() -> None:
    data = factor_returns(3, seed=2)
    data.loc[: IDX[399], "S2"] = np.nan              # listed at row 400
    events = [ev(IDX[405], ident="early"), ev(IDX[880], ident="late"), ev("2030-01-01", ident="future"),
              ev(IDX[600], affects=("S0", "NOPE", "M"), ident="typo")]
    res = event_study(data, events, market="M")
    ex = res.excluded
    s2 = ex[(ex["event"] == "early") & (ex["series"] == "S2")]["reason"].iloc[0]
    assert "valid returns in the estimation window" in s2 and f"first return {IDX[400].date()}" in s2
    late = ex[(ex["event"] == "late") & (ex["window"] == "[0,+60]")]
    assert len(late) == 3 and (late["reason"] == "the window runs past the data").all()
    assert "after the last row" in ex[ex["event"] == "future"]["reason"].iloc[0]
    typo = ex[ex["event"] == "typo"].set_index("series")["reason"]
    assert "not studied" in typo["NOPE"] and "market itself" in typo["M"]
    # the late event still counts for its short windows
    assert ((res.cars["event"] == "late") & (res.cars["window"] == "[-1,+1]")).sum() == 3


def test_groups_expand_in_affects_and_define_the_cross_sections() -> None:
    data = factor_returns(4, seed=11)
    groups = {"ai": ["S0", "S1"], "crypto": ["S2", "S3"]}
    events = [ev(IDX[300], affects=("crypto",)), ev(IDX[500], affects=("all",)), ev(IDX[600], affects=("S1",))]
    res = event_study(data, events, market="M", groups=groups, windows=[(0, 5)])
    s = res.summary.set_index("group")
    assert s.loc["crypto", "n"] == 4 and s.loc["crypto", "n_events"] == 2 and s.loc["crypto", "n_series"] == 2
    assert s.loc["ai", "n"] == 3 and s.loc["ai", "n_events"] == 2
    pooled = event_study(data, events, market="M", groups=groups, windows=[(0, 5)], by="all")
    assert set(pooled.summary["pool"]) == {"all"}
    per_event = event_study(data, events, market="M", groups=groups, windows=[(0, 5)], by="event")
    one = per_event.summary[per_event.summary["n"] == 1].iloc[0]
    car = per_event.cars[(per_event.cars["event"] == one["event"])].iloc[0]
    assert np.isnan(one["t"]) and np.isnan(one["bmp"])
    assert_allclose(one["p_single"], car["p_single"], rtol=1e-12)


def test_events_from_a_frame_and_an_event_set() -> None:
    data = factor_returns(2, seed=1)
    frame = pd.DataFrame({"date": [IDX[300], IDX[500]], "kind": ["cut", "cut"], "affects": ["all", "S0;S1"],
                          "label": ["a", "b"]})
    a = event_study(data, frame, market="M")
    b = event_study(data, EventSet.from_events([ev(IDX[300], "cut"), ev(IDX[500], "cut", ("S0", "S1"))]), market="M")
    assert_allclose(a.summary["mean_car"], b.summary["mean_car"], rtol=1e-15)


def test_bad_arguments_are_named() -> None:
    data = factor_returns(2, seed=1)
    events = [ev(IDX[300])]
    with pytest.raises(ParameterError, match="market"):
        event_study(data, events, market="SPY")
    with pytest.raises(ParameterError, match="gap"):
        event_study(data, events, market="M", gap=2, windows=[(-5, 5)])
    with pytest.raises(ParameterError, match="model"):
        event_study(data, events, market="M", model="fama_french")
    with pytest.raises(ParameterError, match="relative"):
        event_study(data, events, market="M", relative=[("S0", "XX")])
    with pytest.raises(ParameterError, match="groups"):
        event_study(data, events, market="M", groups={"g": ["XX"]})
    with pytest.raises(ParameterError, match="windows"):
        event_study(data, events, market="M", windows=[(5, 0)])
    with pytest.raises(ParameterError, match="by"):
        event_study(data, events, market="M", by="year")
    with pytest.raises(ParameterError, match="events"):
        event_study(data, [], market="M")
    with pytest.raises(DataError, match="estimation window"):
        event_study(data, [ev(IDX[20])], market="M")


# ----------------------------------------------------------------------------- paths
def test_paths_end_where_the_window_cars_are() -> None:
    data = factor_returns(6, seed=13)
    events = [ev(IDX[t]) for t in (300, 380, 470, 520)]
    res = event_study(data, events, market="M", windows=[(-1, 20), (-1, 5)], groups={"all": list(data.columns[:-1])})
    path = res.path("all")
    assert list(path["day"]) == list(range(-1, 21))
    s = res.summary.set_index("window")
    for day, window in ((20, "[-1,+20]"), (5, "[-1,+5]")):
        p = path[path["day"] == day].iloc[0]
        assert_allclose(p["mean_car"], s.loc[window, "mean_car"], rtol=1e-10)
        assert_allclose([p["ci_low"], p["ci_high"]], s.loc[window, ["ci_low", "ci_high"]].astype(float), rtol=1e-9)
        assert_allclose(p["rbar"], s.loc[window, "rbar"], rtol=1e-12)
    assert (path["ci_low"] <= path["mean_car"]).all() and (path["mean_car"] <= path["ci_high"]).all()


# ----------------------------------------------------------------------------- look-ahead
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    rows=st.lists(st.integers(70, 150), min_size=1, max_size=4),
    cut=st.integers(90, 170),
)
def test_appending_rows_never_changes_a_completed_car(seed: int, rows: list[int], cut: int) -> None:
    """Truncate the data at ``cut``: every CAR complete there equals the full-data CAR."""
    data = factor_returns(3, T=180, seed=seed, nan_frac=0.02)
    events = [ev(IDX[r], ident=f"e{k}") for k, r in enumerate(rows)]
    kw = {"market": "M", "estimation": 50, "gap": 3, "windows": [(-2, 2), (0, 10)], "min_estimation": 20}
    full = event_study(data, events, **kw)
    try:
        part = event_study(data.iloc[:cut], events, **kw)
    except DataError:
        return  # nothing complete before the cut
    a = part.cars.set_index(["event", "series", "window"])[["car", "se", "scar"]]
    b = full.cars.set_index(["event", "series", "window"])[["car", "se", "scar"]].reindex(a.index)
    assert_allclose(a.to_numpy(), b.to_numpy(), rtol=1e-9, atol=1e-13)
    ea = part.estimates.set_index(["event", "series"])[["alpha", "beta", "sigma", "n_est"]]
    eb = full.estimates.set_index(["event", "series"])[["alpha", "beta", "sigma", "n_est"]].reindex(ea.index)
    assert_allclose(ea.to_numpy(dtype=float), eb.to_numpy(dtype=float), rtol=1e-9, atol=1e-13)


def test_returns_inside_the_gap_do_not_move_the_model() -> None:
    data = factor_returns(2, seed=21)
    res = event_study(data, [ev(IDX[400])], market="M", windows=[(0, 5)])
    shocked = data.copy()
    shocked.iloc[390:400, 0] += 0.2  # the 10-row gap before day 0: rows 390..399
    again = event_study(shocked, [ev(IDX[400])], market="M", windows=[(0, 5)])
    assert_allclose(res.estimates[["alpha", "beta"]].to_numpy(dtype=float),
                    again.estimates[["alpha", "beta"]].to_numpy(dtype=float), rtol=1e-12)
    assert_allclose(res.cars["car"], again.cars["car"], rtol=1e-12)


# ----------------------------------------------------------------------------- real data
@pytest.fixture(scope="module")
def basket_returns(real_panel, real_universe) -> pd.DataFrame:
    cols = {}
    for name in real_universe.baskets:
        try:
            cols[name] = real_panel.basket_returns(name, "equal")
        except DataError:
            continue
    frame = pd.DataFrame(cols)
    frame["SPY"] = real_panel.returns["SPY"]
    return frame


@pytest.mark.shared_data
def test_rate_decisions_run_for_every_basket(basket_returns, real_universe) -> None:
    events = load_events().select(["fomc_hike", "fomc_hold", "fomc_cut"])
    res = event_study(basket_returns, events, relative=[("crypto_majors", "ai_compute")])
    # stablecoins: a pegged price whose stored supply ends 2025-11-26, so its index has no level (and no
    # return) after that and the December-2025 cut falls outside its data; it is not a rate story anyway.
    baskets = [c for c in basket_returns.columns if c not in {"SPY", "stablecoins"}]
    assert set(real_universe.baskets) - {"stablecoins"} <= set(baskets)
    got = res.summary
    for kind, n_events in (("fomc_hike", 11), ("fomc_hold", 15), ("fomc_cut", 6)):
        for b in [*baskets, "crypto_majors - ai_compute"]:
            rows = got[(got["kind"] == kind) & (got["group"] == b)]
            assert len(rows) == len(DEFAULT_WINDOWS), (kind, b)
            # every meeting from 2022 is inside the data for the short window
            short = rows[rows["window"] == "[-1,+1]"].iloc[0]
            assert short["n"] == n_events, (kind, b, short["n"])
            assert np.isfinite(rows[["mean_car", "bmp", "p_kp", "ci_low", "ci_high"]].to_numpy(dtype=float)).all()
    est = res.estimates
    # sanity: the AI-compute basket is a high-beta equity basket; the S&P 500 index tracks SPY one for one
    assert est[est["series"] == "ai_compute"]["beta"].between(1.0, 3.0).all()
    bench = res.cars[(res.cars["series"] == "benchmarks")]
    assert len(bench) > 0
    assert (res.paths.groupby(["kind", "group"]).size() == 62).all()


@pytest.mark.shared_data
def test_spot_etf_approval_excludes_ibit_gracefully(real_panel) -> None:
    cols = ["BTC", "ETH", "COIN", "MSTR", "IBIT", "SPY"]
    data = real_panel.returns[cols]
    events = load_events().select(["etf_approval", "etf_launch"])
    res = event_study(data, events, groups={"crypto_majors": ["BTC", "ETH"], "crypto_equities": ["COIN", "MSTR"]})
    ex = res.excluded
    ibit = ex[(ex["event"] == "btc-etf-approval") & (ex["series"] == "IBIT")]
    assert len(ibit) == 1
    assert "valid returns in the estimation window" in ibit["reason"].iloc[0]
    assert "first return 2024-01-1" in ibit["reason"].iloc[0]
    # the other affected instruments are studied for the approval
    studied = set(res.cars[res.cars["event"] == "btc-etf-approval"]["series"])
    assert {"BTC", "ETH", "COIN", "MSTR"} <= studied
    # day 0 of an after-close approval is the next session
    sess = res.events.set_index("event")["session"]
    assert sess["btc-etf-approval"] == pd.Timestamp("2024-01-11")
    assert sess["eth-etf-approval"] == pd.Timestamp("2024-05-24")


@pytest.mark.shared_data
def test_real_baskets_match_a_statsmodels_loop(basket_returns) -> None:
    events = [e for e in load_events().select(["fomc_cut"])][:3]
    res = event_study(basket_returns[["ai_compute", "crypto_majors", "SPY"]], events, windows=[(0, 5), (-1, 1)])
    data = basket_returns[["ai_compute", "crypto_majors", "SPY"]].rename(columns={"SPY": "M"})
    est = res.estimates.set_index(["event", "series"])
    cars = res.cars.set_index(["event", "series", "window"])
    for e in events:
        t0 = data.index.get_loc(res.events.set_index("event").loc[e.id, "session"])
        for s in ("ai_compute", "crypto_majors"):
            for w, label in (((0, 5), "[0,+5]"), ((-1, 1), "[-1,+1]")):
                a, b, sig, car, se = _sm_reference(data, s, t0, 250, 10, w, "market")
                assert_allclose(est.loc[(e.id, s), ["alpha", "beta", "sigma"]].astype(float), [a, b, sig], rtol=1e-9)
                assert_allclose(cars.loc[(e.id, s, label), ["car", "se"]].astype(float), [car, se], rtol=1e-9)


@pytest.mark.shared_data
def test_spx_has_no_abnormal_return_against_spy(real_panel) -> None:
    data = real_panel.returns[["SPX", "SPY"]]
    res = event_study(data, load_events().select(["fomc_cut", "fomc_hike"]), windows=[(0, 5)])
    assert (res.cars["car"].abs() < 0.01).all()
    assert res.estimates["beta"].between(0.9, 1.1).all()


def test_events_that_affect_nothing_studied_raise() -> None:
    data = factor_returns(2, seed=1)
    with pytest.raises(DataError, match="no event affects"):
        event_study(data, [ev(IDX[300], affects=("XX",))], market="M")
