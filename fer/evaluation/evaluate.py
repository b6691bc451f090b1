"""Evaluate a classifier on a FER2013 split, with results cached so a second evaluation is instant.

Probabilities are cached in memory and on disk (``<cache>/eval/*.npz``), keyed by the model's hash, the
data fingerprint, the split and the options; the report is recomputed from them (milliseconds).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fer.classifier import Classifier
from fer.data import SplitData, cache_dir
from fer.evaluation.metrics import Report, report

Progress = Callable[[int, int], None]
_CHUNK = 512
_MEMORY_ENTRIES = 16  # model x split x TTA combinations kept in memory (the disk cache holds the rest)
_memory: OrderedDict[str, np.ndarray] = OrderedDict()
_lock = threading.Lock()


@dataclass(frozen=True)
class Evaluation:
    """A report plus the per-face probabilities behind it (for galleries of faces per cell)."""

    report: Report
    probs: np.ndarray  # float32 [N, 7]
    data: SplitData
    tta: bool

    @property
    def predicted(self) -> np.ndarray:
        return self.probs.argmax(axis=1)

    @property
    def confidence(self) -> np.ndarray:
        """The top probability of each face: how sure the model was of its answer."""
        return self.probs.max(axis=1)

    def most_confused(self) -> tuple[int, int]:
        """(true, predicted) of the off-diagonal confusion cell with the most faces: the telling default."""
        m = np.array(self.report.confusion, dtype=np.int64)
        np.fill_diagonal(m, -1)
        t, p = np.unravel_index(int(np.argmax(m)), m.shape)
        return int(t), int(p)

    def cell(self, true: int, predicted: int) -> np.ndarray:
        """Indices of the faces of one confusion cell, most confident first."""
        idx = np.flatnonzero((self.data.labels == true) & (self.predicted == predicted))
        return idx[np.argsort(-self.confidence[idx], kind="stable")]

    def confident_mistakes(self) -> np.ndarray:
        """Indices of the wrongly predicted faces, most confident first."""
        idx = np.flatnonzero(self.predicted != self.data.labels)
        return idx[np.argsort(-self.confidence[idx], kind="stable")]


@functools.cache
def runtime_versions() -> str:
    """Versions of everything that turns weights into numbers: a LiteRT/XNNPack or NumPy upgrade that
    moves predictions must never be answered from a cache filled by the old runtime."""
    parts = [f"numpy={np.__version__}"]
    for dist in ("ai-edge-litert", "tensorflow"):
        try:
            parts.append(f"{dist}={importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            parts.append(f"{dist}=none")
    return ",".join(parts)


def cache_key(classifier: Classifier, data: SplitData, tta: bool) -> str:
    """The model's bytes and both temperatures, the data, the split, the options and the runtime."""
    model = f"{classifier.sha256}|{classifier.temperature}|{classifier.temperature_tta}"
    raw = f"{model}|{data.fingerprint}|{data.split}|{tta}|{runtime_versions()}"
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def predict_split(
    classifier: Classifier,
    data: SplitData,
    tta: bool = False,
    progress: Progress | None = None,
    *,
    persist: bool = True,
) -> np.ndarray:
    """Calibrated probabilities for every face of ``data``, from the cache when possible.

    ``persist=False`` keeps the results in memory only: for data a user uploaded, nothing derived from
    it may reach the disk.
    """
    key = cache_key(classifier, data, tta)
    with _lock:
        if key in _memory:
            _memory.move_to_end(key)
            return _memory[key]
    path = cache_dir() / "eval" / f"{key}.npz"
    probs = _read_cached(path, len(data)) if persist else None
    if probs is None:
        parts = []
        for start in range(0, len(data), _CHUNK):
            parts.append(classifier.predict_proba(data.images[start : start + _CHUNK], tta=tta))
            if progress:
                progress(min(start + _CHUNK, len(data)), len(data))
        probs = np.concatenate(parts) if parts else np.zeros((0, len(classifier.class_names)), np.float32)
        if persist:
            _write_cached(path, probs)
    elif progress:
        progress(len(data), len(data))
    with _lock:
        _memory[key] = probs
        while len(_memory) > _MEMORY_ENTRIES:
            _memory.popitem(last=False)
    return probs


def evaluate(
    classifier: Classifier,
    data: SplitData,
    tta: bool = False,
    progress: Progress | None = None,
    *,
    persist: bool = True,
) -> Evaluation:
    """Top-k, per-class metrics, confusion matrix and calibration of ``classifier`` on one split."""
    probs = predict_split(classifier, data, tta, progress, persist=persist)
    return Evaluation(report(data.split, data.labels, probs), probs, data, tta)


def _read_cached(path: Path, n: int) -> np.ndarray | None:
    try:
        with np.load(path) as z:
            probs = z["probs"]
        return probs if len(probs) == n else None
    except (OSError, KeyError, ValueError):
        return None


def _write_cached(path: Path, probs: np.ndarray) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
        np.savez(tmp, probs=probs)
        os.replace(tmp, path)
    except OSError:
        pass  # caching is an optimisation only
