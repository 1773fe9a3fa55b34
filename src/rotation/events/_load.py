"""Load and validate an events file (TOML or CSV).

TOML (the shipped default, ``default_events.toml``) is an array of ``[[event]]`` tables::

    [[event]]
    date    = 2024-01-10                   # TOML date or "YYYY-MM-DD"
    label   = "SEC approves spot bitcoin ETFs"
    kind    = "etf_approval"               # lower-case identifier
    affects = ["crypto_majors", "IBIT"]    # instruments and/or baskets, or "all"
    timing  = "after_close"                # open (default) | after_close
    source  = "https://..."                # optional
    notes   = "..."                        # optional
    id      = "btc-etf-approval"           # optional, unique in the file

CSV has a header row with the same names (``date,label,kind,affects`` required, the rest
optional); ``affects`` lists names separated by ``;`` (or spaces), or ``all``.

Errors name the file, the 1-based line and the field (:class:`EventsFileError`).
"""

from __future__ import annotations

import csv
import io
import os
import re
import tomllib
from collections.abc import Iterable
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from rotation.errors import ConfigError
from rotation.events._model import ALL, TIMINGS, Event, EventSet, assign_ids, valid_kind

__all__ = ["DEFAULT_EVENTS", "EventsFileError", "default_events_path", "load_events"]

DEFAULT_EVENTS = "default_events.toml"
_FIELDS = ("date", "label", "kind", "affects", "timing", "source", "notes", "id")
_REQUIRED = ("date", "label", "kind", "affects")
_NAME = re.compile(r"^[A-Za-z0-9^][A-Za-z0-9_.\-^=]*$")
_HEADER = re.compile(r"^\s*\[\[\s*event\s*\]\]\s*(#.*)?$")


class EventsFileError(ConfigError):
    """The events file is malformed or names something unknown (file, line and field given)."""


def default_events_path() -> Path:
    """Path of the events file shipped with the package."""
    return Path(str(resources.files("rotation.events").joinpath(DEFAULT_EVENTS)))


def load_events(path: str | os.PathLike[str] | None = None, *, universe: Any = None) -> EventSet:
    """Read and validate an events file.

    Parameters
    ----------
    path : path-like, optional
        ``.toml`` or ``.csv`` file. ``None`` uses ``$ROTATION_EVENTS`` if set, else the
        default file shipped with the package (:func:`default_events_path`).
    universe : Universe or iterable of str, optional
        When given, every name in ``affects`` must be one of its instruments or baskets
        (or of the given names); an unknown name is an error at its line.

    Returns
    -------
    EventSet
        Events in file order, each with an ``id`` (default ``"YYYY-MM-DD kind"``).

    Raises
    ------
    EventsFileError
        Unreadable file, malformed TOML/CSV, missing or unknown field, bad date, kind,
        timing or name, ``all`` mixed with names, duplicate id or duplicate event, no events.
    """
    if path is None:
        path = os.environ.get("ROTATION_EVENTS") or default_events_path()
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise EventsFileError("events file not found", file=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise EventsFileError(f"cannot read events file: {exc}", file=path) from None
    if path.suffix.lower() == ".csv":
        raw = _read_csv(path, text)
    elif path.suffix.lower() == ".toml":
        raw = _read_toml(path, text)
    else:
        raise EventsFileError(f"unknown events file type '{path.suffix}': use .toml or .csv", file=path)
    if not raw:
        raise EventsFileError("the file defines no events", file=path)
    known = _known_names(universe)
    events = [_validate(path, rec, fields, line, known) for rec, fields, line in raw]
    _check_duplicates(path, events)
    return EventSet(tuple(assign_ids(events)), path)


# ------------------------------------------------------------------------------ readers
# Each reader returns (record, field -> line, record line) triples.
_Raw = list[tuple[dict[str, Any], dict[str, int], int | None]]


def _read_toml(path: Path, text: str) -> _Raw:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise EventsFileError(f"malformed TOML: {exc}", file=path, line=int(m.group(1)) if m else None) from None
    extra = set(doc) - {"event"}
    if extra:
        key = sorted(extra)[0]
        raise EventsFileError(f"unknown top-level key '{key}': events are [[event]] tables",
                              file=path, line=_line_of_key(text, key), key=key)
    items = doc.get("event", [])
    if not isinstance(items, list):
        raise EventsFileError("'event' must be an array of tables: write [[event]]", file=path, key="event")
    lines = text.splitlines()
    headers = [no for no, raw in enumerate(lines, start=1) if _HEADER.match(raw)]
    out = []
    for k, item in enumerate(items):
        start = headers[k] if k < len(headers) else None
        stop = headers[k + 1] if k + 1 < len(headers) else len(lines) + 1
        if not isinstance(item, dict):
            raise EventsFileError("each event must be a table", file=path, line=start, key=f"event[{k + 1}]")
        fields: dict[str, int] = {}
        if start is not None:
            for no in range(start + 1, stop):
                m = re.match(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=", lines[no - 1])
                if m and m.group(1) not in fields:
                    fields[m.group(1)] = no
        out.append((item, fields, start))
    return out


def _read_csv(path: Path, text: str) -> _Raw:
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames
    if not header:
        raise EventsFileError("empty CSV: expected a header row with date,label,kind,affects", file=path, line=1)
    names = [h.strip() for h in header]
    unknown = [h for h in names if h not in _FIELDS]
    if unknown:
        raise EventsFileError(
            f"unknown column '{unknown[0]}' (allowed: {', '.join(_FIELDS)})", file=path, line=1, key=unknown[0]
        )
    missing = [f for f in _REQUIRED if f not in names]
    if missing:
        raise EventsFileError(f"missing column '{missing[0]}'", file=path, line=1, key=missing[0])
    out = []
    try:
        for row in reader:
            line = reader.line_num
            if None in row:
                raise EventsFileError("more values than header columns", file=path, line=line)
            rec = {k.strip(): (v.strip() if isinstance(v, str) else v) for k, v in row.items()}
            if not any(rec.values()):
                continue  # a blank line
            rec = {k: v for k, v in rec.items() if v not in (None, "") or k in _REQUIRED}
            if "affects" in rec and isinstance(rec["affects"], str):
                parts = [p for p in re.split(r"[;,\s]+", rec["affects"]) if p]
                rec["affects"] = parts[0] if parts == [ALL] else parts
            out.append((rec, dict.fromkeys(rec, line), line))
    except csv.Error as exc:
        raise EventsFileError(f"malformed CSV: {exc}", file=path, line=reader.line_num) from None
    return out


def _line_of_key(text: str, key: str) -> int | None:
    for no, raw in enumerate(text.splitlines(), start=1):
        if re.match(rf"^\s*\[?\s*{re.escape(key)}\b", raw):
            return no
    return None


# ------------------------------------------------------------------------------ validation
def _known_names(universe: Any) -> set[str] | None:
    if universe is None:
        return None
    if hasattr(universe, "instruments") and hasattr(universe, "baskets"):
        return set(universe.instruments) | set(universe.baskets)
    if isinstance(universe, Iterable) and not isinstance(universe, str):
        return {str(n) for n in universe}
    raise TypeError("universe must be a Universe or an iterable of names")


def _validate(
    path: Path, rec: dict[str, Any], fields: dict[str, int], line: int | None, known: set[str] | None
) -> Event:
    def fail(field: str | None, message: str) -> EventsFileError:
        return EventsFileError(message, file=path, line=fields.get(field, line) if field else line,
                               key=f"event.{field}" if field else None)

    extra = [k for k in rec if k not in _FIELDS]
    if extra:
        raise fail(extra[0], f"unknown field '{extra[0]}' (allowed: {', '.join(_FIELDS)})")
    for f in _REQUIRED:
        if f not in rec or rec[f] in (None, "", []):
            raise fail(None, f"missing '{f}'")
    when = _date(rec["date"])
    if when is None:
        hint = " (a date, not a date-time: use timing = \"after_close\" for news after the close)" \
            if isinstance(rec["date"], datetime) else ""
        raise fail("date", f"not a date: {rec['date']!r}; expected YYYY-MM-DD{hint}")
    label = rec["label"]
    if not isinstance(label, str) or not label.strip():
        raise fail("label", "must be a non-empty string")
    kind = rec["kind"]
    if not isinstance(kind, str) or not valid_kind(kind):
        raise fail("kind", f"invalid kind {kind!r}: use a lower-case identifier such as fomc_cut or etf_approval")
    affects = rec["affects"]
    if isinstance(affects, str):
        affects = [affects]
    if not isinstance(affects, list) or not affects:
        raise fail("affects", "must be \"all\" or a non-empty list of instrument or basket names")
    names: list[str] = []
    for name in affects:
        if not isinstance(name, str) or not _NAME.match(name):
            raise fail("affects", f"invalid name {name!r} (letters, digits and ^ . _ - = only)")
        if name in names:
            raise fail("affects", f"'{name}' is listed twice")
        names.append(name)
    if ALL in names and len(names) > 1:
        raise fail("affects", "\"all\" cannot be combined with other names")
    if known is not None:
        for name in names:
            if name != ALL and name not in known:
                raise fail("affects", f"unknown instrument or basket '{name}' (not in the universe)")
    timing = rec.get("timing", "open")
    if timing not in TIMINGS:
        raise fail("timing", f"{timing!r} is not one of {', '.join(TIMINGS)}")
    ident = rec.get("id", "")
    for f in ("source", "notes", "id"):
        if f in rec and not isinstance(rec[f], str):
            raise fail(f, "must be a string")
    return Event(
        date=when, label=label.strip(), kind=kind, affects=tuple(names), timing=timing, id=ident.strip(),
        source=rec.get("source", ""), notes=rec.get("notes", ""), line=line,
    )


def _date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _check_duplicates(path: Path, events: list[Event]) -> None:
    ids: dict[str, Event] = {}
    keys: dict[tuple[date, str, str], Event] = {}
    for ev in events:
        if ev.id:
            if ev.id in ids:
                raise EventsFileError(
                    f"duplicate id '{ev.id}' (first at line {ids[ev.id].line})", file=path, line=ev.line, key="event.id"
                )
            ids[ev.id] = ev
        key = (ev.date, ev.kind, ev.label.casefold())
        if key in keys:
            raise EventsFileError(
                f"duplicate event {ev.date} {ev.kind} '{ev.label}' (first at line {keys[key].line})",
                file=path, line=ev.line,
            )
        keys[key] = ev
