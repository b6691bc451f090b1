"""Where a server's frame work goes: CPU time per named stage, summed over every thread of the process.

The Live page's per-frame work is spread over threads (WebRTC decoding, one processing thread per
viewer, encoding) that all compete for one GIL, so wall-clock timings mostly measure waiting. Each stage
here is charged the *CPU time of the thread that ran it* (``time.thread_time``), which stays honest on
a loaded machine, plus its wall time for comparison. The load script (``scripts/load_live.py``) reads
two snapshots and divides by the frames processed in between; the Live page shows the same figures.

Recording costs two clock reads and a lock per stage (about 2 µs), so it is always on.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

#: A stream that processed no frame for this long is no longer listed by :meth:`StageClock.streams`.
STREAM_IDLE_S = 30.0


@dataclass(frozen=True)
class StageTotal:
    """One stage's totals since the process started."""

    calls: int
    cpu_s: float  # CPU time of the threads that ran it
    wall_s: float


class StageClock:
    """Thread-safe totals of named stages: ``with clock.stage("detect"): ...`` or :meth:`add`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._totals: dict[str, list[float]] = {}  # name -> [calls, cpu_s, wall_s]
        self._streams: dict[int, tuple[int, int, int, float]] = {}  # stream -> (frames, width, height, last)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        cpu, wall = time.thread_time(), time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.thread_time() - cpu, time.perf_counter() - wall)

    def add(self, name: str, cpu_s: float, wall_s: float, calls: int = 1) -> None:
        with self._lock:
            total = self._totals.setdefault(name, [0, 0.0, 0.0])
            total[0] += calls
            total[1] += cpu_s
            total[2] += wall_s

    def count_frame(self, stream: int, frames: int, size: tuple[int, int]) -> None:
        """One stream's processed-frame count and frame size: per-viewer FPS measured by the server itself
        (a starved browser refreshes its page's counters late)."""
        with self._lock:
            self._streams[stream] = (frames, size[0], size[1], time.monotonic())

    def streams(self, max_idle_s: float = STREAM_IDLE_S) -> dict[int, tuple[int, int, int]]:
        """``{stream: (frames, width, height)}`` of the streams that processed a frame recently."""
        now = time.monotonic()
        with self._lock:
            for stream in [k for k, v in self._streams.items() if now - v[3] > max_idle_s]:
                del self._streams[stream]  # ended streams are forgotten
            return {k: v[:3] for k, v in self._streams.items()}

    def snapshot(self) -> dict[str, StageTotal]:
        """Every stage's totals so far (a copy)."""
        with self._lock:
            return {name: StageTotal(int(c), cpu, wall) for name, (c, cpu, wall) in self._totals.items()}


#: The process-wide clock the live path reports to (all viewers of this server process together).
LIVE_STAGES = StageClock()
