"""Video: emotions over time in a video file, per tracked face, with the annotated video to download.

The upload is decoded as a stream from memory (never written to disk) in a background thread
(:class:`ui.video.job.VideoJob`), so the page shows progress and can cancel; the job, and so the
results, live in the session and survive visits to other pages.
"""

from __future__ import annotations

import streamlit as st

from ui.common import current_settings, ensure_app_navigation, load_classifier
from ui.plain_text import plain_message
from ui.video.job import VideoJob
from ui.video.view import PROGRESS_REFRESH_S, options_panel, progress_panel, results_panel

ensure_app_navigation()  # a deep link opened first still gets the app shell

VIDEO_TYPES = ["mp4", "mov", "webm", "avi", "mkv", "m4v"]
JOB_KEY = "video_job"

st.title("Video")
st.markdown(
    "Upload a recording (an interview, a lecture, a user-study session): every face is followed through "
    "the video under its own id, and you get each face's emotions over time, the overall mood, any frame "
    "annotated, and the annotated video, CSV and JSON to download."
)
classifier = load_classifier()
if classifier is None:
    st.stop()

cap_mb = st.get_option("server.maxUploadSize")
UPLOAD_KEY, KEPT_KEY = "video_file", "_video_kept"


def keep_upload() -> None:
    """The uploader's callback (user changes only): a new file is kept in this session, × forgets it.

    Kept in memory (at most one file, within the upload cap), so after a visit to another page the
    video is still there to analyse again with other settings; never written to disk.
    """
    file = st.session_state.get(UPLOAD_KEY)
    st.session_state[KEPT_KEY] = None if file is None else (file.name, file.getvalue())
    drop_job()  # a new file (or ×): the previous file's results must not sit under it


def forget_video() -> None:
    """*Forget*: the video and everything made from it (results, downloads) leave the session."""
    st.session_state[KEPT_KEY] = None
    drop_job()


def drop_job() -> None:
    job = st.session_state.pop(JOB_KEY, None)
    if job is not None:
        job.cancel()


st.file_uploader(
    f"Video file (up to {cap_mb} MB)",
    type=VIDEO_TYPES,
    key=UPLOAD_KEY,
    on_change=keep_upload,
    help="MP4, MOV, WebM, AVI or MKV.",
)
kept_video: tuple[str, bytes] | None = st.session_state.get(KEPT_KEY)
if kept_video is not None and st.session_state.get(UPLOAD_KEY) is None:  # back from another page
    name_col, forget_col = st.columns([5, 1], vertical_alignment="center")
    name_col.markdown(f"Video: **{kept_video[0]}** ({len(kept_video[1]) / 1e6:.1f} MB, kept from before)")
    forget_col.button("Forget", key="video_forget", on_click=forget_video, icon=":material/close:")
st.caption(
    f"Files up to **{cap_mb} MB** (this server's upload limit, `server.maxUploadSize`). The video is "
    "decoded from memory on this computer, never saved or sent anywhere; it stays in this tab's session "
    "until you remove it. Detector sensitivity, minimum face size and mirror TTA come from the sidebar."
)
options, write_video = options_panel(current_settings())


def start_job(video: tuple[str, bytes], options, write_video: bool) -> None:  # noqa: ANN001 - fer.options.Options
    """Analyse button's callback: it runs before the script, so the job starts even if the run is rerun."""
    name, data = video
    st.session_state[JOB_KEY] = VideoJob(data, name, classifier, options, write_video=write_video).start()


job: VideoJob | None = st.session_state.get(JOB_KEY)
st.button(
    "Analyse",
    type="primary",
    disabled=kept_video is None or (job is not None and job.running),
    key="video_analyse",
    on_click=start_job,
    args=(kept_video, options, write_video),
)
job = st.session_state.get(JOB_KEY)
if job is None:
    st.info("Choose a video file above, then press **Analyse**.")
elif job.running:
    st.fragment(run_every=PROGRESS_REFRESH_S)(progress_panel)(job)
elif job.error is not None:
    st.error(plain_message(job.error), icon=":material/block:")
else:
    results_panel(job, options)
