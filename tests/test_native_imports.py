"""Native libraries sharing the server process, loaded in the orders the app can reach: no segfault.

Issue 16: ``import tensorflow`` then ``import pylibsrtp`` (the webcam page: streamlit-webrtc -> aiortc ->
pylibsrtp) kills the process, because TensorFlow's BoringSSL symbols replace the OpenSSL ones pylibsrtp
calls. Each check here runs in a fresh subprocess (a segfault must fail the test, not the test run) and
exercises each stack's native code, not just its import: OpenCV's Haar cascade, PyAV's swscale, LiteRT
with XNNPack (the served classifier), aiortc's libvpx encoder, DTLS certificate and an SRTP-protected
packet, pyarrow's compute kernels, and the system OpenSSL (Python's ssl) beside cryptography's.
TensorFlow itself is kept out of the server by ``ui.server_guard``; the checks below prove the guard
and that no page of the app loads it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TIMEOUT_S = 300  # a subprocess importing these stacks on a loaded 2-core machine

#: One line per native stack of the server process, each using the library's native code.
STACKS = {
    "opencv": "import cv2, numpy as np; cv2.CascadeClassifier(cv2.data.haarcascades + "
    "'haarcascade_frontalface_default.xml').detectMultiScale(np.zeros((96, 96), np.uint8))",
    "pyav": "import av, numpy as np; av.VideoFrame.from_ndarray(np.zeros((48, 48, 3), np.uint8), "
    "format='rgb24').reformat(format='yuv420p').to_ndarray()",
    "litert": "from fer.classifier import DEFAULT_MODEL, MODELS_DIR, Classifier; "
    "Classifier.load(MODELS_DIR / DEFAULT_MODEL).logits(__import__('numpy').zeros((4, 48, 48), 'uint8'))",
    "aiortc": "import pylibsrtp, aiortc, streamlit_webrtc; from aiortc.codecs.vpx import Vp8Encoder; Vp8Encoder(); "
    "aiortc.RTCCertificate.generateCertificate(); "
    "pylibsrtp.Session(pylibsrtp.Policy(key=bytes(30), ssrc_type=pylibsrtp.Policy.SSRC_ANY_OUTBOUND))"
    ".protect(bytes.fromhex('8060000100000001000004d2') + bytes(160))",
    "pyarrow": "import pyarrow as pa, pyarrow.compute as pc; pc.sum(pa.array([1, 2, 3]))",
    # the system OpenSSL (Python's ssl/hashlib: Streamlit's HTTPS) and cryptography's (aiortc's DTLS)
    "openssl": "import ssl, hashlib; ssl.create_default_context(); hashlib.sha256(b'fer').digest(); "
    "from cryptography.hazmat.primitives.asymmetric import ec; ec.generate_private_key(ec.SECP256R1())",
}


def run_python(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -c code`` from the repository root, with this interpreter; quiet TensorFlow logs."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})},
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )


def explain(result: subprocess.CompletedProcess[str]) -> str:
    code = result.returncode
    how = f"killed by signal {-code} (segfault: 11)" if code < 0 else f"exit {code}"
    return f"{how}\n--- stdout\n{result.stdout[-2000:]}\n--- stderr\n{result.stderr[-3000:]}"


@pytest.mark.parametrize("first", list(STACKS))
def test_server_stacks_load_in_any_order(first: str) -> None:
    """Every ordered pair (A before B) is covered: the run where A comes first loads all others after it."""
    order = [first, *(name for name in STACKS if name != first)]
    result = run_python("\n".join(STACKS[name] for name in order) + "\nprint('ok')")
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), f"order {order}: {explain(result)}"


def test_guarded_server_refuses_tensorflow_and_keeps_streaming() -> None:
    """The guard's order (pylibsrtp first, TensorFlow refused) with every server stack after it."""
    code = "\n".join(
        [
            "from ui.server_guard import protect_server_process",
            "protect_server_process(enabled=True)",
            "for name in ('tensorflow', 'keras', 'keras.models', 'tensorflow.lite'):",
            "    try:",
            "        __import__(name)",
            "    except ModuleNotFoundError as exc:",
            "        assert 'crash the webcam' in str(exc), exc",
            "    else:",
            "        raise SystemExit(f'{name} was imported')",
            *STACKS.values(),
            "import sys; assert 'tensorflow' not in sys.modules",
            "print('ok')",
        ]
    )
    result = run_python(code)
    assert result.returncode == 0 and result.stdout.strip() == "ok", explain(result)


@pytest.mark.slow
def test_guard_fails_fast_when_tensorflow_is_already_loaded() -> None:
    """TensorFlow loaded before the app started: a clear error, and pylibsrtp is never imported after it."""
    code = "import tensorflow\nfrom ui.server_guard import protect_server_process\nprotect_server_process(enabled=True)"
    result = run_python(code)
    assert result.returncode == 1, explain(result)  # a Python exception, not a signal
    assert "RuntimeError:" in result.stderr and "already imported before the app started" in result.stderr, explain(
        result
    )
    assert "crash the webcam" in result.stderr


# The app's own crash order: Upload with saliency (and a model folder lacking its .tflite, which the app
# used to convert with TensorFlow), then the Live page's imports and an SRTP packet, in one process.
APP_THEN_LIVE = """
import sys
from pathlib import Path
from streamlit.testing.v1 import AppTest

photo = Path(PHOTO).read_bytes()
at = AppTest.from_file("app.py", default_timeout=300).run()
at.switch_page("pages/upload.py").run()
errors = [e.value for e in at.error]
if at.get("file_uploader"):
    at.file_uploader(key="upload_files").set_value([("astronaut.png", photo, "image/png")])
    at.run()
    next(t for t in at.toggle if t.key.endswith("_saliency")).set_value(True)
    at.run()
    if any(c.startswith("What drove") for image in at.get("image") for c in image.captions):
        print("saliency shown")
at.switch_page("pages/evaluation.py").run()
at.switch_page("pages/home.py").run()
assert not at.exception, at.exception
print("\\n".join(errors))
"""
NOTHING_LOADED = """
loaded = [m for m in ("tensorflow", "keras") if m in sys.modules]
assert not loaded, f"the app loaded {loaded}"
print("ok")
"""


def run_app_then_live(photo: Path, env: dict[str, str] | None = None) -> str:
    """:data:`APP_THEN_LIVE`, the Live page's native stack, then no TensorFlow, in one subprocess; its stdout."""
    code = APP_THEN_LIVE.replace("PHOTO", repr(str(photo))) + STACKS["aiortc"] + NOTHING_LOADED
    result = run_python(code, env)
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), explain(result)
    return result.stdout


def test_upload_saliency_then_live_imports_keep_tensorflow_out(astronaut_path: Path) -> None:
    assert "saliency shown" in run_app_then_live(astronaut_path)


def test_model_without_tflite_is_not_converted_in_the_app(
    astronaut_path: Path, model_stem: Path, tmp_path: Path
) -> None:
    """Only ``.json`` + ``.keras``: the app says which file is missing and the command that makes it."""
    models = tmp_path / "models"
    models.mkdir()
    for suffix in (".json", ".keras"):
        shutil.copy(model_stem.with_suffix(suffix), models)
    out = run_app_then_live(astronaut_path, env={"FER_MODELS_DIR": str(models)})
    tflite = models / f"{model_stem.name}.tflite"
    assert f"{tflite.name} is missing" in out and f"python -m fer convert {models / model_stem.name}" in out, out
    assert not tflite.exists()  # the app never converts
