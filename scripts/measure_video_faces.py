"""Issue 20's video figures: are faces present in every frame's rows, and at what speed?

A 640x480 clip (default 60 s at 30 frames/s) with two real faces present in every frame, drifting
slowly: the astronaut portrait with its face ~76 px wide and a real photo's face ~50 px wide (from
``faces/real/``, pasted as :mod:`fer.bench.detection` pastes faces, on one of its face-free
backgrounds). For today's defaults and issue 12's detector, in-process: the share of frames whose rows
hold each face (detected or held), how many ids each face got, and frames/s. Then ``python -m fer video
CLIP --json`` with the defaults in a fresh process, timed from start to exit (start-up included).
Each face is the row box whose centre lies in its true box. Frames/s on a loaded machine are not
figures for the README unless marked so.

Usage: python -m scripts.measure_video_faces [--seconds 60] [--fps 30] [--faces DIR] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from fer.bench import detection as bench
from fer.bench.latency import ISSUE12_DETECTOR
from fer.classifier import Classifier
from fer.detection.settings import DetectorSettings
from fer.locations import faces_dir
from fer.options import Options
from fer.registry import DEFAULT_MODEL, MODELS_DIR
from fer.video.analyse import analyse_video
from fer.video.writer import encode_video

REPO = Path(__file__).resolve().parents[1]
#: (face px, centre x, centre y, drift amplitude px, drift period s) of the two faces.
FACES = ((76, 200, 240, 30, 6.0), (50, 470, 200, 20, 9.0))


def frames(sources: list[bench.FaceSource], seconds: float, fps: float, seed: int):
    """The clip's RGB frames and, per frame, the true box of each face."""
    rng = np.random.default_rng(seed)
    background = bench.background(640, 480, rng, bench.backgrounds())
    for i in range(int(round(seconds * fps))):
        t = i / fps
        canvas = background.copy()
        truths = []
        for k, (side, cx, cy, amp, period) in enumerate(FACES):
            dx = amp * math.sin(2 * math.pi * t / period)
            # the same variant (mirror, tilt, brightness) of the face in every frame
            truths.append(bench.paste_face(canvas, sources[k], side, cx + dx, cy, np.random.default_rng(seed + k)))
        yield canvas, truths


def presence(analysis, truths: list[list[tuple[int, int, int, int]]]) -> list[dict]:
    """Per face: share of frames whose rows hold it, detected only, and the ids it got."""
    out = []
    for k in range(len(FACES)):
        present = detected = 0
        ids: set[int] = set()
        for s, frame_truths in enumerate(truths):
            tx, ty, ts, _ = frame_truths[k]
            rows = np.flatnonzero(analysis.row_sample == s)
            hits = [
                r
                for r in rows
                if tx <= analysis.row_box[r][0] + analysis.row_box[r][2] / 2 <= tx + ts
                and ty <= analysis.row_box[r][1] + analysis.row_box[r][3] / 2 <= ty + ts
            ]
            present += bool(hits)
            detected += any(not analysis.row_followed[r] for r in hits)
            ids.update(int(analysis.row_id[r]) for r in hits)
        n = len(truths)
        out.append(
            {
                "face_px": FACES[k][0],
                "in_rows": round(present / n, 4),
                "detected": round(detected / n, 4),
                "ids": len(ids),
            }
        )
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--fps", type=float, default=30.0)
    p.add_argument("--faces", type=Path, default=faces_dir())
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args()
    found = bench.face_sources(args.faces, None, n_real=20, n_fer=0, seed=args.seed)
    portrait = next(s for s in found if s.kind == "portrait")
    real = next(s for s in found if s.kind == "real")
    sources = [portrait, real]
    clip_frames, truths = zip(*frames(sources, args.seconds, args.fps, args.seed))
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "two_faces.mp4"
        encode_video(clip, clip_frames, args.fps)
        data = clip.read_bytes()
        classifier = Classifier.load(MODELS_DIR / DEFAULT_MODEL)
        result: dict = {
            "clip": f"640x480, {len(truths)} frames at {args.fps:g} frames/s, faces {[f[0] for f in FACES]} px"
        }
        for name, detector in (("defaults", DetectorSettings()), ("issue 12", ISSUE12_DETECTOR)):
            t0 = time.perf_counter()
            analysis = analyse_video(data, clip.name, classifier, Options(detector=detector))
            seconds = time.perf_counter() - t0
            result[name] = {"frames_per_s": round(len(truths) / seconds, 1), "faces": presence(analysis, truths)}
        out = Path(tmp) / "out.json"
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "fer", "video", str(clip), "--json", str(out)],
            cwd=REPO,
            check=True,
            capture_output=True,
        )
        seconds = time.perf_counter() - t0
        result["cli_defaults_frames_per_s_with_start_up"] = round(len(truths) / seconds, 1)
        result["cli_seconds"] = round(seconds, 1)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
