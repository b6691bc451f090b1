"""Home: what the dashboard does, where to go, and the shipped model at a glance."""

from __future__ import annotations

import streamlit as st

from fer.data import default_data_dir
from fer.registry import DEFAULT_MODEL, list_models
from ui.common import current_settings, ensure_app_navigation, load_classifier, model_card, show_models_table
from ui.results import FORM_NAMES, data_form, duration, millions, pct, stored_evaluation, trained_form

DEFAULT_RULE = (
    "Served by default: `{default}`, the installed model that agrees best with how people read faces (the FER+ "
    "annotators' majority on PublicTest, both FER2013 forms), then with FER2013's own labels. The sidebar "
    "switches models; the table below gives every model's figures on each form."
)


ensure_app_navigation()  # a deep link opened first still gets the app shell

st.title("Facial-expression recognition on FER2013")
st.markdown(
    "This dashboard reads the emotion on faces — **angry, disgust, fear, happy, sad, surprise, neutral** — "
    "with a small convolutional network trained on the FER2013 dataset (48×48 grey faces). "
    "Faces are found with OpenCV's Haar cascade, cropped the way FER2013 was, and classified."
)

cols = st.columns(4)
with cols[0]:
    st.page_link("pages/live.py", label="Live webcam", icon=":material/videocam:")
    st.caption("Emotions of every face in your webcam stream, with a timeline.")
with cols[1]:
    st.page_link("pages/upload.py", label="Upload", icon=":material/upload:")
    st.caption("Drop photos: boxes, per-face probabilities, what the model looked at, CSV/JSON export.")
with cols[2]:
    st.page_link("pages/video.py", label="Video", icon=":material/movie:")
    st.caption("A recording: each face followed over time, its emotions' timeline, the annotated video.")
with cols[3]:
    st.page_link("pages/evaluation.py", label="Evaluation", icon=":material/monitoring:")
    st.caption("Accuracy, confusion matrix, calibration and mistakes on the FER2013 test splits.")

st.info(
    "**Everything runs locally.** Images are decoded in memory on this computer; nothing is uploaded "
    "to a server, saved to disk, or reported anywhere (no telemetry).",
    icon=":material/lock:",
)

name = current_settings().model
st.subheader(f"The model: `{name}`")
st.caption(DEFAULT_RULE.format(default=DEFAULT_MODEL))
classifier = load_classifier(name)  # shows the reason itself when the model is missing or broken
card = model_card(name) if classifier is not None else None
if classifier is not None and card is not None:
    training = card.get("training", {})
    arch = card.get("architecture", {})
    configured = default_data_dir()
    form = data_form(configured) if configured is not None else trained_form(card)
    stored = stored_evaluation(card, "PrivateTest", classifier.default_tta, form)
    mode = "with mirror TTA" if classifier.default_tta else "without TTA"
    metrics = st.columns(4)
    if stored is not None:
        metrics[0].metric("PrivateTest top-1", pct(stored["top1"]), border=True)
        metrics[1].metric("PrivateTest top-2", pct(stored["top2"]), border=True)
    else:
        metrics[0].metric("PrivateTest top-1", "—", border=True, help="The model card stores no PrivateTest result.")
    if "parameters" in arch:
        metrics[2].metric("Parameters", millions(arch["parameters"]), border=True)
    if "macs" in arch:
        metrics[3].metric("MACs per face", millions(arch["macs"]), border=True)
    if stored is not None:
        st.caption(
            f"Accuracy {mode} (the model's default), on {stored['n']:,} PrivateTest faces of FER2013's "
            f"**{FORM_NAMES[form]}** (the form "
            + ("of the FER2013 data this app is configured with" if configured is not None else "it was trained on")
            + "), as stored in the model card; the Evaluation page recomputes it on your copy of FER2013."
        )
    data = training.get("data", {})
    facts = {
        "Training data": data.get("source", "FER2013"),
        "Epochs": f"{training['epochs']} (best: {training.get('best_epoch', '?')})" if "epochs" in training else None,
        "Training time": duration(training["wall_time_s"]) if "wall_time_s" in training else None,
        "Hardware": training.get("hardware"),
        "Created": str(card.get("created", ""))[:10] or None,
        "Inference": card.get("runtime", {}).get("inference"),
    }
    st.markdown("\n".join(f"- **{k}:** {v}" for k, v in facts.items() if v))
    if "command" in training:
        st.caption("Reproduce it with:")
        st.code(training["command"], language="bash", wrap_lines=True)  # long commands wrap, never cut off
elif classifier is not None:
    st.warning(f"The model '{name}' has no readable model card, so there is nothing to summarise here.")

if len(list_models()) > 1:
    st.subheader("All installed models", anchor=False)
    show_models_table()
