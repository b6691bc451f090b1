"""``python -m fer evaluate --photos DIR`` and the Evaluation page's "Your labelled photos" source.

The folder tree is built here from real FER2013 PublicTest faces (upscaled, some pasted into larger
canvases, some left 48x48), with synonym folder names, one junk file, one undecodable "image" and one
unknown folder. The figures are checked against a direct computation through the photo pipeline.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from fer.cli.main import main
from fer.data import DatasetError
from fer.evaluation.photo_eval import emotion_of, evaluate_photos, open_photo_set, photo_set_from_zip
from fer.imageio import decode_image
from fer.labels import CLASS_NAMES
from fer.options import Options
from fer.pipeline import analyze

#: Folder name per class: FER2013 names and synonyms, as users name them.
FOLDERS = {"angry": "Anger", "disgust": "disgust", "fear": "fearful", "happy": "happiness", "sad": "Sadness"}
PER_CLASS = 4


@pytest.fixture(scope="module")
def photo_tree(tmp_path_factory: pytest.TempPathFactory, public_test) -> Path:
    root = tmp_path_factory.mktemp("labelled") / "my-photos"
    rng = np.random.default_rng(5)
    for name, folder in FOLDERS.items():
        (root / folder).mkdir(parents=True)
        picks = np.flatnonzero(public_test.labels == CLASS_NAMES.index(name))[:PER_CLASS]
        for j, i in enumerate(picks):
            face = public_test.images[i]
            if j == 0:
                image = face  # a 48x48 crop
            elif j == 1:
                image = cv2.resize(face, (240, 240), interpolation=cv2.INTER_CUBIC)  # an upscaled tight crop
            else:  # pasted into a larger canvas, its border replicated as context
                big = cv2.resize(face, (160, 160), interpolation=cv2.INTER_CUBIC)
                x, y = (int(v) for v in rng.integers(0, 200, 2))
                image = cv2.copyMakeBorder(big, y, 440 - y, x, 640 - x, cv2.BORDER_REPLICATE)
            cv2.imwrite(str(root / folder / f"{name}_{j}.{'png' if j == 0 else 'jpg'}"), image)
    (root / FOLDERS["happy"] / "notes.txt").write_text("not a photo")
    (root / FOLDERS["sad"] / "broken.jpg").write_bytes(b"\xff\xd8 this is not a JPEG")
    (root / "contempt").mkdir()
    cv2.imwrite(str(root / "contempt" / "x.png"), public_test.images[0])
    return root


def _direct(root: Path, classifier) -> dict:
    """The figures computed straight from the pipeline, file by file."""
    rows = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        label = emotion_of(folder.name)
        if label is None:
            continue
        for f in sorted(folder.iterdir()):
            try:
                faces = analyze(decode_image(f.read_bytes(), f.name), classifier, tta=False)
            except ValueError:  # ImageDecodeError: not an image
                continue
            face = max(faces, key=lambda f: f.box[2] * f.box[3]) if faces else None  # the largest face
            rows.append((label, None if face is None else face.probs, None if face is None else face.source))
    labels = np.array([r[0] for r in rows])
    top1 = np.array([p is not None and int(np.argmax(p)) == y for y, p, _ in rows])
    top2 = np.array([p is not None and y in np.argsort(p)[::-1][:2] for y, p, _ in rows])
    found = np.array([s in ("detector", "padded") for *_, s in rows])
    confusion = np.zeros((7, 8), int)
    for y, p, _ in rows:
        confusion[y, 7 if p is None else int(np.argmax(p))] += 1
    return {
        "n": len(rows),
        "found": int(found.sum()),
        "top1": float(top1.mean()),
        "top2": float(top2.mean()),
        "top1_found": float(top1[found].mean()),
        "recall": {CLASS_NAMES[k]: float(top1[labels == k].mean()) for k in set(labels.tolist())},
        "confusion": confusion.tolist(),
    }


def test_evaluate_photos_json_matches_a_direct_computation(
    photo_tree: Path, classifier, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["evaluate", "--photos", str(photo_tree), "--no-tta", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    expected = _direct(photo_tree, classifier)
    assert doc["n"] == expected["n"] == len(FOLDERS) * PER_CLASS
    assert doc["found"] == expected["found"]
    assert doc["found_rate"] == pytest.approx(expected["found"] / expected["n"])
    assert doc["top1"] == pytest.approx(expected["top1"]) and doc["top2"] == pytest.approx(expected["top2"])
    assert doc["top1_found"] == pytest.approx(expected["top1_found"])
    assert doc["confusion"] == expected["confusion"]
    for name, recall in expected["recall"].items():
        assert doc["per_class"][name]["recall"] == pytest.approx(recall)
        assert doc["per_class"][name]["support"] == PER_CLASS
    assert doc["per_class"]["surprise"] == {"recall": None, "support": 0}
    assert doc["unknown_folders"] == ["contempt"]
    assert doc["skipped"] == 2 and any("notes.txt" in s for s in doc["skipped_files"])
    assert any("broken.jpg" in s for s in doc["skipped_files"])
    assert doc["confusion_columns"][-1] == "no face" and doc["ms_per_photo"] > 0


def test_evaluate_photos_human_output(photo_tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", "--photos", str(photo_tree), "--no-tta"]) == 0
    out = capsys.readouterr().out
    assert "20 photos: face found in" in out and "unknown folders (skipped): contempt" in out
    assert "2 file(s) skipped" in out


def _two_face_photo(small: Path, large: Path) -> np.ndarray:
    """A real photo composite (BGR): ``small``'s face on the left, ``large``'s, over twice the size, on the right."""
    canvas = np.full((520, 900, 3), 120, np.uint8)
    canvas[170:370, 20:220] = cv2.resize(cv2.imread(str(small)), (200, 200), interpolation=cv2.INTER_AREA)
    canvas[20:500, 400:880] = cv2.resize(cv2.imread(str(large)), (480, 480), interpolation=cv2.INTER_AREA)
    return canvas


def test_the_largest_face_is_scored_not_the_leftmost(tmp_path: Path, astronaut_path: Path, classifier) -> None:
    """A small smiling face left of a large neutral one, filed under neutral: the large face is scored.

    Faces are numbered (and listed) left to right, so the first face is the small one; scoring it read
    every such photo wrong (issue 23).
    """
    real = astronaut_path.parent / "real"  # 800 real face photos beside the portrait (its README)
    happy, neutral = (sorted((real / name).glob("*.jpg"))[:4] for name in ("happy", "neutral"))
    folder = tmp_path / "neutral"
    folder.mkdir()
    for i, (small, large) in enumerate((s, n) for s in happy for n in neutral):
        image = _two_face_photo(small, large)
        faces = analyze(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), classifier, tta=False)
        if [f.label for f in faces] == ["happy", "neutral"]:  # the left face happy, the right one neutral
            cv2.imwrite(str(folder / f"pair_{i}.png"), image)
    written = sorted(folder.iterdir())
    assert len(written) >= 3, "too few real pairs read as happy (left) and neutral (right)"
    ev = evaluate_photos(open_photo_set(tmp_path), classifier, Options(tta=False))
    assert ev.report.n == len(written) and ev.report.top1 == 1.0  # the leftmost face would score 0 %
    for outcome, path in zip(sorted(ev.outcomes, key=lambda o: o.name), written):
        faces = analyze(decode_image(path.read_bytes(), path.name), classifier, tta=False)
        assert outcome.faces == 2 and faces[0].area < faces[1].area  # numbered left to right: small first
        np.testing.assert_allclose(outcome.probs, faces[1].probs, atol=1e-6)


def test_zip_in_memory_gives_the_same_photos(photo_tree: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for f in sorted(photo_tree.rglob("*")):
            if f.is_file():
                archive.write(f, f"my-photos/{f.relative_to(photo_tree).as_posix()}")  # one wrapping folder
        archive.writestr("__MACOSX/._junk", b"")
    zipped = photo_set_from_zip(buffer.getvalue(), "photos.zip")
    folder = open_photo_set(photo_tree)
    assert [(p.name, p.label) for p in zipped.photos] == [(p.name, p.label) for p in folder.photos]
    assert zipped.unknown_folders == folder.unknown_folders == ["contempt"]
    assert zipped.photos[0].read() == (photo_tree / zipped.photos[0].name).read_bytes()


def test_folder_names_and_bad_sources() -> None:
    assert emotion_of("Happiness") == emotion_of("happy") == CLASS_NAMES.index("happy")
    assert emotion_of("anger") == 0 and emotion_of("SADNESS") == 4 and emotion_of("surprised") == 5
    assert emotion_of("contempt") is None
    with pytest.raises(DatasetError, match="no such folder"):
        open_photo_set(Path("/nonexistent/photos"))
    with pytest.raises(DatasetError, match="not a readable .zip"):
        photo_set_from_zip(b"PK\x03\x04 broken", "x.zip")


def test_evaluate_photos_on_a_folder_without_emotions_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "holiday").mkdir()
    (tmp_path / "holiday" / "a.jpg").write_bytes(b"x")
    assert main(["evaluate", "--photos", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no labelled photos" in err and "holiday" in err


def test_evaluation_page_labelled_photos_match_the_cli(
    repo_root: Path, photo_tree: Path, classifier, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FER_DATA_ROOTS", str(photo_tree.parent))  # where the app may read typed paths
    tta = classifier.default_tta
    assert main(["evaluate", "--photos", str(photo_tree), "--json", "--tta" if tta else "--no-tta"]) == 0
    expected = json.loads(capsys.readouterr().out)
    at = AppTest.from_file(str(repo_root / "app.py"), default_timeout=600).run()
    at.switch_page("pages/evaluation.py").run()
    at.radio(key="eval_source").set_value("Your labelled photos").run()
    at.text_input(key="photos_path").set_value(str(photo_tree)).run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Top-1 (all photos)"] == f"{expected['top1']:.2%}"
    assert metrics["Top-2 (all photos)"] == f"{expected['top2']:.2%}"
    assert metrics["Face found"] == f"{expected['found_rate']:.1%}"
    assert metrics["Photos"] == str(expected["n"])
    warnings = "\n".join(w.value for w in at.warning)
    assert "contempt" in warnings and "2 file(s) skipped" in warnings
    assert not at.error
