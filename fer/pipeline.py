"""Image in, faces out: detection (with the tight-crop fallback) -> FER2013-style crop -> classifier.

:class:`FaceResult` is the one face type every page, the CLI and the webcam callback use; it says how
its face was found (``source``) and how sure the detector was (``score``), which the overall mood uses.
The overlay that shows it is drawn by :mod:`fer.overlay` (``annotate`` is re-exported here for existing callers).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from fer.classifier import Classifier
from fer.detection import Box, Detection, DetectorSettings, Source, crop_face, find_faces, whole_image_box
from fer.imageio import to_rgb_uint8
from fer.labels import CLASS_NAMES
from fer.overlay import annotate as annotate  # re-export: the drawing code lives in fer.overlay


@dataclass(frozen=True)
class FaceResult:
    """One face: where it is, what the model saw, and what it read there."""

    box: Box  # (x, y, w, h) in the analysed image's pixels
    probs: np.ndarray  # float32 [7], calibrated, sums to 1
    crop: np.ndarray  # uint8 [48, 48] grey face exactly as fed to the model
    source: Source = "detector"  # how the face was found: "detector" | "padded" | "whole-image"
    score: float | None = None  # the cascade's confidence in the face (None: whole image, or not scored)

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
        """The stable JSON shape of ``python -m fer predict --json`` (fields are only ever added)."""
        return {
            "box": [int(v) for v in self.box],
            "label": self.label,
            "confidence": round(self.confidence, 6),
            "probs": {name: round(float(p), 6) for name, p in zip(CLASS_NAMES, self.probs)},
            "source": self.source,
            "detection_score": None if self.score is None else round(self.score, 4),
        }


def analyze(
    image: np.ndarray,
    classifier: Classifier,
    settings: DetectorSettings | None = None,
    *,
    whole_face: bool = False,
    fallback: bool = True,
    tta: bool | None = None,
) -> list[FaceResult]:
    """Every face in ``image`` (any dtype/channels), largest first, classified in one batch.

    ``whole_face`` skips detection and treats the whole (centre-square) image as one face;
    ``fallback`` (on by default) lets tight crops be found on a padded copy or read whole
    (:func:`fer.detection.find_faces`). Boxes are in ``image``'s pixels.
    """
    rgb = to_rgb_uint8(image)
    if whole_face:
        detections = [Detection(whole_image_box(rgb.shape), None, "whole-image")]
    else:
        detections = find_faces(rgb, settings or DetectorSettings(), fallback=fallback)
    return classify_detections(rgb, detections, classifier, tta=tta)


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


#: Faces the detector scored below this do not vote in the overall mood: the false boxes left after
#: ``min_score`` score low, most real faces higher (scripts/measure_detection.py prints both ranges).
VOTE_MIN_SCORE = 55.0
#: Detection score at which a face's vote reaches full weight (weaker votes count proportionally).
VOTE_FULL_SCORE = 56.0


def mood_weights(faces: list[FaceResult]) -> np.ndarray:
    """Each face's vote in the overall mood: its area times its detection confidence; weak ones get 0.

    Faces without a score (a whole image taken as a face) vote with full confidence. When no face is
    strong enough to vote, all vote by area alone, so a photo with faces always has a mood.
    """
    area = np.array([float(f.box[2]) * float(f.box[3]) for f in faces])
    trust = np.array([1.0 if f.score is None else _trust(f.score) for f in faces])
    weights = area * trust
    return weights if weights.sum() > 0 else area


def _trust(score: float) -> float:
    """0 below VOTE_MIN_SCORE, rising linearly to 1 at VOTE_FULL_SCORE."""
    if score < VOTE_MIN_SCORE:
        return 0.0
    span = VOTE_FULL_SCORE - VOTE_MIN_SCORE
    return 1.0 if span <= 0 else float(min(1.0, max(score - VOTE_MIN_SCORE, 1e-3 * span) / span))


def overall_mood(faces: list[FaceResult]) -> np.ndarray | None:
    """Probabilities averaged over the faces, weighted by :func:`mood_weights` (None without faces)."""
    if not faces:
        return None
    weights = mood_weights(faces)
    return (np.average([f.probs for f in faces], axis=0, weights=weights)).astype(np.float32)


def voters(faces: list[FaceResult]) -> int:
    """How many faces the overall mood counts (the page says so)."""
    return int(np.count_nonzero(mood_weights(faces))) if faces else 0
