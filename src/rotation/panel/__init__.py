"""Panel: aligned wide frames and basket indices built from the store.

See :func:`build_panel` for the alignment and data-quality policy and
:func:`basket_index` for the index definition.
"""

from rotation.panel._basket import REBALANCE_RULES, BasketIndex, basket_index
from rotation.panel._build import CAP_METHODS, Panel, build_panel, macro_panel
from rotation.panel._calendar import CALENDARS, calendar_index, sessions

__all__ = [
    "CALENDARS",
    "CAP_METHODS",
    "REBALANCE_RULES",
    "BasketIndex",
    "Panel",
    "basket_index",
    "build_panel",
    "calendar_index",
    "macro_panel",
    "sessions",
]
