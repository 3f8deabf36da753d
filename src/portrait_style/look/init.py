"""Start a look from the two sets' statistics instead of from the identity.

The global colour function is set the way a grader would start: one tone curve mapping the content's
luma distribution onto the style's (quantile matching, the same curve on R, G and B so it adds no cast),
the saturation from the ratio of the two sets' chroma spreads, and a toning curve that moves each tone's
mean chroma to the style's (split toning). Everything image-adaptive and local starts at zero, so the
first step of the distribution matching (look/objective.py) starts from a classical colour transfer
and only has to learn what that misses.

Why: matching distributions by gradient moves a global parameter slowly and noisily when the two sets
also differ in content. Measured 2026-11-29 on London -> Congress black-and-white: from the identity,
600 steps left the output's Lab chroma at 1.4-4.3 (the style set's is 0); from these statistics it is
grey before the first step.
"""

from __future__ import annotations

import torch

from portrait_style.errors import InputError
from portrait_style.look.fields import face_weight, frame_axis
from portrait_style.look.model import LUMA, LookNet

MAX_PIXELS = 200_000  # per set: plenty for quantiles and per-tone means
MIN_REGION_PIXELS = 100  # fewer than this in a region (face or background) across a set: no statistics
FARTHEST_SHARE = 0.15  # of the pixels, taken as the background when faces leave too few far from them
MIN_STEP = 1e-3  # smallest rise between two knots of the tone curve (it stays strictly increasing)
# Priors on what the statistics may ask for, so that tones and colours the content barely has (a mid
# grey in a set of bright backdrops) are not mapped to extremes: the curve's slope stays within
# [1/MAX_SLOPE, MAX_SLOPE] and chroma around each tone's mean is not spread wider than the content's
# (a wider spread in a style set says more about its people and backdrops than about its look).
# Chosen 2026-11-29 from London -> Congress: unbounded, the background's curve had slope 0.01 in the
# mid-tones and saturation 2.7 (necks turned red), the skin's 1.38 (GRID's yellowish faces turned
# orange). Refinement by distribution matching may still go further where it pays.
MAX_SLOPE = 4.0
MAX_SATURATION = 1.0
EDGE = 0.01  # the quantiles taken as the ends of the content's tones (`_tone_curve`)


def _pixels(images: torch.Tensor, generator: torch.Generator, faces: torch.Tensor | None, region: str):
    """[P, 3] random pixels of [N, 3, H, W] images in [0, 1]: all of them, or (with face tables) the
    skin around the faces ("face": within half a face size of a centre: cheeks, forehead, nose, little
    hair) or what is far from every face ("background": where the model's face_weight is below 0.2)."""
    flat = images.permute(0, 2, 3, 1).reshape(-1, 3)
    if region != "all":
        _, _, h, w = images.shape
        gy = frame_axis(h, images).view(1, 1, h, 1)
        gx = frame_axis(w, images).view(1, 1, 1, w)
        weight = face_weight(faces.to(images.dtype), gy, gx)[:, 0]  # exp(-d^2 / 4), d in half face heights
        keep = (weight > 0.94) if region == "face" else (weight < 0.2)  # the skin: d < 0.5
        if region == "background" and int(keep.sum()) < MIN_REGION_PIXELS:
            keep = _farthest(weight)  # faces filling the frame (a close-up still): the least face-like
        if int(keep.sum()) < MIN_REGION_PIXELS:
            raise InputError(f"face-statistics: too few {region} pixels in the images (try 'statistics')")
        flat = flat[keep.reshape(-1)]
    if len(flat) > MAX_PIXELS:
        flat = flat[torch.randperm(len(flat), generator=generator)[:MAX_PIXELS]]
    return flat.double()


def _farthest(weight: torch.Tensor) -> torch.Tensor:
    """The FARTHEST_SHARE of pixels with the least face weight, as a mask like `weight`'s, leaving out
    any on the skin: the backdrop, clothes and hair of frames that faces nearly fill (a head-and-shoulders
    still at 64 pixels kept 40 of 4096 pixels under the usual 0.2)."""
    flat = weight.flatten()
    cut = flat.kthvalue(max(1, int(FARTHEST_SHARE * len(flat)))).values
    return (weight <= cut) & (weight < 0.8)


def _luma(rgb: torch.Tensor) -> torch.Tensor:
    return rgb @ torch.tensor(LUMA, dtype=rgb.dtype)


def _interp(x: torch.Tensor, xp: torch.Tensor, fp: torch.Tensor) -> torch.Tensor:
    """np.interp for torch: piecewise-linear through (xp, fp), constant outside."""
    idx = torch.searchsorted(xp, x.clamp(xp[0], xp[-1])).clamp(1, len(xp) - 1)
    x0, x1, f0, f1 = xp[idx - 1], xp[idx], fp[idx - 1], fp[idx]
    return f0 + (x.clamp(xp[0], xp[-1]) - x0) / (x1 - x0).clamp_min(1e-12) * (f1 - f0)


def _tone_curve(content_luma: torch.Tensor, style_luma: torch.Tensor, knots: int) -> torch.Tensor:
    """Knot values of the quantile-matching curve: input tone k/(K-1) -> the style tone of equal rank,
    continued with slope 1 beyond the tones the content shows (its EDGE and 1 - EDGE quantiles).

    Quantile matching alone holds the curve flat there (every tone darker than the content's darkest
    maps to the style's darkest): a region fitted on a bright backdrop then lifted the dark hair and
    clothes in it to the backdrop's tone, a grey haze round every head. Measured 2026-11-30, one London
    portrait graded teal-orange-film as the style, 24 others as content, `portraits`, 400 steps, against
    the true look: 17.6-17.9 dB on three held-out London portraits (untouched 18.5-19.0) -> 25.0-25.7,
    a webcam portrait 16.2 -> 25.1 (untouched 21.3); the same with faded-warm 21.2-22.5 -> 21.2-22.2,
    webcam 21.0 -> 24.1 (untouched 23.0)."""
    grid = torch.linspace(0, 1, knots, dtype=content_luma.dtype)
    ranks = torch.searchsorted(content_luma.sort().values, grid).double() / len(content_luma)
    values = torch.quantile(style_luma.float(), ranks.clamp(0, 1).float()).double()
    ends = torch.tensor([EDGE, 1.0 - EDGE])
    (lo, hi), (style_lo, style_hi) = (
        torch.quantile(x.float(), ends).double() for x in (content_luma, style_luma)
    )
    tones = grid.double()
    values = torch.where(tones < lo, style_lo - (lo - tones), values)
    values = torch.where(tones > hi, style_hi + (tones - hi), values)
    spacing = 1.0 / (knots - 1)
    for k in range(1, knots):  # increasing, with a bounded slope
        rise = (values[k] - values[k - 1]).clamp(spacing / MAX_SLOPE, spacing * MAX_SLOPE)
        values[k] = values[k - 1] + rise
    return values


def _binned_means(luma: torch.Tensor, values: torch.Tensor, knots: int) -> torch.Tensor:
    """[K, 3] mean of `values` around each knot's tone (triangular weights one knot wide)."""
    centres = torch.linspace(0, 1, knots, dtype=luma.dtype)
    w = (1 - (luma[None, :] - centres[:, None]).abs() * (knots - 1)).clamp_min(0)  # [K, P]
    total = w.sum(1, keepdim=True)
    means = (w @ values) / total.clamp_min(1e-9)
    return torch.where(total > 20, means, torch.zeros_like(means))  # too few pixels: no toning there


@torch.no_grad()
def init_from_statistics(
    net: LookNet,
    content: torch.Tensor,
    style: torch.Tensor,
    generator: torch.Generator,
    content_faces: torch.Tensor | None = None,
    style_faces: torch.Tensor | None = None,
) -> dict:
    """Set `net`'s colour functions from content and style images ([N, 3, H, W] in [0, 1]).

    With face tables for both sets: a one-region look takes the statistics of the skin around the faces
    only; a look with face and background regions takes the face's from there and the background's from
    the pixels far from every face. Returns what was set, per region, for the training log.
    """
    regions = len(net.colour_parameters())  # 1, or 2 with a background function
    names = ("face", "background")[:regions] if regions == 2 or content_faces is not None else ("all",)
    sources = names if content_faces is not None else ("all",) * regions  # which pixels each is fitted on
    report = {}
    for params, name, source in zip(net.colour_parameters(), names, sources, strict=True):
        c = _pixels(content, generator, content_faces, source)
        s = _pixels(style, generator, style_faces, source)
        report[name] = _set_region(net, params, c, s)
    return report


def _set_region(net: LookNet, params, c: torch.Tensor, s: torch.Tensor) -> dict:
    """One colour function: the quantile-matching tone curve, then saturation and toning on top of it."""
    curve_start, curve_steps, toning_param, mix_param = params
    k = net.knots
    curve = _tone_curve(_luma(c), _luma(s), k)
    curve_start.copy_(curve[0].expand(3, 1))
    steps = curve.diff().clamp_min(MIN_STEP)
    curve_steps.copy_(torch.log(torch.expm1(steps)).expand(3, k - 1))  # softplus^-1

    grid = torch.linspace(0, 1, k, dtype=c.dtype)
    u = _interp(c, grid, curve)  # the content after the curve, per channel
    u_luma, s_luma = _luma(u), _luma(s)
    u_chroma, s_chroma = u - u_luma[:, None], s - s_luma[:, None]
    u_mean, s_mean = _binned_means(u_luma, u_chroma, k), _binned_means(s_luma, s_chroma, k)
    # spread of chroma around each tone's mean, in both sets
    u_spread = (u_chroma - _interp_rows(u_luma, grid, u_mean)).pow(2).sum(1).mean().sqrt()
    s_spread = (s_chroma - _interp_rows(s_luma, grid, s_mean)).pow(2).sum(1).mean().sqrt()
    sat = float((s_spread / u_spread.clamp_min(1e-6)).clamp(1e-3, MAX_SATURATION))
    if net.chroma and not net.regions:
        # the last mix scales everything's chroma, toning included: toning brings the mean back
        net.log_saturation.fill_(torch.log(torch.tensor(sat)))
        toning = torch.zeros_like(s_mean) if sat < 0.05 else s_mean / sat - u_mean  # near grey: none
    else:
        # this region's 3x3 mix keeps luma and scales chroma; toning adds the style's mean chroma
        grey = torch.ones(3, 1, dtype=c.dtype) @ torch.tensor(LUMA, dtype=c.dtype).view(1, 3)
        mix_param.copy_((grey + sat * (torch.eye(3, dtype=c.dtype) - grey)).float())
        toning = s_mean - sat * u_mean
    toning = toning.clamp(-0.3, 0.3)
    toning_param.copy_(toning.T.float())
    return {
        "tone_curve": [round(float(v), 3) for v in curve],
        "saturation": round(sat, 3),
        "max_toning": round(float(toning.abs().max()), 3),
    }


def _interp_rows(x: torch.Tensor, xp: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """[P, 3]: each column of `table` ([K, 3]) interpolated at x."""
    return torch.stack([_interp(x, xp, table[:, j]) for j in range(table.shape[1])], 1)
