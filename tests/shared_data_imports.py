"""How every file in ``../shared/data`` is imported (test code, not package code).

:data:`SHARED_IMPORTS` lists ``(relative path, ImportSpec)`` for all 17 data
files described in ``SOURCES.md``; :func:`import_shared_data` imports them, in
that order, into a store. Real-data tests elsewhere use it to build a session
store::

    from shared_data_imports import import_shared_data

    @pytest.fixture(scope="session")
    def real_store(shared_data, tmp_path_factory):
        store = Store(tmp_path_factory.mktemp("real") / "rotation.duckdb")
        import_shared_data(store, shared_data)
        return store

Source labels (the ``source`` column in the store) and why
----------------------------------------------------------
``yahoo``           Yahoo auto-adjusted closes: ``equities/adj_close`` and the S&P 500
                    constituents file (same repo, identical on the 16 overlapping
                    tickers), the ``^GSPC/^IXIC/^DJI/^RUT`` OHLCV and the ``*-USD``
                    crypto bars (Yahoo's crypto ``Volume`` is in USD: ``volume_usd``).
                    No symbol occurs in two of these files except the 16 identical
                    equity overlaps, so one label is safe (the test checks it).
``yahoo_ohlcv``     ``equities/ohlcv``: each row comes from one of three repos with a
                    different split-adjustment vintage (COIN/MSTR levels jump at the
                    source switch, MSTR is not split-adjusted before 2024-08). Under
                    ``yahoo`` its OHLC would be merged into the same (symbol, date)
                    rows as the dsturdy adjusted close, mixing vintages in one row;
                    its own label keeps every row internally consistent.
``yahoo_snapshot``  the one-date Yahoo ``marketCap`` snapshot (2026-03-06, inferred).
``coingecko``       CoinGecko "max" exports. ETH, SOL, USDT, USDC are raw 00:00-UTC
                    snapshots, dated -1 day (the previous day's close); BTC comes from a
                    re-export already dated by its close and is not shifted (checked
                    against Binance returns). Zero caps/volumes before 2013 mean unknown.
``binance``         Binance spot klines (``BTCUSDT`` -> ``BTC``; USDT quote volume
                    stored as ``volume_usd``).
``bybit_perp``      Bybit USDT-*perpetual* klines: futures, not spot, so not ``bybit``.
``cboe``            the CBOE VIX history (symbol ``VIX``).
``fred``            FRED: the SP500 level (as ``SPX`` close) and the 31 macro series.
``shiller``         Shiller's monthly S&P data as macro series ``SHILLER_*``.
``ice``             the ICE dollar index as macro series ``DXY`` (close).
``sp500_companies`` constituents metadata (name, GICS sector and sub-industry).
``fja05680``        S&P 500 membership spells and changes (index ``SP500``).

Stablecoins: CoinGecko's USDT/USDC ``market_cap_usd`` is stored both as
``market_cap`` and as ``supply`` (a stablecoin's USD cap is its supply in USD).
They get their own spec (``include``) so they are created as ``stablecoin``
instruments and the crypto assets are not given a ``supply``.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from rotation.sources.files import ImportSpec
from rotation.store import Store, register_universe
from rotation.store._import import ImportReport, import_file
from rotation.universe import load_universe

__all__ = ["SHARED_IMPORTS", "import_shared_data", "shared_import_keys"]

_OHLC = {"open": "open", "high": "high", "low": "low", "close": "close"}
_COINGECKO = {"close": "price_usd", "market_cap": "market_cap_usd", "volume_usd": "volume_usd"}
_STABLECOINS = ("USDT", "USDC")

#: Every data file of ``../shared/data`` with the spec that imports it, in import order
#: (instrument metadata first so that later imports do not have to create those rows).
SHARED_IMPORTS: list[tuple[str, ImportSpec]] = [
    (
        "sp500/constituents_current.csv",
        ImportSpec(
            kind="instruments",
            columns={"name": "security", "sector": "gics_sector", "industry": "gics_sub-industry"},
            asset_class="equity",
            source="sp500_companies",
        ),
    ),
    (
        "sp500/membership_ticker_start_end.csv",
        ImportSpec(
            kind="membership", symbol_column="ticker", index_name="SP500", source="fja05680"
        ),
    ),
    (
        "sp500/changes_since_2019.csv",
        ImportSpec(kind="index_changes", index_name="SP500", source="fja05680"),
    ),
    (
        "equities/adj_close_daily_long.csv.gz",
        ImportSpec(symbol_column="ticker", columns={"adj_close": "adj_close"}, source="yahoo"),
    ),
    (
        "equities/ohlcv_daily_long.csv.gz",
        ImportSpec(
            symbol_column="ticker",
            columns={**_OHLC, "adj_close": "adj_close", "volume": "volume"},
            source="yahoo_ohlcv",
        ),
    ),
    (
        "sp500/constituents_adj_close_daily_long.csv.gz",
        ImportSpec(
            symbol_column="ticker",
            columns={"adj_close": "adj_close"},
            source="yahoo",
            asset_class="equity",
        ),
    ),
    (
        "sp500/market_cap_snapshot_approx_2026-03.csv",
        ImportSpec(
            symbol_column="ticker",
            date_column="snapshot_date_estimated",
            columns={"market_cap": "market_cap_usd"},
            # the snapshot still uses Bank of New York Mellon's old ticker; its prices are under BNY
            symbol_map={"BK": "BNY"},
            source="yahoo_snapshot",
            asset_class="equity",
        ),
    ),
    (
        "indexes/us_indexes_yahoo_daily_long.csv",
        ImportSpec(
            symbol_column="ticker",
            columns={**_OHLC, "volume": "volume"},
            symbol_map={"^GSPC": "SPX", "^IXIC": "NDX_COMP", "^DJI": "DJI", "^RUT": "RUT"},
            source="yahoo",
            asset_class="index",
        ),
    ),
    (
        "indexes/vix_daily.csv",
        ImportSpec(symbol="VIX", columns=_OHLC, source="cboe", asset_class="index"),
    ),
    (
        "indexes/sp500_fred_daily.csv",
        ImportSpec(
            symbol="SPX", columns={"close": "sp500_close"}, source="fred", asset_class="index"
        ),
    ),
    (
        "indexes/sp500_shiller_monthly.csv",
        ImportSpec(
            kind="macro",
            layout="wide",
            symbol_map={
                "sp500": "SHILLER_SP500",
                "dividend": "SHILLER_DIVIDEND",
                "earnings": "SHILLER_EARNINGS",
                "consumer_price_index": "SHILLER_CPI",
                "long_interest_rate": "SHILLER_GS10",
                "real_price": "SHILLER_REAL_PRICE",
                "real_dividend": "SHILLER_REAL_DIVIDEND",
                "real_earnings": "SHILLER_REAL_EARNINGS",
                "pe10": "SHILLER_PE10",
            },
            source="shiller",
        ),
    ),
    (
        "macro/fred_series_long.csv.gz",
        ImportSpec(kind="macro", symbol_column="series", value_column="value", source="fred"),
    ),
    (
        "macro/dxy_ice_daily.csv",
        ImportSpec(kind="macro", symbol="DXY", value_column="close", source="ice"),
    ),
    (
        # BTC comes from a re-export already dated by its close (``event_date``): its daily
        # returns correlate 0.99 with Binance's unshifted and -0.03 shifted, so no shift.
        "crypto/coingecko_daily_long.csv.gz",
        ImportSpec(
            symbol_column="asset",
            columns=_COINGECKO,
            include=("BTC",),
            zero_as_missing=("market_cap", "volume_usd"),
            source="coingecko",
            asset_class="crypto",
        ),
    ),
    (
        # ETH and SOL are raw ``snapped_at`` exports (00:00 UTC = previous day's close): shift
        # -1 day (return correlation with Binance 0.97/0.997 shifted, -0.04 unshifted).
        "crypto/coingecko_daily_long.csv.gz",
        ImportSpec(
            symbol_column="asset",
            columns=_COINGECKO,
            exclude=(*_STABLECOINS, "BTC"),
            date_shift_days=-1,
            zero_as_missing=("market_cap", "volume_usd"),
            source="coingecko",
            asset_class="crypto",
        ),
    ),
    (
        "crypto/coingecko_daily_long.csv.gz",
        ImportSpec(
            symbol_column="asset",
            columns={**_COINGECKO, "supply": "market_cap_usd"},
            include=_STABLECOINS,
            date_shift_days=-1,
            zero_as_missing=("market_cap", "supply", "volume_usd"),
            source="coingecko",
            asset_class="stablecoin",
        ),
    ),
    (
        "crypto/binance_spot_daily_long.csv.gz",
        ImportSpec(
            columns={**_OHLC, "volume": "volume_base", "volume_usd": "volume_quote_usdt"},
            strip_suffix="USDT",
            source="binance",
            asset_class="crypto",
        ),
    ),
    (
        "crypto/bybit_usdt_perp_daily_long.csv.gz",
        ImportSpec(
            columns={**_OHLC, "volume": "volume_base", "volume_usd": "turnover_usdt"},
            strip_suffix="USDT",
            source="bybit_perp",
            asset_class="crypto",
        ),
    ),
    (
        "crypto/yahoo_usd_daily_long.csv.gz",
        ImportSpec(
            symbol_column="asset",
            # Yahoo's crypto "Volume" is in USD (BTC: ~5e10 a day), not in coins.
            columns={**_OHLC, "volume_usd": "volume"},
            symbol_map={"RNDR": "RENDER"},
            where=("source", r"^(?!MiM0ulay/)"),
            source="yahoo",
            asset_class="crypto",
        ),
    ),
    (
        # The MiM0ulay segment is dated one day late: its returns correlate 0.99 with
        # Binance's after a -1 day shift and about 0 unshifted (ETH, XRP, LINK, BNB);
        # the other segments line up unshifted.
        "crypto/yahoo_usd_daily_long.csv.gz",
        ImportSpec(
            symbol_column="asset",
            columns={**_OHLC, "volume_usd": "volume"},
            symbol_map={"RNDR": "RENDER"},
            where=("source", r"^MiM0ulay/"),
            date_shift_days=-1,
            source="yahoo",
            asset_class="crypto",
        ),
    ),
]


def shared_import_keys() -> list[str]:
    """Keys of :func:`import_shared_data`'s result, in import order.

    The relative path, with ``#1``, ``#2`` appended when a file is imported by
    several specs (CoinGecko: ``#1`` the crypto assets, ``#2`` the stablecoins).
    """
    counts = Counter(path for path, _ in SHARED_IMPORTS)
    seen: Counter[str] = Counter()
    keys = []
    for path, _ in SHARED_IMPORTS:
        seen[path] += 1
        keys.append(path if counts[path] == 1 else f"{path}#{seen[path]}")
    return keys


def import_shared_data(
    store: Store, data_dir: str | Path, *, register_default_universe: bool = True
) -> dict[str, ImportReport]:
    """Import every shared data file into ``store``.

    Parameters
    ----------
    store : Store
        Writable store (a fresh one for a session fixture).
    data_dir : path
        The ``shared/data`` folder (the ``shared_data`` fixture).
    register_default_universe : bool
        First write the default universe's instrument and macro metadata
        (asset classes, names), as ``rotation fetch`` does, so ETFs such as SPY
        are ``etf`` and not the import default ``equity``.

    Returns
    -------
    dict of str to ImportReport
        One report per import, keyed as :func:`shared_import_keys` says.

    Notes
    -----
    Deterministic: same files, same order, same store content. Takes a few
    seconds (1.8 million rows, most of them the S&P 500 constituents file).
    """
    data_dir = Path(data_dir)
    if register_default_universe:
        register_universe(store, load_universe())
    reports: dict[str, ImportReport] = {}
    for key, (rel, spec) in zip(shared_import_keys(), SHARED_IMPORTS, strict=True):
        reports[key] = import_file(store, data_dir / rel, spec)
    return reports
