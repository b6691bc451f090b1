"""Live (webcam) frame processing, free of any UI: smoothing across frames, stats and a session timeline.

The Live page's WebRTC callback runs in a worker thread per stream. Each browser tab owns one
:class:`LiveProcessor` (never shared between sessions); the :class:`~fer.classifier.Classifier` it
holds IS shared, which is safe because the classifier keeps one TFLite interpreter per thread.

The UI thread talks to a processor only through lock-protected setters (:meth:`LiveProcessor.update`)
and readers (:meth:`LiveProcessor.latest_stats`, :meth:`LiveProcessor.timeline`); the video thread
never blocks on the UI: stats are published into a one-slot mailbox that drops the older value.
"""

from __future__ import annotations

import csv
import io
import json
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np

from fer.classifier import Classifier
from fer.detection import (
    CASCADE_WINDOW,
    Box,
    DetectorSettings,
    detect_faces,
    detect_raw,
    frame_box,
    iou,
    order_boxes,
)
from fer.imageio import to_rgb_uint8
from fer.labels import CLASS_NAMES
from fer.pipeline import FaceResult, annotate, classify_boxes

#: Two boxes in consecutive frames overlapping more than this (IoU) are the same face.
TRACK_IOU = 0.3
#: A track survives this many frames without a matching face (blinks, a hand over the face).
TRACK_MAX_MISSED = 5
#: Highest smoothing strength accepted: 1.0 would freeze the first probabilities forever.
MAX_STRENGTH = 0.98
#: The processed-FPS and per-frame-ms figures are averaged over this many seconds.
FPS_WINDOW_S = 2.0
#: Full-frame face detection runs at most this often (and whenever no face is being followed); in
#: between, each face is re-detected only in a small window around where it was (see ``_follow``).
#: Measured on this project's 2-core machine under load (640x480, defaults): full detection
#: ~85 ms, following one face ~3.5 ms.
REDETECT_INTERVAL_S = 1.0
#: Following: the window around the previous box, as a fraction of its side added on every side ...
FOLLOW_PAD = 0.5
#: ... scanned at a scale where the face is this many pixels wide (cheap, and still precise to ~2 px) ...
FOLLOW_FACE_PX = 48
#: ... accepting faces down to this fraction of the previous size (smaller: lost, so full detection).
FOLLOW_MIN_SCALE = 0.6
#: The timeline records at most one sample per this many seconds (~4 samples/s) ...
TIMELINE_INTERVAL_S = 0.25
#: ... and keeps the last this many seconds (10 minutes: 2,400 samples, ~100 KB).
TIMELINE_SPAN_S = 600.0


# ----------------------------------------------------------------------------- tracking / smoothing
@dataclass
class _Track:
    box: Box
    probs: np.ndarray
    missed: int = 0


class FaceTracker:
    """Exponential moving average of each face's probabilities across frames.

    Faces are matched to the previous frame's tracks by box IoU (greedy, best overlap first, at least
    ``iou_threshold``); a track not seen for more than ``max_missed`` frames is dropped, so a face that
    comes back starts fresh. ``strength`` in [0, 1): the weight of the past (0 = no smoothing).
    Not thread-safe by itself: :class:`LiveProcessor` calls it under its lock.
    """

    def __init__(
        self, strength: float = 0.6, iou_threshold: float = TRACK_IOU, max_missed: int = TRACK_MAX_MISSED
    ) -> None:
        self.strength = strength
        self.iou_threshold = float(iou_threshold)
        self.max_missed = int(max_missed)
        self._tracks: list[_Track] = []

    @property
    def strength(self) -> float:
        return self._strength

    @strength.setter
    def strength(self, value: float) -> None:
        self._strength = float(min(max(float(value), 0.0), MAX_STRENGTH))

    def __len__(self) -> int:
        return len(self._tracks)

    def reset(self) -> None:
        self._tracks = []

    def update(self, faces: Sequence[FaceResult]) -> list[FaceResult]:
        """Smoothed copies of ``faces`` (same order, same boxes), and the tracks advanced by one frame."""
        pairs = sorted(
            (
                (iou(face.box, track.box), fi, ti)
                for fi, face in enumerate(faces)
                for ti, track in enumerate(self._tracks)
            ),
            reverse=True,
        )
        face_to_track: dict[int, int] = {}
        used_tracks: set[int] = set()
        for overlap, fi, ti in pairs:
            if overlap < self.iou_threshold:
                break
            if fi in face_to_track or ti in used_tracks:
                continue
            face_to_track[fi] = ti
            used_tracks.add(ti)

        alpha = self._strength
        out: list[FaceResult] = []
        kept: list[_Track] = []
        for fi, face in enumerate(faces):
            new = np.asarray(face.probs, np.float32)
            ti = face_to_track.get(fi)
            if ti is None or alpha == 0.0:
                probs = new.copy()
            else:
                probs = alpha * self._tracks[ti].probs + (1.0 - alpha) * new
                probs = (probs / max(float(probs.sum()), 1e-12)).astype(np.float32)
            kept.append(_Track(face.box, probs))
            out.append(face.with_probs(probs))
        for ti, track in enumerate(self._tracks):
            if ti not in used_tracks and track.missed < self.max_missed:
                kept.append(_Track(track.box, track.probs, track.missed + 1))
        self._tracks = kept
        return out


# ----------------------------------------------------------------------------- stats and timeline
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


@dataclass(frozen=True)
class TimelineSample:
    t: float  # seconds since the processor's first frame
    probs: np.ndarray  # float32 [7], the largest face's smoothed probabilities
    label: str


def parse_ice_servers(text: str | None) -> list[dict]:
    """ICE servers from a JSON list of RTCIceServer dicts, or comma-separated ``stun:``/``turn:`` URLs.

    Empty -> ``[]`` (no STUN/TURN: enough on one machine or a LAN). Raises ValueError when malformed.
    """
    text = (text or "").strip()
    if not text:
        return []
    if text.startswith("[") or text.startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON: {exc}") from None
        if isinstance(data, dict):
            data = [data]
        if not isinstance(data, list):
            raise ValueError("expected a JSON list of {'urls': ...} objects")
        servers = []
        for item in data:
            if not isinstance(item, dict) or "urls" not in item:
                raise ValueError(f"every ICE server needs 'urls': {item!r}")
            urls = item["urls"]
            for url in [urls] if isinstance(urls, str) else list(urls):
                _check_ice_url(url)
            servers.append({k: v for k, v in item.items() if k in ("urls", "username", "credential")})
        return servers
    urls = [u.strip() for u in text.split(",") if u.strip()]
    for url in urls:
        _check_ice_url(url)
    return [{"urls": url} for url in urls]


def _check_ice_url(url: object) -> None:
    if not isinstance(url, str) or url.split(":", 1)[0] not in ("stun", "stuns", "turn", "turns"):
        raise ValueError(f"ICE server URLs start with stun:, stuns:, turn: or turns:, got {url!r}")


# ----------------------------------------------------------------------------- following faces
def _follow(gray: np.ndarray, previous: Sequence[Box], settings: DetectorSettings) -> list[Box]:
    """Re-detect each previous face in a window around its box; returns the faces found, largest first.

    Each window (the box widened by ``FOLLOW_PAD`` per side) is scanned by the same cascade and
    ``min_neighbors``, downscaled so the face is ~``FOLLOW_FACE_PX`` wide; the hit overlapping the
    previous box most is kept, and framed exactly as :func:`fer.detection.detect_faces` frames boxes.
    """
    height, width = gray.shape[:2]
    found: list[Box] = []
    for x, y, w, h in previous:
        side = max(w, h) / (1.0 + 2.0 * settings.margin)  # back to the cascade's own (unframed) size
        pad = int(round(max(w, h) * FOLLOW_PAD))
        x0, y0 = max(0, x - pad), max(0, y - pad)
        x1, y1 = min(width, x + w + pad), min(height, y + h + pad)
        window = gray[y0:y1, x0:x1]
        if window.size == 0:
            continue
        local = replace(
            settings,
            min_size=max(settings.min_size, int(FOLLOW_MIN_SCALE * side)),
            max_side=max(CASCADE_WINDOW, int(round(FOLLOW_FACE_PX * max(window.shape[:2]) / side))),
        )
        hits = [
            frame_box((rx + x0, ry + y0, rw, rh), gray.shape, settings.margin)
            for rx, ry, rw, rh in detect_raw(window, local)
        ]
        if hits:
            best = max(hits, key=lambda b, prev=(x, y, w, h): iou(b, prev))
            if iou(best, (x, y, w, h)) > 0:
                found.append(best)
    return order_boxes(found)  # two followed faces that converged on one face are kept once


# ----------------------------------------------------------------------------- the per-tab processor
class LiveProcessor:
    """Per-browser-tab webcam processing: mirror -> detect -> classify -> smooth -> annotate, plus stats.

    Detection is what costs time on a CPU (the classifier takes ~0.5 ms a face), so a frame only gets
    a full-frame Haar scan every ``redetect_interval`` seconds, or when no face is being followed;
    other frames re-detect each known face in a small window around its last box, which is ~25x
    cheaper and keeps the boxes on the face as it moves. New faces therefore appear within
    ``redetect_interval``. ``redetect_interval=0`` scans every frame in full (as the upload page does).

    ``process`` is called from the WebRTC worker thread; everything else from the UI thread. One
    instance per tab; the classifier may be shared by all of them.
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
        sample_interval: float = TIMELINE_INTERVAL_S,
        timeline_span: float = TIMELINE_SPAN_S,
    ) -> None:
        self._lock = threading.Lock()  # guards the settings, the tracker and the counters
        self._classifier = classifier
        self._settings = settings or DetectorSettings()
        self._mirror = bool(mirror)
        self._overlays = bool(overlays)
        self._tta = tta
        self._tracker = FaceTracker(smoothing)
        self._clock = clock
        self._redetect_interval = float(redetect_interval)
        self._boxes: list[Box] = []  # faces found in the previous frame (video thread only)
        self._last_full = -float("inf")  # when the last full-frame detection ran
        self._sample_interval = float(sample_interval)
        self._mailbox: queue.Queue[LiveStats] = queue.Queue(maxsize=1)
        self._latest: LiveStats | None = None
        self._recent: deque[tuple[float, float]] = deque()  # (done time, ms) within the FPS window
        self._timeline: deque[TimelineSample] = deque(maxlen=max(1, int(timeline_span / sample_interval)))
        self._t0: float | None = None
        self._last_sample_t = -float("inf")
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
                self._last_full = -float("inf")  # new sensitivity / min size: look everywhere again
            if mirror is not None and bool(mirror) != self._mirror:
                self._mirror = bool(mirror)
                self._tracker.reset()  # boxes jump to the other side: old tracks would never match
                self._last_full = -float("inf")
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
    def classifier(self) -> Classifier:
        return self._classifier

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
        frame = to_rgb_uint8(rgb)
        # Mirror BEFORE analysis, so boxes and their text are drawn on the image the user sees.
        if mirror:
            frame = cv2.flip(frame, 1)
        gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        boxes = self._find_faces(gray, settings, start)
        faces = classify_boxes(gray, boxes, classifier, tta=tta)
        with self._lock:
            faces = self._tracker.update(faces)
        out = annotate(frame, faces) if overlays and faces else frame
        done = self._clock()
        with self._lock:
            self._record(faces, start, done, (frame.shape[1], frame.shape[0]))
        return out

    def _find_faces(self, gray: np.ndarray, settings: DetectorSettings, now: float) -> list[Box]:
        """This frame's face boxes, largest first: full detection when due, else follow the known faces."""
        full = not self._boxes or self._redetect_interval <= 0 or now - self._last_full >= self._redetect_interval
        boxes = [] if full else _follow(gray, self._boxes, settings)
        if not boxes:  # due, or every followed face was lost: scan the whole frame
            boxes = detect_faces(gray, settings)
            with self._lock:
                self._last_full = now
        self._boxes = boxes
        return boxes

    def _record(self, faces: list[FaceResult], start: float, done: float, size: tuple[int, int]) -> None:
        """Update the counters, publish the stats and sample the timeline (caller holds the lock)."""
        if self._t0 is None:
            self._t0 = start
        self._frames += 1
        self._recent.append((done, (done - start) * 1000.0))
        while self._recent and done - self._recent[0][0] > FPS_WINDOW_S:
            self._recent.popleft()
        n = len(self._recent)
        span = self._recent[-1][0] - self._recent[0][0] if n > 1 else 0.0
        fps = (n - 1) / span if span > 0 else 0.0
        ms = sum(m for _, m in self._recent) / n
        largest = faces[0] if faces else None  # analyze() returns faces largest first
        t = done - self._t0
        stats = LiveStats(
            fps=fps,
            ms=ms,
            n_faces=len(faces),
            probs=None if largest is None else largest.probs.copy(),
            label=None if largest is None else largest.label,
            t=t,
            frames=self._frames,
            boxes=tuple(f.box for f in faces),
            size=size,
            face_probs=tuple(f.probs.copy() for f in faces),
        )
        self._publish(stats)
        if largest is not None and t - self._last_sample_t >= self._sample_interval:
            self._timeline.append(TimelineSample(t, largest.probs.copy(), largest.label))
            self._last_sample_t = t

    def _publish(self, stats: LiveStats) -> None:
        """Put into the one-slot mailbox, replacing an unread older value; never blocks."""
        while True:
            try:
                self._mailbox.put_nowait(stats)
                return
            except queue.Full:
                try:
                    self._mailbox.get_nowait()
                except queue.Empty:
                    pass

    def record_error(self, exc: BaseException) -> None:
        """Remember a failure of the frame callback (which must not raise) for the UI to show."""
        with self._lock:
            self._errors += 1
            self._last_error = f"{type(exc).__name__}: {exc}"

    # -------------------------------------------------------------- readers (UI thread)
    def latest_stats(self) -> LiveStats | None:
        """The newest stats (kept when no new frame came since), or None before the first frame."""
        try:
            self._latest = self._mailbox.get_nowait()
        except queue.Empty:
            pass
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
        """The recorded samples, oldest first (a copy)."""
        with self._lock:
            return list(self._timeline)

    def timeline_arrays(self) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """(times [N], probs [N, 7], labels) of the timeline, for charts."""
        samples = self.timeline()
        times = np.array([s.t for s in samples], np.float64)
        probs = np.array([s.probs for s in samples], np.float32).reshape(-1, len(CLASS_NAMES))
        return times, probs, [s.label for s in samples]

    def timeline_csv(self) -> str:
        """The timeline as CSV text: ``t_seconds,label,angry,...,neutral`` (probabilities to 4 decimals)."""
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["t_seconds", "label", *CLASS_NAMES])
        for s in self.timeline():
            writer.writerow([f"{s.t:.3f}", s.label, *(f"{float(p):.4f}" for p in s.probs)])
        return buf.getvalue()

    def reset_timeline(self) -> None:
        """Forget the recorded timeline (counters and stats stay)."""
        with self._lock:
            self._timeline.clear()
            self._last_sample_t = -float("inf")
            self._t0 = None
