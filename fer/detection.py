"""Face detection with OpenCV's Haar cascade, and cropping faces the way FER2013 was preprocessed.

The cascade ships with OpenCV (``cv2.data.haarcascades``), so nothing is downloaded or copied. Boxes
are squared and widened by a margin measured to reproduce FER2013's framing
(``scripts/measure_margin.py``), because the classifier only knows faces framed like its training set.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import cv2
import numpy as np

from fer.imageio import to_rgb_uint8
from fer.labels import FACE_SIZE

#: (x, y, w, h) in pixels of the original image.
Box = tuple[int, int, int, int]

CASCADE_FILE = "haarcascade_frontalface_default.xml"
#: The cascade's training window: it cannot see faces smaller than this in the image it scans.
CASCADE_WINDOW = 24
#: Detections overlapping more than this (intersection over union) are the same face.
DUPLICATE_IOU = 0.5

_local = threading.local()


@dataclass(frozen=True)
class DetectorSettings:
    """Haar cascade parameters; defaults measured by ``scripts/measure_margin.py`` (numbers below)."""

    #: Pyramid step between scales: 1.1 is OpenCV's default, finer steps cost time for little recall.
    scale_factor: float = 1.1
    #: Overlapping raw hits needed to accept a face. Measured (scripts/measure_margin.py, default
    #: settings otherwise): only 5 and 6 give exactly the expected faces on the astronaut (1), its
    #: mirror (1), its 2x2 tiling (4) and a 1280x960 upscale (1); 3 adds a false box on the portrait,
    #: 4 on the tiling and the upscale. On 300 upscaled FER2013 PublicTest faces the detection rate
    #: was 3: 76.7 %, 4: 74.3 %, 5: 73.0 %, 6: 69.7 %, so 5 keeps the most faces with no false boxes.
    min_neighbors: int = 5
    #: Smallest face reported, in pixels of the ORIGINAL image (detection downscales to honour it).
    min_size: int = 40
    #: Longer side of the copy the cascade scans; larger frames are downscaled first (640x480: ~47 ms
    #: full size vs ~21 ms at half size), but never so far that a ``min_size`` face shrinks below the
    #: cascade's 24 px window: with min_size 40 a 640x480 frame is scanned at 0.6x (384x288); pass
    #: min_size=48 to get the half-size scan.
    max_side: int = 320
    #: Fraction of the face side added on every side of the square Haar box so crops match FER2013's
    #: framing. Measured on the 219 of 300 upscaled PublicTest faces the cascade found: the 48x48 crop
    #: vs the original face had MAE 38.2 / corr 0.695 at 0, 36.9 / 0.712 at 0.025 (best), 38.1 / 0.701
    #: at 0.05, 44.9 / 0.633 at 0.10 and 51.6 / 0.561 at 0.15; the median geometric optimum was 0.033.
    #: So the Haar box already frames faces almost exactly as FER2013 does.
    margin: float = 0.025
    #: Histogram equalisation before detection. Measured: it adds a false box on the astronaut at every
    #: min_neighbors in 3..6 and finds no more FER faces (72.3 % vs 73.0 % at 5), so it is off.
    equalize: bool = False

    def __post_init__(self) -> None:
        """Reject values the cascade would misbehave with, at construction rather than per frame."""
        if not self.scale_factor > 1.0:
            raise ValueError(f"scale_factor must be > 1, got {self.scale_factor}")
        if self.min_neighbors < 0:
            raise ValueError(f"min_neighbors must be >= 0, got {self.min_neighbors}")
        if self.min_size < 1 or self.max_side < CASCADE_WINDOW:
            raise ValueError(f"min_size must be >= 1 and max_side >= {CASCADE_WINDOW}")
        if not -0.5 < self.margin <= 2.0:
            raise ValueError(f"margin must be in (-0.5, 2], got {self.margin}")


def detect_faces(image: np.ndarray, settings: DetectorSettings = DetectorSettings()) -> list[Box]:
    """Find frontal faces; returns square, margin-framed boxes inside the image, largest first."""
    gray = to_gray_uint8(image)
    raw = detect_raw(gray, settings)
    return order_boxes([frame_box(box, gray.shape, settings.margin) for box in raw])


def detect_raw(image: np.ndarray, settings: DetectorSettings = DetectorSettings()) -> list[Box]:
    """Unframed, unsorted cascade boxes in original-image pixels (for measurement and windowed re-detection)."""
    gray = to_gray_uint8(image)
    height, width = gray.shape[:2]
    if min(height, width) < min(settings.min_size, CASCADE_WINDOW):
        return []
    scale = _detection_scale(width, height, settings)
    small = gray if scale == 1.0 else _resize(gray, scale)
    if settings.equalize:
        small = cv2.equalizeHist(small)
    min_side = max(CASCADE_WINDOW, round(settings.min_size * scale))
    if min(small.shape[:2]) < min_side:
        return []
    found = _cascade().detectMultiScale(
        small, scaleFactor=settings.scale_factor, minNeighbors=settings.min_neighbors, minSize=(min_side, min_side)
    )
    return [_unscale(tuple(int(v) for v in box), scale) for box in found]


def frame_box(raw_box: Box, image_shape: tuple[int, ...], margin: float) -> Box:
    """Square the box around its centre, widen it by ``margin`` per side, and keep it in the image.

    When the square sticks out it is first shifted inside, and only shrunk if the image is too small,
    so crops stay square (undistorted) near borders.
    """
    x, y, w, h = raw_box
    height, width = image_shape[:2]
    side = max(w, h) * (1.0 + 2.0 * margin)
    side = int(round(min(max(side, 1.0), width, height)))
    cx, cy = x + w / 2.0, y + h / 2.0
    left = int(round(min(max(cx - side / 2.0, 0), width - side)))
    top = int(round(min(max(cy - side / 2.0, 0), height - side)))
    return left, top, side, side


def crop_face(image: np.ndarray, box: Box, size: int = FACE_SIZE) -> np.ndarray:
    """The ``size`` x ``size`` uint8 grayscale face, preprocessed as FER2013's faces were.

    Grayscale via RGB2GRAY, INTER_AREA when shrinking and INTER_LINEAR when enlarging. Parts of the
    box outside the image are filled by replicating the border, so the face is never stretched.
    """
    gray = to_gray_uint8(image)
    x, y, w, h = (int(v) for v in box)
    if w <= 0 or h <= 0:
        raise ValueError(f"box must have a positive size, got {box}")
    patch = _padded_patch(gray, x, y, w, h)
    interpolation = cv2.INTER_AREA if max(w, h) > size else cv2.INTER_LINEAR
    return cv2.resize(patch, (size, size), interpolation=interpolation)


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes (0 when disjoint or degenerate)."""
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def to_gray_uint8(image: np.ndarray) -> np.ndarray:
    """Single-channel uint8 of any accepted image, with the RGB weights FER2013 conversion used."""
    arr = np.asarray(image)
    if arr.dtype == np.uint8 and arr.ndim == 2 and arr.size:
        return np.ascontiguousarray(arr)
    return cv2.cvtColor(to_rgb_uint8(arr), cv2.COLOR_RGB2GRAY)


def _cascade() -> cv2.CascadeClassifier:
    """One classifier per thread: detectMultiScale is not documented as thread-safe."""
    cascade = getattr(_local, "cascade", None)
    if cascade is None:
        path = cv2.data.haarcascades + CASCADE_FILE
        cascade = cv2.CascadeClassifier(path)
        if cascade.empty():
            raise RuntimeError(f"OpenCV could not load its Haar cascade {path}; reinstall opencv-python-headless.")
        _local.cascade = cascade
    return cascade


def _detection_scale(width: int, height: int, settings: DetectorSettings) -> float:
    """Downscale factor for the scanned copy: reach max_side, but keep min_size faces >= 24 px."""
    longer = max(width, height)
    if longer <= settings.max_side:
        return 1.0
    return min(1.0, max(settings.max_side / longer, CASCADE_WINDOW / settings.min_size))


def _resize(gray: np.ndarray, scale: float) -> np.ndarray:
    """Area-downscale, the interpolation that keeps fine face structure when shrinking."""
    height, width = gray.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA)


def _unscale(box: Box, scale: float) -> Box:
    """Map a box from the scanned copy back to original pixels."""
    if scale == 1.0:
        return box
    x, y, w, h = box
    return round(x / scale), round(y / scale), round(w / scale), round(h / scale)


def order_boxes(boxes: list[Box]) -> list[Box]:
    """Largest first (then top-to-bottom, left-to-right); near-duplicates (IoU > 0.5) kept once."""
    kept: list[Box] = []
    for box in sorted(boxes, key=lambda b: (-b[2] * b[3], b[1], b[0])):
        if all(iou(box, other) <= DUPLICATE_IOU for other in kept):
            kept.append(box)
    return kept


def _padded_patch(gray: np.ndarray, x: int, y: int, w: int, h: int) -> np.ndarray:
    """The box's pixels, replicating border pixels wherever the box leaves the image."""
    height, width = gray.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, width), min(y + h, height)
    if x0 >= x1 or y0 >= y1:
        raise ValueError(f"box {(x, y, w, h)} does not overlap the {width}x{height} image")
    patch = gray[y0:y1, x0:x1]
    pads = (y0 - y, y + h - y1, x0 - x, x + w - x1)
    if any(pads):
        patch = cv2.copyMakeBorder(patch, *pads, borderType=cv2.BORDER_REPLICATE)
    return patch
