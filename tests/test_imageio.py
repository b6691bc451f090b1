"""fer.imageio on every bad or odd upload we know of, each built in memory by the test (no files)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile
from support.images import encode, gradient, png_bytes

from fer import imageio
from fer.detection.detector import detect_faces
from fer.imageio import MAX_PIXELS, MAX_SIDE, ImageDecodeError, decode_image, to_rgb_uint8


@pytest.fixture(scope="module")
def portrait(astronaut_path: Path) -> Image.Image:
    return Image.open(astronaut_path).convert("RGB")


# ------------------------------------------------------------------------------------ refused inputs


def test_empty_bytes_are_refused_naming_the_file() -> None:
    with pytest.raises(ImageDecodeError, match=r"'holiday\.jpg' is empty \(0 bytes\)"):
        decode_image(b"", "holiday.jpg")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_truncated_file_is_refused_not_padded_with_grey(portrait: Image.Image, fmt: str) -> None:
    data = encode(portrait, fmt)
    with pytest.raises(ImageDecodeError, match="truncated") as err:
        decode_image(data[: len(data) // 2], f"cut.{fmt.lower()}")
    assert f"cut.{fmt.lower()}" in str(err.value)


def test_truncation_is_detected_even_if_someone_enabled_lenient_loading(
    portrait: Image.Image, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    data = encode(portrait, "JPEG")
    with pytest.raises(ImageDecodeError, match="truncated"):
        decode_image(data[: len(data) // 2], "cut.jpg")
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # the other code's setting is restored


@pytest.mark.parametrize(
    ("data", "hint"),
    [
        (b"Dear diary,\nToday I renamed a text file to .jpg.\n" * 20, "text file"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n", "PDF"),
        (bytes(range(256)) * 8, "unrecognised"),
    ],
    ids=["text", "pdf", "binary"],
)
def test_non_images_named_jpg_are_refused(data: bytes, hint: str) -> None:
    with pytest.raises(ImageDecodeError, match=hint) as err:
        decode_image(data, "photo.jpg")
    assert "'photo.jpg' is not an image" in str(err.value)


def test_decompression_bomb_is_refused_from_the_header() -> None:
    bomb = png_bytes(20000, 20000, bytes(2500))  # 400 MP, 1-bit: ~50 KB on the wire
    assert len(bomb) < 500_000
    with pytest.raises(ImageDecodeError, match="MP") as err:
        decode_image(bomb, "bomb.png")
    assert "'bomb.png'" in str(err.value)


def test_image_just_over_our_cap_is_refused_with_its_dimensions() -> None:
    side = int(MAX_PIXELS**0.5) + 100  # above MAX_PIXELS, below Pillow's own bomb guard
    with pytest.raises(ImageDecodeError, match=f"{side}x{side} pixels"):
        decode_image(png_bytes(side, side, bytes((side + 7) // 8)), "big.png")


# -------------------------------------------------------------------------------------- odd but valid


def test_sixteen_bit_png_is_scaled_not_clipped() -> None:
    ramp = np.tile(np.linspace(0, 65535, 256).round().astype(np.uint16), (8, 1))
    data = encode(Image.fromarray(ramp), "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I;16")
    out = decode_image(data)
    assert out.shape == (8, 256, 3) and out.dtype == np.uint8
    assert out.min() == 0 and out.max() == 255
    assert len(np.unique(out[0, :, 0])) > 250  # the full 8-bit range is used, not a clipped 0/255
    assert np.all(np.diff(out[0, :, 0].astype(int)) >= 0)
    assert abs(int(out[0, 128, 0]) - 128) <= 1


def test_wide_sixteen_bit_png_is_downscaled_then_scaled() -> None:
    ramp = np.tile(np.linspace(0, 65535, MAX_SIDE + 904).round().astype(np.uint16), (20, 1))
    out = decode_image(encode(Image.fromarray(ramp), "PNG"))
    assert out.shape[1] == MAX_SIDE and out.dtype == np.uint8
    assert out.min() == 0 and out.max() == 255


def test_rgba_png_is_composited_onto_white() -> None:
    rgba = np.zeros((32, 32, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[:, 16:, 3] = 255  # right half opaque red-ish, left half fully transparent
    out = decode_image(encode(Image.fromarray(rgba, "RGBA"), "PNG"))
    np.testing.assert_array_equal(out[:, :16], 255)
    assert (out[:, 16:] == [200, 0, 0]).all()


def test_la_png_is_composited_onto_white() -> None:
    la = Image.fromarray(np.dstack([np.full((8, 8), 50, np.uint8), np.full((8, 8), 0, np.uint8)]), "LA")
    np.testing.assert_array_equal(decode_image(encode(la, "PNG")), 255)


def test_palette_png_with_transparency(portrait: Image.Image) -> None:
    palette = portrait.resize((64, 64)).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    pixels = np.asarray(palette).copy()
    pixels[:8] = 0
    image = Image.fromarray(pixels, "P")
    image.putpalette(palette.getpalette())
    out = decode_image(encode(image, "PNG", transparency=0))
    np.testing.assert_array_equal(out[:8], 255)
    assert out.shape == (64, 64, 3) and out[8:].std() > 10


def test_palette_png_without_transparency(portrait: Image.Image) -> None:
    image = portrait.convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
    out = decode_image(encode(image, "PNG"))
    assert out.shape == (512, 512, 3)
    assert np.abs(out.astype(int) - np.asarray(portrait).astype(int)).mean() < 12


def test_cmyk_jpeg(portrait: Image.Image) -> None:
    out = decode_image(encode(portrait.convert("CMYK"), "JPEG", quality=95))
    assert out.shape == (512, 512, 3)
    assert np.abs(out.astype(int) - np.asarray(portrait).astype(int)).mean() < 4


def test_grayscale_jpeg(portrait: Image.Image) -> None:
    out = decode_image(encode(portrait.convert("L"), "JPEG"))
    assert out.shape == (512, 512, 3)
    assert np.array_equal(out[..., 0], out[..., 1]) and np.array_equal(out[..., 1], out[..., 2])


def test_one_bit_png() -> None:
    out = decode_image(png_bytes(16, 4, b"\xf0\x0f"))
    assert out.shape == (4, 16, 3)
    np.testing.assert_array_equal(out[0, :, 0], [255] * 4 + [0] * 8 + [255] * 4)


@pytest.mark.parametrize(
    ("orientation", "stored_as"),
    [(6, Image.Transpose.ROTATE_90), (8, Image.Transpose.ROTATE_270), (3, Image.Transpose.ROTATE_180)],
)
def test_exif_rotated_photo_is_returned_upright(portrait: Image.Image, orientation: int, stored_as) -> None:
    upright = portrait.crop((50, 0, 450, 512))  # 400 wide, 512 tall: the shape tells orientation apart
    stored = upright.transpose(stored_as)  # what a phone held sideways writes, with the tag to undo it
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encode(stored, "JPEG", quality=95, exif=exif)
    out = decode_image(data, "phone.jpg")
    assert out.shape == (512, 400, 3)
    assert np.abs(out.astype(int) - np.asarray(upright).astype(int)).mean() < 4
    boxes = detect_faces(out)
    assert len(boxes) == 1
    cx, cy = boxes[0][0] + boxes[0][2] / 2, boxes[0][1] + boxes[0][3] / 2
    assert 140 <= cx <= 210 and 80 <= cy <= 150  # the face region, shifted by the 50 px crop
    if orientation in (6, 8):
        assert detect_faces(np.asarray(stored)) == []  # sideways, the cascade would have missed it


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_corrupt_exif_does_not_spoil_a_good_photo() -> None:
    data = encode(gradient(), "JPEG", exif=b"Exif\x00\x00MM\x00*garbage")
    assert decode_image(data).shape == (48, 64, 3)


def _frames() -> list[Image.Image]:
    return [Image.new("RGB", (32, 24), colour) for colour in ((255, 0, 0), (0, 0, 255), (0, 255, 0))]


def test_animated_gif_gives_the_first_frame() -> None:
    first, *rest = _frames()
    data = encode(first, "GIF", save_all=True, append_images=rest, duration=100, loop=0)
    assert Image.open(io.BytesIO(data)).n_frames == 3
    np.testing.assert_array_equal(decode_image(data, "anim.gif"), np.asarray(first))


def test_animated_webp_gives_the_first_frame() -> None:
    first, *rest = _frames()
    data = encode(first, "WEBP", save_all=True, append_images=rest, duration=100, lossless=True)
    assert Image.open(io.BytesIO(data)).n_frames == 3
    np.testing.assert_array_equal(decode_image(data, "anim.webp"), np.asarray(first))


@pytest.mark.parametrize("size", [(1, 1), (8, 8)])
@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "BMP", "WEBP"])
def test_tiny_images_decode_and_detect_nothing(size: tuple[int, int], fmt: str) -> None:
    out = decode_image(encode(Image.new("RGB", size, (10, 200, 30)), fmt))
    assert out.shape == (size[1], size[0], 3) and out.dtype == np.uint8
    assert detect_faces(out) == []


def test_large_images_are_downscaled_to_max_side() -> None:
    wide = gradient(MAX_SIDE + 904, 300)  # within the pixel cap, too wide for analysis
    out = decode_image(encode(wide, "PNG"))
    assert out.shape == (round(300 * MAX_SIDE / (MAX_SIDE + 904)), MAX_SIDE, 3)


def test_huge_jpeg_is_drafted_then_downscaled() -> None:
    panorama = gradient(2 * MAX_SIDE + 808, 500)  # wide enough for libjpeg's 1/2-scale draft
    out = decode_image(encode(panorama, "JPEG"))
    assert max(out.shape) == MAX_SIDE and out.shape[2] == 3
    expected = np.asarray(panorama.resize((out.shape[1], out.shape[0]), Image.Resampling.BOX))
    assert np.abs(out.astype(int) - expected.astype(int)).mean() < 4


def test_crowd_of_30_faces_decodes_and_detects(portrait: Image.Image) -> None:
    # 360 px tiles give ~70 px faces, above the detector's default minimum face (56 px and 3 % of the
    # short side); smaller faces need a lower minimum in the sidebar, by design.
    tile = np.asarray(portrait.resize((360, 360), Image.Resampling.LANCZOS))
    crowd = np.tile(tile, (5, 6, 1))
    out = decode_image(encode(Image.fromarray(crowd), "JPEG", quality=92), "crowd.jpg")
    boxes = detect_faces(out)
    assert len(boxes) >= 25  # faces ~1.25x the minimum: most, not necessarily all, are found
    cells = {(int((b[0] + b[2] / 2) // 360), int((b[1] + b[3] / 2) // 360)) for b in boxes}
    assert len(cells) == len(boxes)  # one box per face, no duplicates


def test_memoryview_and_bytearray_are_accepted() -> None:
    data = encode(gradient(), "PNG")
    assert decode_image(bytearray(data)).shape == decode_image(memoryview(data)).shape == (48, 64, 3)


def test_hostile_file_name_is_shortened_and_sanitised() -> None:
    with pytest.raises(ImageDecodeError) as err:
        decode_image(b"x", "a\x1b[31m" + "b" * 500)
    message = str(err.value)
    assert "\x1b" not in message and len(message) < 400


def test_decoding_writes_nothing_to_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, portrait: Image.Image
) -> None:
    monkeypatch.chdir(tmp_path)
    decode_image(encode(portrait, "JPEG"))
    with pytest.raises(ImageDecodeError):
        decode_image(b"%PDF-1.4 not an image")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------------- to_rgb_uint8


@pytest.mark.parametrize(
    ("array", "expected"),
    [
        (np.array([[0, 255]], np.uint8), [[[0] * 3, [255] * 3]]),
        (np.array([[[7], [9]]], np.uint8), [[[7] * 3, [9] * 3]]),
        (np.array([[0, 65535, 32896]], np.uint16), [[[0] * 3, [255] * 3, [128] * 3]]),
        (np.array([[0.0, 1.0, 0.5]], np.float32), [[[0] * 3, [255] * 3, [128] * 3]]),
        (np.array([[0.0, 255.0, 300.0, -4.0]]), [[[0] * 3, [255] * 3, [255] * 3, [0] * 3]]),
        (np.array([[True, False]]), [[[255] * 3, [0] * 3]]),
        (np.array([[0, 200]]), [[[0] * 3, [200] * 3]]),  # int64 from Python ints: taken as 8-bit
        (np.array([[0, 1000, 65535]], np.int32), [[[0] * 3, [4] * 3, [255] * 3]]),  # 16-bit range
        (np.array([[-10, 10]], np.int16), [[[0] * 3, [255] * 3]]),  # stretched min..max
        (np.array([[[10, 20, 30, 255], [10, 20, 30, 0]]], np.uint8), [[[10, 20, 30], [255] * 3]]),
        (np.array([[[0, 0, 0, 128]]], np.uint8), [[[127] * 3]]),
        (np.array([[1, 2]], dtype=">u2") * 257, [[[1] * 3, [2] * 3]]),
    ],
    ids=[
        "gray",
        "hw1",
        "uint16",
        "float01",
        "float255",
        "bool",
        "int64",
        "int32-16bit",
        "int16",
        "rgba",
        "half-alpha",
        "big-endian",
    ],
)
def test_to_rgb_uint8_conversions(array: np.ndarray, expected: list) -> None:
    out = to_rgb_uint8(array)
    assert out.dtype == np.uint8 and out.flags.c_contiguous
    np.testing.assert_array_equal(out, np.array(expected, np.uint8))


def test_to_rgb_uint8_keeps_rgb_uint8_without_copy() -> None:
    rgb = np.zeros((4, 4, 3), np.uint8)
    assert to_rgb_uint8(rgb) is rgb


@pytest.mark.parametrize(
    "array",
    [
        np.zeros((0, 5), np.uint8),
        np.zeros((5, 5, 0), np.uint8),
        np.zeros((5,), np.uint8),
        np.zeros((2, 2, 2, 2), np.uint8),
        np.zeros((4, 4, 2), np.uint8),
        np.zeros((4, 4, 5), np.uint8),
        np.array([[np.nan, 0.5]]),
        np.array([[np.inf, 0.5]], np.float32),
        np.zeros((2, 2), np.complex64),
        np.array([["a", "b"]]),
        [[1, 2], [3]],
    ],
    ids=[
        "zero-rows",
        "zero-channels",
        "1d",
        "4d",
        "2-channels",
        "5-channels",
        "nan",
        "inf",
        "complex",
        "str",
        "ragged",
    ],
)
def test_to_rgb_uint8_rejects_unusable_arrays(array) -> None:
    with pytest.raises(ImageDecodeError):
        to_rgb_uint8(array)


def test_allowed_formats_exclude_plugins_that_spawn_processes() -> None:
    assert "EPS" not in imageio.ALLOWED_FORMATS and "PDF" not in imageio.ALLOWED_FORMATS
