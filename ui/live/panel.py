"""The numbers beside the live video: stream figures, per-face probabilities, the group mood.

Drawn by the Live page in a fragment that re-runs a few times a second while streaming. Kept apart from
the page (which needs a running WebRTC session) so it can be tested with AppTest on a real
:class:`fer.live.LiveProcessor` fed with real frames.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from fer.faces import FaceResult, mood
from fer.labels import top_label
from fer.live import LiveProcessor
from ui.charts import probability_bars_html
from ui.results import uncertain_note

#: Faces that get their own bars beside the video (more are counted, and averaged into the group mood).
MAX_FACES_SHOWN = 4


def stream_start_frames(processor: LiveProcessor, playing: bool) -> int:
    """The processor's frame count when the stream last started: stats from before it are stale."""
    if playing and not st.session_state.get("_live_was_playing", False):
        st.session_state["_live_start_frames"] = processor.frames_processed
    st.session_state["_live_was_playing"] = playing
    return st.session_state.get("_live_start_frames", 0)


def stats_panel(processor: LiveProcessor, playing: bool, start_frames: int) -> None:
    """The numbers beside the video (a fragment: it re-runs alone a few times a second while streaming).

    Stopped (STOP pressed, or the page was left, which ends the stream), or before the first frame of
    this stream, every live figure shows "—" and the bars are empty and grey: nothing looks live then.
    """
    stats = processor.latest_stats()
    live = playing and stats is not None and stats.frames > start_frames
    top = st.columns(2)
    top[0].metric("Frames processed", f"{processor.frames_processed:,}", help="Since this tab opened the page")
    top[1].metric("Processed FPS", f"{stats.fps:.1f}" if live else "—")
    mid = st.columns(2)
    mid[0].metric("Per-frame ms", f"{stats.ms:.1f}" if live else "—", help="Detection, classification and overlay")
    mid[1].metric("Faces", str(stats.n_faces) if live else "—")
    if not live:
        st.metric("Emotion", "—", help="Smoothed over frames; several faces: their mood")
        st.markdown(probability_bars_html(None, muted=True), unsafe_allow_html=True)
        st.caption("Stopped: press **START** for live figures." if not playing else "Waiting for the first frame…")
    else:
        faces_panel(stats.faces)
        st.caption(f"Input video: {stats.size[0]}×{stats.size[1]}")
    if processor.last_error:
        st.warning(f"{processor.errors} frame(s) failed; last error: {processor.last_error}", icon="⚠️")


def faces_panel(faces: Sequence[FaceResult]) -> None:
    """One face: its emotion and bars. Several: the group mood, then each face under its name on the video.

    Faces come left to right; each is named by its track id, ``#id``, as on its box (docs/detection.md).
    """
    if not faces:
        st.metric("Emotion", "—", help="No face in view")
        st.markdown(probability_bars_html(None), unsafe_allow_html=True)
        return
    if len(faces) == 1:
        probs = faces[0].probs
        st.metric("Emotion", top_label(probs), help="Smoothed over frames")
        st.markdown(probability_bars_html(probs), unsafe_allow_html=True)
        return
    group = mood(faces)
    st.metric(
        "Group mood",
        top_label(group),
        help=f"The {len(faces)} faces averaged, larger faces counting more (as on photos)",
    )
    st.markdown(probability_bars_html(group), unsafe_allow_html=True)
    for face in faces[:MAX_FACES_SHOWN]:
        held = " (held)" if face.followed else ""
        st.markdown(f"**#{face.track_id}**: {face.label} {face.confidence:.0%}{uncertain_note(face)}{held}")
        st.markdown(probability_bars_html(face.probs), unsafe_allow_html=True)
    if len(faces) > MAX_FACES_SHOWN:
        hidden = len(faces) - MAX_FACES_SHOWN
        st.caption(f"+{hidden} more face{'s' if hidden > 1 else ''} (counted in the group mood; names on the video).")
