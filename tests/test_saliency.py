"""Occlusion saliency on the served LiteRT model: coverage, the real portrait, and a deletion check on FER2013."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from fer.classifier import Classifier
from fer.labels import FACE_SIZE
from fer.pipeline import analyze
from fer.saliency import PATCH, STRIDE, occlusion_map, occlusion_masks, saliency_overlay
from scripts.bench_saliency import deletion_drops


@pytest.mark.parametrize(("patch", "stride"), [(PATCH, STRIDE), (12, 5), (48, 8)])
def test_patches_cover_every_pixel(patch: int, stride: int) -> None:
    masks = occlusion_masks(patch, stride)
    assert masks.shape[1:] == (FACE_SIZE, FACE_SIZE)
    assert (masks.sum(axis=(1, 2)) == patch * patch).all()  # whole squares, none clipped at the edge
    assert masks.any(axis=0).all()  # 12 px at stride 5 needs the extra patch flush with the edge
    assert len({m.tobytes() for m in masks}) == len(masks)


def test_portrait_face_map(classifier: Classifier, astronaut_path) -> None:
    face = analyze(cv2.cvtColor(cv2.imread(str(astronaut_path)), cv2.COLOR_BGR2RGB), classifier)[0]
    heat = occlusion_map(classifier, face.crop)
    assert heat.shape == (FACE_SIZE, FACE_SIZE) and heat.dtype == np.float32
    assert heat.min() >= 0.0 and heat.max() == pytest.approx(1.0) and heat.std() > 0.01
    # the default class is the predicted one: the same map as asking for it by index
    np.testing.assert_array_equal(heat, occlusion_map(classifier, face.crop, face.label_index))
    overlay = saliency_overlay(classifier, face.crop, face.label_index, size=144)
    assert overlay.shape == (144, 144, 3) and overlay.dtype == np.uint8


def test_map_points_at_what_the_model_uses(classifier: Classifier, public_test) -> None:
    """Blurring a map's top pixels (not how the map was made) costs the predicted class far more than random ones."""
    rng = np.random.default_rng(0)
    faces = public_test.images[rng.choice(len(public_test.images), 24, replace=False)]
    salient, random = [], []
    for crop in faces:
        index = int(np.argmax(classifier.predict_proba(crop, tta=False)[0]))
        salient.append(deletion_drops(classifier, crop, index, occlusion_map(classifier, crop, index), rng))
        random.append(deletion_drops(classifier, crop, index, rng.random(crop.shape), rng))
    salient_mean, random_mean = np.mean(salient, axis=0), np.mean(random, axis=0)
    assert (salient_mean > 2 * random_mean).all(), (salient_mean, random_mean)
