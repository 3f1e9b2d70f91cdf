"""What a check is: a plan of probes for the untrusted side, and a score computed on the trusted side."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar

import numpy as np
from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from ..suite.schema import Suite, TestSpec

ProbeStatus = Literal["ok", "error", "timeout", "crashed", "not_run"]


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def suite_files(self) -> list[str]:
        """Files of the suite's folder these parameters name (staff code): sealed into a published bundle."""
        return []


P = TypeVar("P", bound=Params)


@dataclass
class Probe:
    """One computation the runner must do: an operation, JSON arguments and input arrays."""

    name: str
    op: str
    args: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    timeout_s: float | None = None


@dataclass
class ProbeOutcome:
    """What came back for a probe; ``inputs`` are the arrays the trusted side sent with it."""

    status: ProbeStatus
    value: Any = None
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    message: str = ""
    duration_s: float = 0.0
    inputs: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class MetricValue:
    """A measured quantity shown next to its threshold on the result page."""

    name: str
    value: float
    threshold: float | None = None
    lower_is_better: bool = True


@dataclass
class CheckResult:
    """``fraction`` of the test's points earned before the partial-credit rule; ``value`` is the
    measured quantity a ``linear`` rule interpolates on and calibration records, and
    ``calibration_key`` the checksum of the data it was measured on."""

    fraction: float
    feedback: str
    value: float | None = None
    metrics: list[MetricValue] = field(default_factory=list)
    calibration_key: str | None = None
    images: dict[str, bytes] = field(default_factory=dict)  # file name -> PNG, shown with the test's feedback
    findings: tuple[str, ...] = ()  # facts other tests act on (FINDINGS), e.g. a suite's ``withheld_when``
    also_measured: dict[str, float] = field(default_factory=dict)  # more calibrated quantities (class coverage)


NOT_A_DISTRIBUTION = "not_a_distribution"
FINDINGS = {
    NOT_A_DISTRIBUTION: "the conditionals depend on the pixel itself or on pixels generated after it, "
                          "so their product is not the model's likelihood",
}


class OutputProblem(Exception):
    """The submission's output for a probe is missing or malformed; the test cannot be evaluated."""


@dataclass
class PlanContext:
    test: TestSpec
    suite: Suite
    rng: np.random.Generator
    probe_timeout_s: float
    suite_dir: Path = Path(".")


@dataclass
class ScoreContext:
    test: TestSpec
    suite: Suite
    calibration: dict[str, dict[str, float]] = field(default_factory=dict)
    suite_dir: Path = Path(".")

    def reference(self, dataset_checksum: str, quantity: str | None = None) -> float | None:
        """The reference solution's calibrated value of this test on this data (its main measure, or
        one of ``CheckResult.also_measured`` by name), if recorded."""
        key = self.test.id if quantity is None else f"{self.test.id}/{quantity}"
        return self.calibration.get(dataset_checksum, {}).get(key)


class Check(abc.ABC, Generic[P]):
    """Subclass, set ``name`` and ``Params``, decorate with ``@register_check``: that is a new check."""

    name: ClassVar[str]
    Params: ClassVar[type[Params]]
    manual: ClassVar[bool] = False

    def validate_in_suite(self, params: P, suite: Suite) -> list[str]:
        """Problems that depend on the rest of the suite (e.g. an undeclared answer key)."""
        return []

    def fingerprints(self, params: P) -> dict[str, str]:
        """SHA-256 of the data and weights this test reads (what it is -> digest), sealed into a
        published bundle: a verdict depends on them as much as on the code."""
        return {}

    @abc.abstractmethod
    def plan(self, params: P, ctx: PlanContext) -> list[Probe]:
        ...

    @abc.abstractmethod
    def score(self, params: P, ctx: ScoreContext, outcomes: dict[str, ProbeOutcome]) -> CheckResult:
        """Judge the outputs. Raise ``OutputProblem`` for a missing or malformed output."""


class AnswerCheck(Check[P]):
    """A check that reads one declared answer from the answers file."""

    answer_kind: ClassVar[str]

    def validate_in_suite(self, params: P, suite: Suite) -> list[str]:
        key = params.key  # type: ignore[attr-defined]
        declared = suite.submission.answer(key)
        if declared is None:
            return [f"unknown answer key '{key}' (declare it under submission.answers)"]
        if declared.kind != self.answer_kind:
            return [f"answer '{key}' is declared as {declared.kind}, but {self.name} reads a {self.answer_kind}"]
        return []
