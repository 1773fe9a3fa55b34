"""Shared CLI plumbing: consoles, option types, error-to-exit-code mapping."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from datetime import date
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, TypeVar

import numpy as np
import pandas as pd
import typer
from rich.console import Console

from rotation.config import Settings
from rotation.errors import (
    ConfigError,
    EmptyStoreError,
    ImportFileError,
    ParameterError,
    RotationError,
    SourceError,
    StoreError,
)
from rotation.universe import Universe, load_universe

if TYPE_CHECKING:
    # duckdb and the store load when a command opens the store, not for `rotation --help`
    from rotation.store import Store

__all__ = [
    "ANALYSIS_ROLES",
    "EXIT_CONFIG",
    "EXIT_EMPTY",
    "EXIT_FAILED",
    "EXIT_OK",
    "BasketsOption",
    "EndOption",
    "StartOption",
    "StoreOption",
    "UniverseOption",
    "WeightingOption",
    "check_weighting",
    "console",
    "default_baskets",
    "err_console",
    "fmt_day",
    "fmt_num",
    "guard",
    "open_existing_store",
    "open_store",
    "parse_date",
    "print_notes",
    "quality_notes",
    "split_names",
    "universe_from",
]

#: Exit codes. 0 ok; 1 some work failed (fetch errors); 2 bad input (config, file,
#: parameter); 3 nothing to work on (empty store); 4 store unusable.
EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_EMPTY, EXIT_STORE = 0, 1, 2, 3, 4

def _width(stream: object) -> int | None:
    # Rich falls back to 80 columns when output is piped or captured, which folds wide tables
    # into unreadable columns; use COLUMNS when set, else a width that fits the tables.
    if getattr(stream, "isatty", lambda: False)():
        return None
    return int(os.environ.get("COLUMNS", "140"))


console = Console(width=_width(sys.stdout))
err_console = Console(stderr=True, width=_width(sys.stderr))

StoreOption = Annotated[
    Path | None,
    typer.Option("--store", help="DuckDB store file [env ROTATION_STORE; default ~/.local/share/rotation/rotation.duckdb]."),
]
UniverseOption = Annotated[
    Path | None,
    typer.Option("--universe", help="Universe TOML file [env ROTATION_UNIVERSE; default: the shipped universe]."),
]

T = TypeVar("T")


def settings(store: Path | None = None, universe: Path | None = None) -> Settings:
    return Settings.resolve(store=store, universe=universe)


def open_store(store: Path | None, *, read_only: bool = False) -> Store:
    """Open the store named by ``--store`` / env / default."""
    from rotation.store import Store

    return Store(settings(store).store_path, read_only=read_only)


def universe_from(universe: Path | None) -> Universe:
    return load_universe(settings(universe=universe).universe_path)


def _exit_code(exc: RotationError) -> int:
    if isinstance(exc, EmptyStoreError):
        return EXIT_EMPTY
    if isinstance(exc, StoreError):
        return EXIT_STORE
    if isinstance(exc, ConfigError | ImportFileError | ParameterError):
        return EXIT_CONFIG
    if isinstance(exc, SourceError):
        return EXIT_FAILED
    return EXIT_FAILED


@contextmanager
def guard() -> Iterator[None]:
    """Turn rotation errors into a one-line message and an exit code, never a traceback."""
    try:
        yield
    except RotationError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(_exit_code(exc)) from None
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted: stored data is as it was before the interrupted write[/]")
        raise typer.Exit(130) from None


def run_guarded(fn: Callable[[], T]) -> T:
    with guard():
        return fn()


def is_interactive() -> bool:
    return sys.stderr.isatty()


# ------------------------------------------------------------------ shared by the analytics commands
#: Basket roles the analytics commands use by default (AI vs crypto).
ANALYSIS_ROLES = ("ai", "crypto")

StartOption = Annotated[str | None, typer.Option("--start", help="First date (YYYY-MM-DD).")]
EndOption = Annotated[str | None, typer.Option("--end", help="Last date (YYYY-MM-DD).")]
BasketsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--baskets", "-b",
        help="Baskets to analyse (comma-separated or repeated) [default: the universe's ai and crypto baskets].",
    ),
]
WeightingOption = Annotated[
    str,
    typer.Option(
        "--weighting",
        help="Basket index weights: equal, cap, or basket (each basket's own default from the universe).",
    ),
]


def parse_date(value: str | None, name: str) -> pd.Timestamp | None:
    if value is None:
        return None
    try:
        return pd.Timestamp(date.fromisoformat(value))
    except ValueError:
        raise ParameterError(name, f"expected YYYY-MM-DD, got {value!r}") from None


def split_names(values: Sequence[str] | None) -> list[str]:
    out: list[str] = []
    for v in values or []:
        out += [p.strip() for p in v.split(",") if p.strip()]
    return list(dict.fromkeys(out))


def open_existing_store(store: object):
    path = settings(store).store_path  # type: ignore[arg-type]
    if not path.exists():
        raise EmptyStoreError(
            f"no store at {path} yet: there is nothing to analyse.\n"
            "  online:  rotation fetch                        (downloads the universe's history)\n"
            "  offline: rotation import FILE [mapping options] (see `rotation import --help`)"
        )
    return open_store(store, read_only=True)  # type: ignore[arg-type]


def default_baskets(uni: object) -> list[str]:
    return [name for name, b in uni.baskets.items() if b.role in ANALYSIS_ROLES]  # type: ignore[attr-defined]


def check_weighting(weighting: str) -> str:
    if weighting not in {"equal", "cap", "basket"}:
        raise ParameterError("--weighting", f"must be equal, cap or basket, got {weighting!r}")
    return weighting


def fmt_num(x: object, fmt: str = "{:,.2f}") -> str:
    if x is None or (isinstance(x, float) and not np.isfinite(x)) or x is pd.NaT:
        return "-"
    if isinstance(x, pd.Timestamp):
        return x.strftime("%Y-%m-%d")
    if isinstance(x, int | float | np.floating | np.integer):
        return fmt.format(float(x))
    return str(x)


def fmt_day(x: object) -> str:
    return "-" if x is None or pd.isna(x) else pd.Timestamp(x).strftime("%Y-%m-%d")


def print_notes(notes: Sequence[str]) -> None:
    for n in notes:
        console.print(f"[yellow]note:[/] {n}", highlight=False, soft_wrap=True)


def quality_notes(panel) -> list[str]:
    q = panel.quality
    if q is None or q.empty:
        return []
    out = []
    for action, what in (("cap_carried", "carried forward at constant supply"),
                         ("cap_backcast", "back-cast from a later snapshot")):
        syms = sorted(set(q.loc[q["action"] == action, "symbol"]))
        if syms:
            out.append(f"market caps {what} for {len(syms)} instruments ({', '.join(syms[:6])}"
                       f"{', ...' if len(syms) > 6 else ''}): no issuance information there")
    return out
