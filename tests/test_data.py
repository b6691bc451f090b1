"""fer.data on the real FER2013 copy and on small CSVs / image folders built from real faces in tmp_path."""

from __future__ import annotations

import csv
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

import fer.data
from fer.data import DatasetError, load_split, read_csv_text
from fer.labels import CLASS_NAMES, FACE_SIZE, NUM_CLASSES, SPLITS

#: Faces per split and class, from the dataset's README (identical in fer2013.csv and the image folders).
EXPECTED_COUNTS: dict[str, dict[str, int]] = {
    "Training": {
        "angry": 3995,
        "disgust": 436,
        "fear": 4097,
        "happy": 7215,
        "sad": 4830,
        "surprise": 3171,
        "neutral": 4965,
    },
    "PublicTest": {"angry": 467, "disgust": 56, "fear": 496, "happy": 895, "sad": 653, "surprise": 415, "neutral": 607},
    "PrivateTest": {
        "angry": 491,
        "disgust": 55,
        "fear": 528,
        "happy": 879,
        "sad": 594,
        "surprise": 416,
        "neutral": 626,
    },
}
EXPECTED_TOTALS = {"Training": 28709, "PublicTest": 3589, "PrivateTest": 3589}
HEADER = ["emotion", "pixels", "Usage"]
_SPLIT_DIR = {"Training": "train", "PublicTest": "test", "PrivateTest": "test"}


@dataclass(frozen=True)
class Face:
    split: str
    label: int
    pixels: np.ndarray  # uint8 48x48, as decoded by OpenCV
    file: Path | None  # the real JPEG it came from (image-folder data), else None


# ----------------------------------------------------------------------------- helpers
def _pick_faces(fer2013_dir: Path, per_split: dict[str, int]) -> list[Face]:
    """A few real faces of every class and split; from the image folders when present, else the CSV."""
    faces: list[Face] = []
    if fer2013_dir.is_dir():
        for split, n in per_split.items():
            for label, name in enumerate(CLASS_NAMES):
                class_dir = fer2013_dir / _SPLIT_DIR[split] / name
                names = sorted(f for f in (p.name for p in class_dir.iterdir()) if f.startswith(f"{split}_"))[:n]
                for fname in names:
                    pixels = cv2.imread(str(class_dir / fname), cv2.IMREAD_GRAYSCALE)
                    assert pixels is not None and pixels.shape == (FACE_SIZE, FACE_SIZE), class_dir / fname
                    faces.append(Face(split, label, pixels, class_dir / fname))
    else:
        for split, n in per_split.items():
            data = load_split(fer2013_dir, split)
            for label in range(NUM_CLASSES):
                for i in np.flatnonzero(data.labels == label)[:n]:
                    faces.append(Face(split, label, data.images[i], None))
    return faces


def _build_folder(root: Path, faces: list[Face]) -> Path:
    """An image-folder copy of ``faces`` under ``root`` (real JPEGs copied; lossless PNGs for CSV data)."""
    for k, face in enumerate(faces):
        class_dir = root / _SPLIT_DIR[face.split] / CLASS_NAMES[face.label]
        class_dir.mkdir(parents=True, exist_ok=True)
        if face.file is not None:
            shutil.copy(face.file, class_dir / face.file.name)
        else:
            assert cv2.imwrite(str(class_dir / f"{face.split}_{k:05d}.png"), face.pixels)
    return root


def _csv_row(label: int | str, pixels: np.ndarray | str, usage: str) -> list[str]:
    text = pixels if isinstance(pixels, str) else " ".join(str(int(v)) for v in np.asarray(pixels).ravel())
    return [str(label), text, usage]


def _write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER, delimiter: str = ",") -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, delimiter=delimiter)  # "\r\n" line endings, as Kaggle's file has
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _canonical(images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort faces by (label, pixels) so loaders that order rows differently can be compared exactly."""
    flat = images.reshape(len(images), -1)
    order = np.lexsort(tuple(flat[:, j] for j in reversed(range(flat.shape[1]))) + (labels,))
    return images[order], labels[order]


def _assert_well_formed(images: np.ndarray, labels: np.ndarray) -> None:
    assert images.dtype == np.uint8
    assert images.ndim == 3 and images.shape[1:] == (FACE_SIZE, FACE_SIZE)
    assert labels.dtype == np.int64
    assert labels.shape == (images.shape[0],)
    assert labels.min() >= 0 and labels.max() < NUM_CLASSES


@pytest.fixture(scope="module")
def sample_faces(fer2013_dir: Path) -> list[Face]:
    """70 real faces: 10 per class (4 Training, 3 PublicTest, 3 PrivateTest)."""
    return _pick_faces(fer2013_dir, {"Training": 4, "PublicTest": 3, "PrivateTest": 3})


@pytest.fixture
def good_pixels(sample_faces: list[Face]) -> np.ndarray:
    return sample_faces[0].pixels


# ----------------------------------------------------------------------------- the real dataset
@pytest.mark.parametrize("split", SPLITS)
def test_real_split_matches_readme_counts(fer2013_dir: Path, split: str) -> None:
    data = load_split(fer2013_dir, split)
    _assert_well_formed(data.images, data.labels)
    assert data.split == split
    assert len(data) == EXPECTED_TOTALS[split]
    assert data.class_counts() == EXPECTED_COUNTS[split]
    assert data.skipped == 0 and data.problems == []
    assert len(data.fingerprint) == 16
    # real faces, not blank arrays: every image has some contrast
    assert (data.images.reshape(len(data), -1).std(axis=1) > 0).mean() > 0.99


def test_split_names_are_case_insensitive_and_checked(fer2013_dir: Path) -> None:
    assert len(load_split(fer2013_dir, "publictest")) == EXPECTED_TOTALS["PublicTest"]
    with pytest.raises(DatasetError, match="unknown split 'Validation'"):
        load_split(fer2013_dir, "Validation")


def test_missing_source_is_explained(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such file or folder; give a fer2013.csv or the image-folder root"):
        load_split(tmp_path / "nowhere", "Training")


# ----------------------------------------------------------------------------- CSV and folders agree
def test_csv_round_trip_equals_images(tmp_path: Path, sample_faces: list[Face]) -> None:
    """A CSV written from 70 decoded faces (mixed Usage, shuffled rows) reads back to exactly those pixels."""
    rows_faces = list(sample_faces)
    random.Random(0).shuffle(rows_faces)
    csv_path = _write_csv(tmp_path / "fer2013.csv", [_csv_row(f.label, f.pixels, f.split) for f in rows_faces])
    text = csv_path.read_text(encoding="utf-8")
    for split in SPLITS:
        expected = [f for f in rows_faces if f.split == split]  # CSV order is row order
        want_images = np.stack([f.pixels for f in expected])
        want_labels = np.array([f.label for f in expected], dtype=np.int64)
        from_file = load_split(csv_path, split, use_cache=False)
        from_text = read_csv_text(text, split, name="upload.csv")
        for data in (from_file, from_text):
            _assert_well_formed(data.images, data.labels)
            np.testing.assert_array_equal(data.images, want_images)
            np.testing.assert_array_equal(data.labels, want_labels)
            assert data.skipped == 0
        assert from_file.fingerprint == from_text.fingerprint
        assert from_text.source == "upload.csv"


def test_folder_and_csv_forms_give_the_same_faces(tmp_path: Path, sample_faces: list[Face]) -> None:
    folder = _build_folder(tmp_path / "fer2013", sample_faces)
    csv_path = _write_csv(tmp_path / "fer2013.csv", [_csv_row(f.label, f.pixels, f.split) for f in sample_faces])
    for split in SPLITS:
        a = load_split(folder, split, use_cache=False)
        b = load_split(csv_path, split, use_cache=False)
        assert a.class_counts() == b.class_counts() == {n: (4 if split == "Training" else 3) for n in CLASS_NAMES}
        for x, y in zip(_canonical(a.images, a.labels), _canonical(b.images, b.labels), strict=True):
            np.testing.assert_array_equal(x, y)


def test_csv_header_variants_are_accepted(tmp_path: Path, good_pixels: np.ndarray) -> None:
    """A UTF-8 BOM, other column order and capitalisation, and any-case Usage values all read."""
    path = tmp_path / "reordered.csv"
    rows = [["training", _csv_row(3, good_pixels, "x")[1], "3"], ["PUBLICTEST", _csv_row(0, good_pixels, "x")[1], "0"]]
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        writer.writerow(["Usage", "Pixels", "Emotion"])
        writer.writerows(rows)
    data = load_split(path, "Training", use_cache=False)
    assert data.labels.tolist() == [3]
    np.testing.assert_array_equal(data.images[0], good_pixels)
    assert load_split(path, "PublicTest", use_cache=False).labels.tolist() == [0]


def test_folder_reader_ignores_non_images_and_resizes(tmp_path: Path, sample_faces: list[Face]) -> None:
    training = [f for f in sample_faces if f.split == "Training"]
    root = _build_folder(tmp_path / "fer2013", training)
    (root / "train" / "happy" / "notes.txt").write_text("not a face")
    (root / "train" / "happy" / ".DS_Store").write_bytes(b"\0\1")
    big = cv2.resize(training[0].pixels, (96, 96), interpolation=cv2.INTER_CUBIC)
    assert cv2.imwrite(str(root / "train" / "happy" / "Training_big.png"), big)
    data = load_split(root, "Training", use_cache=False)
    assert len(data) == len(training) + 1
    _assert_well_formed(data.images, data.labels)
    assert data.skipped == 0


# ----------------------------------------------------------------------------- cache
@pytest.mark.parametrize("form", ["folder", "csv"])
def test_cache_is_written_and_reloads_identically(
    form: str, tmp_path: Path, sample_faces: list[Face], isolated_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if form == "folder":
        source = _build_folder(tmp_path / "fer2013", sample_faces)
    else:
        source = _write_csv(tmp_path / "fer2013.csv", [_csv_row(f.label, f.pixels, f.split) for f in sample_faces])
    assert list(isolated_cache.iterdir()) == []

    first = load_split(source, "PublicTest")
    cached = sorted(isolated_cache.glob("*.npz"))
    assert len(cached) == 1 and "PublicTest" in cached[0].name
    assert not list(isolated_cache.glob("*.tmp*")), "temporary cache files must not be left behind"

    def no_decoding(*args: object, **kwargs: object) -> None:
        raise AssertionError("the second load decoded the source instead of reading the cache")

    monkeypatch.setattr(fer.data, "_read_folder", no_decoding)
    monkeypatch.setattr(fer.data, "_read_csv", no_decoding)
    second = load_split(source, "PublicTest")
    np.testing.assert_array_equal(second.images, first.images)
    np.testing.assert_array_equal(second.labels, first.labels)
    assert second.images.dtype == np.uint8 and second.labels.dtype == np.int64
    assert (second.fingerprint, second.skipped, second.problems) == (first.fingerprint, 0, [])


def test_use_cache_false_writes_nothing(tmp_path: Path, sample_faces: list[Face], isolated_cache: Path) -> None:
    source = _build_folder(tmp_path / "fer2013", sample_faces)
    load_split(source, "Training", use_cache=False)
    assert list(isolated_cache.iterdir()) == []


def test_cache_follows_changes_to_the_folder(tmp_path: Path, sample_faces: list[Face], isolated_cache: Path) -> None:
    training = [f for f in sample_faces if f.split == "Training"]
    root = _build_folder(tmp_path / "fer2013", training)
    assert len(load_split(root, "Training")) == len(training)
    extra = root / "train" / "happy" / "Training_extra.png"
    assert cv2.imwrite(str(extra), training[0].pixels)
    assert len(load_split(root, "Training")) == len(training) + 1, "a stale cache hid the new face"
    extra.unlink()
    assert len(load_split(root, "Training")) == len(training)


def test_damaged_cache_is_rebuilt(tmp_path: Path, sample_faces: list[Face], isolated_cache: Path) -> None:
    source = _build_folder(tmp_path / "fer2013", sample_faces)
    first = load_split(source, "PrivateTest")
    (cache_file,) = isolated_cache.glob("*.npz")
    cache_file.write_bytes(b"this is not an npz file")
    again = load_split(source, "PrivateTest")
    np.testing.assert_array_equal(again.images, first.images)
    with np.load(cache_file) as z:  # rewritten, readable again
        np.testing.assert_array_equal(z["labels"], first.labels)


def test_skip_bad_result_is_cached_with_its_report(
    tmp_path: Path, sample_faces: list[Face], isolated_cache: Path
) -> None:
    training = [f for f in sample_faces if f.split == "Training"]
    root = _build_folder(tmp_path / "fer2013", training)
    (root / "train" / "sad" / "Training_broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    first = load_split(root, "Training", skip_bad=True)
    second = load_split(root, "Training", skip_bad=True)
    assert first.skipped == second.skipped == 1
    assert second.problems == first.problems and "Training_broken.jpg" in second.problems[0]
    np.testing.assert_array_equal(second.images, first.images)


# ----------------------------------------------------------------------------- bad CSV data
def _bad_csv(tmp_path: Path, good_pixels: np.ndarray, bad_row: list[str]) -> Path:
    """Two good Training rows, then ``bad_row`` (file line 4), then another good one."""
    rows = [_csv_row(0, good_pixels, "Training"), _csv_row(1, good_pixels, "Training"), bad_row]
    rows.append(_csv_row(2, good_pixels, "Training"))
    return _write_csv(tmp_path / "bad.csv", rows)


def test_csv_missing_column(tmp_path: Path, good_pixels: np.ndarray) -> None:
    path = _write_csv(tmp_path / "nocol.csv", [["3", "Training"]], header=["emotion", "Usage"])
    with pytest.raises(DatasetError, match=r"missing column\(s\) pixels; found emotion, Usage") as err:
        load_split(path, "Training", use_cache=False)
    assert "nocol.csv" in str(err.value) and "expected 'emotion,pixels,Usage'" in str(err.value)


def test_csv_row_with_2303_pixels(tmp_path: Path, good_pixels: np.ndarray) -> None:
    short = " ".join(str(int(v)) for v in good_pixels.ravel()[:-1])
    path = _bad_csv(tmp_path, good_pixels, ["4", short, "Training"])
    with pytest.raises(DatasetError, match=r"bad\.csv: row 4: has 2303 pixels, expected 2304 \(48x48\)"):
        load_split(path, "Training", use_cache=False)


def test_csv_non_numeric_pixel(tmp_path: Path, good_pixels: np.ndarray) -> None:
    values = [str(int(v)) for v in good_pixels.ravel()]
    values[100] = "12a"
    path = _bad_csv(tmp_path, good_pixels, ["4", " ".join(values), "Training"])
    with pytest.raises(DatasetError, match=r"row 4: pixel value '12a' is not an integer"):
        load_split(path, "Training", use_cache=False)


def test_csv_pixel_out_of_range(tmp_path: Path, good_pixels: np.ndarray) -> None:
    values = [str(int(v)) for v in good_pixels.ravel()]
    values[0] = "256"
    path = _bad_csv(tmp_path, good_pixels, ["4", " ".join(values), "Training"])
    with pytest.raises(DatasetError, match=r"row 4: pixel values must lie in 0-255"):
        load_split(path, "Training", use_cache=False)


def test_csv_label_out_of_range(tmp_path: Path, good_pixels: np.ndarray) -> None:
    path = _bad_csv(tmp_path, good_pixels, _csv_row(9, good_pixels, "Training"))
    with pytest.raises(DatasetError, match=r"bad\.csv: row 4: emotion 9 is out of range 0-6"):
        load_split(path, "Training", use_cache=False)


def test_csv_non_integer_label(tmp_path: Path, good_pixels: np.ndarray) -> None:
    path = _bad_csv(tmp_path, good_pixels, _csv_row("happy", good_pixels, "Training"))
    with pytest.raises(DatasetError, match=r"row 4: emotion 'happy' is not an integer 0-6"):
        load_split(path, "Training", use_cache=False)


def test_csv_row_with_too_few_fields(tmp_path: Path, good_pixels: np.ndarray) -> None:
    path = _bad_csv(tmp_path, good_pixels, ["4"])
    with pytest.raises(DatasetError, match=r"row 4: has 1 fields, expected 3"):
        load_split(path, "Training", use_cache=False)


def test_csv_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(DatasetError, match=r"empty\.csv: the file is empty; expected a header 'emotion,pixels,Usage'"):
        load_split(path, "Training", use_cache=False)
    with pytest.raises(DatasetError, match="the file is empty"):
        read_csv_text("", "Training")


def test_csv_with_semicolons(tmp_path: Path, good_pixels: np.ndarray) -> None:
    path = _write_csv(tmp_path / "semi.csv", [_csv_row(3, good_pixels, "Training")], delimiter=";")
    with pytest.raises(DatasetError) as err:
        load_split(path, "Training", use_cache=False)
    msg = str(err.value)
    assert "semi.csv" in msg and "missing column(s) emotion, pixels, usage" in msg
    assert "separated by something other than commas" in msg


def test_csv_binary_file(tmp_path: Path, sample_faces: list[Face]) -> None:
    path = tmp_path / "photo.csv"
    ok, jpeg = cv2.imencode(".jpg", sample_faces[0].pixels)
    path.write_bytes(jpeg.tobytes())
    with pytest.raises(DatasetError, match="not a text CSV file"):
        load_split(path, "Training", use_cache=False)


def test_csv_without_the_split(tmp_path: Path, good_pixels: np.ndarray) -> None:
    path = _write_csv(tmp_path / "train_only.csv", [_csv_row(3, good_pixels, "Training")])
    with pytest.raises(DatasetError, match=r"train_only\.csv: no PrivateTest faces found"):
        load_split(path, "PrivateTest", use_cache=False)


def test_csv_skip_bad_counts_skipped_rows(tmp_path: Path, good_pixels: np.ndarray) -> None:
    short = " ".join(["0"] * 2303)
    rows = [
        _csv_row(0, good_pixels, "Training"),
        ["1", short, "Training"],  # row 3
        _csv_row(9, good_pixels, "Training"),  # row 4
        _csv_row(2, good_pixels, "PublicTest"),  # other split: not counted
        ["3", "x " * 2304, "Training"],  # row 6
        _csv_row(4, good_pixels, "Training"),
    ]
    path = _write_csv(tmp_path / "mixed.csv", rows)
    data = load_split(path, "Training", skip_bad=True, use_cache=False)
    assert data.labels.tolist() == [0, 4]
    assert data.skipped == 3
    assert [p.split(": ")[1] for p in data.problems] == ["row 3", "row 4", "row 6"]
    text_data = read_csv_text(path.read_text(), "Training", skip_bad=True)
    assert text_data.skipped == 3 and text_data.labels.tolist() == [0, 4]
    with pytest.raises(DatasetError, match="row 3"):
        load_split(path, "Training", use_cache=False)


# ----------------------------------------------------------------------------- bad image folders
def test_folder_without_split_folders(tmp_path: Path) -> None:
    root = tmp_path / "photos"
    (root / "faces").mkdir(parents=True)
    with pytest.raises(DatasetError) as err:
        load_split(root, "Training", use_cache=False)
    msg = str(err.value)
    assert str(root) in msg and "no 'train/' folder (found: faces)" in msg
    assert "train/<class>/Training_*.jpg" in msg


def test_folder_with_unknown_class(tmp_path: Path, sample_faces: list[Face]) -> None:
    root = _build_folder(tmp_path / "fer2013", [f for f in sample_faces if f.split == "Training"])
    joy = root / "train" / "joy"
    joy.mkdir()
    assert cv2.imwrite(str(joy / "Training_1.png"), sample_faces[0].pixels)
    with pytest.raises(DatasetError, match=r"unknown class folder 'joy'; expected angry, disgust") as err:
        load_split(root, "Training", use_cache=False)
    assert str(joy) in str(err.value)


def test_folder_with_corrupt_image(tmp_path: Path, sample_faces: list[Face]) -> None:
    training = [f for f in sample_faces if f.split == "Training"]
    root = _build_folder(tmp_path / "fer2013", training)
    bad = root / "train" / "fear" / "Training_00000000.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 truncated JPEG")
    with pytest.raises(DatasetError, match="unreadable image file") as err:
        load_split(root, "Training", use_cache=False)
    assert str(bad) in str(err.value)

    data = load_split(root, "Training", skip_bad=True, use_cache=False)
    assert data.skipped == 1 and len(data) == len(training)
    assert data.problems == [f"{bad}: unreadable image file (not a decodable image)"]
    _assert_well_formed(data.images, data.labels)


def test_folder_test_file_without_split_prefix(tmp_path: Path, sample_faces: list[Face]) -> None:
    public = [f for f in sample_faces if f.split == "PublicTest"]
    root = _build_folder(tmp_path / "fer2013", public)
    stray = root / "test" / "happy" / "face_001.png"
    assert cv2.imwrite(str(stray), public[0].pixels)
    with pytest.raises(DatasetError, match="no PublicTest_/PrivateTest_ prefix") as err:
        load_split(root, "PublicTest", use_cache=False)
    assert str(stray) in str(err.value)
    data = load_split(root, "PublicTest", skip_bad=True, use_cache=False)
    assert data.skipped == 1 and len(data) == len(public)


def test_folder_with_no_faces_of_the_split(tmp_path: Path, sample_faces: list[Face]) -> None:
    root = _build_folder(tmp_path / "fer2013", [f for f in sample_faces if f.split == "PublicTest"])
    with pytest.raises(DatasetError, match="no PrivateTest faces found"):
        load_split(root, "PrivateTest", use_cache=False)


# ----------------------------------------------------------------------------- the original CSV as users hold it
def _shared_csv_gz(fer2013_dir: Path) -> Path:
    """``fer2013-csv/fer2013.csv.gz`` beside the image folders: the original pixels (rows are missing there,
    so its split sizes are read from the file, never assumed to be 3,589)."""
    path = fer2013_dir.parent / "fer2013-csv" / "fer2013.csv.gz"
    if not path.exists():
        pytest.fail(f"{path} is missing: the original-pixel CSV must lie beside the image folders")
    return path


@pytest.mark.parametrize("split", ["PublicTest", "PrivateTest"])
def test_real_csv_gz_reads_and_matches_the_folder_copy(fer2013_dir: Path, split: str) -> None:
    """The shared .csv.gz loads as it is; its faces are the folder's faces before equalisation: the same
    class mix within the missing rows, and equalising a row gives (nearly) its JPEG."""
    data = load_split(_shared_csv_gz(fer2013_dir), split)
    _assert_well_formed(data.images, data.labels)
    counts = data.class_counts()
    for name, expected in EXPECTED_COUNTS[split].items():
        assert expected - 20 <= counts[name] <= expected
    # Original pixels have lower contrast than the equalised copy (README: mean std 65 against 78).
    folder = load_split(fer2013_dir, split)
    assert data.images.std(axis=(1, 2)).mean() < folder.images.std(axis=(1, 2)).mean() - 5


def test_kaggle_tar_gz_and_gzip_csv_read_as_they_are(tmp_path: Path, sample_faces: list[Face]) -> None:
    """Kaggle's ``fer2013.tar.gz`` (``fer2013/fer2013.csv`` inside, beside a README) and a gzipped CSV give
    the plain CSV's faces without unpacking; a damaged archive is a clear DatasetError."""
    import gzip
    import tarfile

    plain = _write_csv(tmp_path / "fer2013.csv", [_csv_row(f.label, f.pixels, f.split) for f in sample_faces])
    gz = tmp_path / "fer2013.csv.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    archive = tmp_path / "fer2013.tar.gz"
    readme = tmp_path / "README"
    readme.write_text("FER2013 from Kaggle\n")
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(readme, arcname="fer2013/README")
        tar.add(plain, arcname="fer2013/fer2013.csv")
    for split in SPLITS:
        want = load_split(plain, split, use_cache=False)
        for other in (gz, archive):
            got = load_split(other, split, use_cache=False)
            np.testing.assert_array_equal(got.images, want.images)
            np.testing.assert_array_equal(got.labels, want.labels)
    broken = tmp_path / "broken.csv.gz"
    broken.write_bytes(gz.read_bytes()[: len(gz.read_bytes()) // 2])
    with pytest.raises(DatasetError, match="damaged compressed file"):
        load_split(broken, "Training", use_cache=False)
    empty_tar = tmp_path / "nocsv.tar.gz"
    with tarfile.open(empty_tar, "w:gz") as tar:
        tar.add(readme, arcname="fer2013/README")
    with pytest.raises(DatasetError, match="without a .csv file"):
        load_split(empty_tar, "Training", use_cache=False)
