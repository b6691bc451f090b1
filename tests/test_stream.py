"""fer.stream.FaceStream, the one frame loop of the webcam and video files, on the two-face clip's frames.

The frames come from tests/support/videoclips.py (the real portrait and a real FER2013 face, scripted in and
out of the picture), so what is visible in each frame is known.
"""

from __future__ import annotations

import cv2
import numpy as np
from support.videoclips import TWO_FACES_FPS, two_faces_frames, visible

from fer.detection.settings import DetectorSettings
from fer.faces import ordered
from fer.options import Options
from fer.stream import FaceStream
from fer.tracking import TRACK_MAX_MISSED


def run(stream: FaceStream, frames: list[np.ndarray], classifier) -> list[list]:
    grays = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    return [
        stream.step(gray, i / TWO_FACES_FPS, classifier, DetectorSettings(), tta=False) for i, gray in enumerate(grays)
    ]


def test_step_tracks_holds_and_numbers_the_faces(video_faces, classifier) -> None:
    frames = two_faces_frames(video_faces)
    options = Options()
    results = run(FaceStream(smoothing=0.0, redetect_interval=options.redetect_interval), frames, classifier)
    portrait_ids = set()
    for i, faces in enumerate(results):
        show_portrait, show_fer = visible(i / TWO_FACES_FPS)
        assert faces == ordered(faces)  # numbered left to right, as photos
        assert all(f.track_id is not None for f in faces)
        detected = [f for f in faces if not f.followed]
        assert len(detected) <= show_portrait + show_fer, i  # no face where there is none
        if show_fer and not 4.5 <= i / TWO_FACES_FPS < 5.6:  # (a face coming in waits for a full scan)
            assert any(f.box[0] >= 320 for f in faces), i  # detected, or held through a missed detection
        left = [f for f in faces if f.box[0] < 320]
        if show_portrait or 3.0 <= i / TWO_FACES_FPS < 3.3:  # held through the three faceless frames
            assert len(left) == 1 and left[0].followed == (not show_portrait), i
            portrait_ids.add(left[0].track_id)
        held = [f for f in faces if f.followed]
        for face in held:  # a held face keeps the reading of the last frame it was detected in
            last = next(g for r in reversed(results[:i]) for g in r if g.track_id == face.track_id and not g.followed)
            np.testing.assert_array_equal(face.probs, last.probs)
    assert len(portrait_ids) == 1  # one id for the portrait through the whole clip
    # the FER face leaves at 2.0 s: held for TRACK_MAX_MISSED frames, then gone
    right = [any(f.box[0] >= 320 for f in faces) for faces in results[20:30]]
    assert right == [True] * TRACK_MAX_MISSED + [False] * (10 - TRACK_MAX_MISSED)


def test_step_is_locate_then_classify(video_faces, classifier) -> None:
    frames = two_faces_frames(video_faces)[:12]
    whole = run(FaceStream(smoothing=0.6, redetect_interval=1.0), frames, classifier)
    halves, stream = [], FaceStream(smoothing=0.6, redetect_interval=1.0)
    for i, frame in enumerate(frames):
        gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        located = stream.locate(gray, i / TWO_FACES_FPS, DetectorSettings())
        halves.append(stream.classify(gray, located, classifier, tta=False))
    for a, b in zip(whole, halves):
        assert [(f.box, f.track_id, f.followed) for f in a] == [(f.box, f.track_id, f.followed) for f in b]
        for fa, fb in zip(a, b):
            np.testing.assert_allclose(fa.probs, fb.probs, atol=1e-6)
