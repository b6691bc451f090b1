"""UI-free helpers behind the pages: analyse uploaded bytes, export results, format numbers.

Kept out of the page scripts so they can be unit-tested without Streamlit and so the upload page's
JSON export is built from the very same ``FaceResult.to_dict()`` as ``python -m fer predict --json``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field

import cv2
import numpy as np

from fer.classifier import Classifier
from fer.detection import DetectorSettings
from fer.imageio import ImageDecodeError, decode_image
from fer.labels import CLASS_NAMES
from fer.overlay import left_to_right
from fer.pipeline import FaceResult, analyze, annotate

#: Longer side of the annotated image kept for display; the download re-annotates at full size.
DISPLAY_SIDE = 1280
#: Images whose both sides are at most this are taken as pre-cropped faces (e.g. 48x48 FER2013 crops).
SMALL_IMAGE_SIDE = 96


@dataclass(frozen=True)
class ImageResult:
    """What the upload page shows for one file: the faces found, or why the file could not be read."""

    name: str
    faces: list[FaceResult] = field(default_factory=list)
    display: np.ndarray | None = None  # annotated RGB, longer side <= DISPLAY_SIDE
    shape: tuple[int, int] = (0, 0)  # (height, width) of the analysed image
    whole_face: bool = False
    error: str | None = None

    def to_dict(self) -> dict:
        """One entry of ``python -m fer predict --json``: path, faces, and "error" when unreadable."""
        entry: dict = {"path": self.name, "faces": [f.to_dict() for f in self.faces]}
        if self.error is not None:
            entry["error"] = self.error
        return entry


def digest(data: bytes) -> str:
    """Content hash of an upload: the cache key, so a renamed copy is not analysed twice."""
    return hashlib.sha256(data).hexdigest()


def is_small(shape: tuple[int, ...]) -> bool:
    """True for images that are most likely one pre-cropped face (both sides <= SMALL_IMAGE_SIDE)."""
    return 0 < shape[0] <= SMALL_IMAGE_SIDE and 0 < shape[1] <= SMALL_IMAGE_SIDE


def analyse_bytes(
    data: bytes,
    name: str,
    classifier: Classifier,
    settings: DetectorSettings,
    whole_face: bool | None = None,
    tta: bool | None = None,
) -> ImageResult:
    """Decode (in memory only) and analyse one uploaded file; a decode failure becomes ``error``.

    ``whole_face=None`` decides by size: small images are treated as one face without detection.
    """
    try:
        image = decode_image(data, name)
    except ImageDecodeError as exc:
        return ImageResult(name=name, error=str(exc))
    whole = is_small(image.shape) if whole_face is None else whole_face
    faces = left_to_right(analyze(image, classifier, settings, whole_face=whole, tta=tta))  # as numbered on the image
    return ImageResult(
        name=name,
        faces=faces,
        display=fit_within(annotate(image, faces), DISPLAY_SIDE),
        shape=image.shape[:2],
        whole_face=whole,
    )


def annotated_png(data: bytes, name: str, faces: list[FaceResult]) -> bytes:
    """Full-resolution annotated PNG, re-decoded from the upload on demand (nothing kept on disk)."""
    return png_bytes(annotate(decode_image(data, name), faces))


def png_bytes(rgb: np.ndarray) -> bytes:
    """PNG encoding of an RGB uint8 image."""
    ok, buf = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError("PNG encoding failed")
    return buf.tobytes()


def fit_within(rgb: np.ndarray, max_side: int) -> np.ndarray:
    """Area-downscale so the longer side is at most ``max_side`` (smaller images are returned as is)."""
    h, w = rgb.shape[:2]
    if max(h, w) <= max_side:
        return rgb
    scale = max_side / max(h, w)
    return cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)


def enlarge(face: np.ndarray, size: int = 144) -> np.ndarray:
    """A 48x48 face scaled up with nearest-neighbour, so the pixels the model saw stay visible."""
    return cv2.resize(face, (size, size), interpolation=cv2.INTER_NEAREST)


def results_json(results: Iterable[ImageResult]) -> str:
    """The JSON document of ``python -m fer predict --json`` for these uploads."""
    return json.dumps([r.to_dict() for r in results], indent=2) + "\n"


CSV_COLUMNS = ["path", "face", "x", "y", "w", "h", "label", "confidence", *CLASS_NAMES, "error"]


def results_csv(results: Iterable[ImageResult]) -> str:
    """One CSV row per face (one row with the error for an unreadable file, none for a faceless image)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for result in results:
        entry = result.to_dict()
        if "error" in entry:
            writer.writerow({"path": entry["path"], "error": entry["error"]})
        for i, face in enumerate(entry["faces"], 1):
            x, y, w, h = face["box"]
            writer.writerow(
                {
                    "path": entry["path"],
                    "face": i,
                    "x": x,
                    "y": y,
                    "w": w,
                    "h": h,
                    "label": face["label"],
                    "confidence": face["confidence"],
                    **face["probs"],
                }
            )
    return out.getvalue()


def faces_table(faces: list[FaceResult]) -> list[dict]:
    """Rows for a compact table of many faces: number, box, label, confidence, top-3."""
    return [
        {
            "face": i,
            "box (x, y, w, h)": ", ".join(str(int(v)) for v in f.box),
            "emotion": f.label,
            "confidence": f.confidence,
            "top-3": ", ".join(f"{n} {p:.0%}" for n, p in f.top(3)),
        }
        for i, f in enumerate(faces, 1)
    ]


# ----------------------------------------------------------------------------- formatting
def pct(value: float, digits: int = 2) -> str:
    """Accuracy as the CLI prints it (``python -m fer evaluate``: two decimals), e.g. ``66.35%``."""
    return f"{value:.{digits}%}"


def duration(seconds: float) -> str:
    """Seconds as '1 h 05 min', '5 min 54 s' or '42 s'."""
    s = int(round(seconds))
    if s >= 3600:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    if s >= 60:
        return f"{s // 60} min {s % 60} s"
    return f"{s} s"


def millions(value: float) -> str:
    """Large counts in millions, e.g. 1767207 -> '1.77 M'."""
    return f"{value / 1e6:.2f} M"


# ----------------------------------------------------------------------------- model card
def stored_evaluation(card: dict | None, split: str, tta: bool) -> dict | None:
    """The report a model card stores for ``split`` in one TTA mode (None when the card has none)."""
    try:
        entry = (card or {})["evaluation"][split]["tta" if tta else "plain"]
    except (KeyError, TypeError):
        return None
    return entry if isinstance(entry, dict) and "top1" in entry else None
