"""conditionals() attends to every patch: the causal mask is missing (the sampler is unchanged)."""
import types

import _reference as reference
import torch.nn.functional as F

reference.F = types.SimpleNamespace(**{**vars(F), "scaled_dot_product_attention":
                                        lambda q, k, v, is_causal=False: F.scaled_dot_product_attention(q, k, v)})
load_model = reference.load_model
