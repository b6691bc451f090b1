"""Processed frames per second and mean per-frame time over a sliding window of recent frames."""

from __future__ import annotations

from collections import deque

#: The figures are averaged over this many seconds.
FPS_WINDOW_S = 2.0


class FpsMeter:
    """Feed it each frame's end time and processing time; read ``fps`` and ``ms``. Not thread-safe."""

    def __init__(self, window: float = FPS_WINDOW_S) -> None:
        self.window = float(window)
        self._recent: deque[tuple[float, float]] = deque()  # (done time, ms) within the window

    def add(self, start: float, done: float) -> None:
        """One frame processed from ``start`` to ``done`` (seconds, same clock)."""
        self._recent.append((done, (done - start) * 1000.0))
        while self._recent and done - self._recent[0][0] > self.window:
            self._recent.popleft()

    @property
    def fps(self) -> float:
        """Frames finished per second over the window (0 before two frames)."""
        n = len(self._recent)
        span = self._recent[-1][0] - self._recent[0][0] if n > 1 else 0.0
        return (n - 1) / span if span > 0 else 0.0

    @property
    def ms(self) -> float:
        """Mean processing time per frame over the window, in milliseconds (0 before the first frame)."""
        return sum(m for _, m in self._recent) / len(self._recent) if self._recent else 0.0
