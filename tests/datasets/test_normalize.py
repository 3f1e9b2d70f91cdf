"""MNIST-style normalization: 20-pixel box, aspect ratio kept, centre of mass centred, binary."""

from __future__ import annotations

import numpy as np
import pytest

from grader_core.datasets.normalize import fit_all_to_frame, fit_to_frame


def box(frame: np.ndarray) -> tuple[int, int]:
    rows, cols = np.nonzero(frame)
    return int(np.ptp(rows)) + 1, int(np.ptp(cols)) + 1


def test_aspect_ratio_is_kept_while_the_longer_side_becomes_20() -> None:
    image = np.zeros((30, 90), dtype=bool)
    image[5:25, 10:70] = True  # 20 x 60 block inside a larger canvas: the canvas margin is cropped
    frame = fit_to_frame(image)
    assert frame.dtype == np.uint8 and set(np.unique(frame)) == {0, 1}
    assert box(frame) == (7, 20)


def test_centre_of_mass_is_centred_but_the_digit_stays_inside() -> None:
    image = np.zeros((20, 20), dtype=bool)
    image[0, 0] = True
    image[12:, 12:] = True  # centre of mass at (15.3, 15.3): centring would push the dot out of the frame
    frame = fit_to_frame(image)
    assert frame[0, 0] == 1 and box(frame) == (20, 20), "clamped: no part of the digit is cut off"
    rows, cols = np.nonzero(frame)
    assert rows.mean() == pytest.approx(15.26, abs=0.01) and cols.mean() == pytest.approx(15.26, abs=0.01)

    centred = np.zeros((20, 20), dtype=bool)
    centred[:, 9:11] = True
    rows, cols = np.nonzero(fit_to_frame(centred))
    assert rows.mean() == pytest.approx(13.5) and cols.mean() == pytest.approx(13.5)


def test_a_hairline_shrunk_from_a_large_image_survives() -> None:
    image = np.eye(200, dtype=bool)
    frame = fit_to_frame(image)
    assert frame.sum() >= 15 and box(frame) == (20, 20)


def test_blank_images_stay_blank_and_shapes_are_checked() -> None:
    frames = fit_all_to_frame([np.zeros((5, 5), dtype=bool), np.ones((3, 3), dtype=bool)])
    assert frames.shape == (2, 28, 28) and frames[0].sum() == 0 and box(frames[1]) == (20, 20)
    assert fit_all_to_frame([]).shape == (0, 28, 28)
    with pytest.raises(ValueError, match="2-D image"):
        fit_to_frame(np.zeros((2, 2, 2)))
