"""The dashboard's pages driven headlessly with Streamlit's AppTest: real model, real data, no mocks.

Expected values are computed here through the engine (``fer.pipeline``, ``fer.cli.main``), never hard-coded,
so the tests keep passing when the shipped model is retrained.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import cv2
import pytest
from streamlit.testing.v1 import AppTest
from support.pages import EVALUATION, HOME, UPLOAD, open_page, texts

import ui.common
from fer.classifier import DEFAULT_MODEL, MODELS_DIR, Classifier
from fer.cli.main import main as cli_main
from fer.data import default_data_dir, load_split
from fer.detection.settings import DetectorSettings
from fer.imageio import decode_image
from fer.pipeline import analyze
from fer.results import analyze_bytes, results_csv, results_json


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.load(MODELS_DIR / DEFAULT_MODEL)


@pytest.fixture(scope="module")
def card() -> dict:
    return json.loads((MODELS_DIR / f"{DEFAULT_MODEL}.json").read_text())


def upload(at: AppTest, *files: tuple[str, bytes]) -> AppTest:
    at.file_uploader(key="upload_files").set_value([(name, data, "application/octet-stream") for name, data in files])
    at.run()
    assert not at.exception, at.exception
    return at


def stored_top1(card: dict, split: str) -> float:
    return card["evaluation"][split]["tta" if card.get("default_tta") else "plain"]["top1"]


# ----------------------------------------------------------------------------- home
def test_home_shows_model_card_numbers(repo_root: Path, card: dict) -> None:
    at = open_page(repo_root, HOME)
    metrics = {m.label: m.value for m in at.metric}
    form = "original" if (default_data_dir() or Path()).is_file() else "equalised"  # the configured data's form
    assert metrics["PrivateTest top-1"] == f"{card['forms'][form]['PrivateTest']['top1']:.2%}"
    assert ("image folders" if form == "equalised" else "original fer2013.csv") in texts(at)
    assert f"Served by default: `{DEFAULT_MODEL}`" in texts(at)
    assert "Everything runs locally" in texts(at)
    assert {link.proto.page for link in at.page_link} >= {"live", "upload", "evaluation"}


# ----------------------------------------------------------------------------- upload
def test_upload_astronaut_shows_the_models_prediction(repo_root: Path, astronaut_path: Path, classifier) -> None:
    data = astronaut_path.read_bytes()
    expected = analyze(decode_image(data, "astronaut.png"), classifier, DetectorSettings())
    assert len(expected) == 1
    at = upload(open_page(repo_root, UPLOAD), ("astronaut.png", data))
    shown = texts(at)
    assert "**1 face found**" in shown
    assert f"**Face 1: {expected[0].label}** ({expected[0].confidence:.1%})" in shown
    assert "Face 2" not in shown
    assert len(at.get("plotly_chart")) >= 1
    assert {b.label for b in at.get("download_button")} >= {"Results (CSV)", "Results (JSON)", "Annotated image (PNG)"}
    assert not at.error


def test_upload_fer2013_face_is_found_through_the_fallback(repo_root: Path, fer2013_dir: Path, classifier) -> None:
    """A 48x48 crop is too small and too tight for the cascade: the fallback finds it, and the page says so."""
    face = load_split(fer2013_dir, "PublicTest").images[0]
    ok, png = cv2.imencode(".png", face)
    assert ok
    expected = analyze(decode_image(png.tobytes(), "face.png"), classifier)
    assert len(expected) == 1 and expected[0].source in ("padded", "whole-image")
    at = upload(open_page(repo_root, UPLOAD), ("PublicTest_face.png", png.tobytes()))
    shown = texts(at)
    whole = " (whole image)" if expected[0].source == "whole-image" else ""
    assert f"**1 face found**{whole}" in shown
    assert f"**Face 1: {expected[0].label}** ({expected[0].confidence:.1%})" in shown
    note = "whole image was read as one face" if whole else "on a copy with a border added"
    assert note in "\n".join(i.value for i in at.info)  # a visible note, never silent
    assert at.toggle(key=[t.key for t in at.toggle if t.key.endswith("_whole")][0]).value is False


def test_upload_all_files_switch_reads_every_photo_whole(repo_root: Path, astronaut_path: Path, classifier) -> None:
    at = upload(open_page(repo_root, UPLOAD), ("astronaut.png", astronaut_path.read_bytes()))
    at.toggle(key="upload_whole_all").set_value(True).run()
    assert not at.exception, at.exception
    expected = analyze(decode_image(astronaut_path.read_bytes()), classifier, whole_face=True)[0]
    shown = texts(at)
    assert "**1 face found** (whole image)" in shown
    assert f"**Face 1: {expected.label}** ({expected.confidence:.1%})" in shown
    per_file = [t for t in at.toggle if t.key.endswith("_whole")]
    assert len(per_file) == 1 and per_file[0].disabled  # the all-files switch decides while it is on


def test_corrupt_upload_is_reported_and_others_still_show(repo_root: Path, astronaut_path: Path) -> None:
    at = upload(
        open_page(repo_root, UPLOAD), ("broken.jpg", b"not an image"), ("astronaut.png", astronaut_path.read_bytes())
    )
    assert any("broken.jpg" in e.value for e in at.error)
    assert "**1 face found**" in texts(at)


def test_upload_exports_match_cli(astronaut_path: Path, classifier, capsys: pytest.CaptureFixture) -> None:
    """The upload page's JSON/CSV downloads are built by fer.results, as ``predict --json`` is."""
    assert cli_main(["predict", str(astronaut_path), "--json"]) == 0
    from_cli = json.loads(capsys.readouterr().out)
    result = analyze_bytes(astronaut_path.read_bytes(), "astronaut.png", classifier)
    assert json.loads(results_json([result])) == [{**from_cli[0], "path": "astronaut.png"}]
    rows = list(csv.DictReader(io.StringIO(results_csv([result]))))
    assert [r["label"] for r in rows] == [f["label"] for f in from_cli[0]["faces"]]


# ----------------------------------------------------------------------------- evaluation
def test_evaluation_matches_cli(
    repo_root: Path, fer2013_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    assert cli_main(["evaluate", "--data", str(fer2013_dir), "--split", "PublicTest", "--json"]) == 0
    expected = json.loads(capsys.readouterr().out)
    monkeypatch.setenv("FER2013_DIR", str(fer2013_dir))
    at = open_page(repo_root, EVALUATION)
    at.selectbox(key="eval_split").set_value("PublicTest").run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Top-1 accuracy"] == f"{expected['top1']:.2%}"
    assert metrics["Top-2 accuracy"] == f"{expected['top2']:.2%}"
    assert metrics["Faces"] == f"{expected['n']:,}"
    assert not at.error
    assert len(at.get("plotly_chart")) >= 3


def test_evaluation_without_data_shows_stored_card(
    repo_root: Path, card: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "no-fer2013"
    empty.mkdir()
    monkeypatch.setenv("FER2013_DIR", str(empty))
    at = open_page(repo_root, EVALUATION)
    shown = texts(at)
    assert "Stored in the model card" in shown
    assert "FER2013_DIR" in shown and "How to evaluate" in shown
    assert {m.label: m.value for m in at.metric}["Top-1 accuracy"] == f"{stored_top1(card, 'PrivateTest'):.2%}"
    assert not at.error


# ----------------------------------------------------------------------------- broken model
@pytest.fixture
def broken_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """models/ replaced by a folder holding the real card and a truncated .tflite (no .keras)."""
    models = tmp_path / "models"
    models.mkdir()
    shutil.copy(MODELS_DIR / f"{DEFAULT_MODEL}.json", models)
    (models / f"{DEFAULT_MODEL}.tflite").write_bytes((MODELS_DIR / f"{DEFAULT_MODEL}.tflite").read_bytes()[:4000])
    monkeypatch.setattr(ui.common, "MODELS_DIR", models)
    ui.common._load_classifier.clear()  # the good model may already be cached by earlier tests
    yield models
    ui.common._load_classifier.clear()


@pytest.mark.parametrize("page", [HOME, UPLOAD, EVALUATION])
def test_broken_model_shows_clear_message(repo_root: Path, broken_model: Path, page: str) -> None:
    at = open_page(repo_root, page)
    errors = [e.value for e in at.error]
    assert any("cannot be used" in e and "corrupt TFLite model" in e for e in errors), errors


def test_home_and_evaluation_compare_every_model_on_both_forms_and_real_faces(repo_root: Path) -> None:
    """Issue 31 item 4: every installed model side by side, on both FER2013 forms and on the real faces,
    with the figures of its card."""
    from fer.registry import list_models

    names = list_models(MODELS_DIR)
    for page in (HOME, EVALUATION):
        at = open_page(repo_root, page)
        table = next(d.value for d in at.dataframe if "real faces" in d.value.columns)
        assert [m.replace(" (default)", "") for m in table["model"]] == names
        for name, row in zip(names, table.itertuples(index=False)):
            card = json.loads((MODELS_DIR / f"{name}.json").read_text())
            csv_top1 = card["forms"]["original"]["PrivateTest"]["top1"]
            assert row[table.columns.get_loc("top-1 CSV")] == pytest.approx(100 * csv_top1, abs=0.005)
            real_top1 = card["real_faces"]["top1"]
            assert row[table.columns.get_loc("real faces")] == pytest.approx(100 * real_top1, abs=0.005)
