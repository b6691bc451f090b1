"""What real inputs do to a face, as pure functions on 48x48 uint8 faces: the robustness curves' inputs.

Each function takes a batch ``uint8 [N, 48, 48]`` and a level and returns a new batch of the same
shape; level "none" (the first of each kind in :data:`KINDS`) returns the faces unchanged. Nothing is
random: occlusion bands sit where FER2013's roughly aligned faces have their eyes and mouth, so the
same faces and level always give the same pixels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

SIDE = 48
# Rows of the occluding bands, in a 48-pixel FER2013 face (eyes about a third down, mouth at 3/4).
EYES_ROWS = (13, 24)
MOUTH_ROWS = (32, 43)
OCCLUSION_GREY = 0  # sunglasses / a hand in shadow: black


def _each(faces: np.ndarray, fn: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """``fn`` on each face of a batch, into a new uint8 batch."""
    out = np.empty_like(faces)
    for i, face in enumerate(faces):
        out[i] = fn(face)
    return out


def downscale(faces: np.ndarray, px: int) -> np.ndarray:
    """Shrink to ``px`` x ``px`` (area average, as a camera far away) and enlarge back (bilinear)."""
    if px >= SIDE:
        return faces.copy()
    return _each(
        faces,
        lambda f: cv2.resize(
            cv2.resize(f, (px, px), interpolation=cv2.INTER_AREA), (SIDE, SIDE), interpolation=cv2.INTER_LINEAR
        ),  # fmt: skip
    )


def blur(faces: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of standard deviation ``sigma`` pixels (out of focus, motion-free)."""
    if sigma <= 0:
        return faces.copy()
    return _each(faces, lambda f: cv2.GaussianBlur(f, (0, 0), sigmaX=sigma, borderType=cv2.BORDER_REFLECT))


def jpeg(faces: np.ndarray, quality: int | None) -> np.ndarray:
    """Encoded as JPEG at ``quality`` (1-100) and decoded again; ``None`` leaves the faces as they are."""
    if quality is None:
        return faces.copy()

    def once(f: np.ndarray) -> np.ndarray:
        ok, buf = cv2.imencode(".jpg", f, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
        if not ok:
            raise ValueError(f"JPEG encoding failed at quality {quality}")
        return cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)

    return _each(faces, once)


def rotate(faces: np.ndarray, degrees: float) -> np.ndarray:
    """Rotated about the centre (a tilted head), corners filled by reflection as a crop would have them."""
    if degrees == 0:
        return faces.copy()
    m = cv2.getRotationMatrix2D(((SIDE - 1) / 2, (SIDE - 1) / 2), degrees, 1.0)
    return _each(
        faces, lambda f: cv2.warpAffine(f, m, (SIDE, SIDE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    )


def occlude(faces: np.ndarray, part: str) -> np.ndarray:
    """A black band over the ``eyes`` (sunglasses), the ``mouth`` (a hand), ``both``, or ``none``."""
    bands = {"none": [], "eyes": [EYES_ROWS], "mouth": [MOUTH_ROWS], "both": [EYES_ROWS, MOUTH_ROWS]}
    if part not in bands:
        raise ValueError(f"unknown occlusion {part!r}: one of {', '.join(bands)}")
    out = faces.copy()
    for top, bottom in bands[part]:
        out[:, top:bottom, :] = OCCLUSION_GREY
    return out


def brightness(faces: np.ndarray, offset: int) -> np.ndarray:
    """Every pixel plus ``offset`` grey levels, clipped to 0-255 (over- or under-exposure)."""
    return np.clip(faces.astype(np.int16) + int(offset), 0, 255).astype(np.uint8)


def contrast(faces: np.ndarray, factor: float) -> np.ndarray:
    """Pixel deviations from each face's mean grey scaled by ``factor`` (< 1: flat, hazy lighting)."""
    x = faces.astype(np.float32)
    mean = x.mean(axis=(1, 2), keepdims=True)
    return np.clip(np.rint(mean + (x - mean) * factor), 0, 255).astype(np.uint8)


_CLAHE = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(6, 6))


def form(faces: np.ndarray, how: str) -> np.ndarray:
    """The pixel form: ``as loaded``, ``equalised`` (``cv2.equalizeHist``, as the FER2013 JPEG copy is),
    ``CLAHE`` (local equalisation, as some pipelines apply) or ``flat`` (contrast halved, closer to the
    low-contrast original CSV pixels than the equalised JPEGs)."""
    if how == "as loaded":
        return faces.copy()
    if how == "equalised":
        return _each(faces, cv2.equalizeHist)
    if how == "CLAHE":
        return _each(faces, _CLAHE.apply)
    if how == "flat":
        return contrast(faces, 0.5)
    raise ValueError(f"unknown form {how!r}: as loaded, equalised, CLAHE or flat")


@dataclass(frozen=True)
class Kind:
    """One kind of degradation and its levels, the first being "none"."""

    name: str
    title: str  # the chart's title
    unit: str  # the x axis
    levels: tuple
    apply: Callable[[np.ndarray, object], np.ndarray]

    def label(self, level: object) -> str:
        """A level as shown on the chart's axis."""
        if level == self.levels[0]:
            return "none"
        return f"{level:+d}" if self.name == "brightness" else str(level)


KINDS: tuple[Kind, ...] = (
    Kind("downscale", "Low resolution (down to N px and back)", "face side, px", (48, 32, 24, 16, 12), downscale),
    Kind("blur", "Gaussian blur", "sigma, px", (0, 1, 1.5, 2, 3), blur),
    Kind("jpeg", "JPEG compression", "quality", (None, 50, 25, 10, 5), jpeg),
    Kind("rotation", "Rotation (tilted head)", "degrees", (0, 10, 20, 30, 45), rotate),
    Kind("occlusion", "Occlusion band", "covered", ("none", "eyes", "mouth", "both"), occlude),
    Kind("brightness", "Brightness", "grey levels added", (0, 40, 80, -40, -80), brightness),
    Kind("contrast", "Contrast", "factor", (1.0, 0.6, 0.35, 0.2), contrast),
    Kind("form", "Pixel form (equalised vs original-like)", "form", ("as loaded", "equalised", "CLAHE", "flat"), form),
)
KIND_NAMES = tuple(k.name for k in KINDS)


def kind(name: str) -> Kind:
    """The kind called ``name``."""
    for k in KINDS:
        if k.name == name:
            return k
    raise ValueError(f"unknown degradation {name!r}: one of {', '.join(KIND_NAMES)}")
