"""Instructor-written expected values turned into numbers.

The text comes from a suite, which anyone with an instructor's role can upload to the API: it is
parsed by the same parser as students' answers, never handed to ``sympify`` (which runs Python)."""

from __future__ import annotations

import math
from typing import Any

import sympy

from ..runner.expressions import ExpressionError, evaluate, parse_expression


def parse_trusted(text: str | float | int, variables: list[str] | tuple[str, ...] = ()) -> sympy.Expr:
    """Raises ``ValueError`` (an ``ExpressionError``) in words, which suite validation reports by line."""
    try:
        return parse_expression(text, variables)
    except ExpressionError as exc:
        raise ExpressionError(f"expected value {str(text)[:80]!r} {exc}") from None


def trusted_number(text: str | float | int) -> float:
    value = evaluate(parse_trusted(text))
    if abs(value.imag) > 1e-12 * max(1.0, abs(value.real)) or not math.isfinite(value.real):
        raise ValueError(f"expected value {str(text)[:80]!r} is not a finite real number")
    return value.real


def evaluate_at(expression: sympy.Expr, variables: list[str], point: list[float]) -> float:
    substitution: dict[Any, Any] = {}
    for symbol in expression.free_symbols:
        value = point[variables.index(str(symbol))]
        substitution[symbol] = sympy.Integer(int(value)) if float(value).is_integer() else sympy.Float(value, 30)
    return evaluate(expression.subs(substitution)).real


def close(got: float, want: float, rel_tol: float, abs_tol: float) -> bool:
    return math.isfinite(got) and math.isclose(got, want, rel_tol=rel_tol, abs_tol=abs_tol)
