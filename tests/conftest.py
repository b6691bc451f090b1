"""Shared fixtures: where the test data lives, and an isolated array cache for the tests that check caching.

Test data is found in one place, here:

* FER2013: ``$FER2013_DIR`` (a ``fer2013.csv`` or the image-folder root), else ``<repo>/../shared/fer2013``.
* A photo with a face: ``$FER_FACES_DIR/astronaut.png``, else ``<repo>/../shared/faces/astronaut.png``.

Missing data skips the tests that need it, except on CI (``CI=true``), where it fails them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared"


def _on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


# CI runs the fuzz tests derandomised: the same examples every run, so a red CI is reproducible and
# never a fluke of one random draw. Locally they stay random (and keep finding new cases).
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if _on_ci():
    hypothesis_settings.load_profile("ci")


def _missing(what: str, how: str) -> None:
    """Fail on CI (the data must be there), skip elsewhere with instructions."""
    if _on_ci():
        pytest.fail(f"{what} not found on CI: {how}", pytrace=False)
    pytest.skip(f"{what} not found: {how}")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def fer2013_dir() -> Path:
    """The FER2013 data: a ``fer2013.csv`` file or the image-folder root (train/, test/)."""
    env = os.environ.get("FER2013_DIR")
    path = Path(env).expanduser() if env else SHARED / "fer2013"
    if not path.exists():
        _missing(
            f"FER2013 data ({path})",
            "set FER2013_DIR to a fer2013.csv or to the image-folder root holding train/ and test/ "
            "(Kaggle 'Challenges in Representation Learning: Facial Expression Recognition Challenge'), "
            "or place it at ../shared/fer2013 beside the repository",
        )
    return path


@pytest.fixture(scope="session")
def astronaut_path() -> Path:
    """A photo with one frontal face, for the face-detection and upload tests."""
    env = os.environ.get("FER_FACES_DIR")
    path = (Path(env).expanduser() if env else SHARED / "faces") / "astronaut.png"
    if not path.is_file():
        _missing(
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
    """The served default model (``models/fer_cnn_v2``): committed, so a missing file is a failure, not a skip."""
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
def free_port() -> int:
    """A TCP port nobody listens on right now (for one test server)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium and the playwright package; required on CI, a skip elsewhere."""
    import shutil

    from scripts.app_server import chromium_path

    path = shutil.which(chromium_path()) or chromium_path()
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        _missing(
            f"Chromium ({path})",
            "`apt-get install chromium` (or set CHROMIUM_PATH); the browser tests never download Playwright's own",
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing("the playwright Python package", "pip install -r requirements-dev.txt")
    return path


# ----------------------------------------------------------------------------- video clips
@pytest.fixture(scope="session")
def video_faces(astronaut_path: Path, public_test):  # noqa: ANN201 - videoclips.Faces
    """The two faces of the synthetic video scenes: the portrait and a real FER2013 face (tests/videoclips.py)."""
    from videoclips import load_faces

    return load_faces(astronaut_path, public_test.images)


@pytest.fixture(scope="session")
def two_faces_clip(video_faces) -> bytes:
    """The two-face MP4 of tests/videoclips.py (one face leaves and comes back, three frames without a face)."""
    from videoclips import TWO_FACES_FPS, clip_bytes, two_faces_frames

    return clip_bytes(two_faces_frames(video_faces), TWO_FACES_FPS)
