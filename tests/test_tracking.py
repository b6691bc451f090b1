"""fer.tracking and fer.detection.follow: stable face ids, smoothing across frames, the detect-or-follow schedule."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from fer.detection.detector import Detection, detect, detect_faces, iou
from fer.detection.follow import DetectOrFollow
from fer.detection.settings import DetectorSettings
from fer.faces import FaceResult
from fer.labels import CLASS_NAMES
from fer.tracking import TRACK_MAX_MISSED, FaceTracker, Smoother


def face(box, probs, track_id: int = 1, followed: bool = False) -> FaceResult:
    return FaceResult(tuple(box), np.asarray(probs, np.float32), np.zeros((48, 48), np.uint8), track_id=track_id,
                      followed=followed)  # fmt: skip


def det(box, score: float | None = None) -> Detection:
    return Detection(tuple(box), score)


def ids(tracked) -> list[int]:
    return [t.id for t in tracked]


def one_hot_mix(a: int, b: int, pa: float) -> np.ndarray:
    p = np.zeros(len(CLASS_NAMES), np.float32)
    p[a], p[b] = pa, 1.0 - pa
    return p


HAPPY, NEUTRAL = CLASS_NAMES.index("happy"), CLASS_NAMES.index("neutral")


# ----------------------------------------------------------------------------- Smoother
def label_flips(strength: float, frames: int = 42) -> int:
    """Label changes for one still, mostly happy face whose raw prediction reads neutral every 3rd frame."""
    smoother = Smoother(strength)
    usual, glitch = one_hot_mix(HAPPY, NEUTRAL, 0.7), one_hot_mix(HAPPY, NEUTRAL, 0.4)
    labels = [
        smoother.smooth([face((100 + i % 2, 100, 80, 80), glitch if i % 3 == 2 else usual)])[0].label
        for i in range(frames)
    ]
    return sum(x != y for x, y in zip(labels, labels[1:]))


def test_smoothing_reduces_label_flicker():
    raw = label_flips(0.0)
    smooth = label_flips(0.8)
    assert raw == 27  # without smoothing the label follows every glitch (in and out)
    assert smooth < raw / 4, (raw, smooth)


def test_without_smoothing_the_input_probabilities_come_back():
    p = one_hot_mix(HAPPY, NEUTRAL, 0.7)
    out = Smoother(0.0).smooth([face((0, 0, 50, 50), p)])
    np.testing.assert_allclose(out[0].probs, p)


def test_smoothing_is_an_exponential_moving_average_per_track():
    smoother = Smoother(0.5)
    a, b = one_hot_mix(HAPPY, NEUTRAL, 1.0), one_hot_mix(HAPPY, NEUTRAL, 0.0)
    smoother.smooth([face((10, 10, 60, 60), a, 1), face((300, 10, 60, 60), b, 2)])
    out = smoother.smooth([face((302, 10, 60, 60), b, 2), face((12, 10, 60, 60), b, 1)])
    np.testing.assert_allclose(out[1].probs[[HAPPY, NEUTRAL]], [0.5, 0.5], atol=1e-6)  # track 1's own history
    np.testing.assert_allclose(out[0].probs, b, atol=1e-6)  # track 2 read neutral twice
    assert out[1].box == (12, 10, 60, 60)  # the box is this frame's, only probabilities are smoothed
    assert abs(float(out[1].probs.sum()) - 1.0) < 1e-5


def test_a_followed_face_keeps_its_last_reading_and_crop():
    smoother = Smoother(0.5)
    p = one_hot_mix(HAPPY, NEUTRAL, 0.8)
    first = smoother.smooth([face((10, 10, 60, 60), p)])[0]
    held = smoother.smooth([face((10, 10, 60, 60), np.zeros(0), followed=True)])
    assert len(held) == 1 and held[0].followed and held[0].track_id == 1
    np.testing.assert_allclose(held[0].probs, first.probs)
    assert smoother.smooth([face((10, 10, 60, 60), np.zeros(0), 7, followed=True)]) == []  # no history: dropped


def test_smoothing_strength_is_clamped():
    assert Smoother(-1).strength == 0.0
    assert 0.9 < Smoother(5).strength < 1.0


# ----------------------------------------------------------------------------- FaceTracker
def test_tracker_matches_faces_by_iou_not_by_order():
    tracker = FaceTracker()
    left, right = (20, 20, 100, 100), (400, 30, 100, 100)
    assert ids(tracker.track([det(left), det(right)])) == [1, 2]
    assert ids(tracker.track([det((405, 32, 100, 100)), det((24, 18, 100, 100))])) == [2, 1]
    # A face far from every track (IoU < 0.3) starts a new track; the two others are held, followed.
    out = tracker.track([det((200, 300, 100, 100))])
    assert ids(out) == [3, 2, 1] and [t.followed for t in out] == [False, True, True]


def test_a_missed_face_is_held_at_its_last_box_then_its_track_ends():
    tracker = FaceTracker(max_missed=3)
    box = (50, 50, 80, 80)
    tracker.track([det(box, 60.0)])
    for _ in range(3):  # missed three times: reported each time, at its last box, with its last score
        (held,) = tracker.track([])
        assert held.followed and held.id == 1 and held.box == box and held.score == 60.0
    assert len(tracker) == 1
    back = tracker.track([det((52, 50, 80, 80))])  # found again (a followed box: no score of its own)
    assert ids(back) == [1] and not back[0].followed and back[0].score == 60.0
    for _ in range(3):
        tracker.track([])
    assert tracker.track([]) == [] and len(tracker) == 0  # the 4th miss in a row ends the track
    assert ids(tracker.track([det(box)])) == [2]  # a fresh track


def test_tracker_ids_are_stable_and_never_reused():
    tracker = FaceTracker(max_missed=2)
    left, right = (20, 20, 100, 100), (400, 30, 100, 100)
    assert ids(tracker.track([det(left), det(right)])) == [1, 2]
    # The right face leaves for longer than max_missed frames (held twice), then comes back: a new id.
    assert ids(tracker.track([det(left)])) == [1, 2]
    assert ids(tracker.track([det(left)])) == [1, 2]
    assert ids(tracker.track([det(left)])) == [1]
    assert ids(tracker.track([det(left), det(right)])) == [1, 3]
    tracker.reset()
    assert ids(tracker.track([det(left)])) == [4]  # reset never reuses an id


def test_tracker_max_shift_keeps_a_fast_face_and_not_a_far_one():
    start, moved = (100, 100, 60, 60), (150, 110, 60, 60)  # moved 0.85 sides: IoU 0.09
    strict, tolerant = FaceTracker(max_missed=0), FaceTracker(max_shift=1.0, max_missed=0)
    for tracker in (strict, tolerant):
        tracker.track([det(start)])
    assert ids(strict.track([det(moved)])) == [2]  # IoU alone: a new face
    assert ids(tolerant.track([det(moved)])) == [1]
    assert ids(tolerant.track([det((300, 110, 60, 60))])) == [2]  # 2.5 sides away: someone else
    assert ids(tolerant.track([det((260, 80, 150, 150))])) == [3]  # same centre, 2.5x the size


# ----------------------------------------------------------------------------- detect or follow
def portrait_gray(astronaut_path: Path, dx: int) -> np.ndarray:
    """640x480 grey frame with the portrait (scaled to 480 high) shifted ``dx`` px from the centre."""
    gray = cv2.resize(cv2.imread(str(astronaut_path), cv2.IMREAD_GRAYSCALE), (480, 480), interpolation=cv2.INTER_AREA)
    frame = np.full((480, 640), 96, np.uint8)
    frame[:, 80 + dx : 560 + dx] = gray
    return frame


def test_detect_or_follow_scans_in_full_only_when_due(astronaut_path: Path, monkeypatch):
    import fer.detection.follow

    full_scans: list[float] = []
    real_detect = fer.detection.follow.detect

    def counting_detect(gray, settings, known=()):
        full_scans.append(now)
        return real_detect(gray, settings, known)

    monkeypatch.setattr(fer.detection.follow, "detect", counting_detect)
    finder = DetectOrFollow(interval=1.0)
    settings = DetectorSettings()
    for i, dx in enumerate(range(-40, 41, 4)):  # 21 frames at 10 frames/s: the face drifts right
        now = i * 0.1
        frame = portrait_gray(astronaut_path, dx)
        found = finder.find(frame, settings, now)
        assert len(found) == 1, (i, found)
        assert iou(found[0].box, detect_faces(frame, settings)[0]) > 0.7, i  # following stays on the face
        assert (found[0].score is None) == (i % 10 != 0), i  # scored by a full scan, not when followed
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
    first = detect(frame, settings)
    assert finder.find(frame, settings, 0.0) == first
    # later full scans keep the known face without a second look (its box: the mean of the raw hits)
    again = detect(frame, settings, known=[d.box for d in first])
    assert again != first and [d.score for d in again] == [d.score for d in first]
    for i in range(1, 3):
        assert finder.find(frame, settings, i * 0.01) == again


def test_a_known_face_skips_the_second_look_and_an_unknown_one_does_not(astronaut_path: Path, monkeypatch):
    import fer.detection.detector

    frame = portrait_gray(astronaut_path, 0)
    looks = []
    real = fer.detection.detector.second_look
    monkeypatch.setattr(fer.detection.detector, "second_look", lambda *a: looks.append(a[1]) or real(*a))
    found = detect(frame, DetectorSettings())
    assert len(found) == 1 and len(looks) >= 1
    looks.clear()
    assert len(detect(frame, DetectorSettings(), known=[found[0].box])) == 1 and looks == []
    elsewhere = (0, 0, found[0].box[2], found[0].box[3])  # a known face somewhere else: looked at again
    assert len(detect(frame, DetectorSettings(), known=[elsewhere])) == 1 and len(looks) >= 1


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


def test_the_docs_state_how_long_a_missed_face_is_held(repo_root: Path):
    text = "\n".join((repo_root / "docs" / f).read_text(encoding="utf-8") for f in ("detection.md", "pages.md"))
    assert f"`TRACK_MAX_MISSED` = {TRACK_MAX_MISSED} analysed frames" in text
    assert f"held at its last box for up to {TRACK_MAX_MISSED} analysed frames" in text  # the Video page's part


def test_followed_boxes_are_looked_for_again(astronaut_path: Path):
    """A face missed by the follower is searched for again around the box the stream hands back."""
    finder = DetectOrFollow(interval=60.0)
    settings = DetectorSettings()
    (first,) = finder.find(portrait_gray(astronaut_path, 0), settings, 0.0)
    blank = np.full((480, 640), 96, np.uint8)
    assert finder.find(blank, settings, 0.1) == []  # lost: a full scan, nothing
    finder.follow([first.box])  # the tracker still holds the face there
    (again,) = finder.find(portrait_gray(astronaut_path, 4), settings, 0.2)
    assert again.score is None and iou(again.box, first.box) > 0.7  # followed, not a full scan (due at 60 s)


def test_one_smoothing_ceiling_for_the_options_and_the_smoother() -> None:
    from fer.options import Options
    from fer.tracking import MAX_SMOOTHING

    assert Options(smoothing=MAX_SMOOTHING).smoothing == MAX_SMOOTHING
    with pytest.raises(ValueError, match="smoothing"):
        Options(smoothing=MAX_SMOOTHING + 0.01)
    assert Smoother(0.999).strength == MAX_SMOOTHING


def test_a_face_back_within_a_second_near_where_it_was_lost_takes_its_id_back():
    tracker = FaceTracker(max_missed=2)
    box = (100, 100, 60, 60)
    assert ids(tracker.track([det(box)], 0.0)) == [1]
    for t in (0.1, 0.2, 0.3):  # held twice, then its track ends
        tracker.track([], t)
    assert len(tracker) == 0 and tracker.lost_boxes() == [box]
    assert ids(tracker.track([det((130, 110, 64, 64))], 0.9)) == [1]  # 0.9 s after it was last seen, nearby
    for t in (1.0, 1.1, 1.2):
        tracker.track([], t)
    assert ids(tracker.track([det((500, 100, 60, 60))], 1.3)) == [2]  # elsewhere: someone else
    for t in (1.4, 1.5, 1.6):
        tracker.track([], t)
    assert ids(tracker.track([det(box)], 2.1)) == [3]  # 1.2 s after: a new id
    assert ids(FaceTracker(max_missed=0).track([det(box)])) == [1]  # no times given: no re-association


def test_a_second_box_on_a_tracked_face_gets_no_id_of_its_own():
    tracker = FaceTracker()
    face_box = (50, 120, 60, 60)
    assert ids(tracker.track([det(face_box)], 0.0)) == [1]
    # a full scan puts a second, shifted box on the same small face (issue 29: a new id, held 5 frames)
    assert ids(tracker.track([det((52, 121, 60, 60)), det((48, 104, 48, 48))], 0.1)) == [1]
    assert ids(tracker.track([det((52, 121, 60, 60)), det((300, 100, 60, 60))], 0.2)) == [1, 2]  # elsewhere: a face
