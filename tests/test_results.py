"""fer.results: the one photo-result/export module behind ``predict --json`` and the Upload page."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from fer.cli.main import main
from fer.detection.settings import DetectorSettings
from fer.imageio import MAX_SIDE
from fer.labels import CLASS_NAMES
from fer.results import CSV_COLUMNS, analyze_bytes, results_csv, results_json


@pytest.fixture(scope="module")
def portrait(astronaut_path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(astronaut_path)), cv2.COLOR_BGR2RGB)


def _jpeg(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def test_boxes_are_in_the_original_photos_pixels(classifier, portrait: np.ndarray) -> None:
    """A 6000x4500 photo is analysed downscaled to MAX_SIDE; exports still give its own pixel coordinates."""
    width, height, x0, y0, side = 6000, 4500, 3500, 1200, 1536
    canvas = np.full((height, width, 3), 120, np.uint8)
    canvas[y0 : y0 + side, x0 : x0 + side] = cv2.resize(portrait, (side, side), interpolation=cv2.INTER_CUBIC)
    result = analyze_bytes(_jpeg(canvas), "big.jpg", classifier)
    assert max(result.shape) == MAX_SIDE and result.original_shape == (height, width)
    assert len(result.faces) == 1
    entry = result.to_dict()
    assert entry["size"] == [width, height] and entry["status"] == "ok"
    x, y, w, h = entry["faces"][0]["box"]
    s = side / 512  # the face centre region of the 512 px portrait, scaled and shifted
    assert x0 + 190 * s <= x + w / 2 <= x0 + 260 * s and y0 + 80 * s <= y + h / 2 <= y0 + 150 * s
    ax, ay, aw, _ = result.faces[0].box  # the analysed copy's pixels, for drawing on it
    assert aw < w and ax < x and ay < y
    row = next(csv.DictReader(io.StringIO(results_csv([result]))))
    assert [int(row[k]) for k in ("x", "y", "w", "h")] == [x, y, w, h]


def test_csv_has_one_row_per_photo_without_a_face_with_its_status(classifier, portrait: np.ndarray) -> None:
    blank = _jpeg(np.full((480, 640, 3), 200, np.uint8))  # 4:3, no face, not a face crop
    tiled = _jpeg(np.tile(portrait, (1, 2, 1)))  # two faces
    results = [
        analyze_bytes(tiled, "two.jpg", classifier),
        analyze_bytes(blank, "blank.jpg", classifier),
        analyze_bytes(b"not an image", "broken.jpg", classifier),
    ]
    rows = list(csv.DictReader(io.StringIO(results_csv(results))))
    assert list(rows[0]) == CSV_COLUMNS
    assert [(r["path"], r["status"], r["face"]) for r in rows] == [
        ("two.jpg", "ok", "1"),
        ("two.jpg", "ok", "2"),
        ("blank.jpg", "no face", ""),
        ("broken.jpg", "error", ""),
    ]
    assert rows[0]["source"] == "detector" and float(rows[0]["detection_score"]) >= DetectorSettings().min_score
    assert "broken.jpg" in rows[3]["error"] and rows[2]["error"] == ""
    assert {r["path"] for r in rows} == {r.name for r in results}  # every file has a row
    doc = json.loads(results_json(results))
    assert [e["status"] for e in doc] == ["ok", "no face", "error"]
    assert len(doc[0]["faces"]) == 2 and list(doc[0]["faces"][0]["probs"]) == list(CLASS_NAMES)


def test_predict_json_reports_the_fallback_source(public_test, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    face_file = tmp_path / "face.png"
    # a face crop smaller than the detector's minimum face (40 px): only the fallback can read it
    cv2.imwrite(str(face_file), cv2.resize(public_test.images[3], (36, 36), interpolation=cv2.INTER_AREA))
    assert main(["predict", "--json", str(face_file)]) == 0
    face = json.loads(capsys.readouterr().out)[0]["faces"][0]
    assert face["source"] in ("padded", "whole-image")
    assert main(["predict", "--json", "--no-fallback", str(face_file)]) == 0
    entry = json.loads(capsys.readouterr().out)[0]
    assert entry["faces"] == [] and entry["status"] == "no face"
    assert main(["predict", "--json", "--whole-face", str(face_file)]) == 0
    whole = json.loads(capsys.readouterr().out)[0]["faces"][0]
    assert whole["source"] == "whole-image" and whole["detection_score"] is None and whole["box"] == [0, 0, 36, 36]


def test_margin_option_widens_the_box(astronaut_path: Path, capsys: pytest.CaptureFixture) -> None:
    sides = []
    for margin in ("0.1", "0.2"):
        assert main(["predict", "--json", "--margin", margin, str(astronaut_path)]) == 0
        sides.append(json.loads(capsys.readouterr().out)[0]["faces"][0]["box"][2])
    assert sides[1] > sides[0]


def test_near_tied_faces_are_marked_uncertain_everywhere() -> None:
    """Issue 30 item 9: 23% vs 21% must not read as a confident 'angry'; the marker names the runner-up."""
    from fer.faces import UNCERTAIN_MARGIN, FaceResult
    from fer.overlay import label_text
    from ui.results import faces_table, uncertain_note

    crop = np.zeros((48, 48), np.uint8)
    tied = FaceResult((0, 0, 10, 10), np.array([0.23, 0.05, 0.21, 0.15, 0.14, 0.11, 0.11], np.float32), crop)
    clear = FaceResult((0, 0, 10, 10), np.array([0.6, 0.0, 0.1, 0.1, 0.1, 0.05, 0.05], np.float32), crop)
    assert tied.uncertain and tied.margin == pytest.approx(0.02) and UNCERTAIN_MARGIN > 0.02
    assert not clear.uncertain and uncertain_note(clear) == ""
    assert "uncertain: fear 21%" in uncertain_note(tied)
    assert tied.to_dict()["uncertain"] is True and clear.to_dict()["uncertain"] is False
    assert [row["uncertain"] for row in faces_table([tied, clear])] == [True, False]
    assert label_text(tied, None) == "angry? 23%" and label_text(clear, None) == "angry 60%"  # drawn boxes too
