"""Score candidate models the way model v4's levers were chosen: PublicTest on both FER2013 forms, the
FER+ majority, photo-like degradations of PublicTest faces (low contrast, blur, 16 px, JPEG 10), and the
real face photos of ``../shared/faces/real`` read through the detector.

Keras float weights, no TTA, so fine-tune checkpoints compare with shipped models on equal terms. The real
photos' face crops are found once (the detector does not depend on the model) and cached. PrivateTest is
never read here: choices are made on these figures only.

Usage: python -m scripts.measure_models models/fer_cnn_v3 runs/v4a.ckpt/best.keras ... [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from fer.classifier import DEFAULT_MODEL, MODELS_DIR, Classifier  # noqa: E402
from fer.data import cache_dir, load_split  # noqa: E402
from fer.evaluation import degrade  # noqa: E402
from fer.evaluation.photo_eval import evaluate_photos, open_photo_set  # noqa: E402
from fer.evaluation.robustness import sample_indices  # noqa: E402
from fer.ferplus import split_votes  # noqa: E402
from fer.fingerprints import source_fingerprint  # noqa: E402
from fer.labels import CLASS_NAMES, FACE_SIZE  # noqa: E402
from fer.locations import shared_dir  # noqa: E402

SHARED = shared_dir()


def real_crops(folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """48x48 crops of the largest face of every photo, their labels and a found mask (cached)."""
    key = hashlib.sha256(f"{folder.resolve()}|{source_fingerprint(folder)}".encode()).hexdigest()[:16]
    cache = cache_dir() / f"real-crops-{key}.npz"  # the detector may change: delete it to re-find the faces
    if cache.exists():
        with np.load(cache) as z:
            return z["crops"], z["labels"], z["found"]
    ev = evaluate_photos(open_photo_set(folder), Classifier.load(MODELS_DIR / DEFAULT_MODEL))  # crops: any model
    blank = np.zeros((FACE_SIZE, FACE_SIZE), np.uint8)
    crops = np.stack([o.crop if o.crop is not None else blank for o in ev.outcomes])
    labels = np.array([o.label for o in ev.outcomes])
    found = np.array([o.crop is not None for o in ev.outcomes])
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, crops=crops, labels=labels, found=found)
    return crops, labels, found


def predict(model: keras.Model, images: np.ndarray) -> np.ndarray:
    x = images.reshape(-1, FACE_SIZE, FACE_SIZE, 1).astype(np.float32)
    return model.predict(x, batch_size=512, verbose=0).argmax(1)


def score(path: str, fer_csv: Path, fer_dir: Path, real: tuple[np.ndarray, np.ndarray, np.ndarray]) -> dict:
    keras_path = Path(path) if path.endswith(".keras") else Path(path).with_suffix(".keras")
    model = keras.models.load_model(keras_path, compile=False)
    out: dict = {"model": path}
    for form, source in (("folder", fer_dir), ("csv", fer_csv)):
        data = load_split(source, "PublicTest")
        pred = predict(model, data.images)
        out[f"public_{form}"] = float((pred == data.labels).mean())
        majority = split_votes(source, "PublicTest").majority()
        ok = majority >= 0
        out[f"ferplus_{form}"] = float((pred[ok] == majority[ok]).mean())
    data = load_split(fer_csv, "PublicTest")  # photo-like conditions on PublicTest's original pixels
    idx = sample_indices(data.labels)
    faces, truth = data.images[idx], data.labels[idx]
    for name, degraded in (
        ("contrast_0.35", degrade.contrast(faces, 0.35)),
        ("blur_1.5", degrade.blur(faces, 1.5)),
        ("downscale_16", degrade.downscale(faces, 16)),
        ("jpeg_10", degrade.jpeg(faces, 10)),
    ):
        out[f"degraded_{name}"] = float((predict(model, degraded) == truth).mean())
    out["degraded_mean"] = float(np.mean([v for k, v in out.items() if k.startswith("degraded_")]))
    crops, labels, found = real
    pred = np.where(found, predict(model, crops), -1)
    out["real"] = float((pred == labels).mean())
    for k in sorted(set(labels.tolist())):
        name = CLASS_NAMES[k]
        sel = labels == k
        out[f"real_{name}"] = float((pred[sel] == k).mean())
        out[f"real_{name}_as"] = {CLASS_NAMES[j]: round(float((pred[sel] == j).mean()), 3) for j in range(7)}
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("models", nargs="+", help="model stems (models/NAME) or .keras checkpoints")
    p.add_argument("--fer2013", type=Path, default=SHARED / "fer2013")
    p.add_argument("--csv", type=Path, default=SHARED / "fer2013-csv" / "fer2013.csv.gz")
    p.add_argument("--real", type=Path, default=SHARED / "faces" / "real")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    real = real_crops(args.real)
    for m in args.models:
        row = score(m, args.csv, args.fer2013, real)
        if args.json:
            print(json.dumps(row), flush=True)
        else:
            print(
                f"{m}: PublicTest folder {row['public_folder']:.4f} csv {row['public_csv']:.4f} | FER+ "
                f"{row['ferplus_folder']:.4f}/{row['ferplus_csv']:.4f} | real {row['real']:.4f} "
                f"neutral {row.get('real_neutral', 0):.4f} happy {row.get('real_happy', 0):.4f} "
                f"neutral as {row.get('real_neutral_as')} | degraded PublicTest {row['degraded_mean']:.4f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
