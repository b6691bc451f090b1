"""Broken FER2013 data on the Evaluation page: a clear error naming the row or file, never a traceback.

tests/test_data.py checks fer.data's messages; here each defect goes through the page the way a user
gives data to it: a path typed into the *FER2013 location* box, or a CSV dropped on the upload widget.
After the error the page must still explain how to get data and show the model card's figures.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest
from support.pages import EVALUATION, open_page

from ui.plain_text import plain

SPLIT = "PrivateTest"  # the page's default split
HEADER = "emotion,pixels,Usage"
DEEP = 1200  # folder levels, above sys.getrecursionlimit() (1000)


def _pixels(n: int = 48 * 48, seed: int = 0) -> str:
    return " ".join(str(v) for v in np.random.default_rng(seed).integers(0, 256, n))


def _csv(*rows: tuple[str, str, str], header: str = HEADER, delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(header.split(","))
    writer.writerows(rows)
    return buffer.getvalue().encode()


GOOD = ("3", _pixels(), SPLIT)


@dataclass(frozen=True)
class CsvCase:
    id: str
    data: bytes
    expect: tuple[str, ...]  # what is wrong, and where (row numbers count the header as row 1)


CSV_CASES = [
    CsvCase("missing-columns", _csv(("3", _pixels()), header="emotion,pixels"), ("missing column(s) usage",)),
    CsvCase("2303-pixels", _csv(GOOD, ("1", _pixels(2303), SPLIT)), ("row 3:", "has 2303 pixels, expected 2304")),
    CsvCase(
        "non-numeric-pixels",
        _csv(("2", "abc " + _pixels(2303), SPLIT), GOOD),
        ("row 2:", "pixel value 'abc' is not an integer"),
    ),
    CsvCase("label-9", _csv(GOOD, GOOD, ("9", _pixels(), SPLIT)), ("row 4:", "emotion 9 is out of range 0-6")),
    CsvCase("empty-file", b"", ("the file is empty", "expected a header 'emotion,pixels,Usage'")),
    CsvCase(
        "semicolons",
        _csv(GOOD, header="emotion;pixels;Usage", delimiter=";"),
        ("missing column(s)", "separated by something other than commas"),
    ),
    CsvCase("binary", cv2.imencode(".png", np.zeros((48, 48), np.uint8))[1].tobytes(), ("not a text CSV file",)),
]


def _face_png(path: Path, seed: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), np.random.default_rng(seed).integers(0, 256, (48, 48), dtype=np.uint8))


def _folder_no_split(root: Path) -> str:
    _face_png(root / "images" / "happy" / f"{SPLIT}_00001.png", 1)
    return "no 'test/' folder (found: images)"


def _folder_unknown_class(root: Path) -> str:
    _face_png(root / "test" / "happy" / f"{SPLIT}_00001.png", 1)
    _face_png(root / "test" / "joy" / f"{SPLIT}_00002.png", 2)
    return "unknown class folder 'joy'"


def _folder_unreadable_image(root: Path) -> str:
    _face_png(root / "test" / "happy" / f"{SPLIT}_00001.png", 1)
    bad = root / "test" / "sad" / f"{SPLIT}_00002.jpg"
    bad.parent.mkdir(parents=True)
    bad.write_text("this is not a JPEG")
    return f"{bad}: unreadable image file"


def _folder_unprefixed_file(root: Path) -> str:
    _face_png(root / "test" / "happy" / f"{SPLIT}_00001.png", 1)
    _face_png(root / "test" / "happy" / "face.png", 2)
    return f"{root / 'test' / 'happy' / 'face.png'}: no PublicTest_/PrivateTest_ prefix"


def _folder_other_split_only(root: Path) -> str:
    _face_png(root / "test" / "happy" / "PublicTest_00001.png", 1)
    return f"no {SPLIT} faces found"


def _folder_deep_unrelated_tree(root: Path) -> str:
    """A wrong folder (think of a home folder) whose unrelated content nests deeper than Python's
    recursion limit: found by this test, fingerprinting it used to walk it all and raise RecursionError."""
    folder = root / "photos"
    folder.mkdir(parents=True)
    for _ in range(DEEP):
        folder = folder / "a"
        folder.mkdir()  # one level at a time: os.makedirs itself recurses per level
    return "no 'test/' folder (found: photos)"


FOLDER_CASES = {
    "no-split-folders": _folder_no_split,
    "deep-unrelated-tree": _folder_deep_unrelated_tree,
    "unknown-class": _folder_unknown_class,
    "unreadable-image": _folder_unreadable_image,
    "file-without-split-prefix": _folder_unprefixed_file,
    "no-faces-of-the-split": _folder_other_split_only,
}


@pytest.fixture(scope="module")
def evaluation_page(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppTest]:
    """The Evaluation page with the good model and no default data (FER2013_DIR points at an empty folder).

    Shared by the module's tests: each sets the path box or the upload and checks that run's output.
    """
    empty = tmp_path_factory.mktemp("no-fer2013")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FER2013_DIR", str(empty))
        mp.setenv("FER_DATA_ROOTS", str(tmp_path_factory.getbasetemp()))  # the cases' folders may be typed
        mp.setenv("FER_CACHE_DIR", str(tmp_path_factory.mktemp("fer-cache")))  # nothing lands in the user cache
        at = open_page(repo_root, EVALUATION)
        assert at.text_input(key="eval_path").value == str(empty) and not at.error
        yield at


@pytest.fixture
def page(evaluation_page: AppTest) -> AppTest:
    """The shared page back in its starting state: no upload, the path box on the empty default folder."""
    evaluation_page.file_uploader(key="eval_csv").set_value([])
    evaluation_page.text_input(key="eval_path").set_value(os.environ["FER2013_DIR"]).run()
    assert not evaluation_page.exception and not evaluation_page.error
    return evaluation_page


def shows_error(at: AppTest, *phrases: str) -> str:
    """The run raised nothing, showed exactly one error with every phrase, and still guides the user."""
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1, errors
    assert errors[0].startswith("**This data cannot be used.**"), errors[0]
    for phrase in phrases:
        assert plain(phrase) in errors[0], f"{plain(phrase)!r} not in {errors[0]!r}"  # names shown literally
    assert any("How to evaluate" in m.value for m in at.markdown)
    assert any(s.value.startswith("Stored in the model card") for s in at.subheader)
    assert not any("Same numbers as" in c.value for c in at.caption)  # no evaluation ran on broken data
    return errors[0]


def type_path(at: AppTest, path: Path) -> AppTest:
    at.text_input(key="eval_path").set_value(str(path)).run()
    return at


@pytest.mark.parametrize("case", CSV_CASES, ids=[c.id for c in CSV_CASES])
def test_bad_csv_path(page: AppTest, tmp_path: Path, case: CsvCase) -> None:
    path = tmp_path / "fer2013.csv"
    path.write_bytes(case.data)
    shows_error(type_path(page, path), str(path), *case.expect)


@pytest.mark.parametrize("case", CSV_CASES, ids=[c.id for c in CSV_CASES])
def test_bad_csv_upload(page: AppTest, case: CsvCase) -> None:
    name = f"{case.id}.csv"
    page.file_uploader(key="eval_csv").set_value([(name, case.data, "text/csv")]).run()
    shows_error(page, name, *case.expect)


@pytest.mark.parametrize("build", FOLDER_CASES.values(), ids=FOLDER_CASES.keys())
def test_bad_image_folder_path(page: AppTest, tmp_path: Path, build) -> None:
    root = tmp_path / "fer2013"
    expect = build(root)
    try:
        shows_error(type_path(page, root), expect)
    finally:
        _remove_deep_trees(root)


def _remove_deep_trees(root: Path) -> None:
    """Delete the deep case's folder chain bottom-up (shutil.rmtree, used by pytest to clean up old temp
    folders, recurses once per level)."""
    deepest = top = root / "photos"
    while (deepest / "a").is_dir():
        deepest = deepest / "a"
    if deepest != top:
        while deepest != root:
            deepest.rmdir()
            deepest = deepest.parent


def test_missing_path_is_information_not_an_error(page: AppTest, tmp_path: Path) -> None:
    type_path(page, tmp_path / "typo")
    assert not page.exception and not page.error
    assert any("does not exist" in i.value for i in page.info)


def test_good_csv_after_errors_is_evaluated(page: AppTest, tmp_path: Path) -> None:
    """After all the broken inputs the same page still evaluates a valid file."""
    rows = [(str(k % 7), _pixels(seed=k), SPLIT) for k in range(14)]
    path = tmp_path / "fer2013.csv"
    path.write_bytes(_csv(*rows))
    type_path(page, path)
    assert not page.exception and not page.error
    assert {m.label: m.value for m in page.metric}["Faces"] == "14"
