"""Offline tests of the Coin Metrics source: wire format, paging, dates and failure modes.

Every HTTP exchange goes through ``httpx.MockTransport``; waits go to a recorder,
so nothing touches the network or sleeps. Fixtures are in Coin Metrics' v4
format (``tests/fixtures/coinmetrics``).
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import httpx
import numpy as np
import pandas as pd
import pytest
from source_test_helpers import FailureModes, FixtureFiles, Step, recorded

from rotation.errors import (
    MalformedResponseError,
    RateLimitedError,
    SourceError,
    SymbolNotFoundError,
)
from rotation.sources.coinmetrics import CoinMetricsSource

FIX = FixtureFiles("coinmetrics")
body, load, ok = FIX.bytes, FIX.json, FIX.ok
SERIES_PATH = "/v4/timeseries/asset-metrics"
CATALOG_PATH = "/v4/catalog-v2/asset-metrics"


def make_source(
    *steps: Step, attempts: int = 3, **kwargs: object
) -> tuple[CoinMetricsSource, list[float], list[httpx.Request]]:
    """A source answering ``steps`` in order, with its recorded waits and requests."""
    return recorded(
        CoinMetricsSource, *steps, attempts=attempts, initial=0.5, max_wait=30.0, **kwargs
    )


START, END = date(2023, 3, 18), date(2023, 3, 22)


# ------------------------------------------------------------------ parsing
def test_parses_strings_into_floats_and_keeps_the_close_date() -> None:
    src, _, calls = make_source(ok("btc_2023-03-18_22.json"))
    result = src.fetch("BTC", "BTC", START, END)
    frame = result.frame

    assert list(frame.columns) == ["symbol", "date", "close", "market_cap", "supply"]
    assert frame["date"].dtype == "datetime64[ns]"
    for col in ("close", "market_cap", "supply"):
        assert frame[col].dtype == np.float64
    # time 2023-03-18T00:00Z carries the close of 2023-03-18 (end of day): no shift
    assert frame["date"].dt.date.tolist() == [START + timedelta(days=i) for i in range(5)]
    first = frame.iloc[0]
    assert first["symbol"] == "BTC"
    assert first["close"] == pytest.approx(26985.7359915254)
    assert first["supply"] == pytest.approx(19322193.99180372)
    assert first["market_cap"] == pytest.approx(26985.7359915254 * 19322193.99180372, rel=1e-12)
    assert result.notes == []

    (request,) = calls
    assert request.url.path == SERIES_PATH
    assert request.url.host == "community-api.coinmetrics.io"
    q = request.url.params
    assert q["assets"] == "btc"  # provider ids are lower case
    assert q["metrics"].split(",") == ["PriceUSD", "CapMrktCurUSD", "SplyCur"]
    assert (q["frequency"], q["start_time"], q["end_time"]) == ("1d", "2023-03-18", "2023-03-22")
    assert q["paging_from"] == "start"  # the API pages from the end by default
    assert q["ignore_forbidden_errors"] == q["ignore_unsupported_errors"] == "true"
    assert "api_key" not in q


def test_absent_metric_is_nan_and_noted() -> None:
    src, _, _ = make_source(ok("sol_price_only.json"))
    result = src.fetch("SOL", "sol", date(2024, 3, 1), date(2024, 3, 3))
    frame = result.frame
    assert frame["close"].tolist() == pytest.approx(
        [129.4331864020, 130.0187312243, 130.1554210087]
    )
    assert frame["market_cap"].isna().all() and frame["supply"].isna().all()
    assert any("CapMrktCurUSD" in n for n in result.notes)
    assert any("SplyCur" in n for n in result.notes)


def test_null_and_missing_values_on_single_days_are_nan() -> None:
    payload = load("btc_2023-03-18_22.json")
    payload["data"][1]["SplyCur"] = None
    del payload["data"][2]["CapMrktCurUSD"]
    src, _, _ = make_source(httpx.Response(200, json=payload))
    frame = src.fetch("BTC", "btc", START, END).frame
    assert math.isnan(frame.loc[1, "supply"]) and not math.isnan(frame.loc[1, "close"])
    assert math.isnan(frame.loc[2, "market_cap"]) and not math.isnan(frame.loc[2, "supply"])


def test_rows_outside_the_range_are_dropped() -> None:
    src, _, _ = make_source(ok("btc_2023-03-18_22.json"))
    frame = src.fetch("BTC", "btc", date(2023, 3, 19), date(2023, 3, 21)).frame
    assert frame["date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2023-03-19",
        "2023-03-20",
        "2023-03-21",
    ]


# --------------------------------------------------------------- pagination
def test_follows_next_page_url_unmodified() -> None:
    src, _, calls = make_source(ok("btc_page1.json"), ok("btc_page2.json"))
    frame = src.fetch("BTC", "btc", START, END).frame
    assert len(calls) == 2
    next_url = load("btc_page1.json")["next_page_url"]
    assert str(calls[1].url) == next_url
    assert len(frame) == 5
    assert frame["close"].iloc[-1] == pytest.approx(27341.5571297487)


def test_follows_next_page_token_when_no_url_is_given() -> None:
    page1 = load("btc_page1.json")
    del page1["next_page_url"]
    src, _, calls = make_source(httpx.Response(200, json=page1), ok("btc_page2.json"))
    frame = src.fetch("BTC", "btc", START, END).frame
    assert len(frame) == 5
    second = calls[1].url.params
    assert second["next_page_token"] == page1["next_page_token"]
    assert second["assets"] == "btc" and second["paging_from"] == "start"


def test_a_pagination_loop_is_malformed() -> None:
    page1 = load("btc_page1.json")
    src, _, calls = make_source(httpx.Response(200, json=page1))
    with pytest.raises(MalformedResponseError, match="repeats"):
        src.fetch("BTC", "btc", START, END)
    assert len(calls) == 2


# ----------------------------------------------------------- unknown / empty
def test_unknown_asset_is_symbol_not_found_without_retry() -> None:
    src, sleeps, calls = make_source(httpx.Response(400, content=body("error_unknown_asset.json")))
    with pytest.raises(SymbolNotFoundError, match="'assets'") as info:
        src.fetch("XYZ", "xyz", START, END)
    assert info.value.provider == "coinmetrics" and info.value.symbol == "xyz"
    assert len(calls) == 1 and sleeps == []


def test_other_bad_parameter_is_a_source_error_not_an_unknown_symbol() -> None:
    src, _, _ = make_source(httpx.Response(400, content=body("error_bad_time.json")))
    with pytest.raises(SourceError, match="start_time") as info:
        src.fetch("BTC", "btc", START, END)
    assert not isinstance(info.value, SymbolNotFoundError)


def test_empty_answer_for_a_known_asset_is_an_empty_frame_with_a_note() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == CATALOG_PATH:
            return ok("catalog_btc.json")
        return httpx.Response(200, json={"data": []})

    src, _, calls = make_source(handler)
    result = src.fetch("BTC", "btc", date(2008, 1, 1), date(2008, 12, 31))
    assert result.frame.empty
    assert {"symbol", "date", "close", "market_cap", "supply"} <= set(result.frame.columns)
    assert "no daily" in result.notes[0]
    assert [c.url.path for c in calls] == [SERIES_PATH, CATALOG_PATH]
    assert calls[1].url.params["assets"] == "btc"


def test_empty_answer_for_an_asset_the_catalog_lacks_is_symbol_not_found() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": []})

    src, _, _ = make_source(handler)
    with pytest.raises(SymbolNotFoundError, match="catalog"):
        src.fetch("XYZ", "xyz", START, END)


def test_catalog_refusing_the_asset_is_symbol_not_found() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == CATALOG_PATH:
            return httpx.Response(400, content=body("error_unknown_asset.json"))
        return httpx.Response(200, json={"data": []})

    src, _, _ = make_source(handler)
    with pytest.raises(SymbolNotFoundError):
        src.fetch("XYZ", "xyz", START, END)


# ------------------------------------------------- retries, bodies, ranges
class TestFailureModes(FailureModes):
    """Retries, permanent failures, undecodable bodies and bad ranges (see ``source_test_helpers``)."""

    make = staticmethod(make_source)
    fixtures, good_file = FIX, "btc_2023-03-18_22.json"
    rate_limited_body = (
        b'{"error": {"type": "too_many_requests", "message": "Requests rate limit exceeded."}}'
    )
    symbol, provider_symbol = "BTC", "btc"
    start, end, rows = START, END, 5


def test_a_retry_after_longer_than_max_wait_is_capped() -> None:
    src, sleeps, calls = make_source(httpx.Response(429, headers={"Retry-After": "60"}))
    with pytest.raises(RateLimitedError) as info:
        src.fetch("BTC", "btc", START, END)
    assert info.value.retry_after == 60.0
    assert len(calls) == 3 and sleeps == [30.0, 30.0]  # capped at max_wait


# ---------------------------------------------------------------- malformed
@pytest.mark.parametrize(
    ("payload", "match"),
    [
        ([{"asset": "btc"}], "'data' list"),
        ({"data": {"asset": "btc"}}, "'data' list"),
        ({"data": [{"asset": "btc", "PriceUSD": "1"}]}, "'time'"),
        (
            {"data": [{"asset": "btc", "time": "2023-03-18T12:00:00.000000000Z", "PriceUSD": "1"}]},
            "midnight",
        ),
        ({"data": [{"asset": "btc", "time": "yesterday", "PriceUSD": "1"}]}, "midnight"),
        (
            {
                "data": [
                    {"asset": "btc", "time": "2023-03-18T00:00:00.000000000Z", "PriceUSD": "n/a"}
                ]
            },
            "PriceUSD='n/a'",
        ),
        (
            {"data": [{"asset": "eth", "time": "2023-03-18T00:00:00.000000000Z", "PriceUSD": "1"}]},
            "'eth'",
        ),
    ],
    ids=["list-root", "data-object", "no-time", "noon", "bad-time", "non-numeric", "other-asset"],
)
def test_layout_errors_are_malformed_and_name_the_problem(payload: object, match: str) -> None:
    src, _, _ = make_source(httpx.Response(200, json=payload))
    with pytest.raises(MalformedResponseError, match=match):
        src.fetch("BTC", "btc", START, END)


def test_duplicate_days_are_malformed() -> None:
    payload = load("btc_2023-03-18_22.json")
    payload["data"].append(dict(payload["data"][0], PriceUSD="1"))
    src, _, _ = make_source(httpx.Response(200, json=payload))
    with pytest.raises(MalformedResponseError, match="share a key"):
        src.fetch("BTC", "btc", START, END)


# -------------------------------------------------------------- parameters
def test_pro_key_goes_to_the_pro_host_as_a_query_parameter() -> None:
    src, _, calls = make_source(ok("btc_2023-03-18_22.json"), api_key="k-123")
    src.fetch("BTC", "btc", START, END)
    assert calls[0].url.host == "api.coinmetrics.io"
    assert calls[0].url.params["api_key"] == "k-123"


def test_fields_and_name_match_the_universe_key() -> None:
    assert CoinMetricsSource.name == "coinmetrics"
    assert CoinMetricsSource.fields == ("close", "market_cap", "supply")


# -------------------------------------------------------------------- live
@pytest.mark.live
def test_live_btc_few_days() -> None:
    src = CoinMetricsSource()
    try:
        end = date.today() - timedelta(days=3)
        result = src.fetch("BTC", "btc", end - timedelta(days=4), end)
    finally:
        src.close()
    frame = result.frame
    assert len(frame) == 5
    assert (frame["close"] > 1000).all() and (frame["supply"] > 19e6).all()
    assert pd.Series(frame["market_cap"] / frame["close"]).sub(frame["supply"]).abs().max() < 1.0
