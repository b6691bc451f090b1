"""Upload: emotions of every face in the user's photos (uploaded or taken with the camera), with downloads.

Photos are read from memory only (never written to disk) and kept in this session's memory, with
their analyses, so leaving the page and coming back shows them again. Many photos get a compact,
sortable table first and the details of one photo at a time (``ui.photo_view``).
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from fer.classifier import Classifier, ModelError
from fer.faces import FaceResult
from fer.results import ImageResult, digest, results_csv, results_json
from fer.saliency import saliency_legend, saliency_overlay
from ui.common import ensure_app_navigation, load_classifier
from ui.photo_store import StoredPhoto, add_photo, clear_photos, session_photos
from ui.photo_view import CROP_PX, WHOLE_ALL_KEY, analyse, batch_table, model_key, mood_music, show_photo, take_photo
from ui.plain_text import plain, plain_message
from ui.widget_state import forget_kept, kept, kept_value

ensure_app_navigation()  # a deep link opened first still gets the app shell

ACCEPTED = "JPEG, PNG, WebP, HEIC/HEIF (iPhone), BMP, TIFF or GIF (first frame)"
DETAIL_KEY = "upload_detail"
#: Under the saliency map's colour strip: what its colours mean.
SALIENCY_LEGEND = "blue: hiding it changes nothing · red: hiding it lowers the emotion most"


@st.cache_data(max_entries=128, ttl="1h", show_spinner="Computing saliency…")
def _saliency(
    model_key: str, crop_hash: str, class_index: int, _classifier: Classifier, _crop: np.ndarray
) -> np.ndarray:
    """Occlusion-saliency overlay (``fer.saliency``), cached per face crop so toggling it back on is instant."""
    return saliency_overlay(_classifier, _crop, class_index, size=CROP_PX)


def saliency_toggle(face: FaceResult, key: str) -> None:
    """Under a face's crop: the optional saliency map (what drove the prediction)."""
    if st.toggle("Saliency", key=f"{key}_saliency", help="Occlusion: the regions whose hiding lowers it most."):
        try:
            overlay = _saliency(MODEL_KEY, digest(face.crop.tobytes()), face.label_index, classifier, face.crop)
        except ModelError as exc:
            st.warning(f"Saliency is not available: {exc}")
        else:
            st.image(overlay, caption=f"What drove '{face.label}'", width=CROP_PX)
            st.image(saliency_legend(CROP_PX), caption=SALIENCY_LEGEND, width=CROP_PX)


# ----------------------------------------------------------------------------- adding photos
def uploader_key() -> str:
    """The uploader's current widget key: a new one after every upload and "Remove all" (an empty uploader)."""
    generation = st.session_state.get("_uploader_generation", 0)
    return "upload_files" if generation == 0 else f"upload_files_{generation}"


def _next_uploader() -> None:
    st.session_state["_uploader_generation"] = st.session_state.get("_uploader_generation", 0) + 1


def take_uploads() -> None:
    """The uploader's files join the session's photos, and the uploader starts empty again.

    Streamlit cannot remove a file from an uploader, so the uploader only takes files in: the photo
    list below is the one place photos are listed and removed (otherwise, after a photo's *Remove*, the
    uploader still listed it, and later 6 files above a "3 photos" table).
    """
    for f in st.session_state.get(uploader_key()) or []:
        data = f.getvalue()
        add_photo(StoredPhoto(f.name, data, digest(data)))
    _next_uploader()


def remove_all() -> None:
    clear_photos()
    _next_uploader()


def add_photos() -> None:
    """The uploader, and the camera when switched on."""
    st.file_uploader(
        "Photos with faces",
        type=None,  # every file is taken and any refused one is named with its reason (a filter drops it unsaid)
        accept_multiple_files=True,
        key=uploader_key(),
        on_change=take_uploads,
        help=f"{ACCEPTED}. Large photos (up to 250 MP) are analysed and shown downscaled; boxes in the "
        "downloads are in the photo's own pixels. Added photos move to the list below, where you remove them.",
    )
    if st.toggle(
        "Take a photo with the camera", key=kept("upload_camera_on", False), help="Uses this device's camera."
    ):
        take_photo("upload_camera")


# ----------------------------------------------------------------------------- showing them
def pick_detail(photos: list[StoredPhoto], results: list[ImageResult]) -> list[StoredPhoto]:
    """Which photos get their full details: the one picked in the table/selector, or all of them.

    The first readable photo is picked to begin with; unreadable files not shown in detail get their
    error message here, so a broken file is always explained by name.
    """
    if len(photos) == 1:
        return photos
    keys = [p.key for p in photos]
    if kept_value(DETAIL_KEY) not in keys:  # its photo was removed: start again
        forget_kept(DETAIL_KEY)
    readable = [p.key for p, r in zip(photos, results) if r.error is None]
    names = {p.key: p.name for p in photos}
    pick_col, all_col = st.columns([3, 2], vertical_alignment="bottom")
    chosen = pick_col.selectbox(
        "Details for", keys, key=kept(DETAIL_KEY, (readable or keys)[0]), format_func=lambda k: names.get(k, k)
    )
    show_all = all_col.toggle("Details of every photo", key=kept("upload_all_details", False))
    if show_all:
        return photos
    for photo, result in zip(photos, results):
        if result.error is not None and photo.key != chosen:
            st.error(f"**Could not read {plain(photo.name)}.** {plain_message(result.error)}", icon=":material/block:")
    return [p for p in photos if p.key == chosen]


def downloads(results: list) -> None:
    st.subheader("Download all results", anchor=False)
    st.caption(
        "Same fields as `python -m fer predict --json`: one entry per file with its faces' boxes (in the photo's "
        "own pixels), probabilities and how each face was found; the CSV has a row for every file, faceless too."
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


st.title("Upload photos")
st.caption(
    "Photos are decoded in memory on this computer and never saved or sent anywhere; they stay in this "
    "browser tab's session until you remove them. Detector sensitivity, minimum face size and mirror TTA are "
    "in the sidebar."
)
classifier = load_classifier()
if classifier is None:
    st.stop()
MODEL_KEY = model_key(classifier)
add_photos()
photos = list(session_photos().values())
if not photos:
    st.info("Drop one or more photos above. A 48×48 face crop (like FER2013's) is classified as a whole.")
    st.stop()

st.toggle(
    "Treat every photo as one face (all files)",
    key=kept(WHOLE_ALL_KEY, False),
    help="For a batch of face crops: skip detection in every file and classify each whole (centre-square) image.",
)
results = [analyse(photo, classifier) for photo in photos]
if len(photos) > 1:
    st.markdown(f"### {len(photos)} photos")
    batch_table(photos, results, DETAIL_KEY)
    # below the table: above it, the table's hover toolbar covered it
    st.button("Remove all", on_click=remove_all, key="upload_clear", icon=":material/delete_sweep:")
for photo in pick_detail(photos, results):
    show_photo(photo, classifier, face_extra=saliency_toggle)

results = [analyse(photo, classifier) for photo in photos]  # again: a toggle above may have changed one
if len(photos) > 1:  # apart from the last photo's details: this mood is of the whole batch
    st.markdown("**Mood music of the whole batch**")
mood_music(
    [face for result in results for face in result.faces],
    "upload",
    scope=f"all {len(photos)} photos" if len(photos) > 1 else "this photo",
)
downloads(results)
