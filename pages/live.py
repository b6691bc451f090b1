"""Live webcam: the emotions of the faces in the user's camera, frame by frame, via streamlit-webrtc.

The browser streams the camera to this app's server over WebRTC; a worker thread per stream runs the
tab's own :class:`fer.live.LiveProcessor` (mirror -> detect -> classify -> smooth -> annotate) and
streams the annotated video back. The page around it polls the processor a few times a second.
Nothing is written to disk: the timeline lives in memory and its CSV is generated on download.
"""

from __future__ import annotations

import os
from dataclasses import replace

import streamlit as st
from streamlit_webrtc import WebRtcMode, WebRtcStreamerContext, webrtc_streamer

from fer.classifier import Classifier
from fer.live import LiveProcessor
from fer.tracking import MAX_SMOOTHING
from ui.charts import timeline_figure
from ui.common import current_settings, ensure_app_navigation, load_classifier
from ui.live.camera import WEBRTC_TRANSLATIONS, CameraProblem, browser_camera, camera_problem, page_url, show_problem
from ui.live.panel import stats_panel, stream_start_frames
from ui.live.profile import install_from_env, timed
from ui.live.webrtc import collect_garbage_soon, end_session_on_disconnect, parse_ice_servers, server_ice_servers
from ui.photo_view import mood_music, show_photo, take_photo
from ui.widget_state import kept

ensure_app_navigation()  # a deep link opened first still gets the app shell
install_from_env()  # FER_LIVE_PROFILE=FILE: per-stage server timings for scripts/load_live.py

PROCESSOR_KEY = "live_processor"
ICE_ENV = "FER_ICE_SERVERS"
STATS_REFRESH_S = 0.25
TIMELINE_REFRESH_S = 2.0
MEDIA_CONSTRAINTS = {
    "video": {"width": {"ideal": 640}, "height": {"ideal": 480}, "frameRate": {"ideal": 30}},
    "audio": False,
}
VIDEO_ATTRS = {"autoPlay": True, "controls": False, "muted": True, "playsInline": True, "style": {"width": "100%"}}


def ice_servers() -> list[dict]:
    """STUN/TURN servers: none by default (same machine or LAN), else from the expander or $FER_ICE_SERVERS."""
    with st.expander("For use across a network"):
        st.markdown(
            "On this computer or a local network the browser reaches the app directly and no server in "
            "between is needed. Across the internet or strict NATs, WebRTC needs a **STUN** (and "
            "sometimes a **TURN**) server: enter comma-separated `stun:`/`turn:` URLs, or a JSON list "
            'like `[{"urls": "turn:host:3478", "username": "u", "credential": "p"}]`. '
            f"The default comes from the `{ICE_ENV}` environment variable. A TURN server relays the video."
        )
        text = st.text_input(
            "ICE servers",
            value=os.environ.get(ICE_ENV, ""),
            key="live_ice_servers",
            placeholder="stun:stun.example.org:3478",
        )
    try:
        return parse_ice_servers(text)
    except ValueError as exc:
        st.error(f"Ignoring the ICE servers setting: {exc}", icon="⚠️")
        return []


def timeline_panel(processor: LiveProcessor) -> None:
    """The mood of the faces in view over this session, and its CSV (generated in memory on click)."""
    times, probs, _ = processor.timeline_arrays()
    if len(times) == 0:
        st.caption("The timeline fills in once a face is seen (about 4 samples a second, last 10 minutes).")
        return
    st.caption(
        "One face: its probabilities. Several: their mood (larger faces count more, as on photos); the CSV's "
        "`faces` column says how many faces each row is of."
    )
    st.plotly_chart(timeline_figure(times, probs), key="live_timeline_chart", config={"displayModeBar": False})
    left, right = st.columns([1, 1])
    left.download_button(
        "Download timeline (CSV)",
        data=processor.timeline_csv,
        file_name="emotion_timeline.csv",
        mime="text/csv",
        on_click="ignore",
        key="live_timeline_csv",
        icon=":material/download:",
    )
    if right.button("Clear timeline", key="live_timeline_clear"):
        processor.reset_timeline()
        st.rerun(scope="fragment")


# ----------------------------------------------------------------------------- camera checks and fallback
def camera_check() -> CameraProblem | None:
    """What the browser says about its camera, as a plain-words warning above the video when it cannot work."""
    problem = camera_problem(browser_camera(), page_url())
    if problem is not None:
        show_problem(problem)
    return problem


def video_stream(processor: LiveProcessor, servers: list[dict]) -> WebRtcStreamerContext:
    """streamlit-webrtc's video box with START/STOP, its own messages in plain words."""
    ctx = webrtc_streamer(
        key="live",
        mode=WebRtcMode.SENDRECV,
        # The viewer's ICE servers go to their browser only; the server side uses the deployer's
        # $FER_ICE_SERVERS, so no viewer can make the server contact a host of their choosing.
        frontend_rtc_configuration={"iceServers": servers},
        server_rtc_configuration={"iceServers": server_ice_servers(os.environ.get(ICE_ENV))},
        media_stream_constraints=MEDIA_CONSTRAINTS,
        video_frame_callback=processor.process_frame,  # never raises: errors are counted
        on_video_ended=collect_garbage_soon,  # closes what the ended stream's thread left behind
        async_processing=True,
        sendback_audio=False,
        video_html_attrs=VIDEO_ATTRS,
        translations=WEBRTC_TRANSLATIONS,
    )
    st.caption(
        "Detector sensitivity and minimum face size come from the sidebar. No video? Check that the "
        "browser may use the camera and that no other program holds it, or take a single photo below."
    )
    return ctx


def photo_fallback(classifier: Classifier, problem: CameraProblem | None) -> None:
    """A single photo instead of video (e.g. when the stream cannot connect): the same results as Upload."""
    st.subheader("Take a photo instead", anchor=False)
    if problem is not None and problem.kind in ("insecure", "no_api"):
        st.caption("Taking a photo needs camera access too; photos from files work on the Upload page.")
        st.page_link("pages/upload.py", label="Upload photos", icon=":material/upload:")
        return
    if not st.toggle(
        "Use the camera for a single photo",
        key=kept("live_photo_on", False),
        help="Take, retake, and the photo is analysed as on the Upload page (where it also appears).",
    ):
        return
    photo = take_photo("live_camera")
    if photo is not None:
        result = show_photo(photo, classifier)
        mood_music(result.faces, "live_photo")


st.title("Live webcam")
st.markdown(
    "Press **START** and allow the camera: every frame is searched for faces and each face gets its "
    "emotion, drawn on the video and charted beside it. Probabilities are smoothed across frames so "
    "labels don't flicker. Frames are processed in memory by this app's own server and never stored "
    "or sent anywhere else; with the default settings no outside server is involved at all."
)

classifier = load_classifier()
if classifier is None:
    st.stop()
settings = current_settings()

processor: LiveProcessor | None = st.session_state.get(PROCESSOR_KEY)
if processor is None:  # one per browser tab (session); the classifier inside is shared
    processor = LiveProcessor(classifier, settings)
    st.session_state[PROCESSOR_KEY] = processor
    end_session_on_disconnect()  # a closed tab releases its stream's sockets, threads and memory at once

controls = st.columns([1, 1, 2])
mirror = controls[0].toggle(
    "Mirror view", value=processor.mirror, key="live_mirror", help="Show the video like a mirror"
)
overlays = controls[1].toggle(
    "Show overlays", value=processor.overlays, key="live_overlays", help="Draw face boxes and labels on the video"
)
smoothing = controls[2].slider(
    "Smoothing",
    min_value=0.0,
    max_value=MAX_SMOOTHING,
    value=round(processor.smoothing, 2),
    step=0.05,
    key="live_smoothing",
    help="Weight of previous frames in each face's probabilities: 0 shows every frame's raw prediction.",
)
processor.update(replace(settings, smoothing=smoothing), mirror=mirror, overlays=overlays, classifier=classifier)

servers = ice_servers()
problem = camera_check()
video_col, stats_col = st.columns([3, 2], gap="medium")
with video_col:
    ctx = None if problem is not None and problem.blocks_streaming else video_stream(processor, servers)
playing = bool(ctx is not None and ctx.state.playing)
start_frames = stream_start_frames(processor, playing)

with stats_col:
    st.fragment(run_every=STATS_REFRESH_S if playing else None)(timed("page_stats", stats_panel))(
        processor, playing, start_frames
    )

st.subheader("Session timeline")
st.fragment(run_every=TIMELINE_REFRESH_S if playing else None)(timed("page_timeline", timeline_panel))(processor)
photo_fallback(classifier, problem)
