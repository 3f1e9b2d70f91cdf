"""Shared fixtures: real sandboxes (Docker and bubblewrap), settings in a scratch dir, suites."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from grader_core.config import Settings, get_settings
from grader_core.pipeline import grade_upload
from grader_core.results import GradingResult
from grader_core.sandbox import Sandbox
from grader_core.sandbox.bwrap_backend import BwrapSandbox
from grader_core.sandbox.docker_backend import DockerSandbox
from grader_core.suite import LoadedSuite, load_suite

REPO = Path(__file__).resolve().parent.parent
SUITES = REPO / "test_suites"


@pytest.fixture
def dgm_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str, str], None]]:
    """Set ``DGM_*`` variables for one test: the settings are read again now, and again after it."""

    def set_variable(name: str, value: str) -> None:
        monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    yield set_variable
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(work_dir=tmp_path_factory.mktemp("work"))


def unavailable(what: str, requirement: str) -> None:
    """Skip on a developer's machine without ``what``; fail where ``requirement`` is set (CI has it)."""
    message = f"{what} is not available on this machine"
    if os.environ.get(requirement):
        pytest.fail(f"{message}, but {requirement} is set (CI provides it)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def docker_sandbox(settings: Settings) -> Sandbox:
    if not DockerSandbox.available():
        unavailable("the Docker daemon", "DGM_REQUIRE_DOCKER")
    from grader_core.sandbox.image import ensure_image

    ensure_image(settings.sandbox_image)
    return DockerSandbox(settings.sandbox_image)


@pytest.fixture(scope="session")
def bwrap_sandbox() -> Sandbox:
    if not BwrapSandbox.available():
        unavailable("bubblewrap", "DGM_REQUIRE_BWRAP")
    return BwrapSandbox()


@pytest.fixture(scope="session", params=["docker", "bwrap"])
def sandbox(request: pytest.FixtureRequest) -> Sandbox:
    """Every test that takes this runs once through each backend."""
    return request.getfixturevalue(f"{request.param}_sandbox")


@pytest.fixture(scope="session")
def hw1() -> LoadedSuite:
    return load_suite(SUITES / "hw1.yaml")


def write_answers(folder: Path, answers: dict[str, Any] | str, name: str = "answers.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = answers if isinstance(answers, str) else yaml.safe_dump(answers, sort_keys=False)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def subsuite(loaded: LoadedSuite, prefix: str, required_files: list[str] | None = None) -> LoadedSuite:
    """The same suite restricted to the tests whose id starts with ``prefix`` (one question)."""
    suite = loaded.suite
    submission = suite.submission.model_copy(update={"required_files": required_files or []})
    tests = [test for test in suite.tests if test.id.startswith(prefix)]
    return LoadedSuite(suite=suite.model_copy(update={"tests": tests, "submission": submission}), path=loaded.path, text=loaded.text)


def grade_folder(loaded: LoadedSuite, folder: Path, sandbox: Sandbox, settings: Settings) -> GradingResult:
    return grade_upload(loaded, folder, sandbox, settings)
