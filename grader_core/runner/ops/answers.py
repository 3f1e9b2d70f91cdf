"""Read answers from the submission's answers file and turn them into numbers.

Expressions are parsed (``..expressions``), never evaluated as Python; they are still read here,
inside the sandbox, so a pathological answer costs the student's time, not the grader's.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..context import RunnerContext, SubmissionError
from . import OpOutput, operation

_TRUE_WORDS = {"true", "yes", "y", "t", "1", "independent"}
_FALSE_WORDS = {"false", "no", "n", "f", "0", "dependent", "not independent"}


def parse_expression(text: Any, key: str, variables: list[str]) -> Any:
    from .. import expressions  # imports SymPy: only runs that read answers pay for it

    try:
        return expressions.parse_expression(text, variables, sums=True)
    except expressions.ExpressionError as exc:
        raise SubmissionError(f"{key} {exc}") from None


def to_real(value: Any, key: str) -> float:
    from .. import expressions

    try:
        number = expressions.evaluate(value)
    except expressions.ExpressionError as exc:
        raise SubmissionError(f"{key} {exc}") from None
    if abs(number.imag) > 1e-12 * max(1.0, abs(number.real)):
        raise SubmissionError(f"{key} evaluates to a complex number")
    if not math.isfinite(number.real):
        raise SubmissionError(f"{key} is not finite")
    return number.real


@operation("answer.number")
def answer_number(ctx: RunnerContext, args: dict[str, Any], arrays: dict[str, np.ndarray]) -> OpOutput:
    key = args["key"]
    return OpOutput(value=to_real(parse_expression(ctx.answer(key), key, []), key))


@operation("answer.boolean")
def answer_boolean(ctx: RunnerContext, args: dict[str, Any], arrays: dict[str, np.ndarray]) -> OpOutput:
    key = args["key"]
    raw = ctx.answer(key)
    if isinstance(raw, bool):
        return OpOutput(value=raw)
    word = str(raw).strip().lower()
    if word in _TRUE_WORDS:
        return OpOutput(value=True)
    if word in _FALSE_WORDS:
        return OpOutput(value=False)
    raise SubmissionError(f"{key} must be true or false")


@operation("answer.expression")
def answer_expression(ctx: RunnerContext, args: dict[str, Any], arrays: dict[str, np.ndarray]) -> OpOutput:
    """Evaluate an expression answer at the points the trusted side chose (one row per point)."""
    key = args["key"]
    variables: list[str] = list(args["variables"])
    expression = parse_expression(ctx.answer(key), key, variables)
    points = np.asarray(arrays["points"], dtype=np.float64)
    symbols = sorted(expression.free_symbols, key=lambda symbol: variables.index(str(symbol)))
    values = np.empty(len(points), dtype=np.float64)
    for row, point in enumerate(points):
        substitution = {symbol: _exact(point[variables.index(str(symbol))]) for symbol in symbols}
        try:
            values[row] = to_real(expression.subs(substitution), key)
        except SubmissionError:
            values[row] = np.nan
    return OpOutput(arrays={"values": values})


@operation("answer.table")
def answer_table(ctx: RunnerContext, args: dict[str, Any], arrays: dict[str, np.ndarray]) -> OpOutput:
    """A (possibly nested) mapping of numbers, returned flat as ``{"outer/inner": value}``."""
    key = args["key"]
    raw = ctx.answer(key)
    if not isinstance(raw, dict):
        raise SubmissionError(f"{key} must be a table (a mapping from values to probabilities)")
    flat: dict[str, float] = {}
    _flatten_table(raw, key, "", flat)
    return OpOutput(value=flat)


def _flatten_table(table: dict[Any, Any], key: str, prefix: str, into: dict[str, float]) -> None:
    if len(table) > 1000:
        raise SubmissionError(f"{key} has too many entries")
    for name, value in table.items():
        entry = f"{prefix}{name}"
        if isinstance(value, dict):
            _flatten_table(value, key, f"{entry}/", into)
        else:
            into[entry] = to_real(parse_expression(value, f"{key}[{entry}]", []), f"{key}[{entry}]")


def _exact(value: float) -> Any:
    import sympy

    return sympy.Integer(int(value)) if float(value).is_integer() else sympy.Float(float(value), 30)
