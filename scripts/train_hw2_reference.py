"""Train the Homework 2 reference models (deterministic, CPU) and write their safetensors weights.

    .venv/bin/python scripts/train_hw2_reference.py [--configs p3_linear p8_mlp1 ...] [--epochs 8]

Uses the students' training split (Hoda ``train`` when the files are present, else the synthetic
digits), 90/10 for training and early stopping. Prints per-config time and validation NLL.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from grader_core.datasets import hoda_available, load_dataset

REFERENCE = Path(__file__).resolve().parent.parent / "test_suites" / "reference_solutions" / "hw2"
GRADED = ["p3_linear", "p8_linear", "p15_linear", "p8_mlp1", "p8_mlp1_pos"]


def reference_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bn_digits", REFERENCE / "bn_digits.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def nll_nats(model: torch.nn.Module, x: torch.Tensor) -> float:
    with torch.no_grad():
        return F.binary_cross_entropy_with_logits(model.logits(x), x, reduction="sum").item() / len(x)


def train(config: str, train_x: torch.Tensor, val_x: torch.Tensor, epochs: int, patience: int = 2) -> tuple[dict, float]:
    module = reference_module()
    torch.manual_seed(0)
    model = module.PixelBayesNet(config)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-2)
    generator = torch.Generator().manual_seed(0)
    best, best_state, stale = math.inf, None, 0
    for epoch in range(epochs):
        model.train()
        for batch in torch.randperm(len(train_x), generator=generator).split(128):
            x = train_x[batch]
            loss = F.binary_cross_entropy_with_logits(model.logits(x), x, reduction="sum") / len(x)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()
        score = nll_nats(model, val_x)
        print(f"  {config} epoch {epoch + 1}: validation NLL {score:.2f} nats", flush=True)
        if score < best - 1e-3:
            best, best_state, stale = score, {k: v.clone() for k, v in model.state_dict().items()}, 0
        else:
            stale += 1
            if stale >= patience:
                break
    assert best_state is not None
    return best_state, best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--configs", nargs="*", default=GRADED)
    parser.add_argument("--epochs", type=int, default=12)
    args = parser.parse_args()
    torch.set_num_threads(2)
    dataset = load_dataset("hoda" if hoda_available() else "synthetic", "train")
    images = torch.from_numpy(dataset.images.astype("float32"))
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(1))
    cut = int(0.9 * len(images))
    train_x, val_x = images[order[:cut]], images[order[cut:]]
    print(f"dataset {dataset.name}/{dataset.split}: {len(train_x)} train, {len(val_x)} validation", flush=True)
    (REFERENCE / "weights").mkdir(exist_ok=True)
    for config in args.configs:
        started = time.perf_counter()
        state, best = train(config, train_x, val_x, args.epochs)
        save_file(state, str(REFERENCE / "weights" / f"{config}.safetensors"))
        bits = best / (784 * math.log(2))
        print(f"{config}: validation NLL {best:.2f} nats ({bits:.4f} bits/dim), {time.perf_counter() - started:.0f} s", flush=True)


if __name__ == "__main__":
    sys.exit(main())
