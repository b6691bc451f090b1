"""Issue 13's flows on the Upload and Evaluation pages, through Streamlit's AppTest with the real model.

Work survives a round trip to another page; many photos get a compact table first; a photo taken with
the camera gets the same results as an upload; the mood-music panel plays a clip; the Evaluation page
keeps its split, toggle and cell, shows a zero delta without an arrow, says what gallery numbers are,
and warns about bad rows of other splits of an uploaded CSV. Expected values come from the engine.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from streamlit.proto.Metric_pb2 import Metric as MetricProto
from support.pages import EVALUATION, HOME, UPLOAD, detail_names, go, open_page, photo_key, texts, upload

from fer.classifier import DEFAULT_MODEL, MODELS_DIR
from fer.data import csv_row_problems, load_split
from fer.faces import mood
from fer.imageio import decode_image
from fer.labels import CLASS_NAMES
from fer.pipeline import analyze
from fer.results import analyze_bytes as analyse_bytes


# ----------------------------------------------------------------------------- upload: batch view (item 11)
def test_many_photos_get_a_compact_table_first(repo_root: Path, photos, classifier) -> None:
    at = upload(open_page(repo_root, UPLOAD), photos)
    table = at.dataframe[0].value
    assert list(table["file"]) == [name for name, _ in photos]
    assert list(table.columns) == ["photo", "file", "faces", "top emotion", "confidence", "status"]
    expected = {name: analyse_bytes(data, name, classifier) for name, data in photos}
    for _, row in table.iterrows():
        result = expected[row["file"]]
        if result.error:
            assert row["status"] == "unreadable"
        elif not result.faces:
            assert row["status"] == "no face" and row["faces"] == 0
        else:
            reading = mood(result.faces)  # weighted by size and detection confidence, as the page
            assert row["status"] == "ok" and row["faces"] == len(result.faces)
            assert row["top emotion"] == CLASS_NAMES[int(np.argmax(reading))]
            assert row["confidence"] == round(float(reading.max()) * 100, 1)  # percent, one decimal as the details
            assert row["photo"].startswith("data:image/jpeg;base64,")
    # details on demand: one photo at a time (not four stacked reports), any other by choice
    assert detail_names(at) == ["astronaut.png"]
    at.selectbox(key="upload_detail").set_value(photo_key(at, "pair.png")).run()
    assert detail_names(at) == ["pair.png"]
    at.toggle(key="upload_all_details").set_value(True).run()
    assert detail_names(at) == [name for name, _ in photos]


def test_faces_are_numbered_left_to_right(classifier, photos) -> None:
    name, data = photos[1]
    result = analyse_bytes(data, name, classifier)
    xs = [f.box[0] for f in result.faces]
    assert len(xs) == 2 and xs == sorted(xs)
    assert [f["box"][0] for f in json.loads(json.dumps([f.to_dict() for f in result.faces]))] == xs


# ----------------------------------------------------------------------------- upload: kept across pages (item 8)
def test_photos_results_and_choices_survive_a_trip_to_another_page(repo_root: Path, photos) -> None:
    at = upload(open_page(repo_root, UPLOAD), photos)
    pair_key = photo_key(at, "pair.png")
    at.selectbox(key="upload_detail").set_value(pair_key).run()
    whole_key = f"{pair_key}_whole"
    at.toggle(key=whole_key).set_value(True).run()
    before = texts(at)
    assert "**1 face found** (whole image)" in before

    go(at, HOME)
    assert not at.get("file_uploader")
    go(at, UPLOAD)
    assert list(at.dataframe[0].value["file"]) == [name for name, _ in photos]
    assert at.selectbox(key="upload_detail").value == pair_key
    assert at.toggle(key=whole_key).value is True
    assert texts(at) == before
    assert {b.label for b in at.get("download_button")} >= {"Results (CSV)", "Results (JSON)"}

    at.button(key="upload_clear").click().run()
    assert "Drop one or more photos above" in texts(at)
    go(at, HOME)
    go(at, UPLOAD)
    assert "Drop one or more photos above" in texts(at)


def test_photos_added_after_a_page_trip_join_the_earlier_ones(repo_root: Path, photos) -> None:
    at = upload(open_page(repo_root, UPLOAD), photos[:1])
    go(at, HOME)
    go(at, UPLOAD)
    upload(at, photos[2:3])  # a new file after the trip: the earlier one stays
    assert list(at.dataframe[0].value["file"]) == ["astronaut.png", "wall.png"]


# ----------------------------------------------------------------------------- take a photo (item 2)
def test_a_photo_taken_with_the_camera_gets_the_upload_results(repo_root: Path, portrait, classifier) -> None:
    at = open_page(repo_root, UPLOAD)
    at.toggle(key="upload_camera_on").set_value(True).run()
    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(portrait, cv2.COLOR_RGB2BGR))
    at.camera_input(key="upload_camera").set_value(("photo.jpg", jpeg.tobytes(), "image/jpeg")).run()
    assert not at.exception, at.exception
    expected = analyze(decode_image(jpeg.tobytes(), "photo.jpg"), classifier)
    assert len(expected) == 1
    shown = texts(at)
    assert "**1 face found**" in shown
    assert f"**Face 1: {expected[0].label}** ({expected[0].confidence:.1%})" in shown
    assert detail_names(at)[0].startswith("camera ")

    # retake: the new shot replaces the old one
    flipped = cv2.imencode(".jpg", cv2.cvtColor(cv2.flip(portrait, 1), cv2.COLOR_RGB2BGR))[1].tobytes()
    at.camera_input(key="upload_camera").set_value(("photo.jpg", flipped, "image/jpeg")).run()
    assert len(at.session_state["_session_photos"]) == 1


# ----------------------------------------------------------------------------- mood music (item 17)
def test_mood_music_plays_a_synthesised_clip_for_the_mood(repo_root: Path, photos, classifier) -> None:
    at = upload(open_page(repo_root, UPLOAD), photos[:1])
    assert not at.get("audio")  # optional: off until asked for
    at.toggle(key="upload_music").set_value(True).run()
    faces = analyse_bytes(photos[0][1], photos[0][0], classifier).faces
    mood = CLASS_NAMES[int(np.argmax(np.mean([f.probs for f in faces], axis=0)))]
    assert f"Overall mood of this photo: **{mood}**" in texts(at)
    upload(at, photos[1:3])  # several photos: the music's mood says it is the whole batch's
    assert "Overall mood of all 3 photos:" in texts(at)
    audio = at.get("audio")
    assert len(audio) == 1
    assert audio[0].proto.url  # served from memory by Streamlit's media manager
    assert f"music/{mood}/" in texts(at)


def test_mood_music_prefers_the_users_own_clips(
    repo_root: Path, photos, classifier, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    faces = analyse_bytes(photos[0][1], photos[0][0], classifier).faces
    mood = CLASS_NAMES[int(np.argmax(np.mean([f.probs for f in faces], axis=0)))]
    folder = tmp_path / mood
    folder.mkdir()
    (folder / "my song.ogg").write_bytes(b"OggS" + bytes(64))
    monkeypatch.setenv("FER_MUSIC_DIR", str(tmp_path))
    at = upload(open_page(repo_root, UPLOAD), photos[:1])
    at.toggle(key="upload_music").set_value(True).run()
    picker = at.selectbox(key=f"upload_clip_{mood}")
    assert picker.options == ["my song.ogg"]
    assert len(at.get("audio")) == 1


# ----------------------------------------------------------------------------- evaluation (items 13-16)
@pytest.fixture
def fer_env(fer2013_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FER2013_DIR", str(fer2013_dir))
    return fer2013_dir


def test_evaluation_keeps_split_toggle_and_cell_across_pages(repo_root: Path, fer_env: Path) -> None:
    at = open_page(repo_root, EVALUATION)
    at.selectbox(key="eval_split").set_value("PublicTest").run()
    at.toggle(key="live_norm").set_value(True).run()
    at.selectbox(key="cell_true").set_value("fear").run()
    at.selectbox(key="cell_pred").set_value("surprise").run()
    go(at, HOME)
    go(at, EVALUATION)
    assert at.selectbox(key="eval_split").value == "PublicTest"
    assert at.toggle(key="live_norm").value is True
    assert (at.selectbox(key="cell_true").value, at.selectbox(key="cell_pred").value) == ("fear", "surprise")
    assert {m.label: m.value for m in at.metric}["Faces"] == "3,589"


def test_zero_deltas_have_no_arrow_and_ece_colours_are_inverse(repo_root: Path, fer_env: Path) -> None:
    at = open_page(repo_root, EVALUATION)
    at.selectbox(key="eval_split").set_value("PublicTest").run()
    card = json.loads((MODELS_DIR / f"{DEFAULT_MODEL}.json").read_text())
    stored = card["forms"]["equalised"]["PublicTest"]  # the loaded form (image folders), served TTA
    assert "Loaded form: **image folders" in "\n".join(str(c.value) for c in at.caption)
    metrics = {m.label: m for m in at.metric}
    for label, field in (("Top-1 accuracy", "top1"), ("ECE", "ece")):
        proto = metrics[label].proto
        shown = float(metrics[label].value.rstrip("%")) / 100
        pp = round((shown - stored[field]) * 100, 2)
        if abs(pp) < 0.005:
            assert proto.delta == "0.00 pp vs card"
            assert proto.direction == MetricProto.MetricDirection.NONE and proto.color == MetricProto.MetricColor.GRAY
        else:
            assert proto.direction != MetricProto.MetricDirection.NONE
            good = (pp < 0) if field == "ece" else (pp > 0)
            assert proto.color == (MetricProto.MetricColor.GREEN if good else MetricProto.MetricColor.RED)


def test_gallery_captions_say_what_the_number_is(repo_root: Path, fer_env: Path) -> None:
    at = open_page(repo_root, EVALUATION)
    at.selectbox(key="cell_true").set_value("fear").run()
    at.selectbox(key="cell_pred").set_value("sad").run()
    captions = [c for image in at.get("image") for c in image.captions]
    assert captions and all(c.endswith("% sure") for c in captions)
    assert any(c.startswith("sad: ") for c in captions)
    assert any(" → " in c for c in captions)  # the mistakes gallery: true → said
    assert "how sure the model was" in texts(at)


def test_bad_rows_in_other_splits_are_reported_with_line_numbers(repo_root: Path, fer2013_dir: Path) -> None:
    faces = load_split(fer2013_dir, "PublicTest").subset(30)
    lines = ["emotion,pixels,Usage"]
    for image, label in zip(faces.images, faces.labels):
        lines.append(f"{label},{' '.join(str(int(v)) for v in image.ravel())},PublicTest")
    pixels = lines[1].split(",")[1]
    lines.append(f"3,{pixels},Training")  # a good Training row ...
    lines.append(f"9,{pixels},Training")  # ... and a bad one: emotion 9 does not exist
    lines.append("3,1 2 3,PrivateTest")  # too few pixels
    text = "\n".join(lines) + "\n"
    bad = {"Training": len(lines) - 1, "PrivateTest": len(lines)}  # 1-based line numbers of the broken rows
    problems = csv_row_problems("faces.csv", text=text)
    assert problems["PublicTest"] == []
    for split, line in bad.items():
        assert len(problems[split]) == 1 and f"row {line}:" in problems[split][0]

    at = open_page(repo_root, EVALUATION)
    at.selectbox(key="eval_split").set_value("PublicTest").run()
    at.file_uploader(key="eval_csv").set_value([("faces.csv", text.encode(), "text/csv")]).run()
    assert not at.exception, at.exception
    assert {m.label: m.value for m in at.metric}["Faces"] == "30"  # the chosen split still works
    warning = next(w.value for w in at.warning if "bad row" in w.value)
    assert "2 bad row(s) in other splits" in warning
    for line in bad.values():
        assert f"row {line}:" in warning
    at.selectbox(key="eval_split").set_value("PrivateTest").run()
    assert any(f"row {bad['PrivateTest']}" in e.value for e in at.error)


def test_compressed_csv_uploads_read_as_they_are(repo_root: Path, fer2013_dir: Path) -> None:
    """fer2013.csv as users download it: a .csv.gz or Kaggle's .tar.gz (fer2013/fer2013.csv inside)
    uploads and evaluates exactly as the plain CSV does; the uploader offers those types."""
    import gzip
    import io
    import tarfile

    faces = load_split(fer2013_dir, "PublicTest").subset(40)
    lines = ["emotion,pixels,Usage"] + [
        f"{label},{' '.join(str(int(v)) for v in image.ravel())},PublicTest"
        for image, label in zip(faces.images, faces.labels)
    ]
    plain = ("\n".join(lines) + "\n").encode()
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        info = tarfile.TarInfo("fer2013/fer2013.csv")
        info.size = len(plain)
        tar.addfile(info, io.BytesIO(plain))
    figures = {}
    for name, data in (
        ("fer2013.csv", plain),
        ("fer2013.csv.gz", gzip.compress(plain)),
        ("fer2013.tar.gz", archive.getvalue()),
    ):
        at = open_page(repo_root, EVALUATION)
        at.selectbox(key="eval_split").set_value("PublicTest").run()
        at.file_uploader(key="eval_csv").set_value([(name, data, "application/octet-stream")]).run()
        assert not at.exception, at.exception
        assert not at.error, [e.value for e in at.error]
        figures[name] = {m.label: m.value for m in at.metric}
        assert figures[name]["Faces"] == "40"
    assert figures["fer2013.csv"] == figures["fer2013.csv.gz"] == figures["fer2013.tar.gz"]


def test_evaluation_exports_its_figures_and_charts_save_as_png(repo_root: Path, fer_env: Path, classifier) -> None:
    """Issue 30 item 9: metrics, per-class table, confusion matrix and per-face predictions download as CSV,
    with the page's own figures; every chart's toolbar offers its PNG."""
    import csv as csv_module
    import io

    from fer.evaluation.evaluate import evaluate
    from fer.evaluation.export import confusion_csv, metrics_csv, per_class_csv, predictions_csv

    at = open_page(repo_root, EVALUATION)
    at.selectbox(key="eval_split").set_value("PublicTest").run()
    labels = {b.label for b in at.get("download_button")}
    assert {"Metrics (CSV)", "Per class (CSV)", "Confusion matrix (CSV)", "Per-face predictions (CSV)"} <= labels
    charts = [json.loads(c.proto.config) for c in at.get("plotly_chart")]
    assert charts and all(c.get("modeBarButtons") == [["toImage"]] for c in charts)

    ev = evaluate(classifier, load_split(fer_env, "PublicTest"), classifier.default_tta)
    shown = float(next(m for m in at.metric if m.label == "Top-1 accuracy").value.rstrip("%")) / 100
    metrics = list(csv_module.DictReader(io.StringIO(metrics_csv(ev, classifier.name))))
    assert len(metrics) == 1 and round(float(metrics[0]["top1"]), 4) == round(shown, 4)
    per_class = list(csv_module.DictReader(io.StringIO(per_class_csv(ev))))
    assert [r["emotion"] for r in per_class] == list(CLASS_NAMES)
    assert sum(int(r["support"]) for r in per_class) == len(ev.data)
    confusion = list(csv_module.reader(io.StringIO(confusion_csv(ev))))
    assert sum(int(v) for row in confusion[1:] for v in row[1:]) == len(ev.data)
    predictions = list(csv_module.DictReader(io.StringIO(predictions_csv(ev))))
    assert len(predictions) == len(ev.data)
    assert np.mean([r["correct"] == "1" for r in predictions]) == pytest.approx(ev.report.top1)
