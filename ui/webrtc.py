"""WebRTC transport settings for the Live page: which STUN/TURN (ICE) servers the browser may use.

A UI/transport concern, not the engine's: the frames themselves are processed by :mod:`fer.live`.
"""

from __future__ import annotations

import json

ICE_SCHEMES = ("stun", "stuns", "turn", "turns")


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


def _check_ice_url(url: object) -> None:
    if not isinstance(url, str) or url.split(":", 1)[0] not in ICE_SCHEMES:
        raise ValueError(f"ICE server URLs start with stun:, stuns:, turn: or turns:, got {url!r}")
