"""The answer form generated from a suite's ``submission.answers``, turned into an answers file."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from grader_core.suite import AnswerSpec


def _value(spec: AnswerSpec, raw: str) -> Any:
    if spec.kind == "boolean":
        return {"true": True, "false": False}.get(raw.lower(), raw)
    if spec.kind == "table":
        try:
            parsed = yaml.safe_load(raw)
        except yaml.YAMLError:
            return raw
        return parsed if isinstance(parsed, dict) else raw
    try:
        number = float(raw)
    except ValueError:
        return raw
    return int(number) if number.is_integer() and "." not in raw and "e" not in raw.lower() else number


def answers_yaml(specs: list[AnswerSpec], values: Mapping[str, str]) -> bytes:
    """Nested YAML (``q1.alpha`` → ``q1: {alpha: ...}``) of the answers given; blanks are left out."""
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
