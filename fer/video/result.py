"""What a video analysis returns (:class:`VideoAnalysis`): per-face summaries, timelines, CSV and JSON.

Results are columns (one entry per analysed frame, one row per face in it), a few numbers a face, so a
long video's results stay small; exports are written frame by frame.
"""

from __future__ import annotations

import csv
import io
import json
import math
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TextIO

import numpy as np

from fer.detection.detector import crop_face
from fer.faces import FaceResult, vote_weights
from fer.labels import CLASS_NAMES, NUM_CLASSES
from fer.options import Options
from fer.video.reader import VideoInfo

#: Timelines for charts are averaged down to at most this many points (the CSV keeps every frame).
CHART_POINTS = 1500


@dataclass(frozen=True)
class FaceSummary:
    """One tracked face over the whole video, over the frames it was detected in (not those it was held
    through), weighted by the time each analysed frame stands for."""

    id: int
    frames: int  # analysed frames it was detected in
    seconds: float  # time on screen
    first_s: float
    last_s: float
    share: dict[str, float]  # fraction of its time on screen with each (smoothed) label
    mean_probs: np.ndarray  # float32 [7]

    @property
    def label(self) -> str:
        """The emotion it showed longest."""
        return max(self.share, key=self.share.__getitem__)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "frames": self.frames,
            "seconds": round(self.seconds, 3),
            "first_s": round(self.first_s, 3),
            "last_s": round(self.last_s, 3),
            "label": self.label,
            "share": {k: round(v, 4) for k, v in self.share.items()},
            "mean_probs": {n: round(float(p), 4) for n, p in zip(CLASS_NAMES, self.mean_probs)},
        }


@dataclass
class VideoAnalysis:
    """Everything :func:`analyse_video` found; arrays are columns (S analysed frames, R face rows)."""

    info: VideoInfo
    options: Options
    sample_t: np.ndarray  # [S] seconds
    sample_frame: np.ndarray  # [S] frame index in the video
    row_sample: np.ndarray  # [R] which analysed frame
    row_id: np.ndarray  # [R] face id
    row_box: np.ndarray  # [R, 4] x, y, w, h in the delivered (upright, possibly scaled) frame
    row_probs: np.ndarray  # [R, 7] smoothed probabilities
    row_score: np.ndarray  # [R] float32 detection score, NaN where not scored
    row_followed: np.ndarray  # [R] bool: missed by detection in that frame, held at its last box
    frames_decoded: int
    seconds: float  # wall time of the analysis (and writing)
    notes: list[str] = field(default_factory=list)
    cancelled: bool = False
    variable_rate: bool = False
    audio: str = "not written"

    # ------------------------------------------------------------------ per face
    @property
    def face_ids(self) -> list[int]:
        return sorted({int(i) for i in self.row_id})

    def sample_durations(self) -> np.ndarray:
        """Seconds each analysed frame stands for: until the next one (the last: one analysis step)."""
        t = self.sample_t
        if len(t) == 0:
            return np.zeros(0)
        step = float(np.median(np.diff(t))) if len(t) > 1 else 1.0 / (self.options.fps or self.info.fps or 30.0)
        return np.append(np.diff(t), step).clip(min=0.0)

    def faces(self) -> list[FaceSummary]:
        """One summary per face id, longest on screen first."""
        durations = self.sample_durations()
        out = []
        for face_id in self.face_ids:
            mask = (self.row_id == face_id) & ~self.row_followed
            d = durations[self.row_sample[mask]]
            probs = self.row_probs[mask]
            total = float(d.sum())
            labels = probs.argmax(axis=1)
            weights = d / total if total > 0 else np.full(len(d), 1.0 / len(d))
            share = {name: float(weights[labels == i].sum()) for i, name in enumerate(CLASS_NAMES)}
            times = self.sample_t[self.row_sample[mask]]
            out.append(
                FaceSummary(
                    id=face_id,
                    frames=int(mask.sum()),
                    seconds=total,
                    first_s=float(times.min()),
                    last_s=float(times.max()),
                    share=share,
                    mean_probs=(weights[:, None] * probs).sum(axis=0).astype(np.float32),
                )
            )
        return sorted(out, key=lambda f: (-f.seconds, f.id))

    def face_timeline(self, face_id: int, max_points: int = CHART_POINTS) -> tuple[np.ndarray, np.ndarray]:
        """(times [N], probs [N, 7]) of one face; NaN rows where it was absent, so charts show gaps."""
        dense = np.full((len(self.sample_t), NUM_CLASSES), np.nan, np.float32)
        mask = self.row_id == face_id
        dense[self.row_sample[mask]] = self.row_probs[mask]
        return _average_down(self.sample_t, dense, max_points)

    def mood_timeline(self, max_points: int = CHART_POINTS) -> tuple[np.ndarray, np.ndarray]:
        """(times, probs) of the mood (:func:`fer.faces.mood`) of each analysed frame, NaN without a face."""
        area = self.row_box[:, 2].astype(np.float64) * self.row_box[:, 3]
        weights = vote_weights(area, self.row_score, self.row_sample)
        total = np.zeros((len(self.sample_t), NUM_CLASSES), np.float64)
        np.add.at(total, self.row_sample, self.row_probs * weights[:, None])
        weight = np.bincount(self.row_sample, weights=weights, minlength=len(self.sample_t))
        with np.errstate(invalid="ignore", divide="ignore"):
            mood = (total / weight[:, None]).astype(np.float32)
        mood[weight == 0] = np.nan
        return _average_down(self.sample_t, mood, max_points)

    def _rows_by_sample(self) -> Iterator[np.ndarray]:
        """The face rows of each analysed frame, in order."""
        order = np.argsort(self.row_sample, kind="stable")
        bounds = np.searchsorted(self.row_sample[order], np.arange(len(self.sample_t) + 1))
        for s in range(len(self.sample_t)):
            yield order[bounds[s] : bounds[s + 1]]

    def _face(self, row: int, crop: np.ndarray | None = None) -> FaceResult:
        """One face row as the face type (no pixels kept: the crop is empty unless given)."""
        score = float(self.row_score[row])
        return FaceResult(
            tuple(int(v) for v in self.row_box[row]),
            self.row_probs[row].copy(),
            np.zeros((0, 0), np.uint8) if crop is None else crop,
            score=None if math.isnan(score) else score,
            track_id=int(self.row_id[row]),
            followed=bool(self.row_followed[row]),
        )

    def nearest_sample(self, t: float) -> int:
        """Index of the analysed frame closest to ``t`` seconds."""
        if len(self.sample_t) == 0:
            raise ValueError("no frame was analysed")
        i = int(np.searchsorted(self.sample_t, t))
        candidates = [c for c in (i - 1, i) if 0 <= c < len(self.sample_t)]
        return min(candidates, key=lambda c: abs(self.sample_t[c] - t))

    def faces_at(self, sample: int, image: np.ndarray) -> list[FaceResult]:
        """The faces of one analysed frame in numbering order, the crops cut again from ``image`` (its pixels)."""
        rows = np.flatnonzero(self.row_sample == sample)
        return [self._face(int(r), crop_face(image, self.row_box[r])) for r in rows]

    # ------------------------------------------------------------------ exports
    def write_csv(self, fp: TextIO) -> None:
        """One row per face per analysed frame: ``t_seconds,frame,face_id,x,y,w,h,label,angry,...,followed``.

        An analysed frame without a face gets one row with the face fields empty, so gaps are visible;
        ``followed`` is 1 for a face the detector missed in that frame (held at its last box).
        """
        writer = csv.writer(fp, lineterminator="\n")
        writer.writerow(["t_seconds", "frame", "face_id", "x", "y", "w", "h", "label", *CLASS_NAMES, "followed"])
        for t, frame, faces in self._frames():
            head = [f"{t:.3f}", frame]
            if not faces:
                writer.writerow(head + [""] * (7 + NUM_CLASSES))
            for face in faces:
                row = [face["id"], *face["box"], face["label"], *face["probs"].values(), int(face["followed"])]
                writer.writerow(head + row)

    def write_json(self, fp: TextIO) -> None:
        """The JSON document of the page's download and ``python -m fer video --json``, written frame by
        frame (a 10-minute video has ~18,000 frames: never one big dict in memory)."""
        head = {
            "file": self.info.name,
            "video": self.info.to_dict(),
            "options": self.options.to_dict(),
            "frames_decoded": self.frames_decoded,
            "frames_analysed": len(self.sample_t),
            "cancelled": self.cancelled,
            "variable_frame_rate": self.variable_rate,
            "audio": self.audio,
            "notes": list(self.notes),
            "faces": [f.to_dict() for f in self.faces()],
        }
        fp.write(json.dumps(head)[:-1] + ', "frames": [')
        for i, (t, frame, faces) in enumerate(self._frames()):
            fp.write((",\n" if i else "\n") + json.dumps({"t": round(t, 3), "frame": frame, "faces": faces}))
        fp.write("\n]}\n")

    def to_csv(self) -> str:
        buf = io.StringIO()
        self.write_csv(buf)
        return buf.getvalue()

    def to_json(self) -> str:
        buf = io.StringIO()
        self.write_json(buf)
        return buf.getvalue()

    def _frames(self) -> Iterator[tuple[float, int, list[dict]]]:
        """(t, frame index, faces as export dicts) per analysed frame, in order: each face in the one face
        export format (:meth:`fer.faces.FaceResult.to_dict`, as ``predict --json``), with its id."""
        for rows, t, frame in zip(self._rows_by_sample(), self.sample_t, self.sample_frame):
            yield float(t), int(frame), [self._face(int(r)).to_dict() for r in rows]


def _average_down(t: np.ndarray, values: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``max_points`` rows: means over runs of consecutive rows (all-NaN runs stay NaN, as gaps)."""
    n = len(t)
    if n <= max_points:
        return t.copy(), values.copy()
    k = math.ceil(n / max_points)
    pad = (-n) % k
    tt = np.append(t, np.full(pad, t[-1])).reshape(-1, k)[:, 0]
    vv = np.vstack([values, np.full((pad, values.shape[1]), np.nan, values.dtype)]).reshape(-1, k, values.shape[1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)  # "mean of empty slice": a gap, NaN is right
        return tt, np.nanmean(vv, axis=1).astype(np.float32)
