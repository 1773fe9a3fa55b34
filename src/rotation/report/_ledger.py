"""Section 10, the claims ledger: every verdict with its evidence and a chart.

The verdicts come from :func:`rotation.claims.evaluate_claims` (same store,
universe, configuration, window and as-of date as the rest of the report);
this module only lays them out. Each :attr:`Verdict.evidence` frame becomes a
chart: known evidence kinds (relative-return paths, RRG tails, sensitivities
with intervals, ...) get a purpose-made chart, any other tidy frame a generic
one (lines over ``date``; a forest plot for ``term``/``coef``/``ci_low``/
``ci_high`` tables; a table otherwise), so a newly implemented claim shows up
with its evidence without a change here.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from rotation.claims import Ledger, PendingClaim, Verdict
from rotation.report import _figures as F
from rotation.report._model import Figure, Section, Table, fmt_table, fmt_value

__all__ = ["VERDICT_CLASS", "build_ledger", "evidence_figure"]

#: CSS class of each verdict (colour of its badge).
VERDICT_CLASS = {"supported": "v-supported", "contradicted": "v-contradicted", "inconclusive": "v-inconclusive",
                 "insufficient data": "v-insufficient"}
#: Evidence frames drawn per verdict (the first ones, in the claim's order).
MAX_CHARTS_PER_CLAIM = 4
#: Rows of a non-chart evidence table shown.
MAX_TABLE_ROWS = 25

_SIDES = {"ai": "#1f4e9c", "crypto": "#c2410c", "ai_share": "#1f4e9c", "crypto_share": "#c2410c",
          "AI side": "#1f4e9c", "crypto side": "#c2410c"}
_TITLES = {
    "relative_return": "Relative log return, log(AI side / crypto side), since the window start",
    "rrg": "Relative rotation (weekly tails)",
    "market_cap_share": "Share of the combined market cap (weekly)",
    "rotation_index": "Rotation index (log growth difference)",
    "rolling_residual_correlation": "Rolling correlation, raw and net of the market",
    "residuals": "Market-model residuals, AI vs crypto (weekly)",
    "sensitivities": "Sensitivities with intervals",
    "rolling_beta": "Rolling betas",
    "returns_by_regime": "Mean weekly return by regime, with intervals",
    "risk_table": "Risk table",
    "volatility_ratio": "Volatility: crypto / AI",
    "stablecoin_supply": "Stablecoin supply (USD bn)",
}


def _title(key: str) -> str:
    return _TITLES.get(key, key.replace("_", " ").capitalize())


def _dates(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.set_index(pd.DatetimeIndex(frame["date"])).drop(columns=["date"])


def _numeric(frame: pd.DataFrame, skip: tuple[str, ...] = ("n", "step", "third", "nobs", "hac_lags")) -> pd.DataFrame:
    cols = [c for c in frame.columns if c not in skip and pd.api.types.is_numeric_dtype(frame[c])
            and not pd.api.types.is_bool_dtype(frame[c])]
    return frame[cols]


# ----------------------------------------------------------------------------- evidence charts
def _relative_return(key: str, f: pd.DataFrame) -> go.Figure:
    d = _dates(f)
    col = "relative_log" if "relative_log" in d.columns else _numeric(d).columns[-1]
    return F.lines(d[[col]], _title(key), palette={col: "#111827"}, zero=True, width=2.0, height=340)


def _rrg(key: str, f: pd.DataFrame) -> go.Figure:
    return F.rrg_figure({"tails": f}, _title(key), palette=F.colours(None, list(dict.fromkeys(f["series"]))))


def _shares(key: str, f: pd.DataFrame) -> go.Figure:
    d = _numeric(_dates(f))
    return F.stacked_shares(d, _title(key), palette=_SIDES)


def _sensitivities(key: str, f: pd.DataFrame) -> go.Figure:
    terms = [t for t in dict.fromkeys(f["term"]) if t != "const"]
    return F.forest(f, _title(key), panels=[(t, t) for t in terms],
                    palette=_SIDES, height=120 + 40 * f["series"].nunique())


def _by_regime(key: str, f: pd.DataFrame) -> go.Figure:
    return F.bars_with_intervals(f, _title(key), x="regime", y="mean", low="ci_low", high="ci_high", group="series",
                                 palette=_SIDES, yformat=".1%", height=340)


def _residuals(key: str, f: pd.DataFrame) -> go.Figure:
    cols = [c for c in f.columns if c != "date"][:2]
    fig = go.Figure(go.Scatter(x=f[cols[0]], y=f[cols[1]], mode="markers", marker=dict(size=5, color="#6b7280",
                                                                                        opacity=0.7),
                               name="weeks"))
    fig.update_layout(**F.layout(_title(key), hovermode="closest", xaxis_title=cols[0], yaxis_title=cols[1],
                                 xaxis_tickformat=".0%", yaxis_tickformat=".0%", height=380))
    return fig


def _risk_table(key: str, f: pd.DataFrame) -> go.Figure:
    label = "side" if "side" in f.columns else f.columns[0]
    metrics = [m for m in ("volatility", "max_drawdown", "cvar", "sharpe", "sortino") if m in f.columns]
    fig = go.Figure()
    for _, r in f.iterrows():
        fig.add_trace(go.Bar(x=metrics, y=[r[m] for m in metrics], name=str(r[label]),
                             marker_color=_SIDES.get(str(r[label]))))
    fig.update_layout(**F.layout(_title(key), barmode="group", hovermode="closest", height=340))
    fig.add_hline(y=0.0, line=dict(color="#9ca3af", width=1))
    return fig


def _cars(key: str, f: pd.DataFrame) -> go.Figure:
    """Per-event cumulative abnormal returns as bars (one bar per event and window)."""
    who = f["label"] if "label" in f.columns else f["event"]
    x = (who.astype(str).str.slice(0, 38) + (" · " + f["series"].astype(str) if "series" in f.columns else ""))
    fig = go.Figure()
    windows = list(dict.fromkeys(f["window"])) if "window" in f.columns else [None]
    for j, w in enumerate(windows):
        sub = f if w is None else f[f["window"] == w]
        xs = x.loc[sub.index]
        hover = "%{x}: %{y:+.1%}" + ("<br>p %{customdata:.3f}" if "p_single" in sub.columns else "")
        fig.add_trace(go.Bar(x=xs, y=sub["car"].to_numpy(), name=str(w) if w is not None else "CAR",
                             marker_color=F.PALETTE["ai"][j % 4],
                             customdata=sub["p_single"].to_numpy() if "p_single" in sub.columns else None,
                             hovertemplate=hover + "<extra></extra>"))
    fig.update_layout(**F.layout(_title(key) + " (cumulative abnormal return per event)", barmode="group",
                                 hovermode="closest", yaxis_tickformat=".0%", height=380))
    fig.add_hline(y=0.0, line=dict(color="#9ca3af", width=1))
    return fig


def _car_path(key: str, f: pd.DataFrame) -> go.Figure:
    """Mean CAR by event day with its confidence band, one line per group (an event study's path)."""
    fig = go.Figure()
    groups = list(dict.fromkeys(f["group"])) if "group" in f.columns else [None]
    colours = [*F.PALETTE["ai"][:1], *F.PALETTE["crypto"][:1], "#111827", *F.PALETTE["other"]]
    for j, g in enumerate(groups[:6]):
        sub = (f if g is None else f[f["group"] == g]).sort_values("day")
        colour = colours[j % len(colours)]
        if {"ci_low", "ci_high"} <= set(sub.columns):
            fig.add_trace(go.Scatter(x=sub["day"].to_numpy(), y=sub["ci_high"].to_numpy(), mode="lines",
                                     line=dict(width=0), showlegend=False, hoverinfo="skip"))
            fig.add_trace(go.Scatter(x=sub["day"].to_numpy(), y=sub["ci_low"].to_numpy(), mode="lines",
                                     line=dict(width=0), fill="tonexty", fillcolor="rgba(107,114,128,0.15)",
                                     showlegend=False, hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=sub["day"].to_numpy(), y=sub["mean_car"].to_numpy(), mode="lines",
                                 name=str(g) if g is not None else "mean CAR", line=dict(color=colour, width=2)))
    fig.update_layout(**F.layout(_title(key), hovermode="x", yaxis_tickformat=".1%", height=360,
                                 xaxis_title="event day"))
    fig.add_hline(y=0.0, line=dict(color="#9ca3af", width=1))
    return fig


def _scenario(key: str, f: pd.DataFrame) -> go.Figure:
    """Scenario responses (beta and analogue methods) with their bands, for the largest shock."""
    shock = f["shock"].min() if "shock" in f.columns else None
    sub = f if shock is None else f[f["shock"] == shock]
    return F.bars_with_intervals(sub, f"{_title(key)}: response to {shock:+.0%}" if shock is not None else _title(key),
                                 x="series", y="response", low="low", high="high", group="method", height=360)


def _generic(key: str, f: pd.DataFrame) -> go.Figure | None:
    cols = set(f.columns)
    if {"term", "coef", "ci_low", "ci_high"} <= cols and "series" in cols:
        return _sensitivities(key, f)
    if {"car", "window"} <= cols and ("event" in cols or "label" in cols):
        return _cars(key, f)
    if {"day", "mean_car"} <= cols:
        return _car_path(key, f)
    if {"series", "response", "low", "high"} <= cols:
        return _scenario(key, f)
    # a time series: unique dates, enough of them, no long-format label column
    if "date" in cols and len(f) >= 10 and pd.DatetimeIndex(f["date"]).is_unique and \
            not cols & {"event", "label", "series", "symbol"}:
        d = _numeric(_dates(f))
        if d.shape[1]:
            return F.lines(d, _title(key), palette=_SIDES, height=340)
    return None


_BUILDERS: dict[str, Callable[[str, pd.DataFrame], go.Figure | None]] = {
    "relative_return": _relative_return,
    "rrg": _rrg,
    "market_cap_share": _shares,
    "sensitivities": _sensitivities,
    "returns_by_regime": _by_regime,
    "residuals": _residuals,
    "risk_table": _risk_table,
}


def evidence_figure(key: str, frame: pd.DataFrame) -> go.Figure | None:
    """The chart of one evidence frame (None when the frame is not chartable: shown as a table)."""
    if frame is None or frame.empty:
        return None
    builder = _BUILDERS.get(key, _generic)
    try:
        fig = builder(key, frame)
    except (KeyError, IndexError, ValueError, TypeError):
        # an evidence frame of a shape this builder does not know: fall back to the generic chart
        fig = _generic(key, frame) if builder is not _generic else None
    return fig


# ----------------------------------------------------------------------------- layout
def _effect_text(v: Verdict) -> str:
    parts = []
    if v.effect is not None:
        parts.append(f"<b>{v.effect.value:+.4g}</b> {html.escape(v.effect.unit)} "
                     f"<span class=\"muted\">({html.escape(v.effect.description)})</span>")
    if v.interval is not None and np.isfinite(v.interval.lo) and np.isfinite(v.interval.hi):
        parts.append(f"{v.interval.level:.0%} interval [{v.interval.lo:+.4g}, {v.interval.hi:+.4g}] "
                     f"<span class=\"muted\">({html.escape(v.interval.method)})</span>")
    if v.p_value is not None and np.isfinite(v.p_value):
        parts.append(f"p = {fmt_value(v.p_value, 'p')}")
    return "; ".join(parts)


def _stats_table(v: Verdict) -> str:
    if not v.statistics:
        return ""
    rows = []
    for k, val in v.statistics.items():
        text = fmt_value(val, "auto")
        rows.append(f"<tr><td>{html.escape(str(k).replace('_', ' '))}</td><td>{html.escape(text)}</td></tr>")
    return ("<details><summary>Supporting statistics</summary><table class=\"kv\"><tbody>"
            + "".join(rows) + "</tbody></table></details>")


def _verdict_html(v: Verdict, figures: list[Figure], tables: list[Table], no_chart: str) -> str:
    cls = VERDICT_CLASS.get(v.verdict, "")
    out = [f'<article class="claim {cls}" id="claim-{html.escape(v.claim_id)}">',
           f'<header><span class="badge {cls}">{html.escape(v.verdict)}</span> '
           f'<span class="cid">{html.escape(v.claim_id)}</span> {html.escape(v.title)}</header>']
    eff = _effect_text(v)
    if eff:
        out.append(f"<p>Effect: {eff}</p>")
    meta = []
    if v.window is not None:
        meta.append(f"window {fmt_value(v.window[0])} to {fmt_value(v.window[1])}")
    if v.baskets:
        meta.append("baskets " + ", ".join(v.baskets))
    if v.instruments:
        meta.append(f"{len(v.instruments)} instruments ({', '.join(v.instruments[:12])}"
                    f"{', ...' if len(v.instruments) > 12 else ''})")
    if meta:
        out.append(f'<p class="muted">{html.escape("; ".join(meta))}.</p>')
    out.append(f'<p class="rule"><b>Decision rule.</b> {html.escape(v.rule)}</p>')
    if v.missing:
        out.append("<p><b>Missing:</b></p><ul>" + "".join(f"<li>{html.escape(m)}</li>" for m in v.missing) + "</ul>")
    if v.caveats:
        # a short list is open; a long one is folded so the verdict and its chart stay in view
        out.append(f'<details{" open" if len(v.caveats) <= 4 else ""}><summary>Caveats ({len(v.caveats)})'
                   '</summary><ul>' + "".join(f"<li>{html.escape(c)}</li>" for c in v.caveats) + "</ul></details>")
    out.append(_stats_table(v))
    for fig in figures:
        out.append(f'<div class="chart" id="{fig.id}" data-figure="{fig.id}" style="height:{fig.height}px"></div>')
    if no_chart:
        out.append(f'<div class="notice"><b>No chart:</b> {html.escape(no_chart)}</div>')
    for t in tables:
        out.append(f"<h4>{html.escape(t.title)}</h4><div class=\"tablewrap scroll\">{t.html}</div>")
    if len(v.data):
        prov = v.data.set_index("symbol")
        out.append("<details><summary>Data used (source and dates per instrument)</summary>"
                   f"<div class=\"tablewrap scroll\">{fmt_table(prov)}</div></details>")
    out.append("</article>")
    return "\n".join(out)


def build_ledger(ledger: Ledger) -> Section:
    """The ledger section: a summary table, then one card per claim (verdict, evidence, charts)."""
    sec = Section("claims", "Claims ledger")
    counts = {k: 0 for k in VERDICT_CLASS}
    pending = 0
    rows = []
    cards = []
    for e in ledger.entries:
        if isinstance(e, PendingClaim):
            pending += 1
            rows.append((e.claim_id, e.title, e.status, "", ""))
            cards.append(f'<article class="claim v-pending" id="claim-{html.escape(e.claim_id)}"><header>'
                         f'<span class="badge v-pending">{html.escape(e.status)}</span> <span class="cid">'
                         f'{html.escape(e.claim_id)}</span> {html.escape(e.title)}</header>'
                         "<p class=\"muted\">This claim has no code yet: it is listed, never given a verdict.</p>"
                         "</article>")
            continue
        counts[e.verdict] = counts.get(e.verdict, 0) + 1
        eff = "" if e.effect is None else f"{e.effect.value:+.3g} {e.effect.unit}"
        ci = ("" if e.interval is None or not np.isfinite(e.interval.lo) else
              f"[{e.interval.lo:+.3g}, {e.interval.hi:+.3g}]")
        rows.append((e.claim_id, e.title, e.verdict, eff, ci))
        figures: list[Figure] = []
        tables: list[Table] = []
        for key, frame in list(e.evidence.items()):
            fig = evidence_figure(key, frame) if len(figures) < MAX_CHARTS_PER_CLAIM else None
            if fig is not None:
                fid = f"fig-claim-{e.claim_id}-{len(figures)}"
                figures.append(Figure(fid, fig, height=int(fig.layout.height or 340)))
            elif frame is not None and len(frame):
                more = f" (first {MAX_TABLE_ROWS} of {len(frame)} rows)" if len(frame) > MAX_TABLE_ROWS else ""
                tables.append(Table(fmt_table(frame.head(MAX_TABLE_ROWS), index=False, default="auto"),
                                    title=_title(key) + more))
        no_chart = ""
        if not figures:
            no_chart = ("; ".join(e.missing) if e.missing else "the claim returned no chartable evidence")
        sec.figures += figures
        cards.append(_verdict_html(e, figures, tables, no_chart))
    summary = pd.DataFrame(rows, columns=["claim", "title", "verdict", "effect", "interval"]).set_index("claim")
    badge = "".join(
        f'<tr><td><a href="#claim-{html.escape(str(cid))}">{html.escape(str(cid))}</a></td>'
        f"<td>{html.escape(str(r.title))}</td>"
        f'<td><span class="badge {VERDICT_CLASS.get(r.verdict, "v-pending")}">{html.escape(str(r.verdict))}</span></td>'
        f"<td>{html.escape(str(r.effect))}</td><td>{html.escape(str(r.interval))}</td></tr>"
        for cid, r in summary.iterrows())
    scope = []
    if ledger.as_of is not None:
        scope.append(f"as of {ledger.as_of.date()}")
    if ledger.start is not None or ledger.end is not None:
        scope.append("window " + " to ".join(fmt_value(t) if t is not None else "..." for t in
                                             (ledger.start, ledger.end)))
    sec.intro = (
        f"Each claim of CLAIMS.md is code with a documented decision rule and inputs from the claims "
        f"configuration ({ledger.config_file}){' (' + ', '.join(scope) + ')' if scope else ''}. Verdicts: "
        + ", ".join(f"{n} {k}" for k, n in counts.items()) + f"; {pending} not yet implemented. Bootstraps use a fixed "
        "seed: the same data and configuration give the same numbers.")
    sec.html = ("<table class=\"ledger\"><thead><tr><th>claim</th><th>title</th><th>verdict</th><th>effect</th>"
                f"<th>interval</th></tr></thead><tbody>{badge}</tbody></table>\n" + "\n".join(cards))
    sec.lines = [f"{k}: {n}" for k, n in counts.items()] + [f"not yet implemented: {pending}"]
    return sec
