"""Call a function of the submission's entry module with JSON and array arguments."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..context import RunnerContext, SubmissionError
from . import OpOutput, operation


@operation("call")
def call_function(ctx: RunnerContext, args: dict[str, Any], arrays: dict[str, np.ndarray]) -> OpOutput:
    """``args = {"function": name, "kwargs": {...}}``; every input array is passed as a keyword
    argument too, 0-d arrays as plain Python numbers."""
    name = args["function"]
    function = getattr(ctx.module_named(args.get("module")), name, None)
    if not callable(function):
        raise SubmissionError(f"{args.get('module') or ctx.entry_module} does not define a function {name}()")
    kwargs = dict(args.get("kwargs", {}))
    kwargs.update({arg: value.item() if value.ndim == 0 else value for arg, value in arrays.items()})
    result = function(**kwargs)
    if isinstance(result, (bool, int, float, str)) or result is None:
        return OpOutput(value=result if not isinstance(result, float) else float(result))
    try:
        return OpOutput(arrays={"result": np.asarray(_to_numpy(result))})
    except (TypeError, ValueError):
        raise SubmissionError(f"{name}() returned a {type(result).__name__}, which is not a number or array") from None


def _to_numpy(value: Any) -> Any:
    detach = getattr(value, "detach", None)
    return detach().cpu().numpy() if detach is not None else value
