"""Robustness curves: a model's top-1 on one split while its faces are degraded (:mod:`fer.evaluation.degrade`).

Every kind at every level is a full pass of the model, so the curves use a fixed, seeded sample of the
split (stratified by label, :data:`SAMPLE` faces) and plain prediction (no mirror TTA), which keeps all
of it within about a minute on two cores; the "none" level is computed once and shared by all kinds.
Results are cached in memory and on disk (``<cache>/eval/robust-*.json``) under the same kind of key as
:mod:`fer.evaluation.evaluate`'s probabilities, plus the degradation spec's version.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from fer.classifier import Classifier
from fer.data import SplitData, cache_dir
from fer.evaluation.degrade import KINDS
from fer.evaluation.evaluate import Progress, runtime_versions

SAMPLE = 800  # faces per pass; the standard error of a top-1 near 70% is then about 1.6 pp
SEED = 2013
SPEC_VERSION = 1  # bump when a degradation, its levels or the sampling change
_memory: OrderedDict[str, list[Curve]] = OrderedDict()
_lock = threading.Lock()


@dataclass(frozen=True)
class Curve:
    """Top-1 of one kind of degradation at each of its levels (``levels[0]`` is "none")."""

    kind: str
    title: str
    unit: str
    levels: list
    labels: list[str]
    top1: list[float]
    n: int

    def to_dict(self) -> dict:
        return asdict(self)


def sample_indices(labels: np.ndarray, size: int = SAMPLE, seed: int = SEED) -> np.ndarray:
    """A seeded sample of ``size`` faces with each label in its share of the split, in split order.

    The whole split when it has no more than ``size`` faces.
    """
    n = len(labels)
    if n <= size:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    chosen = []
    for label in np.unique(labels):
        idx = np.flatnonzero(labels == label)
        take = max(1, round(size * len(idx) / n))
        chosen.append(rng.choice(idx, size=min(take, len(idx)), replace=False))
    return np.sort(np.concatenate(chosen))


def robustness_key(classifier: Classifier, data: SplitData, size: int = SAMPLE) -> str:
    """The model's bytes and temperature, the data, the split, the sample, the spec and the runtime."""
    raw = (
        f"{classifier.sha256}|{classifier.temperature}|{data.fingerprint}|{data.split}|{len(data)}|{size}|"
        f"{SEED}|{SPEC_VERSION}|{runtime_versions()}"
    )
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def passes() -> int:
    """Model passes over the sample: the shared "none" level plus every other level of every kind."""
    return 1 + sum(len(k.levels) - 1 for k in KINDS)


def robustness(
    classifier: Classifier,
    data: SplitData,
    progress: Progress | None = None,
    *,
    size: int | None = None,
    persist: bool = True,
) -> list[Curve]:
    """One :class:`Curve` per kind in :data:`fer.evaluation.degrade.KINDS`, from the cache when possible.

    ``progress(done, total)`` counts model passes; ``size``: faces per pass (default :data:`SAMPLE`).
    ``persist=False``: memory only (uploaded data).
    """
    size = SAMPLE if size is None else size
    key = robustness_key(classifier, data, size)
    with _lock:
        curves = _memory.get(key)
    if curves is not None:
        if progress:
            progress(passes(), passes())
        return curves
    path = cache_dir() / "eval" / f"robust-{key}.json"
    curves = _read_cached(path) if persist else None
    if curves is None:
        curves = _compute(classifier, data, progress, size)
        if persist:
            _write_cached(path, curves)
    elif progress:
        progress(passes(), passes())
    with _lock:
        _memory[key] = curves
        while len(_memory) > 8:
            _memory.popitem(last=False)
    return curves


def _compute(classifier: Classifier, data: SplitData, progress: Progress | None, size: int) -> list[Curve]:
    idx = sample_indices(data.labels, size)
    faces, labels = data.images[idx], data.labels[idx]
    total, done = passes(), 0

    def top1(batch: np.ndarray) -> float:
        nonlocal done
        hit = float((classifier.predict_proba(batch, tta=False).argmax(1) == labels).mean()) if len(batch) else 0.0
        done += 1
        if progress:
            progress(done, total)
        return hit

    clean = top1(faces)
    curves = []
    for k in KINDS:
        scores = [clean] + [top1(k.apply(faces, level)) for level in k.levels[1:]]
        curves.append(Curve(k.name, k.title, k.unit, list(k.levels), [k.label(v) for v in k.levels], scores, len(idx)))
    return curves


def _read_cached(path: Path) -> list[Curve] | None:
    try:
        with open(path, encoding="utf-8") as fh:
            return [Curve(**c) for c in json.load(fh)]
    except (OSError, ValueError, TypeError):
        return None


def _write_cached(path: Path, curves: list[Curve]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps([c.to_dict() for c in curves]))
        os.replace(tmp, path)
    except OSError:
        pass  # caching is an optimisation only
