"""Several ``streamlit run app.py`` replicas behind nginx with sticky sessions, on one machine.

One Streamlit process uses about one core (its WebRTC frame work holds the GIL), so a server with N
cores serves about N times the live viewers with N replicas. nginx (Debian package ``nginx``) sends
every request of one browser to the same replica: a cookie it sets on the first visit, hashed
(``deploy/fer-replicas.conf.template`` says how and why).

    python -m serve.replicas --replicas 2 --port 8500   # or: make replicas N=2 PORT=8500
    python -m serve.replicas --https                     # HTTPS for other devices (or: make replicas HTTPS=1)
    python -m serve.replicas --render                    # print the nginx snippet for /etc/nginx/conf.d/

The proxy listens on PORT, the replicas on PORT+1 ... PORT+N (127.0.0.1). nginx runs as the current
user with its pid, logs and temp folders in a run folder (``--run-dir``, else a temporary one), so no
root is needed. Ctrl-C stops everything. ``tests/test_proxy_browser.py`` drives the same code.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from serve.app_server import REPO, AppServerError, start_app, stop_app, wait_healthy
from serve.certs import ensure_certificate, local_addresses

DEPLOY = REPO / "deploy"
SITE_TEMPLATE = DEPLOY / "fer-replicas.conf.template"
MAIN_TEMPLATE = DEPLOY / "nginx-main.conf.template"
COOKIE_SECRET_ENV = "STREAMLIT_SERVER_COOKIE_SECRET"
#: The sticky-session cookie nginx sets (deploy/fer-replicas.conf.template).
COOKIE_NAME = "fer_replica"
#: How long nginx leaves a replica alone after a refused connection before trying it again.
FAIL_TIMEOUT_S = 10


def nginx_path() -> str | None:
    """The nginx binary: ``$NGINX`` when set, else on PATH, else Debian's /usr/sbin/nginx (not on a user's PATH)."""
    env = os.environ.get("NGINX")
    candidates = [env] if env else [shutil.which("nginx"), "/usr/sbin/nginx"]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def render(template: Path, values: dict[str, str]) -> str:
    """``template`` with every ``{{NAME}}`` replaced (``$`` is nginx's, so no string.Template)."""
    text = template.read_text()
    for name, value in values.items():
        text = text.replace("{{" + name + "}}", value)
    left = re.findall(r"\{\{\w+\}\}", text)
    if left:
        raise ValueError(f"{template.name}: no value for {', '.join(sorted(set(left)))}")
    return text


def site_config(listen: str, upstreams: list[str], tls: tuple[Path, Path] | None = None) -> str:
    """The http-context snippet (upstream + server) for replicas at ``upstreams`` (host:port).

    ``tls`` = (certificate, key): nginx serves HTTPS on ``listen`` (browsers give the camera only to HTTPS
    pages, except on localhost).
    """
    servers = "\n".join(f"    server {addr} max_fails=1 fail_timeout={FAIL_TIMEOUT_S}s;" for addr in upstreams)
    tls_lines = f"\n    ssl_certificate {tls[0]};\n    ssl_certificate_key {tls[1]};" if tls else ""
    listen = f"{listen} ssl" if tls else listen
    return render(SITE_TEMPLATE, {"LISTEN": listen, "TLS": tls_lines, "SERVERS": servers})


@dataclass
class Replica:
    """One ``streamlit run app.py`` on 127.0.0.1:``port``; can be stopped and started again on that port."""

    port: int
    log_path: Path
    env: dict = field(default_factory=dict)
    proc: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        """host:port, as nginx's $upstream_addr names it."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def start(self) -> None:
        self.proc = start_app(self.port, self.log_path, env=self.env)

    def wait_healthy(self, timeout_s: float) -> None:
        assert self.proc is not None, "start() first"
        wait_healthy(self.proc, self.url, self.log_path, timeout_s, what=f"replica {self.address}")

    def stop(self) -> None:
        if self.proc is not None:
            stop_app(self.proc)


@dataclass
class Deployment:
    """The proxy's URL, its replicas and the run folder (nginx's config and logs)."""

    url: str
    replicas: list[Replica]
    run_dir: Path

    @property
    def access_log(self) -> Path:
        return self.run_dir / "access.log"


@contextmanager
def running_nginx(
    port: int,
    upstreams: list[str],
    run_dir: Path,
    *,
    host: str = "127.0.0.1",
    tls: tuple[Path, Path] | None = None,
    timeout_s: float = 60,
) -> Iterator[str]:
    """nginx on ``host``:``port`` in front of ``upstreams`` (HTTPS with ``tls`` = (certificate, key)); yields
    its local URL once a replica answers through it."""
    nginx = nginx_path()
    if nginx is None:
        raise AppServerError("nginx not found: `apt-get install nginx` (Debian) or set NGINX to the binary")
    site = run_dir / "fer-replicas.conf"
    site.write_text(site_config(f"{host}:{port}", upstreams, tls))
    conf = run_dir / "nginx.conf"
    conf.write_text(render(MAIN_TEMPLATE, {"PREFIX": str(run_dir), "SITE": str(site)}))
    log_path = run_dir / "nginx.out"
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [nginx, "-p", str(run_dir), "-c", str(conf), "-g", "daemon off;"], stdout=log, stderr=log
        )
    try:
        url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
        context = ssl.create_default_context(cafile=str(tls[0])) if tls else None
        wait_healthy(proc, url, log_path, timeout_s, context, what="nginx")
        yield url
    finally:
        stop_app(proc)  # SIGTERM: nginx's fast shutdown


@contextmanager
def running_replicas(
    proxy_port: int,
    replica_ports: list[int],
    run_dir: Path,
    *,
    env: dict | None = None,
    host: str = "127.0.0.1",
    tls: tuple[Path, Path] | None = None,
    timeout_s: float = 180,
) -> Iterator[Deployment]:
    """Start the replicas (in parallel), then nginx in front on ``host`` (HTTPS with ``tls``); yields the
    Deployment, stops all after.

    All replicas share one ``server.cookieSecret`` (a random one unless ``env`` or the environment sets
    STREAMLIT_SERVER_COOKIE_SECRET): Streamlit signs its session and login cookies with it, so a browser
    that fails over to another replica keeps valid cookies.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    env = dict(env or {})
    env.setdefault(COOKIE_SECRET_ENV, os.environ.get(COOKIE_SECRET_ENV) or secrets.token_hex(32))
    replicas = [Replica(port, run_dir / f"replica-{port}.log", env) for port in replica_ports]
    with ExitStack() as stack:
        for replica in replicas:
            stack.callback(replica.stop)
            replica.start()
        deadline = time.monotonic() + timeout_s
        for replica in replicas:
            replica.wait_healthy(max(1.0, deadline - time.monotonic()))
        upstreams = [r.address for r in replicas]
        url = stack.enter_context(running_nginx(proxy_port, upstreams, run_dir, host=host, tls=tls))
        yield Deployment(url, replicas, run_dir)


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", "-n", type=int, default=2, help="how many Streamlit processes (default 2)")
    parser.add_argument("--port", type=int, default=8500, help="the proxy's port; replicas on the next N ports")
    parser.add_argument("--run-dir", type=Path, help="nginx's config, logs and the replicas' logs (default: temp)")
    parser.add_argument(
        "--https",
        action="store_true",
        help="serve HTTPS on all interfaces with the self-signed certificate of `make run-https` (.certs/), "
        "so other devices on the network get their camera",
    )
    parser.add_argument("--render", action="store_true", help="print the nginx snippet for these ports and exit")
    args = parser.parse_args(argv)
    if args.replicas < 1:
        parser.error("--replicas must be at least 1")
    replica_ports = [args.port + i for i in range(1, args.replicas + 1)]
    if args.render:
        print(site_config(str(args.port), [f"127.0.0.1:{p}" for p in replica_ports]), end="")
        return 0
    busy = [p for p in [args.port, *replica_ports] if not _port_free(p)]
    if busy:
        print(f"error: port(s) {', '.join(map(str, busy))} in use; choose another --port", file=sys.stderr)
        return 2
    # Ctrl-C and `kill` both unwind the ExitStack below, which stops the replicas and nginx (SIGINT is
    # set explicitly: a shell ignores it in background jobs, and Python then never raises KeyboardInterrupt).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        return _serve(args.port, replica_ports, args.run_dir, args.https)
    except KeyboardInterrupt:
        return 0


def _serve(port: int, replica_ports: list[int], run_dir: Path | None, https: bool) -> int:
    """Run the deployment until Ctrl-C or a replica exits; 1 when a replica died or did not start."""
    with ExitStack() as stack:
        run_dir = run_dir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="fer-replicas-")))
        ports = f"{replica_ports[0]}-{replica_ports[-1]}"
        print(f"starting {len(replica_ports)} replica(s) on ports {ports} (logs: {run_dir})", flush=True)
        try:
            tls = ensure_certificate(REPO / ".certs") if https else None
            host = "0.0.0.0" if https else "127.0.0.1"  # noqa: S104 - other devices on the network
            deployment = stack.enter_context(running_replicas(port, replica_ports, run_dir, host=host, tls=tls))
        except AppServerError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"open {deployment.url}  (Ctrl-C stops the proxy and the replicas)", flush=True)
        if https:
            lan = [ip for ip in local_addresses() if not ip.startswith("127.")]
            others = ", ".join(f"https://{ip}:{port}" for ip in lan) or "(no network address found)"
            print(f"other devices: {others} (accept the certificate warning once)", flush=True)
        while all(r.proc is not None and r.proc.poll() is None for r in deployment.replicas):
            time.sleep(1)
        dead = [r.address for r in deployment.replicas if r.proc is not None and r.proc.poll() is not None]
        print(f"replica(s) {', '.join(dead)} exited; stopping (logs: {run_dir})", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
