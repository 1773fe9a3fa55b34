"""A minimal headless-Chromium driver over the DevTools protocol (CDP), no extra packages.

Chromium is started with ``--remote-debugging-pipe``: it reads protocol
commands from file descriptor 3 and writes responses and events to file
descriptor 4, one JSON message per NUL-terminated chunk (the transport
Puppeteer and Kaleido's choreographer use). A ``/bin/sh`` wrapper moves the two
pipe ends onto descriptors 3 and 4 of the browser process. No port is opened
and nothing is downloaded: the browser is the system's (Debian's ``chromium``
package by default).

Used by :func:`rotation.report.export_figures` (charts as SVG/PNG when Kaleido
is not installed) and by the report's browser test (render the report, collect
JavaScript errors, check every chart, take a screenshot).

>>> with Browser() as browser:                              # doctest: +SKIP
...     page = browser.new_page()
...     page.goto("file:///tmp/rotation-report.html")
...     page.evaluate("document.title")
"""

from __future__ import annotations

import base64
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from rotation.errors import RotationError

__all__ = ["Browser", "BrowserError", "Page", "find_chromium"]

#: Executables tried, in order, when no path is given.
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")

#: Flags for a quiet, isolated, offline-friendly headless browser.
FLAGS = (
    "--headless",
    "--no-sandbox",  # containers and CI run as root, where the sandbox cannot start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--mute-audio",
    "--hide-scrollbars",
)


class BrowserError(RotationError):
    """The browser could not be started, did not answer in time, or a protocol command failed."""


def find_chromium(executable: str | os.PathLike[str] | None = None) -> str | None:
    """Path of a Chromium/Chrome executable, or None.

    Order: ``executable``; ``$ROTATION_CHROMIUM``; ``$BROWSER_PATH`` (the
    variable Kaleido's choreographer reads); then :data:`CANDIDATES` on ``PATH``.
    """
    for value in (executable, os.environ.get("ROTATION_CHROMIUM"), os.environ.get("BROWSER_PATH")):
        if value:
            path = shutil.which(str(value)) or (str(value) if Path(value).is_file() else None)
            if path:
                return path
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


class Browser:
    """A headless Chromium process driven over a CDP pipe (use as a context manager).

    Parameters
    ----------
    executable : path, optional
        Browser binary (default: :func:`find_chromium`).
    timeout : float
        Seconds to wait for any one protocol answer.
    window : (int, int)
        Window size in CSS pixels.

    Raises
    ------
    BrowserError
        No browser found, or it did not start.
    """

    def __init__(self, executable: str | os.PathLike[str] | None = None, *, timeout: float = 60.0,
                 window: tuple[int, int] = (1366, 900)) -> None:
        exe = find_chromium(executable)
        if exe is None:
            raise BrowserError("no Chromium or Chrome found (install Debian's `chromium` package, or set "
                               "ROTATION_CHROMIUM to the browser's path)")
        self.timeout = float(timeout)
        self._tmp = tempfile.TemporaryDirectory(prefix="rotation-chromium-")
        self._log = open(Path(self._tmp.name) / "stderr.log", "wb")  # noqa: SIM115 - closed in close()
        args = [exe, *FLAGS, f"--user-data-dir={Path(self._tmp.name) / 'profile'}", "--remote-debugging-pipe",
                f"--window-size={window[0]},{window[1]}", "about:blank"]
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        try:
            # fd 0 -> 3 (commands in), fd 1 -> 4 (messages out), then detach stdin/stdout
            self._proc = subprocess.Popen(
                ["/bin/sh", "-c", 'exec "$@" 3<&0 4>&1 </dev/null >/dev/null', "sh", *args],
                stdin=to_child_r, stdout=from_child_w, stderr=self._log, close_fds=True,
            )
        except OSError as exc:
            for fd in (to_child_r, to_child_w, from_child_r, from_child_w):
                os.close(fd)
            self._cleanup()
            raise BrowserError(f"could not start {exe}: {exc}") from exc
        os.close(to_child_r)
        os.close(from_child_w)
        self._w, self._r = to_child_w, from_child_r
        self._inbox: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._responses: dict[int, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self._next_id = 0
        self._closed = False
        self._reader = threading.Thread(target=self._read, name="cdp-reader", daemon=True)
        self._reader.start()
        try:
            self.version = self.send("Browser.getVersion")
        except BrowserError:
            self.close()
            raise

    # -- transport ------------------------------------------------------------------------
    def _read(self) -> None:
        buf = b""
        while True:
            try:
                chunk = os.read(self._r, 1 << 16)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                try:
                    self._inbox.put(json.loads(raw))
                except ValueError:
                    continue
        self._inbox.put(None)  # end of stream

    def _pump(self, deadline: float) -> bool:
        """Move one message from the pipe into responses/events; False at end of stream."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        try:
            msg = self._inbox.get(timeout=left)
        except queue.Empty:
            raise TimeoutError from None
        if msg is None:
            self._inbox.put(None)
            return False
        if "id" in msg:
            self._responses[int(msg["id"])] = msg
        else:
            self.events.append(msg)
        return True

    def send(self, method: str, params: dict[str, Any] | None = None, *, session: str | None = None,
             timeout: float | None = None) -> dict[str, Any]:
        """Send one command and return its ``result`` (raises BrowserError on a protocol error)."""
        if self._closed:
            raise BrowserError("the browser is closed")
        self._next_id += 1
        mid = self._next_id
        msg: dict[str, Any] = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        data = json.dumps(msg).encode() + b"\0"
        try:
            while data:
                data = data[os.write(self._w, data):]
        except OSError as exc:
            raise BrowserError(f"{method}: the browser is gone ({exc}); {self.stderr_tail()}") from exc
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        try:
            while mid not in self._responses:
                if not self._pump(deadline):
                    raise BrowserError(f"{method}: the browser closed the pipe; {self.stderr_tail()}")
        except TimeoutError:
            raise BrowserError(f"{method}: no answer within {self.timeout if timeout is None else timeout:.0f} s") \
                from None
        reply = self._responses.pop(mid)
        if "error" in reply:
            raise BrowserError(f"{method}: {reply['error'].get('message')} {reply['error'].get('data', '')}".strip())
        return reply.get("result", {})

    def wait_event(self, method: str, *, session: str | None = None, timeout: float | None = None,
                   since: int = 0) -> dict[str, Any]:
        """The first event ``method`` (of ``session``) received at index >= ``since`` of :attr:`events`."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        i = since
        while True:
            while i < len(self.events):
                ev = self.events[i]
                i += 1
                if ev.get("method") == method and (session is None or ev.get("sessionId") == session):
                    return ev
            try:
                if not self._pump(deadline):
                    raise BrowserError(f"waiting for {method}: the browser closed the pipe")
            except TimeoutError:
                raise BrowserError(f"waiting for {method}: nothing within "
                                   f"{self.timeout if timeout is None else timeout:.0f} s") from None

    def drain(self) -> None:
        """Collect the events already sent by the browser (non-blocking)."""
        while True:
            try:
                msg = self._inbox.get_nowait()
            except queue.Empty:
                return
            if msg is None:
                self._inbox.put(None)
                return
            if "id" in msg:
                self._responses[int(msg["id"])] = msg
            else:
                self.events.append(msg)

    def stderr_tail(self, n: int = 800) -> str:
        try:
            self._log.flush()
            text = (Path(self._tmp.name) / "stderr.log").read_bytes()[-n:].decode(errors="replace")
        except OSError:
            return ""
        return f"browser stderr: {text.strip()}" if text.strip() else ""

    # -- pages ----------------------------------------------------------------------------
    def new_page(self, *, width: int = 1366, height: int = 900) -> Page:
        """A new tab with Page, Runtime and Log domains enabled and the viewport set."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, session, target)
        for domain in ("Page", "Runtime", "Log"):
            page.send(f"{domain}.enable")
        page.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        return page

    # -- lifecycle ------------------------------------------------------------------------
    def close(self) -> None:
        """Close the browser (politely, then by signal) and remove its profile."""
        if self._closed:
            return
        try:
            self.send("Browser.close", timeout=5)
        except BrowserError:
            pass
        self._closed = True
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=10)
        for fd in (self._w, self._r):
            try:
                os.close(fd)
            except OSError:
                pass
        self._cleanup()

    def _cleanup(self) -> None:
        try:
            self._log.close()
        except OSError:
            pass
        self._tmp.cleanup()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Page:
    """One tab of a :class:`Browser` (a flattened CDP session)."""

    def __init__(self, browser: Browser, session: str, target: str) -> None:
        self.browser = browser
        self.session = session
        self.target = target

    def send(self, method: str, params: dict[str, Any] | None = None, *, timeout: float | None = None) -> dict:
        return self.browser.send(method, params, session=self.session, timeout=timeout)

    def goto(self, url: str, *, timeout: float | None = None) -> None:
        """Navigate and wait for the load event."""
        since = len(self.browser.events)
        result = self.send("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise BrowserError(f"could not open {url}: {result['errorText']}")
        self.browser.wait_event("Page.loadEventFired", session=self.session, timeout=timeout, since=since)

    def evaluate(self, expression: str, *, await_promise: bool = True, timeout: float | None = None) -> Any:
        """Evaluate JavaScript in the page and return its value (JSON-serialisable results only)."""
        res = self.send("Runtime.evaluate", {"expression": expression, "awaitPromise": await_promise,
                                             "returnByValue": True}, timeout=timeout)
        if "exceptionDetails" in res:
            d = res["exceptionDetails"]
            text = d.get("exception", {}).get("description") or d.get("text")
            raise BrowserError(f"JavaScript error: {text}")
        return res.get("result", {}).get("value")

    def wait_for(self, expression: str, *, timeout: float = 30.0, interval: float = 0.1) -> Any:
        """Poll ``expression`` until it is truthy; return its value (BrowserError on timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise BrowserError(f"timed out after {timeout:.0f} s waiting for {expression}")
            time.sleep(interval)

    def errors(self) -> list[str]:
        """JavaScript errors of this page so far: uncaught exceptions, console.error, error log entries."""
        self.browser.drain()
        out = []
        for ev in self.browser.events:
            if ev.get("sessionId") != self.session:
                continue
            m, p = ev.get("method"), ev.get("params", {})
            if m == "Runtime.exceptionThrown":
                d = p.get("exceptionDetails", {})
                out.append(d.get("exception", {}).get("description") or d.get("text", "exception"))
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append(" ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", [])))
            elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                e = p["entry"]
                out.append(f"{e.get('source')}: {e.get('text')} {e.get('url', '')}".strip())
        return out

    def requests(self) -> list[str]:
        """URLs the page asked the network for (needs ``Network.enable`` before loading)."""
        self.browser.drain()
        return [ev["params"]["request"]["url"] for ev in self.browser.events
                if ev.get("sessionId") == self.session and ev.get("method") == "Network.requestWillBeSent"]

    def screenshot(self, path: str | os.PathLike[str], *, full_page: bool = True, scale: float = 1.0) -> Path:
        """A PNG screenshot: the viewport, or the whole page when ``full_page`` (``scale`` < 1 shrinks it)."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            m = self.send("Page.getLayoutMetrics")
            size = m.get("cssContentSize") or m.get("contentSize")
            params["clip"] = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": scale}
            params["captureBeyondViewport"] = True
        data = self.send("Page.captureScreenshot", params)["data"]
        out = Path(path)
        out.write_bytes(base64.b64decode(data))
        return out

    def pdf(self, path: str | os.PathLike[str]) -> Path:
        """Print the page to PDF (A4, backgrounds on)."""
        data = self.send("Page.printToPDF", {"printBackground": True, "paperWidth": 8.27, "paperHeight": 11.69},
                         timeout=max(self.browser.timeout, 120))["data"]
        out = Path(path)
        out.write_bytes(base64.b64decode(data))
        return out
