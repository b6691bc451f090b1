"""The Evaluation page's FER+ figures, label switch, split mistakes gallery and Robustness tab, in AppTest
with the real shipped models on real PublicTest. Expected values come from the engine (the CLI's code).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest
from support.pages import EVALUATION, open_page

from fer.classifier import Classifier
from fer.cli import main as cli
from fer.data import load_split
from fer.evaluation import robustness
from fer.evaluation.degrade import KINDS
from fer.evaluation.evaluate import evaluate
from fer.evaluation.ferplus_eval import disputed_mask
from fer.ferplus import split_votes
from fer.labels import CLASS_NAMES
from fer.registry import DEFAULT_MODEL
from ui.evaluation.vote_bar import BAR_PX, with_vote_bar

SPLIT = "PublicTest"


@pytest.fixture
def page(repo_root: Path, fer2013_dir: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    if not (fer2013_dir / "ferplus.csv").is_file():
        pytest.skip("the image-folder copy with ferplus.csv is needed")
    monkeypatch.setenv("FER2013_DIR", str(fer2013_dir))
    at = open_page(repo_root, EVALUATION)
    at.selectbox(key="eval_split").set_value(SPLIT).run()
    assert not at.exception, at.exception
    return at


def _table(at: AppTest, column: str):  # noqa: ANN202 - a pandas DataFrame
    """The value of the first dataframe on the page with ``column``."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _cli_ferplus(fer2013_dir: Path, capsys: pytest.CaptureFixture) -> dict:
    assert cli.main(["evaluate", "--data", str(fer2013_dir), "--split", SPLIT, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_ferplus_figures_and_split_mistakes_match_the_cli(
    page: AppTest, fer2013_dir: Path, model_stem: Path, capsys: pytest.CaptureFixture
) -> None:
    expected = _cli_ferplus(fer2013_dir, capsys)
    fp = expected["ferplus"]
    metrics = {m.label: m.value for m in page.metric}
    assert metrics["Top-1 accuracy"] == f"{expected['top1']:.2%}"  # FER2013 labels by default
    assert metrics["Top-1 vs FER+ majority"] == f"{fp['top1']:.2%}"
    assert metrics["FER2013 label = FER+ majority"] == f"{fp['agree_with_fer2013']:.2%}"
    assert metrics["Disputed mistakes"] == f"{fp['disputed']:,} of {fp['mistakes']:,}"
    table = _table(page, "disputed labels")
    assert list(table["disputed labels"]) == [fp["per_class"][c]["disputed"] for c in CLASS_NAMES]

    # the mistakes gallery, split: counts from a direct computation over all mistakes
    data = load_split(fer2013_dir, SPLIT)
    classifier = Classifier.load(model_stem)
    ev = evaluate(classifier, data, expected["tta"])
    majority = split_votes(fer2013_dir, SPLIT).majority()
    disputed = int(disputed_mask(data.labels, ev.predicted, majority).sum())
    wrong = int((ev.predicted != data.labels).sum())
    shown = "\n".join(str(m.value) for m in page.markdown)
    assert f"**The label is disputed** — {disputed:,} faces" in shown
    assert f"**The model is wrong** — {wrong - disputed:,} faces" in shown
    assert "FER+ annotators' votes" in shown  # the bar's legend
    assert len(page.get("image")) == 3  # the cell, then the two halves of the mistakes gallery

    page.button_group(key="eval_truth").set_value("FER+ majority").run()
    assert not page.exception, page.exception
    metrics = {m.label: m.value for m in page.metric}
    assert metrics["Top-1 accuracy"] == f"{fp['top1']:.2%}" and metrics["Top-2 accuracy"] == f"{fp['top2']:.2%}"
    assert metrics["Faces"] == f"{fp['n']:,}"
    assert "The label is disputed" not in "\n".join(str(m.value) for m in page.markdown)
    page.switch_page("pages/home.py").run()
    page.switch_page("pages/evaluation.py").run()
    assert {m.label: m.value for m in page.metric}["Faces"] == f"{fp['n']:,}"  # the switch is kept


@pytest.mark.slow  # a whole split of the CSV through the page and the CLI: ~20 s
def test_csv_form_gets_the_same_ferplus_figures_as_the_cli(
    repo_root: Path, fer2013_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """The original CSV's rows are matched to the voted files by pixels: the page and the CLI agree."""
    csv_path = fer2013_dir.parent / "fer2013-csv" / "fer2013.csv.gz"
    if not csv_path.is_file() or not (fer2013_dir / "ferplus.csv").is_file():
        pytest.skip("both data forms are needed")
    monkeypatch.setenv("FERPLUS_CSV", str(fer2013_dir / "ferplus.csv"))
    assert cli.main(["evaluate", "--data", str(csv_path), "--split", SPLIT, "--json"]) == 0
    fp = json.loads(capsys.readouterr().out)["ferplus"]
    monkeypatch.setenv("FER2013_DIR", str(csv_path))
    at = open_page(repo_root, EVALUATION)
    at.selectbox(key="eval_split").set_value(SPLIT).run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Top-1 vs FER+ majority"] == f"{fp['top1']:.2%}"
    assert metrics["Disputed mistakes"] == f"{fp['disputed']:,} of {fp['mistakes']:,}"


def test_vote_bar_shows_each_vote_in_its_emotions_colour() -> None:
    face = np.zeros((100, 100), np.uint8)
    image = with_vote_bar(face, np.array([5, 0, 0, 0, 5, 0, 0, 0, 0, 0], np.int16))  # 5 neutral, 5 anger
    assert image.shape == (100 + BAR_PX, 100, 3)
    bar = image[100 + BAR_PX // 2]
    assert tuple(bar[10]) == (230, 57, 70) and tuple(bar[90]) == (160, 160, 160)  # angry first, then neutral
    assert (image[:100] == 0).all()
    none = with_vote_bar(face, np.full(10, -1, np.int16))[100:]
    assert len(np.unique(none)) == 2  # hatched grey: no votes


@pytest.mark.slow  # 30 model passes per model and run
def test_robustness_tab_draws_both_models_curves(
    page: AppTest, fer2013_dir: Path, repo_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(robustness, "SAMPLE", 300)  # the page's default sample is 800 faces
    page.selectbox(key="compare_model").set_value("fer_cnn").run()
    assert not page.exception, page.exception
    assert _table(page, "top-1 vs FER+")["model"].tolist() == [DEFAULT_MODEL, "fer_cnn"]
    page.session_state["eval_tab"] = "Robustness"
    page.run()
    assert not page.exception, page.exception
    assert not page.metric  # the Report tab did not run
    charts = [json.loads(c.proto.spec) for c in page.get("plotly_chart")]
    assert len(charts) == len(KINDS)
    assert all([t["name"] for t in c["data"]] == [DEFAULT_MODEL, "fer_cnn"] for c in charts)
    data = load_split(fer2013_dir, SPLIT)
    direct = robustness.robustness(Classifier.load(repo_root / "models" / "fer_cnn"), data)
    table = page.dataframe[-1].value
    rows = table[table["model"] == "fer_cnn"]
    assert rows["degradation"].tolist() == [c.kind for c in direct]
    for text, curve in zip(rows["top-1 by level"], direct):
        assert text.startswith(f"none {curve.top1[0]:.1%}") and text.endswith(f"{curve.top1[-1]:.1%}")
