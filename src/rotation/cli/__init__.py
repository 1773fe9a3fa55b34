"""Command-line interface: ``rotation fetch | import | status | check | report | ...``."""

from rotation.cli._app import app, main

__all__ = ["app", "main"]
