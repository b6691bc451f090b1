"""Classification and calibration metrics over predicted probabilities (scikit-learn where it has them)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.metrics import confusion_matrix as sk_confusion_matrix
from sklearn.metrics import precision_recall_fscore_support, top_k_accuracy_score

from fer.labels import CLASS_NAMES, NUM_CLASSES
from fer.probabilities import softmax


def confusion(labels: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Counts [true, predicted] over all seven classes (rows and columns always 7)."""
    return sk_confusion_matrix(labels, probs.argmax(axis=1), labels=list(range(NUM_CLASSES)))


def top_k_accuracies(labels: np.ndarray, probs: np.ndarray, ks: range | list[int] = range(1, 4)) -> dict[int, float]:
    """Fraction of faces whose true class is among the k most probable, for each k."""
    return {
        int(k): 1.0
        if k >= NUM_CLASSES
        else float(top_k_accuracy_score(labels, probs, k=k, labels=list(range(NUM_CLASSES))))
        for k in ks
    }


def per_class(labels: np.ndarray, probs: np.ndarray) -> dict[str, dict[str, float]]:
    """Precision, recall, F1 and support for each class, keyed by class name."""
    p, r, f, s = precision_recall_fscore_support(
        labels, probs.argmax(axis=1), labels=list(range(NUM_CLASSES)), zero_division=0
    )
    return {
        name: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
        for i, name in enumerate(CLASS_NAMES)
    }


@dataclass(frozen=True)
class Reliability:
    """Expected calibration error and the reliability-diagram bins it is computed from."""

    ece: float
    bin_edges: list[float]
    bin_confidence: list[float | None]  # mean top-1 confidence per bin (None where empty)
    bin_accuracy: list[float | None]  # accuracy per bin (None where empty)
    bin_count: list[int]


def reliability(labels: np.ndarray, probs: np.ndarray, n_bins: int = 15) -> Reliability:
    """Top-1 confidence binned into equal-width bins; ECE = sum(|acc - conf| * share of faces)."""
    conf = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == labels).astype(np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    idx = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, n_bins - 1)
    count = np.bincount(idx, minlength=n_bins)
    sum_conf = np.bincount(idx, weights=conf, minlength=n_bins)
    sum_acc = np.bincount(idx, weights=correct, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.where(count > 0, sum_conf / count, np.nan)
        mean_acc = np.where(count > 0, sum_acc / count, np.nan)
    n = max(len(labels), 1)
    ece = float(np.nansum(np.abs(mean_acc - mean_conf) * count) / n)
    return Reliability(
        ece, edges.tolist(), _none_for_nan(mean_conf), _none_for_nan(mean_acc), count.astype(int).tolist()
    )


def _none_for_nan(values: np.ndarray) -> list[float | None]:
    """JSON has no NaN: empty bins become None."""
    return [None if np.isnan(v) else float(v) for v in values]


def nll(labels: np.ndarray, probs: np.ndarray) -> float:
    """Mean negative log-likelihood of the true class."""
    p = np.clip(probs[np.arange(len(labels)), labels], 1e-12, 1.0)
    return float(-np.log(p).mean())


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """Temperature T > 0 minimising the NLL of ``softmax(logits / T)`` (Guo et al., 2017)."""
    result = minimize_scalar(
        lambda log_t: nll(labels, softmax(logits, float(np.exp(log_t)))),
        bounds=(np.log(0.05), np.log(20.0)),
        method="bounded",
    )
    return float(np.exp(result.x))


@dataclass(frozen=True)
class Report:
    """Everything the evaluation page, the CLI and the model card show about one split."""

    split: str
    n: int
    top1: float
    top2: float
    top3: float
    topk: list[float]  # k = 1..7
    per_class: dict[str, dict[str, float]]
    confusion: list[list[int]]
    ece: float
    nll: float
    reliability: Reliability

    def to_dict(self) -> dict:
        return asdict(self)


def report(split: str, labels: np.ndarray, probs: np.ndarray) -> Report:
    """Compute the full :class:`Report` for one split's probabilities."""
    labels = np.asarray(labels, dtype=np.int64)
    topk = top_k_accuracies(labels, probs, range(1, NUM_CLASSES + 1))
    rel = reliability(labels, probs)
    return Report(
        split=split,
        n=int(len(labels)),
        top1=topk[1],
        top2=topk[2],
        top3=topk[3],
        topk=[topk[k] for k in range(1, NUM_CLASSES + 1)],
        per_class=per_class(labels, probs),
        confusion=confusion(labels, probs).tolist(),
        ece=rel.ece,
        nll=nll(labels, probs),
        reliability=rel,
    )
