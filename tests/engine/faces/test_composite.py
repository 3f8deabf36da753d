"""Paste-back: only the face region changes, the style survives in its centre, and no seam shows."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from portrait_style.config import FaceConfig
from portrait_style.engine.faces.composite import crop_faces, paste_back


def _tinted(crops: np.ndarray) -> np.ndarray:
    """A stand-in style: a strong colour cast that keeps the texture."""
    return np.clip(crops * np.array([0.6, 0.9, 1.3]) + [0, 20, 40], 0, 255).astype(np.uint8)


def _ellipse_radius(transform: np.ndarray, shape, crop_size: int) -> np.ndarray:
    """For every frame pixel, its normalised radius in the blend ellipse (1 = the ellipse's edge)."""
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    m = np.asarray(transform, np.float64)
    u = m[0, 0] * xx + m[0, 1] * yy + m[0, 2] - (crop_size / 2 - 0.5)
    v = m[1, 0] * xx + m[1, 1] * yy + m[1, 2] - (crop_size / 2 - 0.5)
    return np.hypot(u / (0.44 * crop_size), v / (0.48 * crop_size))


def _gradient(image: np.ndarray) -> np.ndarray:
    pixels = image.astype(np.float32)
    gx = cv2.Sobel(pixels, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(pixels, cv2.CV_32F, 0, 1, ksize=3)
    return np.sqrt(gx**2 + gy**2).max(axis=2)


@pytest.fixture(scope="module")
def astronaut_faces(mtcnn, astronaut):
    return mtcnn.detect(astronaut)


def test_crop_faces_gives_one_crop_and_transform_per_face(astronaut, astronaut_faces):
    cfg = FaceConfig(crop_size=128)
    crops, transforms = crop_faces(astronaut, astronaut_faces * 2, cfg)
    assert crops.shape == (2, 128, 128, 3) and crops.dtype == np.uint8
    assert len(transforms) == 2 and transforms[0].shape == (2, 3)
    empty, none = crop_faces(astronaut, [], cfg)
    assert empty.shape == (0, 128, 128, 3) and none == []


def test_pasting_unchanged_crops_back_gives_the_frame_back(astronaut, astronaut_faces):
    cfg = FaceConfig()
    crops, transforms = crop_faces(astronaut, astronaut_faces, cfg)
    out = paste_back(astronaut, crops, transforms, cfg)
    radius = _ellipse_radius(transforms[0], astronaut.shape, cfg.crop_size)
    difference = np.abs(out.astype(int) - astronaut)[radius < 0.6]
    assert difference.mean() < 4.0  # only the resampling blur of crop and paste


def test_only_the_face_region_changes_and_the_style_survives_in_its_centre(astronaut, astronaut_faces):
    cfg = FaceConfig()
    crops, transforms = crop_faces(astronaut, astronaut_faces, cfg)
    styled = _tinted(crops)
    out = paste_back(astronaut, styled, transforms, cfg)
    assert out.shape == astronaut.shape and out.dtype == np.uint8
    radius = _ellipse_radius(transforms[0], astronaut.shape, cfg.crop_size)
    outside = radius > 1.01
    np.testing.assert_array_equal(out[outside], astronaut[outside])
    centre = radius < 0.3
    styled_centre = cv2.warpAffine(styled[0], cv2.invertAffineTransform(transforms[0]), (512, 512))
    assert np.abs(out[centre].astype(int) - astronaut[centre]).mean() > 30
    assert np.abs(out[centre].astype(int) - styled_centre[centre]).mean() < 6


def test_no_seam_shows_where_the_crop_meets_the_frame(astronaut, astronaut_faces):
    def gradients(cfg):
        crops, transforms = crop_faces(astronaut, astronaut_faces, cfg)
        out = paste_back(astronaut, _tinted(crops), transforms, cfg)
        radius = _ellipse_radius(transforms[0], astronaut.shape, cfg.crop_size)
        boundary, inside = (radius > 0.95) & (radius < 1.03), radius < 0.5
        grad = _gradient(out)
        return grad[boundary].mean(), grad[inside].mean(), _gradient(astronaut)[boundary].mean()

    at_boundary, inside, frame_at_boundary = gradients(FaceConfig())
    assert at_boundary < inside
    assert at_boundary < 1.05 * frame_at_boundary  # the composite adds no edge of its own
    # the same measure catches a seam: a hard-edged paste without colour matching fails it
    hard_boundary, hard_inside, _ = gradients(FaceConfig(feather=0.002, color_match=False))
    assert hard_boundary > hard_inside and hard_boundary > 1.3 * frame_at_boundary


def test_colour_matching_pulls_the_blend_band_toward_the_frame(astronaut, astronaut_faces):
    def band_error(color_match):
        cfg = FaceConfig(color_match=color_match)
        crops, transforms = crop_faces(astronaut, astronaut_faces, cfg)
        out = paste_back(astronaut, _tinted(crops), transforms, cfg)
        radius = _ellipse_radius(transforms[0], astronaut.shape, cfg.crop_size)
        band = (radius > 0.65) & (radius < 0.95)
        return np.abs(out[band].astype(float).mean(axis=0) - astronaut[band].mean(axis=0)).max()

    assert band_error(True) < 0.3 * band_error(False)


def test_styled_crops_may_come_back_at_another_resolution(astronaut, astronaut_faces):
    cfg = FaceConfig()
    crops, transforms = crop_faces(astronaut, astronaut_faces, cfg)
    larger = np.stack([cv2.resize(c, (512, 512), interpolation=cv2.INTER_CUBIC) for c in crops])
    out = paste_back(astronaut, larger, transforms, cfg)
    radius = _ellipse_radius(transforms[0], astronaut.shape, cfg.crop_size)
    assert np.abs(out.astype(int) - astronaut)[radius < 0.6].mean() < 4.0


def test_a_face_wholly_outside_the_frame_changes_nothing(astronaut, astronaut_faces):
    cfg = FaceConfig()
    crops, transforms = crop_faces(astronaut, astronaut_faces, cfg)
    away = transforms[0].copy()
    away[:, 2] += 5000  # the crop now comes from far beyond the frame
    out = paste_back(astronaut, _tinted(crops), [away], cfg)
    np.testing.assert_array_equal(out, astronaut)
