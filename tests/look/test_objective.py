"""The look objective's pixel sampling and its per-zone matching."""

from __future__ import annotations

import cv2
import numpy as np
import torch

from portrait_style.look import objective
from portrait_style.look.objective import StylePixels, look_distance, sample_pixels, zone_members

CUT = 3


def _zone_image(n: int, h: int, w: int) -> torch.Tensor:
    """[n, 1, h, w] whose value at each pixel is the zone that pixel lies in (computed independently)."""
    rows = (torch.arange(h) * CUT // h).view(h, 1)
    cols = (torch.arange(w) * CUT // w).view(1, w)
    return (rows * CUT + cols).float().expand(n, 1, h, w)


def test_sampled_pixels_carry_their_frame_zone():
    gen = torch.Generator().manual_seed(0)
    feats, zones = sample_pixels(_zone_image(4, 24, 36), 500, gen, CUT)
    assert feats.shape == (2000, 1) and zones.shape == (2000,)
    assert torch.equal(feats[:, 0].long(), zones)
    assert set(zones.tolist()) == set(range(CUT * CUT))  # every zone drawn from


def test_style_pixels_are_drawn_from_the_asked_zone():
    gen = torch.Generator().manual_seed(1)
    style = StylePixels(*sample_pixels(_zone_image(3, 30, 30), 900, gen, CUT), CUT)
    wanted = torch.randint(0, CUT * CUT, (4000,), generator=gen)
    drawn = style.draw(zone_members(wanted, CUT), gen)
    assert torch.equal(drawn[:, 0].long(), wanted)


def test_a_zone_without_style_pixels_draws_from_the_whole_pool():
    # style frames of 2 x 2 pixels cut 3 x 3: only 4 of the 9 zones hold a style pixel (the top left)
    gen = torch.Generator().manual_seed(3)
    style = StylePixels(*sample_pixels(_zone_image(5, 2, 2), 4, gen, CUT), CUT)
    assert set(style.zones.tolist()) == {0, 1, 3, 4}
    wanted = torch.full((3000,), 8)  # the bottom right zone: empty
    drawn = style.draw(zone_members(wanted, CUT), gen)[:, 0].long()
    assert set(drawn.tolist()) == {0, 1, 3, 4}  # every style pixel can be drawn, from any zone


def _two_tone(n: int, top: float, bottom: float) -> torch.Tensor:
    """[n, 3, 24, 24] grey images, one tone in the top half and another in the bottom half."""
    x = torch.full((n, 3, 24, 24), bottom)
    x[:, :, :12] = top
    return x + 0.02 * torch.randn(x.shape, generator=torch.Generator().manual_seed(n))


def _distance(content: torch.Tensor, style: torch.Tensor, zoned: bool) -> float:
    weights = objective.feature_weights(0.5, "colour,position")
    gen = torch.Generator().manual_seed(2)
    cut = CUT if zoned else 1
    pool = StylePixels(*sample_pixels(objective.pixel_features(style, None, weights), 576, gen, cut), cut)
    feats, zones = sample_pixels(objective.pixel_features(content, None, weights), 256, gen, cut)
    return float(look_distance(feats, zones, pool, 64, gen))


def test_zones_see_colours_in_the_wrong_place():
    # Same colours, same proportions: only where they are differs (light above and dark below, or the
    # other way round). Matching each zone on its own adds the most where the place is wrong.
    right, wrong = _two_tone(8, 0.8, 0.2), _two_tone(8, 0.2, 0.8)
    style = _two_tone(6, 0.8, 0.2)
    joint = _distance(wrong, style, zoned=False), _distance(right, style, zoned=False)
    zoned = _distance(wrong, style, zoned=True), _distance(right, style, zoned=True)
    assert zoned[1] < 0.05 * zoned[0]  # the right place: little left in any zone (sampling)
    assert zoned[0] > 3 * joint[0]  # the zones see the wrong place far more plainly than the joint distance


def _blur(x: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(x, (0, 0), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REFLECT)


def _texture(size: int, seed: int = 0) -> np.ndarray:
    """[size, size] a grey texture with detail at every scale (noise blurred at several sigmas)."""
    rng = np.random.default_rng(seed)
    x = sum(_blur(rng.standard_normal((size, size)).astype(np.float32), f * size) for f in (0.01, 0.03, 0.1))
    return np.clip(0.5 + 0.4 * x, 0.0, 1.0)


def _bands(grey: np.ndarray) -> torch.Tensor:
    return objective.band_energies(torch.from_numpy(grey).expand(1, 3, *grey.shape))[0]


def test_band_energies_see_which_scale_of_contrast_was_boosted():
    x = _texture(128)
    edges = [x] + [_blur(x, f * x.shape[0]) for f in objective.BANDS]
    before = _bands(x)
    for band in range(len(objective.BANDS)):
        change = _bands(x + (edges[band] - edges[band + 1])) - before  # that band's detail doubled
        assert change.argmax().item() == band and change[band].item() > 0.25
        far = [b for b in range(len(objective.BANDS)) if abs(b - band) >= 2]
        assert all(change[b].item() < 0.5 * change[band].item() for b in far)


def test_band_energies_are_frame_relative():
    x = _texture(128, seed=1)
    small = cv2.resize(x, (64, 64), interpolation=cv2.INTER_AREA)  # the same frame at half the size
    change = _bands(small) - _bands(x)
    assert change[1:].abs().max().item() < 0.1  # the finest band loses what the resizing removed


def test_a_flat_image_has_no_band_energy():
    flat = torch.full((2, 3, 32, 48), 0.4)
    assert torch.allclose(objective.band_energies(flat), torch.tensor(1e-3).log().expand(2, 4), atol=1e-4)


def _exposures(n: int, seed: int) -> torch.Tensor:
    """[n, 3, 16, 16] random scenes, each at its own exposure and contrast (as photos of other people)."""
    gen = torch.Generator().manual_seed(seed)
    scenes = torch.rand(n, 3, 16, 16, generator=gen)
    gain = 0.3 + 0.6 * torch.rand(n, 1, 1, 1, generator=gen)
    return (0.05 + gain * scenes + 0.1 * torch.rand(n, 1, 1, 1, generator=gen)).clamp(0, 1)


def _stretched(x: torch.Tensor) -> torch.Tensor:
    """Each image's channels stretched to its own 0..1 (a look that normalises every photo)."""
    lo, hi = x.amin((2, 3), keepdim=True), x.amax((2, 3), keepdim=True)
    return (x - lo) / (hi - lo)


def test_ends_of_range_are_matched_where_the_style_photos_agree_on_them():
    content, others = _exposures(48, 0), _exposures(48, 1)
    assert objective.ends_weight(content, _stretched(others)) == 1.0  # auto levels: matched fully
    graded = (others**0.8 * torch.tensor([1.05, 1.0, 0.9]).view(1, 3, 1, 1)).clamp(0, 1)
    assert objective.ends_weight(content, graded) < 0.3  # a grade leaves them as varied: (nearly) let be
    assert objective.ends_weight(content, others[:1]) == 1.0  # one still: nothing to measure, matched
    stats, full = objective.image_statistics(content, ends=0.0), objective.image_statistics(content)
    assert torch.count_nonzero(stats[:, 6:]) == 0 and torch.equal(stats[:, :6], full[:, :6])


def test_band_slack_of_one_still_borrows_the_other_sets_spread():
    many = torch.tensor([[0.0, 1.0], [0.2, 1.4], [0.4, 1.2], [0.2, 1.0]])
    one = torch.tensor([[0.3, 1.1]])
    slack = objective.band_slack(many, one)
    assert torch.allclose(slack, 2.0 * (many.var(0) / 4 + many.var(0)).sqrt())  # one photo varies as any
    assert torch.equal(objective.band_slack(one, one), torch.zeros(2))  # nothing to measure: none
    assert torch.allclose(objective.band_slack(many, many), 2.0 * (many.var(0) / 2).sqrt())
