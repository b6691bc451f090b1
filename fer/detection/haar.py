"""OpenCV's Haar cascades: loading them once per thread, and the two scans detection is made of.

:func:`first_pass` scans a working copy sized so the minimum face is ``scan_windows`` windows wide (a
lenient pass when a second look follows); :func:`second_look` re-scans one candidate, larger and in its
surroundings, with another cascade. :mod:`fer.detection.detector` composes them; both read
:mod:`fer.detection.settings`.
"""

from __future__ import annotations

import threading
from dataclasses import replace

import cv2
import numpy as np

from fer.detection.settings import Box, DetectorSettings

#: The second look scans a candidate with this fraction of its side around it on every side ...
VERIFY_CONTEXT = 0.5
#: ... resized so the candidate is this many cascade windows wide ...
VERIFY_WINDOWS = 2.5
#: ... and accepts a face up to this factor smaller or larger than the candidate, scanning its small
#: patch with this pyramid step (finer than a cheap first pass may use: the patch costs little).
VERIFY_SIZE_RATIO = 1.6
VERIFY_SCALE_FACTOR = 1.1
#: Raw hits a verified scan's first pass needs: every hit is a candidate (overlaps merged), the second
#: look decides.
FIRST_PASS_NEIGHBORS = 0
_local = threading.local()


def first_pass(gray: np.ndarray, settings: DetectorSettings) -> tuple[list[Box], list[float]]:
    """Confident cascade boxes from one scan of the working copy (see :func:`working_scale`)."""
    height, width = gray.shape[:2]
    min_face = settings.min_face(width, height)
    window = cascade_window(settings.cascade_file)
    if min(height, width) < min(min_face, window):
        return [], []
    scale = working_scale(width, height, settings)
    small = gray if scale == 1.0 else resize_area(gray, scale)
    if settings.equalize:
        small = cv2.equalizeHist(small)
    min_side = max(window, int(round(min_face * scale)))
    if min(small.shape[:2]) < min_side:
        return [], []
    neighbors = FIRST_PASS_NEIGHBORS if settings.verify else settings.min_neighbors
    return cascade_boxes(small, settings, min_side, neighbors, settings.min_score, scale)


def cascade_boxes(
    small: np.ndarray,
    settings: DetectorSettings,
    min_side: int,
    neighbors: int,
    min_score: float,
    scale: float,
    max_side: int = 0,
) -> tuple[list[Box], list[float]]:
    """One ``detectMultiScale3`` call; boxes scored at least ``min_score``, mapped back by ``scale``."""
    found, _, weights = cascade(settings.cascade_file).detectMultiScale3(
        small,
        scaleFactor=settings.scale_factor,
        minNeighbors=neighbors,
        minSize=(min_side, min_side),
        maxSize=(max_side, max_side),
        outputRejectLevels=True,
    )
    boxes, scores = [], []
    for box, weight in zip(found, np.asarray(weights, np.float64).ravel()):
        if weight >= min_score:
            boxes.append(unscale(tuple(int(v) for v in box), scale))
            scores.append(float(weight))
    return boxes, scores


def second_look(gray: np.ndarray, box: Box, settings: DetectorSettings) -> Box | None:
    """The face ``settings.verify_cascade`` finds on the candidate (original pixels), or None: in its surroundings
    (``VERIFY_CONTEXT`` of its side on every side) resized so it is ``VERIFY_WINDOWS`` windows wide,
    a face of similar size (``VERIFY_SIZE_RATIO``) whose centre lies in the candidate, scored at least
    ``verify_score`` with ``min_neighbors`` neighbours; of several, the one nearest the candidate's centre.
    With ``confirm_neighbors``, ``confirm_cascade`` must also see that face (:func:`confirmed`)."""
    x, y, w, h = box
    found = [
        b
        for b, _ in _look(gray, box, settings.verify_cascade, settings, settings.min_neighbors, settings.verify_score)
        if 0 <= b[0] + b[2] / 2 - x <= w and 0 <= b[1] + b[3] / 2 - y <= h
    ]
    if not found:
        return None
    face = min(found, key=lambda b: abs(b[0] + b[2] / 2 - x - w / 2) + abs(b[1] + b[3] / 2 - y - h / 2))
    return face if confirmed(gray, face, settings) else None


def confirmed(gray: np.ndarray, face: Box, settings: DetectorSettings) -> bool:
    """True when ``settings.confirm_cascade`` (a third opinion) puts at least ``confirm_neighbors`` raw
    hits on the face, looked at as the second look does (centre inside it, similar size); always true
    with ``confirm_neighbors`` 0. A third cascade errs on yet other textures (see DetectorSettings)."""
    if settings.confirm_neighbors <= 0:
        return True
    x, y, w, h = face
    return any(
        abs(b[0] + b[2] / 2 - x - w / 2) <= w / 2 and abs(b[1] + b[3] / 2 - y - h / 2) <= h / 2
        for b, _ in _look(gray, face, settings.confirm_cascade, settings, settings.confirm_neighbors, float("-inf"))
    )


def _look(
    gray: np.ndarray, box: Box, cascade_file: str, settings: DetectorSettings, neighbors: int, min_score: float
) -> list[tuple[Box, float]]:
    """Faces (original pixels, scores) ``cascade_file`` finds around ``box``: its surroundings
    (``VERIFY_CONTEXT`` of its side on every side, inside the photo) resized so it is ``VERIFY_WINDOWS``
    windows wide, faces ``VERIFY_SIZE_RATIO`` smaller or larger than it, pyramid step ``VERIFY_SCALE_FACTOR``."""
    x, y, w, h = box
    window = cascade_window(cascade_file)
    pad = int(round(VERIFY_CONTEXT * w))
    height, width = gray.shape[:2]
    x0, y0 = max(0, x - pad), max(0, y - pad)  # inside the photo: replicated borders look like faces
    patch = gray[y0 : min(height, y + h + pad), x0 : min(width, x + w + pad)]
    side = VERIFY_WINDOWS * window
    scale = side / w
    small = resize_area(patch, scale) if scale < 1.0 else cv2.resize(patch, None, fx=scale, fy=scale)
    if min(small.shape[:2]) < window:
        return []
    boxes, scores = cascade_boxes(
        small,
        replace(settings, cascade_file=cascade_file, scale_factor=VERIFY_SCALE_FACTOR),
        max(window, int(side / VERIFY_SIZE_RATIO)),
        neighbors,
        min_score,
        scale,
        max_side=int(side * VERIFY_SIZE_RATIO),
    )
    return [((bx + x0, by + y0, bw, bh), score) for (bx, by, bw, bh), score in zip(boxes, scores)]


def working_scale(width: int, height: int, settings: DetectorSettings) -> float:
    """Downscale factor of the scanned copy: the minimum face maps to ``scan_windows`` cascade windows,
    within max_side and max_scan_pixels (never enlarged)."""
    window = settings.scan_windows * cascade_window(settings.cascade_file)
    by_area = (settings.max_scan_pixels / max(1, width * height)) ** 0.5
    return min(1.0, settings.max_side / max(width, height), by_area, window / settings.min_face(width, height))


def cascade_window(name: str) -> int:
    """The side of the window a bundled cascade was trained on (alt2: 20 px, the default cascade: 24 px)."""
    return int(max(cascade(name).getOriginalWindowSize()))


def cascade(name: str) -> cv2.CascadeClassifier:
    """This thread's instance of one of OpenCV's bundled cascades (loaded once per thread)."""
    cascades = getattr(_local, "cascades", None)
    if cascades is None:
        cascades = _local.cascades = {}
    found = cascades.get(name)
    if found is None:
        path = cv2.data.haarcascades + name
        found = cv2.CascadeClassifier(path)
        if found.empty():
            raise RuntimeError(f"OpenCV could not load its Haar cascade {path}; reinstall opencv-python-headless.")
        cascades[name] = found
    return found


def resize_area(gray: np.ndarray, scale: float) -> np.ndarray:
    """Area-downscale, the interpolation that keeps fine face structure when shrinking."""
    height, width = gray.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA)


def unscale(box: Box, scale: float) -> Box:
    """Map a box from the scanned copy back to original pixels."""
    if scale == 1.0:
        return box
    x, y, w, h = box
    return round(x / scale), round(y / scale), round(w / scale), round(h / scale)
