"""fer.detection.detector with the real OpenCV Haar cascade on a real portrait (no mocks)."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from support.images import FACE_CENTRE_REGION

from fer.detection import detector as detection
from fer.detection.detector import crop_face, detect_faces, frame_box, iou
from fer.detection.settings import Box, DetectorSettings
from fer.imageio import ImageDecodeError


@pytest.fixture(scope="module")
def portrait(astronaut_path: Path) -> np.ndarray:
    return np.asarray(Image.open(astronaut_path).convert("RGB"))


def _centre(box: Box) -> tuple[float, float]:
    return box[0] + box[2] / 2, box[1] + box[3] / 2


def _in_face_region(box: Box, dx: float = 0, dy: float = 0, sx: float = 1, sy: float = 1) -> bool:
    """Centre inside the face region, after the region is scaled by (sx, sy) and shifted by (dx, dy)."""
    cx, cy = _centre(box)
    x0, y0, x1, y1 = FACE_CENTRE_REGION
    return x0 * sx + dx <= cx <= x1 * sx + dx and y0 * sy + dy <= cy <= y1 * sy + dy


def _assert_well_formed(boxes: list[Box], shape: tuple[int, ...]) -> None:
    """Square, inside the image, integer, largest first."""
    height, width = shape[:2]
    for x, y, w, h in boxes:
        assert all(isinstance(v, int) for v in (x, y, w, h))
        assert w == h > 0
        assert 0 <= x and 0 <= y and x + w <= width and y + h <= height
    sides = [b[2] for b in boxes]
    assert sides == sorted(sides, reverse=True)


def test_portrait_has_exactly_one_face_where_the_face_is(portrait: np.ndarray) -> None:
    boxes = detect_faces(portrait)
    assert len(boxes) == 1
    assert _in_face_region(boxes[0])
    margin = DetectorSettings().margin
    assert 70 * (1 + 2 * margin) <= boxes[0][2] <= 130 * (1 + 2 * margin)  # the face is ~100 px, plus the margins
    _assert_well_formed(boxes, portrait.shape)


def test_two_by_two_tiling_has_four_faces_one_per_quadrant(portrait: np.ndarray) -> None:
    tiled = np.tile(portrait, (2, 2, 1))
    boxes = detect_faces(tiled)
    assert len(boxes) == 4
    quadrants = {(int(_centre(b)[0] // 512), int(_centre(b)[1] // 512)) for b in boxes}
    assert quadrants == {(0, 0), (0, 1), (1, 0), (1, 1)}
    for box in boxes:
        qx, qy = (int(c // 512) for c in _centre(box))
        assert _in_face_region(box, dx=512 * qx, dy=512 * qy)
    _assert_well_formed(boxes, tiled.shape)


def test_mirrored_portrait_face_is_mirrored(portrait: np.ndarray) -> None:
    boxes = detect_faces(np.ascontiguousarray(portrait[:, ::-1]))
    assert len(boxes) == 1
    x, y, w, h = boxes[0]
    assert _in_face_region((512 - x - w, y, w, h))


def test_downscaled_detection_of_a_large_frame_maps_boxes_back(portrait: np.ndarray) -> None:
    big = cv2.resize(portrait, (1280, 960), interpolation=cv2.INTER_LINEAR)
    boxes = detect_faces(big)  # scanned on a smaller working copy, boxes mapped back
    assert len(boxes) == 1
    assert _in_face_region(boxes[0], sx=1280 / 512, sy=960 / 512)
    _assert_well_formed(boxes, big.shape)


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((480, 640, 3), np.uint8),
        np.full((480, 640, 3), 255, np.uint8),
        np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8),
        np.random.default_rng(1).integers(0, 256, (300, 300), dtype=np.uint8),
    ],
    ids=["black", "white", "rgb-noise", "gray-noise"],
)
def test_no_faces_in_blank_or_noise(image: np.ndarray) -> None:
    assert detect_faces(image) == []


@pytest.mark.parametrize(
    "convert",
    [
        lambda im: cv2.cvtColor(im, cv2.COLOR_RGB2GRAY),
        lambda im: cv2.cvtColor(im, cv2.COLOR_RGB2GRAY)[:, :, None],
        lambda im: np.dstack([im, np.full(im.shape[:2], 255, np.uint8)]),
        lambda im: np.ascontiguousarray(im[:, :, ::-1]),  # BGR: cannot be told apart, read as RGB
        lambda im: im.astype(np.float32) / 255.0,
        lambda im: im.astype(np.uint16) * 257,
    ],
    ids=["gray", "gray-hw1", "rgba", "bgr", "float01", "uint16"],
)
def test_other_layouts_find_the_same_face(portrait: np.ndarray, convert) -> None:
    image = convert(portrait)
    boxes = detect_faces(image)
    assert len(boxes) == 1
    assert _in_face_region(boxes[0])
    _assert_well_formed(boxes, image.shape)


@pytest.mark.parametrize("shape", [(1, 1), (8, 8), (1, 1, 3), (8, 8, 3), (8, 8, 4), (23, 500, 3), (500, 2, 3)])
def test_tiny_images_give_no_faces_without_error(shape: tuple[int, ...]) -> None:
    assert detect_faces(np.full(shape, 128, np.uint8)) == []


@pytest.mark.parametrize("shape", [(0, 0), (0, 10, 3), (10, 10, 2), (4, 4, 4, 4), (10,)])
def test_unusable_arrays_raise_image_decode_error(shape: tuple[int, ...]) -> None:
    with pytest.raises(ImageDecodeError):
        detect_faces(np.zeros(shape, np.uint8))


def test_faces_of_different_sizes_are_sorted_largest_first(portrait: np.ndarray) -> None:
    small = cv2.resize(portrait, (360, 360), interpolation=cv2.INTER_AREA)  # a ~70 px face, above the 56 px minimum
    canvas = np.full((512, 872, 3), 200, np.uint8)
    canvas[:, 360:872] = portrait
    canvas[76:436, :360] = small
    boxes = detect_faces(canvas)
    assert len(boxes) == 2
    assert boxes[0][2] > 1.2 * boxes[1][2]
    assert _centre(boxes[0])[0] > 360 > _centre(boxes[1])[0]
    _assert_well_formed(boxes, canvas.shape)


def test_face_at_the_border_keeps_a_square_box_inside(portrait: np.ndarray) -> None:
    cut = np.ascontiguousarray(portrait[40:300, 150:420])  # face close to the top/left edges
    boxes = detect_faces(cut, DetectorSettings(margin=0.5))
    assert len(boxes) == 1
    _assert_well_formed(boxes, cut.shape)


def test_crop_face_is_48x48_uint8_gray(portrait: np.ndarray) -> None:
    box = detect_faces(portrait)[0]
    crop = crop_face(portrait, box)
    assert crop.shape == (48, 48) and crop.dtype == np.uint8
    gray = cv2.cvtColor(portrait, cv2.COLOR_RGB2GRAY)
    x, y, w, h = box
    expected = cv2.resize(gray[y : y + h, x : x + w], (48, 48), interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(crop, expected)


def test_crop_face_enlarges_small_boxes_and_pads_outside_parts(portrait: np.ndarray) -> None:
    small = crop_face(portrait, (200, 90, 30, 30))  # enlarged with INTER_LINEAR
    assert small.shape == (48, 48) and small.dtype == np.uint8
    outside = crop_face(portrait, (-50, -50, 120, 120), size=64)  # replicates the border, no stretch
    assert outside.shape == (64, 64)
    with pytest.raises(ValueError):
        crop_face(portrait, (600, 600, 10, 10))


def test_frame_box_squares_expands_and_clips() -> None:
    assert frame_box((100, 100, 50, 50), (480, 640), 0.0) == (100, 100, 50, 50)
    assert frame_box((100, 100, 50, 50), (480, 640), 0.1) == (95, 95, 60, 60)
    assert frame_box((100, 100, 40, 60), (480, 640), 0.0) == (90, 100, 60, 60)  # squared on the centre
    assert frame_box((0, 0, 50, 50), (480, 640), 0.2) == (0, 0, 70, 70)  # shifted inside, not shrunk
    assert frame_box((600, 440, 40, 40), (480, 640), 0.25) == (580, 420, 60, 60)
    assert frame_box((0, 0, 400, 400), (300, 640), 0.0) == (50, 0, 300, 300)  # shrunk only when too big, centred


def test_iou() -> None:
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (20, 20, 10, 10)) == 0.0
    assert iou((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(50 / 150)
    assert iou((0, 0, 0, 0), (0, 0, 0, 0)) == 0.0


def test_near_duplicate_boxes_are_merged_and_ordered_largest_first() -> None:
    boxes = [(300, 300, 50, 50), (5, 5, 96, 96), (0, 0, 100, 100)]
    assert detection.order_boxes(boxes) == [(0, 0, 100, 100), (300, 300, 50, 50)]


def test_invalid_settings_are_rejected() -> None:
    with pytest.raises(ValueError):
        DetectorSettings(scale_factor=1.0)
    with pytest.raises(ValueError):
        DetectorSettings(min_neighbors=-1)
    with pytest.raises(ValueError):
        DetectorSettings(margin=-0.6)
    with pytest.raises(ValueError):
        DetectorSettings(min_face_fraction=1.0)


def test_concurrent_detection_uses_one_cascade_per_thread(portrait: np.ndarray) -> None:
    expected = detect_faces(portrait)
    results: list[list[Box]] = []
    cascades: set[int] = set()

    def work() -> None:
        results.append(detect_faces(portrait))
        cascades.add(id(detection._cascade()))

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected] * 3
    assert len(cascades) == 3
