"""Which pixels' conditionals change when one pixel is flipped: the evidence for structure checks.

The trusted side draws random binary base images and flips single pixels of them; the model's
conditionals on all of them come back in one probe. A conditional at p that moves when q is
flipped means q is an input of p's CPD.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

SIZE = 28


@dataclass
class FlipPlan:
    images: np.ndarray  # [bases * (1 + flips), 28, 28]: each base, then its flipped copies
    positions: np.ndarray  # [flips, 2] (row, col) flipped in every base
    bases: int

    @classmethod
    def from_images(cls, images: np.ndarray, bases: int) -> FlipPlan:
        """Recover the plan from the images that were sent: the positions are where copies differ."""
        grouped = images.reshape(bases, -1, SIZE, SIZE)
        positions = np.array([np.argwhere(copy != grouped[0, 0])[0] for copy in grouped[0, 1:]])
        return cls(images, positions, bases)


def plan_flips(rng: np.random.Generator, bases: int, flips: int, margin: int = 4, density: float = 0.3) -> FlipPlan:
    rows = rng.integers(margin, SIZE - margin, size=flips)
    cols = rng.integers(margin, SIZE - margin, size=flips)
    positions = np.column_stack([rows, cols])
    images = []
    for _ in range(bases):
        base = (rng.random((SIZE, SIZE)) < density).astype(np.uint8)
        images.append(base)
        for row, col in positions:
            flipped = base.copy()
            flipped[row, col] ^= 1
            images.append(flipped)
    return FlipPlan(np.stack(images), positions, bases)


def dependencies(probs: np.ndarray, plan: FlipPlan, tolerance: float) -> Iterator[tuple[tuple[int, int], np.ndarray]]:
    """For each flipped pixel q: q and the mask of pixels whose conditional moved (in any base)."""
    flips = len(plan.positions)
    grouped = probs.reshape(plan.bases, 1 + flips, SIZE, SIZE)
    moved = np.abs(grouped[:, 1:] - grouped[:, :1]) > tolerance  # [bases, flips, 28, 28]
    for index, (row, col) in enumerate(plan.positions):
        yield (int(row), int(col)), moved[:, index].any(axis=0)


def describe_offset(d_row: int, d_col: int) -> str:
    """The parent's position relative to the pixel, in words a student can check against the contract."""
    if (d_row, d_col) == (0, 0):
        return "offset (0, 0): the pixel itself"
    vertical = "above" if d_row < 0 else "below" if d_row > 0 else ""
    horizontal = "left" if d_col < 0 else "right" if d_col > 0 else ""
    where = "-".join(part for part in (vertical, horizontal) if part)
    return f"offset ({d_row:+d}, {d_col:+d}) ({where})"
