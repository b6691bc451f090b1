"""A deep link opened first on a fresh server still gets the app shell (sidebar settings, page titles).

Streamlit 1.x treats a folder named ``pages/`` beside the entry point as a legacy multipage app until
``st.navigation`` has run once; ``ui.common.ensure_app_navigation`` switches that mode off through a
Streamlit internal. This test fails loudly if a Streamlit upgrade changes that behaviour.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from serve.app_server import CHROMIUM_ARGS, AppServerError, free_port, running_app

pytestmark = pytest.mark.browser


def test_streamlit_still_has_the_legacy_folder_switch() -> None:
    from streamlit.runtime.pages_manager import PagesManager

    assert hasattr(PagesManager, "uses_pages_directory"), (
        "Streamlit no longer has PagesManager.uses_pages_directory: revisit ui.common.ensure_app_navigation "
        "(or rename pages/) before upgrading"
    )


@pytest.fixture(scope="module")
def fresh_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("deep-link") / "streamlit.log"
    try:
        with running_app(free_port(), log, timeout_s=120, env={"FER_ICE_SERVERS": ""}) as url:
            yield url
    except AppServerError as exc:
        pytest.fail(str(exc))


def test_deep_link_first_gets_the_app_navigation(chromium: str, fresh_app: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{fresh_app}/upload")  # the very first request this server sees
            nav = page.get_by_test_id("stSidebarNav")
            # app.py's page titles, not the legacy mode's file names ("home", "live", "upload"…)
            expect(nav.get_by_text("Live webcam", exact=True)).to_be_visible(timeout=60_000)
            expect(nav.get_by_text("Evaluation", exact=True)).to_be_visible(timeout=30_000)
            # the shared sidebar ran (its first run on a fresh server also loads the model: give it time)
            expect(page.get_by_text("Model", exact=True).first).to_be_visible(timeout=60_000)
            assert page.url.rstrip("/").endswith("/upload")
        finally:
            browser.close()
