"""One shared classifier, eight threads, 320 frames: the full pipeline gives the sequential results.

The app shares one :class:`fer.classifier.Classifier` between every browser session and webcam thread,
so ``analyze`` (detection, cropping, classification) must be thread-safe. Frames are variants of the
test portrait generated in memory (160-240 px, shifted, brighter or darker); every fourth one also goes
through ``decode_image`` as a JPEG, the upload path. tests/test_classifier.py checks the classifier
alone; this checks everything a page or webcam callback runs.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from support.images import encode

from fer.faces import FaceResult
from fer.imageio import decode_image
from fer.pipeline import analyze

pytestmark = pytest.mark.slow  # ~5 s alone on 2 cores

FRAMES = 320  # 40 per thread: enough overlapping calls to catch shared state (2,000 proved nothing more)
THREADS = 8


@pytest.fixture(scope="module")
def head(astronaut_path: Path) -> np.ndarray:
    """The portrait's upper part (320x320, face ~100 px): at 160-240 px its face stays above min_size."""
    return np.asarray(Image.open(astronaut_path).convert("RGB"))[0:320, 60:380].copy()


def frame(head: np.ndarray, index: int) -> np.ndarray:
    """Frame ``index``: deterministic size, shift and brightness; JPEG-decoded for every fourth one."""
    rng = np.random.default_rng(index)
    side = int(rng.integers(160, 241))
    dx, dy = (int(v) for v in rng.integers(-side // 8, side // 8 + 1, 2))
    gain = float(rng.uniform(0.6, 1.4))
    small = cv2.resize(head, (side, side), interpolation=cv2.INTER_AREA)
    moved = cv2.warpAffine(small, np.float32([[1, 0, dx], [0, 1, dy]]), (side, side), borderMode=cv2.BORDER_REPLICATE)
    image = cv2.convertScaleAbs(moved, alpha=gain)
    if index % 4 == 0:
        return decode_image(encode(Image.fromarray(image), "JPEG", quality=85), f"frame{index}.jpg")
    return image


def run(head: np.ndarray, classifier, indices: range | list[int]) -> list[list[FaceResult]]:
    return [analyze(frame(head, i), classifier) for i in indices]


def test_eight_threads_sharing_one_classifier_match_a_sequential_run(head: np.ndarray, classifier) -> None:
    sequential = run(head, classifier, range(FRAMES))
    barrier = threading.Barrier(THREADS)

    def work(worker: int) -> list[list[FaceResult]]:
        barrier.wait()  # all threads start together, so their calls really overlap
        return run(head, classifier, list(range(worker, FRAMES, THREADS)))

    with ThreadPoolExecutor(THREADS) as pool:
        per_worker = list(pool.map(work, range(THREADS)))
    threaded: list[list[FaceResult]] = [[] for _ in range(FRAMES)]
    for worker, results in enumerate(per_worker):
        threaded[worker::THREADS] = results

    with_faces = sum(1 for faces in sequential if faces)
    assert with_faces >= 0.9 * FRAMES, f"only {with_faces} frames had a face: the comparison would prove little"
    for index, (expected, got) in enumerate(zip(sequential, threaded)):
        assert [f.box for f in got] == [f.box for f in expected], f"frame {index}: boxes differ"
        for a, b in zip(got, expected):
            np.testing.assert_array_equal(a.crop, b.crop, err_msg=f"frame {index}: crops differ")
            np.testing.assert_array_equal(a.probs, b.probs, err_msg=f"frame {index}: probabilities differ")
