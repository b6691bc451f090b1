"""Following on video: real faces of 40-120 px moving on a 640x480 clip, one of them leaving
for a moment and for longer; per face size, the share of the frames a face is in whose rows hold it,
its ids and id switches per minute. In ``python -m fer bench --json`` (:func:`run_following`) and
``python -m scripts.measure_video_faces`` (the CLI, against a baseline checkout).
"""

from __future__ import annotations

import io
import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fer.classifier import Classifier
from fer.options import Options
from fer.video.analyse import analyse_video
from fer.video.writer import encode_video


@dataclass(frozen=True)
class ClipFace:
    """One face of a :func:`following_clip`: its size (the face's side, px), where its centre drifts
    (sinusoidally around ``cx, cy`` by ``amp_x, amp_y`` px every ``period`` s) and when it is away."""

    side: int
    cx: float
    cy: float
    amp_x: float = 0.0
    amp_y: float = 0.0
    period: float = 8.0
    away: tuple[tuple[float, float], ...] = ()  # (from, to) seconds when the face is not in the picture

    def at(self, t: float) -> tuple[float, float] | None:
        """Its centre at ``t`` seconds, or None while it is away."""
        if any(start <= t < end for start, end in self.away):
            return None
        phase = 2 * math.pi * t / self.period
        return self.cx + self.amp_x * math.sin(phase), self.cy + self.amp_y * math.sin(1.3 * phase)

    def appearances(self, seconds: float) -> int:
        """How many times it comes into the picture within the clip (1 + returns)."""
        return 1 + sum(start > 0 and end < seconds for start, end in self.away)


#: The following clip (640x480): three real faces of 41, 70 and 110 px moving; the 70 px one leaves for
#: 0.6 s (it should keep its id) and for 2 s (a new id is allowed): 4 appearances in all.
FOLLOWING_FACES = (
    ClipFace(41, 120, 140, 40, 15, 7.0),
    ClipFace(70, 330, 320, 50, 20, 9.0, away=((6.0, 6.6), (12.1, 14.3))),
    ClipFace(110, 520, 200, 30, 25, 5.0),
)
FOLLOWING_CLIP_S = 20.0
FOLLOWING_FPS = 30.0


def following_sources(faces_dir: Path, spec: Sequence[ClipFace], seed: int = 7) -> list:
    """One real face photo per clip face that today's detector finds, pasted alone at that face's size
    and place on the clip's background (a face the detector never finds measures the detector, not the
    following): a list of :class:`fer.bench.detection.FaceSource`."""
    from fer.bench import detection as bench
    from fer.detection.detector import detect

    sources = [s for s in bench.face_sources(faces_dir, None, n_real=30, n_fer=0, seed=seed) if s.kind == "real"]
    bg = following_background(seed)
    chosen: list = []
    for k, face in enumerate(spec):
        for source in sources:
            if any(source is c for c in chosen):
                continue
            canvas = bg.copy()
            truth = bench.paste_face(canvas, source, face.side, face.cx, face.cy, np.random.default_rng(seed + k))
            if bench.score([d.box for d in detect(canvas)], [truth], 0.1)[0]:
                chosen.append(source)
                break
        else:
            raise ValueError(f"no real face under {faces_dir} is found at {face.side} px")
    return chosen


def following_background(seed: int, size: tuple[int, int] = (640, 480)) -> np.ndarray:
    """The clip's face-free background (:func:`fer.bench.detection.background`)."""
    from fer.bench import detection as bench

    return bench.background(*size, np.random.default_rng(seed), bench.backgrounds())


def following_clip(
    sources: Sequence, spec: Sequence[ClipFace], seconds: float, fps: float, seed: int = 7
) -> Iterator[tuple[np.ndarray, list[tuple[int, int, int, int] | None]]]:
    """The clip's RGB frames and, per frame, each face's true box (None while it is away). Each face is
    the same variant (mirror, tilt, brightness) of its photo in every frame."""
    from fer.bench import detection as bench

    background = following_background(seed)
    for i in range(int(round(seconds * fps))):
        canvas = background.copy()
        truths: list[tuple[int, int, int, int] | None] = []
        for k, (source, face) in enumerate(zip(sources, spec)):
            centre = face.at(i / fps)
            if centre is None:
                truths.append(None)
                continue
            truths.append(bench.paste_face(canvas, source, face.side, *centre, np.random.default_rng(seed + k)))
        yield canvas, truths


def following_figures(
    spec: Sequence[ClipFace],
    truths: Sequence[Sequence[tuple[int, int, int, int] | None]],
    rows: Sequence[Sequence[tuple[int, tuple[int, int, int, int], bool]]],
    fps: float,
) -> list[dict]:
    """Per clip face: the share of the frames it is in whose rows hold it (``held``; detected only:
    ``detected``), its ids, appearances, and id switches (a frame holding it under another id than the
    last frame that held it) per minute it is in the picture. ``rows[frame]``: (id, box, followed) of
    each face reported in that frame; a row holds a face when the box's centre lies in its true box."""
    out = []
    for k, face in enumerate(spec):
        present = held = detected = switches = 0
        ids: set[int] = set()
        last: int | None = None
        for frame_truths, frame_rows in zip(truths, rows):
            truth = frame_truths[k]
            if truth is None:
                continue
            present += 1
            tx, ty, ts, _ = truth
            hits = [
                (i, f) for i, (x, y, w, h), f in frame_rows if tx <= x + w / 2 <= tx + ts and ty <= y + h / 2 <= ty + ts
            ]
            if not hits:
                continue
            held += 1
            detected += any(not f for _, f in hits)
            face_id = hits[0][0]
            ids.update(i for i, _ in hits)
            switches += last is not None and face_id != last
            last = face_id
        minutes = present / fps / 60
        out.append(
            {
                "face_px": face.side,
                "frames": present,
                "held": round(held / max(1, present), 4),
                "detected": round(detected / max(1, present), 4),
                "ids": len(ids),
                "appearances": face.appearances(len(truths) / fps),
                "id_switches_per_min": round(switches / minutes, 2) if minutes else 0.0,
            }
        )
    return out


def analysis_rows(analysis) -> list[list[tuple[int, tuple[int, int, int, int], bool]]]:
    """(id, box, followed) of each face in each analysed frame of a :class:`fer.video.result.VideoAnalysis`."""
    rows: list[list] = [[] for _ in range(len(analysis.sample_t))]
    for r in range(len(analysis.row_id)):
        box = tuple(int(v) for v in analysis.row_box[r])
        rows[int(analysis.row_sample[r])].append((int(analysis.row_id[r]), box, bool(analysis.row_followed[r])))
    return rows


def run_following(classifier: Classifier, faces_dir: Path, seconds: float = FOLLOWING_CLIP_S, seed: int = 7) -> dict:
    """``python -m fer bench``'s following figures: :data:`FOLLOWING_FACES` through ``analyse_video`` with
    the default options, per face size (keys are face px): frames held, id switches per minute."""
    sources = following_sources(faces_dir, FOLLOWING_FACES, seed)
    frames, truths = zip(*following_clip(sources, FOLLOWING_FACES, seconds, FOLLOWING_FPS, seed))
    buf = io.BytesIO()
    encode_video(buf, frames, FOLLOWING_FPS)
    t0 = time.perf_counter()
    analysis = analyse_video(buf.getvalue(), "following.mp4", classifier, Options())
    elapsed = time.perf_counter() - t0
    faces = following_figures(FOLLOWING_FACES, truths, analysis_rows(analysis), FOLLOWING_FPS)
    by_px = {str(f["face_px"]): f for f in faces}
    return {
        "following_clip": f"640x480, {len(frames)} frames at {FOLLOWING_FPS:g} frames/s, real faces "
        f"{[f.side for f in FOLLOWING_FACES]} px moving; the {FOLLOWING_FACES[1].side} px one away twice",
        "following_frames_held_by_face_px": {px: f["held"] for px, f in by_px.items()},
        "following_frames_detected_by_face_px": {px: f["detected"] for px, f in by_px.items()},
        "following_id_switches_per_min_by_face_px": {px: f["id_switches_per_min"] for px, f in by_px.items()},
        "following_ids_by_face_px": {px: f["ids"] for px, f in by_px.items()},
        "following_appearances_by_face_px": {px: f["appearances"] for px, f in by_px.items()},
        "following_analyse_fps": round(len(frames) / elapsed, 1),
    }
