"""Typed model of an events file: dated, labelled events and the instruments they affect."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from rotation.errors import ParameterError

__all__ = ["ALL", "STANDARD_KINDS", "TIMINGS", "Event", "EventSet"]

#: The ``affects`` value meaning "every series of the study".
ALL = "all"
#: ``open``: the news is public before or during the session of ``date`` (event day 0 is
#: that session, or the next one when ``date`` is not a session). ``after_close``: the news
#: came after that day's close, so day 0 is the first session strictly after ``date``.
TIMINGS = ("open", "after_close")
#: Kinds used by the shipped file. Any lower-case identifier is accepted; these are the
#: conventional names (``rotation events --kind`` lists the kinds present in a file).
STANDARD_KINDS = (
    "fomc_hike", "fomc_hold", "fomc_cut", "qt_start", "qt_taper", "qt_end", "qt_end_effective",
    "etf_approval", "etf_launch", "halving", "product_launch", "ipo", "deal", "purchase",
    "index_inclusion", "index_effective",
)
_KIND = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class Event:
    """One dated event.

    Attributes
    ----------
    date : datetime.date
        Calendar date of the news (US Eastern for US announcements, the UTC day for on-chain
        events such as halvings).
    label : str
        Short description.
    kind : str
        Lower-case identifier grouping comparable events (``fomc_cut``, ``etf_approval``).
    affects : tuple of str
        Instruments or baskets the event is expected to move, or ``("all",)``.
    timing : str
        ``open`` (default) or ``after_close``; see :data:`TIMINGS`.
    id : str
        Unique identifier within its file (default ``"YYYY-MM-DD kind"``, with ``#2``, ``#3``
        appended to repeats).
    source : str
        URL or citation for the fact.
    notes : str
    line : int or None
        1-based line of the event in its file (``None`` when built in code).
    """

    date: date
    label: str
    kind: str
    affects: tuple[str, ...]
    timing: str = "open"
    id: str = ""
    source: str = ""
    notes: str = ""
    line: int | None = None

    @property
    def affects_all(self) -> bool:
        return ALL in self.affects


@dataclass(frozen=True)
class EventSet:
    """An ordered collection of events (file order), with filters and a table view.

    Attributes
    ----------
    events : tuple of Event
    path : Path or None
        The file the events came from.
    """

    events: tuple[Event, ...]
    path: Path | None = None

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events)

    def __len__(self) -> int:
        return len(self.events)

    def __getitem__(self, key: int | str) -> Event:
        if isinstance(key, str):
            for ev in self.events:
                if ev.id == key:
                    return ev
            raise KeyError(key)
        return self.events[key]

    @property
    def kinds(self) -> list[str]:
        """Kinds present, in order of first appearance."""
        return list(dict.fromkeys(ev.kind for ev in self.events))

    def names(self) -> set[str]:
        """Every instrument or basket name the events refer to (``all`` excluded)."""
        return {n for ev in self.events for n in ev.affects if n != ALL}

    def select(
        self,
        kinds: Iterable[str] | str | None = None,
        *,
        start: object = None,
        end: object = None,
    ) -> EventSet:
        """Events of the given kinds dated in ``[start, end]`` (inclusive; each optional).

        Raises
        ------
        ParameterError
            A requested kind is not in the set (the kinds present are listed), or a bound is
            not a date.
        """
        wanted = [kinds] if isinstance(kinds, str) else (list(kinds) if kinds is not None else None)
        if wanted is not None:
            missing = [k for k in wanted if k not in self.kinds]
            if missing:
                raise ParameterError(
                    "kinds", f"no events of kind {', '.join(missing)} (present: {', '.join(self.kinds) or 'none'})"
                )
        lo, hi = _bound("start", start), _bound("end", end)
        keep = tuple(
            ev for ev in self.events
            if (wanted is None or ev.kind in wanted)
            and (lo is None or ev.date >= lo)
            and (hi is None or ev.date <= hi)
        )
        return EventSet(keep, self.path)

    def to_frame(self) -> pd.DataFrame:
        """One row per event: ``id, date, kind, label, affects, timing, source, notes, line``.

        ``date`` is a datetime64 column; ``affects`` holds tuples.
        """
        rows = [
            {"id": ev.id, "date": pd.Timestamp(ev.date), "kind": ev.kind, "label": ev.label,
             "affects": ev.affects, "timing": ev.timing, "source": ev.source, "notes": ev.notes, "line": ev.line}
            for ev in self.events
        ]
        cols = ["id", "date", "kind", "label", "affects", "timing", "source", "notes", "line"]
        frame = pd.DataFrame(rows, columns=cols)
        frame["date"] = pd.to_datetime(frame["date"])
        return frame

    @classmethod
    def from_events(cls, events: Sequence[Event], path: Path | None = None) -> EventSet:
        """Build a set from events made in code; missing ids get the default ``"date kind"`` form."""
        return cls(tuple(assign_ids(list(events))), path)


def assign_ids(events: list[Event]) -> list[Event]:
    """Give events without an id the default ``"YYYY-MM-DD kind"`` (``#n`` on repeats)."""
    from dataclasses import replace

    seen: dict[str, int] = {}
    taken = {ev.id for ev in events if ev.id}
    out = []
    for ev in events:
        if ev.id:
            out.append(ev)
            continue
        base = f"{ev.date.isoformat()} {ev.kind}"
        n = seen.get(base, 0) + 1
        seen[base] = n
        ident = base if n == 1 else f"{base} #{n}"
        while ident in taken:
            n += 1
            seen[base] = n
            ident = f"{base} #{n}"
        taken.add(ident)
        out.append(replace(ev, id=ident))
    return out


def _bound(name: str, value: object) -> date | None:
    if value is None:
        return None
    try:
        ts = pd.Timestamp(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ParameterError(name, f"not a date: {value!r}") from None
    if pd.isna(ts):
        raise ParameterError(name, f"not a date: {value!r}")
    return ts.date()


def valid_kind(kind: str) -> bool:
    return bool(_KIND.match(kind))
