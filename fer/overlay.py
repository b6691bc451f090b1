"""Drawing face results on an image: emotion-coloured boxes and numbered labels that never overlap.

Every picture the app shows with faces on it (an uploaded photo, its PNG download, a webcam frame) is
drawn here, so a face's name on the box is the name the page lists it under: a photo's faces are
numbered in the order they are given, which is :func:`fer.faces.ordered`'s (left to right) everywhere;
a tracked face (webcam, video) is named by its track id alone, ``#id``, as the tables and exports name it.

Labels are placed one after another at the first free spot among a few candidates around each box
(above, below, inside top/bottom, further out), inside the image and clear of labels already placed
(preferably not even touching them, so two labels do not stack into one block) and of other faces.
When a crowded photo leaves no free spot, the text is made smaller and placement runs again, down to
a minimum readable size. The text size follows the image size, and an image too
small for a readable label (a 48x48 face crop) is enlarged by an integer factor before drawing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from fer.faces import FaceResult
from fer.imageio import to_rgb_uint8
from fer.labels import EMOTION_COLORS_RGB

#: (x0, y0, x1, y1) in pixels, x1/y1 exclusive.
Rect = tuple[int, int, int, int]

FONT = cv2.FONT_HERSHEY_SIMPLEX
#: Cap height of the label text as a fraction of the image's size, sqrt(width * height): 13 px on a
#: 640x480 frame, 83 px on a 12 MP photo, and a panorama strip gets no giant text for its long side ...
TEXT_FRACTION = 0.024
#: ... never below this many pixels (Hershey text smaller than ~10 px is hard to read) ...
MIN_TEXT_PX = 10
#: ... and shrunk in steps of this factor, down to MIN_TEXT_PX, while labels would overlap.
SHRINK_STEP = 0.85
#: Images narrower or lower than this are enlarged (nearest neighbour) before drawing, so a label fits.
MIN_CANVAS_PX = 192
#: Upper bound on that enlargement (a 48x48 crop becomes 192x192).
MAX_ZOOM = 8


@dataclass(frozen=True)
class Label:
    """One drawn label: which face it belongs to, what it says and where it is (in the output image)."""

    face: int  # index into the faces given to draw_faces
    text: str
    rect: Rect
    overlaps: bool = False  # True only when no free spot existed even at the smallest text size


@dataclass(frozen=True)
class Annotation:
    """The annotated image and the label rectangles drawn on it (what the tests check for overlaps)."""

    image: np.ndarray
    labels: list[Label]
    zoom: int  # integer enlargement applied to a tiny input (1: same size as the input)
    text_px: int  # cap height of the label text actually used


def label_text(face: FaceResult, number: int | None) -> str:
    """'2: happy 91%' (or 'happy 91%' without a number) on a photo; '#7: happy 91%' for a face tracked
    under id 7 (webcam, video), whatever its number: one name per face, the one its table and exports use.
    A '?' after the emotion when the top two are near-tied ('angry? 23%')."""
    core = f"{face.label}{'?' if face.uncertain else ''} {face.confidence:.0%}"
    name = f"#{face.track_id}" if face.track_id is not None else number
    return core if name is None else f"{name}: {core}"


def annotate(image: np.ndarray, faces: Sequence[FaceResult], *, numbers: bool | None = None) -> np.ndarray:
    """A copy of ``image`` (RGB uint8) with an emotion-coloured box and label per face.

    ``numbers``: prefix each label with the face's position in ``faces`` (1-based); by default only when
    there are several faces. A tracked face is always named by its ``#id`` instead (:func:`label_text`).
    A tiny image comes back enlarged (see :data:`MIN_CANVAS_PX`).
    """
    return draw_faces(image, faces, numbers=numbers).image


def draw_faces(image: np.ndarray, faces: Sequence[FaceResult], *, numbers: bool | None = None) -> Annotation:
    """:func:`annotate`, also returning where each label went."""
    out = to_rgb_uint8(image).copy()
    if not faces:
        return Annotation(out, [], 1, 0)
    numbered = len(faces) > 1 if numbers is None else numbers
    texts = [label_text(face, i if numbered else None) for i, face in enumerate(faces, 1)]
    zoom = _zoom_for(out.shape)
    if zoom > 1:
        out = cv2.resize(out, (out.shape[1] * zoom, out.shape[0] * zoom), interpolation=cv2.INTER_NEAREST)
    height, width = out.shape[:2]
    # A face found on the padded copy may reach past the photo's edges (its box is exported as found):
    # drawn clipped, so its outline and label stay on the image.
    boxes = [_clip(_scaled_rect(face.box, zoom), width, height) for face in faces]
    line = max(1, round((height * width) ** 0.5 / 280))
    text_px, labels = _place_all(texts, boxes, (height, width))
    colours = [EMOTION_COLORS_RGB[face.label] for face in faces]
    for (x0, y0, x1, y1), colour in zip(boxes, colours):
        cv2.rectangle(out, (x0, y0), (x1 - 1, y1 - 1), colour, line, cv2.LINE_AA)
    for label in labels:  # after every box, so no box line crosses another face's label
        _draw_label(out, label, colours[label.face], text_px)
    return Annotation(out, labels, zoom, text_px)


# ----------------------------------------------------------------------------- placement
def _zoom_for(shape: tuple[int, ...]) -> int:
    """Integer enlargement that brings the shorter side of a tiny image up to MIN_CANVAS_PX."""
    shorter = max(1, min(shape[:2]))
    return int(min(MAX_ZOOM, max(1, -(-MIN_CANVAS_PX // shorter))))


def _scaled_rect(box: Sequence[int], zoom: int) -> Rect:
    x, y, w, h = (int(v) * zoom for v in box)
    return x, y, x + w, y + h


def _clip(rect: Rect, width: int, height: int) -> Rect:
    """``rect`` cut to the image (at least one pixel inside it, so a box is always drawn)."""
    x0, y0, x1, y1 = rect
    x0, y0 = min(max(0, x0), width - 1), min(max(0, y0), height - 1)
    return x0, y0, min(max(x0 + 1, x1), width), min(max(y0 + 1, y1), height)


def _font(text_px: int) -> tuple[float, int]:
    """Hershey font scale and stroke thickness for a cap height of ``text_px`` pixels."""
    thickness = max(1, round(text_px / 12))
    return cv2.getFontScaleFromHeight(FONT, text_px, thickness), thickness


def _label_size(text: str, text_px: int) -> tuple[int, int]:
    """(width, height) of the filled label rectangle: the text plus a padding of a quarter cap height."""
    scale, thickness = _font(text_px)
    (tw, th), base = cv2.getTextSize(text, FONT, scale, thickness)
    pad = max(2, text_px // 4)
    return tw + 2 * pad, th + base + 2 * pad


def _place_all(texts: list[str], boxes: list[Rect], shape: tuple[int, int]) -> tuple[int, list[Label]]:
    """Place every label, shrinking the text while any two labels would overlap."""
    height, width = shape
    text_px = max(MIN_TEXT_PX, round(TEXT_FRACTION * (height * width) ** 0.5))
    while True:
        labels = _place(texts, boxes, shape, text_px)
        if not any(label.overlaps for label in labels) or text_px <= MIN_TEXT_PX:
            return text_px, labels
        text_px = max(MIN_TEXT_PX, int(text_px * SHRINK_STEP))


def _place(texts: list[str], boxes: list[Rect], shape: tuple[int, int], text_px: int) -> list[Label]:
    """Greedy placement in face order: the first candidate spot that collides with nothing, else the least bad."""
    placed: list[Label] = []
    gap = max(2, text_px // 2)  # labels closer than this read as one stack (whose is whose?)
    for i, (text, box) in enumerate(zip(texts, boxes)):
        size = _label_size(text, text_px)
        others = [b for j, b in enumerate(boxes) if j != i]
        best: tuple[float, Rect] | None = None
        for rect in _candidates(box, size, shape):
            label_hits = sum(_area(rect, p.rect) for p in placed)
            face_hits = sum(_area(rect, b) for b in others)
            touching = sum(_area(rect, _grown(p.rect, gap)) for p in placed)
            cost = label_hits * 1000.0 + face_hits + touching
            if best is None or cost < best[0]:
                best = (cost, rect)
            if cost == 0:
                break
        assert best is not None  # _candidates always yields at least one spot
        overlaps = any(_area(best[1], p.rect) > 0 for p in placed)
        placed.append(Label(i, text, best[1], overlaps))
    return placed


def _candidates(box: Rect, size: tuple[int, int], shape: tuple[int, int]) -> list[Rect]:
    """Spots for a label of ``size`` near ``box``, best first, all inside the image."""
    x0, y0, x1, y1 = box
    lw, lh = size
    height, width = shape
    lw, lh = min(lw, width), min(lh, height)
    lefts = [x0, x1 - lw]
    tops = [
        y0 - lh,  # just above the box
        y1,  # just below
        y0,  # inside, at the top
        y1 - lh,  # inside, at the bottom
        *(y0 - lh * k for k in (2, 3)),  # further above
        *(y1 + lh * (k - 1) for k in (2, 3)),  # further below
        (y0 + y1 - lh) // 2,  # inside, in the middle
    ]
    spots: list[Rect] = []
    for top in tops:
        if top < 0 or top + lh > height:
            continue
        for left in lefts:
            left = min(max(0, left), width - lw)
            rect = (left, top, left + lw, top + lh)
            if rect not in spots:
                spots.append(rect)
    if not spots:  # the label is as tall as the image: pin it to the top
        left = min(max(0, x0), width - lw)
        spots.append((left, 0, left + lw, lh))
    return spots


def _grown(rect: Rect, by: int) -> Rect:
    x0, y0, x1, y1 = rect
    return x0 - by, y0 - by, x1 + by, y1 + by


def _area(a: Rect, b: Rect) -> int:
    """Overlap area of two rectangles (0 when they only touch)."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if w > 0 and h > 0 else 0


def _draw_label(out: np.ndarray, label: Label, colour: tuple[int, int, int], text_px: int) -> None:
    """Filled rectangle in the emotion colour, text in black or white, whichever reads better on it."""
    x0, y0, x1, y1 = label.rect
    cv2.rectangle(out, (x0, y0), (x1 - 1, y1 - 1), colour, -1)
    scale, thickness = _font(text_px)
    (_, th), base = cv2.getTextSize(label.text, FONT, scale, thickness)
    pad = max(2, text_px // 4)
    ink = (0, 0, 0) if sum(colour) > 382 else (255, 255, 255)
    cv2.putText(out, label.text, (x0 + pad, y0 + pad + th), FONT, scale, ink, thickness, cv2.LINE_AA)
