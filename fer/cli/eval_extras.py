"""``evaluate --ferplus PATH`` and ``evaluate --robustness``: the FER+ block and the robustness curves of
``python -m fer evaluate``, kept out of :mod:`fer.cli.main` so its changes stay small.

The ``"ferplus"`` block appears whenever votes are found (``--ferplus PATH``, else ``ferplus.csv`` beside
the data, else beside the default FER2013 folder); ``"robustness"`` only with ``--robustness``.
"""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

from fer.classifier import Classifier
from fer.data import SplitData
from fer.evaluation.evaluate import Evaluation
from fer.evaluation.ferplus_eval import ferplus_report
from fer.evaluation.robustness import passes, robustness
from fer.ferplus import SplitVotes, split_votes
from fer.labels import CLASS_NAMES


def add_evaluate_extras(p: argparse.ArgumentParser) -> None:
    """The two flags, on the ``evaluate`` parser."""
    p.add_argument(
        "--ferplus",
        type=Path,
        help="ferplus.csv with the FERPlus annotators' votes (default: beside the data or the default FER2013 "
        "folder); adds top-1/top-2 against the FER+ majority",
    )
    p.add_argument(
        "--robustness",
        action="store_true",
        help="also top-1 under degraded faces (low resolution, blur, JPEG, rotation, occlusion, lighting, form) "
        "on a seeded sample of the split",
    )


def extras(args: argparse.Namespace, classifier: Classifier, data: SplitData, ev: Evaluation) -> dict:
    """``{"ferplus": …}`` when votes are found and ``{"robustness": […]}`` when asked for."""
    out: dict = {}
    votes = _votes(args.data, data.split, getattr(args, "ferplus", None))
    if votes is not None:
        out["ferplus"] = ferplus_report(data.labels, ev.probs, votes).to_dict()
    if getattr(args, "robustness", False):
        from tqdm.auto import tqdm

        quiet = args.json or not sys.stderr.isatty()
        with tqdm(total=passes(), unit="pass", desc=f"robustness {classifier.name}", disable=quiet) as bar:
            curves = robustness(classifier, data, progress=lambda done, total: bar.update(done - bar.n))
        out["robustness"] = [c.to_dict() for c in curves]
    return out


@functools.lru_cache(maxsize=2)
def _votes(data: Path, split: str, ferplus: Path | None) -> SplitVotes | None:
    """Read once per command, though ``--model A --model B`` asks for each model."""
    return split_votes(data, split, ferplus)


def print_extras(name: str, found: dict) -> None:
    """The extras as text, after the FER2013 report."""
    fp = found.get("ferplus")
    if fp is not None:
        print(
            f"FER+ majority ({fp['n']:,} faces with a clear one): top-1 {fp['top1']:.2%}   top-2 {fp['top2']:.2%}; "
            f"FER2013 label = FER+ majority for {fp['agree_with_fer2013']:.1%}"
        )
        print(f"of {fp['mistakes']:,} mistakes, {fp['disputed']:,} are disputed labels (the model sides with FER+):")
        print(
            "  "
            + ", ".join(f"{c} {fp['per_class'][c]['disputed']}/{fp['per_class'][c]['mistakes']}" for c in CLASS_NAMES)
        )
    for curve in found.get("robustness", []):
        points = "  ".join(f"{label} {top1:.1%}" for label, top1 in zip(curve["labels"], curve["top1"]))
        print(f"{name} {curve['kind']:<11}{points}")
