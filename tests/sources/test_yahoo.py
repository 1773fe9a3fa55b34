"""YahooSource against recorded-format chart bodies, offline (httpx.MockTransport)."""

from __future__ import annotations

import copy
import re
from functools import partial
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import numpy as np
import pandas as pd
import pytest
from source_test_helpers import FailureModes, FixtureFiles, Script, offline_source, recorded

from rotation._frames import validate_frame
from rotation.errors import (
    MalformedResponseError,
    ParameterError,
    SourceError,
    SymbolNotFoundError,
)
from rotation.sources._http import RetryPolicy
from rotation.sources.yahoo import YahooSource, chart_params, parse_chart

FIX = FixtureFiles("yahoo")
NY = ZoneInfo("America/New_York")
NVDA_DAYS = [
    "2024-06-03", "2024-06-04", "2024-06-05", "2024-06-06", "2024-06-07",
    "2024-06-10", "2024-06-11", "2024-06-12", "2024-06-13", "2024-06-14",
]


@pytest.fixture
def nvda() -> dict[str, Any]:
    return FIX.json("nvda_2024-06_split_dividend.json")


@pytest.fixture
def btc() -> dict[str, Any]:
    return FIX.json("btc-usd_2024-06_live.json")


def source(server: Script) -> YahooSource:
    """A YahooSource answering from ``server`` (retries do not wait)."""
    return offline_source(YahooSource, server)


def ok(payload: dict[str, Any]) -> httpx.Response:
    return httpx.Response(200, json=payload)


def result_of(payload: dict[str, Any]) -> dict[str, Any]:
    return payload["chart"]["result"][0]


def fetch_nvda(payload: dict[str, Any], start: str = "2024-06-03", end: str = "2024-06-14"):
    return source(Script(ok(payload))).fetch(
        "NVDA", "NVDA", date.fromisoformat(start), date.fromisoformat(end)
    )


# --------------------------------------------------------------------------- normal parse


def test_nvda_bars_across_the_split(nvda: dict[str, Any]) -> None:
    res = fetch_nvda(nvda)
    f = res.frame
    assert f.columns.tolist() == ["symbol", "date", "open", "high", "low", "close", "adj_close", "volume"]
    assert f["date"].dt.strftime("%Y-%m-%d").tolist() == NVDA_DAYS
    assert (f["symbol"] == "NVDA").all()
    assert all(f[c].dtype == "float64" for c in ["open", "high", "low", "close", "adj_close", "volume"])
    day = f.set_index(f["date"].dt.strftime("%Y-%m-%d"))
    # Last pre-split session, already divided by 10 as Yahoo shows it after the split.
    assert day.loc["2024-06-07", "close"] == pytest.approx(120.888, abs=1e-4)
    assert day.loc["2024-06-07", "volume"] == 412386000
    assert day.loc["2024-06-10", "open"] == pytest.approx(120.37, abs=1e-4)
    assert day.loc["2024-06-14", "adj_close"] == pytest.approx(131.66301, abs=1e-4)
    # adj_close <= close because later dividends are deducted from history.
    assert (f["adj_close"] < f["close"]).all()
    assert res.notes == []
    validate_frame(f, "observations")  # what Store.write_observations accepts


def test_nvda_split_and_dividend_actions(nvda: dict[str, Any]) -> None:
    acts = fetch_nvda(nvda).actions
    assert acts is not None
    rows = [(d.strftime("%Y-%m-%d"), k, v) for d, k, v in zip(acts["date"], acts["kind"], acts["value"], strict=True)]
    assert rows == [("2024-06-10", "split", 10.0), ("2024-06-11", "dividend", 0.01)]
    assert (acts["symbol"] == "NVDA").all()
    validate_frame(acts, "actions")


def test_split_ratio_is_numerator_over_denominator(nvda: dict[str, Any]) -> None:
    split = next(iter(result_of(nvda)["events"]["splits"].values()))
    split.update(numerator=1.0, denominator=8.0, splitRatio="1:8")  # a reverse split
    acts = fetch_nvda(nvda).actions
    assert acts.loc[acts["kind"] == "split", "value"].item() == 0.125


def test_request_shape(nvda: dict[str, Any]) -> None:
    server = Script(ok(nvda))
    source(server).fetch("NVDA", "NVDA", date(2024, 6, 3), date(2024, 6, 14))
    (req,) = server.requests
    assert req.url.host == "query2.finance.yahoo.com"
    assert req.url.path == "/v8/finance/chart/NVDA"
    q = req.url.params
    assert q["interval"] == "1d" and q["events"] == "div,splits" and q["includeAdjustedClose"] == "true"
    # two days of margin each side of the UTC day bounds
    assert int(q["period1"]) == int(datetime(2024, 6, 1, tzinfo=UTC).timestamp())
    assert int(q["period2"]) == int(datetime(2024, 6, 17, tzinfo=UTC).timestamp())
    assert req.headers["User-Agent"].startswith("Mozilla/5.0")


def test_chart_params_cover_the_requested_days() -> None:
    p = chart_params(date(2024, 1, 2), date(2024, 1, 2))
    assert int(p["period1"]) < int(datetime(2024, 1, 2, tzinfo=UTC).timestamp())
    assert int(p["period2"]) > int(datetime(2024, 1, 3, tzinfo=UTC).timestamp())


def test_index_symbol_is_percent_encoded(nvda: dict[str, Any]) -> None:
    server = Script(ok(nvda))
    source(server).fetch("SPX", "^GSPC", date(2024, 6, 3), date(2024, 6, 14))
    assert server.requests[0].url.raw_path.startswith(b"/v8/finance/chart/%5EGSPC?")


# --------------------------------------------------------------------------- date handling


def test_date_range_filters_bars_and_actions(nvda: dict[str, Any]) -> None:
    res = fetch_nvda(nvda, "2024-06-05", "2024-06-10")
    assert res.frame["date"].dt.strftime("%Y-%m-%d").tolist() == ["2024-06-05", "2024-06-06", "2024-06-07", "2024-06-10"]
    assert res.actions["kind"].tolist() == ["split"]


def test_range_without_sessions_is_empty_not_an_error(nvda: dict[str, Any]) -> None:
    res = fetch_nvda(nvda, "2024-06-08", "2024-06-09")  # a weekend
    assert res.frame.empty and res.actions.empty
    validate_frame(res.frame, "observations")


def test_session_date_is_exchange_local_not_utc(nvda: dict[str, Any]) -> None:
    # NZX opens 10:00 Auckland = 22:00 UTC the previous day: the UTC date is wrong by one.
    r = result_of(nvda)
    auckland = ZoneInfo("Pacific/Auckland")
    r["meta"]["exchangeTimezoneName"] = "Pacific/Auckland"
    r["meta"]["gmtoffset"] = 43200
    r["timestamp"] = [
        int(datetime.fromisoformat(d).replace(hour=10, tzinfo=auckland).timestamp()) for d in NVDA_DAYS
    ]
    r["events"] = {}
    assert datetime.fromtimestamp(r["timestamp"][0], UTC).date() == date(2024, 6, 2)
    res = parse_chart(nvda, symbol="FPH", start=date(2024, 6, 3), end=date(2024, 6, 14))
    assert res.frame["date"].dt.strftime("%Y-%m-%d").tolist() == NVDA_DAYS


def test_winter_and_summer_open_stamps_both_map_to_the_session(nvda: dict[str, Any]) -> None:
    # 09:30 New York is 14:30 UTC under EST and 13:30 UTC under EDT.
    r = result_of(nvda)
    winter = int(datetime(2024, 1, 2, 9, 30, tzinfo=NY).timestamp())
    summer = int(datetime(2024, 7, 1, 9, 30, tzinfo=NY).timestamp())
    assert (winter % 86400, summer % 86400) == (14 * 3600 + 1800, 13 * 3600 + 1800)
    r["timestamp"][0], r["timestamp"][-1] = winter, summer
    r["events"] = {}
    dates = parse_chart(nvda, symbol="NVDA").frame["date"].dt.strftime("%Y-%m-%d").tolist()
    assert dates == ["2024-01-02", *NVDA_DAYS[1:-1], "2024-07-01"]


def test_unknown_timezone_falls_back_to_gmtoffset_with_a_note(nvda: dict[str, Any]) -> None:
    result_of(nvda)["meta"]["exchangeTimezoneName"] = "Mars/Olympus_Mons"
    res = parse_chart(nvda, symbol="NVDA")
    assert res.frame["date"].dt.strftime("%Y-%m-%d").tolist() == NVDA_DAYS
    assert any("fixed offset -18000" in n for n in res.notes)


def test_crypto_bars_are_utc_days_and_volume_is_usd(btc: dict[str, Any]) -> None:
    server = Script(ok(btc))
    res = source(server).fetch("BTC", "BTC-USD", date(2024, 6, 1), date(2024, 6, 12))
    f = res.frame
    assert f.columns.tolist() == ["symbol", "date", "open", "high", "low", "close", "adj_close", "volume_usd"]
    # bar stamped 00:00 UTC of D covers D and is dated D (rotation's crypto convention)
    assert f["date"].iloc[0] == pd.Timestamp("2024-06-01")
    assert f["open"].iloc[0] == pytest.approx(67489.609375)
    assert f["close"].iloc[0] == pytest.approx(67706.9375)
    assert f["volume_usd"].iloc[0] == 11641495604
    # 2024-06-12 was still trading at 14:05 UTC: its partial bar is dropped, and said so
    assert f["date"].iloc[-1] == pd.Timestamp("2024-06-11")
    assert len(f) == 11
    assert res.notes == ["dropped the partial bar for 2024-06-12 (session still open at 2024-06-12 14:05 UTC)"]
    validate_frame(f, "observations")


def _live_during(nvda: dict[str, Any], last_trade: datetime) -> None:
    meta = result_of(nvda)["meta"]
    opens = datetime(2024, 6, 14, 9, 30, tzinfo=NY)
    closes = datetime(2024, 6, 14, 16, 0, tzinfo=NY)
    meta["regularMarketTime"] = int(last_trade.timestamp())
    meta["currentTradingPeriod"]["regular"].update(start=int(opens.timestamp()), end=int(closes.timestamp()))


def test_equity_partial_bar_dropped_while_session_open(nvda: dict[str, Any]) -> None:
    _live_during(nvda, datetime(2024, 6, 14, 11, 15, tzinfo=NY))
    res = fetch_nvda(nvda)
    assert res.frame["date"].iloc[-1] == pd.Timestamp("2024-06-13")
    assert len(res.notes) == 1 and "partial bar for 2024-06-14" in res.notes[0]


def test_equity_bar_kept_once_session_closed(nvda: dict[str, Any]) -> None:
    _live_during(nvda, datetime(2024, 6, 14, 16, 0, 1, tzinfo=NY))
    res = fetch_nvda(nvda)
    assert res.frame["date"].iloc[-1] == pd.Timestamp("2024-06-14") and res.notes == []


def test_rows_without_close_are_dropped_and_noted(nvda: dict[str, Any]) -> None:
    quote = result_of(nvda)["indicators"]["quote"][0]
    for key in quote:
        quote[key][2] = None  # 2024-06-05 entirely null, as Yahoo sends for some halted days
    quote["open"][3] = None  # a partial null keeps the row
    res = fetch_nvda(nvda)
    assert pd.Timestamp("2024-06-05") not in set(res.frame["date"])
    assert np.isnan(res.frame.set_index("date").loc["2024-06-06", "open"])
    assert res.notes == ["dropped 1 bar(s) without a close (2024-06-05)"]


def test_duplicate_live_bar_keeps_the_latest(nvda: dict[str, Any]) -> None:
    r = result_of(nvda)
    late = int(datetime(2024, 6, 14, 15, 59, tzinfo=NY).timestamp())
    r["timestamp"].append(late)
    for key, arr in r["indicators"]["quote"][0].items():
        arr.append(999 if key != "volume" else 1)
    r["indicators"]["adjclose"][0]["adjclose"].append(999)
    res = fetch_nvda(nvda)
    assert len(res.frame) == 10
    assert res.frame["close"].iloc[-1] == 999
    assert any("several bars for 2024-06-14" in n for n in res.notes)


# --------------------------------------------------------------------------- unknown / empty


def test_unknown_symbol_404() -> None:
    server = Script(httpx.Response(404, content=FIX.bytes("not_found_404.json")))
    with pytest.raises(SymbolNotFoundError) as info:
        source(server).fetch("XX", "NOSUCHTICKER", date(2024, 6, 3), date(2024, 6, 14))
    assert info.value.provider == "yahoo" and info.value.symbol == "NOSUCHTICKER"
    assert server.calls == 1


def test_not_found_error_inside_a_200() -> None:
    with pytest.raises(SymbolNotFoundError, match="symbol may be delisted"):
        fetch_nvda(FIX.json("not_found_404.json"))


def test_window_without_data_400_is_an_empty_result() -> None:
    server = Script(httpx.Response(400, content=FIX.bytes("no_data_in_range_400.json")))
    res = source(server).fetch("CRCL", "CRCL", date(2024, 1, 1), date(2024, 1, 3))
    assert res.frame.empty and res.actions.empty
    assert res.notes and "no bars" in res.notes[0]


def test_other_400_is_a_source_error() -> None:
    body = {"chart": {"result": None, "error": {"code": "Bad Request", "description": "Invalid input - interval=1d"}}}
    server = Script(httpx.Response(400, json=body))
    with pytest.raises(SourceError, match="Invalid input"):
        source(server).fetch("NVDA", "NVDA", date(2024, 6, 3), date(2024, 6, 14))


def test_200_without_timestamps_is_empty(nvda: dict[str, Any]) -> None:
    r = result_of(nvda)
    del r["timestamp"]
    r["events"] = {}
    r["indicators"] = {"quote": [{}], "adjclose": [{}]}
    res = fetch_nvda(nvda)
    assert res.frame.empty and res.notes == ["Yahoo returned no bars for NVDA"]


# --------------------------------------------------------------------------- malformed


def _mutations() -> list[tuple[str, Any, str]]:
    def drop(path: list[str | int]):
        def apply(doc: dict[str, Any]) -> None:
            node: Any = doc
            for key in path[:-1]:
                node = node[key]
            del node[path[-1]]
        return apply

    res = ["chart", "result", 0]
    return [
        ("no chart", lambda d: d.pop("chart"), "no 'chart' object"),
        ("null result", lambda d: d["chart"].update(result=None), "missing or empty"),
        ("empty result", lambda d: d["chart"].update(result=[]), "missing or empty"),
        ("no meta", drop([*res, "meta"]), "meta' is missing"),
        ("no quote", drop([*res, "indicators", "quote"]), "quote[0]' is missing"),
        ("no close", drop([*res, "indicators", "quote", 0, "close"]), "quote[0].close' is missing"),
        ("no adjclose", drop([*res, "indicators", "adjclose"]), "adjclose' is missing"),
        ("short volume", lambda d: d["chart"]["result"][0]["indicators"]["quote"][0]["volume"].pop(),
         "volume' has 9 values but 'timestamp' has 10"),
        ("short adjclose", lambda d: d["chart"]["result"][0]["indicators"]["adjclose"][0]["adjclose"].pop(),
         "adjclose' has 9 values"),
        ("string price", lambda d: d["chart"]["result"][0]["indicators"]["quote"][0]["close"].__setitem__(4, "120.9"),
         "close[4]' is '120.9', not a number"),
        ("float timestamp", lambda d: d["chart"]["result"][0]["timestamp"].__setitem__(0, 1.5e9),
         "not a list of epoch seconds"),
        ("split without denominator",
         lambda d: next(iter(d["chart"]["result"][0]["events"]["splits"].values())).pop("denominator"),
         "numerator/denominator"),
        ("split 10:0",
         lambda d: next(iter(d["chart"]["result"][0]["events"]["splits"].values())).update(denominator=0),
         "ratio 10.0/0"),
        ("dividend without amount",
         lambda d: next(iter(d["chart"]["result"][0]["events"]["dividends"].values())).pop("amount"),
         "no numeric 'amount'"),
    ]


@pytest.mark.parametrize(("label", "mutate", "message"), _mutations(), ids=[m[0] for m in _mutations()])
def test_malformed_payloads_name_the_problem(nvda: dict[str, Any], label: str, mutate: Any, message: str) -> None:
    doc = copy.deepcopy(nvda)
    mutate(doc)
    with pytest.raises(MalformedResponseError, match=re.escape(message)) as info:
        fetch_nvda(doc)
    assert info.value.provider == "yahoo"


# --------------------------------------------------------------------------- failure modes


class TestFailureModes(FailureModes):
    """Retries, permanent failures, undecodable bodies and bad ranges (see ``source_test_helpers``)."""

    make = staticmethod(partial(recorded, YahooSource))
    fixtures, good_file = FIX, "nvda_2024-06_split_dividend.json"
    symbol = provider_symbol = "NVDA"
    start, end, rows = date(2024, 6, 3), date(2024, 6, 14), 10


# --------------------------------------------------------------------------- arguments


def test_bad_arguments() -> None:
    src = source(Script(httpx.Response(500)))
    with pytest.raises(ParameterError, match="after end"):
        src.fetch("NVDA", "NVDA", date(2024, 6, 14), date(2024, 6, 3))
    with pytest.raises(ParameterError, match="provider_symbol"):
        src.fetch("NVDA", " ", date(2024, 6, 3), date(2024, 6, 14))


# --------------------------------------------------------------------------- live


@pytest.mark.live
def test_live_yahoo_fetch_a_few_days() -> None:
    src = YahooSource(retry=RetryPolicy(attempts=3, initial=2.0, max_wait=20.0))
    try:
        res = src.fetch("NVDA", "NVDA", date(2024, 6, 3), date(2024, 6, 14))
    finally:
        src.close()
    assert res.frame["date"].dt.strftime("%Y-%m-%d").tolist() == NVDA_DAYS
    assert res.frame["close"].iloc[4] == pytest.approx(120.888, rel=1e-3)
    assert ("split", 10.0) in set(zip(res.actions["kind"], res.actions["value"], strict=True))
