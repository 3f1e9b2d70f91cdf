"""Expressions are parsed, never evaluated as Python: on the trusted side (instructors' expected
values, in the API) and inside the sandbox (students' answers) alike."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest

from grader_core.checks._expected import parse_trusted, trusted_number
from grader_core.runner.expressions import ExpressionError, parse_expression
from grader_core.suite import SuiteError, parse_suite
from tests.conftest import SUITES

EQUIVALENT = [
    ("1/(2*pi)", 1 / (2 * math.pi)),
    ("0.5/pi", 1 / (2 * math.pi)),
    ("1-0.75*e^(0.25)", 1 - 0.75 * math.exp(0.25)),  # ^ binds like **, not like Python's xor
    ("(2*sqrt(E) - E**(3/4))/4", (2 * math.sqrt(math.e) - math.e ** 0.75) / 4),
    ("-2^2", -4.0),
    ("log(8, 2) + ln(e)", 4.0),
    ("zeta(2)", math.pi**2 / 6),
    ("binomial(5, 2) + factorial(3) + abs(-1)", 17.0),
    ("1e-3 * 2", 0.002),
]


@pytest.mark.parametrize(("text", "value"), EQUIVALENT)
def test_the_homework_s_notation_is_read_as_the_number_it_means(text: str, value: float) -> None:
    assert trusted_number(text) == pytest.approx(value, rel=1e-12)


def test_variables_are_real_symbols_and_nothing_else_is_a_name() -> None:
    expression = parse_expression("r*exp(r)/(2*pi)", ["r"])
    assert {str(symbol) for symbol in expression.free_symbols} == {"r"}
    with pytest.raises(ExpressionError, match=r"unknown symbol\(s\) x; allowed: r"):
        parse_expression("x*exp(r)", ["r"])


def test_series_are_answers_only() -> None:
    series = parse_expression("Sum(1/k**n, (k, 2, oo))", ["n"], sums=True)
    n = next(iter(series.free_symbols))
    assert float(series.subs(n, 3).evalf(20)) == pytest.approx(1.2020569031595942 - 1, rel=1e-12)
    with pytest.raises(ExpressionError, match="unknown function Sum"):
        parse_expression("Sum(1/k**n, (k, 2, oo))", ["n"])
    with pytest.raises(ExpressionError, match="already means something"):
        parse_expression("Sum(1/n, (n, 2, 5))", ["n"], sums=True)


HOSTILE = [
    "__import__('os').system('touch {sentinel}')*0+1",
    "open('{sentinel}', 'w').write('x')",
    "().__class__.__bases__[0].__subclasses__()",
    "exec(\"open('{sentinel}', 'w')\")",
    "(lambda: open('{sentinel}', 'w'))()",
    "Symbol('x').func.__globals__",
    "[x for x in ().__class__.__mro__]",
    "eval('1')",
    "Function('f')(1)",
]


@pytest.mark.parametrize("template", HOSTILE)
@pytest.mark.parametrize("sums", [False, True])
def test_python_in_an_expression_is_refused_and_never_runs(template: str, sums: bool, tmp_path: Path) -> None:
    sentinel = tmp_path / "ran"
    with pytest.raises(ExpressionError):
        parse_expression(template.format(sentinel=sentinel), ["x"], sums=sums)
    assert not sentinel.exists()


@pytest.mark.parametrize("text", [
    "[" * 20000, "(" * 1000 + "1" + ")" * 1000, "-" * 1999 + "1", "9" * 200, "1" + "+1" * 999,
    "exp(" * 45 + "1" + ")" * 45,
])
def test_oversized_or_deep_input_is_refused_at_once(text: str) -> None:
    started = time.perf_counter()
    with pytest.raises(ExpressionError):
        parse_expression(text)
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize("text", ["10**10**10", "9**9**9**9", "2**(3**(4**5))", "factorial(10**9)", "binomial(10**50, 10**25)",
                                  "2**2**2**2**2**2**2", "exp(exp(exp(exp(exp(10)))))", "(1/2)**(10**50)", "1/0", "sqrt(-1)"])
def test_huge_values_are_refused_in_an_instant_not_after_hours_of_arithmetic(text: str) -> None:
    started = time.perf_counter()
    with pytest.raises(ValueError, match="too large|not a finite real number"):
        trusted_number(text)
    assert time.perf_counter() - started < 2.0


def test_an_expected_value_that_is_code_is_a_validation_error_with_its_line(tmp_path: Path) -> None:
    sentinel = tmp_path / "ran"
    text = (SUITES / "hw1.yaml").read_text()
    hostile = text.replace('expected: "1/(2*pi)"', f'expected: "__import__(\'os\').system(\'touch {sentinel}\')*0+1"', 1)
    assert hostile != text
    with pytest.raises(SuiteError) as caught:
        parse_suite(hostile, SUITES / "hw1.yaml")
    line = next(number for number, row in enumerate(hostile.splitlines(), 1) if "__import__" in row)
    assert [issue.line for issue in caught.value.issues] == [line]
    assert "named function" in caught.value.issues[0].message
    assert not sentinel.exists()


def test_expression_variables_are_validated_by_parsing_too() -> None:
    with pytest.raises(ExpressionError, match=r"unknown symbol\(s\) k"):
        parse_trusted("i*k", ["i"])
