"""In-memory image builders shared by the image tests: nothing here touches the disk.

Imported as ``support.images`` (pytest puts ``tests/`` on ``sys.path``: the folder has no ``__init__.py``).
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image

#: Where the face is in the 512 px test portrait (astronaut.png): hair to chin spans about x 175..275,
#: y 55..170 (found once by inspection); a detection's centre must fall in this region (x0, y0, x1, y1),
#: shifted and scaled with the portrait.
FACE_CENTRE_REGION = (190, 80, 260, 150)


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    """``image`` saved as ``fmt`` (any Pillow save options) into bytes."""
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def png_bytes(width: int, height: int, row: bytes, bit_depth: int = 1, color_type: int = 0) -> bytes:
    """A real PNG of any size whose rows all equal ``row``, streamed through zlib in O(row) memory."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    compressor = zlib.compressobj(9)
    line = b"\x00" + row  # filter type 0
    body = b"".join(compressor.compress(line) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def gradient(width: int = 64, height: int = 48) -> Image.Image:
    """An RGB test card: red grows left to right, green top to bottom."""
    x = np.linspace(0, 255, width, dtype=np.uint8)
    y = np.linspace(0, 255, height, dtype=np.uint8)
    rgb = np.stack(np.broadcast_arrays(x[None, :], y[:, None], np.full((height, width), 90, np.uint8)), axis=2)
    return Image.fromarray(np.ascontiguousarray(rgb))


def with_exif_orientation(upright: Image.Image, orientation: int) -> bytes:
    """A JPEG storing ``upright`` as a camera held another way would, with the EXIF tag that undoes it."""
    stored = {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_90,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_270,
    }[orientation]
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(upright.transpose(stored), "JPEG", quality=95, exif=exif)


def animated(frames: list[Image.Image], fmt: str) -> bytes:
    """An animated GIF or WebP of ``frames`` (lossless WebP, so the first frame can be compared exactly)."""
    first, *rest = frames
    options = {"lossless": True} if fmt == "WEBP" else {"loop": 0}
    return encode(first, fmt, save_all=True, append_images=rest, duration=100, **options)


def crowd(portrait: Image.Image, tile: int = 360, cols: int = 6, rows: int = 5) -> Image.Image:
    """``cols`` x ``rows`` copies of the portrait at ``tile`` px: 30 faces of ~70 px by default.

    Sized so each face is clearly above the detector's default minimum (40 px, and 3 % of the short side).
    """
    small = np.asarray(portrait.convert("RGB").resize((tile, tile), Image.Resampling.LANCZOS))
    return Image.fromarray(np.tile(small, (rows, cols, 1)))


def sixteen_bit_gray(image: Image.Image) -> Image.Image:
    """The image as 16-bit grayscale (mode I;16), values spread over the full 0..65535 range."""
    gray = np.asarray(image.convert("L")).astype(np.uint16) * 257
    return Image.fromarray(gray)


def jpeg_header_bomb(width: int, height: int) -> bytes:
    """A tiny valid JPEG whose frame header is rewritten to claim ``width`` x ``height`` pixels."""
    data = bytearray(encode(Image.new("L", (8, 8), 128), "JPEG"))
    sof = data.index(b"\xff\xc0")  # baseline SOF0: length(2) precision(1) height(2) width(2)
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def gif_header_bomb(width: int, height: int) -> bytes:
    """A tiny valid GIF whose screen and image descriptors are rewritten to claim ``width`` x ``height``."""
    data = bytearray(encode(Image.new("P", (8, 8), 0), "GIF"))
    data[6:10] = struct.pack("<HH", width, height)  # logical screen descriptor
    at = 13 + (3 << ((data[10] & 7) + 1) if data[10] & 0x80 else 0)  # skip the global colour table
    while data[at] == 0x21:  # extension blocks: introducer, label, then sub-blocks up to a 0 length
        at += 2
        while data[at]:
            at += data[at] + 1
        at += 1
    assert data[at] == 0x2C, "no image descriptor found"  # left, top, width, height (little endian)
    data[at + 5 : at + 9] = struct.pack("<HH", width, height)
    return bytes(data)


TEXT_FILE = b"Dear diary,\nToday I renamed a text file to .jpg.\n" * 20
PDF_FILE = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n"
