"""Photo results and their exports: one module behind ``python -m fer predict`` and the Upload page.

A file's bytes go in (decoded in memory only), an :class:`ImageResult` comes out; its ``to_dict()`` is
one entry of ``predict --json``, and :func:`results_json` / :func:`results_csv` export many. Boxes are
reported in the ORIGINAL photo's pixels, also when a large photo was downscaled for analysis.
Number formatting for the pages stays in ``ui/``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from fer.classifier import Classifier
from fer.faces import FaceResult
from fer.imageio import ImageDecodeError, decode_image
from fer.labels import CLASS_NAMES
from fer.options import Options
from fer.overlay import annotate
from fer.pipeline import analyze

#: Longer side of the annotated image kept for display; the download re-annotates at full size.
DISPLAY_SIDE = 1280
#: ``ImageResult.status`` values, also the CSV's ``status`` column.
STATUS_OK, STATUS_NO_FACE, STATUS_ERROR = "ok", "no face", "error"
# EXIF orientations that swap width and height (transpose, rotate 90/270, transverse).
_SWAPPING_ORIENTATIONS = {5, 6, 7, 8}


@dataclass(frozen=True)
class ImageResult:
    """One photo: the faces found, or why the file could not be read.

    ``faces`` carry boxes in the analysed image's pixels (``shape``), for drawing on it; exports scale
    them to the stored photo's pixels (``original_shape``).
    """

    name: str
    faces: list[FaceResult] = field(default_factory=list)
    display: np.ndarray | None = None  # annotated RGB, longer side <= DISPLAY_SIDE
    shape: tuple[int, int] = (0, 0)  # (height, width) of the analysed image
    original_shape: tuple[int, int] | None = None  # (height, width) of the photo as stored, upright
    whole_face: bool = False  # the user asked to read the whole image as one face
    error: str | None = None

    @property
    def status(self) -> str:
        """ "ok", "no face" or "error": what the results table says about this file."""
        if self.error is not None:
            return STATUS_ERROR
        return STATUS_OK if self.faces else STATUS_NO_FACE

    @property
    def read_whole(self) -> bool:
        """True when the whole image was read as one face (asked for, or the tight-crop fallback)."""
        return any(f.source == "whole-image" for f in self.faces)

    @property
    def box_scale(self) -> float:
        """Factor from analysed-image pixels to the stored photo's pixels (1 unless downscaled)."""
        if self.original_shape is None or not self.shape[0] or not self.shape[1]:
            return 1.0
        return max(self.original_shape) / max(self.shape)

    def face_dicts(self) -> list[dict]:
        """The faces as ``predict --json`` writes them, boxes in the stored photo's pixels."""
        scale = self.box_scale
        out = []
        for face in self.faces:
            entry = face.to_dict()
            entry["box"] = [int(round(v * scale)) for v in face.box]
            out.append(entry)
        return out

    def to_dict(self) -> dict:
        """One entry of ``python -m fer predict --json``: path, faces, status, and "error" when unreadable."""
        entry: dict = {"path": self.name, "faces": self.face_dicts(), "status": self.status}
        if self.original_shape is not None:
            entry["size"] = [int(self.original_shape[1]), int(self.original_shape[0])]
        if self.error is not None:
            entry["error"] = self.error
        return entry


def digest(data: bytes) -> str:
    """Content hash of an upload: the cache key, so a renamed copy is not analysed twice."""
    return hashlib.sha256(data).hexdigest()


def analyze_bytes(
    data: bytes,
    name: str,
    classifier: Classifier,
    options: Options | None = None,
    whole_face: bool = False,
) -> ImageResult:
    """Decode (in memory only) and analyse one file; a decode failure becomes ``error``.

    ``options``: detector settings, TTA and fallback (default: :class:`fer.options.Options`'s).
    ``whole_face`` reads the whole (centre-square) image as one face without detection; otherwise
    detection runs with the tight-crop fallback, whose faces say so in their ``source``. Faces come in
    numbering order (:func:`fer.faces.ordered`), on the image and in every export.
    """
    options = options or Options()
    try:
        image = decode_image(data, name)
    except ImageDecodeError as exc:
        return ImageResult(name=name, error=str(exc))
    faces = analyze(
        image,
        classifier,
        options.detector,
        whole_face=bool(whole_face),
        fallback=options.fallback,
        tta=options.resolve_tta(classifier),
    )
    return ImageResult(
        name=name,
        faces=faces,
        display=fit_within(annotate(image, faces), DISPLAY_SIDE),
        shape=image.shape[:2],
        original_shape=stored_shape(data, image.shape[:2]),
        whole_face=bool(whole_face),
    )


def analyze_file(
    path: Path,
    classifier: Classifier,
    options: Options | None = None,
    whole_face: bool = False,
) -> ImageResult:
    """:func:`analyze_bytes` of a file on disk; an unreadable file becomes ``error`` too."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return ImageResult(name=str(path), error=f"{path}: cannot be read ({exc.strerror or exc})")
    return replace(analyze_bytes(data, path.name, classifier, options, whole_face=whole_face), name=str(path))


def stored_shape(data: bytes, decoded: tuple[int, int]) -> tuple[int, int]:
    """(height, width) of the photo as stored and shown upright, read from its header.

    The decoder downscales large photos; this is the size users' coordinates refer to. Falls back
    to the decoded size when the header cannot be read again.
    """
    try:
        with Image.open(io.BytesIO(data)) as im:
            width, height = im.size
            orientation = int(im.getexif().get(0x0112, 1))
    except Exception:  # the bytes decoded once already; any header oddity just means "same size"
        return decoded
    if orientation in _SWAPPING_ORIENTATIONS:
        width, height = height, width
    return (height, width)


#: Longer side of the annotated PNG download: the photo's own size up to this (a 6000x4000 photo's PNG is
#: 6000x4000, so its boxes are the exports' boxes); larger photos get a PNG scaled to it (the page says so).
PNG_MAX_SIDE = 8192


def png_side(result: ImageResult) -> int:
    """Longer side of :func:`annotated_png` for this result (the stored photo's, capped at PNG_MAX_SIDE)."""
    return min(max(result.original_shape or result.shape), PNG_MAX_SIDE)


def annotated_png(data: bytes, name: str, faces: list[FaceResult], analysed_shape: tuple[int, int]) -> bytes:
    """The annotated photo as PNG at its own size (up to PNG_MAX_SIDE), re-decoded on demand, never on disk.

    ``faces`` have boxes in the analysed image's pixels (``analysed_shape``, downscaled for large photos);
    they are scaled to the PNG's pixels, so the PNG and the exports' boxes agree.
    """
    image = decode_image(data, name, max_side=PNG_MAX_SIDE)
    scale = max(image.shape[:2]) / max(1, max(analysed_shape))
    if abs(scale - 1.0) > 1e-9:
        faces = [replace(f, box=tuple(int(round(v * scale)) for v in f.box)) for f in faces]
    return png_bytes(annotate(image, faces))


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


def results_json(results: Iterable[ImageResult]) -> str:
    """The JSON document of ``python -m fer predict --json`` for these photos."""
    return json.dumps([r.to_dict() for r in results], indent=2) + "\n"


#: Columns of the results CSV; new columns are only ever appended, so old readers keep working.
CSV_COLUMNS = [
    "path",
    "face",
    "x",
    "y",
    "w",
    "h",
    "label",
    "confidence",
    *CLASS_NAMES,
    "error",
    "status",
    "source",
    "detection_score",
]


def csv_rows(result: ImageResult) -> list[dict]:
    """The CSV rows of one file: one per face, or one (with its status and error) when it has none."""
    base = {"path": result.name, "status": result.status}
    if result.error is not None or not result.faces:
        return [{**base, "error": result.error or ""}]
    rows = []
    for i, face in enumerate(result.face_dicts(), 1):
        x, y, w, h = face["box"]
        rows.append(
            {
                **base,
                "face": i,
                "x": x,
                "y": y,
                "w": w,
                "h": h,
                "label": face["label"],
                "confidence": face["confidence"],
                **face["probs"],
                "source": face["source"],
                "detection_score": "" if face["detection_score"] is None else face["detection_score"],
            }
        )
    return rows


def results_csv(results: Iterable[ImageResult]) -> str:
    """One row per face, and one row (with its status) per file without a face or unreadable.

    So the CSV has a row for every file; boxes are in the stored photo's pixels.
    """
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for result in results:
        writer.writerows(csv_rows(result))
    return out.getvalue()
