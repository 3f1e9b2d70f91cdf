"""Homework 3, Question 2 (reference): an extra-small Image GPT over binary 28x28 Persian digits.

Tokens are 2x2 binary patches (16 values, 196 tokens per image, patches in raster order). The
model predicts each patch from the ones before it; a pixel's conditional follows from the patch
distribution by the chain rule, the 4 pixels of a patch taken in the order (0,0), (0,1), (1,0), (1,1).
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import nn

CONFIG = {"n_embd": 16, "n_layer": 8, "n_head": 2, "vocab_size": 16, "block_size": 196}
SIDE, PATCH = 28, 2
GRID = SIDE // PATCH
# bit k of a token is the k-th pixel of its patch, in the order above
BITS = torch.tensor([[(value >> (3 - k)) & 1 for k in range(4)] for value in range(16)], dtype=torch.float32)


def patch_order() -> torch.Tensor:
    """Raster pixel indices in generation order: patch by patch, 4 pixels per patch."""
    order = [(2 * r + dr) * SIDE + 2 * c + dc for r in range(GRID) for c in range(GRID) for dr in (0, 1) for dc in (0, 1)]
    return torch.tensor(order, dtype=torch.long)


def to_tokens(x: torch.Tensor) -> torch.Tensor:
    patches = x.float().reshape(-1, GRID, PATCH, GRID, PATCH).permute(0, 1, 3, 2, 4).reshape(-1, GRID * GRID, 4)
    return (patches * torch.tensor([8.0, 4.0, 2.0, 1.0])).sum(-1).long()


def to_image(tokens: torch.Tensor) -> torch.Tensor:
    patches = BITS[tokens].reshape(-1, GRID, GRID, PATCH, PATCH)
    return patches.permute(0, 1, 3, 2, 4).reshape(-1, SIDE, SIDE)


class Block(nn.Module):
    def __init__(self, n_embd: int, n_head: int):
        super().__init__()
        self.n_head = n_head
        self.ln1, self.ln2 = nn.LayerNorm(n_embd), nn.LayerNorm(n_embd)
        self.qkv, self.proj = nn.Linear(n_embd, 3 * n_embd), nn.Linear(n_embd, n_embd)
        self.mlp = nn.Sequential(nn.Linear(n_embd, 4 * n_embd), nn.GELU(), nn.Linear(4 * n_embd, n_embd))

    def forward(self, h: torch.Tensor, cache: list[torch.Tensor] | None = None) -> torch.Tensor:
        batch, steps, width = h.shape
        q, k, v = self.qkv(self.ln1(h)).split(width, dim=2)
        q, k, v = (t.view(batch, steps, self.n_head, -1).transpose(1, 2) for t in (q, k, v))
        if cache is not None:  # incremental decoding: keys and values of earlier steps are kept
            if cache:
                k, v = torch.cat([cache[0], k], dim=2), torch.cat([cache[1], v], dim=2)
            cache[:] = [k, v]
        attended = F.scaled_dot_product_attention(q, k, v, is_causal=cache is None)
        h = h + self.proj(attended.transpose(1, 2).reshape(batch, steps, width))
        return h + self.mlp(self.ln2(h))


class ImageGPT(nn.Module):
    def __init__(self, config: dict[str, int] = CONFIG):
        super().__init__()
        self.config = dict(config)
        width = config["n_embd"]
        self.token = nn.Embedding(config["vocab_size"], width)
        self.position = nn.Parameter(torch.zeros(config["block_size"], width))
        self.start = nn.Parameter(torch.zeros(width))  # stands before the first patch
        self.blocks = nn.ModuleList(Block(width, config["n_head"]) for _ in range(config["n_layer"]))
        self.ln = nn.LayerNorm(width)
        self.head = nn.Linear(width, config["vocab_size"])
        self.register_buffer("order", patch_order(), persistent=False)

    def patch_logits(self, tokens: torch.Tensor) -> torch.Tensor:
        """[B, 196] tokens -> [B, 196, 16]: logits of patch t given patches < t."""
        inputs = torch.cat([self.start.expand(len(tokens), 1, -1), self.token(tokens[:, :-1])], dim=1)
        h = inputs + self.position
        for block in self.blocks:
            h = block(h)
        return self.head(self.ln(h))

    def conditionals(self, x: torch.Tensor) -> torch.Tensor:
        probs = self.patch_logits(to_tokens(x)).softmax(-1)  # [B, 196, 16]
        pixels = x.float().reshape(-1, GRID, PATCH, GRID, PATCH).permute(0, 1, 3, 2, 4).reshape(-1, GRID * GRID, 4)
        out = torch.empty_like(pixels)
        consistent = torch.ones_like(probs)  # which patch values agree with the pixels seen so far
        for k in range(4):
            mass = probs * consistent
            out[..., k] = (mass * BITS[:, k]).sum(-1) / mass.sum(-1).clamp_min(1e-30)
            consistent = consistent * (BITS[:, k] == pixels[..., k : k + 1]).float()
        return out.reshape(-1, GRID, GRID, PATCH, PATCH).permute(0, 1, 3, 2, 4).reshape(-1, SIDE, SIDE)

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        caches: list[list[torch.Tensor]] = [[] for _ in self.blocks]
        h = self.start.expand(n, 1, -1)
        tokens = torch.empty(n, self.config["block_size"], dtype=torch.long)
        for t in range(self.config["block_size"]):
            h = h + self.position[t]
            for block, cache in zip(self.blocks, caches):
                h = block(h, cache)
            probs = self.head(self.ln(h[:, -1])).softmax(-1)
            tokens[:, t] = torch.multinomial(probs, 1, generator=generator)[:, 0]
            h = self.token(tokens[:, t : t + 1])
        return to_image(tokens)


def load_model(weights_dir: Path) -> nn.Module:
    model = ImageGPT()
    model.load_state_dict(load_file(str(Path(weights_dir) / "igpt.safetensors")))
    return model.eval()
