"""The nginx config of ``deploy/`` without Streamlit or a browser: it renders, nginx accepts it, and it
keeps each visitor on one backend and moves the visitors of a dead backend to a live one.

The backends are two tiny HTTP servers in this process that answer every request with 200 (which one
answered: nginx's X-Fer-Replica header), so stickiness is checked in a second;
``tests/test_proxy_browser.py`` does the same with real replicas in Chromium. nginx is Debian's; on CI
(CI=true) a missing nginx fails the tests.
"""

from __future__ import annotations

import ssl
import subprocess
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from support.proxy import answered_by, visit

from serve.app_server import free_port
from serve.replicas import MAIN_TEMPLATE, main, render, running_nginx, site_config


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.send_response(200)
        self.send_header("X-Seen-Host", self.headers.get("Host", ""))  # what the replica would compare Origin with
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:  # quiet
        pass


@contextmanager
def backend() -> Iterator[str]:
    """An HTTP server on a free loopback port that answers every GET with 200; yields its host:port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_rendered_config_is_accepted_by_nginx(nginx: str, tmp_path: Path) -> None:
    site = tmp_path / "fer-replicas.conf"
    site.write_text(site_config("127.0.0.1:8500", ["127.0.0.1:8501", "127.0.0.1:8502"]))
    conf = tmp_path / "nginx.conf"
    conf.write_text(render(MAIN_TEMPLATE, {"PREFIX": str(tmp_path), "SITE": str(site)}))
    check = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(conf)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    assert "server 127.0.0.1:8502 max_fails=1" in site.read_text()


def test_render_names_a_missing_value() -> None:
    with pytest.raises(ValueError, match="SITE"):
        render(MAIN_TEMPLATE, {"PREFIX": "/tmp/x"})


def test_render_flag_prints_the_snippet(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--render", "--replicas", "3", "--port", "9000"]) == 0
    out = capsys.readouterr().out
    assert "listen 9000;" in out and "server 127.0.0.1:9003 " in out and "server 127.0.0.1:9004" not in out


def test_visitors_stick_to_one_backend_and_fall_over_when_it_dies(nginx: str, tmp_path: Path) -> None:
    with backend() as a, ExitStack() as b_alive:
        b = b_alive.enter_context(backend())
        with running_nginx(free_port(), [a, b], tmp_path) as url:
            keys: dict[str, str] = {}
            for _ in range(32):  # new visitors until both backends got one
                replica, key = visit(url)
                assert key, "no sticky cookie on a first visit"
                assert all(visit(url, key) == (replica, None) for _ in range(5)), "a returning visitor moved"
                keys.setdefault(replica, key)
                if len(keys) == 2:
                    break
            assert set(keys) == {a, b}, f"32 visitors all went to {set(keys)}"
            b_alive.close()  # b dies: its visitor falls over to a, a's stays
            assert visit(url, keys[b]) == (a, None)
            assert visit(url, keys[a]) == (a, None)


def test_replicas_see_the_host_the_browser_asked_for(nginx: str, tmp_path: Path) -> None:
    """Streamlit accepts a websocket when its Origin matches Host; otherwise it checks an allow-list that
    asks checkip.amazonaws.com for the public IP (a network call) and refuses a public origin."""
    with backend() as a:
        with running_nginx(free_port(), [a], tmp_path) as url:
            request = urllib.request.Request(f"{url}/_stcore/health", headers={"Host": "fer.example.org:8443"})
            with urllib.request.urlopen(request, timeout=10) as r:
                assert r.headers["X-Seen-Host"] == "fer.example.org:8443"


def test_https_through_the_proxy(nginx: str, tmp_path: Path) -> None:
    """``--https``: nginx terminates TLS with the self-signed certificate of ``make run-https``."""
    from serve.certs import ensure_certificate

    cert, key = ensure_certificate(tmp_path / "certs")
    with backend() as a, running_nginx(free_port(), [a], tmp_path, tls=(cert, key)) as url:
        assert url.startswith("https://")
        context = ssl.create_default_context(cafile=str(cert))
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=10, context=context) as r:
            assert r.status == 200 and answered_by(r.headers["X-Fer-Replica"]) == a
