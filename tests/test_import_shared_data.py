"""Every file in ../shared/data imports, with counts and spot values checked against the raw files.

The expected numbers come from the raw files (read here with plain pandas)
and from SOURCES.md, never from the importer itself.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from rotation.sources.files import ImportSpec, read_table
from rotation.store import Store
from shared_data_imports import SHARED_IMPORTS, import_shared_data, shared_import_keys

pytestmark = pytest.mark.shared_data


def _raw(shared: Path, rel: str, **kwargs) -> pd.DataFrame:
    return pd.read_csv(shared / rel, **kwargs)


def _data_lines(path: Path) -> int:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        return sum(1 for _ in fh) - 1


@pytest.fixture(scope="module")
def imported(shared_data: Path, tmp_path_factory: pytest.TempPathFactory):
    store = Store(tmp_path_factory.mktemp("shared-import") / "rotation.duckdb")
    reports = import_shared_data(store, shared_data)
    yield store, reports
    store.close()


def _value(store: Store, symbol: str, source: str, day: str, field: str) -> float:
    obs = store.read_observations([symbol], sources=[source], start=day, end=day, fields=[field])
    assert len(obs) == 1, f"{symbol}/{source} has no row on {day}"
    return float(obs[field].iloc[0])


def test_mapping_covers_every_data_file(shared_data: Path) -> None:
    files = sorted(
        str(p.relative_to(shared_data))
        for p in shared_data.rglob("*")
        if p.is_file() and p.name != "SOURCES.md"
    )
    assert len(files) == 17
    assert sorted({rel for rel, _ in SHARED_IMPORTS}) == files
    keys = shared_import_keys()
    assert len(set(keys)) == len(keys) == len(SHARED_IMPORTS)


def test_rows_read_match_the_raw_files(imported, shared_data: Path) -> None:
    _, reports = imported
    for key, (rel, _) in zip(shared_import_keys(), SHARED_IMPORTS, strict=True):
        assert reports[key].rows_read == _data_lines(shared_data / rel), key


# row counts from SOURCES.md (files without blank values)
_WRITTEN = {
    "equities/adj_close_daily_long.csv.gz": ("observations", 87_370),
    "equities/ohlcv_daily_long.csv.gz": ("observations", 54_298),
    "indexes/us_indexes_yahoo_daily_long.csv": ("observations", 5_016),
    "indexes/vix_daily.csv": ("observations", 9_235),
    "indexes/sp500_fred_daily.csv": ("observations", 2_609 - 95),  # 95 blank holidays
    "macro/fred_series_long.csv.gz": ("macro", 137_125),
    "macro/dxy_ice_daily.csv": ("macro", 11_711),
    "crypto/binance_spot_daily_long.csv.gz": ("observations", 18_626),
    "crypto/bybit_usdt_perp_daily_long.csv.gz": ("observations", 16_789),
    "sp500/constituents_current.csv": ("instruments", 503),
    "sp500/membership_ticker_start_end.csv": ("membership", 1_230),
    "sp500/constituents_adj_close_daily_long.csv.gz": ("observations", 1_397_519),
    "sp500/market_cap_snapshot_approx_2026-03.csv": ("observations", 503 - 6),  # 6 blank caps
}


def test_rows_written_per_file(imported, shared_data: Path) -> None:
    _, reports = imported
    for key, (table, n) in _WRITTEN.items():
        assert dict(reports[key].rows) == {table: n}, key
    # CoinGecko: three specs split the 17,127 rows (BTC unshifted, ETH/SOL shifted,
    # stablecoins); the one row with a blank price (BTC, last day) still has a volume and is kept.
    cg = _raw(shared_data, "crypto/coingecko_daily_long.csv.gz")
    stable = cg["asset"].isin(["USDT", "USDC"])
    btc = cg["asset"] == "BTC"
    assert reports["crypto/coingecko_daily_long.csv.gz#1"].rows["observations"] == int(btc.sum())
    assert reports["crypto/coingecko_daily_long.csv.gz#2"].rows["observations"] == int(
        (~stable & ~btc).sum()
    )
    assert reports["crypto/coingecko_daily_long.csv.gz#3"].rows["observations"] == int(stable.sum())
    # Yahoo crypto: two specs split the rows by origin (the MiM0ulay segment is date-shifted)
    yc = _raw(shared_data, "crypto/yahoo_usd_daily_long.csv.gz")
    mim = yc["source"].str.startswith("MiM0ulay/")
    assert reports["crypto/yahoo_usd_daily_long.csv.gz#1"].rows["observations"] == int((~mim).sum())
    assert reports["crypto/yahoo_usd_daily_long.csv.gz#2"].rows["observations"] == int(mim.sum())
    shiller = _raw(shared_data, "indexes/sp500_shiller_monthly.csv")
    assert reports["indexes/sp500_shiller_monthly.csv"].rows["macro"] == int(
        shiller.drop(columns="date").notna().sum().sum()
    )
    changes = _raw(shared_data, "sp500/changes_since_2019.csv", keep_default_na=False)
    n_changes = sum(
        len([s for s in cell.split(",") if s.strip()])
        for col in ("add", "remove")
        for cell in changes[col]
    )
    assert reports["sp500/changes_since_2019.csv"].rows["index_changes"] == n_changes


def test_store_totals(imported) -> None:
    store, _ = imported
    cov = store.coverage()
    per_source = cov.groupby(["table", "source"])["rows"].sum().to_dict()
    # yahoo = equities adj close + constituents (minus their 40,666 shared rows) + indexes + crypto
    assert per_source[("observations", "yahoo")] == 87_370 + 1_397_519 - 40_666 + 5_016 + 20_294
    assert per_source[("observations", "coingecko")] == 17_127
    assert per_source[("macro", "fred")] == 137_125
    assert cov[(cov["table"] == "macro") & (cov["source"] == "fred")]["symbol"].nunique() == 31
    assert (
        cov[
            (cov["table"] == "observations")
            & (cov["source"] == "yahoo")
            & (cov["symbol"] == "NVDA")
        ]["rows"].item()
        == 2_911
    )


def test_yahoo_label_never_mixes_different_data(shared_data: Path) -> None:
    # the only symbols two "yahoo" files share are the equities in both adj-close files, with equal values
    eq = _raw(shared_data, "equities/adj_close_daily_long.csv.gz")
    sp = _raw(shared_data, "sp500/constituents_adj_close_daily_long.csv.gz")
    idx = _raw(shared_data, "indexes/us_indexes_yahoo_daily_long.csv")
    cr = _raw(shared_data, "crypto/yahoo_usd_daily_long.csv.gz")
    crypto = set(cr["asset"]) | {"RENDER"}
    assert not crypto & (set(eq["ticker"]) | set(sp["ticker"]) | {"SPX", "NDX_COMP", "DJI", "RUT"})
    both = eq.merge(sp, on=["date", "ticker"])
    assert len(both) == 40_666
    assert (both["adj_close_x"] == both["adj_close_y"]).all()
    assert set(idx["ticker"]) == {"^GSPC", "^IXIC", "^DJI", "^RUT"}


def test_spot_values_against_raw_files(imported, shared_data: Path) -> None:
    store, _ = imported
    eq = _raw(shared_data, "equities/adj_close_daily_long.csv.gz")
    nvda = eq[(eq["ticker"] == "NVDA") & (eq["date"] == "2024-06-03")]["adj_close"].item()
    assert _value(store, "NVDA", "yahoo", "2024-06-03", "adj_close") == nvda

    ohlcv = _raw(shared_data, "equities/ohlcv_daily_long.csv.gz")
    row = ohlcv[(ohlcv["ticker"] == "AMD") & (ohlcv["date"] == "2019-05-16")].iloc[0]
    for field in ("open", "high", "low", "close", "adj_close", "volume"):
        assert _value(store, "AMD", "yahoo_ohlcv", "2019-05-16", field) == row[field]

    # ETH: CoinGecko's 2024-01-02 00:00 UTC snapshot is stored as the close of 2024-01-01;
    # BTC's rows are already dated by their close and are stored as written.
    cg = _raw(shared_data, "crypto/coingecko_daily_long.csv.gz")
    eth = cg[(cg["asset"] == "ETH") & (cg["date"] == "2024-01-02")].iloc[0]
    assert _value(store, "ETH", "coingecko", "2024-01-01", "close") == eth["price_usd"]
    assert _value(store, "ETH", "coingecko", "2024-01-01", "market_cap") == eth["market_cap_usd"]
    btc = cg[(cg["asset"] == "BTC") & (cg["date"] == "2024-01-02")].iloc[0]
    assert _value(store, "BTC", "coingecko", "2024-01-02", "close") == btc["price_usd"]
    first = store.read_observations(["BTC"], sources=["coingecko"]).iloc[0]
    assert first["date"] == pd.Timestamp("2011-07-17") and first["close"] == 14.07
    assert pd.isna(first["market_cap"]) and pd.isna(first["volume_usd"])  # 0.0 = unknown

    usdt = store.read_observations(["USDT"], sources=["coingecko"]).dropna(subset=["market_cap"])
    assert len(usdt) > 3_000 and (usdt["supply"] == usdt["market_cap"]).all()
    assert store.read_observations(["BTC"], sources=["coingecko"])["supply"].isna().all()

    fred = _raw(shared_data, "macro/fred_series_long.csv.gz")
    dgs10 = fred[(fred["series"] == "DGS10") & (fred["date"] == "2024-06-03")]["value"].item()
    got = store.read_macro(["DGS10"], sources=["fred"], start="2024-06-03", end="2024-06-03")
    assert got["value"].item() == dgs10

    binance = _raw(shared_data, "crypto/binance_spot_daily_long.csv.gz")
    b = binance[(binance["symbol"] == "ETHUSDT") & (binance["date"] == "2023-03-01")].iloc[0]
    assert _value(store, "ETH", "binance", "2023-03-01", "volume_usd") == b["volume_quote_usdt"]
    assert _value(store, "ETH", "binance", "2023-03-01", "volume") == b["volume_base"]
    assert store.read_observations(["RENDER"], sources=["bybit_perp"])[
        "date"
    ].min() == pd.Timestamp("2024-07-26")
    # RNDR -> RENDER, MiM0ulay segment shifted -1 day (its first row is dated 2020-07-01)
    assert store.read_observations(["RENDER"], sources=["yahoo"])["date"].min() == pd.Timestamp(
        "2020-06-30"
    )

    vix = _raw(shared_data, "indexes/vix_daily.csv")
    assert (
        _value(store, "VIX", "cboe", "2020-03-16", "close")
        == vix[vix["date"] == "2020-03-16"]["close"].item()
    )
    spx_fred = _raw(shared_data, "indexes/sp500_fred_daily.csv")
    assert _value(store, "SPX", "fred", "2016-02-16", "close") == 1895.58
    assert spx_fred["sp500_close"].notna().sum() == len(
        store.read_observations(["SPX"], sources=["fred"])
    )
    assert len(store.read_observations(["SPX"], sources=["yahoo"])) == 1_254
    assert len(store.read_observations(["NDX_COMP"], sources=["yahoo"])) == 1_254

    snap = store.read_observations(["NVDA"], sources=["yahoo_snapshot"])
    assert (
        snap["date"].tolist() == [pd.Timestamp("2026-03-06")] and snap["market_cap"].item() > 1e12
    )

    shiller = store.read_macro(["SHILLER_PE10"], sources=["shiller"])
    assert shiller["date"].iloc[0] == pd.Timestamp("1881-01-01")
    assert store.read_macro(["SHILLER_SP500"])["date"].max() == pd.Timestamp("2026-06-01")
    dxy = store.read_macro(["DXY"], sources=["ice"])
    assert (dxy["date"].min(), dxy["value"].iloc[0]) == (pd.Timestamp("1980-01-02"), 85.32)


def test_instruments_index_membership_and_changes(imported) -> None:
    store, _ = imported
    inst = store.instruments().set_index("symbol")
    assert inst.loc["SPY", "asset_class"] == "etf"  # from the default universe, not overwritten
    assert inst.loc["DJI", "asset_class"] == "index"  # created by the index import
    assert (inst.loc["DJI", "sources"]) == {"file": "^DJI"}
    assert inst.loc["USDT", "asset_class"] == "stablecoin"
    assert inst.loc["A", "sector"] == "Health Care" and inst.loc["A", "asset_class"] == "equity"
    assert inst.loc["NVDA", "industry"] == "Semiconductors"
    assert inst.loc["SHILLER_CPI", "kind"] == "macro"
    members = store.read_membership("SP500")
    assert len(members) == 1_230 and members["end_date"].isna().sum() == 503
    changes = store.read_index_changes("SP500")
    day = changes[pd.to_datetime(changes["date"]) == pd.Timestamp("2023-10-18")]
    assert sorted(day.loc[day["action"] == "add", "symbol"]) == [
        "BLDR",
        "HUBB",
        "JBL",
        "LULU",
        "UBER",
    ]


def test_fetch_log_has_one_row_per_import(imported) -> None:
    store, reports = imported
    log = store.fetch_log(limit=None)
    assert len(log) >= len(reports)
    assert (log["status"] == "ok").all()
    vix = log[log["source"] == "cboe"].iloc[0]
    assert vix["symbol"] == "VIX" and vix["rows"] == 9_235


def _checksums(store: Store) -> dict[str, tuple]:
    obs_cols = "symbol, source, date, open, high, low, close, adj_close, volume, volume_usd, market_cap, supply"
    queries = {
        "observations": f"SELECT count(*), sum(hash({obs_cols})::HUGEINT) FROM observations",
        "macro": "SELECT count(*), sum(hash(symbol, source, date, value)::HUGEINT) FROM macro",
        "instruments": "SELECT count(*), sum(hash(symbol, kind, asset_class, name, sector, industry, sources)::HUGEINT)"
        " FROM instruments",
        "index_membership": "SELECT count(*), sum(hash(index_name, symbol, start_date, end_date)::HUGEINT)"
        " FROM index_membership",
        "index_changes": "SELECT count(*), sum(hash(index_name, date, symbol, action)::HUGEINT) FROM index_changes",
    }
    return {k: tuple(store._query(q).iloc[0].tolist()) for k, q in queries.items()}


def test_reimport_is_idempotent(imported, shared_data: Path) -> None:
    store, first = imported
    before = _checksums(store)
    n_log = len(store.fetch_log(limit=None))
    again = import_shared_data(store, shared_data)
    assert _checksums(store) == before
    assert {k: dict(r.rows) for k, r in again.items()} == {
        k: dict(r.rows) for k, r in first.items()
    }
    assert all(r.instruments_created == () for r in again.values())
    assert len(store.fetch_log(limit=None)) == n_log + len(SHARED_IMPORTS)


def test_large_file_parses_completely(shared_data: Path) -> None:
    # Its speed belongs in benchmarks/ (never asserted here); this checks that every row arrives.
    data = read_table(
        shared_data / "sp500/constituents_adj_close_daily_long.csv.gz",
        ImportSpec(symbol_column="ticker", columns={"adj_close": "adj_close"}),
    )
    assert len(data.observations) == 1_397_519
