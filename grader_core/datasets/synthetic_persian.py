"""An offline generator of handwritten-looking Persian digits ۰..۹ (U+06F0..U+06F9).

It stands in for Hoda where the real files are absent (it is the embedded demo's dataset), so it
needs no font or download: each digit is drawn from a few pen strokes given as control points in a
unit box (x to the right, y down), shaped after the Hoda digits. For every sample the strokes are

1. smoothed into curves (Catmull-Rom splines through the control points),
2. elastically distorted (a smooth random displacement field: a few random plane waves),
3. sheared, rotated and stretched (a random affine map),
4. drawn with a round pen whose width varies along each stroke, at a random Hoda-like size, and
5. normalized exactly as Hoda is (:func:`grader_core.datasets.normalize.fit_to_frame`).

Sample ``i`` of seed ``s`` depends only on ``(s, i)``: a prefix of a larger draw equals a smaller
draw, and generation is deterministic for a seed. Labels cycle 0..9, so every prefix is balanced.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from grader_core.datasets.cache import cached_arrays
from grader_core.datasets.normalize import fit_to_frame
from grader_core.datasets.registry import register_dataset

Stroke = tuple[tuple[float, float], ...]
Glyph = tuple[Stroke, ...]

DIGITS = "۰۱۲۳۴۵۶۷۸۹"
NUM_CLASSES = 10
SPLITS = {"train": (20_000, 1), "test": (5_000, 2), "hidden": (5_000, 3)}  # split: (size, seed)
# Bump when the drawing changes, to retire cached draws.
_GENERATOR_VERSION = 1

# Each digit's forms and how often each is used. The zero's ring overshoots its start, as a pen does.
_RING: Stroke = (
    (0.5, 0.0), (0.9, 0.2), (1.0, 0.6), (0.75, 1.0), (0.3, 0.95), (0.0, 0.6), (0.1, 0.2), (0.5, 0.0), (0.9, 0.2)
)
GLYPHS: dict[int, tuple[tuple[float, Glyph], ...]] = {
    0: ((1.0, (_RING,)),),
    1: ((1.0, (((0.52, 0.0), (0.5, 0.5), (0.46, 1.0)),)),),
    2: (
        (
            1.0,
            (
                ((0.28, 0.08), (0.36, 0.3), (0.4, 0.62), (0.38, 1.0)),
                ((0.36, 0.3), (0.6, 0.3), (0.76, 0.18), (0.8, 0.0)),
            ),
        ),
    ),
    3: (
        (
            1.0,
            (
                ((0.15, 0.03), (0.3, 0.3), (0.36, 0.62), (0.35, 1.0)),
                ((0.3, 0.3), (0.5, 0.05), (0.62, 0.28), (0.85, 0.0)),
            ),
        ),
    ),
    4: (
        (
            0.75,
            (
                ((0.4, 0.0), (0.42, 0.42), (0.46, 1.0)),
                ((0.85, 0.02), (0.48, 0.18), (0.8, 0.3), (0.42, 0.42)),
            ),
        ),
        (0.25, (((0.8, 0.05), (0.45, 0.0), (0.28, 0.15), (0.55, 0.35), (0.22, 0.52), (0.3, 0.85), (0.9, 0.88)),)),
    ),
    5: (
        (
            1.0,
            (
                (
                    (0.5, 0.0),
                    (0.28, 0.45),
                    (0.08, 0.8),
                    (0.25, 1.0),
                    (0.5, 0.85),
                    (0.75, 1.0),
                    (0.92, 0.8),
                    (0.72, 0.45),
                    (0.5, 0.0),
                ),
            ),
        ),
    ),
    6: (
        (
            0.8,
            (
                ((0.8, 0.0), (0.6, 0.4), (0.3, 1.0)),
                ((0.15, 0.05), (0.2, 0.3), (0.4, 0.38), (0.64, 0.32)),
            ),
        ),
        (0.2, (((0.05, 0.06), (0.6, 0.08), (0.68, 0.5), (0.75, 1.0)),)),
    ),
    7: (
        (
            1.0,
            (
                ((0.1, 0.0), (0.3, 0.5), (0.5, 1.0)),
                ((0.5, 1.0), (0.7, 0.5), (0.9, 0.0)),
            ),
        ),
    ),
    8: (
        (
            1.0,
            (
                ((0.1, 1.0), (0.3, 0.5), (0.5, 0.0)),
                ((0.5, 0.0), (0.7, 0.5), (0.9, 1.0)),
            ),
        ),
    ),
    9: (
        (
            1.0,
            (((0.62, 0.3), (0.38, 0.36), (0.22, 0.18), (0.4, 0.02), (0.62, 0.1), (0.66, 0.5), (0.62, 1.0)),),
        ),
    ),
}



@dataclass(frozen=True)
class Style:
    """How a digit's pen and affine distortion are drawn (ranges are sampled uniformly)."""

    pen: tuple[float, float]  # pen width as a fraction of the digit's height
    stretch: tuple[float, float]  # horizontal scale
    rotation_sd: float | None  # radians; None: any angle


_STYLE = Style(pen=(0.07, 0.14), stretch=(0.8, 1.2), rotation_sd=0.12)
# The zero is a small ring or dot: a pen thick for its size, drawn at any angle.
_STYLES = {0: Style(pen=(0.22, 0.5), stretch=(0.55, 1.0), rotation_sd=None)}
_SHEAR_SD = 0.12
_SAMPLES_PER_SPAN = 10


def catmull_rom(points: np.ndarray, samples_per_span: int = _SAMPLES_PER_SPAN) -> np.ndarray:
    """Dense points on the uniform Catmull-Rom spline through ``points`` [K, 2] (ends included)."""
    padded = np.concatenate([points[:1], points, points[-1:]])
    t = np.linspace(0.0, 1.0, samples_per_span, endpoint=False)[:, None]
    spans = []
    for p0, p1, p2, p3 in zip(padded[:-3], padded[1:-2], padded[2:-1], padded[3:], strict=True):
        spans.append(
            0.5
            * (
                2 * p1
                + (p2 - p0) * t
                + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
                + (3 * p1 - p0 - 3 * p2 + p3) * t**3
            )
        )
    return np.concatenate([*spans, points[-1:]])


def _plane_waves(
    rng: np.random.Generator, frequency: float, amplitude: float, count: int = 4
) -> Callable[[np.ndarray], np.ndarray]:
    """A smooth random displacement field: a sum of ``count`` random plane waves per axis."""
    directions = rng.normal(0.0, frequency, size=(count, 2))
    phases = rng.uniform(0.0, 2 * np.pi, size=count)
    amplitudes = rng.normal(0.0, amplitude, size=(count, 2))

    def displace(points: np.ndarray) -> np.ndarray:
        return points + np.sin(2 * np.pi * points @ directions.T + phases) @ amplitudes

    return displace


def _random_affine(rng: np.random.Generator, style: Style) -> np.ndarray:
    sd = style.rotation_sd
    rotation = rng.uniform(-np.pi, np.pi) if sd is None else rng.normal(0.0, sd)
    shear = rng.normal(0.0, _SHEAR_SD)
    stretch = rng.uniform(*style.stretch)
    cos, sin = np.cos(rotation), np.sin(rotation)
    return np.array([[cos, -sin], [sin, cos]]) @ np.array([[stretch, shear], [0.0, 1.0]])


def _draw(strokes: list[np.ndarray], rng: np.random.Generator, style: Style) -> np.ndarray:
    """Rasterize strokes (in arbitrary units) with a variable-width round pen at a Hoda-like size."""
    everything = np.concatenate(strokes)
    low, high = everything.min(axis=0), everything.max(axis=0)
    height_px = rng.uniform(20.0, 40.0)
    scale = height_px / max(high[1] - low[1], 0.2)
    pen = max(1.5, rng.uniform(*style.pen) * height_px)
    margin = pen + 2
    size = np.ceil((high - low) * scale + 2 * margin).astype(int)
    canvas = Image.new("L", (int(size[0]), int(size[1])), 0)
    draw = ImageDraw.Draw(canvas)
    for stroke in strokes:
        pixels = (stroke - low) * scale + margin
        # Three pieces, each with its own width and overlapping the next by one point.
        for piece in np.array_split(np.arange(len(pixels)), 3):
            span = np.append(piece, min(piece[-1] + 1, len(pixels) - 1))
            width = pen * rng.uniform(0.75, 1.25)
            points = [tuple(point) for point in pixels[span]]
            draw.line(points, fill=255, width=max(1, round(width)), joint="curve")
            for x, y in (points[0], points[-1]):
                draw.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=255)
    return np.asarray(canvas) > 0


def render_digit(label: int, rng: np.random.Generator) -> np.ndarray:
    """One synthetic digit of class ``label``: uint8 [28, 28] in {0, 1}."""
    forms = GLYPHS[label]
    weights = np.array([weight for weight, _ in forms])
    glyph = forms[rng.choice(len(forms), p=weights / weights.sum())][1]
    shape = _plane_waves(rng, frequency=0.8, amplitude=0.03)
    wobble = _plane_waves(rng, frequency=2.0, amplitude=0.004)
    style = _STYLES.get(label, _STYLE)
    affine = _random_affine(rng, style)
    strokes = [wobble(shape(catmull_rom(np.array(stroke)))) @ affine.T for stroke in glyph]
    return fit_to_frame(_draw(strokes, rng, style))


def generate(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` synthetic digits: uint8 [count, 28, 28] in {0, 1} and int64 labels ``i % 10``."""
    labels = np.arange(count, dtype=np.int64) % NUM_CLASSES
    images = np.zeros((count, 28, 28), dtype=np.uint8)
    for index, label in enumerate(labels):
        images[index] = render_digit(int(label), np.random.default_rng([seed, index]))
    return images, labels


@register_dataset("synthetic", tuple(SPLITS))
def load_split(split: str) -> tuple[np.ndarray, np.ndarray]:
    count, seed = SPLITS[split]
    arrays = cached_arrays(
        f"synthetic-v{_GENERATOR_VERSION}-{seed}-{count}",
        lambda: dict(zip(("images", "labels"), generate(count, seed), strict=True)),
    )
    return arrays["images"], arrays["labels"]
