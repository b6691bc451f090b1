"""Synthetic video clips for the video tests, built from the test portrait and real FER2013 faces.

The scenes are drawn here and encoded with :func:`fer.video.writer.encode_video` (PyAV), so every test
knows exactly which face is visible in which frame.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from fer.detection.detector import detect_faces
from fer.video.writer import encode_video

W, H = 640, 480
BACKGROUND = 110
PORTRAIT_SIDE = 400  # the astronaut's face is ~95 px wide at this size: well above the detector's minimum
FER_SIDE = 150


@dataclass(frozen=True)
class Faces:
    """The two faces of the scenes: the portrait (RGB) and an upscaled FER2013 face (grey)."""

    portrait: np.ndarray  # [PORTRAIT_SIDE, PORTRAIT_SIDE, 3]
    fer_face: np.ndarray  # [FER_SIDE, FER_SIDE]


def load_faces(astronaut_path: Path, fer_images: np.ndarray) -> Faces:
    """The portrait and the first FER2013 face that the detector finds beside it (exactly two faces)."""
    rgb = cv2.cvtColor(cv2.imread(str(astronaut_path)), cv2.COLOR_BGR2RGB)
    portrait = cv2.resize(rgb, (PORTRAIT_SIDE, PORTRAIT_SIDE), interpolation=cv2.INTER_AREA)
    for image in fer_images[:200]:
        face = cv2.resize(image, (FER_SIDE, FER_SIDE), interpolation=cv2.INTER_LINEAR)
        faces = Faces(portrait, face)
        if len(detect_faces(scene(faces, True, True))) == 2 and len(detect_faces(scene(faces, False, True))) == 1:
            return faces
    raise AssertionError("no FER2013 face among the first 200 is detected beside the portrait")


def scene(faces: Faces, portrait: bool, fer_face: bool, dx: int = 0) -> np.ndarray:
    """A 640x480 RGB frame: the portrait on the left (shifted ``dx``), the FER face on the right."""
    frame = np.full((H, W, 3), BACKGROUND, np.uint8)
    if portrait:
        x = 20 + dx
        frame[40 : 40 + PORTRAIT_SIDE, x : x + PORTRAIT_SIDE] = faces.portrait
    if fer_face:
        frame[150 : 150 + FER_SIDE, 440 : 440 + FER_SIDE] = faces.fer_face[..., None]
    return frame


#: The two-face clip: 10 frames/s, 7 s. (start, end, portrait visible, FER face visible) in seconds.
TWO_FACES_FPS = 10
TWO_FACES_SCRIPT = [
    (0.0, 2.0, True, True),
    (2.0, 3.0, True, False),  # the FER face leaves ...
    (3.0, 3.3, False, False),  # ... three frames without any face ...
    (3.3, 4.5, True, False),
    (4.5, 7.0, True, True),  # ... and it comes back 25 frames later (more than TRACK_MAX_MISSED): a new id
]


def visible(t: float) -> tuple[bool, bool]:
    """(portrait, FER face) visible at ``t`` seconds in the two-face clip."""
    for start, end, portrait, fer_face in TWO_FACES_SCRIPT:
        if start - 1e-9 <= t < end - 1e-9:
            return portrait, fer_face
    raise ValueError(t)


def two_faces_frames(faces: Faces) -> list[np.ndarray]:
    frames = []
    for i in range(int(TWO_FACES_SCRIPT[-1][1] * TWO_FACES_FPS)):
        t = i / TWO_FACES_FPS
        dx = int(round(8 * np.sin(2 * np.pi * t / 3)))  # the portrait drifts a little: following must follow
        frames.append(scene(faces, *visible(t), dx=dx))
    return frames


def clip_bytes(frames: list[np.ndarray], fps: float = 10, **kwargs) -> bytes:
    """The frames encoded in memory (keyword arguments as :func:`fer.video.writer.encode_video`)."""
    buf = io.BytesIO()
    encode_video(buf, frames, fps, **kwargs)
    return buf.getvalue()


# ----------------------------------------------------------------------------- real faces, moving (issue 29)
def located_rows(frames: list[np.ndarray], fps: float, **stream_kwargs) -> list[list[tuple[int, tuple, bool]]]:
    """(id, box, followed) of each face :meth:`fer.stream.FaceStream.locate` reports per frame, with the
    video's stream settings unless given (no classifier: where the faces are is the following's job)."""
    from fer.detection.settings import DetectorSettings
    from fer.stream import FaceStream
    from fer.video.analyse import IDLE_SCAN_S, TRACK_MAX_SHIFT

    settings = {"smoothing": 0.0, "redetect_interval": 0.5, "idle_interval": IDLE_SCAN_S, "max_shift": TRACK_MAX_SHIFT}
    stream = FaceStream(**{**settings, **stream_kwargs})
    rows = []
    for i, frame in enumerate(frames):
        located = stream.locate(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY), i / fps, DetectorSettings())
        rows.append([(f.id, f.box, f.followed) for f in located])
    return rows
