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
    "parse_fraction",
    "parse_int",
    "parse_int_list",
    "parse_list",
    "parse_range",
    "parse_shocks",
    "parse_symbols",
    "parse_windows",
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


def parse_fraction(value: float, parameter: str, lo: float, hi: float) -> float:
    """A finite number within ``[lo, hi]``."""
    import math

    if not (math.isfinite(value) and lo <= value <= hi):
        raise ParameterError(parameter, f"must be between {lo} and {hi}, got {value}")
    return float(value)


def parse_int_list(value: str | None, parameter: str, lo: int, hi: int, *, max_items: int = 10) -> list[int]:
    """``"1,3"`` -> ``[1, 3]``: distinct integers within ``[lo, hi]``; empty/None -> []."""
    if value is None or not value.strip():
        return []
    parts = [p.strip() for p in value.split(",") if p.strip()]
    if len(parts) > max_items:
        raise ParameterError(parameter, f"at most {max_items} values, got {len(parts)}")
    try:
        out = list(dict.fromkeys(int(p) for p in parts))
    except ValueError:
        raise ParameterError(parameter, f"expected comma-separated integers, got {value[:40]!r}") from None
    bad = [v for v in out if not lo <= v <= hi]
    if bad:
        raise ParameterError(parameter, f"values must be between {lo} and {hi}, got {bad[0]}")
    return out


def parse_windows(value: str | None, parameter: str, *, lo: int = -250, hi: int = 250,
                  max_items: int = 10) -> list[tuple[int, int]]:
    """``"-1:1,0:5"`` -> ``[(-1, 1), (0, 5)]`` (event-day windows, ends included); empty/None -> []."""
    if value is None or not value.strip():
        return []
    parts = [p.strip() for p in value.split(",") if p.strip()]
    if len(parts) > max_items:
        raise ParameterError(parameter, f"at most {max_items} windows, got {len(parts)}")
    out: list[tuple[int, int]] = []
    for raw in parts:
        try:
            a, b = (int(x) for x in raw.split(":"))
        except ValueError:
            raise ParameterError(parameter, f"expected START:END in event days (-1:1,0:5), got {raw[:40]!r}") from None
        if b < a:
            raise ParameterError(parameter, f"window {raw} ends before it starts")
        if a < lo or b > hi:
            raise ParameterError(parameter, f"window {raw} is outside {lo}..{hi} event days")
        out.append((a, b))
    return list(dict.fromkeys(out))


def _return(text: str, parameter: str) -> float:
    """A return from ``-0.15`` or ``-15%``."""
    import math

    t = text.strip()
    try:
        x = float(t[:-1]) / 100.0 if t.endswith("%") else float(t)
    except ValueError:
        raise ParameterError(parameter, f"not a number: {text[:40]!r} (write -0.15 or -15%)") from None
    if not (math.isfinite(x) and -1.0 < x <= 1.0):
        raise ParameterError(parameter, f"a shock must be a return in (-1, 1], got {text[:40]!r}")
    return x


def parse_shocks(value: str | None, parameter: str, universe: Universe) -> dict[str, tuple[float, ...]] | None:
    """``"ai:-0.1,ai:-15%,crypto:-0.2"`` -> ``{"ai": (-0.1, -0.15), "crypto": (-0.2,)}``; None when absent.

    Baskets must exist in ``universe``; ``=`` is accepted in place of ``:``.
    """
    if value is None or not value.strip():
        return None
    parts = [p.strip() for p in value.split(",") if p.strip()]
    if len(parts) > 20:
        raise ParameterError(parameter, f"at most 20 shocks, got {len(parts)}")
    out: dict[str, list[float]] = {}
    for raw in parts:
        name, sep, rhs = raw.replace("=", ":").partition(":")
        name = name.strip()
        if not sep or not name or not rhs.strip():
            raise ParameterError(parameter, f"expected BASKET:RETURN such as ai_compute:-0.15, got {raw[:60]!r}")
        if name not in universe.baskets:
            raise ParameterError(parameter, f"unknown basket {name[:64]!r}; known: {', '.join(universe.baskets)}")
        out.setdefault(name, []).extend(_return(x, parameter) for x in rhs.split("/") if x.strip())
    return {k: tuple(dict.fromkeys(v)) for k, v in out.items()}
