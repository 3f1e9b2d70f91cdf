"""Homework 2 reference: a Bayesian network over the 784 pixels of a binary Persian digit.

Pixel (i, j)'s parents are the pixels (i - a, j - b), 0 <= a, b <= k, (a, b) != (0, 0), with pixels
outside the image counting as 0. The CPD P(x_ij = 1 | parents) = sigmoid(f(parents)) shares its
parameters across pixels: f is a masked (k+1)x(k+1) convolution over the zero-padded image
(anchored so that output (i, j) sees exactly the parent window), optionally followed by 1x1
convolutions (the MLP), optionally with the positional features x = j/27, y = i/27 as inputs.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import nn

SIZE = 28
HIDDEN = 32
WINDOW = {3: 1, 8: 2, 15: 3}
CONFIG = re.compile(r"^p(3|8|15)_(linear|mlp1|mlp2)(_pos)?$")


def parse_config(config: str) -> tuple[int, int, bool]:
    """(k, number of hidden layers, positional features) of a configuration name."""
    match = CONFIG.match(config)
    if match is None:
        raise ValueError(f"unknown configuration {config!r}")
    parents, kind, pos = match.groups()
    return WINDOW[int(parents)], {"linear": 0, "mlp1": 1, "mlp2": 2}[kind], pos is not None


class PixelBayesNet(nn.Module):
    def __init__(self, config: str):
        super().__init__()
        self.config = config
        self.k, hidden_layers, self.positional = parse_config(config)
        width = HIDDEN if hidden_layers else 1
        mask = torch.ones(self.k + 1, self.k + 1)
        mask[-1, -1] = 0.0  # the pixel itself is not its own parent
        self.register_buffer("mask", mask.view(1, 1, self.k + 1, self.k + 1), persistent=False)
        self.parents = nn.Conv2d(1, width, self.k + 1)
        self.position = nn.Conv2d(2, width, 1, bias=False) if self.positional else None
        layers: list[nn.Module] = []
        for _ in range(hidden_layers - 1):
            layers += [nn.Conv2d(HIDDEN, HIDDEN, 1), nn.ReLU()]
        self.hidden = nn.Sequential(*layers)
        self.output = nn.Conv2d(HIDDEN, 1, 1) if hidden_layers else None
        rows, cols = torch.meshgrid(torch.arange(SIZE), torch.arange(SIZE), indexing="ij")
        self.register_buffer("xy", torch.stack([cols, rows]).float().div(SIZE - 1).unsqueeze(0), persistent=False)

    def _logits(self, windows: torch.Tensor, xy: torch.Tensor) -> torch.Tensor:
        """Logits for every output position of ``windows`` (already padded), with features ``xy``."""
        pre = F.conv2d(windows, self.parents.weight * self.mask, self.parents.bias)
        if self.position is not None:
            pre = pre + self.position(xy)
        if self.output is None:
            return pre[:, 0]
        return self.output(self.hidden(torch.relu(pre)))[:, 0]

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        padded = F.pad(x.float().unsqueeze(1), (self.k, 0, self.k, 0))
        return self._logits(padded, self.xy)

    def conditionals(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logits(x))

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """Ancestral sampling in raster order (every parent precedes its child).

        The same layers as ``logits``, written as matrix products on one window at a time, because
        784 tiny convolutions cost far more than the arithmetic.
        """
        k = self.k
        weight = (self.parents.weight * self.mask).flatten(1).T  # [(k+1)^2, width]
        bias = self.parents.bias
        if self.position is not None:
            bias = bias + (self.position.weight.flatten(1) @ self.xy.flatten(2)[0]).T  # [784, width]
        else:
            bias = bias.expand(SIZE * SIZE, -1)
        head = self._head_layers()
        canvas = torch.zeros(n, SIZE + k, SIZE + k)
        draws = torch.rand(SIZE * SIZE, n, generator=generator)
        for i in range(SIZE):
            for j in range(SIZE):
                window = canvas[:, i : i + k + 1, j : j + k + 1].reshape(n, -1)
                logit = head(window @ weight + bias[i * SIZE + j])
                canvas[:, i + k, j + k] = (draws[i * SIZE + j] < torch.sigmoid(logit)).float()
        return canvas[:, k:, k:]

    def _head_layers(self):  # type: ignore[no-untyped-def]
        """The layers after the parent window, as functions of a [n, width] pre-activation."""
        if self.output is None:
            return lambda pre: pre[:, 0]
        linears = [(layer.weight.flatten(1), layer.bias) for layer in self.hidden if isinstance(layer, nn.Conv2d)]
        out_weight, out_bias = self.output.weight.flatten(1), self.output.bias

        def head(pre: torch.Tensor) -> torch.Tensor:
            h = torch.relu(pre)
            for weight, bias in linears:
                h = torch.relu(h @ weight.T + bias)
            return (h @ out_weight.T + out_bias)[:, 0]

        return head


def load_model(config: str, weights_dir: Path) -> nn.Module:
    model = PixelBayesNet(config)
    model.load_state_dict(load_file(str(Path(weights_dir) / f"{config}.safetensors")))
    return model.eval()
