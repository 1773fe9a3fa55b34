"""rotation: measure, explain and test capital rotation between AI infrastructure and digital assets."""

from rotation.errors import *  # noqa: F403
from rotation.errors import __all__ as _errors_all
from rotation.store import Store
from rotation.universe import Basket, Instrument, MacroSeries, Universe, load_universe

__version__ = "0.1.0"

__all__ = [
    *_errors_all,
    "Basket",
    "Instrument",
    "MacroSeries",
    "Store",
    "Universe",
    "__version__",
    "load_universe",
]
