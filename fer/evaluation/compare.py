"""Two models on the same faces, side by side: what changed, by class, by confusion, and face by face.

Used by the Evaluation page's comparison view and ``python -m fer evaluate --model A --model B``, so a
user can judge a new model against the one they know on exactly the same split and settings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fer.evaluation.evaluate import Evaluation
from fer.labels import CLASS_NAMES


@dataclass(frozen=True)
class Comparison:
    """Model B measured against model A (every delta is B minus A)."""

    name_a: str
    name_b: str
    a: Evaluation
    b: Evaluation

    def __post_init__(self) -> None:
        if self.a.data.fingerprint != self.b.data.fingerprint or len(self.a.probs) != len(self.b.probs):
            raise ValueError("both evaluations must be on the same faces")

    @property
    def topk_delta(self) -> list[float]:
        """Top-k accuracy of B minus A, for k = 1..7."""
        return [b - a for a, b in zip(self.a.report.topk, self.b.report.topk)]

    @property
    def f1_delta(self) -> dict[str, float]:
        """Per-class F1 of B minus A."""
        pa, pb = self.a.report.per_class, self.b.report.per_class
        return {name: pb[name]["f1"] - pa[name]["f1"] for name in CLASS_NAMES}

    @property
    def confusion_delta(self) -> np.ndarray:
        """Counts [true, predicted] of B minus A: positive on the diagonal = B gets more of that class right."""
        return np.asarray(self.b.report.confusion) - np.asarray(self.a.report.confusion)

    @property
    def disagreements(self) -> np.ndarray:
        """Indices of the faces where the two models predict different labels."""
        return np.flatnonzero(self.a.predicted != self.b.predicted)

    def disagreement_counts(self) -> dict[str, int]:
        """Of the faces where they disagree: only A right, only B right, both wrong."""
        idx = self.disagreements
        labels = self.a.data.labels[idx]
        a_right = self.a.predicted[idx] == labels
        b_right = self.b.predicted[idx] == labels
        return {
            "total": int(len(idx)),
            "only_a_right": int((a_right & ~b_right).sum()),
            "only_b_right": int((b_right & ~a_right).sum()),
            "both_wrong": int((~a_right & ~b_right).sum()),
        }

    def gallery(self, limit: int = 24, which: str = "only_b_right") -> list[int]:
        """Face indices for a gallery of disagreements, most confident (in the winner's label) first.

        ``which``: ``only_a_right`` | ``only_b_right`` | ``both_wrong`` | ``all``.
        """
        idx = self.disagreements
        labels = self.a.data.labels[idx]
        a_right = self.a.predicted[idx] == labels
        b_right = self.b.predicted[idx] == labels
        masks = {
            "only_a_right": a_right & ~b_right,
            "only_b_right": b_right & ~a_right,
            "both_wrong": ~a_right & ~b_right,
            "all": np.ones(len(idx), bool),
        }
        if which not in masks:
            raise ValueError(f"unknown gallery {which!r}: one of {sorted(masks)}")
        chosen = idx[masks[which]]
        strength = np.abs(self.a.probs[chosen].max(1) - self.b.probs[chosen].max(1))
        return chosen[np.argsort(-strength, kind="stable")][:limit].tolist()

    def to_dict(self) -> dict:
        """JSON-ready summary, the CLI's ``comparison`` field."""
        ra, rb = self.a.report, self.b.report
        return {
            "a": self.name_a,
            "b": self.name_b,
            "split": ra.split,
            "n": ra.n,
            "top1_delta": rb.top1 - ra.top1,
            "top2_delta": rb.top2 - ra.top2,
            "topk_delta": self.topk_delta,
            "ece_delta": rb.ece - ra.ece,
            "f1_delta": self.f1_delta,
            "confusion_delta": self.confusion_delta.tolist(),
            "disagreements": self.disagreement_counts(),
        }
