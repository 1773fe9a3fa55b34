"""Shared CLI plumbing: consoles, option types, error-to-exit-code mapping."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TypeVar

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
from rotation.store import Store
from rotation.universe import Universe, load_universe

__all__ = [
    "EXIT_CONFIG",
    "EXIT_EMPTY",
    "EXIT_FAILED",
    "EXIT_OK",
    "StoreOption",
    "UniverseOption",
    "console",
    "err_console",
    "guard",
    "open_store",
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
