"""``python -m fer predict | evaluate | bench``: the engine without Streamlit, a stable interface.

``predict --json`` prints ``[{"path": …, "faces": [{"box": [x, y, w, h], "label": …, "confidence": …,
"probs": {…}, "source": …, "detection_score": …}], "status": …, "size": [w, h]}]`` (built by
:mod:`fer.results`, as the Upload page's export); boxes are in the photo's own pixels. An unreadable file
gets ``"error": "…"`` and an empty face list instead of aborting. ``evaluate --photos DIR`` evaluates the
whole photo pipeline on the user's own labelled photos (:mod:`fer.photo_eval`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from fer.classifier import DEFAULT_MODEL, MODELS_DIR, Classifier, ModelError
from fer.data import DatasetError, default_data_dir, load_split
from fer.detection import DetectorSettings
from fer.labels import CLASS_NAMES, SPLITS


def _add_model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default=str(MODELS_DIR / DEFAULT_MODEL), help="model stem (models/NAME)")
    tta = p.add_mutually_exclusive_group()
    tta.add_argument("--tta", dest="tta", action="store_true", default=None, help="average with the mirrored face")
    tta.add_argument("--no-tta", dest="tta", action="store_false")


def _add_detector_args(p: argparse.ArgumentParser) -> None:
    defaults = DetectorSettings()
    p.add_argument("--scale-factor", type=float, default=defaults.scale_factor)
    p.add_argument("--min-neighbors", type=int, default=defaults.min_neighbors)
    p.add_argument("--min-size", type=int, default=defaults.min_size, help="smallest face in pixels")
    p.add_argument(
        "--min-face-fraction",
        type=float,
        default=defaults.min_face_fraction,
        help="smallest face as a fraction of the photo's short side (the larger minimum applies)",
    )
    p.add_argument(
        "--margin", type=float, default=defaults.margin, help="fraction of the face side added around each box"
    )
    p.add_argument(
        "--no-fallback",
        dest="fallback",
        action="store_false",
        help="no padded retry / whole-image reading for photos where no face is detected",
    )


def detector_settings(args: argparse.Namespace) -> DetectorSettings:
    """The detector settings the command line asks for (defaults: the measured best)."""
    return DetectorSettings(
        scale_factor=args.scale_factor,
        min_neighbors=args.min_neighbors,
        min_size=args.min_size,
        min_face_fraction=args.min_face_fraction,
        margin=args.margin,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m fer", description="FER2013 facial-expression engine")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("predict", help="emotions of every face in images")
    p.add_argument("images", nargs="+", type=Path)
    p.add_argument("--json", action="store_true", help="one JSON document on stdout")
    p.add_argument("--whole-face", action="store_true", help="treat each whole image as one face (48x48 crops)")
    _add_detector_args(p)
    _add_model_args(p)

    p = sub.add_parser("evaluate", help="accuracy and calibration on a FER2013 split, or on your labelled photos")
    p.add_argument("--data", type=Path, default=default_data_dir(), help="fer2013.csv or image-folder root")
    p.add_argument("--split", choices=SPLITS, default="PrivateTest")
    p.add_argument(
        "--photos",
        type=Path,
        help="a folder (or .zip) with one sub-folder per emotion (angry, anger, happiness, …): runs the full "
        "photo pipeline (detection, fallback, classifier) on every photo instead of a FER2013 split",
    )
    p.add_argument("--json", action="store_true")
    _add_detector_args(p)
    _add_model_args(p)

    p = sub.add_parser("bench", help="speed figures of the classifier and the pipeline")
    p.add_argument("--json", action="store_true")
    p.add_argument("--data", type=Path, default=default_data_dir())
    p.add_argument("--model", default=str(MODELS_DIR / DEFAULT_MODEL))
    return parser


def cmd_predict(args: argparse.Namespace, classifier: Classifier) -> int:
    from fer.results import analyze_file

    settings = detector_settings(args)
    entries = [
        analyze_file(
            path, classifier, settings, whole_face=args.whole_face, tta=args.tta, fallback=args.fallback
        ).to_dict()
        for path in args.images
    ]
    if args.json:
        json.dump(entries, sys.stdout, indent=2)
        print()
    else:
        for entry in entries:
            if "error" in entry:
                print(f"{entry['path']}: ERROR {entry['error']}")
                continue
            print(f"{entry['path']}: {len(entry['faces'])} face(s)")
            for i, f in enumerate(entry["faces"], 1):
                top = sorted(f["probs"].items(), key=lambda kv: -kv[1])[:3]
                how = "" if f["source"] == "detector" else f"  [{f['source']}]"
                print(
                    f"  #{i} box={f['box']} {f['label']} {f['confidence']:.1%}  ("
                    + ", ".join(f"{k} {v:.1%}" for k, v in top)
                    + ")"
                    + how
                )
    return 1 if all("error" in e for e in entries) else 0


def cmd_evaluate(args: argparse.Namespace, classifier: Classifier) -> int:
    from tqdm.auto import tqdm

    if args.photos is not None:
        return cmd_evaluate_photos(args, classifier)

    from fer.evaluate import evaluate

    if args.data is None:
        raise DatasetError("no FER2013 data: pass --data PATH or set FER2013_DIR")
    data = load_split(args.data, args.split)
    tta = classifier.default_tta if args.tta is None else args.tta
    with tqdm(total=len(data), unit="face", disable=args.json or not sys.stderr.isatty()) as bar:
        ev = evaluate(classifier, data, tta, progress=lambda done, total: bar.update(done - bar.n))
    rep = ev.report
    if args.json:
        out = {
            "split": rep.split,
            "n": rep.n,
            "top1": rep.top1,
            "top2": rep.top2,
            "top3": rep.top3,
            "per_class": rep.per_class,
            "confusion": rep.confusion,
            "ece": rep.ece,
            "nll": rep.nll,
            "tta": tta,
            "model": classifier.name,
        }
        json.dump(out, sys.stdout, indent=2)
        print()
        return 0
    print(f"{classifier.name} on {rep.split} ({rep.n} faces, TTA {'on' if tta else 'off'})")
    print(f"top-1 {rep.top1:.2%}   top-2 {rep.top2:.2%}   top-3 {rep.top3:.2%}   ECE {rep.ece:.2%}")
    print(f"{'class':<10}{'precision':>10}{'recall':>10}{'F1':>10}{'support':>9}")
    for name in CLASS_NAMES:
        m = rep.per_class[name]
        print(f"{name:<10}{m['precision']:>10.3f}{m['recall']:>10.3f}{m['f1']:>10.3f}{m['support']:>9}")
    print("confusion (rows true, columns predicted):")
    print(" " * 10 + "".join(f"{n[:7]:>8}" for n in CLASS_NAMES))
    for name, row in zip(CLASS_NAMES, rep.confusion):
        print(f"{name:<10}" + "".join(f"{v:>8}" for v in row))
    return 0


def cmd_evaluate_photos(args: argparse.Namespace, classifier: Classifier) -> int:
    """``evaluate --photos DIR``: the full photo pipeline on the user's labelled photos."""
    from tqdm.auto import tqdm

    from fer.photo_eval import evaluate_photos, open_photo_set, print_report

    photos = open_photo_set(args.photos)
    tta = classifier.default_tta if args.tta is None else args.tta
    with tqdm(total=len(photos), unit="photo", disable=args.json or not sys.stderr.isatty()) as bar:
        ev = evaluate_photos(
            photos,
            classifier,
            detector_settings(args),
            tta=tta,
            fallback=args.fallback,
            progress=lambda done, total: bar.update(done - bar.n),
        )
    if args.json:
        json.dump({**ev.report.to_dict(), "tta": tta, "model": classifier.name}, sys.stdout, indent=2)
        print()
    else:
        print(f"{classifier.name} on {args.photos} (TTA {'on' if tta else 'off'})")
        print_report(ev.report)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "bench":
            from fer.bench import run_bench

            return run_bench(args)
        classifier = Classifier.load(args.model)
        if args.command == "predict":
            return cmd_predict(args, classifier)
        return cmd_evaluate(args, classifier)
    except (ModelError, DatasetError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
