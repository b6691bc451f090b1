"""The Video page's panels: options, progress, per-face results, timelines, frame scrubber, downloads.

Numbers come from :class:`fer.video.analyse.VideoAnalysis`; this module only lays them out.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from fer.labels import CLASS_NAMES
from fer.options import Options, changed_settings
from fer.overlay import annotate
from fer.tracking import MAX_SMOOTHING, TRACK_MAX_MISSED
from fer.video.reader import VideoError, VideoReader
from fer.video.result import VideoAnalysis
from ui.charts import probability_bars, timeline_figure
from ui.plain_text import plain, plain_message
from ui.results import duration, settings_note
from ui.video.job import VideoJob

#: Timelines drawn one per face for at most this many faces (longest on screen first); the CSV has all.
MAX_FACE_CHARTS = 8
PROGRESS_REFRESH_S = 0.5
CHART_CONFIG = {"displayModeBar": False}


def options_panel(settings: Options) -> tuple[Options, bool]:
    """Analysis rate, smoothing and whether to write the annotated video; detector and TTA from the sidebar."""
    rate_col, smooth_col, write_col = st.columns([2, 2, 2])
    with rate_col:
        every = (
            st.radio("Analyse", ["Every frame", "N frames per second"], key="video_rate_mode", horizontal=True)
            == "Every frame"
        )
        fps = st.number_input(
            "Frames per second",
            min_value=0.5,
            max_value=60.0,
            value=5.0,
            step=0.5,
            key="video_fps",
            disabled=every,
            help="Fewer analysed frames: faster, coarser timelines. The annotated video keeps every frame.",
        )
    smoothing = smooth_col.slider(
        "Smoothing",
        min_value=0.0,
        max_value=MAX_SMOOTHING,
        value=Options.smoothing,
        step=0.05,
        key="video_smoothing",
        help="Weight of a face's earlier frames in its probabilities: 0 shows every frame's raw prediction.",
    )
    write = write_col.toggle(
        "Annotated video for download",
        value=True,
        key="video_write",
        help="An H.264 MP4 with each face's box, emotion and id, at the original frame rate (with its sound).",
    )
    return replace(settings, fps=None if every else float(fps), smoothing=float(smoothing)), write


def progress_panel(job: VideoJob) -> None:
    """Progress bar with ETA and a Cancel button (a fragment, re-run alone every half second)."""
    if not job.running:
        st.rerun()  # finished: redraw the whole page with the results
    total = f" of {job.total_s:.1f} s" if job.total_s else ""
    eta = job.eta_s
    left = "estimating time left…" if eta is None else f"about {duration(eta)} left"
    text = f"Analysing {plain(job.name)}: {job.done_s:.1f} s{total} ({job.frames:,} frames), {left}"
    st.progress(job.fraction, text="Cancelling…" if job.cancelling else text)
    st.button("Cancel", key="video_cancel", icon=":material/cancel:", disabled=job.cancelling, on_click=job.cancel)


def results_panel(job: VideoJob, current: Options) -> None:
    """Everything about one finished analysis; ``current``: the page's settings now (a change is flagged)."""
    analysis = job.analysis
    info = analysis.info
    st.subheader(f"Results: {plain(job.name)}", anchor=False)
    options = analysis.options
    rate = "every frame" if options.fps is None else f"{options.fps:g} frames per second"
    changed = changed_settings(job.options, current)
    if changed:
        st.warning(
            "**Settings changed since this analysis** (" + plain_message("; ".join(changed)) + ") — press **Analyse** "
            "again to apply them.",
            icon=":material/update:",
        )
    st.caption(f"{settings_note(job.model, job.tta, options)}; analysed {rate}, smoothing {options.smoothing:.2f}.")
    for note in analysis.notes:
        alarming = analysis.cancelled and note.startswith("Cancelled") or "damaged" in note or "truncated" in note
        (st.warning if alarming else st.info)(note, icon=":material/info:")
    cols = st.columns(4)
    cols[0].metric("Video", f"{info.source_width}×{info.source_height}", help=f"{info.fps:.2f} frames/s, {info.codec}")
    cols[1].metric("Frames analysed", f"{len(analysis.sample_t):,}", help=f"of {analysis.frames_decoded:,} decoded")
    cols[2].metric("Faces (ids)", str(len(analysis.face_ids)))
    cols[3].metric("Speed", f"{analysis.frames_decoded / max(analysis.seconds, 1e-9):.0f} frames/s")
    if not analysis.face_ids:
        st.warning(
            f"No face found in {plain(job.name)}. Faces must be frontal and at least the sidebar's minimum face size; "
            "a higher detector sensitivity finds more (and more false boxes).",
            icon=":material/face_retouching_off:",
        )
    else:
        faces_tables(analysis)
        face_timelines(analysis)
        mood_timeline(analysis)
    if len(analysis.sample_t):
        st.fragment(frame_scrubber)(job)
    downloads(job)


def faces_tables(analysis: VideoAnalysis) -> None:
    """Per face id: time on screen, share of time per emotion, mean probabilities."""
    summaries = analysis.faces()
    st.markdown("**Faces**")
    st.caption(
        "Each face keeps its id while it stays in the picture (a face the detector misses is held at its last "
        f"box for up to {TRACK_MAX_MISSED} analysed frames) and when it is back within a second near where it was "
        "lost; a face gone longer that comes back gets a new id."
    )
    percent = {
        n: st.column_config.ProgressColumn(n, format="percent", min_value=0.0, max_value=1.0) for n in CLASS_NAMES
    }
    share_tab, mean_tab = st.tabs(["Share of time per emotion", "Mean probabilities"])
    base = [
        {
            "face": f"#{f.id}",
            "on screen (s)": round(f.seconds, 1),
            "seen (s)": f"{f.first_s:.1f}–{f.last_s:.1f}",
            "mostly": f.label,
        }
        for f in summaries
    ]
    share_tab.dataframe([{**row, **f.share} for row, f in zip(base, summaries)], hide_index=True, column_config=percent)
    mean_tab.dataframe(
        [{**row, **{n: float(p) for n, p in zip(CLASS_NAMES, f.mean_probs)}} for row, f in zip(base, summaries)],
        hide_index=True,
        column_config=percent,
    )


def face_timelines(analysis: VideoAnalysis) -> None:
    """One probability timeline per face; gaps where the face was not in the picture."""
    summaries = analysis.faces()
    st.markdown("**Emotions over time, per face**")
    for face in summaries[:MAX_FACE_CHARTS]:
        times, probs = analysis.face_timeline(face.id)
        st.caption(f"#{face.id}: {face.seconds:.1f} s on screen, mostly {face.label}")
        st.plotly_chart(timeline_figure(times, probs, height=240), key=f"video_face_{face.id}", config=CHART_CONFIG)
    if len(summaries) > MAX_FACE_CHARTS:
        st.caption(f"{len(summaries) - MAX_FACE_CHARTS} more face ids: their frames are in the CSV and JSON.")


def mood_timeline(analysis: VideoAnalysis) -> None:
    st.markdown("**Overall mood over time**")
    st.caption(
        "The faces of each analysed frame averaged, larger and more surely detected faces counting more "
        "(as on photos); gaps where no face was found."
    )
    times, mood = analysis.mood_timeline()
    st.plotly_chart(timeline_figure(times, mood, height=240), key="video_mood", config=CHART_CONFIG)


def frame_scrubber(job: VideoJob) -> None:
    """A slider over the analysed frames: that frame annotated, and each face's probabilities."""
    analysis = job.analysis
    st.markdown("**Frame by frame**")
    last = float(analysis.sample_t[-1])
    step = max(0.01, round(float(min(analysis.sample_durations()[:-1], default=0.1)), 2))
    t = st.slider("Time (s)", 0.0, max(last, step), 0.0, step=step, key="video_scrub", format="%.2f s")
    sample = analysis.nearest_sample(t)
    try:
        with VideoReader(job.data, job.name) as reader:
            rgb = reader.frame_at(float(analysis.sample_t[sample]))
    except VideoError as exc:
        st.warning(f"This frame cannot be shown: {exc}")
        return
    faces = analysis.faces_at(sample, rgb)
    image_col, bars_col = st.columns([3, 2])
    frame_no = int(analysis.sample_frame[sample])
    image_col.image(annotate(rgb, faces), caption=f"frame {frame_no} at {analysis.sample_t[sample]:.2f} s")
    with bars_col:
        if not faces:
            st.caption("No face in this frame.")
        for face in faces:
            held = " (held: not detected in this frame)" if face.followed else ""
            st.plotly_chart(
                probability_bars(face.probs, title=f"#{face.track_id}: {face.label}{held}", height=230),
                key=f"video_scrub_bars_{face.track_id}",
                config=CHART_CONFIG,
            )


def downloads(job: VideoJob) -> None:
    """The annotated video, and the per-frame CSV and JSON (generated when clicked)."""
    analysis = job.analysis
    stem = job.name.rsplit(".", 1)[0]
    st.markdown("**Downloads**")
    st.caption(
        "CSV and JSON: one entry per face per analysed frame (time, frame, face id, box, seven probabilities, "
        "label), the same fields as `python -m fer video --csv/--json`."
    )
    cols = st.columns(3)
    if job.video is not None:
        sound = {"none": "no audio track in the file", "copied": "with its audio"}.get(analysis.audio, analysis.audio)
        cols[0].download_button(
            "Annotated video (MP4)",
            data=job.video,
            file_name=f"{stem}_annotated.mp4",
            mime="video/mp4",
            key="video_dl_mp4",
            on_click="ignore",
            icon=":material/movie:",
            help=f"H.264 at the original frame rate, {sound}.",
        )
    exports = [
        ("Frames (CSV)", analysis.to_csv, "csv", "text/csv", ":material/table:"),
        ("Frames (JSON)", analysis.to_json, "json", "application/json", ":material/data_object:"),
    ]
    for col, (label, data, ext, mime, icon) in zip(cols[1:], exports):  # generated when clicked
        col.download_button(
            label,
            data=data,
            file_name=f"{stem}_emotions.{ext}",
            mime=mime,
            key=f"video_dl_{ext}",
            on_click="ignore",
            icon=icon,
        )
