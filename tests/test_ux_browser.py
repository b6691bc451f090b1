"""The app as a phone or a second computer on the network sees it, in headless Chromium.

* Opened at a network address over plain HTTP (like Streamlit's "Network URL"), the Live page says in
  plain words that the browser blocks the camera there and how to fix it; over HTTPS with the
  certificate ``make run-https`` makes (serve/certs.py), the same address is a secure context.
  A host name mapped to the loopback address stands in for the LAN address: Chromium treats every
  127.0.0.0/8 address and ``localhost`` as secure (checked: 127.0.0.2 is secure too), but not a name.
* A browser without a camera gets "No camera found" instead of "NotFoundError: Requested device not found".
* At a phone's width (390 px) an uploaded 512 px photo scales down to the column, and the photos
  table shows every result column; a click on any cell picks that photo (issue 24).

Chromium is Debian's; on CI a missing Chromium fails, elsewhere it skips (as in test_live_browser.py).
"""

from __future__ import annotations

import ssl
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from serve.app_server import CHROMIUM_ARGS, AppServerError, free_port, running_app
from serve.certs import ensure_certificate
from ui.photo_view import FILE_COLUMN_PX

pytestmark = pytest.mark.browser

REPO_ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 120
LAN_NAME = "fer-lan.test"  # resolved by Chromium to 127.0.0.1: a non-loopback *name*, like a LAN address
INSECURE = "Your browser blocks the camera on this address."


@pytest.fixture(scope="module")
def http_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("http") / "streamlit.log"
    try:
        with running_app(free_port(), log, timeout_s=START_TIMEOUT_S, env={"FER_ICE_SERVERS": ""}) as url:
            yield url
    except AppServerError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return ensure_certificate(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="module")
def https_port(tmp_path_factory: pytest.TempPathFactory, certificate: tuple[Path, Path]) -> Iterator[int]:
    """The app served as ``make run-https`` serves it (server.sslCertFile / sslKeyFile)."""
    cert, key = certificate
    port = free_port()
    log = tmp_path_factory.mktemp("https") / "streamlit.log"
    env = {
        "FER_ICE_SERVERS": "",
        "STREAMLIT_SERVER_SSL_CERT_FILE": str(cert),
        "STREAMLIT_SERVER_SSL_KEY_FILE": str(key),
    }
    try:
        with running_app(port, log, timeout_s=START_TIMEOUT_S, env=env, scheme="https", cafile=cert):
            yield port
    except AppServerError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="module")
def browser(chromium: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(  # no fake camera: this browser has none
            executable_path=chromium,
            headless=True,
            args=[*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {LAN_NAME} 127.0.0.1", "--ignore-certificate-errors"],
        )
        try:
            yield browser
        finally:
            browser.close()


def _open(browser, url: str, path: str, width: int = 1400):  # noqa: ANN202 - playwright Page
    """A fresh tab on ``url`` + ``path``, after the app's own navigation ran once (see test_live_browser)."""
    context = browser.new_context(viewport={"width": width, "height": 900}, ignore_https_errors=True)
    page = context.new_page()
    page.goto(url, wait_until="domcontentloaded")
    page.get_by_text("Detector sensitivity").first.wait_for(timeout=START_TIMEOUT_S * 1000, state="attached")
    page.goto(f"{url}{path}", wait_until="domcontentloaded")
    page.get_by_text("Detector sensitivity").first.wait_for(timeout=60_000, state="attached")
    return page


def test_network_address_over_http_explains_the_camera_block(browser, http_url: str) -> None:
    url = http_url.replace("127.0.0.1", LAN_NAME)
    page = _open(browser, url, "/live")
    try:
        page.get_by_text(INSECURE).wait_for(timeout=60_000)
        assert page.evaluate("window.isSecureContext") is False
        advice = page.locator('[data-testid="stAlert"]').filter(has_text=INSECURE).inner_text()
        assert "make run-https" in advice and f"https://{LAN_NAME}" in advice
        assert page.locator("iframe[title*='webrtc']").count() == 0  # no START that could only fail
        page.get_by_text("Upload photos").first.wait_for(timeout=30_000)  # the way on without a camera
    finally:
        page.context.close()


def test_the_same_address_over_https_is_secure(browser, https_port: int) -> None:
    page = _open(browser, f"https://{LAN_NAME}:{https_port}", "/live")
    try:
        page.wait_for_selector("iframe[title*='webrtc']", timeout=60_000)
        assert page.evaluate("window.isSecureContext") is True
        page.wait_for_timeout(2000)  # the camera check has reported
        assert page.get_by_text(INSECURE).count() == 0
    finally:
        page.context.close()


def test_https_server_answers_with_the_made_certificate(https_port: int, certificate: tuple[Path, Path]) -> None:
    context = ssl.create_default_context(cafile=str(certificate[0]))
    with urllib.request.urlopen(f"https://localhost:{https_port}/_stcore/health", context=context, timeout=10) as r:
        assert r.status == 200


def test_a_browser_without_a_camera_gets_plain_words(browser, http_url: str) -> None:
    page = _open(browser, http_url, "/live")
    try:
        page.get_by_text("No camera found on this device.").wait_for(timeout=60_000)
        page.get_by_text("Take a photo instead").wait_for(timeout=30_000)
        assert page.get_by_text("NotFoundError").count() == 0
    finally:
        page.context.close()


def test_phone_width_scales_the_photo_to_the_column(browser, http_url: str, astronaut_path: Path) -> None:
    page = _open(browser, http_url, "/upload", width=390)
    try:
        page.locator('input[type="file"]').first.set_input_files(str(astronaut_path))
        page.get_by_text("1 face found").first.wait_for(timeout=120_000)
        page.wait_for_timeout(1500)
        images = page.locator('[data-testid="stMain"] img')
        assert images.count() >= 2  # the annotated photo and the face crop
        for i in range(images.count()):
            box = images.nth(i).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390 + 0.5, box
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        photo = images.first.bounding_box()
        assert photo["width"] < 390, "the 512 px photo was scaled down to the column"
    finally:
        page.context.close()


def test_phone_width_shows_the_photos_tables_results_and_a_cell_click_picks_a_photo(
    browser, http_url: str, astronaut_path: Path, tmp_path: Path
) -> None:
    wall = tmp_path / "wall.png"
    wall.write_bytes(_grey_png())
    page = _open(browser, http_url, "/upload", width=390)
    try:
        page.locator('input[type="file"]').first.set_input_files([str(astronaut_path), str(wall)])
        page.get_by_text("2 photos").first.wait_for(timeout=120_000)
        assert page.locator('[data-testid="stFileUploaderFile"]').count() == 0  # the files moved to the list
        grid = page.locator('[data-testid="stDataFrame"]').first
        page.wait_for_function("document.querySelectorAll('[data-testid=\"stDataFrame\"] th').length > 0")
        headers = page.evaluate(
            "() => Array.from(document.querySelectorAll('[data-testid=\"stDataFrame\"] th')).map(h => h.textContent)"
        )
        assert headers == ["photo", "top emotion", "confidence", "faces", "status", "file"]  # no checkbox column
        total, shown = page.evaluate(
            "() => { const s = document.querySelector('[data-testid=\"stDataFrame\"] .dvn-scroller');"
            " return [s.scrollWidth, s.clientWidth]; }"
        )
        assert total - FILE_COLUMN_PX <= shown, "a result column is off-screen (only the file name may scroll)"

        grid.hover()  # the table's toolbar shows on hover: it must not cover "Remove all"
        toolbar = page.locator('[data-testid="stElementToolbar"]').first.bounding_box()
        remove_all = page.get_by_role("button", name="Remove all").bounding_box()
        assert toolbar is not None and remove_all is not None
        assert (
            toolbar["y"] + toolbar["height"] <= remove_all["y"]
            or remove_all["y"] + remove_all["height"] <= toolbar["y"]
        )

        box = grid.bounding_box()
        header_px, row_px = 35, 56  # Streamlit's header row; THUMB_PX // 2 + 8, the photos' rows
        page.mouse.click(box["x"] + 120, box["y"] + header_px + row_px * 1.5)  # row 2's "top emotion" cell
        page.get_by_text("No face found in wall.png").first.wait_for(timeout=60_000)
    finally:
        page.context.close()


def _grey_png() -> bytes:
    ok, buf = cv2.imencode(".png", np.full((300, 400, 3), 180, np.uint8))
    assert ok
    return buf.tobytes()
