"""Instructor-written expected values (trusted text from the suite) turned into numbers."""

from __future__ import annotations

import math
from typing import Any

import sympy


def parse_trusted(text: str | float | int, variables: list[str] | tuple[str, ...] = ()) -> sympy.Expr:
    symbols = {name: sympy.Symbol(name, real=True) for name in variables}
    return sympy.sympify(text, locals={"e": sympy.E, "zeta": sympy.zeta, **symbols})


def trusted_number(text: str | float | int) -> float:
    value = complex(parse_trusted(text).evalf(30))
    if value.imag or not math.isfinite(value.real):
        raise ValueError(f"expected value {text!r} is not a finite real number")
    return value.real


def evaluate_at(expression: sympy.Expr, variables: list[str], point: list[float]) -> float:
    substitution: dict[Any, Any] = {}
    for symbol in expression.free_symbols:
        value = point[variables.index(str(symbol))]
        substitution[symbol] = sympy.Integer(int(value)) if float(value).is_integer() else sympy.Float(value, 30)
    return float(complex(expression.subs(substitution).evalf(30)).real)


def close(got: float, want: float, rel_tol: float, abs_tol: float) -> bool:
    return math.isfinite(got) and math.isclose(got, want, rel_tol=rel_tol, abs_tol=abs_tol)
