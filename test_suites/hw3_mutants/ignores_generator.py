"""sample() draws from torch's global random state, not from the generator it is given."""
import _reference as reference
import torch

draw = reference.ImageGPT.sample


def sample(self, n, generator):
    return draw(self, n, torch.Generator().manual_seed(int(torch.randint(2**31 - 1, ()))))


reference.ImageGPT.sample = sample
load_model = reference.load_model
