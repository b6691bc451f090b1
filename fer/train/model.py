"""The Keras 3 CNN for 48x48 grayscale faces, and the numbers a model card needs about it.

The network takes raw grey levels (float32 0..255, shape 48x48x1) and rescales inside, so every caller
preprocesses the same way: grayscale, resize to 48x48, nothing else. It outputs logits; probabilities
come from ``softmax(logits / temperature)`` with the temperature stored in the model card.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import keras
from keras import layers

from fer.labels import FACE_SIZE, NUM_CLASSES


@dataclass(frozen=True)
class Recipe:
    """Architecture and optimisation settings, chosen for the machine that trains them."""

    name: str
    widths: tuple[int, ...]  # channels of each conv block (two 3x3 convs, then 2x2 max-pool)
    dense: int
    dropout: float
    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    label_smoothing: float
    # v2 fields (defaults reproduce the v1 "cpu" recipe, so old checkpoints' state.json still loads).
    augment: str = "v1"  # "v1": three chained resamples on every face; "v2": see fer.train.augment.augment_v2
    geo_prob: float = 1.0  # v2: share of faces that get a (resampling) affine warp; the rest stay sharp
    zoom: float = 0.1  # v2: framing jitter, scale +-zoom
    shift: float = 0.1  # v2: framing jitter, shift +-shift of the side
    class_weight_power: float = 0.0  # loss weight of a class ~ frequency**-power (0: unweighted)
    ema: float = 0.0  # per-step decay of an exponential moving average of the weights (0: none)
    # v3 fields (defaults reproduce v2).
    equalise_prob: float = 0.0  # share of training faces shown histogram-equalised (the image-folder form)
    low_contrast_prob: float = 0.0  # share given lower contrast and shifted brightness (photo crops)
    ferplus_weight: float = 0.0  # share of the FER+ vote distribution in the target (rest: FER2013 label)
    # v4 fields (defaults reproduce v3).
    init: str = ""  # warm start: a shipped model stem (e.g. models/fer_cnn_v3) whose weights start training
    teachers: tuple[str, ...] = ()  # shipped model stems whose mean calibrated output is a soft target
    teacher_weight: float = 0.0  # share of the teachers' output in the target (taken from the label's share)


RECIPES: dict[str, Recipe] = {
    # ~1.8 M parameters, ~0.12 GMAC: the v1 2-core CPU recipe (~190 img/s with augmentation, 91 minutes).
    "cpu": Recipe("cpu", (32, 64, 128, 256), 256, 0.4, 40, 128, 2e-3, 0.05, 0.1),
    # 7.05 M parameters, wider and longer: for a lent GPU (never run yet).
    "gpu": Recipe("gpu", (64, 128, 256, 512), 512, 0.5, 100, 128, 2e-3, 0.05, 0.1),
    # Model v2 on the same 1.8 M-parameter net: one sharp-preserving augmentation pass (half of the faces
    # are never resampled, so training faces are as sharp as test faces), framing jitter for detector
    # crops, mildly class-weighted loss (disgust), weight EMA, longer schedule in bfloat16.
    "cpu2": Recipe(
        "cpu2",
        (32, 64, 128, 256),
        256,
        0.4,
        45,
        128,
        2e-3,
        0.05,
        0.1,
        augment="v2",
        geo_prob=0.5,
        zoom=0.15,
        shift=0.1,
        class_weight_power=0.3,
        ema=0.998,
    ),  # fmt: skip
}
# Model v3 on the same net as v2, trained on the original CSV pixels: each face shown raw or equalised at
# random (users hold either form), some at lower contrast (crops from photos look like neither), targets
# half FER2013 label, half FER+ annotator distribution (FER2013's labels are noisy), a longer schedule.
RECIPES["cpu3"] = replace(
    RECIPES["cpu2"],
    name="cpu3",
    epochs=50,
    label_smoothing=0.05,
    equalise_prob=0.5,
    low_contrast_prob=0.3,
    ferplus_weight=0.5,
)


# Model v4: a fine-tune of v3 (which reads real faces best) on both real pixel forms of every training face
# (the original CSV rows and the equalised JPEGs, passed as two --data sources), targets mixing the FER+
# votes, v3's own calibrated output (so the fine-tune keeps what v3 reads in real faces) and the FER2013
# label. Shares and length were chosen by short fine-tunes on PublicTest and the real-face set (docs/models.md).
RECIPES["cpu4"] = replace(
    RECIPES["cpu3"],
    name="cpu4",
    epochs=3,
    lr=5e-4,
    equalise_prob=0.0,
    init="models/fer_cnn_v3",
    teachers=("models/fer_cnn_v3",),
    teacher_weight=0.25,
    ferplus_weight=0.5,
)


def as_recipe(fields: dict) -> Recipe:
    """A recipe from its saved fields (a checkpoint's state.json or card): JSON lists back to tuples."""
    return Recipe(**{k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()})


def build_model(recipe: Recipe, name: str = "fer_cnn") -> keras.Model:
    """VGG-style CNN: conv-BN-ReLU pairs, max-pooling, one hidden dense layer, logits out."""
    inputs = keras.Input((FACE_SIZE, FACE_SIZE, 1), name="face")
    x = layers.Rescaling(1.0 / 255.0, name="rescale")(inputs)
    for i, width in enumerate(recipe.widths, start=1):
        for j in (1, 2):
            x = layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"b{i}_conv{j}")(x)
            x = layers.BatchNormalization(name=f"b{i}_bn{j}")(x)
            x = layers.Activation("relu", name=f"b{i}_relu{j}")(x)
        x = layers.MaxPooling2D(2, name=f"b{i}_pool")(x)
        x = layers.Dropout(recipe.dropout * i / len(recipe.widths) / 2, name=f"b{i}_drop")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(recipe.dense, use_bias=False, name="fc")(x)
    x = layers.BatchNormalization(name="fc_bn")(x)
    x = layers.Activation("relu", name="fc_relu")(x)
    x = layers.Dropout(recipe.dropout, name="fc_drop")(x)
    outputs = layers.Dense(NUM_CLASSES, name="logits", dtype="float32")(x)
    return keras.Model(inputs, outputs, name=name)


def count_macs(model: keras.Model) -> int:
    """Multiply-accumulates of one forward pass, counted over the Conv2D and Dense layers."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, layers.Conv2D):
            kh, kw = layer.kernel_size
            cin = layer.input.shape[-1]
            _, h, w, cout = layer.output.shape
            total += h * w * cout * kh * kw * cin
        elif isinstance(layer, layers.Dense):
            total += int(layer.input.shape[-1]) * layer.units
    return int(total)
