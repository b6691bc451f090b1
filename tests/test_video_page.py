"""The Video page through Streamlit's AppTest: real model, real clips, the numbers the engine computes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st
from streamlit.testing.v1 import AppTest
from support.pages import RUN_TIMEOUT, VIDEO, open_page, texts
from support.videoclips import clip_bytes, scene

from fer.options import Options
from fer.video.analyse import analyse_video


def analyse(at: AppTest, name: str, data: bytes) -> AppTest:
    """Upload, press Analyse, wait for the background job, and show its results."""
    at.file_uploader(key="video_file").set_value([(name, data, "video/mp4")])
    at.run()
    at.button(key="video_analyse").click().run()
    assert not at.exception, at.exception
    job = at.session_state["video_job"]
    assert job.wait(timeout=RUN_TIMEOUT), "the analysis did not finish"
    at.run()
    assert not at.exception, at.exception
    return at


def test_video_page_results_downloads_and_scrubber(repo_root: Path, two_faces_clip: bytes, classifier) -> None:
    at = open_page(repo_root, VIDEO)
    cap = st.get_option("server.maxUploadSize")
    assert f"up to **{cap} MB**" in texts(at)
    at = analyse(at, "two_faces.mp4", two_faces_clip)

    # What the engine computes with the page's defaults (sidebar defaults, card TTA, every frame).
    expected = analyse_video(two_faces_clip, "two_faces.mp4", classifier, Options(tta=classifier.default_tta))
    assert "Results: two\\_faces.mp4" in texts(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Faces (ids)"] == str(len(expected.face_ids)) == "3"
    assert metrics["Frames analysed"] == "70"
    table = at.dataframe[0].value  # share of time per emotion
    assert list(table["face"]) == [f"#{f.id}" for f in expected.faces()]
    np.testing.assert_allclose(table["on screen (s)"], [round(f.seconds, 1) for f in expected.faces()])
    np.testing.assert_allclose(table["happy"], [f.share["happy"] for f in expected.faces()], atol=1e-6)
    charts = at.get("plotly_chart")
    assert len(charts) >= 3 + 1  # one timeline per face id, the overall mood, the scrubbed frame's bars
    assert {b.label for b in at.get("download_button")} == {"Annotated video (MP4)", "Frames (CSV)", "Frames (JSON)"}
    assert "gets a new id" in texts(at)

    at.slider(key="video_scrub").set_value(3.1).run()  # one of the three frames without a face ...
    assert not at.exception and "No face in this frame." not in texts(at)
    assert at.get("image")[0].proto.imgs[0].caption == "frame 31 at 3.10 s"
    held = [c for c in at.get("plotly_chart") if "held: not detected in this frame" in c.proto.spec]
    assert len(held) == 1  # ... where the portrait is held at its last box, and says so
    charts_before = len(at.get("plotly_chart"))
    at.slider(key="video_scrub").set_value(0.5).run()
    assert at.get("image")[0].proto.imgs[0].caption == "frame 5 at 0.50 s"
    assert len(at.get("plotly_chart")) == charts_before + 1  # both faces' probability bars
    assert not [c for c in at.get("plotly_chart") if "held: not detected" in c.proto.spec]

    at.switch_page("pages/home.py").run()  # results survive a visit to another page
    at.switch_page(VIDEO).run()
    assert "Results: two\\_faces.mp4" in texts(at) and not at.exception
    # ... and so does the file (issue 24: the uploader came back empty and Analyse disabled)
    assert not at.file_uploader(key="video_file").value
    assert "Video: **two_faces.mp4**" in texts(at)
    assert at.button(key="video_analyse").disabled is False
    at.slider(key="video_smoothing").set_value(0.0).run()  # other settings, the same file, no new upload
    at.button(key="video_analyse").click().run()
    assert at.session_state["video_job"].wait(timeout=RUN_TIMEOUT)
    at.run()
    assert "Results: two\\_faces.mp4" in texts(at) and not at.exception
    assert "Model `" in texts(at) and "Settings changed" not in texts(at)
    at.slider(key="video_smoothing").set_value(0.3).run()  # the results now say they are stale, and why
    assert "Settings changed since this analysis" in texts(at) and "smoothing 0.0 → 0.3" in texts(at)
    at.button(key="video_forget").click().run()  # forgetting it: nothing left to analyse, no results left
    assert "Video: **" not in texts(at) and at.button(key="video_analyse").disabled is True
    assert "Results:" not in texts(at) and not at.get("download_button")


def test_video_page_bad_files_and_cancel(repo_root: Path, video_faces, astronaut_path: Path) -> None:
    at = open_page(repo_root, VIDEO)
    for name, data, message in [
        ("empty.mp4", b"", "empty.mp4 is empty (0 bytes)."),
        ("photo.mp4", astronaut_path.read_bytes(), "photo.mp4 is an image (PNG), not a video"),
    ]:
        at = analyse(at, name, data)
        assert any(message in e.value for e in at.error), [e.value for e in at.error]
        assert at.file_uploader(key="video_file") is not None  # the page keeps working

    long_clip = clip_bytes([scene(video_faces, True, False)] * 1200, fps=10)  # 2 minutes: time to press Cancel
    at.file_uploader(key="video_file").set_value([("long.mp4", long_clip, "video/mp4")])
    at.run()
    at.button(key="video_analyse").click().run()
    job = at.session_state["video_job"]
    assert job.running and any("Analysing long.mp4" in str(p.proto) for p in at.get("progress")), "no progress bar"
    at.button(key="video_cancel").click().run()
    assert job.wait(timeout=RUN_TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    assert any(w.value.startswith("Cancelled at") for w in at.warning), [w.value for w in at.warning]
    assert 0 < job.analysis.frames_decoded < 1200
