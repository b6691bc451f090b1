"""Faces across frames: stable ids and smoothed probabilities.

Used by :class:`fer.stream.FaceStream`, the one frame loop of the webcam (:mod:`fer.live`) and video
files (:mod:`fer.video.analyse`): frames come in order, with a time in seconds (the wall clock for the webcam,
the frame's timestamp for a file). Which faces to look at in each frame (a full scan, or following the
known ones) is :mod:`fer.detection.follow`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from fer.detection.detector import Detection, Source, iou
from fer.detection.settings import Box
from fer.faces import FaceResult

#: Two boxes in consecutive frames overlapping more than this (IoU) are the same face.
TRACK_IOU = 0.3
#: A tracked face the detector misses is held at its last box (reported with ``followed=True``) for up
#: to this many analysed frames in a row (blinks, a turned head, a hand over the face); missed once more,
#: its track ends. The webcam and video files alike.
TRACK_MAX_MISSED = 5
#: A face found again within this many seconds of its track's last detection, near where it was lost
#: (:data:`REASSOCIATE_SHIFT`, similar size), takes its old id back: a head turned away for a moment, a
#: hand over the face, a person stepping out and back. A face gone longer gets a new id.
REASSOCIATE_S = 1.0
#: ... near: its centre at most this many sides of the lost box from the lost box's centre.
REASSOCIATE_SHIFT = 1.5


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
    seen: float | None = None  # the stream time of its last detection (None: the caller gives no times)


class FaceTracker:
    """Stable face ids across frames, and a missed face held for a few frames instead of vanishing.

    Detections are matched to the previous frame's tracks by box IoU (greedy, best overlap first, at
    least ``iou_threshold``). A track without a match is reported at its last box, ``followed``, for up
    to ``max_missed`` frames in a row; after that it ends. When frames come with times (``now``), an
    ended track is remembered for :data:`REASSOCIATE_S` seconds after its last detection: a new face near
    its last box (:data:`REASSOCIATE_SHIFT` sides, similar size) takes its id back; a face that comes back
    later, or elsewhere, starts fresh with a new id. Ids count up from 1 and never name another face. A new
    box whose centre lies in the box of a face matched in the same frame is a second box on that face
    (a full scan can put two on a small face): it is dropped, not given an id.

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
        self._lost: list[_Track] = []  # ended tracks, for re-association within REASSOCIATE_S
        self._next_id = 1

    def __len__(self) -> int:
        return len(self._tracks)

    def reset(self) -> None:
        """Forget every track (ids keep counting up, so an old id never names a new face)."""
        self._tracks, self._lost = [], []

    def track(self, detections: Sequence[Detection], now: float | None = None) -> list[Tracked]:
        """This frame's faces under their ids: every detection, then the tracks held without one.

        ``now``: the frame's time in seconds (increasing), which lets a face lost a moment ago take its
        id back (:data:`REASSOCIATE_S`); without it, a face whose track ended always gets a new id.
        """
        det_to_track = self._match([d.box for d in detections])
        if now is not None:
            self._lost = [t for t in self._lost if t.seen is not None and now - t.seen <= REASSOCIATE_S]
        kept: list[_Track] = []
        out: list[Tracked] = []
        matched = [detections[di].box for di in det_to_track]
        for di, det in enumerate(detections):
            if di not in det_to_track and any(_centre_inside(det.box, box) for box in matched):
                continue  # a second box on a face already tracked in this frame: not a new person
            previous = self._tracks[det_to_track[di]] if di in det_to_track else self._reassociate(det.box)
            if previous is None:
                track_id, self._next_id = self._next_id, self._next_id + 1
                score = det.score
            else:
                track_id = previous.id
                score = previous.score if det.score is None else det.score  # a followed box is not scored
            kept.append(_Track(track_id, det.box, score, det.source, seen=now))
            out.append(Tracked(det.box, track_id, score, det.source))
        used = set(det_to_track.values())
        for ti, track in enumerate(self._tracks):
            if ti in used:
                continue
            if track.missed < self.max_missed:
                kept.append(replace(track, missed=track.missed + 1))
                out.append(Tracked(track.box, track.id, track.score, track.source, followed=True))
            elif now is not None:
                self._lost.append(track)
        self._tracks = kept
        return out

    def lost_boxes(self) -> list[Box]:
        """The last boxes of the ended tracks that may still take their id back (see :meth:`track`):
        where the stream keeps looking for them, so a face back within REASSOCIATE_S is found at once."""
        return [t.box for t in self._lost]

    def _reassociate(self, box: Box) -> _Track | None:
        """The ended track (within REASSOCIATE_S) nearest this new box, near it and of a similar size."""
        near = [t for t in self._lost if _shift(box, t.box) <= REASSOCIATE_SHIFT and _similar_size(box, t.box, 2.0)]
        if not near:
            return None
        best = min(near, key=lambda t: _shift(box, t.box))
        self._lost.remove(best)
        return best

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

    ``strength`` in [0, :data:`MAX_SMOOTHING`]: the weight of the past (0 = no smoothing). A followed face
    (not detected in this frame) keeps its last smoothed reading and crop at its held box; ids no longer
    tracked are forgotten.
    """

    def __init__(self, strength: float) -> None:
        self.strength = strength
        self._last: dict[int, FaceResult] = {}

    @property
    def strength(self) -> float:
        return self._strength

    @strength.setter
    def strength(self, value: float) -> None:
        self._strength = float(min(max(float(value), 0.0), MAX_SMOOTHING))

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


#: Highest smoothing strength (the weight of the past) anywhere: the app's sliders, the CLI and
#: :class:`fer.options.Options` accept up to this; 1.0 would freeze the first probabilities forever.
MAX_SMOOTHING = 0.95


def _shift(box: Box, previous: Box) -> float:
    """How far the box's centre is from the previous one's, in sides of the previous box."""
    dx = (box[0] + box[2] / 2) - (previous[0] + previous[2] / 2)
    dy = (box[1] + box[3] / 2) - (previous[1] + previous[3] / 2)
    return float(np.hypot(dx, dy)) / max(previous[2], previous[3], 1)


def _centre_inside(box: Box, other: Box) -> bool:
    """True when the box's centre lies inside the other box."""
    cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
    return other[0] <= cx <= other[0] + other[2] and other[1] <= cy <= other[1] + other[3]


def _similar_size(a: Box, b: Box, factor: float = 1.5) -> bool:
    return max(a[2], b[2]) <= factor * max(1, min(a[2], b[2]))
