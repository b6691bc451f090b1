"""``fer batch``: folders of real photos in, one row per face out; resumable, fault-tolerant, same rows
with one or two worker processes and through Ray."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fer.batch import BatchError, done_files, read_rows, run_batch
from fer.batch_report import summarise, write_html
from fer.cli.main import main
from fer.labels import CLASS_NAMES
from fer.options import Options

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def photo_tree(tmp_path_factory: pytest.TempPathFactory, astronaut_path: Path, public_test) -> Path:
    """class_a/: the portrait and two shifted copies; class_b/: FER2013 faces pasted into canvases, a
    blank photo (no face) and a junk file; empty/: nothing."""
    root = tmp_path_factory.mktemp("batch")
    (root / "class_a").mkdir()
    (root / "class_b" / "nested").mkdir(parents=True)
    (root / "empty").mkdir()
    portrait = Image.open(astronaut_path).convert("RGB")
    portrait.save(root / "class_a" / "portrait.png")
    for i, dx in enumerate((30, 60)):
        canvas = Image.new("RGB", (640, 560), (90, 90, 90))
        canvas.paste(portrait.resize((420, 420)), (dx, 40))
        canvas.save(root / "class_a" / f"shifted_{i}.jpg", quality=92)
    for i in range(6):
        face = Image.fromarray(public_test.images[i]).resize((160, 160), Image.Resampling.BICUBIC)
        canvas = Image.new("L", (400, 300), 128)
        canvas.paste(face, (60 + 20 * i, 60))
        canvas.save(root / "class_b" / ("nested" if i % 2 else ".") / f"fer_{i}.png")
    Image.fromarray(np.full((240, 320, 3), 200, np.uint8)).save(root / "class_b" / "blank.png")
    (root / "class_b" / "junk.jpg").write_bytes(b"this is not a jpeg")
    return root


def _rows(path: Path) -> list[dict]:
    return sorted(read_rows(path), key=lambda r: (r["path"], r["face"]))


def test_one_row_per_face_and_per_faceless_or_bad_file(photo_tree: Path, tmp_path: Path, model_stem: Path) -> None:
    out = tmp_path / "one.csv"
    counts = run_batch([photo_tree], out, Options(model=str(model_stem)), workers=1)
    rows = _rows(out)
    files = {r["path"] for r in rows}
    assert counts["files"] == len(files) == 3 + 6 + 2
    by_name = {Path(r["path"]).name: r for r in rows}
    assert by_name["junk.jpg"]["status"] == "error" and by_name["junk.jpg"]["error"]
    assert by_name["blank.png"]["status"] == "no face"
    assert by_name["portrait.png"]["status"] == "ok" and by_name["portrait.png"]["label"] == "happy"
    ok = [r for r in rows if r["status"] == "ok"]
    for r in ok:
        assert abs(sum(float(r[c]) for c in CLASS_NAMES) - 1) < 1e-4
    assert counts["faces"] == len(ok) and counts["errors"] == 1


def test_two_workers_give_the_rows_of_one(photo_tree: Path, tmp_path: Path, model_stem: Path) -> None:
    opts = Options(model=str(model_stem))
    run_batch([photo_tree], tmp_path / "one.csv", opts, workers=1)
    run_batch([photo_tree], tmp_path / "two.csv", opts, workers=2)
    assert _rows(tmp_path / "one.csv") == _rows(tmp_path / "two.csv")


def test_rerun_skips_finished_files_and_parquet_matches(photo_tree: Path, tmp_path: Path, model_stem: Path) -> None:
    opts = Options(model=str(model_stem))
    out = tmp_path / "res.parquet"
    first = run_batch([photo_tree / "class_a"], out, opts, workers=1)
    second = run_batch([photo_tree], out, opts, workers=1)
    assert first["analysed"] == 3 and second["skipped_done"] == 3 and second["analysed"] == 8
    import pyarrow.parquet as pq

    table = pq.read_table(out)
    journal = out.with_name(out.name + ".journal.csv")
    assert table.num_rows == len(read_rows(journal)) and len(done_files(journal)) == 11


def test_clear_errors(tmp_path: Path, photo_tree: Path) -> None:
    opts = Options(model="fer_cnn")
    with pytest.raises(BatchError, match="no image files"):
        run_batch([photo_tree / "empty"], tmp_path / "x.csv", opts)
    with pytest.raises(BatchError, match="no such file"):
        run_batch([tmp_path / "missing"], tmp_path / "x.csv", opts)
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(BatchError, match="cannot write"):
        run_batch([photo_tree / "class_a"], blocker / "out.csv", opts)


def test_report_shares_match_the_rows(photo_tree: Path, tmp_path: Path, model_stem: Path) -> None:
    out = tmp_path / "r.csv"
    run_batch([photo_tree], out, Options(model=str(model_stem)), workers=1)
    rows = read_rows(out)
    for entry in summarise(rows, "folder"):
        faces = [r for r in rows if r["folder"] == entry["folder"] and r["status"] == "ok"]
        assert entry["faces"] == len(faces)
        if faces:
            assert abs(sum(entry["share"].values()) - 1) < 1e-9
            top = max(set(r["label"] for r in faces), key=[r["label"] for r in faces].count)
            assert entry["share"][top] == max(entry["share"].values())
    html_path = tmp_path / "report.html"
    write_html(rows, html_path)
    text = html_path.read_text()
    assert "class_a" in text and "plotly" in text.lower() and "http://" not in text.split("<script", 1)[0]


def test_cli_batch_json_summary(photo_tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli.csv"
    report = tmp_path / "cli.html"
    assert main(["batch", str(photo_tree), "--out", str(out), "--workers", "1", "--report", str(report), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["files"] == 11 and doc["errors"] == 1 and report.is_file()
    folders = (photo_tree / "class_a", photo_tree / "class_b", photo_tree / "class_b" / "nested")
    assert {f["folder"] for f in doc["folders"]} == {str(p.resolve()) for p in folders}


def test_cli_batch_takes_the_detector_flags_like_predict(
    photo_tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``fer batch`` gets the shared flags: its rows are ``predict``'s under the same detector settings."""
    flags = ["--min-size", "48", "--min-neighbors", "5", "--margin", "0.2", "--no-fallback", "--no-tta"]
    out = tmp_path / "flags.csv"
    assert main(["batch", str(photo_tree / "class_a"), "--out", str(out), "--workers", "1", "--json", *flags]) == 0
    capsys.readouterr()
    rows = _rows(out)
    assert any(r["status"] == "ok" for r in rows)
    paths = sorted({r["path"] for r in rows})
    assert main(["predict", "--json", *paths, *flags]) == 0
    predicted = {entry["path"]: entry for entry in json.loads(capsys.readouterr().out)}
    for path in paths:
        faces = predicted[path]["faces"]
        mine = [r for r in rows if r["path"] == path and r["status"] == "ok"]
        assert [[int(r[k]) for k in "xywh"] for r in mine] == [f["box"] for f in faces], path
        assert all(f["box"][2] >= 48 for f in faces)
    defaults = tmp_path / "defaults.csv"
    assert main(["batch", str(photo_tree / "class_a"), "--out", str(defaults), "--workers", "1", "--json"]) == 0
    assert [r["w"] for r in _rows(defaults)] != [r["w"] for r in rows]  # the margin flag changed the boxes


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


@pytest.mark.slow
def test_a_killed_worker_loses_nothing_and_the_rerun_finishes(photo_tree: Path, tmp_path: Path) -> None:
    many = tmp_path / "many"
    many.mkdir()
    src = sorted(p for p in photo_tree.rglob("*.png"))
    for i in range(120):  # enough work that the kill lands mid-batch
        (many / f"{i:03d}{src[i % len(src)].suffix}").write_bytes(src[i % len(src)].read_bytes())
    out = tmp_path / "killed.csv"
    cmd = [sys.executable, "-m", "fer", "batch", str(many), "--out", str(out), "--workers", "2"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and (not out.exists() or len(done_files(out)) < 10):
        time.sleep(0.2)
    workers = _children(proc.pid)
    assert workers, "no worker process to kill"
    os.kill(workers[0], signal.SIGKILL)
    _, err = proc.communicate(timeout=240)
    assert proc.returncode != 0 and "run the same command again" in err
    finished = done_files(out)
    assert 10 <= len(finished) < 120
    with out.open(newline="") as fh:
        assert all(row["path"] in finished for row in csv.DictReader(fh))  # no half-written file
    rerun = subprocess.run(cmd + ["--json"], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    doc = json.loads(rerun.stdout)
    assert doc["skipped_done"] == len(finished) and doc["analysed"] == 120 - len(finished)
    assert len(done_files(out)) == 120


@pytest.mark.slow
def test_ray_gives_the_rows_of_the_process_pool(photo_tree: Path, tmp_path: Path, model_stem: Path) -> None:
    try:
        import ray
    except ImportError:
        if os.environ.get("CI", "").lower() in {"true", "1", "yes"}:
            raise  # CI installs requirements-scale.txt: the Ray path must run there
        pytest.skip("Ray is optional: pip install -r requirements-scale.txt")
    opts = Options(model=str(model_stem))
    run_batch([photo_tree], tmp_path / "pool.csv", opts, workers=2)
    run_batch([photo_tree], tmp_path / "ray.csv", opts, workers=2, use_ray=True)
    ray.shutdown()
    assert _rows(tmp_path / "pool.csv") == _rows(tmp_path / "ray.csv")
