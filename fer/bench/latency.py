"""``python -m fer bench``: speed figures, each beside a baseline measured in the same run.

- classifier ms/face at batch 1 (median, p95) — baseline: a ``tf.function`` call of the Keras model;
- faces/s at batch 256 — same baseline;
- full-pipeline FPS on a 640x480 frame with one face (the astronaut portrait): ``analyze`` (the photo
  pipeline: a full detection every frame) and the webcam's ``LiveProcessor`` (full scan every 0.5 s,
  the known face followed in between, smoothing and overlay drawing included) — baselines: the previous
  photo detector (default cascade, 40 px minimum face scanned at 24 px, no score threshold; the one
  before the 56 px one-pass detector) and the cascade scanning the full-size frame (faces down to 24 px);
- PrivateTest evaluation seconds (cached decode, no cached predictions);
- detection recall by face and frame size, false boxes and ms per frame, today's detector beside the
  one it replaced (:mod:`fer.bench.detection`): ``detection`` and ``detection_before`` (skip with
  ``--no-recall``). The 640x480 FPS figures are quoted with the 640x480 recall from the same run;
- following on video (:func:`fer.bench.following.run_following`): per face size, the share of the
  frames a face is in whose rows hold it (``following_frames_held_by_face_px``) and its id switches
  per minute (``following_id_switches_per_min_by_face_px``), with ids, appearances and frames/s.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from fer.classifier import Classifier, ModelError
from fer.data import load_split
from fer.detection.settings import DetectorSettings
from fer.evaluation.metrics import report
from fer.labels import FACE_SIZE
from fer.locations import faces_dir
from fer.options import Options

#: The photo detector before the 56 px one-pass one, for the speed comparison printed beside today's.
PREVIOUS_DETECTOR = DetectorSettings(
    cascade_file="haarcascade_frontalface_default.xml",
    scale_factor=1.1,
    min_neighbors=5,
    min_size=40,
    min_face_fraction=0.0,
    max_side=1024,
    min_score=float("-inf"),
    margin=0.025,
    scan_windows=1.0,  # the default cascade's 24 px window
    max_scan_pixels=1 << 40,
    verify=False,
)


#: The previous one-pass photo detector (minimum face 56 px scanned at 24 px with alt2's 20 px window, no
#: second look), for the recall and speed comparison with today's defaults.
ISSUE12_DETECTOR = DetectorSettings(
    scale_factor=1.1,
    min_neighbors=4,
    min_size=56,
    max_side=1024,
    min_score=54.8,
    scan_windows=1.2,
    max_scan_pixels=1 << 40,
    verify=False,
)


def astronaut_path() -> Path:
    return faces_dir() / "astronaut.png"


def webcam_frame(width: int = 640, height: int = 480) -> np.ndarray:
    """A 640x480 RGB frame with the portrait centred on grey, like a webcam view of one person."""
    bgr = cv2.imread(str(astronaut_path()), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError(f"benchmark portrait not found: {astronaut_path()} (set FER_FACES_DIR)")
    portrait = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    side = min(width, height)
    portrait = cv2.resize(portrait, (side, side), interpolation=cv2.INTER_AREA)
    frame = np.full((height, width, 3), 128, np.uint8)
    x0, y0 = (width - side) // 2, (height - side) // 2
    frame[y0 : y0 + side, x0 : x0 + side] = portrait
    return frame


def _timings(fn: Callable[[], object], repeat: int, warmup: int = 3) -> np.ndarray:
    for _ in range(warmup):
        fn()
    out = np.empty(repeat)
    for i in range(repeat):
        t0 = time.perf_counter()
        fn()
        out[i] = time.perf_counter() - t0
    return out


def _paired_timings(
    fn: Callable[[], object], baseline: Callable[[], object], repeat: int
) -> tuple[np.ndarray, np.ndarray]:
    """Both functions timed alternately, so load changes on a shared machine hit both alike."""
    for _ in range(3):
        fn()
        baseline()
    a, b = np.empty(repeat), np.empty(repeat)
    for i in range(repeat):
        t0 = time.perf_counter()
        fn()
        t1 = time.perf_counter()
        baseline()
        a[i], b[i] = t1 - t0, time.perf_counter() - t1
    return a, b


def _keras_baseline(classifier: Classifier) -> Callable[[np.ndarray], object]:
    import tensorflow as tf

    from fer.train.convert import load_keras

    if classifier.keras_path is None:
        raise ModelError(f"{classifier.name}: no .keras file beside the model, so no Keras baseline")
    model = load_keras(classifier.keras_path)
    fn = tf.function(lambda x: model(x, training=False), input_signature=[tf.TensorSpec([None, 48, 48, 1], tf.float32)])
    return lambda x: fn(x).numpy()


def run_bench(args: argparse.Namespace) -> int:
    from fer.live import LiveProcessor
    from fer.pipeline import analyze

    classifier = Classifier.load(args.model)
    rng = np.random.default_rng(0)
    one = rng.integers(0, 256, (1, FACE_SIZE, FACE_SIZE), dtype=np.uint8)
    batch = rng.integers(0, 256, (256, FACE_SIZE, FACE_SIZE), dtype=np.uint8)
    keras_fn = _keras_baseline(classifier)
    x_one = one[..., None].astype(np.float32)
    x_batch = batch[..., None].astype(np.float32)

    t1 = _timings(lambda: classifier.logits(one), 500)
    k1 = _timings(lambda: keras_fn(x_one), 200)
    tb = _timings(lambda: classifier.logits(batch), 20)
    kb = _timings(lambda: keras_fn(x_batch), 10)

    frame = webcam_frame()
    fast = DetectorSettings()
    # scale 1: the full-size frame is scanned by the one-pass cascade settings (faces down to 24 px)
    full = replace(ISSUE12_DETECTOR, min_size=24, min_face_fraction=0.0)
    n_faces = len(analyze(frame, classifier, fast, tta=False))
    tp, t_prev = _paired_timings(
        lambda: analyze(frame, classifier, fast, tta=False),
        lambda: analyze(frame, classifier, PREVIOUS_DETECTOR, tta=False),
        200,
    )
    tp12, t12 = _paired_timings(
        lambda: analyze(frame, classifier, fast, tta=False),
        lambda: analyze(frame, classifier, ISSUE12_DETECTOR, tta=False),
        200,
    )
    tf_full = _timings(lambda: analyze(frame, classifier, full, tta=False), 50)
    tp_tta = _timings(lambda: analyze(frame, classifier, fast, tta=True), 100)
    live = LiveProcessor(classifier, Options(detector=fast, tta=False), mirror=False)
    tl = _timings(lambda: live.process(frame), 300)

    figures: dict = {
        "classifier_ms_per_face_b1_median": 1000 * float(np.median(t1)),
        "classifier_ms_per_face_b1_p95": 1000 * float(np.percentile(t1, 95)),
        "baseline_keras_tf_function_ms_b1_median": 1000 * float(np.median(k1)),
        "classifier_faces_per_s_b256": 256 / float(np.median(tb)),
        "baseline_keras_faces_per_s_b256": 256 / float(np.median(kb)),
        "pipeline_faces_found": n_faces,
        "pipeline_fps_640x480": 1 / float(np.median(tp)),
        "pipeline_fps_640x480_tta": 1 / float(np.median(tp_tta)),
        "live_pipeline_fps_640x480": 1 / float(np.median(tl)),
        "baseline_pipeline_fps_full_size_detection": 1 / float(np.median(tf_full)),
        "baseline_pipeline_fps_previous_detector": 1 / float(np.median(t_prev)),
    }
    figures["pipeline_speedup_vs_previous_detector"] = float(np.median(t_prev) / np.median(tp))
    figures["baseline_pipeline_fps_issue12_detector"] = 1 / float(np.median(t12))
    figures["pipeline_speed_ratio_vs_issue12_detector"] = float(np.median(t12) / np.median(tp12))
    figures["speedup_b1_vs_keras"] = (
        figures["baseline_keras_tf_function_ms_b1_median"] / figures["classifier_ms_per_face_b1_median"]
    )
    figures["speedup_b256_vs_keras"] = (
        figures["classifier_faces_per_s_b256"] / figures["baseline_keras_faces_per_s_b256"]
    )

    if args.data is not None and Path(args.data).exists():
        load_split(args.data, "PrivateTest")  # make sure the decode cache exists
        t0 = time.perf_counter()
        data = load_split(args.data, "PrivateTest")
        probs = classifier.predict_proba(data.images, tta=classifier.default_tta)
        rep = report(data.split, data.labels, probs)
        figures["privatetest_eval_seconds"] = time.perf_counter() - t0
        figures["privatetest_top1"] = rep.top1
    from fer.bench.following import run_following

    figures.update(run_following(classifier, astronaut_path().parent))
    if getattr(args, "recall", True):
        figures.update(recall_figures(astronaut_path().parent, args.data))
    figures["cpu_count"] = os.cpu_count()

    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for key, value in figures.items():
            if isinstance(value, dict) or key == "detection_table":
                continue
            print(f"{key:<45} {value:.3f}" if isinstance(value, float) else f"{key:<45} {value}")
        if "detection_table" in figures:
            print(figures["detection_table"])
    return 0


def recall_figures(faces_dir: Path, fer2013: Path | None) -> dict:
    """``detection`` (today's defaults, with the second look) beside ``detection_before`` (the previous
    one-pass detector), from one run, and the table. ``detection_second_look`` (the second look while it
    was a candidate) is kept for readers of older JSON: it is today's defaults."""
    from fer.bench import detection as detection_bench

    detectors = {"defaults (issue 20)": DetectorSettings(), "before (issue 12)": ISSUE12_DETECTOR}
    result = detection_bench.run(detectors, faces_dir, fer2013 if fer2013 and Path(fer2013).exists() else None)
    summaries = {name: detection_bench.summary(result, name) for name in detectors}
    return {
        "detection": summaries["defaults (issue 20)"],
        "detection_before": summaries["before (issue 12)"],
        "detection_second_look": summaries["defaults (issue 20)"],
        "detection_table": detection_bench.table(summaries),
    }
