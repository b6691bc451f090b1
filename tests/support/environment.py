"""Where the tests run: the repository, the shared data beside it, CI or not."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fer.locations import shared_dir

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = shared_dir()


def on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def missing(what: str, how: str) -> None:
    """Fail on CI (the data and tools must be there), skip elsewhere with instructions."""
    if on_ci():
        pytest.fail(f"{what} not found on CI: {how}", pytrace=False)
    pytest.skip(f"{what} not found: {how}")
