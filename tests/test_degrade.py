"""fer.evaluation.degrade: each degradation is a pure function with outputs known by construction."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from fer.evaluation import degrade
from fer.evaluation.degrade import KINDS, kind


def _faces(seed: int = 0, n: int = 3) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 48, 48), dtype=np.uint8)


def _const(value: int, n: int = 2) -> np.ndarray:
    return np.full((n, 48, 48), value, np.uint8)


def test_every_kind_has_enough_levels_and_none_first_is_identity() -> None:
    assert len(KINDS) >= 6
    faces = _faces()
    for k in KINDS:
        assert len(k.levels) >= 4, k.name
        assert np.array_equal(k.apply(faces, k.levels[0]), faces), k.name
        assert k.label(k.levels[0]) == "none"


@pytest.mark.parametrize("k", KINDS, ids=lambda k: k.name)
def test_pure_same_shape_and_deterministic(k: degrade.Kind) -> None:
    faces = _faces(1)
    before = faces.copy()
    for level in k.levels:
        a, b = k.apply(faces, level), k.apply(faces, level)
        assert a.shape == faces.shape and a.dtype == np.uint8
        assert np.array_equal(a, b), (k.name, level)
        assert a is not faces
    assert np.array_equal(faces, before), f"{k.name} changed its input"


@pytest.mark.parametrize("k", [kind(n) for n in ("downscale", "blur", "rotation", "jpeg")], ids=lambda k: k.name)
def test_a_flat_grey_face_stays_flat(k: degrade.Kind) -> None:
    """Resampling, blurring, rotating (reflected borders) and compressing a constant image keep it constant."""
    for level in k.levels:
        out = k.apply(_const(128), level).astype(int)
        assert np.abs(out - 128).max() <= 1, (k.name, level)


def test_downscale_averages_fine_stripes_to_grey() -> None:
    stripes = np.zeros((1, 48, 48), np.uint8)
    stripes[:, :, ::2] = 254  # one-pixel stripes: any 2x area average is their mean, 127
    for px in (24, 12):
        assert np.abs(degrade.downscale(stripes, px).astype(int) - 127).max() <= 1
    assert np.array_equal(degrade.downscale(stripes, 48), stripes)


def test_blur_softens_an_edge_symmetrically() -> None:
    edge = np.zeros((1, 48, 48), np.uint8)
    edge[:, :, 24:] = 200
    out = degrade.blur(edge, 2).astype(int)[0, 20]
    assert out[0] == 0 and out[-1] == 200  # far from the edge: untouched
    assert 60 < out[23] < 100 and 100 < out[24] < 140  # the two sides of the step meet near half-way
    assert out[23] + out[24] == pytest.approx(200, abs=2)
    assert np.all(np.diff(out) >= 0)


def test_jpeg_error_grows_as_quality_drops() -> None:
    faces = cv2.GaussianBlur(_faces(2, 4), (0, 0), 1.5)  # face-like: smooth, not white noise
    errors = [np.abs(degrade.jpeg(faces, q).astype(int) - faces).mean() for q in (90, 50, 10, 5)]
    assert errors == sorted(errors) and errors[0] > 0
    assert np.array_equal(degrade.jpeg(faces, None), faces)


def test_rotation_by_90_degrees_is_rot90() -> None:
    faces = _faces(3)
    assert np.array_equal(degrade.rotate(faces, 90), np.rot90(faces, axes=(1, 2)))  # counter-clockwise


def test_occlusion_blacks_out_exactly_its_band() -> None:
    faces = _const(200)
    eyes, mouth, both = (degrade.occlude(faces, p) for p in ("eyes", "mouth", "both"))
    (e0, e1), (m0, m1) = degrade.EYES_ROWS, degrade.MOUTH_ROWS
    assert (eyes[:, e0:e1] == 0).all() and (eyes[:, :e0] == 200).all() and (eyes[:, e1:] == 200).all()
    assert (mouth[:, m0:m1] == 0).all() and (mouth[:, :m0] == 200).all() and (mouth[:, m1:] == 200).all()
    assert np.array_equal(both, np.minimum(eyes, mouth))
    with pytest.raises(ValueError, match="unknown occlusion"):
        degrade.occlude(faces, "nose")


def test_brightness_adds_and_clips() -> None:
    faces = np.array([[[10, 100, 230]]], np.uint8)
    assert degrade.brightness(faces, 40).tolist() == [[[50, 140, 255]]]
    assert degrade.brightness(faces, -40).tolist() == [[[0, 60, 190]]]


def test_contrast_scales_around_each_faces_mean() -> None:
    faces = np.array([[[0, 200]], [[100, 100]]], np.uint8)
    assert degrade.contrast(faces, 0.5).tolist() == [[[50, 150]], [[100, 100]]]


def test_form_equalised_is_opencvs_equalisation_and_flat_halves_contrast() -> None:
    faces = _faces(4, 2) // 2 + 40  # low contrast, as the original CSV pixels
    eq = degrade.form(faces, "equalised")
    for f, e in zip(faces, eq):
        assert np.array_equal(e, cv2.equalizeHist(f))
    assert np.array_equal(degrade.form(faces, "flat"), degrade.contrast(faces, 0.5))
    assert degrade.form(faces, "CLAHE").std() > faces.std()
    with pytest.raises(ValueError, match="unknown form"):
        degrade.form(faces, "sepia")


def test_unknown_kind_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown degradation 'fog'"):
        kind("fog")
