"""The results document of one grading run, and its Gradescope export."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from .suite.schema import Visibility

TestStatus = Literal["passed", "partial", "failed", "error", "pending"]


class Metric(BaseModel):
    name: str
    value: float
    threshold: float | None = None
    lower_is_better: bool = True


class ImageArtifact(BaseModel):
    """A picture a check made (a grid of the submission's samples); kept out of the JSON documents
    (the CLI writes it next to them, the service stores it as an artifact)."""

    name: str
    png: bytes = Field(repr=False)


class TestResult(BaseModel):
    id: str
    title: str
    check: str
    stage: str
    score: float
    max_score: float
    status: TestStatus
    feedback: str
    visibility: Visibility
    duration_s: float = 0.0
    metrics: list[Metric] = Field(default_factory=list)
    measured: float | None = Field(None, description="the quantity the check measured (NLL, FID...)")
    calibration_key: str | None = Field(None, description="checksum of the data it was measured on")
    findings: list[str] = Field(default_factory=list, description="facts other tests act on (checks.base.FINDINGS)")
    also_measured: dict[str, float] = Field(default_factory=dict, description="more calibrated quantities, by name")
    images: list[ImageArtifact] = Field(default_factory=list, exclude=True)


class StageRun(BaseModel):
    stage: str
    backend: str
    attempts: int
    duration_s: float
    problems: list[str] = Field(default_factory=list)


class Environment(BaseModel):
    suite_id: str
    suite_version: str
    suite_sha256: str
    bundle_sha256: str | None = Field(None, description="the sealed bundle graded with, for a published version")
    submission_sha256: str
    secret_seed: int
    sandbox_backend: str
    python: str
    torch: str | None
    numpy: str
    device: str
    grader_version: str


class GradingResult(BaseModel):
    score: float
    max_score: float
    automatic_max_score: float
    pending_manual_points: float
    tests: list[TestResult]
    stages: list[StageRun]
    logs: str = ""
    environment: Environment
    started_at: datetime
    finished_at: datetime

    @property
    def duration_s(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()

    def write_images(self, folder: Path) -> list[tuple[str, ImageArtifact, Path]]:
        """The checks' pictures as ``folder/<test id>/<name>``; (test id, picture, path) for each."""
        written = []
        for test in self.tests:
            for image in test.images:
                path = folder / test.id / image.name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(image.png)
                written.append((test.id, image, path))
        return written

    def to_gradescope(self) -> dict[str, Any]:
        """Gradescope's ``results.json``: test status is only passed/failed there."""
        return {
            "score": round(self.score, 6),
            "execution_time": round(self.duration_s, 3),
            "output": f"Automatic score {self.score:g}/{self.automatic_max_score:g}"
            + (f"; {self.pending_manual_points:g} points graded by hand later." if self.pending_manual_points else ""),
            "visibility": "visible",
            "stdout_visibility": "hidden",
            "tests": [
                {
                    "name": f"{test.id}: {test.title}",
                    "score": round(test.score, 6),
                    "max_score": test.max_score,
                    "status": "passed" if test.status == "passed" else "failed",
                    "output": test.feedback,
                    "visibility": test.visibility.value,
                }
                for test in self.tests
                if test.status != "pending"
            ],
        }
