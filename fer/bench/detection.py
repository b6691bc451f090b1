"""Detection recall by face size and frame size, false boxes and ms per frame (``fer bench``).

Speed alone hid lost faces: every speed figure had been measured on one large face. Here real faces are
pasted at known sizes onto face-free backgrounds and the detector (:func:`fer.detection.detector.find_faces`,
what ``fer.analyze`` runs) is scored on them:

- faces: the astronaut portrait, the real photos in ``faces/real/`` and, when FER2013 is given, its
  faces upscaled (soft: judge on the real ones too). A face's size is the side of the box a slow,
  lenient reference scan (full resolution, both frontal cascades) puts on it in its source photo;
  sources the reference scan misses are left out (they would measure the cascade, not the scan);
- each placement is a variant (mirrored, rotated by up to 10 degrees, brightness shifted by up to
  40 levels) with its surroundings, feathered into a random crop of a face-free scikit-image sample,
  noise or a gradient, at a seeded random position;
- a face is found when a box's centre lies in its true box and the box's side is 0.5..2x the true
  side; every other box is a false box. Photos without faces count false boxes only.

Every detector given is run on the same photos, alternately, so figures of one run compare even on a
loaded machine. Sample sizes (``SAMPLE``) keep a run of two detectors at ~6 min on 2 loaded cores.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from fer.detection.detector import find_faces, iou
from fer.detection.settings import Box, DetectorSettings

#: (frame width, height, face sizes): px at 640x480, else fractions of the short side.
FRAMES: tuple[tuple[int, int, tuple[float, ...]], ...] = (
    (640, 480, (40, 48, 56, 64, 80, 100, 140, 200)),
    (1280, 720, (0.02, 0.03, 0.05, 0.10, 0.20)),
    (1920, 1080, (0.02, 0.03, 0.05, 0.10, 0.20)),
    (4000, 3000, (0.02, 0.03, 0.05, 0.10, 0.20)),
    (6000, 4000, (0.02, 0.03, 0.05, 0.10, 0.20)),
)
#: Photos per (frame, face size) cell, and faces per photo (one at 640x480, a webcam view; up to four
#: in larger photos, one per quadrant): 40 faces per cell at 640x480, 32 in larger frames.
SAMPLE = {"photos_640": 40, "photos_large": 8, "faces_large": 4, "face_free": 60}
#: Face-free photos: sizes drawn from these.
FACE_FREE_FRAMES = ((640, 480), (1280, 720), (1920, 1080), (4000, 3000), (6000, 4000))
#: scikit-image samples without a human face (the cat is a cat), used as backgrounds.
BACKGROUNDS = (
    "coffee", "chelsea", "rocket", "coins", "hubble_deep_field", "immunohistochemistry", "horse", "clock",
    "brick", "grass", "gravel", "moon", "page", "text", "camera_man_free",
)  # fmt: skip


@dataclass(frozen=True)
class FaceSource:
    """A face photo and its face's box (reference scan, source pixels)."""

    image: np.ndarray  # RGB uint8
    box: Box
    kind: str  # "portrait" | "real" | "fer2013"


@dataclass
class Cell:
    """Counts for one (frame, face size) cell and one detector."""

    faces: int = 0
    found: int = 0
    false_boxes: int = 0
    photos: int = 0
    seconds: list[float] = field(default_factory=list)

    def recall(self) -> float:
        return self.found / self.faces if self.faces else float("nan")


def reference_box(gray: np.ndarray) -> Box | None:
    """The face a slow, lenient full-resolution scan is surest of, when both frontal cascades agree on it
    and it has some context around it (5 % of its side inside the photo on every side); else None."""
    height, width = gray.shape
    lenient = {"scaleFactor": 1.05, "minNeighbors": 3, "minSize": (max(24, min(height, width) // 6),) * 2}
    alt2 = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_alt2.xml")
    default = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    boxes, votes = alt2.detectMultiScale2(gray, **lenient)
    others = [tuple(int(v) for v in b) for b in default.detectMultiScale(gray, **lenient)]
    for i in np.argsort(-np.asarray(votes).ravel()) if len(boxes) else []:
        box = tuple(int(v) for v in boxes[i])
        x, y, w, _ = box
        room = 0.05 * w
        inside = x >= room and y >= room and x + w + room <= width and y + w + room <= height
        if inside and any(iou(box, other) > 0.5 for other in others):
            return box
    return None


def face_sources(faces_dir: Path, fer2013: Path | None, n_real: int, n_fer: int, seed: int) -> list[FaceSource]:
    """The portrait, ``n_real`` real photos and ``n_fer`` FER2013 faces, each with its reference box."""
    rng = np.random.default_rng(seed)
    out: list[FaceSource] = []
    portrait = cv2.imread(str(faces_dir / "astronaut.png"))
    if portrait is not None:
        _add(out, cv2.cvtColor(portrait, cv2.COLOR_BGR2RGB), "portrait")
    real = sorted((faces_dir / "real").glob("*/*.jpg"))
    for i in rng.permutation(len(real)):
        if sum(s.kind == "real" for s in out) >= n_real:
            break
        bgr = cv2.imread(str(real[i]))
        if bgr is not None:
            _add(out, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), "real")
    if fer2013 is not None and n_fer and fer2013.exists():
        from fer.data import load_split

        data = load_split(fer2013, "PublicTest")
        for i in rng.permutation(len(data))[: 4 * n_fer]:
            if sum(s.kind == "fer2013" for s in out) >= n_fer:
                break
            big = cv2.resize(data.images[i], (192, 192), interpolation=cv2.INTER_CUBIC)
            big = cv2.copyMakeBorder(big, 96, 96, 96, 96, cv2.BORDER_REPLICATE)
            _add(out, np.dstack([big] * 3), "fer2013")
    return out


def _add(out: list[FaceSource], rgb: np.ndarray, kind: str) -> None:
    box = reference_box(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
    if box is not None:
        out.append(FaceSource(rgb, box, kind))


def backgrounds() -> list[np.ndarray]:
    """Face-free RGB backgrounds: scikit-image samples when installed (a dev dependency)."""
    try:
        import skimage.data
    except ImportError:
        return []
    out = []
    for name in BACKGROUNDS:
        try:
            img = getattr(skimage.data, name)()
        except Exception:  # a sample missing from this scikit-image version, or not downloadable
            continue
        img = img.astype(np.uint8) * 255 if img.dtype == bool else img
        out.append(np.dstack([img] * 3) if img.ndim == 2 else np.ascontiguousarray(img[..., :3]))
    return out


def background(width: int, height: int, rng: np.random.Generator, samples: list[np.ndarray]) -> np.ndarray:
    """A random crop of a sample resized to the frame (60 %), smoothed noise (20 %) or a gradient."""
    pick = rng.random()
    if samples and pick < 0.6:
        return random_crop(samples[rng.integers(len(samples))], width, height, rng)
    if pick < 0.8:
        small = rng.integers(0, 256, (max(2, height // 16), max(2, width // 16), 3), dtype=np.uint8)
        return cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    return gradient(width, height, rng)


def random_crop(src: np.ndarray, width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """A random 50-100 % crop of ``src`` resized to width x height."""
    sh, sw = src.shape[:2]
    frac = rng.uniform(0.5, 1.0)
    cw, ch = max(8, int(sw * frac)), max(8, int(sh * frac))
    x, y = int(rng.integers(0, sw - cw + 1)), int(rng.integers(0, sh - ch + 1))
    return cv2.resize(src[y : y + ch, x : x + cw], (width, height), interpolation=cv2.INTER_LINEAR)


def gradient(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """A smooth left-to-right gradient between two random colours."""
    c0, c1 = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    t = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :, None]
    row = (c0 * (1 - t) + c1 * t).astype(np.uint8)
    return np.ascontiguousarray(np.broadcast_to(row, (height, width, 3)))


def paste_face(
    canvas: np.ndarray, source: FaceSource, side: int, cx: float, cy: float, rng: np.random.Generator
) -> Box:
    """A variant of ``source`` with its face ``side`` px wide centred at (cx, cy), in place; its true box."""
    x, y, w, _ = source.box
    scale = side / w
    ctx = 0.6 * w  # surroundings kept: hair, ears, chin, some background of the source photo
    crop_box = (max(0, int(x - ctx)), max(0, int(y - ctx)))
    img = source.image[crop_box[1] : int(y + w + ctx), crop_box[0] : int(x + w + ctx)]
    fx, fy = (x - crop_box[0] + w / 2) * scale, (y - crop_box[1] + w / 2) * scale  # face centre in the patch
    size = (max(1, round(img.shape[1] * scale)), max(1, round(img.shape[0] * scale)))
    patch = cv2.resize(img, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    if rng.random() < 0.5:
        patch, fx = np.ascontiguousarray(patch[:, ::-1]), patch.shape[1] - fx
    m = cv2.getRotationMatrix2D((fx, fy), float(rng.uniform(-10, 10)), 1.0)
    patch = cv2.warpAffine(patch, m, (patch.shape[1], patch.shape[0]), borderMode=cv2.BORDER_REFLECT)
    patch = np.clip(patch.astype(np.int16) + int(rng.integers(-40, 41)), 0, 255).astype(np.float32)
    alpha = np.zeros(patch.shape[:2], np.float32)
    edge = max(1, int(0.03 * min(patch.shape[:2])))
    alpha[edge : -edge or None, edge : -edge or None] = 1.0
    alpha = cv2.GaussianBlur(alpha, (0, 0), edge / 2)[..., None]
    x0, y0 = int(round(cx - fx)), int(round(cy - fy))
    height, width = canvas.shape[:2]
    cx0, cy0, cx1, cy1 = max(0, x0), max(0, y0), min(width, x0 + patch.shape[1]), min(height, y0 + patch.shape[0])
    p = patch[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
    a = alpha[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
    region = canvas[cy0:cy1, cx0:cx1].astype(np.float32)
    canvas[cy0:cy1, cx0:cx1] = (a * p + (1 - a) * region).astype(np.uint8)
    return int(round(cx - side / 2)), int(round(cy - side / 2)), side, side


def scenes(
    sources: list[FaceSource], samples: list[np.ndarray], seed: int
) -> Iterator[tuple[str, int, int, float, np.ndarray, list[Box]]]:
    """(frame label, face px, n photos, size as given, photo, true boxes) for every photo with faces."""
    rng = np.random.default_rng(seed)
    for width, height, sizes in FRAMES:
        big = width > 640
        n_photos = SAMPLE["photos_large" if big else "photos_640"]
        per_photo = SAMPLE["faces_large"] if big else 1
        for size in sizes:
            side = int(round(size * min(width, height))) if size < 1 else int(size)
            for _ in range(n_photos):
                canvas = background(width, height, rng, samples)
                truths = []
                cells = ((0, 0), (1, 0), (0, 1), (1, 1))[:per_photo] if big else ((0, 0),)
                cw, ch = (width / 2, height / 2) if big else (width, height)
                for col, row in cells:
                    lo_x, lo_y = col * cw + 0.8 * side, row * ch + 0.8 * side
                    hi_x, hi_y = (col + 1) * cw - 0.8 * side, (row + 1) * ch - 0.8 * side
                    cx = rng.uniform(lo_x, max(lo_x, hi_x))
                    cy = rng.uniform(lo_y, max(lo_y, hi_y))
                    truths.append(paste_face(canvas, sources[rng.integers(len(sources))], side, cx, cy, rng))
                yield f"{width}x{height}", side, n_photos, size, canvas, truths


def face_free(samples: list[np.ndarray], seed: int) -> Iterator[np.ndarray]:
    """``SAMPLE['face_free']`` photos without faces, frame sizes in turn."""
    rng = np.random.default_rng(seed + 1)
    for i in range(SAMPLE["face_free"]):
        width, height = FACE_FREE_FRAMES[i % len(FACE_FREE_FRAMES)]
        yield background(width, height, rng, samples)


def score(boxes: list[Box], truths: list[Box], margin: float) -> tuple[int, int]:
    """(true faces found, false boxes) for one photo's framed boxes."""
    found, false = set(), 0
    for x, y, w, _ in boxes:
        raw = w / (1 + 2 * margin)
        cx, cy = x + w / 2, y + w / 2
        hit = [
            i
            for i, (tx, ty, ts, _) in enumerate(truths)
            if tx <= cx <= tx + ts and ty <= cy <= ty + ts and 0.5 * ts <= raw <= 2 * ts
        ]
        if hit:
            found.add(hit[0])
        else:
            false += 1
    return len(found), false


def run(
    detectors: dict[str, DetectorSettings],
    faces_dir: Path,
    fer2013: Path | None = None,
    seed: int = 20,
    n_real: int = 60,
    n_fer: int = 20,
) -> dict:
    """Recall table, false boxes and ms per frame for each detector, on one seeded set of photos."""
    sources = face_sources(faces_dir, fer2013, n_real, n_fer, seed)
    if not sources:
        raise ValueError(f"no face photos found under {faces_dir}")
    samples = backgrounds()
    cells: dict[str, dict[tuple[str, int], Cell]] = {name: {} for name in detectors}
    for frame, side, _, _, photo, truths in scenes(sources, samples, seed):
        for name, settings in detectors.items():
            t0 = time.perf_counter()
            boxes = [d.box for d in find_faces(photo, settings)]
            seconds = time.perf_counter() - t0
            found, false = score(boxes, truths, settings.margin)
            cell = cells[name].setdefault((frame, side), Cell())
            cell.faces += len(truths)
            cell.found += found
            cell.false_boxes += false
            cell.photos += 1
            cell.seconds.append(seconds)
    free = {name: [0, 0] for name in detectors}
    for photo in face_free(samples, seed):
        for name, settings in detectors.items():
            free[name][0] += 1
            free[name][1] += len(find_faces(photo, settings))
    kinds = {k: sum(s.kind == k for s in sources) for k in ("portrait", "real", "fer2013")}
    return {"sources": kinds, "cells": cells, "face_free": free}


def summary(result: dict, name: str) -> dict:
    """JSON-ready figures for one detector: recall per cell, false boxes per 100 photos, ms per frame."""
    cells: dict[tuple[str, int], Cell] = result["cells"][name]
    rows, per_frame = [], {}
    for (frame, side), cell in cells.items():
        rows.append({"frame": frame, "face_px": side, "faces": cell.faces, "recall": round(cell.recall(), 4)})
        per_frame.setdefault(frame, []).extend(cell.seconds)
    photos = sum(c.photos for c in cells.values())
    false = sum(c.false_boxes for c in cells.values())
    free_photos, free_boxes = result["face_free"][name]
    wanted = [c for (frame, side), c in cells.items() if side >= target_min(frame)]
    return {
        "recall_by_size": rows,
        "recall_wanted_faces": round(sum(c.found for c in wanted) / max(1, sum(c.faces for c in wanted)), 4),
        "false_boxes_per_100_photos_with_faces": round(100 * false / max(1, photos), 2),
        "false_boxes_per_100_face_free_photos": round(100 * free_boxes / max(1, free_photos), 2),
        "ms_per_frame": {f: round(1000 * float(np.median(s)), 1) for f, s in per_frame.items()},
        "photos": photos + free_photos,
        "face_sources": result["sources"],
    }


def target_min(frame: str) -> int:
    """The smallest face the targets ask for in a frame: 48 px, or 3 % of the short side if larger."""
    width, height = (int(v) for v in frame.split("x"))
    return max(48, int(round(0.03 * min(width, height))))


def table(summaries: dict[str, dict]) -> str:
    """A Markdown table: one row per (frame, face size), one recall column per detector."""
    names = list(summaries)
    lines = ["| frame | face px | faces | " + " | ".join(names) + " |", "|---|---|---|" + "---|" * len(names)]
    first = summaries[names[0]]["recall_by_size"]
    for i, row in enumerate(first):
        cells = " | ".join(f"{100 * summaries[n]['recall_by_size'][i]['recall']:.0f} %" for n in names)
        lines.append(f"| {row['frame']} | {row['face_px']} | {row['faces']} | {cells} |")
    for key, label in (
        ("false_boxes_per_100_photos_with_faces", "false boxes / 100 photos with faces"),
        ("false_boxes_per_100_face_free_photos", "false boxes / 100 face-free photos"),
    ):
        lines.append(f"| {label} | | | " + " | ".join(f"{summaries[n][key]:.1f}" for n in names) + " |")
    for frame in summaries[names[0]]["ms_per_frame"]:
        cells = " | ".join(f"{summaries[n]['ms_per_frame'][frame]:.0f}" for n in names)
        lines.append(f"| ms per frame {frame} | | | {cells} |")
    return "\n".join(lines)
