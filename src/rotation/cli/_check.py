"""``rotation check``: the data-quality report of the store.

Prints one row per (symbol, source) with findings, worst first (``--all``
shows clean series too), then any disagreeing source pairs. It is a report:
the exit code is 0 even when series warn or fail; 3 when the store is empty.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import pandas as pd
import typer
from rich.table import Table

from rotation.cli._common import (
    StoreOption,
    UniverseOption,
    console,
    guard,
    open_store,
    settings,
    universe_from,
)
from rotation.errors import EmptyStoreError

if TYPE_CHECKING:
    from rotation.quality import QualityReport

__all__ = ["register"]

_STYLE = {"ok": "green", "warn": "yellow", "fail": "bold red"}


def _text(value: object) -> str:
    return (
        ""
        if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA
        else str(value)
    )


def _day(value: object) -> str:
    return "" if value is None or pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d")


def _hint(row: object) -> str:
    from rotation.quality._checks import level_step, offset_hint

    hints = []
    if offset := offset_hint(row):
        hints.append(offset + "?")
    if level_step(row):
        hints.append(f"level step {row.level_ratio_first:.3g} -> {row.level_ratio_last:.3g}")  # type: ignore[attr-defined]
    return "; ".join(hints)


def register(app: typer.Typer) -> None:
    """Add the ``check`` command to ``app``."""

    @app.command("check")
    def check(
        store: StoreOption = None,
        universe: UniverseOption = None,
        symbol: Annotated[
            list[str] | None,
            typer.Option("--symbol", "-s", help="Check only this symbol (repeatable)."),
        ] = None,
        as_json: Annotated[
            bool, typer.Option("--json", help="Print the full report as JSON instead of tables.")
        ] = False,
        show_all: Annotated[
            bool, typer.Option("--all", help="Also list series without issues.")
        ] = False,
        as_of: Annotated[
            str | None,
            typer.Option(
                "--as-of", help="Reference date for staleness (default: latest date in the store)."
            ),
        ] = None,
    ) -> None:
        """Check stored data: coverage, gaps, stale runs, bad prices, outliers, splits, sources."""
        from rotation.quality import check_store  # keep `rotation --help` fast

        with guard():
            path = Path(settings(store).store_path)
            if not path.exists():
                raise EmptyStoreError(
                    f"no store at {path}: bring data in with `rotation import FILE` or "
                    "`rotation fetch`, "
                    "then run `rotation check` again"
                )
            uni = universe_from(universe)
            st = open_store(store, read_only=True)
            try:
                report = check_store(st, uni, symbols=symbol or None, as_of=as_of)
            finally:
                st.close()
        if as_json:
            # plain print: rich would wrap and highlight the JSON
            typer.echo(json.dumps(report.to_dict(include_ok=show_all), indent=2, default=str))
            return
        _print_tables(report, show_all=show_all)


def _print_tables(report: QualityReport, *, show_all: bool) -> None:
    frame = report.to_frame()
    # universe members without data: one line, not one row each
    no_data = frame[frame["rows"].fillna(0) == 0]
    frame = frame[frame["rows"].fillna(0) > 0]
    shown = frame if show_all else frame[frame["status"] != "ok"]
    summary = report.summary()
    title = f"Data quality as of {_day(report.as_of)}"
    if shown.empty:
        console.print(f"[green]{title}: no issues in {len(frame)} series with data[/]")
    else:
        table = Table(title=title, show_lines=False, expand=False)
        for col, kw in (
            ("status", {}),
            ("symbol", {"style": "bold"}),
            ("source", {}),
            ("class", {}),
            ("first", {}),
            ("last", {}),
            ("rows", {"justify": "right"}),
            ("cover", {"justify": "right"}),
            ("issues", {"overflow": "fold", "ratio": 1}),
        ):
            table.add_column(col, **kw)
        for r in shown.itertuples(index=False):
            text = r.issues or r.notes
            if show_all and r.issues and r.notes:
                text = f"{r.issues}; [dim]{r.notes}[/]"
            elif not r.issues and r.notes:
                text = f"[dim]{r.notes}[/]"
            table.add_row(
                f"[{_STYLE[r.status]}]{r.status}[/]",
                r.symbol,
                r.source or "-",
                _text(r.calendar if r.kind == "macro" else r.asset_class),
                _day(r.first),
                _day(r.last),
                "" if pd.isna(r.rows) else f"{int(r.rows):,}",
                "" if pd.isna(r.coverage) else f"{r.coverage:.1%}",
                text,
            )
        console.print(table)
    dis = report.disagreements
    flagged = dis[dis["flagged"]] if len(dis) else dis
    if len(flagged):
        t = Table(title="Source pairs whose returns disagree")
        for col in (
            "symbol",
            "a",
            "b",
            "common",
            "corr",
            "days >2%",
            "worst day",
            "level a/b",
            "hint",
        ):
            t.add_column(
                col,
                justify="right" if col in {"common", "corr", "days >2%", "level a/b"} else "left",
            )
        for r in flagged.itertuples(index=False):
            t.add_row(
                r.symbol,
                r.source_a,
                r.source_b,
                f"{r.n_returns:,}",
                "n/a" if pd.isna(r.correlation) else f"{r.correlation:.3f}",
                f"{r.share_disagree:.1%}",
                f"{_day(r.max_diff_date)} ({r.max_abs_diff:.1%})",
                f"{r.median_level_ratio:.4g}",
                _hint(r),
            )
        console.print(t)
    if len(no_data):
        names = ", ".join(no_data["symbol"].astype(str))
        console.print(
            f"[yellow]{len(no_data)} universe member(s) without data:[/] {names}", soft_wrap=True
        )
    console.print(
        f"{summary['series']} series: [green]{summary['ok']} ok[/], "
        f"[yellow]{summary['warn']} warn[/], [red]{summary['fail']} fail[/]; "
        f"{summary['source_pairs_flagged']} of {summary['source_pairs']} "
        f"source pairs disagree; checked in {report.elapsed:.1f}s"
    )
    if not show_all and summary["ok"]:
        console.print(f"[dim]{summary['ok']} series without issues hidden (use --all)[/]")
