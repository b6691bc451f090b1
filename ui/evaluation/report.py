"""The Evaluation page's report: metrics with deltas to the card, confusion matrix with clickable cells,
galleries of confusions and confident mistakes, the card's stored figures, and the two-model comparison.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from fer.data import (
    SplitData,
)
from fer.evaluation.compare import Comparison
from fer.evaluation.evaluate import Evaluation
from fer.evaluation.export import confusion_csv, metrics_csv, per_class_csv, predictions_csv
from fer.evaluation.ferplus_eval import against_majority, disputed_mask, ferplus_report
from fer.ferplus import SplitVotes
from fer.labels import CLASS_NAMES
from fer.registry import list_models
from ui.charts import CHART_CONFIG, confusion_figure, reliability_figure, topk_figure
from ui.common import current_settings, load_classifier
from ui.evaluation.compare import show_comparison
from ui.evaluation.data import run_evaluation
from ui.evaluation.vote_bar import gallery_faces, legend_html
from ui.results import pct, stored_evaluation
from ui.widget_state import kept

CELL_GALLERY_LIMIT = 40
MISTAKES_LIMIT = 24
GALLERY_PX = 96


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


def show_exports(ev: Evaluation, model: str, key: str) -> None:
    """Downloads of the evaluation on show: metrics, per-class table, confusion matrix, per-face predictions."""
    stem = f"{model}_{ev.report.split}"
    files = (
        ("Metrics (CSV)", f"{stem}_metrics.csv", metrics_csv(ev, model)),
        ("Per class (CSV)", f"{stem}_per_class.csv", per_class_csv(ev)),
        ("Confusion matrix (CSV)", f"{stem}_confusion.csv", confusion_csv(ev)),
        ("Per-face predictions (CSV)", f"{stem}_predictions.csv", predictions_csv(ev)),
    )
    st.markdown("**Export** — the figures above as files; each chart's toolbar saves it as PNG.")
    for col, (label, name, text) in zip(st.columns(len(files)), files):
        col.download_button(label, text, file_name=name, mime="text/csv", key=f"{key}_{name}", on_click="ignore")


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
        st.plotly_chart(topk_figure(rep["topk"], ref_topk, ref_name), key=f"{key}_topk", config=CHART_CONFIG)
    with right:
        st.markdown(f"**Reliability** — ECE {pct(rep['ece'])}; bars on the diagonal are perfectly calibrated")
        st.plotly_chart(reliability_figure(rep["reliability"]), key=f"{key}_rel", config=CHART_CONFIG)

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
                config=CHART_CONFIG,
            )
            st.caption("Click a cell to see its faces below.")
        else:
            st.plotly_chart(confusion_figure(rep["confusion"], normalise), key=f"{key}_confusion", config=CHART_CONFIG)
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


def _gallery(ev: Evaluation, indices: np.ndarray, captions: list[str], votes: np.ndarray | None) -> None:
    st.image(gallery_faces(ev.data.images, indices, votes, GALLERY_PX), caption=captions, width=GALLERY_PX)


def show_galleries(ev: Evaluation, votes: np.ndarray | None = None, split_mistakes: bool = False) -> None:
    """Faces of the selected confusion cell, and the most confident mistakes over the whole split.

    ``votes``: FER+ votes aligned with ``ev``'s faces (a bar under each face). ``split_mistakes``: the
    truth is FER2013's labels and the votes tell which mistakes are disputed labels.
    """
    labels, predicted, confidence = ev.data.labels, ev.predicted, ev.confidence
    st.subheader("Faces behind a cell", anchor=False)
    if votes is not None:
        st.markdown(legend_html(), unsafe_allow_html=True)
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
        _gallery(ev, cell, [f"{pred_name}: {confidence[i]:.0%} sure" for i in cell], votes)

    st.subheader("Most confident mistakes", anchor=False)
    wrong = ev.confident_mistakes()[:MISTAKES_LIMIT]
    if len(wrong) == 0:
        st.success("No mistakes on this split.")
        return
    st.caption("Under each face: the true emotion → the model's wrong answer, and how sure it was of that answer.")

    def caption(i: int) -> str:
        return f"{CLASS_NAMES[labels[i]]} → {CLASS_NAMES[predicted[i]]}, {confidence[i]:.0%} sure"

    if not split_mistakes or votes is None:
        _gallery(ev, wrong, [caption(i) for i in wrong], votes)
        return
    every = ev.confident_mistakes()
    majority = SplitVotes(ev.data.split, votes).majority()
    disputed = disputed_mask(labels[every], predicted[every], majority[every])
    for title, group, mask in (
        ("The model is wrong", "the FER+ annotators do not side with the model either (or have no clear majority)",
         ~disputed),
        ("The label is disputed", "the model agrees with the FER+ majority, not with the FER2013 label", disputed),
    ):  # fmt: skip
        chosen = every[mask]
        st.markdown(f"**{title}** — {len(chosen):,} faces: {group}.")
        if len(chosen):
            _gallery(ev, chosen[:MISTAKES_LIMIT], [caption(i) for i in chosen[:MISTAKES_LIMIT]], votes)


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


def show_model_comparison(
    model_name: str,
    evaluation: Evaluation,
    data: SplitData,
    persist: bool,
    votes: SplitVotes | None = None,
    against_ferplus: bool = False,
) -> None:
    """The same faces through a second model, side by side (as ``fer evaluate --model A --model B``).

    ``evaluation`` is scored against FER2013's labels; with ``votes`` both models' FER+ figures are shown,
    and ``against_ferplus`` re-scores the whole comparison against the FER+ majority.
    """
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
    other_tta = current_settings().resolve_tta(second)
    a, b = evaluation, run_evaluation(second, data, other_tta, persist)
    if votes is None:
        show_comparison(Comparison(model_name, other, a, b))
        return
    reports = {name: ferplus_report(data.labels, ev.probs, votes) for name, ev in ((model_name, a), (other, b))}
    shown_votes = votes.votes
    if against_ferplus:
        (a, keep), (b, _) = against_majority(a, votes), against_majority(b, votes)
        shown_votes = votes.votes[keep]
    show_comparison(Comparison(model_name, other, a, b), shown_votes, reports)
