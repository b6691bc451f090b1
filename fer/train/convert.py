"""``.keras`` -> ``.tflite``: the one place a model is converted, for the CLI and training only.

The dashboard server must never import this module. TensorFlow's libraries carry their own BoringSSL
symbols; loaded into the server process they win the symbol lookup of pylibsrtp (the webcam page's
SRTP, built on OpenSSL), which then crashes the whole server on import. So the app serves
``.tflite`` files only and, when one is missing, tells the user to run ``python -m fer convert``.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from fer.classifier import Classifier, ModelError, file_sha256, model_paths, read_card


def load_keras(path: Path):  # noqa: ANN201 - keras.Model, imported lazily
    """The float Keras model at ``path`` (no optimizer state), or :class:`ModelError` saying why not."""
    import keras

    try:
        return keras.models.load_model(path, compile=False)
    except Exception as exc:  # Keras raises many types for damaged zips/configs
        raise ModelError(f"{path}: cannot load the Keras model ({type(exc).__name__}: {exc})") from None


def keras_to_tflite(model) -> bytes:  # noqa: ANN001 - keras.Model, imported lazily
    """Convert a Keras model to a TFLite flat buffer with dynamic-range int8 weights."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    with contextlib.redirect_stdout(sys.stderr):  # Keras' export prints its endpoints: keep stdout for --json
        return converter.convert()


@dataclass(frozen=True)
class Converted:
    """What ``convert`` wrote: the ``.tflite`` file, its hash, and whether the card had to follow."""

    tflite_path: Path
    sha256: str
    size: int
    card_updated: bool


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def convert(stem: str | os.PathLike[str]) -> Converted:
    """Write ``stem.tflite`` from ``stem.keras``, checked against ``stem.json``.

    The ``.keras`` file must be the one its card describes (same sha256, when the card records it), and
    the converted model must fit the card's input and classes. The conversion is deterministic for one
    TensorFlow version, so it normally reproduces the card's ``.tflite`` byte for byte; if another
    TensorFlow writes different bytes, the card's ``runtime.files.tflite`` entry is updated to them and
    marked as converted (its accuracy figures were measured on the original file).
    """
    keras_path, tflite_path, card_path = model_paths(stem)
    card = read_card(card_path)
    if not keras_path.exists():
        raise ModelError(f"{keras_path}: model file missing, nothing to convert; train one with `python -m fer.train`")
    files = card.get("runtime", {}).get("files", {})
    expected_keras = files.get("keras", {}).get("sha256")
    if expected_keras and file_sha256(keras_path) != expected_keras:
        raise ModelError(f"{keras_path}: not the weights its card describes (sha256 differs); retrain the model")
    data = keras_to_tflite(load_keras(keras_path))
    classifier = Classifier(data, card, keras_path, name=keras_path.stem)  # checks input shape and classes
    _write_atomically(tflite_path, data)
    tflite_entry = files.get("tflite", {})
    card_updated = bool(tflite_entry.get("sha256")) and tflite_entry["sha256"] != classifier.sha256
    if card_updated:
        import tensorflow as tf

        tflite_entry.update(file=tflite_path.name, bytes=len(data), sha256=classifier.sha256)
        card["runtime"]["converted"] = {
            "by": "python -m fer convert",
            "tensorflow": tf.__version__,
            "note": "the .tflite was rebuilt from the .keras; the card's figures were measured on the original",
        }
        _write_atomically(card_path, json.dumps(card, indent=1, allow_nan=True).encode())
    return Converted(tflite_path, classifier.sha256, len(data), card_updated)
