"""Load a suite from YAML and report every problem with its file, line and a plain-English message."""

from __future__ import annotations

import difflib
import hashlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from .schema import Suite

Location = tuple[str | int, ...]


@dataclass(frozen=True)
class SuiteIssue:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class SuiteError(ValueError):
    def __init__(self, issues: list[SuiteIssue]):
        self.issues = issues
        super().__init__("\n".join(str(issue) for issue in issues))


@dataclass(frozen=True)
class LoadedSuite:
    suite: Suite
    path: Path
    text: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    @property
    def reference_solution(self) -> Path | None:
        if self.suite.reference_solution is None:
            return None
        return (self.path.parent / self.suite.reference_solution).resolve()


def load_suite(path: Path) -> LoadedSuite:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SuiteError([SuiteIssue(str(path), 1, f"cannot read the suite: {exc}")]) from None
    return parse_suite(text, path)


def parse_suite(text: str, path: Path) -> LoadedSuite:
    name = str(path)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise SuiteError([SuiteIssue(name, line, f"not valid YAML: {getattr(exc, 'problem', exc)}")]) from None
    if not isinstance(document, dict):
        raise SuiteError([SuiteIssue(name, 1, "a suite must be a YAML mapping (id, title, version, tests, ...)")])
    try:
        suite = Suite.model_validate(document)
    except ValidationError as exc:
        raise SuiteError(
            [SuiteIssue(name, _line_of(root, error["loc"]), _explain(error)) for error in exc.errors()]
        ) from None
    issues = [SuiteIssue(name, _line_of(root, loc), message) for loc, message in _semantic_problems(suite, path)]
    if issues:
        raise SuiteError(issues)
    return LoadedSuite(suite=suite, path=path.resolve(), text=text)


def _semantic_problems(suite: Suite, path: Path) -> list[tuple[Location, str]]:
    from ..checks import available_checks, get_check

    problems: list[tuple[Location, str]] = []
    counts = Counter(test.id for test in suite.tests)
    known_checks = available_checks()
    for index, test in enumerate(suite.tests):
        here: Location = ("tests", index)
        if counts[test.id] > 1:
            problems.append(((*here, "id"), f"test id '{test.id}' is used more than once"))
        if test.stage not in suite.stages:
            problems.append(((*here, "stage"), f"test '{test.id}' names unknown stage '{test.stage}' (stages: {', '.join(suite.stages)})"))
        if test.check not in known_checks:
            problems.append(((*here, "check"), f"unknown check '{test.check}'{_suggestion(test.check, known_checks)}"))
            continue
        check = get_check(test.check)
        try:
            params = check.Params.model_validate(test.params)
        except ValidationError as exc:
            for error in exc.errors():
                problems.append(((*here, "params", *error["loc"]), f"test '{test.id}': {_explain(error)}"))
            continue
        for message in check.validate_in_suite(params, suite):
            problems.append(((*here, "params"), f"test '{test.id}': {message}"))
    if suite.reference_solution is not None and not (path.parent / suite.reference_solution).exists():
        problems.append((("reference_solution",), f"reference solution '{suite.reference_solution}' does not exist"))
    return problems


def _suggestion(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f"; did you mean '{close[0]}'?" if close else f" (known checks: {', '.join(known)})"


def _explain(error: ErrorDetails) -> str:
    loc = error["loc"]
    field = ".".join(str(part) for part in loc if not isinstance(part, int)) or "the suite"
    kind = error["type"]
    if kind == "missing":
        return f"missing required field '{loc[-1]}'"
    if kind == "extra_forbidden":
        return f"unknown field '{loc[-1]}'"
    if kind in ("enum", "literal_error"):
        return f"{field} must be {error['ctx'].get('expected', 'one of the allowed values')}, not {error.get('input')!r}"
    if kind == "union_tag_invalid":
        return f"{field}: unknown rule {error['ctx'].get('tag')!r} (expected {error['ctx'].get('expected_tags')})"
    if kind == "union_tag_not_found":
        return f"{field}: missing 'rule'"
    return f"{field}: {error['msg']}"


def _line_of(root: yaml.Node | None, loc: Location) -> int:
    """The 1-based line of the deepest node that ``loc`` reaches in the YAML tree."""
    node = root
    line = node.start_mark.line + 1 if node is not None else 1
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == str(part):
                    child = value
                    line = key.start_mark.line + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line
