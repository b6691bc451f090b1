"""Face detection with OpenCV's Haar cascade, and cropping faces the way FER2013 was preprocessed.

The cascades ship with OpenCV (``cv2.data.haarcascades``), so nothing is downloaded or copied.
Detection scales with the photo: ``alt2`` scans a working copy whose size follows the smallest face
wanted (a fraction of the photo's short side, or the px setting, mapped to the cascade's own 20 px
window) and is bounded by area. This first pass is lenient (every raw hit above ``min_score`` is a
candidate); a second look re-scans each candidate, larger and in its surroundings, with OpenCV's
default frontal cascade, which errs on other textures, and keeps it only if a face is there and a
third cascade (``alt``) agrees. Boxes are
squared and widened by a margin chosen by accuracy (``scripts/measure_margin.py``) and are always in
the original photo's pixels. Recall by face size: ``make bench-detection``.

:func:`find_faces` adds the fallback for photos already cropped to the face, which the cascade
misses because it needs context around a face: a second detection on a padded copy, then, for a
face-like photo, the whole image. Every :class:`Detection` says how it was found.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import cv2
import numpy as np

from fer.detection.haar import cascade, first_pass, second_look
from fer.detection.settings import CASCADE_FILE, Box, DetectorSettings
from fer.imageio import to_rgb_uint8
from fer.labels import FACE_SIZE

#: How a face was found: by the cascade, by the cascade on a padded copy, or the whole image taken as one.
Source = Literal["detector", "padded", "whole-image"]

#: Detections overlapping more than this (intersection over union) are the same face.
DUPLICATE_IOU = 0.5
#: A box whose area lies this much inside a more confident box is a part of that face (or of its
#: surroundings): suppressed too. Plain IoU misses such nested boxes.
NESTED_OVERLAP = 0.6
#: The padded retry adds this fraction of the photo's side on every side (replicated border).
FALLBACK_PAD = 0.25
#: A photo is taken as a face crop (whole-image fallback) when both sides are at most this ...
FACE_CROP_MAX_SIDE = 128
#: ... or when it is near-square (long/short at most this) and not larger than FACE_CROP_MAX_LONG.
#: 1.25 keeps 4:3 and 3:2 photos (and scikit-image's coins, 1.27) from being read as one face.
FACE_CROP_MAX_ASPECT = 1.25
FACE_CROP_MAX_LONG = 1024
#: A face crop has structure: a nearly uniform image (grey-level standard deviation below this) is not one.
FACE_CROP_MIN_STD = 8.0
#: A photo that looks like a face crop and where no verified face was found is scanned once more, padded,
#: by the first cascade alone at the one-pass settings (pyramid 1.1, 4 neighbours, score >= 54.8) before it is
#: read whole: the second look, which needs the face's surroundings, rejects faces that fill the photo
#: (800 tight real crops, found 96.0 % -> see docs/detection.md); such a photo would be read as
#: one face anyway, so this can only put the box where the face is.
CROP_ONE_PASS = {"verify": False, "min_neighbors": 4, "min_score": 54.8, "scale_factor": 1.1}
#: ... with the first cascade, then with ``alt`` (it found 2 more of the 800; the default cascade, whose
#: scores are on another scale, is not used).
CROP_ONE_PASS_CASCADES = ("", "haarcascade_frontalface_alt.xml")  # "": the settings' own cascade
#: A large photo where no face of at least ``min_face_fraction`` of its short side was found is scanned
#: again down to this fraction (never below the px minimum): a 512 px portrait on a 6000x4000 canvas,
#: downscaled to 4096 px when decoded, has its face at 2.5 % of the short side (0 faces found).
SMALL_FACE_FRACTION = 0.02
SMALL_FACE_STRICTER = {"min_score": 55.5, "confirm_neighbors": 6, "verify_score": 5.0}


@dataclass(frozen=True)
class Detection:
    """One face found in a photo: its framed square box (original pixels), confidence and origin.

    ``score`` is the cascade's confidence (the last stage's sum, ``levelWeights``), None for a
    whole-image face. A padded detection's box may reach past the photo's edges; crops fill those
    parts by repeating the edge pixels, exactly as the padded copy the face was found in.
    """

    box: Box
    score: float | None = None
    source: Source = "detector"


def detect(
    image: np.ndarray, settings: DetectorSettings = DetectorSettings(), known: Sequence[Box] = ()
) -> list[Detection]:
    """Faces the cascade finds: confident, non-overlapping, margin-framed squares, largest first.

    ``known``: framed boxes of faces a stream already verified (webcam, video); a candidate on one of
    them is kept without the second look, which is most of a full scan's cost once faces are known.
    """
    gray = to_gray_uint8(image)
    boxes, scores = _verified(gray, *first_pass(gray, settings), settings, known)
    kept = suppress_overlaps(boxes, scores)
    found = [Detection(frame_box(boxes[i], gray.shape, settings.margin), scores[i]) for i in kept]
    return sorted(found, key=lambda d: (-d.box[2] * d.box[3], d.box[1], d.box[0]))


def detect_faces(image: np.ndarray, settings: DetectorSettings = DetectorSettings()) -> list[Box]:
    """The boxes of :func:`detect`: square, margin-framed, inside the image, largest first."""
    return [d.box for d in detect(image, settings)]


def find_faces(
    image: np.ndarray, settings: DetectorSettings = DetectorSettings(), *, fallback: bool = True
) -> list[Detection]:
    """:func:`detect`; when it finds nothing, a stricter scan for smaller faces in a large photo
    (:data:`SMALL_FACE_FRACTION`), then for tight crops the padded retries and the whole-image fallback.

    Measured on real photos: a quarter are already cropped to the face, where the cascade,
    which needs context, finds ~9 %. Padding by 25 % (replicated border) finds most of them; a photo
    still without a face that looks like a face crop (:func:`looks_like_face_crop`, and not uniform) is
    padded with a plain frame and scanned again, then by one pass of the first cascade alone
    (:data:`CROP_ONE_PASS`), and only then classified whole (96.0 % -> 99.1 % of 800 crops found).
    """
    gray = to_gray_uint8(image)
    found = detect(gray, settings)
    if found or not fallback:
        return found
    height, width = gray.shape[:2]
    smaller = replace(
        settings, min_face_fraction=min(settings.min_face_fraction, SMALL_FACE_FRACTION), **SMALL_FACE_STRICTER
    )
    if smaller.min_face(width, height) < settings.min_face(width, height):
        found = detect(gray, smaller)
        if found:
            return found
    found = detect_padded(gray, settings)
    if found:
        return found
    if looks_like_face_crop(gray.shape) and float(gray.std()) >= FACE_CROP_MIN_STD:
        # a plain frame of the photo's mean grey: repeated edges can streak a face's outline away
        found = detect_padded(gray, settings, border=cv2.BORDER_CONSTANT)
        if found:
            return found
        for name in CROP_ONE_PASS_CASCADES:
            one_pass = replace(settings, cascade_file=name or settings.cascade_file, **CROP_ONE_PASS)
            found = detect_padded(gray, one_pass, border=cv2.BORDER_CONSTANT)
            if found:
                return found[:1]  # a face crop holds one face
        return [Detection(whole_image_box(gray.shape), None, "whole-image")]
    return []


def detect_padded(
    image: np.ndarray, settings: DetectorSettings = DetectorSettings(), border: int = cv2.BORDER_REPLICATE
) -> list[Detection]:
    """Detection on a copy padded by ``FALLBACK_PAD`` per side, boxes mapped back: edge pixels repeated
    (``border``: ``cv2.BORDER_CONSTANT`` pads with the photo's mean grey instead).

    The minimum face follows the ORIGINAL photo, so padding never admits smaller faces.
    """
    gray = to_gray_uint8(image)
    height, width = gray.shape[:2]
    pad = max(1, int(round(FALLBACK_PAD * max(height, width))))
    padded = cv2.copyMakeBorder(gray, pad, pad, pad, pad, border, value=int(round(float(gray.mean()))))
    scaled = _with_min_face(settings, settings.min_face(width, height))
    found = []
    for d in detect(padded, scaled):
        x, y, w, h = d.box
        box = (x - pad, y - pad, w, h)
        if _overlaps_image(box, width, height):
            found.append(Detection(box, d.score, "padded"))
    return found


def looks_like_face_crop(shape: tuple[int, ...]) -> bool:
    """True for photos that are most likely one face already cropped: small, or near-square and modest."""
    height, width = shape[:2]
    if height <= 0 or width <= 0:
        return False
    if max(height, width) <= FACE_CROP_MAX_SIDE:
        return True
    return max(height, width) <= FACE_CROP_MAX_LONG and max(height, width) / min(height, width) <= FACE_CROP_MAX_ASPECT


def whole_image_box(shape: tuple[int, ...]) -> Box:
    """The largest centred square: the face box for a pre-cropped face (e.g. a 48x48 FER2013 image)."""
    h, w = shape[:2]
    side = min(h, w)
    return ((w - side) // 2, (h - side) // 2, side, side)


def suppress_overlaps(boxes: list[Box], scores: list[float]) -> list[int]:
    """Indices of the boxes kept, most confident first: a box is dropped when it overlaps a kept one
    by more than ``DUPLICATE_IOU`` (IoU) or lies inside it by more than ``NESTED_OVERLAP`` of its area.

    Hand-written because OpenCV's ``cv2.dnn.NMSBoxes`` only knows IoU, and a small false box inside a
    face (or a face inside a large false box) has a low IoU.
    """
    kept: list[int] = []
    for i in sorted(range(len(boxes)), key=lambda k: (-scores[k], -boxes[k][2] * boxes[k][3])):
        if all(not _same_face(boxes[i], boxes[j]) for j in kept):
            kept.append(i)
    return kept


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


def detect_in_region(gray: np.ndarray, region: Box, settings: DetectorSettings) -> list[Box]:
    """Unframed confident boxes (original pixels) whose first pass scanned only ``region``: following a
    known face. The second look still sees the whole photo around each candidate, so a face near the
    region's edge is verified with the same context as in a full scan (a cut-off context lost it)."""
    x, y, w, h = region
    height, width = gray.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(width, x + w), min(height, y + h)
    if x0 >= x1 or y0 >= y1:
        return []
    boxes, scores = first_pass(gray[y0:y1, x0:x1], settings)
    return _verified(gray, [(bx + x0, by + y0, bw, bh) for bx, by, bw, bh in boxes], scores, settings)[0]


def _verified(
    gray: np.ndarray, boxes: list[Box], scores: list[float], settings: DetectorSettings, known: Sequence[Box] = ()
) -> tuple[list[Box], list[float]]:
    """With ``settings.verify``, the first pass's candidates a second look confirms, with the second
    look's box (finer than a lenient first pass's raw window) and the first pass's score; else all.
    A candidate on a ``known`` face (:func:`_on_known_face`) is kept as the mean of its raw hits."""
    if not settings.verify:
        return boxes, scores
    kept_boxes, kept_scores = [], []
    for i in suppress_overlaps(boxes, scores):
        candidate = _cluster_mean(boxes, boxes[i])
        seen = (
            candidate if _on_known_face(candidate, known, settings.margin) else second_look(gray, candidate, settings)
        )
        if seen is not None:
            kept_boxes.append(seen)
            kept_scores.append(scores[i])
    return kept_boxes, kept_scores


def _on_known_face(raw: Box, known: Sequence[Box], margin: float) -> bool:
    """True when the raw box's centre lies in a known (framed) face box and its size is within 1.5x of
    that face's unframed size: the same face, already verified."""
    x, y, w, h = raw
    cx, cy = x + w / 2, y + h / 2
    for kx, ky, kw, kh in known:
        side = kw / (1.0 + 2.0 * margin)
        if kx <= cx <= kx + kw and ky <= cy <= ky + kh and max(w, side) <= 1.5 * max(1.0, min(w, side)):
            return True
    return False


def _cluster_mean(boxes: list[Box], seed: Box) -> Box:
    """The mean of the raw hits on the same face as ``seed``: a lenient pass's best-scored raw window
    is often off-centre or a pyramid step off in size; their mean is where the face is."""
    cluster = np.array([b for b in boxes if _same_face(b, seed)] or [seed], np.float64)
    x, y, w, h = cluster.mean(axis=0).round().astype(int)
    return int(x), int(y), int(w), int(h)


def _with_min_face(settings: DetectorSettings, min_face: int) -> DetectorSettings:
    """The same settings with an absolute minimum face (no fraction): for scans of padded copies."""
    return replace(settings, min_size=max(1, min_face), min_face_fraction=0.0)


def _cascade() -> cv2.CascadeClassifier:
    """One classifier per thread: detectMultiScale is not documented as thread-safe."""
    return cascade(CASCADE_FILE)


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


def _same_face(a: Box, b: Box) -> bool:
    """Two boxes on one face: overlapping (IoU) or one mostly inside the other."""
    return iou(a, b) > DUPLICATE_IOU or _nested(a, b) > NESTED_OVERLAP


def _nested(a: Box, b: Box) -> float:
    """Fraction of the smaller box's area that lies inside the other box."""
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    smaller = min(a[2] * a[3], b[2] * b[3])
    return ix * iy / smaller if smaller > 0 else 0.0


def _overlaps_image(box: Box, width: int, height: int) -> bool:
    """True when at least half of the box lies inside the image (a face found on the padding is not)."""
    x, y, w, h = box
    ix = max(0, min(x + w, width) - max(x, 0))
    iy = max(0, min(y + h, height) - max(y, 0))
    return w > 0 and h > 0 and ix * iy >= 0.5 * w * h
