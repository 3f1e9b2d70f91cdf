"""Train the Homework 3 reference Image GPT (deterministic) and write weights/igpt.safetensors.

    .venv/bin/python scripts/train_hw3_igpt.py [--minutes 15] [--device cpu|cuda]

The students' protocol: an 85/10/5 split of the training digits, early stopping on the 10%
validation part; the 5% test part is reported. On a CPU the run is time-boxed (--minutes); on a
GPU it trains to convergence. Prints the NLL in nats and bits/dim.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from grader_core.datasets import hoda_available, load_dataset

REFERENCE = Path(__file__).resolve().parent.parent / "test_suites" / "reference_solutions" / "hw3"


def reference_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("igpt", REFERENCE / "igpt.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def nll_nats(model: torch.nn.Module, module, images: torch.Tensor, device: str) -> float:  # type: ignore[no-untyped-def]
    total = 0.0
    with torch.no_grad():
        for batch in images.split(500):
            tokens = module.to_tokens(batch).to(device)
            total += F.cross_entropy(model.patch_logits(tokens).transpose(1, 2), tokens, reduction="sum").item()
    return total / len(images)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=15.0)
    parser.add_argument("--max-epochs", type=int, default=60)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    torch.manual_seed(0)
    module = reference_module()
    dataset = load_dataset("hoda" if hoda_available() else "synthetic", "train")
    images = torch.from_numpy(dataset.images.astype("float32"))
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(2))
    n_train, n_val = int(0.85 * len(images)), int(0.10 * len(images))
    train, val, test = images[order[:n_train]], images[order[n_train : n_train + n_val]], images[order[n_train + n_val :]]
    print(f"{dataset.name}: {len(train)} train / {len(val)} validation / {len(test)} test on {args.device}", flush=True)

    model = module.ImageGPT().to(args.device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    deadline = time.monotonic() + 60 * args.minutes
    best, best_state, stale, step = math.inf, None, 0, 0
    generator = torch.Generator().manual_seed(0)
    started = time.monotonic()
    for epoch in range(args.max_epochs):
        model.train()
        for batch in torch.randperm(len(train), generator=generator).split(args.batch):
            tokens = module.to_tokens(train[batch]).to(args.device)
            loss = F.cross_entropy(model.patch_logits(tokens).transpose(1, 2), tokens)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            step += 1
            if time.monotonic() > deadline:
                break
        model.eval()
        score = nll_nats(model, module, val, args.device)
        print(f"  epoch {epoch + 1} (step {step}): validation NLL {score:.2f} nats", flush=True)
        if score < best - 0.05:
            best, best_state, stale = score, {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}, 0
        else:
            stale += 1
        if stale >= 3 or time.monotonic() > deadline:
            break
    assert best_state is not None
    (REFERENCE / "weights").mkdir(exist_ok=True)
    save_file(best_state, str(REFERENCE / "weights" / "igpt.safetensors"))
    model.load_state_dict(best_state)
    test_nll = nll_nats(model.eval(), module, test, args.device)
    print(f"igpt: validation NLL {best:.2f} nats, test NLL {test_nll:.2f} nats ({test_nll / (784 * math.log(2)):.4f} bits/dim), "
          f"{time.monotonic() - started:.0f} s, {step} steps", flush=True)


if __name__ == "__main__":
    main()
