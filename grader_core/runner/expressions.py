"""Arithmetic expressions read by parsing, never by evaluating Python.

Students' answers (inside the sandbox) and instructors' expected values (on the trusted side, in the
API too) both come through here. Python's ``ast`` parses the text; only numbers, the allowed
constants, variables and functions, and arithmetic become a SymPy expression, built node by node
with evaluation turned off, so ``10**10**10`` or ``factorial(10**9)`` is a small tree rather than
hours of exact arithmetic (numbers come later, from ``evalf``). Anything else is an
:class:`ExpressionError` in words, with the column where reading stopped.

This module is part of the runner package, so it may import only the standard library and SymPy.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Sequence
from typing import Any

import sympy

MAX_LENGTH = 2000
MAX_NODES = 400
MAX_DEPTH = 40
MAX_DIGITS = 60

CONSTANTS: dict[str, sympy.Expr] = {"pi": sympy.pi, "e": sympy.E, "E": sympy.E}


def _log(*args: sympy.Expr) -> sympy.Expr:
    """``log(x)`` is the natural logarithm, ``log(x, b)`` the logarithm to base b."""
    if len(args) == 1:
        return sympy.log(args[0], evaluate=False)
    return sympy.Mul(sympy.log(args[0], evaluate=False),
                     sympy.Pow(sympy.log(args[1], evaluate=False), -1, evaluate=False), evaluate=False)


def _unevaluated(function: Any) -> Callable[..., sympy.Expr]:
    return lambda *args: function(*args, evaluate=False)


FUNCTIONS: dict[str, tuple[Callable[..., sympy.Expr], tuple[int, ...]]] = {
    "sqrt": (lambda x: sympy.Pow(x, sympy.Rational(1, 2), evaluate=False), (1,)),
    "exp": (_unevaluated(sympy.exp), (1,)),
    "log": (_log, (1, 2)),
    "ln": (_log, (1,)),
    **{name: (_unevaluated(getattr(sympy, name)), (1,))
       for name in ("sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "gamma", "factorial",
                    "zeta", "erf", "floor", "ceiling")},
    "abs": (_unevaluated(sympy.Abs), (1,)),
    "binomial": (_unevaluated(sympy.binomial), (2,)),
}


class ExpressionError(ValueError):
    """The text is not an expression this module accepts; the message says why, in words."""


MAX_LOG10 = 10_000.0  # numbers beyond 10^10000 (or below 10^-10000) are refused rather than computed
_TOO_LARGE = f"is a number too large (or too small) to compute: beyond 10^{MAX_LOG10:g}"


def evaluate(expression: sympy.Expr) -> complex:
    """The value of an expression without free symbols, to 30 digits. ``evalf`` alone can spend
    hours on a number such as ``9**9**9**9``; a float estimate of every power, exponential and
    factorial first refuses those in an instant (``ExpressionError``)."""
    _estimate(expression)
    try:
        return complex(expression.evalf(30))
    except (TypeError, ValueError, OverflowError, ZeroDivisionError):
        return complex(math.nan, 0.0)


def _estimate(node: sympy.Basic) -> float:
    """A float estimate of ``node``: inf past the floats, nan where no cheap estimate exists. Raises
    where the exact value would be astronomically large."""
    if node.is_Number or node in (sympy.pi, sympy.E):
        try:
            return float(node)
        except (TypeError, OverflowError):
            return math.nan
    if isinstance(node, (sympy.Sum, sympy.Product)) or node.free_symbols:
        return math.nan
    args = [_estimate(arg) for arg in node.args]
    if isinstance(node, sympy.Add):
        return math.fsum(args) if all(map(math.isfinite, args)) else sum(args)
    if isinstance(node, sympy.Mul):
        return math.prod(args)
    if isinstance(node, sympy.Pow):
        base, power = args
        if base != 0 and math.isfinite(base) and abs(power) * abs(math.log10(abs(base))) > MAX_LOG10:
            raise ExpressionError(_TOO_LARGE)
        return _float_or_nan(lambda: base**power)
    if isinstance(node, sympy.exp):
        if args[0] * math.log10(math.e) > MAX_LOG10:
            raise ExpressionError(_TOO_LARGE)
        return _float_or_nan(lambda: math.exp(args[0]))
    if isinstance(node, (sympy.factorial, sympy.gamma, sympy.binomial)) and max(args) > 3000:
        raise ExpressionError("takes the factorial, gamma or binomial of a number above 3000, too large to compute")
    if isinstance(node, sympy.log) and args[0] > 0:
        return math.log(args[0])
    return math.nan


def _float_or_nan(compute: Callable[[], float | complex]) -> float:
    try:
        value = compute()
    except OverflowError:
        return math.inf
    except (ValueError, ZeroDivisionError):
        return math.nan
    return value if isinstance(value, float) else math.nan


def parse_expression(text: str | int | float, variables: Sequence[str] = (), *, sums: bool = False) -> sympy.Expr:
    """The SymPy expression of ``text``; its free symbols are among ``variables`` (real symbols).

    ``sums`` also accepts ``Sum(body, (k, low, high))`` and ``Product(...)``, whose bounds may be
    ``oo``: students may write a series where a closed form exists. Their numbers can take long to
    compute, which is why only answers (read inside the sandbox) may use them."""
    if isinstance(text, bool) or not isinstance(text, (int, float, str)):
        raise ExpressionError(f"must be a number or an expression, not {type(text).__name__}")
    if isinstance(text, int):
        return _Builder({}).integer(text, None)
    if isinstance(text, float):
        return sympy.Float(repr(text), 30)
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"is longer than {MAX_LENGTH} characters")
    try:
        # ``^`` means power, as in the homework's text; replaced before parsing so that it binds
        # like ``**`` (Python's ``^`` binds looser than ``-``). Quotes are refused, so no text changes.
        tree = ast.parse(text.strip().replace("^", "**"), mode="eval")
    except SyntaxError as exc:
        where = f" at column {exc.offset}" if exc.offset else ""
        raise ExpressionError(f"could not be read as an expression{where}: check the brackets and operators") from None
    except (ValueError, RecursionError, MemoryError):
        raise ExpressionError("could not be read as an expression: it is nested too deeply") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise ExpressionError(f"has more than {MAX_NODES} parts; write it more simply")
    symbols = {name: sympy.Symbol(name, real=True) for name in variables}
    return _Builder({**CONSTANTS, **symbols}, set(symbols), sums).build(tree.body, 0)


class _Builder:
    def __init__(self, names: dict[str, sympy.Expr], variables: set[str] | None = None, sums: bool = False):
        self.names = names
        self.variables = variables or set()
        self.sums = sums

    def build(self, node: ast.AST, depth: int) -> sympy.Expr:
        if depth > MAX_DEPTH:
            raise ExpressionError(f"is nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
            operand = self.build(node.operand, depth + 1)
            return operand if isinstance(node.op, ast.UAdd) else sympy.Mul(-1, operand, evaluate=False)
        if isinstance(node, ast.BinOp):
            return self.binary(node, self.build(node.left, depth + 1), self.build(node.right, depth + 1))
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        raise ExpressionError(f"has {_describe(node)} at column {node.col_offset + 1}, which is not allowed in an expression")

    def constant(self, node: ast.Constant) -> sympy.Expr:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ExpressionError(f"has {_describe(node)} at column {node.col_offset + 1} where a number should be")
        if isinstance(value, int):
            return self.integer(value, node)
        return sympy.Float(repr(value), 30)

    @staticmethod
    def integer(value: int, node: ast.AST | None) -> sympy.Expr:
        if len(str(abs(value))) > MAX_DIGITS:
            where = f" at column {node.col_offset + 1}" if node is not None else ""
            raise ExpressionError(f"has a whole number of more than {MAX_DIGITS} digits{where}")
        return sympy.Integer(value)

    def name(self, node: ast.Name) -> sympy.Expr:
        if node.id in self.names:
            return self.names[node.id]
        allowed = ", ".join(sorted(self.variables)) or "none (it must be a number)"
        raise ExpressionError(f"uses unknown symbol(s) {node.id}; allowed: {allowed}")

    def binary(self, node: ast.BinOp, left: sympy.Expr, right: sympy.Expr) -> sympy.Expr:
        operator = node.op
        if isinstance(operator, ast.Add):
            return sympy.Add(left, right, evaluate=False)
        if isinstance(operator, ast.Sub):
            return sympy.Add(left, sympy.Mul(-1, right, evaluate=False), evaluate=False)
        if isinstance(operator, ast.Mult):
            return sympy.Mul(left, right, evaluate=False)
        if isinstance(operator, ast.Div):
            return sympy.Mul(left, sympy.Pow(right, -1, evaluate=False), evaluate=False)
        if isinstance(operator, ast.Pow):
            return sympy.Pow(left, right, evaluate=False)
        symbol = _OPERATOR_SYMBOLS.get(type(operator), "?")
        raise ExpressionError(f"uses the operator {symbol} at column {node.col_offset + 1}, which is not allowed (use + - * / ** ^)")

    def call(self, node: ast.Call, depth: int) -> sympy.Expr:
        if not isinstance(node.func, ast.Name):
            raise ExpressionError(f"calls something other than a named function at column {node.col_offset + 1} (write e.g. exp(x))")
        name = node.func.id
        if name in _SERIES and self.sums:
            return self.series(node, depth)
        if name not in FUNCTIONS:
            raise ExpressionError(f"uses unknown function {name}(); known: {', '.join(sorted(FUNCTIONS))}")
        function, arities = FUNCTIONS[name]
        if node.keywords or any(isinstance(arg, ast.Starred) for arg in node.args) or len(node.args) not in arities:
            counts = " or ".join(str(count) for count in arities)
            raise ExpressionError(f"calls {name}() at column {node.col_offset + 1} wrongly: it takes {counts} argument(s)")
        return function(*(self.build(arg, depth + 1) for arg in node.args))


    def series(self, node: ast.Call, depth: int) -> sympy.Expr:
        """``Sum(body, (k, low, high))``: ``k`` is bound in the body only; the bounds may be ``oo``."""
        name = node.func.id  # type: ignore[attr-defined]
        if (node.keywords or len(node.args) != 2 or not isinstance(node.args[1], ast.Tuple)
                or len(node.args[1].elts) != 3 or not isinstance(node.args[1].elts[0], ast.Name)):
            raise ExpressionError(f"calls {name}() at column {node.col_offset + 1} wrongly: write {name}(body, (k, low, high))")
        index_node, low_node, high_node = node.args[1].elts
        index = index_node.id  # type: ignore[attr-defined]
        if index in self.names or index in FUNCTIONS:
            raise ExpressionError(f"uses {index} as the index of {name}(), but it already means something; pick another letter")
        bounds = _Builder({**self.names, "oo": sympy.oo}, self.variables)
        low, high = bounds.build(low_node, depth + 1), bounds.build(high_node, depth + 1)
        body = _Builder({**self.names, index: sympy.Symbol(index, integer=True)}, self.variables, self.sums)
        return _SERIES[name](body.build(node.args[0], depth + 1), (sympy.Symbol(index, integer=True), low, high))


_SERIES = {"Sum": sympy.Sum, "Product": sympy.Product}

_OPERATOR_SYMBOLS = {ast.Mod: "%", ast.FloorDiv: "//", ast.MatMult: "@", ast.LShift: "<<", ast.RShift: ">>",
                     ast.BitOr: "|", ast.BitAnd: "&"}

_NODE_WORDS = {ast.Attribute: "'.' (attribute access)", ast.Subscript: "indexing with [ ]", ast.Lambda: "lambda",
               ast.Compare: "a comparison", ast.BoolOp: "and/or", ast.List: "a list", ast.Tuple: "a tuple",
               ast.Dict: "a mapping", ast.Set: "a set", ast.JoinedStr: "an f-string", ast.IfExp: "if/else",
               ast.NamedExpr: ":=", ast.Starred: "*"}


def _describe(node: ast.AST) -> str:
    if isinstance(node, ast.Constant):
        return "text in quotes" if isinstance(node.value, (str, bytes)) else repr(node.value)[:20]
    return _NODE_WORDS.get(type(node), type(node).__name__.lower())
