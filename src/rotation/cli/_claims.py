"""``rotation claims``: the claims ledger (R1-R12) from the stored data, as a table or JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.markup import escape
from rich.table import Table

from rotation.cli._common import (
    StoreOption,
    UniverseOption,
    console,
    guard,
    open_existing_store,
    parse_date,
    split_names,
    universe_from,
)

__all__ = ["register"]

_STYLE = {"supported": "green", "contradicted": "red", "inconclusive": "yellow", "insufficient data": "magenta"}


def _fmt(x: float | None, fmt: str = "{:+.3f}") -> str:
    return "-" if x is None or not np.isfinite(x) else fmt.format(x)


def register(app: typer.Typer) -> None:
    """Add ``claims`` to ``app``."""

    @app.command("claims")
    def claims_command(
        store: StoreOption = None,
        universe: UniverseOption = None,
        config: Annotated[
            Path | None,
            typer.Option("--config", help="Claims configuration TOML [default: the shipped default_claims.toml]."),
        ] = None,
        as_of: Annotated[
            str | None, typer.Option("--as-of", help="Use only data available on this date (YYYY-MM-DD).")
        ] = None,
        start: Annotated[str | None, typer.Option("--start", help="Window start for every claim (YYYY-MM-DD).")] = None,
        end: Annotated[str | None, typer.Option("--end", help="Window end for every claim (YYYY-MM-DD).")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the ledger as JSON (with evidence).")] = False,
        evidence: Annotated[
            bool, typer.Option("--evidence/--no-evidence", help="Include evidence frames in --json output.")
        ] = True,
        claim: Annotated[
            list[str] | None,
            typer.Option("--claim", "-c", help="Only these claims (R1 ... R12; repeat or comma-separate)."),
        ] = None,
    ) -> None:
        """The claims ledger: a verdict per claim (supported, contradicted, inconclusive, insufficient data).

        Each verdict follows the claim's documented decision rule with inputs from
        the claims configuration; claims without code yet are listed as not yet
        implemented and get no verdict.
        """
        from rotation.claims import evaluate_claims, load_claims_config

        with guard():
            uni = universe_from(universe)
            cfg = load_claims_config(config)
            t_asof, t0, t1 = parse_date(as_of, "--as-of"), parse_date(start, "--start"), parse_date(end, "--end")
            wanted = split_names(claim) or None
            with open_existing_store(store) as db:
                ledger = evaluate_claims(db, uni, cfg, as_of=t_asof, start=t0, end=t1, claims=wanted)
            if as_json:
                typer.echo(ledger.to_json(evidence=evidence))
                return
            _print(ledger)


def _print(ledger) -> None:
    from rotation.claims import Verdict

    scope = []
    if ledger.as_of is not None:
        scope.append(f"as of {ledger.as_of.date()}")
    if ledger.start is not None or ledger.end is not None:
        scope.append(f"window {ledger.start.date() if ledger.start is not None else '...'}.."
                     f"{ledger.end.date() if ledger.end is not None else '...'}")
    title = "Claims ledger" + (f" ({', '.join(scope)})" if scope else "") + f"; config: {ledger.config_file}"
    table = Table(title=title)
    for col in ("id", "claim", "verdict", "effect", "unit", "interval", "p", "window"):
        table.add_column(col, justify="right" if col in {"effect", "p"} else "left",
                         no_wrap=col in {"id", "verdict", "window"})
    for e in ledger.entries:
        if not isinstance(e, Verdict):
            table.add_row(e.claim_id, e.title, f"[dim]{e.status}[/]", "", "", "", "", "")
            continue
        ci = e.interval
        interval = "-" if ci is None else f"[{_fmt(ci.lo)}, {_fmt(ci.hi)}] {ci.level:.0%}"
        window = "-" if e.window is None else f"{e.window[0].date()}..{e.window[1].date()}"
        table.add_row(
            e.claim_id, escape(e.title), f"[{_STYLE[e.verdict]}]{e.verdict}[/]",
            _fmt(e.effect.value) if e.effect else "-", e.effect.unit if e.effect else "",
            interval, _fmt(e.p_value, "{:.3f}"), window,
        )
    console.print(table)
    for e in ledger.verdicts:
        console.print(f"[bold]{e.claim_id}[/] {escape(e.verdict)}. Rule: {escape(e.rule)}", highlight=False,
                      soft_wrap=True)
        for m in e.missing:
            console.print(f"  [magenta]missing:[/] {escape(m)}", highlight=False, soft_wrap=True)
        for c in e.caveats:
            console.print(f"  [yellow]caveat:[/] {escape(c)}", highlight=False, soft_wrap=True)
    pending = ledger.pending
    if pending:
        console.print(
            f"not yet implemented (no verdict given): {', '.join(p.claim_id for p in pending)}",
            style="dim", highlight=False, soft_wrap=True,
        )
