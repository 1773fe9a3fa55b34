"""The HTML report: gather analytics results, draw them, render one self-contained file.

Presentation only: every number shown comes from :mod:`rotation.analytics` or
the store; this module formats and draws. Plotly's JavaScript is embedded
inline so the file opens offline and without a CDN.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import plotly.graph_objects as go
from jinja2 import Environment, PackageLoader, select_autoescape
from plotly.offline import get_plotlyjs

from rotation import __version__
from rotation.analytics.performance import basket_performance
from rotation.panel import build_panel
from rotation.store import Store
from rotation.universe import Universe

__all__ = ["write_report"]

PALETTE = {
    "ai": ["#1f4e9c", "#3b7dd8", "#7fb0f0"],
    "crypto": ["#c2410c", "#ea7a2a", "#f4a261", "#9a3412"],
    "benchmark": ["#4b5563"],
    "other": ["#0f766e", "#14b8a6"],
}


@dataclass
class _Table:
    html: str
    title: str = ""
    note: str = ""
    scroll: bool = False


@dataclass
class _Figure:
    id: str
    figure: go.Figure


@dataclass
class _Section:
    id: str
    title: str
    intro: str = ""
    figures: list[_Figure] = field(default_factory=list)
    tables: list[_Table] = field(default_factory=list)


def _pct(x: float) -> str:
    return "" if pd.isna(x) else f"{x:+.1%}"


def _fmt_table(frame: pd.DataFrame, pct_cols: set[str], num_cols: set[str] | None = None) -> str:
    """HTML table with signed colouring of percentage columns."""
    num_cols = num_cols or set()
    head = "".join(f"<th>{c}</th>" for c in [frame.index.name or "", *frame.columns])
    rows = []
    for idx, row in frame.iterrows():
        cells = [f"<td>{idx}</td>"]
        for c in frame.columns:
            v = row[c]
            if c in pct_cols and isinstance(v, (int, float)) and not pd.isna(v):
                cls = "pos" if v > 0 else "neg" if v < 0 else ""
                cells.append(f'<td class="{cls}">{v:+.1%}</td>')
            elif c in num_cols and isinstance(v, (int, float)) and not pd.isna(v):
                cells.append(f"<td>{v:,.2f}</td>")
            elif isinstance(v, float) and pd.isna(v):
                cells.append("<td></td>")
            else:
                cells.append(f"<td>{v}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _colours(universe: Universe, names: list[str]) -> dict[str, str]:
    used: dict[str, int] = {}
    out = {}
    for n in names:
        role = universe.baskets[n].role if n in universe.baskets else "other"
        pal = PALETTE.get(role, PALETTE["other"])
        out[n] = pal[used.get(role, 0) % len(pal)]
        used[role] = used.get(role, 0) + 1
    return out


def _layout(title: str, **kw: object) -> dict:
    base = dict(
        title=dict(text=title, x=0.01, font=dict(size=15)),
        margin=dict(l=60, r=20, t=50, b=40),
        legend=dict(orientation="h", y=-0.15),
        template="plotly_white",
        height=440,
        hovermode="x unified",
    )
    base.update(kw)
    return base


def _headline(trailing: pd.DataFrame, universe: Universe, stale: list[str]) -> list[str]:
    """Sentences built from the trailing returns (ranking only; no statistics computed here)."""
    ranked = [n for n in trailing.index
              if n not in stale and (universe.baskets[n].role if n in universe.baskets else "other") != "benchmark"]
    trailing = trailing.loc[ranked]
    lines = []
    for col, label in (("4w", "4 weeks"), ("13w", "13 weeks"), ("52w", "52 weeks")):
        s = trailing[col].dropna()
        if s.empty:
            continue
        best, worst = s.idxmax(), s.idxmin()
        lines.append(
            f"Last {label}: strongest basket {best} ({_pct(s[best])}), weakest {worst} ({_pct(s[worst])})."
        )
    by_role: dict[str, list[str]] = {}
    for name in trailing.index:
        role = universe.baskets[name].role if name in universe.baskets else "other"
        by_role.setdefault(role, []).append(name)
    s13 = trailing["13w"]
    ai = [n for n in by_role.get("ai", []) if pd.notna(s13.get(n))]
    crypto = [n for n in by_role.get("crypto", []) if pd.notna(s13.get(n))]
    if ai and crypto:
        ai_ahead = sum(1 for a in ai for c in crypto if s13[a] > s13[c])
        pairs = len(ai) * len(crypto)
        lines.append(
            f"Over 13 weeks AI baskets beat crypto baskets in {ai_ahead} of {pairs} pairwise comparisons "
            f"({'AI-leaning' if ai_ahead > pairs / 2 else 'crypto-leaning' if ai_ahead < pairs / 2 else 'balanced'})."
        )
    return lines


def write_report(
    store: Store,
    universe: Universe,
    output: str | Path,
    *,
    start: date | None = None,
    end: date | None = None,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Write the HTML report for ``universe`` from ``store`` to ``output``.

    Returns the path written. Raises :class:`~rotation.errors.EmptyStoreError`
    when the store holds nothing for the universe.
    """
    t0 = time.perf_counter()
    say = progress or (lambda _m: None)
    say("building panel")
    symbols = universe.members()
    panel = build_panel(store, universe, symbols=symbols, start=start, end=end, cap_method="backcast")
    say("computing basket indices and risk")
    perf = basket_performance(panel)
    names = list(perf.levels.columns)
    colours = _colours(universe, names)

    sections: list[_Section] = [_Section("headline", "Headline")]

    # levels
    fig = go.Figure()
    for n in names:
        s = perf.levels[n].dropna()
        fig.add_trace(go.Scatter(x=s.index, y=s.to_numpy(), name=n, mode="lines", line=dict(color=colours[n], width=1.6)))
    win = perf.window
    fig.update_layout(**_layout(f"Basket indices, base 100 on {win.start.date()} (log scale)", yaxis_type="log"))
    trailing = perf.trailing.loc[names]
    fig2 = go.Figure()
    for col in ("4w", "13w", "52w"):
        fig2.add_trace(go.Bar(x=names, y=trailing[col].to_numpy(), name=col))
    fig2.update_layout(**_layout("Trailing returns by basket", yaxis_tickformat=".0%", barmode="group", hovermode="closest"))
    sections.append(
        _Section(
            "baskets",
            "Basket performance",
            intro="Each basket is an index of its members (see the notes for weighting and fallbacks).",
            figures=[_Figure("fig-levels", fig), _Figure("fig-trailing", fig2)],
        )
    )

    # risk table
    shown = ["4w", "13w", "52w", "ytd", "total_return", "cagr", "volatility", "max_drawdown", "sharpe", "sortino",
             "cvar", "window_end"]
    risk = perf.to_frame()
    risk = risk[[c for c in shown if c in risk.columns]]
    risk.index.name = "basket"
    pct_cols = {"4w", "13w", "52w", "ytd", "total_return", "cagr", "volatility", "max_drawdown", "cvar"}
    num_cols = {"sharpe", "sortino"}
    sections.append(
        _Section(
            "risk",
            "Performance and risk",
            intro=(f"Over the common window {win.start.date()} to {win.end.date()} (the last date on which every "
                   "basket still has observed prices for at least half its members; later rows of feeds that run "
                   "longer are left out so that flat, forward-filled prices do not distort the comparison). "
                   "Annualised over NYSE sessions; CVaR is the mean of the worst 5% of daily returns."),
            tables=[_Table(_fmt_table(risk, pct_cols, num_cols), note="; ".join(perf.notes))],
        )
    )

    # data coverage and quality
    say("summarising data coverage")
    cov = store.coverage()
    cov = cov[cov["symbol"].isin(symbols + list(universe.macro))]
    cov_tbl = cov.assign(rows=cov["rows"].map("{:,}".format)).set_index("symbol")
    cov_tbl.index.name = "symbol"
    quality = panel.quality.groupby("action")["count"].agg(["size", "sum"]).rename(
        columns={"size": "instruments", "sum": "cells"}
    )
    quality.index.name = "policy action"
    missing = [s for s in symbols if s not in panel.prices.columns]
    sections.append(
        _Section(
            "data",
            "Data",
            intro=(f"Store {store.path}. Panel: {panel.calendar} calendar, crypto at the {panel.crypto_close} "
                   f"UTC close, {len(panel.index)} rows from {panel.index.min().date()} to {panel.index.max().date()}. "
                   + (f"No data for: {', '.join(missing)}." if missing else "Every basket member has data.")),
            tables=[
                _Table(_fmt_table(cov_tbl, set()), title="Stored series", scroll=True),
                _Table(_fmt_table(quality, set()), title="What the panel builder did",
                       note="Fills are forward fills of at most 5 rows; splices fill one source's gaps from another, "
                            "scaled by their ratio on the nearest common date; back-cast caps are constant-share "
                            "approximations."),
            ],
        )
    )

    env = Environment(loader=PackageLoader("rotation.report", "templates"), autoescape=select_autoescape(["html"]))
    template = env.get_template("report.html.j2")
    figures = {f.id: json.loads(f.figure.to_json()) for s in sections for f in s.figures}
    weightings = sorted({idx.weighting for idx in perf.indices.values()})
    html = template.render(
        version=__version__,
        data_start=panel.index.min().date(),
        data_end=panel.index.max().date(),
        n_instruments=len(panel.symbols),
        n_baskets=len(names),
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        sections=sections,
        headline=[f"As of {win.end.date()} (the latest date all compared baskets have data for):",
                  *_headline(trailing, universe, win.stale),
                  *([f"Left out (stale data): {', '.join(win.stale)}."] if win.stale else [])],
        weighting_note=" and ".join(weightings) + "-weighted as configured in the universe",
        plotly_js=get_plotlyjs(),
        figures_json=json.dumps(figures),
        python_version=platform.python_version(),
        pandas_version=pd.__version__,
        duckdb_version=duckdb.__version__,
        run_seconds=f"{time.perf_counter() - t0:.1f}",
    )
    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(out)  # never leave a half-written report behind
    say(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)")
    return out
