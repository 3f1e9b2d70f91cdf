"""Trusted staff code that ships with a suite (e.g. ``test_suites/hw3_support/elbo.py``): reference
functions, the usual mistakes, input generators. Loaded on the trusted side only, by path relative
to the suite file and only from inside the suite's folder; it never enters a sandbox."""

from __future__ import annotations

import importlib.util
import math
import types
from functools import lru_cache
from pathlib import Path

import numpy as np
from pydantic import Field

from ..suite.schema import SuitePath, resolve_in_suite
from ._outputs import require_ok
from .base import OutputProblem, Params, ProbeOutcome


class StaffFunctionParams(Params):
    """A function of the submission checked with the help of a staff module."""

    support: SuitePath = Field(description="the staff module, inside the suite's folder, relative to the suite file")
    function: str
    module: str | None = Field(None, description="the submission's file, if not the entry module")

    def suite_files(self) -> list[str]:
        return [self.support]

    def staff(self, suite_dir: Path) -> types.ModuleType:
        return staff_module(resolve_in_suite(suite_dir, self.support))


@lru_cache(maxsize=32)
def staff_module(path: Path) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(f"dgm_staff_{path.stem}_{abs(hash(path))}", path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(f"staff module {path} not found")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def as_arrays(inputs: dict[str, object]) -> dict[str, np.ndarray]:
    """Inputs cross the boundary as arrays (scalars as 0-d arrays), never as pickles."""
    return {name: np.asarray(value, dtype=np.float64) for name, value in inputs.items()}


def call_inputs(outcome: ProbeOutcome) -> dict[str, object]:
    """The inputs a call probe was sent, as the function received them."""
    return {name: value.item() if value.ndim == 0 else value for name, value in outcome.inputs.items()}


def returned_number(outcome: ProbeOutcome | None, function: str) -> float:
    outcome = require_ok(outcome, f"{function}()")
    value = outcome.value
    if "result" in outcome.arrays and outcome.arrays["result"].size == 1:
        value = outcome.arrays["result"].item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise OutputProblem(f"{function}() must return a number")
    if not math.isfinite(value):
        raise OutputProblem(f"{function}() returned a value that is not finite")
    return float(value)
