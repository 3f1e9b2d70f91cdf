"""The input is not shifted: patch t is predicted from patches <= t, so a pixel sees itself."""
import _reference as reference


def patch_logits(self, tokens):
    h = self.token(tokens) + self.position
    for block in self.blocks:
        h = block(h)
    return self.head(self.ln(h))


reference.ImageGPT.patch_logits = patch_logits
load_model = reference.load_model
