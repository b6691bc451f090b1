"""Widget values that survive a visit to another page (Streamlit forgets a widget's value once a run does
not draw it): :func:`kept` for the key, :func:`keep_widget_state` at the start of every run (app.py)."""

from __future__ import annotations

from typing import Any

import streamlit as st

#: Session-state key of the saved widget values (a dict: widget key -> last value).
_KEPT_VALUES = "_kept_widget_values"
#: Runs of this session so far, and the run in which each kept widget was last drawn.
_KEPT_RUN, _KEPT_DRAWN = "_kept_run", "_kept_drawn_in_run"


def kept(key: str, default: Any = None) -> str:
    """The key for a widget whose value must survive a round trip to another page; pass it as ``key=``.

    Streamlit deletes a widget's value at the end of the first run that does not draw it (the user is
    on another page). :func:`keep_widget_state`, called by app.py at the start of every run, saves
    these widgets' values just before that happens; here, before the widget is drawn again, the saved
    value (else ``default``) is put back. Give the widget no ``value``/``index`` of its own: the
    default goes here, so Streamlit never sees two competing defaults.
    """
    saved: dict[str, Any] = st.session_state.setdefault(_KEPT_VALUES, {})
    if key not in st.session_state:
        if key in saved:
            st.session_state[key] = saved[key]
        elif default is not None:
            st.session_state[key] = default
    elif _remounted(key):
        # Drawn again after a run without it (e.g. the page showed no photo): Streamlit does not tell the
        # browser the value it still holds, so the switch would be drawn off while the page acts on "on".
        # Writing the value back makes Streamlit send it with the widget.
        st.session_state[key] = st.session_state[key]
    saved.setdefault(key, st.session_state.get(key))
    st.session_state.setdefault(_KEPT_DRAWN, {})[key] = st.session_state.get(_KEPT_RUN, 0)
    return key


def _remounted(key: str) -> bool:
    """True when the kept widget ``key`` was not drawn in the previous run (it is being drawn anew)."""
    last = st.session_state.get(_KEPT_DRAWN, {}).get(key)
    return last is None or last < st.session_state.get(_KEPT_RUN, 0) - 1


def kept_value(key: str, default: Any = None) -> Any:
    """A kept widget's value, also while the widget is not drawn (e.g. a setting of a photo not shown)."""
    if key in st.session_state:
        return st.session_state[key]
    return st.session_state.get(_KEPT_VALUES, {}).get(key, default)


def keep_widget_state() -> None:
    """Save the current value of every :func:`kept` widget (app.py calls this first thing in each run)."""
    saved: dict[str, Any] = st.session_state.setdefault(_KEPT_VALUES, {})
    for key in saved:
        if key in st.session_state:
            saved[key] = st.session_state[key]
    st.session_state[_KEPT_RUN] = st.session_state.get(_KEPT_RUN, 0) + 1


def forget_kept(key: str) -> None:
    """Drop a kept widget's saved value (e.g. a per-photo toggle once the photo is removed)."""
    st.session_state.setdefault(_KEPT_VALUES, {}).pop(key, None)
    st.session_state.pop(key, None)


def forget_saved(prefix: str) -> None:
    """Drop the saved values of every kept widget whose key starts with ``prefix`` (e.g. a removed photo's)."""
    saved = st.session_state.get(_KEPT_VALUES, {})
    for widget_key in [k for k in saved if k.startswith(prefix)]:
        del saved[widget_key]
