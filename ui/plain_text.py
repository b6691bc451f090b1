"""Visitor-given text (file names, typed paths, messages that quote them) shown as plain text in Markdown.

Streamlit renders Markdown, emoji shortcodes and ``$…$`` maths in every message: a file named
``**bold** :x: $x$.jpg`` would be restyled, and ``:x:`` becomes an emoji. Every name a visitor gives goes
through :func:`plain` before it is put in a Markdown string.
"""

from __future__ import annotations

import re

#: Longest visitor text shown; the rest is cut with an ellipsis (very long names must not flood the page).
MAX_CHARS = 200
_MARKDOWN = re.compile(r"([\\`*_\[\]<>|~$&])")  # what acts mid-line: emphasis, code, links, HTML, maths
_LINE_START = re.compile(r"^(\s*\d*)([#>+\-=.)])")  # what acts only at a line's start: headings, lists, quotes
_ZERO_WIDTH = "\u200b"


def plain(text: object, max_chars: int = MAX_CHARS) -> str:
    """``text`` escaped so Markdown shows it exactly: punctuation backslash-escaped, emoji shortcodes broken
    by a zero-width space after each colon, control characters and undecodable bytes made visible, cut to
    ``max_chars``."""
    s = str(text)
    s = s.encode("utf-8", "backslashreplace").decode("utf-8")  # lone surrogates from non-UTF-8 file names
    s = "".join(c if c.isprintable() else "\ufffd" for c in s)
    if len(s) > max_chars:
        s = s[: max_chars - 1] + "…"
    s = _MARKDOWN.sub(r"\\\1", s).replace(":", ":" + _ZERO_WIDTH)
    return _LINE_START.sub(r"\1\\\2", s, count=1)


def plain_message(text: object) -> str:
    """:func:`plain` for a whole message that quotes visitor-given names (kept whole up to 2,000 characters)."""
    return plain(text, max_chars=2000)
