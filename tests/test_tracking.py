"""fer.tracking: stable face ids, smoothing across frames, and the detect-or-follow schedule."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from fer.detection import DetectorSettings, detect_faces, iou
from fer.labels import CLASS_NAMES
from fer.pipeline import FaceResult
from fer.tracking import DetectOrFollow, FaceTracker


def face(box, probs) -> FaceResult:
    return FaceResult(tuple(box), np.asarray(probs, np.float32), np.zeros((48, 48), np.uint8))


def one_hot_mix(a: int, b: int, pa: float) -> np.ndarray:
    p = np.zeros(len(CLASS_NAMES), np.float32)
    p[a], p[b] = pa, 1.0 - pa
    return p


HAPPY, NEUTRAL = CLASS_NAMES.index("happy"), CLASS_NAMES.index("neutral")


# ----------------------------------------------------------------------------- FaceTracker
def label_flips(strength: float, frames: int = 42) -> int:
    """Label changes for one still, mostly happy face whose raw prediction reads neutral every 3rd frame."""
    tracker = FaceTracker(strength)
    usual, glitch = one_hot_mix(HAPPY, NEUTRAL, 0.7), one_hot_mix(HAPPY, NEUTRAL, 0.4)
    labels = [
        tracker.update([face((100 + i % 2, 100, 80, 80), glitch if i % 3 == 2 else usual)])[0].label
        for i in range(frames)
    ]
    return sum(x != y for x, y in zip(labels, labels[1:]))


def test_tracker_smoothing_reduces_label_flicker():
    raw = label_flips(0.0)
    smooth = label_flips(0.8)
    assert raw == 27  # without smoothing the label follows every glitch (in and out)
    assert smooth < raw / 4, (raw, smooth)


def test_tracker_without_smoothing_returns_the_input_probabilities():
    tracker = FaceTracker(0.0)
    p = one_hot_mix(HAPPY, NEUTRAL, 0.7)
    out = tracker.update([face((0, 0, 50, 50), p)])
    np.testing.assert_allclose(out[0].probs, p)


def test_tracker_is_an_exponential_moving_average():
    tracker = FaceTracker(0.5)
    a, b = one_hot_mix(HAPPY, NEUTRAL, 1.0), one_hot_mix(HAPPY, NEUTRAL, 0.0)
    tracker.update([face((10, 10, 60, 60), a)])
    out = tracker.update([face((12, 10, 60, 60), b)])[0]
    np.testing.assert_allclose(out.probs[[HAPPY, NEUTRAL]], [0.5, 0.5], atol=1e-6)
    assert out.box == (12, 10, 60, 60)  # the box is this frame's, only probabilities are smoothed
    assert abs(float(out.probs.sum()) - 1.0) < 1e-5


def test_tracker_matches_faces_by_iou_not_by_order():
    tracker = FaceTracker(0.9)
    left, right = (20, 20, 100, 100), (400, 30, 100, 100)
    happy, neutral = one_hot_mix(HAPPY, NEUTRAL, 1.0), one_hot_mix(HAPPY, NEUTRAL, 0.0)
    tracker.update([face(left, happy), face(right, neutral)])
    # Next frame: order swapped, boxes moved a little, and both raw predictions swapped too.
    out = tracker.update([face((405, 32, 100, 100), happy), face((24, 18, 100, 100), neutral)])
    assert out[0].label == "neutral" and out[1].label == "happy"  # each kept its own history
    # A face far from every track (IoU < 0.3) starts a new, unsmoothed track.
    out = tracker.update([face((200, 300, 100, 100), happy)])
    np.testing.assert_allclose(out[0].probs, happy)


def test_tracker_drops_tracks_after_missed_frames():
    tracker = FaceTracker(0.9, max_missed=3)
    box = (50, 50, 80, 80)
    tracker.update([face(box, one_hot_mix(HAPPY, NEUTRAL, 1.0))])
    for _ in range(2):
        tracker.update([])
    assert len(tracker) == 1
    out = tracker.update([face(box, one_hot_mix(HAPPY, NEUTRAL, 0.0))])  # back after 2 missed frames
    assert out[0].label == "happy"  # still smoothed with its history
    for _ in range(4):
        tracker.update([])
    assert len(tracker) == 0
    out = tracker.update([face(box, one_hot_mix(HAPPY, NEUTRAL, 0.0))])
    assert out[0].label == "neutral"  # a fresh track


def test_tracker_strength_is_clamped():
    assert FaceTracker(-1).strength == 0.0
    assert 0.9 < FaceTracker(5).strength < 1.0


def test_tracker_ids_are_stable_and_never_reused():
    tracker = FaceTracker(0.5, max_missed=2)
    p = one_hot_mix(HAPPY, NEUTRAL, 0.7)
    left, right = (20, 20, 100, 100), (400, 30, 100, 100)
    first = tracker.track([face(left, p), face(right, p)])
    assert [i for i, _ in first] == [1, 2]
    # Moved a little and listed in the other order: each face keeps its id.
    again = tracker.track([face((404, 30, 100, 100), p), face((22, 21, 100, 100), p)])
    assert [i for i, _ in again] == [2, 1]
    # The right face leaves for longer than max_missed frames, then comes back: a new id.
    for _ in range(3):
        assert [i for i, _ in tracker.track([face(left, p)])] == [1]
    back = tracker.track([face(left, p), face(right, p)])
    assert [i for i, _ in back] == [1, 3]
    tracker.reset()
    assert [i for i, _ in tracker.track([face(left, p)])] == [4]  # reset never reuses an id


def test_tracker_max_shift_keeps_a_fast_face_and_not_a_far_one():
    p = one_hot_mix(HAPPY, NEUTRAL, 0.7)
    start, moved = (100, 100, 60, 60), (150, 110, 60, 60)  # moved 0.85 sides: IoU 0.09
    strict, tolerant = FaceTracker(0.5), FaceTracker(0.5, max_shift=1.0)
    for tracker in (strict, tolerant):
        tracker.track([face(start, p)])
    assert strict.track([face(moved, p)])[0][0] == 2  # IoU alone: a new face
    assert tolerant.track([face(moved, p)])[0][0] == 1
    assert tolerant.track([face((300, 110, 60, 60), p)])[0][0] == 2  # 2.5 sides away: someone else
    assert tolerant.track([face((260, 80, 150, 150), p)])[0][0] == 3  # same centre, 2.5x the size


def test_tracker_update_is_track_without_ids():
    a, b = FaceTracker(0.7), FaceTracker(0.7)
    for dx in (0, 3, 6):
        faces = [face((10 + dx, 10, 60, 60), one_hot_mix(HAPPY, NEUTRAL, 0.2 + dx / 10))]
        np.testing.assert_allclose(a.update(faces)[0].probs, b.track(faces)[0][1].probs)


# ----------------------------------------------------------------------------- detect or follow
def portrait_gray(astronaut_path: Path, dx: int) -> np.ndarray:
    """640x480 grey frame with the portrait (scaled to 480 high) shifted ``dx`` px from the centre."""
    gray = cv2.resize(cv2.imread(str(astronaut_path), cv2.IMREAD_GRAYSCALE), (480, 480), interpolation=cv2.INTER_AREA)
    frame = np.full((480, 640), 96, np.uint8)
    frame[:, 80 + dx : 560 + dx] = gray
    return frame


def test_detect_or_follow_scans_in_full_only_when_due(astronaut_path: Path, monkeypatch):
    import fer.tracking

    full_scans: list[float] = []
    real_detect = fer.tracking.detect_faces

    def counting_detect(gray, settings):
        full_scans.append(now)
        return real_detect(gray, settings)

    monkeypatch.setattr(fer.tracking, "detect_faces", counting_detect)
    finder = DetectOrFollow(interval=1.0)
    settings = DetectorSettings()
    for i, dx in enumerate(range(-40, 41, 4)):  # 21 frames at 10 frames/s: the face drifts right
        now = i * 0.1
        frame = portrait_gray(astronaut_path, dx)
        boxes = finder.find(frame, settings, now)
        assert len(boxes) == 1, (i, boxes)
        assert iou(boxes[0], real_detect(frame, settings)[0]) > 0.7, i  # following stays on the face
    assert full_scans == [0.0, 1.0, 2.0]  # first frame, then once a second
    now = 2.05
    finder.find(portrait_gray(astronaut_path, 40), settings, now, full=True)  # asked for: scans at once
    assert full_scans[-1] == 2.05
    now = 2.1  # nothing to follow on a blank frame: a full scan, which finds nothing
    assert finder.find(np.full((480, 640), 96, np.uint8), settings, now) == []
    assert full_scans[-1] == 2.1
    now = 2.2  # no face known any more: the next frame is scanned in full, not followed
    assert len(finder.find(portrait_gray(astronaut_path, 0), settings, now)) == 1
    assert full_scans[-1] == 2.2


def test_interval_zero_scans_every_frame(astronaut_path: Path):
    finder = DetectOrFollow(interval=0)
    frame = portrait_gray(astronaut_path, 0)
    settings = DetectorSettings()
    for i in range(3):
        assert finder.find(frame, settings, i * 0.01) == detect_faces(frame, settings)


def test_follow_interval_reuses_boxes_located_a_moment_ago(astronaut_path: Path):
    """The webcam locates known faces at most every ``follow_interval``; frames between reuse the boxes."""
    finder = DetectOrFollow(interval=1.0, follow_interval=0.05)
    settings = DetectorSettings()
    face = finder.find(portrait_gray(astronaut_path, 0), settings, 0.0)
    assert len(face) == 1
    blank = np.full((480, 640), 96, np.uint8)
    assert finder.find(blank, settings, 0.03) == face  # too soon to look again: the last boxes
    assert finder.find(blank, settings, 0.06) == []  # due: followed, lost, scanned in full, nothing
    moved = portrait_gray(astronaut_path, 20)
    assert len(finder.find(moved, settings, 0.07)) == 1  # nothing known: scanned at once, found
    assert finder.find(blank, settings, 0.1) == finder.find(blank, settings, 0.11)  # within 0.05 of 0.07
