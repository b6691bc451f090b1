"""Image in, faces out: detection -> FER2013-style crop -> classifier, and the overlay that shows it.

:class:`FaceResult` is the one face type every page, the CLI and the webcam callback use.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from fer.classifier import Classifier
from fer.detection import Box, DetectorSettings, crop_face, detect_faces
from fer.imageio import to_rgb_uint8
from fer.labels import CLASS_NAMES, EMOTION_COLORS_RGB


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


def annotate(image: np.ndarray, faces: list[FaceResult]) -> np.ndarray:
    """A copy of ``image`` (RGB uint8) with an emotion-coloured box and 'label 91%' per face.

    Line width and text size follow the image size so labels stay readable from 48 px to 4000 px.
    """
    out = to_rgb_uint8(image).copy()
    h, w = out.shape[:2]
    scale = max(h, w) / 640.0
    thickness = max(1, round(2 * scale))
    font_scale = max(0.35, 0.6 * scale)
    for face in faces:
        x, y, bw, bh = face.box
        color = EMOTION_COLORS_RGB[face.label]
        cv2.rectangle(out, (x, y), (x + bw - 1, y + bh - 1), color, thickness, cv2.LINE_AA)
        text = f"{face.label} {face.confidence:.0%}"
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font_scale, thickness)
        ty = y - base - 2 if y - th - base - 4 >= 0 else min(h - base - 2, y + bh + th + 2)
        tx = min(max(0, x), max(0, w - tw - 4))
        cv2.rectangle(out, (tx, ty - th - 2), (tx + tw + 4, ty + base), color, -1)
        ink = (0, 0, 0) if sum(color) > 382 else (255, 255, 255)
        cv2.putText(out, text, (tx + 2, ty), cv2.FONT_HERSHEY_SIMPLEX, font_scale, ink, thickness, cv2.LINE_AA)
    return out
