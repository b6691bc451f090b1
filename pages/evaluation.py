"""Evaluation: the model's accuracy, confusions and calibration on a FER2013 split, and its mistakes.

Numbers come from ``fer.evaluate`` (as ``python -m fer evaluate`` does), so they match the CLI exactly;
its probability cache makes switching back to an evaluated split instant. Without data on disk the page
still shows the evaluation stored in the model card and explains how to point the app at FER2013.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from fer.classifier import Classifier
from fer.compare import Comparison
from fer.data import (
    DatasetError,
    SplitData,
    csv_row_problems,
    default_data_dir,
    load_split,
    read_csv_bytes,
    source_fingerprint,
)
from fer.evaluate import Evaluation, evaluate
from fer.labels import CLASS_NAMES, SPLITS
from fer.registry import list_models
from fer.results import digest
from ui.charts import confusion_figure, reliability_figure, topk_figure
from ui.common import current_settings, ensure_app_navigation, kept, load_classifier, model_card
from ui.compare_view import show_comparison
from ui.photo_eval import show_photo_evaluation
from ui.results import enlarge, pct, stored_evaluation

ensure_app_navigation()  # a deep link opened first still gets the app shell

CELL_GALLERY_LIMIT = 40
MISTAKES_LIMIT = 24
GALLERY_PX = 96
UPLOAD_LIMIT_MB = 50  # server.maxUploadSize in .streamlit/config.toml
HOW_TO = f"""
**How to evaluate on your copy of FER2013** (Kaggle: *Challenges in Representation Learning: Facial
Expression Recognition Challenge*), any one of:

1. set the environment variable `FER2013_DIR` to the image-folder root (holding `train/` and `test/`) or to
   `fer2013.csv` before `streamlit run app.py`;
2. type that path in the *FER2013 location* box above;
3. upload `fer2013.csv` above — only files up to {UPLOAD_LIMIT_MB} MB, and the full CSV is about 290 MB,
   so for it use the path instead.
"""


# ----------------------------------------------------------------------------- data
@st.cache_resource(max_entries=4, show_spinner="Decoding FER2013 faces (first time only)…")
def _load_path(path: str, split: str, fingerprint: str) -> SplitData:
    """One decoded split per source version (``fingerprint`` changes when the files do)."""
    return load_split(path, split)


@st.cache_data(ttl=60, max_entries=16, show_spinner=False)
def _fingerprint(path: str) -> str:
    """The source's fingerprint, re-checked at most once a minute (it stats every file of a folder tree)."""
    return source_fingerprint(Path(path))


@st.cache_resource(max_entries=2, show_spinner="Reading the uploaded CSV…")
def _load_csv(content_hash: str, split: str, name: str, _data: bytes) -> SplitData:
    """One split of an uploaded CSV, parsed in memory and cached per file content."""
    return read_csv_bytes(_data, split, name=name)


def load_data(path_text: str, upload: UploadedFile | None, split: str) -> SplitData | None:
    """The chosen split from the uploaded CSV (if any) or the typed path; None when there is no data there.

    Raises DatasetError for data that exists but cannot be read.
    """
    if upload is not None:
        data = upload.getvalue()
        return _load_csv(digest(data), split, upload.name, data)
    if not path_text.strip():
        return None
    path = Path(path_text.strip()).expanduser()
    if not path.exists() or (path.is_dir() and not any(path.iterdir())):
        st.info(f"No FER2013 data at `{path}` (the path {'is empty' if path.exists() else 'does not exist'}).")
        return None
    return _load_path(str(path), split, _fingerprint(str(path)))


def run_evaluation(classifier: Classifier, data: SplitData, tta: bool, persist: bool) -> Evaluation:
    """``fer.evaluate`` with a progress bar (instant when its cache already holds this split).

    ``persist`` is False for an uploaded CSV: its predictions stay in memory, never in the disk cache.
    """
    bar = st.progress(0.0, text=f"Predicting {len(data):,} faces…")
    ev = evaluate(
        classifier,
        data,
        tta,
        progress=lambda done, total: bar.progress(done / total, f"Predicted {done:,}/{total:,}"),
        persist=persist,
    )
    bar.empty()
    return ev


@st.cache_data(max_entries=4, show_spinner="Checking every row of the CSV…")
def _csv_problems(content_key: str, name: str, _text: str | None) -> dict[str, list[str]]:
    """Bad rows per split of an uploaded CSV (``_text``) or a CSV file (``name`` is its path), cached per version."""
    return csv_row_problems(name, text=_text)


def warn_other_splits(path_text: str, upload: UploadedFile | None, split: str) -> None:
    """Bad rows in the splits not shown now, as a warning with their line numbers (this split loaded fine)."""
    if upload is not None:
        data = upload.getvalue()
        try:
            problems = _csv_problems(digest(data), upload.name, data.decode("utf-8-sig"))
        except UnicodeDecodeError:
            return  # already reported by the load
    else:
        path = Path(path_text.strip()).expanduser()
        if not (path.is_file() and path.suffix.lower() == ".csv"):
            return  # image folders: each file is checked as its split is loaded
        problems = _csv_problems(_fingerprint(str(path)), str(path), None)
    others = [msg for other, found in problems.items() if other != split for msg in found]
    if others:
        shown = "\n".join(f"- {msg}" for msg in others[:10])
        more = f"\n- … and {len(others) - 10} more" if len(others) > 10 else ""
        st.warning(
            f"**{len(others)} bad row(s) in other splits** of this CSV (not used for {split}; picking their split "
            f"will fail until they are fixed):\n{shown}{more}",
            icon="⚠️",
        )


# ----------------------------------------------------------------------------- report
def _delta(value: float, reference: dict | None, field: str, same_faces: bool, lower_is_better: bool = False) -> dict:
    """``st.metric`` delta arguments: the difference to the model card's figure in percentage points.

    Only when both used the same faces. A difference that rounds to 0.00 pp is grey without an arrow
    (a "+0.00" would get a coloured up-arrow); for figures where lower is better (ECE) the colours invert.
    """
    if reference is None or not same_faces or field not in reference:
        return {}
    pp = round((value - reference[field]) * 100, 2)
    if pp == 0:
        return {"delta": "0.00 pp vs card", "delta_color": "off", "delta_arrow": "off"}
    return {"delta": f"{pp:+.2f} pp vs card", "delta_color": "inverse" if lower_is_better else "normal"}


def show_report(rep: dict, reference: dict | None, key: str, selectable: bool = False) -> None:
    """Metric cards, top-k curve, reliability diagram, confusion matrix and per-class table of one report."""
    same = reference is not None and reference.get("n") == rep["n"]
    cols = st.columns(5)
    for col, k in zip(cols, (1, 2, 3)):
        field = f"top{k}"
        col.metric(f"Top-{k} accuracy", pct(rep[field]), **_delta(rep[field], reference, field, same), border=True)
    cols[3].metric(
        "ECE",
        pct(rep["ece"]),
        **_delta(rep["ece"], reference, "ece", same, lower_is_better=True),
        border=True,
        help="Expected calibration error: mean gap between confidence and accuracy (lower is better).",
    )
    cols[4].metric("Faces", f"{rep['n']:,}", border=True)
    if reference is not None and not same:
        st.caption(f"The model card's figures were computed on {reference.get('n', '?'):,} faces, so no deltas.")

    left, right = st.columns(2)
    with left:
        st.markdown("**Top-k accuracy** — the true emotion among the k most probable")
        ref_topk = reference.get("topk") if reference is not None else None
        ref_name = f"model card ({reference.get('n', '?'):,} faces)" if reference is not None else ""
        st.plotly_chart(
            topk_figure(rep["topk"], ref_topk, ref_name), key=f"{key}_topk", config={"displayModeBar": False}
        )
    with right:
        st.markdown(f"**Reliability** — ECE {pct(rep['ece'])}; bars on the diagonal are perfectly calibrated")
        st.plotly_chart(reliability_figure(rep["reliability"]), key=f"{key}_rel", config={"displayModeBar": False})

    left, right = st.columns([3, 2])
    with left:
        st.markdown("**Confusion matrix** (rows: true emotion, columns: predicted)")
        normalise = st.toggle("Row-normalised (recall per class)", key=kept(f"{key}_norm", False))
        if selectable:
            cell = (st.session_state["cell_true"], st.session_state["cell_pred"])
            st.plotly_chart(
                confusion_figure(rep["confusion"], normalise, highlight=cell, selectable=True),
                key=f"{key}_confusion",
                on_select=_on_cell_selected,
                selection_mode="points",
                config={"displayModeBar": False},
            )
            st.caption("Click a cell to see its faces below.")
        else:
            st.plotly_chart(
                confusion_figure(rep["confusion"], normalise), key=f"{key}_confusion", config={"displayModeBar": False}
            )
    with right:
        st.markdown("**Per class**")
        st.dataframe(
            [{"emotion": name, **rep["per_class"][name]} for name in CLASS_NAMES],
            hide_index=True,
            column_config={
                m: st.column_config.NumberColumn(m if m != "f1" else "F1", format="%.3f")
                for m in ("precision", "recall", "f1")
            },
        )


def _on_cell_selected() -> None:
    """Plotly click on a confusion cell -> the gallery's true/predicted selectboxes."""
    points = st.session_state["live_confusion"]["selection"]["points"]
    if points:
        st.session_state["cell_true"] = points[0]["y"]
        st.session_state["cell_pred"] = points[0]["x"]


def _gallery(ev: Evaluation, indices: np.ndarray, captions: list[str]) -> None:
    st.image([enlarge(ev.data.images[i], GALLERY_PX) for i in indices], caption=captions, width=GALLERY_PX)


def show_galleries(ev: Evaluation) -> None:
    """Faces of the selected confusion cell, and the most confident mistakes over the whole split."""
    labels, predicted, confidence = ev.data.labels, ev.predicted, ev.confidence
    st.subheader("Faces behind a cell", anchor=False)
    left, right, _ = st.columns([1, 1, 2])
    true_name = left.selectbox("True emotion", CLASS_NAMES, key="cell_true")
    pred_name = right.selectbox("Predicted as", CLASS_NAMES, key="cell_pred")
    t, p = CLASS_NAMES.index(true_name), CLASS_NAMES.index(pred_name)
    whole_cell = ev.cell(t, p)
    cell, total = whole_cell[:CELL_GALLERY_LIMIT], len(whole_cell)
    if total == 0:
        st.info(f"No {true_name} face was predicted as {pred_name}.")
    else:
        said = "its (correct) answer" if t == p else f"the wrong label *{pred_name}*"
        st.caption(
            f"{total:,} faces; showing the {len(cell)} most confident. Under each face: how sure the model was "
            f"of {said} (its top probability)."
        )
        _gallery(ev, cell, [f"{pred_name}: {confidence[i]:.0%} sure" for i in cell])

    st.subheader("Most confident mistakes", anchor=False)
    wrong = ev.confident_mistakes()[:MISTAKES_LIMIT]
    if len(wrong) == 0:
        st.success("No mistakes on this split.")
        return
    st.caption("Under each face: the true emotion → the model's wrong answer, and how sure it was of that answer.")
    _gallery(
        ev, wrong, [f"{CLASS_NAMES[labels[i]]} → {CLASS_NAMES[predicted[i]]}, {confidence[i]:.0%} sure" for i in wrong]
    )


def show_stored(card: dict | None, split: str, tta: bool) -> None:
    """The evaluation stored in the model card, clearly labelled as such."""
    shown_split = split if stored_evaluation(card, split, tta) is not None else "PrivateTest"
    stored = stored_evaluation(card, shown_split, tta)
    if stored is None:
        st.warning("The model card stores no evaluation either; train with `python -m fer.train` to write one.")
        return
    created = str((card or {}).get("created", "unknown date"))[:10]
    st.subheader(f"Stored in the model card: {shown_split}", anchor=False)
    st.caption(
        f"Computed when the model was created ({created}) on {stored['n']:,} {shown_split} faces, "
        f"TTA {'on' if tta else 'off'}. Not recomputed here."
    )
    show_report(stored, None, key="card")


# ----------------------------------------------------------------------------- page
st.title("Evaluation on FER2013")
settings = current_settings()
classifier = load_classifier(settings.model_name)
card = model_card(settings.model_name)
default_tta = classifier.default_tta if classifier is not None else bool((card or {}).get("default_tta", False))
tta = default_tta if settings.tta is None else bool(settings.tta)
if classifier is None:  # load_classifier has said why; the card's own figures are still worth showing
    show_stored(card, "PrivateTest", tta)
    st.stop()

# ----------------------------------------------------------------------------- source: your labelled photos
PHOTOS_SOURCE = "Your labelled photos"
eval_source = st.radio(
    "Evaluate on", ["FER2013", PHOTOS_SOURCE], horizontal=True, key="eval_source", label_visibility="collapsed"
)
if eval_source == PHOTOS_SOURCE:
    show_photo_evaluation(classifier, settings.detector, tta)
    st.stop()

source_col, split_col = st.columns([3, 1])
default_path = default_data_dir()
path_text = source_col.text_input(
    "FER2013 location",
    key=kept("eval_path", str(default_path) if default_path else ""),
    placeholder="/path/to/fer2013 (image folders) or /path/to/fer2013.csv",
    help="The image-folder root (train/, test/) or fer2013.csv. Defaults to $FER2013_DIR.",
)
split = split_col.selectbox("Split", SPLITS, key=kept("eval_split", "PrivateTest"))
with st.expander(f"…or upload a fer2013.csv (up to {UPLOAD_LIMIT_MB} MB)"):
    upload = st.file_uploader(
        "fer2013.csv",
        type=["csv"],
        key="eval_csv",
        help=f"Read in memory, never saved. The full Kaggle CSV (~290 MB) exceeds the {UPLOAD_LIMIT_MB} MB upload "
        "limit: give its path above instead.",
    )
if split == "Training":
    st.warning("The model was trained on the Training split: accuracy there is optimistic, not a test result.")

data: SplitData | None = None
try:
    data = load_data(path_text, upload, split)
except (DatasetError, OSError) as exc:  # OSError: unreadable folders/files, e.g. permissions
    st.error(f"**This data cannot be used.** {exc}", icon="🚫")

if data is None:
    st.markdown(HOW_TO)
    show_stored(card, split, tta)
    st.stop()

warn_other_splits(path_text, upload, data.split)
evaluation = run_evaluation(classifier, data, tta, persist=upload is None)
st.caption(
    f"`{classifier.name}` on {data.split} from `{data.source}`: {len(data):,} faces, mirror TTA "
    f"{'on' if tta else 'off'} (sidebar). Same numbers as `python -m fer evaluate --split {data.split}`."
)
most_confused = tuple(CLASS_NAMES[i] for i in evaluation.most_confused())
kept("cell_true", most_confused[0])  # the chosen cell survives a visit to another page
kept("cell_pred", most_confused[1])
show_report(evaluation.report.to_dict(), stored_evaluation(card, data.split, tta), key="live", selectable=True)
show_galleries(evaluation)


def show_model_comparison(model_name: str, evaluation: Evaluation, data: SplitData, persist: bool) -> None:
    """The same faces through a second model, side by side (as ``fer evaluate --model A --model B``)."""
    st.divider()
    others = [n for n in list_models() if n != model_name]
    st.subheader("Compare with another model", anchor=False)
    if not others:
        st.caption("Only one model is installed; put another model's `NAME.json` + `NAME.tflite` in `models/`.")
        return
    other = st.selectbox("Second model", ["—", *others], key=kept("compare_model", "—"))
    if other == "—":
        st.caption("Pick a model to see its top-k, per-class F1, confusion difference and the faces they disagree on.")
        return
    second = load_classifier(other)
    if second is None:
        return
    other_tta = second.default_tta if current_settings().tta is None else bool(current_settings().tta)
    comparison = Comparison(model_name, other, evaluation, run_evaluation(second, data, other_tta, persist))
    show_comparison(comparison)


show_model_comparison(classifier.name, evaluation, data, persist=upload is None)
