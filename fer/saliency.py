"""Grad-CAM for one face: which regions of the 48x48 crop drove the predicted emotion.

Uses the float Keras model (the TFLite runtime has no gradients), loaded lazily by the classifier.
"""

from __future__ import annotations

import threading

import cv2
import numpy as np

from fer.classifier import Classifier
from fer.labels import FACE_SIZE

_lock = threading.Lock()


def _grad_model(classifier: Classifier):  # noqa: ANN202 - keras.Model
    """A model returning (last conv feature map, logits), built once per classifier."""
    import keras

    with _lock:  # stored on the classifier: it lives and dies with the model it explains
        cached = getattr(classifier, "_grad_cam_model", None)
        if cached is None:
            model = classifier.keras_model
            last_conv = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)][-1]
            cached = keras.Model(model.inputs, [last_conv.output, model.outputs[0]])
            classifier._grad_cam_model = cached
    return cached


def grad_cam(classifier: Classifier, crop: np.ndarray, class_index: int | None = None) -> np.ndarray:
    """Heat map in [0, 1], shape 48x48, for ``class_index`` (default: the predicted class)."""
    import tensorflow as tf

    x = tf.convert_to_tensor(crop.reshape(1, FACE_SIZE, FACE_SIZE, 1).astype(np.float32))
    with tf.GradientTape() as tape:
        features, logits = _grad_model(classifier)(x, training=False)
        index = int(tf.argmax(logits[0])) if class_index is None else class_index
        score = logits[:, index]
    grads = tape.gradient(score, features)
    weights = tf.reduce_mean(grads, axis=(1, 2))  # one weight per channel
    cam = tf.nn.relu(tf.reduce_sum(features * weights[:, None, None, :], axis=-1))[0].numpy()
    cam = cv2.resize(cam, (FACE_SIZE, FACE_SIZE), interpolation=cv2.INTER_CUBIC)
    peak = float(cam.max())
    return np.clip(cam / peak, 0.0, 1.0) if peak > 0 else np.zeros_like(cam)


def saliency_overlay(
    classifier: Classifier, crop: np.ndarray, class_index: int | None = None, size: int = 192, alpha: float = 0.45
) -> np.ndarray:
    """The crop enlarged to ``size`` with the Grad-CAM heat map blended on top (RGB uint8)."""
    heat = grad_cam(classifier, crop, class_index)
    heat = cv2.resize(heat, (size, size), interpolation=cv2.INTER_CUBIC)
    colored = cv2.cvtColor(cv2.applyColorMap(np.uint8(255 * np.clip(heat, 0, 1)), cv2.COLORMAP_JET), cv2.COLOR_BGR2RGB)
    face = cv2.cvtColor(cv2.resize(crop, (size, size), interpolation=cv2.INTER_NEAREST), cv2.COLOR_GRAY2RGB)
    return cv2.addWeighted(face, 1.0 - alpha, colored, alpha, 0.0)
