"""Streamlit glue shared by every page: the cached classifier, the sidebar settings, friendly errors.

The engine (``fer``) knows nothing of Streamlit; this module is the only place pages get the model and
the user's settings from, so all pages and all webcam threads share one loaded classifier.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from ui.server_guard import protect_server_process

# app.py and every page import this module: here, once per server process, before any model code, TensorFlow
# is kept out (it would make the webcam page's pylibsrtp segfault the server, issue 16; see ui/server_guard.py).
protect_server_process()

from fer.classifier import DEFAULT_MODEL, MODELS_DIR, Classifier, ModelError, list_models, read_card  # noqa: E402
from fer.detection.detector import DetectorSettings  # noqa: E402
from fer.options import Options  # noqa: E402

#: Session-state key of the sidebar's :class:`fer.options.Options`, read by every page.
SETTINGS_KEY = "fer_settings"


def ensure_app_navigation() -> None:
    """Make a deep link (``/upload``) opened before anyone opened ``/`` run through ``app.py``.

    Until ``st.navigation`` has run once in the server process, Streamlit treats a folder named
    ``pages/`` beside the entry point as a legacy multipage app and runs the page script alone: no
    sidebar settings, file-name navigation, narrow layout. Switching that mode off and rerunning lands
    on the same page (both modes hash the same URL path), now inside ``app.py``'s navigation.
    """
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


@st.cache_resource(show_spinner="Loading the emotion model…", max_entries=4)
def _load_classifier(name: str) -> Classifier:
    return Classifier.load(MODELS_DIR / name)


def load_classifier(name: str | None = None) -> Classifier | None:
    """The shared classifier for ``name`` (default: the sidebar's), or None after showing why not."""
    name = name or current_settings().model
    try:
        return _load_classifier(name)
    except ModelError as exc:
        st.error(f"**The model '{name}' cannot be used.** {exc}", icon="🚫")
        st.info(
            "Pick another model in the sidebar. A card that disagrees with its weights comes from another "
            "training run: retrain (`python -m fer.train --data PATH --out models/NAME`) to write both again."
            if "card" in str(exc)
            else "Pick another model in the sidebar, or repair this one as the message above says."
        )
        return None


def model_card(name: str) -> dict | None:
    """The card of a model in ``models/`` (None if missing or unreadable)."""
    try:
        return read_card((MODELS_DIR / name).with_suffix(".json"))
    except ModelError:
        return None


def sidebar() -> Options:
    """Draw the shared sidebar (model, detector sensitivity, min face size, TTA) and store its values.

    The sidebar sets the model, detector and TTA of the options; the other fields keep their defaults
    (pages with their own controls, e.g. smoothing, replace them).
    """
    models = list_models()
    with st.sidebar:
        st.header("Settings")
        if not models:
            st.error(f"No model found in `{MODELS_DIR}`: train one with `python -m fer.train`.")
            name = DEFAULT_MODEL
        else:
            name = st.selectbox("Model", models, key="model_name", help="Every model in models/ with a card.")
        sensitivity = st.slider(
            "Detector sensitivity",
            min_value=1,
            max_value=10,
            value=11 - DetectorSettings().min_neighbors,
            key="sensitivity",
            help="Higher finds more faces (and more false boxes): it lowers the Haar cascade's min neighbours.",
        )
        min_size = st.slider(
            "Min face size (px)",
            20,
            300,
            DetectorSettings().min_size,
            step=4,  # 20 + 5 x 4 = 40, the default
            key="min_face_size",
            help="Faces smaller than this (in the original image) are ignored; in large photos the minimum also "
            "grows with the photo (a fraction of its short side), so texture is not read as tiny faces.",
        )
        with st.expander("Advanced detection"):
            margin = st.slider(
                "Face margin",
                0.0,
                0.4,
                DetectorSettings().margin,
                step=0.025,
                key="face_margin",
                help="Fraction of the face's side added around each detected box before it is cropped for the "
                "model. The default was chosen by accuracy on labelled photos (README, *Face framing*).",
            )
        card_tta = bool((model_card(name) or {}).get("default_tta", False))
        tta = st.toggle(
            "Mirror test-time augmentation",
            value=card_tta,
            key=f"tta_{name}",  # a new model starts from its own card's default
            help="Average the prediction of the face and its mirror image: a little more accurate, twice the work.",
        )
        st.caption("Everything runs on this computer: no image leaves it.")
    settings = Options(
        model=name,
        detector=DetectorSettings(min_neighbors=11 - sensitivity, min_size=int(min_size), margin=float(margin)),
        tta=None if tta == card_tta else tta,  # untouched: every model (a compared one too) uses its card's default
    )
    st.session_state[SETTINGS_KEY] = settings
    return settings


def current_settings() -> Options:
    """The sidebar's latest values (defaults before the sidebar first ran)."""
    return st.session_state.get(SETTINGS_KEY, Options())


# ----------------------------------------------------------------------------- state across pages
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
        # browser the value it still holds, so the switch would be drawn off while the page acts on "on"
        # (issue 24). Writing the value back makes Streamlit send it with the widget.
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


# ----------------------------------------------------------------------------- photos of this session
_PHOTOS = "_session_photos"


@dataclass(frozen=True)
class StoredPhoto:
    """A photo the user gave this session (uploaded or taken), kept in memory only, never on disk."""

    name: str
    data: bytes
    digest: str  # sha256 of the bytes: the cache key of its analysis
    source: str = "upload"  # "upload" or "camera"

    @property
    def key(self) -> str:
        """Identity in the store: the same bytes under the same name are one photo."""
        return f"{self.digest[:16]}:{self.name}"


def session_photos() -> dict[str, StoredPhoto]:
    """This session's photos, in the order they were added (survives page switches, never on disk)."""
    return st.session_state.setdefault(_PHOTOS, {})


def add_photo(photo: StoredPhoto) -> None:
    session_photos().setdefault(photo.key, photo)


def remove_photo(key: str) -> None:
    """Forget a photo, its analyses and its kept per-photo choices (widget keys start with its key)."""
    session_photos().pop(key, None)
    _results().pop(key, None)
    saved = st.session_state.get(_KEPT_VALUES, {})
    for widget_key in [k for k in saved if k.startswith(key)]:
        del saved[widget_key]


def clear_photos() -> None:
    for key in list(session_photos()):
        remove_photo(key)


_RESULTS = "_session_results"


def _results() -> dict[str, dict[Hashable, Any]]:
    return st.session_state.setdefault(_RESULTS, {})


def remembered_result(photo_key: str, settings_key: Hashable, compute: Callable[[], Any]) -> Any:
    """The analysis of a stored photo under these settings, computed once and kept for the session.

    Only the latest few settings per photo are kept, so toggling back and forth is instant while the
    memory stays bounded by the photos in the store.
    """
    per_photo = _results().setdefault(photo_key, {})
    if settings_key not in per_photo:
        per_photo[settings_key] = compute()
        while len(per_photo) > _RESULTS_PER_PHOTO:
            per_photo.pop(next(iter(per_photo)))
    return per_photo[settings_key]


#: Settings combinations remembered per photo (e.g. detected faces and whole-image mode, TTA on/off).
_RESULTS_PER_PHOTO = 4
