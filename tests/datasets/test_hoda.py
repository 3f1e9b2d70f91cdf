"""The Hoda reader: against the real files, against files built here by an independent encoder, and
on corrupt input, which must fail loudly and say where."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from grader_core.datasets import hoda
from grader_core.datasets.hoda import (
    HodaFormatError,
    decode_cdb,
    parse_header,
    scan_records,
)
from tests.datasets.conftest import require_hoda

# Facts about the published files, not read back from the reader.
TEST_COUNTS = [2000] * 10
REMAINING_COUNTS = [2070, 2330, 1923, 2334, 2333, 2110, 2254, 2363, 2264, 2371]


def encode_cdb(images: list[np.ndarray], labels: list[int], comment: bytes = b"made by the tests") -> bytes:
    """A variable-size, binary run-length encoded .cdb, written the straightforward way."""
    counts = np.bincount(labels, minlength=128)
    header = struct.pack("<HBBBBI128IB", 2024, 1, 2, 0, 0, len(images), *counts.tolist(), 0) + comment
    out = bytearray(header.ljust(hoda.HEADER_SIZE, b"\0"))
    for image, label in zip(images, labels, strict=True):
        runs = bytearray()
        for row in image:
            value, length = False, 0  # every row starts with a background run, possibly empty
            for pixel in row:
                if bool(pixel) == value:
                    length += 1
                else:
                    runs.append(length)
                    value, length = not value, 1
            runs.append(length)
        height, width = image.shape
        out += bytes([0xFF, label, width, height]) + struct.pack("<H", len(runs)) + runs
    return bytes(out)


def raw_images(data: bytes) -> list[np.ndarray]:
    header = parse_header(data)
    return hoda.decode_runs(data, scan_records(data, header))


# --- the decoder, on files built here -------------------------------------------------------------


def test_decoder_inverts_an_independent_encoder() -> None:
    rng = np.random.default_rng(0)
    shapes = [(1, 1), (3, 7), (40, 12), (12, 40), (5, 255)]
    images = [rng.random(shape) < density for shape in shapes for density in (0.0, 0.3, 0.9, 1.0)]
    labels = [int(label) for label in rng.integers(0, 10, len(images))]
    decoded = raw_images(encode_cdb(images, labels))
    assert len(decoded) == len(images)
    for original, result in zip(images, decoded, strict=True):
        np.testing.assert_array_equal(result, original)


def test_a_file_without_records_decodes_to_empty_arrays() -> None:
    images, labels = decode_cdb(encode_cdb([], []))
    assert images.shape == (0, 28, 28) and labels.shape == (0,)


def test_rows_that_start_with_a_digit_pixel_use_an_empty_background_run() -> None:
    image = np.array([[1, 1, 0], [0, 0, 0], [1, 0, 1]], dtype=bool)
    data = encode_cdb([image], [7])
    assert data[hoda.HEADER_SIZE + 6 :] == bytes([0, 2, 1, 3, 0, 1, 1, 1])
    np.testing.assert_array_equal(raw_images(data)[0], image)


def test_decoded_digits_are_normalized_to_a_centred_20_pixel_box() -> None:
    tall = np.zeros((50, 10), dtype=bool)
    tall[:, 3:7] = True  # a thick vertical bar, 50 pixels high
    images, labels = decode_cdb(encode_cdb([tall], [1]))
    assert images.shape == (1, 28, 28) and images.dtype == np.uint8 and labels.tolist() == [1]
    rows, cols = np.nonzero(images[0])
    assert rows.max() - rows.min() + 1 == 20
    assert 1 <= cols.max() - cols.min() + 1 <= 3
    assert abs(rows.mean() - 13.5) <= 0.5 and abs(cols.mean() - 13.5) <= 1.0


# --- corrupt and truncated input ------------------------------------------------------------------


@pytest.fixture
def small_file() -> bytes:
    rng = np.random.default_rng(1)
    return encode_cdb([rng.random((6, 5)) < 0.5 for _ in range(3)], [0, 4, 9])


def test_a_file_cut_anywhere_is_reported_truncated(small_file: bytes) -> None:
    for cut in (hoda.HEADER_SIZE + 1, hoda.HEADER_SIZE + 5, len(small_file) - 1):
        with pytest.raises(HodaFormatError, match="truncated"):
            decode_cdb(small_file[:cut])


def test_a_short_header_is_reported(small_file: bytes) -> None:
    with pytest.raises(HodaFormatError, match="shorter than the 1024-byte header"):
        decode_cdb(small_file[:100])


def test_a_missing_record_mark_names_the_record(small_file: bytes) -> None:
    corrupt = bytearray(small_file)
    corrupt[hoda.HEADER_SIZE] = 0x00
    with pytest.raises(HodaFormatError, match=r"record 0 at byte 1024 starts with 0x00"):
        decode_cdb(bytes(corrupt))


def test_runs_that_do_not_cover_the_image_are_reported(small_file: bytes) -> None:
    corrupt = bytearray(small_file)
    corrupt[hoda.HEADER_SIZE + 6] += 1  # the first run of the first record
    with pytest.raises(HodaFormatError, match="record 0's runs cover 31 pixels, not its 5x6"):
        decode_cdb(bytes(corrupt))


def test_a_run_across_a_row_boundary_is_reported() -> None:
    data = bytearray(encode_cdb([np.zeros((2, 3), dtype=bool)], [0]))
    # Replace the runs "3 | 3" by "2 2 2": same total, but the second run crosses into row two.
    data[hoda.HEADER_SIZE + 4 : hoda.HEADER_SIZE + 6] = struct.pack("<H", 3)
    data[hoda.HEADER_SIZE + 6 :] = bytes([2, 2, 2])
    with pytest.raises(HodaFormatError, match="crosses a row boundary"):
        decode_cdb(bytes(data))


def test_labels_that_disagree_with_the_header_counts_are_reported(small_file: bytes) -> None:
    corrupt = bytearray(small_file)
    corrupt[hoda.HEADER_SIZE + 1] = 5  # relabel the first record
    with pytest.raises(HodaFormatError, match="class counts"):
        decode_cdb(bytes(corrupt))


def test_trailing_bytes_and_unknown_image_types_are_reported(small_file: bytes) -> None:
    with pytest.raises(HodaFormatError, match="3 unexpected bytes after the last record"):
        decode_cdb(small_file + b"\xff\x00\x01")
    corrupt = bytearray(small_file)
    corrupt[522] = 1
    with pytest.raises(HodaFormatError, match="image type 1 is not supported"):
        decode_cdb(bytes(corrupt))


# --- the real files -------------------------------------------------------------------------------


def test_real_headers() -> None:
    folder = require_hoda()
    for name, counts in ((hoda.TEST_FILE, TEST_COUNTS), (hoda.REMAINING_FILE, REMAINING_COUNTS)):
        header = parse_header((folder / name).read_bytes(), name)
        assert header.variable_size and header.image_type == 0
        assert header.record_count == sum(counts)
        assert list(header.class_counts) == counts + [0] * 118


@pytest.mark.parametrize(
    ("fixture", "counts"), [("hoda_test_file", TEST_COUNTS), ("hoda_remaining_file", REMAINING_COUNTS)]
)
def test_real_files_decode_to_binary_digits_with_the_published_counts(
    fixture: str, counts: list[int], request: pytest.FixtureRequest
) -> None:
    images, labels = request.getfixturevalue(fixture)
    assert images.shape == (sum(counts), 28, 28) and images.dtype == np.uint8
    assert labels.dtype == np.int64
    assert np.bincount(labels, minlength=10).tolist() == counts
    assert set(np.unique(images)) == {0, 1}
    ink = images.reshape(len(images), -1).sum(axis=1)
    assert ink.min() > 0, "every Hoda record holds a digit"


def test_real_digits_fill_the_box_and_are_centred(hoda_test_file: tuple[np.ndarray, np.ndarray]) -> None:
    images, _ = hoda_test_file
    rows, cols = images.any(axis=2), images.any(axis=1)
    height = 28 - rows.argmax(axis=1) - rows[:, ::-1].argmax(axis=1)
    width = 28 - cols.argmax(axis=1) - cols[:, ::-1].argmax(axis=1)
    longer = np.maximum(height, width)
    assert longer.max() <= 20 and np.mean(longer >= 19) > 0.99
    grid = np.arange(28)
    mass = images.sum(axis=(1, 2))
    centre_row = (images.sum(axis=2) @ grid) / mass
    centre_col = (images.sum(axis=1) @ grid) / mass
    assert np.mean((np.abs(centre_row - 13.5) <= 1) & (np.abs(centre_col - 13.5) <= 1)) > 0.99


def test_real_digits_look_like_their_classes(hoda_test_file: tuple[np.ndarray, np.ndarray]) -> None:
    images, labels = hoda_test_file
    means = np.stack([images[labels == k].mean(axis=0) for k in range(10)])
    distances = np.linalg.norm((means[:, None] - means[None]).reshape(10, 10, -1), axis=2)
    assert distances[~np.eye(10, dtype=bool)].min() > 2.0, "class means must differ"
    # ۱ is a single vertical stroke: its ink is in the middle columns, over the whole height.
    one = means[1]
    assert one[:, 10:18].sum() / one.sum() > 0.85
    assert one[4:24].sum() / one.sum() > 0.9 and one[4:8].sum() > 0.1 * one.sum()
    # ۰ is written as a small ring or dot, which normalization turns into a big round blob.
    assert means[0].sum() > 1.5 * np.median([means[k].sum() for k in range(10)])
    # ۷ (a V) has its ink at the top on both sides, ۸ (an inverted V) at the bottom on both sides.
    assert means[7][4:10, 4:10].sum() > 3 * means[7][18:24, 4:10].sum()
    assert means[8][18:24, 4:10].sum() > 3 * means[8][4:10, 4:10].sum()


def test_a_fresh_decode_of_a_real_file_equals_the_cached_arrays(hoda_test_file: tuple[np.ndarray, np.ndarray]) -> None:
    folder = require_hoda()
    images, labels = decode_cdb((folder / hoda.TEST_FILE).read_bytes())
    np.testing.assert_array_equal(images, hoda_test_file[0])
    np.testing.assert_array_equal(labels, hoda_test_file[1])


def test_a_truncated_real_file_is_reported(tmp_path: Path) -> None:
    folder = require_hoda()
    data = (folder / hoda.REMAINING_FILE).read_bytes()
    with pytest.raises(HodaFormatError, match=r"truncated: record \d+ of 22352"):
        decode_cdb(data[: len(data) // 2], "half.cdb")


def test_a_different_file_under_a_known_name_is_refused(tmp_path: Path, dgm_env: Callable[[str, str], None]) -> None:
    folder = tmp_path / "hoda"
    folder.mkdir()
    (folder / hoda.TEST_FILE).write_bytes(encode_cdb([np.ones((2, 2), dtype=bool)], [3]))
    dgm_env("DGM_SHARED_DATA_DIR", str(tmp_path))
    assert not hoda.hoda_available()
    with pytest.raises(HodaFormatError, match="expected f947c380"):
        hoda.load_known_file(hoda.TEST_FILE)
    with pytest.raises(FileNotFoundError, match="Hoda file not found"):
        hoda.load_known_file(hoda.REMAINING_FILE)


# --- the cache ------------------------------------------------------------------------------------


def test_decoded_files_are_cached_by_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             dgm_env: Callable[[str, str], None]) -> None:
    dgm_env("DGM_CACHE_DIR", str(tmp_path / "cache"))
    rng = np.random.default_rng(2)
    source = tmp_path / "digits.cdb"
    source.write_bytes(encode_cdb([rng.random((9, 7)) < 0.5 for _ in range(4)], [1, 2, 3, 4]))
    images, labels = hoda.load_cdb(source)
    entries = list((tmp_path / "cache").glob("hoda-*.npz"))
    assert len(entries) == 1 and hoda.file_sha256(source) in entries[0].name

    def must_not_decode(*_: object) -> None:
        raise AssertionError("decoded again despite the cache")

    monkeypatch.setattr(hoda, "decode_cdb", must_not_decode)
    cached_images, cached_labels = hoda.load_cdb(source)
    np.testing.assert_array_equal(cached_images, images)
    np.testing.assert_array_equal(cached_labels, labels)

    entries[0].write_bytes(b"not a zip file")  # a damaged entry is rebuilt, not trusted
    monkeypatch.undo()
    dgm_env("DGM_CACHE_DIR", str(tmp_path / "cache"))
    rebuilt_images, _ = hoda.load_cdb(source)
    np.testing.assert_array_equal(rebuilt_images, images)
