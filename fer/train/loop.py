"""Reproducible training CLI: ``python -m fer.train --data PATH --out models/NAME [--resume] …``.

Trains on Training, selects the checkpoint on PublicTest only, then fits a temperature on PublicTest,
evaluates PublicTest and PrivateTest with and without flip test-time augmentation and writes the model
card ``models/NAME.json`` beside ``models/NAME.keras``. Every epoch is checkpointed under
``models/NAME.ckpt/`` (git-ignored) so ``--resume`` continues after an interruption.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
import time
import zipfile
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tqdm.auto import tqdm  # noqa: E402

from fer.data import load_split  # noqa: E402
from fer.labels import NUM_CLASSES  # noqa: E402
from fer.train.augment import as_model_input, equalised, make_train_dataset, subset_index  # noqa: E402
from fer.train.model import RECIPES, Recipe, as_recipe, build_model  # noqa: E402
from fer.train.targets import mixed_targets, teacher_probs  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m fer.train", description=__doc__.splitlines()[0])
    p.add_argument(
        "--data",
        required=True,
        action="append",
        help="fer2013.csv or the FER2013 image-folder root; give it twice to train on both pixel forms",
    )
    p.add_argument("--out", required=True, help="output stem, e.g. models/fer_cnn (writes .keras and .json)")
    p.add_argument("--recipe", choices=sorted(RECIPES), default=None, help="default: gpu if one is present, else cpu")
    p.add_argument("--epochs", type=int, default=None, help="default: the recipe's")
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--lr", type=float, default=None, help="peak learning rate (cosine decay to 0)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--ferplus",
        default=None,
        help="FER+ votes file (recipes with ferplus_weight > 0); default: ferplus.csv beside the image folders",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override one recipe field (e.g. teacher_weight=0.25), for ablations; recorded in the card",
    )
    p.add_argument("--resume", action="store_true", help="continue from models/NAME.ckpt/last.keras")
    p.add_argument("--limit", type=int, default=0, help="use only the first N training faces (smoke runs)")
    p.add_argument("--eval-limit", type=int, default=0, help="use only the first N faces of each test split")
    p.add_argument(
        "--precision",
        choices=["auto", "float32", "mixed_bfloat16", "mixed_float16"],
        default="auto",
        help="auto: mixed_float16 on a GPU, float32 on a CPU",
    )
    return p.parse_args(argv)


# ----------------------------------------------------------------------------- checkpoints
class EpochCheckpoint(keras.callbacks.Callback):
    """Saves ``last.keras`` every epoch and ``best.keras`` when PublicTest accuracy improves.

    With ``ema > 0`` it also keeps an exponential moving average of all weights (BatchNorm statistics
    included), scores it on PublicTest each epoch, and lets it compete for ``best.keras``: averaged
    weights generalise better than the last step's, at the cost of one PublicTest pass per epoch.
    """

    def __init__(self, ckpt_dir: Path, state: dict, ema: float = 0.0, val: tuple[np.ndarray, np.ndarray] | None = None):
        super().__init__()
        self.ckpt_dir = ckpt_dir
        self.state = state
        self.ema = ema
        self.val = val
        self.shadow: list[np.ndarray] | None = None
        self._t0 = time.time()
        self._steps = int(state.get("ema_steps", 0))

    def on_train_begin(self, logs: dict | None = None) -> None:
        if self.ema <= 0:
            return
        saved = self.ckpt_dir / "ema.npz"
        if self.state.get("epoch", 0) > 0 and saved.exists():
            with np.load(saved) as z:
                self.shadow = [z[f"w{i}"] for i in range(len(z.files))]
        else:
            self.shadow = [w.astype(np.float32, copy=True) for w in self.model.get_weights()]

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.shadow is None:
            return
        self._steps += 1
        d = min(self.ema, (1.0 + self._steps) / (10.0 + self._steps))  # short warm-up, as tf.train.EMA
        for s, w in zip(self.shadow, self.model.get_weights(), strict=True):
            s *= d
            s += (1.0 - d) * w

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._t0 = time.time()

    def _ema_accuracy(self) -> float:
        x, y = self.val
        live = self.model.get_weights()
        self.model.set_weights(self.shadow)
        acc = float((self.model.predict(x, batch_size=512, verbose=0).argmax(1) == y).mean())
        self.model.set_weights(live)
        return acc

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs if logs is not None else {}
        val = float(logs.get("val_accuracy", 0.0))
        self.state["epoch"] = epoch + 1
        self.state["wall_time_s"] = self.state.get("wall_time_s", 0.0) + (time.time() - self._t0)
        if val > self.state.get("best_val_accuracy", -1.0):
            self.state["best_val_accuracy"] = val
            self.state["best_epoch"] = epoch + 1
            self.state["best_weights"] = "live"
            _atomic_save(self.model, self.ckpt_dir / "best.keras")
        if self.shadow is not None and self.val is not None:
            ema_val = self._ema_accuracy()
            logs["val_ema_accuracy"] = ema_val
            if ema_val > self.state["best_val_accuracy"]:
                self.state["best_val_accuracy"] = ema_val
                self.state["best_epoch"] = epoch + 1
                self.state["best_weights"] = "ema"
                live = self.model.get_weights()
                self.model.set_weights(self.shadow)
                _atomic_save(self.model, self.ckpt_dir / "best.keras")
                self.model.set_weights(live)
            tmp = self.ckpt_dir / "ema.tmp.npz"
            np.savez(tmp, **{f"w{i}": w for i, w in enumerate(self.shadow)})
            os.replace(tmp, self.ckpt_dir / "ema.npz")
            self.state["ema_steps"] = self._steps
        _atomic_save(self.model, self.ckpt_dir / "last.keras")
        (self.ckpt_dir / "state.json").write_text(json.dumps(self.state, indent=2))


def _atomic_save(model: keras.Model, path: Path) -> None:
    """Save, then re-pack deflated: Keras stores its zip uncompressed, and a checkpoint with the optimizer
    state is committed while a run spans sessions (21 MB stored, 19 MB deflated)."""
    tmp = path.with_name(path.stem + ".tmp.keras")
    model.save(tmp)
    packed = path.with_name(path.stem + ".pack.keras")
    with zipfile.ZipFile(tmp) as src, zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as dst:
        for member in src.infolist():
            dst.writestr(member.filename, src.read(member.filename))
    os.remove(tmp)
    os.replace(packed, path)


class TqdmProgress(keras.callbacks.Callback):
    """One progress bar over all remaining training steps, with ETA and the latest metrics."""

    def __init__(self, total_steps: int, initial: int):
        super().__init__()
        self.bar = tqdm(
            total=total_steps,
            initial=initial,
            unit="step",
            dynamic_ncols=True,
            mininterval=1.0 if sys.stderr.isatty() else 30.0,
        )

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.bar.update(1)
        if logs and batch % 20 == 0:
            self.bar.set_postfix(loss=f"{logs.get('loss', 0):.3f}", acc=f"{logs.get('accuracy', 0):.3f}")

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        self.bar.write(
            f"epoch {epoch + 1}: loss {logs.get('loss', 0):.4f} acc {logs.get('accuracy', 0):.4f} "
            f"PublicTest loss {logs.get('val_loss', 0):.4f} acc {logs.get('val_accuracy', 0):.4f}"
            + (f" EMA acc {logs['val_ema_accuracy']:.4f}" if "val_ema_accuracy" in logs else "")
        )

    def on_train_end(self, logs: dict | None = None) -> None:
        self.bar.close()


# ----------------------------------------------------------------------------- main
def resolve_settings(args: argparse.Namespace) -> tuple[Recipe, str, bool]:
    gpus = tf.config.list_physical_devices("GPU")
    recipe = RECIPES[args.recipe or ("gpu" if gpus else "cpu")]
    overrides = {k: v for k, v in (("epochs", args.epochs), ("batch_size", args.batch_size), ("lr", args.lr)) if v}
    if overrides:
        recipe = Recipe(**{**recipe.__dict__, **overrides})
    for item in args.set:
        field, _, value = item.partition("=")
        if field not in recipe.__dict__ or field in ("name", "widths"):
            raise SystemExit(f"--set {item}: not a recipe field one can override")
        current = recipe.__dict__[field]
        if isinstance(current, tuple):
            parsed = tuple(v for v in value.split(",") if v)
        elif isinstance(current, bool):  # bool("False") is True: read the word
            parsed = value.strip().lower() in ("1", "true", "yes", "on")
        else:
            parsed = type(current)(value)
        recipe = replace(recipe, **{field: parsed})
    recipe = as_recipe(recipe.__dict__)
    precision = args.precision
    if precision == "auto":
        precision = "mixed_float16" if gpus else "float32"
    return recipe, precision, bool(gpus)


def hardware_description() -> str:
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        names = []
        for g in gpus:
            details = tf.config.experimental.get_device_details(g)
            names.append(details.get("device_name", g.name))
        return "GPU: " + ", ".join(names)
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"CPU: {cpu}, {os.cpu_count()} cores"


def training_arrays(
    args: argparse.Namespace, recipe: Recipe, state: dict
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray, np.ndarray, dict]:
    """Training faces, labels and soft targets, and the PublicTest faces to choose on, from every ``--data``
    source (both pixel forms when the CSV and the image folders are given)."""
    xs, ys, ts, xv, yv, prints = [], [], [], [], [], {}
    soft = recipe.ferplus_weight > 0 or recipe.teacher_weight > 0
    for source in args.data:
        train_data = load_split(source, "Training")
        public = load_split(source, "PublicTest").subset(args.eval_limit)
        keep = np.arange(len(train_data))
        if 0 < state.get("limit", 0) < len(train_data):  # smoke runs: the same faces as SplitData.subset keeps
            keep = subset_index(len(train_data), state["limit"])
            train_data = train_data.subset(state["limit"])
        votes = has = teacher = None
        if recipe.ferplus_weight > 0:
            from fer.ferplus import split_votes

            found = split_votes(source, "Training", args.ferplus)
            if found is None:
                raise SystemExit("recipe needs FER+ votes: give --ferplus PATH/ferplus.csv")
            votes, has = (a[keep] for a in found.distribution())
            print(f"{source}: FER+ targets for {int(has.sum())} of {len(has)} training faces", flush=True)
        if recipe.teacher_weight > 0:
            teacher = teacher_probs(recipe.teachers, train_data)
            print(f"{source}: teacher targets from {', '.join(recipe.teachers)}", flush=True)
        targets = mixed_targets(train_data.labels, recipe, votes, has, teacher) if soft else None
        xs.append(train_data.images)
        ys.append(train_data.labels)
        ts.append(targets)
        x_val, y_val = public.images, public.labels
        if recipe.equalise_prob > 0:  # choose on PublicTest in both pixel forms
            x_val, y_val = np.concatenate([x_val, equalised(x_val)]), np.concatenate([y_val, y_val])
        xv.append(x_val)
        yv.append(y_val)
        suffix = "" if len(args.data) == 1 else f" ({Path(source).name})"
        prints.update({f"Training{suffix}": train_data.fingerprint, f"PublicTest{suffix}": public.fingerprint})
    targets = np.concatenate(ts) if soft else None
    return np.concatenate(xs), np.concatenate(ys), targets, np.concatenate(xv), np.concatenate(yv), prints


def train(args: argparse.Namespace) -> Path:
    out = Path(args.out)
    ckpt_dir = out.with_name(out.name + ".ckpt")
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    state_file = ckpt_dir / "state.json"
    recipe, precision, on_gpu = resolve_settings(args)
    state: dict = {}
    if args.resume and state_file.exists():
        state = json.loads(state_file.read_text())
        recipe = as_recipe(state["recipe"])
        precision = state["precision"]
        print(f"resuming after epoch {state['epoch']} of {recipe.epochs}", flush=True)
    else:
        state = {
            "epoch": 0,
            "recipe": recipe.__dict__,
            "precision": precision,
            "seed": args.seed,
            "limit": args.limit,
            "command": "python -m fer.train " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
            "hardware": hardware_description(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
    keras.utils.set_random_seed(state["seed"])
    keras.mixed_precision.set_global_policy(precision)

    x_train, y_train, targets, x_val, y_val, fingerprints = training_arrays(args, recipe, state)
    state["data_fingerprint"] = fingerprints
    steps_per_epoch = len(x_train) // recipe.batch_size
    if steps_per_epoch == 0:
        raise SystemExit(f"only {len(x_train)} training faces: fewer than one batch of {recipe.batch_size}")

    if state["epoch"] >= recipe.epochs:
        print("training already complete", flush=True)
        return ckpt_dir
    if args.resume and (ckpt_dir / "last.keras").exists() and state["epoch"] > 0:
        model = keras.models.load_model(ckpt_dir / "last.keras")
    else:
        model = build_model(recipe)
        if recipe.init:  # warm start: same architecture, the shipped model's weights
            start = keras.models.load_model(Path(recipe.init).with_suffix(".keras"), compile=False)
            model.set_weights(start.get_weights())
            print(f"warm start from {recipe.init}", flush=True)
        schedule = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=recipe.lr / 10,
            decay_steps=max(1, steps_per_epoch * (recipe.epochs - 1)),
            warmup_target=recipe.lr,
            warmup_steps=steps_per_epoch,
            alpha=0.0,
        )
        model.compile(
            optimizer=keras.optimizers.AdamW(learning_rate=schedule, weight_decay=recipe.weight_decay),
            loss=keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=recipe.label_smoothing),
            metrics=["accuracy"],
        )
    print(
        f"{model.count_params():,} parameters; {len(x_train)} training faces, {len(x_val)} PublicTest; "
        f"{recipe.epochs} epochs x {steps_per_epoch} steps; precision {precision}; {state['hardware']}",
        flush=True,
    )
    ds = make_train_dataset(x_train, y_train, recipe, state["seed"] + state["epoch"], targets)
    val_y = keras.utils.to_categorical(y_val, NUM_CLASSES)
    model.fit(
        ds,
        epochs=recipe.epochs,
        initial_epoch=state["epoch"],
        validation_data=(as_model_input(x_val), val_y),
        validation_batch_size=512,
        verbose=0,
        callbacks=[
            EpochCheckpoint(ckpt_dir, state, ema=recipe.ema, val=(as_model_input(x_val), y_val)),
            keras.callbacks.CSVLogger(str(out.with_suffix(".history.csv")), append=state["epoch"] > 0),
            TqdmProgress(steps_per_epoch * recipe.epochs, steps_per_epoch * state["epoch"]),
        ],
    )
    return ckpt_dir


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    ckpt_dir = train(args)
    from fer.train.card import finalize  # imported late: only needed once training is done

    card = finalize(Path(args.out), ckpt_dir, args.data[0], eval_limit=args.eval_limit)
    priv = card["evaluation"]["PrivateTest"]["tta" if card["default_tta"] else "plain"]
    print(
        f"wrote {args.out}.keras and {args.out}.json: PrivateTest top-1 {priv['top1']:.4f} "
        f"top-2 {priv['top2']:.4f} ECE {priv['ece']:.4f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
