"""p15_linear also uses the pixel above and to the right, which is not a parent."""
import torch.nn.functional as F
from _reference import load_model as reference_load


def load_model(config, weights_dir):
    model = reference_load(config, weights_dir)
    if config == "p15_linear":
        plain = model.logits

        def logits(x):
            up_right = F.pad(x.float(), (0, 1, 1, 0))[:, :-1, 1:]
            return plain(x) + 0.3 * up_right

        model.logits = logits
    return model
