"""Measure the Haar detector settings that reproduce FER2013's framing: margin, min_neighbors, equalisation.

Protocol (PublicTest only, never PrivateTest): each of N random 48x48 faces is upscaled to 192x192 and
placed at a random offset in a 320x320 canvas whose border replicates the face's edge pixels, so its
true FER2013 frame is known exactly. The cascade runs on the canvas; the detection nearest that frame is
cropped with each candidate margin, resized to 48x48 as in crop_face, and compared with the original:
mean absolute pixel error (MAE, grey levels) and Pearson correlation. Detection rate and canvases with a
spurious box are reported per min_neighbors / equalisation, alongside the astronaut portrait checks.

Usage: python scripts/measure_margin.py [--fer2013 CSV_OR_DIR] [--faces DIR] [--n 300]
Cheap by design (300 faces, one thread, one ungrouped scan per canvas and equalisation setting,
regrouped per min_neighbors exactly as OpenCV does): about half a minute of CPU.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fer.data import load_split  # noqa: E402
from fer.detection import Box, DetectorSettings, crop_face, detect_faces, detect_raw, frame_box  # noqa: E402

MARGINS = (-0.1, -0.05, 0.0, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3)
NEIGHBORS = (3, 4, 5, 6)
UPSCALED = 192
CANVAS = 320
SEED = 2013


def main() -> None:
    """Parse arguments, run both measurements, print the tables."""
    args = _parse_args()
    cv2.setNumThreads(1)  # keep the measurement light next to other jobs; timings are not the point
    start = time.process_time()
    faces = _load_public_test(args.fer2013, args.n)
    canvases = _make_canvases(faces)
    print(f"{len(faces)} PublicTest faces, {UPSCALED}px in a {CANVAS}px replicate-border canvas\n")
    candidates = {eq: [_candidates(canvas, eq) for canvas, _ in canvases] for eq in (False, True)}
    default = DetectorSettings()
    boxes = [_group(raw, default.min_neighbors) for raw in candidates[default.equalize]]
    _margin_table(faces, canvases, boxes)
    _neighbors_table(canvases, candidates, _load_portrait(args.faces))
    print(f"\nCPU time: {time.process_time() - start:.1f} s")


def _parse_args() -> argparse.Namespace:
    repo = Path(__file__).resolve().parents[1]
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--fer2013", type=Path, default=Path(os.environ.get("FER2013_DIR", repo.parent / "shared" / "fer2013"))
    )
    parser.add_argument(
        "--faces", type=Path, default=Path(os.environ.get("FER_FACES_DIR", repo.parent / "shared" / "faces"))
    )
    parser.add_argument("--n", type=int, default=300)
    return parser.parse_args()


def _load_public_test(source: Path, n: int) -> list[np.ndarray]:
    """A fixed random subsample of PublicTest faces (fer2013.csv or image folder), as 48x48 uint8."""
    images = load_split(source, "PublicTest").images
    rng = np.random.default_rng(SEED)
    chosen = rng.choice(len(images), size=min(n, len(images)), replace=False)
    return [images[i] for i in sorted(chosen)]


def _make_canvases(faces: list[np.ndarray]) -> list[tuple[np.ndarray, Box]]:
    """Each face upscaled and padded at a random offset; returns (canvas, true frame)."""
    rng = np.random.default_rng(SEED + 1)
    out = []
    for face in faces:
        big = cv2.resize(face, (UPSCALED, UPSCALED), interpolation=cv2.INTER_CUBIC)
        ox, oy = (int(v) for v in rng.integers(0, CANVAS - UPSCALED + 1, size=2))
        pads = (oy, CANVAS - UPSCALED - oy, ox, CANVAS - UPSCALED - ox)
        out.append((cv2.copyMakeBorder(big, *pads, borderType=cv2.BORDER_REPLICATE), (ox, oy, UPSCALED, UPSCALED)))
    return out


def _candidates(canvas: np.ndarray, equalize: bool) -> list[Box]:
    """Ungrouped cascade hits (min_neighbors=0): one scan serves every min_neighbors value."""
    return detect_raw(canvas, replace(DetectorSettings(), min_neighbors=0, equalize=equalize))


def _group(raw: list[Box], min_neighbors: int) -> list[Box]:
    """OpenCV's own grouping step (eps 0.2, as inside detectMultiScale): identical to a direct scan."""
    if not raw:
        return []
    grouped, _ = cv2.groupRectangles([list(b) for b in raw], min_neighbors, 0.2)
    return [tuple(int(v) for v in b) for b in grouped]


def _split_hits(boxes: list[Box], truth: Box) -> tuple[Box | None, int]:
    """The detection matching the true face (centre inside it, plausible size) and the count of others."""
    tx, ty, ts, _ = truth
    hits, others = [], 0
    for box in boxes:
        cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
        if tx <= cx <= tx + ts and ty <= cy <= ty + ts and 0.3 * ts <= box[2] <= 1.6 * ts:
            hits.append(box)
        else:
            others += 1
    hits.sort(key=lambda b: abs(b[0] + b[2] / 2 - tx - ts / 2) + abs(b[1] + b[3] / 2 - ty - ts / 2))
    return (hits[0] if hits else None), others + max(0, len(hits) - 1)


def _margin_table(faces: list[np.ndarray], canvases: list[tuple[np.ndarray, Box]], boxes: list[list[Box]]) -> None:
    """Alignment error of margin-framed crops against the original faces, plus the geometric optimum."""
    matched = []
    for face, (canvas, truth), found in zip(faces, canvases, boxes):
        hit, _ = _split_hits(found, truth)
        if hit is not None:
            matched.append((face, canvas, truth, hit))
    print(f"margin (detected {len(matched)}/{len(faces)} with default settings)")
    print("margin    MAE    corr   IoU(frame, true frame)")
    for margin in MARGINS:
        maes, corrs, ious = [], [], []
        for face, canvas, truth, hit in matched:
            box = frame_box(hit, canvas.shape, margin)
            crop = crop_face(canvas, box).astype(np.float64)
            ref = face.astype(np.float64)
            maes.append(np.abs(crop - ref).mean())
            corrs.append(np.corrcoef(crop.ravel(), ref.ravel())[0, 1])
            ious.append(_iou(box, truth))
        print(f"{margin:+.3f} {np.mean(maes):6.2f}  {np.nanmean(corrs):.3f}  {np.mean(ious):.3f}")
    sides = np.array([hit[2] for *_, hit in matched], dtype=float)
    ideal = (UPSCALED / sides - 1) / 2
    dx = np.array([(t[0] + t[2] / 2 - h[0] - h[2] / 2) / h[2] for *_, t, h in matched])
    dy = np.array([(t[1] + t[3] / 2 - h[1] - h[3] / 2) / h[2] for *_, t, h in matched])
    q1, med, q3 = np.percentile(ideal, [25, 50, 75])
    print(f"geometric ideal margin (true side / Haar side - 1) / 2: median {med:+.3f} (IQR {q1:+.3f}..{q3:+.3f})")
    print(f"true-frame centre minus Haar centre, in Haar sides: dx {np.median(dx):+.3f}, dy {np.median(dy):+.3f}\n")


def _neighbors_table(
    canvases: list[tuple[np.ndarray, Box]], candidates: dict[bool, list[list[Box]]], portrait: np.ndarray
) -> None:
    """Faces found on the portrait checks and detection / false-box rates on the FER canvases."""
    checks = {
        "astronaut": (portrait, 1),
        "flipped": (np.ascontiguousarray(portrait[:, ::-1]), 1),
        "2x2 tiling": (np.tile(portrait, (2, 2, 1)), 4),
        "1280x960": (cv2.resize(portrait, (1280, 960), interpolation=cv2.INTER_LINEAR), 1),
        "noise": (np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8), 0),
    }
    print("min_neighbors / equalize: faces found (expected) | FER canvases: detected, with a spurious box")
    print("mn eq   " + "  ".join(f"{k}({v[1]})" for k, v in checks.items()) + "   detected  spurious")
    for equalize in (False, True):
        for neighbors in NEIGHBORS:
            settings = replace(DetectorSettings(), min_neighbors=neighbors, equalize=equalize)
            found = [len(detect_faces(img, settings)) for img, _ in checks.values()]
            detected = spurious = 0
            for (_, truth), raw in zip(canvases, candidates[equalize]):
                hit, others = _split_hits(_group(raw, neighbors), truth)
                detected += hit is not None
                spurious += others > 0
            n = len(canvases)
            cells = "  ".join(f"{f:>{len(k) + 3}d}" for f, k in zip(found, checks))
            print(f"{neighbors}  {int(equalize)}    {cells}   {100 * detected / n:6.1f}%  {100 * spurious / n:6.1f}%")


def _load_portrait(faces_dir: Path) -> np.ndarray:
    return np.asarray(Image.open(faces_dir / "astronaut.png").convert("RGB"))


def _iou(a: Box, b: Box) -> float:
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return ix * iy / (a[2] * a[3] + b[2] * b[3] - ix * iy)


if __name__ == "__main__":
    main()
