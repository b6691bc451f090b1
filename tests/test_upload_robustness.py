"""Every bad or odd upload, through the engine and through the Upload page, all files at once.

One table (:data:`CASES`) drives both levels: each file is built in memory from the real test photo,
and is either refused with a message that names the file, says what is wrong and what to do, or is
analysed like any photo. The page test uploads all of them together with the untouched astronaut.png:
one bad file must never stop the others, and nothing may raise. Broken models on the page close the file.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block
from support.images import (
    PDF_FILE,
    TEXT_FILE,
    animated,
    crowd,
    encode,
    gif_header_bomb,
    gradient,
    jpeg_header_bomb,
    png_bytes,
    sixteen_bit_gray,
    with_exif_orientation,
)
from support.pages import UPLOAD, open_page

import ui.common
from fer.classifier import DEFAULT_MODEL
from fer.detection.detector import detect_faces
from fer.imageio import ImageDecodeError, decode_image
from fer.pipeline import analyze
from fer.results import analyze_bytes


@dataclass(frozen=True)
class Case:
    """One upload: how to build it from the portrait, and what the user must see."""

    name: str
    build: Callable[[Image.Image], bytes]
    #: Phrases the error must contain (what is wrong, then what to do); empty for files that decode.
    error: tuple[str, ...] = ()
    #: Faces a decodable file must show (at least / at most).
    faces: tuple[int, int] = (0, 0)
    whole: bool = False  # read whole by the tight-crop fallback (tiny images)
    size: str | None = None  # the "W×H px" caption the page must show, where it proves something


def _truncated(fmt: str) -> Callable[[Image.Image], bytes]:
    def build(portrait: Image.Image) -> bytes:
        data = encode(portrait, fmt)
        return data[: len(data) // 2]

    return build


def _upright(portrait: Image.Image) -> Image.Image:
    """400 wide, 512 tall: unlike the square portrait, its size tells the orientation apart."""
    return portrait.crop((50, 0, 450, 512))


def _rgba(portrait: Image.Image) -> bytes:
    alpha = np.full(portrait.size[::-1], 255, np.uint8)
    alpha[:, :64] = 0  # a transparent strip, composited onto white
    image = portrait.copy()
    image.putalpha(Image.fromarray(alpha))
    return encode(image, "PNG")


def _tiny(side: int) -> Callable[[Image.Image], bytes]:
    return lambda portrait: encode(portrait.resize((side, side), Image.Resampling.BOX), "PNG")


_NOT_AN_IMAGE = ("is not an image", "Upload a photo in one of these formats")
_TRUNCATED = ("is truncated", "get a complete copy and try again")
_TOO_BIG = ("limit", "Downscale it")
ONE_FACE = (1, 1)

CASES: list[Case] = [
    Case("empty.jpg", lambda p: b"", error=("is empty (0 bytes)", "Upload the file again")),
    Case("cut.jpg", _truncated("JPEG"), error=_TRUNCATED),
    Case("cut.png", _truncated("PNG"), error=_TRUNCATED),
    Case("notes.jpg", lambda p: TEXT_FILE, error=(*_NOT_AN_IMAGE, "text file")),
    Case("report.jpg", lambda p: PDF_FILE, error=(*_NOT_AN_IMAGE, "PDF")),
    Case("bomb.png", lambda p: png_bytes(20000, 20000, bytes(2500)), error=_TOO_BIG),  # 400 MP in ~50 KB
    Case("bomb.jpg", lambda p: jpeg_header_bomb(20000, 20000), error=_TOO_BIG),
    Case("bomb.gif", lambda p: gif_header_bomb(20000, 20000), error=_TOO_BIG),
    Case("deep16.png", lambda p: encode(sixteen_bit_gray(p), "PNG"), faces=ONE_FACE),
    Case("transparent.png", _rgba, faces=ONE_FACE),
    Case("palette.png", lambda p: encode(p.quantize(256), "PNG"), faces=ONE_FACE),
    Case("cmyk.jpg", lambda p: encode(p.convert("CMYK"), "JPEG", quality=95), faces=ONE_FACE),
    Case("gray.jpg", lambda p: encode(p.convert("L"), "JPEG"), faces=ONE_FACE),
    Case("phone.jpg", lambda p: with_exif_orientation(_upright(p), 6), faces=ONE_FACE, size="400×512 px"),
    Case("mirrored.jpg", lambda p: with_exif_orientation(_upright(p), 5), faces=ONE_FACE, size="400×512 px"),
    # The face is in the first frame only: analysing any other frame would find none.
    Case("anim.gif", lambda p: animated([p, gradient(512, 512), Image.new("RGB", (512, 512))], "GIF"), faces=ONE_FACE),
    Case("anim.webp", lambda p: animated([p, gradient(512, 512)], "WEBP"), faces=ONE_FACE),
    Case("dot.png", _tiny(1), size="1×1 px"),  # one uniform pixel: not taken for a face crop
    Case("tiny.png", _tiny(8), faces=ONE_FACE, whole=True, size="8×8 px"),
    Case("crowd.jpg", lambda p: encode(crowd(p), "JPEG", quality=92), faces=(25, 30), size="2160×1800 px"),
]
ERRORS = [c for c in CASES if c.error]
DECODABLE = [c for c in CASES if not c.error]


@pytest.fixture(scope="module")
def portrait(astronaut_path: Path) -> Image.Image:
    return Image.open(astronaut_path).convert("RGB")


@pytest.fixture(scope="module")
def files(portrait: Image.Image) -> dict[str, bytes]:
    """Every case's bytes, built once for the module."""
    return {case.name: case.build(portrait) for case in CASES}


def check_error(message: str, case: Case) -> None:
    assert f"'{case.name}'" in message, message
    for phrase in case.error:
        assert phrase in message, f"{case.name}: {phrase!r} not in {message!r}"


# ----------------------------------------------------------------------------- engine


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_engine_refuses_or_analyses_each_file(case: Case, files: dict[str, bytes], classifier) -> None:
    """The page's engine call (decode in memory, detect, classify, annotate): an error or faces."""
    result = analyze_bytes(files[case.name], case.name, classifier)
    if case.error:
        assert result.error is not None and result.faces == []
        check_error(result.error, case)
        return
    assert result.error is None
    assert case.faces[0] <= len(result.faces) <= case.faces[1]
    assert result.read_whole is case.whole and result.whole_face is False  # the fallback, not the user's switch
    assert result.display is not None and result.display.dtype == np.uint8 and result.display.shape[2] == 3


@pytest.mark.parametrize("orientation", [2, 4, 5, 7])
def test_mirrored_exif_orientations_are_undone(portrait: Image.Image, orientation: int) -> None:
    """test_imageio covers the rotations (3, 6, 8); these are the mirrored ones, e.g. selfie cameras."""
    upright = _upright(portrait)
    out = decode_image(with_exif_orientation(upright, orientation), "selfie.jpg")
    assert out.shape == (512, 400, 3)
    assert np.abs(out.astype(int) - np.asarray(upright).astype(int)).mean() < 4
    assert len(detect_faces(out)) == 1


@pytest.mark.parametrize("build", [jpeg_header_bomb, gif_header_bomb], ids=["jpeg", "gif"])
def test_header_bombs_in_other_formats_are_refused_before_decoding(build) -> None:
    """test_imageio's bombs are PNGs; a JPEG or GIF header can claim 65535 x 65535 just as cheaply."""
    data = build(65535, 65535)
    assert len(data) < 2000
    with pytest.raises(ImageDecodeError, match="Downscale it"):
        decode_image(data, "claims-4-gigapixels")


# ----------------------------------------------------------------------------- page


def sections(at: AppTest) -> dict[str, Block]:
    """The bordered box the Upload page draws per file, by file name (its subheader)."""
    boxes = {}
    for node in at.main.children.values():
        if isinstance(node, Block) and node.subheader and len(node.subheader) >= 1:
            boxes[node.subheader[0].value] = node
    return boxes


def box_text(box: Block) -> str:
    return "\n".join(str(el.value) for kind in ("markdown", "warning", "error", "info") for el in box.get(kind))


@pytest.fixture(scope="module")
def all_at_once(repo_root: Path, files: dict[str, bytes], astronaut_path: Path) -> AppTest:
    """The Upload page after every bad file and the real photo were dropped in one go."""
    ui.common._load_classifier.clear()  # an earlier test may have cached a broken model's failure path
    at = open_page(repo_root, UPLOAD)
    uploads = [(name, data, "application/octet-stream") for name, data in files.items()]
    uploads.append(("astronaut.png", astronaut_path.read_bytes(), "image/png"))
    at.file_uploader(key="upload_files").set_value(uploads).run()
    at.toggle(key="upload_all_details").set_value(True).run()  # many files: details are on demand
    assert not at.exception, at.exception
    return at


def test_page_survives_all_files_at_once(all_at_once: AppTest, files: dict[str, bytes]) -> None:
    at = all_at_once
    assert list(sections(at)) == [*files, "astronaut.png"]  # every file shown, in upload order
    assert len(at.error) == len(ERRORS)  # nothing else failed
    assert "Download all results" in [s.value for s in at.subheader]  # the page ran to its end
    assert {b.label for b in at.get("download_button")} >= {"Results (CSV)", "Results (JSON)"}


@pytest.mark.parametrize("case", ERRORS, ids=[c.name for c in ERRORS])
def test_page_explains_each_bad_file(all_at_once: AppTest, case: Case) -> None:
    box = sections(all_at_once)[case.name]
    errors = [e.value for e in box.error]
    assert len(errors) == 1 and errors[0].startswith(f"**Could not read {case.name}.**"), errors
    check_error(errors[0], case)
    assert not box.get("image") and not box.get("toggle")  # no half-drawn result


@pytest.mark.parametrize("case", DECODABLE, ids=[c.name for c in DECODABLE])
def test_page_analyses_each_decodable_file(all_at_once: AppTest, case: Case) -> None:
    box = sections(all_at_once)[case.name]
    assert not box.error
    text = box_text(box)
    counts = [int(line.split("**")[1].split()[0]) for line in text.splitlines() if " found**" in line]
    assert len(counts) == 1 and case.faces[0] <= counts[0] <= case.faces[1], text
    assert ("(whole image)" in text) is case.whole
    whole_toggle = next(t for t in box.toggle if t.key.endswith("_whole"))
    assert whole_toggle.value is False  # the manual switch stays off; the fallback read it whole
    assert ("whole image was read as one face" in "\n".join(i.value for i in box.get("info"))) is case.whole
    if case.size is not None:
        assert case.size in box.get("image")[0].captions[0]


def test_page_still_shows_the_real_photo(all_at_once: AppTest, astronaut_path: Path, classifier) -> None:
    expected = analyze(decode_image(astronaut_path.read_bytes()), classifier)
    assert len(expected) == 1
    text = box_text(sections(all_at_once)["astronaut.png"])
    assert "**1 face found**" in text
    assert f"**Face 1: {expected[0].label}** ({expected[0].confidence:.1%})" in text


def test_crowd_stays_usable(all_at_once: AppTest) -> None:
    """~30 faces: a table of all, a gallery of crops, and details for the one picked (not 30 charts)."""
    at = all_at_once
    box = sections(at)["crowd.jpg"]
    table = box.dataframe[0].value
    assert 25 <= len(table) <= 30
    assert len(box.get("plotly_chart")) <= 2  # the overall mood and one face, not one chart per face
    picker = next(s for s in box.selectbox if s.key.endswith("_pick"))
    assert len(picker.options) == len(table)
    picker.set_value(len(table)).run()
    assert not at.exception, at.exception
    assert f"**Face {len(table)}: " in box_text(sections(at)["crowd.jpg"])
    assert len(at.error) == len(ERRORS)


# ----------------------------------------------------------------------------- broken models on the page


def _card_with(model_stem: Path, **changes) -> str:
    card = json.loads(model_stem.with_suffix(".json").read_text())
    if "input_shape" in changes:
        card["input"]["shape"] = changes.pop("input_shape")
    card.update(changes)
    return json.dumps(card)


@pytest.fixture
def models_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty models/ folder the app loads from (filled by each test), with the model cache cleared."""
    models = tmp_path / "models"
    models.mkdir()
    monkeypatch.setattr(ui.common, "MODELS_DIR", models)
    ui.common._load_classifier.clear()
    yield models
    ui.common._load_classifier.clear()


@pytest.mark.parametrize(
    ("defect", "phrase"),
    [
        ("weights missing", "model file missing"),
        ("tflite missing", "python -m fer convert"),
        ("card lists other classes", "differ from FER2013's"),
        ("card says 64x64 input", "the weights take input (48, 48, 1), the card says (64, 64, 1)"),
    ],
)
def test_broken_model_is_explained_on_the_upload_page(
    repo_root: Path, model_stem: Path, models_dir: Path, defect: str, phrase: str
) -> None:
    """tests/test_classifier.py checks these errors in the engine; here the user sees them, no traceback."""
    card = models_dir / f"{DEFAULT_MODEL}.json"
    tflite = model_stem.with_suffix(".tflite")
    if defect == "weights missing":
        shutil.copy(model_stem.with_suffix(".json"), card)
    elif defect == "tflite missing":  # the app says how to make it, and never converts (issue 16)
        shutil.copy(model_stem.with_suffix(".json"), card)
        shutil.copy(model_stem.with_suffix(".keras"), models_dir)
    else:
        shutil.copy(tflite, models_dir)
        other = {"class_names": ["angry", "happy"]} if "classes" in defect else {"input_shape": [64, 64, 1]}
        card.write_text(_card_with(model_stem, **other))
    at = open_page(repo_root, UPLOAD)
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and f"The model '{DEFAULT_MODEL}' cannot be used." in errors[0], errors
    assert phrase in errors[0], errors
    assert any("Pick another model" in i.value for i in at.info)
    assert not at.get("file_uploader")  # the page stops instead of offering an upload that cannot work
