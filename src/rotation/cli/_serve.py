"""``rotation serve``: the REST API and dashboard (FastAPI + uvicorn, optional extra ``serve``).

The bind policy is checked before anything is imported or opened: a
non-loopback ``--host`` needs a token in the ``--token-env`` environment
variable, otherwise the command refuses to start (exit 2).
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from rotation.cli._common import EXIT_CONFIG, StoreOption, UniverseOption, console, err_console, guard, settings
from rotation.errors import ParameterError

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add ``serve`` to ``app``."""

    @app.command("serve")
    def serve_command(
        store: StoreOption = None,
        universe: UniverseOption = None,
        host: Annotated[str, typer.Option("--host", help="Interface to bind; non-loopback needs a token.")]
        = "127.0.0.1",
        port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8765,
        token_env: Annotated[str, typer.Option("--token-env", help="Environment variable holding the bearer token.")]
        = "ROTATION_API_TOKEN",
        refresh: Annotated[str, typer.Option("--refresh", help="Background incremental fetch: daily, hourly or off.")]
        = "off",
        cors_origin: Annotated[list[str] | None, typer.Option("--cors-origin", help="Allow this CORS origin "
                                                             "(repeatable; default: no CORS).")] = None,
    ) -> None:
        """Serve the JSON API under /api/v1 and the dashboard at / (OpenAPI docs at /docs)."""
        with guard():
            from rotation.api._security import check_bind

            if refresh not in {"off", "daily", "hourly"}:
                raise ParameterError("--refresh", f"must be daily, hourly or off, got {refresh!r}")
            if not 0 < port < 65536:
                raise ParameterError("--port", f"must be 1..65535, got {port}")
            token = os.environ.get(token_env) or None
            check_bind(host, token, token_env)
            try:
                import fastapi  # noqa: F401
                import uvicorn
            except ImportError:
                # printed without rich markup, which would swallow "[serve]"
                err_console.print("error: rotation serve needs FastAPI and uvicorn: pip install rotation[serve]",
                                  markup=False, highlight=False)
                raise typer.Exit(EXIT_CONFIG) from None
            from rotation.api import ApiSettings, create_app

            cfg = settings(store, universe)
            api = create_app(cfg.store_path, cfg.universe_path,
                             ApiSettings(token=token, cors_origins=tuple(cors_origin or ()), refresh=refresh))
            console.print(f"serving {cfg.store_path} on http://{host}:{port}/  (API /api/v1, docs /docs"
                          f"{'; bearer token required' if token else ''})", highlight=False)
        try:
            uvicorn.run(api, host=host, port=port, log_level="info")
        except OSError as exc:  # port in use, permission denied
            err_console.print(f"[bold red]error:[/] cannot bind {host}:{port}: {exc}", highlight=False)
            raise typer.Exit(2) from None
