"""The look model: a photographic look as a function of a pixel's colour, its surroundings, its place in
the frame and its place relative to the faces, with weights adapted to each image.

What a photographer's grade, a film stock or a lighting set-up does to a portrait is mostly such a
function (tone curve, split toning, white balance, vignette, glow, local contrast, a key light on the
face). A model that can only express such functions cannot move or redraw anything in the picture, can be
fitted from unpaired examples by matching distributions (look/objective.py), and is cheap enough to
run on whole frames at full resolution.

How a frame is computed (uint8 RGB NHWC in and out, like the generator, so every backend runs both):

    blocks   the frame's 4x4-pixel block means mu (1/16 of the pixels), rounded to one of LUT_SIZE
             levels
    levels   (optional) each image's darkest and brightest grid cells stretched towards a learned range
             by a learned amount (look/levels.py); everything below then sees the stretched frame
    stats    global statistics of the frame -> a small MLP -> this image's own colour-function weights
             (levels a*x+b, three tone curves, a luma-driven toning curve, a 3x3 mix) and an embedding
    grid     a fixed G x G grid over the frame (frame-relative: the same at any size): cell colour,
             local spread, two coarser context scales, position, face position, the embedding
             -> 1x1 / 3x3 convolutions -> a per-channel gain and offset, upsampled to the blocks
    colour   the image's colour functions sampled once at the LUT_SIZE levels (tables of a few thousand
             values; look/colour.py); each block looks up y = gain * colour(mu) + offset and a slope s
    pixels   out = y + s * (x - mu): a first-order expansion of the look around each block's mean,
             so detail finer than a block keeps its contrast; the maps s and y - s * mu reach full size
             linearly along the rows of blocks and by repetition down them, so the full-resolution work
             is one multiply-add per value (exact for a look that is locally linear within a few pixels)

Everything runs channels-last, as the frames come: the full-size work reads the frame as rows of blocks
([N, H/4, 4, W*3]) with no layout change, and resizes are matrix products. On a CPU, ONNX Runtime runs
the same graph with its full-size steps on integer and quantisation kernels (look/cpu_graph.py). A
look that is not adaptive (every built-in) reads its colours from a lattice (`colour.lattice_maps`).
Measured at 1080p on the 2-core CPU (benchmarks/bench_look.py, the previous graph in the same run):
every part on 19.4 ms against 23.5 (a fast phase of the VM); `studio`, two regions and faces, 22.1 ms
against 46.6 (a slow phase). About half of it is the full-size work (uint8 to float times the scale,
the add, rounding back to uint8, block sums, the output's reshape); the rest is block-level work, 130 k
blocks.

The exported graph uses MatMul, Gather and GatherElements (table lookups), AveragePool, Conv, Gemm, 4-D
Resize (on the G x G grid), CumSum, If (from the exporter's padding), Round, TopK (the levels part, on
the grid cells) and element-wise and shape ops: no 5-D grid_sample. All are in TensorRT's ONNX operator
list; the graph has not been built with TensorRT (none is installed here).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from portrait_style.engine.faces.geometry import MAX_FACES
from portrait_style.look import colour
from portrait_style.look.blocks import (
    BLOCK,
    LUT_SIZE,
    along_rows,
    centre_weights,
    four_times,
    resize_nhwc,
    resize_to_nchw,
    row_weights,
)
from portrait_style.look.colour import table_rows
from portrait_style.look.context import (
    FACE_FEATURES,
    N_CELL_FEATURES,
    N_STATS,
    chroma_mix,
    frame_statistics,
    grid_features,
)
from portrait_style.look.fields import face_weight, frame_axis
from portrait_style.look.levels import Levels, fold_stretch, stretched_cells

ARCH_NAME = "portrait-look-v1"
LUMA = (0.2126, 0.7152, 0.0722)  # Rec. 709 weights on gamma-encoded values, as graders' luma


def _zero_linear(cin: int, cout: int) -> nn.Linear:
    layer = nn.Linear(cin, cout)
    nn.init.zeros_(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


def _times(gain, x: torch.Tensor) -> torch.Tensor:
    """gain * x, no node for the 1.0 of a look without the grid's gain (a pass over 130 k blocks)."""
    return x if isinstance(gain, float) and gain == 1.0 else gain * x


def _plus(x: torch.Tensor, shift) -> torch.Tensor:
    """x + shift, no node for the 0.0 of a look without the grid's shift."""
    return x if isinstance(shift, float) and shift == 0.0 else x + shift


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
        context_colour: bool = True,
        chroma: bool = False,
        local: bool = True,
        regions: bool = False,
        adaptive: bool = True,
        levels: bool = False,
    ):
        super().__init__()
        self.arch_args = {
            "grid": grid, "hidden": hidden, "knots": knots, "embed": embed,
            "uses_faces": uses_faces, "max_faces": max_faces, "context": context,
            "context_colour": context_colour, "chroma": chroma,
            "local": local, "regions": regions, "adaptive": adaptive, "levels": levels,
        }  # fmt: skip
        if regions and not uses_faces:
            raise ValueError("a look with face and background regions needs uses_faces")
        self.grid, self.knots, self.uses_faces, self.max_faces = grid, knots, uses_faces, max_faces
        # context: the local changes may depend on the colours around a pixel (glow, local contrast).
        # Without it they depend only on position, faces and the image's statistics: smooth fields of
        # light that cannot make halos, the safer choice when the style photos are of other scenes.
        self.context = context
        # context_colour: the context seen in colour; without it, in luma only (the tone around a pixel,
        # not its hue; `look_context_colour`, off in the `matched` preset). The benchmark's looks fitted
        # from near-grey London portraits brightened colourful skin on the pixabay crops (local-contrast:
        # +5 to +17 levels of luma, growing with saturation, against +0.5 on grey). Trained in luma, three
        # seeds, mean dB against colour: local-contrast 30.57 / 30.45, teal-orange-film 30.70 / 30.30,
        # auto-levels 32.98 / 32.65, faded-warm 34.78 / 34.52, face-light (64², grid 16) 32.87 / 33.01
        # (benchmarks/RESULTS.md, twelfth and thirteenth rounds)
        self.context_colour = context_colour
        # chroma: a last per-image 3x3 mix that keeps luma and scales chroma by exp(log_saturation): a
        # greyscale look is one parameter away (its detail, toning and local colour lose their chroma too)
        self.chroma = chroma
        # local: the grid's per-place gain and offset. Without it the look is one colour function per
        # image, the same all over the frame: nothing can appear around a head that was not in the
        # colours already (the choice for style photos framed unlike the content: other backdrops)
        self.local = local
        self.log_saturation = nn.Parameter(torch.zeros(1)) if chroma else None
        self.register_buffer("luma", torch.tensor(LUMA).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("centre", centre_weights(), persistent=False)
        self.register_buffer("expand", row_weights(), persistent=False)
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
        # levels: each image's darkest and brightest colours stretched towards a learned range by a learned
        # amount before the colour functions (look/levels.py): auto levels with their form built in
        self.levels = Levels() if levels else None
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
        n_in = N_CELL_FEATURES + (FACE_FEATURES if uses_faces else 0) + embed
        self.grid_net = nn.Sequential(
            nn.Conv2d(n_in, hidden, 1), nn.ReLU(),
            nn.Conv2d(hidden, hidden, 3, padding=1, padding_mode="replicate"), nn.ReLU(),
            nn.Conv2d(hidden, hidden, 1), nn.ReLU(),
        )  # fmt: skip
        self.grid_out = nn.Conv2d(hidden, 6, 1)
        nn.init.zeros_(self.grid_out.weight)
        nn.init.zeros_(self.grid_out.bias)

    # -- the pieces ----------------------------------------------------------------------------------
    def colour_parameters(self) -> list[tuple[nn.Parameter, ...]]:
        """(curve start, curve steps, toning, mix) of each region: the face's (or the only one) first."""
        face = (self.curve_start, self.curve_steps, self.toning, self.mix)
        if not self.regions:
            return [face]
        return [face, (self.bg_curve_start, self.bg_curve_steps, self.bg_toning, self.bg_mix)]

    def _colour_weights(self, delta: torch.Tensor | None, n: int) -> list[tuple[torch.Tensor, ...]]:
        """Each region's colour function for each of n images: its base plus the image's adaptation."""
        return colour.functions(self.colour_parameters(), delta, n, self.knots)

    def _face_weight(self, faces: torch.Tensor | None, like: torch.Tensor) -> torch.Tensor:
        """[N, h, w, C] for NHWC blocks `like` (the weight repeated for each channel)."""
        n, h, w, c = like.shape
        if faces is None:
            return torch.zeros_like(like)
        gy, gx = frame_axis(h, like).view(1, 1, h, 1), frame_axis(w, like).view(1, 1, 1, w)
        return face_weight(faces, gy, gx, repeat=c).view(n, h, w, c)

    def block_means(self, rows: torch.Tensor) -> torch.Tensor:
        """[N, H/4, 4, W * 3] (the frame as rows of blocks) -> [N, H/4, W/4, 3]: each block's mean in
        table rows (0..LUT_SIZE-1), as one sum over the block rows (contiguous spans) and one small
        product."""
        n, h, _, wc = rows.shape
        return torch.matmul(rows.sum(2).view(n, h, wc // (BLOCK * 3), BLOCK * 3), self.centre)

    def _cells(self, q: torch.Tensor) -> tuple[torch.Tensor, ...] | None:
        """The frame's G x G grid cells [N, 3, G, G] (values 0..1), their mean squares and their spread,
        from the block means q (NHWC, table rows); None when no part reads them (then none of this
        runs)."""
        if not self.local and not self.adaptive and self.levels is None:
            return None
        g = self.grid
        t = resize_to_nchw(q, 4 * g, 4 * g) * (1.0 / (LUT_SIZE - 1))
        cells, cells_sq = F.avg_pool2d(t, 4), F.avg_pool2d(t * t, 4)
        return cells, cells_sq, (cells_sq - cells * cells).clamp_min(0.0).sqrt()

    def _grid_coefficients(self, q: torch.Tensor, cells, faces: torch.Tensor | None):
        """Per-channel gain and shift (in levels 0..255) on the blocks, and the statistics
        embedding h (None when neither the grid nor the adaptation needs it).

        q: the block means, NHWC, as table rows 0..LUT_SIZE-1; cells: `_cells(q)`. The grid work itself
        is NCHW at G x G (a few thousand values)."""
        if not self.local and not self.adaptive:
            return 1.0, 0.0, None
        cells, cells_sq, spread = cells
        h = self.stats_mlp(frame_statistics(cells, cells_sq, self.luma))
        if not self.local:
            return 1.0, 0.0, h
        faces_rows = self.max_faces if self.uses_faces else None
        tone = None if self.context_colour else self.luma
        feats = grid_features(cells, spread, self.embed(h), faces, faces_rows, self.context, tone)
        coef = self.grid_out(self.grid_net(feats)).permute(0, 2, 3, 1)  # [N, G, G, 6]
        # gain and shift brought to the blocks apart: splitting the 6 channels of the block-size map
        # copied 3 values at a time (0.5 ms at 1080p through ONNX Runtime)
        log_gain = resize_nhwc(coef[..., :3], q.shape[1], q.shape[2])
        shift = resize_nhwc(coef[..., 3:] * 255.0, q.shape[1], q.shape[2])  # in levels
        return torch.exp(log_gain), shift, h

    def _lattice(self) -> torch.Tensor:
        """`colour.lattice_table`, made once and kept while the weights stay as they are; in an export it is
        part of the graph, made from the weights, which ONNX Runtime folds into one constant when it loads
        the graph (session load measured 60 -> 160 ms for `studio`)."""
        if torch.jit.is_tracing() or torch.onnx.is_in_onnx_export():
            return colour.lattice_table(self._colour_weights(None, 1), self.luma)
        key = (self.mix.device, self.mix.dtype, tuple(p._version for p in self.parameters()))
        if getattr(self, "_lattice_key", None) != key:
            with torch.no_grad():
                table = colour.lattice_table(self._colour_weights(None, 1), self.luma)
                self._lattice_cache, self._lattice_key = table, key
        return self._lattice_cache

    def _colours(self, means: torch.Tensor, q: torch.Tensor, delta, stretch):
        """The expansion point mu of each block (levels) and each region's (colour, slope) there.

        means: the block means in table rows; q: the same rounded to table rows (float32); stretch: each
        image's levels stretch (look/levels.py), folded into its colour functions, or None."""
        n = means.shape[0]
        index = q.to(torch.int64)  # GatherElements' index (torch.gather takes no int32)
        shared = not self.adaptive and stretch is None  # the same functions for every frame
        weights = self._colour_weights(delta, 1 if shared else n)
        if stretch is not None:
            weights = [fold_stretch(w, *stretch) for w in weights]
        # the expansion point: a table sample, so the colour and slope looked up are exactly its own
        mu = (q * (255.0 / (LUT_SIZE - 1))).to(means.dtype)
        return mu, [colour.lookup(index, w, self.luma, shared=shared) for w in weights]

    def _maps(self, rows: torch.Tensor, faces: torch.Tensor | None, lattice: bool = False):
        """The block-level half: per-block, per-channel slope s and offset b (NHWC, [N, h, w, 3]) such
        that a pixel's output is s * x + b, and this image's chroma mix (or None).

        rows: the frame as rows of blocks, [N, H/4, 4, W * 3], values 0..255."""
        means = self.block_means(rows)
        q = table_rows(means, LUT_SIZE)
        rows_q = q.to(means.dtype)
        cells = self._cells(rows_q)
        stretch = None
        if self.levels is not None:  # the colour functions and the rest of the look see it stretched
            stretch = self.levels(cells[0])
            cells = stretched_cells(*cells, *stretch)
        gain, shift, h = self._grid_coefficients(rows_q, cells, faces)
        delta = self.adapt(h) if self.adaptive else None  # this image's adaptation, once
        chroma = None
        if self.chroma:  # the saturation, adapted to this image when the look is adaptive
            chroma = chroma_mix(self.log_saturation + (delta[:, -1] if delta is not None else 0.0), self.luma)
        if lattice and not self.adaptive and stretch is None:
            weight = (lambda like: self._face_weight(faces, like)) if self.regions else None
            intercept, slope = colour.lattice_maps(self._lattice(), means, weight)
            return _times(gain, slope), _plus(_times(gain, intercept), shift), chroma
        mu, regions = self._colours(means, q, delta, stretch)
        value, slope = regions[0]
        if self.regions:  # background colour function where the faces' field fades
            w = self._face_weight(faces, mu)
            bg_value, bg_slope = regions[1]
            value = bg_value + w * (value - bg_value)
            slope = bg_slope + w * (slope - bg_slope)
        s = gain * slope
        return s, gain * value + shift - s * mu, chroma

    def _look(self, x: torch.Tensor, faces: torch.Tensor | None, lattice: bool = False) -> torch.Tensor:
        """[N, H, W, 3] values 0..255 (float or uint8) -> the look, float 0..255, unclipped, as rows of
        blocks [N, H/4, 4, W * 3].

        out = y + s * (x - mu) = s * x + (y - s * mu), with s and b = y - s * mu per block. The maps
        reach full size as rows of 4 blocks' worth: interpolated linearly along a row of blocks (4 pixels
        per block, a [*, 9] x [9, 12] product), repeated down the block's 4 rows by broadcasting over the
        frame viewed as [N, H/4, 4, W*3]. That leaves one multiply and one add per value at full size,
        on contiguous spans of a whole row, with no layout change: measured at 1080p through ONNX
        Runtime (2 cores), the earlier NCHW graph spent 7 ms on the two full-size transposes and 15 ms
        on bringing the maps to full size by two Resize nodes.
        """
        n, hh, ww, c = x.shape
        rows = x.reshape(n, hh // BLOCK, BLOCK, ww * c).to(self.mix.dtype)
        s, b, chroma = self._maps(rows, faces, lattice)
        if chroma is None:
            return rows * along_rows(s, self.expand) + along_rows(b, self.expand)
        # a chroma mix M after the per-channel look: M (s x + b) = M (s x) + (M b); the per-pixel 3x3
        # product runs as [*, 12] x [12, 12] (four pixels per row of the product: K=3 products are slow)
        mt = chroma.transpose(1, 2)
        b = along_rows(torch.matmul(b.view(n, -1, c), mt).view_as(b), self.expand)
        mixed = torch.matmul((rows * along_rows(s, self.expand)).view(n, -1, BLOCK * c), four_times(mt))
        return mixed.view_as(rows) + b

    # -- training graph: float NHWC in [0, 1] -----------------------------------------------------------
    def render(self, x: torch.Tensor, faces: torch.Tensor | None = None) -> torch.Tensor:
        """Float RGB [N, H, W, 3] in [0, 1] -> the look, same shape (unclipped; H, W multiples of BLOCK)."""
        return (self._look(x * 255.0, faces) * (1.0 / 255.0)).view_as(x)

    # -- deployed graph -------------------------------------------------------------------------------
    def forward(self, image: torch.Tensor, faces: torch.Tensor | None = None) -> torch.Tensor:
        """uint8 RGB [N, H, W, 3] (+ faces [N, F, 4] for a face-aware look) -> uint8 RGB [N, H, W, 3]."""
        # Round, Clip, Cast: one QuantizeLinear in the CPU graph (look/cpu_graph.py). The float is
        # reshaped to NHWC before them (a view: no copy), so the cast writes the graph's output itself;
        # reshaped after the cast, ONNX Runtime copied the output once more (0.7 ms at 1080p)
        out = self._look(image, faces, lattice=True).view(image.shape)
        return out.round().clamp(0.0, 255.0).to(torch.uint8)
