"""sample() divides the logits by a temperature of 0.7 (sharper than the model): the samples are not
drawn from the model's own conditionals, though they may look fine."""
import copy

import _reference as reference
import torch

TEMPERATURE = 0.7
draw = reference.ImageGPT.sample


def sample(self, n, generator):
    head = self.head
    sharpened = copy.deepcopy(head)
    with torch.no_grad():
        sharpened.weight /= TEMPERATURE
        sharpened.bias /= TEMPERATURE
    self.head = sharpened
    try:
        return draw(self, n, generator)
    finally:
        self.head = head


reference.ImageGPT.sample = sample
load_model = reference.load_model
