"""Evaluate the whole photo pipeline on a user's own labelled photos (one folder per emotion).

This is how a user learns how the model does on *their* faces: every photo goes through what
``predict`` does (decode, detection with the tight-crop fallback, classifier), and the largest face's
label is compared with the folder's emotion. A photo where no face is found counts as wrong.

Folders may use FER2013's names or common synonyms (``anger``, ``happiness``, ``sadness``…); other
folders are listed as unknown and skipped; files that are not decodable images are counted and skipped.
A folder tree on disk and a ``.zip`` (read in memory, never unpacked to disk) are both accepted.
"""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

from fer.classifier import Classifier
from fer.data import DatasetError
from fer.faces import largest
from fer.labels import CLASS_NAMES, NUM_CLASSES
from fer.options import Options
from fer.results import analyze_bytes

Progress = Callable[[int, int], None]

#: Folder names accepted for each emotion (lower case, compared after stripping spaces, - and _).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "angry": ("angry", "anger", "mad", "furious", "rage"),
    "disgust": ("disgust", "disgusted", "disgusting"),
    "fear": ("fear", "fearful", "afraid", "scared", "fright"),
    "happy": ("happy", "happiness", "joy", "joyful", "smile", "smiling"),
    "sad": ("sad", "sadness", "unhappy", "sorrow"),
    "surprise": ("surprise", "surprised", "amazed", "astonished", "shock", "shocked"),
    "neutral": ("neutral", "neutrality", "calm", "none"),
}
_LOOKUP = {syn: CLASS_NAMES.index(name) for name, syns in SYNONYMS.items() for syn in syns}
#: File endings tried as images; anything else in an emotion folder is counted as skipped.
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff")
#: Column of the confusion matrix for photos where no face was found.
NO_FACE = "no face"
_IGNORED = ("__MACOSX", ".DS_Store", "Thumbs.db", "desktop.ini")


def emotion_of(folder: str) -> int | None:
    """The class index a folder name stands for (FER2013 name or synonym), None when unknown."""
    key = folder.strip().lower().replace(" ", "").replace("-", "").replace("_", "")
    return _LOOKUP.get(key)


@dataclass(frozen=True)
class LabelledPhoto:
    """One photo of the set: its path inside the set, its emotion, and how to read its bytes."""

    name: str
    label: int
    read: Callable[[], bytes]


@dataclass(frozen=True)
class PhotoSet:
    """The photos found in a folder tree or zip, plus what was left out and why."""

    source: str
    photos: list[LabelledPhoto]
    unknown_folders: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # files that are not images (by name), "path: why"

    def __len__(self) -> int:
        return len(self.photos)


def open_photo_set(path: Path) -> PhotoSet:
    """A folder tree (or a ``.zip`` file) of labelled photos; raises DatasetError when nothing usable."""
    path = Path(path).expanduser()
    if path.is_file() and zipfile.is_zipfile(path):
        return photo_set_from_zip(path.read_bytes(), str(path))
    if not path.is_dir():
        raise DatasetError(f"{path}: no such folder; give a folder with one sub-folder per emotion (or a .zip)")
    entries = [(p.relative_to(path).as_posix(), p) for p in sorted(path.rglob("*")) if p.is_file()]
    return _collect(str(path), ((name, p.read_bytes) for name, p in entries))


def photo_set_from_zip(data: bytes, source: str = "upload.zip") -> PhotoSet:
    """The labelled photos of a zip archive held in memory (nothing is extracted to disk)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise DatasetError(f"{source}: not a readable .zip file ({exc})") from None
    names = [info.filename for info in archive.infolist() if not info.is_dir()]
    names = _strip_common_root(names)
    return _collect(source, ((short, _zip_reader(archive, full)) for full, short in names))


def _zip_reader(archive: zipfile.ZipFile, name: str) -> Callable[[], bytes]:
    return lambda: archive.read(name)


def _strip_common_root(names: list[str]) -> list[tuple[str, str]]:
    """(full, shown) names; a single wrapping folder that is not an emotion (``photos/angry/…``) is dropped."""
    parts = [PurePosixPath(n).parts for n in names if not _ignored(n)]
    roots = {p[0] for p in parts if len(p) > 1}
    strip = len(roots) == 1 and all(len(p) > 2 for p in parts) and emotion_of(next(iter(roots))) is None
    return [(n, "/".join(PurePosixPath(n).parts[1:]) if strip else n) for n in names]


def _ignored(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return any(part in _IGNORED or part.startswith(".") for part in parts)


def _collect(source: str, entries: Iterator[tuple[str, Callable[[], bytes]]]) -> PhotoSet:
    photos: list[LabelledPhoto] = []
    unknown: set[str] = set()
    skipped: list[str] = []
    for name, read in entries:
        if _ignored(name):
            continue
        parts = PurePosixPath(name).parts
        if len(parts) < 2:
            skipped.append(f"{name}: not inside an emotion folder")
            continue
        label = emotion_of(parts[0])
        if label is None:
            unknown.add(parts[0])
            continue
        if PurePosixPath(name).suffix.lower() not in IMAGE_SUFFIXES:
            skipped.append(f"{name}: not an image file")
            continue
        photos.append(LabelledPhoto(name, label, read))
    if not photos:
        found = f" (unknown folders: {', '.join(sorted(unknown))})" if unknown else ""
        raise DatasetError(
            f"{source}: no labelled photos found{found}; expected one folder per emotion named "
            f"{', '.join(CLASS_NAMES)} (or synonyms such as anger, happiness, sadness) holding the photos"
        )
    return PhotoSet(source, photos, sorted(unknown), skipped)


# ----------------------------------------------------------------------------- evaluation
@dataclass(frozen=True)
class PhotoOutcome:
    """What the pipeline made of one photo."""

    name: str
    label: int
    probs: np.ndarray | None  # the largest face's probabilities; None: no face, or unreadable
    crop: np.ndarray | None  # the largest face's 48x48 crop, for galleries
    source: str | None  # how that face was found ("detector", "padded", "whole-image")
    faces: int
    seconds: float
    error: str | None = None

    @property
    def predicted(self) -> int | None:
        return None if self.probs is None else int(np.argmax(self.probs))

    @property
    def found(self) -> bool:
        """A face was detected (by the detector or on the padded copy), not just the whole image read."""
        return self.source in ("detector", "padded")


@dataclass(frozen=True)
class PhotoReport:
    """The figures of an evaluation on labelled photos (the same for the CLI and the Evaluation page)."""

    source: str
    n: int
    found: int
    whole_image: int
    no_face: int
    top1: float
    top2: float
    top1_found: float | None
    top2_found: float | None
    per_class: dict[str, dict]
    confusion: list[list[int]]  # rows: true emotion; columns: predicted emotion, then NO_FACE
    ms_per_photo: float
    unknown_folders: list[str]
    skipped: list[str]

    @property
    def found_rate(self) -> float:
        return self.found / self.n if self.n else 0.0

    def to_dict(self) -> dict:
        """The JSON of ``python -m fer evaluate --photos DIR --json``."""
        return {
            "photos": self.source,
            "n": self.n,
            "found": self.found,
            "found_rate": self.found_rate,
            "whole_image": self.whole_image,
            "no_face": self.no_face,
            "top1": self.top1,
            "top2": self.top2,
            "top1_found": self.top1_found,
            "top2_found": self.top2_found,
            "per_class": self.per_class,
            "confusion": self.confusion,
            "confusion_columns": [*CLASS_NAMES, NO_FACE],
            "ms_per_photo": self.ms_per_photo,
            "unknown_folders": self.unknown_folders,
            "skipped": len(self.skipped),
            "skipped_files": self.skipped,
        }


@dataclass(frozen=True)
class PhotoEvaluation:
    """A report plus every photo's outcome (for galleries of mistakes)."""

    report: PhotoReport
    outcomes: list[PhotoOutcome]


def evaluate_photos(
    photos: PhotoSet,
    classifier: Classifier,
    options: Options | None = None,
    *,
    progress: Progress | None = None,
) -> PhotoEvaluation:
    """Run the photo pipeline on every photo and score the largest face's label against the folder's."""
    options = options or Options()
    outcomes = []
    for i, photo in enumerate(photos.photos):
        outcomes.append(_run_one(photo, classifier, options))
        if progress:
            progress(i + 1, len(photos))
    unreadable = [f"{o.name}: {o.error}" for o in outcomes if o.error is not None]
    readable = [o for o in outcomes if o.error is None]
    report = photo_report(photos.source, readable, photos.unknown_folders, photos.skipped + unreadable)
    return PhotoEvaluation(report, readable)


def _run_one(photo: LabelledPhoto, classifier: Classifier, options: Options) -> PhotoOutcome:
    start = time.perf_counter()
    try:
        data = photo.read()
    except OSError as exc:
        return PhotoOutcome(photo.name, photo.label, None, None, None, 0, 0.0, f"cannot be read ({exc})")
    result = analyze_bytes(data, photo.name, classifier, options)
    seconds = time.perf_counter() - start
    if result.error is not None:
        return PhotoOutcome(photo.name, photo.label, None, None, None, 0, seconds, "not a readable image")
    face = largest(result.faces)  # faces are numbered left to right: the largest is not the first
    return PhotoOutcome(
        photo.name,
        photo.label,
        None if face is None else face.probs,
        None if face is None else face.crop,
        None if face is None else face.source,
        len(result.faces),
        seconds,
    )


def photo_report(
    source: str, outcomes: list[PhotoOutcome], unknown_folders: list[str], skipped: list[str]
) -> PhotoReport:
    """Found-rate, top-1/top-2 over all photos and over found faces, per-class recall, confusion."""
    n = len(outcomes)
    labels = np.array([o.label for o in outcomes], dtype=np.int64)
    top1 = np.array([o.predicted == o.label for o in outcomes], dtype=bool)
    top2 = np.array([o.probs is not None and o.label in np.argsort(o.probs)[::-1][:2] for o in outcomes], dtype=bool)
    found = np.array([o.found for o in outcomes], dtype=bool)
    confusion = np.zeros((NUM_CLASSES, NUM_CLASSES + 1), dtype=np.int64)
    for o in outcomes:
        confusion[o.label, NUM_CLASSES if o.predicted is None else o.predicted] += 1
    per_class = {}
    for k, name in enumerate(CLASS_NAMES):
        support = int((labels == k).sum())
        per_class[name] = {"recall": float(top1[labels == k].mean()) if support else None, "support": support}
    return PhotoReport(
        source=source,
        n=n,
        found=int(found.sum()),
        whole_image=sum(o.source == "whole-image" for o in outcomes),
        no_face=sum(o.probs is None for o in outcomes),
        top1=float(top1.mean()) if n else 0.0,
        top2=float(top2.mean()) if n else 0.0,
        top1_found=float(top1[found].mean()) if found.any() else None,
        top2_found=float(top2[found].mean()) if found.any() else None,
        per_class=per_class,
        confusion=confusion.tolist(),
        ms_per_photo=1000.0 * sum(o.seconds for o in outcomes) / n if n else 0.0,
        unknown_folders=list(unknown_folders),
        skipped=list(skipped),
    )


def print_report(rep: PhotoReport) -> None:
    """The human-readable form of ``evaluate --photos`` (stdout)."""
    print(
        f"{rep.n} photos: face found in {rep.found} ({rep.found_rate:.1%}), whole image read in {rep.whole_image}, "
        f"no face in {rep.no_face}; {rep.ms_per_photo:.0f} ms per photo"
    )
    print(f"top-1 {rep.top1:.2%}   top-2 {rep.top2:.2%}   (all photos; no face counts as wrong)")
    if rep.top1_found is not None:
        print(f"top-1 {rep.top1_found:.2%}   top-2 {rep.top2_found:.2%}   (photos with a found face)")
    print(f"{'class':<10}{'recall':>8}{'photos':>8}")
    for name in CLASS_NAMES:
        m = rep.per_class[name]
        recall = "-" if m["recall"] is None else f"{m['recall']:.3f}"
        print(f"{name:<10}{recall:>8}{m['support']:>8}")
    print("confusion (rows true, columns predicted, last: no face):")
    print(" " * 10 + "".join(f"{n[:7]:>8}" for n in (*CLASS_NAMES, NO_FACE)))
    for name, row in zip(CLASS_NAMES, rep.confusion):
        print(f"{name:<10}" + "".join(f"{v:>8}" for v in row))
    if rep.unknown_folders:
        print(f"unknown folders (skipped): {', '.join(rep.unknown_folders)}")
    if rep.skipped:
        print(f"{len(rep.skipped)} file(s) skipped (not images): " + "; ".join(rep.skipped[:5]))
