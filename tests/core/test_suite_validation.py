"""`suite validate`: every problem reported with its file, line and a plain-English message."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader_core.suite import SuiteError, parse_suite
from tests.conftest import SUITES

GOOD = """\
id: demo
title: Demo
version: "1"
submission:
  answers_file: answers.yaml
  answers:
    - {key: q.a, label: "a number", kind: number}
tests:
  - id: t1
    title: first
    check: numeric_answer
    points: 1
    params: {key: q.a, expected: 2}
"""


def issues_of(text: str) -> list[tuple[int, str]]:
    with pytest.raises(SuiteError) as caught:
        parse_suite(text, Path("suite.yaml"))
    assert all(issue.file == "suite.yaml" for issue in caught.value.issues)
    return [(issue.line, issue.message) for issue in caught.value.issues]


def test_the_good_suite_parses() -> None:
    assert parse_suite(GOOD, Path("suite.yaml")).suite.tests[0].id == "t1"


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("check: numeric_answer", "check: numeric_anwser", 11, "unknown check 'numeric_anwser'; did you mean 'numeric_answer'?"),
        ("    points: 1\n", "", 9, "missing required field 'points'"),
        ("    points: 1\n", "    points: 1\n    visibility: secret\n", 13, "visibility must be"),
        ("key: q.a, expected", "key: q.b, expected", 13, "unknown answer key 'q.b'"),
        ("    points: 1\n", "    points: 1\n    pointz: 2\n", 13, "unknown field 'pointz'"),
        ("expected: 2}", "expected: 2, tolerance: 3}", 13, "unknown field 'tolerance'"),
        ("expected: 2}", "expected: \"2*\"}", 13, "test 't1'"),
        ("    points: 1\n", "    points: -1\n", 12, "greater than or equal to 0"),
        ("kind: number", "kind: vector", 7, "kind must be"),
        ("    points: 1\n", "    points: 1\n    partial_credit: {rule: sometimes}\n", 13, "unknown rule 'sometimes'"),
        ("    points: 1\n", "    points: 1\n    stage: train\n", 13, "unknown stage 'train'"),
        ("check: numeric_answer\n    points: 1\n    params: {key: q.a, expected: 2}", "check: boolean_answer\n    points: 1\n    params: {key: q.a, expected: true}", 13, "declared as number"),
    ],
)
def test_each_problem_names_its_line(old: str, new: str, line: int, message: str) -> None:
    assert old in GOOD
    found = issues_of(GOOD.replace(old, new))
    assert any(at == line and message in text for at, text in found), found


def test_all_problems_are_reported_at_once() -> None:
    text = GOOD.replace("check: numeric_answer", "check: nope") + GOOD[GOOD.index("  - id: t1"):].replace("key: q.a", "key: q.zzz")
    found = issues_of(text)
    assert any("unknown check 'nope'" in message for _, message in found)
    assert any("used more than once" in message for _, message in found)
    assert any("unknown answer key 'q.zzz'" in message for _, message in found)


def test_yaml_syntax_errors_have_a_line() -> None:
    found = issues_of(GOOD.replace("points: 1", "points: [1"))
    assert found[0][0] >= 12 and "not valid YAML" in found[0][1]


def test_missing_reference_solution_is_reported() -> None:
    found = issues_of(GOOD.replace('version: "1"\n', 'version: "1"\nreference_solution: ./nowhere\n'))
    assert (4, "reference solution './nowhere' does not exist") in found


def test_every_bundled_suite_is_valid() -> None:
    from grader_core.suite import load_suite

    for path in SUITES.glob("*.yaml"):
        assert load_suite(path).suite.tests
