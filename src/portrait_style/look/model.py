"""The look model: a photographic look as a function of a pixel's colour, its surroundings, its place in
the frame and its place relative to the faces, with weights adapted to each image.

What a photographer's grade, a film stock or a lighting set-up does to a portrait is mostly such a
function (tone curve, split toning, white balance, vignette, glow, local contrast, a key light on the
face). A model that can only express such functions cannot move or redraw anything in the picture, can be
fitted from unpaired examples by matching distributions (look/objective.py), and is cheap enough to
run on whole frames at full resolution.

How a frame is computed (uint8 RGB NHWC in and out, like the generator, so every backend runs both):

    blocks   the frame's 4x4-pixel block means mu (1/16 of the pixels)
    stats    global statistics of the frame -> a small MLP -> this image's own colour-function weights
             (levels a*x+b, three tone curves, a luma-driven toning curve, a 3x3 mix) and an embedding
    grid     a fixed G x G grid over the frame (frame-relative: the same at any size): cell colour,
             local spread, two coarser context scales, position, face position, the embedding
             -> 1x1 / 3x3 convolutions -> a per-channel gain and offset, upsampled to the blocks
    colour   each block: y = gain * colour(mu) + offset, and the slope s = d y / d mu (per channel)
    pixels   out = y + s * (x - mu): a first-order expansion of the look around each block's mean,
             so detail finer than a block keeps its contrast; the maps s and y - s * mu reach full size
             bilinearly (to half size) and by repetition, so the full-resolution work is one
             multiply-add per value (exact for a look that is locally linear within a few pixels)

The exported graph uses 4-D Resize (bilinear and nearest), AveragePool, Conv, Gemm, MatMul, Gather,
CumSum, If (from the exporter's padding) and element-wise and shape ops: no 5-D grid_sample. All are in
TensorRT's ONNX operator list; the graph has not been built with TensorRT (none is installed here).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from portrait_style.engine.faces.geometry import FACE_COLUMNS, MAX_FACES

ARCH_NAME = "portrait-look-v1"
BLOCK = 4  # pixels per block side; input height and width must be multiples of it
LUMA = (0.2126, 0.7152, 0.0722)  # Rec. 709 weights on gamma-encoded values, as graders' luma
N_STATS = 15  # per channel: mean, std, low and high cell means; mean luma, luma std, luma range
FACE_FEATURES = 4


def _pwl(knots: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Piecewise-linear curves through knots spaced uniformly over [0, 1], continued linearly outside
    it (clipping happens once, per pixel, at the very end), and their slopes.

    knots: [N, C, K] (one curve per image and channel); x: [N, C, h, w] -> value and slope, both [N, C, h, w].
    """
    n, c, k = knots.shape
    t = x * (k - 1)
    idx = t.floor().clamp(0, k - 2)
    frac = t - idx
    flat = knots.reshape(-1)
    base = (torch.arange(n * c, device=x.device) * k).view(n, c, 1, 1)
    i0 = (idx.long() + base).reshape(-1)
    v0 = flat[i0].view_as(x)
    v1 = flat[i0 + 1].view_as(x)
    return v0 + frac * (v1 - v0), (v1 - v0) * (k - 1)


def frame_axis(n: int, like: torch.Tensor) -> torch.Tensor:
    """[n] centres of n equal cells across the frame, in -1..1 (frame-relative coordinates)."""
    return (torch.arange(n, dtype=like.dtype, device=like.device) + 0.5) * (2.0 / n) - 1.0


def face_weight(faces: torch.Tensor, gy: torch.Tensor, gx: torch.Tensor) -> torch.Tensor:
    """[N, 1, h, w] share of the face region (regions looks): 1 on a face, 0 far from every face.

    exp(-d^2 / 4) summed over the faces (at most 1), d in half face heights: 0.8 at the face's edge, 0.37
    a face height away (hair, neck), 0.1 at one and a half. Only this one field, not face_field's four:
    it is computed for every block of every frame.
    """
    cx, cy, size, valid = (faces[..., i, None, None] for i in range(FACE_COLUMNS))  # [N, F, 1, 1]
    scale = size.clamp_min(0.02)
    d2 = ((gx - cx) / scale) ** 2 + ((gy - cy) / scale) ** 2
    return (torch.exp(-0.25 * d2) * valid).sum(1, keepdim=True).clamp(max=1.0)


def face_field(faces: torch.Tensor, gy: torch.Tensor, gx: torch.Tensor) -> torch.Tensor:
    """[N, FACE_FEATURES, h, w]: a soft field around each face and its offsets, summed over the faces.

    faces: [N, F, 4] tables (engine/faces/geometry.py); gy [1, 1, h, 1], gx [1, 1, 1, w] in -1..1.
    """
    cx, cy, size, valid = (faces[..., i, None, None] for i in range(FACE_COLUMNS))  # [N, F, 1, 1]
    scale = size.clamp_min(0.02)
    du = (gx - cx) / scale
    dv = (gy - cy) / scale
    d2 = du * du + dv * dv
    near = torch.exp(-0.5 * d2) * valid
    wide = torch.exp(-0.125 * d2) * valid
    return torch.stack([near, wide, du * wide, dv * wide], dim=2).sum(1)


def _zero_linear(cin: int, cout: int) -> nn.Linear:
    layer = nn.Linear(cin, cout)
    nn.init.zeros_(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


class LookNet(nn.Module):
    def __init__(
        self,
        grid: int = 32,
        hidden: int = 32,
        knots: int = 9,
        embed: int = 8,
        uses_faces: bool = False,
        max_faces: int = MAX_FACES,
        context: bool = True,
        chroma: bool = False,
        local: bool = True,
        regions: bool = False,
        adaptive: bool = True,
    ):
        super().__init__()
        self.arch_args = {
            "grid": grid, "hidden": hidden, "knots": knots, "embed": embed,
            "uses_faces": uses_faces, "max_faces": max_faces, "context": context, "chroma": chroma,
            "local": local, "regions": regions, "adaptive": adaptive,
        }  # fmt: skip
        if regions and not uses_faces:
            raise ValueError("a look with face and background regions needs uses_faces")
        self.grid, self.knots, self.uses_faces, self.max_faces = grid, knots, uses_faces, max_faces
        # context: the local changes may depend on the colours around a pixel (glow, local contrast).
        # Without it they depend only on position, faces and the image's statistics: smooth fields of
        # light that cannot make halos, the safer choice when the style photos are of other scenes.
        self.context = context
        # chroma: a last per-image 3x3 mix that keeps luma and scales chroma by exp(log_saturation): a
        # greyscale look is one parameter away (its detail, toning and local colour lose their chroma too)
        self.chroma = chroma
        # local: the grid's per-place gain and offset. Without it the look is one colour function per
        # image, the same all over the frame: nothing can appear around a head that was not in the
        # colours already (the choice for style photos framed unlike the content: other backdrops)
        self.local = local
        self.log_saturation = nn.Parameter(torch.zeros(1)) if chroma else None
        self.register_buffer("luma", torch.tensor(LUMA).view(1, 3, 1, 1), persistent=False)
        # base colour function (identity at the start), adapted per image by the stats MLP. Tone curves
        # are monotone, as any a photographer would draw: a start value plus positive steps.
        step = torch.tensor(1.0 / (knots - 1))
        self.curve_start = nn.Parameter(torch.zeros(3, 1))
        self.curve_steps = nn.Parameter(torch.full((3, knots - 1), float(step.expm1().log())))  # softplus^-1
        self.toning = nn.Parameter(torch.zeros(3, knots))  # colour offset as a function of luma
        self.mix = nn.Parameter(torch.eye(3))
        # regions: a second colour function for the background, blended with the first (the face's) by
        # a soft field around each face: light and colour that differ between a face and its backdrop
        # (a key light, a darker bluer backdrop) without a halo, because each region keeps a full tone
        # curve (dark hair stays dark) instead of one gain and offset for everything near a head
        self.regions = regions
        # adaptive: the colour functions move with each image's statistics (auto levels, exposure);
        # without it every frame gets the same functions: no flicker from that, and nothing to learn
        # from style photos whose content, not look, differs from frame to frame
        self.adaptive = adaptive
        if regions:
            self.bg_curve_start = nn.Parameter(self.curve_start.detach().clone())
            self.bg_curve_steps = nn.Parameter(self.curve_steps.detach().clone())
            self.bg_toning = nn.Parameter(self.toning.detach().clone())
            self.bg_mix = nn.Parameter(self.mix.detach().clone())
        n_adapt = 6 + 3 + 3 * (knots - 1) + 3 * knots + 9 + (1 if chroma else 0)
        self.stats_mlp = nn.Sequential(
            nn.Linear(N_STATS, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU()
        )
        self.adapt = _zero_linear(hidden, n_adapt)
        self.embed = nn.Linear(hidden, embed)
        if not local:
            return
        # grid network: cell features -> gain and offset per channel
        n_in = 12 + 3 + (FACE_FEATURES if uses_faces else 0) + embed
        self.grid_net = nn.Sequential(
            nn.Conv2d(n_in, hidden, 1), nn.ReLU(),
            nn.Conv2d(hidden, hidden, 3, padding=1, padding_mode="replicate"), nn.ReLU(),
            nn.Conv2d(hidden, hidden, 1), nn.ReLU(),
        )  # fmt: skip
        self.grid_out = nn.Conv2d(hidden, 6, 1)
        nn.init.zeros_(self.grid_out.weight)
        nn.init.zeros_(self.grid_out.bias)

    # -- the pieces ----------------------------------------------------------------------------------
    def _stats(self, cells: torch.Tensor, cells_sq: torch.Tensor) -> torch.Tensor:
        """[N, N_STATS] global statistics from the grid cells (frame-relative, cheap, smooth in time)."""
        mean = cells.mean(dim=(2, 3))
        std = (cells_sq.mean(dim=(2, 3)) - mean * mean).clamp_min(1e-6).sqrt()
        flat = cells.flatten(2)
        low, high = flat.amin(dim=2), flat.amax(dim=2)
        luma = (cells * self.luma).sum(1).flatten(1)
        lum = torch.stack([luma.mean(1), luma.std(1), luma.amax(1) - luma.amin(1)], dim=1)
        return torch.cat([mean, std, low, high, lum], dim=1) * 2.0 - 1.0

    def colour_parameters(self) -> list[tuple[nn.Parameter, ...]]:
        """(curve start, curve steps, toning, mix) of each region: the face's (or the only one) first."""
        face = (self.curve_start, self.curve_steps, self.toning, self.mix)
        if not self.regions:
            return [face]
        return [face, (self.bg_curve_start, self.bg_curve_steps, self.bg_toning, self.bg_mix)]

    def _colour_weights(self, delta: torch.Tensor | None, n: int) -> list[tuple[torch.Tensor, ...]]:
        """Each region's colour function for each of n images: its base plus the image's adaptation."""
        k = self.knots
        sizes = [3, 3, 3, 3 * (k - 1), 3 * k, 9]
        if delta is None:  # not adaptive: the same functions for every image
            delta = self.mix.new_zeros(n, sum(sizes))
        gain, bias, d0, ds, dt, dm = torch.split(delta[:, : sum(sizes)], sizes, dim=1)
        out = []
        for curve_start, curve_steps, base_toning, base_mix in self.colour_parameters():
            start = curve_start + d0.view(n, 3, 1)
            steps = F.softplus(curve_steps + ds.view(n, 3, k - 1))
            curves = torch.cat([start, start + torch.cumsum(steps, dim=2)], dim=2)
            toning = base_toning + dt.view(n, 3, k)
            mix = base_mix + dm.view(n, 3, 3)
            out.append((torch.exp(gain).view(n, 3, 1, 1), bias.view(n, 3, 1, 1), curves, toning, mix))
        return out

    def _face_weight(self, faces: torch.Tensor | None, like: torch.Tensor) -> torch.Tensor:
        n, _, h, w = like.shape
        if faces is None:
            return like.new_zeros(n, 1, h, w)
        return face_weight(faces, frame_axis(h, like).view(1, 1, h, 1), frame_axis(w, like).view(1, 1, 1, w))

    def _grid_coefficients(self, mu: torch.Tensor, faces: torch.Tensor | None):
        """Per-channel gain and offset on the block grid, and the statistics embedding h (None when
        neither the grid nor the adaptation needs it: then none of this runs)."""
        if not self.local and not self.adaptive:
            return 1.0, 0.0, None
        g = self.grid
        t = F.interpolate(mu, size=(4 * g, 4 * g), mode="bilinear", align_corners=False)
        cells = F.avg_pool2d(t, 4)
        cells_sq = F.avg_pool2d(t * t, 4)
        h = self.stats_mlp(self._stats(cells, cells_sq))
        if not self.local:
            return 1.0, 0.0, h
        spread = (cells_sq - cells * cells).clamp_min(0.0).sqrt()
        ctx1 = F.avg_pool2d(cells, 5, stride=1, padding=2, count_include_pad=False)
        ctx2 = F.interpolate(
            F.avg_pool2d(cells, max(1, g // 4)), size=(g, g), mode="bilinear", align_corners=False
        )
        n = mu.shape[0]
        axis = frame_axis(g, mu)
        gy, gx = axis.view(1, 1, g, 1), axis.view(1, 1, 1, g)
        gy_, gx_ = gy.expand(n, 1, g, g), gx.expand(n, 1, g, g)
        feats = [cells, spread, ctx1, ctx2, gx_, gy_, gx_ * gx_ + gy_ * gy_]
        if self.uses_faces:
            if faces is None:
                faces = mu.new_zeros(n, self.max_faces, FACE_COLUMNS)
            feats.append(face_field(faces, gy, gx))
        feats.append(self.embed(h).view(n, -1, 1, 1).expand(n, -1, g, g))
        feats[:4] = [f * 2.0 - 1.0 for f in feats[:4]]  # colours centred like the other features
        if not self.context:
            feats[:4] = [torch.zeros_like(f) for f in feats[:4]]
        coef = self.grid_out(self.grid_net(torch.cat(feats, 1)))
        coef = F.interpolate(coef, size=mu.shape[2:], mode="bilinear", align_corners=False)
        return torch.exp(coef[:, :3]), coef[:, 3:], h

    def _chroma_mix(self, delta: torch.Tensor | None) -> torch.Tensor:
        """[N or 1, 3, 3]: keeps luma (ones x luma weights) and scales what is left by the saturation."""
        log_sat = self.log_saturation + (delta[:, -1] if delta is not None else 0.0)
        sat = torch.exp(log_sat).view(-1, 1, 1)
        grey = torch.ones(3, 1, dtype=sat.dtype, device=sat.device) @ self.luma.view(1, 3)
        eye = torch.eye(3, dtype=sat.dtype, device=sat.device)
        return grey + sat * (eye - grey)

    def _colour(self, mu: torch.Tensor, weights) -> tuple[torch.Tensor, torch.Tensor]:
        """The colour function on block means, and its per-channel slope."""
        a, b, curves, toning, mix = weights
        lifted = a * mu + b
        u, du = _pwl(curves, lifted)
        luma = (u * self.luma).sum(1, keepdim=True)
        tone, _ = _pwl(toning, luma.expand(-1, 3, -1, -1))
        y = torch.matmul(mix, u.flatten(2)).view_as(u) + tone
        diag = torch.diagonal(mix, dim1=1, dim2=2).view(-1, 3, 1, 1)
        # toning shifts a region's colour by its luma; the detail inside a block follows the curves only
        slope = a * du * diag
        return y, slope

    def _look(self, x: torch.Tensor, faces: torch.Tensor | None, offset: float) -> torch.Tensor:
        """[N, 3, H, W] values 0..255 -> the look, 0..255 (+ offset), unclipped.

        out = y + s * (x - mu) = s * x + (y - s * mu). Both maps are brought to half resolution
        bilinearly, then to full resolution by repetition, so every 2x2 group of pixels shares them:
        neighbouring blocks blend instead of meeting at an edge, and the full-resolution work is one
        multiply and one add per value. Measured at 1080p through ONNX Runtime (2 cores): a bilinear
        upsample of the maps straight to full resolution took more than half of the whole graph; a graph
        in NHWC that broadcast the half-size maps over a [N, H/2, 2, W/2, 2, 3] view (no full-size maps,
        no transposes) took 74 ms against this one's 42 (2026-11-29, benchmarks/bench_look.py).
        """
        mu = F.avg_pool2d(x, BLOCK) * (1.0 / 255.0)  # [N, 3, H/4, W/4]
        gain, shift, h = self._grid_coefficients(mu, faces)
        delta = self.adapt(h) if self.adaptive else None  # this image's adaptation, once
        weights = self._colour_weights(delta, mu.shape[0])
        colour, slope = self._colour(mu, weights[0])
        if self.regions:  # background colour function where the faces' field fades
            w = self._face_weight(faces, mu)
            bg_colour, bg_slope = self._colour(mu, weights[1])
            colour = bg_colour + w * (colour - bg_colour)
            slope = bg_slope + w * (slope - bg_slope)
        s = gain * slope
        b = (gain * colour + shift - s * mu) * 255.0 + offset

        def full(m: torch.Tensor) -> torch.Tensor:
            half = F.interpolate(m, scale_factor=BLOCK // 2, mode="bilinear", align_corners=False)
            return F.interpolate(half, scale_factor=2, mode="nearest")

        out = x * full(s) + full(b)
        if self.chroma:  # one batched 3x3 matrix product per pixel
            out = torch.matmul(self._chroma_mix(delta), out.flatten(2)).view_as(out)
        return out

    # -- training graph: float NHWC in [0, 1] -----------------------------------------------------------
    def render(self, x: torch.Tensor, faces: torch.Tensor | None = None) -> torch.Tensor:
        """Float RGB [N, H, W, 3] in [0, 1] -> the look, same shape (unclipped; H, W multiples of BLOCK)."""
        out = self._look(x.permute(0, 3, 1, 2) * 255.0, faces, 0.0) * (1.0 / 255.0)
        return out.permute(0, 2, 3, 1)

    # -- deployed graph -------------------------------------------------------------------------------
    def forward(self, image: torch.Tensor, faces: torch.Tensor | None = None) -> torch.Tensor:
        """uint8 RGB [N, H, W, 3] (+ faces [N, F, 4] for a face-aware look) -> uint8 RGB [N, H, W, 3]."""
        x = image.permute(0, 3, 1, 2).to(self.mix.dtype)  # layout changes happen on bytes: 4x cheaper
        y = self._look(x, faces, 0.5).clamp(0.0, 255.0).to(torch.uint8)  # + 0.5: the cast rounds
        return y.permute(0, 2, 3, 1)
