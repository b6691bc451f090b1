"""FER+ votes: parsed, matched to the right faces in both data forms, and the figures built on them.

Hand-checked rows (read off ``ferplus.csv``, columns neutral, happiness, surprise, sadness, anger,
disgust, fear, contempt, unknown, NF) are found again through ``split_votes`` for the image folders and
for the original CSV, whose rows carry no file names. The FER+ figures are recomputed here directly.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from fer.cli import main as cli
from fer.data import DatasetError, folder_files, load_split
from fer.evaluation.evaluate import evaluate
from fer.evaluation.ferplus_eval import against_majority, disputed_mask, ferplus_report
from fer.ferplus import SplitVotes, find_votes_file, read_votes, split_votes
from fer.labels import CLASS_NAMES

ANGRY, NEUTRAL = CLASS_NAMES.index("angry"), CLASS_NAMES.index("neutral")
#: file -> (votes, FER+ majority as a FER2013 class index, -1 for none)
HAND_CHECKED = {
    "test/angry/PublicTest_10116449.jpg": ([8, 0, 0, 1, 1, 0, 0, 0, 0, 0], NEUTRAL),  # FER2013 says angry
    "test/angry/PublicTest_10813312.jpg": ([3, 0, 0, 0, 6, 1, 0, 0, 0, 0], ANGRY),
    "test/angry/PublicTest_28628397.jpg": ([5, 0, 0, 0, 5, 0, 0, 0, 0, 0], -1),  # a tie: no clear majority
}
DROPPED = "test/angry/PublicTest_5543497.jpg"  # empty vote fields: FER+ dropped it


@pytest.fixture(scope="module")
def folder_votes(fer2013_dir: Path) -> tuple[list[str], SplitVotes]:
    if not (fer2013_dir / "ferplus.csv").is_file():
        pytest.skip("the image-folder copy with ferplus.csv is needed")
    files, _ = folder_files(fer2013_dir, "PublicTest")
    return [f.relative_to(fer2013_dir).as_posix() for f, _ in files], split_votes(fer2013_dir, "PublicTest")


@pytest.fixture(scope="module")
def csv_path(fer2013_dir: Path) -> Path:
    env = os.environ.get("FER2013_CSV")
    path = Path(env) if env else fer2013_dir.parent / "fer2013-csv" / "fer2013.csv.gz"
    if not path.is_file():
        pytest.skip(f"the original CSV form is needed ({path}; set FER2013_CSV)")
    return path


def test_read_votes_parses_the_hand_checked_rows(fer2013_dir: Path) -> None:
    votes = read_votes(fer2013_dir / "ferplus.csv")
    for name, (expected, _) in HAND_CHECKED.items():
        assert votes[name].tolist() == expected
    assert DROPPED not in votes


def test_folder_votes_line_up_with_the_loaded_faces(folder_votes: tuple[list[str], SplitVotes]) -> None:
    names, votes = folder_votes
    assert len(votes.votes) == len(names)
    majority = votes.majority()
    for name, (expected, maj) in HAND_CHECKED.items():
        i = names.index(name)
        assert votes.votes[i].tolist() == expected
        assert majority[i] == maj
    assert not votes.available[names.index(DROPPED)] and majority[names.index(DROPPED)] == -1


def test_majority_rule() -> None:
    votes = np.array(
        [
            [0, 0, 0, 0, 6, 0, 0, 0, 4, 0],  # anger beats unknown: angry
            [0, 0, 0, 0, 3, 0, 0, 4, 3, 0],  # contempt has most: no FER2013 class
            [4, 4, 0, 0, 0, 0, 0, 0, 2, 0],  # tie
            [0, 0, 0, 0, 0, 0, 0, 0, 0, 10],  # not a face
            [-1] * 10,  # dropped
        ],
        np.int16,
    )
    assert SplitVotes("PublicTest", votes).majority().tolist() == [ANGRY, -1, -1, -1, -1]


def _nearest_csv_row(csv_faces: np.ndarray, jpeg: np.ndarray) -> int:
    """The CSV row whose equalised pixels are nearest the JPEG (the JPEGs are equalised copies)."""
    eq = np.stack([cv2.equalizeHist(f) for f in csv_faces]).astype(np.int32)
    return int(np.abs(eq - jpeg.astype(np.int32)).mean((1, 2)).argmin())


def test_csv_rows_get_the_votes_of_the_same_face(fer2013_dir: Path, csv_path: Path) -> None:
    csv_data = load_split(csv_path, "PublicTest")
    votes = split_votes(csv_path, "PublicTest", fer2013_dir / "ferplus.csv")
    assert len(votes.votes) == len(csv_data)
    for name, (expected, maj) in HAND_CHECKED.items():
        jpeg = cv2.imread(str(fer2013_dir / name), cv2.IMREAD_GRAYSCALE)
        row = _nearest_csv_row(csv_data.images, jpeg)
        assert csv_data.labels[row] == ANGRY
        assert votes.votes[row].tolist() == expected, name
        assert votes.majority()[row] == maj
    # matched for nearly every face, and the agreement with FER2013 is the folder form's
    folder = split_votes(fer2013_dir, "PublicTest")
    assert votes.available.mean() > 0.98
    agree = [
        float((v.majority()[v.majority() >= 0] == d.labels[v.majority() >= 0]).mean())
        for v, d in ((votes, csv_data), (folder, load_split(fer2013_dir, "PublicTest")))
    ]
    assert agree[0] == pytest.approx(agree[1], abs=0.005)


def test_ferplus_report_matches_a_direct_computation(fer2013_dir: Path, classifier, public_test) -> None:  # noqa: ANN001
    ev = evaluate(classifier, public_test, tta=False)
    votes = split_votes(fer2013_dir, "PublicTest")
    rep = ferplus_report(public_test.labels, ev.probs, votes)
    maj = votes.majority()
    rows = [i for i in range(len(maj)) if maj[i] >= 0]
    pred = [int(np.argmax(ev.probs[i])) for i in rows]
    second = [int(np.argsort(ev.probs[i])[-2]) for i in rows]
    assert rep.n == len(rows)
    assert rep.top1 == pytest.approx(sum(p == maj[i] for p, i in zip(pred, rows)) / len(rows))
    assert rep.top2 == pytest.approx(sum(maj[i] in (p, s) for p, s, i in zip(pred, second, rows)) / len(rows))
    assert rep.agree_with_fer2013 == pytest.approx(sum(public_test.labels[i] == maj[i] for i in rows) / len(rows))
    expected = np.zeros((7, 7), int)
    for p, i in zip(pred, rows):
        expected[maj[i], p] += 1
    assert rep.confusion == expected.tolist()
    wrong = [(i, p) for p, i in zip(pred, rows) if p != public_test.labels[i]]
    assert rep.mistakes == len(wrong)
    assert rep.disputed == sum(p == maj[i] for i, p in wrong)
    assert sum(c["disputed"] for c in rep.per_class.values()) == rep.disputed
    assert 0.5 < rep.agree_with_fer2013 < 0.8  # the README's "about 67%"
    assert disputed_mask(public_test.labels, ev.predicted, maj).sum() == rep.disputed

    rescored, keep = against_majority(ev, votes)
    assert rescored.report.n == rep.n and rescored.report.top1 == pytest.approx(rep.top1)
    assert rescored.data.labels.tolist() == maj[keep].tolist()
    assert rescored.report.confusion == rep.confusion


def test_cli_json_has_the_ferplus_block(
    fer2013_dir: Path,
    model_stem: Path,
    classifier,
    capsys: pytest.CaptureFixture,  # noqa: ANN001
) -> None:
    args = ["evaluate", "--data", str(fer2013_dir), "--split", "PublicTest", "--no-tta", "--json"]
    assert cli.main([*args, "--model", str(model_stem)]) == 0
    out = json.loads(capsys.readouterr().out)
    expected = ferplus_report(
        load_split(fer2013_dir, "PublicTest").labels,
        evaluate(classifier, load_split(fer2013_dir, "PublicTest"), tta=False).probs,
        split_votes(fer2013_dir, "PublicTest"),
    )
    assert out["ferplus"]["n"] == expected.n
    assert out["ferplus"]["top1"] == pytest.approx(expected.top1)
    assert out["ferplus"]["confusion"] == expected.confusion
    assert {"n", "top1", "top2", "confusion", "agree_with_fer2013"} <= set(out["ferplus"])
    assert out["top1"] != out["ferplus"]["top1"]


def test_cli_missing_votes_file_is_a_clear_error(
    fer2013_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    args = ["evaluate", "--data", str(fer2013_dir), "--split", "PublicTest", "--json"]
    assert cli.main([*args, "--ferplus", str(tmp_path / "nope.csv")]) == 2
    assert "no FER+ votes file" in capsys.readouterr().err
    bad = tmp_path / "ferplus.csv"
    bad.write_text("file,a,b\n")
    assert cli.main([*args, "--ferplus", str(bad)]) == 2
    assert "expected the header" in capsys.readouterr().err
    with pytest.raises(DatasetError):
        split_votes(fer2013_dir, "PublicTest", tmp_path / "nope.csv")


def test_votes_file_is_found_beside_the_data_or_where_the_variable_says(
    fer2013_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FERPLUS_CSV", raising=False)
    assert find_votes_file(fer2013_dir) == fer2013_dir / "ferplus.csv"
    copy = tmp_path / "votes.csv"
    copy.write_bytes((fer2013_dir / "ferplus.csv").read_bytes())
    monkeypatch.setenv("FERPLUS_CSV", str(copy))
    assert find_votes_file(fer2013_dir) == copy
    assert find_votes_file(fer2013_dir, fer2013_dir / "ferplus.csv") == fer2013_dir / "ferplus.csv"  # --ferplus wins
    monkeypatch.setenv("FERPLUS_CSV", str(tmp_path / "missing.csv"))
    with pytest.raises(DatasetError, match="no FER\\+ votes file"):
        find_votes_file(fer2013_dir)
