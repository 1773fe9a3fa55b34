"""CoinGecko: daily USD price, market cap and 24 h volume of a coin.

Endpoint::

    GET {host}/api/v3/coins/{id}/market_chart/range?vs_currency=usd&from={unix s}&to={unix s}

    {"prices": [[ms, price], ...], "market_caps": [[ms, cap], ...],
     "total_volumes": [[ms, vol], ...]}

Hosts and keys (see :mod:`rotation.config`):

* keyless: ``api.coingecko.com``, no header (IP-based, a few calls a minute);
* Demo key (``COINGECKO_API_KEY``): ``api.coingecko.com``, header ``x-cg-demo-api-key``;
* paid key (``COINGECKO_PRO_API_KEY``): ``pro-api.coingecko.com``, header ``x-cg-pro-api-key``.

Keys go in headers, never in the URL, so they stay out of logs.

The keyless and Demo plans serve only the past 365 days: an older ``from`` is
answered ``401 {"error": {"status": {"error_code": 10012, "error_message": "Your
request exceeds the allowed time range. ..."}}}``, raised here as a
:class:`~rotation.errors.SourceError` that says what to do.
:attr:`CoinGeckoSource.history_limit_days` lets a caller clip its request first.

Date convention and granularity
-------------------------------
CoinGecko's granularity is automatic: a range over 90 days returns **daily**
points stamped 00:00 UTC; 2-90 days returns hourly points (a few minutes past
each hour); under a day, 5-minutely. The daily 00:00 UTC point of day D+1 is a
snapshot at the very end of day D, i.e. D's close, and the 24 h volume at that
instant is D's volume. So each point nearest a UTC midnight M (within
:data:`SNAPSHOT_TOLERANCE`) is kept and dated ``M - 1 day``; the day's other
points (intraday prices, and the "now" point CoinGecko appends to the newest
range) are dropped, and a midnight without a point within tolerance leaves
that day missing rather than filled. Every request spans at least 91 days (the
window is widened, then trimmed client-side) so CoinGecko answers daily points;
the resampling still handles hourly or 5-minutely answers correctly. Ranges
longer than :data:`CHUNK_DAYS` are fetched in chunks.

CoinGecko writes 0 where it has no figure (e.g. bitcoin's market cap and volume
before 2013); zeros and negatives become NaN. ``supply`` is not derived here
(``market_cap / price`` is CoinGecko's *circulating* estimate; stablecoin supply
comes from DefiLlama).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, ClassVar
from urllib.parse import quote

import httpx
import numpy as np
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

__all__ = [
    "CHUNK_DAYS",
    "PRO_URL",
    "PUBLIC_HISTORY_DAYS",
    "PUBLIC_URL",
    "SNAPSHOT_TOLERANCE",
    "CoinGeckoSource",
]

PUBLIC_URL = "https://api.coingecko.com/api/v3"
PRO_URL = "https://pro-api.coingecko.com/api/v3"
#: History the keyless and Demo plans serve (days before now).
PUBLIC_HISTORY_DAYS = 365
#: Longest range asked in one request.
CHUNK_DAYS = 365
#: Shortest range asked in one request: above 90 days CoinGecko answers daily points.
MIN_SPAN = timedelta(days=91)
#: How far from a UTC midnight a point may lie and still count as that midnight's snapshot.
SNAPSHOT_TOLERANCE = timedelta(hours=1)
#: Keyless CoinGecko limits per minute, so back off in tens of seconds, not seconds.
DEFAULT_RETRY = RetryPolicy(attempts=4, initial=10.0, max_wait=60.0)

_SERIES = {"prices": "close", "market_caps": "market_cap", "total_volumes": "volume_usd"}
_DAY_MS = 86_400_000


class CoinGeckoSource(HttpSource, Source):
    """Daily ``close``, ``market_cap`` and ``volume_usd`` (USD) from CoinGecko.

    Parameters
    ----------
    client : httpx.Client, optional
        HTTP client; tests inject one with an ``httpx.MockTransport``.
    retry : RetryPolicy, optional
        Defaults to :data:`DEFAULT_RETRY` (waits of 10-60 s: CoinGecko's limits are per minute).
    api_key : str, optional
        Demo key; defaults to ``$COINGECKO_API_KEY``.
    pro_api_key : str, optional
        Paid key; defaults to ``$COINGECKO_PRO_API_KEY``. Wins over a Demo key.
    now : callable, optional
        Returns the current UTC time; tests pin it.

    Notes
    -----
    Rows are dated by the UTC day whose close they report (the 00:00 UTC
    snapshot of D+1 becomes D). Values are float64, NaN where CoinGecko has no
    figure.
    """

    name: ClassVar[str] = "coingecko"
    fields: ClassVar[tuple[str, ...]] = tuple(_SERIES.values())

    def __init__(
        self,
        client: httpx.Client | None = None,
        retry: RetryPolicy | None = None,
        *,
        api_key: str | None = None,
        pro_api_key: str | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(client, retry or DEFAULT_RETRY)
        pro = pro_api_key or os.environ.get("COINGECKO_PRO_API_KEY") or None
        demo = api_key or os.environ.get("COINGECKO_API_KEY") or None
        if pro:
            self.plan, self.base_url, self._headers = "pro", PRO_URL, {"x-cg-pro-api-key": pro}
        elif demo:
            self.plan, self.base_url, self._headers = (
                "demo",
                PUBLIC_URL,
                {"x-cg-demo-api-key": demo},
            )
        else:
            self.plan, self.base_url, self._headers = "keyless", PUBLIC_URL, {}
        self._now = now or (lambda: datetime.now(UTC))

    @property
    def history_limit_days(self) -> int | None:
        """Days of history the configured plan serves, or None when unlimited (paid key)."""
        return None if self.plan == "pro" else PUBLIC_HISTORY_DAYS

    @property  # per instance, unlike Source.default_start: it depends on the plan
    def default_start(self) -> date:  # type: ignore[override]
        """First date to ask for when nothing is stored: the plan's oldest reachable close."""
        if self.history_limit_days is None:
            return Source.default_start
        return self._now().astimezone(UTC).date() - timedelta(days=self.history_limit_days - 1)

    # ------------------------------------------------------------------ fetch
    def fetch(self, symbol: str, provider_symbol: str, start: date, end: date) -> FetchResult:
        """Fetch daily observations of one coin over ``[start, end]``.

        Parameters
        ----------
        symbol : str
            rotation's symbol, written to the ``symbol`` column.
        provider_symbol : str
            CoinGecko coin id (``bitcoin``, ``usd-coin``), not the ticker.
        start, end : date
            Inclusive UTC dates (closes). The close of ``end`` needs the
            snapshot at ``end + 1`` 00:00 UTC, so a day not yet closed is absent.

        Returns
        -------
        FetchResult
            ``frame`` with columns ``symbol, date, close, market_cap,
            volume_usd`` (float64, NaN where CoinGecko has no figure).

        Raises
        ------
        ParameterError
            ``start`` after ``end``.
        SymbolNotFoundError
            Unknown coin id (HTTP 404).
        SourceError
            History limit of the keyless/Demo plan (error 10012) or a key problem.
        RateLimitedError, ProviderUnavailableError
            After the bounded retries.
        MalformedResponseError
            Body not JSON, truncated, or not in the documented layout.
        """
        if start > end:
            raise ParameterError("start", f"start {start} is after end {end}")
        coin = provider_symbol.strip()
        if not coin:
            raise SymbolNotFoundError(
                "empty CoinGecko coin id", provider=self.name, symbol=provider_symbol
            )
        now = self._now().astimezone(UTC)
        # Snapshots needed: 00:00 UTC of start+1 .. end+1, with tolerance either side.
        lo = _midnight(start + timedelta(days=1)) - SNAPSHOT_TOLERANCE
        hi = min(_midnight(end + timedelta(days=1)) + SNAPSHOT_TOLERANCE, now)
        if lo >= hi:
            return FetchResult(
                frame=empty_observations(self.fields),
                notes=[
                    f"no CoinGecko close from {start} to {end} exists yet "
                    f"(now {now:%Y-%m-%d %H:%M} UTC)"
                ],
            )
        chunks = [self._get_chart(coin, a, b) for a, b in _windows(lo, hi, now)]
        points = _points(chunks, coin, self.name)
        frame, dropped = _daily_closes(points)
        frame.insert(0, "symbol", symbol)
        frame = frame[(frame["date"] >= pd.Timestamp(start)) & (frame["date"] <= pd.Timestamp(end))]
        notes: list[str] = []
        if dropped:
            notes.append(
                f"dropped {dropped} CoinGecko point(s) that are not the snapshot nearest a UTC "
                f"midnight (within {SNAPSHOT_TOLERANCE}): intraday prices, not daily closes"
            )
        if frame.empty:
            notes.append(f"CoinGecko has no daily data for '{coin}' from {start} to {end}")
        return FetchResult(frame=_canonical(frame, self.name, coin), notes=notes)

    # --------------------------------------------------------------- helpers
    def _get_chart(self, coin: str, lo: datetime, hi: datetime) -> Any:
        url = f"{self.base_url}/coins/{quote(coin, safe='')}/market_chart/range"
        params = {
            "vs_currency": "usd",
            "from": str(int(lo.timestamp())),
            "to": str(int(hi.timestamp())),
        }
        # CoinGecko's error code in a 4xx body (10012 history limit, 10002/10010/10011 key
        # problems) decides the advice, so 4xx answers go through _refusal_error.
        return self.get_json(
            url,
            params=params,
            headers=self._headers,
            symbol=coin,
            not_found=(),
            refusal=self._refusal_error,
        )

    def _refusal_error(self, exc: SourceError) -> SourceError:
        """CoinGecko's error for a 4xx answer (``exc`` carries its status and body)."""
        status, body, coin = exc.status_code, exc.body or "", exc.symbol
        code, message = _error_fields(body)
        if status == 404:
            return SymbolNotFoundError(
                f"CoinGecko has no coin id '{coin}' ({message or 'coin not found'}); ids are "
                "slugs such as 'bitcoin' or 'usd-coin', listed at /api/v3/coins/list",
                provider=self.name,
                symbol=coin,
            )
        if code == 10012:
            return SourceError(
                f"{message.strip() or 'request exceeds the allowed time range'} "
                f"[plan: {self.plan}] The keyless API and the free Demo key "
                f"(COINGECKO_API_KEY) serve only the past {PUBLIC_HISTORY_DAYS} days. Set "
                "COINGECKO_PRO_API_KEY (a paid plan) for older history, start the fetch within "
                "the last year, or take this instrument from another provider in the universe "
                "file (coinmetrics, binance, yahoo).",
                provider=self.name,
                symbol=coin,
            )
        if code in (10002, 10010, 10011) or status in (401, 403):
            hint = {
                10002: "no API key was sent where one is required",
                10010: "a Pro key must go to pro-api.coingecko.com "
                "(set it as COINGECKO_PRO_API_KEY)",
                10011: "a Demo key must go to api.coingecko.com (set it as COINGECKO_API_KEY)",
            }.get(code or 0, "check COINGECKO_API_KEY / COINGECKO_PRO_API_KEY")
            return SourceError(
                f"HTTP {status} (error {code}): {message} - {hint}", provider=self.name, symbol=coin
            )
        return SourceError(
            f"HTTP {status}: {message or body[:200]}", provider=self.name, symbol=coin
        )


# ------------------------------------------------------------------- windows
def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _windows(lo: datetime, hi: datetime, now: datetime) -> list[tuple[datetime, datetime]]:
    """Request windows covering ``[lo, hi]``.

    Each is at most CHUNK_DAYS long, at least MIN_SPAN long, and never ends past ``now``.

    A short window is widened forward first (keeping it inside the keyless
    plan's past-365-days limit when the range itself is), then backward.
    """
    out: list[tuple[datetime, datetime]] = []
    a = lo
    while a < hi:
        b = min(a + timedelta(days=CHUNK_DAYS), hi)
        wa, wb = a, b
        if wb - wa < MIN_SPAN:
            wb = min(now, wa + MIN_SPAN)
            wa = min(wa, wb - MIN_SPAN)
        out.append((wa, wb))
        a = b
    return out


# ------------------------------------------------------------------- parsing
def _error_fields(body: str) -> tuple[int | None, str]:
    """``(error_code, message)`` from any of CoinGecko's three error shapes."""
    try:
        payload = json.loads(body)
    except ValueError:
        return None, body[:200].replace("\n", " ")
    if not isinstance(payload, dict):
        return None, str(payload)[:200]
    error = payload.get("error")
    if isinstance(error, str):  # {"error": "coin not found"}
        return None, error
    status = payload.get("status")
    if isinstance(error, dict):  # {"error": {"status": {...}}}
        status = error.get("status", error)
    if isinstance(status, dict):  # {"status": {"error_code": 429, "error_message": "..."}}
        code = status.get("error_code")
        return (int(code) if isinstance(code, int | float) else None), str(
            status.get("error_message", "")
        )
    return None, str(payload)[:200]


def _points(chunks: list[Any], coin: str, provider: str) -> pd.DataFrame:
    """All chunks' ``[ms, value]`` pairs as one frame indexed by ms (first occurrence wins)."""
    columns: dict[str, dict[int, float]] = {field: {} for field in _SERIES.values()}
    for n, chunk in enumerate(chunks):
        if not isinstance(chunk, dict):
            raise MalformedResponseError(
                f"chunk {n}: expected an object with {sorted(_SERIES)}",
                provider=provider,
                symbol=coin,
            )
        for key, field in _SERIES.items():
            pairs = chunk.get(key)
            if not isinstance(pairs, list):
                raise MalformedResponseError(
                    f"chunk {n}: '{key}' is missing or not a list", provider=provider, symbol=coin
                )
            target = columns[field]
            for i, pair in enumerate(pairs):
                if not (
                    isinstance(pair, list | tuple)
                    and len(pair) == 2
                    and isinstance(pair[0], int | float)
                ):
                    raise MalformedResponseError(
                        f"{key}[{i}] = {str(pair)[:60]} is not a [timestamp_ms, value] pair",
                        provider=provider,
                        symbol=coin,
                    )
                ms, value = int(pair[0]), pair[1]
                if value is None:
                    value = math.nan
                elif not isinstance(value, int | float) or isinstance(value, bool):
                    raise MalformedResponseError(
                        f"{key}[{i}] value {value!r} is not a number",
                        provider=provider,
                        symbol=coin,
                    )
                target.setdefault(ms, float(value))
    frame = pd.DataFrame(columns)
    frame.index = frame.index.astype("int64")
    return frame.sort_index()


def _daily_closes(points: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Keep, per UTC midnight, the point nearest it (within tolerance); date it the day before.

    Returns the frame (``date`` + fields, zeros/negatives -> NaN) and how many
    points were not used (too far from any midnight, or not the nearest one).
    """
    fields = list(_SERIES.values())
    if points.empty:
        return pd.DataFrame(
            {
                "date": pd.Series(dtype="datetime64[ns]"),
                **{f: pd.Series(dtype=float) for f in fields},
            }
        ), 0
    ms = points.index.to_numpy(dtype=np.int64)
    midnight = (ms + _DAY_MS // 2) // _DAY_MS * _DAY_MS
    offset = np.abs(ms - midnight)
    near = offset <= SNAPSHOT_TOLERANCE // timedelta(milliseconds=1)
    picked = points.loc[near].assign(_midnight=midnight[near], _offset=offset[near])
    picked = picked.sort_values(["_midnight", "_offset"], kind="stable").drop_duplicates(
        "_midnight"
    )
    frame = pd.DataFrame(
        {
            "date": pd.to_datetime(picked["_midnight"].to_numpy() - _DAY_MS, unit="ms").astype(
                "datetime64[ns]"
            )
        }
    )
    for field in fields:
        values = picked[field].to_numpy(dtype=float)
        frame[field] = np.where(values > 0, values, np.nan)  # CoinGecko's 0 means "no figure"
    return frame.reset_index(drop=True), len(points) - len(picked)


def _canonical(frame: pd.DataFrame, provider: str, coin: str) -> pd.DataFrame:
    try:
        out = validate_frame(frame, "observations")
    except ValueError as exc:
        raise MalformedResponseError(
            f"daily rows are inconsistent: {exc}", provider=provider, symbol=coin
        ) from None
    return out.sort_values("date", kind="stable").reset_index(drop=True)
