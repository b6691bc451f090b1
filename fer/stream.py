"""The one frame loop of the webcam and of video files: ``step(gray, t) -> faces``.

:class:`FaceStream` finds the faces of each frame cheaply (:class:`fer.detection.follow.DetectOrFollow`), gives
them stable ids and holds a face the detector missed for a few frames (:class:`fer.tracking.FaceTracker`,
``followed`` faces), classifies the detected ones (:func:`fer.pipeline.classify_detections`) and smooths
each face's probabilities over its track (:class:`fer.tracking.Smoother`). The faces come out in the
one numbering order (:func:`fer.faces.ordered`), ready for :func:`fer.overlay.annotate`.

:meth:`FaceStream.step` is the two halves in one call (the webcam); a video file runs
:meth:`FaceStream.locate` one stage ahead in a worker thread and :meth:`FaceStream.classify` in its
own, so the two halves use two cores. Each half is called from one thread; times are seconds, increasing.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from fer.classifier import Classifier
from fer.detection.detector import Detection
from fer.detection.follow import DetectOrFollow
from fer.detection.settings import DetectorSettings
from fer.faces import FaceResult, ordered
from fer.pipeline import classify_detections
from fer.tracking import TRACK_MAX_MISSED, FaceTracker, Smoother, Tracked


class FaceStream:
    """Faces of consecutive frames, tracked, held through missed detections and smoothed."""

    def __init__(
        self,
        *,
        smoothing: float,
        redetect_interval: float,
        follow_interval: float = 0.0,
        idle_interval: float = 0.0,
        max_shift: float = 0.0,
        max_missed: int = TRACK_MAX_MISSED,
    ) -> None:
        self._finder = DetectOrFollow(redetect_interval, idle_interval=idle_interval, follow_interval=follow_interval)
        self._tracker = FaceTracker(max_missed=max_missed, max_shift=max_shift)
        self._smoother = Smoother(smoothing)

    @property
    def smoothing(self) -> float:
        return self._smoother.strength

    @smoothing.setter
    def smoothing(self, value: float) -> None:
        self._smoother.strength = value

    def reset(self) -> None:
        """Forget every face (ids keep counting up): the next frame is scanned in full."""
        self._finder.reset()
        self._tracker.reset()
        self._smoother.reset()

    def locate(self, gray: np.ndarray, t: float, detector: DetectorSettings, *, full: bool = False) -> list[Tracked]:
        """Where this frame's faces are, under their track ids (held faces included): the first half."""
        tracked = self._tracker.track(self._finder.find(gray, detector, t, full=full), t)
        # a held face is looked for again next frame, and so is one lost a moment ago (it may take its id back)
        self._finder.follow([face.box for face in tracked] + self._tracker.lost_boxes())
        return tracked

    def classify(
        self, gray: np.ndarray, located: list[Tracked], classifier: Classifier, *, tta: bool
    ) -> list[FaceResult]:
        """The located faces read and smoothed, in numbering order: the second half."""
        detected = [face for face in located if not face.followed]
        read = classify_detections(gray, [Detection(f.box, f.score, f.source) for f in detected], classifier, tta=tta)
        faces = [replace(face, track_id=f.id) for face, f in zip(read, detected)]
        faces += [_held(f) for f in located if f.followed]
        return ordered(self._smoother.smooth(faces))

    def step(
        self,
        gray: np.ndarray,
        t: float,
        classifier: Classifier,
        detector: DetectorSettings,
        *,
        tta: bool,
        full: bool = False,
    ) -> list[FaceResult]:
        """One frame (grey uint8, its time in seconds) in, its faces out."""
        return self.classify(gray, self.locate(gray, t, detector, full=full), classifier, tta=tta)


def _held(face: Tracked) -> FaceResult:
    """A placeholder for a followed face: the smoother fills in its last reading (or drops it)."""
    return FaceResult(face.box, np.zeros(0, np.float32), np.zeros((0, 0), np.uint8), face.source, face.score,
                      track_id=face.id, followed=True)  # fmt: skip
