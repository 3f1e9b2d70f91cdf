"""A PNG grid of binary digit samples: what the result page shows next to a sample-quality score."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

GRID_COLUMNS = 8
GRID_SAMPLES = 64
PIXEL_SCALE = 2
GUTTER = 2


def sample_grid_png(samples: np.ndarray, count: int = GRID_SAMPLES, columns: int = GRID_COLUMNS) -> bytes:
    """The first ``count`` images of ``samples`` [N, H, W] (values in [0, 1]) tiled ``columns`` wide,
    white digits on black with a grey gutter, each pixel drawn as a ``PIXEL_SCALE`` square."""
    images = np.asarray(samples, dtype=np.float64)[:count]
    if images.ndim != 3 or len(images) == 0:
        raise ValueError(f"samples must be [N, H, W] with N >= 1, got shape {np.shape(samples)}")
    rows = -(-len(images) // columns)
    height, width = images.shape[1:]
    canvas = np.full((rows * (height + GUTTER) + GUTTER, columns * (width + GUTTER) + GUTTER), 96, dtype=np.uint8)
    for index, image in enumerate(images):
        top = GUTTER + (index // columns) * (height + GUTTER)
        left = GUTTER + (index % columns) * (width + GUTTER)
        canvas[top : top + height, left : left + width] = np.clip(image * 255, 0, 255).astype(np.uint8)
    picture = Image.fromarray(canvas).resize((canvas.shape[1] * PIXEL_SCALE, canvas.shape[0] * PIXEL_SCALE), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
