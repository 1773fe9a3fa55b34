"""``rotation import``: bring your own data (long or wide CSV / Parquet).

Every option maps to one :class:`~rotation.sources.files.ImportSpec` field;
see that class for the meaning of each. ``--field`` does double duty on
purpose: ``--field close=price_usd`` maps a file column to a field in long
files (``columns``), ``--field close`` alone names the field the cells of a
wide file hold (``field``; in a long file it means ``close=close``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from rotation.cli._common import StoreOption, console, err_console, guard, open_store
from rotation.errors import ParameterError
from rotation.sources.files import IMPORT_KINDS, ImportSpec

if TYPE_CHECKING:
    from rotation.store._import import ImportReport

__all__ = ["build_spec", "register"]


def _pairs(values: list[str] | None, option: str) -> dict[str, str]:
    """``["a=b", "c=d"]`` -> ``{"a": "b", "c": "d"}``; a malformed pair is a ParameterError."""
    out: dict[str, str] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise ParameterError(option, f"expected KEY=VALUE, got {item!r}")
        if key in out:
            raise ParameterError(option, f"{key!r} given twice")
        out[key] = value
    return out


def _symbols(values: list[str] | None) -> tuple[str, ...] | None:
    """Repeatable and/or comma-separated symbol lists -> tuple (None when not given)."""
    if not values:
        return None
    return tuple(s.strip() for v in values for s in v.split(",") if s.strip())


def build_spec(
    *,
    kind: str = "observations",
    layout: str = "long",
    date_col: str = "date",
    symbol_col: str | None = None,
    symbol: str | None = None,
    field: list[str] | None = None,
    value_col: str | None = None,
    units: list[str] | None = None,
    zero_as_missing: list[str] | None = None,
    date_format: str | None = None,
    date_shift: int = 0,
    symbol_map: list[str] | None = None,
    strip_suffix: str | None = None,
    include: list[str] | None = None,
    exclude: list[str] | None = None,
    source: str | None = None,
    asset_class: str | None = None,
    index_name: str | None = None,
    where: str | None = None,
) -> ImportSpec:
    """Turn CLI option values into an :class:`ImportSpec` (raises ParameterError on bad values)."""
    columns: dict[str, str] = {}
    cell_field: str | None = None
    for item in field or []:
        if "=" in item:
            columns.update(_pairs([item], "--field"))
        elif layout == "wide":
            if cell_field is not None:
                raise ParameterError(
                    "--field", "a wide file's cells hold one field; give --field once"
                )
            cell_field = item.strip()
        else:
            columns[item.strip()] = item.strip()
    multipliers: dict[str, float] = {}
    for key, text in _pairs(units, "--units").items():
        try:
            multipliers[key] = float(text)
        except ValueError:
            raise ParameterError("--units", f"{key}={text!r}: {text!r} is not a number") from None
        if not math.isfinite(multipliers[key]):
            raise ParameterError("--units", f"{key}={text!r} is not finite")
    return ImportSpec(
        kind=kind,
        layout=layout,
        date_column=date_col,
        symbol_column=symbol_col,
        symbol=symbol,
        columns=columns,
        field=cell_field,
        value_column=value_col,
        units=multipliers,
        zero_as_missing=_symbols(zero_as_missing) or (),
        date_format=date_format,
        date_shift_days=date_shift,
        symbol_map=_pairs(symbol_map, "--symbol-map"),
        strip_suffix=strip_suffix,
        include=_symbols(include),
        exclude=_symbols(exclude),
        source=source,
        asset_class=asset_class,
        index_name=index_name,
        where=_where(where),
    )


def _where(text: str | None) -> tuple[str, str] | None:
    if text is None:
        return None
    column, sep, pattern = text.partition("=")
    if not sep or not column.strip() or not pattern:
        raise ParameterError("--where", f"expected COLUMN=REGEX, got {text!r}")
    return column.strip(), pattern


def _summary(report: ImportReport) -> Table:
    table = Table(title=f"imported {report.path.name}", show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value")
    table.add_row("source", report.source)
    table.add_row(
        "kind", report.kind + (f" (index {report.index_name})" if report.index_name else "")
    )
    table.add_row("rows read", f"{report.rows_read:,}")
    for name, n in report.rows.items():
        table.add_row(f"{name} written", f"{n:,}")
    syms = report.symbols
    shown = ", ".join(syms[:12]) + (f", ... ({len(syms)} in all)" if len(syms) > 12 else "")
    table.add_row("symbols", shown or "-")
    table.add_row("dates", f"{report.start} .. {report.end}" if report.start else "-")
    if report.instruments_created:
        created = report.instruments_created
        table.add_row(
            "new instruments",
            f"{len(created)}: " + ", ".join(created[:12]) + (" ..." if len(created) > 12 else ""),
        )
    return table


def register(app: typer.Typer) -> None:
    """Add ``rotation import PATH [options]`` to ``app``."""

    @app.command("import")
    def import_command(
        path: Annotated[
            Path, typer.Argument(help="CSV (.csv/.tsv/.txt, optionally .gz) or Parquet file.")
        ],
        kind: Annotated[
            str, typer.Option("--kind", help=f"What the rows are: {' | '.join(IMPORT_KINDS)}.")
        ] = "observations",
        layout: Annotated[
            str,
            typer.Option(
                "--layout",
                help="long (one row per symbol and date) or wide (one column per symbol).",
            ),
        ] = "long",
        date_col: Annotated[str, typer.Option("--date-col", help="Date column.")] = "date",
        symbol_col: Annotated[
            str | None,
            typer.Option("--symbol-col", help="Symbol column of a long file (default: symbol)."),
        ] = None,
        symbol: Annotated[
            str | None,
            typer.Option(
                "--symbol", help="Constant symbol of a single-series file (no symbol column)."
            ),
        ] = None,
        field: Annotated[
            list[str] | None,
            typer.Option(
                "--field",
                help="FIELD=COLUMN maps a column to a canonical field (repeatable); in a wide file FIELD names what the cells hold.",
            ),
        ] = None,
        value_col: Annotated[
            str | None,
            typer.Option("--value-col", help="Value column of a long macro file (default: value)."),
        ] = None,
        units: Annotated[
            list[str] | None,
            typer.Option("--units", help="FIELD=MULTIPLIER, e.g. market_cap=1e9 (repeatable)."),
        ] = None,
        zero_as_missing: Annotated[
            list[str] | None,
            typer.Option(
                "--zero-as-missing",
                help="Field whose zeros mean 'unknown' (repeatable or comma-separated).",
            ),
        ] = None,
        date_format: Annotated[
            str | None,
            typer.Option(
                "--date-format",
                help="strftime pattern or unix_s/unix_ms/unix_us (default: ISO 8601).",
            ),
        ] = None,
        date_shift: Annotated[
            int,
            typer.Option(
                "--date-shift",
                help="Days added to every date (-1 for 00:00-UTC snapshot files such as CoinGecko).",
            ),
        ] = 0,
        symbol_map: Annotated[
            list[str] | None,
            typer.Option("--symbol-map", help="FILE_SYMBOL=SYMBOL, e.g. BTCUSDT=BTC (repeatable)."),
        ] = None,
        strip_suffix: Annotated[
            str | None,
            typer.Option("--strip-suffix", help="Suffix removed from file symbols, e.g. USDT."),
        ] = None,
        include: Annotated[
            list[str] | None,
            typer.Option("--include", help="Only these symbols (repeatable or comma-separated)."),
        ] = None,
        exclude: Annotated[
            list[str] | None,
            typer.Option("--exclude", help="Not these symbols (repeatable or comma-separated)."),
        ] = None,
        source: Annotated[
            str | None,
            typer.Option("--source", help="Source label in the store (default: the file name)."),
        ] = None,
        asset_class: Annotated[
            str | None,
            typer.Option(
                "--asset-class",
                help="Asset class of instruments the import creates (default: equity).",
            ),
        ] = None,
        index_name: Annotated[
            str | None,
            typer.Option(
                "--index-name", help="Index of a membership / index_changes file, e.g. SP500."
            ),
        ] = None,
        where: Annotated[
            str | None,
            typer.Option(
                "--where",
                help="COLUMN=REGEX: import only rows whose COLUMN matches (e.g. source=^vendorA/).",
            ),
        ] = None,
        store: StoreOption = None,
    ) -> None:
        """Import a CSV or Parquet file (long or wide) into the store, all or nothing."""
        with guard():
            spec = build_spec(
                kind=kind,
                layout=layout,
                date_col=date_col,
                symbol_col=symbol_col,
                symbol=symbol,
                field=field,
                value_col=value_col,
                units=units,
                zero_as_missing=zero_as_missing,
                date_format=date_format,
                date_shift=date_shift,
                symbol_map=symbol_map,
                strip_suffix=strip_suffix,
                include=include,
                exclude=exclude,
                source=source,
                asset_class=asset_class,
                index_name=index_name,
                where=where,
            )
            from rotation.store._import import import_file  # duckdb: only when a file is imported

            with open_store(store) as db:
                report = import_file(db, path, spec)
            console.print(_summary(report))
            for note in report.warnings:
                err_console.print(f"[yellow]warning:[/] {note}", highlight=False, soft_wrap=True)
