"""The results of photos (uploaded or taken with the camera), as the Upload page and the Live page show them.

One photo: the annotated image (faces numbered left to right, the same numbers as the list beside it),
each face's crop, coloured probability bars and top 3, the overall mood, the annotated download.
Many photos: a compact, sortable table first (thumbnail, faces, top emotion, confidence, status) and
the details of the one picked. Analyses are kept per session (:func:`ui.photo_store.remembered_result`),
so switching pages and back shows them again at once.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial

import cv2
import numpy as np
import streamlit as st

from fer.classifier import Classifier
from fer.faces import FaceResult, voters
from fer.faces import mood as overall_mood
from fer.labels import CLASS_NAMES, top_label
from fer.music import mime_type, synth_clip, user_clips
from fer.results import ImageResult, analyze_bytes, annotated_png, digest, fit_within, png_side
from ui.charts import probability_bars
from ui.common import current_settings
from ui.photo_store import StoredPhoto, add_photo, remembered_result, remove_photo, session_photos
from ui.plain_text import plain, plain_message
from ui.results import enlarge, face_caption, faces_table, mood_hint, settings_note, source_note, uncertain_note
from ui.widget_state import kept, kept_value

#: Up to this many faces per image get full details inline; beyond it, a table and one face at a time.
DETAIL_LIMIT = 4
CROP_PX = 144
THUMB_PX = 96
#: The photos table's last column (the file name); the result columns before it fit a 390 px phone.
FILE_COLUMN_PX = 160
#: Draws extra per-face content (the Upload page's saliency toggle) under the crop: (face, widget key).
FaceExtra = Callable[[FaceResult, str], None]


# ----------------------------------------------------------------------------- analysis
def model_key(classifier: Classifier) -> str:
    """Identifies the model's weights in cache keys."""
    return f"{classifier.name}:{classifier.sha256[:16]}"


#: The Upload page's "treat every photo as one face" switch (read here so each photo's toggle follows it).
WHOLE_ALL_KEY = "upload_whole_all"


def whole_face_key(photo: StoredPhoto) -> str:
    return f"{photo.key}_whole"


def whole_face_setting(photo: StoredPhoto) -> bool:
    """The photo's "treat the whole image as a face" choice, or the page's all-files switch."""
    return bool(kept_value(WHOLE_ALL_KEY, False)) or bool(kept_value(whole_face_key(photo), False))


def analyse(photo: StoredPhoto, classifier: Classifier, whole: bool | None = None) -> ImageResult:
    """The photo's analysis under the sidebar's settings, computed once per session and settings."""
    settings = current_settings()
    whole = whole_face_setting(photo) if whole is None else whole
    key = (model_key(classifier), settings.detector, whole, settings.tta)

    def compute() -> ImageResult:
        with st.spinner(f"Finding faces in {photo.name}…"):
            return analyze_bytes(photo.data, photo.name, classifier, settings, bool(whole))

    return remembered_result(photo.key, key, compute)


# ----------------------------------------------------------------------------- taking a photo
def take_photo(widget_key: str, label: str = "Take a photo") -> StoredPhoto | None:
    """``st.camera_input``; a new shot joins this session's photos, replacing this widget's previous one.

    Returns the latest photo taken with this widget (still there after "Clear photo", until removed).
    """
    shot = st.camera_input(label, key=widget_key, help="Take, retake, and the photo is analysed like an upload.")
    last_key = f"_{widget_key}_last"
    previous: tuple[str, str] | None = st.session_state.get(last_key)  # (file id, photo key)
    if shot is not None and (previous is None or previous[0] != shot.file_id):
        if previous is not None:
            remove_photo(previous[1])
        data = shot.getvalue()
        photo = StoredPhoto(f"camera {datetime.now():%H-%M-%S}.jpg", data, digest(data), source="camera")
        add_photo(photo)
        st.session_state[last_key] = previous = (shot.file_id, photo.key)
    if previous is None:
        return None
    return session_photos().get(previous[1])


# ----------------------------------------------------------------------------- one photo
def show_photo(photo: StoredPhoto, classifier: Classifier, *, face_extra: FaceExtra | None = None) -> ImageResult:
    """One photo: error, or the annotated image, its faces, overall mood and the annotated download."""
    key = f"p_{photo.key[:12]}"
    with st.container(border=True):
        title_col, remove_col = st.columns([5, 1], vertical_alignment="center")
        title_col.subheader(plain(photo.name), anchor=False)
        remove_col.button(
            "Remove",
            key=f"{key}_remove",
            on_click=remove_photo,
            args=(photo.key,),
            icon=":material/delete:",
            help="Forget this photo (it is only in this session's memory).",
        )
        result = analyse(photo, classifier)
        if result.error is not None:
            st.error(f"**Could not read {plain(photo.name)}.** {plain_message(result.error)}", icon=":material/block:")
            return result
        whole_all = bool(kept_value(WHOLE_ALL_KEY, False))
        whole = (
            st.toggle(
                "Treat the whole image as a face",
                key=kept(whole_face_key(photo), False),
                disabled=whole_all,
                help="Skip face detection and classify the whole (centre-square) image: for pre-cropped faces such "
                "as FER2013's 48×48 images. Without it, a photo where no face is detected is retried on a padded "
                "copy and, if it looks like a face crop, read whole automatically (the page says so).",
            )
            or whole_all
        )
        if whole != result.whole_face:
            result = analyse(photo, classifier, whole)
        image_col, info_col = st.columns([3, 2])
        with image_col:
            # "content": the image's own width, but never wider than the column (phones: 390 px screens)
            st.image(result.display, caption=size_caption(result), width="content")
        with info_col:
            show_summary(result, photo, key)
            settings = current_settings()
            st.caption(settings_note(classifier.name, settings.resolve_tta(classifier), settings) + ".")
        show_faces(result, key, face_extra)
    return result


def show_summary(result: ImageResult, photo: StoredPhoto, key: str) -> None:
    """Face count, the no-face advice, the overall mood of several faces, the annotated download."""
    count = len(result.faces)
    st.markdown(f"**{count} face{'s' if count != 1 else ''} found**" + (" (whole image)" if result.read_whole else ""))
    note = source_note(result)
    if note is not None:
        st.info(note, icon=":material/crop_free:")
    if count == 0:
        st.warning(
            f"No face found in {plain(photo.name)}, also not on a padded copy. If it is a cropped face, turn on "
            "*Treat the whole image as a face* above; otherwise raise the detector sensitivity or lower the "
            "minimum face size in the sidebar (faces must be frontal and at least that many pixels wide).",
            icon=":material/face_retouching_off:",
        )
    if count > 1:
        mood = overall_mood(result.faces)
        top = int(np.argmax(mood))
        st.markdown(
            f"Overall mood: **{CLASS_NAMES[top]}** ({mood[top]:.1%}; {voters(result.faces)} of {count} faces vote, "
            "weighted by size and detection confidence: weak detections do not vote)"
        )
        hint = mood_hint(result.faces, mood)
        if hint is not None:
            st.caption(hint)
        st.plotly_chart(probability_bars(mood, height=220), key=f"{key}_mood", config={"displayModeBar": False})
    if count:
        st.caption("Faces are numbered left to right (one above another: top first), on the image and below.")
    png_w, png_h = png_size(result)
    st.download_button(
        "Annotated image (PNG)",
        data=partial(annotated_png, photo.data, photo.name, result.faces, result.shape),
        help=f"{png_w}×{png_h} px"
        + (
            ": the photo's own size, so its boxes are the CSV/JSON boxes."
            if (png_h, png_w) == stored_size(result)
            else f", the photo scaled by {png_w / stored_size(result)[1]:.3g}: multiply the CSV/JSON boxes by it."
        ),
        file_name=f"{photo.name.rsplit('.', 1)[0]}_annotated.png",
        mime="image/png",
        key=f"{key}_png",
        on_click="ignore",
        icon=":material/download:",
    )


def stored_size(result: ImageResult) -> tuple[int, int]:
    """(height, width) of the photo as stored: what the user's coordinates and the exports refer to."""
    return tuple(result.original_shape or result.shape)  # type: ignore[return-value]


def png_size(result: ImageResult) -> tuple[int, int]:
    """(width, height) of the annotated PNG download (the stored photo's size, capped)."""
    height, width = stored_size(result)
    scale = png_side(result) / max(height, width, 1)
    return max(1, round(width * scale)), max(1, round(height * scale))


def size_caption(result: ImageResult) -> str:
    """The photo's real size; for a large photo also the size it was analysed at."""
    height, width = stored_size(result)
    if (height, width) == tuple(result.shape):
        return f"{width}×{height} px"
    return (
        f"{width}×{height} px photo, analysed at {result.shape[1]}×{result.shape[0]}; boxes in the downloads are "
        "in the photo's own pixels"
    )


def show_face(face: FaceResult, number: int, key: str, face_extra: FaceExtra | None) -> None:
    """One face: the 48x48 crop the model saw, all 7 probabilities, the top 3, and the page's extra."""
    st.markdown(f"**Face {number}: {face.label}** ({face.confidence:.1%}){uncertain_note(face)}{face_caption(face)}")
    crop_col, chart_col, top_col = st.columns([1, 2, 1], vertical_alignment="center")
    with crop_col:
        st.image(enlarge(face.crop, CROP_PX), caption="48×48 crop, as the model saw it", width=CROP_PX)
        if face_extra is not None:
            face_extra(face, key)
    with chart_col:
        st.plotly_chart(probability_bars(face.probs), key=f"{key}_chart", config={"displayModeBar": False})
    with top_col:
        st.markdown("\n".join(f"{rank}. **{name}** {p:.1%}" for rank, (name, p) in enumerate(face.top(3), 1)))


def show_faces(result: ImageResult, key: str, face_extra: FaceExtra | None = None) -> None:
    """All faces of one image: inline details for a few, a table plus one chosen face for many."""
    faces = result.faces
    if len(faces) <= DETAIL_LIMIT:
        for number, face in enumerate(faces, 1):
            show_face(face, number, f"{key}_f{number}", face_extra)
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
    show_face(faces[number - 1], number, f"{key}_f{number}", face_extra)


# ----------------------------------------------------------------------------- many photos
def photo_summary(result: ImageResult) -> dict:
    """One row of the batch table: faces, top emotion of the photo (overall mood), its confidence, status."""
    if result.error is not None:
        return {"faces": None, "top emotion": None, "confidence": None, "status": "unreadable"}
    if not result.faces:
        return {"faces": 0, "top emotion": None, "confidence": None, "status": "no face"}
    mood = overall_mood(result.faces)
    top = int(np.argmax(mood))
    status = "whole image" if result.read_whole else "ok"
    return {
        "faces": len(result.faces),
        "top emotion": CLASS_NAMES[top],
        "confidence": round(float(mood[top]) * 100, 1),  # percent, as the details show it
        "status": status,
    }


def thumbnail(result: ImageResult) -> str | None:
    """The annotated image as a small JPEG data URI for the table (None for an unreadable file)."""
    if result.display is None:
        return None
    small = fit_within(result.display, THUMB_PX)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 80])
    return "data:image/jpeg;base64," + base64.b64encode(buf.tobytes()).decode() if ok else None


def batch_table(photos: Sequence[StoredPhoto], results: Sequence[ImageResult], select_key: str) -> None:
    """The compact view of many photos; clicking any cell of a row picks the photo shown below."""
    rows = [{"photo": thumbnail(r), "file": p.name, **photo_summary(r)} for p, r in zip(photos, results, strict=True)]
    keys = [p.key for p in photos]
    event = st.dataframe(
        rows,
        key="batch_table",
        hide_index=True,
        on_select="rerun",
        # a click on any cell picks its row (otherwise only the far-left row checkbox does; without row
        # selection that checkbox column is gone too, which phones need); headers still sort
        selection_mode="single-cell",
        row_height=THUMB_PX // 2 + 8,
        placeholder="—",  # unreadable files and faceless photos: no "None" in the table
        # the file name last: at a phone's 390 px the results fit on screen (widths in px, ~345 in all);
        # wider screens spread the spare width over every column
        column_order=["photo", "top emotion", "confidence", "faces", "status", "file"],
        column_config={
            "photo": st.column_config.ImageColumn("photo", width=THUMB_PX // 2 + 8),
            "top emotion": st.column_config.TextColumn(
                "top emotion", help="The overall mood of the photo's faces", width=84
            ),
            "confidence": st.column_config.ProgressColumn(
                # one decimal, as the photo's details show it (not "39.35%" here, "39.4%" there)
                "confidence",
                format="%.1f%%",
                min_value=0.0,
                max_value=100.0,
                width=84,
                help="Probability of the top emotion",
            ),
            "faces": st.column_config.NumberColumn("faces", format="%d", width=48),
            "status": st.column_config.TextColumn("status", width=76),
            "file": st.column_config.TextColumn("file", width=FILE_COLUMN_PX),
        },
    )
    row = picked_row(event.selection)
    if row != st.session_state.get("_batch_table_row"):  # a new click; otherwise the selector below decides
        st.session_state["_batch_table_row"] = row
        if row is not None and 0 <= row < len(keys):
            st.session_state[select_key] = keys[row]
    st.caption("Click a column header to sort, any cell of a row to see that photo's details below.")


def picked_row(selection: dict) -> int | None:
    """The table row of the cell the user clicked (None when no cell is selected)."""
    cells = list(selection.get("cells") or [])
    return int(cells[0][0]) if cells else None


# ----------------------------------------------------------------------------- mood music
def mood_music(faces: Sequence[FaceResult], key: str, scope: str = "this photo") -> None:
    """Optional panel: a clip for the overall mood, from ``music/<emotion>/`` or synthesised in memory.

    ``scope`` names what the mood is of ("all 3 photos", "this photo"), so it is never read as one photo's.
    """
    if not st.toggle(
        "Mood music",
        key=kept(f"{key}_music", False),
        help="Play a short clip for the overall mood. Add your own to music/<emotion>/ (see the README).",
    ):
        return
    if not faces:
        st.caption("No face, no mood: the music starts once a face is found.")
        return
    mood = overall_mood(list(faces))
    emotion = top_label(mood)
    clips = user_clips(emotion)
    st.markdown(f"Overall mood of {scope}: **{emotion}** ({len(faces)} face{'s' if len(faces) != 1 else ''})")
    if clips:
        choice = st.selectbox(
            f"Your clips in music/{emotion}/", clips, key=f"{key}_clip_{emotion}", format_func=lambda p: p.name
        )
        try:
            st.audio(choice.read_bytes(), format=mime_type(choice))
        except OSError as exc:
            st.warning(f"Cannot read {plain(choice.name)}: {plain_message(exc)}")
    else:
        st.audio(_synth(emotion), format="audio/wav")
        st.caption(f"A short clip made on this computer. Put your own in `music/{emotion}/` to hear them instead.")


@st.cache_data(max_entries=8, show_spinner=False)
def _synth(emotion: str) -> bytes:
    return synth_clip(emotion)
