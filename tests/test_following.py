"""Issue 29: a face found once is followed in every frame it is in, under one id, at every size the detector
finds (from 40 px), and one back within a second keeps its id. Real faces from ``faces/real/`` moving on a
640x480 clip (:mod:`fer.bench.following`), located by the video's frame loop (:class:`fer.stream.FaceStream`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.videoclips import located_rows

from fer.bench.following import ClipFace, following_clip, following_figures, following_sources

FPS = 30.0


def figures(astronaut_path: Path, spec: tuple[ClipFace, ...], seconds: float, **stream_kwargs) -> list[dict]:
    sources = following_sources(astronaut_path.parent, spec)
    frames, truths = zip(*following_clip(sources, spec, seconds, FPS))
    return following_figures(spec, truths, located_rows(list(frames), FPS, **stream_kwargs), FPS)


@pytest.mark.parametrize("live", [False, True], ids=["video", "live"])
def test_a_small_real_face_is_held_in_every_frame_under_one_id(astronaut_path: Path, live: bool) -> None:
    # 41 and 48 px faces (the detector's minimum is 40 px): following used to need a raw box >= 40 px, so
    # a full scan found the face, following lost it, and it came back under a new id (issue 29; before:
    # the 41 px face held in 97.8 % of frames under 2 ids in video, 95.6 % on Live).
    spec = (ClipFace(41, 160, 180, 40, 15, 5.0), ClipFace(48, 460, 300, 30, 10, 7.0))
    kwargs = {"idle_interval": 0.0, "max_shift": 0.0, "follow_interval": 0.05} if live else {}
    for face in figures(astronaut_path, spec, 6.0, **kwargs):
        assert face["held"] >= 0.98 and face["ids"] == 1, face


def test_a_face_away_for_less_than_a_second_keeps_its_id(astronaut_path: Path) -> None:
    spec = (ClipFace(70, 320, 240, 40, 15, 6.0, away=((2.0, 2.6),)),)
    (face,) = figures(astronaut_path, spec, 5.0)
    assert face["appearances"] == 2 and face["ids"] == 1, face
    assert face["held"] >= 0.98, face  # looked for where it was lost: found again in the frame it is back
