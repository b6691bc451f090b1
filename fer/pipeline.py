"""Image in, faces out: detection -> FER2013-style crop -> classifier.

:class:`FaceResult` is the one face type every page, the CLI and the webcam callback use. The overlay
that shows it is drawn by :mod:`fer.overlay` (``annotate`` is re-exported here for existing callers).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from fer.classifier import Classifier
from fer.detection import Box, DetectorSettings, crop_face, detect_faces
from fer.imageio import to_rgb_uint8
from fer.labels import CLASS_NAMES
from fer.overlay import annotate as annotate  # re-export: the drawing code lives in fer.overlay


@dataclass(frozen=True)
class FaceResult:
    """One face: where it is, what the model saw, and what it read there."""

    box: Box  # (x, y, w, h) in the analysed image's pixels
    probs: np.ndarray  # float32 [7], calibrated, sums to 1
    crop: np.ndarray  # uint8 [48, 48] grey face exactly as fed to the model

    @property
    def label_index(self) -> int:
        return int(np.argmax(self.probs))

    @property
    def label(self) -> str:
        return CLASS_NAMES[self.label_index]

    @property
    def confidence(self) -> float:
        return float(self.probs[self.label_index])

    def top(self, k: int = 3) -> list[tuple[str, float]]:
        """The k most probable emotions, most probable first."""
        order = np.argsort(self.probs)[::-1][:k]
        return [(CLASS_NAMES[i], float(self.probs[i])) for i in order]

    def with_probs(self, probs: np.ndarray) -> FaceResult:
        """The same face with other probabilities (e.g. smoothed over webcam frames)."""
        return replace(self, probs=np.asarray(probs, np.float32))

    def to_dict(self) -> dict:
        """The stable JSON shape of ``python -m fer predict --json``."""
        return {
            "box": [int(v) for v in self.box],
            "label": self.label,
            "confidence": round(self.confidence, 6),
            "probs": {name: round(float(p), 6) for name, p in zip(CLASS_NAMES, self.probs)},
        }


def whole_image_box(shape: tuple[int, ...]) -> Box:
    """The largest centred square: the face box for a pre-cropped face (e.g. a 48x48 FER2013 image)."""
    h, w = shape[:2]
    side = min(h, w)
    return ((w - side) // 2, (h - side) // 2, side, side)


def analyze(
    image: np.ndarray,
    classifier: Classifier,
    settings: DetectorSettings | None = None,
    *,
    whole_face: bool = False,
    tta: bool | None = None,
) -> list[FaceResult]:
    """Every face in ``image`` (any dtype/channels), largest first, classified in one batch.

    ``whole_face`` skips detection and treats the whole (centre-square) image as one face.
    """
    rgb = to_rgb_uint8(image)
    boxes = [whole_image_box(rgb.shape)] if whole_face else detect_faces(rgb, settings or DetectorSettings())
    return classify_boxes(rgb, boxes, classifier, tta=tta)


def classify_boxes(
    image: np.ndarray, boxes: list[Box], classifier: Classifier, *, tta: bool | None = None
) -> list[FaceResult]:
    """Crop each box as FER2013 was preprocessed and classify all of them in one batch."""
    if not boxes:
        return []
    crops = np.stack([crop_face(image, box) for box in boxes])
    probs = classifier.predict_proba(crops, tta=tta)
    return [FaceResult(box, p, c) for box, p, c in zip(boxes, probs, crops)]


def overall_mood(faces: list[FaceResult]) -> np.ndarray | None:
    """Mean probabilities over several faces (None when there are none)."""
    return np.mean([f.probs for f in faces], axis=0) if faces else None
