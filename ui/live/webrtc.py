"""WebRTC transport settings for the Live page: which STUN/TURN (ICE) servers the browser may use.

A UI/transport concern, not the engine's: the frames themselves are processed by :mod:`fer.live`.
"""

from __future__ import annotations

import ctypes
import gc
import json
import threading

ICE_SCHEMES = ("stun", "stuns", "turn", "turns")
#: Seconds after a stream ends before the one full garbage collection (see :func:`collect_garbage_soon`).
COLLECT_AFTER_STREAM_S = 3.0


def parse_ice_servers(text: str | None) -> list[dict]:
    """ICE servers from a JSON list of RTCIceServer dicts, or comma-separated ``stun:``/``turn:`` URLs.

    Empty -> ``[]`` (no STUN/TURN: enough on one machine or a LAN). Raises ValueError when malformed.
    """
    text = (text or "").strip()
    if not text:
        return []
    if text.startswith("[") or text.startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON: {exc}") from None
        if isinstance(data, dict):
            data = [data]
        if not isinstance(data, list):
            raise ValueError("expected a JSON list of {'urls': ...} objects")
        servers = []
        for item in data:
            if not isinstance(item, dict) or "urls" not in item:
                raise ValueError(f"every ICE server needs 'urls': {item!r}")
            urls = item["urls"]
            for url in [urls] if isinstance(urls, str) else list(urls):
                _check_ice_url(url)
            servers.append({k: v for k, v in item.items() if k in ("urls", "username", "credential")})
        return servers
    urls = [u.strip() for u in text.split(",") if u.strip()]
    for url in urls:
        _check_ice_url(url)
    return [{"urls": url} for url in urls]


def server_ice_servers(text: str | None) -> list[dict]:
    """The server side's ICE servers: the deployer's setting (``$FER_ICE_SERVERS``), ``[]`` when unset or
    malformed (the Live page shows the parse error in its expander, where the same text is the default).

    A TURN server on the viewer's side is enough for a viewer behind a NAT: the server reaches the
    relay's address; one the server itself must use (a server behind NAT) is the deployer's business.
    """
    try:
        return parse_ice_servers(text)
    except ValueError:
        return []


def _check_ice_url(url: object) -> None:
    if not isinstance(url, str) or url.split(":", 1)[0] not in ICE_SCHEMES:
        raise ValueError(f"ICE server URLs start with stun:, stuns:, turn: or turns:, got {url!r}")


def end_session_on_disconnect() -> bool:
    """Shut this browser session down as soon as its tab goes away, instead of keeping it for a reconnect.

    Streamlit stores a disconnected session (up to 128 of them) so a tab whose websocket blips can
    resume it, and evicts stored sessions only lazily after ``server.disconnectedSessionTTL``. A live
    session holds a WebRTC peer connection, codec state, its processing thread's event loop and the
    session's own loop: measured with ``scripts/load_live.py --churn``, every closed live tab kept
    ~8 file descriptors and ~25 MB until then, which nothing ever reclaimed on a quiet server. A
    session marked non-resumable is shut down at disconnect (streamlit-webrtc then stops its worker);
    the price is that a tab reconnecting after a network blip starts a fresh Live page.

    Uses Streamlit's session manager (``mark_session_nonresumable``, 1.67); returns False, changing
    nothing, outside a server (AppTest) or when that internal is gone.
    """
    from streamlit import runtime
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is None or not runtime.exists():
        return False
    manager = getattr(runtime.get_instance(), "_session_mgr", None)
    mark = getattr(manager, "mark_session_nonresumable", None)
    if mark is None:
        return False
    mark(ctx.session_id)
    return True


def release_memory() -> None:
    """A full garbage collection, then glibc's ``malloc_trim``: hand freed heap pages back to the system.

    A stream's codec buffers and frames are allocated across many threads (glibc keeps an arena per
    thread); without trimming, the server's RSS only ever grew by what its busiest moment needed.
    """
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to trim
        pass


def collect_garbage_soon(delay: float = COLLECT_AFTER_STREAM_S) -> threading.Timer:
    """The Live stream's ``on_video_ended``: :func:`release_memory` a few seconds later.

    streamlit-webrtc's processing thread (0.79) leaves its asyncio event loop unclosed, in a reference
    cycle: an epoll fd and a socket pair per stream, freed only by the cyclic collector's oldest
    generation, which a long-running server rarely reaches. The trim matters as much: 4 tabs opened,
    streamed and closed after a first one left the server +51 MB without it, +20 MB with it (fds back
    to the first tab's count either way). One collection costs ~50 ms of GIL, once per ended stream.
    """
    timer = threading.Timer(delay, release_memory)
    timer.daemon = True
    timer.start()
    return timer
