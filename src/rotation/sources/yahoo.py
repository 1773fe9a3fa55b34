"""Yahoo Finance daily bars, splits and dividends from the v8 chart endpoint.

Endpoint
--------
``GET https://query2.finance.yahoo.com/v8/finance/chart/{symbol}`` with
``period1``/``period2`` (epoch seconds), ``interval=1d``,
``events=div,splits`` and ``includeAdjustedClose=true``. The answer is one
JSON document::

    {"chart": {"result": [{"meta": {...}, "timestamp": [...],
                           "events": {"dividends": {...}, "splits": {...}},
                           "indicators": {"quote": [{"open": [...], "high": [...],
                                                     "low": [...], "close": [...],
                                                     "volume": [...]}],
                                          "adjclose": [{"adjclose": [...]}]}}],
               "error": null}}

Why not yfinance
----------------
yfinance is a scraper around this very endpoint: the chart JSON is what it
parses. It keeps its own ``requests``/``curl_cffi`` session, cookies, crumb
and on-disk caches, pulls in many dependencies, and cannot be driven through
rotation's bounded retry policy (:class:`~rotation.sources._http.RetryPolicy`)
or an injected ``httpx`` transport, so its behaviour could not be tested
offline. Talking to the endpoint directly with ``httpx`` keeps every request
visible, retried on our terms and replayable from fixture files.

Dates
-----
Every bar is dated by its **exchange-local calendar date**, converted with
``meta.exchangeTimezoneName`` (``gmtoffset`` as a fallback, which ignores
daylight-saving changes and is noted). A US daily bar is stamped at the 09:30
New York open (13:30 or 14:30 UTC), so its local date is the session date. A
crypto bar (``BTC-USD``, timezone ``UTC``) is stamped 00:00 UTC of the day it
covers and closes at 24:00 UTC, so its local date is exactly rotation's crypto
convention (the UTC day whose close the row reports, see
:mod:`rotation._frames`); no shift is applied.

Values
------
``open/high/low/close`` are split-adjusted *as of the fetch* (Yahoo rewrites
history after every split); ``adj_close`` is also dividend-adjusted. Dividend
amounts in the actions frame are split-adjusted the same way. Equity volume is
in shares (``volume``); for ``instrumentType == "CRYPTOCURRENCY"`` Yahoo's
volume is quote-currency (USD) turnover, so it goes to ``volume_usd``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, ClassVar
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
import numpy as np
import pandas as pd

from rotation._frames import ACTION_COLUMNS, empty_observations
from rotation.errors import (
    MalformedResponseError,
    ParameterError,
    SourceError,
    SymbolNotFoundError,
)
from rotation.sources._base import FetchResult, Source
from rotation.sources._http import HttpSource, RetryPolicy

__all__ = ["CHART_URL", "YahooSource", "chart_params", "parse_chart"]

CHART_URL = "https://query2.finance.yahoo.com/v8/finance/chart/{symbol}"

#: Yahoo answers non-browser user agents with 429s or empty bodies more often;
#: a current desktop-browser string is what every working client sends.
BROWSER_USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)

_PROVIDER = "yahoo"
_QUOTE_KEYS = ("open", "high", "low", "close", "volume")
#: Bars are requested with this many days of margin on both sides, because a
#: bar's UTC timestamp can fall on the previous or next UTC day of its local
#: session date (UTC+13 exchanges, late-evening stamps); rows are then cut to
#: ``[start, end]`` by local date.
_PAD_DAYS = 2
#: Yahoo's description when the window holds no bars (before listing etc.).
_NO_DATA_IN_RANGE = "Data doesn't exist"


def chart_params(start: date, end: date) -> dict[str, str]:
    """Query parameters of a daily chart request covering ``[start, end]``.

    Parameters
    ----------
    start, end : date
        Inclusive local session dates.

    Returns
    -------
    dict
        ``period1``/``period2`` as epoch seconds (padded by two days each side;
        rows are filtered by local date afterwards), ``interval=1d``,
        ``events=div,splits``, ``includeAdjustedClose=true``,
        ``includePrePost=false``.
    """
    first = datetime.combine(start - timedelta(days=_PAD_DAYS), datetime.min.time(), UTC)
    last = datetime.combine(end + timedelta(days=1 + _PAD_DAYS), datetime.min.time(), UTC)
    return {
        "period1": str(int(first.timestamp())),
        "period2": str(int(last.timestamp())),
        "interval": "1d",
        # yfinance's spelling for years; the site itself sends div|split.
        "events": "div,splits",
        "includeAdjustedClose": "true",
        "includePrePost": "false",
    }


class YahooSource(HttpSource, Source):
    """Daily OHLC, adjusted close, volume, splits and dividends from Yahoo Finance.

    Parameters
    ----------
    client : httpx.Client, optional
        Injected client (tests pass one with an ``httpx.MockTransport``).
        Without one the source creates and owns a client.
    retry : RetryPolicy, optional
        Bounds of the retry loop on 429/5xx/timeouts.
    base_url : str
        Chart URL template with a ``{symbol}`` placeholder.

    Examples
    --------
    >>> src = YahooSource()                                  # doctest: +SKIP
    >>> res = src.fetch("NVDA", "NVDA", date(2024, 6, 3), date(2024, 6, 14))  # doctest: +SKIP
    >>> res.frame.columns.tolist()                            # doctest: +SKIP
    ['symbol', 'date', 'open', 'high', 'low', 'close', 'adj_close', 'volume']
    """

    name: ClassVar[str] = _PROVIDER
    kind = "observations"
    fields: ClassVar[tuple[str, ...]] = (
        "open", "high", "low", "close", "adj_close", "volume", "volume_usd",
    )

    def __init__(
        self,
        client: httpx.Client | None = None,
        retry: RetryPolicy | None = None,
        *,
        base_url: str = CHART_URL,
    ) -> None:
        super().__init__(client=client, retry=retry)
        self.base_url = base_url

    def fetch(self, symbol: str, provider_symbol: str, start: date, end: date) -> FetchResult:
        """Fetch daily bars and corporate actions for ``[start, end]``.

        Parameters
        ----------
        symbol : str
            rotation's symbol, written to the ``symbol`` column.
        provider_symbol : str
            Yahoo ticker (``NVDA``, ``BTC-USD``, ``^GSPC``).
        start, end : date
            Inclusive range of local session dates.

        Returns
        -------
        FetchResult
            ``frame``: one row per session date in ``[start, end]`` with a
            close, columns ``symbol, date, open, high, low, close, adj_close``
            and ``volume`` (equities) or ``volume_usd`` (crypto), float64, NaN
            where Yahoo sent null. ``actions``: splits (``value`` =
            numerator/denominator) and dividends (cash per share) dated in
            ``[start, end]``; empty frame when none. ``notes``: dropped rows
            and other caveats.

        Raises
        ------
        ParameterError
            ``start`` after ``end`` or an empty ``provider_symbol``.
        SymbolNotFoundError
            Yahoo does not know ``provider_symbol`` (HTTP 404 / ``Not Found``).
        RateLimitedError, ProviderUnavailableError
            429 / 5xx / timeouts persisted through the retry policy.
        MalformedResponseError
            The body is not a well-formed chart document.
        """
        _check_range(provider_symbol, start, end)
        url = self.base_url.format(symbol=quote(provider_symbol, safe="="))
        try:
            payload = self.get_json(
                url,
                params=chart_params(start, end),
                headers={"User-Agent": BROWSER_USER_AGENT, "Accept": "application/json"},
                symbol=provider_symbol,
            )
        except SourceError as exc:
            # Yahoo answers HTTP 400 "Data doesn't exist for startDate = ..." for a
            # window without bars (e.g. before listing): an empty answer, not a failure.
            # HttpSource keeps the status and body of a 4xx outside ``not_found``.
            if exc.status_code == 400 and _NO_DATA_IN_RANGE in (exc.body or ""):
                note = f"Yahoo has no bars for {provider_symbol} in {start}..{end}"
                return _empty_result(symbol, note)
            raise
        return parse_chart(
            payload, symbol=symbol, provider_symbol=provider_symbol, start=start, end=end
        )


def parse_chart(
    payload: Any,
    *,
    symbol: str,
    provider_symbol: str | None = None,
    start: date | None = None,
    end: date | None = None,
) -> FetchResult:
    """Turn a decoded v8 chart document into canonical frames.

    Parameters
    ----------
    payload : object
        ``json.loads`` of the response body.
    symbol : str
        rotation's symbol for the ``symbol`` column.
    provider_symbol : str, optional
        Used in error messages (defaults to ``meta.symbol``).
    start, end : date, optional
        Inclusive local-date range to keep; unbounded when omitted.

    Returns
    -------
    FetchResult
        See :meth:`YahooSource.fetch`. Rows are sorted by date, one per date.

    Raises
    ------
    SymbolNotFoundError
        ``chart.error.code == "Not Found"``.
    SourceError
        Any other ``chart.error`` Yahoo reports.
    MalformedResponseError
        Missing keys, wrong types, or arrays whose lengths differ from
        ``timestamp``; the message names the key and the lengths.
    """
    who = provider_symbol or symbol

    def bad(message: str) -> MalformedResponseError:
        return MalformedResponseError(message, provider=_PROVIDER, symbol=who)

    if not isinstance(payload, Mapping) or not isinstance(payload.get("chart"), Mapping):
        raise bad("response has no 'chart' object")
    chart = payload["chart"]
    error = chart.get("error")
    if error:
        code = str(error.get("code", "")) if isinstance(error, Mapping) else ""
        desc = str(error.get("description", "")) if isinstance(error, Mapping) else str(error)
        if code == "Not Found":
            raise SymbolNotFoundError(f"Yahoo: {desc or code}", provider=_PROVIDER, symbol=who)
        if _NO_DATA_IN_RANGE in desc:
            return _empty_result(symbol, f"Yahoo has no bars for {who} in the requested window")
        raise SourceError(f"Yahoo error {code!r}: {desc}", provider=_PROVIDER, symbol=who)
    results = chart.get("result")
    if not isinstance(results, Sequence) or isinstance(results, str) or not results:
        raise bad("'chart.result' is missing or empty and no 'chart.error' was given")
    result = results[0]
    if not isinstance(result, Mapping):
        raise bad("'chart.result[0]' is not an object")
    meta = result.get("meta")
    if not isinstance(meta, Mapping):
        raise bad("'chart.result[0].meta' is missing")
    notes: list[str] = []
    tz = _exchange_tz(meta, notes)

    indicators = result.get("indicators")
    if not isinstance(indicators, Mapping):
        raise bad("'indicators' is missing")
    quote_block = _first(indicators.get("quote"))
    if quote_block is None:
        raise bad("'indicators.quote[0]' is missing")

    stamps = result.get("timestamp")
    crypto = meta.get("instrumentType") == "CRYPTOCURRENCY"
    fields = ("open", "high", "low", "close", "adj_close", "volume_usd" if crypto else "volume")
    if stamps is None:
        # Yahoo omits 'timestamp' (and the quote arrays) when the window has no bars.
        if any(quote_block.get(k) for k in _QUOTE_KEYS):
            raise bad("'indicators.quote[0]' has values but 'timestamp' is missing")
        return _empty_result(symbol, f"Yahoo returned no bars for {who}", fields)
    if not isinstance(stamps, list) or not all(_is_int(t) for t in stamps):
        raise bad("'timestamp' is not a list of epoch seconds")
    n = len(stamps)

    columns: dict[str, np.ndarray] = {}
    for key in _QUOTE_KEYS:
        columns[key] = _numeric(quote_block.get(key), f"indicators.quote[0].{key}", n, bad)
    adj_block = _first(indicators.get("adjclose"))
    if adj_block is None or "adjclose" not in adj_block:
        raise bad(
            "'indicators.adjclose[0].adjclose' is missing (requested includeAdjustedClose=true)"
        )
    columns["adj_close"] = _numeric(
        adj_block["adjclose"], "indicators.adjclose[0].adjclose", n, bad
    )

    dates = _local_dates(np.asarray(stamps, dtype="int64"), tz)
    frame = pd.DataFrame(
        {
            "symbol": symbol,
            "date": dates,
            "open": columns["open"],
            "high": columns["high"],
            "low": columns["low"],
            "close": columns["close"],
            "adj_close": columns["adj_close"],
            fields[-1]: columns["volume"],
        }
    )
    frame["_ts"] = np.asarray(stamps, dtype="int64")

    frame = _drop_partial_bar(frame, meta, tz, notes)
    missing = frame["close"].isna()
    if missing.any():
        days = ", ".join(d.strftime("%Y-%m-%d") for d in frame.loc[missing, "date"].head(5))
        more = "" if missing.sum() <= 5 else ", ..."
        notes.append(f"dropped {int(missing.sum())} bar(s) without a close ({days}{more})")
        frame = frame.loc[~missing]
    frame = frame.sort_values("_ts", kind="stable")
    dup = frame.duplicated("date", keep="last")
    if dup.any():
        # Yahoo sometimes returns the live bar separately from an earlier bar
        # of the same session; the later stamp carries the newer values.
        days = ", ".join(sorted({d.strftime("%Y-%m-%d") for d in frame.loc[dup, "date"]}))
        notes.append(f"Yahoo sent several bars for {days}; kept the latest of each")
        frame = frame.loc[~dup]
    frame = _in_range(frame, start, end).drop(columns="_ts").reset_index(drop=True)

    actions = _parse_events(result.get("events"), symbol, tz, bad)
    actions = _in_range(actions, start, end).reset_index(drop=True)
    return FetchResult(frame=frame, actions=actions, notes=notes)


# --------------------------------------------------------------------------- helpers


def _check_range(provider_symbol: str, start: date, end: date) -> None:
    if not provider_symbol or not provider_symbol.strip():
        raise ParameterError("provider_symbol", "is empty")
    if start > end:
        raise ParameterError("start", f"{start} is after end {end}")


def _empty_actions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "symbol": pd.Series(dtype=object),
            "date": pd.Series(dtype="datetime64[ns]"),
            "kind": pd.Series(dtype=object),
            "value": pd.Series(dtype="float64"),
        }
    )[list(ACTION_COLUMNS)]


def _empty_result(
    symbol: str,
    note: str,
    fields: tuple[str, ...] = ("open", "high", "low", "close", "adj_close", "volume"),
) -> FetchResult:
    frame = empty_observations(fields)
    return FetchResult(frame=frame, actions=_empty_actions(), notes=[note])


def _first(block: Any) -> Mapping[str, Any] | None:
    """``block[0]`` when ``block`` is a non-empty list of objects, else None."""
    if isinstance(block, list) and block and isinstance(block[0], Mapping):
        return block[0]
    return None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _numeric(values: Any, where: str, n: int, bad: Any) -> np.ndarray:
    """A JSON array of numbers/nulls of length ``n`` as float64 (null -> NaN)."""
    if values is None:
        raise bad(f"'{where}' is missing")
    if not isinstance(values, list):
        raise bad(f"'{where}' is not an array")
    if len(values) != n:
        raise bad(f"'{where}' has {len(values)} values but 'timestamp' has {n}")
    out = np.empty(n, dtype="float64")
    for i, v in enumerate(values):
        if v is None:
            out[i] = np.nan
        elif _is_number(v):
            out[i] = float(v)
        else:
            raise bad(f"'{where}[{i}]' is {v!r}, not a number or null")
    return out


def _exchange_tz(meta: Mapping[str, Any], notes: list[str]) -> ZoneInfo | timezone:
    """The exchange's timezone: IANA name first, then the fixed ``gmtoffset``."""
    name = meta.get("exchangeTimezoneName")
    if isinstance(name, str) and name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    offset = meta.get("gmtoffset")
    if _is_int(offset):
        notes.append(
            f"exchange timezone {name!r} unknown; dated bars with the fixed offset "
            f"{offset:+d} s, which ignores daylight-saving changes"
        )
        return timezone(timedelta(seconds=offset))
    notes.append("no exchange timezone in the response; dated bars in UTC")
    return UTC


def _local_dates(stamps: np.ndarray, tz: ZoneInfo | timezone) -> pd.Series:
    """Epoch seconds -> exchange-local calendar dates (datetime64[ns], midnight)."""
    local = pd.to_datetime(stamps, unit="s", utc=True).tz_convert(tz)
    return pd.Series(local.tz_localize(None).normalize().astype("datetime64[ns]"))


def _local_date(stamp: int, tz: ZoneInfo | timezone) -> date:
    return datetime.fromtimestamp(stamp, tz=UTC).astimezone(tz).date()


def _drop_partial_bar(
    frame: pd.DataFrame, meta: Mapping[str, Any], tz: ZoneInfo | timezone, notes: list[str]
) -> pd.DataFrame:
    """Drop the last bar when ``meta`` shows its session is still trading.

    The session is open when ``regularMarketTime`` (last trade) lies inside
    ``currentTradingPeriod.regular`` ``[start, end)``; the last bar is that
    session's when their local dates agree. For a historical window the
    current period is some later day and nothing is dropped.
    """
    if frame.empty:
        return frame
    period = meta.get("currentTradingPeriod")
    regular = period.get("regular") if isinstance(period, Mapping) else None
    last_trade = meta.get("regularMarketTime")
    if not (isinstance(regular, Mapping) and _is_int(last_trade)):
        return frame
    opens, closes = regular.get("start"), regular.get("end")
    if not (_is_int(opens) and _is_int(closes) and opens <= last_trade < closes):
        return frame
    session = _local_date(opens, tz)
    last = frame.index[frame["_ts"].to_numpy().argmax()]
    if frame.at[last, "date"].date() != session:
        return frame
    when = datetime.fromtimestamp(last_trade, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    notes.append(f"dropped the partial bar for {session} (session still open at {when})")
    return frame.drop(index=last)


def _parse_events(events: Any, symbol: str, tz: ZoneInfo | timezone, bad: Any) -> pd.DataFrame:
    """``events.splits`` / ``events.dividends`` -> canonical action frame."""
    if events is None:
        return _empty_actions()
    if not isinstance(events, Mapping):
        raise bad("'events' is not an object")
    rows: list[tuple[str, date, str, float]] = []
    for key, kind in (("splits", "split"), ("dividends", "dividend")):
        block = events.get(key)
        if block is None:
            continue
        if not isinstance(block, Mapping):
            raise bad(f"'events.{key}' is not an object")
        for ident, event in block.items():
            where = f"events.{key}[{ident!r}]"
            if not isinstance(event, Mapping) or not _is_int(event.get("date")):
                raise bad(f"'{where}' has no integer 'date'")
            if kind == "split":
                num, den = event.get("numerator"), event.get("denominator")
                if not all(_is_number(x) for x in (num, den)):
                    raise bad(f"'{where}' lacks numeric numerator/denominator")
                if den == 0 or num == 0 or not math.isfinite(num / den):
                    raise bad(f"'{where}' has ratio {num}/{den}")
                value = float(num) / float(den)
            else:
                amount = event.get("amount")
                if not _is_number(amount):
                    raise bad(f"'{where}' has no numeric 'amount'")
                value = float(amount)
            rows.append((symbol, _local_date(event["date"], tz), kind, value))
    if not rows:
        return _empty_actions()
    out = pd.DataFrame(rows, columns=list(ACTION_COLUMNS))
    out["date"] = pd.to_datetime(out["date"]).astype("datetime64[ns]")
    return out.sort_values(["date", "kind"], kind="stable").reset_index(drop=True)


def _in_range(frame: pd.DataFrame, start: date | None, end: date | None) -> pd.DataFrame:
    keep = pd.Series(True, index=frame.index)
    if start is not None:
        keep &= frame["date"] >= pd.Timestamp(start)
    if end is not None:
        keep &= frame["date"] <= pd.Timestamp(end)
    return frame.loc[keep]
