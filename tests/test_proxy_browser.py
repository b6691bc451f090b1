"""Two Streamlit replicas behind nginx on loopback (``serve/replicas.py``), driven in Chromium.

What must hold for several replicas to serve the Live page (README, "Several viewers"):

* the page streams through the proxy: START, frames processed, a face counted;
* stickiness: nginx gives a browser its ``fer_replica`` cookie on the first visit, and every request of
  that browser (pages, static files, the ``/_stcore/stream`` websocket that also carries the WebRTC
  signalling) reaches one replica; both replicas get browsers;
* faults: a browser whose replica died falls over to the other one (new session; an upload works there
  with the XSRF cookie the dead replica issued), and the restarted replica serves new sessions.

Which replica answered comes from the proxy itself: the ``X-Fer-Replica`` response header and nginx's
access log (``cookie=... upstream=...``; a websocket is logged when it closes). Chromium, the fake
camera and the page helpers are ``tests/test_live_browser.py``'s. nginx is Debian's (``apt-get install
nginx``); on CI (CI=true) a missing nginx fails the test, elsewhere it is skipped.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.live_page import START_TIMEOUT_S, LivePage, streaming
from support.proxy import answered_by, visit

from serve.app_server import AppServerError, free_port
from serve.replicas import COOKIE_NAME, FAIL_TIMEOUT_S, Deployment, running_replicas

pytestmark = [pytest.mark.browser, pytest.mark.slow]

XSRF_COOKIE = "_streamlit_xsrf"
REPLICAS_START_S = 2 * START_TIMEOUT_S  # two replicas import the app at once on a loaded 2-core machine
PROBES = 16  # fresh visitors tried until both replicas got one: (1/2)^15 odds of a false failure
PAGE_TIMEOUT_MS = 120_000
LOG_LINE = re.compile(r'cookie=(?P<cookie>\S+) upstream=(?P<upstream>.+?) status=(?P<status>\d+) "\S+ (?P<path>\S+)')


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def deployment(
    tmp_path_factory: pytest.TempPathFactory,
    loopback_candidate: None,  # noqa: F811
    nginx: str,  # noqa: F811
) -> Iterator[Deployment]:
    """Two replicas and nginx on free loopback ports, offline ICE (no STUN/TURN)."""
    ports: list[int] = []
    while len(ports) < 3:  # proxy + two replicas, all different
        port = free_port()
        ports += [port] if port not in ports else []
    run_dir = tmp_path_factory.mktemp("replicas")
    try:
        with running_replicas(
            ports[0], ports[1:], run_dir, env={"FER_ICE_SERVERS": ""}, timeout_s=REPLICAS_START_S
        ) as deployment:
            yield deployment
    except AppServerError as exc:
        pytest.fail(str(exc))


# ----------------------------------------------------------------------------- helpers
def key_per_replica(deployment: Deployment) -> dict[str, str]:
    """A sticky cookie value for each replica, from fresh visitors (no cookie) until every replica got one."""
    keys: dict[str, str] = {}
    for _ in range(PROBES):
        replica, key = visit(deployment.url)
        assert key, "the proxy set no fer_replica cookie on a first visit"
        assert visit(deployment.url, key) == (replica, None), "a returning visitor moved, or got a new cookie"
        keys.setdefault(replica, key)
        if len(keys) == len(deployment.replicas):
            return keys
    pytest.fail(f"{PROBES} new visitors all went to {sorted(keys)}: the hash does not spread them", pytrace=False)


def cookie_for(deployment: Deployment, key: str) -> list[dict]:
    return [{"name": COOKIE_NAME, "value": key, "url": deployment.url}]


def upstreams_of(deployment: Deployment, key: str, since: int = 0) -> list[tuple[str, str, str]]:
    """(replica, status, path) of every logged request carrying ``key``, from byte ``since`` of the log."""
    time.sleep(1)  # nginx writes a websocket's line when it closes
    text = deployment.access_log.read_text()[since:]
    return [(answered_by(m["upstream"]), m["status"], m["path"]) for m in LOG_LINE.finditer(text) if m["cookie"] == key]


def assert_one_replica(deployment: Deployment, key: str, since: int = 0) -> str:
    """All of this browser's requests, the websocket included, reached one replica; returns it."""
    requests = upstreams_of(deployment, key, since)
    replicas = {replica for replica, _, _ in requests}
    assert len(replicas) == 1, f"one browser's requests were spread over {replicas}: {requests}"
    assert any(path.startswith("/_stcore/stream") and status == "101" for _, status, path in requests), requests
    assert any(path.startswith("/static/") for _, _, path in requests), requests
    return replicas.pop()


def log_size(deployment: Deployment) -> int:
    return len(deployment.access_log.read_text())


# ----------------------------------------------------------------------------- tests
def test_live_page_streams_through_the_proxy_on_one_replica(browser, deployment: Deployment) -> None:  # noqa: F811
    tab = LivePage(browser, deployment.url, "proxy-stream")  # a first visit: no cookie yet
    try:
        cookies = {c["name"]: c for c in tab.context.cookies()}
        assert COOKIE_NAME in cookies and cookies[COOKIE_NAME]["httpOnly"], cookies.keys()
        tab.start()
        streaming(tab)
        print(f"\n[proxy] streaming through nginx: {tab.frames()} frames, {tab.metric('Processed FPS')} FPS")
    finally:
        tab.close()
    replica = assert_one_replica(deployment, cookies[COOKIE_NAME]["value"])
    assert replica in {r.address for r in deployment.replicas}


def test_every_browser_sticks_to_one_replica_and_both_replicas_serve(
    browser,  # noqa: F811
    deployment: Deployment,
) -> None:
    keys = key_per_replica(deployment)
    for replica, key in keys.items():
        tab = LivePage(browser, deployment.url, f"sticky-{replica}", cookies=cookie_for(deployment, key))
        answers: list[tuple[str, str]] = []  # (X-Fer-Replica, URL) of the reloaded page's responses

        def record(response, seen: list = answers) -> None:  # noqa: ANN001 - playwright Response
            if response.url.startswith(deployment.url):  # not data:/blob: URLs: they never saw the proxy
                seen.append((response.headers.get("x-fer-replica", "?"), response.url))

        tab.page.on("response", record)
        try:
            tab.page.reload(wait_until="domcontentloaded")
            tab.page.get_by_text("Detector sensitivity").first.wait_for(timeout=PAGE_TIMEOUT_MS)
            assert answers and {answered_by(a) for a, _ in answers} == {replica}, (replica, answers)
        finally:
            tab.close()
        assert assert_one_replica(deployment, key) == replica


def test_dead_replica_browsers_fall_over_and_the_restarted_replica_serves(
    browser,  # noqa: F811
    deployment: Deployment,
    astronaut_path: Path,
) -> None:
    keys = key_per_replica(deployment)
    victim, survivor = deployment.replicas[1], deployment.replicas[0]
    key = keys[victim.address]

    # A browser on the victim gets its XSRF cookie there; then the victim dies.
    tab = LivePage(browser, deployment.url, "fail-over", cookies=cookie_for(deployment, key))
    try:
        assert XSRF_COOKIE in {c["name"] for c in tab.context.cookies()}
        victim.stop()
        assert visit(deployment.url, key)[0] == survivor.address
        # The same browser goes on, on the survivor: a new session, and an upload with the old XSRF cookie.
        since = log_size(deployment)
        tab.page.goto(deployment.url, wait_until="domcontentloaded")
        tab.page.get_by_text("Detector sensitivity").first.wait_for(timeout=PAGE_TIMEOUT_MS)
        tab.page.goto(f"{deployment.url}/upload", wait_until="domcontentloaded")
        tab.page.locator("h1").filter(has_text="Upload photos").first.wait_for(timeout=PAGE_TIMEOUT_MS)
        tab.page.locator('input[type="file"]').first.set_input_files(str(astronaut_path))
        tab.page.get_by_text("face found").first.wait_for(timeout=PAGE_TIMEOUT_MS)
    finally:
        tab.close()
    moved = upstreams_of(deployment, key, since)
    assert moved and {replica for replica, _, _ in moved} == {survivor.address}, moved
    assert any("/_stcore/upload_file" in path and status.startswith("2") for _, status, path in moved), moved

    # The victim restarts on its port; once nginx tries it again, its browsers return and stream there.
    victim.start()
    victim.wait_healthy(START_TIMEOUT_S * 2)
    deadline = time.monotonic() + FAIL_TIMEOUT_S + 30
    while visit(deployment.url, key)[0] != victim.address:
        assert time.monotonic() < deadline, "the restarted replica never got its browsers back"
        time.sleep(1)
    since = log_size(deployment)
    tab = LivePage(browser, deployment.url, "restarted", cookies=cookie_for(deployment, key))
    try:
        tab.start()
        streaming(tab)
    finally:
        tab.close()
    assert assert_one_replica(deployment, key, since) == victim.address
