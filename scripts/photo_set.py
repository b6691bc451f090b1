"""Build a labelled "real-ish" photo set from FER2013 test faces, for measuring the photo pipeline.

We have no private real photos, so this imitates what real users upload (as measured on real photos):
each face is upscaled (cubic) and then either

- ``scene`` (60 %): pasted into a larger canvas (200..4000 px, several aspect ratios) over a random
  crop of a scikit-image sample photo or a smooth gradient, with its own border replicated around it
  as context and feathered into the background, or pasted as a hard-edged square;
- ``tight`` (30 %): kept alone and cropped further (forehead, chin or sides cut by up to 20 %), as a
  quarter of real photos are already cropped to the face;
- ``tiny`` (10 %): the 48x48 face itself (CK+/FER style crops).

The astronaut portrait (``../shared/faces/astronaut.png``, happy) is added in a few scaled, shifted and
rotated variants. Choices are made on a PublicTest-derived set only; a PrivateTest-derived set is for
the held-out figures.

Usage: python -m scripts.photo_set OUT_DIR [--split PublicTest] [--n 700] [--seed 12]
writes OUT_DIR/<emotion>/<split>_<i>_<kind>.{jpg,png} and OUT_DIR/manifest.csv (true face boxes).
"""

from __future__ import annotations

import argparse
import csv
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from fer.bench.detection import gradient, random_crop
from fer.data import load_split
from fer.labels import CLASS_NAMES
from fer.locations import faces_dir, shared_dir

REPO = Path(__file__).resolve().parents[1]
#: scikit-image's bundled photos without a human face (the cat is a cat): backgrounds for the scenes.
BACKGROUNDS = ("coffee", "chelsea", "rocket", "coins", "hubble_deep_field", "immunohistochemistry", "horse", "clock")
ASPECTS = ((4, 3), (3, 4), (16, 9), (1, 1), (3, 2))


@dataclass(frozen=True)
class Photo:
    """One built photo: RGB pixels, true emotion, how it was built and where the face is."""

    image: np.ndarray
    label: int
    kind: str
    face: tuple[int, int, int, int]  # x, y, w, h of the pasted face square (may extend past a tight crop)


def build(fer2013: Path, split: str, n: int, seed: int, portrait: np.ndarray | None = None) -> list[Photo]:
    """``n`` photos from a stratified random sample of ``split`` (plus the portrait's variants)."""
    data = load_split(fer2013, split)
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(len(data), size=min(n, len(data)), replace=False))
    backgrounds = _backgrounds()
    photos = []
    for i in chosen:
        kind = rng.choice(["scene", "tight", "tiny"], p=[0.6, 0.3, 0.1])
        face = data.images[i]
        if kind == "tiny":
            photos.append(Photo(np.dstack([face] * 3), int(data.labels[i]), "tiny", (0, 0, 48, 48)))
        elif kind == "tight":
            photos.append(_tight(face, int(data.labels[i]), rng))
        else:
            photos.append(_scene(face, int(data.labels[i]), rng, backgrounds))
    if portrait is not None:
        photos.extend(_portrait_variants(portrait, rng))
    return photos


def write(photos: list[Photo], out: Path, split: str) -> None:
    """One folder per emotion (FER2013 names) and a manifest of the true face boxes."""
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "manifest.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "label", "kind", "x", "y", "w", "h"])
        for i, photo in enumerate(photos):
            folder = out / CLASS_NAMES[photo.label]
            folder.mkdir(exist_ok=True)
            suffix = "png" if photo.kind == "tiny" else "jpg"
            path = folder / f"{split}_{i:05d}_{photo.kind}.{suffix}"
            params = [cv2.IMWRITE_JPEG_QUALITY, 90] if suffix == "jpg" else []
            cv2.imwrite(str(path), cv2.cvtColor(photo.image, cv2.COLOR_RGB2BGR), params)
            writer.writerow([path.relative_to(out).as_posix(), CLASS_NAMES[photo.label], photo.kind, *photo.face])


def read_manifest(root: Path) -> Iterator[dict]:
    """Rows of a written set's manifest (path relative to ``root``, label, kind, true face box)."""
    with open(root / "manifest.csv", newline="") as fh:
        yield from csv.DictReader(fh)


def _upscale(face: np.ndarray, side: int) -> np.ndarray:
    return cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC if side > 48 else cv2.INTER_AREA)


def _tight(face: np.ndarray, label: int, rng: np.random.Generator) -> Photo:
    """The face alone, a little more cropped (forehead, chin or sides cut), 64..600 px."""
    side = int(np.exp(rng.uniform(np.log(64), np.log(600))))
    big = _upscale(face, side)
    top, bottom, left, right = (int(side * rng.uniform(0, 0.2)) if rng.random() < 0.5 else 0 for _ in range(4))
    crop = big[top : side - bottom, left : side - right]
    return Photo(np.dstack([crop] * 3), label, "tight", (-left, -top, side, side))


def _scene(face: np.ndarray, label: int, rng: np.random.Generator, backgrounds: list[np.ndarray]) -> Photo:
    """The face pasted into a larger photo-like canvas."""
    aw, ah = ASPECTS[rng.integers(len(ASPECTS))]
    long_side = int(np.exp(rng.uniform(np.log(240), np.log(4000))))
    width, height = (long_side, long_side * ah // aw) if aw >= ah else (long_side * aw // ah, long_side)
    short = min(width, height)
    side = int(np.clip(np.exp(rng.uniform(np.log(48), np.log(0.8 * short))), 40, 0.8 * short))
    canvas = _background(width, height, rng, backgrounds)
    x = int(rng.integers(0, width - side + 1))
    y = int(rng.integers(0, height - side + 1))
    patch = np.dstack([_upscale(face, side)] * 3).astype(np.float32)
    if rng.random() < 0.5:  # context: the face's own border replicated around it, feathered in
        ring = side // 4
        padded = cv2.copyMakeBorder(patch, ring, ring, ring, ring, cv2.BORDER_REPLICATE)
        alpha = np.zeros(padded.shape[:2], np.float32)
        alpha[ring // 2 : -(ring // 2) or None, ring // 2 : -(ring // 2) or None] = 1.0
        alpha = cv2.GaussianBlur(alpha, (0, 0), max(1.0, ring / 3))
        alpha[ring:-ring, ring:-ring] = 1.0
        patch, x0, y0 = padded, x - ring, y - ring
    else:
        alpha = np.ones(patch.shape[:2], np.float32)
        x0, y0 = x, y
    _blend(canvas, patch, alpha, x0, y0)
    return Photo(canvas, label, "scene", (x, y, side, side))


def _blend(canvas: np.ndarray, patch: np.ndarray, alpha: np.ndarray, x0: int, y0: int) -> None:
    """Alpha-blend ``patch`` at (x0, y0), clipped to the canvas (in place)."""
    height, width = canvas.shape[:2]
    cx0, cy0 = max(0, x0), max(0, y0)
    cx1, cy1 = min(width, x0 + patch.shape[1]), min(height, y0 + patch.shape[0])
    p = patch[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
    a = alpha[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0, None]
    region = canvas[cy0:cy1, cx0:cx1].astype(np.float32)
    canvas[cy0:cy1, cx0:cx1] = np.clip(a * p + (1 - a) * region, 0, 255).astype(np.uint8)


def _background(width: int, height: int, rng: np.random.Generator, backgrounds: list[np.ndarray]) -> np.ndarray:
    """A random crop of a sample photo resized to the canvas, or a smooth colour gradient."""
    if backgrounds and rng.random() < 0.7:
        return random_crop(backgrounds[rng.integers(len(backgrounds))], width, height, rng)
    return gradient(width, height, rng)


def _backgrounds() -> list[np.ndarray]:
    try:
        import skimage.data
    except ImportError:  # dev dependency; gradients only without it
        return []
    out = []
    for name in BACKGROUNDS:
        img = getattr(skimage.data, name)()
        img = img.astype(np.uint8) * 255 if img.dtype == bool else img  # the horse is a binary silhouette
        out.append(np.dstack([img] * 3) if img.ndim == 2 else np.ascontiguousarray(img[..., :3]))
    return out


def _portrait_variants(portrait: np.ndarray, rng: np.random.Generator) -> list[Photo]:
    """The smiling astronaut scaled, shifted and rotated on larger canvases (all happy)."""
    happy = CLASS_NAMES.index("happy")
    out = []
    for side, canvas_side, angle in ((256, 400, 0), (512, 1200, 10), (1024, 1600, -10), (2048, 3000, 0), (900, 900, 5)):
        img = cv2.resize(portrait, (side, side), interpolation=cv2.INTER_AREA if side < 512 else cv2.INTER_CUBIC)
        if angle:
            m = cv2.getRotationMatrix2D((side / 2, side / 2), angle, 1.0)
            img = cv2.warpAffine(img, m, (side, side), borderMode=cv2.BORDER_REFLECT)
        canvas = np.full((canvas_side, canvas_side, 3), 90, np.uint8)
        x, y = (int(v) for v in rng.integers(0, canvas_side - side + 1, 2))
        canvas[y : y + side, x : x + side] = img
        face = (
            x + round(175 * side / 512),
            y + round(55 * side / 512),
            round(100 * side / 512),
            round(115 * side / 512),
        )
        out.append(Photo(canvas, happy, "portrait", face))
    return out


def false_box_cases(portrait: np.ndarray) -> dict[str, tuple[np.ndarray, int]]:
    """Hard detection cases (big portraits, a tiling, face-free photos): name -> (RGB image, faces expected).

    Big ones are built lazily by callers."""
    import skimage.data

    def on_canvas(width: int, height: int, side: int) -> np.ndarray:
        canvas = np.full((height, width, 3), 110, np.uint8)
        y, x = (height - side) // 2, (width - side) // 2
        canvas[y : y + side, x : x + side] = cv2.resize(portrait, (side, side), interpolation=cv2.INTER_CUBIC)
        return canvas

    def rotated(angle: float) -> np.ndarray:
        m = cv2.getRotationMatrix2D((256, 256), angle, 1.0)
        return cv2.warpAffine(portrait, m, (512, 512), borderMode=cv2.BORDER_REFLECT)

    return {
        "portrait 512": (portrait, 1),
        "portrait 3000 on 4000x3000": (on_canvas(4000, 3000, 3000), 1),
        "portrait scaled to 7000x7000": (cv2.resize(portrait, (7000, 7000), interpolation=cv2.INTER_CUBIC), 1),
        "portrait shifted in 1600x1200": (np.roll(on_canvas(1600, 1200, 512), (300, -400), (0, 1)), 1),
        "rotated +15": (rotated(15), 1),
        "rotated -15": (rotated(-15), 1),
        "6x5 tiling": (np.tile(portrait, (5, 6, 1)), 30),
        "skimage cat": (skimage.data.chelsea(), 0),
        "skimage coffee": (skimage.data.coffee(), 0),
        "skimage rocket": (skimage.data.rocket(), 0),
        "skimage coins": (np.dstack([skimage.data.coins()] * 3), 0),
    }


def add_data_args(parser: argparse.ArgumentParser, faces: bool = True) -> None:
    """``--fer2013`` (FER2013_DIR, else ../shared/fer2013) and ``--faces`` (FER_FACES_DIR, else ../shared/faces)."""
    parser.add_argument("--fer2013", type=Path, default=Path(os.environ.get("FER2013_DIR", shared_dir() / "fer2013")))
    if faces:
        parser.add_argument("--faces", type=Path, default=faces_dir())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--split", default="PublicTest", choices=["PublicTest", "PrivateTest"])
    parser.add_argument("--n", type=int, default=700)
    parser.add_argument("--seed", type=int, default=12)
    add_data_args(parser)
    args = parser.parse_args()
    bgr = cv2.imread(str(args.faces / "astronaut.png"))
    portrait = None if bgr is None else cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    photos = build(args.fer2013, args.split, args.n, args.seed, portrait)
    write(photos, args.out, args.split)
    kinds = {k: sum(p.kind == k for p in photos) for k in ("scene", "tight", "tiny", "portrait")}
    print(f"{len(photos)} photos in {args.out}: {kinds}")


if __name__ == "__main__":
    main()
