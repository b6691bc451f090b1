"""The shared emotion classifier: loaded once, thread-safe, fast at batch 1 and batched.

Inference runs on a TensorFlow Lite flat buffer with dynamic-range int8 weights (XNNPack), measured here
at ~0.25 ms per face at batch 1 against ~4 ms for a ``tf.function`` call of the Keras model; the model
card's accuracy figures are computed through this same path.

This module never imports TensorFlow or Keras: it is the dashboard server's model, and TensorFlow in
that process makes the webcam page's pylibsrtp segfault. A model is served from its
``.tflite`` file only; making one from ``.keras`` is :mod:`fer.train.convert`'s job (``python -m fer convert``).
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from fer.labels import FACE_SIZE  # noqa: E402
from fer.probabilities import softmax  # noqa: E402
from fer.registry import (  # noqa: E402, F401 - re-exported: callers of the classifier find the registry here too
    DEFAULT_MODEL,
    MODELS_DIR,
    ModelError,
    file_sha256,
    list_models,
    model_paths,
    read_card,
)

#: Batch sizes an interpreter is prepared for; a batch is padded up to the next one (or chunked at the last).
_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


def convert_command(stem: str | os.PathLike[str]) -> str:
    """The exact shell command that writes ``stem``'s ``.tflite`` from its ``.keras`` (cwd-relative path)."""
    path = model_paths(stem)[0].with_suffix("").absolute()
    try:
        path = path.relative_to(Path.cwd())
    except ValueError:
        pass
    return f"python -m fer convert {path}"


@dataclass(frozen=True)
class _Slot:
    interpreter: object
    input_index: int
    output_index: int


class Classifier:
    """Emotion probabilities for 48x48 grey faces; one instance serves every thread and session."""

    def __init__(self, tflite_bytes: bytes, card: dict, keras_path: Path | None = None, name: str = "model"):
        self.card = card
        self.name = name
        self.keras_path = keras_path
        self.class_names: tuple[str, ...] = tuple(card["class_names"])
        self.temperature = float(card.get("temperature", 1.0))
        self.temperature_tta = float(card.get("temperature_tta", self.temperature))
        self.default_tta = bool(card.get("default_tta", False))
        self._tflite = tflite_bytes
        self.sha256 = hashlib.sha256(tflite_bytes).hexdigest()
        self._local = threading.local()
        self._check_against_card()
        self.logits(np.zeros((1, FACE_SIZE, FACE_SIZE), np.uint8))  # warm-up: allocate and run once

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, stem: str | os.PathLike[str]) -> Classifier:
        """Load ``models/NAME``'s ``.tflite`` and card; a missing ``.tflite`` is an error, never converted here."""
        keras_path, tflite_path, card_path = model_paths(stem)
        card = read_card(card_path)
        if not tflite_path.exists():
            if keras_path.exists():
                raise ModelError(
                    f"{tflite_path.name} is missing from {tflite_path.parent}: the app serves TensorFlow Lite "
                    f"files only and never converts. Create it from {keras_path.name} with "
                    f"`{convert_command(stem)}`"
                )
            raise ModelError(f"{keras_path}: model file missing; train one with `python -m fer.train`")
        data = tflite_path.read_bytes()
        if not data:
            raise ModelError(f"{tflite_path}: the file is empty; recreate it with `{convert_command(stem)}`")
        classifier = cls(data, card, keras_path if keras_path.exists() else None, name=keras_path.stem)
        expected = card.get("runtime", {}).get("files", {}).get("tflite", {}).get("sha256")
        if expected and classifier.sha256 != expected:
            raise ModelError(
                f"{tflite_path}: not the weights its card describes (sha256 differs); recreate it from "
                f"{keras_path.name} with `{convert_command(stem)}`, or retrain to write a matching card"
            )
        return classifier

    def _check_against_card(self) -> None:
        slot = self._slot(1)
        interp = slot.interpreter
        in_shape = tuple(int(v) for v in interp.get_input_details()[0]["shape"][1:])
        out_dim = int(interp.get_output_details()[0]["shape"][-1])
        try:
            want = tuple(int(v) for v in self.card["input"].get("shape", (FACE_SIZE, FACE_SIZE, 1)))
        except (TypeError, ValueError, AttributeError):
            raise ModelError(f"{self.name}: the card's input shape is not a list of sizes") from None
        if in_shape != want:
            raise ModelError(f"{self.name}: the weights take input {in_shape}, the card says {want}")
        if out_dim != len(self.class_names):
            raise ModelError(
                f"{self.name}: the weights give {out_dim} outputs, the card lists {len(self.class_names)} classes"
            )

    def _slot(self, batch: int) -> _Slot:
        """This thread's interpreter for one batch size (TFLite interpreters are not thread-safe)."""
        slots: dict[int, _Slot] | None = getattr(self._local, "slots", None)
        if slots is None:
            slots = self._local.slots = {}
        slot = slots.get(batch)
        if slot is None:
            Interpreter = _interpreter_class()  # noqa: N806
            try:
                interp = Interpreter(model_content=self._tflite, num_threads=min(2, os.cpu_count() or 1))
                inp = interp.get_input_details()[0]
                interp.resize_tensor_input(inp["index"], [batch, *inp["shape"][1:]])
                interp.allocate_tensors()
            except (ValueError, RuntimeError) as exc:
                raise ModelError(f"{self.name}: corrupt TFLite model ({exc})") from None
            slot = _Slot(interp, inp["index"], interp.get_output_details()[0]["index"])
            slots[batch] = slot
        return slot

    # ------------------------------------------------------------------ inference
    def logits(self, faces: np.ndarray, tta: bool = False) -> np.ndarray:
        """Raw logits [N,7] for uint8 faces [N,48,48]; with ``tta`` averaged with the mirrored faces."""
        faces = np.asarray(faces)
        if faces.ndim == 2:
            faces = faces[None]
        if faces.shape[1:3] != (FACE_SIZE, FACE_SIZE):
            raise ValueError(f"faces must be [N,{FACE_SIZE},{FACE_SIZE}], got {faces.shape}")
        x = faces.reshape(-1, FACE_SIZE, FACE_SIZE, 1).astype(np.float32)
        out = self._run(x)
        if tta:
            out = (out + self._run(x[:, :, ::-1, :])) / 2.0
        return out

    def _run(self, x: np.ndarray) -> np.ndarray:
        n = len(x)
        out = np.empty((n, len(self.class_names)), np.float32)
        start = 0
        while start < n:
            chunk = x[start : start + _BUCKETS[-1]]
            bucket = next(b for b in _BUCKETS if b >= len(chunk))
            if bucket != len(chunk):
                chunk = np.concatenate([chunk, np.zeros((bucket - len(chunk), *chunk.shape[1:]), np.float32)])
            slot = self._slot(bucket)
            slot.interpreter.set_tensor(slot.input_index, np.ascontiguousarray(chunk))
            slot.interpreter.invoke()
            m = min(bucket, n - start)
            out[start : start + m] = slot.interpreter.get_tensor(slot.output_index)[:m]
            start += m
        return out

    def tta_for(self, tta: bool | None) -> bool:
        """Whether mirror TTA is used when ``tta`` is asked for: ``None`` means this model card's choice."""
        return self.default_tta if tta is None else bool(tta)

    def predict_proba(self, faces: np.ndarray, tta: bool | None = None) -> np.ndarray:
        """Calibrated probabilities [N,7]: ``softmax(logits / T)`` with the card's temperature."""
        tta = self.tta_for(tta)
        temperature = self.temperature_tta if tta else self.temperature
        return softmax(self.logits(faces, tta), temperature)


def _interpreter_class() -> type:
    """LiteRT's interpreter. No fallback to ``tf.lite`` (deprecated there): TensorFlow must stay out of the app."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as exc:
        raise ModelError(f"LiteRT, the TFLite runtime, is missing: `pip install ai-edge-litert` ({exc})") from None
    return Interpreter
