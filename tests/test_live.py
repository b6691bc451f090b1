"""fer.live: smoothing across frames, the per-tab LiveProcessor, its stats, timeline and thread safety."""

from __future__ import annotations

import csv
import io
import os
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from fer.classifier import DEFAULT_MODEL, MODELS_DIR, Classifier, ModelError
from fer.detection import detect_faces, iou
from fer.labels import CLASS_NAMES
from fer.live import FaceTracker, LiveProcessor, LiveStats, parse_ice_servers
from fer.pipeline import FaceResult

W, H = 640, 480


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def classifier():
    try:
        return Classifier.load(MODELS_DIR / DEFAULT_MODEL)
    except ModelError as exc:
        if os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}:
            pytest.fail(f"the shipped model cannot be loaded on CI: {exc}", pytrace=False)
        pytest.skip(f"no usable model in models/ ({exc}); train one with `python -m fer.train`")


@pytest.fixture(scope="module")
def portrait(astronaut_path: Path) -> np.ndarray:
    """A 640x480 RGB webcam-like frame: the 512x512 portrait scaled to 480 high, centred, grey sides."""
    rgb = cv2.cvtColor(cv2.imread(str(astronaut_path)), cv2.COLOR_BGR2RGB)
    return portrait_frame(rgb)


def portrait_frame(rgb: np.ndarray, dx: int = 0) -> np.ndarray:
    frame = np.full((H, W, 3), 96, np.uint8)
    face = cv2.resize(rgb, (H, H), interpolation=cv2.INTER_AREA)
    left = (W - H) // 2 + dx
    frame[:, left : left + H] = face
    return frame


class FakeClock:
    """Deterministic time: every call advances by ``step`` seconds."""

    def __init__(self, step: float = 0.02) -> None:
        self.t = 100.0
        self.step = step

    def __call__(self) -> float:
        self.t += self.step
        return self.t


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


# ----------------------------------------------------------------------------- LiveProcessor
def test_process_returns_annotated_frame_and_stats(classifier, portrait):
    proc = LiveProcessor(classifier, mirror=False)
    assert proc.latest_stats() is None and proc.frames_processed == 0
    out = proc.process(portrait)
    assert out.shape == portrait.shape and out.dtype == np.uint8
    assert not np.array_equal(out, portrait)  # the box and label are drawn
    stats = proc.latest_stats()
    assert isinstance(stats, LiveStats)
    assert stats.n_faces == 1 and stats.label in CLASS_NAMES
    assert stats.probs is not None and abs(float(stats.probs.sum()) - 1.0) < 1e-4
    assert stats.frames == proc.frames_processed == 1
    assert stats.ms > 0
    assert stats.size == (W, H)
    assert proc.latest_stats() is stats  # kept until a newer frame arrives


def test_overlays_off_returns_the_frame_unchanged(classifier, portrait):
    proc = LiveProcessor(classifier, mirror=False, overlays=False)
    out = proc.process(portrait)
    np.testing.assert_array_equal(out, portrait)
    assert proc.latest_stats().n_faces == 1  # still analysed
    proc.update(mirror=True)
    np.testing.assert_array_equal(proc.process(portrait), portrait[:, ::-1])


def test_mirroring_happens_before_analysis(classifier, portrait):
    plain = LiveProcessor(classifier, mirror=False, redetect_interval=0)
    mirrored = LiveProcessor(classifier, mirror=True, redetect_interval=0)
    plain.process(portrait)
    mirrored.process(portrait)
    (x, y, w, h), (mx, my, mw, mh) = plain.latest_stats().boxes[0], mirrored.latest_stats().boxes[0]
    assert abs(mx - (W - x - w)) <= 4 and abs(my - y) <= 4 and abs(mw - w) <= 4, ((x, y, w, h), (mx, my, mw, mh))
    assert (x + w / 2 - W / 2) * (mx + mw / 2 - W / 2) <= 0 or abs(x + w / 2 - W / 2) < 10  # other side


def test_following_keeps_the_face_as_it_moves(classifier, astronaut_path: Path):
    """Between full detections each face is re-found near its last box; it must track a moving face."""
    rgb = cv2.cvtColor(cv2.imread(str(astronaut_path)), cv2.COLOR_BGR2RGB)
    proc = LiveProcessor(classifier, mirror=False, clock=FakeClock(0.01), redetect_interval=60)
    for dx in range(-40, 41, 4):
        frame = portrait_frame(rgb, dx)
        proc.process(frame)
        stats = proc.latest_stats()
        assert stats.n_faces == 1, dx
        full = detect_faces(frame, proc.settings)[0]
        assert iou(stats.boxes[0], full) > 0.7, (dx, stats.boxes[0], full)


def test_stats_fps_and_timeline_csv(classifier, portrait):
    clock = FakeClock(0.02)  # two clock reads per frame: 40 ms a frame, 25 processed FPS
    proc = LiveProcessor(classifier, mirror=False, clock=clock)
    for _ in range(50):  # 2 s
        proc.process(portrait)
    stats = proc.latest_stats()
    assert stats.fps == pytest.approx(25.0, rel=0.05)
    assert stats.ms == pytest.approx(20.0, rel=0.05)
    assert stats.t == pytest.approx(49 * 0.04 + 0.02, abs=1e-6)
    timeline = proc.timeline()
    assert 7 <= len(timeline) <= 9  # one sample per 250 ms over ~2 s
    assert all(b.t - a.t >= 0.25 - 1e-9 for a, b in zip(timeline, timeline[1:]))
    times, probs, labels = proc.timeline_arrays()
    assert probs.shape == (len(timeline), 7) and len(labels) == len(times)

    text = proc.timeline_csv()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["t_seconds", "label", *CLASS_NAMES]
    assert len(rows) == len(timeline) + 1
    for row in rows[1:]:
        assert row[1] in CLASS_NAMES
        assert abs(sum(float(v) for v in row[2:]) - 1.0) < 1e-3
    assert float(rows[1][0]) == pytest.approx(0.02)

    proc.reset_timeline()
    assert proc.timeline() == [] and proc.timeline_csv().count("\n") == 1


def test_timeline_is_bounded(classifier, portrait):
    proc = LiveProcessor(classifier, mirror=False, clock=FakeClock(0.2), timeline_span=2.0)
    for _ in range(30):
        proc.process(portrait)
    assert len(proc.timeline()) == 8  # 2 s / 0.25 s


def test_frames_without_faces(classifier):
    proc = LiveProcessor(classifier)
    blank = np.full((H, W, 3), 128, np.uint8)
    out = proc.process(blank)
    np.testing.assert_array_equal(out, blank)
    stats = proc.latest_stats()
    assert stats.n_faces == 0 and stats.probs is None and stats.label is None
    assert proc.timeline() == []


def test_update_settings_from_another_thread(classifier, portrait):
    proc = LiveProcessor(classifier, mirror=False)
    proc.update(smoothing=0.3, overlays=False, mirror=True)
    assert proc.smoothing == pytest.approx(0.3) and not proc.overlays and proc.mirror
    from fer.detection import DetectorSettings

    proc.update(DetectorSettings(min_size=400))  # larger than the face: nothing found any more
    proc.process(portrait)
    assert proc.latest_stats().n_faces == 0


def test_record_error(classifier):
    proc = LiveProcessor(classifier)
    proc.record_error(RuntimeError("boom"))
    assert proc.errors == 1 and proc.last_error == "RuntimeError: boom"


def test_two_processors_in_two_threads_never_mix(classifier, portrait):
    """One tab sees a face, the other a blank wall: concurrent processing must keep them apart."""
    face_tab, blank_tab = LiveProcessor(classifier, mirror=False), LiveProcessor(classifier, mirror=False)
    blank = np.full_like(portrait, 80)
    n = 25
    errors: list[str] = []
    start = threading.Barrier(2)

    def run(proc: LiveProcessor, frame: np.ndarray, want_faces: int) -> None:
        start.wait()
        for i in range(n):
            proc.process(frame)
            stats = proc.latest_stats()
            if stats.n_faces != want_faces or stats.frames != i + 1:
                errors.append(f"frame {i}: {stats.n_faces} faces, frame count {stats.frames}")

    threads = [
        threading.Thread(target=run, args=(face_tab, portrait, 1)),
        threading.Thread(target=run, args=(blank_tab, blank, 0)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert face_tab.frames_processed == blank_tab.frames_processed == n
    assert len(face_tab.timeline()) >= 1 and blank_tab.timeline() == []
    assert face_tab.latest_stats().label in CLASS_NAMES and blank_tab.latest_stats().label is None


def test_stats_mailbox_never_blocks(classifier, portrait):
    proc = LiveProcessor(classifier, mirror=False, clock=FakeClock())
    for _ in range(5):  # nobody reads: the one-slot mailbox must drop the older value, not block
        proc.process(portrait)
    assert proc.latest_stats().frames == 5


# ----------------------------------------------------------------------------- ICE servers
def test_parse_ice_servers():
    assert parse_ice_servers("") == [] and parse_ice_servers(None) == [] and parse_ice_servers("  ") == []
    assert parse_ice_servers("stun:stun.example.org:3478, turn:turn.example.org") == [
        {"urls": "stun:stun.example.org:3478"},
        {"urls": "turn:turn.example.org"},
    ]
    servers = parse_ice_servers('[{"urls": ["turn:t.example.org:3478"], "username": "u", "credential": "c"}]')
    assert servers == [{"urls": ["turn:t.example.org:3478"], "username": "u", "credential": "c"}]
    assert parse_ice_servers('{"urls": "stun:s.example.org"}') == [{"urls": "stun:s.example.org"}]
    for bad in ("http://example.org", "[1, 2]", "[{", '[{"username": "u"}]'):
        with pytest.raises(ValueError):
            parse_ice_servers(bad)
