"""Parameter parsing for the API: each failure is a :class:`ParameterError` naming the query parameter.

The app maps :class:`ParameterError` to HTTP 422 with body
``{"detail": message, "parameter": name}``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

import pandas as pd

from rotation.errors import ParameterError
from rotation.universe import Universe

__all__ = [
    "LIMITS",
    "parse_baskets",
    "parse_choice",
    "parse_date",
    "parse_int",
    "parse_list",
    "parse_range",
    "parse_symbols",
]

#: Bounds of the API (documented in the OpenAPI descriptions).
LIMITS = {
    "max_symbols": 200,        # columns of /panel
    "max_cells": 200_000,      # rows x columns of /panel
    "max_names": 30,           # baskets per request
    "max_list_item": 64,       # characters of one name
    "max_years": 30,           # width of a start..end range
    "max_window": 520,         # weeks (or rows) of any rolling window
    "max_tail": 52,
    "max_claims": 12,
}

_NAME = re.compile(r"^[A-Za-z0-9_.\-^=]+$")


def parse_list(value: str | None, parameter: str, *, max_items: int | None = None) -> list[str]:
    """Comma-separated names -> de-duplicated list (order kept); empty/None -> []."""
    if value is None:
        return []
    items = list(dict.fromkeys(p.strip() for p in value.split(",") if p.strip()))
    limit = LIMITS["max_names"] if max_items is None else max_items
    if len(items) > limit:
        raise ParameterError(parameter, f"at most {limit} names, got {len(items)}")
    for item in items:
        if len(item) > LIMITS["max_list_item"] or not _NAME.match(item):
            raise ParameterError(parameter, f"{item[:70]!r} is not a valid name (letters, digits, _ . - ^ =)")
    return items


def parse_baskets(value: str | None, parameter: str, universe: Universe, *, default: Sequence[str] = ()) -> list[str]:
    """Basket names that must exist in the universe; ``default`` when the parameter is absent."""
    names = parse_list(value, parameter) or list(default)
    unknown = [n for n in names if n not in universe.baskets]
    if unknown:
        raise ParameterError(parameter, f"unknown basket(s) {', '.join(unknown)}; known: "
                                        f"{', '.join(universe.baskets)}")
    return names


def parse_symbols(value: str | None, parameter: str, known: set[str], *, max_items: int) -> list[str]:
    """Symbols that must be stored (``known``); at most ``max_items``."""
    names = parse_list(value, parameter, max_items=max_items)
    unknown = [n for n in names if n not in known]
    if unknown:
        shown = ", ".join(unknown[:10]) + (", ..." if len(unknown) > 10 else "")
        raise ParameterError(parameter, f"unknown symbol(s) {shown}: not in the universe or the store")
    return names


def parse_date(value: str | None, parameter: str) -> pd.Timestamp | None:
    """``YYYY-MM-DD`` -> Timestamp (None stays None)."""
    if value is None or value == "":
        return None
    try:
        d = date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ParameterError(parameter, f"expected a date YYYY-MM-DD, got {value[:40]!r}") from None
    if not 1900 <= d.year <= 2200:
        raise ParameterError(parameter, f"year {d.year} is out of range 1900..2200")
    return pd.Timestamp(d)


def parse_range(start: str | None, end: str | None) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """``start``/``end`` parsed, ordered and no wider than ``LIMITS['max_years']``."""
    t0, t1 = parse_date(start, "start"), parse_date(end, "end")
    if t0 is not None and t1 is not None:
        if t0 > t1:
            raise ParameterError("start", f"start {t0.date()} is after end {t1.date()}")
        if (t1 - t0).days > 366 * LIMITS["max_years"]:
            raise ParameterError("end", f"the range start..end is wider than {LIMITS['max_years']} years")
    return t0, t1


def parse_int(value: int, parameter: str, lo: int, hi: int) -> int:
    """An integer within ``[lo, hi]``."""
    if not lo <= value <= hi:
        raise ParameterError(parameter, f"must be between {lo} and {hi}, got {value}")
    return int(value)


def parse_choice(value: str, parameter: str, choices: Sequence[str]) -> str:
    if value not in choices:
        raise ParameterError(parameter, f"must be one of {', '.join(choices)}, got {value[:40]!r}")
    return value
