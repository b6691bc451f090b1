"""A fake webcam for the browser tests: a .y4m video that Chromium plays as its camera.

Chromium's ``--use-file-for-fake-video-capture=FILE.y4m`` loops a YUV4MPEG2 file. The format is a
text header line, then per frame ``FRAME\\n`` and the raw I420 planes (Y full size, U and V at quarter
size), so numpy and OpenCV write it directly. The video is a portrait slowly panning and zooming,
like a person moving a little in front of a camera; it loops seamlessly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from pathlib import Path

import cv2
import numpy as np

BACKGROUND = 96  # grey around the portrait


def moving_portrait(
    rgb: np.ndarray, n_frames: int, width: int = 640, height: int = 480, pan_px: float = 24.0, zoom: float = 0.06
) -> Iterator[np.ndarray]:
    """``n_frames`` RGB frames: ``rgb`` fitted to the frame height, panning +-pan_px and zooming +-zoom."""
    src_h, src_w = rgb.shape[:2]
    base = height / src_h
    for i in range(n_frames):
        phase = 2.0 * math.pi * i / n_frames
        scale = base * (1.0 + zoom * math.sin(phase))
        cx = width / 2.0 + pan_px * math.sin(phase + math.pi / 3)
        cy = height / 2.0 + 0.3 * pan_px * math.cos(phase)
        matrix = np.array([[scale, 0.0, cx - scale * src_w / 2.0], [0.0, scale, cy - scale * src_h / 2.0]], np.float32)
        yield cv2.warpAffine(
            rgb,
            matrix,
            (width, height),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=(BACKGROUND, BACKGROUND, BACKGROUND),
        )


def write_y4m(path: Path, frames: Iterable[np.ndarray], fps: int = 30) -> Path:
    """Write RGB uint8 frames (even width and height) as a 4:2:0 YUV4MPEG2 file; returns ``path``."""
    path = Path(path)
    header_written = False
    with open(path, "wb") as fh:
        for frame in frames:
            h, w = frame.shape[:2]
            if h % 2 or w % 2:
                raise ValueError(f"y4m 4:2:0 needs even sizes, got {w}x{h}")
            if not header_written:
                fh.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n".encode("ascii"))
                header_written = True
            fh.write(b"FRAME\n")
            fh.write(cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2YUV_I420).tobytes())
    if not header_written:
        raise ValueError("no frames to write")
    return path


def make_fake_webcam(
    portrait_path: Path, out_path: Path, seconds: float = 4.0, fps: int = 30, width: int = 640, height: int = 480
) -> Path:
    """The browser tests' camera: ``portrait_path`` moving slowly, ``seconds`` long, as a looping y4m."""
    bgr = cv2.imread(str(portrait_path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise FileNotFoundError(f"cannot read the portrait {portrait_path}")
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    n = max(1, int(round(seconds * fps)))
    return write_y4m(out_path, moving_portrait(rgb, n, width, height), fps)
