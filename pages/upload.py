"""Upload: emotions of every face in the user's photos, with downloads of the results.

Uploads are read from memory only (never written to disk). Analysis is cached per file content, model
and settings, so flipping a toggle re-renders without re-running detection and the classifier.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import streamlit as st

from fer.classifier import Classifier, ModelError
from fer.detection import DetectorSettings
from fer.labels import CLASS_NAMES
from fer.pipeline import FaceResult, overall_mood, voters
from fer.results import ImageResult, analyze_bytes, annotated_png, digest, results_csv, results_json
from fer.saliency import saliency_overlay
from ui.charts import probability_bars
from ui.common import current_settings, ensure_app_navigation, load_classifier
from ui.results import enlarge, face_caption, faces_table, source_note

ensure_app_navigation()  # a deep link opened first still gets the app shell

IMAGE_TYPES = ["jpg", "jpeg", "png", "webp", "bmp", "gif"]
#: Up to this many faces per image get full details inline; beyond it, a table and one face at a time.
DETAIL_LIMIT = 4
CROP_PX = 144


@st.cache_data(max_entries=32, ttl="1h", show_spinner="Finding faces…")
def _analyse(
    content_hash: str,
    name: str,
    model_key: str,
    detector: DetectorSettings,
    whole_face: bool,
    tta: bool | None,
    _data: bytes,
    _classifier: Classifier,
) -> ImageResult:
    """Cached analysis; the key is the content hash (not the bytes) and the model's weights hash."""
    return analyze_bytes(_data, name, _classifier, detector, whole_face=whole_face, tta=tta)


@st.cache_data(max_entries=128, ttl="1h", show_spinner="Computing saliency (loads the Keras model once)…")
def _saliency(
    model_key: str, crop_hash: str, class_index: int, _classifier: Classifier, _crop: np.ndarray
) -> np.ndarray:
    """Grad-CAM overlay, cached per face crop so toggling it back on is instant."""
    return saliency_overlay(_classifier, _crop, class_index, size=CROP_PX)


def show_face(face: FaceResult, number: int, key: str, classifier: Classifier, model_key: str) -> None:
    """One face: the 48x48 crop the model saw, all 7 probabilities, the top 3, and optional saliency."""
    st.markdown(f"**Face {number}: {face.label}** ({face.confidence:.1%}){face_caption(face)}")
    crop_col, chart_col, top_col = st.columns([1, 2, 1], vertical_alignment="center")
    with crop_col:
        st.image(enlarge(face.crop, CROP_PX), caption="48×48 crop, as the model saw it", width=CROP_PX)
        if st.toggle("Saliency", key=f"{key}_saliency", help="Grad-CAM: the regions that drove this prediction."):
            try:
                overlay = _saliency(model_key, digest(face.crop.tobytes()), face.label_index, classifier, face.crop)
            except (ModelError, ImportError) as exc:
                st.warning(f"Saliency is not available: {exc}")
            else:
                st.image(overlay, caption=f"What drove '{face.label}'", width=CROP_PX)
    with chart_col:
        st.plotly_chart(probability_bars(face.probs), key=f"{key}_chart", config={"displayModeBar": False})
    with top_col:
        st.markdown("\n".join(f"{rank}. **{name}** {p:.1%}" for rank, (name, p) in enumerate(face.top(3), 1)))


def show_faces(result: ImageResult, key: str, classifier: Classifier, model_key: str) -> None:
    """All faces of one image: inline details for a few, a table plus one chosen face for many."""
    faces = result.faces
    if len(faces) <= DETAIL_LIMIT:
        for number, face in enumerate(faces, 1):
            show_face(face, number, f"{key}_f{number}", classifier, model_key)
        return
    st.dataframe(
        faces_table(faces),
        hide_index=True,
        column_config={
            "confidence": st.column_config.ProgressColumn("confidence", format="percent", min_value=0.0, max_value=1.0)
        },
    )
    with st.expander(f"All {len(faces)} crops", expanded=False):
        st.image(
            [enlarge(f.crop, 96) for f in faces],
            caption=[f"#{i} {f.label} {f.confidence:.0%}" for i, f in enumerate(faces, 1)],
            width=96,
        )
    number = st.selectbox(
        "Details for face",
        range(1, len(faces) + 1),
        key=f"{key}_pick",
        format_func=lambda i: f"#{i}: {faces[i - 1].label} ({faces[i - 1].confidence:.0%})",
    )
    show_face(faces[number - 1], number, f"{key}_f{number}", classifier, model_key)


def whole_image_toggle(key: str, whole_all: bool) -> bool:
    """This file's "whole image as a face" switch; on and locked while the all-files switch is on."""
    return st.toggle(
        "Treat the whole image as a face",
        value=whole_all,
        key=f"{key}_whole_all" if whole_all else f"{key}_whole",
        disabled=whole_all,
        help="Skip face detection and classify the whole (centre-square) image: for pre-cropped faces such "
        "as FER2013's 48×48 images. Without it, photos where no face is detected are retried on a padded copy "
        "and, if they look like a face crop, read whole automatically (the page says so).",
    )


def show_image(
    index: int, name: str, data: bytes, classifier: Classifier, model_key: str, whole_all: bool = False
) -> ImageResult:
    """One uploaded file: error, or annotated image, faces, overall mood and the annotated download."""
    settings = current_settings()
    content_hash = digest(data)
    key = f"u{index}_{content_hash[:12]}"
    with st.container(border=True):
        st.subheader(name, anchor=False)
        result = _analyse(content_hash, name, model_key, settings.detector, whole_all, settings.tta, data, classifier)
        if result.error is not None:
            st.error(f"**Could not read {name}.** {result.error}", icon="🚫")
            return result
        whole = whole_image_toggle(key, whole_all)
        if whole != result.whole_face:
            result = _analyse(content_hash, name, model_key, settings.detector, whole, settings.tta, data, classifier)
        image_col, info_col = st.columns([3, 2])
        with image_col:
            height, width = result.shape
            st.image(
                result.display,
                caption=f"{width}×{height} px",
                width="stretch" if result.display.shape[1] >= 600 else max(240, result.display.shape[1]),
            )
        with info_col:
            count = len(result.faces)
            read_whole = " (whole image)" if result.read_whole else ""
            st.markdown(f"**{count} face{'s' if count != 1 else ''} found**{read_whole}")
            note = source_note(result)
            if note is not None:
                st.info(note, icon=":material/crop_free:")
            if count == 0:
                st.warning(
                    f"No face found in {name}, also not on a padded copy. If it is a cropped face, turn on *Treat the "
                    "whole image as a face* above; otherwise raise the detector sensitivity or lower the minimum "
                    "face size in the sidebar (faces must be frontal and at least that big).",
                    icon=":material/face_retouching_off:",
                )
            if count > 1:
                mood = overall_mood(result.faces)
                top = int(np.argmax(mood))
                st.markdown(
                    f"Overall mood: **{CLASS_NAMES[top]}** ({mood[top]:.1%}; {voters(result.faces)} of {count} faces "
                    "vote, weighted by size and detection confidence: weak detections do not vote)"
                )
                st.plotly_chart(probability_bars(mood, height=220), key=f"{key}_mood", config={"displayModeBar": False})
            st.download_button(
                "Annotated image (PNG)",
                data=partial(annotated_png, data, name, result.faces),
                file_name=f"{name.rsplit('.', 1)[0]}_annotated.png",
                mime="image/png",
                key=f"{key}_png",
                on_click="ignore",
                icon=":material/download:",
            )
        show_faces(result, key, classifier, model_key)
    return result


st.title("Upload photos")
st.caption(
    "Photos are decoded in memory on this computer and never saved or sent anywhere. "
    "Detector sensitivity, minimum face size and mirror TTA are in the sidebar."
)
classifier = load_classifier()
if classifier is None:
    st.stop()
uploads = st.file_uploader(
    "Photos with faces",
    type=IMAGE_TYPES,
    accept_multiple_files=True,
    key="upload_files",
    help="JPEG, PNG, WebP, BMP or GIF (first frame). Large photos are downscaled for analysis and display.",
)
if not uploads:
    st.info("Drop one or more photos above. A 48×48 face crop (like FER2013's) is classified as a whole.")
    st.stop()

whole_all = st.toggle(
    "Treat every photo as one face (all files)",
    key="upload_whole_all",
    help="For a batch of face crops: skip detection in every file and classify each whole (centre-square) image.",
)
model_key = f"{classifier.name}:{classifier.sha256[:16]}"
results = [show_image(i, f.name, f.getvalue(), classifier, model_key, whole_all) for i, f in enumerate(uploads)]

st.subheader("Download all results", anchor=False)
st.caption(
    "Same fields as `python -m fer predict --json`: one entry per file with its faces' boxes (in the photo's own "
    "pixels), probabilities and how each face was found; the CSV has a row for every file, also those without a face."
)
csv_col, json_col, _ = st.columns([1, 1, 3])
csv_col.download_button(
    "Results (CSV)",
    results_csv(results),
    "fer_results.csv",
    "text/csv",
    key="dl_csv",
    on_click="ignore",
    icon=":material/table:",
)
json_col.download_button(
    "Results (JSON)",
    results_json(results),
    "fer_results.json",
    "application/json",
    key="dl_json",
    on_click="ignore",
    icon=":material/data_object:",
)
