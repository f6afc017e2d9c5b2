"""A real browser for the tests: headless Chromium driven over the DevTools protocol on a pipe.

``--remote-debugging-pipe`` makes Chromium read commands from fd 3 and write replies to fd 4, as
NUL-terminated JSON: no port is opened, nothing listens on the network. Every run gets a fresh
profile in a temporary directory; the browser is closed (and killed if it does not close) afterwards.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
)


def find_chromium() -> str | None:
    """Debian's ``chromium`` (``/usr/bin/chromium``), or another Chromium on the PATH."""
    for name in ("/usr/bin/chromium", "chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


class Browser:
    """One headless Chromium; ``with Browser(path) as b: b.open(url)``."""

    def __init__(self, executable: str, *, timeout: float = 60.0, flags: tuple[str, ...] = ()) -> None:
        self.executable, self.timeout, self.flags = executable, timeout, flags
        self.profile = tempfile.TemporaryDirectory(prefix="wv-chromium-")
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def __enter__(self) -> Browser:
        to_browser_r, self.to_browser = os.pipe()
        self.from_browser, from_browser_w = os.pipe()

        def wire() -> None:  # in the child: our pipe ends become fds 3 and 4 (inheritable, as dup2 makes)
            high_r = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)
            high_w = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        self.process = subprocess.Popen(
            [self.executable, *FLAGS, *self.flags, f"--user-data-dir={self.profile.name}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=wire,
            close_fds=False,  # our other descriptors are close-on-exec already
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError, TimeoutError, RuntimeError):
            self.send("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self.to_browser)
        os.close(self.from_browser)
        self.profile.cleanup()

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> Any:
        """Send one command and wait for its reply; events met on the way are kept in ``events``."""
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.to_browser, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str) -> dict[str, Any]:
        """Wait for an event (it may already have arrived)."""
        while True:
            for event in self.events:
                if event.get("method") == method:
                    self.events.remove(event)
                    return event
            self.events.append(self._read())

    def _read(self) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.from_browser], [], [], max(0.0, left))
            if not ready:
                raise TimeoutError("Chromium did not answer")
            chunk = os.read(self.from_browser, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the pipe")
            self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        result: dict[str, Any] = json.loads(raw)
        return result


def load_page(executable: str, url: str, *, script: str, width: int = 1280) -> tuple[Any, bytes, list[str]]:
    """Open *url*, wait for its load event, evaluate *script*; returns (its value, a full-page PNG
    screenshot, every URL the page requested)."""
    with Browser(executable) as browser:
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Network", "Runtime"):
            browser.send(f"{domain}.enable", session=session)
        browser.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False},
            session=session,
        )
        browser.send("Page.navigate", {"url": url}, session=session)
        browser.wait_for("Page.loadEventFired")
        value = browser.send(
            "Runtime.evaluate", {"expression": script, "returnByValue": True}, session=session
        )["result"].get("value")
        shot = browser.send(
            "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, session=session
        )["data"]
        requested = [
            e["params"]["request"]["url"]
            for e in browser.events
            if e.get("method") == "Network.requestWillBeSent"
        ]
        return value, base64.b64decode(shot), requested


def file_url(path: Path) -> str:
    """``file://`` URL of a local file."""
    return path.resolve().as_uri()


PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}
"""A phone-sized viewport (iPhone 12-15 logical size)."""


class Tab:
    """One page in its own browser context (its own cookies), at a phone's size, driven over DevTools.

    ``with Browser(path) as b: tab = Tab(b, language="th"); tab.open(url); tab.press("#join-button")``.
    Certificate errors are ignored (the loopback servers use test certificates).
    """

    def __init__(self, browser: Browser, *, language: str = "en", viewport: dict[str, Any] = PHONE) -> None:
        self.browser = browser
        context = browser.send("Target.createBrowserContext", {"disposeOnDetach": True})
        self.context = context["browserContextId"]
        target = browser.send("Target.createTarget", {"url": "about:blank", "browserContextId": self.context})
        attached = browser.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})
        self.session = attached["sessionId"]
        for domain in ("Page", "Runtime", "DOM", "CSS"):
            self.send(f"{domain}.enable")
        self.send("Security.setIgnoreCertificateErrors", {"ignore": True})
        self.send("Emulation.setDeviceMetricsOverride", viewport)
        self.send("Emulation.setUserAgentOverride", {
            "userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) walletvoucher-tests",
            "acceptLanguage": language,
        })

    def send(self, method: str, params: dict[str, Any] | None = None) -> Any:
        """A DevTools command for this tab."""
        return self.browser.send(method, params, session=self.session)

    def _loaded(self) -> None:
        """Wait for this tab's load event (other tabs' events stay queued for them)."""
        while True:
            for event in self.browser.events:
                if event.get("method") == "Page.loadEventFired" and event.get("sessionId") == self.session:
                    self.browser.events.remove(event)
                    return
            self.browser.events.append(self.browser._read())

    def open(self, url: str) -> None:
        """Navigate and wait for the load event (of this navigation: earlier ones are dropped)."""
        self.browser.events = [e for e in self.browser.events if e.get("sessionId") != self.session]
        self.send("Page.navigate", {"url": url})
        self._loaded()

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises are awaited)."""
        reply = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                               "awaitPromise": True})
        if "exceptionDetails" in reply:
            raise RuntimeError(f"{expression}: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def wait_until(self, expression: str, timeout: float = 20.0) -> Any:
        """Poll *expression* until it is truthy (e.g. the next page's state); returns its value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                value = self.evaluate(expression)
            except RuntimeError:  # the page is between documents
                value = None
            if value:
                return value
            time.sleep(0.05)
        raise TimeoutError(f"never true: {expression}")

    def state(self) -> str | None:
        """The page's ``<main data-state>``."""
        value = self.evaluate("document.querySelector('main')?.dataset.state ?? null")
        return None if value is None else str(value)

    def center(self, selector: str) -> tuple[float, float]:
        """The middle of the element, in viewport coordinates (scrolled into view first)."""
        box = self.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " e.scrollIntoView({block: 'center'});"
            " const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        return float(box[0]), float(box[1])

    def press(self, selector: str, *, hold: float = 0.0) -> None:
        """Press the mouse on the element, keep it down *hold* seconds, release (a tap, or a hold)."""
        x, y = self.center(selector)
        self.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y})
        self.send("Input.dispatchMouseEvent", {"type": "mousePressed", "x": x, "y": y, "button": "left",
                                               "clickCount": 1})
        if hold:
            time.sleep(hold)
        self.send("Input.dispatchMouseEvent", {"type": "mouseReleased", "x": x, "y": y, "button": "left",
                                               "clickCount": 1})

    def screenshot(self, path: Path | None = None) -> bytes:
        """A PNG of the viewport (saved to *path* when given)."""
        data = base64.b64decode(self.send("Page.captureScreenshot", {"format": "png"})["data"])
        if path is not None:
            path.write_bytes(data)
        return data

    def fonts_used(self, selector: str = "main") -> dict[str, int]:
        """The platform fonts Chromium drew the element's text with: {family: glyph count}."""
        root = self.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
        found = self.send("DOM.querySelectorAll", {"nodeId": root, "selector": f"{selector} *"})["nodeIds"]
        used: dict[str, int] = {}
        for node in found:
            for font in self.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]:
                used[font["familyName"]] = used.get(font["familyName"], 0) + int(font["glyphCount"])
        return used
