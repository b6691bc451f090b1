"""Metrics against small cases computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from fer.evaluation.metrics import confusion, fit_temperature, per_class, reliability, report, softmax, top_k_accuracies
from fer.labels import CLASS_NAMES


def one_hot_probs(pred: list[int], confidence: float = 0.7) -> np.ndarray:
    """Each row puts ``confidence`` on its predicted class and spreads the rest evenly."""
    probs = np.full((len(pred), 7), (1 - confidence) / 6, np.float32)
    probs[np.arange(len(pred)), pred] = confidence
    return probs


def test_confusion_matrix_counts_true_rows_predicted_columns() -> None:
    labels = np.array([0, 0, 3, 3, 3, 6])
    probs = one_hot_probs([0, 3, 3, 3, 6, 6])
    cm = confusion(labels, probs)
    assert cm.shape == (7, 7)
    assert cm[0, 0] == 1 and cm[0, 3] == 1
    assert cm[3, 3] == 2 and cm[3, 6] == 1
    assert cm[6, 6] == 1
    assert cm.sum() == 6


def test_top_k_accuracy_by_hand() -> None:
    # Face 1: true 0, ranking 0 > 1 > 2 -> top-1 hit. Face 2: true 2, ranking 1 > 2 -> top-2 hit.
    # Face 3: true 5, ranking 3 > 4 > 5 -> top-3 hit. Face 4: true 6 ranked last -> miss until k = 7.
    probs = np.array(
        [
            [0.50, 0.20, 0.10, 0.05, 0.05, 0.05, 0.05],
            [0.05, 0.50, 0.20, 0.10, 0.05, 0.05, 0.05],
            [0.05, 0.05, 0.05, 0.40, 0.25, 0.15, 0.05],
            [0.30, 0.20, 0.15, 0.12, 0.11, 0.10, 0.02],
        ]
    )
    labels = np.array([0, 2, 5, 6])
    acc = top_k_accuracies(labels, probs, range(1, 8))
    assert acc[1] == pytest.approx(0.25)
    assert acc[2] == pytest.approx(0.50)
    assert acc[3] == pytest.approx(0.75)
    assert acc[6] == pytest.approx(0.75)
    assert acc[7] == pytest.approx(1.0)


def test_per_class_precision_recall_f1_by_hand() -> None:
    labels = np.array([3, 3, 3, 4, 4])
    probs = one_hot_probs([3, 3, 4, 4, 3])
    m = per_class(labels, probs)
    # happy: predicted 3 times, 2 right -> P = 2/3; 3 true, 2 found -> R = 2/3.
    assert m["happy"]["precision"] == pytest.approx(2 / 3)
    assert m["happy"]["recall"] == pytest.approx(2 / 3)
    # sad: predicted twice, 1 right -> P = 1/2; 2 true, 1 found -> R = 1/2; F1 = 1/2.
    assert m["sad"]["f1"] == pytest.approx(0.5)
    assert m["sad"]["support"] == 2
    assert m["angry"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}


def test_ece_by_hand() -> None:
    # 4 faces at confidence 0.9 (3 right) and 2 at 0.6 (both right):
    # ECE = 4/6 * |0.75 - 0.9| + 2/6 * |1.0 - 0.6| = 0.1 + 0.1333 = 0.2333
    probs = np.vstack([one_hot_probs([0, 0, 0, 0], 0.9), one_hot_probs([1, 1], 0.6)])
    labels = np.array([0, 0, 0, 5, 1, 1])
    rel = reliability(labels, probs, n_bins=10)
    assert rel.ece == pytest.approx(4 / 6 * 0.15 + 2 / 6 * 0.4, abs=1e-6)
    assert sum(rel.bin_count) == 6
    assert rel.bin_accuracy[8] == pytest.approx(0.75)  # the 0.8-0.9 bin holds the 0.9 faces
    assert rel.bin_confidence[0] is None  # empty bins are None (valid JSON)


def test_perfectly_calibrated_predictions_have_small_ece() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(20000, 7)) * 2
    probs = softmax(logits)
    labels = np.array([rng.choice(7, p=p / p.sum()) for p in probs.astype(np.float64)])
    assert reliability(labels, probs).ece < 0.02


def test_fit_temperature_recovers_the_temperature_of_the_data() -> None:
    rng = np.random.default_rng(1)
    base = rng.normal(size=(20000, 7)) * 2
    labels = np.array([rng.choice(7, p=p / p.sum()) for p in softmax(base).astype(np.float64)])
    overconfident = base * 2.5  # the same data, logits scaled: the right temperature is 2.5
    assert fit_temperature(overconfident, labels) == pytest.approx(2.5, rel=0.08)


def test_report_fields() -> None:
    labels = np.array([0, 1, 2, 3, 4, 5, 6])
    rep = report("PublicTest", labels, one_hot_probs(list(range(7))))
    assert rep.n == 7 and rep.top1 == 1.0 and rep.topk[-1] == 1.0
    assert set(rep.per_class) == set(CLASS_NAMES)
    assert np.trace(np.array(rep.confusion)) == 7
