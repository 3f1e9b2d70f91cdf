"""The runner imports a submission's entry point in each form the issue names: a ``.py`` module, a
package folder, or the code cells of a Jupyter notebook (magics and shell escapes dropped); and a
sandbox that cannot hand a GPU over refuses a GPU stage rather than running it on the CPU."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader_core.config import Settings
from grader_core.pipeline import grade_upload
from grader_core.sandbox import Sandbox, SandboxUnavailable
from grader_core.suite import LoadedSuite, load_suite
from tests.conftest import REPO, grade_folder

FUNCTIONS = "def attack():\n    return 0\n\n\ndef honest():\n    return 1\n"


def suite_with_entry(entry: str) -> LoadedSuite:
    """The hostile-code suite (two function probes), asking for ``entry`` instead of ``main.py``."""
    hostile = load_suite(REPO / "tests" / "sandbox" / "hostile.yaml")
    submission = hostile.suite.submission.model_copy(update={"entry_module": entry, "allowed_files": ["*"]})
    return LoadedSuite(suite=hostile.suite.model_copy(update={"submission": submission}), path=hostile.path, text=hostile.text)


def notebook(*cells: str) -> str:
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                       "cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# My homework\n"]}]
                       + [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                           "source": cell.splitlines(keepends=True)} for cell in cells]})


def test_a_notebook_is_imported_from_its_code_cells(bwrap_sandbox: Sandbox, settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "main.ipynb").write_text(notebook("%matplotlib inline\n!pip install nothing\nimport math", FUNCTIONS))
    result = grade_folder(suite_with_entry("main.ipynb"), tmp_path, bwrap_sandbox, settings)
    assert [(t.id, t.status) for t in result.tests] == [("attack", "passed"), ("honest", "passed")]


def test_a_package_is_imported_from_its_init(bwrap_sandbox: Sandbox, settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "solution").mkdir()
    (tmp_path / "solution" / "functions.py").write_text(FUNCTIONS)
    (tmp_path / "solution" / "__init__.py").write_text("from .functions import attack, honest\n")
    result = grade_folder(suite_with_entry("solution"), tmp_path, bwrap_sandbox, settings)
    assert [(t.id, t.status) for t in result.tests] == [("attack", "passed"), ("honest", "passed")]


@pytest.mark.parametrize(("content", "says"), [
    ("{not json", "not a readable Jupyter notebook"),
    (notebook("def attack(:\n    pass"), "SyntaxError"),
])
def test_a_broken_notebook_is_a_clear_error(content: str, says: str, bwrap_sandbox: Sandbox, settings: Settings,
                                            tmp_path: Path) -> None:
    (tmp_path / "main.ipynb").write_text(content)
    result = grade_folder(suite_with_entry("main.ipynb"), tmp_path, bwrap_sandbox, settings)
    assert all(t.status == "error" and says in t.feedback for t in result.tests), [t.feedback for t in result.tests]


def test_a_gpu_stage_is_refused_by_a_sandbox_that_cannot_hand_a_gpu_over(bwrap_sandbox: Sandbox, settings: Settings,
                                                                          tmp_path: Path) -> None:
    hostile = suite_with_entry("main.py")
    stages = {name: stage.model_copy(update={"gpu": True}) for name, stage in hostile.suite.stages.items()}
    gpu_suite = LoadedSuite(suite=hostile.suite.model_copy(update={"stages": stages}), path=hostile.path, text=hostile.text)
    (tmp_path / "main.py").write_text(FUNCTIONS)
    with pytest.raises(SandboxUnavailable, match="GPU workers need the docker backend"):
        grade_upload(gpu_suite, tmp_path, bwrap_sandbox, settings, gpu_ids=("0",))
    assert [t.status for t in grade_upload(gpu_suite, tmp_path, bwrap_sandbox, settings).tests] == ["passed", "passed"]
