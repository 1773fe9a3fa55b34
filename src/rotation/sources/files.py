"""Bring-your-own-data: parse a CSV or Parquet file into canonical frames.

A file is described by an :class:`ImportSpec` (what the rows are, how its
columns map to rotation's fields, how its symbols map to rotation's symbols)
and parsed by :func:`read_table` into an :class:`ImportedData`. This module
knows nothing of the store; :func:`rotation.store._import.import_file` writes
the result.

Nothing is guessed. Column names, the date format and every symbol
transformation come from the spec; what the spec leaves out has a documented
default (below). Every problem in the file is an
:class:`~rotation.errors.ImportFileError` naming the file, the line
(1-based, the header is line 1) and the column.

Supported files
---------------
``.csv``, ``.txt`` (comma separated) and ``.tsv`` (tab separated), each
optionally gzipped (``.gz``), and ``.parquet`` / ``.pq`` (read with pyarrow).
CSV files are read as UTF-8 (a byte-order mark is accepted). Line numbers
assume one record per line (no line breaks inside quoted cells). In Parquet
files there are no lines; errors name the 1-based data row instead.

Missing values
--------------
A cell is missing when it is blank or one of :data:`MISSING_TOKENS`
(``NA``, ``N/A``, ``NaN``, ``null``, ``None``, ``.`` as FRED writes it, ...).
Missing numbers become NaN. Fully blank lines are skipped. A row whose value
fields are all missing carries no data and is skipped with a warning.
Symbols and dates are never missing: a blank one is an error.

Dates
-----
Without ``date_format`` dates must be ISO 8601 (``2024-01-31``,
``2024-01-31T00:00:00Z``, ``2024-01-31 00:00:00-05:00``): ambiguous forms
such as ``01/02/2024`` are refused, not guessed. A strftime pattern
(``%d/%m/%Y``) or ``unix_s`` / ``unix_ms`` / ``unix_us`` (epoch numbers, UTC)
selects another format. The calendar date is taken as written (a UTC offset
does not move it; epoch numbers are UTC) and any time of day is dropped.
``date_shift_days`` is then added: ``-1`` for files that stamp a 00:00-UTC
snapshot of day D for the close of D-1 (CoinGecko exports), see
:mod:`rotation._frames`.
"""

from __future__ import annotations

import re

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from rotation._frames import OBSERVATION_FIELDS
from rotation.errors import ImportFileError, ParameterError
from rotation.universe import ASSET_CLASSES

__all__ = [
    "CHANGE_FIELDS",
    "IMPORT_KINDS",
    "INSTRUMENT_FIELDS",
    "LAYOUTS",
    "MEMBERSHIP_FIELDS",
    "MISSING_TOKENS",
    "ImportSpec",
    "ImportedData",
    "read_table",
]

IMPORT_KINDS: tuple[str, ...] = (
    "observations",
    "macro",
    "instruments",
    "membership",
    "index_changes",
)
LAYOUTS: tuple[str, ...] = ("long", "wide")
#: Text fields an ``instruments`` file can fill (see ``Store.upsert_instruments``).
INSTRUMENT_FIELDS: tuple[str, ...] = ("name", "sector", "industry", "currency")
#: Date fields of a ``membership`` file: a spell from ``start_date`` to ``end_date``
#: (blank end: still a member).
MEMBERSHIP_FIELDS: tuple[str, ...] = ("start_date", "end_date")
#: Fields of an ``index_changes`` file: symbols added and removed on ``date``.
#: A cell may list several symbols separated by commas (``"CTVA,DD"``).
CHANGE_FIELDS: tuple[str, ...] = ("add", "remove")
#: Cell contents read as "missing" (besides a blank cell).
MISSING_TOKENS: tuple[str, ...] = (
    "",
    "NA",
    "N/A",
    "n/a",
    "NaN",
    "nan",
    "NULL",
    "null",
    "None",
    "#N/A",
    ".",
)
_UNIX_UNITS = {"unix_s": "s", "unix_ms": "ms", "unix_us": "us"}
_CSV_SUFFIXES = {".csv": ",", ".txt": ",", ".tsv": "\t"}
_PARQUET_SUFFIXES = {".parquet", ".pq"}


def _frozen_map(value: Mapping[str, Any] | None, parameter: str) -> Mapping[str, Any]:
    if value is None:
        return MappingProxyType({})
    if not isinstance(value, Mapping):
        raise ParameterError(parameter, f"must be a mapping, got {type(value).__name__}")
    for key, val in value.items():
        if not isinstance(key, str) or not key:
            raise ParameterError(parameter, f"keys must be non-empty strings, got {key!r}")
        if isinstance(val, str) and not val:
            raise ParameterError(parameter, f"empty value for {key!r}")
    return MappingProxyType(dict(value))


def _symbols_tuple(value: Iterable[str] | str | None, parameter: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    items = [value] if isinstance(value, str) else list(value)
    out = tuple(str(v).strip() for v in items)
    if any(not v for v in out):
        raise ParameterError(parameter, "symbols must be non-empty")
    return out


@dataclass(frozen=True)
class ImportSpec:
    """How to read one file: what it holds and how its columns and symbols map.

    Every field has a default, so ``ImportSpec()`` reads a long observation
    file with columns ``date``, ``symbol`` and any canonical field names
    (``open, high, low, close, adj_close, volume, volume_usd, market_cap,
    supply``). Combinations that make no sense for the ``kind`` or ``layout``
    raise :class:`~rotation.errors.ParameterError` naming the field.

    Attributes
    ----------
    kind : {"observations", "macro", "instruments", "membership", "index_changes"}
        What the rows are. ``observations``: daily market fields per symbol;
        ``macro``: one value per series and date; ``instruments``: metadata per
        symbol (:data:`INSTRUMENT_FIELDS`); ``membership``: index membership
        spells (:data:`MEMBERSHIP_FIELDS`); ``index_changes``: additions and
        removals per date (:data:`CHANGE_FIELDS`).
    layout : {"long", "wide"}
        ``long``: one row per symbol and date. ``wide``: a date column plus one
        column per symbol (the header is the symbol); only for observations
        (cells are ``field``) and macro (cells are values). In wide files every
        column except the date column is a symbol.
    date_column : str
        Column holding the date (``date``). Not used by ``instruments`` and
        ``membership``.
    symbol_column : str or None
        Column holding the symbol in long files. Default ``"symbol"`` unless
        ``symbol`` is given.
    symbol : str or None
        Constant rotation symbol for a single-series file without a symbol
        column (``vix_daily.csv`` -> ``VIX``). Not combined with
        ``symbol_column``, ``symbol_map`` or ``strip_suffix``.
    columns : mapping of str to str
        Canonical field -> file column (``{"close": "price_usd"}``); one file
        column may feed several fields. Fields: :data:`OBSERVATION_FIELDS` for
        observations, :data:`INSTRUMENT_FIELDS`, :data:`MEMBERSHIP_FIELDS` or
        :data:`CHANGE_FIELDS` for the other kinds. When empty, every file
        column whose name *is* a field of the kind is used under that name.
        Columns that are not used are listed in the warnings. Not used by
        ``macro`` (see ``value_column``) or wide files (see ``field``).
    field : str or None
        Wide observation files: the canonical field the cells hold (``close``).
    value_column : str or None
        Long macro files: the column with the value (default ``"value"``).
    units : mapping of str to float
        Field -> multiplier applied to the parsed numbers
        (``{"market_cap": 1e9}`` for a file in billions). For macro files the
        field is ``"value"``.
    zero_as_missing : tuple of str
        Fields in which ``0`` means "unknown" and becomes NaN (CoinGecko's
        early ``market_cap`` and ``volume`` are 0.0 where it had no data).
        Other zeros and non-positive prices are kept: data-quality checks
        report them later.
    date_format : str or None
        ``None`` (ISO 8601), a strftime pattern, or ``unix_s``/``unix_ms``/
        ``unix_us``. See the module docstring.
    date_shift_days : int
        Days added to every parsed date (``-1`` for 00:00-UTC snapshot files).
        Not for ``instruments`` or ``membership``.
    symbol_map : mapping of str to str
        File symbol -> rotation symbol (``{"^GSPC": "SPX"}``); for wide files
        the file symbol is the column header. A mapped symbol is not touched
        by ``strip_suffix``.
    strip_suffix : str or None
        Suffix removed from file symbols not in ``symbol_map``
        (``"USDT"``: ``BTCUSDT`` -> ``BTC``). Symbols without the suffix are
        kept as they are and named in a warning.
    include, exclude : tuple of str or None
        Keep only / drop these **rotation** symbols (after ``symbol_map`` and
        ``strip_suffix``). ``include`` names that do not occur are warned about.
        Not for ``membership`` files: the store replaces an index's spells as
        a whole, so a filtered file would drop the others.
    source : str or None
        Source label the rows are stored under (``yahoo``, ``coingecko``);
        default: the file name without its extensions.
    asset_class : str or None
        Asset class (:data:`rotation.universe.ASSET_CLASSES`) for instrument
        rows the import creates or, for ``instruments`` files, sets. ``None``
        keeps a stored class; new instruments then default to ``equity``.
    index_name : str or None
        Index the ``membership`` / ``index_changes`` rows belong to (``SP500``);
        required for those kinds, refused for the others.
    where : (str, str) or None
        ``(column, regular expression)``: keep only rows whose text in that
        column matches (``re.search``). For files that splice several origins
        in one table, e.g. to date-shift only the rows of one origin.
    """

    kind: str = "observations"
    layout: str = "long"
    date_column: str = "date"
    symbol_column: str | None = None
    symbol: str | None = None
    columns: Mapping[str, str] = dc_field(default_factory=dict)
    value_column: str | None = None
    units: Mapping[str, float] = dc_field(default_factory=dict)
    zero_as_missing: tuple[str, ...] = ()
    date_format: str | None = None
    date_shift_days: int = 0
    symbol_map: Mapping[str, str] = dc_field(default_factory=dict)
    strip_suffix: str | None = None
    include: tuple[str, ...] | None = None
    exclude: tuple[str, ...] | None = None
    source: str | None = None
    asset_class: str | None = None
    index_name: str | None = None
    field: str | None = None
    where: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if self.where is not None:
            if (
                not isinstance(self.where, tuple | list)
                or len(self.where) != 2
                or not all(isinstance(w, str) and w for w in self.where)
            ):
                raise ParameterError("where", f"must be (column, regex), got {self.where!r}")
            try:
                re.compile(self.where[1])
            except re.error as exc:
                raise ParameterError("where", f"invalid regular expression {self.where[1]!r}: {exc}") from None
            set_(self, "where", (self.where[0], self.where[1]))
        if self.kind not in IMPORT_KINDS:
            raise ParameterError(
                "kind", f"must be one of {', '.join(IMPORT_KINDS)}; got {self.kind!r}"
            )
        if self.layout not in LAYOUTS:
            raise ParameterError("layout", f"must be 'long' or 'wide'; got {self.layout!r}")
        set_(self, "columns", _frozen_map(self.columns, "columns"))
        set_(self, "symbol_map", _frozen_map(self.symbol_map, "symbol_map"))
        units = _frozen_map(self.units, "units")
        for key, mult in units.items():
            if (
                isinstance(mult, bool)
                or not isinstance(mult, int | float)
                or not math.isfinite(mult)
                or mult == 0
            ):
                raise ParameterError(
                    "units",
                    f"multiplier for {key!r} must be a finite non-zero number, got {mult!r}",
                )
        set_(self, "units", MappingProxyType({k: float(v) for k, v in units.items()}))
        set_(
            self,
            "zero_as_missing",
            tuple(_symbols_tuple(self.zero_as_missing, "zero_as_missing") or ()),
        )
        set_(self, "include", _symbols_tuple(self.include, "include"))
        set_(self, "exclude", _symbols_tuple(self.exclude, "exclude"))
        if isinstance(self.date_shift_days, bool) or not isinstance(self.date_shift_days, int):
            raise ParameterError(
                "date_shift_days", f"must be an integer, got {self.date_shift_days!r}"
            )
        for name in (
            "date_column",
            "symbol_column",
            "symbol",
            "value_column",
            "strip_suffix",
            "source",
            "date_format",
            "index_name",
            "field",
        ):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise ParameterError(name, f"must be a non-empty string, got {value!r}")
        if self.asset_class is not None and self.asset_class not in ASSET_CLASSES:
            raise ParameterError(
                "asset_class",
                f"must be one of {', '.join(ASSET_CLASSES)}; got {self.asset_class!r}",
            )

        kind, wide = self.kind, self.layout == "wide"
        if wide and kind not in {"observations", "macro"}:
            raise ParameterError(
                "layout", f"'wide' is for observations and macro files, not {kind}"
            )
        if self.symbol is not None and (self.symbol_column is not None or wide):
            raise ParameterError(
                "symbol", "a constant symbol excludes symbol_column and the wide layout"
            )
        if self.symbol is not None and (self.symbol_map or self.strip_suffix):
            raise ParameterError(
                "symbol", "a constant symbol is already rotation's: drop symbol_map/strip_suffix"
            )
        if wide and self.symbol_column is not None:
            raise ParameterError("symbol_column", "wide files take their symbols from the header")
        if kind == "index_changes" and (self.symbol is not None or self.symbol_column is not None):
            raise ParameterError(
                "symbol_column",
                "index_changes files take their symbols from the add/remove columns",
            )
        if kind != "macro" and self.value_column is not None:
            raise ParameterError(
                "value_column", "only macro files have a value column; use columns for the others"
            )
        if wide and self.value_column is not None:
            raise ParameterError(
                "value_column", "wide macro files hold values in every symbol column"
            )
        # the fields this spec may name, per kind/layout
        if kind == "observations":
            fields = OBSERVATION_FIELDS
        elif kind == "macro":
            fields = ("value",)
        elif kind == "instruments":
            fields = INSTRUMENT_FIELDS
        elif kind == "membership":
            fields = MEMBERSHIP_FIELDS
        else:
            fields = CHANGE_FIELDS
        if self.columns and (kind == "macro" or wide):
            raise ParameterError(
                "columns", "not used by macro or wide files (see value_column / field)"
            )
        bad = sorted(set(self.columns) - set(fields))
        if bad:
            raise ParameterError(
                "columns", f"unknown {kind} field(s) {bad}; known: {', '.join(fields)}"
            )
        if wide and kind == "observations":
            if self.field not in OBSERVATION_FIELDS:
                raise ParameterError(
                    "field",
                    f"wide observation files need field = one of {', '.join(OBSERVATION_FIELDS)}",
                )
        elif wide and kind == "macro":
            if self.field not in (None, "value"):
                raise ParameterError("field", "wide macro cells are values; leave field unset")
        elif self.field is not None:
            raise ParameterError(
                "field", "only wide files name the field of their cells; use columns for long files"
            )
        numeric = fields if kind in {"observations", "macro"} else ()
        for name, keys in (("units", self.units), ("zero_as_missing", self.zero_as_missing)):
            bad = sorted(set(keys) - set(numeric))
            if bad:
                what = (
                    f"numeric fields: {', '.join(numeric)}"
                    if numeric
                    else f"{kind} files have no numeric fields"
                )
                raise ParameterError(name, f"unknown field(s) {bad}; {what}")
        if self.date_shift_days and kind in {"instruments", "membership"}:
            raise ParameterError(
                "date_shift_days", f"{kind} files have no observation date to shift"
            )
        if kind == "membership" and (self.include is not None or self.exclude is not None):
            # the store replaces an index's spells as a whole: a filtered file would drop the rest
            raise ParameterError(
                "include", "membership files are an index's full history: import them unfiltered"
            )
        if kind in {"membership", "index_changes"}:
            if self.index_name is None:
                raise ParameterError(
                    "index_name", f"{kind} files need the index they belong to (e.g. SP500)"
                )
        elif self.index_name is not None:
            raise ParameterError(
                "index_name", "only membership and index_changes files belong to an index"
            )

    # -- resolved defaults -------------------------------------------------------
    def source_label(self, path: str | Path) -> str:
        """The source label rows are stored under: ``source`` or the bare file name."""
        if self.source:
            return self.source
        name = Path(path).name
        for suffix in (".gz", ".parquet", ".pq", ".csv", ".tsv", ".txt"):
            if name.lower().endswith(suffix):
                name = name[: -len(suffix)]
        return name or Path(path).name

    def rotation_symbol(self, file_symbol: str) -> str:
        """Map one file symbol to rotation's: ``symbol_map`` first, else ``strip_suffix``."""
        if file_symbol in self.symbol_map:
            return self.symbol_map[file_symbol]
        if (
            self.strip_suffix
            and file_symbol.endswith(self.strip_suffix)
            and file_symbol != self.strip_suffix
        ):
            return file_symbol[: -len(self.strip_suffix)]
        return file_symbol


@dataclass(frozen=True)
class ImportedData:
    """The canonical content of one parsed file.

    Attributes
    ----------
    path : Path
    spec : ImportSpec
    source : str
        Source label for the store.
    rows_read : int
        Data rows in the file (blank lines excluded), before any filter.
    observations : DataFrame or None
        Canonical observation frame (``symbol, date`` + the mapped fields as
        float64, NaN = missing), sorted by symbol and date. Kind observations.
    macro : DataFrame or None
        ``symbol, date, value`` (float64), sorted. Kind macro.
    instruments : DataFrame or None
        Kind instruments: rows for ``Store.upsert_instruments`` with columns
        ``symbol, kind, asset_class, name, sector, industry, currency`` (None =
        keep the stored value).
    implied_instruments : DataFrame or None
        Kinds observations/macro: one row per symbol (``symbol, kind,
        asset_class, sources``) to create in the store when it does not know
        the symbol yet; ``sources`` is ``{"file": <symbol as in the file>}``.
    membership : DataFrame or None
        ``symbol, start_date, end_date`` (datetime64; end NaT = still a member).
    index_changes : DataFrame or None
        ``date, symbol, action`` (``add`` or ``remove``).
    warnings : tuple of str
        What the user should know: columns not used, rows skipped, symbols
        without the stripped suffix, ``include`` names not found.
    """

    path: Path
    spec: ImportSpec
    source: str
    rows_read: int
    observations: pd.DataFrame | None = None
    macro: pd.DataFrame | None = None
    instruments: pd.DataFrame | None = None
    implied_instruments: pd.DataFrame | None = None
    membership: pd.DataFrame | None = None
    index_changes: pd.DataFrame | None = None
    warnings: tuple[str, ...] = ()

    def rows(self) -> dict[str, int]:
        """Rows per kind (only the kinds present)."""
        out = {}
        for name in ("observations", "macro", "instruments", "membership", "index_changes"):
            frame = getattr(self, name)
            if frame is not None:
                out[name] = len(frame)
        return out

    @property
    def symbols(self) -> tuple[str, ...]:
        """Sorted distinct rotation symbols in the data."""
        for name in ("observations", "macro", "instruments", "membership", "index_changes"):
            frame = getattr(self, name)
            if frame is not None:
                return tuple(sorted(pd.unique(frame["symbol"]).tolist()))
        return ()

    @property
    def date_range(self) -> tuple[date | None, date | None]:
        """First and last date (membership: first start, last start or end); ``(None, None)`` if none."""
        if self.membership is not None:
            dates = pd.concat([self.membership["start_date"], self.membership["end_date"]])
        else:
            frame = next(
                (
                    getattr(self, n)
                    for n in ("observations", "macro", "index_changes")
                    if getattr(self, n) is not None
                ),
                None,
            )
            if frame is None:
                return None, None
            dates = frame["date"]
        dates = dates.dropna()
        if dates.empty:
            return None, None
        return dates.min().date(), dates.max().date()


# ----------------------------------------------------------------------------- reading
class _Table:
    """The raw cells of one file, addressed by data-row position.

    ``frame`` keeps one row per physical data line (blank lines included, so
    position ``i`` is line ``i + 2`` of a CSV file). Text columns are
    factorized once and cached: daily files repeat each date and symbol many
    times, so parsing distinct values is what keeps large files fast.
    """

    def __init__(self, path: Path, frame: pd.DataFrame, *, parquet: bool) -> None:
        self.path = path
        self.frame = frame.reset_index(drop=True)
        self.parquet = parquet
        self._text: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self.frame)

    def error(
        self, message: str, *, row: int | None = None, column: str | None = None
    ) -> ImportFileError:
        """An :class:`ImportFileError` at data-row position ``row`` (0-based)."""
        if row is None:
            return ImportFileError(message, file=self.path, column=column)
        if self.parquet:
            return ImportFileError(f"row {row + 1}: {message}", file=self.path, column=column)
        return ImportFileError(message, file=self.path, line=row + 2, column=column)

    def where(self, row: int) -> str:
        return f"row {row + 1}" if self.parquet else f"line {row + 2}"

    def is_text(self, column: str) -> bool:
        dtype = self.frame[column].dtype
        return not (
            pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_datetime64_any_dtype(dtype)
        )

    def text(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """``(codes, values)``: per-row index into the stripped distinct values; -1 = missing."""
        if column not in self._text:
            codes, uniques = pd.factorize(self.frame[column], use_na_sentinel=True)
            values = np.array([str(u).strip() for u in uniques], dtype=object)
            codes = np.asarray(codes, dtype=np.intp)
            if len(values):
                missing = np.isin(values, np.array(MISSING_TOKENS, dtype=object))
                codes = np.where((codes < 0) | missing[np.maximum(codes, 0)], -1, codes)
            self._text[column] = (codes, values)
        return self._text[column]

    def missing(self, column: str) -> np.ndarray:
        """Per-row mask of missing cells."""
        if self.is_text(column):
            return self.text(column)[0] < 0
        return self.frame[column].isna().to_numpy()


def _file_format(path: Path) -> tuple[str, str]:
    suffixes = [s.lower() for s in path.suffixes]
    gz = bool(suffixes) and suffixes[-1] == ".gz"
    last = (
        (suffixes[-2] if gz and len(suffixes) > 1 else "")
        if gz
        else (suffixes[-1] if suffixes else "")
    )
    if last in _PARQUET_SUFFIXES and not gz:
        return "parquet", ""
    if last in _CSV_SUFFIXES:
        return "csv", _CSV_SUFFIXES[last]
    raise ImportFileError(
        "unsupported file type: use .csv, .tsv or .txt (optionally .gz) or .parquet", file=path
    )


def _csv_header(path: Path, sep: str) -> list[str]:
    # header=None keeps duplicate names as written (pandas would rename them "x.1").
    try:
        first = pd.read_csv(
            path,
            sep=sep,
            nrows=1,
            header=None,
            dtype=str,
            keep_default_na=False,
            encoding="utf-8-sig",
        )
    except pd.errors.EmptyDataError:
        raise ImportFileError("file is empty (no header line)", file=path) from None
    except pd.errors.ParserError as exc:
        raise ImportFileError(f"malformed CSV header: {exc}".strip(), file=path, line=1) from None
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            f"not UTF-8 text: {exc.reason} at byte {exc.start}", file=path
        ) from None
    except (OSError, EOFError) as exc:
        raise ImportFileError(f"cannot read file: {exc}", file=path) from None
    return [str(n) for n in first.iloc[0].tolist()] if len(first) else []


def _check_header(path: Path, names: Sequence[str], parquet: bool) -> None:
    line = None if parquet else 1
    seen: set[str] = set()
    for name in names:
        if not name.strip():
            raise ImportFileError("header has a blank column name", file=path, line=line)
        if name in seen:
            raise ImportFileError(
                "column name appears more than once in the header",
                file=path,
                line=line,
                column=name,
            )
        seen.add(name)


def _read_csv(path: Path, sep: str, text: Sequence[str], numeric: Sequence[str]) -> pd.DataFrame:
    """Read the used columns: text as str (no NA tokens), numbers as float64 when clean.

    The fast path parses numbers in pandas' C reader; if some cell is not a
    number the numeric columns are re-read as text so :func:`_to_float` can
    name the line. Blank lines are kept (as missing rows) so positions match lines.
    """
    usecols = list(dict.fromkeys([*text, *numeric]))
    floats = [c for c in numeric if c not in text]
    common: dict[str, Any] = {
        "sep": sep,
        "usecols": usecols,
        "encoding": "utf-8-sig",
        "keep_default_na": False,
        "skip_blank_lines": False,
    }
    try:
        try:
            return pd.read_csv(
                path,
                # object, not pandas' Arrow-backed str: text columns are factorized
                # right away and the Arrow conversion would cost more than the parse.
                dtype={**dict.fromkeys(text, object), **dict.fromkeys(floats, "float64")},
                na_values={c: list(MISSING_TOKENS) for c in floats},
                **common,
            )
        except ValueError:
            return pd.read_csv(path, dtype=dict.fromkeys(usecols, object), **common)
    except pd.errors.ParserError as exc:
        raise ImportFileError(f"malformed CSV: {exc}".strip(), file=path) from None
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            f"not UTF-8 text: {exc.reason} at byte {exc.start}", file=path
        ) from None
    except (OSError, EOFError) as exc:
        raise ImportFileError(f"cannot read file: {exc}", file=path) from None


def _parquet_header(path: Path) -> list[str]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return list(pq.read_schema(path).names)
    except (pa.ArrowException, OSError) as exc:  # ArrowInvalid for bytes that are not Parquet
        raise ImportFileError(f"not a readable Parquet file: {exc}", file=path) from None


def _read_parquet(path: Path, columns: Sequence[str]) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path, columns=list(dict.fromkeys(columns)))
        return table.to_pandas(date_as_object=False)
    except (pa.ArrowException, OSError) as exc:  # corrupt or truncated file
        raise ImportFileError(f"not a readable Parquet file: {exc}", file=path) from None


# ----------------------------------------------------------------------------- cell parsing
def _to_float(table: _Table, column: str, pos: np.ndarray) -> np.ndarray:
    """Numbers of ``column`` at rows ``pos`` as float64; missing -> NaN; anything else an error."""
    series = table.frame[column]
    if pd.api.types.is_bool_dtype(series.dtype):
        raise table.error("holds true/false values, not numbers", column=column)
    if table.is_text(column):
        codes, values = table.text(column)
        parsed = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan
        )
        codes = codes[pos]
        bad_u = np.isnan(parsed)
        bad = (
            np.flatnonzero((codes >= 0) & bad_u[np.maximum(codes, 0)])
            if len(values)
            else np.array([], int)
        )
        if bad.size:
            i = int(bad[0])
            raise table.error(
                f"cannot parse {values[codes[i]]!r} as a number ({bad.size} such cell(s))",
                row=int(pos[i]),
                column=column,
            )
        out = np.where(codes >= 0, parsed[np.maximum(codes, 0)] if len(values) else np.nan, np.nan)
    else:
        out = series.to_numpy(dtype="float64", na_value=np.nan)[pos]
    inf = np.flatnonzero(np.isinf(out))
    if inf.size:
        raise table.error(
            "infinite value is not a number", row=int(pos[int(inf[0])]), column=column
        )
    return out


#: The dates a datetime64[ns] column can hold; others are refused, never wrapped around.
_DATE_MIN = pd.Timestamp.min.ceil("D")
_DATE_MAX = pd.Timestamp.max.floor("D")
_RANGE_NOTE = f"outside the supported range {_DATE_MIN.date()} .. {_DATE_MAX.date()}"


def _to_ns(index: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    """Midnights as datetime64[ns] plus a mask of dates ns cannot hold (those become NaT).

    pandas may parse to second/microsecond resolution (years 1..9999); a plain
    cast to ns would silently wrap 9999-12-31 around, so out-of-range dates are
    masked first.
    """
    index = pd.DatetimeIndex(index)
    if index.tz is not None:
        index = index.tz_localize(None)
    index = index.floor("D")
    out_of_range = np.asarray((index < _DATE_MIN) | (index > _DATE_MAX), dtype=bool)
    safe = index.where(~out_of_range) if out_of_range.any() else index
    return safe.as_unit("ns").to_numpy(dtype="datetime64[ns]"), out_of_range


def _parse_date_strings(values: np.ndarray, fmt: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Parse distinct date strings: (datetime64[ns] midnights, out-of-range mask).

    Unparseable -> NaT. The calendar date is taken as written (UTC offsets do
    not move it); epoch numbers are UTC.
    """
    if not len(values):
        return np.array([], dtype="datetime64[ns]"), np.array([], dtype=bool)
    if fmt in _UNIX_UNITS:
        numbers = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").astype("float64")
        numbers = numbers.where(np.isfinite(numbers))
        parsed = []
        for n in numbers:  # distinct values only; per-value so one overflow is one NaT
            try:
                parsed.append(pd.Timestamp(n, unit=_UNIX_UNITS[fmt]) if pd.notna(n) else pd.NaT)
            except (OverflowError, ValueError, pd.errors.OutOfBoundsDatetime):
                parsed.append(pd.NaT)
        index = pd.DatetimeIndex(parsed)
    else:
        try:
            index = pd.DatetimeIndex(
                pd.to_datetime(values, format=fmt or "ISO8601", errors="coerce")
            )
        except (ValueError, TypeError):
            # Mixed UTC offsets (-05:00 / -04:00 across DST): keep each wall-clock date.
            stamps = [pd.to_datetime(v, format=fmt or "ISO8601", errors="coerce") for v in values]
            index = pd.DatetimeIndex(
                [
                    s.tz_localize(None) if s is not pd.NaT and s.tzinfo is not None else s
                    for s in stamps
                ]
            )
    return _to_ns(index)


def _to_dates(
    table: _Table, column: str, pos: np.ndarray, fmt: str | None, *, allow_missing: bool = False
) -> np.ndarray:
    """Dates of ``column`` at rows ``pos`` as datetime64[ns] midnights; errors name the line."""
    series = table.frame[column]
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            series = series.dt.tz_localize(None)  # wall-clock date, as for text
        out, out_of_range = _to_ns(pd.DatetimeIndex(series))
        out, out_of_range = out[pos], out_of_range[pos]
        if out_of_range.any():
            i = int(np.flatnonzero(out_of_range)[0])
            raise table.error(f"date {_RANGE_NOTE}", row=int(pos[i]), column=column)
        missing = np.isnat(out)
    elif not table.is_text(column) and fmt not in _UNIX_UNITS:
        raise table.error(
            "holds numbers, not dates: pass date_format unix_s, unix_ms or unix_us for epoch times",
            column=column,
        )
    else:
        if table.is_text(column):
            codes, values = table.text(column)
        else:  # numeric epoch column
            codes, uniques = pd.factorize(series, use_na_sentinel=True)
            values = np.asarray(uniques, dtype=object)
        codes = codes[pos]
        parsed, out_of_range = _parse_date_strings(values, fmt)
        missing = codes < 0
        far = (
            np.flatnonzero(~missing & out_of_range[np.maximum(codes, 0)])
            if len(values)
            else np.array([], dtype=int)
        )
        if far.size:
            i = int(far[0])
            hint = " (leave end_date blank for an open spell)" if column == "end_date" else ""
            raise table.error(
                f"date {values[codes[i]]!r} is {_RANGE_NOTE}{hint}", row=int(pos[i]), column=column
            )
        out = (
            parsed[np.maximum(codes, 0)]
            if len(values)
            else np.full(len(codes), np.datetime64("NaT"), "M8[ns]")
        )
        bad = np.flatnonzero(np.isnat(out) & ~missing)
        if bad.size:
            i = int(bad[0])
            expected = (
                f"format {fmt!r}"
                if fmt
                else "an ISO 8601 date (YYYY-MM-DD); pass date_format for others"
            )
            raise table.error(
                f"cannot parse {values[codes[i]]!r} as a date: expected {expected}",
                row=int(pos[i]),
                column=column,
            )
        out = np.where(missing, np.datetime64("NaT"), out).astype("datetime64[ns]")
    if missing.any() and not allow_missing:
        raise table.error(
            "blank date", row=int(pos[int(np.flatnonzero(missing)[0])]), column=column
        )
    return out


def _to_text(table: _Table, column: str, pos: np.ndarray) -> np.ndarray:
    """Stripped text at rows ``pos`` (object array), missing -> None."""
    codes, values = table.text(column)
    codes = codes[pos]
    out = np.empty(len(codes), dtype=object)
    if len(values):
        out[:] = values[np.maximum(codes, 0)]
    out[codes < 0] = None
    return out


# ----------------------------------------------------------------------------- symbols
class _Symbols:
    """File symbols of a table, mapped to rotation symbols and filtered, collecting warnings.

    Attributes (after :meth:`resolve`)
    ----------------------------------
    file_values : ndarray of str
        Distinct symbols as written in the file.
    rotation : ndarray of object
        Rotation symbol per distinct file symbol; None when include/exclude drop it.
    """

    def __init__(self, spec: ImportSpec, warnings: list[str]) -> None:
        self.spec = spec
        self.warnings = warnings

    def resolve(self, file_values: Sequence[str]) -> np.ndarray:
        spec = self.spec
        self.file_values = np.asarray(file_values, dtype=object)
        rotation = np.empty(len(self.file_values), dtype=object)
        unsuffixed, seen = [], set()
        for i, raw in enumerate(self.file_values):
            sym = spec.rotation_symbol(raw)
            if spec.strip_suffix and raw not in spec.symbol_map and sym == raw:
                unsuffixed.append(raw)
            seen.add(sym)
            keep = (spec.include is None or sym in spec.include) and not (
                spec.exclude and sym in spec.exclude
            )
            rotation[i] = sym if keep else None
        if unsuffixed:
            self.warnings.append(
                f"{len(unsuffixed)} symbol(s) do not end with '{spec.strip_suffix}' and were kept as they are: "
                + _preview(sorted(unsuffixed))
            )
        if spec.include is not None:
            absent = sorted(set(spec.include) - seen)
            if absent:
                self.warnings.append(f"include names symbol(s) not in the file: {_preview(absent)}")
        self.rotation = rotation
        return rotation


def _preview(items: Sequence[str], n: int = 8) -> str:
    shown = ", ".join(items[:n])
    return shown + (f", ... ({len(items)} in all)" if len(items) > n else "")


def _row_symbols(
    table: _Table,
    spec: ImportSpec,
    plan: dict[str, Any],
    pos: np.ndarray,
    mapper: _Symbols,
    warnings: list[str],
) -> tuple[np.ndarray, np.ndarray]:
    """Resolve symbols of rows ``pos``: returns kept positions and their file-symbol codes."""
    if spec.symbol is not None:
        codes, values = np.zeros(len(table), dtype=np.intp), np.array([spec.symbol], dtype=object)
    else:
        codes, values = table.text(plan["symbol"])
    codes = codes[pos]
    blank = np.flatnonzero(codes < 0)
    if blank.size:
        raise table.error("blank symbol", row=int(pos[int(blank[0])]), column=plan.get("symbol"))
    rotation = mapper.resolve(values)
    keep = (
        np.array([r is not None for r in rotation], dtype=bool)[codes]
        if len(values)
        else np.ones(0, bool)
    )
    if not keep.all():
        warnings.append(f"{int((~keep).sum())} row(s) of excluded symbols skipped")
    if spec.where is not None:
        column, pattern = spec.where
        if column not in table.frame.columns:
            raise table.error(f"'where' names a column the file does not have: {column}", column=column)
        where_codes, where_values = table.text(column)
        rx = re.compile(pattern)
        matches = np.array([bool(rx.search(v)) for v in where_values], dtype=bool)
        row_codes = where_codes[pos]
        hit = np.where(row_codes >= 0, matches[np.maximum(row_codes, 0)], False) if len(matches) else (
            np.zeros(len(pos), dtype=bool))
        if not hit.all():
            warnings.append(f"{int((~hit).sum())} row(s) not matching where {column} ~ /{pattern}/ skipped")
        keep = keep & hit
    return pos[keep], codes[keep]


def _rotation_codes(rotation: np.ndarray, file_codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row code into the sorted distinct rotation symbols (several file symbols may share one)."""
    kept = np.array([r if r is not None else "" for r in rotation], dtype=object)
    names, inverse = (
        np.unique(kept, return_inverse=True)
        if len(kept)
        else (np.array([], object), np.array([], int))
    )
    return inverse[file_codes] if len(kept) else np.array([], dtype=np.intp), names


def _check_duplicates(
    table: _Table,
    keys: dict[str, np.ndarray],
    pos: np.ndarray,
    what: str,
    show: dict[str, np.ndarray] | None = None,
) -> None:
    """Refuse rows that share a key; name the first duplicate key and its lines."""
    if len(pos) < 2:
        return
    frame = pd.DataFrame(keys)
    dup = frame.duplicated(keep=False).to_numpy()
    if not dup.any():
        return
    first = int(np.flatnonzero(dup)[0])
    same = np.flatnonzero(dup & (frame == frame.iloc[first]).all(axis=1).to_numpy())
    shown = show or keys
    parts = []
    for name in shown:
        v = shown[name][first]
        parts.append(str(pd.Timestamp(v).date()) if isinstance(v, np.datetime64) else str(v))
    places = " and ".join(table.where(int(pos[i])) for i in same[:3])
    n = int(frame.loc[dup].drop_duplicates().shape[0])
    raise table.error(
        f"duplicate {what} ({', '.join(parts)}) on {places}; {n} key(s) occur more than once"
    )


def _shift(dates: np.ndarray, days: int) -> np.ndarray:
    return dates + np.timedelta64(days, "D") if days else dates


# ----------------------------------------------------------------------------- main entry
def read_table(path: str | Path, spec: ImportSpec | None = None) -> ImportedData:
    """Parse one CSV/Parquet file into canonical frames as ``spec`` describes.

    Parameters
    ----------
    path : str or Path
        The file (``.csv``, ``.tsv``, ``.txt``, optionally ``.gz``; ``.parquet``).
    spec : ImportSpec, optional
        How to read it; default ``ImportSpec()`` (long observations with
        ``date``, ``symbol`` and canonical field columns).

    Returns
    -------
    ImportedData
        Frames for the spec's kind (observations/macro: one row per symbol and
        date, sorted, values float64 with NaN for missing), the instrument rows
        the data implies, and warnings. Nothing is written anywhere.

    Raises
    ------
    ImportFileError
        The file is missing or unreadable; a column the spec names is not in
        it (the message lists the columns present); a date or number cannot be
        parsed, or a symbol or date is blank (file, line and column named);
        two rows share a key (the key and the lines of the first duplicate named).
    ParameterError
        The spec is inconsistent (raised when the spec is built).

    Notes
    -----
    Vectorised: distinct dates and symbols are parsed once, numbers by
    pandas' C reader; a 1.4-million-row long file parses in about a second.
    """
    spec = spec or ImportSpec()
    path = Path(path)
    if not path.is_file():
        raise ImportFileError("no such file", file=path)
    fmt, sep = _file_format(path)
    parquet = fmt == "parquet"
    header = _parquet_header(path) if parquet else _csv_header(path, sep)
    _check_header(path, header, parquet)
    plan = _plan_columns(path, spec, header)
    if parquet:
        frame = _read_parquet(path, [*plan["text"], *plan["numeric"]])
    else:
        frame = _read_csv(path, sep, plan["text"], plan["numeric"])
    table = _Table(path, frame, parquet=parquet)
    warnings: list[str] = list(plan["warnings"])
    # Blank lines (every used cell missing) are skipped; positions still match lines.
    used = list(table.frame.columns)
    blank = (
        np.logical_and.reduce([table.missing(c) for c in used])
        if used
        else np.ones(len(table), bool)
    )
    pos = np.flatnonzero(~np.asarray(blank, dtype=bool))
    base: dict[str, Any] = {
        "path": path,
        "spec": spec,
        "source": spec.source_label(path),
        "rows_read": len(pos),
    }
    if spec.kind in {"observations", "macro"}:
        reader = _read_wide if spec.layout == "wide" else _read_long
    else:
        reader = {
            "instruments": _read_instruments,
            "membership": _read_membership,
            "index_changes": _read_changes,
        }[spec.kind]
    return reader(table, spec, plan, pos, warnings, base)


def _plan_columns(path: Path, spec: ImportSpec, header: Sequence[str]) -> dict[str, Any]:
    """Decide which file columns feed which fields; unknown names are errors listing the header."""
    present = list(header)

    def need(column: str, role: str) -> str:
        if column not in present:
            raise ImportFileError(
                f"{role} column not found; columns present: {', '.join(map(repr, present))}",
                file=path,
                column=column,
            )
        return column

    kind, warnings = spec.kind, []
    plan: dict[str, Any] = {"text": [], "numeric": [], "fields": {}, "warnings": warnings}
    if kind in {"observations", "macro", "index_changes"}:
        plan["date"] = need(spec.date_column, "date")
        plan["text"].append(plan["date"])
    if spec.layout == "wide":
        plan["symbol_columns"] = [c for c in present if c != plan["date"]]
        plan["numeric"].extend(plan["symbol_columns"])
        return plan
    if kind in {"observations", "macro", "instruments", "membership"} and spec.symbol is None:
        plan["symbol"] = need(spec.symbol_column or "symbol", "symbol")
        plan["text"].append(plan["symbol"])
    if kind == "macro":
        plan["fields"] = {"value": need(spec.value_column or "value", "value")}
    else:
        candidates = {
            "observations": OBSERVATION_FIELDS,
            "instruments": INSTRUMENT_FIELDS,
            "membership": MEMBERSHIP_FIELDS,
            "index_changes": CHANGE_FIELDS,
        }[kind]
        if spec.columns:
            plan["fields"] = {f: need(c, f"'{f}'") for f, c in spec.columns.items()}
        else:
            plan["fields"] = {f: f for f in candidates if f in present}
        if not plan["fields"]:
            raise ImportFileError(
                f"no column is named like a {kind} field ({', '.join(candidates)}): map them with columns "
                f"(CLI --field FIELD=COLUMN); columns present: {', '.join(map(repr, present))}",
                file=path,
            )
        if kind == "membership" and "start_date" not in plan["fields"]:
            raise ImportFileError(
                "membership files need a start_date column (map it with columns)", file=path
            )
    sources = list(dict.fromkeys(plan["fields"].values()))
    if kind in {"observations", "macro"}:
        plan["numeric"].extend(c for c in sources if c not in plan["text"])
        clash = [c for c in sources if c in plan["text"]]
        if clash:
            raise ImportFileError(
                "used both as a date/symbol column and as a value column",
                file=path,
                column=clash[0],
            )
    else:
        plan["text"].extend(c for c in sources if c not in plan["text"])
    if spec.where is not None:
        if spec.where[0] not in present:
            raise ImportFileError(
                f"'where' names a column the file does not have (columns: {', '.join(present)})",
                file=path,
                column=spec.where[0],
            )
        if spec.where[0] not in plan["text"]:
            plan["text"].append(spec.where[0])
    used = set(plan["text"]) | set(plan["numeric"])
    unused = [c for c in present if c not in used]
    if unused:
        warnings.append(f"column(s) not imported: {', '.join(unused)}")
    return plan


def _implied(spec: ImportSpec, symbols: Sequence[str], file_symbols: Sequence[str]) -> pd.DataFrame:
    """Instrument rows implied by an observations/macro import (created only if unknown)."""
    kind = "instrument" if spec.kind == "observations" else "macro"
    return pd.DataFrame(
        {
            "symbol": pd.Series(list(symbols), dtype=object),
            "kind": kind,
            "asset_class": pd.Series(
                [spec.asset_class if kind == "instrument" else None] * len(symbols), dtype=object
            ),
            "sources": pd.Series([{"file": str(f)} for f in file_symbols], dtype=object),
        }
    )


def _series_frame(
    table: _Table,
    spec: ImportSpec,
    pos: np.ndarray,
    sym_code: np.ndarray,
    names: np.ndarray,
    file_of_name: np.ndarray,
    dates: np.ndarray,
    values: dict[str, np.ndarray],
    warnings: list[str],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Assemble a sorted canonical frame from per-row arrays; drop empty rows; refuse duplicates.

    ``sym_code`` indexes ``names`` (sorted rotation symbols); ``file_of_name``
    gives, per name, the file symbol it came from (for the implied instrument rows).
    """
    dates = _shift(dates, spec.date_shift_days)
    if values:
        empty = np.logical_and.reduce([np.isnan(v) for v in values.values()])
        if empty.any():
            warnings.append(f"{int(empty.sum())} row(s) without any value skipped")
            keep = ~empty
            pos, sym_code, dates = pos[keep], sym_code[keep], dates[keep]
            values = {k: v[keep] for k, v in values.items()}
    order = np.lexsort((dates, sym_code))
    sym_code, dates, pos = sym_code[order], dates[order], pos[order]
    # sorted by (symbol, date): duplicates are neighbours
    same = (sym_code[1:] == sym_code[:-1]) & (dates[1:] == dates[:-1])
    if same.any():
        # Report the key that repeats earliest in the file, with its lines.
        in_group = np.zeros(len(pos), dtype=bool)
        in_group[1:] |= same
        in_group[:-1] |= same
        rows = np.flatnonzero(in_group)
        groups = pd.DataFrame({"g": np.cumsum(np.r_[True, ~same])[rows], "p": pos[rows], "r": rows})
        groups = groups.sort_values("p", kind="stable")
        repeats = groups[groups.groupby("g").cumcount() >= 1]
        g = repeats["g"].iloc[0]
        members = groups[groups["g"] == g]
        r = int(members["r"].iloc[0])
        lines = " and ".join(table.where(int(x)) for x in members["p"].iloc[:3])
        raise table.error(
            f"duplicate (symbol, date) rows ({names[sym_code[r]]}, {pd.Timestamp(dates[r]).date()}) on {lines}; "
            f"{int(same.sum())} row(s) repeat an earlier key"
        )
    symbol = (
        pd.array(np.asarray(names, dtype=object), dtype="str")[sym_code]
        if len(names)
        else pd.array([], dtype="str")
    )
    frame = pd.DataFrame(
        {"symbol": symbol, "date": dates, **{k: v[order] for k, v in values.items()}}
    )
    present = np.unique(sym_code)
    implied = _implied(spec, names[present].tolist(), file_of_name[present].tolist())
    return frame, implied


def _read_long(
    table: _Table,
    spec: ImportSpec,
    plan: dict[str, Any],
    pos: np.ndarray,
    warnings: list[str],
    base: dict[str, Any],
) -> ImportedData:
    mapper = _Symbols(spec, warnings)
    pos, file_codes = _row_symbols(table, spec, plan, pos, mapper, warnings)
    sym_code, names = _rotation_codes(mapper.rotation, file_codes)
    # per rotation name, the first file symbol that maps to it (in file-value order)
    file_of_name = np.empty(len(names), dtype=object)
    for fv, rot in zip(mapper.file_values[::-1], mapper.rotation[::-1], strict=True):
        if rot is not None:
            file_of_name[np.searchsorted(names, rot)] = fv
    dates = _to_dates(table, plan["date"], pos, spec.date_format)
    values: dict[str, np.ndarray] = {}
    parsed: dict[str, np.ndarray] = {}
    for fld, col in plan["fields"].items():
        if col not in parsed:
            parsed[col] = _to_float(table, col, pos)
        values[fld] = _adjust(spec, fld, parsed[col], warnings)
    frame, implied = _series_frame(
        table, spec, pos, sym_code, names, file_of_name, dates, values, warnings
    )
    if spec.kind == "macro":
        return ImportedData(
            **base, macro=frame, implied_instruments=implied, warnings=tuple(warnings)
        )
    return ImportedData(
        **base, observations=frame, implied_instruments=implied, warnings=tuple(warnings)
    )


def _adjust(
    spec: ImportSpec, fld: str, values: np.ndarray, warnings: list[str], who: str = ""
) -> np.ndarray:
    """Apply zero_as_missing and units to one field's numbers (returns a new array)."""
    out = values.astype("float64", copy=True)
    if fld in spec.zero_as_missing:
        zeros = out == 0
        if zeros.any():
            warnings.append(
                f"{int(zeros.sum())} zero {fld} value(s){who} read as missing (zero_as_missing)"
            )
            out[zeros] = np.nan
    if fld in spec.units:
        out *= spec.units[fld]
    return out


def _read_wide(
    table: _Table,
    spec: ImportSpec,
    plan: dict[str, Any],
    pos: np.ndarray,
    warnings: list[str],
    base: dict[str, Any],
) -> ImportedData:
    mapper = _Symbols(spec, warnings)
    columns = plan["symbol_columns"]
    rotation = mapper.resolve([c.strip() for c in columns])
    kept = [(c, r) for c, r in zip(columns, rotation, strict=True) if r is not None]
    first_col: dict[str, str] = {}
    for col, sym in kept:
        if sym in first_col:
            raise table.error(
                f"columns '{first_col[sym]}' and '{col}' both map to symbol {sym}", column=col
            )
        first_col[sym] = col
    if len(kept) < len(columns):
        warnings.append(f"{len(columns) - len(kept)} symbol column(s) excluded")
    dates = _to_dates(table, plan["date"], pos, spec.date_format)
    fld = spec.field or "value"
    names = np.array(sorted(first_col), dtype=object)
    file_of_name = np.array([first_col[n].strip() for n in names], dtype=object)
    parts_pos, parts_code, parts_dates, parts_vals = [], [], [], []
    blank_cells = 0
    for col, sym in kept:
        vals = _adjust(spec, fld, _to_float(table, col, pos), warnings, who=f" of {sym}")
        present = ~np.isnan(vals)
        blank_cells += int((~present).sum())
        parts_pos.append(pos[present])
        parts_code.append(
            np.full(int(present.sum()), int(np.searchsorted(names, sym)), dtype=np.intp)
        )
        parts_dates.append(dates[present])
        parts_vals.append(vals[present])
    if blank_cells:
        warnings.append(f"{blank_cells} blank cell(s) skipped")

    def cat(parts: list[np.ndarray], dtype: str) -> np.ndarray:
        return np.concatenate(parts) if parts else np.array([], dtype=dtype)

    frame, implied = _series_frame(
        table,
        spec,
        cat(parts_pos, "intp"),
        cat(parts_code, "intp"),
        names,
        file_of_name,
        cat(parts_dates, "datetime64[ns]"),
        {fld: cat(parts_vals, "float64")},
        warnings,
    )
    if spec.kind == "macro":
        return ImportedData(
            **base, macro=frame, implied_instruments=implied, warnings=tuple(warnings)
        )
    return ImportedData(
        **base, observations=frame, implied_instruments=implied, warnings=tuple(warnings)
    )


def _read_instruments(
    table: _Table,
    spec: ImportSpec,
    plan: dict[str, Any],
    pos: np.ndarray,
    warnings: list[str],
    base: dict[str, Any],
) -> ImportedData:
    mapper = _Symbols(spec, warnings)
    pos, file_codes = _row_symbols(table, spec, plan, pos, mapper, warnings)
    symbols = mapper.rotation[file_codes] if len(file_codes) else np.array([], dtype=object)
    _check_duplicates(table, {"symbol": symbols}, pos, "symbol rows")
    out = pd.DataFrame({"symbol": pd.Series(symbols, dtype=object)})
    out["kind"] = "instrument"
    out["asset_class"] = pd.Series([spec.asset_class] * len(out), dtype=object)
    for fld in INSTRUMENT_FIELDS:
        col = plan["fields"].get(fld)
        cells = _to_text(table, col, pos) if col else np.full(len(out), None, dtype=object)
        out[fld] = pd.Series(cells, dtype=object)
    out = out.sort_values("symbol", kind="stable").reset_index(drop=True)
    return ImportedData(**base, instruments=out, warnings=tuple(warnings))


def _read_membership(
    table: _Table,
    spec: ImportSpec,
    plan: dict[str, Any],
    pos: np.ndarray,
    warnings: list[str],
    base: dict[str, Any],
) -> ImportedData:
    mapper = _Symbols(spec, warnings)
    pos, file_codes = _row_symbols(table, spec, plan, pos, mapper, warnings)
    symbols = mapper.rotation[file_codes] if len(file_codes) else np.array([], dtype=object)
    start_col, end_col = plan["fields"]["start_date"], plan["fields"].get("end_date")
    start = _to_dates(table, start_col, pos, spec.date_format)
    end = (
        _to_dates(table, end_col, pos, spec.date_format, allow_missing=True)
        if end_col
        else np.full(len(pos), np.datetime64("NaT"), dtype="datetime64[ns]")
    )
    backwards = np.flatnonzero(~np.isnat(end) & (end < start))
    if backwards.size:
        raise table.error(
            "membership ends before it starts", row=int(pos[int(backwards[0])]), column=end_col
        )
    _check_duplicates(
        table,
        {"symbol": symbols, "start": start.view("int64")},
        pos,
        "(symbol, start_date) rows",
        show={"symbol": symbols, "start": start},
    )
    out = pd.DataFrame(
        {"symbol": pd.Series(symbols, dtype=object), "start_date": start, "end_date": end}
    )
    out = out.sort_values(["symbol", "start_date"], kind="stable").reset_index(drop=True)
    return ImportedData(**base, membership=out, warnings=tuple(warnings))


def _read_changes(
    table: _Table,
    spec: ImportSpec,
    plan: dict[str, Any],
    pos: np.ndarray,
    warnings: list[str],
    base: dict[str, Any],
) -> ImportedData:
    dates = _shift(_to_dates(table, plan["date"], pos, spec.date_format), spec.date_shift_days)
    rows: list[tuple[int, np.datetime64, str, str]] = []  # (position, date, file symbol, action)
    acted = np.zeros(len(pos), dtype=bool)
    for action in CHANGE_FIELDS:
        col = plan["fields"].get(action)
        if col is None:
            continue
        for i, cell in enumerate(_to_text(table, col, pos)):
            if cell is None:
                continue
            # One cell may list several symbols: "CTVA,DD" (index changes are small files).
            for sym in (s.strip() for s in cell.split(",")):
                if sym:
                    rows.append((int(pos[i]), dates[i], sym, action))
                    acted[i] = True
    if not acted.all():
        warnings.append(f"{int((~acted).sum())} row(s) add and remove nothing and were skipped")
    mapper = _Symbols(spec, warnings)
    file_values = list(dict.fromkeys(r[2] for r in rows))
    rotation = dict(zip(file_values, mapper.resolve(file_values), strict=True))
    kept = [r for r in rows if rotation[r[2]] is not None]
    if len(kept) < len(rows):
        warnings.append(f"{len(rows) - len(kept)} change(s) of excluded symbols skipped")
    rpos = np.array([r[0] for r in kept], dtype=np.intp)
    rdates = np.array([r[1] for r in kept], dtype="datetime64[ns]")
    rsyms = np.array([rotation[r[2]] for r in kept], dtype=object)
    racts = np.array([r[3] for r in kept], dtype=object)
    _check_duplicates(
        table,
        {"date": rdates.view("int64"), "symbol": rsyms, "action": racts},
        rpos,
        "(date, symbol, action) rows",
        show={"date": rdates, "symbol": rsyms, "action": racts},
    )
    out = pd.DataFrame(
        {
            "date": rdates,
            "symbol": pd.Series(rsyms, dtype=object),
            "action": pd.Series(racts, dtype=object),
        }
    )
    out = out.sort_values(["date", "action", "symbol"], kind="stable").reset_index(drop=True)
    return ImportedData(**base, index_changes=out, warnings=tuple(warnings))
