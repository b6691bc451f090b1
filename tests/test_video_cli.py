"""``python -m fer video``: the same fields as the Video page, files written, clear errors."""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from pathlib import Path

import av
import pytest
from support.videoclips import TWO_FACES_FPS

from fer.cli.main import main
from fer.labels import CLASS_NAMES
from fer.options import Options
from fer.video.analyse import analyse_video


@pytest.fixture(scope="module")
def clip(two_faces_clip: bytes, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("video") / "two_faces.mp4"
    path.write_bytes(two_faces_clip)
    return path


def test_video_writes_csv_json_and_the_annotated_video(clip: Path, tmp_path: Path, classifier, capsys) -> None:
    out, csv_path, json_path = tmp_path / "annotated.mp4", tmp_path / "frames.csv", tmp_path / "frames.json"
    args = ["video", str(clip), "--out", str(out), "--csv", str(csv_path), "--json", str(json_path), "--fps", "5"]
    assert main(args) == 0
    text = capsys.readouterr().out
    expected = analyse_video(clip, clip.name, classifier, Options(fps=5))  # the engine, as the page runs it

    assert csv_path.read_text() == expected.to_csv()
    doc = json.loads(json_path.read_text())
    assert doc["frames"] == json.loads(expected.to_json())["frames"]
    assert doc["faces"] == [f.to_dict() for f in expected.faces()] and doc["options"]["fps"] == 5
    assert doc["frames_analysed"] == 35 and doc["frames_decoded"] == 70
    rows = list(csv.DictReader(io.StringIO(csv_path.read_text())))
    assert {int(r["face_id"]) for r in rows if r["face_id"]} == set(expected.face_ids)
    assert all(r["label"] in CLASS_NAMES for r in rows if r["face_id"])

    for face in expected.faces():
        assert f"#{face.id}: {face.seconds:.1f} s on screen" in text
    assert f"{len(expected.face_ids)} face id(s)" in text and "gets a new id" in text
    with av.open(str(out)) as video:  # every frame written, at the original frame rate
        stream = video.streams.video[0]
        assert float(stream.average_rate) == pytest.approx(TWO_FACES_FPS)
        assert sum(1 for _ in video.decode(stream)) == 70


def test_video_json_to_stdout(clip: Path, capsys) -> None:
    assert main(["video", str(clip), "--json", "-", "--fps", "1"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["file"] == "two_faces.mp4" and len(doc["frames"]) == 7


def test_video_bad_input_and_outputs(tmp_path: Path, astronaut_path: Path, clip: Path, capsys) -> None:
    empty = tmp_path / "empty.mov"
    empty.write_bytes(b"")
    assert main(["video", str(empty)]) == 2
    assert "error: empty.mov is empty (0 bytes)." in capsys.readouterr().err
    assert main(["video", str(astronaut_path)]) == 2
    assert "astronaut.png is an image (PNG), not a video" in capsys.readouterr().err
    assert main(["video", str(tmp_path / "nope.mp4")]) == 2
    assert "nope.mp4 cannot be read" in capsys.readouterr().err
    assert main(["video", str(clip), "--out", str(tmp_path / "missing" / "a.mp4")]) == 2
    assert "the folder" in capsys.readouterr().err and not (tmp_path / "missing").exists()
    assert main(["video"]) == 2
    assert "give a video file" in capsys.readouterr().err


def test_video_progress_bar_on_a_terminal(clip: Path, repo_root: Path) -> None:
    """Run as users do, in a pseudo-terminal, so tqdm draws its bar on stderr."""
    import fcntl
    import pty
    import struct
    import termios

    command = [sys.executable, "-m", "fer", "video", str(clip), "--fps", "2"]
    output = bytearray()

    def read(fd: int) -> bytes:
        data = os.read(fd, 4096)
        output.extend(data)
        return data

    env = {**os.environ, "PYTHONPATH": str(repo_root), "TF_CPP_MIN_LOG_LEVEL": "3"}
    old_cwd = os.getcwd()
    os.chdir(repo_root)
    try:
        pid, fd = pty.fork()
        if pid == 0:  # the child: a 100-column terminal (tqdm draws nothing 0 columns wide), then the command
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
            os.execvpe(command[0], command, env)
        while True:
            try:
                if not read(fd):
                    break
            except OSError:
                break
        _, status = os.waitpid(pid, 0)
    finally:
        os.chdir(old_cwd)
    text = output.decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert "two_faces.mp4: 100%" in text and "7.0/7.0" in text, text[-2000:]
