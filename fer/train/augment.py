"""Training faces as the network sees them: both pixel forms, augmentation, soft targets, batches.

Kept apart from the training loop (``fer.train.loop``) so each stays readable; everything here runs
inside TensorFlow's tf.data pipeline or prepares arrays for it.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from fer.labels import FACE_SIZE, NUM_CLASSES  # noqa: E402
from fer.train.model import Recipe  # noqa: E402


def random_erasing(images: tf.Tensor, prob: float = 0.5) -> tf.Tensor:
    """Blank one random rectangle (2-25 % of the face, aspect 0.3-3.3) per image with probability ``prob``."""
    shape = tf.shape(images)
    n, h, w = shape[0], shape[1], shape[2]
    hf, wf = tf.cast(h, tf.float32), tf.cast(w, tf.float32)
    area = tf.random.uniform([n], 0.02, 0.25) * hf * wf
    log_ratio = tf.random.uniform([n], np.log(0.3), np.log(3.3))
    ratio = tf.exp(log_ratio)
    eh = tf.clip_by_value(tf.sqrt(area * ratio), 1.0, hf)
    ew = tf.clip_by_value(tf.sqrt(area / ratio), 1.0, wf)
    y0 = tf.random.uniform([n]) * (hf - eh)
    x0 = tf.random.uniform([n]) * (wf - ew)
    ys = tf.cast(tf.range(h), tf.float32)[None, :, None]
    xs = tf.cast(tf.range(w), tf.float32)[None, None, :]
    inside = (
        (ys >= y0[:, None, None])
        & (ys < (y0 + eh)[:, None, None])
        & (xs >= x0[:, None, None])
        & (xs < (x0 + ew)[:, None, None])
    )
    apply = tf.random.uniform([n]) < prob
    mask = inside & apply[:, None, None]
    noise = tf.random.uniform(tf.shape(images), 0.0, 255.0)
    return tf.where(mask[..., None], noise, images)


def augment_v1(seed: int) -> keras.Sequential:
    """The v1 recipe: flip, then ±10° rotation, ±10 % shift and ±10 % zoom, each its own bilinear resample.

    Built once, outside the tf.data map: Keras layers own seed-generator variables, which cannot be
    created inside the traced map function.
    """
    return keras.Sequential(
        [
            keras.layers.RandomFlip("horizontal", seed=seed, dtype="float32"),
            keras.layers.RandomRotation(10 / 360, fill_mode="reflect", seed=seed + 1, dtype="float32"),
            keras.layers.RandomTranslation(0.1, 0.1, fill_mode="reflect", seed=seed + 2, dtype="float32"),
            keras.layers.RandomZoom((-0.1, 0.1), fill_mode="reflect", seed=seed + 3, dtype="float32"),
        ],
        name="augment",
    )


def augment_v2(images: tf.Tensor, recipe: Recipe, max_degrees: float = 10.0) -> tf.Tensor:
    """Flip plus one affine warp per face, applied so that training faces stay as sharp as test faces.

    v1 resampled every training face three times (rotation, shift, zoom) and never a test face, so the
    network learnt blurred faces: a measured 2-point loss. Here a share ``geo_prob`` of the faces gets
    a single bilinear warp (rotation ±``max_degrees``, scale ±``zoom``, shift ±``shift``: the framing
    jitter of a face detector's crops); the others only get an integer shift and the mirror, which
    move whole pixels and keep them exact.
    """
    n = tf.shape(images)[0]
    size = float(FACE_SIZE)
    c = (size - 1.0) / 2.0
    geo = tf.random.uniform([n]) < recipe.geo_prob
    angle = tf.random.uniform([n], -max_degrees, max_degrees) * (np.pi / 180.0)
    scale = tf.exp(tf.random.uniform([n], np.log(1.0 - recipe.zoom), np.log(1.0 + recipe.zoom)))
    shift = recipe.shift * size
    int_shift = max(1.0, round(shift / 2))
    angle = tf.where(geo, angle, 0.0)
    scale = tf.where(geo, scale, 1.0)
    tx = tf.where(geo, tf.random.uniform([n], -shift, shift), tf.round(tf.random.uniform([n], -int_shift, int_shift)))
    ty = tf.where(geo, tf.random.uniform([n], -shift, shift), tf.round(tf.random.uniform([n], -int_shift, int_shift)))
    fx = tf.where(tf.random.uniform([n]) < 0.5, -1.0, 1.0)
    cos, sin = tf.cos(angle) / scale, tf.sin(angle) / scale
    # Output pixel (x, y) samples input (u, v):
    #   u = c + fx*(cos*(x-c) - sin*(y-c)) + tx,  v = c + sin*(x-c) + cos*(y-c) + ty.
    zeros = tf.zeros([n])
    transforms = tf.stack(
        [
            fx * cos,
            -fx * sin,
            c - fx * cos * c + fx * sin * c + tx,
            sin,
            cos,
            c - sin * c - cos * c + ty,
            zeros,
            zeros,
        ],
        axis=1,
    )
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=transforms,
        output_shape=[FACE_SIZE, FACE_SIZE],
        interpolation="BILINEAR",
        fill_mode="REFLECT",
        fill_value=0.0,
    )


def equalised(images: np.ndarray) -> np.ndarray:
    """``cv2.equalizeHist`` of each face: the pixel form of the image-folder copy of FER2013."""
    return np.stack([cv2.equalizeHist(im) for im in images]) if len(images) else images.copy()


def low_contrast(images: tf.Tensor, prob: float) -> tf.Tensor:
    """With probability ``prob`` per face: contrast x0.45-0.9 around its mean, brightness -25..+25.

    Faces cropped from photos have lower contrast than both FER2013 forms; equalising them at inference
    measured worse, so the network learns to read them instead.
    """
    n = tf.shape(images)[0]
    apply = tf.random.uniform([n, 1, 1, 1]) < prob
    mean = tf.reduce_mean(images, axis=[1, 2, 3], keepdims=True)
    gain = tf.random.uniform([n, 1, 1, 1], 0.45, 0.9)
    shift = tf.random.uniform([n, 1, 1, 1], -25.0, 25.0)
    changed = tf.clip_by_value(mean + (images - mean) * gain + shift, 0.0, 255.0)
    return tf.where(apply, changed, images)


def class_weights(labels: np.ndarray, power: float) -> np.ndarray:
    """Per-class loss weights ~ frequency**-power, normalised so the mean weight over ``labels`` is 1."""
    counts = np.bincount(labels, minlength=NUM_CLASSES).astype(np.float64)
    w = np.where(counts > 0, np.maximum(counts, 1.0) ** -power, 0.0)
    w /= (w[labels]).mean()
    return w.astype(np.float32)


def make_train_dataset(
    images: np.ndarray, labels: np.ndarray, recipe: Recipe, seed: int, targets: np.ndarray | None = None
) -> tf.data.Dataset:
    """Shuffled, augmented batches (``recipe.augment``), with per-face loss weights when the recipe asks.

    ``targets``: soft target rows (default: one-hot ``labels``). With ``recipe.equalise_prob`` each face
    is drawn raw or histogram-equalised per step, so both pixel forms are learnt.
    """
    x = images[..., None].astype(np.float32)
    y = targets if targets is not None else keras.utils.to_categorical(labels, NUM_CLASSES).astype(np.float32)
    if recipe.equalise_prob > 0:
        x = np.concatenate([x, equalised(images)[..., None].astype(np.float32)], axis=-1)
    tensors: tuple[np.ndarray, ...] = (x, y)
    if recipe.class_weight_power > 0:
        tensors = (x, y, class_weights(labels, recipe.class_weight_power)[labels])
    tf.random.set_seed(seed)
    ds = tf.data.Dataset.from_tensor_slices(tensors)
    ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True).batch(recipe.batch_size, drop_remainder=True)
    if recipe.augment == "v2":

        def warp(a: tf.Tensor) -> tf.Tensor:
            return random_erasing(augment_v2(a, recipe))
    else:
        augment = augment_v1(seed)

        def warp(a: tf.Tensor) -> tf.Tensor:
            return random_erasing(augment(a, training=True))

    def pick_form(a: tf.Tensor) -> tf.Tensor:
        if recipe.equalise_prob > 0:
            use_eq = tf.random.uniform([tf.shape(a)[0], 1, 1, 1]) < recipe.equalise_prob
            a = tf.where(use_eq, a[..., 1:2], a[..., 0:1])
        if recipe.low_contrast_prob > 0:
            a = low_contrast(a, recipe.low_contrast_prob)
        return a

    ds = ds.map(lambda a, *rest: (warp(pick_form(a)), *rest), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def subset_index(n: int, limit: int, seed: int = 0) -> np.ndarray:
    """The indices :meth:`fer.data.SplitData.subset` keeps (same rule), to subset aligned targets."""
    return np.sort(np.random.default_rng(seed).permutation(n)[:limit])


def as_model_input(images: np.ndarray) -> np.ndarray:
    """uint8 [N,48,48] faces -> float32 [N,48,48,1] grey levels, the model's input contract."""
    return images.reshape(-1, FACE_SIZE, FACE_SIZE, 1).astype(np.float32)
