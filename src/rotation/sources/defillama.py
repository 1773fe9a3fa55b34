"""DefiLlama stablecoins: circulating supply and market value of USD stablecoins.

Endpoint (public, no key)::

    GET https://stablecoins.llama.fi/stablecoincharts/all               # all stablecoins
    GET https://stablecoins.llama.fi/stablecoincharts/all?stablecoin=1  # one coin (USDT 1, USDC 2)

    [{"date": "1617235200",
      "totalCirculating": {"peggedUSD": 40950000000.0, "peggedEUR": ...},
      "totalCirculatingUSD": {"peggedUSD": 40980000000.0, ...},
      "totalUnreleased": {...}, "totalMintedUSD": {...}, "totalBridgedToUSD": {...}}, ...]

``date`` is a UNIX-seconds **string** at 00:00 UTC; amounts are keyed by peg
type. The whole history comes back every time: the endpoint takes no date
range, so rows are filtered here. Ids are DefiLlama's (listed at
``/stablecoins``); provider symbol ``all`` means every stablecoin.

Mapping: ``totalCirculating.peggedUSD`` -> ``supply`` (tokens of USD-pegged
coins, i.e. dollars at par) and ``totalCirculatingUSD.peggedUSD`` ->
``market_cap`` (the same tokens at their market price). A peg key missing on a
day gives NaN.

Dates (as read in DefiLlama's server, ``peggedassets-server``
``getStablecoinChart.ts``): each row is the daily balance snapshot stored at
the start of UTC day D, i.e. the balance at the end of D-1, so rows are
**shifted back one day** to rotation's convention. The server also overwrites
the *last* row with its latest hourly balance while that is under 25 hours
newer than the row's date; such a row holds a live intraday value, not a
close, so it is dropped (with a note) until it has aged past that window.

Unknown id: the server answers ``200 []`` (it filters its list of coins by the
id), so an empty answer for an id is reported as
:class:`~rotation.errors.SymbolNotFoundError`: every listed coin has history.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
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

__all__ = ["BASE_URL", "LIVE_WINDOW", "DefiLlamaSource"]

BASE_URL = "https://stablecoins.llama.fi"
#: How long after its date the last row may still hold a live (hourly) value.
LIVE_WINDOW = timedelta(hours=25)
_FIELDS = ("supply", "market_cap")
_DAY_S = 86_400


class DefiLlamaSource(HttpSource, Source):
    """Daily ``supply`` and ``market_cap`` of a USD stablecoin (or of all of them).

    Parameters
    ----------
    client : httpx.Client, optional
        HTTP client; tests inject one with an ``httpx.MockTransport``.
    retry : RetryPolicy, optional
        Bounds of the retry loop (429, 5xx, timeouts).
    now : callable, optional
        Returns the current UTC time (decides whether the last row is live); tests pin it.

    Notes
    -----
    ``supply`` and ``market_cap`` are in US dollars (float64). Rows are dated by
    the UTC day whose close they report (snapshot date minus one day).
    """

    name: ClassVar[str] = "defillama"
    fields: ClassVar[tuple[str, ...]] = _FIELDS

    def __init__(
        self,
        client: httpx.Client | None = None,
        retry: RetryPolicy | None = None,
        *,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(client, retry)
        self._now = now or (lambda: datetime.now(UTC))

    def fetch(self, symbol: str, provider_symbol: str, start: date, end: date) -> FetchResult:
        """Fetch daily supply and market value over ``[start, end]``.

        Parameters
        ----------
        symbol : str
            rotation's symbol, written to the ``symbol`` column.
        provider_symbol : str
            DefiLlama stablecoin id (``"1"`` USDT, ``"2"`` USDC) or ``"all"``.
        start, end : date
            Inclusive UTC dates.

        Returns
        -------
        FetchResult
            ``frame`` with columns ``symbol, date, supply, market_cap`` (float64, USD).

        Raises
        ------
        ParameterError
            ``start`` after ``end``.
        SymbolNotFoundError
            Not a DefiLlama id, or an id DefiLlama has no history for.
        SourceError
            The coin is not pegged to the US dollar.
        RateLimitedError, ProviderUnavailableError
            After the bounded retries.
        MalformedResponseError
            Body not JSON, truncated, or not in the documented layout.
        """
        if start > end:
            raise ParameterError("start", f"start {start} is after end {end}")
        coin = provider_symbol.strip().lower()
        if coin != "all" and not coin.isdigit():
            raise SymbolNotFoundError(
                f"'{provider_symbol}' is not a DefiLlama stablecoin id: use a number from "
                f"{BASE_URL}/stablecoins (USDT 1, USDC 2) or 'all'",
                provider=self.name,
                symbol=provider_symbol,
            )
        params = None if coin == "all" else {"stablecoin": coin}
        rows = self.get_json(
            f"{BASE_URL}/stablecoincharts/all", params=params, symbol=coin, not_found=()
        )
        if not isinstance(rows, list):
            raise MalformedResponseError(
                f"expected a list of daily rows, got {type(rows).__name__}: {str(rows)[:120]}",
                provider=self.name,
                symbol=coin,
            )
        if not rows:
            if coin == "all":
                raise SourceError(
                    "DefiLlama returned no stablecoin history at all",
                    provider=self.name,
                    symbol=coin,
                )
            raise SymbolNotFoundError(
                f"DefiLlama has no stablecoin with id {coin} "
                f"(ids are listed at {BASE_URL}/stablecoins)",
                provider=self.name,
                symbol=coin,
            )

        frame, pegs = _parse(rows, coin, self.name)
        if frame["supply"].isna().all() and frame["market_cap"].isna().all() and pegs:
            raise SourceError(
                f"stablecoin {coin} is pegged to {', '.join(sorted(pegs))}, not the US dollar; "
                "rotation reads USD-pegged supply only",
                provider=self.name,
                symbol=coin,
            )
        notes: list[str] = []
        last = frame["snapshot"].iloc[-1]
        now = self._now().astimezone(UTC).replace(tzinfo=None)
        if now < last + LIVE_WINDOW:
            notes.append(
                f"dropped DefiLlama's last row ({last:%Y-%m-%d}): it holds a live intraday "
                f"value until {last + LIVE_WINDOW:%Y-%m-%d %H:%M} UTC, not the close of "
                f"{last - timedelta(days=1):%Y-%m-%d}"
            )
            frame = frame.iloc[:-1]
        # the snapshot at the start of D is the close of D-1
        frame = frame.assign(symbol=symbol, date=frame["snapshot"] - pd.Timedelta(days=1))
        frame = frame.loc[
            (frame["date"] >= pd.Timestamp(start)) & (frame["date"] <= pd.Timestamp(end)),
            ["symbol", "date", *_FIELDS],
        ]
        if frame.empty:
            notes.append(f"DefiLlama has no daily stablecoin data for {coin} from {start} to {end}")
            return FetchResult(frame=empty_observations(_FIELDS), notes=notes)
        try:
            out = validate_frame(frame, "observations")
        except ValueError as exc:
            raise MalformedResponseError(
                f"daily rows are inconsistent: {exc}", provider=self.name, symbol=coin
            ) from None
        return FetchResult(
            frame=out.sort_values("date", kind="stable").reset_index(drop=True), notes=notes
        )


def _parse(rows: list[Any], coin: str, provider: str) -> tuple[pd.DataFrame, set[str]]:
    """Rows -> frame of ``snapshot`` (naive UTC midnight), ``supply``, ``market_cap``.

    Also returns the non-USD peg keys seen (``peggedEUR``, ...).
    """
    records: list[dict[str, Any]] = []
    other_pegs: set[str] = set()
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or "date" not in row:
            raise MalformedResponseError(
                f"row {i} is not an object with 'date'", provider=provider, symbol=coin
            )
        raw = row["date"]
        try:
            seconds = int(raw) if not isinstance(raw, bool) else None
        except (TypeError, ValueError):
            seconds = None
        if seconds is None or (isinstance(raw, float) and not raw.is_integer()) or seconds % _DAY_S:
            raise MalformedResponseError(
                f"row {i} date {raw!r} is not a UNIX time at 00:00 UTC",
                provider=provider,
                symbol=coin,
            )
        record: dict[str, Any] = {"snapshot": pd.Timestamp(seconds, unit="s")}
        for key, field in (("totalCirculating", "supply"), ("totalCirculatingUSD", "market_cap")):
            amounts = row.get(key)
            if amounts is None:
                record[field] = math.nan
                continue
            if not isinstance(amounts, dict):
                raise MalformedResponseError(
                    f"row {i} ({raw}) '{key}' is not an object of peg amounts",
                    provider=provider,
                    symbol=coin,
                )
            other_pegs.update(k for k in amounts if k != "peggedUSD")
            value = amounts.get("peggedUSD")
            if value is None:
                record[field] = math.nan
            elif isinstance(value, int | float) and not isinstance(value, bool):
                record[field] = float(value)
            else:
                raise MalformedResponseError(
                    f"row {i} ({raw}) {key}.peggedUSD={value!r} is not a number",
                    provider=provider,
                    symbol=coin,
                )
        records.append(record)
    frame = pd.DataFrame.from_records(records, columns=["snapshot", *_FIELDS])
    frame["snapshot"] = frame["snapshot"].astype("datetime64[ns]")
    return frame.sort_values("snapshot", kind="stable").reset_index(drop=True), other_pegs
