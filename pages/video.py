"""Video: emotions over time in a video file, per tracked face, with the annotated video to download.

The upload is decoded as a stream from memory (never written to disk) in a background thread
(:class:`ui.video_job.VideoJob`), so the page shows progress and can cancel; the job, and so the
results, live in the session and survive visits to other pages.
"""

from __future__ import annotations

import streamlit as st

from ui.common import current_settings, ensure_app_navigation, load_classifier
from ui.video import PROGRESS_REFRESH_S, options_panel, progress_panel, results_panel
from ui.video_job import VideoJob

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
uploaded = st.file_uploader(
    f"Video file (up to {cap_mb} MB)",
    type=VIDEO_TYPES,
    key="video_file",
    help="MP4, MOV, WebM, AVI or MKV.",
)
st.caption(
    f"Files up to **{cap_mb} MB** (this server's upload limit, `server.maxUploadSize`). The video is "
    "decoded from memory on this computer, never saved or sent anywhere. Detector sensitivity, minimum "
    "face size and mirror TTA come from the sidebar."
)
options, write_video = options_panel(current_settings())


def start_job(file, options, write_video: bool) -> None:  # noqa: ANN001 - an UploadedFile
    """Analyse button's callback: it runs before the script, so the job starts even if the run is rerun."""
    st.session_state[JOB_KEY] = VideoJob(
        file.getvalue(), file.name, classifier, options, write_video=write_video
    ).start()


job: VideoJob | None = st.session_state.get(JOB_KEY)
st.button(
    "Analyse",
    type="primary",
    disabled=uploaded is None or (job is not None and job.running),
    key="video_analyse",
    on_click=start_job,
    args=(uploaded, options, write_video),
)
job = st.session_state.get(JOB_KEY)
if job is None:
    st.info("Choose a video file above, then press **Analyse**.")
elif job.running:
    st.fragment(run_every=PROGRESS_REFRESH_S)(progress_panel)(job)
elif job.error is not None:
    st.error(job.error, icon="🚫")
else:
    results_panel(job)
