"""Is it the model or the label? A model's predictions scored against the FER+ annotators' majority.

FER2013's labels disagree with the FERPlus majority for about a third of the faces (:mod:`fer.ferplus`).
This module turns one :class:`fer.evaluation.evaluate.Evaluation` plus the split's votes into the figures the CLI's
``"ferplus"`` block and the Evaluation page show: accuracy against the majority, how often FER2013's
label agrees with it, and which of the model's "mistakes" are faces where it sides with the annotators.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np

from fer.evaluation.evaluate import Evaluation
from fer.evaluation.metrics import confusion, report, top_k_accuracies
from fer.ferplus import SplitVotes
from fer.labels import CLASS_NAMES, NUM_CLASSES


@dataclass(frozen=True)
class FerPlusReport:
    """The model against the FER+ majority, over the faces that have a clear one."""

    n: int  # faces with a clear FER+ majority among the 7 classes
    top1: float
    top2: float
    confusion: list[list[int]]  # rows: FER+ majority, columns: predicted
    agree_with_fer2013: float  # share of those faces whose FER2013 label is the majority
    mistakes: int  # faces (of the n) the model gets wrong against their FER2013 label
    disputed: int  # of those, the ones where the model agrees with the FER+ majority
    per_class: dict[str, dict[str, int | float]]  # by FER2013 label: mistakes, disputed, agree_with_fer2013

    def to_dict(self) -> dict:
        return asdict(self)


def disputed_mask(labels: np.ndarray, predicted: np.ndarray, majority: np.ndarray) -> np.ndarray:
    """Faces where the model is wrong against FER2013 but agrees with the FER+ majority: the label is disputed."""
    return (predicted != labels) & (predicted == majority) & (majority >= 0)


def ferplus_report(labels: np.ndarray, probs: np.ndarray, votes: SplitVotes) -> FerPlusReport:
    """The model's ``probs`` (rows of the same faces as ``labels`` and ``votes``) against the FER+ majority."""
    if len(votes.votes) != len(labels) or len(probs) != len(labels):
        raise ValueError(f"{len(votes.votes)} vote rows for {len(labels)} faces: votes and faces are not aligned")
    majority = votes.majority()
    has = majority >= 0
    labels, probs, majority = np.asarray(labels)[has], probs[has], majority[has]
    predicted = probs.argmax(1)
    n = int(has.sum())
    topk = top_k_accuracies(majority, probs, [1, 2]) if n else {1: 0.0, 2: 0.0}
    wrong = predicted != labels
    disputed = disputed_mask(labels, predicted, majority)
    per_class = {}
    for c, name in enumerate(CLASS_NAMES):
        of = labels == c
        per_class[name] = {
            "faces": int(of.sum()),
            "mistakes": int((wrong & of).sum()),
            "disputed": int((disputed & of).sum()),
            "agree_with_fer2013": float((majority[of] == c).mean()) if of.any() else 0.0,
        }
    return FerPlusReport(
        n=n,
        top1=topk[1],
        top2=topk[2],
        confusion=confusion(majority, probs).tolist() if n else [[0] * NUM_CLASSES for _ in range(NUM_CLASSES)],
        agree_with_fer2013=float((labels == majority).mean()) if n else 0.0,
        mistakes=int(wrong.sum()),
        disputed=int(disputed.sum()),
        per_class=per_class,
    )


def against_majority(ev: Evaluation, votes: SplitVotes) -> tuple[Evaluation, np.ndarray]:
    """``ev`` re-scored with the FER+ majority as the truth, over the faces that have one.

    Returns the new evaluation (its ``data`` holds only those faces, labelled by the majority, so every
    report, gallery and comparison works unchanged) and the indices of those faces in ``ev``.
    """
    majority = votes.majority()
    if len(majority) != len(ev.data):
        raise ValueError(f"{len(majority)} vote rows for {len(ev.data)} faces: votes and faces are not aligned")
    keep = np.flatnonzero(majority >= 0)
    data = replace(
        ev.data,
        images=ev.data.images[keep],
        labels=majority[keep].astype(np.int64),
        fingerprint=f"{ev.data.fingerprint}|ferplus-majority",
        skipped=0,
        problems=[],
    )
    probs = ev.probs[keep]
    return Evaluation(report(data.split, data.labels, probs), probs, data, ev.tta), keep
