"""Live (webcam) frame processing, free of any UI: the per-tab :class:`LiveProcessor`.

It runs the one frame loop shared with video files, :class:`fer.stream.FaceStream` (find, track, hold,
classify, smooth), draws with :func:`fer.overlay.annotate`, and keeps :class:`fer.fps.FpsMeter` and
:class:`fer.timeline.Timeline` (what the page charts).

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
from fer.detection.follow import LIVE_FOLLOW_INTERVAL_S
from fer.detection.settings import Box, DetectorSettings
from fer.faces import FaceResult, mood
from fer.fps import FpsMeter
from fer.imageio import to_rgb_uint8
from fer.labels import top_label
from fer.options import Options
from fer.overlay import annotate
from fer.stages import LIVE_STAGES, StageClock
from fer.stream import FaceStream
from fer.timeline import TIMELINE_INTERVAL_S, TIMELINE_SPAN_S, Timeline, TimelineSample, timeline_arrays, timeline_csv


@dataclass(frozen=True)
class LiveStats:
    """What the page shows beside the video, published after every processed frame."""

    fps: float  # processed frames per second over the last ~2 s
    ms: float  # mean processing time per frame over the same window (analysis + overlay)
    t: float  # seconds since this processor's first frame
    frames: int = 0  # frames processed so far by this processor
    size: tuple[int, int] = (0, 0)  # (width, height) of the frame, as the browser sent it
    faces: tuple[FaceResult, ...] = ()  # smoothed, in numbering order, boxes in the shown (mirrored) frame

    @property
    def n_faces(self) -> int:
        return len(self.faces)

    @property
    def boxes(self) -> tuple[Box, ...]:
        return tuple(f.box for f in self.faces)

    @property
    def probs(self) -> np.ndarray | None:
        """The mood of the faces in view (:func:`fer.faces.mood`), None without a face."""
        return mood(self.faces)

    @property
    def label(self) -> str | None:
        probs = self.probs
        return None if probs is None else top_label(probs)


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

    ``options`` (:class:`fer.options.Options`, the sidebar's) give the detector settings, TTA, smoothing
    and ``redetect_interval``: a full scan that often, the known faces followed in between (``0`` scans
    every frame in full). ``process`` is called from the WebRTC worker thread; everything else from the
    UI thread.
    """

    def __init__(
        self,
        classifier: Classifier,
        options: Options | None = None,
        *,
        mirror: bool = True,
        overlays: bool = True,
        clock: Callable[[], float] = time.monotonic,
        follow_interval: float = LIVE_FOLLOW_INTERVAL_S,
        sample_interval: float = TIMELINE_INTERVAL_S,
        timeline_span: float = TIMELINE_SPAN_S,
        stages: StageClock = LIVE_STAGES,
    ) -> None:
        options = options or Options()
        self._stages = stages  # where the per-stage CPU time goes (process-wide by default)
        self._lock = threading.Lock()  # guards everything below but the stream (video thread only)
        self._classifier = classifier
        self._options = options
        self._mirror = bool(mirror)
        self._overlays = bool(overlays)
        self._rescan = False  # the next frame gets a full scan (set when detector settings change)
        self._restart = False  # the next frame forgets every tracked face (set when faces would not match)
        self._clock = clock
        self._stream = FaceStream(
            smoothing=options.smoothing, redetect_interval=options.redetect_interval, follow_interval=follow_interval
        )  # the video thread's alone, but for its smoothing strength (one float)
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
        options: Options | None = None,
        *,
        mirror: bool | None = None,
        overlays: bool | None = None,
        classifier: Classifier | None = None,
    ) -> None:
        """Change any setting; takes effect from the next frame. ``None`` leaves a setting as it is."""
        with self._lock:
            if options is not None:
                if options.detector != self._options.detector:
                    self._rescan = self._restart = True  # new sensitivity / min size: look everywhere again
                self._options = options
                self._stream.smoothing = options.smoothing
            if mirror is not None and bool(mirror) != self._mirror:
                self._mirror = bool(mirror)
                self._restart = True  # boxes jump to the other side: old tracks would never match
            if overlays is not None:
                self._overlays = bool(overlays)
            if classifier is not None and classifier is not self._classifier:
                self._classifier = classifier
                self._restart = True

    @property
    def options(self) -> Options:
        return self._options

    @property
    def settings(self) -> DetectorSettings:
        return self._options.detector

    @property
    def mirror(self) -> bool:
        return self._mirror

    @property
    def overlays(self) -> bool:
        return self._overlays

    @property
    def smoothing(self) -> float:
        return self._stream.smoothing

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
            classifier, options, mirror, overlays = self._classifier, self._options, self._mirror, self._overlays
            tta = options.resolve_tta(classifier)
            rescan, self._rescan = self._rescan, False
            restart, self._restart = self._restart, False
        if restart:
            self._stream.reset()
        stages = self._stages
        with stages.stage("prepare"):
            frame = to_rgb_uint8(rgb)
            # Mirror BEFORE analysis, so boxes and their text are drawn on the image the user sees.
            if mirror:
                frame = cv2.flip(frame, 1)
            gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        with stages.stage("detect"):
            located = self._stream.locate(gray, start, options.detector, full=rescan)
        with stages.stage("classify"):
            faces = self._stream.classify(gray, located, classifier, tta=tta)
        with stages.stage("annotate"):
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
        t = done - self._t0
        stats = LiveStats(self._meter.fps, self._meter.ms, t, self._frames, size, tuple(faces))
        self._latest = stats
        if faces:
            self._timeline.offer(t, stats.probs, len(faces))

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
        """The recorded samples of the mood of the faces in view, oldest first (a copy)."""
        with self._lock:
            return self._timeline.samples()

    def timeline_arrays(self) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """(times [N], probs [N, 7], labels) of the timeline, for charts."""
        return timeline_arrays(self.timeline())

    def timeline_csv(self) -> str:
        """The timeline as CSV text (:func:`fer.timeline.timeline_csv`)."""
        return timeline_csv(self.timeline())

    def reset_timeline(self) -> None:
        """Forget the recorded timeline and restart its clock (counters and stats stay)."""
        with self._lock:
            self._timeline.clear()
            self._t0 = None
