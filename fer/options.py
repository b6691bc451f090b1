"""How faces are found and read: one options object for the sidebar, every CLI command and the Python API.

:class:`Options` holds every choice the user can make (model, detector settings, mirror TTA, the
tight-crop fallback, smoothing across frames, the video sampling rate); its defaults are written here
only. The Streamlit sidebar builds one (``ui/common.py``), every CLI command gets the same flags from
:func:`add_arguments` and reads them back with :func:`from_args`, and the engine's functions take it.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from fer.detection.follow import REDETECT_INTERVAL_S
from fer.detection.settings import DetectorSettings
from fer.registry import DEFAULT_MODEL, MODELS_DIR
from fer.tracking import MAX_SMOOTHING

if TYPE_CHECKING:  # pragma: no cover - typing only (the classifier loads LiteRT)
    from fer.classifier import Classifier


@dataclass(frozen=True)
class Options:
    """Every user choice about finding and reading faces, with the app's defaults."""

    model: str = DEFAULT_MODEL  # a model name in models/, or a model stem path
    detector: DetectorSettings = field(default_factory=DetectorSettings)
    tta: bool | None = None  # mirror test-time augmentation; None: the model card's choice (see resolve_tta)
    fallback: bool = True  # photos without a detected face: padded retry, then a face crop read whole
    smoothing: float = 0.6  # frames (webcam, video): weight of the past in each face's probabilities, 0: none
    fps: float | None = None  # video files: analyse this many frames per second; None: every frame
    redetect_interval: float = REDETECT_INTERVAL_S  # frames: a full-frame scan at most this often (seconds)

    def __post_init__(self) -> None:
        if self.fps is not None and not self.fps > 0:
            raise ValueError(f"fps must be positive (or None for every frame), got {self.fps}")
        if not 0.0 <= self.smoothing <= MAX_SMOOTHING:
            raise ValueError(f"smoothing must be in [0, {MAX_SMOOTHING}], got {self.smoothing}")

    def resolve_tta(self, classifier: Classifier) -> bool:
        """Whether mirror TTA is used with this classifier: the user's choice, else its card's default."""
        return classifier.tta_for(self.tta)

    def to_dict(self) -> dict:
        """The options as JSON (``video --json``'s ``"options"``; fields are only ever added)."""
        return {
            "fps": self.fps,
            "smoothing": self.smoothing,
            "tta": self.tta,
            "detector": asdict(self.detector),
            "redetect_interval": self.redetect_interval,
            "model": self.model,
            "fallback": self.fallback,
        }


def changed_settings(before: Options, after: Options) -> list[str]:
    """What differs between the settings a result was made with and the current ones, in words
    ("model fer_cnn_v3 → fer_cnn_v2"), so a result can say it is stale; empty when nothing that shapes it did."""
    out = []
    for name, a, b in (
        ("model", before.model, after.model),
        ("mirror TTA", _tta_words(before.tta), _tta_words(after.tta)),
        ("frames per second", before.fps or "every frame", after.fps or "every frame"),
        ("smoothing", before.smoothing, after.smoothing),
        ("fallback", before.fallback, after.fallback),
    ):
        if a != b:
            out.append(f"{name} {a} → {b}")
    for field_name, a in asdict(before.detector).items():
        b = getattr(after.detector, field_name)
        if a != b:
            out.append(f"detector {field_name.replace('_', ' ')} {a} → {b}")
    return out


def _tta_words(tta: bool | None) -> str:
    return "model default" if tta is None else ("on" if tta else "off")


def add_arguments(parser: argparse.ArgumentParser, *, frames: bool = False, compare: bool = False) -> None:
    """The flags every command shares (model, TTA, detector, fallback); ``frames``: also --fps, --smoothing.

    ``compare``: ``--model`` may be given twice (``evaluate --model A --model B``).
    """
    defaults, detector = Options(), DetectorSettings()
    if compare:
        parser.add_argument(
            "--model", action="append", help="model stem (models/NAME); twice (A, then B) compares two models"
        )
    else:
        parser.add_argument("--model", default=str(MODELS_DIR / defaults.model), help="model stem (models/NAME)")
    tta = parser.add_mutually_exclusive_group()
    tta.add_argument("--tta", dest="tta", action="store_true", default=defaults.tta,
                     help="average with the mirrored face (default: the model card's choice)")  # fmt: skip
    tta.add_argument("--no-tta", dest="tta", action="store_false")
    parser.add_argument("--scale-factor", type=float, default=detector.scale_factor)
    parser.add_argument("--min-neighbors", type=int, default=detector.min_neighbors)
    parser.add_argument("--min-size", type=int, default=detector.min_size, help="smallest face in pixels")
    parser.add_argument("--min-face-fraction", type=float, default=detector.min_face_fraction,
                        help="smallest face as a fraction of the short side (the larger minimum applies)")  # fmt: skip
    parser.add_argument("--margin", type=float, default=detector.margin,
                        help="fraction of the face side added around each box")  # fmt: skip
    parser.add_argument("--no-fallback", dest="fallback", action="store_false", default=defaults.fallback,
                        help="no padded retry / whole-image reading for photos where no face is detected")  # fmt: skip
    if frames:
        parser.add_argument("--fps", type=float, default=defaults.fps,
                            help="analyse N frames per second (default: every frame)")  # fmt: skip
        parser.add_argument("--smoothing", type=float, default=defaults.smoothing,
                            help=f"0 (none) to {MAX_SMOOTHING} (default {defaults.smoothing})")  # fmt: skip


def from_args(args: argparse.Namespace, model: str | None = None) -> Options:
    """The :class:`Options` the flags of :func:`add_arguments` ask for (``model`` overrides ``--model``)."""
    defaults = Options()
    return Options(
        model=str(model if model is not None else args.model),
        detector=DetectorSettings(
            scale_factor=args.scale_factor,
            min_neighbors=args.min_neighbors,
            min_size=args.min_size,
            min_face_fraction=args.min_face_fraction,
            margin=args.margin,
        ),
        tta=args.tta,
        fallback=args.fallback,
        smoothing=getattr(args, "smoothing", defaults.smoothing),
        fps=getattr(args, "fps", defaults.fps),
    )
