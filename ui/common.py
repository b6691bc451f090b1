"""Streamlit glue shared by every page: the cached classifier, the sidebar settings, friendly errors.

Widget values kept across pages are :mod:`ui.widget_state`'s; the session's photos are :mod:`ui.photo_store`'s.

The engine (``fer``) knows nothing of Streamlit; this module is the only place pages get the model and
the user's settings from, so all pages and all webcam threads share one loaded classifier.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from ui.server_guard import protect_server_process

# app.py and every page import this module: here, once per server process, before any model code, TensorFlow
# is kept out (it would make the webcam page's pylibsrtp segfault the server; see ui/server_guard.py).
protect_server_process()

from fer.classifier import DEFAULT_MODEL, MODELS_DIR, Classifier, ModelError, list_models, read_card  # noqa: E402
from fer.detection.settings import DetectorSettings  # noqa: E402
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
        st.error(f"**The model '{name}' cannot be used.** {exc}", icon=":material/block:")
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


def _form_columns(card: dict) -> dict[str, float | None]:
    """PrivateTest top-1 and FER+ agreement on each FER2013 form (``forms``), and the real faces read right."""
    forms = card.get("forms") or {}
    out: dict[str, float | None] = {}
    for key, label in (("equalised", "folders"), ("original", "CSV")):
        private = (forms.get(key) or {}).get("PrivateTest") or {}
        out[f"top-1 {label}"] = private.get("top1")
        out[f"top-2 {label}"] = private.get("top2")
        out[f"ECE {label}"] = private.get("ece")
        out[f"FER+ {label}"] = (private.get("ferplus") or {}).get("top1")
    real = card.get("real_faces") or {}
    out["real faces"] = real.get("top1")
    out["real neutral read neutral"] = ((real.get("per_class") or {}).get("neutral") or {}).get("recall")
    return out


def show_models_table() -> None:
    """Every installed model side by side on both FER2013 forms and on the real faces (Home, Evaluation)."""
    rows = []
    for name in list_models():
        card = model_card(name) or {}
        recipe = card.get("architecture", {}).get("recipe", {})
        rows.append(
            {
                "model": name + (" (default)" if name == DEFAULT_MODEL else ""),
                **_form_columns(card),
                "recipe": f"{recipe.get('name', '?')}, {card.get('training', {}).get('epochs', '?')} epochs",
            }
        )
    figures = [c for c in rows[0] if c not in ("model", "recipe")]
    for row in rows:  # percent with two decimals in every cell ("82.50%", never "82.5%" beside "82.75%")
        row.update({c: None if row[c] is None else round(100 * row[c], 2) for c in figures})
    percent = st.column_config.NumberColumn(format="%.2f%%")
    st.dataframe(rows, hide_index=True, column_config={c: percent for c in figures})
    st.caption(
        "PrivateTest figures from each model card (served settings). *folders*: the histogram-equalised "
        "image-folder copy of FER2013; *CSV*: the original `fer2013.csv` pixels; *FER+*: agreement with the "
        "majority of the FER+ annotators (how people read the face); *real faces*: 800 real photos (neutral and "
        "happy) through the whole photo pipeline. Models are chosen on PublicTest and the real faces; PrivateTest "
        "is only reported."
    )


T = TypeVar("T")


def with_progress(start: str, step: Callable[[int, int], str], work: Callable[[Callable[[int, int], None]], T]) -> T:
    """Run ``work(progress)`` under a progress bar that reads ``start``, then ``step(done, total)``; gone after."""
    bar = st.progress(0.0, text=start)
    result = work(lambda done, total: bar.progress(done / total, step(done, total)))
    bar.empty()
    return result
