"""Pages through Streamlit's AppTest: open the app at a page, switch pages, read what the page says,
drop files on the Upload page."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from streamlit.testing.v1 import AppTest

import ui.common

#: Seconds one script run may take: the first run loads the model, an evaluation may predict 3,589 faces.
RUN_TIMEOUT = 300
HOME, UPLOAD, EVALUATION, VIDEO = "pages/home.py", "pages/upload.py", "pages/evaluation.py", "pages/video.py"


def open_page(repo_root: Path, page: str) -> AppTest:
    """Run the app, switch to ``page`` and run it; every page must render without an exception."""
    ui.common._load_classifier.clear()  # another test module may have cached a broken model
    at = AppTest.from_file(str(repo_root / "app.py"), default_timeout=RUN_TIMEOUT).run()
    assert not at.exception, at.exception
    if page != HOME:
        at.switch_page(page).run()
        assert not at.exception, at.exception
    return at


def go(at: AppTest, page: str) -> AppTest:
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    """All markdown, captions, headings and alerts of the last run, one string to search in."""
    kinds = ("markdown", "caption", "subheader", "title", "info", "warning", "error", "success")
    return "\n".join(str(el.value) for kind in kinds for el in getattr(at, kind))


def png(rgb: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert ok
    return buf.tobytes()


def upload(at: AppTest, files: list[tuple[str, bytes]]) -> AppTest:
    """Drop files on the Upload page's uploader (a new, empty one after every upload)."""
    at.file_uploader[0].set_value([(n, d, "application/octet-stream") for n, d in files]).run()
    assert not at.exception, at.exception
    return at


def photo_key(at: AppTest, name: str) -> str:
    """The session store's key of an uploaded file (what the "Details for" selector holds)."""
    return next(k for k in at.session_state["_session_photos"] if k.endswith(f":{name}"))


def detail_names(at: AppTest) -> list[str]:
    """File names of the photos whose details are shown (their bordered boxes' subheaders)."""
    shown = [s.value for s in at.subheader]
    return [s for s in shown if not s.endswith(" photos") and s != "Download all results"]
