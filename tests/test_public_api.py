"""``import fer; fer.analyze(...)``: the one-call API a notebook uses, on the real model and a real photo."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

import fer


def test_analyze_accepts_a_path_bytes_and_an_array(astronaut_path: Path) -> None:
    by_path = fer.analyze(astronaut_path)
    by_bytes = fer.analyze(astronaut_path.read_bytes())
    by_array = fer.analyze(np.asarray(Image.open(astronaut_path).convert("RGB")))
    assert len(by_path) == 1 and by_path[0].label == "happy"
    for other in (by_bytes, by_array):
        assert [f.box for f in other] == [f.box for f in by_path]
        np.testing.assert_allclose(other[0].probs, by_path[0].probs, atol=1e-6)


def test_load_model_is_shared_and_accepts_names(repo_root: Path) -> None:
    default = fer.load_model()
    assert fer.load_model() is default
    assert fer.load_model(default.name).sha256 == default.sha256
    assert fer.load_model(repo_root / "models" / default.name).sha256 == default.sha256


def test_import_fer_stays_light() -> None:
    """``import fer`` must not pull in TensorFlow, OpenCV or the model: those load on first use."""
    code = "import sys, fer; print(','.join(m for m in ('tensorflow', 'cv2', 'keras', 'sklearn') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == ""


def test_analyze_takes_the_options_the_sidebar_and_the_cli_use(astronaut_path: Path) -> None:
    """One options object: the detector settings in it apply (a minimum face larger than the face finds none)."""
    from fer.detection.settings import DetectorSettings
    from fer.options import Options

    assert fer.load_model(Options().model) is fer.load_model()  # the default model, loaded once
    big = Options(detector=DetectorSettings(min_size=2000), fallback=False)
    assert fer.analyze(astronaut_path, big) == []
    plain, mirrored = fer.analyze(astronaut_path, tta=False), fer.analyze(astronaut_path, Options(tta=True))
    assert plain[0].box == mirrored[0].box and not np.allclose(plain[0].probs, mirrored[0].probs)
