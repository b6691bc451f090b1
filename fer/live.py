"""Live (webcam) frame processing, free of any UI: the per-tab :class:`LiveProcessor`.

It composes the engine's pieces: :class:`fer.tracking.DetectOrFollow` (where the faces are),
:func:`fer.pipeline.classify_boxes` (what they show), :class:`fer.tracking.FaceTracker` (smoothing),
:class:`fer.fps.FpsMeter` and :class:`fer.timeline.Timeline` (what the page charts).

The Live page's WebRTC callback runs in a worker thread per stream. Each browser tab owns one
processor (never shared between sessions); the :class:`~fer.classifier.Classifier` it holds IS
shared, which is safe because the classifier keeps one TFLite interpreter per thread.

The UI thread talks to a processor only through lock-protected setters (:meth:`LiveProcessor.update`)
and readers (:meth:`LiveProcessor.latest_stats`, :meth:`LiveProcessor.timeline`). The lock is only
held for bookkeeping, never during detection or classification, so the video thread never waits on
the UI; the newest stats are swapped in under it, so a reader always sees a complete one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import av
import cv2
import numpy as np

from fer.classifier import Classifier
from fer.detection import Box, DetectorSettings
from fer.fps import FpsMeter
from fer.imageio import to_rgb_uint8
from fer.pipeline import FaceResult, annotate, classify_boxes
from fer.stages import LIVE_STAGES, StageClock
from fer.timeline import TIMELINE_INTERVAL_S, TIMELINE_SPAN_S, Timeline, TimelineSample, timeline_arrays, timeline_csv
from fer.tracking import LIVE_FOLLOW_INTERVAL_S, REDETECT_INTERVAL_S, DetectOrFollow, FaceTracker


@dataclass(frozen=True)
class LiveStats:
    """What the page shows beside the video, published after every processed frame."""

    fps: float  # processed frames per second over the last ~2 s
    ms: float  # mean processing time per frame over the same window (analysis + overlay)
    n_faces: int
    probs: np.ndarray | None  # smoothed probabilities of the largest face, None without a face
    label: str | None  # its most probable emotion
    t: float  # seconds since this processor's first frame
    frames: int = 0  # frames processed so far by this processor
    boxes: tuple[Box, ...] = ()  # every face's box in the shown (mirrored if mirroring) frame, largest first
    size: tuple[int, int] = (0, 0)  # (width, height) of the frame, as the browser sent it
    face_probs: tuple[np.ndarray, ...] = ()  # every face's smoothed probabilities, in the order of boxes


def to_video_frame(rgb: np.ndarray) -> av.VideoFrame:
    """The frame to send back, already in the encoder's yuv420p.

    Handing aiortc an rgb24 frame makes its VP8 encoder convert it with swscale on *every* encode, and a
    frame is encoded again each time the camera delivers a new one before the next result is ready
    (twice per processed frame under load); OpenCV's SIMD conversion once here is ~4x cheaper.
    """
    height, width = rgb.shape[:2]
    if height % 2 or width % 2:  # I420 needs even sides
        return av.VideoFrame.from_ndarray(rgb, format="rgb24")
    return av.VideoFrame.from_ndarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420), format="yuv420p")


class LiveProcessor:
    """Per-browser-tab webcam processing: mirror -> find faces -> classify -> smooth -> annotate, plus stats.

    Faces are found by :class:`fer.tracking.DetectOrFollow`: a full scan every ``redetect_interval``
    seconds, the known faces followed in between (``0`` scans every frame in full). ``process`` is
    called from the WebRTC worker thread; everything else from the UI thread.
    """

    def __init__(
        self,
        classifier: Classifier,
        settings: DetectorSettings | None = None,
        *,
        mirror: bool = True,
        overlays: bool = True,
        smoothing: float = 0.6,
        tta: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
        redetect_interval: float = REDETECT_INTERVAL_S,
        follow_interval: float = LIVE_FOLLOW_INTERVAL_S,
        sample_interval: float = TIMELINE_INTERVAL_S,
        timeline_span: float = TIMELINE_SPAN_S,
        stages: StageClock = LIVE_STAGES,
    ) -> None:
        self._stages = stages  # where the per-stage CPU time goes (process-wide by default)
        self._lock = threading.Lock()  # guards everything below but the finder (video thread only)
        self._classifier = classifier
        self._settings = settings or DetectorSettings()
        self._mirror = bool(mirror)
        self._overlays = bool(overlays)
        self._tta = tta
        self._rescan = False  # the next frame gets a full scan (set when settings change)
        self._clock = clock
        self._finder = DetectOrFollow(redetect_interval, follow_interval=follow_interval)
        self._tracker = FaceTracker(smoothing)
        self._meter = FpsMeter()
        self._timeline = Timeline(sample_interval, timeline_span)
        self._latest: LiveStats | None = None
        self._t0: float | None = None
        self._frames = 0
        self._errors = 0
        self._last_error: str | None = None

    # -------------------------------------------------------------- settings (UI thread)
    def update(
        self,
        settings: DetectorSettings | None = None,
        *,
        mirror: bool | None = None,
        overlays: bool | None = None,
        smoothing: float | None = None,
        tta: bool | None = None,
        classifier: Classifier | None = None,
    ) -> None:
        """Change any setting; takes effect from the next frame. ``None`` leaves a setting as it is."""
        with self._lock:
            if settings is not None and settings != self._settings:
                self._settings = settings
                self._rescan = True  # new sensitivity / min size: look everywhere again
            if mirror is not None and bool(mirror) != self._mirror:
                self._mirror = bool(mirror)
                self._tracker.reset()  # boxes jump to the other side: old tracks would never match
                self._rescan = True
            if overlays is not None:
                self._overlays = bool(overlays)
            if smoothing is not None:
                self._tracker.strength = smoothing
            if tta is not None:
                self._tta = tta
            if classifier is not None and classifier is not self._classifier:
                self._classifier = classifier
                self._tracker.reset()

    @property
    def settings(self) -> DetectorSettings:
        return self._settings

    @property
    def mirror(self) -> bool:
        return self._mirror

    @property
    def overlays(self) -> bool:
        return self._overlays

    @property
    def smoothing(self) -> float:
        return self._tracker.strength

    # -------------------------------------------------------------- the video thread
    def process_frame(self, frame: av.VideoFrame) -> av.VideoFrame:
        """streamlit-webrtc's frame callback: never raises (a failing frame is counted and passed through)."""
        try:
            with self._stages.stage("frame_in"):
                rgb = frame.to_ndarray(format="rgb24")
            out = self.process(rgb)
            with self._stages.stage("frame_out"):
                return to_video_frame(out)
        except Exception as exc:  # a failing frame must not kill the stream
            self.record_error(exc)
            return frame

    def process(self, rgb: np.ndarray) -> np.ndarray:
        """One RGB uint8 frame in, the frame to show out (mirrored and annotated as configured)."""
        start = self._clock()
        with self._lock:  # a consistent snapshot; the slow part below runs without the lock
            classifier, settings, mirror, overlays, tta = (
                self._classifier,
                self._settings,
                self._mirror,
                self._overlays,
                self._tta,
            )
            rescan, self._rescan = self._rescan, False
        stages = self._stages
        with stages.stage("prepare"):
            frame = to_rgb_uint8(rgb)
            # Mirror BEFORE analysis, so boxes and their text are drawn on the image the user sees.
            if mirror:
                frame = cv2.flip(frame, 1)
            gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        with stages.stage("detect"):
            boxes = self._finder.find(gray, settings, start, full=rescan)
        with stages.stage("classify"):
            faces = classify_boxes(gray, boxes, classifier, tta=tta)
        with stages.stage("annotate"):
            with self._lock:
                faces = self._tracker.update(faces)
            out = annotate(frame, faces) if overlays and faces else frame
        done = self._clock()
        with self._lock:
            self._record(faces, start, done, (frame.shape[1], frame.shape[0]))
        stages.add("frames", 0.0, 0.0)  # processed frames, the denominator of the per-frame figures
        stages.count_frame(id(self), self._frames, (frame.shape[1], frame.shape[0]))
        return out

    def _record(self, faces: list[FaceResult], start: float, done: float, size: tuple[int, int]) -> None:
        """Update the counters, publish the stats and sample the timeline (caller holds the lock)."""
        if self._t0 is None:
            self._t0 = start
        self._frames += 1
        self._meter.add(start, done)
        largest = faces[0] if faces else None  # faces come largest first
        t = done - self._t0
        self._latest = LiveStats(
            fps=self._meter.fps,
            ms=self._meter.ms,
            n_faces=len(faces),
            probs=None if largest is None else largest.probs.copy(),
            label=None if largest is None else largest.label,
            t=t,
            frames=self._frames,
            boxes=tuple(f.box for f in faces),
            size=size,
            face_probs=tuple(f.probs.copy() for f in faces),
        )
        if largest is not None:
            self._timeline.offer(t, largest.probs, largest.label)

    def record_error(self, exc: BaseException) -> None:
        """Remember a failure of the frame callback (which must not raise) for the UI to show."""
        with self._lock:
            self._errors += 1
            self._last_error = f"{type(exc).__name__}: {exc}"

    # -------------------------------------------------------------- readers (UI thread)
    def latest_stats(self) -> LiveStats | None:
        """The newest stats (kept when no new frame came since), or None before the first frame."""
        with self._lock:
            return self._latest

    @property
    def frames_processed(self) -> int:
        return self._frames

    @property
    def errors(self) -> int:
        return self._errors

    @property
    def last_error(self) -> str | None:
        return self._last_error

    def timeline(self) -> list[TimelineSample]:
        """The recorded samples of the largest face, oldest first (a copy)."""
        with self._lock:
            return self._timeline.samples()

    def timeline_arrays(self) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """(times [N], probs [N, 7], labels) of the timeline, for charts."""
        return timeline_arrays(self.timeline())

    def timeline_csv(self) -> str:
        """The timeline as CSV text: ``t_seconds,label,angry,...,neutral`` (probabilities to 4 decimals)."""
        return timeline_csv(self.timeline())

    def reset_timeline(self) -> None:
        """Forget the recorded timeline and restart its clock (counters and stats stay)."""
        with self._lock:
            self._timeline.clear()
            self._t0 = None
