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
from fer.locations import models_dir


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
MODELS_DIR = models_dir()
#: The model served by default: the one :func:`preferred_model` picks from the installed cards (a test
#: checks that the two agree, so a new model that reads faces better takes over by changing this name).
DEFAULT_MODEL = "fer_cnn_v4"
#: Models whose FER+ agreement is within this of the best count as reading faces equally well.
FERPLUS_TIE = 0.01


def _public_mean(card: dict, figure: str) -> float | None:
    """A PublicTest figure averaged over the FER2013 forms the card reports (``forms`` block)."""
    values = []
    for form in (card.get("forms") or {}).values():
        public = form.get("PublicTest") or {}
        value = (public.get("ferplus") or {}).get("top1") if figure == "ferplus" else public.get(figure)
        if value is None:
            return None
        values.append(float(value))
    return sum(values) / len(values) if values else None


def preferred_model(cards: dict[str, dict]) -> str | None:
    """The default-model rule, written once: read faces as people do first, FER2013's labels second.

    Among the models with both FER2013 forms on their card, those whose PublicTest agreement with the FER+
    annotators' majority (mean over the forms) is within :data:`FERPLUS_TIE` of the best; of these, the one
    with the best PublicTest top-1 on FER2013's labels (mean over the forms). PrivateTest never decides.
    """
    scored = {
        name: (_public_mean(card, "ferplus"), _public_mean(card, "top1"))
        for name, card in cards.items()
        if len(card.get("forms") or {}) >= 2
    }
    scored = {name: s for name, s in scored.items() if None not in s}
    if not scored:
        return None
    best_ferplus = max(f for f, _ in scored.values())
    close = {name: top1 for name, (f, top1) in scored.items() if f >= best_ferplus - FERPLUS_TIE}
    return max(close, key=close.get)


def list_models(models_dir: Path = MODELS_DIR) -> list[str]:
    """Names of the models in ``models_dir`` that have a card, the default first."""
    names = sorted(p.stem for p in models_dir.glob("*.json") if not p.name.startswith("."))
    return sorted(names, key=lambda n: n != DEFAULT_MODEL)
