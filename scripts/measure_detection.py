"""Measure the photo detector's settings: cascade, min_neighbors, score threshold, min face fraction.

Protocol (PublicTest-derived photos only, never PrivateTest): ``scripts/photo_set.py`` builds N
labelled photos from PublicTest faces (scenes, tight crops, 48x48 crops, the astronaut's variants) with
the true face box known. For each candidate setting the cascade scans every photo once with no score
threshold; a detection is the true face when its centre lies in the true face square and its size is
0.4..1.6 of it, else it is a false box. Then, per score threshold: the share of scene/portrait photos
whose face is found, false boxes per 100 photos, and the faces found / false boxes on the hard cases
(big scaled portraits, the 6x5 tiling, scikit-image photos without faces). Scan time is summed
(under load on a shared machine: compare rows of one run only).

``--recall`` (``make bench-detection``) instead prints the table of docs/detection.md: recall by face size and frame
size, false boxes per 100 photos with and without faces, ms per frame, for today's defaults beside the
previous one-pass detector, on real faces pasted onto face-free backgrounds (:mod:`fer.bench.detection`; ~6 min on
2 loaded cores).

Usage: python -m scripts.measure_detection [--n 400] [--fer2013 PATH] [--faces DIR] [--recall [--json]]
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from fer.bench.latency import ISSUE12_DETECTOR, recall_figures
from fer.detection.detector import detect
from fer.detection.settings import DetectorSettings
from scripts.photo_set import Photo, add_data_args, build, false_box_cases

REPO = Path(__file__).resolve().parents[1]
_DEFAULT, _ALT2 = "haarcascade_frontalface_default.xml", "haarcascade_frontalface_alt2.xml"
#: The grid, each a variant of the previous one-pass scan (no second look, pyramid step 1.1) unless it says so.
_ISSUE12 = ISSUE12_DETECTOR
_DEF24 = replace(ISSUE12_DETECTOR, cascade_file="haarcascade_frontalface_default.xml", scan_windows=1.0)
CANDIDATES = {
    "chosen defaults": DetectorSettings(),
    "default mn5 min40 sf1.10": replace(_DEF24, min_neighbors=5, min_size=40),
    "default mn5 min48 sf1.10": replace(_DEF24, min_neighbors=5, min_size=48),
    "alt2 mn5 min40 sf1.10": replace(_ISSUE12, min_neighbors=5, min_size=40),
    "alt2 mn4 min40 sf1.10": replace(_ISSUE12, min_neighbors=4, min_size=40),
    "alt2 mn3 min40 sf1.10": replace(_ISSUE12, min_neighbors=3, min_size=40),
    "alt2 mn4 min48 sf1.10": replace(_ISSUE12, min_neighbors=4, min_size=48),
    "alt2 mn4 min48 sf1.15": replace(_ISSUE12, min_neighbors=4, min_size=48, scale_factor=1.15),
    "alt2 mn3 min48 sf1.15": replace(_ISSUE12, min_neighbors=3, min_size=48, scale_factor=1.15),
    "alt mn4 min40 sf1.10": replace(_ISSUE12, cascade_file="haarcascade_frontalface_alt.xml", min_size=40),
    "issue 12 (alt2 mn4 min56 score 54.8)": _ISSUE12,
}


def main() -> None:
    args = _parse_args()
    cv2.setNumThreads(1)
    if args.recall:
        figures = recall_figures(args.faces, args.fer2013)
        print(json.dumps(figures, indent=2) if args.json else figures["detection_table"])
        return
    portrait = cv2.cvtColor(cv2.imread(str(args.faces / "astronaut.png")), cv2.COLOR_BGR2RGB)
    photos = build(args.fer2013, "PublicTest", args.n, seed=12, portrait=portrait)
    if args.fallback:
        fallback_study(photos, DetectorSettings())
        return
    cases = false_box_cases(portrait)
    grid = {name: CANDIDATES[name] for name in args.only} if args.only else CANDIDATES
    for name, base in grid.items():
        for fraction in args.fractions:
            settings = replace(base, min_score=-1e9, min_face_fraction=fraction)
            _report(f"{name} frac {fraction}", settings, photos, cases)


def _report(name: str, settings: DetectorSettings, photos: list[Photo], cases: dict) -> None:
    """One settings row per score threshold."""
    start = time.perf_counter()
    scored = [_score(photo, settings) for photo in photos]
    seconds = time.perf_counter() - start
    case_scores = {case: ([d.score for d in detect(img, settings)], want) for case, (img, want) in cases.items()}
    scene = [s for s, p in zip(scored, photos) if p.kind in ("scene", "portrait")]
    all_scores = sorted({round(v, 1) for hits, falses in scored for v in hits + falses})
    thresholds = sorted({-1e9, *np.percentile(all_scores, [5, 10, 20, 30]).round(1)}) if all_scores else [-1e9]
    print(f"\n== {name}: scan {seconds:.1f} s for {len(photos)} photos (under load)")
    hit_scores = [v for hits, _ in scored for v in hits]
    false_scores = [v for _, falses in scored for v in falses]
    for label, values in (("true faces", hit_scores), ("false boxes", false_scores)):
        if values:
            q = np.percentile(values, [5, 25, 50, 75, 95])
            print(f"score of {label:<11} (n {len(values)}): 5/25/50/75/95 % " + " / ".join(f"{v:.2f}" for v in q))
    print("min_score  scene-found  false/100photos  " + "  ".join(_short(c) for c in cases))
    for t in thresholds:
        found = np.mean([any(v >= t for v in hits) for hits, _ in scene])
        false = 100 * np.mean([sum(v >= t for v in falses) for _, falses in scored])
        cells = "  ".join(
            f"{sum(v >= t for v in s):>{len(_short(c)) - 3}d}/{w:<2d}" for c, (s, w) in case_scores.items()
        )
        print(f"{t:>9.1f}  {100 * found:10.1f}%  {false:15.1f}  {cells}")


def _score(photo: Photo, settings: DetectorSettings) -> tuple[list[float], list[float]]:
    """Scores of the detections that are the true face, and of the false boxes."""
    hits, falses = [], []
    tx, ty, ts, _ = photo.face
    for d in detect(photo.image, settings):
        x, y, w, _ = d.box
        raw = w / (1 + 2 * settings.margin)
        cx, cy = x + w / 2, y + w / 2
        if tx <= cx <= tx + ts and ty <= cy <= ty + ts and 0.4 * ts <= raw <= 1.6 * ts:
            hits.append(d.score)
        else:
            falses.append(d.score)
    return hits, falses


def _short(case: str) -> str:
    return case.replace("portrait ", "p").replace("skimage ", "")[:14]


NO_FACE_SAMPLES = (
    "chelsea",
    "coffee",
    "rocket",
    "coins",
    "horse",
    "clock",
    "moon",
    "hubble_deep_field",
    "immunohistochemistry",
    "brick",
    "grass",
    "gravel",
    "page",
    "text",
)


def fallback_study(photos: list[Photo], settings: DetectorSettings) -> None:
    """For photos where neither the detector nor the padded retry finds a face: would reading the whole
    image help (top-1 of the whole-image guess per kind), and which shape rules / weak-cascade cue keep
    photos without faces (scikit-image samples) from being read as a face."""
    import skimage.data

    from fer.classifier import DEFAULT_MODEL, MODELS_DIR, Classifier
    from fer.detection.detector import crop_face, detect_padded, whole_image_box

    classifier = Classifier.load(MODELS_DIR / DEFAULT_MODEL)
    weak = replace(settings, min_neighbors=1)
    rows = []  # (kind, shape, whole-image correct, weak cue)
    for photo in photos:
        if detect(photo.image, settings) or detect_padded(photo.image, settings):
            continue
        crop = crop_face(photo.image, whole_image_box(photo.image.shape))
        correct = int(classifier.predict_proba(crop[None]).argmax()) == photo.label
        rows.append((photo.kind, photo.image.shape[:2], correct, _weak_cue(photo.image, weak)))
    for name in NO_FACE_SAMPLES:
        img = getattr(skimage.data, name)()
        img = img.astype(np.uint8) * 255 if img.dtype == bool else img
        if not (detect(img, settings) or detect_padded(img, settings)):
            rows.append((f"nf:{name}", img.shape[:2], False, _weak_cue(img, weak)))
    rules = {
        "small<=128": lambda s: max(s) <= 128,
        "aspect<=1.25,long<=1024": lambda s: max(s) <= 128 or (max(s) <= 1024 and max(s) / min(s) <= 1.25),
        "aspect<=1.5,long<=1024": lambda s: max(s) <= 128 or (max(s) <= 1024 and max(s) / min(s) <= 1.5),
    }
    print("\nno face from detector or padded retry: whole-image reading per kind and rule (+cue: weak cascade hit)")
    for rule, test in rules.items():
        for cue in (False, True):
            cells = []
            for kind in ("scene", "tight", "tiny", "portrait", "nf"):
                group = [r for r in rows if r[0].split(":")[0] == kind]
                fired = [r for r in group if test(r[1]) and (not cue or r[3] or max(r[1]) <= 128)]
                right = sum(r[2] for r in fired)
                cells.append(f"{kind} {len(fired)}/{len(group)} right {right}")
            nf = [r[0][3:] for r in rows if r[0].startswith("nf:") and test(r[1]) and (not cue or r[3])]
            print(f"{rule:<26} cue {int(cue)}: " + " | ".join(cells) + f"  no-face photos read: {nf}")


def _weak_cue(image: np.ndarray, weak: DetectorSettings) -> bool:
    """A face-sized candidate (>= 30 % of the short side) from a 1-neighbour scan of the padded copy."""
    from fer.detection.detector import detect_padded

    short = min(image.shape[:2])
    return any(d.box[2] >= 0.3 * short for d in detect_padded(image, replace(weak, min_score=-1e9)))


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_data_args(parser)
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--only", nargs="*", choices=list(CANDIDATES))
    parser.add_argument("--fractions", nargs="*", type=float, default=[0.03])
    parser.add_argument("--fallback", action="store_true", help="only the whole-image fallback study")
    parser.add_argument("--recall", action="store_true", help="only the recall-by-face-size table (issue 20)")
    parser.add_argument("--json", action="store_true", help="with --recall: the figures as JSON")
    return parser.parse_args()


if __name__ == "__main__":
    main()
