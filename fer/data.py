"""Readers for FER2013 in both forms users have: the Kaggle CSV and the image-folder copy.

Both give the same thing, ``(images uint8 [N,48,48], labels int64 [N])`` for a named split, and both
cache the decoded arrays as ``.npz`` in a user cache folder so a second load takes well under a second.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
import tarfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

from fer.fingerprints import content_fingerprint, source_fingerprint
from fer.labels import CLASS_NAMES, FACE_SIZE, NUM_CLASSES, SPLITS
from fer.locations import shared_dir

_PIXELS = FACE_SIZE * FACE_SIZE
_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".pgm", ".tif", ".tiff"}
_SPLIT_DIRS = {"Training": "train", "PublicTest": "test", "PrivateTest": "test"}
_PREFIX = re.compile(r"^(Training|PublicTest|PrivateTest)_", re.IGNORECASE)
_CANONICAL_SPLIT = {s.lower(): s for s in SPLITS}


class DatasetError(ValueError):
    """FER2013 data that cannot be read; the message names the row or file and what is wrong."""


@dataclass(frozen=True)
class SplitData:
    """One decoded split of FER2013."""

    split: str
    images: np.ndarray  # uint8 [N, 48, 48]
    labels: np.ndarray  # int64 [N]
    fingerprint: str  # identifies the source version, for caches and model cards
    source: str
    skipped: int = 0
    problems: list[str] = field(default_factory=list)  # the first few skipped rows/files, explained

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def subset(self, limit: int, seed: int = 0) -> SplitData:
        """A fixed random subset of ``limit`` faces (all classes represented), for smoke runs and tests."""
        if not limit or limit >= len(self):
            return self
        idx = np.sort(np.random.default_rng(seed).permutation(len(self))[:limit])
        return replace(
            self, images=self.images[idx], labels=self.labels[idx], fingerprint=f"{self.fingerprint}:{limit}:{seed}"
        )

    def class_counts(self) -> dict[str, int]:
        counts = np.bincount(self.labels, minlength=NUM_CLASSES)
        return {name: int(c) for name, c in zip(CLASS_NAMES, counts)}


def canonical_split(split: str) -> str:
    """Accept any capitalisation of a FER2013 ``Usage`` value and return the canonical one."""
    try:
        return _CANONICAL_SPLIT[split.strip().lower()]
    except KeyError:
        raise DatasetError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}") from None


def default_data_dir() -> Path | None:
    """The FER2013 location from ``FER2013_DIR``, else ``../shared/fer2013`` beside the project."""
    env = os.environ.get("FER2013_DIR")
    if env:
        return Path(env).expanduser()
    candidate = shared_dir() / "fer2013"
    return candidate if candidate.exists() else None


def cache_dir() -> Path:
    """Folder for decoded-array caches (``FER_CACHE_DIR``, else the XDG cache folder)."""
    base = os.environ.get("FER_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "fer-dashboard"
    )
    return Path(base)


# ----------------------------------------------------------------------------- public entry point
def load_split(
    source: str | os.PathLike[str],
    split: str,
    *,
    skip_bad: bool = False,
    use_cache: bool = True,
) -> SplitData:
    """Decode one split of FER2013 from a ``fer2013.csv`` file or an image-folder root.

    ``skip_bad`` drops unreadable rows/files (and reports how many in ``SplitData.skipped``) instead of
    raising :class:`DatasetError` on the first one.
    """
    split = canonical_split(split)
    path = Path(source).expanduser()
    if not path.exists():
        raise DatasetError(f"{path}: no such file or folder; give a fer2013.csv or the image-folder root")
    key = f"{source_fingerprint(path)}-{split}-{int(skip_bad)}"
    cache_file = cache_dir() / f"{key}.npz"
    if use_cache and cache_file.exists():
        try:
            with np.load(cache_file, allow_pickle=False) as z:
                return SplitData(
                    split=split,
                    images=z["images"],
                    labels=z["labels"],
                    fingerprint=str(z["fingerprint"]),
                    source=str(path),
                    skipped=int(z["skipped"]),
                    problems=[str(p) for p in z["problems"]],
                )
        except (OSError, KeyError, ValueError):
            pass  # a damaged cache is rebuilt below
    if path.is_file():
        images, labels, problems = _read_csv(path, split, skip_bad)
    else:
        images, labels, problems = _read_folder(path, split, skip_bad)
    if len(labels) == 0:
        raise DatasetError(f"{path}: no {split} faces found")
    data = SplitData(
        split=split,
        images=images,
        labels=labels,
        fingerprint=content_fingerprint(images, labels),
        source=str(path),
        skipped=len(problems),
        problems=problems[:20],
    )
    if use_cache:
        _write_cache(cache_file, data)
    return data


def _write_cache(cache_file: Path, data: SplitData) -> None:
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_file.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(
            tmp,
            images=data.images,
            labels=data.labels,
            fingerprint=np.array(data.fingerprint),
            skipped=np.array(data.skipped),
            problems=np.array(data.problems, dtype=str),
        )
        os.replace(tmp, cache_file)
    except OSError:
        pass  # a read-only home only costs speed


# ----------------------------------------------------------------------------- CSV
def csv_text_from_bytes(data: bytes, name: str = "<csv>") -> str:
    """The text of an in-memory ``fer2013.csv``, ``.csv.gz`` or Kaggle ``fer2013.tar.gz`` (an upload),
    decompressed in memory only; UTF-8 with or without BOM."""
    if data[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise DatasetError(f"{name}: a damaged compressed file ({exc})") from None
        if len(raw) > 512 and raw[257:262] == b"ustar":  # a tar archive inside: take its first .csv
            with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
                member = next((m for m in tar if m.isfile() and m.name.lower().endswith(".csv")), None)
                if member is None:
                    raise DatasetError(f"{name}: a tar archive without a .csv file; expected Kaggle's fer2013.tar.gz")
                extracted = tar.extractfile(member)
                raw = extracted.read() if extracted is not None else b""
        data = raw
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{name}: not a text CSV file ({exc.reason}); expected FER2013's fer2013.csv") from None


def read_csv_bytes(data: bytes, split: str, *, skip_bad: bool = False, name: str = "<csv>") -> SplitData:
    """One split of an in-memory ``fer2013.csv`` file (an upload), plain or compressed."""
    return read_csv_text(csv_text_from_bytes(data, name), split, skip_bad=skip_bad, name=name)


def read_csv_text(text: str, split: str, *, skip_bad: bool = False, name: str = "<csv>") -> SplitData:
    """Decode one split from CSV text already in memory (e.g. an uploaded ``fer2013.csv``)."""
    split = canonical_split(split)
    images, labels, problems = _parse_csv(io.StringIO(text), split, skip_bad, name)
    if len(labels) == 0:
        raise DatasetError(f"{name}: no {split} faces found")
    return SplitData(
        split=split,
        images=images,
        labels=labels,
        fingerprint=content_fingerprint(images, labels),
        source=name,
        skipped=len(problems),
        problems=problems[:20],
    )


def open_csv_text(path: Path) -> io.TextIOBase:
    """``fer2013.csv`` as users hold it: plain, gzip-compressed (``.csv.gz``) or inside Kaggle's
    ``fer2013.tar.gz`` archive (the first ``*.csv`` member), read as UTF-8 text without unpacking."""
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        if tarfile.is_tarfile(path):
            tar = tarfile.open(path, "r:*")
            member = next((m for m in tar if m.isfile() and m.name.lower().endswith(".csv")), None)
            if member is None:
                tar.close()
                raise DatasetError(f"{path}: a tar archive without a .csv file; expected Kaggle's fer2013.tar.gz")
            raw = tar.extractfile(member)
            assert raw is not None  # a regular file member
            return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return open(path, newline="", encoding="utf-8-sig")


def _read_csv(path: Path, split: str, skip_bad: bool) -> tuple[np.ndarray, np.ndarray, list[str]]:
    if path.stat().st_size == 0:
        raise DatasetError(f"{path}: the file is empty; expected a header 'emotion,pixels,Usage'")
    try:
        with open_csv_text(path) as fh:
            return _parse_csv(fh, split, skip_bad, str(path))
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}: not a text CSV file ({exc.reason})") from None
    except (OSError, EOFError, tarfile.TarError) as exc:
        raise DatasetError(f"{path}: a damaged compressed file ({exc})") from None


def _parse_csv(fh: io.TextIOBase, split: str, skip_bad: bool, name: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    reader = csv.reader(fh)
    header = next(reader, None)
    if not header:
        raise DatasetError(f"{name}: the file is empty; expected a header 'emotion,pixels,Usage'")
    columns = [c.strip().lower() for c in header]
    missing = [c for c in ("emotion", "pixels", "usage") if c not in columns]
    if missing:
        hint = " (is it separated by something other than commas?)" if len(columns) == 1 else ""
        raise DatasetError(
            f"{name}: missing column(s) {', '.join(missing)}; found {', '.join(header) or 'none'}{hint}; "
            "expected 'emotion,pixels,Usage'"
        )
    i_emotion, i_pixels, i_usage = (columns.index(c) for c in ("emotion", "pixels", "usage"))
    want = split.lower()
    images: list[np.ndarray] = []
    labels: list[int] = []
    problems: list[str] = []
    for line_no, row in enumerate(reader, start=2):
        if not row:
            continue
        try:
            if len(row) <= max(i_emotion, i_pixels, i_usage):
                raise DatasetError(f"has {len(row)} fields, expected {len(columns)}")
            if row[i_usage].strip().lower() != want:
                continue
            label = _parse_label(row[i_emotion])
            pixels = _parse_pixels(row[i_pixels])
        except DatasetError as exc:
            msg = f"{name}: row {line_no}: {exc}"
            if not skip_bad:
                raise DatasetError(msg) from None
            problems.append(msg)
            continue
        images.append(pixels)
        labels.append(label)
    arr = np.stack(images) if images else np.zeros((0, FACE_SIZE, FACE_SIZE), np.uint8)
    return arr, np.asarray(labels, dtype=np.int64), problems


def _parse_label(text: str) -> int:
    try:
        label = int(text.strip())
    except ValueError:
        raise DatasetError(f"emotion {text!r} is not an integer 0-{NUM_CLASSES - 1}") from None
    if not 0 <= label < NUM_CLASSES:
        raise DatasetError(f"emotion {label} is out of range 0-{NUM_CLASSES - 1}")
    return label


def _parse_pixels(text: str) -> np.ndarray:
    parts = text.split()
    if len(parts) != _PIXELS:
        raise DatasetError(f"has {len(parts)} pixels, expected {_PIXELS} (48x48)")
    try:
        values = np.array(parts, dtype=np.int64)
    except ValueError:
        bad = next(p for p in parts if not p.lstrip("-").isdigit())
        raise DatasetError(f"pixel value {bad!r} is not an integer") from None
    if values.min() < 0 or values.max() > 255:
        raise DatasetError("pixel values must lie in 0-255")
    return values.astype(np.uint8).reshape(FACE_SIZE, FACE_SIZE)


# ----------------------------------------------------------------------------- image folders
def folder_files(root: Path, split: str, skip_bad: bool = True) -> tuple[list[tuple[Path, int]], list[str]]:
    """The face files of one split of an image-folder root with their labels, in the order
    :func:`load_split` returns them (class folders, then file names, sorted): per-face annotations such
    as the FER+ votes are matched to a loaded split through this list."""
    split_dir = root / _SPLIT_DIRS[split]
    if not split_dir.is_dir():
        present = ", ".join(sorted(p.name for p in root.iterdir() if p.is_dir())) or "none"
        raise DatasetError(
            f"{root}: no '{_SPLIT_DIRS[split]}/' folder (found: {present}); expected the FER2013 image-folder "
            "layout train/<class>/Training_*.jpg and test/<class>/{PublicTest,PrivateTest}_*.jpg"
        )
    files: list[tuple[Path, int]] = []
    problems: list[str] = []
    for class_dir in sorted(p for p in split_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
        name = class_dir.name.lower()
        if name not in CLASS_NAMES:
            raise DatasetError(
                f"{class_dir}: unknown class folder {class_dir.name!r}; expected {', '.join(CLASS_NAMES)}"
            )
        label = CLASS_NAMES.index(name)
        for f in sorted(class_dir.iterdir()):
            if f.suffix.lower() not in _IMAGE_SUFFIXES:
                continue
            m = _PREFIX.match(f.name)
            if m:
                if m.group(1).lower() != split.lower():
                    continue
            elif split != "Training":
                msg = f"{f}: no PublicTest_/PrivateTest_ prefix, so its split cannot be told"
                if not skip_bad:
                    raise DatasetError(msg)
                problems.append(msg)
                continue
            files.append((f, label))
    return files, problems


def _read_folder(root: Path, split: str, skip_bad: bool) -> tuple[np.ndarray, np.ndarray, list[str]]:
    files, problems = folder_files(root, split, skip_bad)
    images = np.zeros((len(files), FACE_SIZE, FACE_SIZE), np.uint8)
    ok = np.ones(len(files), bool)

    def decode(i: int) -> None:
        f = files[i][0]
        img = cv2.imread(str(f), cv2.IMREAD_GRAYSCALE)
        if img is None:
            msg = f"{f}: unreadable image file (not a decodable image)"
            if not skip_bad:
                raise DatasetError(msg)
            problems.append(msg)
            ok[i] = False
            return
        if img.shape != (FACE_SIZE, FACE_SIZE):
            img = cv2.resize(img, (FACE_SIZE, FACE_SIZE), interpolation=cv2.INTER_AREA)
        images[i] = img

    with ThreadPoolExecutor(max_workers=min(8, (os.cpu_count() or 2) * 2)) as pool:
        list(pool.map(decode, range(len(files))))  # list() re-raises the first DatasetError
    labels = np.array([lab for _, lab in files], dtype=np.int64)
    return images[ok], labels[ok], problems


def csv_row_problems(source: str | Path, *, text: str | None = None) -> dict[str, list[str]]:
    """Every bad row of a FER2013 CSV, per split, whichever split is in use (each message names its line).

    Loading one split only reads that split's rows, so a broken row elsewhere would surface only when
    that split is picked; this checks them all up front. ``text``: the CSV already in memory (an
    upload; ``source`` is then just its name), else ``source`` is the file's path.
    """
    problems: dict[str, list[str]] = {}
    for split in SPLITS:
        if text is not None:
            _, _, found = _parse_csv(io.StringIO(text), split, True, str(source))
        else:
            _, _, found = _read_csv(Path(source), split, True)
        problems[split] = found
    return problems
