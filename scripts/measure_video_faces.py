"""Video figures: is every face in the rows of every frame it is in, under one id, and
at what speed?

Two 640x480 clips at 30 frames/s, built by :mod:`fer.bench.following` from real faces pasted as
:mod:`fer.bench.detection` pastes them, on one of its face-free backgrounds:

- ``two_faces`` (60 s): the astronaut portrait with its face ~76 px wide, drifting, in
  every frame, and a real photo's face ~50 px wide, away from 20 to 40 s;
- ``following`` (:data:`fer.bench.following.FOLLOWING_FACES`, 20 s): real faces of 41, 70 and 110 px
  moving, the 70 px one away for 0.6 s and for 2.2 s.

Each clip goes through ``python -m fer video CLIP --json`` with the defaults in a fresh process, timed
from start to exit (start-up included), and the figures come from that JSON: per face, the share of
the frames it is in whose rows hold it, its ids against its appearances, and id switches per minute
(:func:`fer.bench.following.following_figures`). With ``--baseline-repo DIR`` (e.g. a ``git archive`` of
the previous commit) the same command runs in that checkout too, alternately, so the two compare on a
loaded machine. Frames/s on a loaded machine are not figures for the docs unless marked so.

Usage: python -m scripts.measure_video_faces [--seconds 60] [--faces DIR] [--seed 7] [--baseline-repo DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fer.bench import detection as bench
from fer.bench.following import (
    FOLLOWING_CLIP_S,
    FOLLOWING_FACES,
    ClipFace,
    following_clip,
    following_figures,
    following_sources,
)
from fer.locations import faces_dir
from fer.video.writer import encode_video

REPO = Path(__file__).resolve().parents[1]
FPS = 30.0
#: The two faces: the portrait (~76 px) always there, a real face (~50 px) away from 20 to 40 s.
TWO_FACES = (ClipFace(76, 200, 240, 30, 0, 6.0), ClipFace(50, 470, 200, 20, 0, 9.0, away=((20.0, 40.0),)))


def run_cli(repo: Path, clip: Path, out: Path) -> tuple[float, list]:
    """Seconds of ``python -m fer video CLIP --json OUT`` run in ``repo``, and the JSON's frames as
    (id, box, followed) rows per frame."""
    t0 = time.perf_counter()
    cmd = [sys.executable, "-m", "fer", "video", str(clip), "--json", str(out)]
    subprocess.run(cmd, cwd=repo, check=True, capture_output=True)
    seconds = time.perf_counter() - t0
    frames = json.loads(out.read_text())["frames"]
    return seconds, [[(f["id"], tuple(f["box"]), f["followed"]) for f in frame["faces"]] for frame in frames]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=60.0, help="length of the two_faces clip")
    p.add_argument("--faces", type=Path, default=faces_dir())
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--baseline-repo", type=Path, help="a checkout to run the same command in, alternately")
    p.add_argument("--rounds", type=int, default=1)
    args = p.parse_args()
    found = bench.face_sources(args.faces, None, n_real=20, n_fer=0, seed=args.seed)
    two = [next(s for s in found if s.kind == "portrait"), next(s for s in found if s.kind == "real")]
    clips = {
        "two_faces": (TWO_FACES, two, args.seconds),
        "following": (FOLLOWING_FACES, following_sources(args.faces, FOLLOWING_FACES, args.seed), FOLLOWING_CLIP_S),
    }
    repos = {"this checkout": REPO, **({"baseline": args.baseline_repo.resolve()} if args.baseline_repo else {})}
    result: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (spec, sources, seconds) in clips.items():
            frames, truths = zip(*following_clip(sources, spec, seconds, FPS, args.seed))
            clip = Path(tmp) / f"{name}.mp4"
            encode_video(clip, frames, FPS)
            sizes = [f.side for f in spec]
            entry: dict = {"clip": f"640x480, {len(frames)} frames at {FPS:g} frames/s, faces {sizes} px"}
            for _ in range(args.rounds):
                for label, repo in repos.items():
                    seconds_taken, rows = run_cli(repo, clip, Path(tmp) / "out.json")
                    figures = entry.setdefault(label, {"cli_frames_per_s_with_start_up": []})
                    figures["cli_frames_per_s_with_start_up"].append(round(len(frames) / seconds_taken, 1))
                    figures["faces"] = following_figures(spec, truths, rows, FPS)
            result[name] = entry
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
