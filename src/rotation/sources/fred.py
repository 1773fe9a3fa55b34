"""FRED (Federal Reserve Economic Data) series, with or without an API key.

Two routes, same output (a macro frame: ``symbol, date, value`` in the
series' native units, NaN where FRED publishes no value):

No key: the graph CSV download
    ``GET https://fred.stlouisfed.org/graph/fredgraph.csv?id=DGS2&cosd=2024-06-01&coed=2024-06-30``.
    This is the file behind the "Download CSV" button; it is not a documented
    API. Its header was ``DATE,DGS2`` until late 2024 and is
    ``observation_date,DGS2`` since; missing values were ``.`` and are now
    empty. Both variants are accepted. An unknown id answers HTTP 404 (older
    deployments: 400, or a 200 HTML page titled "Error"), mapped to
    :class:`~rotation.errors.SymbolNotFoundError`; any other HTML where CSV
    was expected is a :class:`~rotation.errors.MalformedResponseError`.

With a key: the documented API
    ``GET https://api.stlouisfed.org/fred/series/observations`` with ``series_id``,
    ``api_key``, ``file_type=json``, ``observation_start``/``observation_end``,
    paged with ``limit``/``offset``.
    ``observations[].value`` is a string, ``"."`` for missing. An unknown
    series answers HTTP 400 ``{"error_code":400,"error_message":"Bad Request.
    The series does not exist."}``.

The API key travels as a query parameter (FRED accepts nothing else), so it
would otherwise show up in httpx's request log line and could reach error
text. This module never formats it into a message, scrubs it from any error it
re-raises, and installs a filter on the ``httpx`` logger that masks
``api_key=...`` in log records.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import os
import re
from collections.abc import Mapping
from datetime import date
from typing import Any, ClassVar

import httpx
import numpy as np
import pandas as pd

from rotation.errors import (
    MalformedResponseError,
    ParameterError,
    RateLimitedError,
    SourceError,
    SymbolNotFoundError,
)
from rotation.sources._base import FetchResult, Source
from rotation.sources._http import HttpSource, RetryPolicy, make_client

__all__ = ["API_URL", "FREDGRAPH_URL", "FredSource", "parse_fredgraph_csv", "parse_observations"]

FREDGRAPH_URL = "https://fred.stlouisfed.org/graph/fredgraph.csv"
API_URL = "https://api.stlouisfed.org/fred/series/observations"

_PROVIDER = "fred"
_DATE_HEADERS = ("observation_date", "date")
_MISSING = ("", ".")
_KEY_RE = re.compile(r"^[a-z0-9]{32}$")
_KEY_IN_URL = re.compile(r"(api_key=)[^&\s\"'#]+")
#: Markers of FRED's HTML "no such series" page (a 200 on older deployments).
_HTML_NOT_FOUND = re.compile(r"<title>\s*Error|series does not exist|series not found", re.I)


class _RedactApiKey(logging.Filter):
    """Mask ``api_key=...`` in records of the logger it is attached to."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed record is not ours to fix
            return True
        if "api_key=" in message:
            record.msg = _KEY_IN_URL.sub(r"\1***", message)
            record.args = ()
        return True


def _install_log_redaction() -> None:
    # httpx logs every request URL at INFO ("HTTP Request: GET https://...").
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, _RedactApiKey) for f in logger.filters):
        logger.addFilter(_RedactApiKey())


class FredSource(HttpSource, Source):
    """Macro series from FRED.

    Parameters
    ----------
    client : httpx.Client, optional
        Injected client (tests pass one with an ``httpx.MockTransport``).
    retry : RetryPolicy, optional
        Bounds of the retry loop on 429/5xx/timeouts.
    api_key : str, optional
        FRED API key (32 lower-case alphanumerics). With it the documented
        API is used; without it (None or blank) the no-key CSV download.
        The caller reads ``FRED_API_KEY``; see :meth:`from_env`.

    Raises
    ------
    ParameterError
        ``api_key`` is not 32 lower-case alphanumerics (the key is not echoed).
    """

    name: ClassVar[str] = _PROVIDER
    kind = "macro"
    fields: ClassVar[tuple[str, ...]] = ("value",)
    #: Observations per API page; FRED's maximum is 100000.
    page_size: ClassVar[int] = 100_000

    def __init__(
        self,
        client: httpx.Client | None = None,
        retry: RetryPolicy | None = None,
        *,
        api_key: str | None = None,
    ) -> None:
        key = (api_key or "").strip() or None
        if key is not None and not _KEY_RE.match(key):
            raise ParameterError(
                "api_key", "a FRED API key is 32 lower-case letters and digits (value not shown)"
            )
        own = client is None
        if own:
            client = make_client()
            # fredgraph.csv has been seen to stall until timeout when an
            # Accept header is sent (measured by other users, 2025); the
            # header carries no information for a CSV download.
            client.headers.pop("Accept", None)
        super().__init__(client=client, retry=retry)
        self._own_client = own
        self._api_key = key
        if key is not None:
            _install_log_redaction()

    @classmethod
    def from_env(
        cls, client: httpx.Client | None = None, retry: RetryPolicy | None = None
    ) -> FredSource:
        """A source keyed with ``$FRED_API_KEY`` when it is set, else the no-key route."""
        return cls(client=client, retry=retry, api_key=os.environ.get("FRED_API_KEY"))

    @property
    def keyed(self) -> bool:
        """True when requests go to the documented API with a key."""
        return self._api_key is not None

    def __repr__(self) -> str:
        return f"FredSource(mode={'api' if self.keyed else 'csv'})"

    def fetch(self, symbol: str, provider_symbol: str, start: date, end: date) -> FetchResult:
        """Fetch observations dated in ``[start, end]``.

        Parameters
        ----------
        symbol : str
            rotation's symbol for the ``symbol`` column.
        provider_symbol : str
            FRED series id (``DGS2``, ``WALCL``).
        start, end : date
            Inclusive range of observation dates.

        Returns
        -------
        FetchResult
            ``frame``: ``symbol, date, value`` (float64, native units, NaN
            where FRED has no value for a listed date), sorted by date.

        Raises
        ------
        ParameterError
            ``start`` after ``end`` or an empty series id.
        SymbolNotFoundError
            FRED does not know the series.
        RateLimitedError, ProviderUnavailableError
            429 / 5xx / timeouts persisted through the retry policy.
        MalformedResponseError
            The body is not FRED's CSV or JSON (HTML page, truncated, bad rows).
        SourceError
            FRED rejected the API key or the request (message says which).
        """
        if not provider_symbol or not provider_symbol.strip():
            raise ParameterError("provider_symbol", "is empty")
        if start > end:
            raise ParameterError("start", f"{start} is after end {end}")
        if self.keyed:
            frame = self._fetch_api(symbol, provider_symbol, start, end)
        else:
            frame = self._fetch_csv(symbol, provider_symbol, start, end)
        notes = [] if frame["value"].notna().any() else [
            f"FRED returned no values for {provider_symbol} in {start}..{end}"
        ]
        return FetchResult(frame=frame, notes=notes)

    # ------------------------------------------------------------------ no key

    def _fetch_csv(self, symbol: str, series_id: str, start: date, end: date) -> pd.DataFrame:
        response = self.get(
            FREDGRAPH_URL,
            params={"id": series_id, "cosd": start.isoformat(), "coed": end.isoformat()},
            symbol=series_id,
            not_found=(400, 404),
        )
        return parse_fredgraph_csv(
            response.text,
            symbol=symbol,
            series_id=series_id,
            start=start,
            end=end,
            content_type=response.headers.get("Content-Type", ""),
        )

    # ------------------------------------------------------------------- keyed

    def _fetch_api(self, symbol: str, series_id: str, start: date, end: date) -> pd.DataFrame:
        rows: list[Mapping[str, Any]] = []
        while True:
            payload = self._api_page(series_id, start, end, offset=len(rows))
            page = payload["observations"]
            rows.extend(page)
            count = payload.get("count")
            if not page or not isinstance(count, int) or len(rows) >= count:
                break
        return parse_observations(
            {"observations": rows}, symbol=symbol, series_id=series_id, start=start, end=end
        )

    def _api_page(
        self, series_id: str, start: date, end: date, *, offset: int
    ) -> Mapping[str, Any]:
        params = {
            "series_id": series_id,
            "api_key": self._api_key,
            "file_type": "json",
            "observation_start": start.isoformat(),
            "observation_end": end.isoformat(),
            "sort_order": "asc",
            "limit": str(self.page_size),
            "offset": str(offset),
        }
        # Errors are raised outside the ``except`` blocks so that the original
        # exception (whose text may quote the URL, key included) is not kept
        # as ``__context__`` of the one the caller sees; get_json quotes an
        # undecodable body through _redact.
        failure: SourceError | None = None
        payload: Any = None
        try:
            payload = self.get_json(API_URL, params=params, symbol=series_id, not_found=(404,))
        except SourceError as exc:
            failure = self._api_error(exc, series_id)
        if failure is not None:
            raise failure
        if isinstance(payload, Mapping) and "error_message" in payload:
            said = SourceError(
                f"HTTP 200: {payload['error_message']}", provider=_PROVIDER, symbol=series_id
            )
            raise self._api_error(said, series_id)
        if not isinstance(payload, Mapping) or not isinstance(payload.get("observations"), list):
            raise MalformedResponseError(
                "JSON has no 'observations' array", provider=_PROVIDER, symbol=series_id
            )
        return payload

    def _api_error(self, exc: SourceError, series_id: str) -> SourceError:
        """Classify an API failure and make sure the key is not in its text."""
        message = self._redact(exc.message)
        if type(exc) is SourceError:
            # HttpSource.get raises a plain SourceError for 4xx outside
            # ``not_found``, quoting the start of the body, which for FRED is
            # {"error_code":400,"error_message":"Bad Request.  ..."}.
            lowered = message.lower()
            if "does not exist" in lowered:
                return SymbolNotFoundError(
                    "FRED: the series does not exist", provider=_PROVIDER, symbol=series_id
                )
            if "api_key" in lowered:
                return SourceError(
                    f"FRED rejected the API key; check FRED_API_KEY ({message})",
                    provider=_PROVIDER,
                    symbol=series_id,
                )
        if message == exc.message:
            return exc
        if isinstance(exc, RateLimitedError):
            return RateLimitedError(
                message, provider=_PROVIDER, symbol=series_id, retry_after=exc.retry_after
            )
        return type(exc)(message, provider=_PROVIDER, symbol=series_id)

    def _redact(self, text: str) -> str:
        """``text`` with the API key masked (HttpSource quotes bodies through this)."""
        text = _KEY_IN_URL.sub(r"\1***", text)
        if self._api_key:
            text = text.replace(self._api_key, "***")
        return text


# --------------------------------------------------------------------------- parsers


def parse_fredgraph_csv(
    text: str,
    *,
    symbol: str,
    series_id: str,
    start: date | None = None,
    end: date | None = None,
    content_type: str = "",
) -> pd.DataFrame:
    """Parse a ``fredgraph.csv`` download into a macro frame.

    Parameters
    ----------
    text : str
        The body. Header ``observation_date,<ID>`` or the older ``DATE,<ID>``;
        one ``YYYY-MM-DD,<value>`` row per observation; ``.`` or empty = missing.
    symbol : str
        rotation's symbol for the ``symbol`` column.
    series_id : str
        The FRED id requested; the value column must carry it.
    start, end : date, optional
        Inclusive date range to keep.
    content_type : str
        The response's Content-Type, used to recognise HTML.

    Returns
    -------
    DataFrame
        ``symbol`` (str), ``date`` (datetime64[ns]), ``value`` (float64, NaN
        for missing), sorted by date.

    Raises
    ------
    SymbolNotFoundError
        The body is FRED's HTML error page for an unknown series.
    MalformedResponseError
        HTML or anything else that is not this CSV; bad dates or values
        (the message gives the 1-based line number); duplicate dates.
    """

    def bad(message: str) -> MalformedResponseError:
        return MalformedResponseError(message, provider=_PROVIDER, symbol=series_id)

    body = text.lstrip("\ufeff")
    head = body.lstrip()[:512]
    if "html" in content_type.lower() or head.startswith("<"):
        if _HTML_NOT_FOUND.search(body[:4096]):
            raise SymbolNotFoundError(
                "FRED answered its error page (unknown series id?)",
                provider=_PROVIDER,
                symbol=series_id,
            )
        title = re.search(r"<title>(.*?)</title>", body, re.I | re.S)
        what = f" titled {title.group(1).strip()[:80]!r}" if title else ""
        raise bad(f"expected CSV, got an HTML page{what}")
    if not body.strip():
        raise bad("empty response where CSV was expected")

    reader = csv.reader(io.StringIO(body))
    header = next(reader)
    if len(header) != 2 or header[0].strip().lower() not in _DATE_HEADERS:
        raise bad(
            f"unexpected CSV header {header!r} "
            f"(want 'observation_date,{series_id}' or 'DATE,{series_id}')"
        )
    if header[1].strip().upper() != series_id.strip().upper():
        raise bad(f"CSV value column is {header[1]!r}, expected the series id {series_id!r}")

    dates: list[date] = []
    values: list[float] = []
    for row in reader:
        line = reader.line_num
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) != 2:
            raise bad(f"line {line}: expected 2 fields, got {len(row)}: {row!r}")
        dates.append(_parse_date(row[0], f"line {line}", bad))
        values.append(_parse_value(row[1], f"line {line}", bad))
    return _macro_frame(symbol, dates, values, start, end, bad)


def parse_observations(
    payload: Any,
    *,
    symbol: str,
    series_id: str,
    start: date | None = None,
    end: date | None = None,
) -> pd.DataFrame:
    """Parse the API's ``series/observations`` JSON into a macro frame.

    Parameters
    ----------
    payload : object
        Decoded JSON with an ``observations`` list of ``{"date", "value"}``
        objects (``value`` a decimal string, ``"."`` for missing).
    symbol, series_id, start, end
        As in :func:`parse_fredgraph_csv`.

    Returns
    -------
    DataFrame
        ``symbol, date, value`` as in :func:`parse_fredgraph_csv`.

    Raises
    ------
    MalformedResponseError
        Missing ``observations``, an entry without ``date``/``value``, a bad
        date or value (the message gives its index), duplicate dates.
    """

    def bad(message: str) -> MalformedResponseError:
        return MalformedResponseError(message, provider=_PROVIDER, symbol=series_id)

    if not isinstance(payload, Mapping) or not isinstance(payload.get("observations"), list):
        raise bad("JSON has no 'observations' array")
    dates: list[date] = []
    values: list[float] = []
    for i, obs in enumerate(payload["observations"]):
        where = f"observations[{i}]"
        if not isinstance(obs, Mapping) or "date" not in obs or "value" not in obs:
            raise bad(f"{where} lacks 'date' or 'value'")
        dates.append(_parse_date(obs["date"], where, bad))
        values.append(_parse_value(obs["value"], where, bad))
    return _macro_frame(symbol, dates, values, start, end, bad)


def _parse_date(raw: Any, where: str, bad: Any) -> date:
    try:
        return date.fromisoformat(str(raw).strip())
    except ValueError:
        raise bad(f"{where}: date {raw!r} is not YYYY-MM-DD") from None


def _parse_value(raw: Any, where: str, bad: Any) -> float:
    if raw is None:
        return math.nan
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return float(raw)
    text = str(raw).strip()
    if text in _MISSING:
        return math.nan
    try:
        value = float(text)
    except ValueError:
        raise bad(f"{where}: value {raw!r} is not a number or '.'") from None
    if not math.isfinite(value):
        raise bad(f"{where}: value {raw!r} is not finite")
    return value


def _macro_frame(
    symbol: str,
    dates: list[date],
    values: list[float],
    start: date | None,
    end: date | None,
    bad: Any,
) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "symbol": pd.Series([symbol] * len(dates), dtype=object),
            "date": pd.Series(pd.to_datetime(dates), dtype="datetime64[ns]"),
            "value": np.asarray(values, dtype="float64"),
        }
    )
    dup = frame["date"].duplicated()
    if dup.any():
        raise bad(f"date {frame.loc[dup, 'date'].iloc[0]:%Y-%m-%d} appears more than once")
    if start is not None:
        frame = frame.loc[frame["date"] >= pd.Timestamp(start)]
    if end is not None:
        frame = frame.loc[frame["date"] <= pd.Timestamp(end)]
    return frame.sort_values("date", kind="stable").reset_index(drop=True)
