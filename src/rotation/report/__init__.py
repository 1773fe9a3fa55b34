"""Report: the self-contained HTML report (charts and scripts inline, works offline)."""

from rotation.report._html import write_report

__all__ = ["write_report"]
