"""Training targets: the FER2013 label, the FER+ annotators' votes and teacher models' outputs, mixed.

Why soft targets: FER2013's labels disagree with the FER+ majority on a third of the faces, and a warm-started
fine-tune that sees one-hot labels alone drifts back towards reading calm real faces as angry or sad; the
votes and a teacher's calibrated output keep what the teacher reads in real faces.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import keras
import numpy as np

from fer.data import SplitData, cache_dir
from fer.labels import FACE_SIZE, NUM_CLASSES
from fer.probabilities import softmax
from fer.train.model import Recipe


def mixed_targets(
    labels: np.ndarray,
    recipe: Recipe,
    votes: np.ndarray | None = None,
    has_votes: np.ndarray | None = None,
    teacher: np.ndarray | None = None,
) -> np.ndarray:
    """``ferplus_weight`` x vote distribution + ``teacher_weight`` x teacher output + the rest x one-hot label.

    Faces without FER+ votes give the votes' share to the label.
    """
    y = keras.utils.to_categorical(labels, NUM_CLASSES).astype(np.float32)
    out = y.copy()
    if teacher is not None and recipe.teacher_weight > 0:
        out += recipe.teacher_weight * (teacher.astype(np.float32) - y)
    if votes is not None and has_votes is not None and recipe.ferplus_weight > 0:
        out += np.where(has_votes[:, None], recipe.ferplus_weight * (votes.astype(np.float32) - y), 0.0)
    return out.astype(np.float32)


def teacher_probs(stems: tuple[str, ...], data: SplitData) -> np.ndarray:
    """Mean calibrated probabilities of the teacher models (``models/NAME`` stems) on ``data``'s faces.

    Computed once per (teacher weights, faces) and cached: a fine-tune restarts or resumes without paying
    for the teachers' passes again.
    """
    stems = tuple(str(s) for s in stems)
    digests = [hashlib.sha256(Path(s).with_suffix(".keras").read_bytes()).hexdigest()[:12] for s in stems]
    key = hashlib.sha256(f"{digests}|{data.fingerprint}|{data.split}".encode()).hexdigest()[:16]
    cache = cache_dir() / f"teacher-{key}.npy"
    if cache.exists():
        return np.load(cache)
    x = data.images.reshape(-1, FACE_SIZE, FACE_SIZE, 1).astype(np.float32)
    total = np.zeros((len(x), NUM_CLASSES), np.float64)
    for stem in stems:
        model = keras.models.load_model(Path(stem).with_suffix(".keras"), compile=False)
        card = json.loads(Path(stem).with_suffix(".json").read_text())
        logits = model.predict(x, batch_size=512, verbose=0)
        total += softmax(logits, float(card.get("temperature", 1.0)))
    probs = (total / len(stems)).astype(np.float32)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.save(cache, probs)
    return probs
