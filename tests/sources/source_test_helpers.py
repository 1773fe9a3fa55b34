"""Scaffolding shared by the network-source tests (imported as ``source_test_helpers``).

* :class:`FixtureFiles`: the recorded answers under ``tests/fixtures/<provider>``.
* :class:`Script`: an ``httpx.MockTransport`` handler that replays scripted
  answers and records every request, so nothing touches the network.
* :func:`offline_source` / :func:`recorded`: a source wired to a script, with a
  :class:`~rotation.sources._http.RetryPolicy` whose ``sleep`` records the waits
  instead of waiting.
* :func:`freeze_http_clock`: pins the clock ``Retry-After`` HTTP-dates are read against.
* :class:`FailureModes`: the retry and failure-mode tests every HTTP source
  must pass; each provider's module runs them with
  ``class TestFailureModes(FailureModes)`` and its own wire format.

``tests/sources/conftest.py`` registers this module for pytest's assertion
rewriting, so a failing check in :class:`FailureModes` reports its values.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from rotation.errors import (
    MalformedResponseError,
    ParameterError,
    ProviderUnavailableError,
    RateLimitedError,
)
from rotation.sources import _http
from rotation.sources._http import RetryPolicy

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

#: One scripted answer: a response, an exception to raise (an instance, or an
#: httpx exception class built with the request), or a handler of the request.
Step = httpx.Response | BaseException | type[Exception] | Callable[[httpx.Request], httpx.Response]
S = TypeVar("S")


class FixtureFiles:
    """The files of ``tests/fixtures/<provider>``."""

    def __init__(self, provider: str) -> None:
        self.root = FIXTURES / provider

    def bytes(self, name: str) -> bytes:
        return (self.root / name).read_bytes()

    def text(self, name: str) -> str:
        return (self.root / name).read_text()

    def json(self, name: str) -> Any:
        """The decoded file; a fresh object on every call, so tests may mutate it."""
        return json.loads(self.bytes(name))

    def ok(self, name: str, content_type: str = "application/json") -> httpx.Response:
        """A 200 answer whose body is the file."""
        return httpx.Response(200, content=self.bytes(name), headers={"Content-Type": content_type})


class Script:
    """MockTransport handler answering the n-th request with the n-th step.

    The last step answers every request after it, so ``Script(response)``
    answers always the same and ``Script(handler)`` is a whole fake server.
    Requests are kept in :attr:`requests`.
    """

    def __init__(self, *steps: Step) -> None:
        if not steps:
            raise ValueError("a Script needs at least one step")
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps[min(len(self.requests), len(self.steps)) - 1]
        if isinstance(step, BaseException):
            raise step
        if isinstance(step, type) and issubclass(step, Exception):
            raise step("scripted failure", request=request)  # httpx errors take the request
        if callable(step) and not isinstance(step, httpx.Response):
            return step(request)
        return step

    @property
    def calls(self) -> int:
        return len(self.requests)


def offline_source(
    cls: Callable[..., S],
    script: Script,
    sleeps: list[float] | None = None,
    *,
    attempts: int = 4,
    initial: float = 1.0,
    max_wait: float = 60.0,
    **kwargs: Any,
) -> S:
    """``cls(client=..., retry=..., **kwargs)`` answering from ``script``.

    Waits are appended to ``sleeps`` (dropped when it is None); nothing sleeps.
    """
    sleep = sleeps.append if sleeps is not None else (lambda seconds: None)
    policy = RetryPolicy(attempts=attempts, initial=initial, max_wait=max_wait, sleep=sleep)
    return cls(client=httpx.Client(transport=httpx.MockTransport(script)), retry=policy, **kwargs)


def recorded(
    cls: Callable[..., S], *steps: Step, **kwargs: Any
) -> tuple[S, list[float], list[httpx.Request]]:
    """A source answering from ``Script(*steps)``, its recorded waits and its requests.

    ``kwargs`` go to :func:`offline_source` (retry bounds, then the source's own).
    """
    script = Script(*steps)
    sleeps: list[float] = []
    return offline_source(cls, script, sleeps, **kwargs), sleeps, script.requests


def freeze_http_clock(monkeypatch: pytest.MonkeyPatch, now: datetime) -> None:
    """Pin ``datetime.now`` inside ``rotation.sources._http`` (HTTP-date ``Retry-After``)."""

    class _Frozen(datetime):
        @classmethod
        def now(cls, tz=None):  # noqa: ANN001, ANN206 - mirrors datetime.now
            return now if tz is None else now.astimezone(tz)

    monkeypatch.setattr(_http, "datetime", _Frozen)


class FailureModes:
    """Retry and failure-mode tests every network source must pass.

    A provider's module subclasses it as ``class TestFailureModes(FailureModes)``
    (pytest collects only ``Test*`` classes, so this base never runs alone) and sets:

    * ``make``: ``staticmethod`` of ``(*steps, attempts=...) -> (source, sleeps,
      requests)``, a source answering the steps in order (see :func:`recorded`);
    * ``fixtures``, ``good_file``: the successful answer (:meth:`good`);
    * ``symbol, provider_symbol, start, end``: a fetch that answer serves, with
      ``provider_symbol`` as the provider's errors name it (normalised);
    * ``rows``: rows that fetch returns;
    * optionally ``rate_limited_body`` (the body of the provider's 429) and
      :meth:`undecodable` (bodies that are not the provider's format).
    """

    make: Callable[..., tuple[Any, list[float], list[httpx.Request]]]
    fixtures: FixtureFiles
    good_file: str
    symbol: str
    provider_symbol: str
    start: date
    end: date
    rows: int
    rate_limited_body: bytes = b"Too Many Requests"
    #: Retry-After of the 429 answers, in seconds (below every provider's max_wait).
    retry_after = "7"

    def good(self) -> httpx.Response:
        return self.fixtures.ok(self.good_file)

    def rate_limited(self, retry_after: str) -> httpx.Response:
        return httpx.Response(
            429, content=self.rate_limited_body, headers={"Retry-After": retry_after}
        )

    def undecodable(self, kind: str) -> tuple[bytes, str]:
        """``(body, message pattern)`` of a 200 whose body cannot be read."""
        good = self.good().content
        bodies = {
            "truncated": good[: len(good) // 2],
            "html": b"<!DOCTYPE html><html><title>Just a moment...</title></html>",
            "empty-body": b"",
        }
        return bodies[kind], "not valid JSON"

    def fetch(self, src: Any) -> Any:
        return src.fetch(self.symbol, self.provider_symbol, self.start, self.end)

    # ------------------------------------------------------------------ 429
    def test_429_retry_after_seconds_then_success(self) -> None:
        src, sleeps, calls = self.make(self.rate_limited(self.retry_after), self.good())
        assert len(self.fetch(src).frame) == self.rows
        assert sleeps == [float(self.retry_after)] and len(calls) == 2

    def test_429_retry_after_http_date_then_success(self, monkeypatch: pytest.MonkeyPatch) -> None:
        now = datetime(2024, 6, 25, 12, 0, tzinfo=UTC)
        freeze_http_clock(monkeypatch, now)
        stamp = format_datetime(now + timedelta(seconds=17), usegmt=True)
        src, sleeps, calls = self.make(self.rate_limited(stamp), self.good())
        assert len(self.fetch(src).frame) == self.rows
        assert sleeps == [17.0] and len(calls) == 2

    def test_429_forever_is_rate_limited_after_exactly_attempts(self) -> None:
        src, sleeps, calls = self.make(self.rate_limited(self.retry_after), attempts=3)
        with pytest.raises(RateLimitedError) as info:
            self.fetch(src)
        wait = float(self.retry_after)
        assert info.value.retry_after == wait
        assert len(calls) == 3 and sleeps == [wait, wait]
        assert (info.value.provider, info.value.symbol) == (src.name, self.provider_symbol)

    # ------------------------------------------------------ 5xx, timeouts
    def test_5xx_then_success(self) -> None:
        src, sleeps, calls = self.make(
            httpx.Response(502, text="Bad Gateway"), httpx.Response(503), self.good()
        )
        assert len(self.fetch(src).frame) == self.rows
        assert len(calls) == 3 and len(sleeps) == 2

    def test_timeout_then_success(self) -> None:
        src, sleeps, calls = self.make(httpx.ReadTimeout("read timed out"), self.good())
        assert len(self.fetch(src).frame) == self.rows
        assert len(calls) == 2 and len(sleeps) == 1

    def test_permanent_5xx_is_provider_unavailable_after_exactly_attempts(self) -> None:
        src, sleeps, calls = self.make(httpx.Response(500, text="Server Error"), attempts=4)
        with pytest.raises(ProviderUnavailableError, match="HTTP 500 after 4 attempts") as info:
            self.fetch(src)
        assert not isinstance(info.value, RateLimitedError)
        assert len(calls) == 4 and len(sleeps) == 3
        assert (info.value.provider, info.value.symbol) == (src.name, self.provider_symbol)

    def test_permanent_timeouts_are_provider_unavailable(self) -> None:
        src, _, calls = self.make(httpx.ReadTimeout("slow"), attempts=4)
        with pytest.raises(ProviderUnavailableError, match=r"timed out.*after 4 attempts"):
            self.fetch(src)
        assert len(calls) == 4

    # ------------------------------------------------------------ malformed
    @pytest.mark.parametrize("kind", ["truncated", "html", "empty-body"])
    def test_undecodable_body_is_malformed(self, kind: str) -> None:
        content, match = self.undecodable(kind)
        src, sleeps, calls = self.make(httpx.Response(200, content=content))
        with pytest.raises(MalformedResponseError, match=match) as info:
            self.fetch(src)
        assert info.value.provider == src.name
        assert len(calls) == 1 and sleeps == []  # a bad body is not retried

    # ----------------------------------------------------------- arguments
    def test_start_after_end_is_a_parameter_error_and_no_call(self) -> None:
        src, _, calls = self.make(self.good())
        with pytest.raises(ParameterError, match="after end") as info:
            src.fetch(self.symbol, self.provider_symbol, self.end, self.start)
        assert info.value.parameter == "start" and calls == []
