"""Load and validate a universe TOML file.

The file has three tables (see ``default_universe.toml`` for a full example)::

    [instruments.NVDA]
    name = "NVIDIA"
    asset_class = "equity"          # equity | etf | index | crypto | stablecoin
    currency = "USD"
    sources = { yahoo = "NVDA" }    # provider -> provider symbol, preferred first

    [macro.DGS2]
    name = "2-year Treasury yield"
    units = "percent"
    frequency = "D"                 # D | W | M | Q
    scale = 1.0                     # native units -> base units
    release_lag_days = 1
    sources = { fred = "DGS2" }

    [baskets.ai_compute]
    members = ["NVDA", "AMD"]
    weighting = "equal"             # equal | cap
    role = "ai"                     # ai | crypto | benchmark | other

Errors name the file, the 1-based line and the dotted key.
"""

from __future__ import annotations

import os
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from rotation.errors import UniverseError
from rotation.universe._model import ASSET_CLASSES, Basket, Instrument, MacroSeries, Universe

__all__ = ["DEFAULT_UNIVERSE", "KNOWN_PROVIDERS", "default_universe_path", "load_universe"]

#: Providers a universe may name. ``file`` marks series that only arrive through
#: ``rotation import`` (no network provider serves them).
KNOWN_PROVIDERS = ("yahoo", "coinmetrics", "coingecko", "binance", "fred", "defillama", "file")
FREQUENCIES = ("D", "W", "M", "Q")
WEIGHTINGS = ("equal", "cap")
ROLES = ("ai", "crypto", "benchmark", "other")
DEFAULT_UNIVERSE = "default_universe.toml"
_SYMBOL = re.compile(r"^[A-Za-z0-9^][A-Za-z0-9_.\-^=]*$")


def default_universe_path() -> Path:
    """Path of the universe file shipped with the package."""
    return Path(str(resources.files("rotation.universe").joinpath(DEFAULT_UNIVERSE)))


def load_universe(path: str | os.PathLike[str] | None = None) -> Universe:
    """Read and validate a universe file.

    Parameters
    ----------
    path : path-like, optional
        TOML file. ``None`` uses ``$ROTATION_UNIVERSE`` if set, else the
        default universe shipped with the package.

    Returns
    -------
    Universe

    Raises
    ------
    UniverseError
        Malformed TOML, unknown keys or values, a duplicate symbol, an
        instrument without a source, a basket naming an unknown instrument.
        The message names the file, line and key.
    """
    if path is None:
        path = os.environ.get("ROTATION_UNIVERSE") or default_universe_path()
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UniverseError("universe file not found", file=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UniverseError(f"cannot read universe file: {exc}", file=path) from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None) or _line_from_message(str(exc))
        raise UniverseError(f"malformed TOML: {exc}", file=path, line=line) from None
    return _Validator(path, text).universe(doc)


def _line_from_message(message: str) -> int | None:
    m = re.search(r"line (\d+)", message)
    return int(m.group(1)) if m else None


class _Validator:
    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()

    # -- error helpers -------------------------------------------------------------
    def fail(self, key: str, message: str) -> UniverseError:
        return UniverseError(message, file=self.path, line=self.locate(key), key=key)

    def locate(self, dotted: str) -> int | None:
        """Best-effort 1-based line of a dotted key (table header or ``key =`` line)."""
        parts = dotted.split(".")
        table: list[str] = []
        best: int | None = None
        for no, raw in enumerate(self.lines, start=1):
            line = raw.split("#", 1)[0].strip()
            header = re.match(r"^\[\s*([^\[\]]+?)\s*\]$", line)
            if header:
                table = [p.strip().strip('"') for p in header.group(1).split(".")]
                if table == parts:
                    return no
                if parts[: len(table)] == table and best is None:
                    best = no
                continue
            assign = re.match(r'^("?[^"=]+"?)\s*=', line)
            if assign:
                key = table + [p.strip().strip('"') for p in assign.group(1).split(".")]
                if key == parts:
                    return no
                if parts[: len(key)] == key and len(key) > len(table):
                    best = no
        return best

    # -- sections --------------------------------------------------------------------
    def universe(self, doc: dict[str, Any]) -> Universe:
        unknown = set(doc) - {"instruments", "baskets", "macro", "meta"}
        if unknown:
            key = sorted(unknown)[0]
            raise self.fail(key, f"unknown top-level table '{key}' (expected instruments, baskets, macro)")
        instruments = {s: self.instrument(s, spec) for s, spec in self.table(doc, "instruments").items()}
        macro = {s: self.macro(s, spec) for s, spec in self.table(doc, "macro").items()}
        for sym in instruments:
            if sym in macro:
                raise self.fail(f"macro.{sym}", f"duplicate symbol '{sym}': already an instrument")
        baskets = {n: self.basket(n, spec, instruments) for n, spec in self.table(doc, "baskets").items()}
        if not instruments:
            raise self.fail("instruments", "the universe defines no instruments")
        return Universe(instruments=instruments, baskets=baskets, macro=macro, path=self.path)

    def table(self, doc: dict[str, Any], name: str) -> dict[str, Any]:
        value = doc.get(name, {})
        if not isinstance(value, dict):
            raise self.fail(name, f"'{name}' must be a table")
        return value

    def check_symbol(self, key: str, symbol: str) -> None:
        if not _SYMBOL.match(symbol):
            raise self.fail(key, f"invalid symbol '{symbol}' (letters, digits and ^ . _ - = only)")

    def spec(self, key: str, spec: Any, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(spec, dict):
            raise self.fail(key, "must be a table")
        extra = set(spec) - allowed
        if extra:
            bad = sorted(extra)[0]
            raise self.fail(f"{key}.{bad}", f"unknown key '{bad}' (allowed: {', '.join(sorted(allowed))})")
        return spec

    def string(self, key: str, value: Any, *, choices: tuple[str, ...] | None = None) -> str:
        if not isinstance(value, str) or not value:
            raise self.fail(key, "must be a non-empty string")
        if choices is not None and value not in choices:
            raise self.fail(key, f"'{value}' is not one of {', '.join(choices)}")
        return value

    def sources(self, key: str, value: Any) -> dict[str, str]:
        if value is None or value == {}:
            raise self.fail(key, "has no source: give at least one provider, e.g. sources = { yahoo = \"NVDA\" }")
        if not isinstance(value, dict):
            raise self.fail(key, "sources must be a table of provider = \"symbol\"")
        out: dict[str, str] = {}
        for provider, symbol in value.items():
            if provider not in KNOWN_PROVIDERS:
                raise self.fail(
                    f"{key}.{provider}",
                    f"unknown provider '{provider}' (known: {', '.join(KNOWN_PROVIDERS)})",
                )
            out[provider] = self.string(f"{key}.{provider}", symbol)
        return out

    def instrument(self, symbol: str, spec: Any) -> Instrument:
        key = f"instruments.{symbol}"
        self.check_symbol(key, symbol)
        spec = self.spec(key, spec, {"name", "asset_class", "currency", "sources"})
        if "asset_class" not in spec:
            raise self.fail(key, "missing 'asset_class'")
        return Instrument(
            symbol=symbol,
            asset_class=self.string(f"{key}.asset_class", spec["asset_class"], choices=ASSET_CLASSES),
            currency=self.string(f"{key}.currency", spec.get("currency", "USD")),
            name=str(spec.get("name", "")),
            sources=self.sources(f"{key}.sources", spec.get("sources")),
        )

    def macro(self, symbol: str, spec: Any) -> MacroSeries:
        key = f"macro.{symbol}"
        self.check_symbol(key, symbol)
        spec = self.spec(
            key, spec, {"name", "units", "frequency", "scale", "release_lag_days", "sources"}
        )
        scale = spec.get("scale", 1.0)
        if not isinstance(scale, (int, float)) or isinstance(scale, bool) or scale <= 0:
            raise self.fail(f"{key}.scale", "must be a positive number")
        lag = spec.get("release_lag_days", 1)
        if not isinstance(lag, int) or isinstance(lag, bool) or not 0 <= lag <= 120:
            raise self.fail(f"{key}.release_lag_days", "must be an integer from 0 to 120")
        return MacroSeries(
            symbol=symbol,
            name=str(spec.get("name", "")),
            units=str(spec.get("units", "")),
            frequency=self.string(f"{key}.frequency", spec.get("frequency", "D"), choices=FREQUENCIES),
            scale=float(scale),
            release_lag_days=lag,
            sources=self.sources(f"{key}.sources", spec.get("sources")),
        )

    def basket(self, name: str, spec: Any, instruments: dict[str, Instrument]) -> Basket:
        key = f"baskets.{name}"
        spec = self.spec(key, spec, {"members", "description", "weighting", "role"})
        members = spec.get("members")
        if not isinstance(members, list) or not members:
            raise self.fail(f"{key}.members", "must be a non-empty list of instrument symbols")
        seen: set[str] = set()
        for sym in members:
            if not isinstance(sym, str):
                raise self.fail(f"{key}.members", f"member {sym!r} is not a string")
            if sym in seen:
                raise self.fail(f"{key}.members", f"duplicate member '{sym}'")
            if sym not in instruments:
                raise self.fail(
                    f"{key}.members",
                    f"unknown instrument '{sym}': define it under [instruments.{sym}]",
                )
            seen.add(sym)
        return Basket(
            name=name,
            members=tuple(members),
            description=str(spec.get("description", "")),
            weighting=self.string(f"{key}.weighting", spec.get("weighting", "equal"), choices=WEIGHTINGS),
            role=self.string(f"{key}.role", spec.get("role", "other"), choices=ROLES),
        )
