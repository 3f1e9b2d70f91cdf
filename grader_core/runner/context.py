"""What an operation can reach inside the sandbox: the submission, loaded lazily."""

from __future__ import annotations

import importlib.util
import json
import sys
import types
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml


class SubmissionError(Exception):
    """The submission cannot provide what a probe needs; the message is shown to the student."""


class ProbeTimeout(BaseException):
    """A probe ran past its time limit. Raised by the runner's interval timer, so a BaseException:
    a bare ``except Exception`` in student code does not swallow it. An operation may raise it again
    with a message that says what the student's code was doing."""


class RunnerContext:
    def __init__(self, submission_dir: Path, answers_file: str | None, entry_module: str | None, cpus: float = 1.0):
        self.submission_dir = submission_dir
        self.answers_file = answers_file
        self.entry_module = entry_module
        self.cpus = cpus
        self.probe_timeout_s = 0.0  # the limit of the probe now running; set by the runner before each probe
        self._other_modules: dict[str, types.ModuleType | SubmissionError] = {}

    def time_allowance(self) -> str:
        """The current probe's limit in words a student can plan with."""
        cores = "one CPU core" if self.cpus == 1 else f"{self.cpus:g} CPU cores"
        return f"{self.probe_timeout_s:g} s on {cores}"

    @property
    def answers(self) -> dict[str, Any]:
        return unwrap(self._answers)

    @property
    def module(self) -> types.ModuleType:
        return unwrap(self._module)

    def module_named(self, entry: str | None) -> types.ModuleType:
        """A module of the submission other than the entry module (a homework with two parts)."""
        if entry is None or entry == self.entry_module:
            return self.module
        if entry not in self._other_modules:
            try:
                self._other_modules[entry] = load_module(self.submission_dir, entry)
            except SubmissionError as exc:
                self._other_modules[entry] = exc
        return unwrap(self._other_modules[entry])

    @cached_property
    def _answers(self) -> dict[str, Any] | SubmissionError:
        try:
            return self._read_answers()
        except SubmissionError as exc:
            return exc

    @cached_property
    def _module(self) -> types.ModuleType | SubmissionError:
        """Imported once: a broken import fails every probe that needs it, with the same message."""
        if not self.entry_module:
            return SubmissionError("this assignment has no entry module")
        try:
            return load_module(self.submission_dir, self.entry_module)
        except SubmissionError as exc:
            return exc

    def _read_answers(self) -> dict[str, Any]:
        if not self.answers_file:
            raise SubmissionError("this assignment has no answers file")
        path = self.submission_dir / self.answers_file
        if not path.is_file():
            raise SubmissionError(f"{self.answers_file} is missing from the submission")
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise SubmissionError(f"{self.answers_file} is not valid YAML: {_first_line(exc)}") from None
        if document is None:
            return {}
        if not isinstance(document, dict):
            raise SubmissionError(f"{self.answers_file} must be a mapping of answer keys to answers")
        return _flatten(document)

    def answer(self, key: str) -> Any:
        answers = self.answers
        if key not in answers or answers[key] is None or answers[key] == "":
            raise SubmissionError(f"no answer given for {key}")
        return answers[key]



def unwrap(value: Any) -> Any:
    """``value``, or the ``SubmissionError`` remembered in its place raised again."""
    if isinstance(value, SubmissionError):
        raise value
    return value


def _flatten(document: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Answers may be nested (``q1: {alpha: ...}``) or dotted (``q1.alpha: ...``); both mean the same.

    A nested mapping is also kept whole under its own key, so table answers can be read as one.
    """
    flat: dict[str, Any] = {}
    for name, value in document.items():
        key = f"{prefix}{name}"
        flat[key] = value
        if isinstance(value, dict):
            flat.update(_flatten(value, prefix=f"{key}."))
    return flat


def load_module(submission_dir: Path, entry: str) -> types.ModuleType:
    """Import the entry point: a ``.py`` file, a package folder, or the code cells of a notebook."""
    path = submission_dir / entry
    name = Path(entry).stem.replace("-", "_")
    sys.path.insert(0, str(submission_dir))
    try:
        if path.suffix == ".ipynb":
            return _load_notebook(path, name)
        if path.is_dir():
            path = path / "__init__.py"
        if not path.is_file():
            raise SubmissionError(f"{entry} is missing from the submission")
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module
    except SubmissionError:
        raise
    except BaseException as exc:  # noqa: BLE001 - student code may raise anything, SystemExit included
        raise SubmissionError(f"importing {entry} failed: {type(exc).__name__}: {_first_line(exc)}") from None


def _load_notebook(path: Path, name: str) -> types.ModuleType:
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
        cells = [cell for cell in notebook["cells"] if cell.get("cell_type") == "code"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise SubmissionError(f"{path.name} is not a readable Jupyter notebook") from None
    lines: list[str] = []
    for cell in cells:
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else str(source)
        # IPython magics and shell escapes are not Python; they would only break the import.
        lines.extend(line for line in text.splitlines() if not line.lstrip().startswith(("%", "!")))
        lines.append("")
    module = types.ModuleType(name)
    module.__file__ = str(path)
    sys.modules[name] = module
    exec(compile("\n".join(lines), str(path), "exec"), module.__dict__)  # noqa: S102 - inside the sandbox
    return module


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:500] if text else type(exc).__name__
