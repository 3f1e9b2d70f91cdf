"""sample() takes the most likely patch at every step instead of drawing one."""
import _reference as reference
import torch


def sample(self, n, generator):
    caches = [[] for _ in self.blocks]
    h = self.start.expand(n, 1, -1)
    tokens = torch.empty(n, 196, dtype=torch.long)
    for t in range(196):
        h = h + self.position[t]
        for block, cache in zip(self.blocks, caches):
            h = block(h, cache)
        tokens[:, t] = self.head(self.ln(h[:, -1])).argmax(-1)
        h = self.token(tokens[:, t : t + 1])
    return reference.to_image(tokens)


reference.ImageGPT.sample = sample
load_model = reference.load_model
