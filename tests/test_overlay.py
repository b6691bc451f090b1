"""The face overlay: numbered left to right, every label inside the image, no two labels overlapping.

Real faces come from the real detector on tilings of the test portrait; crowded layouts that the
detector cannot produce reliably are built from hand-made boxes around real probabilities.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from support.images import FACE_CENTRE_REGION

from fer.faces import FaceResult, ordered
from fer.labels import CLASS_NAMES, EMOTION_COLORS_RGB
from fer.overlay import MIN_TEXT_PX, Annotation, annotate, draw_faces, label_text
from fer.pipeline import analyze


@pytest.fixture(scope="module")
def portrait(astronaut_path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(astronaut_path)), cv2.COLOR_BGR2RGB)


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> int:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if w > 0 and h > 0 else 0


def assert_readable(result: Annotation, n_faces: int) -> None:
    """One label per face, each inside the image, none overlapping another, text not below the minimum."""
    height, width = result.image.shape[:2]
    assert sorted(label.face for label in result.labels) == list(range(n_faces))
    for label in result.labels:
        x0, y0, x1, y1 = label.rect
        assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height, f"label {label.text!r} leaves the image"
        assert not label.overlaps
    for i, a in enumerate(result.labels):
        for b in result.labels[i + 1 :]:
            assert _overlap(a.rect, b.rect) == 0, f"{a.text!r} {a.rect} overlaps {b.text!r} {b.rect}"
    assert result.text_px >= MIN_TEXT_PX


def assert_faces_at(faces: list[FaceResult], offsets: list[tuple[int, int]]) -> None:
    """Face ``i`` is the portrait's face in the tile at ``offsets[i]``: its centre lies in the known face
    region of the portrait, shifted by that tile's position (the order comes from the tiling, not the code)."""
    assert len(faces) == len(offsets)
    x0, y0, x1, y1 = FACE_CENTRE_REGION
    for i, (face, (dx, dy)) in enumerate(zip(faces, offsets)):
        cx, cy = face.box[0] + face.box[2] / 2, face.box[1] + face.box[3] / 2
        assert x0 + dx <= cx <= x1 + dx and y0 + dy <= cy <= y1 + dy, f"face {i + 1} is not the tile at {dx, dy}"


def _face(box: tuple[int, int, int, int], label: str = "happy", confidence: float = 0.9) -> FaceResult:
    probs = np.full(len(CLASS_NAMES), (1 - confidence) / (len(CLASS_NAMES) - 1), np.float32)
    probs[CLASS_NAMES.index(label)] = confidence
    return FaceResult(box, probs, np.zeros((48, 48), np.uint8))


def test_four_faces_of_a_2x2_group_get_numbered_readable_labels(classifier, portrait) -> None:
    tiled = np.vstack([np.hstack([portrait, portrait])] * 2)
    side = portrait.shape[0]
    faces = analyze(tiled, classifier)
    # numbered left to right, top to bottom within a column: left column first
    assert_faces_at(faces, [(0, 0), (0, side), (side, 0), (side, side)])
    result = draw_faces(tiled, faces)
    assert_readable(result, 4)
    assert [label.text.split(":")[0] for label in result.labels] == ["1", "2", "3", "4"]
    # each label sits by its own face
    for label in result.labels:
        x, y, w, h = faces[label.face].box
        lx0, ly0, lx1, ly1 = label.rect
        assert lx0 < x + w and lx1 > x, "a label is horizontally beside its own box"
        assert abs((ly0 + ly1) / 2 - (y + h / 2)) < h, "and close to it vertically"


def test_six_faces_tightly_packed_in_a_row_do_not_share_label_space(classifier, portrait) -> None:
    crop = portrait[0:230, 120:340]  # the face with little around it
    row = np.hstack([crop] * 6)
    faces = analyze(row, classifier)
    assert_faces_at(faces, [(220 * i - 120, 0) for i in range(6)])  # numbers run left to right
    result = draw_faces(row, faces)
    assert_readable(result, 6)


def test_labels_wider_than_the_faces_alternate_instead_of_overlapping() -> None:
    # Eight 60-px faces side by side: every label is wider than a face, so they cannot all sit above.
    faces = [_face((10 + 62 * i, 120, 60, 60), "surprise", 0.99) for i in range(8)]
    image = np.full((300, 520, 3), 90, np.uint8)
    result = draw_faces(image, faces)
    assert_readable(result, 8)
    tops = {label.rect[1] for label in result.labels}
    assert len(tops) > 1, "labels moved to other rows to make room"


def test_a_label_near_the_border_stays_inside(portrait) -> None:
    faces = [_face((0, 0, 100, 100)), _face((412, 412, 100, 100), "sad")]
    assert_readable(draw_faces(portrait, faces), 2)


def test_text_scales_with_the_image(portrait) -> None:
    face = _face((200, 200, 100, 100))
    small = draw_faces(portrait, [face])
    big_image = cv2.resize(portrait, (2048, 2048))
    big = draw_faces(big_image, [_face((800, 800, 400, 400))])
    assert big.text_px >= 3 * small.text_px
    assert (big.labels[0].rect[3] - big.labels[0].rect[1]) >= 3 * (small.labels[0].rect[3] - small.labels[0].rect[1])


def test_a_48px_crop_is_enlarged_so_its_label_fits(portrait) -> None:
    crop = cv2.resize(portrait[30:200, 150:320], (48, 48))
    result = draw_faces(crop, [_face((0, 0, 48, 48), "fear", 0.5)])
    assert result.zoom > 1 and result.image.shape[0] == 48 * result.zoom
    assert_readable(result, 1)
    x0, _, x1, _ = result.labels[0].rect
    assert x1 - x0 < result.image.shape[1], "the whole label fits across the enlarged crop"


def test_one_face_gets_no_number_and_the_label_is_drawn_in_its_colour(portrait) -> None:
    face = _face((150, 150, 200, 200), "sad", 0.7)
    assert label_text(face, None) == "sad 70%"
    result = draw_faces(portrait, [face])
    assert result.labels[0].text == "sad 70%"
    x0, y0, x1, y1 = result.labels[0].rect
    patch = result.image[y0:y1, x0:x1].reshape(-1, 3)
    colour = np.array(EMOTION_COLORS_RGB["sad"])
    assert (np.abs(patch.astype(int) - colour).sum(axis=1) == 0).mean() > 0.5, "the label is filled with 'sad' blue"
    assert np.array_equal(annotate(portrait, [face]), result.image)


def test_left_to_right_treats_stacked_faces_as_one_column() -> None:
    top = _face((103, 10, 80, 80))
    bottom = _face((100, 200, 80, 80))
    right = _face((300, 100, 80, 80))
    assert ordered([right, bottom, top]) == [top, bottom, right]


def test_a_tracked_face_is_named_by_its_id_alone(portrait) -> None:
    """Webcam and video faces carry a track id: '#7: sad 70%', the name the tables and exports use, never
    a second, left-to-right number beside it (issue 29: '1: happy 81% #3'); photos keep their numbers."""
    from dataclasses import replace

    left, right = _face((20, 150, 150, 150), "happy", 0.9), _face((300, 150, 150, 150), "sad", 0.7)
    assert label_text(replace(right, track_id=7), 2) == "#7: sad 70%"
    tracked = [replace(left, track_id=3), replace(right, track_id=7)]
    assert [label.text for label in draw_faces(portrait, tracked).labels] == ["#3: happy 90%", "#7: sad 70%"]
    assert [label.text for label in draw_faces(portrait, tracked[1:]).labels] == ["#7: sad 70%"]
    assert [label.text for label in draw_faces(portrait, [left, right]).labels] == ["1: happy 90%", "2: sad 70%"]
