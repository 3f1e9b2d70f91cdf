"""`order` claims raster order, but the conditionals follow the patch order."""
import _reference as reference
import torch


def load_model(weights_dir):
    model = reference.load_model(weights_dir)
    model.order = torch.arange(784)
    return model
