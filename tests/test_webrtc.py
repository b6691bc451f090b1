"""ui.webrtc: the Live page's STUN/TURN (ICE) server setting."""

from __future__ import annotations

import pytest

from ui.webrtc import parse_ice_servers


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
