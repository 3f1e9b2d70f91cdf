"""Suites as the service sees them: validated from text, dry-run against the reference, published
as numbered versions, routed to a queue with time limits derived from their stages."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grader_core.config import PROJECT_ROOT, Settings
from grader_core.pipeline import grade_upload
from grader_core.results import GradingResult
from grader_core.sandbox import Sandbox
from grader_core.suite import LoadedSuite, SuiteError, SuiteIssue, parse_suite

from ..models import Assignment, SuiteVersion, User
from .audit import record

log = logging.getLogger(__name__)

SUITES_DIR = PROJECT_ROOT / "test_suites"
_OVERHEAD_S = 60.0  # intake, planning, scoring, sandbox start-up


@dataclass(frozen=True)
class Routing:
    queue: str
    soft_limit_s: float


def routing(loaded: LoadedSuite) -> Routing:
    """GPU queue when any stage needs a GPU. The soft limit is the stages' budgets plus a constant:
    a stage's ``wall_seconds`` covers all of its sandbox runs, resumptions after a crash included
    (``grader_core.execution.execute_stage``), so however often a stage restarts, a grading needs no
    more than the sum of the budgets and the overhead around them."""
    stages = loaded.suite.stages.values()
    soft = _OVERHEAD_S + sum(stage.wall_seconds for stage in stages)
    return Routing("gpu" if any(stage.gpu for stage in stages) else "cpu", soft)


def parse(text: str, filename: str = "suite.yaml") -> LoadedSuite:
    """Parse uploaded suite text as if it lived in ``test_suites/`` (relative paths resolve from there).
    Line endings are normalized, so the same suite has the same hash however it was uploaded."""
    name = Path(filename).name or "suite.yaml"
    return parse_suite(text.replace("\r\n", "\n"), SUITES_DIR / name)


def check_limits(loaded: LoadedSuite, settings: Settings) -> None:
    from worker.queueing import DEADLINE_SLACK_S, hard_limit

    longest = hard_limit(routing(loaded).soft_limit_s) + DEADLINE_SLACK_S
    if longest >= settings.broker_visibility_timeout_s:
        raise SuiteError([SuiteIssue(loaded.path.name, 1, f"the suite may run {longest:.0f} s, longer than the broker's "
                                     f"visibility timeout ({settings.broker_visibility_timeout_s} s); raise DGM_BROKER_VISIBILITY_TIMEOUT_S")])


def require_reference(loaded: LoadedSuite) -> Path:
    if loaded.reference_solution is None:
        raise SuiteError([SuiteIssue(loaded.path.name, 1, "the suite names no reference_solution to dry-run")])
    return loaded.reference_solution


def dry_run(loaded: LoadedSuite, settings: Settings, sandbox: Sandbox, gpu_ids: tuple[str, ...] = ()) -> GradingResult:
    """Grade the reference solution (on a worker); it is published only if it earns every automatic point."""
    return grade_upload(loaded, require_reference(loaded), sandbox, settings, gpu_ids=gpu_ids)


def publish(session: Session, assignment: Assignment, loaded: LoadedSuite, settings: Settings,
            actor: User | None, dry_run_score: float | None) -> SuiteVersion:
    number = (session.scalar(select(func.max(SuiteVersion.number)).where(SuiteVersion.assignment_id == assignment.id)) or 0) + 1
    route = routing(loaded)
    version = SuiteVersion(
        assignment_id=assignment.id,
        number=number,
        yaml_text=loaded.text,
        source_path=str(loaded.path),
        sha256=loaded.sha256,
        suite_version=loaded.suite.version,
        queue=route.queue,
        time_limit_s=route.soft_limit_s,
        dry_run_score=dry_run_score,
        published_by_id=actor.id if actor else None,
    )
    session.add(version)
    session.flush()
    assignment.current_suite_version_id = version.id
    record(session, actor, "suite.publish", f"assignment:{assignment.id}",
           {"version": number, "sha256": loaded.sha256, "dry_run_score": dry_run_score})
    log.info("published %s v%s (%s) for assignment %s", loaded.suite.id, number, loaded.sha256[:12], assignment.id)
    return version


def load_version(version: SuiteVersion) -> LoadedSuite:
    return _load(version.yaml_text, version.source_path, version.sha256)


@lru_cache(maxsize=64)
def _load(text: str, source_path: str, sha256: str) -> LoadedSuite:
    loaded = parse_suite(text, Path(source_path))
    if loaded.sha256 != sha256:
        raise ValueError(f"suite text does not match its recorded hash {sha256[:12]}")
    return loaded
