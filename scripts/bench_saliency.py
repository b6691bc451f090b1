"""First-saliency time and memory of the Upload page, as the server process lives it (LiteRT only).

Runs the real app with Streamlit's AppTest in this (fresh) process: open Upload, upload the test
portrait, then switch *Saliency* on for its face. Prints the wall time of that first saliency rerun
and of a rerun without saliency just before it (the baseline in the same process), the process RSS
and peak RSS before and after, and whether TensorFlow got imported. On a shared machine these are
figures under load: the load average is printed with them.

``--quality N`` instead scores occlusion patch/stride choices with a deletion test on N PublicTest
faces: blur the top 5/10/20% pixels of each map and report the mean drop of the predicted class's
probability (higher: the map found what the model relies on), beside random pixel orders.

Usage: python -m scripts.bench_saliency [--json] [--quality N]
(FER_FACES_DIR: the folder holding astronaut.png; FER2013_DIR for --quality)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from fer.locations import faces_dir

REPO = Path(__file__).resolve().parents[1]

RUN_TIMEOUT = 300


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident set size of this process in MB, from /proc/self/status."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def timed_run(at) -> float:  # noqa: ANN001 - AppTest
    t0 = time.perf_counter()
    at.run()
    if at.exception:
        raise SystemExit(f"the page raised: {at.exception}")
    return time.perf_counter() - t0


DELETION_FRACTIONS = (0.05, 0.10, 0.20)
VARIANTS = ((8, 4), (8, 2), (6, 3), (10, 4), (12, 4), (16, 4), (16, 8))


def deletion_drops(classifier, crop, class_index: int, heat, rng) -> list[float]:  # noqa: ANN001
    """Drop of ``class_index``'s probability when the map's top pixels are replaced by a blurred crop."""
    import cv2
    import numpy as np

    blurred = cv2.GaussianBlur(crop, (0, 0), 3)
    order = np.argsort(-(heat.ravel() + 1e-9 * rng.random(heat.size)))  # random tie-break
    batch = [crop]
    for fraction in DELETION_FRACTIONS:
        mask = np.zeros(crop.size, bool)
        mask[order[: int(fraction * crop.size)]] = True
        batch.append(np.where(mask.reshape(crop.shape), blurred, crop))
    probs = classifier.predict_proba(np.stack(batch), tta=False)
    return list(probs[0, class_index] - probs[1:, class_index])


def quality(n: int) -> dict:
    """Mean deletion drops and ms per map for each (patch, stride), and for random maps."""
    import numpy as np

    from fer.classifier import DEFAULT_MODEL, MODELS_DIR, Classifier
    from fer.data import default_data_dir, load_split
    from fer.saliency import occlusion_map

    classifier = Classifier.load(MODELS_DIR / DEFAULT_MODEL)
    rng = np.random.default_rng(0)
    data = load_split(default_data_dir(), "PublicTest")
    faces = data.images[rng.choice(len(data.images), min(n, len(data.images)), replace=False)]
    methods = {
        f"patch {p} stride {s}": (lambda c, i, p=p, s=s: occlusion_map(classifier, c, i, p, s)) for p, s in VARIANTS
    }
    methods["random"] = lambda c, i: rng.random(c.shape)
    out = {}
    for name, method in methods.items():
        drops, seconds = [], []
        for crop in faces:
            index = int(np.argmax(classifier.predict_proba(crop, tta=False)[0]))
            t0 = time.perf_counter()
            heat = method(crop, index)
            seconds.append(time.perf_counter() - t0)
            drops.append(deletion_drops(classifier, crop, index, heat, rng))
        mean = np.mean(drops, axis=0)
        out[name] = {f"drop_at_{int(f * 100)}pct": float(d) for f, d in zip(DELETION_FRACTIONS, mean)}
        out[name]["ms_per_map_median"] = 1000 * float(np.median(seconds))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--quality", type=int, metavar="N", help="deletion test on N PublicTest faces instead")
    args = parser.parse_args()
    if args.quality:
        figures = quality(args.quality)
        print(json.dumps(figures, indent=2) if args.json else "\n".join(f"{k:<20} {v}" for k, v in figures.items()))
        return 0
    from streamlit.testing.v1 import AppTest

    photo = (faces_dir() / "astronaut.png").read_bytes()

    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=RUN_TIMEOUT)
    timed_run(at)
    at.switch_page("pages/upload.py")
    timed_run(at)
    at.file_uploader(key="upload_files").set_value([("astronaut.png", photo, "image/png")])
    timed_run(at)
    plain_s = timed_run(at)  # the same page again, saliency off: the baseline rerun
    rss_before, peak_before = rss_mb()
    toggle = next(t for t in at.toggle if t.key.endswith("_saliency"))
    toggle.set_value(True)
    first_s = timed_run(at)
    rss_after, peak_after = rss_mb()
    if not any(c.startswith("What drove") for image in at.get("image") for c in image.captions):
        raise SystemExit("no saliency map was shown: " + "; ".join(str(w.value) for w in at.warning))

    figures = {
        "rerun_without_saliency_s": plain_s,
        "first_saliency_rerun_s": first_s,
        "rss_before_mb": rss_before,
        "rss_after_mb": rss_after,
        "rss_growth_mb": rss_after - rss_before,
        "peak_rss_after_mb": max(peak_before, peak_after),
        "tensorflow_imported": "tensorflow" in sys.modules,
        "load_average_1min": os.getloadavg()[0],
        "cpu_count": os.cpu_count(),
    }
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for key, value in figures.items():
            print(f"{key:<28} {value:.2f}" if isinstance(value, float) else f"{key:<28} {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
