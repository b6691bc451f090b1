"""``python -m fer convert``: the only place outside training where ``.keras`` becomes the served ``.tflite``.

The conversions run the real CLI in a subprocess: TensorFlow stays out of the test process, as it stays
out of the app's.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fer.classifier import Classifier, ModelError
from fer.train.convert import convert


def _copy(model_stem: Path, tmp_path: Path, *suffixes: str) -> Path:
    stem = tmp_path / "m"
    for suffix in suffixes:
        shutil.copy(model_stem.with_suffix(suffix), stem.with_suffix(suffix))
    return stem


def _cli_convert(repo_root: Path, stem: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "fer", "convert", str(stem), *extra]
    return subprocess.run(cmd, cwd=repo_root, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
@pytest.mark.parametrize("card_tflite", ["as trained", "from another TensorFlow"])
def test_convert_writes_the_tflite_the_app_serves(
    repo_root: Path, model_stem: Path, tmp_path: Path, classifier: Classifier, public_test, card_tflite: str
) -> None:
    """Same TensorFlow: the card's own bytes, card untouched. Other bytes: the card follows, and still loads."""
    stem = _copy(model_stem, tmp_path, ".json", ".keras")
    if card_tflite != "as trained":
        card = json.loads(stem.with_suffix(".json").read_text())
        card["runtime"]["files"]["tflite"]["sha256"] = "0" * 64
        stem.with_suffix(".json").write_text(json.dumps(card))
    card_before = json.loads(stem.with_suffix(".json").read_text())
    result = _cli_convert(repo_root, stem, "--json")
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout)
    tflite = stem.with_suffix(".tflite")
    assert out["tflite"] == str(tflite) and out["bytes"] == tflite.stat().st_size
    card_after = json.loads(stem.with_suffix(".json").read_text())
    recorded = card_before["runtime"]["files"]["tflite"]["sha256"]
    assert out["card_updated"] == (out["sha256"] != recorded) == (card_after != card_before)
    assert card_after["runtime"]["files"]["tflite"]["sha256"] == out["sha256"]
    served = Classifier.load(stem)  # the card accepts the file
    assert served.sha256 == out["sha256"]
    faces = public_test.images[:300]
    agree = (served.logits(faces).argmax(1) == classifier.logits(faces).argmax(1)).mean()
    assert agree > 0.99, agree


@pytest.mark.slow
def test_truncated_keras_is_reported_by_the_cli(repo_root: Path, model_stem: Path, tmp_path: Path) -> None:
    stem = _copy(model_stem, tmp_path, ".json")
    card = json.loads(stem.with_suffix(".json").read_text())
    del card["runtime"]["files"]["keras"]["sha256"]  # so the file gets as far as Keras
    stem.with_suffix(".json").write_text(json.dumps(card))
    data = model_stem.with_suffix(".keras").read_bytes()
    stem.with_suffix(".keras").write_bytes(data[: len(data) // 3])
    result = _cli_convert(repo_root, stem)
    assert result.returncode == 2 and "error:" in result.stderr and "cannot load the Keras model" in result.stderr
    assert not stem.with_suffix(".tflite").exists()


def test_keras_that_is_not_the_cards_is_refused(model_stem: Path, tmp_path: Path) -> None:
    stem = _copy(model_stem, tmp_path, ".json")
    data = bytearray(model_stem.with_suffix(".keras").read_bytes())
    data[-1] ^= 0xFF
    stem.with_suffix(".keras").write_bytes(bytes(data))
    with pytest.raises(ModelError, match="not the weights its card describes"):
        convert(stem)
    assert not stem.with_suffix(".tflite").exists()


def test_nothing_to_convert_without_keras(model_stem: Path, tmp_path: Path) -> None:
    stem = _copy(model_stem, tmp_path, ".json")
    with pytest.raises(ModelError, match="model file missing, nothing to convert"):
        convert(stem)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json"]
