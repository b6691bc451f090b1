"""Image in, faces out: detection (with the tight-crop fallback) -> FER2013-style crop -> classifier.

:class:`fer.faces.FaceResult` is what comes out: each face says how it was found (``source``) and how
sure the detector was (``score``), which the mood (:func:`fer.faces.mood`) uses.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from fer.classifier import Classifier
from fer.detection.detector import Detection, crop_face, find_faces, whole_image_box
from fer.detection.settings import Box, DetectorSettings
from fer.faces import FaceResult, ordered
from fer.imageio import to_rgb_uint8


def analyze(
    image: np.ndarray,
    classifier: Classifier,
    settings: DetectorSettings | None = None,
    *,
    whole_face: bool = False,
    fallback: bool = True,
    tta: bool | None = None,
) -> list[FaceResult]:
    """Every face in ``image`` (any dtype/channels), classified in one batch, in numbering order.

    Faces come in :func:`fer.faces.ordered`'s order (left to right), the order they are numbered in.

    ``whole_face`` skips detection and treats the whole (centre-square) image as one face;
    ``fallback`` (on by default) lets tight crops be found on a padded copy or read whole
    (:func:`fer.detection.detector.find_faces`). Boxes are in ``image``'s pixels.
    """
    rgb = to_rgb_uint8(image)
    if whole_face:
        detections = [Detection(whole_image_box(rgb.shape), None, "whole-image")]
    else:
        detections = find_faces(rgb, settings or DetectorSettings(), fallback=fallback)
    return ordered(classify_detections(rgb, detections, classifier, tta=tta))


def classify_detections(
    image: np.ndarray, detections: list[Detection], classifier: Classifier, *, tta: bool | None = None
) -> list[FaceResult]:
    """:func:`classify_boxes` keeping each detection's source and score on its face result."""
    faces = classify_boxes(image, [d.box for d in detections], classifier, tta=tta)
    return [replace(f, source=d.source, score=d.score) for f, d in zip(faces, detections)]


def classify_boxes(
    image: np.ndarray, boxes: list[Box], classifier: Classifier, *, tta: bool | None = None
) -> list[FaceResult]:
    """Crop each box as FER2013 was preprocessed and classify all of them in one batch."""
    if not boxes:
        return []
    crops = np.stack([crop_face(image, box) for box in boxes])
    probs = classifier.predict_proba(crops, tta=tta)
    return [FaceResult(box, p, c) for box, p, c in zip(boxes, probs, crops)]
