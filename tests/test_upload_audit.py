"""Issue 24: what a new user hit on Upload, Video, Live and Home, through AppTest with the real model.

Each test fails on the behaviour the issue reported: a switch drawn off while the page plays music,
an uploader listing files the page had forgotten, a row click doing nothing, TIFF refused, a large
photo's caption and PNG in other pixels than its exports, boxes of padded faces drawn off the image,
a wrong explanation, "None" in tables, unequal rounding, and the smaller items.
"""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest
from support.pages import EVALUATION, HOME, UPLOAD, detail_names, go, open_page, photo_key, texts, upload

from fer.faces import FaceResult
from fer.faces import mood as overall_mood
from fer.imageio import _available_formats, decode_image
from fer.labels import CLASS_NAMES, EMOTION_COLORS_RGB
from fer.options import Options
from fer.overlay import draw_faces
from fer.registry import DEFAULT_MODEL
from fer.results import ImageResult, analyze_bytes, annotated_png
from fer.saliency import saliency_legend
from ui.results import mood_hint, source_note


def shown_value(toggle) -> bool:  # noqa: ANN001 - an AppTest Toggle
    """What the browser draws for a switch just (re)drawn: the value Streamlit sends, else its default."""
    return toggle.proto.value if toggle.proto.set_value else toggle.proto.default


def remove_button(at: AppTest, name: str) -> str:
    """The key of a photo's own *Remove* button."""
    prefix = f"p_{photo_key(at, name)[:12]}"
    return next(b.key for b in at.button if b.key == f"{prefix}_remove")


# ----------------------------------------------------------------------------- item 1: mood music switch
def test_mood_music_switch_is_drawn_as_the_page_acts_after_remove(repo_root: Path, photos) -> None:
    at = upload(open_page(repo_root, UPLOAD), photos[:1])
    at.toggle(key="upload_music").set_value(True).run()
    assert len(at.get("audio")) == 1
    at.button(key=remove_button(at, photos[0][0])).click().run()
    assert "Drop one or more photos above" in texts(at)  # no photo: the switch is not drawn
    upload(at, photos[1:2])
    music = at.toggle(key="upload_music")
    assert music.value is True and len(at.get("audio")) == 1  # the page plays ...
    assert shown_value(music) is True  # ... and the switch the browser draws says so (it was drawn off)
    music.set_value(False).run()  # one click turns it off
    assert not at.get("audio")


# ----------------------------------------------------------------------------- item 5: uploader and list agree
def test_the_uploader_never_lists_photos_the_page_has_not(repo_root: Path, photos) -> None:
    at = upload(open_page(repo_root, UPLOAD), photos[:2])
    assert not at.file_uploader[0].value  # the files moved to the photo list
    assert list(at.dataframe[0].value["file"]) == ["astronaut.png", "pair.png"]
    at.selectbox(key="upload_detail").set_value(photo_key(at, "pair.png")).run()
    at.button(key=remove_button(at, "pair.png")).click().run()
    assert not at.file_uploader[0].value and detail_names(at) == ["astronaut.png"]
    at.button(key=remove_button(at, "astronaut.png")).click().run()
    assert "Drop one or more photos above" in texts(at) and not at.file_uploader[0].value
    upload(at, photos[:3])
    assert len(at.dataframe[0].value) == 3 and not at.file_uploader[0].value
    go(at, HOME)
    go(at, UPLOAD)
    assert len(at.dataframe[0].value) == 3 and not at.file_uploader[0].value
    at.button(key="upload_clear").click().run()
    assert "Drop one or more photos above" in texts(at) and not at.file_uploader[0].value


# ----------------------------------------------------------------------------- item 6: row click, toolbar
def test_a_click_on_any_cell_of_a_row_shows_that_photo(repo_root: Path, photos) -> None:
    at = upload(open_page(repo_root, UPLOAD), photos)
    assert detail_names(at) == ["astronaut.png"]
    at.session_state["batch_table"] = {"selection": {"rows": [], "columns": [], "cells": [[2, "file"]]}}
    at.run()
    assert detail_names(at) == ["wall.png"]
    at.selectbox(key="upload_detail").set_value(photo_key(at, "pair.png")).run()  # the selector still decides
    assert detail_names(at) == ["pair.png"]
    # "Remove all" sits below the table, not above it where the table's hover toolbar is drawn
    order = [el.type for el in walk(at.main) if el.type in ("arrow_data_frame", "dataframe", "button")]
    labels = [getattr(el, "label", None) for el in walk(at.main) if el.type == "button"]
    assert "Remove all" in labels
    first_table = next(i for i, kind in enumerate(order) if kind in ("arrow_data_frame", "dataframe"))
    assert order[first_table + 1] == "button"
    assert [el.label for el in walk(at.main) if el.type == "button"][0] == "Remove all"


def walk(node):  # noqa: ANN001, ANN201 - AppTest tree nodes
    """Every element of an AppTest tree in page order."""
    children = getattr(node, "children", None)
    if children is None:
        yield node
        return
    for child in children.values():
        yield from walk(child)


# ----------------------------------------------------------------------------- item 7: TIFF
def test_every_file_is_taken_and_a_tiff_is_analysed(repo_root: Path, astronaut_path: Path, classifier) -> None:
    """The uploader filters nothing (a filtered file was dropped without a word); TIFF is read."""
    at = open_page(repo_root, UPLOAD)
    assert not list(at.file_uploader[0].proto.type)
    assert {"TIFF", "HEIF"} <= set(_available_formats())
    buf = io.BytesIO()
    Image.open(astronaut_path).convert("RGB").save(buf, format="TIFF")
    upload(at, [("astronaut.tif", buf.getvalue())])
    expected = analyze_bytes(buf.getvalue(), "astronaut.tif", classifier, Options())
    assert len(expected.faces) == 1 and "**1 face found**" in texts(at)


def test_heic_is_read_and_every_refused_file_is_named_with_its_reason(repo_root: Path, astronaut_path: Path) -> None:
    """Issue 30 item 1: an iPhone HEIC dropped with JPEGs was silently lost; a PDF was a reasonless red chip."""
    rgb = Image.open(astronaut_path).convert("RGB")
    heic, jpeg = io.BytesIO(), io.BytesIO()
    rgb.save(heic, format="HEIF", quality=80)
    rgb.save(jpeg, format="JPEG")
    files = [("photo.heic", heic.getvalue()), ("a.jpg", jpeg.getvalue()), ("notes.pdf", b"%PDF-1.7 not a photo")]
    at = upload(open_page(repo_root, UPLOAD), files)
    assert "3 photos" in texts(at)
    assert len(decode_image(heic.getvalue(), "photo.heic").shape) == 3
    at.toggle(key="upload_all_details").set_value(True).run()
    shown = texts(at)
    assert "Could not read notes.pdf" in shown and "PDF document" in shown
    assert "photo.heic" in detail_names(at) and shown.count("1 face found") >= 2
    assert f"Model `{DEFAULT_MODEL}`, mirror TTA" in shown  # every result says what made it
    at.selectbox(key="model_name").set_value("fer_cnn").run()
    assert "Model `fer_cnn`, mirror TTA on" in texts(at)  # ... and follows the sidebar


# ----------------------------------------------------------------------------- item 2: large photo
@pytest.fixture(scope="module")
def big_photo(portrait: np.ndarray) -> bytes:
    """A 6000x4000 JPEG with the portrait at 3x in it (decoded for analysis at 4096 px)."""
    canvas = np.full((4000, 6000, 3), 120, np.uint8)
    face = cv2.resize(portrait, (1536, 1536), interpolation=cv2.INTER_CUBIC)
    canvas[1000:2536, 2000:3536] = face
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])
    assert ok
    return buf.tobytes()


def test_a_large_photo_has_one_size_in_caption_png_and_exports(repo_root: Path, big_photo: bytes, classifier) -> None:
    result = analyze_bytes(big_photo, "big.jpg", classifier, Options())
    assert result.shape[1] == 4096 and result.to_dict()["size"] == [6000, 4000]
    assert result.faces, "the portrait is found"
    at = upload(open_page(repo_root, UPLOAD), [("big.jpg", big_photo)])
    assert at.get("image")[0].proto.imgs[0].caption.startswith("6000×4000 px photo")
    png_button = next(b for b in at.get("download_button") if b.label == "Annotated image (PNG)")
    assert png_button.proto.help.startswith("6000×4000 px: the photo's own size")

    drawn = decode_image(annotated_png(big_photo, "big.jpg", result.faces, result.shape), max_side=10_000)
    assert drawn.shape[:2] == (4000, 6000)  # was 4096x2731
    for face, exported in zip(result.faces, result.face_dicts(), strict=True):
        x, y, w, h = exported["box"]  # the exports' box, in the photo's pixels, is where the PNG's box is
        colour = np.array(EMOTION_COLORS_RGB[face.label])
        assert np.abs(drawn[y + h // 2, x + 3].astype(int) - colour).max() <= 2
        assert np.abs(drawn[y + h // 2, x + w - 4].astype(int) - colour).max() <= 2


# ----------------------------------------------------------------------------- items 3 and 4: padded faces
def padded_face(box: tuple[int, int, int, int], probs: list[float] | None = None) -> FaceResult:
    p = np.asarray(probs or [0.05, 0.05, 0.05, 0.6, 0.1, 0.05, 0.1], np.float32)
    return FaceResult(box=box, probs=p, crop=np.zeros((48, 48), np.uint8), source="padded", score=3.0)


def test_a_box_past_the_edges_is_drawn_clipped_and_exported_as_found() -> None:
    image = np.full((288, 214, 3), 90, np.uint8)
    face = padded_face((-56, -49, 338, 338))  # the 214x288 photo
    out = draw_faces(image, [face])
    colour = np.array(EMOTION_COLORS_RGB[face.label])
    for y, x in [(144, 0), (144, 213), (287, 107)]:  # its left, right and bottom edges: on the image's border
        assert np.abs(out.image[y, x].astype(int) - colour).max() <= 40, (y, x, out.image[y, x])  # antialiased
    x0, y0, x1, y1 = out.labels[0].rect
    assert 0 <= x0 < x1 <= 214 and 0 <= y0 < y1 <= 288
    assert ImageResult("p.png", [face], shape=(288, 214)).face_dicts()[0]["box"] == [-56, -49, 338, 338]


def test_the_padded_retry_note_says_what_happened() -> None:
    note = source_note(ImageResult("frame.png", [padded_face((282, 202, 76, 76))], shape=(480, 640)))
    assert note is not None and "cropped tightly" not in note
    assert "No face was detected in the photo as it is" in note and "border added" in note


# ----------------------------------------------------------------------------- items 10 and 11: table values
def test_the_table_shows_no_none_and_rounds_as_the_details(repo_root: Path, photos, classifier) -> None:
    at = upload(open_page(repo_root, UPLOAD), photos)
    table = at.dataframe[0]
    assert table.proto.placeholder == "—"  # what missing values show (the default is "None")
    rows = table.value.set_index("file")
    assert rows.loc["broken.jpg", "status"] == "unreadable" and np.isnan(rows.loc["broken.jpg", "faces"])
    at.selectbox(key="upload_detail").set_value(photo_key(at, "pair.png")).run()
    pair = analyze_bytes(photos[1][1], "pair.png", classifier, Options())
    mood = overall_mood(pair.faces)
    shown = f"{rows.loc['pair.png', 'confidence']:.1f}%"
    assert shown == f"{mood.max():.1%}"
    assert f"Overall mood: **{CLASS_NAMES[int(mood.argmax())]}** ({shown};" in texts(at)


def test_home_links_every_page(repo_root: Path) -> None:
    at = open_page(repo_root, HOME)
    linked = {link.proto.page for link in at.get("page_link")}
    assert linked == {"live", "upload", "video", "evaluation"}  # every page but Home itself


def test_evaluation_title_names_the_labelled_photos(repo_root: Path) -> None:
    at = open_page(repo_root, EVALUATION)
    assert at.title[0].value == "Evaluation on FER2013"
    at.radio(key="eval_source").set_value("Your labelled photos").run()
    assert at.title[0].value == "Evaluation on your labelled photos" and not at.exception


def test_the_saliency_map_has_a_colour_legend(repo_root: Path, photos) -> None:
    at = upload(open_page(repo_root, UPLOAD), photos[:1])
    at.toggle(key=next(t.key for t in at.toggle if t.key.endswith("_saliency"))).set_value(True).run()
    captions = [img.caption for el in at.get("image") for img in el.proto.imgs]
    assert any(c.startswith("blue: hiding it changes nothing") for c in captions), captions
    strip = saliency_legend(100)
    assert strip[0, 0, 2] > 2 * strip[0, 0, 0] and strip[0, -1, 0] > 2 * strip[0, -1, 2]  # blue -> red


def test_a_mixed_group_gets_a_hint_that_the_faces_disagree() -> None:
    angry = padded_face((0, 0, 50, 50), [0.5, 0.05, 0.05, 0.05, 0.25, 0.05, 0.05])
    sad = padded_face((60, 0, 50, 50), [0.25, 0.05, 0.05, 0.05, 0.5, 0.05, 0.05])
    mood = np.array([0.256, 0.05, 0.05, 0.05, 0.243, 0.05, 0.3])
    hint = mood_hint([angry, sad], mood)
    assert hint is not None and "1 angry, 1 sad" in hint
    assert mood_hint([angry, angry], mood) is None
    tied = mood_hint([angry, sad], np.array([0.256, 0.05, 0.05, 0.05, 0.243, 0.05, 0.05]))
    assert tied is not None and "almost tied" in tied


def test_a_png_for_the_pair_is_the_photos_size(photos, classifier) -> None:
    result = analyze_bytes(photos[1][1], "pair.png", classifier, Options())
    drawn = decode_image(annotated_png(photos[1][1], "pair.png", result.faces, result.shape))
    assert drawn.shape[:2] == result.shape == tuple(result.original_shape)  # small photos: as before


def test_labels_of_two_rows_of_faces_do_not_stack() -> None:
    """A top-row face at the photo's edge gets its label below the box; the face under it must not put
    its label right against that one (two labels in one block: which is whose?)."""
    image = np.full((2000, 3000, 3), 90, np.uint8)
    alone = draw_faces(image, [padded_face((100, 0, 400, 400))])
    height = alone.labels[0].rect[3] - alone.labels[0].rect[1]
    faces = [
        padded_face((100, 0, 400, 400)),
        padded_face((150, 400 + 2 * height, 400, 400)),
        padded_face((600, 0, 400, 400)),
    ]
    result = draw_faces(image, faces)
    rects = [label.rect for label in result.labels]
    for i, a in enumerate(rects):
        for b in rects[i + 1 :]:
            apart_x = max(a[0], b[0]) - min(a[2], b[2])
            apart_y = max(a[1], b[1]) - min(a[3], b[3])
            assert max(apart_x, apart_y) >= result.text_px // 2, (a, b)
    for label in result.labels:  # and each still sits against its own box
        x, y, w, h = faces[label.face].box
        assert label.rect[0] < x + w and label.rect[2] > x and label.rect[1] <= y + h and label.rect[3] >= y
