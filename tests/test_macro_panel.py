"""macro_panel: values usable only from their publication date, scaled, never stale."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rotation.errors import EmptyStoreError
from rotation.panel import macro_panel, sessions
from rotation.store import Store
from rotation.universe import Instrument, MacroSeries, Universe


def _universe() -> Universe:
    macro = {
        "WALCL": MacroSeries("WALCL", units="millions_usd", frequency="W", scale=1e6, release_lag_days=2,
                             sources={"fred": "WALCL"}),
        "DGS2": MacroSeries("DGS2", units="percent", frequency="D", release_lag_days=1, sources={"fred": "DGS2"}),
        "M2SL": MacroSeries("M2SL", units="billions_usd", frequency="M", scale=1e9, release_lag_days=56,
                            sources={"fred": "M2SL"}),
    }
    return Universe(instruments={"SPY": Instrument("SPY", "etf", sources={"yahoo": "SPY"})}, baskets={}, macro=macro)


def _macro(symbol: str, dates: list[str] | pd.DatetimeIndex, values: list[float] | np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"symbol": symbol, "date": pd.DatetimeIndex(dates), "value": values})


def _store(*frames: pd.DataFrame, source: str = "fred") -> Store:
    store = Store(":memory:")
    for f in frames:
        store.write_macro(f, source=source)
    return store


WEDNESDAYS = pd.date_range("2024-05-01", "2024-06-26", freq="W-WED")
DAYS = pd.DatetimeIndex(pd.date_range("2024-05-01", "2024-08-31"), name="date")


def test_walcl_dated_wednesday_is_usable_from_friday() -> None:
    store = _store(_macro("WALCL", WEDNESDAYS, 7_000_000.0 + np.arange(len(WEDNESDAYS))))
    out = macro_panel(store, _universe(), index=DAYS)
    wed = pd.Timestamp("2024-06-05")
    k = list(WEDNESDAYS).index(wed)
    # Wednesday and Thursday still show the previous Wednesday's level; Friday shows 06-05's.
    assert out.loc["2024-06-05", "WALCL"] == (7_000_000.0 + k - 1) * 1e6
    assert out.loc["2024-06-06", "WALCL"] == (7_000_000.0 + k - 1) * 1e6
    assert out.loc["2024-06-07", "WALCL"] == (7_000_000.0 + k) * 1e6
    # Nothing before the first release: 05-01 is usable on 05-03.
    assert out.loc[:"2024-05-02", "WALCL"].isna().all()
    assert out.loc["2024-05-03", "WALCL"] == 7_000_000.0 * 1e6
    assert out.index.name == "date"


def test_scaled_false_keeps_native_units() -> None:
    store = _store(_macro("WALCL", WEDNESDAYS, 7_000_000.0 + np.arange(len(WEDNESDAYS))))
    out = macro_panel(store, _universe(), index=DAYS, scaled=False)
    assert out.loc["2024-05-03", "WALCL"] == 7_000_000.0


def test_percent_series_are_not_scaled_and_follow_their_daily_lag() -> None:
    dates = sessions("2024-06-03", "2024-06-14")
    store = _store(_macro("DGS2", dates, 4.0 + np.arange(len(dates)) / 100))
    out = macro_panel(store, _universe(), index=sessions("2024-06-03", "2024-06-21"))
    # Friday 06-07's yield is published the next day: usable on Monday 06-10, not on Friday.
    assert out.loc["2024-06-07", "DGS2"] == pytest.approx(4.03)
    assert out.loc["2024-06-10", "DGS2"] == pytest.approx(4.04)
    assert np.isnan(out.loc["2024-06-03", "DGS2"])


def test_a_discontinued_weekly_series_turns_nan_after_14_days() -> None:
    store = _store(_macro("WALCL", WEDNESDAYS, 7_000_000.0 + np.arange(len(WEDNESDAYS))))
    out = macro_panel(store, _universe(), index=DAYS)
    # Last value dated Wed 06-26, usable Fri 06-28, carried 14 days (to 07-12), NaN afterwards.
    assert out.loc["2024-07-12", "WALCL"] == (7_000_000.0 + len(WEDNESDAYS) - 1) * 1e6
    assert out.loc["2024-07-13":, "WALCL"].isna().all()


def test_staleness_of_daily_and_monthly_series() -> None:
    store = _store(
        _macro("DGS2", ["2024-06-03"], [4.5]),
        _macro("M2SL", ["2024-03-01", "2024-04-01"], [20_800.0, 20_900.0]),
    )
    out = macro_panel(store, _universe(), index=DAYS)
    assert out.loc["2024-06-04":"2024-06-11", "DGS2"].eq(4.5).all()  # usable 06-04, 7 days
    assert np.isnan(out.loc["2024-06-12", "DGS2"])
    # April's M2 (dated 04-01) is usable from 05-27 (56 days), then stale after 62 days (07-28).
    assert out.loc["2024-05-26", "M2SL"] == 20_800.0 * 1e9
    assert out.loc["2024-05-27", "M2SL"] == 20_900.0 * 1e9
    assert out.loc["2024-07-28", "M2SL"] == 20_900.0 * 1e9
    assert np.isnan(out.loc["2024-07-29", "M2SL"])


@pytest.mark.parametrize(
    ("dates", "lag"),
    [
        (pd.date_range("2024-01-03", periods=30, freq="W-WED"), 7),
        (pd.bdate_range("2024-01-02", periods=60), 1),
        (pd.date_range("2022-01-01", periods=30, freq="MS"), 35),
    ],
)
def test_series_outside_the_universe_use_the_frequency_default_lag(dates: pd.DatetimeIndex, lag: int) -> None:
    values = 1.0 + np.arange(len(dates))
    store = _store(_macro("FOREIGN", dates, values), source="file")
    index = pd.DatetimeIndex(pd.date_range(dates[0], dates[-1] + pd.Timedelta(days=40)), name="date")
    out = macro_panel(store, _universe(), symbols=["FOREIGN"], index=index)
    third = dates[2]
    assert out.loc[third + pd.Timedelta(days=lag - 1), "FOREIGN"] == 2.0  # not yet published
    assert out.loc[third + pd.Timedelta(days=lag), "FOREIGN"] == 3.0  # never scaled


def test_a_frequency_declared_in_the_store_beats_inference() -> None:
    # Two observations cannot be told apart from a monthly series; the store says weekly (lag 7).
    store = _store(_macro("FOREIGN", ["2024-06-05", "2024-06-12"], [1.0, 2.0]), source="file")
    index = pd.DatetimeIndex(pd.date_range("2024-06-01", "2024-07-31"), name="date")
    inferred = macro_panel(store, _universe(), symbols=["FOREIGN"], index=index)
    assert np.isnan(inferred.loc["2024-06-12", "FOREIGN"])  # monthly default: lag 35
    assert inferred.loc["2024-07-10", "FOREIGN"] == 1.0
    store.upsert_instruments([{"symbol": "FOREIGN", "kind": "macro", "frequency": "W"}])
    declared = macro_panel(store, _universe(), symbols=["FOREIGN"], index=index)
    assert declared.loc["2024-06-12", "FOREIGN"] == 1.0
    assert declared.loc["2024-06-19", "FOREIGN"] == 2.0
    assert np.isnan(declared.loc["2024-07-04", "FOREIGN"])  # weekly staleness: 14 days after 06-19


def test_default_index_is_every_day_of_the_usable_range() -> None:
    store = _store(_macro("WALCL", WEDNESDAYS, 1.0 + np.arange(len(WEDNESDAYS))))
    out = macro_panel(store, _universe())
    assert out.index[0] == WEDNESDAYS[0] + pd.Timedelta(days=2)
    assert out.index[-1] == WEDNESDAYS[-1] + pd.Timedelta(days=2)
    assert len(out) == (out.index[-1] - out.index[0]).days + 1
    assert list(out.columns) == ["WALCL"]


def test_no_macro_data_tells_the_user_how_to_get_data() -> None:
    with pytest.raises(EmptyStoreError) as err:
        macro_panel(Store(":memory:"), _universe())
    assert "rotation fetch" in str(err.value) and "rotation import" in str(err.value)


def test_a_better_source_wins_and_others_fill_in() -> None:
    store = _store(_macro("DGS2", ["2024-06-03", "2024-06-04"], [4.0, 4.1]), source="fred")
    store.write_macro(_macro("DGS2", ["2024-06-04", "2024-06-05"], [9.9, 4.2]), source="file")
    out = macro_panel(store, _universe(), index=pd.DatetimeIndex(pd.date_range("2024-06-04", "2024-06-06")))
    assert out["DGS2"].tolist() == [4.0, 4.1, 4.2]


# ------------------------------------------------------------------------ no look-ahead
@st.composite
def _macro_rows(draw: st.DrawFn) -> tuple[list[pd.DataFrame], pd.Timestamp]:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    start = pd.Timestamp("2023-01-01") + pd.Timedelta(days=draw(st.integers(0, 300)))
    frames = []
    for symbol, dates in (
        ("WALCL", pd.date_range(start, periods=draw(st.integers(3, 40)), freq="W-WED")),
        ("DGS2", pd.bdate_range(start, periods=draw(st.integers(3, 150)))),
        ("M2SL", pd.date_range(start, periods=draw(st.integers(3, 12)), freq="MS")),
    ):
        keep = rng.random(len(dates)) < draw(st.floats(0.5, 1.0))
        if keep.any():
            frames.append(_macro(symbol, dates[keep], rng.normal(100, 10, int(keep.sum()))))
    # An undeclared series' inferred frequency is fixed once it has 21 observations (documented):
    # keep the first 21 of OUTSIDE before the cut.
    outside = pd.date_range(start, periods=draw(st.integers(21, 45)), freq="W-FRI")
    keep = np.r_[np.ones(21, dtype=bool), rng.random(len(outside) - 21) < 0.8]
    frames.append(_macro("OUTSIDE", outside[keep], rng.normal(100, 10, int(keep.sum()))))
    # DECLARED is outside the universe but its frequency is in the store's metadata: any length works.
    declared = pd.date_range(start, periods=draw(st.integers(1, 30)), freq="W-WED")
    frames.append(_macro("DECLARED", declared, rng.normal(5, 1, len(declared))))
    cut = max(start + pd.Timedelta(days=draw(st.integers(0, 250))), outside[20])
    return frames, cut


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_macro_rows())
def test_appending_later_macro_rows_never_changes_earlier_rows(data: tuple[list[pd.DataFrame], pd.Timestamp]) -> None:
    frames, cut = data
    symbols = ["WALCL", "DGS2", "M2SL", "OUTSIDE", "DECLARED"]
    index = pd.DatetimeIndex(pd.date_range("2022-12-01", "2025-06-30"), name="date")
    store = Store(":memory:")
    store.upsert_instruments([{"symbol": "DECLARED", "kind": "macro", "frequency": "W"}])
    early = pd.concat(frames)
    early = early[early["date"] <= cut]
    if early.empty:
        return
    store.write_macro(early, source="fred")
    past = macro_panel(store, _universe(), symbols=symbols, index=index)
    past_default = macro_panel(store, _universe(), symbols=symbols)
    later = pd.concat(frames)
    store.write_macro(later[later["date"] > cut], source="fred")
    full = macro_panel(store, _universe(), symbols=symbols, index=index)
    full_default = macro_panel(store, _universe(), symbols=symbols)
    # Rows up to the cut can only use values observed (hence published) by then.
    rows = index[index <= cut]
    pd.testing.assert_frame_equal(past.loc[rows, past.columns], full.loc[rows, past.columns])
    common = past_default.index[past_default.index <= cut]
    pd.testing.assert_frame_equal(
        past_default.loc[common], full_default.loc[common, past_default.columns], check_freq=False
    )


# ------------------------------------------------------------------------------ real data
def test_real_macro_on_the_daily_index(real_macro, real_panel) -> None:
    assert real_macro.index.equals(real_panel.index)
    walcl = real_macro["WALCL"].dropna()
    assert walcl.between(5e11, 1e13).all()  # USD after scaling (the Fed's balance sheet: 0.7-9 trillion)
    assert walcl.loc["2026-01-02"] == pytest.approx(6.6e12, rel=0.1)
    # WTREGEN (TGA) ends 2024-06-26 in the data: usable 06-28, NaN after 14 days.
    assert real_macro.loc["2024-07-01", "WTREGEN"] > 1e11
    assert real_macro.loc["2024-07-15":, "WTREGEN"].isna().all()
    assert real_macro["DGS2"].dropna().between(0, 20).all()  # percent stays percent
    # A Wednesday level is not visible on that Wednesday.
    raw = real_macro["WALCL"]
    assert raw.loc["2024-06-05"] == raw.loc["2024-06-06"]
    assert raw.loc["2024-06-07"] != raw.loc["2024-06-06"]
