"""MNIST-style normalization of binary digit images of any size to 28x28.

Following LeCun's MNIST recipe: crop to the digit's bounding box, scale it (keeping the aspect
ratio, anti-aliased) so its longer side is 20 pixels, binarize at half intensity, and paste it into
a 28x28 frame so that its centre of mass lies at the frame's centre. The centre-of-mass shift is
clamped so that the digit never leaves the frame. Every dataset goes through this one function so
that Hoda, the synthetic digits and generated samples live in the same image space.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import numpy as np
from PIL import Image

logger = logging.getLogger(__name__)

FRAME = 28
BOX = 20
_CENTRE = (FRAME - 1) / 2


def fit_to_frame(image: np.ndarray) -> np.ndarray:
    """Normalize one 2-D image (nonzero = digit) to a uint8 [28, 28] array with digit = 1.

    An image without any digit pixel comes back blank.
    """
    if image.ndim != 2:
        raise ValueError(f"expected a 2-D image, got shape {image.shape}")
    rows = np.flatnonzero(image.any(axis=1))
    cols = np.flatnonzero(image.any(axis=0))
    frame = np.zeros((FRAME, FRAME), dtype=np.uint8)
    if rows.size == 0:
        return frame
    digit = image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].astype(np.float32)
    height, width = digit.shape
    scale = BOX / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = np.asarray(Image.fromarray(digit).resize(size, Image.Resampling.BILINEAR))
    # A hairline shrunk from a large image may nowhere reach half intensity; keep its brightest part.
    binary = resized >= min(0.5, 0.5 * float(resized.max()))
    top = _offset(binary.sum(axis=1), FRAME)
    left = _offset(binary.sum(axis=0), FRAME)
    frame[top : top + binary.shape[0], left : left + binary.shape[1]] = binary
    return frame


def _offset(profile: np.ndarray, frame: int) -> int:
    """Where to place a patch with this mass profile so its centre of mass is at the frame centre."""
    centre_of_mass = float(np.dot(np.arange(profile.size), profile) / profile.sum())
    return int(np.clip(round(_CENTRE - centre_of_mass), 0, frame - profile.size))


def fit_all_to_frame(images: Iterable[np.ndarray]) -> np.ndarray:
    """Normalize a sequence of variable-size images into one uint8 [N, 28, 28] array."""
    frames = [fit_to_frame(image) for image in images]
    blank = sum(not frame.any() for frame in frames)
    if blank:
        logger.warning("%d of %d images have no digit pixel and stay blank", blank, len(frames))
    if not frames:
        return np.zeros((0, FRAME, FRAME), dtype=np.uint8)
    return np.stack(frames)
