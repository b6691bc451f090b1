"""The Live page's profiling hooks: the server's per-stage CPU time, for the load script and the page.

:data:`fer.stages.LIVE_STAGES` already times the engine's frame work. What happens outside it in the
server process is timed here: the page's stats refreshes (:func:`timed`, always on), and, only when the
``FER_LIVE_PROFILE`` environment variable names a file, the WebRTC video codecs (aiortc's VP8/H.264
decoder and encoder, wrapped in place) plus a snapshot of every stage and of the process's CPU time
written to that file once a second. ``scripts/load_live.py`` sets it and reads the file; a normal
server never patches aiortc.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

from fer.stages import LIVE_STAGES

PROFILE_ENV = "FER_LIVE_PROFILE"
WRITE_EVERY_S = 1.0

_installed = False
_install_lock = threading.Lock()


def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` charging its CPU time to stage ``name`` of the live clock."""

    @wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        with LIVE_STAGES.stage(name):
            return fn(*args, **kwargs)

    return run


def install_from_env() -> bool:
    """Start profiling once per process when ``FER_LIVE_PROFILE`` is set; True when it runs."""
    path = os.environ.get(PROFILE_ENV, "").strip()
    if not path:
        return False
    global _installed
    with _install_lock:
        if not _installed:
            _wrap_codecs()
            threading.Thread(target=_write_forever, args=(Path(path),), name="fer-live-profile", daemon=True).start()
            _installed = True
    return True


def _wrap_codecs() -> None:
    """Charge aiortc's video decoding and encoding to stages ``video_decode`` / ``video_encode``."""
    from aiortc.codecs import h264, vpx

    for cls, method, stage in (
        (vpx.Vp8Decoder, "decode", "video_decode"),
        (vpx.Vp8Encoder, "encode", "video_encode"),
        (h264.H264Decoder, "decode", "video_decode"),
        (h264.H264Encoder, "encode", "video_encode"),
    ):
        setattr(cls, method, timed(stage, getattr(cls, method)))


def snapshot() -> dict:
    """Process CPU time and every stage's totals, as the load script reads them."""
    times = os.times()
    return {
        "pid": os.getpid(),
        "time": time.time(),
        "process_cpu_s": times.user + times.system,
        "stages": {name: [t.calls, t.cpu_s, t.wall_s] for name, t in LIVE_STAGES.snapshot().items()},
        "streams": {str(k): list(v) for k, v in LIVE_STAGES.streams().items()},  # frames, width, height
    }


def _write_forever(path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    while True:
        tmp.write_text(json.dumps(snapshot()))
        os.replace(tmp, path)  # readers never see a half-written file
        time.sleep(WRITE_EVERY_S)
