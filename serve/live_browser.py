"""Drive the Live webcam page in headless Chromium with a fake camera: for the browser tests and the load script.

One place for the Chromium flags a WebRTC stream needs on a machine without a camera or outside network,
and for reading the page's own figures (frames processed, processed FPS, the input size).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from pathlib import Path

from serve.app_server import CHROMIUM_ARGS

#: A fake camera playing a .y4m file, camera permission granted, and every tab kept at full speed even
#: when hidden (several viewers stream from one browser at once).
CAMERA_ARGS = [
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]
#: How long the first page load may take (the server imports the model on its first session).
FIRST_LOAD_S = 90


def load_average() -> str:
    """The machine's load next to a measured figure: timings taken under load are not figures."""
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "load average unknown"
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} CPUs"


def process_usage(pid: int) -> dict:
    """A server process's RSS (MB), threads and open file descriptors now (what a leak would grow)."""
    import psutil  # a dev requirement (requirements-dev.txt), as is Playwright

    process = psutil.Process(pid)
    with process.oneshot():
        return {
            "rss_mb": round(process.memory_info().rss / 2**20, 1),
            "threads": process.num_threads(),
            "fds": process.num_fds(),
        }


class LiveTabError(RuntimeError):
    """The page did not do what was expected in time; the message carries its figures and console."""


def launch_chromium(playwright, executable: str, fake_camera: Path):  # noqa: ANN001, ANN201 - Playwright types
    """Headless Chromium whose camera plays ``fake_camera`` (a .y4m video, looped)."""
    return playwright.chromium.launch(
        executable_path=executable,
        headless=True,
        args=[*CHROMIUM_ARGS, *CAMERA_ARGS, f"--use-file-for-fake-video-capture={fake_camera}"],
    )


class LiveTab:
    """One browser tab (its own context: its own Streamlit session) on the Live webcam page."""

    def __init__(  # noqa: ANN001
        self, browser, url: str, name: str, height: int = 1100, cookies: list[dict] | None = None
    ) -> None:
        self.name = name
        self.context = browser.new_context(viewport={"width": 1400, "height": height}, permissions=["camera"])
        self.context.grant_permissions(["camera"], origin=url)
        if cookies:  # e.g. the proxy test's sticky-session cookie, set before the first request
            self.context.add_cookies(cookies)
        self.page = self.context.new_page()
        self.console: list[str] = []
        self.page.on("console", lambda m: self.console.append(f"[{m.type}] {m.text}"))
        self.page.on("pageerror", lambda e: self.console.append(f"[pageerror] {e}"))
        # Open the app at its root and go to the Live page through the sidebar, as a visitor does: one
        # browser session (a second page load would leave the first session stored for a reconnect).
        self.page.goto(url, wait_until="domcontentloaded")
        self.page.get_by_text("Detector sensitivity").first.wait_for(timeout=FIRST_LOAD_S * 1000)
        self.page.locator('[data-testid="stSidebarNav"] a', has_text="Live webcam").first.click(timeout=30_000)
        self.page.wait_for_url(re.compile(r"/live$"), timeout=60_000)
        self.page.get_by_role("heading", name="Live webcam").first.wait_for(timeout=60_000)

    def start(self) -> None:
        """Press START inside streamlit-webrtc's component iframe."""
        self.page.wait_for_selector("iframe[title*='webrtc']", timeout=60_000)
        frame = self.page.frame_locator("iframe[title*='webrtc']")
        frame.get_by_role("button", name="START").click(timeout=30_000)

    def stop(self) -> None:
        """Press STOP inside streamlit-webrtc's component iframe."""
        frame = self.page.frame_locator("iframe[title*='webrtc']")
        frame.get_by_role("button", name="STOP").click(timeout=30_000)

    def metric(self, label: str) -> str:
        block = self.page.locator('[data-testid="stMetric"]').filter(
            has=self.page.locator('[data-testid="stMetricLabel"]', has_text=label)
        )
        return block.first.locator('[data-testid="stMetricValue"]').inner_text(timeout=10_000).strip()

    def frames(self) -> int:
        """The page's frame counter; 0 while the metric is not drawn yet (a slow start is not an error)."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        block = self.page.locator('[data-testid="stMetric"]').filter(
            has=self.page.locator('[data-testid="stMetricLabel"]', has_text="Frames processed")
        )
        try:
            text = block.first.locator('[data-testid="stMetricValue"]').inner_text(timeout=2_000).strip()
        except PlaywrightTimeout:
            return 0
        text = text.replace(",", "")
        return int(text) if text.isdigit() else 0

    def input_size(self) -> str:
        """The page's "Input video: WxH" caption (the frame size the server receives)."""
        text = self.page.get_by_text(re.compile(r"^Input video: ")).first.inner_text(timeout=10_000)
        return text.split(":", 1)[1].strip()

    def number(self, label: str) -> float | None:
        try:
            return float(self.metric(label))
        except ValueError:
            return None

    def wait_until(self, what: str, check: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                self.fail(f"{what} not reached within {timeout:.0f} s")
            time.sleep(0.5)

    def diagnosis(self) -> str:
        """The page's figures and the end of the browser console, for a failure message."""
        try:
            metrics = self.page.locator('[data-testid="stMetric"]').all_inner_texts()
        except Exception:  # the page may be gone; the message matters more
            metrics = []
        console = "\n".join(self.console[-60:]) or "(empty)"
        return f"Metrics: {[m.replace(chr(10), ' = ') for m in metrics]}\nBrowser console:\n{console}"

    def fail(self, message: str) -> None:
        raise LiveTabError(f"[{self.name}] {message}.\n{self.diagnosis()}")

    def close(self) -> None:
        self.context.close()
