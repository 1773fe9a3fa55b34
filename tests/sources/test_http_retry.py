"""HttpSource.get and parse_retry_after: the bounded retry loop, offline.

Every test injects an ``httpx.MockTransport`` and a recording ``sleep`` so
nothing touches the network and nothing really waits.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from source_test_helpers import Script, freeze_http_clock, offline_source

from rotation.errors import (
    ConnectionFailedError,
    MalformedResponseError,
    ProviderUnavailableError,
    RateLimitedError,
    SourceError,
    SymbolNotFoundError,
)
from rotation.sources._http import USER_AGENT, HttpSource, make_client, parse_retry_after

URL = "https://api.example.test/v1/thing"
NOW = datetime(2024, 6, 12, 14, 0, 0, tzinfo=UTC)


class _Probe(HttpSource):
    name = "probe"


@pytest.fixture
def waits() -> list[float]:
    return []


def probe(script: Script, waits: list[float], **policy: float) -> _Probe:
    return offline_source(_Probe, script, waits, **policy)  # type: ignore[arg-type]


@pytest.fixture
def frozen_now(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """Pin ``datetime.now`` inside _http so HTTP-date Retry-After values are exact."""
    freeze_http_clock(monkeypatch, NOW)
    return NOW


# --------------------------------------------------------------------------- parse_retry_after


@pytest.mark.parametrize(
    ("header", "expected"),
    [(None, None), ("120", 120.0), ("  7 ", 7.0), ("1.5", 1.5), ("0", 0.0), ("-3", 0.0), ("soon", None), ("", None)],
)
def test_parse_retry_after_seconds_and_garbage(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header) == expected


def test_parse_retry_after_http_date_is_relative_to_now() -> None:
    later = format_datetime(NOW + timedelta(seconds=90), usegmt=True)  # "Wed, 12 Jun 2024 14:01:30 GMT"
    assert later.endswith("GMT")
    assert parse_retry_after(later, now=NOW) == 90.0


def test_parse_retry_after_http_date_in_the_past_is_zero() -> None:
    earlier = format_datetime(NOW - timedelta(minutes=5), usegmt=True)
    assert parse_retry_after(earlier, now=NOW) == 0.0


def test_parse_retry_after_http_date_without_zone_is_utc() -> None:
    # RFC 2822 "-0000" means "UTC, zone unknown"; parsedate_to_datetime returns a naive value.
    assert parse_retry_after("Wed, 12 Jun 2024 14:00:30 -0000", now=NOW) == 30.0


# --------------------------------------------------------------------------- get: success path


def test_get_returns_response_and_sends_params(waits: list[float]) -> None:
    script = Script(httpx.Response(200, json={"ok": True}))
    src = probe(script, waits)
    response = src.get(URL, params={"a": "1", "b": "x y"}, headers={"X-Test": "yes"})
    assert response.json() == {"ok": True}
    assert script.calls == 1 and waits == []
    sent = script.requests[0]
    assert sent.url.params["a"] == "1" and sent.url.params["b"] == "x y"
    assert sent.headers["X-Test"] == "yes"


# --------------------------------------------------------------------------- 429


def test_429_with_retry_after_seconds_waits_exactly_that(waits: list[float]) -> None:
    script = Script(httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, text="ok"))
    response = probe(script, waits).get(URL)
    assert response.text == "ok"
    assert script.calls == 2
    assert waits == [7.0]


def test_429_with_retry_after_http_date_waits_until_that_time(waits: list[float], frozen_now: datetime) -> None:
    when = format_datetime(frozen_now + timedelta(seconds=42), usegmt=True)
    script = Script(httpx.Response(429, headers={"Retry-After": when}), httpx.Response(200, text="ok"))
    probe(script, waits).get(URL)
    assert waits == [42.0]


def test_429_retry_after_is_capped_at_max_wait(waits: list[float]) -> None:
    script = Script(httpx.Response(429, headers={"Retry-After": "3600"}), httpx.Response(200))
    probe(script, waits, max_wait=30.0).get(URL)
    assert waits == [30.0]


def test_429_without_retry_after_backs_off_exponentially(waits: list[float]) -> None:
    script = Script(httpx.Response(429), httpx.Response(429), httpx.Response(429), httpx.Response(200))
    probe(script, waits, attempts=4, initial=1.0).get(URL)
    assert script.calls == 4
    # tenacity's wait_exponential_jitter: initial * 2**(n-1) + uniform(0, 1)
    assert len(waits) == 3
    for n, wait in enumerate(waits):
        assert 2.0**n <= wait <= 2.0**n + 1.0


def test_429_forever_raises_rate_limited_with_retry_after(waits: list[float]) -> None:
    script = Script(httpx.Response(429, headers={"Retry-After": "5"}))
    with pytest.raises(RateLimitedError) as info:
        probe(script, waits, attempts=3).get(URL, symbol="NVDA")
    err = info.value
    assert script.calls == 3
    assert waits == [5.0, 5.0]
    assert err.retry_after == 5.0
    assert err.provider == "probe" and err.symbol == "NVDA"
    assert "429" in str(err) and "3 attempts" in str(err)


# --------------------------------------------------------------------------- 5xx, timeouts, connection


def test_5xx_then_success(waits: list[float]) -> None:
    script = Script(httpx.Response(503), httpx.Response(502), httpx.Response(200, text="ok"))
    assert probe(script, waits).get(URL).text == "ok"
    assert script.calls == 3 and len(waits) == 2


def test_permanent_5xx_gives_provider_unavailable_after_exactly_attempts(waits: list[float]) -> None:
    script = Script(httpx.Response(500))
    with pytest.raises(ProviderUnavailableError) as info:
        probe(script, waits, attempts=5).get(URL, symbol="DGS2")
    assert script.calls == 5
    assert len(waits) == 4
    assert "HTTP 500" in str(info.value) and "5 attempts" in str(info.value)
    assert not isinstance(info.value, RateLimitedError)


def test_timeout_then_success(waits: list[float]) -> None:
    script = Script(httpx.ReadTimeout, httpx.Response(200, text="ok"))
    assert probe(script, waits).get(URL).text == "ok"
    assert script.calls == 2 and len(waits) == 1


def test_timeouts_forever_give_provider_unavailable(waits: list[float]) -> None:
    script = Script(httpx.ConnectTimeout)
    with pytest.raises(ProviderUnavailableError, match="timed out"):
        probe(script, waits, attempts=2).get(URL)
    assert script.calls == 2


def test_connection_errors_are_retried(waits: list[float]) -> None:
    script = Script(httpx.ConnectError, httpx.Response(200, text="ok"))
    assert probe(script, waits).get(URL).text == "ok"
    assert script.calls == 2


def test_no_connection_at_all_is_connection_failed(waits: list[float]) -> None:
    script = Script(httpx.ConnectError)
    with pytest.raises(ConnectionFailedError, match="connection failed") as info:
        probe(script, waits, attempts=3).get(URL, symbol="BTC")
    assert isinstance(info.value, ProviderUnavailableError)  # callers catching the parent still work
    assert script.calls == 3


def test_other_transport_errors_are_provider_unavailable(waits: list[float]) -> None:
    script = Script(httpx.ReadError)
    with pytest.raises(ProviderUnavailableError) as info:
        probe(script, waits, attempts=2).get(URL)
    assert not isinstance(info.value, ConnectionFailedError)
    assert script.calls == 2


def test_backoff_never_exceeds_max_wait(waits: list[float]) -> None:
    script = Script(httpx.Response(500))
    with pytest.raises(ProviderUnavailableError):
        probe(script, waits, attempts=6, initial=4.0, max_wait=10.0).get(URL)
    assert len(waits) == 5 and max(waits) <= 10.0


# --------------------------------------------------------------------------- 4xx: no retry


def test_404_is_symbol_not_found_without_retry(waits: list[float]) -> None:
    script = Script(httpx.Response(404, text="nope"))
    with pytest.raises(SymbolNotFoundError) as info:
        probe(script, waits).get(URL, symbol="ZZZZ")
    assert script.calls == 1 and waits == []
    assert info.value.symbol == "ZZZZ" and "404" in str(info.value)


def test_not_found_codes_are_configurable(waits: list[float]) -> None:
    script = Script(httpx.Response(400, text="bad series"))
    with pytest.raises(SymbolNotFoundError):
        probe(script, waits).get(URL, not_found=(400, 404))
    script404 = Script(httpx.Response(404, text="gone"))
    with pytest.raises(SourceError) as info:
        probe(script404, waits).get(URL, not_found=())
    assert type(info.value) is SourceError


def test_other_4xx_is_a_plain_source_error_quoting_the_body(waits: list[float]) -> None:
    script = Script(httpx.Response(403, text="Forbidden\nby policy"))
    with pytest.raises(SourceError) as info:
        probe(script, waits).get(URL, symbol="X")
    assert type(info.value) is SourceError
    assert script.calls == 1 and waits == []
    assert "HTTP 403: Forbidden by policy" in str(info.value)


def test_other_4xx_carries_status_body_and_headers(waits: list[float]) -> None:
    body = '{"code": -1121, "msg": "Invalid symbol."}' + " " * 300  # longer than the quote
    script = Script(httpx.Response(418, text=body, headers={"Retry-After": "60", "X-Trace": "t1"}))
    with pytest.raises(SourceError) as info:
        probe(script, waits).get(URL, symbol="X", not_found=())
    err = info.value
    assert err.status_code == 418 and err.body == body
    assert err.headers is not None and err.headers["retry-after"] == "60"  # httpx lower-cases names
    assert err.headers["x-trace"] == "t1"
    assert script.calls == 1 and waits == []


# --------------------------------------------------------------------------- get_json


class _Secretive(_Probe):
    def _redact(self, text: str) -> str:
        return text.replace("secret-token", "***")


def test_get_json_decodes_the_body_and_passes_the_request_on(waits: list[float]) -> None:
    script = Script(httpx.Response(200, json={"data": [1, 2.5, None]}))
    doc = probe(script, waits).get_json(URL, params={"a": "1"}, headers={"X-Test": "yes"})
    assert doc == {"data": [1, 2.5, None]}
    sent = script.requests[0]
    assert sent.url.params["a"] == "1" and sent.headers["X-Test"] == "yes"


@pytest.mark.parametrize(
    ("content", "quoted"),
    [
        (b'{"data": [1, 2', "'{\"data\": [1, 2'"),
        (b"<html>\n<title>busy</title></html>", "'<html> <title>busy</title></html>'"),
        (b"", "''"),
        (b"\x80\x81 not utf-8", None),
    ],
    ids=["truncated", "html", "empty", "not-utf8"],
)
def test_get_json_undecodable_body_is_malformed(
    waits: list[float], content: bytes, quoted: str | None
) -> None:
    script = Script(httpx.Response(200, content=content))
    with pytest.raises(MalformedResponseError, match="not valid JSON") as info:
        probe(script, waits).get_json(URL, symbol="BTC")
    err = info.value
    assert (err.provider, err.symbol) == ("probe", "BTC")
    if quoted is not None:
        assert str(err).endswith(f"body starts {quoted}")
    assert err.__cause__ is None and err.__context__ is None  # no raw body in the chain
    assert script.calls == 1 and waits == []


def test_get_json_quotes_the_body_after_redact(waits: list[float]) -> None:
    # the secret straddles the 120-character cut: it must be masked before the cut
    body = "x" * 110 + "secret-token and more"
    src = offline_source(_Secretive, Script(httpx.Response(200, text=body)), waits)
    with pytest.raises(MalformedResponseError) as info:
        src.get_json(URL)
    assert "secr" not in str(info.value) and "***" in str(info.value)


def test_get_json_refusal_translates_a_4xx(waits: list[float]) -> None:
    seen: list[SourceError] = []

    def refusal(exc: SourceError) -> SourceError:
        seen.append(exc)
        return SymbolNotFoundError(
            f"translated {exc.status_code}", provider="probe", symbol=exc.symbol
        )

    script = Script(httpx.Response(400, json={"code": -1121}, headers={"Retry-After": "5"}))
    with pytest.raises(SymbolNotFoundError, match="translated 400") as info:
        probe(script, waits).get_json(URL, symbol="XYZ", not_found=(), refusal=refusal)
    (original,) = seen
    assert original.status_code == 400 and original.body == '{"code":-1121}'
    assert original.headers is not None and original.headers["retry-after"] == "5"
    assert original.symbol == "XYZ"
    assert info.value.__context__ is None
    assert script.calls == 1 and waits == []


def test_get_json_without_refusal_raises_the_plain_4xx(waits: list[float]) -> None:
    script = Script(httpx.Response(403, text="Forbidden"))
    with pytest.raises(SourceError, match="HTTP 403: Forbidden") as info:
        probe(script, waits).get_json(URL)
    assert type(info.value) is SourceError and info.value.status_code == 403


@pytest.mark.parametrize(
    ("step", "error"),
    [
        (httpx.Response(404, text="gone"), SymbolNotFoundError),
        (httpx.Response(503), ProviderUnavailableError),
        (httpx.Response(429), RateLimitedError),
        (httpx.ConnectError, ConnectionFailedError),
    ],
    ids=["not-found", "5xx", "429", "connect"],
)
def test_get_json_refusal_sees_only_non_retryable_4xx(
    waits: list[float], step: object, error: type[SourceError]
) -> None:
    seen: list[SourceError] = []
    src = probe(Script(step), waits, attempts=2)  # type: ignore[arg-type]
    with pytest.raises(error):
        src.get_json(URL, refusal=seen.append)  # type: ignore[arg-type]
    assert seen == []


# --------------------------------------------------------------------------- client ownership


def test_make_client_sets_user_agent_timeout_and_redirects() -> None:
    with make_client(timeout=12.0) as client:
        assert client.headers["User-Agent"] == USER_AGENT
        assert client.timeout.read == 12.0
        assert client.follow_redirects is True


def test_close_closes_only_an_owned_client() -> None:
    injected = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    src = _Probe(client=injected)
    src.close()
    assert not injected.is_closed
    injected.close()
    own = _Probe()
    own.close()
    assert own.client.is_closed
