"""The answer form generated from a suite's ``submission.answers``, turned into an answers file."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from grader_core.suite import AnswerSpec
from grader_core.suite.loader import yaml_hazard

from .submissions import SubmissionRefused

# Far above any real answer (a table of a few dozen cells is a few hundred characters), and small
# enough that the API parses a whole form in milliseconds.
MAX_ANSWER_CHARS = 10_000
MAX_TABLE_DEPTH = 8


def _value(spec: AnswerSpec, raw: str) -> Any:
    if spec.kind == "boolean":
        return {"true": True, "false": False}.get(raw.lower(), raw)
    if spec.kind == "table":
        return _table(spec, raw)
    try:
        number = float(raw)
    except ValueError:
        return raw
    return int(number) if number.is_integer() and "." not in raw and "e" not in raw.lower() else number


def _table(spec: AnswerSpec, raw: str) -> Any:
    """A mapping written in YAML (``{-1: 0.3, 0: 0.4, 1: 0.3}``); anything else is kept as text, which the
    check then reports as not a table."""
    hazard = yaml_hazard(raw, MAX_TABLE_DEPTH)
    if hazard is not None:
        raise SubmissionRefused(422, f"answer {spec.key}: {hazard[1]}")
    try:
        parsed = yaml.safe_load(raw)
    except (yaml.YAMLError, ValueError):  # ValueError: a date or an integer PyYAML cannot convert
        return raw
    return parsed if isinstance(parsed, dict) else raw


def answers_yaml(specs: list[AnswerSpec], values: Mapping[str, str]) -> bytes:
    """Nested YAML (``q1.alpha`` → ``q1: {alpha: ...}``) of the answers given; blanks are left out.
    Every answer is checked for its size before any is parsed."""
    too_long = [spec.key for spec in specs if len(str(values.get(spec.key, ""))) > MAX_ANSWER_CHARS]
    if too_long:
        raise SubmissionRefused(413, f"answer {too_long[0]} is longer than {MAX_ANSWER_CHARS} characters")
    tree: dict[str, Any] = {}
    for spec in specs:
        raw = str(values.get(spec.key, "")).strip()
        if not raw:
            continue
        *parents, leaf = spec.key.split(".")
        node = tree
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = _value(spec, raw)
    return yaml.safe_dump(tree, sort_keys=False, allow_unicode=True).encode("utf-8")
