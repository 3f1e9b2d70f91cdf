"""conditionals() attends to every patch: the causal mask is missing (the sampler is unchanged)."""
import types

import torch.nn.functional as F

import _reference as reference

reference.F = types.SimpleNamespace(**{**vars(F), "scaled_dot_product_attention":
                                        lambda q, k, v, is_causal=False: F.scaled_dot_product_attention(q, k, v)})
load_model = reference.load_model
