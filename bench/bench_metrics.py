#!/usr/bin/env python
"""Time FID and KID (torchmetrics, float64, digit-classifier features) for 1k and 5k samples.

    .venv/bin/python bench/bench_metrics.py

Scores the ``test`` split against the ``hidden`` split of Hoda (of the synthetic digits where the
Hoda files are absent). Each timing covers feature extraction of both sets plus the statistics; the
values printed are the scores themselves, for comparison across machines.
"""

from __future__ import annotations

import time

from grader_core.datasets import hoda_available, load_dataset
from grader_core.metrics.fid import fid
from grader_core.metrics.kid import kid

COUNTS = (1000, 5000)


def main() -> None:
    dataset = "hoda" if hoda_available() else "synthetic"
    samples, reference = load_dataset(dataset, "test").images, load_dataset(dataset, "hidden").images
    print(f"dataset: {dataset} (test vs hidden)")
    for count in COUNTS:
        started = time.perf_counter()
        fid_value = fid(samples[:count], reference[:count], dataset)
        fid_seconds = time.perf_counter() - started
        started = time.perf_counter()
        kid_value = kid(samples[:count], reference[:count], dataset, subset_size=min(1000, count))
        kid_seconds = time.perf_counter() - started
        print(
            f"N={count:5d}  FID {fid_value:8.4f} in {fid_seconds:5.2f} s   "
            f"KID {kid_value.mean:9.6f} ± {kid_value.std:.6f} in {kid_seconds:5.2f} s"
        )


if __name__ == "__main__":
    main()
