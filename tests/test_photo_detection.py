"""Detection that scales with the photo, and the tight-crop fallback: real cascade, real images (issue 12).

The portrait is the real astronaut photo; the photos without faces are scikit-image's bundled samples;
the tight crops are real FER2013 faces. Expected labels come from the model on the plain portrait,
never hard-coded.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from support.images import FACE_CENTRE_REGION

from fer.detection.detector import Detection, detect, find_faces, looks_like_face_crop, suppress_overlaps
from fer.detection.haar import cascade_window, working_scale
from fer.detection.settings import DetectorSettings
from fer.faces import FaceResult, mood, mood_weights, voters
from fer.pipeline import analyze

skimage_data = pytest.importorskip("skimage.data", reason="scikit-image (requirements-dev.txt) ships the samples")


@pytest.fixture(scope="module")
def portrait(astronaut_path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(astronaut_path)), cv2.COLOR_BGR2RGB)


@pytest.fixture(scope="module")
def portrait_label(classifier, portrait: np.ndarray) -> str:
    faces = analyze(portrait, classifier)
    assert len(faces) == 1
    return faces[0].label


def _place(portrait: np.ndarray, width: int, height: int, side: int, x: int, y: int) -> np.ndarray:
    """The portrait scaled to ``side`` px at (x, y) on a grey ``width`` x ``height`` canvas."""
    canvas = np.full((height, width, 3), 110, np.uint8)
    canvas[y : y + side, x : x + side] = cv2.resize(portrait, (side, side), interpolation=cv2.INTER_CUBIC)
    return canvas


def _in_face(box: tuple[int, int, int, int], side: int, x: int, y: int) -> bool:
    cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
    s = side / 512
    x0, y0, x1, y1 = FACE_CENTRE_REGION
    return x + x0 * s <= cx <= x + x1 * s and y + y0 * s <= cy <= y + y1 * s


@pytest.mark.parametrize(
    ("width", "height", "side", "x", "y"),
    [(4000, 3000, 3000, 500, 0), (4000, 3000, 512, 2900, 2300), (7000, 7000, 7000, 0, 0), (1600, 1200, 512, 37, 611)],
    ids=["3000-on-4000x3000", "512-on-4000x3000", "7000x7000", "shifted-1600x1200"],
)
def test_scaled_and_shifted_portrait_has_exactly_one_face(
    classifier, portrait: np.ndarray, portrait_label: str, width: int, height: int, side: int, x: int, y: int
) -> None:
    photo = _place(portrait, width, height, side, x, y)
    faces = analyze(photo, classifier)
    assert len(faces) == 1, [f.box for f in faces]
    assert faces[0].label == portrait_label and faces[0].source == "detector"
    assert _in_face(faces[0].box, side, x, y), "the box is in the original photo's pixels, on the face"
    assert faces[0].box[2] > 0.15 * side  # the face, not a texture patch


@pytest.mark.parametrize("angle", [-15, 15])
def test_rotated_portrait_has_exactly_one_face(classifier, portrait: np.ndarray, portrait_label: str, angle) -> None:
    m = cv2.getRotationMatrix2D((256, 256), angle, 1.0)
    rotated = cv2.warpAffine(portrait, m, (512, 512), borderMode=cv2.BORDER_REFLECT)
    faces = analyze(rotated, classifier)
    assert len(faces) == 1 and faces[0].label == portrait_label


def test_six_by_five_tiling_has_exactly_thirty_faces(portrait: np.ndarray) -> None:
    tiled = np.tile(portrait, (5, 6, 1))
    boxes = [d.box for d in detect(tiled)]
    assert len(boxes) == 30
    cells = {(int((b[0] + b[2] / 2) // 512), int((b[1] + b[3] / 2) // 512)) for b in boxes}
    assert len(cells) == 30  # one per tile
    for box in boxes:
        qx, qy = (int((box[i] + box[i + 2] / 2) // 512) for i in (0, 1))
        assert _in_face(box, 512, 512 * qx, 512 * qy)


@pytest.mark.parametrize("name", ["chelsea", "coffee", "rocket", "coins"])
def test_photos_without_faces_give_no_faces(classifier, name: str) -> None:
    """The cat, coffee, rocket and coins: no detection, no padded one, and not taken for a face crop."""
    image = getattr(skimage_data, name)()
    assert analyze(image, classifier) == []


def test_working_copy_is_bounded_and_follows_the_minimum_face() -> None:
    settings = DetectorSettings()
    assert working_scale(7000, 7000, settings) * 7000 <= settings.max_side
    assert working_scale(300, 200, DetectorSettings(min_size=20, min_face_fraction=0.0)) == 1.0  # never enlarged
    # the minimum face maps to scan_windows of the cascade's own window (alt2: 20 px)
    window = settings.scan_windows * cascade_window(settings.cascade_file)
    assert working_scale(640, 480, settings) == pytest.approx(window / settings.min_face(640, 480))
    assert DetectorSettings(min_size=20).min_face(4000, 3000) == round(settings.min_face_fraction * 3000)
    assert DetectorSettings(min_size=500).min_face(4000, 3000) == 500  # the px setting still applies


def test_overlapping_and_nested_boxes_keep_the_most_confident() -> None:
    boxes = [(100, 100, 100, 100), (105, 105, 100, 100), (120, 120, 30, 30), (400, 400, 50, 50), (80, 80, 160, 160)]
    scores = [5.0, 6.0, 9.0, 1.0, 2.0]
    kept = suppress_overlaps(boxes, scores)
    # the nested 30 px box is the most confident, so the face boxes around it go; the far box stays
    assert kept == [2, 3]


def test_fer2013_face_is_found_through_the_fallback(classifier, public_test) -> None:
    face = public_test.images[11]
    assert detect(face) == []  # 48 px, no context: the cascade alone cannot
    faces = analyze(face, classifier)
    assert len(faces) == 1 and faces[0].source in ("padded", "whole-image")
    assert analyze(face, classifier, fallback=False) == []
    if faces[0].source == "whole-image":
        np.testing.assert_array_equal(faces[0].crop, face)
        assert faces[0].score is None


def test_upscaled_tight_crop_is_found_on_the_padded_copy(portrait: np.ndarray) -> None:
    """The portrait cut to its face (forehead and chin off) and enlarged: the padded retry finds it."""
    tight = cv2.resize(portrait[75:165, 180:270], (360, 360), interpolation=cv2.INTER_CUBIC)
    assert detect(tight) == []
    found = find_faces(tight)
    assert len(found) == 1 and found[0].source == "padded" and found[0].score is not None
    x, y, w, h = found[0].box
    assert abs(x + w / 2 - 180) < 60 and abs(y + h / 2 - 180) < 60  # centred on the face, original pixels
    assert looks_like_face_crop(tight.shape)


def test_face_crop_shapes() -> None:
    assert looks_like_face_crop((48, 48)) and looks_like_face_crop((23, 40)) and looks_like_face_crop((536, 500))
    assert not looks_like_face_crop((480, 640))  # a 4:3 webcam-style photo
    assert not looks_like_face_crop((3000, 3000))  # a big square photo is a scene, not a crop
    assert not looks_like_face_crop((0, 10))


def _face(side: int, score: float | None, probs: list[float], source: str = "detector") -> FaceResult:
    return FaceResult((0, 0, side, side), np.asarray(probs, np.float32), np.zeros((48, 48), np.uint8), source, score)


def test_overall_mood_weights_confidence_and_size_and_weak_faces_do_not_vote() -> None:
    happy = [0, 0, 0, 1.0, 0, 0, 0]
    sad = [0, 0, 0, 0, 1.0, 0, 0]
    strong = DetectorSettings().min_score + 10.0
    faces = [_face(200, strong, happy), _face(60, -1e6, sad), _face(60, -1e6, sad), _face(60, -1e6, sad)]
    reading = mood(faces)
    assert int(np.argmax(reading)) == 3 and reading[3] == pytest.approx(1.0)  # the weak sad boxes do not vote
    assert voters(faces) == 1
    two = [_face(200, strong, happy), _face(100, strong, sad)]
    weights = mood_weights(two)
    assert weights[0] == pytest.approx(4 * weights[1])  # by area
    assert mood(two)[3] == pytest.approx(0.8)
    weak_only = [_face(100, -1e6, happy), _face(100, -1e6, sad)]
    assert mood(weak_only)[3] == pytest.approx(0.5)  # none strong: all vote by size, never no mood
    assert mood([]) is None


def test_detections_report_source_and_score(portrait: np.ndarray) -> None:
    found = find_faces(portrait)
    assert len(found) == 1 and isinstance(found[0], Detection)
    assert found[0].source == "detector" and found[0].score >= DetectorSettings().min_score


def test_a_portrait_small_on_a_large_black_canvas_is_found_after_decoding(astronaut_path: Path) -> None:
    """Issue 29: the 512 px portrait on a black 6000x4000 canvas is decoded at 4096 px, its face then 2.5 %
    of the short side (under the 3 % minimum): 0 faces. A large photo without a face is scanned again
    down to 2 % of its short side, more strictly (no new false boxes on face-free photos)."""
    import io

    from PIL import Image

    from fer.imageio import decode_image

    canvas = np.zeros((4000, 6000, 3), np.uint8)
    canvas[1744:2256, 2744:3256] = cv2.cvtColor(cv2.imread(str(astronaut_path)), cv2.COLOR_BGR2RGB)
    buf = io.BytesIO()
    Image.fromarray(canvas).save(buf, "PNG")
    image = decode_image(buf.getvalue())
    (face,) = find_faces(image)
    x, y, w, h = face.box
    (plain,) = detect(cv2.cvtColor(cv2.imread(str(astronaut_path)), cv2.COLOR_BGR2RGB))  # the face in the portrait
    scale = image.shape[1] / canvas.shape[1]
    cx, cy = (2744 + plain.box[0] + plain.box[2] / 2) * scale, (1744 + plain.box[1] + plain.box[3] / 2) * scale
    assert face.source == "detector" and abs(x + w / 2 - cx) < w / 4 and abs(y + h / 2 - cy) < h / 4


@pytest.mark.slow  # all 800 real photos (~10 s idle)
def test_tight_real_crops_are_found_in_99_percent(astronaut_path: Path) -> None:
    """Issue 29: the 800 tight real crops of faces/real/ (the face fills most of the photo): found by the
    detector or the padded retries in >= 99 % (96.0 % before; 99.0 % with issue 12's detector)."""
    paths = sorted((astronaut_path.parent / "real").glob("*/*.jpg"))
    if len(paths) < 800:
        pytest.skip(f"the 800 real photos are not under {astronaut_path.parent / 'real'}")
    found = sum(
        any(d.source != "whole-image" for d in find_faces(cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB)))
        for p in paths
    )
    assert found / len(paths) >= 0.99, found
