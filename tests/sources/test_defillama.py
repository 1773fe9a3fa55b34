"""Offline tests of the DefiLlama stablecoin source: wire format, date shift, live row, failures.

Every HTTP exchange goes through ``httpx.MockTransport``, the clock is pinned
and waits go to a recorder. Fixtures are ``stablecoincharts/all`` answers
(``tests/fixtures/defillama``).
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
from rotation.sources.defillama import DefiLlamaSource

FIX = FixtureFiles("defillama")
body, load, ok = FIX.bytes, FIX.json, FIX.ok
LATER = datetime(2024, 2, 1, tzinfo=UTC)  # long after the fixtures' last row


def make_source(
    *steps: Step, now: datetime = LATER, attempts: int = 3
) -> tuple[DefiLlamaSource, list[float], list[httpx.Request]]:
    """A source answering ``steps`` in order, with its recorded waits and requests."""
    return recorded(DefiLlamaSource, *steps, attempts=attempts, initial=0.5, now=lambda: now)


# ------------------------------------------------------------------- parsing
def test_one_coin_snapshots_are_shifted_back_one_day() -> None:
    src, _, calls = make_source(ok("usdt_id1_2024-01.json"))
    result = src.fetch("USDT", "1", date(2023, 12, 31), date(2024, 1, 7))
    frame = result.frame
    rows = load("usdt_id1_2024-01.json")

    assert list(frame.columns) == ["symbol", "date", "supply", "market_cap"]
    assert frame["supply"].dtype == np.float64 and frame["market_cap"].dtype == np.float64
    # the 2024-01-01 00:00 UTC snapshot is the close of 2023-12-31
    assert frame["date"].dt.strftime("%Y-%m-%d").tolist() == ["2023-12-31"] + [
        f"2024-01-0{d}" for d in range(1, 8)
    ]
    assert frame.loc[0, "supply"] == rows[0]["totalCirculating"]["peggedUSD"]
    assert frame.loc[0, "market_cap"] == rows[0]["totalCirculatingUSD"]["peggedUSD"]
    assert (frame["symbol"] == "USDT").all()
    assert result.notes == []

    (request,) = calls
    assert str(request.url) == "https://stablecoins.llama.fi/stablecoincharts/all?stablecoin=1"


def test_all_stablecoins_reads_the_usd_peg_only() -> None:
    src, _, calls = make_source(ok("all_2024-01.json"))
    frame = src.fetch("STABLES", "all", date(2024, 1, 1), date(2024, 1, 3)).frame
    rows = load("all_2024-01.json")
    assert (
        str(calls[0].url) == "https://stablecoins.llama.fi/stablecoincharts/all"
    )  # no stablecoin=
    assert len(frame) == 3
    assert frame.loc[0, "supply"] == rows[1]["totalCirculating"]["peggedUSD"]  # snapshot 2024-01-02
    assert frame.loc[0, "market_cap"] == rows[1]["totalCirculatingUSD"]["peggedUSD"]


def test_the_endpoint_ignores_dates_so_rows_are_filtered_here() -> None:
    src, _, calls = make_source(ok("usdt_id1_2024-01.json"))
    frame = src.fetch("USDT", "1", date(2024, 1, 3), date(2024, 1, 4)).frame
    assert frame["date"].dt.strftime("%Y-%m-%d").tolist() == ["2024-01-03", "2024-01-04"]
    assert set(calls[0].url.params) == {"stablecoin"}


def test_missing_peg_amounts_are_nan() -> None:
    rows = load("usdt_id1_2024-01.json")
    rows[1]["totalCirculating"] = {}
    del rows[2]["totalCirculatingUSD"]
    rows[3]["totalCirculatingUSD"]["peggedUSD"] = None
    src, _, _ = make_source(httpx.Response(200, json=rows))
    frame = src.fetch("USDT", "1", date(2023, 12, 31), date(2024, 1, 8)).frame
    assert math.isnan(frame.loc[1, "supply"]) and frame.loc[1, "market_cap"] > 0
    assert math.isnan(frame.loc[2, "market_cap"]) and frame.loc[2, "supply"] > 0
    assert math.isnan(frame.loc[3, "market_cap"])


def test_integer_dates_are_accepted_and_rows_are_sorted() -> None:
    rows = load("usdt_id1_2024-01.json")[::-1]
    for row in rows:
        row["date"] = int(row["date"])
    src, _, _ = make_source(httpx.Response(200, json=rows))
    frame = src.fetch("USDT", "1", date(2023, 12, 31), date(2024, 1, 8)).frame
    assert frame["date"].is_monotonic_increasing and len(frame) == 9


# ----------------------------------------------------------------- live row
def test_a_last_row_under_25_hours_old_is_dropped_as_live() -> None:
    # last snapshot 2024-01-09 00:00; at 2024-01-09 18:00 it may hold a live hourly value
    src, _, _ = make_source(
        ok("usdt_id1_2024-01.json"), now=datetime(2024, 1, 9, 18, tzinfo=UTC)
    )
    result = src.fetch("USDT", "1", date(2024, 1, 1), date(2024, 1, 31))
    assert result.frame["date"].max().date() == date(2024, 1, 7)
    assert any("live intraday value" in n and "2024-01-09" in n for n in result.notes)


def test_a_last_row_older_than_25_hours_is_a_close() -> None:
    now = datetime(2024, 1, 10, 1, 1, tzinfo=UTC)
    src, _, _ = make_source(ok("usdt_id1_2024-01.json"), now=now)
    result = src.fetch("USDT", "1", date(2024, 1, 1), date(2024, 1, 31))
    assert result.frame["date"].max().date() == date(2024, 1, 8) and result.notes == []


# -------------------------------------------------------- unknown and empty
def test_unknown_id_answered_with_an_empty_list_is_symbol_not_found() -> None:
    src, sleeps, calls = make_source(httpx.Response(200, json=[]))
    with pytest.raises(SymbolNotFoundError, match="no stablecoin with id 999"):
        src.fetch("X", "999", date(2024, 1, 1), date(2024, 1, 5))
    assert len(calls) == 1 and sleeps == []


@pytest.mark.parametrize("bad", ["usdt", "tether", "1.5", ""])
def test_non_numeric_ids_are_refused_before_any_call(bad: str) -> None:
    src, _, calls = make_source(ok("usdt_id1_2024-01.json"))
    with pytest.raises(SymbolNotFoundError, match="USDT 1, USDC 2"):
        src.fetch("USDT", bad, date(2024, 1, 1), date(2024, 1, 5))
    assert calls == []


def test_empty_all_chart_is_a_source_error() -> None:
    src, _, _ = make_source(httpx.Response(200, json=[]))
    with pytest.raises(SourceError, match="no stablecoin history"):
        src.fetch("STABLES", "all", date(2024, 1, 1), date(2024, 1, 5))


def test_range_without_rows_is_an_empty_frame_with_a_note() -> None:
    src, _, _ = make_source(ok("usdt_id1_2024-01.json"))
    result = src.fetch("USDT", "1", date(2019, 1, 1), date(2019, 12, 31))
    assert result.frame.empty and {"symbol", "date", "supply", "market_cap"} <= set(
        result.frame.columns
    )
    assert "no daily stablecoin data" in result.notes[-1]


def test_a_coin_not_pegged_to_the_dollar_is_refused() -> None:
    src, _, _ = make_source(ok("eur_pegged_2024-01.json"))
    with pytest.raises(SourceError, match="pegged to peggedEUR"):
        src.fetch("EURC", "50", date(2024, 1, 1), date(2024, 1, 5))


# ------------------------------------------------- retries, bodies, ranges
class TestFailureModes(FailureModes):
    """Retries, permanent failures, undecodable bodies and bad ranges (see ``source_test_helpers``)."""

    make = staticmethod(make_source)
    fixtures, good_file = FIX, "usdt_id1_2024-01.json"
    symbol, provider_symbol = "USDT", "1"
    start, end, rows = date(2024, 1, 1), date(2024, 1, 5), 5


def test_other_4xx_is_a_source_error() -> None:
    src, _, calls = make_source(httpx.Response(403, text="Forbidden"))
    with pytest.raises(SourceError, match="HTTP 403"):
        src.fetch("USDT", "1", date(2024, 1, 1), date(2024, 1, 5))
    assert len(calls) == 1


# ------------------------------------------------------------------ malformed
@pytest.mark.parametrize(
    ("payload", "match"),
    [
        ({"date": "1704067200"}, "list of daily rows"),
        ([["1704067200", 1.0]], "object with 'date'"),
        ([{"date": "2024-01-01", "totalCirculating": {"peggedUSD": 1.0}}], "UNIX time"),
        ([{"date": "1704070800", "totalCirculating": {"peggedUSD": 1.0}}], "00:00 UTC"),
        ([{"date": "1704067200", "totalCirculating": [1.0]}], "peg amounts"),
        ([{"date": "1704067200", "totalCirculating": {"peggedUSD": "91e9"}}], "not a number"),
        ([{"date": "1704067200"}, {"date": "1704067200"}], "share a key"),
    ],
    ids=[
        "object",
        "row-list",
        "iso-date",
        "not-midnight",
        "amounts-list",
        "string-amount",
        "duplicate",
    ],
)
def test_layout_errors_are_malformed(payload: object, match: str) -> None:
    src, _, _ = make_source(httpx.Response(200, json=payload))
    with pytest.raises(MalformedResponseError, match=match):
        src.fetch("USDT", "1", date(2023, 12, 1), date(2024, 1, 31))


# ----------------------------------------------------------------------- live
@pytest.mark.live
def test_live_usdt_few_days() -> None:
    src = DefiLlamaSource()
    try:
        end = date.today() - timedelta(days=3)
        frame = src.fetch("USDT", "1", end - timedelta(days=4), end).frame
    finally:
        src.close()
    assert len(frame) == 5
    assert (frame["supply"] > 5e10).all()
    assert ((frame["market_cap"] / frame["supply"]).sub(1).abs() < 0.05).all()
