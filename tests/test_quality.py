"""Data-quality checks: each problem planted in a small synthetic store, found with its dates."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner, Result

from rotation.errors import EmptyStoreError, ParameterError
from rotation.panel._calendar import sessions
from rotation.quality import POLICY, CleaningPolicy, QualityReport, Thresholds, check_store
from rotation.quality._checks import level_step
from rotation.quality._report import FRAME_COLUMNS
from rotation.store import Store
from rotation.universe import Instrument, MacroSeries, Universe

FIXTURES = Path(__file__).parent / "fixtures" / "quality"

# ---------------------------------------------------------------------------- builders


def _sessions(start: str, n: int) -> pd.DatetimeIndex:
    out = sessions(start, pd.Timestamp(start) + pd.Timedelta(days=2 * n + 30))[:n]
    assert len(out) == n
    return out


def _days(start: str, n: int) -> pd.DatetimeIndex:
    return pd.date_range(start, periods=n, freq="D")


def _walk(n: int, vol: float = 0.01, seed: int = 0, level: float = 100.0) -> np.ndarray:
    """Gaussian log random walk: max robust |z| of ~3.5 over a few hundred steps, never 8."""
    r = np.random.default_rng(seed).normal(0.0, vol, n)
    r[0] = 0.0
    return level * np.exp(np.cumsum(r))


def _step(close: np.ndarray, k: int, factor: float) -> np.ndarray:
    """``close`` whose step into row ``k`` is exactly ``factor`` (the walk's own move removed)."""
    out = close.copy()
    out[k:] *= factor * close[k - 1] / close[k]
    return out


def _frame(
    symbol: str,
    dates: pd.DatetimeIndex,
    close: np.ndarray,
    *,
    adj: np.ndarray | float | None = 0.97,
) -> pd.DataFrame:
    """OHLC consistent with ``close``; ``adj``: a factor (dividend basis), an array, or None."""
    close = np.asarray(close, dtype=float)
    opens = np.r_[close[0], close[:-1]]
    out = pd.DataFrame(
        {
            "symbol": symbol,
            "date": dates,
            "open": opens,
            "high": np.maximum(opens, close) * 1.004,
            "low": np.minimum(opens, close) * 0.996,
            "close": close,
            "volume": 1e6,
        }
    )
    if adj is not None:
        out["adj_close"] = close * adj if np.isscalar(adj) else np.asarray(adj, dtype=float)
    return out


def _universe(
    crypto: tuple[str, ...] = (),
    stable: tuple[str, ...] = (),
    equity: tuple[str, ...] = (),
    macro: tuple[MacroSeries, ...] = (),
) -> Universe:
    inst = {s: Instrument(s, "crypto", sources={"file": s}) for s in crypto}
    inst |= {s: Instrument(s, "stablecoin", sources={"file": s}) for s in stable}
    inst |= {s: Instrument(s, "equity", sources={"file": s}) for s in equity}
    return Universe(instruments=inst, baskets={}, macro={m.symbol: m for m in macro})


@pytest.fixture
def store() -> Store:
    s = Store(":memory:")
    yield s
    s.close()


def _row(report: QualityReport, symbol: str, source: str = "src") -> pd.Series:
    frame = report.to_frame()
    hit = frame[(frame["symbol"] == symbol) & (frame["source"] == source)]
    assert len(hit) == 1, (
        f"{symbol}/{source} not in report: {frame[['symbol', 'source']].values.tolist()}"
    )
    return hit.iloc[0]


def _details(report: QualityReport, symbol: str, check: str) -> pd.DataFrame:
    d = report.details
    return d[(d["symbol"] == symbol) & (d["check"] == check)].reset_index(drop=True)


# ---------------------------------------------------------------------------- clean data


def test_clean_equity_and_crypto_report_nothing(store: Store) -> None:
    # Nov 2020 - Jan 2022 spans Thanksgiving, Christmas, New Year, Good Friday: no holiday is a gap
    eq_dates = _sessions("2020-11-02", 300)
    assert pd.Timestamp("2020-11-26") not in eq_dates
    store.write_observations(_frame("EQ", eq_dates, _walk(300, seed=1)), source="src")
    store.write_observations(
        _frame("CC", _days("2021-01-01", 400), _walk(400, vol=0.03, seed=2), adj=None), source="src"
    )
    report = check_store(store, _universe(crypto=("CC",), equity=("EQ",)))

    for sym, n, cal in (("EQ", 300, "sessions"), ("CC", 400, "all_days")):
        row = _row(report, sym)
        assert row["status"] == "ok", row["issues"]
        assert row["issues"] == "" and row["notes"] == ""
        assert row["calendar"] == cal
        assert row["rows"] == n and row["expected"] == n and row["coverage"] == 1.0
        for col in (
            "missing",
            "longest_gap",
            "off_calendar",
            "non_positive",
            "ohlc_bad",
            "stale_runs",
            "outliers",
            "spikes",
            "split_like",
            "disagreements",
            "blank",
        ):
            assert row[col] == 0, col
    assert report.details.empty
    assert report.disagreements.empty
    s = report.summary()
    assert (s["ok"], s["warn"], s["fail"], s["series"]) == (2, 0, 0, 2)
    assert report.ok
    assert report.as_of == pd.Timestamp("2022-02-04")  # the crypto series' last day


# ---------------------------------------------------------------------------- coverage and gaps


def test_gaps_counted_with_longest_and_dates(store: Store) -> None:
    dates = _sessions("2021-03-01", 300)
    frame = _frame("EQ", dates, _walk(300, seed=3))
    dropped = [*range(100, 107), 200, 201]
    store.write_observations(frame.drop(index=dropped), source="src")
    report = check_store(store, _universe(equity=("EQ",)))
    row = _row(report, "EQ")
    assert row["rows"] == 291 and row["expected"] == 300
    assert row["missing"] == 9
    assert row["coverage"] == pytest.approx(291 / 300)
    assert row["longest_gap"] == 7 and row["long_gaps"] == 1
    assert row["longest_gap_start"] == dates[100] and row["longest_gap_end"] == dates[106]
    assert row["status"] == "warn"
    assert "1 gap(s) > 5, longest 7" in row["issues"]
    gaps = _details(report, "EQ", "gap").sort_values("date").reset_index(drop=True)
    assert gaps["value"].tolist() == [7.0, 2.0]
    assert gaps["date"].tolist() == [dates[100], dates[200]]
    assert gaps["end_date"].tolist() == [dates[106], dates[201]]
    assert f"between {dates[99].date()} and {dates[107].date()}" in gaps["detail"][0]


def test_short_crypto_gap_is_a_note_not_a_warning(store: Store) -> None:
    days = _days("2022-01-01", 400)
    frame = _frame("CC", days, _walk(400, vol=0.03, seed=4), adj=None)
    store.write_observations(frame.drop(index=[50, 51, 52]), source="src")
    row = _row(check_store(store, _universe(crypto=("CC",))), "CC")
    assert (row["missing"], row["longest_gap"], row["long_gaps"]) == (3, 3, 0)
    assert row["longest_gap_start"] == days[50] and row["longest_gap_end"] == days[52]
    assert row["status"] == "ok"
    assert "3 missing date(s), longest 3 (2022-02-20..2022-02-22)" in row["notes"]


def test_gap_threshold_follows_thresholds(store: Store) -> None:
    days = _days("2022-01-01", 200)
    store.write_observations(
        _frame("CC", days, _walk(200, seed=5), adj=None).drop(index=[10, 11, 12]), source="src"
    )
    row = _row(
        check_store(store, _universe(crypto=("CC",)), thresholds=Thresholds(max_gap=2)), "CC"
    )
    assert row["long_gaps"] == 1 and row["status"] == "warn"


def test_equity_row_on_a_weekend_is_off_calendar(store: Store) -> None:
    dates = _sessions("2021-06-01", 120)
    frame = _frame("EQ", dates, _walk(120, seed=6))
    saturday = pd.Timestamp("2021-07-10")
    extra = frame.iloc[[27]].assign(date=saturday)
    store.write_observations(pd.concat([frame, extra]), source="src")
    report = check_store(store, _universe(equity=("EQ",)))
    row = _row(report, "EQ")
    assert row["off_calendar"] == 1 and row["missing"] == 0 and row["expected"] == 120
    assert row["status"] == "warn"
    off = _details(report, "EQ", "off_calendar")
    assert off["date"].tolist() == [saturday]
    assert "Saturday" in off["detail"][0]


def test_asset_class_from_store_metadata_then_default_equity(store: Store) -> None:
    days = _days("2022-01-01", 60)
    store.write_observations(_frame("AAA", days, _walk(60, seed=7), adj=None), source="src")
    store.write_observations(_frame("BBB", days, _walk(60, seed=8), adj=None), source="src")
    store.upsert_instruments([{"symbol": "AAA", "kind": "instrument", "asset_class": "crypto"}])
    report = check_store(store)
    aaa, bbb = _row(report, "AAA"), _row(report, "BBB")
    assert aaa["asset_class"] == "crypto" and aaa["off_calendar"] == 0
    # unknown symbol defaults to equity: 18 weekend days and 2 holidays (MLK day, Presidents' Day)
    # are off its calendar
    assert bbb["asset_class"] == "equity" and bbb["off_calendar"] == 20
    # the universe wins over store metadata
    report = check_store(store, _universe(equity=("AAA",)))
    assert _row(report, "AAA")["asset_class"] == "equity"


# ---------------------------------------------------------------------------- price checks


def test_stale_run_found_with_dates_and_short_runs_ignored(store: Store) -> None:
    dates = _sessions("2021-01-04", 200)
    close = _walk(200, seed=9)
    close[50:56] = close[50]  # 6 identical closes
    close[120:124] = close[120]  # 4: below the default of 5
    store.write_observations(_frame("EQ", dates, close), source="src")
    report = check_store(store, _universe(equity=("EQ",)))
    row = _row(report, "EQ")
    assert (row["stale_runs"], row["longest_stale"]) == (1, 6)
    assert row["status"] == "warn"
    stale = _details(report, "EQ", "stale")
    assert list(zip(stale["date"], stale["end_date"], stale["value"], strict=True)) == [
        (dates[50], dates[55], 6.0)
    ]
    assert (
        check_store(store, thresholds=Thresholds(stale_run=4)).instruments["stale_runs"].iloc[0]
        == 2
    )


def test_pegged_stablecoin_is_not_stale_and_has_no_infinite_z(store: Store) -> None:
    days = _days("2023-01-01", 60)
    store.write_observations(_frame("USDX", days, np.ones(60), adj=None), source="src")
    report = check_store(store, _universe(stable=("USDX",)))
    row = _row(report, "USDX")
    assert row["stale_runs"] == 0 and row["outliers"] == 0 and row["status"] == "ok"
    # the same series as an equity-like crypto asset is stale
    report = check_store(store, _universe(crypto=("USDX",)))
    assert _row(report, "USDX")["stale_runs"] == 1


def test_non_positive_prices_fail_and_are_named(store: Store) -> None:
    dates = _sessions("2021-01-04", 100)
    frame = _frame("EQ", dates, _walk(100, seed=10), adj=None)
    frame.loc[30, "close"] = 0.0
    frame.loc[60, "low"] = -1.0
    store.write_observations(frame, source="src")
    report = check_store(store, _universe(equity=("EQ",)))
    row = _row(report, "EQ")
    assert row["non_positive"] == 2 and row["status"] == "fail"
    assert "2 non-positive price rows" in row["issues"]
    bad = _details(report, "EQ", "non_positive")
    assert bad["date"].tolist() == [dates[30], dates[60]]
    assert bad["detail"].tolist() == ["close=0", "low=-1"]
    # the zero close is dropped (policy), not turned into a -100 % return
    assert row["outliers"] == 0 and row["blank"] == 1


def test_ohlc_inconsistencies_counted(store: Store) -> None:
    dates = _sessions("2021-01-04", 100)
    frame = _frame("EQ", dates, _walk(100, seed=11))
    frame.loc[40, "high"] = frame.loc[40, "low"] * 0.9
    frame.loc[41, "high"] = (
        frame.loc[41, "close"] * 0.999
    )  # still above low (= min(open, close) * 0.996)
    frame.loc[42, "open"] = frame.loc[42, "low"] * 0.5
    store.write_observations(frame, source="src")
    report = check_store(store, _universe(equity=("EQ",)))
    row = _row(report, "EQ")
    assert row["ohlc_bad"] == 3 and row["status"] == "warn"
    bad = _details(report, "EQ", "ohlc")
    assert bad["date"].tolist() == [dates[40], dates[41], dates[42]]
    assert [d.split(":")[0] for d in bad["detail"]] == [
        "high<low",
        "close outside [low, high]",
        "open outside [low, high]",
    ]


def test_crash_is_an_outlier_note_not_an_error(store: Store) -> None:
    dates = _sessions("2021-01-04", 250)
    close = _walk(250, seed=12)
    close[180:] *= 0.6  # a real -40 % day: close and adj_close both fall
    store.write_observations(_frame("EQ", dates, close), source="src")
    report = check_store(store, _universe(equity=("EQ",)))
    row = _row(report, "EQ")
    assert row["outliers"] == 1 and row["spikes"] == 0 and row["split_like"] == 0
    assert row["max_abs_z"] > 8
    assert row["status"] == "ok" and "1 outlier return(s)" in row["notes"]
    out = _details(report, "EQ", "outlier")
    assert out["date"].tolist() == [dates[180]]
    assert out["value"][0] == pytest.approx(close[180] / close[179] - 1)


def test_one_day_spike_is_flagged_as_bad_print(store: Store) -> None:
    dates = _sessions("2021-01-04", 250)
    close = _walk(250, seed=13)
    close[100] *= 3.0
    store.write_observations(_frame("EQ", dates, close), source="src")
    report = check_store(store, _universe(equity=("EQ",)))
    row = _row(report, "EQ")
    assert row["outliers"] == 2 and row["spikes"] == 1 and row["status"] == "warn"
    spike = _details(report, "EQ", "spike")
    assert list(zip(spike["date"], spike["end_date"], strict=True)) == [(dates[100], dates[101])]


def test_outlier_threshold_is_robust_z(store: Store) -> None:
    dates = _sessions("2021-01-04", 250)
    close = _step(
        _walk(250, vol=0.01, seed=14), 150, 1.06
    )  # ~6 robust sigmas: outlier at 5, not at 8
    store.write_observations(_frame("EQ", dates, close), source="src")
    assert check_store(store).instruments["outliers"].iloc[0] == 0
    assert (
        check_store(store, thresholds=Thresholds(outlier_z=5)).instruments["outliers"].iloc[0] == 1
    )


@pytest.mark.parametrize(
    ("factor", "label", "adjusted"),
    [
        (0.5, "2:1", True),
        (0.1, "10:1", False),
        (10.0, "1:10", False),
        (1 / 3, "3:1", True),
        (0.51, "2:1", False),
    ],
)
def test_split_like_jump_in_close(store: Store, factor: float, label: str, adjusted: bool) -> None:
    dates = _sessions("2021-01-04", 200)
    close = _step(_walk(200, seed=15), 120, 1.0)
    adj = close * 0.98 if adjusted else None
    close[120:] *= factor  # close not adjusted for the split; adj_close (when present) is
    store.write_observations(_frame("EQ", dates, close, adj=adj), source="src")
    report = check_store(store, _universe(equity=("EQ",)))
    row = _row(report, "EQ")
    assert row["split_like"] == 1 and row["status"] == "fail"
    split = _details(report, "EQ", "split")
    assert split["date"].tolist() == [dates[120]]
    assert split["value"][0] == pytest.approx(factor)
    assert f"~ {label} split" in split["detail"][0]
    assert ("no adj_close" in split["detail"][0]) is (not adjusted)
    if adjusted:  # returns use adj_close, so the split is not also an outlier
        assert row["outliers"] == 0


@pytest.mark.parametrize("factor", [0.45, 0.52, 2.2])
def test_jumps_away_from_split_ratios_are_not_split_like(store: Store, factor: float) -> None:
    dates = _sessions("2021-01-04", 200)
    close = _step(_walk(200, seed=16), 120, factor)
    store.write_observations(_frame("EQ", dates, close, adj=None), source="src")
    assert check_store(store).instruments["split_like"].iloc[0] == 0


def test_real_halving_in_both_close_and_adj_close_is_not_a_split(store: Store) -> None:
    dates = _sessions("2021-01-04", 200)
    close = _step(_walk(200, seed=17), 120, 0.5)
    store.write_observations(_frame("EQ", dates, close), source="src")  # adj_close = 0.97 * close
    row = check_store(store).instruments.iloc[0]
    assert row["split_like"] == 0 and row["outliers"] == 1


def test_source_that_stops_supplying_adj_close_makes_no_jump(store: Store) -> None:
    dates = _sessions("2021-01-04", 200)
    close = _walk(200, seed=18)
    adj = np.where(
        np.arange(200) < 100, close * 0.9, np.nan
    )  # adjusted basis only in the first half
    store.write_observations(_frame("EQ", dates, close, adj=adj), source="src")
    row = check_store(store).instruments.iloc[0]
    assert row["outliers"] == 0 and row["split_like"] == 0 and row["status"] == "ok"


# ---------------------------------------------------------------------------- sources


def test_source_disagreements(store: Store) -> None:
    n = 400
    days = _days("2022-01-01", n)
    base = _walk(n, vol=0.03, seed=20)
    rng = np.random.default_rng(21)
    store.write_observations(_frame("BTC", days, base, adj=None), source="a")
    # b: another venue, 2 % premium, tiny noise -> agrees
    store.write_observations(
        _frame("BTC", days, base * 1.02 * np.exp(rng.normal(0, 1e-4, n)), adj=None), source="b"
    )
    # c: the same prices dated one day early (an unshifted 00:00 UTC snapshot)
    store.write_observations(_frame("BTC", days - pd.Timedelta(days=1), base, adj=None), source="c")
    # d: 2.5 % return errors on ~10 % of days: correlation stays high but too many days disagree
    noise = np.where(rng.random(n) < 0.10, rng.choice([-0.025, 0.025], n), 0.0)
    noise[0] = 0.0
    d_close = base * np.exp(np.cumsum(noise))
    store.write_observations(_frame("BTC", days, d_close, adj=None), source="d")
    report = check_store(store, _universe(crypto=("BTC",)))
    dis = report.disagreements.set_index(["source_a", "source_b"])
    assert len(dis) == 6

    ab = dis.loc[("a", "b")]
    assert not ab["flagged"] and ab["correlation"] > 0.999 and ab["share_disagree"] == 0
    assert ab["median_level_ratio"] == pytest.approx(1 / 1.02, rel=1e-3)
    assert ab["n_returns"] == n - 1 and ab["best_lag"] == 0

    ac = dis.loc[("a", "c")]
    assert ac["flagged"] and abs(ac["correlation"]) < 0.3
    assert ac["best_lag"] == 1 and ac["best_lag_correlation"] > 0.99

    ad = dis.loc[("a", "d")]
    assert ad["flagged"] and ad["correlation"] > 0.95
    expected_share = np.mean(np.abs(noise[1:]) > 0.02)
    assert (
        ad["share_disagree"] == pytest.approx(expected_share, abs=0.01)
        and ad["share_disagree"] > 0.05
    )

    row_c = _row(report, "BTC", "c")
    assert row_c["status"] == "warn" and row_c["disagreements"] == 3
    assert "c 1 day early vs a?" in row_c["issues"]
    assert _row(report, "BTC", "a")["disagreements"] == 2  # with c and d
    flagged_details = _details(report, "BTC", "disagreement")
    assert len(flagged_details) == int(report.disagreements["flagged"].sum())


def test_date_offset_confined_to_one_spliced_segment(store: Store) -> None:
    """A source whose 2022 rows (one spliced file) are dated a day late; 2023 on is fine."""
    days = _days("2022-01-01", 730)
    base = _walk(730, vol=0.03, seed=25)
    store.write_observations(_frame("ETH", days, base, adj=None), source="venue")
    late = pd.Series(days).where(days.year > 2022, days + pd.Timedelta(days=1))
    keep = ~late.duplicated(keep="last").to_numpy()  # 2022-12-31 + 1 collides with 2023-01-01
    store.write_observations(
        _frame("ETH", pd.DatetimeIndex(late[keep]), base[keep], adj=None), source="spliced"
    )
    report = check_store(store, _universe(crypto=("ETH",)))
    pair = report.disagreements.iloc[0]
    assert (pair["source_a"], pair["source_b"]) == ("spliced", "venue")
    assert pair["flagged"] and pair["best_lag"] == 0  # half the overlap fits no single shift
    assert pair["offset_years"] == "2022:+1"  # venue is a day early against spliced in 2022
    assert "venue 1 day early vs spliced in 2022?" in _row(report, "ETH", "venue")["issues"]
    assert pair["disagree_last"] <= pd.Timestamp("2023-01-01")


def test_unadjusted_source_shows_level_step_against_adjusted_one(store: Store) -> None:
    """The MSTR case: one source's closes before a 10:1 split are unadjusted."""
    dates = _sessions("2023-01-03", 300)
    adjusted = _walk(300, vol=0.03, seed=22)
    raw = adjusted.copy()
    raw[:200] *= 10.0
    store.write_observations(_frame("MS", dates, adjusted), source="adj")
    store.write_observations(_frame("MS", dates, raw, adj=None), source="raw")
    report = check_store(store, _universe(equity=("MS",)))
    pair = report.disagreements.iloc[0]
    assert (pair["source_a"], pair["source_b"]) == ("adj", "raw")
    assert pair["flagged"] and pair["max_diff_date"] == dates[200]
    # a/b = adj_close (0.97 x adjusted) over raw close (10 x adjusted before the split)
    assert pair["level_ratio_first"] == pytest.approx(0.097) and pair[
        "level_ratio_last"
    ] == pytest.approx(0.97)
    assert "level ratio" in _row(report, "MS", "adj")["issues"]
    assert _row(report, "MS", "raw")["split_like"] == 1


def test_short_overlap_is_reported_not_flagged(store: Store) -> None:
    days = _days("2022-01-01", 10)
    store.write_observations(_frame("X", days, _walk(10, seed=23), adj=None), source="a")
    store.write_observations(_frame("X", days, _walk(10, seed=24), adj=None), source="b")
    dis = check_store(store, _universe(crypto=("X",))).disagreements
    assert len(dis) == 1 and dis["n_returns"].iloc[0] == 9 and not dis["flagged"].iloc[0]


# ---------------------------------------------------------------------------- macro


def _macro(symbol: str, dates: pd.DatetimeIndex, seed: int = 0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "symbol": symbol,
            "date": dates,
            "value": 2 + np.random.default_rng(seed).random(len(dates)),
        }
    )


def test_macro_coverage_gaps_and_staleness(store: Store) -> None:
    bdays = pd.bdate_range("2020-01-01", "2020-12-31")
    daily = _macro("DGS2", bdays).drop(index=range(100, 108))  # 8 weekdays missing
    monthly = _macro(
        "CPI",
        pd.DatetimeIndex(["2020-01-01", "2020-02-01", "2020-03-01", "2020-05-01", "2020-06-01"]),
    )
    weekly = _macro("WAL", pd.date_range("2020-01-01", "2020-12-30", freq="W-WED"))
    for f in (daily, monthly, weekly):
        store.write_macro(f, source="fred")
    uni = _universe(
        macro=(
            MacroSeries("DGS2", frequency="D", release_lag_days=1),
            MacroSeries("CPI", frequency="M", release_lag_days=45),
        )
    )
    report = check_store(store, uni)
    assert report.as_of == pd.Timestamp("2020-12-31")
    m = report.macro.set_index("symbol")

    assert m.loc["DGS2", "calendar"] == "D"
    assert m.loc["DGS2", "expected"] == len(bdays) and m.loc["DGS2", "rows"] == len(bdays) - 8
    assert m.loc["DGS2", "longest_gap"] == 8 and m.loc["DGS2", "long_gaps"] == 1
    assert (
        m.loc["DGS2", "longest_gap_start"] == bdays[99]
        and m.loc["DGS2", "longest_gap_end"] == bdays[108]
    )
    assert not m.loc["DGS2", "stale"] and m.loc["DGS2", "status"] == "warn"

    assert m.loc["CPI", "expected"] == 6 and m.loc["CPI", "coverage"] == pytest.approx(5 / 6)
    assert m.loc["CPI", "longest_gap"] == 1
    assert m.loc["CPI", "stale_after_days"] == 31 + 45 + 15
    assert (
        m.loc["CPI", "lag_days"] == (pd.Timestamp("2020-12-31") - pd.Timestamp("2020-06-01")).days
    )
    assert m.loc["CPI", "stale"] and m.loc["CPI", "status"] == "warn"
    assert "stale: last 2020-06-01" in m.loc["CPI", "issues"]

    # WAL is not in the universe: weekly frequency is inferred; it is current and complete
    assert m.loc["WAL", "calendar"] == "W" and m.loc["WAL", "coverage"] == 1.0
    assert m.loc["WAL", "status"] == "ok" and not m.loc["WAL", "stale"]
    # as_of moves staleness
    later = check_store(store, uni, as_of="2021-03-01").macro.set_index("symbol")
    assert later.loc["DGS2", "stale"] and later.loc["WAL", "stale"]


# ------------------------------------------------------------------ report, universe, errors


def test_universe_members_without_data_get_a_row(store: Store) -> None:
    store.write_observations(
        _frame("EQ", _sessions("2021-01-04", 50), _walk(50, seed=30)), source="src"
    )
    uni = _universe(equity=("EQ", "MISSING"), macro=(MacroSeries("DGS10"),))
    report = check_store(store, uni)
    frame = report.to_frame().set_index("symbol")
    assert (
        frame.loc["MISSING", "issues"] == "no data in store"
        and frame.loc["MISSING", "status"] == "warn"
    )
    assert frame.loc["MISSING", "rows"] == 0 and frame.loc["MISSING", "kind"] == "instrument"
    assert frame.loc["DGS10", "kind"] == "macro"
    assert report.macro["symbol"].tolist() == ["DGS10"]
    assert "DGS10" not in report.to_frame(include_macro=False)["symbol"].tolist()
    assert report.summary()["no_data"] == 2
    only = check_store(store, uni, symbols=["EQ"]).to_frame()
    assert only["symbol"].tolist() == ["EQ"]


def test_report_frame_order_dtypes_and_json(store: Store) -> None:
    dates = _sessions("2021-01-04", 120)
    bad = _frame("BAD", dates, _walk(120, seed=31), adj=None)
    bad.loc[10, "close"] = -5.0
    store.write_observations(bad, source="src")
    stale = _walk(120, seed=32)
    stale[20:30] = stale[20]
    store.write_observations(_frame("WARN", dates, stale), source="src")
    store.write_observations(_frame("GOOD", dates, _walk(120, seed=33)), source="src")
    store.write_macro(_macro("RATE", pd.bdate_range("2021-01-04", dates[-1])), source="fred")
    report = check_store(store)
    frame = report.to_frame()
    assert tuple(frame.columns) == FRAME_COLUMNS
    assert frame["symbol"].tolist()[:2] == ["BAD", "WARN"]
    assert frame["status"].tolist()[:2] == ["fail", "warn"]
    assert str(frame["rows"].dtype) == "Int64" and str(frame["first"].dtype) == "datetime64[ns]"
    macro_row = frame[frame["symbol"] == "RATE"].iloc[0]
    assert macro_row["kind"] == "macro" and pd.isna(macro_row["outliers"])
    assert report.to_frame(include_macro=False)["kind"].eq("instrument").all()
    s = report.summary()
    assert (s["fail"], s["warn"], s["ok"], s["non_positive"], s["stale_runs"]) == (1, 1, 2, 1, 1)
    assert not report.ok
    payload = json.loads(json.dumps(report.to_dict()))  # no default=: everything JSON-native
    assert payload["summary"] == s and payload["as_of"] == str(dates[-1].date())
    assert {r["symbol"] for r in payload["series"]} == {"BAD", "WARN", "GOOD", "RATE"}
    assert {r["symbol"] for r in report.to_dict(include_ok=False)["series"]} == {"BAD", "WARN"}
    assert report.issues("WARN")["check"].tolist() == ["stale"]


def test_window_and_symbol_filters(store: Store) -> None:
    dates = _sessions("2021-01-04", 200)
    store.write_observations(_frame("EQ", dates, _walk(200, seed=34)), source="src")
    store.write_observations(_frame("OTHER", dates, _walk(200, seed=35)), source="src")
    report = check_store(store, symbols=["EQ"], start=dates[50], end=dates[99])
    frame = report.to_frame()
    assert frame["symbol"].tolist() == ["EQ"]
    assert frame["first"].iloc[0] == dates[50] and frame["rows"].iloc[0] == 50
    assert report.start == dates[50] and report.end == dates[99]


def test_errors(store: Store) -> None:
    with pytest.raises(EmptyStoreError, match="rotation import"):
        check_store(store)
    store.write_observations(_frame("EQ", _sessions("2021-01-04", 20), _walk(20)), source="src")
    with pytest.raises(EmptyStoreError, match="NOPE"):
        check_store(store, symbols=["NOPE"])
    with pytest.raises(ParameterError, match="end"):
        check_store(store, start="2021-02-01", end="2021-01-01")
    with pytest.raises(ParameterError, match="start"):
        check_store(store, start="not a date")
    with pytest.raises(ParameterError, match="thresholds"):
        check_store(store, thresholds={"stale_run": 3})  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="stale_run"):
        Thresholds(stale_run=1)
    with pytest.raises(ParameterError, match="split_ratios"):
        Thresholds(split_ratios=(1.0, 2.0))
    with pytest.raises(ParameterError, match="min_correlation"):
        Thresholds(min_correlation=1.5)


def test_policy_is_importable_and_documented() -> None:
    assert isinstance(POLICY, CleaningPolicy)
    assert (
        POLICY.non_positive == "drop" and POLICY.outliers == "flag" and POLICY.split_like == "flag"
    )
    assert POLICY.max_gap == Thresholds().max_gap == 5
    assert set(POLICY.describe()) >= {"non_positive", "gaps", "outliers", "split_like"}
    import rotation.quality as q

    assert "Cleaning policy" in (q.__doc__ or "")


@pytest.mark.slow
def test_sp500_sized_store_checks_every_instrument(store: Store) -> None:
    """~500 symbols x 2,900 sessions (the S&P 500 import) in one pass."""
    dates = _sessions("2015-01-02", 2900)
    rng = np.random.default_rng(40)
    n_sym = 500
    close = 50 * np.exp(np.cumsum(rng.normal(0, 0.015, (2900, n_sym)), axis=0))
    frame = pd.DataFrame(
        {
            "symbol": np.repeat([f"S{i:03d}" for i in range(n_sym)], 2900),
            "date": np.tile(dates, n_sym),
            "adj_close": close.T.ravel(),
        }
    )
    store.write_observations(frame, source="src")
    report = check_store(store)
    assert len(report.instruments) == n_sym
    assert (report.instruments["expected"] == 2900).all()


# ---------------------------------------------------------------------------- real data


def _real_store(request: pytest.FixtureRequest) -> Store:
    try:
        return request.getfixturevalue("real_store")
    except pytest.FixtureLookupError:
        pytest.skip("the real_store fixture is not available")


def test_real_store_flags_mstr(request: pytest.FixtureRequest) -> None:
    real = _real_store(request)
    from rotation.universe import load_universe

    report = check_store(real, load_universe())
    inst = report.instruments
    assert (inst["rows"] > 0).sum() >= 500  # the S&P 500 constituents are in

    # MSTR: the ohlcv file's rows before its 2024 hole are not adjusted for the Aug-2024 10:1
    # split. Across sources that is a level step / return disagreement; within one source a
    # split-like jump or the hole itself.
    mstr_pairs = report.disagreements[report.disagreements["symbol"] == "MSTR"]
    mstr_details = report.details[report.details["symbol"] == "MSTR"]
    flagged_pair = mstr_pairs["flagged"].any()
    split = (mstr_details["check"] == "split").any()
    assert flagged_pair or split, mstr_pairs.to_string()
    hole = mstr_details[(mstr_details["check"] == "gap") & (mstr_details["value"] > 100)]
    assert len(hole) >= 1
    if flagged_pair:  # the cross-source view shows the unadjusted level: a/b moves ~10x
        assert any(level_step(r) for r in mstr_pairs[mstr_pairs["flagged"]].itertuples())
    assert hole["date"].min() >= pd.Timestamp("2024-03-08") and hole[
        "end_date"
    ].max() <= pd.Timestamp("2024-12-06")

    # exchange klines agree with each other (no false alarm): BTC binance spot vs bybit perp
    btc = report.disagreements[report.disagreements["symbol"] == "BTC"]
    venues = btc[btc["source_a"].str.contains("binance") & btc["source_b"].str.contains("bybit")]
    if len(venues):
        assert not venues["flagged"].any() and venues["correlation"].min() > 0.99


# ---------------------------------------------------------------------------- CLI


def _cli() -> typer.Typer:
    from rotation.cli._check import register

    app = typer.Typer()

    @app.callback()
    def _root() -> None:  # a callback keeps "check" a subcommand, as in the real app
        pass

    register(app)
    return app


def _invoke(*args: str, universe: bool = True) -> Result:
    extra = ["--universe", str(FIXTURES / "universe.toml")] if universe else []
    return CliRunner().invoke(_cli(), ["check", *args, *extra], env={"COLUMNS": "200"})


@pytest.fixture
def store_file(tmp_path: Path) -> Path:
    path = tmp_path / "rotation.duckdb"
    with Store(path) as s:
        dates = _sessions("2021-01-04", 120)
        stale = _walk(120, seed=50)
        stale[30:40] = stale[30]
        s.write_observations(_frame("STALEX", dates, stale), source="yahoo")
        s.write_observations(_frame("CLEANX", dates, _walk(120, seed=51)), source="yahoo")
    return path


def _squash(output: str) -> str:
    """Output without whitespace and table borders, so wrapped cells read as one string."""
    lines = [
        line.strip("│ ").split("│")[-1] if "│" in line else line for line in output.splitlines()
    ]
    return "".join("".join(lines).split())


def _table_symbols(output: str) -> set[str]:
    cells = [line.split("│") for line in output.splitlines() if line.startswith("│")]
    return {c[2].strip() for c in cells if len(c) > 3} - {""}  # "" = a wrapped row's next line


def test_cli_prints_worst_first_and_hides_clean_series(store_file: Path) -> None:
    res = _invoke("--store", str(store_file))
    assert res.exit_code == 0, res.output
    assert _table_symbols(res.stdout) == {"STALEX"}
    assert "1stalerun(s),longest10" in _squash(res.stdout)  # wrapped cells at any terminal width
    assert "1serieswithoutissueshidden" in _squash(res.stdout)
    assert "2universemember(s)withoutdata:DGS2,GHOSTX" in _squash(res.stdout)
    res = _invoke("--store", str(store_file), "--all")
    assert res.exit_code == 0 and _table_symbols(res.stdout) == {"STALEX", "CLEANX"}
    res = _invoke("--store", str(store_file), "--symbol", "CLEANX")
    assert res.exit_code == 0 and "noissuesin1series" in _squash(res.stdout)
    # the shipped default universe is used when none is given
    res = _invoke("--store", str(store_file), universe=False)
    assert res.exit_code == 0 and "STALEX" in _table_symbols(res.stdout)


def test_cli_json(store_file: Path) -> None:
    res = _invoke("--store", str(store_file), "--json")
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout)
    assert (
        payload["summary"]["warn"],
        payload["summary"]["ok"],
        payload["summary"]["no_data"],
    ) == (3, 1, 2)
    assert [r["symbol"] for r in payload["series"]] == ["STALEX", "DGS2", "GHOSTX"]
    assert payload["details"][0]["check"] == "stale" and payload["details"][0]["value"] == 10
    assert "non_positive" in payload["policy"]
    payload = json.loads(_invoke("--store", str(store_file), "--json", "--all").stdout)
    assert {r["symbol"] for r in payload["series"]} == {"STALEX", "CLEANX", "GHOSTX", "DGS2"}


def test_cli_empty_or_missing_store_exits_3(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.duckdb"
    res = _invoke("--store", str(missing))
    assert res.exit_code == 3
    assert "rotation import" in res.stderr and not missing.exists()
    empty = tmp_path / "empty.duckdb"
    Store(empty).close()
    res = _invoke("--store", str(empty))
    assert res.exit_code == 3 and "is empty" in res.stderr and "Traceback" not in res.output


def test_cli_bad_as_of_exits_2(store_file: Path) -> None:
    res = _invoke("--store", str(store_file), "--as-of", "yesterday-ish")
    assert res.exit_code == 2 and "as_of" in res.stderr


def test_date_by_source_equals_pivot_and_rejects_duplicates() -> None:
    # the source comparison reshapes each symbol's rows itself instead of two DataFrame.pivot calls
    from rotation.quality._checks import _date_by_source

    rng = np.random.default_rng(3)
    days = pd.date_range("2024-01-01", periods=40, freq="D")
    rows = []
    for src, keep in (("yahoo", 0.9), ("binance", 0.7), ("coingecko", 0.5)):
        for d in days[rng.random(len(days)) < keep]:
            adj = np.nan if rng.random() < 0.2 else float(rng.uniform(1, 2))
            rows.append({"source": src, "date": d, "adj_close": adj, "close": float(rng.uniform(1, 2))})
    frame = pd.DataFrame(rows).sample(frac=1.0, random_state=1)  # store order is not date order
    dates, srcs, adj, close = _date_by_source(frame)
    for values, got in (("adj_close", adj), ("close", close)):
        want = frame.pivot(index="date", columns="source", values=values)
        assert list(want.columns) == srcs
        assert dates.equals(pd.DatetimeIndex(want.index))
        np.testing.assert_array_equal(got, want.to_numpy())
    with pytest.raises(ValueError, match="duplicate"):
        _date_by_source(pd.concat([frame, frame.iloc[:1]]))
