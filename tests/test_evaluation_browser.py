"""The Evaluation page's FER+ switch, vote bars and Robustness tab in headless Chromium, on real FER2013.

AppTest (tests/test_evaluation_ferplus_page.py) checks the numbers; here a real browser checks what a
person sees: each gallery face drawn with its vote bar under it, the switch to the FER+ majority, and
the Robustness tab's eight charts (computed on first opening, then cached). ``browser`` is conftest's
headless Chromium (its fake camera is unused here).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from serve.app_server import AppServerError, free_port, running_app
from ui.evaluation.report import GALLERY_PX
from ui.evaluation.vote_bar import BAR_PX

pytestmark = pytest.mark.browser

START_TIMEOUT_S = 120
ROBUSTNESS_TIMEOUT_S = 300  # 30 passes of 800 faces when the cache is cold, on two busy cores


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory, fer2013_dir: Path) -> Iterator[str]:
    if not (fer2013_dir / "ferplus.csv").is_file():
        pytest.skip("the image-folder copy with ferplus.csv is needed")
    log = tmp_path_factory.mktemp("eval") / "streamlit.log"
    env = {"FER_ICE_SERVERS": "", "FER2013_DIR": str(fer2013_dir)}
    try:
        with running_app(free_port(), log, timeout_s=START_TIMEOUT_S, env=env) as url:
            yield url
    except AppServerError as exc:
        pytest.fail(str(exc))


def test_votes_switch_and_robustness_tab(browser, app_url: str) -> None:  # noqa: ANN001
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    try:
        page.goto(f"{app_url}/evaluation", wait_until="domcontentloaded")
        page.get_by_text("Is it the model or the label?").first.wait_for(timeout=START_TIMEOUT_S * 1000)
        page.get_by_text("The label is disputed").first.wait_for(timeout=60_000)
        page.wait_for_function(  # the cell gallery and both halves of the mistakes gallery
            "[...document.querySelectorAll('[data-testid=\"stMain\"] img')].filter(e => e.complete).length > 40",
            timeout=60_000,
        )
        sizes = page.eval_on_selector_all(  # images still loading (naturalWidth 0 on a loaded machine) aside
            '[data-testid="stMain"] img',
            "els => els.filter(e => e.complete && e.naturalWidth > 0).map(e => [e.naturalWidth, e.naturalHeight])",
        )
        assert len(sizes) > 40, sizes
        assert all(s == [GALLERY_PX, GALLERY_PX + BAR_PX] for s in sizes), [
            s for s in sizes if s != [GALLERY_PX, GALLERY_PX + BAR_PX]
        ]  # every face has its vote bar

        page.get_by_role("radio", name="FER+ majority", exact=True).click()  # a segmented control
        page.get_by_text("Scored against the FER+ majority").first.wait_for(timeout=60_000)
        assert page.get_by_text("The label is disputed").count() == 0

        page.get_by_role("tab", name="Robustness", exact=True).click()
        page.get_by_text("Top-1 under degraded faces").first.wait_for(timeout=60_000)
        page.wait_for_function(
            "document.querySelectorAll('[data-testid=\"stMain\"] .js-plotly-plot').length >= 8",
            timeout=ROBUSTNESS_TIMEOUT_S * 1000,
        )
        titles = page.eval_on_selector_all(".js-plotly-plot .gtitle", "els => els.map(e => e.textContent)")
        assert any("Occlusion" in t for t in titles) and any("JPEG" in t for t in titles), titles
        assert page.get_by_text("Traceback").count() == 0
    finally:
        page.context.close()
