"""Homework 3's Image GPT written the way minGPT samples: correct, with no key/value cache, so each
of the 196 steps runs the whole prefix through the transformer again. The grader's time budget for
sampling is sized against this (bench/student_budgets.py)."""
import types

import torch
from _reference import to_image
from _reference import load_model as reference_load


def _sample(self, n, generator):
    tokens = torch.zeros(n, 0, dtype=torch.long)
    with torch.no_grad():
        for t in range(self.config["block_size"]):
            h = torch.cat([self.start.expand(n, 1, -1), self.token(tokens)], dim=1) + self.position[: t + 1]
            for block in self.blocks:
                h = block(h)
            probs = self.head(self.ln(h[:, -1])).softmax(-1)
            tokens = torch.cat([tokens, torch.multinomial(probs, 1, generator=generator)], dim=1)
    return to_image(tokens)


def load_model(weights_dir):
    model = reference_load(weights_dir)
    model.sample = types.MethodType(_sample, model)
    return model
