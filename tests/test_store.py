"""Store: schema, upserts that keep stored columns, transactions, crash safety, reads."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rotation.errors import EmptyStoreError, StoreError
from rotation.store import SCHEMA_VERSION, Store


def obs(symbol: str, dates: list[str], **fields: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"symbol": symbol, "date": pd.to_datetime(dates), **fields})


def test_upsert_keeps_columns_the_frame_lacks() -> None:
    s = Store(":memory:")
    s.write_observations(obs("A", ["2024-01-02", "2024-01-03"], close=[1.0, 2.0], volume=[10.0, 20.0]), source="x")
    s.write_observations(obs("A", ["2024-01-03"], adj_close=[1.9]), source="x")
    s.write_observations(obs("A", ["2024-01-03"], close=[np.nan]), source="x")  # NaN never erases
    got = s.read_observations(["A"], fields=["close", "adj_close", "volume"])
    assert got["close"].tolist() == [1.0, 2.0]
    assert got["adj_close"].isna().tolist() == [True, False] and got["adj_close"].iloc[1] == 1.9
    assert got["volume"].tolist() == [10.0, 20.0]
    # revisions replace values
    s.write_observations(obs("A", ["2024-01-03"], close=[2.5]), source="x")
    assert s.read_observations(["A"], fields=["close"])["close"].tolist() == [1.0, 2.5]


def test_sources_are_kept_apart_and_filters_work() -> None:
    s = Store(":memory:")
    s.write_observations(obs("BTC", ["2024-01-01", "2024-01-02"], close=[1.0, 2.0]), source="coingecko")
    s.write_observations(obs("BTC", ["2024-01-02", "2024-01-03"], close=[2.1, 3.0]), source="binance")
    assert len(s.read_observations(["BTC"])) == 4
    assert s.read_observations(["BTC"], sources=["binance"])["close"].tolist() == [2.1, 3.0]
    assert s.read_observations(["BTC"], start="2024-01-02", end="2024-01-02")["source"].tolist() == [
        "binance", "coingecko"]
    assert str(s.last_date("BTC", "coingecko")) == "2024-01-02"
    assert s.last_date("ETH", "coingecko") is None
    cov = s.coverage()
    assert cov[["symbol", "source", "rows"]].values.tolist() == [["BTC", "binance", 2], ["BTC", "coingecko", 2]]


def test_transaction_rolls_back_everything() -> None:
    s = Store(":memory:")
    s.write_observations(obs("A", ["2024-01-02"], close=[1.0]), source="x")
    v = s.data_version()
    with pytest.raises(RuntimeError):
        with s.transaction():
            s.write_observations(obs("A", ["2024-01-03"], close=[2.0]), source="x")
            s.write_macro(pd.DataFrame({"symbol": ["DGS2"], "date": ["2024-01-02"], "value": [4.0]}), source="fred")
            s.log_fetch(source="x", symbol="A", start=None, end=None, rows=1, status="ok")
            raise RuntimeError("boom")
    assert len(s.read_observations()) == 1
    assert s.read_macro().empty and s.fetch_log().empty
    assert s.data_version() == v


def test_bad_frames_are_refused_with_reason() -> None:
    s = Store(":memory:")
    with pytest.raises(StoreError, match="unknown columns"):
        s.write_observations(obs("A", ["2024-01-02"], price=[1.0]), source="x")
    with pytest.raises(StoreError, match="share a key"):
        s.write_observations(obs("A", ["2024-01-02", "2024-01-02"], close=[1.0, 2.0]), source="x")
    with pytest.raises(StoreError, match="missing columns"):
        s.write_macro(pd.DataFrame({"symbol": ["X"], "date": ["2024-01-01"]}), source="fred")


def test_actions_membership_changes_and_instruments() -> None:
    s = Store(":memory:")
    s.write_actions(pd.DataFrame({"symbol": ["NVDA", "NVDA"], "date": ["2024-06-10", "2024-06-11"],
                                  "kind": ["split", "dividend"], "value": [10.0, 0.001]}), source="yahoo")
    assert s.read_actions(["NVDA"])["kind"].tolist() == ["split", "dividend"]
    s.write_membership(pd.DataFrame({"symbol": ["A", "B"], "start_date": ["2000-01-01", "2010-01-01"],
                                     "end_date": [None, "2020-01-01"]}), index_name="SP500", source="f")
    m = s.read_membership("SP500")
    assert m["symbol"].tolist() == ["A", "B"] and pd.isna(m["end_date"].iloc[0])
    s.write_index_changes(pd.DataFrame({"date": ["2020-01-01"], "symbol": ["B"], "action": ["remove"]}),
                          index_name="SP500", source="f")
    assert s.read_index_changes("SP500")["action"].tolist() == ["remove"]
    s.upsert_instruments([{"symbol": "A", "kind": "instrument", "asset_class": "equity", "sector": "Tech"}])
    s.upsert_instruments([{"symbol": "A", "kind": "instrument", "name": "Alpha"}])  # keeps sector
    row = s.instruments().set_index("symbol").loc["A"]
    assert (row["sector"], row["name"], row["asset_class"]) == ("Tech", "Alpha", "equity")


def test_read_only_and_schema_checks(tmp_path: Path) -> None:
    with pytest.raises(EmptyStoreError, match="fetch or import"):
        Store(tmp_path / "none.duckdb", read_only=True)
    path = tmp_path / "s.duckdb"
    with Store(path) as s:
        s.write_observations(obs("A", ["2024-01-02"], close=[1.0]), source="x")
    with Store(path, read_only=True) as ro:
        assert len(ro.read_observations()) == 1
        with pytest.raises(StoreError, match="read-only"):
            ro.write_observations(obs("A", ["2024-01-03"], close=[1.0]), source="x")
    import duckdb

    con = duckdb.connect(str(path))
    con.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    con.close()
    with pytest.raises(StoreError, match=f"schema version 999, this rotation expects {SCHEMA_VERSION}"):
        Store(path)


def test_kill_mid_transaction_leaves_store_as_before(tmp_path: Path) -> None:
    """A process killed inside a write transaction loses that write and nothing else."""
    path = tmp_path / "crash.duckdb"
    with Store(path) as s:
        s.write_observations(obs("A", ["2024-01-02"], close=[1.0]), source="x")
        before = s.read_observations()
    script = textwrap.dedent(
        f"""
        import os, pandas as pd
        from rotation.store import Store
        s = Store({str(path)!r})
        with s.transaction():
            s.write_observations(pd.DataFrame({{"symbol": ["A", "B"], "date": pd.to_datetime(["2024-01-03"] * 2),
                                               "close": [2.0, 3.0]}}), source="x")
            s.log_fetch(source="x", symbol="A", start=None, end=None, rows=2, status="ok")
            os._exit(9)  # killed before COMMIT
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 9, proc.stderr
    with Store(path) as s:
        pd.testing.assert_frame_equal(s.read_observations(), before)
        assert s.fetch_log().empty
        s.write_observations(obs("A", ["2024-01-03"], close=[2.0]), source="x")  # and it is writable again
        assert len(s.read_observations()) == 2


# ------------------------------------------------------------------------------ data version
def _version_on_file(s: Store) -> int:
    """The stored counter, read past the memo."""
    return int(s._con.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchall()[0][0])


def test_data_version_is_bumped_by_each_committed_write_of_every_kind(tmp_path: Path) -> None:
    path = tmp_path / "v.duckdb"
    s = Store(path)
    v = s.data_version()
    s.read_observations(), s.coverage(), s.instruments(), s.fetch_log(), s.read_macro()
    assert s.data_version() == v  # reads never bump
    writes = [
        lambda: s.write_observations(obs("A", ["2024-01-02"], close=[1.0]), source="x"),  # new key: plain insert
        lambda: s.write_observations(obs("A", ["2024-01-02"], close=[1.5]), source="x"),  # existing key: upsert
        lambda: s.write_macro(pd.DataFrame({"symbol": ["DGS2"], "date": ["2024-01-02"], "value": [4.0]}),
                              source="fred"),
        lambda: s.write_actions(pd.DataFrame({"symbol": ["A"], "date": ["2024-01-02"], "kind": ["split"],
                                              "value": [2.0]}), source="yahoo"),
        lambda: s.write_membership(pd.DataFrame({"symbol": ["A"], "start_date": ["2000-01-01"], "end_date": [None]}),
                                   index_name="SP500", source="f"),
        lambda: s.write_index_changes(pd.DataFrame({"date": ["2020-01-01"], "symbol": ["A"], "action": ["add"]}),
                                      index_name="SP500", source="f"),
        lambda: s.upsert_instruments([{"symbol": "A", "kind": "instrument", "asset_class": "equity"}]),
        lambda: s.log_fetch(source="x", symbol="A", start=None, end=None, rows=1, status="ok"),
    ]
    for i, write in enumerate(writes):
        write()
        assert s.data_version() == v + i + 1 == _version_on_file(s)
    with s.transaction():  # one outer transaction is one bump, whatever it holds
        writes[0]()
        writes[2]()
    assert s.data_version() == v + len(writes) + 1 == _version_on_file(s)
    s.close()
    with Store(path, read_only=True) as again:  # a second store on the file sees the committed version
        assert again.data_version() == v + len(writes) + 1


def test_data_version_is_unchanged_by_failed_writes() -> None:
    s = Store(":memory:")
    s.write_observations(obs("A", ["2024-01-02"], close=[1.0]), source="x")
    v = s.data_version()
    with pytest.raises(RuntimeError):
        with s.transaction():
            s.write_observations(obs("A", ["2024-01-03"], close=[2.0]), source="x")
            raise RuntimeError("boom")
    assert s.data_version() == v == _version_on_file(s)
    import duckdb

    s.write_membership(pd.DataFrame({"symbol": ["A"], "start_date": ["2000-01-01"], "end_date": [None]}),
                       index_name="SP500", source="f")
    v = s.data_version()
    twice = pd.DataFrame({"symbol": ["B", "B"], "start_date": ["2001-01-01"] * 2, "end_date": [None, None]})
    with pytest.raises(duckdb.ConstraintException):  # DuckDB refuses the key twice after the DELETE ran
        s.write_membership(twice, index_name="SP500", source="f")
    assert s.read_membership("SP500")["symbol"].tolist() == ["A"]  # the DELETE was rolled back too
    with pytest.raises(StoreError):  # refused before any SQL
        s.write_observations(obs("A", ["2024-01-02", "2024-01-02"], close=[1.0, 2.0]), source="x")
    assert s.data_version() == v == _version_on_file(s)
    assert len(s.read_observations()) == 1


# ------------------------------------------------------------------------- append fast path
def test_appends_insert_and_revisions_upsert_with_the_same_result() -> None:
    """New dates go in with a plain INSERT, any stored key is upserted, also inside one transaction."""
    s = Store(":memory:")
    s.write_observations(obs("A", ["2024-01-02", "2024-01-03"], close=[1.0, 2.0], volume=[5.0, 6.0]), source="x")
    s.write_observations(obs("B", ["2024-01-04"], close=[9.0]), source="x")  # appended after everything
    # A date before the latest stored one for another symbol, and a revision of a stored key with a NaN
    # that must keep the stored value: both take the upsert.
    s.write_observations(obs("A", ["2024-01-03", "2024-01-04"], close=[2.5, 3.0], volume=[np.nan, 7.0]), source="x")
    with s.transaction():
        s.write_observations(obs("A", ["2024-01-05"], close=[4.0]), source="x")  # insert ...
        s.write_observations(obs("A", ["2024-01-05"], close=[4.5]), source="x")  # ... then upsert it in the same tx
    got = s.read_observations(["A"], fields=["close", "volume"])
    assert got["close"].tolist() == [1.0, 2.5, 3.0, 4.5]
    assert got["volume"].tolist()[:3] == [5.0, 6.0, 7.0] and np.isnan(got["volume"].iloc[3])
    assert s.read_observations(["B"])["close"].tolist() == [9.0]


# ------------------------------------------------------------------------------ columnar read
def test_observation_arrays_hold_the_rows_of_read_observations() -> None:
    s = Store(":memory:")
    s.write_observations(obs("BTC", ["2024-01-01", "2024-01-02", "2024-01-03"], close=[1.0, np.nan, 3.0],
                             volume_usd=[10.0, 11.0, np.nan]), source="coingecko")
    s.write_observations(obs("BTC", ["2024-01-02", "2024-01-04"], close=[2.1, 4.0]), source="binance")
    s.write_observations(obs("ETH", ["2024-01-01"], close=[0.5]), source="binance")
    s.write_observations(obs("SOL", ["2024-01-05"], close=[7.0]), source="binance")
    fields = ["close", "volume_usd", "market_cap"]
    for symbols, end in ((None, None), (["BTC", "ETH", "NOPE"], None), (["BTC"], "2024-01-02"), ([], None)):
        arrays = s.read_observation_arrays(symbols, end=end, fields=fields)
        frame = s.read_observations(symbols, end=end, fields=fields)
        assert "market_cap" not in arrays.values  # NULL in every row: not transferred
        rebuilt = pd.DataFrame({
            "symbol": arrays.pairs["symbol"].to_numpy()[arrays.pair],
            "source": arrays.pairs["source"].to_numpy()[arrays.pair],
            "date": arrays.day.astype("datetime64[D]").astype("datetime64[ns]"),
            **{f: arrays.values.get(f, np.full(len(arrays), np.nan)) for f in fields},
        })
        rebuilt = rebuilt.sort_values(["symbol", "source", "date"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(rebuilt, frame, check_dtype=False, check_index_type=False)
        assert len(arrays) == len(frame)
    with pytest.raises(Exception, match="unknown fields"):
        s.read_observation_arrays(fields=["price"])
