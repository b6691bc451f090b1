"""Occlusion saliency for one face: which regions of the 48x48 crop drove the predicted emotion.

Each copy of the crop has one square patch hidden (filled with the crop's mean grey); the drop in the
predicted class's probability is credited to the pixels under the patch, averaged over the patches
that cover each pixel. All copies go through the served LiteRT classifier in one batched call, so
saliency needs no gradients, no Keras model and no TensorFlow in the server process (with
TensorFlow loaded, the webcam page's pylibsrtp segfaults the whole server).

Patch 8 px at stride 4 (121 occluded copies: one interpreter call at batch 128): 8 px is a sixth of
the crop, about one eye or a mouth corner on FER2013's registered faces, so a patch hides one facial
feature; stride 4 overlaps 4 patches on every inner pixel. Chosen by a deletion test on 200 PublicTest
faces (``scripts/bench_saliency.py --quality``): blurring the map's top 5% of pixels lowered the
predicted class's probability by 0.34 on average (random pixels: 0.04; 12 px patches: 0.29; 16 px:
0.18; stride 2: 0.35 at 4x the inferences; the former Grad-CAM on the last 3x3 conv layer: 0.09).
"""

from __future__ import annotations

import cv2
import numpy as np

from fer.classifier import Classifier
from fer.labels import FACE_SIZE

PATCH = 8
STRIDE = 4


def _offsets(patch: int, stride: int) -> list[int]:
    """Patch corners along one axis: every ``stride`` px, plus the last one flush with the edge."""
    last = FACE_SIZE - patch
    return sorted({*range(0, last + 1, stride), last})


def occlusion_masks(patch: int = PATCH, stride: int = STRIDE) -> np.ndarray:
    """Boolean masks [N, 48, 48], one square patch set in each; together they cover every pixel."""
    offsets = _offsets(patch, stride)
    masks = np.zeros((len(offsets) ** 2, FACE_SIZE, FACE_SIZE), bool)
    for i, (y, x) in enumerate((y, x) for y in offsets for x in offsets):
        masks[i, y : y + patch, x : x + patch] = True
    return masks


def occlusion_map(
    classifier: Classifier,
    crop: np.ndarray,
    class_index: int | None = None,
    patch: int = PATCH,
    stride: int = STRIDE,
) -> np.ndarray:
    """Heat map in [0, 1], shape 48x48: how much hiding each region lowers ``class_index``'s probability.

    ``class_index`` defaults to the class predicted for the crop. Regions whose hiding raises the
    probability get 0: the map shows what supports the prediction, not what argues against it.
    """
    crop = np.asarray(crop, np.uint8).reshape(FACE_SIZE, FACE_SIZE)
    masks = occlusion_masks(patch, stride)
    fill = np.uint8(round(float(crop.mean())))
    batch = np.concatenate([crop[None], np.where(masks, fill, crop[None])])  # row 0: the crop itself
    probs = classifier.predict_proba(batch, tta=False)
    index = int(np.argmax(probs[0])) if class_index is None else int(class_index)
    drops = np.maximum(probs[0, index] - probs[1:, index], 0.0)
    heat = np.tensordot(drops, masks, axes=1) / masks.sum(axis=0)
    peak = float(heat.max())
    return (heat / peak).astype(np.float32) if peak > 0 else np.zeros_like(heat, np.float32)


def saliency_overlay(
    classifier: Classifier, crop: np.ndarray, class_index: int | None = None, size: int = 192, alpha: float = 0.45
) -> np.ndarray:
    """The crop enlarged to ``size`` with the occlusion heat map blended on top (RGB uint8).

    The map is softened by a blur of half a stride first, so the patch grid does not show as blocks.
    """
    heat = cv2.GaussianBlur(occlusion_map(classifier, crop, class_index), (0, 0), STRIDE / 2)
    heat = cv2.resize(heat / max(float(heat.max()), 1e-6), (size, size), interpolation=cv2.INTER_CUBIC)
    colored = _colour(heat)
    face = cv2.cvtColor(cv2.resize(crop, (size, size), interpolation=cv2.INTER_NEAREST), cv2.COLOR_GRAY2RGB)
    return cv2.addWeighted(face, 1.0 - alpha, colored, alpha, 0.0)


def _colour(heat: np.ndarray) -> np.ndarray:
    """Heat in [0, 1] as RGB: blue (hiding it changes nothing) through green and yellow to red (lowers it most)."""
    return cv2.cvtColor(cv2.applyColorMap(np.uint8(255 * np.clip(heat, 0, 1)), cv2.COLORMAP_JET), cv2.COLOR_BGR2RGB)


def saliency_legend(width: int = 144, height: int = 12) -> np.ndarray:
    """The overlay's colour scale as an RGB strip, 0 on the left to 1 on the right (the page's legend)."""
    ramp = np.tile(np.linspace(0.0, 1.0, width, dtype=np.float32), (height, 1))
    return _colour(ramp)
