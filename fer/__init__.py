"""FER2013 facial-expression engine: face detection, emotion classification, evaluation — no UI.

One call from a notebook or a script::

    import fer

    for face in fer.analyze("group.jpg"):          # a path, encoded bytes or an RGB/grey array
        print(face.box, face.label, f"{face.confidence:.0%}")

``fer.load_model(name)`` gives the shared classifier (the app's default model unless named). Every
choice the app's sidebar and the CLI flags offer is a field of ``fer.options.Options``:
``fer.analyze(path, Options(detector=DetectorSettings(min_size=40), tta=True))``. The modules hold
the rest: ``fer.faces`` (the face type, numbering and mood), ``fer.pipeline`` (detection +
classification), ``fer.evaluation.evaluate`` (accuracy on FER2013), ``fer.evaluation.compare`` (two models
side by side).
Imports are lazy so ``import fer`` stays instant.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover - typing only
    import numpy as np

    from fer.classifier import Classifier
    from fer.faces import FaceResult
    from fer.options import Options

__all__ = ["analyze", "load_model"]


@functools.cache
def load_model(name: str | os.PathLike[str] | None = None) -> Classifier:
    """The classifier for a model stem (``models/NAME``) or name; the default model when ``None``.

    Loaded once per name and shared (the classifier is thread-safe).
    """
    from fer.classifier import DEFAULT_MODEL, MODELS_DIR, Classifier

    if name is None or str(name) == DEFAULT_MODEL:
        return _load_default()
    stem = Path(name)
    return Classifier.load(stem if stem.with_suffix(".json").is_file() else MODELS_DIR / stem.name)


@functools.cache
def _load_default() -> Classifier:
    from fer.classifier import DEFAULT_MODEL, MODELS_DIR, Classifier

    return Classifier.load(MODELS_DIR / DEFAULT_MODEL)


def analyze(
    image: str | os.PathLike[str] | bytes | np.ndarray,
    options: Options | None = None,
    *,
    model: str | os.PathLike[str] | None = None,
    tta: bool | None = None,
) -> list[FaceResult]:
    """Every face in ``image`` with its seven emotion probabilities, numbered left to right.

    ``image``: a file path, the bytes of an image file, or an RGB / greyscale array. ``options``: the
    model, detector settings, TTA and fallback (default: the app's defaults); ``model`` and ``tta``
    (mirror test-time augmentation; default: the model card's choice) override its fields.
    """
    from dataclasses import replace

    from fer.imageio import decode_image, to_rgb_uint8
    from fer.options import Options
    from fer.pipeline import analyze as analyze_rgb

    options = options or Options()
    if model is not None:
        options = replace(options, model=str(model))
    if tta is not None:
        options = replace(options, tta=tta)

    if isinstance(image, (str, os.PathLike)):
        path = Path(image)
        rgb = decode_image(path.read_bytes(), path.name)
    elif isinstance(image, (bytes, bytearray, memoryview)):
        rgb = decode_image(bytes(image), "image")
    else:
        rgb = to_rgb_uint8(image)
    classifier = load_model(options.model)
    return analyze_rgb(
        rgb, classifier, options.detector, fallback=options.fallback, tta=options.resolve_tta(classifier)
    )
