"""The image pipeline with the real detector and the shipped model on the real portrait."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from fer.classifier import Classifier
from fer.detection.detector import crop_face
from fer.detection.settings import DetectorSettings
from fer.faces import FaceResult, mood
from fer.labels import CLASS_NAMES, FACE_SIZE
from fer.overlay import annotate
from fer.pipeline import analyze, whole_image_box


@pytest.fixture(scope="module")
def portrait(astronaut_path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(astronaut_path)), cv2.COLOR_BGR2RGB)


def test_one_face_in_the_portrait(classifier: Classifier, portrait: np.ndarray) -> None:
    faces = analyze(portrait, classifier)
    assert len(faces) == 1
    face = faces[0]
    assert face.crop.shape == (FACE_SIZE, FACE_SIZE) and face.crop.dtype == np.uint8
    assert face.label in CLASS_NAMES
    assert face.probs.shape == (7,) and abs(float(face.probs.sum()) - 1) < 1e-5
    # the crop the model saw is the detector's box, preprocessed exactly as in training
    np.testing.assert_array_equal(face.crop, crop_face(portrait, face.box))
    direct = classifier.predict_proba(face.crop[None])[0]
    np.testing.assert_allclose(face.probs, direct, atol=1e-6)


def test_four_faces_in_a_tiling(classifier: Classifier, portrait: np.ndarray) -> None:
    tiled = np.vstack([np.hstack([portrait, portrait])] * 2)
    faces = analyze(tiled, classifier)
    assert len(faces) == 4
    labels = {f.label for f in faces}
    assert len(labels) == 1, "the same face four times must read the same"


def test_no_face_in_a_blank_image(classifier: Classifier) -> None:
    assert analyze(np.full((480, 640, 3), 200, np.uint8), classifier) == []


def test_whole_face_mode_on_a_fer2013_face(classifier: Classifier, public_test) -> None:
    face = public_test.images[7]
    faces = analyze(face, classifier, whole_face=True)
    assert len(faces) == 1 and faces[0].box == (0, 0, 48, 48) and faces[0].source == "whole-image"
    np.testing.assert_array_equal(faces[0].crop, face)
    np.testing.assert_allclose(faces[0].probs, classifier.predict_proba(face[None])[0], atol=1e-6)


def test_whole_image_box_is_the_centre_square() -> None:
    assert whole_image_box((100, 300, 3)) == (100, 0, 100, 100)
    assert whole_image_box((48, 48)) == (0, 0, 48, 48)


def test_detector_settings_are_honoured(classifier: Classifier, portrait: np.ndarray) -> None:
    assert analyze(portrait, classifier, DetectorSettings(min_size=400), fallback=False) == []
    # with the fallback, the square portrait looks like a face crop: read whole, and said so
    assert [f.source for f in analyze(portrait, classifier, DetectorSettings(min_size=400))] == ["whole-image"]


def test_rgba_gray_and_float_inputs(classifier: Classifier, portrait: np.ndarray) -> None:
    rgba = np.dstack([portrait, np.full(portrait.shape[:2], 255, np.uint8)])
    gray = cv2.cvtColor(portrait, cv2.COLOR_RGB2GRAY)
    for image in (rgba, gray, portrait.astype(np.float32) / 255.0):
        assert len(analyze(image, classifier)) == 1


def test_annotate_draws_in_the_emotion_colour(classifier: Classifier, portrait: np.ndarray) -> None:
    faces = analyze(portrait, classifier)
    before = portrait.copy()
    out = annotate(portrait, faces)
    assert out.shape == portrait.shape and out.dtype == np.uint8
    assert not np.array_equal(out, portrait)
    np.testing.assert_array_equal(portrait, before)  # the caller's image is left untouched
    x, y, w, h = faces[0].box
    assert (out[y + h // 2, x] != portrait[y + h // 2, x]).any(), "the box edge is drawn"
    small = annotate(cv2.resize(portrait, (64, 64)), [])
    assert small.shape == (64, 64, 3)


def test_result_json_shape_and_helpers(classifier: Classifier, portrait: np.ndarray) -> None:
    face = analyze(portrait, classifier)[0]
    d = face.to_dict()
    assert set(d) == {"box", "label", "confidence", "probs", "source", "detection_score", "uncertain"}
    assert d["source"] == "detector" and d["detection_score"] == round(face.score, 4)
    assert list(d["probs"]) == list(CLASS_NAMES)
    assert d["label"] == max(d["probs"], key=d["probs"].get)
    assert face.top(3)[0] == (face.label, pytest.approx(face.confidence))
    smoothed = face.with_probs(np.full(7, 1 / 7))
    assert isinstance(smoothed, FaceResult) and smoothed.box == face.box
    np.testing.assert_allclose(mood([face, face]), face.probs, atol=1e-6)
    assert mood([]) is None
