"""Names and paths a visitor gives are hostile: the app reads typed paths only inside its data roots, never
shows server files or folders, and shows every name literally (no Markdown, emoji or maths from it)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from fer.data_roots import ENV, OutsideDataRoots, data_roots, visitor_path
from ui.plain_text import plain

RUN_TIMEOUT = 300
HOSTILE_PATHS = [
    "/etc/passwd",
    "/etc",
    "/tmp",
    "/",
    "~",
    "../../../../etc/passwd",
    "fer2013/../../../../../etc/passwd",
    "/proc/self/environ",
    "x" * 5000,
    "/etc/passwd\x00.csv",
    "/\udcff\udcfe/etc",  # non-UTF-8 bytes as Python decodes them
]


@pytest.fixture
def roots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """One data root holding a FER2013-shaped folder, plus a symlink inside it that leads out."""
    root = tmp_path / "data"
    (root / "fer2013" / "test").mkdir(parents=True)
    (root / "leak").symlink_to("/etc")
    monkeypatch.setenv(ENV, str(root))
    return root


@pytest.mark.parametrize("text", HOSTILE_PATHS + ["leak", "leak/passwd"], ids=repr)
def test_paths_outside_the_roots_are_refused_without_saying_what_is_there(roots: Path, text: str) -> None:
    with pytest.raises(OutsideDataRoots) as err:
        visitor_path(text)
    message = str(err.value)
    assert "passwd" not in message and "root:" not in message and "/etc" not in message and "/tmp" not in message
    assert ENV in message


def test_paths_inside_the_roots_are_accepted(roots: Path) -> None:
    assert visitor_path(str(roots / "fer2013")) == (roots / "fer2013").resolve()
    assert visitor_path("fer2013") == (roots / "fer2013").resolve()  # relative to the first root
    assert visitor_path(str(roots / "fer2013" / ".." / "fer2013" / "test")) == (roots / "fer2013" / "test").resolve()
    assert visitor_path("   ") is None


def test_default_roots_are_the_configured_data(monkeypatch: pytest.MonkeyPatch, fer2013_dir: Path) -> None:
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.setenv("FER2013_DIR", str(fer2013_dir))
    roots = data_roots()
    assert roots and all(r != Path("/") for r in roots)
    configured = fer2013_dir.resolve()
    assert any(configured == r or r in configured.parents for r in roots)
    assert not any(r in Path("/etc").resolve().parents or r == Path("/etc") for r in roots)


@pytest.mark.parametrize(
    "name",
    [
        "**bold** photo.jpg",
        ":x: face.png",
        "$x^2$.jpg",
        "<script>alert(1)</script>.jpg",
        "a`b`c.csv",
        "[link](http://x)",
    ],
)
def test_plain_shows_names_literally(name: str) -> None:
    """Every Markdown, maths or HTML character is backslash-escaped, and no emoji shortcode survives."""
    shown = plain(name)
    assert re.search(r"(?<!\\)[*`$<>\[\]_]", shown) is None, shown
    assert re.search(r":[a-z0-9_+-]+:", shown) is None, shown
    assert shown.replace("\\", "").replace("\u200b", "") == name


def test_plain_cuts_long_names_and_shows_undecodable_bytes() -> None:
    assert len(plain("y" * 10_000)) == 200
    assert "\\udcff" in plain("a\udcff.jpg")  # a non-UTF-8 file name, visible rather than a crash
    assert "\n" not in plain("two\nlines")


def _evaluation_page(repo_root: Path) -> AppTest:
    at = AppTest.from_file(str(repo_root / "app.py"), default_timeout=RUN_TIMEOUT).run()
    at.switch_page("pages/evaluation.py").run()
    assert not at.exception, at.exception
    return at


def _shown(at: AppTest) -> str:
    parts = [e.value for e in at.error] + [i.value for i in at.info] + [m.value for m in at.markdown]
    parts += [c.value for c in at.caption] + [w.value for w in at.warning]
    return "\n".join(str(p) for p in parts)


@pytest.mark.parametrize("text", ["/etc/passwd", "/tmp", "/etc", "../../../../etc/passwd", "~"])
def test_evaluation_location_never_shows_server_files(repo_root: Path, fer2013_dir: Path, text: str) -> None:
    """Typing a server path in *FER2013 location* shows one refusal: no file line, no folder names."""
    os.environ.setdefault("FER2013_DIR", str(fer2013_dir))
    at = _evaluation_page(repo_root)
    at.text_input(key="eval_path").set_value(text).run()
    assert not at.exception, at.exception
    shown = _shown(at)
    assert len(at.error) == 1 and "outside the data folders" in at.error[0].value
    assert "root:" not in shown and "root❌" not in shown and "/bin/bash" not in shown
    tmp_names = [p.name for p in Path("/tmp").iterdir() if len(p.name) > 6][:50]
    assert not any(name in shown for name in tmp_names)


def test_labelled_photos_folder_outside_the_roots_is_refused(repo_root: Path, fer2013_dir: Path) -> None:
    os.environ.setdefault("FER2013_DIR", str(fer2013_dir))
    at = _evaluation_page(repo_root)
    at.radio(key="eval_source").set_value("Your labelled photos").run()
    at.text_input(key="photos_path").set_value("/etc").run()
    assert not at.exception, at.exception
    assert len(at.error) == 1 and "outside the data folders" in at.error[0].value
    assert "passwd" not in _shown(at)
