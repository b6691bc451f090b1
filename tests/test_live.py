"""fer.live: the per-tab LiveProcessor, its stats, timeline and thread safety (tracking: test_tracking.py)."""

from __future__ import annotations

import csv
import io
import threading
import time
from dataclasses import replace
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from fer.detection.detector import detect_faces, iou
from fer.detection.settings import DetectorSettings
from fer.fps import FpsMeter
from fer.labels import CLASS_NAMES
from fer.live import LiveProcessor, LiveStats
from fer.options import Options

W, H = 640, 480


# ----------------------------------------------------------------------------- fixtures
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
    plain = LiveProcessor(classifier, Options(redetect_interval=0), mirror=False)
    mirrored = LiveProcessor(classifier, Options(redetect_interval=0), mirror=True)
    plain.process(portrait)
    mirrored.process(portrait)
    (x, y, w, h), (mx, my, mw, mh) = plain.latest_stats().boxes[0], mirrored.latest_stats().boxes[0]
    # the same face, mirrored: within a pyramid step's rounding (a few px of a ~110 px box)
    tol = max(4, round(0.06 * w))
    assert abs(mx - (W - x - w)) <= tol and abs(my - y) <= tol and abs(mw - w) <= tol, ((x, y, w, h), (mx, my, mw, mh))
    assert (x + w / 2 - W / 2) * (mx + mw / 2 - W / 2) <= 0 or abs(x + w / 2 - W / 2) < 10  # other side


def test_following_keeps_the_face_as_it_moves(classifier, astronaut_path: Path):
    """Between full detections each face is re-found near its last box; it must track a moving face."""
    rgb = cv2.cvtColor(cv2.imread(str(astronaut_path)), cv2.COLOR_BGR2RGB)
    proc = LiveProcessor(
        classifier, Options(redetect_interval=60), mirror=False, clock=FakeClock(0.01), follow_interval=0
    )
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
    assert rows[0] == ["t_seconds", "label", *CLASS_NAMES, "faces"]
    assert len(rows) == len(timeline) + 1
    for row in rows[1:]:
        assert row[1] in CLASS_NAMES and row[-1] == "1"  # the one face's own probabilities
        assert abs(sum(float(v) for v in row[2:-1]) - 1.0) < 1e-3
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
    """The UI thread changes settings while a video thread streams; the frames after it obey them."""
    proc = LiveProcessor(classifier, Options(redetect_interval=60), mirror=False)
    stop = threading.Event()

    def stream() -> None:
        while not stop.is_set():
            proc.process(portrait)

    def wait_for_frames(n: int) -> None:
        deadline = time.monotonic() + 60
        while proc.frames_processed < n:
            assert time.monotonic() < deadline, f"only {proc.frames_processed} frames processed"
            time.sleep(0.01)

    video = threading.Thread(target=stream)
    video.start()
    try:
        wait_for_frames(3)
        assert proc.latest_stats().n_faces == 1
        proc.update(replace(proc.options, smoothing=0.3), overlays=False)
        proc.update(replace(proc.options, detector=DetectorSettings(min_size=400)))  # larger than the face
        # ... nothing found any more, and the face is not held either: new detector settings start afresh
        wait_for_frames(proc.frames_processed + 2)  # one frame may have started before the update
        assert proc.latest_stats().n_faces == 0
    finally:
        stop.set()
        video.join(timeout=60)
    assert proc.smoothing == pytest.approx(0.3) and not proc.overlays


def test_process_frame_takes_and_returns_the_codecs_yuv420p(classifier, portrait):
    """The WebRTC callback: a decoder-like yuv420p frame in, an annotated yuv420p frame out (no swscale
    conversion left for the encoder), matching what :meth:`LiveProcessor.process` draws."""
    proc = LiveProcessor(classifier, mirror=False)
    decoded = av.VideoFrame.from_ndarray(portrait, format="rgb24").reformat(format="yuv420p")
    out = proc.process_frame(decoded)
    assert isinstance(out, av.VideoFrame) and out.format.name == "yuv420p"
    assert (out.width, out.height) == (W, H)
    drawn = LiveProcessor(classifier, mirror=False).process(decoded.to_ndarray(format="rgb24"))
    shown = out.to_ndarray(format="rgb24").astype(np.int16)
    assert np.abs(shown - drawn).mean() < 2.0  # the same picture, up to chroma subsampling
    assert np.abs(shown - decoded.to_ndarray(format="rgb24")).mean() > 0.1  # the box and label are there
    assert proc.latest_stats().n_faces == 1 and proc.errors == 0


def test_process_frame_never_raises(classifier, portrait, monkeypatch: pytest.MonkeyPatch):
    proc = LiveProcessor(classifier)
    frame = av.VideoFrame.from_ndarray(portrait, format="rgb24")
    monkeypatch.setattr(proc, "process", lambda rgb: 1 / 0)
    assert proc.process_frame(frame) is frame  # passed through: the stream goes on
    assert proc.errors == 1 and proc.last_error.startswith("ZeroDivisionError")


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


def test_latest_stats_are_the_newest_frames_even_unread(classifier, portrait):
    proc = LiveProcessor(classifier, mirror=False, clock=FakeClock())
    for _ in range(5):  # nobody reads in between: the reader gets the newest, never a stale one
        proc.process(portrait)
    assert proc.latest_stats().frames == 5


def test_fps_meter_window():
    meter = FpsMeter(window=1.0)
    assert meter.fps == 0.0 and meter.ms == 0.0
    for i in range(30):  # a frame every 0.1 s, each taking 40 ms
        meter.add(i * 0.1, i * 0.1 + 0.04)
    assert meter.fps == pytest.approx(10.0) and meter.ms == pytest.approx(40.0)
