"""ui.live.webrtc: the Live page's STUN/TURN (ICE) server setting."""

from __future__ import annotations

import pytest

from ui.live.webrtc import parse_ice_servers


def test_parse_ice_servers():
    assert parse_ice_servers("") == [] and parse_ice_servers(None) == [] and parse_ice_servers("  ") == []
    assert parse_ice_servers("stun:stun.example.org:3478, turn:turn.example.org") == [
        {"urls": "stun:stun.example.org:3478"},
        {"urls": "turn:turn.example.org"},
    ]
    servers = parse_ice_servers('[{"urls": ["turn:t.example.org:3478"], "username": "u", "credential": "c"}]')
    assert servers == [{"urls": ["turn:t.example.org:3478"], "username": "u", "credential": "c"}]
    assert parse_ice_servers('{"urls": "stun:s.example.org"}') == [{"urls": "stun:s.example.org"}]
    for bad in ("http://example.org", "[1, 2]", "[{", '[{"username": "u"}]'):
        with pytest.raises(ValueError):
            parse_ice_servers(bad)


# ----------------------------------------------------------------------------- releasing a stream
def test_server_ice_servers_come_from_the_deployer_and_never_fail():
    from ui.live.webrtc import server_ice_servers

    assert server_ice_servers(None) == [] and server_ice_servers("not a url") == []
    assert server_ice_servers("turn:turn.example.org:3478") == [{"urls": "turn:turn.example.org:3478"}]


def test_end_session_on_disconnect_uses_a_streamlit_internal_that_still_exists():
    """Outside a server (here, and under AppTest) it changes nothing; in a server it relies on the session
    manager's ``mark_session_nonresumable`` (Streamlit 1.67): recheck on every Streamlit upgrade. The
    effect itself is checked end to end by test_live_browser's closed-tabs test."""
    import inspect

    from streamlit.runtime.runtime import Runtime
    from streamlit.runtime.websocket_session_manager import WebsocketSessionManager

    from ui.live.webrtc import end_session_on_disconnect

    assert end_session_on_disconnect() is False
    assert callable(WebsocketSessionManager.mark_session_nonresumable)
    assert "self._session_mgr" in inspect.getsource(Runtime.__init__)


def test_collect_garbage_soon_runs_in_the_background():
    import gc

    from ui.live.webrtc import collect_garbage_soon

    before = gc.get_stats()[2]["collections"]
    timer = collect_garbage_soon(0.0)
    assert timer.daemon
    timer.join(timeout=30)
    assert gc.get_stats()[2]["collections"] > before  # a full collection ran
