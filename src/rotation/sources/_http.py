"""HTTP plumbing shared by the network sources: one client factory, one retry policy.

Retries use tenacity, bounded in attempts and in total wait:

* HTTP 429: wait what ``Retry-After`` says (seconds or an HTTP date), capped at
  :attr:`RetryPolicy.max_wait`; without the header, exponential back-off.
* HTTP 5xx, timeouts, connection errors: exponential back-off with jitter.
* Anything else (2xx, 3xx handled by httpx, other 4xx) is returned or raised at once.
  A 4xx outside ``not_found`` becomes a plain :class:`~rotation.errors.SourceError`
  carrying ``status_code``, ``body`` and ``headers``, so sources can translate
  their provider's error bodies without re-reading the response.

:meth:`HttpSource.get_json` adds the JSON decoding every JSON provider needs:
an undecodable body (truncated, HTML, empty) is a
:class:`~rotation.errors.MalformedResponseError` quoting its first bytes.

When the attempts are exhausted the last failure becomes a
:class:`~rotation.errors.RateLimitedError` or
:class:`~rotation.errors.ProviderUnavailableError`.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from rotation import __name__ as _pkg
from rotation.errors import (
    ConnectionFailedError,
    MalformedResponseError,
    ProviderUnavailableError,
    RateLimitedError,
    SourceError,
    SymbolNotFoundError,
)

__all__ = ["HttpSource", "RetryPolicy", "make_client", "parse_retry_after"]

USER_AGENT = f"{_pkg}/0.1 (+https://github.com/rotation; research use)"


def make_client(timeout: float = 30.0, **kwargs: Any) -> httpx.Client:
    """An ``httpx.Client`` with rotation's user agent and timeouts."""
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json, text/csv;q=0.9, */*;q=0.5"}
    headers.update(kwargs.pop("headers", {}))
    return httpx.Client(timeout=httpx.Timeout(timeout), headers=headers, follow_redirects=True, **kwargs)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date)."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class _Retryable(Exception):
    """Internal: a failure worth retrying, carrying the response when there is one."""

    def __init__(self, reason: str, response: httpx.Response | None = None, *, connect: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.response = response
        self.connect = connect


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounds of the retry loop.

    Attributes
    ----------
    attempts : int
        Total tries including the first.
    initial, max_wait : float
        Back-off starts at ``initial`` seconds, doubles, and no single wait
        exceeds ``max_wait`` (a longer ``Retry-After`` is cut to it).
    sleep : callable
        Function used to wait; tests pass a recorder instead of ``time.sleep``.
    """

    attempts: int = 4
    initial: float = 1.0
    max_wait: float = 60.0
    sleep: Callable[[float], None] = time.sleep


class HttpSource:
    """Mixin for sources that speak HTTP: owns a client and the retry loop."""

    name: str

    def __init__(self, client: httpx.Client | None = None, retry: RetryPolicy | None = None) -> None:
        self._own_client = client is None
        self.client = client or make_client()
        self.retry = retry or RetryPolicy()

    def close(self) -> None:
        if self._own_client:
            self.client.close()

    def _redact(self, text: str) -> str:
        """Mask secrets in response text before it is quoted in an error message.

        The default returns ``text`` unchanged; a source whose requests carry a
        key in the URL (FRED) overrides it, since some bodies echo the URL.
        """
        return text

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retryable) and exc.response is not None and exc.response.status_code == 429:
            after = parse_retry_after(exc.response.headers.get("Retry-After"))
            if after is not None:
                return min(after, self.retry.max_wait)
        backoff = wait_exponential_jitter(multiplier=self.retry.initial, max=self.retry.max_wait)
        return float(backoff(state))

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        symbol: str | None = None,
        not_found: tuple[int, ...] = (404,),
    ) -> httpx.Response:
        """GET with the bounded retry policy.

        Parameters
        ----------
        not_found : tuple of int
            Status codes that mean "unknown symbol" for this provider.

        Raises
        ------
        SymbolNotFoundError
            Status in ``not_found``.
        RateLimitedError
            Still 429 after the last attempt.
        ProviderUnavailableError
            5xx, timeout or connection failure after the last attempt.
        SourceError
            Any other non-2xx status.
        """

        def attempt() -> httpx.Response:
            try:
                response = self.client.get(url, params=params, headers=headers)
            except httpx.TimeoutException as exc:
                raise _Retryable(f"timed out ({type(exc).__name__})") from exc
            except httpx.ConnectError as exc:
                raise _Retryable(f"connection failed ({type(exc).__name__}: {exc})", connect=True) from exc
            except httpx.TransportError as exc:
                raise _Retryable(f"transport error ({type(exc).__name__}: {exc})") from exc
            if response.status_code == 429 or response.status_code >= 500:
                raise _Retryable(f"HTTP {response.status_code}", response)
            return response

        retrying = Retrying(
            stop=stop_after_attempt(self.retry.attempts),
            wait=self._wait,
            retry=retry_if_exception(lambda e: isinstance(e, _Retryable)),
            sleep=self.retry.sleep,
            reraise=True,
        )
        try:
            response = retrying(attempt)
        except _Retryable as exc:
            tries = f"after {self.retry.attempts} attempts"
            if exc.response is not None and exc.response.status_code == 429:
                raise RateLimitedError(
                    f"rate limited (HTTP 429) {tries}",
                    provider=self.name,
                    symbol=symbol,
                    retry_after=parse_retry_after(exc.response.headers.get("Retry-After")),
                ) from None
            error = ConnectionFailedError if exc.connect else ProviderUnavailableError
            raise error(f"{exc.reason} {tries}", provider=self.name, symbol=symbol) from None
        if response.status_code in not_found:
            raise SymbolNotFoundError(
                f"unknown symbol (HTTP {response.status_code})", provider=self.name, symbol=symbol
            )
        if response.status_code >= 400:
            snippet = response.text[:200].replace("\n", " ")
            error = SourceError(f"HTTP {response.status_code}: {snippet}", provider=self.name, symbol=symbol)
            # Sources that must tell 4xx bodies apart (Yahoo, CoinGecko, Coin Metrics, Binance)
            # read these instead of the message; header names are lower-cased by httpx.
            error.status_code = response.status_code
            error.body = response.text
            error.headers = dict(response.headers)
            raise error
        return response

    def get_json(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        symbol: str | None = None,
        not_found: tuple[int, ...] = (404,),
        refusal: Callable[[SourceError], SourceError] | None = None,
    ) -> Any:
        """GET with the retry policy of :meth:`get` and decode the JSON body.

        Parameters
        ----------
        url, params, headers, symbol, not_found
            As in :meth:`get`.
        refusal : callable, optional
            Turns the :class:`~rotation.errors.SourceError` of a non-retryable
            4xx (which carries ``status_code``, ``body`` and ``headers``) into
            the provider's own error; without it that error is raised as is.

        Returns
        -------
        object
            The decoded JSON document (any JSON type; callers check the layout).

        Raises
        ------
        MalformedResponseError
            The body is not valid JSON (truncated, an HTML page, empty); the
            message quotes its first 120 characters after :meth:`_redact`.
        SymbolNotFoundError, RateLimitedError, ProviderUnavailableError, SourceError
            As in :meth:`get`, or what ``refusal`` returns for a 4xx.
        """
        # Errors are raised outside the ``except`` blocks so that they carry no
        # ``__context__`` (the original may hold a raw body or the request URL).
        failure: SourceError | None = None
        try:
            response = self.get(
                url, params=params, headers=headers, symbol=symbol, not_found=not_found
            )
        except SourceError as exc:
            if refusal is None or exc.status_code is None:
                raise
            failure = refusal(exc)
        if failure is not None:
            raise failure
        try:
            return response.json()
        except ValueError as exc:  # JSONDecodeError, or UnicodeDecodeError for non-UTF-8 bytes
            reason = str(exc)
        snippet = self._redact(response.text)[:120].replace("\n", " ")
        raise MalformedResponseError(
            f"response is not valid JSON (truncated?): {reason}; body starts {snippet!r}",
            provider=self.name,
            symbol=symbol,
        )
