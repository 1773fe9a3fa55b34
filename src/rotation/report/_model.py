"""What a report section is made of: figures, tables, notes and "not available" notices.

Section builders (:mod:`rotation.report._sections`, :mod:`rotation.report._ledger`)
fill these containers from analytics results; the template
(``templates/report.html.j2``) lays them out. Nothing here computes a number.
"""

from __future__ import annotations

import html
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

__all__ = [
    "Figure",
    "Notice",
    "Section",
    "Table",
    "Timings",
    "fmt_table",
    "fmt_value",
]


@dataclass
class Figure:
    """One chart: its DOM id (also the file name of an exported image) and the plotly figure.

    Attributes
    ----------
    id : str
        Unique in the report; ``[A-Za-z0-9_-]`` only (used as element id and file name).
    figure : plotly.graph_objects.Figure
    caption : str
        One or two sentences under the chart: what is drawn and how to read it.
    height : int
        CSS height of the chart, pixels: the figure's layout height when it has one, else this (or 440).
    """

    id: str
    figure: go.Figure
    caption: str = ""
    height: int = 0

    def __post_init__(self) -> None:
        # one height for the element and the chart: the layout's when it has one
        if self.figure.layout.height:
            self.height = int(self.figure.layout.height)
        else:
            self.height = self.height or 440
            self.figure.update_layout(height=self.height)

    def spec(self, *, template: bool = False) -> dict:
        """The figure as a plotly.js JSON dict; ``template``: with the report's template merged in
        (exported images; the HTML page applies it once in its script)."""
        from rotation.report._figures import TEMPLATE

        d = self.figure.to_plotly_json()
        lay = d.setdefault("layout", {})
        # plotly.py fills in its default template ("plotly", ~10 kB); replace it with the report's
        lay.pop("template", None)
        if template:
            lay["template"] = TEMPLATE
        return d


@dataclass
class Table:
    """An HTML table (already escaped and formatted) with an optional title and note."""

    html: str
    title: str = ""
    note: str = ""
    scroll: bool = False


@dataclass
class Notice:
    """A "not available" panel: what is missing and why (shown instead of a chart or table).

    Attributes
    ----------
    what : str
        The part of the section that could not be drawn ("Net liquidity").
    reason : str
        Why, in words a user can act on.
    internal : bool
        True when the cause is an unexpected error (a bug to report), not missing data.
    """

    what: str
    reason: str
    internal: bool = False


@dataclass
class Section:
    """One numbered section of the report.

    Attributes
    ----------
    id : str
        Anchor id.
    title : str
    intro : str
        Plain-text paragraph under the title (escaped by the template).
    lines : list of str
        Bullet points (the headline's plain-words sentences).
    figures, tables, notices : lists
        In display order: notices first, then figures, then tables.
    notes : list of str
        Data caveats shown under the section.
    html : str
        Pre-rendered (escaped) HTML for sections with their own layout (the claims ledger).
    """

    id: str
    title: str
    intro: str = ""
    lines: list[str] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    html: str = ""

    def unavailable(self, what: str, reason: object, *, internal: bool = False) -> None:
        """Record that ``what`` could not be shown, with the reason (an exception or text)."""
        self.notices.append(Notice(what, str(reason).strip() or type(reason).__name__, internal))


class Timings:
    """Seconds of each report stage, in order of completion: wall clock and CPU time.

    CPU time (of the thread that ran the stage) is about what a stage costs on an idle machine;
    wall time also counts waiting for other jobs on a shared machine.

    A stage opened inside another (``provenance: quality checks`` inside ``provenance``) is part of
    its time: :attr:`parents` names the enclosing stage, so that totals add up only the top-level ones.
    """

    def __init__(self) -> None:
        self.stages: list[tuple[str, float, float]] = []
        #: stage name -> the stage it ran inside (None: top level)
        self.parents: dict[str, str | None] = {}
        self._open: list[str] = []

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self.parents.setdefault(name, self._open[-1] if self._open else None)
        self._open.append(name)
        t0, c0 = time.perf_counter(), time.thread_time()
        try:
            yield
        finally:
            self.stages.append((name, time.perf_counter() - t0, time.thread_time() - c0))
            self._open.pop()

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.stages, columns=["stage", "seconds", "cpu seconds"])


# ----------------------------------------------------------------------------- formatting
def _is_missing(v: Any) -> bool:
    if v is None or v is pd.NaT or v is pd.NA:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def fmt_value(v: Any, kind: str = "") -> str:
    """One cell as text: ``kind`` is ``pct`` (signed %), ``pct0`` (unsigned %), ``num`` (2 decimals),
    ``num3``, ``int``, ``p`` (p-value), ``bn`` (USD billions), ``auto`` (4 significant digits, thousands
    of millions as "bn"), ``date`` or "" (as is)."""
    if _is_missing(v):
        return ""
    if isinstance(v, (pd.Timestamp, np.datetime64)) or kind == "date":
        try:
            return pd.Timestamp(v).strftime("%Y-%m-%d")
        except (TypeError, ValueError):
            return str(v)
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, float, np.integer, np.floating)):
        x = float(v)
        if not np.isfinite(x):
            return ""
        if kind == "pct":
            return f"{x:+.1%}"
        if kind == "pct0":
            return f"{x:.1%}"
        if kind == "num3":
            return f"{x:,.3f}"
        if kind == "int":
            return f"{x:,.0f}"
        if kind == "p":
            return "<0.001" if x < 0.001 else f"{x:.3f}"
        if kind == "bn":
            return f"{x / 1e9:,.0f}"
        if kind == "auto":  # numbers of unknown scale (evidence tables): 4 significant digits, big ones scaled
            a = abs(x)
            if a >= 1e12:
                return f"{x / 1e12:,.2f} tn"
            if a >= 1e9:
                return f"{x / 1e9:,.2f} bn"
            if a >= 1e6:
                return f"{x / 1e6:,.2f} m"
            return f"{x:,.4g}" if isinstance(v, (float, np.floating)) else f"{int(x):,}"
        if kind == "num" or isinstance(v, (float, np.floating)):
            return f"{x:,.2f}"
        return f"{int(x):,}"
    return str(v)


def fmt_table(
    frame: pd.DataFrame,
    kinds: dict[str, str] | None = None,
    *,
    signed: Sequence[str] = (),
    wrap: Sequence[str] = (),
    index: bool = True,
    classes: str = "",
    default: str = "",
) -> str:
    """An escaped HTML table of ``frame``.

    Parameters
    ----------
    frame : DataFrame
        Rows as shown (the caller orders and selects columns).
    kinds : dict, optional
        Column -> format kind (see :func:`fmt_value`).
    signed : sequence of str
        Columns whose cells are coloured by sign (green positive, red negative).
    wrap : sequence of str
        Columns of long text that may wrap (left-aligned).
    index : bool
        Show the index as the first column.
    default : str
        Format kind of the columns not in ``kinds``.
    """
    kinds = kinds or {}
    cols = list(frame.columns)
    head = ([f"<th>{html.escape(str(frame.index.name or ''))}</th>"] if index else []) + [
        f"<th>{html.escape(str(c))}</th>" for c in cols
    ]
    rows = []
    for idx, row in zip(frame.index, frame.itertuples(index=False, name=None), strict=True):
        cells = [f"<td>{html.escape(fmt_value(idx))}</td>"] if index else []
        for c, v in zip(cols, row, strict=True):
            cls = ""
            if c in signed and not _is_missing(v) and isinstance(v, (int, float, np.integer, np.floating)):
                cls = ' class="pos"' if v > 0 else ' class="neg"' if v < 0 else ""
            elif c in wrap:
                cls = ' class="wrap"'

            cells.append(f"<td{cls}>{html.escape(fmt_value(v, kinds.get(c, default)))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    cls_attr = f' class="{classes}"' if classes else ""
    return f"<table{cls_attr}><thead><tr>{''.join(head)}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
