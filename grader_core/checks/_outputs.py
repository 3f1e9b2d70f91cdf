"""Validation of what came back from the sandbox, before any scoring: type, shape, dtype, finiteness."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .base import OutputProblem, ProbeOutcome


def require_ok(outcome: ProbeOutcome | None, what: str) -> ProbeOutcome:
    if outcome is None:
        raise OutputProblem(f"{what}: no output came back")
    if outcome.status != "ok":
        raise OutputProblem(outcome.message or f"{what}: {outcome.status.replace('_', ' ')}")
    return outcome


def as_number(outcome: ProbeOutcome | None, what: str) -> float:
    value = require_ok(outcome, what).value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise OutputProblem(f"{what}: expected a number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise OutputProblem(f"{what}: the value is not finite")
    return float(value)


def as_bool(outcome: ProbeOutcome | None, what: str) -> bool:
    value = require_ok(outcome, what).value
    if not isinstance(value, bool):
        raise OutputProblem(f"{what}: expected true or false")
    return value


def as_array(
    outcome: ProbeOutcome | None,
    what: str,
    name: str,
    shape: tuple[int | None, ...],
    kind: str = "f",
    finite: bool = True,
) -> np.ndarray:
    """``shape`` may hold ``None`` for any size; ``kind`` is a numpy dtype kind string (``"f"``, ``"iub"``...)."""
    arrays = require_ok(outcome, what).arrays
    if name not in arrays:
        raise OutputProblem(f"{what}: the output '{name}' is missing")
    array = arrays[name]
    if array.dtype.kind not in kind:
        raise OutputProblem(f"{what}: expected a numeric array, got dtype {array.dtype}")
    if len(array.shape) != len(shape) or any(want is not None and got != want for got, want in zip(array.shape, shape)):
        expected = "[" + ", ".join("*" if size is None else str(size) for size in shape) + "]"
        raise OutputProblem(f"{what}: expected shape {expected}, got {list(array.shape)}")
    if finite and array.dtype.kind == "f" and not np.isfinite(array).all():
        raise OutputProblem(f"{what}: the output contains NaN or infinite values")
    return array


def as_mapping(outcome: ProbeOutcome | None, what: str) -> dict[str, Any]:
    value = require_ok(outcome, what).value
    if not isinstance(value, dict):
        raise OutputProblem(f"{what}: expected a table")
    return value
