"""Report: the self-contained HTML report (charts and scripts inline, works offline).

:func:`write_report` computes every section (see :mod:`rotation.report._html`
for the list, :mod:`rotation.report._context` for the window and look-ahead
policy) and writes one HTML file; :func:`export_figures` writes its charts as
SVG and PNG (Kaleido when installed, else a headless Chromium over the
DevTools protocol, :mod:`rotation.report._chromium`).
"""

from rotation.report._export import export_figures, exporter
from rotation.report._html import Report, build_report, write_report

__all__ = ["Report", "build_report", "export_figures", "exporter", "write_report"]
