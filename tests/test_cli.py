"""``python -m fer``: the stable command-line interface other tools rely on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fer.cli import main
from fer.evaluate import evaluate
from fer.labels import CLASS_NAMES


def test_predict_json_schema(astronaut_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"this is not a JPEG")
    assert main(["predict", "--json", str(astronaut_path), str(broken), str(tmp_path / "missing.png")]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [entry["path"] for entry in doc] == [str(astronaut_path), str(broken), str(tmp_path / "missing.png")]
    portrait, bad, missing = doc
    assert "error" not in portrait and len(portrait["faces"]) == 1
    face = portrait["faces"][0]
    assert set(face) == {"box", "label", "confidence", "probs", "source", "detection_score"}
    assert face["source"] == "detector" and portrait["status"] == "ok" and portrait["size"] == [512, 512]
    assert len(face["box"]) == 4 and all(isinstance(v, int) for v in face["box"])
    assert list(face["probs"]) == list(CLASS_NAMES)
    assert abs(sum(face["probs"].values()) - 1) < 1e-4
    assert face["label"] in CLASS_NAMES and face["confidence"] == max(face["probs"].values())
    assert bad["faces"] == [] and "broken.jpg" in bad["error"] and bad["status"] == "error"
    assert missing["faces"] == [] and missing["error"]


def test_predict_whole_face_and_human_output(public_test, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import cv2

    face_file = tmp_path / "face.png"
    cv2.imwrite(str(face_file), public_test.images[3])
    assert main(["predict", "--whole-face", str(face_file)]) == 0
    out = capsys.readouterr().out
    assert "1 face(s)" in out and "box=[0, 0, 48, 48]" in out


def test_predict_all_unreadable_exits_non_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    assert main(["predict", str(empty)]) == 1
    assert "ERROR" in capsys.readouterr().out


def test_evaluate_json_matches_the_engine(
    classifier, public_test, fer2013_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["evaluate", "--data", str(fer2013_dir), "--split", "PublicTest", "--no-tta", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {"split", "n", "top1", "top2", "top3", "per_class", "confusion", "ece"} <= set(doc)
    rep = evaluate(classifier, public_test, tta=False).report
    assert doc["split"] == "PublicTest" and doc["n"] == 3589
    assert doc["top1"] == rep.top1 and doc["confusion"] == rep.confusion
    assert sum(map(sum, doc["confusion"])) == 3589


def test_evaluate_bad_data_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = tmp_path / "fer2013.csv"
    csv.write_text("emotion;pixels;Usage\n")
    assert main(["evaluate", "--data", str(csv), "--split", "PublicTest"]) == 2
    assert "missing column" in capsys.readouterr().err


def test_module_entry_point_runs(astronaut_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "fer", "predict", "--json", str(astronaut_path)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[0]["faces"]
