"""A bounded, evenly sampled record of the mood over time, and its CSV.

The webcam page keeps the mood of the faces in view (:func:`fer.faces.mood` of their smoothed
probabilities; one face: that face's) a few times a second for the last minutes (memory stays bounded
however long the stream runs) and offers it as a chart and a CSV that says how many faces each row holds.
"""

from __future__ import annotations

import csv
import io
from collections import deque
from dataclasses import dataclass

import numpy as np

from fer.labels import CLASS_NAMES, top_label

#: At most one sample per this many seconds (~4 samples/s) ...
TIMELINE_INTERVAL_S = 0.25
#: ... kept for this many seconds (10 minutes: at most 2,400 samples).
TIMELINE_SPAN_S = 600.0


@dataclass(frozen=True)
class TimelineSample:
    t: float  # seconds since the recording's origin
    probs: np.ndarray  # float32 [7]: the mood of the faces in view
    faces: int = 1  # how many faces that mood is of

    @property
    def label(self) -> str:
        return top_label(self.probs)


class Timeline:
    """Samples at least ``interval`` seconds apart, the last ``span`` seconds of them. Not thread-safe."""

    def __init__(self, interval: float = TIMELINE_INTERVAL_S, span: float = TIMELINE_SPAN_S) -> None:
        self.interval = float(interval)
        self._samples: deque[TimelineSample] = deque(maxlen=max(1, int(span / self.interval)))
        self._last_t = -float("inf")

    def __len__(self) -> int:
        return len(self._samples)

    def offer(self, t: float, probs: np.ndarray, faces: int = 1) -> bool:
        """Record a sample unless the previous one is less than ``interval`` old; True when recorded."""
        if t - self._last_t < self.interval:
            return False
        self._samples.append(TimelineSample(t, np.array(probs, np.float32), int(faces)))
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
    """CSV text: ``t_seconds,label,angry,...,neutral,faces`` (probabilities to 4 decimals).

    Each row is the mood of the ``faces`` faces in view then (one face: that face's probabilities).
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["t_seconds", "label", *CLASS_NAMES, "faces"])
    for s in samples:
        writer.writerow([f"{s.t:.3f}", s.label, *(f"{float(p):.4f}" for p in s.probs), s.faces])
    return buf.getvalue()
