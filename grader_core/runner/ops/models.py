"""Operations on a PyTorch model the submission builds with its own loader.

The model is loaded once per sandbox run (weights read inside the sandbox only, by the student's
loader). A loader that runs past its probe's time limit is not called again: every other probe that
needs that model fails at once with the same message, instead of blocking until its own limit.
Every call runs under ``torch.no_grad``; results go back as numpy arrays.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from ..context import ProbeTimeout, RunnerContext, SubmissionError, unwrap
from . import OpOutput, operation

_MODELS: dict[str, Any] = {}  # a loaded model, or the SubmissionError of a loader that timed out


def load(ctx: RunnerContext, spec: dict[str, Any]) -> Any:
    """``spec = {"module": file or None, "function": "load_model", "kwargs": {...}}``; the loader
    also gets ``weights_dir`` (the submission's ``weights/``) as a Path."""
    key = json.dumps(spec, sort_keys=True)
    if key not in _MODELS:
        module = spec.get("module")
        name = spec.get("function", "load_model")
        function = getattr(ctx.module_named(module), name, None)
        if not callable(function):
            raise SubmissionError(f"{module or ctx.entry_module} does not define {name}()")
        kwargs = dict(spec.get("kwargs", {}))
        kwargs["weights_dir"] = ctx.submission_dir / "weights"
        try:
            model = function(**kwargs)
            if hasattr(model, "eval"):
                model.eval()
        except ProbeTimeout:
            timed_out = SubmissionError(f"{name}() did not return within {ctx.probe_timeout_s:g} s; "
                                        f"the grader allows {ctx.time_allowance()}")
            _MODELS[key] = timed_out
            raise ProbeTimeout(str(timed_out)) from None
        _MODELS[key] = model
    return unwrap(_MODELS[key])


def _method(model: Any, name: str) -> Any:
    method = getattr(model, name, None)
    if not callable(method):
        raise SubmissionError(f"the model has no method {name}()")
    return method


def _numpy(value: Any, what: str) -> np.ndarray:
    detach = getattr(value, "detach", None)
    try:
        return np.asarray(detach().cpu().numpy() if detach is not None else value)
    except (TypeError, ValueError):
        raise SubmissionError(f"{what} did not return a tensor") from None


def conditionals(model: Any, x: np.ndarray, batch: int, dtype: str) -> np.ndarray:
    import torch

    method = _method(model, "conditionals")
    parts = []
    with torch.no_grad():
        for start in range(0, len(x), batch):
            chunk = torch.from_numpy(x[start : start + batch].astype(np.float32))
            parts.append(_numpy(method(chunk), "conditionals()").astype(dtype, copy=False))
    return np.concatenate(parts) if parts else np.zeros((0, *x.shape[1:]), dtype=dtype)


def sample(model: Any, n: int, seed: int) -> np.ndarray:
    import torch

    generator = torch.Generator().manual_seed(int(seed))
    with torch.no_grad():
        return _numpy(_method(model, "sample")(int(n), generator), "sample()")


@operation("model.conditionals")
def model_conditionals(ctx: RunnerContext, args: dict[str, Any], arrays: dict[str, np.ndarray]) -> OpOutput:
    model = load(ctx, args["load"])
    probs = conditionals(model, arrays["x"], int(args.get("batch", 500)), args.get("dtype", "float32"))
    return OpOutput(arrays={"probs": probs})


@operation("model.sample")
def model_sample(ctx: RunnerContext, args: dict[str, Any], arrays: dict[str, np.ndarray]) -> OpOutput:
    """Samples from a seeded generator; optionally the model's conditionals on its own samples."""
    model = load(ctx, args["load"])
    samples = sample(model, args["n"], args["seed"])
    outputs = {"samples": samples}
    if args.get("with_conditionals"):
        outputs["probs"] = conditionals(model, samples, int(args.get("batch", 500)), "float32")
    return OpOutput(arrays=outputs)


@operation("model.describe")
def model_describe(ctx: RunnerContext, args: dict[str, Any], arrays: dict[str, np.ndarray]) -> OpOutput:
    """The model's declared ``config``, its parameter count and, if it has one, its ``order``."""
    model = load(ctx, args["load"])
    config = getattr(model, "config", None)
    parameters = getattr(model, "parameters", None)
    count = sum(int(p.numel()) for p in parameters()) if callable(parameters) else None
    outputs: dict[str, np.ndarray] = {}
    order = getattr(model, "order", None)
    if order is not None:
        outputs["order"] = _numpy(order, "order")
    try:
        value = {"config": json.loads(json.dumps(config)) if config is not None else None, "parameters": count}
    except (TypeError, ValueError):
        raise SubmissionError("the model's config is not a plain dict of numbers and strings") from None
    return OpOutput(value=value, arrays=outputs)
