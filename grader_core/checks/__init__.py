"""The check registry. Built-in checks live one per module in this package and register themselves
with ``@register_check``; other packages can add checks through the ``dgm_grader.checks`` entry point."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from importlib.metadata import entry_points
from typing import TypeVar

from .base import Check

_REGISTRY: dict[str, type[Check]] = {}
C = TypeVar("C", bound=type[Check])


def register_check(cls: C) -> C:
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"two checks are named {cls.name!r}")
    _REGISTRY[cls.name] = cls
    return cls


@cache
def _discover() -> None:
    for module in pkgutil.iter_modules(__path__):
        if module.name != "base" and not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")
    for entry in entry_points(group="dgm_grader.checks"):
        entry.load()


def available_checks() -> list[str]:
    _discover()
    return sorted(_REGISTRY)


def get_check(name: str) -> Check:
    _discover()
    try:
        return _REGISTRY[name]()
    except KeyError:
        raise KeyError(f"unknown check {name!r}") from None
