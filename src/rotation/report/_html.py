"""The HTML report: run every section, render one self-contained file, optionally export the charts.

Presentation only: every number shown comes from :mod:`rotation.analytics`, the
claims ledger (:mod:`rotation.claims`) or the store's quality checks; the
section builders format and draw. Plotly's JavaScript is embedded inline once,
so the file opens offline and without a CDN; print styles make it printable.

Sections, in order: 1 headline, 2 relative rotation, 3 rotation index, regimes
and market-cap shares, 4 performance and risk, 5 co-movement, 6 macro,
7 concentration and index contribution, 8 event studies, 9 stress, 10 claims
ledger, 11 data provenance. See :mod:`rotation.report._context` for the window
and look-ahead policy (``start``, ``end``, ``as_of``).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from importlib import metadata
from pathlib import Path

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from plotly.offline import get_plotlyjs
from plotly.utils import PlotlyJSONEncoder

from rotation import __version__
from rotation.claims import ClaimsConfig, Ledger, evaluate_claims, load_claims_config
from rotation.events import EventSet, default_events_path, load_events
from rotation.report import _sections as S
from rotation.report._context import ReportContext
from rotation.report._ledger import build_ledger
from rotation.report._model import Figure, Section, Table, Timings, fmt_table
from rotation.store import Store
from rotation.universe import Universe

__all__ = ["Report", "build_report", "write_report"]

_PACKAGES = ("pandas", "numpy", "duckdb", "statsmodels", "scipy", "ruptures", "plotly")


@dataclass
class Report:
    """A rendered report.

    Attributes
    ----------
    html : str
        The self-contained HTML document.
    sections : list of Section
        In display order (headline first).
    ledger : Ledger or None
        The claims ledger (None when it could not be evaluated).
    timings : Timings
        Seconds per stage.
    data_start, data_end : Timestamp
        Rows of the panel the report was built from.
    results : dict
        The analytics results the sections drew (``"rrg"``, ``"rotation_index"``, ``"regimes"``,
        ``"change_points"``, ``"residual_correlation"``, ``"macro_sensitivity"``, ``"stress"``, ...),
        for checking a number against its source.
    """

    html: str
    sections: list[Section]
    ledger: Ledger | None
    timings: Timings
    data_start: pd.Timestamp
    data_end: pd.Timestamp
    results: dict[str, object] = field(default_factory=dict)

    @property
    def figures(self) -> list[Figure]:
        return [f for s in self.sections for f in s.figures]


def _versions() -> dict[str, str]:
    out = {"rotation": __version__}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _load_events(universe: Universe, events: str | os.PathLike[str] | None) -> list[tuple[str, EventSet, Path | None]]:
    # The shipped file names the default universe's baskets; against another universe its unknown names
    # are simply not studied (listed as excluded), so it is loaded without universe validation. The
    # user's file is checked against the universe: a typo there is an error at its line.
    out: list[tuple[str, EventSet, Path | None]] = [("default events", load_events(default_events_path()), None)]
    if events is not None:
        path = Path(events)
        out.append((f"your events ({path.name})", load_events(path, universe=universe), path))
    return out


def build_report(
    store: Store,
    universe: Universe,
    *,
    start: date | None = None,
    end: date | None = None,
    as_of: date | None = None,
    claims_config: ClaimsConfig | str | os.PathLike[str] | None = None,
    events: str | os.PathLike[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Report:
    """Compute every section and render the report (see :func:`write_report` for the parameters)."""
    t_run = time.perf_counter()
    say = progress or (lambda _m: None)
    timings = Timings()
    if start is not None and end is not None and end < start:
        from rotation.errors import ParameterError

        raise ParameterError("end", f"end {end} is before start {start}")
    # user files first: a malformed one stops the run before any work, naming file and line
    config = claims_config if isinstance(claims_config, ClaimsConfig) else load_claims_config(claims_config)
    event_sets = _load_events(universe, events)
    ctx = ReportContext(store, universe, config, start=start, end=end, as_of=as_of, events=event_sets,
                        timings=timings, say=say)

    def stage(name: str, fn: Callable[[], Section]) -> Section:
        say(name)
        with timings.stage(name):
            return fn()

    with timings.stage("panel"):
        say("building the panel")
        panel = ctx.panel  # nothing to report without it: EmptyStoreError / DataError propagate
    # The ledger first: section 7 shows claim R5's index contribution instead of computing it twice.
    # (Evaluating it on a second thread was measured: the work holds the GIL, so nothing was gained.)
    ledger: Ledger | None = None
    claims_sec = Section("claims", "Claims ledger")
    say("claims ledger")
    with timings.stage("claims ledger"), S.part(claims_sec, "Claims ledger"):
        ledger = evaluate_claims(store, universe, config, as_of=as_of, start=start, end=end)
        claims_sec = build_ledger(ledger)
    ctx.results["ledger"] = ledger
    sections: list[Section] = [
        stage("relative rotation", lambda: S.build_rrg(ctx)),
        stage("rotation index and regimes", lambda: S.build_rotation(ctx)),
        stage("performance and risk", lambda: S.build_performance(ctx)),
        stage("co-movement", lambda: S.build_comovement(ctx)),
        stage("macro", lambda: S.build_macro(ctx)),
        stage("concentration and contribution", lambda: S.build_concentration(ctx)),
        stage("event studies", lambda: S.build_events(ctx)),
        stage("stress", lambda: S.build_stress(ctx)),
        claims_sec,
    ]
    prov = stage("provenance", lambda: S.build_provenance(ctx, versions=_versions()))
    sections.append(prov)
    sections.insert(0, stage("headline", lambda: S.build_headline(ctx, ledger)))
    _check_ids(sections)

    with timings.stage("render"):
        say("rendering")
        run_seconds = time.perf_counter() - t_run
        prov.tables.append(Table(fmt_table(timings.to_frame().set_index("stage"), {"seconds": "num",
                                                                                     "cpu seconds": "num"}),
                                 title="Run time per stage (seconds)",
                                 note=f"Total {run_seconds:.1f} s before rendering."))
        html = _render(ctx, sections, ledger, run_seconds)
    return Report(html=html, sections=sections, ledger=ledger, timings=timings,
                  data_start=panel.index.min(), data_end=panel.index.max(), results=dict(ctx.results))


def _check_ids(sections: list[Section]) -> None:
    seen: set[str] = set()
    for s in sections:
        for f in s.figures:
            if f.id in seen:
                raise AssertionError(f"duplicate figure id {f.id}")  # a programming error, not user input
            seen.add(f.id)


def _render(ctx: ReportContext, sections: list[Section], ledger: Ledger | None, run_seconds: float) -> str:
    env = Environment(loader=PackageLoader("rotation.report", "templates"), autoescape=select_autoescape(["html"]))
    template = env.get_template("report.html.j2")
    from rotation.report._figures import TEMPLATE

    figures = {f.id: f.spec() for s in sections for f in s.figures}
    # the figure JSON sits inside <script>: escape "</" so a label can never close the element
    figures_json = json.dumps(figures, cls=PlotlyJSONEncoder, separators=(",", ":")).replace("</", "<\\/")
    panel = ctx.panel
    names = list(ctx.levels.columns) if _has(lambda: ctx.levels) else []
    weightings = sorted({b.weighting for n, b in ctx.universe.baskets.items() if n in names})
    return template.render(
        version=__version__,
        data_start=panel.index.min().date(),
        data_end=panel.index.max().date(),
        as_of=ctx.as_of.date() if ctx.as_of is not None else None,
        window_start=ctx.start.date() if ctx.start is not None else None,
        n_instruments=len(panel.symbols),
        n_baskets=len(names),
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        sections=sections,
        weighting_note=(" and ".join(weightings) + "-weighted as configured in the universe") if weightings else "",
        plotly_js=get_plotlyjs(),
        figures_json=figures_json,
        template_json=json.dumps(TEMPLATE),
        run_seconds=f"{run_seconds:.1f}",
        claims_config=ledger.config_file if ledger is not None else ctx.claims_config.label,
    )


def _has(fn: Callable[[], object]) -> bool:
    try:
        fn()
    except Exception:  # noqa: BLE001 - only asks whether the value exists
        return False
    return True


def write_report(
    store: Store,
    universe: Universe,
    output: str | os.PathLike[str],
    *,
    start: date | None = None,
    end: date | None = None,
    as_of: date | None = None,
    claims_config: ClaimsConfig | str | os.PathLike[str] | None = None,
    events: str | os.PathLike[str] | None = None,
    figures: str | os.PathLike[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Write the HTML report for ``universe`` from ``store`` to ``output``.

    Parameters
    ----------
    store : Store
    universe : Universe
    output : path
        HTML file (written atomically: a failed run never leaves half a file).
    start, end : date, optional
        Rows shown and the window of every summary; ``end`` also stops the data read.
    as_of : date, optional
        Use only data available on this date (panel end, macro releases, claims ``as_of``).
    claims_config : ClaimsConfig or path, optional
        Claims configuration (default: the shipped one); also supplies the AI and
        crypto sides and the benchmark of the report's sections.
    events : path, optional
        The user's events file (TOML or CSV), studied next to the shipped default events.
    figures : path, optional
        Also export every chart as ``<id>.svg`` and ``<id>.png`` into this folder
        (see :mod:`rotation.report._export`).
    progress : callable, optional
        Receives a short message per stage.

    Returns
    -------
    Path
        The HTML file written.

    Raises
    ------
    EmptyStoreError
        Nothing stored for the universe.
    ConfigError
        A malformed claims configuration or events file (file, line and key named).
    ParameterError
        ``end`` before ``start``; ``figures`` given but no export engine available.
    """
    say = progress or (lambda _m: None)
    if figures is not None:
        from rotation.report._export import exporter

        engine = exporter()  # fail before the work when charts cannot be exported
    report = build_report(store, universe, start=start, end=end, as_of=as_of, claims_config=claims_config,
                          events=events, progress=progress)
    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(report.html, encoding="utf-8")
    tmp.replace(out)  # never leave a half-written report behind
    say(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB); stage times: "
        + ", ".join(f"{n} {s:.1f}s" for n, s, _ in report.timings.stages))
    if figures is not None:
        from rotation.report._export import export_figures

        t0 = time.perf_counter()
        files = export_figures(report.figures, figures, engine=engine)
        say(f"exported {len(files)} chart files to {figures} with {engine} ({time.perf_counter() - t0:.1f} s)")
    return out
