"""The suite format. Field descriptions are the reference documentation for instructors."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

_ID = r"^[a-z0-9][a-z0-9_.-]*$"


def _inside_suite_folder(path: str) -> str:
    parts = PurePosixPath(path).parts
    if not path or "\\" in path or path.startswith("/") or ".." in parts or ":" in path.split("/")[0]:
        raise ValueError(f"{path[:200]!r} must be a path inside the suite's own folder, relative to the suite file "
                         "(no '..', no absolute path)")
    return path


SuitePath = Annotated[str, AfterValidator(_inside_suite_folder)]
"""Staff code (support modules, the reference solution) runs on the trusted side, so a suite may
name it only inside its own folder: never the worker's other files or an upload."""


def resolve_in_suite(suite_dir: Path, relative: str) -> Path:
    """``relative`` resolved from the suite's folder; a symbolic link that leads outside is refused
    here, where the file is about to be used (validation sees only the text)."""
    root = suite_dir.resolve()
    path = (root / _inside_suite_folder(relative)).resolve()
    if not path.is_relative_to(root):
        raise ValueError(f"{relative[:200]!r} leads outside the suite's folder")
    return path


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Visibility(StrEnum):
    """When students see a test's result (Gradescope's meanings)."""

    VISIBLE = "visible"
    HIDDEN = "hidden"
    AFTER_DUE_DATE = "after_due_date"
    AFTER_PUBLISHED = "after_published"


class StageResources(Strict):
    wall_seconds: float = Field(60, gt=0, le=6 * 3600, description="wall-clock budget of the stage: all of its sandbox runs "
                               "together, a resumption after a crash gets what is left")
    cpu_seconds: int = Field(120, gt=0, description="CPU-time limit (all threads)")
    memory_mb: int = Field(2048, ge=64, description="memory limit, no swap")
    cpus: float = Field(1.0, gt=0, le=64)
    gpu: bool = Field(False, description="run on a GPU worker, with one GPU handed to the sandbox")
    pids: int = Field(128, ge=8, description="process/thread limit (stops fork bombs)")
    probe_timeout_seconds: float = Field(30, gt=0, description="default time limit of one probe")
    max_output_mb: int = Field(64, ge=1, le=4096, description="all the probes' outputs of one sandbox run, in MiB "
                               "(conditionals of 2000 digits in float64 take 17 MiB on the wire)")


class AnswerSpec(Strict):
    """One answer a student writes in the answers file (also drives the generated web form)."""

    key: str = Field(pattern=r"^[A-Za-z0-9_.]+$")
    label: str
    kind: Literal["number", "expression", "boolean", "table"]
    variables: list[str] = Field(default_factory=list, description="symbols an expression may use")


class SubmissionSpec(Strict):
    answers_file: str | None = None
    entry_module: str | None = None
    required_files: list[str] = Field(default_factory=list, description="glob patterns that must each match")
    allowed_files: list[str] = Field(default_factory=lambda: ["*"], description="glob patterns of accepted files")
    answers: list[AnswerSpec] = Field(default_factory=list)
    max_files: int = Field(200, ge=1)
    max_bytes: int = Field(64 * 1024 * 1024, ge=1)

    @model_validator(mode="after")
    def _something_to_grade(self) -> SubmissionSpec:
        if not self.answers_file and not self.entry_module:
            raise ValueError("a submission needs an answers_file, an entry_module, or both")
        return self

    def answer(self, key: str) -> AnswerSpec | None:
        return next((answer for answer in self.answers if answer.key == key), None)


class DatasetRef(Strict):
    name: str
    split: str
    mount: bool = Field(False, description="mount read-only into the sandbox (never for hidden splits)")


class AllOrNothing(Strict):
    rule: Literal["all_or_nothing"] = "all_or_nothing"

    def credit(self, fraction: float, value: float | None) -> float:
        return 1.0 if fraction >= 1.0 - 1e-12 else 0.0


class Proportional(Strict):
    rule: Literal["proportional"]

    def credit(self, fraction: float, value: float | None) -> float:
        return min(1.0, max(0.0, fraction))


class Linear(Strict):
    """Credit linear in the check's measured value: full at ``full_at``, none at ``zero_at``.

    Works in either direction (lower-is-better when ``full_at < zero_at``).
    """

    rule: Literal["linear"]
    full_at: float
    zero_at: float

    @model_validator(mode="after")
    def _distinct(self) -> Linear:
        if self.full_at == self.zero_at:
            raise ValueError("full_at and zero_at must differ")
        return self

    def credit(self, fraction: float, value: float | None) -> float:
        if value is None:
            return 0.0
        return min(1.0, max(0.0, (value - self.zero_at) / (self.full_at - self.zero_at)))


PartialCredit = Annotated[AllOrNothing | Proportional | Linear, Field(discriminator="rule")]


class TestSpec(Strict):
    id: str = Field(pattern=_ID)
    title: str
    check: str
    params: dict[str, Any] = Field(default_factory=dict)
    points: float = Field(ge=0)
    visibility: Visibility = Visibility.VISIBLE
    partial_credit: PartialCredit = Field(default_factory=AllOrNothing)
    seeds: list[int] = Field(default_factory=list, description="fixed seeds the check passes to the submission")
    stage: str = "main"
    withheld_when: dict[str, str] = Field(default_factory=dict, description="test id -> a finding of that test "
                                          "(grader_core.checks.base.FINDINGS) that leaves this one without credit")


class Suite(Strict):
    id: str = Field(pattern=_ID)
    title: str
    version: str
    submission: SubmissionSpec
    stages: dict[str, StageResources] = Field(default_factory=lambda: {"main": StageResources()})
    datasets: list[DatasetRef] = Field(default_factory=list)
    reference_solution: SuitePath | None = Field(None, description="path inside the suite's folder, relative to the suite file")
    mutants: SuitePath | None = Field(None, description="planted bugs that prove the suite (grader_core/mutants.py): "
                                      "a YAML file inside the suite's folder")
    tests: list[TestSpec] = Field(min_length=1)

    @property
    def automatic_points(self) -> float:
        from ..checks import get_check

        return sum(test.points for test in self.tests if not get_check(test.check).manual)
