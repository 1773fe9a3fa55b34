"""The ``rotation`` command: one Typer app; each command lives in its own module."""

from __future__ import annotations

import typer

from rotation import __version__

app = typer.Typer(
    name="rotation",
    help="Measure, explain and test the rotation of capital between AI infrastructure and digital assets.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"rotation {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """rotation: where is capital going, what drives it, and which story does the evidence support?"""


_COMMAND_MODULES = ("_data_commands", "_import", "_check", "_analytics", "_stress", "_concentration", "_claims", "_events", "_regimes", "_serve")


def _register_all() -> None:
    # Each module adds its commands; keeping them apart keeps command modules independent.
    from importlib import import_module

    for name in _COMMAND_MODULES:
        import_module(f"rotation.cli.{name}").register(app)


_register_all()


def main() -> None:
    app()
