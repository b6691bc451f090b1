"""An evaluation as files a user can take away: metrics, per-class table, confusion matrix, per-face
predictions (CSV). The Evaluation page offers them as downloads; the figures are the report's own."""

from __future__ import annotations

import csv
import io

from fer.evaluation.evaluate import Evaluation
from fer.labels import CLASS_NAMES


def _csv(rows: list[list[object]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def metrics_csv(ev: Evaluation, model: str) -> str:
    """One row: model, data, split, faces, TTA, top-1/2/3, ECE, NLL."""
    r = ev.report
    head = ["model", "source", "split", "faces", "tta", "top1", "top2", "top3", "ece", "nll"]
    return _csv([head, [model, ev.data.source, r.split, r.n, ev.tta, r.top1, r.top2, r.top3, r.ece, r.nll]])


def per_class_csv(ev: Evaluation) -> str:
    """Precision, recall, F1 and support per emotion."""
    fields = ["precision", "recall", "f1", "support"]
    rows: list[list[object]] = [["emotion", *fields]]
    rows += [[name, *(ev.report.per_class[name][f] for f in fields)] for name in CLASS_NAMES]
    return _csv(rows)


def confusion_csv(ev: Evaluation) -> str:
    """Counts; rows: true emotion, columns: predicted emotion."""
    rows: list[list[object]] = [["true \\ predicted", *CLASS_NAMES]]
    rows += [[name, *counts] for name, counts in zip(CLASS_NAMES, ev.report.confusion)]
    return _csv(rows)


def predictions_csv(ev: Evaluation) -> str:
    """One row per face (its index in the split): true and predicted emotion, confidence, all probabilities."""
    rows: list[list[object]] = [["index", "true", "predicted", "correct", "confidence", *CLASS_NAMES]]
    for i, (label, probs) in enumerate(zip(ev.data.labels, ev.probs)):
        k = int(probs.argmax())
        rows.append(
            [i, CLASS_NAMES[label], CLASS_NAMES[k], int(k == label), f"{probs[k]:.6f}", *(f"{p:.6f}" for p in probs)]
        )
    return _csv(rows)
