"""The training CLI end to end on a few hundred faces: checkpoints, history, model and card, then --resume."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from fer.labels import CLASS_NAMES

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]

SMOKE_ARGS = ["--epochs", "1", "--limit", "384", "--eval-limit", "256", "--batch-size", "64", "--recipe", "cpu"]


def _train(repo_root: Path, data: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "fer.train", "--data", str(data), "--out", str(out), *SMOKE_ARGS, *extra]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run(cmd, cwd=repo_root, env=env, capture_output=True, text=True, timeout=600)
    tail = f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    assert proc.returncode == 0, f"{' '.join(cmd)} exited {proc.returncode}\n{tail}"
    return proc


def _history_rows(out: Path) -> list[dict[str, str]]:
    with open(out.with_suffix(".history.csv"), newline="") as fh:
        return list(csv.DictReader(fh))


def _assert_card(card: dict) -> None:
    assert card["class_names"] == list(CLASS_NAMES)
    assert "PublicTest" in card["evaluation"]
    assert "PrivateTest" in card["evaluation"]


@pytest.fixture(scope="module")
def smoke_run(repo_root: Path, fer2013_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("train") / "smoke"
    proc = _train(repo_root, fer2013_dir, out)
    return out, proc


def test_one_epoch_smoke_run_writes_model_card_and_checkpoints(smoke_run) -> None:
    out, proc = smoke_run
    ckpt = out.with_name(out.name + ".ckpt")
    for path in (ckpt / "last.keras", ckpt / "best.keras", ckpt / "state.json", out.with_suffix(".history.csv")):
        assert path.is_file(), f"missing {path}"
    state = json.loads((ckpt / "state.json").read_text())
    assert state["epoch"] == 1 and state["limit"] == 384
    assert state["recipe"]["epochs"] == 1 and state["recipe"]["batch_size"] == 64
    rows = _history_rows(out)
    assert len(rows) == 1
    assert 0.0 < float(rows[0]["loss"]) < 10.0, rows[0]  # finite, not diverged
    assert 0.0 <= float(rows[0]["val_accuracy"]) <= 1.0

    model = out.with_suffix(".keras")
    assert model.is_file() and zipfile.is_zipfile(model)
    with zipfile.ZipFile(model) as z:
        assert "config.json" in z.namelist()
    card = json.loads(out.with_suffix(".json").read_text())
    _assert_card(card)
    assert "wrote" in proc.stdout


def test_resume_after_completion_only_rewrites_the_card(repo_root: Path, fer2013_dir: Path, smoke_run) -> None:
    out, _ = smoke_run
    card_path = out.with_suffix(".json")
    card_path.unlink()
    proc = _train(repo_root, fer2013_dir, out, "--resume")
    assert "training already complete" in proc.stdout
    assert card_path.is_file(), "--resume did not rewrite the model card"
    _assert_card(json.loads(card_path.read_text()))
    assert len(_history_rows(out)) == 1, "--resume trained again although all epochs were done"
    state = json.loads((out.with_name(out.name + ".ckpt") / "state.json").read_text())
    assert state["epoch"] == 1


def test_cpu2_recipe_smoke_run_in_bfloat16(repo_root: Path, fer2013_dir: Path, tmp_path: Path) -> None:
    """The v2 recipe end to end: sharp-preserving augmentation, class weights, weight EMA, bfloat16
    training, and a float32 .tflite the served classifier loads."""
    out = tmp_path / "v2"
    _train(repo_root, fer2013_dir, out, "--recipe", "cpu2", "--precision", "mixed_bfloat16")
    state = json.loads((out.with_name("v2.ckpt") / "state.json").read_text())
    assert state["recipe"]["augment"] == "v2" and state["precision"] == "mixed_bfloat16"
    assert state["ema_steps"] == 384 // 64 and (out.with_name("v2.ckpt") / "ema.npz").is_file()
    assert "val_ema_accuracy" in _history_rows(out)[0]
    from fer.classifier import Classifier

    classifier = Classifier.load(out)
    probs = classifier.predict_proba(np.zeros((2, 48, 48), np.uint8))
    assert probs.shape == (2, 7) and np.allclose(probs.sum(1), 1, atol=1e-5)


def test_cpu4_fine_tune_on_both_forms_with_votes_and_a_teacher(
    repo_root: Path, fer2013_dir: Path, tmp_path: Path
) -> None:
    """Model v4's recipe end to end: a warm start from the shipped v3, both pixel forms as two --data
    sources, targets mixing FER+ votes, v3's output and the label; --set overrides are recorded."""
    csv_path = fer2013_dir.parent / "fer2013-csv" / "fer2013.csv.gz"
    if not csv_path.is_file():
        pytest.fail(f"the original CSV is missing beside the image folders: {csv_path}")
    out = tmp_path / "v4"
    proc = _train(
        repo_root, csv_path, out, "--data", str(fer2013_dir), "--recipe", "cpu4", "--set", "teacher_weight=0.2"
    )
    assert "warm start from models/fer_cnn_v3" in proc.stdout
    assert proc.stdout.count("FER+ targets for") == 2 and proc.stdout.count("teacher targets from") == 2
    state = json.loads((out.with_name("v4.ckpt") / "state.json").read_text())
    assert state["recipe"]["teacher_weight"] == 0.2 and state["recipe"]["init"] == "models/fer_cnn_v3"
    assert "--set teacher_weight=0.2" in state["command"]
    assert len(state["data_fingerprint"]) == 4  # Training and PublicTest of each form


def test_mixed_targets_share_out_label_votes_and_teacher() -> None:
    from fer.train.model import RECIPES
    from fer.train.targets import mixed_targets

    recipe = RECIPES["cpu4"]
    labels = np.array([0, 3])
    votes = np.array([[0, 0, 0, 1, 0, 0, 0], [0] * 7], np.float32)  # the second face has no FER+ votes
    has = np.array([True, False])
    teacher = np.full((2, 7), 1 / 7, np.float32)
    y = mixed_targets(labels, recipe, votes, has, teacher)
    assert np.allclose(y.sum(1), 1.0)
    label_share = 1 - recipe.ferplus_weight - recipe.teacher_weight
    assert y[0, 0] == pytest.approx(label_share + recipe.teacher_weight / 7)
    assert y[0, 3] == pytest.approx(recipe.ferplus_weight + recipe.teacher_weight / 7)
    assert y[1, 3] == pytest.approx(label_share + recipe.ferplus_weight + recipe.teacher_weight / 7)
