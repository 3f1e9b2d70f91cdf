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

from ..quoting import quoted, shortened
from .schema import Suite, resolve_in_suite

Location = tuple[str | int, ...]

MAX_SUITE_BYTES = 1024 * 1024
MAX_SUITE_DEPTH = 32  # the suites in test_suites/ nest 6 deep
MAX_MESSAGE_CHARS = 500
MAX_ISSUES = 100


@dataclass(frozen=True)
class SuiteIssue:
    file: str
    line: int
    message: str

    def __post_init__(self) -> None:
        # A message may quote the suite; cut here, none can grow with what an instructor sends.
        object.__setattr__(self, "message", shortened(self.message, MAX_MESSAGE_CHARS))

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class SuiteError(ValueError):
    def __init__(self, issues: list[SuiteIssue]):
        if len(issues) > MAX_ISSUES:
            rest = issues[MAX_ISSUES]
            issues = [*issues[:MAX_ISSUES], SuiteIssue(rest.file, rest.line, f"and {len(issues) - MAX_ISSUES} more problems")]
        self.issues = issues
        super().__init__("\n".join(str(issue) for issue in issues))


@dataclass(frozen=True)
class LoadedSuite:
    suite: Suite
    path: Path
    text: str
    bundle_sha256: str | None = None  # set when loaded from a sealed bundle (a published version)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    @property
    def reference_solution(self) -> Path | None:
        if self.suite.reference_solution is None:
            return None
        return resolve_in_suite(self.path.parent, self.suite.reference_solution)


def load_suite(path: Path) -> LoadedSuite:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SuiteError([SuiteIssue(str(path), 1, f"cannot read the suite: {exc}")]) from None
    return parse_suite(text, path)


def parse_suite(text: str, path: Path) -> LoadedSuite:
    name = str(path)
    # Characters first: never encode a huge text just to learn it is too large.
    if len(text) > MAX_SUITE_BYTES or len(text.encode("utf-8", errors="replace")) > MAX_SUITE_BYTES:
        raise SuiteError([SuiteIssue(name, 1, f"the suite is larger than {MAX_SUITE_BYTES // 1024} KiB")])
    hazard = yaml_hazard(text, MAX_SUITE_DEPTH)
    if hazard is not None:
        raise SuiteError([SuiteIssue(name, *hazard)])
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        document = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError) as exc:  # ValueError: a date or an integer PyYAML cannot convert
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


def yaml_hazard(text: str, max_depth: int) -> tuple[int, str] | None:
    """The first thing in ``text`` that makes loading it cost far more than its size, as (line,
    message): an anchor or alias (a few hundred bytes of them expand to gigabytes) or collections
    nested deeper than ``max_depth`` (PyYAML builds them recursively, past the stack). Reads the
    parser's events, which takes no recursion and builds nothing; a syntax error is left to the
    loader, which reports it with its line."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            line = event.start_mark.line + 1
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
                return line, "YAML anchors and aliases (&name, *name) are not accepted; write the value out in full"
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > max_depth:
                    return line, f"nested more than {max_depth} levels deep"
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.YAMLError:
        return None
    return None


def _semantic_problems(suite: Suite, path: Path) -> list[tuple[Location, str]]:
    from ..checks import available_checks, get_check
    from ..checks.base import FINDINGS

    problems: list[tuple[Location, str]] = []
    counts = Counter(test.id for test in suite.tests)
    known_checks = available_checks()
    for index, test in enumerate(suite.tests):
        here: Location = ("tests", index)
        if counts[test.id] > 1:
            problems.append(((*here, "id"), f"test id '{test.id}' is used more than once"))
        if test.stage not in suite.stages:
            problems.append(((*here, "stage"), f"test '{test.id}' names unknown stage '{test.stage}' (stages: {', '.join(suite.stages)})"))
        for other, finding in test.withheld_when.items():
            if other not in counts or other == test.id:
                problems.append(((*here, "withheld_when"), f"test '{test.id}' names unknown test '{other}' in withheld_when"))
            if finding not in FINDINGS:
                problems.append(((*here, "withheld_when"), f"test '{test.id}': unknown finding '{finding}' (known: {', '.join(FINDINGS)})"))
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
    if suite.reference_solution is not None:
        try:
            if not resolve_in_suite(path.parent, suite.reference_solution).exists():
                problems.append((("reference_solution",), f"reference solution '{suite.reference_solution}' does not exist"))
        except ValueError as exc:
            problems.append((("reference_solution",), str(exc)))
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
        return f"{field} must be {error['ctx'].get('expected', 'one of the allowed values')}, not {quoted(error.get('input'))}"
    if kind == "union_tag_invalid":
        return f"{field}: unknown rule {quoted(error['ctx'].get('tag'))} (expected {error['ctx'].get('expected_tags')})"
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
