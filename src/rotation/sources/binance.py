"""Binance spot daily klines: OHLC, base volume and quote (USD-stablecoin) volume.

Endpoint (public, no key)::

    GET https://api.binance.com/api/v3/klines?symbol=BTCUSDT&interval=1d
        &startTime={ms}&endTime={ms}&limit=1000

    [[openTime, "open", "high", "low", "close", "volume", closeTime,
      "quoteAssetVolume", trades, "takerBuyBaseVolume", "takerBuyQuoteVolume", "ignore"], ...]

Times are UTC milliseconds, prices and volumes decimal strings, oldest first,
at most 1000 bars per call, so a long range is paged by ``startTime``.

Dates: the 1d bar opening at D 00:00 UTC closes at D 23:59:59.999, so it is
dated D, which is already rotation's convention (the UTC day whose 24:00 close
the row reports). The current day's bar is still open (``closeTime`` in the
future) and its "close" is just the last trade: it is dropped, with a note.

Fields: ``open high low close`` (quote currency), ``volume`` = base-asset
volume (coins), ``volume_usd`` = quote-asset volume. Only pairs quoted in a USD
stablecoin (USDT, USDC, FDUSD, ...) are accepted, and their quote is taken as
USD: the stablecoins trade within a few basis points of par in normal markets
(USDT's March-2020 and USDC's March-2023 wobbles of 1-10 % are the exceptions
to keep in mind when reading those weeks).

Errors: unknown symbol is ``400 {"code": -1121, "msg": "Invalid symbol."}``
-> :class:`~rotation.errors.SymbolNotFoundError`. 429 is retried (with
``Retry-After``) by :class:`~rotation.sources._http.HttpSource`. 418 means the
IP is already banned for ignoring 429s: retrying would extend the ban, so it
is raised at once as :class:`~rotation.errors.RateLimitedError` carrying the
``Retry-After`` wait (or the "banned until" time from the message). 451 means
Binance does not serve the caller's location.

Why not ccxt: ccxt is a large dependency with its own HTTP stack
(requests/aiohttp) that neither rotation's bounded retry policy nor the
offline ``httpx.MockTransport`` tests can drive; one public endpoint does not
need it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Any, ClassVar

import httpx
import pandas as pd

from rotation._frames import empty_observations, validate_frame
from rotation.errors import (
    MalformedResponseError,
    ParameterError,
    RateLimitedError,
    SourceError,
    SymbolNotFoundError,
)
from rotation.sources._base import FetchResult, Source
from rotation.sources._http import HttpSource, RetryPolicy, parse_retry_after

__all__ = ["BASE_URL", "LIMIT", "USD_QUOTES", "BinanceSource"]

BASE_URL = "https://api.binance.com"
#: Bars per request (Binance's maximum for /api/v3/klines).
LIMIT = 1000
#: Quote assets treated as US dollars, longest first so "FDUSD" wins over "USD"-like suffixes.
USD_QUOTES = ("FDUSD", "USDT", "USDC", "BUSD", "TUSD", "USDP")
MAX_PAGES = 200  # 200 x 1000 daily bars is 547 years: only a guard against a paging loop

_DAY_MS = 86_400_000
_COLUMNS = ("open", "high", "low", "close", "volume", "volume_usd")
_BANNED_UNTIL = re.compile(r"banned until (\d{12,14})")


class BinanceSource(HttpSource, Source):
    """Daily OHLC and volumes of a USD-stablecoin-quoted Binance spot pair.

    Parameters
    ----------
    client : httpx.Client, optional
        HTTP client; tests inject one with an ``httpx.MockTransport``.
    retry : RetryPolicy, optional
        Bounds of the retry loop (429, 5xx, timeouts).
    base_url : str
        API root; Binance also serves public market data from
        ``https://data-api.binance.vision``.
    now : callable, optional
        Returns the current UTC time (decides which bar is still open); tests pin it.

    Notes
    -----
    Rows are dated by the UTC day of the bar (open at 00:00, close at
    23:59:59.999). Values are float64; bars are never forward-filled.
    """

    name: ClassVar[str] = "binance"
    fields: ClassVar[tuple[str, ...]] = _COLUMNS

    def __init__(
        self,
        client: httpx.Client | None = None,
        retry: RetryPolicy | None = None,
        *,
        base_url: str = BASE_URL,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(client, retry)
        self.base_url = base_url.rstrip("/")
        self._now = now or (lambda: datetime.now(UTC))

    # ------------------------------------------------------------------ fetch
    def fetch(self, symbol: str, provider_symbol: str, start: date, end: date) -> FetchResult:
        """Fetch daily bars of one pair over ``[start, end]``.

        Parameters
        ----------
        symbol : str
            rotation's symbol, written to the ``symbol`` column.
        provider_symbol : str
            Binance pair, e.g. ``BTCUSDT`` (case-insensitive); must be quoted in
            one of :data:`USD_QUOTES`.
        start, end : date
            Inclusive UTC dates.

        Returns
        -------
        FetchResult
            ``frame`` with columns ``symbol, date, open, high, low, close,
            volume, volume_usd`` (float64).

        Raises
        ------
        ParameterError
            ``start`` after ``end``, or a pair not quoted in a USD stablecoin.
        SymbolNotFoundError
            Binance does not list the pair (code -1121).
        RateLimitedError
            429 after the retries, or 418 (IP banned) at once.
        ProviderUnavailableError
            5xx or timeouts after the retries.
        MalformedResponseError
            Body not JSON, truncated, or not klines.
        """
        if start > end:
            raise ParameterError("start", f"start {start} is after end {end}")
        pair = provider_symbol.strip().upper()
        if not pair.endswith(USD_QUOTES) or pair in USD_QUOTES:
            raise ParameterError(
                "provider_symbol",
                f"Binance pair '{provider_symbol}' is not quoted in a USD stablecoin "
                f"({', '.join(USD_QUOTES)}); rotation stores USD prices",
            )
        now_ms = int(self._now().timestamp() * 1000)
        start_ms = _ms(start)
        end_ms = _ms(end) + _DAY_MS - 1
        bars: list[list[Any]] = []
        cursor = start_ms
        for _ in range(MAX_PAGES):
            page = self._get_klines(pair, cursor, end_ms)
            bars.extend(page)
            if len(page) < LIMIT:
                break
            last = page[-1]
            if not (isinstance(last, list) and last and isinstance(last[0], int)):
                raise MalformedResponseError(
                    f"last kline of a page is not an array with an openTime: {str(last)[:80]}",
                    provider=self.name,
                    symbol=pair,
                )
            if last[0] < cursor:
                raise MalformedResponseError(
                    f"klines went backwards (openTime {last[0]} before startTime {cursor})",
                    provider=self.name,
                    symbol=pair,
                )
            # next page starts at the following bar's open (Binance returns openTime >= startTime)
            cursor = last[0] + _DAY_MS
            if cursor > end_ms:
                break
        else:
            raise MalformedResponseError(
                f"more than {MAX_PAGES} pages of klines", provider=self.name, symbol=pair
            )

        frame, open_bar = _frame(bars, symbol, pair, now_ms, self.name)
        notes: list[str] = []
        if open_bar is not None:
            notes.append(
                f"dropped the still-open bar of {open_bar:%Y-%m-%d} (it closes at "
                "23:59:59.999 UTC; its 'close' is only the last trade)"
            )
        frame = frame[(frame["date"] >= pd.Timestamp(start)) & (frame["date"] <= pd.Timestamp(end))]
        if frame.empty:
            notes.append(f"Binance has no closed daily bars of {pair} from {start} to {end}")
        return FetchResult(frame=_canonical(frame, self.name, pair), notes=notes)

    # --------------------------------------------------------------- helpers
    def _get_klines(self, pair: str, start_ms: int, end_ms: int) -> list[Any]:
        params = {
            "symbol": pair,
            "interval": "1d",
            "startTime": str(start_ms),
            "endTime": str(end_ms),
            "limit": str(LIMIT),
        }
        body = self.get_json(
            f"{self.base_url}/api/v3/klines",
            params=params,
            symbol=pair,
            not_found=(),
            refusal=self._refusal_error,
        )
        if not isinstance(body, list):
            raise MalformedResponseError(
                f"expected a list of klines, got {type(body).__name__}: {str(body)[:120]}",
                provider=self.name,
                symbol=pair,
            )
        return body

    def _refusal_error(self, exc: SourceError) -> SourceError:
        """Binance's error for a 4xx answer (``exc`` carries its status, body and headers)."""
        status, body, pair = exc.status_code, exc.body or "", exc.symbol
        code, msg = _error_fields(body)
        if status == 418:
            # the ban's length is in Retry-After; httpx.Headers looks it up case-insensitively
            wait = parse_retry_after(httpx.Headers(exc.headers or {}).get("Retry-After"))
            if wait is None and (match := _BANNED_UNTIL.search(msg)):
                wait = max(0.0, int(match.group(1)) / 1000 - self._now().timestamp())
            return RateLimitedError(
                "HTTP 418: this IP is banned by Binance for exceeding its rate limits "
                f"({msg or 'no message'}); "
                + (f"retry in {wait:.0f} s" if wait is not None else "wait before retrying"),
                provider=self.name,
                symbol=pair,
                retry_after=wait,
            )
        if code == -1121 or (code == -1100 and "symbol" in msg.lower()):
            return SymbolNotFoundError(f"{msg} (code {code})", provider=self.name, symbol=pair)
        if status == 451:
            return SourceError(
                f"HTTP 451: Binance does not serve this location ({msg or 'restricted'}); "
                "take this instrument from another provider in the universe file "
                "(coinmetrics, coingecko)",
                provider=self.name,
                symbol=pair,
            )
        if status == 403:
            return SourceError(
                f"HTTP 403: blocked by Binance's web application firewall ({msg or 'forbidden'})",
                provider=self.name,
                symbol=pair,
            )
        detail = f"code {code}: {msg}" if code is not None else (msg or body[:200])
        return SourceError(f"HTTP {status} {detail}", provider=self.name, symbol=pair)


# ------------------------------------------------------------------ parsing
def _ms(day: date) -> int:
    return int(datetime.combine(day, time(0), tzinfo=UTC).timestamp() * 1000)


def _error_fields(body: str) -> tuple[int | None, str]:
    """``(code, msg)`` from ``{"code": -1121, "msg": "Invalid symbol."}``."""
    try:
        payload = json.loads(body)
    except ValueError:
        return None, body[:200].replace("\n", " ")
    if isinstance(payload, dict):
        code = payload.get("code")
        return (code if isinstance(code, int) else None), str(payload.get("msg", ""))
    return None, str(payload)[:200]


def _frame(
    bars: list[Any], symbol: str, pair: str, now_ms: int, provider: str
) -> tuple[pd.DataFrame, datetime | None]:
    """Klines -> observation frame (closed bars only) and the open bar's date, if any."""
    records: list[dict[str, Any]] = []
    open_bar: datetime | None = None
    for i, bar in enumerate(bars):
        if not isinstance(bar, list) or len(bar) < 8:
            raise MalformedResponseError(
                f"kline {i} is not a 12-field array: {str(bar)[:80]}",
                provider=provider,
                symbol=pair,
            )
        open_time, close_time = bar[0], bar[6]
        if not isinstance(open_time, int) or not isinstance(close_time, int):
            raise MalformedResponseError(
                f"kline {i} has non-integer openTime/closeTime ({open_time!r}, {close_time!r})",
                provider=provider,
                symbol=pair,
            )
        if open_time % _DAY_MS or close_time != open_time + _DAY_MS - 1:
            raise MalformedResponseError(
                f"kline {i} (openTime {open_time}) is not a UTC-day bar",
                provider=provider,
                symbol=pair,
            )
        day = datetime.fromtimestamp(open_time / 1000, UTC)
        if close_time > now_ms:  # still trading: the "close" is the last trade so far
            open_bar = day
            continue
        record: dict[str, Any] = {"date": pd.Timestamp(day.date())}
        for field, index in zip(_COLUMNS, (1, 2, 3, 4, 5, 7), strict=True):
            try:
                record[field] = float(bar[index])
            except (TypeError, ValueError):
                raise MalformedResponseError(
                    f"kline {i} ({day:%Y-%m-%d}) field {field}={bar[index]!r} is not a number",
                    provider=provider,
                    symbol=pair,
                ) from None
        records.append(record)
    frame = pd.DataFrame.from_records(records, columns=["date", *_COLUMNS])
    frame.insert(0, "symbol", symbol)
    return frame, open_bar


def _canonical(frame: pd.DataFrame, provider: str, pair: str) -> pd.DataFrame:
    if frame.empty:
        return empty_observations(_COLUMNS)
    try:
        out = validate_frame(frame, "observations")
    except ValueError as exc:
        raise MalformedResponseError(
            f"klines are inconsistent: {exc}", provider=provider, symbol=pair
        ) from None
    return out.sort_values("date", kind="stable").reset_index(drop=True)
