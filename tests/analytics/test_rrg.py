"""Relative strength and relative rotation (rotation.analytics.rrg)."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose

from rotation.analytics.rrg import (
    QUADRANTS,
    RRGResult,
    quadrant,
    relative_strength,
    rrg,
    rs_momentum,
    rs_ratio,
    to_weekly,
)
from rotation.errors import DataError, ParameterError

WEEKS = pd.date_range("2020-01-03", periods=200, freq="W-FRI")


def weekly_frame(columns: dict[str, np.ndarray]) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    return pd.DataFrame(columns, index=pd.DatetimeIndex(WEEKS[:n], name="date"))


# ----------------------------------------------------------------------------- hand-computed
def test_hand_computed_ratio_and_momentum():
    # Provenance: worked by hand. Benchmark 100 flat and P = 100 exp(x) with
    # x = 0.01 * [0, 2, 1, 3, 5, 4, 7], so ln RS = ln 100 + x and, the z-score being
    # shift/scale free, RS-Ratio is 100 + z of u = [0, 2, 1, 3, 5, 4, 7] over 3 rows:
    #   t=2: u=[0,2,1]  mean 1, sd 1            -> z = (1-1)/1 = 0            -> 100
    #   t=3: u=[2,1,3]  mean 2, sd 1            -> z = (3-2)/1 = 1            -> 101
    #   t=4: u=[1,3,5]  mean 3, sd 2            -> z = (5-3)/2 = 1            -> 101
    #   t=5: u=[3,5,4]  mean 4, sd 1            -> z = 0                      -> 100
    #   t=6: u=[5,4,7]  mean 16/3, sd sqrt(7/3) -> z = (5/3)/sqrt(7/3) = 5/sqrt(21)
    # RS-Momentum (k=1, 3 rows) on the changes d = [., ., ., 1, 0, -1, 5/sqrt(21)]:
    #   t=5: d=[1,0,-1] mean 0, sd 1 -> z = -1 -> 99
    #   t=6: d=[0,-1,a] with a = 5/sqrt(21): z = (a - mean)/sd (statistics module below)
    x = 0.01 * np.array([0, 2, 1, 3, 5, 4, 7], dtype=float)
    px = weekly_frame({"A": 100 * np.exp(x), "BM": np.full(7, 100.0)})
    res = rrg(px, "BM", ratio_window=3, momentum_window=3, weekly=False)
    a = 5 / math.sqrt(21)
    assert_allclose(res.rs["A"].to_numpy(), 100 * np.exp(x), rtol=1e-15)
    assert_allclose(res.ratio["A"].to_numpy(), [np.nan, np.nan, 100, 101, 101, 100, 100 + a], rtol=1e-12)
    d = [0.0, -1.0, a]
    z6 = (a - statistics.mean(d)) / statistics.stdev(d)
    assert_allclose(res.momentum["A"].to_numpy(), [np.nan] * 5 + [99.0, 100 + z6], rtol=1e-12)
    frame = res.to_frame()
    assert frame.loc["A", "quadrant"] == "leading"  # (100 + 5/sqrt(21), 100 + z6) with z6 > 0
    assert z6 > 0
    # heading from (100, 99) to (100+a, 100+z6): atan2(1+z6, a)
    assert_allclose(frame.loc["A", "heading"], math.degrees(math.atan2(1 + z6, a)), rtol=1e-12)
    assert_allclose(frame.loc["A", "distance"], math.hypot(a, z6), rtol=1e-12)


def _reference(lrs: list[float], n1: int, n2: int, k: int, s: int) -> tuple[list[float], list[float]]:
    """Independent loop implementation of the documented formulas (statistics module)."""
    nan = float("nan")
    T = len(lrs)
    xs = [statistics.fmean(lrs[t - s + 1 : t + 1]) if t >= s - 1 else nan for t in range(T)]
    ratio = []
    for t in range(T):
        win = xs[max(0, t - n1 + 1) : t + 1]
        if t < n1 - 1 or any(math.isnan(v) for v in win):
            ratio.append(nan)
        else:
            ratio.append(100 + (xs[t] - statistics.fmean(win)) / statistics.stdev(win))
    d = [ratio[t] - ratio[t - k] if t >= k else nan for t in range(T)]
    mom = []
    for t in range(T):
        win = d[max(0, t - n2 + 1) : t + 1]
        if t < n2 - 1 or any(math.isnan(v) for v in win):
            mom.append(nan)
        else:
            mom.append(100 + (d[t] - statistics.fmean(win)) / statistics.stdev(win))
    return ratio, mom


@pytest.mark.parametrize(("n1", "n2", "k", "s"), [(12, 12, 1, 1), (10, 5, 2, 3), (4, 6, 3, 2)])
def test_matches_independent_loop(n1, n2, k, s):
    rng = np.random.default_rng(7)
    lrs = np.cumsum(rng.normal(0, 0.02, 90))
    px = weekly_frame({"A": 50 * np.exp(lrs), "BM": np.full(90, 50.0)})
    res = rrg(px, "BM", ratio_window=n1, momentum_window=n2, roc_period=k, smooth=s, weekly=False)
    ratio, mom = _reference(list(np.log(100 * np.exp(lrs))), n1, n2, k, s)
    assert_allclose(res.ratio["A"].to_numpy(), ratio, rtol=1e-11)
    assert_allclose(res.momentum["A"].to_numpy(), mom, rtol=1e-9)
    assert res.momentum["A"].notna().sum() == 90 - (s - 1 + n1 - 1 + k + n2 - 1)


def test_relative_strength_line():
    idx = pd.date_range("2024-01-01", periods=5, freq="D")
    px = pd.DataFrame({"A": [10.0, 11, np.nan, 12, 13], "B": [np.nan, 2.0, 2, 2, 4]}, index=idx)
    bench = pd.Series([5.0, 5, 5, np.nan, 10], index=idx, name="SPY")
    rs = relative_strength(px, bench)
    expected = 100 * px.to_numpy() / bench.to_numpy()[:, None]
    assert_allclose(rs.to_numpy(), expected)
    assert list(rs.columns) == ["A", "B"]
    # benchmark given as a column: excluded from the output
    rs2 = relative_strength(px.assign(SPY=bench), "SPY")
    assert list(rs2.columns) == ["A", "B"]
    assert_allclose(rs2.to_numpy(), expected)
    # a benchmark Series on other dates is aligned by date, not position
    shifted = bench.copy()
    shifted.index = idx + pd.Timedelta(days=1)
    rs3 = relative_strength(px, shifted)
    assert rs3["A"].iloc[0] != rs3["A"].iloc[0]  # NaN: no benchmark on the first date
    assert_allclose(rs3["A"].iloc[1], 100 * 11 / 5)


def test_reflection_symmetry():
    """Swapping asset and benchmark reflects every point through (100, 100) exactly."""
    rng = np.random.default_rng(3)
    p = 100 * np.exp(np.cumsum(rng.normal(0, 0.03, 80)))
    b = 80 * np.exp(np.cumsum(rng.normal(0, 0.02, 80)))
    fwd = rrg(weekly_frame({"P": p, "B": b}), "B", weekly=False)
    inv = rrg(weekly_frame({"B": b, "P": p}), "P", weekly=False)
    assert_allclose(fwd.ratio["P"] - 100, -(inv.ratio["B"] - 100), atol=1e-9)
    assert_allclose(fwd.momentum["P"] - 100, -(inv.momentum["B"] - 100), atol=1e-9)
    mirror = {"leading": "lagging", "lagging": "leading", "weakening": "improving", "improving": "weakening"}
    qf, qi = fwd.quadrants["P"].dropna(), inv.quadrants["B"].dropna()
    assert (qf.map(mirror) == qi).all()


# ----------------------------------------------------------------------------- quadrants
def test_quadrant_labels():
    r = pd.Series([101.0, 101, 99, 99, 100, np.nan], index=WEEKS[:6])
    m = pd.Series([101.0, 99, 99, 101, 100, 100], index=WEEKS[:6])
    assert list(quadrant(r, m).iloc[:, 0].iloc[:5]) == ["leading", "weakening", "lagging", "improving", "leading"]
    assert pd.isna(quadrant(r, m).iloc[5, 0])


def test_cycle_rotates_clockwise():
    # A relative-strength line that oscillates (a 26-week cycle) must visit the quadrants
    # in the RRG order improving -> leading -> weakening -> lagging -> improving.
    t = np.arange(200)
    px = weekly_frame({"A": 100 * np.exp(0.1 * np.sin(2 * np.pi * t / 26)), "BM": np.full(200, 100.0)})
    q = rrg(px, "BM", weekly=False).quadrants["A"].dropna()
    changes = q[q != q.shift()]
    assert len(changes) >= 20  # several full turns
    nxt = {QUADRANTS[i]: QUADRANTS[(i + 1) % 4] for i in range(4)}
    pairs = list(zip(changes.iloc[:-1], changes.iloc[1:], strict=True))
    assert all(nxt[a] == b for a, b in pairs), pairs


PARAMS = [
    {},
    {"ratio_window": 10, "momentum_window": 5},
    {"ratio_window": 14, "momentum_window": 14},
    {"ratio_window": 26, "momentum_window": 8},
    {"roc_period": 2},
    {"smooth": 3},
]


def _scenario(n: int, kind: str) -> np.ndarray:
    """ln RS: a 1%-amplitude 7-week background cycle plus the scenario's move at the end."""
    t = np.arange(n)
    lg = 0.01 * np.sin(2 * np.pi * t / 7)
    if kind == "breakout":  # starts to outperform on the last row
        lg[-1] += 0.03
    elif kind == "accelerating":  # outperformance gathering pace over the last two rows
        lg[-2:] += [0.02, 0.08]
    elif kind == "topping":  # long outperformance that rolls over
        lg[30:] += 0.02 * np.arange(n - 30)
        lg[-3:] = lg[-4] - np.array([0.01, 0.025, 0.045])
    elif kind == "bottoming":  # long underperformance that turns up
        lg[30:] -= 0.02 * np.arange(n - 30)
        lg[-3:] = lg[-4] + np.array([0.01, 0.025, 0.045])
    return lg


@pytest.mark.parametrize("kw", PARAMS)
def test_breakout_ends_leading_and_breakdown_lagging(kw):
    # at every phase of the background cycle
    for n in range(56, 63):
        lg = _scenario(n, "breakout")
        px = weekly_frame({"up": 100 * np.exp(lg), "down": 100 * np.exp(-lg), "BM": np.full(n, 100.0)})
        q = rrg(px, "BM", weekly=False, **kw).to_frame()["quadrant"]
        assert q["up"] == "leading", (n, kw)
        assert q["down"] == "lagging", (n, kw)


def test_accelerating_topping_bottoming():
    for n in range(56, 63):
        cols = {k: 100 * np.exp(_scenario(n, k)) for k in ("accelerating", "topping", "bottoming")}
        q = rrg(weekly_frame({**cols, "BM": np.full(n, 100.0)}), "BM", weekly=False).to_frame()["quadrant"]
        assert q["accelerating"] == "leading", n
        assert q["topping"] == "weakening", n
        assert q["bottoming"] == "improving", n


def test_steady_trend_saturates_ratio():
    # documented behaviour: a linear trend in ln RS gives ratio 100 + (n-1) sqrt(3 / (n (n+1)))
    # (last of 0..n-1 minus the mean (n-1)/2, over the ddof=1 sd sqrt(n (n+1) / 12))
    lg = 0.01 * np.arange(60)
    res = rrg(weekly_frame({"A": 100 * np.exp(lg), "BM": np.full(60, 100.0)}), "BM", weekly=False)
    assert_allclose(res.ratio["A"].dropna().to_numpy(), 100 + 11 * math.sqrt(3 / (12 * 13)), rtol=1e-10)
    assert res.momentum["A"].isna().all()  # constant ratio: flat window, no z-score


# ----------------------------------------------------------------------------- look-ahead
price_paths = st.integers(min_value=30, max_value=70).flatmap(
    lambda T: st.tuples(
        arrays(np.float64, (T, 3), elements=st.floats(-0.08, 0.08, allow_nan=False, allow_subnormal=False)),
        st.integers(min_value=5, max_value=T - 1),
        st.integers(min_value=0, max_value=T // 2),
    )
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(price_paths)
def test_no_lookahead_appending_rows(case):
    """RS, RS-Ratio and RS-Momentum of a prefix equal those of the full history on the prefix."""
    rets, cut, late = case
    T = len(rets)
    px = pd.DataFrame(
        100 * np.exp(np.cumsum(rets, axis=0)),
        index=pd.date_range("2021-01-01", periods=T, freq="W-FRI"),
        columns=["A", "B", "BM"],
    )
    px.iloc[:late, 1] = np.nan  # a late listing
    kw = {"ratio_window": 4, "momentum_window": 3, "roc_period": 1, "smooth": 2, "weekly": False}
    full = rrg(px, "BM", **kw)
    try:
        part = rrg(px.iloc[:cut], "BM", **kw)
    except DataError:
        return  # prefix too short for any point: nothing to compare
    for a, b in ((part.rs, full.rs), (part.ratio, full.ratio), (part.momentum, full.momentum)):
        assert_allclose(a.to_numpy(), b.loc[a.index].to_numpy(), rtol=0, atol=0, equal_nan=True)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=120, max_value=300), st.integers(min_value=60, max_value=119))
def test_no_lookahead_weekly_resampling(T, cut):
    """Daily input reduced to weeks: cutting the daily history anywhere never changes a past week."""
    rng = np.random.default_rng(T * 1000 + cut)
    idx = pd.bdate_range("2022-01-03", periods=T)
    px = pd.DataFrame(100 * np.exp(np.cumsum(rng.normal(0, 0.01, (T, 2)), axis=0)), index=idx, columns=["A", "BM"])
    kw = {"ratio_window": 4, "momentum_window": 3}
    full = rrg(px, "BM", **kw)
    part = rrg(px.iloc[:cut], "BM", **kw)
    assert part.frequency == "W"
    assert part.rs.index.isin(full.rs.index).all()
    for a, b in ((part.rs, full.rs), (part.ratio, full.ratio), (part.momentum, full.momentum)):
        assert_allclose(a.to_numpy(), b.loc[a.index].to_numpy(), rtol=0, atol=0, equal_nan=True)


def test_not_full_sample_normalised():
    # an extreme future move leaves every past coordinate unchanged (a full-sample z-score would not)
    rng = np.random.default_rng(11)
    lg = np.cumsum(rng.normal(0, 0.02, 80))
    base = weekly_frame({"A": 100 * np.exp(lg), "BM": np.full(80, 100.0)})
    shock = base.copy()
    shock.iloc[-5:, 0] *= 10.0
    a, b = rrg(base, "BM", weekly=False), rrg(shock, "BM", weekly=False)
    assert_allclose(a.ratio.iloc[:-5].to_numpy(), b.ratio.iloc[:-5].to_numpy(), rtol=0, atol=0)
    assert_allclose(a.momentum.iloc[:-5].to_numpy(), b.momentum.iloc[:-5].to_numpy(), rtol=0, atol=0)
    assert not np.allclose(a.ratio.iloc[-5:].to_numpy(), b.ratio.iloc[-5:].to_numpy())


def test_late_listing_equals_own_history():
    # a series listed late gets exactly the values it would have on its own (trailing, full windows)
    rng = np.random.default_rng(5)
    lg = np.cumsum(rng.normal(0, 0.02, (100, 2)), axis=0)
    px = weekly_frame({"old": 100 * np.exp(lg[:, 0]), "new": 100 * np.exp(lg[:, 1]), "BM": np.full(100, 100.0)})
    px.iloc[:40, 1] = np.nan
    res = rrg(px, "BM", weekly=False)
    alone = rrg(px.iloc[40:][["new", "BM"]], "BM", weekly=False)
    assert_allclose(res.momentum["new"].iloc[40:].to_numpy(), alone.momentum["new"].to_numpy(), rtol=1e-12)
    first = res.momentum["new"].first_valid_index()
    assert first == px.index[40 + 11 + 1 + 11]  # ratio needs 12 rows, momentum 1 + 12 changes


# ----------------------------------------------------------------------------- weekly, tails, frame
def test_to_weekly_complete_weeks_only():
    idx = pd.bdate_range("2024-01-01", "2024-01-17")  # Mon 1 Jan .. Wed 17 Jan
    s = pd.Series(np.arange(len(idx), dtype=float), index=idx, name="x")
    s.loc["2024-01-12"] = np.nan  # the Friday of week 2 is missing: take Thursday's value
    w = to_weekly(s)
    assert list(w.index) == [pd.Timestamp("2024-01-05"), pd.Timestamp("2024-01-12")]
    assert list(w) == [4.0, 8.0]
    # once Friday arrives the third week appears and the earlier weeks are untouched
    more = pd.concat([s, pd.Series([99.0, 100.0], index=pd.to_datetime(["2024-01-18", "2024-01-19"]))])
    w2 = to_weekly(more)
    assert list(w2.index[:2]) == list(w.index) and list(w2.iloc[:2]) == list(w)
    assert w2.iloc[-1] == 100.0


def test_weekly_input_detected_in_any_time_unit():
    # pandas >= 2 indexes may be in us or s: weekly rows are used as given, not resampled
    rng = np.random.default_rng(9)
    px = weekly_frame({"A": 100 * np.exp(np.cumsum(rng.normal(0, 0.02, 60))), "BM": np.full(60, 100.0)})
    for unit in ("ns", "us", "s"):
        res = rrg(px.set_axis(px.index.as_unit(unit)), "BM")
        assert res.frequency == "as given" and len(res.rs) == 60
    daily = px.resample("D").ffill()
    assert rrg(daily.set_axis(daily.index.as_unit("us")), "BM").frequency == "W"


def test_tails_and_to_frame():
    rng = np.random.default_rng(2)
    lg = np.cumsum(rng.normal(0, 0.02, (60, 2)), axis=0)
    px = weekly_frame({"A": 100 * np.exp(lg[:, 0]), "B": 100 * np.exp(lg[:, 1]), "BM": np.full(60, 100.0)})
    px.iloc[-3:, 1] = np.nan  # B stopped reporting: its tail ends earlier
    res = rrg(px, "BM", weekly=False)
    tails = res.tails(5)
    assert list(tails.columns) == ["series", "date", "rs_ratio", "rs_momentum", "quadrant", "step"]
    for name, g in tails.groupby("series"):
        assert len(g) == 5
        assert list(g["step"]) == [4, 3, 2, 1, 0]
        assert g["date"].is_monotonic_increasing
        assert_allclose(g["rs_ratio"].to_numpy(), res.ratio.loc[g["date"], name].to_numpy())
    assert tails[tails.series == "B"]["date"].max() == px.index[-4]
    frame = res.to_frame()
    assert list(frame.index) == ["A", "B"]
    assert frame.loc["B", "date"] == px.index[-4]
    assert set(frame["quadrant"]) <= set(QUADRANTS)
    assert isinstance(res, RRGResult)


def test_errors():
    px = weekly_frame({"A": np.full(30, 10.0), "BM": np.full(30, 10.0)})
    with pytest.raises(ParameterError, match="benchmark"):
        rrg(px, "XXX")
    with pytest.raises(ParameterError, match="ratio_window"):
        rrg(px, "BM", ratio_window=1)
    bad = px.copy()
    bad.iloc[3, 0] = -1.0
    with pytest.raises(DataError, match="'A'.*2020-01-24"):
        relative_strength(bad, "BM")
    rng = np.random.default_rng(0)
    short = weekly_frame({"A": 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 20))), "BM": np.full(20, 1.0)})
    with pytest.raises(DataError, match="at least 24"):
        rrg(short, "BM", weekly=False)
    with pytest.raises(ParameterError, match="DatetimeIndex"):
        rrg(px.reset_index(drop=True), "BM")
    with pytest.raises(ParameterError, match="sorted"):
        rrg(px.iloc[::-1], "BM")


def test_rs_functions_validate():
    rs = weekly_frame({"A": np.linspace(90, 110, 30)})
    with pytest.raises(ParameterError, match="min_periods"):
        rs_ratio(rs, window=5, min_periods=6)
    with pytest.raises(ParameterError, match="roc_period"):
        rs_momentum(rs, roc_period=0)


# ----------------------------------------------------------------------------- real data
@pytest.mark.shared_data
def test_real_weekly_rrg_sanity(real_weekly_panel):
    panel = real_weekly_panel
    levels = pd.DataFrame(
        # equal weights: equity caps exist only from a 2026 snapshot, so cap-weighted AI
        # baskets start in 2026
        {name: panel.basket_levels(name, "equal") for name in ("ai_compute", "ai_cloud", "crypto_majors")}
    )
    res = rrg(levels, panel.prices["SPY"].rename("SPY"))
    n1 = res.ratio_window
    bound = (n1 - 1) / math.sqrt(n1)  # max |z| of a point within its own n-sample (ddof=1)
    ratio = res.ratio.to_numpy()
    assert np.nanmax(np.abs(ratio - 100)) <= bound + 1e-9
    frame = res.to_frame()
    assert frame["quadrant"].isin(QUADRANTS).all()
    assert frame["date"].notna().all()
    # AI compute outperformed the S&P 500 from end-2022 to mid-2024 (the Nvidia run):
    rs = res.rs["ai_compute"]
    assert rs.loc["2024-06-28"] > 1.5 * rs.loc["2022-12-30"]
    # ... and its RS-Ratio sat above 100 in most of those weeks
    assert (res.ratio["ai_compute"].loc["2023-01-06":"2024-06-28"] > 100).mean() > 0.6


# ----------------------------------------------------------------------------- lazy RS
def _rs_case() -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(11)
    T = 300
    idx = pd.bdate_range("2021-01-04", periods=T)
    px = pd.DataFrame(100 * np.exp(np.cumsum(rng.normal(0, 0.01, (T, 5)), axis=0)), index=idx, columns=list("ABCDE"))
    px.iloc[:40, 1] = np.nan  # late listing
    px.iloc[250:, 3] = np.nan  # delisted: its latest point is not the last row
    px.iloc[rng.integers(0, T, 10), 4] = np.nan
    bm = pd.Series(50 * np.exp(np.cumsum(rng.normal(0, 0.01, T))), index=idx, name="BM")
    bm.iloc[[5, 77]] = np.nan
    return px, bm


@pytest.mark.parametrize("numba", ["0", "1"])
def test_rs_built_on_access_equals_relative_strength(monkeypatch, numba):
    """``res.rs`` is computed from the prices on first access: the same bits as relative_strength."""
    monkeypatch.setenv("ROTATION_NUMBA", numba)
    px, bm = _rs_case()
    expected = relative_strength(px, bm)
    for benchmark, prices in ((bm, px), ("BM", px.assign(BM=bm))):
        res = rrg(prices, benchmark, ratio_window=20, momentum_window=10, weekly=False)
        latest = res.to_frame()  # before rs exists: RS read at the latest points only
        assert "_rs_value" in vars(res) and not isinstance(vars(res)["_rs_value"], pd.DataFrame)
        pd.testing.assert_frame_equal(res.rs, expected, check_exact=True)
        assert res.rs is res.rs  # built once, then kept
        pd.testing.assert_frame_equal(res.to_frame(), latest, check_exact=True)
        rows = [res.rs.index.get_loc(d) for d in latest["date"]]
        np.testing.assert_array_equal(latest["rs"].to_numpy(), expected.to_numpy()[rows, range(5)])
        assert latest.loc["D", "date"] == px.index[249]


def test_rrg_result_constructed_with_a_frame_still_works():
    """RRGResult's constructor is unchanged: rs first (positional or keyword), frozen, replace()."""
    import dataclasses
    import pickle

    px, bm = _rs_case()
    res = rrg(px, bm, ratio_window=20, momentum_window=10, weekly=False)
    fields = [f.name for f in dataclasses.fields(RRGResult)]
    assert fields[:3] == ["rs", "ratio", "momentum"]
    rs = res.rs * 2.0
    again = RRGResult(rs, res.ratio, res.momentum, "BM", 20, 10, 1, 1, "as given")
    assert again.rs is rs
    pd.testing.assert_frame_equal(
        again.to_frame().drop(columns="rs"), res.to_frame().drop(columns="rs"), check_exact=True
    )
    np.testing.assert_array_equal(again.to_frame()["rs"].to_numpy(), 2.0 * res.to_frame()["rs"].to_numpy())
    with pytest.raises(TypeError):
        RRGResult(ratio=res.ratio, momentum=res.momentum, benchmark="BM", ratio_window=20,
                  momentum_window=10, roc_period=1, smooth=1, frequency="as given")  # rs is required
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.rs = rs  # type: ignore[misc]
    fresh = rrg(px, bm, ratio_window=20, momentum_window=10, weekly=False)
    copied = pickle.loads(pickle.dumps(fresh))  # rs not built yet: its operands travel
    pd.testing.assert_frame_equal(copied.rs, res.rs, check_exact=True)
    swapped = dataclasses.replace(fresh, benchmark="other")
    assert swapped.benchmark == "other"
    pd.testing.assert_frame_equal(swapped.rs, res.rs, check_exact=True)
