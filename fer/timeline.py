"""A bounded, evenly sampled record of one face's probabilities over time, and its CSV.

The webcam page keeps the largest face's smoothed probabilities a few times a second for the last
minutes (memory stays bounded however long the stream runs) and offers them as a chart and a CSV.
"""

from __future__ import annotations

import csv
import io
from collections import deque
from dataclasses import dataclass

import numpy as np

from fer.labels import CLASS_NAMES

#: At most one sample per this many seconds (~4 samples/s) ...
TIMELINE_INTERVAL_S = 0.25
#: ... kept for this many seconds (10 minutes: 2,400 samples, ~100 KB).
TIMELINE_SPAN_S = 600.0


@dataclass(frozen=True)
class TimelineSample:
    t: float  # seconds since the recording's origin
    probs: np.ndarray  # float32 [7]
    label: str


class Timeline:
    """Samples at least ``interval`` seconds apart, the last ``span`` seconds of them. Not thread-safe."""

    def __init__(self, interval: float = TIMELINE_INTERVAL_S, span: float = TIMELINE_SPAN_S) -> None:
        self.interval = float(interval)
        self._samples: deque[TimelineSample] = deque(maxlen=max(1, int(span / self.interval)))
        self._last_t = -float("inf")

    def __len__(self) -> int:
        return len(self._samples)

    def offer(self, t: float, probs: np.ndarray, label: str) -> bool:
        """Record a sample unless the previous one is less than ``interval`` old; True when recorded."""
        if t - self._last_t < self.interval:
            return False
        self._samples.append(TimelineSample(t, np.array(probs, np.float32), label))
        self._last_t = t
        return True

    def clear(self) -> None:
        self._samples.clear()
        self._last_t = -float("inf")

    def samples(self) -> list[TimelineSample]:
        """The recorded samples, oldest first (a copy)."""
        return list(self._samples)


def timeline_arrays(samples: list[TimelineSample]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(times [N], probs [N, 7], labels) of the samples, for charts."""
    times = np.array([s.t for s in samples], np.float64)
    probs = np.array([s.probs for s in samples], np.float32).reshape(-1, len(CLASS_NAMES))
    return times, probs, [s.label for s in samples]


def timeline_csv(samples: list[TimelineSample]) -> str:
    """CSV text: ``t_seconds,label,angry,...,neutral`` (probabilities to 4 decimals)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["t_seconds", "label", *CLASS_NAMES])
    for s in samples:
        writer.writerow([f"{s.t:.3f}", s.label, *(f"{float(p):.4f}" for p in s.probs)])
    return buf.getvalue()
