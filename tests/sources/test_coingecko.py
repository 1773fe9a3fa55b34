"""Offline tests of the CoinGecko source: wire format, date shift, resampling, keys and failures.

Every HTTP exchange goes through ``httpx.MockTransport``, the clock is pinned
and waits go to a recorder. Fixtures are in CoinGecko's ``market_chart/range``
format (``tests/fixtures/coingecko``); the daily ETH values are real CoinGecko
00:00 UTC snapshots.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import httpx
import numpy as np
import pytest
from source_test_helpers import FailureModes, FixtureFiles, Step, recorded

from rotation.errors import (
    MalformedResponseError,
    SourceError,
    SymbolNotFoundError,
)
from rotation.sources.coingecko import (
    CHUNK_DAYS,
    PUBLIC_HISTORY_DAYS,
    CoinGeckoSource,
)

FIX = FixtureFiles("coingecko")
body, load, ok = FIX.bytes, FIX.json, FIX.ok
DAY_MS = 86_400_000
NOW = datetime(2024, 12, 20, 14, 30, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def make_source(
    *steps: Step, now: datetime = NOW, attempts: int = 3, **kwargs: object
) -> tuple[CoinGeckoSource, list[float], list[httpx.Request]]:
    """A source answering ``steps`` in order, with its recorded waits and requests.

    Waits start at 10 s, like :data:`~rotation.sources.coingecko.DEFAULT_RETRY`.
    """
    return recorded(
        CoinGeckoSource, *steps, attempts=attempts, initial=10.0, now=lambda: now, **kwargs
    )


def window(request: httpx.Request) -> tuple[datetime, datetime]:
    q = request.url.params
    return datetime.fromtimestamp(int(q["from"]), UTC), datetime.fromtimestamp(int(q["to"]), UTC)


def daily_chart(request: httpx.Request) -> httpx.Response:
    """A CoinGecko-like daily answer for the window asked; price = days since 2020-01-01."""
    lo, hi = window(request)
    first = -(-int(lo.timestamp() * 1000) // DAY_MS) * DAY_MS
    stamps = range(first, int(hi.timestamp() * 1000) + 1, DAY_MS)
    origin = int(utc(2020, 1, 1).timestamp() * 1000)
    prices = [[t, float((t - origin) // DAY_MS)] for t in stamps]
    return httpx.Response(
        200,
        json={
            "prices": prices,
            "market_caps": [[t, p * 1e9] for t, p in prices],
            "total_volumes": [[t, p * 1e7] for t, p in prices],
        },
    )


# ------------------------------------------------------- daily points, shift
def test_daily_snapshots_are_shifted_back_one_day() -> None:
    src, _, calls = make_source(ok("eth_daily_2024-12.json"))
    result = src.fetch("ETH", "ethereum", date(2024, 12, 12), date(2024, 12, 19))
    frame = result.frame

    assert list(frame.columns) == ["symbol", "date", "close", "market_cap", "volume_usd"]
    for col in ("close", "market_cap", "volume_usd"):
        assert frame[col].dtype == np.float64
    # the 2024-12-13 00:00 UTC snapshot is the close of 2024-12-12
    assert frame["date"].dt.strftime("%Y-%m-%d").tolist() == [f"2024-12-{d}" for d in range(12, 20)]
    assert frame.loc[0, "close"] == pytest.approx(3878.850012073054)
    assert frame.loc[0, "market_cap"] == pytest.approx(466883095805.38696)
    assert frame.loc[0, "volume_usd"] == pytest.approx(47474608675.336655)
    assert frame.loc[7, "close"] == pytest.approx(3434.6754695380805)  # snapshot of 12-20 00:00
    # the trailing "now" point (14:23 UTC) is an intraday price, not a close
    assert 3521.842912307331 not in frame["close"].tolist()
    assert any("dropped 1" in n for n in result.notes)

    (request,) = calls
    assert request.url.host == "api.coingecko.com"
    assert request.url.path == "/api/v3/coins/ethereum/market_chart/range"
    assert request.url.params["vs_currency"] == "usd"
    lo, hi = window(request)
    assert lo <= utc(2024, 12, 13) - timedelta(hours=1)  # first snapshot needed, with tolerance
    assert hi == utc(2024, 12, 20, 14, 30)  # widened to the present, never past it
    assert hi - lo >= timedelta(days=91)  # > 90 days => CoinGecko answers daily points
    assert "x-cg-demo-api-key" not in request.headers and "x-cg-pro-api-key" not in request.headers


def test_rows_outside_the_range_are_dropped() -> None:
    src, _, _ = make_source(ok("eth_daily_2024-12.json"))
    frame = src.fetch("ETH", "ethereum", date(2024, 12, 14), date(2024, 12, 16)).frame
    assert frame["date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2024-12-14",
        "2024-12-15",
        "2024-12-16",
    ]
    assert frame.loc[0, "close"] == pytest.approx(3866.9958020348054)  # snapshot 2024-12-15 00:00


def test_a_day_not_closed_yet_is_absent() -> None:
    src, _, _ = make_source(ok("eth_daily_2024-12.json"))
    frame = src.fetch("ETH", "ethereum", date(2024, 12, 18), date(2024, 12, 20)).frame
    assert frame["date"].dt.strftime("%Y-%m-%d").tolist() == ["2024-12-18", "2024-12-19"]


def test_zeros_mean_no_figure_and_become_nan() -> None:
    src, _, _ = make_source(ok("btc_2011_zeros.json"), pro_api_key="pk")
    frame = src.fetch("BTC", "bitcoin", date(2011, 7, 16), date(2011, 7, 20)).frame
    assert frame["close"].tolist() == pytest.approx([14.07, 13.9, 13.93, 14.54, 14.02])
    assert frame["market_cap"].isna().all() and frame["volume_usd"].isna().all()


def test_null_values_are_nan() -> None:
    payload = load("eth_daily_2024-12.json")
    payload["market_caps"][2][1] = None
    src, _, _ = make_source(httpx.Response(200, json=payload))
    frame = src.fetch("ETH", "ethereum", date(2024, 12, 12), date(2024, 12, 19)).frame
    assert math.isnan(frame.loc[2, "market_cap"]) and frame.loc[2, "close"] > 0


# ------------------------------------------------------------ intraday answers
def test_hourly_points_resample_to_the_snapshot_nearest_each_midnight() -> None:
    payload = load("btc_hourly_2024-01-01.json")
    src, _, _ = make_source(httpx.Response(200, json=payload), now=utc(2024, 1, 5))
    result = src.fetch("BTC", "bitcoin", date(2024, 1, 1), date(2024, 1, 3))
    frame = result.frame
    assert frame["date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2024-01-01",
        "2024-01-02",
        "2024-01-03",
    ]
    for i, day in enumerate((2, 3, 4)):
        midnight = int(utc(2024, 1, day).timestamp() * 1000)
        nearest = min(payload["prices"], key=lambda p: abs(p[0] - midnight))
        assert 0 < nearest[0] - midnight < 3_600_000  # a few minutes past midnight
        assert frame.loc[i, "close"] == pytest.approx(nearest[1])
    assert any(f"dropped {len(payload['prices']) - 3}" in n for n in result.notes)


def test_a_midnight_without_a_nearby_point_leaves_the_day_missing() -> None:
    payload = load("btc_hourly_2024-01-01.json")
    gap = int(utc(2024, 1, 3).timestamp() * 1000)
    for key in payload:
        payload[key] = [p for p in payload[key] if abs(p[0] - gap) > 3_600_000]
    src, _, _ = make_source(httpx.Response(200, json=payload), now=utc(2024, 1, 5))
    frame = src.fetch("BTC", "bitcoin", date(2024, 1, 1), date(2024, 1, 3)).frame
    assert frame["date"].dt.strftime("%Y-%m-%d").tolist() == ["2024-01-01", "2024-01-03"]


# ------------------------------------------------------------------- windows
def test_long_ranges_are_chunked_and_merged() -> None:
    src, _, calls = make_source(daily_chart, now=utc(2024, 12, 20, 14, 30), pro_api_key="pk")
    start, end = date(2021, 1, 1), date(2023, 3, 31)
    frame = src.fetch("BTC", "bitcoin", start, end).frame
    assert len(calls) == 3
    spans = [window(c) for c in calls]
    assert all(hi - lo <= timedelta(days=CHUNK_DAYS) for lo, hi in spans)
    assert all(spans[i][1] == spans[i + 1][0] for i in range(len(spans) - 1))  # contiguous
    days = (end - start).days + 1
    assert len(frame) == days and frame["date"].is_monotonic_increasing
    # close of day D comes from the snapshot of D+1: price = days since 2020-01-01 of D+1
    expected_first = (start - date(2020, 1, 1)).days + 1
    assert frame["close"].iloc[0] == expected_first
    assert frame["close"].diff().dropna().eq(1).all()


def test_a_short_old_range_is_widened_forward_to_91_days() -> None:
    src, _, calls = make_source(daily_chart, now=utc(2024, 12, 20, 14, 30))
    frame = src.fetch("BTC", "bitcoin", date(2024, 3, 1), date(2024, 3, 5)).frame
    assert len(frame) == 5
    lo, hi = window(calls[0])
    assert lo == utc(2024, 3, 2) - timedelta(hours=1)  # not pushed back past the range
    assert hi - lo == timedelta(days=91)


def test_a_range_in_the_future_makes_no_call() -> None:
    src, _, calls = make_source(daily_chart, now=utc(2024, 12, 20, 14, 30))
    result = src.fetch("BTC", "bitcoin", date(2024, 12, 21), date(2024, 12, 31))
    assert result.frame.empty and calls == []
    assert "exists yet" in result.notes[0]


def test_empty_arrays_give_an_empty_frame_with_a_note() -> None:
    empty = httpx.Response(200, json={"prices": [], "market_caps": [], "total_volumes": []})
    src, _, _ = make_source(empty)
    result = src.fetch("ONDO", "ondo-finance", date(2024, 1, 1), date(2024, 1, 10))
    assert result.frame.empty
    assert {"symbol", "date", "close", "market_cap", "volume_usd"} <= set(result.frame.columns)
    assert any("no daily data" in n for n in result.notes)


# ---------------------------------------------------------------------- keys
def test_demo_key_goes_in_its_header_to_the_public_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COINGECKO_API_KEY", "CG-demo")
    src, _, calls = make_source(ok("eth_daily_2024-12.json"))
    src.fetch("ETH", "ethereum", date(2024, 12, 12), date(2024, 12, 19))
    assert src.plan == "demo" and src.history_limit_days == PUBLIC_HISTORY_DAYS
    assert calls[0].url.host == "api.coingecko.com"
    assert calls[0].headers["x-cg-demo-api-key"] == "CG-demo"
    assert "CG-demo" not in str(calls[0].url)


def test_pro_key_wins_and_goes_to_the_pro_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COINGECKO_API_KEY", "CG-demo")
    monkeypatch.setenv("COINGECKO_PRO_API_KEY", "CG-pro")
    src, _, calls = make_source(ok("eth_daily_2024-12.json"))
    src.fetch("ETH", "ethereum", date(2024, 12, 12), date(2024, 12, 19))
    assert src.plan == "pro" and src.history_limit_days is None
    assert calls[0].url.host == "pro-api.coingecko.com"
    assert calls[0].headers["x-cg-pro-api-key"] == "CG-pro"
    assert "x-cg-demo-api-key" not in calls[0].headers


def test_explicit_key_beats_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COINGECKO_API_KEY", "from-env")
    src, _, calls = make_source(ok("eth_daily_2024-12.json"), api_key="explicit")
    src.fetch("ETH", "ethereum", date(2024, 12, 12), date(2024, 12, 19))
    assert calls[0].headers["x-cg-demo-api-key"] == "explicit"


def test_default_start_stays_inside_the_plans_history(monkeypatch: pytest.MonkeyPatch) -> None:
    keyless, _, calls = make_source(daily_chart)
    assert keyless.default_start == date(2023, 12, 22)  # 364 days before 2024-12-20
    keyless.fetch("BTC", "bitcoin", keyless.default_start, date(2024, 12, 19))
    assert all(window(c)[0] >= NOW - timedelta(days=PUBLIC_HISTORY_DAYS) for c in calls)
    pro, _, _ = make_source(daily_chart, pro_api_key="pk")
    assert pro.default_start == date(2015, 1, 1)


# -------------------------------------------------------------------- errors
def test_unknown_coin_is_symbol_not_found_without_retry() -> None:
    src, sleeps, calls = make_source(httpx.Response(404, content=body("error_coin_not_found.json")))
    with pytest.raises(SymbolNotFoundError, match="coin not found") as info:
        src.fetch("XYZ", "not-a-coin", date(2024, 12, 1), date(2024, 12, 10))
    assert info.value.symbol == "not-a-coin"
    assert len(calls) == 1 and sleeps == []


def test_history_limit_tells_the_user_what_to_do() -> None:
    refusal = httpx.Response(401, content=body("error_10012_time_range.json"))
    src, sleeps, calls = make_source(refusal)
    with pytest.raises(SourceError) as info:
        src.fetch("BTC", "bitcoin", date(2019, 1, 1), date(2019, 6, 30))
    message = str(info.value)
    assert "365 days" in message and "COINGECKO_PRO_API_KEY" in message
    assert "coinmetrics" in message and "keyless" in message
    assert not isinstance(info.value, SymbolNotFoundError)
    assert len(calls) == 1 and sleeps == []


def test_wrong_host_for_key_is_explained() -> None:
    src, _, _ = make_source(
        httpx.Response(401, content=body("error_10010_wrong_host.json")), api_key="k"
    )
    with pytest.raises(SourceError, match=r"pro-api\.coingecko\.com.*COINGECKO_PRO_API_KEY"):
        src.fetch("BTC", "bitcoin", date(2024, 12, 1), date(2024, 12, 10))


def test_429_without_retry_after_backs_off_in_tens_of_seconds() -> None:
    limited = httpx.Response(429, content=body("error_429.json"))
    src, sleeps, _ = make_source(limited, ok("eth_daily_2024-12.json"))
    src.fetch("ETH", "ethereum", date(2024, 12, 12), date(2024, 12, 19))
    assert len(sleeps) == 1 and 10.0 <= sleeps[0] <= 60.0


class TestFailureModes(FailureModes):
    """Retries, permanent failures, undecodable bodies and bad ranges (see ``source_test_helpers``)."""

    make = staticmethod(make_source)
    fixtures, good_file = FIX, "eth_daily_2024-12.json"
    rate_limited_body = body("error_429.json")
    symbol, provider_symbol = "ETH", "ethereum"
    start, end, rows = date(2024, 12, 12), date(2024, 12, 19), 8


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        ([[1734048000000, 3878.85]], "expected an object"),
        ({"prices": [], "market_caps": []}, "'total_volumes' is missing"),
        ({"prices": [[1734048000000]], "market_caps": [], "total_volumes": []}, r"prices\[0\]"),
        ({"prices": [["2024-12-13", 1.0]], "market_caps": [], "total_volumes": []}, "timestamp_ms"),
        (
            {"prices": [[1734048000000, "3878.85"]], "market_caps": [], "total_volumes": []},
            "not a number",
        ),
    ],
    ids=["list-root", "missing-series", "short-pair", "string-time", "string-value"],
)
def test_layout_errors_are_malformed(payload: object, match: str) -> None:
    src, _, _ = make_source(httpx.Response(200, json=payload))
    with pytest.raises(MalformedResponseError, match=match):
        src.fetch("ETH", "ethereum", date(2024, 12, 12), date(2024, 12, 19))


# ---------------------------------------------------------------------- live
@pytest.mark.live
def test_live_bitcoin_few_days() -> None:
    src = CoinGeckoSource()
    try:
        end = date.today() - timedelta(days=2)
        frame = src.fetch("BTC", "bitcoin", end - timedelta(days=4), end).frame
    finally:
        src.close()
    assert len(frame) == 5
    assert (frame["close"] > 1000).all() and (frame["market_cap"] > 1e11).all()
