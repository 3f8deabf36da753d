"""A levels stretch: each image's own darkest and brightest colours moved towards a learned range, by a
learned amount, before the look's colour functions (the look model's `levels` part).

A look that normalises each photo (auto levels, auto white balance, exposure matching) maps the same
scene shot brighter, darker or warmer to nearly the same output. The stats MLP of look/model.py can learn
such a correction only over the ranges its training photos span, and extrapolates it poorly to photos
outside them (other backdrops, other light); this part has the correction's form built in, so what it
learns (how much, and to which range) applies to any photo in the same way. Measured on the look
benchmark's auto-levels look (`benchmarks/look_benchmark.py --setting cpu-look`, seed 0, 2026-11-30;
London held-out / pixabay / all, dB): without it 31.60 / 22.74 / 28.58; with it (and each image's 2nd
and 98th percentiles among the matched features, look/objective.py) 33.10 / 25.16 / 30.38, the learned
amount 0.47. The looks that do not normalise left it off (amount <= 0: teal-orange-film, faded-warm)
or nearly (0.08-0.10). Forced fully on, auto-levels reached 31.01 in a scratch run: the amount is
learned, not chosen, so a look that does not normalise is not pushed into doing it.

Per image and channel, on the frame's grid cells (G x G cell means, values 0..1): low and high are the
means of the darkest and brightest 1 % of the cells (TopK: a cheap stand-in for percentiles; a mean
of a few cells moves less than one cell's extreme when something bright enters the frame); the stretch
t(x) = A x + B moves [low, high] to the learned [target low, target high] by the amount a (0: off, 1:
the full stretch):

    A = 1 - a + a r,   B = a (target centre - centre r),   r = target span / span

The colour functions are read at t(mu) for a block whose mean is mu (folded into their own levels
a x + b, so the blocks read them as without a stretch; `fold_stretch`).
The rest of the look (the statistics its weights adapt to, the grid's context) sees the stretched
frame too, so at the full stretch the whole look is a function of the normalised photo.
"""

from __future__ import annotations

import torch
from torch import nn

# a (nearly) flat channel is stretched as if it spanned this much: a gain of at most 10x to 0.1..0.9
MIN_SPAN = 20.0 / 255.0
EXTREME = 0.01  # share of the grid cells averaged for the low and the high ends
# Adam moves each weight by about the learning rate per step; the amount runs over 0..1 while the other
# weights move by hundredths, so it is kept as a tenth of its value (scratch runs of auto-levels: the
# amount unscaled ended at 0.10 and 29.45 dB; scaled, 0.28 and 30.43). Clamped to 0..1: a look that
# pushes it below 0 has the stretch off (and it stays off: no gradient there)
AMOUNT_SCALE = 10.0


class Levels(nn.Module):
    """The learned part: amount (starts off) and target range (starts at 0.1..0.9 of each channel)."""

    def __init__(self):
        super().__init__()
        self.amount = nn.Parameter(torch.zeros(1))
        self.target = nn.Parameter(torch.tensor([[0.1, 0.1, 0.1], [0.9, 0.9, 0.9]]))

    def forward(self, cells: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """cells [N, 3, G, G] (values 0..1) -> A, B [N, 3] of t(x) = A x + B (x in 0..1)."""
        flat = cells.flatten(2)
        k = max(1, int(EXTREME * flat.shape[2]))
        low = -torch.topk(-flat, k, dim=2).values.mean(2)
        high = torch.topk(flat, k, dim=2).values.mean(2)
        span = (high - low).clamp_min(MIN_SPAN)
        target_low, target_high = self.target[0], self.target[1]
        r = (target_high - target_low).clamp_min(MIN_SPAN) / span
        a = (self.amount * AMOUNT_SCALE).clamp(0.0, 1.0)
        gain = 1.0 - a + a * r
        offset = a * ((target_low + target_high) - (low + high) * r) * 0.5
        return gain, offset


def stretched_cells(cells, cells_sq, spread, gain, offset) -> tuple[torch.Tensor, ...]:
    """The grid cells [N, 3, G, G], their mean squares and their spread as the stretched frame's: t = A x
    + B per channel (A > 0, B [N, 3] from `Levels`), E[t^2] = A^2 E[x^2] + 2 A B E[x] + B^2, spread
    A times the spread (scaled, not recomputed: a root's slope at 0 is infinite, NaN gradients)."""
    a, b = gain[:, :, None, None], offset[:, :, None, None]
    return a * cells + b, a * a * cells_sq + 2.0 * a * b * cells + b * b, a * spread


def fold_stretch(weights: tuple, gain, offset) -> tuple:
    """An image's colour function (look/colour.py: levels a, b, curves, toning, mix) with the stretch
    folded into its levels: a (A x + B) + b = (a A) x + (a B + b). The blocks then read the tables at
    their own colour, with the slope through the stretch included: no work on the blocks (measured at
    1080p through ONNX Runtime: the stretch applied to the blocks' colours instead cost 7.6 ms)."""
    a, b, *rest = weights
    n = gain.shape[0]
    gain, offset = gain.view(n, 3, 1, 1), offset.view(n, 3, 1, 1)
    return (a * gain, a * offset + b, *rest)
