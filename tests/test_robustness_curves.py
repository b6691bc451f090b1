"""Robustness curves (fer.evaluation.robustness, ``evaluate --robustness``) with the shipped model on real PublicTest.

(tests/test_evaluation_robustness.py is about broken input data on the page; this is about degraded faces.)
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from fer.cli import main as cli
from fer.evaluation import robustness
from fer.evaluation.degrade import KINDS
from fer.evaluation.robustness import passes, sample_indices

SMALL = 300  # faces per pass here: enough to see each curve fall, quick on two busy cores


def test_sample_is_seeded_stratified_and_sorted(public_test) -> None:  # noqa: ANN001
    a, b = sample_indices(public_test.labels, 700), sample_indices(public_test.labels, 700)
    assert np.array_equal(a, b) and np.all(np.diff(a) > 0)
    assert abs(len(a) - 700) <= 7
    share = np.bincount(public_test.labels[a], minlength=7) / len(a)
    assert np.abs(share - np.bincount(public_test.labels, minlength=7) / len(public_test)).max() < 0.01
    assert np.array_equal(sample_indices(public_test.labels[:50], 700), np.arange(50))


@pytest.mark.slow  # 30 model passes per model and run
def test_curves_are_deterministic_cached_and_fall(classifier, public_test, isolated_cache: Path) -> None:  # noqa: ANN001
    robustness._memory.clear()  # computed here, not taken from an earlier test's run
    seen: list[tuple[int, int]] = []
    curves = robustness.robustness(classifier, public_test, lambda d, t: seen.append((d, t)), size=SMALL)
    assert seen[-1] == (passes(), passes()) and len(seen) == passes()
    assert [c.kind for c in curves] == [k.name for k in KINDS]
    idx = sample_indices(public_test.labels, SMALL)
    clean = float(
        (classifier.predict_proba(public_test.images[idx], tta=False).argmax(1) == public_test.labels[idx]).mean()
    )
    for c in curves:
        assert c.top1[0] == pytest.approx(clean) and c.n == len(idx)
        assert len(c.levels) == len(c.top1) >= 4 and c.labels[0] == "none"
    harshest = {c.kind: c.top1[-1] for c in curves}
    for kind in ("downscale", "blur", "occlusion"):
        assert harshest[kind] < clean - 0.1, kind  # 12 px, sigma 3, both bands hurt every model
    # contrast x0.2 still costs something; the served model learnt low-contrast faces (v4 about 2 points, v2 about 40)
    assert harshest["contrast"] < clean, harshest
    cached = list((isolated_cache / "eval").glob("robust-*.json"))
    assert len(cached) == 1
    robustness._memory.clear()
    again = robustness.robustness(classifier, public_test, size=SMALL)  # from disk now
    assert [c.to_dict() for c in again] == [c.to_dict() for c in curves]
    robustness._memory.clear()
    cached[0].unlink()
    recomputed = robustness.robustness(classifier, public_test, size=SMALL)
    assert [c.top1 for c in recomputed] == [c.top1 for c in curves]


@pytest.mark.slow  # 30 model passes per model and run
def test_cli_robustness_json(fer2013_dir: Path, model_stem: Path, capsys: pytest.CaptureFixture, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(robustness, "SAMPLE", SMALL)  # the CLI's default sample is 800 faces
    args = ["evaluate", "--data", str(fer2013_dir), "--split", "PublicTest", "--robustness", "--json"]
    assert cli.main([*args, "--model", str(model_stem)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert "top1" in out and "ferplus" in out
    kinds = out["robustness"]
    assert len(kinds) >= 6
    for k in kinds:
        assert set(k) >= {"kind", "levels", "top1"} and len(k["levels"]) == len(k["top1"]) >= 4
    assert len({k["top1"][0] for k in kinds}) == 1
