"""Reader for the Hoda handwritten Persian digit database (``.cdb`` files).

Layout (little-endian). A 1024-byte header::

    uint16 year, uint8 month, uint8 day,
    uint8 height, uint8 width          (both 0: every record carries its own size)
    uint32 record count
    uint32 class counts[128]
    uint8 image type                   (0: binary, run-length encoded; the only kind supported)
    free text (a comment), zero padding up to byte 1024

then, per record::

    0xFF, uint8 label, [uint8 width, uint8 height when sizes vary], uint16 byte count,
    byte count bytes of run lengths

Each row is a sequence of run lengths that add up to the width, alternating background and digit
and starting with background (a row may start with a zero-length background run).

Decoding is vectorized: only the record headers are walked in Python; the runs of all records are
expanded to pixels with numpy in one go. The result is normalized like MNIST
(:mod:`grader_core.datasets.normalize`) and cached by the source file's SHA-256.
"""

from __future__ import annotations

import logging
import struct
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader_core.datasets.cache import cached_arrays, file_sha256
from grader_core.datasets.normalize import fit_all_to_frame
from grader_core.datasets.paths import shared_data_dir

logger = logging.getLogger(__name__)

HEADER_SIZE = 1024
RECORD_MARK = 0xFF
_FIXED_HEADER = struct.Struct("<HBBBBI128IB")

TEST_FILE = "Test_20000.cdb"
REMAINING_FILE = "Remaining_Samples.cdb"
# The files the expected split checksums were computed from.
KNOWN_SHA256 = {
    TEST_FILE: "f947c38071c886677ec212fe5000863fafae0b4ed349d97d51c33abe3c8e2b07",
    REMAINING_FILE: "11c9b0661b8de5f743b1b01ac76b4de19b238062d6da3500b5d6128fb1989e3d",
}
# Bump when the decoding or normalization changes what a file decodes to, to retire old cache entries.
_DECODER_VERSION = 1


class HodaFormatError(ValueError):
    """The bytes are not a well-formed Hoda ``.cdb`` file."""


@dataclass(frozen=True)
class CdbHeader:
    year: int
    month: int
    day: int
    height: int
    width: int
    record_count: int
    class_counts: tuple[int, ...]
    image_type: int
    comment: str

    @property
    def variable_size(self) -> bool:
        return self.height == 0 and self.width == 0


@dataclass(frozen=True)
class RawRecords:
    """Undecoded records: where each one's run bytes lie in the file, and its size and label."""

    labels: np.ndarray  # int64 [N]
    heights: np.ndarray  # int64 [N]
    widths: np.ndarray  # int64 [N]
    starts: np.ndarray  # int64 [N], offset of the first run byte
    lengths: np.ndarray  # int64 [N], number of run bytes


def hoda_dir() -> Path:
    return shared_data_dir() / "hoda"


def hoda_available() -> bool:
    """Whether both Hoda files are present in the shared data folder."""
    return all((hoda_dir() / name).is_file() for name in KNOWN_SHA256)


def parse_header(data: bytes, source: str = "<bytes>") -> CdbHeader:
    if len(data) < HEADER_SIZE:
        raise HodaFormatError(f"{source}: {len(data)} bytes, shorter than the {HEADER_SIZE}-byte header")
    year, month, day, height, width, count, *rest = _FIXED_HEADER.unpack_from(data, 0)
    class_counts, image_type = tuple(rest[:128]), rest[128]
    comment = data[_FIXED_HEADER.size : HEADER_SIZE].split(b"\0", 1)[0].decode("latin-1")
    header = CdbHeader(year, month, day, height, width, count, class_counts, image_type, comment)
    if image_type != 0:
        raise HodaFormatError(f"{source}: image type {image_type} is not supported (only 0, binary RLE)")
    if (height == 0) != (width == 0):
        raise HodaFormatError(f"{source}: header size {width}x{height} is neither fixed nor variable")
    if sum(class_counts) != count:
        raise HodaFormatError(f"{source}: class counts add up to {sum(class_counts)}, not the {count} records")
    return header


def scan_records(data: bytes, header: CdbHeader, source: str = "<bytes>") -> RawRecords:
    """Walk the record headers, checking marks, sizes and bounds; leaves the runs undecoded."""
    count = header.record_count
    fields = np.zeros((5, count), dtype=np.int64)
    head_size = 6 if header.variable_size else 4
    offset = HEADER_SIZE
    for index in range(count):
        if offset + head_size > len(data):
            raise HodaFormatError(
                f"{source}: truncated: record {index} of {count} starts at byte {offset}, "
                f"but the file has {len(data)} bytes"
            )
        if data[offset] != RECORD_MARK:
            raise HodaFormatError(
                f"{source}: record {index} at byte {offset} starts with {data[offset]:#04x}, not {RECORD_MARK:#04x}"
            )
        label = data[offset + 1]
        if header.variable_size:
            width, height = data[offset + 2], data[offset + 3]
        else:
            width, height = header.width, header.height
        length = data[offset + head_size - 2] | data[offset + head_size - 1] << 8
        start = offset + head_size
        if start + length > len(data):
            raise HodaFormatError(
                f"{source}: truncated: record {index} of {count} needs bytes up to {start + length}, "
                f"but the file has {len(data)}"
            )
        if width == 0 or height == 0:
            raise HodaFormatError(f"{source}: record {index} at byte {offset} has size {width}x{height}")
        fields[:, index] = label, height, width, start, length
        offset = start + length
    if offset != len(data):
        raise HodaFormatError(f"{source}: {len(data) - offset} unexpected bytes after the last record")
    records = RawRecords(*fields)
    histogram = np.bincount(records.labels, minlength=128)
    if histogram.size > 128 or not np.array_equal(histogram, header.class_counts):
        raise HodaFormatError(f"{source}: the records' labels do not match the header's class counts")
    return records


def decode_runs(data: bytes, records: RawRecords, source: str = "<bytes>") -> list[np.ndarray]:
    """Expand every record's run lengths into a bool [height, width] image (True = digit)."""
    if records.labels.size == 0:
        return []
    buffer = np.frombuffer(data, dtype=np.uint8)
    # Gather all run bytes: mark each record's byte range, then keep the marked bytes.
    delta = np.zeros(buffer.size + 1, dtype=np.int64)
    np.add.at(delta, records.starts, 1)
    np.add.at(delta, records.starts + records.lengths, -1)
    runs = buffer[np.cumsum(delta[:-1]) > 0].astype(np.int64)
    owner = np.repeat(np.arange(records.labels.size), records.lengths)

    areas = records.heights * records.widths
    totals = np.bincount(owner, weights=runs, minlength=records.labels.size).astype(np.int64)
    wrong = np.flatnonzero(totals != areas)
    if wrong.size:
        index = int(wrong[0])
        raise HodaFormatError(
            f"{source}: record {index}'s runs cover {totals[index]} pixels, not its "
            f"{records.widths[index]}x{records.heights[index]} (and {wrong.size - 1} more such records)"
        )

    # Position within the record after each run; a run that lands on a multiple of the width ends a row.
    record_start = np.concatenate(([0], np.cumsum(areas)[:-1]))
    after = np.cumsum(runs) - record_start[owner]
    before = after - runs
    width = records.widths[owner]
    crossing = (runs > 0) & (before // width != (after - 1) // width)
    if crossing.any():
        index = int(owner[np.argmax(crossing)])
        raise HodaFormatError(f"{source}: record {index} has a run that crosses a row boundary")
    row_end = (runs > 0) & (after % width == 0)
    row_start = np.concatenate(([True], row_end[:-1]))
    position = np.arange(runs.size)
    first_of_row = np.maximum.accumulate(np.where(row_start, position, 0))
    digit = ((position - first_of_row) & 1).astype(bool)

    pixels = np.repeat(digit, runs)
    bounds = np.cumsum(areas)[:-1]
    return [
        flat.reshape(int(h), int(w))
        for flat, h, w in zip(np.split(pixels, bounds), records.heights, records.widths, strict=True)
    ]


def decode_cdb(data: bytes, source: str = "<bytes>") -> tuple[np.ndarray, np.ndarray]:
    """Decode a whole ``.cdb`` file: uint8 [N, 28, 28] images (digit = 1) and int64 [N] labels."""
    header = parse_header(data, source)
    records = scan_records(data, header, source)
    images = fit_all_to_frame(decode_runs(data, records, source))
    return images, records.labels


def load_cdb(path: Path, expected_sha256: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`decode_cdb` on a file, through the cache (keyed by the file's SHA-256).

    With ``expected_sha256``, a file with other contents is refused.
    """
    if not path.is_file():
        raise FileNotFoundError(f"Hoda file not found: {path} (set DGM_SHARED_DATA_DIR to its data folder)")
    digest = file_sha256(path)
    if expected_sha256 is not None and digest != expected_sha256:
        raise HodaFormatError(f"{path} has SHA-256 {digest}, expected {expected_sha256}")

    def build() -> dict[str, np.ndarray]:
        started = time.perf_counter()
        images, labels = decode_cdb(path.read_bytes(), str(path))
        logger.info("decoded %d Hoda digits from %s in %.1f s", len(labels), path, time.perf_counter() - started)
        return {"images": images, "labels": labels}

    arrays = cached_arrays(f"hoda-v{_DECODER_VERSION}-{digest}", build)
    return arrays["images"], arrays["labels"]


def load_known_file(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Load one of the two Hoda files from the shared data folder, checking it is the known file."""
    return load_cdb(hoda_dir() / name, KNOWN_SHA256[name])
