"""The Live page in a test: a :class:`LiveTab` whose failures fail the test with a screenshot, and the
check that a tab is really streaming through the model."""

from __future__ import annotations

import pytest

from fer.labels import CLASS_NAMES
from serve.live_browser import FIRST_LOAD_S, LiveTab

from .environment import REPO_ROOT

ARTIFACTS = REPO_ROOT / "test-artifacts"
START_TIMEOUT_S = FIRST_LOAD_S  # app start and first session (loads the model) on a loaded 2-core machine
FRAMES_TIMEOUT_S = 60  # START -> frames processed


class LivePage(LiveTab):
    """A :class:`LiveTab` that fails the test with a screenshot, the page's figures and the console."""

    def fail(self, message: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / f"live_failure_{self.name}.png"
        try:
            self.page.screenshot(path=str(shot), full_page=True)
        except Exception:  # the page may be gone; the message matters more
            pass
        pytest.fail(f"[{self.name}] {message}.\nScreenshot: {shot}\n{self.diagnosis()}", pytrace=False)


def streaming(tab: LivePage) -> None:
    """Frames arrive and keep arriving, a face is counted and an emotion shown."""
    tab.wait_until("a first processed frame (the stream never connected?)", lambda: tab.frames() > 0, FRAMES_TIMEOUT_S)
    first = tab.frames()
    # the count keeps rising (within 20 s: a loaded machine redraws the page's figures late)
    tab.wait_until(f"'Frames processed' rising past {first}", lambda: tab.frames() > first, 20)
    tab.wait_until("a face counted", lambda: (tab.number("Faces") or 0) >= 1, 30)
    tab.wait_until("an emotion label", lambda: tab.metric("Emotion") in CLASS_NAMES, 30)
