"""HttpSource.get and parse_retry_after: the bounded retry loop, offline.

Every test injects an ``httpx.MockTransport`` and a recording ``sleep`` so
nothing touches the network and nothing really waits.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from rotation.errors import (
    ConnectionFailedError,
    ProviderUnavailableError,
    RateLimitedError,
    SourceError,
    SymbolNotFoundError,
)
from rotation.sources import _http
from rotation.sources._http import USER_AGENT, HttpSource, RetryPolicy, make_client, parse_retry_after

URL = "https://api.example.test/v1/thing"
NOW = datetime(2024, 6, 12, 14, 0, 0, tzinfo=UTC)


class _Probe(HttpSource):
    name = "probe"


class Script:
    """A MockTransport handler replaying a list of responses/exceptions, one per call."""

    def __init__(self, *steps: httpx.Response | type[Exception] | Callable[[httpx.Request], httpx.Response]):
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps[min(len(self.requests), len(self.steps)) - 1]
        if isinstance(step, type) and issubclass(step, Exception):
            raise step("scripted failure", request=request)
        if callable(step) and not isinstance(step, httpx.Response):
            return step(request)
        return step

    @property
    def calls(self) -> int:
        return len(self.requests)


@pytest.fixture
def waits() -> list[float]:
    return []


def probe(script: Script, waits: list[float], **policy: float) -> _Probe:
    retry = RetryPolicy(sleep=waits.append, **policy)  # type: ignore[arg-type]
    return _Probe(client=httpx.Client(transport=httpx.MockTransport(script)), retry=retry)


@pytest.fixture
def frozen_now(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """Pin ``datetime.now`` inside _http so HTTP-date Retry-After values are exact."""

    class _Frozen(datetime):
        @classmethod
        def now(cls, tz=None):  # noqa: ANN001, ANN206 - mirrors datetime.now
            return NOW if tz is None else NOW.astimezone(tz)

    monkeypatch.setattr(_http, "datetime", _Frozen)
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
