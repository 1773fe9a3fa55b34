"""Typed model of a universe: instruments, baskets and macro series."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from rotation.errors import UniverseError

__all__ = [
    "ASSET_CLASSES",
    "Basket",
    "Instrument",
    "MacroSeries",
    "Universe",
]

#: Asset classes rotation knows how to align and annualise.
#: ``equity``/``etf``/``index`` trade on exchange sessions; ``crypto`` and
#: ``stablecoin`` trade every UTC day.
ASSET_CLASSES = ("equity", "etf", "index", "crypto", "stablecoin")
SESSION_CLASSES = frozenset({"equity", "etf", "index"})
DAILY_CLASSES = frozenset({"crypto", "stablecoin"})


@dataclass(frozen=True, slots=True)
class Instrument:
    """A tradable series (equity, ETF, index, crypto asset, stablecoin).

    Attributes
    ----------
    symbol : str
        rotation's own symbol, unique in the universe (``NVDA``, ``BTC``, ``SPX``).
    asset_class : str
        One of :data:`ASSET_CLASSES`.
    currency : str
        Quote currency (ISO code, ``USD`` for all defaults).
    name : str
        Human-readable name.
    sources : Mapping[str, str]
        Provider name -> the provider's own symbol, in order of preference.
        The first entry is the primary source used by the panel.
    """

    symbol: str
    asset_class: str
    currency: str = "USD"
    name: str = ""
    sources: Mapping[str, str] = field(default_factory=dict)

    @property
    def trades_every_day(self) -> bool:
        """True for crypto and stablecoins (24/7 markets, UTC-day bars)."""
        return self.asset_class in DAILY_CLASSES

    @property
    def primary_source(self) -> str | None:
        return next(iter(self.sources), None)


@dataclass(frozen=True, slots=True)
class MacroSeries:
    """A macro series (rate, balance-sheet item, price index).

    Attributes
    ----------
    symbol : str
        rotation's own name (``DGS2``, ``WALCL``). Unique across the universe.
    name : str
    units : str
        Native units as published (``percent``, ``millions_usd``, ``billions_usd``, ``index``).
    frequency : str
        Native frequency: ``D``, ``W``, ``M`` or ``Q``.
    scale : float
        Multiplier that turns native units into base units (USD for amounts);
        1.0 for rates and indexes.
    release_lag_days : int
        Calendar days after the observation date before the value is public.
        The panel makes a value usable from ``date + release_lag_days``, which
        is what keeps macro regressions free of look-ahead.
    sources : Mapping[str, str]
        Provider name -> provider's series id.
    """

    symbol: str
    name: str = ""
    units: str = ""
    frequency: str = "D"
    scale: float = 1.0
    release_lag_days: int = 1
    sources: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Basket:
    """A named group of instruments, e.g. ``ai_compute``.

    Attributes
    ----------
    name : str
    members : tuple of str
        Instrument symbols, in file order.
    description : str
    weighting : str
        Default index weighting: ``equal`` or ``cap``.
    role : str
        What the basket stands for in the claims: ``ai``, ``crypto``,
        ``benchmark`` or ``other``.
    """

    name: str
    members: tuple[str, ...]
    description: str = ""
    weighting: str = "equal"
    role: str = "other"


@dataclass(frozen=True)
class Universe:
    """Instruments, baskets and macro series loaded from one TOML file.

    Use :func:`rotation.load_universe` to build one; the constructor assumes
    validated input.
    """

    instruments: Mapping[str, Instrument]
    baskets: Mapping[str, Basket]
    macro: Mapping[str, MacroSeries]
    path: Path | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "instruments", MappingProxyType(dict(self.instruments)))
        object.__setattr__(self, "baskets", MappingProxyType(dict(self.baskets)))
        object.__setattr__(self, "macro", MappingProxyType(dict(self.macro)))

    def __iter__(self) -> Iterator[Instrument]:
        return iter(self.instruments.values())

    def basket(self, name: str) -> Basket:
        """Return basket ``name`` or raise :class:`UniverseError` naming the known ones."""
        try:
            return self.baskets[name]
        except KeyError:
            known = ", ".join(sorted(self.baskets))
            raise UniverseError(f"unknown basket '{name}' (known: {known})", key=name) from None

    def instrument(self, symbol: str) -> Instrument:
        try:
            return self.instruments[symbol]
        except KeyError:
            raise UniverseError(f"unknown instrument '{symbol}'", key=symbol) from None

    def members(self, *baskets: str) -> list[str]:
        """Symbols of the given baskets (all baskets when none given), without repeats."""
        names = baskets or tuple(self.baskets)
        seen: dict[str, None] = {}
        for name in names:
            for sym in self.basket(name).members:
                seen.setdefault(sym, None)
        return list(seen)

    def by_source(self, provider: str) -> list[tuple[str, str]]:
        """(symbol, provider symbol) pairs of instruments and macro series served by ``provider``."""
        out = [(i.symbol, i.sources[provider]) for i in self.instruments.values() if provider in i.sources]
        out += [(m.symbol, m.sources[provider]) for m in self.macro.values() if provider in m.sources]
        return out

    def asset_class(self, symbol: str) -> str:
        return self.instrument(symbol).asset_class
