"""Issue 20's targets with default settings, on a modest seeded sample of real faces (not timings).

Real face photos (``faces/real/``, the astronaut portrait) are pasted at known sizes onto face-free
backgrounds (scikit-image samples, noise, gradients) by :mod:`fer.detection_bench`, the same code the
benchmark table comes from; the real Haar cascades run with :class:`DetectorSettings` defaults. The
sample is seeded, so a result is reproducible; its size lets one miss in 34 faces pass the 97 % target.
Bad input (issue 20): tiny, uniform, panorama and 24 MP arrays each get an answer in bounded time.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from fer import detection_bench as bench
from fer.detection import DetectorSettings, find_faces, working_scale

pytest.importorskip("skimage.data", reason="scikit-image (requirements-dev.txt) ships the backgrounds")

SEED = 2020
#: Faces per (frame, size) case: 34 lets one miss pass >= 97 % and three pass >= 90 %.
FACES = 34


@pytest.fixture(scope="module")
def sources(astronaut_path: Path) -> list[bench.FaceSource]:
    found = bench.face_sources(astronaut_path.parent, None, n_real=40, n_fer=0, seed=SEED)
    assert sum(s.kind == "real" for s in found) >= 30, "too few real face photos with a reference box"
    return found


@pytest.fixture(scope="module")
def backgrounds() -> list[np.ndarray]:
    return bench.backgrounds()


def _recall(
    sources: list[bench.FaceSource], backgrounds: list[np.ndarray], width: int, height: int, side: int, per_photo: int
) -> tuple[float, int]:
    """(recall, false boxes) of the default detector on FACES faces ``side`` px wide in width x height photos."""
    rng = np.random.default_rng(SEED + side + width)
    settings = DetectorSettings()
    found = faces = false = 0
    while faces < FACES:
        canvas = bench.background(width, height, rng, backgrounds)
        truths = []
        for i in range(min(per_photo, FACES - faces)):
            cw = width / per_photo
            cx = rng.uniform(i * cw + 0.8 * side, (i + 1) * cw - 0.8 * side)
            cy = rng.uniform(0.8 * side, height - 0.8 * side)
            truths.append(bench.paste_face(canvas, sources[rng.integers(len(sources))], side, cx, cy, rng))
        hit, wrong = bench.score([d.box for d in find_faces(canvas, settings)], truths, settings.margin)
        found, faces, false = found + hit, faces + len(truths), false + wrong
    return found / faces, false


@pytest.mark.parametrize(("side", "target"), [(40, 0.90), (48, 0.97), (64, 0.97)])
def test_webcam_sized_faces_are_found(sources, backgrounds, side: int, target: float) -> None:
    recall, false = _recall(sources, backgrounds, 640, 480, side, per_photo=1)
    assert recall >= target, f"{side} px faces at 640x480: {recall:.0%} found (target {target:.0%})"
    assert false <= 1


@pytest.mark.slow
def test_faces_of_three_percent_are_found_in_a_24_mp_photo(sources, backgrounds) -> None:
    """Four 120 px faces (3 % of the short side) per 6000x4000 photo, one per column quarter."""
    recall, false = _recall(sources, backgrounds, 6000, 4000, 120, per_photo=4)
    assert recall >= 0.97, f"120 px faces in 24 MP photos: {recall:.0%} found"
    assert false <= 1


def test_photos_without_faces_give_at_most_one_false_box_in_a_hundred(backgrounds) -> None:
    rng = np.random.default_rng(SEED)
    sizes = ((640, 480), (1280, 720), (1024, 768))
    boxes = [
        d.box
        for i in range(100)
        for d in find_faces(bench.background(*sizes[i % len(sizes)], rng, backgrounds), DetectorSettings())
    ]
    assert len(boxes) <= 1, boxes


@pytest.mark.parametrize(
    "shape",
    [(1, 1, 3), (8, 8, 3), (1000, 30000, 3), (4000, 6000, 3)],
    ids=["1x1", "8x8", "panorama-30000x1000", "uniform-24MP"],
)
def test_bad_input_gets_an_answer_in_bounded_time(shape: tuple[int, int, int]) -> None:
    """No faces, no error, and no scan larger than a normal photo's (bounded working copy)."""
    image = np.full(shape, 127, np.uint8)
    start = time.perf_counter()
    assert find_faces(image, DetectorSettings()) == []
    assert time.perf_counter() - start < 30  # a generous bound on a loaded machine: catches unbounded tiling
    height, width = shape[:2]
    assert working_scale(width, height, DetectorSettings()) ** 2 * width * height <= DetectorSettings().max_scan_pixels


def test_a_face_in_a_30000_px_panorama_is_found(sources, backgrounds) -> None:
    """The scan is bounded by its area, not its long side, so a panorama's faces stay large enough."""
    rng = np.random.default_rng(SEED)
    canvas = bench.background(30000, 1000, rng, backgrounds)
    truth = bench.paste_face(canvas, sources[0], 200, 15000, 500, rng)
    found, false = bench.score([d.box for d in find_faces(canvas, DetectorSettings())], [truth], 0.10)
    assert (found, false) == (1, 0)
