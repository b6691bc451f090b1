"""Issue 20's targets for the default detector (the second look), on a modest seeded sample of real
faces (not timings), beside issue 12's detector on the same faces.

Real face photos (``faces/real/``, the astronaut portrait) are pasted at known sizes onto face-free
backgrounds (scikit-image samples, noise, gradients) by :mod:`fer.bench.detection`, the same code the
benchmark table comes from; the real Haar cascades run. The
sample is seeded, so a result is reproducible; its size lets one miss in 34 faces pass the 97 % target.
Targets not met yet are strict xfails (they fail once met, so the marker goes); beside them, the
defaults must beat issue 12's on the same faces, so a regression fails plainly.
Bad input (issue 20): tiny, uniform, panorama and 24 MP arrays each get an answer in bounded time.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from fer.bench import detection as bench
from fer.bench.latency import ISSUE12_DETECTOR
from fer.detection.detector import find_faces
from fer.detection.haar import working_scale
from fer.detection.settings import DetectorSettings

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
    sources: list[bench.FaceSource],
    backgrounds: list[np.ndarray],
    width: int,
    height: int,
    side: int,
    per_photo: int,
    settings: DetectorSettings | None = None,
) -> tuple[float, int]:
    """(recall, false boxes) of ``settings`` on FACES faces ``side`` px wide in width x height photos."""
    settings = settings or DetectorSettings()
    rng = np.random.default_rng(SEED + side + width)
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


#: Issue 20's targets, as measured on this sample with today's defaults (docs/detection.md, "Face detection").
_UNMET = pytest.mark.xfail(strict=True, reason="issue 20 target not met yet: see the recall table in docs/detection.md")


@pytest.mark.parametrize(
    ("side", "target"),
    [pytest.param(40, 0.90, marks=_UNMET), pytest.param(48, 0.97, marks=_UNMET), pytest.param(64, 0.97)],
)
def test_webcam_sized_faces_meet_the_target(sources, backgrounds, side: int, target: float) -> None:
    recall, false = _recall(sources, backgrounds, 640, 480, side, per_photo=1)
    assert recall >= target, f"{side} px faces at 640x480: {recall:.0%} found (target {target:.0%})"
    assert false <= 1


@pytest.mark.parametrize(("side", "floor"), [(40, 0.75), (48, 0.85), (64, 0.85)])
def test_webcam_sized_faces_are_found_far_more_often_than_by_issue_12s_detector(
    sources, backgrounds, side: int, floor: float
) -> None:
    """Issue 12's detector found 5 % of 40 px and 38 % of 48 px faces in the table's run."""
    recall, false = _recall(sources, backgrounds, 640, 480, side, per_photo=1)
    before, _ = _recall(sources, backgrounds, 640, 480, side, per_photo=1, settings=ISSUE12_DETECTOR)
    assert recall >= floor and recall > before, f"{side} px: {recall:.0%} now, {before:.0%} before"
    assert false <= 2


@pytest.mark.slow
def test_faces_of_three_percent_in_a_24_mp_photo(sources, backgrounds) -> None:
    """Four 120 px faces (3 % of the short side) per 6000x4000 photo: better than issue 12's detector
    (59 % in the table's run); the 97 % target is not met yet (docs/detection.md)."""
    recall, false = _recall(sources, backgrounds, 6000, 4000, 120, per_photo=4)
    before, _ = _recall(sources, backgrounds, 6000, 4000, 120, per_photo=4, settings=ISSUE12_DETECTOR)
    assert recall >= 0.80 and recall > before, f"120 px faces in 24 MP photos: {recall:.0%} now, {before:.0%} before"
    assert false <= 2


@pytest.fixture(scope="module")
def face_free_boxes(backgrounds) -> list:
    """The default detector's boxes on 100 seeded face-free photos (computed once for both tests)."""
    return _face_free_boxes(backgrounds, DetectorSettings())


@_UNMET
def test_photos_without_faces_give_at_most_one_false_box_in_a_hundred(face_free_boxes) -> None:
    assert len(face_free_boxes) <= 1


def test_photos_without_faces_give_few_false_boxes(face_free_boxes) -> None:
    """At most 8 in 100 face-free photos (issue 12's detector, 56 px minimum: about 2)."""
    assert len(face_free_boxes) <= 8


def _face_free_boxes(backgrounds: list[np.ndarray], settings: DetectorSettings) -> list:
    rng = np.random.default_rng(SEED)
    sizes = ((640, 480), (1280, 720), (1024, 768))
    return [
        d.box
        for i in range(100)
        for d in find_faces(bench.background(*sizes[i % len(sizes)], rng, backgrounds), settings)
    ]


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
