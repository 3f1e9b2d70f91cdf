#!/usr/bin/env python
"""Train the trusted digit classifiers and write their weights into grader_core/metrics/weights/.

    .venv/bin/python scripts/train_digit_classifier.py            # hoda, synthetic and mnist
    .venv/bin/python scripts/train_digit_classifier.py --dataset hoda

Each classifier is trained on its dataset's ``train`` split only, on the CPU, deterministically
(fixed seeds, deterministic algorithms; bit-identical for the same torch build and thread count).
Accuracy on the ``test`` and ``hidden`` splits, and on the other datasets' hidden splits, is
measured after training and recorded in the manifest next to the weights; nothing is tuned on it.
"""

from __future__ import annotations

import argparse
import logging
import time
from typing import Any

import numpy as np
import torch
from torch import nn

from grader_core.datasets import dataset_source, load_dataset
from grader_core.logging_setup import configure_logging
from grader_core.metrics.digit_classifier import DigitClassifier, as_image_tensor, classify, save_classifier

logger = logging.getLogger("train_digit_classifier")

DATASETS = ("hoda", "synthetic", "mnist")
BATCH_SIZE = 128
LEARNING_RATE = 2e-3
MAX_SHIFT = 2


def random_shift(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Shift each image by up to MAX_SHIFT pixels in x and y (zero fill), so the classifier and its
    features do not hinge on the exact centring of a digit."""
    padded = nn.functional.pad(images, (MAX_SHIFT,) * 4)
    span = 2 * MAX_SHIFT + 1
    offsets = torch.randint(0, span * span, (images.shape[0],), generator=generator)
    shifted = torch.empty_like(images)
    for offset in offsets.unique().tolist():
        dy, dx = divmod(offset, span)
        chosen = offsets == offset
        shifted[chosen] = padded[chosen, :, dy : dy + 28, dx : dx + 28]
    return shifted


def train(dataset: str, epochs: int, seed: int) -> DigitClassifier:
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    data = load_dataset(dataset, "train")
    images = as_image_tensor(data.images).float()
    labels = torch.from_numpy(np.array(data.labels))
    model = DigitClassifier()
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=1e-4)
    steps = epochs * -(-len(labels) // BATCH_SIZE)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=LEARNING_RATE, total_steps=steps)
    model.train()
    for epoch in range(epochs):
        order = torch.randperm(len(labels), generator=generator)
        total = 0.0
        for batch in order.split(BATCH_SIZE):
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(random_shift(images[batch], generator)), labels[batch])
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item() * len(batch)
        logger.info("%s epoch %d/%d: mean loss %.4f", dataset, epoch + 1, epochs, total / len(labels))
    model.eval().requires_grad_(False)
    with torch.inference_mode():
        features = torch.cat([model.body(batch) for batch in images.split(1000)])
    model.feature_scale.fill_(features.square().mean().sqrt())
    return model


def accuracy(model: DigitClassifier, dataset: str, split: str) -> float:
    data = load_dataset(dataset, split)
    return float(np.mean(classify(model, data.images).argmax(axis=1) == data.labels))


def evaluate(model: DigitClassifier, dataset: str) -> dict[str, float]:
    """Accuracy on the dataset's own test and hidden splits and on the other datasets' hidden splits."""
    scores = {split: accuracy(model, dataset, split) for split in ("test", "hidden")}
    for other in DATASETS:
        if other != dataset and dataset_source(other).available():
            scores[f"{other}/hidden"] = accuracy(model, other, "hidden")
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=(*DATASETS, "all"), default="all")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    configure_logging()
    torch.use_deterministic_algorithms(True)
    chosen = DATASETS if args.dataset == "all" else (args.dataset,)
    for dataset in chosen:
        if not dataset_source(dataset).available():
            raise SystemExit(f"dataset {dataset!r} is not available on this machine")
    for dataset in chosen:
        started = time.perf_counter()
        model = train(dataset, args.epochs, args.seed)
        seconds = time.perf_counter() - started
        info: dict[str, Any] = {
            "epochs": args.epochs,
            "seed": args.seed,
            "train_checksum": load_dataset(dataset, "train").checksum,
            "train_seconds": round(seconds, 1),
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
        }
        scores = evaluate(model, dataset)
        path = save_classifier(model, dataset, {**info, "accuracy": scores})
        logger.info("%s: trained in %.0f s, wrote %s; accuracy %s", dataset, seconds, path, scores)


if __name__ == "__main__":
    main()
