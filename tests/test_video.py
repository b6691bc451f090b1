"""fer.video.analyse and .reader on synthetic clips of real faces: ids, timelines, CSV/JSON, output video, bad files.

Expected values come from the scene script (which face is visible when) and from running the
engine's own per-frame pipeline on the decoded frames, never from hard-coded model outputs.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from support.videoclips import (
    TWO_FACES_FPS,
    W,
    clip_bytes,
    scene,
    visible,
)

from fer.detection.detector import detect_faces
from fer.faces import mood as faces_mood
from fer.labels import CLASS_NAMES
from fer.options import Options
from fer.pipeline import classify_boxes
from fer.tracking import TRACK_MAX_MISSED
from fer.video.analyse import analyse_video
from fer.video.reader import ANALYSIS_MAX_SIDE, VideoError, VideoReader


@pytest.fixture(scope="module")
def two_faces(two_faces_clip: bytes, classifier):
    """The two-face clip analysed every frame without smoothing, and its annotated video."""
    out = io.BytesIO()
    analysis = analyse_video(two_faces_clip, "two_faces.mp4", classifier, Options(smoothing=0.0), out=out)
    return analysis, out.getvalue()


def ids_by_side(analysis) -> dict[str, list[int]]:
    """Face ids whose boxes are on the left (the portrait) and on the right (the FER face)."""
    sides: dict[str, list[int]] = {"left": [], "right": []}
    for face_id in analysis.face_ids:
        x = analysis.row_box[analysis.row_id == face_id][:, 0]
        sides["left" if np.median(x) < W / 2 else "right"].append(face_id)
    return sides


# ----------------------------------------------------------------------------- ids and timelines
def test_ids_follow_the_faces_and_a_returning_face_gets_a_new_id(two_faces):
    analysis, _ = two_faces
    assert analysis.frames_decoded == len(analysis.sample_t) == 70
    sides = ids_by_side(analysis)
    # The portrait keeps its id through the 3 frames without faces (held: fewer than TRACK_MAX_MISSED);
    # the FER face, gone 25 frames (more), comes back under a new id.
    assert 3 <= TRACK_MAX_MISSED < 25
    assert len(sides["left"]) == 1, sides
    assert len(sides["right"]) == 2 and sides["right"][0] < sides["right"][1], sides
    portrait, first, second = sides["left"][0], *sides["right"]
    last_seen: dict[int, int] = {}
    for s, t in enumerate(analysis.sample_t):
        rows = analysis.row_sample == s
        detected = set(analysis.row_id[rows & ~analysis.row_followed].tolist())
        held = set(analysis.row_id[rows & analysis.row_followed].tolist())
        show_portrait, show_fer = visible(t)
        assert (portrait in detected) == show_portrait, (t, detected)
        assert portrait in detected | held, (t, detected, held)  # in every frame's rows, held when not seen
        if not show_fer:
            assert not detected & {first, second}, (t, detected)
        elif t < 2.0:
            assert detected >= {first}, (t, detected)
        elif t >= 4.5 + 1.1:  # new faces are found by the next full scan (at most 1 s later)
            assert second in detected, (t, detected)
        for face_id in held:  # held only for a few frames after it was last detected, never before
            assert 0 < s - last_seen[face_id] <= TRACK_MAX_MISSED, (t, face_id)
        last_seen.update(dict.fromkeys(detected, s))


def test_a_face_in_every_frame_is_in_every_frames_rows_under_one_id(video_faces, classifier):
    """The detector misses the portrait in two blurred frames: it is held there (followed), same id."""
    frames = []
    for i in range(20):
        frame = scene(video_faces, True, False, dx=i)
        if i in (8, 9):
            face = frame[40:440, 20 + i : 420 + i]
            face[:] = cv2.GaussianBlur(face, (101, 101), 0)
        frames.append(frame)
    assert detect_faces(frames[8]) == [] and len(detect_faces(frames[7])) == 1
    analysis = analyse_video(clip_bytes(frames), "blur.mp4", classifier, Options(smoothing=0.0))
    assert np.bincount(analysis.row_sample, minlength=20).tolist() == [1] * 20  # one face row in every frame
    assert len(analysis.face_ids) == 1
    assert analysis.row_sample[analysis.row_followed].tolist() == [8, 9]
    held = analysis.row_box[analysis.row_followed]
    assert (held == analysis.row_box[7]).all()  # at its last detected box
    np.testing.assert_allclose(analysis.row_probs[8], analysis.row_probs[7])  # and its last reading
    assert analysis.faces()[0].frames == 18  # summaries count the frames it was seen in


def test_a_face_gone_longer_than_it_is_held_leaves_empty_frames(video_faces, classifier):
    frames = [scene(video_faces, True, False)] * 3 + [scene(video_faces, False, False)] * (TRACK_MAX_MISSED + 4)
    analysis = analyse_video(clip_bytes(frames), "leaves.mp4", classifier)
    rows = list(csv.DictReader(io.StringIO(analysis.to_csv())))
    assert [r["followed"] for r in rows] == ["0"] * 3 + ["1"] * TRACK_MAX_MISSED + [""] * 4
    assert all(r["face_id"] == "" for r in rows[-4:]) and len(rows) == len(frames)


def test_summaries_times_on_screen(two_faces):
    analysis, _ = two_faces
    summaries = {f.id: f for f in analysis.faces()}
    sides = ids_by_side(analysis)
    portrait, first, second = summaries[sides["left"][0]], *(summaries[i] for i in sides["right"])
    assert portrait.seconds == pytest.approx(6.7, abs=1e-6)  # 7 s minus the three empty frames
    assert first.seconds == pytest.approx(2.0, abs=1e-6) and first.first_s == 0.0
    assert 4.5 <= second.first_s <= 5.6 and second.last_s == pytest.approx(6.9)
    assert analysis.faces()[0].id == portrait.id  # longest on screen first
    for face in summaries.values():
        assert sum(face.share.values()) == pytest.approx(1.0)
        assert float(face.mean_probs.sum()) == pytest.approx(1.0, abs=1e-4)
        assert face.label in CLASS_NAMES and face.share[face.label] == max(face.share.values())


def test_probabilities_are_the_per_frame_pipeline_on_the_decoded_frames(two_faces, two_faces_clip, classifier):
    """Without smoothing, every detected face's probabilities are what classify_boxes gives on that frame
    (a held face keeps its last reading: test_a_face_in_every_frame_is_in_every_frames_rows_under_one_id)."""
    analysis, _ = two_faces
    with av.open(io.BytesIO(two_faces_clip)) as container:
        grays = [f.to_ndarray(format="gray") for f in container.decode(video=0)]
    for r in np.flatnonzero(~analysis.row_followed)[::7]:  # every 7th detected face row
        frame = int(analysis.sample_frame[analysis.row_sample[r]])
        box = tuple(int(v) for v in analysis.row_box[r])
        expected = classify_boxes(grays[frame], [box], classifier, tta=classifier.default_tta)[0].probs
        np.testing.assert_allclose(analysis.row_probs[r], expected, atol=0.02)


def test_timelines_have_gaps_where_faces_are_absent(two_faces, video_faces, classifier):
    analysis, _ = two_faces
    sides = ids_by_side(analysis)
    t, probs = analysis.face_timeline(sides["right"][0])
    assert len(t) == len(analysis.sample_t) and probs.shape == (len(t), 7)
    absent = np.isnan(probs).all(axis=1)
    gone = 2.0 + TRACK_MAX_MISSED / TWO_FACES_FPS  # held for TRACK_MAX_MISSED frames after it left at 2 s
    assert not absent[t < gone - 1e-9].any() and absent[t >= gone - 1e-9].all()  # a gap, no line to the next id
    t, mood = analysis.mood_timeline()
    assert not np.isnan(mood).any()  # the portrait is held through the 3 frames without a face
    np.testing.assert_allclose(mood.sum(axis=1), 1.0, atol=1e-4)
    blank = np.zeros((480, 640, 3), np.uint8)
    for sample in range(0, len(t), 3):  # the photos' mood rule, frame by frame
        np.testing.assert_allclose(mood[sample], faces_mood(analysis.faces_at(sample, blank)), atol=1e-5)
    empty = analyse_video(clip_bytes([scene(video_faces, False, False)] * 3), "empty.mp4", classifier)
    assert np.isnan(empty.mood_timeline()[1]).all()  # no face: no mood
    t_small, p_small = analysis.face_timeline(sides["left"][0], max_points=10)
    assert len(t_small) <= 10 and np.isnan(p_small).any() == False  # noqa: E712 - averaged over the gap


def test_smoothing_steadies_the_probabilities(two_faces_clip, classifier, two_faces):
    raw, _ = two_faces
    smooth = analyse_video(two_faces_clip, "two_faces.mp4", classifier, Options(smoothing=0.9))
    portrait = ids_by_side(raw)["left"][0]

    def jitter(analysis, face_id: int) -> float:
        probs = analysis.row_probs[analysis.row_id == face_id]
        return float(np.abs(np.diff(probs, axis=0)).sum(axis=1).mean())

    assert jitter(smooth, ids_by_side(smooth)["left"][0]) < jitter(raw, portrait)


def test_every_n_frames_per_second(two_faces_clip, classifier):
    analysis = analyse_video(two_faces_clip, "two_faces.mp4", classifier, Options(fps=2))
    assert analysis.frames_decoded == 70 and len(analysis.sample_t) == 14
    np.testing.assert_allclose(np.diff(analysis.sample_t), 0.5, atol=1e-6)
    assert analysis.sample_durations() == pytest.approx([0.5] * 14)


# ----------------------------------------------------------------------------- exports
def test_csv_has_a_row_per_face_per_frame_and_marks_empty_frames(two_faces):
    analysis, _ = two_faces
    rows = list(csv.DictReader(io.StringIO(analysis.to_csv())))
    header = ["t_seconds", "frame", "face_id", "x", "y", "w", "h", "label", *CLASS_NAMES, "followed"]
    assert list(rows[0].keys()) == header
    faces = [r for r in rows if r["face_id"]]
    assert len(faces) == len(analysis.row_id) == len(rows)  # the portrait is held through the faceless frames
    held = [float(r["t_seconds"]) for r in faces if r["followed"] == "1" and float(r["t_seconds"]) < 3.5]
    assert held[-3:] == pytest.approx([3.0, 3.1, 3.2])
    assert {int(r["face_id"]) for r in faces} == set(analysis.face_ids)
    for r in faces:
        probs = [float(r[c]) for c in CLASS_NAMES]
        assert sum(probs) == pytest.approx(1.0, abs=2e-3)
        assert r["label"] == CLASS_NAMES[int(np.argmax(probs))]
        assert int(r["frame"]) == round(float(r["t_seconds"]) * TWO_FACES_FPS)


def test_json_matches_the_csv_and_the_summaries(two_faces):
    analysis, _ = two_faces
    doc = json.loads(analysis.to_json())
    assert doc["file"] == "two_faces.mp4" and doc["frames_analysed"] == 70
    assert [f["id"] for f in doc["faces"]] == [f.id for f in analysis.faces()]
    assert sum(len(f["faces"]) for f in doc["frames"]) == len(analysis.row_id)
    assert "No face" not in " ".join(doc["notes"])
    first = doc["frames"][0]
    assert first["t"] == 0.0 and first["frame"] == 0 and len(first["faces"]) == 2
    # one face export format everywhere: predict --json's fields, plus the track id and followed
    face = first["faces"][0]
    assert set(face) == {
        "id",
        "box",
        "label",
        "confidence",
        "probs",
        "source",
        "detection_score",
        "uncertain",
        "followed",
    }
    assert face["confidence"] == pytest.approx(max(face["probs"].values()), abs=1e-6)


def test_annotated_video_round_trip(two_faces, two_faces_clip):
    analysis, video = two_faces
    with av.open(io.BytesIO(video)) as out, av.open(io.BytesIO(two_faces_clip)) as src:
        stream = out.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert float(stream.average_rate) == pytest.approx(TWO_FACES_FPS)
        annotated = [f.to_ndarray(format="rgb24") for f in out.decode(stream)]
        original = [f.to_ndarray(format="rgb24") for f in src.decode(video=0)]
    assert len(annotated) == len(original) == 70
    differs = [np.abs(a.astype(int) - o.astype(int)).max() > 60 for a, o in zip(annotated, original)]
    has_face = [len(analysis.row_id[analysis.row_sample == s]) > 0 for s in range(70)]
    assert differs == has_face  # boxes drawn exactly on the frames with faces


# ----------------------------------------------------------------------------- file quirks
def test_rotation_metadata_is_honoured(video_faces, classifier):
    upright = [scene(video_faces, True, False) for _ in range(5)]
    stored = [cv2.rotate(f, cv2.ROTATE_90_CLOCKWISE) for f in upright]  # as a phone held sideways stores it
    rotated = analyse_video(clip_bytes(stored, rotation=90), "phone.mp4", classifier)
    assert (rotated.info.width, rotated.info.height, rotated.info.rotation) == (640, 480, 90)  # upright again
    assert len(rotated.face_ids) == 1 and len(rotated.row_id) == 5
    assert any("rotation" in note for note in rotated.notes)
    unrotated = analyse_video(clip_bytes(stored), "sideways.mp4", classifier)
    assert len(unrotated.row_id) == 0  # the same pixels without the metadata: the face lies on its side
    with VideoReader(clip_bytes(stored, rotation=90), "phone.mp4") as reader:
        frame = reader.frame_at(0.2)
    assert frame.shape == (480, 640, 3) and len(detect_faces(frame)) == 1


def test_variable_frame_rate_keeps_each_frames_time(video_faces, classifier):
    times = np.cumsum([0.0] + [0.05, 0.15] * 10)[:20]
    frames = [scene(video_faces, True, False, dx=i) for i in range(20)]
    out = io.BytesIO()
    analysis = analyse_video(clip_bytes(frames, times=times), "vfr.mp4", classifier, out=out)
    np.testing.assert_allclose(analysis.sample_t, times, atol=1e-3)
    assert analysis.variable_rate and any("Variable frame rate" in n for n in analysis.notes)
    with av.open(io.BytesIO(out.getvalue())) as container:
        written = [f.time for f in container.decode(video=0)]
    np.testing.assert_allclose(written, times, atol=2e-3)


def test_4k_is_analysed_on_a_downscaled_copy(video_faces, classifier):
    big = cv2.resize(scene(video_faces, True, True), (3840, 2880), interpolation=cv2.INTER_LINEAR)[360:2520]
    analysis = analyse_video(clip_bytes([big] * 3), "uhd.mp4", classifier)
    info = analysis.info
    assert (info.source_width, info.source_height) == (3840, 2160) and max(info.width, info.height) == ANALYSIS_MAX_SIDE
    assert len(analysis.face_ids) == 2 and any("3840×2160" in n for n in analysis.notes)


@pytest.mark.parametrize(
    ("container", "codec", "audio_codec", "expected"),
    [
        ("mp4", "libx264", "aac", "copied"),
        ("webm", "libvpx-vp9", "libopus", "copied"),
        ("avi", "mpeg4", "pcm_s16le", "re-encoded to AAC"),
    ],
)
def test_audio_track_is_kept(video_faces, classifier, container, codec, audio_codec, expected):
    frames = [scene(video_faces, True, False)] * 10
    data = clip_bytes(frames, container=container, codec=codec, audio_codec=audio_codec, tone_hz=440)
    out = io.BytesIO()
    analysis = analyse_video(data, f"talk.{container}", classifier, out=out)
    assert analysis.audio == expected
    with av.open(io.BytesIO(out.getvalue())) as result:
        assert [s.type for s in result.streams] == ["video", "audio"]
        assert result.streams.audio[0].codec_context.name == "aac" or expected == "copied"
        samples = sum(f.samples for f in result.decode(audio=0))
    assert samples / 48000 == pytest.approx(1.0, abs=0.1)  # a second of sound for a second of video


# ----------------------------------------------------------------------------- bad input
def test_bad_files_get_a_clear_message_naming_them(video_faces, classifier, astronaut_path: Path, tmp_path: Path):
    good = clip_bytes([scene(video_faces, True, False)] * 5, container="mp4")
    audio_only = io.BytesIO()
    with av.open(audio_only, "w", format="mp4") as out:
        stream = out.add_stream("aac", rate=48000, layout="mono")
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="flt", layout="mono")
        frame.sample_rate, frame.pts = 48000, 0
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    no_frames = {}
    for container in ("mp4", "matroska"):  # a video track is declared, no frame is ever written
        buf = io.BytesIO()
        with av.open(buf, "w", format=container) as out:
            stream = out.add_stream("libx264", rate=30)
            stream.width, stream.height = 64, 48
            out.start_encoding()
        no_frames[container] = buf.getvalue()
    cases = {
        "empty.mp4": (b"", "empty (0 bytes)"),
        "photo.mp4": (astronaut_path.read_bytes(), "is an image (PNG), not a video"),
        "noise.mp4": (bytes(range(256)) * 64, "cannot be read as a video"),
        "half.mp4": (good[: len(good) // 2], "truncated or damaged"),
        "sound.mp4": (audio_only.getvalue(), "audio-only"),
        "nothing.mp4": (no_frames["mp4"], "no video frames"),
        "nothing.mkv": (no_frames["matroska"], "ends before its first frame"),
    }
    for name, (data, reason) in cases.items():
        with pytest.raises(VideoError) as err:
            analyse_video(data, name, classifier)
        assert name in str(err.value) and reason in str(err.value), str(err.value)
    with pytest.raises(VideoError, match="missing.mp4 cannot be read"):
        analyse_video(tmp_path / "missing.mp4", "missing.mp4", classifier)


def test_a_truncated_stream_gives_the_part_that_could_be_read(video_faces, classifier):
    frames = [scene(video_faces, True, False, dx=i) for i in range(40)]
    data = clip_bytes(frames, container="matroska", codec="mpeg4")  # streamable: readable up to the cut
    analysis = analyse_video(data[: len(data) * 2 // 3], "cut.mkv", classifier)
    assert 5 < analysis.frames_decoded < 40
    assert any("cut.mkv" in n and ("truncated" in n or "damaged" in n) for n in analysis.notes), analysis.notes


def test_cancel_keeps_the_results_so_far(two_faces_clip, classifier):
    seen: list[int] = []
    analysis = analyse_video(
        two_faces_clip,
        "two_faces.mp4",
        classifier,
        progress=lambda t, total, frames: seen.append(frames),
        should_stop=lambda: len(seen) >= 12,
    )
    assert analysis.cancelled and analysis.frames_decoded == 12 and len(analysis.sample_t) == 12
    assert any("Cancelled at 1.1 s" in n for n in analysis.notes)


def test_uploaded_bytes_never_touch_the_disk(two_faces_clip, classifier, tmp_path: Path, monkeypatch):
    """FFmpeg reads and writes through in-memory file objects only; no temporary file appears."""
    opened: list[object] = []
    real_open = av.open

    def recording_open(file, *args, **kwargs):
        opened.append(file)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(av, "open", recording_open)
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private_tmp))
    for var in ("TMPDIR", "TEMP", "TMP"):
        monkeypatch.setenv(var, str(private_tmp))
    analysis = analyse_video(two_faces_clip, "two_faces.mp4", classifier, Options(fps=5), out=io.BytesIO())
    with VideoReader(two_faces_clip, "two_faces.mp4") as reader:
        reader.frame_at(float(analysis.sample_t[3]))
    assert len(opened) == 3 and all(isinstance(f, io.BytesIO) for f in opened), opened
    assert list(private_tmp.iterdir()) == []


def test_length_is_estimated_from_the_bytes_read(two_faces_clip):
    """For files that do not state their length (progress bars still get a total)."""
    with VideoReader(two_faces_clip, "two_faces.mp4") as reader:
        for frame in reader.frames():
            if frame.index == 35:
                estimate = reader.estimated_duration(frame.t)
                break
    assert 3.5 < estimate < 14.0  # the clip lasts 7 s: a rough guess (the demuxer reads ahead), never 0 or absurd
