"""Coin Metrics community API: daily price, market cap and supply of crypto assets.

Endpoint (no key needed; CC BY-NC 4.0, 10 requests per 6 s per IP)::

    GET https://community-api.coinmetrics.io/v4/timeseries/asset-metrics
        ?assets=btc&metrics=PriceUSD,CapMrktCurUSD,SplyCur&frequency=1d
        &start_time=2024-01-01&end_time=2024-01-31&page_size=10000&paging_from=start

Response::

    {"data": [{"asset": "btc", "time": "2024-01-01T00:00:00.000000000Z",
               "PriceUSD": "42280.1", "CapMrktCurUSD": "8.28e11", "SplyCur": "19581000.1"}, ...],
     "next_page_token": "...", "next_page_url": "https://.../asset-metrics?...&next_page_token=..."}

Values are decimal **strings**. A metric the asset lacks (or that the community
tier forbids) is simply absent from a row when ``ignore_unsupported_errors`` and
``ignore_forbidden_errors`` are set; without them one blocked metric turns the
whole request into HTTP 400/403. Absent metrics become NaN.

Mapping: ``PriceUSD`` -> ``close``, ``CapMrktCurUSD`` -> ``market_cap``
(Coin Metrics' market cap uses *current* supply, i.e. close to fully diluted),
``SplyCur`` -> ``supply`` (native units).

Pagination: ``paging_from`` defaults to ``end`` on this API (a capped page holds
the *newest* rows), so ``paging_from=start`` is sent; pages are followed through
``next_page_url`` (fetched unmodified, as the API conventions ask) or, failing
that, by resending the query with ``next_page_token``.

Time convention (verified)
--------------------------
A daily row is stamped with the **start** of the UTC day it describes, and its
value is the **end-of-day** value: the docs say of ``PriceUSD`` that "the daily
frequency represents the price as of the end of the day in UTC time", and daily
network metrics (``SplyCur``) "are computed at 00:00 UTC for the previous 24 hour
interval" and labelled with that interval's start. Cross-check: the documented
BTC sample ``PriceUSD`` 26985.74 / 28185.20 / 27834.34 for 2023-03-18/19/20 tracks
Binance BTCUSDT's closes *of the same days* (26907.49 / 27972.87 / 27717.01), not
the previous days' (27395.13 / 26907.49 / 27972.87). So ``time``'s date already
is rotation's date (the UTC day whose 24:00 close the row reports): no shift.

Unknown asset: HTTP 400 ``{"error": {"type": "bad_parameter", "message": "Bad
parameter 'assets'. Value 'xyz' is not supported."}}``. Because the ignore flags
may also swallow an unsupported *asset* (the API then answers an empty
``data``), an empty answer is checked once against
``/v4/catalog-v2/asset-metrics?assets=...`` before it is reported as "no data in
range" rather than :class:`~rotation.errors.SymbolNotFoundError`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import date
from typing import Any, ClassVar

import httpx
import pandas as pd

from rotation._frames import empty_observations, validate_frame
from rotation.errors import (
    MalformedResponseError,
    ParameterError,
    SourceError,
    SymbolNotFoundError,
)
from rotation.sources._base import FetchResult, Source
from rotation.sources._http import HttpSource, RetryPolicy

__all__ = ["COMMUNITY_URL", "METRICS", "PRO_URL", "CoinMetricsSource"]

COMMUNITY_URL = "https://community-api.coinmetrics.io/v4"
PRO_URL = "https://api.coinmetrics.io/v4"
#: Coin Metrics metric id -> rotation observation field.
METRICS: Mapping[str, str] = {
    "PriceUSD": "close",
    "CapMrktCurUSD": "market_cap",
    "SplyCur": "supply",
}
PAGE_SIZE = 10_000  # the API's maximum; ~5,800 daily rows cover BTC since 2010
MAX_PAGES = 500  # a guard against a pagination loop, far above any real history


class CoinMetricsSource(HttpSource, Source):
    """Daily ``close``, ``market_cap`` and ``supply`` from the Coin Metrics API v4.

    Parameters
    ----------
    client : httpx.Client, optional
        HTTP client; tests inject one with an ``httpx.MockTransport``.
    retry : RetryPolicy, optional
        Bounds of the retry loop (429, 5xx, timeouts).
    api_key : str, optional
        A Coin Metrics Pro key. With it requests go to ``api.coinmetrics.io``
        with ``api_key`` in the query (the only way that API accepts it);
        without it, to the keyless community API.

    Notes
    -----
    Output rows are dated by the UTC day whose close they report (no shift is
    needed, see the module docstring). Values are float64; a metric missing for
    the asset or day is NaN. Rows outside ``[start, end]`` are dropped.
    """

    name: ClassVar[str] = "coinmetrics"
    fields: ClassVar[tuple[str, ...]] = tuple(METRICS.values())

    def __init__(
        self,
        client: httpx.Client | None = None,
        retry: RetryPolicy | None = None,
        *,
        api_key: str | None = None,
    ) -> None:
        super().__init__(client, retry)
        self._api_key = api_key or None
        self.base_url = PRO_URL if self._api_key else COMMUNITY_URL

    # ------------------------------------------------------------------ fetch
    def fetch(self, symbol: str, provider_symbol: str, start: date, end: date) -> FetchResult:
        """Fetch daily observations of one asset over ``[start, end]``.

        Parameters
        ----------
        symbol : str
            rotation's symbol, written to the ``symbol`` column.
        provider_symbol : str
            Coin Metrics asset id (``btc``, ``eth``); case-insensitive.
        start, end : date
            Inclusive UTC dates.

        Returns
        -------
        FetchResult
            ``frame``: one row per day with data, columns ``symbol, date, close,
            market_cap, supply`` (float64, NaN where the metric is absent).

        Raises
        ------
        ParameterError
            ``start`` after ``end``.
        SymbolNotFoundError
            Coin Metrics does not know the asset.
        RateLimitedError, ProviderUnavailableError
            After the bounded retries.
        MalformedResponseError
            Body not JSON, truncated, or not in the documented layout.
        """
        if start > end:
            raise ParameterError("start", f"start {start} is after end {end}")
        asset = provider_symbol.strip().lower()
        if not asset:
            raise SymbolNotFoundError(
                "empty Coin Metrics asset id", provider=self.name, symbol=provider_symbol
            )
        params: dict[str, str] = {
            "assets": asset,
            "metrics": ",".join(METRICS),
            "frequency": "1d",
            "start_time": start.isoformat(),
            "end_time": end.isoformat(),
            "page_size": str(PAGE_SIZE),
            "paging_from": "start",
            "ignore_forbidden_errors": "true",
            "ignore_unsupported_errors": "true",
        }
        if self._api_key:
            params["api_key"] = self._api_key

        rows = self._collect_pages(f"{self.base_url}/timeseries/asset-metrics", params, asset)
        if not rows:
            self._confirm_asset(asset)
            return FetchResult(
                frame=_empty(),
                notes=[
                    f"Coin Metrics has no daily {', '.join(METRICS)} for '{asset}' "
                    f"from {start} to {end}"
                ],
            )
        frame, missing = _parse_rows(rows, symbol, asset, self.name)
        frame = frame[(frame["date"] >= pd.Timestamp(start)) & (frame["date"] <= pd.Timestamp(end))]
        notes = [f"Coin Metrics does not provide {m} for '{asset}' (left NaN)" for m in missing]
        return FetchResult(frame=_canonical(frame, self.name, asset), notes=notes)

    # --------------------------------------------------------------- helpers
    def _collect_pages(self, url: str, params: dict[str, str], asset: str) -> list[Any]:
        """Follow ``next_page_url`` / ``next_page_token`` until the last page."""
        rows: list[Any] = []
        query: dict[str, str] | None = params
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            body = self._get_json(url, query, asset)
            data = body.get("data") if isinstance(body, dict) else None
            if not isinstance(data, list):
                raise MalformedResponseError(
                    "expected an object with a 'data' list", provider=self.name, symbol=asset
                )
            rows.extend(data)
            next_url = body.get("next_page_url")
            token = body.get("next_page_token")
            if not next_url and not token:
                return rows
            marker = str(next_url or token)
            if marker in seen:
                raise MalformedResponseError(
                    f"pagination repeats itself (token {str(token)[:40]!r})",
                    provider=self.name,
                    symbol=asset,
                )
            seen.add(marker)
            if next_url:
                url, query = str(next_url), None
            else:
                query = {**params, "next_page_token": str(token)}
        raise MalformedResponseError(
            f"more than {MAX_PAGES} pages of daily data", provider=self.name, symbol=asset
        )

    def _confirm_asset(self, asset: str) -> None:
        """Raise SymbolNotFoundError unless the catalog lists ``asset``."""
        params = {"assets": asset}
        if self._api_key:
            params["api_key"] = self._api_key
        body = self._get_json(f"{self.base_url}/catalog-v2/asset-metrics", params, asset)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise MalformedResponseError(
                "catalog answer has no 'data' list", provider=self.name, symbol=asset
            )
        if not any(
            isinstance(item, dict) and str(item.get("asset", "")).lower() == asset for item in data
        ):
            raise SymbolNotFoundError(
                f"Coin Metrics' catalog does not list asset '{asset}'",
                provider=self.name,
                symbol=asset,
            )

    def _get_json(self, url: str, params: Mapping[str, str] | None, asset: str) -> Any:
        """GET and decode JSON; :meth:`_refusal_error` reads what a 4xx body rejected."""
        return self.get_json(
            url, params=params, symbol=asset, not_found=(), refusal=self._refusal_error
        )

    def _refusal_error(self, exc: SourceError) -> SourceError:
        """Coin Metrics' error for a 4xx answer (``exc`` carries its status and body)."""
        status, body, asset = exc.status_code, exc.body or "", exc.symbol
        kind, message = _error_fields(body)
        if status == 400 and kind == "bad_parameter" and "'assets'" in message:
            return SymbolNotFoundError(message, provider=self.name, symbol=asset)
        if status in (401, 403):
            return SourceError(
                f"HTTP {status} {kind or 'forbidden'}: {message or 'access denied'} "
                "(the community API needs no key; a Pro key goes to api.coinmetrics.io)",
                provider=self.name,
                symbol=asset,
            )
        detail = f"{kind}: {message}" if kind or message else body[:200].replace("\n", " ")
        return SourceError(f"HTTP {status} {detail}", provider=self.name, symbol=asset)


# ------------------------------------------------------------------ parsing
def _error_fields(body: str) -> tuple[str, str]:
    """``(type, message)`` from ``{"error": {"type": ..., "message": ...}}``; blanks if absent."""
    try:
        payload = json.loads(body)
    except ValueError:
        return "", body[:200].replace("\n", " ")
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict):
        return str(error.get("type", "")), str(error.get("message", ""))
    return "", str(error or "")


def _parse_rows(
    rows: list[Any], symbol: str, asset: str, provider: str
) -> tuple[pd.DataFrame, list[str]]:
    """Rows of the ``data`` list -> observation frame, plus the metrics absent everywhere."""
    records: list[dict[str, Any]] = []
    seen_metric = dict.fromkeys(METRICS, False)
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or "time" not in row:
            raise MalformedResponseError(
                f"data[{i}] is not an object with 'time'", provider=provider, symbol=asset
            )
        if str(row.get("asset", asset)).lower() != asset:
            raise MalformedResponseError(
                f"data[{i}] is for asset {row.get('asset')!r}, not {asset!r}",
                provider=provider,
                symbol=asset,
            )
        stamp = pd.to_datetime(row["time"], utc=True, errors="coerce", format="ISO8601")
        if pd.isna(stamp) or stamp != stamp.normalize():
            raise MalformedResponseError(
                f"data[{i}].time {row['time']!r} is not a UTC midnight",
                provider=provider,
                symbol=asset,
            )
        record: dict[str, Any] = {"date": stamp.tz_localize(None)}
        for metric, field in METRICS.items():
            raw = row.get(metric)
            if raw is None:
                record[field] = math.nan
                continue
            seen_metric[metric] = True
            try:
                record[field] = float(raw)
            except (TypeError, ValueError):
                raise MalformedResponseError(
                    f"data[{i}] ({row['time']}) {metric}={raw!r} is not a number",
                    provider=provider,
                    symbol=asset,
                ) from None
        records.append(record)
    frame = pd.DataFrame.from_records(records, columns=["date", *METRICS.values()])
    frame.insert(0, "symbol", symbol)
    missing = [m for m, seen in seen_metric.items() if not seen]
    return frame, missing


def _canonical(frame: pd.DataFrame, provider: str, asset: str) -> pd.DataFrame:
    try:
        out = validate_frame(frame, "observations")
    except ValueError as exc:  # duplicate days, typically
        raise MalformedResponseError(
            f"daily rows are inconsistent: {exc}", provider=provider, symbol=asset
        ) from None
    return out.sort_values("date", kind="stable").reset_index(drop=True)


def _empty() -> pd.DataFrame:
    return empty_observations(tuple(METRICS.values()))
