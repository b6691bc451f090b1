"""Property tests: hostile bytes and arrays only ever produce a valid image or ImageDecodeError."""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image
from support.images import encode

from fer.detection.detector import detect_faces
from fer.imageio import ImageDecodeError, decode_image, to_rgb_uint8

FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _seed_files() -> dict[str, bytes]:
    """Small valid files in several formats, the starting points for mutation."""
    rng = np.random.default_rng(7)
    rgb = Image.fromarray(rng.integers(0, 256, (40, 56, 3), dtype=np.uint8))
    files = {}
    for fmt, image, options in [
        ("PNG", rgb, {}),
        ("JPEG", rgb, {"quality": 80}),
        ("JPEG-progressive", rgb, {"quality": 80, "progressive": True}),
        ("GIF", rgb.convert("P"), {}),
        ("WEBP", rgb, {}),
        ("PNG-rgba", rgb.convert("RGBA"), {}),
        ("BMP", rgb, {}),
        ("TIFF", rgb, {}),
    ]:
        files[fmt] = encode(image, fmt.split("-")[0], **options)
    return files


SEEDS = _seed_files()


@st.composite
def mutated_files(draw: st.DrawFn) -> bytes:
    """A valid file with a few byte flips, insertions, deletions or a truncation."""
    data = bytearray(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        op = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "set":
            data[at] = draw(st.integers(0, 255))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        else:
            del data[at:]
    return bytes(data)


def _check_decode(data: bytes) -> None:
    """decode_image either raises ImageDecodeError or returns RGB uint8 that detection accepts."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow warns about corrupt EXIF / failed plugins: not errors
        try:
            image = decode_image(data, "fuzz.bin")
        except ImageDecodeError as err:
            assert str(err)
            return
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3 and image.size > 0
    assert isinstance(detect_faces(image), list)


@settings(FUZZ, max_examples=300)
@given(st.binary(max_size=4096))
def test_random_bytes_never_raise_anything_but_decode_error(data: bytes) -> None:
    _check_decode(data)


@settings(FUZZ, max_examples=700)
@given(mutated_files())
def test_mutated_images_never_raise_anything_but_decode_error(data: bytes) -> None:
    _check_decode(data)


DTYPES = st.sampled_from([np.bool_, np.uint8, np.uint16, np.int16, np.int32, np.int64, np.float32, np.float64])
SHAPES = st.one_of(
    hnp.array_shapes(min_dims=2, max_dims=2, min_side=0, max_side=40),
    st.tuples(st.integers(0, 40), st.integers(0, 40), st.integers(0, 5)),
    hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=6),
)


@settings(FUZZ, max_examples=400)
@given(hnp.arrays(DTYPES, SHAPES))
def test_random_arrays_give_rgb_or_decode_error(array: np.ndarray) -> None:
    try:
        rgb = to_rgb_uint8(array)
    except ImageDecodeError:
        rgb = None
    if rgb is not None:
        assert rgb.dtype == np.uint8 and rgb.shape == array.shape[:2] + (3,)
        assert isinstance(detect_faces(rgb), list)
    try:
        boxes = detect_faces(array)
    except ImageDecodeError:
        assert rgb is None  # detection refuses exactly what normalisation refuses
    else:
        assert rgb is not None and boxes == []
