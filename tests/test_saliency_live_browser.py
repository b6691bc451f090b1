"""Issue 16 on a real server: Saliency on Upload, then the Live page streaming, and the server survives.

Before the fix, Grad-CAM loaded TensorFlow into the server and opening the Live page (streamlit-webrtc
-> aiortc -> pylibsrtp) segfaulted the whole process; so did a model folder without its ``.tflite``
(the app converted with TensorFlow). Each test starts its own fresh ``streamlit run app.py`` so the
order is exactly the one users hit: nothing imported by an earlier test. Chromium and the fake camera
are the ones of ``tests/test_live_browser.py``.
"""

from __future__ import annotations

import shutil
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from support.live_page import START_TIMEOUT_S, LivePage, streaming

from serve.app_server import AppServerError, free_port, running_app

pytestmark = pytest.mark.browser

PAGE_TIMEOUT_MS = 180_000  # first model load, first analysis and saliency on a loaded 2-core machine


@contextmanager
def fresh_server(log_dir: Path, models_dir: Path | None = None) -> Iterator[str]:
    """A new ``streamlit run app.py`` (offline ICE; ``FER_MODELS_DIR`` when given); yields its URL.

    ``PYTHONFAULTHANDLER`` makes a native crash write "Fatal Python error" and the stack to the log.
    """
    env = {"FER_ICE_SERVERS": "", "PYTHONFAULTHANDLER": "1"}
    env.update({"FER_MODELS_DIR": str(models_dir)} if models_dir else {})
    try:
        with running_app(free_port(), log_dir / "streamlit.log", timeout_s=max(START_TIMEOUT_S, 180), env=env) as url:
            yield url
    except AppServerError as exc:
        pytest.fail(str(exc))


def assert_alive(url: str, log: Path) -> None:
    """The server answers its health check and logged no native crash (else: the crash's stack)."""
    text = log.read_text()
    crash = text[text.find("Fatal Python error") :].split("\nExtension modules:")[0] if "Fatal Python" in text else ""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=10) as response:
            assert response.status == 200
    except OSError as exc:
        pytest.fail(f"the server is gone ({exc}); its log ends:\n{crash or text[-3000:]}")
    assert not crash, crash


def open_upload(chrome, url: str):  # noqa: ANN001, ANN201 - playwright Browser -> Page
    """A new tab on the Upload page, run inside app.py's navigation (root first, as LivePage does)."""
    page = chrome.new_page(viewport={"width": 1400, "height": 1200})
    page.set_default_navigation_timeout(PAGE_TIMEOUT_MS)
    page.goto(url, wait_until="domcontentloaded")
    page.get_by_text("Detector sensitivity").first.wait_for(timeout=PAGE_TIMEOUT_MS)
    page.goto(f"{url}/upload", wait_until="domcontentloaded")
    page.locator("h1").filter(has_text="Upload photos").first.wait_for(timeout=PAGE_TIMEOUT_MS)
    return page


def show_saliency(chrome, url: str, photo: Path) -> None:  # noqa: ANN001 - playwright Browser
    """Upload ``photo`` and switch Saliency on for its face: the map's caption must appear."""
    page = open_upload(chrome, url)
    try:
        page.locator('input[type="file"]').first.set_input_files(str(photo))
        page.get_by_text("face found").first.wait_for(timeout=PAGE_TIMEOUT_MS)
        switch = page.get_by_role("switch", name="Saliency").first
        switch.scroll_into_view_if_needed(timeout=PAGE_TIMEOUT_MS)  # the input itself is visually hidden:
        page.locator("label").filter(has=switch).first.click(timeout=PAGE_TIMEOUT_MS)  # click its label
        page.get_by_text("What drove").first.wait_for(timeout=PAGE_TIMEOUT_MS)
    finally:
        page.close()


def test_saliency_then_live_stream_keeps_the_server_alive(browser, astronaut_path: Path, tmp_path: Path) -> None:  # noqa: F811
    log = tmp_path / "streamlit.log"
    with fresh_server(tmp_path) as url:
        show_saliency(browser, url, astronaut_path)
        live = LivePage(browser, url, "after-saliency")
        try:
            live.start()
            streaming(live)  # frames keep arriving, a face is counted and an emotion shown
        except BaseException:
            assert_alive(url, log)  # a dead server is the real failure: say so rather than "no iframe"
            raise
        finally:
            live.close()
        assert_alive(url, log)
        show_saliency(browser, url, astronaut_path)  # and Upload still works after the stream
        assert_alive(url, log)


def test_model_without_tflite_is_explained_and_live_opens(
    browser,  # noqa: F811
    model_stem: Path,
    tmp_path: Path,
) -> None:
    models = tmp_path / "models"
    models.mkdir()
    for suffix in (".json", ".keras"):
        shutil.copy(model_stem.with_suffix(suffix), models)
    log = tmp_path / "streamlit.log"
    missing = f"{model_stem.name}.tflite is missing"
    command = f"python -m fer convert {models / model_stem.name}"
    with fresh_server(tmp_path, models) as url:
        page = open_upload(browser, url)
        try:
            error = page.locator('[data-testid="stAlert"]').filter(has_text=missing).first
            error.wait_for(timeout=PAGE_TIMEOUT_MS)
            assert command in error.inner_text()
        finally:
            page.close()
        live = LivePage(browser, url, "no-tflite")  # imports streamlit-webrtc -> aiortc -> pylibsrtp
        try:
            live.page.locator('[data-testid="stAlert"]').filter(has_text=missing).first.wait_for(
                timeout=PAGE_TIMEOUT_MS
            )
        finally:
            live.close()
        assert_alive(url, log)
    assert not (models / f"{model_stem.name}.tflite").exists()  # the app never converts
