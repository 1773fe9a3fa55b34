"""The report in a real browser: headless Chromium (Debian's ``chromium``) over the DevTools protocol.

Renders the report, checks there is no JavaScript error and no network request, that every chart drew
(each ``[data-figure]`` element got ``data-drawn="1"`` and holds a non-empty plotly SVG), that the
relative-rotation menu switches views, that the page prints; takes screenshots into the test's tmp
dir. Skipped cleanly when no Chromium is installed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rotation.report._chromium import Browser, find_chromium
from rotation.store import Store

pytestmark = pytest.mark.skipif(find_chromium() is None, reason="no chromium installed (apt-get install chromium)")

FIXTURES = Path(__file__).parent / "fixtures" / "report"

#: Per chart: drawn flag, plotly's SVG present, number of drawn traces (lines, bars, markers).
CHECK_CHARTS = """
Array.from(document.querySelectorAll('[data-figure]')).map(el => ({
  id: el.id,
  drawn: el.getAttribute('data-drawn'),
  svg: el.querySelectorAll('svg.main-svg').length,
  traces: el.querySelectorAll('g.trace').length,
  marks: el.querySelectorAll('g.trace path, g.trace .point').length,
  width: el.getBoundingClientRect().width,
}))
"""
ALL_DRAWN = ("window.ROTATION_FIGURES && document.querySelectorAll('[data-figure][data-drawn=\"1\"]').length"
             " === window.ROTATION_FIGURES.length")


def _render(path: Path, shots: Path, *, width: int = 1280) -> dict:
    """Open the report, wait for every chart, collect checks and screenshots."""
    with Browser(timeout=120) as browser:
        page = browser.new_page(width=width, height=900)
        page.send("Network.enable")
        page.goto(path.as_uri(), timeout=120)
        page.wait_for(ALL_DRAWN, timeout=120)
        out = {
            "charts": page.evaluate(CHECK_CHARTS),
            "figures": page.evaluate("window.ROTATION_FIGURES.length"),
            "report_errors": page.evaluate("window.ROTATION_ERRORS"),
            "sections": page.evaluate("Array.from(document.querySelectorAll('section')).map(s => s.id)"),
            "overflow": page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth"),
        }
        # the relative-rotation menu: switch to the members of the first basket, then back
        out["rrg_views"] = page.evaluate("""(async () => {
            const el = document.getElementById('fig-rrg');
            const buttons = el.layout.updatemenus[0].buttons;
            const visible = () => el.data.filter(t => t.visible === true && t.name).map(t => t.name);
            const before = visible();
            await Plotly.update(el, ...buttons[1].args);
            const after = visible();
            const drawn = el.querySelectorAll('g.trace').length;
            await Plotly.update(el, ...buttons[0].args);
            return {label: buttons[1].label, before, after, drawn};
        })()""")
        page.screenshot(shots / "report-top.png", full_page=False)
        page.screenshot(shots / "report-full.png", full_page=True, scale=0.5)
        page.pdf(shots / "report.pdf")
        # a small laptop / tablet width: charts resize, nothing scrolls sideways
        page.send("Emulation.setDeviceMetricsOverride", {"width": 800, "height": 900, "deviceScaleFactor": 1,
                                                         "mobile": False})
        page.evaluate("new Promise(r => setTimeout(r, 500))")  # plotly's responsive resize is debounced
        out["narrow_right"] = page.evaluate("Math.max(...Array.from(document.querySelectorAll('[data-figure]'))"
                                            ".map(e => e.getBoundingClientRect().right))")
        out["narrow_overflow"] = page.evaluate("document.documentElement.scrollWidth - "
                                               "document.documentElement.clientWidth")
        page.screenshot(shots / "report-800px.png", full_page=False)
        out["errors"] = page.errors()
        out["requests"] = page.requests()
    return out


def _check(result: dict, shots: Path, *, sections: int = 11) -> None:
    assert result["errors"] == [], result["errors"]
    assert result["report_errors"] == []
    assert len(result["sections"]) == sections
    external = [u for u in result["requests"] if not u.startswith(("file:", "data:", "blob:", "about:"))]
    assert external == [], external  # works offline: nothing fetched
    charts = result["charts"]
    assert len(charts) == result["figures"] > 20
    for c in charts:
        assert c["drawn"] == "1", c
        assert c["svg"] >= 1 and c["traces"] >= 1 and c["marks"] >= 1, c
        assert c["width"] > 300, c
    assert result["overflow"] <= 0, "the page scrolls sideways"
    views = result["rrg_views"]
    assert views["label"].startswith("Members of ")
    assert set(views["after"]).isdisjoint(views["before"]) and views["after"] and views["drawn"] > 0
    for name in ("report-top.png", "report-full.png"):
        png = (shots / name).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 50_000
    full_height = int.from_bytes((shots / "report-full.png").read_bytes()[20:24], "big")
    assert full_height > 5_000  # the whole report (at half scale), not one screen
    assert result["narrow_overflow"] <= 0 and result["narrow_right"] <= 800
    pdf = (shots / "report.pdf").read_bytes()
    assert pdf[:5] == b"%PDF-" and pdf.count(b"/Type /Page") > 10


@pytest.fixture(scope="module")
def synthetic_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from test_report import make_store

    from rotation.report import write_report
    from rotation.universe import load_universe

    tmp = tmp_path_factory.mktemp("browser")
    store = make_store(tmp / "s.duckdb")
    with Store(store, read_only=True) as s:
        return write_report(s, load_universe(), tmp / "report.html", events=FIXTURES / "my_events.toml",
                            claims_config=FIXTURES / "fast_claims.toml")


def test_report_renders_in_chromium(synthetic_report: Path, tmp_path: Path) -> None:
    result = _render(synthetic_report, tmp_path)
    (tmp_path / "checks.json").write_text(json.dumps(result, indent=1, default=str))
    _check(result, tmp_path)


def test_browser_driver_reports_javascript_errors(tmp_path: Path) -> None:
    page_file = tmp_path / "broken.html"
    page_file.write_text("<html><body><p id=x>hi</p><script>console.error('bad'); nope();</script></body></html>")
    with Browser(timeout=60) as browser:
        page = browser.new_page()
        page.goto(page_file.as_uri())
        assert page.evaluate("document.getElementById('x').textContent") == "hi"
        assert page.evaluate("new Promise(r => setTimeout(() => r(41 + 1), 50))") == 42
        errors = page.errors()
    assert any("bad" in e for e in errors) and any("nope" in e for e in errors)


@pytest.mark.slow
def test_real_data_report_renders_in_chromium(real_store, tmp_path: Path) -> None:
    from rotation.report import write_report
    from rotation.universe import load_universe

    path = write_report(real_store, load_universe(), tmp_path / "real.html")
    result = _render(path, tmp_path)
    (tmp_path / "checks.json").write_text(json.dumps(result, indent=1, default=str))
    _check(result, tmp_path)
