"""``rotation fetch``, ``rotation status`` and ``rotation report``."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from rotation.cli._common import (
    EXIT_FAILED,
    StoreOption,
    UniverseOption,
    console,
    err_console,
    guard,
    open_store,
    parse_date,
    settings,
    universe_from,
)
from rotation.errors import EmptyStoreError, ParameterError


def _parse_date(value: str | None, name: str) -> date | None:
    ts = parse_date(value, name)
    return None if ts is None else ts.date()


def _day(value: object) -> str:
    return "" if value is None or pd.isna(value) else str(pd.Timestamp(value).date())


def register(app: typer.Typer) -> None:
    @app.command()
    def fetch(
        store: StoreOption = None,
        universe: UniverseOption = None,
        symbol: Annotated[list[str] | None, typer.Option("--symbol", "-s", help="Only this symbol (repeatable).")] = None,
        provider: Annotated[list[str] | None, typer.Option("--provider", "-p", help="Only this provider (repeatable).")] = None,
        primary_only: Annotated[bool, typer.Option("--primary-only", help="Only each symbol's preferred provider.")] = False,
        start: Annotated[str | None, typer.Option(help="Force the start date (YYYY-MM-DD).")] = None,
        end: Annotated[str | None, typer.Option(help="Force the end date (YYYY-MM-DD).")] = None,
        overlap: Annotated[int, typer.Option(help="Days re-fetched before the last stored date.")] = 7,
    ) -> None:
        """Download what is missing for the universe (incremental, resumable)."""
        from rotation.store import fetch as run_fetch
        from rotation.store import plan_fetch

        with guard():
            uni = universe_from(universe)
            cfg = settings(store, universe)
            jobs = plan_fetch(uni, symbols=symbol, providers=provider, primary_only=primary_only)
            with open_store(store) as db:
                console.print(f"store: [bold]{db.path}[/]  jobs: {len(jobs)}", highlight=False)
                progress = Progress(
                    TextColumn("{task.description}"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeElapsedColumn(),
                    console=console,
                    transient=False,
                )
                with progress:
                    overall = progress.add_task("[bold]all instruments", total=len(jobs))
                    current: dict[str, int] = {}

                    def on_start(job: object) -> None:
                        key = f"{job.symbol} ({job.provider})"  # type: ignore[attr-defined]
                        current["task"] = progress.add_task(f"  {key}", total=1)

                    def on_done(outcome: object) -> None:
                        o = outcome  # FetchOutcome
                        mark = {"ok": "[green]ok[/]", "empty": "[yellow]empty[/]", "skipped": "[dim]up to date[/]"}.get(
                            o.status, "[red]failed[/]"  # type: ignore[attr-defined]
                        )
                        progress.update(
                            current["task"], completed=1,
                            description=f"  {o.job.symbol} ({o.job.provider}) {mark} {o.rows} rows",  # type: ignore[attr-defined]
                        )
                        progress.advance(overall)

                    report = run_fetch(
                        db, uni, symbols=symbol, providers=provider, primary_only=primary_only,
                        start=_parse_date(start, "start"), end=_parse_date(end, "end"), overlap_days=overlap,
                        settings=cfg, on_start=on_start, on_done=on_done,
                    )
            frame = report.to_frame()
            counts = frame["status"].value_counts().to_dict() if not frame.empty else {}
            console.print(
                f"done: {report.rows} rows; "
                + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())),
                highlight=False,
            )
            if report.failed:
                table = Table(title="failed", show_lines=False)
                for col in ("symbol", "provider", "message"):
                    table.add_column(col)
                for o in report.failed:
                    table.add_row(o.job.symbol, o.job.provider, o.message[:160])
                err_console.print(table)
                err_console.print("Stored data is intact; run `rotation fetch` again to retry the failed ones.")
                raise typer.Exit(EXIT_FAILED)

    @app.command()
    def status(
        store: StoreOption = None,
        as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    ) -> None:
        """What is stored: instruments, date ranges, last fetch per source."""
        with guard():
            path = settings(store).store_path
            if not path.exists():
                raise EmptyStoreError(
                    f"no store at {path} yet. Run `rotation fetch` (online) or `rotation import FILE` (offline)."
                )
            with open_store(store, read_only=True) as db:
                coverage = db.coverage()
                last = db.last_fetches()
                version = db.data_version()
                instruments = db.instruments()
            if as_json:
                out = {
                    "store": str(path),
                    "data_version": version,
                    "coverage": json.loads(coverage.to_json(orient="records", date_format="iso")),
                    "last_fetches": json.loads(last.to_json(orient="records", date_format="iso")),
                }
                typer.echo(json.dumps(out, indent=2))
                return
            size_mb = path.stat().st_size / 1e6
            console.print(
                f"store: [bold]{path}[/] ({size_mb:.1f} MB, data version {version}); "
                f"{len(instruments)} instruments known, {coverage['symbol'].nunique() if not coverage.empty else 0} "
                "with data",
                highlight=False,
            )
            if coverage.empty:
                console.print("The store is empty: `rotation fetch` (online) or `rotation import FILE` (offline).")
                return
            failed = last[last["status"] == "failed"] if not last.empty else last
            table = Table(title="stored series")
            for col in ("table", "symbol", "source", "first", "last", "rows", "last fetch"):
                table.add_column(col, justify="right" if col == "rows" else "left")
            last_by = {(r.source, r.symbol): r for r in last.itertuples()} if not last.empty else {}
            for r in coverage.itertuples():
                lf = last_by.get((r.source, r.symbol))
                when = f"{lf.status} {str(lf.fetched_at)[:16]}" if lf is not None else ""
                table.add_row(r.table, r.symbol, r.source, _day(r.first), _day(r.last), f"{r.rows:,}", when)
            console.print(table)
            if not failed.empty:
                console.print(f"[red]{len(failed)} series failed on their last fetch[/]: "
                              + ", ".join(f"{r.symbol} ({r.source})" for r in failed.itertuples()))

    @app.command()
    def report(
        store: StoreOption = None,
        universe: UniverseOption = None,
        output: Annotated[Path, typer.Option("--output", "-o", help="HTML file to write.")] = Path("rotation-report.html"),
        start: Annotated[str | None, typer.Option(help="First date shown and of every summary (YYYY-MM-DD).")] = None,
        end: Annotated[str | None, typer.Option(help="Last date (YYYY-MM-DD): no data after it is read.")] = None,
        as_of: Annotated[
            str | None,
            typer.Option("--as-of", help="Use only data available on this date, claims included (YYYY-MM-DD)."),
        ] = None,
        claims_config: Annotated[
            Path | None,
            typer.Option("--claims-config", help="Claims configuration TOML (default: the shipped one); also sets "
                                                 "the report's AI/crypto sides and benchmark."),
        ] = None,
        events: Annotated[
            Path | None,
            typer.Option("--events", help="Your events file (TOML or CSV), studied next to the default events."),
        ] = None,
        figures: Annotated[
            Path | None,
            typer.Option("--figures", help="Also export every chart as SVG and PNG into this folder."),
        ] = None,
    ) -> None:
        """Write the HTML report (self-contained, works offline): headline, rotation, risk, macro, claims, data."""
        from rotation.report import write_report

        with guard():
            path = settings(store).store_path
            if not path.exists():
                raise EmptyStoreError(
                    f"no store at {path}: there is no data to report on yet.\n"
                    "  online:  rotation fetch        (downloads the universe's history, then run rotation report)\n"
                    "  offline: rotation import FILE  (bring CSV/Parquet files; see `rotation import --help`)"
                )
            t_start, t_end, t_as_of = _parse_date(start, "start"), _parse_date(end, "end"), _parse_date(as_of, "as-of")
            for option, file in (("--claims-config", claims_config), ("--events", events)):
                if file is not None and not file.is_file():
                    raise ParameterError(option, f"no such file: {file}")
            uni = universe_from(universe)
            with open_store(store, read_only=True) as db:
                if db.is_empty():
                    raise EmptyStoreError(
                        f"the store at {path} is empty.\n"
                        "  online:  rotation fetch\n"
                        "  offline: rotation import FILE [mapping options]  (see `rotation import --help`)"
                    )
                written = write_report(
                    db, uni, output, start=t_start, end=t_end, as_of=t_as_of, claims_config=claims_config,
                    events=events, figures=figures,
                    progress=lambda msg: console.print(f"[dim]{msg}[/]", highlight=False),
                )
            console.print(f"report written to [bold]{written}[/]", highlight=False)
