"""p8_linear's sampler takes the most likely value of every pixel instead of drawing it."""
import torch
from _reference import load_model as reference_load


def load_model(config, weights_dir):
    model = reference_load(config, weights_dir)
    if config == "p8_linear":
        def sample(n, generator):
            canvas = torch.zeros(n, 28, 28)
            for i in range(28):
                for j in range(28):
                    canvas[:, i, j] = (model.conditionals(canvas)[:, i, j] > 0.5).float()
            return canvas

        model.sample = sample
    return model
