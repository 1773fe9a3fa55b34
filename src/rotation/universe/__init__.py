"""Universe: the instruments, baskets and macro series rotation works on.

A universe is a TOML file the user edits; the package ships a default
(:func:`default_universe_path`). :func:`load_universe` validates it and names
file, line and key for every problem.
"""

from rotation.universe._load import (
    KNOWN_PROVIDERS,
    default_universe_path,
    load_universe,
)
from rotation.universe._model import ASSET_CLASSES, Basket, Instrument, MacroSeries, Universe

__all__ = [
    "ASSET_CLASSES",
    "KNOWN_PROVIDERS",
    "Basket",
    "Instrument",
    "MacroSeries",
    "Universe",
    "default_universe_path",
    "load_universe",
]
