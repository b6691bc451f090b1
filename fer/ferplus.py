"""FERPlus annotator votes for FER2013 faces: the soft labels for training and the "is it the label?"
figures for evaluation.

``ferplus.csv`` (beside the image-folder copy) gives, per JPEG path relative to that folder, the votes
of 10 annotators over ``neutral, happiness, surprise, sadness, anger, disgust, fear, contempt,
unknown, NF``. The image folders load in :func:`fer.data.folder_files` order, so votes line up by
path. The original CSV has no file names: each of its rows is matched to its JPEG by pixels (the JPEG
is close to ``cv2.equalizeHist`` of the row), within its split and label, and the match is cached.

Class mapping, chosen deliberately: the seven FER+ emotions that FER2013 also has map one to one;
``contempt`` (not a FER2013 class), ``unknown`` and ``NF`` (not a face) are left out of the target
distribution, so a face whose votes are all such gets no FER+ target (it keeps its FER2013 label
only) and has no majority.
"""

from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from fer.data import (
    DatasetError,
    cache_dir,
    canonical_split,
    default_data_dir,
    folder_files,
    load_split,
)
from fer.fingerprints import source_fingerprint
from fer.labels import CLASS_NAMES, NUM_CLASSES
from fer.locations import shared_dir

FERPLUS_COLUMNS = (
    "neutral",
    "happiness",
    "surprise",
    "sadness",
    "anger",
    "disgust",
    "fear",
    "contempt",
    "unknown",
    "NF",
)
# FER+ column index -> FER2013 class index (angry, disgust, fear, happy, sad, surprise, neutral).
_TO_FER2013 = {"anger": 0, "disgust": 1, "fear": 2, "happiness": 3, "sadness": 4, "surprise": 5, "neutral": 6}
FERPLUS_FILE = "ferplus.csv"
_MATCH_VERSION = 2


@dataclass(frozen=True)
class SplitVotes:
    """FER+ votes for the faces of one loaded split, row for row; ``votes`` is -1 where FER+ has none."""

    split: str
    votes: np.ndarray  # int16 [N, 10], FERPLUS_COLUMNS order; -1 rows: no votes for that face

    @property
    def available(self) -> np.ndarray:
        return self.votes[:, 0] >= 0

    def class_votes(self) -> np.ndarray:
        """Votes over the 7 FER2013 classes (FER2013 order), float32 [N, 7]; zero rows where none."""
        out = np.zeros((len(self.votes), NUM_CLASSES), np.float32)
        for col, name in enumerate(FERPLUS_COLUMNS):
            if name in _TO_FER2013:
                out[:, _TO_FER2013[name]] = np.maximum(self.votes[:, col], 0)
        return out

    def distribution(self) -> tuple[np.ndarray, np.ndarray]:
        """The annotators' distribution over the 7 classes and a mask of faces that have one."""
        votes = self.class_votes()
        total = votes.sum(1, keepdims=True)
        has = total[:, 0] > 0
        return np.where(has[:, None], votes / np.maximum(total, 1.0), 0.0).astype(np.float32), has

    def majority(self) -> np.ndarray:
        """The FER+ majority class per face, -1 where there is no clear one.

        Clear: one of the 7 classes has strictly more votes than every other FER+ column (contempt,
        unknown and not-a-face included), so ties and faces most annotators call something else drop out.
        """
        v = np.where(self.votes < 0, 0, self.votes).astype(np.int32)
        top = v.max(1)
        unique = (v == top[:, None]).sum(1) == 1
        best = v.argmax(1)
        out = np.full(len(v), -1, np.int64)
        for col, name in enumerate(FERPLUS_COLUMNS):
            if name in _TO_FER2013:
                out[(best == col) & unique & self.available & (top > 0)] = _TO_FER2013[name]
        return out


def read_votes(path: Path) -> dict[str, np.ndarray]:
    """``ferplus.csv`` as {relative path: int16[10] votes}; files with empty vote fields are left out.

    An unreadable or malformed file is a DatasetError naming it.
    """
    try:
        return _read_votes(path)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(f"{path}: cannot read the FER+ votes ({exc})") from None


def _read_votes(path: Path) -> dict[str, np.ndarray]:
    votes: dict[str, np.ndarray] = {}
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if not header or [h.strip() for h in header[1:11]] != list(FERPLUS_COLUMNS):
            raise DatasetError(f"{path}: expected the header file,{','.join(FERPLUS_COLUMNS)}")
        for row in reader:
            if len(row) < 11 or not all(c.strip() for c in row[1:11]):
                continue
            try:
                votes[row[0].strip().replace("\\", "/")] = np.array([int(c) for c in row[1:11]], np.int16)
            except ValueError:
                continue
    return votes


def find_votes_file(data: str | Path | None, ferplus: str | Path | None = None) -> Path | None:
    """Where the votes are: ``--ferplus PATH`` if given, else ``$FERPLUS_CSV``, else ``ferplus.csv``
    beside the data in use, beside the default FER2013 folder, or in ``../shared/fer2013`` (where a CSV
    user's image-folder copy sits beside ``../shared/fer2013-csv``); ``None`` when there is none.

    Raises DatasetError when an explicitly given file (argument or variable) does not exist."""
    explicit = ferplus or os.environ.get("FERPLUS_CSV")
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise DatasetError(f"no FER+ votes file at {path} (expected ferplus.csv)")
        return path
    folders = [shared_dir() / "fer2013"]
    root = default_data_dir()
    if root is not None:
        folders.insert(0, root if root.is_dir() else root.parent)
    if data is not None:
        p = Path(data).expanduser()
        folders.insert(0, p if p.is_dir() else p.parent)
    return next((f / FERPLUS_FILE for f in folders if (f / FERPLUS_FILE).is_file()), None)


def split_votes(data: str | Path, split: str, ferplus: str | Path | None = None) -> SplitVotes | None:
    """FER+ votes aligned with ``load_split(data, split)``; ``None`` when no votes file can be found."""
    split = canonical_split(split)
    votes_file = find_votes_file(data, ferplus)
    if votes_file is None:
        return None
    votes = read_votes(votes_file)
    image_root = votes_file.parent
    data_path = Path(data).expanduser()
    if data_path.is_dir():
        files, _ = folder_files(data_path, split)
        rel = [_relative(f, data_path) for f, _ in files]
    else:
        rel = _match_csv_rows(data_path, image_root, split)
    out = np.full((len(rel), len(FERPLUS_COLUMNS)), -1, np.int16)
    for i, r in enumerate(rel):
        if r is not None and r in votes:
            out[i] = votes[r]
    return SplitVotes(split, out)


def _relative(f: Path, root: Path) -> str:
    return f.relative_to(root).as_posix()


def _match_csv_rows(csv_path: Path, image_root: Path, split: str) -> list[str | None]:
    """For each CSV row of ``split``, the image-folder file holding the same face (``None`` if none).

    The JPEG is ``equalizeHist`` of the row plus JPEG noise: equalise the row, then find the nearest
    JPEG of the same split and label on 16x16 thumbnails, accepted when clearly nearer than the
    runner-up or close in absolute terms. Cached per (CSV, folder, split).
    """
    key = hashlib.sha256(
        f"{_MATCH_VERSION}|{source_fingerprint(csv_path)}|{source_fingerprint(image_root)}|{split}".encode()
    ).hexdigest()[:16]
    cache = cache_dir() / f"ferplus-match-{key}.txt"
    if cache.exists():
        lines = cache.read_text().splitlines()
        return [line or None for line in lines]
    rows = load_split(csv_path, split, skip_bad=True)
    jpgs = load_split(image_root, split, skip_bad=True)
    files, _ = folder_files(image_root, split)
    names = [_relative(f, image_root) for f, _ in files]
    if len(names) != len(jpgs):  # unreadable files were skipped: no safe alignment
        raise DatasetError(f"{image_root}: some {split} files are unreadable; cannot match CSV rows to FER+ votes")
    result: list[str | None] = [None] * len(rows)
    row_thumbs = _thumbs(np.stack([cv2.equalizeHist(im) for im in rows.images]))
    jpg_thumbs = _thumbs(jpgs.images)
    for label in range(NUM_CLASSES):
        ri = np.flatnonzero(rows.labels == label)
        ji = np.flatnonzero(jpgs.labels == label)
        if len(ri) == 0 or len(ji) == 0:
            continue
        for a, b, close in (
            (row_thumbs[ri], jpg_thumbs[ji], 5000.0),  # duplicates in FER2013: identical faces, either is right
            (_standardised(row_thumbs[ri]), _standardised(jpg_thumbs[ji]), 10.0),  # equalised differently
        ):
            todo = np.array([result[r] is None for r in ri])
            if not todo.any():
                break
            d = (a[todo] ** 2).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a[todo] @ b.T
            order = np.argsort(d, axis=1)[:, :2]
            rows_k = np.arange(len(d))
            best = d[rows_k, order[:, 0]]
            second = d[rows_k, order[:, 1]] if d.shape[1] > 1 else np.full(len(d), np.inf)
            ok = (best < 0.5 * second) | (best < close)
            for k, r in zip(np.flatnonzero(ok), ri[todo][ok], strict=True):
                result[r] = names[ji[order[k, 0]]]
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text("\n".join(r or "" for r in result) + "\n")
    except OSError:
        pass
    return result


def _standardised(v: np.ndarray) -> np.ndarray:
    """Rows scaled to zero mean and unit norm x16: distance then ignores brightness and contrast."""
    v = v - v.mean(1, keepdims=True)
    return 16.0 * v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-6)


def _thumbs(images: np.ndarray) -> np.ndarray:
    """16x16 area-averaged thumbnails as float32 vectors (per-pixel mean grey, 0-255)."""
    small = images.reshape(len(images), 16, 3, 16, 3).astype(np.float32).mean((2, 4))
    return small.reshape(len(images), -1)


def describe() -> str:
    """One line for model cards and the UI on how votes become targets."""
    return (
        "FER+ votes of 10 annotators mapped to the 7 FER2013 classes; contempt, unknown and not-a-face "
        "votes dropped; majority = a class with strictly more votes than any other column"
    )


__all__ = ["CLASS_NAMES", "FERPLUS_COLUMNS", "SplitVotes", "describe", "find_votes_file", "read_votes", "split_votes"]
