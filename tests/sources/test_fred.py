"""FredSource (no-key CSV and keyed JSON API) against FRED's wire formats, offline."""

from __future__ import annotations

import logging
import math
import os
from datetime import date
from functools import partial
from typing import Any

import httpx
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
from rotation.sources.fred import FredSource, parse_fredgraph_csv, parse_observations

FIX = FixtureFiles("fred")
KEY = "0123456789abcdef0123456789abcdef"
DGS2 = {
    "2024-06-10": 4.87, "2024-06-11": 4.81, "2024-06-12": 4.75, "2024-06-13": 4.68, "2024-06-14": 4.67,
    "2024-06-17": 4.75, "2024-06-18": 4.69, "2024-06-19": math.nan, "2024-06-20": 4.70, "2024-06-21": 4.70,
    "2024-06-24": 4.71,
}
START, END = date(2024, 6, 10), date(2024, 6, 24)


def fred(server: Script, *, api_key: str | None = None, attempts: int = 4) -> FredSource:
    """A FredSource answering from ``server`` (retries do not wait)."""
    return offline_source(FredSource, server, attempts=attempts, api_key=api_key)


def csv_response(name: str) -> httpx.Response:
    return FIX.ok(name, content_type="text/csv")


def as_dict(frame: pd.DataFrame) -> dict[str, float]:
    return dict(zip(frame["date"].dt.strftime("%Y-%m-%d"), frame["value"], strict=True))


def same(a: dict[str, float], b: dict[str, float]) -> bool:
    return a.keys() == b.keys() and all(
        (math.isnan(a[k]) and math.isnan(b[k])) or a[k] == pytest.approx(b[k]) for k in a
    )


# --------------------------------------------------------------------------- no-key CSV


def test_csv_current_header() -> None:
    server = Script(csv_response("dgs2_observation_date.csv"))
    res = fred(server).fetch("DGS2", "DGS2", START, END)
    f = res.frame
    assert f.columns.tolist() == ["symbol", "date", "value"]
    assert f["value"].dtype == "float64" and f["date"].dtype == "datetime64[ns]"
    assert (f["symbol"] == "DGS2").all()
    assert same(as_dict(f), DGS2)
    assert res.actions is None and res.notes == []
    validate_frame(f, "macro")


def test_csv_legacy_header_dot_and_crlf() -> None:
    server = Script(csv_response("dgs2_DATE_legacy.csv"))
    f = fred(server).fetch("US2Y", "DGS2", START, END).frame
    assert same(as_dict(f), DGS2)
    assert (f["symbol"] == "US2Y").all()  # rotation's symbol, not FRED's id


def test_csv_request_shape() -> None:
    server = Script(csv_response("dgs2_observation_date.csv"))
    fred(server).fetch("DGS2", "DGS2", START, END)
    (req,) = server.requests
    assert str(req.url).startswith("https://fred.stlouisfed.org/graph/fredgraph.csv?")
    assert dict(req.url.params) == {"id": "DGS2", "cosd": "2024-06-10", "coed": "2024-06-24"}


def test_own_client_sends_no_accept_header() -> None:
    src = FredSource()
    try:
        assert "accept" not in src.client.headers
        assert src.client.headers["user-agent"].startswith("rotation")
    finally:
        src.close()
    assert src.client.is_closed


def test_csv_date_range_is_enforced_even_if_server_sends_more() -> None:
    server = Script(csv_response("dgs2_observation_date.csv"))
    f = fred(server).fetch("DGS2", "DGS2", date(2024, 6, 12), date(2024, 6, 18)).frame
    assert f["date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2024-06-12", "2024-06-13", "2024-06-14", "2024-06-17", "2024-06-18",
    ]


def test_csv_header_only_is_empty_with_a_note() -> None:
    server = Script(httpx.Response(200, text="observation_date,DGS2\n"))
    res = fred(server).fetch("DGS2", "DGS2", START, END)
    assert res.frame.empty
    assert res.notes == ["FRED returned no values for DGS2 in 2024-06-10..2024-06-24"]
    validate_frame(res.frame, "macro")


@pytest.mark.parametrize("status", [400, 404])
def test_csv_unknown_series_status(status: int) -> None:
    server = Script(httpx.Response(status, text="<html><title>Error</title></html>"))
    with pytest.raises(SymbolNotFoundError) as info:
        fred(server).fetch("X", "NOTASERIES", START, END)
    assert info.value.provider == "fred" and info.value.symbol == "NOTASERIES"
    assert server.calls == 1


def test_csv_unknown_series_error_page_at_200() -> None:
    page = httpx.Response(200, content=FIX.bytes("error_page.html"), headers={"Content-Type": "text/html"})
    with pytest.raises(SymbolNotFoundError, match="error page"):
        fred(Script(page)).fetch("X", "NOTASERIES", START, END)


def test_csv_other_html_is_malformed_not_a_crash() -> None:
    page = httpx.Response(200, content=FIX.bytes("maintenance.html"), headers={"Content-Type": "text/html"})
    with pytest.raises(MalformedResponseError, match="got an HTML page titled 'FRED | St. Louis Fed - Scheduled"):
        fred(Script(page)).fetch("DGS2", "DGS2", START, END)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "empty response"),
        ("date;value\n2024-06-10;4.87\n", "unexpected CSV header"),
        ("observation_date,DGS10\n2024-06-10,4.40\n", "value column is 'DGS10', expected the series id 'DGS2'"),
        ("observation_date,DGS2\n2024-06-10,4.87\n06/11/2024,4.81\n", "line 3: date '06/11/2024' is not YYYY-MM-DD"),
        ("observation_date,DGS2\n2024-06-10,4.87\n2024-06-11,n/a\n", "line 3: value 'n/a' is not a number"),
        ("observation_date,DGS2\n2024-06-10,4.87,extra\n", "line 2: expected 2 fields, got 3"),
        ("observation_date,DGS2\n2024-06-10,4.87\n2024-06-10,4.88\n", "2024-06-10 appears more than once"),
        ("observation_date,DGS2\n2024-06-10,inf\n", "not finite"),
    ],
    ids=["empty", "header", "column", "date", "value", "fields", "duplicate", "inf"],
)
def test_csv_malformed_bodies(body: str, message: str) -> None:
    with pytest.raises(MalformedResponseError) as info:
        fred(Script(httpx.Response(200, text=body))).fetch("DGS2", "DGS2", START, END)
    assert message in str(info.value)


def test_csv_value_column_is_case_insensitive() -> None:
    f = parse_fredgraph_csv("observation_date,DGS2\n2024-06-10,4.87\n", symbol="x", series_id="dgs2")
    assert f["value"].tolist() == [4.87]


# --------------------------------------------------------------------------- failure modes


class TestCsvFailureModes(FailureModes):
    """The shared failure modes (see ``source_test_helpers``) on the no-key CSV download."""

    make = staticmethod(partial(recorded, FredSource))
    fixtures, good_file = FIX, "dgs2_observation_date.csv"
    symbol = provider_symbol = "DGS2"
    start, end, rows = START, END, 11

    def good(self) -> httpx.Response:
        return csv_response(self.good_file)

    def undecodable(self, kind: str) -> tuple[bytes, str]:
        """CSV, not JSON: the same kinds of body, each with the CSV parser's own message."""
        if kind == "truncated":  # cut mid-row: "...\n2024-0"
            raw = FIX.bytes("dgs2_observation_date.csv")
            cut = raw[: raw.index(b"2024-06-13") + 6]
            return cut, r"line 5: expected 2 fields, got 1: \['2024-0'\]"
        body, _ = super().undecodable(kind)
        if kind == "html":
            return body, "expected CSV, got an HTML page titled 'Just a moment...'"
        return body, "empty response where CSV was expected"


class TestApiFailureModes(FailureModes):
    """The shared failure modes (see ``source_test_helpers``) on the keyed JSON API."""

    make = staticmethod(partial(recorded, FredSource, api_key=KEY))
    fixtures, good_file = FIX, "walcl_observations.json"
    symbol = provider_symbol = "WALCL"
    start, end, rows = date(2024, 5, 1), date(2024, 6, 30), 9


def test_csv_5xx_and_timeout_then_success() -> None:
    server = Script(httpx.Response(503), httpx.ReadTimeout, csv_response("dgs2_observation_date.csv"))
    res = fred(server).fetch("DGS2", "DGS2", START, END)
    assert len(res.frame) == 11 and server.calls == 3


# --------------------------------------------------------------------------- keyed API


def test_api_parse_and_request() -> None:
    server = Script(httpx.Response(200, content=FIX.bytes("walcl_observations.json")))
    src = fred(server, api_key=KEY)
    assert src.keyed
    res = src.fetch("WALCL", "WALCL", date(2024, 5, 1), date(2024, 6, 30))
    f = res.frame
    assert len(f) == 9 and f["date"].iloc[0] == pd.Timestamp("2024-05-01")
    assert f["value"].iloc[0] == 7362474.0 and f["value"].iloc[-1] == 7231163.0
    validate_frame(f, "macro")
    (req,) = server.requests
    assert req.url.host == "api.stlouisfed.org" and req.url.path == "/fred/series/observations"
    q = req.url.params
    assert q["series_id"] == "WALCL" and q["api_key"] == KEY and q["file_type"] == "json"
    assert q["observation_start"] == "2024-05-01" and q["observation_end"] == "2024-06-30"


def test_api_dot_is_missing() -> None:
    doc = FIX.json("walcl_observations.json")
    doc["observations"][3]["value"] = "."
    f = parse_observations(doc, symbol="WALCL", series_id="WALCL")
    assert math.isnan(f["value"].iloc[3]) and f["value"].notna().sum() == 8


def test_api_pages_through_count() -> None:
    doc = FIX.json("walcl_observations.json")

    def page(request: httpx.Request) -> httpx.Response:
        offset, limit = int(request.url.params["offset"]), int(request.url.params["limit"])
        body = dict(doc, offset=offset, limit=limit, observations=doc["observations"][offset : offset + limit])
        return httpx.Response(200, json=body)

    server = Script(page)
    src = fred(server, api_key=KEY)
    src.page_size = 4  # type: ignore[misc]  # instance override of the class default
    f = src.fetch("WALCL", "WALCL", date(2024, 5, 1), date(2024, 6, 30)).frame
    assert len(f) == 9 and f["date"].is_monotonic_increasing
    assert [r.url.params["offset"] for r in server.requests] == ["0", "4", "8"]


def test_api_unknown_series() -> None:
    server = Script(httpx.Response(400, content=FIX.bytes("series_does_not_exist_400.json")))
    with pytest.raises(SymbolNotFoundError, match="does not exist") as info:
        fred(server, api_key=KEY).fetch("X", "NOTASERIES", START, END)
    assert server.calls == 1
    assert KEY not in str(info.value) and KEY not in repr(info.value)


def test_api_bad_key_is_not_an_unknown_series() -> None:
    server = Script(httpx.Response(400, content=FIX.bytes("api_key_not_registered_400.json")))
    with pytest.raises(SourceError) as info:
        fred(server, api_key=KEY).fetch("DGS2", "DGS2", START, END)
    assert not isinstance(info.value, SymbolNotFoundError)
    assert "FRED_API_KEY" in str(info.value) and "not registered" in str(info.value)


def test_api_observations_missing_is_malformed() -> None:
    server = Script(httpx.Response(200, json={"count": 0, "offset": 0}))
    with pytest.raises(MalformedResponseError, match="no 'observations' array"):
        fred(server, api_key=KEY).fetch("DGS2", "DGS2", START, END)


def test_api_entry_without_value_is_malformed() -> None:
    doc = FIX.json("walcl_observations.json")
    del doc["observations"][2]["value"]
    with pytest.raises(MalformedResponseError, match=r"observations\[2\] lacks 'date' or 'value'"):
        parse_observations(doc, symbol="WALCL", series_id="WALCL")


def _chain(exc: BaseException) -> list[BaseException]:
    out, seen = [], set()
    while exc is not None and id(exc) not in seen:
        out.append(exc)
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return out


@pytest.mark.parametrize(
    "steps",
    [
        [httpx.Response(400, json={"error_code": 400, "error_message": "Bad Request.  The series does not exist."})],
        [httpx.Response(400, json={"error_code": 400, "error_message": "Bad Request.  Variable api_key is not a 32 character alpha-numeric lower-case string."})],
        [httpx.Response(429, headers={"Retry-After": "1"})],
        [httpx.Response(500, text="Internal Server Error")],
        [httpx.ReadTimeout],
        [httpx.ConnectError],
        [httpx.Response(200, text='{"observations": [')],
        [httpx.Response(200, text="<html><title>Oops</title></html>")],
        # a body that echoes the request URL (and so the key) must be scrubbed too
        [lambda r: httpx.Response(403, text=f"Forbidden: {r.url}")],
        [lambda r: httpx.Response(200, text=f"not json {r.url}")],
    ],
    ids=["unknown", "bad-key", "429", "500", "timeout", "connect", "truncated", "html", "echo-403", "echo-200"],
)
def test_api_key_never_appears_in_errors(steps: list[Any]) -> None:
    server = Script(*steps)
    with pytest.raises(SourceError) as info:
        fred(server, api_key=KEY, attempts=2).fetch("DGS2", "DGS2", START, END)
    for exc in _chain(info.value):
        assert KEY not in str(exc), f"key leaked via {type(exc).__name__}: {exc}"
        assert KEY not in repr(exc)
    assert KEY in str(server.requests[0].url)  # it was really sent


def test_api_key_masked_in_httpx_request_log(caplog: pytest.LogCaptureFixture) -> None:
    server = Script(httpx.Response(200, content=FIX.bytes("walcl_observations.json")))
    with caplog.at_level(logging.DEBUG):
        fred(server, api_key=KEY).fetch("WALCL", "WALCL", date(2024, 5, 1), date(2024, 6, 30))
    assert "HTTP Request: GET https://api.stlouisfed.org" in caplog.text
    assert "api_key=***" in caplog.text
    assert KEY not in caplog.text


def test_bad_key_format_is_rejected_without_echo() -> None:
    with pytest.raises(ParameterError) as info:
        FredSource(api_key="Not-A-Key-But-Secret")
    assert info.value.parameter == "api_key" and "Secret" not in str(info.value)


def test_repr_hides_the_key() -> None:
    src = fred(Script(httpx.Response(500)), api_key=KEY)
    assert KEY not in repr(src) and repr(src) == "FredSource(mode=api)"


def test_blank_key_means_no_key() -> None:
    server = Script(csv_response("dgs2_observation_date.csv"))
    src = fred(server, api_key="  ")
    assert not src.keyed
    src.fetch("DGS2", "DGS2", START, END)
    assert "api_key" not in server.requests[0].url.params


def test_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(500))
    assert not FredSource.from_env(client=httpx.Client(transport=transport)).keyed
    monkeypatch.setenv("FRED_API_KEY", KEY)
    assert FredSource.from_env(client=httpx.Client(transport=transport)).keyed


def test_bad_arguments() -> None:
    src = fred(Script(httpx.Response(500)))
    with pytest.raises(ParameterError, match="after end"):
        src.fetch("DGS2", "DGS2", END, START)
    with pytest.raises(ParameterError, match="provider_symbol"):
        src.fetch("DGS2", "", START, END)


# --------------------------------------------------------------------------- live


@pytest.mark.live
def test_live_fred_csv_a_few_days() -> None:
    src = FredSource(retry=RetryPolicy(attempts=3, initial=2.0, max_wait=20.0))
    try:
        f = src.fetch("DGS2", "DGS2", START, END).frame
    finally:
        src.close()
    assert f.set_index(f["date"].dt.strftime("%Y-%m-%d"))["value"].loc["2024-06-10"] == pytest.approx(4.87)


@pytest.mark.live
def test_live_fred_api_a_few_days() -> None:
    if not os.environ.get("FRED_API_KEY"):
        pytest.skip("FRED_API_KEY not set")
    src = FredSource.from_env(retry=RetryPolicy(attempts=3, initial=2.0, max_wait=20.0))
    try:
        f = src.fetch("WALCL", "WALCL", date(2024, 6, 1), date(2024, 6, 30)).frame
    finally:
        src.close()
    assert f["value"].iloc[0] == pytest.approx(7255687.0)
