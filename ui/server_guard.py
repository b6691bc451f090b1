"""Keeps TensorFlow out of the dashboard server, where it would make the webcam page segfault.

Why: TensorFlow's ``libtensorflow_framework.so`` is loaded with global symbol visibility and exports
BoringSSL's ``HMAC_*``/``EVP_*`` functions. pylibsrtp (the webcam page's SRTP: streamlit-webrtc ->
aiortc -> pylibsrtp) carries its own OpenSSL with the same symbol names, bound lazily; loaded after
TensorFlow, its start-up self-test calls TensorFlow's ``HMAC_Init_ex`` with OpenSSL's structures and the
whole server dies (``import tensorflow; import pylibsrtp`` is enough). The other order survives the
import, but any OpenSSL function pylibsrtp first calls later would still bind to BoringSSL, so the
order alone is no cure. The app has no need for TensorFlow: it serves LiteRT (``fer.classifier``), its
saliency is occlusion on that model (``fer.saliency``), and ``.keras`` -> ``.tflite`` conversion is
the CLI's job (``python -m fer convert``).

:func:`protect_server_process` therefore, in a running Streamlit server only:

1. refuses to start if TensorFlow/Keras is already loaded (clear log line and exception instead of a
   segfault later, when someone opens the webcam page);
2. imports pylibsrtp at once (before any page runs), so its self-test binds its crypto to its own
   OpenSSL: the safe order is fixed in this one place whichever page a user opens first;
3. makes any later ``import tensorflow``/``import keras`` raise ``ModuleNotFoundError`` with this
   explanation, so a future code path that reaches for TensorFlow fails in one page, for one user,
   instead of taking the server down for everyone.

Tests, the CLI and training are not Streamlit servers and keep TensorFlow available.
"""

from __future__ import annotations

import importlib.abc
import logging
import sys
from collections.abc import Sequence

logger = logging.getLogger(__name__)

#: Top-level packages that must never be loaded into the server process.
REFUSED = ("tensorflow", "keras", "tf_keras")
REASON = (
    "TensorFlow/Keras must not be loaded into the dashboard server: its BoringSSL symbols crash the webcam "
    "page's pylibsrtp. The app serves LiteRT only; use the CLI (`python -m fer ...`) for Keras work."
)


class RefuseTensorFlow(importlib.abc.MetaPathFinder):
    """A ``sys.meta_path`` entry that turns any import of :data:`REFUSED` packages into a clear error."""

    def find_spec(self, fullname: str, path: Sequence[str] | None = None, target: object = None) -> None:
        if fullname.partition(".")[0] in REFUSED:
            raise ModuleNotFoundError(f"import of '{fullname}' refused. {REASON}", name=fullname)
        return None


def protect_server_process(enabled: bool | None = None) -> None:
    """Apply the three rules above once per process; ``enabled`` defaults to "inside a Streamlit server"."""
    if enabled is None:
        from streamlit import runtime

        enabled = runtime.exists()  # False under AppTest, the CLI and plain imports
    if not enabled or any(isinstance(f, RefuseTensorFlow) for f in sys.meta_path):
        return
    loaded = sorted(name for name in REFUSED if name in sys.modules)
    if loaded:
        logger.critical("%s already imported before the app started. %s", ", ".join(loaded), REASON)
        raise RuntimeError(f"{', '.join(loaded)} already imported before the app started. {REASON}")
    try:
        import pylibsrtp  # noqa: F401 - before any page can load more native code: see the module docstring
    except ImportError as exc:  # no webcam stack installed: nothing to order, the refusal below still holds
        logger.warning("pylibsrtp not importable (%s): the Live page will not work", exc)
    sys.meta_path.insert(0, RefuseTensorFlow())
    logger.info("server guard on: pylibsrtp loaded first, TensorFlow/Keras imports refused")
