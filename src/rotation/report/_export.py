"""Export the report's charts as SVG and PNG files (``rotation report --figures DIR``).

Two engines, the first available is used:

``kaleido``
    Plotly's own static-image export (:func:`plotly.io.write_images`, Kaleido
    >= 1), which drives a Chrome through Kaleido's ``choreographer``. When
    ``$BROWSER_PATH`` is unset it is pointed at the browser
    :func:`rotation.report._chromium.find_chromium` finds (Debian's
    ``chromium``), so nothing is downloaded. Install with ``pip install
    "kaleido>=1"``.
``chromium``
    Without Kaleido: the same headless Chromium driven directly over the
    DevTools protocol (:mod:`rotation.report._chromium`), rendering each figure
    with plotly.js's documented ``Plotly.toImage`` (the function Kaleido calls
    too). SVG comes out as plotly.js writes it; PNG at twice the CSS size.

Either way the files are ``<figure id>.svg`` and ``<figure id>.png``, one pair
per chart of the HTML report, at the chart's width of :data:`WIDTH` CSS pixels
and its own height.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
import urllib.parse
from collections.abc import Sequence
from pathlib import Path

from plotly.offline import get_plotlyjs
from plotly.utils import PlotlyJSONEncoder

from rotation.errors import ParameterError
from rotation.report._chromium import Browser, BrowserError, find_chromium
from rotation.report._model import Figure

__all__ = ["FORMATS", "WIDTH", "export_figures", "exporter"]

#: Image formats written for every figure.
FORMATS = ("svg", "png")
#: Width of exported charts (CSS pixels; PNG is rendered at scale 2).
WIDTH = 1100
_PNG_SCALE = 2


def exporter() -> str:
    """The export engine available: ``"kaleido"`` or ``"chromium"``.

    Raises
    ------
    ParameterError
        Neither Kaleido >= 1 nor a Chromium/Chrome is available (says how to get one).
    """
    try:
        import kaleido  # noqa: F401
        from plotly.io import write_images  # noqa: F401  (plotly >= 6.1 with kaleido >= 1)
    except ImportError:
        pass
    else:
        if find_chromium() is not None or os.environ.get("BROWSER_PATH"):
            return "kaleido"
    if find_chromium() is not None:
        return "chromium"
    raise ParameterError("--figures", "exporting charts needs a Chromium or Chrome (Debian: apt-get install "
                                      "chromium; or set ROTATION_CHROMIUM to its path), optionally with "
                                      "kaleido>=1 (pip install kaleido)")


def export_figures(figures: Sequence[Figure], directory: str | os.PathLike[str], *,
                   formats: Sequence[str] = FORMATS, engine: str | None = None) -> list[Path]:
    """Write every figure as ``<id>.<format>`` into ``directory``.

    Parameters
    ----------
    figures : sequence of Figure
    directory : path
        Created if needed; existing files of the same names are replaced.
    formats : sequence of {"svg", "png"}
    engine : {"kaleido", "chromium"}, optional
        Default: :func:`exporter`.

    Returns
    -------
    list of Path
        The files written, in figure then format order.

    Raises
    ------
    ParameterError
        Unknown format or engine, or no engine available.
    BrowserError
        The browser failed while rendering (the message says which figure).
    """
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise ParameterError("formats", f"unknown image format(s) {', '.join(bad)} (use {', '.join(FORMATS)})")
    engine = engine or exporter()
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    if engine == "kaleido":
        return _kaleido(figures, out, formats)
    if engine == "chromium":
        return _chromium(figures, out, formats)
    raise ParameterError("engine", f"must be 'kaleido' or 'chromium', got {engine!r}")


def _kaleido(figures: Sequence[Figure], out: Path, formats: Sequence[str]) -> list[Path]:
    from plotly.io import write_images

    browser = find_chromium()
    if browser and not os.environ.get("BROWSER_PATH"):
        os.environ["BROWSER_PATH"] = browser  # choreographer's variable: use the system browser, never download
    figs, paths, widths, heights, scales = [], [], [], [], []
    for f in figures:
        for fmt in formats:
            figs.append(f.spec(template=True))
            paths.append(out / f"{f.id}.{fmt}")
            widths.append(WIDTH)
            heights.append(f.height)
            scales.append(_PNG_SCALE if fmt == "png" else 1)  # an SVG keeps its CSS size
    write_images(figs, paths, width=widths, height=heights, scale=scales)
    return paths


_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><script>{js}</script></head><body></body></html>"""


def _chromium(figures: Sequence[Figure], out: Path, formats: Sequence[str]) -> list[Path]:
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="rotation-export-") as tmp:
        page_file = Path(tmp) / "export.html"
        page_file.write_text(_PAGE.format(js=get_plotlyjs()), encoding="utf-8")
        with Browser(timeout=120) as browser:
            page = browser.new_page()
            page.goto(page_file.as_uri())
            for f in figures:
                spec = json.dumps(f.spec(template=True), cls=PlotlyJSONEncoder)
                for fmt in formats:
                    opts = {"format": fmt, "width": WIDTH, "height": f.height,
                            "scale": _PNG_SCALE if fmt == "png" else 1}
                    try:
                        url = page.evaluate(f"Plotly.toImage({spec}, {json.dumps(opts)})")
                    except BrowserError as exc:
                        raise BrowserError(f"figure {f.id} ({fmt}): {exc}") from exc
                    path = out / f"{f.id}.{fmt}"
                    path.write_bytes(_decode(url, f"{f.id}.{fmt}"))
                    written.append(path)
            errors = page.errors()
            if errors:
                raise BrowserError("the browser reported errors while exporting: " + "; ".join(errors[:3]))
    return written


def _decode(url: object, what: str) -> bytes:
    """Bytes of a ``data:`` URL (base64 or percent-encoded, as plotly.js returns them)."""
    if not isinstance(url, str) or not url.startswith("data:") or "," not in url:
        raise BrowserError(f"{what}: plotly.js returned no image")
    head, payload = url.split(",", 1)
    if head.endswith(";base64"):
        return base64.b64decode(payload)
    return urllib.parse.unquote(payload).encode("utf-8")
