"""``python -m fer``: the stable command-line interface other tools rely on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fer.cli.main import main
from fer.evaluation.metrics import report
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
    assert set(face) == {"box", "label", "confidence", "probs", "source", "detection_score", "uncertain"}
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
    # Computed directly from the served model, not through the evaluation cache the CLI reads.
    rep = report("PublicTest", public_test.labels, classifier.predict_proba(public_test.images, tta=False))
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


def test_evaluate_two_models_matches_two_single_runs(
    repo_root: Path, fer2013_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``evaluate --model A --model B`` reports exactly what two single evaluations report, plus B − A."""
    a, b = (str(repo_root / "models" / n) for n in ("fer_cnn", "fer_cnn_v2"))
    common = ["evaluate", "--data", str(fer2013_dir), "--split", "PublicTest", "--json"]
    singles = []
    for stem in (a, b):
        assert main([*common, "--model", stem]) == 0
        singles.append(json.loads(capsys.readouterr().out))
    assert main([*common, "--model", a, "--model", b]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["models"] == singles
    comp = doc["comparison"]
    assert comp["a"] == "fer_cnn" and comp["b"] == "fer_cnn_v2" and comp["n"] == 3589
    assert comp["top1_delta"] == pytest.approx(singles[1]["top1"] - singles[0]["top1"])
    for name in CLASS_NAMES:
        want = singles[1]["per_class"][name]["f1"] - singles[0]["per_class"][name]["f1"]
        assert comp["f1_delta"][name] == pytest.approx(want)
    delta = [[vb - va for va, vb in zip(ra, rb)] for ra, rb in zip(singles[0]["confusion"], singles[1]["confusion"])]
    assert comp["confusion_delta"] == delta
    d = comp["disagreements"]
    assert d["only_a_right"] + d["only_b_right"] + d["both_wrong"] == d["total"] > 0


def test_evaluate_three_models_is_a_clear_error(fer2013_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["evaluate", "--data", str(fer2013_dir), "--model", "a", "--model", "b", "--model", "c"]
    assert main(args) == 2
    assert "at most two models" in capsys.readouterr().err


def test_every_command_takes_the_one_set_of_options_flags() -> None:
    """predict, evaluate, batch and video read the same flags into the same options object."""
    from fer.cli.main import build_parser
    from fer.detection.settings import DetectorSettings
    from fer.options import Options, from_args

    flags = ["--tta", "--scale-factor", "1.2", "--min-neighbors", "6", "--min-size", "40"]
    flags += ["--min-face-fraction", "0.05", "--margin", "0.2", "--no-fallback"]
    detector = DetectorSettings(scale_factor=1.2, min_neighbors=6, min_size=40, min_face_fraction=0.05, margin=0.2)
    expected = Options(model="m", detector=detector, tta=True, fallback=False)
    parser = build_parser()
    for command in (["predict", "x.jpg"], ["evaluate"], ["batch", "dir", "--out", "o.csv"], ["video", "v.mp4"]):
        assert from_args(parser.parse_args([*command, *flags]), "m") == expected, command[0]
        assert from_args(parser.parse_args(command), "m") == Options(model="m"), command[0]  # the defaults
    video = from_args(parser.parse_args(["video", "v.mp4", "--fps", "2", "--smoothing", "0.3"]), "m")
    assert (video.fps, video.smoothing) == (2.0, 0.3)
