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
``meta``              schema version and a data version bumped by every write

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
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from rotation._frames import OBSERVATION_FIELDS, validate_frame
from rotation.errors import EmptyStoreError, ParameterError, StoreError

__all__ = ["SCHEMA_VERSION", "Store"]

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
        once per committed outer transaction.
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
                self._con.execute(
                    "UPDATE meta SET value = CAST(CAST(value AS BIGINT) + 1 AS VARCHAR) WHERE key = 'data_version'"
                )
                self._con.execute("COMMIT")
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
        """
        frame = self._canonical(frame, "observations")
        fields = [c for c in OBSERVATION_FIELDS if c in frame.columns]
        if frame.empty:
            return 0
        frame.insert(1, "source", source)
        cols = ["symbol", "source", "date", *fields]
        sets = ", ".join(f"{c} = COALESCE(EXCLUDED.{c}, observations.{c})" for c in fields)
        conflict = f"DO UPDATE SET {sets}" if fields else "DO NOTHING"
        self._upsert("observations", frame[cols], cols, "(symbol, source, date)", conflict)
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
        try:
            col_list = ", ".join(cols)
            con.execute(f"INSERT INTO {table} ({col_list}) SELECT {col_list} FROM {name} {tail}")
        finally:
            con.unregister(name)

    # -- reads -----------------------------------------------------------------------
    def _query(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        with self._lock:
            return self._con.execute(sql, list(params)).df()

    def data_version(self) -> int:
        """Counter bumped by every committed write; use it to key caches."""
        with self._lock:
            row = self._con.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchone()
        return int(row[0]) if row else 0

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
