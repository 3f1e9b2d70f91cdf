"""`order` claims raster order, but the conditionals follow the patch order."""
import torch

import _reference as reference


def load_model(weights_dir):
    model = reference.load_model(weights_dir)
    model.order = torch.arange(784)
    return model
