"""Where the project's files are: the served models and the shared data folder beside the checkout.

The one place that knows the layout ``<parent>/<checkout>/`` beside ``<parent>/shared/`` (FER2013, FER+
votes, face photos), and where an installed wheel keeps its models (``fer/models``, package data).
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
#: The folder the ``fer`` package is imported from (the checkout, or site-packages for a wheel): a child
#: ``python`` started there imports this same ``fer``.
IMPORT_ROOT = _PACKAGE.parent
#: The checkout ``fer`` runs from; ``None`` for an installed wheel.
CHECKOUT: Path | None = IMPORT_ROOT if (IMPORT_ROOT / "pyproject.toml").is_file() else None


def models_dir() -> Path:
    """``FER_MODELS_DIR``, else the checkout's ``models/``, else the models installed with the wheel."""
    env = os.environ.get("FER_MODELS_DIR")
    if env:
        return Path(env).expanduser()
    if CHECKOUT is not None and (CHECKOUT / "models").is_dir():
        return CHECKOUT / "models"
    return _PACKAGE / "models"


def shared_dir() -> Path:
    """The shared data folder: ``FER_SHARED_DIR``, else ``shared`` beside the checkout (``../shared``), else
    ``shared`` inside it, else ``shared`` in the working folder (an installed wheel has no checkout)."""
    env = os.environ.get("FER_SHARED_DIR")
    if env:
        return Path(env).expanduser()
    roots = [CHECKOUT.parent, CHECKOUT] if CHECKOUT is not None else [Path.cwd()]
    candidates = [root / "shared" for root in roots]
    return next((c for c in candidates if c.is_dir()), candidates[0])


def faces_dir() -> Path:
    """The face photos (``astronaut.png``, ``real/``): ``FER_FACES_DIR``, else ``<shared>/faces``."""
    env = os.environ.get("FER_FACES_DIR")
    return Path(env).expanduser() if env else shared_dir() / "faces"
