"""When can a browser use the camera on the Live page, and what does the page say when it cannot?

The rule (W3C Secure Contexts) and the decision are plain functions; the browser side (the probe
component reporting ``isSecureContext``, cameras and permission) is exercised in Chromium by
``tests/test_camera_browser.py``.
"""

from __future__ import annotations

import pytest

from ui.live.camera import BrowserCamera, camera_problem, is_secure_origin


@pytest.mark.parametrize(
    ("url", "secure"),
    [
        ("http://localhost:8501/live", True),
        ("http://app.localhost:8501", True),
        ("http://127.0.0.1:8501", True),
        ("http://127.0.0.2:8501", True),  # all of 127.0.0.0/8 is loopback (Chromium agrees: see the browser test)
        ("http://[::1]:8501/", True),
        ("https://192.168.1.20:8501", True),
        ("http://192.168.1.20:8501/live", False),  # Streamlit's "Network URL"
        ("http://10.0.0.5:8501", False),
        ("http://my-laptop.local:8501", False),
        ("http://localhost.example.com:8501", False),
        ("http://[fe80::1]:8501", False),
        (None, None),
        ("", None),
    ],
)
def test_secure_origin_rule(url: str | None, secure: bool | None) -> None:
    assert is_secure_origin(url) is secure


def test_network_url_gets_plain_words_and_the_https_way_out() -> None:
    problem = camera_problem(None, "http://192.168.1.20:8501/live")
    assert problem is not None and problem.kind == "insecure" and problem.blocks_streaming
    text = problem.title + problem.advice
    assert "http://192.168.1.20:8501" in text
    assert "make run-https" in text and "https://192.168.1.20:8501" in text
    assert "http://localhost:8501" in text
    assert "navigator" not in text and "mediaDevices" not in text  # no developer jargon


def test_the_browsers_own_answer_wins_over_the_url() -> None:
    # behind an HTTPS proxy the server may see http://, but the browser knows it is secure
    ok = BrowserCamera(secure=True, media_api=True, cameras=1, permission="granted")
    assert camera_problem(ok, "http://192.168.1.20:8501") is None
    insecure = BrowserCamera(secure=False, media_api=False, cameras=None, permission="denied")
    assert camera_problem(insecure, "http://localhost:8501").kind == "insecure"


@pytest.mark.parametrize(
    ("browser", "kind", "blocks"),
    [
        (BrowserCamera(secure=True, media_api=True, cameras=0, permission="prompt"), "no_camera", False),
        (BrowserCamera(secure=True, media_api=True, cameras=1, permission="denied"), "denied", False),
        (BrowserCamera(secure=True, media_api=False, cameras=None), "no_api", True),
        (BrowserCamera(secure=True, media_api=True, cameras=None, permission="unknown"), None, None),
        (BrowserCamera(secure=True, media_api=True, cameras=2, permission="prompt"), None, None),
    ],
)
def test_no_camera_and_denied_permission_get_friendly_messages(
    browser: BrowserCamera, kind: str | None, blocks: bool | None
) -> None:
    problem = camera_problem(browser, "http://localhost:8501")
    if kind is None:
        assert problem is None
        return
    assert problem.kind == kind and problem.blocks_streaming is blocks
    assert "Error" not in problem.title + problem.advice  # not "NotFoundError: Requested device not found"
    assert "Upload" in problem.advice  # and a way to go on without a camera


def test_probe_state_parsing_tolerates_missing_and_malformed_values() -> None:
    assert BrowserCamera.from_state(None) is None
    assert BrowserCamera.from_state("garbage") is None
    parsed = BrowserCamera.from_state({"secure": True, "media": True, "cameras": 2, "permission": "granted"})
    assert parsed == BrowserCamera(secure=True, media_api=True, cameras=2, permission="granted")
    partial = BrowserCamera.from_state({"secure": False})
    assert partial.secure is False and partial.cameras is None and partial.permission == "unknown"
