"""rotation: measure, explain and test capital rotation between AI infrastructure and digital assets.

The public API, layer by layer (data flows one way)::

    sources -> store -> panel -> analytics -> claims -> report / api / cli

>>> import rotation as rt
>>> universe = rt.load_universe()                       # baskets, instruments, macro series
>>> store = rt.Store("rotation.duckdb")                 # the embedded DuckDB store
>>> rt.fetch(store, universe)                           # incremental download    # doctest: +SKIP
>>> panel = rt.build_panel(store, universe, frequency="W")                       # doctest: +SKIP
>>> panel.basket("ai_compute").level                    # basket index            # doctest: +SKIP
"""

__version__ = "0.1.0"  # first, so submodules may import it during package init

from rotation.errors import (
    ConfigError,
    ConnectionFailedError,
    DataError,
    EmptyStoreError,
    ImportFileError,
    MalformedResponseError,
    ParameterError,
    ProviderUnavailableError,
    RateLimitedError,
    RotationError,
    SourceError,
    StoreError,
    SymbolNotFoundError,
    UniverseError,
)
# Everything else is imported on first use (module ``__getattr__``, PEP 562): the analytics pull in
# scipy, statsmodels and ruptures, the claims and the report more, and ``import rotation`` (every CLI
# start-up) should not pay for what a command never touches. ``rotation.<name>`` and
# ``from rotation import <name>`` work as before.
from rotation._lazy import lazy_exports as _lazy_exports
from typing import TYPE_CHECKING

#: Public name -> the module that defines it.
_LAZY: dict[str, str] = {
    **dict.fromkeys(("basket_performance", "contribution", "cross_correlation", "drawdown_table", "event_study",
                     "granger_causality", "macro_sensitivity", "market_cap_share", "net_issuance", "net_liquidity",
                     "residual_correlation", "risk_table", "rolling_beta", "rolling_correlation",
                     "rolling_macro_sensitivity", "rotation_index"), "rotation.analytics"),
    "concentration": "rotation.analytics.concentration",
    "regimes": "rotation.analytics.regimes",
    "rrg": "rotation.analytics.rrg",
    "stress": "rotation.analytics.stress",
    **dict.fromkeys(("EventSet", "load_events"), "rotation.events"),
    **dict.fromkeys(("Ledger", "Verdict", "evaluate_claims", "load_claims_config"), "rotation.claims"),
    **dict.fromkeys(("BasketIndex", "Panel", "basket_index", "build_panel", "macro_panel"), "rotation.panel"),
    **dict.fromkeys(("FetchReport", "Store", "fetch"), "rotation.store"),
    **dict.fromkeys(("Basket", "Instrument", "MacroSeries", "Universe", "load_universe"), "rotation.universe"),
}


if TYPE_CHECKING:  # static analysers and IDEs see the eager imports
    from rotation.analytics import (
        basket_performance,
        contribution,
        cross_correlation,
        drawdown_table,
        event_study,
        granger_causality,
        macro_sensitivity,
        market_cap_share,
        net_issuance,
        net_liquidity,
        residual_correlation,
        risk_table,
        rolling_beta,
        rolling_correlation,
        rolling_macro_sensitivity,
        rotation_index,
    )
    from rotation.analytics.concentration import concentration
    from rotation.analytics.regimes import regimes
    from rotation.analytics.rrg import rrg
    from rotation.analytics.stress import stress
    from rotation.claims import Ledger, Verdict, evaluate_claims, load_claims_config
    from rotation.events import EventSet, load_events
    from rotation.panel import BasketIndex, Panel, basket_index, build_panel, macro_panel
    from rotation.store import FetchReport, Store, fetch
    from rotation.universe import Basket, Instrument, MacroSeries, Universe, load_universe

__all__ = [
    "Basket",
    "BasketIndex",
    "ConfigError",
    "ConnectionFailedError",
    "DataError",
    "EmptyStoreError",
    "EventSet",
    "FetchReport",
    "ImportFileError",
    "Ledger",
    "Instrument",
    "MacroSeries",
    "MalformedResponseError",
    "Panel",
    "ParameterError",
    "ProviderUnavailableError",
    "RateLimitedError",
    "RotationError",
    "SourceError",
    "Store",
    "StoreError",
    "SymbolNotFoundError",
    "Universe",
    "UniverseError",
    "Verdict",
    "__version__",
    "basket_index",
    "basket_performance",
    "build_panel",
    "concentration",
    "contribution",
    "cross_correlation",
    "drawdown_table",
    "evaluate_claims",
    "event_study",
    "granger_causality",
    "fetch",
    "load_claims_config",
    "load_events",
    "load_universe",
    "macro_panel",
    "macro_sensitivity",
    "market_cap_share",
    "net_issuance",
    "net_liquidity",
    "regimes",
    "residual_correlation",
    "risk_table",
    "rolling_beta",
    "rolling_correlation",
    "rolling_macro_sensitivity",
    "rotation_index",
    "rrg",
    "stress",
]

__getattr__, __dir__ = _lazy_exports(__name__, _LAZY, globals(), __all__)
