"""Turns a finished training run into the shipped model: weights, TFLite runtime file and model card.

The card's accuracy figures are measured through :class:`fer.classifier.Classifier`, the exact path the
app serves, so what a user reads is what the app does. The temperature and the TTA default are chosen
on PublicTest only; PrivateTest is reported, never tuned on.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import keras
import numpy as np

from fer.classifier import Classifier, file_sha256
from fer.data import load_split
from fer.evaluation.metrics import fit_temperature, reliability, report, softmax
from fer.labels import CLASS_NAMES, FACE_SIZE, SPLITS
from fer.train.convert import keras_to_tflite
from fer.train.model import as_recipe, build_model, count_macs

INPUT_SPEC = {
    "shape": [FACE_SIZE, FACE_SIZE, 1],
    "dtype": "float32",
    "range": [0, 255],
    "color": "grayscale (OpenCV RGB2GRAY weights)",
    "resize": "to 48x48 with cv2.INTER_AREA (INTER_LINEAR when enlarging)",
    "normalisation": "none outside the model; its first layer rescales by 1/255",
    "framing": "a square face box like FER2013's registered crops (see fer.detection margin)",
}


def _split_report(split: str, logits: np.ndarray, labels: np.ndarray, temperature: float) -> dict:
    rep = report(split, labels, softmax(logits, temperature)).to_dict()
    rep["ece_before"] = reliability(labels, softmax(logits, 1.0)).ece
    return rep


def _float32_copy(trained: keras.Model, state: dict, name: str) -> keras.Model:
    """The trained network rebuilt in float32: a mixed-bfloat16 run must not leak bf16 casts into the
    shipped ``.keras``/``.tflite`` (LiteRT has no bf16 kernels)."""
    keras.mixed_precision.set_global_policy("float32")
    recipe = state["recipe"]
    model = build_model(as_recipe(recipe), name=name)
    model.set_weights(trained.get_weights())
    return model


def finalize(out: Path, ckpt_dir: Path, data: str, eval_limit: int = 0) -> dict:
    """Write ``out.keras``, ``out.tflite`` and ``out.json`` from the best checkpoint in ``ckpt_dir``."""
    state = json.loads((ckpt_dir / "state.json").read_text())
    best = _float32_copy(keras.models.load_model(ckpt_dir / "best.keras", compile=False), state, out.name)
    keras_path, tflite_path, card_path = out.with_suffix(".keras"), out.with_suffix(".tflite"), out.with_suffix(".json")
    best.save(keras_path)
    tflite = keras_to_tflite(best)
    tflite_path.write_bytes(tflite)

    card: dict = {
        "name": out.name,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "class_names": list(CLASS_NAMES),
        "input": INPUT_SPEC,
        "architecture": {
            "description": "VGG-style CNN: conv-BN-ReLU pairs per block, max-pooling, dense, logits",
            "recipe": state["recipe"],
            "parameters": int(best.count_params()),
            "macs": count_macs(best),
        },
        "runtime": {
            "inference": "TensorFlow Lite, dynamic-range int8 weights (XNNPack)",
            "files": {
                p.suffix[1:]: {"file": p.name, "bytes": p.stat().st_size, "sha256": file_sha256(p)}
                for p in (keras_path, tflite_path)
            },
        },
        "temperature": 1.0,
    }
    classifier = Classifier(tflite, card, keras_path, name=out.name)

    splits = {s: load_split(data, s).subset(eval_limit) for s in SPLITS[1:]}
    labels, logits, float_top1 = {}, {}, {}
    for s, d in splits.items():
        labels[s] = d.labels
        logits[s] = {tta: classifier.logits(d.images, tta=tta) for tta in (False, True)}
        x = d.images.reshape(-1, FACE_SIZE, FACE_SIZE, 1).astype(np.float32)
        float_top1[s] = float((best.predict(x, batch_size=512, verbose=0).argmax(1) == labels[s]).mean())

    # Chosen on PublicTest only.
    t_plain = fit_temperature(logits["PublicTest"][False], labels["PublicTest"])
    t_tta = fit_temperature(logits["PublicTest"][True], labels["PublicTest"])
    evaluation = {}
    for s in splits:
        evaluation[s] = {
            "plain": _split_report(s, logits[s][False], labels[s], t_plain),
            "tta": _split_report(s, logits[s][True], labels[s], t_tta),
            "float_keras_top1": float_top1[s],
        }
    default_tta = evaluation["PublicTest"]["tta"]["top1"] > evaluation["PublicTest"]["plain"]["top1"]

    card.update(
        temperature=t_plain,
        temperature_tta=t_tta,
        default_tta=bool(default_tta),
        training={
            "command": state["command"],
            "epochs": state["epoch"],
            "best_epoch": state.get("best_epoch"),
            "selection": "checkpoint with the best PublicTest top-1; temperature and TTA default fitted on "
            "PublicTest; PrivateTest only reported",
            "batch_size": state["recipe"]["batch_size"],
            "precision": state["precision"],
            "seed": state["seed"],
            "training_faces_limit": state.get("limit", 0),
            "wall_time_s": round(state.get("wall_time_s", 0.0), 1),
            "hardware": state["hardware"],
            "started": state.get("started"),
            "data": {
                "source": "FER2013 (" + ("CSV" if Path(data).is_file() else "image folders") + ")",
                "fingerprints": {
                    **state.get("data_fingerprint", {}),
                    **{s: d.fingerprint for s, d in splits.items()},
                },
                "eval_limit": eval_limit,
            },
        },
        evaluation=evaluation,
    )
    from fer.train.card_forms import forms_block, real_faces_block  # with the card's final temperature

    if not eval_limit:  # full splits only: a smoke run's card stays quick
        served = Classifier(tflite, card, keras_path, name=out.name)
        card["forms"] = forms_block(served)
        real = real_faces_block(served)
        if real is not None:
            card["real_faces"] = real
    tmp = card_path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(card, indent=1, allow_nan=True))
    os.replace(tmp, card_path)
    return card
