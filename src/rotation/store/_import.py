"""Write a parsed user file to the store, all or nothing.

:func:`import_file` parses a file with :func:`rotation.sources.files.read_table`
(so every problem in the file is found before the store is touched) and then
writes everything in **one** store transaction, with one fetch-log row. If any
write fails the transaction is rolled back and the store is exactly as before,
fetch log included.

Instruments
-----------
Observations and macro rows for symbols the store's ``instruments`` table does
not know create an instrument row (``kind`` ``instrument`` with the spec's
``asset_class`` or ``equity``; ``kind`` ``macro`` for macro series) whose
``sources`` are ``{"file": <symbol as written in the file>}``. Instruments the
store already knows are left as they are. An ``instruments`` file upserts its
rows: the fields it has overwrite the stored ones, the others are kept.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any

import duckdb
import pandas as pd

from rotation.errors import StoreError
from rotation.sources.files import ImportedData, ImportSpec, read_table
from rotation.store._duckdb import Store

__all__ = ["ImportReport", "import_file", "write_imported"]


@dataclass(frozen=True)
class ImportReport:
    """What one import wrote.

    Attributes
    ----------
    path : Path
    source : str
        Source label the rows are stored under (and the fetch-log source).
    kind : str
        The spec's kind.
    rows : Mapping[str, int]
        Rows written per table (``observations``, ``macro``, ``instruments``,
        ``membership``, ``index_changes``); ``instruments`` counts the rows of
        an instruments file, not the rows created implicitly.
    rows_read : int
        Data rows in the file (blank lines excluded).
    symbols : tuple of str
        Distinct rotation symbols written, sorted.
    start, end : date or None
        Date range of the rows written (membership: spell starts and ends).
    instruments_created : tuple of str
        Symbols the store did not know before and that the import created.
    warnings : tuple of str
        Notes from parsing (columns not used, rows skipped, ...).
    index_name : str or None
        The index membership / changes were written for.
    """

    path: Path
    source: str
    kind: str
    rows: Mapping[str, int]
    rows_read: int
    symbols: tuple[str, ...]
    start: date | None
    end: date | None
    instruments_created: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    index_name: str | None = None

    @property
    def total_rows(self) -> int:
        """Rows written over all tables."""
        return int(sum(self.rows.values()))


def import_file(store: Store, path: str | Path, spec: ImportSpec | None = None) -> ImportReport:
    """Parse ``path`` as ``spec`` says and write it to ``store`` in one transaction.

    Parameters
    ----------
    store : Store
        An open, writable store.
    path : str or Path
        CSV (optionally gzipped) or Parquet file.
    spec : ImportSpec, optional
        How to read the file; default ``ImportSpec()``.

    Returns
    -------
    ImportReport
        Rows per table, symbols, date range, instruments created, warnings.

    Raises
    ------
    ImportFileError
        The file cannot be parsed (nothing was written).
    StoreError
        The store refused a write; the transaction was rolled back and the
        store is unchanged.
    """
    data = read_table(path, spec)
    return write_imported(store, data)


def _instrument_rows(frame: pd.DataFrame | None) -> list[dict[str, Any]]:
    if frame is None or frame.empty:
        return []
    return [
        {k: (None if _is_missing(v) else v) for k, v in rec.items()}
        for rec in frame.to_dict("records")
    ]


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def write_imported(store: Store, data: ImportedData) -> ImportReport:
    """Write already-parsed data to ``store`` in one transaction (see :func:`import_file`).

    The fetch-log row records the source label, the single symbol (or None for
    several), the date range, the rows written and status ``ok`` (``empty``
    when nothing was written); its message names the file.
    """
    spec = data.spec
    rows: dict[str, int] = {}
    created: list[str] = []
    start, end = data.date_range
    symbols = data.symbols
    try:
        with store.transaction():
            known = set(store.instruments()["symbol"])
            explicit = _instrument_rows(data.instruments)
            for rec in explicit:
                if rec["symbol"] not in known and rec.get("asset_class") is None:
                    rec["asset_class"] = "equity"
            implied = [
                r for r in _instrument_rows(data.implied_instruments) if r["symbol"] not in known
            ]
            implied = [r for r in implied if r["symbol"] not in {e["symbol"] for e in explicit}]
            for rec in implied:
                if rec["kind"] == "instrument" and rec.get("asset_class") is None:
                    rec["asset_class"] = "equity"
            if explicit:
                store.upsert_instruments(explicit)
                rows["instruments"] = len(explicit)
            elif data.instruments is not None:
                rows["instruments"] = 0
            if implied:
                store.upsert_instruments(implied)
            created = sorted({r["symbol"] for r in [*implied, *explicit]} - known)
            if data.observations is not None:
                rows["observations"] = store.write_observations(
                    data.observations, source=data.source
                )
            if data.macro is not None:
                rows["macro"] = store.write_macro(data.macro, source=data.source)
            if data.membership is not None:
                # write_membership replaces all spells of the index: the file is its full
                # history. An empty file must not wipe what is stored.
                rows["membership"] = (
                    store.write_membership(
                        data.membership, index_name=str(spec.index_name), source=data.source
                    )
                    if len(data.membership)
                    else 0
                )
            if data.index_changes is not None:
                rows["index_changes"] = store.write_index_changes(
                    data.index_changes, index_name=str(spec.index_name), source=data.source
                )
            total = int(sum(rows.values()))
            store.log_fetch(
                source=data.source,
                symbol=symbols[0] if len(symbols) == 1 else None,
                start=start,
                end=end,
                rows=total,
                status="ok" if total else "empty",
                message=f"import {spec.kind} from {data.path.name}",
            )
    except duckdb.Error as exc:
        raise StoreError(
            f"import of {data.path} failed and was rolled back, store unchanged: {exc}"
        ) from exc
    return ImportReport(
        path=data.path,
        source=data.source,
        kind=spec.kind,
        rows=MappingProxyType(rows),
        rows_read=data.rows_read,
        symbols=symbols,
        start=start,
        end=end,
        instruments_created=tuple(created),
        warnings=data.warnings,
        index_name=spec.index_name,
    )
