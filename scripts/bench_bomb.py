"""Peak memory of decode_image on hostile and large uploads (the figures quoted in the README).

Each case runs in a fresh child process that receives the file's bytes on stdin, so its peak RSS
reflects that one decode and not the building of the inputs. On Linux the peak (VmHWM) is reset just
before decoding via /proc/self/clear_refs, so "+RSS" is the decode's own peak above the resident size
it started from; elsewhere it falls back to the growth of ``ru_maxrss`` (a lower bound). ``tracemalloc`` only sees
Python/numpy allocations (Pillow's pixel buffers live outside it), so both are printed.

Usage: python -m scripts.bench_bomb   (about 30 s; nothing is written to disk)
"""

from __future__ import annotations

import io
import resource
import struct
import subprocess
import sys
import time
import tracemalloc
import zlib
from pathlib import Path

from fer.locations import faces_dir

REPO = Path(__file__).resolve().parents[1]


def png_bytes(width: int, height: int) -> bytes:
    """A real all-black 1-bit PNG, streamed through zlib so building it needs one row of memory."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    line = b"\x00" + bytes((width + 7) // 8)
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(line) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def photo_jpeg(width: int, height: int) -> bytes:
    """The astronaut portrait (or a noisy gradient without it) stretched to a big camera-sized JPEG."""
    import numpy as np
    from PIL import Image

    faces = faces_dir() / "astronaut.png"
    if faces.is_file():
        image = Image.open(faces).convert("RGB").resize((width, height), Image.Resampling.BILINEAR)
    else:
        rng = np.random.default_rng(0)
        ramp = np.linspace(0, 255, width, dtype=np.float32)[None, :, None] + rng.normal(0, 20, (height, 1, 3))
        image = Image.fromarray(np.clip(ramp, 0, 255).astype(np.uint8))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def gray16_png(width: int, height: int) -> bytes:
    """A 16-bit grayscale gradient PNG (mode I;16): the path Pillow cannot resize before numpy."""
    import numpy as np
    from PIL import Image

    ramp = np.linspace(0, 65535, width).astype(np.uint16)
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(np.broadcast_to(ramp, (height, width)))).save(buffer, "PNG")
    return buffer.getvalue()


CASES = {
    "bomb 20000x20000 1-bit PNG": lambda: png_bytes(20000, 20000),
    "7500x7500 1-bit PNG (56 MP: a PNG above the 50 MP decode budget)": lambda: png_bytes(7500, 7500),
    "largest full decode 7000x7000 1-bit PNG (49 MP)": lambda: png_bytes(7000, 7000),
    "photo 6000x4000 JPEG (24 MP)": lambda: photo_jpeg(6000, 4000),
    "panorama 12000x3000 JPEG (36 MP, drafted at 1/2)": lambda: photo_jpeg(12000, 3000),
    "phone 12649x9487 JPEG (120 MP, drafted at 1/2)": lambda: photo_jpeg(12649, 9487),
    "phone 16320x12240 JPEG (200 MP, drafted at 1/2)": lambda: photo_jpeg(16320, 12240),
    "16-bit gray PNG 6000x4000 (24 MP)": lambda: gray16_png(6000, 4000),
}


def child() -> None:
    """Decode stdin once; print baseline and peak RSS, tracemalloc peak, time and the outcome."""
    from fer.imageio import ImageDecodeError, decode_image

    data = sys.stdin.buffer.read()
    before = _reset_peak_kib()
    tracemalloc.start()
    start = time.perf_counter()
    try:
        outcome = f"decoded to {decode_image(data, 'bench').shape}"
    except ImageDecodeError as err:
        outcome = f"refused: {str(err)[:90]}..."
    seconds = time.perf_counter() - start
    _, traced_peak = tracemalloc.get_traced_memory()
    after = _peak_kib()
    print(f"{len(data) / 1e6:8.2f} {(after - before) / 1024:10.1f} {traced_peak / 1e6:10.1f} {seconds:7.2f}  {outcome}")


def _status_kib(field: str) -> int | None:
    """A field of /proc/self/status in KiB, or None off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak_kib() -> int:
    """Reset the peak-RSS mark to the current RSS (Linux) and return the starting point in KiB."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        current = _status_kib("VmRSS")
        if current is not None:
            return current
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _peak_kib() -> int:
    return _status_kib("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> None:
    """Build each input here, decode it in a fresh child, print one table row per case."""
    print("peak memory of decode_image per case (fresh process each; MB = 1e6 bytes, RSS in MiB)")
    print(f"{'input MB':>8} {'+RSS MiB':>10} {'traced MB':>10} {'seconds':>7}  outcome")
    for name, build in CASES.items():
        print(f"-- {name}")
        data = build()
        result = subprocess.run(
            [sys.executable, "-m", "scripts.bench_bomb", "--child"],
            input=data,
            capture_output=True,
            check=False,
            cwd=REPO,
        )
        print(result.stdout.decode().rstrip() or result.stderr.decode()[-500:])


if __name__ == "__main__":
    child() if "--child" in sys.argv else main()
