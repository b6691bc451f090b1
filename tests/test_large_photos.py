"""Phone photos above 50 MP are analysed (decoded at reduced size), while decompression bombs are refused.

The 120 MP JPEG is built here from the real test portrait on a 4:3 canvas. Its decode runs in a fresh
child process (``scripts/bench_bomb.py --child``) so the peak memory it reports is that decode's alone.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from support.images import encode

from fer.imageio import DECODE_BUDGET, MAX_PIXELS, MAX_SIDE, ImageDecodeError, decode_image
from fer.pipeline import analyze

REPO = Path(__file__).resolve().parent.parent
#: 12649 x 9487: a 120 MP photo, as a 108-200 MP phone camera makes them.
PHONE_SIZE = (12649, 9487)
#: Decoding the whole 120 MP photo would hold 360 MB of RGB pixels; decoded at half size it needs ~90 MB.
PEAK_RSS_LIMIT_MIB = 320


@pytest.fixture(scope="module")
def phone_jpeg(astronaut_path: Path) -> bytes:
    """The portrait filling the height of a 120 MP grey canvas, saved as a quality-90 JPEG."""
    width, height = PHONE_SIZE
    face = Image.open(astronaut_path).convert("RGB").resize((height, height), Image.Resampling.BILINEAR)
    canvas = Image.new("RGB", PHONE_SIZE, (120, 120, 120))
    canvas.paste(face, ((width - height) // 2, 0))
    del face
    buffer = io.BytesIO()
    canvas.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _decode_in_child(data: bytes) -> tuple[float, str]:
    """(+peak RSS in MiB, outcome) of one decode_image call in a fresh process."""
    result = subprocess.run(
        [sys.executable, "-m", "scripts.bench_bomb", "--child"],
        input=data,
        capture_output=True,
        check=True,
        timeout=300,
        cwd=REPO,
    )
    fields = result.stdout.decode().split(maxsplit=4)
    return float(fields[1]), fields[4]


def test_a_120_mp_phone_photo_is_decoded_at_reduced_size_within_bounded_memory(phone_jpeg: bytes) -> None:
    peak_mib, outcome = _decode_in_child(phone_jpeg)
    expected = (round(PHONE_SIZE[1] * MAX_SIDE / PHONE_SIZE[0]), MAX_SIDE, 3)
    assert outcome.strip() == f"decoded to {expected}", outcome
    print(f"\n[120 MP JPEG] peak RSS +{peak_mib:.0f} MiB for {len(phone_jpeg) / 1e6:.1f} MB")
    assert peak_mib < PEAK_RSS_LIMIT_MIB, f"decoding took {peak_mib:.0f} MiB: was the JPEG decoded at full size?"


def test_a_120_mp_phone_photo_is_analysed(phone_jpeg: bytes, classifier) -> None:
    image = decode_image(phone_jpeg, "phone.jpg")
    faces = analyze(image, classifier)
    assert faces, "no face found in the 120 MP photo"
    x, y, w, h = max(faces, key=lambda f: f.box[2]).box  # (false boxes on big photos: issue 12's detector work)
    assert abs((x + w / 2) - image.shape[1] / 2) < w / 2, "the largest face is the portrait in the middle"


def test_a_png_above_the_decode_budget_is_refused_with_a_way_out() -> None:
    side = int(DECODE_BUDGET**0.5) + 100  # 51 MP of 1-bit noise: a real-looking file, not a bomb
    noise = np.random.default_rng(0).integers(0, 2, (side, side), dtype=np.uint8).astype(bool)
    data = encode(Image.fromarray(noise), "PNG")
    del noise
    assert side * side < len(data) * 1000
    with pytest.raises(ImageDecodeError, match="Save it as JPEG") as err:
        decode_image(data, "scan.png")
    assert f"{side}x{side}" in str(err.value)


def test_a_jpeg_with_absurd_dimensions_for_its_size_is_a_bomb() -> None:
    """A JPEG header claiming 100 MP on a few KB of data: refused before decoding a pixel."""
    small = io.BytesIO()
    Image.new("L", (16, 16), 128).save(small, "JPEG")
    data = bytearray(small.getvalue())
    sof = data.index(b"\xff\xc0")  # baseline start-of-frame: length(2) precision(1) height(2) width(2)
    data[sof + 5 : sof + 9] = (10000).to_bytes(2, "big") * 2
    assert Image.open(io.BytesIO(bytes(data))).size == (10000, 10000)
    with pytest.raises(ImageDecodeError, match="decompression bomb"):
        decode_image(bytes(data), "tiny.jpg")


def test_the_hard_cap_sits_above_the_largest_phone_camera() -> None:
    assert 16320 * 12240 < MAX_PIXELS  # 200 MP phone sensors
