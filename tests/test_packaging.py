"""What ``pip install .`` gives: a wheel with every package and the served models, and a ``python -m fer``
that runs from any folder (the installed wheel, and the checkout as ``make bench`` runs it)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from fer.registry import DEFAULT_MODEL

REPO = Path(__file__).resolve().parent.parent
#: Left out of the copy the wheel is built from: the build writes build/ and *.egg-info beside the sources.
NOT_SOURCES = shutil.ignore_patterns(
    ".git", ".venv", "build", "*.egg-info", "__pycache__", "*.ckpt", "logs", "test-artifacts", ".*cache*"
)


def _env(**extra: str) -> dict[str, str]:
    """This environment without the variables that would point ``fer`` at the checkout's files."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "FER_MODELS_DIR"}}
    return {**env, **extra}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built from a copy of the checkout with the environment's own setuptools."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "src"
    shutil.copytree(REPO, source, ignore=NOT_SOURCES)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation", "-w", str(root)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (found,) = root.glob("*.whl")
    return found


def test_the_wheel_holds_every_package_and_the_served_models(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for module in ("fer/__main__.py", "fer/cli/main.py", "fer/train/loop.py", "fer/bench/latency.py"):
        assert module in names
    for runtime in ("serve/__init__.py", "serve/app_server.py", "serve/replicas.py", "serve/certs.py"):
        assert runtime in names
    for suffix in (".json", ".tflite", ".keras"):
        assert f"fer/models/{DEFAULT_MODEL}{suffix}" in names
    assert not [n for n in names if n.startswith(("tests/", "scripts/", "ui/", "pages/"))]


def test_the_installed_wheel_predicts_from_any_folder(wheel: Path, astronaut_path: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--target", str(site), str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = "import fer.registry as r, fer.cli.main as m, sys; print(r.MODELS_DIR); sys.exit(m.main())"
    result = subprocess.run(
        [sys.executable, "-c", code, "predict", "--json", str(astronaut_path)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=elsewhere,
        env=_env(PYTHONPATH=str(site)),
    )
    assert result.returncode == 0, result.stderr
    models_dir, report = result.stdout.split("\n", 1)
    assert Path(models_dir) == site / "fer" / "models"
    assert json.loads(report)[0]["faces"]


@pytest.mark.slow
def test_bench_runs_from_another_folder(astronaut_path: Path, tmp_path: Path) -> None:
    """``make bench`` as the README runs it, from a folder that is not the checkout: the benchmark portrait
    is found in the shared data folder beside the checkout (or ``FER_FACES_DIR``)."""
    result = subprocess.run(
        [sys.executable, "-m", "fer", "bench", "--json", "--no-recall", "--data", str(tmp_path / "no-data")],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        env=_env(PYTHONPATH=str(REPO)),
    )
    assert result.returncode == 0, result.stderr[-4000:]
    figures = json.loads(result.stdout)
    assert figures["pipeline_faces_found"] >= 1
    assert figures["classifier_ms_per_face_b1_median"] > 0
