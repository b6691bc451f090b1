"""The model registry and model cards: which models exist, where their files are, what their cards say.

Kept apart from :mod:`fer.classifier` (which runs a model) so listing models, reading a card or
naming a file never loads a runtime; :mod:`fer.train.card` writes the cards this module reads.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from fer.labels import CLASS_NAMES


class ModelError(RuntimeError):
    """A model that cannot be used: missing or corrupt files, or a card that disagrees with the weights."""


def model_paths(stem: str | os.PathLike[str]) -> tuple[Path, Path, Path]:
    """``models/NAME`` (or ``NAME.keras`` / ``NAME.json``) -> (keras, tflite, card) paths."""
    p = Path(stem)
    if p.suffix in {".keras", ".json", ".tflite"}:
        p = p.with_suffix("")
    return p.with_suffix(".keras"), p.with_suffix(".tflite"), p.with_suffix(".json")


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_card(card_path: Path) -> dict:
    """Read and sanity-check a model card; raise :class:`ModelError` with what is wrong."""
    if not card_path.exists():
        raise ModelError(f"{card_path}: model card missing; retrain with `python -m fer.train` to write it")
    try:
        card = json.loads(card_path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{card_path}: unreadable model card ({exc})") from None
    if not isinstance(card, dict) or "class_names" not in card or "input" not in card:
        raise ModelError(f"{card_path}: not a model card (needs 'class_names' and 'input')")
    if not isinstance(card["class_names"], list) or tuple(card["class_names"]) != CLASS_NAMES:
        raise ModelError(
            f"{card_path}: classes {card['class_names']} differ from FER2013's {list(CLASS_NAMES)}; "
            "this app only serves FER2013-order models"
        )
    return card


#: The models the app serves (``FER_MODELS_DIR`` overrides the shipped folder, e.g. for a test's own
#: models); every ``NAME.json`` card here with its weights is a choice in the UI.
MODELS_DIR = Path(os.environ.get("FER_MODELS_DIR") or Path(__file__).resolve().parent.parent / "models")
#: The model served by default: the best on PublicTest (models/fer_cnn_v2.json; fer_cnn is v1).
DEFAULT_MODEL = "fer_cnn_v2"


def list_models(models_dir: Path = MODELS_DIR) -> list[str]:
    """Names of the models in ``models_dir`` that have a card, the default first."""
    names = sorted(p.stem for p in models_dir.glob("*.json") if not p.name.startswith("."))
    return sorted(names, key=lambda n: n != DEFAULT_MODEL)
