"""The model card's accuracy on both FER2013 forms users hold, and against the FER+ majority.

FER2013 exists as the original ``fer2013.csv`` (raw pixels) and as the image-folder copy (histogram-
equalised JPEGs). A model trained on one form loses points on the other, so the card reports both,
measured through :class:`fer.classifier.Classifier` with the card's own temperature and TTA default: the
figures ``python -m fer evaluate`` gives on each form. ``python -m fer.train.card_forms --model models/NAME``
adds the block to an existing card (no retraining: the card's other fields are kept).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

from fer.classifier import Classifier
from fer.data import DatasetError, default_data_dir, load_split
from fer.evaluation.metrics import reliability, top_k_accuracies
from fer.evaluation.photo_eval import evaluate_photos, open_photo_set
from fer.ferplus import split_votes
from fer.labels import SPLITS
from fer.locations import faces_dir

#: Where the original CSV lies beside the image folders in this project's data layout.
DEFAULT_CSV = "fer2013-csv/fer2013.csv.gz"
FORM_NAMES = {"original": "original pixels (fer2013.csv)", "equalised": "histogram-equalised (image folders)"}


def default_sources() -> dict[str, Path]:
    """The two forms' locations: ``FER2013_DIR`` (or ``../shared/fer2013``) and the CSV beside it."""
    folder = default_data_dir()
    if folder is None:
        return {}
    sources = {"equalised": folder}
    csv = folder.parent / DEFAULT_CSV
    if csv.exists():
        sources["original"] = csv
    return sources


def form_report(classifier: Classifier, data: Path, *, tta: bool | None = None) -> dict:
    """Top-1/2/3, ECE and per-class recall on PublicTest and PrivateTest of one form, plus the FER+ block."""
    out: dict = {"source": str(data)}
    for split in SPLITS[1:]:
        d = load_split(data, split)
        probs = classifier.predict_proba(d.images, tta=tta)
        topk = top_k_accuracies(d.labels, probs, range(1, 4))
        pred = probs.argmax(1)
        entry = {
            "n": len(d),
            "top1": topk[1],
            "top2": topk[2],
            "top3": topk[3],
            "ece": reliability(d.labels, probs).ece,
            "recall": {
                name: float((pred[d.labels == i] == i).mean()) if (d.labels == i).any() else None
                for i, name in enumerate(classifier.class_names)
            },
        }
        votes = split_votes(data, split)
        if votes is not None:
            majority = votes.majority()
            clear = majority >= 0
            top2 = np.argsort(-probs, axis=1)[:, :2]
            entry["ferplus"] = {
                "n": int(clear.sum()),
                "top1": float((pred[clear] == majority[clear]).mean()),
                "top2": float((top2[clear] == majority[clear, None]).any(1).mean()),
                "agree_with_fer2013": float((d.labels[clear] == majority[clear]).mean()),
            }
        out[split] = entry
    return out


def forms_block(classifier: Classifier, sources: dict[str, Path] | None = None) -> dict:
    """``{"original": {...}, "equalised": {...}}`` for the forms whose data is present."""
    sources = default_sources() if sources is None else sources
    return {form: {"name": FORM_NAMES[form], **form_report(classifier, path)} for form, path in sources.items()}


def real_faces_block(classifier: Classifier, folder: Path | None = None) -> dict | None:
    """The photo pipeline on the real face photos (``<shared>/faces/real``: neutral and happy), as
    ``python -m fer evaluate --photos`` reports it; ``None`` when the folder is absent. The set took part in
    choosing models (a validation set beside PublicTest), so it is not a held-out figure."""
    folder = folder or faces_dir() / "real"
    if not folder.is_dir():
        return None
    rep = evaluate_photos(open_photo_set(folder), classifier).report.to_dict()
    keep = ("n", "found_rate", "top1", "top2", "top1_found", "per_class", "confusion", "confusion_columns")
    return {"source": str(folder), **{k: rep[k] for k in keep}}


def add_to_card(stem: Path, sources: dict[str, Path] | None = None, *, forms: bool = True) -> dict:
    """Measure both forms (``forms``) and the real faces for the model at ``stem`` and write them into its
    card under ``"forms"`` and ``"real_faces"``."""
    classifier = Classifier.load(stem)
    card_path = stem.with_suffix(".json")
    card = json.loads(card_path.read_text())
    if forms:
        card["forms"] = forms_block(classifier, sources)
    real = real_faces_block(classifier)
    if real is not None:
        card["real_faces"] = real
    tmp = card_path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(card, indent=1, allow_nan=True))
    os.replace(tmp, card_path)
    return card.get("forms", {})


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m fer.train.card_forms", description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True, help="model stem, e.g. models/fer_cnn_v2")
    p.add_argument("--folder", default=None, help="FER2013 image-folder root (default: FER2013_DIR)")
    p.add_argument("--csv", default=None, help=f"fer2013.csv(.gz) (default: {DEFAULT_CSV} beside the folder)")
    p.add_argument("--real-only", action="store_true", help="only (re)measure the real faces block")
    args = p.parse_args(argv)
    sources = default_sources()
    if args.folder:
        sources["equalised"] = Path(args.folder)
    if args.csv:
        sources["original"] = Path(args.csv)
    if not sources and not args.real_only:
        raise SystemExit("no FER2013 data found: give --folder and/or --csv")
    try:
        forms = add_to_card(Path(args.model), sources, forms=not args.real_only)
    except DatasetError as exc:
        raise SystemExit(str(exc)) from None
    for form, rep in forms.items():
        print(
            f"{form:9s} PublicTest {rep['PublicTest']['top1']:.4f}  PrivateTest {rep['PrivateTest']['top1']:.4f}"
            f"  (top-2 {rep['PrivateTest']['top2']:.4f}, ECE {rep['PrivateTest']['ece']:.4f})"
        )


if __name__ == "__main__":
    main()
