"""Where the tests run: the repository, the shared data beside it, CI or not, free ports."""

from __future__ import annotations

import os
import socket
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


def free_port() -> int:
    """A TCP port nobody listens on right now (for one test server)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
