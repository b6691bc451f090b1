"""Print a model card's headline figures as Markdown (for the README after a retrain).

python -m scripts.card_summary [models/fer_cnn.json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from fer.labels import CLASS_NAMES


def pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def summary(card: dict) -> str:
    ev = card["evaluation"]
    lines = [
        "| split | TTA | n | top-1 | top-2 | top-3 | ECE before T | ECE after T |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for split in ("PublicTest", "PrivateTest"):
        for mode in ("plain", "tta"):
            r = ev[split][mode]
            tta = "mirror" if mode == "tta" else "none"
            default = " (default)" if (mode == "tta") == card["default_tta"] else ""
            lines.append(
                f"| {split} | {tta}{default} | {r['n']} | {pct(r['top1'])} | {pct(r['top2'])} | {pct(r['top3'])} "
                f"| {pct(r['ece_before'])} | {pct(r['ece'])} |"
            )
    mode = "tta" if card["default_tta"] else "plain"
    private = ev["PrivateTest"][mode]
    lines += [
        "",
        "Per class on PrivateTest (default mode):",
        "",
        "| class | precision | recall | F1 | n |",
        "|---|---|---|---|---|",
    ]
    for name in CLASS_NAMES:
        m = private["per_class"][name]
        lines.append(f"| {name} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {m['support']} |")
    arch, train = card["architecture"], card["training"]
    files = card["runtime"]["files"]
    lines += [
        "",
        f"- {arch['parameters']:,} parameters, {arch['macs'] / 1e6:.0f} M multiply-accumulates per face; "
        f"weights {files['keras']['bytes'] / 2**20:.1f} MB (.keras), "
        f"{files['tflite']['bytes'] / 2**20:.1f} MB (.tflite)",
        f"- trained {train['epochs']} epochs (checkpoint of epoch {train['best_epoch']} chosen on PublicTest) in "
        f"{train['wall_time_s'] / 60:.0f} min on {train['hardware']}",
        f"- temperature {card['temperature']:.3f} (plain), {card['temperature_tta']:.3f} (mirror TTA), "
        "fitted on PublicTest",
        f"- Keras float model, for reference: PrivateTest top-1 {pct(ev['PrivateTest']['float_keras_top1'])} "
        f"(served TFLite int8-weight model: {pct(ev['PrivateTest']['plain']['top1'])}, no TTA)",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "models/fer_cnn.json")
    print(summary(json.loads(path.read_text())))
