"""``python -m fer predict | evaluate | bench | convert | video | batch``: the engine without Streamlit.

``predict --json`` prints ``[{"path": …, "faces": [{"box": [x, y, w, h], "label": …, "confidence": …,
"probs": {…}, "source": …, "detection_score": …}], "status": …, "size": [w, h]}]`` (built by
:mod:`fer.results`, as the Upload page's export); boxes are in the photo's own pixels. An unreadable file
gets ``"error": "…"`` and an empty face list instead of aborting. ``evaluate --photos DIR`` evaluates the
whole photo pipeline on the user's own labelled photos (:mod:`fer.evaluation.photo_eval`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from fer.batch import BatchError
from fer.classifier import DEFAULT_MODEL, MODELS_DIR, Classifier, ModelError
from fer.cli.eval_extras import add_evaluate_extras, extras, print_extras
from fer.cli.video import add_video_parser, run_video
from fer.data import DatasetError, default_data_dir, load_split
from fer.labels import CLASS_NAMES, SPLITS
from fer.options import add_arguments, from_args


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m fer", description="FER2013 facial-expression engine")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("predict", help="emotions of every face in images")
    p.add_argument("images", nargs="+", type=Path)
    p.add_argument("--json", action="store_true", help="one JSON document on stdout")
    p.add_argument("--whole-face", action="store_true", help="treat each whole image as one face (48x48 crops)")
    add_arguments(p)

    p = sub.add_parser("evaluate", help="accuracy and calibration on a FER2013 split, or on your labelled photos")
    p.add_argument(
        "--data",
        type=Path,
        default=default_data_dir(),
        help="fer2013.csv (plain, .csv.gz or Kaggle's fer2013.tar.gz) or image-folder root",
    )
    p.add_argument("--split", choices=SPLITS, default="PrivateTest")
    p.add_argument(
        "--photos",
        type=Path,
        help="a folder (or .zip) with one sub-folder per emotion (angry, anger, happiness, …): runs the full "
        "photo pipeline (detection, fallback, classifier) on every photo instead of a FER2013 split",
    )
    p.add_argument("--json", action="store_true")
    add_evaluate_extras(p)
    add_arguments(p, compare=True)

    _add_batch_parser(sub)

    p = sub.add_parser("bench", help="speed figures of the classifier and the pipeline")
    p.add_argument("--json", action="store_true")
    p.add_argument("--data", type=Path, default=default_data_dir())
    p.add_argument("--model", default=str(MODELS_DIR / DEFAULT_MODEL))
    p.add_argument("--no-recall", dest="recall", action="store_false", help="skip the detection recall table (minutes)")

    p = sub.add_parser("convert", help="write a model's .tflite (what the app serves) from its .keras")
    p.add_argument("model", help="model stem, e.g. models/fer_cnn (reads .keras and .json, writes .tflite)")
    p.add_argument("--json", action="store_true")
    add_arguments(add_video_parser(sub), frames=True)
    return parser


def cmd_convert(args: argparse.Namespace) -> int:
    """The only way the project turns ``.keras`` into ``.tflite`` outside training (never in the app)."""
    from fer.train.convert import convert

    done = convert(args.model)
    if args.json:
        out = {"tflite": str(done.tflite_path), "bytes": done.size, "sha256": done.sha256}
        json.dump({**out, "card_updated": done.card_updated}, sys.stdout, indent=2)
        print()
    else:
        print(f"wrote {done.tflite_path} ({done.size:,} bytes, sha256 {done.sha256[:16]}…)")
        if done.card_updated:
            print("note: the bytes differ from the card's .tflite (another TensorFlow?): the card now records them")
    return 0


def cmd_predict(args: argparse.Namespace, classifier: Classifier) -> int:
    from fer.results import analyze_file

    options = from_args(args)
    entries = [analyze_file(path, classifier, options, whole_face=args.whole_face).to_dict() for path in args.images]
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

    from fer.evaluation.evaluate import evaluate

    if args.data is None:
        raise DatasetError("no FER2013 data: pass --data PATH or set FER2013_DIR")
    data = load_split(args.data, args.split)
    tta = from_args(args, classifier.name).resolve_tta(classifier)
    with tqdm(total=len(data), unit="face", disable=args.json or not sys.stderr.isatty()) as bar:
        ev = evaluate(classifier, data, tta, progress=lambda done, total: bar.update(done - bar.n))
    rep = ev.report
    more = extras(args, classifier, data, ev)
    if args.json:
        out = {**_report_json(rep), "tta": tta, "model": classifier.name, **more}
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
    print_extras(classifier.name, more)
    return 0


def _add_batch_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("batch", help="every image under folders: one row per face to CSV/Parquet, plus a report")
    p.add_argument("inputs", nargs="+", type=Path, help="folders (searched recursively) or files")
    p.add_argument("--out", required=True, type=Path, help="results.csv or results.parquet (reruns resume it)")
    p.add_argument("--report", type=Path, help="also write an HTML summary per folder and file")
    p.add_argument("--workers", type=int, default=0, help="processes (default: one per CPU core)")
    p.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS",
                   help="run on Ray Data: a cluster ADDRESS, or a local Ray instance when none is given")  # fmt: skip
    p.add_argument("--json", action="store_true", help="print the counts and per-folder summary as JSON")
    add_arguments(p)


def cmd_batch(args: argparse.Namespace) -> int:
    from fer.batch import journal_path, main_progress, read_rows, run_batch
    from fer.batch_report import summarise, write_html

    Classifier.load(args.model)  # a missing or broken model is one clear error, not one per file
    counts = run_batch(
        args.inputs,
        args.out,
        from_args(args),
        workers=args.workers,
        use_ray=args.ray is not None,
        ray_address=args.ray or None,
        progress=None if args.json else main_progress(),
    )
    rows = read_rows(journal_path(args.out))
    if args.report:
        write_html(rows, args.report)
    if args.json:
        json.dump({**counts, "out": str(args.out), "folders": summarise(rows, "folder")}, sys.stdout, indent=2)
        print()
    else:
        print(
            f"{counts['analysed']} files analysed ({counts['skipped_done']} already done), {counts['faces']} faces, "
            f"{counts['errors']} unreadable -> {args.out}" + (f", report {args.report}" if args.report else "")
        )
    return 0


def cmd_compare(args: argparse.Namespace, a: Classifier, b: Classifier) -> int:
    """``evaluate --model A --model B``: both on the same split and TTA setting, and B's deltas over A."""
    from fer.evaluation.compare import Comparison
    from fer.evaluation.evaluate import evaluate

    if args.data is None:
        raise DatasetError("no FER2013 data: pass --data PATH or set FER2013_DIR")
    data = load_split(args.data, args.split)
    tta = {c.name: from_args(args, c.name).resolve_tta(c) for c in (a, b)}
    comp = Comparison(a.name, b.name, evaluate(a, data, tta[a.name]), evaluate(b, data, tta[b.name]))
    more = {c.name: extras(args, c, data, ev) for c, ev in ((a, comp.a), (b, comp.b))}
    if args.json:
        models = [
            {**_report_json(ev.report), "tta": tta[c.name], "model": c.name, **more[c.name]}
            for c, ev in ((a, comp.a), (b, comp.b))
        ]
        json.dump({"models": models, "comparison": comp.to_dict()}, sys.stdout, indent=2)
        print()
        return 0
    ra, rb = comp.a.report, comp.b.report
    print(f"{a.name} vs {b.name} on {ra.split} ({ra.n} faces; TTA {a.name} {tta[a.name]}, {b.name} {tta[b.name]})")
    print(f"{'':<12}{a.name:>14}{b.name:>14}{'delta':>10}")
    for label, va, vb in (("top-1", ra.top1, rb.top1), ("top-2", ra.top2, rb.top2), ("top-3", ra.top3, rb.top3),
                          ("ECE", ra.ece, rb.ece)):  # fmt: skip
        print(f"{label:<12}{va:>14.2%}{vb:>14.2%}{(vb - va) * 100:>+9.2f}pp")
    print("per-class F1:")
    for name in CLASS_NAMES:
        fa, fb = ra.per_class[name]["f1"], rb.per_class[name]["f1"]
        print(f"  {name:<10}{fa:>14.3f}{fb:>14.3f}{fb - fa:>+10.3f}")
    d = comp.disagreement_counts()
    print(
        f"they disagree on {d['total']} faces: only {b.name} right {d['only_b_right']}, "
        f"only {a.name} right {d['only_a_right']}, both wrong {d['both_wrong']}"
    )
    for c in (a, b):
        print_extras(c.name, more[c.name])
    return 0


def _report_json(rep) -> dict:  # noqa: ANN001 - fer.evaluation.metrics.Report
    """The stable JSON fields of ``evaluate --json``."""
    return {
        "split": rep.split,
        "n": rep.n,
        "top1": rep.top1,
        "top2": rep.top2,
        "top3": rep.top3,
        "per_class": rep.per_class,
        "confusion": rep.confusion,
        "ece": rep.ece,
        "nll": rep.nll,
    }


def cmd_evaluate_photos(args: argparse.Namespace, classifier: Classifier) -> int:
    """``evaluate --photos DIR``: the full photo pipeline on the user's labelled photos."""
    from tqdm.auto import tqdm

    from fer.evaluation.photo_eval import evaluate_photos, open_photo_set, print_report

    photos = open_photo_set(args.photos)
    options = from_args(args, classifier.name)
    tta = options.resolve_tta(classifier)
    with tqdm(total=len(photos), unit="photo", disable=args.json or not sys.stderr.isatty()) as bar:
        ev = evaluate_photos(
            photos,
            classifier,
            options,
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
            from fer.bench.latency import run_bench

            return run_bench(args)
        if args.command == "batch":
            return cmd_batch(args)
        if args.command == "convert":
            return cmd_convert(args)
        if args.command == "video":
            return run_video(args)
        if args.command == "evaluate":
            models = args.model or [str(MODELS_DIR / DEFAULT_MODEL)]
            if len(models) > 2:
                raise ValueError("evaluate compares at most two models: --model A --model B")
            if len(models) == 2:
                return cmd_compare(args, *(Classifier.load(m) for m in models))
            return cmd_evaluate(args, Classifier.load(models[0]))
        classifier = Classifier.load(args.model)
        return cmd_predict(args, classifier)
    except (ModelError, DatasetError, ValueError, BatchError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
