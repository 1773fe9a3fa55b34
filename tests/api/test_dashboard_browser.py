"""The dashboard end to end: uvicorn on loopback + headless Chromium over the DevTools protocol.

The app (``rotation.api.create_app``) is served by uvicorn in a thread over a synthetic store; Chromium
(Debian's ``chromium``) opens the overview, a basket is ticked and the start date changed through the
controls, and the plotly charts must change accordingly (trace names, x range) without a page reload;
the state must be in the URL (reloading the URL restores the view); members picked per basket (by
keyboard and with the all/none buttons) must change the RRG, survive back/forward and a reload; API 4xx
messages must be shown;
every page must draw without JavaScript errors and without any request leaving the loopback server.
Screenshots go to the test's tmp dir. Skipped cleanly without Chromium, FastAPI or uvicorn.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest

from rotation.report._chromium import Browser, find_chromium

pytestmark = pytest.mark.skipif(find_chromium() is None, reason="no chromium installed (apt-get install chromium)")
pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")

PAGES = ("overview", "rotation", "flows", "comovement", "macro", "events", "claims", "data")

#: Trace names and x range of one plotly div (null until plotly drew it).
CHART = """(id => {
  const el = document.getElementById(id);
  if (!el || !el.data) return null;
  const xs = el.data.filter(t => t.x && t.x.length && typeof t.x[0] === 'string').map(t => t.x);
  return {names: el.data.map(t => t.name).filter(Boolean), drawn: el.getAttribute('data-drawn'),
          traces: el.querySelectorAll('g.trace').length, x0: xs.length ? xs[0][0] : null,
          x1: xs.length ? xs[0][xs[0].length - 1] : null};
})"""
READY = "window.ROTATION && window.ROTATION.ready === true"
#: The RRG's tails by series name ({name: [[ratio, momentum], ...]}), the latest markers left out.
RRG_TAILS = """(() => {
  const el = document.getElementById('chart-rrg');
  if (!el || !el.data) return null;
  return Object.fromEntries(el.data.filter(t => t.mode === 'lines+markers').map(t => [t.name, t.x.map((x, i) => [x, t.y[i]])]));
})()"""
#: Picked member checkboxes of the picker (value per basket group) and its toggle's state.
PICKER = """(() => ({
  checked: Array.from(document.querySelectorAll('#members-groups input[name=member]:checked')).map(c => c.dataset.basket + ':' + c.value),
  open: !document.getElementById('members-panel').hidden,
  expanded: document.getElementById('members-toggle').getAttribute('aria-expanded'),
  label: document.getElementById('members-toggle').textContent,
  focus: document.activeElement && (document.activeElement.id || document.activeElement.value || document.activeElement.tagName),
}))()"""
_KEYS = {"Enter": ("Enter", 13, "\r"), " ": ("Space", 32, " "), "Escape": ("Escape", 27, ""), "Tab": ("Tab", 9, "")}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(app) -> Iterator[str]:
    """Run ``app`` with uvicorn on 127.0.0.1 in a daemon thread; yield its base URL."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="uvicorn-dashboard", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from test_report import make_store

    from rotation.api import create_app

    path = make_store(tmp_path_factory.mktemp("dashboard") / "s.duckdb")
    yield from _serve(create_app(path))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with Browser(timeout=90) as b:
        yield b


def _open(browser: Browser, url: str, *, width: int = 1280, height: int = 800):
    page = browser.new_page(width=width, height=height)
    page.send("Network.enable")
    page.goto(url, timeout=60)
    page.wait_for(READY, timeout=60)
    return page


def _js_errors(page) -> list[str]:
    """JS errors, without Chromium's own log lines for HTTP error statuses (those are expected in tests)."""
    return [e for e in page.errors() if "the server responded with a status of" not in e]


def _wait_chart(page, chart: str, predicate: str, timeout: float = 60) -> dict:
    page.wait_for(f"(c => c && ({predicate}))({CHART}('{chart}'))", timeout=timeout)
    return page.evaluate(f"{CHART}('{chart}')")


def _press(page, key: str) -> None:
    """A real key press (DevTools Input domain) on the focused element: keyboard access, not .click()."""
    code, vk, text = _KEYS[key]
    event = {"key": key, "code": code, "windowsVirtualKeyCode": vk, "nativeVirtualKeyCode": vk}
    page.send("Input.dispatchKeyEvent", {"type": "keyDown", **event, **({"text": text} if text else {})})
    page.send("Input.dispatchKeyEvent", {"type": "keyUp", **event})


def _wait_rrg(page, predicate: str, timeout: float = 60) -> dict[str, list]:
    """The RRG's tails once ``predicate`` (JS over ``t``, the tails by name) holds and the page is idle."""
    page.wait_for(f"{READY} && (t => t && ({predicate}))({RRG_TAILS})", timeout=timeout)
    return page.evaluate(RRG_TAILS)


def test_overview_controls_update_charts_and_url(server: str, browser: Browser, tmp_path: Path) -> None:
    page = _open(browser, f"{server}/#overview?start=2022-01-03&baskets=ai_compute,crypto_majors")
    levels = _wait_chart(page, "chart-levels", "c.traces > 0")
    rrg = _wait_chart(page, "chart-rrg", "c.traces > 0")
    assert set(levels["names"]) == {"ai_compute", "crypto_majors"}, levels
    assert {"ai_compute", "crypto_majors"} <= set(rrg["names"]), rrg
    assert levels["x0"] >= "2022-01-03"
    cards = page.evaluate("Array.from(document.querySelectorAll('#headline .card')).map(c => c.textContent)")
    assert any("rotation index" in c for c in cards), cards
    page.screenshot(tmp_path / "overview-before.png", full_page=False)
    page.evaluate("window.__same_document = 1")  # survives only if nothing reloads the page

    # tick a basket: the levels and the RRG get a new trace
    drawn = levels["drawn"]
    page.evaluate("document.querySelector('#baskets input[value=ai_cloud]').click()")
    page.wait_for(READY)
    levels = _wait_chart(page, "chart-levels", f"c.drawn !== '{drawn}' && c.names.includes('ai_cloud')")
    assert set(levels["names"]) == {"ai_compute", "crypto_majors", "ai_cloud"}, levels
    rrg = _wait_chart(page, "chart-rrg", "c.names.some(n => n.startsWith('ai_cloud'))")

    # move the start date through the date input: the x range moves
    page.evaluate("""(() => { const el = document.querySelector('#controls [name=start]');
        el.value = '2023-06-01'; el.dispatchEvent(new Event('change', {bubbles: true})); })()""")
    page.wait_for(READY)
    levels = _wait_chart(page, "chart-levels", "c.x0 >= '2023-06-01'")
    assert levels["x1"] > "2024-06-01" and len(levels["names"]) == 3
    assert page.evaluate("window.__same_document") == 1, "the page reloaded instead of updating"
    hash_ = unquote(page.evaluate("location.hash"))
    assert hash_.startswith("#overview?") and "start=2023-06-01" in hash_ and "ai_cloud" in hash_, hash_
    page.screenshot(tmp_path / "overview-after.png", full_page=False)
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    assert _js_errors(page) == []
    assert page.evaluate("window.ROTATION.errors") == []
    external = [u for u in page.requests() if not u.startswith((server, "data:", "blob:", "about:"))]
    assert external == [], external  # plotly.js and everything else from the app itself

    # the URL is the state: a fresh tab on it shows the same view
    again = _open(browser, f"{server}/{hash_}")
    same = _wait_chart(again, "chart-levels", "c.traces > 0")
    assert set(same["names"]) == set(levels["names"]) and same["x0"] == levels["x0"]
    assert again.evaluate("document.querySelector('#controls [name=start]').value") == "2023-06-01"
    assert again.evaluate("document.querySelector('#baskets input[value=ai_cloud]').checked") is True
    for name in ("overview-before.png", "overview-after.png"):
        png = (tmp_path / name).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000


def test_member_picker(server: str, browser: Browser, tmp_path: Path) -> None:
    """Pick members per basket (keyboard and buttons), see the RRG change, the URL keep it, back/reload."""
    page = _open(browser, f"{server}/#overview?start=2022-01-03&baskets=ai_compute,crypto_majors",
                 width=1366, height=768)
    before = _wait_rrg(page, "Object.keys(t).length > 0")
    assert set(before) == {"ai_compute", "crypto_majors"}, before
    state = page.evaluate(PICKER)
    assert state["checked"] == [] and not state["open"] and state["expanded"] == "false", state
    page.evaluate("window.__same_document = 1")

    # keyboard: Enter on the toggle opens the picker on its first member; Space ticks it
    page.evaluate("document.getElementById('members-toggle').focus()")
    _press(page, "Enter")
    state = page.evaluate(PICKER)
    assert state["open"] and state["expanded"] == "true" and state["focus"] == "NVDA", state
    groups = page.evaluate("Array.from(document.querySelectorAll('#members-groups fieldset')).map(f => f.dataset.basket)")
    assert groups == ["ai_compute", "crypto_majors"], groups  # one group per chosen basket
    _press(page, " ")
    one = _wait_rrg(page, "'NVDA' in t")
    assert set(one) == {"ai_compute", "crypto_majors", "NVDA"}, one
    assert one["ai_compute"] == before["ai_compute"]  # the baskets' tails do not move
    assert len(one["NVDA"]) == 8 and one["NVDA"] != one["ai_compute"]  # tail=8 weekly points
    assert page.evaluate(PICKER)["focus"] == "NVDA", "focus must stay on the box just toggled"

    # "all" of crypto_majors: its five members (XRP and BNB have no prices: the API says so)
    page.evaluate("document.querySelector('#members-groups button[data-act=all][data-basket=crypto_majors]').click()")
    many = _wait_rrg(page, "'BTC' in t")
    assert set(many) == {"ai_compute", "crypto_majors", "NVDA", "BTC", "ETH", "SOL"}, many
    page.wait_for("!document.getElementById('note-rrg').hidden")
    note = page.evaluate("document.getElementById('note-rrg').textContent")
    assert "XRP" in note and "BNB" in note, note
    state = page.evaluate(PICKER)
    assert state["checked"] == ["ai_compute:NVDA", "crypto_majors:BTC", "crypto_majors:ETH", "crypto_majors:SOL",
                                "crypto_majors:XRP", "crypto_majors:BNB"], state
    assert "6 picked" in state["label"], state
    # the open panel fits a 1366x768 laptop screen and moves nothing (it overlays the charts)
    box = page.evaluate("(r => [r.left, r.top, r.right, r.bottom])(document.getElementById('members-panel').getBoundingClientRect())")
    assert box[0] >= 0 and box[2] <= 1366 and box[3] <= 768, box
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    page.screenshot(tmp_path / "picker-open.png", full_page=False)
    _press(page, "Escape")
    state = page.evaluate(PICKER)
    assert not state["open"] and state["focus"] == "members-toggle", state

    # the RRG's member view: members only
    page.evaluate("""(() => { const el = document.querySelector('#controls [name=rrg]');
        el.value = 'members'; el.dispatchEvent(new Event('change', {bubbles: true})); })()""")
    members = _wait_rrg(page, "!('ai_compute' in t)")
    assert set(members) == {"NVDA", "BTC", "ETH", "SOL"}, members
    assert members["NVDA"] == one["NVDA"]
    page.screenshot(tmp_path / "rrg-members-only.png", full_page=False)
    hash_ = unquote(page.evaluate("location.hash"))
    assert "symbols=NVDA,BTC,ETH,SOL,XRP,BNB" in hash_ and "rrg=members" in hash_, hash_
    assert page.evaluate("window.__same_document") == 1, "the page reloaded instead of updating"

    # back: the previous view (baskets and members); forward: members only again
    page.evaluate("history.back()")
    assert set(_wait_rrg(page, "'ai_compute' in t")) == set(many)
    assert page.evaluate("document.querySelector('#controls [name=rrg]').value") == "both"
    page.evaluate("history.forward()")
    assert set(_wait_rrg(page, "!('ai_compute' in t)")) == set(members)

    # a fresh tab on the URL: the same picks, the same graph
    again = _open(browser, f"{server}/{hash_}", width=1366, height=768)
    assert _wait_rrg(again, "Object.keys(t).length > 0") == members
    assert again.evaluate(PICKER)["checked"] == state["checked"]
    # "none" of crypto_majors leaves NVDA; "clear all" leaves nothing to plot in the member view
    again.evaluate("document.getElementById('members-toggle').click()")
    again.evaluate("document.querySelector('#members-groups button[data-act=none][data-basket=crypto_majors]').click()")
    assert set(_wait_rrg(again, "!('BTC' in t)")) == {"NVDA"}
    again.evaluate("document.querySelector('#members-panel button[data-act=clear]').click()")
    again.wait_for(f"{READY} && document.getElementById('chart-rrg').getAttribute('data-empty') !== null")
    assert "no members picked" in again.evaluate("document.getElementById('chart-rrg').getAttribute('data-empty')")
    assert again.evaluate(PICKER)["checked"] == [] and "symbols=" not in again.evaluate("location.hash")
    for p in (page, again):
        assert _js_errors(p) == [] and p.evaluate("window.ROTATION.errors") == []
    for name in ("picker-open.png", "rrg-members-only.png"):
        png = (tmp_path / name).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000


def test_api_errors_are_shown(server: str, browser: Browser, tmp_path: Path) -> None:
    page = _open(browser, f"{server}/#overview?start=2024-06-01&end=2022-01-01")  # inverted range -> 4xx
    page.wait_for("!document.getElementById('error').hidden", timeout=30)
    text = page.evaluate("document.getElementById('error').textContent")
    assert "start" in text or "end" in text, text
    assert "HTTP 4" in text, text
    page.screenshot(tmp_path / "error.png", full_page=False)
    assert _js_errors(page) == []


def test_every_page_draws(server: str, browser: Browser, tmp_path: Path) -> None:
    page = _open(browser, f"{server}/#overview")
    report = {}
    for name in PAGES:
        page.evaluate(f"document.querySelector('#tabs a[data-page={name}]').click()")
        page.wait_for(f"location.hash.startsWith('#{name}') && {READY}", timeout=90)
        state = page.evaluate(f"""(() => {{
            const sec = document.getElementById('page-{name}');
            return {{visible: !sec.hidden,
              charts: Array.from(sec.querySelectorAll('.chart')).map(c => ({{id: c.id, drawn: !!c.getAttribute('data-drawn'),
                 failed: !!c.getAttribute('data-failed'), traces: c.querySelectorAll('g.trace').length}})),
              tables: Array.from(sec.querySelectorAll('.table')).map(t => ({{id: t.id, rows: t.querySelectorAll('tbody tr').length,
                 failed: !!t.getAttribute('data-failed')}})),
              loading: sec.querySelectorAll('.loading').length,
              errors: window.ROTATION.errors.slice()}}; }})()""")
        report[name] = state
        page.screenshot(tmp_path / f"page-{name}.png", full_page=False)
        assert state["visible"] and state["loading"] == 0, (name, state)
        assert not any("HTTP 5" in e for e in state["errors"]), (name, state["errors"])
        # every panel either drew or failed with a message in the banner
        for item in state["charts"] + state["tables"]:
            assert item.get("drawn") or item.get("rows") or (item["failed"] and state["errors"]), (name, item)
    (tmp_path / "pages.json").write_text(json.dumps(report, indent=1))
    # the core pages must really draw on the synthetic store
    for chart in ("chart-rrg", "chart-levels"):
        assert next(c for c in report["overview"]["charts"] if c["id"] == chart)["traces"] > 0
    assert next(c for c in report["rotation"]["charts"] if c["id"] == "chart-rotation")["traces"] > 0
    assert next(t for t in report["claims"]["tables"] if t["id"] == "table-claims")["rows"] > 0
    assert next(t for t in report["data"]["tables"] if t["id"] == "table-instruments")["rows"] > 0
    assert _js_errors(page) == []


@pytest.mark.slow
def test_dashboard_on_real_data(real_store, browser: Browser, tmp_path: Path) -> None:
    from rotation.api import create_app

    for base in _serve(create_app(real_store)):
        page = _open(browser, f"{base}/#overview?start=2023-01-02")
        levels = _wait_chart(page, "chart-levels", "c.traces > 0", timeout=120)
        rrg = _wait_chart(page, "chart-rrg", "c.traces > 0", timeout=120)
        assert {"ai_compute", "crypto_majors"} <= set(levels["names"]) and rrg["traces"] > 0
        page.screenshot(tmp_path / "real-overview.png", full_page=False)
        page.evaluate("document.querySelector('#tabs a[data-page=claims]').click()")
        page.wait_for(f"location.hash.startsWith('#claims') && {READY}", timeout=300)
        page.screenshot(tmp_path / "real-claims.png", full_page=False)
        assert _js_errors(page) == []
        assert not any("HTTP 5" in e for e in page.evaluate("window.ROTATION.errors"))
