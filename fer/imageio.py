"""Safe decoding of user-supplied images into the engine's one image convention: RGB ``uint8`` (H, W, 3).

Uploads are untrusted: they may be empty, renamed text or PDF files, cut off mid-transfer, or
decompression bombs whose few hundred KB expand to gigabytes. Everything here reads from memory,
never writes to disk, checks the pixel count from the header *before* decoding, and reports every
failure as :class:`ImageDecodeError` with a message a user can act on.
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import cv2
import numpy as np
from PIL import Image, ImageFile, UnidentifiedImageError

#: Hard cap on the pixel count announced in the header; above it the image is refused before decoding.
#: Phone cameras make 108-200 MP photos (200 MP: 16320x12240); bombs claim gigapixels.
MAX_PIXELS = 250_000_000

#: Most pixels ever decoded into memory at once (50 MP: 150 MB as RGB). JPEGs above it are decoded
#: at 1/2, 1/4 or 1/8 scale by libjpeg (draft mode), so a 200 MP photo costs what a 50 MP one does;
#: formats that cannot be reduced while decoding (PNG, WebP, GIF, BMP, TIFF) are refused above it.
DECODE_BUDGET = 50_000_000

#: An image above DECODE_BUDGET whose header claims more pixels per byte of file than this is a
#: decompression bomb, not a photo: real photos are 10-40 px/byte, a flat grey baseline JPEG ~64, and
#: a Huffman-coded JPEG cannot go beyond ~512 (one bit per 8x8 block); only crafted files reach 1000.
MAX_PIXELS_PER_BYTE = 1000

#: Formats libjpeg decodes at reduced size (draft mode); MPO is the multi-picture JPEG of phones.
DRAFT_FORMATS = ("JPEG", "MPO")

#: Longer side of the image handed to analysis; larger images are downscaled (faces stay far above
#: the 48 px the model sees, and detection cost stays bounded).
MAX_SIDE = 4096

#: Formats we let Pillow try. Restricting them keeps exotic plugins (EPS runs Ghostscript and writes
#: temporary files) away from untrusted bytes. (Multi-picture phone JPEGs come through "JPEG" as MPO.)
ALLOWED_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF", "HEIF")

# Pillow's own bomb guard (a warning above MAX_IMAGE_PIXELS, an error above twice that) would refuse a
# 200 MP phone photo; _check_size applies this module's stricter, size-aware rules before any decode.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

# Pillow's own transposition for each EXIF orientation value, as used by ImageOps.exif_transpose.
_ORIENTATION_TAG = 0x0112
_TRANSPOSE: dict[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# Modes whose pixels reach numpy unchanged; every other mode is converted by Pillow first.
_ARRAY_MODES = {"L", "RGB", "RGBA", "I", "F", "I;16", "I;16L", "I;16B", "I;16N"}
_ALPHA_MODES = {"LA", "La", "PA", "RGBa", "RGBA"}
_RESIZABLE_MODES = {"L", "RGB", "RGBA", "I", "F"}
_STRICT_LOCK = threading.Lock()
_strict_depth = 0  # decodes currently inside _strict_truncation's forced-strict section
_saved_lenient = False  # the other code's LOAD_TRUNCATED_IMAGES, restored when the last one leaves


class ImageDecodeError(ValueError):
    """The one error decoding raises: the message says what is wrong and what to do about it."""


def decode_image(data: bytes, name: str = "image", *, max_side: int = MAX_SIDE) -> np.ndarray:
    """Decode uploaded bytes into an upright RGB ``uint8`` array, refusing anything unsafe or broken.

    The first frame of animations is returned; transparency is composited onto white; images whose
    longer side exceeds ``max_side`` (analysis: :data:`MAX_SIDE`) are downscaled to it. Memory stays
    bounded by :data:`DECODE_BUDGET` whatever ``max_side`` asks for.
    """
    label = _label(name)
    if not data:
        raise ImageDecodeError(f"{label} is empty (0 bytes). Upload the file again or choose another image.")
    try:
        return _decode(bytes(data), label, max_side)
    except ImageDecodeError:
        raise
    except MemoryError as exc:
        raise ImageDecodeError(f"{label} needs more memory to decode than is available; use a smaller image.") from exc
    except Exception as exc:  # untrusted input: any decoder failure becomes one actionable error
        raise ImageDecodeError(
            f"{label} could not be decoded ({type(exc).__name__}: {exc}). "
            "The file is probably corrupt; re-export it as JPEG or PNG and try again."
        ) from exc


def to_rgb_uint8(array: np.ndarray) -> np.ndarray:
    """Normalise any image-like array to contiguous RGB ``uint8`` (H, W, 3).

    Accepts gray (H, W) / (H, W, 1), RGB, RGBA (composited onto white), bool, unsigned and signed
    integers and floats. Channel order cannot be detected, so three channels are taken as RGB.
    Already-normalised input is returned as is (no copy), which keeps per-frame webcam calls cheap.
    """
    try:
        arr = np.asarray(array)
    except (TypeError, ValueError) as exc:  # ragged nested lists and the like
        raise ImageDecodeError(f"Expected an image array, got {type(array).__name__}: {exc}") from exc
    if arr.ndim not in (2, 3) or arr.size == 0:
        raise ImageDecodeError(
            f"Expected an image array of shape (H, W) or (H, W, C) with pixels, got shape {arr.shape}."
        )
    if arr.ndim == 3 and arr.shape[2] not in (1, 3, 4):
        raise ImageDecodeError(f"Expected 1, 3 or 4 colour channels, got {arr.shape[2]} (shape {arr.shape}).")
    if arr.dtype == np.uint8 and arr.ndim == 3 and arr.shape[2] == 3:
        return np.ascontiguousarray(arr)
    arr = _scale_to_uint8(arr)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.shape[2] == 1:
        return np.ascontiguousarray(np.repeat(arr, 3, axis=2))
    if arr.shape[2] == 4:
        return _composite_on_white(arr)
    return np.ascontiguousarray(arr)


# --------------------------------------------------------------------------------------------- decoding


def _decode(data: bytes, label: str, max_side: int = MAX_SIDE) -> np.ndarray:
    """Header checks, bounded decode, mode normalisation, downscale, then orientation."""
    im = _open(data, label)
    _check_size(im.size, len(data), im.format, label)
    orientation = _orientation(im)
    _draft(im, max_side)
    _load(im, label)
    im = _normalise_mode(im)
    im = _shrink(im, max_side)
    im = _transpose(im, orientation)
    return to_rgb_uint8(_fit(np.asarray(im), max_side))


def _open(data: bytes, label: str) -> Image.Image:
    """Read only the header; names the likely real content when the bytes are not an image."""
    try:
        return Image.open(io.BytesIO(data), formats=_available_formats())
    except Image.DecompressionBombError as exc:  # Pillow's own guard (> ~179 MP) fires before ours
        raise ImageDecodeError(
            f"{label} is refused: its header claims a far larger image than the {MAX_PIXELS / 1e6:.0f} MP "
            f"limit ({exc}). Downscale it (e.g. to {MAX_SIDE} px on the longer side) and try again."
        ) from exc
    except UnidentifiedImageError as exc:
        raise ImageDecodeError(
            f"{label} is not an image ({_sniff(data)}). "
            f"Upload a photo in one of these formats: {', '.join(ALLOWED_FORMATS)}."
        ) from exc


def _available_formats() -> tuple[str, ...]:
    """ALLOWED_FORMATS minus plugins this Pillow build lacks (Image.open fails on unknown names).

    HEIF/HEIC (the iPhone's default photo format) comes from the pillow-heif plugin, registered on first use.
    """
    _register_heif()
    Image.init()
    return tuple(fmt for fmt in ALLOWED_FORMATS if fmt in Image.OPEN)


_HEIF_LOCK = threading.Lock()


def _register_heif() -> None:
    """Teach Pillow HEIF/HEIC through pillow-heif, once (without it, HEIC files get a clear refusal)."""
    with _HEIF_LOCK:
        if "HEIF" in Image.OPEN:
            return
        try:
            from pillow_heif import register_heif_opener
        except ImportError:
            return
        register_heif_opener()


def _sniff(data: bytes) -> str:
    """Best guess of what a non-image file really is, so the message can say so."""
    head = data[:16]
    if head.startswith(b"%PDF"):
        return "it looks like a PDF document"
    if head.startswith(b"PK\x03\x04"):
        return "it looks like a ZIP/Office document"
    if head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypmsf1"):
        return "it looks like a HEIC photo, which is not supported; export it as JPEG"
    sample = data[:512]
    if sample and all(32 <= b < 127 or b in (9, 10, 13) for b in sample):
        return "it looks like a text file"
    return "unrecognised or unsupported format"


def _check_size(size: tuple[int, int], nbytes: int, fmt: str | None, label: str) -> None:
    """Refuse empty images, bombs and images too big to decode, from header dimensions alone.

    Up to DECODE_BUDGET everything is decoded. Above it, JPEGs (decoded at reduced size, see
    :func:`_draft`) are accepted up to MAX_PIXELS unless the file is absurdly small for its size;
    other formats would be decoded whole, so they are refused with a way out.
    """
    width, height = size
    if width <= 0 or height <= 0:
        raise ImageDecodeError(f"{label} declares an empty size ({width}x{height}); the file is corrupt.")
    pixels = width * height
    if pixels <= DECODE_BUDGET:
        return
    what = f"{label} is {width}x{height} pixels ({pixels / 1e6:.0f} megapixels)"
    if pixels > MAX_PIXELS or pixels > nbytes * MAX_PIXELS_PER_BYTE:
        raise ImageDecodeError(
            f"{what} in a {nbytes / 1e6:.2f} MB file: refused as a decompression bomb (above the "
            f"{MAX_PIXELS / 1e6:.0f} MP limit, or far too many pixels for the file size). Downscale it (e.g. to "
            f"{MAX_SIDE} px on the longer side) and try again if it is a real photo."
        )
    if fmt not in DRAFT_FORMATS:
        raise ImageDecodeError(
            f"{what}: a {fmt or 'non-JPEG'} image above {DECODE_BUDGET / 1e6:.0f} MP has to be decoded at full "
            f"size, which needs too much memory above that limit. Save it as JPEG (decoded at reduced size), or "
            f"Downscale it (e.g. to {MAX_SIDE} px on the longer side), and try again."
        )


def _orientation(im: Image.Image) -> int:
    """EXIF orientation (1..8), read before any conversion drops the metadata; 1 when absent or corrupt."""
    try:
        value = int(im.getexif().get(_ORIENTATION_TAG, 1))
    except Exception:  # corrupt EXIF must not make an otherwise good photo unusable
        return 1
    return value if value in _TRANSPOSE else 1


def _draft(im: Image.Image, max_side: int = MAX_SIDE) -> None:
    """Let libjpeg decode big JPEGs at 1/2, 1/4 or 1/8 scale, so memory follows the output size.

    The reduction is the largest that keeps the longer side at least MAX_SIDE (what analysis keeps
    anyway), or more when needed to stay within DECODE_BUDGET pixels (photos above 50 MP). Pillow
    picks the factor from ``original // requested`` (integer division), so the request is the reduced
    size rounded down. Smaller JPEGs are decoded whole and shrunk by :func:`_shrink`.
    """
    if im.format not in DRAFT_FORMATS:
        return
    width, height = im.size
    factor = 1
    while factor < 8 and max(width, height) / (2 * factor) >= max_side:
        factor *= 2
    while factor < 8 and math.ceil(width / factor) * math.ceil(height / factor) > DECODE_BUDGET:
        factor *= 2
    if factor > 1:
        im.draft(None, (max(1, width // factor), max(1, height // factor)))


def _load(im: Image.Image, label: str) -> None:
    """Decode the pixels, treating a premature end of data as an error rather than grey fill."""
    try:
        with _strict_truncation():
            im.load()
    except OSError as exc:
        if "truncated" in str(exc) or "broken data stream" in str(exc):
            raise ImageDecodeError(
                f"{label} is truncated: the image data ends before the picture is complete ({exc}). "
                "The upload or download was probably interrupted; get a complete copy and try again."
            ) from exc
        raise


@contextmanager
def _strict_truncation() -> Iterator[None]:
    """Guarantee Pillow's default (raise on truncated data) even if other code enabled lenient loading.

    ``ImageFile.LOAD_TRUNCATED_IMAGES`` is process-global. In the normal case (off) nothing is touched;
    otherwise it is switched off while any decode here is loading and restored when the last one ends
    (the flag is restored before the count drops, so a concurrent decode never sees "off, nobody inside").
    """
    global _strict_depth, _saved_lenient
    if not ImageFile.LOAD_TRUNCATED_IMAGES and _strict_depth == 0:
        yield
        return
    with _STRICT_LOCK:
        if _strict_depth == 0:
            _saved_lenient = ImageFile.LOAD_TRUNCATED_IMAGES
        _strict_depth += 1
        ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        yield
    finally:
        with _STRICT_LOCK:
            if _strict_depth == 1:
                ImageFile.LOAD_TRUNCATED_IMAGES = _saved_lenient
            _strict_depth -= 1


def _normalise_mode(im: Image.Image) -> Image.Image:
    """Convert exotic modes (palette, CMYK, 1-bit, LA...) to ones numpy and to_rgb_uint8 understand.

    16-bit gray stays 16-bit here so to_rgb_uint8 can scale it (not clip it) to 8 bits.
    """
    has_transparency = "transparency" in im.info and im.mode in ("P", "L", "RGB")
    if im.mode in _ALPHA_MODES or has_transparency:
        return im if im.mode == "RGBA" else im.convert("RGBA")
    if im.mode in _ARRAY_MODES:
        return im
    if im.mode == "1" or (im.mode == "P" and _is_gray_palette(im)):
        return im.convert("L")
    return im.convert("RGB")


def _is_gray_palette(im: Image.Image) -> bool:
    """True for palettes that only hold grey entries (kept as L: a third of the memory of RGB)."""
    palette = im.getpalette() or [0, 0, 1]
    return all(palette[i] == palette[i + 1] == palette[i + 2] for i in range(0, len(palette) - 2, 3))


def _shrink(im: Image.Image, max_side: int = MAX_SIDE) -> Image.Image:
    """Area-downscale inside Pillow to at most ``max_side``, so a big image is never copied whole to numpy."""
    if max(im.size) <= max_side or im.mode not in _RESIZABLE_MODES:
        return im
    scale = max_side / max(im.size)
    size = (max(1, round(im.size[0] * scale)), max(1, round(im.size[1] * scale)))
    return im.resize(size, Image.Resampling.BOX, reducing_gap=2.0)


def _transpose(im: Image.Image, orientation: int) -> Image.Image:
    """Apply the EXIF orientation with ImageOps.exif_transpose's mapping, on the already-shrunk image.

    Done last because conversion and resizing drop the EXIF block, and rotating a small image is cheap.
    """
    method = _TRANSPOSE.get(orientation)
    return im if method is None else im.transpose(method)


def _fit(pixels: np.ndarray, max_side: int) -> np.ndarray:
    """Area-downscale modes Pillow cannot resize (16-bit) before they are widened to 8-bit RGB."""
    height, width = pixels.shape[:2]
    if max(height, width) <= max_side:
        return pixels
    if not pixels.dtype.isnative:  # PNG's big-endian I;16B: OpenCV wants native byte order
        pixels = pixels.astype(pixels.dtype.newbyteorder("="))
    scale = max_side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)


def _label(name: str) -> str:
    """File name as shown in messages: quoted, and shortened so a hostile name cannot flood the UI."""
    text = str(name) if name else "image"
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return repr(text if len(text) <= 80 else text[:77] + "...")


# ------------------------------------------------------------------------------------------ array maths


def _scale_to_uint8(arr: np.ndarray) -> np.ndarray:
    """Map a numeric array onto 0..255 according to its dtype's natural range."""
    kind = arr.dtype.kind
    if kind == "b":
        return arr.astype(np.uint8) * np.uint8(255)
    if kind == "f":
        return _float_to_uint8(arr)
    if kind in "ui":
        return _int_to_uint8(arr)
    raise ImageDecodeError(f"Unsupported pixel type {arr.dtype}; expected bool, integer or float pixels.")


def _float_to_uint8(arr: np.ndarray) -> np.ndarray:
    """Floats whose maximum is <= 1 are taken as 0..1 and scaled by 255; others as 0..255. Both clip."""
    values = arr.astype(np.float64, copy=False)
    if not np.isfinite(values).all():
        raise ImageDecodeError("The image array contains NaN or infinite values; it cannot be shown or analysed.")
    if values.max() <= 1.0:
        values = np.clip(values, 0.0, 1.0) * 255.0
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def _int_to_uint8(arr: np.ndarray) -> np.ndarray:
    """uint16 is scaled by 1/257 (65535 -> 255); other integers by the range their values occupy.

    Integer types without an image meaning (int32, int64...) are common by accident (``np.array`` of
    Python ints), so values already in 0..255 are kept, 0..65535 are treated as 16-bit, and anything
    else (negative, huge) is stretched min..max.
    """
    if arr.dtype.kind == "u" and arr.dtype.itemsize == 1:
        return arr.astype(np.uint8, copy=False)
    if arr.dtype.kind == "u" and arr.dtype.itemsize == 2:  # any byte order (PNG's I;16B is big-endian)
        return _div_round(arr, 257)
    lo, hi = int(arr.min()), int(arr.max())
    if lo >= 0 and hi <= 255:
        return arr.astype(np.uint8)
    if lo >= 0 and hi <= 65535:
        return _div_round(arr, 257)
    stretched = (arr.astype(np.float64) - lo) * (255.0 / max(hi - lo, 1))  # constant -> black
    return np.clip(np.rint(stretched), 0, 255).astype(np.uint8)


def _div_round(arr: np.ndarray, divisor: int) -> np.ndarray:
    """Integer division with rounding, without float temporaries of the whole image."""
    return ((arr.astype(np.uint32) + divisor // 2) // divisor).astype(np.uint8)


def _composite_on_white(rgba: np.ndarray) -> np.ndarray:
    """Blend RGBA onto white, as a browser shows a transparent PNG on a light page."""
    rgb = rgba[:, :, :3].astype(np.uint16)
    alpha = rgba[:, :, 3:4].astype(np.uint16)
    out = (rgb * alpha + 255 * (255 - alpha) + 127) // 255
    return np.ascontiguousarray(out.astype(np.uint8))
