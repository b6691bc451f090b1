"""The Evaluation page's model comparison, in AppTest with the two real shipped models on real PublicTest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.pages import EVALUATION, open_page

from fer.cli import main as cli
from fer.labels import CLASS_NAMES
from fer.registry import DEFAULT_MODEL


def test_comparison_view_shows_the_cli_deltas(
    repo_root: Path, fer2013_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    models = repo_root / "models"
    args = ["evaluate", "--data", str(fer2013_dir), "--split", "PublicTest", "--json"]
    assert cli.main([*args, "--model", str(models / DEFAULT_MODEL), "--model", str(models / "fer_cnn")]) == 0
    expected = json.loads(capsys.readouterr().out)["comparison"]

    monkeypatch.setenv("FER2013_DIR", str(fer2013_dir))
    at = open_page(repo_root, EVALUATION)
    at.selectbox(key="eval_split").set_value("PublicTest").run()
    assert not at.exception, at.exception
    compare = at.selectbox(key="compare_model")
    assert compare.options[0] == "—" and "fer_cnn" in compare.options
    compare.set_value("fer_cnn").run()
    assert not at.exception, at.exception
    metrics = {m.label: m for m in at.metric}
    top1 = metrics["Top-1 of fer_cnn"]
    assert top1.delta == f"{expected['top1_delta'] * 100:+.2f} pp"
    table = at.dataframe[-1].value
    assert list(table["emotion"]) == list(CLASS_NAMES)
    for name, delta in zip(table["emotion"], table["Δ"]):
        assert delta == pytest.approx(expected["f1_delta"][name])
    d = expected["disagreements"]
    assert f"{d['total']:,} faces" in "\n".join(str(m.value) for m in at.markdown)
    at.radio(key="compare_gallery").set_value("only_a_right").run()
    assert not at.exception and not at.error
