"""Shared fixtures: where the test data lives, and an isolated array cache for the tests that check caching.

Test data is found in one place, here:

* FER2013: ``$FER2013_DIR`` (a ``fer2013.csv`` or the image-folder root), else ``<repo>/../shared/fer2013``.
* A photo with a face: ``$FER_FACES_DIR/astronaut.png``, else ``<repo>/../shared/faces/astronaut.png``.

Missing data skips the tests that need it, except on CI (``CI=true``), where it fails them.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import settings as hypothesis_settings
from support import pages
from support.environment import REPO_ROOT, SHARED, missing, on_ci

from fer.locations import faces_dir

# CI runs the fuzz tests derandomised: the same examples every run, so a red CI is reproducible and
# never a fluke of one random draw. Locally they stay random (and keep finding new cases).
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if on_ci():
    hypothesis_settings.load_profile("ci")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def fer2013_dir() -> Path:
    """The FER2013 data: a ``fer2013.csv`` file or the image-folder root (train/, test/)."""
    env = os.environ.get("FER2013_DIR")
    path = Path(env).expanduser() if env else SHARED / "fer2013"
    if not path.exists():
        missing(
            f"FER2013 data ({path})",
            "set FER2013_DIR to a fer2013.csv or to the image-folder root holding train/ and test/ "
            "(Kaggle 'Challenges in Representation Learning: Facial Expression Recognition Challenge'), "
            "or place it at ../shared/fer2013 beside the repository",
        )
    return path


@pytest.fixture(scope="session")
def astronaut_path() -> Path:
    """A photo with one frontal face, for the face-detection and upload tests."""
    path = faces_dir() / "astronaut.png"
    if not path.is_file():
        missing(
            f"test photo {path}",
            "set FER_FACES_DIR to a folder holding astronaut.png (skimage.data.astronaut(), public domain), "
            "or place it at ../shared/faces/astronaut.png beside the repository",
        )
    return path


@pytest.fixture
def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point fer.data's array cache at an empty folder, for tests that check what gets cached.

    Other tests keep the user cache (``~/.cache/fer-dashboard``) so the full dataset decodes only once.
    """
    cache = tmp_path / "fer-cache"
    cache.mkdir()
    monkeypatch.setenv("FER_CACHE_DIR", str(cache))
    return cache


# ----------------------------------------------------------------------------- model fixtures
# Session-scoped fixtures that load the trained model (e.g. ``classifier``) go below this line.


@pytest.fixture(scope="session")
def model_stem(repo_root: Path) -> Path:
    """The served default model (``fer.registry.DEFAULT_MODEL``): committed, so a missing file fails, never skips."""
    from fer.registry import DEFAULT_MODEL

    stem = repo_root / "models" / DEFAULT_MODEL
    if not stem.with_suffix(".json").is_file():
        pytest.fail(f"the shipped model card {stem}.json is missing: `make train` writes it")
    return stem


@pytest.fixture(scope="session")
def classifier(model_stem: Path):  # noqa: ANN201 - fer.classifier.Classifier
    """The shipped classifier, loaded once for the whole test session (as the app shares it)."""
    from fer.classifier import Classifier

    return Classifier.load(model_stem)


@pytest.fixture(scope="session")
def public_test(fer2013_dir: Path):  # noqa: ANN201 - fer.data.SplitData
    """The real PublicTest split (decoded once, then from the user cache)."""
    from fer.data import load_split

    return load_split(fer2013_dir, "PublicTest")


# ----------------------------------------------------------------------------- browser fixtures
@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium and the playwright package; required on CI, a skip elsewhere."""
    import shutil

    from serve.app_server import chromium_path

    path = shutil.which(chromium_path()) or chromium_path()
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        missing(
            f"Chromium ({path})",
            "`apt-get install chromium` (or set CHROMIUM_PATH); the browser tests never download Playwright's own",
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing("the playwright Python package", "pip install -r requirements-dev.txt")
    return path


@pytest.fixture(scope="module")
def fake_camera(tmp_path_factory: pytest.TempPathFactory, astronaut_path: Path) -> Path:
    """The browser tests' camera: the test portrait moving slowly, 4 s at 30 frames/s, as a looping y4m."""
    from serve.fakecam import make_fake_webcam

    return make_fake_webcam(astronaut_path, tmp_path_factory.mktemp("fakecam") / "portrait.y4m", seconds=4, fps=30)


def _has_non_localhost_ipv4() -> bool:
    """True when some interface has an IPv4 address aioice will offer (anything but 127.0.0.1)."""
    try:
        out = subprocess.run(["ip", "-4", "-o", "addr", "show"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return True  # cannot tell: assume a normal machine
    addresses = re.findall(r"inet (\d+\.\d+\.\d+\.\d+)", out)
    return any(a != "127.0.0.1" for a in addresses)


@pytest.fixture(scope="module")
def loopback_candidate() -> None:
    """WebRTC needs a host candidate other than 127.0.0.1 (aioice never offers it). The host setup is
    not the test's business: `.ci/run` and `make test` add 127.0.0.2 to lo; here a missing one is named."""
    if not _has_non_localhost_ipv4():
        missing(
            "an IPv4 address but 127.0.0.1 (aioice offers none)",
            "run `ip addr add 127.0.0.2/8 dev lo` as root (`.ci/run` does; so does `make test` when it can)",
        )


@pytest.fixture(scope="module")
def browser(chromium: str, fake_camera: Path):
    """Headless Chromium whose camera plays ``fake_camera`` (one per test module)."""
    from playwright.sync_api import sync_playwright

    from serve.live_browser import launch_chromium

    with sync_playwright() as p:
        browser = launch_chromium(p, chromium, fake_camera)  # a fresh temporary profile every launch
        try:
            yield browser
        finally:
            browser.close()


# ----------------------------------------------------------------------------- video clips
@pytest.fixture(scope="session")
def video_faces(astronaut_path: Path, public_test):  # noqa: ANN201 - videoclips.Faces
    """The two faces of the video scenes: the portrait and a real FER2013 face (support/videoclips.py)."""
    from support.videoclips import load_faces

    return load_faces(astronaut_path, public_test.images)


@pytest.fixture(scope="session")
def two_faces_clip(video_faces) -> bytes:
    """The two-face MP4 of support/videoclips.py (one face leaves and comes back, three frames without one)."""
    from support.videoclips import TWO_FACES_FPS, clip_bytes, two_faces_frames

    return clip_bytes(two_faces_frames(video_faces), TWO_FACES_FPS)


@pytest.fixture(scope="module")
def nginx() -> str:
    """Debian's nginx for the replica tests (CI fails without it; elsewhere they skip)."""
    from serve.replicas import nginx_path

    path = nginx_path()
    if path is None:
        missing("nginx", "`apt-get install nginx` (Debian), or set NGINX to the binary")
    return path


# ----------------------------------------------------------------------------- photos for the page tests
@pytest.fixture(scope="module")
def portrait(astronaut_path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(astronaut_path)), cv2.COLOR_BGR2RGB)


@pytest.fixture(scope="module")
def photos(astronaut_path: Path, portrait: np.ndarray) -> list[tuple[str, bytes]]:
    """A portrait, a two-person photo, a photo without a face and a broken file."""
    pair = np.hstack([portrait, cv2.flip(portrait, 1)])
    return [
        ("astronaut.png", astronaut_path.read_bytes()),
        ("pair.png", pages.png(pair)),
        ("wall.png", pages.png(np.full((300, 400, 3), 180, np.uint8))),
        ("broken.jpg", b"definitely not a jpeg"),
    ]
