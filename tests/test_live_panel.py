"""The Live page's panel beside the video, driven by a real LiveProcessor on real frames of the portrait.

The page itself needs a WebRTC session (streamlit-webrtc does not run under AppTest), so the panel's
functions (``ui.live.panel``) are run here through AppTest on a processor that has analysed frames;
``tests/test_live_browser.py`` presses STOP in Chromium on the real page.
"""

from __future__ import annotations

import re

import cv2
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from fer.faces import mood
from fer.labels import CLASS_NAMES, emotion_hex
from fer.live import LiveProcessor
from fer.options import Options
from fer.pipeline import analyze
from fer.tracking import TRACK_MAX_MISSED
from ui.charts import probability_bars, probability_bars_html, timeline_figure, with_gaps


@pytest.fixture(scope="module")
def portrait(astronaut_path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(astronaut_path)), cv2.COLOR_BGR2RGB)


def _fed(classifier, frame: np.ndarray, n: int = 6, mirror: bool = True) -> LiveProcessor:
    processor = LiveProcessor(classifier, Options(redetect_interval=0), mirror=mirror)
    for _ in range(n):
        processor.process(frame)
    return processor


def _panel(processor, playing: bool, start_frames: int) -> None:
    from ui.live.panel import stats_panel

    stats_panel(processor, playing, start_frames)


def _run(processor: LiveProcessor, playing: bool, start_frames: int = 0) -> AppTest:
    at = AppTest.from_function(_panel, args=(processor, playing, start_frames), default_timeout=60).run()
    assert not at.exception, at.exception
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _html(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_two_faces_get_bars_under_their_ids_and_a_group_mood(classifier, portrait) -> None:
    frame = cv2.resize(np.hstack([portrait, portrait]), (640, 320))
    processor = _fed(classifier, frame)
    stats = processor.latest_stats()
    assert stats.n_faces == 2 and all(f.track_id is not None for f in stats.faces)
    at = _run(processor, playing=True)
    metrics = _metrics(at)
    assert metrics["Faces"] == "2" and metrics["Processed FPS"] != "—"
    assert metrics["Group mood"] == CLASS_NAMES[int(np.argmax(mood(stats.faces)))]
    text = _html(at)
    for face in stats.faces:  # one name per face, its track id, as on its box (issue 29)
        assert f"**#{face.track_id}**: {face.label} {face.confidence:.0%}" in text
    assert "**Face " not in text
    assert text.count('data-emotion="happy"') == 3  # group mood + one block per face


def test_live_faces_are_listed_left_to_right_like_photos(classifier, portrait) -> None:
    """A small face left of a large one is listed first (by size it used to be second), as on a photo."""
    frame = np.full((480, 800, 3), 110, np.uint8)
    frame[80:400, 10:330] = cv2.resize(portrait, (320, 320), interpolation=cv2.INTER_AREA)
    frame[20:460, 350:790] = cv2.resize(portrait, (440, 440), interpolation=cv2.INTER_AREA)
    processor = _fed(classifier, frame, mirror=False)
    stats = processor.latest_stats()
    assert stats.n_faces == 2
    small, large = stats.faces
    assert small.box[0] < large.box[0] and small.area < large.area
    photo = analyze(frame, classifier)  # the photo pipeline numbers the same faces in the same order
    assert [f.box[0] < 340 for f in photo] == [True, False]
    text = _html(_run(processor, playing=True))
    assert text.index(f"**#{small.track_id}**: {small.label}") < text.index(f"**#{large.track_id}**: {large.label}")


def test_more_faces_than_the_panel_shows_are_counted(classifier, portrait) -> None:
    grid = np.vstack([np.hstack([portrait] * 3)] * 2)
    frame = cv2.resize(grid, (960, 640))
    processor = _fed(classifier, frame, n=2)
    n = processor.latest_stats().n_faces
    assert n == 6
    at = _run(processor, playing=True)
    text = _html(at)
    shown = [f.track_id for f in processor.latest_stats().faces]
    assert f"**#{shown[3]}**" in text and f"**#{shown[4]}**" not in text
    assert any("+2 more faces" in c.value for c in at.caption)


def test_after_stop_nothing_looks_live(classifier, portrait) -> None:
    processor = _fed(classifier, cv2.resize(portrait, (640, 480)))
    live = _metrics(_run(processor, playing=True))
    assert live["Faces"] == "1" and live["Emotion"] in CLASS_NAMES and live["Processed FPS"] != "—"

    at = _run(processor, playing=False)  # STOP pressed, or the page was left (which ends the stream)
    stopped = _metrics(at)
    assert stopped["Processed FPS"] == stopped["Per-frame ms"] == stopped["Faces"] == stopped["Emotion"] == "—"
    assert stopped["Frames processed"] == f"{processor.frames_processed:,}"  # a total, not a live figure
    html = _html(at)
    assert "#bdbdbd" in html and not any(emotion_hex(name) in html for name in CLASS_NAMES), "bars greyed out"
    assert re.findall(r"width:([\d.]+)%", html) == ["0.0"] * len(CLASS_NAMES), "and empty"
    assert any("Stopped" in c.value for c in at.caption)


def test_a_restarted_stream_shows_no_old_figures_before_its_first_frame(classifier, portrait) -> None:
    processor = _fed(classifier, cv2.resize(portrait, (640, 480)))
    at = _run(processor, playing=True, start_frames=processor.frames_processed)
    assert _metrics(at)["Faces"] == "—"
    assert any("Waiting for the first frame" in c.value for c in at.caption)


def test_bars_use_the_emotion_colours_of_every_other_chart() -> None:
    probs = np.linspace(1, 7, 7) / 28
    html = probability_bars_html(probs)
    bars = go_colours_by_name(probability_bars(probs))
    lines = {trace.name: trace.line.color for trace in timeline_figure([0.0, 0.25], [probs, probs]).data}
    for name in CLASS_NAMES:
        assert f'data-emotion="{name}" style="display:block;width:{100 * probs[CLASS_NAMES.index(name)]:.1f}%' in html
        assert f"background:{emotion_hex(name)}" in html
        assert bars[name] == lines[name] == emotion_hex(name)


def go_colours_by_name(fig) -> dict[str, str]:
    trace = fig.data[0]
    return dict(zip(trace.y, trace.marker.color))


# ----------------------------------------------------------------------------- timeline gaps
def test_gaps_break_the_lines() -> None:
    times = [0.0, 0.25, 0.5, 4.5, 4.75]
    probs = np.tile(np.eye(7)[3], (5, 1))
    t, p = with_gaps(times, probs, gap_s=1.0)
    assert len(t) == 6 and np.isnan(p[3]).all() and 0.5 < t[3] < 4.5
    assert not np.isnan(p[[0, 1, 2, 4, 5]]).any()
    t2, p2 = with_gaps(times[:3], probs[:3], gap_s=1.0)
    assert len(t2) == 3 and not np.isnan(p2).any()


def test_a_stretch_without_a_face_is_a_gap_in_the_live_timeline(classifier, portrait) -> None:
    """Face for 2 s, nobody for 3 s, face again: the chart has no line across the empty 3 s."""
    clock = [0.0]
    processor = LiveProcessor(classifier, Options(redetect_interval=0), clock=lambda: clock[0])
    face = cv2.resize(portrait, (640, 480))
    empty = np.full_like(face, 120)
    for frame, seconds in ((face, 2.0), (empty, 3.0), (face, 1.0)):
        end = clock[0] + seconds
        while clock[0] < end:
            processor.process(frame)
            clock[0] += 0.1
    times, probs, _ = processor.timeline_arrays()
    held = (TRACK_MAX_MISSED + 1) * 0.1  # the face is held (followed) for a few frames after it left
    assert np.diff(times).max() > 3.0 - held, "no samples while nobody was there"
    fig = timeline_figure(times, probs)
    for trace in fig.data:
        y = np.asarray(trace.y, dtype=np.float64)
        x = np.asarray(trace.x, dtype=np.float64)
        gaps = np.flatnonzero(np.isnan(y))
        assert len(gaps) == 1 and trace.connectgaps is False
        assert x[gaps[0] - 1] < 2.0 + held and x[gaps[0] + 1] > 4.9
