"""Operations the runner can execute, found by name. Adding an operation means adding a module here."""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..context import RunnerContext


@dataclass
class OpOutput:
    value: Any = None
    arrays: dict[str, np.ndarray] = field(default_factory=dict)


Operation = Callable[[RunnerContext, dict[str, Any], dict[str, np.ndarray]], OpOutput]

_OPERATIONS: dict[str, Operation] = {}


def operation(name: str) -> Callable[[Operation], Operation]:
    def register(function: Operation) -> Operation:
        _OPERATIONS[name] = function
        return function

    return register


def get_operation(name: str) -> Operation:
    if not _OPERATIONS:
        for module in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{module.name}")
    try:
        return _OPERATIONS[name]
    except KeyError:
        raise KeyError(f"unknown runner operation {name!r}") from None
