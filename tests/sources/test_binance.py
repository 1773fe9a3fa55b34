"""Offline tests of the Binance klines source: wire format, paging, open bar and failures.

Every HTTP exchange goes through ``httpx.MockTransport``, the clock is pinned
and waits go to a recorder. Fixtures are ``/api/v3/klines`` answers
(``tests/fixtures/binance``) with real BTCUSDT values.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import httpx
import numpy as np
import pytest
from source_test_helpers import FailureModes, FixtureFiles, Step, recorded

from rotation.errors import (
    MalformedResponseError,
    ParameterError,
    RateLimitedError,
    SourceError,
    SymbolNotFoundError,
)
from rotation.sources.binance import LIMIT, BinanceSource

FIX = FixtureFiles("binance")
body, ok = FIX.bytes, FIX.ok
DAY_MS = 86_400_000
NOW = datetime(2026, 1, 2, 14, 0, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def make_source(
    *steps: Step, now: datetime = NOW, attempts: int = 3, **kwargs: object
) -> tuple[BinanceSource, list[float], list[httpx.Request]]:
    """A source answering ``steps`` in order, with its recorded waits and requests."""
    return recorded(
        BinanceSource, *steps, attempts=attempts, initial=0.5, now=lambda: now, **kwargs
    )


def exchange(first_day: date, last_day: date) -> Callable[[httpx.Request], httpx.Response]:
    """A klines endpoint with one bar per day in [first_day, last_day], honouring paging params."""

    def handler(request: httpx.Request) -> httpx.Response:
        q = request.url.params
        lo, hi, limit = int(q["startTime"]), int(q["endTime"]), int(q["limit"])
        first = max(ms(first_day), -(-lo // DAY_MS) * DAY_MS)
        bars = []
        for open_ms in range(first, min(hi, ms(last_day)) + 1, DAY_MS):
            n = (open_ms - ms(first_day)) // DAY_MS
            price = f"{100 + n:.8f}"
            bars.append(
                [
                    open_ms,
                    price,
                    price,
                    price,
                    price,
                    "10.0",
                    open_ms + DAY_MS - 1,
                    "1000.0",
                    7,
                    "5",
                    "500",
                    "0",
                ]
            )
            if len(bars) == limit:
                break
        return httpx.Response(200, json=bars)

    return handler


# ------------------------------------------------------------------- parsing
def test_parses_klines_dated_by_their_utc_day() -> None:
    src, _, calls = make_source(ok("btcusdt_1d_2024-01-01_05.json"))
    result = src.fetch("BTC", "btcusdt", date(2024, 1, 1), date(2024, 1, 5))
    frame = result.frame

    assert list(frame.columns) == [
        "symbol",
        "date",
        "open",
        "high",
        "low",
        "close",
        "volume",
        "volume_usd",
    ]
    for col in ("open", "high", "low", "close", "volume", "volume_usd"):
        assert frame[col].dtype == np.float64
    assert frame["date"].dt.strftime("%Y-%m-%d").tolist() == [f"2024-01-0{d}" for d in range(1, 6)]
    first = frame.iloc[0]
    assert (first["open"], first["high"], first["low"], first["close"]) == (
        42283.58,
        44184.10,
        42180.77,
        44179.55,
    )
    assert first["volume"] == pytest.approx(27174.29903)  # base asset (BTC)
    assert first["volume_usd"] == pytest.approx(1169995682.0280013)  # quote asset (USDT ~ USD)
    assert result.notes == []

    (request,) = calls
    assert request.url.host == "api.binance.com" and request.url.path == "/api/v3/klines"
    q = request.url.params
    assert q["symbol"] == "BTCUSDT" and q["interval"] == "1d" and q["limit"] == str(LIMIT)
    assert int(q["startTime"]) == ms(date(2024, 1, 1))
    assert int(q["endTime"]) == ms(date(2024, 1, 6)) - 1


def test_the_still_open_bar_is_dropped_and_noted() -> None:
    src, _, _ = make_source(
        ok("btcusdt_1d_2025-12-29_2026-01-02.json"), now=utc(2026, 1, 2, 14, 0)
    )
    result = src.fetch("BTC", "BTCUSDT", date(2025, 12, 29), date(2026, 1, 2))
    dates = result.frame["date"].dt.strftime("%Y-%m-%d").tolist()
    assert dates == ["2025-12-29", "2025-12-30", "2025-12-31", "2026-01-01"]
    assert any("still-open bar of 2026-01-02" in n for n in result.notes)


def test_a_bar_closed_a_millisecond_ago_is_kept() -> None:
    now = datetime.fromtimestamp((ms(date(2026, 1, 3)) - 1) / 1000, UTC)
    src, _, _ = make_source(ok("btcusdt_1d_2025-12-29_2026-01-02.json"), now=now)
    result = src.fetch("BTC", "BTCUSDT", date(2025, 12, 29), date(2026, 1, 2))
    assert len(result.frame) == 5 and result.notes == []
    assert result.frame["close"].iloc[-1] == 89902.17


def test_rows_outside_the_range_are_dropped() -> None:
    src, _, _ = make_source(ok("btcusdt_1d_2024-01-01_05.json"))
    frame = src.fetch("BTC", "BTCUSDT", date(2024, 1, 2), date(2024, 1, 3)).frame
    assert frame["close"].tolist() == [44946.91, 42845.23]


# ------------------------------------------------------------------ paging
def test_pages_by_start_time_until_the_range_is_covered() -> None:
    src, _, calls = make_source(exchange(date(2018, 1, 1), date(2026, 1, 1)))
    start, end = date(2019, 1, 1), date(2024, 6, 30)
    frame = src.fetch("BTC", "BTCUSDT", start, end).frame
    days = (end - start).days + 1
    assert len(frame) == days and frame["date"].is_unique and frame["date"].is_monotonic_increasing
    assert len(calls) == -(-days // LIMIT)  # 2008 days -> 3 pages
    starts = [int(c.url.params["startTime"]) for c in calls]
    assert starts[0] == ms(start)
    assert starts[1] == ms(start) + LIMIT * DAY_MS  # the open of the bar after the page's last
    assert frame["close"].iloc[0] == 100 + (start - date(2018, 1, 1)).days


def test_a_full_last_page_stops_at_the_end_date() -> None:
    src, _, calls = make_source(exchange(date(2018, 1, 1), date(2026, 1, 1)))
    start = date(2020, 1, 1)
    end = start + timedelta(days=LIMIT - 1)  # exactly one full page
    frame = src.fetch("BTC", "BTCUSDT", start, end).frame
    assert len(frame) == LIMIT and len(calls) == 1


def test_a_pair_listed_after_start_returns_from_its_first_bar() -> None:
    src, _, calls = make_source(exchange(date(2024, 4, 11), date(2026, 1, 1)))
    frame = src.fetch("TAO", "TAOUSDT", date(2024, 1, 1), date(2024, 4, 20)).frame
    assert frame["date"].iloc[0].date() == date(2024, 4, 11) and len(frame) == 10
    assert len(calls) == 1


def test_no_bars_gives_an_empty_frame_with_a_note() -> None:
    src, _, _ = make_source(httpx.Response(200, json=[]))
    result = src.fetch("TAO", "TAOUSDT", date(2020, 1, 1), date(2020, 1, 31))
    assert result.frame.empty
    assert {"symbol", "date", "close", "volume_usd"} <= set(result.frame.columns)
    assert "no closed daily bars" in result.notes[0]


# ------------------------------------------------------------------ errors
def test_unknown_symbol_is_symbol_not_found_without_retry() -> None:
    src, sleeps, calls = make_source(
        httpx.Response(400, content=body("error_invalid_symbol.json"))
    )
    with pytest.raises(SymbolNotFoundError, match="Invalid symbol") as info:
        src.fetch("XYZ", "XYZUSDT", date(2024, 1, 1), date(2024, 1, 5))
    assert info.value.symbol == "XYZUSDT" and len(calls) == 1 and sleeps == []


def test_other_400s_are_source_errors_with_binance_code() -> None:
    bad = httpx.Response(
        400,
        json={
            "code": -1104,
            "msg": "Not all sent parameters were read; read '5' parameter(s) but was sent '6'.",
        },
    )
    src, _, _ = make_source(bad)
    with pytest.raises(SourceError, match="code -1104") as info:
        src.fetch("BTC", "BTCUSDT", date(2024, 1, 1), date(2024, 1, 5))
    assert not isinstance(info.value, SymbolNotFoundError)


def test_418_ban_is_rate_limited_at_once_with_the_header_wait() -> None:
    # the body says "banned until" 15:00 UTC, an hour after NOW: the header must win
    banned = httpx.Response(
        418, content=body("error_418_banned.json"), headers={"Retry-After": "1800"}
    )
    src, sleeps, calls = make_source(banned, ok("btcusdt_1d_2024-01-01_05.json"))
    with pytest.raises(RateLimitedError, match="banned") as info:
        src.fetch("BTC", "BTCUSDT", date(2024, 1, 1), date(2024, 1, 5))
    assert info.value.retry_after == 1800.0
    assert len(calls) == 1 and sleeps == []  # retrying would only lengthen the ban


def test_418_without_header_uses_the_banned_until_time() -> None:
    banned = httpx.Response(
        418, content=body("error_418_banned.json")
    )  # banned until 2026-01-02 15:00 UTC
    src, _, _ = make_source(banned, now=utc(2026, 1, 2, 14, 0))
    with pytest.raises(RateLimitedError) as info:
        src.fetch("BTC", "BTCUSDT", date(2024, 1, 1), date(2024, 1, 5))
    assert info.value.retry_after == pytest.approx(3600.0)


def test_restricted_location_is_explained() -> None:
    src, _, calls = make_source(httpx.Response(451, content=body("error_451_restricted.json")))
    with pytest.raises(SourceError, match="does not serve this location"):
        src.fetch("BTC", "BTCUSDT", date(2024, 1, 1), date(2024, 1, 5))
    assert len(calls) == 1


class TestFailureModes(FailureModes):
    """Retries, permanent failures, undecodable bodies and bad ranges (see ``source_test_helpers``)."""

    make = staticmethod(make_source)
    fixtures, good_file = FIX, "btcusdt_1d_2024-01-01_05.json"
    rate_limited_body = body("error_429.json")
    symbol, provider_symbol = "BTC", "BTCUSDT"
    start, end, rows = date(2024, 1, 1), date(2024, 1, 5), 5


# --------------------------------------------------------------- malformed
def _bar(**change: object) -> list[object]:
    bar: list[object] = FIX.json("btcusdt_1d_2024-01-01_05.json")[0]
    for index, value in change.items():
        bar[int(index.lstrip("f"))] = value
    return bar


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        ({"symbol": "BTCUSDT"}, "list of klines"),
        ([[1704067200000, "1", "2"]], "12-field"),
        ([_bar(f0="1704067200000")], "non-integer"),
        ([_bar(f0=1704067200000 + 3_600_000)], "UTC-day bar"),
        ([_bar(f6=1704067200000 + 3_600_000)], "UTC-day bar"),
        ([_bar(f4="n/a")], "close='n/a'"),
        ([_bar(), _bar()], "share a key"),
    ],
    ids=["object", "short", "string-time", "hourly-open", "hourly-close", "bad-close", "duplicate"],
)
def test_layout_errors_are_malformed(payload: object, match: str) -> None:
    src, _, _ = make_source(httpx.Response(200, json=payload))
    with pytest.raises(MalformedResponseError, match=match):
        src.fetch("BTC", "BTCUSDT", date(2024, 1, 1), date(2024, 1, 5))


# -------------------------------------------------------------- parameters
@pytest.mark.parametrize("pair", ["ETHBTC", "BTCEUR", "USDT", ""])
def test_pairs_not_quoted_in_a_usd_stablecoin_are_refused_before_any_call(pair: str) -> None:
    src, _, calls = make_source(ok("btcusdt_1d_2024-01-01_05.json"))
    with pytest.raises(ParameterError, match="USD stablecoin"):
        src.fetch("X", pair, date(2024, 1, 1), date(2024, 1, 5))
    assert calls == []


def test_base_url_can_point_at_the_market_data_mirror() -> None:
    src, _, calls = make_source(
        ok("btcusdt_1d_2024-01-01_05.json"), base_url="https://data-api.binance.vision/"
    )
    src.fetch("BTC", "BTCUSDT", date(2024, 1, 1), date(2024, 1, 5))
    assert str(calls[0].url).startswith("https://data-api.binance.vision/api/v3/klines?")


# -------------------------------------------------------------------- live
@pytest.mark.live
def test_live_btcusdt_few_days() -> None:
    src = BinanceSource()
    try:
        end = date.today() - timedelta(days=1)
        frame = src.fetch("BTC", "BTCUSDT", end - timedelta(days=4), end).frame
    finally:
        src.close()
    assert len(frame) == 5
    assert (frame["low"] <= frame["close"]).all() and (frame["close"] <= frame["high"]).all()
    assert (frame["volume_usd"] > frame["volume"]).all()
