"""Events: the user-editable file of dated events that event studies run on.

An events file (TOML or CSV, see :mod:`rotation.events._load` and the shipped
``default_events.toml``) lists dated facts (FOMC decisions, the end of quantitative
tightening, spot-ETF approvals and launches, halvings, IPOs, deals) with the instruments or
baskets each one affects. :func:`load_events` validates it and names file, line and field for
every problem; :func:`rotation.analytics.events.event_study` runs on the result.
"""

from rotation.events._load import DEFAULT_EVENTS, EventsFileError, default_events_path, load_events
from rotation.events._model import ALL, STANDARD_KINDS, TIMINGS, Event, EventSet

__all__ = [
    "ALL",
    "DEFAULT_EVENTS",
    "STANDARD_KINDS",
    "TIMINGS",
    "Event",
    "EventSet",
    "EventsFileError",
    "default_events_path",
    "load_events",
]
