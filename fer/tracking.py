"""Faces across frames: stable ids and smoothed probabilities, and cheap detect-or-follow scheduling.

Used by :class:`fer.stream.FaceStream`, the one frame loop of the webcam (:mod:`fer.live`) and video
files (:mod:`fer.video`): frames come in order, with a time in seconds (the wall clock for the webcam,
the frame's timestamp for a file).

Following a known face (re-detecting it in a small window around its last box) lives here rather than
in :mod:`fer.detection` for now: that module was being rewritten while this one was split out of the
old ``fer/live.py``, and following is a tracking concern built on detection's public functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from fer.detection import (
    CASCADE_WINDOW,
    Box,
    Detection,
    DetectorSettings,
    Source,
    detect,
    detect_in_region,
    frame_box,
    iou,
    order_boxes,
)
from fer.faces import FaceResult
from fer.haar import cascade_window

#: Two boxes in consecutive frames overlapping more than this (IoU) are the same face.
TRACK_IOU = 0.3
#: A tracked face the detector misses is held at its last box (reported with ``followed=True``) for up
#: to this many analysed frames in a row (blinks, a turned head, a hand over the face); missed once more,
#: its track ends, and a face that comes back later gets a new id. The webcam and video files alike.
TRACK_MAX_MISSED = 5
#: Full-frame face detection runs at most this often (and whenever no face is being followed); in
#: between, each face is re-detected only in a small window around where it was (see ``follow_faces``).
#: A face that enters beside a known one is found within this time (issue 20 asked 0.5 s for video).
REDETECT_INTERVAL_S = 0.5
#: The webcam locates known faces at most this often (seconds); frames in between reuse the boxes.
LIVE_FOLLOW_INTERVAL_S = 0.05
#: Following: the window around the previous box, as a fraction of its side added on every side ...
FOLLOW_PAD = 0.5
#: ... scanned at a scale where the face is this many pixels wide (cheap, and still precise to ~2 px) ...
FOLLOW_FACE_PX = 48
#: ... accepting faces down to this fraction of the previous size (smaller: lost, so full detection).
FOLLOW_MIN_SCALE = 0.6
#: ... by the first cascade alone with this many neighbours: the face was verified when first found, and
#: a hit must overlap its last box. Issue 20, two real faces (76 and 50 px) in three 10 s clips: as many
#: frames held as with the second look and the third cascade in following too, at 2.4x the frames/s;
#: 5 neighbours lost the 50 px face in a quarter of one clip's frames.
FOLLOW_NEIGHBORS = 3


@dataclass(frozen=True)
class Tracked:
    """A face located in a frame under its track id: what the classification stage is handed."""

    box: Box
    id: int
    score: float | None = None  # the detector's confidence (the track's last one while followed)
    source: Source = "detector"
    followed: bool = False  # missed by detection in this frame: the track's last box, held


@dataclass
class _Track:
    id: int
    box: Box
    score: float | None
    source: Source
    missed: int = 0


class FaceTracker:
    """Stable face ids across frames, and a missed face held for a few frames instead of vanishing.

    Detections are matched to the previous frame's tracks by box IoU (greedy, best overlap first, at
    least ``iou_threshold``). A track without a match is reported at its last box, ``followed``, for up
    to ``max_missed`` frames in a row; after that it ends, so a face that comes back later starts fresh,
    with a new id. Ids count up from 1 and are never reused.

    ``max_shift`` (0: off, the webcam's choice) also matches a face whose box barely overlaps a track's
    but whose centre moved at most ``max_shift`` times the track's side, at a similar size: frames
    sampled far apart (a video analysed at 2 frames/s) see a walking face overlap its last box little.
    One instance per stream, called from one thread.
    """

    def __init__(
        self, iou_threshold: float = TRACK_IOU, max_missed: int = TRACK_MAX_MISSED, max_shift: float = 0.0
    ) -> None:
        self.iou_threshold = float(iou_threshold)
        self.max_missed = int(max_missed)
        self.max_shift = float(max_shift)
        self._tracks: list[_Track] = []
        self._next_id = 1

    def __len__(self) -> int:
        return len(self._tracks)

    def reset(self) -> None:
        """Forget every track (ids keep counting up, so an old id never names a new face)."""
        self._tracks = []

    def track(self, detections: Sequence[Detection]) -> list[Tracked]:
        """This frame's faces under their ids: every detection, then the tracks held without one."""
        det_to_track = self._match([d.box for d in detections])
        kept: list[_Track] = []
        out: list[Tracked] = []
        for di, det in enumerate(detections):
            previous = self._tracks[det_to_track[di]] if di in det_to_track else None
            if previous is None:
                track_id, self._next_id = self._next_id, self._next_id + 1
                score = det.score
            else:
                track_id = previous.id
                score = previous.score if det.score is None else det.score  # a followed box is not scored
            kept.append(_Track(track_id, det.box, score, det.source))
            out.append(Tracked(det.box, track_id, score, det.source))
        used = set(det_to_track.values())
        for ti, track in enumerate(self._tracks):
            if ti not in used and track.missed < self.max_missed:
                kept.append(replace(track, missed=track.missed + 1))
                out.append(Tracked(track.box, track.id, track.score, track.source, followed=True))
        self._tracks = kept
        return out

    def _match(self, boxes: Sequence[Box]) -> dict[int, int]:
        """Box index -> track index, greedily by best overlap (then nearest centre), each track used once."""
        pairs = sorted(
            (
                (iou(box, track.box), -_shift(box, track.box), bi, ti)
                for bi, box in enumerate(boxes)
                for ti, track in enumerate(self._tracks)
            ),
            reverse=True,
        )
        box_to_track: dict[int, int] = {}
        used_tracks: set[int] = set()
        for overlap, neg_shift, bi, ti in pairs:
            if bi in box_to_track or ti in used_tracks:
                continue
            if overlap < self.iou_threshold and not (
                -neg_shift <= self.max_shift and _similar_size(boxes[bi], self._tracks[ti].box)
            ):
                continue
            box_to_track[bi] = ti
            used_tracks.add(ti)
        return box_to_track


class Smoother:
    """An exponential moving average of each tracked face's probabilities, keyed by track id.

    ``strength`` in [0, 1): the weight of the past (0 = no smoothing). A followed face (not detected in
    this frame) keeps its last smoothed reading and crop at its held box; ids no longer tracked are forgotten.
    """

    def __init__(self, strength: float) -> None:
        self.strength = strength
        self._last: dict[int, FaceResult] = {}

    @property
    def strength(self) -> float:
        return self._strength

    @strength.setter
    def strength(self, value: float) -> None:
        self._strength = float(min(max(float(value), 0.0), MAX_STRENGTH))

    def reset(self) -> None:
        self._last = {}

    def smooth(self, faces: Sequence[FaceResult]) -> list[FaceResult]:
        """Smoothed copies of ``faces`` (each with its ``track_id``), in the order given."""
        alpha = self._strength
        out: list[FaceResult] = []
        for face in faces:
            previous = self._last.get(face.track_id) if face.track_id is not None else None
            if face.followed:
                if previous is not None:
                    out.append(replace(previous, box=face.box, score=face.score, followed=True))
                continue
            new = np.asarray(face.probs, np.float32)
            if previous is None or alpha == 0.0:
                probs = new.copy()
            else:
                probs = alpha * previous.probs + (1.0 - alpha) * new
                probs = (probs / max(float(probs.sum()), 1e-12)).astype(np.float32)
            out.append(face.with_probs(probs))
        self._last = {f.track_id: f for f in out if f.track_id is not None}
        return out


#: Highest smoothing strength accepted: 1.0 would freeze the first probabilities forever.
MAX_STRENGTH = 0.98


def _shift(box: Box, previous: Box) -> float:
    """How far the box's centre is from the previous one's, in sides of the previous box."""
    dx = (box[0] + box[2] / 2) - (previous[0] + previous[2] / 2)
    dy = (box[1] + box[3] / 2) - (previous[1] + previous[3] / 2)
    return float(np.hypot(dx, dy)) / max(previous[2], previous[3], 1)


def _similar_size(a: Box, b: Box, factor: float = 1.5) -> bool:
    return max(a[2], b[2]) <= factor * max(1, min(a[2], b[2]))


class DetectOrFollow:
    """Faces per frame: a full-frame Haar scan when due, else each known face followed locally.

    Detection is what costs time on a CPU, so a frame only gets a full scan every ``interval`` seconds,
    when asked to (``full=True``), or when every followed face was lost; other frames re-detect each
    known face in a window around its last box (:func:`follow_faces`), far cheaper, which keeps the boxes
    on a moving face. New faces therefore appear within ``interval``. ``interval=0`` scans every frame in
    full. While no face is known, a full scan runs at most every ``idle_interval`` seconds (0, the
    webcam's choice: every frame), so footage without faces does not cost a full scan per frame. Known
    faces are located at most every ``follow_interval`` seconds (the webcam: 20 times a second); a frame
    in between reuses the last faces, which halves the detection work of a 30 FPS camera.
    The faces followed are the last ones found, or those :meth:`follow` names (the stream hands back
    every tracked face, held ones included). One instance per stream, called from one thread.
    """

    def __init__(
        self, interval: float = REDETECT_INTERVAL_S, idle_interval: float = 0.0, follow_interval: float = 0.0
    ) -> None:
        self.interval = float(interval)
        self.idle_interval = float(idle_interval)
        self.follow_interval = float(follow_interval)
        self._found: list[Detection] = []  # what the last located frame gave
        self._follow: list[Box] = []  # where to look next
        self._last_full = -float("inf")
        self._last_located = -float("inf")

    def follow(self, boxes: Sequence[Box]) -> None:
        """Look for faces around these boxes in the next frames (until the next full scan)."""
        self._follow = list(boxes)

    def reset(self) -> None:
        """Forget the known faces: the next frame is scanned in full."""
        self._found, self._follow = [], []
        self._last_full = self._last_located = -float("inf")

    def find(self, gray: np.ndarray, settings: DetectorSettings, now: float, *, full: bool = False) -> list[Detection]:
        """This frame's faces, largest first; ``now`` in seconds (any origin, increasing).

        Faces from a full scan carry the detector's score; followed ones carry none.
        """
        since = now - self._last_full
        if not full and self._follow and self.interval > 0 and since < self.interval:
            if now - self._last_located < self.follow_interval:
                return self._found  # located a moment ago: a face moves a few pixels at most since
            boxes = follow_faces(gray, self._follow, settings)
            if boxes:
                self._found, self._follow, self._last_located = [Detection(b) for b in boxes], boxes, now
                return self._found  # else every followed face was lost: scan the whole frame now
        elif not full and not self._follow and since < self.idle_interval:
            return []
        self._found = detect(gray, settings, known=self._follow)
        self._follow = [d.box for d in self._found]
        self._last_full = self._last_located = now
        return self._found


def follow_faces(gray: np.ndarray, previous: Sequence[Box], settings: DetectorSettings) -> list[Box]:
    """Re-detect each previous face in a window around its box; returns the faces found, largest first.

    Each window (the box widened by ``FOLLOW_PAD`` per side) is scanned by the first pass's cascade alone
    with ``FOLLOW_NEIGHBORS`` neighbours (no second look: the face was checked when it was found),
    scaled so the face is ~``FOLLOW_FACE_PX`` wide; the hit overlapping the previous box most is kept,
    and framed exactly as :func:`fer.detection.detect_faces` frames boxes.
    """
    height, width = gray.shape[:2]
    found: list[Box] = []
    for x, y, w, h in previous:
        side = max(w, h) / (1.0 + 2.0 * settings.margin)  # back to the cascade's own (unframed) size
        pad = int(round(max(w, h) * FOLLOW_PAD))
        x0, y0 = max(0, x - pad), max(0, y - pad)
        x1, y1 = min(width, x + w + pad), min(height, y + h + pad)
        if x0 >= x1 or y0 >= y1:
            continue
        local = replace(
            settings,
            min_size=max(settings.min_size, int(FOLLOW_MIN_SCALE * side)),
            min_face_fraction=0.0,
            scan_windows=FOLLOW_FACE_PX * FOLLOW_MIN_SCALE / cascade_window(settings.cascade_file),
            max_side=max(CASCADE_WINDOW, int(round(FOLLOW_FACE_PX * max(x1 - x0, y1 - y0) / side))),
            verify=False,
            min_neighbors=FOLLOW_NEIGHBORS,
        )
        hits = [
            frame_box(raw, gray.shape, settings.margin)
            for raw in detect_in_region(gray, (x0, y0, x1 - x0, y1 - y0), local)
        ]
        if hits:
            best = max(hits, key=lambda b, prev=(x, y, w, h): iou(b, prev))
            if iou(best, (x, y, w, h)) > 0:
                found.append(best)
    return order_boxes(found)  # two followed faces that converged on one face are kept once
