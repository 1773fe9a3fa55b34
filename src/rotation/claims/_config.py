"""The claims configuration: a TOML file the user edits, shipped with defaults.

Layout (see ``default_claims.toml`` for the shipped values, with comments)::

    [defaults]                       # apply to every claim unless a claim overrides them
    ai = ["ai_compute", "ai_cloud"]  # baskets of the AI side (universe basket names)
    crypto = ["crypto_majors"]       # baskets of the crypto side
    market = "SPY"                   # equity-market factor / benchmark instrument
    weighting = "equal"              # equal | cap | basket (each basket's own weighting)
    start = 2023-01-01               # window start (TOML date or "YYYY-MM-DD"); omit: all data
    end = 2025-12-31                 # window end; omit: the latest common data
    lookback_weeks = 0               # > 0: window = the last N weeks up to the end instead
    level = 0.95                     # confidence level of intervals and tests
    bootstrap = "stationary"         # stationary | circular block bootstrap
    bootstrap_reps = 2000
    block_length = "auto"            # "auto" (Politis-White) or a number of rows
    seed = 20251121                  # fixed seed: same data + config = same numbers
    min_observations = 120           # fewest daily rows a daily test accepts
    min_weeks = 52                   # fewest weekly rows a weekly test accepts

    [claims.R1]                      # per-claim overrides and claim-specific keys
    rrg_ratio_window = 12

Every key is validated; an error names the file, the line and the dotted key
(``claims.R1.rrg_ratio_window``). Keys of a claim whose code does not exist
yet are kept as given (they are checked once the claim is implemented).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from rotation.errors import ConfigError
from rotation.universe._load import _line_from_message, _Validator

__all__ = [
    "COMMON_PARAMS",
    "DEFAULT_CLAIMS",
    "ClaimsConfig",
    "Param",
    "Params",
    "default_claims_path",
    "load_claims_config",
]

DEFAULT_CLAIMS = "default_claims.toml"


@dataclass(frozen=True)
class Param:
    """One configuration key: its kind, default and allowed values.

    ``kind`` is one of ``int``, ``float``, ``str``, ``choice``, ``date``,
    ``list`` (list of non-empty strings), ``int_or_auto``. ``low``/``high``
    bound numbers (inclusive); ``choices`` lists the allowed strings;
    ``nullable`` allows the key to be absent (value None) with no default.
    """

    kind: str
    default: Any
    doc: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    nullable: bool = False


#: Keys every claim understands (set under ``[defaults]`` or per claim).
COMMON_PARAMS: dict[str, Param] = {
    "ai": Param("list", ["ai_compute", "ai_cloud", "ai_datacenter_power"], "baskets of the AI side"),
    "crypto": Param("list", ["crypto_majors"], "baskets of the crypto side"),
    "market": Param("str", "SPY", "equity-market factor (an instrument)"),
    "weighting": Param("choice", "equal", "basket index weights", choices=("equal", "cap", "basket")),
    "start": Param("date", None, "window start", nullable=True),
    "end": Param("date", None, "window end", nullable=True),
    "lookback_weeks": Param("int", 0, "window = the last N weeks up to the end (0: use start)", low=0, high=2000),
    "level": Param("float", 0.95, "confidence level", low=0.5, high=0.999),
    "bootstrap": Param("choice", "stationary", "block bootstrap kind", choices=("stationary", "circular")),
    "bootstrap_reps": Param("int", 2000, "bootstrap replications", low=100, high=200_000),
    "block_length": Param("int_or_auto", "auto", "bootstrap block length in rows ('auto': Politis-White)", low=1),
    "seed": Param("int", 20251121, "random seed of the bootstraps", low=0, high=2**63 - 1),
    "min_observations": Param("int", 120, "fewest daily rows a daily test accepts", low=10),
    "min_weeks": Param("int", 52, "fewest weekly rows a weekly test accepts", low=10),
}


def default_claims_path() -> Path:
    """Path of the claims configuration shipped with the package."""
    return Path(str(resources.files("rotation.claims").joinpath(DEFAULT_CLAIMS)))


@dataclass(frozen=True)
class Params(Mapping[str, Any]):
    """The resolved parameters of one claim (defaults overlaid by the claim's own table).

    Behaves as a read-only mapping. :meth:`fail` builds a :class:`ConfigError`
    naming the file, line and key where the offending value was set.
    """

    claim_id: str
    settings: Mapping[str, Any]
    origins: Mapping[str, str]
    config: ClaimsConfig

    def __getitem__(self, key: str) -> Any:
        return self.settings[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.settings)

    def __len__(self) -> int:
        return len(self.settings)

    def fail(self, key: str, message: str) -> ConfigError:
        """A ConfigError for ``key`` (at the line it was set; built-in defaults name the key only)."""
        origin = self.origins.get(key)
        if origin is None:
            return ConfigError(f"{message} (built-in default of '{key}' for {self.claim_id})",
                               file=self.config.path, key=f"claims.{self.claim_id}.{key}")
        return ConfigError(message, file=self.config.path, line=self.config.locate(origin), key=origin)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.settings)


@dataclass(frozen=True)
class ClaimsConfig:
    """A validated claims configuration.

    Attributes
    ----------
    path : Path
        The file it was read from.
    defaults : dict
        ``[defaults]`` values as given in the file (validated).
    claims : dict of str -> dict
        Per-claim tables as given (validated for implemented claims).
    text : str
        The file's text (to locate keys for error messages).
    """

    path: Path
    defaults: dict[str, Any] = field(default_factory=dict)
    claims: dict[str, dict[str, Any]] = field(default_factory=dict)
    text: str = ""

    @property
    def label(self) -> str:
        """``"default"`` for the shipped file, else the path."""
        return "default" if self.path == default_claims_path() else str(self.path)

    def locate(self, dotted: str) -> int | None:
        return _Validator(self.path, self.text).locate(dotted)

    def params(self, claim_id: str, specific: Mapping[str, Param] | None = None) -> Params:
        """Resolved parameters of ``claim_id``: built-in defaults < ``[defaults]`` < ``[claims.<id>]``."""
        spec = {**COMMON_PARAMS, **(specific or {})}
        values: dict[str, Any] = {k: _copy(p.default) for k, p in spec.items()}
        origins: dict[str, str] = {}
        for k, v in self.defaults.items():
            values[k] = v
            origins[k] = f"defaults.{k}"
        for k, v in self.claims.get(claim_id, {}).items():
            values[k] = v
            origins[k] = f"claims.{claim_id}.{k}"
        return Params(claim_id=claim_id, settings=values, origins=origins, config=self)


def _copy(value: Any) -> Any:
    return list(value) if isinstance(value, list) else value


def load_claims_config(path: str | os.PathLike[str] | None = None) -> ClaimsConfig:
    """Read and validate a claims configuration.

    Parameters
    ----------
    path : path-like, optional
        TOML file; ``None`` reads the shipped ``default_claims.toml``.

    Returns
    -------
    ClaimsConfig

    Raises
    ------
    ConfigError
        File missing or unreadable, malformed TOML, an unknown table, claim or
        key, or a value of the wrong kind or out of range; the message names
        the file, the line and the dotted key.
    """
    from rotation.claims._registry import REGISTRY, claim_module

    p = Path(path) if path is not None else default_claims_path()
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("claims configuration file not found", file=p) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read claims configuration: {exc}", file=p) from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None) or _line_from_message(str(exc))
        raise ConfigError(f"malformed TOML: {exc}", file=p, line=line) from None
    check = _Checker(p, text)
    unknown = sorted(set(doc) - {"defaults", "claims"})
    if unknown:
        raise check.fail(unknown[0], f"unknown table '{unknown[0]}' (expected [defaults] and [claims.<id>])")
    defaults = check.table(doc, "defaults")
    out_defaults = {k: check.value(f"defaults.{k}", v, COMMON_PARAMS, k) for k, v in defaults.items()}
    claims_doc = check.table(doc, "claims")
    known = {e.claim_id: e for e in REGISTRY}
    out_claims: dict[str, dict[str, Any]] = {}
    for cid, table in claims_doc.items():
        key = f"claims.{cid}"
        if cid not in known:
            raise check.fail(key, f"unknown claim '{cid}' (known: {', '.join(known)})")
        if not isinstance(table, dict):
            raise check.fail(key, "must be a table of settings")
        module = claim_module(cid)
        if module is None:  # not implemented yet: kept as given, checked once the claim exists
            out_claims[cid] = dict(table)
            continue
        spec = {**COMMON_PARAMS, **getattr(module, "PARAMS", {})}
        out_claims[cid] = {k: check.value(f"{key}.{k}", v, spec, k) for k, v in table.items()}
    return ClaimsConfig(path=p, defaults=out_defaults, claims=out_claims, text=text)


class _Checker:
    """Value validation with file/line/key errors (line lookup reuses the universe loader's)."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.locator = _Validator(path, text)

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(message, file=self.path, line=self.locator.locate(key), key=key)

    def table(self, doc: dict[str, Any], name: str) -> dict[str, Any]:
        value = doc.get(name, {})
        if not isinstance(value, dict):
            raise self.fail(name, f"'{name}' must be a table")
        return value

    def value(self, key: str, value: Any, spec: Mapping[str, Param], name: str) -> Any:
        if name not in spec:
            raise self.fail(key, f"unknown key '{name}' (allowed: {', '.join(sorted(spec))})")
        p = spec[name]
        kind = p.kind
        if kind == "int_or_auto" and value == "auto":
            return "auto"
        if kind in {"int", "int_or_auto"}:
            if isinstance(value, bool) or not isinstance(value, int):
                want = "an integer or \"auto\"" if kind == "int_or_auto" else "an integer"
                raise self.fail(key, f"must be {want}, got {value!r}")
            return self._bounded(key, value, p)
        if kind == "float":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise self.fail(key, f"must be a number, got {value!r}")
            return self._bounded(key, float(value), p)
        if kind in {"str", "choice"}:
            if not isinstance(value, str) or not value:
                raise self.fail(key, f"must be a non-empty string, got {value!r}")
            if kind == "choice" and value not in p.choices:
                raise self.fail(key, f"'{value}' is not one of {', '.join(p.choices)}")
            return value
        if kind == "list":
            if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
                raise self.fail(key, f"must be a non-empty list of names, got {value!r}")
            if len(set(value)) != len(value):
                raise self.fail(key, f"lists a name twice: {value!r}")
            return list(value)
        if kind == "date":
            return self._date(key, value)
        raise AssertionError(f"unknown parameter kind {kind!r}")  # pragma: no cover - programming error

    def _bounded(self, key: str, value: float, p: Param) -> Any:
        if p.low is not None and value < p.low:
            raise self.fail(key, f"must be >= {p.low:g}, got {value!r}")
        if p.high is not None and value > p.high:
            raise self.fail(key, f"must be <= {p.high:g}, got {value!r}")
        return value

    def _date(self, key: str, value: Any) -> pd.Timestamp:
        if isinstance(value, datetime):
            raise self.fail(key, f"must be a date without a time, got {value!r}")
        if isinstance(value, date):
            return pd.Timestamp(value)
        if isinstance(value, str):
            try:
                return pd.Timestamp(date.fromisoformat(value))
            except ValueError:
                pass
        raise self.fail(key, f"must be a date (2023-01-01 or \"2023-01-01\"), got {value!r}")
