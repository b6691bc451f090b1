"""Requests through the nginx proxy in front of the replicas: who answered, and the sticky cookie."""

from __future__ import annotations

import urllib.request

from serve.replicas import COOKIE_NAME


def answered_by(header: str) -> str:
    """The replica that answered: the last of X-Fer-Replica's "tried, tried, answered" list."""
    return header.split(",")[-1].strip()


def visit(url: str, key: str | None = None) -> tuple[str, str | None]:
    """One request through the proxy (``key`` as the sticky cookie): (replica that answered, new cookie or None)."""
    headers = {"Cookie": f"{COOKIE_NAME}={key}"} if key else {}
    with urllib.request.urlopen(urllib.request.Request(f"{url}/_stcore/health", headers=headers), timeout=30) as r:
        ours = [c for c in r.headers.get_all("Set-Cookie") or [] if c.startswith(f"{COOKIE_NAME}=")]
        return answered_by(r.headers["X-Fer-Replica"]), ours[0].split(";")[0].split("=", 1)[1] if ours else None
