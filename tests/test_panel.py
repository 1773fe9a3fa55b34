"""Panel builder: alignment, data-quality policy, caps, options, no look-ahead, real data."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rotation.errors import DataError, EmptyStoreError, ParameterError, UniverseError
from rotation.panel import Panel, basket_index, build_panel, sessions
from rotation.store import Store
from rotation.universe import Basket, Instrument, Universe

NAN = np.nan
FRAMES = ("prices", "close", "market_caps", "supply", "volume_usd")


# ------------------------------------------------------------------------------ helpers
def _universe() -> Universe:
    inst = {
        "EQA": Instrument("EQA", "equity", sources={"yahoo": "EQA", "file": "EQA"}),
        "EQB": Instrument("EQB", "equity", sources={"yahoo": "EQB"}),
        "FUND": Instrument("FUND", "etf", sources={"yahoo": "FUND"}),
        "CX": Instrument("CX", "crypto", sources={"coinmetrics": "cx", "binance": "CXUSDT"}),
        "STAB": Instrument("STAB", "stablecoin", sources={"defillama": "1"}),
    }
    baskets = {
        "eq": Basket("eq", ("EQA", "EQB"), weighting="equal"),
        "eqcap": Basket("eqcap", ("EQA", "EQB"), weighting="cap"),
    }
    return Universe(instruments=inst, baskets=baskets, macro={})


def _obs(symbol: str, dates: pd.DatetimeIndex | list, **fields: object) -> pd.DataFrame:
    frame = pd.DataFrame({"symbol": symbol, "date": pd.DatetimeIndex(dates)})
    for k, v in fields.items():
        frame[k] = v
    return frame


def _store(*writes: tuple[pd.DataFrame, str]) -> Store:
    store = Store(":memory:")
    for frame, source in writes:
        store.write_observations(frame, source=source)
    return store


def _day_value(dates: pd.DatetimeIndex, offset: float) -> np.ndarray:
    """offset + day of month: makes every expected value readable off the date."""
    return offset + np.asarray(pd.DatetimeIndex(dates).day, dtype=float)


JUNE = pd.date_range("2024-06-01", "2024-06-30")  # Saturday 06-01 .. Sunday 06-30; 06-19 is a holiday
JUNE_SESSIONS = sessions("2024-06-01", "2024-06-30")


def _june_store() -> Store:
    """EQA on June sessions (close = 100 + day, volume 1000), CX every UTC day (close = 1000 + day)."""
    return _store(
        (_obs("EQA", JUNE_SESSIONS, close=_day_value(JUNE_SESSIONS, 100), volume=1000.0), "yahoo"),
        (_obs("CX", JUNE, close=_day_value(JUNE, 1000), volume_usd=_day_value(JUNE, 0)), "coinmetrics"),
    )


def _quality(panel: Panel, symbol: str, action: str) -> int:
    q = panel.quality
    rows = q[(q["symbol"] == symbol) & (q["action"] == action)]
    return int(rows["count"].sum())


# ------------------------------------------------------------------------------ alignment
def test_crypto_is_sampled_at_the_prior_utc_close_on_sessions() -> None:
    panel = build_panel(_june_store(), _universe())
    assert list(panel.index) == list(JUNE_SESSIONS)
    # Monday 06-10 holds Sunday 06-09's close; Friday 06-07 holds Thursday 06-06's close.
    assert panel.prices.loc["2024-06-10", "CX"] == 1009.0
    assert panel.prices.loc["2024-06-07", "CX"] == 1006.0
    assert panel.prices.loc["2024-06-11", "CX"] == 1010.0
    assert panel.prices.loc["2024-06-10", "EQA"] == 110.0  # equities on their own session
    # The weekend's crypto move rolls into Monday's return (Thursday close -> Sunday close).
    assert panel.returns.loc["2024-06-10", "CX"] == pytest.approx(1009.0 / 1006.0 - 1)
    assert panel.crypto_close == "prior" and panel.calendar == "sessions" and panel.frequency == "D"
    assert panel.asset_classes.to_dict() == {"EQA": "equity", "CX": "crypto"}


def test_same_day_option_uses_the_close_of_the_session_date() -> None:
    panel = build_panel(_june_store(), _universe(), crypto_close="same_day")
    assert panel.prices.loc["2024-06-10", "CX"] == 1010.0
    assert panel.prices.loc["2024-06-07", "CX"] == 1007.0


def test_weekend_crypto_dollar_volume_is_summed_into_monday() -> None:
    prior = build_panel(_june_store(), _universe())
    # Monday's row covers the UTC days Friday, Saturday and Sunday (7 + 8 + 9).
    assert prior.volume_usd.loc["2024-06-10", "CX"] == 7 + 8 + 9
    assert prior.volume_usd.loc["2024-06-11", "CX"] == 10
    # Juneteenth (Wed 06-19) is closed: Thursday's row holds the UTC days Tue 06-18 and Wed 06-19.
    assert prior.volume_usd.loc["2024-06-20", "CX"] == 18 + 19
    # The first row only holds the days since the data began (Sat 06-01 -> Sunday 06-02's row is Monday).
    assert prior.volume_usd.loc["2024-06-03", "CX"] == 1 + 2
    same = build_panel(_june_store(), _universe(), crypto_close="same_day")
    assert same.volume_usd.loc["2024-06-10", "CX"] == 8 + 9 + 10
    assert same.volume_usd.loc["2024-06-07", "CX"] == 7
    # Nothing is lost: every UTC day before the last row is counted once.
    assert same.volume_usd["CX"].sum() == sum(range(1, 29))
    # Equity dollar volume is volume x close on its own session.
    assert prior.volume_usd.loc["2024-06-10", "EQA"] == 1000.0 * 110.0


def test_all_days_calendar_holds_equities_over_weekends_and_holidays() -> None:
    panel = build_panel(_june_store(), _universe(), calendar="all_days")
    assert list(panel.index) == list(JUNE)
    assert panel.prices.loc["2024-06-15", "CX"] == 1015.0  # crypto as is, no shift
    assert panel.prices.loc["2024-06-15", "EQA"] == 114.0  # Saturday shows Friday's close
    assert panel.prices.loc["2024-06-19", "EQA"] == 118.0  # the holiday shows the previous session
    assert np.isnan(panel.prices.loc["2024-06-01", "EQA"])  # nothing before the first session
    # Holds are not gaps: nothing is counted as filled.
    assert _quality(panel, "EQA", "filled_prices") == 0
    assert np.isnan(panel.volume_usd.loc["2024-06-15", "EQA"])  # no equity volume on a Saturday
    assert panel.periods_per_year().to_dict() == {"EQA": 252.0, "CX": 365.0}


def test_holidays_are_not_session_rows_even_with_crypto_data() -> None:
    days = pd.date_range("2024-03-25", "2024-07-08")
    store = _store((_obs("CX", days, close=1.0 + np.arange(len(days))), "coinmetrics"))
    panel = build_panel(store, _universe())
    for holiday in ("2024-03-29", "2024-05-27", "2024-06-19", "2024-07-04"):
        assert pd.Timestamp(holiday) not in panel.index
    assert pd.Timestamp("2024-07-05") in panel.index


def test_weekly_rows_are_the_last_session_of_each_w_fri_week() -> None:
    panel = build_panel(_june_store(), _universe(), frequency="W")
    # The data ends on Sunday 06-30: the week ending Friday 07-05 is incomplete and is dropped.
    assert list(panel.index) == list(pd.to_datetime(["2024-06-07", "2024-06-14", "2024-06-21", "2024-06-28"]))
    assert panel.prices.loc["2024-06-21", "EQA"] == 121.0
    assert panel.prices.loc["2024-06-21", "CX"] == 1020.0  # Friday's row: Thursday's UTC close
    # Weekly dollar volume is the sum of the week's rows: the UTC days Fri 06-14 .. Thu 06-20.
    assert panel.volume_usd.loc["2024-06-21", "CX"] == sum(range(14, 21))
    eq_daily = build_panel(_june_store(), _universe()).volume_usd["EQA"]
    assert panel.volume_usd.loc["2024-06-21", "EQA"] == eq_daily.loc["2024-06-17":"2024-06-21"].sum()
    assert panel.returns.loc["2024-06-21", "EQA"] == pytest.approx(121.0 / 114.0 - 1)
    assert panel.periods_per_year().eq(52.0).all()


def test_weekly_good_friday_week_ends_on_thursday() -> None:
    march = sessions("2024-03-11", "2024-03-28")
    store = _store((_obs("EQA", march, close=_day_value(march, 0)), "yahoo"))
    panel = build_panel(store, _universe(), frequency="W")
    # 03-29 is Good Friday: its week is complete on Thursday 03-28, labelled by the Friday.
    assert panel.index[-1] == pd.Timestamp("2024-03-29")
    assert panel.prices.loc["2024-03-29", "EQA"] == 28.0


def test_weekly_partial_last_week_is_dropped() -> None:
    days = sessions("2024-03-11", "2024-03-27")  # ends Wednesday: that week is not complete
    store = _store((_obs("EQA", days, close=_day_value(days, 0)), "yahoo"))
    panel = build_panel(store, _universe(), frequency="W")
    assert panel.index[-1] == pd.Timestamp("2024-03-22")
    # Same with an explicit mid-week end on a longer history.
    longer = sessions("2024-03-11", "2024-04-12")
    store = _store((_obs("EQA", longer, close=_day_value(longer, 0)), "yahoo"))
    assert build_panel(store, _universe(), frequency="W", end="2024-04-10").index[-1] == pd.Timestamp("2024-04-05")


def test_weekly_all_days_panel_takes_fridays() -> None:
    panel = build_panel(_june_store(), _universe(), frequency="W", calendar="all_days")
    assert list(panel.index) == list(pd.to_datetime(["2024-06-07", "2024-06-14", "2024-06-21", "2024-06-28"]))
    assert panel.prices.loc["2024-06-14", "CX"] == 1014.0
    assert panel.volume_usd.loc["2024-06-14", "CX"] == sum(range(8, 15))  # Sat 06-08 .. Fri 06-14


# ------------------------------------------------------------------------------ quality
def test_late_listing_is_nan_before_its_first_observation() -> None:
    later = JUNE_SESSIONS[JUNE_SESSIONS >= "2024-06-12"]
    store = _store(
        (_obs("EQA", JUNE_SESSIONS, close=_day_value(JUNE_SESSIONS, 100)), "yahoo"),
        (_obs("EQB", later, close=_day_value(later, 200)), "yahoo"),
    )
    panel = build_panel(store, _universe(), max_gap=10)
    assert panel.prices.loc[:"2024-06-11", "EQB"].isna().all()
    assert panel.prices.loc["2024-06-12", "EQB"] == 212.0
    assert np.isnan(panel.returns.loc["2024-06-12", "EQB"])
    assert _quality(panel, "EQB", "filled_prices") == 0


def test_short_gaps_are_filled_and_counted_long_gaps_stay_nan() -> None:
    gap_a = ["2024-06-11", "2024-06-12"]  # 2 sessions
    gap_b = list(JUNE_SESSIONS[(JUNE_SESSIONS >= "2024-06-10") & (JUNE_SESSIONS <= "2024-06-18")])  # 7 sessions
    a = JUNE_SESSIONS.difference(pd.to_datetime(gap_a))
    b = JUNE_SESSIONS.difference(pd.DatetimeIndex(gap_b))
    store = _store(
        (_obs("EQA", a, close=_day_value(a, 100)), "yahoo"),
        (_obs("EQB", b, close=_day_value(b, 200)), "yahoo"),
    )
    panel = build_panel(store, _universe(), max_gap=5)
    # EQA: the 2-session gap holds 06-10's price; 06-13 picks up the whole move.
    assert panel.prices.loc["2024-06-11":"2024-06-12", "EQA"].tolist() == [110.0, 110.0]
    assert panel.returns.loc["2024-06-13", "EQA"] == pytest.approx(113.0 / 110.0 - 1)
    assert _quality(panel, "EQA", "filled_prices") == 2
    # EQB: 7 missing sessions; the first 5 hold 06-07's price (causal), the last 2 stay NaN.
    held = panel.prices.loc["2024-06-10":"2024-06-18", "EQB"]
    assert held.iloc[:5].tolist() == [207.0] * 5
    assert held.iloc[5:].isna().all()
    assert np.isnan(panel.returns.loc["2024-06-20", "EQB"])  # no return invented across the long hole
    assert panel.prices.loc["2024-06-20", "EQB"] == 220.0
    assert _quality(panel, "EQB", "filled_prices") == 5
    # max_gap=0 disables filling.
    bare = build_panel(store, _universe(), max_gap=0)
    assert bare.prices.loc["2024-06-11":"2024-06-12", "EQA"].isna().all()
    assert _quality(bare, "EQA", "filled_prices") == 0


def test_crypto_gaps_are_counted_in_days() -> None:
    days = JUNE.difference(pd.to_datetime(["2024-06-08", "2024-06-09"]))  # a weekend without data
    store = _store((_obs("CX", days, close=_day_value(days, 1000)), "coinmetrics"))
    panel = build_panel(store, _universe(), max_gap=1)
    # Monday 06-10 needs Sunday 06-09's close: a 2-day gap, only Saturday is bridged -> NaN.
    assert np.isnan(panel.prices.loc["2024-06-10", "CX"])
    assert build_panel(store, _universe(), max_gap=2).prices.loc["2024-06-10", "CX"] == 1007.0


def test_non_positive_prices_are_dropped_and_counted() -> None:
    close = _day_value(JUNE_SESSIONS, 100)
    close[JUNE_SESSIONS.get_indexer(pd.to_datetime(["2024-06-05", "2024-06-06"]))] = [0.0, -3.0]
    adj = close.copy()
    adj[JUNE_SESSIONS.get_loc(pd.Timestamp("2024-06-12"))] = -1.0  # bad adjusted close, valid close
    store = _store((_obs("EQA", JUNE_SESSIONS, close=close, adj_close=adj), "yahoo"))
    panel = build_panel(store, _universe())
    assert _quality(panel, "EQA", "dropped_nonpositive") == 3
    assert (panel.prices["EQA"].dropna() > 0).all()
    # Dropped prices become gaps: filled with the last good price, the move picked up afterwards.
    assert panel.prices.loc["2024-06-05":"2024-06-06", "EQA"].tolist() == [104.0, 104.0]
    # A bad adj_close must not fall back to the unadjusted close.
    assert panel.prices.loc["2024-06-12", "EQA"] == 111.0
    assert panel.close.loc["2024-06-12", "EQA"] == 112.0
    bare = build_panel(store, _universe(), max_gap=0)
    assert bare.prices.loc[["2024-06-05", "2024-06-06", "2024-06-12"], "EQA"].isna().all()


def test_off_calendar_equity_rows_are_dropped_and_counted() -> None:
    dates = JUNE_SESSIONS.append(pd.DatetimeIndex(["2024-06-19", "2024-06-22"]))  # a holiday and a Saturday
    store = _store((_obs("EQA", dates, close=_day_value(dates, 100)), "yahoo"))
    panel = build_panel(store, _universe())
    assert _quality(panel, "EQA", "dropped_off_calendar") == 2
    assert pd.Timestamp("2024-06-22") not in panel.index


def test_sources_are_spliced_by_ratio_into_a_continuous_series() -> None:
    # The preferred source (yahoo) covers 06-10 .. 06-14; the file covers 06-03 .. 06-28 on another
    # adjustment basis: half the level, and 0.5 -> 0.45 of it after 06-12 (a dividend it adjusts).
    yahoo_days = JUNE_SESSIONS[(JUNE_SESSIONS >= "2024-06-10") & (JUNE_SESSIONS <= "2024-06-14")]
    true = pd.Series(_day_value(JUNE_SESSIONS, 100), index=JUNE_SESSIONS)
    basis = pd.Series(np.where(JUNE_SESSIONS <= "2024-06-12", 0.5, 0.45), index=JUNE_SESSIONS)
    store = _store(
        (_obs("EQA", yahoo_days, adj_close=true[yahoo_days].to_numpy()), "yahoo"),
        (_obs("EQA", JUNE_SESSIONS, adj_close=(true * basis).to_numpy()), "file"),
    )
    panel = build_panel(store, _universe())
    px = panel.prices["EQA"]
    # After the overlap: scaled by the ratio on the most recent common date (06-14: 1/0.45).
    np.testing.assert_allclose(px.loc["2024-06-17":].to_numpy(), true.loc["2024-06-17":].to_numpy())
    # Before any overlap: scaled by the ratio on the first common date (06-10: 1/0.5), not the last.
    np.testing.assert_allclose(px.loc[:"2024-06-07"].to_numpy(), true.loc[:"2024-06-07"].to_numpy())
    assert px.loc["2024-06-10":"2024-06-14"].tolist() == true.loc["2024-06-10":"2024-06-14"].tolist()
    # Continuous: the return across the splice is the true return.
    assert panel.returns.loc["2024-06-17", "EQA"] == pytest.approx(117.0 / 114.0 - 1)
    n_file = len(JUNE_SESSIONS) - len(yahoo_days)
    assert _quality(panel, "EQA", "spliced_price") == n_file
    assert panel.sources["EQA"] == "yahoo"


def test_a_splice_without_overlap_is_unscaled_and_flagged() -> None:
    first = JUNE_SESSIONS[JUNE_SESSIONS <= "2024-06-14"]
    second = JUNE_SESSIONS[JUNE_SESSIONS > "2024-06-14"]
    store = _store(
        (_obs("EQA", first, close=_day_value(first, 100)), "yahoo"),
        (_obs("EQA", second, close=_day_value(second, 100)), "file"),
    )
    panel = build_panel(store, _universe())
    assert panel.prices.loc["2024-06-17", "EQA"] == 117.0
    assert _quality(panel, "EQA", "spliced_unscaled_price") == len(second)


def test_stored_sources_outside_the_universe_rank_after_the_listed_ones() -> None:
    # "zeta" is not in the universe's list for CX: used only where coinmetrics has nothing.
    days = JUNE[JUNE <= "2024-06-20"]
    store = _store(
        (_obs("CX", JUNE, close=_day_value(JUNE, 2000)), "zeta"),
        (_obs("CX", days, close=_day_value(days, 1000)), "binance"),
    )
    panel = build_panel(store, _universe())
    assert panel.sources["CX"] == "binance"
    assert panel.prices.loc["2024-06-20", "CX"] == 1019.0
    assert _quality(panel, "CX", "spliced_price") > 0


# ------------------------------------------------------------------------------ caps
def _cap_store(caps: list[float], prices: list[float], dates: pd.DatetimeIndex) -> Store:
    return _store((_obs("EQA", dates, close=prices, market_cap=caps), "yahoo"))


CAP_DATES = pd.DatetimeIndex(pd.to_datetime(["2024-06-03", "2024-06-04", "2024-06-05", "2024-06-06", "2024-06-07"]))


def test_cap_methods_hand_checked() -> None:
    prices = [10.0, 11.0, 12.0, 9.0, 10.0]
    caps = [NAN, NAN, 2400.0, NAN, NAN]  # one snapshot: 2400 at a price of 12 -> 200 shares
    store = _cap_store(caps, prices, CAP_DATES)
    observed = build_panel(store, _universe(), cap_method="observed").market_caps["EQA"]
    carry = build_panel(store, _universe(), cap_method="carry").market_caps["EQA"]
    back_panel = build_panel(store, _universe(), cap_method="backcast")
    back = back_panel.market_caps["EQA"]
    np.testing.assert_array_equal(observed.to_numpy(), [NAN, NAN, 2400.0, NAN, NAN])  # never filled flat
    np.testing.assert_array_equal(carry.to_numpy(), [NAN, NAN, 2400.0, 200 * 9.0, 200 * 10.0])
    np.testing.assert_array_equal(back.to_numpy(), [200 * 10.0, 200 * 11.0, 2400.0, 1800.0, 2000.0])
    assert _quality(back_panel, "EQA", "cap_backcast") == 2
    assert _quality(back_panel, "EQA", "cap_carried") == 2


def test_carry_restarts_from_each_new_observation() -> None:
    prices = [10.0, 11.0, 12.0, 9.0, 10.0]
    caps = [1000.0, NAN, NAN, 990.0, NAN]  # 100 units, then 110 units (issuance)
    carry = build_panel(_cap_store(caps, prices, CAP_DATES), _universe()).market_caps["EQA"]
    np.testing.assert_allclose(carry.to_numpy(), [1000.0, 1100.0, 1200.0, 990.0, 1100.0])


def test_carry_anchors_only_on_dates_with_both_cap_and_price() -> None:
    prices = [10.0, NAN, 12.0, NAN, NAN]
    caps = [1000.0, 5000.0, NAN, NAN, NAN]  # 06-04 has a cap but no price: not an anchor
    panel = build_panel(_cap_store(caps, prices, CAP_DATES), _universe(), max_gap=0)
    caps_out = panel.market_caps["EQA"]
    assert caps_out.loc["2024-06-04"] == 5000.0  # observed values are kept
    assert caps_out.loc["2024-06-05"] == pytest.approx(100 * 12.0)  # 100 units from the 06-03 anchor


def test_crypto_caps_follow_the_prior_close_like_prices() -> None:
    store = _store((_obs("CX", JUNE, close=_day_value(JUNE, 1000), market_cap=_day_value(JUNE, 1000) * 5), "coinmetrics"))
    panel = build_panel(store, _universe(), cap_method="observed")
    assert panel.market_caps.loc["2024-06-10", "CX"] == 1009.0 * 5


def test_panel_cap_basket_uses_the_panel_caps() -> None:
    days = JUNE_SESSIONS[:6]
    store = _store(
        (_obs("EQA", days, close=[10.0, 11, 12, 13, 14, 15], market_cap=[100.0] + [NAN] * 5), "yahoo"),
        (_obs("EQB", days, close=[20.0] * 6, market_cap=[300.0] + [NAN] * 5), "yahoo"),
    )
    panel = build_panel(store, _universe(), baskets=["eqcap"])
    idx = panel.basket("eqcap")
    assert idx.weighting == "cap"
    # Daily reset from the previous row's carried caps: on day 3, EQA = 10 units x 11 = 110, EQB 300.
    np.testing.assert_allclose(idx.weights.iloc[2].to_numpy(), [110 / 410, 300 / 410])
    equal = panel.basket_levels("eq")
    np.testing.assert_allclose(equal.to_numpy(), basket_index(panel.prices[["EQA", "EQB"]]).level.to_numpy())
    assert panel.basket_caps("eqcap").iloc[1] == pytest.approx(410.0)  # 10 x 11 + 300


# ------------------------------------------------------------------------------ options
def test_symbols_outside_the_universe_take_the_store_asset_class() -> None:
    store = _june_store()
    store.write_observations(_obs("ZZZ", JUNE, close=_day_value(JUNE, 50)), source="file")
    store.upsert_instruments([{"symbol": "ZZZ", "kind": "instrument", "asset_class": "crypto"}])
    store.write_observations(_obs("QQQ9", JUNE_SESSIONS, close=_day_value(JUNE_SESSIONS, 0)), source="file")
    panel = build_panel(store, _universe(), symbols=["ZZZ", "QQQ9", "NOPE"])
    assert panel.symbols == ["ZZZ", "QQQ9"]
    assert panel.asset_classes.to_dict() == {"ZZZ": "crypto", "QQQ9": "equity"}
    assert panel.prices.loc["2024-06-10", "ZZZ"] == 59.0  # crypto: Sunday's close on Monday
    assert _quality(panel, "NOPE", "no_data") == 0 and "no_data" in set(panel.quality["action"])


def test_a_single_symbol_string_is_one_symbol() -> None:
    panel = build_panel(_june_store(), _universe(), symbols="EQA")
    assert panel.symbols == ["EQA"]


def test_default_symbols_are_universe_instruments_with_data_in_universe_order() -> None:
    store = _june_store()
    store.write_observations(_obs("OTHER", JUNE_SESSIONS, close=1.0), source="file")
    assert build_panel(store, _universe()).symbols == ["EQA", "CX"]


def test_baskets_add_their_members() -> None:
    store = _june_store()
    store.write_observations(_obs("EQB", JUNE_SESSIONS, close=1.0), source="yahoo")
    panel = build_panel(store, _universe(), symbols=["CX"], baskets=["eq"])
    assert panel.symbols == ["CX", "EQA", "EQB"]
    with pytest.raises(UniverseError, match="nope"):
        build_panel(store, _universe(), baskets=["nope"])


def test_select_and_window() -> None:
    panel = build_panel(_june_store(), _universe())
    sub = panel.select(["CX"])
    assert sub.symbols == ["CX"] and list(sub.volume_usd.columns) == ["CX"]
    assert sub.asset_classes.to_dict() == {"CX": "crypto"}
    assert set(sub.quality["symbol"]) <= {"CX"}
    with pytest.raises(ParameterError) as err:
        panel.select(["CX", "NOPE"])
    assert err.value.parameter == "symbols" and "NOPE" in str(err.value)
    win = panel.window("2024-06-10", "2024-06-14")
    assert list(win.index) == list(JUNE_SESSIONS[(JUNE_SESSIONS >= "2024-06-10") & (JUNE_SESSIONS <= "2024-06-14")])
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(win, name), getattr(panel, name).loc["2024-06-10":"2024-06-14"])
    assert np.isnan(win.returns.iloc[0]).all()  # a window's first return is NaN
    with pytest.raises(ParameterError) as err:
        panel.window("2024-06-14", "2024-06-10")
    assert err.value.parameter == "end"


def test_start_and_end_give_the_rows_of_the_full_panel() -> None:
    # EQA has a gap across the window start; the first windowed row must still be filled, and
    # Monday's crypto volume must hold the weekend even though the weekend is before `start`.
    a = JUNE_SESSIONS.difference(pd.to_datetime(["2024-06-07", "2024-06-10"]))
    store = _store(
        (_obs("EQA", a, close=_day_value(a, 100), market_cap=np.where(a == "2024-06-03", 1e4, NAN)), "yahoo"),
        (_obs("CX", JUNE, close=_day_value(JUNE, 1000), volume_usd=_day_value(JUNE, 0)), "coinmetrics"),
    )
    full = build_panel(store, _universe())
    part = build_panel(store, _universe(), start="2024-06-10", end="2024-06-21")
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(part, name), getattr(full, name).loc["2024-06-10":"2024-06-21"])
    assert part.prices.loc["2024-06-10", "EQA"] == 106.0
    assert part.volume_usd.loc["2024-06-10", "CX"] == 7 + 8 + 9
    assert part.market_caps.loc["2024-06-10", "EQA"] == pytest.approx(1e4 / 103 * 106)
    assert _quality(part, "EQA", "filled_prices") == 1  # only the window's fills are counted
    weekly_full = build_panel(store, _universe(), frequency="W")
    weekly_part = build_panel(store, _universe(), frequency="W", start="2024-06-12")
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(weekly_part, name), getattr(weekly_full, name).loc["2024-06-12":])


def test_start_before_the_data_gives_empty_leading_rows() -> None:
    panel = build_panel(_june_store(), _universe(), start="2024-05-28")
    assert panel.index[0] == pd.Timestamp("2024-05-28")
    assert panel.prices.loc[:"2024-05-31"].isna().all().all()


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"frequency": "M"}, "frequency"),
        ({"calendar": "crypto"}, "calendar"),
        ({"crypto_close": "next"}, "crypto_close"),
        ({"cap_method": "guess"}, "cap_method"),
        ({"max_gap": -1}, "max_gap"),
        ({"max_gap": 61}, "max_gap"),
        ({"max_gap": 2.5}, "max_gap"),
        ({"max_gap": True}, "max_gap"),
        ({"start": "not a date"}, "start"),
        ({"end": "2024-13-45"}, "end"),
        ({"start": "2024-06-20", "end": "2024-06-10"}, "end"),
        ({"symbols": [1, 2]}, "symbols"),
    ],
)
def test_bad_options_raise_a_parameter_error_naming_the_parameter(kwargs: dict, parameter: str) -> None:
    with pytest.raises(ParameterError) as err:
        build_panel(_june_store(), _universe(), **kwargs)
    assert err.value.parameter == parameter
    assert parameter in str(err.value)


def test_empty_store_tells_the_user_how_to_get_data() -> None:
    with pytest.raises(EmptyStoreError) as err:
        build_panel(Store(":memory:"), _universe())
    message = str(err.value)
    assert "rotation fetch" in message and "rotation import" in message


def test_nothing_before_end_is_a_data_error() -> None:
    with pytest.raises(DataError, match="on or before"):
        build_panel(_june_store(), _universe(), end="2024-05-15")


def test_a_window_without_rows_is_a_data_error() -> None:
    with pytest.raises(DataError, match="no sessions rows"):
        build_panel(_june_store(), _universe(), start="2024-06-08", end="2024-06-09")


# ------------------------------------------------------------------------ no look-ahead
@st.composite
def _store_rows(draw: st.DrawFn) -> tuple[list[pd.DataFrame], pd.Timestamp]:
    """Single-source observations for two equities, an ETF and a crypto asset on random days."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    first = pd.Timestamp("2023-12-01") + pd.Timedelta(days=draw(st.integers(0, 200)))
    days = pd.date_range(first, periods=draw(st.integers(20, 90)))
    session_days = sessions(days[0], days[-1])
    frames = []
    for sym, pool, keep in (
        ("EQA", session_days, draw(st.floats(0.6, 1.0))),
        ("EQB", session_days[draw(st.integers(0, 10)):], draw(st.floats(0.3, 1.0))),
        ("FUND", days, draw(st.floats(0.5, 1.0))),  # some rows dated on weekends: dropped consistently
        ("CX", days, draw(st.floats(0.5, 1.0))),
    ):
        when = pool[rng.random(len(pool)) < keep]
        if len(when) == 0:
            continue
        n = len(when)
        px = 50 * np.exp(np.cumsum(rng.normal(0, 0.03, n)))
        px[rng.random(n) < 0.05] = -1.0  # a few bad prints
        frame = _obs(sym, when, close=px, adj_close=px * 0.98, volume=rng.uniform(1e3, 1e4, n))
        frame["market_cap"] = np.where(rng.random(n) < 0.15, px * 1e6, NAN)
        frame["supply"] = np.where(rng.random(n) < 0.5, 1e6 + np.arange(n), NAN)
        frames.append(frame)
    cut = days[draw(st.integers(3, len(days) - 2))]
    return frames, cut


def _append(store: Store, frames: list[pd.DataFrame], lo: pd.Timestamp | None, hi: pd.Timestamp | None) -> None:
    """Write the rows dated in (lo, hi] (one write per source)."""
    rows = pd.concat(frames, ignore_index=True)
    if lo is not None:
        rows = rows[rows["date"] > lo]
    if hi is not None:
        rows = rows[rows["date"] <= hi]
    crypto = rows["symbol"] == "CX"
    for part, source in ((rows[~crypto], "yahoo"), (rows[crypto], "coinmetrics")):
        if len(part):
            store.write_observations(part, source=source)


def _build(store: Store, **kwargs: object) -> Panel | None:
    try:
        return build_panel(store, _universe(), **kwargs)  # type: ignore[arg-type]
    except (EmptyStoreError, DataError):
        return None


def _assert_rows_unchanged(old: Panel, new: Panel, what: str) -> None:
    assert old.index.isin(new.index).all(), what
    for name in FRAMES:
        before = getattr(old, name)
        after = getattr(new, name).loc[before.index, before.columns]
        pd.testing.assert_frame_equal(before, after, check_freq=False, obj=f"{name} ({what})")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=_store_rows(),
    frequency=st.sampled_from(["D", "W"]),
    calendar=st.sampled_from(["sessions", "all_days"]),
    crypto_close=st.sampled_from(["prior", "same_day"]),
    cap_method=st.sampled_from(["observed", "carry"]),
)
def test_appending_future_store_rows_never_changes_past_panel_values(
    data: tuple[list[pd.DataFrame], pd.Timestamp], frequency: str, calendar: str, crypto_close: str, cap_method: str
) -> None:
    frames, cut = data
    opts = {"frequency": frequency, "calendar": calendar, "crypto_close": crypto_close, "cap_method": cap_method}
    store = Store(":memory:")
    _append(store, frames, None, cut)
    past = _build(store, **opts)
    _append(store, frames, cut, None)  # later dates only
    full = _build(store, **opts)
    if past is None:
        return
    assert full is not None
    _assert_rows_unchanged(past, full, f"appended, {opts}")
    # An explicit `end` is the same as not having the later rows.
    ended = _build(store, end=cut, **opts)
    assert ended is not None
    _assert_rows_unchanged(ended, full, f"end={cut.date()}, {opts}")


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_store_rows())
def test_default_daily_and_weekly_panels_have_no_look_ahead(data: tuple[list[pd.DataFrame], pd.Timestamp]) -> None:
    frames, cut = data
    store = Store(":memory:")
    _append(store, frames, None, cut)
    past = {f: _build(store, frequency=f) for f in ("D", "W")}
    _append(store, frames, cut, None)
    for frequency, old in past.items():
        if old is None:
            continue
        new = _build(store, frequency=frequency)
        assert new is not None
        _assert_rows_unchanged(old, new, f"default options, frequency={frequency}")


# ------------------------------------------------------------------------------ real data
def _stored_universe_symbols(real_store: Store, universe: Universe) -> set[str]:
    cov = real_store.coverage()
    stored = set(cov.loc[cov["table"] == "observations", "symbol"])
    return {s for s in universe.instruments if s in stored}


def test_real_panel_has_every_universe_instrument_with_data(real_store, real_universe, real_panel) -> None:
    expected = _stored_universe_symbols(real_store, real_universe)
    assert expected <= set(real_panel.symbols)
    assert {"NVDA", "BTC", "SPY", "USDT", "MSTR", "IREN"} <= expected
    for sym in expected:
        assert real_panel.prices[sym].notna().any(), sym
    assert real_panel.index.is_monotonic_increasing and real_panel.index.is_unique
    assert not real_panel.index.isin(pd.to_datetime(["2024-07-04", "2024-03-29", "2025-01-09"])).any()


def test_real_btc_on_a_monday_is_the_sunday_close(real_store, real_panel) -> None:
    stored = real_store.read_observations(["BTC"], sources=["coingecko"]).set_index("date")["close"]
    monday, sunday = pd.Timestamp("2023-03-06"), pd.Timestamp("2023-03-05")
    assert real_panel.sources["BTC"] == "coingecko"
    assert real_panel.prices.loc[monday, "BTC"] == stored.loc[sunday]


def test_real_btc_weekly_returns_exist_from_2015(real_weekly_panel) -> None:
    r = real_weekly_panel.returns["BTC"]
    assert r.loc["2015-01-01":"2025-12-31"].notna().all()
    assert r.first_valid_index() <= pd.Timestamp("2015-01-09")


def test_real_weekly_panel_ends_on_a_friday(real_weekly_panel) -> None:
    idx = real_weekly_panel.index
    assert (idx.day_of_week == 4).all()
    assert idx[-1].day_of_week == 4


def test_real_nvda_june_2024_split_is_not_a_crash(real_panel) -> None:
    r = real_panel.returns["NVDA"]
    assert r.loc["2024-06-03":"2024-06-14"].abs().max() < 0.1
    assert r.min() > -0.5  # a 10:1 split would show as -90 %


def test_real_ai_compute_cap_weights_with_backcast_caps(real_store, real_universe) -> None:
    panel = build_panel(real_store, real_universe, baskets=["ai_compute"], cap_method="backcast")
    assert "cap_backcast" in set(panel.quality["action"])
    idx = panel.basket("ai_compute", "cap")
    nvda = idx.weights["NVDA"]
    end_2022, end_2024 = nvda.loc[:"2022-12-31"].iloc[-1], nvda.loc[:"2024-12-31"].iloc[-1]
    assert 0 < end_2022 < end_2024
    assert end_2024 > 0.5  # NVDA dominates the basket after 2023
    assert idx.weights.sum(axis=1).loc["2016":].round(12).eq(1.0).all()


def test_real_sp500_members_panel_builds(real_store, real_universe, shared_data) -> None:
    # Its speed is measured in benchmarks/ (never asserted here).
    members = pd.read_csv(shared_data / "sp500" / "constituents_current.csv")["symbol"].tolist()
    panel = build_panel(real_store, real_universe, symbols=members)
    assert panel.prices.shape[1] >= 490
    assert panel.market_caps.loc["2026-03-06"].notna().sum() >= 450  # the snapshot date


def test_observed_only_blanks_rows_after_each_last_observed_price() -> None:
    """Filled rows after a feed stops are blanked; the panel's own caps get the same treatment."""
    import numpy as np
    import pandas as pd

    from rotation.panel import build_panel
    from rotation.store import Store
    from rotation.universe import load_universe

    store = Store(":memory:")
    sess = pd.bdate_range("2024-01-01", "2024-01-31")
    store.write_observations(pd.DataFrame({"symbol": "NVDA", "date": sess, "close": 1.0 + np.arange(len(sess)),
                                           "market_cap": 1e9}), source="yahoo")
    store.write_observations(pd.DataFrame({"symbol": "AMD", "date": sess[:10], "close": 2.0,
                                           "market_cap": 5e8}), source="yahoo")
    panel = build_panel(store, load_universe(), symbols=["NVDA", "AMD"], cap_method="observed")
    assert panel.last_observed["AMD"] == sess[9]
    after = panel.index[panel.index > sess[9]][0]  # the next session (2024-01-15 is a holiday)
    assert panel.prices.loc[after, "AMD"] == 2.0  # forward-filled (max_gap) ...
    cut = panel.observed_only(panel.prices)
    assert cut["AMD"].last_valid_index() == sess[9] and cut["NVDA"].notna().all()  # ... but not observed
    caps = panel.with_observed_caps().market_caps
    assert caps["AMD"].last_valid_index() == sess[9] and caps["NVDA"].notna().all()


# ------------------------------------------------------------------- columnar read path
@st.composite
def _multi_source_rows(draw: st.DrawFn) -> list[tuple[pd.DataFrame, str]]:
    """(frame, source) writes: several sources per symbol, NaNs, bad prints, weekend rows, late listings."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    days = pd.date_range("2024-01-01", periods=draw(st.integers(15, 80)))
    writes = []
    plan = {"EQA": ["yahoo", "file", "zzz"], "EQB": ["yahoo", "abc"], "FUND": ["yahoo"],
            "CX": ["coinmetrics", "binance", "kraken"], "STAB": ["defillama"], "OUTSIDE": ["file", "x"]}
    for sym, sources in plan.items():
        for k, source in enumerate(sources):
            start = int(rng.integers(0, len(days) // 2))  # late listings, and sources that start later
            when = days[start:][rng.random(len(days) - start) < draw(st.floats(0.4, 1.0))]
            if len(when) == 0:
                continue
            n = len(when)
            px = 50 * np.exp(np.cumsum(rng.normal(0, 0.03, n))) * (1 + 0.2 * k)
            px[rng.random(n) < 0.05] = -1.0
            frame = _obs(sym, when, close=np.where(rng.random(n) < 0.1, NAN, px),
                         adj_close=np.where(rng.random(n) < 0.3, NAN, px * 0.97),
                         volume=rng.uniform(1e3, 1e4, n))
            if rng.random() < 0.5:
                frame["volume_usd"] = np.where(rng.random(n) < 0.5, NAN, rng.uniform(1e5, 1e6, n))
            frame["market_cap"] = np.where(rng.random(n) < 0.2, px * 1e6, NAN)
            writes.append((frame, source))
    return writes


def _frame_reader(store: Store):
    """``Store.read_observation_arrays`` rebuilt from the public sorted long frame, rows shuffled."""
    from rotation.panel._build import _arrays_from_frame

    def read(symbols=None, *, end=None, fields=None):
        frame = store.read_observations(symbols, end=end, fields=fields)
        frame = frame.sample(frac=1.0, random_state=7)  # the panel must not depend on the row order
        return _arrays_from_frame(frame, list(fields))

    return read


def _assert_same_panel(a: Panel, b: Panel) -> None:
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True, obj=name)
    pd.testing.assert_frame_equal(a.quality, b.quality, obj="quality")
    pd.testing.assert_series_equal(a.sources, b.sources, obj="sources")
    pd.testing.assert_series_equal(a.last_observed, b.last_observed, obj="last_observed")


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    writes=_multi_source_rows(),
    options=st.sampled_from([
        {}, {"frequency": "W"}, {"calendar": "all_days"}, {"crypto_close": "same_day", "max_gap": 1},
        {"cap_method": "backcast", "max_gap": 0}, {"start": "2024-01-20", "end": "2024-02-25"},
        {"symbols": ["OUTSIDE", "CX", "EQA", "NOPE"], "calendar": "all_days", "frequency": "W"},
    ]),
)
def test_columnar_read_gives_the_panel_of_the_sorted_long_frame(
    writes: list[tuple[pd.DataFrame, str]], options: dict
) -> None:
    store = _store(*writes)
    fast = _build(store, **options)
    store.read_observation_arrays = _frame_reader(store)  # type: ignore[method-assign]
    reference = _build(store, **options)
    assert (fast is None) == (reference is None)
    if fast is not None:
        assert reference is not None
        _assert_same_panel(fast, reference)


def test_columnar_read_path_handles_splices_off_calendar_rows_and_bad_prints() -> None:
    """A hand-made case of every policy the read path feeds, checked against the sorted long frame."""
    sess = sessions("2024-06-03", "2024-06-28")
    store = _store(
        (_obs("EQA", sess[5:], adj_close=_day_value(sess[5:], 100)), "yahoo"),
        (_obs("EQA", sess, adj_close=_day_value(sess, 50)), "file"),  # fills the first 5 sessions, scaled
        (_obs("EQB", list(sess[:10]) + [pd.Timestamp("2024-06-15")], close=-1.0), "yahoo"),  # bad + Saturday
        (_obs("CX", JUNE, close=_day_value(JUNE, 1000), volume_usd=1.0), "binance"),
    )
    fast = build_panel(store, _universe(), symbols=["EQA", "EQB", "CX"])
    assert _quality(fast, "EQA", "spliced_price") == 5
    assert _quality(fast, "EQB", "dropped_nonpositive") == 11
    store.read_observation_arrays = _frame_reader(store)  # type: ignore[method-assign]
    _assert_same_panel(fast, build_panel(store, _universe(), symbols=["EQA", "EQB", "CX"]))


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    shape=st.tuples(st.integers(1, 6), st.integers(1, 40)),
    nan_share=st.floats(0.0, 1.0),
    limit=st.one_of(st.none(), st.integers(1, 6)),
)
def test_grid_fills_match_pandas(seed: int, shape: tuple[int, int], nan_share: float, limit: int | None) -> None:
    """The panel's NumPy forward/backward fills along time equal pandas' ``ffill(limit)`` / ``bfill``."""
    from rotation.panel._build import _bfill, _ffill

    rng = np.random.default_rng(seed)
    a = rng.normal(size=shape)
    a[rng.random(shape) < nan_share] = NAN
    expected = pd.DataFrame(a.T).ffill(limit=limit).to_numpy().T
    np.testing.assert_array_equal(_ffill(a, limit), expected)
    np.testing.assert_array_equal(_bfill(a), pd.DataFrame(a.T).bfill().to_numpy().T)
