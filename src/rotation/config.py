"""Settings resolved from arguments, environment variables and defaults.

Precedence: an explicit argument (CLI flag or function parameter) wins, then
the environment variable, then the default.

================================  =============================================
environment variable              meaning
================================  =============================================
``ROTATION_STORE``                DuckDB file of the store
``ROTATION_HOME``                 folder for the default store (and reports)
``ROTATION_UNIVERSE``             universe TOML file
``ROTATION_OFFLINE``              ``1`` = never touch the network
``FRED_API_KEY``                  use FRED's keyed JSON API instead of the CSV download
``COINGECKO_API_KEY``             CoinGecko demo key (``x-cg-demo-api-key``)
``COINGECKO_PRO_API_KEY``         CoinGecko pro key (pro host and header)
``ROTATION_NUMBA``                rolling kernels' numba accelerator (``fast``
                                  extra): unset/``auto`` = on arrays of 1M+
                                  cells, ``0`` = never (pure NumPy), ``1`` =
                                  always; same results either way
================================  =============================================

The default store is ``$ROTATION_HOME/rotation.duckdb`` with ``ROTATION_HOME``
defaulting to ``$XDG_DATA_HOME/rotation`` (``~/.local/share/rotation``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["Settings", "default_store_path", "numba_mode"]


def _home() -> Path:
    if home := os.environ.get("ROTATION_HOME"):
        return Path(home).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg).expanduser() / "rotation"


def default_store_path() -> Path:
    """Where the store lives when neither ``--store`` nor ``ROTATION_STORE`` says otherwise."""
    if explicit := os.environ.get("ROTATION_STORE"):
        return Path(explicit).expanduser()
    return _home() / "rotation.duckdb"


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def numba_mode() -> Literal["auto", "on", "off"]:
    """``ROTATION_NUMBA``, read at each call: ``off`` (0/false/no/off), ``on`` (1/true/yes/on) or ``auto``.

    ``auto`` (unset or anything else): the rolling kernels use numba, when it
    is installed, for arrays large enough that loading it pays off; ``on``:
    whenever it is installed; ``off``: the pure-NumPy path. Both paths give
    the same results; this only trades start-up time for speed.
    """
    value = (os.environ.get("ROTATION_NUMBA") or "").strip().lower()
    if value in {"0", "false", "no", "off"}:
        return "off"
    return "on" if _truthy(value) else "auto"


@dataclass(frozen=True, slots=True)
class Settings:
    """Resolved settings for one run.

    Build with :meth:`Settings.resolve`, passing only what the caller set
    explicitly; everything else comes from the environment or defaults.
    """

    store_path: Path
    universe_path: Path | None
    offline: bool
    fred_api_key: str | None
    coingecko_api_key: str | None
    coingecko_pro_api_key: str | None

    @classmethod
    def resolve(
        cls,
        *,
        store: str | os.PathLike[str] | None = None,
        universe: str | os.PathLike[str] | None = None,
        offline: bool | None = None,
    ) -> Settings:
        universe_env = os.environ.get("ROTATION_UNIVERSE")
        return cls(
            store_path=Path(store).expanduser() if store else default_store_path(),
            universe_path=Path(universe) if universe else (Path(universe_env) if universe_env else None),
            offline=offline if offline is not None else _truthy(os.environ.get("ROTATION_OFFLINE")),
            fred_api_key=os.environ.get("FRED_API_KEY") or None,
            coingecko_api_key=os.environ.get("COINGECKO_API_KEY") or None,
            coingecko_pro_api_key=os.environ.get("COINGECKO_PRO_API_KEY") or None,
        )
