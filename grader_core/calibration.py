"""Calibrated thresholds: the reference solution's measured values, per dataset checksum.

``dgm-grader suite calibrate`` grades the reference solution and stores every value a check
measured (an NLL, an FID) under the checksum of the data it was measured on; checks then set their
thresholds relative to it ("full credit at <= 1.02 x the reference NLL"). A value measured on other
data (the synthetic digits instead of Hoda, a changed split) is simply not found, never misapplied.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from pydantic import BaseModel, Field

from .results import GradingResult
from .suite import LoadedSuite


class Calibration(BaseModel):
    suite_id: str
    suite_version: str
    calibrated_at: datetime
    values: dict[str, dict[str, float]] = Field(default_factory=dict, description="dataset checksum -> test id -> value")

    def reference(self, dataset_checksum: str, test_id: str) -> float | None:
        return self.values.get(dataset_checksum, {}).get(test_id)


def calibration_path(loaded: LoadedSuite) -> Path:
    return loaded.path.parent / "calibration" / f"{loaded.suite.id}.json"


def load_calibration(loaded: LoadedSuite) -> Calibration | None:
    path = calibration_path(loaded)
    return Calibration.model_validate_json(path.read_text()) if path.is_file() else None


def record_calibration(loaded: LoadedSuite, result: GradingResult) -> Calibration:
    """Merge the reference's measured values into the suite's calibration file and return it."""
    calibration = load_calibration(loaded)
    if calibration is None or calibration.suite_version != loaded.suite.version:
        calibration = Calibration(suite_id=loaded.suite.id, suite_version=loaded.suite.version, calibrated_at=datetime.now(timezone.utc))
    for test in result.tests:
        if test.measured is not None and test.calibration_key is not None:
            values = calibration.values.setdefault(test.calibration_key, {})
            values[test.id] = test.measured
            values.update({f"{test.id}/{name}": value for name, value in test.also_measured.items()})
    calibration.calibrated_at = datetime.now(timezone.utc)
    path = calibration_path(loaded)
    path.parent.mkdir(exist_ok=True)
    path.write_text(calibration.model_dump_json(indent=2) + "\n")
    return calibration
