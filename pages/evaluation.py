"""Evaluation: the model's accuracy, confusions and calibration on a FER2013 split, and its mistakes.

Numbers come from ``fer.evaluation.evaluate`` (as ``python -m fer evaluate`` does), so they match the CLI exactly;
its probability cache makes switching back to an evaluated split instant. Without data on disk the page
still shows the evaluation stored in the model card and explains how to point the app at FER2013.
With FERPlus votes beside the data, everything can be scored against the annotators' majority instead
(``fer.evaluation.ferplus_eval``); the Robustness tab (``fer.evaluation.robustness``) runs only when opened.
"""

from __future__ import annotations

import streamlit as st

from ui.common import current_settings, ensure_app_navigation, load_classifier, model_card, show_models_table
from ui.widget_state import kept

ensure_app_navigation()  # a deep link opened first still gets the app shell
title = st.empty()  # its words follow the source chosen below (FER2013 or the user's labelled photos)
title.title("Evaluation on FER2013")
# The evaluation code takes seconds to import the first time (scikit-learn): say so instead of a blank page.
with st.spinner("Loading the evaluation tools…"):
    from fer.data import DatasetError, SplitData, default_data_dir
    from fer.data_roots import visitor_path
    from fer.evaluation.ferplus_eval import against_majority, ferplus_report
    from fer.labels import CLASS_NAMES, SPLITS
    from ui.evaluation.data import load_data, load_votes, run_evaluation, warn_other_splits
    from ui.evaluation.ferplus import FERPLUS, show_ferplus_summary, truth_switch
    from ui.evaluation.photos import show_photo_evaluation
    from ui.evaluation.report import show_exports, show_galleries, show_model_comparison, show_report, show_stored
    from ui.evaluation.robustness import show_robustness
    from ui.plain_text import plain_message
    from ui.results import FORM_NAMES, data_form, stored_evaluation

UPLOAD_LIMIT_MB = st.get_option("server.maxUploadSize")  # this server's cap (.streamlit/config.toml: 50)
HOW_TO = f"""
**How to evaluate on your copy of FER2013** (Kaggle: *Challenges in Representation Learning: Facial
Expression Recognition Challenge*), any one of:

1. set the environment variable `FER2013_DIR` to the image-folder root (holding `train/` and `test/`) or to
   `fer2013.csv` (or `fer2013.csv.gz`, or Kaggle's `fer2013.tar.gz` as downloaded) before `streamlit run app.py`;
2. type that path in the *FER2013 location* box above;
3. upload `fer2013.csv` (plain, `.csv.gz` or `.tar.gz`) above — only files up to {UPLOAD_LIMIT_MB} MB, and
   the full CSV is about 290 MB (about 90 MB compressed), so for it use the path instead.
"""


# ----------------------------------------------------------------------------- page
settings = current_settings()
classifier = load_classifier(settings.model)
card = model_card(settings.model)
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
    title.title("Evaluation on your labelled photos")
    show_photo_evaluation(classifier, settings.detector, tta)
    st.stop()

source_col, split_col = st.columns([3, 1])
default_path = default_data_dir()
path_text = source_col.text_input(
    "FER2013 location",
    key=kept("eval_path", str(default_path) if default_path else ""),
    placeholder="/path/to/fer2013 (image folders) or /path/to/fer2013.csv",
    help="The image-folder root (train/, test/), or fer2013.csv — plain, .csv.gz or Kaggle's fer2013.tar.gz as "
    "downloaded. Defaults to $FER2013_DIR.",
)
split = split_col.selectbox("Split", SPLITS, key=kept("eval_split", "PrivateTest"))
with st.expander(f"…or upload a fer2013.csv (up to {UPLOAD_LIMIT_MB} MB)"):
    upload = st.file_uploader(
        "fer2013.csv",
        type=["csv", "gz", "tgz"],
        key="eval_csv",
        help=f"Read in memory, never saved. The full Kaggle CSV (~290 MB) exceeds the {UPLOAD_LIMIT_MB} MB upload "
        "limit: give its path above instead.",
    )
if split == "Training":
    st.warning("The model was trained on the Training split: accuracy there is optimistic, not a test result.")

with st.expander("All installed models, side by side on both FER2013 forms and on real faces"):
    show_models_table()

data: SplitData | None = None
typed = None  # the typed path, resolved once inside the data roots (an upload wins over it)
try:
    typed = None if upload is not None else visitor_path(path_text)
    data = load_data(typed, upload, split)
except (DatasetError, OSError) as exc:  # OSError: unreadable folders/files, e.g. permissions
    st.error(f"**This data cannot be used.** {plain_message(exc)}", icon=":material/block:")

if data is None:
    st.markdown(HOW_TO)
    show_stored(card, split, tta)
    st.stop()

warn_other_splits(typed, upload, data.split)
evaluation = run_evaluation(classifier, data, tta, persist=upload is None)
votes = load_votes(typed, upload, data)
against_ferplus = votes is not None and truth_switch() == FERPLUS
shown, shown_votes = evaluation, None if votes is None else votes.votes
if against_ferplus:  # the same report, galleries and comparison, with the FER+ majority as the truth
    shown, keep = against_majority(evaluation, votes)
    shown_votes = votes.votes[keep]
st.caption(
    f"`{classifier.name}` on {data.split} from `{data.source}`: {len(data):,} faces, mirror TTA "
    f"{'on' if tta else 'off'} (sidebar). Same numbers as `python -m fer evaluate --split {data.split}`."
    + (f" Scored against the FER+ majority: the {len(shown.data):,} faces with a clear one." if against_ferplus else "")
)
report_tab, robustness_tab = st.tabs(["Report", "Robustness"], key="eval_tab", on_change="rerun")
if report_tab.open:
    with report_tab:
        most_confused = tuple(CLASS_NAMES[i] for i in shown.most_confused())
        kept("cell_true", most_confused[0])  # the chosen cell survives a visit to another page
        kept("cell_pred", most_confused[1])
        form = data_form(data.source)
        reference = None if against_ferplus else stored_evaluation(card, data.split, tta, form)
        st.caption(
            f"Loaded form: **{FORM_NAMES[form]}**. Deltas are against the model card's figures on this form"
            + ("." if reference is not None else " — the card has none for this TTA setting, so no deltas.")
        )
        show_report(shown.report.to_dict(), reference, key="live", selectable=True)
        show_exports(shown, classifier.name, key="live")
        if votes is not None:
            show_ferplus_summary(ferplus_report(data.labels, evaluation.probs, votes), classifier.name)
        show_galleries(shown, shown_votes, split_mistakes=not against_ferplus)
        show_model_comparison(classifier.name, evaluation, data, upload is None, votes, against_ferplus)
if robustness_tab.open:
    with robustness_tab:
        show_robustness(classifier, data, persist=upload is None)
