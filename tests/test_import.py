"""``rotation import``: parsing (files.py), the all-or-nothing store write and the CLI.

Fixtures in ``tests/fixtures/import/`` are small hand-written files in real
wire formats (CoinGecko "max" export, FRED fredgraph.csv with ``.`` for
missing, a Yahoo download with ``Adj Close``). Gzip and Parquet variants are
generated from them per test.
"""

from __future__ import annotations

import gzip
import math
import re
import shutil
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from rotation.errors import ImportFileError, ParameterError, StoreError
from rotation.sources.files import ImportSpec, read_table
from rotation.store import Store
from rotation.store._import import import_file

pytestmark = pytest.mark.filterwarnings("error::pandas.errors.PerformanceWarning")


@pytest.fixture
def fx(fixtures_dir: Path) -> Path:
    return fixtures_dir / "import"


@pytest.fixture
def store() -> Store:
    with Store(":memory:") as s:
        yield s


def _obs(data, symbol: str, day: str) -> pd.Series:
    frame = data.observations
    row = frame[(frame["symbol"] == symbol) & (frame["date"] == pd.Timestamp(day))]
    assert len(row) == 1, f"expected one row for {symbol} {day}, got {len(row)}"
    return row.iloc[0]


# ----------------------------------------------------------------------------- long files
def test_long_default_mapping_uses_canonical_column_names(fx: Path) -> None:
    data = read_table(fx / "long_prices.csv")
    obs = data.observations
    assert list(obs.columns) == ["symbol", "date", "close", "volume"]
    assert obs["date"].dtype == "datetime64[ns]"
    assert obs["close"].dtype == "float64"
    assert obs[["symbol", "date"]].apply(tuple, axis=1).tolist() == [
        ("AAA", pd.Timestamp("2024-01-02")),
        ("AAA", pd.Timestamp("2024-01-03")),
        ("AAA", pd.Timestamp("2024-01-04")),
        ("BBB", pd.Timestamp("2024-01-02")),
        ("BBB", pd.Timestamp("2024-01-03")),
    ]
    # blank cells are NaN, the rest of the row is kept
    assert math.isnan(_obs(data, "AAA", "2024-01-03")["close"])
    assert _obs(data, "AAA", "2024-01-03")["volume"] == 1100
    assert math.isnan(_obs(data, "AAA", "2024-01-04")["volume"])
    # non-positive prices are data, not errors
    assert _obs(data, "BBB", "2024-01-02")["close"] == -0.5
    assert _obs(data, "BBB", "2024-01-03")["close"] == 0.0
    assert data.source == "long_prices"
    assert data.rows_read == 5
    assert any("exchange" in w for w in data.warnings)
    assert data.date_range == (date(2024, 1, 2), date(2024, 1, 4))


def test_yahoo_download_with_column_mapping(fx: Path) -> None:
    spec = ImportSpec(
        symbol="SPY",
        date_column="Date",
        columns={
            "open": "Open",
            "high": "High",
            "low": "Low",
            "close": "Close",
            "adj_close": "Adj Close",
            "volume": "Volume",
        },
        asset_class="etf",
        source="yahoo",
    )
    data = read_table(fx / "yahoo_download.csv", spec)
    row = _obs(data, "SPY", "2024-01-03")
    assert (
        row["open"],
        row["high"],
        row["low"],
        row["close"],
        row["adj_close"],
        row["volume"],
    ) == (
        474.85,
        485.00,
        470.00,
        475.69,
        475.66,
        320896000.0,
    )
    assert data.warnings == ()
    implied = data.implied_instruments.to_dict("records")
    assert implied == [
        {"symbol": "SPY", "kind": "instrument", "asset_class": "etf", "sources": {"file": "SPY"}}
    ]


def test_units_and_one_column_feeding_two_fields(fx: Path) -> None:
    spec = ImportSpec(
        symbol_column="ticker",
        columns={"market_cap": "mcap_bn", "supply": "shares_mn"},
        units={"market_cap": 1e9, "supply": 1e6},
    )
    data = read_table(fx / "caps_billions.csv", spec)
    row = _obs(data, "NVDA", "2024-03-06")
    assert row["market_cap"] == pytest.approx(2200.5e9)
    assert row["supply"] == pytest.approx(2500e6)
    spec2 = ImportSpec(
        symbol_column="ticker", columns={"market_cap": "mcap_bn", "close": "mcap_bn"}
    )
    row2 = _obs(read_table(fx / "caps_billions.csv", spec2), "MSFT", "2024-03-06")
    assert row2["market_cap"] == row2["close"] == 3000.25


def test_symbol_map_strip_suffix_and_filters(fx: Path) -> None:
    spec = ImportSpec(
        columns={"close": "close", "volume": "volume_base", "volume_usd": "volume_quote"},
        symbol_map={"RNDRUSDT": "RENDER"},
        strip_suffix="USDT",
        exclude=("ETH",),
        asset_class="crypto",
    )
    data = read_table(fx / "exchange_klines.csv", spec)
    assert data.symbols == ("BTC", "BTCDOWN", "RENDER")
    assert _obs(data, "RENDER", "2024-01-01")["close"] == 4.72
    assert _obs(data, "BTC", "2024-01-01")["volume_usd"] == 1169995156.32
    sources = dict(
        zip(data.implied_instruments["symbol"], data.implied_instruments["sources"], strict=True)
    )
    assert sources == {
        "BTC": {"file": "BTCUSDT"},
        "BTCDOWN": {"file": "BTCDOWN"},
        "RENDER": {"file": "RNDRUSDT"},
    }
    assert any("BTCDOWN" in w and "USDT" in w for w in data.warnings)  # no suffix: kept, said so
    assert any("1 row(s) of excluded symbols" in w for w in data.warnings)

    only = read_table(
        fx / "exchange_klines.csv",
        ImportSpec(columns={"close": "close"}, strip_suffix="USDT", include=("BTC", "DOGE")),
    )
    assert only.symbols == ("BTC",)
    assert any("DOGE" in w for w in only.warnings)


def test_coingecko_export_shift_format_and_zero_as_missing(fx: Path) -> None:
    spec = ImportSpec(
        symbol="BTC",
        date_column="snapped_at",
        date_format="%Y-%m-%d %H:%M:%S UTC",
        date_shift_days=-1,
        columns={"close": "price", "market_cap": "market_cap", "volume_usd": "total_volume"},
        zero_as_missing=("volume_usd",),
        source="coingecko",
    )
    data = read_table(fx / "coingecko_export.csv", spec)
    # the 2024-01-02 00:00 UTC snapshot is the close of 2024-01-01
    row = _obs(data, "BTC", "2024-01-01")
    assert row["close"] == 44187.51
    assert row["market_cap"] == 865646212366.3
    early = _obs(data, "BTC", "2013-04-27")
    assert early["close"] == 135.3
    assert math.isnan(early["volume_usd"])  # 0.0 meant "unknown"
    assert data.date_range == (date(2013, 4, 27), date(2024, 1, 1))
    assert any("2 zero volume_usd" in w for w in data.warnings)


def test_fred_graph_csv_dot_is_missing(fx: Path) -> None:
    spec = ImportSpec(
        kind="macro", symbol="DGS10", date_column="DATE", value_column="DGS10", source="fred"
    )
    data = read_table(fx / "fredgraph_dgs10.csv", spec)
    assert data.macro.to_dict("list") == {
        "symbol": ["DGS10", "DGS10"],
        "date": [pd.Timestamp("2024-01-02"), pd.Timestamp("2024-01-03")],
        "value": [3.95, 3.91],
    }
    assert any("1 row(s) without any value" in w for w in data.warnings)
    assert data.implied_instruments.iloc[0]["kind"] == "macro"


# ----------------------------------------------------------------------------- wide files
def test_wide_observations(fx: Path) -> None:
    spec = ImportSpec(layout="wide", field="close", strip_suffix="USDT", symbol_map={"CCC": "C3"})
    data = read_table(fx / "wide_close.csv", spec)
    obs = data.observations
    assert list(obs.columns) == ["symbol", "date", "close"]
    assert len(obs) == 6  # 9 cells, 3 blank
    assert data.symbols == ("AAA", "BBB", "C3")
    assert _obs(data, "BBB", "2024-01-04")["close"] == 3.5
    assert _obs(data, "C3", "2024-01-04")["close"] == 7.25
    assert any("3 blank cell(s)" in w for w in data.warnings)


def test_wide_macro(fx: Path) -> None:
    spec = ImportSpec(
        kind="macro", layout="wide", symbol_map={"sp500": "SHILLER_SP500", "pe10": "SHILLER_PE10"}
    )
    macro = read_table(fx / "wide_macro.csv", spec).macro
    assert macro.groupby("symbol").size().to_dict() == {"SHILLER_PE10": 1, "SHILLER_SP500": 3}
    pe = macro[macro["symbol"] == "SHILLER_PE10"].iloc[0]
    assert (pe["date"], pe["value"]) == (pd.Timestamp("1881-01-01"), 18.47)


def test_wide_two_columns_mapping_to_one_symbol_is_an_error(fx: Path) -> None:
    spec = ImportSpec(layout="wide", field="close", symbol_map={"AAA": "X", "CCC": "X"})
    with pytest.raises(ImportFileError, match="both map to symbol X"):
        read_table(fx / "wide_close.csv", spec)


# ----------------------------------------------------------------------------- formats
def test_gzip_and_parquet_give_the_same_frames(fx: Path, tmp_path: Path) -> None:
    plain = read_table(fx / "long_prices.csv").observations
    gz = tmp_path / "long_prices.csv.gz"
    with open(fx / "long_prices.csv", "rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    pd.testing.assert_frame_equal(read_table(gz).observations, plain)

    raw = pd.read_csv(fx / "long_prices.csv")
    pq_typed = tmp_path / "typed.parquet"
    raw.assign(date=pd.to_datetime(raw["date"])).to_parquet(pq_typed, engine="pyarrow")
    pd.testing.assert_frame_equal(read_table(pq_typed).observations, plain)
    pq_text = tmp_path / "text.parquet"
    raw.astype({"date": str}).to_parquet(pq_text, engine="pyarrow")
    pd.testing.assert_frame_equal(read_table(pq_text).observations, plain)
    assert read_table(pq_typed).source == "typed"


def test_parquet_errors_name_the_row(tmp_path: Path) -> None:
    path = tmp_path / "bad.parquet"
    pd.DataFrame(
        {"date": ["2024-01-02", "nope"], "symbol": ["A", "A"], "close": [1.0, 2.0]}
    ).to_parquet(path)
    with pytest.raises(ImportFileError) as err:
        read_table(path)
    assert err.value.column == "date" and "row 2" in str(err.value) and "'nope'" in str(err.value)


def test_tsv_epoch_milliseconds(tmp_path: Path) -> None:
    path = tmp_path / "klines.tsv"
    path.write_text(
        "open_time\tsymbol\tclose\n1704067200000\tBTCUSDT\t44179.55\n1704153600000\tBTCUSDT\t44946.91\n"
    )
    data = read_table(
        path, ImportSpec(date_column="open_time", date_format="unix_ms", strip_suffix="USDT")
    )
    assert data.observations["date"].tolist() == [
        pd.Timestamp("2024-01-01"),
        pd.Timestamp("2024-01-02"),
    ]


def test_mixed_utc_offsets_keep_the_written_date(tmp_path: Path) -> None:
    path = tmp_path / "dst.csv"
    path.write_text(
        "Date,Close\n2024-03-08 00:00:00-05:00,1\n2024-03-11 00:00:00-04:00,2\n2024-03-12 00:00:00+09:00,3\n"
    )
    data = read_table(path, ImportSpec(symbol="X", date_column="Date", columns={"close": "Close"}))
    assert data.observations["date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2024-03-08",
        "2024-03-11",
        "2024-03-12",
    ]


# ----------------------------------------------------------------------------- errors
def test_bad_date_names_file_line_and_column(fx: Path) -> None:
    with pytest.raises(ImportFileError) as err:
        read_table(fx / "bad_date_line4.csv")
    exc = err.value
    assert (exc.line, exc.column) == (4, "date")
    assert exc.file.endswith("bad_date_line4.csv")
    assert "'2024-13-45'" in str(exc) and "bad_date_line4.csv:4" in str(exc)


def test_dates_pandas_cannot_hold_are_refused_not_wrapped(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("symbol,start_date,end_date\nA,2000-01-01,\nB,2000-01-01,9999-12-31\n")
    with pytest.raises(ImportFileError, match="outside the supported range") as err:
        read_table(path, ImportSpec(kind="membership", index_name="X"))
    assert (err.value.line, err.value.column) == (3, "end_date")
    assert "leave end_date blank" in str(err.value)
    pq_path = tmp_path / "far.parquet"
    far = pd.to_datetime(["2024-01-02", "2500-01-01"]).as_unit("us")
    pd.DataFrame({"date": far, "symbol": ["A", "A"], "close": [1.0, 2.0]}).to_parquet(pq_path)
    with pytest.raises(ImportFileError, match="row 2: date outside"):
        read_table(pq_path)


def test_ambiguous_dates_are_refused_not_guessed(tmp_path: Path) -> None:
    path = tmp_path / "us_dates.csv"
    path.write_text("date,symbol,close\n01/02/2024,A,1\n")
    with pytest.raises(ImportFileError, match="ISO 8601"):
        read_table(path)
    data = read_table(path, ImportSpec(date_format="%m/%d/%Y"))
    assert data.observations["date"].iloc[0] == pd.Timestamp("2024-01-02")


def test_bad_number_line_counts_blank_lines(fx: Path) -> None:
    with pytest.raises(ImportFileError) as err:
        read_table(fx / "bad_number.csv")
    assert (err.value.line, err.value.column) == (4, "close")
    assert "'1,100.5'" in str(err.value)


def test_unknown_column_lists_the_columns_present(fx: Path) -> None:
    with pytest.raises(ImportFileError) as err:
        read_table(fx / "long_prices.csv", ImportSpec(columns={"close": "price_usd"}))
    msg = str(err.value)
    assert err.value.column == "price_usd"
    assert "long_prices.csv" in msg and "'date', 'symbol', 'close', 'volume', 'exchange'" in msg
    with pytest.raises(ImportFileError, match="symbol column not found") as err2:
        read_table(fx / "caps_billions.csv", ImportSpec(columns={"market_cap": "mcap_bn"}))
    assert err2.value.column == "symbol"


def test_no_value_columns_is_an_error(fx: Path) -> None:
    with pytest.raises(ImportFileError, match="no column is named like"):
        read_table(fx / "caps_billions.csv", ImportSpec(symbol_column="ticker"))


def test_duplicate_rows_name_the_first_duplicates_lines(fx: Path) -> None:
    with pytest.raises(ImportFileError) as err:
        read_table(fx / "duplicates.csv")
    msg = str(err.value)
    assert "(AAA, 2024-01-03)" in msg and "line 3 and line 5" in msg
    assert "2 row(s) repeat" in msg


def test_duplicates_created_by_symbol_mapping(fx: Path) -> None:
    spec = ImportSpec(columns={"close": "close"}, symbol_map={"BTCUSDT": "X", "ETHUSDT": "X"})
    with pytest.raises(ImportFileError, match=r"\(X, 2024-01-01\) on line 2 and line 3"):
        read_table(fx / "exchange_klines.csv", spec)


def test_blank_symbol_and_blank_date(tmp_path: Path) -> None:
    path = tmp_path / "blanks.csv"
    path.write_text("date,symbol,close\n2024-01-02,A,1\n2024-01-03, ,2\n")
    with pytest.raises(ImportFileError, match="blank symbol") as err:
        read_table(path)
    assert err.value.line == 3
    path.write_text("date,symbol,close\n2024-01-02,A,1\n,A,2\n")
    with pytest.raises(ImportFileError, match="blank date") as err:
        read_table(path)
    assert err.value.line == 3


def test_file_level_errors(tmp_path: Path, fx: Path) -> None:
    with pytest.raises(ImportFileError, match="no such file"):
        read_table(tmp_path / "missing.csv")
    (tmp_path / "data.xlsx").write_bytes(b"PK")
    with pytest.raises(ImportFileError, match="unsupported file type"):
        read_table(tmp_path / "data.xlsx")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ImportFileError, match="empty"):
        read_table(tmp_path / "empty.csv")
    (tmp_path / "dupcol.csv").write_text("date,symbol,close,close\n2024-01-02,A,1,2\n")
    with pytest.raises(ImportFileError, match="more than once") as err:
        read_table(tmp_path / "dupcol.csv")
    assert (err.value.line, err.value.column) == (1, "close")
    (tmp_path / "fake.parquet").write_text("not parquet")
    with pytest.raises(ImportFileError, match="Parquet"):
        read_table(tmp_path / "fake.parquet")


def test_header_only_file_is_empty_not_an_error(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "header.csv"
    path.write_text("date,symbol,close\n")
    report = import_file(store, path)
    assert report.rows == {"observations": 0} and report.symbols == ()
    assert store.fetch_log().iloc[0]["status"] == "empty"


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"kind": "prices"}, "kind"),
        ({"layout": "tall"}, "layout"),
        ({"layout": "wide"}, "field"),
        ({"layout": "wide", "field": "price"}, "field"),
        ({"field": "close"}, "field"),
        ({"columns": {"price": "x"}}, "columns"),
        ({"kind": "macro", "columns": {"value": "x"}}, "columns"),
        ({"symbol": "X", "symbol_column": "ticker"}, "symbol"),
        ({"symbol": "X", "strip_suffix": "USDT"}, "symbol"),
        ({"units": {"close": 0}}, "units"),
        ({"units": {"price": 2.0}}, "units"),
        ({"zero_as_missing": ("name",), "kind": "instruments"}, "zero_as_missing"),
        ({"kind": "membership"}, "index_name"),
        ({"index_name": "SP500"}, "index_name"),
        ({"kind": "instruments", "date_shift_days": 1}, "date_shift_days"),
        ({"asset_class": "bond"}, "asset_class"),
        ({"value_column": "v"}, "value_column"),
        ({"layout": "wide", "kind": "instruments"}, "layout"),
        ({"date_shift_days": 1.5}, "date_shift_days"),
        ({"kind": "index_changes", "index_name": "X", "symbol_column": "s"}, "symbol_column"),
        ({"kind": "membership", "index_name": "X", "exclude": ("A",)}, "include"),
    ],
)
def test_inconsistent_spec_is_a_parameter_error(kwargs: dict, parameter: str) -> None:
    with pytest.raises(ParameterError) as err:
        ImportSpec(**kwargs)
    assert err.value.parameter == parameter


def test_spec_is_immutable() -> None:
    spec = ImportSpec(columns={"close": "c"}, include=["A"])
    assert spec.include == ("A",)
    with pytest.raises(TypeError):
        spec.columns["open"] = "o"  # type: ignore[index]
    with pytest.raises(AttributeError):
        spec.kind = "macro"  # type: ignore[misc]


# ----------------------------------------------------------------------------- other kinds
def test_instruments_kind_upserts_metadata(fx: Path, store: Store) -> None:
    store.upsert_instruments(
        [
            {
                "symbol": "NVDA",
                "kind": "instrument",
                "asset_class": "equity",
                "currency": "USD",
                "sources": {"yahoo": "NVDA"},
            }
        ]
    )
    spec = ImportSpec(
        kind="instruments",
        columns={"name": "security", "sector": "gics_sector", "industry": "gics_sub-industry"},
    )
    report = import_file(store, fx / "instruments.csv", spec)
    assert report.rows == {"instruments": 2}
    assert report.instruments_created == ("ZZZZ",)
    inst = store.instruments().set_index("symbol")
    assert (
        inst.loc["NVDA", "name"] == "Nvidia"
        and inst.loc["NVDA", "sector"] == "Information Technology"
    )
    assert inst.loc["NVDA", "sources"] == {"yahoo": "NVDA"}  # kept
    assert inst.loc["NVDA", "currency"] == "USD"
    assert inst.loc["ZZZZ", "asset_class"] == "equity"  # default for new rows
    assert pd.isna(inst.loc["ZZZZ", "industry"])  # blank cell


def test_membership_kind(fx: Path, store: Store) -> None:
    spec = ImportSpec(kind="membership", symbol_column="ticker", index_name="SP500")
    report = import_file(store, fx / "membership.csv", spec)
    assert report.rows == {"membership": 3}
    assert (report.start, report.end) == (date(1996, 1, 2), date(2024, 9, 23))
    got = store.read_membership("SP500")
    assert got["symbol"].tolist() == ["AAL", "AAL", "NVDA"]
    assert pd.isna(got.loc[2, "end_date"])
    assert pd.Timestamp(got.loc[1, "start_date"]) == pd.Timestamp("2015-03-23")


def test_empty_membership_file_does_not_wipe_the_index(
    fx: Path, store: Store, tmp_path: Path
) -> None:
    spec = ImportSpec(kind="membership", symbol_column="ticker", index_name="SP500")
    import_file(store, fx / "membership.csv", spec)
    empty = tmp_path / "empty_membership.csv"
    empty.write_text("ticker,start_date,end_date\n")
    assert import_file(store, empty, spec).rows == {"membership": 0}
    assert len(store.read_membership("SP500")) == 3


def test_membership_ending_before_start_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("symbol,start_date,end_date\nA,2020-01-01,2019-01-01\n")
    with pytest.raises(ImportFileError, match="ends before it starts") as err:
        read_table(path, ImportSpec(kind="membership", index_name="X"))
    assert (err.value.line, err.value.column) == (2, "end_date")


def test_index_changes_kind_splits_multi_symbol_cells(fx: Path, store: Store) -> None:
    report = import_file(
        store, fx / "changes.csv", ImportSpec(kind="index_changes", index_name="SP500")
    )
    assert report.rows == {"index_changes": 6}
    assert any("1 row(s) add and remove nothing" in w for w in report.warnings)
    got = store.read_index_changes("SP500")
    first = got[pd.to_datetime(got["date"]) == pd.Timestamp("2019-06-03")]
    assert sorted(zip(first["symbol"], first["action"], strict=True)) == [
        ("CTVA", "add"),
        ("DD", "add"),
        ("DWDP", "remove"),
        ("FLR", "remove"),
    ]
    assert got.loc[
        pd.to_datetime(got["date"]) == pd.Timestamp("2024-10-01"), "action"
    ].tolist() == ["remove"]


# ----------------------------------------------------------------------------- store writes
def test_import_file_writes_rows_instruments_and_log(fx: Path, store: Store) -> None:
    store.upsert_instruments([{"symbol": "AAA", "kind": "instrument", "asset_class": "etf"}])
    report = import_file(
        store, fx / "long_prices.csv", ImportSpec(source="mine", asset_class="crypto")
    )
    assert report.rows == {"observations": 5} and report.total_rows == 5
    assert report.instruments_created == ("BBB",)
    inst = store.instruments().set_index("symbol")
    assert inst.loc["AAA", "asset_class"] == "etf"  # known instrument untouched
    assert inst.loc["BBB", "asset_class"] == "crypto"
    assert inst.loc["BBB", "sources"] == {"file": "BBB"}
    stored = store.read_observations(["AAA"], sources=["mine"])
    assert stored["close"].iloc[0] == 10.5 and math.isnan(stored["close"].iloc[1])
    log = store.fetch_log().iloc[0]
    assert (log["source"], log["symbol"], log["rows"], log["status"]) == ("mine", None, 5, "ok")
    assert (pd.Timestamp(log["start_date"]), pd.Timestamp(log["end_date"])) == (
        pd.Timestamp("2024-01-02"),
        pd.Timestamp("2024-01-04"),
    )
    assert "long_prices.csv" in log["message"]


def test_single_symbol_import_logs_the_symbol_and_macro_kind(fx: Path, store: Store) -> None:
    spec = ImportSpec(
        kind="macro", symbol="DGS10", date_column="DATE", value_column="DGS10", source="fred"
    )
    import_file(store, fx / "fredgraph_dgs10.csv", spec)
    assert store.fetch_log().iloc[0]["symbol"] == "DGS10"
    assert store.read_macro(["DGS10"])["value"].tolist() == [3.95, 3.91]
    inst = store.instruments().set_index("symbol")
    assert inst.loc["DGS10", "kind"] == "macro" and pd.isna(inst.loc["DGS10", "asset_class"])


def test_reimport_is_idempotent(fx: Path, store: Store) -> None:
    first = import_file(store, fx / "long_prices.csv")
    before = store.read_observations()
    second = import_file(store, fx / "long_prices.csv")
    pd.testing.assert_frame_equal(store.read_observations(), before)
    assert first.rows == second.rows and second.instruments_created == ()
    assert len(store.instruments()) == 2


def _snapshot(store: Store) -> tuple:
    return (
        store.data_version(),
        store.read_observations().to_json(date_format="iso"),
        store.read_macro().to_json(date_format="iso"),
        store.instruments().drop(columns="updated_at").to_json(date_format="iso"),
        len(store.fetch_log(limit=None)),
    )


def test_failed_write_leaves_the_store_exactly_as_before(
    fx: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_file(
        store,
        fx / "fredgraph_dgs10.csv",
        ImportSpec(kind="macro", symbol="DGS10", date_column="DATE", value_column="DGS10"),
    )
    before = _snapshot(store)
    original = Store.write_observations

    def write_then_fail(self: Store, frame: pd.DataFrame, *, source: str) -> int:
        n = original(self, frame, source=source)
        assert n == 5  # the rows were written inside the transaction ...
        raise RuntimeError("disk on fire")  # ... and then the import fails

    monkeypatch.setattr(Store, "write_observations", write_then_fail)
    with pytest.raises(RuntimeError, match="disk on fire"):
        import_file(store, fx / "long_prices.csv")
    assert _snapshot(store) == before  # no rows, no new instruments, no log row, same version

    monkeypatch.undo()

    def macro_fails(self: Store, frame: pd.DataFrame, *, source: str) -> int:
        raise duckdb.IOException("write failed half-way")

    monkeypatch.setattr(Store, "write_macro", macro_fails)
    with pytest.raises(StoreError, match="rolled back"):
        import_file(store, fx / "wide_macro.csv", ImportSpec(kind="macro", layout="wide"))
    assert _snapshot(store) == before


def test_failing_fetch_log_rolls_back_the_rows(
    fx: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _snapshot(store)

    def boom(self: Store, **kwargs: object) -> None:
        raise duckdb.ConstraintException("log refused")

    monkeypatch.setattr(Store, "log_fetch", boom)
    with pytest.raises(StoreError):
        import_file(store, fx / "long_prices.csv")
    assert _snapshot(store) == before


def test_parse_errors_never_touch_the_store(fx: Path, store: Store) -> None:
    before = _snapshot(store)
    with pytest.raises(ImportFileError):
        import_file(store, fx / "duplicates.csv")
    assert _snapshot(store) == before


def test_large_long_file_is_vectorised(tmp_path: Path) -> None:
    """200k rows x 3 fields parse well under a second or two (no Python row loops)."""
    days = pd.bdate_range("2000-01-03", periods=2000)
    syms = [f"S{i:03d}" for i in range(100)]
    frame = pd.DataFrame(
        {
            "date": np.tile(days.strftime("%Y-%m-%d"), len(syms)),
            "ticker": np.repeat(syms, len(days)),
            "adj_close": np.round(np.linspace(1, 500, len(days) * len(syms)), 4),
        }
    )
    path = tmp_path / "big.csv.gz"
    frame.to_csv(path, index=False)
    data = read_table(path, ImportSpec(symbol_column="ticker"))
    assert len(data.observations) == 200_000
    assert data.observations["adj_close"].iloc[-1] == 500.0


# ----------------------------------------------------------------------------- CLI
@pytest.fixture
def cli() -> typer.Typer:
    try:
        from rotation.cli import app
    except ImportError:  # other command modules not landed yet: test ours alone
        app = typer.Typer()

        @app.callback()
        def _root() -> None:
            """test root (keeps 'import' a subcommand)"""

        from rotation.cli._import import register

        register(app)
    return app


def _run(app: typer.Typer, *args: str):
    return CliRunner().invoke(app, ["import", *args])


def test_cli_imports_and_prints_a_summary(cli: typer.Typer, fx: Path, tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    result = _run(
        cli,
        str(fx / "exchange_klines.csv"),
        "--store",
        str(db),
        "--field",
        "close",
        "--field",
        "volume=volume_base",
        "--field",
        "volume_usd=volume_quote",
        "--strip-suffix",
        "USDT",
        "--symbol-map",
        "RNDRUSDT=RENDER",
        "--exclude",
        "BTCDOWN,ETH",
        "--source",
        "binance",
        "--asset-class",
        "crypto",
    )
    assert result.exit_code == 0, result.output
    assert "observations written" in result.stdout and "BTC, RENDER" in result.stdout
    with Store(db, read_only=True) as s:
        obs = s.read_observations(sources=["binance"])
        assert obs["symbol"].tolist() == ["BTC", "RENDER"]
        assert obs["volume"].tolist() == [27174.29, 1843201.1]
        assert s.instruments().set_index("symbol").loc["RENDER", "asset_class"] == "crypto"


def test_cli_wide_units_date_shift_and_kinds(cli: typer.Typer, fx: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "s.duckdb")
    r1 = _run(
        cli,
        str(fx / "wide_close.csv"),
        "--layout",
        "wide",
        "--field",
        "close",
        "--strip-suffix",
        "USDT",
        "--store",
        db,
    )
    assert r1.exit_code == 0, r1.output
    r2 = _run(
        cli,
        str(fx / "coingecko_export.csv"),
        "--symbol",
        "BTC",
        "--date-col",
        "snapped_at",
        "--date-format",
        "%Y-%m-%d %H:%M:%S UTC",
        "--date-shift",
        "-1",
        "--field",
        "close=price",
        "--field",
        "market_cap=market_cap",
        "--units",
        "market_cap=1e-9",
        "--zero-as-missing",
        "market_cap",
        "--source",
        "coingecko",
        "--store",
        db,
    )
    assert r2.exit_code == 0, r2.output
    r3 = _run(
        cli,
        str(fx / "membership.csv"),
        "--kind",
        "membership",
        "--symbol-col",
        "ticker",
        "--index-name",
        "SP500",
        "--store",
        db,
    )
    assert r3.exit_code == 0, r3.output
    r4 = _run(
        cli,
        str(fx / "fredgraph_dgs10.csv"),
        "--kind",
        "macro",
        "--symbol",
        "DGS10",
        "--date-col",
        "DATE",
        "--value-col",
        "DGS10",
        "--store",
        db,
    )
    assert r4.exit_code == 0, r4.output
    with Store(db, read_only=True) as s:
        assert len(s.read_observations(sources=["wide_close"])) == 6
        btc = s.read_observations(["BTC"], sources=["coingecko"]).set_index("date")
        assert btc.loc[pd.Timestamp("2024-01-01"), "market_cap"] == pytest.approx(865.6462123663)
        assert len(s.read_membership("SP500")) == 3
        assert s.read_macro(["DGS10"], sources=["fredgraph_dgs10"])["value"].tolist() == [
            3.95,
            3.91,
        ]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["bad_date_line4.csv"], "bad_date_line4.csv:4 column 'date'"),
        (["long_prices.csv", "--field", "close=price_usd"], "column 'price_usd'"),
        (["duplicates.csv"], "duplicate"),
        (["long_prices.csv", "--field", "close="], "--field: expected KEY=VALUE"),
        (["long_prices.csv", "--units", "close=lots"], "is not a number"),
        (["long_prices.csv", "--kind", "prices"], "kind: must be one of"),
        (["missing.csv"], "no such file"),
    ],
)
def test_cli_errors_are_one_line_with_exit_code_2(
    cli: typer.Typer, fx: Path, tmp_path: Path, args: list[str], needle: str
) -> None:
    result = _run(cli, str(fx / args[0]), *args[1:], "--store", str(tmp_path / "s.duckdb"))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert needle in result.stderr
    assert len([ln for ln in result.stderr.splitlines() if ln.strip()]) == 1
    assert re.match(r"^error: ", result.stderr)


def test_where_keeps_rows_of_one_origin_and_shifts_only_them(tmp_path, fixtures_dir) -> None:
    from typer.testing import CliRunner

    from rotation.cli import app
    from rotation.errors import ParameterError
    from rotation.sources.files import ImportSpec, read_table
    from rotation.store import Store, import_file

    path = fixtures_dir / "import" / "spliced_origins.csv"
    a = read_table(path, ImportSpec(symbol_column="asset", where=("source", "^vendorA/"), date_shift_days=-1))
    assert a.observations["date"].dt.strftime("%Y-%m-%d").tolist() == ["2023-12-31", "2024-01-01"]
    assert any("not matching where" in w for w in a.warnings)
    b = read_table(path, ImportSpec(symbol_column="asset", where=("source", "^(?!vendorA/)")))
    assert b.observations["close"].tolist() == [2400.0, 2450.0]
    with pytest.raises(ParameterError, match="invalid regular expression"):
        ImportSpec(symbol_column="asset", where=("source", "("))
    with pytest.raises(ImportFileError, match="'where' names a column"):
        read_table(path, ImportSpec(symbol_column="asset", where=("vendor", "x")))
    store_path = tmp_path / "s.duckdb"
    res = CliRunner().invoke(app, ["import", str(path), "--symbol-col", "asset", "--where", "source=^vendorB/",
                                   "--store", str(store_path)])
    assert res.exit_code == 0, res.output
    with Store(store_path, read_only=True) as s:
        assert s.read_observations(["ETH"])["close"].tolist() == [2400.0, 2450.0]
    res = CliRunner().invoke(app, ["import", str(path), "--symbol-col", "asset", "--where", "source",
                                   "--store", str(store_path)])
    assert res.exit_code == 2 and "--where: expected COLUMN=REGEX" in res.output
    assert import_file  # re-exported from rotation.store
