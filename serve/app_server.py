"""Run the dashboard in a subprocess: for the replicas, the load test, the screenshots and the browser tests.

One place for the ``streamlit run`` command line, the wait for ``/_stcore/health``, a free port, and the
Chromium flags that work on a machine with no outside network.
"""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]

#: Headless Chromium without sandbox, GPU, or any call home (background networking, updates, sync).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    """A TCP port nobody listens on right now (for one server)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServerError(RuntimeError):
    """The app did not start; the message ends with the tail of its log."""


def chromium_path() -> str:
    """Debian's Chromium (``CHROMIUM_PATH`` overrides); Playwright never downloads a browser here."""
    return os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@contextmanager
def running_app(port: int, log_path: Path, **options: Any) -> Iterator[str]:
    """:func:`app_process` (same options) for callers that need only the base URL."""
    with app_process(port, log_path, **options) as (url, _):
        yield url


@contextmanager
def app_process(
    port: int,
    log_path: Path,
    *,
    timeout_s: float = 120,
    env: dict | None = None,
    scheme: str = "http",
    cafile: Path | None = None,
    prefix: Sequence[str] = (),
) -> Iterator[tuple[str, subprocess.Popen]]:
    """``streamlit run app.py`` on 127.0.0.1:``port``; yields the base URL and the server's process (for
    its CPU, memory, threads, fds) once healthy, and stops it after.

    ``scheme="https"`` when ``env`` sets STREAMLIT_SERVER_SSL_CERT_FILE/KEY_FILE; ``cafile`` is then the
    certificate the health check trusts (a self-signed one, as ``make run-https`` makes). ``prefix`` goes
    before the command, e.g. ``["taskset", "-c", "0"]`` to pin the server to a core.
    """
    url = f"{scheme}://127.0.0.1:{port}"
    proc = start_app(port, log_path, env=env, prefix=prefix)
    try:
        context = ssl.create_default_context(cafile=str(cafile)) if cafile is not None else None
        wait_healthy(proc, url, log_path, timeout_s, context)
        yield url, proc
    finally:
        stop_app(proc)


def start_app(port: int, log_path: Path, *, env: dict | None = None, prefix: Sequence[str] = ()) -> subprocess.Popen:
    """Start ``streamlit run app.py`` on 127.0.0.1:``port`` without waiting (several start in parallel)."""
    cmd = [
        *prefix, sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--server.headless", "true",
    ]  # fmt: skip
    with open(log_path, "ab") as log:  # appended: a restarted replica keeps its earlier log
        return subprocess.Popen(
            cmd, cwd=REPO, env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}, stdout=log, stderr=log
        )


def stop_app(proc: subprocess.Popen) -> None:
    """Terminate the server (SIGTERM, then SIGKILL after 15 s)."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def wait_healthy(
    proc: subprocess.Popen,
    url: str,
    log_path: Path,
    timeout_s: float,
    context: ssl.SSLContext | None = None,
    what: str = "streamlit",
) -> None:
    """Poll ``url``/_stcore/health until it answers 200; raise AppServerError if ``proc`` exits or time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AppServerError(f"{what} exited with {proc.returncode}:\n{log_path.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2, context=context) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise AppServerError(f"{what} not healthy after {timeout_s:.0f} s:\n{log_path.read_text()[-4000:]}")
