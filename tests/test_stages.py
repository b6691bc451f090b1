"""Where the live server's time goes: the per-stage CPU clock and the profiling hook the load script reads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from fer.stages import StageClock


def _spin(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_stage_charges_the_cpu_of_the_thread_that_ran_it():
    clock = StageClock()
    with clock.stage("busy"):
        _spin(0.05)
    with clock.stage("idle"):
        time.sleep(0.05)  # waiting is wall time, not CPU
    totals = clock.snapshot()
    assert totals["busy"].calls == 1 and totals["busy"].cpu_s >= 0.045
    assert totals["idle"].wall_s >= 0.045 and totals["idle"].cpu_s < 0.02


def test_stages_from_many_threads_add_up():
    clock = StageClock()

    def work() -> None:
        for _ in range(200):
            with clock.stage("frame"):
                pass
            clock.add("frames", 0.0, 0.0)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    totals = clock.snapshot()
    assert totals["frame"].calls == totals["frames"].calls == 800


def test_streams_list_recent_viewers_only():
    clock = StageClock()
    clock.count_frame(1, 10, (640, 480))
    clock.count_frame(2, 3, (320, 240))
    clock.count_frame(1, 11, (640, 480))
    assert clock.streams() == {1: (11, 640, 480), 2: (3, 320, 240)}
    time.sleep(0.02)
    assert clock.streams(max_idle_s=0.01) == {}  # ended streams are forgotten


def test_profile_hook_writes_stages_and_times_the_video_codecs(tmp_path: Path, repo_root: Path):
    """FER_LIVE_PROFILE=FILE: the server's stages, streams and CPU land in FILE once a second, and
    aiortc's VP8 encoder is timed. In a subprocess: the hook patches aiortc for the process's life."""
    profile = tmp_path / "profile.json"
    code = (
        "import fractions, time, av, numpy as np\n"
        "from ui.live.profile import install_from_env\n"
        "assert install_from_env() and install_from_env()  # idempotent\n"
        "from aiortc.codecs.vpx import Vp8Encoder\n"
        "encoder = Vp8Encoder()\n"
        "for i in range(3):\n"
        "    frame = av.VideoFrame.from_ndarray(np.zeros((480, 640, 3), np.uint8), format='rgb24')\n"
        "    frame.pts, frame.time_base = i * 3000, fractions.Fraction(1, 90000)\n"
        "    encoder.encode(frame)\n"
        "time.sleep(1.5)\n"
    )
    env = {**os.environ, "FER_LIVE_PROFILE": str(profile), "PYTHONPATH": str(repo_root)}
    subprocess.run([sys.executable, "-c", code], cwd=repo_root, env=env, check=True, timeout=120)
    data = json.loads(profile.read_text())
    assert data["stages"]["video_encode"][0] == 3 and data["stages"]["video_encode"][1] > 0
    assert data["process_cpu_s"] > 0 and data["streams"] == {}


def test_no_profile_without_the_variable(monkeypatch):
    from ui.live.profile import install_from_env

    monkeypatch.delenv("FER_LIVE_PROFILE", raising=False)
    assert install_from_env() is False
