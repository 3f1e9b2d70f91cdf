"""p8_mlp1's sampler draws from the global random state instead of the generator it is given."""
from _reference import load_model as reference_load


def load_model(config, weights_dir):
    model = reference_load(config, weights_dir)
    if config == "p8_mlp1":
        plain = model.sample
        model.sample = lambda n, generator: plain(n, None)
    return model
