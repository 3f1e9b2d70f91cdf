"""p15_linear's sampler compares the uniform draw the wrong way round (u > p): every pixel comes out
1 with probability 1 - p. (Planted through the sampler's head: u > sigmoid(l) is u < sigmoid(-l).)"""
from _reference import load_model as reference_load


def load_model(config, weights_dir):
    model = reference_load(config, weights_dir)
    if config == "p15_linear":
        head_layers = model._head_layers

        def inverted_head():
            head = head_layers()
            return lambda pre: -head(pre)

        model._head_layers = inverted_head
    return model
