"""The Video page in a real browser: upload a clip, see the timelines, download the annotated video and
decode it back.

Chromium is Debian's (``apt-get install chromium``), never Playwright's download; on CI (CI=true) a
missing Chromium fails the test, elsewhere it is skipped. A screenshot goes to test-artifacts/video.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av
import pytest
from support.videoclips import TWO_FACES_FPS

from serve.app_server import CHROMIUM_ARGS, AppServerError, free_port, running_app

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
START_TIMEOUT_S = 90  # app start and first session (loads the model) on a loaded 2-core machine
ANALYSIS_TIMEOUT_S = 180


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log_path = tmp_path_factory.mktemp("streamlit") / "streamlit.log"
    try:
        with running_app(free_port(), log_path, timeout_s=START_TIMEOUT_S) as url:
            yield url
    except AppServerError as exc:
        pytest.fail(str(exc))


def test_video_page_in_chromium(chromium: str, app_url: str, two_faces_clip: bytes, tmp_path: Path):
    from playwright.sync_api import sync_playwright

    clip = tmp_path / "two_faces.mp4"
    clip.write_bytes(two_faces_clip)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1400, "height": 1200}, accept_downloads=True).new_page()
            page.goto(app_url, wait_until="domcontentloaded")  # the app shell first (see test_live_browser)
            page.get_by_text("Detector sensitivity").first.wait_for(timeout=START_TIMEOUT_S * 1000)
            page.goto(f"{app_url}/video", wait_until="domcontentloaded")
            page.get_by_text("Video file (up to").first.wait_for(timeout=60_000)

            page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(clip))
            page.get_by_text("two_faces.mp4").first.wait_for(timeout=30_000)
            analyse = page.get_by_role("button", name="Analyse")
            page.wait_for_function("b => !b.disabled", arg=analyse.element_handle(), timeout=30_000)
            analyse.click()
            page.get_by_text("Results: two_faces.mp4").wait_for(timeout=ANALYSIS_TIMEOUT_S * 1000)

            page.get_by_text("Emotions over time, per face").wait_for(timeout=30_000)
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "video_results.png"))
            page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 4", timeout=60_000)
            assert page.locator(".js-plotly-plot .scatterlayer .trace").count() >= 7  # seven emotion lines drawn

            with page.expect_download(timeout=60_000) as download:
                page.get_by_role("button", name="Annotated video (MP4)").click()
            video = tmp_path / "downloaded.mp4"
            download.value.save_as(video)
            page.screenshot(path=str(ARTIFACTS / "video.png"), full_page=True)
        finally:
            browser.close()

    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264" and float(stream.average_rate) == pytest.approx(TWO_FACES_FPS)
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    assert len(frames) == 70 and frames[0].shape == (480, 640, 3)
