"""Plotly figures of the report: one function per chart type, analytics results in, figures out.

Presentation only: these functions lay out numbers they are given (levels,
coordinates, estimates and their intervals); they never estimate anything.
Every figure uses the same template and colours, so a basket has one colour
across the whole report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from rotation.universe import Universe

__all__ = [
    "PALETTE",
    "menu",
    "xy",
    "bars_with_intervals",
    "colours",
    "forest",
    "layout",
    "lines",
    "rrg_figure",
    "stacked_shares",
]

#: Colours by basket role (AI blues, crypto oranges, benchmark greys, others teal/purple).
PALETTE = {
    "ai": ["#1f4e9c", "#3b7dd8", "#7fb0f0", "#0b2e66"],
    "crypto": ["#c2410c", "#ea7a2a", "#f4a261", "#9a3412", "#b45309"],
    "benchmark": ["#4b5563", "#9ca3af"],
    "other": ["#0f766e", "#14b8a6", "#7c3aed", "#a21caf", "#65a30d", "#0891b2"],
}
_QUADRANT_FILL = {"leading": "#e7f5ec", "weakening": "#fdf6e3", "lagging": "#fbeaea", "improving": "#e8f0fb"}
_QUADRANT_TEXT = {"leading": "#11763b", "weakening": "#8a6d0b", "lagging": "#b42318", "improving": "#2750a8"}


def colours(universe: Universe | None, names: Sequence[str]) -> dict[str, str]:
    """A stable colour per name: baskets by role, then anything else from the ``other`` palette."""
    used: dict[str, int] = {}
    out: dict[str, str] = {}
    for n in names:
        role = "other"
        if universe is not None and n in universe.baskets:
            role = universe.baskets[n].role
        elif n in ("ai", "AI side"):
            role = "ai"
        elif n in ("crypto", "crypto side"):
            role = "crypto"
        pal = PALETTE.get(role, PALETTE["other"])
        out[n] = pal[used.get(role, 0) % len(pal)]
        used[role] = used.get(role, 0) + 1
    return out


#: A small template in the spirit of plotly_white, applied when a chart is drawn (once in the page's
#: script; merged into each figure on export, see :meth:`rotation.report._model.Figure.spec`). Naming a
#: registered template ("plotly_white") in every layout copies and validates its full definition per
#: figure (about 40 ms each) and embeds ~10 kB of JSON per chart.
_AXIS = dict(gridcolor="#ebf0f8", zerolinecolor="#ebf0f8", linecolor="#ebf0f8", automargin=True,
             title=dict(standoff=8))
TEMPLATE = dict(layout=dict(
    paper_bgcolor="white", plot_bgcolor="white", xaxis=_AXIS, yaxis=_AXIS,
    colorway=["#1f4e9c", "#c2410c", "#0f766e", "#7c3aed", "#4b5563", "#ea7a2a", "#3b7dd8", "#a21caf"],
    hoverlabel=dict(align="left"), font=dict(color="#2a3f5f"),
))


def layout(title: str, **kw: object) -> dict:
    """The report's common layout (white, light grid, horizontal legend under the chart)."""
    base: dict = dict(
        title=dict(text=title, x=0.01, font=dict(size=15)),
        margin=dict(l=64, r=24, t=52, b=48),
        legend=dict(orientation="h", y=-0.14, x=0.0),
        height=440,
        hovermode="x unified",
        font=dict(family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif", size=12),
    )
    base.update(kw)
    return base


def xy(s: pd.Series, *, digits: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Compact chart arrays of a Series: NaN dropped, dates as ``YYYY-MM-DD``, ``digits`` significant digits.

    Arrays, never lists of Timestamps (plotly validates list elements one by one, slowly), and
    display precision only: a daily series over a decade would otherwise add a megabyte of
    full-precision floats and ``T00:00:00`` suffixes to the report.
    """
    s = s.dropna()
    idx = s.index
    if isinstance(idx, pd.DatetimeIndex) and (idx.normalize() == idx).all():
        x = np.datetime_as_string(idx.to_numpy(dtype="datetime64[D]"), unit="D")
    else:
        x = np.asarray(idx)
    y = s.to_numpy(dtype=float)
    if len(y):
        top = float(np.nanmax(np.abs(y)))
        decimals = max(0, digits - int(np.ceil(np.log10(top)))) if top > 0 else digits
        y = np.round(y, decimals)
    return x, y


_xy = xy


def lines(
    frame: pd.DataFrame,
    title: str,
    *,
    palette: Mapping[str, str] | None = None,
    yformat: str | None = None,
    log: bool = False,
    zero: bool = False,
    width: float = 1.6,
    **kw: object,
) -> go.Figure:
    """One line per column of ``frame`` (NaN gaps dropped per line)."""
    fig = go.Figure()
    for col in frame.columns:
        x, y = _xy(frame[col])
        if not len(y):
            continue
        fig.add_trace(go.Scatter(x=x, y=y, name=str(col), mode="lines",
                                 line=dict(color=(palette or {}).get(col), width=width)))
    extra: dict = dict(kw)
    if yformat:
        extra["yaxis_tickformat"] = yformat
    if log:
        extra["yaxis_type"] = "log"
    fig.update_layout(**layout(title, **extra))
    if zero:
        fig.add_hline(y=0.0, line=dict(color="#9ca3af", width=1))
    return fig


def stacked_shares(shares: pd.DataFrame, title: str, *, palette: Mapping[str, str] | None = None) -> go.Figure:
    """Stacked areas of shares that sum to one on every row (e.g. market-cap shares)."""
    fig = go.Figure()
    for col in shares.columns:
        x, y = _xy(shares[col])
        fig.add_trace(go.Scatter(x=x, y=y, name=str(col), mode="lines", stackgroup="share",
                                 line=dict(width=0.6, color=(palette or {}).get(col))))
    fig.update_layout(**layout(title, yaxis_tickformat=".0%", yaxis_range=[0, 1]))
    return fig


def rrg_figure(
    views: Mapping[str, pd.DataFrame],
    title: str,
    *,
    palette: Mapping[str, str] | None = None,
) -> go.Figure:
    """Relative rotation graph with tails; several views switched by a dropdown.

    Parameters
    ----------
    views : mapping of label -> DataFrame
        Each frame is :meth:`rotation.analytics.rrg.RRGResult.tails` output
        (``series, date, rs_ratio, rs_momentum, quadrant, step``). The first view
        is shown at load; the dropdown switches traces and the axis ranges.
    """
    fig = go.Figure()
    visible_sets: list[list[int]] = []
    ranges: list[tuple[list[float], list[float]]] = []
    n = 0
    for label, tails in views.items():
        idx: list[int] = []
        dev_x = dev_y = 1.0
        newest = tails["date"].max() if len(tails) else None
        for name, g in tails.groupby("series", sort=False):
            g = g.sort_values("date")
            colour = (palette or {}).get(str(name))
            first = not visible_sets
            fig.add_trace(go.Scatter(
                x=g["rs_ratio"].to_numpy(), y=g["rs_momentum"].to_numpy(), mode="lines+markers", name=str(name),
                legendgroup=f"{label}:{name}", visible=first,
                line=dict(color=colour, width=1.5), marker=dict(size=5, color=colour),
                customdata=np.stack([g["date"].dt.strftime("%Y-%m-%d"), g["quadrant"].astype(str)], axis=-1),
                hovertemplate="%{fullData.name}<br>%{customdata[0]}: RS-Ratio %{x:.2f}, "
                              "RS-Momentum %{y:.2f} (%{customdata[1]})<extra></extra>",
            ))
            last = g.iloc[[-1]]
            text = str(name)
            if newest is not None and last["date"].iloc[0] < newest:
                text += f" (to {last['date'].iloc[0]:%Y-%m-%d})"  # a series whose data stop early: say so
            fig.add_trace(go.Scatter(
                x=last["rs_ratio"].to_numpy(), y=last["rs_momentum"].to_numpy(), mode="markers+text", text=[text],
                textposition="top center", textfont=dict(size=11, color=colour), showlegend=False,
                legendgroup=f"{label}:{name}", visible=first, hoverinfo="skip",
                marker=dict(size=11, color=colour, line=dict(color="white", width=1.5)),
            ))
            idx += [n, n + 1]
            n += 2
            dev_x = max(dev_x, float(np.nanmax(np.abs(g["rs_ratio"] - 100.0))))
            dev_y = max(dev_y, float(np.nanmax(np.abs(g["rs_momentum"] - 100.0))))
        visible_sets.append(idx)
        # symmetric around the centre so the quadrants keep their meaning
        ranges.append(([100 - 1.15 * dev_x, 100 + 1.15 * dev_x], [100 - 1.15 * dev_y, 100 + 1.15 * dev_y]))
    for q, (x0, x1, y0, y1) in {
        "leading": (100, 200, 100, 200), "weakening": (100, 200, 0, 100),
        "lagging": (0, 100, 0, 100), "improving": (0, 100, 100, 200),
    }.items():
        fig.add_shape(type="rect", x0=x0, x1=x1, y0=y0, y1=y1, fillcolor=_QUADRANT_FILL[q],
                      line=dict(width=0), layer="below")
    for q, (x, y, xa, ya) in {"leading": (0.99, 0.99, "right", "top"), "weakening": (0.99, 0.01, "right", "bottom"),
                             "lagging": (0.01, 0.01, "left", "bottom"),
                             "improving": (0.01, 0.99, "left", "top")}.items():
        fig.add_annotation(x=x, y=y, xref="paper", yref="paper", text=q, showarrow=False,
                           xanchor=xa, yanchor=ya, font=dict(color=_QUADRANT_TEXT[q], size=13))
    xr, yr = ranges[0] if ranges else ([95, 105], [95, 105])
    fig.update_layout(**layout(title, hovermode="closest", height=580 if len(views) > 1 else 540,
                               xaxis_title="RS-Ratio", yaxis_title="RS-Momentum", xaxis_range=xr, yaxis_range=yr,
                               xaxis_zeroline=False, yaxis_zeroline=False))
    if len(views) > 1:
        buttons = []
        for i, label in enumerate(views):
            vis = [False] * n
            for j in visible_sets[i]:
                vis[j] = True
            buttons.append(dict(label=label, method="update",
                                args=[{"visible": vis}, {"xaxis.range": ranges[i][0], "yaxis.range": ranges[i][1]}]))
        fig.update_layout(updatemenus=[menu(buttons)], margin=dict(t=92))
    return fig


def menu(buttons: list[dict]) -> dict:
    """A dropdown at the top left, under the title (clear of the mode bar at the top right)."""
    return dict(buttons=buttons, direction="down", x=0.0, xanchor="left", y=1.02, yanchor="bottom",
                showactive=True, bgcolor="white", bordercolor="#cbd2dc", font=dict(size=12))


def forest(
    table: pd.DataFrame,
    title: str,
    *,
    panels: Sequence[tuple[str, str]],
    palette: Mapping[str, str] | None = None,
    height: int = 380,
) -> go.Figure:
    """Point estimates with confidence intervals, one panel per term (a forest plot).

    Parameters
    ----------
    table : DataFrame
        Tidy ``series, term, coef, ci_low, ci_high`` (optionally ``p``, ``nobs``).
    panels : sequence of (term, title)
        Terms to draw, left to right, with their panel titles.
    """
    fig = make_subplots(rows=1, cols=len(panels), subplot_titles=[t for _, t in panels], shared_yaxes=True,
                        horizontal_spacing=0.05)
    fig.update_annotations(font_size=12.5)  # the panel titles: keep them inside their panels on narrow pages
    series = list(dict.fromkeys(table["series"]))
    for c, (term, _) in enumerate(panels, start=1):
        sub = table[table["term"] == term].set_index("series").reindex(series)
        for name, r in sub.iterrows():
            if not np.isfinite(r.get("coef", np.nan)):
                continue
            colour = (palette or {}).get(str(name), "#374151")
            hover = f"{name}: {r['coef']:+.3f} [{r['ci_low']:+.3f}, {r['ci_high']:+.3f}]"
            if "p" in r and np.isfinite(r["p"]):
                hover += f", p {r['p']:.3f}"
            fig.add_trace(go.Scatter(
                x=[r["coef"]], y=[str(name)], mode="markers", showlegend=False,
                marker=dict(size=9, color=colour),
                error_x=dict(type="data", symmetric=False, array=[r["ci_high"] - r["coef"]],
                             arrayminus=[r["coef"] - r["ci_low"]], color=colour, thickness=1.6, width=4),
                hovertemplate=hover + "<extra></extra>",
            ), row=1, col=c)
        fig.add_vline(x=0.0, line=dict(color="#9ca3af", width=1, dash="dot"), row=1, col=c)
    fig.update_yaxes(autorange="reversed", row=1, col=1)
    fig.update_layout(**layout(title, hovermode="closest", height=height, margin=dict(l=150, r=24, t=70, b=40)))
    return fig


def bars_with_intervals(
    table: pd.DataFrame,
    title: str,
    *,
    x: str,
    y: str,
    low: str,
    high: str,
    group: str | None = None,
    palette: Mapping[str, str] | None = None,
    yformat: str = ".0%",
    **kw: object,
) -> go.Figure:
    """Grouped bars with asymmetric error bars (estimate and its interval)."""
    fig = go.Figure()
    groups = [None] if group is None else list(dict.fromkeys(table[group]))
    for g in groups:
        sub = table if g is None else table[table[group] == g]
        est = sub[y].to_numpy(dtype=float)
        lo, hi = sub[low].to_numpy(dtype=float), sub[high].to_numpy(dtype=float)
        fig.add_trace(go.Bar(
            x=sub[x].astype(str), y=est, name=str(g) if g is not None else y,
            marker_color=(palette or {}).get(str(g)) if g is not None else None,
            error_y=dict(type="data", symmetric=False, array=np.where(np.isfinite(hi), hi - est, 0.0),
                         arrayminus=np.where(np.isfinite(lo), est - lo, 0.0), thickness=1.2, width=3),
        ))
    fig.update_layout(**layout(title, barmode="group", hovermode="closest", yaxis_tickformat=yformat, **kw))
    fig.add_hline(y=0.0, line=dict(color="#9ca3af", width=1))
    return fig
