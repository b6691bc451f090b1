"""The one face type, and the rules every page, export and CLI command applies to a list of faces.

:class:`FaceResult` is what a photo, a webcam frame and a video frame all produce. Three rules go with it,
written only here:

* **Order and numbering** (:func:`ordered`): the faces of one picture are numbered 1, 2, ... left to
  right (top to bottom within a column of faces), on the picture and in every list or export of it --
  photos, live frames and video frames alike. A face tracked across frames (webcam, video) also carries
  its ``track_id``: the number that names the same person from frame to frame (drawn ``#id`` under its
  box; the video's per-face summaries and CSV ``face_id`` use it).
* **The mood** (:func:`mood`): the faces' probabilities averaged, each weighted by its box area times
  the detector's confidence in it (:func:`mood_weights`).
* **Followed faces**: a tracked face the detector missed in a frame is kept at its last box for a few
  frames (``followed=True``, see :data:`fer.tracking.TRACK_MAX_MISSED`) rather than vanishing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from fer.detection.detector import Source
from fer.detection.settings import Box
from fer.labels import CLASS_NAMES, top_label

#: Top two emotions closer than this (probability points) mark a face's reading as uncertain.
UNCERTAIN_MARGIN = 0.05


@dataclass(frozen=True)
class FaceResult:
    """One face: where it is, what the model saw, what it read there, and how it was found."""

    box: Box  # (x, y, w, h) in the analysed image's pixels
    probs: np.ndarray  # float32 [7], calibrated, sums to 1
    crop: np.ndarray  # uint8 [48, 48] grey face exactly as fed to the model
    source: Source = "detector"  # how the face was found: "detector" | "padded" | "whole-image"
    score: float | None = None  # the cascade's confidence in the face (None: whole image, or not scored)
    track_id: int | None = None  # the same person across frames (webcam, video); None for a photo
    followed: bool = False  # not detected in this frame: held at its track's last box

    @property
    def label_index(self) -> int:
        return int(np.argmax(self.probs))

    @property
    def label(self) -> str:
        return top_label(self.probs)

    @property
    def confidence(self) -> float:
        return float(self.probs[self.label_index])

    @property
    def margin(self) -> float:
        """How far the top emotion is ahead of the runner-up (probability points)."""
        top2 = np.sort(self.probs)[-2:]
        return float(top2[1] - top2[0]) if len(top2) == 2 else 1.0

    @property
    def uncertain(self) -> bool:
        """The top two emotions are near-tied (e.g. 23% vs 21%): the label alone would overstate the reading."""
        return self.margin < UNCERTAIN_MARGIN

    @property
    def area(self) -> float:
        return float(self.box[2]) * float(self.box[3])

    def top(self, k: int = 3) -> list[tuple[str, float]]:
        """The k most probable emotions, most probable first."""
        order = np.argsort(self.probs)[::-1][:k]
        return [(CLASS_NAMES[i], float(self.probs[i])) for i in order]

    def with_probs(self, probs: np.ndarray) -> FaceResult:
        """The same face with other probabilities (e.g. smoothed over webcam frames)."""
        return replace(self, probs=np.asarray(probs, np.float32))

    def to_dict(self) -> dict:
        """The stable JSON shape of ``python -m fer predict --json`` (fields are only ever added)."""
        entry = {
            "box": [int(v) for v in self.box],
            "label": self.label,
            "confidence": round(self.confidence, 6),
            "probs": {name: round(float(p), 6) for name, p in zip(CLASS_NAMES, self.probs)},
            "source": self.source,
            "detection_score": None if self.score is None else round(self.score, 4),
            "uncertain": self.uncertain,
        }
        if self.track_id is not None:
            entry["id"] = self.track_id
            entry["followed"] = self.followed
        return entry


def ordered(faces: Sequence[FaceResult]) -> list[FaceResult]:
    """Faces in the order they are numbered: left to right, and top to bottom within a column.

    Faces whose centres are less than half a face width apart horizontally count as one column (people
    standing behind each other), so a few pixels of difference never decide between rows.
    """
    by_x = sorted(faces, key=lambda f: f.box[0] + f.box[2] / 2)
    out: list[FaceResult] = []
    column: list[FaceResult] = []
    for face in by_x:
        if column:
            first = column[0].box
            if face.box[0] + face.box[2] / 2 - (first[0] + first[2] / 2) > min(first[2], face.box[2]) / 2:
                out += sorted(column, key=lambda f: f.box[1])
                column = []
        column.append(face)
    return out + sorted(column, key=lambda f: f.box[1])


def largest(faces: Sequence[FaceResult]) -> FaceResult | None:
    """The face with the largest box (the first of equals in ``faces``' order), None without faces."""
    return max(faces, key=lambda f: f.area, default=None)


#: Faces the detector scored below this do not vote in the mood: the false boxes left after
#: ``min_score`` score low, most real faces higher (scripts/measure_detection.py prints both ranges).
VOTE_MIN_SCORE = 55.0
#: Detection score at which a face's vote reaches full weight (weaker votes count proportionally).
VOTE_FULL_SCORE = 56.0


def mood_weights(faces: Sequence[FaceResult]) -> np.ndarray:
    """Each face's vote in the mood: its area times its detection confidence; weak ones get 0.

    Faces without a score (a whole image taken as a face) vote with full confidence; a tracked face
    keeps the score of its last full detection. When no face is strong enough to vote, all vote by area
    alone, so faces always give a mood.
    """
    return vote_weights(
        np.array([f.area for f in faces]), np.array([np.nan if f.score is None else f.score for f in faces])
    )


def vote_weights(area: np.ndarray, score: np.ndarray, group: np.ndarray | None = None) -> np.ndarray:
    """:func:`mood_weights` on columns: box areas and detection scores (NaN: none), one entry per face.

    ``group`` (the picture each face belongs to, e.g. a video's analysed frame) applies the area-alone
    fallback per picture; without it, all faces are one picture.
    """
    area, score = np.asarray(area, np.float64), np.asarray(score, np.float64)
    span = VOTE_FULL_SCORE - VOTE_MIN_SCORE
    with np.errstate(invalid="ignore"):
        ramp = np.clip(np.maximum(score - VOTE_MIN_SCORE, 1e-3 * span) / span, 0.0, 1.0) if span > 0 else 1.0
        trust = np.where(np.isnan(score), 1.0, np.where(score < VOTE_MIN_SCORE, 0.0, ramp))
    weights = area * trust
    group = np.zeros(len(area), np.int64) if group is None else np.asarray(group, np.int64)
    if len(area) == 0:
        return weights
    total = np.bincount(group, weights=weights)
    return np.where(total[group] > 0, weights, area)


def mood(faces: Sequence[FaceResult]) -> np.ndarray | None:
    """The mood of a picture: probabilities averaged with :func:`mood_weights` (None without faces)."""
    if not faces:
        return None
    return np.average([f.probs for f in faces], axis=0, weights=mood_weights(faces)).astype(np.float32)


def voters(faces: Sequence[FaceResult]) -> int:
    """How many faces the mood counts (the pages say so)."""
    return int(np.count_nonzero(mood_weights(faces))) if faces else 0
