"""Formatting for the pages: numbers, face tables, notes on how faces were found, model-card figures.

The photo engine and its exports (analysis of uploaded bytes, JSON/CSV) live in :mod:`fer.results`,
shared with ``python -m fer predict``; this module only turns results into what a page shows.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import cv2
import numpy as np

from fer.faces import FaceResult
from fer.labels import CLASS_NAMES
from fer.options import Options
from fer.results import ImageResult

#: What the page says about faces that the plain detector did not find (never silent).
SOURCE_NOTES = {
    "padded": "found only on a copy of the photo with a border added, not in the photo itself",
    "whole-image": "no face detected, so the whole image was read as one face",
}


HINT = "Check the box: if it is not a face, ignore this result."


def settings_note(model: str, tta: bool, options: Options) -> str:
    """The settings that shaped a result, in one line (every result says what made it)."""
    d = options.detector
    return (
        f"Model `{model}`, mirror TTA {'on' if tta else 'off'}, detector min neighbours {d.min_neighbors}, "
        f"min face {d.min_size} px, margin {d.margin:g}"
    )


def source_note(result: ImageResult) -> str | None:
    """One sentence on faces the tight-crop fallback found (None when the detector found them all)."""
    if result.whole_face:
        return "The whole image was read as one face, as asked (no detection)."
    sources = {f.source for f in result.faces}
    if "whole-image" in sources:
        return f"No face was detected, so the whole image was read as one face (it looks like a face crop). {HINT}"
    if "padded" in sources:
        # what happened, not a guess at why (a small face mid-frame was once called "cropped tightly")
        return (
            "No face was detected in the photo as it is; a second try on a copy with a border added around it "
            "(its edge pixels repeated, a retry meant for photos cropped close to a face) found "
            f"{'this one' if len(result.faces) == 1 else 'these'}. {HINT}"
        )
    return None


#: Overall-mood shares closer than this are called a near tie.
NEAR_TIE = 0.05


def mood_hint(faces: list[FaceResult], mood: np.ndarray) -> str | None:
    """A sentence when the faces disagree, so a mood of "angry 25.6 %" over "sad 24.3 %" is not read as one
    angry crowd; None when they all read the same emotion."""
    counts = Counter(face.label for face in faces)
    if len(faces) < 2 or len(counts) < 2:
        return None
    spread = ", ".join(f"{n} {label}" for label, n in counts.most_common())
    first, second = (int(i) for i in np.argsort(mood)[::-1][:2])
    hint = f"The faces disagree ({spread})"
    if mood[first] - mood[second] < NEAR_TIE:
        hint += f": {CLASS_NAMES[first]} and {CLASS_NAMES[second]} are almost tied, so the mood is mixed rather than"
        hint += f" {CLASS_NAMES[first]}"
    return hint + "."


def face_caption(face: FaceResult) -> str:
    """Short note after a face's heading when the fallback found it, else empty."""
    note = SOURCE_NOTES.get(face.source)
    return f" · {note}" if note else ""


def uncertain_note(face: FaceResult) -> str:
    """A visible marker when the top two emotions are near-tied, naming the runner-up; else empty."""
    if not face.uncertain:
        return ""
    (_, _), (second, p2) = face.top(2)
    return f" · :orange-badge[uncertain: {second} {p2:.0%} is close]"


def enlarge(face: np.ndarray, size: int = 144) -> np.ndarray:
    """A 48x48 face scaled up with nearest-neighbour, so the pixels the model saw stay visible."""
    return cv2.resize(face, (size, size), interpolation=cv2.INTER_NEAREST)


def faces_table(faces: list[FaceResult]) -> list[dict]:
    """Rows for a compact table of many faces: number, box, label, confidence, top-3."""
    return [
        {
            "face": i,
            "box (x, y, w, h)": ", ".join(str(int(v)) for v in f.box),
            "emotion": f.label,
            "confidence": f.confidence,
            "top-3": ", ".join(f"{n} {p:.0%}" for n, p in f.top(3)),
            "uncertain": f.uncertain,
        }
        for i, f in enumerate(faces, 1)
    ]


# ----------------------------------------------------------------------------- formatting
def pct(value: float, digits: int = 2) -> str:
    """Accuracy as the CLI prints it (``python -m fer evaluate``: two decimals), e.g. ``66.35%``."""
    return f"{value:.{digits}%}"


def duration(seconds: float) -> str:
    """Seconds as '1 h 05 min', '5 min 54 s' or '42 s'."""
    s = int(round(seconds))
    if s >= 3600:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    if s >= 60:
        return f"{s // 60} min {s % 60} s"
    return f"{s} s"


def millions(value: float) -> str:
    """Large counts in millions, e.g. 1767207 -> '1.77 M'."""
    return f"{value / 1e6:.2f} M"


# ----------------------------------------------------------------------------- model card
#: The names of FER2013's two pixel forms, as model cards' ``forms`` block keys them.
FORM_NAMES = {"equalised": "image folders (histogram-equalised)", "original": "original fer2013.csv pixels"}


def data_form(source: str | Path | None) -> str:
    """Which FER2013 form a data source holds: a CSV file (or upload) is ``original``, folders ``equalised``."""
    if source is None:
        return "original"
    text = str(source).lower()
    return "original" if text.endswith((".csv", ".gz", ".tgz", ".tar")) else "equalised"


def trained_form(card: dict | None) -> str:
    """The FER2013 form a card's ``evaluation`` block was measured on (the form the model was trained on)."""
    source = str(((card or {}).get("training") or {}).get("data", {}).get("source", ""))
    return "original" if "CSV" in source else "equalised"


def stored_evaluation(card: dict | None, split: str, tta: bool, form: str | None = None) -> dict | None:
    """The figures a model card stores for ``split`` in one TTA mode on one FER2013 form (None when it has none).

    ``form=None``: the form the model was trained on. The ``evaluation`` block holds both TTA modes on that
    form; the ``forms`` block holds the served TTA mode on every form.
    """
    card = card or {}
    form = form or trained_form(card)
    entry = None
    if form == trained_form(card):
        try:
            entry = card["evaluation"][split]["tta" if tta else "plain"]
        except (KeyError, TypeError):
            entry = None
    if entry is None and bool(tta) == bool(card.get("default_tta", False)):
        entry = ((card.get("forms") or {}).get(form) or {}).get(split)
    return entry if isinstance(entry, dict) and "top1" in entry else None
