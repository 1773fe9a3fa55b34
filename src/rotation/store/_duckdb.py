"""The embedded store: one DuckDB file.

Tables
------
``instruments``       what is known about each symbol (class, currency, sector, units)
``observations``      daily rows per (symbol, source, date): OHLC, adj close, volume,
                      dollar volume, market cap, supply
``macro``             macro values per (symbol, source, date) in native units
``actions``           splits and dividends per (symbol, source, date, kind)
``index_membership``  point-in-time index membership spells
``index_changes``     index additions and removals
``fetch_log``         every fetch or import: source, symbol, range, rows, time, status
``meta``              schema version and a data version bumped by every committed write

Every write is one transaction: a failure or a kill in the middle leaves the
file as it was before the write (DuckDB's write-ahead log is replayed or
discarded on the next open). Rows are upserted on their key; a column absent
from the incoming frame (or NaN in it) keeps its stored value, so importing
adjusted closes does not erase stored OHLC for the same source.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal, overload

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from rotation._frames import OBSERVATION_FIELDS, validate_frame
from rotation.errors import EmptyStoreError, ParameterError, StoreError

__all__ = ["SCHEMA_VERSION", "ObservationArrays", "Store"]

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS instruments (
    symbol VARCHAR PRIMARY KEY,
    kind VARCHAR NOT NULL,              -- 'instrument' or 'macro'
    asset_class VARCHAR,
    currency VARCHAR,
    name VARCHAR,
    units VARCHAR,
    frequency VARCHAR,
    sector VARCHAR,
    industry VARCHAR,
    sources VARCHAR,                    -- JSON object provider -> provider symbol
    updated_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS observations (
    symbol VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    date DATE NOT NULL,
    open DOUBLE, high DOUBLE, low DOUBLE, close DOUBLE, adj_close DOUBLE,
    volume DOUBLE, volume_usd DOUBLE, market_cap DOUBLE, supply DOUBLE,
    PRIMARY KEY (symbol, source, date)
);
CREATE TABLE IF NOT EXISTS macro (
    symbol VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    date DATE NOT NULL,
    value DOUBLE,
    PRIMARY KEY (symbol, source, date)
);
CREATE TABLE IF NOT EXISTS actions (
    symbol VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    date DATE NOT NULL,
    kind VARCHAR NOT NULL,
    value DOUBLE,
    PRIMARY KEY (symbol, source, date, kind)
);
CREATE TABLE IF NOT EXISTS index_membership (
    index_name VARCHAR NOT NULL,
    symbol VARCHAR NOT NULL,
    start_date DATE NOT NULL,
    end_date DATE,
    source VARCHAR,
    PRIMARY KEY (index_name, symbol, start_date)
);
CREATE TABLE IF NOT EXISTS index_changes (
    index_name VARCHAR NOT NULL,
    date DATE NOT NULL,
    symbol VARCHAR NOT NULL,
    action VARCHAR NOT NULL,            -- 'add' or 'remove'
    source VARCHAR,
    PRIMARY KEY (index_name, date, symbol, action)
);
CREATE SEQUENCE IF NOT EXISTS fetch_log_id START 1;
CREATE TABLE IF NOT EXISTS fetch_log (
    id BIGINT PRIMARY KEY DEFAULT nextval('fetch_log_id'),
    source VARCHAR NOT NULL,
    symbol VARCHAR,
    start_date DATE,
    end_date DATE,
    rows BIGINT,
    fetched_at TIMESTAMP NOT NULL,
    status VARCHAR NOT NULL,            -- 'ok', 'empty' or 'failed'
    message VARCHAR
);
"""

_INSTRUMENT_COLUMNS = (
    "symbol",
    "kind",
    "asset_class",
    "currency",
    "name",
    "units",
    "frequency",
    "sector",
    "industry",
    "sources",
)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class ObservationArrays:
    """Stored observation rows as parallel NumPy columns (see :meth:`Store.read_observation_arrays`).

    R rows in storage order (not sorted); P stored (symbol, source) pairs.

    Attributes
    ----------
    pairs : DataFrame (P, 2)
        ``symbol, source`` of every stored pair that has a row; row *p* is pair code *p*.
    pair : ndarray of int32 (R,)
        Pair code of each row (a position in ``pairs``).
    day : ndarray of int32 (R,)
        Row date as days since 1970-01-01.
    values : dict of str to ndarray of float64 (R,)
        One entry per requested field that holds at least one value among the rows;
        NaN where the stored value is NULL. A requested field absent from the dict
        is NULL in every row.

    The arrays may be read-only views of the fetched Arrow buffers.
    """

    pairs: pd.DataFrame
    pair: np.ndarray
    day: np.ndarray
    values: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.pair)


class Store:
    """A rotation store in one DuckDB file.

    Parameters
    ----------
    path : path-like or ``":memory:"``
        The database file; parent folders are created. ``":memory:"`` gives a
        throw-away store (tests, notebooks).
    read_only : bool
        Open without write access (several readers may share a file).

    Notes
    -----
    A ``Store`` is a context manager; close it to release the file lock.
    One connection is shared by the methods of an instance and guarded by a
    lock, so an instance may be used from several threads of one process.
    DuckDB lets either one process open a file read-write or several processes
    open it read-only, never a writer beside a connection in another process
    (https://duckdb.org/docs/2.0/connect/concurrency, enforced with file locks);
    :meth:`data_version` relies on that.
    """

    def __init__(self, path: str | os.PathLike[str], *, read_only: bool = False) -> None:
        self.path = str(path)
        self.read_only = read_only
        self._lock = threading.RLock()
        if self.path != ":memory:":
            if read_only and not Path(self.path).exists():
                raise EmptyStoreError(f"no store at {self.path}: fetch or import data first")
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = duckdb.connect(self.path, read_only=read_only)
        except duckdb.Error as exc:
            raise StoreError(f"cannot open store {self.path}: {exc}") from exc
        self._in_tx = False
        self._version: int | None = None  # memo of data_version(), see there
        if not read_only:
            self._con.execute(_SCHEMA)
            self._con.execute(
                "INSERT INTO meta VALUES ('schema_version', ?), ('data_version', '0') ON CONFLICT DO NOTHING",
                [str(SCHEMA_VERSION)],
            )
        self._check_schema()

    # -- lifecycle -----------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            self._con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.path!r}, read_only={self.read_only})"

    def _check_schema(self) -> None:
        try:
            row = self._con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except duckdb.CatalogException:
            raise EmptyStoreError(f"{self.path} is not a rotation store (no meta table)") from None
        if row is None or int(row[0]) != SCHEMA_VERSION:
            found = None if row is None else row[0]
            raise StoreError(f"{self.path}: schema version {found}, this rotation expects {SCHEMA_VERSION}")

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Run the block in one transaction; roll back on any exception.

        Nested calls join the outer transaction. The data version is bumped
        once per committed outer transaction (and the memo of
        :meth:`data_version` with it, only once COMMIT has succeeded).
        """
        with self._lock:
            if self._in_tx:
                yield self._con
                return
            self._require_writable()
            self._con.execute("BEGIN TRANSACTION")
            self._in_tx = True
            try:
                yield self._con
                rows = self._con.execute(
                    "UPDATE meta SET value = CAST(CAST(value AS BIGINT) + 1 AS VARCHAR) "
                    "WHERE key = 'data_version' RETURNING value"
                ).fetchall()  # fetch to the end: DuckDB refuses the COMMIT while a result is unfinished
                self._con.execute("COMMIT")
                self._version = int(rows[0][0]) if rows else None
            except BaseException:
                self._con.execute("ROLLBACK")
                raise
            finally:
                self._in_tx = False

    def _require_writable(self) -> None:
        if self.read_only:
            raise StoreError(f"{self.path} is open read-only")

    # -- writes ----------------------------------------------------------------------
    def upsert_instruments(self, rows: Iterable[dict[str, Any]]) -> int:
        """Insert or update instrument metadata.

        Each row is a mapping with ``symbol`` and ``kind`` and any of
        ``asset_class, currency, name, units, frequency, sector, industry,
        sources`` (a dict). Missing or ``None`` fields keep their stored value.
        """
        records = []
        for r in rows:
            rec = {c: r.get(c) for c in _INSTRUMENT_COLUMNS}
            if not rec["symbol"] or rec["kind"] not in {"instrument", "macro"}:
                raise ParameterError("rows", f"instrument row needs symbol and kind, got {r!r}")
            if isinstance(rec["sources"], dict):
                rec["sources"] = json.dumps(rec["sources"])
            records.append(rec)
        if not records:
            return 0
        frame = pd.DataFrame.from_records(records, columns=list(_INSTRUMENT_COLUMNS)).astype(object)
        frame = frame.where(frame.notna(), None)
        frame["updated_at"] = _now()
        sets = ", ".join(
            f"{c} = COALESCE(EXCLUDED.{c}, instruments.{c})" for c in (*_INSTRUMENT_COLUMNS[1:], "updated_at")
        )
        with self.transaction() as con:
            con.register("incoming_instruments", frame)
            try:
                con.execute(
                    f"INSERT INTO instruments SELECT * FROM incoming_instruments "
                    f"ON CONFLICT (symbol) DO UPDATE SET {sets}"
                )
            finally:
                con.unregister("incoming_instruments")
        return len(records)

    def write_observations(self, frame: pd.DataFrame, *, source: str) -> int:
        """Upsert an observation frame (see :mod:`rotation._frames`) under ``source``.

        Returns the number of rows written. Columns the frame lacks, and NaN
        cells, keep the stored value.

        Notes
        -----
        When every incoming date is after the latest stored date (the daily
        append), no key can exist yet and the rows go in with a plain
        ``INSERT``: DuckDB's ``INSERT ... ON CONFLICT`` costs about a second on
        a 25M-row table even when nothing conflicts. Otherwise they are
        upserted. Both run in one transaction, so the write stays atomic.
        """
        frame = self._canonical(frame, "observations")
        fields = [c for c in OBSERVATION_FIELDS if c in frame.columns]
        if frame.empty:
            return 0
        frame.insert(1, "source", source)
        cols = ["symbol", "source", "date", *fields]
        sets = ", ".join(f"{c} = COALESCE(EXCLUDED.{c}, observations.{c})" for c in fields)
        conflict = f"DO UPDATE SET {sets}" if fields else "DO NOTHING"
        first = frame["date"].min()
        with self.transaction() as con:
            # max(date) over the whole table is answered from DuckDB's column statistics (~1 ms) and
            # includes this transaction's own uncommitted rows.
            latest = con.execute("SELECT max(date) FROM observations").fetchall()[0][0]
            if latest is None or first > pd.Timestamp(latest):
                self._insert(con, "observations", frame[cols], cols)
            else:
                self._insert(con, "observations", frame[cols], cols, f"ON CONFLICT (symbol, source, date) {conflict}")
        return len(frame)

    def write_macro(self, frame: pd.DataFrame, *, source: str) -> int:
        """Upsert a macro frame (``symbol, date, value``) under ``source``."""
        frame = self._canonical(frame, "macro")
        if frame.empty:
            return 0
        frame.insert(1, "source", source)
        cols = ["symbol", "source", "date", "value"]
        self._upsert(
            "macro", frame[cols], cols, "(symbol, source, date)",
            "DO UPDATE SET value = COALESCE(EXCLUDED.value, macro.value)",
        )
        return len(frame)

    def write_actions(self, frame: pd.DataFrame, *, source: str) -> int:
        """Upsert splits and dividends (``symbol, date, kind, value``) under ``source``."""
        frame = self._canonical(frame, "actions")
        if frame.empty:
            return 0
        frame.insert(1, "source", source)
        cols = ["symbol", "source", "date", "kind", "value"]
        self._upsert(
            "actions", frame[cols], cols, "(symbol, source, date, kind)",
            "DO UPDATE SET value = EXCLUDED.value",
        )
        return len(frame)

    def write_membership(self, frame: pd.DataFrame, *, index_name: str, source: str) -> int:
        """Replace the membership spells of ``index_name`` (``symbol, start_date, end_date``)."""
        need = {"symbol", "start_date", "end_date"}
        if not need <= set(frame.columns):
            raise ParameterError("frame", f"membership needs columns {sorted(need)}")
        out = pd.DataFrame(
            {
                "index_name": index_name,
                "symbol": frame["symbol"].astype(str).to_numpy(),
                "start_date": pd.to_datetime(frame["start_date"]).dt.date.to_numpy(),
                "end_date": pd.to_datetime(frame["end_date"]).dt.date.to_numpy(),
                "source": source,
            }
        )
        out["end_date"] = out["end_date"].astype(object).where(out["end_date"].notna(), None)
        with self.transaction() as con:
            con.execute("DELETE FROM index_membership WHERE index_name = ?", [index_name])
            self._insert(con, "index_membership", out, list(out.columns))
        return len(out)

    def write_index_changes(self, frame: pd.DataFrame, *, index_name: str, source: str) -> int:
        """Upsert index additions/removals (``date, symbol, action`` with action add|remove)."""
        need = {"date", "symbol", "action"}
        if not need <= set(frame.columns):
            raise ParameterError("frame", f"index changes need columns {sorted(need)}")
        bad = set(frame["action"]) - {"add", "remove"}
        if bad:
            raise ParameterError("frame", f"unknown index actions {sorted(bad)}")
        out = pd.DataFrame(
            {
                "index_name": index_name,
                "date": pd.to_datetime(frame["date"]).dt.date.to_numpy(),
                "symbol": frame["symbol"].astype(str).to_numpy(),
                "action": frame["action"].to_numpy(),
                "source": source,
            }
        )
        cols = list(out.columns)
        self._upsert("index_changes", out, cols, "(index_name, date, symbol, action)", "DO NOTHING")
        return len(out)

    def log_fetch(
        self,
        *,
        source: str,
        symbol: str | None,
        start: date | None,
        end: date | None,
        rows: int,
        status: str,
        message: str | None = None,
    ) -> None:
        """Append one fetch-log row (joins the current transaction if any)."""
        if status not in {"ok", "empty", "failed"}:
            raise ParameterError("status", f"must be ok, empty or failed, got {status!r}")
        with self.transaction() as con:
            con.execute(
                "INSERT INTO fetch_log (source, symbol, start_date, end_date, rows, fetched_at, status, message) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [source, symbol, start, end, rows, _now(), status, message],
            )

    def _canonical(self, frame: pd.DataFrame, kind: str) -> pd.DataFrame:
        try:
            return validate_frame(frame, kind)
        except ValueError as exc:
            raise StoreError(f"refusing to write {kind}: {exc}") from None

    def _upsert(self, table: str, frame: pd.DataFrame, cols: list[str], key: str, conflict: str) -> None:
        with self.transaction() as con:
            self._insert(con, table, frame, cols, f"ON CONFLICT {key} {conflict}")

    @staticmethod
    def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, cols: list[str], tail: str = "") -> None:
        name = f"incoming_{table}"
        con.register(name, frame)
        col_list = ", ".join(cols)
        try:
            con.execute(f"INSERT INTO {table} ({col_list}) SELECT {col_list} FROM {name} {tail}")
        except BaseException:
            # A failed statement aborts the transaction, which then refuses the unregister too: keep the
            # real error (e.g. a key violation) instead of "transaction is aborted".
            with suppress(duckdb.Error):
                con.unregister(name)
            raise
        con.unregister(name)

    # -- reads -----------------------------------------------------------------------
    def _query(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        with self._lock:
            return self._con.execute(sql, list(params)).df()

    @overload
    def data_version(self) -> int: ...
    @overload
    def data_version(self, *, wait: Literal[False]) -> int | None: ...

    def data_version(self, *, wait: bool = True) -> int | None:
        """Counter bumped by every committed write; use it to key caches.

        ``wait=False`` returns the memo without taking the store's lock (which a
        reader or writer in another thread may hold for seconds), or ``None``
        when it has not been read from the file yet: for callers that must not
        block, such as the API's event loop. During a write it is the last
        committed version.

        Memoised in the instance: read from the file once, then bumped by
        :meth:`transaction` right after each successful COMMIT (a rolled-back
        write leaves it as it was). That is safe because nothing else can
        change the file while this instance has it open: DuckDB allows either
        one read-write process or several read-only processes on a file, never
        a writer beside an open connection in another process
        (https://duckdb.org/docs/2.0/connect/concurrency). The one exception is
        a second read-write ``Store`` on the same file *in the same process*
        (DuckDB then shares one database between the two connections): its
        writes are not seen by this instance's memo, so write through one
        instance per file and process (the API's refresh thread uses the API's
        own store).
        """
        if not wait:
            return self._version  # one attribute read: atomic under the GIL
        with self._lock:
            if self._version is None:
                # fetchall: a half-read result would block the next register() inside a transaction
                rows = self._con.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchall()
                self._version = int(rows[0][0]) if rows else 0
            return self._version

    def instruments(self) -> pd.DataFrame:
        """Stored instrument metadata, one row per symbol (``sources`` decoded to dict)."""
        out = self._query("SELECT * FROM instruments ORDER BY symbol")
        out["sources"] = [json.loads(s) if isinstance(s, str) else {} for s in out["sources"]]
        return out

    def read_observations(
        self,
        symbols: Sequence[str] | None = None,
        *,
        start: date | str | None = None,
        end: date | str | None = None,
        sources: Sequence[str] | None = None,
        fields: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Long frame ``symbol, source, date, <fields>`` sorted by symbol, source, date.

        ``date`` comes back as ``datetime64[ns]``. ``None`` filters mean "all".
        """
        fields = list(fields) if fields is not None else list(OBSERVATION_FIELDS)
        unknown = set(fields) - set(OBSERVATION_FIELDS)
        if unknown:
            raise ParameterError("fields", f"unknown fields {sorted(unknown)}; known: {OBSERVATION_FIELDS}")
        where, params = self._filters("symbol", symbols, start, end, sources)
        cols = ", ".join(["symbol", "source", "CAST(date AS TIMESTAMP) AS date", *fields])
        out = self._query(f"SELECT {cols} FROM observations {where} ORDER BY symbol, source, date", params)
        out["date"] = out["date"].astype("datetime64[ns]")
        return out

    def read_observation_arrays(
        self,
        symbols: Sequence[str] | None = None,
        *,
        end: date | str | None = None,
        fields: Sequence[str] | None = None,
    ) -> ObservationArrays:
        """The rows of :meth:`read_observations` as NumPy columns, unsorted (the panel builder's read).

        Parameters
        ----------
        symbols : sequence of str, optional
            Default: all.
        end : date-like, optional
            Last date read (inclusive).
        fields : sequence of str, optional
            Subset of the observation fields (default: all).

        Returns
        -------
        ObservationArrays
            Same rows and values as :meth:`read_observations` (NULL -> NaN), in
            storage order: symbols and sources come as integer codes into the
            stored (symbol, source) pairs, dates as day numbers.

        Notes
        -----
        Built for 25M-row reads: no ``ORDER BY`` (a scatter by codes needs no
        order), strings never reach Python (DuckDB joins each row to its pair
        code), columns come through Arrow, and a field that is NULL in every
        row is not transferred at all.
        """
        fields = list(fields) if fields is not None else list(OBSERVATION_FIELDS)
        unknown = set(fields) - set(OBSERVATION_FIELDS)
        if unknown:
            raise ParameterError("fields", f"unknown fields {sorted(unknown)}; known: {OBSERVATION_FIELDS}")
        where, params = self._filters("symbol", None, None, end, None)
        counts = ", ".join(["count(*) AS n_rows", *(f"count({f}) AS {f}" for f in fields)])
        with self._lock:
            # One pass for the pairs (and which fields hold anything), one for the rows; both under the
            # lock, so no write of this process lands between them (no other process can write). The
            # symbols are filtered on the small pair table: `symbol IN (...)` over every row costs more.
            pairs = self._con.execute(
                f"SELECT symbol, source, {counts} FROM observations {where} "
                "GROUP BY symbol, source ORDER BY symbol, source",
                params,
            ).df()
            if symbols is not None:
                pairs = pairs[pairs["symbol"].isin(list(symbols))].reset_index(drop=True)
            present = [f for f in fields if pairs[f].sum() > 0]
            codes = pa.table({
                "symbol": pa.array(pairs["symbol"].astype(str).tolist(), pa.string()),
                "source": pa.array(pairs["source"].astype(str).tolist(), pa.string()),
                "pair": pa.array(np.arange(len(pairs), dtype=np.int32)),
            })
            self._con.register("wanted_pairs", codes)
            try:
                tail = "" if end is None else "WHERE o.date <= ?"
                # NULL -> NaN in SQL: Arrow columns without a validity bitmap convert to NumPy ~10x faster.
                cols = ", ".join(["p.pair", "CAST(o.date - DATE '1970-01-01' AS INTEGER) AS day",
                                  *(f"coalesce(o.{f}, 'NaN'::DOUBLE) AS {f}" for f in present)])
                # con.sql(...).to_arrow_table() streams into Arrow; execute(...) would copy the rows once more.
                table = self._con.sql(
                    f"SELECT {cols} FROM observations o JOIN wanted_pairs p USING (symbol, source) {tail}",
                    params=None if end is None else [pd.Timestamp(end).date()],
                ).to_arrow_table(batch_size=max(int(pairs["n_rows"].sum()), 1))  # one chunk: zero-copy NumPy
            finally:
                self._con.unregister("wanted_pairs")
        # Read-only views of the Arrow buffers when the table is one chunk (it is, see batch_size).
        pair, day = (table.column(c).to_numpy() for c in ("pair", "day"))
        values = {f: table.column(f).to_numpy() for f in present}
        return ObservationArrays(pairs[["symbol", "source"]].reset_index(drop=True), pair, day, values)

    def read_macro(
        self,
        symbols: Sequence[str] | None = None,
        *,
        start: date | str | None = None,
        end: date | str | None = None,
        sources: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Long frame ``symbol, source, date, value`` in native units."""
        where, params = self._filters("symbol", symbols, start, end, sources)
        out = self._query(
            f"SELECT symbol, source, CAST(date AS TIMESTAMP) AS date, value FROM macro {where} "
            "ORDER BY symbol, source, date",
            params,
        )
        out["date"] = out["date"].astype("datetime64[ns]")
        return out

    def read_actions(self, symbols: Sequence[str] | None = None) -> pd.DataFrame:
        where, params = self._filters("symbol", symbols, None, None, None)
        out = self._query(
            f"SELECT symbol, source, CAST(date AS TIMESTAMP) AS date, kind, value FROM actions {where} "
            "ORDER BY symbol, date",
            params,
        )
        out["date"] = out["date"].astype("datetime64[ns]")
        return out

    def read_membership(self, index_name: str) -> pd.DataFrame:
        return self._query(
            "SELECT symbol, start_date, end_date, source FROM index_membership WHERE index_name = ? "
            "ORDER BY symbol, start_date",
            [index_name],
        )

    def read_index_changes(self, index_name: str) -> pd.DataFrame:
        return self._query(
            "SELECT date, symbol, action, source FROM index_changes WHERE index_name = ? ORDER BY date, symbol",
            [index_name],
        )

    @staticmethod
    def _filters(
        key: str,
        symbols: Sequence[str] | None,
        start: date | str | None,
        end: date | str | None,
        sources: Sequence[str] | None,
    ) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if symbols is not None:
            clauses.append(f"{key} IN (SELECT unnest(?::VARCHAR[]))")
            params.append(list(symbols))
        if sources is not None:
            clauses.append("source IN (SELECT unnest(?::VARCHAR[]))")
            params.append(list(sources))
        if start is not None:
            clauses.append("date >= ?")
            params.append(pd.Timestamp(start).date())
        if end is not None:
            clauses.append("date <= ?")
            params.append(pd.Timestamp(end).date())
        return ("WHERE " + " AND ".join(clauses)) if clauses else "", params

    def last_date(self, symbol: str, source: str, *, table: str = "observations") -> date | None:
        """Latest stored date for (symbol, source), or ``None``."""
        if table not in {"observations", "macro"}:
            raise ParameterError("table", "must be 'observations' or 'macro'")
        with self._lock:
            row = self._con.execute(
                f"SELECT max(date) FROM {table} WHERE symbol = ? AND source = ?", [symbol, source]
            ).fetchone()
        return row[0] if row and row[0] is not None else None

    def coverage(self) -> pd.DataFrame:
        """Per (table, symbol, source): first and last date and row count."""
        return self._query(
            """
            SELECT 'observations' AS "table", symbol, source, min(date) AS first, max(date) AS last,
                   count(*) AS rows
            FROM observations GROUP BY symbol, source
            UNION ALL
            SELECT 'macro', symbol, source, min(date), max(date), count(*)
            FROM macro GROUP BY symbol, source
            ORDER BY 1, 2, 3
            """
        )

    def fetch_log(self, limit: int | None = 100) -> pd.DataFrame:
        """Most recent fetch-log rows first."""
        tail = "" if limit is None else f" LIMIT {int(limit)}"
        return self._query(f"SELECT * FROM fetch_log ORDER BY id DESC{tail}")

    def last_fetches(self) -> pd.DataFrame:
        """The latest fetch-log row per (source, symbol)."""
        return self._query(
            """
            SELECT * FROM fetch_log
            QUALIFY row_number() OVER (PARTITION BY source, symbol ORDER BY id DESC) = 1
            ORDER BY source, symbol
            """
        )

    def is_empty(self) -> bool:
        with self._lock:
            n_obs = self._con.execute("SELECT count(*) FROM (SELECT 1 FROM observations LIMIT 1)").fetchone()
            n_mac = self._con.execute("SELECT count(*) FROM (SELECT 1 FROM macro LIMIT 1)").fetchone()
        return not ((n_obs and n_obs[0]) or (n_mac and n_mac[0]))
