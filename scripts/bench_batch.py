"""Files per second of `fer batch` (1 and 2 local workers, Ray) against `fer predict`: same files, same run.

    python -m scripts.bench_batch [--n 300] [--fer2013 ../shared/fer2013] [--no-ray]

Builds a photo set from FER2013 PublicTest faces (``scripts/photo_set.py``: faces pasted into scenes of
200..4000 px, tight crops, 48x48 crops) in a temporary folder, then runs each command once on all of it
as a user would, start-up included, each writing to its own fresh output. Wall-clock figures: run it
on an idle machine (the load average is printed beside them).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scripts.photo_set import add_data_args, build, write

REPO = Path(__file__).resolve().parent.parent


def timed(cmd: list[str]) -> float:
    """Wall seconds of one command (its output discarded; a failure stops the benchmark)."""
    start = time.perf_counter()
    subprocess.run(cmd, cwd=REPO, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - start


def commands(folder: Path, files: list[str], out: Path, ray: bool) -> dict[str, list[str]]:
    """The compared commands on ``folder`` (``files`` are its photos), each writing its own output in ``out``."""
    py = sys.executable
    runs = {"fer predict (one process)": [py, "-m", "fer", "predict", "--json", *files]}
    for workers in (1, 2):
        runs[f"fer batch --workers {workers}"] = [
            py, "-m", "fer", "batch", str(folder), "--out", str(out / f"w{workers}.csv"), "--workers", str(workers),
        ]  # fmt: skip
    if ray:
        runs["fer batch --ray (local, 2 CPUs)"] = [
            py, "-m", "fer", "batch", str(folder), "--out", str(out / "ray.csv"), "--ray",
        ]  # fmt: skip
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=300, help="photos in the set")
    add_data_args(parser, faces=False)
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray run (Ray not installed)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="fer-bench-batch-") as tmp:
        photos_dir, one_dir = Path(tmp) / "photos", Path(tmp) / "one"
        write(build(args.fer2013, "PublicTest", args.n, seed=12), photos_dir, "PublicTest")
        files = sorted(str(p) for p in photos_dir.rglob("*") if p.suffix.lower() in (".jpg", ".png"))
        one_dir.mkdir()
        one = one_dir / Path(files[0]).name
        one.write_bytes(Path(files[0]).read_bytes())
        (Path(tmp) / "out").mkdir()
        (Path(tmp) / "out_one").mkdir()
        runs = commands(photos_dir, files, Path(tmp) / "out", not args.no_ray)
        # The same commands on one photo: start-up, model loading, and the pool's or Ray's start.
        singles = commands(one_dir, [str(one)], Path(tmp) / "out_one", not args.no_ray)
        print(f"{len(files)} photos; {os.cpu_count()} CPUs; load average before: {os.getloadavg()[0]:.2f}")
        print(f"  {'':34s} {'all':>9s}  {'files/s':>7s}  {'vs predict':>10s}  {'start-up':>8s}  after start-up")
        baseline = None
        for name, cmd in runs.items():
            seconds, startup = timed(cmd), timed(singles[name])
            rate, steady = len(files) / seconds, (len(files) - 1) / max(seconds - startup, 1e-9)
            baseline = baseline or rate
            print(
                f"  {name:34s} {seconds:7.1f} s  {rate:7.1f}  {rate / baseline:9.2f}x  {startup:6.1f} s  "
                f"{steady:6.1f} files/s",
                flush=True,
            )
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
