"""The analysis behind the Evaluation page's galleries, on the real model and real PublicTest faces."""

from __future__ import annotations

import numpy as np
import pytest

from fer.data import DatasetError, read_csv_bytes
from fer.evaluation.evaluate import evaluate


def test_cells_mistakes_and_most_confused_match_a_direct_computation(classifier, public_test) -> None:
    ev = evaluate(classifier, public_test.subset(800, seed=3), tta=False, persist=False)
    labels, predicted = ev.data.labels, ev.probs.argmax(1)
    confusion = np.asarray(ev.report.confusion)
    off = confusion.copy()
    np.fill_diagonal(off, -1)
    t, p = ev.most_confused()
    assert confusion[t, p] == off.max() and t != p
    cell = ev.cell(t, p)
    assert sorted(cell.tolist()) == np.flatnonzero((labels == t) & (predicted == p)).tolist()
    assert len(cell) == confusion[t, p]
    assert (np.diff(ev.confidence[cell]) <= 0).all()  # most confident first
    wrong = ev.confident_mistakes()
    assert len(wrong) == int((predicted != labels).sum()) and (predicted[wrong] != labels[wrong]).all()
    assert (np.diff(ev.confidence[wrong]) <= 0).all()


def test_csv_bytes_with_bom_and_bad_encoding() -> None:
    row = "3," + " ".join(["128"] * 2304) + ",PublicTest\n"
    data = read_csv_bytes(("\ufeffemotion,pixels,Usage\n" + row).encode("utf-8"), "PublicTest", name="x.csv")
    assert len(data) == 1 and data.labels[0] == 3
    with pytest.raises(DatasetError, match="not a text CSV"):
        read_csv_bytes(b"\xff\xfe\x00\x81garbage", "PublicTest", name="x.csv")
